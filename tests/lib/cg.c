// SPDX-License-Identifier: GPL-2.0-only
/* cgroup v2 helpers for the memory tests. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>

#include "cg.h"
#include "tap.h"

long long keyed(const char *path, const char *key)
{
	FILE *f = fopen(path, "re");
	char line[256];
	size_t klen = strlen(key);
	long long v = -1;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, key, klen) && line[klen] == ' ') {
			v = atoll(line + klen + 1);
			break;
		}
	fclose(f);
	return v;
}

long long cg_stat(const char *cg, const char *key)
{
	char path[160];

	snprintf(path, sizeof(path), "%s/memory.stat", cg);
	return keyed(path, key);
}

long long cg_current(const char *cg)
{
	char path[160];

	snprintf(path, sizeof(path), "%s/memory.current", cg);
	return read_param_ll(path);
}

int cg_make(const char *cg, const char *max)
{
	char path[160];
	struct stat st;

	if (stat(CG_ROOT "/cgroup.controllers", &st) &&
	    mount("cgroup2", CG_ROOT, "cgroup2", 0, NULL))
		return -errno;
	if (write_file(CG_ROOT "/cgroup.subtree_control", "+memory"))
		return -EIO;
	if (mkdir(cg, 0755) && errno != EEXIST)
		return -errno;
	snprintf(path, sizeof(path), "%s/memory.max", cg);
	return write_file(path, max) ? -EIO : 0;
}

int cg_join(const char *cg)
{
	char path[160];

	snprintf(path, sizeof(path), "%s/cgroup.procs", cg);
	return write_file(path, "0") ? -EIO : 0;
}
