// SPDX-License-Identifier: GPL-2.0-only
/*
 * dmabuf-ctl against the live system: a buffer allocated and served by
 * `dmabuf-ctl alloc`, received over its socket by this test, mapped here,
 * held by a second process and attached by a kernel importer (the demo
 * importer), plus a vgem dma-buf; then list (text and JSON), info, stats,
 * fill/verify/dump through PID:FD, and the exit codes of the usual
 * mistakes; then what other users can put in its way: names and comms of
 * escape sequences, files that only look like dma-bufs (a path
 * "/dmabuf:...", a colliding inode number, a memfd), and an fd swapped
 * while it is looked at.  Expects the demo modules and vgem loaded, debugfs mounted,
 * /tests/dmabuf-ctl (or $DMABUF_CTL), and to run as root; user 1000 is not
 * allowed /dev/dmabuf (devtmpfs's 0600, no udev yet).
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <linux/dma-buf.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <ctype.h>
#include <grp.h>
#include <unistd.h>

#include "lib/tap.h"
#include "lib/demo.h"
#include "lib/vgem.h"

#define CTL_DEFAULT	"/tests/dmabuf-ctl"
#define SOCK		"/tmp/t_ctl.sock"
#define SIZE		(1 * MiB)
#define OUT_LEN		65536

static char out[OUT_LEN];
static const char *ctl_path;
static pid_t server = -1;
static unsigned long long srv_id, srv_ino;
static int srv_fd = -1;

/* Run dmabuf-ctl with @args (NULL-terminated) as @uid; its output in out. */
static int ctl_as(uid_t uid, const char *const *args)
{
	const char *argv[16] = { ctl_path };
	int p[2], st, i, n = 0;
	ssize_t r;
	pid_t pid;

	for (i = 0; args[i] && i < 14; i++)
		argv[i + 1] = args[i];
	argv[i + 1] = NULL;
	if (pipe2(p, O_CLOEXEC))
		return -1;
	pid = fork();
	if (pid == 0) {
		dup2(p[1], 1);
		dup2(p[1], 2);
		if (uid && (setgroups(0, NULL) || setgid(uid) || setuid(uid)))
			_exit(99);
		execv(ctl_path, (char *const *)argv);
		_exit(98);
	}
	close(p[1]);
	while (n < OUT_LEN - 1 && (r = read(p[0], out + n, OUT_LEN - 1 - n)) > 0)
		n += r;
	out[n] = 0;
	close(p[0]);
	if (pid < 0 || waitpid(pid, &st, 0) != pid)
		return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : -WTERMSIG(st);
}

#define CTL_RUN(...) ctl_as(0, (const char *const[]){ __VA_ARGS__, NULL })

/* The output, as comment lines of the test's own. */
static void print_out(void)
{
	const char *p = out, *e;

	for (; *p; p = e + 1) {
		e = strchrnul(p, '\n');
		printf("#   %.*s\n", (int)(e - p), p);
		if (!*e)
			break;
	}
}

/* The line of out that starts with @prefix, or NULL (copied to @line). */
static const char *line_of(const char *prefix, char *line, size_t len)
{
	const char *p = out, *e;

	while (p && *p) {
		e = strchr(p, '\n');
		if (!strncmp(p, prefix, strlen(prefix))) {
			snprintf(line, len, "%.*s", (int)(e ? e - p : (long)strlen(p)), p);
			return line;
		}
		p = e ? e + 1 : NULL;
	}
	return NULL;
}

/* Start `dmabuf-ctl alloc ... --serve`, read its "id=... fd=..." line. */
static int start_server(void)
{
	char line[256];
	int p[2], n = 0, pid;
	FILE *f;

	if (pipe2(p, O_CLOEXEC))
		return -1;
	unlink(SOCK);
	server = fork();
	if (server == 0) {
		dup2(p[1], 1);
		execl(ctl_path, ctl_path, "alloc", "1M", "--name", "ctl-test", "--fill", "7", "--serve", SOCK,
		      NULL);
		_exit(98);
	}
	close(p[1]);
	f = fdopen(p[0], "r");
	if (!f || !fgets(line, sizeof(line), f))
		n = -1;
	else if (sscanf(line, "id=%llu inode=%llu size=%*u pid=%d fd=%d", &srv_id, &srv_ino, &pid,
			&srv_fd) != 4 || pid != server)
		n = -1;
	if (f)
		fclose(f);
	return n;
}

static int receive_buffer(void)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int s, fd;

	strcpy(sa.sun_path, SOCK);
	s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s < 0 || connect(s, (struct sockaddr *)&sa, sizeof(sa)))
		return -errno;
	/* The fd, with the first byte of the line that comes with it. */
	fd = recv_fd(s, NULL, 0);
	close(s);
	return fd;
}

/*
 * Names and a comm that an unprivileged user may choose: terminal escapes
 * (a title, a clear screen, a bell), a quote, a backslash, a newline, a
 * byte that is not UTF-8 and a C1 control (CSI) that is.
 */
#define EVIL_NAME	"\x1b]0;pwned\x07\x1b[2J\xff\"\\\n\xc2\x9b"
#define EVIL_NAME_TEXT	"\\x1b]0;pwned\\x07\\x1b[2J\\xff\"\\x5c\\x0a\\xc2\\x9b"
#define EVIL_NAME_JSON	"\"\\u001b]0;pwned\\u0007\\u001b[2J\\ufffd\\\"\\\\\\u000a\\u009b\""
#define EVIL_COMM	"\x1b[31m\x07\n\xff"
#define EVIL_COMM_TEXT	"\\x1b[31m\\x07\\x0a\\xff"
#define EVIL_COMM_JSON	"\"\\u001b[31m\\u0007\\u000a\\ufffd\""

/* Length of the well-formed UTF-8 sequence at @s, 0 if it is not one. */
static int utf8_len(const unsigned char *s)
{
	int n = s[0] < 0x80 ? 1 : (s[0] & 0xe0) == 0xc0 ? 2 : (s[0] & 0xf0) == 0xe0 ? 3 :
		(s[0] & 0xf8) == 0xf0 ? 4 : 0;
	unsigned long cp = n == 1 ? s[0] : n == 2 ? s[0] & 0x1f : n == 3 ? s[0] & 0x0f : s[0] & 7;
	int i;

	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if (!n || (n == 2 && cp < 0x80) || (n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
	    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

/*
 * Text safe for a terminal: UTF-8, no control character but newlines (no
 * ESC, BEL, DEL, no C1 control).  NULL, or where it is not.
 */
static const char *unsafe_at(const char *text)
{
	const unsigned char *p = (const unsigned char *)text;
	int n;

	while (*p) {
		n = utf8_len(p);
		if (!n || (*p < 0x20 && *p != '\n') || *p == 0x7f ||
		    (n == 2 && p[0] == 0xc2 && p[1] < 0xa0))
			return (const char *)p;
		p += n;
	}
	return NULL;
}

/* A JSON validator (RFC 8259): the value at *@p, *@p moved past it. */
static int json_value(const char **p, int depth);

static void json_ws(const char **p)
{
	while (**p == ' ' || **p == '\t' || **p == '\n' || **p == '\r')
		(*p)++;
}

static int json_string(const char **p)
{
	const unsigned char *s = (const unsigned char *)*p;
	int n, i;

	if (*s++ != '"')
		return 0;
	while (*s != '"') {
		if (*s < 0x20)		/* also the end of the text */
			return 0;
		if (*s == '\\') {
			s++;
			if (*s == 'u') {
				for (i = 1; i <= 4; i++)
					if (!isxdigit(s[i]))
						return 0;
				s += 5;
			} else if (*s && strchr("\"\\/bfnrt", *s)) {
				s++;
			} else {
				return 0;
			}
			continue;
		}
		n = utf8_len(s);
		if (!n)
			return 0;
		s += n;
	}
	*p = (const char *)s + 1;
	return 1;
}

static int json_members(const char **p, int depth, char close, int object)
{
	(*p)++;
	json_ws(p);
	if (**p == close) {
		(*p)++;
		return 1;
	}
	for (;;) {
		json_ws(p);
		if (object) {
			if (!json_string(p))
				return 0;
			json_ws(p);
			if (*(*p)++ != ':')
				return 0;
		}
		if (!json_value(p, depth + 1))
			return 0;
		json_ws(p);
		if (**p == close) {
			(*p)++;
			return 1;
		}
		if (*(*p)++ != ',')
			return 0;
	}
}

static int json_value(const char **p, int depth)
{
	const char *s;

	json_ws(p);
	if (depth > 32)
		return 0;
	switch (**p) {
	case '{':
		return json_members(p, depth, '}', 1);
	case '[':
		return json_members(p, depth, ']', 0);
	case '"':
		return json_string(p);
	}
	if (!strncmp(*p, "true", 4) || !strncmp(*p, "null", 4)) {
		*p += 4;
		return 1;
	}
	if (!strncmp(*p, "false", 5)) {
		*p += 5;
		return 1;
	}
	s = *p;
	if (*s == '-')
		s++;
	if (!isdigit((unsigned char)*s))
		return 0;
	strtod(*p, (char **)p);
	return 1;
}

/* @text is one JSON document. */
static int json_ok(const char *text)
{
	const char *p = text;

	if (!json_value(&p, 0))
		return 0;
	json_ws(&p);
	return !*p;
}

/* The line of out that starts with the inode @ino, or NULL. */
static const char *line_of_ino(unsigned long ino, char *line, size_t len)
{
	char want[32];

	snprintf(want, sizeof(want), "%-8lu ", ino);
	return line_of(want, line, len);
}

/* A child as @uid, named @comm, that holds what it inherited until @release closes. */
static pid_t start_child(const char *comm, uid_t uid, int (*setup)(void *), void *arg,
			 int *release)
{
	int p[2], ready[2];
	char c = 0;
	pid_t pid;

	if (pipe2(p, O_CLOEXEC))
		return -1;
	if (pipe2(ready, O_CLOEXEC)) {
		close(p[0]);
		close(p[1]);
		return -1;
	}
	pid = fork();
	if (pid == 0) {
		close(p[1]);
		if (uid && (setgroups(0, NULL) || setgid(uid) || setuid(uid)))
			_exit(1);
		prctl(PR_SET_NAME, comm);
		c = setup && setup(arg) ? 'e' : 'r';
		if (write(ready[1], &c, 1) != 1 || read(p[0], &c, 1) < 0)
			_exit(1);
		_exit(0);
	}
	close(p[0]);
	close(ready[1]);
	if (pid < 0 || read(ready[0], &c, 1) != 1 || c != 'r') {
		close(ready[0]);
		close(p[1]);
		if (pid > 0)
			waitpid(pid, NULL, 0);
		return -1;
	}
	close(ready[0]);
	*release = p[1];
	return pid;
}

static int dup_fd(void *arg)
{
	return dup(*(int *)arg) < 0 ? -1 : 0;
}

/*
 * A second holder: a child named ctl-holder with a copy of @fd, which
 * says when it is ready and waits for its pipe to close.
 */
static pid_t start_holder(int fd, int *release)
{
	return start_child("ctl-holder", 0, dup_fd, &fd, release);
}

static void stop_child(pid_t pid, int release)
{
	if (pid <= 0)
		return;
	close(release);
	waitpid(pid, NULL, 0);
}

static int name_evil(void *arg)
{
	return ioctl(*(int *)arg, DMA_BUF_SET_NAME_B, EVIL_NAME) ? -1 : 0;
}

/* Lookalikes of dma-bufs: the shape of them, in a child. */
struct fake {
	unsigned long want_ino;	/* the inode number of a real buffer */
	int coll_fd;		/* "/dmabuf:fake", inode want_ino, not a dma-buf */
	unsigned long memfd_ino;
	unsigned long tries;
};

#define COLL_DIR	"/tmp/t_ctl-coll"
#define FAKE_FD		222
#define FAKE_FD_STR	"222"

/*
 * A file whose path reads "/dmabuf:fake" (the root of a tmpfs that is then
 * detached) with the inode number of a real buffer (tmpfs numbers its
 * files one by one), held and mapped; and a memfd named "x /dmabuf:memfake",
 * mapped.  Results in the shared struct fake.
 */
static int make_fakes(void *arg)
{
	struct fake *f = arg;
	struct stat st;
	int fd, m;

	if (unshare(CLONE_NEWNS) || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL))
		return -1;
	mkdir(COLL_DIR, 0700);
	if (mount("tmpfs", COLL_DIR, "tmpfs", 0, "size=1M"))
		return -1;
	for (f->tries = 0; f->tries < 20000000; f->tries++) {
		fd = open(COLL_DIR "/dmabuf:fake", O_RDWR | O_CREAT | O_EXCL, 0600);
		if (fd < 0 || fstat(fd, &st))
			return -1;
		if (st.st_ino == f->want_ino)
			break;
		close(fd);
		unlink(COLL_DIR "/dmabuf:fake");
		if (st.st_ino > f->want_ino)
			return -1;
	}
	if (ftruncate(fd, 4096) ||
	    mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, 0) == MAP_FAILED ||
	    umount2(COLL_DIR, MNT_DETACH))
		return -1;
	/* A number of its own: the child also holds real buffers it inherited. */
	f->coll_fd = dup2(fd, FAKE_FD);
	close(fd);
	m = memfd_create("x /dmabuf:memfake", 0);
	if (f->coll_fd != FAKE_FD || m < 0 || ftruncate(m, 4096) || fstat(m, &st) ||
	    mmap(NULL, 4096, PROT_READ, MAP_SHARED, m, 0) == MAP_FAILED)
		return -1;
	f->memfd_ino = st.st_ino;
	return 0;
}

#define SWAP_FIRST	100
#define SWAP_FDS	200

/* Swapping fds SWAP_FIRST.. between a dma-buf and a memfd, counted. */
struct swap {
	int dmabuf, memfd;
	unsigned long memfd_ino;
	pid_t swapper;
	volatile unsigned long swaps;
};

static int start_swapping(void *arg)
{
	struct swap *w = arg;
	pid_t pid = fork();
	int i;

	/* The grandchild swaps; the child says ready once it runs. */
	if (pid) {
		while (pid > 0 && !w->swaps)
			usleep(1000);
		return pid < 0 ? -1 : 0;
	}
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	w->swapper = getpid();
	for (;;) {
		for (i = 0; i < SWAP_FDS; i++)
			dup2(w->swaps & 1 ? w->dmabuf : w->memfd, SWAP_FIRST + i);
		w->swaps++;
	}
}

int main(void)
{
	char want[256], line[1024], srv[32];
	struct t_drm_create_dumb dumb = { .height = 16, .width = 1024, .bpp = 32 };
	struct dmabuf_core_stats before, now;
	int mine = -1, imp = -1, vgem = -1, vfd = -1, release = -1, nullfd, rc;
	unsigned long long live;
	pid_t holder = -1, gone;
	struct stat vst = { 0 };
	void *map = MAP_FAILED;

	tap_init("t_ctl");
	ctl_path = getenv("DMABUF_CTL") ? getenv("DMABUF_CTL") : CTL_DEFAULT;
	stats(&before);

	tg_begin("alloc --serve holds a named, filled buffer and hands it over a socket");
	if (CHECK(start_server() == 0, "dmabuf-ctl alloc did not print its line")) {
		for (rc = 0; rc < 50 && access(SOCK, F_OK); rc++)
			usleep(20000);
		mine = receive_buffer();
		if (expect_rc("receive", mine, 0)) {
			CHECK_U64("same buffer", buf_id(mine), srv_id);
			map = mmap(NULL, SIZE, PROT_READ, MAP_SHARED, mine, 0);
			if (CHECK(map != MAP_FAILED, "mmap: %s", errstr(errno)))
				CHECK(demo_checksum(map, SIZE) == demo_expected_checksum(SIZE, 7),
				      "contents are not the pattern of seed 7");
		}
	}
	snprintf(srv, sizeof(srv), "%d:%d", (int)server, srv_fd);
	tg_end();
	if (mine < 0)
		goto out;

	/* Holders: the server, this test (fd and mapping), a child; the demo importer. */
	holder = start_holder(mine, &release);
	imp = importer_open(0);
	tg_begin("a kernel importer and a second process hold it too");
	expect_rc("importer attach", demo_attach(imp, mine), 0);
	CHECK(holder > 0, "fork");
	vgem = vgem_open();
	if (expect_rc("open vgem", vgem, 0) &&
	    CHECK(ioctl(vgem, T_DRM_IOCTL_MODE_CREATE_DUMB, &dumb) == 0, "create dumb: %s",
		  errstr(errno))) {
		vfd = vgem_prime_export(vgem, dumb.handle);
		expect_rc("vgem prime export", vfd, 0);
	}
	tg_end();

	tg_begin("list shows the buffer, its device, every holder, and vgem's");
	rc = CTL_RUN("list");
	CHECK(rc == 0, "list exit %d: %s", rc, out);
	print_out();
	snprintf(want, sizeof(want), "%-8llu %-6llu %12llu dmabuf_core", srv_ino, srv_id,
		 (unsigned long long)SIZE);
	if (CHECK(line_of(want, line, sizeof(line)), "no line '%s' in:\n%s", want, out)) {
		CHECK(strstr(line, " ctl-test "), "name: %s", line);
		CHECK(strstr(line, " dmabuf-demo-importer.0 "), "device: %s", line);
		snprintf(want, sizeof(want), "%d(dmabuf-ctl):fd%d", (int)server, srv_fd);
		CHECK(strstr(line, want), "holder %s: %s", want, line);
		snprintf(want, sizeof(want), "%d(t_ctl):fd%d,map", (int)getpid(), mine);
		CHECK(strstr(line, want), "holder %s: %s", want, line);
		snprintf(want, sizeof(want), "%d(ctl-holder):fd", (int)holder);
		CHECK(strstr(line, want), "holder %s: %s", want, line);
	}
	if (vfd >= 0 && CHECK(fstat(vfd, &vst) == 0, "fstat")) {
		/* DRM's PRIME exports are named after the drm core module. */
		snprintf(want, sizeof(want), "%-8lu %-6s %12llu ", (unsigned long)vst.st_ino, "-",
			 (unsigned long long)dumb.size);
		if (CHECK(line_of(want, line, sizeof(line)), "no line '%s' in:\n%s", want, out)) {
			CHECK(!strncmp(line + strlen(want), "drm ", 4) ||
			      !strncmp(line + strlen(want), "vgem ", 5), "exporter: %s", line);
			snprintf(want, sizeof(want), "%d(t_ctl):fd%d", (int)getpid(), vfd);
			CHECK(strstr(line, want), "holder %s: %s", want, line);
		}
	}
	snprintf(want, sizeof(want), "process %d (dmabuf-ctl): 1 buffer, %llu bytes", (int)server,
		 (unsigned long long)SIZE);
	CHECK(strstr(out, want), "no '%s' in:\n%s", want, out);
	CHECK(strstr(out, "exporter dmabuf_core: "), "no dmabuf_core total:\n%s", out);
	CHECK(!strstr(out, "note: "), "list could not read bufinfo:\n%s", out);
	tg_end();

	tg_begin("list --json says the same");
	rc = CTL_RUN("list", "--json");
	CHECK(rc == 0, "exit %d", rc);
	snprintf(want, sizeof(want), "{\"inode\": %llu, \"size\": %llu, \"exporter\": \"dmabuf_core\", \"name\": \"ctl-test\", \"id\": %llu, \"attachments\": 1, \"mappings\": 0, \"devices\": [\"dmabuf-demo-importer.0\"], \"holders\": [",
		 srv_ino, (unsigned long long)SIZE, srv_id);
	CHECK(strstr(out, want), "no '%s' in:\n%s", want, out);
	snprintf(want, sizeof(want), "{\"pid\": %d, \"comm\": \"dmabuf-ctl\", \"fds\": [%d], \"maps\": 0}",
		 (int)server, srv_fd);
	CHECK(strstr(out, want), "no '%s' in:\n%s", want, out);
	snprintf(want, sizeof(want), "{\"pid\": %d, \"comm\": \"t_ctl\", \"fds\": [%d], \"maps\": 1}",
		 (int)getpid(), mine);
	CHECK(strstr(out, want), "no '%s' in:\n%s", want, out);
	snprintf(want, sizeof(want), "{\"inode\": %lu, \"size\": %llu, \"exporter\": \"",
		 (unsigned long)vst.st_ino, (unsigned long long)dumb.size);
	CHECK(vfd < 0 || strstr(out, want), "no vgem buffer '%s' in:\n%s", want, out);
	CHECK(strstr(out, "\"kernel_view\": true"), "no kernel view:\n%s", out);
	tg_end();

	tg_begin("info PID:FD of the server's buffer");
	rc = CTL_RUN("info", srv);
	CHECK(rc == 0, "exit %d: %s", rc, out);
	snprintf(want, sizeof(want), "id:          %llu", srv_id);
	CHECK(strstr(out, want), "no '%s' in:\n%s", want, out);
	CHECK(strstr(out, "attachments: 1\n") && strstr(out, "moves:       0\n") &&
	      strstr(out, "name:        ctl-test\n") &&
	      strstr(out, "exporter:    dmabuf_core\n") && strstr(out, "size:        1048576\n"),
	      "fields:\n%s", out);
	rc = CTL_RUN("info", srv, "--json");
	snprintf(want, sizeof(want), "\"id\": %llu, \"attachments\": 1, \"mappings\": 0, \"moves\": 0, \"dmabuf_core\": true}",
		 srv_id);
	CHECK(rc == 0 && strstr(out, want), "json exit %d, no '%s' in:\n%s", rc, want, out);
	tg_end();

	tg_begin("verify, fill and dump through PID:FD reach the same pages");
	rc = CTL_RUN("verify", srv, "7");
	CHECK(rc == 0 && !strncmp(out, "ok: ", 4), "verify 7: exit %d: %s", rc, out);
	rc = CTL_RUN("verify", srv, "8");
	CHECK(rc == 1 && !strncmp(out, "mismatch: ", 10), "verify 8: exit %d: %s", rc, out);
	rc = CTL_RUN("fill", srv, "9");
	CHECK(rc == 0, "fill 9: exit %d: %s", rc, out);
	if (map != MAP_FAILED)
		CHECK(demo_checksum(map, SIZE) == demo_expected_checksum(SIZE, 9),
		      "this process's mapping does not see seed 9");
	rc = CTL_RUN("verify", srv, "9");
	CHECK(rc == 0, "verify 9: exit %d: %s", rc, out);
	rc = CTL_RUN("dump", srv, "0", "16");
	/* Words 9 ^ (i * 0x9E3779B1), little-endian. */
	CHECK(rc == 0 && !strcmp(out, "00000000: 09 00 00 00 b8 79 37 9e 6b f3 6e 3c 1a 6d a6 da\n"),
	      "dump: exit %d: %s", rc, out);
	tg_end();

	tg_begin("stats agrees with STATS");
	stats(&now);
	rc = CTL_RUN("stats", "--json");
	CHECK(rc == 0 && sscanf(out, "{\"live_buffers\": %llu", &live) == 1, "exit %d: %s", rc, out);
	CHECK_U64("live buffers", live, now.live_buffers);
	tg_end();

	tg_begin("the usual mistakes get their exit codes and a message");
	rc = CTL_RUN("frobnicate");
	CHECK(rc == 2 && strstr(out, "unknown command"), "unknown command: %d %s", rc, out);
	rc = ctl_as(0, (const char *const[]){ NULL });
	CHECK(rc == 2, "no command: %d", rc);
	rc = CTL_RUN("info");
	CHECK(rc == 2, "info without a buffer: %d %s", rc, out);
	rc = CTL_RUN("alloc", "0");
	CHECK(rc == 2, "alloc 0: %d %s", rc, out);
	rc = CTL_RUN("alloc", "1X");
	CHECK(rc == 2, "alloc 1X: %d %s", rc, out);
	gone = fork();
	if (gone == 0)
		_exit(0);
	waitpid(gone, NULL, 0);
	snprintf(want, sizeof(want), "%d:3", (int)gone);
	rc = CTL_RUN("info", want);
	CHECK(rc == 5 && strstr(out, "is gone"), "a process that has gone: %d %s", rc, out);
	snprintf(want, sizeof(want), "%d:999", (int)server);
	rc = CTL_RUN("info", want);
	CHECK(rc == 5 && strstr(out, "has no fd 999"), "no such fd: %d %s", rc, out);
	nullfd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	snprintf(want, sizeof(want), "%d:%d", (int)getpid(), nullfd);
	rc = CTL_RUN("info", want);
	CHECK(rc == 5 && strstr(out, "is not a dma-buf"), "not a dma-buf: %d %s", rc, out);
	close(nullfd);
	rc = ctl_as(1000, (const char *const[]){ "stats", NULL });
	CHECK(rc == 4 && strstr(out, "permission denied"), "stats as uid 1000: %d %s", rc, out);
	rc = ctl_as(1000, (const char *const[]){ "info", srv, NULL });
	CHECK(rc == 4, "root's buffer as uid 1000: %d %s", rc, out);
	tg_end();

	tg_begin("names and comms of escapes are printed escaped by list, info and --json");
	{
		int evil = demo_create(4096, O_RDWR | O_CLOEXEC), rel = -1;
		pid_t child = -1;
		const char *bad;
		struct stat est;

		if (expect_rc("create", evil, 0) && CHECK(fstat(evil, &est) == 0, "fstat")) {
			/* An unprivileged user names the buffer and itself. */
			child = start_child(EVIL_COMM, 1000, name_evil, &evil, &rel);
			CHECK(child > 0, "the child could not name the buffer");
		}
		if (child > 0) {
			rc = CTL_RUN("list");
			bad = unsafe_at(out);
			CHECK(rc == 0 && !bad, "list exit %d, unsafe byte %#x at %ld", rc,
			      bad ? (unsigned char)*bad : 0, bad ? (long)(bad - out) : -1L);
			if (CHECK(line_of_ino(est.st_ino, line, sizeof(line)), "no buffer %lu",
				  (unsigned long)est.st_ino)) {
				CHECK(strstr(line, " " EVIL_NAME_TEXT " "), "name not escaped whole: %s",
				      line);
				snprintf(want, sizeof(want), "%d(" EVIL_COMM_TEXT "):fd", (int)child);
				CHECK(strstr(line, want), "comm not escaped whole: %s", line);
			}
			rc = CTL_RUN("list", "--json");
			CHECK(rc == 0 && json_ok(out), "list --json exit %d, not JSON:\n%s", rc, out);
			bad = unsafe_at(out);
			CHECK(!bad, "list --json: unsafe byte %#x", bad ? (unsigned char)*bad : 0);
			CHECK(strstr(out, "\"name\": " EVIL_NAME_JSON ","), "no name %s in:\n%s",
			      EVIL_NAME_JSON, out);
			CHECK(strstr(out, "\"comm\": " EVIL_COMM_JSON ","), "no comm %s in:\n%s",
			      EVIL_COMM_JSON, out);
			snprintf(want, sizeof(want), "%d:%d", (int)child, evil);
			rc = CTL_RUN("info", want);
			bad = unsafe_at(out);
			CHECK(rc == 0 && !bad, "info exit %d, unsafe byte %#x", rc,
			      bad ? (unsigned char)*bad : 0);
			CHECK(strstr(out, "\nname:        " EVIL_NAME_TEXT "\n"), "info name:\n%s",
			      out);
			rc = CTL_RUN("info", want, "--json");
			CHECK(rc == 0 && json_ok(out) && !unsafe_at(out) &&
			      strstr(out, "\"name\": " EVIL_NAME_JSON ","),
			      "info --json exit %d, not JSON or no name:\n%s", rc, out);
		}
		stop_child(child, rel);
		close_if_open(evil);
	}
	tg_end();

	tg_begin("list and info refuse what only looks like a dma-buf");
	{
		struct fake *fk = mmap(NULL, sizeof(*fk), PROT_READ | PROT_WRITE,
				       MAP_SHARED | MAP_ANONYMOUS, -1, 0);
		int real = demo_create(4096, O_RDWR | O_CLOEXEC), rel = -1, pidfd, got;
		const char *bad;
		pid_t child = -1;
		struct stat rst;

		if (expect_rc("create", real, 0) && CHECK(fk != MAP_FAILED, "mmap") &&
		    CHECK(fstat(real, &rst) == 0, "fstat")) {
			fk->want_ino = rst.st_ino;
			child = start_child("ctl-fake", 0, make_fakes, fk, &rel);
			CHECK(child > 0, "no file with inode %lu after %lu files",
			      (unsigned long)rst.st_ino, fk->tries);
		}
		if (child > 0) {
			tg_note("a tmpfs file with inode %lu after %lu files", fk->want_ino,
				fk->tries);
			rc = CTL_RUN("list");
			CHECK(rc == 0, "list exit %d", rc);
			/* The child holds the real buffer too, inherited: but not as fd 222, nor mapped. */
			snprintf(want, sizeof(want), " %d(ctl-fake):", (int)child);
			if (CHECK(line_of_ino(rst.st_ino, line, sizeof(line)),
				  "no real buffer %lu:\n%s", (unsigned long)rst.st_ino, out) &&
			    CHECK(strstr(line, want), "the child's own fd of it not listed: %s", line)) {
				char *h = strstr(line, want) + strlen(want);

				h[strcspn(h, " ")] = 0;
				CHECK(!strstr(h, "fd" FAKE_FD_STR) && !strstr(h, "map"),
				      "a lookalike listed as the real buffer: %s", h);
			}
			CHECK(!strstr(out, "fd" FAKE_FD_STR), "a lookalike listed:\n%s", out);
			CHECK(!line_of_ino(fk->memfd_ino, line, sizeof(line)),
			      "the memfd listed as a buffer: %s", line);
			rc = CTL_RUN("list", "--json");
			snprintf(want, sizeof(want), "{\"pid\": %d, \"comm\": \"ctl-fake\", \"fds\": [",
				 (int)child);
			CHECK(rc == 0 && strstr(out, want), "exit %d, the child's real fd not listed:\n%s",
			      rc, out);
			/* No holder object of the child with fd 222 ... */
			for (bad = out; (bad = strstr(bad, want)); bad++) {
				snprintf(line, sizeof(line), "%.*s", (int)strcspn(bad, "]"), bad);
				CHECK(!strstr(line, " " FAKE_FD_STR) && !strstr(line, "[" FAKE_FD_STR),
				      "a lookalike listed by --json: %s", line);
			}
			/* ... nor a mapping of the real buffer (a buffer a line). */
			snprintf(line, sizeof(line), "{\"inode\": %lu, ", (unsigned long)rst.st_ino);
			bad = strstr(out, line);
			if (CHECK(bad, "no real buffer in:\n%s", out)) {
				snprintf(line, sizeof(line), "%.*s", (int)strcspn(bad, "\n"), bad);
				bad = strstr(line, want);
				CHECK(bad && strstr(bad, "], \"maps\": 0}") == bad + strcspn(bad, "]"),
				      "the lookalike mapping listed by --json: %s", line);
			}
			/* PID:FD of the lookalike. */
			snprintf(want, sizeof(want), "%d:%d", (int)child, fk->coll_fd);
			rc = CTL_RUN("info", want);
			CHECK(rc == 5 && strstr(out, "is not a dma-buf"), "info %s: %d %s", want, rc,
			      out);
			/* The lookalike, and a memfd, as fds of dmabuf-ctl's own. */
			pidfd = syscall(SYS_pidfd_open, child, 0);
			got = pidfd < 0 ? -1 : syscall(SYS_pidfd_getfd, pidfd, fk->coll_fd, 0);
			if (CHECK(got >= 0 && dup2(got, 50) == 50, "taking the lookalike: %s",
				  errstr(errno))) {
				rc = CTL_RUN("info", "50");
				CHECK(rc == 5 && strstr(out, "fd 50 is not a dma-buf"),
				      "info of a lookalike: %d %s", rc, out);
				rc = CTL_RUN("dump", "50");
				CHECK(rc == 5, "dump of a lookalike: %d %s", rc, out);
				close(50);
			}
			close_if_open(got);
			close_if_open(pidfd);
			got = memfd_create("dmabuf", 0);
			if (CHECK(got >= 0 && dup2(got, 50) == 50, "memfd")) {
				rc = CTL_RUN("info", "50");
				CHECK(rc == 5, "info of a memfd: %d %s", rc, out);
				close(50);
			}
			close_if_open(got);
		}
		stop_child(child, rel);
		close_if_open(real);
		if (fk != MAP_FAILED)
			munmap(fk, sizeof(*fk));
	}
	tg_end();

	tg_begin("list while a process swaps its fds between a dma-buf and a memfd");
	{
		struct swap *w = mmap(NULL, sizeof(*w), PROT_READ | PROT_WRITE,
				      MAP_SHARED | MAP_ANONYMOUS, -1, 0);
		int rel = -1, seen = 0, runs;
		unsigned long before_swaps = 0;
		pid_t child = -1;
		struct stat mst;

		if (CHECK(w != MAP_FAILED, "mmap")) {
			w->swaps = 0;
			w->dmabuf = demo_create(4096, O_RDWR | O_CLOEXEC);
			w->memfd = memfd_create("swap", MFD_CLOEXEC);
			if (expect_rc("create", w->dmabuf, 0) &&
			    CHECK(w->memfd >= 0 && fstat(w->memfd, &mst) == 0, "memfd")) {
				w->memfd_ino = mst.st_ino;
				child = start_child("ctl-swap", 0, start_swapping, w, &rel);
				CHECK(child > 0, "fork");
			}
		}
		for (runs = 0; child > 0 && runs < 20; runs++) {
			before_swaps = w->swaps;
			rc = CTL_RUN("list");
			if (!CHECK(rc == 0, "run %d: list exit %d", runs, rc))
				break;
			if (line_of_ino(w->memfd_ino, line, sizeof(line))) {
				tg_fail("run %d: the memfd listed as a buffer: %s", runs, line);
				break;
			}
			snprintf(want, sizeof(want), " %d(ctl-swap):fd", (int)w->swapper);
			seen += strstr(out, want) != NULL;
		}
		if (child > 0) {
			/* The race took place: fds swapped while list ran, and list saw them. */
			CHECK(w->swaps > before_swaps, "no swaps during the last list");
			CHECK(seen > 0, "list never saw the swapping process hold the dma-buf");
			tg_note("%d lists, %d saw the dma-buf held, %lu swap rounds", runs, seen,
				w->swaps);
		}
		stop_child(child, rel);
		if (w != MAP_FAILED) {
			close_if_open(w->dmabuf);
			close_if_open(w->memfd);
			munmap(w, sizeof(*w));
		}
	}
	tg_end();

out:
	tg_begin("the server stops on SIGTERM, and everything is released");
	if (map != MAP_FAILED)
		munmap(map, SIZE);
	if (imp >= 0)
		close(imp);	/* drops the importer's attachment */
	close_if_open(mine);
	close_if_open(vfd);
	if (vgem >= 0) {
		vgem_gem_close(vgem, dumb.handle);
		close(vgem);
	}
	if (release >= 0)
		close(release);
	if (holder > 0)
		waitpid(holder, NULL, 0);
	if (server > 0) {
		int st = -1;

		kill(server, SIGTERM);
		waitpid(server, &st, 0);
		CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0, "server status %#x", st);
		CHECK(access(SOCK, F_OK) != 0, "the socket is still there");
	}
	exporter_close();
	tg_end();
	expect_stats_baseline(&before);
	return tap_finish();
}
