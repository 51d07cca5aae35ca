/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * dmabuf-core page storage: a library for exporters whose backing storage is
 * ordinary system memory.  Allocation in large physically contiguous chunks
 * below a DMA limit, sg tables mapped for a device, user mappings, and
 * ready-made &dmabuf_core_ops callbacks for buffers whose &priv is a
 * struct dmabuf_core_pages allocated at export.
 *
 * The helpers do no locking of their own: the exporter serialises
 * allocation against use (the core's buffer lock does, in its callbacks).
 */
#ifndef _LINUX_DMABUF_CORE_PAGES_H
#define _LINUX_DMABUF_CORE_PAGES_H

#include <linux/dma-direction.h>
#include <linux/types.h>
#include <linux/dmabuf_core.h>

struct device;
struct iosys_map;
struct page;
struct sg_table;
struct vm_area_struct;

/**
 * struct dmabuf_core_chunk - a physically contiguous piece of page storage
 * @page:	first page (a compound page when @order > 0)
 * @order:	the chunk holds 2^@order pages
 */
struct dmabuf_core_chunk {
	struct page *page;
	unsigned int order;
};

/**
 * struct dmabuf_core_pages - backing storage made of page chunks
 * @chunks:	the chunks, in buffer order
 * @nr_chunks:	number of valid entries in @chunks; 0 while nothing is
 *		allocated
 * @nr_pages:	total pages in all chunks
 * @large_run:	the storage is one contiguous run beyond the page
 *		allocator's largest block (dmabuf_core_pages_alloc_contig()),
 *		given back as one
 */
struct dmabuf_core_pages {
	struct dmabuf_core_chunk *chunks;
	unsigned int nr_chunks;
	unsigned long nr_pages;
	bool large_run;
};

/**
 * dmabuf_core_pages_allocated - whether storage holds memory
 * @pages: the storage
 *
 * Return: true once dmabuf_core_pages_alloc() succeeded, until
 * dmabuf_core_pages_free().
 */
static inline bool
dmabuf_core_pages_allocated(const struct dmabuf_core_pages *pages)
{
	return pages->nr_chunks != 0;
}

u64 dmabuf_core_device_dma_limit(struct device *dev);
bool dmabuf_core_pages_device_fits(struct device *dev);
int dmabuf_core_pages_alloc(struct dmabuf_core_pages *pages, size_t size,
			    u64 dma_limit, size_t max_chunk);
size_t dmabuf_core_pages_max_contig(void);
int dmabuf_core_pages_alloc_contig(struct dmabuf_core_pages *pages,
				   size_t size, u64 dma_limit);
bool dmabuf_core_pages_meet(const struct dmabuf_core_pages *pages,
			    const struct dmabuf_core_constraints *c);
int dmabuf_core_pages_alloc_constrained(struct dmabuf_core_pages *pages,
					size_t size, u64 dma_limit,
					size_t max_chunk,
					const struct dmabuf_core_constraints *c);
void dmabuf_core_pages_free(struct dmabuf_core_pages *pages);
u64 dmabuf_core_pages_highest_phys(const struct dmabuf_core_pages *pages);
bool dmabuf_core_pages_reachable(const struct dmabuf_core_pages *pages,
				 struct device *dev);
struct sg_table *
dmabuf_core_pages_map(const struct dmabuf_core_pages *pages,
		      struct device *dev, enum dma_data_direction dir);
void dmabuf_core_pages_unmap(struct device *dev, struct sg_table *sgt,
			     enum dma_data_direction dir);
int dmabuf_core_pages_mmap(const struct dmabuf_core_pages *pages,
			   struct vm_area_struct *vma);
int dmabuf_core_pages_vmap(const struct dmabuf_core_pages *pages,
			   struct iosys_map *map);
void dmabuf_core_pages_vunmap(struct iosys_map *map);

/* &dmabuf_core_ops callbacks for buffers whose priv is their pages. */
int dmabuf_core_pages_op_attach(struct dmabuf_core_buffer *buf,
				struct dmabuf_core_attachment *att);
struct sg_table *dmabuf_core_pages_op_map(struct dmabuf_core_attachment *att,
					  enum dma_data_direction dir);
void dmabuf_core_pages_op_unmap(struct dmabuf_core_attachment *att,
				struct sg_table *sgt,
				enum dma_data_direction dir);
int dmabuf_core_pages_op_mmap(struct dmabuf_core_buffer *buf,
			      struct vm_area_struct *vma);
int dmabuf_core_pages_op_vmap(struct dmabuf_core_buffer *buf,
			      struct iosys_map *map);
void dmabuf_core_pages_op_vunmap(struct dmabuf_core_buffer *buf,
				 struct iosys_map *map);

#endif /* _LINUX_DMABUF_CORE_PAGES_H */
