// SPDX-License-Identifier: GPL-2.0-only
/*
 * The exporter behind /dev/dmabuf-contig: zeroed, physically contiguous
 * buffers, for importers that take a buffer only as one DMA segment
 * (videobuf2-dma-contig, FPGA designs without scatter-gather).
 *
 * A buffer gets its memory when it is first needed (a device map, a CPU
 * fault, a SYNC or a kernel mapping), below the DMA limit of every device
 * attached by then: V4L2 and DRM attach and map back to back, so a 32-bit
 * importer places the storage itself and gets memory it can reach.  A
 * device that attaches later and cannot reach it moves it
 * (heap_storage.c).
 */
#include <linux/fcntl.h>
#include <linux/limits.h>
#include <linux/mm.h>

#include <linux/dmabuf_core_pages.h>

#include "internal.h"
#include "dcore_trace.h"

atomic_long_t dcore_contig_pages = ATOMIC_LONG_INIT(0);

/*
 * For dmabuf_core_offer_vmap() (storage is placed) and dmabuf_core_vmap(),
 * which may come first and place it.
 */
static int dcore_contig_vmap(struct dmabuf_core_buffer *buf, struct iosys_map *map)
{
	struct dcore_heap_buffer *hb = buf->priv;
	int ret;

	ret = dcore_heap_place(buf);
	if (ret)
		return ret;
	return dmabuf_core_pages_vmap(&hb->pages, map);
}

/* A SYNC START is a first use too: the CPU is about to touch the bytes. */
static int dcore_contig_begin_cpu_access(struct dmabuf_core_buffer *buf,
					 enum dma_data_direction dir)
{
	int ret;

	ret = dcore_heap_ensure(buf);
	if (ret)
		return ret;
	return dmabuf_core_sync_mappings_for_cpu(buf, dir);
}

static const struct dmabuf_core_ops dcore_contig_ops = {
	.attach			= dcore_heap_attach,
	.map			= dcore_heap_map,
	.unmap			= dmabuf_core_pages_op_unmap,
	.release		= dcore_heap_release,
	.mmap			= dcore_heap_mmap,
	.vmap			= dcore_contig_vmap,
	.vunmap			= dmabuf_core_pages_op_vunmap,
	.begin_cpu_access	= dcore_contig_begin_cpu_access,
	.end_cpu_access		= dmabuf_core_sync_mappings_for_device,
};

/**
 * dcore_contig_alloc - a new physically contiguous buffer, placed later
 * @len: requested size in bytes, rounded up to whole pages
 * @fd_flags: access mode for the buffer's file
 *
 * Context: process context; may sleep.
 * Return: the buffer with one reference, ERR_PTR(-EINVAL) for a size of 0
 * or one whose rounding overflows, ERR_PTR(-ENOMEM) for a size no run of
 * pages can ever hold (above dmabuf_core_pages_max_contig()) or when
 * memory for the record runs out.
 */
struct dmabuf_core_buffer *dcore_contig_alloc(u64 len, unsigned int fd_flags)
{
	DMABUF_CORE_EXPORT_INFO(info);
	struct dmabuf_core_buffer *buf;
	struct dcore_heap_buffer *hb;

	if (!len || len > U64_MAX - (PAGE_SIZE - 1))
		return ERR_PTR(-EINVAL);
	len = PAGE_ALIGN(len);
	if (len > dmabuf_core_pages_max_contig()) {
		trace_dmabuf_core_refused(len, DCORE_REFUSED_NO_RUN, -ENOMEM);
		return ERR_PTR(-ENOMEM);
	}

	hb = dcore_heap_buffer_new(true);
	if (!hb)
		return ERR_PTR(-ENOMEM);
	info.ops = &dcore_contig_ops;
	info.size = len;
	info.flags = fd_flags & O_ACCMODE;
	info.priv = hb;
	buf = dmabuf_core_export(&info);
	if (IS_ERR(buf))
		dcore_heap_buffer_free(hb);
	return buf;
}
