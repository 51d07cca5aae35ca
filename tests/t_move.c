// SPDX-License-Identifier: GPL-2.0-only
/*
 * t_move: a heap buffer's storage moves for a device that cannot reach
 * it, instead of the device being refused; on the kernel's
 * kselftest_harness.h.
 *
 *   - a 32-bit importer attaching to a /dev/dmabuf buffer above 4 GiB
 *     moves it below: same bytes for both devices and for the process's
 *     mapping, which keeps working (it faults onto the new pages);
 *   - a thread writing the mapping all through the move loses no write;
 *   - a device holding a mapping pins the storage: EBUSY, nothing moved,
 *     and the move happens once it is given up;
 *   - a dynamic importer's mapping does not (dmabuf_core_attach_dynamic(),
 *     the demo's ATTACH_MOVABLE): it is taken back, the storage moves,
 *     and the importer's next access maps the new storage, same bytes;
 *     its accesses race moves without a wrong byte;
 *   - a move waits for the buffer's pending fences (a vgem fence imported
 *     into it) before it copies; killed meanwhile, it leaves the storage
 *     as it was;
 *   - moves race faults and other devices' maps without a wrong byte;
 *   - a placed /dev/dmabuf-contig buffer moves as one run;
 *   - the creator's memory cgroup pays for the new storage, not the task
 *     whose attach moved it.
 *
 * The guest has most of its memory above 4 GiB; where it has none there,
 * nothing needs to move and the tests say so with a skip.  Needs the demo
 * importers (dma_bits=64,32 max_seg_kb=0,64) and vgem.  Each fixture's teardown
 * checks that the heaps' pages and live buffers are back where the test
 * found them.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/dma-buf.h>
#include <linux/dmabuf_demo.h>

#include "kselftest_harness.h"

#include "lib/bench.h"
#include "lib/cg.h"
#include "lib/demo.h"
#include "lib/tap.h"
#include "lib/vgem.h"

#define FOUR_GIB	(4 * GiB)
#define CONTIG_DEV	"/dev/dmabuf-contig"
#define CG_OWNER	CG_ROOT "/t_move-owner"
#define CG_MOVER	CG_ROOT "/t_move-mover"

static unsigned int moves_of(int fd)
{
	struct dmabuf_core_query q;

	return query(fd, &q) ? ~0U : q.moves;
}

/* @fd mapped and filled with the pattern of @seed, *@sum its checksum. */
static uint8_t *map_filled(int fd, uint64_t len, unsigned int seed, uint64_t *sum)
{
	uint8_t *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);

	if (p == MAP_FAILED)
		return NULL;
	if (fill_pattern(p, len, seed, 0)) {
		munmap(p, len);
		return NULL;
	}
	*sum = demo_checksum(p, len);
	return p;
}

/* Where importer0 (64-bit, DMA address = physical) sees @fd end. */
static uint64_t top_of(int imp0, int fd)
{
	struct dmabuf_demo_access a;

	return demo_access(imp0, fd, DMABUF_DEMO_ACCESS_READ, 0, &a) ? 0 : a.highest_dma;
}

FIXTURE(move) {
	int imp[2];
	struct dmabuf_core_stats before;
};

FIXTURE_SETUP(move)
{
	self->imp[0] = importer_open(0);
	self->imp[1] = importer_open(1);
	ASSERT_LE(0, self->imp[0]);
	ASSERT_LE(0, self->imp[1]);
	ASSERT_EQ(0, stats(&self->before));
	if (total_ram_bytes() < FOUR_GIB + 512 * MiB)
		SKIP(return, "the guest has no RAM above 4 GiB: nothing to move");
}

FIXTURE_TEARDOWN(move)
{
	struct dmabuf_core_stats now;

	close(self->imp[0]);
	close(self->imp[1]);
	ASSERT_EQ(0, stats(&now));
	EXPECT_EQ(self->before.system_pages, now.system_pages);
	EXPECT_EQ(self->before.contig_pages, now.contig_pages);
	EXPECT_EQ(self->before.live_buffers, now.live_buffers);
}

/*
 * The 32-bit importer's attach moves the storage below 4 GiB; both
 * devices and the mapping see the same bytes before and after, and a
 * write through the mapping after the move reaches the devices.
 */
TEST_F(move, to_reach_a_32bit_device)
{
	const uint64_t len = 2 * MiB;
	struct dmabuf_demo_access a0, a1;
	uint8_t *p;
	int fd;

	fd = alloc_buf(len, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, fd);
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, p);
	ASSERT_EQ(0, fill_pattern(p, len, 11, 0));
	ASSERT_LE(FOUR_GIB, top_of(self->imp[0], fd)) TH_LOG("a fresh buffer lies below 4 GiB");
	EXPECT_EQ(0U, moves_of(fd));

	ASSERT_EQ(0, demo_access(self->imp[1], fd, DMABUF_DEMO_ACCESS_READ, 0, &a1));
	EXPECT_EQ(1U, moves_of(fd));
	EXPECT_EQ(demo_checksum(p, len), a1.checksum);
	EXPECT_EQ(0U, a1.bounced);
	EXPECT_EQ(1U, a1.fits_mask);
	EXPECT_GT(FOUR_GIB, a1.highest_dma);
	ASSERT_EQ(0, demo_access(self->imp[0], fd, DMABUF_DEMO_ACCESS_READ, 0, &a0));
	EXPECT_EQ(a1.checksum, a0.checksum);
	EXPECT_EQ(a1.pages_hash, a0.pages_hash) TH_LOG("the devices see different pages");

	/* The mapping faults onto the new pages: a write there reaches both. */
	ASSERT_EQ(0, fill_pattern(p, len, 12, 0));
	ASSERT_EQ(0, demo_access(self->imp[1], fd, DMABUF_DEMO_ACCESS_READ, 0, &a1));
	EXPECT_EQ(demo_checksum(p, len), a1.checksum);
	EXPECT_NE(a0.checksum, a1.checksum);
	ASSERT_EQ(0, demo_access(self->imp[0], fd, DMABUF_DEMO_ACCESS_WRITE, 13, &a0));
	EXPECT_EQ(demo_expected_checksum(len, 13), demo_checksum(p, len));
	EXPECT_EQ(1U, moves_of(fd)) TH_LOG("storage that every device reaches moved again");
	munmap(p, len);
	close(fd);
}

struct writer {
	volatile uint32_t *words;
	size_t nr;
	atomic_int stop;
	atomic_int started;
	uint32_t last;		/* the last value written */
};

/* Word n % nr gets n, for n = 1, 2, ... until told to stop. */
static void *writer_main(void *arg)
{
	struct writer *w = arg;
	uint32_t n = 0;

	atomic_store(&w->started, 1);
	while (!atomic_load_explicit(&w->stop, memory_order_relaxed)) {
		n++;
		w->words[n % w->nr] = n;
	}
	w->last = n;
	return NULL;
}

/*
 * A thread writes the mapping while the attach moves the storage under
 * it: every word holds the last value the thread wrote there, on the CPU
 * and for the device.
 */
TEST_F(move, keeps_a_writers_bytes)
{
	const uint64_t len = 16 * MiB;
	struct writer w = { .nr = len / 4 };
	struct dmabuf_demo_access a1;
	pthread_t thread;
	size_t i, bad = 0;
	uint32_t want;
	int fd;

	fd = alloc_buf(len, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, fd);
	w.words = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, w.words);
	ASSERT_EQ(0, pthread_create(&thread, NULL, writer_main, &w));
	while (!atomic_load(&w.started))
		usleep(1000);
	usleep(20000);
	EXPECT_EQ(0, demo_attach(self->imp[1], fd));
	usleep(20000);
	atomic_store(&w.stop, 1);
	ASSERT_EQ(0, pthread_join(thread, NULL));
	EXPECT_EQ(1U, moves_of(fd));

	for (i = 0; i < w.nr; i++) {
		/* The largest n <= last with n % nr == i, or 0 for none. */
		want = w.last >= i ? w.last - (w.last - i) % w.nr : 0;
		if (w.words[i] != want && !bad++)
			TH_LOG("word %zu: %u, not %u (last %u)", i, w.words[i], want, w.last);
	}
	EXPECT_EQ(0U, bad);
	ASSERT_EQ(0, demo_access(self->imp[1], fd, DMABUF_DEMO_ACCESS_READ, 0, &a1));
	EXPECT_EQ(demo_checksum((const void *)w.words, len), a1.checksum);
	EXPECT_GT(FOUR_GIB, a1.highest_dma);
	TH_LOG("%u writes, %zu words", w.last, w.nr);
	EXPECT_EQ(0, demo_detach(self->imp[1], fd));
	munmap((void *)w.words, len);
	close(fd);
}

/*
 * A device mapping pins the storage: the 32-bit importer is refused with
 * EBUSY and nothing moves; once the mapping is given up, it moves.
 */
TEST_F(move, refused_while_a_device_holds_a_mapping)
{
	const uint64_t len = MiB;
	struct dmabuf_demo_access a0, a1;
	uint64_t top;
	int fd;

	fd = alloc_buf(len, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, demo_access(self->imp[0], fd, DMABUF_DEMO_ACCESS_WRITE, 21, &a0));
	top = a0.highest_dma;
	ASSERT_LE(FOUR_GIB, top);
	ASSERT_EQ(0, demo_attach_flags(self->imp[0], fd, DMABUF_DEMO_ATTACH_MAP));
	EXPECT_EQ(-EBUSY, demo_attach(self->imp[1], fd));
	EXPECT_EQ(-EBUSY, demo_access(self->imp[1], fd, DMABUF_DEMO_ACCESS_READ, 0, NULL));
	EXPECT_EQ(0U, moves_of(fd));
	ASSERT_EQ(0, demo_access(self->imp[0], fd, DMABUF_DEMO_ACCESS_READ, 0, &a0));
	EXPECT_EQ(top, a0.highest_dma);
	EXPECT_EQ(demo_expected_checksum(len, 21), a0.checksum);

	ASSERT_EQ(0, demo_detach(self->imp[0], fd));
	ASSERT_EQ(0, demo_access(self->imp[1], fd, DMABUF_DEMO_ACCESS_READ, 0, &a1));
	EXPECT_EQ(1U, moves_of(fd));
	EXPECT_EQ(demo_expected_checksum(len, 21), a1.checksum);
	EXPECT_GT(FOUR_GIB, a1.highest_dma);
	close(fd);
}

/*
 * A dynamic importer (ATTACH_MOVABLE) keeps a mapping, yet the 32-bit
 * importer's attach moves the storage: importer0 is told, its table is
 * taken back, and its next access maps the new storage, through which
 * both devices see the same bytes and pages.
 */
TEST_F(move, takes_back_a_dynamic_mapping)
{
	const uint32_t flags = DMABUF_DEMO_ATTACH_MAP | DMABUF_DEMO_ATTACH_MOVABLE;
	const uint64_t len = 2 * MiB;
	struct dmabuf_demo_access a0, a1;
	int fd;

	fd = alloc_buf(len, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, demo_access(self->imp[0], fd, DMABUF_DEMO_ACCESS_WRITE, 25, &a0));
	ASSERT_LE(FOUR_GIB, a0.highest_dma);
	EXPECT_EQ(-EINVAL, demo_attach_flags(self->imp[0], fd, DMABUF_DEMO_ATTACH_MOVABLE))
		TH_LOG("MOVABLE without MAP: there is no mapping to give up");
	ASSERT_EQ(0, demo_attach_flags(self->imp[0], fd, flags));
	/* Through the kept mapping: the storage has not moved yet. */
	ASSERT_EQ(0, demo_access(self->imp[0], fd, DMABUF_DEMO_ACCESS_READ, 0, &a0));
	EXPECT_LE(FOUR_GIB, a0.highest_dma);

	ASSERT_EQ(0, demo_attach(self->imp[1], fd));
	EXPECT_EQ(1U, moves_of(fd));
	ASSERT_EQ(0, demo_access(self->imp[1], fd, DMABUF_DEMO_ACCESS_READ, 0, &a1));
	EXPECT_EQ(demo_expected_checksum(len, 25), a1.checksum);
	EXPECT_GT(FOUR_GIB, a1.highest_dma);
	ASSERT_EQ(0, demo_access(self->imp[0], fd, DMABUF_DEMO_ACCESS_READ, 0, &a0));
	EXPECT_EQ(a1.checksum, a0.checksum);
	EXPECT_GT(FOUR_GIB, a0.highest_dma) TH_LOG("importer0 still sees the old storage");
	EXPECT_EQ(a1.pages_hash, a0.pages_hash);

	/* Its writes through the new mapping reach the other device. */
	ASSERT_EQ(0, demo_access(self->imp[0], fd, DMABUF_DEMO_ACCESS_WRITE, 26, &a0));
	ASSERT_EQ(0, demo_access(self->imp[1], fd, DMABUF_DEMO_ACCESS_READ, 0, &a1));
	EXPECT_EQ(demo_expected_checksum(len, 26), a1.checksum);
	EXPECT_EQ(1U, moves_of(fd));
	EXPECT_EQ(0, demo_detach(self->imp[0], fd));
	EXPECT_EQ(0, demo_detach(self->imp[1], fd));
	close(fd);
}

/* A contiguous buffer placed high by a fault moves as one run. */
TEST_F(move, contig_buffer_moves_as_one_run)
{
	const uint64_t len = 2 * MiB;
	struct dmabuf_core_alloc al = { .len = len, .fd_flags = O_RDWR | O_CLOEXEC };
	struct dmabuf_demo_access a0, a1;
	uint64_t sum;
	uint8_t *p;
	int node, fd;

	node = open(CONTIG_DEV, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, node);
	ASSERT_EQ(0, ioctl(node, DMABUF_CORE_IOCTL_ALLOC, &al));
	fd = al.fd;
	p = map_filled(fd, len, 31, &sum);		/* places it */
	ASSERT_NE(NULL, p);
	ASSERT_LE(FOUR_GIB, top_of(self->imp[0], fd));

	ASSERT_EQ(0, demo_access(self->imp[1], fd, DMABUF_DEMO_ACCESS_READ, 0, &a1));
	EXPECT_EQ(1U, moves_of(fd));
	EXPECT_EQ(sum, a1.checksum);
	EXPECT_GT(FOUR_GIB, a1.highest_dma);
	ASSERT_EQ(0, demo_access(self->imp[0], fd, DMABUF_DEMO_ACCESS_READ, 0, &a0));
	EXPECT_EQ(1U, a0.segments);
	EXPECT_EQ(len, a0.largest_segment);
	EXPECT_EQ(sum, demo_checksum(p, len));
	munmap(p, len);
	close(fd);
	close(node);
}

/*
 * The creator pays for the new storage: a child in one memory cgroup
 * creates an 8 MiB buffer, another child in a second cgroup moves it.
 * The creator's cgroup keeps its charge (old pages out, new in) and the
 * mover's does not grow by the buffer.  (Counters move in per-CPU
 * batches: hence the slack, well below the buffer.)
 */
TEST_F(move, charged_to_the_creator)
{
	const long long len = 8 * MiB, slack = 2 * MiB;
	long long owner0, owner1, mover0, mover1;
	int sv[2], fd, status;
	char byte = 0;
	pid_t pid;

	ASSERT_EQ(0, cg_make(CG_OWNER, "64M"));
	ASSERT_EQ(0, cg_make(CG_MOVER, "64M"));
	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		if (cg_join(CG_OWNER))
			_exit(1);
		fd = alloc_buf(len, O_RDWR | O_CLOEXEC);
		_exit(fd < 0 || send_fd(sv[1], fd, &byte, 1) ? 2 : 0);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	fd = recv_fd(sv[0], &byte, 1);
	ASSERT_LE(0, fd);
	ASSERT_LE(FOUR_GIB, top_of(self->imp[0], fd));

	owner0 = cg_current(CG_OWNER);
	mover0 = cg_current(CG_MOVER);
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		if (cg_join(CG_MOVER))
			_exit(1);
		_exit(demo_attach(self->imp[1], fd) ? 2 : 0);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	EXPECT_EQ(1U, moves_of(fd));
	owner1 = cg_current(CG_OWNER);
	mover1 = cg_current(CG_MOVER);
	EXPECT_GT(slack, llabs(owner1 - owner0)) TH_LOG("owner %lld -> %lld", owner0, owner1);
	EXPECT_GT(slack, mover1 - mover0) TH_LOG("mover %lld -> %lld", mover0, mover1);
	EXPECT_EQ(0, demo_detach(self->imp[1], fd));
	close(fd);
	close(sv[0]);
	close(sv[1]);
	EXPECT_GT(slack, cg_current(CG_OWNER)) TH_LOG("owner after close");
	EXPECT_EQ(0, rmdir(CG_OWNER));
	EXPECT_EQ(0, rmdir(CG_MOVER));
}

/*
 * vgem's write fence on a buffer of its own, as a sync_file: the fd, with
 * the BO's handle and the fence's id (vgem signals it by itself after 10 s).
 */
static int vgem_write_fence(int vgem, __u32 *handle, __u32 *fence)
{
	struct t_drm_create_dumb cd = { .height = 1, .width = 4096, .bpp = 8 };
	struct t_vgem_fence_attach fa = { .flags = T_VGEM_FENCE_WRITE };
	struct dma_buf_export_sync_file es = { .flags = DMA_BUF_SYNC_READ, .fd = -1 };
	int bo;

	if (ioctl(vgem, T_DRM_IOCTL_MODE_CREATE_DUMB, &cd))
		return -errno;
	*handle = fa.handle = cd.handle;
	if (ioctl(vgem, T_DRM_IOCTL_VGEM_FENCE_ATTACH, &fa))
		return -errno;
	*fence = fa.out_fence;
	bo = vgem_prime_export(vgem, cd.handle);
	if (bo < 0)
		return bo;
	if (ioctl(bo, DMA_BUF_IOCTL_EXPORT_SYNC_FILE, &es))
		es.fd = -errno;
	close(bo);
	return es.fd;
}

/*
 * A pending vgem write fence on @fd (IMPORT_SYNC_FILE): 0 or -errno, with
 * the BO's handle to close and the fence's id to signal.
 */
static int add_vgem_fence(int vgem, int fd, __u32 *handle, __u32 *fence)
{
	struct dma_buf_import_sync_file is = { .flags = DMA_BUF_SYNC_WRITE };
	int ret = 0;

	is.fd = vgem_write_fence(vgem, handle, fence);
	if (is.fd < 0)
		return is.fd;
	if (ioctl(fd, DMA_BUF_IOCTL_IMPORT_SYNC_FILE, &is))
		ret = -errno;
	close(is.fd);
	return ret;
}

/*
 * A write fence pending on the buffer (vgem's, imported with
 * IMPORT_SYNC_FILE): the 32-bit importer's attach waits for it before the
 * storage moves, and moves once it is signalled, bytes intact.
 */
TEST_F(move, waits_for_pending_fences)
{
	const uint64_t len = MiB;
	struct t_vgem_fence_signal sig = { 0 };
	struct dmabuf_demo_access a1;
	int vgem, fd, status;
	__u32 handle = 0;
	uint64_t sum;
	uint8_t *p;
	pid_t pid;

	vgem = vgem_open();
	ASSERT_LE(0, vgem) TH_LOG("no vgem card");
	fd = alloc_buf(len, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, fd);
	p = map_filled(fd, len, 51, &sum);
	ASSERT_NE(NULL, p);
	ASSERT_EQ(0, add_vgem_fence(vgem, fd, &handle, &sig.fence));

	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid)
		_exit(demo_attach(self->imp[1], fd) ? 1 : 0);
	usleep(500000);
	EXPECT_EQ(0, waitpid(pid, &status, WNOHANG)) TH_LOG("the move did not wait");
	EXPECT_EQ(0U, moves_of(fd));
	ASSERT_EQ(0, ioctl(vgem, T_DRM_IOCTL_VGEM_FENCE_SIGNAL, &sig));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFEXITED(status) && !WEXITSTATUS(status));
	EXPECT_EQ(1U, moves_of(fd));
	ASSERT_EQ(0, demo_access(self->imp[1], fd, DMABUF_DEMO_ACCESS_READ, 0, &a1));
	EXPECT_EQ(sum, a1.checksum);
	EXPECT_EQ(sum, demo_checksum(p, len));
	EXPECT_EQ(0, demo_detach(self->imp[1], fd));
	munmap(p, len);
	close(fd);
	vgem_gem_close(vgem, handle);
	close(vgem);
}

/*
 * Killed while its move waits for a fence: the attach fails, nothing
 * moved, the bytes and the mapping are as they were, and the next attach
 * moves the buffer.
 */
TEST_F(move, killed_while_waiting_leaves_the_storage)
{
	const uint64_t len = MiB;
	struct t_vgem_fence_signal sig = { 0 };
	struct dmabuf_demo_access a0, a1;
	int vgem, fd, status;
	__u32 handle = 0;
	uint64_t sum, top;
	uint8_t *p;
	pid_t pid;

	vgem = vgem_open();
	ASSERT_LE(0, vgem) TH_LOG("no vgem card");
	fd = alloc_buf(len, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, fd);
	p = map_filled(fd, len, 52, &sum);
	ASSERT_NE(NULL, p);
	top = top_of(self->imp[0], fd);
	ASSERT_EQ(0, add_vgem_fence(vgem, fd, &handle, &sig.fence));

	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid)
		_exit(demo_attach(self->imp[1], fd) ? 1 : 0);
	usleep(300000);
	kill(pid, SIGKILL);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFSIGNALED(status));
	EXPECT_EQ(0U, moves_of(fd));
	EXPECT_EQ(sum, demo_checksum(p, len));
	ASSERT_EQ(0, ioctl(vgem, T_DRM_IOCTL_VGEM_FENCE_SIGNAL, &sig));
	ASSERT_EQ(0, demo_access(self->imp[0], fd, DMABUF_DEMO_ACCESS_READ, 0, &a0));
	EXPECT_EQ(top, a0.highest_dma);
	EXPECT_EQ(sum, a0.checksum);
	ASSERT_EQ(0, demo_access(self->imp[1], fd, DMABUF_DEMO_ACCESS_READ, 0, &a1));
	EXPECT_EQ(1U, moves_of(fd));
	EXPECT_EQ(sum, a1.checksum);
	munmap(p, len);
	close(fd);
	vgem_gem_close(vgem, handle);
	close(vgem);
}

struct racer {
	int fd, imp;
	uint64_t len, sum;
	atomic_int stop;
	unsigned int bad, rounds;
	uint32_t attach_flags;	/* kept_reader: ATTACH with these first */
	int attach_ret;
};

/* Map, read every page, unmap, again and again: faults race the moves. */
static void *fault_racer(void *arg)
{
	struct racer *r = arg;
	uint8_t *p;

	while (!atomic_load(&r->stop)) {
		p = mmap(NULL, r->len, PROT_READ, MAP_SHARED, r->fd, 0);
		if (p == MAP_FAILED)
			continue;
		if (demo_checksum(p, r->len) != r->sum)
			r->bad++;
		munmap(p, r->len);
		r->rounds++;
	}
	return NULL;
}

/*
 * A 64-bit device's map and unmap, again and again: they pin in turn.  A
 * pause between them leaves the moves a window: back to back, the maps
 * held the storage through 10,000 attaches on 6.1.
 */
static void *map_racer(void *arg)
{
	struct dmabuf_demo_access a;
	struct racer *r = arg;

	while (!atomic_load(&r->stop)) {
		if (!demo_access(r->imp, r->fd, DMABUF_DEMO_ACCESS_READ, 0, &a) &&
		    a.checksum != r->sum)
			r->bad++;
		r->rounds++;
		usleep(500);
	}
	return NULL;
}

/*
 * Moves race faults of a mapping made and unmade in a loop, and another
 * device's maps: each attach either moves the buffer or is refused with
 * EBUSY while the other device has it mapped; every read, through the
 * mapping or a device, sees the same bytes.  Fresh buffers, so that every
 * round has a move to make.
 */
TEST_F(move, races_faults_and_maps)
{
	const uint64_t len = 4 * MiB;
	struct racer rf = { .len = len }, rm = { .len = len, .imp = self->imp[0] };
	unsigned int round, moved = 0, busy = 0;
	uint64_t deadline;
	pthread_t tf, tm;
	int r;

	for (round = 0; round < 12; round++) {
		rf.fd = alloc_buf(len, O_RDWR | O_CLOEXEC);
		ASSERT_LE(0, rf.fd);
		uint8_t *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, rf.fd, 0);

		ASSERT_NE(MAP_FAILED, p);
		ASSERT_EQ(0, fill_pattern(p, len, 60 + round, 0));
		rf.sum = rm.sum = demo_checksum(p, len);
		munmap(p, len);
		rm.fd = rf.fd;
		atomic_store(&rf.stop, 0);
		atomic_store(&rm.stop, 0);
		ASSERT_EQ(0, pthread_create(&tf, NULL, fault_racer, &rf));
		ASSERT_EQ(0, pthread_create(&tm, NULL, map_racer, &rm));
		usleep(20000);
		/* Refusals while mapped are right; for 20 s they are starvation. */
		deadline = bench_now_ns() + 20000000000ULL;
		do {
			r = demo_attach(self->imp[1], rf.fd);
			if (r == -EBUSY)
				busy++;
		} while (r == -EBUSY && bench_now_ns() < deadline);
		EXPECT_EQ(0, r);
		if (!r) {
			moved += moves_of(rf.fd);
			EXPECT_EQ(0, demo_detach(self->imp[1], rf.fd));
		}
		usleep(20000);
		atomic_store(&rf.stop, 1);
		atomic_store(&rm.stop, 1);
		pthread_join(tf, NULL);
		pthread_join(tm, NULL);
		close(rf.fd);
	}
	EXPECT_EQ(0U, rf.bad + rm.bad);
	EXPECT_EQ(12U, moved);
	TH_LOG("12 moves, %u refused while mapped; %u mapping and %u device reads",
	       busy, rf.rounds, rm.rounds);
}

/*
 * Device reads through a dynamic importer's kept mapping, again and again;
 * the ATTACH that makes it first, when asked to.
 */
static void *kept_reader(void *arg)
{
	struct dmabuf_demo_access a;
	struct racer *r = arg;

	if (r->attach_flags) {
		r->attach_ret = demo_attach_flags(r->imp, r->fd, r->attach_flags);
		if (r->attach_ret)
			return NULL;
	}
	while (!atomic_load(&r->stop)) {
		if (demo_access(r->imp, r->fd, DMABUF_DEMO_ACCESS_READ, 0, &a) ||
		    a.checksum != r->sum)
			r->bad++;
		r->rounds++;
	}
	return NULL;
}

/*
 * A dynamic importer reads through its kept mapping all the time, yet
 * every attach of the 32-bit importer moves the buffer at once: the read
 * in flight stops, the move takes the mapping back, and the next read
 * maps the new storage.  No read fails or sees a wrong byte.  Every other
 * round the dynamic importer's own ATTACH, declaring one segment, races
 * the 32-bit one: its map moves the storage into one run, or a move takes
 * its new table back before it is recorded.
 */
TEST_F(move, dynamic_mapping_races_moves)
{
	const uint32_t flags = DMABUF_DEMO_ATTACH_MAP | DMABUF_DEMO_ATTACH_MOVABLE;
	const uint64_t len = 4 * MiB;
	struct racer r = { .len = len, .imp = self->imp[0] };
	unsigned int round, moved = 0;
	pthread_t t;
	int fd;

	for (round = 0; round < 12; round++) {
		fd = alloc_buf(len, O_RDWR | O_CLOEXEC);
		ASSERT_LE(0, fd);
		uint8_t *p = map_filled(fd, len, 70 + round, &r.sum);

		ASSERT_NE(NULL, p);
		munmap(p, len);
		r.fd = fd;
		r.attach_flags = round % 2 ? flags | DMABUF_DEMO_ATTACH_CONTIG : 0;
		if (!r.attach_flags)
			ASSERT_EQ(0, demo_attach_flags(self->imp[0], fd, flags));
		atomic_store(&r.stop, 0);
		ASSERT_EQ(0, pthread_create(&t, NULL, kept_reader, &r));
		if (!r.attach_flags)
			usleep(20000);
		EXPECT_EQ(0, demo_attach(self->imp[1], fd));
		usleep(20000);
		atomic_store(&r.stop, 1);
		pthread_join(t, NULL);
		EXPECT_EQ(0, r.attach_ret);
		moved += moves_of(fd) > 0;
		EXPECT_EQ(0, demo_detach(self->imp[0], fd));
		EXPECT_EQ(0, demo_detach(self->imp[1], fd));
		close(fd);
	}
	EXPECT_EQ(0U, r.bad);
	EXPECT_EQ(12U, moved) TH_LOG("rounds without a move");
	TH_LOG("12 rounds that moved, under %u device reads", r.rounds);
}

TEST_HARNESS_MAIN
