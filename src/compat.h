/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Differences between the kernels dmabuf-core supports (Debian 6.1, 6.12
 * and the newest trixie-backports kernel), kept in this one place.
 */
#ifndef _DMABUF_CORE_COMPAT_H
#define _DMABUF_CORE_COMPAT_H

#include <linux/export.h>
#include <linux/module.h>
#include <linux/version.h>

/*
 * Linux 6.13 (commit "module: Convert symbol namespace to string literal")
 * turned the namespace argument of EXPORT_SYMBOL_NS_GPL() and
 * MODULE_IMPORT_NS() from a bare identifier into a string literal.  A
 * tree-wide interface change that no distro backports, so the version
 * number is the probe.
 */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 13, 0)
#define DMABUF_CORE_EXPORT(sym)		EXPORT_SYMBOL_NS_GPL(sym, "DMABUF_CORE")
#define DMABUF_CORE_IMPORT_NS()		MODULE_IMPORT_NS("DMABUF_CORE")
#else
#define DMABUF_CORE_EXPORT(sym)		EXPORT_SYMBOL_NS_GPL(sym, DMABUF_CORE)
#define DMABUF_CORE_IMPORT_NS()		MODULE_IMPORT_NS(DMABUF_CORE)
#endif

#endif /* _DMABUF_CORE_COMPAT_H */
