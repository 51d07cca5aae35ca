// SPDX-License-Identifier: GPL-2.0-only
/*
 * Buffer objects: export, file descriptors, references.
 *
 * A buffer of ours is a kernel dma-buf whose operations are the core's
 * (kernel_ops.c) and whose priv is our struct dcore_buffer.  Every reference
 * to such a buffer, an fd, a kernel reference from dmabuf_core_get() or a
 * kernel driver's dma_buf_get(), an attachment made with
 * dmabuf_core_attach(), a user mapping, is a reference to the dma-buf's
 * file, so the kernel's release of the dma-buf is the one place where a
 * buffer ends, exactly once.  Buffers of other exporters are wrapped by
 * import.c.
 */
#include <linux/atomic.h>
#include <linux/dma-buf.h>
#include <linux/dma-resv.h>
#include <linux/err.h>
#include <linux/fcntl.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <uapi/linux/dmabuf_core.h>

#include "../compat.h"
#include "internal.h"
#include "dcore_trace.h"

static atomic64_t dcore_last_id = ATOMIC64_INIT(0);
static atomic64_t dcore_exported = ATOMIC64_INIT(0);
static atomic64_t dcore_released = ATOMIC64_INIT(0);
static atomic64_t dcore_live_bytes = ATOMIC64_INIT(0);

/* One call site, so that every buffer's lock is one lockdep class. */
void dcore_buffer_lock_init(struct dcore_buffer *b)
{
	mutex_init(&b->lock);
	INIT_LIST_HEAD(&b->attachments);
	b->pub.id = atomic64_inc_return(&dcore_last_id);
}

/*
 * Teach lockdep the documented order at load, as dma_resv_lockdep() does
 * for the kernel's: mmap_lock, then a dma-buf's reservation lock, then a
 * buffer's lock.  A later inversion is then reported at once, not only
 * when two paths happen to race.
 */
void dcore_lockdep_prime(void)
{
	struct mm_struct *mm = current->mm;
	struct dcore_buffer *b;
	struct dma_resv resv;

	if (!IS_ENABLED(CONFIG_LOCKDEP) || !mm)
		return;
	b = kzalloc(sizeof(*b), GFP_KERNEL);
	if (!b)
		return;
	dcore_buffer_lock_init(b);
	dma_resv_init(&resv);

	mmap_read_lock(mm);
	dma_resv_lock(&resv, NULL);
	mutex_lock(&b->lock);
	mutex_unlock(&b->lock);
	dma_resv_unlock(&resv);
	mmap_read_unlock(mm);

	dma_resv_fini(&resv);
	mutex_destroy(&b->lock);
	kfree(b);
}

void dcore_read_stats(struct dmabuf_core_stats *st)
{
	s64 released = atomic64_read(&dcore_released);

	st->exported = atomic64_read(&dcore_exported);
	st->released = released;
	st->live_buffers = st->exported - released;
	st->live_bytes = atomic64_read(&dcore_live_bytes);
}

void dcore_count_release(size_t size)
{
	atomic64_sub(size, &dcore_live_bytes);
	atomic64_inc(&dcore_released);
}

/* QUERY: what /dev/dmabuf tells about a dma-buf, ours or foreign. */
void dcore_query(struct dma_buf *dmabuf, struct dmabuf_core_query *q)
{
	struct dcore_buffer *b;

	q->size = dmabuf->size;
	if (!dcore_is_own_dma_buf(dmabuf)) {
		q->info |= DMABUF_CORE_QUERY_FOREIGN;
		strscpy(q->exporter, dmabuf->exp_name ?: "", sizeof(q->exporter));
		return;
	}
	b = dmabuf->priv;
	q->id = b->pub.id;
	strscpy(q->exporter, b->exp_name, sizeof(q->exporter));
	/* Counters only: a reader must not wait behind a long allocation. */
	q->attachments = READ_ONCE(b->nr_attachments);
	q->mappings = READ_ONCE(b->nr_mappings);
	q->moves = READ_ONCE(b->moves);
}

/**
 * dmabuf_core_export_from - create a buffer for an exporter
 * @info: what the buffer is: size, operations, private data, owner
 * @caller: the module calling (THIS_MODULE; dmabuf_core_export() passes
 *	it), NULL for built-in code
 *
 * Creates the kernel dma-buf of the buffer.  The buffer starts with one
 * reference, owned by the caller: hand it to userspace with
 * dmabuf_core_fd() or drop it with dmabuf_core_put().  From here on the
 * exporter's private data belongs to the buffer: &dmabuf_core_ops.release
 * frees it, on any later error path too.  The exporter's module
 * (@info->owner) can not be unloaded while the buffer lives.
 *
 * Context: process context; may sleep.
 * Return: the buffer, or ERR_PTR(-EINVAL) for a size that is zero or not a
 * multiple of PAGE_SIZE, missing map, unmap or release operations, a
 * missing name, no @info->owner when called from a module, or file flags
 * other than an access mode (O_RDONLY, O_WRONLY or O_RDWR) and O_CLOEXEC;
 * ERR_PTR(-ENOENT) when the owner module is going away; ERR_PTR(-ENOMEM).
 */
struct dmabuf_core_buffer *
dmabuf_core_export_from(const struct dmabuf_core_export_info *info,
			struct module *caller)
{
	DEFINE_DMA_BUF_EXPORT_INFO(exp);
	struct dma_buf *dmabuf;
	struct dcore_buffer *b;
	int ret;

	if (!info || !info->ops || !info->exp_name)
		return ERR_PTR(-EINVAL);
	/* Ops in a module, and nothing to pin it: refuse. */
	if (caller && !info->owner)
		return ERR_PTR(-EINVAL);
	if (!info->ops->map || !info->ops->unmap || !info->ops->release)
		return ERR_PTR(-EINVAL);
	if (!info->size || !PAGE_ALIGNED(info->size))
		return ERR_PTR(-EINVAL);
	if ((info->flags & ~(O_ACCMODE | O_CLOEXEC)) ||
	    (info->flags & O_ACCMODE) == O_ACCMODE)
		return ERR_PTR(-EINVAL);

	if (!try_module_get(info->owner))
		return ERR_PTR(-ENOENT);

	b = kzalloc(sizeof(*b), DCORE_GFP_RECORD);
	if (!b) {
		ret = -ENOMEM;
		goto err_module;
	}
	b->pub.size = info->size;
	b->pub.ops = info->ops;
	b->pub.priv = info->priv;
	b->exp_name = info->exp_name;
	b->owner = info->owner;
	dcore_buffer_lock_init(b);

	/* The kernel pins this module (exp.owner) while the dma-buf lives. */
	exp.exp_name = info->exp_name;
	exp.ops = &dcore_ops_no_vmap;
	exp.size = info->size;
	exp.flags = info->flags & O_ACCMODE;
	exp.priv = b;
	dmabuf = dma_buf_export(&exp);
	if (IS_ERR(dmabuf)) {
		ret = PTR_ERR(dmabuf);
		goto err_free;
	}
	b->pub.dmabuf = dmabuf;

	atomic64_add(info->size, &dcore_live_bytes);
	atomic64_inc(&dcore_exported);
	trace_dmabuf_core_export(b->pub.id, b->pub.size, b->exp_name);
	return &b->pub;

err_free:
	mutex_destroy(&b->lock);
	kfree(b);
err_module:
	module_put(info->owner);
	return ERR_PTR(ret);
}
EXPORT_SYMBOL_NS_GPL(dmabuf_core_export_from, DMABUF_CORE_NS);

/**
 * dmabuf_core_fd - give the caller's reference to a new file descriptor
 * @buf: the buffer
 * @flags: 0 or O_CLOEXEC
 *
 * The fd is the buffer's dma-buf, which any kernel importer accepts; for an
 * imported buffer it is the original dma-buf, not a wrapper.  On success the
 * fd owns the reference the caller had; on failure the caller still owns it.
 *
 * Context: process context.
 * Return: the fd, -EINVAL for other @flags, or -EMFILE.
 */
int dmabuf_core_fd(struct dmabuf_core_buffer *buf, int flags)
{
	struct dcore_buffer *b;
	int fd;

	if (!buf || !buf->dmabuf || (flags & ~O_CLOEXEC))
		return -EINVAL;
	b = to_dcore_buffer(buf);

	fd = get_unused_fd_flags(flags);
	if (fd < 0)
		return fd;
	if (b->imported) {
		/* The fd takes a file reference; the wrapper's goes. */
		get_dma_buf(buf->dmabuf);
		fd_install(fd, buf->dmabuf->file);
		dcore_import_put(b);
	} else {
		fd_install(fd, buf->dmabuf->file);
	}
	return fd;
}
EXPORT_SYMBOL_NS_GPL(dmabuf_core_fd, DMABUF_CORE_NS);

/* Turn a dma-buf reference into a buffer reference (consumed either way). */
static struct dmabuf_core_buffer *dcore_from_dma_buf_ref(struct dma_buf *dmabuf)
{
	if (dcore_is_own_dma_buf(dmabuf))
		return &((struct dcore_buffer *)dmabuf->priv)->pub;
	return dcore_import(dmabuf);
}

/**
 * dmabuf_core_get - the buffer behind a file descriptor, with a reference
 * @fd: file descriptor of the calling process
 *
 * Accepts any kernel dma-buf.  A buffer of ours comes back as itself,
 * however it travelled (through userspace, a kernel driver's re-export...);
 * another exporter's dma-buf comes back as an imported buffer, the same one
 * for every get while any reference to it lives.  Drop the reference with
 * dmabuf_core_put().
 *
 * Context: process context; may sleep.
 * Return: the buffer, ERR_PTR(-EBADF) if @fd is not open, ERR_PTR(-EINVAL)
 * if it is open on anything but a dma-buf (a pipe, a device node...),
 * ERR_PTR(-ENOMEM).
 */
struct dmabuf_core_buffer *dmabuf_core_get(int fd)
{
	struct dma_buf *dmabuf = dma_buf_get(fd);

	if (IS_ERR(dmabuf))
		return ERR_CAST(dmabuf);
	return dcore_from_dma_buf_ref(dmabuf);
}
EXPORT_SYMBOL_NS_GPL(dmabuf_core_get, DMABUF_CORE_NS);

/**
 * dmabuf_core_from_dma_buf - the buffer of a kernel dma-buf
 * @dmabuf: a dma-buf the caller holds a reference on
 *
 * Like dmabuf_core_get(), for a caller that has the struct dma_buf.  The
 * caller keeps its own reference; the buffer comes with a new one.
 *
 * Context: process context; may sleep.
 * Return: the buffer, ERR_PTR(-EINVAL) for NULL, or ERR_PTR(-ENOMEM).
 */
struct dmabuf_core_buffer *dmabuf_core_from_dma_buf(struct dma_buf *dmabuf)
{
	if (IS_ERR_OR_NULL(dmabuf))
		return ERR_PTR(-EINVAL);
	get_dma_buf(dmabuf);
	return dcore_from_dma_buf_ref(dmabuf);
}
EXPORT_SYMBOL_NS_GPL(dmabuf_core_from_dma_buf, DMABUF_CORE_NS);

/**
 * dmabuf_core_ref - take one more reference on a buffer
 * @buf: a buffer the caller holds a reference on
 */
void dmabuf_core_ref(struct dmabuf_core_buffer *buf)
{
	struct dcore_buffer *b = to_dcore_buffer(buf);

	if (b->imported)
		dcore_import_get(b);
	else
		get_dma_buf(buf->dmabuf);
}
EXPORT_SYMBOL_NS_GPL(dmabuf_core_ref, DMABUF_CORE_NS);

/**
 * dmabuf_core_put - drop a reference on a buffer
 * @buf: the buffer, or NULL (then nothing happens)
 *
 * When the last reference to a buffer of ours goes, the exporter's release
 * runs: for a put from process context, before the caller returns to
 * userspace; from a kernel thread, shortly after, from a work item.  The
 * last put of an imported buffer drops the reference on the original.
 *
 * Context: process context; may sleep.
 */
void dmabuf_core_put(struct dmabuf_core_buffer *buf)
{
	struct dcore_buffer *b;

	if (!buf)
		return;
	b = to_dcore_buffer(buf);
	if (b->imported)
		dcore_import_put(b);
	else
		dma_buf_put(buf->dmabuf);
}
EXPORT_SYMBOL_NS_GPL(dmabuf_core_put, DMABUF_CORE_NS);

/**
 * dmabuf_core_is_imported - whether a buffer belongs to another exporter
 * @buf: the buffer
 *
 * Return: true for a kernel dma-buf that dmabuf-core did not export (its
 * &dmabuf_core_buffer.ops and &dmabuf_core_buffer.priv are then NULL).
 */
bool dmabuf_core_is_imported(const struct dmabuf_core_buffer *buf)
{
	return container_of(buf, struct dcore_buffer, pub)->imported;
}
EXPORT_SYMBOL_NS_GPL(dmabuf_core_is_imported, DMABUF_CORE_NS);

/**
 * dmabuf_core_is_writable - whether devices and the CPU may write a buffer
 * @buf: the buffer
 *
 * Return: true when its dma-buf was exported with write access.  A buffer
 * of ours without it maps only %DMA_TO_DEVICE; another exporter's buffer
 * follows that exporter's rules.
 */
bool dmabuf_core_is_writable(const struct dmabuf_core_buffer *buf)
{
	return dcore_writable(buf->dmabuf);
}
EXPORT_SYMBOL_NS_GPL(dmabuf_core_is_writable, DMABUF_CORE_NS);

/**
 * dmabuf_core_lock_storage - take a buffer's lock outside the callbacks
 * @buf: a buffer of ours, of the caller's own exporter
 *
 * For an exporter's code that runs outside its &dmabuf_core_ops callbacks
 * and must be serialised with them: a page fault handler that allocates
 * deferred storage, an ioctl that fills the buffer.  The lock order is
 * mmap_lock, then the dma-buf's reservation lock, then this: a fault
 * handler may take it, but nothing may fault on user memory or take a
 * reservation lock while holding it.  Never call it from a callback.
 *
 * Context: process context; may sleep.
 * Return: 0, -EINTR when a signal interrupted the wait, or -EINVAL for an
 * imported buffer.
 */
int dmabuf_core_lock_storage(struct dmabuf_core_buffer *buf)
{
	struct dcore_buffer *b = to_dcore_buffer(buf);

	if (b->imported)
		return -EINVAL;
	return mutex_lock_interruptible(&b->lock);
}
EXPORT_SYMBOL_NS_GPL(dmabuf_core_lock_storage, DMABUF_CORE_NS);

/**
 * dmabuf_core_lock_storage_killable - dmabuf_core_lock_storage(), giving
 *	up only for a fatal signal
 * @buf: a buffer of ours, of the caller's own exporter
 *
 * For a fault taken in kernel mode (a copy_to_user() into a mapping of the
 * buffer): failing it fails the system call with -EFAULT, so an ordinary
 * signal must not end the wait; retrying it would spin in the kernel with
 * the signal pending.  Same rules as dmabuf_core_lock_storage().
 *
 * Context: process context; may sleep.
 * Return: 0, -EINTR when the task was killed, or -EINVAL for an imported
 * buffer.
 */
int dmabuf_core_lock_storage_killable(struct dmabuf_core_buffer *buf)
{
	struct dcore_buffer *b = to_dcore_buffer(buf);

	if (b->imported)
		return -EINVAL;
	return mutex_lock_killable(&b->lock);
}
EXPORT_SYMBOL_NS_GPL(dmabuf_core_lock_storage_killable, DMABUF_CORE_NS);

/**
 * dmabuf_core_unlock_storage - undo dmabuf_core_lock_storage()
 * @buf: the buffer
 */
void dmabuf_core_unlock_storage(struct dmabuf_core_buffer *buf)
{
	mutex_unlock(&to_dcore_buffer(buf)->lock);
}
EXPORT_SYMBOL_NS_GPL(dmabuf_core_unlock_storage, DMABUF_CORE_NS);
