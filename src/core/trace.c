// SPDX-License-Identifier: GPL-2.0-only
/*
 * The definitions of dmabuf-core's trace events (dcore_trace.h), in one
 * object of the module.
 */
#define CREATE_TRACE_POINTS
#include "dcore_trace.h"
