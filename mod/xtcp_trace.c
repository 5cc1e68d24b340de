// SPDX-License-Identifier: GPL-2.0
/*
 * xtcp: the tracepoints of xtcp_trace.h, defined here once.
 */
#define CREATE_TRACE_POINTS
#include "xtcp_trace.h"
