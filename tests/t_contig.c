// SPDX-License-Identifier: GPL-2.0-only
/*
 * t_contig: /dev/dmabuf-contig, physically contiguous buffers placed at
 * first use, on the kernel's kselftest_harness.h.
 *
 *   - storage is placed by the first user mapping fault or device map, not
 *     by ALLOC, and holds exactly the pages asked for;
 *   - every size up to the page allocator's largest block maps as one DMA
 *     segment, and a 32-bit importer attached first gets memory below
 *     4 GiB in a guest whose memory lies mostly above;
 *   - the creator's memory cgroup pays for exactly the pages asked for,
 *     whoever places them;
 *   - more than any run: ENOMEM at ALLOC; the creator's memory cgroup full:
 *     ENOMEM to a device map, SIGBUS to a fault, no OOM kill;
 *   - runs beyond the largest block, once the administrator allows them
 *     (large_runs_mb): one segment up to 256 MiB, from alloc_contig_range()
 *     (amd64 6.1, 6.12) or CMA (arm64, 7.3; booted with cma=320M); over
 *     the budget ENOMEM at ALLOC; more than memory or the CMA area holds in
 *     one run: ENOMEM at placement, nothing held;
 *   - the stock vivid in videobuf2-dma-contig mode (allocators=1, a 32-bit
 *     DMA mask) captures 1920x1080 frames into our buffers, and into
 *     /dev/dmabuf buffers that move into one run below 4 GiB when vivid's
 *     device is declared "one segment" by name.
 *
 * No test queues a buffer vivid cannot attach: on 6.12 and 7.3,
 * videobuf2's __prepare_dmabuf() keeps the dma-buf reference it took when
 * attach_dmabuf fails, and the buffer (and this module) stay pinned.
 *
 * Needs the demo importers (dma_bits=64,32 max_seg_kb=0,64) and, for the
 * vivid tests, vivid loaded with allocators=1.  Each fixture's teardown
 * checks that the contiguous pages and live buffers are back where the
 * test found them.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/videodev2.h>
#include <linux/dmabuf_demo.h>

#include "kselftest_harness.h"

#include "lib/cg.h"
#include "lib/demo.h"
#include "lib/tap.h"
#include "lib/vivid.h"

#define CONTIG_DEV	"/dev/dmabuf-contig"
/* The page allocator's largest block (order 10 of 4 KiB pages) on every target. */
#define LARGEST_RUN	(4 * MiB)
#define CG_CONTIG	CG_ROOT "/t_contig"
#define PARAM_DIR	"/sys/module/dmabuf_core/parameters/"
#define LARGE_RUNS	PARAM_DIR "large_runs_mb"
#define MAX_TOTAL	PARAM_DIR "max_total_mb"

/* ALLOC on @node: the new fd, or -errno. */
static int contig_alloc(int node, uint64_t len, uint64_t heap_flags)
{
	struct dmabuf_core_alloc a = {
		.len = len, .fd_flags = O_RDWR | O_CLOEXEC, .heap_flags = heap_flags,
	};

	return ioctl(node, DMABUF_CORE_IOCTL_ALLOC, &a) ? -errno : (int)a.fd;
}

static uint64_t contig_pages(void)
{
	struct dmabuf_core_stats s;

	return stats(&s) ? UINT64_MAX : s.contig_pages;
}

FIXTURE(contig) {
	int node;
	int imp[2];
	struct dmabuf_core_stats before;
};

FIXTURE_SETUP(contig)
{
	self->node = open(CONTIG_DEV, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->node) TH_LOG("open %s: %s", CONTIG_DEV, strerror(errno));
	self->imp[0] = importer_open(0);
	self->imp[1] = importer_open(1);
	ASSERT_LE(0, self->imp[0]);
	ASSERT_LE(0, self->imp[1]);
	ASSERT_EQ(0, stats(&self->before));
	/* Off, as the module loads, whatever a test that failed left. */
	ASSERT_EQ(0, write_file(LARGE_RUNS, "0"));
}

FIXTURE_TEARDOWN(contig)
{
	struct dmabuf_core_stats now;

	close(self->imp[0]);
	close(self->imp[1]);
	close(self->node);
	ASSERT_EQ(0, stats(&now));
	EXPECT_EQ(self->before.contig_pages, now.contig_pages);
	EXPECT_EQ(self->before.live_buffers, now.live_buffers);
}

/* ALLOC places nothing; a fault places exactly the pages asked for. */
TEST_F(contig, placed_at_first_fault)
{
	const uint64_t len = MiB;
	struct dmabuf_demo_access acc;
	uint8_t *p;
	int fd;

	fd = contig_alloc(self->node, len, 0);
	ASSERT_LE(0, fd);
	EXPECT_EQ(self->before.contig_pages, contig_pages());
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, p);
	EXPECT_EQ(self->before.contig_pages, contig_pages()) TH_LOG("mmap placed storage");
	EXPECT_EQ(0, p[len - 1]);
	EXPECT_EQ(self->before.contig_pages + len / getpagesize(), contig_pages());
	EXPECT_EQ(0, fill_pattern(p, len, 7, 0));
	ASSERT_EQ(0, demo_access(self->imp[0], fd, DMABUF_DEMO_ACCESS_READ, 0, &acc));
	EXPECT_EQ(demo_checksum(p, len), acc.checksum);
	EXPECT_EQ(1U, acc.segments);
	EXPECT_EQ(len, acc.largest_segment);
	munmap(p, len);
	close(fd);
}

/* Every size up to the largest block is one segment, exactly its pages. */
TEST_F(contig, one_segment_at_every_size)
{
	static const uint64_t sizes[] = {
		4 * KiB, 8 * KiB, 64 * KiB, 1 * MiB + 4 * KiB, 3 * MiB, LARGEST_RUN,
	};
	struct dmabuf_demo_access acc;
	unsigned int i;
	uint8_t *p;
	int fd;

	for (i = 0; i < ARRAY_SIZE(sizes); i++) {
		fd = contig_alloc(self->node, sizes[i], 0);
		ASSERT_LE(0, fd) TH_LOG("%llu bytes", (unsigned long long)sizes[i]);
		ASSERT_EQ(0, demo_access(self->imp[0], fd, DMABUF_DEMO_ACCESS_WRITE,
					 i + 1, &acc));
		EXPECT_EQ(1U, acc.segments) TH_LOG("%llu bytes", (unsigned long long)sizes[i]);
		EXPECT_EQ(sizes[i], acc.largest_segment);
		EXPECT_EQ(0U, acc.bounced);
		/* The block's unused tail went back: the pages asked for, no more. */
		EXPECT_EQ(self->before.contig_pages + sizes[i] / getpagesize(),
			  contig_pages());
		p = mmap(NULL, sizes[i], PROT_READ, MAP_SHARED, fd, 0);
		ASSERT_NE(MAP_FAILED, p);
		EXPECT_EQ(demo_expected_checksum(sizes[i], i + 1), demo_checksum(p, sizes[i]));
		munmap(p, sizes[i]);
		close(fd);
	}
}

/*
 * A 32-bit importer with 64 KiB segments attached first: the 64-bit
 * importer's map places the storage where both reach it, in a guest whose
 * memory lies mostly above 4 GiB.
 */
TEST_F(contig, placed_for_every_attached_device)
{
	const uint64_t len = LARGEST_RUN;
	struct dmabuf_demo_access wr, rd;
	int fd;

	fd = contig_alloc(self->node, len, 0);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, demo_attach(self->imp[1], fd));
	ASSERT_EQ(0, demo_access(self->imp[0], fd, DMABUF_DEMO_ACCESS_WRITE, 3, &wr));
	EXPECT_EQ(1U, wr.segments);
	EXPECT_GT(1ULL << 32, wr.highest_dma);
	ASSERT_EQ(0, demo_access(self->imp[1], fd, DMABUF_DEMO_ACCESS_READ, 0, &rd));
	EXPECT_EQ(wr.checksum, rd.checksum);
	EXPECT_EQ(0U, rd.bounced);
	EXPECT_EQ(1U, rd.fits_mask);
	EXPECT_EQ(len / (64 * KiB), rd.segments);
	EXPECT_EQ(0, demo_detach(self->imp[1], fd));
	close(fd);
}

/* No run of pages is larger than the largest block: ENOMEM at once. */
TEST_F(contig, larger_than_any_run)
{
	EXPECT_EQ(-ENOMEM, contig_alloc(self->node, LARGEST_RUN + 4 * KiB, 0));
	EXPECT_EQ(-ENOMEM, contig_alloc(self->node, 1ULL << 40, 0));
	EXPECT_EQ(-EINVAL, contig_alloc(self->node, 0, 0));
	EXPECT_EQ(-EINVAL, contig_alloc(self->node, MiB, 1));
}

/* Where this kernel's large runs come from: "cma", "contig_range", "none". */
static void large_runs_from(char *buf, size_t len)
{
	FILE *f = fopen(PARAM_DIR "large_runs_from", "r");

	buf[0] = 0;
	if (f) {
		if (fgets(buf, (int)len, f))
			buf[strcspn(buf, "\n")] = 0;
		fclose(f);
	}
}

/* A contiguous buffer of @len, placed by importer0's write: 0 or -errno. */
static int large_run_write(struct __test_metadata *_metadata, int node,
			   int imp, uint64_t len, uint32_t seed,
			   uint64_t pages_before)
{
	struct dmabuf_demo_access acc;
	uint8_t *p;
	int fd, ret;

	fd = contig_alloc(node, len, 0);
	if (fd < 0)
		return fd;
	ret = demo_access(imp, fd, DMABUF_DEMO_ACCESS_WRITE, seed, &acc);
	if (!ret) {
		EXPECT_EQ(1U, acc.segments) TH_LOG("%llu bytes", (unsigned long long)len);
		EXPECT_EQ(len, acc.largest_segment);
		EXPECT_EQ(pages_before + len / getpagesize(), contig_pages());
		p = mmap(NULL, len, PROT_READ, MAP_SHARED, fd, 0);
		EXPECT_NE(MAP_FAILED, p);
		if (p != MAP_FAILED) {
			EXPECT_EQ(demo_expected_checksum(len, seed), demo_checksum(p, len));
			munmap(p, len);
		}
	}
	close(fd);
	EXPECT_EQ(pages_before, contig_pages());
	return ret;
}

/*
 * Runs beyond the largest block: refused until the administrator allows
 * them, then one DMA segment each, holding exactly their pages, up to 256
 * MiB, from alloc_contig_range() or from CMA (the harness boots kernels
 * with CMA with a 320 MiB area, cma=320M).  Over the budget: ENOMEM at
 * ALLOC.  More than the memory can give in one run (3.5 GiB below 4 GiB
 * for a 32-bit importer attached first; 512 MiB from the CMA area): ENOMEM
 * at placement, nothing held.
 */
TEST_F_TIMEOUT(contig, large_runs_beyond_the_largest_block, 300)
{
	static const uint64_t sizes[] = {
		LARGEST_RUN + 4 * KiB, 8 * MiB, 64 * MiB, 256 * MiB,
	};
	uint64_t too_large = 3584 * MiB;
	long long max_total;
	char from[32], old_total[32];
	unsigned int i;
	int cma, fd;

	EXPECT_EQ(-ENOMEM, contig_alloc(self->node, 8 * MiB, 0)) TH_LOG("allowed by default");
	large_runs_from(from, sizeof(from));
	if (!strcmp(from, "none"))
		SKIP(return, "this kernel gives no runs beyond the largest block");
	cma = !strcmp(from, "cma");
	ASSERT_TRUE(cma || !strcmp(from, "contig_range")) TH_LOG("large_runs_from: %s", from);
	if (cma)
		too_large = 512 * MiB;
	ASSERT_EQ(0, write_file(LARGE_RUNS, "512"));
	for (i = 0; i < ARRAY_SIZE(sizes); i++)
		EXPECT_EQ(0, large_run_write(_metadata, self->node, self->imp[0], sizes[i],
					     i + 40, self->before.contig_pages))
			TH_LOG("%llu bytes from %s", (unsigned long long)sizes[i], from);
	EXPECT_EQ(-ENOMEM, contig_alloc(self->node, 1 * GiB, 0)) TH_LOG("over the budget");

	/* Every cap out of the way: the memory itself is the limit. */
	max_total = read_param_ll(MAX_TOTAL);
	ASSERT_LE(0, max_total);
	snprintf(old_total, sizeof(old_total), "%lld", max_total);
	ASSERT_EQ(0, write_file(MAX_TOTAL, "65536"));
	ASSERT_EQ(0, write_file(LARGE_RUNS, "65536"));
	fd = contig_alloc(self->node, too_large, 0);
	EXPECT_LE(0, fd);
	if (fd >= 0) {
		if (!cma)
			EXPECT_EQ(0, demo_attach(self->imp[1], fd));
		EXPECT_EQ(-ENOMEM, demo_access(self->imp[0], fd, DMABUF_DEMO_ACCESS_READ, 0, NULL));
		EXPECT_EQ(self->before.contig_pages, contig_pages());
		if (!cma)
			EXPECT_EQ(0, demo_detach(self->imp[1], fd));
		close(fd);
	}
	EXPECT_EQ(0, write_file(MAX_TOTAL, old_total));
	EXPECT_EQ(0, write_file(LARGE_RUNS, "0"));
	TH_LOG("runs up to 256 MiB from %s", from);
}

static sigjmp_buf bus_jmp;

static void on_sigbus(int sig)
{
	siglongjmp(bus_jmp, 1);
}

/*
 * In a child inside a 3 MiB memory cgroup: a 4 MiB buffer is created
 * (its record is small), but its storage cannot be charged to the
 * creator.  0 when a device map gets ENOMEM and a fault SIGBUS, else a
 * code saying which step went wrong.
 */
static int full_cgroup_child(int node, int imp)
{
	struct sigaction sa = { .sa_handler = on_sigbus };
	volatile uint8_t *p;
	int fd;

	if (cg_join(CG_CONTIG))
		return 1;
	fd = contig_alloc(node, LARGEST_RUN, 0);
	if (fd < 0)
		return 2;
	if (demo_access(imp, fd, DMABUF_DEMO_ACCESS_READ, 0, NULL) != -ENOMEM)
		return 3;
	p = mmap(NULL, LARGEST_RUN, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		return 4;
	sigaction(SIGBUS, &sa, NULL);
	if (!sigsetjmp(bus_jmp, 1)) {
		p[0] = 1;
		return 5;		/* placed after all */
	}
	munmap((void *)p, LARGEST_RUN);
	close(fd);
	return 0;
}

/* The creator's cgroup pays: full, it is ENOMEM and SIGBUS, never OOM. */
TEST_F(contig, creators_cgroup_full)
{
	int status;
	pid_t pid;

	long long ooms = keyed("/proc/vmstat", "oom_kill");

	ASSERT_EQ(0, cg_make(CG_CONTIG, "3M"));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid)
		_exit(full_cgroup_child(self->node, self->imp[0]));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
		TH_LOG("child status %#x", status);
	EXPECT_EQ(0, keyed(CG_CONTIG "/memory.events", "oom_kill"));
	EXPECT_EQ(ooms, keyed("/proc/vmstat", "oom_kill"));
	EXPECT_EQ(self->before.contig_pages, contig_pages());
	EXPECT_EQ(0, rmdir(CG_CONTIG));
}

/*
 * The creator's cgroup pays for exactly the pages asked for, whoever
 * places them: a child in a cgroup of its own creates a 1 MiB + 4 KiB
 * buffer (a 2 MiB block) and passes it on; this process, outside that
 * cgroup, places it.  The cgroup grows by the buffer's size, not the
 * block's, and shrinks back at close.  (The cgroup's counter moves in
 * per-CPU batches of 64 pages, and 7.3 was seen 268 KiB over: hence the
 * slack, which still tells the buffer from its 2 MiB block.)
 */
TEST_F(contig, charged_to_creator_exactly)
{
	const long long len = MiB + 4 * KiB, slack = 512 * KiB;
	long long base, placed, closed;
	int sv[2], fd, status;
	char byte = 0;
	pid_t pid;

	ASSERT_EQ(0, cg_make(CG_CONTIG "-roomy", "64M"));
	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		if (cg_join(CG_CONTIG "-roomy"))
			_exit(1);
		fd = contig_alloc(self->node, len, 0);
		_exit(fd < 0 || send_fd(sv[1], fd, &byte, 1) ? 2 : 0);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	fd = recv_fd(sv[0], &byte, 1);
	ASSERT_LE(0, fd);
	base = cg_current(CG_CONTIG "-roomy");
	ASSERT_EQ(0, demo_access(self->imp[0], fd, DMABUF_DEMO_ACCESS_WRITE, 9, NULL));
	placed = cg_current(CG_CONTIG "-roomy");
	EXPECT_LE(len - slack, placed - base) TH_LOG("charged %lld", placed - base);
	EXPECT_GT(len + slack, placed - base) TH_LOG("charged %lld", placed - base);
	close(fd);
	closed = cg_current(CG_CONTIG "-roomy");
	EXPECT_GT(base + slack, closed) TH_LOG("after close %lld", closed - base);
	close(sv[0]);
	close(sv[1]);
	EXPECT_EQ(0, rmdir(CG_CONTIG "-roomy"));
}

/*
 * The stock vivid with videobuf2-dma-contig: it takes a dma-buf only as one
 * contiguous run of DMA addresses below its 32-bit mask.
 */
FIXTURE(vivid_contig) {
	int node;
	int imp;
	int fds[2];
	struct dmabuf_core_stats before;
};

FIXTURE_SETUP(vivid_contig)
{
	struct v4l2_format fmt = { .type = V4L2_BUF_TYPE_VIDEO_CAPTURE };

	self->fds[0] = self->fds[1] = -1;
	self->node = open(CONTIG_DEV, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->node);
	self->imp = importer_open(0);
	ASSERT_LE(0, self->imp);
	ASSERT_EQ(0, stats(&self->before));
	ASSERT_LE(0, vivid_open()) TH_LOG("no vivid capture node");
	ASSERT_EQ(0, ioctl(vivid_fd, VIDIOC_G_FMT, &fmt));
	fmt.fmt.pix.width = 1920;
	fmt.fmt.pix.height = 1080;
	fmt.fmt.pix.pixelformat = V4L2_PIX_FMT_YUYV;
	ASSERT_EQ(0, ioctl(vivid_fd, VIDIOC_S_FMT, &fmt));
	ASSERT_EQ(1920U, fmt.fmt.pix.width);
	vivid_frame_size = page_round(fmt.fmt.pix.sizeimage);
}

FIXTURE_TEARDOWN(vivid_contig)
{
	struct dmabuf_core_stats now;

	vivid_stream(0);
	vivid_reqbufs(0, V4L2_MEMORY_DMABUF);
	close(vivid_fd);
	close_if_open(self->fds[0]);
	close_if_open(self->fds[1]);
	close(self->imp);
	close(self->node);
	ASSERT_EQ(0, stats(&now));
	EXPECT_EQ(self->before.contig_pages, now.contig_pages);
	EXPECT_EQ(self->before.live_buffers, now.live_buffers);
}

static int frame_nonzero(const uint8_t *p, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (p[i])
			return 1;
	return 0;
}

/*
 * With the two queued buffers of @self: stream, dequeue a frame, and check
 * that it holds vivid's image and that the 64-bit importer reads the same
 * bytes as one DMA segment below vivid's 32-bit mask.
 */
static void capture_one_frame(struct __test_metadata *_metadata,
			      FIXTURE_DATA(vivid_contig) *self)
{
	struct pollfd pfd = { .fd = vivid_fd, .events = POLLIN };
	struct v4l2_buffer b = {
		.type = V4L2_BUF_TYPE_VIDEO_CAPTURE, .memory = V4L2_MEMORY_DMABUF,
	};
	struct dmabuf_demo_access acc;
	uint8_t *p;

	ASSERT_EQ(0, vivid_stream(1));
	ASSERT_EQ(1, poll(&pfd, 1, 120000));
	ASSERT_EQ(0, ioctl(vivid_fd, VIDIOC_DQBUF, &b));
	ASSERT_GT(2U, b.index);
	EXPECT_LT(1920U * 1080, b.bytesused);
	p = mmap(NULL, vivid_frame_size, PROT_READ, MAP_SHARED, self->fds[b.index], 0);
	ASSERT_NE(MAP_FAILED, p);
	EXPECT_TRUE(frame_nonzero(p, b.bytesused));
	ASSERT_EQ(0, demo_access(self->imp, self->fds[b.index],
				 DMABUF_DEMO_ACCESS_READ, 0, &acc));
	EXPECT_EQ(demo_checksum(p, vivid_frame_size), acc.checksum);
	EXPECT_EQ(1U, acc.segments);
	EXPECT_GT(1ULL << 32, acc.highest_dma);
	munmap(p, vivid_frame_size);
}

TEST_F_TIMEOUT(vivid_contig, captures_1080p_frames, 240)
{
	int i;

	ASSERT_EQ(2, vivid_reqbufs(2, V4L2_MEMORY_DMABUF));
	for (i = 0; i < 2; i++) {
		self->fds[i] = contig_alloc(self->node, vivid_frame_size, 0);
		ASSERT_LE(0, self->fds[i]);
		/* vivid attaches and maps at once: its map places the storage. */
		ASSERT_EQ(0, vivid_qbuf_dmabuf(i, self->fds[i], vivid_frame_size));
	}
	EXPECT_EQ(self->before.contig_pages + 2 * vivid_frame_size / getpagesize(),
		  contig_pages());
	capture_one_frame(_metadata, self);
}

/*
 * A /dev/dmabuf buffer, allocated anywhere (above 4 GiB in this guest), in
 * chunks: with vivid's device declared "one segment" by name, vivid's
 * attach at QBUF moves it into one run below its 32-bit mask, and vivid
 * captures into it.
 */
TEST_F_TIMEOUT(vivid_contig, captures_into_moved_dmabuf_buffers, 240)
{
	struct dmabuf_core_constrain req = { .device = "vivid.0", .max_segments = 1 };
	struct dmabuf_core_query q;
	int i;

	ASSERT_EQ(0, ioctl(self->node, DMABUF_CORE_IOCTL_CONSTRAIN, &req));
	ASSERT_EQ(2, vivid_reqbufs(2, V4L2_MEMORY_DMABUF));
	for (i = 0; i < 2; i++) {
		self->fds[i] = alloc_buf(vivid_frame_size, O_RDWR | O_CLOEXEC);
		ASSERT_LE(0, self->fds[i]);
		ASSERT_EQ(0, vivid_qbuf_dmabuf(i, self->fds[i], vivid_frame_size));
		ASSERT_EQ(0, query(self->fds[i], &q));
		EXPECT_EQ(1U, q.moves);
	}
	capture_one_frame(_metadata, self);
	req.flags = DMABUF_CORE_CONSTRAIN_CLEAR;
	req.max_segments = 0;
	EXPECT_EQ(0, ioctl(self->node, DMABUF_CORE_IOCTL_CONSTRAIN, &req));
}

TEST_HARNESS_MAIN
