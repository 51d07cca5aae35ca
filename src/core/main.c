// SPDX-License-Identifier: GPL-2.0-only
/*
 * dmabuf_core.ko: DMA buffer sharing between devices and processes, and
 * /dev/dmabuf.
 */
#include <linux/init.h>
#include <linux/module.h>

#include "internal.h"

static int __init dmabuf_core_init(void)
{
	return dmabuf_node_register();
}

/* Every live buffer pins this module, so none is left here. */
static void __exit dmabuf_core_exit(void)
{
	dmabuf_node_unregister();
}

module_init(dmabuf_core_init);
module_exit(dmabuf_core_exit);

MODULE_DESCRIPTION("DMA buffer sharing framework and /dev/dmabuf allocator");
MODULE_AUTHOR("dmabuf-core developers");
MODULE_LICENSE("GPL");
MODULE_VERSION(DMABUF_CORE_VERSION);
