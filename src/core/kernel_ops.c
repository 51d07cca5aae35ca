// SPDX-License-Identifier: GPL-2.0-only
/*
 * The kernel's view of a buffer of ours: the dma_buf_ops of every dma-buf
 * dmabuf-core exports.  Whoever attaches, maps or accesses one of our
 * buffers, a kernel driver through dma_buf_attach() or a dmabuf-core
 * importer through dmabuf_core_attach(), arrives here, and the exporter's
 * &dmabuf_core_ops see one kind of attachment for all of them.
 *
 * Locking (Documentation/driver-api/dma-buf.rst, "locking convention"):
 * the kernel calls attach, detach, begin/end_cpu_access, mmap and release
 * without the reservation lock, and map_dma_buf/unmap_dma_buf and
 * vmap/vunmap with it held (on 6.1 only when the importer chose to, and
 * vmap under the dma-buf's own mutex instead).  These callbacks never take
 * the reservation lock; they take the buffer's lock inside it.
 */
#include <linux/device.h>
#include <linux/dma-buf.h>
#include <linux/dma-mapping.h>
#include <linux/dma-resv.h>
#include <linux/err.h>
#include <linux/fs.h>
#include <linux/lockdep.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/scatterlist.h>
#include <linux/slab.h>

#include "../compat.h"
#include "internal.h"
#include "dcore_trace.h"

static struct dcore_buffer *dcore_of(struct dma_buf *dmabuf)
{
	return dmabuf->priv;
}

static int dcore_op_attach(struct dma_buf *dmabuf,
			   struct dma_buf_attachment *kattach)
{
	struct dcore_buffer *b = dcore_of(dmabuf);
	struct dcore_attachment *a;
	int ret = 0;

	a = kzalloc(sizeof(*a), DCORE_GFP_RECORD);
	if (!a)
		return -ENOMEM;
	a->pub.buf = &b->pub;
	a->pub.dev = kattach->dev;
	a->kattach = kattach;
	INIT_LIST_HEAD(&a->mappings);
	INIT_LIST_HEAD(&a->importer_maps);

	mutex_lock(&b->lock);
	if (b->pub.ops->attach)
		ret = b->pub.ops->attach(&b->pub, &a->pub);
	trace_dmabuf_core_attach(b->pub.id, a->pub.dev, ret);
	if (!ret) {
		list_add_tail(&a->pub.node, &b->attachments);
		WRITE_ONCE(b->nr_attachments, b->nr_attachments + 1);
	}
	mutex_unlock(&b->lock);
	if (ret) {
		kfree(a);
		return ret;
	}
	kattach->priv = a;
	return 0;
}

/*
 * Inline, as dcore_map_record() and dcore_unmap_record() below: they are
 * the whole of a map or unmap beside the exporter's, and a call level each
 * was measurable against the kernel's own map and unmap.
 */
static inline void dcore_unmap_locked(struct dcore_attachment *a,
				      struct dcore_mapping *m)
{
	struct dcore_buffer *b = to_dcore_buffer(a->pub.buf);

	lockdep_assert_held(&b->lock);
	list_del(&m->node);
	WRITE_ONCE(b->nr_mappings, b->nr_mappings - 1);
	b->pub.ops->unmap(&a->pub, m->sgt, m->dir);
	trace_dmabuf_core_unmap(b->pub.id, a->pub.dev, m->dir);
	if (m == &a->first_map)
		m->sgt = NULL;
	else
		kfree(m);
}

static void dcore_op_detach(struct dma_buf *dmabuf,
			    struct dma_buf_attachment *kattach)
{
	struct dcore_buffer *b = dcore_of(dmabuf);
	struct dcore_attachment *a = kattach->priv;
	struct dcore_mapping *m, *next;
	int leftover = 0;

	mutex_lock(&b->lock);
	/* A driver that detaches a mapped attachment: clean up after it. */
	list_for_each_entry_safe(m, next, &a->mappings, node) {
		dev_warn(a->pub.dev, "dmabuf-core buffer %llu detached while mapped\n",
			 b->pub.id);
		dcore_unmap_locked(a, m);
		leftover++;
	}
	list_del(&a->pub.node);
	WRITE_ONCE(b->nr_attachments, b->nr_attachments - 1);
	if (b->pub.ops->detach)
		b->pub.ops->detach(&b->pub, &a->pub);
	trace_dmabuf_core_detach(b->pub.id, a->pub.dev, leftover);
	mutex_unlock(&b->lock);
	kattach->priv = NULL;
	kfree(a);
}

/*
 * Map @a through the exporter and record the table on the attachment, for
 * the kernel's map_dma_buf and for dmabuf_core_map_attachment() alike.
 */
static __always_inline struct sg_table *
dcore_map_record(struct dcore_attachment *a, enum dma_data_direction dir)
{
	struct dcore_buffer *b = to_dcore_buffer(a->pub.buf);
	struct dcore_mapping *m;
	struct sg_table *sgt;
	int ret;

	if (!valid_dma_direction(dir))
		return ERR_PTR(-EINVAL);
	/*
	 * A read-only buffer of ours is read-only for devices too, whoever
	 * maps it: a deliberate difference from the kernel's dma-buf core,
	 * which leaves that to each exporter.
	 */
	if (dir != DMA_TO_DEVICE && !dcore_writable(b->pub.dmabuf))
		return ERR_PTR(-EACCES);

	ret = mutex_lock_interruptible(&b->lock);
	if (ret)
		return ERR_PTR(ret);
	/* One mapping at a time through a dynamic attachment: see there. */
	if (a->importer_ops && !list_empty(&a->mappings)) {
		ret = -EBUSY;
		goto err_unlock;
	}
	m = a->first_map.sgt ? kzalloc(sizeof(*m), DCORE_GFP_RECORD) :
			       &a->first_map;
	if (!m) {
		ret = -ENOMEM;
		goto err_unlock;
	}
	sgt = b->pub.ops->map(&a->pub, dir);
	if (IS_ERR_OR_NULL(sgt)) {
		ret = sgt ? PTR_ERR(sgt) : -ENOMEM;
		trace_dmabuf_core_map(b->pub.id, a->pub.dev, dir, 0, ret);
		goto err_free;
	}
	/*
	 * An exporter that could not meet the importer's declaration.  Under
	 * the lock: once it is dropped, a move may take the table back.
	 */
	if (!dcore_table_meets(a, sgt)) {
		b->pub.ops->unmap(&a->pub, sgt, dir);
		ret = -EBUSY;
		trace_dmabuf_core_map(b->pub.id, a->pub.dev, dir, 0, ret);
		goto err_free;
	}
	trace_dmabuf_core_map(b->pub.id, a->pub.dev, dir, sgt->nents, 0);
	m->sgt = sgt;
	m->dir = dir;
	list_add_tail(&m->node, &a->mappings);
	WRITE_ONCE(b->nr_mappings, b->nr_mappings + 1);
	mutex_unlock(&b->lock);
	return sgt;

err_free:
	if (m != &a->first_map)
		kfree(m);
err_unlock:
	mutex_unlock(&b->lock);
	return ERR_PTR(ret);
}

static struct sg_table *dcore_op_map(struct dma_buf_attachment *kattach,
				     enum dma_data_direction dir)
{
	return dcore_map_record(kattach->priv, dir);
}

/*
 * Unmap the live mapping of @a whose table is @sgt, when its direction is
 * @dir (any direction when @any_dir).  Return: 0, or -EINVAL when there is
 * no such mapping.
 */
static inline int dcore_unmap_record(struct dcore_attachment *a,
				     struct sg_table *sgt,
				     enum dma_data_direction dir, bool any_dir)
{
	struct dcore_buffer *b = to_dcore_buffer(a->pub.buf);
	struct dcore_mapping *m;
	int ret = -EINVAL;

	mutex_lock(&b->lock);
	list_for_each_entry(m, &a->mappings, node) {
		if (m->sgt != sgt)
			continue;
		if (any_dir || m->dir == dir) {
			dcore_unmap_locked(a, m);
			ret = 0;
		}
		break;
	}
	mutex_unlock(&b->lock);
	return ret;
}

static void dcore_op_unmap(struct dma_buf_attachment *kattach,
			   struct sg_table *sgt, enum dma_data_direction dir)
{
	/* The kernel hands back only tables this attachment mapped. */
	WARN_ONCE(dcore_unmap_record(kattach->priv, sgt, dir, true),
		  "dmabuf-core: unmap of a table buffer %llu never mapped\n",
		  dcore_of(kattach->dmabuf)->pub.id);
}

/**
 * dcore_own_map - dmabuf_core_map_attachment() of a buffer of ours
 * @a: an attachment dmabuf_core_attach() made
 * @dir: the direction
 *
 * Straight to the exporter under the buffer's lock, without the kernel's
 * dma_buf_map_attachment() and its reservation lock: the core is this
 * buffer's dma-buf exporter, and the table goes to the importer exactly
 * as the exporter made it.  As the kernel does for importers that are not
 * dynamic, the buffer's kernel fences (an exporter moving the storage)
 * are waited for first.
 *
 * Return: the table or an ERR_PTR().
 */
struct sg_table *dcore_own_map(struct dcore_attachment *a,
			       enum dma_data_direction dir)
{
	long ret;

	ret = dma_resv_wait_timeout(a->pub.buf->dmabuf->resv,
				    DMA_RESV_USAGE_KERNEL, true,
				    MAX_SCHEDULE_TIMEOUT);
	if (ret < 0)
		return ERR_PTR(ret);
	return dcore_map_record(a, dir);
}

/**
 * dcore_own_unmap - dmabuf_core_unmap_attachment() of a buffer of ours
 * @a: the attachment
 * @sgt: a table dcore_own_map() returned for it
 * @dir: its direction
 *
 * Return: 0, or -EINVAL for a table that is not a live mapping of @a in
 * direction @dir.
 */
int dcore_own_unmap(struct dcore_attachment *a, struct sg_table *sgt,
		    enum dma_data_direction dir)
{
	return dcore_unmap_record(a, sgt, dir, false);
}

/**
 * dcore_mappings_movable - whether a buffer's storage may move under its
 *	mappings
 * @b: a buffer of ours, its lock held
 *
 * Return: true when no device mapping is live, or every live one was made
 * through an attachment of dmabuf_core_attach_dynamic(), which can be
 * taken back.  A kernel driver's mapping pins the storage: Debian's
 * kernels cannot tell a driver to give it up (no CONFIG_DMABUF_MOVE_NOTIFY).
 */
bool dcore_mappings_movable(struct dcore_buffer *b)
{
	struct dcore_attachment *a;

	lockdep_assert_held(&b->lock);
	if (!b->nr_mappings)
		return true;
	list_for_each_entry(a, &b->attachments, pub.node)
		if (!a->importer_ops && !list_empty(&a->mappings))
			return false;
	return true;
}

/**
 * dcore_revoke_mappings - take back every mapping of a buffer whose storage
 *	moves
 * @b: a buffer of ours, its lock held, for which dcore_mappings_movable()
 *	was true under this hold of the lock
 *
 * Each importer is told first and stops its device; then its tables are
 * unmapped, as the importer would have done.  The next map, which waits
 * for the buffer's lock, finds the new storage.
 */
void dcore_revoke_mappings(struct dcore_buffer *b)
{
	struct dcore_mapping *m, *next;
	struct dcore_attachment *a;
	int revoked;

	lockdep_assert_held(&b->lock);
	list_for_each_entry(a, &b->attachments, pub.node) {
		if (list_empty(&a->mappings))
			continue;
		if (WARN_ON_ONCE(!a->importer_ops))
			continue;
		a->importer_ops->invalidate(&a->pub);
		revoked = 0;
		list_for_each_entry_safe(m, next, &a->mappings, node) {
			dcore_unmap_locked(a, m);
			revoked++;
		}
		trace_dmabuf_core_invalidate(b->pub.id, a->pub.dev, revoked);
	}
}

static void dcore_op_release(struct dma_buf *dmabuf)
{
	struct dcore_buffer *b = dcore_of(dmabuf);
	struct module *owner = b->owner;
	size_t size = b->pub.size;

	/* Attachments go before the last reference, so none is left. */
	WARN_ON(!list_empty(&b->attachments));
	mutex_lock(&b->lock);
	if (b->vmap_kept)
		dcore_vmap_put_locked(b);
	mutex_unlock(&b->lock);
	WARN_ON(b->vmaps);
	trace_dmabuf_core_release(b->pub.id, size, b->exp_name);
	b->pub.ops->release(&b->pub);
	mutex_destroy(&b->lock);
	kfree(b);
	dcore_count_release(size);
	/* The kernel drops its reference on this module after we return. */
	module_put(owner);
}

static int dcore_op_mmap(struct dma_buf *dmabuf, struct vm_area_struct *vma)
{
	struct dcore_buffer *b = dcore_of(dmabuf);

	if (!b->pub.ops->mmap)
		return -EINVAL;
	/*
	 * A private copy-on-write view of shared device memory makes no
	 * sense.  VM_MAYSHARE, not VM_SHARED: the kernel clears VM_SHARED
	 * for a shared mapping of a read-only file.  The kernel checked the
	 * range against the size.
	 */
	if (!(vma->vm_flags & VM_MAYSHARE))
		return -EINVAL;
	return b->pub.ops->mmap(&b->pub, vma);
}

static int dcore_cpu_access(struct dma_buf *dmabuf, enum dma_data_direction dir,
			    bool begin)
{
	struct dcore_buffer *b = dcore_of(dmabuf);
	int (*access)(struct dmabuf_core_buffer *buf,
		      enum dma_data_direction dir);
	long ret;

	access = begin ? b->pub.ops->begin_cpu_access :
			 b->pub.ops->end_cpu_access;
	if (!access)
		return 0;
	/*
	 * The kernel waits for the buffer's fences only after this callback:
	 * wait here first, so that the exporter hands the CPU memory no device
	 * still writes (or, for a CPU write, reads).  A CPU write is
	 * DMA_TO_DEVICE (the CPU writes for a device) or DMA_BIDIRECTIONAL,
	 * the kernel's own rule in dma_buf_begin_cpu_access().
	 */
	if (begin) {
		bool write = dir == DMA_TO_DEVICE || dir == DMA_BIDIRECTIONAL;

		ret = dma_resv_wait_timeout(dmabuf->resv,
					    dma_resv_usage_rw(write),
					    true, MAX_SCHEDULE_TIMEOUT);
		if (ret < 0)
			return ret;
	}
	ret = mutex_lock_interruptible(&b->lock);
	if (ret)
		return ret;
	ret = access(&b->pub, dir);
	mutex_unlock(&b->lock);
	return ret;
}

static int dcore_op_begin_cpu_access(struct dma_buf *dmabuf,
				     enum dma_data_direction dir)
{
	return dcore_cpu_access(dmabuf, dir, true);
}

static int dcore_op_end_cpu_access(struct dma_buf *dmabuf,
				   enum dma_data_direction dir)
{
	return dcore_cpu_access(dmabuf, dir, false);
}

/**
 * dcore_vmap_get - a user of an own buffer's kernel mapping
 * @b: the buffer
 * @map: set to the mapping
 *
 * The exporter's vmap runs for the first user only.  Users are the kernel's
 * dma_buf_vmap() (which counts its own nesting), dmabuf_core_vmap(), and
 * the mapping dmabuf_core_offer_vmap() keeps.  The kernel reaches this only
 * through the table dmabuf_core_offer_vmap() installed, after it made the
 * kept mapping: so for the kernel this never calls the exporter and never
 * fails, and its dma_buf_vmap() never WARNs on our account.
 *
 * Return: 0 or the exporter's error.
 */
int dcore_vmap_get(struct dcore_buffer *b, struct iosys_map *map)
{
	int ret;

	/* Not interruptible: the kernel's caller must not see -EINTR. */
	mutex_lock(&b->lock);
	ret = dcore_vmap_get_locked(b, map);
	mutex_unlock(&b->lock);
	return ret;
}

int dcore_vmap_get_locked(struct dcore_buffer *b, struct iosys_map *map)
{
	int ret;

	lockdep_assert_held(&b->lock);
	if (!b->vmaps) {
		ret = b->pub.ops->vmap(&b->pub, &b->vmap);
		if (ret)
			return ret;
	}
	b->vmaps++;
	*map = b->vmap;
	return 0;
}

void dcore_vmap_put_locked(struct dcore_buffer *b)
{
	lockdep_assert_held(&b->lock);
	if (!WARN_ON_ONCE(!b->vmaps) && !--b->vmaps) {
		if (b->pub.ops->vunmap)
			b->pub.ops->vunmap(&b->pub, &b->vmap);
		iosys_map_clear(&b->vmap);
	}
}

/**
 * dcore_vmap_put - a user of the kernel mapping is done
 * @b: the buffer
 */
void dcore_vmap_put(struct dcore_buffer *b)
{
	mutex_lock(&b->lock);
	dcore_vmap_put_locked(b);
	mutex_unlock(&b->lock);
}

static int dcore_op_vmap(struct dma_buf *dmabuf, struct iosys_map *map)
{
	return dcore_vmap_get(dcore_of(dmabuf), map);
}

static void dcore_op_vunmap(struct dma_buf *dmabuf, struct iosys_map *map)
{
	dcore_vmap_put(dcore_of(dmabuf));
}

/*
 * Two tables.  A buffer is exported with the one without vmap, for which
 * the kernel itself answers -EINVAL: every kernel's dma_buf_vmap() WARNs
 * when a vmap callback fails, and an exporter's vmap may fail for want of
 * memory or for a fatal signal, which any user can cause.  The table with
 * vmap replaces it, once and for good, when dmabuf_core_offer_vmap() has
 * made the mapping its vmap hands out; see there.
 */
const struct dma_buf_ops dcore_ops_vmap = {
	.attach			= dcore_op_attach,
	.detach			= dcore_op_detach,
	.map_dma_buf		= dcore_op_map,
	.unmap_dma_buf		= dcore_op_unmap,
	.release		= dcore_op_release,
	.mmap			= dcore_op_mmap,
	.begin_cpu_access	= dcore_op_begin_cpu_access,
	.end_cpu_access		= dcore_op_end_cpu_access,
	.vmap			= dcore_op_vmap,
	.vunmap			= dcore_op_vunmap,
};

const struct dma_buf_ops dcore_ops_no_vmap = {
	.attach			= dcore_op_attach,
	.detach			= dcore_op_detach,
	.map_dma_buf		= dcore_op_map,
	.unmap_dma_buf		= dcore_op_unmap,
	.release		= dcore_op_release,
	.mmap			= dcore_op_mmap,
	.begin_cpu_access	= dcore_op_begin_cpu_access,
	.end_cpu_access		= dcore_op_end_cpu_access,
};

/**
 * dmabuf_core_offer_vmap - let kernel drivers map a buffer of ours
 * @buf: a buffer of the caller's own exporter; its lock must be held (in
 *	a callback, or with dmabuf_core_lock_storage())
 *
 * A buffer offers kernel drivers no kernel mapping at first: their
 * dma_buf_vmap() fails with -EINVAL.  This makes the mapping once, with the
 * exporter's &dmabuf_core_ops.vmap, keeps it until the buffer is released,
 * and only then offers it: every dma_buf_vmap() from then on gets the kept
 * mapping and cannot fail.  An exporter calls it where a failure is its
 * own to report: when its storage is ready (at creation, or when deferred
 * storage is placed).  Calling it again once it succeeded does nothing.
 *
 * A read-only buffer is never offered: a kernel mapping has no direction,
 * and a driver that gets one may write through it (a capture queue of
 * videobuf2-vmalloc does).  Such buffers can still be read through
 * dmabuf_core_vmap(), whose callers must respect dmabuf_core_is_writable().
 *
 * The kept mapping costs kernel address space and page tables for the
 * buffer's whole life, whether or not a driver ever maps it.
 *
 * Return: 0 (also when already offered), -EINVAL when the exporter has no
 * vmap or @buf is imported, -EACCES for a read-only buffer, or the error
 * of the exporter's vmap (the buffer then offers none, and a later call
 * may try again).
 */
int dmabuf_core_offer_vmap(struct dmabuf_core_buffer *buf)
{
	struct dcore_buffer *b = to_dcore_buffer(buf);
	struct iosys_map map;
	int ret;

	if (b->imported || !buf->ops->vmap)
		return -EINVAL;
	lockdep_assert_held(&b->lock);
	if (b->vmap_kept)
		return 0;
	if (!dmabuf_core_is_writable(buf))
		return -EACCES;
	ret = dcore_vmap_get_locked(b, &map);
	if (ret)
		return ret;
	b->vmap_kept = true;
	/*
	 * Seen by dma_buf_vmap() without our lock: a driver that still sees
	 * the old table gets -EINVAL, one that sees this one finds the kept
	 * mapping under the lock.  Never switched back.
	 */
	WRITE_ONCE(buf->dmabuf->ops, &dcore_ops_vmap);
	return 0;
}
EXPORT_SYMBOL_NS_GPL(dmabuf_core_offer_vmap, DMABUF_CORE_NS);
