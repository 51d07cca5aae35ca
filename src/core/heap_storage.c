// SPDX-License-Identifier: GPL-2.0-only
/*
 * The storage of the heaps' buffers (/dev/dmabuf and /dev/dmabuf-contig):
 * where it is placed, how user mappings reach it, and how it moves.
 *
 * Storage suits every device attached to its buffer.  When a device
 * attaches that cannot reach it, the storage moves to memory that every
 * attached device reaches, instead of the device being refused: V4L2 and
 * DRM attach and map back to back, so without moves the first device to
 * map would decide for all.  A move needs the storage to be unpinned: no
 * device mapping is live but those of dynamic importers, which are taken
 * back (dmabuf_core_attach_dynamic(); a kernel driver cannot be told to
 * give one up on Debian's kernels, whose CONFIG_DMABUF_MOVE_NOTIFY is off
 * or gone), and no kernel mapping but the one the buffer keeps for
 * dma_buf_vmap(), which is remade.  User mappings hold no page references:
 * they are zapped and fault again onto the new pages.
 */
#include <linux/dma-resv.h>
#include <linux/highmem.h>
#include <linux/iosys-map.h>
#include <linux/ktime.h>
#include <linux/lockdep.h>
#include <linux/memcontrol.h>
#include <linux/mm.h>
#include <linux/sched/mm.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>

#include <linux/dmabuf_core_pages.h>

#include "../compat.h"
#include "internal.h"
#include "dcore_trace.h"

/* Where a heap counts its pages for STATS. */
static atomic_long_t *dcore_heap_counter(const struct dcore_heap_buffer *hb)
{
	return hb->contig ? &dcore_contig_pages : &dcore_system_pages;
}

/**
 * dcore_heap_buffer_new - the exporter's record of a new heap buffer
 * @contig: whether its storage is to be one contiguous run
 *
 * The caller's memory cgroup becomes the buffer's: it pays for all of the
 * buffer's storage, whoever causes it to be allocated.
 *
 * Context: process context; may sleep.
 * Return: the record, empty, or NULL without memory.
 */
struct dcore_heap_buffer *dcore_heap_buffer_new(bool contig)
{
	struct dcore_heap_buffer *hb = kzalloc(sizeof(*hb), DCORE_GFP_RECORD);

	if (!hb)
		return NULL;
	hb->memcg = get_mem_cgroup_from_mm(current->mm);
	hb->contig = contig;
	return hb;
}

/**
 * dcore_heap_buffer_free - free a heap buffer's record and storage
 * @hb: the record
 */
void dcore_heap_buffer_free(struct dcore_heap_buffer *hb)
{
	atomic_long_sub(hb->pages.nr_pages, dcore_heap_counter(hb));
	dmabuf_core_pages_free(&hb->pages);
	mem_cgroup_put(hb->memcg);
	kfree(hb);
}

/**
 * struct dcore_heap_needs - what a buffer's storage must meet
 * @limit:	the highest address every device reaches
 * @c:		what the importers and the administrator declared; one
 *		segment always for a contiguous buffer
 */
struct dcore_heap_needs {
	u64 limit;
	struct dmabuf_core_constraints c;
};

/* What every attached device, and @dev (if any) about to be, needs. */
static void dcore_heap_needs_of(struct dmabuf_core_buffer *buf, struct device *dev,
				struct dcore_heap_needs *n)
{
	struct dcore_heap_buffer *hb = buf->priv;
	struct dmabuf_core_attachment *att;
	struct dmabuf_core_constraints dev_c;

	n->limit = U64_MAX;
	dmabuf_core_for_each_attachment(buf, att)
		n->limit = min(n->limit, dmabuf_core_device_dma_limit(att->dev));
	dmabuf_core_buffer_constraints(buf, &n->c);
	if (dev) {
		n->limit = min(n->limit, dmabuf_core_device_dma_limit(dev));
		dmabuf_core_device_constraints(dev, &dev_c);
		dcore_constraints_merge(&n->c, &dev_c);
	}
	if (hb->contig)
		n->c.max_segments = 1;
}

/*
 * Storage for @hb's buffer in @pages that meets @n, charged to the
 * buffer's creator and not to the task that happens to cause it.
 */
static int dcore_heap_alloc(struct dcore_heap_buffer *hb, struct dmabuf_core_pages *pages,
			    size_t size, const struct dcore_heap_needs *n)
{
	struct mem_cgroup *old_memcg = set_active_memcg(hb->memcg);
	int ret;

	ret = dmabuf_core_pages_alloc_constrained(pages, size, n->limit, 0,
						  &n->c);
	set_active_memcg(old_memcg);
	if (!ret)
		atomic_long_add(pages->nr_pages, dcore_heap_counter(hb));
	return ret;
}

static void dcore_heap_free(struct dcore_heap_buffer *hb, struct dmabuf_core_pages *pages)
{
	atomic_long_sub(pages->nr_pages, dcore_heap_counter(hb));
	dmabuf_core_pages_free(pages);
}

/**
 * dcore_heap_place - give a buffer storage that every attached device reaches
 * @buf: a heap buffer
 *
 * Storage that also meets what they declared.  Nothing to do once the
 * storage is there (a /dev/dmabuf buffer has it from ALLOC on).
 *
 * Context: the buffer's lock held.
 * Return: 0, or the allocation's error (-ENOMEM, -EINTR).
 */
int dcore_heap_place(struct dmabuf_core_buffer *buf)
{
	struct dcore_heap_buffer *hb = buf->priv;
	struct dcore_heap_needs n;

	lockdep_assert_held(&to_dcore_buffer(buf)->lock);
	if (dmabuf_core_pages_allocated(&hb->pages))
		return 0;
	dcore_heap_needs_of(buf, NULL, &n);
	return dcore_heap_alloc(hb, &hb->pages, buf->size, &n);
}

/**
 * dcore_heap_ensure - placed storage, and the kernel mapping from then on
 * @buf: a heap buffer
 *
 * Kernel drivers' dma_buf_vmap() is offered a mapping only once the
 * storage is placed: it WARNs when an exporter's vmap fails, and placing
 * can fail (a memory cgroup at its limit, a fatal signal).  A mapping that
 * cannot be made now is offered at a later use.  Read-only buffers offer
 * none.
 *
 * Context: the buffer's lock held.
 * Return: 0 or dcore_heap_place()'s error.
 */
int dcore_heap_ensure(struct dmabuf_core_buffer *buf)
{
	int ret;

	ret = dcore_heap_place(buf);
	if (ret)
		return ret;
	if (dmabuf_core_is_writable(buf))
		dmabuf_core_offer_vmap(buf);
	return 0;
}

/* Copy @src's bytes into @dst; the two may be cut into different chunks. */
static void dcore_heap_copy(const struct dmabuf_core_pages *dst,
			    const struct dmabuf_core_pages *src)
{
	unsigned long n, dp = 0, sp = 0;
	unsigned int di = 0, si = 0;

	for (n = 0; n < src->nr_pages; n++) {
		void *to = kmap_local_page(dst->chunks[di].page + dp);
		void *from = kmap_local_page(src->chunks[si].page + sp);

		memcpy(to, from, PAGE_SIZE);
		kunmap_local(from);
		kunmap_local(to);
		if (++dp == 1UL << dst->chunks[di].order) {
			di++;
			dp = 0;
		}
		if (++sp == 1UL << src->chunks[si].order) {
			si++;
			sp = 0;
		}
		if (!(n % 256))
			cond_resched();
	}
}

/* Every device's pending work on the buffer, readers' included. */
static int dcore_heap_wait_fences(struct dmabuf_core_buffer *buf)
{
	long ret;

	ret = dma_resv_wait_timeout(buf->dmabuf->resv, DMA_RESV_USAGE_BOOKKEEP,
				    true, MAX_SCHEDULE_TIMEOUT);
	return ret < 0 ? ret : 0;
}

/* Whether @pages serve @dev (if any) and every attached device directly. */
static bool dcore_heap_reaches_all(struct dmabuf_core_buffer *buf,
				   struct device *dev,
				   const struct dmabuf_core_pages *pages)
{
	struct dmabuf_core_attachment *att;

	if (dev && !dmabuf_core_pages_reachable(pages, dev))
		return false;
	dmabuf_core_for_each_attachment(buf, att)
		if (!dmabuf_core_pages_reachable(pages, att->dev))
			return false;
	return true;
}

/*
 * Move @buf's storage to meet @n: where @dev (if any) and every attached
 * device reach it, as they declared.  The new storage is allocated, and
 * the kept kernel mapping remade, before anything changes; after that the
 * user mappings are zapped (the fault handler then waits for the buffer's
 * lock, held here), the devices' pending work on the old storage is
 * waited for, the bytes are copied, and the storage switches.  Any
 * failure leaves the old storage in place.
 */
static int dcore_heap_move(struct dmabuf_core_buffer *buf, struct device *dev,
			   const struct dcore_heap_needs *n)
{
	struct dcore_buffer *b = to_dcore_buffer(buf);
	struct dcore_heap_buffer *hb = buf->priv;
	u64 old_top = dmabuf_core_pages_highest_phys(&hb->pages);
	u64 start = ktime_get_ns();
	struct dmabuf_core_pages new = {}, old;
	struct iosys_map vmap;
	int ret;

	lockdep_assert_held(&b->lock);
	iosys_map_clear(&vmap);
	/*
	 * Pinned: a device's mapping that cannot be taken back, or a kernel
	 * mapping other than the one kept for dma_buf_vmap() (then the kernel
	 * holds it too).  And no memory serves a device that bounces every
	 * page.
	 */
	if (!dcore_mappings_movable(b) || b->vmaps > (b->vmap_kept ? 1 : 0) ||
	    (dev && !dmabuf_core_pages_reachable(&new, dev))) {
		ret = -EBUSY;
		goto out;
	}
	/*
	 * The devices' pending work first, before there are two copies to
	 * charge and while faults still find the old pages mapped.
	 */
	ret = dcore_heap_wait_fences(buf);
	if (ret)
		goto out;
	ret = dcore_heap_alloc(hb, &new, buf->size, n);
	if (ret)
		goto out;
	/* The limit is the mask: a dma-ranges offset may still be in the way. */
	if (!dcore_heap_reaches_all(buf, dev, &new)) {
		ret = -EBUSY;
		goto err_free;
	}
	if (b->vmap_kept) {
		ret = dmabuf_core_pages_vmap(&new, &vmap);
		if (ret)
			goto err_free;
	}

	/*
	 * From here devices and the CPU reach the old pages only under the
	 * lock: dynamic importers give their mappings up, user mappings fault
	 * again.  Work queued since the first wait (a fence imported
	 * meanwhile) is waited for too; usually there is none.
	 */
	dcore_revoke_mappings(b);
	unmap_mapping_range(buf->dmabuf->file->f_mapping, 0, 0, 1);
	ret = dcore_heap_wait_fences(buf);
	if (ret)
		goto err_vunmap;
	dcore_heap_copy(&new, &hb->pages);
	old = hb->pages;
	hb->pages = new;
	if (b->vmap_kept) {
		swap(b->vmap, vmap);
		dmabuf_core_pages_vunmap(&vmap);
	}
	dcore_heap_free(hb, &old);
	WRITE_ONCE(b->moves, b->moves + 1);
	goto out;

err_vunmap:
	if (b->vmap_kept)
		dmabuf_core_pages_vunmap(&vmap);
err_free:
	dcore_heap_free(hb, &new);
out:
	trace_dmabuf_core_move(buf->id, buf->size, old_top, n->limit,
			       hb->pages.nr_chunks, ktime_get_ns() - start, ret);
	return ret;
}

/**
 * dcore_heap_attach - &dmabuf_core_ops.attach of both heaps
 * @buf: a heap buffer
 * @att: the new attachment (not yet among the buffer's attachments)
 *
 * Storage out of the device's reach, or that breaks what an administrator
 * declared for it, moves where it serves every attached device; storage
 * not placed yet is placed later for all of them.
 *
 * Context: the buffer's lock held.
 * Return: 0; -EINVAL for a device whose segment limits page storage
 * cannot meet; -EBUSY for a device that bounces every page, or one out of
 * reach of storage that a device mapping (but a dynamic importer's) or a
 * kernel mapping pins; the
 * move's -ENOMEM; -ERESTARTSYS when a signal interrupted the wait for the
 * buffer's fences; -EINTR when the task was killed during the allocation.
 */
int dcore_heap_attach(struct dmabuf_core_buffer *buf,
		      struct dmabuf_core_attachment *att)
{
	struct dcore_heap_buffer *hb = buf->priv;
	struct dcore_heap_needs n;

	if (!dmabuf_core_pages_device_fits(att->dev))
		return -EINVAL;
	/* Not placed yet: refused only if the device bounces everything. */
	if (!dmabuf_core_pages_allocated(&hb->pages))
		return dmabuf_core_pages_reachable(&hb->pages, att->dev) ?
		       0 : -EBUSY;
	dcore_heap_needs_of(buf, att->dev, &n);
	if (dmabuf_core_pages_reachable(&hb->pages, att->dev) &&
	    dmabuf_core_pages_meet(&hb->pages, &n.c))
		return 0;
	return dcore_heap_move(buf, att->dev, &n);
}

/**
 * dcore_heap_map - &dmabuf_core_ops.map of both heaps
 * @att: the attachment
 * @dir: the direction
 *
 * Places the storage if that is still to be done, and moves it if an
 * importer declared what it does not meet (dmabuf_core_attach_constrained()
 * comes after the attach that would have moved it).
 *
 * Context: the buffer's lock held.
 * Return: a new table of the storage mapped for the device, or an
 * ERR_PTR() of the placement's or the move's error.
 */
struct sg_table *dcore_heap_map(struct dmabuf_core_attachment *att,
				enum dma_data_direction dir)
{
	struct dmabuf_core_buffer *buf = att->buf;
	struct dcore_heap_buffer *hb = buf->priv;
	struct dcore_heap_needs n;
	int ret;

	ret = dcore_heap_ensure(buf);
	if (ret)
		return ERR_PTR(ret);
	dcore_heap_needs_of(buf, NULL, &n);
	if (!dmabuf_core_pages_meet(&hb->pages, &n.c)) {
		ret = dcore_heap_move(buf, NULL, &n);
		if (ret)
			return ERR_PTR(ret);
	}
	return dmabuf_core_pages_map(&hb->pages, att->dev, dir);
}

/* The pfn of page @pgoff of @pages, or 0 beyond them. */
static unsigned long dcore_heap_pfn(const struct dmabuf_core_pages *pages,
				    unsigned long pgoff)
{
	unsigned long nr;
	unsigned int i;

	for (i = 0; i < pages->nr_chunks; i++) {
		nr = 1UL << pages->chunks[i].order;
		if (pgoff < nr)
			return page_to_pfn(pages->chunks[i].page) + pgoff;
		pgoff -= nr;
	}
	return 0;
}

/*
 * Map the page of @vmf, then every other page of its VMA: a fault is rare
 * (the first touch, or the first after a move), so one fault does the
 * whole mapping.  Only the faulting page must succeed: the rest is
 * best effort, and a page left out faults later.  No memory for a page
 * table is SIGBUS, not the OOM killer.
 */
static vm_fault_t dcore_heap_insert_vma(const struct dmabuf_core_pages *pages,
					struct vm_fault *vmf)
{
	struct vm_area_struct *vma = vmf->vma;
	unsigned long addr = vma->vm_start, skip = vma->vm_pgoff, nr, p;
	unsigned long pfn = dcore_heap_pfn(pages, vmf->pgoff);
	unsigned int i;
	vm_fault_t ret;

	if (!pfn)
		return VM_FAULT_SIGBUS;
	ret = vmf_insert_pfn(vma, vmf->address, pfn);
	if (ret != VM_FAULT_NOPAGE)
		return VM_FAULT_SIGBUS;

	for (i = 0; i < pages->nr_chunks && addr < vma->vm_end; i++) {
		nr = 1UL << pages->chunks[i].order;
		if (skip >= nr) {
			skip -= nr;
			continue;
		}
		for (p = skip; p < nr && addr < vma->vm_end; p++) {
			if (vmf_insert_pfn(vma, addr,
					   page_to_pfn(pages->chunks[i].page) + p) !=
			    VM_FAULT_NOPAGE)
				return VM_FAULT_NOPAGE;
			addr += PAGE_SIZE;
		}
		skip = 0;
		if (fatal_signal_pending(current))
			break;
		cond_resched();
	}
	return VM_FAULT_NOPAGE;
}

/*
 * The first touch of a mapping, or the first after a move.  The first
 * touch of an unplaced contiguous buffer places it (with mmap_lock held
 * for reading only).  No memory is SIGBUS, never the OOM killer.
 */
static vm_fault_t dcore_heap_fault(struct vm_fault *vmf)
{
	struct dmabuf_core_buffer *buf = vmf->vma->vm_private_data;
	struct dcore_heap_buffer *hb = buf->priv;
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
	if (!dcore_heap_ensure(buf))
		ret = dcore_heap_insert_vma(&hb->pages, vmf);
	dmabuf_core_unlock_storage(buf);
	return ret;
}

static const struct vm_operations_struct dcore_heap_vm_ops = {
	.fault = dcore_heap_fault,
};

/**
 * dcore_heap_mmap - &dmabuf_core_ops.mmap of both heaps
 * @buf: a heap buffer
 * @vma: the VMA, checked by the core
 *
 * Nothing is mapped here: pages are faulted in, so that a mapping made
 * before the storage is placed, or while it moves, finds the storage of
 * the moment.
 *
 * Return: 0.
 */
int dcore_heap_mmap(struct dmabuf_core_buffer *buf, struct vm_area_struct *vma)
{
	dcore_vm_flags_set(vma, VM_PFNMAP | VM_DONTEXPAND | VM_DONTDUMP);
	vma->vm_ops = &dcore_heap_vm_ops;
	vma->vm_private_data = buf;
	return 0;
}

/**
 * dcore_heap_release - &dmabuf_core_ops.release of both heaps
 * @buf: a heap buffer
 */
void dcore_heap_release(struct dmabuf_core_buffer *buf)
{
	dcore_heap_buffer_free(buf->priv);
}
