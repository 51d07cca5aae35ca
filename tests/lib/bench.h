/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What the b_* benchmarks share: a clock and the BENCH line of a series of
 * timings (tests/harness/bench.sh reads them).
 */
#ifndef DMABUF_TESTS_BENCH_H
#define DMABUF_TESTS_BENCH_H

#include <stdint.h>

/* CLOCK_MONOTONIC in nanoseconds. */
uint64_t bench_now_ns(void);

/*
 * The order in which a repetition runs its @n contenders (n <= 16): a new
 * shuffle each call, the same sequence of shuffles every run.  Not a
 * rotation: with a fixed cycle each contender always follows the same
 * other, and inherits the work that one leaves behind (freed pages, TLB
 * shootdowns, deferred frees: seen, ALLOC after an anonymous munmap
 * measured 4-7 times the heap's ALLOC after ours).
 */
void bench_order(unsigned int n, unsigned int *order);

/*
 * Sort the @n timings @t and print
 *   BENCH WHAT SIZE WHO reps=N median_ns=M p25_ns=A p75_ns=B[EXTRA]
 * (nothing for n == 0).  @extra starts with a space when not empty.
 */
void bench_report(const char *what, const char *size, const char *who,
		  uint64_t *t, unsigned int n, const char *extra);

#endif /* DMABUF_TESTS_BENCH_H */
