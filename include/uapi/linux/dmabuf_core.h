/* SPDX-License-Identifier: GPL-2.0-only WITH Linux-syscall-note */
/*
 * dmabuf-core userspace API: the /dev/dmabuf and /dev/dmabuf-contig
 * allocator nodes.  Every buffer fd dmabuf-core hands out is a kernel
 * dma-buf fd: the ioctls of <linux/dma-buf.h> (SYNC, SET_NAME,
 * EXPORT/IMPORT_SYNC_FILE) work on it.
 *
 * The allocation and sync ioctls deliberately reuse the numbers and layouts
 * of the mainline dma-heap and dma-buf ABI, so that existing userspace works
 * when pointed at /dev/dmabuf.  The names carry a DMABUF_CORE_ prefix so that
 * this header can be included next to <linux/dma-heap.h> and
 * <linux/dma-buf.h>.
 */
#ifndef _UAPI_LINUX_DMABUF_CORE_H
#define _UAPI_LINUX_DMABUF_CORE_H

#include <linux/ioctl.h>
#include <linux/types.h>

/**
 * struct dmabuf_core_alloc - argument of %DMABUF_CORE_IOCTL_ALLOC
 * @len:	in: size of the buffer in bytes; rounded up to a page
 *		multiple, 0 is refused with -EINVAL
 * @fd:		in: must be 0; out: the new buffer's file descriptor
 * @fd_flags:	in: O_RDONLY, O_WRONLY or O_RDWR, optionally with
 *		O_CLOEXEC; any other bit, and access mode 3 (which the
 *		dma-heap ioctl accepts, giving a buffer nobody can map), is
 *		refused with -EINVAL
 * @heap_flags:	in: must be 0
 *
 * Same layout as mainline's struct dma_heap_allocation_data (24 bytes on
 * every ABI).  Like the dma-heap ioctl, a caller may pass a shorter or a
 * longer structure (the size encoded in the ioctl number): missing trailing
 * input fields read as zero, extra trailing bytes are ignored.
 */
struct dmabuf_core_alloc {
	__u64 len;
	__u32 fd;
	__u32 fd_flags;
	__u64 heap_flags;
};

/**
 * struct dmabuf_core_sync - argument of %DMABUF_CORE_IOCTL_SYNC
 * @flags:	one of %DMABUF_CORE_SYNC_START or %DMABUF_CORE_SYNC_END
 *		combined with %DMABUF_CORE_SYNC_READ and/or
 *		%DMABUF_CORE_SYNC_WRITE; at least one of READ or WRITE must be
 *		set, any other bit is refused with -EINVAL
 *
 * Same layout and meaning as mainline's struct dma_buf_sync: bracket CPU
 * access through mmap() with a START and an END call.
 */
struct dmabuf_core_sync {
	__u64 flags;
};

#define DMABUF_CORE_SYNC_READ		(1 << 0)
#define DMABUF_CORE_SYNC_WRITE		(2 << 0)
#define DMABUF_CORE_SYNC_RW		(DMABUF_CORE_SYNC_READ | DMABUF_CORE_SYNC_WRITE)
#define DMABUF_CORE_SYNC_START		(0 << 2)
#define DMABUF_CORE_SYNC_END		(1 << 2)
#define DMABUF_CORE_SYNC_VALID_FLAGS	(DMABUF_CORE_SYNC_RW | DMABUF_CORE_SYNC_END)

#define DMABUF_CORE_EXPORTER_NAME_LEN	32

/**
 * struct dmabuf_core_query - argument of %DMABUF_CORE_IOCTL_QUERY
 * @fd:			in: a dma-buf file descriptor: one dmabuf-core
 *			handed out, or any other kernel dma-buf
 * @flags:		in: must be 0
 * @size:		out: buffer size in bytes
 * @id:			out: buffer id, unique among all buffers created
 *			since dmabuf_core was loaded (never 0); 0 for a
 *			foreign dma-buf
 * @attachments:	out: number of devices attached right now, by any
 *			importer (kernel drivers too); 0 for a foreign dma-buf
 * @mappings:		out: number of device mappings alive right now; 0
 *			for a foreign dma-buf
 * @info:		out: %DMABUF_CORE_QUERY_FOREIGN when the fd is a
 *			dma-buf of another exporter
 * @moves:		out: times the storage of a buffer of dmabuf-core's
 *			heaps moved to suit a device that attached (0 for
 *			others); was reserved, its input is ignored
 * @exporter:		out: NUL-terminated name of the exporter (the
 *			exporting module for buffers of dmabuf-core)
 * @reserved:		in: must be 0
 *
 * Issued on /dev/dmabuf or /dev/dmabuf-contig.  The counters are a snapshot, read without
 * waiting for the buffer.  104 bytes on every ABI.
 */
struct dmabuf_core_query {
	__s32 fd;
	__u32 flags;
	__u64 size;
	__u64 id;
	__u32 attachments;
	__u32 mappings;
	__u32 info;
	__u32 moves;
	char exporter[DMABUF_CORE_EXPORTER_NAME_LEN];
	__u64 reserved[4];
};

#define DMABUF_CORE_QUERY_FOREIGN	(1 << 0)

/**
 * struct dmabuf_core_stats - argument of %DMABUF_CORE_IOCTL_STATS
 * @live_buffers:	out: buffers of any exporter not yet released
 * @live_bytes:		out: sum of their sizes
 * @exported:		out: buffers exported since load
 * @released:		out: buffers released since load
 * @system_pages:	out: pages held right now by /dev/dmabuf buffers
 * @contig_pages:	out: pages held right now by /dev/dmabuf-contig
 *			buffers (their storage is placed at first use)
 * @flags:		in: must be 0
 * @reserved0:		in: must be 0
 * @reserved1:		in: must be 0
 *
 * Issued on /dev/dmabuf or /dev/dmabuf-contig.  Counters for tests and
 * tools.  64 bytes on every ABI.  @contig_pages was reserved (in: must be
 * 0) before it was an output; its input is ignored now.
 */
struct dmabuf_core_stats {
	__u64 live_buffers;
	__u64 live_bytes;
	__u64 exported;
	__u64 released;
	__u64 system_pages;
	__u32 flags;
	__u32 reserved0;
	__u64 contig_pages;
	__u64 reserved1;
};

#define DMABUF_CORE_DEVICE_NAME_LEN	64

/**
 * struct dmabuf_core_constrain - argument of %DMABUF_CORE_IOCTL_CONSTRAIN
 * @device:		in: NUL-terminated name of a device, as the kernel
 *			names it (the last part of its /sys/devices path,
 *			e.g. "vivid.0" or "0000:00:02.0")
 * @max_segments:	in (out with %DMABUF_CORE_CONSTRAIN_GET): the most DMA
 *			segments the device takes for one buffer; 1 for one
 *			contiguous run, 0 for no limit
 * @flags:		in: 0 to set the device's constraints (replacing
 *			earlier ones), %DMABUF_CORE_CONSTRAIN_CLEAR to remove
 *			them, %DMABUF_CORE_CONSTRAIN_GET to read them
 * @alignment:		in (out with %DMABUF_CORE_CONSTRAIN_GET): alignment
 *			in bytes of a buffer's first DMA address, a power of
 *			two no larger than the largest contiguous run; 0 for
 *			none beyond a page
 * @reserved:		in: must be 0
 *
 * Issued on /dev/dmabuf or /dev/dmabuf-contig.  What a kernel driver
 * cannot declare itself, an administrator declares for its device: the
 * exporters of dmabuf-core read it whenever they place storage for an
 * attachment of that device.  Setting and clearing need CAP_SYS_ADMIN.
 * 88 bytes on every ABI.
 */
struct dmabuf_core_constrain {
	char device[DMABUF_CORE_DEVICE_NAME_LEN];
	__u32 max_segments;
	__u32 flags;
	__u64 alignment;
	__u64 reserved;
};

#define DMABUF_CORE_CONSTRAIN_CLEAR	(1 << 0)
#define DMABUF_CORE_CONSTRAIN_GET	(1 << 1)

/* On /dev/dmabuf and /dev/dmabuf-contig: same number as DMA_HEAP_IOCTL_ALLOC. */
#define DMABUF_CORE_IOCTL_ALLOC	_IOWR('H', 0x0, struct dmabuf_core_alloc)

/*
 * On a buffer fd: same number as DMA_BUF_IOCTL_SYNC.  Buffer fds are kernel
 * dma-bufs: every <linux/dma-buf.h> ioctl works on them.
 */
#define DMABUF_CORE_IOCTL_SYNC	_IOW('b', 0, struct dmabuf_core_sync)

/* dmabuf-core's own ioctls use type 0xDC; number 0x00 is retired. */
#define DMABUF_CORE_IOC_MAGIC	0xDC
/* On either node. */
#define DMABUF_CORE_IOCTL_STATS	_IOWR(DMABUF_CORE_IOC_MAGIC, 0x01, struct dmabuf_core_stats)
/* On either node, about the buffer fd in the argument. */
#define DMABUF_CORE_IOCTL_QUERY	_IOWR(DMABUF_CORE_IOC_MAGIC, 0x02, struct dmabuf_core_query)
/* On either node: a device's constraints, declared by an administrator. */
#define DMABUF_CORE_IOCTL_CONSTRAIN	\
	_IOWR(DMABUF_CORE_IOC_MAGIC, 0x03, struct dmabuf_core_constrain)

#endif /* _UAPI_LINUX_DMABUF_CORE_H */
