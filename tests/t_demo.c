// SPDX-License-Identifier: GPL-2.0-only
/*
 * The demo exporter and importer sharing buffers: same pages, data both
 * ways, storage negotiated for every attached device, release order,
 * bad input.  Expects dmabuf_demo_importer loaded with
 * dma_bits=64,32 max_seg_kb=0,64: importer0 a 64-bit device without a
 * segment limit, importer1 a 32-bit device with 64 KiB segments.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/dma-heap.h>

#include "lib/tap.h"
#include "lib/demo.h"

#define FOUR_GIB	(4 * GiB)
#define EXPORTER_KO	"/modules/dmabuf_demo_exporter.ko"

static int imp0 = -1, imp1 = -1;
static int high_ram;	/* the guest has RAM above 4 GiB */

static int open_importers(void)
{
	imp0 = importer_open(0);
	imp1 = importer_open(1);
	return imp0 >= 0 && imp1 >= 0;
}

static void t_device_info(void)
{
	struct dmabuf_demo_device_info i0, i1;

	tg_begin("importer devices have the configured constraints");
	if (CHECK(demo_device_info(imp0, &i0) == 0, "info 0 failed") &&
	    CHECK(demo_device_info(imp1, &i1) == 0, "info 1 failed")) {
		CHECK_U64("importer0 dma_bits", i0.dma_bits, 64);
		CHECK_U64("importer1 dma_bits", i1.dma_bits, 32);
		CHECK_U64("importer1 max_segment", i1.max_segment, 64 * KiB);
		CHECK(i0.max_segment >= 1 * GiB, "importer0 max_segment %llu",
		      (unsigned long long)i0.max_segment);
	}
	tg_end();
}

static void t_same_pages(void)
{
	const uint64_t size = 1 * MiB;
	struct dmabuf_demo_access a0, a1;
	struct dmabuf_demo_pattern fill, ver;
	struct dmabuf_demo_storage st;
	struct dmabuf_demo_exporter_stats s0, s1;
	int fd;

	tg_begin("storage is deferred to first map");
	demo_exporter_stats(&s0);
	fd = demo_create(size, O_RDWR | O_CLOEXEC);
	if (!expect_rc("create", fd, 0)) {
		tg_end();
		return;
	}
	expect_rc("storage", demo_storage(fd, &st), 0);
	CHECK_U64("allocated before map", st.allocated, 0);
	expect_rc("importer0 read", demo_access(imp0, fd, DMABUF_DEMO_ACCESS_READ, 0, &a0), 0);
	expect_rc("storage", demo_storage(fd, &st), 0);
	CHECK_U64("allocated after map", st.allocated, 1);
	demo_exporter_stats(&s1);
	CHECK_U64("allocations", s1.allocations - s0.allocations, 1);
	tg_end();

	tg_begin("exporter and importer see the same pages, no bounce");
	CHECK(a0.pages_hash == st.pages_hash, "importer pages %llx, exporter %llx",
	      (unsigned long long)a0.pages_hash, (unsigned long long)st.pages_hash);
	CHECK_U64("bounced segments", a0.bounced, 0);
	CHECK_U64("fits mask", a0.fits_mask, 1);
	CHECK_U64("bytes mapped", a0.bytes, size);
	CHECK_U64("new buffer reads as zeros", a0.checksum, demo_zero_checksum(size));
	tg_note("%u segments, %u chunks", a0.segments, st.chunks);
	tg_end();

	tg_begin("data the exporter writes is what the importer reads");
	expect_rc("fill", demo_fill(fd, 0x1234, &fill), 0);
	CHECK_U64("fill checksum", fill.checksum, demo_expected_checksum(size, 0x1234));
	expect_rc("importer0 read", demo_access(imp0, fd, DMABUF_DEMO_ACCESS_READ, 0, &a0), 0);
	CHECK_U64("importer0 checksum", a0.checksum, fill.checksum);
	tg_end();

	tg_begin("data the importer writes is what the exporter reads");
	expect_rc("importer0 write", demo_access(imp0, fd, DMABUF_DEMO_ACCESS_WRITE, 0xbeef, &a1), 0);
	CHECK_U64("write checksum", a1.checksum, demo_expected_checksum(size, 0xbeef));
	expect_rc("verify", demo_verify(fd, 0xbeef, &ver), 0);
	CHECK_U64("mismatching words", ver.mismatches, 0);
	CHECK_U64("verify checksum", ver.checksum, a1.checksum);
	expect_rc("verify other seed", demo_verify(fd, 0x1234, &ver), 0);
	CHECK(ver.mismatches > 0 && ver.first_mismatch == 0,
	      "old pattern still verifies: %llu mismatches",
	      (unsigned long long)ver.mismatches);
	tg_end();
	close(fd);
}

static void t_negotiation(void)
{
	const uint64_t size = 2 * MiB;
	struct dmabuf_demo_access a0, a1;
	struct dmabuf_demo_storage st;
	struct dmabuf_demo_pattern fill;
	struct dmabuf_core_query q;
	int fd;

	tg_begin("a 32-bit device attached before first map gets memory below 4 GiB");
	fd = demo_create(size, O_RDWR);
	if (!expect_rc("create", fd, 0)) {
		tg_end();
		return;
	}
	expect_rc("attach importer0", demo_attach(imp0, fd), 0);
	expect_rc("attach importer1", demo_attach(imp1, fd), 0);
	expect_rc("query", query(fd, &q), 0);
	CHECK_U64("attachments", q.attachments, 2);
	expect_rc("importer0 read", demo_access(imp0, fd, DMABUF_DEMO_ACCESS_READ, 0, &a0), 0);
	expect_rc("storage", demo_storage(fd, &st), 0);
	CHECK(st.highest_phys < FOUR_GIB, "storage ends at %#llx",
	      (unsigned long long)st.highest_phys);
	CHECK_U64("dma limit", st.dma_limit, 0xffffffffULL);
	CHECK(st.largest_chunk <= 64 * KiB, "largest chunk %llu",
	      (unsigned long long)st.largest_chunk);
	expect_rc("fill", demo_fill(fd, 77, &fill), 0);
	expect_rc("importer1 read", demo_access(imp1, fd, DMABUF_DEMO_ACCESS_READ, 0, &a1), 0);
	CHECK_U64("importer1 bounced", a1.bounced, 0);
	CHECK_U64("importer1 fits mask", a1.fits_mask, 1);
	CHECK(a1.largest_segment <= 64 * KiB, "importer1 segment %llu",
	      (unsigned long long)a1.largest_segment);
	CHECK(a1.pages_hash == a0.pages_hash && a1.pages_hash == st.pages_hash,
	      "the devices see different pages");
	CHECK_U64("importer1 checksum", a1.checksum, demo_expected_checksum(size, 77));
	expect_rc("detach importer0", demo_detach(imp0, fd), 0);
	expect_rc("detach importer1", demo_detach(imp1, fd), 0);
	expect_rc("query", query(fd, &q), 0);
	CHECK_U64("attachments after detach", q.attachments, 0);
	tg_note("%u segments up to %llu bytes, top %#llx", a1.segments,
		(unsigned long long)a1.largest_segment,
		(unsigned long long)a1.highest_dma);
	tg_end();
	close(fd);

	tg_begin("a 32-bit device attaching after storage was fixed high is refused");
	fd = demo_create(1 * MiB, O_RDWR);
	if (!expect_rc("create", fd, 0)) {
		tg_end();
		return;
	}
	expect_rc("fill", demo_fill(fd, 5, &fill), 0);	/* fixes storage */
	expect_rc("storage", demo_storage(fd, &st), 0);
	if (!high_ram) {
		tg_skip("no RAM above 4 GiB");
	} else if (CHECK(st.highest_phys >= FOUR_GIB,
			 "64-bit storage landed below 4 GiB (%#llx)",
			 (unsigned long long)st.highest_phys)) {
		struct dmabuf_demo_exporter_stats s0, s1;

		demo_exporter_stats(&s0);
		expect_rc("attach importer1", demo_attach(imp1, fd), EBUSY);
		expect_rc("access importer1",
			  demo_access(imp1, fd, DMABUF_DEMO_ACCESS_READ, 0, NULL), EBUSY);
		demo_exporter_stats(&s1);
		CHECK_U64("refused attaches", s1.refused - s0.refused, 2);
		expect_rc("query", query(fd, &q), 0);
		CHECK_U64("attachments", q.attachments, 0);
		expect_rc("importer0 still reads",
			  demo_access(imp0, fd, DMABUF_DEMO_ACCESS_READ, 0, &a0), 0);
		CHECK_U64("importer0 checksum", a0.checksum, demo_expected_checksum(1 * MiB, 5));
	}
	tg_end();
	close(fd);
}

/*
 * Both importers and the CPU on /dev/dmabuf buffer @fd of @size.  No
 * bounce buffers: where the pages lie above the 32-bit importer's reach
 * (importer0's DMA addresses are the physical ones), its attach moves
 * them below 4 GiB, bytes and all; where they lie below, nothing moves.
 * @low says which the caller set up.
 */
static void system_buffer_both(int fd, uint64_t size, int low)
{
	struct dmabuf_demo_access a0, a1;
	struct dmabuf_core_query q;
	void *p;

	p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (!CHECK(p != MAP_FAILED, "mmap: %s", errstr(errno)))
		return;
	sync_buf(fd, DMABUF_CORE_SYNC_START | DMABUF_CORE_SYNC_WRITE);
	fill_pattern(p, size, 99, 0);
	sync_buf(fd, DMABUF_CORE_SYNC_END | DMABUF_CORE_SYNC_WRITE);
	if (expect_rc("importer0 read",
		      demo_access(imp0, fd, DMABUF_DEMO_ACCESS_READ, 0, &a0), 0)) {
		CHECK_U64("importer0 checksum", a0.checksum, demo_checksum(p, size));
		CHECK_U64("importer0 bounced", a0.bounced, 0);
		CHECK((a0.highest_dma < FOUR_GIB) == low, "%s buffer ends at %#llx",
		      low ? "low" : "default", (unsigned long long)a0.highest_dma);
	}
	if (expect_rc("importer1 read",
		      demo_access(imp1, fd, DMABUF_DEMO_ACCESS_READ, 0, &a1), 0)) {
		CHECK_U64("importer1 checksum", a1.checksum, demo_checksum(p, size));
		CHECK_U64("importer1 bounced", a1.bounced, 0);
		CHECK(a1.highest_dma < FOUR_GIB, "importer1 sees the buffer end at %#llx",
		      (unsigned long long)a1.highest_dma);
		if (low)
			CHECK(a0.pages_hash == a1.pages_hash, "importers see different pages");
	}
	if (expect_rc("query", query(fd, &q), 0))
		CHECK_U64("moves", q.moves, low ? 0 : 1);
	expect_rc("importer0 write",
		  demo_access(imp0, fd, DMABUF_DEMO_ACCESS_WRITE, 0x55, &a0), 0);
	sync_buf(fd, DMABUF_CORE_SYNC_START | DMABUF_CORE_SYNC_READ);
	CHECK_U64("CPU sees the device's write", demo_checksum(p, size),
		  demo_expected_checksum(size, 0x55));
	sync_buf(fd, DMABUF_CORE_SYNC_END | DMABUF_CORE_SYNC_READ);
	munmap(p, size);
}

static void t_system_buffer(void)
{
	const uint64_t size = 64 * KiB;
	struct ballast b;
	int fd;

	/*
	 * Both branches, each asserted: a buffer where /dev/dmabuf puts it
	 * first (above 4 GiB: the guest has RAM there), and one made to land
	 * below 4 GiB by taking the memory above first.
	 */
	tg_begin("importers map /dev/dmabuf buffers; CPU and device agree");
	if (!high_ram)
		tg_fail("the guest has no RAM above 4 GiB: the move can not be shown");
	fd = alloc_buf(size, O_RDWR);
	if (expect_rc("alloc", fd, 0)) {
		system_buffer_both(fd, size, 0);
		close(fd);
	}
	fd = alloc_below_4g(size, imp0, &b);
	if (expect_rc("alloc below 4 GiB", fd, 0)) {
		system_buffer_both(fd, size, 1);
		close(fd);
	}
	tg_note("above 4 GiB moved below for the 32-bit device, below shared (%d buffers taken first)",
		b.n);
	ballast_release(&b);
	tg_end();
}

static void t_bad_input(void)
{
	struct dmabuf_demo_access acc = { .op = 7 };
	struct dmabuf_demo_create cr = { .size = 4096 };
	int pipefd[2], null_fd, fd, sysfd;

	tg_begin("importer refuses closed fds and files that are not dma-bufs");
	fd = demo_create(64 * KiB, O_RDWR);
	expect_rc("closed fd", demo_access(imp0, 1000, DMABUF_DEMO_ACCESS_READ, 0, NULL), EBADF);
	expect_rc("negative fd", demo_access(imp0, -1, DMABUF_DEMO_ACCESS_READ, 0, NULL), EBADF);
	if (!pipe(pipefd)) {
		expect_rc("pipe", demo_access(imp0, pipefd[0], DMABUF_DEMO_ACCESS_READ, 0, NULL), EINVAL);
		expect_rc("attach pipe", demo_attach(imp0, pipefd[1]), EINVAL);
		close(pipefd[0]);
		close(pipefd[1]);
	}
	null_fd = open("/dev/null", O_RDWR);
	expect_rc("/dev/null", demo_access(imp0, null_fd, DMABUF_DEMO_ACCESS_READ, 0, NULL), EINVAL);
	close(null_fd);
	expect_rc("importer node itself", demo_access(imp0, imp0, DMABUF_DEMO_ACCESS_READ, 0, NULL), EINVAL);
	tg_end();

	tg_begin("importer refuses bad requests");
	acc.fd = fd;
	expect_rc("unknown op", ioctl(imp0, DMABUF_DEMO_IOCTL_ACCESS, &acc) ? -errno : 0, EINVAL);
	acc.op = 0;
	acc.flags = 1;
	expect_rc("flags", ioctl(imp0, DMABUF_DEMO_IOCTL_ACCESS, &acc) ? -errno : 0, EINVAL);
	expect_rc("detach unattached", demo_detach(imp0, fd), ENOENT);
	expect_rc("attach", demo_attach(imp0, fd), 0);
	expect_rc("attach twice", demo_attach(imp0, fd), EBUSY);
	expect_rc("detach", demo_detach(imp0, fd), 0);
	expect_rc("unknown ioctl", ioctl(imp0, _IO(0xDC, 0x2f)) ? -errno : 0, ENOTTY);
	tg_end();

	tg_begin("exporter refuses bad requests");
	expect_rc("size 0", demo_create(0, O_RDWR), EINVAL);
	expect_rc("unaligned size", demo_create(4097, O_RDWR), EINVAL);
	expect_rc("1 TiB", demo_create(TiB, O_RDWR), ENOMEM);
	expect_rc("overflowing size", demo_create(~0ULL - 4095, O_RDWR), ENOMEM);
	expect_rc("fd_flags", demo_create(4096, O_RDWR | O_APPEND), EINVAL);
	expect_rc("fd_flags access mode 3", demo_create(4096, O_ACCMODE), EINVAL);
	cr.flags = 1;
	expect_rc("flags", ioctl(exporter_fd(), DMABUF_DEMO_IOCTL_CREATE, &cr) ? -errno : 0, EINVAL);
	cr.flags = 0;
	cr.reserved = 1;
	expect_rc("reserved", ioctl(exporter_fd(), DMABUF_DEMO_IOCTL_CREATE, &cr) ? -errno : 0, EINVAL);
	sysfd = alloc_buf(4096, O_RDWR);
	expect_rc("fill a /dev/dmabuf buffer", demo_fill(sysfd, 1, NULL), EINVAL);
	expect_rc("fill a closed fd", demo_fill(1000, 1, NULL), EBADF);
	close(sysfd);
	expect_rc("unknown ioctl", ioctl(exporter_fd(), _IO(0xDC, 0x1f)) ? -errno : 0, ENOTTY);
	expect_rc("mainline sync number on the node",
		  ioctl(exporter_fd(), DMABUF_CORE_IOCTL_SYNC, &cr) ? -errno : 0, ENOTTY);
	tg_end();
	close(fd);
}

static void t_read_only(void)
{
	struct dmabuf_demo_pattern ver;
	struct dmabuf_demo_access a;
	int fd, sysfd;

	tg_begin("devices may read but not write a read-only buffer");
	fd = demo_create(64 * KiB, O_RDONLY);
	if (expect_rc("create", fd, 0)) {
		expect_rc("fill", demo_fill(fd, 3, NULL), EACCES);
		expect_rc("importer write",
			  demo_access(imp0, fd, DMABUF_DEMO_ACCESS_WRITE, 3, NULL), EACCES);
		expect_rc("importer read",
			  demo_access(imp0, fd, DMABUF_DEMO_ACCESS_READ, 0, &a), 0);
		CHECK_U64("read checksum", a.checksum, demo_zero_checksum(64 * KiB));
		/* Nothing was written: VERIFY still reads zeros. */
		if (expect_rc("verify", demo_verify(fd, 0, &ver), 0))
			CHECK_U64("VERIFY checksum of the unwritten buffer", ver.checksum,
				  demo_zero_checksum(64 * KiB));
		close(fd);
	}
	sysfd = alloc_buf(64 * KiB, O_RDONLY);
	if (expect_rc("alloc", sysfd, 0)) {
		expect_rc("importer write /dev/dmabuf buffer",
			  demo_access(imp0, sysfd, DMABUF_DEMO_ACCESS_WRITE, 3, NULL), EACCES);
		expect_rc("importer read /dev/dmabuf buffer",
			  demo_access(imp0, sysfd, DMABUF_DEMO_ACCESS_READ, 0, NULL), 0);
		close(sysfd);
	}
	tg_end();
}

/* Counters after @fn ran: released and live buffers. */
static void snapshot(uint64_t *released, uint64_t *live)
{
	struct dmabuf_demo_exporter_stats es;
	struct dmabuf_core_stats cs;

	demo_exporter_stats(&es);
	stats(&cs);
	*released = es.released;
	*live = cs.live_buffers;
}

static void t_release_order(void)
{
	uint64_t rel0, live0, rel, live;
	int fd, imp;
	void *p;

	tg_begin("release after the last fd, attachment and mapping, in any order");
	/* fd closed first, attachment last. */
	snapshot(&rel0, &live0);
	fd = demo_create(64 * KiB, O_RDWR);
	imp = importer_open(0);
	expect_rc("attach", demo_attach(imp, fd), 0);
	close(fd);
	snapshot(&rel, &live);
	CHECK(rel == rel0 && live == live0 + 1, "released while attached");
	close(imp);	/* drops the held attachment */
	snapshot(&rel, &live);
	CHECK(rel == rel0 + 1 && live == live0, "not released after detach (%llu)",
	      (unsigned long long)(rel - rel0));

	/* Attachment dropped first, fd last. */
	fd = demo_create(64 * KiB, O_RDWR);
	imp = importer_open(1);
	expect_rc("attach", demo_attach(imp, fd), 0);
	expect_rc("detach", demo_detach(imp, fd), 0);
	close(imp);
	snapshot(&rel, &live);
	CHECK(rel == rel0 + 1, "released while the fd is open");
	close(fd);
	snapshot(&rel, &live);
	CHECK(rel == rel0 + 2 && live == live0, "not released after close");

	/* A user mapping outlives the fd. */
	fd = demo_create(64 * KiB, O_RDWR);
	p = mmap(NULL, 64 * KiB, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (CHECK(p != MAP_FAILED, "mmap: %s", errstr(errno))) {
		close(fd);
		snapshot(&rel, &live);
		CHECK(rel == rel0 + 2, "released while mapped");
		munmap(p, 64 * KiB);
	} else {
		close(fd);
	}
	snapshot(&rel, &live);
	CHECK(rel == rel0 + 3 && live == live0, "not released after munmap");
	tg_end();
}

static long delete_module(const char *name)
{
	return syscall(SYS_delete_module, name, O_NONBLOCK);
}

/* /sys/module/@name/refcnt, or -1. */
static long long refcnt(const char *name)
{
	char path[128];

	snprintf(path, sizeof(path), "/sys/module/%s/refcnt", name);
	return read_param_ll(path);
}

static int load_exporter(void)
{
	int ko = open(EXPORTER_KO, O_RDONLY | O_CLOEXEC), r;

	if (ko < 0)
		return -errno;
	r = syscall(SYS_finit_module, ko, "", 0) ? -errno : 0;
	close(ko);
	return r;
}

/*
 * Every node fd is closed first, so only the buffers can hold the modules.
 * The exporter: nothing depends on it, so a live demo buffer is all that
 * keeps it (refcnt 1, rmmod refused), and once the buffer is closed it
 * unloads (and is loaded again for the programs after this one).
 * dmabuf_core: the demo modules depend on it, so rmmod is refused whatever
 * the buffers do; what the buffers add is its refcount: 1 for a demo buffer,
 * 2 for a /dev/dmabuf buffer (exporter and file owner), back when closed.
 */
static void t_unload_while_used(void)
{
	long long core0, core1, core2;
	int fd, sysfd;

	tg_begin("modules cannot be unloaded under a live buffer");
	fd = demo_create(64 * KiB, O_RDWR);
	sysfd = alloc_buf(4096, O_RDWR);
	if (!CHECK(fd >= 0 && sysfd >= 0, "buffers: %s %s", errstr(-fd), errstr(-sysfd)))
		goto out;
	exporter_close();
	dev_close();
	close(imp0);
	close(imp1);
	imp0 = imp1 = -1;

	core0 = refcnt("dmabuf_core");
	/* Without the pin, rmmod would unload the code the buffer still calls. */
	if (CHECK(refcnt("dmabuf_demo_exporter") == 1,
		  "exporter refcnt with one demo buffer and no node open: %lld",
		  refcnt("dmabuf_demo_exporter")))
		EXPECT_ERRNO(delete_module("dmabuf_demo_exporter"), EWOULDBLOCK);
	EXPECT_ERRNO(delete_module("dmabuf_core"), EWOULDBLOCK);
	close(sysfd);
	sysfd = -1;
	core1 = refcnt("dmabuf_core");
	CHECK(core0 - core1 == 2, "dmabuf_core refcnt %lld -> %lld on closing a /dev/dmabuf buffer",
	      core0, core1);
	close(fd);
	fd = -1;
	core2 = refcnt("dmabuf_core");
	CHECK(core1 - core2 == 1, "dmabuf_core refcnt %lld -> %lld on closing a demo buffer",
	      core1, core2);
	if (CHECK(refcnt("dmabuf_demo_exporter") == 0, "exporter refcnt %lld with no buffer",
		  refcnt("dmabuf_demo_exporter")) &&
	    EXPECT_ERRNO(delete_module("dmabuf_demo_exporter"), 0))
		CHECK(!load_exporter(), "loading the exporter again: %s", errstr(errno));
	tg_note("dmabuf_core refcnt %lld with both buffers, %lld without (its dependents)",
		core0, core2);
out:
	close_if_open(fd);
	close_if_open(sysfd);
	tg_end();
}

static int stress_child(void *arg, char *msg, size_t msglen)
{
	unsigned int seed = (unsigned int)(uintptr_t)arg, i;
	int i0 = importer_open(0), i1 = importer_open(1);

	for (i = 0; i < 60; i++) {
		uint64_t size = (1 + (seed + i) % 16) * 16 * KiB;
		struct dmabuf_demo_pattern fill, ver;
		struct dmabuf_demo_access a;
		int fd = demo_create(size, O_RDWR), imp = (i & 1) ? i1 : i0;

		if (fd < 0) {
			snprintf(msg, msglen, "create: %s", errstr(-fd));
			return 1;
		}
		/* The 32-bit importer attaches before first use: storage suits it. */
		if (demo_attach(i1, fd)) {
			snprintf(msg, msglen, "attach failed");
			return 1;
		}
		if (demo_fill(fd, seed + i, &fill) ||
		    demo_access(imp, fd, DMABUF_DEMO_ACCESS_READ, 0, &a) ||
		    a.checksum != fill.checksum) {
			snprintf(msg, msglen, "iteration %u: read mismatch", i);
			return 1;
		}
		if (demo_access(imp, fd, DMABUF_DEMO_ACCESS_WRITE, ~seed, &a) ||
		    demo_verify(fd, ~seed, &ver) || ver.mismatches) {
			snprintf(msg, msglen, "iteration %u: write mismatch", i);
			return 1;
		}
		if ((i % 3) == 0)	/* else closing the buffer with it held */
			demo_detach(i1, fd);
		close(fd);
	}
	close(i0);
	close(i1);
	return 0;
}

static void t_concurrent(void)
{
	struct dmabuf_demo_exporter_stats s0, s1;
	struct child kids[4];
	char msg[256];
	unsigned int i;

	tg_begin("4 processes share, map and verify concurrently");
	demo_exporter_stats(&s0);
	for (i = 0; i < 4; i++)
		expect_rc("fork", child_start(&kids[i], stress_child, (void *)(uintptr_t)(i * 1000 + 1)), 0);
	for (i = 0; i < 4; i++)
		if (child_wait(&kids[i], msg, sizeof(msg)))
			tg_fail("child %u: %s", i, msg);
	demo_exporter_stats(&s1);
	CHECK_U64("created", s1.created - s0.created, 240);
	CHECK_U64("released", s1.released - s0.released, 240);
	CHECK(s1.mapped - s0.mapped == s1.unmapped - s0.unmapped, "maps and unmaps differ");
	CHECK(s1.attached - s0.attached == s1.detached - s0.detached,
	      "attaches and detaches differ");
	tg_end();
}

int main(void)
{
	tap_init("t_demo");
	high_ram = total_ram_bytes() > FOUR_GIB + 512 * MiB;

	tg_begin("importer nodes open");
	CHECK(open_importers(), "importer nodes: %s", errstr(errno));
	CHECK(exporter_fd() >= 0, "exporter node: %s", errstr(-exporter_fd()));
	if (!tg_end())
		return tap_finish();

	t_device_info();
	t_same_pages();
	t_negotiation();
	t_system_buffer();
	t_bad_input();
	t_read_only();
	t_release_order();
	t_concurrent();
	t_unload_while_used();
	return tap_finish();
}
