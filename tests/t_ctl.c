// SPDX-License-Identifier: GPL-2.0-only
/*
 * dmabuf-ctl against the live system: a buffer allocated and served by
 * `dmabuf-ctl alloc`, received over its socket by this test, mapped here,
 * held by a second process and attached by a kernel importer (the demo
 * importer), plus a vgem dma-buf; then list (text and JSON), info, stats,
 * fill/verify/dump through PID:FD, and the exit codes of the usual
 * mistakes.  Expects the demo modules and vgem loaded, debugfs mounted,
 * /tests/dmabuf-ctl (or $DMABUF_CTL), and to run as root; user 1000 is not
 * allowed /dev/dmabuf (devtmpfs's 0600, no udev yet).
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
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
 * A second holder: a child named ctl-holder with a copy of @fd, which
 * says when it is ready and waits for its pipe to close.
 */
static pid_t start_holder(int fd, int *release)
{
	int p[2], ready[2];
	char c;
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
		int keep = dup(fd);

		(void)keep;
		prctl(PR_SET_NAME, "ctl-holder");
		close(p[1]);
		if (write(ready[1], "r", 1) != 1 || read(p[0], &c, 1) < 0)
			_exit(1);
		_exit(0);
	}
	close(p[0]);
	close(ready[1]);
	if (pid < 0 || read(ready[0], &c, 1) != 1) {
		close(ready[0]);
		close(p[1]);
		return -1;
	}
	close(ready[0]);
	*release = p[1];
	return pid;
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
	CHECK(strstr(out, "attachments: 1\n") && strstr(out, "name:        ctl-test\n") &&
	      strstr(out, "exporter:    dmabuf_core\n") && strstr(out, "size:        1048576\n"),
	      "fields:\n%s", out);
	rc = CTL_RUN("info", srv, "--json");
	snprintf(want, sizeof(want), "\"id\": %llu, \"attachments\": 1, \"mappings\": 0, \"dmabuf_core\": true}",
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
