// SPDX-License-Identifier: GPL-2.0-only
/*
 * t_fragment: a buffer allocated in fragmented memory.  Takes nearly all
 * free memory as anonymous pages, gives back every other 64 KiB of it, and
 * allocates a 192 MiB demo buffer, which must then be thousands of chunks
 * and read back correctly through the demo importer.
 *
 * Run by tests/guest/run-tests.sh after the MemFree baseline check (freeing
 * gigabytes at once leaves the per-cpu page lists holding tens of MiB for
 * a while), with dmabuf_core and the demo modules loaded.  Proactive
 * compaction is off for its duration, so that the holes stay holes.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "lib/demo.h"
#include "lib/tap.h"

#define PROACTIVE	"/proc/sys/vm/compaction_proactiveness"

/*
 * Fragment free memory: take anonymous memory (no huge pages) until about
 * 96 MiB are free, then give back the second 64 KiB of every 128 KiB, so
 * that most free memory is small holes.  Returns the number of chunks
 * taken into @chunks (each FRAG_CHUNK bytes, part populated), to be
 * unmapped by the caller.
 */
#define FRAG_CHUNK	(64 * MiB)
#define FRAG_MAX	128

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE	23
#endif

static int fragment_memory(char **chunks)
{
	size_t off;
	int n = 0, i;

	/*
	 * Down to about 96 MiB free, in steps of half what is left above it:
	 * several times the watermarks, and less than the lower zone (DMA32)
	 * keeps back from ordinary allocations, so that little unfragmented
	 * memory is left for the buffer.
	 */
	for (;;) {
		long long left = meminfo_kib("MemFree") - 96 * 1024;
		size_t step = (size_t)(left / 2) * KiB & ~(MiB - 1);
		char *c;

		if (n == FRAG_MAX || left < 8 * 1024)
			break;
		if (step > FRAG_CHUNK)
			step = FRAG_CHUNK;
		c = mmap(NULL, FRAG_CHUNK, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		if (c == MAP_FAILED)
			break;
		madvise(c, FRAG_CHUNK, MADV_NOHUGEPAGE);
		if (madvise(c, step, MADV_POPULATE_WRITE))
			for (off = 0; off < step; off += page_size)
				c[off] = 1;
		chunks[n++] = c;
	}
	for (i = 0; i < n; i++)
		for (off = 0; off < FRAG_CHUNK; off += 128 * KiB)
			madvise(chunks[i] + off + 64 * KiB, 64 * KiB, MADV_DONTNEED);
	return n;
}

static void test_fragmented(void)
{
	size_t len = 192 * MiB;	/* within the demo's max_size_mb */
	struct dmabuf_demo_access acc;
	struct dmabuf_demo_storage st;
	struct dmabuf_demo_pattern pat;
	char *chunks[FRAG_MAX];
	int imp = -1, d = -1, n, i;

	tg_begin("a 192 MiB buffer in fragmented memory is thousands of chunks, correct through an importer");
	n = fragment_memory(chunks);
	printf("# t_fragment: %d chunks of anonymous memory taken, MemFree now %lld MiB\n",
	       n, meminfo_kib("MemFree") / 1024);
	imp = importer_open(0);
	d = demo_create(len, O_RDWR | O_CLOEXEC);
	if (!CHECK(imp >= 0 && d >= 0, "importer %d, buffer %d", imp, d))
		goto out;
	if (expect_rc("FILL", demo_fill(d, 9, &pat), 0) &&
	    expect_rc("STORAGE", demo_storage(d, &st), 0)) {
		/* Unfragmented, 192 MiB would be 192 chunks of 1 MiB. */
		printf("# t_fragment: %u chunks, largest %llu KiB\n", st.chunks,
		       (unsigned long long)(st.largest_chunk / KiB));
		CHECK(st.chunks > 500, "only %u chunks: memory was not fragmented",
		      st.chunks);
		if (expect_rc("ACCESS READ", demo_access(imp, d, DMABUF_DEMO_ACCESS_READ, 0, &acc), 0)) {
			CHECK_U64("checksum the device saw", acc.checksum,
				  demo_expected_checksum(len, 9));
			CHECK_U64("bytes mapped", acc.bytes, len);
			CHECK_U64("bounced segments", acc.bounced, 0);
			tg_note("192 MiB in %u chunks (largest %llu KiB), %u DMA segments",
				st.chunks, (unsigned long long)(st.largest_chunk / KiB),
				acc.segments);
		}
	}
out:
	if (d >= 0)
		close(d);
	if (imp >= 0)
		close(imp);
	for (i = 0; i < n; i++)
		munmap(chunks[i], FRAG_CHUNK);
	/*
	 * Freeing gigabytes grows the per-cpu page lists (not counted as
	 * free); compaction drains them again for the MemFree checks after us.
	 */
	write_file("/proc/sys/vm/compact_memory", "1");

	tg_end();
}

int main(void)
{
	long long proactive = read_param_ll(PROACTIVE);
	struct dmabuf_core_stats s0;
	char val[32];

	tap_init("t_fragment");
	if (stats(&s0))		/* the baseline group below fails then */
		memset(&s0, 0xff, sizeof(s0));
	if (proactive > 0)
		write_file(PROACTIVE, "0");
	test_fragmented();
	if (proactive > 0) {
		snprintf(val, sizeof(val), "%lld", proactive);
		write_file(PROACTIVE, val);
	}
	exporter_close();
	expect_stats_baseline(&s0);
	return tap_finish();
}
