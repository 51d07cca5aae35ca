/* SPDX-License-Identifier: GPL-2.0-only WITH Linux-syscall-note */
/*
 * Userspace API of the dmabuf-core demo exporter (/dev/dmabuf-demo-exporter)
 * and demo importer (/dev/dmabuf-demo-importer<N>) modules.
 *
 * The two modules stand in for two DMA-capable devices (say a camera that
 * exports and a codec that imports), the way V4L2 EXPBUF and DRM PRIME expose
 * buffer sharing on a driver's own node.
 *
 * Test pattern: 32-bit word i of a buffer (counted from its start) holds
 * seed ^ (i * 0x9E3779B1), stored little-endian.  Checksum: 64-bit FNV-1a
 * over the buffer's bytes.  include/dmabuf_demo_pattern.h implements both.
 */
#ifndef _UAPI_LINUX_DMABUF_DEMO_H
#define _UAPI_LINUX_DMABUF_DEMO_H

#include <linux/ioctl.h>
#include <linux/types.h>

/**
 * struct dmabuf_demo_create - argument of %DMABUF_DEMO_IOCTL_CREATE
 * @size:	in: buffer size in bytes, a non-zero multiple of the page size
 *		and at most the exporter's max_size_mb parameter
 * @fd_flags:	in: O_RDONLY/O_WRONLY/O_RDWR, optionally | O_CLOEXEC
 * @flags:	in: must be 0
 * @fd:		out: the buffer's file descriptor
 * @reserved:	in: must be 0
 *
 * The buffer has no backing storage until it is first mapped (by an
 * importer, or by FILL): storage is then chosen to suit every device
 * attached at that moment.
 */
struct dmabuf_demo_create {
	__u64 size;
	__u32 fd_flags;
	__u32 flags;
	__s32 fd;
	__u32 reserved;
};

/**
 * struct dmabuf_demo_pattern - argument of FILL and VERIFY
 * @fd:			in: a buffer fd created by this exporter
 * @seed:		in: pattern seed
 * @flags:		in: must be 0
 * @reserved0:		in: must be 0
 * @checksum:		out: FNV-1a of the buffer's contents after the call
 * @mismatches:		out (VERIFY): number of 32-bit words that differ
 *			from the pattern
 * @first_mismatch:	out (VERIFY): byte offset of the first differing
 *			word, or ~0 when none differs
 */
struct dmabuf_demo_pattern {
	__s32 fd;
	__u32 seed;
	__u32 flags;
	__u32 reserved0;
	__u64 checksum;
	__u64 mismatches;
	__u64 first_mismatch;
};

/**
 * struct dmabuf_demo_storage - argument of %DMABUF_DEMO_IOCTL_STORAGE
 * @fd:		in: a buffer fd created by this exporter
 * @allocated:	out: 1 once backing storage exists, else 0
 * @chunks:	out: number of physically contiguous chunks (0 without
 *		CAP_SYS_ADMIN, as @largest_chunk: how contiguous the pages
 *		are tells where they are)
 * @reserved0:	in: must be 0
 * @lowest_phys:	out: lowest physical address of the storage
 * @highest_phys:	out: highest physical address (last byte)
 * @largest_chunk:	out: size in bytes of the largest chunk (0 without
 *		CAP_SYS_ADMIN)
 * @dma_limit:	out: highest address every device attached at allocation
 *		time could reach (the tightest DMA mask)
 * @pages_hash:	out: FNV-1a over the physical address of every page, in
 *		buffer order; equal hashes mean the very same pages
 *		(this and the physical addresses: 0 without CAP_SYS_ADMIN)
 * @devices:	out: attached devices whose constraints the allocation
 *		took into account, any importer's (kernel drivers' too)
 * @reserved1:	out: 0
 */
struct dmabuf_demo_storage {
	__s32 fd;
	__u32 allocated;
	__u32 chunks;
	__u32 reserved0;
	__u64 lowest_phys;
	__u64 highest_phys;
	__u64 largest_chunk;
	__u64 dma_limit;
	__u64 pages_hash;
	__u32 devices;
	__u32 reserved1;
};

/**
 * struct dmabuf_demo_exporter_stats - argument of
 * %DMABUF_DEMO_IOCTL_EXPORTER_STATS; counters since the module was loaded
 * @created:	buffers created
 * @released:	buffers whose release op ran
 * @attached:	successful attach calls
 * @detached:	detach calls
 * @refused:	attach calls refused (storage out of the device's reach)
 * @allocations: backing stores allocated
 * @mapped:	map calls that succeeded
 * @unmapped:	unmap calls
 * @vmapped:	kernel mappings (vmap) made: the one kept for kernel drivers
 *		such as vivid once storage is placed, and in-kernel users'
 * @cpu_begun:	begin_cpu_access calls (DMA_BUF_IOCTL_SYNC START, a kernel
 *		driver's dma_buf_begin_cpu_access()) that reached the
 *		exporter, after the core waited for the fences
 */
struct dmabuf_demo_exporter_stats {
	__u64 created;
	__u64 released;
	__u64 attached;
	__u64 detached;
	__u64 refused;
	__u64 allocations;
	__u64 mapped;
	__u64 unmapped;
	__u64 vmapped;
	__u64 cpu_begun;
};

/**
 * struct dmabuf_demo_attach - argument of ATTACH and DETACH
 * @fd:		in: buffer fd
 * @flags:	in: ATTACH: 0 or a combination of %DMABUF_DEMO_ATTACH_MAP,
 *		%DMABUF_DEMO_ATTACH_CONTIG and %DMABUF_DEMO_ATTACH_MOVABLE
 *		(only with %DMABUF_DEMO_ATTACH_MAP); DETACH: must be 0
 *
 * ATTACH gets the buffer and attaches the importer's device, and keeps both
 * until DETACH with an fd of the same buffer, or until the importer node is
 * closed.  With %DMABUF_DEMO_ATTACH_MAP it also maps the attachment for the
 * device (%DMA_BIDIRECTIONAL; %DMA_TO_DEVICE for a buffer without write
 * access) and keeps that mapping as long as the hold, as a display keeps its
 * scanout buffer mapped: CPU access brackets (DMA_BUF_IOCTL_SYNC) then hand
 * the buffer from the device to the CPU and back.  With
 * %DMABUF_DEMO_ATTACH_CONTIG the device declares that it takes the buffer
 * only as one DMA segment (dmabuf_core_attach_constrained()): dmabuf-core's
 * exporters place or move the storage so, and a map (ACCESS, or
 * %DMABUF_DEMO_ATTACH_MAP) that cannot get one segment fails with -EBUSY.
 * A kept mapping pins dmabuf-core's storage: a device that attaches later
 * and cannot reach it is refused with -EBUSY.  With
 * %DMABUF_DEMO_ATTACH_MOVABLE it does not: the device attaches with an
 * invalidate callback (dmabuf_core_attach_dynamic()), gives the mapping up
 * when the storage moves, and maps again at its next ACCESS, which then
 * goes through the kept mapping (an ACCESS a move interrupts starts over
 * on the new storage).  Another exporter's buffer stays pinned: the kernel
 * pins it while it is mapped.  At most one held
 * attachment per buffer and open file (-EBUSY), and at most the importer
 * module's max_holds parameter per open file (default 4096; -ENOSPC
 * beyond).  The held attachment (and mapping) is charged to the caller's
 * memory cgroup (-ENOMEM at its limit), the buffer to its creator's.
 * ATTACH, DETACH and ACCESS wait for the open file's lock interruptibly
 * (-EINTR).
 */
struct dmabuf_demo_attach {
	__s32 fd;
	__u32 flags;
};

#define DMABUF_DEMO_ATTACH_MAP		(1U << 0)
#define DMABUF_DEMO_ATTACH_CONTIG	(1U << 1)
#define DMABUF_DEMO_ATTACH_MOVABLE	(1U << 2)

#define DMABUF_DEMO_ACCESS_READ		0
#define DMABUF_DEMO_ACCESS_WRITE	1

/**
 * struct dmabuf_demo_access - argument of %DMABUF_DEMO_IOCTL_ACCESS
 * @fd:		in: buffer fd (any dmabuf_core buffer)
 * @op:		in: %DMABUF_DEMO_ACCESS_READ or %DMABUF_DEMO_ACCESS_WRITE
 * @seed:	in: pattern seed for WRITE, ignored for READ
 * @flags:	in: must be 0
 * @checksum:	out: FNV-1a of the contents the device saw (READ) or wrote
 *		(WRITE)
 * @bytes:	out: bytes covered by the mapping
 * @segments:	out: DMA segments of the mapping (0 without CAP_SYS_ADMIN,
 *		as @largest_segment and the addresses)
 * @bounced:	out: segments whose DMA addresses are not where the CPU
 *		sees the buffer (a bounce buffer); 0 when the buffer has no
 *		kernel mapping to compare with; 0 for true sharing
 * @fits_mask:	out: 1 if every DMA address is within the device's mask
 * @dma_bits:	out: the device's DMA mask width
 * @largest_segment:	out: largest DMA segment in bytes (0 without
 *		CAP_SYS_ADMIN)
 * @lowest_dma:		out: lowest DMA address of the mapping
 * @highest_dma:	out: highest DMA address (last byte)
 * @pages_hash:	out: FNV-1a over the physical address of every page
 *		reached through the sg table, as dmabuf_demo_storage
 *
 * Attaches (unless an attachment is held), maps, accesses the data through
 * the sg table as the device would, unmaps and detaches.  A hold made
 * with %DMABUF_DEMO_ATTACH_MOVABLE is accessed through its kept mapping
 * instead, mapped again first if a move took it back.
 */
struct dmabuf_demo_access {
	__s32 fd;
	__u32 op;
	__u32 seed;
	__u32 flags;
	__u64 checksum;
	__u64 bytes;
	__u32 segments;
	__u32 bounced;
	__u32 fits_mask;
	__u32 dma_bits;
	__u64 largest_segment;
	__u64 lowest_dma;
	__u64 highest_dma;
	__u64 pages_hash;
};

/**
 * struct dmabuf_demo_device_info - argument of %DMABUF_DEMO_IOCTL_DEVICE_INFO
 * @index:		out: importer instance number
 * @dma_bits:		out: DMA mask width of the device
 * @max_segment:	out: the device's maximum DMA segment size in bytes
 * @coherent:		out: 1 when the device's DMA is coherent with the CPU
 *			caches, so that the DMA API does no cache maintenance
 *			for it (every device on amd64); 0 when mapping,
 *			unmapping and syncing for it clean and invalidate the
 *			CPU caches (the demo's platform devices on arm64)
 * @reserved:		out: 0
 *
 * The struct first ended at @max_segment: the command of that size (the
 * same type and number, 16 bytes) is still answered, with that much.
 */
struct dmabuf_demo_device_info {
	__u32 index;
	__u32 dma_bits;
	__u64 max_segment;
	__u32 coherent;
	__u32 reserved;
};

/* On /dev/dmabuf-demo-exporter. */
#define DMABUF_DEMO_IOCTL_CREATE	_IOWR(0xDC, 0x10, struct dmabuf_demo_create)
#define DMABUF_DEMO_IOCTL_FILL		_IOWR(0xDC, 0x11, struct dmabuf_demo_pattern)
#define DMABUF_DEMO_IOCTL_VERIFY	_IOWR(0xDC, 0x12, struct dmabuf_demo_pattern)
#define DMABUF_DEMO_IOCTL_STORAGE	_IOWR(0xDC, 0x13, struct dmabuf_demo_storage)
#define DMABUF_DEMO_IOCTL_EXPORTER_STATS _IOR(0xDC, 0x14, struct dmabuf_demo_exporter_stats)

/* On /dev/dmabuf-demo-importer<N>. */
#define DMABUF_DEMO_IOCTL_ATTACH	_IOW(0xDC, 0x20, struct dmabuf_demo_attach)
#define DMABUF_DEMO_IOCTL_DETACH	_IOW(0xDC, 0x21, struct dmabuf_demo_attach)
#define DMABUF_DEMO_IOCTL_ACCESS	_IOWR(0xDC, 0x22, struct dmabuf_demo_access)
#define DMABUF_DEMO_IOCTL_DEVICE_INFO	_IOR(0xDC, 0x23, struct dmabuf_demo_device_info)

#endif /* _UAPI_LINUX_DMABUF_DEMO_H */
