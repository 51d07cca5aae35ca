// SPDX-License-Identifier: GPL-2.0-only
/*
 * Constraints the device model cannot say: the most DMA segments a device
 * takes for one buffer, and the alignment of its first DMA address.
 *
 * A dmabuf-core importer declares them for its attachment
 * (dmabuf_core_attach_constrained()).  A kernel driver cannot, so an
 * administrator declares them for its device by name, in a table that
 * %DMABUF_CORE_IOCTL_CONSTRAIN fills (dmabuf-ctl constrain, a udev rule at
 * boot).  Exporters read both, merged over a buffer's attachments, when
 * they place storage (dmabuf_core_buffer_constraints()).
 */
#include <linux/bitops.h>
#include <linux/capability.h>
#include <linux/device.h>
#include <linux/dma-buf.h>
#include <linux/err.h>
#include <linux/export.h>
#include <linux/lockdep.h>
#include <linux/log2.h>
#include <linux/mutex.h>
#include <linux/scatterlist.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/uaccess.h>

#include <linux/dmabuf_core_pages.h>
#include <uapi/linux/dmabuf_core.h>

#include "../compat.h"
#include "internal.h"

/* Enough for every device of a board; a bound on what root can pin. */
#define DCORE_CONSTRAINED_DEVICES_MAX	256

/**
 * struct dcore_device_constraints - an administrator's entry
 * @node:	in dcore_table, under dcore_table_lock
 * @device:	the device's name (dev_name())
 * @c:		its constraints
 */
struct dcore_device_constraints {
	struct list_head node;
	char device[DMABUF_CORE_DEVICE_NAME_LEN];
	struct dmabuf_core_constraints c;
};

/*
 * Taken inside a buffer's lock (placement reads the table), never around
 * anything else.
 */
static DEFINE_MUTEX(dcore_table_lock);
static LIST_HEAD(dcore_table);
static unsigned int dcore_table_len;

/* Whether @c can be met at all: alignment a power of two within a run. */
bool dcore_constraints_valid(const struct dmabuf_core_constraints *c)
{
	return !c->alignment || (is_power_of_2(c->alignment) &&
				 c->alignment <= PAGE_SIZE << DCORE_MAX_PAGE_ORDER);
}

/* Fold @add into @c: the fewer segments, the larger alignment. */
void dcore_constraints_merge(struct dmabuf_core_constraints *c,
			     const struct dmabuf_core_constraints *add)
{
	if (add->max_segments &&
	    (!c->max_segments || add->max_segments < c->max_segments))
		c->max_segments = add->max_segments;
	c->alignment = max(c->alignment, add->alignment);
}

static struct dcore_device_constraints *dcore_table_find(const char *name)
{
	struct dcore_device_constraints *e;

	lockdep_assert_held(&dcore_table_lock);
	list_for_each_entry(e, &dcore_table, node)
		if (!strcmp(e->device, name))
			return e;
	return NULL;
}

/**
 * dmabuf_core_device_constraints - what an administrator declared for a device
 * @dev: the device
 * @c: set to its constraints; all 0 when none were declared
 *
 * Context: process context; may sleep.
 */
void dmabuf_core_device_constraints(struct device *dev,
				    struct dmabuf_core_constraints *c)
{
	struct dcore_device_constraints *e;

	memset(c, 0, sizeof(*c));
	/* Most machines declare nothing: every map asks, so ask cheaply. */
	if (!READ_ONCE(dcore_table_len))
		return;
	mutex_lock(&dcore_table_lock);
	e = dcore_table_find(dev_name(dev));
	if (e)
		*c = e->c;
	mutex_unlock(&dcore_table_lock);
}
EXPORT_SYMBOL_NS_GPL(dmabuf_core_device_constraints, DMABUF_CORE_NS);

/**
 * dmabuf_core_buffer_constraints - what every attached device needs
 * @buf: a buffer of ours
 * @c: set to the constraints of all its attachments together: those
 *	their importers declared and those declared for their devices
 *
 * For an exporter placing storage: the fewest segments any device takes,
 * the largest alignment any needs.  All 0 for a buffer nobody constrains.
 *
 * Context: in an exporter callback, or between dmabuf_core_lock_storage()
 * and dmabuf_core_unlock_storage().
 */
void dmabuf_core_buffer_constraints(struct dmabuf_core_buffer *buf,
				    struct dmabuf_core_constraints *c)
{
	struct dmabuf_core_constraints dev_c;
	struct dmabuf_core_attachment *att;

	lockdep_assert_held(&to_dcore_buffer(buf)->lock);
	memset(c, 0, sizeof(*c));
	dmabuf_core_for_each_attachment(buf, att) {
		dcore_constraints_merge(c, &to_dcore_attachment(att)->declared);
		dmabuf_core_device_constraints(att->dev, &dev_c);
		dcore_constraints_merge(c, &dev_c);
	}
}
EXPORT_SYMBOL_NS_GPL(dmabuf_core_buffer_constraints, DMABUF_CORE_NS);

/*
 * Whether @sgt, a table mapped for @a, meets what its importer declared:
 * no more DMA segments than allowed, the first one aligned.
 */
bool dcore_table_meets(struct dcore_attachment *a, struct sg_table *sgt)
{
	const struct dmabuf_core_constraints *c = &a->declared;

	if (c->max_segments && sgt->nents > c->max_segments)
		return false;
	return !c->alignment || !sgt->nents ||
	       IS_ALIGNED(sg_dma_address(sgt->sgl), c->alignment);
}

static long dcore_constrain_set(struct dmabuf_core_constrain *req)
{
	struct dcore_device_constraints *e, *fresh = NULL;
	struct dmabuf_core_constraints c = {
		.max_segments = req->max_segments,
		.alignment = req->alignment,
	};
	long ret = 0;

	if (!(req->flags & DMABUF_CORE_CONSTRAIN_CLEAR)) {
		if (req->alignment > U32_MAX || !dcore_constraints_valid(&c))
			return -EINVAL;
		/* Root's, not a user's: plain GFP_KERNEL, bounded in number. */
		fresh = kzalloc(sizeof(*fresh), GFP_KERNEL);
		if (!fresh)
			return -ENOMEM;
		strscpy(fresh->device, req->device, sizeof(fresh->device));
		fresh->c = c;
	}

	mutex_lock(&dcore_table_lock);
	e = dcore_table_find(req->device);
	if (fresh && e) {
		e->c = c;
	} else if (fresh && dcore_table_len >= DCORE_CONSTRAINED_DEVICES_MAX) {
		ret = -ENOSPC;
	} else if (fresh) {
		list_add_tail(&fresh->node, &dcore_table);
		WRITE_ONCE(dcore_table_len, dcore_table_len + 1);
		fresh = NULL;
	} else if (e) {
		list_del(&e->node);
		WRITE_ONCE(dcore_table_len, dcore_table_len - 1);
		kfree(e);
	} else {
		ret = -ENOENT;
	}
	mutex_unlock(&dcore_table_lock);
	kfree(fresh);
	return ret;
}

/**
 * dcore_node_constrain - %DMABUF_CORE_IOCTL_CONSTRAIN
 * @uarg: the user's struct dmabuf_core_constrain
 *
 * Entries change placements to come, not storage already placed.
 *
 * Return: 0; -EFAULT; -EINVAL for reserved bits or fields, both flags,
 * settings with a flag, a name that is empty, unterminated or has a '/',
 * or an alignment that cannot be met; -EPERM to set or clear without CAP_SYS_ADMIN; -ENOENT to
 * get or clear a device with no entry; -ENOSPC when the table is full;
 * -ENOMEM.
 */
long dcore_node_constrain(void __user *uarg)
{
	struct dmabuf_core_constrain req;
	struct dcore_device_constraints *e;
	long ret = 0;

	if (copy_from_user(&req, uarg, sizeof(req)))
		return -EFAULT;
	if (req.reserved || req.flags & ~(DMABUF_CORE_CONSTRAIN_CLEAR |
					  DMABUF_CORE_CONSTRAIN_GET) ||
	    hweight32(req.flags) > 1)
		return -EINVAL;
	/* Inputs of a set only: zero for the others, to extend them later. */
	if (req.flags && (req.max_segments || req.alignment))
		return -EINVAL;
	if (!req.device[0] || !memchr(req.device, 0, sizeof(req.device)) ||
	    strchr(req.device, '/'))
		return -EINVAL;

	if (!(req.flags & DMABUF_CORE_CONSTRAIN_GET)) {
		if (!capable(CAP_SYS_ADMIN))
			return -EPERM;
		return dcore_constrain_set(&req);
	}

	mutex_lock(&dcore_table_lock);
	e = dcore_table_find(req.device);
	if (e) {
		req.max_segments = e->c.max_segments;
		req.alignment = e->c.alignment;
	} else {
		ret = -ENOENT;
	}
	mutex_unlock(&dcore_table_lock);
	if (!ret && copy_to_user(uarg, &req, sizeof(req)))
		ret = -EFAULT;
	return ret;
}

/* At unload: forget every entry. */
void dcore_constraints_exit(void)
{
	struct dcore_device_constraints *e, *next;

	list_for_each_entry_safe(e, next, &dcore_table, node)
		kfree(e);
	INIT_LIST_HEAD(&dcore_table);
	dcore_table_len = 0;
}
