// SPDX-License-Identifier: GPL-2.0-only
/*
 * t_vivid: V4L2 and dmabuf-core, with the stock vivid driver of the kernel
 * under test as the camera (loaded with one video capture node, default
 * vmalloc buffers, which map imported dma-bufs with vmap).
 *
 *   - capture with V4L2_MEMORY_DMABUF into /dev/dmabuf buffers and into
 *     demo-exporter buffers: the frames land in our pages, seen through our
 *     mmap and by the demo importer alike;
 *   - a vivid VIDIOC_EXPBUF buffer imported by the demo importer shows
 *     vivid's frame;
 *   - streams stopped with buffers queued, originals closed first, and the
 *     exporter module pinned while vivid holds its buffer, unloadable after.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/videodev2.h>
#include <linux/dmabuf_demo.h>

#include "lib/demo.h"
#include "lib/tap.h"
#include "lib/vivid.h"

#define NBUF	2
#define DEMO_EXPORTER_KO	"/modules/dmabuf_demo_exporter.ko"

static int imp0 = -1;

/* Wait for a filled buffer; its index, or -errno. */
static int dqbuf(unsigned int memory, unsigned int *bytesused)
{
	struct pollfd pfd = { .fd = vivid_fd, .events = POLLIN };
	struct v4l2_buffer b = { .type = V4L2_BUF_TYPE_VIDEO_CAPTURE, .memory = memory };

	if (poll(&pfd, 1, 20000) != 1)
		return -ETIMEDOUT;
	if (ioctl(vivid_fd, VIDIOC_DQBUF, &b))
		return -errno;
	*bytesused = b.bytesused;
	return (int)b.index;
}

static int nonzero(const uint8_t *p, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (p[i])
			return 1;
	return 0;
}

/* Capture one frame into @fds (our buffers) and check where it landed. */
static void capture_into(int fds[NBUF], const char *what)
{
	struct dmabuf_demo_access acc;
	struct dmabuf_core_query q;
	unsigned int used = 0;
	uint8_t *p;
	int i, idx;

	i = vivid_reqbufs(NBUF, V4L2_MEMORY_DMABUF);
	if (!expect_rc("REQBUFS(DMABUF)", i < 0 ? i : 0, 0))
		return;
	for (i = 0; i < NBUF; i++)
		expect_rc("QBUF(dmabuf fd)", vivid_qbuf_dmabuf(i, fds[i], vivid_frame_size), 0);
	/* vb2-vmalloc imports by vmap alone: no device attachment. */
	if (expect_rc("QUERY", query(fds[0], &q), 0))
		CHECK_U64("attachments while queued in vivid", q.attachments, 0);
	expect_rc("STREAMON", vivid_stream(1), 0);
	idx = dqbuf(V4L2_MEMORY_DMABUF, &used);
	if (expect_rc("DQBUF", idx < 0 ? idx : 0, 0) &&
	    CHECK(idx < NBUF && used > 0, "%s: index %d, %u bytes", what, idx, used)) {
		p = mmap(NULL, vivid_frame_size, PROT_READ, MAP_SHARED, fds[idx], 0);
		if (CHECK(p != MAP_FAILED, "mmap: %s", errstr(errno))) {
			CHECK(nonzero(p, used), "%s: the frame is all zeros", what);
			if (expect_rc("importer reads the frame",
				      demo_access(imp0, fds[idx], DMABUF_DEMO_ACCESS_READ, 0, &acc), 0))
				CHECK_U64("checksum the device saw = our mmap's",
					  acc.checksum, demo_checksum(p, vivid_frame_size));
			munmap(p, vivid_frame_size);
		}
	}
	expect_rc("STREAMOFF", vivid_stream(0), 0);
	expect_rc("REQBUFS(0)", vivid_reqbufs(0, V4L2_MEMORY_DMABUF), 0);
}

static void t_capture_into_dmabuf_node(void)
{
	int fds[NBUF], i;

	tg_begin("vivid captures into /dev/dmabuf buffers (V4L2_MEMORY_DMABUF)");
	for (i = 0; i < NBUF; i++)
		fds[i] = alloc_buf(vivid_frame_size, O_RDWR | O_CLOEXEC);
	if (CHECK(fds[0] >= 0 && fds[1] >= 0, "alloc failed"))
		capture_into(fds, "/dev/dmabuf");
	for (i = 0; i < NBUF; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	tg_end();
}

/*
 * A demo buffer's storage is placed by a device map (here the importer's
 * ACCESS), a user fault or FILL; only then does it offer kernel drivers a
 * kernel mapping.  0 or -errno.
 */
static int place_storage(int fd)
{
	return demo_access(imp0, fd, DMABUF_DEMO_ACCESS_READ, 0, NULL);
}

static void t_capture_into_demo_exporter(void)
{
	struct dmabuf_demo_exporter_stats s0, s1;
	struct dmabuf_demo_storage st;
	int fds[NBUF], i;

	tg_begin("vivid captures into demo-exporter buffers once their storage is placed");
	demo_exporter_stats(&s0);
	for (i = 0; i < NBUF; i++) {
		fds[i] = demo_create(vivid_frame_size, O_RDWR | O_CLOEXEC);
		if (fds[i] >= 0)
			expect_rc("storage placed by a device map", place_storage(fds[i]), 0);
	}
	if (CHECK(fds[0] >= 0 && fds[1] >= 0, "demo create failed")) {
		capture_into(fds, "demo exporter");
		if (expect_rc("STORAGE", demo_storage(fds[0], &st), 0))
			CHECK(st.allocated, "no storage after vivid's capture");
		demo_exporter_stats(&s1);
		CHECK(s1.vmapped >= s0.vmapped + NBUF, "vmaps %llu -> %llu",
		      (unsigned long long)s0.vmapped, (unsigned long long)s1.vmapped);
	}
	for (i = 0; i < NBUF; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	tg_end();
}

/*
 * Regression: vb2-vmalloc maps a dma-buf at QBUF with dma_buf_vmap(), no
 * attachment first, and the demo exporter allocated its storage in that
 * vmap: a failed allocation (memory cgroup limit, SIGKILL) made every
 * kernel's dma_buf_vmap() WARN.  A buffer without storage now offers no
 * kernel mapping: QBUF fails with EFAULT and allocates nothing.  And a
 * read-only buffer never offers one: vivid's capture would write it.
 */
static void t_no_vmap_before_storage(void)
{
	struct dmabuf_demo_exporter_stats s0, s1;
	struct dmabuf_demo_storage st;
	int fd, r;

	tg_begin("a fresh demo buffer offers vivid no kernel mapping: QBUF -> EFAULT, nothing allocated");
	r = vivid_reqbufs(1, V4L2_MEMORY_DMABUF);
	if (!expect_rc("REQBUFS(DMABUF)", r < 0 ? r : 0, 0))
		goto out;
	demo_exporter_stats(&s0);
	fd = demo_create(vivid_frame_size, O_RDWR | O_CLOEXEC);
	if (expect_rc("demo create", fd < 0 ? fd : 0, 0)) {
		expect_rc("QBUF of a fresh buffer", vivid_qbuf_dmabuf(0, fd, vivid_frame_size),
			  EFAULT);
		if (expect_rc("STORAGE", demo_storage(fd, &st), 0))
			CHECK(!st.allocated, "vivid's QBUF allocated the storage");
		demo_exporter_stats(&s1);
		CHECK_U64("allocations", s1.allocations - s0.allocations, 0);
		expect_rc("storage placed by a device map", place_storage(fd), 0);
		expect_rc("QBUF once placed", vivid_qbuf_dmabuf(0, fd, vivid_frame_size), 0);
		close(fd);
	}
	expect_rc("REQBUFS(0)", vivid_reqbufs(0, V4L2_MEMORY_DMABUF), 0);
out:
	tg_end();

	tg_begin("a read-only demo buffer is refused by vivid's capture queue, bytes unchanged");
	r = vivid_reqbufs(1, V4L2_MEMORY_DMABUF);
	if (!expect_rc("REQBUFS(DMABUF)", r < 0 ? r : 0, 0))
		goto out_ro;
	fd = demo_create(vivid_frame_size, O_RDONLY | O_CLOEXEC);
	if (expect_rc("demo create O_RDONLY", fd < 0 ? fd : 0, 0)) {
		struct dmabuf_demo_access a0, a1;

		expect_rc("ACCESS READ places the storage",
			  demo_access(imp0, fd, DMABUF_DEMO_ACCESS_READ, 0, &a0), 0);
		expect_rc("QBUF of a read-only buffer",
			  vivid_qbuf_dmabuf(0, fd, vivid_frame_size), EFAULT);
		/* Had it been queued, a frame would land in it now. */
		if (vivid_stream(1) == 0) {
			usleep(200 * 1000);
			vivid_stream(0);
		}
		if (expect_rc("ACCESS READ again",
			      demo_access(imp0, fd, DMABUF_DEMO_ACCESS_READ, 0, &a1), 0))
			CHECK_U64("checksum", a1.checksum, a0.checksum);
		close(fd);
	}
	expect_rc("REQBUFS(0)", vivid_reqbufs(0, V4L2_MEMORY_DMABUF), 0);
out_ro:
	tg_end();
}

#define CG_ROOT		"/sys/fs/cgroup"
#define CG		CG_ROOT "/t_vivid"

/*
 * The report's reproducer: a task in a cgroup with memory.max = 32 MiB
 * creates a 128 MiB demo buffer and QBUFs it into vivid (the guest runs
 * with panic_on_warn: before the fix, a panic at dma_buf_vmap).  Now a
 * clean EFAULT; placing the storage fails with ENOMEM; still no mapping.
 */
static void t_memcg_limit(void)
{
	struct stat sb;
	int pfd[2], res[4] = { -1, -1, -1, -1 };
	pid_t pid;
	int status;

	tg_begin("in a 32 MiB memory cgroup, QBUF of a fresh 128 MiB demo buffer -> EFAULT, no WARN");
	if ((stat(CG_ROOT "/cgroup.controllers", &sb) &&
	     mount("cgroup2", CG_ROOT, "cgroup2", 0, NULL)) ||
	    write_file(CG_ROOT "/cgroup.subtree_control", "+memory") ||
	    (mkdir(CG, 0755) && errno != EEXIST) ||
	    write_file(CG "/memory.max", "32M")) {
		tg_fail("setting up " CG ": %s", errstr(errno));
		goto out;
	}
	if (!CHECK(pipe2(pfd, O_CLOEXEC) == 0, "pipe: %s", errstr(errno)))
		goto out_rmdir;
	pid = fork();
	if (pid == 0) {
		int fd;

		close(pfd[0]);
		res[0] = write_file(CG "/cgroup.procs", "0");
		fd = demo_create(128 << 20, O_RDWR | O_CLOEXEC);
		if (!res[0] && fd >= 0 && vivid_open() >= 0 &&
		    vivid_reqbufs(1, V4L2_MEMORY_DMABUF) > 0) {
			res[1] = vivid_qbuf_dmabuf(0, fd, 128 << 20);
			res[2] = place_storage(fd);
			res[3] = vivid_qbuf_dmabuf(0, fd, 128 << 20);
		}
		if (write(pfd[1], res, sizeof(res)) != sizeof(res))
			_exit(2);
		_exit(0);
	}
	close(pfd[1]);
	if (CHECK(pid > 0, "fork: %s", errstr(errno)) &&
	    CHECK(read(pfd[0], res, sizeof(res)) == sizeof(res), "no report from the child")) {
		expect_rc("joining the cgroup", res[0], 0);
		expect_rc("QBUF of the fresh buffer", res[1], EFAULT);
		expect_rc("placing 128 MiB of storage over the limit", res[2], ENOMEM);
		expect_rc("QBUF after the failed placement", res[3], EFAULT);
	}
	close(pfd[0]);
	if (pid > 0) {
		waitpid(pid, &status, 0);
		CHECK(WIFEXITED(status) && !WEXITSTATUS(status), "child status %#x", status);
	}
out_rmdir:
	rmdir(CG);
out:
	tg_end();
}

/*
 * A child that loops forever: create a fresh 16 MiB buffer and QBUF it
 * (@op 0: refused with EFAULT, no allocation), or place its storage with
 * the importer's ACCESS and then QBUF it (@op 1: the offered mapping).
 * It says so on @hs before the first ioctl; any unexpected result ends it
 * with status 2.
 */
static void kill_child(int op, int hs)
{
	const size_t size = 16 << 20;
	char c = 'x';
	int fd, r;

	if (vivid_open() < 0 || write(hs, &c, 1) != 1)
		_exit(2);
	for (;;) {
		if (vivid_reqbufs(1, V4L2_MEMORY_DMABUF) <= 0)
			_exit(2);
		fd = demo_create(size, O_RDWR | O_CLOEXEC);
		if (fd < 0)
			_exit(2);
		if (op) {
			r = demo_access(imp0, fd, DMABUF_DEMO_ACCESS_READ, 0, NULL);
			if (r || vivid_qbuf_dmabuf(0, fd, size))
				_exit(2);
		} else if (vivid_qbuf_dmabuf(0, fd, size) != -EFAULT) {
			_exit(2);
		}
		close(fd);
		if (vivid_reqbufs(0, V4L2_MEMORY_DMABUF))
			_exit(2);
	}
}

static void t_sigkill_loop(void)
{
	struct dmabuf_demo_exporter_stats s0, s1;
	unsigned int i, iters = 40, handshakes = 0, killed = 0, bad = 0;
	struct pollfd pfd;
	int hs[2], status;
	pid_t pid;
	char c;

	tg_begin("children SIGKILLed while QBUFing and placing fresh demo buffers: no WARN, none leaked");
	demo_exporter_stats(&s0);
	for (i = 0; i < iters; i++) {
		if (pipe2(hs, O_CLOEXEC))
			break;
		pid = fork();
		if (pid == 0) {
			close(hs[0]);
			kill_child(i & 1, hs[1]);
		}
		close(hs[1]);
		if (pid < 0) {
			close(hs[0]);
			break;
		}
		pfd = (struct pollfd){ .fd = hs[0], .events = POLLIN };
		if (poll(&pfd, 1, 20000) == 1 && read(hs[0], &c, 1) == 1)
			handshakes++;
		close(hs[0]);
		/* Varied delays, to land in the allocation's different steps. */
		usleep((i * 7919) % 40000);
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
		if (WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
			killed++;
		else
			bad++;
	}
	demo_exporter_stats(&s1);
	CHECK(i == iters, "fork or pipe failed at %u: %s", i, errstr(errno));
	CHECK_U64("children that reached their ioctls", handshakes, iters);
	CHECK_U64("children that ended by our SIGKILL", killed, iters);
	CHECK_U64("children that saw an unexpected result", bad, 0);
	CHECK(s1.created > s0.created, "no buffer was created");
	CHECK_U64("buffers released of those created", s1.released - s0.released,
		  s1.created - s0.created);
	tg_end();
}

static void t_expbuf_import(void)
{
	struct v4l2_exportbuffer eb = { .type = V4L2_BUF_TYPE_VIDEO_CAPTURE,
					.flags = O_RDWR | O_CLOEXEC };
	struct v4l2_buffer b = { .type = V4L2_BUF_TYPE_VIDEO_CAPTURE,
				 .memory = V4L2_MEMORY_MMAP };
	struct dmabuf_demo_access acc;
	struct dmabuf_core_query q;
	unsigned int used = 0, i;
	uint8_t *p;
	int idx;

	tg_begin("a vivid VIDIOC_EXPBUF buffer imports into the demo importer: vivid's frame");
	idx = vivid_reqbufs(NBUF, V4L2_MEMORY_MMAP);
	if (!expect_rc("REQBUFS(MMAP)", idx < 0 ? idx : 0, 0))
		goto out;
	for (i = 0; i < NBUF; i++) {
		b.index = i;
		expect_rc("QBUF(mmap)", ioctl(vivid_fd, VIDIOC_QBUF, &b) ? -errno : 0, 0);
	}
	expect_rc("STREAMON", vivid_stream(1), 0);
	idx = dqbuf(V4L2_MEMORY_MMAP, &used);
	expect_rc("STREAMOFF", vivid_stream(0), 0);
	if (!expect_rc("DQBUF", idx < 0 ? idx : 0, 0))
		goto out_free;
	eb.index = idx;
	if (!CHECK(ioctl(vivid_fd, VIDIOC_EXPBUF, &eb) == 0, "EXPBUF: %s", errstr(errno)))
		goto out_free;
	b.index = idx;
	ioctl(vivid_fd, VIDIOC_QUERYBUF, &b);
	p = mmap(NULL, b.length, PROT_READ, MAP_SHARED, vivid_fd, b.m.offset);
	if (CHECK(p != MAP_FAILED, "mmap of vivid's buffer: %s", errstr(errno))) {
		CHECK(nonzero(p, used), "vivid's frame is all zeros");
		if (expect_rc("importer reads vivid's export",
			      demo_access(imp0, eb.fd, DMABUF_DEMO_ACCESS_READ, 0, &acc), 0)) {
			CHECK_U64("bytes the device saw", acc.bytes, page_round(b.length));
			CHECK_U64("checksum the device saw = vivid's mmap",
				  acc.checksum, demo_checksum(p, page_round(b.length)));
		}
		munmap(p, b.length);
	}
	if (expect_rc("QUERY", query(eb.fd, &q), 0))
		CHECK(q.info & DMABUF_CORE_QUERY_FOREIGN, "not foreign (exporter %s)",
		      q.exporter);
	close(eb.fd);
out_free:
	expect_rc("REQBUFS(0)", vivid_reqbufs(0, V4L2_MEMORY_MMAP), 0);
out:
	tg_end();
}

static int module_refcnt(const char *name)
{
	char path[96];
	int n = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/sys/module/%s/refcnt", name);
	f = fopen(path, "r");
	if (f) {
		if (fscanf(f, "%d", &n) != 1)
			n = -1;
		fclose(f);
	}
	return n;
}

static void t_queued_then_stopped(void)
{
	int fds[NBUF], i, refs, r, ko;

	tg_begin("stream stopped with our buffers queued; the exporter stays pinned until vivid lets go");
	for (i = 0; i < NBUF; i++) {
		fds[i] = demo_create(vivid_frame_size, O_RDWR | O_CLOEXEC);
		if (fds[i] >= 0)
			expect_rc("storage placed by a device map", place_storage(fds[i]), 0);
	}
	exporter_close();	/* an open node pins the module too */
	refs = module_refcnt("dmabuf_demo_exporter") - NBUF;
	if (!CHECK(fds[0] >= 0 && fds[1] >= 0, "demo create failed"))
		goto out;
	r = vivid_reqbufs(NBUF, V4L2_MEMORY_DMABUF);
	expect_rc("REQBUFS(DMABUF)", r < 0 ? r : 0, 0);
	for (i = 0; i < NBUF; i++)
		expect_rc("QBUF", vivid_qbuf_dmabuf(i, fds[i], vivid_frame_size), 0);
	expect_rc("STREAMON", vivid_stream(1), 0);
	expect_rc("STREAMOFF with buffers queued", vivid_stream(0), 0);
	/* Requeue, then close our fds first: vivid holds the only references. */
	for (i = 0; i < NBUF; i++) {
		expect_rc("QBUF again", vivid_qbuf_dmabuf(i, fds[i], vivid_frame_size), 0);
		close(fds[i]);
		fds[i] = -1;
	}
	CHECK(module_refcnt("dmabuf_demo_exporter") == refs + NBUF,
	      "exporter refcnt %d, expected %d", module_refcnt("dmabuf_demo_exporter"),
	      refs + NBUF);
	errno = 0;
	r = syscall(SYS_delete_module, "dmabuf_demo_exporter", O_NONBLOCK);
	expect_errno_d("rmmod while vivid holds its buffers", r, errno, EWOULDBLOCK);
	expect_rc("REQBUFS(0) releases them", vivid_reqbufs(0, V4L2_MEMORY_DMABUF), 0);
	CHECK(module_refcnt("dmabuf_demo_exporter") == refs,
	      "exporter refcnt %d after vivid let go, expected %d",
	      module_refcnt("dmabuf_demo_exporter"), refs);
	/* Now it unloads; load it again for what follows. */
	if (refs == 0) {
		errno = 0;
		r = syscall(SYS_delete_module, "dmabuf_demo_exporter", O_NONBLOCK);
		if (expect_errno_d("rmmod once released", r, errno, 0)) {
			ko = open(DEMO_EXPORTER_KO, O_RDONLY | O_CLOEXEC);
			CHECK(ko >= 0 && syscall(SYS_finit_module, ko, "", 0) == 0,
			      "reload %s: %s", DEMO_EXPORTER_KO, errstr(errno));
			if (ko >= 0)
				close(ko);
		}
	} else {
		tg_note("exporter in use elsewhere (refcnt %d): not unloaded", refs);
	}
out:
	for (i = 0; i < NBUF; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	tg_end();
}

int main(void)
{
	tap_init("t_vivid");
	imp0 = importer_open(0);
	vivid_open();
	tg_begin("vivid capture node and demo importer");
	CHECK(vivid_fd >= 0, "no vivid-000-vid-cap node");
	CHECK(imp0 >= 0, "importer 0: %s", errstr(-imp0));
	if (vivid_fd >= 0)
		expect_rc("S_FMT 320x180 YUYV", vivid_set_format(), 0);
	if (!tg_end() || !vivid_frame_size)
		return tap_finish();

	t_capture_into_dmabuf_node();
	t_capture_into_demo_exporter();
	t_no_vmap_before_storage();
	t_memcg_limit();
	t_sigkill_loop();
	t_expbuf_import();
	t_queued_then_stopped();
	close(vivid_fd);
	close(imp0);
	return tap_finish();
}
