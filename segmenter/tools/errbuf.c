/* See errbuf.h. */
#include "errbuf.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

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

int
seg_tool_read_file (const char *path, size_t max_bytes, unsigned char **buf,
    size_t *len, char *err, size_t err_len)
{
  struct stat st;
  unsigned char *data = NULL;
  int ret = -1;
  FILE *f = fopen (path, "rb");

  if (!f)
    return seg_tool_fail (err, err_len, "%s: cannot open: %s", path,
        strerror (errno));
  if (fstat (fileno (f), &st) < 0) {
    seg_tool_fail (err, err_len, "%s: cannot stat: %s", path, strerror (errno));
    goto out;
  }
  if (!S_ISREG (st.st_mode)) {
    seg_tool_fail (err, err_len, "%s: not a regular file", path);
    goto out;
  }
  if ((uint64_t) st.st_size > max_bytes) {
    seg_tool_fail (err, err_len, "%s: file of %jd bytes is too large", path,
        (intmax_t) st.st_size);
    goto out;
  }
  size_t size = (size_t) st.st_size;
  data = malloc (size > 0 ? size : 1);
  if (!data) {
    seg_tool_fail (err, err_len, "%s: out of memory", path);
    goto out;
  }
  if (fread (data, 1, size, f) != size) {
    seg_tool_fail (err, err_len, "%s: read error", path);
    goto out;
  }
  *buf = data;
  *len = size;
  data = NULL;
  ret = 0;

out:
  free (data);
  fclose (f);
  return ret;
}
