// SPDX-License-Identifier: GPL-2.0-only
/*
 * The exporter behind /dev/dmabuf: zeroed system pages, allocated at once,
 * anywhere, mappable by any device and by userspace.  A device that cannot
 * reach them moves them where it can (heap_storage.c).
 */
#include <linux/fcntl.h>
#include <linux/limits.h>
#include <linux/mm.h>
#include <linux/moduleparam.h>
#include <linux/slab.h>

#include <linux/dmabuf_core_pages.h>

#include "internal.h"
#include "dcore_trace.h"

static unsigned long dcore_max_size_mb;
module_param_named(max_size_mb, dcore_max_size_mb, ulong, 0644);
MODULE_PARM_DESC(max_size_mb,
		 "Largest /dev/dmabuf buffer in MiB (default 0: half of RAM)");

atomic_long_t dcore_system_pages = ATOMIC_LONG_INIT(0);

static const struct dmabuf_core_ops dcore_system_ops = {
	.attach			= dcore_heap_attach,
	.map			= dcore_heap_map,
	.unmap			= dmabuf_core_pages_op_unmap,
	.release		= dcore_heap_release,
	.mmap			= dcore_heap_mmap,
	.vmap			= dmabuf_core_pages_op_vmap,
	.vunmap			= dmabuf_core_pages_op_vunmap,
	.begin_cpu_access	= dmabuf_core_sync_mappings_for_cpu,
	.end_cpu_access		= dmabuf_core_sync_mappings_for_device,
};

/* The size cap in bytes: the parameter, never more than half of RAM... */
static u64 dcore_system_max_size(void)
{
	u64 ram = (u64)totalram_pages() << PAGE_SHIFT;
	unsigned long mb = READ_ONCE(dcore_max_size_mb);

	/* ...unless the administrator asked for more, up to all of it. */
	if (mb)
		return mb < (ram >> 20) ? (u64)mb << 20 : ram;
	return ram / 2;
}

/**
 * dcore_system_alloc - a new buffer of zeroed system pages
 * @len: requested size in bytes, rounded up to whole pages
 * @fd_flags: access mode for the buffer's file
 *
 * Context: process context; may sleep.
 * Return: the buffer with one reference, ERR_PTR(-EINVAL) for a size of 0
 * or one whose rounding overflows, ERR_PTR(-ENOMEM) for a size above the
 * cap or when memory runs out, ERR_PTR(-EINTR) when the caller is killed.
 */
struct dmabuf_core_buffer *dcore_system_alloc(u64 len, unsigned int fd_flags)
{
	DMABUF_CORE_EXPORT_INFO(info);
	struct dmabuf_core_buffer *buf;
	struct dcore_heap_buffer *hb;
	int ret;

	if (!len || len > U64_MAX - (PAGE_SIZE - 1))
		return ERR_PTR(-EINVAL);
	len = PAGE_ALIGN(len);
	if (len > dcore_system_max_size() || len > SIZE_MAX) {
		trace_dmabuf_core_refused(len, DCORE_REFUSED_MAX_SIZE, -ENOMEM);
		return ERR_PTR(-ENOMEM);
	}

	hb = dcore_heap_buffer_new(false);
	if (!hb)
		return ERR_PTR(-ENOMEM);
	ret = dmabuf_core_pages_alloc(&hb->pages, len, U64_MAX, 0);
	if (ret) {
		dcore_heap_buffer_free(hb);
		return ERR_PTR(ret);
	}
	atomic_long_add(hb->pages.nr_pages, &dcore_system_pages);

	info.ops = &dcore_system_ops;
	info.size = len;
	info.flags = fd_flags & O_ACCMODE;
	info.priv = hb;
	buf = dmabuf_core_export(&info);
	if (IS_ERR(buf)) {
		dcore_heap_buffer_free(hb);
		return buf;
	}
	/*
	 * Kernel drivers' dma_buf_vmap() must not reach a vmap that can fail
	 * (it WARNs): make the mapping now, where a failure fails the ALLOC.
	 * A read-only buffer offers none.
	 */
	if (dmabuf_core_is_writable(buf)) {
		mutex_lock(&to_dcore_buffer(buf)->lock);
		ret = dmabuf_core_offer_vmap(buf);
		mutex_unlock(&to_dcore_buffer(buf)->lock);
		if (ret) {
			dmabuf_core_put(buf);	/* frees @hb */
			return ERR_PTR(ret);
		}
	}
	return buf;
}
