// SPDX-License-Identifier: GPL-2.0-only
/*
 * t_interop: dmabuf-core buffers and the kernel's own dma-buf world.
 *
 *   - dma-bufs of other exporters (the kernel's system heap, udmabuf, vgem)
 *     imported by the demo importer: same bytes both ways, no copy;
 *   - buffers of ours imported by a stock kernel driver (vgem's PRIME
 *     import), handed back by it, fenced by it.
 *
 * Run with the demo modules loaded (importer 0: 64-bit) and, for the vgem
 * groups, vgem loaded.  A peer the running kernel does not have (6.1 has no
 * dma-heaps and no udmabuf) makes its groups SKIP, and only an open(2) of
 * the peer's node failing with ENOENT counts as not having it: any other
 * error is a failure.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#include <linux/dma-buf.h>
#include <linux/dma-heap.h>
#include <linux/memfd.h>
#include <linux/udmabuf.h>
#include <linux/dmabuf_demo.h>

#include "lib/demo.h"
#include "lib/tap.h"
#include "lib/vgem.h"

#define DMA_HEAP_SYSTEM	"/dev/dma_heap/system"
#define UDMABUF_DEV	"/dev/udmabuf"

static int imp0 = -1;

/*
 * Open @path, the node of a peer this kernel may lack: the fd; -1 after
 * tg_skip() when the node does not exist (ENOENT: the kernel has no such
 * peer); -1 after a failure recorded in the open group for any other error.
 */
static int open_peer(const char *path, int flags)
{
	int fd = open(path, flags | O_CLOEXEC);

	if (fd >= 0)
		return fd;
	if (errno == ENOENT)
		tg_skip("no %s on this kernel", path);
	else
		tg_fail("open %s: %s", path, errstr(errno));
	return -1;
}

/* A system-heap buffer: fd, or -1 with a skip or failure recorded. */
static int heap_alloc(size_t len, int fd_flags)
{
	struct dma_heap_allocation_data data = { .len = len, .fd_flags = fd_flags };
	int heap = open_peer(DMA_HEAP_SYSTEM, O_RDONLY), ret;

	if (heap < 0)
		return -1;
	ret = ioctl(heap, DMA_HEAP_IOCTL_ALLOC, &data) ? -1 : (int)data.fd;
	CHECK(ret >= 0, "DMA_HEAP_IOCTL_ALLOC: %s", errstr(errno));
	close(heap);
	return ret;
}

static ino_t inode_of(int fd)
{
	struct stat st;

	return fstat(fd, &st) ? 0 : st.st_ino;
}

/*
 * The demo importer reads what the CPU wrote through the foreign fd's own
 * mmap, and writes what the CPU then reads there: one set of pages.
 */
static void check_shared_both_ways(int fd, size_t len, const char *what)
{
	struct dmabuf_demo_access acc;
	struct dmabuf_core_query q;
	uint8_t *p;

	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (!CHECK(p != MAP_FAILED, "%s: mmap: %s", what, errstr(errno)))
		return;
	for (size_t i = 0; i < len; i++)
		p[i] = (uint8_t)(i * 7 + 3);
	if (expect_rc("importer reads", demo_access(imp0, fd, DMABUF_DEMO_ACCESS_READ, 0, &acc), 0)) {
		CHECK_U64("checksum the device saw", acc.checksum, demo_checksum(p, len));
		CHECK_U64("bytes the device saw", acc.bytes, len);
		CHECK_U64("bounced segments", acc.bounced, 0);
	}
	if (expect_rc("importer writes",
		      demo_access(imp0, fd, DMABUF_DEMO_ACCESS_WRITE, 0x5eed, &acc), 0))
		CHECK_U64("CPU sees the device's write", demo_checksum(p, len),
			  demo_expected_checksum(len, 0x5eed));
	munmap(p, len);
	if (expect_rc("QUERY", query(fd, &q), 0)) {
		CHECK_U64("QUERY size", q.size, len);
		CHECK(q.info & DMABUF_CORE_QUERY_FOREIGN, "QUERY does not say foreign");
		CHECK_U64("QUERY id of a foreign dma-buf", q.id, 0);
	}
}

static void t_heap_import(void)
{
	int fd, held;

	tg_begin("a system-heap dma-buf imports into the demo importer, same pages");
	fd = heap_alloc(256 * KiB, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		tg_end();
		/* The next group needs the heap too: the same answer there. */
		tg_begin("a read-only system-heap dma-buf is read, never written, by the demo importer");
		heap_alloc(64 * KiB, O_RDONLY | O_CLOEXEC);
		tg_end();
		return;
	}
	check_shared_both_ways(fd, 256 * KiB, "heap");

	/* The original fd closed first: the importer's attachment holds it. */
	held = dup(fd);
	expect_rc("attach", demo_attach(imp0, held), 0);
	close(fd);
	expect_rc("access through the dup after the original closed",
		  demo_access(imp0, held, DMABUF_DEMO_ACCESS_READ, 0, NULL), 0);
	expect_rc("detach", demo_detach(imp0, held), 0);
	close(held);
	tg_end();

	/*
	 * The system heap maps a read-only buffer for device writes all the
	 * same; the demo importer does not write it (regression: it did).
	 */
	tg_begin("a read-only system-heap dma-buf is read, never written, by the demo importer");
	fd = heap_alloc(64 * KiB, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		expect_rc("importer reads", demo_access(imp0, fd, DMABUF_DEMO_ACCESS_READ, 0, NULL), 0);
		expect_rc("importer writes", demo_access(imp0, fd, DMABUF_DEMO_ACCESS_WRITE, 1, NULL),
			  EACCES);
		close(fd);
	}
	tg_end();
}

static void t_udmabuf_import(void)
{
	struct udmabuf_create create = { .size = 128 * KiB };
	int dev, memfd, fd;
	uint8_t *p;

	tg_begin("a udmabuf (memfd pages) imports into the demo importer: writes land in the memfd");
	dev = open_peer(UDMABUF_DEV, O_RDWR);
	if (dev < 0) {
		tg_end();
		return;
	}
	memfd = memfd_create("t_interop", MFD_ALLOW_SEALING | MFD_CLOEXEC);
	if (!CHECK(memfd >= 0 && ftruncate(memfd, create.size) == 0 &&
		   fcntl(memfd, F_ADD_SEALS, F_SEAL_SHRINK) == 0,
		   "memfd: %s", errstr(errno)))
		goto out_dev;
	create.memfd = memfd;
	create.flags = UDMABUF_FLAGS_CLOEXEC;
	fd = ioctl(dev, UDMABUF_CREATE, &create);
	if (!CHECK(fd >= 0, "UDMABUF_CREATE: %s", errstr(errno)))
		goto out_memfd;
	check_shared_both_ways(fd, create.size, "udmabuf");

	/* The memfd itself, never mapped through the dma-buf, has the bytes. */
	expect_rc("importer writes", demo_access(imp0, fd, DMABUF_DEMO_ACCESS_WRITE, 0xabc, NULL), 0);
	p = mmap(NULL, create.size, PROT_READ, MAP_SHARED, memfd, 0);
	if (CHECK(p != MAP_FAILED, "memfd mmap: %s", errstr(errno))) {
		CHECK_U64("memfd checksum", demo_checksum(p, create.size),
			  demo_expected_checksum(create.size, 0xabc));
		munmap(p, create.size);
	}
	close(fd);
out_memfd:
	close(memfd);
out_dev:
	close(dev);
	tg_end();
}

/* ---- vgem --------------------------------------------------------------- */

static int vgem = -1;

static int prime_import(int fd, __u32 *handle)
{
	return vgem_prime_import(vgem, fd, handle);
}

static int prime_export(__u32 handle)
{
	return vgem_prime_export(vgem, handle);
}

static void gem_close(__u32 handle)
{
	vgem_gem_close(vgem, handle);
}

static void t_vgem_imports_ours(void)
{
	struct dmabuf_core_query q;
	__u32 handle;
	int fd, back, ro;

	tg_begin("vgem PRIME-imports a /dev/dmabuf buffer: attached, handed back unchanged");
	fd = alloc_buf(1 * MiB, O_RDWR | O_CLOEXEC);
	if (!expect_rc("alloc", fd < 0 ? fd : 0, 0))
		goto out;
	if (!expect_rc("DRM_IOCTL_PRIME_FD_TO_HANDLE", prime_import(fd, &handle), 0))
		goto out_close;
	if (expect_rc("QUERY", query(fd, &q), 0)) {
		CHECK_U64("attachments while vgem holds it", q.attachments, 1);
		/* 6.x vgem maps at import, 7.x when it first needs the pages. */
		CHECK(q.mappings <= 1, "%u mappings by one attachment", q.mappings);
		tg_note("vgem mapped at import: %s", q.mappings ? "yes" : "no (deferred)");
	}
	back = prime_export(handle);
	if (CHECK(back >= 0, "DRM_IOCTL_PRIME_HANDLE_TO_FD: %s", errstr(-back))) {
		CHECK(inode_of(back) == inode_of(fd),
		      "vgem's re-export is not the same dma-buf");
		CHECK_U64("QUERY id through vgem", buf_id(back), buf_id(fd));
		close(back);
	}
	gem_close(handle);
	if (expect_rc("QUERY after GEM_CLOSE", query(fd, &q), 0)) {
		CHECK_U64("attachments after GEM_CLOSE", q.attachments, 0);
		CHECK_U64("mappings after GEM_CLOSE", q.mappings, 0);
	}
out_close:
	close(fd);
out:
	tg_end();

	tg_begin("vgem never maps a read-only buffer for device writes");
	ro = alloc_buf(64 * KiB, O_RDONLY | O_CLOEXEC);
	if (ro >= 0) {
		int r = prime_import(ro, &handle);

		/* vgem maps bidirectionally: at import (6.x) that is refused. */
		if (r == 0) {
			if (expect_rc("QUERY", query(ro, &q), 0))
				CHECK_U64("mappings of the read-only buffer", q.mappings, 0);
			tg_note("import deferred its mapping");
			gem_close(handle);
		} else {
			expect_rc("PRIME import of a read-only buffer", r, EACCES);
			tg_note("import refused with EACCES");
		}
		if (expect_rc("QUERY", query(ro, &q), 0))
			CHECK_U64("attachments left", q.attachments, 0);
		close(ro);
	}
	tg_end();
}

static void t_vgem_in_negotiation(void)
{
	struct dmabuf_demo_exporter_stats s0, s1;
	struct dmabuf_demo_storage st;
	struct dmabuf_core_query q;
	__u32 handle;
	int fd, imp1;

	tg_begin("vgem's attachment takes part in the demo exporter's storage negotiation");
	imp1 = importer_open(1);	/* the 32-bit importer */
	fd = demo_create(256 * KiB, O_RDWR | O_CLOEXEC);
	if (!CHECK(imp1 >= 0 && fd >= 0, "importer 1 %d, create %d", imp1, fd))
		goto out;
	demo_exporter_stats(&s0);
	expect_rc("importer1 attaches", demo_attach(imp1, fd), 0);
	if (!expect_rc("vgem PRIME-imports", prime_import(fd, &handle), 0))
		goto out;
	demo_exporter_stats(&s1);
	CHECK_U64("attach calls the exporter saw", s1.attached - s0.attached, 2);
	if (expect_rc("QUERY", query(fd, &q), 0))
		CHECK_U64("attachments", q.attachments, 2);
	/* The first map (vgem's at import on 6.x, else importer1's) allocates. */
	expect_rc("importer1 reads", demo_access(imp1, fd, DMABUF_DEMO_ACCESS_READ, 0, NULL), 0);
	if (expect_rc("STORAGE", demo_storage(fd, &st), 0)) {
		CHECK(st.allocated, "no storage");
		CHECK_U64("devices the allocation considered (importer1 and vgem)", st.devices, 2);
		CHECK(st.highest_phys <= 0xffffffffULL && st.dma_limit == 0xffffffffULL,
		      "storage up to %#llx, limit %#llx: not within every device's reach",
		      (unsigned long long)st.highest_phys, (unsigned long long)st.dma_limit);
	}
	gem_close(handle);
	expect_rc("importer1 detaches", demo_detach(imp1, fd), 0);
out:
	if (fd >= 0)
		close(fd);
	if (imp1 >= 0)
		close(imp1);
	tg_end();
}

static void t_vgem_export(void)
{
	struct t_drm_create_dumb cd = { .width = 256, .height = 64, .bpp = 32 };
	int fd;

	tg_begin("a vgem PRIME export imports into the demo importer, same pages");
	if (!CHECK(ioctl(vgem, T_DRM_IOCTL_MODE_CREATE_DUMB, &cd) == 0,
		   "DRM_IOCTL_MODE_CREATE_DUMB: %s", errstr(errno))) {
		tg_end();
		return;
	}
	fd = prime_export(cd.handle);
	gem_close(cd.handle);	/* the dma-buf keeps the object */
	if (CHECK(fd >= 0, "PRIME_HANDLE_TO_FD: %s", errstr(-fd))) {
		check_shared_both_ways(fd, cd.size, "vgem");
		close(fd);
	}
	tg_end();
}

struct access_thread {
	int fd;
	int ret;
	volatile pid_t tid;	/* set just before the call */
	volatile bool done;
};

/*
 * Wait (up to 20 s) until thread @t is asleep inside ioctl(2): its
 * /proc task entry says syscall ioctl and state S or D.  True when it
 * is; false when it finished instead, or never got there.
 */
static bool asleep_in_ioctl(struct access_thread *t)
{
	char path[64], buf[256], *p;
	int i, nr;
	FILE *f;

	for (i = 0; i < 2000 && !t->done; i++, usleep(10 * 1000)) {
		if (!t->tid)
			continue;
		snprintf(path, sizeof(path), "/proc/self/task/%d/syscall", (int)t->tid);
		f = fopen(path, "re");
		if (!f)
			continue;
		nr = fscanf(f, "%d", &nr) == 1 ? nr : -1;
		fclose(f);
		if (nr != SYS_ioctl)
			continue;
		snprintf(path, sizeof(path), "/proc/self/task/%d/stat", (int)t->tid);
		f = fopen(path, "re");
		if (!f)
			continue;
		p = fgets(buf, sizeof(buf), f) ? strrchr(buf, ')') : NULL;
		fclose(f);
		if (p && (p[2] == 'S' || p[2] == 'D'))
			return !t->done;
	}
	return false;
}

/* The demo importer's device reads the buffer. */
static void *do_access(void *arg)
{
	struct access_thread *t = arg;

	t->tid = (pid_t)syscall(SYS_gettid);
	t->ret = demo_access(imp0, t->fd, DMABUF_DEMO_ACCESS_READ, 0, NULL);
	t->done = true;
	return NULL;
}

/* The CPU begins a read (DMA_BUF_IOCTL_SYNC START|READ), then ends it. */
static void *do_cpu_read(void *arg)
{
	struct access_thread *t = arg;
	struct dma_buf_sync sync = { .flags = DMA_BUF_SYNC_START | DMA_BUF_SYNC_READ };

	t->tid = (pid_t)syscall(SYS_gettid);
	t->ret = ioctl(t->fd, DMA_BUF_IOCTL_SYNC, &sync) ? -errno : 0;
	t->done = true;
	sync.flags = DMA_BUF_SYNC_END | DMA_BUF_SYNC_READ;
	ioctl(t->fd, DMA_BUF_IOCTL_SYNC, &sync);
	return NULL;
}

static void t_vgem_fences(void)
{
	struct t_vgem_fence_attach fa = { .flags = T_VGEM_FENCE_WRITE };
	struct t_vgem_fence_signal fs = { 0 };
	struct dma_buf_export_sync_file sf = { .flags = DMA_BUF_SYNC_READ, .fd = -1 };
	struct access_thread t = { 0 }, c = { 0 };
	struct pollfd pfd;
	pthread_t thread, cpu;
	__u32 handle;
	int fd;

	tg_begin("a vgem write fence on our buffer gates poll, sync_file, CPU sync and the importer");
	fd = alloc_buf(64 * KiB, O_RDWR | O_CLOEXEC);
	if (fd < 0 || !expect_rc("PRIME import", prime_import(fd, &handle), 0))
		goto out;
	fa.handle = handle;
	if (!CHECK(ioctl(vgem, T_DRM_IOCTL_VGEM_FENCE_ATTACH, &fa) == 0,
		   "VGEM_FENCE_ATTACH: %s", errstr(errno)))
		goto out_gem;

	pfd = (struct pollfd){ .fd = fd, .events = POLLIN };
	CHECK(poll(&pfd, 1, 0) == 0, "poll(POLLIN) ready under a write fence");
	if (CHECK(ioctl(fd, DMA_BUF_IOCTL_EXPORT_SYNC_FILE, &sf) == 0,
		  "EXPORT_SYNC_FILE: %s", errstr(errno))) {
		pfd = (struct pollfd){ .fd = sf.fd, .events = POLLIN };
		CHECK(poll(&pfd, 1, 0) == 0, "sync_file signalled before the fence");
	}

	/* The importer waits for the fence before its device reads... */
	t.fd = fd;
	if (!CHECK(pthread_create(&thread, NULL, do_access, &t) == 0, "pthread_create"))
		goto out_signal;
	/* ...and so does the CPU's SYNC START. */
	c.fd = fd;
	if (!CHECK(pthread_create(&cpu, NULL, do_cpu_read, &c) == 0, "pthread_create"))
		c.fd = 0;
	/*
	 * Each must be seen asleep in its ioctl, not merely not done yet
	 * (a thread TCG has not run yet is not done either).
	 */
	CHECK(asleep_in_ioctl(&t) && !t.done,
	      "the importer did not wait for the write fence (done %d)", t.done);
	if (c.fd)
		CHECK(asleep_in_ioctl(&c) && !c.done,
		      "DMA_BUF_IOCTL_SYNC START did not wait for the write fence (done %d)",
		      c.done);

out_signal:
	fs.fence = fa.out_fence;
	CHECK(ioctl(vgem, T_DRM_IOCTL_VGEM_FENCE_SIGNAL, &fs) == 0,
	      "VGEM_FENCE_SIGNAL: %s", errstr(errno));
	if (t.fd) {
		pthread_join(thread, NULL);
		expect_rc("importer read after the signal", t.ret, 0);
	}
	if (c.fd) {
		pthread_join(cpu, NULL);
		expect_rc("SYNC START after the signal", c.ret, 0);
	}
	pfd = (struct pollfd){ .fd = fd, .events = POLLIN };
	CHECK(poll(&pfd, 1, 1000) == 1, "poll(POLLIN) not ready after the signal");
	if (sf.fd >= 0) {
		pfd = (struct pollfd){ .fd = sf.fd, .events = POLLIN };
		CHECK(poll(&pfd, 1, 1000) == 1, "sync_file not signalled after the signal");
		close(sf.fd);
	}
out_gem:
	gem_close(handle);
out:
	if (fd >= 0)
		close(fd);
	tg_end();
}

/* The CPU begins a write (DMA_BUF_IOCTL_SYNC START|WRITE), then ends it. */
static void *do_cpu_write(void *arg)
{
	struct access_thread *t = arg;
	struct dma_buf_sync sync = { .flags = DMA_BUF_SYNC_START | DMA_BUF_SYNC_WRITE };

	t->ret = ioctl(t->fd, DMA_BUF_IOCTL_SYNC, &sync) ? -errno : 0;
	t->done = true;
	sync.flags = DMA_BUF_SYNC_END | DMA_BUF_SYNC_WRITE;
	ioctl(t->fd, DMA_BUF_IOCTL_SYNC, &sync);
	return NULL;
}

/* Attach a vgem fence (a write fence when @write) to @handle: its id, or -errno. */
static int vgem_fence(__u32 handle, bool write)
{
	struct t_vgem_fence_attach fa = { .handle = handle,
					  .flags = write ? T_VGEM_FENCE_WRITE : 0 };

	if (ioctl(vgem, T_DRM_IOCTL_VGEM_FENCE_ATTACH, &fa))
		return -errno;
	return (int)fa.out_fence;
}

static void vgem_signal(int fence)
{
	struct t_vgem_fence_signal fs = { .fence = (__u32)fence };

	CHECK(ioctl(vgem, T_DRM_IOCTL_VGEM_FENCE_SIGNAL, &fs) == 0,
	      "VGEM_FENCE_SIGNAL: %s", errstr(errno));
}

/*
 * Regression: the core waited before the exporter's begin_cpu_access with
 * the device's sense of the direction, so a CPU write (DMA_TO_DEVICE) let
 * the exporter in while a device still read, and a CPU read waited for
 * readers.  The exporter counts its begin_cpu_access calls.
 */
static void t_vgem_read_fence_cpu(void)
{
	struct dmabuf_demo_exporter_stats s0, s1;
	struct access_thread c = { 0 };
	pthread_t cpu;
	__u32 handle;
	int fd, fence, i;

	tg_begin("a vgem read fence holds back a CPU write's begin_cpu_access, not a CPU read");
	fd = demo_create(64 * KiB, O_RDWR | O_CLOEXEC);
	if (!expect_rc("demo create", fd < 0 ? fd : 0, 0))
		goto out;
	if (!expect_rc("PRIME import", prime_import(fd, &handle), 0))
		goto out;

	fence = vgem_fence(handle, false);
	if (!expect_rc("VGEM_FENCE_ATTACH (read)", fence < 0 ? fence : 0, 0))
		goto out_gem;
	demo_exporter_stats(&s0);
	c.fd = fd;
	if (CHECK(pthread_create(&cpu, NULL, do_cpu_write, &c) == 0, "pthread_create")) {
		usleep(300 * 1000);
		demo_exporter_stats(&s1);
		CHECK_U64("begin_cpu_access calls of a CPU write under a read fence",
			  s1.cpu_begun - s0.cpu_begun, 0);
		vgem_signal(fence);
		pthread_join(cpu, NULL);
		expect_rc("SYNC START|WRITE after the signal", c.ret, 0);
		demo_exporter_stats(&s1);
		CHECK_U64("begin_cpu_access calls after the signal",
			  s1.cpu_begun - s0.cpu_begun, 1);
	} else {
		vgem_signal(fence);
	}

	/* vgem signals a fence itself after 10 s: stay well below. */
	fence = vgem_fence(handle, false);
	if (!expect_rc("VGEM_FENCE_ATTACH (read)", fence < 0 ? fence : 0, 0))
		goto out_gem;
	c = (struct access_thread){ .fd = fd };
	if (CHECK(pthread_create(&cpu, NULL, do_cpu_read, &c) == 0, "pthread_create")) {
		for (i = 0; i < 60 && !c.done; i++)
			usleep(50 * 1000);
		CHECK(c.done, "a CPU read waited for a device's read fence");
		vgem_signal(fence);
		pthread_join(cpu, NULL);
		expect_rc("SYNC START|READ", c.ret, 0);
	} else {
		vgem_signal(fence);
	}
out_gem:
	gem_close(handle);
out:
	if (fd >= 0)
		close(fd);
	tg_end();
}

/*
 * Regression: the demo importer wrote into foreign buffers exported
 * read-only.  A vgem buffer exported without DRM_RDWR is one.
 */
static void t_vgem_read_only_export(void)
{
	struct t_drm_create_dumb cd = { .width = 256, .height = 16, .bpp = 32 };
	struct t_drm_prime_handle ph = { .flags = O_CLOEXEC };
	struct dmabuf_demo_access a0, a1;
	int fd = -1;

	tg_begin("the importer's ACCESS WRITE of a read-only vgem export -> EACCES, bytes unchanged");
	if (!CHECK(ioctl(vgem, T_DRM_IOCTL_MODE_CREATE_DUMB, &cd) == 0,
		   "DRM_IOCTL_MODE_CREATE_DUMB: %s", errstr(errno)))
		goto out;
	ph.handle = cd.handle;
	if (CHECK(ioctl(vgem, T_DRM_IOCTL_PRIME_HANDLE_TO_FD, &ph) == 0,
		  "PRIME_HANDLE_TO_FD: %s", errstr(errno)))
		fd = ph.fd;
	gem_close(cd.handle);
	if (fd < 0)
		goto out;
	CHECK((fcntl(fd, F_GETFL) & O_ACCMODE) == O_RDONLY, "the export is not read-only");
	if (expect_rc("ACCESS READ", demo_access(imp0, fd, DMABUF_DEMO_ACCESS_READ, 0, &a0), 0)) {
		expect_rc("ACCESS WRITE", demo_access(imp0, fd, DMABUF_DEMO_ACCESS_WRITE,
						      0x5eed, NULL), EACCES);
		if (expect_rc("ACCESS READ again",
			      demo_access(imp0, fd, DMABUF_DEMO_ACCESS_READ, 0, &a1), 0))
			CHECK_U64("checksum after the refused write", a1.checksum, a0.checksum);
	}
	close(fd);
out:
	tg_end();
}

int main(void)
{
	tap_init("t_interop");
	imp0 = importer_open(0);
	if (imp0 < 0) {
		tg_begin("demo importer node");
		tg_fail("open importer 0: %s", errstr(-imp0));
		tg_end();
		return tap_finish();
	}
	t_heap_import();
	t_udmabuf_import();

	vgem = vgem_open();
	if (vgem >= 0) {
		t_vgem_imports_ours();
		t_vgem_in_negotiation();
		t_vgem_export();
		t_vgem_fences();
		t_vgem_read_fence_cpu();
		t_vgem_read_only_export();
		close(vgem);
	} else {
		tg_begin("vgem card");
		tg_fail("open " VGEM_CARD ": %s", errstr(-vgem));
		tg_end();
	}
	close(imp0);
	return tap_finish();
}
