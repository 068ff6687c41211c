/* Tests of the `seg` tool's .npy reader and writer: round trips, headers
 * written the way NumPy writes them (both versions, old 16-byte alignment),
 * every refusal the reader promises with the field it must name, and random
 * header corruption, which must end in a clean error or a consistent array,
 * never a crash (run under ASan in the sanitizer build). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "npy.h"
#include "util.h"


#define CHECK_CONTINUES
#include "../check.h"

static uint64_t rng_state = 0x2545f4914f6cdd1du;

static uint32_t
rng_next (void)
{
  rng_state ^= rng_state << 13;
  rng_state ^= rng_state >> 7;
  rng_state ^= rng_state << 17;
  return (uint32_t) (rng_state >> 32);
}

/* Builds a file image: magic, version, header length, header text padded
 * with spaces and a newline to `align`, then `data_bytes` bytes of data. */
static size_t
build (uint8_t *buf, int major, const char *dict, size_t align,
    size_t data_bytes)
{
  size_t prefix = major == 1 ? 10 : 12;
  size_t dlen = strlen (dict);
  size_t total = ((prefix + dlen + 1 + align - 1) / align) * align;
  size_t hlen = total - prefix;

  memcpy (buf, "\x93NUMPY", 6);
  buf[6] = (uint8_t) major;
  buf[7] = 0;
  buf[8] = (uint8_t) (hlen & 0xff);
  buf[9] = (uint8_t) (hlen >> 8);
  if (major != 1) {
    buf[10] = 0;
    buf[11] = 0;
  }
  memcpy (buf + prefix, dict, dlen);
  memset (buf + prefix + dlen, ' ', hlen - dlen);
  buf[total - 1] = '\n';
  for (size_t i = 0; i < data_bytes; i++)
    buf[total + i] = (uint8_t) i;
  return total + data_bytes;
}

static void
expect_ok (const uint8_t *buf, size_t len, int rank, const int64_t *shape,
    const char *what)
{
  npy_array a;
  char err[512] = "";

  if (npy_parse (buf, len, "t.npy", &a, err, sizeof err) < 0) {
    CHECK (0, "%s: refused: %s", what, err);
    return;
  }
  CHECK (a.rank == rank, "%s: rank %d, expected %d", what, a.rank, rank);
  for (int i = 0; i < rank && i < a.rank; i++)
    CHECK (a.shape[i] == shape[i], "%s: dim %d is %lld, expected %lld", what, i,
        (long long) a.shape[i], (long long) shape[i]);
  npy_array_clear (&a);
}

/* The parse must fail with a message that names the file and contains
 * `needle` (the field or the problem). */
static void
expect_error (const uint8_t *buf, size_t len, const char *needle,
    const char *what)
{
  npy_array a;
  char err[512] = "";

  if (npy_parse (buf, len, "t.npy", &a, err, sizeof err) == 0) {
    CHECK (0, "%s: accepted", what);
    npy_array_clear (&a);
    return;
  }
  CHECK (a.data == NULL, "%s: data left allocated after an error", what);
  CHECK (strncmp (err, "t.npy: ", 7) == 0,
      "%s: message does not start with "
      "the file name: '%s'",
      what, err);
  CHECK (strstr (err, needle) != NULL, "%s: message '%s' lacks '%s'", what, err,
      needle);
  CHECK (strchr (err, '\n') == NULL, "%s: message spans lines: '%s'", what,
      err);
}

static void
test_round_trip (const char *dir)
{
  static const int64_t shapes[][4] = {
      {0},
      {7},
      {3, 5},
      {1, 3, 97, 97},
      {1, 0, 4, 4},
  };
  static const int ranks[] = {0, 1, 2, 4, 4};
  char path[4096], err[512];

  snprintf (path, sizeof path, "%s/rt.npy", dir);
  for (size_t s = 0; s < sizeof ranks / sizeof ranks[0]; s++) {
    size_t count = 1;
    float *data;
    npy_array a;
    FILE *f;
    uint8_t head[10];

    for (int i = 0; i < ranks[s]; i++)
      count *= (size_t) shapes[s][i];
    data = malloc ((count ? count : 1) * sizeof *data);
    for (size_t i = 0; i < count; i++)
      data[i] = (float) (int32_t) rng_next () / 65536.0f;
    CHECK (npy_write (path, data, ranks[s], shapes[s], err, sizeof err) == 0,
        "write rank %d: %s", ranks[s], err);

    /* NumPy's layout: version 1.0, data offset a multiple of 64, header
     * ending in a newline. */
    f = fopen (path, "rb");
    CHECK (f && fread (head, 1, 10, f) == 10, "cannot reread %s", path);
    if (f) {
      size_t hlen = (size_t) head[8] | (size_t) head[9] << 8;
      CHECK (head[6] == 1 && head[7] == 0, "version %d.%d written", head[6],
          head[7]);
      CHECK ((10 + hlen) % 64 == 0, "data offset %zu not 64-aligned",
          10 + hlen);
      fclose (f);
    }

    if (npy_read (path, &a, err, sizeof err) < 0) {
      CHECK (0, "read back rank %d: %s", ranks[s], err);
    } else {
      CHECK (a.rank == ranks[s], "rank %d read back as %d", ranks[s], a.rank);
      CHECK (a.count == count, "count %zu read back as %zu", count, a.count);
      for (int i = 0; i < a.rank; i++)
        CHECK (a.shape[i] == shapes[s][i], "dim %d changed", i);
      CHECK (count == 0 || memcmp (a.data, data, count * 4) == 0,
          "data changed in the round trip (rank %d)", ranks[s]);
      npy_array_clear (&a);
    }
    free (data);
  }
  unlink (path);
}

static void
test_accepted_headers (void)
{
  static uint8_t buf[4096];
  static const int64_t s23[] = {2, 3}, s5[] = {5}, s1[] = {1, 3, 4, 4};
  size_t n;

  n = build (buf, 1,
      "{'descr': '<f4', 'fortran_order': False, "
      "'shape': (2, 3), }",
      64, 24);
  expect_ok (buf, n, 2, s23, "numpy 1.0 header");
  n = build (buf, 2,
      "{'descr': '<f4', 'fortran_order': False, "
      "'shape': (2, 3), }",
      64, 24);
  expect_ok (buf, n, 2, s23, "2.0 header");
  n = build (buf, 1,
      "{'descr': '<f4', 'fortran_order': False, "
      "'shape': (5,), }",
      16, 20);
  expect_ok (buf, n, 1, s5, "old 16-byte alignment, 1-tuple");
  n = build (buf, 1,
      "{\"shape\":(1,3,4,4),\"descr\":\"<f4\","
      "\"fortran_order\":False}",
      64, 192);
  expect_ok (buf, n, 4, s1, "double quotes, other key order, no spaces");
  n = build (buf, 1,
      "{'descr': '<f4', 'fortran_order': False, "
      "'shape': (), }",
      64, 4);
  expect_ok (buf, n, 0, s5, "rank 0");
}

static void
test_refusals (void)
{
  static uint8_t buf[4096];
  const char *ok = "{'descr': '<f4', 'fortran_order': False, "
                   "'shape': (2, 3), }";
  size_t n;

  n = build (buf, 1, ok, 64, 24);
  expect_error (buf, n - 1, "truncated", "data one byte short");
  expect_error (buf, n - 24, "truncated", "no data");
  buf[n] = 0;
  expect_error (buf, n + 1, "trailing bytes", "one byte too many");
  expect_error (buf, 30, "truncated header", "cut inside the header");
  expect_error (buf, 9, "bad magic", "cut inside the prefix");
  buf[1] = 'n';
  expect_error (buf, n, "bad magic", "wrong magic");

  n = build (buf, 3, ok, 64, 24);
  expect_error (buf, n, "version 3.0", "version 3.0");
  n = build (buf, 1, ok, 64, 24);
  buf[9] = 0xff;
  expect_error (buf, n, "truncated header", "header length past the end");
  n = build (buf, 2, ok, 64, 24);
  buf[11] = 0x10;
  expect_error (buf, n, "header length", "2.0 header length of 256 MiB");

  n = build (buf, 1,
      "{'descr': '<f8', 'fortran_order': False, "
      "'shape': (2, 3), }",
      64, 48);
  expect_error (buf, n, "'descr' is '<f8'", "float64");
  n = build (buf, 1,
      "{'descr': '>f4', 'fortran_order': False, "
      "'shape': (2, 3), }",
      64, 24);
  expect_error (buf, n, "'descr' is '>f4'", "big-endian");
  n = build (buf, 1,
      "{'descr': [('a', '<f4')], 'fortran_order': False, "
      "'shape': (2, 3), }",
      64, 24);
  expect_error (buf, n, "'descr'", "structured dtype");
  n = build (buf, 1,
      "{'descr': '<f4', 'fortran_order': True, "
      "'shape': (2, 3), }",
      64, 24);
  expect_error (buf, n, "'fortran_order' is True", "Fortran order");
  n = build (buf, 1,
      "{'descr': '<f4', 'fortran_order': 0, "
      "'shape': (2, 3), }",
      64, 24);
  expect_error (buf, n, "'fortran_order'", "fortran_order not a bool");
  n = build (buf, 1, "{'descr': '<f4', 'shape': (2, 3), }", 64, 24);
  expect_error (buf, n, "lacks the field 'fortran_order'", "missing key");
  n = build (buf, 1, "{'descr': '<f4', 'fortran_order': False, }", 64, 24);
  expect_error (buf, n, "lacks the field 'shape'", "missing shape");
  n = build (buf, 1,
      "{'descr': '<f4', 'fortran_order': False, "
      "'shape': (2, 3), 'extra': 1}",
      64, 24);
  expect_error (buf, n, "'extra'", "unknown key");
  n = build (buf, 1,
      "{'descr': '<f4', 'descr': '<f4', "
      "'fortran_order': False, 'shape': (2, 3), }",
      64, 24);
  expect_error (buf, n, "repeated key 'descr'", "repeated key");
  n = build (buf, 1,
      "{'descr': '<f4', 'fortran_order': False, "
      "'shape': (2, -3), }",
      64, 24);
  expect_error (buf, n, "'shape'", "negative dim");
  n = build (buf, 1,
      "{'descr': '<f4', 'fortran_order': False, "
      "'shape': (2.5, 3), }",
      64, 24);
  expect_error (buf, n, "'shape'", "fractional dim");
  n = build (buf, 1,
      "{'descr': '<f4', 'fortran_order': False, "
      "'shape': (6), }",
      64, 24);
  expect_error (buf, n, "'shape'", "parenthesised int, not a tuple");
  n = build (buf, 1,
      "{'descr': '<f4', 'fortran_order': False, "
      "'shape': [2, 3], }",
      64, 24);
  expect_error (buf, n, "'shape' is not a tuple", "list shape");
  n = build (buf, 1,
      "{'descr': '<f4', 'fortran_order': False, "
      "'shape': (1, 1, 1, 1, 1, 1, 1, 1, 1), }",
      64, 4);
  expect_error (buf, n, "more than 8 dimensions", "rank 9");
  n = build (buf, 1,
      "{'descr': '<f4', 'fortran_order': False, "
      "'shape': (99999999999, 1), }",
      64, 4);
  expect_error (buf, n, "'shape' has a dimension over", "huge dim");
  n = build (buf, 1,
      "{'descr': '<f4', 'fortran_order': False, "
      "'shape': (65536, 65536, 65536), }",
      64, 4);
  expect_error (buf, n, "more than", "element count overflow");
  n = build (buf, 1,
      "{'descr': '<f4', 'fortran_order': False, "
      "'shape': (2, 3), } x",
      64, 24);
  expect_error (buf, n, "trailing text", "text after the dict");
  n = build (buf, 1,
      "{'descr': '<f4', 'fortran_order': False, "
      "'shape': (2, 3), }",
      64, 24);
  buf[20] = 0xc3;
  expect_error (buf, n, "non-ASCII", "non-ASCII header byte");
  n = build (buf, 1,
      "{'descr': '<f4', 'fortran_order': False, "
      "'shape': (2, 3), ",
      64, 24);
  expect_error (buf, n, "malformed", "unclosed dict");
  n = build (buf, 1,
      "{'descr: '<f4', 'fortran_order': False, "
      "'shape': (2, 3), }",
      64, 24);
  expect_error (buf, n, "t.npy: header", "unbalanced quote");
}

static void
test_read_errors (const char *dir)
{
  char path[4096], err[512];
  npy_array a;
  FILE *f;

  snprintf (path, sizeof path, "%s/missing.npy", dir);
  CHECK (npy_read (path, &a, err, sizeof err) < 0, "missing file accepted");
  CHECK (strstr (err, path) && strstr (err, "cannot open"),
      "missing file: '%s'", err);
  CHECK (npy_read (dir, &a, err, sizeof err) < 0, "directory accepted");
  CHECK (strstr (err, "not a regular file"), "directory: '%s'", err);

  snprintf (path, sizeof path, "%s/empty.npy", dir);
  f = fopen (path, "wb");
  CHECK (f != NULL, "cannot create %s", path);
  if (f)
    fclose (f);
  CHECK (npy_read (path, &a, err, sizeof err) < 0, "empty file accepted");
  CHECK (strstr (err, path) && strstr (err, "bad magic"), "empty: '%s'", err);
  unlink (path);

  snprintf (path, sizeof path, "%s/no/such/dir/out.npy", dir);
  CHECK (npy_write (path, NULL, 0, NULL, err, sizeof err) < 0,
      "write into a missing directory succeeded");
  CHECK (strstr (err, "cannot create"), "bad write path: '%s'", err);
}

/* Random byte corruption of the prefix and header: whatever comes back must
 * be an error with a message, or an array whose count matches its shape. */
static void
test_corruption (void)
{
  static uint8_t good[4096], buf[4096];
  size_t n = build (good, 1,
      "{'descr': '<f4', 'fortran_order': False, "
      "'shape': (1, 3, 2, 2), }",
      64, 48);
  int accepted = 0;

  for (int iter = 0; iter < 20000; iter++) {
    npy_array a;
    char err[512] = "";
    int flips = 1 + (int) (rng_next () % 4);
    size_t len = n;

    memcpy (buf, good, n);
    for (int k = 0; k < flips; k++) {
      size_t pos = rng_next () % (n - 48);
      buf[pos] = (uint8_t) rng_next ();
    }
    if (rng_next () % 8 == 0)
      len = rng_next () % (n + 1);
    if (npy_parse (buf, len, "t.npy", &a, err, sizeof err) == 0) {
      size_t count = 1;
      for (int i = 0; i < a.rank; i++)
        count *= (size_t) a.shape[i];
      CHECK (count == a.count,
          "accepted array with count %zu for shape "
          "product %zu",
          a.count, count);
      accepted++;
      npy_array_clear (&a);
    } else {
      CHECK (err[0] != '\0', "error without a message");
    }
  }
  /* Flipping only padding spaces leaves the file valid, so some survive. */
  CHECK (accepted > 0,
      "no corrupted header was ever accepted; the "
      "corruption loop is not reaching the parser's success path");
}

int
main (void)
{
  char *dir = make_scratch_dir ("npy");

  test_round_trip (dir);
  test_accepted_headers ();
  test_refusals ();
  test_read_errors (dir);
  test_corruption ();
  remove_scratch_dir (dir);
  if (failures) {
    fprintf (stderr, "%d check(s) failed\n", failures);
    return 1;
  }
  printf ("npy: all checks passed\n");
  return 0;
}
