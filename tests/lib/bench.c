// SPDX-License-Identifier: GPL-2.0-only
/* What the b_* benchmarks share: see bench.h. */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "bench.h"

uint64_t bench_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

void bench_order(unsigned int n, unsigned int *order)
{
	static uint64_t state = 0x9e3779b97f4a7c15ULL;	/* fixed: reproducible */
	unsigned int i, j, tmp;

	for (i = 0; i < n; i++)
		order[i] = i;
	for (i = n - 1; i > 0; i--) {
		state ^= state << 13;		/* xorshift64 */
		state ^= state >> 7;
		state ^= state << 17;
		j = (unsigned int)(state % (i + 1));
		tmp = order[i];
		order[i] = order[j];
		order[j] = tmp;
	}
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

void bench_report(const char *what, const char *size, const char *who,
		  uint64_t *t, unsigned int n, const char *extra)
{
	if (!n)
		return;
	qsort(t, n, sizeof(*t), cmp_u64);
	printf("BENCH %s %s %s reps=%u median_ns=%llu p25_ns=%llu p75_ns=%llu%s\n",
	       what, size, who, n, (unsigned long long)t[(n - 1) / 2],
	       (unsigned long long)t[(n - 1) / 4],
	       (unsigned long long)t[(n - 1) * 3 / 4], extra);
	fflush(stdout);
}
