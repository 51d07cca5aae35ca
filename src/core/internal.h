/* SPDX-License-Identifier: GPL-2.0-only */
/* Declarations shared by the files of dmabuf_core.ko only. */
#ifndef _DMABUF_CORE_INTERNAL_H
#define _DMABUF_CORE_INTERNAL_H

#include <linux/atomic.h>
#include <linux/dmabuf_core.h>

struct dmabuf_core_stats;

/* buffer.c: counters behind DMABUF_CORE_IOCTL_STATS. */
void dmabuf_core_read_stats(struct dmabuf_core_stats *st);
bool dmabuf_is_ours(const struct file *file);

/* buffer_ioctl.c: the ioctls of a buffer fd. */
long dmabuf_buffer_ioctl(struct file *file, unsigned int cmd,
			 unsigned long arg);

/* system_heap.c: the exporter behind /dev/dmabuf. */
extern atomic_long_t dmabuf_system_pages;
struct dmabuf *dmabuf_system_alloc(u64 len, unsigned int fd_flags);

/* misc_node.c: /dev/dmabuf. */
int dmabuf_node_register(void);
void dmabuf_node_unregister(void);

#endif /* _DMABUF_CORE_INTERNAL_H */
