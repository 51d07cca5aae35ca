// SPDX-License-Identifier: GPL-2.0-only
/*
 * t_constrain: constraints the device model cannot say (the most DMA
 * segments a device takes, the alignment of its first DMA address), on the
 * kernel's kselftest_harness.h.
 *
 *   - DMABUF_CORE_IOCTL_CONSTRAIN sets, reads and clears an
 *     administrator's entry by device name; bad requests get EINVAL, a
 *     user without CAP_SYS_ADMIN EPERM (reading stays open);
 *   - a device declared "one segment" by name gets one segment from the
 *     demo exporter, which places storage late, and from a /dev/dmabuf
 *     buffer, whose storage moves; an alignment is met too;
 *   - an importer's own declaration (dmabuf_core_attach_constrained(),
 *     the demo importer's ATTACH_CONTIG) moves the storage at map, or
 *     gets EBUSY while another device's mapping pins it;
 *   - dmabuf-ctl constrain takes a /sys path, shows and clears an entry,
 *     and loads a file of them (what the udev rule runs at boot).
 *
 * Needs the demo modules (importer0: 64-bit, no segment limit; importer1:
 * 32-bit, 64 KiB segments) and /tests/dmabuf-ctl.  The teardown clears
 * every entry it may have made and checks that no buffer is left.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/dmabuf_demo.h>

#include "kselftest_harness.h"

#include "lib/demo.h"
#include "lib/tap.h"

#define IMP0		"dmabuf-demo-importer.0"
#define IMP1		"dmabuf-demo-importer.1"
#define CTL		"/tests/dmabuf-ctl"
#define CONTIG_DEV	"/dev/dmabuf-contig"

/* CONSTRAIN on @node: 0 or -errno; *@req holds what the kernel gave back. */
static int constrain(int node, struct dmabuf_core_constrain *req)
{
	return ioctl(node, DMABUF_CORE_IOCTL_CONSTRAIN, req) ? -errno : 0;
}

static int declare(int node, const char *dev, uint32_t segments, uint64_t align)
{
	struct dmabuf_core_constrain req = { .max_segments = segments, .alignment = align };

	strncpy(req.device, dev, sizeof(req.device) - 1);
	return constrain(node, &req);
}

static int lookup(int node, const char *dev, struct dmabuf_core_constrain *req)
{
	memset(req, 0, sizeof(*req));
	strncpy(req->device, dev, sizeof(req->device) - 1);
	req->flags = DMABUF_CORE_CONSTRAIN_GET;
	return constrain(node, req);
}

static int forget(int node, const char *dev)
{
	struct dmabuf_core_constrain req = { .flags = DMABUF_CORE_CONSTRAIN_CLEAR };

	strncpy(req.device, dev, sizeof(req.device) - 1);
	return constrain(node, &req);
}

/* A shell command's exit status, or -1. */
static int run(const char *cmd)
{
	int status = system(cmd);

	return status >= 0 && WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

FIXTURE(constrain) {
	int node;
	int imp[2];
	struct dmabuf_core_stats before;
};

FIXTURE_SETUP(constrain)
{
	self->node = open("/dev/dmabuf", O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->node);
	self->imp[0] = importer_open(0);
	self->imp[1] = importer_open(1);
	ASSERT_LE(0, self->imp[0]);
	ASSERT_LE(0, self->imp[1]);
	ASSERT_EQ(0, stats(&self->before));
	/*
	 * A clean table: the harness may skip a teardown after a failed
	 * assertion (its fork result is not volatile across the longjmp).
	 */
	forget(self->node, IMP0);
	forget(self->node, IMP1);
	forget(self->node, "t-constrain");
}

FIXTURE_TEARDOWN(constrain)
{
	struct dmabuf_core_stats now;

	forget(self->node, IMP0);
	forget(self->node, IMP1);
	forget(self->node, "t-constrain");
	close(self->imp[0]);
	close(self->imp[1]);
	ASSERT_EQ(0, stats(&now));
	EXPECT_EQ(self->before.live_buffers, now.live_buffers);
	EXPECT_EQ(self->before.system_pages, now.system_pages);
	EXPECT_EQ(self->before.contig_pages, now.contig_pages);
	close(self->node);
}

TEST_F(constrain, set_get_clear)
{
	struct dmabuf_core_constrain req;

	EXPECT_EQ(-ENOENT, lookup(self->node, "t-constrain", &req));
	ASSERT_EQ(0, declare(self->node, "t-constrain", 1, 65536));
	ASSERT_EQ(0, lookup(self->node, "t-constrain", &req));
	EXPECT_EQ(1U, req.max_segments);
	EXPECT_EQ(65536ULL, req.alignment);
	/* Setting again replaces. */
	ASSERT_EQ(0, declare(self->node, "t-constrain", 4, 0));
	ASSERT_EQ(0, lookup(self->node, "t-constrain", &req));
	EXPECT_EQ(4U, req.max_segments);
	EXPECT_EQ(0ULL, req.alignment);
	EXPECT_EQ(0, forget(self->node, "t-constrain"));
	EXPECT_EQ(-ENOENT, lookup(self->node, "t-constrain", &req));
	EXPECT_EQ(-ENOENT, forget(self->node, "t-constrain"));
}

TEST_F(constrain, bad_requests_einval)
{
	struct dmabuf_core_constrain req = { .device = "t-constrain" };

	req.flags = 4;
	EXPECT_EQ(-EINVAL, constrain(self->node, &req));
	req.flags = DMABUF_CORE_CONSTRAIN_CLEAR | DMABUF_CORE_CONSTRAIN_GET;
	EXPECT_EQ(-EINVAL, constrain(self->node, &req));
	/* Settings belong to a set only. */
	req.flags = DMABUF_CORE_CONSTRAIN_CLEAR;
	req.max_segments = 1;
	EXPECT_EQ(-EINVAL, constrain(self->node, &req));
	req.flags = DMABUF_CORE_CONSTRAIN_GET;
	req.max_segments = 0;
	req.alignment = 4096;
	EXPECT_EQ(-EINVAL, constrain(self->node, &req));
	req.alignment = 0;
	req.flags = 0;
	req.reserved = 1;
	EXPECT_EQ(-EINVAL, constrain(self->node, &req));
	req.reserved = 0;
	EXPECT_EQ(-EINVAL, declare(self->node, "", 1, 0));
	EXPECT_EQ(-EINVAL, declare(self->node, "platform/t-constrain", 1, 0));
	memset(req.device, 'x', sizeof(req.device));
	EXPECT_EQ(-EINVAL, constrain(self->node, &req));
	EXPECT_EQ(-EINVAL, declare(self->node, "t-constrain", 1, 3 * 4096));
	EXPECT_EQ(-EINVAL, declare(self->node, "t-constrain", 1, 64 * MiB));
	EXPECT_EQ(-EINVAL, declare(self->node, "t-constrain", 1, 1ULL << 33));
	EXPECT_EQ(-ENOENT, lookup(self->node, "t-constrain", &req)) TH_LOG("a refused request left an entry");
	EXPECT_EQ(-ENOTTY, ioctl(self->node, _IO(DMABUF_CORE_IOC_MAGIC, 0x3f)) ? -errno : 0);
	/* The same 88 bytes on every ABI. */
	EXPECT_EQ(88U, sizeof(struct dmabuf_core_constrain));
}

/* Setting and clearing are root's; anyone with the node may read. */
TEST_F(constrain, set_needs_cap_sys_admin)
{
	struct dmabuf_core_constrain req;
	int status;
	pid_t pid;

	ASSERT_EQ(0, declare(self->node, "t-constrain", 2, 0));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		if (setgid(65534) || setuid(65534))
			_exit(1);
		if (declare(self->node, "t-constrain", 1, 0) != -EPERM)
			_exit(2);
		if (forget(self->node, "t-constrain") != -EPERM)
			_exit(3);
		if (lookup(self->node, "t-constrain", &req) || req.max_segments != 2)
			_exit(4);
		_exit(0);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFEXITED(status) && !WEXITSTATUS(status)) TH_LOG("child status %#x", status);
	ASSERT_EQ(0, lookup(self->node, "t-constrain", &req));
	EXPECT_EQ(2U, req.max_segments);
}

/*
 * The demo exporter places storage at first use, for the devices attached
 * by then: with importer0 declared "one segment" by name, that is one run,
 * below 4 GiB for importer1 (32-bit, 64 KiB segments) attached first, and
 * both read the same bytes from it.
 */
TEST_F(constrain, demo_exporter_places_one_segment)
{
	const uint64_t len = 2 * MiB;
	struct dmabuf_demo_access a0, a1;
	int fd;

	ASSERT_EQ(0, declare(self->node, IMP0, 1, 0));
	fd = demo_create(len, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, demo_attach(self->imp[1], fd));
	ASSERT_EQ(0, demo_access(self->imp[0], fd, DMABUF_DEMO_ACCESS_WRITE, 41, &a0));
	EXPECT_EQ(1U, a0.segments);
	EXPECT_EQ(len, a0.largest_segment);
	ASSERT_EQ(0, demo_access(self->imp[1], fd, DMABUF_DEMO_ACCESS_READ, 0, &a1));
	EXPECT_EQ(demo_expected_checksum(len, 41), a1.checksum);
	EXPECT_EQ(a0.pages_hash, a1.pages_hash);
	EXPECT_GT(1ULL << 32, a1.highest_dma);
	EXPECT_EQ(0, demo_detach(self->imp[1], fd));
	close(fd);
}

/*
 * A /dev/dmabuf buffer of several chunks: once importer0 is declared "one
 * segment", its next attach moves the storage into one run, bytes and
 * mapping kept.
 */
TEST_F(constrain, heap_buffer_moves_to_one_segment)
{
	const uint64_t len = 3 * MiB;
	struct dmabuf_demo_access a0;
	struct dmabuf_core_query q;
	unsigned int before;
	uint64_t sum;
	uint8_t *p;
	int fd;

	fd = alloc_buf(len, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, fd);
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, p);
	ASSERT_EQ(0, fill_pattern(p, len, 42, 0));
	sum = demo_checksum(p, len);
	ASSERT_EQ(0, demo_access(self->imp[0], fd, DMABUF_DEMO_ACCESS_READ, 0, &a0));
	before = a0.segments;
	ASSERT_EQ(0, declare(self->node, IMP0, 1, 0));
	ASSERT_EQ(0, demo_access(self->imp[0], fd, DMABUF_DEMO_ACCESS_READ, 0, &a0));
	EXPECT_EQ(1U, a0.segments);
	EXPECT_EQ(len, a0.largest_segment);
	EXPECT_EQ(sum, a0.checksum);
	EXPECT_EQ(sum, demo_checksum(p, len));
	ASSERT_EQ(0, query(fd, &q));
	EXPECT_EQ(before > 1 ? 1U : 0U, q.moves);
	TH_LOG("%u segments before the declaration, %u moves", before, q.moves);
	munmap(p, len);
	close(fd);
}

/* An alignment of the first DMA address, placed and moved. */
TEST_F(constrain, alignment_is_met)
{
	struct dmabuf_core_alloc al = { .len = 64 * KiB, .fd_flags = O_RDWR | O_CLOEXEC };
	struct dmabuf_demo_access a0;
	int contig, fd;

	ASSERT_EQ(0, declare(self->node, IMP0, 0, MiB));
	contig = open(CONTIG_DEV, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, contig);
	ASSERT_EQ(0, ioctl(contig, DMABUF_CORE_IOCTL_ALLOC, &al));
	ASSERT_EQ(0, demo_access(self->imp[0], al.fd, DMABUF_DEMO_ACCESS_WRITE, 43, &a0));
	EXPECT_EQ(0ULL, a0.lowest_dma % MiB) TH_LOG("contiguous buffer at %#llx",
						     (unsigned long long)a0.lowest_dma);
	close(al.fd);
	close(contig);

	fd = alloc_buf(64 * KiB, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, demo_access(self->imp[0], fd, DMABUF_DEMO_ACCESS_WRITE, 44, &a0));
	EXPECT_EQ(0ULL, a0.lowest_dma % MiB) TH_LOG("/dev/dmabuf buffer at %#llx",
						     (unsigned long long)a0.lowest_dma);
	EXPECT_EQ(demo_expected_checksum(64 * KiB, 44), a0.checksum);
	close(fd);

	/*
	 * Larger than any run: chunks, whose first is aligned to its size
	 * (regression: any alignment forced one run, and ENOMEM above 4 MiB).
	 */
	ASSERT_EQ(0, declare(self->node, IMP0, 0, 64 * KiB));
	fd = alloc_buf(8 * MiB, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, demo_access(self->imp[0], fd, DMABUF_DEMO_ACCESS_WRITE, 46, &a0));
	EXPECT_EQ(0ULL, a0.lowest_dma % (64 * KiB));
	TH_LOG("8 MiB buffer: %u segments", a0.segments);
	close(fd);
}

/*
 * An importer's own declaration at attach: the map moves the storage into
 * one run; while importer1 holds a mapping, the storage is pinned and the
 * map is EBUSY, never a table of several segments.
 */
TEST_F(constrain, importer_declares_one_segment)
{
	const uint64_t len = 3 * MiB;
	struct dmabuf_demo_access a0;
	unsigned int pinned;
	int fd;

	fd = alloc_buf(len, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, demo_access(self->imp[0], fd, DMABUF_DEMO_ACCESS_WRITE, 45, &a0));
	/* importer1's mapping pins the storage (below 4 GiB by then). */
	ASSERT_EQ(0, demo_attach_flags(self->imp[1], fd, DMABUF_DEMO_ATTACH_MAP));
	ASSERT_EQ(0, demo_access(self->imp[0], fd, DMABUF_DEMO_ACCESS_READ, 0, &a0));
	pinned = a0.segments;
	ASSERT_EQ(0, demo_attach_flags(self->imp[0], fd, DMABUF_DEMO_ATTACH_CONTIG));
	EXPECT_EQ(pinned > 1 ? -EBUSY : 0,
		  demo_access(self->imp[0], fd, DMABUF_DEMO_ACCESS_READ, 0, NULL));
	EXPECT_EQ(0, demo_detach(self->imp[0], fd));
	EXPECT_EQ(0, demo_detach(self->imp[1], fd));

	ASSERT_EQ(0, demo_attach_flags(self->imp[0], fd, DMABUF_DEMO_ATTACH_CONTIG));
	ASSERT_EQ(0, demo_access(self->imp[0], fd, DMABUF_DEMO_ACCESS_READ, 0, &a0));
	EXPECT_EQ(1U, a0.segments);
	EXPECT_EQ(len, a0.largest_segment);
	EXPECT_EQ(demo_expected_checksum(len, 45), a0.checksum);
	EXPECT_EQ(0, demo_detach(self->imp[0], fd));
	EXPECT_EQ(-EINVAL, demo_attach_flags(self->imp[0], fd, 1U << 2));
	TH_LOG("%u segments while pinned", pinned);
	close(fd);
}

/* dmabuf-ctl: a /sys path names the device; show, clear, and exit codes. */
TEST_F(constrain, dmabuf_ctl_by_sysfs_path)
{
	struct dmabuf_core_constrain req;
	char line[256] = "";
	FILE *f;

	ASSERT_EQ(0, run(CTL " constrain /sys/bus/platform/devices/" IMP0 " segments=1 align=64k"));
	ASSERT_EQ(0, lookup(self->node, IMP0, &req));
	EXPECT_EQ(1U, req.max_segments);
	EXPECT_EQ(65536ULL, req.alignment);
	f = popen(CTL " constrain " IMP0, "r");
	ASSERT_NE(NULL, f);
	EXPECT_NE(NULL, fgets(line, sizeof(line), f));
	EXPECT_EQ(0, pclose(f));
	EXPECT_STREQ(IMP0 ": segments=1 align=65536\n", line);
	EXPECT_EQ(0, run(CTL " constrain " IMP0 " --clear"));
	EXPECT_EQ(5, run(CTL " constrain " IMP0 " --clear 2>/dev/null"));
	EXPECT_EQ(2, run(CTL " constrain " IMP0 " align=3 2>/dev/null"));
	EXPECT_EQ(2, run(CTL " constrain " IMP0 " colour=blue 2>/dev/null"));
	/* Regression: the suffix's shift wrapped to 0, "no alignment". */
	EXPECT_EQ(2, run(CTL " constrain " IMP0 " align=17179869184G 2>/dev/null"));
	EXPECT_EQ(-ENOENT, lookup(self->node, IMP0, &req));
}

/* The file the udev rule loads at boot; a missing one is nothing to do. */
TEST_F(constrain, dmabuf_ctl_loads_a_file)
{
	static const char conf[] = "/tmp/t_constrain.conf";
	struct dmabuf_core_constrain req;
	FILE *f = fopen(conf, "w");

	ASSERT_NE(NULL, f);
	fputs("# a board's devices\n\n" IMP0 " segments=1\n" IMP1 "  align=128k  # DMA window\n", f);
	ASSERT_EQ(0, fclose(f));
	EXPECT_EQ(0, run(CTL " constrain --load /tmp/t_constrain.conf"));
	ASSERT_EQ(0, lookup(self->node, IMP0, &req));
	EXPECT_EQ(1U, req.max_segments);
	ASSERT_EQ(0, lookup(self->node, IMP1, &req));
	EXPECT_EQ(128 * 1024ULL, req.alignment);
	EXPECT_EQ(0, run(CTL " constrain --load /tmp/t_constrain-missing.conf"));
	f = fopen(conf, "w");
	ASSERT_NE(NULL, f);
	fputs(IMP0 " segments=lots\n", f);
	ASSERT_EQ(0, fclose(f));
	EXPECT_EQ(2, run(CTL " constrain --load /tmp/t_constrain.conf 2>/dev/null"));
	unlink(conf);
}

TEST_HARNESS_MAIN
