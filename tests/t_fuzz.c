// SPDX-License-Identifier: GPL-2.0-only
/*
 * t_fuzz: a seeded, reproducible fuzzer of dmabuf-core's nodes and buffer
 * fds.  It drives random sequences of every ioctl (well-formed, mutated and
 * raw), mmap/munmap/mremap/madvise/mprotect, page touches, close, dup,
 * fork and SCM_RIGHTS fd passing over /dev/dmabuf, the demo exporter and
 * importers, /dev/dma_heap/system buffers and a few foreign fds, with
 * random and boundary arguments.
 *
 * Every result meets an oracle: a well-formed request succeeds, a malformed
 * one gets its documented errno, an unknown ioctl gets ENOTTY, a closed fd
 * EBADF, any other refusal is one of a small set of clean errnos, a valid
 * mapping never faults and a read-only one always does, and contents read
 * back (through any mapping, FILL/VERIFY or an importer's ACCESS) are what
 * was last written.  At the end everything is closed and the counters, the
 * open files and the exporter's books must be back at their baseline.
 *
 *   t_fuzz [-s SEED] [-n OPS]
 *
 * SEED defaults to dmabuf_harness.fuzz_seed= from the kernel command line,
 * else a random one; OPS to dmabuf_harness.fuzz_ops=, else 20000.  The seed
 * is printed: the same seed, operation count and kernel replay the same
 * sequence.  Runs as root with the demo modules loaded.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <dmabuf_demo_pattern.h>
#include "lib/demo.h"
#include "lib/tap.h"

/* The kernel's dma-buf ioctls (linux/dma-buf.h), spelled out here. */
struct fz_sync_file {
	__u32 flags;
	__s32 fd;
};

/* DEVICE_INFO of the struct's first, 16-byte version: still answered. */
#define FZ_DEVICE_INFO_V1	_IOC(_IOC_READ, 0xDC, 0x23, 16)
#define FZ_SET_NAME_A		_IOW('b', 1, __u32)
#define FZ_SET_NAME_B		_IOW('b', 1, __u64)
#define FZ_EXPORT_SYNC_FILE	_IOWR('b', 2, struct fz_sync_file)
#define FZ_IMPORT_SYNC_FILE	_IOW('b', 3, struct fz_sync_file)
#define HEAP_DEV		"/dev/dma_heap/system"

#define MAX_FDS		96
#define MAX_MAPS	48
#define MAX_QUEUE	8
#define LIVE_BYTES_MAX	(256 * MiB)
#define CHECK_BYTES_MAX	(4 * MiB)	/* whole-buffer content checks */
#define LOG_LINES	24
#define MAX_REPORTS	8

enum kind {
	K_NODE,		/* /dev/dmabuf */
	K_HEAP_NODE,	/* /dev/dma_heap/system */
	K_EXPORTER,	/* /dev/dmabuf-demo-exporter */
	K_IMPORTER,	/* /dev/dmabuf-demo-importerN */
	K_CORE_BUF,	/* ALLOC on /dev/dmabuf */
	K_DEMO_BUF,	/* demo CREATE */
	K_HEAP_BUF,	/* the kernel's system heap */
	K_SOCK,		/* one end of a socket pair */
	K_FOREIGN,	/* a pipe, a memfd, /dev/null */
	K_NKINDS
};

static const char *const kind_names[K_NKINDS] = {
	"node", "heap-node", "exporter", "importer", "core-buf", "demo-buf",
	"heap-buf", "socket", "foreign",
};

enum content { C_UNKNOWN, C_ZERO, C_TAP, C_DEMO };

/* A buffer: shared by every fd of its one file and by its mappings. */
struct bobj {
	enum kind kind;		/* K_CORE_BUF, K_DEMO_BUF or K_HEAP_BUF */
	uint64_t size;
	int accmode;		/* O_RDONLY, O_WRONLY or O_RDWR */
	int refs;		/* fds + mappings + queued in sockets */
	enum content content;
	uint32_t seed;
};

struct fent {
	int fd;
	enum kind kind;
	struct bobj *b;		/* buffer kinds */
	int peer;		/* K_SOCK: index of the other end, or -1 */
	int index;		/* K_IMPORTER: the importer instance */
	struct bobj *queue[MAX_QUEUE];	/* K_SOCK: buffers sent, in order */
	int queued;
};

struct ment {
	char *addr;
	size_t len;
	uint64_t off;		/* buffer offset of addr */
	int prot;
	int shared;		/* MAP_SHARED (else MAP_PRIVATE) */
	int dontfork;		/* MADV_DONTFORK: not in children */
	struct bobj *b;
};

struct fuzz {
	uint64_t rng;
	uint64_t op;		/* index of the current operation */
	int child;		/* running in a forked child */
	struct fent fds[MAX_FDS];
	int nfds;
	struct ment maps[MAX_MAPS];
	int nmaps;
	uint64_t live_bytes;
	uint64_t max_core, max_demo;	/* size limits in bytes */
	int have_heap;
	char *scratch;		/* page, then a PROT_NONE guard page */
	char *rdonly;		/* a read-only page */
	char log[LOG_LINES][160];
	unsigned long ok, refused, violations, children, child_failures;
	unsigned long by_kind_ok[K_NKINDS];
	unsigned long faults;	/* expected SIGSEGVs seen */
	char first[MAX_REPORTS][560];
};

static struct fuzz F;

/* ------------------------------------------------------------------ */
/* Randomness                                                          */

static uint64_t rnd(void)
{
	return rng_next(&F.rng);
}

static uint64_t below(uint64_t n)
{
	return n ? rnd() % n : 0;
}

static int chance(unsigned int percent)
{
	return below(100) < percent;
}

/* A length: mostly small and page-sized, sometimes a boundary value. */
static uint64_t pick_len(uint64_t max)
{
	static const uint64_t edge[] = {
		0, 1, 4095, 4097, 1ULL << 31, 1ULL << 32, 1ULL << 63,
		~0ULL, ~0ULL - 4095, ~0ULL - 4096, (1ULL << 63) - 4096,
	};

	switch (below(20)) {
	case 0:
		return edge[below(ARRAY_SIZE(edge))];
	case 1:
		return max + page_size * below(3);
	case 2:
		return 1 + below(max);
	case 3: case 4:
		return page_size * (1 + below(max / page_size));
	case 5: case 6: case 7:
		return page_size * (1 + below(256));
	default:
		return page_size * (1 + below(8));
	}
}

static uint32_t pick_fd_flags(void)
{
	static const uint32_t modes[] = { O_RDWR, O_RDWR, O_RDWR, O_RDONLY,
					  O_WRONLY, O_ACCMODE };

	if (chance(5))
		return (uint32_t)rnd();
	return modes[below(ARRAY_SIZE(modes))] | (chance(50) ? O_CLOEXEC : 0) |
	       (chance(3) ? 1u << below(32) : 0);
}

/* ------------------------------------------------------------------ */
/* The operation log and the oracle                                    */

static void logf_(const char *fmt, ...) TAP_PRINTF(1, 2);
static void logf_(const char *fmt, ...)
{
	char *line = F.log[F.op % LOG_LINES];
	int n = snprintf(line, 160, "%s#%llu ", F.child ? "child " : "",
			 (unsigned long long)F.op);
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line + n, 160 - n, fmt, ap);
	va_end(ap);
}

/* The logged operations leading to the current one, oldest first. */
static void print_log(void)
{
	uint64_t i = F.op >= LOG_LINES - 1 ? F.op - (LOG_LINES - 1) : 0;

	for (; i <= F.op; i++)
		if (F.log[i % LOG_LINES][0])
			printf("#   %s\n", F.log[i % LOG_LINES]);
}

static void violation(const char *fmt, ...) TAP_PRINTF(1, 2);
static void violation(const char *fmt, ...)
{
	char msg[320];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (F.violations < MAX_REPORTS) {
		char last[160];

		memcpy(last, F.log[F.op % LOG_LINES], sizeof(last));
		snprintf(F.first[F.violations], sizeof(F.first[0]),
			 "op %llu%s: %s (last: %s)", (unsigned long long)F.op,
			 F.child ? " in a child" : "", msg, last);
	}
	if (F.violations < 3) {
		printf("# t_fuzz: violation at op %llu: %s; the ops before it:\n",
		       (unsigned long long)F.op, msg);
		print_log();
	}
	F.violations++;
}

/* The fuzzer itself crashed: say where, then die of it. */
static void crash_report(int sig)
{
	printf("# t_fuzz: %s at op %llu%s; the ops before it:\n",
	       strsignal(sig), (unsigned long long)F.op,
	       F.child ? " in a child" : "");
	print_log();
	fflush(stdout);
}

/* Refusals any well-behaved call may give. */
static int clean_errno(int e)
{
	switch (e) {
	case EINVAL: case ENOMEM: case EFAULT: case EBADF: case ENOTTY:
	case EPERM: case EACCES: case EBUSY: case ENODEV: case ENXIO:
	case EOVERFLOW: case EAGAIN: case ESPIPE: case ENOSPC: case EFBIG:
	case EOPNOTSUPP: case ERANGE: case EMSGSIZE: case ENOMSG:
	case EISDIR: case ENOTSOCK: case EDESTADDRREQ: case ENOTCONN:
		return 1;
	}
	return 0;
}

enum want { WANT_ANY, WANT_OK, WANT_FAIL };

/*
 * Record one result: @err 0 for success.  WANT_OK: must succeed;
 * WANT_FAIL with @want_err: must fail with it (0: with any clean errno);
 * WANT_ANY: success or a clean errno.
 */
static void judge(const char *what, enum kind k, int err, enum want w,
		  int want_err)
{
	if (!err) {
		F.ok++;
		F.by_kind_ok[k]++;
		if (w == WANT_FAIL)
			violation("%s on %s succeeded, expected %s", what,
				  kind_names[k],
				  want_err ? errname(want_err) : "a refusal");
		return;
	}
	F.refused++;
	if (w == WANT_OK)
		violation("%s on %s failed with %s (%d), expected success",
			  what, kind_names[k], errname(err), err);
	else if (w == WANT_FAIL && want_err && err != want_err)
		violation("%s on %s failed with %s (%d), expected %s", what,
			  kind_names[k], errname(err), err, errname(want_err));
	else if (!clean_errno(err))
		violation("%s on %s failed with %s (%d), not a clean errno",
			  what, kind_names[k], errname(err), err);
}

/* ------------------------------------------------------------------ */
/* The fd and mapping tables                                           */

static void bobj_put(struct bobj *b)
{
	if (b && --b->refs == 0) {
		F.live_bytes -= b->size;
		free(b);
	}
}

static struct bobj *bobj_new(enum kind k, uint64_t size, int accmode,
			     enum content c)
{
	struct bobj *b = calloc(1, sizeof(*b));

	if (!b) {
		fprintf(stderr, "t_fuzz: out of memory\n");
		exit(2);
	}
	b->kind = k;
	b->size = size;
	b->accmode = accmode;
	b->content = c;
	F.live_bytes += size;
	return b;
}

/* Track @fd; returns its index, or closes it and returns -1 if full. */
static int fd_add(int fd, enum kind k, struct bobj *b)
{
	struct fent *e;

	if (F.nfds == MAX_FDS) {
		close(fd);
		if (b && !b->refs) {	/* nothing else holds it */
			b->refs = 1;
			bobj_put(b);
		}
		return -1;
	}
	e = &F.fds[F.nfds];
	memset(e, 0, sizeof(*e));
	e->fd = fd;
	e->kind = k;
	e->b = b;
	e->peer = -1;
	if (b)
		b->refs++;
	return F.nfds++;
}

/* Forget table entry @i (the fd is already closed). */
static void fd_forget(int i)
{
	struct fent *e = &F.fds[i];
	int j, last = F.nfds - 1;

	bobj_put(e->b);
	for (j = 0; j < e->queued; j++)
		bobj_put(e->queue[j]);
	if (e->kind == K_SOCK && e->peer >= 0)
		F.fds[e->peer].peer = -1;
	if (i != last) {
		*e = F.fds[last];
		if (e->kind == K_SOCK && e->peer >= 0)
			F.fds[e->peer].peer = i;
	}
	F.nfds--;
}

static int is_buf(enum kind k)
{
	return k == K_CORE_BUF || k == K_DEMO_BUF || k == K_HEAP_BUF;
}

static int is_ours(enum kind k)
{
	return k == K_CORE_BUF || k == K_DEMO_BUF;
}

/* A random table index, preferring @want kinds when they exist; -1: none. */
static int pick_fd_of(int (*want)(enum kind))
{
	int cand[MAX_FDS], n = 0, i;

	for (i = 0; i < F.nfds; i++)
		if (!want || want(F.fds[i].kind))
			cand[n++] = i;
	return n ? cand[below(n)] : -1;
}

static int kind_is_node(enum kind k) { return k == K_NODE; }
static int kind_is_exporter(enum kind k) { return k == K_EXPORTER; }
static int kind_is_importer(enum kind k) { return k == K_IMPORTER; }
static int kind_is_sock(enum kind k) { return k == K_SOCK; }
static int kind_is_heap_node(enum kind k) { return k == K_HEAP_NODE; }

/* An fd number that is not open (and never a tracked one). */
static int stale_fd(void)
{
	for (;;) {
		int fd = 3 + (int)below(250), i;

		for (i = 0; i < F.nfds && F.fds[i].fd != fd; i++)
			;
		if (i == F.nfds && fcntl(fd, F_GETFD) < 0)
			return fd;
	}
}

/*
 * An fd argument: mostly a buffer, sometimes anything, sometimes a closed
 * number or garbage.  *ent is the table entry or NULL.
 */
static int pick_arg_fd(struct fent **ent)
{
	int i;

	*ent = NULL;
	switch (below(10)) {
	case 0:
		return stale_fd();
	case 1:
		return chance(50) ? -1 : (int)rnd();
	case 2:
		i = pick_fd_of(NULL);
		break;
	default:
		i = pick_fd_of(is_buf);
		if (i < 0)
			i = pick_fd_of(NULL);
	}
	if (i < 0)
		return stale_fd();
	*ent = &F.fds[i];
	return F.fds[i].fd;
}

static void map_add(char *addr, size_t len, uint64_t off, int prot,
		    int shared, struct bobj *b)
{
	struct ment *m;

	if (F.nmaps == MAX_MAPS) {
		munmap(addr, page_round(len));
		return;
	}
	m = &F.maps[F.nmaps++];
	m->addr = addr;
	m->len = page_round(len);	/* the kernel maps whole pages */
	m->off = off;
	m->prot = prot;
	m->shared = shared;
	m->dontfork = 0;
	m->b = b;
	b->refs++;
}

static void map_forget(int i)
{
	bobj_put(F.maps[i].b);
	F.maps[i] = F.maps[--F.nmaps];
}

/* ------------------------------------------------------------------ */
/* Contents                                                            */

static uint8_t expected_byte(const struct bobj *b, uint64_t off)
{
	uint64_t w64;
	uint32_t w32;

	switch (b->content) {
	case C_TAP:
		w64 = pattern_word(b->seed, off / 8);
		return (uint8_t)(w64 >> (8 * (off % 8)));
	case C_DEMO:
		w32 = dmabuf_demo_pattern_word(b->seed, off / 4);
		return (uint8_t)(w32 >> (8 * (off % 4)));
	default:
		return 0;
	}
}

/* Compare @len bytes read at buffer offset @off; 1 if they match. */
static int content_matches(const struct bobj *b, uint64_t off,
			   const uint8_t *data, size_t len, uint64_t *bad)
{
	size_t i;

	if (b->content == C_UNKNOWN)
		return 1;
	for (i = 0; i < len; i++)
		if (data[i] != expected_byte(b, off + i)) {
			*bad = off + i;
			return 0;
		}
	return 1;
}

/* FNV-1a of what the buffer should hold (content known). */
static uint64_t expected_fnv(const struct bobj *b)
{
	uint64_t h = DMABUF_DEMO_FNV_BASIS, off;
	uint8_t chunk[4096];
	size_t i;

	for (off = 0; off < b->size; off += sizeof(chunk)) {
		for (i = 0; i < sizeof(chunk); i++)
			chunk[i] = expected_byte(b, off + i);
		h = dmabuf_demo_fnv(h, chunk, sizeof(chunk));
	}
	return h;
}

/* After anything that may have written buffers we do not follow. */
static void forget_all_contents(void)
{
	int i;

	for (i = 0; i < F.nfds; i++)
		if (F.fds[i].b)
			F.fds[i].b->content = C_UNKNOWN;
	for (i = 0; i < F.nmaps; i++)
		F.maps[i].b->content = C_UNKNOWN;
}

/* ------------------------------------------------------------------ */
/* ioctl argument pointers                                             */

/*
 * An argument pointer for a request of @size bytes: mostly the scratch
 * page holding @arg, sometimes NULL, a guard page, a read-only page of
 * zeros, a kernel address or a pointer that runs into the guard page.
 * *valid: 1 when the kernel can read and write all @size bytes, 0 when it
 * can do neither (EFAULT), -1 for the read-only page (EFAULT, or whatever
 * a request of zeros gets from a call that only reads).
 */
static void *arg_ptr(const void *arg, size_t size, int *valid)
{
	*valid = 0;
	switch (below(24)) {
	case 0:
		return NULL;
	case 1:
		return F.scratch + page_size;		/* guard */
	case 2:
		*valid = -1;
		return F.rdonly;
	case 3:
		return (void *)0xffff888000000000ULL;
	case 4:
		if (size > 1) {
			memcpy(F.scratch + page_size - size / 2, arg, size / 2);
			return F.scratch + page_size - size / 2;
		}
		/* fall through */
	default:
		memcpy(F.scratch, arg, size);
		*valid = 1;
		return F.scratch;
	}
}

/* ------------------------------------------------------------------ */
/* Operations                                                          */

static void op_alloc(void)
{
	struct dmabuf_core_alloc a = { 0 };
	struct bobj *b;
	int i = pick_fd_of(kind_is_node), valid, ok_args, err, fd;
	uint64_t limit = F.max_core, len;
	enum kind k = K_NODE;
	void *p;

	if (F.have_heap && chance(25)) {
		i = pick_fd_of(kind_is_heap_node);
		k = K_HEAP_NODE;
		limit = 64 * MiB;
	}
	if (i < 0)
		return;
	len = pick_len(limit);
	/* The kernel's heap has no cap of ours: nothing it could not give. */
	if (k == K_HEAP_NODE && len > limit)
		len = chance(50) ? 0 : ~0ULL;
	if (len <= limit && F.live_bytes + len > LIVE_BYTES_MAX)
		len = page_size;
	a.len = len;
	a.fd_flags = pick_fd_flags();
	if (chance(4))
		a.heap_flags = 1ULL << below(64);
	if (chance(4))
		a.fd = (uint32_t)rnd();
	ok_args = !a.fd && !a.heap_flags &&
		  !(a.fd_flags & ~(uint32_t)(O_ACCMODE | O_CLOEXEC)) &&
		  (a.fd_flags & O_ACCMODE) != O_ACCMODE;
	p = arg_ptr(&a, sizeof(a), &valid);
	logf_("ALLOC on %s len %#llx fd_flags %#x heap_flags %#llx fd %u ptr %p",
	      kind_names[k], (unsigned long long)a.len, a.fd_flags,
	      (unsigned long long)a.heap_flags, a.fd, p);
	err = ioctl(F.fds[i].fd, DMABUF_CORE_IOCTL_ALLOC, p) ? errno : 0;
	if (valid <= 0) {
		/* _IOWR: the read-only page can not take the answer. */
		judge("ALLOC", k, err, WANT_FAIL, valid ? 0 : EFAULT);
		return;
	}
	if (k == K_HEAP_NODE)
		/* The kernel's heap: its own rules; only clean answers. */
		judge("ALLOC", k, err, WANT_ANY, 0);
	else if (!ok_args)
		judge("ALLOC (bad flags/fields)", k, err, WANT_FAIL, EINVAL);
	else if (!len)
		judge("ALLOC len 0", k, err, WANT_FAIL, EINVAL);
	else if (len > limit)
		judge("ALLOC over max_size_mb", k, err, WANT_FAIL,
		      len > ~0ULL - (page_size - 1) ? EINVAL : ENOMEM);
	else
		judge("ALLOC", k, err, WANT_OK, 0);
	if (err)
		return;
	memcpy(&a, F.scratch, sizeof(a));
	fd = (int)a.fd;
	if (fcntl(fd, F_GETFD) < 0) {
		violation("ALLOC returned fd %d, which is not open", fd);
		return;
	}
	k = k == K_NODE ? K_CORE_BUF : K_HEAP_BUF;
	b = bobj_new(k, page_round(len), a.fd_flags & O_ACCMODE, C_ZERO);
	fd_add(fd, k, b);
}

static void op_demo_create(void)
{
	struct dmabuf_demo_create c = { 0 };
	int i = pick_fd_of(kind_is_exporter), valid, err, ok_args;
	struct bobj *b;
	void *p;

	if (i < 0)
		return;
	c.size = pick_len(F.max_demo);
	if (c.size <= F.max_demo && F.live_bytes + c.size > LIVE_BYTES_MAX)
		c.size = page_size;
	c.fd_flags = pick_fd_flags();
	if (chance(4))
		c.flags = 1u << below(32);
	if (chance(4))
		c.reserved = (uint32_t)rnd() | 1;
	if (chance(4))
		c.fd = (int)rnd();
	ok_args = !c.flags && !c.reserved && !c.fd &&
		  !(c.fd_flags & ~(uint32_t)(O_ACCMODE | O_CLOEXEC)) &&
		  (c.fd_flags & O_ACCMODE) != O_ACCMODE;
	p = arg_ptr(&c, sizeof(c), &valid);
	logf_("CREATE size %#llx fd_flags %#x flags %#x reserved %#x ptr %p",
	      (unsigned long long)c.size, c.fd_flags, c.flags, c.reserved, p);
	err = ioctl(F.fds[i].fd, DMABUF_DEMO_IOCTL_CREATE, p) ? errno : 0;
	if (valid <= 0) {
		judge("CREATE", K_EXPORTER, err, WANT_FAIL, valid ? 0 : EFAULT);
		return;
	}
	if (!ok_args || !c.size || c.size % page_size)
		judge("CREATE (bad fields or size)", K_EXPORTER, err, WANT_FAIL,
		      EINVAL);
	else if (c.size > F.max_demo)
		judge("CREATE over max_size_mb", K_EXPORTER, err, WANT_FAIL,
		      ENOMEM);
	else
		judge("CREATE", K_EXPORTER, err, WANT_OK, 0);
	if (err)
		return;
	memcpy(&c, F.scratch, sizeof(c));
	b = bobj_new(K_DEMO_BUF, c.size, c.fd_flags & O_ACCMODE, C_ZERO);
	fd_add(c.fd, K_DEMO_BUF, b);
}

static void op_close(void)
{
	int i = pick_fd_of(NULL), fd, err;
	enum kind k;

	if (i < 0 || chance(10)) {
		fd = stale_fd();
		logf_("close stale fd %d", fd);
		err = close(fd) ? errno : 0;
		judge("close of a closed fd", K_FOREIGN, err, WANT_FAIL, EBADF);
		return;
	}
	/* Keep one node of each kind most of the time. */
	k = F.fds[i].kind;
	if (!is_buf(k) && k != K_SOCK && chance(90))
		return;
	fd = F.fds[i].fd;
	logf_("close fd %d (%s)", fd, kind_names[k]);
	err = close(fd) ? errno : 0;
	judge("close", k, err, WANT_OK, 0);
	fd_forget(i);
}

static void op_dup(void)
{
	int i = pick_fd_of(is_buf), fd, err;
	struct fent *e;

	if (i < 0)
		return;
	e = &F.fds[i];
	switch (below(3)) {
	case 0:
		fd = dup(e->fd);
		break;
	case 1:
		fd = fcntl(e->fd, F_DUPFD_CLOEXEC, 3 + below(200));
		break;
	default:
		fd = dup3(e->fd, stale_fd(), O_CLOEXEC);
	}
	err = fd < 0 ? errno : 0;
	logf_("dup fd %d (%s) -> %d", e->fd, kind_names[e->kind], fd);
	judge("dup", e->kind, err, WANT_ANY, 0);
	if (!err)
		fd_add(fd, e->kind, e->b);
}

static void op_query(void)
{
	struct dmabuf_core_query q = { 0 };
	int i = pick_fd_of(kind_is_node), valid, err, fd;
	struct fent *e;
	void *p;

	if (i < 0)
		return;
	fd = pick_arg_fd(&e);
	q.fd = fd;
	if (chance(5))
		q.flags = 1u << below(32);
	if (chance(5))
		q.reserved[below(4)] = rnd() | 1;
	if (chance(5))
		q.moves = 1;	/* an output: input ignored */
	if (chance(10))
		q.size = rnd();
	p = arg_ptr(&q, sizeof(q), &valid);
	logf_("QUERY fd %d (%s) flags %#x ptr %p", fd,
	      e ? kind_names[e->kind] : "none", q.flags, p);
	err = ioctl(F.fds[i].fd, DMABUF_CORE_IOCTL_QUERY, p) ? errno : 0;
	if (valid <= 0)
		judge("QUERY", K_NODE, err, WANT_FAIL, valid ? 0 : EFAULT);
	else if (q.flags || q.reserved[0] || q.reserved[1] ||
		 q.reserved[2] || q.reserved[3])
		judge("QUERY (reserved or flags set)", K_NODE, err, WANT_FAIL,
		      EINVAL);
	else if (e && is_buf(e->kind))
		judge("QUERY of a buffer", K_NODE, err, WANT_OK, 0);
	else
		judge("QUERY of a non-buffer", K_NODE, err, WANT_FAIL,
		      e ? EINVAL : EBADF);
	if (err || valid <= 0 || !e || !is_buf(e->kind))
		return;
	memcpy(&q, F.scratch, sizeof(q));
	if (q.size != e->b->size)
		violation("QUERY of a %s: size %llu, created with %llu",
			  kind_names[e->kind], (unsigned long long)q.size,
			  (unsigned long long)e->b->size);
	if (is_ours(e->kind) != !(q.info & DMABUF_CORE_QUERY_FOREIGN))
		violation("QUERY of a %s: info %#x", kind_names[e->kind],
			  q.info);
}

static void op_stats(void)
{
	struct dmabuf_core_stats s = { 0 };
	int i = pick_fd_of(kind_is_node), valid, err;
	void *p;

	if (i < 0)
		return;
	if (chance(10))
		s.flags = 1;
	if (chance(10))
		s.reserved1 = 1;
	/* An output field: what the caller leaves in it is ignored. */
	if (chance(10))
		s.contig_pages = rnd();
	p = arg_ptr(&s, sizeof(s), &valid);
	logf_("STATS flags %#x ptr %p", s.flags, p);
	err = ioctl(F.fds[i].fd, DMABUF_CORE_IOCTL_STATS, p) ? errno : 0;
	if (valid <= 0)
		judge("STATS", K_NODE, err, WANT_FAIL, valid ? 0 : EFAULT);
	else
		judge("STATS", K_NODE, err, s.flags || s.reserved1 ?
		      WANT_FAIL : WANT_OK, s.flags || s.reserved1 ? EINVAL : 0);
}

static void op_sync(void)
{
	int i = pick_fd_of(is_buf), valid, err;
	struct dmabuf_core_sync s;
	struct fent *e;
	void *p;

	if (i < 0)
		return;
	e = &F.fds[i];
	s.flags = chance(15) ? rnd() >> below(64) : below(8);
	p = arg_ptr(&s, sizeof(s), &valid);
	logf_("SYNC fd %d (%s) flags %#llx ptr %p", e->fd, kind_names[e->kind],
	      (unsigned long long)s.flags, p);
	err = ioctl(e->fd, DMABUF_CORE_IOCTL_SYNC, p) ? errno : 0;
	if (valid < 0)
		judge("SYNC of zero flags", e->kind, err, WANT_FAIL, EINVAL);
	else if (!valid)
		judge("SYNC", e->kind, err, WANT_FAIL, EFAULT);
	else if ((s.flags & ~(uint64_t)DMABUF_CORE_SYNC_VALID_FLAGS) ||
		 !(s.flags & DMABUF_CORE_SYNC_RW))
		judge("SYNC (bad flags)", e->kind, err, WANT_FAIL, EINVAL);
	else
		judge("SYNC", e->kind, err, is_ours(e->kind) ? WANT_OK : WANT_ANY, 0);
}

static void op_mmap(void)
{
	static const int flag_set[] = { MAP_SHARED, MAP_SHARED, MAP_SHARED,
					MAP_PRIVATE, MAP_SHARED_VALIDATE };
	int i = pick_fd_of(is_buf), prot, flags, err, fixed = -1, valid;
	uint64_t off, len;
	struct fent *e;
	char *addr = NULL, *p;
	struct ment *m;

	if (i < 0)
		return;
	e = &F.fds[i];
	prot = chance(90) ? (int)below(4) : (int)below(8);
	flags = flag_set[below(ARRAY_SIZE(flag_set))];
	if (chance(5))
		flags |= MAP_POPULATE;
	switch (below(12)) {
	case 0:
		off = rnd() & ~((uint64_t)page_size - 1);
		break;
	case 1:
		off = (1ULL << 63) - page_size * below(3);
		break;
	case 2:
		off = 1 + below(page_size - 1);
		break;
	case 3: case 4:
		off = page_size * below(e->b->size / page_size + 1);
		break;
	default:
		off = 0;
	}
	len = chance(60) && off < e->b->size ? e->b->size - off :
	      pick_len(e->b->size);
	if (len > (1ULL << 40))
		len = chance(50) ? len : (1ULL << 40);
	if (F.nmaps && chance(15)) {
		/* MAP_FIXED over (the start of) a mapping we hold. */
		fixed = (int)below(F.nmaps);
		m = &F.maps[fixed];
		addr = m->addr;
		len = page_size * (1 + below(m->len / page_size));
		flags |= MAP_FIXED;
	}
	logf_("mmap fd %d (%s, mode %d, size %#llx) len %#llx off %#llx prot %d flags %#x%s",
	      e->fd, kind_names[e->kind], e->b->accmode,
	      (unsigned long long)e->b->size, (unsigned long long)len,
	      (unsigned long long)off, prot, flags, fixed >= 0 ? " fixed" : "");
	p = mmap(addr, len, prot, flags, e->fd, (off_t)off);
	err = p == MAP_FAILED ? errno : 0;
	valid = len && !(off % page_size) && off < e->b->size &&
		len <= e->b->size - off && prot <= 3;
	if (!is_ours(e->kind))
		judge("mmap", e->kind, err, WANT_ANY, 0);
	else if (!len || (off % page_size))
		judge("mmap of length 0 or at an unaligned offset", e->kind,
		      err, WANT_FAIL, EINVAL);
	else if (len > (1ULL << 40) || (off >> 40))
		judge("mmap huge", e->kind, err, WANT_ANY, 0);
	else if (e->b->accmode == O_WRONLY)
		judge("mmap of an O_WRONLY fd", e->kind, err, WANT_FAIL, EACCES);
	else if ((flags & MAP_TYPE) != MAP_PRIVATE && (prot & PROT_WRITE) &&
		 e->b->accmode == O_RDONLY)
		judge("shared writable mmap of an O_RDONLY fd", e->kind, err,
		      WANT_FAIL, EACCES);
	else if (prot & PROT_EXEC)
		/* Refused (EPERM) where dma-buf's filesystem is noexec (7.x). */
		judge("executable mmap", e->kind, err, WANT_ANY, 0);
	else if (valid && (flags & MAP_TYPE) == MAP_PRIVATE)
		judge("MAP_PRIVATE mmap", e->kind, err, WANT_FAIL, EINVAL);
	else if (valid)
		judge("mmap", e->kind, err, WANT_OK, 0);
	else if (!(off < e->b->size && len <= e->b->size - off))
		/* Past a GiB the address space may run out first (ENOMEM). */
		judge("mmap beyond the buffer", e->kind, err, WANT_FAIL,
		      len <= GiB ? EINVAL : 0);
	else
		judge("mmap", e->kind, err, WANT_ANY, 0);
	if (fixed >= 0) {
		/* The old mapping loses its first len bytes either way. */
		m = &F.maps[fixed];
		if (err)
			munmap(addr, len);
		if (len == m->len) {
			map_forget(fixed);
		} else {
			m->addr += len;
			m->len -= len;
			m->off += len;
		}
	}
	if (!err)
		map_add(p, len, off, prot, (flags & MAP_TYPE) != MAP_PRIVATE,
			e->b);
}

static void op_munmap(void)
{
	int i = (int)below(F.nmaps), err;
	struct ment *m;
	size_t pages, cut;

	if (!F.nmaps)
		return;
	m = &F.maps[i];
	pages = m->len / page_size;
	cut = chance(60) || pages == 1 ? pages : 1 + below(pages - 1);
	logf_("munmap %p len %#zx of %#zx", (void *)m->addr, cut * page_size,
	      m->len);
	err = munmap(m->addr, cut * page_size) ? errno : 0;
	judge("munmap", m->b->kind, err, WANT_OK, 0);
	if (err)
		return;
	if (cut == pages) {
		map_forget(i);
	} else {
		m->addr += cut * page_size;
		m->len -= cut * page_size;
		m->off += cut * page_size;
	}
}

static void op_mremap(void)
{
	int i = (int)below(F.nmaps), err, flags = 0;
	size_t nlen, pages;
	struct ment *m;
	char *p;

	if (!F.nmaps)
		return;
	m = &F.maps[i];
	pages = m->len / page_size;
	switch (below(3)) {
	case 0:		/* shrink in place */
		nlen = pages > 1 ? page_size * (1 + below(pages - 1)) : m->len;
		break;
	case 1:		/* move */
		nlen = m->len;
		flags = MREMAP_MAYMOVE;
		break;
	default:	/* grow: past the buffer, or within it */
		nlen = m->len + page_size * (1 + below(4));
		flags = chance(50) ? MREMAP_MAYMOVE : 0;
	}
	logf_("mremap %p len %#zx -> %#zx flags %d", (void *)m->addr, m->len,
	      nlen, flags);
	p = mremap(m->addr, m->len, nlen, flags);
	err = p == MAP_FAILED ? errno : 0;
	if (nlen <= m->len)
		judge("mremap", m->b->kind, err, WANT_OK, 0);
	else
		judge("mremap grow", m->b->kind, err, WANT_ANY, 0);
	if (err)
		return;
	if (nlen > m->len && m->off + nlen > m->b->size)
		violation("mremap grew a mapping past its buffer's end");
	m->addr = p;
	m->len = nlen;
}

static void op_madvise(void)
{
	static const int advice[] = { MADV_DONTNEED, MADV_WILLNEED,
				      MADV_NORMAL, MADV_RANDOM, MADV_FREE,
				      MADV_REMOVE, MADV_DONTFORK, MADV_DOFORK,
				      MADV_COLD, MADV_PAGEOUT, MADV_DONTDUMP };
	int i = (int)below(F.nmaps), a, err;
	struct ment *m;

	if (!F.nmaps)
		return;
	m = &F.maps[i];
	a = advice[below(ARRAY_SIZE(advice))];
	logf_("madvise %p len %#zx advice %d", (void *)m->addr, m->len, a);
	err = madvise(m->addr, m->len, a) ? errno : 0;
	judge("madvise", m->b->kind, err, WANT_ANY, 0);
	if (!err && (a == MADV_DONTFORK || a == MADV_DOFORK))
		m->dontfork = a == MADV_DONTFORK;
}

static void op_mprotect(void)
{
	int i = (int)below(F.nmaps), prot, err;
	struct ment *m;

	if (!F.nmaps)
		return;
	m = &F.maps[i];
	prot = (int)below(4);
	logf_("mprotect %p len %#zx prot %d -> %d (mode %d)", (void *)m->addr,
	      m->len, m->prot, prot, m->b->accmode);
	err = mprotect(m->addr, m->len, prot) ? errno : 0;
	if ((prot & PROT_WRITE) && m->shared && m->b->accmode == O_RDONLY)
		judge("mprotect writable on an O_RDONLY buffer", m->b->kind,
		      err, WANT_FAIL, EACCES);
	else
		judge("mprotect", m->b->kind, err, WANT_ANY, 0);
	if (!err)
		m->prot = prot;
}

/* Read or write one page of a mapping; faults only where they must. */
static void op_touch(void)
{
	int i = (int)below(F.nmaps), write = chance(40), r;
	uint8_t page[4096];
	uint64_t pg, bad = 0;
	struct ment *m;
	char *p;

	if (!F.nmaps || page_size > sizeof(page))
		return;
	m = &F.maps[i];
	pg = below(m->len / page_size);
	p = m->addr + pg * page_size;
	logf_("%s page %llu of %p (off %#llx, prot %d)", write ? "write" : "read",
	      (unsigned long long)pg, (void *)m->addr,
	      (unsigned long long)m->off, m->prot);
	r = touch_pages(p, page_size, write);
	/* On x86 any access right includes reading. */
	if (write ? (m->prot & PROT_WRITE) : m->prot != PROT_NONE) {
		if (r)
			violation("%s of a mapped page faulted: signal %d",
				  write ? "write" : "read", -r);
		else
			F.ok++;
	} else {
		if (r != -SIGSEGV)
			violation("%s of a page mapped with prot %d: %s",
				  write ? "write" : "read", m->prot,
				  r ? "not SIGSEGV" : "no fault");
		F.faults++;
		return;
	}
	if (r)
		return;
	if (write) {
		if (m->shared)
			m->b->content = C_UNKNOWN;
		return;
	}
	if (!m->shared)
		return;		/* a private copy may differ */
	memcpy(page, p, page_size);
	if (!content_matches(m->b, m->off + pg * page_size, page, page_size, &bad))
		violation("buffer byte %#llx read through a mapping is %#x, expected %#x",
			  (unsigned long long)bad,
			  page[bad - m->off - pg * page_size],
			  expected_byte(m->b, bad));
}

/* Write a known pattern through a fresh mapping (SYNC around it). */
static void op_write_pattern(void)
{
	int i = pick_fd_of(is_ours), r;
	struct fent *e;
	uint32_t seed;
	char *p;

	if (i < 0)
		return;
	e = &F.fds[i];
	if (e->b->accmode != O_RDWR || e->b->size > CHECK_BYTES_MAX)
		return;
	seed = (uint32_t)rnd();
	logf_("write pattern %#x into fd %d (%s, size %#llx)", seed, e->fd,
	      kind_names[e->kind], (unsigned long long)e->b->size);
	p = mmap(NULL, e->b->size, PROT_READ | PROT_WRITE, MAP_SHARED, e->fd, 0);
	if (p == MAP_FAILED) {
		judge("mmap for a pattern", e->kind, errno, WANT_OK, 0);
		return;
	}
	sync_buf(e->fd, DMABUF_CORE_SYNC_START | DMABUF_CORE_SYNC_WRITE);
	r = fill_pattern(p, e->b->size, seed, 0);
	sync_buf(e->fd, DMABUF_CORE_SYNC_END | DMABUF_CORE_SYNC_WRITE);
	munmap(p, e->b->size);
	if (r) {
		violation("writing a pattern through a fresh mapping: signal %d", -r);
		e->b->content = C_UNKNOWN;
		return;
	}
	F.ok++;
	e->b->content = C_TAP;
	e->b->seed = seed;
}

/* Read a whole buffer through a fresh mapping and compare. */
static void op_check_contents(void)
{
	int i = pick_fd_of(is_ours), r;
	uint64_t off, bad = 0;
	struct fent *e;
	char *p;

	if (i < 0)
		return;
	e = &F.fds[i];
	if (e->b->accmode == O_WRONLY || e->b->size > CHECK_BYTES_MAX ||
	    e->b->content == C_UNKNOWN)
		return;
	logf_("check contents of fd %d (%s, size %#llx, content %d)", e->fd,
	      kind_names[e->kind], (unsigned long long)e->b->size,
	      e->b->content);
	p = mmap(NULL, e->b->size, PROT_READ, MAP_SHARED, e->fd, 0);
	if (p == MAP_FAILED) {
		judge("mmap for a check", e->kind, errno, WANT_OK, 0);
		return;
	}
	r = touch_pages(p, e->b->size, 0);
	if (r) {
		violation("reading a fresh mapping: signal %d", -r);
	} else {
		for (off = 0; off < e->b->size; off += page_size)
			if (!content_matches(e->b, off, (uint8_t *)p + off,
					     page_size, &bad)) {
				violation("buffer byte %#llx is %#x, expected %#x",
					  (unsigned long long)bad,
					  ((uint8_t *)p)[bad],
					  expected_byte(e->b, bad));
				break;
			}
		F.ok++;
	}
	munmap(p, e->b->size);
}

static void op_demo_pattern(int verify)
{
	struct dmabuf_demo_pattern req = { 0 };
	int i = pick_fd_of(kind_is_exporter), valid, err;
	struct fent *e;
	void *p;

	if (i < 0)
		return;
	req.fd = pick_arg_fd(&e);
	req.seed = (uint32_t)rnd();
	if (chance(5))
		req.flags = 1;
	if (chance(5))
		req.reserved0 = 1;
	if (e && e->b && e->b->size > CHECK_BYTES_MAX && !req.flags)
		return;
	p = arg_ptr(&req, sizeof(req), &valid);
	logf_("%s fd %d (%s) seed %#x flags %#x ptr %p",
	      verify ? "VERIFY" : "FILL", req.fd,
	      e ? kind_names[e->kind] : "none", req.seed, req.flags, p);
	err = ioctl(F.fds[i].fd, verify ? DMABUF_DEMO_IOCTL_VERIFY :
		    DMABUF_DEMO_IOCTL_FILL, p) ? errno : 0;
	if (valid <= 0) {
		judge(verify ? "VERIFY" : "FILL", K_EXPORTER, err, WANT_FAIL,
		      valid ? 0 : EFAULT);
		if (!err && !verify && e && e->b)
			e->b->content = C_UNKNOWN;
		return;
	}
	if (req.flags || req.reserved0)
		judge("FILL/VERIFY (flags set)", K_EXPORTER, err, WANT_FAIL, EINVAL);
	else if (!e || e->kind != K_DEMO_BUF)
		judge("FILL/VERIFY of no demo buffer", K_EXPORTER, err, WANT_FAIL, 0);
	else
		judge(verify ? "VERIFY" : "FILL", K_EXPORTER, err, WANT_ANY, 0);
	if (err || !e || !e->b)
		return;
	memcpy(&req, F.scratch, sizeof(req));
	if (!verify) {
		e->b->content = C_DEMO;
		e->b->seed = req.seed;
		return;
	}
	if (e->b->content == C_DEMO && e->b->seed == req.seed &&
	    req.mismatches)
		violation("VERIFY after FILL: %llu mismatches, first at %#llx",
			  (unsigned long long)req.mismatches,
			  (unsigned long long)req.first_mismatch);
	if (e->b->content != C_UNKNOWN && req.checksum != expected_fnv(e->b))
		violation("VERIFY checksum %#llx, contents say %#llx",
			  (unsigned long long)req.checksum,
			  (unsigned long long)expected_fnv(e->b));
}

static void op_demo_storage(void)
{
	struct dmabuf_demo_storage st = { 0 };
	int i = pick_fd_of(kind_is_exporter), valid, err;
	struct fent *e;
	void *p;

	if (i < 0)
		return;
	st.fd = pick_arg_fd(&e);
	if (chance(5))
		st.reserved0 = 1;
	p = arg_ptr(&st, sizeof(st), &valid);
	logf_("STORAGE fd %d (%s) ptr %p", st.fd, e ? kind_names[e->kind] : "none", p);
	err = ioctl(F.fds[i].fd, DMABUF_DEMO_IOCTL_STORAGE, p) ? errno : 0;
	if (valid <= 0)
		judge("STORAGE", K_EXPORTER, err, WANT_FAIL, valid ? 0 : EFAULT);
	else if (st.reserved0)
		judge("STORAGE (reserved set)", K_EXPORTER, err, WANT_FAIL, EINVAL);
	else if (e && e->kind == K_DEMO_BUF)
		judge("STORAGE", K_EXPORTER, err, WANT_OK, 0);
	else
		judge("STORAGE of no demo buffer", K_EXPORTER, err, WANT_FAIL, 0);
}

/*
 * The one documented reason a valid attach or access of a buffer of ours
 * is refused with EBUSY by a demo importer: the 32-bit one (index 1)
 * cannot reach where the storage lies, and no bounce is allowed.
 */
static int out_of_reach_allowed(const struct fent *imp, const struct fent *e)
{
	return imp->index != 0 && is_ours(e->kind);
}

static int imp_ioctl(int imp, unsigned long cmd, int fd)
{
	struct dmabuf_demo_attach a = { .fd = fd };

	return ioctl(imp, cmd, &a) ? errno : 0;
}

/*
 * An ATTACH of buffer fd @e said EBUSY (@attach) or a DETACH said ENOENT:
 * find out from the importer whether it held the buffer, and leave things
 * as they were.  EBUSY is right when the file holds an attachment (DETACH
 * works; the ATTACH again restores it) or when the buffer is out of the
 * device's reach; ENOENT when it holds none (an ATTACH works, and is
 * undone).
 */
static void judge_hold(struct fent *imp, struct fent *e, int attach)
{
	int fd = e->fd, err;

	if (attach) {
		err = imp_ioctl(imp->fd, DMABUF_DEMO_IOCTL_DETACH, fd);
		if (!err) {
			err = imp_ioctl(imp->fd, DMABUF_DEMO_IOCTL_ATTACH, fd);
			if (err)
				violation("ATTACH again after a held attachment's DETACH: %s",
					  errname(err));
		} else if (err != ENOENT) {
			violation("DETACH after ATTACH's EBUSY: %s", errname(err));
		} else if (!out_of_reach_allowed(imp, e)) {
			violation("ATTACH of a %s on importer%d: EBUSY with no attachment held",
				  kind_names[e->kind], imp->index);
		}
		return;
	}
	err = imp_ioctl(imp->fd, DMABUF_DEMO_IOCTL_ATTACH, fd);
	if (!err) {
		err = imp_ioctl(imp->fd, DMABUF_DEMO_IOCTL_DETACH, fd);
		if (err)
			violation("DETACH of the probe's attachment: %s", errname(err));
	} else if (err == EBUSY) {
		if (!out_of_reach_allowed(imp, e))
			violation("DETACH said ENOENT, the ATTACH after it EBUSY (importer%d, %s)",
				  imp->index, kind_names[e->kind]);
	} else {
		violation("ATTACH after DETACH's ENOENT: %s", errname(err));
	}
}

static void op_attach(int detach)
{
	struct dmabuf_demo_attach a = { 0 };
	int i = pick_fd_of(kind_is_importer), valid, err;
	struct fent *e;
	void *p;

	if (i < 0)
		return;
	a.fd = pick_arg_fd(&e);
	/*
	 * Unknown flags only: ATTACH_MAP (bit 0, t_coherence) and
	 * ATTACH_CONTIG (bit 1, t_constrain) are valid.
	 */
	if (chance(5))
		a.flags = 1u << (2 + below(30));
	p = arg_ptr(&a, sizeof(a), &valid);
	logf_("%s fd %d (%s) flags %#x ptr %p", detach ? "DETACH" : "ATTACH",
	      a.fd, e ? kind_names[e->kind] : "none", a.flags, p);
	err = ioctl(F.fds[i].fd, detach ? DMABUF_DEMO_IOCTL_DETACH :
		    DMABUF_DEMO_IOCTL_ATTACH, p) ? errno : 0;
	if (valid < 0)
		/* _IOW: a request of zeros, fd 0 (stdin, no buffer). */
		judge("ATTACH/DETACH of fd 0", K_IMPORTER, err, WANT_FAIL, 0);
	else if (!valid)
		judge("ATTACH/DETACH", K_IMPORTER, err, WANT_FAIL, EFAULT);
	else if (a.flags)
		judge("ATTACH/DETACH (flags set)", K_IMPORTER, err, WANT_FAIL, EINVAL);
	else if (!e || !is_buf(e->kind))
		judge("ATTACH/DETACH of no buffer", K_IMPORTER, err, WANT_FAIL, 0);
	else if (err == (detach ? ENOENT : EBUSY)) {
		F.refused++;	/* checked with the importer: */
		judge_hold(&F.fds[i], e, !detach);
	} else {
		/* A valid buffer: success, or the refusal checked above. */
		judge(detach ? "DETACH" : "ATTACH", K_IMPORTER, err, WANT_OK, 0);
	}
}

static void op_access(void)
{
	struct dmabuf_demo_access a = { 0 };
	int i = pick_fd_of(kind_is_importer), valid, err;
	struct fent *e;
	void *p;

	if (i < 0)
		return;
	a.fd = pick_arg_fd(&e);
	a.op = chance(90) ? (uint32_t)below(2) : (uint32_t)rnd();
	a.seed = (uint32_t)rnd();
	if (chance(5))
		a.flags = 1;
	if (e && e->b && e->b->size > CHECK_BYTES_MAX && !a.flags)
		return;
	/*
	 * The kernel's heap would bounce for the 32-bit importer, in 1 MiB
	 * segments that swiotlb can not take (its console error fails the run).
	 */
	if (e && e->kind == K_HEAP_BUF && F.fds[i].index)
		return;
	p = arg_ptr(&a, sizeof(a), &valid);
	logf_("ACCESS fd %d (%s) op %u seed %#x flags %#x ptr %p", a.fd,
	      e ? kind_names[e->kind] : "none", a.op, a.seed, a.flags, p);
	err = ioctl(F.fds[i].fd, DMABUF_DEMO_IOCTL_ACCESS, p) ? errno : 0;
	if (valid <= 0) {
		judge("ACCESS", K_IMPORTER, err, WANT_FAIL, valid ? 0 : EFAULT);
		if (!err && e && e->b)
			e->b->content = C_UNKNOWN;
		return;
	}
	if (a.flags || a.op > DMABUF_DEMO_ACCESS_WRITE)
		judge("ACCESS (bad op or flags)", K_IMPORTER, err, WANT_FAIL, EINVAL);
	else if (!e || !is_buf(e->kind))
		judge("ACCESS of no buffer", K_IMPORTER, err, WANT_FAIL, 0);
	else if (err == EBUSY && out_of_reach_allowed(&F.fds[i], e))
		F.refused++;	/* the 32-bit device, storage out of its reach */
	else if (a.op == DMABUF_DEMO_ACCESS_WRITE && e->b &&
		 (e->b->accmode == O_RDONLY || e->b->accmode == O_ACCMODE))
		/*
		 * The demo importer writes no dma-buf whose file is not open
		 * for writing, ours or not: O_RDONLY, and O_ACCMODE, which the
		 * kernel's heap takes and opens for neither reading nor writing.
		 */
		judge("ACCESS WRITE of a read-only buffer", K_IMPORTER, err, WANT_FAIL, EACCES);
	else
		/* Anything else valid must work: reads, writes, heap buffers. */
		judge("ACCESS", K_IMPORTER, err, WANT_OK, 0);
	if (err || !e || !e->b)
		return;
	memcpy(&a, F.scratch, sizeof(a));
	if (a.op == DMABUF_DEMO_ACCESS_WRITE) {
		e->b->content = C_DEMO;
		e->b->seed = a.seed;
		return;
	}
	if (e->b->content != C_UNKNOWN && a.checksum != expected_fnv(e->b))
		violation("ACCESS READ of a %s saw checksum %#llx, contents say %#llx",
			  kind_names[e->kind], (unsigned long long)a.checksum,
			  (unsigned long long)expected_fnv(e->b));
	if (a.bounced && is_ours(e->kind))
		violation("ACCESS of a %s: %u bounced segments",
			  kind_names[e->kind], a.bounced);
}

static void op_info(void)
{
	struct dmabuf_demo_exporter_stats es;
	struct dmabuf_demo_device_info di;
	int i, err;

	if (chance(50)) {
		i = pick_fd_of(kind_is_importer);
		if (i < 0)
			return;
		logf_("DEVICE_INFO");
		err = ioctl(F.fds[i].fd, DMABUF_DEMO_IOCTL_DEVICE_INFO, &di) ? errno : 0;
		judge("DEVICE_INFO", K_IMPORTER, err, WANT_OK, 0);
	} else {
		i = pick_fd_of(kind_is_exporter);
		if (i < 0)
			return;
		logf_("EXPORTER_STATS");
		err = ioctl(F.fds[i].fd, DMABUF_DEMO_IOCTL_EXPORTER_STATS, &es) ? errno : 0;
		judge("EXPORTER_STATS", K_EXPORTER, err, WANT_OK, 0);
	}
}

/* Is @cmd one that fds of kind @k implement? */
static int known_cmd(enum kind k, unsigned int cmd)
{
	switch (k) {
	case K_NODE:
	case K_HEAP_NODE:
		if (_IOC_TYPE(cmd) == 'H' && _IOC_NR(cmd) == 0)
			return 1;	/* ALLOC, any size: the heap ABI */
		return k == K_NODE && (cmd == DMABUF_CORE_IOCTL_STATS ||
				       cmd == DMABUF_CORE_IOCTL_QUERY ||
				       cmd == DMABUF_CORE_IOCTL_CONSTRAIN);
	case K_EXPORTER:
		return cmd == DMABUF_DEMO_IOCTL_CREATE ||
		       cmd == DMABUF_DEMO_IOCTL_FILL ||
		       cmd == DMABUF_DEMO_IOCTL_VERIFY ||
		       cmd == DMABUF_DEMO_IOCTL_STORAGE ||
		       cmd == DMABUF_DEMO_IOCTL_EXPORTER_STATS;
	case K_IMPORTER:
		return cmd == DMABUF_DEMO_IOCTL_ATTACH ||
		       cmd == DMABUF_DEMO_IOCTL_DETACH ||
		       cmd == DMABUF_DEMO_IOCTL_ACCESS ||
		       cmd == DMABUF_DEMO_IOCTL_DEVICE_INFO ||
		       cmd == FZ_DEVICE_INFO_V1;
	case K_CORE_BUF:
	case K_DEMO_BUF:
	case K_HEAP_BUF:
		return cmd == DMABUF_CORE_IOCTL_SYNC || cmd == FZ_SET_NAME_A ||
		       cmd == FZ_SET_NAME_B || cmd == FZ_EXPORT_SYNC_FILE ||
		       cmd == FZ_IMPORT_SYNC_FILE;
	default:
		return 0;
	}
}

/* The types of the vfs's own ioctls (do_vfs_ioctl), never fuzzed raw. */
static int vfs_type(unsigned int type)
{
	return type == 0 || type == 'T' || type == 'X' || type == 'f' ||
	       type == 0x94 || type == 0x15;
}

/*
 * The fds open now, as a bitmap of the numbers below FD_SCAN: 0, or -1 when
 * /proc/self/fd cannot be read (then nothing may be closed by it).
 */
#define FD_SCAN		4096
static int open_fds(unsigned char *set)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *de;
	int fd;

	memset(set, 0, FD_SCAN / 8);
	if (!d)
		return -1;
	while ((de = readdir(d))) {
		fd = atoi(de->d_name);
		if (de->d_name[0] != '.' && fd >= 0 && fd < FD_SCAN && fd != dirfd(d))
			set[fd / 8] |= 1 << (fd % 8);
	}
	closedir(d);
	return 0;
}

/*
 * Close what a raw ioctl created: every fd open now that was not before
 * it.  The new fd's number is not always where we could read it: the
 * argument may straddle the scratch page's end, or the kernel's heap may
 * take an ALLOC with no read direction, install the fd and copy nothing
 * back (seen: a stress run ending with an 8 KiB /dev/dmabuf buffer held by
 * an fd the fuzzer never knew of).  Returns how many it closed.
 */
static int close_new_fds(const unsigned char *before)
{
	unsigned char now[FD_SCAN / 8];
	int fd, n = 0;

	if (open_fds(now))
		return 0;
	for (fd = 0; fd < FD_SCAN; fd++) {
		if ((now[fd / 8] & ~before[fd / 8]) & (1 << (fd % 8))) {
			logf_("raw ioctl made fd %d: closed", fd);
			close(fd);
			n++;
		}
	}
	return n;
}

/*
 * The regression check for close_new_fds(): an ALLOC whose result ends at
 * the scratch page's end, where op_raw_ioctl() once did not look.  Draws no
 * random numbers, so that a seed replays as before.
 */
static void check_raw_fd_cleanup(void)
{
	struct dmabuf_core_alloc a = { .len = page_size,
				       .fd_flags = O_RDWR | O_CLOEXEC };
	char *p = F.scratch + page_size - sizeof(a);
	unsigned char before[FD_SCAN / 8];
	int i, err, n;

	tg_begin("a raw ALLOC whose result ends at the scratch page leaves no fd behind");
	for (i = 0; i < F.nfds && F.fds[i].kind != K_NODE; i++)
		;
	if (CHECK(i < F.nfds, "no /dev/dmabuf fd") &&
	    CHECK(!open_fds(before), "/proc/self/fd: %s", strerror(errno))) {
		memcpy(p, &a, sizeof(a));
		err = ioctl(F.fds[i].fd, DMABUF_CORE_IOCTL_ALLOC, p) ? errno : 0;
		n = close_new_fds(before);
		CHECK(!err && n == 1, "ALLOC: %s, %d new fds closed", strerror(err), n);
	}
	tg_end();
}

/* A raw ioctl: random number, direction, size and argument. */
static void op_raw_ioctl(void)
{
	static const unsigned int types[] = { 'H', 'b', 0xDC };
	int i = pick_fd_of(NULL), valid, err, known, scanned, n;
	unsigned int cmd, type, nr, dir, size;
	unsigned char before[FD_SCAN / 8];
	struct fent *e;
	uint64_t junk[64];
	void *p;
	size_t j;

	if (i < 0)
		return;
	e = &F.fds[i];
	for (j = 0; j < ARRAY_SIZE(junk); j++)
		junk[j] = chance(50) ? 0 : rnd();
	do {
		type = chance(85) || e->kind == K_FOREIGN || e->kind == K_SOCK ?
		       types[below(ARRAY_SIZE(types))] : (unsigned int)below(256);
	} while (vfs_type(type));
	nr = chance(70) ? (unsigned int)below(0x28) : (unsigned int)below(256);
	/* The kernel's heap takes any number 0 as ALLOC, whatever its type. */
	if (e->kind == K_HEAP_NODE && !nr)
		nr = 1;
	dir = (unsigned int)below(4);
	size = chance(50) ? (unsigned int)below(80) : (unsigned int)below(1u << 14);
	cmd = _IOC(dir, type, nr, size);
	known = known_cmd(e->kind, cmd);
	/* Keep raw ALLOCs small: a random length could be most of RAM. */
	if (known && _IOC_TYPE(cmd) == 'H')
		junk[0] = page_size * (1 + below(4));
	p = arg_ptr(junk, sizeof(junk) < size ? sizeof(junk) : size, &valid);
	if (size > sizeof(junk) && p == F.scratch)
		p = F.scratch + page_size - 8;	/* runs into the guard page */
	logf_("raw ioctl fd %d (%s) cmd %#x ptr %p%s", e->fd,
	      kind_names[e->kind], cmd, p, known ? " (known)" : "");
	scanned = known && !open_fds(before);
	err = ioctl(e->fd, cmd, p) ? errno : 0;
	if (!known) {
		/*
		 * Foreign fds get only our numbers, which none of them
		 * knows; the kernel's heap answers EINVAL to numbers it
		 * has no entry for.
		 */
		judge("unknown ioctl", e->kind, err,
		      e->kind == K_HEAP_NODE ? WANT_ANY : WANT_FAIL, ENOTTY);
		return;
	}
	judge("raw ioctl", e->kind, err, WANT_ANY, 0);
	/*
	 * Whatever it created has to be closed again. A failed call of ours
	 * must create nothing; the kernel's heap installs the fd before it
	 * copies the result out, and keeps it when that copy fails.
	 */
	n = scanned ? close_new_fds(before) : 0;
	if (err && n && e->kind != K_HEAP_NODE)
		violation("raw ioctl %#x on %s failed (%s) but left %d new fds",
			  cmd, kind_names[e->kind], strerror(err), n);
	if (err)
		return;
	forget_all_contents();	/* whatever it did, we did not follow */
}

static void op_set_name(void)
{
	static const char *const names[] = { "fuzz", "", "a-rather-long-name-for-a-buffer-that-goes-on" };
	int i = pick_fd_of(is_buf), err;
	struct fent *e;

	if (i < 0)
		return;
	e = &F.fds[i];
	logf_("SET_NAME fd %d (%s)", e->fd, kind_names[e->kind]);
	err = ioctl(e->fd, chance(50) ? FZ_SET_NAME_A : FZ_SET_NAME_B,
		    chance(10) ? NULL : names[below(ARRAY_SIZE(names))]) ? errno : 0;
	judge("SET_NAME", e->kind, err, WANT_ANY, 0);
}

static void op_file_ops(void)
{
	int i = pick_fd_of(is_buf), err = 0;
	char buf[64];
	struct pollfd pfd;
	struct stat st;
	struct fent *e;

	if (i < 0)
		return;
	e = &F.fds[i];
	switch (below(7)) {
	case 0:
		logf_("read fd %d", e->fd);
		err = read(e->fd, buf, sizeof(buf)) < 0 ? errno : 0;
		judge("read", e->kind, err, WANT_FAIL, 0);
		break;
	case 1:
		logf_("write fd %d", e->fd);
		err = write(e->fd, buf, sizeof(buf)) < 0 ? errno : 0;
		judge("write", e->kind, err, WANT_FAIL, 0);
		break;
	case 2:
		logf_("lseek fd %d", e->fd);
		err = lseek(e->fd, (off_t)below(e->b->size + 1), (int)below(3)) < 0 ? errno : 0;
		judge("lseek", e->kind, err, WANT_ANY, 0);
		break;
	case 3:
		logf_("fstat fd %d", e->fd);
		err = fstat(e->fd, &st) ? errno : 0;
		judge("fstat", e->kind, err, WANT_OK, 0);
		break;
	case 4:
		logf_("poll fd %d", e->fd);
		pfd.fd = e->fd;
		pfd.events = POLLIN | POLLOUT;
		err = poll(&pfd, 1, 0) < 0 ? errno : 0;
		judge("poll", e->kind, err, WANT_OK, 0);
		break;
	case 5:
		logf_("ftruncate fd %d", e->fd);
		err = ftruncate(e->fd, (off_t)page_size) ? errno : 0;
		judge("ftruncate", e->kind, err, WANT_FAIL, 0);
		break;
	default:
		logf_("fcntl F_SETFL fd %d", e->fd);
		err = fcntl(e->fd, F_SETFL, O_NONBLOCK) < 0 ? errno : 0;
		judge("fcntl", e->kind, err, WANT_ANY, 0);
	}
}

static void op_sockpair(void)
{
	int sv[2], a, b;

	if (F.nfds + 2 > MAX_FDS)
		return;
	logf_("socketpair");
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv)) {
		judge("socketpair", K_SOCK, errno, WANT_ANY, 0);
		return;
	}
	a = fd_add(sv[0], K_SOCK, NULL);
	b = fd_add(sv[1], K_SOCK, NULL);
	F.fds[a].peer = b;
	F.fds[b].peer = a;
}

static void op_send_fd(void)
{
	int s = pick_fd_of(kind_is_sock), i, r;
	struct fent *peer;

	/* A child would change queues the parent keeps books of. */
	if (F.child)
		return;
	if (s < 0) {
		op_sockpair();
		return;
	}
	i = pick_fd_of(is_buf);
	if (i < 0 || F.fds[s].peer < 0)
		return;
	peer = &F.fds[F.fds[s].peer];
	if (peer->queued == MAX_QUEUE)
		return;
	logf_("send fd %d (%s) over %d", F.fds[i].fd, kind_names[F.fds[i].kind],
	      F.fds[s].fd);
	r = send_fd(F.fds[s].fd, F.fds[i].fd, "x", 1);
	judge("send fd", K_SOCK, -r, WANT_OK, 0);
	if (r)
		return;
	/* Queued at the peer: it holds the buffer until received or closed. */
	peer->queue[peer->queued++] = F.fds[i].b;
	F.fds[i].b->refs++;
	/* Sometimes close the original right away: the fd is in flight. */
	if (chance(30)) {
		close(F.fds[i].fd);
		fd_forget(i);
	}
}

static void op_recv_fd(void)
{
	int s = pick_fd_of(kind_is_sock), fd, j;
	struct bobj *b;
	struct fent *e;
	char x;

	if (s < 0 || F.child)
		return;
	e = &F.fds[s];
	if (!e->queued)
		return;
	logf_("recv fd on %d", e->fd);
	fd = recv_fd(e->fd, &x, 1);
	/* A peer closed with messages unread in its own queue: ECONNRESET once. */
	if (fd == -ECONNRESET && e->peer < 0) {
		F.refused++;
		return;
	}
	judge("recv fd", K_SOCK, fd < 0 ? -fd : 0, WANT_OK, 0);
	if (fd < 0)
		return;
	b = e->queue[0];
	for (j = 1; j < e->queued; j++)
		e->queue[j - 1] = e->queue[j];
	e->queued--;
	/* The queue's reference moves to the new fd. */
	fd_add(fd, b->kind, b);
	bobj_put(b);
}

static void run_ops(uint64_t n);

static void op_fork(void)
{
	uint64_t child_seed = rnd();
	int status;
	pid_t pid;

	if (F.child)
		return;
	logf_("fork (child seed %#llx)", (unsigned long long)child_seed);
	fflush(stdout);
	pid = fork();
	if (pid < 0) {
		judge("fork", K_FOREIGN, errno, WANT_ANY, 0);
		return;
	}
	if (!pid) {
		int i;

		F.child = 1;
		/* MADV_DONTFORK mappings stayed with the parent. */
		for (i = F.nmaps - 1; i >= 0; i--)
			if (F.maps[i].dontfork)
				map_forget(i);
		F.rng = child_seed ? child_seed : 1;
		F.violations = 0;
		run_ops(40);
		fflush(stdout);
		_exit(F.violations ? 1 : 0);
	}
	F.children++;
	forget_all_contents();	/* the child may have written through mappings */
	if (waitpid(pid, &status, 0) != pid)
		violation("waitpid: %s", strerror(errno));
	else if (!WIFEXITED(status) || WEXITSTATUS(status))
		violation("child (seed %#llx) %s %d",
			  (unsigned long long)child_seed,
			  WIFEXITED(status) ? "exited with" : "killed by signal",
			  WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
}

static int open_node(const char *path, enum kind k, int flags)
{
	int fd = open(path, flags | O_CLOEXEC), i;

	if (fd < 0)
		return -errno;
	i = fd_add(fd, k, NULL);
	if (i < 0)
		return -EMFILE;
	if (k == K_IMPORTER)
		F.fds[i].index = path[strlen(path) - 1] - '0';
	return 0;
}

static void op_reopen(void)
{
	char path[64];
	int err;

	switch (below(4)) {
	case 0:
		logf_("open " DMABUF_DEV);
		err = -open_node(DMABUF_DEV, K_NODE, chance(80) ? O_RDWR : O_RDONLY);
		judge("open /dev/dmabuf", K_NODE, err, WANT_OK, 0);
		break;
	case 1:
		logf_("open " EXPORTER_DEV);
		err = -open_node(EXPORTER_DEV, K_EXPORTER, O_RDWR);
		judge("open exporter", K_EXPORTER, err, WANT_OK, 0);
		break;
	case 2:
		snprintf(path, sizeof(path), IMPORTER_DEV, (unsigned int)below(2));
		logf_("open %s", path);
		err = -open_node(path, K_IMPORTER, O_RDWR);
		judge("open importer", K_IMPORTER, err, WANT_OK, 0);
		break;
	default:
		if (!F.have_heap)
			return;
		logf_("open " HEAP_DEV);
		err = -open_node(HEAP_DEV, K_HEAP_NODE, O_RDONLY);
		judge("open heap", K_HEAP_NODE, err, WANT_OK, 0);
	}
}

/* Closes a node of a kind that has several open (the last one stays). */
static void op_close_node(void)
{
	int i = pick_fd_of(NULL), j, n = 0;
	enum kind k;

	if (i < 0)
		return;
	k = F.fds[i].kind;
	if (is_buf(k) || k == K_SOCK || k == K_FOREIGN)
		return;
	for (j = 0; j < F.nfds; j++)
		n += F.fds[j].kind == k;
	if (n < 2)
		return;
	logf_("close node fd %d (%s)", F.fds[i].fd, kind_names[k]);
	judge("close node", k, close(F.fds[i].fd) ? errno : 0, WANT_OK, 0);
	fd_forget(i);
}

struct op {
	void (*fn)(void);
	unsigned int weight;
};

static void op_demo_fill(void) { op_demo_pattern(0); }
static void op_demo_verify(void) { op_demo_pattern(1); }
static void op_attach_(void) { op_attach(0); }
static void op_detach_(void) { op_attach(1); }

static const struct op ops[] = {
	{ op_alloc, 12 }, { op_demo_create, 6 }, { op_close, 10 },
	{ op_dup, 4 }, { op_query, 5 }, { op_stats, 2 }, { op_sync, 5 },
	{ op_mmap, 10 }, { op_munmap, 5 }, { op_mremap, 3 },
	{ op_madvise, 3 }, { op_mprotect, 2 }, { op_touch, 10 },
	{ op_write_pattern, 3 }, { op_check_contents, 3 },
	{ op_demo_fill, 3 }, { op_demo_verify, 3 }, { op_demo_storage, 2 },
	{ op_attach_, 4 }, { op_detach_, 4 }, { op_access, 4 },
	{ op_info, 1 }, { op_raw_ioctl, 8 }, { op_set_name, 2 },
	{ op_file_ops, 3 }, { op_send_fd, 3 }, { op_recv_fd, 3 },
	{ op_fork, 1 }, { op_reopen, 1 }, { op_close_node, 1 },
};

static void run_ops(uint64_t n)
{
	unsigned int total = 0, w;
	uint64_t end = F.op + n;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(ops); i++)
		total += ops[i].weight;
	for (; F.op < end; F.op++) {
		w = (unsigned int)below(total);
		for (i = 0; w >= ops[i].weight; i++)
			w -= ops[i].weight;
		F.log[F.op % LOG_LINES][0] = 0;
		/* A full table makes new fds bounce: thin it out instead. */
		if (F.nfds > MAX_FDS - 8 && chance(50))
			op_close();
		else
			ops[i].fn();
	}
}

/* ------------------------------------------------------------------ */
/* Setup and the final books                                           */

static int setup(void)
{
	int pfd[2], fd;

	F.scratch = mmap(NULL, 2 * page_size, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	F.rdonly = mmap(NULL, page_size, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS,
			-1, 0);
	if (F.scratch == MAP_FAILED || F.rdonly == MAP_FAILED ||
	    mprotect(F.scratch + page_size, page_size, PROT_NONE))
		return -errno;
	F.max_core = (uint64_t)read_param_ll(DMABUF_PARAM_MAX_SIZE) * MiB;
	if (!F.max_core)	/* 0: half of RAM */
		F.max_core = (total_ram_bytes() / 2) & ~((uint64_t)page_size - 1);
	F.max_demo = (uint64_t)read_param_ll("/sys/module/dmabuf_demo_exporter/parameters/max_size_mb") * MiB;
	if ((int64_t)F.max_core <= 0 || (int64_t)F.max_demo <= 0 ||
	    read_param_ll(DMABUF_PARAM_MAX_SIZE) < 0)
		return -ENOENT;
	if (open_node(DMABUF_DEV, K_NODE, O_RDWR) ||
	    open_node(EXPORTER_DEV, K_EXPORTER, O_RDWR) ||
	    open_node("/dev/dmabuf-demo-importer0", K_IMPORTER, O_RDWR) ||
	    open_node("/dev/dmabuf-demo-importer1", K_IMPORTER, O_RDWR))
		return -ENODEV;
	F.have_heap = !open_node(HEAP_DEV, K_HEAP_NODE, O_RDONLY);
	if (pipe2(pfd, O_CLOEXEC))
		return -errno;
	fd_add(pfd[0], K_FOREIGN, NULL);
	fd_add(pfd[1], K_FOREIGN, NULL);
	fd = memfd_create("t_fuzz", MFD_CLOEXEC);
	if (fd >= 0)
		fd_add(fd, K_FOREIGN, NULL);
	fd = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (fd >= 0)
		fd_add(fd, K_FOREIGN, NULL);
	return 0;
}

static void teardown(void)
{
	while (F.nmaps) {
		munmap(F.maps[0].addr, F.maps[0].len);
		map_forget(0);
	}
	while (F.nfds) {
		close(F.fds[0].fd);
		fd_forget(0);
	}
}

/* Exporter counters that must balance once every buffer is gone. */
static void expect_exporter_balanced(const struct dmabuf_demo_exporter_stats *a,
				     const struct dmabuf_demo_exporter_stats *b)
{
	CHECK(b->created - a->created == b->released - a->released,
	      "exporter: %llu created, %llu released",
	      (unsigned long long)(b->created - a->created),
	      (unsigned long long)(b->released - a->released));
	CHECK(b->attached - a->attached == b->detached - a->detached,
	      "exporter: %llu attached, %llu detached",
	      (unsigned long long)(b->attached - a->attached),
	      (unsigned long long)(b->detached - a->detached));
	CHECK(b->mapped - a->mapped == b->unmapped - a->unmapped,
	      "exporter: %llu mapped, %llu unmapped",
	      (unsigned long long)(b->mapped - a->mapped),
	      (unsigned long long)(b->unmapped - a->unmapped));
}

int main(int argc, char **argv)
{
	struct dmabuf_demo_exporter_stats es0, es1;
	uint64_t seed = 0, nops = 20000;
	int opt, fds0, i, have_seed = 0;
	struct dmabuf_core_stats s0;
	double t0, secs;

	tap_init("t_fuzz");
	if (harness_arg_u64("fuzz_seed", &seed))
		have_seed = 1;
	harness_arg_u64("fuzz_ops", &nops);
	while ((opt = getopt(argc, argv, "s:n:")) != -1) {
		switch (opt) {
		case 's':
			seed = strtoull(optarg, NULL, 0);
			have_seed = 1;
			break;
		case 'n':
			nops = strtoull(optarg, NULL, 0);
			break;
		default:
			fprintf(stderr, "usage: t_fuzz [-s SEED] [-n OPS]\n");
			return 2;
		}
	}
	if (!have_seed) {
		int ufd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);

		if (ufd < 0 || read(ufd, &seed, sizeof(seed)) != sizeof(seed))
			seed = (uint64_t)now_sec() * 1000003;
		if (ufd >= 0)
			close(ufd);
	}
	F.rng = seed ? seed : 1;
	signal(SIGPIPE, SIG_IGN);
	tap_set_crash_hook(crash_report);

	tg_begin("setup");
	fds0 = count_open_fds();
	CHECK(fds0 >= 0, "count_open_fds: %s", errstr(-fds0));
	CHECK(expect_rc("STATS before", stats(&s0), 0), "no baseline");
	CHECK(expect_rc("EXPORTER_STATS before", demo_exporter_stats(&es0), 0),
	      "no exporter baseline");
	exporter_close();
	i = setup();
	CHECK(!i, "opening the nodes: %s", errstr(-i));
	tg_note("seed %#llx, %llu operations, %d fds open at start",
		(unsigned long long)seed, (unsigned long long)nops, fds0);
	if (!tg_end())
		return tap_finish();
	check_raw_fd_cleanup();

	t0 = now_sec();
	run_ops(nops);
	secs = now_sec() - t0;

	tg_begin("random operations met the oracle");
	for (i = 0; i < MAX_REPORTS && (unsigned long)i < F.violations; i++)
		tg_fail("%s", F.first[i]);
	tg_note("seed %#llx: %llu ops in %.1f s, %lu succeeded, %lu refused, %lu expected faults, %lu forks; ok by fd kind: core-buf %lu demo-buf %lu heap-buf %lu node %lu importer %lu",
		(unsigned long long)seed, (unsigned long long)nops, secs,
		F.ok, F.refused, F.faults, F.children, F.by_kind_ok[K_CORE_BUF],
		F.by_kind_ok[K_DEMO_BUF], F.by_kind_ok[K_HEAP_BUF],
		F.by_kind_ok[K_NODE], F.by_kind_ok[K_IMPORTER]);
	if (F.violations)
		tg_fail("%lu violations in all; rerun with -s %#llx -n %llu",
			F.violations, (unsigned long long)seed,
			(unsigned long long)nops);
	tg_end();

	teardown();
	/* Closing a socket drops the fds in flight in it at once. */
	expect_stats_baseline(&s0);

	tg_begin("exporter books balanced, open files back to baseline");
	if (expect_rc("EXPORTER_STATS after", demo_exporter_stats(&es1), 0))
		expect_exporter_balanced(&es0, &es1);
	exporter_close();
	i = count_open_fds();
	CHECK(i == fds0 + 1, "open fds: %d at start, %d at the end (+1: /dev/dmabuf of the stats)",
	      fds0, i);
	tg_end();
	return tap_finish();
}
