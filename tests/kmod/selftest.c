// SPDX-License-Identifier: GPL-2.0-only
/*
 * dmabuf_selftest.ko: tests of dmabuf-core's kernel API that no ioctl can
 * reach (export validation, map/unmap bookkeeping, release counting).  Runs
 * at load; prints "PASS: selftest: <name>" / "FAIL: selftest: <name>: ..."
 * lines to the kernel log and leaves the tallies in its parameters.  Every
 * buffer it exports is released once insmod returns to userspace (the last
 * put happens in insmod's context): "releases" must then equal "exports".
 */
#include <linux/dma-mapping.h>
#include <linux/err.h>
#include <linux/fcntl.h>
#include <linux/fdtable.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/highmem.h>
#include <linux/iosys-map.h>
#include <linux/module.h>
#include <linux/scatterlist.h>
#include <linux/sizes.h>
#include <linux/slab.h>
#include <linux/dma-buf.h>
#include <linux/dmabuf_core.h>
#include <linux/dmabuf_core_pages.h>

#include "../../src/compat.h"
#include "../../src/demo/demo_common.h"

static unsigned int passed, failed, exports, releases;
module_param(passed, uint, 0444);
module_param(failed, uint, 0444);
module_param(exports, uint, 0444);
module_param(releases, uint, 0444);

/*
 * kmemleak's positive control: writing 1 here drops one allocation filled
 * with ST_CANARY_BYTE on purpose, and the debug kernel's guest requires
 * kmemleak to report it (tests/guest/checks.sh), so that a leak check that
 * cannot fail is noticed.
 */
#define ST_CANARY_SIZE	64
#define ST_CANARY_BYTE	0xc5	/* none of slub's poison or redzone bytes */

static noinline void st_leak_canary(void)
{
	void *p = kmalloc(ST_CANARY_SIZE, GFP_KERNEL);

	if (!p)
		return;
	memset(p, ST_CANARY_BYTE, ST_CANARY_SIZE);
	/* kmalloc() is malloc-like: without this the fill is a dead store. */
	barrier_data(p);
}

static int st_leak_canary_set(const char *val, const struct kernel_param *kp)
{
	bool leak;
	int ret = kstrtobool(val, &leak);

	if (!ret && leak)
		st_leak_canary();
	return ret;
}

static const struct kernel_param_ops st_leak_canary_ops = {
	.set = st_leak_canary_set,
};
module_param_cb(leak_canary, &st_leak_canary_ops, NULL, 0200);
MODULE_PARM_DESC(leak_canary, "Write 1 to leak one 64-byte allocation of 0xc5 bytes (kmemleak's positive control)");

static struct platform_device *st_pdev;
static struct device *st_dev;

/* How the test exporter behaves, and what it saw. */
static struct {
	int attach_ret;		/* what attach returns */
	int map_ret;		/* non-zero: map fails with it */
	unsigned int attaches, detaches, maps, unmaps;
} st;

#define CHECK(name, cond, fmt, ...)					\
	do {								\
		const char *name__ = (name);				\
									\
		if (cond) {						\
			passed++;					\
			pr_info("PASS: selftest: %s\n", name__);	\
		} else {						\
			failed++;					\
			pr_info("FAIL: selftest: %s: " fmt "\n", name__,	\
				##__VA_ARGS__);				\
		}							\
	} while (0)

/*
 * The harness fails a run on any warning of ours in the kernel log, except
 * one announced right before it, at the same level, by this line.
 */
static void expect_warning(const char *text)
{
	pr_warn("dmabuf-core-harness: expect warning: %s\n", text);
}

static int st_attach(struct dmabuf_core_buffer *buf, struct dmabuf_core_attachment *att)
{
	if (!st.attach_ret)
		st.attaches++;
	return st.attach_ret;
}

static void st_detach(struct dmabuf_core_buffer *buf, struct dmabuf_core_attachment *att)
{
	st.detaches++;
}

static struct sg_table *st_map(struct dmabuf_core_attachment *att,
			       enum dma_data_direction dir)
{
	struct sg_table *sgt;

	if (st.map_ret)
		return ERR_PTR(st.map_ret);
	sgt = dmabuf_core_pages_map(att->buf->priv, att->dev, dir);
	if (!IS_ERR(sgt))
		st.maps++;
	return sgt;
}

static void st_unmap(struct dmabuf_core_attachment *att, struct sg_table *sgt,
		     enum dma_data_direction dir)
{
	dmabuf_core_pages_unmap(att->dev, sgt, dir);
	st.unmaps++;
}

static void st_release(struct dmabuf_core_buffer *buf)
{
	struct dmabuf_core_pages *pages = buf->priv;

	dmabuf_core_pages_free(pages);
	kfree(pages);
	releases++;
}

static const struct dmabuf_core_ops st_ops = {
	.attach = st_attach,
	.detach = st_detach,
	.map = st_map,
	.unmap = st_unmap,
	.release = st_release,
};

/* The page-storage helpers' callbacks, with a kernel mapping. */
static const struct dmabuf_core_ops st_pages_ops = {
	.attach = dmabuf_core_pages_op_attach,
	.map = st_map,
	.unmap = st_unmap,
	.release = st_release,
	.vmap = dmabuf_core_pages_op_vmap,
	.vunmap = dmabuf_core_pages_op_vunmap,
};

static struct dmabuf_core_buffer *
st_export_ops(size_t size, int flags, const struct dmabuf_core_ops *ops)
{
	DMABUF_CORE_EXPORT_INFO(info);
	struct dmabuf_core_pages *pages;
	struct dmabuf_core_buffer *buf;

	pages = kzalloc(sizeof(*pages), GFP_KERNEL);
	if (!pages)
		return ERR_PTR(-ENOMEM);
	if (dmabuf_core_pages_alloc(pages, size, U64_MAX, 0)) {
		kfree(pages);
		return ERR_PTR(-ENOMEM);
	}
	info.ops = ops;
	info.size = size;
	info.flags = flags;
	info.priv = pages;
	buf = dmabuf_core_export(&info);
	if (IS_ERR(buf)) {
		dmabuf_core_pages_free(pages);
		kfree(pages);
		return buf;
	}
	exports++;
	return buf;
}

static struct dmabuf_core_buffer *st_export(size_t size, int flags)
{
	return st_export_ops(size, flags, &st_ops);
}

static const struct dmabuf_core_ops no_map = { .unmap = st_unmap, .release = st_release };
static const struct dmabuf_core_ops no_unmap = { .map = st_map, .release = st_release };
static const struct dmabuf_core_ops no_release = { .map = st_map, .unmap = st_unmap };

static void st_export_validation(void)
{
	DMABUF_CORE_EXPORT_INFO(info);
	unsigned int refs = module_refcount(THIS_MODULE);
	struct dmabuf_core_buffer *buf;

	info.size = PAGE_SIZE;
	info.ops = &no_map;
	buf = dmabuf_core_export(&info);
	CHECK("export refuses ops without map", PTR_ERR(buf) == -EINVAL, "got %ld", PTR_ERR(buf));
	info.ops = &no_unmap;
	buf = dmabuf_core_export(&info);
	CHECK("export refuses ops without unmap", PTR_ERR(buf) == -EINVAL, "got %ld", PTR_ERR(buf));
	info.ops = &no_release;
	buf = dmabuf_core_export(&info);
	CHECK("export refuses ops without release", PTR_ERR(buf) == -EINVAL,
	      "got %ld", PTR_ERR(buf));

	info.ops = &st_ops;
	info.size = 0;
	buf = dmabuf_core_export(&info);
	CHECK("export refuses size 0", PTR_ERR(buf) == -EINVAL, "got %ld", PTR_ERR(buf));
	info.size = PAGE_SIZE + 1;
	buf = dmabuf_core_export(&info);
	CHECK("export refuses unaligned size", PTR_ERR(buf) == -EINVAL, "got %ld", PTR_ERR(buf));
	info.size = PAGE_SIZE;
	info.flags = O_APPEND;
	buf = dmabuf_core_export(&info);
	CHECK("export refuses unknown flags", PTR_ERR(buf) == -EINVAL, "got %ld", PTR_ERR(buf));
	info.flags = O_ACCMODE;
	buf = dmabuf_core_export(&info);
	CHECK("export refuses access mode 3", PTR_ERR(buf) == -EINVAL, "got %ld", PTR_ERR(buf));
	info.flags = O_RDWR;
	buf = dmabuf_core_export(NULL);
	CHECK("export refuses NULL info", PTR_ERR(buf) == -EINVAL, "got %ld", PTR_ERR(buf));
	info.owner = NULL;
	buf = dmabuf_core_export(&info);
	CHECK("export refuses a module's info with no owner", PTR_ERR(buf) == -EINVAL,
	      "got %ld", PTR_ERR(buf));
	info.owner = THIS_MODULE;

	CHECK("refused exports pin nothing", module_refcount(THIS_MODULE) == refs,
	      "refcount %d, was %u", module_refcount(THIS_MODULE), refs);
	CHECK("refused exports release nothing", releases == 0, "%u releases", releases);
}

static void st_references(void)
{
	unsigned int refs = module_refcount(THIS_MODULE);
	struct dmabuf_core_buffer *buf;

	buf = st_export(PAGE_SIZE, O_RDWR);
	if (IS_ERR(buf)) {
		CHECK("export", false, "got %ld", PTR_ERR(buf));
		return;
	}
	CHECK("export pins the exporter module", module_refcount(THIS_MODULE) == refs + 1,
	      "refcount %d, was %u", module_refcount(THIS_MODULE), refs);
	CHECK("export gives a unique non-zero id", buf->id != 0, "id %llu", buf->id);
	CHECK("dmabuf_core_fd refuses flags other than O_CLOEXEC",
	      dmabuf_core_fd(buf, O_APPEND) == -EINVAL, "accepted O_APPEND");
	CHECK("dmabuf_core_get refuses a negative fd", PTR_ERR(dmabuf_core_get(-1)) == -EBADF,
	      "got %ld", PTR_ERR(dmabuf_core_get(-1)));
	CHECK("dmabuf_core_get refuses a closed fd", PTR_ERR(dmabuf_core_get(1000000)) == -EBADF,
	      "got %ld", PTR_ERR(dmabuf_core_get(1000000)));
	dmabuf_core_ref(buf);
	CHECK("dmabuf_core_ref takes a file reference", file_count(buf->dmabuf->file) == 2,
	      "count %ld", (long)file_count(buf->dmabuf->file));
	dmabuf_core_put(buf);
	CHECK("put of one of two references leaves the file",
	      file_count(buf->dmabuf->file) == 1, "count %ld", (long)file_count(buf->dmabuf->file));
	dmabuf_core_put(buf);
	dmabuf_core_put(NULL);
}

static void st_attach_map(void)
{
	struct dmabuf_core_attachment *a1, *a2, *bad;
	struct sg_table *sgt, *sgt2, foreign = {};
	struct dmabuf_core_buffer *buf;
	long count;
	int ret;

	buf = st_export(4 * PAGE_SIZE, O_RDWR);
	if (IS_ERR(buf)) {
		CHECK("export", false, "got %ld", PTR_ERR(buf));
		return;
	}
	count = file_count(buf->dmabuf->file);

	bad = dmabuf_core_attach(buf, NULL);
	CHECK("attach refuses a NULL device", PTR_ERR(bad) == -EINVAL, "got %ld", PTR_ERR(bad));
	st.attach_ret = -EBUSY;
	bad = dmabuf_core_attach(buf, st_dev);
	st.attach_ret = 0;
	CHECK("the exporter's attach hook may refuse",
	      PTR_ERR(bad) == -EBUSY && (st.attaches - st.detaches) == 0 &&
	      file_count(buf->dmabuf->file) == count,
	      "got %ld, %u attachments", PTR_ERR(bad), (st.attaches - st.detaches));

	a1 = dmabuf_core_attach(buf, st_dev);
	a2 = dmabuf_core_attach(buf, st_dev);
	if (IS_ERR(a1) || IS_ERR(a2)) {
		CHECK("attach", false, "got %ld %ld", PTR_ERR(a1), PTR_ERR(a2));
		dmabuf_core_detach(buf, a1);		/* both ignore error pointers */
		dmabuf_core_detach(buf, a2);
		goto out;
	}
	CHECK("one attachment per attach call",
	      a1 != a2 && (st.attaches - st.detaches) == 2 && st.attaches == 2,
	      "%u attachments", (st.attaches - st.detaches));
	CHECK("attachments hold buffer references", file_count(buf->dmabuf->file) == count + 2,
	      "count %ld", (long)file_count(buf->dmabuf->file));

	sgt = dmabuf_core_map_attachment(a1, DMA_NONE);
	CHECK("map refuses DMA_NONE", PTR_ERR(sgt) == -EINVAL, "got %ld", PTR_ERR(sgt));
	sgt = dmabuf_core_map_attachment(a1, (enum dma_data_direction)7);
	CHECK("map refuses a bogus direction", PTR_ERR(sgt) == -EINVAL, "got %ld", PTR_ERR(sgt));
	st.map_ret = -EINTR;
	sgt = dmabuf_core_map_attachment(a1, DMA_TO_DEVICE);
	st.map_ret = 0;
	CHECK("map passes the exporter's -EINTR on",
	      PTR_ERR(sgt) == -EINTR && (st.maps - st.unmaps) == 0,
	      "got %ld, %u mappings", PTR_ERR(sgt), (st.maps - st.unmaps));

	sgt = dmabuf_core_map_attachment(a1, DMA_TO_DEVICE);
	if (IS_ERR(sgt)) {
		CHECK("map", false, "got %ld", PTR_ERR(sgt));
		goto out_detach;
	}
	CHECK("map returns a DMA-mapped table of the whole buffer",
	      sgt->nents > 0 && (st.maps - st.unmaps) == 1 && sg_dma_len(sgt->sgl) > 0,
	      "%u nents, %u mappings", sgt->nents, (st.maps - st.unmaps));

	ret = dmabuf_core_unmap_attachment(a1, &foreign, DMA_TO_DEVICE);
	CHECK("unmap refuses a table map did not return",
	      ret == -EINVAL && (st.maps - st.unmaps) == 1 && st.unmaps == 0,
	      "got %d, %u mappings, %u unmaps", ret, (st.maps - st.unmaps), st.unmaps);
	ret = dmabuf_core_unmap_attachment(a2, sgt, DMA_TO_DEVICE);
	CHECK("unmap refuses another attachment's table",
	      ret == -EINVAL && (st.maps - st.unmaps) == 1 && st.unmaps == 0,
	      "got %d", ret);
	ret = dmabuf_core_unmap_attachment(a1, sgt, DMA_FROM_DEVICE);
	CHECK("unmap refuses the wrong direction",
	      ret == -EINVAL && (st.maps - st.unmaps) == 1 && st.unmaps == 0,
	      "got %d", ret);
	ret = dmabuf_core_unmap_attachment(a1, ERR_PTR(-ENOMEM), DMA_TO_DEVICE);
	CHECK("unmap refuses an error pointer", ret == -EINVAL, "got %d", ret);
	ret = dmabuf_core_unmap_attachment(a1, sgt, DMA_TO_DEVICE);
	CHECK("unmap of the mapped table", ret == 0 && (st.maps - st.unmaps) == 0 && st.unmaps == 1,
	      "got %d, %u mappings", ret, (st.maps - st.unmaps));
	ret = dmabuf_core_unmap_attachment(a1, sgt, DMA_TO_DEVICE);
	CHECK("second unmap is refused", ret == -EINVAL && st.unmaps == 1,
	      "got %d, %u unmaps", ret, st.unmaps);

	sgt = dmabuf_core_map_attachment(a1, DMA_BIDIRECTIONAL);
	sgt2 = dmabuf_core_map_attachment(a2, DMA_FROM_DEVICE);
	CHECK("two attachments map at once",
	      !IS_ERR(sgt) && !IS_ERR(sgt2) && (st.maps - st.unmaps) == 2,
	      "%u mappings", (st.maps - st.unmaps));
	if (!IS_ERR(sgt2))
		dmabuf_core_unmap_attachment(a2, sgt2, DMA_FROM_DEVICE);

out_detach:
	/* a1 may still be mapped: detach must unmap it, with a warning. */
	if (!IS_ERR_OR_NULL(sgt))
		expect_warning("detached while mapped");
	dmabuf_core_detach(buf, a1);
	dmabuf_core_detach(buf, a2);
	CHECK("detach unmaps what the importer forgot",
	      st.maps == st.unmaps && (st.maps - st.unmaps) == 0,
	      "%u maps, %u unmaps", st.maps, st.unmaps);
	CHECK("detach calls the exporter's detach",
	      st.detaches == 2 && (st.attaches - st.detaches) == 0 &&
	      file_count(buf->dmabuf->file) == count,
	      "%u detaches", st.detaches);
out:
	dmabuf_core_put(buf);
}

/*
 * One attachment mapped several times at once: the first live mapping's
 * record is part of the attachment, the others are allocated, and any
 * order of unmaps frees the right ones (kmemleak and KASAN watch on the
 * debug kernel).
 */
static void st_map_several(void)
{
	struct sg_table *sgt[3], *again;
	struct dmabuf_core_attachment *att;
	struct dmabuf_core_buffer *buf;
	unsigned int maps = st.maps, unmaps = st.unmaps, i;
	int ret;

	buf = st_export(2 * PAGE_SIZE, O_RDWR);
	if (IS_ERR(buf)) {
		CHECK("export", false, "got %ld", PTR_ERR(buf));
		return;
	}
	att = dmabuf_core_attach(buf, st_dev);
	if (IS_ERR(att)) {
		CHECK("attach", false, "got %ld", PTR_ERR(att));
		goto out;
	}
	sgt[0] = dmabuf_core_map_attachment(att, DMA_TO_DEVICE);
	sgt[1] = dmabuf_core_map_attachment(att, DMA_FROM_DEVICE);
	st.map_ret = -ENOMEM;
	again = dmabuf_core_map_attachment(att, DMA_TO_DEVICE);
	st.map_ret = 0;
	sgt[2] = dmabuf_core_map_attachment(att, DMA_BIDIRECTIONAL);
	CHECK("three live mappings of one attachment",
	      !IS_ERR(sgt[0]) && !IS_ERR(sgt[1]) && !IS_ERR(sgt[2]) &&
	      sgt[0] != sgt[1] && sgt[1] != sgt[2] && sgt[0] != sgt[2] &&
	      st.maps - maps == 3, "got %d %d %d, %u maps",
	      PTR_ERR_OR_ZERO(sgt[0]), PTR_ERR_OR_ZERO(sgt[1]),
	      PTR_ERR_OR_ZERO(sgt[2]), st.maps - maps);
	CHECK("a failed map beside live ones changes nothing",
	      PTR_ERR(again) == -ENOMEM && st.maps - maps == 3 && st.unmaps == unmaps,
	      "got %ld", PTR_ERR(again));
	for (i = 0; i < 3; i++)
		if (IS_ERR(sgt[i]))
			goto out_detach;

	/* The middle one, then the first: the attachment's own record. */
	ret = dmabuf_core_unmap_attachment(att, sgt[1], DMA_FROM_DEVICE);
	ret = ret ?: dmabuf_core_unmap_attachment(att, sgt[0], DMA_TO_DEVICE);
	CHECK("unmaps in any order", ret == 0 && st.unmaps - unmaps == 2,
	      "got %d, %u unmaps", ret, st.unmaps - unmaps);
	sgt[0] = dmabuf_core_map_attachment(att, DMA_TO_DEVICE);
	sgt[1] = dmabuf_core_map_attachment(att, DMA_TO_DEVICE);
	CHECK("maps again beside the one left",
	      !IS_ERR(sgt[0]) && !IS_ERR(sgt[1]) && st.maps - maps == 5,
	      "got %d %d", PTR_ERR_OR_ZERO(sgt[0]), PTR_ERR_OR_ZERO(sgt[1]));
	ret = dmabuf_core_unmap_attachment(att, sgt[2], DMA_TO_DEVICE);
	CHECK("unmap still checks the direction of each",
	      ret == -EINVAL && st.unmaps - unmaps == 2, "got %d", ret);
	ret = dmabuf_core_unmap_attachment(att, sgt[2], DMA_BIDIRECTIONAL);
	for (i = 0; i < 2; i++)
		if (!IS_ERR(sgt[i]))
			ret = ret ?: dmabuf_core_unmap_attachment(att, sgt[i],
								  DMA_TO_DEVICE);
	CHECK("every mapping unmapped once",
	      ret == 0 && st.maps - maps == 5 && st.unmaps - unmaps == 5,
	      "got %d, %u maps, %u unmaps", ret, st.maps - maps, st.unmaps - unmaps);
out_detach:
	dmabuf_core_detach(buf, att);
out:
	dmabuf_core_put(buf);
}

static void st_read_only(void)
{
	struct dmabuf_core_attachment *att;
	struct sg_table *sgt;
	struct dmabuf_core_buffer *buf;

	buf = st_export(PAGE_SIZE, O_RDONLY);
	if (IS_ERR(buf))
		return;
	att = dmabuf_core_attach(buf, st_dev);
	if (!IS_ERR(att)) {
		sgt = dmabuf_core_map_attachment(att, DMA_FROM_DEVICE);
		CHECK("a read-only buffer refuses device writes (FROM_DEVICE)",
		      PTR_ERR(sgt) == -EACCES, "got %ld", PTR_ERR(sgt));
		sgt = dmabuf_core_map_attachment(att, DMA_BIDIRECTIONAL);
		CHECK("a read-only buffer refuses device writes (BIDIRECTIONAL)",
		      PTR_ERR(sgt) == -EACCES, "got %ld", PTR_ERR(sgt));
		sgt = dmabuf_core_map_attachment(att, DMA_TO_DEVICE);
		CHECK("a read-only buffer maps for device reads", !IS_ERR(sgt),
		      "got %ld", PTR_ERR(sgt));
		if (!IS_ERR(sgt))
			dmabuf_core_unmap_attachment(att, sgt, DMA_TO_DEVICE);
		dmabuf_core_detach(buf, att);
	}
	dmabuf_core_put(buf);
}

static void st_release_after_detach(void)
{
	struct dmabuf_core_attachment *att;
	struct dmabuf_core_buffer *buf;

	/* Put the buffer first: the attachment keeps it alive until detach. */
	buf = st_export(PAGE_SIZE, O_RDWR);
	if (IS_ERR(buf))
		return;
	att = dmabuf_core_attach(buf, st_dev);
	dmabuf_core_put(buf);
	CHECK("an attachment outlives the importer's put",
	      !IS_ERR(att) && releases == 0 && file_count(buf->dmabuf->file) == 1,
	      "att %d, %u releases", PTR_ERR_OR_ZERO(att), releases);
	if (!IS_ERR(att))
		dmabuf_core_detach(buf, att);
}

static void st_vmap(void)
{
	struct dmabuf_core_buffer *buf;
	struct dmabuf_core_pages *pages;
	struct iosys_map m1 = {}, m2 = {};
	u32 *last_page;
	int ret;

	buf = st_export(3 * PAGE_SIZE, O_RDWR);
	if (IS_ERR(buf))
		return;
	ret = dmabuf_core_vmap(buf, &m1);
	CHECK("vmap without an exporter vmap op is refused", ret == -EINVAL,
	      "got %d", ret);
	dmabuf_core_put(buf);

	buf = st_export_ops(3 * PAGE_SIZE, O_RDWR, &st_pages_ops);
	if (IS_ERR(buf))
		return;
	pages = buf->priv;
	ret = dmabuf_core_vmap(buf, &m1);
	CHECK("vmap of page storage", ret == 0 && m1.vaddr, "got %d", ret);
	if (ret || !m1.vaddr)
		goto out;
	((u32 *)m1.vaddr)[3 * PAGE_SIZE / 4 - 1] = 0xc0ffee;
	last_page = kmap_local_page(pages->chunks[pages->nr_chunks - 1].page +
				    (1U << pages->chunks[pages->nr_chunks - 1].order) - 1);
	CHECK("a write through the vmap lands in the last page",
	      last_page[PAGE_SIZE / 4 - 1] == 0xc0ffee, "read 0x%x",
	      last_page[PAGE_SIZE / 4 - 1]);
	kunmap_local(last_page);
	ret = dmabuf_core_vmap(buf, &m2);
	CHECK("nested vmaps share one mapping", ret == 0 && m2.vaddr == m1.vaddr,
	      "got %d", ret);
	if (!ret)
		dmabuf_core_vunmap(buf, &m2);
	dmabuf_core_vunmap(buf, &m1);
out:
	dmabuf_core_put(buf);
}

/* Segments honour a device's boundary; a sub-page boundary is refused. */
static void st_segment_limits(void)
{
	struct dmabuf_core_attachment *att;
	struct dmabuf_core_buffer *buf;
	struct scatterlist *sg;
	struct sg_table *sgt;
	bool within = true;
	u64 bytes = 0;
	unsigned int i;

	buf = st_export_ops(SZ_2M, O_RDWR, &st_pages_ops);
	if (IS_ERR(buf))
		return;
	dma_set_seg_boundary(st_dev, SZ_64K - 1);
	att = dmabuf_core_attach(buf, st_dev);
	CHECK("attach with a 64 KiB segment boundary", !IS_ERR(att), "got %ld", PTR_ERR(att));
	if (!IS_ERR(att)) {
		sgt = dmabuf_core_map_attachment(att, DMA_TO_DEVICE);
		if (!IS_ERR(sgt)) {
			for_each_sgtable_dma_sg(sgt, sg, i) {
				dma_addr_t a = sg_dma_address(sg);

				bytes += sg_dma_len(sg);
				if ((a >> 16) != ((a + sg_dma_len(sg) - 1) >> 16))
					within = false;
			}
			dmabuf_core_unmap_attachment(att, sgt, DMA_TO_DEVICE);
		}
		CHECK("no segment crosses the device's 64 KiB boundary",
		      !IS_ERR(sgt) && within && bytes == SZ_2M, "map %d, %llu bytes",
		      PTR_ERR_OR_ZERO(sgt), bytes);
		dmabuf_core_detach(buf, att);
	}
	dma_set_seg_boundary(st_dev, SZ_2K - 1);
	att = dmabuf_core_attach(buf, st_dev);
	CHECK("a device with a sub-page segment boundary is refused",
	      PTR_ERR(att) == -EINVAL, "got %ld", PTR_ERR(att));
	if (!IS_ERR(att))
		dmabuf_core_detach(buf, att);
	dma_set_seg_boundary(st_dev, ULONG_MAX);
	dmabuf_core_put(buf);
}

/*
 * The segments of two order-4 chunks of @block, its @first and @second
 * halves, mapped for st_dev: their number (and in *@longest the length of
 * the longest), or the map's error.
 */
static int st_segments_of(struct page *block, unsigned int first,
			  unsigned int second, unsigned int *longest)
{
	struct dmabuf_core_chunk chunks[2] = {
		{ .page = block + first * 16, .order = 4 },
		{ .page = block + second * 16, .order = 4 },
	};
	struct dmabuf_core_pages pages = {
		.chunks = chunks, .nr_chunks = 2, .nr_pages = 32,
	};
	unsigned int i, most = 0;
	struct scatterlist *sg;
	struct sg_table *sgt;
	int n;

	sgt = dmabuf_core_pages_map(&pages, st_dev, DMA_TO_DEVICE);
	if (IS_ERR(sgt))
		return PTR_ERR(sgt);
	n = sgt->orig_nents;
	for_each_sgtable_sg(sgt, sg, i)
		most = max(most, sg->length);
	*longest = most;
	dmabuf_core_pages_unmap(st_dev, sgt, DMA_TO_DEVICE);
	return n;
}

/*
 * Page storage of single pages, so that its chunk array (16 KiB) and the
 * page array of its vmap (8 KiB) are larger than a page: the branch of
 * the arrays' allocator that tries kmalloc without reclaim (vmalloc only
 * when that fails, which an unfragmented guest does not make happen).
 */
static void st_page_arrays(void)
{
	struct dmabuf_core_pages pages = {};
	struct iosys_map map = {};
	unsigned int i, single = 0;
	u32 *first, *last;
	int ret;

	ret = dmabuf_core_pages_alloc(&pages, SZ_4M, U64_MAX, PAGE_SIZE);
	CHECK("4 MiB of single pages", ret == 0 && pages.nr_chunks == SZ_4M / PAGE_SIZE &&
	      pages.nr_pages == SZ_4M / PAGE_SIZE, "got %d, %u chunks", ret, pages.nr_chunks);
	if (ret)
		return;
	for (i = 0; i < pages.nr_chunks; i++)
		single += pages.chunks[i].order == 0 && pages.chunks[i].page;
	CHECK("every chunk one page", single == pages.nr_chunks, "%u of %u", single,
	      pages.nr_chunks);
	ret = dmabuf_core_pages_vmap(&pages, &map);
	CHECK("vmap of 1,024 single pages", ret == 0 && map.vaddr, "got %d", ret);
	if (!ret) {
		((u32 *)map.vaddr)[0] = 0xfeed;
		((u32 *)map.vaddr)[SZ_4M / 4 - 1] = 0xbeef;
		first = kmap_local_page(pages.chunks[0].page);
		last = kmap_local_page(pages.chunks[pages.nr_chunks - 1].page);
		CHECK("the vmap covers the first and the last page in order",
		      first[0] == 0xfeed && last[PAGE_SIZE / 4 - 1] == 0xbeef,
		      "read 0x%x 0x%x", first[0], last[PAGE_SIZE / 4 - 1]);
		kunmap_local(last);
		kunmap_local(first);
		dmabuf_core_pages_vunmap(&map);
	}
	dmabuf_core_pages_free(&pages);
	CHECK("free empties the storage", !dmabuf_core_pages_allocated(&pages) &&
	      !pages.chunks, "%u chunks", pages.nr_chunks);
}

/*
 * Physically adjacent chunks share a segment, within the device's segment
 * size and boundary; chunks out of order do not.
 */
static void st_adjacent_chunks(void)
{
	struct page *block = alloc_pages(GFP_KERNEL, 5);	/* 128 KiB, aligned */
	unsigned int longest = 0;
	int n;

	if (!block) {
		CHECK("an order-5 block for the adjacent-chunk checks", false, "no memory");
		return;
	}
	n = st_segments_of(block, 0, 1, &longest);
	CHECK("two adjacent 64 KiB chunks map as one segment",
	      n == 1 && longest == SZ_128K, "%d segments, longest %u", n, longest);
	n = st_segments_of(block, 1, 0, &longest);
	CHECK("chunks in reverse order map as two segments",
	      n == 2 && longest == SZ_64K, "%d segments, longest %u", n, longest);
	dma_set_max_seg_size(st_dev, SZ_64K);
	n = st_segments_of(block, 0, 1, &longest);
	CHECK("adjacent chunks stay apart beyond the largest segment",
	      n == 2 && longest == SZ_64K, "%d segments, longest %u", n, longest);
	dma_set_max_seg_size(st_dev, UINT_MAX & PAGE_MASK);
	dma_set_seg_boundary(st_dev, SZ_64K - 1);
	n = st_segments_of(block, 0, 1, &longest);
	CHECK("adjacent chunks stay apart across a segment boundary",
	      n == 2 && longest == SZ_64K, "%d segments, longest %u", n, longest);
	dma_set_seg_boundary(st_dev, ULONG_MAX);
	__free_pages(block, 5);
}

/* A kernel driver attaches and maps through the kernel's own dma-buf calls. */
static void st_kernel_importer(void)
{
	struct dma_buf_attachment *kattach;
	struct dmabuf_core_buffer *buf, *again;
	unsigned int attaches = st.attaches, maps = st.maps;
	struct sg_table *sgt;

	buf = st_export(2 * PAGE_SIZE, O_RDWR);
	if (IS_ERR(buf))
		return;
	kattach = dma_buf_attach(buf->dmabuf, st_dev);
	CHECK("dma_buf_attach() of a kernel driver reaches the exporter's attach",
	      !IS_ERR(kattach) && st.attaches == attaches + 1,
	      "got %d, %u attaches", PTR_ERR_OR_ZERO(kattach), st.attaches - attaches);
	if (IS_ERR(kattach))
		goto out;
	sgt = dma_buf_map_attachment_unlocked(kattach, DMA_BIDIRECTIONAL);
	CHECK("dma_buf_map_attachment() reaches the exporter's map",
	      !IS_ERR(sgt) && st.maps == maps + 1 && sgt->nents > 0,
	      "got %d", PTR_ERR_OR_ZERO(sgt));
	if (!IS_ERR(sgt))
		dma_buf_unmap_attachment_unlocked(kattach, sgt, DMA_BIDIRECTIONAL);
	dma_buf_detach(buf->dmabuf, kattach);
	CHECK("dma_buf_detach() reaches the exporter's detach",
	      st.attaches == st.detaches && st.maps == st.unmaps,
	      "%u attaches %u detaches", st.attaches, st.detaches);

	again = dmabuf_core_from_dma_buf(buf->dmabuf);
	CHECK("a buffer of ours coming back from the kernel is itself",
	      again == buf && !dmabuf_core_is_imported(again), "got %p", again);
	if (!IS_ERR(again))
		dmabuf_core_put(again);
out:
	dmabuf_core_put(buf);
}

/* Whether @fd of this process (insmod's) is open on @file. */
static bool fd_file_is(int fd, struct file *file)
{
	struct file *f = fget(fd);
	bool same = f == file;

	if (f)
		fput(f);
	return same;
}

/* A foreign exporter: a bare kernel dma-buf with its own ops. */
static unsigned int foreign_maps, foreign_unmaps;

static struct sg_table *foreign_map(struct dma_buf_attachment *kattach,
				    enum dma_data_direction dir)
{
	struct sg_table *sgt = dmabuf_core_pages_map(kattach->dmabuf->priv,
						     kattach->dev, dir);

	if (!IS_ERR(sgt))
		foreign_maps++;
	return sgt;
}

static void foreign_unmap(struct dma_buf_attachment *kattach,
			  struct sg_table *sgt, enum dma_data_direction dir)
{
	dmabuf_core_pages_unmap(kattach->dev, sgt, dir);
	foreign_unmaps++;
}

static void foreign_release(struct dma_buf *dmabuf)
{
	dmabuf_core_pages_free(dmabuf->priv);
	kfree(dmabuf->priv);
	releases++;	/* run-tests.sh compares with exports */
}

static const struct dma_buf_ops foreign_ops = {
	.map_dma_buf = foreign_map,
	.unmap_dma_buf = foreign_unmap,
	.release = foreign_release,
};

static void st_import_foreign(void)
{
	DEFINE_DMA_BUF_EXPORT_INFO(exp);
	struct dmabuf_core_buffer *buf, *buf2;
	struct dmabuf_core_attachment *att;
	struct dmabuf_core_pages *pages;
	struct dma_buf *dmabuf;
	struct sg_table *sgt;
	int fd;

	pages = kzalloc(sizeof(*pages), GFP_KERNEL);
	if (!pages || dmabuf_core_pages_alloc(pages, 3 * PAGE_SIZE, U64_MAX, 0)) {
		kfree(pages);
		CHECK("foreign dma-buf storage", false, "no memory");
		return;
	}
	exp.ops = &foreign_ops;
	exp.size = 3 * PAGE_SIZE;
	exp.flags = O_RDWR;
	exp.priv = pages;
	dmabuf = dma_buf_export(&exp);
	if (IS_ERR(dmabuf)) {
		dmabuf_core_pages_free(pages);
		kfree(pages);
		CHECK("foreign dma_buf_export", false, "got %ld", PTR_ERR(dmabuf));
		return;
	}
	exports++;

	buf = dmabuf_core_from_dma_buf(dmabuf);
	buf2 = dmabuf_core_from_dma_buf(dmabuf);
	CHECK("a foreign dma-buf imports, the same buffer for every get",
	      !IS_ERR(buf) && buf == buf2 && dmabuf_core_is_imported(buf) &&
	      buf->size == 3 * PAGE_SIZE && buf->dmabuf == dmabuf && buf->id,
	      "got %p %p", buf, buf2);
	if (IS_ERR(buf))
		goto out;
	if (!IS_ERR(buf2))
		dmabuf_core_put(buf2);
	/* The original goes first: the import keeps it alive. */
	dma_buf_put(dmabuf);
	CHECK("an import holds the original", file_count(dmabuf->file) == 1,
	      "count %ld", (long)file_count(dmabuf->file));

	/* Handed back out: the original dma-buf, not a wrapper. */
	dmabuf_core_ref(buf);
	fd = dmabuf_core_fd(buf, O_CLOEXEC);
	CHECK("the fd of an imported buffer is the original dma-buf",
	      fd >= 0 && fd_file_is(fd, dmabuf->file), "fd %d", fd);
	if (fd >= 0)
		close_fd(fd);
	else
		dmabuf_core_put(buf);

	att = dmabuf_core_attach(buf, st_dev);
	CHECK("attach to an imported buffer", !IS_ERR(att), "got %ld", PTR_ERR(att));
	if (!IS_ERR(att)) {
		sgt = dmabuf_core_map_attachment(att, DMA_FROM_DEVICE);
		CHECK("map of an imported buffer reaches its exporter",
		      !IS_ERR(sgt) && foreign_maps == 1, "got %d", PTR_ERR_OR_ZERO(sgt));
		if (!IS_ERR(sgt)) {
			CHECK("unmap of an imported buffer refuses the wrong direction",
			      dmabuf_core_unmap_attachment(att, sgt, DMA_TO_DEVICE) == -EINVAL &&
			      foreign_unmaps == 0, "unmaps %u", foreign_unmaps);
		}
		/* Left mapped on purpose: detach unmaps it, with a warning. */
		if (!IS_ERR(sgt))
			expect_warning("detached while mapped");
		dmabuf_core_detach(buf, att);
		CHECK("detach of an imported buffer unmaps what was left",
		      foreign_unmaps == foreign_maps, "%u maps %u unmaps",
		      foreign_maps, foreign_unmaps);
	}
	/* Its release follows once insmod returns (exports == releases). */
	dmabuf_core_put(buf);
	return;
out:
	dma_buf_put(dmabuf);
}

static unsigned int st_invalidations;

static void st_invalidate(struct dmabuf_core_attachment *att)
{
	st_invalidations++;
}

static const struct dmabuf_core_importer_ops st_importer_ops = {
	.invalidate = st_invalidate,
};

static const struct dmabuf_core_importer_ops st_no_invalidate;

/* dmabuf_core_attach_dynamic(): what it refuses, and a plain life. */
static void st_attach_dynamic(void)
{
	const struct dmabuf_core_constraints odd = { .alignment = 3 * PAGE_SIZE };
	struct dmabuf_core_attachment *att;
	struct dmabuf_core_buffer *buf;
	struct sg_table *sgt, *second;
	int priv;

	buf = st_export(4 * PAGE_SIZE, O_RDWR);
	if (IS_ERR(buf)) {
		CHECK("export", false, "got %ld", PTR_ERR(buf));
		return;
	}
	att = dmabuf_core_attach_dynamic(buf, st_dev, NULL, NULL, &priv);
	CHECK("dynamic attach refuses no ops", PTR_ERR(att) == -EINVAL,
	      "got %ld", PTR_ERR(att));
	att = dmabuf_core_attach_dynamic(buf, st_dev, NULL, &st_no_invalidate, &priv);
	CHECK("dynamic attach refuses ops without invalidate",
	      PTR_ERR(att) == -EINVAL, "got %ld", PTR_ERR(att));
	att = dmabuf_core_attach_dynamic(buf, st_dev, &odd, &st_importer_ops, &priv);
	CHECK("dynamic attach refuses an alignment not a power of two",
	      PTR_ERR(att) == -EINVAL, "got %ld", PTR_ERR(att));
	CHECK("refused dynamic attaches reach no exporter",
	      st.attaches == st.detaches, "%u attachments", st.attaches - st.detaches);

	att = dmabuf_core_attach_dynamic(buf, st_dev, NULL, &st_importer_ops, &priv);
	if (IS_ERR(att)) {
		CHECK("dynamic attach", false, "got %ld", PTR_ERR(att));
		goto out;
	}
	CHECK("dynamic attach sets importer_priv first", att->importer_priv == &priv,
	      "got %p", att->importer_priv);
	sgt = dmabuf_core_map_attachment(att, DMA_BIDIRECTIONAL);
	CHECK("a dynamic attachment maps", !IS_ERR(sgt), "got %ld", PTR_ERR(sgt));
	second = dmabuf_core_map_attachment(att, DMA_TO_DEVICE);
	CHECK("a dynamic attachment maps once at a time", PTR_ERR(second) == -EBUSY,
	      "got %ld", PTR_ERR(second));
	if (!IS_ERR(second))
		dmabuf_core_unmap_attachment(att, second, DMA_TO_DEVICE);
	CHECK("a dynamic attachment unmaps", !IS_ERR(sgt) &&
	      !dmabuf_core_unmap_attachment(att, sgt, DMA_BIDIRECTIONAL), "refused");
	dmabuf_core_detach(buf, att);
	CHECK("storage that never moves invalidates nothing", !st_invalidations,
	      "%u invalidations", st_invalidations);
out:
	dmabuf_core_put(buf);
}

static int __init dmabuf_selftest_init(void)
{
	st_pdev = demo_device_create("dmabuf-selftest", PLATFORM_DEVID_NONE,
				     64, UINT_MAX & PAGE_MASK);
	if (IS_ERR(st_pdev))
		return PTR_ERR(st_pdev);
	st_dev = &st_pdev->dev;

	st_export_validation();
	st_references();
	st_attach_map();
	st_attach_dynamic();
	st_map_several();
	st_read_only();
	st_release_after_detach();
	st_kernel_importer();
	st_import_foreign();
	st_vmap();
	st_segment_limits();
	st_adjacent_chunks();
	st_page_arrays();
	pr_info("selftest: %u passed, %u failed, %u exports\n", passed, failed, exports);
	return 0;
}

static void __exit dmabuf_selftest_exit(void)
{
	platform_device_unregister(st_pdev);
}

module_init(dmabuf_selftest_init);
module_exit(dmabuf_selftest_exit);

MODULE_DESCRIPTION("dmabuf-core kernel API selftest");
MODULE_LICENSE("GPL");
DMABUF_CORE_IMPORT_NS();
MODULE_IMPORT_NS(DMABUF_CORE_DMA_BUF_NS);
