// SPDX-License-Identifier: GPL-2.0-only
/*
 * The exporter behind /dev/dmabuf-contig: zeroed, physically contiguous
 * buffers, for importers that take a buffer only as one DMA segment
 * (videobuf2-dma-contig, FPGA designs without scatter-gather).
 *
 * A buffer gets its memory when it is first needed (a device map, a CPU
 * fault, a SYNC or a kernel mapping), below the DMA limit of every device
 * attached by then: V4L2 and DRM attach and map back to back, so a 32-bit
 * importer places the storage itself and gets memory it can reach.
 */
#include <linux/fcntl.h>
#include <linux/limits.h>
#include <linux/memcontrol.h>
#include <linux/mm.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>
#include <linux/stddef.h>

#include <linux/dmabuf_core_pages.h>

#include "../compat.h"
#include "internal.h"
#include "dcore_trace.h"

/**
 * struct contig_buffer - the exporter's side of one contiguous buffer
 * @pages:	one run of pages; empty until placed.  First, so that a
 *		buffer's priv is also its struct dmabuf_core_pages for the
 *		library's ready-made callbacks
 * @memcg:	the creator's memory cgroup, charged for the storage whoever
 *		places it; a reference held until release (NULL without memcg)
 *
 * Under the buffer's lock: the core holds it in the callbacks, the fault
 * handler takes it with dmabuf_core_lock_storage().
 */
struct contig_buffer {
	struct dmabuf_core_pages pages;
	struct mem_cgroup *memcg;
};

static_assert(offsetof(struct contig_buffer, pages) == 0);

atomic_long_t dcore_contig_pages = ATOMIC_LONG_INIT(0);

/*
 * Storage that every attached device reaches, allocated on first use.
 * Called with the buffer's lock held.
 */
static int contig_place(struct dmabuf_core_buffer *buf)
{
	struct contig_buffer *cb = buf->priv;
	struct dmabuf_core_attachment *att;
	struct mem_cgroup *old_memcg;
	u64 limit = U64_MAX;
	int ret;

	if (dmabuf_core_pages_allocated(&cb->pages))
		return 0;
	dmabuf_core_for_each_attachment(buf, att)
		limit = min(limit, dmabuf_core_device_dma_limit(att->dev));
	/* The creator pays, not whoever maps first. */
	old_memcg = set_active_memcg(cb->memcg);
	ret = dmabuf_core_pages_alloc_contig(&cb->pages, buf->size, limit);
	set_active_memcg(old_memcg);
	if (ret)
		return ret;
	atomic_long_add(cb->pages.nr_pages, &dcore_contig_pages);
	return 0;
}

/*
 * Placed storage, and from then on the kernel mapping kernel drivers may
 * ask for.  Never placed from the kernel's dma_buf_vmap(), which WARNs
 * when the allocation fails (a memory cgroup at its limit, a fatal
 * signal): a buffer offers that mapping only once placed, and one that
 * cannot be made now is offered at a later use.  Read-only buffers offer
 * none.  Called with the buffer's lock held.
 */
static int contig_ensure(struct dmabuf_core_buffer *buf)
{
	int ret;

	ret = contig_place(buf);
	if (ret)
		return ret;
	if (dmabuf_core_is_writable(buf))
		dmabuf_core_offer_vmap(buf);
	return 0;
}

static struct sg_table *contig_map(struct dmabuf_core_attachment *att,
				   enum dma_data_direction dir)
{
	struct contig_buffer *cb = att->buf->priv;
	int ret;

	ret = contig_ensure(att->buf);
	if (ret)
		return ERR_PTR(ret);
	return dmabuf_core_pages_map(&cb->pages, att->dev, dir);
}

/*
 * A user mapping may come before any device: pages are faulted in, and
 * the first fault places the storage (with mmap_lock held for reading
 * only).  No memory is SIGBUS, never the OOM killer.
 */
static vm_fault_t contig_fault(struct vm_fault *vmf)
{
	struct dmabuf_core_buffer *buf = vmf->vma->vm_private_data;
	struct contig_buffer *cb = buf->priv;
	vm_fault_t ret = VM_FAULT_SIGBUS;

	/*
	 * A user access interrupted by a signal is retried after the signal;
	 * a kernel copy into the mapping cannot be, and waits unless killed.
	 */
	if (vmf->flags & FAULT_FLAG_USER) {
		if (dmabuf_core_lock_storage(buf))
			return VM_FAULT_NOPAGE;
	} else if (dmabuf_core_lock_storage_killable(buf)) {
		return VM_FAULT_SIGBUS;
	}
	if (!contig_ensure(buf) && vmf->pgoff < cb->pages.nr_pages)
		ret = vmf_insert_pfn(vmf->vma, vmf->address,
				     page_to_pfn(cb->pages.chunks[0].page) +
				     vmf->pgoff);
	dmabuf_core_unlock_storage(buf);
	return ret;
}

static const struct vm_operations_struct contig_vm_ops = {
	.fault = contig_fault,
};

static int contig_mmap(struct dmabuf_core_buffer *buf,
		       struct vm_area_struct *vma)
{
	dcore_vm_flags_set(vma, VM_PFNMAP | VM_DONTEXPAND | VM_DONTDUMP);
	vma->vm_ops = &contig_vm_ops;
	vma->vm_private_data = buf;
	return 0;
}

/*
 * For dmabuf_core_offer_vmap() (storage is placed) and dmabuf_core_vmap(),
 * which may come first and place it.
 */
static int contig_vmap(struct dmabuf_core_buffer *buf, struct iosys_map *map)
{
	struct contig_buffer *cb = buf->priv;
	int ret;

	ret = contig_place(buf);
	if (ret)
		return ret;
	return dmabuf_core_pages_vmap(&cb->pages, map);
}

/* A SYNC START is a first use too: the CPU is about to touch the bytes. */
static int contig_begin_cpu_access(struct dmabuf_core_buffer *buf,
				   enum dma_data_direction dir)
{
	int ret;

	ret = contig_ensure(buf);
	if (ret)
		return ret;
	return dmabuf_core_sync_mappings_for_cpu(buf, dir);
}

static void contig_release(struct dmabuf_core_buffer *buf)
{
	struct contig_buffer *cb = buf->priv;

	atomic_long_sub(cb->pages.nr_pages, &dcore_contig_pages);
	dmabuf_core_pages_free(&cb->pages);
	mem_cgroup_put(cb->memcg);
	kfree(cb);
}

static const struct dmabuf_core_ops contig_ops = {
	.attach			= dmabuf_core_pages_op_attach,
	.map			= contig_map,
	.unmap			= dmabuf_core_pages_op_unmap,
	.release		= contig_release,
	.mmap			= contig_mmap,
	.vmap			= contig_vmap,
	.vunmap			= dmabuf_core_pages_op_vunmap,
	.begin_cpu_access	= contig_begin_cpu_access,
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
	struct contig_buffer *cb;

	if (!len || len > U64_MAX - (PAGE_SIZE - 1))
		return ERR_PTR(-EINVAL);
	len = PAGE_ALIGN(len);
	if (len > dmabuf_core_pages_max_contig()) {
		trace_dmabuf_core_refused(len, DCORE_REFUSED_NO_RUN, -ENOMEM);
		return ERR_PTR(-ENOMEM);
	}

	cb = kzalloc(sizeof(*cb), DCORE_GFP_RECORD);
	if (!cb)
		return ERR_PTR(-ENOMEM);
	cb->memcg = get_mem_cgroup_from_mm(current->mm);
	info.ops = &contig_ops;
	info.size = len;
	info.flags = fd_flags & O_ACCMODE;
	info.priv = cb;
	buf = dmabuf_core_export(&info);
	if (IS_ERR(buf)) {
		mem_cgroup_put(cb->memcg);
		kfree(cb);
	}
	return buf;
}
