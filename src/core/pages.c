// SPDX-License-Identifier: GPL-2.0-only
/*
 * Page-chunk storage for exporters of ordinary memory: allocation with
 * large orders first below a DMA limit, sg tables mapped for a device, user
 * mappings, and &dmabuf_core_ops callbacks for buffers whose priv is their
 * struct dmabuf_core_pages.
 */
#include <linux/dma-direct.h>
#include <linux/dma-mapping.h>
#include <linux/export.h>
#include <linux/gfp.h>
#include <linux/iommu.h>
#include <linux/iosys-map.h>
#include <linux/mm.h>
#include <linux/moduleparam.h>
#include <linux/overflow.h>
#include <linux/sched/signal.h>
#include <linux/scatterlist.h>
#include <linux/slab.h>
#include <linux/swiotlb.h>
#include <linux/vmalloc.h>

#include "../compat.h"
#include "dcore_trace.h"
#include "internal.h"
#include <linux/dmabuf_core_pages.h>

static bool dcore_memcg_account = true;
module_param_named(memcg_account, dcore_memcg_account, bool, 0644);
MODULE_PARM_DESC(memcg_account,
		 "Charge buffer pages to the allocating task's memory cgroup (default Y)");

static unsigned long dcore_max_total_mb;
module_param_named(max_total_mb, dcore_max_total_mb, ulong, 0644);
MODULE_PARM_DESC(max_total_mb,
		 "Most MiB all page storage may hold at once (default 0: half of RAM)");

/* Pages held by all page storage, of every exporter, right now. */
static atomic_long_t dcore_storage_pages = ATOMIC_LONG_INIT(0);

/* The cap on dcore_storage_pages: the parameter, at most all of RAM. */
static unsigned long dcore_max_total_pages(void)
{
	unsigned long ram = totalram_pages();
	unsigned long mb = READ_ONCE(dcore_max_total_mb);

	if (!mb)
		return ram / 2;
	return min_t(u64, ram, (u64)mb << (20 - PAGE_SHIFT));
}

/* Reserve @nr pages under the cap; false when they would exceed it. */
static bool dcore_storage_reserve(unsigned long nr)
{
	if (atomic_long_add_return(nr, &dcore_storage_pages) <=
	    dcore_max_total_pages())
		return true;
	atomic_long_sub(nr, &dcore_storage_pages);
	return false;
}

/* 1 MiB, 64 KiB, one page: large chunks first, fewer sg segments. */
static const unsigned int dcore_chunk_orders[] = { 8, 4, 0 };

/*
 * The zones to try for a DMA limit, widest first.  A chunk that lands above
 * the limit anyway (a zone's end is not the limit) sends the allocation on
 * to the next, narrower zone.
 */
static const gfp_t dcore_zones[] = { 0, __GFP_DMA32, __GFP_DMA };

static unsigned int dcore_first_zone(u64 dma_limit)
{
	if (dma_limit >= DMA_BIT_MASK(32))
		return 0;		/* any memory may do */
	if (dma_limit >= DMA_BIT_MASK(24))
		return 1;		/* ZONE_DMA32 or below */
	return 2;
}

static gfp_t dcore_chunk_gfp(gfp_t zone, unsigned int order, gfp_t account)
{
	/* No highmem with a zone modifier: the combination is invalid. */
	gfp_t gfp = (zone ? GFP_USER | zone : GFP_HIGHUSER) | __GFP_ZERO |
		    __GFP_NOWARN | account;

	/*
	 * Opportunistic, as the kernel's system heap: no reclaim, no
	 * compaction, and (unlike the heap) none of the reserves that an
	 * allocation which cannot block may otherwise take.  A failed
	 * attempt then costs little, and the smaller chunks that follow are
	 * joined into segments where they turn out physically adjacent
	 * (dcore_segments()).
	 */
	if (order)
		return (gfp | __GFP_COMP | __GFP_NORETRY | __GFP_NOMEMALLOC) &
		       ~__GFP_RECLAIM;
	/*
	 * Try hard, but fail rather than invoke the OOM killer: also the
	 * memory cgroup's, which a charge that may not retry never wakes.
	 */
	return gfp | __GFP_RETRY_MAYFAIL;
}

/* The index in dcore_chunk_orders of the largest chunk @max_chunk allows. */
static unsigned int dcore_top_index(size_t max_chunk)
{
	unsigned int i = 0;

	while (max_chunk && i < ARRAY_SIZE(dcore_chunk_orders) - 1 &&
	       (PAGE_SIZE << dcore_chunk_orders[i]) > max_chunk)
		i++;
	return i;
}

/**
 * dmabuf_core_device_dma_limit - the highest address a device reaches
 * @dev: the device
 *
 * Return: the lower of its DMA mask and its bus limit.
 */
u64 dmabuf_core_device_dma_limit(struct device *dev)
{
	return min_not_zero(dma_get_mask(dev), dev->bus_dma_limit);
}
EXPORT_SYMBOL_NS_GPL(dmabuf_core_device_dma_limit, DMABUF_CORE_NS);

/*
 * One chunk below @dma_limit of at most 2^dcore_chunk_orders[*@first]
 * pages (and at most @left pages), trying zones from *@zone on.  *@zone
 * moves on to narrower zones as they turn out to be needed; *@first is
 * left at the order that succeeded, where the next chunk starts (as the
 * kernel's system heap does: an order that just failed will fail again
 * for the next chunk, and each failure costs a pass of the allocator).
 * A new zone starts again at @top, the largest order allowed.
 */
static struct page *dcore_alloc_chunk(unsigned int *zone, u64 dma_limit,
				      unsigned int *first, unsigned int top,
				      gfp_t account, unsigned long left)
{
	struct page *page;
	unsigned int i, order;

	for (; *zone < ARRAY_SIZE(dcore_zones); (*zone)++, *first = top) {
		for (i = *first; i < ARRAY_SIZE(dcore_chunk_orders); i++) {
			order = dcore_chunk_orders[i];
			if ((1UL << order) > left)
				continue;
			page = alloc_pages(dcore_chunk_gfp(dcore_zones[*zone],
							   order, account),
					   order);
			if (!page)
				continue;
			if (page_to_phys(page) + (PAGE_SIZE << order) - 1 <=
			    dma_limit) {
				*first = i;
				return page;
			}
			/* Out of reach: this zone is too wide for the limit. */
			__free_pages(page, order);
			break;
		}
		if (i == ARRAY_SIZE(dcore_chunk_orders))
			return NULL;	/* memory is short, not just far */
	}
	return NULL;
}

/* The chunk array's first size: the chunks @nr pages take at best. */
static unsigned long dcore_chunks_estimate(unsigned long nr, unsigned int top)
{
	unsigned long chunks = 0;
	unsigned int i, order;

	for (i = top; i < ARRAY_SIZE(dcore_chunk_orders); i++) {
		order = dcore_chunk_orders[i];
		chunks += nr >> order;
		nr &= (1UL << order) - 1;
	}
	return chunks;
}

/*
 * An array of @n elements of @size bytes, kmalloc'd or vmalloc'd; free it
 * with kvfree().  Never the OOM killer, and never the work of
 * kvmalloc_array() with __GFP_RETRY_MAYFAIL: that tries its kmalloc hard,
 * direct reclaim and compaction included, before it falls back to
 * vmalloc.  In fragmented memory that cost a large buffer's allocation
 * a third of its time, for an array vmalloc serves at once (figures in
 * tests/bench-results.md).  Here: a kmalloc from what is free (no
 * reclaim, no compaction, no kswapd woken for an order the buffer's own
 * pages just failed to find, no atomic reserves), and vmalloc when that
 * fails.
 */
static void *dcore_kvmalloc_array(size_t n, size_t size, gfp_t account)
{
	gfp_t gfp = GFP_KERNEL | __GFP_NOWARN | account;
	size_t bytes;
	void *p;

	if (check_mul_overflow(n, size, &bytes))
		return NULL;
	if (bytes <= PAGE_SIZE)
		return kmalloc(bytes, gfp | __GFP_RETRY_MAYFAIL);
	if (bytes <= KMALLOC_MAX_SIZE) {
		p = kmalloc(bytes, (gfp | __GFP_NORETRY | __GFP_NOMEMALLOC) &
			    ~__GFP_RECLAIM);
		if (p)
			return p;
	}
	return __vmalloc(bytes, gfp | __GFP_RETRY_MAYFAIL);
}

static struct dmabuf_core_chunk *dcore_chunks_alloc(unsigned long n,
						    gfp_t account)
{
	return dcore_kvmalloc_array(n, sizeof(struct dmabuf_core_chunk),
				    account);
}

/*
 * Room for more chunks than *@room: twice as many (at most one per page of
 * the buffer, @nr_pages), the @nr filled entries copied over.
 */
static int dcore_chunks_grow(struct dmabuf_core_chunk **chunks,
			     unsigned long *room, unsigned int nr,
			     unsigned long nr_pages, gfp_t account)
{
	unsigned long more = min(*room * 2, nr_pages);
	struct dmabuf_core_chunk *bigger;

	bigger = dcore_chunks_alloc(more, account);
	if (!bigger)
		return -ENOMEM;
	memcpy(bigger, *chunks, nr * sizeof(*bigger));
	kvfree(*chunks);
	*chunks = bigger;
	*room = more;
	return 0;
}

/**
 * dmabuf_core_pages_alloc - allocate zeroed page storage
 * @pages: the storage to fill in; zeroed by the caller
 * @size: bytes, a non-zero multiple of PAGE_SIZE
 * @dma_limit: highest physical address any page may have, e.g. the lowest
 *	dmabuf_core_device_dma_limit() of the devices that will use it;
 *	U64_MAX for any memory
 * @max_chunk: largest physically contiguous chunk in bytes, 0 for no limit
 *
 * Chunks of 1 MiB, then 64 KiB, then single pages, from the zone that the
 * limit calls for; once an order fails, the rest of the buffer is made of
 * smaller chunks.  The pages (and the chunk array) are charged to the
 * calling task's memory cgroup unless the memcg_account parameter is off,
 * and all page storage together stays under the max_total_mb parameter.
 * Fails with -ENOMEM rather than invoking the OOM killer (the system's or
 * the cgroup's), and with -EINTR when the calling process is killed before
 * the allocation is complete.
 *
 * Context: process context; may sleep.
 * Return: 0, -EINVAL, -ENOMEM or -EINTR; on failure nothing is held.
 */
int dmabuf_core_pages_alloc(struct dmabuf_core_pages *pages, size_t size,
			    u64 dma_limit, size_t max_chunk)
{
	unsigned long nr_pages = size >> PAGE_SHIFT, left = nr_pages, room;
	unsigned int top = dcore_top_index(max_chunk), first = top;
	unsigned int zone = dcore_first_zone(dma_limit);
	gfp_t account = READ_ONCE(dcore_memcg_account) ? __GFP_ACCOUNT : 0;
	unsigned int nr = 0, largest_order = 0, reason = DCORE_REFUSED_NO_MEMORY;
	struct dmabuf_core_chunk *chunks;
	struct page *page;
	int ret;

	if (!size || !PAGE_ALIGNED(size))
		return -EINVAL;
	if (!dcore_storage_reserve(nr_pages)) {
		trace_dmabuf_core_refused(size, DCORE_REFUSED_MAX_TOTAL, -ENOMEM);
		return -ENOMEM;
	}

	/* Exact when every chunk gets the largest order; grown when not. */
	room = dcore_chunks_estimate(nr_pages, top);
	chunks = dcore_chunks_alloc(room, account);
	if (!chunks) {
		ret = -ENOMEM;
		goto err_unreserve;
	}

	while (left) {
		if (nr == room) {
			ret = dcore_chunks_grow(&chunks, &room, nr, nr_pages,
						account);
			if (ret)
				goto err_free;
		}
		page = dcore_alloc_chunk(&zone, dma_limit, &first, top, account,
					 left);
		if (!page) {
			ret = -ENOMEM;
			goto err_free;
		}
		chunks[nr].page = page;
		chunks[nr].order = dcore_chunk_orders[first];
		largest_order = max(largest_order, chunks[nr].order);
		left -= 1UL << chunks[nr].order;
		nr++;

		if (left && fatal_signal_pending(current)) {
			ret = -EINTR;
			reason = DCORE_REFUSED_KILLED;
			goto err_free;
		}
		/*
		 * Order-0 chunks, which may reclaim, pass the allocator's
		 * might_sleep(), a resched point under voluntary preemption;
		 * every 64 chunks (at most 64 MiB of zeroing) covers larger
		 * chunks and the other preemption models.
		 */
		if (!(nr % 64))
			cond_resched();
	}

	pages->chunks = chunks;
	pages->nr_chunks = nr;
	pages->nr_pages = nr_pages;
	trace_dmabuf_core_storage(size, dma_limit, max_chunk, nr,
				  PAGE_SIZE << largest_order);
	return 0;

err_free:
	while (nr--)
		__free_pages(chunks[nr].page, chunks[nr].order);
	kvfree(chunks);
err_unreserve:
	atomic_long_sub(nr_pages, &dcore_storage_pages);
	trace_dmabuf_core_refused(size, reason, ret);
	return ret;
}
EXPORT_SYMBOL_NS_GPL(dmabuf_core_pages_alloc, DMABUF_CORE_NS);

/* The page allocator's largest block, in pages. */
#define DCORE_MAX_BLOCK_PAGES	BIT(DCORE_MAX_PAGE_ORDER)

/**
 * dmabuf_core_pages_max_contig - the largest run of contiguous page storage
 *
 * Return: the most bytes dmabuf_core_pages_alloc_contig() can give now:
 * the page allocator's largest block, or more where the kernel gives
 * runs beyond it (from CMA or alloc_contig_range()) and the administrator
 * allowed them (dmabuf_core's large_runs_mb parameter).
 */
size_t dmabuf_core_pages_max_contig(void)
{
	return max_t(size_t, DCORE_MAX_BLOCK_PAGES << PAGE_SHIFT,
		     dcore_large_run_max());
}
EXPORT_SYMBOL_NS_GPL(dmabuf_core_pages_max_contig, DMABUF_CORE_NS);

/*
 * @nr physically contiguous pages below @dma_limit: the smallest block
 * that holds them, of at least @min_order (an alignment: a block is
 * aligned to its size), split, its unused tail given back.  A limit within
 * 32 bits starts at the zone below it (a wider zone would mostly hand out
 * a block out of reach, zeroed for nothing); a zone that has no block, or
 * only one out of reach, sends the search on to the next narrower zone.
 * Costly orders get one round of reclaim and compaction, not the retries
 * of __GFP_RETRY_MAYFAIL: the memory cgroup's charge comes only after the
 * block is found, and a user whose cgroup is full must not make the whole
 * machine compact again and again.  Never the OOM killer: costly orders do
 * not invoke it, cheap ones are __GFP_RETRY_MAYFAIL.
 */
static struct page *dcore_alloc_run(unsigned long nr, u64 dma_limit,
				    unsigned int min_order, gfp_t account)
{
	unsigned int order = max_t(unsigned int, order_base_2(nr), min_order);
	unsigned int zone;
	struct page *page;
	unsigned long i;
	gfp_t gfp;

	zone = dcore_first_zone(dma_limit);
	if (!zone && dma_limit <= DMA_BIT_MASK(32))
		zone = 1;
	for (; zone < ARRAY_SIZE(dcore_zones); zone++) {
		gfp = dcore_zones[zone] ? GFP_USER | dcore_zones[zone] :
					  GFP_HIGHUSER;
		gfp |= __GFP_ZERO | __GFP_NOWARN | account;
		if (order <= PAGE_ALLOC_COSTLY_ORDER)
			gfp |= __GFP_RETRY_MAYFAIL;
		page = alloc_pages(gfp, order);
		if (!page)
			continue;
		if (page_to_phys(page) + (PAGE_SIZE << order) - 1 <= dma_limit) {
			/* Each page its own, so that the tail can go back. */
			split_page(page, order);
			for (i = nr; i < (1UL << order); i++)
				__free_page(page + i);
			return page;
		}
		__free_pages(page, order);
	}
	return NULL;
}

/*
 * dmabuf_core_pages_alloc_contig(), with the run's start aligned to
 * @align bytes (a power of two, at most the largest block; 0 for a page).
 */
static int dcore_pages_alloc_contig(struct dmabuf_core_pages *pages,
				    size_t size, u64 dma_limit, size_t align)
{
	gfp_t account = READ_ONCE(dcore_memcg_account) ? __GFP_ACCOUNT : 0;
	unsigned long nr_pages = size >> PAGE_SHIFT, i;
	unsigned int min_order = 0;
	struct dmabuf_core_chunk *chunks;
	struct page *page;

	if (!size || !PAGE_ALIGNED(size))
		return -EINVAL;
	if (align > PAGE_SIZE)
		min_order = order_base_2(align >> PAGE_SHIFT);
	if (size > dmabuf_core_pages_max_contig() ||
	    min_order > DCORE_MAX_PAGE_ORDER) {
		trace_dmabuf_core_refused(size, DCORE_REFUSED_NO_RUN, -ENOMEM);
		return -ENOMEM;
	}
	if (!dcore_storage_reserve(nr_pages)) {
		trace_dmabuf_core_refused(size, DCORE_REFUSED_MAX_TOTAL, -ENOMEM);
		return -ENOMEM;
	}
	chunks = dcore_chunks_alloc(nr_pages, account);
	if (!chunks)
		goto err_unreserve;
	if (nr_pages > DCORE_MAX_BLOCK_PAGES)
		page = dcore_large_run_alloc(nr_pages, dma_limit, min_order);
	else
		page = dcore_alloc_run(nr_pages, dma_limit, min_order, account);
	if (!page)
		goto err_free;
	for (i = 0; i < nr_pages; i++) {
		chunks[i].page = page + i;
		chunks[i].order = 0;
	}
	pages->chunks = chunks;
	pages->nr_chunks = nr_pages;
	pages->nr_pages = nr_pages;
	pages->large_run = nr_pages > DCORE_MAX_BLOCK_PAGES;
	trace_dmabuf_core_storage(size, dma_limit, size, 1, size);
	return 0;

err_free:
	kvfree(chunks);
err_unreserve:
	atomic_long_sub(nr_pages, &dcore_storage_pages);
	trace_dmabuf_core_refused(size, DCORE_REFUSED_NO_MEMORY, -ENOMEM);
	return -ENOMEM;
}

/**
 * dmabuf_core_pages_alloc_contig - allocate zeroed, physically contiguous storage
 * @pages: the storage to fill in; zeroed by the caller
 * @size: bytes, a non-zero multiple of PAGE_SIZE, at most
 *	dmabuf_core_pages_max_contig()
 * @dma_limit: highest physical address any page may have; U64_MAX for any
 *	memory
 *
 * One run of pages, for devices that take a buffer only as one DMA segment
 * (videobuf2-dma-contig importers, scatter-gather-less FPGA designs).  The
 * storage is page chunks as dmabuf_core_pages_alloc() makes them, one per
 * page, so every other helper serves it unchanged; dmabuf_core_pages_map()
 * joins them into as few segments as the device allows.  Charged and
 * capped as dmabuf_core_pages_alloc() storage is, and never the OOM killer.
 * A run beyond the page allocator's largest block comes from CMA or from
 * alloc_contig_range() (large_run.c), only where the administrator allowed
 * such runs (dmabuf_core's large_runs_mb): no memory cgroup can be charged
 * for it.
 * The dmabuf_core_storage event reports the run as one chunk.
 *
 * Context: process context; may sleep.
 * Return: 0, -EINVAL, or -ENOMEM (also for a size above
 * dmabuf_core_pages_max_contig()); on failure nothing is held.
 */
int dmabuf_core_pages_alloc_contig(struct dmabuf_core_pages *pages,
				   size_t size, u64 dma_limit)
{
	return dcore_pages_alloc_contig(pages, size, dma_limit, 0);
}
EXPORT_SYMBOL_NS_GPL(dmabuf_core_pages_alloc_contig, DMABUF_CORE_NS);

/**
 * dmabuf_core_pages_meet - whether storage meets declared constraints
 * @pages: the storage
 * @c: the constraints (dmabuf_core_buffer_constraints())
 *
 * Physically adjacent chunks count as one segment, as
 * dmabuf_core_pages_map() joins them for a device whose segment size
 * allows; a device's own segment size may still cut them.
 *
 * Return: true when no more than @c->max_segments physically contiguous
 * runs make up the storage and its first page is aligned to
 * @c->alignment; true for empty storage.
 */
bool dmabuf_core_pages_meet(const struct dmabuf_core_pages *pages,
			    const struct dmabuf_core_constraints *c)
{
	phys_addr_t start, end = 0;
	unsigned int i, runs = 0;

	if (!pages->nr_chunks)
		return true;
	if (c->alignment > PAGE_SIZE &&
	    !IS_ALIGNED(page_to_phys(pages->chunks[0].page), c->alignment))
		return false;
	if (!c->max_segments)
		return true;
	for (i = 0; i < pages->nr_chunks; i++) {
		start = page_to_phys(pages->chunks[i].page);
		if ((!i || start != end) && ++runs > c->max_segments)
			return false;
		end = start + (PAGE_SIZE << pages->chunks[i].order);
	}
	return true;
}
EXPORT_SYMBOL_NS_GPL(dmabuf_core_pages_meet, DMABUF_CORE_NS);

/**
 * dmabuf_core_pages_alloc_constrained - allocate storage that meets
 *	declared constraints
 * @pages: the storage to fill in; zeroed by the caller
 * @size: bytes, a non-zero multiple of PAGE_SIZE
 * @dma_limit: highest physical address any page may have
 * @max_chunk: largest chunk in bytes, as for dmabuf_core_pages_alloc()
 * @c: what the attached devices declared (dmabuf_core_buffer_constraints())
 *
 * Chunks when they meet @c (dmabuf_core_pages_meet()), else one aligned
 * contiguous run (dmabuf_core_pages_alloc_contig(), whose size limit then
 * applies).
 *
 * Context: process context; may sleep.
 * Return: as dmabuf_core_pages_alloc() and dmabuf_core_pages_alloc_contig().
 */
int dmabuf_core_pages_alloc_constrained(struct dmabuf_core_pages *pages,
					size_t size, u64 dma_limit,
					size_t max_chunk,
					const struct dmabuf_core_constraints *c)
{
	int ret;

	/* Large chunks come first and are aligned to their size. */
	if (c->max_segments != 1) {
		ret = dmabuf_core_pages_alloc(pages, size, dma_limit, max_chunk);
		if (ret || dmabuf_core_pages_meet(pages, c))
			return ret;
		dmabuf_core_pages_free(pages);
	}
	return dcore_pages_alloc_contig(pages, size, dma_limit, c->alignment);
}
EXPORT_SYMBOL_NS_GPL(dmabuf_core_pages_alloc_constrained, DMABUF_CORE_NS);

/**
 * dmabuf_core_pages_free - free what dmabuf_core_pages_alloc() allocated
 * @pages: the storage, possibly empty (never allocated); left empty
 */
void dmabuf_core_pages_free(struct dmabuf_core_pages *pages)
{
	unsigned int i;

	if (pages->large_run)
		dcore_large_run_free(pages->chunks[0].page, pages->nr_pages);
	else
		for (i = 0; i < pages->nr_chunks; i++)
			__free_pages(pages->chunks[i].page,
				     pages->chunks[i].order);
	kvfree(pages->chunks);
	atomic_long_sub(pages->nr_pages, &dcore_storage_pages);
	pages->chunks = NULL;
	pages->nr_chunks = 0;
	pages->nr_pages = 0;
	pages->large_run = false;
}
EXPORT_SYMBOL_NS_GPL(dmabuf_core_pages_free, DMABUF_CORE_NS);

/**
 * dmabuf_core_pages_highest_phys - physical address of the storage's last byte
 * @pages: the storage
 *
 * Return: the highest physical address any chunk covers, 0 when empty.
 */
u64 dmabuf_core_pages_highest_phys(const struct dmabuf_core_pages *pages)
{
	u64 highest = 0;
	unsigned int i;

	for (i = 0; i < pages->nr_chunks; i++) {
		const struct dmabuf_core_chunk *c = &pages->chunks[i];

		highest = max_t(u64, highest, page_to_phys(c->page) +
				(PAGE_SIZE << c->order) - 1);
	}
	return highest;
}
EXPORT_SYMBOL_NS_GPL(dmabuf_core_pages_highest_phys, DMABUF_CORE_NS);

/*
 * Whether @dev's DMA goes through an IOMMU that translates (a paging
 * domain): it then maps any page, and page-aligned whole-page segments
 * such as ours are never bounced, not even for untrusted devices.  An
 * identity (passthrough) domain is direct DMA, with the device's mask.
 */
static bool dcore_dev_translated(struct device *dev)
{
	struct iommu_domain *domain;

	if (!device_iommu_mapped(dev))
		return false;
	domain = iommu_get_domain_for_dev(dev);
	return domain && (domain->type & __IOMMU_DOMAIN_PAGING);
}

/* Whether @dev's DMA is dma-direct, with no translating IOMMU in the way. */
static bool dcore_dev_direct(struct device *dev)
{
	return !dcore_dev_translated(dev) && dcore_dev_dma_direct(dev);
}

/*
 * Direct DMA reaches [@phys, @phys + @len) without bouncing: each end has
 * a bus address (dma-ranges offsets included) within the device's limit.
 */
static bool dcore_direct_reaches(struct device *dev, phys_addr_t phys,
				 size_t len)
{
	u64 limit = dmabuf_core_device_dma_limit(dev);
	dma_addr_t first = phys_to_dma(dev, phys);
	dma_addr_t last = phys_to_dma(dev, phys + len - 1);

	return first != DMA_MAPPING_ERROR && last != DMA_MAPPING_ERROR &&
	       first <= limit && last <= limit && last - first == len - 1;
}

/**
 * dmabuf_core_pages_reachable - whether a device reaches the storage directly
 * @pages: the storage
 * @dev: the device
 *
 * A device that cannot address the pages would get a bounce buffer: a
 * copy, not the shared memory, and from a pool that may itself be out of
 * a narrow device's reach.  Exporters refuse such devices at attach.
 * Forced bouncing (swiotlb=force, memory encryption in confidential
 * guests) makes every direct device such a device.
 *
 * Return: true when @dev sits behind a translating IOMMU, or when its
 * dma-direct DMA is not forced through bounce buffers and the bus address
 * of every page (after any dma-ranges offset) lies within its DMA mask and
 * bus limit.  Devices with other DMA ops: every page within the mask.
 * For storage not allocated yet, only whether the device bounces
 * everything.
 */
bool dmabuf_core_pages_reachable(const struct dmabuf_core_pages *pages,
				 struct device *dev)
{
	unsigned int i;

	if (dcore_dev_translated(dev))
		return true;
	/* Other DMA ops (Xen, GART): their own rules; the mask, then. */
	if (!dcore_dev_dma_direct(dev))
		return dmabuf_core_pages_highest_phys(pages) <=
		       dmabuf_core_device_dma_limit(dev);
	if (is_swiotlb_force_bounce(dev))
		return false;
	for (i = 0; i < pages->nr_chunks; i++) {
		const struct dmabuf_core_chunk *c = &pages->chunks[i];

		if (!dcore_direct_reaches(dev, page_to_phys(c->page),
					  PAGE_SIZE << c->order))
			return false;
	}
	return true;
}
EXPORT_SYMBOL_NS_GPL(dmabuf_core_pages_reachable, DMABUF_CORE_NS);

/*
 * After a dma-direct mapping (@direct: dcore_dev_direct()): every segment
 * is the buffer's own memory, not a bounce buffer (dma-direct maps the
 * entries one to one).  Other DMA ops translate in their own ways and are
 * taken at their word.
 */
static bool dcore_maps_own_pages(struct device *dev, bool direct,
				 struct sg_table *sgt)
{
	struct scatterlist *sg;
	unsigned int i;

	if (!direct)
		return true;
	if (sgt->nents != sgt->orig_nents)
		return false;
	for_each_sgtable_sg(sgt, sg, i) {
		if (dma_to_phys(dev, sg_dma_address(sg)) != sg_phys(sg) ||
		    sg_dma_len(sg) != sg->length)
			return false;
	}
	return true;
}

/**
 * dmabuf_core_pages_device_fits - whether page storage can serve a device
 * @dev: the device
 *
 * Segments are whole pages: a device whose largest segment is smaller than
 * a page, or whose segments may not cross a boundary closer than a page,
 * cannot take them.
 *
 * Return: true when its maximum segment size is at least PAGE_SIZE and its
 * segment boundary mask at least PAGE_SIZE - 1.
 */
bool dmabuf_core_pages_device_fits(struct device *dev)
{
	return dma_get_max_seg_size(dev) >= PAGE_SIZE &&
	       dma_get_seg_boundary(dev) >= PAGE_SIZE - 1;
}
EXPORT_SYMBOL_NS_GPL(dmabuf_core_pages_device_fits, DMABUF_CORE_NS);

/*
 * Whether direct DMA sees [@start, @start + @seg) continue at @p: for
 * devices whose DMA is dma-direct, the bus addresses must continue as the
 * physical ones do (two chunks may lie in different dma-ranges windows).
 * A translating IOMMU maps any pages.
 */
static bool dcore_bus_continues(struct device *dev, bool direct,
				phys_addr_t start, size_t seg, phys_addr_t p)
{
	return !direct || phys_to_dma(dev, p) == phys_to_dma(dev, start) + seg;
}

/*
 * The storage's DMA segments for @dev: each chunk cut into pieces of at
 * most @max_seg bytes that cross no multiple of @boundary + 1 (in physical,
 * here also DMA, addresses), and a piece that continues the previous one
 * physically (and, for direct DMA, in bus addresses) joined to it while
 * the pair still keeps both limits (the allocator often hands out
 * neighbouring pages one after another, above all as single pages in
 * fragmented memory).  Fills @sgl when not NULL; returns the number of
 * segments.  Whole pages throughout.  @direct: dcore_dev_direct(@dev).
 */
static unsigned int dcore_segments(const struct dmabuf_core_pages *pages,
				   struct device *dev, bool direct, size_t max_seg,
				   u64 boundary, struct scatterlist *sgl)
{
	struct scatterlist *sg = sgl;
	struct page *first = NULL;
	phys_addr_t start = 0;
	unsigned int i, n = 0;
	size_t off, len, seg = 0;

	for (i = 0; i < pages->nr_chunks; i++) {
		const struct dmabuf_core_chunk *c = &pages->chunks[i];
		size_t size = PAGE_SIZE << c->order;
		phys_addr_t phys = page_to_phys(c->page);

		for (off = 0; off < size; off += len) {
			phys_addr_t p = phys + off;

			len = min_t(size_t, max_seg, size - off);
			if (boundary != ULONG_MAX)	/* else the sum wraps to 0 */
				len = min_t(u64, len, boundary - (p & boundary) + 1);
			if (seg && start + seg == p && seg + len <= max_seg &&
			    (start & ~boundary) == ((p + len - 1) & ~boundary) &&
			    dcore_bus_continues(dev, direct, start, seg, p)) {
				seg += len;
				continue;
			}
			if (seg && sg) {
				sg_set_page(sg, first, seg, 0);
				sg = sg_next(sg);
			}
			first = c->page + (off >> PAGE_SHIFT);
			start = p;
			seg = len;
			n++;
		}
	}
	if (seg && sg)
		sg_set_page(sg, first, seg, 0);
	return n;
}

/**
 * dmabuf_core_pages_map - a new sg table of the storage, DMA-mapped for a device
 * @pages: the storage
 * @dev: the device
 * @dir: the DMA direction
 *
 * Each chunk becomes one or more segments no longer than the device's
 * maximum segment size or the DMA layer's largest single mapping (rounded
 * down to whole pages), none crossing the device's segment boundary;
 * physically adjacent chunks share segments within those limits.  Free it
 * with dmabuf_core_pages_unmap().
 *
 * Context: process context; may sleep.
 * Return: the table or an ERR_PTR() (-EINVAL for a device page storage
 * cannot serve, see dmabuf_core_pages_device_fits(); -EBUSY when the DMA
 * layer would have the device use a bounce buffer instead of the pages;
 * -ENOMEM, or the DMA API's error).
 */
struct sg_table *
dmabuf_core_pages_map(const struct dmabuf_core_pages *pages,
		      struct device *dev, enum dma_data_direction dir)
{
	size_t max_seg = min_t(size_t, dma_get_max_seg_size(dev),
			       dma_max_mapping_size(dev));
	u64 boundary = dma_get_seg_boundary(dev);
	bool direct = dcore_dev_direct(dev);
	unsigned int nents;
	struct sg_table *sgt;
	int ret;

	if (!dmabuf_core_pages_device_fits(dev))
		return ERR_PTR(-EINVAL);
	/* Never 0: dcore_segments() advances by whole segments. */
	max_seg = max_t(size_t, PAGE_SIZE, rounddown(max_seg, PAGE_SIZE));
	nents = dcore_segments(pages, dev, direct, max_seg, boundary, NULL);

	/* Charged: an importer may keep mappings alive as long as it likes. */
	sgt = kzalloc(sizeof(*sgt), GFP_KERNEL_ACCOUNT | __GFP_RETRY_MAYFAIL |
		      __GFP_NOWARN);
	if (!sgt)
		return ERR_PTR(-ENOMEM);
	ret = sg_alloc_table(sgt, nents, GFP_KERNEL_ACCOUNT |
			     __GFP_RETRY_MAYFAIL | __GFP_NOWARN);
	if (ret)
		goto err_free;

	dcore_segments(pages, dev, direct, max_seg, boundary, sgt->sgl);

	/*
	 * Several devices, or one device through several attachments, map the
	 * same pages at once: that is what sharing a buffer means, and the
	 * order of their accesses is the business of fences and CPU-access
	 * brackets.  The DMA API's debug checks refuse overlapping mappings
	 * unless the CPU sync is skipped (drm_prime maps that way for the same
	 * reason), so skip it in the mapping and do it here explicitly.
	 */
	ret = dma_map_sgtable(dev, sgt, dir, DMA_ATTR_SKIP_CPU_SYNC);
	if (ret)
		goto err_table;
	/* A copy is not sharing: refuse whatever the DMA layer bounced. */
	if (!dcore_maps_own_pages(dev, direct, sgt)) {
		dma_unmap_sgtable(dev, sgt, dir, DMA_ATTR_SKIP_CPU_SYNC);
		ret = -EBUSY;
		goto err_table;
	}
	dma_sync_sgtable_for_device(dev, sgt, dir);
	return sgt;

err_table:
	sg_free_table(sgt);
err_free:
	kfree(sgt);
	return ERR_PTR(ret);
}
EXPORT_SYMBOL_NS_GPL(dmabuf_core_pages_map, DMABUF_CORE_NS);

/**
 * dmabuf_core_pages_unmap - undo dmabuf_core_pages_map()
 * @dev: the device it was mapped for
 * @sgt: the table
 * @dir: the direction it was mapped with
 */
void dmabuf_core_pages_unmap(struct device *dev, struct sg_table *sgt,
			     enum dma_data_direction dir)
{
	/* The sync the unmap skips, as dmabuf_core_pages_map() explains. */
	dma_sync_sgtable_for_cpu(dev, sgt, dir);
	dma_unmap_sgtable(dev, sgt, dir, DMA_ATTR_SKIP_CPU_SYNC);
	sg_free_table(sgt);
	kfree(sgt);
}
EXPORT_SYMBOL_NS_GPL(dmabuf_core_pages_unmap, DMABUF_CORE_NS);

/**
 * dmabuf_core_pages_mmap - map the storage into a user VMA
 * @pages: the storage
 * @vma: the VMA; vm_pgoff counts pages from the start of the storage and
 *	the VMA must lie within it (the core's mmap checks that)
 *
 * Context: the mmap path (mmap_lock held for writing).
 * Return: 0 or remap_pfn_range()'s error.
 */
int dmabuf_core_pages_mmap(const struct dmabuf_core_pages *pages,
			   struct vm_area_struct *vma)
{
	unsigned long addr = vma->vm_start;
	unsigned long skip = vma->vm_pgoff;
	unsigned int i;
	int ret;

	for (i = 0; i < pages->nr_chunks && addr < vma->vm_end; i++) {
		unsigned long nr = 1UL << pages->chunks[i].order;
		unsigned long len;

		if (skip >= nr) {
			skip -= nr;
			continue;
		}
		len = min((nr - skip) << PAGE_SHIFT, vma->vm_end - addr);
		ret = remap_pfn_range(vma, addr,
				      page_to_pfn(pages->chunks[i].page) + skip,
				      len, vma->vm_page_prot);
		if (ret)
			return ret;
		addr += len;
		skip = 0;
	}
	return 0;
}
EXPORT_SYMBOL_NS_GPL(dmabuf_core_pages_mmap, DMABUF_CORE_NS);

/**
 * dmabuf_core_pages_vmap - map the storage into kernel address space
 * @pages: allocated storage
 * @map: set to the mapping
 *
 * Context: process context; may sleep.
 * Return: 0, -EINVAL for empty storage, or -ENOMEM.
 */
int dmabuf_core_pages_vmap(const struct dmabuf_core_pages *pages,
			   struct iosys_map *map)
{
	struct page **array;
	unsigned long n = 0;
	unsigned int i, p;
	void *vaddr;

	if (!pages->nr_chunks)
		return -EINVAL;
	/* Temporary: not charged, but never a reason for the OOM killer. */
	array = dcore_kvmalloc_array(pages->nr_pages, sizeof(*array), 0);
	if (!array)
		return -ENOMEM;
	for (i = 0; i < pages->nr_chunks; i++)
		for (p = 0; p < (1U << pages->chunks[i].order); p++)
			array[n++] = pages->chunks[i].page + p;
	/* vmap() copies the page pointers into the page tables. */
	vaddr = vmap(array, n, VM_MAP, PAGE_KERNEL);
	kvfree(array);
	if (!vaddr)
		return -ENOMEM;
	iosys_map_set_vaddr(map, vaddr);
	return 0;
}
EXPORT_SYMBOL_NS_GPL(dmabuf_core_pages_vmap, DMABUF_CORE_NS);

/**
 * dmabuf_core_pages_vunmap - undo dmabuf_core_pages_vmap()
 * @map: what it set
 */
void dmabuf_core_pages_vunmap(struct iosys_map *map)
{
	vunmap(map->vaddr);
}
EXPORT_SYMBOL_NS_GPL(dmabuf_core_pages_vunmap, DMABUF_CORE_NS);

/**
 * dmabuf_core_pages_op_attach - &dmabuf_core_ops.attach for page buffers
 * @buf: a buffer whose priv is its allocated struct dmabuf_core_pages
 * @att: the new attachment
 *
 * No bounce buffers: a device that cannot reach the pages would see a
 * copy, so it is refused.
 *
 * Return: 0, -EINVAL for a device whose segment limits page storage cannot
 * meet, or -EBUSY for one that cannot reach the pages directly.
 */
int dmabuf_core_pages_op_attach(struct dmabuf_core_buffer *buf,
				struct dmabuf_core_attachment *att)
{
	if (!dmabuf_core_pages_device_fits(att->dev))
		return -EINVAL;
	return dmabuf_core_pages_reachable(buf->priv, att->dev) ? 0 : -EBUSY;
}
EXPORT_SYMBOL_NS_GPL(dmabuf_core_pages_op_attach, DMABUF_CORE_NS);

/**
 * dmabuf_core_pages_op_map - &dmabuf_core_ops.map for page buffers
 * @att: the attachment
 * @dir: the direction
 *
 * Return: a new table of the buffer's pages mapped for &att->dev.
 */
struct sg_table *dmabuf_core_pages_op_map(struct dmabuf_core_attachment *att,
					  enum dma_data_direction dir)
{
	return dmabuf_core_pages_map(att->buf->priv, att->dev, dir);
}
EXPORT_SYMBOL_NS_GPL(dmabuf_core_pages_op_map, DMABUF_CORE_NS);

/**
 * dmabuf_core_pages_op_unmap - &dmabuf_core_ops.unmap for page buffers
 * @att: the attachment
 * @sgt: a table dmabuf_core_pages_op_map() returned for it
 * @dir: its direction
 */
void dmabuf_core_pages_op_unmap(struct dmabuf_core_attachment *att,
				struct sg_table *sgt,
				enum dma_data_direction dir)
{
	dmabuf_core_pages_unmap(att->dev, sgt, dir);
}
EXPORT_SYMBOL_NS_GPL(dmabuf_core_pages_op_unmap, DMABUF_CORE_NS);

/**
 * dmabuf_core_pages_op_mmap - &dmabuf_core_ops.mmap for page buffers
 * @buf: a buffer whose priv is its allocated struct dmabuf_core_pages
 * @vma: the VMA
 *
 * Return: 0 or remap_pfn_range()'s error.
 */
int dmabuf_core_pages_op_mmap(struct dmabuf_core_buffer *buf,
			      struct vm_area_struct *vma)
{
	return dmabuf_core_pages_mmap(buf->priv, vma);
}
EXPORT_SYMBOL_NS_GPL(dmabuf_core_pages_op_mmap, DMABUF_CORE_NS);

/**
 * dmabuf_core_pages_op_vmap - &dmabuf_core_ops.vmap for page buffers
 * @buf: a buffer whose priv is its allocated struct dmabuf_core_pages
 * @map: set to the mapping
 *
 * Return: 0 or dmabuf_core_pages_vmap()'s error.
 */
int dmabuf_core_pages_op_vmap(struct dmabuf_core_buffer *buf,
			      struct iosys_map *map)
{
	return dmabuf_core_pages_vmap(buf->priv, map);
}
EXPORT_SYMBOL_NS_GPL(dmabuf_core_pages_op_vmap, DMABUF_CORE_NS);

/**
 * dmabuf_core_pages_op_vunmap - &dmabuf_core_ops.vunmap for page buffers
 * @buf: the buffer
 * @map: what dmabuf_core_pages_op_vmap() set
 */
void dmabuf_core_pages_op_vunmap(struct dmabuf_core_buffer *buf,
				 struct iosys_map *map)
{
	dmabuf_core_pages_vunmap(map);
}
EXPORT_SYMBOL_NS_GPL(dmabuf_core_pages_op_vunmap, DMABUF_CORE_NS);
