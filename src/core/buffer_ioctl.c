// SPDX-License-Identifier: GPL-2.0-only
/*
 * The ioctls of a buffer fd: CPU access bracketing (the mainline
 * DMA_BUF_IOCTL_SYNC ABI) and dmabuf-core's own query.
 */
#include <linux/fs.h>
#include <linux/string.h>
#include <linux/uaccess.h>
#include <uapi/linux/dmabuf_core.h>

#include "internal.h"

static long dmabuf_ioctl_sync(struct dmabuf *buf, void __user *uarg)
{
	int (*access)(struct dmabuf *buf, enum dma_data_direction dir);
	struct dmabuf_core_sync sync;
	enum dma_data_direction dir;
	int ret;

	if (copy_from_user(&sync, uarg, sizeof(sync)))
		return -EFAULT;
	if (sync.flags & ~(__u64)DMABUF_CORE_SYNC_VALID_FLAGS)
		return -EINVAL;

	switch (sync.flags & DMABUF_CORE_SYNC_RW) {
	case DMABUF_CORE_SYNC_READ:
		dir = DMA_FROM_DEVICE;
		break;
	case DMABUF_CORE_SYNC_WRITE:
		dir = DMA_TO_DEVICE;
		break;
	case DMABUF_CORE_SYNC_RW:
		dir = DMA_BIDIRECTIONAL;
		break;
	default:
		return -EINVAL;
	}

	if (sync.flags & DMABUF_CORE_SYNC_END)
		access = buf->ops->end_cpu_access;
	else
		access = buf->ops->begin_cpu_access;
	if (!access)
		return 0;

	ret = mutex_lock_interruptible(&buf->lock);
	if (ret)
		return ret;
	ret = access(buf, dir);
	mutex_unlock(&buf->lock);
	return ret;
}

static long dmabuf_ioctl_query(struct dmabuf *buf, void __user *uarg)
{
	struct dmabuf_core_query q;

	if (copy_from_user(&q, uarg, sizeof(q)))
		return -EFAULT;
	if (q.flags || q.reserved0 || memchr_inv(q.reserved, 0, sizeof(q.reserved)))
		return -EINVAL;

	memset(&q, 0, sizeof(q));
	q.size = buf->size;
	q.id = buf->id;
	strscpy(q.exporter, buf->exp_name, sizeof(q.exporter));
	mutex_lock(&buf->lock);
	q.attachments = buf->nr_attachments;
	q.mappings = buf->nr_mappings;
	mutex_unlock(&buf->lock);

	if (copy_to_user(uarg, &q, sizeof(q)))
		return -EFAULT;
	return 0;
}

long dmabuf_buffer_ioctl(struct file *file, unsigned int cmd,
			 unsigned long arg)
{
	struct dmabuf *buf = file->private_data;
	void __user *uarg = (void __user *)arg;

	switch (cmd) {
	case DMABUF_CORE_IOCTL_SYNC:
		return dmabuf_ioctl_sync(buf, uarg);
	case DMABUF_CORE_IOCTL_QUERY:
		return dmabuf_ioctl_query(buf, uarg);
	default:
		return -ENOTTY;
	}
}
