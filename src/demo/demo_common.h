/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Pieces shared by the demo exporter and importer: the device each one
 * stands for, and page-wise pattern access.  Static inlines, so that each
 * module carries its own copy and no object is linked into two modules.
 */
#ifndef _DMABUF_DEMO_COMMON_H
#define _DMABUF_DEMO_COMMON_H

#include <linux/capability.h>
#include <linux/dma-mapping.h>
#include <linux/gfp.h>
#include <linux/highmem.h>
#include <linux/platform_device.h>
#include <dmabuf_demo_pattern.h>

#define DEMO_WORDS_PER_PAGE	(PAGE_SIZE / sizeof(__le32))

/*
 * What a user keeps alive (buffers, held attachments) is charged to its
 * memory cgroup and refused with -ENOMEM at the limit, never an OOM kill.
 */
#define DEMO_GFP_RECORD		(GFP_KERNEL_ACCOUNT | __GFP_RETRY_MAYFAIL | \
				 __GFP_NOWARN)

/**
 * demo_device_create - a platform device standing for a DMA-capable device
 * @name: platform device name
 * @id: instance number, or PLATFORM_DEVID_NONE
 * @dma_bits: width of its DMA mask, 24 to 64
 * @max_seg: its largest DMA segment in bytes, at least PAGE_SIZE
 *
 * Return: the device or an ERR_PTR().
 */
static inline struct platform_device *
demo_device_create(const char *name, int id, unsigned int dma_bits,
		   unsigned int max_seg)
{
	struct platform_device_info info = {
		.name = name,
		.id = id,
		.dma_mask = DMA_BIT_MASK(dma_bits),
	};
	struct platform_device *pdev;

	pdev = platform_device_register_full(&info);
	if (IS_ERR(pdev))
		return pdev;
	dma_set_max_seg_size(&pdev->dev, max_seg);
	return pdev;
}

/*
 * Physical addresses and page-frame hashes are for the administrator only:
 * the kernel hides page frames from everyone else since rowhammer.  The
 * demo nodes are open to group video.
 */
static inline bool demo_may_see_addresses(void)
{
	return capable(CAP_SYS_ADMIN);
}

/* Fill one page of the buffer, whose first word has index @word. */
static inline void demo_write_page(struct page *page, u32 seed, u64 word)
{
	__le32 *va = kmap_local_page(page);
	unsigned int i;

	for (i = 0; i < DEMO_WORDS_PER_PAGE; i++)
		va[i] = cpu_to_le32(dmabuf_demo_pattern_word(seed, word + i));
	kunmap_local(va);
}

/*
 * Hash one page into *@sum and, when @mismatches is given, count the words
 * that differ from the pattern, noting the first in *@first (bytes).
 */
static inline void demo_read_page(struct page *page, u32 seed, u64 word,
				  u64 *sum, u64 *mismatches, u64 *first)
{
	const __le32 *va = kmap_local_page(page);
	unsigned int i;

	*sum = dmabuf_demo_fnv(*sum, va, PAGE_SIZE);
	for (i = 0; mismatches && i < DEMO_WORDS_PER_PAGE; i++) {
		if (le32_to_cpu(va[i]) == dmabuf_demo_pattern_word(seed, word + i))
			continue;
		if (!*mismatches)
			*first = (word + i) * sizeof(u32);
		(*mismatches)++;
	}
	kunmap_local(va);
}

/* Continue the hash of page identities with @page's physical address. */
static inline u64 demo_hash_page(u64 hash, struct page *page)
{
	__le64 phys = cpu_to_le64(page_to_phys(page));

	return dmabuf_demo_fnv(hash, &phys, sizeof(phys));
}

#endif /* _DMABUF_DEMO_COMMON_H */
