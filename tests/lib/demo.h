/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Helpers for tests of the demo exporter and importer: thin ioctl
 * wrappers returning 0 / fd or -errno, and the expected figures computed
 * in userspace the same way the modules compute them.
 */
#ifndef DMABUF_TESTS_DEMO_H
#define DMABUF_TESTS_DEMO_H

#include <stdint.h>
#include <uapi/linux/dmabuf_demo.h>

#define EXPORTER_DEV	"/dev/dmabuf-demo-exporter"
#define IMPORTER_DEV	"/dev/dmabuf-demo-importer%u"

int exporter_fd(void);				/* shared, opened once */
int importer_open(unsigned int index);		/* a new fd, or -errno */

/* Close the cached exporter node (it pins the exporter module). */
void exporter_close(void);
int demo_create(uint64_t size, uint32_t fd_flags);	/* fd or -errno */
int demo_fill(int fd, uint32_t seed, struct dmabuf_demo_pattern *out);
int demo_verify(int fd, uint32_t seed, struct dmabuf_demo_pattern *out);
int demo_storage(int fd, struct dmabuf_demo_storage *out);
int demo_exporter_stats(struct dmabuf_demo_exporter_stats *out);

int demo_attach(int imp, int fd);
/* ATTACH with DMABUF_DEMO_ATTACH_* @flags: 0 or -errno. */
int demo_attach_flags(int imp, int fd, uint32_t flags);
int demo_detach(int imp, int fd);
int demo_access(int imp, int fd, uint32_t op, uint32_t seed,
		struct dmabuf_demo_access *out);
int demo_device_info(int imp, struct dmabuf_demo_device_info *out);

/*
 * A /dev/dmabuf buffer of @size (O_RDWR) whose pages all lie below 4 GiB,
 * as importer @imp (64-bit, DMA address = physical) sees them: fd or
 * -errno.  /dev/dmabuf takes pages from the highest zone first, above
 * 4 GiB in a guest with RAM there; until a buffer lands below, the
 * buffers tried and filler buffers taking the rest of that zone stay
 * allocated in @b.  The memory above 4 GiB may be more than dmabuf_core's
 * max_total_mb (half of RAM by default): the cap is raised to all of RAM
 * but 1 GiB meanwhile (-ENOMEM past it).  ballast_release() closes the buffers and puts the cap back
 * (call it on every path, the fd returned may stay open).
 */
#define BALLAST_MAX	256
struct ballast {
	int fd[BALLAST_MAX];
	int n;
	long long saved_cap;	/* max_total_mb before, or -1 */
};
int alloc_below_4g(uint64_t size, int imp, struct ballast *b);
void ballast_release(struct ballast *b);

/* FNV-1a of @size bytes of the pattern for @seed (seed 0 + zero: zeros). */
uint64_t demo_expected_checksum(uint64_t size, uint32_t seed);
uint64_t demo_zero_checksum(uint64_t size);
/* FNV-1a of @len bytes at @p. */
uint64_t demo_checksum(const void *p, uint64_t len);

#endif /* DMABUF_TESTS_DEMO_H */
