// SPDX-License-Identifier: GPL-2.0-only
/*
 * t_share: buffers shared between processes (SCM_RIGHTS, fork) and
 * threads, concurrency, and a final leak check.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "lib/tap.h"

#define PROG "t_share"

static char res[128];	/* scratch for mem_result() in the parent */

/* What travels with a passed fd. */
struct fd_msg {
	uint64_t id;
	uint64_t size;
	uint64_t seed;
};

/* ------------------------------------------------------------------ */
/* SCM_RIGHTS to a forked child                                        */

/* arg: the socketpair; the child keeps [1] and drops the parent's [0]. */
static int child_writer(void *arg, char *msg, size_t msglen)
{
	int sock = ((int *)arg)[1];
	struct dmabuf_core_query q;
	struct fd_msg m;
	void *p;
	int fd, r;

	alarm(60);
	close(((int *)arg)[0]);
	fd = recv_fd(sock, &m, sizeof(m));
	if (fd < 0) {
		snprintf(msg, msglen, "child: recv_fd: %s", errstr(-fd));
		return 1;
	}
	r = query(fd, &q);
	if (r < 0) {
		snprintf(msg, msglen, "child: QUERY: %s", errstr(-r));
		return 1;
	}
	if (q.id != m.id || q.size != m.size) {
		snprintf(msg, msglen, "child: QUERY id %llu size %llu, parent "
			 "had id %llu size %llu", (unsigned long long)q.id,
			 (unsigned long long)q.size, (unsigned long long)m.id,
			 (unsigned long long)m.size);
		return 1;
	}
	p = mmap(NULL, m.size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED) {
		snprintf(msg, msglen, "child: mmap: %s", errstr(errno));
		return 1;
	}
	r = sync_buf(fd, DMABUF_CORE_SYNC_START | DMABUF_CORE_SYNC_WRITE);
	if (r == 0)
		r = fill_pattern(p, m.size, m.seed, 0) ? -EFAULT : 0;
	if (r == 0)
		r = sync_buf(fd, DMABUF_CORE_SYNC_END | DMABUF_CORE_SYNC_WRITE);
	if (r < 0) {
		snprintf(msg, msglen, "child: SYNC/fill: %s", errstr(-r));
		return 1;
	}
	munmap(p, m.size);
	close(fd);
	close(sock);
	return 0;
}

static void test_scm_child(void)
{
	struct dmabuf_core_stats s0, s1, s2;
	const size_t len = 8 * page_size;
	struct fd_msg m;
	struct child c;
	char msg[1024];
	size_t bad;
	void *p = MAP_FAILED, *p2;
	int sv[2], fd = -1, r;

	tg_begin("SCM_RIGHTS to a forked child: same id, child's writes visible");
	expect_rc("STATS before", stats(&s0), 0);
	if (!CHECK(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv) == 0,
		   "socketpair: %s", errstr(errno)))
		goto out;
	/* Fork before allocating: the child only has the buffer via SCM_RIGHTS. */
	r = child_start(&c, child_writer, sv);
	close(sv[1]);
	if (!expect_rc("fork", r, 0)) {
		close(sv[0]);
		goto out;
	}
	fd = alloc_buf(len, O_RDWR | O_CLOEXEC);
	if (expect_rc("alloc", fd, 0)) {
		m.id = buf_id(fd);
		m.size = len;
		m.seed = 0xc0ffee;
		CHECK(m.id != 0, "QUERY id failed");
		p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		CHECK(p != MAP_FAILED, "parent mmap: %s", errstr(errno));
		expect_rc("send_fd", send_fd(sv[0], fd, &m, sizeof(m)), 0);
	}
	/* A failed send leaves the child at EOF: it fails and exits. */
	close(sv[0]);
	if (child_wait(&c, msg, sizeof(msg)) < 0)
		tg_fail("%s", msg);
	if (fd < 0)
		goto out;
	if (p != MAP_FAILED) {
		r = check_pattern(p, len, 0xc0ffee, 0, &bad);
		CHECK(r == 0, "parent's mapping after child exit: %s",
		      mem_result(r, bad, res, sizeof(res)));
	}
	p2 = mmap(NULL, len, PROT_READ, MAP_SHARED, fd, 0);
	if (CHECK(p2 != MAP_FAILED, "parent second mmap: %s", errstr(errno))) {
		r = check_pattern(p2, len, 0xc0ffee, 0, &bad);
		CHECK(r == 0, "parent's new mapping: %s",
		      mem_result(r, bad, res, sizeof(res)));
		munmap(p2, len);
	}
	if (expect_rc("STATS after child exit", stats(&s1), 0))
		CHECK_U64("live_buffers delta while parent holds it",
			  s1.live_buffers - s0.live_buffers, 1);
	if (p != MAP_FAILED)
		munmap(p, len);
	close(fd);
	if (expect_rc("STATS after parent close", stats(&s2), 0)) {
		CHECK_U64("live_buffers after both closed", s2.live_buffers,
			  s0.live_buffers);
		CHECK_U64("released delta", s2.released - s0.released, 1);
		CHECK_U64("exported delta", s2.exported - s0.exported, 1);
	}
out:
	tg_end();
}

/* ------------------------------------------------------------------ */
/* SCM_RIGHTS to self, and an fd left in flight                        */

static void test_scm_self(void)
{
	struct dmabuf_core_stats s0, s1, s2;
	struct dmabuf_core_query q;
	struct fd_msg m = { 0 };
	size_t bad;
	void *p;
	int sv[2], fd, rfd, r;

	tg_begin("SCM_RIGHTS to self: received fd is the same buffer, outlives the original");
	expect_rc("STATS before", stats(&s0), 0);
	if (!CHECK(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv) == 0,
		   "socketpair: %s", errstr(errno)))
		goto out;
	fd = alloc_buf(2 * page_size, O_RDWR);
	if (!expect_rc("alloc", fd, 0))
		goto out_sock;
	m.id = buf_id(fd);
	p = mmap(NULL, 2 * page_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (CHECK(p != MAP_FAILED, "mmap: %s", errstr(errno))) {
		fill_pattern(p, 2 * page_size, 0xabc, 0);
		munmap(p, 2 * page_size);
	}
	expect_rc("send_fd", send_fd(sv[0], fd, &m, sizeof(m)), 0);
	close(fd);
	rfd = recv_fd(sv[1], &m, sizeof(m));
	if (expect_rc("recv_fd", rfd, 0)) {
		if (expect_rc("QUERY received fd", query(rfd, &q), 0)) {
			CHECK_U64("id", q.id, m.id);
			CHECK_U64("size", q.size, 2 * page_size);
		}
		p = mmap(NULL, 2 * page_size, PROT_READ, MAP_SHARED, rfd, 0);
		if (CHECK(p != MAP_FAILED, "mmap received fd: %s", errstr(errno))) {
			r = check_pattern(p, 2 * page_size, 0xabc, 0, &bad);
			CHECK(r == 0, "data via received fd: %s",
			      mem_result(r, bad, res, sizeof(res)));
			munmap(p, 2 * page_size);
		}
		if (expect_rc("STATS with only the received fd", stats(&s1), 0))
			CHECK_U64("live_buffers delta", s1.live_buffers - s0.live_buffers, 1);
		close(rfd);
	}
	if (expect_rc("STATS after close", stats(&s2), 0)) {
		CHECK_U64("live_buffers after close", s2.live_buffers, s0.live_buffers);
		CHECK_U64("released delta", s2.released - s0.released, 1);
	}
out_sock:
	close(sv[0]);
	close(sv[1]);
out:
	tg_end();
}

static void test_in_flight(void)
{
	struct dmabuf_core_stats s0, s1, s2;
	double t0, waited = 0;
	int sv[2], fd;

	tg_begin("fd still in flight is released when the socket is closed");
	expect_rc("STATS before", stats(&s0), 0);
	if (!CHECK(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv) == 0,
		   "socketpair: %s", errstr(errno)))
		goto out;
	fd = alloc_buf(page_size, O_RDWR);
	if (expect_rc("alloc", fd, 0)) {
		expect_rc("send_fd", send_fd(sv[0], fd, NULL, 0), 0);
		close(fd);
		if (expect_rc("STATS while in flight", stats(&s1), 0))
			CHECK_U64("live_buffers delta while in flight",
				  s1.live_buffers - s0.live_buffers, 1);
	}
	close(sv[1]);
	close(sv[0]);
	/*
	 * The socket layer drops in-flight files itself; allow it a moment
	 * rather than testing unix socket internals.
	 */
	t0 = now_sec();
	for (;;) {
		if (stats(&s2) < 0 || s2.live_buffers == s0.live_buffers)
			break;
		waited = now_sec() - t0;
		if (waited > 2.0)
			break;
		usleep(10000);
	}
	CHECK_U64("live_buffers after closing the socket", s2.live_buffers,
		  s0.live_buffers);
	CHECK_U64("released delta", s2.released - s0.released, 1);
	if (waited > 0)
		tg_note("release seen after %.0f ms", waited * 1000);
out:
	tg_end();
}

/* ------------------------------------------------------------------ */
/* fork with an inherited mapping                                      */

struct fork_arg {
	void *p;
	size_t len;
};

static int child_fork_writer(void *arg, char *msg, size_t msglen)
{
	struct fork_arg *a = arg;
	size_t bad;
	int r;

	alarm(60);
	r = check_pattern(a->p, a->len, 0xf00d, 0, &bad);
	if (r) {
		snprintf(msg, msglen, "child: inherited mapping: %s",
			 mem_result(r, bad, (char[128]){0}, 128));
		return 1;
	}
	r = fill_pattern(a->p, a->len, 0xbeef, 0);
	if (r) {
		snprintf(msg, msglen, "child: write via inherited mapping: %s",
			 mem_result(r, 0, (char[128]){0}, 128));
		return 1;
	}
	return 0;
}

static void test_fork_mapping(void)
{
	struct dmabuf_core_stats s0, s1;
	struct fork_arg a = { .len = 4 * page_size };
	struct child c;
	char msg[1024];
	size_t bad;
	int fd, r;

	tg_begin("fork: child writes through the inherited mapping, parent sees it");
	expect_rc("STATS before", stats(&s0), 0);
	fd = alloc_buf(a.len, O_RDWR | O_CLOEXEC);
	if (!expect_rc("alloc", fd, 0))
		goto out;
	a.p = mmap(NULL, a.len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	if (!CHECK(a.p != MAP_FAILED, "mmap: %s", errstr(errno)))
		goto out;
	fill_pattern(a.p, a.len, 0xf00d, 0);
	r = child_start(&c, child_fork_writer, &a);
	if (expect_rc("fork", r, 0) && child_wait(&c, msg, sizeof(msg)) < 0)
		tg_fail("%s", msg);
	r = check_pattern(a.p, a.len, 0xbeef, 0, &bad);
	CHECK(r == 0, "parent after child exit: %s",
	      mem_result(r, bad, res, sizeof(res)));
	munmap(a.p, a.len);
	if (expect_rc("STATS after", stats(&s1), 0)) {
		CHECK_U64("live_buffers after munmap", s1.live_buffers, s0.live_buffers);
		CHECK_U64("released delta", s1.released - s0.released, 1);
	}
out:
	tg_end();
}

/* ------------------------------------------------------------------ */
/* Concurrent processes                                                */

#define CONC_PROCS	4
#define CONC_ITERS	300
#define CONC_MAX_PAGES	64

static int child_churn(void *arg, char *msg, size_t msglen)
{
	uint64_t rng = (uint64_t)(uintptr_t)arg * 0x9E3779B97F4A7C15ULL ^
		       (uint64_t)getpid() << 32 ^ (uint64_t)time(NULL);
	struct dmabuf_core_query q;
	int sv[2];

	alarm(300);
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
		snprintf(msg, msglen, "socketpair: %s", errstr(errno));
		return 1;
	}
	for (int i = 0; i < CONC_ITERS; i++) {
		size_t pages = rng_next(&rng) % CONC_MAX_PAGES + 1;
		size_t len = pages * page_size, bad;
		uint64_t seed = rng_next(&rng), id;
		void *p = MAP_FAILED, *p2 = MAP_FAILED;
		int fd, fd2 = -1, r, fail = 1;
		off_t end;

		fd = alloc_buf(len, O_RDWR | (i & 1 ? O_CLOEXEC : 0));
		if (fd < 0) {
			snprintf(msg, msglen, "iter %d: alloc(%zu pages): %s", i,
				 pages, errstr(-fd));
			break;
		}
		end = lseek(fd, 0, SEEK_END);
		if (end != (off_t)len) {
			snprintf(msg, msglen, "iter %d: size %lld, expected %zu",
				 i, (long long)end, len);
			goto next;
		}
		r = query(fd, &q);
		if (r < 0 || q.size != len || !q.id) {
			snprintf(msg, msglen, "iter %d: QUERY %s size %llu id %llu",
				 i, errstr(-r), (unsigned long long)q.size,
				 (unsigned long long)q.id);
			goto next;
		}
		id = q.id;
		p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		if (p == MAP_FAILED) {
			snprintf(msg, msglen, "iter %d: mmap(%zu pages): %s", i,
				 pages, errstr(errno));
			goto next;
		}
		r = check_zero(p, len, &bad);
		if (r) {
			snprintf(msg, msglen, "iter %d: fresh buffer: %s", i,
				 mem_result(r, bad, (char[128]){0}, 128));
			goto next;
		}
		sync_buf(fd, DMABUF_CORE_SYNC_START | DMABUF_CORE_SYNC_RW);
		r = fill_pattern(p, len, seed, 0);
		if (!r)
			r = check_pattern(p, len, seed, 0, &bad);
		sync_buf(fd, DMABUF_CORE_SYNC_END | DMABUF_CORE_SYNC_RW);
		if (r) {
			snprintf(msg, msglen, "iter %d: write/verify: %s", i,
				 mem_result(r, bad, (char[128]){0}, 128));
			goto next;
		}
		r = send_fd(sv[0], fd, &id, sizeof(id));
		if (r < 0) {
			snprintf(msg, msglen, "iter %d: send_fd: %s", i, errstr(-r));
			goto next;
		}
		fd2 = recv_fd(sv[1], &id, sizeof(id));
		if (fd2 < 0) {
			snprintf(msg, msglen, "iter %d: recv_fd: %s", i, errstr(-fd2));
			goto next;
		}
		r = query(fd2, &q);
		if (r < 0 || q.id != id) {
			snprintf(msg, msglen, "iter %d: received fd: QUERY %s id "
				 "%llu, expected %llu", i, errstr(-r),
				 (unsigned long long)q.id, (unsigned long long)id);
			goto next;
		}
		p2 = mmap(NULL, len, PROT_READ, MAP_SHARED, fd2, 0);
		if (p2 == MAP_FAILED) {
			snprintf(msg, msglen, "iter %d: mmap received fd: %s", i,
				 errstr(errno));
			goto next;
		}
		r = check_pattern(p2, len, seed, 0, &bad);
		if (r) {
			snprintf(msg, msglen, "iter %d: via received fd: %s", i,
				 mem_result(r, bad, (char[128]){0}, 128));
			goto next;
		}
		fail = 0;
next:
		if (p2 != MAP_FAILED)
			munmap(p2, len);
		if (p != MAP_FAILED)
			munmap(p, len);
		if (fd2 >= 0)
			close(fd2);
		close(fd);
		if (fail)
			break;
		if (i == CONC_ITERS - 1) {
			close(sv[0]);
			close(sv[1]);
			return 0;
		}
	}
	close(sv[0]);
	close(sv[1]);
	return 1;
}

static void test_concurrent(void)
{
	struct dmabuf_core_stats s0, s1;
	struct child c[CONC_PROCS];
	char msg[1024];
	double t0 = now_sec();
	int started = 0;

	tg_begin("concurrent: 4 processes x 300 alloc/mmap/verify/pass cycles");
	if (!expect_rc("STATS before", stats(&s0), 0))
		goto out;
	for (int i = 0; i < CONC_PROCS; i++) {
		int r = child_start(&c[i], child_churn, (void *)(uintptr_t)(i + 1));

		if (expect_rc("fork", r, 0))
			started++;
		else
			c[i].pid = -1;
	}
	for (int i = 0; i < CONC_PROCS; i++) {
		if (c[i].pid < 0)
			continue;
		if (child_wait(&c[i], msg, sizeof(msg)) < 0)
			tg_fail("child %d: %s", i, msg);
	}
	if (expect_rc("STATS after", stats(&s1), 0)) {
		CHECK_U64("live_buffers after", s1.live_buffers, s0.live_buffers);
		CHECK_U64("live_bytes after", s1.live_bytes, s0.live_bytes);
		CHECK_U64("system_pages after", s1.system_pages, s0.system_pages);
		CHECK_U64("exported delta", s1.exported - s0.exported,
			  (uint64_t)started * CONC_ITERS);
		CHECK_U64("released delta vs exported delta",
			  s1.released - s0.released, s1.exported - s0.exported);
	}
	tg_note("%d buffers in %.1f s", started * CONC_ITERS, now_sec() - t0);
out:
	tg_end();
}

/* ------------------------------------------------------------------ */
/* Threads sharing one fd                                              */

#define THR_N		4
#define THR_ITERS	1000
#define THR_PAGES	4	/* pages per thread */

struct thr {
	pthread_t tid;
	int idx;
	int fd;
	uint64_t id;
	char msg[512];
};

static uint64_t thr_seed(int t, int iter)
{
	return ((uint64_t)t << 32) | (uint64_t)iter;
}

static void *thr_main(void *arg)
{
	struct thr *t = arg;
	const size_t total = THR_N * THR_PAGES * page_size;
	const size_t mine = THR_PAGES * page_size, off = t->idx * mine;
	struct dmabuf_core_query q;
	uint64_t rng = 0x1234567ULL + t->idx;

	for (int i = 0; i < THR_ITERS; i++) {
		uint64_t seed = thr_seed(t->idx, i);
		size_t bad;
		char *p, *w;
		int r, d;

		p = mmap(NULL, total, PROT_READ | PROT_WRITE, MAP_SHARED, t->fd, 0);
		if (p == MAP_FAILED) {
			snprintf(t->msg, sizeof(t->msg), "iter %d: mmap: %s", i,
				 errstr(errno));
			return NULL;
		}
		r = sync_buf(t->fd, DMABUF_CORE_SYNC_START | DMABUF_CORE_SYNC_RW);
		if (r < 0) {
			snprintf(t->msg, sizeof(t->msg), "iter %d: SYNC START: %s",
				 i, errstr(-r));
			munmap(p, total);
			return NULL;
		}
		r = fill_pattern(p + off, mine, seed, off);
		if (!r)
			r = check_pattern(p + off, mine, seed, off, &bad);
		if (r) {
			snprintf(t->msg, sizeof(t->msg), "iter %d: own region: %s",
				 i, mem_result(r, bad, (char[128]){0}, 128));
			munmap(p, total);
			return NULL;
		}
		r = sync_buf(t->fd, DMABUF_CORE_SYNC_END | DMABUF_CORE_SYNC_RW);
		if (r < 0) {
			snprintf(t->msg, sizeof(t->msg), "iter %d: SYNC END: %s",
				 i, errstr(-r));
			munmap(p, total);
			return NULL;
		}
		r = query(t->fd, &q);
		if (r < 0 || q.id != t->id || q.size != total) {
			snprintf(t->msg, sizeof(t->msg), "iter %d: QUERY %s id %llu "
				 "size %llu", i, errstr(-r),
				 (unsigned long long)q.id, (unsigned long long)q.size);
			munmap(p, total);
			return NULL;
		}
		munmap(p, total);

		/* A window onto the own region only: offsets under concurrency. */
		if (rng_next(&rng) % 4 == 0) {
			w = mmap(NULL, mine, PROT_READ, MAP_SHARED, t->fd, off);
			if (w == MAP_FAILED) {
				snprintf(t->msg, sizeof(t->msg),
					 "iter %d: window mmap: %s", i, errstr(errno));
				return NULL;
			}
			r = check_pattern(w, mine, seed, off, &bad);
			munmap(w, mine);
			if (r) {
				snprintf(t->msg, sizeof(t->msg), "iter %d: window: %s",
					 i, mem_result(r, bad, (char[128]){0}, 128));
				return NULL;
			}
		}
		/* fd references taken and dropped concurrently. */
		if (i % 16 == 0) {
			d = dup(t->fd);
			if (d < 0 || buf_id(d) != t->id) {
				snprintf(t->msg, sizeof(t->msg), "iter %d: dup/QUERY: %s",
					 i, errstr(errno));
				if (d >= 0)
					close(d);
				return NULL;
			}
			close(d);
		}
	}
	return NULL;
}

static void test_threads(void)
{
	struct dmabuf_core_stats s0, s1;
	const size_t total = THR_N * THR_PAGES * page_size;
	struct thr t[THR_N];
	size_t bad;
	void *p;
	int fd, r, created = 0;

	tg_begin("threads: 4 threads x 1000 mmap/SYNC/QUERY/munmap on one fd");
	expect_rc("STATS before", stats(&s0), 0);
	fd = alloc_buf(total, O_RDWR);
	if (!expect_rc("alloc", fd, 0))
		goto out;
	for (int i = 0; i < THR_N; i++) {
		t[i].idx = i;
		t[i].fd = fd;
		t[i].id = buf_id(fd);
		t[i].msg[0] = 0;
		r = pthread_create(&t[i].tid, NULL, thr_main, &t[i]);
		if (!CHECK(r == 0, "pthread_create: %s", errstr(r)))
			break;
		created++;
	}
	for (int i = 0; i < created; i++) {
		pthread_join(t[i].tid, NULL);
		if (t[i].msg[0])
			tg_fail("thread %d: %s", i, t[i].msg);
	}
	if (created == THR_N && tg_ok()) {
		p = mmap(NULL, total, PROT_READ, MAP_SHARED, fd, 0);
		if (CHECK(p != MAP_FAILED, "final mmap: %s", errstr(errno))) {
			for (int i = 0; i < THR_N; i++) {
				size_t off = i * THR_PAGES * page_size;

				r = check_pattern((char *)p + off, THR_PAGES * page_size,
						  thr_seed(i, THR_ITERS - 1), off, &bad);
				CHECK(r == 0, "final contents of thread %d's region: %s",
				      i, mem_result(r, bad, res, sizeof(res)));
			}
			munmap(p, total);
		}
	}
	close(fd);
	if (expect_rc("STATS after", stats(&s1), 0)) {
		CHECK_U64("live_buffers after", s1.live_buffers, s0.live_buffers);
		CHECK_U64("released delta", s1.released - s0.released, 1);
	}
out:
	tg_end();
}

/* ------------------------------------------------------------------ */
/* Leak check: keep last                                               */

#define LEAK_CYCLES	3000
#define LEAK_PAGES	16
#define LEAK_SLACK_KIB	(16 * 1024)
#define LEAK_WARMUP	50

/* One cycle; returns 0 or -errno / -signal-ish, sets *what. */
static int leak_cycle(int i, int sv[2], const char **what)
{
	const size_t len = LEAK_PAGES * page_size;
	void *p;
	int fd, fd2, r;

	fd = alloc_buf(len, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		*what = "alloc";
		return fd;
	}
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED) {
		r = -errno;
		close(fd);
		*what = "mmap";
		return r;
	}
	r = touch_pages(p, len, 1);
	munmap(p, len);
	if (r) {
		close(fd);
		*what = "touching the mapping faulted";
		return -EFAULT;
	}
	if (i % 10 == 0) {
		r = send_fd(sv[0], fd, NULL, 0);
		if (r < 0) {
			close(fd);
			*what = "send_fd";
			return r;
		}
		fd2 = recv_fd(sv[1], NULL, 0);
		if (fd2 < 0) {
			close(fd);
			*what = "recv_fd";
			return fd2;
		}
		close(fd2);
	}
	close(fd);
	return 0;
}

/*
 * Free memory for the leak check (KiB): MemFree, and on a kernel that
 * holds freed slab objects back (the debug kernel's KASAN quarantine)
 * unreclaimable slab too: kmemleak finds slab leaks there.
 */
static long long free_kib(void)
{
	long long f = meminfo_kib("MemFree");

	if (f >= 0 && harness_slab_quarantine())
		f += meminfo_kib("SUnreclaim");
	return f;
}

static void test_leak(void)
{
	struct dmabuf_core_stats s0, s1;
	long long m0, m1, delta, slack;
	const char *what = "";
	int sv[2], fds0, fds1, errors = 0, first_err = 0, first_i = -1, mem_ok;

	tg_begin("leak");
	if (!CHECK(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) == 0,
		   "socketpair: %s", errstr(errno)))
		goto out;
	/* Let caches and per-cpu lists settle before the baseline. */
	for (int i = 0; i < LEAK_WARMUP; i++)
		leak_cycle(i, sv, &what);

	fds0 = count_open_fds();
	expect_rc("STATS before", stats(&s0), 0);
	m0 = free_kib();
	for (int i = 0; i < LEAK_CYCLES; i++) {
		const char *w = "";
		int r = leak_cycle(i, sv, &w);

		if (r) {
			if (!errors++) {
				first_err = r;
				first_i = i;
				what = w;
			}
		}
	}
	m1 = free_kib();
	fds1 = count_open_fds();
	close(sv[0]);
	close(sv[1]);

	CHECK(errors == 0, "%d of %d cycles failed, first at cycle %d: %s: %s",
	      errors, LEAK_CYCLES, first_i, what, errstr(-first_err));
	CHECK(fds0 == fds1, "open fds before %d, after %d", fds0, fds1);
	if (expect_rc("STATS after", stats(&s1), 0)) {
		CHECK_U64("live_buffers vs baseline", s1.live_buffers, s0.live_buffers);
		CHECK_U64("system_pages vs baseline", s1.system_pages, s0.system_pages);
		CHECK_U64("live_bytes vs baseline", s1.live_bytes, s0.live_bytes);
		CHECK_U64("exported delta", s1.exported - s0.exported,
			  LEAK_CYCLES - errors);
		CHECK_U64("released delta vs exported delta",
			  s1.released - s0.released, s1.exported - s0.exported);
	}
	if (!CHECK(m0 > 0 && m1 > 0, "MemFree not readable from /proc/meminfo"))
		goto out;
	delta = m1 - m0;
	/*
	 * A leak shows as less free memory; more free memory is no leak.  The
	 * slack is far below the churn (LEAK_CYCLES * LEAK_PAGES pages).
	 */
	slack = LEAK_SLACK_KIB;
	mem_ok = CHECK(delta >= -slack,
		       "MemFree before %lld KiB, after %lld KiB: delta %lld KiB, "
		       "allowed -%lld KiB", m0, m1, delta, slack);
	tg_note("%d cycles, %llu MiB churned, MemFree delta %lld KiB",
		LEAK_CYCLES,
		(unsigned long long)LEAK_CYCLES * LEAK_PAGES * page_size / MiB,
		delta);
	/* Keep the measurement visible on a FAIL line too. */
	if (!tg_ok() && mem_ok)
		tg_fail("(MemFree before %lld KiB, after %lld KiB, delta %lld KiB)",
			m0, m1, delta);
out:
	tg_end();
}

int main(void)
{
	tap_init(PROG);

	test_scm_child();
	test_scm_self();
	test_in_flight();
	test_fork_mapping();
	test_concurrent();
	test_threads();
	test_leak();	/* keep last */

	return tap_finish();
}
