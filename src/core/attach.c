// SPDX-License-Identifier: GPL-2.0-only
/*
 * Attachments and their mappings: which devices use a buffer, and the
 * sg tables the exporter mapped for them.
 *
 * The core remembers every table an exporter's map returned, on the
 * attachment it was mapped through, so that an unmap with any other table
 * is refused instead of reaching the exporter, and so that a detach can
 * clean up after an importer that forgot to unmap.
 */
#include <linux/device.h>
#include <linux/dma-mapping.h>
#include <linux/err.h>
#include <linux/export.h>
#include <linux/fs.h>
#include <linux/lockdep.h>
#include <linux/scatterlist.h>
#include <linux/slab.h>

#include "../compat.h"
#include "internal.h"

/**
 * struct dmabuf_mapping - one live mapping of an attachment
 * @node:	entry in &dmabuf_attachment.mappings, under &dmabuf.lock
 * @sgt:	the table the exporter's map returned
 * @dir:	the direction it was mapped for
 */
struct dmabuf_mapping {
	struct list_head node;
	struct sg_table *sgt;
	enum dma_data_direction dir;
};

/**
 * dmabuf_attach - attach a device to a buffer
 * @buf: the buffer
 * @dev: the device that will access it
 *
 * Tells the exporter that @dev will map the buffer: an exporter that defers
 * allocation takes every attached device's constraints into account at
 * first map.  The attachment holds a reference on @buf and on @dev until
 * dmabuf_detach().  Attaching one device twice gives two attachments.
 *
 * Context: process context; may sleep.
 * Return: the attachment, ERR_PTR(-EINVAL) for a NULL argument,
 * ERR_PTR(-ENOMEM), or the exporter's refusal (e.g. ERR_PTR(-EBUSY) when
 * the storage is already fixed out of @dev's reach).
 */
struct dmabuf_attachment *dmabuf_attach(struct dmabuf *buf,
					struct device *dev)
{
	struct dmabuf_attachment *att;
	int ret;

	if (!buf || !dev)
		return ERR_PTR(-EINVAL);

	att = kzalloc(sizeof(*att), GFP_KERNEL);
	if (!att)
		return ERR_PTR(-ENOMEM);
	att->buf = buf;
	att->dev = get_device(dev);
	INIT_LIST_HEAD(&att->mappings);
	dmabuf_ref(buf);

	mutex_lock(&buf->lock);
	if (buf->ops->attach) {
		ret = buf->ops->attach(buf, att);
		if (ret)
			goto err_unlock;
	}
	list_add_tail(&att->node, &buf->attachments);
	buf->nr_attachments++;
	mutex_unlock(&buf->lock);
	return att;

err_unlock:
	mutex_unlock(&buf->lock);
	dmabuf_put(buf);
	put_device(dev);
	kfree(att);
	return ERR_PTR(ret);
}
EXPORT_SYMBOL_NS_GPL(dmabuf_attach, DMABUF_CORE_NS);

static void dmabuf_unmap_locked(struct dmabuf_attachment *att,
				struct dmabuf_mapping *map)
{
	lockdep_assert_held(&att->buf->lock);

	list_del(&map->node);
	att->buf->nr_mappings--;
	att->buf->ops->unmap(att, map->sgt, map->dir);
	kfree(map);
}

/**
 * dmabuf_detach - detach a device from a buffer
 * @buf: the buffer
 * @att: an attachment dmabuf_attach() returned for @buf
 *
 * Mappings still alive on @att are unmapped first (with a warning in the
 * log: that is an importer bug).  Drops the attachment's references on the
 * buffer and the device, which may release the buffer.
 *
 * Context: process context; may sleep.
 */
void dmabuf_detach(struct dmabuf *buf, struct dmabuf_attachment *att)
{
	struct dmabuf_mapping *map, *next;
	struct device *dev;

	if (!buf || IS_ERR_OR_NULL(att))
		return;
	if (WARN_ON(att->buf != buf))
		return;

	mutex_lock(&buf->lock);
	list_for_each_entry_safe(map, next, &att->mappings, node) {
		dev_warn(att->dev, "dmabuf %llu detached while mapped\n",
			 buf->id);
		dmabuf_unmap_locked(att, map);
	}
	list_del(&att->node);
	buf->nr_attachments--;
	if (buf->ops->detach)
		buf->ops->detach(buf, att);
	mutex_unlock(&buf->lock);

	dev = att->dev;
	kfree(att);
	put_device(dev);
	dmabuf_put(buf);
}
EXPORT_SYMBOL_NS_GPL(dmabuf_detach, DMABUF_CORE_NS);

/**
 * dmabuf_map_attachment - get the buffer's sg table mapped for a device
 * @att: the attachment of that device
 * @dir: DMA_BIDIRECTIONAL, DMA_TO_DEVICE or DMA_FROM_DEVICE
 *
 * The table covers the whole buffer and is already DMA-mapped for
 * &dmabuf_attachment.dev: use sg_dma_address() and sg_dma_len() of its DMA
 * segments.  Give it back with dmabuf_unmap_attachment() and the same @dir.
 * An exporter that deferred allocation allocates here.
 *
 * Context: process context; may sleep.
 * Return: the table, ERR_PTR(-EINVAL) for a bad attachment or direction,
 * ERR_PTR(-EACCES) for a direction that lets the device write a buffer
 * exported without write access, ERR_PTR(-EINTR) when a signal interrupted
 * the wait for the buffer's lock, or the exporter's error (-ENOMEM, -EINTR,
 * -ERESTARTSYS...).
 */
struct sg_table *dmabuf_map_attachment(struct dmabuf_attachment *att,
				       enum dma_data_direction dir)
{
	struct dmabuf_mapping *map;
	struct sg_table *sgt;
	struct dmabuf *buf;
	int ret;

	if (IS_ERR_OR_NULL(att) || !att->buf)
		return ERR_PTR(-EINVAL);
	if (!valid_dma_direction(dir))
		return ERR_PTR(-EINVAL);
	buf = att->buf;
	/* A read-only buffer is read-only for devices too. */
	if (dir != DMA_TO_DEVICE && !(buf->file->f_mode & FMODE_WRITE))
		return ERR_PTR(-EACCES);

	map = kzalloc(sizeof(*map), GFP_KERNEL);
	if (!map)
		return ERR_PTR(-ENOMEM);

	ret = mutex_lock_interruptible(&buf->lock);
	if (ret)
		goto err_free;
	sgt = buf->ops->map(att, dir);
	if (IS_ERR_OR_NULL(sgt)) {
		ret = sgt ? PTR_ERR(sgt) : -ENOMEM;
		goto err_unlock;
	}
	map->sgt = sgt;
	map->dir = dir;
	list_add_tail(&map->node, &att->mappings);
	buf->nr_mappings++;
	mutex_unlock(&buf->lock);
	return sgt;

err_unlock:
	mutex_unlock(&buf->lock);
err_free:
	kfree(map);
	return ERR_PTR(ret);
}
EXPORT_SYMBOL_NS_GPL(dmabuf_map_attachment, DMABUF_CORE_NS);

/**
 * dmabuf_unmap_attachment - give back a table dmabuf_map_attachment() returned
 * @att: the attachment it was mapped through
 * @sgt: the table
 * @dir: the direction it was mapped with
 *
 * A table that is not a live mapping of @att, or a different direction, is
 * refused and nothing changes.
 *
 * Context: process context; may sleep.
 * Return: 0, or -EINVAL.
 */
int dmabuf_unmap_attachment(struct dmabuf_attachment *att,
			    struct sg_table *sgt,
			    enum dma_data_direction dir)
{
	struct dmabuf_mapping *map;
	struct dmabuf *buf;
	int ret = -EINVAL;

	if (IS_ERR_OR_NULL(att) || !att->buf || IS_ERR_OR_NULL(sgt))
		return -EINVAL;
	buf = att->buf;

	mutex_lock(&buf->lock);
	list_for_each_entry(map, &att->mappings, node) {
		if (map->sgt != sgt)
			continue;
		if (map->dir == dir) {
			dmabuf_unmap_locked(att, map);
			ret = 0;
		}
		break;
	}
	mutex_unlock(&buf->lock);
	return ret;
}
EXPORT_SYMBOL_NS_GPL(dmabuf_unmap_attachment, DMABUF_CORE_NS);

/**
 * dmabuf_sync_mappings_for_cpu - hand every live mapping over to the CPU
 * @buf: the buffer; &dmabuf.lock must be held
 * @dir: unused: each mapping is synced in the direction it was mapped with
 *
 * For exporters of ordinary memory: fits &dmabuf_ops.begin_cpu_access as is.
 *
 * Return: 0.
 */
int dmabuf_sync_mappings_for_cpu(struct dmabuf *buf,
				 enum dma_data_direction dir)
{
	struct dmabuf_attachment *att;
	struct dmabuf_mapping *map;

	lockdep_assert_held(&buf->lock);
	dmabuf_for_each_attachment(buf, att)
		list_for_each_entry(map, &att->mappings, node)
			dma_sync_sgtable_for_cpu(att->dev, map->sgt, map->dir);
	return 0;
}
EXPORT_SYMBOL_NS_GPL(dmabuf_sync_mappings_for_cpu, DMABUF_CORE_NS);

/**
 * dmabuf_sync_mappings_for_device - hand every live mapping back to devices
 * @buf: the buffer; &dmabuf.lock must be held
 * @dir: unused: each mapping is synced in the direction it was mapped with
 *
 * For exporters of ordinary memory: fits &dmabuf_ops.end_cpu_access as is.
 *
 * Return: 0.
 */
int dmabuf_sync_mappings_for_device(struct dmabuf *buf,
				    enum dma_data_direction dir)
{
	struct dmabuf_attachment *att;
	struct dmabuf_mapping *map;

	lockdep_assert_held(&buf->lock);
	dmabuf_for_each_attachment(buf, att)
		list_for_each_entry(map, &att->mappings, node)
			dma_sync_sgtable_for_device(att->dev, map->sgt,
						    map->dir);
	return 0;
}
EXPORT_SYMBOL_NS_GPL(dmabuf_sync_mappings_for_device, DMABUF_CORE_NS);
