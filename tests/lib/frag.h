/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Fragmented memory for t_fragment and b_frag: anonymous memory taken
 * until little is free, then every other 64 KiB of it given back, so that
 * most free memory is small holes.
 */
#ifndef DMABUF_TESTS_FRAG_H
#define DMABUF_TESTS_FRAG_H

#define FRAG_CHUNK	(64 * 1024 * 1024ULL)	/* bytes per mapping taken */
#define FRAG_MAX	128			/* mappings at most */

/**
 * struct frag - what fragment_memory() holds
 * @chunks:	its anonymous mappings, FRAG_CHUNK bytes each, part populated
 * @n:		how many
 * @proactive:	vm.compaction_proactiveness before, restored by
 *		fragment_release() (-1: none to restore)
 */
struct frag {
	char *chunks[FRAG_MAX];
	int n;
	long long proactive;
};

/*
 * Fragment free memory (proactive compaction off meanwhile, so that the
 * holes stay holes): take it down to about @keep_mib MiB free, give back the
 * second 64 KiB of every 128 KiB.  Returns the number of mappings taken.
 */
int fragment_memory(struct frag *f, long long keep_mib);

/*
 * Give everything back, compact (freeing gigabytes grows the per-cpu page
 * lists, which do not count as free) and restore proactive compaction.
 */
void fragment_release(struct frag *f);

#endif
