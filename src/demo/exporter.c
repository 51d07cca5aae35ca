// SPDX-License-Identifier: GPL-2.0-only
/*
 * dmabuf_demo_exporter.ko: a device that exports buffers, the way a camera
 * or codec driver would, on its own node /dev/dmabuf-demo-exporter.
 *
 * It shows the backing-storage negotiation the RFC designed attach for: a
 * buffer gets no memory when it is created, only when it is first mapped
 * (by an importer, or by the exporter's own FILL).  Then it takes memory
 * that every device attached at that moment can reach: below the tightest
 * DMA mask, in chunks no larger than the smallest maximum segment.  A device
 * that attaches afterwards and cannot reach that memory is refused -EBUSY.
 */
#include <linux/atomic.h>
#include <linux/dma-buf.h>
#include <linux/dma-mapping.h>
#include <linux/fcntl.h>
#include <linux/iosys-map.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/memcontrol.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/dmabuf_core.h>
#include <linux/dmabuf_core_pages.h>
#include <uapi/linux/dmabuf_demo.h>

#include "../compat.h"
#include "demo_common.h"

static unsigned int dma_bits = 64;
module_param(dma_bits, uint, 0444);
MODULE_PARM_DESC(dma_bits, "DMA mask width of the exporting device (24-64, default 64)");

static unsigned int max_size_mb = 256;
module_param(max_size_mb, uint, 0644);
MODULE_PARM_DESC(max_size_mb, "Largest buffer in MiB (default 256)");

/**
 * struct demo_buffer - the exporter's side of one buffer
 * @pages:	backing storage; empty (no chunks) until first use
 * @dma_limit:	the tightest DMA limit at allocation time
 * @nr_devices:	attached devices the allocation took into account
 * @memcg:	the creator's memory cgroup, charged for the storage whoever
 *		places it; a reference held until release (NULL without memcg)
 *
 * All fields are under the buffer's lock: the core holds it in the
 * callbacks, the ioctls and the fault handler take it with
 * dmabuf_core_lock_storage().
 */
struct demo_buffer {
	struct dmabuf_core_pages pages;
	u64 dma_limit;
	unsigned int nr_devices;
	struct mem_cgroup *memcg;
};

static struct platform_device *demo_pdev;
static struct device *demo_dev;

static struct {
	atomic64_t created, released, attached, detached, refused;
	atomic64_t allocations, mapped, unmapped, vmapped, cpu_begun;
} demo_stats;

/*
 * Place the storage on first use: allocate what every attached device, and
 * ours, can reach.  Called with the buffer's lock held.
 */
static int demo_place_storage(struct dmabuf_core_buffer *buf)
{
	struct demo_buffer *db = buf->priv;
	struct mem_cgroup *old_memcg;
	u64 limit = dmabuf_core_device_dma_limit(demo_dev);
	size_t max_chunk = dma_get_max_seg_size(demo_dev);
	struct dmabuf_core_constraints declared;
	struct dmabuf_core_attachment *att;
	unsigned int devices = 0;
	int ret;

	if (dmabuf_core_pages_allocated(&db->pages))
		return 0;
	/* Segments and alignment, as importers and the administrator said. */
	dmabuf_core_buffer_constraints(buf, &declared);
	dmabuf_core_for_each_attachment(buf, att) {
		devices++;
		limit = min(limit, dmabuf_core_device_dma_limit(att->dev));
		max_chunk = min_t(size_t, max_chunk,
				  dma_get_max_seg_size(att->dev));
	}

	/*
	 * The creator pays, not whoever maps first: else a user could hand a
	 * victim a large buffer that lands in the victim's cgroup.
	 */
	old_memcg = set_active_memcg(db->memcg);
	ret = dmabuf_core_pages_alloc_constrained(&db->pages, buf->size, limit,
						  max_chunk, &declared);
	set_active_memcg(old_memcg);
	if (ret)
		return ret;
	db->dma_limit = limit;
	db->nr_devices = devices;
	atomic64_inc(&demo_stats.allocations);
	return 0;
}

/*
 * Make sure storage exists, and offer kernel drivers (vivid's vmalloc
 * queues) its kernel mapping from then on.  Never from the kernel's
 * dma_buf_vmap(): that WARNs when the allocation fails, which a user at
 * its memory cgroup's limit or a fatal signal can make happen, so a buffer
 * offers no kernel mapping until a device map, a user fault or FILL placed
 * its storage.  A mapping that cannot be made now (out of memory) is not
 * offered yet: the next use tries again.  Read-only buffers offer none.
 * Called with the buffer's lock held.
 */
static int demo_ensure_storage(struct dmabuf_core_buffer *buf)
{
	int ret;

	ret = demo_place_storage(buf);
	if (ret)
		return ret;
	if (dmabuf_core_is_writable(buf))
		dmabuf_core_offer_vmap(buf);
	return 0;
}

static int demo_attach(struct dmabuf_core_buffer *buf, struct dmabuf_core_attachment *att)
{
	struct demo_buffer *db = buf->priv;
	struct dmabuf_core_constraints declared;

	if (!dmabuf_core_pages_device_fits(att->dev)) {
		atomic64_inc(&demo_stats.refused);
		return -EINVAL;
	}
	/* Before storage exists, this refuses devices that always bounce. */
	if (!dmabuf_core_pages_reachable(&db->pages, att->dev)) {
		atomic64_inc(&demo_stats.refused);
		return -EBUSY;
	}
	/* Placed storage stays: a device declared out of its shape is refused. */
	dmabuf_core_device_constraints(att->dev, &declared);
	if (!dmabuf_core_pages_meet(&db->pages, &declared)) {
		atomic64_inc(&demo_stats.refused);
		return -EBUSY;
	}
	atomic64_inc(&demo_stats.attached);
	return 0;
}

static void demo_detach(struct dmabuf_core_buffer *buf, struct dmabuf_core_attachment *att)
{
	atomic64_inc(&demo_stats.detached);
}

static struct sg_table *demo_map(struct dmabuf_core_attachment *att,
				 enum dma_data_direction dir)
{
	struct demo_buffer *db = att->buf->priv;
	struct sg_table *sgt;
	int ret;

	ret = demo_ensure_storage(att->buf);
	if (ret)
		return ERR_PTR(ret);
	sgt = dmabuf_core_pages_map(&db->pages, att->dev, dir);
	if (!IS_ERR(sgt))
		atomic64_inc(&demo_stats.mapped);
	return sgt;
}

static void demo_unmap(struct dmabuf_core_attachment *att, struct sg_table *sgt,
		       enum dma_data_direction dir)
{
	dmabuf_core_pages_unmap(att->dev, sgt, dir);
	atomic64_inc(&demo_stats.unmapped);
}

/* The page frame behind page @pgoff of the buffer's storage. */
static unsigned long demo_pfn(const struct dmabuf_core_pages *pages,
			      pgoff_t pgoff)
{
	unsigned int i;

	for (i = 0; i < pages->nr_chunks; i++) {
		unsigned long nr = 1UL << pages->chunks[i].order;

		if (pgoff < nr)
			return page_to_pfn(pages->chunks[i].page) + pgoff;
		pgoff -= nr;
	}
	return 0;
}

/*
 * Storage is allocated on first use, and a user mapping may come first:
 * pages are faulted in, so that the allocation happens with mmap_lock held
 * for reading only, and suits the devices attached by then.
 */
static vm_fault_t demo_fault(struct vm_fault *vmf)
{
	struct vm_area_struct *vma = vmf->vma;
	struct dmabuf_core_buffer *buf = vma->vm_private_data;
	struct demo_buffer *db = buf->priv;
	unsigned long pfn;
	vm_fault_t ret;

	/*
	 * A user access interrupted by a signal returns to userspace, where
	 * the signal is handled and the access retried.  A kernel copy
	 * (read(2) into the mapping) cannot retry without spinning on the
	 * instruction, and failing it fails the system call with -EFAULT:
	 * it waits, and gives up only when the task is killed.
	 */
	if (vmf->flags & FAULT_FLAG_USER) {
		if (dmabuf_core_lock_storage(buf))
			return VM_FAULT_NOPAGE;
	} else if (dmabuf_core_lock_storage_killable(buf)) {
		return VM_FAULT_SIGBUS;
	}
	/* Out of memory is SIGBUS, never the OOM killer. */
	if (demo_ensure_storage(buf)) {
		ret = VM_FAULT_SIGBUS;
		goto out_unlock;
	}
	pfn = demo_pfn(&db->pages, vmf->pgoff);
	ret = pfn ? vmf_insert_pfn(vma, vmf->address, pfn) : VM_FAULT_SIGBUS;
out_unlock:
	dmabuf_core_unlock_storage(buf);
	return ret;
}

static const struct vm_operations_struct demo_vm_ops = {
	.fault = demo_fault,
};

static int demo_mmap(struct dmabuf_core_buffer *buf, struct vm_area_struct *vma)
{
	dcore_vm_flags_set(vma, VM_PFNMAP | VM_DONTEXPAND | VM_DONTDUMP);
	vma->vm_ops = &demo_vm_ops;
	vma->vm_private_data = buf;
	return 0;
}

/*
 * The kernel mapping, for dmabuf_core_offer_vmap() (storage is placed) and
 * for dmabuf_core_vmap(), which may come first and place it.
 */
static int demo_vmap(struct dmabuf_core_buffer *buf, struct iosys_map *map)
{
	struct demo_buffer *db = buf->priv;
	int ret;

	ret = demo_place_storage(buf);
	if (ret)
		return ret;
	ret = dmabuf_core_pages_vmap(&db->pages, map);
	if (!ret)
		atomic64_inc(&demo_stats.vmapped);
	return ret;
}

/* Counted, so that tests see when the core let the CPU in. */
static int demo_begin_cpu_access(struct dmabuf_core_buffer *buf,
				 enum dma_data_direction dir)
{
	atomic64_inc(&demo_stats.cpu_begun);
	return dmabuf_core_sync_mappings_for_cpu(buf, dir);
}

static void demo_release(struct dmabuf_core_buffer *buf)
{
	struct demo_buffer *db = buf->priv;

	dmabuf_core_pages_free(&db->pages);
	mem_cgroup_put(db->memcg);
	kfree(db);
	atomic64_inc(&demo_stats.released);
}

static const struct dmabuf_core_ops demo_ops = {
	.attach			= demo_attach,
	.detach			= demo_detach,
	.map			= demo_map,
	.unmap			= demo_unmap,
	.release		= demo_release,
	.mmap			= demo_mmap,
	.vmap			= demo_vmap,
	.vunmap			= dmabuf_core_pages_op_vunmap,
	.begin_cpu_access	= demo_begin_cpu_access,
	.end_cpu_access		= dmabuf_core_sync_mappings_for_device,
};

static long demo_ioctl_create(void __user *uarg)
{
	DMABUF_CORE_EXPORT_INFO(info);
	struct dmabuf_demo_create req;
	struct demo_buffer *db;
	struct dmabuf_core_buffer *buf;
	int fd, ret;

	if (copy_from_user(&req, uarg, sizeof(req)))
		return -EFAULT;
	if (req.flags || req.reserved || req.fd ||
	    (req.fd_flags & ~(O_ACCMODE | O_CLOEXEC)) ||
	    (req.fd_flags & O_ACCMODE) == O_ACCMODE)
		return -EINVAL;
	if (!req.size || !PAGE_ALIGNED(req.size))
		return -EINVAL;
	if (req.size > (u64)READ_ONCE(max_size_mb) << 20)
		return -ENOMEM;

	db = kzalloc(sizeof(*db), DEMO_GFP_RECORD);
	if (!db)
		return -ENOMEM;
	db->memcg = get_mem_cgroup_from_mm(current->mm);
	info.ops = &demo_ops;
	info.size = req.size;
	info.flags = req.fd_flags & O_ACCMODE;
	info.priv = db;
	buf = dmabuf_core_export(&info);
	if (IS_ERR(buf)) {
		mem_cgroup_put(db->memcg);
		kfree(db);
		return PTR_ERR(buf);
	}
	atomic64_inc(&demo_stats.created);

	/* Reserve the fd first, so that a failed copy loses nothing. */
	fd = get_unused_fd_flags(req.fd_flags & O_CLOEXEC);
	if (fd < 0) {
		ret = fd;
		goto err_put;
	}
	req.fd = fd;
	if (copy_to_user(uarg, &req, sizeof(req))) {
		put_unused_fd(fd);
		ret = -EFAULT;
		goto err_put;
	}
	fd_install(fd, buf->dmabuf->file);
	return 0;

err_put:
	dmabuf_core_put(buf);	/* releases db */
	return ret;
}

/* The buffer behind @fd, if it is one of ours; drop it with dmabuf_core_put(). */
static struct dmabuf_core_buffer *demo_get_own(int fd)
{
	struct dmabuf_core_buffer *buf = dmabuf_core_get(fd);

	if (!IS_ERR(buf) && buf->ops != &demo_ops) {
		dmabuf_core_put(buf);
		return ERR_PTR(-EINVAL);
	}
	return buf;
}

/* FILL (@verify false) or VERIFY (@verify true) through the CPU. */
static long demo_ioctl_pattern(void __user *uarg, bool verify)
{
	struct dmabuf_demo_pattern req;
	struct demo_buffer *db;
	struct dmabuf_core_buffer *buf;
	u64 sum = DMABUF_DEMO_FNV_BASIS, word = 0;
	unsigned int i, p;
	long ret;

	if (copy_from_user(&req, uarg, sizeof(req)))
		return -EFAULT;
	if (req.flags || req.reserved0)
		return -EINVAL;
	buf = demo_get_own(req.fd);
	if (IS_ERR(buf))
		return PTR_ERR(buf);
	db = buf->priv;
	if (!verify && !dmabuf_core_is_writable(buf)) {
		ret = -EACCES;
		goto out_put;
	}

	req.mismatches = 0;
	req.first_mismatch = ~0ULL;
	ret = dmabuf_core_lock_storage(buf);
	if (ret)
		goto out_put;
	ret = demo_ensure_storage(buf);
	if (ret)
		goto out_unlock;
	dmabuf_core_sync_mappings_for_cpu(buf, DMA_BIDIRECTIONAL);
	for (i = 0; i < db->pages.nr_chunks; i++) {
		const struct dmabuf_core_chunk *c = &db->pages.chunks[i];

		for (p = 0; p < (1U << c->order); p++) {
			if (!verify)
				demo_write_page(c->page + p, req.seed, word);
			demo_read_page(c->page + p, req.seed, word, &sum,
				       verify ? &req.mismatches : NULL,
				       &req.first_mismatch);
			word += DEMO_WORDS_PER_PAGE;
		}
		cond_resched();
	}
	dmabuf_core_sync_mappings_for_device(buf, DMA_BIDIRECTIONAL);
	req.checksum = sum;
out_unlock:
	dmabuf_core_unlock_storage(buf);
	if (!ret && copy_to_user(uarg, &req, sizeof(req)))
		ret = -EFAULT;
out_put:
	dmabuf_core_put(buf);
	return ret;
}

static long demo_ioctl_storage(void __user *uarg)
{
	struct dmabuf_demo_storage req;
	struct demo_buffer *db;
	struct dmabuf_core_buffer *buf;
	unsigned int i, p;

	if (copy_from_user(&req, uarg, sizeof(req)))
		return -EFAULT;
	if (req.reserved0)
		return -EINVAL;
	buf = demo_get_own(req.fd);
	if (IS_ERR(buf))
		return PTR_ERR(buf);
	db = buf->priv;

	req = (struct dmabuf_demo_storage){ .fd = req.fd };
	req.pages_hash = DMABUF_DEMO_FNV_BASIS;
	if (dmabuf_core_lock_storage(buf)) {
		dmabuf_core_put(buf);
		return -EINTR;
	}
	if (dmabuf_core_pages_allocated(&db->pages)) {
		req.allocated = 1;
		req.chunks = db->pages.nr_chunks;
		req.lowest_phys = U64_MAX;
		req.highest_phys = dmabuf_core_pages_highest_phys(&db->pages);
		req.dma_limit = db->dma_limit;
		req.devices = db->nr_devices;
		for (i = 0; i < db->pages.nr_chunks; i++) {
			const struct dmabuf_core_chunk *c = &db->pages.chunks[i];

			req.lowest_phys = min_t(u64, req.lowest_phys,
						page_to_phys(c->page));
			req.largest_chunk = max_t(u64, req.largest_chunk,
						  PAGE_SIZE << c->order);
			for (p = 0; p < (1U << c->order); p++)
				req.pages_hash = demo_hash_page(req.pages_hash,
								c->page + p);
		}
	}
	dmabuf_core_unlock_storage(buf);
	dmabuf_core_put(buf);

	/* How contiguous the pages are says where they are: hidden alike. */
	if (!demo_may_see_addresses()) {
		req.lowest_phys = 0;
		req.highest_phys = 0;
		req.pages_hash = 0;
		req.chunks = 0;
		req.largest_chunk = 0;
	}
	if (copy_to_user(uarg, &req, sizeof(req)))
		return -EFAULT;
	return 0;
}

static long demo_ioctl_stats(void __user *uarg)
{
	struct dmabuf_demo_exporter_stats st = {
		.created	= atomic64_read(&demo_stats.created),
		.released	= atomic64_read(&demo_stats.released),
		.attached	= atomic64_read(&demo_stats.attached),
		.detached	= atomic64_read(&demo_stats.detached),
		.refused	= atomic64_read(&demo_stats.refused),
		.allocations	= atomic64_read(&demo_stats.allocations),
		.mapped		= atomic64_read(&demo_stats.mapped),
		.unmapped	= atomic64_read(&demo_stats.unmapped),
		.vmapped	= atomic64_read(&demo_stats.vmapped),
		.cpu_begun	= atomic64_read(&demo_stats.cpu_begun),
	};

	if (copy_to_user(uarg, &st, sizeof(st)))
		return -EFAULT;
	return 0;
}

static long demo_exporter_ioctl(struct file *file, unsigned int cmd,
				unsigned long arg)
{
	void __user *uarg = (void __user *)arg;

	switch (cmd) {
	case DMABUF_DEMO_IOCTL_CREATE:
		return demo_ioctl_create(uarg);
	case DMABUF_DEMO_IOCTL_FILL:
		return demo_ioctl_pattern(uarg, false);
	case DMABUF_DEMO_IOCTL_VERIFY:
		return demo_ioctl_pattern(uarg, true);
	case DMABUF_DEMO_IOCTL_STORAGE:
		return demo_ioctl_storage(uarg);
	case DMABUF_DEMO_IOCTL_EXPORTER_STATS:
		return demo_ioctl_stats(uarg);
	default:
		return -ENOTTY;
	}
}

static const struct file_operations demo_exporter_fops = {
	.owner		= THIS_MODULE,
	.unlocked_ioctl	= demo_exporter_ioctl,
	.compat_ioctl	= compat_ptr_ioctl,
};

static struct miscdevice demo_exporter_node = {
	.minor	= MISC_DYNAMIC_MINOR,
	.name	= "dmabuf-demo-exporter",
	.fops	= &demo_exporter_fops,
};

static int __init demo_exporter_init(void)
{
	int ret;

	if (dma_bits < 24 || dma_bits > 64)
		return -EINVAL;
	demo_pdev = demo_device_create("dmabuf-demo-exporter",
				       PLATFORM_DEVID_NONE, dma_bits,
				       UINT_MAX & PAGE_MASK);
	if (IS_ERR(demo_pdev))
		return PTR_ERR(demo_pdev);
	demo_dev = &demo_pdev->dev;

	ret = misc_register(&demo_exporter_node);
	if (ret)
		platform_device_unregister(demo_pdev);
	return ret;
}

/* Every buffer pins this module, so none is left here. */
static void __exit demo_exporter_exit(void)
{
	misc_deregister(&demo_exporter_node);
	platform_device_unregister(demo_pdev);
}

module_init(demo_exporter_init);
module_exit(demo_exporter_exit);

MODULE_DESCRIPTION("dmabuf-core demo exporter: buffers with deferred, negotiated storage");
MODULE_AUTHOR("dmabuf-core developers");
MODULE_LICENSE("GPL");
MODULE_VERSION(DMABUF_CORE_VERSION);
DMABUF_CORE_IMPORT_NS();
