// SPDX-License-Identifier: GPL-2.0-only
/*
 * Buffer objects: export, the file that represents a buffer, references.
 *
 * A buffer and its file live and die together: every reference to a
 * buffer, an fd, a kernel reference from dmabuf_get() or dmabuf_ref(), an
 * attachment or a user mapping, is a reference to the file, so the file's
 * release is the one place where a buffer ends, exactly once.
 */
#include <linux/anon_inodes.h>
#include <linux/atomic.h>
#include <linux/err.h>
#include <linux/fcntl.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <uapi/linux/dmabuf_core.h>

#include "../compat.h"
#include "internal.h"

static atomic64_t dmabuf_last_id = ATOMIC64_INIT(0);
static atomic64_t dmabuf_exported = ATOMIC64_INIT(0);
static atomic64_t dmabuf_released = ATOMIC64_INIT(0);
static atomic64_t dmabuf_live_bytes = ATOMIC64_INIT(0);

static int dmabuf_file_release(struct inode *inode, struct file *file)
{
	struct dmabuf *buf = file->private_data;
	struct module *owner = buf->owner;
	size_t size = buf->size;

	/* Attachments hold a file reference, so none can be left here. */
	WARN_ON(!list_empty(&buf->attachments));

	buf->ops->release(buf);
	mutex_destroy(&buf->lock);
	kfree(buf);

	atomic64_sub(size, &dmabuf_live_bytes);
	atomic64_inc(&dmabuf_released);
	/* Last: the release op above may be code of this module. */
	module_put(owner);
	return 0;
}

/* Only the two queries userspace uses to learn the size are supported. */
static loff_t dmabuf_file_llseek(struct file *file, loff_t offset, int whence)
{
	struct dmabuf *buf = file->private_data;

	if (offset != 0)
		return -EINVAL;
	switch (whence) {
	case SEEK_SET:
		return 0;
	case SEEK_END:
		return buf->size;
	default:
		return -EINVAL;
	}
}

static int dmabuf_file_mmap(struct file *file, struct vm_area_struct *vma)
{
	struct dmabuf *buf = file->private_data;
	unsigned long nr_pages = buf->size >> PAGE_SHIFT;

	if (!buf->ops->mmap)
		return -ENODEV;
	/*
	 * A private copy-on-write view of shared device memory makes no
	 * sense.  VM_MAYSHARE, not VM_SHARED: the kernel clears VM_SHARED
	 * for a shared mapping of a read-only file.
	 */
	if (!(vma->vm_flags & VM_MAYSHARE))
		return -EINVAL;
	if (vma->vm_pgoff >= nr_pages ||
	    vma_pages(vma) > nr_pages - vma->vm_pgoff)
		return -EINVAL;

	return buf->ops->mmap(buf, vma);
}

static void dmabuf_file_show_fdinfo(struct seq_file *m, struct file *file)
{
	struct dmabuf *buf = file->private_data;
	unsigned int attachments;

	mutex_lock(&buf->lock);
	attachments = buf->nr_attachments;
	mutex_unlock(&buf->lock);

	seq_printf(m, "size:\t%zu\n", buf->size);
	seq_printf(m, "exp_name:\t%s\n", buf->exp_name);
	seq_printf(m, "buf_id:\t%llu\n", buf->id);
	seq_printf(m, "attachments:\t%u\n", attachments);
}

static const struct file_operations dmabuf_file_ops = {
	.owner		= THIS_MODULE,
	.release	= dmabuf_file_release,
	.llseek		= dmabuf_file_llseek,
	.mmap		= dmabuf_file_mmap,
	.unlocked_ioctl	= dmabuf_buffer_ioctl,
	.compat_ioctl	= compat_ptr_ioctl,
	.show_fdinfo	= dmabuf_file_show_fdinfo,
};

bool dmabuf_is_ours(const struct file *file)
{
	return file->f_op == &dmabuf_file_ops;
}

void dmabuf_core_read_stats(struct dmabuf_core_stats *st)
{
	s64 released = atomic64_read(&dmabuf_released);

	st->exported = atomic64_read(&dmabuf_exported);
	st->released = released;
	st->live_buffers = st->exported - released;
	st->live_bytes = atomic64_read(&dmabuf_live_bytes);
}

/**
 * dmabuf_export - create a buffer for an exporter
 * @info: what the buffer is: size, operations, private data, owner
 *
 * The buffer starts with one reference, owned by the caller: hand it to
 * userspace with dmabuf_fd() or drop it with dmabuf_put().  From here on
 * the exporter's private data belongs to the buffer: &dmabuf_ops.release
 * frees it, on any later error path too.  The exporter's module (@info->owner)
 * can not be unloaded while the buffer lives.
 *
 * Context: process context; may sleep.
 * Return: the buffer, or ERR_PTR(-EINVAL) for a size that is zero or not a
 * multiple of PAGE_SIZE, missing map, unmap or release operations, or file
 * flags other than an access mode and O_CLOEXEC; ERR_PTR(-ENOENT) when the
 * owner module is going away; ERR_PTR(-ENOMEM).
 */
struct dmabuf *dmabuf_export(const struct dmabuf_export_info *info)
{
	struct dmabuf *buf;
	struct file *file;
	int ret;

	if (!info || !info->ops || !info->exp_name)
		return ERR_PTR(-EINVAL);
	if (!info->ops->map || !info->ops->unmap || !info->ops->release)
		return ERR_PTR(-EINVAL);
	if (!info->size || !PAGE_ALIGNED(info->size))
		return ERR_PTR(-EINVAL);
	if (info->flags & ~(O_ACCMODE | O_CLOEXEC))
		return ERR_PTR(-EINVAL);

	if (!try_module_get(info->owner))
		return ERR_PTR(-ENOENT);

	buf = kzalloc(sizeof(*buf), GFP_KERNEL);
	if (!buf) {
		ret = -ENOMEM;
		goto err_module;
	}
	buf->size = info->size;
	buf->ops = info->ops;
	buf->exp_name = info->exp_name;
	buf->owner = info->owner;
	buf->priv = info->priv;
	buf->id = atomic64_inc_return(&dmabuf_last_id);
	mutex_init(&buf->lock);
	INIT_LIST_HEAD(&buf->attachments);

	file = anon_inode_getfile("dmabuf", &dmabuf_file_ops, buf,
				  info->flags & O_ACCMODE);
	if (IS_ERR(file)) {
		ret = PTR_ERR(file);
		goto err_free;
	}
	buf->file = file;

	atomic64_add(buf->size, &dmabuf_live_bytes);
	atomic64_inc(&dmabuf_exported);
	return buf;

err_free:
	mutex_destroy(&buf->lock);
	kfree(buf);
err_module:
	module_put(info->owner);
	return ERR_PTR(ret);
}
EXPORT_SYMBOL_NS_GPL(dmabuf_export, DMABUF_CORE_NS);

/**
 * dmabuf_fd - give the caller's reference to a new file descriptor
 * @buf: the buffer
 * @flags: 0 or O_CLOEXEC
 *
 * On success the fd owns the reference the caller had; on failure the
 * caller still owns it.
 *
 * Context: process context.
 * Return: the fd, -EINVAL for other @flags, or -EMFILE.
 */
int dmabuf_fd(struct dmabuf *buf, int flags)
{
	int fd;

	if (!buf || !buf->file || (flags & ~O_CLOEXEC))
		return -EINVAL;

	fd = get_unused_fd_flags(flags);
	if (fd < 0)
		return fd;
	fd_install(fd, buf->file);
	return fd;
}
EXPORT_SYMBOL_NS_GPL(dmabuf_fd, DMABUF_CORE_NS);

/**
 * dmabuf_get - the buffer behind a file descriptor, with a reference
 * @fd: file descriptor of the calling process
 *
 * Drop the reference with dmabuf_put().
 *
 * Context: process context.
 * Return: the buffer, ERR_PTR(-EBADF) if @fd is not open, ERR_PTR(-EINVAL)
 * if it is open on anything but a dmabuf-core buffer (a pipe, a device
 * node, a mainline dma-buf...).
 */
struct dmabuf *dmabuf_get(int fd)
{
	struct file *file = fget(fd);

	if (!file)
		return ERR_PTR(-EBADF);
	if (!dmabuf_is_ours(file)) {
		fput(file);
		return ERR_PTR(-EINVAL);
	}
	return file->private_data;
}
EXPORT_SYMBOL_NS_GPL(dmabuf_get, DMABUF_CORE_NS);

/**
 * dmabuf_ref - take one more reference on a buffer
 * @buf: a buffer the caller holds a reference on
 */
void dmabuf_ref(struct dmabuf *buf)
{
	get_file(buf->file);
}
EXPORT_SYMBOL_NS_GPL(dmabuf_ref, DMABUF_CORE_NS);

/**
 * dmabuf_put - drop a reference on a buffer
 * @buf: the buffer, or NULL (then nothing happens)
 *
 * When the last reference goes, the exporter's release runs: for a put
 * from process context, before the caller returns to userspace; from a
 * kernel thread, shortly after, from a work item.
 */
void dmabuf_put(struct dmabuf *buf)
{
	if (buf)
		fput(buf->file);
}
EXPORT_SYMBOL_NS_GPL(dmabuf_put, DMABUF_CORE_NS);
