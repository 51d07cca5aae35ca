/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The stock vivid driver's video capture node (vivid-000-vid-cap) as a
 * test and benchmark peer: t_vivid, b_interop.
 */
#ifndef DMABUF_TESTS_VIVID_H
#define DMABUF_TESTS_VIVID_H

#include <stddef.h>

extern int vivid_fd;			/* the node, -1 before vivid_open() */
extern size_t vivid_frame_size;		/* sizeimage, rounded up to pages */

/* Open the capture node into vivid_fd: the fd, or -1 when there is none. */
int vivid_open(void);
/* 320x180 YUYV (small frames: the guests run under TCG): 0 or -errno. */
int vivid_set_format(void);
/* VIDIOC_REQBUFS: the count granted, or -errno. */
int vivid_reqbufs(unsigned int count, unsigned int memory);
/* VIDIOC_QBUF of dma-buf @fd of @len bytes at @index: 0 or -errno. */
int vivid_qbuf_dmabuf(unsigned int index, int fd, size_t len);
/* VIDIOC_STREAMON (@on) or VIDIOC_STREAMOFF: 0 or -errno. */
int vivid_stream(int on);

#endif /* DMABUF_TESTS_VIVID_H */
