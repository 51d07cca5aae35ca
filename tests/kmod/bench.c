// SPDX-License-Identifier: GPL-2.0-only
/*
 * dmabuf_bench.ko: the kernel API per operation, dmabuf-core against the
 * kernel's own dma-buf, for `make bench` only (tests/guest/run-bench.sh).
 * Runs at load and prints one line per operation and implementation to the
 * kernel log:
 *   BENCH api OP IMPL live=N reps=R median_ns=M p25_ns=A p75_ns=B
 * OP: export, fd, get, attach, map, unmap, detach, put (the calls an
 * exporter and an importer make for one buffer, in that order), and remap
 * (map + unmap again of one attachment).  IMPL: core or kernel.  Both
 * exporters are as small as their frameworks allow and alike: no storage
 * of their own, every map one page (the same for all buffers) in a
 * one-entry sg table, DMA-mapped for a 64-bit platform device.  With
 * live=N, N buffers of each kind are held throughout (get and attach must
 * not slow down with them).  Each repetition runs both implementations,
 * in alternating order.  Everything is freed before init returns (rmmod
 * it after); load fails with -ENOMEM or the first error of an operation.
 *
 * With prims=1 it times instead the pieces those calls are made of, each
 * as a pair that leaves no trace (take and drop, allocate and free), one
 * line each:
 *   BENCH prim NAME pair reps=R median_ns=M p25_ns=A p75_ns=B
 * so that an API call's cost beside the kernel's can be read as a sum of
 * pieces (tests/bench-results.md).  The figures include one
 * ktime_get_ns() pair, which "clock" times alone.
 */
#include <linux/device.h>
#include <linux/dma-buf.h>
#include <linux/dma-mapping.h>
#include <linux/dma-resv.h>
#include <linux/err.h>
#include <linux/fcntl.h>
#include <linux/fdtable.h>
#include <linux/file.h>
#include <linux/ktime.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/platform_device.h>
#include <linux/scatterlist.h>
#include <linux/slab.h>
#include <linux/sort.h>
#include <linux/vmalloc.h>
#include <linux/dmabuf_core.h>

#include "../../src/compat.h"
#include "../../src/demo/demo_common.h"

static unsigned int live;
module_param(live, uint, 0444);
MODULE_PARM_DESC(live, "Buffers of each kind held during the run (default 0, at most 1000000)");

static bool prims;
module_param(prims, bool, 0444);
MODULE_PARM_DESC(prims, "Time the pieces of the calls instead of the calls (default 0)");

static unsigned int reps = 2000;
module_param(reps, uint, 0444);
MODULE_PARM_DESC(reps, "Repetitions of each operation (default 2000, at most 100000)");

enum bench_op { OP_EXPORT, OP_FD, OP_GET, OP_ATTACH, OP_MAP, OP_UNMAP,
		OP_DETACH, OP_PUT, OP_REMAP, NR_OPS };
static const char *const op_name[NR_OPS] = {
	"export", "fd", "get", "attach", "map", "unmap", "detach", "put", "remap",
};

enum bench_impl { IMPL_CORE, IMPL_KERNEL, NR_IMPLS };
static const char *const impl_name[NR_IMPLS] = { "core", "kernel" };

static struct platform_device *bench_pdev;
static struct page *bench_page;		/* what every map maps */
static u64 *bench_times[NR_IMPLS][NR_OPS];	/* reps entries each */

/* A one-entry table of bench_page, DMA-mapped for @dev. */
static struct sg_table *bench_map_page(struct device *dev,
				       enum dma_data_direction dir)
{
	struct sg_table *sgt;
	int ret;

	sgt = kzalloc(sizeof(*sgt), GFP_KERNEL);
	if (!sgt)
		return ERR_PTR(-ENOMEM);
	ret = sg_alloc_table(sgt, 1, GFP_KERNEL);
	if (ret)
		goto err_free;
	sg_set_page(sgt->sgl, bench_page, PAGE_SIZE, 0);
	ret = dma_map_sgtable(dev, sgt, dir, 0);
	if (ret)
		goto err_table;
	return sgt;

err_table:
	sg_free_table(sgt);
err_free:
	kfree(sgt);
	return ERR_PTR(ret);
}

static void bench_unmap_page(struct device *dev, struct sg_table *sgt,
			     enum dma_data_direction dir)
{
	dma_unmap_sgtable(dev, sgt, dir, 0);
	sg_free_table(sgt);
	kfree(sgt);
}

/* ---- the dmabuf-core exporter ---- */

static struct sg_table *core_map(struct dmabuf_core_attachment *att,
				 enum dma_data_direction dir)
{
	return bench_map_page(att->dev, dir);
}

static void core_unmap(struct dmabuf_core_attachment *att,
		       struct sg_table *sgt, enum dma_data_direction dir)
{
	bench_unmap_page(att->dev, sgt, dir);
}

static void core_release(struct dmabuf_core_buffer *buf)
{
}

static const struct dmabuf_core_ops core_ops = {
	.map = core_map,
	.unmap = core_unmap,
	.release = core_release,
};

static struct dmabuf_core_buffer *core_export(void)
{
	DMABUF_CORE_EXPORT_INFO(info);

	info.ops = &core_ops;
	info.size = PAGE_SIZE;
	info.flags = O_RDWR;
	return dmabuf_core_export(&info);
}

/* ---- the kernel dma-buf exporter ---- */

static struct sg_table *kernel_map(struct dma_buf_attachment *att,
				   enum dma_data_direction dir)
{
	return bench_map_page(att->dev, dir);
}

static void kernel_unmap(struct dma_buf_attachment *att,
			 struct sg_table *sgt, enum dma_data_direction dir)
{
	bench_unmap_page(att->dev, sgt, dir);
}

static void kernel_release(struct dma_buf *dmabuf)
{
}

static const struct dma_buf_ops kernel_ops = {
	.map_dma_buf = kernel_map,
	.unmap_dma_buf = kernel_unmap,
	.release = kernel_release,
};

static struct dma_buf *kernel_export(void)
{
	DEFINE_DMA_BUF_EXPORT_INFO(info);

	info.priv = bench_page;		/* dma_buf_export() wants one */
	info.ops = &kernel_ops;
	info.size = PAGE_SIZE;
	info.flags = O_RDWR;
	return dma_buf_export(&info);
}

/* ---- one round of each ---- */

#define TIMED(t, expr)	({ u64 __t0 = ktime_get_ns(); typeof(expr) __r = (expr); \
			   *(t) = ktime_get_ns() - __t0; __r; })

static int core_round(unsigned int rep, struct device *dev)
{
	u64 **t = bench_times[IMPL_CORE];
	struct dmabuf_core_attachment *att;
	struct dmabuf_core_buffer *buf, *got;
	struct sg_table *sgt;
	int fd, ret;

	buf = TIMED(&t[OP_EXPORT][rep], core_export());
	if (IS_ERR(buf))
		return PTR_ERR(buf);
	fd = TIMED(&t[OP_FD][rep], dmabuf_core_fd(buf, O_CLOEXEC));
	if (fd < 0) {
		dmabuf_core_put(buf);
		return fd;
	}
	got = TIMED(&t[OP_GET][rep], dmabuf_core_get(fd));
	if (IS_ERR(got)) {
		ret = PTR_ERR(got);
		goto out_close;
	}
	att = TIMED(&t[OP_ATTACH][rep], dmabuf_core_attach(got, dev));
	if (IS_ERR(att)) {
		ret = PTR_ERR(att);
		goto out_put;
	}
	sgt = TIMED(&t[OP_MAP][rep], dmabuf_core_map_attachment(att, DMA_BIDIRECTIONAL));
	if (IS_ERR(sgt)) {
		ret = PTR_ERR(sgt);
		goto out_detach;
	}
	ret = TIMED(&t[OP_UNMAP][rep],
		    dmabuf_core_unmap_attachment(att, sgt, DMA_BIDIRECTIONAL));
	if (!ret) {
		u64 t0 = ktime_get_ns();

		sgt = dmabuf_core_map_attachment(att, DMA_BIDIRECTIONAL);
		if (IS_ERR(sgt))
			ret = PTR_ERR(sgt);
		else
			ret = dmabuf_core_unmap_attachment(att, sgt, DMA_BIDIRECTIONAL);
		t[OP_REMAP][rep] = ktime_get_ns() - t0;
	}
out_detach:
	{
		u64 t0 = ktime_get_ns();

		dmabuf_core_detach(got, att);
		t[OP_DETACH][rep] = ktime_get_ns() - t0;
	}
out_put:
	{
		u64 t0 = ktime_get_ns();

		dmabuf_core_put(got);
		t[OP_PUT][rep] = ktime_get_ns() - t0;
	}
out_close:
	close_fd(fd);		/* the fd's reference: the last one */
	return ret;
}

static int kernel_round(unsigned int rep, struct device *dev)
{
	u64 **t = bench_times[IMPL_KERNEL];
	struct dma_buf_attachment *att;
	struct dma_buf *buf, *got;
	struct sg_table *sgt;
	int fd, ret = 0;

	buf = TIMED(&t[OP_EXPORT][rep], kernel_export());
	if (IS_ERR(buf))
		return PTR_ERR(buf);
	fd = TIMED(&t[OP_FD][rep], dma_buf_fd(buf, O_CLOEXEC));
	if (fd < 0) {
		dma_buf_put(buf);
		return fd;
	}
	got = TIMED(&t[OP_GET][rep], dma_buf_get(fd));
	if (IS_ERR(got)) {
		ret = PTR_ERR(got);
		goto out_close;
	}
	att = TIMED(&t[OP_ATTACH][rep], dma_buf_attach(got, dev));
	if (IS_ERR(att)) {
		ret = PTR_ERR(att);
		goto out_put;
	}
	sgt = TIMED(&t[OP_MAP][rep],
		    dma_buf_map_attachment_unlocked(att, DMA_BIDIRECTIONAL));
	if (IS_ERR(sgt)) {
		ret = PTR_ERR(sgt);
		goto out_detach;
	}
	{
		u64 t0 = ktime_get_ns();

		dma_buf_unmap_attachment_unlocked(att, sgt, DMA_BIDIRECTIONAL);
		t[OP_UNMAP][rep] = ktime_get_ns() - t0;
		t0 = ktime_get_ns();
		sgt = dma_buf_map_attachment_unlocked(att, DMA_BIDIRECTIONAL);
		if (IS_ERR(sgt))
			ret = PTR_ERR(sgt);
		else
			dma_buf_unmap_attachment_unlocked(att, sgt, DMA_BIDIRECTIONAL);
		t[OP_REMAP][rep] = ktime_get_ns() - t0;
	}
out_detach:
	{
		u64 t0 = ktime_get_ns();

		dma_buf_detach(got, att);
		t[OP_DETACH][rep] = ktime_get_ns() - t0;
	}
out_put:
	{
		u64 t0 = ktime_get_ns();

		dma_buf_put(got);
		t[OP_PUT][rep] = ktime_get_ns() - t0;
	}
out_close:
	close_fd(fd);
	return ret;
}

/* ---- the pieces, with prims=1 ---- */

static int cmp_u64(const void *a, const void *b)
{
	u64 x = *(const u64 *)a, y = *(const u64 *)b;

	return x < y ? -1 : x > y;
}

enum bench_prim { PRIM_CLOCK, PRIM_CALL, PRIM_RECORD, PRIM_KRECORD,
		  PRIM_MUTEX, PRIM_RESV, PRIM_DEVREF, PRIM_FILEREF,
		  PRIM_MODREF, NR_PRIMS };
static const char *const prim_name[NR_PRIMS] = {
	"clock", "call", "record", "krecord", "mutex", "resv", "devref",
	"fileref", "modref",
};

/* What an exporter's callback costs when it does nothing. */
static noinline void bench_nothing(void *p)
{
	barrier();
}

/*
 * One pair of @prim.  Records are as the core's: the size of struct
 * core_attachment (128 bytes) charged to the caller, and the kernel's
 * struct dma_buf_attachment uncharged, as dma_buf_attach() makes them.
 */
static int bench_prim_once(enum bench_prim prim, struct dma_buf *dmabuf,
			   struct mutex *lock, struct device *dev)
{
	struct dma_buf_attachment *katt;
	void (*fn)(void *p);
	void *p;

	switch (prim) {
	case PRIM_CLOCK:
		break;
	case PRIM_CALL:
		/* Through a pointer the compiler cannot see, as ops are called. */
		fn = bench_nothing;
		OPTIMIZER_HIDE_VAR(fn);
		fn(dmabuf);
		break;
	case PRIM_RECORD:
		p = kzalloc(128, GFP_KERNEL_ACCOUNT | __GFP_RETRY_MAYFAIL |
			    __GFP_NOWARN);
		if (!p)
			return -ENOMEM;
		kfree(p);
		break;
	case PRIM_KRECORD:
		katt = kzalloc(sizeof(*katt), GFP_KERNEL);
		if (!katt)
			return -ENOMEM;
		kfree(katt);
		break;
	case PRIM_MUTEX:
		mutex_lock(lock);
		mutex_unlock(lock);
		break;
	case PRIM_RESV:
		dma_resv_lock(dmabuf->resv, NULL);
		dma_resv_unlock(dmabuf->resv);
		break;
	case PRIM_DEVREF:
		get_device(dev);
		put_device(dev);
		break;
	case PRIM_FILEREF:
		get_dma_buf(dmabuf);
		dma_buf_put(dmabuf);
		break;
	case PRIM_MODREF:
		if (!try_module_get(THIS_MODULE))
			return -ENOENT;
		module_put(THIS_MODULE);
		break;
	default:
		return -EINVAL;
	}
	return 0;
}

static int bench_prims(struct device *dev)
{
	struct dma_buf *dmabuf;
	struct mutex lock;	/* stands for a buffer's lock */
	unsigned int rep, prim;
	u64 *t;
	int ret = 0;

	t = vcalloc(reps, sizeof(*t));
	if (!t)
		return -ENOMEM;
	dmabuf = kernel_export();
	if (IS_ERR(dmabuf)) {
		ret = PTR_ERR(dmabuf);
		goto out_free;
	}
	mutex_init(&lock);
	for (prim = 0; prim < NR_PRIMS && !ret; prim++) {
		for (rep = 0; rep < reps && !ret; rep++) {
			u64 t0 = ktime_get_ns();

			ret = bench_prim_once(prim, dmabuf, &lock, dev);
			t[rep] = ktime_get_ns() - t0;
			if (!(rep % 256))
				cond_resched();
		}
		if (ret)
			break;
		sort(t, reps, sizeof(*t), cmp_u64, NULL);
		pr_info("BENCH prim %s pair reps=%u median_ns=%llu p25_ns=%llu p75_ns=%llu\n",
			prim_name[prim], reps, t[(reps - 1) / 2],
			t[(reps - 1) / 4], t[(reps - 1) * 3 / 4]);
	}
	mutex_destroy(&lock);
	dma_buf_put(dmabuf);
out_free:
	vfree(t);
	return ret;
}

/* ---- the run ---- */

static void bench_report(void)
{
	unsigned int i, op;

	for (i = 0; i < NR_IMPLS; i++) {
		for (op = 0; op < NR_OPS; op++) {
			u64 *t = bench_times[i][op];

			sort(t, reps, sizeof(*t), cmp_u64, NULL);
			pr_info("BENCH api %s %s live=%u reps=%u median_ns=%llu p25_ns=%llu p75_ns=%llu\n",
				op_name[op], impl_name[i], live, reps,
				t[(reps - 1) / 2], t[(reps - 1) / 4],
				t[(reps - 1) * 3 / 4]);
		}
	}
}

static void bench_free_times(void)
{
	unsigned int i, op;

	for (i = 0; i < NR_IMPLS; i++)
		for (op = 0; op < NR_OPS; op++) {
			vfree(bench_times[i][op]);
			bench_times[i][op] = NULL;
		}
}

/* The held buffers; put in reverse. */
static struct dmabuf_core_buffer **held_core;
static struct dma_buf **held_kernel;
static unsigned int nr_held_core, nr_held_kernel;

static void bench_put_held(void)
{
	while (nr_held_core)
		dmabuf_core_put(held_core[--nr_held_core]);
	while (nr_held_kernel)
		dma_buf_put(held_kernel[--nr_held_kernel]);
	kvfree(held_core);
	kvfree(held_kernel);
	held_core = NULL;
	held_kernel = NULL;
}

static int bench_hold(void)
{
	held_core = kvcalloc(live, sizeof(*held_core), GFP_KERNEL);
	held_kernel = kvcalloc(live, sizeof(*held_kernel), GFP_KERNEL);
	if (live && (!held_core || !held_kernel))
		return -ENOMEM;
	while (nr_held_core < live) {
		struct dmabuf_core_buffer *buf = core_export();

		if (IS_ERR(buf))
			return PTR_ERR(buf);
		held_core[nr_held_core++] = buf;
		cond_resched();
	}
	while (nr_held_kernel < live) {
		struct dma_buf *buf = kernel_export();

		if (IS_ERR(buf))
			return PTR_ERR(buf);
		held_kernel[nr_held_kernel++] = buf;
		cond_resched();
	}
	return 0;
}

static int __init bench_init(void)
{
	struct device *dev;
	unsigned int rep, i, op;
	int ret;

	/* Bounded: kvcalloc() WARNs on sizes beyond INT_MAX. */
	if (!reps || reps > 100000 || live > 1000000)
		return -EINVAL;
	bench_page = alloc_page(GFP_KERNEL | __GFP_ZERO);
	if (!bench_page)
		return -ENOMEM;
	bench_pdev = demo_device_create("dmabuf-bench", PLATFORM_DEVID_NONE, 64,
					SZ_64K);
	if (IS_ERR(bench_pdev)) {
		ret = PTR_ERR(bench_pdev);
		goto err_page;
	}
	dev = &bench_pdev->dev;
	if (prims) {
		ret = bench_prims(dev);
		goto err_pdev;
	}
	ret = -ENOMEM;
	for (i = 0; i < NR_IMPLS; i++)
		for (op = 0; op < NR_OPS; op++) {
			bench_times[i][op] = vcalloc(reps, sizeof(u64));
			if (!bench_times[i][op])
				goto err_times;
		}
	ret = bench_hold();
	if (ret)
		goto err_held;

	for (rep = 0; rep < reps && !ret; rep++) {
		if (rep & 1) {
			ret = kernel_round(rep, dev);
			if (!ret)
				ret = core_round(rep, dev);
		} else {
			ret = core_round(rep, dev);
			if (!ret)
				ret = kernel_round(rep, dev);
		}
		cond_resched();
	}
	if (!ret)
		bench_report();

err_held:
	bench_put_held();
err_times:
	bench_free_times();
err_pdev:
	platform_device_unregister(bench_pdev);
err_page:
	__free_page(bench_page);
	return ret;
}
module_init(bench_init);

/* Everything went at the end of the run: the figures are in the log. */
static void __exit bench_exit(void)
{
}
module_exit(bench_exit);

MODULE_DESCRIPTION("dmabuf-core benchmark of the kernel API against dma-buf");
MODULE_LICENSE("GPL");
DMABUF_CORE_IMPORT_NS();
MODULE_IMPORT_NS(DMABUF_CORE_DMA_BUF_NS);
