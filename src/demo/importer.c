// SPDX-License-Identifier: GPL-2.0-only
/*
 * dmabuf_demo_importer.ko: devices that import buffers by fd, the way a
 * display or GPU driver would, each on its own node
 * /dev/dmabuf-demo-importer<N>.
 *
 * Each instance is a device with its own DMA mask and maximum segment size
 * (module parameters), so that devices with different constraints can
 * share one buffer.  An access gets the buffer, attaches, maps, touches
 * the data through the sg table as the device would, and reports what the
 * device saw.
 */
#include <linux/dma-mapping.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/scatterlist.h>
#include <linux/slab.h>
#include <linux/stddef.h>
#include <linux/uaccess.h>
#include <linux/xarray.h>
#include <linux/dmabuf_core.h>
#include <uapi/linux/dmabuf_demo.h>

#include "../compat.h"
#include "demo_common.h"

#define DEMO_MAX_IMPORTERS	8

static unsigned int dma_bits[DEMO_MAX_IMPORTERS] = { 64 };
static int nr_dma_bits;
module_param_array(dma_bits, uint, &nr_dma_bits, 0444);
MODULE_PARM_DESC(dma_bits,
		 "DMA mask width of each importer device, 24-64; one device per value (default: one, 64)");

static unsigned int max_seg_kb[DEMO_MAX_IMPORTERS];
static int nr_max_seg_kb;
module_param_array(max_seg_kb, uint, &nr_max_seg_kb, 0444);
MODULE_PARM_DESC(max_seg_kb,
		 "Largest DMA segment of each importer device in KiB, at least one page; 0: no limit (default)");

static unsigned int max_holds = 4096;
module_param(max_holds, uint, 0644);
MODULE_PARM_DESC(max_holds,
		 "Most attachments ATTACH keeps per open importer node (default 4096)");

/**
 * struct demo_importer - one importing device and its node
 * @pdev:	the device
 * @node:	its misc node
 * @name:	the node's name
 * @index:	instance number
 */
struct demo_importer {
	struct platform_device *pdev;
	struct miscdevice node;
	char name[32];
	unsigned int index;
};

static struct demo_importer *importers;
static unsigned int nr_importers;

/**
 * struct demo_importer_file - an open importer node
 * @imp:	the importer
 * @lock:	protects @held, @maps and @nr_held; taken interruptibly, as
 *		ACCESS holds it across a fence wait of unbounded length
 * @held:	attachments kept between calls (struct
 *		dmabuf_core_attachment), indexed by their buffer's id
 * @maps:	the mappings kept with them (struct demo_held_map), for the
 *		holds made with %DMABUF_DEMO_ATTACH_MAP, at the same index
 * @nr_held:	entries in @held, at most max_holds
 */
struct demo_importer_file {
	struct demo_importer *imp;
	struct mutex lock;	/* guards @held, @maps, @nr_held */
	struct xarray held;
	struct xarray maps;
	unsigned int nr_held;
};

/**
 * struct demo_held_map - a mapping kept as long as its hold
 * @sgt:	the table dmabuf_core_map_attachment() returned; for a
 *		movable hold NULL once the core took it back, under @busy
 * @dir:	its direction; immutable
 * @movable:	made with %DMABUF_DEMO_ATTACH_MOVABLE: the attachment is
 *		dynamic, and demo_invalidate() gives @sgt up; immutable
 * @busy:	movable holds: held while the device uses @sgt, so that
 *		demo_invalidate() waits for the device to finish with it.
 *		Taken inside the buffer's lock (in demo_invalidate()), so
 *		never held across a dmabuf-core call on the buffer
 * @invalidations: movable holds: times the core took @sgt back, under
 *		@busy
 * @stop:	movable holds: set by demo_invalidate() while it waits for
 *		@busy, so that an access in flight stops at its next page
 *		(the device is preempted) and the move need not wait for a
 *		whole buffer; read without a lock
 */
struct demo_held_map {
	struct sg_table *sgt;
	enum dma_data_direction dir;
	bool movable;
	struct mutex busy;	/* see @busy above */
	unsigned int invalidations;
	bool stop;
};

static struct demo_held_map *demo_held_map_new(struct dmabuf_core_buffer *buf,
					       bool movable)
{
	struct demo_held_map *m = kzalloc(sizeof(*m), DEMO_GFP_RECORD);

	if (!m)
		return NULL;
	m->dir = dmabuf_core_is_writable(buf) ? DMA_BIDIRECTIONAL :
						 DMA_TO_DEVICE;
	/* Another exporter's buffer is pinned by the kernel while mapped. */
	m->movable = movable && !dmabuf_core_is_imported(buf);
	mutex_init(&m->busy);
	return m;
}

static void demo_held_map_free(struct demo_held_map *m)
{
	mutex_destroy(&m->busy);
	kfree(m);
}

/*
 * The core takes a movable hold's mapping back: its buffer's storage moves.
 * A device would stop its DMA here; the demo's device is busy only during
 * an ACCESS through the mapping, which holds @busy and stops at the next
 * page when told.
 */
static void demo_invalidate(struct dmabuf_core_attachment *att)
{
	struct demo_held_map *m = att->importer_priv;

	WRITE_ONCE(m->stop, true);
	mutex_lock(&m->busy);
	m->sgt = NULL;
	m->invalidations++;
	WRITE_ONCE(m->stop, false);
	mutex_unlock(&m->busy);
}

static const struct dmabuf_core_importer_ops demo_importer_ops = {
	.invalidate = demo_invalidate,
};

/*
 * Give @m's table back, unless the core took it already (a move): then
 * there is nothing to give back.
 */
static void demo_unmap_kept(struct dmabuf_core_attachment *att,
			    struct demo_held_map *m)
{
	struct sg_table *sgt;

	mutex_lock(&m->busy);
	sgt = m->sgt;
	m->sgt = NULL;
	mutex_unlock(&m->busy);
	if (sgt)
		dmabuf_core_unmap_attachment(att, sgt, m->dir);
}

/*
 * The attachment this file holds on @buf, or NULL.  A buffer's id is
 * stable while the attachment holds the buffer; the comparison only
 * matters where an unsigned long index is narrower than the id.
 */
static struct dmabuf_core_attachment *
demo_find_hold(struct demo_importer_file *f, struct dmabuf_core_buffer *buf)
{
	struct dmabuf_core_attachment *att;

	lockdep_assert_held(&f->lock);
	att = xa_load(&f->held, (unsigned long)buf->id);
	return att && att->buf == buf ? att : NULL;
}

/*
 * End the hold at @index, whose attachment is @att: the mapping kept with it
 * first, if any.  Called with the file's lock held, or from release.
 */
static void demo_drop_hold(struct demo_importer_file *f, unsigned long index,
			   struct dmabuf_core_attachment *att)
{
	struct demo_held_map *m = xa_erase(&f->maps, index);

	if (m)
		demo_unmap_kept(att, m);
	/* No invalidation comes after the detach: @m can go. */
	dmabuf_core_detach(att->buf, att);
	if (m)
		demo_held_map_free(m);
}

/*
 * Map @att and record the table in @m.  The core may take a movable hold's
 * table back between the map and the recording: then the table is given
 * back (-EINVAL when the core took it already) and mapped again, onto the
 * storage of after the move.
 */
static int demo_map_kept(struct dmabuf_core_attachment *att,
			 struct demo_held_map *m)
{
	struct sg_table *sgt;
	unsigned int seen;

	for (;;) {
		mutex_lock(&m->busy);
		seen = m->invalidations;
		mutex_unlock(&m->busy);
		sgt = dmabuf_core_map_attachment(att, m->dir);
		if (IS_ERR(sgt))
			return PTR_ERR(sgt);
		mutex_lock(&m->busy);
		if (m->invalidations == seen) {
			m->sgt = sgt;
			mutex_unlock(&m->busy);
			return 0;
		}
		mutex_unlock(&m->busy);
		dmabuf_core_unmap_attachment(att, sgt, m->dir);
		if (fatal_signal_pending(current))
			return -EINTR;
	}
}

/*
 * Map the new hold at @index for the device and keep the mapping in @m, for
 * %DMABUF_DEMO_ATTACH_MAP.  Called with the file's lock held; on failure
 * the caller frees @m after the detach.
 */
static int demo_keep_map(struct demo_importer_file *f, unsigned long index,
			 struct dmabuf_core_attachment *att,
			 struct demo_held_map *m)
{
	int ret;

	ret = demo_map_kept(att, m);
	if (ret)
		return ret;
	ret = xa_insert(&f->maps, index, m, DEMO_GFP_RECORD);
	if (ret)
		demo_unmap_kept(att, m);
	return ret;
}

static const struct dmabuf_core_constraints demo_one_segment = {
	.max_segments = 1,
};

static const struct dmabuf_core_constraints demo_unconstrained;

static long demo_ioctl_attach(struct demo_importer_file *f, void __user *uarg,
			      bool attach)
{
	const struct dmabuf_core_constraints *c;
	struct dmabuf_core_attachment *att;
	struct demo_held_map *m = NULL;
	struct dmabuf_demo_attach req;
	struct dmabuf_core_buffer *buf;
	unsigned long index;
	long ret;

	if (copy_from_user(&req, uarg, sizeof(req)))
		return -EFAULT;
	if (req.flags & ~(attach ? DMABUF_DEMO_ATTACH_MAP |
				   DMABUF_DEMO_ATTACH_CONTIG |
				   DMABUF_DEMO_ATTACH_MOVABLE : 0))
		return -EINVAL;
	/* Movable is what the kept mapping is. */
	if ((req.flags & DMABUF_DEMO_ATTACH_MOVABLE) &&
	    !(req.flags & DMABUF_DEMO_ATTACH_MAP))
		return -EINVAL;
	buf = dmabuf_core_get(req.fd);
	if (IS_ERR(buf))
		return PTR_ERR(buf);
	index = (unsigned long)buf->id;

	ret = mutex_lock_interruptible(&f->lock);
	if (ret)
		goto out_put;
	att = demo_find_hold(f, buf);
	if (!attach) {
		if (att) {
			xa_erase(&f->held, index);
			f->nr_held--;
			demo_drop_hold(f, index, att);
		} else {
			ret = -ENOENT;
		}
		goto out_unlock;
	}
	/* A different buffer at the index only where the id was truncated. */
	if (xa_load(&f->held, index)) {
		ret = -EBUSY;
		goto out_unlock;
	}
	/* Every hold keeps a buffer alive after its fds are closed. */
	if (f->nr_held >= READ_ONCE(max_holds)) {
		ret = -ENOSPC;
		goto out_unlock;
	}
	c = req.flags & DMABUF_DEMO_ATTACH_CONTIG ? &demo_one_segment :
						    &demo_unconstrained;
	if (req.flags & DMABUF_DEMO_ATTACH_MAP) {
		m = demo_held_map_new(buf,
				      req.flags & DMABUF_DEMO_ATTACH_MOVABLE);
		if (!m) {
			ret = -ENOMEM;
			goto out_unlock;
		}
	}
	if (m && m->movable)
		att = dmabuf_core_attach_dynamic(buf, &f->imp->pdev->dev, c,
						 &demo_importer_ops, m);
	else
		att = dmabuf_core_attach_constrained(buf, &f->imp->pdev->dev,
						     c);
	if (IS_ERR(att)) {
		ret = PTR_ERR(att);
		goto out_free;
	}
	ret = xa_insert(&f->held, index, att, DEMO_GFP_RECORD);
	if (ret)
		goto out_detach;
	if (m) {
		ret = demo_keep_map(f, index, att, m);
		if (ret) {
			xa_erase(&f->held, index);
			goto out_detach;
		}
	}
	f->nr_held++;
	goto out_unlock;

out_detach:
	dmabuf_core_detach(buf, att);
out_free:
	if (m)
		demo_held_map_free(m);
out_unlock:
	mutex_unlock(&f->lock);
out_put:
	dmabuf_core_put(buf);
	return ret;
}

/* What the device sees of a mapping: its DMA segments. */
static void demo_inspect(struct device *dev, struct sg_table *sgt,
			 struct dmabuf_demo_access *req)
{
	u64 mask = dma_get_mask(dev);
	struct scatterlist *sg;
	unsigned int i;

	req->fits_mask = 1;
	req->lowest_dma = U64_MAX;
	for_each_sgtable_dma_sg(sgt, sg, i) {
		dma_addr_t addr = sg_dma_address(sg);
		u64 last = addr + sg_dma_len(sg) - 1;

		req->segments++;
		req->bytes += sg_dma_len(sg);
		req->largest_segment = max_t(u64, req->largest_segment,
					     sg_dma_len(sg));
		req->lowest_dma = min_t(u64, req->lowest_dma, addr);
		req->highest_dma = max_t(u64, req->highest_dma, last);
		if (last > mask)
			req->fits_mask = 0;
	}
}

/*
 * Count the segments whose DMA addresses lie in a swiotlb bounce buffer
 * rather than in the buffer.  Not through a kernel mapping of the buffer:
 * the kernel's dma_buf_vmap() WARNs when another exporter's vmap fails,
 * which a user can make happen, and an importer must leave the table's
 * pages alone.  Only for devices whose DMA addresses are physical
 * addresses, as demo_touch() checks.
 */
static void demo_count_bounced(struct device *dev, struct sg_table *sgt,
			       struct dmabuf_demo_access *req)
{
	struct scatterlist *sg;
	unsigned int i;

	for_each_sgtable_dma_sg(sgt, sg, i)
		if (dcore_dma_bounced(dev, (phys_addr_t)sg_dma_address(sg)))
			req->bounced++;
}

/*
 * The page behind a DMA address, as the device reaches it.  Only for
 * devices whose DMA addresses are physical addresses (no IOMMU, no bus
 * offset), which the demo's platform devices are.
 */
static struct page *demo_dma_page(struct device *dev, dma_addr_t addr)
{
	unsigned long pfn = PHYS_PFN((phys_addr_t)addr);

	return pfn_valid(pfn) ? pfn_to_page(pfn) : NULL;
}

/*
 * Read or write the data page by page, in buffer order, through the DMA
 * addresses of the table: what the device sees.  An importer never looks
 * at the table's struct pages: they are the exporter's business.  Stops
 * with -EAGAIN at the next page once *@stop (if given) is set.
 */
static int demo_touch(struct device *dev, struct sg_table *sgt,
		      struct dmabuf_demo_access *req, const bool *stop)
{
	bool write = req->op == DMABUF_DEMO_ACCESS_WRITE;
	u64 sum = DMABUF_DEMO_FNV_BASIS, hash = DMABUF_DEMO_FNV_BASIS;
	struct scatterlist *sg;
	unsigned int i;
	u64 word = 0;

	if (device_iommu_mapped(dev) || dev->dma_range_map)
		return -EOPNOTSUPP;
	/*
	 * No syncs: this is the device's side of the mapping.  A sync for
	 * the device after writing would have a bounce buffer (a foreign
	 * buffer a 32-bit device can not reach) refilled from the CPU's
	 * copy, losing what was just written; the unmap hands the data to
	 * the CPU.
	 */
	for_each_sgtable_dma_sg(sgt, sg, i) {
		dma_addr_t addr = sg_dma_address(sg);
		dma_addr_t end = addr + sg_dma_len(sg);

		if (!PAGE_ALIGNED(addr) || !PAGE_ALIGNED(sg_dma_len(sg)))
			return -EOPNOTSUPP;
		for (; addr < end; addr += PAGE_SIZE) {
			struct page *page = demo_dma_page(dev, addr);

			if (!page)
				return -EFAULT;
			if (stop && READ_ONCE(*stop))
				return -EAGAIN;
			if (write)
				demo_write_page(page, req->seed, word);
			demo_read_page(page, req->seed, word, &sum, NULL, NULL);
			hash = demo_hash_page(hash, page);
			word += DEMO_WORDS_PER_PAGE;
			cond_resched();
		}
	}
	req->checksum = sum;
	req->pages_hash = hash;
	return 0;
}

/*
 * ACCESS through a movable hold's kept mapping, mapped again first if the
 * core took it back.  @busy stays held while the device uses the table, so
 * that a move waits for the access to end.
 */
static int demo_access_kept(struct device *dev,
			    struct dmabuf_core_attachment *att,
			    struct demo_held_map *m,
			    struct dmabuf_demo_access *req)
{
	const struct dmabuf_demo_access start = *req;
	int ret;

	for (;;) {
		ret = mutex_lock_interruptible(&m->busy);
		if (ret)
			return ret;
		if (!m->sgt) {
			mutex_unlock(&m->busy);
			ret = demo_map_kept(att, m);
			if (ret)
				return ret;
			continue;
		}
		*req = start;
		demo_inspect(dev, m->sgt, req);
		demo_count_bounced(dev, m->sgt, req);
		ret = demo_touch(dev, m->sgt, req, &m->stop);
		mutex_unlock(&m->busy);
		if (ret != -EAGAIN)
			return ret;
		/* Preempted by a move: again, on the storage of after it. */
		if (fatal_signal_pending(current))
			return -EINTR;
		cond_resched();
	}
}

static long demo_ioctl_access(struct demo_importer_file *f, void __user *uarg)
{
	struct device *dev = &f->imp->pdev->dev;
	struct dmabuf_core_attachment *att, *temp = NULL;
	struct demo_held_map *kept;
	struct dmabuf_demo_access req;
	enum dma_data_direction dir;
	struct sg_table *sgt;
	struct dmabuf_core_buffer *buf;
	long ret;

	if (copy_from_user(&req, uarg, sizeof(req)))
		return -EFAULT;
	if (req.flags || req.op > DMABUF_DEMO_ACCESS_WRITE)
		return -EINVAL;
	dir = req.op == DMABUF_DEMO_ACCESS_WRITE ? DMA_BIDIRECTIONAL :
						  DMA_TO_DEVICE;
	buf = dmabuf_core_get(req.fd);
	if (IS_ERR(buf))
		return PTR_ERR(buf);
	/*
	 * A buffer exported read-only is not written, ours or another
	 * exporter's: not every exporter refuses a writable mapping itself.
	 */
	if (dir != DMA_TO_DEVICE && !dmabuf_core_is_writable(buf)) {
		dmabuf_core_put(buf);
		return -EACCES;
	}

	req = (struct dmabuf_demo_access){ .fd = req.fd, .op = req.op,
					   .seed = req.seed };
	req.dma_bits = fls64(dma_get_mask(dev));

	/* Keep the lock: a held attachment must not go away under us. */
	ret = mutex_lock_interruptible(&f->lock);
	if (ret)
		goto out_put;
	att = demo_find_hold(f, buf);
	if (!att) {
		temp = dmabuf_core_attach(buf, dev);
		if (IS_ERR(temp)) {
			ret = PTR_ERR(temp);
			goto out_unlock;
		}
		att = temp;
	}

	/* As a device would: wait until writers (and, to write, readers) are done. */
	ret = dmabuf_core_wait_fences(buf, dir != DMA_TO_DEVICE, true);
	if (ret)
		goto out_detach;
	kept = temp ? NULL : xa_load(&f->maps, (unsigned long)buf->id);
	if (kept && kept->movable) {
		/* A second mapping would pin the storage the first lets move. */
		ret = demo_access_kept(dev, att, kept, &req);
		goto out_detach;
	}
	sgt = dmabuf_core_map_attachment(att, dir);
	if (IS_ERR(sgt)) {
		ret = PTR_ERR(sgt);
		goto out_detach;
	}
	demo_inspect(dev, sgt, &req);
	demo_count_bounced(dev, sgt, &req);
	ret = demo_touch(dev, sgt, &req, NULL);
	if (dmabuf_core_unmap_attachment(att, sgt, dir) && !ret)
		ret = -EINVAL;

out_detach:
	if (temp)
		dmabuf_core_detach(buf, temp);
out_unlock:
	mutex_unlock(&f->lock);
out_put:
	dmabuf_core_put(buf);
	/* How contiguous the pages are says where they are: hidden alike. */
	if (!demo_may_see_addresses()) {
		req.lowest_dma = 0;
		req.highest_dma = 0;
		req.pages_hash = 0;
		req.segments = 0;
		req.largest_segment = 0;
	}
	if (!ret && copy_to_user(uarg, &req, sizeof(req)))
		ret = -EFAULT;
	return ret;
}

/* DEVICE_INFO of the struct's first version, which ended at max_segment. */
#define DEMO_IOCTL_DEVICE_INFO_V1					\
	_IOC(_IOC_READ, _IOC_TYPE(DMABUF_DEMO_IOCTL_DEVICE_INFO),	\
	     _IOC_NR(DMABUF_DEMO_IOCTL_DEVICE_INFO),			\
	     offsetofend(struct dmabuf_demo_device_info, max_segment))

/* DEVICE_INFO: the first @size bytes of the struct, for either version. */
static long demo_ioctl_info(struct demo_importer_file *f, void __user *uarg,
			    size_t size)
{
	struct device *dev = &f->imp->pdev->dev;
	struct dmabuf_demo_device_info info = {
		.index		= f->imp->index,
		.dma_bits	= fls64(dma_get_mask(dev)),
		.max_segment	= dma_get_max_seg_size(dev),
		.coherent	= dev_is_dma_coherent(dev),
	};

	if (copy_to_user(uarg, &info, size))
		return -EFAULT;
	return 0;
}

static long demo_importer_ioctl(struct file *file, unsigned int cmd,
				unsigned long arg)
{
	struct demo_importer_file *f = file->private_data;
	void __user *uarg = (void __user *)arg;

	switch (cmd) {
	case DMABUF_DEMO_IOCTL_ATTACH:
		return demo_ioctl_attach(f, uarg, true);
	case DMABUF_DEMO_IOCTL_DETACH:
		return demo_ioctl_attach(f, uarg, false);
	case DMABUF_DEMO_IOCTL_ACCESS:
		return demo_ioctl_access(f, uarg);
	case DMABUF_DEMO_IOCTL_DEVICE_INFO:
		return demo_ioctl_info(f, uarg, sizeof(struct dmabuf_demo_device_info));
	case DEMO_IOCTL_DEVICE_INFO_V1:
		return demo_ioctl_info(f, uarg, _IOC_SIZE(DEMO_IOCTL_DEVICE_INFO_V1));
	default:
		return -ENOTTY;
	}
}

static int demo_importer_open(struct inode *inode, struct file *file)
{
	struct miscdevice *misc = file->private_data;
	struct demo_importer_file *f;

	f = kzalloc(sizeof(*f), DEMO_GFP_RECORD);
	if (!f)
		return -ENOMEM;
	f->imp = container_of(misc, struct demo_importer, node);
	mutex_init(&f->lock);
	xa_init(&f->held);
	xa_init(&f->maps);
	file->private_data = f;
	return 0;
}

static int demo_importer_release(struct inode *inode, struct file *file)
{
	struct demo_importer_file *f = file->private_data;
	struct dmabuf_core_attachment *att;
	unsigned long index;

	/* The last reference: no ioctl runs, the lock is not needed. */
	xa_for_each(&f->held, index, att)
		demo_drop_hold(f, index, att);
	xa_destroy(&f->held);
	xa_destroy(&f->maps);
	mutex_destroy(&f->lock);
	kfree(f);
	return 0;
}

static const struct file_operations demo_importer_fops = {
	.owner		= THIS_MODULE,
	.open		= demo_importer_open,
	.release	= demo_importer_release,
	.unlocked_ioctl	= demo_importer_ioctl,
	.compat_ioctl	= compat_ptr_ioctl,
};

static void demo_importer_remove(struct demo_importer *imp)
{
	misc_deregister(&imp->node);
	platform_device_unregister(imp->pdev);
}

static int demo_importer_add(struct demo_importer *imp, unsigned int index)
{
	unsigned int seg = max_seg_kb[index] ? max_seg_kb[index] * 1024 :
					       UINT_MAX & PAGE_MASK;
	int ret;

	if (dma_bits[index] < 24 || dma_bits[index] > 64 ||
	    max_seg_kb[index] > (UINT_MAX >> 10) || seg < PAGE_SIZE)
		return -EINVAL;

	imp->index = index;
	imp->pdev = demo_device_create("dmabuf-demo-importer", index,
				       dma_bits[index], seg);
	if (IS_ERR(imp->pdev))
		return PTR_ERR(imp->pdev);

	snprintf(imp->name, sizeof(imp->name), "dmabuf-demo-importer%u", index);
	imp->node.minor = MISC_DYNAMIC_MINOR;
	imp->node.name = imp->name;
	imp->node.fops = &demo_importer_fops;
	ret = misc_register(&imp->node);
	if (ret)
		platform_device_unregister(imp->pdev);
	return ret;
}

static int __init demo_importer_init(void)
{
	unsigned int i;
	int ret;

	nr_importers = max(nr_dma_bits, 1);
	if (nr_max_seg_kb > nr_importers)
		return -EINVAL;

	importers = kcalloc(nr_importers, sizeof(*importers), GFP_KERNEL);
	if (!importers)
		return -ENOMEM;
	for (i = 0; i < nr_importers; i++) {
		ret = demo_importer_add(&importers[i], i);
		if (ret)
			goto err_remove;
	}
	return 0;

err_remove:
	while (i--)
		demo_importer_remove(&importers[i]);
	kfree(importers);
	return ret;
}

/* Open nodes pin this module, so no attachment is held here. */
static void __exit demo_importer_exit(void)
{
	unsigned int i;

	for (i = 0; i < nr_importers; i++)
		demo_importer_remove(&importers[i]);
	kfree(importers);
}

module_init(demo_importer_init);
module_exit(demo_importer_exit);

MODULE_DESCRIPTION("dmabuf-core demo importer: devices that map shared buffers");
MODULE_AUTHOR("dmabuf-core developers");
MODULE_LICENSE("GPL");
MODULE_VERSION(DMABUF_CORE_VERSION);
DMABUF_CORE_IMPORT_NS();
