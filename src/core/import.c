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
#include <linux/hashtable.h>
#include <linux/kref.h>
#include <linux/mutex.h>
#include <linux/slab.h>

#include "internal.h"

/* Imported dma-buf -> wrapper; entries and lookups under dcore_import_lock. */
static DEFINE_HASHTABLE(dcore_imports, 7);
static DEFINE_MUTEX(dcore_import_lock);

static struct core_buffer *dcore_import_find(struct dma_buf *dmabuf)
{
	struct core_buffer *b;

	lockdep_assert_held(&dcore_import_lock);
	hash_for_each_possible(dcore_imports, b, hash, (unsigned long)dmabuf)
		if (b->pub.dmabuf == dmabuf && kref_get_unless_zero(&b->ref))
			return b;
	return NULL;
}

/* Consumes the caller's reference on @dmabuf, on success and on failure. */
struct dmabuf_core_buffer *dcore_import(struct dma_buf *dmabuf)
{
	struct core_buffer *b;

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
	hash_add(dcore_imports, &b->hash, (unsigned long)dmabuf);
	mutex_unlock(&dcore_import_lock);
	return &b->pub;
}

void dcore_import_get(struct core_buffer *b)
{
	kref_get(&b->ref);
}

/* The last reference went: unlist, under the table's lock. */
static void dcore_import_unhash(struct kref *ref)
{
	struct core_buffer *b = container_of(ref, struct core_buffer, ref);

	lockdep_assert_held(&dcore_import_lock);
	hash_del(&b->hash);
}

void dcore_import_put(struct core_buffer *b)
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
