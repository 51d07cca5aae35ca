// SPDX-License-Identifier: GPL-2.0-only
/*
 * t_faults: allocation failures injected into every path a user drives.
 *
 * For kernels with fault injection (the debug kernel): failslab and
 * fail_page_alloc fail this thread's kernel allocations at a probability
 * (task filter, /proc/thread-self/make-it-fail, on only around the system
 * calls under test).  Only the kmalloc caches and page allocations of
 * order 4 and up fail: the checkers of the debug kernel (kmemleak, debug
 * objects, DMA-API debug) refill their own caches and pools in the same
 * context and switch themselves off when that fails.  Rounds of ALLOC + mmap, demo export + attach + map,
 * import of /dev/dmabuf buffers into the demo importer, vgem PRIME import,
 * fd passing, and the 32-bit importer's attach that moves a /dev/dmabuf
 * buffer must each either work or fail with ENOMEM (a failed move leaves
 * the storage where it was, and either way the bytes are the same through
 * the process's mapping and the device); afterwards,
 * with injection off, every counter is back at its baseline and no fd is
 * left.  kmemleak, at the end of the guest run, checks the rest.
 *
 *   t_faults [ROUNDS [PERCENT]]     defaults 400 rounds, 10 percent
 */
#define _GNU_SOURCE
#include <errno.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lib/demo.h"
#include "lib/tap.h"
#include "lib/vgem.h"

#define FAILSLAB	"/sys/kernel/debug/failslab"
#define FAIL_PAGE	"/sys/kernel/debug/fail_page_alloc"
#define MAKE_IT_FAIL	"/proc/thread-self/make-it-fail"
#define SLAB_DIR	"/sys/kernel/slab"
#define FAIL_MIN_ORDER	"4"

static int make_it_fail = -1;	/* fd of MAKE_IT_FAIL */
static int inject = 1;		/* 0: the control rounds, nothing fails */

/* Outcomes per operation: successes, ENOMEM, and the first other error. */
struct tally {
	const char *op;
	unsigned int ok, enomem, other;
	int first_err;
};

static struct tally tallies[] = {
	{ .op = "alloc" }, { .op = "mmap" }, { .op = "create" },
	{ .op = "attach" }, { .op = "access" }, { .op = "detach" },
	{ .op = "import" }, { .op = "prime" }, { .op = "pass" }, { .op = "move" },
};

enum { T_ALLOC, T_MMAP, T_CREATE, T_ATTACH, T_ACCESS, T_DETACH, T_IMPORT,
       T_PRIME, T_PASS, T_MOVE };

/* Moves: made, refused (storage unchanged), and rounds with wrong bytes. */
static unsigned int moved, unmoved, move_bad;

static int write_knob(const char *dir, const char *knob, const char *val)
{
	char path[400];

	snprintf(path, sizeof(path), "%s/%s", dir, knob);
	return write_file(path, val);
}

/*
 * Mark (@on) or unmark every kmalloc cache for failslab's cache filter;
 * returns how many took the mark.  (slub_debug on the command line keeps
 * caches unmerged, which the mark requires.)
 */
static int mark_kmalloc_caches(int on)
{
	DIR *d = opendir(SLAB_DIR);
	struct dirent *e;
	char dir[300];
	int n = 0;

	if (!d)
		return 0;
	while ((e = readdir(d))) {
		if (strncmp(e->d_name, "kmalloc-", 8) || !strncmp(e->d_name, "kmalloc-rcl", 11))
			continue;
		snprintf(dir, sizeof(dir), SLAB_DIR "/%s", e->d_name);
		if (!write_knob(dir, "failslab", on ? "1" : "0"))
			n++;
	}
	closedir(d);
	return n;
}

/*
 * Probability @percent (0: off) for this thread's allocations only.  The
 * probability goes last when arming and first when disarming: with it
 * non-zero and the task filter off, every task's allocations would fail.
 */
static int arm(const char *dir, const char *percent, int page_alloc)
{
	int off = percent[0] == '0';
	int r = 0;

	if (off)
		return write_knob(dir, "probability", "0") |
		       write_knob(dir, "task-filter", "N");
	r |= write_knob(dir, "task-filter", "Y");
	r |= write_knob(dir, "interval", "1");
	r |= write_knob(dir, "times", "-1");
	r |= write_knob(dir, "space", "0");
	r |= write_knob(dir, "verbose", "0");
	r |= write_knob(dir, "ignore-gfp-wait", "N");
	if (page_alloc) {
		r |= write_knob(dir, "ignore-gfp-highmem", "N");
		r |= write_knob(dir, "min-order", FAIL_MIN_ORDER);
	} else {
		r |= write_knob(dir, "cache-filter", "Y");
	}
	return r | write_knob(dir, "probability", percent);
}

static void faults(int on)
{
	if (pwrite(make_it_fail, on && inject ? "1" : "0", 1, 0) != 1) {
		/* Nothing useful to do but stop: output would fail too. */
		_exit(3);
	}
}

/*
 * Record the outcome @rc (>= 0 or -errno) of @op; returns rc.  An
 * allocation failure is ENOMEM, except that a socket whose buffer cannot be
 * allocated says ENOBUFS (sendmsg(2)).
 */
static long note(int op, long rc)
{
	struct tally *t = &tallies[op];

	if (rc >= 0)
		t->ok++;
	else if (rc == -ENOMEM || (op == T_PASS && rc == -ENOBUFS))
		t->enomem++;
	else if (!t->other++)
		t->first_err = (int)-rc;
	return rc;
}

/* /dev/dmabuf: ALLOC, mmap and touch, munmap, close. */
static void round_alloc(uint64_t *rng)
{
	size_t len = (1 + rng_next(rng) % 64) * page_size;
	void *p;
	int fd;

	if (rng_next(rng) % 8 == 0)
		len = (1 + rng_next(rng) % 4) * MiB;
	faults(1);
	fd = alloc_buf(len, O_RDWR | O_CLOEXEC);
	faults(0);
	if (note(T_ALLOC, fd) < 0)
		return;
	faults(1);
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	faults(0);
	if (note(T_MMAP, p == MAP_FAILED ? -errno : 0) == 0) {
		touch_pages(p, len, 1);
		munmap(p, len);
	}
	close(fd);
}

/* The demo pair: deferred storage allocated at the first map. */
static void round_demo(uint64_t *rng, int imp)
{
	size_t len = (1 + rng_next(rng) % 256) * page_size;
	struct dmabuf_demo_access acc;
	int fd;

	faults(1);
	fd = demo_create(len, O_RDWR | O_CLOEXEC);
	faults(0);
	if (note(T_CREATE, fd) < 0)
		return;
	faults(1);
	if (note(T_ATTACH, demo_attach(imp, fd)) == 0) {
		note(T_ACCESS, demo_access(imp, fd, DMABUF_DEMO_ACCESS_WRITE,
					   (uint32_t)rng_next(rng), &acc));
		faults(0);
		/* Detach must work whatever failed before it: no faults. */
		note(T_DETACH, demo_detach(imp, fd));
	}
	faults(0);
	close(fd);
}

/* A /dev/dmabuf buffer into the demo importer. */
static void round_import(uint64_t *rng, int imp)
{
	struct dmabuf_demo_access acc;
	int fd = alloc_buf((1 + rng_next(rng) % 32) * page_size, O_RDWR | O_CLOEXEC);

	if (fd < 0)
		return;
	faults(1);
	if (note(T_IMPORT, demo_attach(imp, fd)) == 0) {
		note(T_ACCESS, demo_access(imp, fd, DMABUF_DEMO_ACCESS_READ, 0, &acc));
		faults(0);
		note(T_DETACH, demo_detach(imp, fd));
	}
	faults(0);
	close(fd);
}

/* vgem PRIME import of our buffer (an interop path in the kernel's code). */
static void round_prime(uint64_t *rng, int vgem)
{
	int fd = alloc_buf((1 + rng_next(rng) % 32) * page_size, O_RDWR | O_CLOEXEC);
	__u32 handle;

	if (fd < 0)
		return;
	faults(1);
	if (note(T_PRIME, vgem_prime_import(vgem, fd, &handle)) == 0) {
		faults(0);
		vgem_gem_close(vgem, handle);
	}
	faults(0);
	close(fd);
}

/* SCM_RIGHTS of a buffer fd to ourselves. */
static void round_pass(uint64_t *rng, int sv[2])
{
	int fd = alloc_buf((1 + rng_next(rng) % 8) * page_size, O_RDWR | O_CLOEXEC);
	char byte;
	int got;

	if (fd < 0)
		return;
	faults(1);
	if (note(T_PASS, send_fd(sv[0], fd, "x", 1)) == 0) {
		faults(0);
		got = recv_fd(sv[1], &byte, 1);
		if (got >= 0)
			close(got);
		else
			note(T_PASS, got);
	}
	faults(0);
	close(fd);
}

/*
 * The 32-bit importer attaches to a /dev/dmabuf buffer, which moves it
 * when its pages lie above 4 GiB: faults hit the new storage, the table
 * and the importer's records.  Moved or not, the process's mapping and
 * the device read the pattern written before; not moved, no move counted.
 */
static void round_move(uint64_t *rng, int imp32)
{
	size_t len = (1 + rng_next(rng) % 4) * MiB;
	uint32_t seed = (uint32_t)rng_next(rng);
	struct dmabuf_demo_access acc;
	struct dmabuf_core_query q;
	uint64_t want;
	long r;
	void *p;
	int fd;

	fd = alloc_buf(len, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return;
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED || fill_pattern(p, len, seed, 0)) {
		if (p != MAP_FAILED)
			munmap(p, len);
		close(fd);
		return;
	}
	want = demo_checksum(p, len);
	faults(1);
	r = note(T_MOVE, demo_attach(imp32, fd));
	faults(0);
	if (query(fd, &q)) {
		move_bad++;
	} else if (r) {
		unmoved++;
		if (q.moves)
			move_bad++;
	} else {
		moved += q.moves;
		if (demo_access(imp32, fd, DMABUF_DEMO_ACCESS_READ, 0, &acc) ||
		    acc.checksum != want)
			move_bad++;
		demo_detach(imp32, fd);
	}
	if (demo_checksum(p, len) != want)
		move_bad++;
	munmap(p, len);
	close(fd);
}

/* One round of every path. */
static void one_round(uint64_t *rng, int imp, int imp32, int vgem, int sv[2])
{
	round_alloc(rng);
	round_demo(rng, imp);
	round_import(rng, imp);
	round_prime(rng, vgem);
	round_pass(rng, sv);
	round_move(rng, imp32);
}

static int demo_live(uint64_t *created, uint64_t *released)
{
	struct dmabuf_demo_exporter_stats es;
	int r = demo_exporter_stats(&es);

	if (r)
		return r;
	*created = es.created;
	*released = es.released;
	return 0;
}

int main(int argc, char **argv)
{
	unsigned int rounds = argc > 1 ? (unsigned int)atoi(argv[1]) : 400;
	const char *percent = argc > 2 ? argv[2] : "10";
	struct dmabuf_core_stats s0, s1;
	uint64_t rng = 0x5eed, c0 = 0, r0 = 0, c1 = 0, r1 = 0;
	unsigned int i, injected = 0;
	int marked;
	int imp, imp32, vgem, sv[2] = { -1, -1 }, fds0, fds1 = 0;
	char summary[512];
	size_t n = 0;

	tap_init("t_faults");
	printf("# t_faults: %u rounds, %s%% of allocations failing, seed 0x%llx\n",
	       rounds, percent, (unsigned long long)rng);

	tg_begin("fault injection is set up for this thread");
	make_it_fail = open(MAKE_IT_FAIL, O_WRONLY | O_CLOEXEC);
	CHECK(make_it_fail >= 0, "open %s: %s", MAKE_IT_FAIL, errstr(errno));
	CHECK(!arm(FAILSLAB, percent, 0), "failslab knobs not writable");
	CHECK(!arm(FAIL_PAGE, percent, 1), "fail_page_alloc knobs not writable");
	marked = mark_kmalloc_caches(1);
	CHECK(marked > 0, "no kmalloc cache takes failslab's mark");
	/* The shared node fds, opened before any fault can hit them. */
	CHECK(dev_fd() >= 0, "open %s", DMABUF_DEV);
	CHECK(exporter_fd() >= 0, "open %s", EXPORTER_DEV);
	imp = importer_open(0);
	CHECK(imp >= 0, "importer node: %s", errstr(-imp));
	imp32 = importer_open(1);
	CHECK(imp32 >= 0, "32-bit importer node: %s", errstr(-imp32));
	vgem = vgem_open();
	CHECK(vgem >= 0, "vgem card: %s", errstr(-vgem));
	CHECK(!socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, sv),
	      "socketpair: %s", errstr(errno));
	if (!tg_end())
		goto out;

	fds0 = count_open_fds();
	expect_rc("STATS before", stats(&s0), 0);
	demo_live(&c0, &r0);

	tg_begin("every injected failure is ENOMEM, the rest works");
	/*
	 * Control: the same rounds with injection off must all succeed, or
	 * a path that always fails would pass below as "failed with ENOMEM".
	 */
	inject = 0;
	for (i = 0; i < 4; i++)
		one_round(&rng, imp, imp32, vgem, sv);
	for (i = 0; i < ARRAY_SIZE(tallies); i++) {
		struct tally *t = &tallies[i];

		CHECK(t->ok > 0 && !t->enomem && !t->other,
		      "%s with injection off: %u worked, %u ENOMEM, %u other (first %s)",
		      t->op, t->ok, t->enomem, t->other, errstr(t->first_err));
		t->ok = t->enomem = t->other = 0;
		t->first_err = 0;
	}
	inject = 1;
	for (i = 0; i < rounds; i++)
		one_round(&rng, imp, imp32, vgem, sv);
	for (i = 0; i < ARRAY_SIZE(tallies); i++) {
		struct tally *t = &tallies[i];

		injected += t->enomem;
		CHECK(!t->other, "%s: %u errors other than ENOMEM, first %s",
		      t->op, t->other, errstr(t->first_err));
		n += snprintf(summary + n, sizeof(summary) - n, "%s%s %u/%u",
			      i ? ", " : "", t->op, t->enomem,
			      t->ok + t->enomem + t->other);
	}
	CHECK(injected > 0, "no operation ever failed: is injection armed?");
	tg_note("ENOMEM/tries: %s (%d kmalloc caches, orders >= " FAIL_MIN_ORDER ")",
		summary, marked);
	tg_end();

	tg_begin("a move that fails leaves the storage, and no byte changes");
	CHECK(!move_bad, "%u move rounds with wrong bytes or a move counted on failure",
	      move_bad);
	tg_note("%u moves made, %u attaches refused with the storage left in place",
		moved, unmoved);
	tg_end();

	arm(FAILSLAB, "0", 0);
	arm(FAIL_PAGE, "0", 1);

	tg_begin("after the faults, counters and fds are back at baseline");
	CHECK(read_param_ll(FAILSLAB "/probability") == 0 &&
	      read_param_ll(FAIL_PAGE "/probability") == 0,
	      "fault injection still on: failslab %lld, fail_page_alloc %lld",
	      read_param_ll(FAILSLAB "/probability"), read_param_ll(FAIL_PAGE "/probability"));
	close(sv[0]);
	close(sv[1]);
	close(vgem);
	close(imp);
	close(imp32);
	fds1 = count_open_fds();
	CHECK(fds1 == fds0 - 5, "open fds before %d, after %d (5 closed)", fds0, fds1);
	if (expect_rc("STATS after", stats(&s1), 0)) {
		CHECK_U64("live_buffers vs baseline", s1.live_buffers, s0.live_buffers);
		CHECK_U64("system_pages vs baseline", s1.system_pages, s0.system_pages);
		CHECK_U64("live_bytes vs baseline", s1.live_bytes, s0.live_bytes);
		CHECK_U64("released delta vs exported delta",
			  s1.released - s0.released, s1.exported - s0.exported);
	}
	if (!demo_live(&c1, &r1))
		CHECK_U64("demo buffers released vs created", r1 - r0, c1 - c0);
	tg_note("%llu buffers through /dev/dmabuf, %llu demo buffers",
		(unsigned long long)(s1.exported - s0.exported),
		(unsigned long long)(c1 - c0));
	tg_end();
out:
	arm(FAILSLAB, "0", 0);
	arm(FAIL_PAGE, "0", 1);
	mark_kmalloc_caches(0);
	return tap_finish();
}
