/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Tiny test helpers for the dmabuf-core userspace tests.
 *
 * Output protocol (stdout, one line per assertion group):
 *   PASS: <prog>: <group>[: <note>]
 *   FAIL: <prog>: <group>: <detail>[; <detail>...]
 *   SKIP: <prog>: <group>: <reason>
 *   # <prog>: N passed, M failed, K skipped   (last line)
 *
 * A group is opened with tg_begin(), any number of checks record failure
 * details into it, tg_end() prints its single line.  Checks never abort:
 * every group runs, the program exits 1 from tap_finish() if any group
 * failed.  A group that could not run here (the kernel lacks the peer it
 * needs) calls tg_skip() with the reason: it is a skip, never a pass, and
 * the harness accepts it only where the name list allows it
 * (tests/guest/expected-names.txt).  A failure recorded in the group
 * before or after tg_skip() still makes it a FAIL.
 */
#ifndef DMABUF_TESTS_TAP_H
#define DMABUF_TESTS_TAP_H

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* -I include comes first: name the UAPI header, not the kernel one. */
#include <uapi/linux/dmabuf_core.h>

#define DMABUF_DEV		"/dev/dmabuf"
#define DMABUF_PARAM_MAX_SIZE	"/sys/module/dmabuf_core/parameters/max_size_mb"
#define EXPORTER_NAME		"dmabuf_core"

#define KiB	(1024ULL)
#define MiB	(1024ULL * KiB)
#define GiB	(1024ULL * MiB)
#define TiB	(1024ULL * GiB)

#ifndef ARRAY_SIZE
#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))
#endif

#define TAP_PRINTF(a, b)	__attribute__((format(printf, a, b)))

extern const char *tap_prog;
extern int tap_passed, tap_failed, tap_skipped;
extern size_t page_size;

/* Program start / end.  tap_finish() returns the exit status (0 or 1). */
void tap_init(const char *prog);
int tap_finish(void);

/* Assertion groups. */
void tg_begin(const char *name);
void tg_fail(const char *fmt, ...) TAP_PRINTF(1, 2);
void tg_fail_at(int line, const char *fmt, ...) TAP_PRINTF(2, 3);
void tg_note(const char *fmt, ...) TAP_PRINTF(1, 2);	/* PASS-line note */
/* The group did not run here: SKIP line with this reason. */
void tg_skip(const char *fmt, ...) TAP_PRINTF(1, 2);
int tg_ok(void);	/* no failure recorded in the open group so far */
int tg_end(void);	/* prints the line; returns 1 if the group passed */

/* Records "<fmt...> [line N]" when cond is false; evaluates to cond. */
#define CHECK(cond, ...) \
	((cond) ? 1 : (tg_fail_at(__LINE__, __VA_ARGS__), 0))

/* "<what>: expected <want>, got <got>" for unsigned 64-bit values. */
#define CHECK_U64(what, got, want) ({					\
	unsigned long long got__ = (unsigned long long)(got);		\
	unsigned long long want__ = (unsigned long long)(want);		\
	CHECK(got__ == want__, "%s: expected %llu, got %llu",		\
	      (what), want__, got__);					\
})

/* Errno helpers. */
const char *errname(int err);	/* "EINVAL" */
const char *errstr(int err);	/* "EINVAL (Invalid argument)" */

/*
 * libc convention: ret == -1 and err == errno on failure.  want == 0 means
 * "must succeed" (ret >= 0, any value); want != 0 means "must fail with
 * errno want".  Records a failure in the open group; returns 1 if met.
 */
int expect_errno(long ret, int err, int want);
int expect_errno_d(const char *what, long ret, int err, int want);
/* Same for "value or -errno" results (alloc_buf(), query(), stats()...). */
int expect_rc(const char *what, long rc, int want);

/* Evaluates expr (a syscall-like call) and checks errno against want. */
#define EXPECT_ERRNO(expr, want) ({					\
	long r__; int e__;						\
	errno = 0;							\
	r__ = (long)(expr);						\
	e__ = errno;							\
	expect_errno_d(#expr, r__, e__, (want));			\
})

/* /dev/dmabuf, opened O_RDWR|O_CLOEXEC on first use; fd or -errno. */
int dev_fd(void);
/* Close that fd (it pins dmabuf_core); the next dev_fd() opens it again. */
void dev_close(void);

/* DMABUF_CORE_IOCTL_ALLOC on /dev/dmabuf: buffer fd or -errno. */
int alloc_buf(uint64_t len, uint32_t fd_flags);
/* DMABUF_CORE_IOCTL_QUERY (q zeroed first): 0 or -errno. */
int query(int fd, struct dmabuf_core_query *q);
/* DMABUF_CORE_IOCTL_STATS (s zeroed first): 0 or -errno. */
int stats(struct dmabuf_core_stats *s);
/* A group "every buffer released, counters at baseline" against @before. */
void expect_stats_baseline(const struct dmabuf_core_stats *before);
/* Query the buffer id: id, or 0 on error. */
uint64_t buf_id(int fd);
/* DMABUF_CORE_IOCTL_SYNC: 0 or -errno. */
int sync_buf(int fd, uint64_t flags);
/*
 * ioctl @cmd on @fd with an argument buffer big enough for any encoded
 * size must fail with ENOTTY; records a failure in the open group (an
 * unexpected ALLOC-like success has its fd closed).
 */
void expect_enotty(int fd, unsigned long cmd, const char *name);

/* Round up to the page size. */
static inline uint64_t page_round(uint64_t len)
{
	return (len + page_size - 1) & ~((uint64_t)page_size - 1);
}

/*
 * Memory access through mappings, with SIGSEGV/SIGBUS turned into a
 * return value instead of killing the test.  Pattern: 64-bit word at byte
 * offset `base + i*8` of a buffer holds pattern_word(seed, (base>>3) + i).
 * Lengths and bases are multiples of 8.
 *   return 0: done / matches; 1: mismatch (*bad = byte offset within p);
 *   -signo: the access faulted.
 */
uint64_t pattern_word(uint64_t seed, uint64_t index);
int fill_pattern(void *p, size_t len, uint64_t seed, size_t base);
int check_pattern(const void *p, size_t len, uint64_t seed, size_t base,
		  size_t *bad);
int check_zero(const void *p, size_t len, size_t *bad);
/*
 * Called with the signal number when SIGSEGV or SIGBUS hits outside a
 * guarded access, just before the program dies of it (for last words).
 */
void tap_set_crash_hook(void (*fn)(int sig));
/* Write one byte per page (write != 0) or read one byte per page. */
int touch_pages(void *p, size_t len, int write);
/* Describe a result of the functions above: "ok", "mismatch at ...". */
const char *mem_result(int r, size_t bad, char *buf, size_t buflen);

/* fd passing over a unix socket (SCM_RIGHTS) with a small payload. */
int send_fd(int sock, int fd, const void *data, size_t len);	/* 0 / -errno */
int recv_fd(int sock, void *data, size_t len);		/* fd / -errno */

/* Misc system facts. */
long long meminfo_kib(const char *key);		/* -1 if not found */
/*
 * 1 when the kernel keeps freed slab objects for a while (generic KASAN's
 * quarantine, on the debug kernel: boot.sh puts dmabuf_harness.
 * slab_quarantine=1 on its command line).  MemFree-based leak checks then
 * count unreclaimable slab as free; kmemleak finds slab leaks there.
 */
int harness_slab_quarantine(void);
/*
 * dmabuf_harness.@name=VALUE from the kernel command line (decimal, or hex
 * with 0x): 1 and *val set when present and well formed, else 0.
 */
int harness_arg_u64(const char *name, uint64_t *val);
uint64_t total_ram_bytes(void);
long long read_param_ll(const char *path);	/* -errno on failure */
/* Write @val to the file @path in one write: 0, -errno, -EIO if short. */
/* tracefs at TRACEFS, mounted if it was not: 1, or 0 when it cannot be. */
#define TRACEFS		"/sys/kernel/tracing"
int tracefs_ready(void);
int write_file(const char *path, const char *val);
int count_open_fds(void);			/* -errno on failure */
/* close(@fd) when it is one (>= 0): for the exits of a test. */
void close_if_open(int fd);
double now_sec(void);				/* CLOCK_MONOTONIC */

/* Small PRNG (xorshift64*), per-caller state. */
uint64_t rng_next(uint64_t *state);

/*
 * Forked helpers.  The child runs fn(arg, msg, msglen) and exits 0 when
 * fn returns 0; otherwise msg (if set) travels back through a pipe.
 * child_wait() returns 0 when the child succeeded, else -1 with msg set to
 * the child's message or to how it died.
 */
struct child {
	pid_t pid;
	int rfd;
};
typedef int (*child_fn)(void *arg, char *msg, size_t msglen);
int child_start(struct child *c, child_fn fn, void *arg);	/* 0 / -errno */
int child_wait(struct child *c, char *msg, size_t msglen);

#endif /* DMABUF_TESTS_TAP_H */
