// SPDX-License-Identifier: GPL-2.0-only
/*
 * t_nobounce: on a boot with swiotlb=force every direct DMA mapping would
 * go through a bounce buffer, a copy rather than the shared pages.
 * dmabuf-core refuses that: the demo importer, the demo exporter's
 * negotiation and vgem's PRIME import all get EBUSY, while CPU access
 * through mmap keeps working.  Run by tests/guest/run-nobounce.sh with the
 * demo modules and vgem loaded.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "lib/demo.h"
#include "lib/tap.h"
#include "lib/vgem.h"

/*
 * Does the command line force bouncing?  "swiotlb=force", or with a pool
 * size first ("swiotlb=65536,force": arm64 guests, whose kernel may have
 * no pool otherwise).
 */
static int swiotlb_forced(void)
{
	char line[4096] = "";
	FILE *f = fopen("/proc/cmdline", "re");
	char *p, *opt, *save;

	if (!f)
		return 0;
	if (!fgets(line, sizeof(line), f))
		line[0] = 0;
	fclose(f);
	for (p = strtok(line, " \n"); p; p = strtok(NULL, " \n")) {
		if (strncmp(p, "swiotlb=", 8))
			continue;
		for (opt = strtok_r(p + 8, ",", &save); opt; opt = strtok_r(NULL, ",", &save))
			if (!strcmp(opt, "force"))
				return 1;
	}
	return 0;
}

int main(void)
{
	struct dmabuf_core_stats s0;
	int imp, fd, d, vgem, heap, r;
	__u32 handle;
	void *p;

	tap_init("t_nobounce");
	expect_rc("STATS before", stats(&s0), 0);

	tg_begin("this boot forces bounce buffers (swiotlb=force)");
	CHECK(swiotlb_forced(), "no swiotlb=[N,]force on the command line");
	tg_end();

	imp = importer_open(0);
	fd = alloc_buf(MiB, O_RDWR | O_CLOEXEC);

	tg_begin("the demo importer is refused a /dev/dmabuf buffer with EBUSY, no copy");
	if (CHECK(imp >= 0 && fd >= 0, "importer %d, buffer %d", imp, fd)) {
		r = demo_attach(imp, fd);
		expect_rc("attach", r, EBUSY);
		if (!r)
			demo_detach(imp, fd);
	}
	tg_end();

	tg_begin("the demo exporter refuses the importer at attach with EBUSY");
	d = demo_create(MiB, O_RDWR | O_CLOEXEC);
	if (expect_rc("create", d, 0)) {
		r = demo_attach(imp, d);
		expect_rc("attach", r, EBUSY);
		if (!r)
			demo_detach(imp, d);
		close(d);
	}
	tg_end();

	tg_begin("vgem cannot PRIME-import a /dev/dmabuf buffer, EBUSY");
	vgem = vgem_open();
	if (CHECK(vgem >= 0, "vgem card: %s", errstr(-vgem)) && fd >= 0) {
		r = vgem_prime_import(vgem, fd, &handle);
		expect_rc("PRIME import", r, EBUSY);
		if (!r)
			vgem_gem_close(vgem, handle);
		close(vgem);
	}
	tg_end();

	/*
	 * A foreign buffer is the kernel's to bounce: what the importer (the
	 * device) writes must reach the buffer, and what it reads must be
	 * what the CPU wrote (regression: the importer synced the bounce
	 * buffer back from the CPU's copy after writing it).  The system
	 * heap's maps sync (vgem's skip it); 192 KiB is three 64 KiB chunks,
	 * segments swiotlb can take.  Kernels without the heap (6.1 and
	 * every arm64 one) say so with a skip.
	 */
	tg_begin("an importer's writes to a bounced system-heap buffer reach the CPU, its reads see the CPU's");
	heap = open("/dev/dma_heap/system", O_RDONLY | O_CLOEXEC);
	if (heap < 0 && errno == ENOENT) {
		tg_skip("no /dev/dma_heap/system on this kernel");
	} else if (CHECK(heap >= 0, "open /dev/dma_heap/system: %s", errstr(errno))) {
		struct dmabuf_core_alloc ha = { .len = 192 * KiB,
						.fd_flags = O_RDWR | O_CLOEXEC };
		struct dmabuf_demo_access acc;
		size_t len = 192 * KiB;

		d = ioctl(heap, DMABUF_CORE_IOCTL_ALLOC, &ha) ? -errno : (int)ha.fd;
		p = MAP_FAILED;
		if (expect_rc("system heap ALLOC", d, 0))
			p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, d, 0);
		if (d >= 0 && CHECK(p != MAP_FAILED, "mmap: %s", errstr(errno))) {
			if (expect_rc("ACCESS WRITE", demo_access(imp, d,
				      DMABUF_DEMO_ACCESS_WRITE, 0x5eed, &acc), 0)) {
				CHECK(acc.bounced > 0, "the mapping did not bounce");
				CHECK(demo_checksum(p, len) == demo_expected_checksum(len, 0x5eed),
				      "the CPU does not see the importer's pattern");
			}
			fill_pattern(p, len, 11, 0);
			if (expect_rc("ACCESS READ", demo_access(imp, d,
				      DMABUF_DEMO_ACCESS_READ, 0, &acc), 0))
				CHECK(acc.checksum == demo_checksum(p, len),
				      "the importer does not see the CPU's pattern");
			munmap(p, len);
		}
		if (d >= 0)
			close(d);
		close(heap);
	}
	tg_end();

	tg_begin("CPU access through mmap still works");
	p = fd >= 0 ? mmap(NULL, MiB, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0) : MAP_FAILED;
	if (CHECK(p != MAP_FAILED, "mmap: %s", errstr(errno))) {
		fill_pattern(p, MiB, 7, 0);
		CHECK(check_pattern(p, MiB, 7, 0, NULL) == 0, "pattern lost");
		munmap(p, MiB);
	}
	tg_end();

	if (fd >= 0)
		close(fd);
	if (imp >= 0)
		close(imp);
	expect_stats_baseline(&s0);
	return tap_finish();
}
