// SPDX-License-Identifier: GPL-2.0-only
/*
 * t_corners: the corners of fds and mappings a user would expect to work
 * (or to fail cleanly):
 *
 *   - ALLOC with a full fd table: EMFILE, and the buffer is freed;
 *   - O_CLOEXEC really closes across exec (and its absence keeps the fd);
 *   - a read-only fd passed over a socket still refuses PROT_WRITE;
 *   - mmap offsets near 2^63 and 2^64; MAP_FIXED over a mapping;
 *     mremap shrink, move and grow; MADV_DONTNEED then re-fault;
 *   - O_DIRECT, process_vm_readv and vmsplice on a mapping: clear errors;
 *   - max_size_mb changed at runtime;
 *   - leak checks by slab and open-file counts over attach/map cycles
 *     through the demo importer.
 *
 * Runs as root with the demo modules loaded.  "t_corners --has-fd N" is the
 * helper the exec check runs: exit 0 if fd N is open, 1 if not.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/demo.h"
#include "lib/tap.h"

#define SELF	"/proc/self/exe"

static void test_emfile(void)
{
	struct dmabuf_core_stats s0, s1;
	struct rlimit old, low;
	int fds[64], n = 0, fd;

	tg_begin("ALLOC with a full fd table fails with EMFILE and frees the buffer");
	if (!CHECK(!getrlimit(RLIMIT_NOFILE, &old), "getrlimit") ||
	    !CHECK(!stats(&s0), "STATS"))
		goto out;
	/* The nodes the calls go through are open before the table fills. */
	if (!CHECK(exporter_fd() >= 0, "exporter node"))
		goto out;
	low = old;
	low.rlim_cur = 32;
	if (!CHECK(!setrlimit(RLIMIT_NOFILE, &low), "setrlimit: %s", strerror(errno)))
		goto out;
	while (n < (int)ARRAY_SIZE(fds) && (fd = open("/dev/null", O_RDONLY | O_CLOEXEC)) >= 0)
		fds[n++] = fd;
	fd = alloc_buf(MiB, O_RDWR | O_CLOEXEC);
	expect_rc("ALLOC", fd, EMFILE);
	close_if_open(fd);
	fd = demo_create(MiB, O_RDWR | O_CLOEXEC);
	expect_rc("demo CREATE", fd, EMFILE);
	close_if_open(fd);
	while (n)
		close(fds[--n]);
	setrlimit(RLIMIT_NOFILE, &old);
	if (CHECK(!stats(&s1), "STATS after")) {
		CHECK_U64("live buffers", s1.live_buffers, s0.live_buffers);
		CHECK_U64("live bytes", s1.live_bytes, s0.live_bytes);
		CHECK_U64("system pages", s1.system_pages, s0.system_pages);
	}
out:
	tg_end();
}

/* Exec ourselves with --has-fd @fd in a child: 0 open, 1 closed, -1 error. */
static int exec_has_fd(int fd)
{
	char arg[16];
	int status;
	pid_t pid;

	snprintf(arg, sizeof(arg), "%d", fd);
	pid = fork();
	if (pid < 0)
		return -1;
	if (!pid) {
		execl(SELF, "t_corners", "--has-fd", arg, (char *)NULL);
		_exit(99);
	}
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ||
	    WEXITSTATUS(status) > 1)
		return -1;
	return WEXITSTATUS(status);
}

static void test_cloexec(void)
{
	int a = alloc_buf(page_size, O_RDWR | O_CLOEXEC);
	int b = alloc_buf(page_size, O_RDWR);
	int d = demo_create(page_size, O_RDWR | O_CLOEXEC);

	tg_begin("O_CLOEXEC closes a buffer fd across exec, its absence keeps it");
	if (CHECK(a >= 0 && b >= 0 && d >= 0, "buffers %d %d %d", a, b, d)) {
		CHECK(exec_has_fd(a) == 1, "O_CLOEXEC /dev/dmabuf fd %d survived exec", a);
		CHECK(exec_has_fd(d) == 1, "O_CLOEXEC demo fd %d survived exec", d);
		CHECK(exec_has_fd(b) == 0, "fd %d without O_CLOEXEC was closed by exec", b);
	}
	close_if_open(a);
	close_if_open(b);
	close_if_open(d);
	tg_end();
}

static void test_rdonly_over_socket(void)
{
	int sv[2], fd, r;
	char x;
	void *p;

	tg_begin("a read-only fd passed over a socket still refuses PROT_WRITE");
	fd = alloc_buf(page_size, O_RDONLY | O_CLOEXEC);
	if (!expect_rc("ALLOC O_RDONLY", fd, 0) ||
	    !CHECK(!socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), "socketpair"))
		goto out;
	CHECK(!send_fd(sv[0], fd, "x", 1), "send_fd");
	close(fd);
	fd = recv_fd(sv[1], &x, 1);
	close(sv[0]);
	close(sv[1]);
	if (!expect_rc("recv_fd", fd, 0))
		goto out;
	CHECK((fcntl(fd, F_GETFL) & O_ACCMODE) == O_RDONLY, "received fd is not O_RDONLY");
	p = mmap(NULL, page_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	expect_errno_d("mmap PROT_WRITE", p == MAP_FAILED ? -1 : 0, errno, EACCES);
	if (p != MAP_FAILED)
		munmap(p, page_size);
	p = mmap(NULL, page_size, PROT_READ, MAP_SHARED, fd, 0);
	if (CHECK(p != MAP_FAILED, "mmap PROT_READ: %s", strerror(errno))) {
		r = mprotect(p, page_size, PROT_READ | PROT_WRITE);
		expect_errno_d("mprotect to PROT_WRITE", r, errno, EACCES);
		munmap(p, page_size);
	}
	close(fd);
out:
	tg_end();
}

static void test_offsets(void)
{
	static const struct { uint64_t off; const char *what; } offs[] = {
		{ (1ULL << 63) - 4096, "2^63 - 4 KiB" },
		{ 1ULL << 63, "2^63" },
		{ ~0ULL - 4095, "2^64 - 4 KiB" },
		{ 1ULL << 44, "2^44 (16 TiB)" },
	};
	size_t i;
	int fd;

	tg_begin("mmap at offsets near 2^63 and 2^64 fails with EINVAL or EOVERFLOW");
	fd = alloc_buf(4 * page_size, O_RDWR | O_CLOEXEC);
	if (expect_rc("ALLOC", fd, 0)) {
		for (i = 0; i < ARRAY_SIZE(offs); i++) {
			void *p = mmap(NULL, page_size, PROT_READ, MAP_SHARED, fd,
				       (off_t)offs[i].off);
			int e = errno;

			if (p != MAP_FAILED) {
				tg_fail("mmap at %s succeeded", offs[i].what);
				munmap(p, page_size);
			} else {
				CHECK(e == EINVAL || e == EOVERFLOW, "mmap at %s: %s",
				      offs[i].what, errstr(e));
			}
		}
		close(fd);
	}
	tg_end();
}

static void test_map_fixed(void)
{
	size_t len = 4 * page_size;
	struct dmabuf_core_stats s0, s1;
	int a, b;
	char *p, *q;

	tg_begin("MAP_FIXED over a mapping replaces it; the old buffer goes with its fd");
	expect_rc("STATS", stats(&s0), 0);
	a = alloc_buf(len, O_RDWR | O_CLOEXEC);
	b = alloc_buf(len, O_RDWR | O_CLOEXEC);
	if (!CHECK(a >= 0 && b >= 0, "buffers"))
		goto out;
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, a, 0);
	q = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, b, 0);
	if (!CHECK(p != MAP_FAILED && q != MAP_FAILED, "mmap"))
		goto out;
	fill_pattern(p, len, 1, 0);
	fill_pattern(q, len, 2, 0);
	munmap(q, len);
	/* The middle two pages of a's mapping become b's first two. */
	q = mmap(p + page_size, 2 * page_size, PROT_READ, MAP_SHARED | MAP_FIXED, b, 0);
	if (CHECK(q == p + page_size, "MAP_FIXED: %s", strerror(errno))) {
		CHECK(!check_pattern(p, page_size, 1, 0, NULL), "a's first page");
		CHECK(!check_pattern(q, 2 * page_size, 2, 0, NULL), "b's pages");
		CHECK(!check_pattern(p + 3 * page_size, page_size, 1, 3 * page_size, NULL),
		      "a's last page");
	}
	munmap(p, len);
	close(a);
	close(b);
	a = b = -1;
	if (CHECK(!stats(&s1), "STATS after"))
		CHECK_U64("live buffers", s1.live_buffers, s0.live_buffers);
out:
	close_if_open(a);
	close_if_open(b);
	tg_end();
}

/*
 * A new read-write buffer of @len bytes mapped and filled with the pattern
 * for @seed: the mapping (*fd its fd), or NULL with a failure recorded and
 * nothing left open.
 */
static char *mapped_pattern(size_t len, uint64_t seed, int *fd)
{
	char *p;

	*fd = alloc_buf(len, O_RDWR | O_CLOEXEC);
	if (!expect_rc("ALLOC", *fd, 0))
		return NULL;
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, *fd, 0);
	if (!CHECK(p != MAP_FAILED, "mmap: %s", errstr(errno))) {
		close(*fd);
		return NULL;
	}
	fill_pattern(p, len, seed, 0);
	return p;
}

static void test_mremap(void)
{
	size_t len = 8 * page_size;
	char *p, *q, *r, *target;
	int fd;

	tg_begin("mremap shrinks and moves a mapping with its data and refuses to grow it");
	p = mapped_pattern(len, 3, &fd);
	if (!p)
		goto out;
	q = mremap(p, len, len / 2, 0);
	if (CHECK(q == p, "shrink: %s", strerror(errno)))
		CHECK(!check_pattern(q, len / 2, 3, 0, NULL), "data after shrink");
	/* Move to a spot of our choosing. */
	target = mmap(NULL, len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	r = mremap(q, len / 2, len / 2, MREMAP_MAYMOVE | MREMAP_FIXED, target);
	if (CHECK(r == target, "move: %s", strerror(errno))) {
		CHECK(!check_pattern(r, len / 2, 3, 0, NULL), "data after move");
		q = r;
	}
	/* Growing past what was mapped: refused, nothing changes. */
	r = mremap(q, len / 2, len, MREMAP_MAYMOVE);
	if (r != MAP_FAILED) {
		tg_fail("mremap grew a dma-buf mapping");
		munmap(r, len);
		munmap(target, len);
	} else {
		CHECK(errno == EFAULT || errno == ENOMEM || errno == EINVAL,
		      "grow: %s", errstr(errno));
		CHECK(!check_pattern(q, len / 2, 3, 0, NULL), "data after refused grow");
		munmap(q, len / 2);
		if (q != target)
			munmap(target, len);
		else
			munmap(target + len / 2, len / 2);
	}
	close(fd);
out:
	tg_end();
}

static void test_dontneed(void)
{
	size_t len = 16 * page_size;
	char *p;
	int fd, r;

	tg_begin("MADV_DONTNEED then re-fault; the buffer keeps its data");
	fd = alloc_buf(len, O_RDWR | O_CLOEXEC);
	if (!expect_rc("ALLOC", fd, 0))
		goto out;
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (CHECK(p != MAP_FAILED, "mmap")) {
		fill_pattern(p, len, 4, 0);
		r = madvise(p, len, MADV_DONTNEED);
		CHECK(!r || errno == EINVAL, "MADV_DONTNEED: %s", errstr(errno));
		CHECK(!check_pattern(p, len, 4, 0, NULL), "data after MADV_DONTNEED");
		munmap(p, len);
	}
	/* A fresh mapping sees the same bytes. */
	p = mmap(NULL, len, PROT_READ, MAP_SHARED, fd, 0);
	if (CHECK(p != MAP_FAILED, "second mmap")) {
		CHECK(!check_pattern(p, len, 4, 0, NULL), "data through a new mapping");
		munmap(p, len);
	}
	close(fd);
out:
	tg_end();
}

static void test_gup_users(void)
{
	size_t len = 4 * page_size;
	char path[] = "/tmp/t_corners.XXXXXX", buf[64];
	struct iovec local, remote;
	int fd, pfd[2], ffd, r;
	ssize_t n;
	pid_t pid;
	char *p;

	tg_begin("O_DIRECT, process_vm_readv and vmsplice on a mapping give clear errors or data");
	p = mapped_pattern(len, 5, &fd);
	if (!p)
		goto out;

	/* Reading the mapping through another mm's view: data, or EFAULT. */
	pid = getpid();
	local.iov_base = buf;
	local.iov_len = sizeof(buf);
	remote.iov_base = p;
	remote.iov_len = sizeof(buf);
	n = process_vm_readv(pid, &local, 1, &remote, 1, 0);
	if (n >= 0)
		CHECK(n == (ssize_t)sizeof(buf) && !memcmp(buf, p, sizeof(buf)),
		      "process_vm_readv: %zd bytes, data differs", n);
	else
		CHECK(errno == EFAULT, "process_vm_readv: %s", errstr(errno));

	/* vmsplice needs the pages: PFN mappings give EFAULT. */
	if (CHECK(!pipe2(pfd, O_CLOEXEC), "pipe")) {
		struct iovec v = { p, page_size };

		n = vmsplice(pfd[1], &v, 1, 0);
		CHECK(n == (ssize_t)page_size || (n < 0 && errno == EFAULT),
		      "vmsplice: %zd, %s", n, errstr(errno));
		close(pfd[0]);
		close(pfd[1]);
	}

	/* O_DIRECT write from the mapping, where the filesystem has O_DIRECT. */
	ffd = mkstemp(path);
	if (ffd >= 0) {
		close(ffd);
		ffd = open(path, O_RDWR | O_DIRECT | O_CLOEXEC);
		if (ffd >= 0) {
			n = write(ffd, p, page_size);
			CHECK(n == (ssize_t)page_size || (n < 0 && (errno == EFAULT ||
			      errno == EINVAL)), "O_DIRECT write: %zd, %s", n, errstr(errno));
			close(ffd);
			tg_note("O_DIRECT write gave %s", n < 0 ? errname(errno) : "data");
		} else {
			tg_note("no O_DIRECT on /tmp: %s", errname(errno));
		}
		unlink(path);
	}
	/* And plain copies through the mapping keep working. */
	r = pipe2(pfd, O_CLOEXEC);
	if (CHECK(!r, "pipe")) {
		CHECK(write(pfd[1], p, sizeof(buf)) == (ssize_t)sizeof(buf) &&
		      read(pfd[0], buf, sizeof(buf)) == (ssize_t)sizeof(buf) &&
		      !memcmp(buf, p, sizeof(buf)), "write() from the mapping");
		close(pfd[0]);
		close(pfd[1]);
	}
	munmap(p, len);
	close(fd);
out:
	tg_end();
}

static void test_max_size_runtime(void)
{
	long long old = read_param_ll(DMABUF_PARAM_MAX_SIZE);
	char val[32];
	int fd;

	tg_begin("max_size_mb changed at runtime applies to the next ALLOC");
	if (!CHECK(old >= 0, "read max_size_mb: %s", errstr((int)-old)))
		goto out;
	if (!CHECK(!write_file(DMABUF_PARAM_MAX_SIZE, "2"), "set max_size_mb=2"))
		goto out;
	fd = alloc_buf(2 * MiB, O_RDWR | O_CLOEXEC);
	expect_rc("ALLOC 2 MiB at the cap", fd, 0);
	close_if_open(fd);
	fd = alloc_buf(2 * MiB + page_size, O_RDWR | O_CLOEXEC);
	expect_rc("ALLOC 2 MiB + 4 KiB", fd, ENOMEM);
	close_if_open(fd);
	snprintf(val, sizeof(val), "%lld", old);
	CHECK(!write_file(DMABUF_PARAM_MAX_SIZE, val), "restore max_size_mb");
	fd = alloc_buf(4 * MiB, O_RDWR | O_CLOEXEC);
	expect_rc("ALLOC 4 MiB after restoring", fd, 0);
	close_if_open(fd);
out:
	tg_end();
}

/* The smallest leak per attach/map cycle the slab check must catch. */
#define LEAK_BYTES	32
#define ROUNDS		4	/* the note prints ROUNDS + 1 samples */

/*
 * Unreclaimable slab in KiB, after letting freed objects settle: the least
 * of a few samples, so that a passing burst of someone else's allocations
 * (or frees still waiting for RCU) weighs less.
 */
static long long slab_kib(void)
{
	long long v, min = -1;
	int i;

	for (i = 0; i < 3; i++) {
		if (i)
			usleep(200 * 1000);
		sync();
		write_file("/proc/sys/vm/drop_caches", "3");
		v = meminfo_kib("SUnreclaim");
		if (min < 0 || v < min)
			min = v;
	}
	return min;
}

static long long files_open(void)
{
	long long n = -1;
	FILE *f = fopen("/proc/sys/fs/file-nr", "re");

	if (f) {
		if (fscanf(f, "%lld", &n) != 1)
			n = -1;
		fclose(f);
	}
	return n;
}

/* One round of @n attach/map cycles; 0 or -errno. */
static int attach_map_cycles(int imp, int fd, int d, unsigned long n)
{
	struct dmabuf_demo_access acc;
	unsigned long i;
	int r = 0;

	for (i = 0; i < n && !r; i++) {
		int b = i % 2 ? fd : d, nfd;

		switch (i % 4) {
		case 0: case 1:
			r = demo_access(imp, b, DMABUF_DEMO_ACCESS_READ, 0, &acc);
			break;
		case 2:
			r = demo_attach(imp, b);
			if (!r)
				r = demo_access(imp, b, DMABUF_DEMO_ACCESS_WRITE, 1, &acc);
			if (!r)
				r = demo_detach(imp, b);
			break;
		default:
			/* A fresh buffer each time: export, attach, map, release. */
			nfd = alloc_buf(page_size, O_RDWR | O_CLOEXEC);
			r = nfd < 0 ? nfd : demo_access(imp, nfd, DMABUF_DEMO_ACCESS_READ, 0, &acc);
			if (nfd >= 0)
				close(nfd);
		}
	}
	return r;
}

/*
 * Slab is noisy (caches fill, RCU frees late), a leak is linear: after a
 * warm-up, two equal rounds; a leak grows SUnreclaim in both, noise not.
 */
static void test_slab_leaks(void)
{
	long long slab[ROUNDS + 1], files[ROUNDS + 1], limit, grew;
	unsigned long n = 8000;
	int imp, fd, d, r, k;

	tg_begin("attach/map cycles through an importer leak no slab and no files");
	imp = importer_open(0);
	fd = alloc_buf(page_size, O_RDWR | O_CLOEXEC);
	d = demo_create(page_size, O_RDWR | O_CLOEXEC);
	if (!CHECK(imp >= 0 && fd >= 0 && d >= 0, "importer %d, buffers %d %d", imp, fd, d))
		goto out;
	r = attach_map_cycles(imp, fd, d, n);	/* warm-up: caches fill */
	for (k = 0; k <= ROUNDS && !r; k++) {
		if (k)
			r = attach_map_cycles(imp, fd, d, n);
		slab[k] = slab_kib();
		files[k] = files_open();
	}
	if (!CHECK(!r, "cycles: %s", errstr(-r)))
		goto out;
	/*
	 * A leak is linear, noise is not: over ROUNDS rounds a leak of
	 * LEAK_BYTES a cycle grows SUnreclaim by ROUNDS * n * LEAK_BYTES
	 * (more under slub_debug's red zones and tracking), while noise only
	 * moves the first and the last sample (a few hundred KiB either way
	 * on 6.12, seen between single rounds).  The limit is three quarters
	 * of that growth: such a leak fails unless the noise hides a quarter
	 * of it, and no leak fails only on a burst three times as large.
	 */
	limit = (long long)(ROUNDS * n * LEAK_BYTES * 3 / 4 / 1024);
	grew = slab[ROUNDS] - slab[0];
	CHECK(grew < limit, "SUnreclaim grew by %lld kB in %d rounds of %lu cycles, limit %lld kB",
	      grew, ROUNDS, n, limit);
	/*
	 * The count is the whole system's (file-nr): the guest's own shell
	 * and watchdog move it by a file or two.  A leak of one file in every
	 * n cycles grows it by ROUNDS.
	 */
	CHECK(files[ROUNDS] - files[0] < ROUNDS, "open files %lld -> %lld in %d rounds of %lu cycles",
	      files[0], files[ROUNDS], ROUNDS, n);
	tg_note("%d rounds of %lu cycles: SUnreclaim %lld -> %lld -> %lld -> %lld -> %lld kB (limit +%lld), open files %lld -> %lld",
		ROUNDS, n, slab[0], slab[1], slab[2], slab[3], slab[4], limit,
		files[0], files[ROUNDS]);
out:
	close_if_open(d);
	close_if_open(fd);
	close_if_open(imp);
	tg_end();
}

int main(int argc, char **argv)
{
	struct dmabuf_core_stats s0;

	if (argc == 3 && !strcmp(argv[1], "--has-fd"))
		return fcntl(atoi(argv[2]), F_GETFD) < 0 ? 1 : 0;

	tap_init("t_corners");
	if (stats(&s0))		/* the baseline group below fails then */
		memset(&s0, 0xff, sizeof(s0));
	test_emfile();
	test_cloexec();
	test_rdonly_over_socket();
	test_offsets();
	test_map_fixed();
	test_mremap();
	test_dontneed();
	test_gup_users();
	test_max_size_runtime();
	test_slab_leaks();
	exporter_close();
	expect_stats_baseline(&s0);
	return tap_finish();
}
