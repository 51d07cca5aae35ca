// SPDX-License-Identifier: GPL-2.0-only
/*
 * /dev/dmabuf: hands out buffer fds of system memory through the mainline
 * dma-heap allocation ABI, and reports dmabuf-core's counters.
 */
#include <linux/fcntl.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/stddef.h>
#include <linux/string.h>
#include <linux/uaccess.h>
#include <uapi/linux/dmabuf_core.h>

#include "internal.h"

/*
 * Like DMA_HEAP_IOCTL_ALLOC, accept an argument shorter or longer than
 * ours: the size is part of the ioctl number.  Missing trailing input
 * fields read as zero; bytes beyond ours are left alone.  Unlike it, refuse
 * a structure too short to carry the new fd back, so no fd is lost.
 */
static long dmabuf_node_alloc(unsigned int cmd, void __user *uarg)
{
	size_t usize = _IOC_SIZE(cmd);
	size_t in = _IOC_DIR(cmd) & _IOC_WRITE ? usize : 0;
	size_t out = _IOC_DIR(cmd) & _IOC_READ ? usize : 0;
	struct dmabuf_core_alloc data = {};
	struct dmabuf *buf;
	int fd;

	if (out < offsetofend(struct dmabuf_core_alloc, fd))
		return -EINVAL;
	if (copy_from_user(&data, uarg, min(in, sizeof(data))))
		return -EFAULT;
	if (data.fd || data.heap_flags ||
	    (data.fd_flags & ~(O_ACCMODE | O_CLOEXEC)))
		return -EINVAL;

	buf = dmabuf_system_alloc(data.len, data.fd_flags);
	if (IS_ERR(buf))
		return PTR_ERR(buf);

	fd = get_unused_fd_flags(data.fd_flags & O_CLOEXEC);
	if (fd < 0) {
		dmabuf_put(buf);
		return fd;
	}
	data.fd = fd;
	if (copy_to_user(uarg, &data, min(out, sizeof(data)))) {
		put_unused_fd(fd);
		dmabuf_put(buf);
		return -EFAULT;
	}
	fd_install(fd, buf->file);
	return 0;
}

static long dmabuf_node_stats(void __user *uarg)
{
	struct dmabuf_core_stats st;

	if (copy_from_user(&st, uarg, sizeof(st)))
		return -EFAULT;
	if (st.flags || st.reserved0 ||
	    memchr_inv(st.reserved, 0, sizeof(st.reserved)))
		return -EINVAL;

	dmabuf_core_read_stats(&st);
	st.system_pages = atomic_long_read(&dmabuf_system_pages);
	if (copy_to_user(uarg, &st, sizeof(st)))
		return -EFAULT;
	return 0;
}

static long dmabuf_node_ioctl(struct file *file, unsigned int cmd,
			      unsigned long arg)
{
	void __user *uarg = (void __user *)arg;

	if (cmd == DMABUF_CORE_IOCTL_STATS)
		return dmabuf_node_stats(uarg);
	if (_IOC_TYPE(cmd) == _IOC_TYPE(DMABUF_CORE_IOCTL_ALLOC) &&
	    _IOC_NR(cmd) == _IOC_NR(DMABUF_CORE_IOCTL_ALLOC))
		return dmabuf_node_alloc(cmd, uarg);
	return -ENOTTY;
}

static const struct file_operations dmabuf_node_fops = {
	.owner		= THIS_MODULE,
	.unlocked_ioctl	= dmabuf_node_ioctl,
	.compat_ioctl	= compat_ptr_ioctl,
};

static struct miscdevice dmabuf_node = {
	.minor	= MISC_DYNAMIC_MINOR,
	.name	= "dmabuf",
	.fops	= &dmabuf_node_fops,
};

int dmabuf_node_register(void)
{
	return misc_register(&dmabuf_node);
}

void dmabuf_node_unregister(void)
{
	misc_deregister(&dmabuf_node);
}
