// SPDX-License-Identifier: GPL-2.0-only
/*
 * t_kmem: what a member of group video can make the demo nodes keep, and
 * how their ioctls and faults behave under signals.
 *
 * - One open importer node holds at most max_holds attachments (ENOSPC).
 * - A video user in a cgroup with memory.max 6M attaching buffers (made by
 *   a creator in another cgroup, passed over a socket) and closing their
 *   fds, across as many importer fds as the cap asks for, is refused with
 *   ENOMEM: the holds are charged to it, nothing is OOM-killed, and all
 *   goes when it exits.  The creator's cgroup pays for the buffers.
 * - An importer ioctl waiting for the file's lock, held by an ACCESS that
 *   waits for a vgem fence, sleeps interruptibly and returns EINTR.
 * - read(2) into a fresh demo buffer's mapping completes while the reader
 *   is hit by a stream of signals and the buffer's lock is contended.
 * - Chunk and segment counts are 0 for a video user, set for root.
 *
 * Runs as root with the demo modules and vgem loaded.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "lib/cg.h"
#include "lib/demo.h"
#include "lib/tap.h"
#include "lib/vgem.h"

#define MAX_HOLDS_PARAM	"/sys/module/dmabuf_demo_importer/parameters/max_holds"
#define CG_HOLDER	CG_ROOT "/t_kmem_holder"
#define CG_CREATOR	CG_ROOT "/t_kmem_creator"
#define HOLDER_MAX	"6M"
#define VIDEO_GID	44
#define TESTER_UID	1000
#define BATCH		200		/* fds per message, under SCM_MAX_FD */
#define MAX_CYCLES	100000		/* far beyond what 6M can hold */
#define NR_IMPORTERS	64		/* x max_holds: more than MAX_CYCLES */

static const char *const nodes[] = { EXPORTER_DEV, "/dev/dmabuf-demo-importer0" };
static struct stat node_st[ARRAY_SIZE(nodes)];

/* The udev rule's owner and mode for the nodes, as a real system has. */
static int nodes_for_video(void)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(nodes); i++)
		if (stat(nodes[i], &node_st[i]) || chown(nodes[i], 0, VIDEO_GID) ||
		    chmod(nodes[i], 0660))
			return -errno;
	return 0;
}

static void nodes_restore(void)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(nodes); i++)
		if (chown(nodes[i], node_st[i].st_uid, node_st[i].st_gid) ||
		    chmod(nodes[i], node_st[i].st_mode & 07777))
			tg_fail("could not restore %s", nodes[i]);
}

/* Become uid 1000 in group video, for good. */
static int drop_to_tester(void)
{
	gid_t groups[] = { VIDEO_GID };

	if (setgroups(1, groups) || setgid(TESTER_UID) || setuid(TESTER_UID))
		return -errno;
	exporter_close();	/* opened as root: the user opens its own */
	return 0;
}

static long long max_holds(void)
{
	return read_param_ll(MAX_HOLDS_PARAM);
}

static void test_cap(void)
{
	long long cap = max_holds();
	long long loop = cap > 0 ? cap : 4096;
	int imp, fd, r = 0;
	long long n;

	tg_begin("one importer fd holds exactly max_holds attachments, the next ATTACH is ENOSPC");
	CHECK(cap > 0 && cap <= 65536, "max_holds parameter: %lld", cap);
	imp = importer_open(0);
	if (!expect_rc("open importer0", imp, 0)) {
		tg_end();
		return;
	}
	for (n = 0; n <= loop; n++) {
		fd = demo_create(4096, O_RDWR | O_CLOEXEC);
		if (fd < 0) {
			tg_fail("CREATE %lld: %s", n, errstr(-fd));
			break;
		}
		r = demo_attach(imp, fd);
		close(fd);
		if (r)
			break;
	}
	CHECK(r == -ENOSPC && n == cap, "%lld holds, then %s", n,
	      r ? errstr(-r) : "no refusal");
	close(imp);
	tg_note("%lld holds", n);
	tg_end();
}

/* Child's answer to each batch. */
struct holder_report {
	int stopped;		/* 1: refused with err; 2: out of importer fds */
	int err;		/* errno of the refusal */
	long long holds;
	int importer_fds;	/* opened and used */
};

static int recv_batch(int sock, int *fds, int max)
{
	char cbuf[CMSG_SPACE(sizeof(int) * BATCH)];
	struct msghdr mh = { 0 };
	struct cmsghdr *c;
	struct iovec iov;
	int n = 0, dummy;

	iov.iov_base = &dummy;
	iov.iov_len = sizeof(dummy);
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = cbuf;
	mh.msg_controllen = sizeof(cbuf);
	if (recvmsg(sock, &mh, MSG_CMSG_CLOEXEC) <= 0)
		return -1;
	for (c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c))
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
			n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
			if (n > max)
				return -1;
			memcpy(fds, CMSG_DATA(c), n * sizeof(int));
		}
	return dummy == 0 ? n : -2;	/* -2: the parent says exit */
}

static int send_batch(int sock, const int *fds, int n, int cmd)
{
	char cbuf[CMSG_SPACE(sizeof(int) * BATCH)];
	struct msghdr mh = { 0 };
	struct cmsghdr *c;
	struct iovec iov;

	iov.iov_base = &cmd;
	iov.iov_len = sizeof(cmd);
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	if (n) {
		mh.msg_control = cbuf;
		mh.msg_controllen = CMSG_SPACE(sizeof(int) * n);
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int) * n);
		memcpy(CMSG_DATA(c), fds, n * sizeof(int));
	}
	return sendmsg(sock, &mh, 0) < 0 ? -errno : 0;
}

/*
 * Child, in CG_HOLDER as the tester: ATTACH each buffer received and close
 * its fd, on the next importer fd when one is full, until refused; then
 * keep everything until told to exit.
 */
static int holder(int sock, int done, struct holder_report *rep)
{
	int imp[NR_IMPORTERS], fds[BATCH];
	int i, n, r, cur = 0;

	if (cg_join(CG_HOLDER) || drop_to_tester())
		return 100;
	/*
	 * Opened up front, and the report's page touched: an open, a page
	 * table or a socket buffer at the limit would be the kernel's to
	 * refuse, with the cgroup's OOM killer.  Answers go through an
	 * eventfd, which allocates nothing.
	 */
	memset(rep, 0, sizeof(*rep));
	for (i = 0; i < NR_IMPORTERS; i++) {
		imp[i] = importer_open(0);
		if (imp[i] < 0)
			return 101;
	}
	while ((n = recv_batch(sock, fds, BATCH)) >= 0) {
		for (i = 0; i < n; i++) {
			r = rep->stopped ? 0 : demo_attach(imp[cur], fds[i]);
			while (r == -ENOSPC && ++cur < NR_IMPORTERS)
				r = demo_attach(imp[cur], fds[i]);
			if (!r && !rep->stopped)
				rep->holds++;
			else if (!rep->stopped)
				rep->stopped = cur < NR_IMPORTERS ? 1 : 2, rep->err = -r;
			close(fds[i]);
		}
		rep->importer_fds = cur + 1;
		if (eventfd_write(done, 1))
			return 102;
	}
	return n == -2 ? 0 : 103;	/* the exit releases everything */
}

/* The holder's answer to a batch, 0; or -1 when none came in 60 s. */
static int wait_holder(int done)
{
	struct pollfd p = { .fd = done, .events = POLLIN };
	eventfd_t ev;

	if (poll(&p, 1, 60 * 1000) != 1)
		return -1;
	return eventfd_read(done, &ev) ? -1 : 0;
}

static void test_memcg_holds(void)
{
	long long kills0 = keyed("/proc/vmstat", "oom_kill"), created = 0;
	long long cr_slab0, cr_slab1, ho_cur, ho_slab, ho_events, cap = max_holds();
	struct dmabuf_demo_exporter_stats e0, e1;
	struct holder_report rep = { 0 }, *shared;
	char events[160];
	int sv[2], fds[BATCH], i, n, status = 0, tries, done;
	struct timespec t0, t1;
	pid_t pid;

	tg_begin("holds of a video user in a cgroup with memory.max " HOLDER_MAX
		 " end in ENOMEM, charged, nothing killed");
	if (!CHECK(!cg_make(CG_CREATOR, "1G") && !cg_make(CG_HOLDER, HOLDER_MAX),
		   "making the cgroups") ||
	    !CHECK(!cg_join(CG_CREATOR), "joining " CG_CREATOR) ||
	    !CHECK(!nodes_for_video(), "chown/chmod the demo nodes") ||
	    !CHECK(!socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv),
		   "socketpair") ||
	    !expect_rc("exporter stats", demo_exporter_stats(&e0), 0)) {
		tg_end();
		return;
	}
	shared = mmap(NULL, sizeof(*shared), PROT_READ | PROT_WRITE,
		      MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	done = eventfd(0, EFD_CLOEXEC);
	if (!CHECK(shared != MAP_FAILED && done >= 0, "mmap/eventfd: %s", errstr(errno))) {
		tg_end();
		return;
	}
	memset(shared, 0, sizeof(*shared));
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		close(sv[0]);
		_exit(holder(sv[1], done, shared));
	}
	close(sv[1]);
	cr_slab0 = cg_stat(CG_CREATOR, "slab_unreclaimable");
	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (pid > 0 && created < MAX_CYCLES) {
		for (n = 0; n < BATCH; n++) {
			fds[n] = demo_create(4096, O_RDWR | O_CLOEXEC);
			if (fds[n] < 0)
				break;
		}
		created += n;
		if (n < BATCH)
			tg_fail("CREATE after %lld: %s", created, errstr(-fds[n]));
		else if (send_batch(sv[0], fds, n, 0) || wait_holder(done))
			tg_fail("the holder stopped answering after %lld", created);
		rep = *shared;
		for (i = 0; i < n; i++)
			close(fds[i]);
		if (!tg_ok() || rep.stopped)
			break;
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	/* Measured while the holder keeps everything. */
	cr_slab1 = cg_stat(CG_CREATOR, "slab_unreclaimable");
	ho_cur = cg_current(CG_HOLDER);
	ho_slab = cg_stat(CG_HOLDER, "slab_unreclaimable");
	snprintf(events, sizeof(events), "%s/memory.events", CG_HOLDER);
	ho_events = keyed(events, "max");

	CHECK(rep.stopped == 1 && rep.err == ENOMEM,
	      "after %lld holds on %d importer fds: %s", rep.holds, rep.importer_fds,
	      rep.stopped == 1 ? errstr(rep.err) :
	      rep.stopped ? "out of importer fds" : "never refused");
	CHECK(rep.holds > 1000, "only %lld holds", rep.holds);
	CHECK(cap <= 0 || rep.importer_fds > 1 || rep.holds < cap,
	      "%lld holds on one importer fd", rep.holds);
	CHECK(ho_events > 0, "memory.events max of the holder: %lld", ho_events);
	/* An attachment record alone is 128 bytes. */
	CHECK(ho_slab >= rep.holds * 96, "holder slab_unreclaimable %lld for %lld holds",
	      ho_slab, rep.holds);
	CHECK(ho_cur >= ho_slab, "holder memory.current %lld, slab %lld", ho_cur, ho_slab);
	tg_note("%lld holds on %d importer fds in %ld s, holder memory.current %lld, "
		"slab_unreclaimable %lld (%lld per hold)", rep.holds, rep.importer_fds,
		(long)(t1.tv_sec - t0.tv_sec), ho_cur, ho_slab,
		rep.holds ? ho_slab / rep.holds : 0);

	send_batch(sv[0], NULL, 0, 1);
	close(sv[0]);
	close(done);
	munmap(shared, sizeof(*shared));
	CHECK(pid > 0 && waitpid(pid, &status, 0) == pid, "fork/wait");
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "holder %s %d",
	      WIFEXITED(status) ? "exit" : "signal",
	      WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
	CHECK(keyed(events, "oom_kill") == 0, "holder memory.events oom_kill %lld",
	      keyed(events, "oom_kill"));
	CHECK(keyed("/proc/vmstat", "oom_kill") == kills0, "vmstat oom_kill %lld -> %lld",
	      kills0, keyed("/proc/vmstat", "oom_kill"));
	/* The last fput of a buffer may run from a workqueue after the exit. */
	for (tries = 0; tries < 50; tries++) {
		if (demo_exporter_stats(&e1) ||
		    e1.created - e0.created == e1.released - e0.released)
			break;
		usleep(100 * 1000);
	}
	CHECK(e1.created - e0.created == (unsigned long long)created &&
	      e1.released - e0.released == (unsigned long long)created,
	      "%lld created, exporter stats: created %llu, released %llu", created,
	      (unsigned long long)(e1.created - e0.created),
	      (unsigned long long)(e1.released - e0.released));
	CHECK(cg_current(CG_HOLDER) < (long long)MiB, "holder memory.current %lld after the exit",
	      cg_current(CG_HOLDER));
	nodes_restore();
	tg_end();

	tg_begin("a buffer and its records are charged to the cgroup of its creator");
	/* Its file (the kernel's), its core record and its demo record. */
	CHECK(created && (cr_slab1 - cr_slab0) / created >= 448,
	      "creator slab_unreclaimable %lld -> %lld for %lld buffers", cr_slab0,
	      cr_slab1, created);
	tg_note("%lld bytes of unreclaimable slab per buffer",
		created ? (cr_slab1 - cr_slab0) / created : 0);
	tg_end();

	cg_join(CG_ROOT);
	rmdir(CG_HOLDER);
	rmdir(CG_CREATOR);
}

static pid_t gettid_(void)
{
	return (pid_t)syscall(SYS_gettid);
}

/* State letter of thread @tid, and whether it sits in ioctl(2). */
static char thread_state(pid_t tid, int *in_ioctl)
{
	char path[64], buf[512], *p;
	long nr = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/task/%d/syscall", (int)tid);
	f = fopen(path, "re");
	if (f) {
		if (fscanf(f, "%ld", &nr) != 1)
			nr = -1;
		fclose(f);
	}
	*in_ioctl = nr == SYS_ioctl;
	snprintf(path, sizeof(path), "/proc/self/task/%d/stat", (int)tid);
	f = fopen(path, "re");
	if (!f)
		return '?';
	p = fgets(buf, sizeof(buf), f) ? strrchr(buf, ')') : NULL;
	fclose(f);
	return p && p[1] == ' ' ? p[2] : '?';
}

/* Wait up to 5 s for @tid to sleep in ioctl(2): its state, or 0. */
static char wait_asleep_in_ioctl(pid_t tid)
{
	int i, in_ioctl;
	char s;

	for (i = 0; i < 500; i++) {
		s = thread_state(tid, &in_ioctl);
		if (in_ioctl && (s == 'S' || s == 'D'))
			return s;
		usleep(10 * 1000);
	}
	return 0;
}

struct access_thread {
	int imp, fd;
	volatile pid_t tid;
	volatile int ret;
	volatile int done;
};

static void *do_access(void *arg)
{
	struct access_thread *t = arg;

	t->tid = gettid_();
	t->ret = demo_access(t->imp, t->fd, DMABUF_DEMO_ACCESS_READ, 0, NULL);
	t->done = 1;
	return NULL;
}

static void on_signal(int sig)
{
	(void)sig;
}

static void test_lock_interruptible(void)
{
	struct t_vgem_fence_attach fa = { .flags = T_VGEM_FENCE_WRITE };
	struct t_vgem_fence_signal fs = { 0 };
	struct access_thread a = { 0 }, b = { 0 };
	struct sigaction sa = { .sa_handler = on_signal };	/* no SA_RESTART */
	pthread_t ta, tb;
	int vgem, imp, fd1 = -1, fd2 = -1, i, started_a = 0, started_b = 0;
	__u32 handle = 0;
	char sa_state, sb_state = 0;

	tg_begin("an importer ioctl behind an ACCESS waiting for a fence sleeps interruptibly, EINTR");
	vgem = vgem_open();
	imp = importer_open(0);
	fd1 = demo_create(64 * KiB, O_RDWR | O_CLOEXEC);
	fd2 = demo_create(64 * KiB, O_RDWR | O_CLOEXEC);
	if (!expect_rc("vgem", vgem, 0) || !expect_rc("importer", imp, 0) ||
	    !expect_rc("create", fd1, 0) || !expect_rc("create", fd2, 0) ||
	    !expect_rc("PRIME import", vgem_prime_import(vgem, fd1, &handle), 0))
		goto out;
	fa.handle = handle;
	if (!CHECK(ioctl(vgem, T_DRM_IOCTL_VGEM_FENCE_ATTACH, &fa) == 0,
		   "VGEM_FENCE_ATTACH: %s", errstr(errno)))
		goto out;
	sigaction(SIGUSR1, &sa, NULL);

	a = (struct access_thread){ .imp = imp, .fd = fd1 };
	started_a = !pthread_create(&ta, NULL, do_access, &a);
	for (i = 0; i < 500 && started_a && !a.tid; i++)
		usleep(10 * 1000);
	sa_state = a.tid ? wait_asleep_in_ioctl(a.tid) : 0;
	if (!CHECK(sa_state == 'S' && !a.done, "ACCESS under the fence: state %c, %s",
		   sa_state ? sa_state : '-', a.done ? "returned" : "waiting"))
		goto out_signal;

	b = (struct access_thread){ .imp = imp, .fd = fd2 };
	started_b = !pthread_create(&tb, NULL, do_access, &b);
	for (i = 0; i < 500 && started_b && !b.tid; i++)
		usleep(10 * 1000);
	sb_state = b.tid ? wait_asleep_in_ioctl(b.tid) : 0;
	CHECK(sb_state == 'S', "the sibling ioctl waits in state %c",
	      sb_state ? sb_state : '-');
	if (started_b)
		pthread_kill(tb, SIGUSR1);
	for (i = 0; i < 300 && !b.done; i++)
		usleep(10 * 1000);
	CHECK(b.done && b.ret == -EINTR, "sibling after SIGUSR1: %s",
	      b.done ? (b.ret ? errstr(-b.ret) : "0") : "still waiting");
	CHECK(!a.done, "the fenced ACCESS returned early: %d", a.ret);

out_signal:
	fs.fence = fa.out_fence;
	CHECK(ioctl(vgem, T_DRM_IOCTL_VGEM_FENCE_SIGNAL, &fs) == 0,
	      "VGEM_FENCE_SIGNAL: %s", errstr(errno));
	if (started_a) {
		pthread_join(ta, NULL);
		expect_rc("the fenced ACCESS after the signal", a.ret, 0);
	}
	if (started_b)
		pthread_join(tb, NULL);
	tg_note("sibling state %c", sb_state ? sb_state : '-');
out:
	if (handle)
		vgem_gem_close(vgem, handle);
	if (fd1 >= 0)
		close(fd1);
	if (fd2 >= 0)
		close(fd2);
	if (imp >= 0)
		close(imp);
	if (vgem >= 0)
		close(vgem);
	tg_end();
}

#define FAULT_LEN	(256 * KiB)

struct fault_ctx {
	int buf, src;
	const unsigned char *want;
	volatile int stop;
	volatile pid_t reader_tid;
	pthread_t reader;
	long iterations, bad, verifies;
	char first_bad[160];
};

static volatile long signals_seen;

static void count_signal(int sig)
{
	(void)sig;
	signals_seen++;
}

/* The buffer's lock, taken and held for a whole pass over the buffer. */
static void *do_verify(void *arg)
{
	struct fault_ctx *c = arg;
	struct dmabuf_demo_pattern p;

	while (!c->stop)
		if (!demo_verify(c->buf, 0, &p))
			c->verifies++;
	return NULL;
}

static void *do_signals(void *arg)
{
	struct fault_ctx *c = arg;

	while (!c->stop) {
		pthread_kill(c->reader, SIGUSR2);
		usleep(200);
	}
	return NULL;
}

/*
 * The reader goes on until the signals and the VERIFYs it raced with are
 * enough to mean something, not for a fixed time: a debug kernel under TCG
 * delivers a signal only each time a slow pass returns to user space.
 */
#define FAULT_MIN_SECONDS	4
#define FAULT_MAX_SECONDS	180
#define FAULT_MIN_SIGNALS	100

static int fault_enough(const struct fault_ctx *c, long seconds)
{
	if (seconds < FAULT_MIN_SECONDS)
		return 0;
	if (seconds >= FAULT_MAX_SECONDS)
		return 1;
	return signals_seen >= FAULT_MIN_SIGNALS && c->verifies > 0;
}

/* Fresh mappings, each faulted in by the kernel's copy of read(2). */
static void *do_reads(void *arg)
{
	struct fault_ctx *c = arg;
	struct timespec t0, t;
	unsigned char *map;
	ssize_t n;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	do {
		map = mmap(NULL, FAULT_LEN, PROT_READ | PROT_WRITE, MAP_SHARED, c->buf, 0);
		if (map == MAP_FAILED) {
			snprintf(c->first_bad, sizeof(c->first_bad), "mmap: %s", errstr(errno));
			c->bad++;
			break;
		}
		n = pread(c->src, map, FAULT_LEN, 0);
		if (n != (ssize_t)FAULT_LEN || memcmp(map, c->want, FAULT_LEN)) {
			if (!c->bad)
				snprintf(c->first_bad, sizeof(c->first_bad),
					 "pass %ld: pread %zd%s%s", c->iterations, n,
					 n < 0 ? ", " : "", n < 0 ? errstr(errno) : "");
			c->bad++;
		}
		munmap(map, FAULT_LEN);
		c->iterations++;
		clock_gettime(CLOCK_MONOTONIC, &t);
	} while (!fault_enough(c, t.tv_sec - t0.tv_sec));
	return NULL;
}

static void test_fault_signals(void)
{
	struct sigaction sa = { .sa_handler = count_signal, .sa_flags = SA_RESTART };
	static const char path[] = "/tmp/t_kmem.src";
	struct fault_ctx c = { .buf = -1, .src = -1 };
	pthread_t verifier, signaller;
	unsigned char *want;
	size_t i;

	tg_begin("read(2) into a fresh demo buffer's mapping completes under a stream of signals");
	want = malloc(FAULT_LEN);
	if (!CHECK(want, "malloc"))
		goto out;
	for (i = 0; i < FAULT_LEN; i++)
		want[i] = (unsigned char)(i * 131 + 7);
	c.want = want;
	c.src = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (!CHECK(c.src >= 0 && write(c.src, want, FAULT_LEN) == (ssize_t)FAULT_LEN,
		   "writing %s: %s", path, errstr(errno)))
		goto out;
	c.buf = demo_create(FAULT_LEN, O_RDWR | O_CLOEXEC);
	if (!expect_rc("create", c.buf, 0))
		goto out;
	sigaction(SIGUSR2, &sa, NULL);
	signals_seen = 0;

	if (!CHECK(!pthread_create(&c.reader, NULL, do_reads, &c), "pthread_create"))
		goto out;
	if (pthread_create(&verifier, NULL, do_verify, &c) ||
	    pthread_create(&signaller, NULL, do_signals, &c)) {
		tg_fail("pthread_create");
		c.stop = 1;
		pthread_join(c.reader, NULL);
		goto out;
	}
	pthread_join(c.reader, NULL);
	c.stop = 1;
	pthread_join(signaller, NULL);
	pthread_join(verifier, NULL);

	CHECK(!c.bad, "%ld of %ld reads wrong, first: %s", c.bad, c.iterations, c.first_bad);
	CHECK(c.iterations > 0 && signals_seen >= FAULT_MIN_SIGNALS && c.verifies > 0,
	      "%ld passes, %ld signals, %ld VERIFYs within %d s", c.iterations,
	      signals_seen, c.verifies, FAULT_MAX_SECONDS);
	tg_note("%ld passes of %llu KiB, %ld signals, %ld VERIFYs holding the lock",
		c.iterations, FAULT_LEN / KiB, signals_seen, c.verifies);
out:
	if (c.buf >= 0)
		close(c.buf);
	if (c.src >= 0)
		close(c.src);
	unlink(path);
	free(want);
	tg_end();
}

/* What ACCESS and STORAGE tell about a buffer's layout. */
struct layout {
	int err;
	__u32 chunks, segments, allocated;
	__u64 largest_chunk, largest_segment;
};

static struct layout look(void)
{
	struct dmabuf_demo_pattern fill;
	struct dmabuf_demo_storage st;
	struct dmabuf_demo_access acc;
	struct layout l = { 0 };
	int imp, fd;

	imp = importer_open(0);
	fd = demo_create(256 * KiB, O_RDWR | O_CLOEXEC);
	if (imp < 0 || fd < 0) {
		l.err = imp < 0 ? -imp : -fd;
		goto out;
	}
	l.err = -demo_fill(fd, 3, &fill);
	if (!l.err)
		l.err = -demo_storage(fd, &st);
	if (!l.err)
		l.err = -demo_access(imp, fd, DMABUF_DEMO_ACCESS_READ, 0, &acc);
	if (!l.err && acc.checksum != fill.checksum)
		l.err = EIO;
	if (!l.err) {
		l.allocated = st.allocated;
		l.chunks = st.chunks;
		l.largest_chunk = st.largest_chunk;
		l.segments = acc.segments;
		l.largest_segment = acc.largest_segment;
	}
out:
	if (fd >= 0)
		close(fd);
	if (imp >= 0)
		close(imp);
	return l;
}

static void test_layout_hidden(void)
{
	struct layout root, user = { .err = ECHILD };
	int pfd[2], status = 0;
	pid_t pid;

	tg_begin("chunk and segment counts are 0 for a video user, set for root");
	root = look();
	CHECK(!root.err && root.allocated && root.chunks && root.largest_chunk &&
	      root.segments && root.largest_segment,
	      "root: %s, chunks %u largest %llu, segments %u largest %llu",
	      root.err ? errstr(root.err) : "ok", root.chunks,
	      (unsigned long long)root.largest_chunk, root.segments,
	      (unsigned long long)root.largest_segment);
	if (!CHECK(!nodes_for_video(), "chown/chmod the demo nodes") ||
	    !CHECK(!pipe2(pfd, O_CLOEXEC), "pipe")) {
		tg_end();
		return;
	}
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		struct layout l = { .err = EPERM };

		close(pfd[0]);
		if (!drop_to_tester())
			l = look();
		_exit(write(pfd[1], &l, sizeof(l)) == sizeof(l) ? 0 : 1);
	}
	close(pfd[1]);
	if (read(pfd[0], &user, sizeof(user)) != sizeof(user))
		user.err = ECHILD;
	close(pfd[0]);
	if (pid > 0)
		waitpid(pid, &status, 0);
	nodes_restore();
	CHECK(!user.err && user.allocated, "tester: %s, allocated %u",
	      user.err ? errstr(user.err) : "ok", user.allocated);
	CHECK(!user.chunks && !user.largest_chunk && !user.segments && !user.largest_segment,
	      "tester sees chunks %u largest %llu, segments %u largest %llu", user.chunks,
	      (unsigned long long)user.largest_chunk, user.segments,
	      (unsigned long long)user.largest_segment);
	tg_end();
}

int main(void)
{
	struct dmabuf_demo_exporter_stats e0, e1;
	struct dmabuf_core_stats s0;

	tap_init("t_kmem");
	expect_rc("STATS before", stats(&s0), 0);
	expect_rc("exporter stats before", demo_exporter_stats(&e0), 0);

	test_cap();
	test_memcg_holds();
	test_lock_interruptible();
	test_fault_signals();
	test_layout_hidden();

	tg_begin("every demo buffer released");
	if (expect_rc("exporter stats after", demo_exporter_stats(&e1), 0))
		CHECK(e1.created - e0.created == e1.released - e0.released,
		      "created %llu, released %llu",
		      (unsigned long long)(e1.created - e0.created),
		      (unsigned long long)(e1.released - e0.released));
	tg_end();
	exporter_close();
	expect_stats_baseline(&s0);
	return tap_finish();
}
