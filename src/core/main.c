// SPDX-License-Identifier: GPL-2.0-only
/*
 * dmabuf_core.ko: DMA buffer sharing between devices and processes, on the
 * kernel's dma-buf, and /dev/dmabuf.
 */
#include <linux/init.h>
#include <linux/module.h>

#include "../compat.h"
#include "internal.h"

static int __init dcore_init(void)
{
	int ret;

	dcore_lockdep_prime();
	ret = dcore_import_init();
	if (ret)
		return ret;
	/* Before the nodes: a buffer could ask for a large run at once. */
	dcore_large_runs_init();
	ret = dcore_node_register();
	if (ret) {
		dcore_large_runs_exit();
		dcore_import_exit();
	}
	return ret;
}

/*
 * Every live buffer pins this module, and every import wrapper lives only
 * while an importer module (which depends on this one) holds it: none is
 * left here.
 */
static void __exit dcore_exit(void)
{
	dcore_node_unregister();
	dcore_large_runs_exit();
	dcore_import_exit();
	dcore_constraints_exit();
}

module_init(dcore_init);
module_exit(dcore_exit);

MODULE_DESCRIPTION("DMA buffer sharing framework and /dev/dmabuf allocator");
MODULE_AUTHOR("dmabuf-core developers");
MODULE_LICENSE("GPL");
MODULE_VERSION(DMABUF_CORE_VERSION);
MODULE_IMPORT_NS(DMABUF_CORE_DMA_BUF_NS);
