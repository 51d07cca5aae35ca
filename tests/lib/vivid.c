// SPDX-License-Identifier: GPL-2.0-only
/* The stock vivid driver's capture node as a peer: see vivid.h. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <linux/videodev2.h>

#include "tap.h"
#include "vivid.h"

int vivid_fd = -1;
size_t vivid_frame_size;

int vivid_open(void)
{
	char path[96], name[64];
	int i, fd = -1;
	FILE *f;

	for (i = 0; i < 64 && fd < 0; i++) {
		snprintf(path, sizeof(path), "/sys/class/video4linux/video%d/name", i);
		f = fopen(path, "r");
		if (!f)
			continue;
		if (fgets(name, sizeof(name), f) &&
		    !strncmp(name, "vivid-000-vid-cap", 17)) {
			snprintf(path, sizeof(path), "/dev/video%d", i);
			fd = open(path, O_RDWR | O_CLOEXEC);
		}
		fclose(f);
	}
	vivid_fd = fd;
	return fd;
}

int vivid_set_format(void)
{
	struct v4l2_format fmt = { .type = V4L2_BUF_TYPE_VIDEO_CAPTURE };

	if (ioctl(vivid_fd, VIDIOC_G_FMT, &fmt))
		return -errno;
	/* Small frames: the guest runs under TCG. */
	fmt.fmt.pix.width = 320;
	fmt.fmt.pix.height = 180;
	fmt.fmt.pix.pixelformat = V4L2_PIX_FMT_YUYV;
	if (ioctl(vivid_fd, VIDIOC_S_FMT, &fmt))
		return -errno;
	vivid_frame_size = page_round(fmt.fmt.pix.sizeimage);
	return 0;
}

int vivid_reqbufs(unsigned int count, unsigned int memory)
{
	struct v4l2_requestbuffers rb = {
		.count = count, .type = V4L2_BUF_TYPE_VIDEO_CAPTURE, .memory = memory,
	};

	return ioctl(vivid_fd, VIDIOC_REQBUFS, &rb) ? -errno : (int)rb.count;
}

int vivid_qbuf_dmabuf(unsigned int index, int fd, size_t len)
{
	struct v4l2_buffer b = {
		.index = index, .type = V4L2_BUF_TYPE_VIDEO_CAPTURE,
		.memory = V4L2_MEMORY_DMABUF, .m.fd = fd, .length = len,
	};

	return ioctl(vivid_fd, VIDIOC_QBUF, &b) ? -errno : 0;
}

int vivid_stream(int on)
{
	int type = V4L2_BUF_TYPE_VIDEO_CAPTURE;

	return ioctl(vivid_fd, on ? VIDIOC_STREAMON : VIDIOC_STREAMOFF, &type) ? -errno : 0;
}
