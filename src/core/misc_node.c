// SPDX-License-Identifier: GPL-2.0-only
/*
 * /dev/dmabuf and /dev/dmabuf-contig: hand out buffer fds through the
 * mainline dma-heap allocation ABI (system memory in page chunks, and
 * physically contiguous memory placed at first use), and report
 * dmabuf-core's counters and what it knows of a buffer fd.
 */
#include <linux/dma-buf.h>
#include <linux/err.h>
#include <linux/fcntl.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/stddef.h>
#include <linux/string.h>
#include <linux/uaccess.h>
#include <uapi/linux/dmabuf_core.h>

#include "internal.h"

/**
 * struct dcore_node - one allocator node
 * @misc:	the misc device; misc_open() makes it the file's private_data
 * @alloc:	makes a buffer of @len bytes whose file has @fd_flags' access
 *		mode
 *
 * Static and never changed after registration: no locking.
 */
struct dcore_node {
	struct miscdevice misc;
	struct dmabuf_core_buffer *(*alloc)(u64 len, unsigned int fd_flags);
};

/*
 * Like DMA_HEAP_IOCTL_ALLOC, accept an argument shorter or longer than
 * ours: the size is part of the ioctl number.  Missing trailing input
 * fields read as zero; bytes beyond ours are left alone.  Unlike it, refuse
 * a structure too short to carry the new fd back, so no fd is lost.
 */
static long dcore_node_alloc(const struct dcore_node *node, unsigned int cmd,
			     void __user *uarg)
{
	size_t usize = _IOC_SIZE(cmd);
	size_t in = _IOC_DIR(cmd) & _IOC_WRITE ? usize : 0;
	size_t out = _IOC_DIR(cmd) & _IOC_READ ? usize : 0;
	struct dmabuf_core_alloc data = {};
	struct dmabuf_core_buffer *buf;
	int fd;

	if (out < offsetofend(struct dmabuf_core_alloc, fd))
		return -EINVAL;
	if (copy_from_user(&data, uarg, min(in, sizeof(data))))
		return -EFAULT;
	/* Access mode 3 is no mode: a buffer nobody could map. */
	if (data.fd || data.heap_flags ||
	    (data.fd_flags & ~(O_ACCMODE | O_CLOEXEC)) ||
	    (data.fd_flags & O_ACCMODE) == O_ACCMODE)
		return -EINVAL;

	buf = node->alloc(data.len, data.fd_flags);
	if (IS_ERR(buf))
		return PTR_ERR(buf);

	fd = get_unused_fd_flags(data.fd_flags & O_CLOEXEC);
	if (fd < 0) {
		dmabuf_core_put(buf);
		return fd;
	}
	data.fd = fd;
	if (copy_to_user(uarg, &data, min(out, sizeof(data)))) {
		put_unused_fd(fd);
		dmabuf_core_put(buf);
		return -EFAULT;
	}
	fd_install(fd, buf->dmabuf->file);
	return 0;
}

static long dcore_node_stats(void __user *uarg)
{
	struct dmabuf_core_stats st;

	if (copy_from_user(&st, uarg, sizeof(st)))
		return -EFAULT;
	if (st.flags || st.reserved0 || st.reserved1)
		return -EINVAL;

	dcore_read_stats(&st);
	st.system_pages = atomic_long_read(&dcore_system_pages);
	st.contig_pages = atomic_long_read(&dcore_contig_pages);
	if (copy_to_user(uarg, &st, sizeof(st)))
		return -EFAULT;
	return 0;
}

static long dcore_node_query(void __user *uarg)
{
	struct dmabuf_core_query q;
	struct dma_buf *dmabuf;
	int fd;

	if (copy_from_user(&q, uarg, sizeof(q)))
		return -EFAULT;
	if (q.flags || memchr_inv(q.reserved, 0, sizeof(q.reserved)))
		return -EINVAL;
	fd = q.fd;
	dmabuf = dma_buf_get(fd);
	if (IS_ERR(dmabuf))
		return PTR_ERR(dmabuf);

	memset(&q, 0, sizeof(q));
	q.fd = fd;
	dcore_query(dmabuf, &q);
	dma_buf_put(dmabuf);

	if (copy_to_user(uarg, &q, sizeof(q)))
		return -EFAULT;
	return 0;
}

static long dcore_node_ioctl(struct file *file, unsigned int cmd,
			     unsigned long arg)
{
	struct dcore_node *node = container_of(file->private_data,
					       struct dcore_node, misc);
	void __user *uarg = (void __user *)arg;

	switch (cmd) {
	case DMABUF_CORE_IOCTL_STATS:
		return dcore_node_stats(uarg);
	case DMABUF_CORE_IOCTL_QUERY:
		return dcore_node_query(uarg);
	case DMABUF_CORE_IOCTL_CONSTRAIN:
		return dcore_node_constrain(uarg);
	}
	if (_IOC_TYPE(cmd) == _IOC_TYPE(DMABUF_CORE_IOCTL_ALLOC) &&
	    _IOC_NR(cmd) == _IOC_NR(DMABUF_CORE_IOCTL_ALLOC))
		return dcore_node_alloc(node, cmd, uarg);
	return -ENOTTY;
}

static const struct file_operations dcore_node_fops = {
	.owner		= THIS_MODULE,
	.unlocked_ioctl	= dcore_node_ioctl,
	.compat_ioctl	= compat_ptr_ioctl,
};

static struct dcore_node dcore_nodes[] = {
	{
		.misc = {
			.minor	= MISC_DYNAMIC_MINOR,
			.name	= "dmabuf",
			.fops	= &dcore_node_fops,
		},
		.alloc = dcore_system_alloc,
	},
	{
		.misc = {
			.minor	= MISC_DYNAMIC_MINOR,
			.name	= "dmabuf-contig",
			.fops	= &dcore_node_fops,
		},
		.alloc = dcore_contig_alloc,
	},
};

int dcore_node_register(void)
{
	unsigned int i;
	int ret;

	for (i = 0; i < ARRAY_SIZE(dcore_nodes); i++) {
		ret = misc_register(&dcore_nodes[i].misc);
		if (ret)
			goto err_unregister;
	}
	return 0;

err_unregister:
	while (i--)
		misc_deregister(&dcore_nodes[i].misc);
	return ret;
}

void dcore_node_unregister(void)
{
	unsigned int i = ARRAY_SIZE(dcore_nodes);

	while (i--)
		misc_deregister(&dcore_nodes[i].misc);
}
