// SPDX-License-Identifier: GPL-2.0-only
/*
 * Cache maintenance on the sync paths, per access path.
 *
 * On Debian's arm64 kernels the demo importer (a platform device no driver
 * configured) is not DMA-coherent: the DMA API cleans the CPU caches
 * before the device reads (arch_sync_dma_for_device()) and invalidates
 * them before the CPU reads what the device wrote (arch_sync_dma_for_cpu()).
 * QEMU's TCG has no caches, so a missing sync never corrupts data here;
 * what shows is whether those functions run.  Kprobe events on both count
 * the calls this program causes (its own pid), with the size and the
 * direction of each, for:
 *
 * - the importer's ACCESS WRITE and READ (map for the device, touch,
 *   unmap), of a /dev/dmabuf buffer and of a demo exporter buffer;
 * - mmap with DMA_BUF_IOCTL_SYNC brackets, once with no device mapping
 *   (nothing to maintain) and once while the importer keeps a mapping
 *   (ATTACH with DMABUF_DEMO_ATTACH_MAP);
 * - the demo exporter's FILL, a kernel CPU write through the linear map,
 *   while the importer keeps a mapping.
 *
 * No kernel vmap path is reachable through the demo devices: the importer
 * reads through DMA addresses and the exporter's FILL/VERIFY through the
 * pages; dma_buf_vmap() users are kernel drivers (vivid, t_vivid).
 *
 * Every path also checks the data: the checksums the importer's ACCESS
 * READ/WRITE report against what the CPU wrote or reads through mmap.
 * On amd64 every device is coherent and the two functions do not exist
 * (the DMA API's stubs are empty inlines): one group checks that, the
 * data groups run as on arm64.  The importer's DEVICE_INFO says which
 * case its device is, on both.  Expects the demo modules loaded as
 * t_demo does; run as root.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>
#include <dmabuf_demo_pattern.h>

#include "lib/tap.h"
#include "lib/demo.h"

#define PROG		"t_coherence"
#define KPROBE_EVENTS	TRACEFS "/kprobe_events"
#define BUF_SIZE	(1 * MiB + 68 * KiB)	/* chunks of 1 MiB, 64 KiB, 4 KiB */

/* enum dma_data_direction */
#define DIR_BIDI	0
#define DIR_TO_DEV	1
#define DIR_FROM_DEV	2
#define NR_DIRS		4

#if defined(__aarch64__)
#define NONCOHERENT	1
#else
#define NONCOHERENT	0
#endif

/*
 * The two arm64 functions every dma-direct sync of a non-coherent device
 * goes through, singles and tables, map and unmap alike: probed on 6.1,
 * 6.12 and 7.3.  dma-direct calls arch_sync_dma_for_cpu() in every
 * direction (arm64's returns at once for DMA_TO_DEVICE): the direction
 * is recorded, and a CPU-side call counts as an invalidation only when
 * the device may have written.
 */
enum { DEV, CPU, NR_SIDES };
static const char *const probe_event[NR_SIDES] = { "dcore_sync_dev", "dcore_sync_cpu" };
static const char *const probe_symbol[NR_SIDES] = {
	"arch_sync_dma_for_device", "arch_sync_dma_for_cpu",
};

struct tally {
	unsigned int calls[NR_SIDES];
	uint64_t bytes[NR_SIDES][NR_DIRS];
	unsigned int outside;	/* calls on memory outside the buffer */
	unsigned int other;	/* lines of ours that did not parse */
};

/*
 * The buffer's physical range, [lo, hi], as the importer's ACCESS reports
 * it to root (DMA addresses are physical for the demo's devices): every
 * maintained range must lie in it.  hi 0: not known yet.
 */
static uint64_t buf_lo, buf_hi;

static int probes_placed;
/* Calls expected on each side of the next expect_maint() (0: any number). */
static unsigned int want_calls;

/* Append @line to kprobe_events (O_APPEND: the other probes stay). */
static int kprobe_write(const char *line)
{
	int fd = open(KPROBE_EVENTS, O_WRONLY | O_APPEND | O_CLOEXEC);
	ssize_t n;
	int err;

	if (fd < 0)
		return -errno;
	n = write(fd, line, strlen(line));
	err = errno;
	close(fd);
	return n < 0 ? -err : 0;
}

static int probe_enable(int side, int on)
{
	char path[128];

	snprintf(path, sizeof(path), TRACEFS "/events/kprobes/%s/enable",
		 probe_event[side]);
	return write_file(path, on ? "1" : "0");
}

/*
 * Disable and delete both probes, whether or not they exist: at the
 * start (a previous run that died), at exit and from the crash hook.
 * open/write/close only, so the crash hook may call it.
 */
static void probes_remove(void)
{
	char line[64];
	int side;

	for (side = 0; side < NR_SIDES; side++) {
		probe_enable(side, 0);
		snprintf(line, sizeof(line), "-:%s\n", probe_event[side]);
		kprobe_write(line);
	}
	probes_placed = 0;
}

static void crash_remove(int sig)
{
	(void)sig;
	probes_remove();
}

/* Both probes placed and enabled: 0, or -errno with the symbol in @why. */
static int probes_add(char *why, size_t len)
{
	char line[160];
	int side, ret;

	probes_remove();
	for (side = 0; side < NR_SIDES; side++) {
		snprintf(line, sizeof(line),
			 "p:%s %s addr=$arg1:x64 size=$arg2:u64 dir=$arg3:u32\n",
			 probe_event[side], probe_symbol[side]);
		ret = kprobe_write(line);
		if (!ret)
			ret = probe_enable(side, 1);
		if (ret) {
			snprintf(why, len, "%s: %s", probe_symbol[side], errstr(-ret));
			probes_remove();
			return ret;
		}
	}
	probes_placed = 1;
	return 0;
}

/* Opening the trace file with O_TRUNC empties the buffer. */
static int trace_reset(void)
{
	int fd = open(TRACEFS "/trace", O_WRONLY | O_TRUNC | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	close(fd);
	return 0;
}

/* The calls of this process since trace_reset(). */
static int trace_count(struct tally *t)
{
	char line[512], me[32];
	FILE *f;

	memset(t, 0, sizeof(*t));
	f = fopen(TRACEFS "/trace", "r");
	if (!f)
		return -errno;
	snprintf(me, sizeof(me), "-%d ", (int)getpid());
	while (fgets(line, sizeof(line), f)) {
		char *bracket = strchr(line, '['), *p, *ev, *a;
		unsigned long long addr, size, dir;
		int side;

		if (line[0] == '#' || !bracket)
			continue;
		p = strstr(line, me);
		if (!p || p > bracket)
			continue;	/* another task's */
		for (side = 0; side < NR_SIDES; side++) {
			char key[40];

			snprintf(key, sizeof(key), ": %s: ", probe_event[side]);
			ev = strstr(line, key);
			if (ev)
				break;
		}
		if (side == NR_SIDES)
			continue;
		a = strstr(ev, " addr=");
		p = a ? strstr(a, " size=") : NULL;
		ev = p ? strstr(p, " dir=") : NULL;
		if (!ev) {
			t->other++;
			continue;
		}
		addr = strtoull(a + 6, NULL, 0);
		size = strtoull(p + 6, NULL, 0);
		dir = strtoull(ev + 5, NULL, 0);
		if (dir >= NR_DIRS || !size) {
			t->other++;
			continue;
		}
		t->calls[side]++;
		t->bytes[side][dir] += size;
		if (buf_hi && (addr < buf_lo || addr + size - 1 > buf_hi))
			t->outside++;
	}
	fclose(f);
	return 0;
}

static uint64_t side_bytes(const struct tally *t, int side)
{
	return t->bytes[side][0] + t->bytes[side][1] + t->bytes[side][2] +
	       t->bytes[side][3];
}

/* "dev 3 calls 1048576 B (bidi), cpu 3 calls 1048576 B (bidi)" */
static const char *tally_str(const struct tally *t, char *buf, size_t len)
{
	static const char *const dn[NR_DIRS] = { "bidi", "to-dev", "from-dev", "none" };
	size_t off = 0;
	int side, d;

	buf[0] = 0;
	for (side = 0; side < NR_SIDES; side++) {
		off += snprintf(buf + off, len - off, "%s%s %u calls",
				side ? ", " : "", side == DEV ? "dev" : "cpu",
				t->calls[side]);
		for (d = 0; d < NR_DIRS && off < len; d++)
			if (t->bytes[side][d])
				off += snprintf(buf + off, len - off, " %llu B %s",
						(unsigned long long)t->bytes[side][d],
						dn[d]);
		if (off >= len)
			break;
	}
	return buf;
}

/*
 * The maintenance on @side: exactly @bytes in direction @dir (0 bytes:
 * no call at all), nothing in any other direction.  @what names the step.
 */
static void expect_side(const char *what, const struct tally *t, int side,
			int dir, uint64_t bytes)
{
	const char *name = side == DEV ? "for the device" : "for the CPU";

	if (!bytes) {
		CHECK(!t->calls[side], "%s: %u calls %s, expected none", what,
		      t->calls[side], name);
		return;
	}
	CHECK(t->bytes[side][dir] == bytes && side_bytes(t, side) == bytes,
	      "%s: %llu bytes %s in direction %d (of %llu in all), expected %llu",
	      what, (unsigned long long)t->bytes[side][dir], name, dir,
	      (unsigned long long)side_bytes(t, side), (unsigned long long)bytes);
}

/* The maintenance of one step, after trace_reset() and the step. */
static void expect_maint(const char *what, int dev_dir, uint64_t dev_bytes,
			 int cpu_dir, uint64_t cpu_bytes, char *note, size_t len)
{
	struct tally t;
	char buf[192];
	int ret;

	if (!NONCOHERENT)
		return;
	if (!CHECK(probes_placed, "%s: no probes", what))
		return;
	ret = trace_count(&t);
	if (!CHECK(!ret, "%s: reading the trace: %s", what, errstr(-ret)))
		return;
	CHECK(!t.other, "%s: %u probe lines did not parse", what, t.other);
	CHECK(!t.outside, "%s: %u calls on memory outside the buffer [%#llx, %#llx]",
	      what, t.outside, (unsigned long long)buf_lo, (unsigned long long)buf_hi);
	expect_side(what, &t, DEV, dev_dir, dev_bytes);
	expect_side(what, &t, CPU, cpu_dir, cpu_bytes);
	/* One call per DMA segment of the table. */
	if (want_calls) {
		CHECK(t.calls[DEV] == want_calls && t.calls[CPU] == want_calls,
		      "%s: %u and %u calls, expected one per segment, %u", what,
		      t.calls[DEV], t.calls[CPU], want_calls);
		want_calls = 0;
	}
	if (note) {
		size_t off = strlen(note);

		snprintf(note + off, len - off, "%s%s: %s", off ? "; " : "", what,
			 tally_str(&t, buf, sizeof(buf)));
	}
}

static void begin_step(void)
{
	if (NONCOHERENT && probes_placed)
		trace_reset();
}

/* The demo pattern for @seed written through the CPU mapping (little-endian CPUs). */
static void cpu_fill(void *p, size_t size, uint32_t seed)
{
	uint32_t *w = p;
	size_t i;

	for (i = 0; i < size / sizeof(*w); i++)
		w[i] = dmabuf_demo_pattern_word(seed, i);
}

/* ------------------------------------------------------------------ */

static int imp = -1;

struct kind {
	const char *name;
	int (*make)(void);
	int demo;	/* a demo exporter buffer: FILL applies */
};

static int make_system(void)
{
	return alloc_buf(BUF_SIZE, O_RDWR | O_CLOEXEC);
}

static int make_demo(void)
{
	return demo_create(BUF_SIZE, O_RDWR | O_CLOEXEC);
}

static const struct kind kinds[] = {
	{ "/dev/dmabuf buffer", make_system, 0 },
	{ "demo buffer", make_demo, 1 },
};

/*
 * Group "<kind>, <path>", followed on arm64 by "; <claim>", the cache
 * maintenance it checks: amd64 runs the same paths for their data only,
 * under names of their own.
 */
static void group(const struct kind *k, const char *path, const char *claim)
{
	char name[256];

	snprintf(name, sizeof(name), "%s, %s%s%s", k->name, path,
		 NONCOHERENT && claim ? "; " : "", NONCOHERENT && claim ? claim : "");
	tg_begin(name);
}

/*
 * The importer's ACCESS, no mapping held: WRITE maps DMA_BIDIRECTIONAL
 * (clean for the device at map, invalidate for the CPU at unmap), then the
 * CPU reads through mmap between SYNC brackets, which find no device
 * mapping and do no maintenance; then the CPU writes, and ACCESS READ
 * maps DMA_TO_DEVICE: clean at map, nothing to invalidate at unmap.
 */
static void t_access(const struct kind *k, int fd, void *map)
{
	struct dmabuf_demo_access acc;
	char note[512] = "";
	int ret;

	group(k, "importer ACCESS WRITE writes the pattern",
	      "cleaned for the device at map, invalidated for the CPU at unmap");
	begin_step();
	ret = demo_access(imp, fd, DMABUF_DEMO_ACCESS_WRITE, 0x5eed0001, &acc);
	if (expect_rc("ACCESS WRITE", ret, 0)) {
		/* The storage stays where it is from here on. */
		buf_lo = acc.lowest_dma;
		buf_hi = acc.highest_dma;
		CHECK(acc.checksum == demo_expected_checksum(BUF_SIZE, 0x5eed0001),
		      "device wrote checksum %#llx", (unsigned long long)acc.checksum);
		want_calls = acc.segments;
		expect_maint("ACCESS WRITE", DIR_BIDI, BUF_SIZE, DIR_BIDI, BUF_SIZE,
			     note, sizeof(note));
		tg_note("%u segments%s%s", acc.segments, note[0] ? "; " : "", note);
	}
	tg_end();

	group(k, "mmap read between SYNC brackets sees the device's write",
	      "no device mapping, no maintenance");
	note[0] = 0;
	begin_step();
	expect_rc("SYNC START|READ", sync_buf(fd, DMABUF_CORE_SYNC_START | DMABUF_CORE_SYNC_READ), 0);
	expect_maint("SYNC START", 0, 0, 0, 0, note, sizeof(note));
	CHECK(demo_checksum(map, BUF_SIZE) == demo_expected_checksum(BUF_SIZE, 0x5eed0001),
	      "the CPU reads checksum %#llx", (unsigned long long)demo_checksum(map, BUF_SIZE));
	begin_step();
	expect_rc("SYNC END|READ", sync_buf(fd, DMABUF_CORE_SYNC_END | DMABUF_CORE_SYNC_READ), 0);
	expect_maint("SYNC END", 0, 0, 0, 0, note, sizeof(note));
	tg_end();

	group(k, "importer ACCESS READ sees an mmap write",
	      "cleaned for the device at map, nothing invalidated");
	note[0] = 0;
	expect_rc("SYNC START|WRITE", sync_buf(fd, DMABUF_CORE_SYNC_START | DMABUF_CORE_SYNC_WRITE), 0);
	cpu_fill(map, BUF_SIZE, 0x5eed0002);
	expect_rc("SYNC END|WRITE", sync_buf(fd, DMABUF_CORE_SYNC_END | DMABUF_CORE_SYNC_WRITE), 0);
	begin_step();
	ret = demo_access(imp, fd, DMABUF_DEMO_ACCESS_READ, 0, &acc);
	if (expect_rc("ACCESS READ", ret, 0)) {
		CHECK(acc.checksum == demo_expected_checksum(BUF_SIZE, 0x5eed0002),
		      "device read checksum %#llx", (unsigned long long)acc.checksum);
		/*
		 * dma-direct calls the CPU side for DMA_TO_DEVICE too, and
		 * arm64 returns at once: every byte in that direction, none
		 * in one that invalidates.
		 */
		want_calls = acc.segments;
		expect_maint("ACCESS READ", DIR_TO_DEV, BUF_SIZE, DIR_TO_DEV, BUF_SIZE,
			     note, sizeof(note));
		tg_note("%u segments%s%s", acc.segments, note[0] ? "; " : "", note);
	}
	tg_end();
}

/*
 * The importer keeps a DMA_BIDIRECTIONAL mapping (ATTACH_MAP): SYNC START
 * hands it to the CPU (invalidate), SYNC END back to the device (clean),
 * whatever the bracket's own direction; the device's accesses meanwhile
 * see what the CPU wrote and the CPU what they wrote.  A demo buffer's
 * FILL, a kernel CPU write, brackets itself the same way.  DETACH unmaps.
 */
static void t_held(const struct kind *k, int fd, void *map)
{
	struct dmabuf_demo_attach req = { .fd = fd, .flags = DMABUF_DEMO_ATTACH_MAP };
	struct dmabuf_demo_access acc;
	char note[768] = "";
	int ret;

	group(k, "ATTACH_MAP keeps a mapping", "cleaned for the device once");
	begin_step();
	ret = ioctl(imp, DMABUF_DEMO_IOCTL_ATTACH, &req) ? -errno : 0;
	if (!expect_rc("ATTACH_MAP", ret, 0)) {
		tg_end();
		return;
	}
	expect_maint("ATTACH_MAP", DIR_BIDI, BUF_SIZE, 0, 0, note, sizeof(note));
	tg_note("%s", note);
	tg_end();

	group(k, "mmap write between SYNC brackets with a mapping held reaches the device",
	      "invalidated at START, cleaned at END");
	note[0] = 0;
	begin_step();
	expect_rc("SYNC START|WRITE", sync_buf(fd, DMABUF_CORE_SYNC_START | DMABUF_CORE_SYNC_WRITE), 0);
	expect_maint("SYNC START|WRITE", 0, 0, DIR_BIDI, BUF_SIZE, note, sizeof(note));
	cpu_fill(map, BUF_SIZE, 0x5eed0003);
	begin_step();
	expect_rc("SYNC END|WRITE", sync_buf(fd, DMABUF_CORE_SYNC_END | DMABUF_CORE_SYNC_WRITE), 0);
	expect_maint("SYNC END|WRITE", DIR_BIDI, BUF_SIZE, 0, 0, note, sizeof(note));
	ret = demo_access(imp, fd, DMABUF_DEMO_ACCESS_READ, 0, &acc);
	if (expect_rc("ACCESS READ", ret, 0))
		CHECK(acc.checksum == demo_expected_checksum(BUF_SIZE, 0x5eed0003),
		      "device read checksum %#llx", (unsigned long long)acc.checksum);
	tg_note("%s", note);
	tg_end();

	group(k, "device write read through mmap between SYNC brackets with a mapping held",
	      "invalidated at START, cleaned at END");
	note[0] = 0;
	ret = demo_access(imp, fd, DMABUF_DEMO_ACCESS_WRITE, 0x5eed0004, &acc);
	expect_rc("ACCESS WRITE", ret, 0);
	begin_step();
	expect_rc("SYNC START|READ", sync_buf(fd, DMABUF_CORE_SYNC_START | DMABUF_CORE_SYNC_READ), 0);
	expect_maint("SYNC START|READ", 0, 0, DIR_BIDI, BUF_SIZE, note, sizeof(note));
	CHECK(demo_checksum(map, BUF_SIZE) == demo_expected_checksum(BUF_SIZE, 0x5eed0004),
	      "the CPU reads checksum %#llx", (unsigned long long)demo_checksum(map, BUF_SIZE));
	begin_step();
	expect_rc("SYNC END|READ", sync_buf(fd, DMABUF_CORE_SYNC_END | DMABUF_CORE_SYNC_READ), 0);
	expect_maint("SYNC END|READ", DIR_BIDI, BUF_SIZE, 0, 0, note, sizeof(note));
	tg_note("%s", note);
	tg_end();

	if (k->demo) {
		struct dmabuf_demo_pattern pat;

		group(k, "exporter FILL with a mapping held reaches the device",
		      "invalidated before, cleaned after");
		note[0] = 0;
		begin_step();
		ret = demo_fill(fd, 0x5eed0005, &pat);
		if (expect_rc("FILL", ret, 0)) {
			expect_maint("FILL", DIR_BIDI, BUF_SIZE, DIR_BIDI, BUF_SIZE,
				     note, sizeof(note));
			CHECK(pat.checksum == demo_expected_checksum(BUF_SIZE, 0x5eed0005),
			      "FILL checksum %#llx", (unsigned long long)pat.checksum);
		}
		ret = demo_access(imp, fd, DMABUF_DEMO_ACCESS_READ, 0, &acc);
		if (expect_rc("ACCESS READ", ret, 0))
			CHECK(acc.checksum == demo_expected_checksum(BUF_SIZE, 0x5eed0005),
			      "device read checksum %#llx", (unsigned long long)acc.checksum);
		tg_note("%s", note);
		tg_end();
	}

	group(k, "DETACH ends the held mapping", "invalidated for the CPU once");
	note[0] = 0;
	begin_step();
	ret = demo_detach(imp, fd);
	if (expect_rc("DETACH", ret, 0))
		expect_maint("DETACH", 0, 0, DIR_BIDI, BUF_SIZE, note, sizeof(note));
	tg_note("%s", note);
	tg_end();
}

static void t_kind(const struct kind *k)
{
	void *map = MAP_FAILED;
	int fd;

	buf_lo = buf_hi = 0;
	fd = k->make();
	if (fd >= 0)
		map = mmap(NULL, BUF_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (fd < 0 || map == MAP_FAILED) {
		group(k, "buffer and mapping", NULL);
		tg_fail("%s", fd < 0 ? errstr(-fd) : errstr(errno));
		tg_end();
		close_if_open(fd);
		return;
	}
	t_access(k, fd, map);
	t_held(k, fd, map);
	munmap(map, BUF_SIZE);
	close(fd);
}

/* amd64: coherent DMA, so the DMA API has no maintenance functions. */
static void t_coherent(void)
{
	char line[256];
	int seen = 0;
	FILE *f;

	tg_begin("DMA is coherent, no arch_sync_dma_for_device/_cpu in the kernel to probe");
	f = fopen("/proc/kallsyms", "r");
	if (CHECK(f, "/proc/kallsyms: %s", errstr(errno))) {
		while (fgets(line, sizeof(line), f))
			if (strstr(line, " arch_sync_dma_for_"))
				seen++;
		fclose(f);
		CHECK(!seen, "%d arch_sync_dma_for_* symbols", seen);
	}
	tg_end();
}

/*
 * DEVICE_INFO's coherent field: 0 on arm64 (a platform device no driver
 * configured), 1 on amd64.  The struct's first, 16-byte version is still
 * answered, and then nothing past it is written.
 */
static void t_device_info(void)
{
	const unsigned long v1 = _IOC(_IOC_READ, 0xDC, 0x23, 16);
	struct dmabuf_demo_device_info di;
	unsigned char old[sizeof(di) + 8];
	int ret;

	tg_begin("importer0's DEVICE_INFO says whether its device is DMA-coherent");
	ret = demo_device_info(imp, &di);
	if (expect_rc("DEVICE_INFO", ret, 0)) {
		CHECK_U64("coherent", di.coherent, !NONCOHERENT);
		CHECK_U64("reserved", di.reserved, 0);
		tg_note("coherent %u", di.coherent);
	}
	memset(old, 0xa5, sizeof(old));
	ret = ioctl(imp, v1, old) ? -errno : 0;
	if (expect_rc("DEVICE_INFO of 16 bytes", ret, 0)) {
		CHECK(!memcmp(old, &di, 16), "the 16-byte version differs");
		CHECK(old[16] == 0xa5 && old[sizeof(old) - 1] == 0xa5,
		      "the 16-byte version wrote past 16 bytes");
	}
	tg_end();
}

static void t_probes(void)
{
	char why[160] = "";
	int ret;

	tg_begin("kprobe events on arch_sync_dma_for_device and arch_sync_dma_for_cpu");
	if (CHECK(tracefs_ready(), "no %s/trace: %s", TRACEFS, errstr(errno))) {
		ret = probes_add(why, sizeof(why));
		CHECK(!ret, "%s", why);
	}
	tg_end();
}

int main(void)
{
	size_t i;

	tap_init(PROG);
	imp = importer_open(0);
	tg_begin("importer0 opens");
	CHECK(imp >= 0, "%s", errstr(-imp));
	if (!tg_end())
		return tap_finish();

	t_device_info();
	if (NONCOHERENT) {
		tap_set_crash_hook(crash_remove);
		atexit(probes_remove);
		t_probes();
	} else {
		t_coherent();
	}
	for (i = 0; i < ARRAY_SIZE(kinds); i++)
		t_kind(&kinds[i]);
	if (NONCOHERENT)
		probes_remove();

	close(imp);
	exporter_close();
	dev_close();
	return tap_finish();
}
