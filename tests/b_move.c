// SPDX-License-Identifier: GPL-2.0-only
/*
 * b_move: what a move of a /dev/dmabuf buffer's storage costs, against the
 * floors of the same bytes, for `make bench` (tests/harness/bench.sh,
 * guest script tests/guest/run-bench.sh).  Not a test: it prints figures
 * and never fails on them.
 *
 * A fresh /dev/dmabuf buffer lies above 4 GiB in the bench guest; the
 * 32-bit demo importer's ATTACH moves it below (new zeroed storage, the
 * bytes copied, the old freed).  Each repetition runs, in a shuffled order:
 *   move           that ATTACH alone (the buffer made and filled before,
 *                  detached and closed after, untimed)
 *   alloc          ALLOC + close of as many bytes (the allocation a move
 *                  makes, zeroing included)
 *   memcpy         memcpy of as many bytes between two buffers the
 *                  process has touched (the copy's floor)
 *   memset+memcpy  zeroing and then copying them (what the move does to
 *                  the new pages at the least)
 * One line per contender and size:
 *   BENCH move SIZE CONTENDER reps=N median_ns=M p25_ns=A p75_ns=B
 * A repetition whose buffer did not move (it lay below 4 GiB) is not
 * counted; "BENCH movecheck SIZE all unmoved=N" says how many.
 *
 *   b_move [-r REPS_FACTOR_PERCENT]
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
#include <unistd.h>

#include <uapi/linux/dmabuf_core.h>
#include <uapi/linux/dmabuf_demo.h>

#include "lib/bench.h"

#define MIB		(1024ULL * 1024)
#define MAX_REPS	101

enum contender { MOVE, ALLOC, MEMCPY, MEMSET_MEMCPY, NR_CONTENDERS };

static const char *const contender_name[NR_CONTENDERS] = {
	"move", "alloc", "memcpy", "memset+memcpy",
};

static const struct {
	uint64_t size;
	unsigned int reps;
} sizes[] = {
	{ MIB, 41 }, { 8 * MIB, 21 }, { 64 * MIB, 11 }, { 256 * MIB, 7 },
};

#define ARRAY_LEN	(sizeof(sizes) / sizeof(sizes[0]))

static int node = -1, imp32 = -1;
static unsigned char *src, *dst;
static unsigned int failures, unmoved;

static int new_buffer(uint64_t len)
{
	struct dmabuf_core_alloc a = { .len = len, .fd_flags = O_RDWR | O_CLOEXEC };

	return ioctl(node, DMABUF_CORE_IOCTL_ALLOC, &a) ? -errno : (int)a.fd;
}

static int demo_ioctl(unsigned long cmd, int fd)
{
	struct dmabuf_demo_attach a = { .fd = fd };

	return ioctl(imp32, cmd, &a) ? -errno : 0;
}

/* One move of a fresh buffer: its time, 0 when it failed or did not move. */
static uint64_t move_once(uint64_t len)
{
	struct dmabuf_core_query q = { 0 };
	uint64_t t0, ns;
	int fd, r;
	void *p;

	fd = new_buffer(len);
	if (fd < 0)
		return 0;
	/* Bytes worth moving, as a process would have written them. */
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p != MAP_FAILED) {
		memset(p, 0x5a, len);
		munmap(p, len);
	}
	t0 = bench_now_ns();
	r = demo_ioctl(DMABUF_DEMO_IOCTL_ATTACH, fd);
	ns = bench_now_ns() - t0 ?: 1;
	q.fd = fd;
	if (!r && (ioctl(node, DMABUF_CORE_IOCTL_QUERY, &q) || q.moves != 1)) {
		unmoved++;
		ns = 0;
	}
	if (!r)
		demo_ioctl(DMABUF_DEMO_IOCTL_DETACH, fd);
	close(fd);
	if (r) {
		failures++;
		fprintf(stderr, "b_move: ATTACH at %llu bytes: %s\n",
			(unsigned long long)len, strerror(-r));
		return 0;
	}
	return ns;
}

static uint64_t run_once(enum contender c, uint64_t len)
{
	uint64_t t0;
	int fd;

	if (c == MOVE)
		return move_once(len);
	t0 = bench_now_ns();
	if (c == ALLOC) {
		fd = new_buffer(len);
		if (fd < 0) {
			failures++;
			return 0;
		}
		close(fd);
	} else {
		if (c == MEMSET_MEMCPY)
			memset(dst, 0, len);
		memcpy(dst, src, len);
		/* The compiler must not drop the stores. */
		__asm__ volatile("" : : "r"(dst) : "memory");
	}
	return bench_now_ns() - t0 ?: 1;
}

static void bench_size(uint64_t len, unsigned int reps)
{
	static uint64_t t[NR_CONTENDERS][MAX_REPS];
	unsigned int n[NR_CONTENDERS] = { 0 }, order[NR_CONTENDERS], rep, i;
	char size[32];
	uint64_t ns;

	unmoved = 0;
	for (rep = 0; rep < reps; rep++) {
		bench_order(NR_CONTENDERS, order);
		for (i = 0; i < NR_CONTENDERS; i++) {
			ns = run_once(order[i], len);
			if (ns)
				t[order[i]][n[order[i]]++] = ns;
		}
	}
	snprintf(size, sizeof(size), "%llu", (unsigned long long)len);
	for (i = 0; i < NR_CONTENDERS; i++)
		bench_report("move", size, contender_name[i], t[i], n[i], "");
	printf("BENCH movecheck %s all unmoved=%u\n", size, unmoved);
}

int main(int argc, char **argv)
{
	unsigned int pct = 100, i, reps;
	uint64_t max = sizes[ARRAY_LEN - 1].size;
	int opt;

	while ((opt = getopt(argc, argv, "r:")) != -1) {
		if (opt != 'r') {
			fprintf(stderr, "usage: b_move [-r REPS_PERCENT]\n");
			return 2;
		}
		pct = (unsigned int)strtoul(optarg, NULL, 0);
	}
	node = open("/dev/dmabuf", O_RDWR | O_CLOEXEC);
	imp32 = open("/dev/dmabuf-demo-importer1", O_RDWR | O_CLOEXEC);
	if (node < 0 || imp32 < 0) {
		perror("b_move: /dev/dmabuf or /dev/dmabuf-demo-importer1");
		return 1;
	}
	src = mmap(NULL, max, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	dst = mmap(NULL, max, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (src == MAP_FAILED || dst == MAP_FAILED) {
		perror("b_move: mmap");
		return 1;
	}
	memset(src, 0xa5, max);
	memset(dst, 0, max);
	for (i = 0; i < ARRAY_LEN; i++) {
		reps = sizes[i].reps * pct / 100;
		if (reps < 3)
			reps = 3;
		if (reps > MAX_REPS)
			reps = MAX_REPS;
		bench_size(sizes[i].size, reps);
	}
	if (failures) {
		fprintf(stderr, "b_move: %u operations failed\n", failures);
		return 1;
	}
	printf("# b_move: done\n");
	return 0;
}
