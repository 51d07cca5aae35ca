// SPDX-License-Identifier: GPL-2.0-only
/*
 * Buffers of other exporters: any kernel dma-buf (a V4L2 or DRM export, a
 * dma-heap or udmabuf buffer) seen through dmabuf-core's importer API.
 *
 * The wrapper holds one reference on the original dma-buf for as long as
 * it lives, so the original may be closed by userspace first or last.
 * Attach, map and CPU access go straight to the kernel's dma-buf calls
 * (attach.c).  One wrapper per dma-buf: a table maps each imported dma-buf
 * to its wrapper while the wrapper has references, so that two gets of one
 * fd give the same buffer.
 */
#include <linux/dma-buf.h>
#include <linux/err.h>
#include <linux/kref.h>
#include <linux/mutex.h>
#include <linux/rhashtable.h>
#include <linux/slab.h>

#include "internal.h"

/*
 * Imported dma-buf -> wrapper.  A table that grows with its entries: any
 * user who can import buffers decides how many there are, and a lookup
 * must not cost more with each.  Insertions, removals and the lookups
 * that may insert run under dcore_import_lock, so that a lookup and the
 * insertion of what it did not find are one step.
 */
static struct rhashtable dcore_imports;
static DEFINE_MUTEX(dcore_import_lock);

static const struct rhashtable_params dcore_import_params = {
	.key_len		= sizeof(struct dma_buf *),
	.key_offset		= offsetof(struct dcore_buffer, pub.dmabuf),
	.head_offset		= offsetof(struct dcore_buffer, hash),
	.automatic_shrinking	= true,
};

int dcore_import_init(void)
{
	return rhashtable_init(&dcore_imports, &dcore_import_params);
}

void dcore_import_exit(void)
{
	rhashtable_destroy(&dcore_imports);
}

static struct dcore_buffer *dcore_import_find(struct dma_buf *dmabuf)
{
	struct dcore_buffer *b;

	lockdep_assert_held(&dcore_import_lock);
	b = rhashtable_lookup_fast(&dcore_imports, &dmabuf, dcore_import_params);
	return b && kref_get_unless_zero(&b->ref) ? b : NULL;
}

/* Consumes the caller's reference on @dmabuf, on success and on failure. */
struct dmabuf_core_buffer *dcore_import(struct dma_buf *dmabuf)
{
	struct dcore_buffer *b;
	int ret;

	mutex_lock(&dcore_import_lock);
	b = dcore_import_find(dmabuf);
	if (b) {
		mutex_unlock(&dcore_import_lock);
		dma_buf_put(dmabuf);	/* the wrapper holds one already */
		return &b->pub;
	}

	b = kzalloc(sizeof(*b), DCORE_GFP_RECORD);
	if (!b) {
		mutex_unlock(&dcore_import_lock);
		dma_buf_put(dmabuf);
		return ERR_PTR(-ENOMEM);
	}
	b->pub.dmabuf = dmabuf;
	b->pub.size = dmabuf->size;
	b->exp_name = dmabuf->exp_name ?: "unknown";
	b->imported = true;
	kref_init(&b->ref);
	dcore_buffer_lock_init(b);
	ret = rhashtable_insert_fast(&dcore_imports, &b->hash, dcore_import_params);
	mutex_unlock(&dcore_import_lock);
	if (ret) {
		mutex_destroy(&b->lock);
		kfree(b);
		dma_buf_put(dmabuf);
		return ERR_PTR(ret);
	}
	return &b->pub;
}

void dcore_import_get(struct dcore_buffer *b)
{
	kref_get(&b->ref);
}

/* The last reference went: unlist, under the table's lock. */
static void dcore_import_unhash(struct kref *ref)
{
	struct dcore_buffer *b = container_of(ref, struct dcore_buffer, ref);

	lockdep_assert_held(&dcore_import_lock);
	rhashtable_remove_fast(&dcore_imports, &b->hash, dcore_import_params);
}

void dcore_import_put(struct dcore_buffer *b)
{
	bool released;

	mutex_lock(&dcore_import_lock);
	released = kref_put(&b->ref, dcore_import_unhash);
	mutex_unlock(&dcore_import_lock);
	if (!released)
		return;
	dma_buf_put(b->pub.dmabuf);
	mutex_destroy(&b->lock);
	kfree(b);
}
