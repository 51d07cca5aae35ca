/* SPDX-License-Identifier: GPL-2.0-only WITH Linux-syscall-note */
/*
 * Userspace API of dmabuf_example.ko, an example third-party driver built
 * against an installed dmabuf-core: /dev/dmabuf-example.
 *
 * The module stands for a board with a 32-bit DMA engine (an FPGA card,
 * say) that both exports buffers of its own and imports buffers that
 * others exported.  Pattern and checksum are those of dmabuf-core's demo
 * modules, so that the demo importer can check what this exporter wrote:
 * 32-bit word i of a buffer holds seed ^ (i * 0x9E3779B1), stored
 * little-endian; the checksum is 64-bit FNV-1a over the buffer's bytes.
 */
#ifndef _UAPI_LINUX_DMABUF_EXAMPLE_H
#define _UAPI_LINUX_DMABUF_EXAMPLE_H

#include <linux/ioctl.h>
#include <linux/types.h>

/**
 * struct dmabuf_example_export - argument of %DMABUF_EXAMPLE_IOCTL_EXPORT
 * @size:	in: buffer size in bytes, a non-zero multiple of the page
 *		size (-EINVAL otherwise), at most the module's max_size_mb
 *		parameter (-E2BIG above it)
 * @seed:	in: seed of the pattern the buffer is filled with
 * @flags:	in: must be 0
 * @fd:		in: must be 0; out: the buffer's file descriptor,
 *		O_RDWR | O_CLOEXEC: a kernel dma-buf, which any importer
 *		accepts
 * @reserved:	in: must be 0
 *
 * The storage is system memory the board's 32-bit DMA engine reaches,
 * allocated at once.  24 bytes on every ABI.
 */
struct dmabuf_example_export {
	__u64 size;
	__u32 seed;
	__u32 flags;
	__s32 fd;
	__u32 reserved;
};

/**
 * struct dmabuf_example_import - argument of %DMABUF_EXAMPLE_IOCTL_IMPORT
 * @fd:		in: any dma-buf fd (dmabuf-core's or another exporter's)
 * @flags:	in: must be 0
 * @checksum:	out: FNV-1a of the buffer's contents, read by the CPU
 * @bytes:	out: bytes the DMA mapping for the board covers
 * @segments:	out: DMA segments of that mapping
 * @foreign:	out: 1 when another exporter than dmabuf-core made the
 *		buffer, else 0
 * @reserved:	in: must be 0
 *
 * Attaches the board to the buffer, maps it for the board's DMA engine
 * (as a driver would before starting a transfer), unmaps, reads the
 * contents through a kernel mapping and detaches.  Fails with the errors
 * of those steps: -EBADF for a closed fd, -EINVAL for one that is not a
 * dma-buf, -EBUSY when the buffer's exporter refuses the board (its pages
 * out of the board's reach), -EINTR when the caller is killed meanwhile.
 * 48 bytes on every ABI.
 */
struct dmabuf_example_import {
	__s32 fd;
	__u32 flags;
	__u64 checksum;
	__u64 bytes;
	__u32 segments;
	__u32 foreign;
	__u64 reserved[2];
};

#define DMABUF_EXAMPLE_IOC_MAGIC	0xDE
#define DMABUF_EXAMPLE_IOCTL_EXPORT	\
	_IOWR(DMABUF_EXAMPLE_IOC_MAGIC, 0x00, struct dmabuf_example_export)
#define DMABUF_EXAMPLE_IOCTL_IMPORT	\
	_IOWR(DMABUF_EXAMPLE_IOC_MAGIC, 0x01, struct dmabuf_example_import)

#endif /* _UAPI_LINUX_DMABUF_EXAMPLE_H */
