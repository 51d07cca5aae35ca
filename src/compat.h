/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Differences between the kernels dmabuf-core supports (Debian 6.1, 6.12
 * and the newest trixie-backports kernel), kept in this one place.  The
 * DMABUF_CORE_HAVE_* / _NEED_* macros come from probes of the target's
 * headers in Kbuild, not from version numbers.
 */
#ifndef _DMABUF_CORE_COMPAT_H
#define _DMABUF_CORE_COMPAT_H

/*
 * The symbol namespace, for EXPORT_SYMBOL_NS_GPL() and MODULE_IMPORT_NS().
 * Linux 6.13 ("module: Convert symbol namespace to string literal") made
 * it a string literal; before, it was a bare identifier the macros
 * stringified.
 */
#ifdef DMABUF_CORE_NEED_BARE_NS
#define DMABUF_CORE_NS	DMABUF_CORE
#else
#define DMABUF_CORE_NS	"DMABUF_CORE"
#endif

#endif /* _DMABUF_CORE_COMPAT_H */
