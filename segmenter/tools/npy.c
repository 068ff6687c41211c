/* .npy reader and writer for float32 tensors. The header is a Python dict
 * literal; rather than trusting its shape to match the bytes that follow, the
 * parser accepts only the three keys NumPy writes, checks each value's type,
 * bounds the dims and their product, and requires the data to be exactly
 * product * 4 bytes long. */
#include "npy.h"
#include "errbuf.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Far above any tensor the tools exchange, low enough that a hostile header
 * cannot make us allocate more than 1 GiB. */
#define NPY_MAX_COUNT ((size_t) 1 << 28)
#define NPY_MAX_HEADER 65536

static const unsigned char npy_magic[6] = {0x93, 'N', 'U', 'M', 'P', 'Y'};

/* A cursor over the header text; `end` is one past its last byte. */
typedef struct
{
  const char *p, *end;
} cursor;

static void
skip_space (cursor *c)
{
  while (c->p < c->end
      && (*c->p == ' ' || *c->p == '\t' || *c->p == '\n' || *c->p == '\r'))
    c->p++;
}

static int
accept (cursor *c, char ch)
{
  skip_space (c);
  if (c->p < c->end && *c->p == ch) {
    c->p++;
    return 1;
  }
  return 0;
}

/* A quoted Python string without escapes (NumPy never writes any in these
 * keys and values); copied into buf. Returns 0, or -1 if malformed or too
 * long. */
static int
parse_string (cursor *c, char *buf, size_t size)
{
  char quote;
  size_t n = 0;

  skip_space (c);
  if (c->p >= c->end || (*c->p != '\'' && *c->p != '"'))
    return -1;
  quote = *c->p++;
  while (c->p < c->end && *c->p != quote) {
    if (*c->p == '\\' || n + 1 >= size)
      return -1;
    buf[n++] = *c->p++;
  }
  if (c->p >= c->end)
    return -1;
  c->p++;
  buf[n] = '\0';
  return 0;
}

static int
parse_word (cursor *c, const char *word)
{
  size_t n = strlen (word);

  skip_space (c);
  if ((size_t) (c->end - c->p) >= n && memcmp (c->p, word, n) == 0) {
    c->p += n;
    return 1;
  }
  return 0;
}

/* "(d0, d1, ...)" with an optional trailing comma; "()" is rank 0 and a
 * one-element tuple needs its comma, as in Python. */
static int
parse_shape (cursor *c, npy_array *a, const char *name, char *err,
    size_t err_len)
{
  int rank = 0;
  int trailing_comma = 0;

  if (!accept (c, '('))
    return seg_tool_fail (err, err_len,
        "%s: header field 'shape' is not a tuple", name);
  for (;;) {
    int64_t v = 0;
    int digits = 0;

    if (accept (c, ')'))
      break;
    if (rank > 0 && !trailing_comma)
      return seg_tool_fail (err, err_len,
          "%s: header field 'shape' is malformed", name);
    skip_space (c);
    while (c->p < c->end && *c->p >= '0' && *c->p <= '9') {
      v = v * 10 + (*c->p - '0');
      if (v > INT32_MAX)
        return seg_tool_fail (err, err_len,
            "%s: header field 'shape' has a dimension over %d", name,
            INT32_MAX);
      c->p++;
      digits++;
    }
    if (digits == 0)
      return seg_tool_fail (err, err_len,
          "%s: header field 'shape' holds something other than "
          "non-negative integers",
          name);
    if (rank == NPY_MAX_RANK)
      return seg_tool_fail (err, err_len,
          "%s: header field 'shape' has more than %d dimensions", name,
          NPY_MAX_RANK);
    a->shape[rank++] = v;
    trailing_comma = accept (c, ',');
  }
  if (rank == 1 && !trailing_comma)
    return seg_tool_fail (err, err_len,
        "%s: header field 'shape' is malformed (a 1-tuple needs a comma)",
        name);
  a->rank = rank;
  return 0;
}

static int
parse_header (const char *text, size_t len, const char *name, npy_array *a,
    char *err, size_t err_len)
{
  cursor c = {text, text + len};
  int have_descr = 0, have_order = 0, have_shape = 0;
  char key[32], descr[32];

  for (size_t i = 0; i < len; i++) {
    unsigned char ch = (unsigned char) text[i];
    if (ch >= 0x7f || (ch < 0x20 && ch != '\n' && ch != '\t' && ch != '\r'))
      return seg_tool_fail (err, err_len,
          "%s: header holds a non-ASCII byte at "
          "offset %zu",
          name, i);
  }
  if (!accept (&c, '{'))
    return seg_tool_fail (err, err_len, "%s: header is not a dict", name);
  for (;;) {
    if (accept (&c, '}'))
      break;
    if (parse_string (&c, key, sizeof key) < 0)
      return seg_tool_fail (err, err_len, "%s: header has a malformed key",
          name);
    if (!accept (&c, ':'))
      return seg_tool_fail (err, err_len, "%s: header lacks ':' after key '%s'",
          name, key);
    if (strcmp (key, "descr") == 0 && !have_descr) {
      if (parse_string (&c, descr, sizeof descr) < 0)
        return seg_tool_fail (err, err_len,
            "%s: header field 'descr' is not a simple dtype string", name);
      if (strcmp (descr, "<f4") != 0)
        return seg_tool_fail (err, err_len,
            "%s: header field 'descr' is '%s'; only "
            "'<f4' (little-endian float32) is supported",
            name, descr);
      have_descr = 1;
    } else if (strcmp (key, "fortran_order") == 0 && !have_order) {
      if (parse_word (&c, "True"))
        return seg_tool_fail (err, err_len,
            "%s: header field 'fortran_order' is "
            "True; only C order is supported",
            name);
      if (!parse_word (&c, "False"))
        return seg_tool_fail (err, err_len,
            "%s: header field 'fortran_order' is not True or False", name);
      have_order = 1;
    } else if (strcmp (key, "shape") == 0 && !have_shape) {
      if (parse_shape (&c, a, name, err, err_len) < 0)
        return -1;
      have_shape = 1;
    } else {
      return seg_tool_fail (err, err_len,
          "%s: header has an unexpected or repeated "
          "key '%s'",
          name, key);
    }
    if (!accept (&c, ',')) {
      if (!accept (&c, '}'))
        return seg_tool_fail (err, err_len,
            "%s: header dict is malformed after key "
            "'%s'",
            name, key);
      break;
    }
  }
  skip_space (&c);
  if (c.p != c.end)
    return seg_tool_fail (err, err_len,
        "%s: header has trailing text after the dict", name);
  if (!have_descr)
    return seg_tool_fail (err, err_len, "%s: header lacks the field 'descr'",
        name);
  if (!have_order)
    return seg_tool_fail (err, err_len,
        "%s: header lacks the field 'fortran_order'", name);
  if (!have_shape)
    return seg_tool_fail (err, err_len, "%s: header lacks the field 'shape'",
        name);
  return 0;
}

static int
host_is_little_endian (void)
{
  const uint16_t one = 1;
  unsigned char b;

  memcpy (&b, &one, 1);
  return b == 1;
}

int
npy_parse (const void *buf, size_t len, const char *name, npy_array *out,
    char *err, size_t err_len)
{
  const unsigned char *b = buf;
  npy_array a = {0};
  size_t prefix, hlen, count = 1;

  memset (out, 0, sizeof *out);
  if (len < 10 || memcmp (b, npy_magic, sizeof npy_magic) != 0)
    return seg_tool_fail (err, err_len, "%s: not a .npy file (bad magic)",
        name);
  if (b[6] == 1 && b[7] == 0) {
    hlen = (size_t) b[8] | (size_t) b[9] << 8;
    prefix = 10;
  } else if (b[6] == 2 && b[7] == 0) {
    if (len < 12)
      return seg_tool_fail (err, err_len, "%s: truncated header length", name);
    hlen = (size_t) b[8] | (size_t) b[9] << 8 | (size_t) b[10] << 16
        | (size_t) b[11] << 24;
    prefix = 12;
  } else {
    return seg_tool_fail (err, err_len,
        "%s: format version %u.%u is not supported "
        "(need 1.0 or 2.0)",
        name, b[6], b[7]);
  }
  if (hlen > NPY_MAX_HEADER)
    return seg_tool_fail (err, err_len,
        "%s: header length %zu exceeds the limit of "
        "%d bytes",
        name, hlen, NPY_MAX_HEADER);
  if (len - prefix < hlen)
    return seg_tool_fail (err, err_len,
        "%s: truncated header (%zu of %zu bytes)", name, len - prefix, hlen);
  if (parse_header ((const char *) b + prefix, hlen, name, &a, err, err_len)
      < 0)
    return -1;

  for (int i = 0; i < a.rank; i++) {
    if (a.shape[i] != 0 && count > NPY_MAX_COUNT / (size_t) a.shape[i])
      return seg_tool_fail (err, err_len,
          "%s: header field 'shape' describes more "
          "than %zu elements",
          name, NPY_MAX_COUNT);
    count *= (size_t) a.shape[i];
  }
  if (len - prefix - hlen != count * 4)
    return seg_tool_fail (err, err_len,
        "%s: data is %zu bytes but header field "
        "'shape' needs %zu (%s)",
        name, len - prefix - hlen, count * 4,
        len - prefix - hlen < count * 4 ? "truncated file" : "trailing bytes");

  a.count = count;
  a.data = malloc (count > 0 ? count * sizeof (float) : 1);
  if (!a.data)
    return seg_tool_fail (err, err_len, "%s: out of memory for %zu elements",
        name, count);
  memcpy (a.data, b + prefix + hlen, count * 4);
  if (!host_is_little_endian ()) {
    uint32_t *w = (uint32_t *) a.data;
    for (size_t i = 0; i < count; i++)
      w[i] = __builtin_bswap32 (w[i]);
  }
  *out = a;
  return 0;
}

int
npy_read (const char *path, npy_array *out, char *err, size_t err_len)
{
  unsigned char *buf;
  size_t size;

  memset (out, 0, sizeof *out);
  if (seg_tool_read_file (path, NPY_MAX_COUNT * 4 + NPY_MAX_HEADER + 12, &buf,
          &size, err, err_len)
      < 0)
    return -1;
  int ret = npy_parse (buf, size, path, out, err, err_len);
  free (buf);
  return ret;
}

int
npy_write (const char *path, const float *data, int rank, const int64_t *shape,
    char *err, size_t err_len)
{
  char header[512];
  int n;
  size_t count = 1, total;
  FILE *f;
  int ok;

  if (rank < 0 || rank > NPY_MAX_RANK)
    return seg_tool_fail (err, err_len, "%s: rank %d is not supported", path,
        rank);
  /* Leave 10 bytes for the prefix; the dict is padded below. */
  n = snprintf (header, sizeof header,
      "{'descr': '<f4', 'fortran_order': False, 'shape': (");
  for (int i = 0; i < rank; i++) {
    if (shape[i] < 0)
      return seg_tool_fail (err, err_len, "%s: negative dimension", path);
    count *= (size_t) shape[i];
    n += snprintf (header + n, sizeof header - (size_t) n, "%s%lld",
        i ? ", " : "", (long long) shape[i]);
  }
  n += snprintf (header + n, sizeof header - (size_t) n, "%s), }",
      rank == 1 ? "," : "");
  /* NumPy aligns the data to 64 bytes and ends the header with '\n'. */
  total = ((10 + (size_t) n + 1 + 63) / 64) * 64;
  if (total - 10 > sizeof header || total - 10 > 65535)
    return seg_tool_fail (err, err_len, "%s: header too long", path);
  memset (header + n, ' ', total - 10 - (size_t) n);
  header[total - 10 - 1] = '\n';

  f = fopen (path, "wb");
  if (!f)
    return seg_tool_fail (err, err_len, "%s: cannot create: %s", path,
        strerror (errno));
  {
    unsigned char prefix[10];
    size_t hlen = total - 10;

    memcpy (prefix, npy_magic, sizeof npy_magic);
    prefix[6] = 1;
    prefix[7] = 0;
    prefix[8] = (unsigned char) (hlen & 0xff);
    prefix[9] = (unsigned char) (hlen >> 8);
    ok = fwrite (prefix, 1, sizeof prefix, f) == sizeof prefix
        && fwrite (header, 1, hlen, f) == hlen;
  }
  if (ok && host_is_little_endian ()) {
    ok = fwrite (data, sizeof (float), count, f) == count;
  } else if (ok) {
    for (size_t i = 0; ok && i < count; i++) {
      uint32_t w;
      memcpy (&w, &data[i], 4);
      w = __builtin_bswap32 (w);
      ok = fwrite (&w, 4, 1, f) == 1;
    }
  }
  if (fclose (f) != 0)
    ok = 0;
  if (!ok) {
    int e = errno;
    unlink (path);
    return seg_tool_fail (err, err_len, "%s: write error: %s", path,
        strerror (e));
  }
  return 0;
}

void
npy_array_clear (npy_array *array)
{
  free (array->data);
  memset (array, 0, sizeof *array);
}
