/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * cgroup v2 helpers for the memory tests: groups under /sys/fs/cgroup with
 * the memory controller, and the flat keyed files the kernel reports in.
 */
#ifndef DMABUF_TESTS_CG_H
#define DMABUF_TESTS_CG_H

#define CG_ROOT		"/sys/fs/cgroup"

/* The value after "@key " in a flat keyed file (memory.events, vmstat), or -1. */
long long keyed(const char *path, const char *key);
/* @key of @cg's memory.stat (an absolute cgroup path), or -1. */
long long cg_stat(const char *cg, const char *key);
/* @cg's memory.current, or -errno. */
long long cg_current(const char *cg);
/*
 * Mount cgroup2 on CG_ROOT if needed, enable the memory controller for
 * children and make @cg with memory.max @max ("64M"): 0 or -errno.
 */
int cg_make(const char *cg, const char *max);
/* Move the calling process into @cg: 0 or -errno. */
int cg_join(const char *cg);

#endif /* DMABUF_TESTS_CG_H */
