// SPDX-License-Identifier: GPL-2.0-only
/*
 * The importer API: attachments and their mappings, for buffers of ours
 * and for any other kernel dma-buf alike.
 *
 * Attach and detach go through the kernel's dma-buf importer calls, so an
 * attachment made here is a kernel attachment like any driver's (listed in
 * the kernel's debugfs, seen by the exporter's attach hook).  The core
 * remembers every table it handed out, on the attachment it was mapped
 * through, so that an unmap of any other table is refused instead of
 * reaching the exporter, and so that a detach can clean up after an
 * importer that forgot to unmap.
 *
 * Maps of another exporter's buffer go through the kernel's
 * dma_buf_map_attachment(), and attach.c keeps their records.  Maps of a
 * buffer of ours go straight to kernel_ops.c, which records every mapping
 * of its buffers, kernel drivers' too: the core is that dma-buf's
 * exporter, so the detour through the kernel would only add its
 * reservation lock, and, with CONFIG_DMABUF_DEBUG on kernels after 6.12
 * (7.3 here), a copy of the table that would need a second record.
 */
#include <linux/device.h>
#include <linux/dma-buf.h>
#include <linux/dma-resv.h>
#include <linux/dma-mapping.h>
#include <linux/err.h>
#include <linux/export.h>
#include <linux/lockdep.h>
#include <linux/scatterlist.h>
#include <linux/slab.h>

#include "../compat.h"
#include "internal.h"

/**
 * dmabuf_core_attach - attach a device to a buffer
 * @buf: the buffer, ours or imported
 * @dev: the device that will access it
 *
 * Tells the exporter that @dev will map the buffer: an exporter that defers
 * allocation takes every attached device's constraints into account at
 * first map.  The attachment holds a reference on @buf and on @dev until
 * dmabuf_core_detach().  Attaching one device twice gives two attachments.
 *
 * Context: process context; may sleep.  Do not hold the dma-buf's
 * reservation lock.
 * Return: the attachment, ERR_PTR(-EINVAL) for a NULL argument,
 * ERR_PTR(-ENOMEM), or the exporter's refusal (e.g. ERR_PTR(-EBUSY) when
 * the storage is already fixed out of @dev's reach).
 */
struct dmabuf_core_attachment *
dmabuf_core_attach(struct dmabuf_core_buffer *buf, struct device *dev)
{
	struct dma_buf_attachment *kattach;
	struct dcore_attachment *a;
	struct dcore_buffer *b;

	if (!buf || !dev)
		return ERR_PTR(-EINVAL);
	b = to_dcore_buffer(buf);

	if (b->imported) {
		a = kzalloc(sizeof(*a), DCORE_GFP_RECORD);
		if (!a)
			return ERR_PTR(-ENOMEM);
		kattach = dma_buf_attach(buf->dmabuf, dev);
		if (IS_ERR(kattach)) {
			kfree(a);
			return ERR_CAST(kattach);
		}
		a->pub.buf = buf;
		a->pub.dev = dev;
		a->kattach = kattach;
		INIT_LIST_HEAD(&a->mappings);
		INIT_LIST_HEAD(&a->importer_maps);
		dcore_import_get(b);
	} else {
		/* Our dma_buf_ops made the attachment; it is in kattach->priv. */
		kattach = dma_buf_attach(buf->dmabuf, dev);
		if (IS_ERR(kattach))
			return ERR_CAST(kattach);
		a = kattach->priv;
		/* dmabuf_core_ref() without the call: a file reference. */
		get_dma_buf(buf->dmabuf);
	}
	a->core_api = true;
	get_device(dev);
	return &a->pub;
}
EXPORT_SYMBOL_NS_GPL(dmabuf_core_attach, DMABUF_CORE_NS);

/*
 * dmabuf_core_attach(), then what the importer declared and how it is told
 * of moves, set before the importer has the attachment to map.
 */
static struct dmabuf_core_attachment *
dcore_attach_declared(struct dmabuf_core_buffer *buf, struct device *dev,
		      const struct dmabuf_core_constraints *c,
		      const struct dmabuf_core_importer_ops *ops,
		      void *importer_priv)
{
	struct dmabuf_core_attachment *att;
	struct dcore_attachment *a;
	struct dcore_buffer *b;

	if (!buf || (c && !dcore_constraints_valid(c)))
		return ERR_PTR(-EINVAL);
	att = dmabuf_core_attach(buf, dev);
	if (IS_ERR(att))
		return att;
	a = to_dcore_attachment(att);
	b = to_dcore_buffer(buf);
	mutex_lock(&b->lock);
	if (c)
		a->declared = *c;
	/* Another exporter's buffer: the kernel pins it while it is mapped. */
	if (!b->imported)
		a->importer_ops = ops;
	att->importer_priv = importer_priv;
	mutex_unlock(&b->lock);
	return att;
}

/**
 * dmabuf_core_attach_constrained - attach a device that needs more than
 *	struct device says
 * @buf: the buffer, ours or imported
 * @dev: the device that will access it
 * @c: what the device needs: the most segments it takes, an alignment
 *
 * dmabuf_core_attach(), and the exporters of dmabuf-core place the
 * buffer's storage to meet @c as well, together with every other
 * attachment's needs; a /dev/dmabuf or /dev/dmabuf-contig buffer whose
 * storage does not meet them moves at the next map.  Whoever the exporter,
 * dmabuf_core_map_attachment() never returns a table that breaks @c: it
 * fails with -EBUSY instead.
 *
 * Context: process context; may sleep.  Do not hold the dma-buf's
 * reservation lock.
 * Return: as dmabuf_core_attach(); ERR_PTR(-EINVAL) also for a NULL @c,
 * or an alignment that is not a power of two or is larger than the page
 * allocator's largest block.
 */
struct dmabuf_core_attachment *
dmabuf_core_attach_constrained(struct dmabuf_core_buffer *buf,
			       struct device *dev,
			       const struct dmabuf_core_constraints *c)
{
	if (!c)
		return ERR_PTR(-EINVAL);
	return dcore_attach_declared(buf, dev, c, NULL, NULL);
}
EXPORT_SYMBOL_NS_GPL(dmabuf_core_attach_constrained, DMABUF_CORE_NS);

/**
 * dmabuf_core_attach_dynamic - attach a device whose mappings can be taken
 *	back
 * @buf: the buffer, ours or imported
 * @dev: the device that will access it
 * @c: what the device needs (see dmabuf_core_attach_constrained()), or
 *	NULL for nothing beyond struct device
 * @ops: how the importer is told that its mappings are taken back;
 *	&dmabuf_core_importer_ops.invalidate is required
 * @importer_priv: stored in &dmabuf_core_attachment.importer_priv before
 *	anything can call @ops
 *
 * The mappings of an attachment made with dmabuf_core_attach() pin the
 * buffer's storage: a device that attaches later and cannot reach it is
 * refused with -EBUSY.  The mappings of this attachment do not: when the
 * storage of a buffer of ours has to move, the importer is told with
 * &dmabuf_core_importer_ops.invalidate, the core unmaps its tables, and
 * the storage moves.  This is the RFC's "migration only when unmapped",
 * done as a protocol, for importers that can give a mapping up between
 * two uses of the device.
 *
 * The attachment has one mapping at a time: a second map while one is
 * live fails with -EBUSY.  An invalidation may come between
 * dmabuf_core_map_attachment() returning a table and the importer
 * recording it, and the table may then be freed already: do not look at
 * it before checking.  So count invalidations in the callback, read the
 * count before mapping, and compare after recording: when it changed,
 * unmap the new table (-EINVAL then means it was taken back already,
 * which is fine) and map again.  With one mapping at a time, no other
 * table of the attachment can have the stale table's address meanwhile.
 *
 * Another exporter's buffer is pinned by the kernel while it is mapped,
 * the kernel's dynamic importers aside (Debian's kernels have no
 * CONFIG_DMABUF_MOVE_NOTIFY): @ops is then never called.
 *
 * Context: process context; may sleep.  Do not hold the dma-buf's
 * reservation lock.
 * Return: as dmabuf_core_attach(); ERR_PTR(-EINVAL) also without @ops
 * or its invalidate, or for a @c that dmabuf_core_attach_constrained()
 * refuses.
 */
struct dmabuf_core_attachment *
dmabuf_core_attach_dynamic(struct dmabuf_core_buffer *buf, struct device *dev,
			   const struct dmabuf_core_constraints *c,
			   const struct dmabuf_core_importer_ops *ops,
			   void *importer_priv)
{
	if (!ops || !ops->invalidate)
		return ERR_PTR(-EINVAL);
	return dcore_attach_declared(buf, dev, c, ops, importer_priv);
}
EXPORT_SYMBOL_NS_GPL(dmabuf_core_attach_dynamic, DMABUF_CORE_NS);

/**
 * dmabuf_core_detach - detach a device from a buffer
 * @buf: the buffer
 * @att: an attachment dmabuf_core_attach() returned for @buf
 *
 * Mappings still alive on @att are unmapped first (with a warning in the
 * log: that is an importer bug).  Drops the attachment's references on the
 * buffer and the device, which may release the buffer.
 *
 * Context: process context; may sleep.
 */
void dmabuf_core_detach(struct dmabuf_core_buffer *buf,
			struct dmabuf_core_attachment *att)
{
	struct dcore_attachment *a;
	struct dcore_buffer *b;
	struct dcore_mapping *m, *next;
	struct device *dev;
	LIST_HEAD(left);

	if (!buf || IS_ERR_OR_NULL(att))
		return;
	a = to_dcore_attachment(att);
	if (WARN_ON(att->buf != buf || !a->core_api))
		return;
	b = to_dcore_buffer(buf);
	dev = att->dev;

	/* A buffer of ours: kernel_ops.c unmaps what is left, at detach. */
	if (b->imported) {
		mutex_lock(&b->lock);
		list_splice_init(&a->importer_maps, &left);
		mutex_unlock(&b->lock);
	}
	list_for_each_entry_safe(m, next, &left, node) {
		dev_warn(dev, "dmabuf-core buffer %llu detached while mapped\n",
			 buf->id);
		dma_buf_unmap_attachment_unlocked(a->kattach, m->sgt, m->dir);
		kfree(m);
	}

	/* For a buffer of ours this frees @a (kernel_ops.c). */
	dma_buf_detach(buf->dmabuf, a->kattach);
	put_device(dev);
	/* dmabuf_core_put() without the call; this may release the buffer. */
	if (b->imported) {
		kfree(a);
		dcore_import_put(b);
	} else {
		dma_buf_put(buf->dmabuf);
	}
}
EXPORT_SYMBOL_NS_GPL(dmabuf_core_detach, DMABUF_CORE_NS);

/**
 * dmabuf_core_map_attachment - get the buffer's sg table mapped for a device
 * @att: the attachment of that device
 * @dir: DMA_BIDIRECTIONAL, DMA_TO_DEVICE or DMA_FROM_DEVICE
 *
 * The table covers the whole buffer and is already DMA-mapped for
 * &dmabuf_core_attachment.dev: use sg_dma_address() and sg_dma_len() of its
 * DMA segments, never its pages (which belong to the exporter, and which
 * the kernel scrambles with CONFIG_DMABUF_DEBUG in tables of other
 * exporters' buffers).  Give it back with
 * dmabuf_core_unmap_attachment() and the same @dir.  An exporter that
 * deferred allocation allocates here.  The buffer's kernel fences (an
 * exporter moving its storage) are waited for before the table is
 * returned, as the kernel's dma_buf_map_attachment() does.
 *
 * Context: process context; may sleep.  Do not hold the dma-buf's
 * reservation lock.
 * Return: the table, ERR_PTR(-EINVAL) for a bad attachment or direction,
 * ERR_PTR(-EACCES) for a direction that lets the device write a buffer of
 * ours exported without write access, ERR_PTR(-EBUSY) for a table that
 * would break what dmabuf_core_attach_constrained() or
 * dmabuf_core_attach_dynamic() declared, or for a second mapping of a
 * dynamic attachment, or the exporter's error (-ENOMEM, -EINTR,
 * -ERESTARTSYS, -EBUSY...).
 *
 * Like the kernel's, this must not race dmabuf_core_detach() of the same
 * attachment; mapping and unmapping from several threads is fine.
 */
struct sg_table *
dmabuf_core_map_attachment(struct dmabuf_core_attachment *att,
			   enum dma_data_direction dir)
{
	struct dcore_attachment *a;
	struct dcore_buffer *b;
	struct dcore_mapping *m;
	struct sg_table *sgt;

	if (IS_ERR_OR_NULL(att) || !att->buf)
		return ERR_PTR(-EINVAL);
	a = to_dcore_attachment(att);
	if (!a->core_api || !valid_dma_direction(dir))
		return ERR_PTR(-EINVAL);
	b = to_dcore_buffer(att->buf);
	/* dcore_map_record() checks the declaration. */
	if (!b->imported)
		return dcore_own_map(a, dir);

	m = kzalloc(sizeof(*m), DCORE_GFP_RECORD);
	if (!m)
		return ERR_PTR(-ENOMEM);
	sgt = dma_buf_map_attachment_unlocked(a->kattach, dir);
	if (IS_ERR_OR_NULL(sgt)) {
		kfree(m);
		return sgt ? sgt : ERR_PTR(-ENOMEM);
	}
	/* Another exporter knows nothing of the declaration: check it. */
	if (!dcore_table_meets(a, sgt)) {
		dma_buf_unmap_attachment_unlocked(a->kattach, sgt, dir);
		kfree(m);
		return ERR_PTR(-EBUSY);
	}
	m->sgt = sgt;
	m->dir = dir;
	mutex_lock(&b->lock);
	list_add_tail(&m->node, &a->importer_maps);
	mutex_unlock(&b->lock);
	return sgt;
}
EXPORT_SYMBOL_NS_GPL(dmabuf_core_map_attachment, DMABUF_CORE_NS);

/**
 * dmabuf_core_unmap_attachment - give back a table the map call returned
 * @att: the attachment it was mapped through
 * @sgt: the table
 * @dir: the direction it was mapped with
 *
 * A table that is not a live mapping of @att, or a different direction, is
 * refused and nothing changes.
 *
 * Context: process context; may sleep.  Do not hold the dma-buf's
 * reservation lock.
 * Return: 0, or -EINVAL.
 */
int dmabuf_core_unmap_attachment(struct dmabuf_core_attachment *att,
				 struct sg_table *sgt,
				 enum dma_data_direction dir)
{
	struct dcore_mapping *m, *found = NULL;
	struct dcore_attachment *a;
	struct dcore_buffer *b;

	if (IS_ERR_OR_NULL(att) || !att->buf || IS_ERR_OR_NULL(sgt))
		return -EINVAL;
	a = to_dcore_attachment(att);
	if (!a->core_api)
		return -EINVAL;
	b = to_dcore_buffer(att->buf);
	if (!b->imported)
		return dcore_own_unmap(a, sgt, dir);

	mutex_lock(&b->lock);
	list_for_each_entry(m, &a->importer_maps, node) {
		if (m->sgt != sgt)
			continue;
		if (m->dir == dir) {
			list_del(&m->node);
			found = m;
		}
		break;
	}
	mutex_unlock(&b->lock);
	if (!found)
		return -EINVAL;
	dma_buf_unmap_attachment_unlocked(a->kattach, sgt, dir);
	kfree(found);
	return 0;
}
EXPORT_SYMBOL_NS_GPL(dmabuf_core_unmap_attachment, DMABUF_CORE_NS);

/**
 * dmabuf_core_begin_cpu_access - prepare a buffer for kernel CPU access
 * @buf: the buffer, ours or imported
 * @dir: the direction of the access
 *
 * Waits for the buffer's fences (implicit synchronisation: writes a device
 * still has queued, and for a CPU write also reads) and lets the exporter
 * make its memory coherent for the CPU.  Bracket the access with
 * dmabuf_core_end_cpu_access().
 *
 * Context: process context; may sleep.
 * Return: 0, -EINTR or -ERESTARTSYS when a signal interrupted the wait, or
 * the exporter's error.
 */
int dmabuf_core_begin_cpu_access(struct dmabuf_core_buffer *buf,
				 enum dma_data_direction dir)
{
	if (!buf || !valid_dma_direction(dir))
		return -EINVAL;
	return dma_buf_begin_cpu_access(buf->dmabuf, dir);
}
EXPORT_SYMBOL_NS_GPL(dmabuf_core_begin_cpu_access, DMABUF_CORE_NS);

/**
 * dmabuf_core_end_cpu_access - end kernel CPU access to a buffer
 * @buf: the buffer
 * @dir: the direction given to dmabuf_core_begin_cpu_access()
 *
 * Context: process context; may sleep.
 * Return: 0 or the exporter's error.
 */
int dmabuf_core_end_cpu_access(struct dmabuf_core_buffer *buf,
			       enum dma_data_direction dir)
{
	if (!buf || !valid_dma_direction(dir))
		return -EINVAL;
	return dma_buf_end_cpu_access(buf->dmabuf, dir);
}
EXPORT_SYMBOL_NS_GPL(dmabuf_core_end_cpu_access, DMABUF_CORE_NS);

/**
 * dmabuf_core_wait_fences - wait for the devices a buffer's fences stand for
 * @buf: the buffer, ours or imported
 * @write: the caller will write (wait for readers too), not only read
 *	(wait for writers)
 * @intr: whether a signal may interrupt the wait
 *
 * Implicit synchronisation for a dmabuf-core importer: call it before the
 * device accesses the buffer, as a kernel driver waits on the dma-buf's
 * reservation object.  The fences are those kernel drivers (a GPU, a
 * codec) attached for their pending work on the buffer.
 *
 * Context: process context; may sleep.  Do not hold the dma-buf's
 * reservation lock.
 * Return: 0, -ERESTARTSYS when interrupted, or -EINVAL.
 */
int dmabuf_core_wait_fences(struct dmabuf_core_buffer *buf, bool write,
			    bool intr)
{
	long ret;

	if (!buf)
		return -EINVAL;
	ret = dma_resv_wait_timeout(buf->dmabuf->resv, dma_resv_usage_rw(write),
				    intr, MAX_SCHEDULE_TIMEOUT);
	return ret < 0 ? ret : 0;
}
EXPORT_SYMBOL_NS_GPL(dmabuf_core_wait_fences, DMABUF_CORE_NS);

/**
 * dmabuf_core_vmap - map a whole buffer into kernel address space
 * @buf: the buffer, ours or imported
 * @map: set to the mapping
 *
 * Nested calls share one mapping, also with kernel drivers' dma_buf_vmap()
 * of the same buffer; each needs its dmabuf_core_vunmap().  For buffers of
 * ours the exporter's failure comes back as an error, without the WARN
 * the kernel's dma_buf_vmap() gives it, and read-only buffers are mapped
 * too: do not write through the mapping unless dmabuf_core_is_writable().
 * For an imported buffer this is the kernel's dma_buf_vmap(), which WARNs
 * when that exporter's vmap fails: do not call it on a path a user can
 * drive with another exporter's buffer.  Bracket CPU access with
 * dmabuf_core_begin_cpu_access() and dmabuf_core_end_cpu_access().
 *
 * Context: process context; may sleep.  Do not hold the dma-buf's
 * reservation lock.
 * Return: 0, -EINVAL when the exporter has no kernel mapping, or its error
 * (-ENOMEM...).
 */
int dmabuf_core_vmap(struct dmabuf_core_buffer *buf, struct iosys_map *map)
{
	struct dcore_buffer *b;

	if (!buf || !map)
		return -EINVAL;
	b = to_dcore_buffer(buf);
	if (b->imported)
		return dcore_dma_buf_vmap(buf->dmabuf, map);
	/* Not through dma_buf_vmap(), which WARNs when the exporter fails. */
	if (!buf->ops->vmap)
		return -EINVAL;
	return dcore_vmap_get(b, map);
}
EXPORT_SYMBOL_NS_GPL(dmabuf_core_vmap, DMABUF_CORE_NS);

/**
 * dmabuf_core_vunmap - undo dmabuf_core_vmap()
 * @buf: the buffer
 * @map: what dmabuf_core_vmap() set
 *
 * Context: process context; may sleep.
 */
void dmabuf_core_vunmap(struct dmabuf_core_buffer *buf, struct iosys_map *map)
{
	if (!buf || !map)
		return;
	if (to_dcore_buffer(buf)->imported)
		dcore_dma_buf_vunmap(buf->dmabuf, map);
	else
		dcore_vmap_put(to_dcore_buffer(buf));
}
EXPORT_SYMBOL_NS_GPL(dmabuf_core_vunmap, DMABUF_CORE_NS);

/**
 * dmabuf_core_attachment_list - the list of a buffer's attachments
 * @buf: a buffer of ours; its lock must be held
 *
 * Use dmabuf_core_for_each_attachment() rather than this.
 *
 * Return: the head of the list of &dmabuf_core_attachment.node.
 */
struct list_head *dmabuf_core_attachment_list(struct dmabuf_core_buffer *buf)
{
	struct dcore_buffer *b = to_dcore_buffer(buf);

	lockdep_assert_held(&b->lock);
	return &b->attachments;
}
EXPORT_SYMBOL_NS_GPL(dmabuf_core_attachment_list, DMABUF_CORE_NS);

/*
 * Per DMA segment, not per page: on 6.1 and 6.12 with CONFIG_DMABUF_DEBUG
 * the kernel scrambles the page links of a table while it is mapped.
 */
static void dcore_sync_mappings(struct dmabuf_core_buffer *buf, bool for_cpu)
{
	struct dcore_buffer *b = to_dcore_buffer(buf);
	struct dcore_attachment *a;
	struct dcore_mapping *m;
	struct scatterlist *sg;
	unsigned int i;

	lockdep_assert_held(&b->lock);
	list_for_each_entry(a, &b->attachments, pub.node) {
		list_for_each_entry(m, &a->mappings, node) {
			for_each_sgtable_dma_sg(m->sgt, sg, i) {
				if (for_cpu)
					dma_sync_single_for_cpu(a->pub.dev,
								sg_dma_address(sg),
								sg_dma_len(sg),
								m->dir);
				else
					dma_sync_single_for_device(a->pub.dev,
								   sg_dma_address(sg),
								   sg_dma_len(sg),
								   m->dir);
			}
		}
	}
}

/**
 * dmabuf_core_sync_mappings_for_cpu - hand every live mapping to the CPU
 * @buf: a buffer of ours; its lock must be held
 * @dir: unused: each mapping is synced in the direction it was mapped with
 *
 * For exporters of ordinary memory: fits &dmabuf_core_ops.begin_cpu_access
 * as is.  Covers the mappings of every importer, kernel drivers' too.
 *
 * Return: 0.
 */
int dmabuf_core_sync_mappings_for_cpu(struct dmabuf_core_buffer *buf,
				      enum dma_data_direction dir)
{
	dcore_sync_mappings(buf, true);
	return 0;
}
EXPORT_SYMBOL_NS_GPL(dmabuf_core_sync_mappings_for_cpu, DMABUF_CORE_NS);

/**
 * dmabuf_core_sync_mappings_for_device - hand every live mapping to devices
 * @buf: a buffer of ours; its lock must be held
 * @dir: unused: each mapping is synced in the direction it was mapped with
 *
 * For exporters of ordinary memory: fits &dmabuf_core_ops.end_cpu_access
 * as is.
 *
 * Return: 0.
 */
int dmabuf_core_sync_mappings_for_device(struct dmabuf_core_buffer *buf,
					 enum dma_data_direction dir)
{
	dcore_sync_mappings(buf, false);
	return 0;
}
EXPORT_SYMBOL_NS_GPL(dmabuf_core_sync_mappings_for_device, DMABUF_CORE_NS);
