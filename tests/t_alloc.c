// SPDX-License-Identifier: GPL-2.0-only
/*
 * t_alloc: /dev/dmabuf allocation ABI (DMABUF_CORE_IOCTL_ALLOC) and the
 * DMABUF_CORE_IOCTL_STATS counters.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/tap.h"

#define PROG "t_alloc"

/* The ALLOC number encoded with another argument size. */
#define ALLOC_CMD_SIZED(sz)	_IOC(_IOC_READ | _IOC_WRITE, 'H', 0, (sz))

/* An allocation that must fail with want; closes the fd if it did not. */
static void alloc_fails(const char *what, uint64_t len, uint32_t fd_flags,
			int want)
{
	int fd = alloc_buf(len, fd_flags);

	expect_rc(what, fd, want);
	if (fd >= 0)
		close(fd);
}

/* Raw ALLOC with a caller-built struct; must fail with want. */
static void raw_alloc_fails(const char *what, struct dmabuf_core_alloc *a,
			    int want)
{
	int r, e;

	errno = 0;
	r = ioctl(dev_fd(), DMABUF_CORE_IOCTL_ALLOC, a);
	e = errno;
	expect_errno_d(what, r, e, want);
	if (r == 0 && (int)a->fd >= 0)
		close((int)a->fd);
}

/* Like alloc_fails(), and checks the call returned in under max_s. */
static void alloc_fails_fast(const char *what, uint64_t len, int want,
			     double max_s, double *worst)
{
	double t0 = now_sec(), dt;

	alloc_fails(what, len, O_RDWR, want);
	dt = now_sec() - t0;
	if (dt > *worst)
		*worst = dt;
	CHECK(dt <= max_s, "%s: took %.3f s, expected a quick failure (<= %.1f s)",
	      what, dt, max_s);
}

static void test_open(void)
{
	struct stat st;
	int fd;

	tg_begin("open " DMABUF_DEV " O_RDWR");
	if (CHECK(stat(DMABUF_DEV, &st) == 0, "stat %s: %s", DMABUF_DEV,
		  errstr(errno)))
		CHECK(S_ISCHR(st.st_mode), "%s is not a character device (mode %o)",
		      DMABUF_DEV, st.st_mode);
	fd = dev_fd();
	expect_rc("open(" DMABUF_DEV ", O_RDWR)", fd, 0);
	tg_end();
}

static void test_round_one_byte(void)
{
	struct dmabuf_core_query q;
	int fd;

	tg_begin("alloc 1 byte rounds up to one page");
	fd = alloc_buf(1, O_RDWR);
	if (expect_rc("alloc(1)", fd, 0)) {
		CHECK_U64("lseek(fd, 0, SEEK_END)", lseek(fd, 0, SEEK_END),
			  page_size);
		if (expect_rc("QUERY", query(fd, &q), 0))
			CHECK_U64("query.size", q.size, page_size);
		close(fd);
	}
	tg_end();
}

static void test_round_sizes(void)
{
	const uint64_t lens[] = {
		page_size - 1, page_size, page_size + 1, 3 * page_size + 5,
		MiB - 1, MiB, MiB + 1, 5 * MiB + 3,
	};
	char what[96];

	tg_begin("alloc lengths round up to a page multiple");
	for (size_t i = 0; i < ARRAY_SIZE(lens); i++) {
		int fd = alloc_buf(lens[i], O_RDWR);

		snprintf(what, sizeof(what), "alloc(%llu)",
			 (unsigned long long)lens[i]);
		if (!expect_rc(what, fd, 0))
			continue;
		snprintf(what, sizeof(what), "alloc(%llu): lseek SEEK_END",
			 (unsigned long long)lens[i]);
		CHECK_U64(what, lseek(fd, 0, SEEK_END), page_round(lens[i]));
		close(fd);
	}
	tg_end();
}

static void test_len_zero(void)
{
	tg_begin("alloc len 0 -> EINVAL");
	alloc_fails("alloc(0)", 0, O_RDWR, EINVAL);
	tg_end();
}

static void test_len_overflow(void)
{
	char what[96];
	const uint64_t lens[] = {
		~0ULL, ~0ULL - 1,
		~0ULL - page_size + 2,		/* 2^64 - page + 1 */
		~0ULL - page_size / 2,
	};

	tg_begin("alloc len whose page round-up overflows -> EINVAL");
	for (size_t i = 0; i < ARRAY_SIZE(lens); i++) {
		snprintf(what, sizeof(what), "alloc(0x%llx)",
			 (unsigned long long)lens[i]);
		alloc_fails(what, lens[i], O_RDWR, EINVAL);
	}
	tg_end();
}

static void test_len_above_ram(void)
{
	uint64_t ram = total_ram_bytes();
	double worst = 0;

	tg_begin("alloc len above total RAM -> ENOMEM quickly");
	CHECK(ram != 0, "sysinfo: %s", errstr(errno));
	alloc_fails_fast("alloc(1 TiB)", TiB, ENOMEM, 1.0, &worst);
	alloc_fails_fast("alloc(64 TiB)", 64 * TiB, ENOMEM, 1.0, &worst);
	alloc_fails_fast("alloc(2^63)", 1ULL << 63, ENOMEM, 1.0, &worst);
	/* Largest page-aligned length: its round-up does not overflow. */
	alloc_fails_fast("alloc(2^64 - page)", ~0ULL & ~((uint64_t)page_size - 1),
			 ENOMEM, 1.0, &worst);
	if (ram)
		alloc_fails_fast("alloc(total RAM + 1 page)", ram + page_size,
				 ENOMEM, 1.0, &worst);
	tg_note("total RAM %llu MiB, slowest refusal %.3f s",
		(unsigned long long)(ram / MiB), worst);
	tg_end();
}

static void test_len_above_cap(void)
{
	long long param = read_param_ll(DMABUF_PARAM_MAX_SIZE);
	uint64_t ram = total_ram_bytes(), cap, over;
	double worst = 0;
	char what[128];

	tg_begin("alloc len above max_size_mb cap -> ENOMEM");
	if (!CHECK(param >= 0, "read %s: %s", DMABUF_PARAM_MAX_SIZE,
		   errstr((int)-param))) {
		tg_end();
		return;
	}
	if (param == 0) {
		/* Default: half of total RAM.  Stay clear of rounding. */
		cap = ram / 2;
		over = page_round(cap) + 16 * MiB;
	} else {
		cap = (uint64_t)param * MiB;
		over = cap + page_size;
	}
	if (over >= ram) {
		tg_skip("cap %llu MiB (max_size_mb=%lld) not below total RAM %llu MiB",
			(unsigned long long)(cap / MiB), param,
			(unsigned long long)(ram / MiB));
		tg_end();
		return;
	}
	snprintf(what, sizeof(what), "alloc(cap + %llu KiB = %llu bytes)",
		 (unsigned long long)((over - cap) / KiB),
		 (unsigned long long)over);
	alloc_fails_fast(what, over, ENOMEM, 1.0, &worst);
	if (4 * GiB > cap + page_size)
		alloc_fails_fast("alloc(4 GiB)", 4 * GiB, ENOMEM, 1.0, &worst);
	tg_note("max_size_mb=%lld, cap %llu MiB, total RAM %llu MiB",
		param, (unsigned long long)(cap / MiB),
		(unsigned long long)(ram / MiB));
	tg_end();

	/* An explicitly small cap can be checked exactly at its boundary. */
	if (param > 0 && (uint64_t)param * MiB <= 256 * MiB) {
		int fd;

		tg_begin("alloc len equal to max_size_mb cap works");
		fd = alloc_buf(cap, O_RDWR);
		if (expect_rc("alloc(cap)", fd, 0)) {
			CHECK_U64("lseek SEEK_END", lseek(fd, 0, SEEK_END), cap);
			close(fd);
		}
		tg_end();
	}
}

static void test_large_within_cap(void)
{
	struct dmabuf_core_stats s0, s1, s2;
	long long param = read_param_ll(DMABUF_PARAM_MAX_SIZE);
	uint64_t len = 64 * MiB;
	void *p;
	int fd, r;

	/* Stay within an explicitly smaller cap. */
	if (param > 0 && (uint64_t)param * MiB < len)
		len = (uint64_t)param * MiB;
	tg_begin("alloc 64 MiB works and is accounted in system_pages");
	expect_rc("STATS before", stats(&s0), 0);
	fd = alloc_buf(len, O_RDWR);
	if (expect_rc("alloc(large)", fd, 0)) {
		CHECK_U64("lseek SEEK_END", lseek(fd, 0, SEEK_END), len);
		p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		if (CHECK(p != MAP_FAILED, "mmap large: %s", errstr(errno))) {
			r = touch_pages(p, len, 1);
			CHECK(r == 0, "touching every page faulted with signal %d", -r);
			munmap(p, len);
		}
		if (expect_rc("STATS with buffer", stats(&s1), 0)) {
			CHECK_U64("system_pages delta", s1.system_pages - s0.system_pages,
				  len / page_size);
			CHECK_U64("live_bytes delta", s1.live_bytes - s0.live_bytes, len);
			CHECK_U64("live_buffers delta",
				  s1.live_buffers - s0.live_buffers, 1);
		}
		close(fd);
		if (expect_rc("STATS after close", stats(&s2), 0)) {
			CHECK_U64("system_pages after close", s2.system_pages,
				  s0.system_pages);
			CHECK_U64("live_bytes after close", s2.live_bytes,
				  s0.live_bytes);
		}
	}
	tg_end();
}

static void test_fd_field(void)
{
	const uint32_t vals[] = { 1, 3, 0x7fffffff, 0xffffffff };
	struct dmabuf_core_alloc a;
	char what[64];

	tg_begin("alloc with non-zero fd field -> EINVAL");
	for (size_t i = 0; i < ARRAY_SIZE(vals); i++) {
		memset(&a, 0, sizeof(a));
		a.len = page_size;
		a.fd = vals[i];
		a.fd_flags = O_RDWR;
		snprintf(what, sizeof(what), "alloc(fd=0x%x)", vals[i]);
		raw_alloc_fails(what, &a, EINVAL);
	}
	tg_end();
}

static void test_fd_flags_bad(void)
{
	static const struct { uint32_t flags; const char *name; } bad[] = {
		{ O_NONBLOCK, "O_NONBLOCK" },
		{ O_RDWR | O_NONBLOCK, "O_RDWR|O_NONBLOCK" },
		{ O_RDWR | O_APPEND, "O_RDWR|O_APPEND" },
		{ O_RDWR | O_CREAT, "O_RDWR|O_CREAT" },
		{ O_RDWR | O_EXCL, "O_RDWR|O_EXCL" },
		{ O_RDWR | O_TRUNC, "O_RDWR|O_TRUNC" },
		{ O_RDWR | O_SYNC, "O_RDWR|O_SYNC" },
		{ O_RDWR | O_DIRECT, "O_RDWR|O_DIRECT" },
		{ O_RDWR | O_CLOEXEC | O_NOCTTY, "O_RDWR|O_CLOEXEC|O_NOCTTY" },
		{ O_PATH, "O_PATH" },
		/* Access mode 3 is no mode: a buffer nobody could map. */
		{ O_ACCMODE, "O_ACCMODE (3)" },
		{ O_ACCMODE | O_CLOEXEC, "O_ACCMODE|O_CLOEXEC" },
		{ 0x80000000u, "0x80000000" },
		{ ~0u, "~0" },
	};
	char what[96];

	tg_begin("alloc fd_flags with bits outside O_ACCMODE|O_CLOEXEC -> EINVAL");
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		snprintf(what, sizeof(what), "alloc(fd_flags=%s)", bad[i].name);
		alloc_fails(what, page_size, bad[i].flags, EINVAL);
	}
	tg_end();
}

static void test_access_modes(void)
{
	static const struct { uint32_t flags; const char *name; } ok[] = {
		{ O_RDONLY, "O_RDONLY" },
		{ O_WRONLY, "O_WRONLY" },
		{ O_RDWR, "O_RDWR" },
		{ O_RDONLY | O_CLOEXEC, "O_RDONLY|O_CLOEXEC" },
		{ O_RDWR | O_CLOEXEC, "O_RDWR|O_CLOEXEC" },
	};
	char what[96];

	tg_begin("alloc accepts every access mode, fd gets that mode");
	for (size_t i = 0; i < ARRAY_SIZE(ok); i++) {
		int fd = alloc_buf(page_size, ok[i].flags), fl;

		snprintf(what, sizeof(what), "alloc(fd_flags=%s)", ok[i].name);
		if (!expect_rc(what, fd, 0))
			continue;
		fl = fcntl(fd, F_GETFL);
		CHECK(fl >= 0 && (fl & O_ACCMODE) == (int)(ok[i].flags & O_ACCMODE),
		      "%s: F_GETFL access mode expected %d, got %d (fl=0x%x)",
		      what, (int)(ok[i].flags & O_ACCMODE), fl & O_ACCMODE, fl);
		close(fd);
	}
	tg_end();
}

static void test_cloexec(void)
{
	int fd, fl;

	tg_begin("O_CLOEXEC in fd_flags sets FD_CLOEXEC, absent otherwise");
	fd = alloc_buf(page_size, O_RDWR | O_CLOEXEC);
	if (expect_rc("alloc(O_RDWR|O_CLOEXEC)", fd, 0)) {
		fl = fcntl(fd, F_GETFD);
		CHECK(fl >= 0 && (fl & FD_CLOEXEC),
		      "with O_CLOEXEC: F_GETFD = %d, FD_CLOEXEC expected", fl);
		close(fd);
	}
	fd = alloc_buf(page_size, O_RDWR);
	if (expect_rc("alloc(O_RDWR)", fd, 0)) {
		fl = fcntl(fd, F_GETFD);
		CHECK(fl >= 0 && !(fl & FD_CLOEXEC),
		      "without O_CLOEXEC: F_GETFD = %d, FD_CLOEXEC not expected", fl);
		close(fd);
	}
	tg_end();
}

static void test_heap_flags(void)
{
	const uint64_t vals[] = { 1, 2, 1ULL << 32, 1ULL << 63, ~0ULL };
	struct dmabuf_core_alloc a;
	char what[64];

	tg_begin("alloc with non-zero heap_flags -> EINVAL");
	for (size_t i = 0; i < ARRAY_SIZE(vals); i++) {
		memset(&a, 0, sizeof(a));
		a.len = page_size;
		a.fd_flags = O_RDWR;
		a.heap_flags = vals[i];
		snprintf(what, sizeof(what), "alloc(heap_flags=0x%llx)",
			 (unsigned long long)vals[i]);
		raw_alloc_fails(what, &a, EINVAL);
	}
	tg_end();
}

static void test_short_struct(void)
{
	struct dmabuf_core_alloc a;
	int r, e, fd, fl;

	tg_begin("alloc with 16-byte struct (no heap_flags) works");
	CHECK_U64("sizeof(struct dmabuf_core_alloc)", sizeof(a), 24);
	memset(&a, 0, sizeof(a));
	a.len = 2 * page_size;
	a.fd_flags = O_RDWR | O_CLOEXEC;
	/* Beyond the 16 bytes passed: must be neither read nor written. */
	a.heap_flags = 0xdeadbeefcafef00dULL;
	errno = 0;
	r = ioctl(dev_fd(), ALLOC_CMD_SIZED(16), &a);
	e = errno;
	if (expect_errno_d("ioctl(_IOC(RW, 'H', 0, 16))", r, e, 0)) {
		fd = (int)a.fd;
		/* Only close what is verifiably the new buffer. */
		if (CHECK(fd >= 0 && lseek(fd, 0, SEEK_END) == (off_t)(2 * page_size),
			  "returned fd %d is not a 2-page buffer (lseek: %lld)",
			  fd, fd >= 0 ? (long long)lseek(fd, 0, SEEK_END) : -1LL)) {
			fl = fcntl(fd, F_GETFD);
			CHECK(fl >= 0 && (fl & FD_CLOEXEC),
			      "fd_flags O_CLOEXEC not honoured (F_GETFD = %d)", fl);
			close(fd);
		}
		CHECK_U64("len field after call", a.len, 2 * page_size);
		CHECK(a.heap_flags == 0xdeadbeefcafef00dULL,
		      "bytes past the 16-byte struct were written: 0x%llx",
		      (unsigned long long)a.heap_flags);
	}
	tg_end();
}

static void test_long_struct(void)
{
	struct {
		struct dmabuf_core_alloc a;
		unsigned char tail[8];
	} big;
	static const unsigned char junk[8] = {
		0xa5, 0x5a, 0xff, 0x01, 0x80, 0x7f, 0x33, 0xcc
	};
	int r, e, fd;

	tg_begin("alloc with 32-byte struct (junk tail) works, tail unchanged");
	CHECK_U64("sizeof(big struct)", sizeof(big), 32);
	memset(&big, 0, sizeof(big));
	big.a.len = 3 * page_size;
	big.a.fd_flags = O_RDWR;
	memcpy(big.tail, junk, sizeof(junk));
	errno = 0;
	r = ioctl(dev_fd(), ALLOC_CMD_SIZED(32), &big);
	e = errno;
	if (expect_errno_d("ioctl(_IOC(RW, 'H', 0, 32))", r, e, 0)) {
		fd = (int)big.a.fd;
		if (CHECK(fd >= 0 && lseek(fd, 0, SEEK_END) == (off_t)(3 * page_size),
			  "returned fd %d is not a 3-page buffer (lseek: %lld)",
			  fd, fd >= 0 ? (long long)lseek(fd, 0, SEEK_END) : -1LL))
			close(fd);
		CHECK(!memcmp(big.tail, junk, sizeof(junk)),
		      "trailing bytes changed: %02x %02x %02x %02x %02x %02x %02x %02x",
		      big.tail[0], big.tail[1], big.tail[2], big.tail[3],
		      big.tail[4], big.tail[5], big.tail[6], big.tail[7]);
	}
	/* The known fields are still validated in a longer struct. */
	memset(&big, 0, sizeof(big));
	big.a.len = page_size;
	big.a.heap_flags = 1;
	memcpy(big.tail, junk, sizeof(junk));
	errno = 0;
	r = ioctl(dev_fd(), ALLOC_CMD_SIZED(32), &big);
	e = errno;
	expect_errno_d("32-byte struct with heap_flags=1", r, e, EINVAL);
	if (r == 0)
		close((int)big.a.fd);
	tg_end();
}

static void test_unknown_ioctls(void)
{
	int d = dev_fd();

	tg_begin("unknown ioctls on " DMABUF_DEV " -> ENOTTY");
	expect_enotty(d, _IOWR('H', 1, struct dmabuf_core_alloc), "_IOWR('H', 1, alloc)");
	expect_enotty(d, _IOWR('H', 2, struct dmabuf_core_alloc), "_IOWR('H', 2, alloc)");
	expect_enotty(d, _IOWR('H', 0xff, struct dmabuf_core_alloc), "_IOWR('H', 0xff, alloc)");
	expect_enotty(d, _IOR('H', 7, __u64), "_IOR('H', 7, u64)");
	expect_enotty(d, _IO('H', 3), "_IO('H', 3)");
	expect_enotty(d, _IOWR(DMABUF_CORE_IOC_MAGIC, 0x7f, struct dmabuf_core_stats),
		     "_IOWR(0xDC, 0x7f, stats)");
	expect_enotty(d, 0x12345678, "random");
	expect_enotty(d, 0xdeadbeef, "random");
	expect_enotty(d, 0, "0");
	tg_end();

	tg_begin("buffer-fd ioctls on " DMABUF_DEV " -> ENOTTY");
	expect_enotty(d, DMABUF_CORE_IOCTL_SYNC, "DMABUF_CORE_IOCTL_SYNC");
	expect_enotty(d, _IOWR(DMABUF_CORE_IOC_MAGIC, 0x00, struct dmabuf_core_query),
		      "retired QUERY number 0x00");
	tg_end();
}

static void test_efault(void)
{
	struct dmabuf_core_stats s0, s1;
	struct dmabuf_core_alloc *a;
	int r, e, n0, n1;
	void *page;

	tg_begin("ALLOC and STATS with a bad pointer -> EFAULT");
	EXPECT_ERRNO(ioctl(dev_fd(), DMABUF_CORE_IOCTL_ALLOC, NULL), EFAULT);
	EXPECT_ERRNO(ioctl(dev_fd(), DMABUF_CORE_IOCTL_STATS, NULL), EFAULT);
	EXPECT_ERRNO(ioctl(dev_fd(), DMABUF_CORE_IOCTL_ALLOC, (void *)8), EFAULT);
	tg_end();

	/*
	 * Readable but not writable argument: the buffer gets created, the
	 * copy back fails.  No fd may be installed and the buffer must go.
	 */
	tg_begin("ALLOC whose result can't be copied out -> EFAULT, no leak");
	page = mmap(NULL, page_size, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (CHECK(page != MAP_FAILED, "mmap anon: %s", errstr(errno))) {
		a = page;
		a->len = page_size;
		a->fd_flags = O_RDWR;
		mprotect(page, page_size, PROT_READ);
		expect_rc("STATS before", stats(&s0), 0);
		n0 = count_open_fds();
		errno = 0;
		r = ioctl(dev_fd(), DMABUF_CORE_IOCTL_ALLOC, a);
		e = errno;
		expect_errno_d("ALLOC into read-only memory", r, e, EFAULT);
		n1 = count_open_fds();
		CHECK(n0 == n1, "open fds before %d, after %d (fd leaked)", n0, n1);
		if (expect_rc("STATS after", stats(&s1), 0)) {
			CHECK_U64("live_buffers", s1.live_buffers, s0.live_buffers);
			CHECK_U64("live_bytes", s1.live_bytes, s0.live_bytes);
			CHECK_U64("system_pages", s1.system_pages, s0.system_pages);
			CHECK_U64("exported - released delta",
				  (s1.exported - s1.released) -
				  (s0.exported - s0.released), 0);
		}
		munmap(page, page_size);
	}
	tg_end();
}

static void test_stats_bad_input(void)
{
	struct dmabuf_core_stats s;
	char what[64];
	int r, e;

	tg_begin("STATS with non-zero flags/reserved0/reserved[] -> EINVAL");
	for (int i = 0; i < 6; i++) {
		memset(&s, 0, sizeof(s));
		switch (i) {
		case 0: s.flags = 1; snprintf(what, sizeof(what), "flags=1"); break;
		case 1: s.flags = 0x80000000u; snprintf(what, sizeof(what), "flags=0x80000000"); break;
		case 2: s.reserved0 = 1; snprintf(what, sizeof(what), "reserved0=1"); break;
		case 3: s.reserved1 = 1; snprintf(what, sizeof(what), "reserved1=1"); break;
		case 4: s.reserved1 = 1ULL << 63; snprintf(what, sizeof(what), "reserved1=1<<63"); break;
		default: s.reserved0 = ~0u; s.reserved1 = ~0ULL; snprintf(what, sizeof(what), "all reserved ~0"); break;
		}
		errno = 0;
		r = ioctl(dev_fd(), DMABUF_CORE_IOCTL_STATS, &s);
		e = errno;
		expect_errno_d(what, r, e, EINVAL);
	}
	/* The out fields are ignored on input. */
	memset(&s, 0, sizeof(s));
	memset(&s, 0xff, offsetof(struct dmabuf_core_stats, flags));
	s.contig_pages = ~0ULL;
	errno = 0;
	r = ioctl(dev_fd(), DMABUF_CORE_IOCTL_STATS, &s);
	e = errno;
	expect_errno_d("STATS with junk in the output fields", r, e, 0);
	tg_end();
}

static void test_stats_consistent(void)
{
	struct dmabuf_core_stats s;

	tg_begin("STATS counters are consistent");
	if (expect_rc("STATS", stats(&s), 0)) {
		CHECK(s.exported >= s.released, "exported %llu < released %llu",
		      (unsigned long long)s.exported,
		      (unsigned long long)s.released);
		CHECK_U64("live_buffers vs exported - released", s.live_buffers,
			  s.exported - s.released);
		CHECK(s.live_bytes % page_size == 0,
		      "live_bytes %llu not a page multiple",
		      (unsigned long long)s.live_bytes);
		CHECK((s.system_pages + s.contig_pages) * page_size <= s.live_bytes,
		      "system_pages %llu and contig_pages %llu exceed live_bytes %llu",
		      (unsigned long long)s.system_pages,
		      (unsigned long long)s.contig_pages,
		      (unsigned long long)s.live_bytes);
		CHECK(s.flags == 0 && s.reserved0 == 0 && s.reserved1 == 0,
		      "input fields not zero on output");
	}
	tg_end();
}

static void test_stats_alloc_close(void)
{
	struct dmabuf_core_stats s0, s1, s2;
	const uint64_t len = 3 * page_size;
	void *p;
	int fd, r;

	tg_begin("STATS: alloc then close counts exported and released");
	if (!expect_rc("STATS before", stats(&s0), 0)) {
		tg_end();
		return;
	}
	fd = alloc_buf(len, O_RDWR);
	if (!expect_rc("alloc(3 pages)", fd, 0)) {
		tg_end();
		return;
	}
	/* Fault every page in, whether pages are allocated early or late. */
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (CHECK(p != MAP_FAILED, "mmap: %s", errstr(errno))) {
		r = touch_pages(p, len, 1);
		CHECK(r == 0, "touch faulted with signal %d", -r);
		munmap(p, len);
	}
	if (expect_rc("STATS while alive", stats(&s1), 0)) {
		CHECK_U64("exported delta", s1.exported - s0.exported, 1);
		CHECK_U64("released delta", s1.released - s0.released, 0);
		CHECK_U64("live_buffers delta", s1.live_buffers - s0.live_buffers, 1);
		CHECK_U64("live_bytes delta", s1.live_bytes - s0.live_bytes, len);
		CHECK_U64("system_pages delta", s1.system_pages - s0.system_pages,
			  len / page_size);
	}
	close(fd);
	if (expect_rc("STATS after close", stats(&s2), 0)) {
		CHECK_U64("exported after close vs alive", s2.exported, s1.exported);
		CHECK_U64("released delta after close", s2.released - s0.released, 1);
		CHECK_U64("live_buffers after close", s2.live_buffers, s0.live_buffers);
		CHECK_U64("live_bytes after close", s2.live_bytes, s0.live_bytes);
		CHECK_U64("system_pages after close", s2.system_pages,
			  s0.system_pages);
	}
	tg_end();
}

static void test_release_last_close(void)
{
	struct dmabuf_core_stats s0, s1, s2;
	int fd, fd2;

	tg_begin("buffer released on the last close only (dup)");
	expect_rc("STATS before", stats(&s0), 0);
	fd = alloc_buf(page_size, O_RDWR);
	if (!expect_rc("alloc", fd, 0)) {
		tg_end();
		return;
	}
	fd2 = dup(fd);
	CHECK(fd2 >= 0, "dup: %s", errstr(errno));
	close(fd);
	if (fd2 >= 0) {
		if (expect_rc("STATS after first close", stats(&s1), 0)) {
			CHECK_U64("live_buffers delta after first close",
				  s1.live_buffers - s0.live_buffers, 1);
			CHECK_U64("released delta after first close",
				  s1.released - s0.released, 0);
		}
		expect_rc("QUERY via the dup", query(fd2, &(struct dmabuf_core_query){0}), 0);
		close(fd2);
	}
	if (expect_rc("STATS after last close", stats(&s2), 0)) {
		CHECK_U64("live_buffers after last close", s2.live_buffers,
			  s0.live_buffers);
		CHECK_U64("released delta after last close",
			  s2.released - s0.released, 1);
	}
	tg_end();
}

static void test_zero_filled(void)
{
	const uint64_t sizes[] = { page_size, 17 * page_size, MiB, 4 * MiB,
				   MiB, page_size, 4 * MiB, 17 * page_size };
	char what[96], res[96];
	size_t bad;
	void *p;
	int fd, r;

	/* Dirty each buffer before freeing it, so reused pages show up. */
	tg_begin("buffers are zero-filled (also after reuse of freed pages)");
	for (size_t i = 0; i < ARRAY_SIZE(sizes); i++) {
		fd = alloc_buf(sizes[i], O_RDWR);
		snprintf(what, sizeof(what), "round %zu: alloc(%llu)", i,
			 (unsigned long long)sizes[i]);
		if (!expect_rc(what, fd, 0))
			continue;
		p = mmap(NULL, sizes[i], PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		if (CHECK(p != MAP_FAILED, "%s: mmap: %s", what, errstr(errno))) {
			r = check_zero(p, sizes[i], &bad);
			CHECK(r == 0, "%s: not zero-filled: %s", what,
			      mem_result(r, bad, res, sizeof(res)));
			r = fill_pattern(p, sizes[i], 0x5eed0000 + i, 0);
			CHECK(r == 0, "%s: fill: %s", what,
			      mem_result(r, 0, res, sizeof(res)));
			munmap(p, sizes[i]);
		}
		close(fd);
	}
	tg_end();
}

static void test_many_live(void)
{
	enum { N = 64 };
	struct dmabuf_core_stats s0, s1, s2;
	uint64_t ids[N], bytes = 0;
	int fds[N], n = 0;

	tg_begin("64 buffers live at once: distinct ids, counted, all released");
	expect_rc("STATS before", stats(&s0), 0);
	for (int i = 0; i < N; i++) {
		uint64_t len = (uint64_t)(i % 8 + 1) * page_size;

		fds[n] = alloc_buf(len, O_RDWR | O_CLOEXEC);
		if (!expect_rc("alloc", fds[n], 0))
			break;
		ids[n] = buf_id(fds[n]);
		CHECK(ids[n] != 0, "buffer %d: id 0 or QUERY failed", i);
		bytes += len;
		n++;
	}
	for (int i = 0; i < n; i++)
		for (int j = i + 1; j < n; j++)
			CHECK(ids[i] != ids[j], "buffers %d and %d share id %llu",
			      i, j, (unsigned long long)ids[i]);
	if (expect_rc("STATS with all alive", stats(&s1), 0)) {
		CHECK_U64("live_buffers delta", s1.live_buffers - s0.live_buffers, n);
		CHECK_U64("live_bytes delta", s1.live_bytes - s0.live_bytes, bytes);
		CHECK_U64("exported delta", s1.exported - s0.exported, n);
	}
	for (int i = 0; i < n; i++)
		close(fds[i]);
	if (expect_rc("STATS after closing all", stats(&s2), 0)) {
		CHECK_U64("live_buffers after", s2.live_buffers, s0.live_buffers);
		CHECK_U64("live_bytes after", s2.live_bytes, s0.live_bytes);
		CHECK_U64("released delta", s2.released - s0.released, n);
		CHECK_U64("system_pages after", s2.system_pages, s0.system_pages);
	}
	tg_end();
}

static void test_failures_leave_nothing(const struct dmabuf_core_stats *s0,
					const char *name)
{
	struct dmabuf_core_stats s1;

	tg_begin(name);
	if (expect_rc("STATS", stats(&s1), 0)) {
		CHECK_U64("live_buffers", s1.live_buffers, s0->live_buffers);
		CHECK_U64("live_bytes", s1.live_bytes, s0->live_bytes);
		CHECK_U64("system_pages", s1.system_pages, s0->system_pages);
		CHECK_U64("exported - released",
			  s1.exported - s1.released, s0->exported - s0->released);
	}
	tg_end();
}

/*
 * Allocate through @path opened O_RDONLY, as heap users (libdmabufheap,
 * GStreamer) open /dev/dma_heap entries, and write the buffer.
 * Return: 0, or -errno.
 */
static int alloc_read_only_open(const char *path, uint64_t len)
{
	struct dmabuf_core_alloc a = { .len = len, .fd_flags = O_RDWR | O_CLOEXEC };
	int d = open(path, O_RDONLY | O_CLOEXEC), ret = 0;
	void *p;

	if (d < 0)
		return -errno;
	if (ioctl(d, DMABUF_CORE_IOCTL_ALLOC, &a) < 0) {
		ret = -errno;
		goto out;
	}
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, (int)a.fd, 0);
	if (p == MAP_FAILED) {
		ret = -errno;
	} else {
		memset(p, 0x5a, len);
		munmap(p, len);
	}
	close((int)a.fd);
out:
	close(d);
	return ret;
}

static void test_read_only_open(void)
{
	tg_begin(DMABUF_DEV " opened O_RDONLY allocates writable buffers");
	expect_rc("alloc through an O_RDONLY open",
		  alloc_read_only_open(DMABUF_DEV, 64 * KiB), 0);
	tg_end();
}

int main(int argc, char **argv)
{
	struct dmabuf_core_stats base;
	int fds0, fds1, r;

	/* t_alloc --heap-entry PATH: that one check, exit status only. */
	if (argc == 3 && !strcmp(argv[1], "--heap-entry")) {
		r = alloc_read_only_open(argv[2], 64 * KiB);
		if (r)
			fprintf(stderr, "%s: %s\n", argv[2], errstr(-r));
		return r ? 1 : 0;
	}

	tap_init(PROG);
	fds0 = count_open_fds();

	test_open();
	test_read_only_open();
	stats(&base);
	test_round_one_byte();
	test_round_sizes();
	test_len_zero();
	test_len_overflow();
	test_fd_field();
	test_fd_flags_bad();
	test_heap_flags();
	test_unknown_ioctls();
	test_failures_leave_nothing(&base, "refused allocations (EINVAL) create no buffer");
	test_access_modes();
	test_cloexec();
	test_short_struct();
	test_long_struct();
	test_efault();
	test_large_within_cap();
	test_stats_bad_input();
	test_stats_consistent();
	test_stats_alloc_close();
	test_release_last_close();
	test_zero_filled();
	test_many_live();
	/*
	 * Late: a module that really tried to allocate these would get this
	 * program OOM-killed, so let everything else report first.
	 */
	stats(&base);
	test_len_above_cap();
	test_len_above_ram();
	test_failures_leave_nothing(&base, "refused allocations (ENOMEM) create no buffer");

	tg_begin("no fds left open by the tests");
	fds1 = count_open_fds();
	/* dev_fd() stays open for the whole program. */
	CHECK(fds1 == fds0 + (dev_fd() >= 0), "open fds at start %d (+1 for "
	      DMABUF_DEV "), at end %d", fds0, fds1);
	tg_end();

	return tap_finish();
}
