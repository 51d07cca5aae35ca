/* SPDX-License-Identifier: GPL-2.0-only */
/* Declarations shared by the files of dmabuf_core.ko only. */
#ifndef _DMABUF_CORE_INTERNAL_H
#define _DMABUF_CORE_INTERNAL_H

#include <linux/atomic.h>
#include <linux/dma-buf.h>
#include <linux/dma-direction.h>
#include <linux/gfp.h>
#include <linux/iosys-map.h>
#include <linux/kref.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/rhashtable-types.h>
#include <linux/dmabuf_core.h>
#include <linux/dmabuf_core_pages.h>

/*
 * Records a user can keep alive (buffers, attachments, mappings, import
 * wrappers): charged to the memory cgroup of the task that makes them, and
 * refused with -ENOMEM at its limit rather than waking its OOM killer.
 */
#define DCORE_GFP_RECORD	(GFP_KERNEL_ACCOUNT | __GFP_RETRY_MAYFAIL | \
				 __GFP_NOWARN)
struct dmabuf_core_query;
struct mem_cgroup;
struct dmabuf_core_stats;

/**
 * struct dcore_buffer - the core's state of a buffer
 * @pub:	what exporters and importers see
 * @exp_name:	the exporter's name; immutable
 * @owner:	the exporter's module, pinned while the buffer lives (own
 *		buffers only); immutable
 * @imported:	@pub.dmabuf belongs to another exporter; immutable
 * @lock:	the buffer's lock.  Own buffers: protects @attachments,
 *		@nr_attachments, @nr_mappings and every attachment's lists,
 *		and is held across the exporter's attach, detach, map, unmap
 *		and cpu-access callbacks.  Imported buffers: protects the
 *		attachments' &dcore_attachment.importer_maps.  Taken inside
 *		the dma-buf's reservation lock, never around it.
 * @attachments: own buffers: every attachment, of any importer
 *		(&dmabuf_core_attachment.node), under @lock
 * @nr_attachments: length of @attachments, under @lock
 * @nr_mappings: mappings alive on all attachments, under @lock
 * @vmaps:	own buffers: users of @vmap, the kernel's dma_buf_vmap() (it
 *		counts its own nesting, so at most one) and dmabuf_core_vmap()
 *		callers, under @lock
 * @vmap:	own buffers: the exporter's kernel mapping while @vmaps > 0,
 *		under @lock
 * @vmap_kept:	own buffers: dmabuf_core_offer_vmap() made @vmap and holds
 *		one of @vmaps until release; set once, under @lock
 * @moves:	own buffers: times the storage moved (heap_storage.c), under
 *		@lock; read without it for QUERY
 * @ref:	imported buffers: references to this wrapper (an own buffer
 *		counts references on its dma-buf's file instead)
 * @hash:	imported buffers: entry in the import table (keyed by
 *		@pub.dmabuf), under the table's lock
 */
struct dcore_buffer {
	struct dmabuf_core_buffer pub;
	const char *exp_name;
	struct module *owner;
	bool imported;
	struct mutex lock;	/* see @lock above */
	struct list_head attachments;
	unsigned int nr_attachments;
	unsigned int nr_mappings;
	unsigned int vmaps;
	struct iosys_map vmap;
	bool vmap_kept;
	unsigned int moves;
	struct kref ref;
	struct rhash_head hash;
};

/**
 * struct dcore_mapping - one live mapping of an attachment
 * @node:	entry in one of an attachment's lists
 * @sgt:	the table
 * @dir:	the direction it was mapped for
 */
struct dcore_mapping {
	struct list_head node;
	struct sg_table *sgt;
	enum dma_data_direction dir;
};

/**
 * struct dcore_attachment - the core's state of an attachment
 * @pub:	what exporters and importers see
 * @kattach:	the kernel's attachment behind it; immutable
 * @mappings:	own buffers: every live mapping of this attachment (struct
 *		dcore_mapping), made by a kernel driver through the kernel's
 *		dma_buf_map_attachment() or, on attachments of @core_api, by
 *		dmabuf_core_map_attachment() directly, under &dcore_buffer.lock
 * @importer_maps: imported buffers: mappings made with
 *		dmabuf_core_map_attachment() and not yet given back (struct
 *		dcore_mapping), under &dcore_buffer.lock
 * @core_api:	made by dmabuf_core_attach() (not by a kernel driver's
 *		dma_buf_attach()); it then holds a buffer and a device
 *		reference
 * @first_map:	own buffers: the record of one entry of @mappings, free
 *		while its &dcore_mapping.sgt is NULL, so that an attachment
 *		mapped once at a time (the usual importer) needs no
 *		allocation per map; under &dcore_buffer.lock
 * @declared:	what the importer declared with
 *		dmabuf_core_attach_constrained() or
 *		dmabuf_core_attach_dynamic() (all 0: nothing), under
 *		&dcore_buffer.lock
 * @importer_ops: own buffers: set by dmabuf_core_attach_dynamic(): the
 *		mappings of this attachment do not pin the storage, they
 *		are taken back (dcore_revoke_mappings()); NULL otherwise;
 *		under &dcore_buffer.lock
 */
struct dcore_attachment {
	struct dmabuf_core_attachment pub;
	struct dma_buf_attachment *kattach;
	struct list_head mappings;
	struct list_head importer_maps;
	bool core_api;
	struct dcore_mapping first_map;
	struct dmabuf_core_constraints declared;
	const struct dmabuf_core_importer_ops *importer_ops;
};

/*
 * dmabuf_core_is_writable() for the core's own paths, without the call:
 * every map of a buffer of ours asks it.
 */
static inline bool dcore_writable(const struct dma_buf *dmabuf)
{
	return dmabuf->file->f_mode & FMODE_WRITE;
}

static inline struct dcore_buffer *to_dcore_buffer(struct dmabuf_core_buffer *buf)
{
	return container_of(buf, struct dcore_buffer, pub);
}

static inline struct dcore_attachment *
to_dcore_attachment(struct dmabuf_core_attachment *att)
{
	return container_of(att, struct dcore_attachment, pub);
}

/* buffer.c */
void dcore_buffer_lock_init(struct dcore_buffer *b);
void dcore_read_stats(struct dmabuf_core_stats *st);
void dcore_count_release(size_t size);
void dcore_query(struct dma_buf *dmabuf, struct dmabuf_core_query *q);
void dcore_lockdep_prime(void);

/*
 * kernel_ops.c: the kernel's view of a buffer of ours.  A buffer is
 * exported with dcore_ops_no_vmap; dmabuf_core_offer_vmap() switches it to
 * dcore_ops_vmap for good.
 */
extern const struct dma_buf_ops dcore_ops_vmap;
extern const struct dma_buf_ops dcore_ops_no_vmap;

/*
 * Whether @dmabuf is a buffer of ours.  Inline: beside the kernel's
 * dma_buf_get(), this test is all dmabuf_core_get() adds.
 */
static inline bool dcore_is_own_dma_buf(const struct dma_buf *dmabuf)
{
	const struct dma_buf_ops *ops = READ_ONCE(dmabuf->ops);

	return ops == &dcore_ops_no_vmap || ops == &dcore_ops_vmap;
}

int dcore_vmap_get(struct dcore_buffer *b, struct iosys_map *map);
void dcore_vmap_put(struct dcore_buffer *b);
int dcore_vmap_get_locked(struct dcore_buffer *b, struct iosys_map *map);
void dcore_vmap_put_locked(struct dcore_buffer *b);
struct sg_table *dcore_own_map(struct dcore_attachment *a,
			       enum dma_data_direction dir);
int dcore_own_unmap(struct dcore_attachment *a, struct sg_table *sgt,
		    enum dma_data_direction dir);
bool dcore_mappings_movable(struct dcore_buffer *b);
void dcore_revoke_mappings(struct dcore_buffer *b);

/* constraints.c: declared constraints, an administrator's by device name. */
bool dcore_constraints_valid(const struct dmabuf_core_constraints *c);
bool dcore_table_meets(struct dcore_attachment *a, struct sg_table *sgt);
void dcore_constraints_merge(struct dmabuf_core_constraints *c,
			     const struct dmabuf_core_constraints *add);
long dcore_node_constrain(void __user *uarg);
void dcore_constraints_exit(void);

/* import.c: buffers of other exporters. */
struct dmabuf_core_buffer *dcore_import(struct dma_buf *dmabuf);
void dcore_import_put(struct dcore_buffer *b);
void dcore_import_get(struct dcore_buffer *b);
int dcore_import_init(void);
void dcore_import_exit(void);

/**
 * struct dcore_heap_buffer - the exporter's side of a /dev/dmabuf or
 *	/dev/dmabuf-contig buffer
 * @pages:	its storage.  First, so that a buffer's priv is also its
 *		struct dmabuf_core_pages for the library's callbacks
 * @memcg:	the creator's memory cgroup, charged for storage allocated
 *		after ALLOC (placement, moves) whoever triggers it; a
 *		reference held until release (NULL without memcg)
 * @contig:	the storage is one physically contiguous run; immutable
 *
 * Under the buffer's lock: the core holds it in the callbacks, the fault
 * handler takes it with dmabuf_core_lock_storage().
 */
struct dcore_heap_buffer {
	struct dmabuf_core_pages pages;
	struct mem_cgroup *memcg;
	bool contig;
};

/* heap_storage.c: what both heaps do with their storage. */
struct dcore_heap_buffer *dcore_heap_buffer_new(bool contig);
void dcore_heap_buffer_free(struct dcore_heap_buffer *hb);
int dcore_heap_ensure(struct dmabuf_core_buffer *buf);
int dcore_heap_place(struct dmabuf_core_buffer *buf);
int dcore_heap_attach(struct dmabuf_core_buffer *buf,
		      struct dmabuf_core_attachment *att);
struct sg_table *dcore_heap_map(struct dmabuf_core_attachment *att,
				enum dma_data_direction dir);
int dcore_heap_mmap(struct dmabuf_core_buffer *buf,
		    struct vm_area_struct *vma);
void dcore_heap_release(struct dmabuf_core_buffer *buf);

/* system_heap.c: the exporter behind /dev/dmabuf. */
extern atomic_long_t dcore_system_pages;
struct dmabuf_core_buffer *dcore_system_alloc(u64 len, unsigned int fd_flags);

/* contig_heap.c: the exporter behind /dev/dmabuf-contig. */
extern atomic_long_t dcore_contig_pages;
struct dmabuf_core_buffer *dcore_contig_alloc(u64 len, unsigned int fd_flags);

/* large_run.c: contiguous runs beyond the page allocator's largest block. */
size_t dcore_large_run_max(void);
struct page *dcore_large_run_alloc(unsigned long nr, u64 dma_limit,
				   unsigned int min_order);
void dcore_large_run_free(struct page *page, unsigned long nr);
void dcore_large_runs_init(void);
void dcore_large_runs_exit(void);

/* misc_node.c: /dev/dmabuf and /dev/dmabuf-contig. */
int dcore_node_register(void);
void dcore_node_unregister(void);

#endif /* _DMABUF_CORE_INTERNAL_H */
