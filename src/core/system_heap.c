// SPDX-License-Identifier: GPL-2.0-only
/*
 * The exporter behind /dev/dmabuf: zeroed system pages, allocated at once,
 * mappable by any device and by userspace.
 */
#include <linux/fcntl.h>
#include <linux/limits.h>
#include <linux/mm.h>
#include <linux/moduleparam.h>
#include <linux/slab.h>

#include "internal.h"

static unsigned long dmabuf_max_size_mb;
module_param_named(max_size_mb, dmabuf_max_size_mb, ulong, 0644);
MODULE_PARM_DESC(max_size_mb,
		 "Largest /dev/dmabuf buffer in MiB (default 0: half of RAM)");

atomic_long_t dmabuf_system_pages = ATOMIC_LONG_INIT(0);

/* No bounce buffers: a device that cannot reach the pages would see a copy. */
static int system_attach(struct dmabuf *buf, struct dmabuf_attachment *att)
{
	return dmabuf_pages_reachable(buf->priv, att->dev) ? 0 : -EBUSY;
}

static struct sg_table *system_map(struct dmabuf_attachment *att,
				   enum dma_data_direction dir)
{
	return dmabuf_pages_map(att->buf->priv, att->dev, dir);
}

static void system_unmap(struct dmabuf_attachment *att, struct sg_table *sgt,
			 enum dma_data_direction dir)
{
	dmabuf_pages_unmap(att->dev, sgt, dir);
}

static int system_mmap(struct dmabuf *buf, struct vm_area_struct *vma)
{
	return dmabuf_pages_mmap(buf->priv, vma);
}

static void system_release(struct dmabuf *buf)
{
	struct dmabuf_pages *pages = buf->priv;

	atomic_long_sub(pages->nr_pages, &dmabuf_system_pages);
	dmabuf_pages_free(pages);
	kfree(pages);
}

static const struct dmabuf_ops system_ops = {
	.attach			= system_attach,
	.map			= system_map,
	.unmap			= system_unmap,
	.release		= system_release,
	.mmap			= system_mmap,
	.begin_cpu_access	= dmabuf_sync_mappings_for_cpu,
	.end_cpu_access		= dmabuf_sync_mappings_for_device,
};

/* The size cap in bytes: the parameter, never more than half of RAM... */
static u64 system_max_size(void)
{
	u64 ram = (u64)totalram_pages() << PAGE_SHIFT;
	unsigned long mb = READ_ONCE(dmabuf_max_size_mb);

	/* ...unless the administrator asked for more, up to all of it. */
	if (mb)
		return mb < (ram >> 20) ? (u64)mb << 20 : ram;
	return ram / 2;
}

/**
 * dmabuf_system_alloc - a new buffer of zeroed system pages
 * @len: requested size in bytes, rounded up to whole pages
 * @fd_flags: access mode for the buffer's file
 *
 * Context: process context; may sleep.
 * Return: the buffer with one reference, ERR_PTR(-EINVAL) for a size of 0
 * or one whose rounding overflows, ERR_PTR(-ENOMEM) for a size above the
 * cap or when memory runs out, ERR_PTR(-EINTR) when the caller is killed.
 */
struct dmabuf *dmabuf_system_alloc(u64 len, unsigned int fd_flags)
{
	DMABUF_EXPORT_INFO(info);
	struct dmabuf_pages *pages;
	struct dmabuf *buf;
	int ret;

	if (!len || len > U64_MAX - (PAGE_SIZE - 1))
		return ERR_PTR(-EINVAL);
	len = PAGE_ALIGN(len);
	if (len > system_max_size() || len > SIZE_MAX)
		return ERR_PTR(-ENOMEM);

	pages = kzalloc(sizeof(*pages), GFP_KERNEL);
	if (!pages)
		return ERR_PTR(-ENOMEM);
	ret = dmabuf_pages_alloc(pages, len, 0, 0);
	if (ret)
		goto err_free;
	atomic_long_add(pages->nr_pages, &dmabuf_system_pages);

	info.ops = &system_ops;
	info.size = len;
	info.flags = fd_flags & O_ACCMODE;
	info.priv = pages;
	buf = dmabuf_export(&info);
	if (IS_ERR(buf)) {
		ret = PTR_ERR(buf);
		goto err_pages;
	}
	return buf;

err_pages:
	atomic_long_sub(pages->nr_pages, &dmabuf_system_pages);
	dmabuf_pages_free(pages);
err_free:
	kfree(pages);
	return ERR_PTR(ret);
}
