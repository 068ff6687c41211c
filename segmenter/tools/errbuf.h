/* Shared by the tool's file readers and writers: errors fill a caller's
 * buffer with one line and return -1. */
#ifndef SEG_TOOL_ERRBUF_H
#define SEG_TOOL_ERRBUF_H

#include <stddef.h>

/* Formats into err (if non-NULL and err_len > 0); always returns -1. */
int seg_tool_fail (char *err, size_t err_len, const char *fmt, ...)
    __attribute__ ((format (printf, 3, 4)));

/* Reads the whole regular file at path, at most max_bytes long, into *buf
 * (malloc'd, transfer full; never NULL on success) and its length into
 * *len. Returns 0, or -1 with a line naming path in err. */
int seg_tool_read_file (const char *path, size_t max_bytes, unsigned char **buf,
    size_t *len, char *err, size_t err_len);

#endif
