/* See errbuf.h. */
#include "errbuf.h"

#include <stdarg.h>
#include <stdio.h>

int
seg_tool_fail (char *err, size_t err_len, const char *fmt, ...)
{
  va_list ap;

  if (err && err_len > 0) {
    va_start (ap, fmt);
    vsnprintf (err, err_len, fmt, ap);
    va_end (ap);
  }
  return -1;
}
