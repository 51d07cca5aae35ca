/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * dmabuf-core's trace events, system "dmabuf_core" in tracefs
 * (events/dmabuf_core/): a buffer's life from export to release, each
 * device's attach, map, unmap and detach (any importer's, kernel drivers'
 * too), the page storage chosen and the constraints it met, and refused
 * allocations and moves of storage.
 *
 * Strings are copied into fixed fields: an event outlives the module
 * whose string it names (the exporter's, a device driver's).
 */
#undef TRACE_SYSTEM
#define TRACE_SYSTEM dmabuf_core

#if !defined(_DMABUF_CORE_DCORE_TRACE_H) || defined(TRACE_HEADER_MULTI_READ)
#define _DMABUF_CORE_DCORE_TRACE_H

#include <linux/device.h>
#include <linux/dma-direction.h>
#include <linux/string.h>
#include <linux/tracepoint.h>

#define DCORE_TRACE_NAME_LEN	32

/* Why an allocation was refused (dmabuf_core_refused's reason). */
#define DCORE_REFUSED_MAX_SIZE	1	/* above /dev/dmabuf's max_size_mb */
#define DCORE_REFUSED_MAX_TOTAL	2	/* all storage would pass max_total_mb */
#define DCORE_REFUSED_NO_MEMORY	3	/* the system or the memory cgroup */
#define DCORE_REFUSED_KILLED	4	/* the allocating task was killed */
#define DCORE_REFUSED_NO_RUN	5	/* larger than any contiguous run */

TRACE_DEFINE_ENUM(DMA_BIDIRECTIONAL);
TRACE_DEFINE_ENUM(DMA_TO_DEVICE);
TRACE_DEFINE_ENUM(DMA_FROM_DEVICE);

#define dcore_show_dir(dir)						\
	__print_symbolic(dir,						\
			 { DMA_BIDIRECTIONAL, "bidirectional" },	\
			 { DMA_TO_DEVICE, "to_device" },		\
			 { DMA_FROM_DEVICE, "from_device" })

DECLARE_EVENT_CLASS(dmabuf_core_buffer_class,
		    TP_PROTO(u64 id, size_t size, const char *exporter),
		    TP_ARGS(id, size, exporter),
		    TP_STRUCT__entry(__field(u64, id)
				     __field(size_t, size)
				     __array(char, exporter, DCORE_TRACE_NAME_LEN)),
		    TP_fast_assign(__entry->id = id;
				   __entry->size = size;
				   strscpy(__entry->exporter, exporter,
					   DCORE_TRACE_NAME_LEN);),
		    TP_printk("id=%llu size=%zu exporter=%s",
			      __entry->id, __entry->size, __entry->exporter)
);

/* A buffer was created (dmabuf_core_export()). */
DEFINE_EVENT(dmabuf_core_buffer_class, dmabuf_core_export,
	     TP_PROTO(u64 id, size_t size, const char *exporter),
	     TP_ARGS(id, size, exporter)
);

/* A buffer's last reference went; its exporter's release runs next. */
DEFINE_EVENT(dmabuf_core_buffer_class, dmabuf_core_release,
	     TP_PROTO(u64 id, size_t size, const char *exporter),
	     TP_ARGS(id, size, exporter)
);

DECLARE_EVENT_CLASS(dmabuf_core_device_class,
		    TP_PROTO(u64 id, struct device *dev, int ret),
		    TP_ARGS(id, dev, ret),
		    TP_STRUCT__entry(__field(u64, id)
				     __array(char, dev, DCORE_TRACE_NAME_LEN)
				     __field(int, ret)),
		    TP_fast_assign(__entry->id = id;
				   strscpy(__entry->dev, dev_name(dev),
					   DCORE_TRACE_NAME_LEN);
				   __entry->ret = ret;),
		    TP_printk("id=%llu dev=%s ret=%d",
			      __entry->id, __entry->dev, __entry->ret)
);

/* A device was attached, or refused by the exporter (ret < 0). */
DEFINE_EVENT(dmabuf_core_device_class, dmabuf_core_attach,
	     TP_PROTO(u64 id, struct device *dev, int ret),
	     TP_ARGS(id, dev, ret)
);

/* A device was detached (ret: mappings it still had, cleaned up). */
DEFINE_EVENT(dmabuf_core_device_class, dmabuf_core_detach,
	     TP_PROTO(u64 id, struct device *dev, int ret),
	     TP_ARGS(id, dev, ret)
);

/*
 * A dynamic importer's mapping was taken back for a move of its buffer's
 * storage (ret: mappings taken back; a signal may still stop the move).
 */
DEFINE_EVENT(dmabuf_core_device_class, dmabuf_core_invalidate,
	     TP_PROTO(u64 id, struct device *dev, int ret),
	     TP_ARGS(id, dev, ret)
);

/*
 * The exporter mapped the buffer for a device, or its map failed (ret < 0);
 * refusals before the exporter is asked (a read-only buffer, a signal) are
 * not traced.
 */
TRACE_EVENT(dmabuf_core_map,
	    TP_PROTO(u64 id, struct device *dev, enum dma_data_direction dir,
		     unsigned int segments, int ret),
	    TP_ARGS(id, dev, dir, segments, ret),
	    TP_STRUCT__entry(__field(u64, id)
			     __array(char, dev, DCORE_TRACE_NAME_LEN)
			     __field(int, dir)
			     __field(unsigned int, segments)
			     __field(int, ret)),
	    TP_fast_assign(__entry->id = id;
			   strscpy(__entry->dev, dev_name(dev),
				   DCORE_TRACE_NAME_LEN);
			   __entry->dir = dir;
			   __entry->segments = segments;
			   __entry->ret = ret;),
	    TP_printk("id=%llu dev=%s dir=%s segments=%u ret=%d",
		      __entry->id, __entry->dev, dcore_show_dir(__entry->dir),
		      __entry->segments, __entry->ret)
);

/* A mapping for a device was undone. */
TRACE_EVENT(dmabuf_core_unmap,
	    TP_PROTO(u64 id, struct device *dev, enum dma_data_direction dir),
	    TP_ARGS(id, dev, dir),
	    TP_STRUCT__entry(__field(u64, id)
			     __array(char, dev, DCORE_TRACE_NAME_LEN)
			     __field(int, dir)),
	    TP_fast_assign(__entry->id = id;
			   strscpy(__entry->dev, dev_name(dev),
				   DCORE_TRACE_NAME_LEN);
			   __entry->dir = dir;),
	    TP_printk("id=%llu dev=%s dir=%s", __entry->id, __entry->dev,
		      dcore_show_dir(__entry->dir))
);

/*
 * Page storage was allocated (dmabuf_core_pages_alloc()): what was chosen
 * (chunks, the largest in bytes) and the constraints it had to meet, the
 * highest address every device can reach and the largest chunk allowed
 * (0: none).  For an exporter that defers storage to the first map, this
 * comes just before that dmabuf_core_map, from the same task.
 */
TRACE_EVENT(dmabuf_core_storage,
	    TP_PROTO(size_t size, u64 dma_limit, size_t max_chunk,
		     unsigned int chunks, size_t largest),
	    TP_ARGS(size, dma_limit, max_chunk, chunks, largest),
	    TP_STRUCT__entry(__field(size_t, size)
			     __field(u64, dma_limit)
			     __field(size_t, max_chunk)
			     __field(unsigned int, chunks)
			     __field(size_t, largest)),
	    TP_fast_assign(__entry->size = size;
			   __entry->dma_limit = dma_limit;
			   __entry->max_chunk = max_chunk;
			   __entry->chunks = chunks;
			   __entry->largest = largest;),
	    TP_printk("size=%zu dma_limit=0x%llx max_chunk=%zu chunks=%u largest=%zu",
		      __entry->size, __entry->dma_limit, __entry->max_chunk,
		      __entry->chunks, __entry->largest)
);

/* An allocation was refused, and why. */
TRACE_EVENT(dmabuf_core_refused,
	    TP_PROTO(size_t size, int reason, int ret),
	    TP_ARGS(size, reason, ret),
	    TP_STRUCT__entry(__field(size_t, size)
			     __field(int, reason)
			     __field(int, ret)),
	    TP_fast_assign(__entry->size = size;
			   __entry->reason = reason;
			   __entry->ret = ret;),
	    TP_printk("size=%zu reason=%s ret=%d", __entry->size,
		      __print_symbolic(__entry->reason,
				       { DCORE_REFUSED_MAX_SIZE, "max_size_mb" },
				       { DCORE_REFUSED_MAX_TOTAL, "max_total_mb" },
				       { DCORE_REFUSED_NO_MEMORY, "no_memory" },
				       { DCORE_REFUSED_KILLED, "killed" },
				       { DCORE_REFUSED_NO_RUN, "no_contig_run" }),
		      __entry->ret)
);

/*
 * A buffer's storage was moved for a device that could not reach it, or
 * the move was refused (@ret): where the old storage ended, the limit the
 * new one met, its chunks, and the time from decision to switch (waiting
 * for fences and copying included).
 */
TRACE_EVENT(dmabuf_core_move,
	    TP_PROTO(u64 id, size_t size, u64 old_top, u64 dma_limit,
		     unsigned int chunks, u64 ns, int ret),
	    TP_ARGS(id, size, old_top, dma_limit, chunks, ns, ret),
	    TP_STRUCT__entry(__field(u64, id)
			     __field(size_t, size)
			     __field(u64, old_top)
			     __field(u64, dma_limit)
			     __field(unsigned int, chunks)
			     __field(u64, ns)
			     __field(int, ret)),
	    TP_fast_assign(__entry->id = id;
			   __entry->size = size;
			   __entry->old_top = old_top;
			   __entry->dma_limit = dma_limit;
			   __entry->chunks = chunks;
			   __entry->ns = ns;
			   __entry->ret = ret;),
	    TP_printk("id=%llu size=%zu old_top=0x%llx dma_limit=0x%llx chunks=%u ns=%llu ret=%d",
		      __entry->id, __entry->size, __entry->old_top,
		      __entry->dma_limit, __entry->chunks, __entry->ns,
		      __entry->ret)
);

#endif /* _DMABUF_CORE_DCORE_TRACE_H */

/* Outside the guard: define_trace.h reads this file again. */
#undef TRACE_INCLUDE_PATH
#define TRACE_INCLUDE_PATH .
#undef TRACE_INCLUDE_FILE
#define TRACE_INCLUDE_FILE dcore_trace
#include <trace/define_trace.h>
