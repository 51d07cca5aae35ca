// SPDX-License-Identifier: GPL-2.0-only
/* Helpers for tests of the demo exporter and importer. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <dmabuf_demo_pattern.h>
#include "demo.h"
#include "tap.h"

static int demo_ioctl(int fd, unsigned long cmd, void *arg)
{
	return ioctl(fd, cmd, arg) < 0 ? -errno : 0;
}

static int exporter_node = -1;

int exporter_fd(void)
{
	if (exporter_node < 0)
		exporter_node = open(EXPORTER_DEV, O_RDWR | O_CLOEXEC);
	return exporter_node < 0 ? -errno : exporter_node;
}

void exporter_close(void)
{
	if (exporter_node >= 0)
		close(exporter_node);
	exporter_node = -1;
}

int importer_open(unsigned int index)
{
	char path[64];
	int fd;

	snprintf(path, sizeof(path), IMPORTER_DEV, index);
	fd = open(path, O_RDWR | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

int demo_create(uint64_t size, uint32_t fd_flags)
{
	struct dmabuf_demo_create req = { .size = size, .fd_flags = fd_flags };
	int exp = exporter_fd(), ret;

	if (exp < 0)
		return exp;
	ret = demo_ioctl(exp, DMABUF_DEMO_IOCTL_CREATE, &req);
	return ret ? ret : req.fd;
}

static int demo_pattern(unsigned long cmd, int fd, uint32_t seed,
			struct dmabuf_demo_pattern *out)
{
	struct dmabuf_demo_pattern req = { .fd = fd, .seed = seed };
	int exp = exporter_fd(), ret;

	if (exp < 0)
		return exp;
	ret = demo_ioctl(exp, cmd, &req);
	if (out)
		*out = req;
	return ret;
}

int demo_fill(int fd, uint32_t seed, struct dmabuf_demo_pattern *out)
{
	return demo_pattern(DMABUF_DEMO_IOCTL_FILL, fd, seed, out);
}

int demo_verify(int fd, uint32_t seed, struct dmabuf_demo_pattern *out)
{
	return demo_pattern(DMABUF_DEMO_IOCTL_VERIFY, fd, seed, out);
}

int demo_storage(int fd, struct dmabuf_demo_storage *out)
{
	int exp = exporter_fd();

	memset(out, 0, sizeof(*out));
	out->fd = fd;
	return exp < 0 ? exp : demo_ioctl(exp, DMABUF_DEMO_IOCTL_STORAGE, out);
}

int demo_exporter_stats(struct dmabuf_demo_exporter_stats *out)
{
	int exp = exporter_fd();

	memset(out, 0, sizeof(*out));
	return exp < 0 ? exp :
		demo_ioctl(exp, DMABUF_DEMO_IOCTL_EXPORTER_STATS, out);
}

int demo_attach(int imp, int fd)
{
	return demo_attach_flags(imp, fd, 0);
}

int demo_attach_flags(int imp, int fd, uint32_t flags)
{
	struct dmabuf_demo_attach req = { .fd = fd, .flags = flags };

	return demo_ioctl(imp, DMABUF_DEMO_IOCTL_ATTACH, &req);
}

int demo_detach(int imp, int fd)
{
	struct dmabuf_demo_attach req = { .fd = fd };

	return demo_ioctl(imp, DMABUF_DEMO_IOCTL_DETACH, &req);
}

int demo_access(int imp, int fd, uint32_t op, uint32_t seed,
		struct dmabuf_demo_access *out)
{
	struct dmabuf_demo_access req = { .fd = fd, .op = op, .seed = seed };
	int ret = demo_ioctl(imp, DMABUF_DEMO_IOCTL_ACCESS, &req);

	if (out)
		*out = req;
	return ret;
}

int demo_device_info(int imp, struct dmabuf_demo_device_info *out)
{
	memset(out, 0, sizeof(*out));
	return demo_ioctl(imp, DMABUF_DEMO_IOCTL_DEVICE_INFO, out);
}

uint64_t demo_expected_checksum(uint64_t size, uint32_t seed)
{
	uint64_t h = DMABUF_DEMO_FNV_BASIS, i;

	for (i = 0; i < size / 4; i++) {
		uint32_t w = dmabuf_demo_pattern_word(seed, i);
		unsigned char le[4] = { w, w >> 8, w >> 16, w >> 24 };

		h = dmabuf_demo_fnv(h, le, 4);
	}
	return h;
}

uint64_t demo_zero_checksum(uint64_t size)
{
	static const unsigned char zeros[4096];
	uint64_t h = DMABUF_DEMO_FNV_BASIS;

	for (; size >= sizeof(zeros); size -= sizeof(zeros))
		h = dmabuf_demo_fnv(h, zeros, sizeof(zeros));
	return dmabuf_demo_fnv(h, zeros, size);
}

uint64_t demo_checksum(const void *p, uint64_t len)
{
	return dmabuf_demo_fnv(DMABUF_DEMO_FNV_BASIS, p, len);
}

/* Free KiB of memory zone @zone ("Normal", "DMA32") of node 0, or -1. */
static long long zone_free_kib(const char *zone)
{
	char line[256], name[32];
	long long pages = -1;
	int in_zone = 0;
	FILE *f = fopen("/proc/zoneinfo", "re");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "Node 0, zone %31s", name) == 1) {
			in_zone = !strcmp(name, zone);
			continue;
		}
		if (in_zone && sscanf(line, " pages free %lld", &pages) == 1)
			break;
	}
	fclose(f);
	return pages < 0 ? -1 : pages * 4;
}

#define MAX_TOTAL_MB	"/sys/module/dmabuf_core/parameters/max_total_mb"

/*
 * What the ballast leaves to the rest of the guest.  Without it a ballast
 * that keeps missing 4 GiB (the debug kernel's quarantine hands the zone
 * above back while it is being taken) takes every page; our allocations
 * then fail cleanly, but the harness's shell forking or the test faulting
 * in a page meets the OOM killer.
 */
#define BALLAST_HEADROOM	(1024 * MiB)

int alloc_below_4g(uint64_t size, int imp, struct ballast *b)
{
	struct dmabuf_demo_access a;
	uint64_t ram;
	char mb[32];
	int fd, filler, r;

	b->n = 0;
	b->saved_cap = read_param_ll(MAX_TOTAL_MB);
	ram = total_ram_bytes();
	snprintf(mb, sizeof(mb), "%llu",
		 (unsigned long long)(ram > 2 * BALLAST_HEADROOM ?
				      (ram - BALLAST_HEADROOM) / MiB : ram / 2 / MiB));
	if (b->saved_cap < 0 || write_file(MAX_TOTAL_MB, mb))
		b->saved_cap = -1;
	while (b->n + 2 <= BALLAST_MAX) {
		long long normal = zone_free_kib("Normal");
		uint64_t fill;

		fd = alloc_buf(size, O_RDWR | O_CLOEXEC);
		if (fd < 0)
			return fd;
		r = demo_access(imp, fd, DMABUF_DEMO_ACCESS_READ, 0, &a);
		if (r) {
			close(fd);
			return r;
		}
		if (a.highest_dma < 4 * GiB)
			return fd;
		/*
		 * Some pages above 4 GiB: keep them taken, and take what
		 * the zone above 4 GiB has left, so the allocator falls back
		 * to the zones below it.
		 */
		b->fd[b->n++] = fd;
		fill = normal > 16 * 1024 ? (uint64_t)normal * KiB : 16 * MiB;
		if (fill > 256 * MiB)
			fill = 256 * MiB;
		filler = alloc_buf(fill, O_RDWR | O_CLOEXEC);
		if (filler < 0)
			return filler;
		b->fd[b->n++] = filler;
	}
	return -ENOSPC;
}

void ballast_release(struct ballast *b)
{
	char mb[32];

	while (b->n > 0)
		close(b->fd[--b->n]);
	if (b->saved_cap >= 0) {
		snprintf(mb, sizeof(mb), "%lld", b->saved_cap);
		write_file(MAX_TOTAL_MB, mb);
		b->saved_cap = -1;
	}
}
