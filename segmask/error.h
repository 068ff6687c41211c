/* Internal to libsegmask (not installed): errors are sentences written
 * into the caller's buffer; nothing in the library logs. */
#ifndef SEGMASK_ERROR_H
#define SEGMASK_ERROR_H

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>

/* Writes the message into err[err_len] when the caller gave a buffer. */
static inline void __attribute__ ((format (printf, 3, 4)))
segmask_set_error (char *err, size_t err_len, const char *fmt, ...)
{
  va_list ap;

  if (!err || !err_len)
    return;
  va_start (ap, fmt);
  vsnprintf (err, err_len, fmt, ap);
  va_end (ap);
}

#endif /* SEGMASK_ERROR_H */
