// SPDX-License-Identifier: GPL-2.0-only
/*
 * b_interop: the kernel's own importers with our buffers, for `make bench`
 * (tests/harness/bench.sh), run by tests/guest/run-bench.sh with the stock
 * vgem and vivid drivers loaded.  Not a test: figures only.  A /dev/dmabuf
 * buffer ("ours") against a system-heap buffer ("heap") of the same size,
 * contenders interleaved in a shuffled order (bench_order()):
 *   BENCH prime SIZE WHO reps=N median_ns=M p25_ns=A p75_ns=B
 *	DRM_IOCTL_PRIME_FD_TO_HANDLE into vgem: the DRM core attaches vgem's
 *	device and maps the whole buffer
 *   BENCH primeclose SIZE WHO ...
 *	DRM_IOCTL_GEM_CLOSE of that handle: unmap, detach, the GEM object
 *	freed
 *   BENCH qbuf SIZE WHO ...
 *	VIDIOC_QBUF of the buffer on vivid's capture queue (V4L2_MEMORY_DMABUF,
 *	one buffer index per contender, attached by an untimed first QBUF):
 *	videobuf2 maps it (vivid's vmalloc queues: a kernel mapping)
 *   BENCH streamoff SIZE WHO ...
 *	VIDIOC_STREAMOFF with that one buffer queued: videobuf2 gives it back
 * SIZE is the frame size for the V4L2 rows (320x180 YUYV, in pages).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <linux/videodev2.h>

#include <uapi/linux/dmabuf_core.h>

#include "lib/bench.h"
#include "lib/tap.h"
#include "lib/vgem.h"
#include "lib/vivid.h"

#define MAX_REPS	401

enum who { OURS, HEAP, NR_WHO };
static const char *const who_name[NR_WHO] = { "ours", "heap" };

static int dev[NR_WHO] = { -1, -1 };	/* /dev/dmabuf, /dev/dma_heap/system */
static unsigned int pct = 100, failures;

static unsigned int scaled(unsigned int reps)
{
	reps = reps * pct / 100;
	return reps < 3 ? 3 : reps > MAX_REPS ? MAX_REPS : reps;
}

static void failed(const char *what, int err)
{
	fprintf(stderr, "b_interop: %s: %s\n", what, strerror(err));
	failures++;
}

/* A buffer of @len bytes from each node there is: fd[] entries, or -1. */
static void alloc_pair(uint64_t len, int fd[NR_WHO])
{
	unsigned int w;

	for (w = 0; w < NR_WHO; w++) {
		struct dmabuf_core_alloc a = { .len = len,
					       .fd_flags = O_RDWR | O_CLOEXEC };

		fd[w] = -1;
		if (dev[w] < 0)
			continue;
		if (ioctl(dev[w], DMABUF_CORE_IOCTL_ALLOC, &a))
			failed("ALLOC", errno);
		else
			fd[w] = (int)a.fd;
	}
}

static void close_pair(int fd[NR_WHO])
{
	unsigned int w;

	for (w = 0; w < NR_WHO; w++)
		if (fd[w] >= 0)
			close(fd[w]);
}

static void bench_prime(int vgem, uint64_t len)
{
	static uint64_t ti[NR_WHO][MAX_REPS], tc[NR_WHO][MAX_REPS];
	unsigned int n[NR_WHO] = { 0 }, reps = scaled(len > 8 * MiB ? 41 : 201);
	unsigned int order[NR_WHO], rep, i, w;
	int fd[NR_WHO], ret;
	char size[32];

	snprintf(size, sizeof(size), "%llu", (unsigned long long)len);
	alloc_pair(len, fd);
	for (rep = 0; rep < reps; rep++) {
		bench_order(NR_WHO, order);
		for (i = 0; i < NR_WHO; i++) {
			uint64_t t0, t1;
			__u32 handle;

			w = order[i];
			if (fd[w] < 0)
				continue;
			t0 = bench_now_ns();
			ret = vgem_prime_import(vgem, fd[w], &handle);
			t1 = bench_now_ns();
			if (ret) {
				failed("PRIME_FD_TO_HANDLE", -ret);
				close(fd[w]);
				fd[w] = -1;
				continue;
			}
			vgem_gem_close(vgem, handle);
			tc[w][n[w]] = bench_now_ns() - t1;
			ti[w][n[w]++] = t1 - t0;
		}
	}
	for (w = 0; w < NR_WHO; w++) {
		bench_report("prime", size, who_name[w], ti[w], n[w], "");
		bench_report("primeclose", size, who_name[w], tc[w], n[w], "");
	}
	close_pair(fd);
}

static void bench_v4l2(void)
{
	static uint64_t tq[NR_WHO][MAX_REPS], ts[NR_WHO][MAX_REPS];
	unsigned int n[NR_WHO] = { 0 }, order[NR_WHO], reps = scaled(201), rep, i, w;
	int fd[NR_WHO], ret;
	char size[32];

	if (vivid_open() < 0 || vivid_set_format() ||
	    vivid_reqbufs(NR_WHO, V4L2_MEMORY_DMABUF) != NR_WHO) {
		failed("vivid capture node, S_FMT or REQBUFS", errno);
		return;
	}
	snprintf(size, sizeof(size), "%zu", vivid_frame_size);
	alloc_pair(vivid_frame_size, fd);
	/* Buffer index w belongs to contender w: attached here, untimed. */
	for (w = 0; w < NR_WHO; w++) {
		if (fd[w] < 0)
			continue;
		ret = vivid_qbuf_dmabuf(w, fd[w], vivid_frame_size);
		if (ret || vivid_stream(0)) {
			failed("first QBUF and STREAMOFF", ret ? -ret : errno);
			close(fd[w]);
			fd[w] = -1;
		}
	}
	for (rep = 0; rep < reps; rep++) {
		bench_order(NR_WHO, order);
		for (i = 0; i < NR_WHO; i++) {
			uint64_t t0, t1;

			w = order[i];
			if (fd[w] < 0)
				continue;
			t0 = bench_now_ns();
			ret = vivid_qbuf_dmabuf(w, fd[w], vivid_frame_size);
			t1 = bench_now_ns();
			if (ret) {
				failed("QBUF", -ret);
				break;
			}
			ret = vivid_stream(0);
			ts[w][n[w]] = bench_now_ns() - t1;
			tq[w][n[w]++] = t1 - t0;
			if (ret) {
				failed("STREAMOFF", -ret);
				break;
			}
		}
	}
	for (w = 0; w < NR_WHO; w++) {
		bench_report("qbuf", size, who_name[w], tq[w], n[w], "");
		bench_report("streamoff", size, who_name[w], ts[w], n[w], "");
	}
	vivid_reqbufs(0, V4L2_MEMORY_DMABUF);
	close_pair(fd);
	close(vivid_fd);
}

int main(int argc, char **argv)
{
	int opt, vgem;

	while ((opt = getopt(argc, argv, "r:")) != -1) {
		if (opt != 'r') {
			fprintf(stderr, "usage: b_interop [-r REPS_PERCENT]\n");
			return 2;
		}
		pct = (unsigned int)strtoul(optarg, NULL, 0);
	}
	dev[OURS] = open("/dev/dmabuf", O_RDWR | O_CLOEXEC);
	if (dev[OURS] < 0) {
		perror("b_interop: /dev/dmabuf");
		return 1;
	}
	dev[HEAP] = open("/dev/dma_heap/system", O_RDONLY | O_CLOEXEC);
	vgem = vgem_open();
	if (vgem < 0) {
		failed("vgem", -vgem);
	} else {
		bench_prime(vgem, MiB);
		bench_prime(vgem, 64 * MiB);
		close(vgem);
	}
	bench_v4l2();
	if (failures)
		return 1;
	printf("# b_interop: done\n");
	return 0;
}
