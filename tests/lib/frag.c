// SPDX-License-Identifier: GPL-2.0-only
/* Fragmented memory for t_fragment and b_frag: see frag.h. */
#define _GNU_SOURCE
#include <stdio.h>
#include <sys/mman.h>

#include "frag.h"
#include "tap.h"

#define PROACTIVE	"/proc/sys/vm/compaction_proactiveness"

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE	23
#endif

int fragment_memory(struct frag *f, long long keep_mib)
{
	size_t off;
	int i;

	f->n = 0;
	f->proactive = read_param_ll(PROACTIVE);
	if (f->proactive > 0)
		write_file(PROACTIVE, "0");
	else
		f->proactive = -1;
	/*
	 * Down to about @keep_mib free, in steps of half what is left above
	 * it: with 96 MiB, several times the watermarks, and less than the
	 * lower zone (DMA32) keeps back from ordinary allocations, so that
	 * little unfragmented memory is left.
	 */
	for (;;) {
		long long left = meminfo_kib("MemFree") - keep_mib * 1024;
		size_t step = (size_t)(left / 2) * KiB & ~(MiB - 1);
		char *c;

		if (f->n == FRAG_MAX || left < 8 * 1024)
			break;
		if (step > FRAG_CHUNK)
			step = FRAG_CHUNK;
		c = mmap(NULL, FRAG_CHUNK, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		if (c == MAP_FAILED)
			break;
		madvise(c, FRAG_CHUNK, MADV_NOHUGEPAGE);
		if (madvise(c, step, MADV_POPULATE_WRITE))
			for (off = 0; off < step; off += page_size)
				c[off] = 1;
		f->chunks[f->n++] = c;
	}
	for (i = 0; i < f->n; i++)
		for (off = 0; off < FRAG_CHUNK; off += 128 * KiB)
			madvise(f->chunks[i] + off + 64 * KiB, 64 * KiB,
				MADV_DONTNEED);
	return f->n;
}

void fragment_release(struct frag *f)
{
	char val[32];

	while (f->n > 0)
		munmap(f->chunks[--f->n], FRAG_CHUNK);
	write_file("/proc/sys/vm/compact_memory", "1");
	if (f->proactive > 0) {
		snprintf(val, sizeof(val), "%lld", f->proactive);
		write_file(PROACTIVE, val);
	}
}
