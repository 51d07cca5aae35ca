// SPDX-License-Identifier: GPL-2.0-only
/*
 * dmabuf-demo: two devices and a process share one buffer, told step by
 * step; then a buffer that moves for a device that cannot reach it, a
 * contiguous buffer for a device that needs one run, and a device that
 * declares it takes one segment only.  Expects dmabuf_core,
 * dmabuf_demo_exporter and dmabuf_demo_importer dma_bits=64,32
 * max_seg_kb=0,64 loaded.
 * Exits non-zero, with a FAIL: line, if any device sees something else
 * than the others.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <linux/videodev2.h>

#include "lib/tap.h"
#include "lib/vgem.h"
#include "lib/demo.h"
#include "lib/vivid.h"
#include "../tools/dmabuf-ctl/lockdown.h"

#define SIZE	(4 * MiB)

static int failures;

static void expect(int ok, const char *what)
{
	if (!ok) {
		printf("FAIL: demo: %s\n", what);
		failures++;
	}
}

/* A buffer of @len bytes from /dev/dmabuf-contig: its fd, or -errno. */
static int contig_alloc(uint64_t len)
{
	struct dmabuf_core_alloc a = { .len = len, .fd_flags = O_RDWR | O_CLOEXEC };
	int node, ret;

	node = open("/dev/dmabuf-contig", O_RDWR | O_CLOEXEC);
	if (node < 0)
		return -errno;
	ret = ioctl(node, DMABUF_CORE_IOCTL_ALLOC, &a) ? -errno : (int)a.fd;
	close(node);
	return ret;
}

static void show_device(const char *who, const struct dmabuf_demo_access *a,
			uint64_t pages_hash)
{
	printf("   %-10s %u DMA segments (largest %llu KiB), DMA addresses %#llx-%#llx\n",
	       who, a->segments, (unsigned long long)a->largest_segment / 1024,
	       (unsigned long long)a->lowest_dma, (unsigned long long)a->highest_dma);
	printf("   %-10s checksum %016llx, same pages as the exporter: %s, bounced segments: %u, within its %u-bit mask: %s\n",
	       "", (unsigned long long)a->checksum,
	       a->pages_hash == pages_hash ? "yes" : "NO", a->bounced, a->dma_bits,
	       a->fits_mask ? "yes" : "NO");
}

/*
 * Step 7: a /dev/dmabuf buffer allocated with no device in mind, above
 * importer1's reach in a guest with memory there.  importer0 keeps it
 * mapped, as a display keeps its scanout buffer, but gives the mapping up
 * when told (ATTACH_MOVABLE, dmabuf_core_attach_dynamic()).  importer1's
 * attach moves the storage below 4 GiB rather than refusing the device or
 * bouncing; the bytes, and this process's mapping of them, stay the same,
 * and importer0's next read maps the new storage.
 */
static void step7_move(int imp0, int imp1)
{
	const uint64_t len = 1 * MiB;
	struct dmabuf_demo_access a0 = { 0 }, a1 = { 0 };
	struct dmabuf_core_query q;
	uint64_t sum;
	uint8_t *p;
	int fd, ret;

	fd = alloc_buf(len, O_RDWR);
	expect(fd >= 0, "/dev/dmabuf alloc");
	if (fd < 0)
		return;
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	expect(p != MAP_FAILED, "mmap of the /dev/dmabuf buffer");
	if (p == MAP_FAILED) {
		close(fd);
		return;
	}
	sync_buf(fd, DMABUF_CORE_SYNC_START | DMABUF_CORE_SYNC_WRITE);
	fill_pattern(p, len, 0x7777, 0);
	sync_buf(fd, DMABUF_CORE_SYNC_END | DMABUF_CORE_SYNC_WRITE);
	sum = demo_checksum(p, len);
	expect(!demo_attach_flags(imp0, fd, DMABUF_DEMO_ATTACH_MAP |
					    DMABUF_DEMO_ATTACH_MOVABLE),
	       "importer0 keeps a movable mapping");
	expect(demo_access(imp0, fd, DMABUF_DEMO_ACCESS_READ, 0, &a0) == 0,
	       "importer0 reads the /dev/dmabuf buffer");
	printf("7. A /dev/dmabuf buffer allocated with no device in mind: this process writes it\n"
	       "   (checksum %016llx). importer0 keeps it mapped at %#llx-%#llx, but\n"
	       "   gives that mapping up when told (ATTACH_MOVABLE).\n",
	       (unsigned long long)sum, (unsigned long long)a0.lowest_dma,
	       (unsigned long long)a0.highest_dma);
	ret = demo_access(imp1, fd, DMABUF_DEMO_ACCESS_READ, 0, &a1);
	expect(ret == 0, "importer1 reaches the /dev/dmabuf buffer");
	expect(!query(fd, &q), "query");
	if (!ret && q.moves)
		printf("   The 32-bit importer1 cannot reach that, so its attach moves the storage\n"
		       "   below 4 GiB instead of refusing it or bouncing: it now reads %#llx-%#llx,\n"
		       "   checksum %016llx (%s).\n",
		       (unsigned long long)a1.lowest_dma, (unsigned long long)a1.highest_dma,
		       (unsigned long long)a1.checksum, a1.checksum == sum ? "unchanged" : "CHANGED");
	else if (!ret)
		printf("   It happens to lie within importer1's reach: nothing moves.\n");
	expect(demo_access(imp0, fd, DMABUF_DEMO_ACCESS_READ, 0, &a0) == 0,
	       "importer0 reads the moved buffer");
	printf("   importer0 was told, gave its mapping up, and its next read maps the new\n"
	       "   storage: %#llx-%#llx, checksum %016llx (%s).\n",
	       (unsigned long long)a0.lowest_dma, (unsigned long long)a0.highest_dma,
	       (unsigned long long)a0.checksum, a0.checksum == sum ? "unchanged" : "CHANGED");
	expect(a0.checksum == sum && a0.pages_hash == a1.pages_hash,
	       "importer0's new mapping: other bytes or pages");
	expect(!demo_detach(imp0, fd), "importer0 lets the buffer go");
	sync_buf(fd, DMABUF_CORE_SYNC_START | DMABUF_CORE_SYNC_READ);
	printf("   This process's mapping now reads checksum %016llx (%s).\n\n",
	       (unsigned long long)demo_checksum(p, len),
	       demo_checksum(p, len) == sum ? "unchanged" : "CHANGED");
	expect(!ret && a1.checksum == sum && demo_checksum(p, len) == sum,
	       "the moved buffer's bytes changed");
	expect(!ret && !a1.bounced && a1.fits_mask, "moved buffer: bounce or mask");
	sync_buf(fd, DMABUF_CORE_SYNC_END | DMABUF_CORE_SYNC_READ);
	munmap(p, len);
	close(fd);
}

/*
 * Step 9: importer0 declares at attach that it takes a buffer only as one
 * DMA segment (dmabuf_core_attach_constrained(), the demo's ATTACH_CONTIG).
 * A /dev/dmabuf buffer of several chunks moves into one run at its map.
 */
static void step9_declared(int imp0)
{
	struct dmabuf_demo_attach at = { .flags = DMABUF_DEMO_ATTACH_CONTIG };
	struct dmabuf_demo_access before, after;
	struct dmabuf_core_query q;
	int fd;

	fd = alloc_buf(SIZE, O_RDWR);
	expect(fd >= 0, "/dev/dmabuf alloc for step 9");
	if (fd < 0)
		return;
	expect(demo_access(imp0, fd, DMABUF_DEMO_ACCESS_WRITE, 0xD1CE, &before) == 0,
	       "importer0 writes the /dev/dmabuf buffer");
	at.fd = fd;
	expect(!ioctl(imp0, DMABUF_DEMO_IOCTL_ATTACH, &at), "ATTACH_CONTIG");
	expect(demo_access(imp0, fd, DMABUF_DEMO_ACCESS_READ, 0, &after) == 0,
	       "importer0 reads through its declared attachment");
	expect(!query(fd, &q), "query");
	printf("9. A driver can say what struct device cannot: importer0 attaches to a fresh\n"
	       "   %llu MiB /dev/dmabuf buffer declaring that it takes one DMA segment only.\n"
	       "   Before: %u segments (largest %llu KiB). At its map the storage moves into one\n"
	       "   run (moves: %u): %u segment (largest %llu KiB), checksum %s.\n\n",
	       (unsigned long long)SIZE / MiB, before.segments,
	       (unsigned long long)before.largest_segment / 1024, q.moves, after.segments,
	       (unsigned long long)after.largest_segment / 1024,
	       after.checksum == before.checksum ? "unchanged" : "CHANGED");
	expect(after.checksum == before.checksum, "the declared buffer's bytes changed");
	/* Segment counts are CAP_SYS_ADMIN's to see. */
	if (!geteuid())
		expect(after.segments == 1 && after.largest_segment == SIZE,
		       "the declared device did not get one segment");
	demo_detach(imp0, fd);
	close(fd);
}

/*
 * Step 10: the stock vivid driver of this kernel, loaded in
 * videobuf2-dma-contig mode (allocators=1: it takes a dma-buf only as one
 * run of DMA addresses, below its 32-bit mask), captures a 1080p frame
 * into /dev/dmabuf-contig buffers; importer0 reads the same bytes, one
 * DMA segment.  vivid attaches and maps at QBUF: its map places them.
 */
static void step10_vivid(int imp0)
{
	struct v4l2_format fmt = { .type = V4L2_BUF_TYPE_VIDEO_CAPTURE };
	struct v4l2_buffer b = {
		.type = V4L2_BUF_TYPE_VIDEO_CAPTURE, .memory = V4L2_MEMORY_DMABUF,
	};
	struct pollfd pfd = { .events = POLLIN };
	struct dmabuf_demo_access acc = { 0 };
	int fds[2] = { -1, -1 }, i, got = 0, failures_before = failures;
	uint64_t sum = 0;
	uint8_t *p;

	/*
	 * Optional, as vgem is: a machine without vivid loaded still tells
	 * the rest of the story.  `make demo` loads it and expects the PASS
	 * line below.
	 */
	if (vivid_open() < 0) {
		printf("10. (no vivid capture node to open: `modprobe vivid allocators=1`\n"
		       "   to see a stock V4L2 driver capture into /dev/dmabuf-contig buffers)\n\n");
		return;
	}
	if (ioctl(vivid_fd, VIDIOC_G_FMT, &fmt)) {
		expect(0, "vivid's capture node takes no VIDIOC_G_FMT");
		goto out;
	}
	fmt.fmt.pix.width = 1920;
	fmt.fmt.pix.height = 1080;
	fmt.fmt.pix.pixelformat = V4L2_PIX_FMT_YUYV;
	expect(!ioctl(vivid_fd, VIDIOC_S_FMT, &fmt) && fmt.fmt.pix.width == 1920,
	       "vivid takes 1920x1080 YUYV");
	vivid_frame_size = page_round(fmt.fmt.pix.sizeimage);
	expect(vivid_reqbufs(2, V4L2_MEMORY_DMABUF) == 2, "vivid REQBUFS of dma-bufs");
	for (i = 0; i < 2; i++) {
		fds[i] = contig_alloc(vivid_frame_size);
		expect(fds[i] >= 0 && !vivid_qbuf_dmabuf(i, fds[i], vivid_frame_size),
		       "vivid QBUF of a /dev/dmabuf-contig buffer");
	}
	pfd.fd = vivid_fd;
	if (!vivid_stream(1) && poll(&pfd, 1, 120000) == 1 &&
	    !ioctl(vivid_fd, VIDIOC_DQBUF, &b) && b.index < 2)
		got = 1;
	expect(got, "vivid captured no frame");
	if (got) {
		p = mmap(NULL, vivid_frame_size, PROT_READ, MAP_SHARED, fds[b.index], 0);
		expect(p != MAP_FAILED, "mmap of vivid's frame");
		if (p != MAP_FAILED) {
			sync_buf(fds[b.index], DMABUF_CORE_SYNC_START | DMABUF_CORE_SYNC_READ);
			sum = demo_checksum(p, vivid_frame_size);
			for (i = 0; i < (int)b.bytesused && !p[i]; i++)
				;
			expect(i < (int)b.bytesused, "vivid's frame is all zeroes");
			sync_buf(fds[b.index], DMABUF_CORE_SYNC_END | DMABUF_CORE_SYNC_READ);
			munmap(p, vivid_frame_size);
		}
		expect(!demo_access(imp0, fds[b.index], DMABUF_DEMO_ACCESS_READ, 0, &acc) &&
		       acc.checksum == sum, "importer0 reads another frame");
		if (!geteuid())
			expect(acc.segments == 1, "vivid's frame is not one segment");
		printf("10. The stock vivid driver of this kernel, in videobuf2-dma-contig mode (it takes\n"
		       "   a buffer only as one run below its 32-bit mask), captures a %ux%u frame\n"
		       "   (%u bytes) into /dev/dmabuf-contig buffers: vivid's QBUF placed them.\n"
		       "   importer0 reads it as %u DMA segment(s) at %#llx-%#llx, checksum %016llx (%s).\n\n",
		       fmt.fmt.pix.width, fmt.fmt.pix.height, b.bytesused, acc.segments,
		       (unsigned long long)acc.lowest_dma, (unsigned long long)acc.highest_dma,
		       (unsigned long long)acc.checksum, acc.checksum == sum ? "the same" : "DIFFERENT");
	}
	if (got && failures == failures_before)
		printf("PASS: demo: %s\n\n",
		       "the stock vivid driver captured into /dev/dmabuf-contig buffers");
	vivid_stream(0);
	vivid_reqbufs(0, V4L2_MEMORY_DMABUF);
	for (i = 0; i < 2; i++)
		if (fds[i] >= 0)
			close(fds[i]);
out:
	close(vivid_fd);
	vivid_fd = -1;
}

int main(void)
{
	struct dmabuf_demo_device_info i0, i1;
	struct dmabuf_demo_access a0, a1;
	struct dmabuf_demo_pattern fill, ver;
	struct dmabuf_demo_storage st;
	struct dmabuf_core_query q;
	int imp0, imp1, fd, vgem;
	__u32 handle = 0;
	void *p;

	tap_init("demo");
	imp0 = importer_open(0);
	imp1 = importer_open(1);
	if (imp0 < 0 || imp1 < 0 || exporter_fd() < 0) {
		printf("FAIL: demo: the demo nodes are missing\n");
		/* Maybe refused rather than not loaded: say so. */
		if (access("/dev/dmabuf", F_OK) && kernel_locked_down())
			fprintf(stderr, "dmabuf-demo: no /dev/dmabuf, and %s\n", LOCKDOWN_HINT);
		return 1;
	}
	demo_device_info(imp0, &i0);
	demo_device_info(imp1, &i1);

	printf("\n== dmabuf-core: one buffer, two devices, one process ==\n\n");
	printf("Devices: exporter (a camera, say), importer0 (%u-bit DMA), importer1 (%u-bit DMA, %llu KiB segments)\n\n",
	       i0.dma_bits, i1.dma_bits, (unsigned long long)i1.max_segment / 1024);
	if (geteuid())
		printf("(Not root: addresses, page hashes, chunk and segment counts read 0; the kernel\n"
		       " shows where pages are, and how contiguous, to CAP_SYS_ADMIN only.)\n\n");

	fd = demo_create(SIZE, O_RDWR | O_CLOEXEC);
	expect(fd >= 0, "create");
	query(fd, &q);
	printf("1. The exporter creates a %llu MiB buffer and hands out fd %d (buffer id %llu).\n",
	       (unsigned long long)SIZE / MiB, fd, (unsigned long long)q.id);
	demo_storage(fd, &st);
	printf("   Backing memory allocated yet: %s (it waits until it knows every device).\n\n",
	       st.allocated ? "yes" : "no");

	expect(demo_attach(imp0, fd) == 0 && demo_attach(imp1, fd) == 0, "attach");
	query(fd, &q);
	printf("2. Both importers get the buffer from the fd and attach: %u attachments.\n",
	       q.attachments);
	vgem = vgem_open();
	if (vgem >= 0 && !vgem_prime_import(vgem, fd, &handle)) {
		int back = vgem_prime_export(vgem, handle);
		struct stat s1, s2;

		query(fd, &q);
		printf("   vgem, a stock DRM driver of this kernel, imports the same fd through PRIME:\n"
		       "   %u attachments, and vgem's re-export is the very same dma-buf: %s.\n\n",
		       q.attachments,
		       back >= 0 && !fstat(back, &s1) && !fstat(fd, &s2) &&
		       s1.st_ino == s2.st_ino ? "yes" : "NO");
		expect(q.attachments == 3, "vgem attached");
		if (back >= 0)
			close(back);
	} else {
		/* Optional: on a real machine, modprobe vgem to see it join. */
		printf("   (vgem is not loaded: no stock DRM driver joins this time)\n\n");
	}

	expect(demo_fill(fd, 0xC0FFEE, &fill) == 0, "fill");
	demo_storage(fd, &st);
	printf("3. The exporter fills it (pattern 0xC0FFEE, checksum %016llx); the first use (this, or\n"
	       "   vgem's map) allocated memory every attached device can reach: %u chunks of up to\n"
	       "   %llu KiB at %#llx-%#llx, below the tightest DMA limit %#llx.\n\n",
	       (unsigned long long)fill.checksum,
	       st.chunks, (unsigned long long)st.largest_chunk / 1024,
	       (unsigned long long)st.lowest_phys, (unsigned long long)st.highest_phys,
	       (unsigned long long)st.dma_limit);

	printf("4. Each importer maps its attachment and reads through its own sg table:\n");
	expect(demo_access(imp0, fd, DMABUF_DEMO_ACCESS_READ, 0, &a0) == 0, "importer0 read");
	expect(demo_access(imp1, fd, DMABUF_DEMO_ACCESS_READ, 0, &a1) == 0, "importer1 read");
	show_device("importer0", &a0, st.pages_hash);
	show_device("importer1", &a1, st.pages_hash);
	expect(a0.checksum == fill.checksum && a1.checksum == fill.checksum, "checksums differ");
	expect(a0.pages_hash == st.pages_hash && a1.pages_hash == st.pages_hash, "pages differ");
	expect(!a0.bounced && !a1.bounced && a1.fits_mask, "bounce or mask");
	printf("\n");

	expect(demo_access(imp1, fd, DMABUF_DEMO_ACCESS_WRITE, 0xFEED, &a1) == 0, "importer1 write");
	expect(demo_verify(fd, 0xFEED, &ver) == 0, "verify");
	printf("5. importer1 writes pattern 0xFEED as a device would; the exporter verifies it: %llu mismatching words.\n",
	       (unsigned long long)ver.mismatches);
	expect(ver.mismatches == 0, "mismatches");

	p = mmap(NULL, SIZE, PROT_READ, MAP_SHARED, fd, 0);
	expect(p != MAP_FAILED, "mmap");
	if (p != MAP_FAILED) {
		sync_buf(fd, DMABUF_CORE_SYNC_START | DMABUF_CORE_SYNC_READ);
		printf("6. This process maps the same fd: checksum %016llx (%s).\n\n",
		       (unsigned long long)demo_checksum(p, SIZE),
		       demo_checksum(p, SIZE) == ver.checksum ? "identical" : "DIFFERENT");
		expect(demo_checksum(p, SIZE) == ver.checksum, "mmap checksum");
		sync_buf(fd, DMABUF_CORE_SYNC_END | DMABUF_CORE_SYNC_READ);
		munmap(p, SIZE);
	}
	demo_detach(imp0, fd);
	demo_detach(imp1, fd);
	if (vgem >= 0) {
		vgem_gem_close(vgem, handle);
		close(vgem);
	}
	close(fd);

	step7_move(imp0, imp1);

	fd = contig_alloc(SIZE);
	expect(fd >= 0, "contiguous alloc");
	if (fd >= 0) {
		printf("8. A device that takes a buffer only as one run of DMA addresses (a camera on\n"
		       "   videobuf2-dma-contig, an FPGA without scatter-gather) gets it from\n"
		       "   /dev/dmabuf-contig. importer1 attaches to a fresh %llu MiB buffer first; importer0's\n"
		       "   write is its first use, which places it where both devices reach it:\n",
		       (unsigned long long)SIZE / MiB);
		expect(demo_attach(imp1, fd) == 0, "attach to the contiguous buffer");
		expect(demo_access(imp0, fd, DMABUF_DEMO_ACCESS_WRITE, 0xBEEF, &a0) == 0,
		       "importer0 writes the contiguous buffer");
		expect(demo_access(imp1, fd, DMABUF_DEMO_ACCESS_READ, 0, &a1) == 0,
		       "importer1 reads the contiguous buffer");
		show_device("importer0", &a0, a0.pages_hash);
		show_device("importer1", &a1, a0.pages_hash);
		expect(a0.checksum == a1.checksum && a0.pages_hash == a1.pages_hash,
		       "the contiguous buffer's devices disagree");
		expect(!a1.bounced && a1.fits_mask, "contiguous: bounce or mask");
		/* Segment counts are CAP_SYS_ADMIN's to see. */
		if (!geteuid())
			expect(a0.segments == 1 && a0.largest_segment == SIZE,
			       "contiguous buffer is not one segment");
		demo_detach(imp1, fd);
		close(fd);
		printf("\n");
	}

	step9_declared(imp0);
	step10_vivid(imp0);

	printf("%s\n", failures ? "FAIL: demo: the devices disagreed" :
	       "PASS: demo: both devices and the process shared one buffer, no copies");
	return failures ? 1 : 0;
}
