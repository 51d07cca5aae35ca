// SPDX-License-Identifier: GPL-2.0-only
/*
 * Contiguous runs larger than the page allocator's largest block.
 *
 * Where the kernel has CMA for the DMA API (Debian's arm64 kernels, 7.3
 * on amd64), they come from its CMA area through dma_alloc_pages() on a
 * device of our own: the exported way into CMA on every kernel
 * (cma_alloc() is exported by 7.3 only).  The area is sized by the kernel
 * (64 MiB on Debian's arm64 kernels, none on amd64) or by cma= at boot.
 *
 * Where it has contiguous allocation and no CMA at all (Debian's amd64 6.1
 * and 6.12), they come from alloc_contig_range() over a range of page
 * frames picked here, as CMA and gigantic huge pages use it: it migrates
 * what lies there and hands the range over.  No exported allocator picks
 * the range (alloc_contig_pages() is not exported), so this file does:
 * frames online, in one zone, below the DMA limit, none reserved.
 *
 * No memory cgroup can be charged for such a run: no kernel exports a way
 * to charge pages that were not allocated with __GFP_ACCOUNT.  So large
 * runs are the administrator's to allow, from a budget of their own
 * (large_runs_mb, none by default), on top of max_total_mb.
 */
#include <linux/atomic.h>
#include <linux/cc_platform.h>
#include <linux/dma-direct.h>
#include <linux/dma-mapping.h>
#include <linux/gfp.h>
#include <linux/highmem.h>
#include <linux/memory_hotplug.h>
#include <linux/mm.h>
#include <linux/mmzone.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/nodemask.h>
#include <linux/page-flags.h>
#include <linux/platform_device.h>
#include <linux/sched/signal.h>

#include "../compat.h"
#include "internal.h"

static unsigned long dcore_large_runs_mb;
module_param_named(large_runs_mb, dcore_large_runs_mb, ulong, 0644);
MODULE_PARM_DESC(large_runs_mb,
		 "Most MiB all contiguous runs beyond the page allocator's largest block may hold; no memory cgroup is charged for them (default 0: none)");

static char *dcore_large_runs_from = DCORE_LARGE_RUNS_CMA ? "cma" :
				     DCORE_LARGE_RUNS_RANGE ? "contig_range" :
				     "none";
module_param_named(large_runs_from, dcore_large_runs_from, charp, 0444);
MODULE_PARM_DESC(large_runs_from,
		 "Where this kernel gives runs beyond the largest block: cma, contig_range or none");

/* Pages held in large runs right now. */
static atomic_long_t dcore_large_pages = ATOMIC_LONG_INIT(0);

/*
 * CMA: the device the runs are allocated for.  Both paths: one search at a
 * time, as the kernel's own CMA does with its cma_mutex.  Callers of
 * alloc_contig_range() over overlapping ranges undo each other's
 * isolation, and each attempt drains every CPU's lists; for CMA the lock
 * also keeps the device's coherent mask (each allocation's limit) until
 * its allocation is done.
 */
static struct platform_device *dcore_cma_pdev;
static DEFINE_MUTEX(dcore_large_lock);

/* The budget in pages; 0 where the kernel offers no large runs. */
static unsigned long dcore_large_budget(void)
{
	if (DCORE_LARGE_RUNS_CMA ? !dcore_cma_pdev : !DCORE_LARGE_RUNS_RANGE)
		return 0;
	return min_t(u64, totalram_pages(),
		     (u64)READ_ONCE(dcore_large_runs_mb) << (20 - PAGE_SHIFT));
}

/**
 * dcore_large_run_max - the largest run this file may give
 *
 * Return: bytes; 0 where the kernel offers no large runs or the
 * administrator allowed none.
 */
size_t dcore_large_run_max(void)
{
	return dcore_large_budget() << PAGE_SHIFT;
}

/*
 * CMA: @nr pages below @dma_limit.  dma_alloc_pages() zeroes them; CMA
 * aligns a run to its size up to CONFIG_CMA_ALIGNMENT, a run aligned less
 * than @min_order asks goes back.
 */
static struct page *dcore_large_run_cma(unsigned long nr, u64 dma_limit,
					unsigned int min_order)
{
	unsigned int bits = dma_limit == U64_MAX ? 64 : fls64(dma_limit + 1) - 1;
	struct device *dev = &dcore_cma_pdev->dev;
	size_t size = nr << PAGE_SHIFT;
	struct page *page = NULL;
	dma_addr_t dma;

	/* No zone serves a mask below ZONE_DMA's. */
	if (bits < 24)
		return NULL;
	if (!dma_set_coherent_mask(dev, DMA_BIT_MASK(bits)))
		page = dma_alloc_pages(dev, size, &dma, DMA_BIDIRECTIONAL,
				       GFP_KERNEL | __GFP_NOWARN);
	if (page && (!IS_ALIGNED(page_to_pfn(page), 1UL << min_order) ||
		     page_to_phys(page) + size - 1 > dma_limit)) {
		dma_free_pages(dev, size, page, dma, DMA_BIDIRECTIONAL);
		page = NULL;
	}
	return page;
}

/*
 * Whether the @nr frames from @pfn can be asked of alloc_contig_range():
 * online, all in @zone, none reserved.  Free or in use does not matter:
 * what is in use migrates.
 */
static bool dcore_range_usable(struct zone *zone, unsigned long pfn,
			       unsigned long nr)
{
	unsigned long end = pfn + nr;
	struct page *page;

	for (; pfn < end; pfn++) {
		page = pfn_to_online_page(pfn);
		if (!page || page_zone(page) != zone || PageReserved(page))
			return false;
	}
	return true;
}

/*
 * The first range of @nr frames in @zone, aligned to @align frames and
 * ending at or below frame @last, that alloc_contig_range() gives.
 */
static struct page *dcore_range_in(struct zone *zone, unsigned long nr,
				   unsigned long align, unsigned long last)
{
	const gfp_t gfp = GFP_KERNEL | __GFP_NOWARN | __GFP_RETRY_MAYFAIL;
	unsigned long step = ALIGN(nr, align);
	unsigned long pfn, end;

	end = min(zone_end_pfn(zone), last + 1);
	for (pfn = ALIGN(zone->zone_start_pfn, align);
	     pfn < end && end - pfn >= nr; pfn += step) {
		if (fatal_signal_pending(current))
			return NULL;
		cond_resched();
		if (!dcore_range_usable(zone, pfn, nr))
			continue;
		if (!dcore_alloc_contig_range(pfn, pfn + nr, gfp))
			return pfn_to_page(pfn);
	}
	return NULL;
}

/*
 * alloc_contig_range(): zones from ZONE_NORMAL down, every node's before
 * the next zone, so that memory a 32-bit device needs is taken last.  Not
 * ZONE_MOVABLE: a run is pinned for its buffer's life, and memory there
 * must stay free to go offline.  The pages come as the page allocator
 * left them: zeroed here.
 */
static struct page *dcore_large_run_range(unsigned long nr, u64 dma_limit,
					  unsigned int min_order)
{
	unsigned long align = max_t(unsigned long, pageblock_nr_pages,
				    1UL << min_order);
	unsigned long last = PHYS_PFN(min_t(u64, dma_limit, PHYS_ADDR_MAX));
	struct page *page = NULL;
	unsigned long i;
	int nid, z;

	for (z = ZONE_NORMAL; z >= 0 && !page; z--) {
		for_each_online_node(nid) {
			struct zone *zone = &NODE_DATA(nid)->node_zones[z];

			if (populated_zone(zone) && zone->spanned_pages >= nr)
				page = dcore_range_in(zone, nr, align, last);
			if (page)
				break;
		}
	}
	for (i = 0; page && i < nr; i++) {
		clear_highpage(page + i);
		if (!(i % 256))
			cond_resched();
	}
	return page;
}

/**
 * dcore_large_run_alloc - a zeroed run of more pages than the largest block
 * @nr: pages
 * @dma_limit: highest physical address any page may have
 * @min_order: the run's start is aligned to 2^@min_order pages
 *
 * Each page of the run is its own, as dcore_alloc_run() leaves them.
 *
 * Context: process context; may sleep for long: pages migrate, and a
 * migration waits for a locked page (a FUSE server can hold one).  A fatal
 * signal ends the search between ranges.
 * Return: the first page, or NULL: over the budget, no such run, or a
 * fatal signal.
 */
struct page *dcore_large_run_alloc(unsigned long nr, u64 dma_limit,
				   unsigned int min_order)
{
	struct page *page = NULL;

	if (atomic_long_add_return(nr, &dcore_large_pages) <= dcore_large_budget() &&
	    !mutex_lock_killable(&dcore_large_lock)) {
		if (DCORE_LARGE_RUNS_CMA && dcore_cma_pdev)
			page = dcore_large_run_cma(nr, dma_limit, min_order);
		else if (DCORE_LARGE_RUNS_RANGE)
			page = dcore_large_run_range(nr, dma_limit, min_order);
		mutex_unlock(&dcore_large_lock);
	}
	if (!page)
		atomic_long_sub(nr, &dcore_large_pages);
	return page;
}

/**
 * dcore_large_run_free - give back a run of dcore_large_run_alloc()
 * @page: its first page
 * @nr: its pages
 */
void dcore_large_run_free(struct page *page, unsigned long nr)
{
	struct device *dev;

	if (DCORE_LARGE_RUNS_CMA) {
		dev = &dcore_cma_pdev->dev;
		dma_free_pages(dev, nr << PAGE_SHIFT, page,
			       phys_to_dma(dev, page_to_phys(page)),
			       DMA_BIDIRECTIONAL);
	} else {
		dcore_free_contig_range(page_to_pfn(page), nr);
	}
	atomic_long_sub(nr, &dcore_large_pages);
}

/**
 * dcore_large_runs_init - the device CMA runs are allocated for
 *
 * Named for this module, never a mainline name; only on kernels with CMA
 * for the DMA API.  Without it (no memory for it at load) there are no
 * large runs, and the module works on.
 */
void dcore_large_runs_init(void)
{
	struct platform_device_info info = {
		.name = "dmabuf-core-cma",
		.id = PLATFORM_DEVID_NONE,
		.dma_mask = DMA_BIT_MASK(64),
	};
	struct platform_device *pdev;

	if (!DCORE_LARGE_RUNS_CMA)
		return;
	/*
	 * Memory the DMA API hands out decrypted (SEV, TDX, arm64 realms)
	 * would be mapped encrypted by the heaps: no CMA runs there.
	 */
	if (cc_platform_has(CC_ATTR_MEM_ENCRYPT))
		return;
	pdev = platform_device_register_full(&info);
	if (IS_ERR(pdev)) {
		pr_warn("dmabuf-core: no device for CMA runs (%ld): runs beyond %lu KiB refused\n",
			PTR_ERR(pdev), (PAGE_SIZE << DCORE_MAX_PAGE_ORDER) / 1024);
		return;
	}
	/* A device whose DMA goes through ops (Xen) hands out other handles. */
	if (!dcore_dev_dma_direct(&pdev->dev)) {
		platform_device_unregister(pdev);
		return;
	}
	dcore_cma_pdev = pdev;
}

/* Every run was freed with its buffer: every buffer pins this module. */
void dcore_large_runs_exit(void)
{
	if (dcore_cma_pdev)
		platform_device_unregister(dcore_cma_pdev);
}
