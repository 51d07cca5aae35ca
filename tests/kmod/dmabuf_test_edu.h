/* SPDX-License-Identifier: GPL-2.0-only WITH Linux-syscall-note */
/*
 * The ioctl of /dev/dmabuf-test-edu (tests/kmod/edu_importer.c), shared by
 * the test module and tests/t_iommu.c.  Test harness only: not installed.
 */
#ifndef _DMABUF_TEST_EDU_H
#define _DMABUF_TEST_EDU_H

#include <linux/ioctl.h>
#include <linux/types.h>

/*
 * Largest copy: half the edu device's own 4 KiB buffer.  QEMU before 8.2.1
 * (Debian 12 has 7.2) rejects a transfer that ends at the buffer's last
 * byte as out of bounds, and such a "hardware error" aborts the machine.
 */
#define DMABUF_TEST_EDU_MAX_COPY	2048

/**
 * struct dmabuf_test_edu_copy - argument of %DMABUF_TEST_EDU_IOCTL_COPY
 * @fd:		in: buffer fd (any buffer dmabuf_core_get() takes)
 * @flags:	in: must be 0
 * @src_offset:	in: where in the buffer the device reads from
 * @dst_offset:	in: where in the buffer the device writes to
 * @length:	in: bytes, 1 to %DMABUF_TEST_EDU_MAX_COPY; neither range may
 *		cross a DMA segment
 * @src_dma:	out: the bus address the device read from
 * @dst_dma:	out: the bus address the device wrote to
 * @dma_mask:	out: the device's DMA mask
 * @segments:	out: DMA segments of the mapping
 * @reserved:	in: must be 0
 * @largest_segment: out: the longest DMA segment of the mapping, in bytes
 *
 * Attaches the edu device to the buffer, maps it, has the device copy
 * @length bytes by DMA from @src_offset into its own buffer and from there
 * to @dst_offset, then unmaps and detaches.  Errors: those of attach and
 * map (EBUSY: the device cannot reach the storage), EACCES for a read-only
 * buffer, EINVAL for bad arguments, EOVERFLOW for a mapping outside the
 * device's mask (the edu device would silently truncate such an address),
 * ETIMEDOUT when the device does not finish (its bus mastering is then
 * switched off, and every later copy gets EIO).  The bus addresses are for
 * the tests' eyes: the node is root's alone (0600).
 */
struct dmabuf_test_edu_copy {
	__s32 fd;
	__u32 flags;
	__u64 src_offset;
	__u64 dst_offset;
	__u64 length;
	__u64 src_dma;
	__u64 dst_dma;
	__u64 dma_mask;
	__u32 segments;
	__u32 reserved;
	__u64 largest_segment;
};

#define DMABUF_TEST_EDU_IOCTL_COPY _IOWR(0xDC, 0x70, struct dmabuf_test_edu_copy)

#endif /* _DMABUF_TEST_EDU_H */
