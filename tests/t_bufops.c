// SPDX-License-Identifier: GPL-2.0-only
/*
 * t_bufops: operations on a buffer fd: mmap, DMABUF_CORE_IOCTL_SYNC,
 * lseek, DMABUF_CORE_IOCTL_QUERY, unknown ioctls, read/write, close.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/tap.h"

#define PROG "t_bufops"

/* Mainline dma-buf ioctl numbers this module does not implement. */
#define MAINLINE_DMA_BUF_SET_NAME_A	_IOW('b', 1, __u32)
#define MAINLINE_DMA_BUF_SET_NAME_B	_IOW('b', 1, __u64)
/* struct dma_buf_export_sync_file / dma_buf_import_sync_file */
struct mainline_sync_file {
	__u32 flags;
	__s32 fd;
};
#define MAINLINE_EXPORT_SYNC_FILE	_IOWR('b', 2, struct mainline_sync_file)
#define MAINLINE_IMPORT_SYNC_FILE	_IOW('b', 3, struct mainline_sync_file)

static char res[128];	/* scratch for mem_result() */

/* Allocate pages pages; records a failure and returns -1 on error. */
static int new_buf(size_t pages, uint32_t fd_flags)
{
	int fd = alloc_buf(pages * page_size, fd_flags);
	char what[64];

	snprintf(what, sizeof(what), "alloc(%zu pages)", pages);
	if (!expect_rc(what, fd, 0))
		return -1;
	return fd;
}

static void *map(int fd, size_t len, int prot, off_t off)
{
	return mmap(NULL, len, prot, MAP_SHARED, fd, off);
}

/* mmap that must fail with want; unmaps if it did not. */
static void mmap_fails(const char *what, int fd, size_t len, int prot,
		       int flags, off_t off, int want)
{
	void *p;
	int e;

	errno = 0;
	p = mmap(NULL, len, prot, flags, fd, off);
	e = errno;
	expect_errno_d(what, p == MAP_FAILED ? -1 : 0, e, want);
	if (p != MAP_FAILED)
		munmap(p, len);
}

static void test_mmap_rw(void)
{
	const size_t len = 8 * page_size;
	size_t bad;
	void *p, *p2;
	int fd, r;

	tg_begin("mmap whole buffer read/write, data seen by a second mapping");
	fd = new_buf(8, O_RDWR);
	if (fd < 0)
		goto out;
	p = map(fd, len, PROT_READ | PROT_WRITE, 0);
	if (!CHECK(p != MAP_FAILED, "mmap: %s", errstr(errno)))
		goto out_close;
	expect_rc("SYNC START|WRITE", sync_buf(fd, DMABUF_CORE_SYNC_START |
					       DMABUF_CORE_SYNC_WRITE), 0);
	r = fill_pattern(p, len, 0x1111, 0);
	CHECK(r == 0, "fill: %s", mem_result(r, 0, res, sizeof(res)));
	expect_rc("SYNC END|WRITE", sync_buf(fd, DMABUF_CORE_SYNC_END |
					     DMABUF_CORE_SYNC_WRITE), 0);
	expect_rc("SYNC START|READ", sync_buf(fd, DMABUF_CORE_SYNC_START |
					      DMABUF_CORE_SYNC_READ), 0);
	r = check_pattern(p, len, 0x1111, 0, &bad);
	CHECK(r == 0, "read back: %s", mem_result(r, bad, res, sizeof(res)));
	expect_rc("SYNC END|READ", sync_buf(fd, DMABUF_CORE_SYNC_END |
					    DMABUF_CORE_SYNC_READ), 0);
	p2 = map(fd, len, PROT_READ, 0);
	if (CHECK(p2 != MAP_FAILED, "second mmap: %s", errstr(errno))) {
		r = check_pattern(p2, len, 0x1111, 0, &bad);
		CHECK(r == 0, "second mapping: %s",
		      mem_result(r, bad, res, sizeof(res)));
		munmap(p2, len);
	}
	munmap(p, len);
out_close:
	close(fd);
out:
	tg_end();
}

static void test_mmap_offset(void)
{
	const size_t len = 4 * page_size;
	size_t bad;
	void *a, *b, *c;
	int fd, r;

	tg_begin("mmap offset honoured (write at offset 0, read at offset page)");
	fd = new_buf(4, O_RDWR);
	if (fd < 0)
		goto out;
	a = map(fd, len, PROT_READ | PROT_WRITE, 0);
	if (!CHECK(a != MAP_FAILED, "mmap at 0: %s", errstr(errno)))
		goto out_close;
	r = fill_pattern(a, len, 0x2222, 0);
	CHECK(r == 0, "fill: %s", mem_result(r, 0, res, sizeof(res)));
	b = map(fd, 3 * page_size, PROT_READ | PROT_WRITE, page_size);
	if (CHECK(b != MAP_FAILED, "mmap 3 pages at offset page: %s",
		  errstr(errno))) {
		r = check_pattern(b, 3 * page_size, 0x2222, page_size, &bad);
		CHECK(r == 0, "mapping at offset page: %s",
		      mem_result(r, bad, res, sizeof(res)));
		/* And the other way round. */
		r = fill_pattern(b, page_size, 0x3333, page_size);
		CHECK(r == 0, "fill via offset mapping: %s",
		      mem_result(r, 0, res, sizeof(res)));
		r = check_pattern((char *)a + page_size, page_size, 0x3333,
				  page_size, &bad);
		CHECK(r == 0, "write via offset mapping, read at offset 0 + page: %s",
		      mem_result(r, bad, res, sizeof(res)));
		r = check_pattern(a, page_size, 0x2222, 0, &bad);
		CHECK(r == 0, "page 0 disturbed: %s",
		      mem_result(r, bad, res, sizeof(res)));
		munmap(b, 3 * page_size);
	}
	c = map(fd, page_size, PROT_READ, 3 * page_size);
	if (CHECK(c != MAP_FAILED, "mmap last page: %s", errstr(errno))) {
		r = check_pattern(c, page_size, 0x2222, 3 * page_size, &bad);
		CHECK(r == 0, "mapping of the last page: %s",
		      mem_result(r, bad, res, sizeof(res)));
		munmap(c, page_size);
	}
	munmap(a, len);
out_close:
	close(fd);
out:
	tg_end();
}

static void test_mmap_windows(void)
{
	const size_t n = 4, len = n * page_size;
	size_t bad;
	void *a, *w;
	int fd, r;

	tg_begin("mmap every page-aligned window inside the buffer");
	fd = new_buf(n, O_RDWR);
	if (fd < 0)
		goto out;
	a = map(fd, len, PROT_READ | PROT_WRITE, 0);
	if (!CHECK(a != MAP_FAILED, "mmap: %s", errstr(errno)))
		goto out_close;
	r = fill_pattern(a, len, 0x4444, 0);
	CHECK(r == 0, "fill: %s", mem_result(r, 0, res, sizeof(res)));
	for (size_t off = 0; off < n; off++) {
		for (size_t pages = 1; off + pages <= n; pages++) {
			w = map(fd, pages * page_size, PROT_READ,
				(off_t)(off * page_size));
			if (!CHECK(w != MAP_FAILED, "mmap(%zu pages at page %zu): %s",
				   pages, off, errstr(errno)))
				continue;
			r = check_pattern(w, pages * page_size, 0x4444,
					  off * page_size, &bad);
			CHECK(r == 0, "window (%zu pages at page %zu): %s", pages,
			      off, mem_result(r, bad, res, sizeof(res)));
			munmap(w, pages * page_size);
		}
	}
	/* A length that is not a page multiple is rounded up by mmap. */
	w = map(fd, page_size + 100, PROT_READ, 2 * page_size);
	if (CHECK(w != MAP_FAILED, "mmap(page + 100 bytes at page 2): %s",
		  errstr(errno))) {
		r = check_pattern(w, 2 * page_size, 0x4444, 2 * page_size, &bad);
		CHECK(r == 0, "window (page + 100 bytes at page 2): %s",
		      mem_result(r, bad, res, sizeof(res)));
		munmap(w, page_size + 100);
	}
	munmap(a, len);
out_close:
	close(fd);
out:
	tg_end();
}

static void test_mmap_past_end(void)
{
	const size_t P = page_size;
	int fd, fd1;

	tg_begin("mmap past the end of the buffer -> EINVAL");
	fd = new_buf(4, O_RDWR);
	if (fd >= 0) {
		mmap_fails("len 5 pages at 0", fd, 5 * P, PROT_READ, MAP_SHARED, 0, EINVAL);
		mmap_fails("len 4 pages + 1 at 0", fd, 4 * P + 1, PROT_READ, MAP_SHARED, 0, EINVAL);
		mmap_fails("len 4 pages at page 1", fd, 4 * P, PROT_READ, MAP_SHARED, P, EINVAL);
		mmap_fails("len 2 pages at page 3", fd, 2 * P, PROT_READ | PROT_WRITE, MAP_SHARED, 3 * P, EINVAL);
		mmap_fails("len 1 page at page 4 (offset == size)", fd, P, PROT_READ, MAP_SHARED, 4 * P, EINVAL);
		mmap_fails("len 1 page at page 8", fd, P, PROT_READ, MAP_SHARED, 8 * P, EINVAL);
		mmap_fails("len 1 page at 1 TiB", fd, P, PROT_READ, MAP_SHARED, (off_t)TiB, EINVAL);
		mmap_fails("len 1 GiB at 0", fd, GiB, PROT_READ, MAP_SHARED, 0, EINVAL);
		close(fd);
	}
	fd1 = new_buf(1, O_RDWR);
	if (fd1 >= 0) {
		mmap_fails("1-page buffer: len 2 pages", fd1, 2 * P, PROT_READ, MAP_SHARED, 0, EINVAL);
		mmap_fails("1-page buffer: offset page", fd1, P, PROT_READ, MAP_SHARED, P, EINVAL);
		close(fd1);
	}
	tg_end();
}

static void test_mmap_private(void)
{
	int fd, ro;

	tg_begin("mmap MAP_PRIVATE -> EINVAL");
	fd = new_buf(2, O_RDWR);
	if (fd >= 0) {
		mmap_fails("MAP_PRIVATE PROT_READ", fd, page_size, PROT_READ,
			   MAP_PRIVATE, 0, EINVAL);
		mmap_fails("MAP_PRIVATE PROT_READ|PROT_WRITE", fd, page_size,
			   PROT_READ | PROT_WRITE, MAP_PRIVATE, 0, EINVAL);
		mmap_fails("MAP_PRIVATE at offset page", fd, page_size,
			   PROT_READ, MAP_PRIVATE, page_size, EINVAL);
		close(fd);
	}
	ro = new_buf(1, O_RDONLY);
	if (ro >= 0) {
		mmap_fails("MAP_PRIVATE PROT_READ on O_RDONLY fd", ro, page_size,
			   PROT_READ, MAP_PRIVATE, 0, EINVAL);
		close(ro);
	}
	tg_end();
}

static void test_mmap_rdonly(void)
{
	size_t bad;
	void *p;
	int fd, r, e;

	tg_begin("O_RDONLY buffer fd: PROT_READ mmap works, PROT_WRITE shared -> EACCES");
	fd = new_buf(2, O_RDONLY);
	if (fd < 0)
		goto out;
	mmap_fails("PROT_READ|PROT_WRITE MAP_SHARED", fd, 2 * page_size,
		   PROT_READ | PROT_WRITE, MAP_SHARED, 0, EACCES);
	mmap_fails("PROT_WRITE MAP_SHARED", fd, page_size, PROT_WRITE,
		   MAP_SHARED, 0, EACCES);
	p = map(fd, 2 * page_size, PROT_READ, 0);
	if (CHECK(p != MAP_FAILED, "PROT_READ mmap: %s", errstr(errno))) {
		r = check_zero(p, 2 * page_size, &bad);
		CHECK(r == 0, "read-only mapping: %s",
		      mem_result(r, bad, res, sizeof(res)));
		/* No upgrade to writable later either. */
		errno = 0;
		r = mprotect(p, 2 * page_size, PROT_READ | PROT_WRITE);
		e = errno;
		expect_errno_d("mprotect(PROT_READ|PROT_WRITE)", r, e, EACCES);
		munmap(p, 2 * page_size);
	}
	expect_rc("SYNC START|READ on O_RDONLY fd",
		  sync_buf(fd, DMABUF_CORE_SYNC_START | DMABUF_CORE_SYNC_READ), 0);
	expect_rc("SYNC END|READ on O_RDONLY fd",
		  sync_buf(fd, DMABUF_CORE_SYNC_END | DMABUF_CORE_SYNC_READ), 0);
	close(fd);
out:
	tg_end();
}

static void test_mmap_wronly(void)
{
	int fd;

	tg_begin("O_WRONLY buffer fd: mmap -> EACCES");
	fd = new_buf(1, O_WRONLY);
	if (fd >= 0) {
		mmap_fails("PROT_READ|PROT_WRITE MAP_SHARED", fd, page_size,
			   PROT_READ | PROT_WRITE, MAP_SHARED, 0, EACCES);
		mmap_fails("PROT_READ MAP_SHARED", fd, page_size, PROT_READ,
			   MAP_SHARED, 0, EACCES);
		close(fd);
	}
	tg_end();
}

static void test_mapping_keeps_alive(void)
{
	struct dmabuf_core_stats s0, s1, s2, s3;
	const size_t len = 4 * page_size;
	size_t bad;
	void *p;
	int fd, r;

	tg_begin("mapping keeps the buffer alive after the fd is closed");
	if (!expect_rc("STATS before", stats(&s0), 0))
		goto out;
	fd = new_buf(4, O_RDWR);
	if (fd < 0)
		goto out;
	p = map(fd, len, PROT_READ | PROT_WRITE, 0);
	if (!CHECK(p != MAP_FAILED, "mmap: %s", errstr(errno))) {
		close(fd);
		goto out;
	}
	r = fill_pattern(p, len, 0x5555, 0);
	CHECK(r == 0, "fill: %s", mem_result(r, 0, res, sizeof(res)));
	expect_rc("STATS with fd and mapping", stats(&s1), 0);
	close(fd);
	if (expect_rc("STATS after close, mapping alive", stats(&s2), 0)) {
		CHECK_U64("live_buffers after close (vs with fd)",
			  s2.live_buffers, s1.live_buffers);
		CHECK_U64("released delta after close", s2.released - s0.released, 0);
		CHECK_U64("live_buffers delta vs before",
			  s2.live_buffers - s0.live_buffers, 1);
	}
	r = check_pattern(p, len, 0x5555, 0, &bad);
	CHECK(r == 0, "data through the mapping after close: %s",
	      mem_result(r, bad, res, sizeof(res)));
	r = fill_pattern(p, len, 0x6666, 0);
	CHECK(r == 0, "write through the mapping after close: %s",
	      mem_result(r, 0, res, sizeof(res)));
	r = check_pattern(p, len, 0x6666, 0, &bad);
	CHECK(r == 0, "read back after close: %s",
	      mem_result(r, bad, res, sizeof(res)));
	munmap(p, len);
	if (expect_rc("STATS after munmap", stats(&s3), 0)) {
		CHECK_U64("live_buffers after munmap", s3.live_buffers,
			  s0.live_buffers);
		CHECK_U64("released delta after munmap", s3.released - s0.released, 1);
		CHECK_U64("system_pages after munmap", s3.system_pages,
			  s0.system_pages);
	}
out:
	tg_end();
}

static void test_partial_munmap(void)
{
	struct dmabuf_core_stats s0, s1, s2;
	const size_t len = 6 * page_size;
	size_t bad;
	char *p;
	int fd, r;

	tg_begin("split mapping (partial munmap): pieces work, released after the last");
	if (!expect_rc("STATS before", stats(&s0), 0))
		goto out;
	fd = new_buf(6, O_RDWR);
	if (fd < 0)
		goto out;
	p = map(fd, len, PROT_READ | PROT_WRITE, 0);
	close(fd);
	if (!CHECK(p != MAP_FAILED, "mmap: %s", errstr(errno)))
		goto out;
	r = fill_pattern(p, len, 0x7777, 0);
	CHECK(r == 0, "fill: %s", mem_result(r, 0, res, sizeof(res)));
	/* Punch out pages 2-3: leaves two vmas, [0,2) and [4,6). */
	CHECK(munmap(p + 2 * page_size, 2 * page_size) == 0,
	      "munmap middle: %s", errstr(errno));
	/* mprotect splits further: [0,1) read-only, [1,2) read-write. */
	CHECK(mprotect(p, page_size, PROT_READ) == 0, "mprotect: %s",
	      errstr(errno));
	r = check_pattern(p, 2 * page_size, 0x7777, 0, &bad);
	CHECK(r == 0, "first piece: %s", mem_result(r, bad, res, sizeof(res)));
	r = check_pattern(p + 4 * page_size, 2 * page_size, 0x7777,
			  4 * page_size, &bad);
	CHECK(r == 0, "last piece: %s", mem_result(r, bad, res, sizeof(res)));
	CHECK(munmap(p, 2 * page_size) == 0, "munmap first piece: %s",
	      errstr(errno));
	if (expect_rc("STATS with one piece left", stats(&s1), 0))
		CHECK_U64("live_buffers delta with one piece left",
			  s1.live_buffers - s0.live_buffers, 1);
	r = fill_pattern(p + 4 * page_size, 2 * page_size, 0x8888, 4 * page_size);
	CHECK(r == 0, "write last piece: %s", mem_result(r, 0, res, sizeof(res)));
	CHECK(munmap(p + 4 * page_size, 2 * page_size) == 0,
	      "munmap last piece: %s", errstr(errno));
	if (expect_rc("STATS after last piece", stats(&s2), 0)) {
		CHECK_U64("live_buffers after last piece", s2.live_buffers,
			  s0.live_buffers);
		CHECK_U64("released delta", s2.released - s0.released, 1);
	}
out:
	tg_end();
}

static void test_mremap_grow(void)
{
	const size_t len = 2 * page_size;
	void *p, *q;
	int fd, r;

	/*
	 * Growing a mapping past the buffer's end must not give access to
	 * memory beyond it: mremap refuses, or the extra pages fault.
	 */
	tg_begin("mremap cannot extend a mapping past the buffer end");
	fd = new_buf(2, O_RDWR);
	if (fd < 0)
		goto out;
	p = map(fd, len, PROT_READ | PROT_WRITE, 0);
	if (!CHECK(p != MAP_FAILED, "mmap: %s", errstr(errno))) {
		close(fd);
		goto out;
	}
	q = mremap(p, len, len + 2 * page_size, MREMAP_MAYMOVE);
	if (q == MAP_FAILED) {
		munmap(p, len);
		tg_note("mremap refused with %s", errname(errno));
	} else {
		r = touch_pages((char *)q + len, 2 * page_size, 0);
		CHECK(r < 0, "mremap grew the mapping and the pages past the end "
		      "were readable");
		r = touch_pages((char *)q + len, 2 * page_size, 1);
		CHECK(r < 0, "mremap grew the mapping and the pages past the end "
		      "were writable");
		munmap(q, len + 2 * page_size);
		tg_note("mremap allowed, pages past the end fault");
	}
	close(fd);
out:
	tg_end();
}

static void test_mmap_large(void)
{
	const size_t len = 64 * MiB;
	size_t bad;
	void *p;
	int fd, r;

	tg_begin("mmap 64 MiB buffer: zero, write all, read back");
	fd = new_buf(len / page_size, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		goto out;
	p = map(fd, len, PROT_READ | PROT_WRITE, 0);
	if (CHECK(p != MAP_FAILED, "mmap: %s", errstr(errno))) {
		r = check_zero(p, len, &bad);
		CHECK(r == 0, "zero: %s", mem_result(r, bad, res, sizeof(res)));
		r = fill_pattern(p, len, 0x9999, 0);
		CHECK(r == 0, "fill: %s", mem_result(r, 0, res, sizeof(res)));
		r = check_pattern(p, len, 0x9999, 0, &bad);
		CHECK(r == 0, "read back: %s", mem_result(r, bad, res, sizeof(res)));
		munmap(p, len);
	}
	close(fd);
out:
	tg_end();
}

static void test_sync_valid(void)
{
	static const struct { uint64_t f; const char *n; } ok[] = {
		{ DMABUF_CORE_SYNC_START | DMABUF_CORE_SYNC_READ, "START|READ" },
		{ DMABUF_CORE_SYNC_START | DMABUF_CORE_SYNC_WRITE, "START|WRITE" },
		{ DMABUF_CORE_SYNC_START | DMABUF_CORE_SYNC_RW, "START|RW" },
		{ DMABUF_CORE_SYNC_END | DMABUF_CORE_SYNC_READ, "END|READ" },
		{ DMABUF_CORE_SYNC_END | DMABUF_CORE_SYNC_WRITE, "END|WRITE" },
		{ DMABUF_CORE_SYNC_END | DMABUF_CORE_SYNC_RW, "END|RW" },
	};
	char what[64];
	int fd;

	tg_begin("SYNC with valid flags -> 0");
	fd = new_buf(1, O_RDWR);
	if (fd >= 0) {
		for (size_t i = 0; i < ARRAY_SIZE(ok); i++) {
			snprintf(what, sizeof(what), "SYNC %s", ok[i].n);
			expect_rc(what, sync_buf(fd, ok[i].f), 0);
		}
		close(fd);
	}
	tg_end();
}

static void test_sync_invalid(void)
{
	static const struct { uint64_t f; const char *n; } bad[] = {
		{ 0, "0 (START, no READ/WRITE)" },
		{ DMABUF_CORE_SYNC_END, "END (no READ/WRITE)" },
		{ 1 << 3, "1<<3" },
		{ DMABUF_CORE_SYNC_RW | (1 << 3), "RW|1<<3" },
		{ DMABUF_CORE_SYNC_READ | (1 << 4), "READ|1<<4" },
		{ DMABUF_CORE_SYNC_END | DMABUF_CORE_SYNC_RW | (1ULL << 32), "END|RW|1<<32" },
		{ DMABUF_CORE_SYNC_READ | (1ULL << 63), "READ|1<<63" },
		{ ~0ULL, "~0" },
		{ ~(uint64_t)DMABUF_CORE_SYNC_VALID_FLAGS, "~VALID_FLAGS" },
	};
	char what[96];
	int fd;

	tg_begin("SYNC with invalid flags -> EINVAL");
	fd = new_buf(1, O_RDWR);
	if (fd >= 0) {
		for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
			snprintf(what, sizeof(what), "SYNC flags=%s", bad[i].n);
			expect_rc(what, sync_buf(fd, bad[i].f), EINVAL);
		}
		close(fd);
	}
	tg_end();
}

static void test_bad_pointers(void)
{
	int fd;

	tg_begin("SYNC and QUERY with a bad pointer -> EFAULT");
	fd = new_buf(1, O_RDWR);
	if (fd >= 0) {
		EXPECT_ERRNO(ioctl(fd, DMABUF_CORE_IOCTL_SYNC, NULL), EFAULT);
		EXPECT_ERRNO(ioctl(dev_fd(), DMABUF_CORE_IOCTL_QUERY, NULL), EFAULT);
		EXPECT_ERRNO(ioctl(dev_fd(), DMABUF_CORE_IOCTL_QUERY, (void *)8), EFAULT);
		/* QUERY is a node ioctl; a buffer fd is a plain dma-buf. */
		EXPECT_ERRNO(ioctl(fd, DMABUF_CORE_IOCTL_QUERY,
				   &(struct dmabuf_core_query){ .fd = fd }), ENOTTY);
		close(fd);
	}
	tg_end();
}

static void test_lseek(void)
{
	const size_t sizes[] = { 1, 5, 256 };
	char what[64];
	int fd;

	tg_begin("lseek(SEEK_END, 0) == size, lseek(SEEK_SET, 0) == 0");
	for (size_t i = 0; i < ARRAY_SIZE(sizes); i++) {
		fd = new_buf(sizes[i], O_RDWR);
		if (fd < 0)
			continue;
		snprintf(what, sizeof(what), "%zu pages: SEEK_END", sizes[i]);
		CHECK_U64(what, lseek(fd, 0, SEEK_END), sizes[i] * page_size);
		snprintf(what, sizeof(what), "%zu pages: SEEK_SET", sizes[i]);
		CHECK_U64(what, lseek(fd, 0, SEEK_SET), 0);
		snprintf(what, sizeof(what), "%zu pages: SEEK_END again", sizes[i]);
		CHECK_U64(what, lseek(fd, 0, SEEK_END), sizes[i] * page_size);
		close(fd);
	}
	tg_end();
}

static void test_lseek_invalid(void)
{
	static const struct { off_t off; int whence; const char *n; } bad[] = {
		{ 0, SEEK_CUR, "SEEK_CUR 0" },
		{ 1, SEEK_CUR, "SEEK_CUR 1" },
		{ 1, SEEK_SET, "SEEK_SET 1" },
		{ 4096, SEEK_SET, "SEEK_SET 4096" },
		{ 1, SEEK_END, "SEEK_END 1" },
		{ -1, SEEK_END, "SEEK_END -1" },
		{ -4096, SEEK_END, "SEEK_END -4096" },
		{ 0, SEEK_DATA, "SEEK_DATA 0" },
		{ 0, SEEK_HOLE, "SEEK_HOLE 0" },
		{ 0, 42, "whence 42" },
	};
	char what[64];
	int fd;

	tg_begin("lseek with SEEK_CUR or a non-zero offset -> EINVAL");
	fd = new_buf(2, O_RDWR);
	if (fd >= 0) {
		for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
			off_t r;
			int e;

			errno = 0;
			r = lseek(fd, bad[i].off, bad[i].whence);
			e = errno;
			snprintf(what, sizeof(what), "lseek(%s)", bad[i].n);
			expect_errno_d(what, (long)r, e, EINVAL);
		}
		close(fd);
	}
	tg_end();
}

/* The first line of /proc/self/fdinfo/@fd starting with @key, or "". */
static void fdinfo_line(int fd, const char *key, char *out, size_t len)
{
	char path[64], line[128];
	FILE *f;

	out[0] = 0;
	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	f = fopen(path, "r");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		if (!strncmp(line, key, strlen(key))) {
			line[strcspn(line, "\n")] = 0;
			snprintf(out, len, "%s", line);
			break;
		}
	}
	fclose(f);
}

/* Whether /proc/self/maps has a line for @addr ending in @name. */
static bool maps_names(void *addr, const char *name)
{
	char line[512], start[32];
	bool found = false;
	FILE *f = fopen("/proc/self/maps", "r");

	if (!f)
		return false;
	snprintf(start, sizeof(start), "%lx-", (unsigned long)addr);
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = 0;
		if (!strncmp(line, start, strlen(start))) {
			size_t n = strlen(line), m = strlen(name);

			found = n >= m && !strcmp(line + n - m, name);
			break;
		}
	}
	fclose(f);
	return found;
}

/*
 * The kernel's debugfs dma_buf/bufinfo line of the buffer with inode @ino:
 * 1 when found (copied to @out), 0 when not, -errno when unreadable.
 */
static int bufinfo_line(ino_t ino, char *out, size_t len)
{
	char line[256], key[32];
	int found = 0;
	FILE *f;

	f = fopen("/sys/kernel/debug/dma_buf/bufinfo", "r");
	if (!f && errno == ENOENT &&
	    !mount("debugfs", "/sys/kernel/debug", "debugfs", 0, NULL))
		f = fopen("/sys/kernel/debug/dma_buf/bufinfo", "r");
	if (!f)
		return -errno;
	snprintf(key, sizeof(key), "\t%08lu\t", (unsigned long)ino);
	while (fgets(line, sizeof(line), f)) {
		if (strstr(line, key)) {
			line[strcspn(line, "\n")] = 0;
			snprintf(out, len, "%s", line);
			found = 1;
			break;
		}
	}
	fclose(f);
	return found;
}

static void test_mainline_fd(void)
{
	struct stat sa, sb;
	char line[256], want[128];
	struct mainline_sync_file sf;
	struct pollfd pfd;
	void *p;
	int a, b;

	tg_begin("a buffer fd is a kernel dma-buf: inode, fdinfo, SET_NAME, maps, sync_file, poll");
	a = new_buf(2, O_RDWR);
	b = new_buf(1, O_RDWR);
	if (a < 0 || b < 0)
		goto out;
	if (CHECK(fstat(a, &sa) == 0 && fstat(b, &sb) == 0, "fstat: %s", errstr(errno)))
		CHECK(sa.st_ino != sb.st_ino, "two buffers share inode %lu",
		      (unsigned long)sa.st_ino);
	fdinfo_line(a, "size:", line, sizeof(line));
	snprintf(want, sizeof(want), "size:\t%zu", 2 * page_size);
	CHECK(!strcmp(line, want), "fdinfo \"%s\", expected \"%s\"", line, want);
	fdinfo_line(a, "exp_name:", line, sizeof(line));
	CHECK(!strcmp(line, "exp_name:\t" EXPORTER_NAME), "fdinfo \"%s\"", line);

	expect_rc("DMA_BUF_SET_NAME", ioctl(a, MAINLINE_DMA_BUF_SET_NAME_B, "t-bufops") ? -errno : 0, 0);
	expect_rc("DMA_BUF_SET_NAME_A (32-bit size)",
		  ioctl(b, MAINLINE_DMA_BUF_SET_NAME_A, "other") ? -errno : 0, 0);
	fdinfo_line(a, "name:", line, sizeof(line));
	CHECK(!strcmp(line, "name:\tt-bufops"), "fdinfo \"%s\"", line);
	/* The kernel's own debugfs lists it: size, exporter, inode, name. */
	if (expect_rc("debugfs dma_buf/bufinfo has the buffer",
		      bufinfo_line(sa.st_ino, line, sizeof(line)) == 1 ? 0 : -ENOENT, 0)) {
		snprintf(want, sizeof(want), "%08zu\t", 2 * page_size);
		CHECK(!strncmp(line, want, strlen(want)), "bufinfo size: \"%s\"", line);
		CHECK(strstr(line, "\t" EXPORTER_NAME "\t") != NULL, "bufinfo exporter: \"%s\"", line);
		CHECK(strlen(line) > 9 && !strcmp(line + strlen(line) - 9, "\tt-bufops"),
		      "bufinfo name: \"%s\"", line);
	}
	p = map(a, 2 * page_size, PROT_READ, 0);
	if (CHECK(p != MAP_FAILED, "mmap: %s", errstr(errno))) {
		CHECK(maps_names(p, "/dmabuf:t-bufops"),
		      "/proc/self/maps does not name the mapping /dmabuf:t-bufops");
		munmap(p, 2 * page_size);
	}

	/* No device has work queued: the exported fence is signalled. */
	sf = (struct mainline_sync_file){ .flags = 1 /* READ */, .fd = -1 };
	if (CHECK(ioctl(a, MAINLINE_EXPORT_SYNC_FILE, &sf) == 0 && sf.fd >= 0,
		  "DMA_BUF_IOCTL_EXPORT_SYNC_FILE: %s", errstr(errno))) {
		pfd = (struct pollfd){ .fd = sf.fd, .events = POLLIN };
		CHECK(poll(&pfd, 1, 0) == 1, "exported sync_file not signalled");
		sf.flags = 2;	/* DMA_BUF_SYNC_WRITE */
		expect_rc("DMA_BUF_IOCTL_IMPORT_SYNC_FILE",
			  ioctl(a, MAINLINE_IMPORT_SYNC_FILE, &sf) ? -errno : 0, 0);
		close(sf.fd);
	}
	pfd = (struct pollfd){ .fd = a, .events = POLLIN | POLLOUT };
	CHECK(poll(&pfd, 1, 0) == 1 && (pfd.revents & (POLLIN | POLLOUT)) == (POLLIN | POLLOUT),
	      "poll on an idle buffer: revents 0x%x", pfd.revents);
out:
	if (a >= 0)
		close(a);
	if (b >= 0)
		close(b);
	tg_end();
}

static void test_unknown_ioctls(void)
{
	int fd;

	tg_begin("unknown ioctls on a buffer fd -> ENOTTY");
	fd = new_buf(1, O_RDWR);
	if (fd >= 0) {
		expect_enotty(fd, _IOW('b', 0x7f, __u64), "_IOW('b', 0x7f, u64)");
		expect_enotty(fd, _IOWR(DMABUF_CORE_IOC_MAGIC, 0x7f,
				       struct dmabuf_core_query), "_IOWR(0xDC, 0x7f, query)");
		expect_enotty(fd, 0x12345678, "random");
		expect_enotty(fd, 0, "0");
		close(fd);
	}
	tg_end();

	tg_begin("/dev/dmabuf ioctls on a buffer fd -> ENOTTY");
	fd = new_buf(1, O_RDWR);
	if (fd >= 0) {
		expect_enotty(fd, DMABUF_CORE_IOCTL_STATS, "DMABUF_CORE_IOCTL_STATS");
		expect_enotty(fd, DMABUF_CORE_IOCTL_ALLOC, "DMABUF_CORE_IOCTL_ALLOC");
		close(fd);
	}
	tg_end();
}

static void test_query_fresh(void)
{
	struct dmabuf_core_query q;
	int fd;

	tg_begin("QUERY on a fresh buffer: size, id, no attachments, exporter");
	fd = new_buf(3, O_RDWR);
	if (fd >= 0) {
		if (expect_rc("QUERY", query(fd, &q), 0)) {
			CHECK_U64("size", q.size, 3 * page_size);
			CHECK(q.id != 0, "id is 0");
			CHECK_U64("attachments", q.attachments, 0);
			CHECK_U64("mappings", q.mappings, 0);
			CHECK(memchr(q.exporter, 0, sizeof(q.exporter)) != NULL,
			      "exporter not NUL-terminated");
			CHECK(!strncmp(q.exporter, EXPORTER_NAME, sizeof(q.exporter)),
			      "exporter: expected \"%s\", got \"%.*s\"", EXPORTER_NAME,
			      (int)sizeof(q.exporter), q.exporter);
			CHECK(q.flags == 0 && q.moves == 0 && q.info == 0,
			      "flags/moves/info not 0 on output: 0x%x 0x%x 0x%x",
			      q.flags, q.moves, q.info);
			CHECK(q.fd == fd, "fd on output: %d, not %d", q.fd, fd);
			for (size_t i = 0; i < ARRAY_SIZE(q.reserved); i++)
				CHECK(q.reserved[i] == 0, "reserved[%zu] = 0x%llx on output",
				      i, (unsigned long long)q.reserved[i]);
		}
		close(fd);
	}
	tg_end();
}

static void test_query_ids(void)
{
	struct dmabuf_core_query qa, qb, qd;
	uint64_t id1;
	int a, b, d, c, sv[2], rfd;

	tg_begin("QUERY id: distinct per buffer, same through dup and SCM_RIGHTS");
	a = new_buf(1, O_RDWR);
	b = new_buf(2, O_RDWR);
	if (a < 0 || b < 0)
		goto out;
	expect_rc("QUERY a", query(a, &qa), 0);
	expect_rc("QUERY b", query(b, &qb), 0);
	CHECK(qa.id != qb.id, "two buffers share id %llu",
	      (unsigned long long)qa.id);
	CHECK(qa.id && qb.id, "id 0 (a %llu, b %llu)", (unsigned long long)qa.id,
	      (unsigned long long)qb.id);
	d = dup(a);
	if (CHECK(d >= 0, "dup: %s", errstr(errno))) {
		if (expect_rc("QUERY dup", query(d, &qd), 0))
			CHECK_U64("id through dup", qd.id, qa.id);
		close(d);
	}
	c = fcntl(b, F_DUPFD_CLOEXEC, 100);
	if (CHECK(c >= 0, "F_DUPFD_CLOEXEC: %s", errstr(errno))) {
		if (expect_rc("QUERY F_DUPFD_CLOEXEC", query(c, &qd), 0))
			CHECK_U64("id through F_DUPFD_CLOEXEC", qd.id, qb.id);
		close(c);
	}
	if (CHECK(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) == 0,
		  "socketpair: %s", errstr(errno))) {
		expect_rc("send_fd", send_fd(sv[0], a, NULL, 0), 0);
		rfd = recv_fd(sv[1], NULL, 0);
		if (expect_rc("recv_fd", rfd, 0)) {
			CHECK(rfd != a, "received the same fd number");
			if (expect_rc("QUERY received fd", query(rfd, &qd), 0))
				CHECK_U64("id through SCM_RIGHTS", qd.id, qa.id);
			close(rfd);
		}
		close(sv[0]);
		close(sv[1]);
	}
	/* A new buffer never reuses a live buffer's id. */
	id1 = qa.id;
	close(a);
	a = new_buf(1, O_RDWR);
	if (a >= 0) {
		uint64_t id2 = buf_id(a);

		CHECK(id2 != 0 && id2 != id1 && id2 != qb.id,
		      "new buffer id %llu (old ids %llu, %llu)",
		      (unsigned long long)id2, (unsigned long long)id1,
		      (unsigned long long)qb.id);
	}
out:
	if (a >= 0)
		close(a);
	if (b >= 0)
		close(b);
	tg_end();
}

static void test_query_after_mmap(void)
{
	struct dmabuf_core_query q;
	void *p;
	int fd;

	tg_begin("QUERY: a CPU mmap is neither an attachment nor a mapping");
	fd = new_buf(2, O_RDWR);
	if (fd < 0)
		goto out;
	p = map(fd, 2 * page_size, PROT_READ | PROT_WRITE, 0);
	if (CHECK(p != MAP_FAILED, "mmap: %s", errstr(errno))) {
		touch_pages(p, 2 * page_size, 1);
		if (expect_rc("QUERY", query(fd, &q), 0)) {
			CHECK_U64("attachments", q.attachments, 0);
			CHECK_U64("mappings", q.mappings, 0);
			CHECK_U64("size", q.size, 2 * page_size);
		}
		munmap(p, 2 * page_size);
	}
	close(fd);
out:
	tg_end();
}

static void test_query_invalid(void)
{
	struct dmabuf_core_query q;
	char what[64];
	int fd, r, e;

	tg_begin("QUERY with non-zero flags/reserved[] -> EINVAL, moves ignored");
	fd = new_buf(1, O_RDWR);
	if (fd < 0)
		goto out;
	for (int i = 0; i < 4 + (int)ARRAY_SIZE(q.reserved); i++) {
		memset(&q, 0, sizeof(q));
		q.fd = fd;
		if (i == 0) {
			q.flags = 1;
			snprintf(what, sizeof(what), "flags=1");
		} else if (i == 1) {
			q.flags = 0x80000000u;
			snprintf(what, sizeof(what), "flags=0x80000000");
		} else if (i == 2) {
			/* Reserved before it was an output: input ignored. */
			q.moves = 1;
			snprintf(what, sizeof(what), "moves=1");
		} else if (i < 3 + (int)ARRAY_SIZE(q.reserved)) {
			q.reserved[i - 3] = 1ULL << (i * 7);
			snprintf(what, sizeof(what), "reserved[%d]=0x%llx", i - 3,
				 (unsigned long long)q.reserved[i - 3]);
		} else {
			memset(q.reserved, 0xff, sizeof(q.reserved));
			snprintf(what, sizeof(what), "reserved[] all ~0");
		}
		errno = 0;
		r = ioctl(dev_fd(), DMABUF_CORE_IOCTL_QUERY, &q);
		e = errno;
		expect_errno_d(what, r, e, i == 2 ? 0 : EINVAL);
	}
	/* Output fields carry no input meaning: junk there is fine. */
	memset(&q, 0, sizeof(q));
	q.fd = fd;
	q.info = 0xffffffffu;
	q.size = ~0ULL;
	q.id = 12345;
	q.attachments = 7;
	q.mappings = 9;
	memset(q.exporter, 'x', sizeof(q.exporter));
	errno = 0;
	r = ioctl(dev_fd(), DMABUF_CORE_IOCTL_QUERY, &q);
	e = errno;
	if (expect_errno_d("QUERY with junk in the output fields", r, e, 0)) {
		CHECK_U64("size after junk input", q.size, page_size);
		CHECK_U64("info after junk input", q.info, 0);
		CHECK(!strncmp(q.exporter, EXPORTER_NAME, sizeof(q.exporter)),
		      "exporter after junk input: \"%.*s\"",
		      (int)sizeof(q.exporter), q.exporter);
	}
	close(fd);
out:
	tg_end();
}

static void test_read_write(void)
{
	char buf[64] = "hello";
	int fd;

	tg_begin("read()/write() on a buffer fd fail");
	fd = new_buf(1, O_RDWR);
	if (fd >= 0) {
		ssize_t n;

		n = read(fd, buf, sizeof(buf));
		CHECK(n < 0, "read returned %zd", n);
		n = write(fd, buf, sizeof(buf));
		CHECK(n < 0, "write returned %zd", n);
		n = pread(fd, buf, sizeof(buf), 0);
		CHECK(n < 0, "pread returned %zd", n);
		n = pwrite(fd, buf, sizeof(buf), 0);
		CHECK(n < 0, "pwrite returned %zd", n);
		close(fd);
	}
	tg_end();
}

static void test_double_close(void)
{
	int fd, r, e;

	tg_begin("double close -> EBADF");
	fd = new_buf(1, O_RDWR);
	if (fd >= 0) {
		CHECK(close(fd) == 0, "first close: %s", errstr(errno));
		errno = 0;
		r = close(fd);
		e = errno;
		expect_errno_d("second close", r, e, EBADF);
		EXPECT_ERRNO(ioctl(dev_fd(), DMABUF_CORE_IOCTL_QUERY,
				   &(struct dmabuf_core_query){ .fd = fd }), EBADF);
	}
	tg_end();
}

int main(void)
{
	struct dmabuf_core_stats base, end;
	int fds0, fds1;

	tap_init(PROG);
	fds0 = count_open_fds();
	stats(&base);

	test_mmap_rw();
	test_mmap_offset();
	test_mmap_windows();
	test_mmap_past_end();
	test_mmap_private();
	test_mmap_rdonly();
	test_mmap_wronly();
	test_mapping_keeps_alive();
	test_partial_munmap();
	test_mremap_grow();
	test_mmap_large();
	test_sync_valid();
	test_sync_invalid();
	test_bad_pointers();
	test_lseek();
	test_lseek_invalid();
	test_mainline_fd();
	test_unknown_ioctls();
	test_query_fresh();
	test_query_ids();
	test_query_after_mmap();
	test_query_invalid();
	test_read_write();
	test_double_close();

	tg_begin("all buffers released, no fds left open");
	fds1 = count_open_fds();
	CHECK(fds1 == fds0 + (dev_fd() >= 0), "open fds at start %d (+1 for "
	      DMABUF_DEV "), at end %d", fds0, fds1);
	if (expect_rc("STATS", stats(&end), 0)) {
		CHECK_U64("live_buffers vs start", end.live_buffers, base.live_buffers);
		CHECK_U64("system_pages vs start", end.system_pages, base.system_pages);
		CHECK_U64("exported - released vs start delta",
			  (end.exported - base.exported) - (end.released - base.released), 0);
	}
	tg_end();

	return tap_finish();
}
