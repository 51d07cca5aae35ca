// SPDX-License-Identifier: GPL-2.0-only
/* The stock vgem DRM driver as a test peer. */
#include <errno.h>
#include <fcntl.h>
#include <sys/ioctl.h>

#include "vgem.h"

int vgem_open(void)
{
	int fd = open(VGEM_CARD, O_RDWR | O_CLOEXEC);

	return fd < 0 ? -errno : fd;
}

int vgem_prime_import(int vgem, int fd, __u32 *handle)
{
	struct t_drm_prime_handle ph = { .fd = fd };

	if (ioctl(vgem, T_DRM_IOCTL_PRIME_FD_TO_HANDLE, &ph))
		return -errno;
	*handle = ph.handle;
	return 0;
}

int vgem_prime_export(int vgem, __u32 handle)
{
	struct t_drm_prime_handle ph = { .handle = handle,
					 .flags = O_RDWR | O_CLOEXEC, .fd = -1 };

	if (ioctl(vgem, T_DRM_IOCTL_PRIME_HANDLE_TO_FD, &ph))
		return -errno;
	return ph.fd;
}

void vgem_gem_close(int vgem, __u32 handle)
{
	struct t_drm_gem_close gc = { .handle = handle };

	ioctl(vgem, T_DRM_IOCTL_GEM_CLOSE, &gc);
}
