/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * dmabuf-core: DMA buffer sharing between devices and processes.
 *
 * An exporter wraps its memory in a struct dmabuf of fixed size with
 * dmabuf_export(), hands it to userspace as a file descriptor with
 * dmabuf_fd(), and any importer turns such an fd back into the buffer with
 * dmabuf_get().  An importer then attaches its device (dmabuf_attach(): the
 * exporter learns who will access the memory and may defer choosing backing
 * storage until it knows every device), and maps the attachment
 * (dmabuf_map_attachment()) to obtain a scatter-gather table already
 * DMA-mapped for that device.
 *
 * All symbols live in the DMABUF_CORE symbol namespace: users add
 * MODULE_IMPORT_NS(DMABUF_CORE) (a string literal since Linux 6.13).
 */
#ifndef _LINUX_DMABUF_CORE_H
#define _LINUX_DMABUF_CORE_H

#include <linux/dma-direction.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/types.h>

struct device;
struct file;
struct module;
struct page;
struct sg_table;
struct vm_area_struct;

struct dmabuf;
struct dmabuf_attachment;

/**
 * struct dmabuf_ops - operations an exporter provides for its buffers
 *
 * Locking: @attach, @detach, @map, @unmap, @begin_cpu_access and
 * @end_cpu_access are called with &dmabuf.lock held, so they are serialised
 * against each other for one buffer and may walk &dmabuf.attachments (see
 * dmabuf_for_each_attachment()).  They must not call dmabuf_attach(),
 * dmabuf_detach(), dmabuf_map_attachment() or dmabuf_unmap_attachment() on
 * the same buffer.  @mmap and @release are called without it.
 *
 * @attach:	optional.  A device is being attached.  The exporter may set
 *		&dmabuf_attachment.priv, and may refuse the device with a
 *		negative errno, e.g. -EBUSY when backing storage is already
 *		fixed and the device cannot reach it.
 * @detach:	optional.  Undo @attach.  Called only for attachments whose
 *		@attach succeeded, after all their mappings were unmapped.
 * @map:	required.  Return an sg_table describing the whole buffer,
 *		DMA-mapped for &dmabuf_attachment.dev in direction @dir (e.g.
 *		with dma_map_sgtable()), or an ERR_PTR().  This is where an
 *		exporter that deferred allocation allocates, suiting every
 *		attached device.  May return -EINTR or -ERESTARTSYS when
 *		interrupted by a signal.
 * @unmap:	required.  Undo @map for a table @map returned.
 * @release:	required.  Free the exporter's backing storage.  Called
 *		exactly once, after the last file descriptor was closed and the
 *		last kernel reference put (attachments hold a reference).
 * @mmap:	optional.  Map the buffer into a user VMA.  The core has
 *		already checked that the VMA is shared and lies within the
 *		buffer (vm_pgoff counts pages from the buffer's start).
 *		Without it mmap() fails with -ENODEV.
 * @begin_cpu_access: optional.  Make the buffer coherent for CPU access in
 *		direction @dir (DMABUF_CORE_IOCTL_SYNC with START).
 * @end_cpu_access: optional.  Make CPU writes visible to devices
 *		(DMABUF_CORE_IOCTL_SYNC with END).
 */
struct dmabuf_ops {
	int (*attach)(struct dmabuf *buf, struct dmabuf_attachment *att);
	void (*detach)(struct dmabuf *buf, struct dmabuf_attachment *att);
	struct sg_table *(*map)(struct dmabuf_attachment *att,
				enum dma_data_direction dir);
	void (*unmap)(struct dmabuf_attachment *att, struct sg_table *sgt,
		      enum dma_data_direction dir);
	void (*release)(struct dmabuf *buf);
	int (*mmap)(struct dmabuf *buf, struct vm_area_struct *vma);
	int (*begin_cpu_access)(struct dmabuf *buf,
				enum dma_data_direction dir);
	int (*end_cpu_access)(struct dmabuf *buf, enum dma_data_direction dir);
};

/**
 * struct dmabuf - a shared buffer
 * @size:	size in bytes, a non-zero multiple of PAGE_SIZE; immutable
 * @file:	the file that represents the buffer; every reference to the
 *		buffer is a reference to this file; immutable
 * @ops:	the exporter's operations; immutable
 * @exp_name:	name of the exporter, for tools and debugging; immutable
 * @owner:	the exporter's module, pinned while the buffer lives; immutable
 * @priv:	the exporter's private data; immutable after export
 * @id:		unique id, never reused while dmabuf_core is loaded; immutable
 * @lock:	protects @attachments, @nr_attachments, @nr_mappings and
 *		every attachment's mapping list; held across the exporter's
 *		attach, detach, map, unmap and cpu-access callbacks
 * @attachments: list of &dmabuf_attachment.node, under @lock
 * @nr_attachments: length of @attachments, under @lock
 * @nr_mappings: mappings alive on all attachments, under @lock
 *
 * Created by dmabuf_export() with one reference, which the caller owns.
 */
struct dmabuf {
	size_t size;
	struct file *file;
	const struct dmabuf_ops *ops;
	const char *exp_name;
	struct module *owner;
	void *priv;
	u64 id;
	struct mutex lock;	/* guards attachments and mappings */
	struct list_head attachments;
	unsigned int nr_attachments;
	unsigned int nr_mappings;
};

/**
 * struct dmabuf_attachment - one device's attachment to a buffer
 * @buf:	the buffer; the attachment holds a reference on it
 * @dev:	the attached device; the attachment holds a reference on it
 * @node:	entry in &dmabuf.attachments, under &dmabuf.lock
 * @mappings:	the mappings made through this attachment, under &dmabuf.lock
 * @priv:	the exporter's data, set by &dmabuf_ops.attach
 * @importer_priv: the importer's data
 */
struct dmabuf_attachment {
	struct dmabuf *buf;
	struct device *dev;
	struct list_head node;
	struct list_head mappings;
	void *priv;
	void *importer_priv;
};

/**
 * dmabuf_for_each_attachment - iterate over a buffer's attachments
 * @buf:	the buffer; &dmabuf.lock must be held (as it is in exporter
 *		callbacks)
 * @att:	a struct dmabuf_attachment pointer used as cursor
 */
#define dmabuf_for_each_attachment(buf, att) \
	list_for_each_entry(att, &(buf)->attachments, node)

/**
 * struct dmabuf_export_info - what dmabuf_export() needs to know
 * @exp_name:	exporter name, shown to userspace (at most 31 bytes are)
 * @owner:	the exporter's module, pinned while the buffer lives
 * @ops:	the buffer operations; map, unmap and release are required
 * @size:	buffer size in bytes, a non-zero multiple of PAGE_SIZE
 * @flags:	file flags: O_RDONLY, O_WRONLY or O_RDWR
 * @priv:	the exporter's private data, stored in &dmabuf.priv
 *
 * Declare it with DMABUF_EXPORT_INFO() so that @exp_name and @owner are
 * filled in for the calling module.
 */
struct dmabuf_export_info {
	const char *exp_name;
	struct module *owner;
	const struct dmabuf_ops *ops;
	size_t size;
	int flags;
	void *priv;
};

/**
 * DMABUF_EXPORT_INFO - declare a struct dmabuf_export_info for this module
 * @name: the variable's name
 */
#define DMABUF_EXPORT_INFO(name)					\
	struct dmabuf_export_info name = { .exp_name = KBUILD_MODNAME,	\
					   .owner = THIS_MODULE }

struct dmabuf *dmabuf_export(const struct dmabuf_export_info *info);
int dmabuf_fd(struct dmabuf *buf, int flags);
struct dmabuf *dmabuf_get(int fd);
void dmabuf_ref(struct dmabuf *buf);
void dmabuf_put(struct dmabuf *buf);

struct dmabuf_attachment *dmabuf_attach(struct dmabuf *buf,
					struct device *dev);
void dmabuf_detach(struct dmabuf *buf, struct dmabuf_attachment *att);
struct sg_table *dmabuf_map_attachment(struct dmabuf_attachment *att,
				       enum dma_data_direction dir);
int dmabuf_unmap_attachment(struct dmabuf_attachment *att,
			    struct sg_table *sgt,
			    enum dma_data_direction dir);

int dmabuf_sync_mappings_for_cpu(struct dmabuf *buf,
				 enum dma_data_direction dir);
int dmabuf_sync_mappings_for_device(struct dmabuf *buf,
				    enum dma_data_direction dir);

/**
 * struct dmabuf_chunk - a physically contiguous piece of page storage
 * @page:	first page (a compound page when @order > 0)
 * @order:	the chunk holds 2^@order pages
 */
struct dmabuf_chunk {
	struct page *page;
	unsigned int order;
};

/**
 * struct dmabuf_pages - system-memory backing storage made of page chunks
 * @chunks:	the chunks, in buffer order
 * @nr_chunks:	number of valid entries in @chunks
 * @nr_pages:	total pages in all chunks
 *
 * A helper for exporters whose storage is ordinary pages: allocation with
 * large orders first, sg tables for a device, mmap.  The helpers do no
 * locking of their own; the exporter serialises allocation against use.
 */
struct dmabuf_pages {
	struct dmabuf_chunk *chunks;
	unsigned int nr_chunks;
	unsigned long nr_pages;
};

int dmabuf_pages_alloc(struct dmabuf_pages *pages, size_t size, gfp_t zone,
		       size_t max_chunk);
void dmabuf_pages_free(struct dmabuf_pages *pages);
u64 dmabuf_pages_highest_phys(const struct dmabuf_pages *pages);
bool dmabuf_pages_reachable(const struct dmabuf_pages *pages,
			    struct device *dev);
struct sg_table *dmabuf_pages_map(const struct dmabuf_pages *pages,
				  struct device *dev,
				  enum dma_data_direction dir);
void dmabuf_pages_unmap(struct device *dev, struct sg_table *sgt,
			enum dma_data_direction dir);
int dmabuf_pages_mmap(const struct dmabuf_pages *pages,
		      struct vm_area_struct *vma);

#endif /* _LINUX_DMABUF_CORE_H */
