/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The demo test pattern and checksum, shared by the demo modules and the
 * test programs so that both sides compute the very same figures.
 * See include/uapi/linux/dmabuf_demo.h for the definition.
 */
#ifndef _DMABUF_DEMO_PATTERN_H
#define _DMABUF_DEMO_PATTERN_H

#include <linux/types.h>

#define DMABUF_DEMO_FNV_BASIS	0xcbf29ce484222325ULL
#define DMABUF_DEMO_FNV_PRIME	0x100000001b3ULL

/* Word @index (counted from the buffer start) of the pattern for @seed. */
static inline __u32 dmabuf_demo_pattern_word(__u32 seed, __u64 index)
{
	return seed ^ (__u32)(index * 0x9E3779B1U);
}

/* Continue an FNV-1a hash @h over @len bytes at @data. */
static inline __u64 dmabuf_demo_fnv(__u64 h, const void *data, __u64 len)
{
	const unsigned char *p = data;

	while (len--) {
		h ^= *p++;
		h *= DMABUF_DEMO_FNV_PRIME;
	}
	return h;
}

#endif /* _DMABUF_DEMO_PATTERN_H */
