// SPDX-License-Identifier: GPL-2.0-only
/*
 * t_iommu: sharing with a PCI device behind an emulated IOMMU (QEMU's
 * intel-iommu), whose DMA engine really copies data: QEMU's edu device,
 * driven by the test module dmabuf_test_edu (tests/kmod/edu_importer.c).
 * The device takes 32-bit bus addresses and segments of up to 64 KiB; the
 * guest's memory reaches 6 GiB.
 *
 * Booted twice per kernel (tests/harness/boot.sh, modes iommu-translated
 * and iommu-identity; dmabuf_harness.iommu_translated=1 or 0 says which):
 *  - translated (a paging domain): every buffer is shared, wherever its
 *    pages are, at IOVAs within the device's mask; nothing bounces;
 *  - identity (passthrough): direct DMA with the device's mask, so storage
 *    out of its reach is never bounced: a /dev/dmabuf buffer moves within
 *    it, a demo buffer whose storage is placed is refused with EBUSY, and
 *    deferred storage is chosen within its reach.
 * In both, what the device copies by DMA is checked through the CPU's
 * mapping.  Run by tests/guest/run-iommu.sh with the modules loaded and the
 * demo importer's device 0 at 64 bits.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "lib/demo.h"
#include "lib/tap.h"
#include "kmod/dmabuf_test_edu.h"

#define EDU_MASK	((1ULL << 32) - 1)
#define EDU_DRIVER	"/sys/bus/pci/drivers/dmabuf_test_edu"
#define COPY_LEN	DMABUF_TEST_EDU_MAX_COPY
#define PAGE_SZ		4096ULL		/* amd64 */

static int translated;		/* the boot asked for a translating domain */

/* The iommu_group type of the device the edu driver is bound to. */
static int edu_group_type(char *out, size_t len)
{
	char path[512];
	struct dirent *e;
	DIR *d = opendir(EDU_DRIVER);
	int r = -ENODEV;
	FILE *f;

	if (!d)
		return -errno;
	while ((e = readdir(d))) {
		if (!strchr(e->d_name, ':'))
			continue;	/* not a PCI address */
		snprintf(path, sizeof(path), EDU_DRIVER "/%s/iommu_group/type",
			 e->d_name);
		f = fopen(path, "re");
		if (!f) {
			r = -errno;
			break;
		}
		r = fgets(out, len, f) ? 0 : -EIO;
		out[strcspn(out, "\n")] = 0;
		fclose(f);
		break;
	}
	closedir(d);
	return r;
}

static int edu_copy(int edu, int fd, uint64_t src, uint64_t dst,
		    struct dmabuf_test_edu_copy *c)
{
	*c = (struct dmabuf_test_edu_copy){ .fd = fd, .src_offset = src,
					    .dst_offset = dst,
					    .length = COPY_LEN };
	return ioctl(edu, DMABUF_TEST_EDU_IOCTL_COPY, c) ? -errno : 0;
}

/* The checks every successful copy gets. */
static void check_copied(const struct dmabuf_test_edu_copy *c,
			 const unsigned char *p, uint64_t src, uint64_t dst)
{
	CHECK(c->dma_mask == EDU_MASK, "device mask %#llx",
	      (unsigned long long)c->dma_mask);
	CHECK(c->src_dma + COPY_LEN - 1 <= EDU_MASK &&
	      c->dst_dma + COPY_LEN - 1 <= EDU_MASK,
	      "bus addresses %#llx, %#llx outside the device's mask",
	      (unsigned long long)c->src_dma, (unsigned long long)c->dst_dma);
	CHECK(c->largest_segment && c->largest_segment <= 64 * KiB,
	      "a DMA segment of %llu bytes, the device takes 64 KiB",
	      (unsigned long long)c->largest_segment);
	CHECK(!memcmp(p + dst, p + src, COPY_LEN),
	      "the device's copy at %#llx differs from the source at %#llx",
	      (unsigned long long)dst, (unsigned long long)src);
}

/* Where the caller has found the buffer's pages to be. */
enum where { WITHIN_MASK, BEYOND_MASK, ANYWHERE };

/*
 * Fill @src with a pattern and have the device copy it to @dst.  An
 * identity domain must refuse storage @where beyond the mask.  With @sync,
 * the CPU's accesses are bracketed with SYNC, as a foreign exporter's mmap
 * needs.
 */
static void copy_and_check(int edu, int fd, unsigned char *p, uint64_t src,
			   uint64_t dst, enum where where, int sync)
{
	struct dmabuf_test_edu_copy c;
	int r;

	if (sync)
		sync_buf(fd, DMABUF_CORE_SYNC_START | DMABUF_CORE_SYNC_WRITE);
	fill_pattern(p + src, COPY_LEN, 0xed0 + src, 0);
	memset(p + dst, 0, COPY_LEN);
	if (sync)
		sync_buf(fd, DMABUF_CORE_SYNC_END | DMABUF_CORE_SYNC_WRITE);
	r = edu_copy(edu, fd, src, dst, &c);
	if (sync)
		sync_buf(fd, DMABUF_CORE_SYNC_START | DMABUF_CORE_SYNC_READ);
	if (translated || where == WITHIN_MASK) {
		if (expect_rc("COPY", r, 0)) {
			check_copied(&c, p, src, dst);
			tg_note("bus addresses %#llx, %#llx",
				(unsigned long long)c.src_dma,
				(unsigned long long)c.dst_dma);
		}
	} else {
		if (expect_rc("COPY out of reach", r, EBUSY))
			tg_note("refused with EBUSY");
		CHECK(check_zero(p + dst, COPY_LEN, NULL) == 0,
		      "a refused copy wrote to the buffer");
	}
	if (sync)
		sync_buf(fd, DMABUF_CORE_SYNC_END | DMABUF_CORE_SYNC_READ);
}

int main(void)
{
	struct dmabuf_demo_exporter_stats e0, e1;
	struct dmabuf_demo_storage st = { 0 };
	struct dmabuf_demo_access acc;
	struct dmabuf_core_stats s0;
	int edu, imp, fd, heap;
	uint64_t mode = 0;
	char type[64] = "";
	size_t len;
	void *p;

	tap_init("t_iommu");
	expect_rc("STATS before", stats(&s0), 0);
	expect_rc("EXPORTER_STATS before", demo_exporter_stats(&e0), 0);
	tg_begin("the edu device is in the IOMMU domain this boot asked for");
	CHECK(harness_arg_u64("iommu_translated", &mode),
	      "no dmabuf_harness.iommu_translated= on the command line");
	translated = mode != 0;
	edu = open("/dev/dmabuf-test-edu", O_RDWR | O_CLOEXEC);
	CHECK(edu >= 0, "/dev/dmabuf-test-edu: %s", errstr(errno));
	if (expect_rc("iommu_group type", edu_group_type(type, sizeof(type)), 0)) {
		if (translated)
			CHECK(!strcmp(type, "DMA") || !strcmp(type, "DMA-FQ"),
			      "group type %s, not DMA", type);
		else
			CHECK(!strcmp(type, "identity"), "group type %s", type);
		tg_note("%s", type);
	}
	tg_end();
	if (edu < 0)
		return tap_finish();
	imp = importer_open(0);

	/*
	 * /dev/dmabuf allocates at ALLOC, from the top of memory: 64 MiB of a
	 * 6 GiB guest lies beyond 4 GiB.
	 */
	tg_begin("a /dev/dmabuf buffer beyond the device's mask is copied through the IOMMU, moved within it by an identity domain");
	len = 64 * MiB;
	fd = alloc_buf(len, O_RDWR | O_CLOEXEC);
	p = fd >= 0 ? mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0)
		    : MAP_FAILED;
	if (CHECK(p != MAP_FAILED, "buffer %d, mmap: %s", fd, errstr(errno)) &&
	    /* Importer 0 is direct, 64-bit: its bus addresses are physical. */
	    expect_rc("importer 0 READ", demo_access(imp, fd,
		      DMABUF_DEMO_ACCESS_READ, 0, &acc), 0) &&
	    CHECK(acc.lowest_dma > EDU_MASK,
		  "pages from %#llx, within the device's reach",
		  (unsigned long long)acc.lowest_dma)) {
		struct dmabuf_core_query q;

		/* The identity domain's first copy moves it (the bytes too). */
		copy_and_check(edu, fd, p, 0, 40 * MiB, WITHIN_MASK, 0);
		copy_and_check(edu, fd, p, len - COPY_LEN, 4 * MiB, WITHIN_MASK, 0);
		if (expect_rc("query", query(fd, &q), 0))
			CHECK_U64("moves", q.moves, translated ? 0 : 1);
		if (!translated &&
		    expect_rc("importer 0 READ after", demo_access(imp, fd,
			      DMABUF_DEMO_ACCESS_READ, 0, &acc), 0))
			CHECK(acc.highest_dma <= EDU_MASK, "moved storage ends at %#llx",
			      (unsigned long long)acc.highest_dma);
		munmap(p, len);
	}
	close_if_open(fd);
	tg_end();

	/* Storage placed by a 64-bit device first, then the edu device. */
	tg_begin("a demo buffer stored beyond the device's mask is copied through the IOMMU, refused by an identity domain");
	fd = demo_create(len, O_RDWR | O_CLOEXEC);
	p = MAP_FAILED;
	if (expect_rc("create", fd, 0) &&
	    expect_rc("importer 0 WRITE", demo_access(imp, fd,
		      DMABUF_DEMO_ACCESS_WRITE, 5, &acc), 0) &&
	    expect_rc("STORAGE", demo_storage(fd, &st), 0)) {
		CHECK(st.lowest_phys > EDU_MASK,
		      "storage starts at %#llx, within the device's reach",
		      (unsigned long long)st.lowest_phys);
		printf("# t_iommu: demo storage %#llx-%#llx\n",
			(unsigned long long)st.lowest_phys,
			(unsigned long long)st.highest_phys);
		p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	}
	if (fd >= 0 && CHECK(p != MAP_FAILED, "mmap: %s", errstr(errno))) {
		copy_and_check(edu, fd, p, 8 * MiB, 60 * MiB, BEYOND_MASK, 0);
		munmap(p, len);
	}
	close_if_open(fd);
	tg_end();

	/*
	 * The edu device maps first: the exporter chooses storage it reaches
	 * directly (what an identity domain needs; harmless when translated).
	 */
	tg_begin("a demo buffer the device maps first gets storage within its mask, copied by its DMA");
	len = 16 * MiB;
	fd = demo_create(len, O_RDWR | O_CLOEXEC);
	p = fd >= 0 ? mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0)
		    : MAP_FAILED;
	if (CHECK(p != MAP_FAILED, "buffer %d, mmap: %s", fd, errstr(errno))) {
		struct dmabuf_test_edu_copy c;

		/* Before any CPU touch: the copy's map allocates. */
		if (expect_rc("COPY", edu_copy(edu, fd, 0, len - COPY_LEN, &c), 0))
			CHECK(check_zero(p + len - COPY_LEN, COPY_LEN, NULL) == 0,
			      "a copy of fresh storage is not zero");
		if (expect_rc("STORAGE", demo_storage(fd, &st), 0))
			CHECK(st.allocated && st.highest_phys <= EDU_MASK,
			      "storage ends at %#llx, beyond the device's mask",
			      (unsigned long long)st.highest_phys);
		copy_and_check(edu, fd, p, 4 * MiB, 12 * MiB, WITHIN_MASK, 0);
		munmap(p, len);
	}
	close_if_open(fd);
	tg_end();

	/*
	 * A buffer of the kernel's own system heap (amd64 6.12 on; kernels
	 * without it skip): through a translating IOMMU the device reaches it
	 * wherever it is.  (With an identity domain the kernel bounces it:
	 * not ours to judge.)  The heap hands out its 1 MiB chunks as single
	 * segments whatever the device's maximum segment size (the DMA-API
	 * debug checks flag that): 48 KiB takes single pages only.
	 */
	heap = -1;
	if (translated) {
		struct dmabuf_core_alloc ha = { .len = 48 * KiB,
						.fd_flags = O_RDWR | O_CLOEXEC };

		tg_begin("a system-heap buffer is copied by the device's DMA through the IOMMU");
		heap = open("/dev/dma_heap/system", O_RDONLY | O_CLOEXEC);
		fd = -1;
		p = MAP_FAILED;
		if (heap < 0 && errno == ENOENT)
			tg_skip("no /dev/dma_heap/system on this kernel");
		else if (CHECK(heap >= 0, "open /dev/dma_heap/system: %s", errstr(errno)))
			fd = ioctl(heap, DMABUF_CORE_IOCTL_ALLOC, &ha) ? -errno : (int)ha.fd;
		len = ha.len;
		if (heap >= 0 && expect_rc("system heap ALLOC", fd, 0))
			p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		if (fd >= 0 && CHECK(p != MAP_FAILED, "mmap: %s", errstr(errno))) {
			copy_and_check(edu, fd, p, 0, 32 * KiB, ANYWHERE, 1);
			munmap(p, len);
		}
		close_if_open(fd);
		tg_end();
	}
	close_if_open(heap);

	close_if_open(imp);
	close(edu);
	expect_stats_baseline(&s0);
	tg_begin("exporter books balanced");
	if (expect_rc("EXPORTER_STATS after", demo_exporter_stats(&e1), 0)) {
		CHECK(e1.created - e0.created == e1.released - e0.released,
		      "created %llu, released %llu",
		      (unsigned long long)(e1.created - e0.created),
		      (unsigned long long)(e1.released - e0.released));
		CHECK(e1.attached - e0.attached == e1.detached - e0.detached,
		      "attached %llu, detached %llu",
		      (unsigned long long)(e1.attached - e0.attached),
		      (unsigned long long)(e1.detached - e0.detached));
		CHECK(e1.mapped - e0.mapped == e1.unmapped - e0.unmapped,
		      "mapped %llu, unmapped %llu",
		      (unsigned long long)(e1.mapped - e0.mapped),
		      (unsigned long long)(e1.unmapped - e0.unmapped));
	}
	tg_end();
	return tap_finish();
}
