// SPDX-License-Identifier: GPL-2.0-only
/*
 * dmabuf-ctl: inspect and drive dma-bufs, dmabuf-core's and the kernel's.
 *
 *   dmabuf-ctl list [--json]
 *   dmabuf-ctl info FD|PID:FD [--json]
 *   dmabuf-ctl stats [--json]
 *   dmabuf-ctl alloc SIZE [--name NAME] [--fill SEED] [--serve SOCKET]
 *   dmabuf-ctl fill FD|PID:FD SEED
 *   dmabuf-ctl verify FD|PID:FD SEED
 *   dmabuf-ctl dump FD|PID:FD [OFFSET [LENGTH]]
 *   dmabuf-ctl constrain DEVICE [segments=N] [align=BYTES] [--clear]
 *   dmabuf-ctl constrain --load FILE
 *
 * See dmabuf-ctl(1) for the output and the exit codes.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>
#include <linux/dma-buf.h>
#include <linux/magic.h>
#include <uapi/linux/dmabuf_core.h>

#include "ctl.h"
#include "lockdown.h"

#define PATTERN_MUL	0x9E3779B1U
#define FNV_BASIS	0xcbf29ce484222325ULL
#define FNV_PRIME	0x100000001b3ULL

int ctl_error(int code, const char *fmt, ...)
{
	va_list ap;

	fputs("dmabuf-ctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return code;
}

int ctl_errno_code(int err)
{
	switch (err) {
	case EACCES:
	case EPERM:
		return EXIT_DENIED;
	case ESRCH:
	case ENOENT:
	case EBADF:
		return EXIT_NO_TARGET;
	default:
		return EXIT_FAILED;
	}
}

int ctl_open_node(void)
{
	int fd = open(DMABUF_NODE, O_RDONLY | O_CLOEXEC);

	if (fd >= 0)
		return fd;
	if (errno == ENOENT && kernel_locked_down())
		return -ctl_error(EXIT_NO_MODULE, "%s: no such device node: is dmabuf_core loaded? (modprobe dmabuf_core)\n%s",
				  DMABUF_NODE, LOCKDOWN_HINT);
	if (errno == ENOENT)
		return -ctl_error(EXIT_NO_MODULE, "%s: no such device node: is dmabuf_core loaded? (modprobe dmabuf_core)",
				  DMABUF_NODE);
	if (errno == EACCES || errno == EPERM)
		return -ctl_error(EXIT_DENIED, "%s: permission denied: its group (video) may use it (adduser $USER video, then log in again)",
				  DMABUF_NODE);
	return -ctl_error(EXIT_FAILED, "%s: %s", DMABUF_NODE, strerror(errno));
}

int ctl_read_fdinfo(pid_t pid, int fd, struct ctl_fdinfo *info)
{
	char path[64], text[1024], *line, *v, *next;
	size_t n = 0, r;
	FILE *f;

	memset(info, 0, sizeof(*info));
	snprintf(path, sizeof(path), "/proc/%d/fdinfo/%d", (int)pid, fd);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	while (n < sizeof(text) - 1 && (r = fread(text + n, 1, sizeof(text) - 1 - n, f)) > 0)
		n += r;
	fclose(f);
	text[n] = 0;
	for (line = text; *line; line = next) {
		next = line + strcspn(line, "\n");
		if (*next)
			*next++ = 0;
		v = strchr(line, ':');
		if (!v)
			continue;
		*v++ = 0;
		if (!strcmp(line, "name"))
			break;
		v += strspn(v, " \t");
		if (!strcmp(line, "ino"))
			info->ino = strtoul(v, NULL, 10);
		else if (!strcmp(line, "size"))
			info->size = strtoull(v, NULL, 10);
		else if (!strcmp(line, "count"))
			info->count = strtol(v, NULL, 10);
		else if (!strcmp(line, "exp_name"))
			snprintf(info->exp_name, sizeof(info->exp_name), "%s", v);
	}
	/* "name:\t" and the rest, newlines and all: no line after it is the kernel's. */
	if (*line) {
		if (*next)
			next[-1] = '\n';
		v += *v == '\t';
		n = strlen(v);
		if (n && v[n - 1] == '\n')
			v[n - 1] = 0;
		snprintf(info->name, sizeof(info->name), "%s", v);
	}
	return 0;
}

int ctl_is_dmabuf(int fd, struct stat *st)
{
	struct statfs sfs;

	return !fstatfs(fd, &sfs) && sfs.f_type == DMA_BUF_MAGIC && !fstat(fd, st);
}

static int parse_int(const char *s, long long max, long long *out)
{
	char *end;

	errno = 0;
	*out = strtoll(s, &end, 10);
	return !errno && end != s && !*end && *out >= 0 && *out <= max;
}

int ctl_target_fd(const char *spec)
{
	const char *colon = strchr(spec, ':');
	long long pid, fd;
	struct stat st;
	char pidstr[24];
	int pidfd, got, err;

	if (!colon) {
		if (!parse_int(spec, INT_MAX, &fd))
			return -ctl_error(EXIT_USAGE, "'%s' is neither FD nor PID:FD", spec);
		if (!ctl_is_dmabuf(fd, &st))
			return -ctl_error(EXIT_NO_TARGET, "fd %lld is not a dma-buf", fd);
		return fd;
	}
	snprintf(pidstr, sizeof(pidstr), "%.*s", (int)(colon - spec), spec);
	if (colon == spec || !parse_int(colon + 1, INT_MAX, &fd) ||
	    !parse_int(pidstr, INT_MAX, &pid) || !pid)
		return -ctl_error(EXIT_USAGE, "'%s' is neither FD nor PID:FD", spec);
	pidfd = syscall(SYS_pidfd_open, (pid_t)pid, 0);
	if (pidfd < 0) {
		if (errno == ESRCH)
			return -ctl_error(EXIT_NO_TARGET, "process %lld is gone (or never was)", pid);
		return -ctl_error(ctl_errno_code(errno), "process %lld: %s", pid, strerror(errno));
	}
	/*
	 * The file is taken once and what was taken is checked: a look at
	 * /proc/PID/fd/FD first would leave the process time to put another
	 * file there.
	 */
	got = syscall(SYS_pidfd_getfd, pidfd, (int)fd, 0);
	err = errno;
	close(pidfd);
	if (got < 0) {
		if (err == EPERM || err == EACCES)
			return -ctl_error(EXIT_DENIED, "not allowed to take fd %lld of process %lld: run as its user (with ptrace allowed) or as root",
					  fd, pid);
		if (err == EBADF)
			return -ctl_error(EXIT_NO_TARGET, "process %lld has no fd %lld", pid, fd);
		if (err == ESRCH)
			return -ctl_error(EXIT_NO_TARGET, "process %lld is gone (or never was)", pid);
		return -ctl_error(ctl_errno_code(err), "fd %lld of process %lld: %s", fd, pid,
				  strerror(err));
	}
	if (!ctl_is_dmabuf(got, &st)) {
		close(got);
		return -ctl_error(EXIT_NO_TARGET, "fd %lld of process %lld is not a dma-buf", fd, pid);
	}
	return got;
}

/* ---- info, stats ------------------------------------------------------- */

static int cmd_info(int argc, char **argv)
{
	struct dmabuf_core_query q = { 0 };
	struct ctl_fdinfo fi;
	char esc[CTL_ESC(sizeof(fi.name))];
	int json = 0, fd, node, node_err, queried = 0, i;
	const char *spec = NULL;
	unsigned long ino = 0;
	struct stat st;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--json"))
			json = 1;
		else if (!spec)
			spec = argv[i];
		else
			return ctl_error(EXIT_USAGE, "info: one FD|PID:FD only");
	}
	if (!spec)
		return ctl_error(EXIT_USAGE, "info: which buffer? FD or PID:FD");
	fd = ctl_target_fd(spec);
	if (fd < 0)
		return -fd;
	if (fstat(fd, &st) == 0)
		ino = st.st_ino;
	ctl_read_fdinfo(getpid(), fd, &fi);
	node = open(DMABUF_NODE, O_RDONLY | O_CLOEXEC);
	node_err = node < 0 ? errno : 0;
	if (node >= 0) {
		q.fd = fd;
		queried = ioctl(node, DMABUF_CORE_IOCTL_QUERY, &q) == 0;
		close(node);
	}
	if (json) {
		printf("{\"inode\": %lu, \"size\": %" PRIu64 ", \"exporter\": ", ino, fi.size);
		ctl_json_string(stdout, fi.exp_name);
		printf(", \"name\": ");
		ctl_json_string(stdout, fi.name);
		printf(", \"file_refs\": %ld", fi.count);
		if (queried && !(q.info & DMABUF_CORE_QUERY_FOREIGN))
			printf(", \"id\": %llu, \"attachments\": %u, \"mappings\": %u, \"moves\": %u",
			       (unsigned long long)q.id, q.attachments, q.mappings, q.moves);
		printf(", \"dmabuf_core\": %s}\n",
		       queried && !(q.info & DMABUF_CORE_QUERY_FOREIGN) ? "true" : "false");
	} else {
		printf("inode:       %lu\n", ino);
		printf("size:        %" PRIu64 "\n", fi.size);
		printf("exporter:    %s\n", ctl_escape(esc, sizeof(esc), fi.exp_name));
		printf("name:        %s\n",
		       fi.name[0] ? ctl_escape(esc, sizeof(esc), fi.name) : "-");
		printf("file refs:   %ld\n", fi.count);
		if (queried && !(q.info & DMABUF_CORE_QUERY_FOREIGN)) {
			printf("id:          %llu\n", (unsigned long long)q.id);
			printf("attachments: %u\n", q.attachments);
			printf("mappings:    %u\n", q.mappings);
			printf("moves:       %u\n", q.moves);
		} else {
			printf("id:          - (%s)\n", queried ? "not a dmabuf-core buffer" :
			       node_err == ENOENT ? "dmabuf_core is not loaded" :
			       node_err ? "no access to " DMABUF_NODE : "QUERY failed");
		}
	}
	if (spec && strchr(spec, ':'))
		close(fd);
	return EXIT_OK;
}

static int cmd_stats(int argc, char **argv)
{
	struct dmabuf_core_stats s = { 0 };
	int json = argc > 1 && !strcmp(argv[1], "--json");
	int node;

	if (argc > 1 + json)
		return ctl_error(EXIT_USAGE, "stats: unexpected '%s'", argv[1 + json]);
	node = ctl_open_node();
	if (node < 0)
		return -node;
	if (ioctl(node, DMABUF_CORE_IOCTL_STATS, &s)) {
		close(node);
		return ctl_error(EXIT_FAILED, "STATS: %s", strerror(errno));
	}
	close(node);
	if (json)
		printf("{\"live_buffers\": %llu, \"live_bytes\": %llu, \"exported\": %llu, \"released\": %llu, \"system_pages\": %llu, \"contig_pages\": %llu}\n",
		       (unsigned long long)s.live_buffers, (unsigned long long)s.live_bytes,
		       (unsigned long long)s.exported, (unsigned long long)s.released,
		       (unsigned long long)s.system_pages, (unsigned long long)s.contig_pages);
	else
		printf("live buffers: %llu\nlive bytes:   %llu\nexported:     %llu\nreleased:     %llu\nsystem pages: %llu\ncontig pages: %llu\n",
		       (unsigned long long)s.live_buffers, (unsigned long long)s.live_bytes,
		       (unsigned long long)s.exported, (unsigned long long)s.released,
		       (unsigned long long)s.system_pages, (unsigned long long)s.contig_pages);
	return EXIT_OK;
}

/* ---- alloc ------------------------------------------------------------- */

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

/*
 * SIGINT, SIGTERM and SIGHUP end alloc: blocked but for the waits, so that
 * one arriving between the check of stop and the wait cannot be missed.
 * Fills *@waitmask with the mask to wait with.
 */
static void catch_stop_signals(sigset_t *waitmask)
{
	struct sigaction sa = { .sa_handler = on_signal };
	sigset_t block;

	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGHUP);
	sigprocmask(SIG_BLOCK, &block, waitmask);
	sigdelset(waitmask, SIGINT);
	sigdelset(waitmask, SIGTERM);
	sigdelset(waitmask, SIGHUP);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
}

/* SIZE with an optional K, M or G suffix (powers of 1024). */
static int parse_size(const char *s, uint64_t *out)
{
	unsigned long long v;
	char *end;
	int shift = 0;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s || *s == '-')
		return 0;
	switch (*end) {
	case 'K': case 'k': shift = 10; end++; break;
	case 'M': case 'm': shift = 20; end++; break;
	case 'G': case 'g': shift = 30; end++; break;
	}
	if (*end || !v || v > (UINT64_MAX >> shift))
		return 0;
	*out = v << shift;
	return 1;
}

static int parse_seed(const char *s, uint32_t *out)
{
	unsigned long v;
	char *end;

	errno = 0;
	v = strtoul(s, &end, 0);
	if (errno || end == s || *end || *s == '-' || v > UINT32_MAX)
		return 0;
	*out = v;
	return 1;
}

static int sync_buf(int fd, uint64_t flags)
{
	struct dma_buf_sync s = { .flags = flags };

	return ioctl(fd, DMA_BUF_IOCTL_SYNC, &s) ? -errno : 0;
}

/* Write the pattern of @seed into the whole buffer. */
static int fill_buffer(int fd, uint64_t size, uint32_t seed)
{
	uint32_t *w;
	uint64_t i;

	w = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (w == MAP_FAILED)
		return ctl_error(EXIT_FAILED, "mmap for writing: %s%s", strerror(errno),
				 errno == EACCES ? " (a read-only buffer)" : "");
	sync_buf(fd, DMA_BUF_SYNC_START | DMA_BUF_SYNC_WRITE);
	for (i = 0; i < size / 4; i++)
		w[i] = htole32(seed ^ (uint32_t)(i * PATTERN_MUL));
	sync_buf(fd, DMA_BUF_SYNC_END | DMA_BUF_SYNC_WRITE);
	munmap(w, size);
	return EXIT_OK;
}

/* A listening Unix socket at @path (a stale socket there is replaced). */
static int listen_at(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct stat st;
	int s;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -ctl_error(EXIT_USAGE, "socket path too long: %s", path);
	strcpy(sa.sun_path, path);
	if (!lstat(path, &st) && S_ISSOCK(st.st_mode))
		unlink(path);
	s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s < 0 || bind(s, (struct sockaddr *)&sa, sizeof(sa)) || listen(s, 8)) {
		ctl_error(EXIT_FAILED, "socket %s: %s", path, strerror(errno));
		if (s >= 0)
			close(s);
		return -EXIT_FAILED;
	}
	return s;
}

/* Hand @fd, with the @hello line, to every client of @s until a stop signal. */
static int serve(int s, const char *path, int fd, const char *hello, const sigset_t *waitmask)
{
	struct iovec iov = { .iov_base = (void *)hello, .iov_len = strlen(hello) };
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(int))];
	} c;
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1,
			    .msg_control = c.buf, .msg_controllen = sizeof(c.buf) };
	struct pollfd pfd = { .fd = s, .events = POLLIN };
	int conn;

	while (!stop) {
		if (ppoll(&pfd, 1, NULL, waitmask) < 0)
			continue;	/* EINTR: a stop signal, handled */
		conn = accept4(s, NULL, NULL, SOCK_CLOEXEC);
		if (conn < 0)
			continue;
		memset(c.buf, 0, sizeof(c.buf));
		c.h.cmsg_level = SOL_SOCKET;
		c.h.cmsg_type = SCM_RIGHTS;
		c.h.cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(&c.h), &fd, sizeof(int));
		if (sendmsg(conn, &m, MSG_NOSIGNAL) < 0)
			ctl_error(EXIT_FAILED, "sending the buffer: %s", strerror(errno));
		close(conn);
	}
	close(s);
	unlink(path);
	return EXIT_OK;
}

static int cmd_alloc(int argc, char **argv)
{
	struct dmabuf_core_alloc a = { 0 };
	const char *name = NULL, *sock = NULL;
	uint32_t seed = 0;
	int node, i, ret, filled = 0, s = -1;
	sigset_t waitmask;
	uint64_t size = 0;
	char hello[160];
	struct stat st;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--name") && i + 1 < argc) {
			name = argv[++i];
		} else if (!strcmp(argv[i], "--fill") && i + 1 < argc) {
			if (!parse_seed(argv[++i], &seed))
				return ctl_error(EXIT_USAGE, "alloc: bad seed '%s'", argv[i]);
			filled = 1;
		} else if (!strcmp(argv[i], "--serve") && i + 1 < argc) {
			sock = argv[++i];
		} else if (!size && argv[i][0] != '-') {
			if (!parse_size(argv[i], &size))
				return ctl_error(EXIT_USAGE, "alloc: bad size '%s' (N, NK, NM or NG, not 0)",
						 argv[i]);
		} else {
			return ctl_error(EXIT_USAGE, "alloc: unexpected '%s'", argv[i]);
		}
	}
	if (!size)
		return ctl_error(EXIT_USAGE, "alloc: SIZE missing");
	if (name && strlen(name) >= 32)
		return ctl_error(EXIT_USAGE, "alloc: a name has at most 31 bytes");

	node = ctl_open_node();
	if (node < 0)
		return -node;
	a.len = size;
	a.fd_flags = O_RDWR | O_CLOEXEC;
	ret = ioctl(node, DMABUF_CORE_IOCTL_ALLOC, &a);
	close(node);
	if (ret)
		return ctl_error(EXIT_FAILED, "allocating %" PRIu64 " bytes: %s", size,
				 strerror(errno));
	size = (size + getpagesize() - 1) & ~(uint64_t)(getpagesize() - 1);
	if (name && ioctl(a.fd, DMA_BUF_SET_NAME_B, name))
		return ctl_error(EXIT_FAILED, "naming the buffer: %s", strerror(errno));
	if (filled && (ret = fill_buffer(a.fd, size, seed)))
		return ret;
	fstat(a.fd, &st);
	{
		struct dmabuf_core_query q = { .fd = a.fd };
		int n = open(DMABUF_NODE, O_RDONLY | O_CLOEXEC);

		if (n >= 0) {
			ioctl(n, DMABUF_CORE_IOCTL_QUERY, &q);
			close(n);
		}
		snprintf(hello, sizeof(hello), "id=%llu inode=%lu size=%" PRIu64 " pid=%d fd=%u\n",
			 (unsigned long long)q.id, (unsigned long)st.st_ino, size, (int)getpid(), a.fd);
	}
	/* Listening before the line is out: a reader of it may connect at once. */
	catch_stop_signals(&waitmask);
	if (sock) {
		s = listen_at(sock);
		if (s < 0)
			return -s;
	}
	fputs(hello, stdout);
	fflush(stdout);
	if (sock)
		return serve(s, sock, a.fd, hello, &waitmask);
	while (!stop)
		sigsuspend(&waitmask);
	return EXIT_OK;
}

/* ---- fill, verify, dump ------------------------------------------------ */

/* The buffer @spec names, and its size: the fd, or -exit code. */
static int open_buffer(const char *spec, uint64_t *size)
{
	int fd = ctl_target_fd(spec);
	off_t end;

	if (fd < 0)
		return fd;
	end = lseek(fd, 0, SEEK_END);	/* a dma-buf's size */
	if (end < 0)
		return -ctl_error(EXIT_FAILED, "size of the buffer: %s", strerror(errno));
	lseek(fd, 0, SEEK_SET);
	*size = end;
	return fd;
}

static int cmd_fill_verify(int argc, char **argv, int verify)
{
	uint64_t size, i, bad = 0, first = 0, h = FNV_BASIS;
	const uint8_t *bytes;
	const uint32_t *w;
	uint32_t seed;
	int fd, ret;

	if (argc != 3)
		return ctl_error(EXIT_USAGE, "%s FD|PID:FD SEED", argv[0]);
	if (!parse_seed(argv[2], &seed))
		return ctl_error(EXIT_USAGE, "%s: bad seed '%s'", argv[0], argv[2]);
	fd = open_buffer(argv[1], &size);
	if (fd < 0)
		return -fd;
	if (!verify) {
		ret = fill_buffer(fd, size, seed);
		if (!ret)
			printf("filled %" PRIu64 " bytes with the pattern of seed %u\n", size, seed);
		return ret;
	}
	w = mmap(NULL, size, PROT_READ, MAP_SHARED, fd, 0);
	if (w == MAP_FAILED)
		return ctl_error(EXIT_FAILED, "mmap: %s", strerror(errno));
	sync_buf(fd, DMA_BUF_SYNC_START | DMA_BUF_SYNC_READ);
	for (i = 0; i < size / 4; i++) {
		if (le32toh(w[i]) == (seed ^ (uint32_t)(i * PATTERN_MUL)))
			continue;
		if (!bad++)
			first = i * 4;
	}
	bytes = (const uint8_t *)w;
	for (i = 0; i < size; i++) {
		h ^= bytes[i];
		h *= FNV_PRIME;
	}
	sync_buf(fd, DMA_BUF_SYNC_END | DMA_BUF_SYNC_READ);
	munmap((void *)w, size);
	if (bad) {
		printf("mismatch: %" PRIu64 " of %" PRIu64 " words differ from seed %u, first at byte %" PRIu64 "; checksum %016" PRIx64 "\n",
		       bad, size / 4, seed, first, h);
		return EXIT_FAILED;
	}
	printf("ok: %" PRIu64 " bytes hold the pattern of seed %u; checksum %016" PRIx64 "\n",
	       size, seed, h);
	return EXIT_OK;
}

static int cmd_dump(int argc, char **argv)
{
	long long off = 0, len = 256;
	uint64_t size, i;
	const uint8_t *p;
	int fd;

	if (argc < 2 || argc > 4 ||
	    (argc > 2 && !parse_int(argv[2], LLONG_MAX, &off)) ||
	    (argc > 3 && !parse_int(argv[3], LLONG_MAX, &len)))
		return ctl_error(EXIT_USAGE, "dump FD|PID:FD [OFFSET [LENGTH]]");
	fd = open_buffer(argv[1], &size);
	if (fd < 0)
		return -fd;
	if ((uint64_t)off >= size)
		return ctl_error(EXIT_USAGE, "dump: offset %lld is past the end (%" PRIu64 " bytes)",
				 off, size);
	if ((uint64_t)len > size - off)
		len = size - off;
	p = mmap(NULL, size, PROT_READ, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		return ctl_error(EXIT_FAILED, "mmap: %s", strerror(errno));
	sync_buf(fd, DMA_BUF_SYNC_START | DMA_BUF_SYNC_READ);
	for (i = 0; i < (uint64_t)len; i++) {
		if (i % 16 == 0)
			printf("%08" PRIx64 ":", (uint64_t)off + i);
		printf(" %02x", p[off + i]);
		if (i % 16 == 15 || i + 1 == (uint64_t)len)
			putchar('\n');
	}
	sync_buf(fd, DMA_BUF_SYNC_END | DMA_BUF_SYNC_READ);
	munmap((void *)p, size);
	return EXIT_OK;
}

static void usage(FILE *f)
{
	fputs("usage: dmabuf-ctl COMMAND [ARGS]\n"
	      "  list [--json]                      every dma-buf, its devices and holders\n"
	      "  info FD|PID:FD [--json]            one buffer\n"
	      "  stats [--json]                     dmabuf-core's counters\n"
	      "  alloc SIZE [--name NAME] [--fill SEED] [--serve SOCKET]\n"
	      "                                     allocate from /dev/dmabuf and hold it\n"
	      "  fill FD|PID:FD SEED                write the test pattern\n"
	      "  verify FD|PID:FD SEED              check it (exit 1 on a mismatch)\n"
	      "  dump FD|PID:FD [OFFSET [LENGTH]]   the bytes, in hex\n"
	      "  constrain DEVICE [segments=N] [align=BYTES] [--clear]\n"
	      "                                     what a device needs of buffers (shown without settings)\n"
	      "  constrain --load FILE              the same, one device a line\n"
	      "See dmabuf-ctl(1).\n", f);
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	argc--;
	argv++;
	if (!strcmp(argv[0], "list"))
		return ctl_cmd_list(argc, argv);
	if (!strcmp(argv[0], "info"))
		return cmd_info(argc, argv);
	if (!strcmp(argv[0], "stats"))
		return cmd_stats(argc, argv);
	if (!strcmp(argv[0], "alloc"))
		return cmd_alloc(argc, argv);
	if (!strcmp(argv[0], "fill"))
		return cmd_fill_verify(argc, argv, 0);
	if (!strcmp(argv[0], "verify"))
		return cmd_fill_verify(argc, argv, 1);
	if (!strcmp(argv[0], "dump"))
		return cmd_dump(argc, argv);
	if (!strcmp(argv[0], "constrain"))
		return ctl_cmd_constrain(argc, argv);
	if (!strcmp(argv[0], "help") || !strcmp(argv[0], "--help")) {
		usage(stdout);
		return EXIT_OK;
	}
	usage(stderr);
	return ctl_error(EXIT_USAGE, "unknown command '%s'", argv[0]);
}
