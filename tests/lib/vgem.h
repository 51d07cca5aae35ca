/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The stock vgem DRM driver as a test peer: PRIME import and export and its
 * fence ioctls.  The few DRM structures are declared here (Debian 12 has
 * no DRM uapi headers outside libdrm).
 */
#ifndef DMABUF_TESTS_VGEM_H
#define DMABUF_TESTS_VGEM_H

#include <linux/ioctl.h>
#include <linux/types.h>

struct t_drm_gem_close { __u32 handle, pad; };
struct t_drm_prime_handle { __u32 handle, flags; __s32 fd; };
struct t_drm_create_dumb { __u32 height, width, bpp, flags, handle, pitch; __u64 size; };
struct t_vgem_fence_attach { __u32 handle, flags, out_fence, pad; };
struct t_vgem_fence_signal { __u32 fence, flags; };
#define T_DRM_IOCTL_GEM_CLOSE		_IOW('d', 0x09, struct t_drm_gem_close)
#define T_DRM_IOCTL_PRIME_HANDLE_TO_FD	_IOWR('d', 0x2d, struct t_drm_prime_handle)
#define T_DRM_IOCTL_PRIME_FD_TO_HANDLE	_IOWR('d', 0x2e, struct t_drm_prime_handle)
#define T_DRM_IOCTL_MODE_CREATE_DUMB	_IOWR('d', 0xb2, struct t_drm_create_dumb)
#define T_VGEM_FENCE_WRITE		0x1
#define T_DRM_IOCTL_VGEM_FENCE_ATTACH	_IOWR('d', 0x41, struct t_vgem_fence_attach)
#define T_DRM_IOCTL_VGEM_FENCE_SIGNAL	_IOW('d', 0x42, struct t_vgem_fence_signal)

#define VGEM_CARD	"/dev/dri/card0"

/* The vgem card, or -errno. */
int vgem_open(void);
/* DRM_IOCTL_PRIME_FD_TO_HANDLE: 0 or -errno. */
int vgem_prime_import(int vgem, int fd, __u32 *handle);
/* DRM_IOCTL_PRIME_HANDLE_TO_FD (read-write, close-on-exec): fd or -errno. */
int vgem_prime_export(int vgem, __u32 handle);
void vgem_gem_close(int vgem, __u32 handle);

#endif /* DMABUF_TESTS_VGEM_H */
