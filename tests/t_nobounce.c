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
#include <sys/mman.h>
#include <unistd.h>

#include "lib/demo.h"
#include "lib/tap.h"
#include "lib/vgem.h"

static int cmdline_has(const char *word)
{
	char line[4096] = "";
	FILE *f = fopen("/proc/cmdline", "re");
	char *p;

	if (!f)
		return 0;
	if (!fgets(line, sizeof(line), f))
		line[0] = 0;
	fclose(f);
	for (p = strtok(line, " \n"); p; p = strtok(NULL, " \n"))
		if (!strcmp(p, word))
			return 1;
	return 0;
}

int main(void)
{
	struct dmabuf_core_stats s0;
	int imp, fd, d, vgem, r;
	__u32 handle;
	void *p;

	tap_init("t_nobounce");
	expect_rc("STATS before", stats(&s0), 0);

	tg_begin("this boot forces bounce buffers (swiotlb=force)");
	CHECK(cmdline_has("swiotlb=force"), "no swiotlb=force on the command line");
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
