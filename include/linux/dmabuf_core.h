/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * dmabuf-core: DMA buffer sharing between devices and processes, on top of
 * the kernel's own dma-buf.
 *
 * Every buffer is a kernel dma-buf.  An exporter wraps its memory in a
 * struct dmabuf_core_buffer of fixed size with dmabuf_core_export(); the
 * core creates the kernel's struct dma_buf for it, so its file descriptor
 * (dmabuf_core_fd()) is accepted by every in-kernel importer (V4L2, DRM
 * PRIME, ...) and behaves as any dma-buf fd does.  Each device attached to
 * the buffer, by a dmabuf-core importer or by a kernel driver through
 * dma_buf_attach(), becomes a struct dmabuf_core_attachment that the
 * exporter sees: an exporter may defer choosing backing storage until the
 * first map, when it knows every device.
 *
 * Importers use the same calls for any dma-buf: dmabuf_core_get() accepts
 * the fd of a buffer of ours and of any other kernel dma-buf (a V4L2 or DRM
 * export, a dma-heap or udmabuf buffer); dmabuf_core_attach() and
 * dmabuf_core_map_attachment() give an sg table DMA-mapped for the
 * importer's device.
 *
 * Lock order, outermost first (lockdep is primed with it at load):
 *   mmap_lock  ->  dma_resv (the dma-buf's reservation object)
 *              ->  the buffer's lock (internal to the core)
 * The core takes the buffer's lock around the exporter's attach, detach,
 * map, unmap and cpu-access callbacks, and never takes mmap_lock or a
 * dma_resv lock under it.  Exporters must not call dmabuf_core_attach(),
 * dmabuf_core_map_attachment() and the like on the same buffer from those
 * callbacks.
 *
 * All symbols live in the DMABUF_CORE symbol namespace: users add
 * DMABUF_CORE_IMPORT_NS() (MODULE_IMPORT_NS in the form the kernel wants).
 */
#ifndef _LINUX_DMABUF_CORE_H
#define _LINUX_DMABUF_CORE_H

#include <linux/dma-direction.h>
#include <linux/list.h>
#include <linux/module.h>
#include <linux/types.h>

struct device;
struct dma_buf;
struct iosys_map;
struct dma_buf_attachment;
struct sg_table;
struct vm_area_struct;

struct dmabuf_core_buffer;
struct dmabuf_core_attachment;

/**
 * DMABUF_CORE_IMPORT_NS - import the DMABUF_CORE symbol namespace
 *
 * Use once in a module that calls dmabuf-core.  The same on every kernel:
 * MODULE_IMPORT_NS() took a bare identifier before Linux 6.13 and takes a
 * string literal since, but both end in this .modinfo entry.
 */
#define DMABUF_CORE_IMPORT_NS()	MODULE_INFO(import_ns, "DMABUF_CORE")

/**
 * struct dmabuf_core_ops - operations an exporter provides for its buffers
 *
 * Locking: @attach, @detach, @map, @unmap, @begin_cpu_access and
 * @end_cpu_access are called with the buffer's lock held, so they are
 * serialised against each other for one buffer and may walk its
 * attachments with dmabuf_core_for_each_attachment().  @map and @unmap
 * may also be called with the dma-buf's reservation lock held (by the
 * kernel, when a kernel driver maps); the callbacks must not take it.
 * @mmap and @release are called without the buffer's lock; @mmap with
 * mmap_lock held, so it must not allocate the backing storage (install
 * vm_operations that fault pages in instead, see
 * dmabuf_core_lock_storage()).
 *
 * @attach:	optional.  A device is being attached, by any importer.  The
 *		exporter may set &dmabuf_core_attachment.priv, and may refuse
 *		the device with a negative errno, e.g. -EBUSY when backing
 *		storage is already fixed and the device cannot reach it.
 * @detach:	optional.  Undo @attach.  Called only for attachments whose
 *		@attach succeeded, after all their mappings were unmapped.
 * @map:	required.  Return an sg_table describing the whole buffer,
 *		DMA-mapped for &dmabuf_core_attachment.dev in direction @dir
 *		(e.g. with dma_map_sgtable()), or an ERR_PTR().  This is where
 *		an exporter that deferred allocation allocates, suiting every
 *		attached device.  May return -EINTR or -ERESTARTSYS when
 *		interrupted by a signal.
 * @unmap:	required.  Undo @map for a table @map returned.
 * @release:	required.  Free the exporter's backing storage.  Called
 *		exactly once, after the last file reference and the last
 *		kernel reference went.
 * @mmap:	optional.  Map the buffer into a user VMA.  The core has
 *		already checked that the VMA is shared and lies within the
 *		buffer (vm_pgoff counts pages from the buffer's start).
 *		Without it mmap() fails with -EINVAL.
 * @begin_cpu_access: optional.  Make the buffer coherent for CPU access in
 *		direction @dir (DMA_BUF_IOCTL_SYNC with START, or
 *		dma_buf_begin_cpu_access() of a kernel driver).  The core has
 *		already waited for the buffer's fences.
 * @end_cpu_access: optional.  Make CPU writes visible to devices.
 * @vmap:	optional.  Map the whole buffer into kernel address space and
 *		set @map (iosys_map_set_vaddr()).  Called with the buffer's
 *		lock held, only for the first of nested vmaps: the core
 *		counts them, those of kernel drivers' dma_buf_vmap() and of
 *		dmabuf_core_vmap() together.  The dma-buf's reservation lock
 *		may or may not be held (dma_buf_vmap() takes it on 6.2 on,
 *		dmabuf_core_vmap() does not): do not assert it.  Kernel
 *		drivers' dma_buf_vmap() never reaches it: they get the
 *		mapping dmabuf_core_offer_vmap() made, and -EINVAL before
 *		(every kernel's dma_buf_vmap() WARNs when this callback
 *		fails).  Its callers are dmabuf_core_offer_vmap() and
 *		dmabuf_core_vmap(), which return its error quietly.
 *		Without it, vmap fails with -EINVAL.
 * @vunmap:	optional.  Undo @vmap, when the last vmap goes.
 */
struct dmabuf_core_ops {
	int (*attach)(struct dmabuf_core_buffer *buf,
		      struct dmabuf_core_attachment *att);
	void (*detach)(struct dmabuf_core_buffer *buf,
		       struct dmabuf_core_attachment *att);
	struct sg_table *(*map)(struct dmabuf_core_attachment *att,
				enum dma_data_direction dir);
	void (*unmap)(struct dmabuf_core_attachment *att, struct sg_table *sgt,
		      enum dma_data_direction dir);
	void (*release)(struct dmabuf_core_buffer *buf);
	int (*mmap)(struct dmabuf_core_buffer *buf, struct vm_area_struct *vma);
	int (*begin_cpu_access)(struct dmabuf_core_buffer *buf,
				enum dma_data_direction dir);
	int (*end_cpu_access)(struct dmabuf_core_buffer *buf,
			      enum dma_data_direction dir);
	int (*vmap)(struct dmabuf_core_buffer *buf, struct iosys_map *map);
	void (*vunmap)(struct dmabuf_core_buffer *buf, struct iosys_map *map);
};

/**
 * struct dmabuf_core_buffer - a shared buffer
 * @dmabuf:	the kernel's dma-buf of this buffer; for a buffer of ours the
 *		core created it, for an imported one it is the original;
 *		immutable
 * @size:	size in bytes, a multiple of PAGE_SIZE; immutable
 * @ops:	the exporter's operations, NULL for a buffer imported from
 *		another exporter; immutable
 * @priv:	the exporter's private data; immutable after export
 * @id:		unique id, never reused while dmabuf_core is loaded (imported
 *		buffers get one too); immutable
 *
 * The core keeps more state of its own beside it.  References:
 * dmabuf_core_export()
 * and dmabuf_core_get() return one, dmabuf_core_ref() takes one more,
 * dmabuf_core_put() drops one; attachments made with dmabuf_core_attach()
 * hold one.
 */
struct dmabuf_core_buffer {
	struct dma_buf *dmabuf;
	size_t size;
	const struct dmabuf_core_ops *ops;
	void *priv;
	u64 id;
};

/**
 * struct dmabuf_core_attachment - one device's attachment to a buffer
 * @buf:	the buffer
 * @dev:	the attached device
 * @priv:	the exporter's data, set by &dmabuf_core_ops.attach
 * @importer_priv: free for a dmabuf-core importer's use
 * @node:	the core's link in the buffer's attachment list, under the
 *		buffer's lock; walk it with dmabuf_core_for_each_attachment()
 *
 * For a buffer of ours, the same object is the exporter's view (passed to
 * its callbacks, whoever attached) and, for attachments made with
 * dmabuf_core_attach(), the importer's handle.  The core keeps more state
 * of its own beside it.
 */
struct dmabuf_core_attachment {
	struct dmabuf_core_buffer *buf;
	struct device *dev;
	void *priv;
	void *importer_priv;
	struct list_head node;
};

/**
 * struct dmabuf_core_constraints - what a device needs of a buffer's
 *	storage that struct device cannot say
 * @max_segments: the most DMA segments the device takes for one buffer: 1
 *		for one physically contiguous run, 0 for no limit
 * @alignment:	the alignment in bytes of the buffer's first DMA address, a
 *		power of two; 0 for none beyond a page
 *
 * An importer declares them with dmabuf_core_attach_constrained() or
 * dmabuf_core_attach_dynamic(); an
 * administrator declares them for a kernel driver's device by its name
 * (%DMABUF_CORE_IOCTL_CONSTRAIN, dmabuf-ctl constrain).  Exporters read
 * both, merged over every attachment, with dmabuf_core_buffer_constraints()
 * when they place storage.  The device's DMA mask, bus limit, segment size
 * and boundary apply as well.
 */
struct dmabuf_core_constraints {
	unsigned int max_segments;
	unsigned int alignment;
};

/**
 * struct dmabuf_core_importer_ops - what a dmabuf-core importer can be told
 * @invalidate:	required.  The storage of @att's buffer may be about to
 *		move (a signal can still stop the move), and the table
 *		mapped through @att is taken back as soon as this returns.
 *		Stop the device's access to it before returning (wait for
 *		its DMA in flight), then forget it: do not unmap it, do not
 *		use it again.  Map again for the next access: that map gets
 *		the new storage, after the move.
 *
 * Passed to dmabuf_core_attach_dynamic().  @invalidate is called with the
 * buffer's lock held, and possibly the dma-buf's reservation lock (a
 * kernel driver's map can move the storage), from any task: another
 * importer's attach or map, or this importer's own map.  It may sleep,
 * but must not call dmabuf-core on the same buffer, nor wait for a task
 * that may be doing so.  So an importer cannot hold one lock across both
 * its map call and its callback; it counts invalidations instead, see
 * dmabuf_core_attach_dynamic().
 */
struct dmabuf_core_importer_ops {
	void (*invalidate)(struct dmabuf_core_attachment *att);
};

struct list_head *dmabuf_core_attachment_list(struct dmabuf_core_buffer *buf);

/**
 * dmabuf_core_for_each_attachment - iterate over a buffer's attachments
 * @buf:	a buffer of ours, inside one of its exporter's callbacks that
 *		hold the buffer's lock, or between dmabuf_core_lock_storage()
 *		and dmabuf_core_unlock_storage()
 * @att:	a struct dmabuf_core_attachment pointer used as cursor
 */
#define dmabuf_core_for_each_attachment(buf, att)			\
	list_for_each_entry(att, dmabuf_core_attachment_list(buf), node)

/**
 * struct dmabuf_core_export_info - what dmabuf_core_export() needs to know
 * @exp_name:	exporter name, shown to userspace (fdinfo, debugfs)
 * @owner:	the exporter's module, pinned while the buffer lives
 * @ops:	the buffer operations; map, unmap and release are required
 * @size:	buffer size in bytes, a non-zero multiple of PAGE_SIZE
 * @flags:	file flags: O_RDONLY, O_WRONLY or O_RDWR
 * @priv:	the exporter's private data, stored in
 *		&dmabuf_core_buffer.priv
 *
 * Declare it with DMABUF_CORE_EXPORT_INFO() so that @exp_name and @owner
 * are filled in for the calling module.
 */
struct dmabuf_core_export_info {
	const char *exp_name;
	struct module *owner;
	const struct dmabuf_core_ops *ops;
	size_t size;
	int flags;
	void *priv;
};

/**
 * DMABUF_CORE_EXPORT_INFO - declare export info for this module
 * @name: the variable's name
 */
#define DMABUF_CORE_EXPORT_INFO(name)					\
	struct dmabuf_core_export_info name = {				\
		.exp_name = KBUILD_MODNAME, .owner = THIS_MODULE }

struct dmabuf_core_buffer *
dmabuf_core_export_from(const struct dmabuf_core_export_info *info,
			struct module *caller);

/**
 * dmabuf_core_export - create a buffer for an exporter
 * @info: what the buffer is: size, operations, private data, owner
 *
 * dmabuf_core_export_from() on behalf of the calling module, so that an
 * @info with no owner can be refused when its operations may live in a
 * module: a buffer outliving the unload of its ops would call freed code.
 *
 * Context: process context; may sleep.
 * Return: as dmabuf_core_export_from().
 */
static inline struct dmabuf_core_buffer *
dmabuf_core_export(const struct dmabuf_core_export_info *info)
{
	return dmabuf_core_export_from(info, THIS_MODULE);
}

int dmabuf_core_fd(struct dmabuf_core_buffer *buf, int flags);
struct dmabuf_core_buffer *dmabuf_core_get(int fd);
struct dmabuf_core_buffer *dmabuf_core_from_dma_buf(struct dma_buf *dmabuf);
void dmabuf_core_ref(struct dmabuf_core_buffer *buf);
void dmabuf_core_put(struct dmabuf_core_buffer *buf);
bool dmabuf_core_is_imported(const struct dmabuf_core_buffer *buf);
bool dmabuf_core_is_writable(const struct dmabuf_core_buffer *buf);

struct dmabuf_core_attachment *
dmabuf_core_attach(struct dmabuf_core_buffer *buf, struct device *dev);
struct dmabuf_core_attachment *
dmabuf_core_attach_constrained(struct dmabuf_core_buffer *buf,
			       struct device *dev,
			       const struct dmabuf_core_constraints *c);
struct dmabuf_core_attachment *
dmabuf_core_attach_dynamic(struct dmabuf_core_buffer *buf, struct device *dev,
			   const struct dmabuf_core_constraints *c,
			   const struct dmabuf_core_importer_ops *ops,
			   void *importer_priv);
void dmabuf_core_detach(struct dmabuf_core_buffer *buf,
			struct dmabuf_core_attachment *att);
void dmabuf_core_buffer_constraints(struct dmabuf_core_buffer *buf,
				    struct dmabuf_core_constraints *c);
void dmabuf_core_device_constraints(struct device *dev,
				    struct dmabuf_core_constraints *c);
struct sg_table *
dmabuf_core_map_attachment(struct dmabuf_core_attachment *att,
			   enum dma_data_direction dir);
int dmabuf_core_unmap_attachment(struct dmabuf_core_attachment *att,
				 struct sg_table *sgt,
				 enum dma_data_direction dir);
int dmabuf_core_begin_cpu_access(struct dmabuf_core_buffer *buf,
				 enum dma_data_direction dir);
int dmabuf_core_end_cpu_access(struct dmabuf_core_buffer *buf,
			       enum dma_data_direction dir);
int dmabuf_core_wait_fences(struct dmabuf_core_buffer *buf, bool write,
			    bool intr);
int dmabuf_core_vmap(struct dmabuf_core_buffer *buf, struct iosys_map *map);
void dmabuf_core_vunmap(struct dmabuf_core_buffer *buf, struct iosys_map *map);
int dmabuf_core_offer_vmap(struct dmabuf_core_buffer *buf);

int dmabuf_core_lock_storage(struct dmabuf_core_buffer *buf);
int dmabuf_core_lock_storage_killable(struct dmabuf_core_buffer *buf);
void dmabuf_core_unlock_storage(struct dmabuf_core_buffer *buf);

int dmabuf_core_sync_mappings_for_cpu(struct dmabuf_core_buffer *buf,
				      enum dma_data_direction dir);
int dmabuf_core_sync_mappings_for_device(struct dmabuf_core_buffer *buf,
					 enum dma_data_direction dir);

#endif /* _LINUX_DMABUF_CORE_H */
