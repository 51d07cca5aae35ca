// SPDX-License-Identifier: GPL-2.0-only
/*
 * b_map: mapping benchmarks for `make bench` (tests/harness/bench.sh), run
 * by tests/guest/run-bench.sh with the demo modules loaded (importer 0 at
 * 64 bits, no segment limit).  Not a test: figures only.
 *
 * Per size, a /dev/dmabuf buffer ("ours") and a system-heap buffer
 * ("heap"), where the kernel has the heap:
 *   BENCH sg SIZE WHO segments=N
 *	scatter-gather entries of the buffer as the demo importer maps it
 *   BENCH mmap SIZE WHO reps=N median_ns=M p25_ns=A p75_ns=B
 *	mmap() of the whole buffer alone (the setup a user waits for),
 *	then munmap() untimed; contenders interleaved, in a shuffled order
 *	each repetition (bench_order())
 * At one size (64 MiB), CPU bandwidth through a touched mapping of each,
 * against anonymous memory:
 *   BENCH bw write|read WHO reps=N median_ns=M p25_ns=A p75_ns=B bytes=L
 * Last, in fragmented memory (tests/lib/frag.c: about 96 MiB free besides
 * the holes), 256 MiB buffers of each, allocated in turn:
 *   BENCH frag SIZE WHO reps=N median_ns=M p25_ns=A p75_ns=B segments=S
 *	ALLOC alone (the buffer then closed untimed); S the sg entries of
 *	the last one as the demo importer maps it
 *   BENCH fragfree SIZE all free_mib=F in64k_mib=B in1m_mib=C
 *	what the fragmenter left: MiB free, of which in free blocks of
 *	64 KiB and up, and of 1 MiB and up (/proc/buddyinfo)
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

#include <uapi/linux/dmabuf_core.h>
#include <uapi/linux/dmabuf_demo.h>

#include "lib/bench.h"
#include "lib/frag.h"
#include "lib/tap.h"

#define MAX_REPS	401
#define BW_SIZE		(64 * MiB)

enum who { OURS, HEAP, ANON, NR_WHO };
static const char *const who_name[NR_WHO] = { "ours", "heap", "anon" };

static const uint64_t sizes[] = {
	4 * KiB, 64 * KiB, MiB, 8 * MiB, 64 * MiB, 256 * MiB, GiB,
};

static int dev[2] = { -1, -1 };	/* /dev/dmabuf, /dev/dma_heap/system */
static int importer = -1;
static unsigned int pct = 100, failures;

static unsigned int scaled(unsigned int reps)
{
	reps = reps * pct / 100;
	return reps < 3 ? 3 : reps > MAX_REPS ? MAX_REPS : reps;
}

static int alloc_on(int node, uint64_t len)
{
	struct dmabuf_core_alloc a = { .len = len,
				       .fd_flags = O_RDWR | O_CLOEXEC };

	if (ioctl(node, DMABUF_CORE_IOCTL_ALLOC, &a)) {
		fprintf(stderr, "b_map: ALLOC of %llu bytes: %s\n",
			(unsigned long long)len, strerror(errno));
		failures++;
		return -1;
	}
	return (int)a.fd;
}

static void bench_size(uint64_t len)
{
	static uint64_t t[2][MAX_REPS];
	unsigned int n[2] = { 0 }, order[2], reps, rep, i;
	int fd[2] = { -1, -1 };
	char size[32];

	snprintf(size, sizeof(size), "%llu", (unsigned long long)len);
	for (i = 0; i < 2; i++) {
		struct dmabuf_demo_access acc = { .op = DMABUF_DEMO_ACCESS_READ };

		if (dev[i] < 0)
			continue;
		fd[i] = alloc_on(dev[i], len);
		if (fd[i] < 0 || importer < 0)
			continue;
		acc.fd = fd[i];
		if (ioctl(importer, DMABUF_DEMO_IOCTL_ACCESS, &acc)) {
			fprintf(stderr, "b_map: importer ACCESS: %s\n", strerror(errno));
			failures++;
			continue;
		}
		printf("BENCH sg %s %s segments=%u\n", size, who_name[i], acc.segments);
	}

	reps = scaled(len >= 256 * MiB ? 21 : len >= 8 * MiB ? 61 : 201);
	for (rep = 0; rep < reps; rep++) {
		bench_order(2, order);
		for (i = 0; i < 2; i++) {
			unsigned int w = order[i];
			uint64_t t0;
			void *p;

			if (fd[w] < 0)
				continue;
			t0 = bench_now_ns();
			p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED,
				 fd[w], 0);
			t[w][n[w]] = bench_now_ns() - t0;
			if (p == MAP_FAILED) {
				fprintf(stderr, "b_map: mmap: %s\n", strerror(errno));
				failures++;
				close(fd[w]);
				fd[w] = -1;
				continue;
			}
			n[w]++;
			munmap(p, len);
		}
	}
	for (i = 0; i < 2; i++) {
		bench_report("mmap", size, who_name[i], t[i], n[i], "");
		if (fd[i] >= 0)
			close(fd[i]);
	}
}

/* A sum the compiler cannot drop. */
static volatile uint64_t sink;

static void bench_bandwidth(void)
{
	static uint64_t tw[NR_WHO][MAX_REPS], tr[NR_WHO][MAX_REPS];
	unsigned int n[NR_WHO] = { 0 }, order[NR_WHO], reps = scaled(21), rep, i;
	unsigned char *p[NR_WHO] = { NULL };
	int fd[2] = { -1, -1 };
	char extra[48];

	for (i = 0; i < NR_WHO; i++) {
		if (i == ANON) {
			p[i] = mmap(NULL, BW_SIZE, PROT_READ | PROT_WRITE,
				    MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
		} else {
			if (dev[i] < 0)
				continue;
			fd[i] = alloc_on(dev[i], BW_SIZE);
			if (fd[i] < 0)
				continue;
			p[i] = mmap(NULL, BW_SIZE, PROT_READ | PROT_WRITE,
				    MAP_SHARED | MAP_POPULATE, fd[i], 0);
		}
		if (p[i] == MAP_FAILED) {
			fprintf(stderr, "b_map: bandwidth mapping: %s\n", strerror(errno));
			failures++;
			p[i] = NULL;
			continue;
		}
		memset(p[i], 1, BW_SIZE);	/* every page present */
	}
	for (rep = 0; rep < reps; rep++) {
		bench_order(NR_WHO, order);
		for (i = 0; i < NR_WHO; i++) {
			unsigned int w = order[i];
			const uint64_t *q;
			uint64_t t0, sum = 0, k;

			if (!p[w])
				continue;
			t0 = bench_now_ns();
			memset(p[w], (int)rep, BW_SIZE);
			__asm__ volatile("" : : "r"(p[w]) : "memory");
			tw[w][n[w]] = bench_now_ns() - t0;
			q = (const uint64_t *)p[w];
			t0 = bench_now_ns();
			for (k = 0; k < BW_SIZE / sizeof(*q); k++)
				sum += q[k];
			tr[w][n[w]] = bench_now_ns() - t0;
			sink += sum;
			n[w]++;
		}
	}
	snprintf(extra, sizeof(extra), " bytes=%llu", (unsigned long long)BW_SIZE);
	for (i = 0; i < NR_WHO; i++) {
		bench_report("bw", "write", who_name[i], tw[i], n[i], extra);
		bench_report("bw", "read", who_name[i], tr[i], n[i], extra);
		if (p[i])
			munmap(p[i], BW_SIZE);
		if (i != ANON && fd[i] >= 0)
			close(fd[i]);
	}
}

/* MiB free in blocks of order @min and larger (/proc/buddyinfo). */
static unsigned long long free_mib_in_blocks(unsigned int min)
{
	unsigned long long total = 0, count;
	char line[512], *p;
	FILE *f = fopen("/proc/buddyinfo", "r");
	unsigned int order;
	int used;

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		p = strstr(line, "zone");
		if (!p)
			continue;
		p += 4;
		while (*p == ' ')
			p++;
		while (*p && *p != ' ')		/* the zone's name */
			p++;
		for (order = 0; sscanf(p, "%llu%n", &count, &used) == 1; order++) {
			if (order >= min)
				total += count << order;
			p += used;
		}
	}
	fclose(f);
	return total * page_size / MiB;
}

static void bench_fragmented(void)
{
	static uint64_t t[2][MAX_REPS];
	unsigned int n[2] = { 0 }, seg[2] = { 0 }, order[2], reps = scaled(9), rep, i;
	const uint64_t len = 256 * MiB;
	char size[32], extra[32];
	struct frag f;

	snprintf(size, sizeof(size), "%llu", (unsigned long long)len);
	fragment_memory(&f, 96);
	printf("BENCH fragfree %s all free_mib=%lld in64k_mib=%llu in1m_mib=%llu\n",
	       size, meminfo_kib("MemFree") / 1024, free_mib_in_blocks(4),
	       free_mib_in_blocks(8));
	for (rep = 0; rep < reps; rep++) {
		bench_order(2, order);
		for (i = 0; i < 2; i++) {
			struct dmabuf_demo_access acc = { .op = DMABUF_DEMO_ACCESS_READ };
			unsigned int w = order[i];
			uint64_t t0, dt;
			int fd;

			if (dev[w] < 0)
				continue;
			t0 = bench_now_ns();
			fd = alloc_on(dev[w], len);
			dt = bench_now_ns() - t0;
			if (fd < 0)
				continue;
			t[w][n[w]++] = dt;
			acc.fd = fd;
			if (importer >= 0 && rep == reps - 1) {
				if (ioctl(importer, DMABUF_DEMO_IOCTL_ACCESS, &acc)) {
					fprintf(stderr, "b_map: importer ACCESS: %s\n",
						strerror(errno));
					failures++;
				}
				seg[w] = acc.segments;
			}
			close(fd);
		}
	}
	fragment_release(&f);
	for (i = 0; i < 2; i++) {
		snprintf(extra, sizeof(extra), " segments=%u", seg[i]);
		bench_report("frag", size, who_name[i], t[i], n[i], extra);
	}
}

int main(int argc, char **argv)
{
	unsigned int i;
	int opt;

	while ((opt = getopt(argc, argv, "r:")) != -1) {
		if (opt != 'r') {
			fprintf(stderr, "usage: b_map [-r REPS_PERCENT]\n");
			return 2;
		}
		pct = (unsigned int)strtoul(optarg, NULL, 0);
	}
	dev[OURS] = open("/dev/dmabuf", O_RDWR | O_CLOEXEC);
	if (dev[OURS] < 0) {
		perror("b_map: /dev/dmabuf");
		return 1;
	}
	dev[HEAP] = open("/dev/dma_heap/system", O_RDONLY | O_CLOEXEC);
	importer = open("/dev/dmabuf-demo-importer0", O_RDWR | O_CLOEXEC);
	if (importer < 0)
		fprintf(stderr, "b_map: no demo importer: no sg figures\n");
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
		bench_size(sizes[i]);
	bench_bandwidth();
	bench_fragmented();
	if (failures)
		return 1;
	printf("# b_map: done\n");
	return 0;
}
