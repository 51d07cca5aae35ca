// SPDX-License-Identifier: GPL-2.0-only
/* Tiny test helpers for the dmabuf-core userspace tests: see tap.h. */
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysinfo.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tap.h"

const char *tap_prog = "?";
int tap_passed, tap_failed, tap_skipped;
size_t page_size = 4096;

/* ------------------------------------------------------------------ */
/* Groups and output                                                   */

#define DETAIL_MAX 3000

static struct {
	int open;
	char name[160];
	char detail[DETAIL_MAX];
	size_t len;
	int nfail;
	int truncated;
	int skipped;
	char note[512];
} grp;

static void grp_append(const char *s)
{
	size_t n = strlen(s);

	if (grp.truncated)
		return;
	if (grp.len + n + 8 >= sizeof(grp.detail)) {
		strcpy(grp.detail + grp.len, " ...");
		grp.len += 4;
		grp.truncated = 1;
		return;
	}
	memcpy(grp.detail + grp.len, s, n + 1);
	grp.len += n;
}

void tg_begin(const char *name)
{
	if (grp.open)
		tg_end();
	memset(&grp, 0, sizeof(grp));
	grp.open = 1;
	snprintf(grp.name, sizeof(grp.name), "%s", name);
}

static void tg_vfail(int line, const char *fmt, va_list ap)
{
	char buf[1024];
	int n;

	if (!grp.open)
		tg_begin("(outside any group)");
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	/* Keep the protocol one line per group. */
	for (char *p = buf; *p; p++)
		if (*p == '\n' || *p == '\r')
			*p = ' ';
	if (line > 0 && n >= 0 && (size_t)n < sizeof(buf) - 16)
		snprintf(buf + n, sizeof(buf) - n, " [line %d]", line);
	if (grp.nfail++)
		grp_append("; ");
	grp_append(buf);
}

void tg_fail(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	tg_vfail(0, fmt, ap);
	va_end(ap);
}

void tg_fail_at(int line, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	tg_vfail(line, fmt, ap);
	va_end(ap);
}

void tg_note(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(grp.note, sizeof(grp.note), fmt, ap);
	va_end(ap);
}

void tg_skip(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(grp.note, sizeof(grp.note), fmt, ap);
	va_end(ap);
	grp.skipped = 1;
}

int tg_ok(void)
{
	return grp.nfail == 0;
}

int tg_end(void)
{
	int ok = grp.nfail == 0;

	if (!grp.open)
		return 1;
	if (ok && grp.skipped) {
		tap_skipped++;
		printf("SKIP: %s: %s: %s\n", tap_prog, grp.name, grp.note);
	} else if (ok) {
		tap_passed++;
		if (grp.note[0])
			printf("PASS: %s: %s: %s\n", tap_prog, grp.name, grp.note);
		else
			printf("PASS: %s: %s\n", tap_prog, grp.name);
	} else {
		tap_failed++;
		printf("FAIL: %s: %s: %s\n", tap_prog, grp.name, grp.detail);
	}
	fflush(stdout);
	grp.open = 0;
	return ok;
}

/* ------------------------------------------------------------------ */
/* Fault guard                                                         */

static __thread sigjmp_buf *guard_jb;
static void (*crash_hook)(int sig);

void tap_set_crash_hook(void (*fn)(int sig))
{
	crash_hook = fn;
}

static void guard_handler(int sig)
{
	if (guard_jb)
		siglongjmp(*guard_jb, sig);
	/* Not inside a guarded access: die the normal way. */
	if (crash_hook)
		crash_hook(sig);
	signal(sig, SIG_DFL);
	raise(sig);
}

void tap_init(const char *prog)
{
	struct sigaction sa;
	long ps = sysconf(_SC_PAGESIZE);

	tap_prog = prog;
	if (ps > 0)
		page_size = (size_t)ps;
	setvbuf(stdout, NULL, _IOLBF, 0);

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = guard_handler;
	sa.sa_flags = SA_NODEFER;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGSEGV, &sa, NULL);
	sigaction(SIGBUS, &sa, NULL);
	/* A dying peer must not kill us through a socket write. */
	signal(SIGPIPE, SIG_IGN);
}

int tap_finish(void)
{
	if (grp.open)
		tg_end();
	printf("# %s: %d passed, %d failed, %d skipped\n", tap_prog, tap_passed,
	       tap_failed, tap_skipped);
	fflush(stdout);
	return tap_failed ? 1 : 0;
}

/* ------------------------------------------------------------------ */
/* errno                                                               */

const char *errname(int err)
{
	switch (err) {
	case 0: return "0";
	case EPERM: return "EPERM";
	case ENOENT: return "ENOENT";
	case ESRCH: return "ESRCH";
	case EINTR: return "EINTR";
	case EIO: return "EIO";
	case ENXIO: return "ENXIO";
	case E2BIG: return "E2BIG";
	case EBADF: return "EBADF";
	case ECHILD: return "ECHILD";
	case EAGAIN: return "EAGAIN";
	case ENOMEM: return "ENOMEM";
	case EACCES: return "EACCES";
	case EFAULT: return "EFAULT";
	case EBUSY: return "EBUSY";
	case EEXIST: return "EEXIST";
	case ENODEV: return "ENODEV";
	case ENOTDIR: return "ENOTDIR";
	case EISDIR: return "EISDIR";
	case EINVAL: return "EINVAL";
	case ENFILE: return "ENFILE";
	case EMFILE: return "EMFILE";
	case ENOTTY: return "ENOTTY";
	case EFBIG: return "EFBIG";
	case ENOSPC: return "ENOSPC";
	case ESPIPE: return "ESPIPE";
	case EROFS: return "EROFS";
	case EPIPE: return "EPIPE";
	case ERANGE: return "ERANGE";
	case ENOSYS: return "ENOSYS";
	case EOVERFLOW: return "EOVERFLOW";
	case EOPNOTSUPP: return "EOPNOTSUPP";
	case ENOBUFS: return "ENOBUFS";
	case ETIMEDOUT: return "ETIMEDOUT";
	case EMSGSIZE: return "EMSGSIZE";
	case 512: return "ERESTARTSYS";
	case 513: return "ERESTARTNOINTR";
	case 514: return "ERESTARTNOHAND";
	case 515: return "ENOIOCTLCMD";
	case 516: return "ERESTART_RESTARTBLOCK";
	case 517: return "EPROBE_DEFER";
	case 524: return "ENOTSUPP";
	default: return "E?";
	}
}

const char *errstr(int err)
{
	static __thread char buf[96];

	if (err == 0)
		return "no error";
	snprintf(buf, sizeof(buf), "%s (%s)", errname(err), strerror(err));
	return buf;
}

int expect_errno_d(const char *what, long ret, int err, int want)
{
	char w[96];

	if (!what)
		what = "call";
	if (want == 0) {
		if (ret != -1)
			return 1;
		tg_fail("%s: expected success, got %ld, errno %s", what, ret,
			errstr(err));
		return 0;
	}
	snprintf(w, sizeof(w), "%s", errstr(want));
	if (ret != -1) {
		tg_fail("%s: expected -1/%s, got %ld (succeeded)", what, w, ret);
		return 0;
	}
	if (err != want) {
		tg_fail("%s: expected errno %s, got %s", what, w, errstr(err));
		return 0;
	}
	return 1;
}

int expect_errno(long ret, int err, int want)
{
	return expect_errno_d(NULL, ret, err, want);
}

int expect_rc(const char *what, long rc, int want)
{
	char w[96];

	if (!what)
		what = "call";
	if (want == 0) {
		if (rc >= 0)
			return 1;
		tg_fail("%s: expected success, got %s", what, errstr((int)-rc));
		return 0;
	}
	snprintf(w, sizeof(w), "%s", errstr(want));
	if (rc >= 0) {
		tg_fail("%s: expected %s, got success (%ld)", what, w, rc);
		return 0;
	}
	if (-rc != want) {
		tg_fail("%s: expected %s, got %s", what, w, errstr((int)-rc));
		return 0;
	}
	return 1;
}

/* ------------------------------------------------------------------ */
/* /dev/dmabuf and buffer ioctls                                       */

static int devfd = -1;
static int deverr;

int dev_fd(void)
{
	if (devfd >= 0)
		return devfd;
	devfd = open(DMABUF_DEV, O_RDWR | O_CLOEXEC);
	if (devfd < 0) {
		deverr = errno;
		return -deverr;
	}
	return devfd;
}

void dev_close(void)
{
	if (devfd >= 0)
		close(devfd);
	devfd = -1;
}

int alloc_buf(uint64_t len, uint32_t fd_flags)
{
	struct dmabuf_core_alloc a;
	int d = dev_fd();

	if (d < 0)
		return d;
	memset(&a, 0, sizeof(a));
	a.len = len;
	a.fd_flags = fd_flags;
	if (ioctl(d, DMABUF_CORE_IOCTL_ALLOC, &a) < 0)
		return -errno;
	return (int)a.fd;
}

void expect_stats_baseline(const struct dmabuf_core_stats *before)
{
	struct dmabuf_core_stats after;

	tg_begin("every buffer released, counters at baseline");
	if (expect_rc("STATS after", stats(&after), 0)) {
		CHECK_U64("live_buffers", after.live_buffers, before->live_buffers);
		CHECK_U64("system_pages", after.system_pages, before->system_pages);
		CHECK_U64("live_bytes", after.live_bytes, before->live_bytes);
	}
	tg_end();
}

int query(int fd, struct dmabuf_core_query *q)
{
	int d = dev_fd();

	memset(q, 0, sizeof(*q));
	if (d < 0)
		return d;
	q->fd = fd;
	if (ioctl(d, DMABUF_CORE_IOCTL_QUERY, q) < 0)
		return -errno;
	return 0;
}

int stats(struct dmabuf_core_stats *s)
{
	int d = dev_fd();

	memset(s, 0, sizeof(*s));
	if (d < 0)
		return d;
	if (ioctl(d, DMABUF_CORE_IOCTL_STATS, s) < 0)
		return -errno;
	return 0;
}

uint64_t buf_id(int fd)
{
	struct dmabuf_core_query q;

	if (query(fd, &q) < 0)
		return 0;
	return q.id;
}

int sync_buf(int fd, uint64_t flags)
{
	struct dmabuf_core_sync s = { .flags = flags };

	if (ioctl(fd, DMABUF_CORE_IOCTL_SYNC, &s) < 0)
		return -errno;
	return 0;
}

/* ------------------------------------------------------------------ */
/* Guarded memory access                                               */

uint64_t pattern_word(uint64_t seed, uint64_t index)
{
	uint64_t x = seed ^ (index * 0x9E3779B97F4A7C15ULL);

	x ^= x >> 31;
	return x ^ (index << 1);
}

enum mem_op { OP_FILL, OP_CHECK, OP_ZERO, OP_TOUCH_R, OP_TOUCH_W };

struct mem_job {
	enum mem_op op;
	unsigned char *p;
	size_t len;
	uint64_t seed;
	size_t base;
	size_t bad;
};

static int mem_run(struct mem_job *j)
{
	volatile uint64_t *w = (volatile uint64_t *)j->p;
	size_t n = j->len / 8, first = j->base / 8;
	volatile unsigned char sink;

	switch (j->op) {
	case OP_FILL:
		for (size_t i = 0; i < n; i++)
			w[i] = pattern_word(j->seed, first + i);
		return 0;
	case OP_CHECK:
		for (size_t i = 0; i < n; i++)
			if (w[i] != pattern_word(j->seed, first + i)) {
				j->bad = i * 8;
				return 1;
			}
		return 0;
	case OP_ZERO:
		for (size_t i = 0; i < n; i++)
			if (w[i]) {
				j->bad = i * 8;
				return 1;
			}
		return 0;
	case OP_TOUCH_R:
		for (size_t off = 0; off < j->len; off += page_size)
			sink = ((volatile unsigned char *)j->p)[off];
		(void)sink;
		return 0;
	case OP_TOUCH_W:
		for (size_t off = 0; off < j->len; off += page_size)
			((volatile unsigned char *)j->p)[off] =
				(unsigned char)(off / page_size + 1);
		return 0;
	}
	return 0;
}

static int mem_guarded(struct mem_job *j)
{
	sigjmp_buf jb;
	sigjmp_buf *volatile prev = guard_jb;
	int sig, r;

	sig = sigsetjmp(jb, 1);
	if (sig) {
		guard_jb = prev;
		return -sig;
	}
	guard_jb = &jb;
	r = mem_run(j);
	guard_jb = prev;
	return r;
}

int fill_pattern(void *p, size_t len, uint64_t seed, size_t base)
{
	struct mem_job j = { OP_FILL, p, len, seed, base, 0 };

	return mem_guarded(&j);
}

int check_pattern(const void *p, size_t len, uint64_t seed, size_t base,
		  size_t *bad)
{
	struct mem_job j = { OP_CHECK, (unsigned char *)p, len, seed, base, 0 };
	int r = mem_guarded(&j);

	if (bad)
		*bad = j.bad;
	return r;
}

int check_zero(const void *p, size_t len, size_t *bad)
{
	struct mem_job j = { OP_ZERO, (unsigned char *)p, len, 0, 0, 0 };
	int r = mem_guarded(&j);

	if (bad)
		*bad = j.bad;
	return r;
}

int touch_pages(void *p, size_t len, int write)
{
	struct mem_job j = { write ? OP_TOUCH_W : OP_TOUCH_R, p, len, 0, 0, 0 };

	return mem_guarded(&j);
}

const char *mem_result(int r, size_t bad, char *buf, size_t buflen)
{
	if (r == 0)
		snprintf(buf, buflen, "ok");
	else if (r > 0)
		snprintf(buf, buflen, "mismatch at byte offset %zu", bad);
	else
		snprintf(buf, buflen, "access faulted with %s",
			 strsignal(-r));
	return buf;
}

void expect_enotty(int fd, unsigned long cmd, const char *name)
{
	static unsigned char arg[16384];
	char what[128];
	int r, e;

	memset(arg, 0, sizeof(arg));
	errno = 0;
	r = ioctl(fd, cmd, arg);
	e = errno;
	snprintf(what, sizeof(what), "ioctl(%s = 0x%lx)", name, cmd);
	expect_errno_d(what, r, e, ENOTTY);
	/* An unexpected ALLOC-like success: the fd is at offset 8. */
	if (r >= 0 && _IOC_TYPE(cmd) == 'H' && _IOC_SIZE(cmd) >= 12) {
		uint32_t nfd;

		memcpy(&nfd, arg + 8, sizeof(nfd));
		if (nfd > 2 && (int)nfd != fd && (int)nfd != dev_fd())
			close((int)nfd);
	}
}

/* ------------------------------------------------------------------ */
/* fd passing                                                          */

int send_fd(int sock, int fd, const void *data, size_t len)
{
	char dummy = 'x';
	struct iovec iov = {
		.iov_base = data ? (void *)data : &dummy,
		.iov_len = data ? len : 1,
	};
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	struct msghdr msg = {
		.msg_iov = &iov,
		.msg_iovlen = 1,
		.msg_control = u.buf,
		.msg_controllen = sizeof(u.buf),
	};
	struct cmsghdr *c;
	ssize_t n;

	memset(&u, 0, sizeof(u));
	c = CMSG_FIRSTHDR(&msg);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &fd, sizeof(int));
	do
		n = sendmsg(sock, &msg, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	if ((size_t)n != iov.iov_len)
		return -EMSGSIZE;
	return 0;
}

int recv_fd(int sock, void *data, size_t len)
{
	char dummy;
	struct iovec iov = {
		.iov_base = data ? data : &dummy,
		.iov_len = data ? len : 1,
	};
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	struct msghdr msg = {
		.msg_iov = &iov,
		.msg_iovlen = 1,
		.msg_control = u.buf,
		.msg_controllen = sizeof(u.buf),
	};
	struct cmsghdr *c;
	ssize_t n;
	int fd = -1;

	do
		n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	for (c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c))
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS &&
		    c->cmsg_len == CMSG_LEN(sizeof(int)))
			memcpy(&fd, CMSG_DATA(c), sizeof(int));
	if (fd < 0)
		return -ENOMSG;
	if (msg.msg_flags & MSG_CTRUNC) {
		close(fd);
		return -EMSGSIZE;
	}
	if ((size_t)n != iov.iov_len) {
		close(fd);
		return -EMSGSIZE;
	}
	return fd;
}

/* ------------------------------------------------------------------ */
/* System facts                                                        */

long long meminfo_kib(const char *key)
{
	FILE *f = fopen("/proc/meminfo", "re");
	char line[256];
	size_t klen = strlen(key);
	long long v = -1;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (!strncmp(line, key, klen) && line[klen] == ':') {
			v = strtoll(line + klen + 1, NULL, 10);
			break;
		}
	}
	fclose(f);
	return v;
}

int harness_arg_u64(const char *name, uint64_t *val)
{
	FILE *f = fopen("/proc/cmdline", "re");
	char line[4096], key[96], *p, *end;
	size_t klen;
	int found = 0;

	if (!f)
		return 0;
	klen = (size_t)snprintf(key, sizeof(key), "dmabuf_harness.%s=", name);
	if (fgets(line, sizeof(line), f)) {
		for (p = strstr(line, key); p; p = strstr(p + 1, key)) {
			if (p != line && p[-1] != ' ')
				continue;
			errno = 0;
			*val = strtoull(p + klen, &end, 0);
			found = !errno && end != p + klen &&
				(*end == ' ' || *end == '\n' || !*end);
			break;
		}
	}
	fclose(f);
	return found;
}

int harness_slab_quarantine(void)
{
	uint64_t on;

	return harness_arg_u64("slab_quarantine", &on) && on == 1;
}

uint64_t total_ram_bytes(void)
{
	struct sysinfo si;

	if (sysinfo(&si) < 0)
		return 0;
	return (uint64_t)si.totalram * si.mem_unit;
}

int tracefs_ready(void)
{
	struct stat st;

	if (stat(TRACEFS "/trace", &st) == 0)
		return 1;
	mount("nodev", TRACEFS, "tracefs", 0, NULL);
	return stat(TRACEFS "/trace", &st) == 0;
}

int write_file(const char *path, const char *val)
{
	size_t len = strlen(val);
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = write(fd, val, len);
	if (n < 0)
		n = -errno;
	close(fd);
	if (n < 0)
		return (int)n;
	return (size_t)n == len ? 0 : -EIO;
}

void close_if_open(int fd)
{
	if (fd >= 0)
		close(fd);
}

long long read_param_ll(const char *path)
{
	char buf[64];
	char *end;
	long long v;
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	n = read(fd, buf, sizeof(buf) - 1);
	if (n < 0) {
		n = -errno;
		close(fd);
		return n;
	}
	close(fd);
	buf[n] = 0;
	errno = 0;
	v = strtoll(buf, &end, 10);
	if (errno || end == buf || v < 0)
		return -EINVAL;
	return v;
}

int count_open_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	if (!d)
		return -errno;
	while ((e = readdir(d)))
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n - 1;	/* the directory's own fd */
}

double now_sec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

uint64_t rng_next(uint64_t *s)
{
	uint64_t x = *s ? *s : 0x2545F4914F6CDD1DULL;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*s = x;
	return x * 0x2545F4914F6CDD1DULL;
}

/* ------------------------------------------------------------------ */
/* Children                                                            */

int child_start(struct child *c, child_fn fn, void *arg)
{
	int p[2];
	pid_t pid;

	c->pid = -1;
	c->rfd = -1;
	if (pipe2(p, O_CLOEXEC) < 0)
		return -errno;
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid < 0) {
		int e = errno;

		close(p[0]);
		close(p[1]);
		return -e;
	}
	if (pid == 0) {
		char msg[1024] = "";
		int r;

		close(p[0]);
		r = fn(arg, msg, sizeof(msg));
		if (r && msg[0]) {
			size_t n = strlen(msg), off = 0;

			while (off < n) {
				ssize_t w = write(p[1], msg + off, n - off);

				if (w <= 0)
					break;
				off += (size_t)w;
			}
		}
		_exit(r ? 1 : 0);
	}
	close(p[1]);
	c->pid = pid;
	c->rfd = p[0];
	return 0;
}

int child_wait(struct child *c, char *msg, size_t msglen)
{
	char buf[1024];
	size_t len = 0;
	int status = 0;
	pid_t r;

	msg[0] = 0;
	if (c->pid <= 0) {
		snprintf(msg, msglen, "child was not started");
		return -1;
	}
	for (;;) {
		ssize_t n = read(c->rfd, buf + len, sizeof(buf) - 1 - len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
		if (len >= sizeof(buf) - 1)
			break;
	}
	buf[len] = 0;
	close(c->rfd);
	c->rfd = -1;
	do
		r = waitpid(c->pid, &status, 0);
	while (r < 0 && errno == EINTR);
	c->pid = -1;
	if (r < 0) {
		snprintf(msg, msglen, "waitpid: %s", errstr(errno));
		return -1;
	}
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	if (WIFSIGNALED(status))
		snprintf(msg, msglen, "child killed by signal %d (%s)%s%s",
			 WTERMSIG(status), strsignal(WTERMSIG(status)),
			 len ? ": " : "", buf);
	else if (len)
		snprintf(msg, msglen, "%s", buf);
	else
		snprintf(msg, msglen, "child exited with status %d",
			 WEXITSTATUS(status));
	return -1;
}
