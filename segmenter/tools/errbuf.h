/* Error reporting shared by the tool's file readers and writers: they fill
 * a caller's buffer with one line and return -1. */
#ifndef SEG_TOOL_ERRBUF_H
#define SEG_TOOL_ERRBUF_H

#include <stddef.h>

/* Formats into err (if non-NULL and err_len > 0); always returns -1. */
int seg_tool_fail (char *err, size_t err_len, const char *fmt, ...)
    __attribute__ ((format (printf, 3, 4)));

#endif
