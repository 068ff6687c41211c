/* Tests of the `seg` tool's image I/O: PNG round trips for every kind it
 * writes (the palette PNG is read back with libpng's low-level API to prove
 * it really is 8-bit indexed with pixel value = class index and the VOC
 * colours), decoding of a Debian-shipped JPEG, and refusal of missing,
 * foreign and truncated files with one line naming the file. */
#include <stdint.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "image.h"
#include "util.h"

/* From python-matplotlib-data; the JPEG checks are skipped without it. */
#define JPEG_PHOTO "/usr/share/matplotlib/mpl-data/sample_data/grace_hopper.jpg"


#define CHECK_CONTINUES
#include "../check.h"

static uint32_t rng_state = 12345u;

static uint8_t
rng_byte (void)
{
  return (uint8_t) (test_rand (&rng_state) >> 24);
}

static void
test_voc_palette (void)
{
  uint8_t p[256 * 3];

  image_voc_palette (p);
  /* The published VOC colours: background, aeroplane, bicycle, ...,
   * person (15), tvmonitor (20); 255 is the "void" border colour. */
  CHECK (p[0] == 0 && p[1] == 0 && p[2] == 0, "class 0 not black");
  CHECK (p[3] == 128 && p[4] == 0 && p[5] == 0, "class 1 not (128,0,0)");
  CHECK (p[6] == 0 && p[7] == 128 && p[8] == 0, "class 2 not (0,128,0)");
  CHECK (p[45] == 192 && p[46] == 128 && p[47] == 128,
      "class 15 (person) is (%d,%d,%d), not (192,128,128)", p[45], p[46],
      p[47]);
  CHECK (p[60] == 0 && p[61] == 64 && p[62] == 128,
      "class 20 is (%d,%d,%d), not (0,64,128)", p[60], p[61], p[62]);
  CHECK (p[765] == 224 && p[766] == 224 && p[767] == 192,
      "class 255 is (%d,%d,%d), not (224,224,192)", p[765], p[766], p[767]);
}

static void
test_png_round_trips (const char *dir)
{
  char path[4096], err[512];
  image src, back, idx;
  uint8_t palette[256 * 3], got_pal[256 * 3];
  int entries = 0;

  /* Odd sizes so that no row happens to be word-aligned. */
  CHECK (image_alloc (&src, 37, 23, 3) == 0, "alloc");
  for (size_t i = 0; i < 37 * 23 * 3; i++)
    src.pixels[i] = rng_byte ();
  snprintf (path, sizeof path, "%s/rgb.png", dir);
  CHECK (image_write_png (path, &src, NULL, err, sizeof err) == 0,
      "write RGB: %s", err);
  CHECK (image_load (path, 3, &back, err, sizeof err) == 0, "read RGB: %s",
      err);
  CHECK (back.width == 37 && back.height == 23 && back.channels == 3,
      "RGB came back %dx%dx%d", back.width, back.height, back.channels);
  CHECK (back.pixels && memcmp (back.pixels, src.pixels, 37 * 23 * 3) == 0,
      "RGB pixels changed");
  image_clear (&back);
  image_clear (&src);

  CHECK (image_alloc (&src, 41, 19, 1) == 0, "alloc");
  for (size_t i = 0; i < 41 * 19; i++)
    src.pixels[i] = rng_byte ();
  snprintf (path, sizeof path, "%s/gray.png", dir);
  CHECK (image_write_png (path, &src, NULL, err, sizeof err) == 0,
      "write gray: %s", err);
  CHECK (image_load (path, 1, &back, err, sizeof err) == 0, "read gray: %s",
      err);
  CHECK (back.pixels && back.width == 41 && back.height == 19
          && memcmp (back.pixels, src.pixels, 41 * 19) == 0,
      "gray pixels changed");
  image_clear (&back);

  /* Class indices 0..20 as a logits model would give them. */
  for (size_t i = 0; i < 41 * 19; i++)
    src.pixels[i] = (uint8_t) (rng_byte () % 21);
  image_voc_palette (palette);
  snprintf (path, sizeof path, "%s/classes.png", dir);
  CHECK (image_write_png (path, &src, palette, err, sizeof err) == 0,
      "write palette: %s", err);
  CHECK (read_indexed_png (path, &idx, got_pal, &entries) == 0,
      "%s is not an 8-bit palette PNG", path);
  CHECK (idx.pixels && idx.width == 41 && idx.height == 19
          && memcmp (idx.pixels, src.pixels, 41 * 19) == 0,
      "palette PNG pixel values are not the class indices");
  CHECK (entries >= 21 && memcmp (got_pal, palette, 21 * 3) == 0,
      "palette PNG has %d entries or wrong colours", entries);
  image_clear (&idx);
  /* Decoded as RGB, each pixel shows its class colour. */
  CHECK (image_load (path, 3, &back, err, sizeof err) == 0,
      "read palette as RGB: %s", err);
  for (size_t i = 0; back.pixels && i < 41 * 19; i++) {
    if (memcmp (back.pixels + 3 * i, palette + 3 * src.pixels[i], 3) != 0) {
      CHECK (0, "pixel %zu does not show the colour of class %d", i,
          src.pixels[i]);
      break;
    }
  }
  image_clear (&back);
  image_clear (&src);

  snprintf (path, sizeof path, "%s/no/such/dir/x.png", dir);
  CHECK (image_alloc (&src, 2, 2, 1) == 0, "alloc");
  CHECK (image_write_png (path, &src, NULL, err, sizeof err) < 0,
      "writing into a missing directory succeeded");
  CHECK (strstr (err, path) != NULL,
      "write error does not name the file: "
      "'%s'",
      err);
  image_clear (&src);
}

static void
write_bytes (const char *path, const void *data, size_t len)
{
  FILE *f = fopen (path, "wb");

  if (!f || fwrite (data, 1, len, f) != len) {
    fprintf (stderr, "FAIL: cannot write %s\n", path);
    exit (1);
  }
  fclose (f);
}

static void *
read_bytes (const char *path, size_t *len)
{
  FILE *f = fopen (path, "rb");
  uint8_t *buf;
  long n;

  if (!f)
    return NULL;
  fseek (f, 0, SEEK_END);
  n = ftell (f);
  fseek (f, 0, SEEK_SET);
  buf = malloc ((size_t) n);
  if (!buf || fread (buf, 1, (size_t) n, f) != (size_t) n) {
    fprintf (stderr, "FAIL: cannot read %s\n", path);
    exit (1);
  }
  fclose (f);
  *len = (size_t) n;
  return buf;
}

static void
expect_load_error (const char *path, const char *needle, const char *what)
{
  image img;
  char err[512] = "";

  if (image_load (path, 3, &img, err, sizeof err) == 0) {
    CHECK (0, "%s: accepted", what);
    image_clear (&img);
    return;
  }
  CHECK (img.pixels == NULL, "%s: pixels left allocated", what);
  CHECK (strncmp (err, path, strlen (path)) == 0,
      "%s: message does not "
      "start with the file name: '%s'",
      what, err);
  CHECK (strstr (err, needle) != NULL, "%s: message '%s' lacks '%s'", what, err,
      needle);
  CHECK (strchr (err, '\n') == NULL, "%s: message spans lines", what);
}

static void
test_bad_files (const char *dir)
{
  char path[4096], good[4096];
  uint8_t *png;
  size_t len;
  image img;
  char err[512];

  snprintf (path, sizeof path, "%s/missing.png", dir);
  expect_load_error (path, "cannot open", "missing file");
  expect_load_error (dir, "not a regular file", "directory");
  snprintf (path, sizeof path, "%s/text.png", dir);
  write_bytes (path, "hello, world\n", 13);
  expect_load_error (path, "not a PNG or JPEG", "text file");
  snprintf (path, sizeof path, "%s/empty.png", dir);
  write_bytes (path, "", 0);
  expect_load_error (path, "not a PNG or JPEG", "empty file");

  snprintf (good, sizeof good, "%s/good.png", dir);
  CHECK (image_alloc (&img, 64, 64, 3) == 0, "alloc");
  for (size_t i = 0; i < 64 * 64 * 3; i++)
    img.pixels[i] = rng_byte ();
  CHECK (image_write_png (good, &img, NULL, err, sizeof err) == 0, "write: %s",
      err);
  image_clear (&img);
  png = read_bytes (good, &len);
  snprintf (path, sizeof path, "%s/truncated.png", dir);
  write_bytes (path, png, len / 2);
  expect_load_error (path, "bad PNG", "truncated PNG");
  png[len / 2] ^= 0x55; /* breaks a CRC or the deflate stream */
  write_bytes (path, png, len);
  expect_load_error (path, "bad PNG", "corrupt PNG");
  write_bytes (path, png, 20);
  expect_load_error (path, "bad PNG", "PNG cut in its header");
  free (png);
}

static bool jpeg_missing;

static void
test_jpeg (const char *dir)
{
  char path[4096], err[512];
  uint8_t *jpg;
  size_t len;
  image rgb, gray;

  if (access (JPEG_PHOTO, R_OK) != 0) {
    jpeg_missing = true;
    return;
  }
  CHECK (image_load (JPEG_PHOTO, 3, &rgb, err, sizeof err) == 0,
      "decode JPEG: %s", err);
  CHECK (rgb.width == 512 && rgb.height == 600 && rgb.channels == 3,
      "JPEG decoded as %dx%dx%d, expected 512x600x3", rgb.width, rgb.height,
      rgb.channels);
  CHECK (image_load (JPEG_PHOTO, 1, &gray, err, sizeof err) == 0,
      "decode JPEG as gray: %s", err);
  if (rgb.pixels && gray.pixels) {
    /* The photo: blue sky top right, so blue dominates red there. */
    const uint8_t *px = rgb.pixels + (50 * 512 + 480) * 3;
    CHECK (px[2] > px[0] + 40, "top right pixel (%d,%d,%d) is not sky blue",
        px[0], px[1], px[2]);
    CHECK (gray.width == 512 && gray.height == 600, "gray JPEG size");
  }
  image_clear (&rgb);
  image_clear (&gray);

  jpg = read_bytes (JPEG_PHOTO, &len);
  snprintf (path, sizeof path, "%s/truncated.jpg", dir);
  write_bytes (path, jpg, len / 2);
  expect_load_error (path, "bad JPEG", "truncated JPEG");
  write_bytes (path, jpg, 200);
  expect_load_error (path, "bad JPEG", "JPEG cut in its headers");
  free (jpg);
}

int
main (void)
{
  char *dir = make_scratch_dir ("image");

  test_voc_palette ();
  test_png_round_trips (dir);
  test_bad_files (dir);
  test_jpeg (dir);
  remove_scratch_dir (dir);
  if (failures) {
    fprintf (stderr, "%d check(s) failed\n", failures);
    return 1;
  }
  if (jpeg_missing) {
    printf ("SKIP: %s missing (Debian package python-matplotlib-data); "
            "JPEG decoding not checked, the PNG checks passed\n",
        JPEG_PHOTO);
    return TEST_SKIP;
  }
  printf ("image: all checks passed\n");
  return 0;
}
