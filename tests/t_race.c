// SPDX-License-Identifier: GPL-2.0-only
/*
 * t_race: races between threads and processes, each many iterations.  On
 * the debug kernel the guest has truly parallel vCPUs (multi-threaded TCG),
 * so lockdep, KASAN and the refcount checks see real concurrency; on the
 * stock kernels the threads interleave on preemption.
 *
 *   - close of an fd in one thread while others import it;
 *   - attach/detach/map/unmap of one buffer from several importers and
 *     threads, the data checked;
 *   - signals, and SIGKILL, during allocation and first map;
 *   - page faults racing munmap and the last close;
 *   - rmmod of the importer racing its open, attach and last close;
 *   - counters read while buffers churn;
 *   - fds passed over sockets while being closed.
 *
 *   t_race [-n SCALE]
 *
 * SCALE (default dmabuf_harness.race_scale=, else 1) multiplies every
 * iteration count.  Runs as root with the demo modules loaded (importer
 * with dma_bits=64,32 max_seg_kb=0,64, as run-tests.sh loads it).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "lib/demo.h"
#include "lib/tap.h"

#define IMPORTER_KO	"/modules/dmabuf_demo_importer.ko"
#define IMPORTER_ARGS	"dma_bits=64,32 max_seg_kb=0,64"
#define MAX_THREADS	8

static unsigned long scale = 1;

/* Shared by the threads of one race. */
static atomic_int stop;
static atomic_int shared_fd = -1;
static atomic_ulong unexpected;
static pthread_mutex_t msg_lock = PTHREAD_MUTEX_INITIALIZER;
static char first_msg[256];

static void race_fail(const char *fmt, ...) TAP_PRINTF(1, 2);
static void race_fail(const char *fmt, ...)
{
	va_list ap;

	if (atomic_fetch_add(&unexpected, 1) == 0) {
		pthread_mutex_lock(&msg_lock);
		va_start(ap, fmt);
		vsnprintf(first_msg, sizeof(first_msg), fmt, ap);
		va_end(ap);
		pthread_mutex_unlock(&msg_lock);
	}
}

static void race_reset(void)
{
	atomic_store(&stop, 0);
	atomic_store(&shared_fd, -1);
	atomic_store(&unexpected, 0);
	first_msg[0] = 0;
}

/* Report the threads' findings in the open group. */
static void race_report(void)
{
	unsigned long n = atomic_load(&unexpected);

	if (n)
		tg_fail("%lu unexpected results, the first: %s", n, first_msg);
}

typedef void *(*thread_fn)(void *);

/* Start @n threads running @fn(@arg + i); 0 or -errno. */
static int start_threads(pthread_t *t, int n, thread_fn fn, void *args,
			 size_t argsize)
{
	int i, r;

	for (i = 0; i < n; i++) {
		r = pthread_create(&t[i], NULL, fn, (char *)args + i * argsize);
		if (r) {
			atomic_store(&stop, 1);
			while (i--)
				pthread_join(t[i], NULL);
			return -r;
		}
	}
	return 0;
}

static void join_threads(pthread_t *t, int n)
{
	while (n--)
		pthread_join(t[n], NULL);
}

/* ------------------------------------------------------------------ */
/* 1. close of an fd while others import it                            */

struct importer_arg {
	int imp;
	unsigned long done, attached;
};

/* Times an importer thread picked up the published fd. */
static atomic_ulong picked;

static void *closer(void *arg)
{
	unsigned long i, n = *(unsigned long *)arg;

	for (i = 0; i < n; i++) {
		int fd = alloc_buf(page_size * (1 + i % 4), O_RDWR | O_CLOEXEC);
		unsigned long seen = atomic_load(&picked), spins;

		if (fd < 0) {
			race_fail("ALLOC: %s", errstr(-fd));
			break;
		}
		atomic_store(&shared_fd, fd);
		/*
		 * Close only once an importer has the fd in hand (or after a
		 * while): the close then races its attach, instead of most
		 * buffers coming and going before any importer looked.
		 */
		for (spins = 0; spins < 1000 && atomic_load(&picked) == seen; spins++)
			sched_yield();
		atomic_store(&shared_fd, -1);
		close(fd);
	}
	atomic_store(&stop, 1);
	return NULL;
}

/* Import whatever fd is published; it may be closed (or reused) meanwhile. */
static void *importer_thread(void *arg)
{
	struct importer_arg *a = arg;
	struct dmabuf_core_query q;
	int r;

	while (!atomic_load(&stop)) {
		int fd = atomic_load(&shared_fd);

		if (fd < 0)
			continue;
		atomic_fetch_add(&picked, 1);
		r = demo_attach(a->imp, fd);
		if (!r) {
			a->attached++;
			r = demo_detach(a->imp, fd);
			/* fd may now name another buffer: then ENOENT. */
			if (r && r != -ENOENT && r != -EBADF && r != -EINVAL)
				race_fail("DETACH: %s", errstr(-r));
		} else if (r != -EBADF && r != -EINVAL && r != -EBUSY) {
			race_fail("ATTACH: %s", errstr(-r));
		}
		r = query(fd, &q);
		if (r && r != -EBADF && r != -EINVAL)
			race_fail("QUERY: %s", errstr(-r));
		a->done++;
	}
	return NULL;
}

static void race_close_vs_import(void)
{
	struct importer_arg args[3] = { { .imp = -1 }, { .imp = -1 }, { .imp = -1 } };
	unsigned long n = 1500 * scale, done = 0, attached = 0;
	pthread_t t[4];
	int i, r;

	tg_begin("close of an fd while three threads import it");
	race_reset();
	for (i = 0; i < 3; i++) {
		args[i].imp = importer_open(0);
		if (!CHECK(args[i].imp >= 0, "importer: %s", errstr(-args[i].imp)))
			goto out;
	}
	r = start_threads(t, 3, importer_thread, args, sizeof(args[0]));
	if (!CHECK(!r, "threads: %s", errstr(-r)))
		goto out;
	if (!CHECK(!pthread_create(&t[3], NULL, closer, &n), "closer thread")) {
		atomic_store(&stop, 1);
		join_threads(t, 3);
		goto out;
	}
	join_threads(t, 4);
	race_report();
	for (i = 0; i < 3; i++) {
		done += args[i].done;
		attached += args[i].attached;
	}
	/* The race ran only if imports of a live, published fd succeeded. */
	CHECK(attached > 0, "no attach ever succeeded in %lu imports", done);
	tg_note("%lu buffers closed under %lu imports, %lu attached", n, done, attached);
out:
	for (i = 0; i < 3; i++)
		if (args[i].imp >= 0)
			close(args[i].imp);
	tg_end();
}

/* ------------------------------------------------------------------ */
/* 2. attach/detach/map/unmap of one buffer from several threads        */

struct churn_arg {
	int imp;
	int fd;
	uint64_t size;
	uint64_t want;		/* checksum of the contents */
	unsigned long iters, reads;
};

static void *churn_thread(void *arg)
{
	struct churn_arg *a = arg;
	struct dmabuf_demo_access acc;
	unsigned long i;
	int r;

	for (i = 0; i < a->iters && !atomic_load(&stop); i++) {
		switch (i % 3) {
		case 0:		/* hold an attachment for a while */
			r = demo_attach(a->imp, a->fd);
			if (r && r != -EBUSY)
				race_fail("ATTACH: %s", errstr(-r));
			break;
		case 1:		/* attach (or use the held one), map, read */
			r = demo_access(a->imp, a->fd, DMABUF_DEMO_ACCESS_READ, 0, &acc);
			if (r) {
				race_fail("ACCESS READ: %s", errstr(-r));
			} else {
				a->reads++;
				if (acc.checksum != a->want)
					race_fail("ACCESS READ saw checksum %#llx, want %#llx",
						  (unsigned long long)acc.checksum,
						  (unsigned long long)a->want);
			}
			break;
		default:
			r = demo_detach(a->imp, a->fd);
			if (r && r != -ENOENT)
				race_fail("DETACH: %s", errstr(-r));
		}
	}
	demo_detach(a->imp, a->fd);
	return NULL;
}

/* CPU side: map, read, unmap the same buffer in a loop. */
static void *cpu_reader(void *arg)
{
	struct churn_arg *a = arg;
	unsigned long i;

	for (i = 0; i < a->iters && !atomic_load(&stop); i++) {
		void *p = mmap(NULL, a->size, PROT_READ, MAP_SHARED, a->fd, 0);

		if (p == MAP_FAILED) {
			race_fail("mmap: %s", strerror(errno));
			continue;
		}
		if (demo_checksum(p, a->size) != a->want)
			race_fail("the CPU read a different checksum");
		a->reads++;
		munmap(p, a->size);
	}
	return NULL;
}

static void churn_one(const char *what, int fd, uint64_t size, uint64_t want)
{
	struct churn_arg args[5];
	unsigned long reads = 0;
	pthread_t t[5];
	int i, r;

	tg_begin(what);
	race_reset();
	memset(args, 0, sizeof(args));
	for (i = 0; i < 5; i++) {
		args[i].imp = -1;
		args[i].fd = fd;
		args[i].size = size;
		args[i].want = want;
		args[i].iters = 150 * scale;
	}
	/* Four importer files of the 64-bit device, and the CPU. */
	for (i = 0; i < 4; i++) {
		args[i].imp = importer_open(0);
		if (!CHECK(args[i].imp >= 0, "importer: %s", errstr(-args[i].imp)))
			goto out;
	}
	r = start_threads(t, 4, churn_thread, args, sizeof(args[0]));
	if (!CHECK(!r, "threads: %s", errstr(-r)))
		goto out;
	if (pthread_create(&t[4], NULL, cpu_reader, &args[4])) {
		atomic_store(&stop, 1);
		join_threads(t, 4);
		tg_fail("cpu thread");
		goto out;
	}
	join_threads(t, 5);
	race_report();
	for (i = 0; i < 5; i++)
		reads += args[i].reads;
	tg_note("%lu checked reads", reads);
out:
	for (i = 0; i < 4; i++)
		if (args[i].imp >= 0)
			close(args[i].imp);
	tg_end();
}

static void race_churn(void)
{
	struct dmabuf_demo_pattern pat;
	uint64_t size = 256 * KiB;
	int fd;

	fd = alloc_buf(size, O_RDWR | O_CLOEXEC);
	if (fd >= 0) {
		void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);

		if (p != MAP_FAILED) {
			memset(p, 0x5a, size);
			churn_one("attach, map, unmap, detach of one /dev/dmabuf buffer from 4 threads and the CPU",
				  fd, size, demo_checksum(p, size));
			munmap(p, size);
		}
		close(fd);
	}
	/* Deferred storage: the first map of a thread allocates it. */
	fd = demo_create(size, O_RDWR | O_CLOEXEC);
	if (fd >= 0) {
		churn_one("attach, map, unmap, detach of one demo buffer, storage deferred, from 4 threads and the CPU",
			  fd, size, demo_zero_checksum(size));
		close(fd);
	}
	fd = demo_create(size, O_RDWR | O_CLOEXEC);
	if (fd >= 0 && !demo_fill(fd, 77, &pat)) {
		churn_one("attach, map, unmap, detach of a filled demo buffer from 4 threads and the CPU",
			  fd, size, demo_expected_checksum(size, 77));
	}
	if (fd >= 0)
		close(fd);
}

/* ------------------------------------------------------------------ */
/* 3. signals during allocation and first map                          */

/* Set by the main thread around each ALLOC and FILL. */
static volatile sig_atomic_t in_call;
/* Signals handled while one of those calls was in progress. */
static volatile sig_atomic_t hits_in_call;

static void on_usr1(int sig)
{
	(void)sig;
	if (in_call)
		hits_in_call = hits_in_call + 1;
}

struct sig_arg {
	pthread_t target;
	unsigned long sent;
};

static void *signaller(void *arg)
{
	struct sig_arg *a = arg;
	struct timespec ts = { 0, 200 * 1000 };

	while (!atomic_load(&stop)) {
		pthread_kill(a->target, SIGUSR1);
		a->sent++;
		nanosleep(&ts, NULL);
	}
	return NULL;
}

static void race_signals(void)
{
	struct sigaction sa = { .sa_handler = on_usr1 };	/* no SA_RESTART */
	struct dmabuf_demo_pattern pat;
	unsigned long i, n = 40 * scale, ok = 0, eintr = 0;
	struct sig_arg sarg = { .target = pthread_self() };
	struct dmabuf_demo_exporter_stats e0, e1;
	struct dmabuf_core_stats s0, s1;
	pthread_t t;
	int fd, r;

	tg_begin("signals during allocation and first map get success or EINTR, nothing leaked");
	race_reset();
	hits_in_call = 0;
	if (!CHECK(!stats(&s0) && !demo_exporter_stats(&e0), "STATS"))
		goto out;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGUSR1, &sa, NULL);
	if (!CHECK(!pthread_create(&t, NULL, signaller, &sarg), "signal thread"))
		goto out;
	for (i = 0; i < n; i++) {
		in_call = 1;
		fd = alloc_buf(8 * MiB, O_RDWR | O_CLOEXEC);
		in_call = 0;
		if (fd >= 0) {
			ok++;
			close(fd);
		} else if (fd == -EINTR) {
			eintr++;
		} else {
			race_fail("ALLOC: %s", errstr(-fd));
		}
		/* FILL maps a fresh demo buffer first: storage allocated then. */
		fd = demo_create(8 * MiB, O_RDWR | O_CLOEXEC);
		if (fd < 0) {
			race_fail("CREATE: %s", errstr(-fd));
			continue;
		}
		in_call = 1;
		r = demo_fill(fd, (uint32_t)i, &pat);
		in_call = 0;
		if (!r) {
			ok++;
			if (pat.checksum != demo_expected_checksum(8 * MiB, (uint32_t)i))
				race_fail("FILL checksum wrong");
		} else if (r == -EINTR) {
			eintr++;
		} else {
			race_fail("FILL: %s", errstr(-r));
		}
		close(fd);
	}
	atomic_store(&stop, 1);
	pthread_join(t, NULL);
	race_report();
	/* The race happened: signals arrived while a call was under way. */
	CHECK(hits_in_call > 0, "no signal of %lu arrived during an ALLOC or FILL",
	      sarg.sent);
	CHECK_U64("calls completed or interrupted", ok + eintr, 2 * n);
	/* Nothing leaked: the buffers, their bytes and the demo's books. */
	if (CHECK(!stats(&s1) && !demo_exporter_stats(&e1), "STATS after")) {
		CHECK_U64("live buffers", s1.live_buffers, s0.live_buffers);
		CHECK_U64("live bytes", s1.live_bytes, s0.live_bytes);
		CHECK_U64("system pages", s1.system_pages, s0.system_pages);
		CHECK_U64("demo buffers released", e1.released - e0.released,
			  e1.created - e0.created);
		CHECK_U64("demo maps unmapped", e1.unmapped - e0.unmapped,
			  e1.mapped - e0.mapped);
	}
	tg_note("%lu signals, %d during a call, %lu completed, %lu interrupted",
		sarg.sent, (int)hits_in_call, ok, eintr);
out:
	signal(SIGUSR1, SIG_DFL);
	tg_end();
}

/*
 * Shared with the killed children (MAP_SHARED): how many buffers the
 * child has held, and whether it is inside an ALLOC or FILL right now.
 */
struct kill_board {
	atomic_ulong held;
	atomic_int busy;
};

static int child_allocates(void *arg, char *msg, size_t msglen)
{
	struct kill_board *kb = arg;
	struct dmabuf_demo_pattern pat;
	int fd;

	(void)msg;
	(void)msglen;
	for (;;) {
		atomic_store(&kb->busy, 1);
		fd = alloc_buf(32 * MiB, O_RDWR);
		atomic_store(&kb->busy, 0);
		if (fd >= 0) {
			atomic_fetch_add(&kb->held, 1);
			close(fd);
		}
		fd = demo_create(32 * MiB, O_RDWR);
		if (fd >= 0) {
			atomic_store(&kb->busy, 1);
			if (!demo_fill(fd, 1, &pat))
				atomic_fetch_add(&kb->held, 1);
			atomic_store(&kb->busy, 0);
			close(fd);
		}
	}
	return 0;
}

static void race_sigkill(void)
{
	struct dmabuf_core_stats s0, s1;
	unsigned long i, n = 12 * scale, mid_call = 0, w;
	struct kill_board *kb;
	struct child c;
	int status;

	tg_begin("SIGKILL during allocation and first map leaves nothing behind");
	if (!CHECK(!stats(&s0), "STATS"))
		goto out;
	kb = mmap(NULL, sizeof(*kb), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (!CHECK(kb != MAP_FAILED, "mmap: %s", strerror(errno)))
		goto out;
	exporter_close();	/* children open their own */
	for (i = 0; i < n; i++) {
		struct timespec ts = { 0, (long)(1 + i % 7) * 3 * 1000 * 1000 };

		atomic_store(&kb->held, 0);
		atomic_store(&kb->busy, 0);
		if (child_start(&c, child_allocates, kb)) {
			tg_fail("fork: %s", strerror(errno));
			break;
		}
		/*
		 * Handshake: the child has held a buffer (its calls work),
		 * and is back inside a call, before the kill is armed.
		 */
		for (w = 0; w < 10000 && !(atomic_load(&kb->held) && atomic_load(&kb->busy)); w++)
			usleep(1000);
		if (!CHECK(atomic_load(&kb->held) > 0, "child %lu never held a buffer in %lu ms",
			   i, w)) {
			/* The others would not either: no 10 s wait for each. */
			kill(c.pid, SIGKILL);
			waitpid(c.pid, &status, 0);
			close(c.rfd);
			break;
		}
		nanosleep(&ts, NULL);
		if (atomic_load(&kb->busy))
			mid_call++;
		kill(c.pid, SIGKILL);
		waitpid(c.pid, &status, 0);
		close(c.rfd);
		CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL,
		      "child %lu ended with status %#x", i, status);
	}
	munmap(kb, sizeof(*kb));
	/* The child is inside an ALLOC or FILL nearly all the time. */
	CHECK(mid_call > 0, "no kill came during a call");
	/* The killed children's files are released as they exit. */
	for (i = 0; i < 50; i++) {
		if (!stats(&s1) && s1.live_buffers == s0.live_buffers)
			break;
		usleep(100 * 1000);
	}
	CHECK_U64("live buffers", s1.live_buffers, s0.live_buffers);
	CHECK_U64("live bytes", s1.live_bytes, s0.live_bytes);
	tg_note("%lu children killed, %lu of them inside an ALLOC or FILL", n, mid_call);
out:
	tg_end();
}

/* ------------------------------------------------------------------ */
/* 4. page faults racing munmap and the last close                     */

static char *volatile fault_map;
static volatile size_t fault_len;

static void *toucher(void *arg)
{
	unsigned long *faults = arg;

	while (!atomic_load(&stop)) {
		char *p = fault_map;
		int r;

		if (!p)
			continue;
		/* Reads only: the address may be someone else's by now. */
		r = touch_pages(p, fault_len, 0);
		if (r == -SIGSEGV)
			(*faults)++;	/* unmapped under us: expected */
		else if (r)
			race_fail("touch: signal %d", -r);
	}
	return NULL;
}

static void race_fault_vs_munmap(void)
{
	unsigned long i, n = 400 * scale, faults[2] = { 0, 0 };
	size_t len = 64 * KiB;
	pthread_t t[2];
	int r;

	tg_begin("page faults racing munmap and the last close");
	race_reset();
	fault_len = len;
	r = start_threads(t, 2, toucher, faults, sizeof(faults[0]));
	if (!CHECK(!r, "threads: %s", errstr(-r)))
		goto out;
	for (i = 0; i < n; i++) {
		int fd = i % 2 ? alloc_buf(len, O_RDWR | O_CLOEXEC) :
				 demo_create(len, O_RDWR | O_CLOEXEC);
		char *p;

		if (fd < 0) {
			race_fail("buffer: %s", errstr(-fd));
			continue;
		}
		p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		if (i % 3 == 0)
			close(fd);	/* the mapping outlives the fd */
		if (p == MAP_FAILED) {
			race_fail("mmap: %s", strerror(errno));
		} else {
			fault_map = p;
			sched_yield();
			if (i % 2)
				munmap(p + len / 2, len / 2);	/* half first */
			fault_map = NULL;
			munmap(p, len);
		}
		if (i % 3)
			close(fd);
	}
	atomic_store(&stop, 1);
	join_threads(t, 2);
	race_report();
	tg_note("%lu buffers unmapped under 2 touching threads, %lu faults on gone mappings",
		n, faults[0] + faults[1]);
out:
	tg_end();
}

/* ------------------------------------------------------------------ */
/* 5. rmmod of the importer racing open, attach and the last close     */

static long delete_module(const char *name)
{
	return syscall(SYS_delete_module, name, O_NONBLOCK);
}

static int load_importer(void)
{
	int ko = open(IMPORTER_KO, O_RDONLY | O_CLOEXEC), r;

	if (ko < 0)
		return -errno;
	r = syscall(SYS_finit_module, ko, IMPORTER_ARGS, 0) ? -errno : 0;
	close(ko);
	return r;
}

static void *opener(void *arg)
{
	unsigned long *opens = arg;
	int fd = alloc_buf(page_size, O_RDWR | O_CLOEXEC);

	if (fd < 0) {
		race_fail("ALLOC: %s", errstr(-fd));
		return NULL;
	}
	while (!atomic_load(&stop)) {
		int imp = importer_open(0), r;

		if (imp < 0) {
			/* Gone, going, or not yet registered. */
			if (imp != -ENOENT && imp != -ENODEV && imp != -ENXIO)
				race_fail("open importer: %s", errstr(-imp));
			continue;
		}
		(*opens)++;
		r = demo_attach(imp, fd);
		if (r)
			race_fail("ATTACH on an open importer: %s", errstr(-r));
		close(imp);	/* the last close detaches */
	}
	close(fd);
	return NULL;
}

static void race_rmmod(void)
{
	unsigned long i, n = 60 * scale, unloads = 0, opens[2] = { 0, 0 };
	pthread_t t[2];
	int r;

	tg_begin("rmmod of the importer racing its open, attach and last close");
	race_reset();
	r = start_threads(t, 2, opener, opens, sizeof(opens[0]));
	if (!CHECK(!r, "threads: %s", errstr(-r)))
		goto out;
	/* Past n attempts only while none has unloaded yet: the race must run. */
	for (i = 0; i < n || (!unloads && i < 10 * n); i++) {
		if (delete_module("dmabuf_demo_importer") == 0) {
			unloads++;
			r = load_importer();
			if (r) {
				race_fail("reloading the importer: %s", errstr(-r));
				break;
			}
		} else if (errno != EWOULDBLOCK && errno != EBUSY) {
			race_fail("rmmod: %s", strerror(errno));
		}
		usleep(2000);
	}
	atomic_store(&stop, 1);
	join_threads(t, 2);
	race_report();
	/* Whatever happened, leave it loaded for the tests after us. */
	if (access("/sys/module/dmabuf_demo_importer", F_OK))
		CHECK(!load_importer(), "importer not loaded at the end");
	/* Both sides of the race ran: unloads, and attaches on open files. */
	CHECK(unloads > 0, "the importer never unloaded in %lu attempts", i);
	CHECK(opens[0] + opens[1] > 0, "no open of the importer succeeded");
	tg_note("%lu rmmod attempts, %lu unloads, %lu opens", i, unloads,
		opens[0] + opens[1]);
out:
	tg_end();
}

/* ------------------------------------------------------------------ */
/* 6. counters read while buffers churn                                */

static atomic_int churners_done;

static void *churner(void *arg)
{
	unsigned long i, n = *(unsigned long *)arg;

	for (i = 0; i < n && !atomic_load(&stop); i++) {
		int fd = i % 2 ? alloc_buf(page_size * (1 + i % 16), O_RDWR) :
				 demo_create(page_size * (1 + i % 16), O_RDWR);

		if (fd < 0)
			race_fail("buffer: %s", errstr(-fd));
		else
			close(fd);
	}
	atomic_fetch_add(&churners_done, 1);
	return NULL;
}

static void race_counters(void)
{
	unsigned long n = 800 * scale, reads = 0;
	struct dmabuf_core_stats prev = { 0 }, s;
	unsigned long ns[2] = { n, n };
	char path[64], buf[512];
	pthread_t t[2];
	int r, fd;

	tg_begin("counters read while two threads churn buffers");
	race_reset();
	atomic_store(&churners_done, 0);
	r = start_threads(t, 2, churner, ns, sizeof(ns[0]));
	if (!CHECK(!r, "threads: %s", errstr(-r)))
		goto out;
	fd = alloc_buf(page_size, O_RDWR | O_CLOEXEC);
	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	while (atomic_load(&churners_done) < 2) {
		int f;

		r = stats(&s);
		if (r) {
			race_fail("STATS: %s", errstr(-r));
			continue;
		}
		/* Read without a lock: each counter alone never goes back. */
		if (s.exported < prev.exported || s.released < prev.released)
			race_fail("STATS went backwards: exported %llu -> %llu, released %llu -> %llu",
				  (unsigned long long)prev.exported,
				  (unsigned long long)s.exported,
				  (unsigned long long)prev.released,
				  (unsigned long long)s.released);
		prev = s;
		f = open(path, O_RDONLY | O_CLOEXEC);
		if (f >= 0) {
			if (read(f, buf, sizeof(buf)) <= 0)
				race_fail("fdinfo read");
			close(f);
		}
		reads++;
	}
	join_threads(t, 2);
	if (fd >= 0)
		close(fd);
	race_report();
	tg_note("%lu buffers churned, %lu counter reads", 2 * n, reads);
out:
	tg_end();
}

/* ------------------------------------------------------------------ */
/* 7. fds passed over sockets while being closed                       */

/* Receive and close fds until the socket is shut down. */
static void *receiver(void *arg)
{
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(int))];
	} ctl;
	int sock = *(int *)arg;
	struct cmsghdr *c;
	char x;

	for (;;) {
		struct iovec iov = { &x, 1 };
		struct msghdr msg = {
			.msg_iov = &iov, .msg_iovlen = 1,
			.msg_control = ctl.buf, .msg_controllen = sizeof(ctl.buf),
		};
		ssize_t n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
		int fd;

		if (n <= 0)
			break;	/* shut down (0), or gone */
		for (c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c))
			if (c->cmsg_type == SCM_RIGHTS) {
				memcpy(&fd, CMSG_DATA(c), sizeof(fd));
				close(fd);
			}
	}
	return NULL;
}

static void race_sockets(void)
{
	unsigned long i, n = 600 * scale, sent = 0;
	struct dmabuf_core_stats s0, s1;
	int sv[2] = { -1, -1 }, r;
	pthread_t t;

	tg_begin("fds passed over sockets while being closed");
	race_reset();
	if (!CHECK(!stats(&s0), "STATS"))
		goto out;
	for (i = 0; i < n; i++) {
		int fd;

		if (sv[0] < 0) {
			if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv)) {
				tg_fail("socketpair: %s", strerror(errno));
				break;
			}
			if (pthread_create(&t, NULL, receiver, &sv[1])) {
				tg_fail("receiver thread");
				break;
			}
		}
		fd = alloc_buf(page_size, O_RDWR | O_CLOEXEC);
		if (fd < 0) {
			race_fail("ALLOC: %s", errstr(-fd));
			continue;
		}
		r = send_fd(sv[0], fd, "x", 1);
		if (!r)
			sent++;
		close(fd);		/* in flight now, or received */
		if (i % 50 == 49) {
			/* Close both ends with fds still in flight. */
			shutdown(sv[1], SHUT_RDWR);
			close(sv[0]);
			pthread_join(t, NULL);
			close(sv[1]);
			sv[0] = sv[1] = -1;
		}
		/* A socket in flight over itself: the unix GC's business. */
		if (i % 97 == 0 && sv[0] >= 0)
			send_fd(sv[0], sv[1], "x", 1);
	}
	if (sv[0] >= 0) {
		shutdown(sv[1], SHUT_RDWR);
		close(sv[0]);
		pthread_join(t, NULL);
		close(sv[1]);
	}
	for (i = 0; i < 100; i++) {
		if (!stats(&s1) && s1.live_buffers == s0.live_buffers)
			break;
		usleep(100 * 1000);
	}
	CHECK_U64("live buffers", s1.live_buffers, s0.live_buffers);
	race_report();
	tg_note("%lu fds sent, every one released", sent);
out:
	tg_end();
}

int main(int argc, char **argv)
{
	struct dmabuf_core_stats s0;
	uint64_t v;
	int opt, fds0;

	tap_init("t_race");
	if (harness_arg_u64("race_scale", &v) && v > 0)
		scale = (unsigned long)v;
	while ((opt = getopt(argc, argv, "n:")) != -1) {
		if (opt != 'n') {
			fprintf(stderr, "usage: t_race [-n SCALE]\n");
			return 2;
		}
		scale = strtoul(optarg, NULL, 0);
	}
	if (!scale)
		scale = 1;

	fds0 = count_open_fds();
	if (stats(&s0))		/* the baseline group below fails then */
		memset(&s0, 0xff, sizeof(s0));
	race_close_vs_import();
	race_churn();
	race_signals();
	race_sigkill();
	race_fault_vs_munmap();
	race_rmmod();
	race_counters();
	race_sockets();

	exporter_close();
	expect_stats_baseline(&s0);
	tg_begin("open files back to baseline");
	CHECK(count_open_fds() == fds0 + 1, "open fds: %d at start, %d at the end",
	      fds0, count_open_fds());
	tg_end();
	return tap_finish();
}
