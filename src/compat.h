/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Differences between the kernels dmabuf-core supports (Debian 6.1, 6.12
 * and the newest trixie-backports kernel), kept in this one place.  The
 * DMABUF_CORE_HAVE_* / _NEED_* macros come from probes of the target's
 * headers in Kbuild, not from version numbers.
 */
#ifndef _DMABUF_CORE_COMPAT_H
#define _DMABUF_CORE_COMPAT_H

/*
 * The symbol namespace, for EXPORT_SYMBOL_NS_GPL() and MODULE_IMPORT_NS().
 * Linux 6.13 ("module: Convert symbol namespace to string literal") made
 * it a string literal; before, it was a bare identifier the macros
 * stringified.
 */
#ifdef DMABUF_CORE_NEED_BARE_NS
#define DMABUF_CORE_NS		DMABUF_CORE
#define DMABUF_CORE_DMA_BUF_NS	DMA_BUF		/* the kernel's dma-buf */
#else
#define DMABUF_CORE_NS		"DMABUF_CORE"
#define DMABUF_CORE_DMA_BUF_NS	"DMA_BUF"
#endif

/*
 * VMA flags: Linux 6.3 made vm_flags read-only behind vm_flags_set()
 * ("mm: introduce vma->vm_flags wrapper functions").
 */
#include <linux/dma-map-ops.h>
#include <linux/mm.h>
static inline void dcore_vm_flags_set(struct vm_area_struct *vma,
				      unsigned long flags)
{
#ifdef DMABUF_CORE_HAVE_VM_FLAGS_SET
	vm_flags_set(vma, flags);
#else
	vma->vm_flags |= flags;
#endif
}

/*
 * The page allocator's largest order: Linux 6.8 ("mm, treewide: rename
 * MAX_ORDER to MAX_PAGE_ORDER") gave it this name.  Before, MAX_ORDER
 * counted one beyond it (6.4 made it inclusive under the old name, where
 * MAX_ORDER - 1 only leaves one order unused).
 */
#ifdef MAX_PAGE_ORDER
#define DCORE_MAX_PAGE_ORDER	MAX_PAGE_ORDER
#else
#define DCORE_MAX_PAGE_ORDER	(MAX_ORDER - 1)
#endif

/*
 * Kernel mappings of a dma-buf: 6.2 ("dma-buf: Move dma_buf_vmap() to
 * dynamic locking specification") made dma_buf_vmap() a call under the
 * reservation lock and added the _unlocked variants that take it.
 */
#include <linux/dma-buf.h>
static inline int dcore_dma_buf_vmap(struct dma_buf *dmabuf,
				     struct iosys_map *map)
{
#ifdef DMABUF_CORE_HAVE_DMA_BUF_VMAP_UNLOCKED
	return dma_buf_vmap_unlocked(dmabuf, map);
#else
	return dma_buf_vmap(dmabuf, map);
#endif
}

static inline void dcore_dma_buf_vunmap(struct dma_buf *dmabuf,
					struct iosys_map *map)
{
#ifdef DMABUF_CORE_HAVE_DMA_BUF_VMAP_UNLOCKED
	dma_buf_vunmap_unlocked(dmabuf, map);
#else
	dma_buf_vunmap(dmabuf, map);
#endif
}

/*
 * Whether @dev's streaming DMA is dma-direct: no dma_map_ops of its own
 * (Xen swiotlb, AMD GART, other architectures' IOMMUs) and not iommu-dma,
 * which 6.1 installs as dma_ops and 6.12 on marks in the device.  An
 * identity IOMMU domain is dma-direct.
 */
static inline bool dcore_dev_dma_direct(struct device *dev)
{
	if (get_dma_ops(dev))
		return false;
#if defined(DMABUF_CORE_HAVE_DEV_DMA_IOMMU_FLAG)
	return !dev_dma_iommu(dev);
#elif defined(DMABUF_CORE_HAVE_DEV_DMA_IOMMU_FIELD) && IS_ENABLED(CONFIG_IOMMU_DMA)
	return !dev->dma_iommu;
#else
	return true;
#endif
}

/*
 * Whether a DMA address of @dev (one that is a physical address) lies in a
 * swiotlb bounce buffer: newer kernels (6.12 among ours) replaced
 * is_swiotlb_buffer() with swiotlb_find_pool().
 */
#include <linux/swiotlb.h>
static inline bool dcore_dma_bounced(struct device *dev, phys_addr_t paddr)
{
#ifdef DMABUF_CORE_HAVE_SWIOTLB_FIND_POOL
	return swiotlb_find_pool(dev, paddr);
#else
	return is_swiotlb_buffer(dev, paddr);
#endif
}

/*
 * Contiguous runs beyond the largest block (large_run.c).  Kernels with
 * CMA for the DMA API (Debian's arm64 kernels, 7.3 on amd64) give them
 * from CMA; kernels with contiguous allocation and no CMA at all (6.1 and
 * 6.12 on amd64) from alloc_contig_range() over a range the module picks.
 * With CMA but not for the DMA API, none: such a range could cover a CMA
 * area's pageblocks.  Newer kernels (7.3 among ours) take flags instead of
 * a migrate type in alloc_contig_range().
 */
#include <linux/gfp.h>
#include <linux/mmzone.h>
#if IS_ENABLED(CONFIG_DMA_CMA)
#define DCORE_LARGE_RUNS_CMA	1
#define DCORE_LARGE_RUNS_RANGE	0
#elif IS_ENABLED(CONFIG_CONTIG_ALLOC) && !IS_ENABLED(CONFIG_CMA)
#define DCORE_LARGE_RUNS_CMA	0
#define DCORE_LARGE_RUNS_RANGE	1
#else
#define DCORE_LARGE_RUNS_CMA	0
#define DCORE_LARGE_RUNS_RANGE	0
#endif
#if DCORE_LARGE_RUNS_RANGE
#ifdef ACR_FLAGS_NONE
#define dcore_alloc_contig_range(start, end, gfp)			\
	alloc_contig_range(start, end, ACR_FLAGS_NONE, gfp)
#else
#define dcore_alloc_contig_range(start, end, gfp)			\
	alloc_contig_range(start, end, MIGRATE_MOVABLE, gfp)
#endif
#define dcore_free_contig_range(pfn, nr)	free_contig_range(pfn, nr)
#else
static inline int dcore_alloc_contig_range(unsigned long start,
					   unsigned long end, gfp_t gfp)
{
	return -EOPNOTSUPP;
}

static inline void dcore_free_contig_range(unsigned long pfn,
					   unsigned long nr)
{
}
#endif

#endif /* _DMABUF_CORE_COMPAT_H */
