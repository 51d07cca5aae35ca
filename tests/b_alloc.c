// SPDX-License-Identifier: GPL-2.0-only
/*
 * b_alloc: allocation benchmark, /dev/dmabuf against the kernel's
 * /dev/dma_heap/system, for `make bench` (tests/harness/bench.sh, guest
 * script tests/guest/run-bench.sh).  Not a test: it prints figures and
 * never fails on them.
 *
 * At each size, every repetition runs each contender once, in an order
 * shuffled anew for each repetition (bench_order()), so that drift in the
 * guest's speed hits all of them alike and none always follows the same
 * other:
 *   ours-alloc, heap-alloc   ALLOC, then close (alloc+free)
 *   ours-touch, heap-touch   ALLOC, mmap, write one byte per page, munmap,
 *                            close (alloc+mmap+touch+free)
 *   memset                   memset of as many bytes in memory the process
 *                            already has (the cost of zeroing)
 *   anon                     anonymous mmap, one write per page, munmap
 *                            (the cost of zeroed memory the usual way)
 *   contig-touch             /dev/dmabuf-contig: ALLOC, SYNC START (which
 *                            places the one run, so that no memory is an
 *                            errno rather than SIGBUS), mmap, touch,
 *                            munmap, SYNC END, close; against ours-touch,
 *                            the same bytes in chunks.  Only up to the
 *                            largest run (beyond the page allocator's
 *                            largest block where the large_runs_mb
 *                            parameter allows): the first ENOMEM ends it.
 * One line per contender and size:
 *   BENCH alloc SIZE CONTENDER reps=N median_ns=M p25_ns=A p75_ns=B
 * Kernels without the system heap (6.1) get no heap-* lines.  No Debian
 * kernel has a CMA heap to compare contig-touch with (amd64: no CMA;
 * arm64: CMA but no dma-heaps).
 *
 *   b_alloc [-s SIZE_KIB ...] [-r REPS_FACTOR_PERCENT]
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
#include <time.h>
#include <unistd.h>

#include <linux/dma-buf.h>
#include <uapi/linux/dmabuf_core.h>

#include "lib/bench.h"

#define KIB		1024ULL
#define MIB		(1024 * KIB)
#define GIB		(1024 * MIB)
#define PAGE		4096
#define MAX_REPS	401

enum contender { OURS_ALLOC, HEAP_ALLOC, OURS_TOUCH, HEAP_TOUCH, MEMSET,
		 ANON, CONTIG_TOUCH, NR_CONTENDERS };

static const char *const contender_name[NR_CONTENDERS] = {
	"ours-alloc", "heap-alloc", "ours-touch", "heap-touch", "memset", "anon",
	"contig-touch",
};

/* Sizes and their repetitions: more where one run is short and noisy. */
static const struct {
	uint64_t size;
	unsigned int reps;
} default_sizes[] = {
	{ 4 * KIB, 301 }, { 64 * KIB, 301 }, { MIB, 151 }, { 4 * MIB, 61 },
	{ 8 * MIB, 61 },
	{ 64 * MIB, 25 }, { 256 * MIB, 15 }, { GIB, 9 },
};

static int node = -1, heap = -1, contig = -1;
static int contig_done;		/* a size beyond the largest run was met */
static unsigned char *scratch;	/* the memset contender's memory */
static unsigned int failures;	/* operations that failed */

static void touch(volatile unsigned char *p, uint64_t len)
{
	uint64_t off;

	for (off = 0; off < len; off += PAGE)
		p[off] = 1;
}

/* One ALLOC on @dev; with @map, mmap + touch + munmap too.  0 or -errno. */
static int alloc_once(int dev, uint64_t len, int map)
{
	struct dmabuf_core_alloc a = { .len = len,
				       .fd_flags = O_RDWR | O_CLOEXEC };
	void *p;

	if (ioctl(dev, DMABUF_CORE_IOCTL_ALLOC, &a))
		return -errno;
	if (map) {
		p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED,
			 (int)a.fd, 0);
		if (p == MAP_FAILED) {
			close((int)a.fd);
			return -errno;
		}
		touch(p, len);
		munmap(p, len);
	}
	close((int)a.fd);
	return 0;
}

/* DMA_BUF_IOCTL_SYNC on @fd with @flags: 0 or -errno. */
static int sync_fd(int fd, uint64_t flags)
{
	struct dma_buf_sync s = { .flags = flags };

	return ioctl(fd, DMA_BUF_IOCTL_SYNC, &s) ? -errno : 0;
}

/* One /dev/dmabuf-contig buffer placed, mapped, touched, freed. */
static int contig_once(uint64_t len)
{
	struct dmabuf_core_alloc a = { .len = len,
				       .fd_flags = O_RDWR | O_CLOEXEC };
	int fd, r;
	void *p;

	if (ioctl(contig, DMABUF_CORE_IOCTL_ALLOC, &a))
		return -errno;
	fd = (int)a.fd;
	r = sync_fd(fd, DMA_BUF_SYNC_START | DMA_BUF_SYNC_RW);
	if (r)
		goto out;
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED) {
		r = -errno;
		goto out;
	}
	touch(p, len);
	munmap(p, len);
	r = sync_fd(fd, DMA_BUF_SYNC_END | DMA_BUF_SYNC_RW);
out:
	close(fd);
	return r;
}

static int anon_once(uint64_t len)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return -errno;
	touch(p, len);
	munmap(p, len);
	return 0;
}

/* Runs contender @c once at @len: its time in ns, or 0 on failure. */
static uint64_t run_once(enum contender c, uint64_t len)
{
	uint64_t t0 = bench_now_ns();
	int r;

	switch (c) {
	case OURS_ALLOC:
		r = alloc_once(node, len, 0);
		break;
	case HEAP_ALLOC:
		r = alloc_once(heap, len, 0);
		break;
	case OURS_TOUCH:
		r = alloc_once(node, len, 1);
		break;
	case HEAP_TOUCH:
		r = alloc_once(heap, len, 1);
		break;
	case CONTIG_TOUCH:
		r = contig_once(len);
		if (r == -ENOMEM) {
			printf("# b_alloc: contig-touch ends at %llu bytes: ENOMEM, beyond the largest run\n",
			       (unsigned long long)len);
			contig_done = 1;
			return 0;
		}
		break;
	case MEMSET:
		memset(scratch, 0, len);
		/* The compiler must not drop the stores. */
		__asm__ volatile("" : : "r"(scratch) : "memory");
		r = 0;
		break;
	default:
		r = anon_once(len);
		break;
	}
	if (r) {
		failures++;
		fprintf(stderr, "b_alloc: %s at %llu bytes: %s\n",
			contender_name[c], (unsigned long long)len, strerror(-r));
		return 0;
	}
	return bench_now_ns() - t0 ?: 1;
}

static void bench_size(uint64_t len, unsigned int reps)
{
	static uint64_t t[NR_CONTENDERS][MAX_REPS];
	unsigned int n[NR_CONTENDERS] = { 0 }, order[NR_CONTENDERS], rep, i;
	int skip[NR_CONTENDERS] = { 0 };
	char size[32];
	uint64_t ns;

	skip[HEAP_ALLOC] = skip[HEAP_TOUCH] = heap < 0;
	skip[CONTIG_TOUCH] = contig < 0 || contig_done;
	for (rep = 0; rep < reps; rep++) {
		bench_order(NR_CONTENDERS, order);
		for (i = 0; i < NR_CONTENDERS; i++) {
			enum contender c = order[i];

			if (skip[c])
				continue;
			ns = run_once(c, len);
			if (!ns) {
				skip[c] = 1;	/* reported; no figure for it */
				continue;
			}
			t[c][n[c]++] = ns;
		}
	}
	snprintf(size, sizeof(size), "%llu", (unsigned long long)len);
	for (i = 0; i < NR_CONTENDERS; i++)
		bench_report("alloc", size, contender_name[i], t[i], n[i], "");
}

static void usage(void)
{
	fprintf(stderr, "usage: b_alloc [-s SIZE_KIB]... [-r REPS_PERCENT]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	uint64_t sizes[16], max = 0;
	unsigned int reps[16], nsizes = 0, pct = 100, i;
	int opt;

	while ((opt = getopt(argc, argv, "s:r:")) != -1) {
		if (opt == 's' && nsizes < 16) {
			sizes[nsizes] = strtoull(optarg, NULL, 0) * KIB;
			reps[nsizes++] = 0;
		} else if (opt == 'r') {
			pct = (unsigned int)strtoul(optarg, NULL, 0);
		} else {
			usage();
		}
	}
	if (!nsizes) {
		for (i = 0; i < sizeof(default_sizes) / sizeof(default_sizes[0]); i++) {
			sizes[i] = default_sizes[i].size;
			reps[i] = default_sizes[i].reps;
		}
		nsizes = i;
	}
	for (i = 0; i < nsizes; i++) {
		if (!sizes[i] || sizes[i] % PAGE)
			usage();
		if (!reps[i])
			reps[i] = 21;
		reps[i] = reps[i] * pct / 100;
		if (reps[i] < 3)
			reps[i] = 3;
		if (reps[i] > MAX_REPS)
			reps[i] = MAX_REPS;
		if (sizes[i] > max)
			max = sizes[i];
	}

	node = open("/dev/dmabuf", O_RDWR | O_CLOEXEC);
	if (node < 0) {
		perror("b_alloc: /dev/dmabuf");
		return 1;
	}
	heap = open("/dev/dma_heap/system", O_RDONLY | O_CLOEXEC);
	printf("# b_alloc: system heap %s\n", heap >= 0 ? "present" : "absent");
	contig = open("/dev/dmabuf-contig", O_RDWR | O_CLOEXEC);
	if (contig < 0)
		perror("b_alloc: /dev/dmabuf-contig");
	scratch = mmap(NULL, max, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	if (scratch == MAP_FAILED) {
		perror("b_alloc: scratch memory");
		return 1;
	}
	for (i = 0; i < nsizes; i++)
		bench_size(sizes[i], reps[i]);
	if (failures)
		return 1;
	printf("# b_alloc: done\n");
	return 0;
}
