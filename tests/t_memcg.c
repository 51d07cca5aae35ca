// SPDX-License-Identifier: GPL-2.0-only
/*
 * t_memcg: memory no user can exhaust.  Buffer pages are charged to the
 * allocating task's memory cgroup (cgroup v2) and uncharged when the buffer
 * goes; a buffer bigger than the cgroup's memory.max fails with ENOMEM and
 * kills nothing; the memcg_account parameter turns charging off; the
 * max_total_mb parameter caps all page storage (/dev/dmabuf and the demo
 * exporter alike); a member of group video allocating until refusal never
 * wakes the OOM killer.
 *
 * Runs as root with the demo modules loaded and the nodes as devtmpfs made
 * them; the video-group case gives /dev/dmabuf the udev rule's owner and
 * mode for its duration.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/cg.h"
#include "lib/demo.h"
#include "lib/tap.h"

#define CG		CG_ROOT "/t_memcg"
#define PARAMS		"/sys/module/dmabuf_core/parameters/"
#define VIDEO_GID	44
#define TESTER_UID	1000

static long long memcg_current(void)
{
	return cg_current(CG);
}

static int setup_cgroup(void)
{
	int r = cg_make(CG, "64M");

	return r ? r : cg_join(CG);
}

static void test_limit(void)
{
	long long kills0 = keyed("/proc/vmstat", "oom_kill"), c0, c1, c2;
	int fd;

	tg_begin("a 128 MiB buffer in a cgroup with memory.max 64M -> ENOMEM, nothing killed");
	fd = alloc_buf(128 * MiB, O_RDWR | O_CLOEXEC);
	expect_rc("alloc 128 MiB", fd, ENOMEM);
	if (fd >= 0)
		close(fd);
	CHECK(keyed(CG "/memory.events", "oom_kill") == 0, "memory.events oom_kill %lld",
	      keyed(CG "/memory.events", "oom_kill"));
	CHECK(keyed("/proc/vmstat", "oom_kill") == kills0, "vmstat oom_kill %lld -> %lld",
	      kills0, keyed("/proc/vmstat", "oom_kill"));
	CHECK(keyed(CG "/memory.events", "max") > 0, "memory.events max never hit");
	tg_end();

	tg_begin("a 32 MiB buffer is charged to its cgroup and uncharged when it goes");
	c0 = memcg_current();
	fd = alloc_buf(32 * MiB, O_RDWR | O_CLOEXEC);
	c1 = memcg_current();
	if (expect_rc("alloc 32 MiB", fd, 0))
		close(fd);
	c2 = memcg_current();
	/* (Up to 64 pages per CPU may come from a precharged stock.) */
	CHECK(c1 - c0 >= (long long)(31 * MiB), "memory.current %lld -> %lld with the buffer",
	      c0, c1);
	/* Charges move in per-CPU batches of 64 pages. */
	CHECK(c2 - c0 < (long long)(2 * MiB), "memory.current %lld after the close, %lld before",
	      c2, c0);
	tg_note("memory.current %lld -> %lld -> %lld", c0, c1, c2);
	tg_end();

	tg_begin("memcg_account=0 leaves pages uncharged");
	CHECK(!write_file(PARAMS "memcg_account", "N"), "memcg_account not writable");
	c0 = memcg_current();
	fd = alloc_buf(128 * MiB, O_RDWR | O_CLOEXEC);
	c1 = memcg_current();
	if (expect_rc("alloc 128 MiB uncharged", fd, 0))
		close(fd);
	CHECK(c1 - c0 < (long long)(8 * MiB), "memory.current %lld -> %lld", c0, c1);
	CHECK(!write_file(PARAMS "memcg_account", "Y"), "memcg_account not restored");
	tg_end();
}

static void test_total_cap(void)
{
	struct dmabuf_demo_access acc;
	int a, b, d, imp;

	tg_begin("max_total_mb caps all page storage, /dev/dmabuf and demo buffers alike");
	CHECK(!write_file(PARAMS "max_total_mb", "64"), "max_total_mb not writable");
	a = alloc_buf(48 * MiB, O_RDWR | O_CLOEXEC);
	expect_rc("48 MiB under a 64 MiB cap", a, 0);
	b = alloc_buf(32 * MiB, O_RDWR | O_CLOEXEC);
	expect_rc("32 MiB more", b, ENOMEM);
	if (b >= 0)
		close(b);
	/* A demo buffer's storage comes at its first map: refused there. */
	imp = importer_open(0);
	d = demo_create(32 * MiB, O_RDWR | O_CLOEXEC);
	if (expect_rc("demo create (deferred storage)", d, 0) &&
	    expect_rc("importer attach", demo_attach(imp, d), 0)) {
		expect_rc("first map of 32 MiB more",
			  demo_access(imp, d, DMABUF_DEMO_ACCESS_READ, 0, &acc), ENOMEM);
		demo_detach(imp, d);
	}
	if (d >= 0)
		close(d);
	if (a >= 0)
		close(a);
	b = alloc_buf(32 * MiB, O_RDWR | O_CLOEXEC);
	expect_rc("32 MiB once the 48 are gone", b, 0);
	if (b >= 0)
		close(b);
	if (imp >= 0)
		close(imp);
	CHECK(!write_file(PARAMS "max_total_mb", "0"), "max_total_mb not restored");
	tg_end();
}

/* Child: as uid 1000 in group video, 64 MiB buffers until refused. */
static int exhaust(void)
{
	gid_t groups[] = { VIDEO_GID };
	struct dmabuf_core_alloc a;
	int node, n = 0;

	if (setgroups(1, groups) || setgid(TESTER_UID) || setuid(TESTER_UID))
		return 100;
	node = open(DMABUF_DEV, O_RDWR | O_CLOEXEC);
	if (node < 0)
		return 101;
	for (;;) {
		memset(&a, 0, sizeof(a));
		a.len = 64 * MiB;
		a.fd_flags = O_RDWR | O_CLOEXEC;
		if (ioctl(node, DMABUF_CORE_IOCTL_ALLOC, &a) < 0)
			break;
		if (++n > 4096)
			return 102;
	}
	if (errno != ENOMEM)
		return 103;
	return n > 250 ? 250 : n;	/* exit status: buffers held */
}

static void test_video_member(void)
{
	long long kills0 = keyed("/proc/vmstat", "oom_kill");
	struct stat st0;
	int status = 0;
	pid_t pid;

	tg_begin("a member of group video allocating until refusal never wakes the OOM killer");
	if (!CHECK(!stat(DMABUF_DEV, &st0), "stat " DMABUF_DEV) ||
	    !CHECK(!chown(DMABUF_DEV, 0, VIDEO_GID) && !chmod(DMABUF_DEV, 0660),
		   "chown/chmod " DMABUF_DEV)) {
		tg_end();
		return;
	}
	fflush(stdout);
	pid = fork();
	if (pid == 0)
		_exit(exhaust());
	CHECK(pid > 0 && waitpid(pid, &status, 0) == pid, "fork/wait");
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) < 100 && WEXITSTATUS(status) > 0,
	      "child %s %d", WIFEXITED(status) ? "exit" : "signal",
	      WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
	CHECK(keyed("/proc/vmstat", "oom_kill") == kills0, "vmstat oom_kill %lld -> %lld",
	      kills0, keyed("/proc/vmstat", "oom_kill"));
	if (WIFEXITED(status))
		tg_note("%d buffers of 64 MiB, then ENOMEM", WEXITSTATUS(status));
	if (chown(DMABUF_DEV, st0.st_uid, st0.st_gid) || chmod(DMABUF_DEV, st0.st_mode & 07777))
		tg_fail("could not restore " DMABUF_DEV);
	tg_end();
}

#define CG_A	CG_ROOT "/t_memcg_creator"
#define CG_B	CG_ROOT "/t_memcg_mapper"

/* Touch the first byte of @fd's mapping in a child: its wait status. */
static int touch_in_child(int fd, size_t len)
{
	int status = -1;
	pid_t pid = fork();

	if (pid == 0) {
		volatile char *p = mmap(NULL, len, PROT_READ, MAP_SHARED, fd, 0);

		if (p == MAP_FAILED)
			_exit(2);
		(void)p[0];
		_exit(0);
	}
	if (pid > 0)
		waitpid(pid, &status, 0);
	return status;
}

/*
 * Regression: a demo buffer's deferred storage was charged to whoever
 * mapped it first, so a user could hand a victim a large buffer that
 * landed in the victim's cgroup.  The creator's cgroup pays.
 */
static void test_creator_pays(void)
{
	long long a0, a1, b0, b1;
	struct dmabuf_demo_access acc;
	int imp, fd, status;

	tg_begin("a demo buffer's storage is charged to its creator's cgroup, not the first mapper's");
	if (!CHECK((mkdir(CG_A, 0755) == 0 || errno == EEXIST) &&
		   (mkdir(CG_B, 0755) == 0 || errno == EEXIST) &&
		   !write_file(CG_A "/memory.max", "64M"), "setting up the cgroups: %s",
		   errstr(errno)))
		goto out;
	imp = importer_open(0);
	if (!expect_rc("open importer", imp < 0 ? imp : 0, 0))
		goto out;
	/* Created in A, first mapped (by a device, then by a fault) from B. */
	CHECK(!cg_join(CG_A), "join " CG_A);
	fd = demo_create(32 * MiB, O_RDWR | O_CLOEXEC);
	CHECK(!cg_join(CG_B), "join " CG_B);
	if (expect_rc("demo create in A", fd < 0 ? fd : 0, 0)) {
		a0 = read_param_ll(CG_A "/memory.current");
		b0 = read_param_ll(CG_B "/memory.current");
		expect_rc("first map from B", demo_access(imp, fd, DMABUF_DEMO_ACCESS_READ, 0,
							  &acc), 0);
		a1 = read_param_ll(CG_A "/memory.current");
		b1 = read_param_ll(CG_B "/memory.current");
		CHECK(a1 - a0 >= (long long)(31 * MiB), "A's memory.current %lld -> %lld", a0, a1);
		CHECK(b1 - b0 < (long long)(8 * MiB), "B's memory.current %lld -> %lld", b0, b1);
		tg_note("A %lld -> %lld, B %lld -> %lld", a0, a1, b0, b1);
		close(fd);
	}

	/* Over A's limit: B's room does not help. */
	CHECK(!cg_join(CG_A), "join " CG_A);
	fd = demo_create(128 * MiB, O_RDWR | O_CLOEXEC);
	CHECK(!cg_join(CG_B), "join " CG_B);
	if (expect_rc("demo create 128 MiB in A", fd < 0 ? fd : 0, 0)) {
		status = touch_in_child(fd, 128 * MiB);
		CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGBUS,
		      "first fault from B over A's limit: status %#x, not SIGBUS", status);
		expect_rc("first map from B over A's limit",
			  demo_access(imp, fd, DMABUF_DEMO_ACCESS_READ, 0, &acc), ENOMEM);
		close(fd);
	}
	close(imp);
out:
	cg_join(CG_ROOT);
	rmdir(CG_A);
	rmdir(CG_B);
	tg_end();
}

int main(void)
{
	struct dmabuf_core_stats s0;

	tap_init("t_memcg");
	expect_rc("STATS before", stats(&s0), 0);

	tg_begin("cgroup v2 memory controller, a group with memory.max 64M");
	CHECK(setup_cgroup() == 0, "setting up " CG);
	if (tg_end())
		test_limit();
	cg_join(CG_ROOT);
	rmdir(CG);
	test_creator_pays();

	test_total_cap();
	test_video_member();

	expect_stats_baseline(&s0);
	return tap_finish();
}
