// SPDX-License-Identifier: GPL-2.0-only
/*
 * dmabuf-ctl constrain: what a device needs of a buffer's storage that its
 * driver cannot say (the most DMA segments it takes, an alignment),
 * declared by an administrator through DMABUF_CORE_IOCTL_CONSTRAIN.
 *
 *   dmabuf-ctl constrain DEVICE                  show
 *   dmabuf-ctl constrain DEVICE [segments=N] [align=BYTES]
 *   dmabuf-ctl constrain DEVICE --clear
 *   dmabuf-ctl constrain --load FILE             one "DEVICE [...]" a line
 *
 * DEVICE is the kernel's name of the device ("vivid.0"), or a path in
 * /sys naming it: its last component, links resolved, is the name.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <uapi/linux/dmabuf_core.h>

#include "ctl.h"

/* The device's name from a name or a /sys path; 0 or an exit code. */
static int device_name(const char *arg, char *name)
{
	char *real = NULL;
	const char *base = arg;

	if (strchr(arg, '/')) {
		real = realpath(arg, NULL);
		base = strrchr(real ? real : arg, '/') + 1;
	}
	if (!*base || strlen(base) >= DMABUF_CORE_DEVICE_NAME_LEN) {
		free(real);
		return ctl_error(EXIT_USAGE, "constrain: '%s' names no device", arg);
	}
	strcpy(name, base);
	free(real);
	return 0;
}

/* BYTES with an optional k, M or G suffix; -1 when malformed. */
static long long parse_size(const char *s)
{
	unsigned long long v;
	unsigned int shift = 0;
	char *end;

	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || end == s || *s == '-')
		return -1;
	switch (*end) {
	case 'k': case 'K': shift = 10; end++; break;
	case 'M': shift = 20; end++; break;
	case 'G': shift = 30; end++; break;
	}
	if (*end || v > (1ULL << 40) >> shift)
		return -1;
	return (long long)(v << shift);
}

/* "segments=N" or "align=BYTES" into @req; 0 or -1 when malformed. */
static int parse_setting(const char *s, struct dmabuf_core_constrain *req)
{
	long long v;

	if (!strncmp(s, "segments=", 9)) {
		v = parse_size(s + 9);
		if (v < 0 || v > 0xffffffffLL)
			return -1;
		req->max_segments = (__u32)v;
		return 0;
	}
	if (!strncmp(s, "align=", 6)) {
		v = parse_size(s + 6);
		if (v < 0)
			return -1;
		req->alignment = (__u64)v;
		return 0;
	}
	return -1;
}

static int constrain_ioctl(int node, struct dmabuf_core_constrain *req)
{
	if (!ioctl(node, DMABUF_CORE_IOCTL_CONSTRAIN, req))
		return EXIT_OK;
	if (errno == ENOENT && req->flags == DMABUF_CORE_CONSTRAIN_CLEAR)
		return ctl_error(EXIT_NO_TARGET, "constrain: nothing declared for %s",
				 req->device);
	if (errno == EPERM)
		return ctl_error(EXIT_DENIED, "constrain %s: needs CAP_SYS_ADMIN",
				 req->device);
	if (errno == EINVAL)
		return ctl_error(EXIT_USAGE, "constrain %s: refused (align must be a power of two up to the largest contiguous run)",
				 req->device);
	return ctl_error(ctl_errno_code(errno), "constrain %s: %s", req->device,
			 strerror(errno));
}

static int show(int node, struct dmabuf_core_constrain *req)
{
	req->flags = DMABUF_CORE_CONSTRAIN_GET;
	if (ioctl(node, DMABUF_CORE_IOCTL_CONSTRAIN, req)) {
		if (errno != ENOENT)
			return constrain_ioctl(node, req);
		printf("%s: none\n", req->device);
		return EXIT_OK;
	}
	printf("%s: segments=%u align=%llu\n", req->device, req->max_segments,
	       (unsigned long long)req->alignment);
	return EXIT_OK;
}

/*
 * One line a device, as on the command line; '#' starts a comment.  A
 * missing file is nothing to do: the udev rule runs this on every boot.
 */
static int load(int node, const char *path)
{
	char line[512], *tok, *save;
	int ret = EXIT_OK, n = 0, r;
	FILE *f = fopen(path, "re");

	if (!f) {
		if (errno == ENOENT)
			return EXIT_OK;
		return ctl_error(ctl_errno_code(errno), "constrain: %s: %s", path,
				 strerror(errno));
	}
	while (fgets(line, sizeof(line), f)) {
		struct dmabuf_core_constrain req = { 0 };

		n++;
		line[strcspn(line, "#\n")] = 0;
		tok = strtok_r(line, " \t", &save);
		if (!tok)
			continue;
		r = device_name(tok, req.device);
		while (!r && (tok = strtok_r(NULL, " \t", &save)))
			if (parse_setting(tok, &req))
				r = ctl_error(EXIT_USAGE, "%s:%d: '%s' is not segments=N or align=BYTES",
					      path, n, tok);
		if (!r)
			r = constrain_ioctl(node, &req);
		if (r && ret == EXIT_OK)
			ret = r;
	}
	fclose(f);
	return ret;
}

int ctl_cmd_constrain(int argc, char **argv)
{
	struct dmabuf_core_constrain req = { 0 };
	int node, ret, i;

	if (argc < 2)
		return ctl_error(EXIT_USAGE, "constrain: which device? DEVICE or --load FILE");
	if (!strcmp(argv[1], "--load") && argc != 3)
		return ctl_error(EXIT_USAGE, "constrain --load: one FILE");
	if (strcmp(argv[1], "--load")) {
		ret = device_name(argv[1], req.device);
		if (ret)
			return ret;
		for (i = 2; i < argc; i++) {
			if (!strcmp(argv[i], "--clear") && argc == 3)
				req.flags = DMABUF_CORE_CONSTRAIN_CLEAR;
			else if (parse_setting(argv[i], &req))
				return ctl_error(EXIT_USAGE, "constrain: '%s' is not segments=N, align=BYTES or --clear",
						 argv[i]);
		}
	}
	node = ctl_open_node();
	if (node < 0)
		return -node;
	if (!strcmp(argv[1], "--load"))
		ret = load(node, argv[2]);
	else if (argc == 2)
		ret = show(node, &req);
	else
		ret = constrain_ioctl(node, &req);
	close(node);
	return ret;
}
