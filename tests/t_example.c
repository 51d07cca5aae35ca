// SPDX-License-Identifier: GPL-2.0-only
/*
 * The example third-party driver (examples/dmabuf-example), built outside
 * our tree against the installed layout, sharing buffers with our modules
 * and the kernel's: its exports reach the demo importers intact, it
 * imports /dev/dmabuf, demo and vgem buffers, a buffer of its own pins it,
 * and bad input gets clear errnos.  Expects dmabuf_example, the demo
 * modules (importer1: 32-bit, 64 KiB segments) and vgem loaded; with
 * --without-vgem (the DKMS guest, which has no stock drivers) the vgem
 * group is left out.
 */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "lib/tap.h"
#include "lib/demo.h"
#include "lib/vgem.h"
#include "../examples/dmabuf-example/include/uapi/linux/dmabuf_example.h"

#define EXAMPLE_DEV	"/dev/dmabuf-example"
#define EXAMPLE_REFCNT	"/sys/module/dmabuf_example/refcnt"
#define EXAMPLE_MAX	"/sys/module/dmabuf_example/parameters/max_size_mb"
#define FOUR_GIB	(4 * GiB)

static int example = -1;

/* EXPORT: fd or -errno. */
static int ex_export(uint64_t size, uint32_t seed)
{
	struct dmabuf_example_export e = { .size = size, .seed = seed };

	if (ioctl(example, DMABUF_EXAMPLE_IOCTL_EXPORT, &e))
		return -errno;
	return e.fd;
}

/* IMPORT: 0 or -errno. */
static int ex_import(int fd, struct dmabuf_example_import *out)
{
	memset(out, 0, sizeof(*out));
	out->fd = fd;
	return ioctl(example, DMABUF_EXAMPLE_IOCTL_IMPORT, out) ? -errno : 0;
}

static void t_exports_reach_importers(void)
{
	const uint64_t size = 1 * MiB;
	const uint32_t seed = 0x5eed0001;
	struct dmabuf_demo_access a;
	struct dmabuf_core_query q;
	long long pins;
	unsigned int i;
	int fd, imp;

	tg_begin("the example's buffer reaches both demo importers intact, unbounced");
	pins = read_param_ll(EXAMPLE_REFCNT);	/* our open node holds one */
	fd = ex_export(size, seed);
	if (!expect_rc("export", fd, 0)) {
		tg_end();
		return;
	}
	if (expect_rc("query", query(fd, &q), 0)) {
		CHECK(!strcmp(q.exporter, "dmabuf_example"), "exporter '%s'", q.exporter);
		CHECK_U64("size", q.size, size);
		CHECK_U64("foreign", q.info & DMABUF_CORE_QUERY_FOREIGN, 0);
	}
	for (i = 0; i < 2; i++) {
		imp = importer_open(i);
		if (!expect_rc("open importer", imp, 0))
			continue;
		if (expect_rc("read", demo_access(imp, fd, DMABUF_DEMO_ACCESS_READ, 0, &a), 0)) {
			CHECK(a.checksum == demo_expected_checksum(size, seed),
			      "importer%u checksum %llx", i, (unsigned long long)a.checksum);
			CHECK_U64("bounced segments", a.bounced, 0);
			CHECK_U64("bytes", a.bytes, size);
			/* The example's storage is below 4 GiB: importer1 is 32-bit. */
			CHECK(a.highest_dma < FOUR_GIB, "importer%u highest dma %llx", i,
			      (unsigned long long)a.highest_dma);
		}
		close(imp);
	}
	CHECK(read_param_ll(EXAMPLE_REFCNT) == pins + 1,
	      "a live buffer should hold one reference to dmabuf_example: refcnt %lld, %lld before",
	      read_param_ll(EXAMPLE_REFCNT), pins);
	close(fd);
	CHECK(read_param_ll(EXAMPLE_REFCNT) == pins, "refcnt %lld after the close, %lld before",
	      read_param_ll(EXAMPLE_REFCNT), pins);
	tg_end();
}

/* Importer0 (64-bit, no IOMMU: DMA address = physical): last byte, or 0. */
static uint64_t highest_phys(int imp, int fd)
{
	struct dmabuf_demo_access a;

	if (!expect_rc("importer0 read", demo_access(imp, fd, DMABUF_DEMO_ACCESS_READ, 0, &a), 0))
		return 0;
	return a.highest_dma;
}

static void t_imports_dmabuf(void)
{
	const uint64_t size = 256 * KiB;
	struct dmabuf_example_import im;
	struct ballast b = { .n = 0, .saved_cap = -1 };
	int fd, imp;
	void *p;

	/*
	 * /dev/dmabuf takes pages anywhere: where they lie above 4 GiB, the
	 * example's 32-bit device moves them below (never a bounce buffer),
	 * bytes and all.  In the 6 GiB guest a fresh buffer lands there.
	 */
	tg_begin("the example's 32-bit device moves a /dev/dmabuf buffer below 4 GiB");
	imp = importer_open(0);
	if (!expect_rc("open importer0", imp, 0)) {
		tg_end();
		return;
	}
	fd = alloc_buf(size, O_RDWR | O_CLOEXEC);
	p = MAP_FAILED;
	if (expect_rc("alloc", fd, 0))
		p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (fd >= 0 && CHECK(p != MAP_FAILED, "mmap: %s", errstr(errno))) {
		struct dmabuf_core_query q;
		uint64_t top = highest_phys(imp, fd);

		fill_pattern(p, size, 0xe8a2, 0);
		if (CHECK(top >= FOUR_GIB, "a fresh buffer ends at %#llx, below 4 GiB",
			  (unsigned long long)top) &&
		    expect_rc("import of pages above 4 GiB", ex_import(fd, &im), 0)) {
			CHECK(im.checksum == demo_checksum(p, size), "checksum %llx, want %llx",
			      (unsigned long long)im.checksum,
			      (unsigned long long)demo_checksum(p, size));
			if (expect_rc("query", query(fd, &q), 0))
				CHECK_U64("moves", q.moves, 1);
			top = highest_phys(imp, fd);
			CHECK(top < FOUR_GIB, "after the move the buffer ends at %#llx",
			      (unsigned long long)top);
		}
		munmap(p, size);
	}
	if (fd >= 0)
		close(fd);
	tg_end();

	/* The same buffer below 4 GiB: the memory above is taken first. */
	tg_begin("the example imports a /dev/dmabuf buffer and reads what was written");
	fd = alloc_below_4g(size, imp, &b);
	if (fd == -ENOMEM && harness_slab_quarantine()) {
		/*
		 * The debug kernel (KASAN's shadow and quarantine) keeps
		 * giving the zone above 4 GiB pages back while the ballast
		 * takes it: memory ran out first.  The list allows the skip
		 * there only; every stock kernel must run this.
		 */
		tg_skip("memory ran out before a buffer landed below 4 GiB (%d buffers taken)", b.n);
		goto out;
	}
	if (!expect_rc("alloc below 4 GiB", fd, 0))
		goto out;
	p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (CHECK(p != MAP_FAILED, "mmap: %s", errstr(errno))) {
		fill_pattern(p, size, 0xe8a3, 0);
		if (expect_rc("import", ex_import(fd, &im), 0)) {
			CHECK(im.checksum == demo_checksum(p, size), "checksum %llx, want %llx",
			      (unsigned long long)im.checksum,
			      (unsigned long long)demo_checksum(p, size));
			CHECK_U64("bytes mapped", im.bytes, size);
			CHECK(im.segments >= 1, "segments %u", im.segments);
			CHECK_U64("foreign", im.foreign, 0);
		}
		munmap(p, size);
	}
	close(fd);
	tg_note("below 4 GiB after %d buffers took the memory above", b.n);
out:
	ballast_release(&b);
	close(imp);
	tg_end();
}

static void t_imports_deferred(void)
{
	const uint64_t size = 1 * MiB;
	struct dmabuf_example_import im;
	struct dmabuf_demo_pattern ver;
	struct dmabuf_demo_storage st;
	int fd;

	tg_begin("the example's 32-bit device takes part in the demo exporter's negotiation");
	fd = demo_create(size, O_RDWR | O_CLOEXEC);
	if (!expect_rc("create", fd, 0)) {
		tg_end();
		return;
	}
	if (expect_rc("import", ex_import(fd, &im), 0)) {
		CHECK(im.checksum == demo_zero_checksum(size), "checksum %llx",
		      (unsigned long long)im.checksum);
		CHECK_U64("bytes mapped", im.bytes, size);
	}
	if (expect_rc("storage", demo_storage(fd, &st), 0)) {
		CHECK_U64("allocated at the example's map", st.allocated, 1);
		CHECK_U64("dma limit", st.dma_limit, FOUR_GIB - 1);
		CHECK_U64("devices taken into account", st.devices, 1);
		CHECK(st.highest_phys < FOUR_GIB || st.highest_phys == 0,
		      "highest phys %llx", (unsigned long long)st.highest_phys);
	}
	expect_rc("fill", demo_fill(fd, 77, &ver), 0);
	if (expect_rc("import after fill", ex_import(fd, &im), 0))
		CHECK(im.checksum == demo_expected_checksum(size, 77), "checksum %llx",
		      (unsigned long long)im.checksum);
	close(fd);
	tg_end();
}

static void t_imports_vgem(void)
{
	const uint64_t size = 64 * KiB;
	struct t_drm_create_dumb dumb = { .height = 16, .width = 1024, .bpp = 32 };
	struct dmabuf_example_import im;
	int vgem, fd = -1;

	tg_begin("the example imports a foreign dma-buf, vgem's");
	vgem = vgem_open();
	if (!expect_rc("open vgem", vgem, 0)) {
		tg_end();
		return;
	}
	if (CHECK(ioctl(vgem, T_DRM_IOCTL_MODE_CREATE_DUMB, &dumb) == 0,
		  "create dumb: %s", errstr(errno))) {
		CHECK_U64("dumb size", dumb.size, size);
		fd = vgem_prime_export(vgem, dumb.handle);
		if (expect_rc("prime export", fd, 0) &&
		    expect_rc("import", ex_import(fd, &im), 0)) {
			CHECK(im.checksum == demo_zero_checksum(size), "checksum %llx",
			      (unsigned long long)im.checksum);
			CHECK_U64("bytes mapped", im.bytes, size);
			CHECK_U64("foreign", im.foreign, 1);
		}
		close_if_open(fd);
		vgem_gem_close(vgem, dumb.handle);
	}
	close(vgem);
	tg_end();
}

static void t_bad_input(void)
{
	struct dmabuf_example_export e;
	struct dmabuf_example_import im;
	long long max_mb = read_param_ll(EXAMPLE_MAX);
	int closed, devnull;

	tg_begin("bad input gets a clear errno");
	expect_rc("export size 0", ex_export(0, 1), EINVAL);
	expect_rc("export unaligned size", ex_export(page_size + 1, 1), EINVAL);
	if (CHECK(max_mb > 0, "max_size_mb: %lld", max_mb))
		expect_rc("export above max_size_mb",
			  ex_export((uint64_t)(max_mb + 1) * MiB, 1), E2BIG);
	expect_rc("export 2^64 - page", ex_export(-(uint64_t)page_size, 1), E2BIG);
	memset(&e, 0, sizeof(e));
	e.size = page_size;
	e.flags = 1;
	EXPECT_ERRNO(ioctl(example, DMABUF_EXAMPLE_IOCTL_EXPORT, &e), EINVAL);
	e.flags = 0;
	e.reserved = 1;
	EXPECT_ERRNO(ioctl(example, DMABUF_EXAMPLE_IOCTL_EXPORT, &e), EINVAL);
	e.reserved = 0;
	e.fd = 3;
	EXPECT_ERRNO(ioctl(example, DMABUF_EXAMPLE_IOCTL_EXPORT, &e), EINVAL);
	EXPECT_ERRNO(ioctl(example, DMABUF_EXAMPLE_IOCTL_EXPORT, NULL), EFAULT);

	expect_rc("import fd -1", ex_import(-1, &im), EBADF);
	closed = alloc_buf(page_size, O_RDWR);
	if (expect_rc("alloc", closed, 0)) {
		close(closed);
		expect_rc("import a closed fd", ex_import(closed, &im), EBADF);
	}
	devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (expect_rc("open /dev/null", devnull, 0)) {
		expect_rc("import /dev/null", ex_import(devnull, &im), EINVAL);
		close(devnull);
	}
	memset(&im, 0, sizeof(im));
	im.fd = -1;
	im.reserved[1] = 1;
	EXPECT_ERRNO(ioctl(example, DMABUF_EXAMPLE_IOCTL_IMPORT, &im), EINVAL);
	EXPECT_ERRNO(ioctl(example, DMABUF_EXAMPLE_IOCTL_IMPORT, NULL), EFAULT);
	expect_enotty(example, _IOWR(DMABUF_EXAMPLE_IOC_MAGIC, 0x02, struct dmabuf_example_import),
		      "unknown ioctl 0x02");
	expect_enotty(example, _IOW(DMABUF_EXAMPLE_IOC_MAGIC, 0x00, __u64),
		      "EXPORT with another size");
	tg_end();
}

int main(int argc, char **argv)
{
	struct dmabuf_core_stats before;
	int with_vgem = !(argc > 1 && !strcmp(argv[1], "--without-vgem"));

	tap_init("t_example");
	tg_begin("/dev/dmabuf-example opens");
	example = open(EXAMPLE_DEV, O_RDWR | O_CLOEXEC);
	CHECK(example >= 0, "open %s: %s", EXAMPLE_DEV, errstr(errno));
	expect_rc("stats", stats(&before), 0);
	tg_end();
	if (example < 0)
		return tap_finish();

	t_exports_reach_importers();
	t_imports_dmabuf();
	t_imports_deferred();
	if (with_vgem)
		t_imports_vgem();
	t_bad_input();

	close(example);
	exporter_close();
	tg_begin("after the example's tests, no buffer is left and nothing pins it");
	CHECK_U64("dmabuf_example refcnt", read_param_ll(EXAMPLE_REFCNT), 0);
	tg_end();
	expect_stats_baseline(&before);
	return tap_finish();
}
