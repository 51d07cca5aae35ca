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
#include "lib/frag.h"
#include "lib/tap.h"

static void test_fragmented(void)
{
	size_t len = 192 * MiB;	/* within the demo's max_size_mb */
	struct dmabuf_demo_access acc;
	struct dmabuf_demo_storage st;
	struct dmabuf_demo_pattern pat;
	struct frag f;
	int imp = -1, d = -1, n;

	tg_begin("a 192 MiB buffer in fragmented memory is thousands of chunks, correct through an importer");
	n = fragment_memory(&f, 96);
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
	/* Compacts too: the MemFree checks after us count on it. */
	fragment_release(&f);

	tg_end();
}

int main(void)
{
	struct dmabuf_core_stats s0;

	tap_init("t_fragment");
	if (stats(&s0))		/* the baseline group below fails then */
		memset(&s0, 0xff, sizeof(s0));
	test_fragmented();
	exporter_close();
	expect_stats_baseline(&s0);
	return tap_finish();
}
