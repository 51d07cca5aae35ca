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
#include <linux/dma-mapping.h>
#include <linux/fcntl.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/dmabuf_core.h>
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
 * @dma_limit:	the tightest DMA mask at allocation time
 *
 * All fields are under the buffer's &dmabuf.lock.
 */
struct demo_buffer {
	struct dmabuf_pages pages;
	u64 dma_limit;
};

static struct platform_device *demo_pdev;
static struct device *demo_dev;

static struct {
	atomic64_t created, released, attached, detached, refused;
	atomic64_t allocations, mapped, unmapped;
} demo_stats;

/*
 * Make sure storage exists: on first use, allocate what every attached
 * device, and ours, can reach.
 */
static int demo_ensure_storage(struct dmabuf *buf)
{
	struct demo_buffer *db = buf->priv;
	u64 limit = dma_get_mask(demo_dev);
	size_t max_chunk = dma_get_max_seg_size(demo_dev);
	struct dmabuf_attachment *att;
	gfp_t zone;
	int ret;

	lockdep_assert_held(&buf->lock);
	if (db->pages.nr_chunks)
		return 0;
	dmabuf_for_each_attachment(buf, att) {
		limit = min(limit, dma_get_mask(att->dev));
		max_chunk = min_t(size_t, max_chunk,
				  dma_get_max_seg_size(att->dev));
	}

	if (limit >= dma_get_required_mask(demo_dev))
		zone = 0;
	else if (limit >= DMA_BIT_MASK(32))
		zone = __GFP_DMA32;
	else
		zone = __GFP_DMA;

	ret = dmabuf_pages_alloc(&db->pages, buf->size, zone, max_chunk);
	if (ret)
		return ret;
	if (dmabuf_pages_highest_phys(&db->pages) > limit) {
		dmabuf_pages_free(&db->pages);
		return -ENOMEM;
	}
	db->dma_limit = limit;
	atomic64_inc(&demo_stats.allocations);
	return 0;
}

static int demo_attach(struct dmabuf *buf, struct dmabuf_attachment *att)
{
	struct demo_buffer *db = buf->priv;

	if (db->pages.nr_chunks && !dmabuf_pages_reachable(&db->pages, att->dev)) {
		atomic64_inc(&demo_stats.refused);
		return -EBUSY;
	}
	atomic64_inc(&demo_stats.attached);
	return 0;
}

static void demo_detach(struct dmabuf *buf, struct dmabuf_attachment *att)
{
	atomic64_inc(&demo_stats.detached);
}

static struct sg_table *demo_map(struct dmabuf_attachment *att,
				 enum dma_data_direction dir)
{
	struct demo_buffer *db = att->buf->priv;
	struct sg_table *sgt;
	int ret;

	ret = demo_ensure_storage(att->buf);
	if (ret)
		return ERR_PTR(ret);
	sgt = dmabuf_pages_map(&db->pages, att->dev, dir);
	if (!IS_ERR(sgt))
		atomic64_inc(&demo_stats.mapped);
	return sgt;
}

static void demo_unmap(struct dmabuf_attachment *att, struct sg_table *sgt,
		       enum dma_data_direction dir)
{
	dmabuf_pages_unmap(att->dev, sgt, dir);
	atomic64_inc(&demo_stats.unmapped);
}

static int demo_mmap(struct dmabuf *buf, struct vm_area_struct *vma)
{
	struct demo_buffer *db = buf->priv;
	int ret;

	mutex_lock(&buf->lock);
	ret = demo_ensure_storage(buf);
	if (!ret)
		ret = dmabuf_pages_mmap(&db->pages, vma);
	mutex_unlock(&buf->lock);
	return ret;
}

static void demo_release(struct dmabuf *buf)
{
	struct demo_buffer *db = buf->priv;

	dmabuf_pages_free(&db->pages);
	kfree(db);
	atomic64_inc(&demo_stats.released);
}

static const struct dmabuf_ops demo_ops = {
	.attach			= demo_attach,
	.detach			= demo_detach,
	.map			= demo_map,
	.unmap			= demo_unmap,
	.release		= demo_release,
	.mmap			= demo_mmap,
	.begin_cpu_access	= dmabuf_sync_mappings_for_cpu,
	.end_cpu_access		= dmabuf_sync_mappings_for_device,
};

static long demo_ioctl_create(void __user *uarg)
{
	DMABUF_EXPORT_INFO(info);
	struct dmabuf_demo_create req;
	struct demo_buffer *db;
	struct dmabuf *buf;
	int fd, ret;

	if (copy_from_user(&req, uarg, sizeof(req)))
		return -EFAULT;
	if (req.flags || req.reserved || req.fd ||
	    (req.fd_flags & ~(O_ACCMODE | O_CLOEXEC)))
		return -EINVAL;
	if (!req.size || !PAGE_ALIGNED(req.size))
		return -EINVAL;
	if (req.size > (u64)READ_ONCE(max_size_mb) << 20)
		return -ENOMEM;

	db = kzalloc(sizeof(*db), GFP_KERNEL);
	if (!db)
		return -ENOMEM;
	info.ops = &demo_ops;
	info.size = req.size;
	info.flags = req.fd_flags & O_ACCMODE;
	info.priv = db;
	buf = dmabuf_export(&info);
	if (IS_ERR(buf)) {
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
	fd_install(fd, buf->file);
	return 0;

err_put:
	dmabuf_put(buf);	/* releases db */
	return ret;
}

/* The buffer behind @fd, if it is one of ours; drop it with dmabuf_put(). */
static struct dmabuf *demo_get_own(int fd)
{
	struct dmabuf *buf = dmabuf_get(fd);

	if (!IS_ERR(buf) && buf->ops != &demo_ops) {
		dmabuf_put(buf);
		return ERR_PTR(-EINVAL);
	}
	return buf;
}

/* FILL (@verify false) or VERIFY (@verify true) through the CPU. */
static long demo_ioctl_pattern(void __user *uarg, bool verify)
{
	struct dmabuf_demo_pattern req;
	struct demo_buffer *db;
	struct dmabuf *buf;
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
	if (!verify && !(buf->file->f_mode & FMODE_WRITE)) {
		ret = -EACCES;
		goto out_put;
	}

	req.mismatches = 0;
	req.first_mismatch = ~0ULL;
	ret = mutex_lock_interruptible(&buf->lock);
	if (ret)
		goto out_put;
	ret = demo_ensure_storage(buf);
	if (ret)
		goto out_unlock;
	dmabuf_sync_mappings_for_cpu(buf, DMA_BIDIRECTIONAL);
	for (i = 0; i < db->pages.nr_chunks; i++) {
		const struct dmabuf_chunk *c = &db->pages.chunks[i];

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
	dmabuf_sync_mappings_for_device(buf, DMA_BIDIRECTIONAL);
	req.checksum = sum;
out_unlock:
	mutex_unlock(&buf->lock);
	if (!ret && copy_to_user(uarg, &req, sizeof(req)))
		ret = -EFAULT;
out_put:
	dmabuf_put(buf);
	return ret;
}

static long demo_ioctl_storage(void __user *uarg)
{
	struct dmabuf_demo_storage req;
	struct demo_buffer *db;
	struct dmabuf *buf;
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
	mutex_lock(&buf->lock);
	if (db->pages.nr_chunks) {
		req.allocated = 1;
		req.chunks = db->pages.nr_chunks;
		req.lowest_phys = U64_MAX;
		req.highest_phys = dmabuf_pages_highest_phys(&db->pages);
		req.dma_limit = db->dma_limit;
		for (i = 0; i < db->pages.nr_chunks; i++) {
			const struct dmabuf_chunk *c = &db->pages.chunks[i];

			req.lowest_phys = min_t(u64, req.lowest_phys,
						page_to_phys(c->page));
			req.largest_chunk = max_t(u64, req.largest_chunk,
						  PAGE_SIZE << c->order);
			for (p = 0; p < (1U << c->order); p++)
				req.pages_hash = demo_hash_page(req.pages_hash,
								c->page + p);
		}
	}
	mutex_unlock(&buf->lock);
	dmabuf_put(buf);

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
MODULE_IMPORT_NS(DMABUF_CORE_NS);
