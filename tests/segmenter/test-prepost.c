/* Frame preprocessing and mask postprocessing against a plain reference
 * written here the slow way: the whole frame converted to an RGB image, then
 * a separate bilinear resize in double, then normalisation; for masks, every
 * score channel upsampled to a full image before argmax / softmax. Every
 * pixel format, odd sizes, padded strides full of garbage, up/down/identity
 * scaling and several row splits; then frame validation. With --bench it
 * only times the per-frame paths and prints the figures (meson benchmark
 * 'prepost': `meson test -C BUILD --benchmark prepost -v`); a test asserts
 * no timing. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "postprocess.h"
#include "preprocess.h"

#include "../check.h"

#define PRE_TOLERANCE 1e-4
#define TIE_EPSILON 1e-5
#define MAX_REPORTS 5

/* The tests' one RNG (check.h); a state is a uint32_t. */
typedef uint32_t rng;

static void *
xmalloc (size_t n)
{
  void *p = malloc (n ? n : 1);
  if (!p) {
    fprintf (stderr, "out of memory (%zu bytes)\n", n);
    exit (2);
  }
  return p;
}

static double
now_ms (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* ---- reference ----------------------------------------------------------- */

static double
clamp255 (double v)
{
  return v < 0 ? 0 : v > 255 ? 255 : v;
}

static void
ref_yuv (int y, int u, int v, double *rgb)
{
  rgb[0] = clamp255 (1.164 * (y - 16) + 1.596 * (v - 128));
  rgb[1] = clamp255 (1.164 * (y - 16) - 0.391 * (u - 128) - 0.813 * (v - 128));
  rgb[2] = clamp255 (1.164 * (y - 16) + 2.018 * (u - 128));
}

static void
ref_pixel (const seg_frame *f, int x, int y, double *rgb)
{
  const uint8_t *row = f->planes[0] + (size_t) y * f->strides[0];
  const uint8_t *p;
  switch (f->format) {
    case SEG_PIXEL_RGB:
      p = row + 3 * x;
      rgb[0] = p[0], rgb[1] = p[1], rgb[2] = p[2];
      return;
    case SEG_PIXEL_BGR:
      p = row + 3 * x;
      rgb[0] = p[2], rgb[1] = p[1], rgb[2] = p[0];
      return;
    case SEG_PIXEL_RGBX:
    case SEG_PIXEL_RGBA:
      p = row + 4 * x;
      rgb[0] = p[0], rgb[1] = p[1], rgb[2] = p[2];
      return;
    case SEG_PIXEL_BGRX:
    case SEG_PIXEL_BGRA:
      p = row + 4 * x;
      rgb[0] = p[2], rgb[1] = p[1], rgb[2] = p[0];
      return;
    case SEG_PIXEL_XRGB:
      p = row + 4 * x;
      rgb[0] = p[1], rgb[1] = p[2], rgb[2] = p[3];
      return;
    case SEG_PIXEL_XBGR:
      p = row + 4 * x;
      rgb[0] = p[3], rgb[1] = p[2], rgb[2] = p[1];
      return;
    case SEG_PIXEL_NV12: {
      const uint8_t *uv = f->planes[1] + (size_t) (y / 2) * f->strides[1];
      ref_yuv (row[x], uv[x / 2 * 2], uv[x / 2 * 2 + 1], rgb);
      return;
    }
    case SEG_PIXEL_I420: {
      const uint8_t *u = f->planes[1] + (size_t) (y / 2) * f->strides[1];
      const uint8_t *v = f->planes[2] + (size_t) (y / 2) * f->strides[2];
      ref_yuv (row[x], u[x / 2], v[x / 2], rgb);
      return;
    }
    case SEG_PIXEL_YUY2:
      p = row + x / 2 * 4;
      ref_yuv (p[x % 2 * 2], p[1], p[3], rgb);
      return;
    case SEG_PIXEL_GRAY8:
      rgb[0] = rgb[1] = rgb[2] = row[x];
      return;
  }
}

/* Bilinear, half-pixel centres, as torch's interpolate(align_corners=False). */
static void
ref_resize (const double *src, int sw, int sh, int ch, double *dst, int dw,
    int dh)
{
  for (int y = 0; y < dh; y++) {
    double sy = (y + 0.5) * sh / dh - 0.5;
    sy = sy < 0 ? 0 : sy > sh - 1 ? sh - 1 : sy;
    int y0 = (int) floor (sy), y1 = y0 + 1 < sh ? y0 + 1 : sh - 1;
    double fy = sy - y0;
    for (int x = 0; x < dw; x++) {
      double sx = (x + 0.5) * sw / dw - 0.5;
      sx = sx < 0 ? 0 : sx > sw - 1 ? sw - 1 : sx;
      int x0 = (int) floor (sx), x1 = x0 + 1 < sw ? x0 + 1 : sw - 1;
      double fx = sx - x0;
      for (int k = 0; k < ch; k++) {
        double a = src[((size_t) y0 * sw + x0) * ch + k];
        double b = src[((size_t) y0 * sw + x1) * ch + k];
        double c = src[((size_t) y1 * sw + x0) * ch + k];
        double d = src[((size_t) y1 * sw + x1) * ch + k];
        dst[((size_t) y * dw + x) * ch + k] =
            (1 - fy) * ((1 - fx) * a + fx * b) + fy * ((1 - fx) * c + fx * d);
      }
    }
  }
}

/* ---- frames -------------------------------------------------------------- */

typedef struct
{
  seg_frame f;
  uint8_t *buf[3];
} test_frame;

static int
num_planes (seg_pixel_format fmt)
{
  return fmt == SEG_PIXEL_NV12 ? 2 : fmt == SEG_PIXEL_I420 ? 3 : 1;
}

static void
plane_geometry (seg_pixel_format fmt, int p, int w, int h, int *row_bytes,
    int *rows)
{
  *rows = h;
  switch (fmt) {
    case SEG_PIXEL_RGB:
    case SEG_PIXEL_BGR:
      *row_bytes = 3 * w;
      break;
    case SEG_PIXEL_NV12:
      *row_bytes = w;
      *rows = p == 0 ? h : h / 2;
      break;
    case SEG_PIXEL_I420:
      *row_bytes = p == 0 ? w : w / 2;
      *rows = p == 0 ? h : h / 2;
      break;
    case SEG_PIXEL_YUY2:
      *row_bytes = 2 * w;
      break;
    case SEG_PIXEL_GRAY8:
      *row_bytes = w;
      break;
    default:
      *row_bytes = 4 * w;
      break;
  }
}

/* Random content, padded strides; the padding is random garbage too. The
 * last row ends exactly at the allocation so AddressSanitizer sees reads past
 * the frame. */
static void
frame_make (test_frame *t, seg_pixel_format fmt, int w, int h, rng *r)
{
  memset (t, 0, sizeof *t);
  t->f.format = fmt;
  t->f.width = w;
  t->f.height = h;
  for (int p = 0; p < num_planes (fmt); p++) {
    int row_bytes, rows;
    plane_geometry (fmt, p, w, h, &row_bytes, &rows);
    int stride = row_bytes + 1 + (int) test_randn (r, 17);
    size_t size = (size_t) stride * (rows - 1) + row_bytes;
    t->buf[p] = xmalloc (size);
    for (size_t i = 0; i < size; i++)
      t->buf[p][i] = (uint8_t) test_rand (r);
    t->f.planes[p] = t->buf[p];
    t->f.strides[p] = stride;
  }
}

static void
frame_clear (test_frame *t)
{
  for (int p = 0; p < 3; p++)
    free (t->buf[p]);
}

/* ---- preprocessing ------------------------------------------------------- */

static const float imagenet_mean[3] = {0.485f, 0.456f, 0.406f};
static const float imagenet_std[3] = {0.229f, 0.224f, 0.225f};
static const float unit_mean[3] = {0, 0, 0};
static const float unit_std[3] = {1, 1, 1};

#define GUARD 16

/* Row splits to try: whole, halves, one row per call, and a random
 * partition with empty ranges, run last to first. Returns the number of
 * ranges written into b/e (capacity dh + 8). */
static int
make_split (int kind, int dh, rng *r, int *b, int *e)
{
  int n = 0;
  switch (kind) {
    case 0:
      b[n] = 0, e[n++] = dh;
      break;
    case 1:
      b[n] = 0, e[n++] = dh / 2;
      b[n] = dh / 2, e[n++] = dh;
      break;
    case 2:
      for (int y = 0; y < dh; y++)
        b[n] = y, e[n++] = y + 1;
      break;
    default: {
      int y = 0;
      while (y < dh && n < dh + 6) {
        int len = test_randn (r, 4) == 0
            ? 0
            : 1 + (int) test_randn (r, (uint32_t) (1 + dh / 3));
        if (len > dh - y)
          len = dh - y;
        b[n] = y, e[n++] = y + len;
        y += len;
      }
      b[n] = dh, e[n++] = dh;
      /* reverse, so later rows are written first */
      for (int i = 0; i < n / 2; i++) {
        int tb = b[i], te = e[i];
        b[i] = b[n - 1 - i], e[i] = e[n - 1 - i];
        b[n - 1 - i] = tb, e[n - 1 - i] = te;
      }
      break;
    }
  }
  return n;
}

static int
pre_case (seg_pixel_format fmt, int sw, int sh, int dw, int dh,
    const float *mean, const float *std, rng *r)
{
  int bad = 0;
  char what[128];
  snprintf (what, sizeof what, "preprocess %s %dx%d -> %dx%d%s",
      seg_pixel_format_name (fmt), sw, sh, dw, dh,
      mean == imagenet_mean ? "" : " unit");

  test_frame t;
  frame_make (&t, fmt, sw, sh, r);
  char msg[256] = "";
  if (seg_frame_validate (&t.f, msg, sizeof msg) != SEG_OK) {
    fprintf (stderr, "FAIL %s: valid frame rejected: %s\n", what, msg);
    frame_clear (&t);
    return 1;
  }

  /* reference: convert all, resize, normalise */
  double *rgb = xmalloc ((size_t) sw * sh * 3 * sizeof *rgb);
  for (int y = 0; y < sh; y++)
    for (int x = 0; x < sw; x++)
      ref_pixel (&t.f, x, y, rgb + ((size_t) y * sw + x) * 3);
  size_t n = (size_t) dw * dh * 3;
  double *ref = xmalloc (n * sizeof *ref);
  ref_resize (rgb, sw, sh, 3, ref, dw, dh);
  for (size_t i = 0; i < n; i++)
    ref[i] = (ref[i] / 255.0 - mean[i % 3]) / std[i % 3];

  float *out = xmalloc ((n + GUARD) * sizeof *out);
  int *rb = xmalloc ((size_t) (dh + 8) * sizeof *rb);
  int *re = xmalloc ((size_t) (dh + 8) * sizeof *re);
  float *first = xmalloc (n * sizeof *first);

  for (int kind = 0; kind < 4 && !bad; kind++) {
    for (size_t i = 0; i < n + GUARD; i++)
      out[i] = NAN;
    int nr = make_split (kind, dh, r, rb, re);
    for (int i = 0; i < nr; i++)
      seg_preprocess_rows (&t.f, out, dw, dh, mean, std, rb[i], re[i]);
    for (size_t i = 0; i < n && bad < MAX_REPORTS; i++) {
      if (!(fabs (out[i] - ref[i]) <= PRE_TOLERANCE)) {
        size_t px = i / 3;
        fprintf (stderr,
            "FAIL %s split %d: pixel (%zu, %zu) channel %zu "
            "is %.7g, reference %.7g\n",
            what, kind, px % dw, px / dw, i % 3, out[i], ref[i]);
        bad++;
      }
    }
    for (int i = 0; i < GUARD && !bad; i++)
      if (!isnan (out[n + i])) {
        fprintf (stderr, "FAIL %s: wrote past the end of dst\n", what);
        bad++;
      }
    if (kind == 0)
      memcpy (first, out, n * sizeof *out);
    else if (!bad && memcmp (first, out, n * sizeof *out) != 0) {
      fprintf (stderr,
          "FAIL %s: split %d differs from the whole-frame "
          "result\n",
          what, kind);
      bad++;
    }
  }

  /* a middle range alone writes exactly its rows */
  if (!bad && dh >= 3) {
    int b = dh / 3, e = 2 * dh / 3 + 1;
    for (size_t i = 0; i < n; i++)
      out[i] = NAN;
    seg_preprocess_rows (&t.f, out, dw, dh, mean, std, b, e);
    for (int y = 0; y < dh && !bad; y++)
      for (size_t i = (size_t) y * dw * 3; i < (size_t) (y + 1) * dw * 3; i++)
        if ((y >= b && y < e) != !isnan (out[i])) {
          fprintf (stderr, "FAIL %s: rows [%d, %d) requested, row %d %s\n",
              what, b, e, y, isnan (out[i]) ? "not written" : "written");
          bad++;
          break;
        }
  }

  free (first);
  free (rb);
  free (re);
  free (out);
  free (ref);
  free (rgb);
  frame_clear (&t);
  return bad ? 1 : 0;
}

static int
test_preprocess (rng *r)
{
  int failed = 0, cases = 0;
  for (int fmt = 0; fmt <= SEG_PIXEL_GRAY8; fmt++) {
    int even_w =
        fmt == SEG_PIXEL_NV12 || fmt == SEG_PIXEL_I420 || fmt == SEG_PIXEL_YUY2;
    int even_h = fmt == SEG_PIXEL_NV12 || fmt == SEG_PIXEL_I420;
    int sw = even_w ? 38 : 37, sh = even_h ? 24 : 23;
    const int dst[][2] = {
        {sw, sh}, /* identity */
        {83, 61}, /* up */
        {13, 9},  /* down */
        {50, 7},  /* up in x, down in y */
        {1, 1},
        {256, 256},
    };
    for (size_t i = 0; i < sizeof dst / sizeof dst[0]; i++) {
      int imagenet = (i + fmt) % 2 == 0;
      failed += pre_case (fmt, sw, sh, dst[i][0], dst[i][1],
          imagenet ? imagenet_mean : unit_mean,
          imagenet ? imagenet_std : unit_std, r);
      cases++;
    }
    /* a frame one pixel (or one chroma block) in size */
    failed += pre_case (fmt, even_w ? 2 : 1, even_h ? 2 : 1, 5, 3,
        imagenet_mean, imagenet_std, r);
    /* a thin, very wide frame: positions need more than float precision */
    failed += pre_case (fmt, even_w ? 16384 : 16383, even_h ? 2 : 3, 4096, 2,
        imagenet_mean, imagenet_std, r);
    failed += pre_case (fmt, 2, even_h ? 4096 : 4095, 3, 4093, imagenet_mean,
        imagenet_std, r);
    cases += 3;
  }
  /* the model's usual input from a camera frame */
  failed += pre_case (SEG_PIXEL_NV12, 1280, 720, 256, 256, imagenet_mean,
      imagenet_std, r);
  failed +=
      pre_case (SEG_PIXEL_YUY2, 642, 481, 144, 256, unit_mean, unit_std, r);
  cases += 2;
  printf ("preprocess: %d/%d cases pass\n", cases - failed, cases);
  return failed;
}

/* ---- validation ---------------------------------------------------------- */

static int
expect_invalid (const seg_frame *f, const char *what, const char *needle)
{
  char msg[256] = "";
  seg_status st = seg_frame_validate (f, msg, sizeof msg);
  if (st != SEG_ERR_INVALID) {
    fprintf (stderr, "FAIL validate %s: status %d, expected SEG_ERR_INVALID\n",
        what, (int) st);
    return 1;
  }
  if (!strstr (msg, needle)) {
    fprintf (stderr, "FAIL validate %s: message \"%s\" lacks \"%s\"\n", what,
        msg, needle);
    return 1;
  }
  /* no message buffer, or a tiny one, must be safe */
  char tiny[8];
  memset (tiny, 'x', sizeof tiny);
  if (seg_frame_validate (f, NULL, 0) != SEG_ERR_INVALID
      || seg_frame_validate (f, tiny, sizeof tiny) != SEG_ERR_INVALID
      || memchr (tiny, '\0', sizeof tiny) == NULL) {
    fprintf (stderr, "FAIL validate %s: with a small message buffer\n", what);
    return 1;
  }
  return 0;
}

static int
expect_valid (const seg_frame *f, const char *what)
{
  char msg[256] = "";
  if (seg_frame_validate (f, msg, sizeof msg) != SEG_OK) {
    fprintf (stderr, "FAIL validate %s: rejected: %s\n", what, msg);
    return 1;
  }
  return 0;
}

static seg_frame
frame_of (seg_pixel_format fmt, int w, int h, const uint8_t *data)
{
  seg_frame f = {.format = fmt, .width = w, .height = h};
  for (int p = 0; p < num_planes (fmt); p++) {
    int row_bytes, rows;
    plane_geometry (fmt, p, w, h, &row_bytes, &rows);
    f.planes[p] = data;
    f.strides[p] = row_bytes;
  }
  return f;
}

static int
test_validate (void)
{
  /* validate never reads pixels; one small buffer serves every plane */
  static const uint8_t data[64];
  int bad = 0;
  seg_frame f;

  bad += expect_invalid (NULL, "NULL frame", "frame");

  for (int fmt = 0; fmt <= SEG_PIXEL_GRAY8; fmt++) {
    f = frame_of (fmt, 640, 480, data);
    bad += expect_valid (&f, seg_pixel_format_name (fmt));
    f = frame_of (fmt, 16384, 16384, data);
    bad += expect_valid (&f, "largest frame");
    /* strides larger than needed are fine */
    for (int p = 0; p < num_planes (fmt); p++)
      f.strides[p] += 7;
    bad += expect_valid (&f, "padded strides");
  }

  f = frame_of (SEG_PIXEL_RGB, 640, 480, data);
  f.format = (seg_pixel_format) 12;
  bad += expect_invalid (&f, "format 12", "pixel format 12");
  f.format = (seg_pixel_format) -1;
  bad += expect_invalid (&f, "format -1", "pixel format -1");

  f = frame_of (SEG_PIXEL_RGB, 0, 480, data);
  bad += expect_invalid (&f, "width 0", "width 0");
  f = frame_of (SEG_PIXEL_RGB, 640, 0, data);
  bad += expect_invalid (&f, "height 0", "height 0");
  f = frame_of (SEG_PIXEL_RGB, 640, -3, data);
  bad += expect_invalid (&f, "height -3", "height -3");
  f = frame_of (SEG_PIXEL_GRAY8, 16385, 2, data);
  bad += expect_invalid (&f, "width 16385", "width 16385");
  f = frame_of (SEG_PIXEL_GRAY8, 2, 16385, data);
  bad += expect_invalid (&f, "height 16385", "height 16385");

  /* chroma subsampling needs even sizes */
  f = frame_of (SEG_PIXEL_NV12, 321, 240, data);
  bad += expect_invalid (&f, "NV12 odd width", "width 321");
  f = frame_of (SEG_PIXEL_NV12, 320, 241, data);
  bad += expect_invalid (&f, "NV12 odd height", "height 241");
  f = frame_of (SEG_PIXEL_I420, 321, 240, data);
  bad += expect_invalid (&f, "I420 odd width", "width 321");
  f = frame_of (SEG_PIXEL_I420, 320, 241, data);
  bad += expect_invalid (&f, "I420 odd height", "height 241");
  f = frame_of (SEG_PIXEL_YUY2, 321, 240, data);
  bad += expect_invalid (&f, "YUY2 odd width", "width 321");
  f = frame_of (SEG_PIXEL_YUY2, 320, 241, data);
  bad += expect_valid (&f, "YUY2 odd height");
  f = frame_of (SEG_PIXEL_RGB, 321, 241, data);
  bad += expect_valid (&f, "RGB odd sizes");

  /* missing planes; planes the format lacks are ignored */
  f = frame_of (SEG_PIXEL_RGBA, 64, 64, data);
  f.planes[0] = NULL;
  bad += expect_invalid (&f, "RGBA plane 0 NULL", "plane 0 is NULL");
  f = frame_of (SEG_PIXEL_NV12, 64, 64, data);
  f.planes[1] = NULL;
  bad += expect_invalid (&f, "NV12 plane 1 NULL", "plane 1 is NULL");
  f = frame_of (SEG_PIXEL_I420, 64, 64, data);
  f.planes[2] = NULL;
  bad += expect_invalid (&f, "I420 plane 2 NULL", "plane 2 is NULL");
  f = frame_of (SEG_PIXEL_NV12, 64, 64, data);
  f.planes[2] = NULL;
  f.strides[2] = 0;
  bad += expect_valid (&f, "NV12 without plane 2");

  /* strides */
  f = frame_of (SEG_PIXEL_I420, 640, 480, data);
  f.strides[1] = 100;
  bad += expect_invalid (&f, "I420 U stride",
      "frame: plane 1 stride 100 is smaller than the 320 bytes a row needs");
  f = frame_of (SEG_PIXEL_I420, 640, 480, data);
  f.strides[2] = 319;
  bad += expect_invalid (&f, "I420 V stride", "plane 2 stride 319");
  f = frame_of (SEG_PIXEL_RGB, 320, 240, data);
  f.strides[0] = 959;
  bad += expect_invalid (&f, "RGB stride", "the 960 bytes");
  f = frame_of (SEG_PIXEL_BGRX, 320, 240, data);
  f.strides[0] = 1279;
  bad += expect_invalid (&f, "BGRx stride", "the 1280 bytes");
  f = frame_of (SEG_PIXEL_NV12, 640, 480, data);
  f.strides[1] = 639;
  bad += expect_invalid (&f, "NV12 UV stride", "plane 1 stride 639");
  f = frame_of (SEG_PIXEL_YUY2, 640, 480, data);
  f.strides[0] = 1279;
  bad += expect_invalid (&f, "YUY2 stride", "the 1280 bytes");
  f = frame_of (SEG_PIXEL_GRAY8, 640, 480, data);
  f.strides[0] = 0;
  bad += expect_invalid (&f, "zero stride", "stride 0");
  f = frame_of (SEG_PIXEL_GRAY8, 640, 480, data);
  f.strides[0] = -640;
  bad += expect_invalid (&f, "negative stride", "stride -640");

  printf ("validate: %s\n", bad ? "FAILED" : "all cases pass");
  return bad;
}

/* ---- postprocessing ------------------------------------------------------ */

enum
{
  SCORES_UNIFORM, /* logits uniform in [-4, 4] (or p in [0, 1]) */
  SCORES_PEAKED,  /* one class per source pixel far ahead of the rest */
  SCORES_HUGE,    /* logits in [-200, 200]: exp overflows without care */
  SCORES_REGIONS, /* like a real output: one class leads over 4x4 blocks */
};

static void
make_scores (float *s, int h, int w, int c, int kind, rng *r)
{
  for (int i = 0; i < h * w; i++) {
    float *px = s + (size_t) i * c;
    if (kind == SCORES_REGIONS) {
      int region = (i / w / 4) * 3 + i % w / 4;
      if (c == 1) {
        px[0] = (float) ((region % 2) + test_randf (r, -0.05, 0.05));
        continue;
      }
      for (int k = 0; k < c; k++)
        px[k] = (float) test_randf (r, -1, 1);
      px[region % c] += 10.0f;
      continue;
    }
    if (c == 1) {
      /* a few values outside [0, 1] check the clamp */
      px[0] = (float) test_randf (r, kind == SCORES_UNIFORM ? 0 : -0.2,
          kind == SCORES_UNIFORM ? 1 : 1.2);
      continue;
    }
    double span = kind == SCORES_HUGE ? 200 : kind == SCORES_PEAKED ? 3 : 4;
    for (int k = 0; k < c; k++)
      px[k] = (float) test_randf (r, -span, span);
    if (kind == SCORES_PEAKED)
      px[(int) test_randn (r, (uint32_t) c)] += 30.0f;
  }
}

/* Reference per destination pixel: class, gap between the top two scores
 * (or |p - threshold|), and probability of every class (for c == 1: index
 * 0 and 1). */
typedef struct
{
  int cls;
  double gap;
} ref_decision;

static void
ref_post (const float *src, int h, int w, int c, float threshold, int dw,
    int dh, ref_decision *dec, double *prob)
{
  double *s = xmalloc ((size_t) h * w * c * sizeof *s);
  for (size_t i = 0; i < (size_t) h * w * c; i++)
    s[i] = src[i];
  double *up = xmalloc ((size_t) dw * dh * c * sizeof *up);
  ref_resize (s, w, h, c, up, dw, dh);
  int np = c == 1 ? 2 : c;
  for (size_t i = 0; i < (size_t) dw * dh; i++) {
    const double *v = up + i * c;
    double *p = prob + i * np;
    if (c == 1) {
      dec[i].cls = v[0] >= threshold;
      dec[i].gap = fabs (v[0] - threshold);
      double q = v[0] < 0 ? 0 : v[0] > 1 ? 1 : v[0];
      p[0] = 1 - q;
      p[1] = q;
      continue;
    }
    int best = 0;
    for (int k = 1; k < c; k++)
      if (v[k] > v[best])
        best = k;
    double second = -INFINITY, sum = 0;
    for (int k = 0; k < c; k++) {
      if (k != best && v[k] > second)
        second = v[k];
      sum += exp (v[k] - v[best]);
    }
    dec[i].cls = best;
    dec[i].gap = v[best] - second;
    for (int k = 0; k < c; k++)
      p[k] = exp (v[k] - v[best]) / sum;
  }
  free (up);
  free (s);
}

/* Runs fn over row splits into a padded destination prefilled with `fill`;
 * checks the padding is untouched. */
typedef struct
{
  const float *src;
  int h, w, c;
  float threshold;
  int cls; /* -1: class map */
  int dw, dh, stride;
} post_job;

static void
post_run (const post_job *j, uint8_t *dst, int kind, uint8_t fill, rng *r)
{
  int *b = xmalloc ((size_t) (j->dh + 8) * sizeof *b);
  int *e = xmalloc ((size_t) (j->dh + 8) * sizeof *e);
  memset (dst, fill, (size_t) j->stride * j->dh);
  int n = make_split (kind, j->dh, r, b, e);
  for (int i = 0; i < n; i++) {
    if (j->cls < 0)
      seg_post_class_map_rows (j->src, j->h, j->w, j->c, j->threshold, dst,
          j->dw, j->dh, j->stride, b[i], e[i]);
    else
      seg_post_probability_rows (j->src, j->h, j->w, j->c, j->cls, dst, j->dw,
          j->dh, j->stride, b[i], e[i]);
  }
  free (b);
  free (e);
}

static int
post_check (const post_job *j, const ref_decision *dec, const double *prob,
    const char *what)
{
  size_t size = (size_t) j->stride * j->dh;
  uint8_t *out = xmalloc (size), *again = xmalloc (size);
  int bad = 0, np = j->c == 1 ? 2 : j->c;
  rng r = (rng) size * 31 + (rng) j->cls;

  for (int kind = 0; kind < 4 && !bad; kind++) {
    uint8_t fill = (uint8_t) (0xa5 + kind);
    post_run (j, out, kind, fill, &r);
    for (int y = 0; y < j->dh && bad < MAX_REPORTS; y++) {
      const uint8_t *row = out + (size_t) y * j->stride;
      for (int x = j->dw; x < j->stride; x++)
        if (row[x] != fill) {
          fprintf (stderr, "FAIL %s: padding byte (%d, %d) overwritten\n", what,
              x, y);
          bad++;
          break;
        }
      for (int x = 0; x < j->dw && bad < MAX_REPORTS; x++) {
        size_t i = (size_t) y * j->dw + x;
        if (j->cls < 0) {
          if (row[x] != dec[i].cls && dec[i].gap >= TIE_EPSILON) {
            fprintf (stderr,
                "FAIL %s split %d: pixel (%d, %d) class %d, "
                "reference %d (gap %.3g)\n",
                what, kind, x, y, row[x], dec[i].cls, dec[i].gap);
            bad++;
          }
        } else {
          double want = round (255 * prob[i * np + j->cls]);
          if (fabs (row[x] - want) > 1) {
            fprintf (stderr,
                "FAIL %s split %d: pixel (%d, %d) is %d, "
                "reference %.0f\n",
                what, kind, x, y, row[x], want);
            bad++;
          }
        }
      }
    }
    /* every split gives the same bytes; with another fill, a pixel no
     * range wrote would differ */
    if (kind == 0) {
      memcpy (again, out, size);
    } else if (!bad) {
      for (int y = 0; y < j->dh && !bad; y++)
        if (memcmp (again + (size_t) y * j->stride,
                out + (size_t) y * j->stride, (size_t) j->dw)
            != 0) {
          fprintf (stderr, "FAIL %s: split %d differs in row %d\n", what, kind,
              y);
          bad++;
        }
    }
  }
  free (again);
  free (out);
  return bad ? 1 : 0;
}

static int
post_case (int h, int w, int c, int dw, int dh, int kind, float threshold,
    rng *r)
{
  char what[160];
  float *src = xmalloc ((size_t) h * w * c * sizeof *src);
  make_scores (src, h, w, c, kind, r);
  int np = c == 1 ? 2 : c;
  ref_decision *dec = xmalloc ((size_t) dw * dh * sizeof *dec);
  double *prob = xmalloc ((size_t) dw * dh * np * sizeof *prob);
  ref_post (src, h, w, c, threshold, dw, dh, dec, prob);

  post_job j = {src, h, w, c, threshold, -1, dw, dh,
      dw + 1 + (int) test_randn (r, 9)};
  int bad = 0;
  snprintf (what, sizeof what, "class map %dx%dx%d -> %dx%d scores %d", h, w, c,
      dw, dh, kind);
  bad += post_check (&j, dec, prob, what);

  int classes[3] = {0, np - 1, (int) test_randn (r, (uint32_t) np)};
  for (int i = 0; i < 3; i++) {
    j.cls = classes[i];
    snprintf (what, sizeof what,
        "probability of %d %dx%dx%d -> %dx%d "
        "scores %d",
        j.cls, h, w, c, dw, dh, kind);
    bad += post_check (&j, dec, prob, what);
  }
  free (prob);
  free (dec);
  free (src);
  return bad;
}

/* Hand-made cases whose answers are known exactly. */
static int
post_exact (void)
{
  int bad = 0;
  uint8_t out[9 * 7];

  /* ties go to the lowest index */
  float zeros[2 * 2 * 5] = {0};
  seg_post_class_map_rows (zeros, 2, 2, 5, 0.5f, out, 9, 7, 9, 0, 7);
  for (int i = 0; i < 63; i++)
    if (out[i] != 0) {
      fprintf (stderr, "FAIL all-equal scores: pixel %d is class %d\n", i,
          out[i]);
      bad++;
      break;
    }
  float tie[3 * 4] = {0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1};
  seg_post_class_map_rows (tie, 1, 3, 4, 0.5f, out, 9, 7, 9, 0, 7);
  for (int i = 0; i < 63; i++)
    if (out[i] != 1) {
      fprintf (stderr, "FAIL classes 1 and 3 tied: pixel %d is class %d\n", i,
          out[i]);
      bad++;
      break;
    }
  seg_post_probability_rows (zeros, 2, 2, 5, 3, out, 9, 7, 9, 0, 7);
  for (int i = 0; i < 63; i++)
    if (out[i] != 51) {
      fprintf (stderr, "FAIL five equal scores: p is %d/255, expected 51\n",
          out[i]);
      bad++;
      break;
    }

  /* p == threshold is foreground; the probability of class 0 is 1 - p */
  float half = 0.5f;
  seg_post_class_map_rows (&half, 1, 1, 1, 0.5f, out, 9, 7, 9, 0, 7);
  int at_half = out[0] + out[62];
  seg_post_class_map_rows (&half, 1, 1, 1, 0.5001f, out, 9, 7, 9, 0, 7);
  int above = out[0] + out[62];
  if (at_half != 2 || above != 0) {
    fprintf (stderr,
        "FAIL threshold: p 0.5 gives %d/2 foreground at 0.5, "
        "%d/2 at 0.5001\n",
        at_half, above);
    bad++;
  }
  /* the same inside a run whose class changes: 2 -> 4 columns puts
   * column 2 at fx = 0.75 exactly */
  float ramp[2] = {0, 1};
  seg_post_class_map_rows (ramp, 1, 2, 1, 0.75f, out, 4, 1, 4, 0, 1);
  if (memcmp (out, (uint8_t[]){0, 0, 1, 1}, 4) != 0) {
    fprintf (stderr,
        "FAIL threshold in a run: %d %d %d %d, expected "
        "0 0 1 1\n",
        out[0], out[1], out[2], out[3]);
    bad++;
  }
  /* two classes crossing at fx = 0.5 (2 -> 5 columns, column 2): the tie
   * goes to class 0 whichever way they cross */
  float cross_up[4] = {1, 0, 0, 1}, cross_down[4] = {0, 1, 1, 0};
  seg_post_class_map_rows (cross_up, 1, 2, 2, 0.5f, out, 5, 1, 5, 0, 1);
  seg_post_class_map_rows (cross_down, 1, 2, 2, 0.5f, out + 5, 5, 1, 5, 0, 1);
  if (memcmp (out, (uint8_t[]){0, 0, 0, 1, 1, 1, 1, 0, 0, 0}, 10) != 0) {
    fprintf (stderr,
        "FAIL tie at a crossing: %d %d %d %d %d / %d %d %d %d "
        "%d, expected 0 0 0 1 1 / 1 1 0 0 0\n",
        out[0], out[1], out[2], out[3], out[4], out[5], out[6], out[7], out[8],
        out[9]);
    bad++;
  }

  float quarter = 0.25f;
  seg_post_probability_rows (&quarter, 1, 1, 1, 0, out, 9, 7, 9, 0, 7);
  if (out[0] != 191 || out[62] != 191) {
    fprintf (stderr, "FAIL 1 - p: %d, expected 191\n", out[0]);
    bad++;
  }

  /* 256 classes, the top one the last index */
  float many[SEG_MAX_CLASSES];
  for (int k = 0; k < SEG_MAX_CLASSES; k++)
    many[k] = (float) k / 64;
  seg_post_class_map_rows (many, 1, 1, SEG_MAX_CLASSES, 0, out, 3, 3, 3, 0, 3);
  if (out[0] != 255 || out[8] != 255) {
    fprintf (stderr, "FAIL 256 classes: class %d, expected 255\n", out[0]);
    bad++;
  }
  return bad;
}

static int
test_postprocess (rng *r)
{
  static const struct
  {
    int h, w, c, dw, dh;
  } shapes[] = {
      {7, 5, 21, 31, 17}, /* up, odd ratio */
      {8, 8, 2, 8, 8},    /* identity */
      {13, 11, 3, 5, 4},  /* down */
      {9, 6, 4, 37, 3},   /* up in x, down in y */
      {1, 1, 4, 9, 7},    /* one source pixel */
      {1, 5, 3, 23, 2},
      {6, 1, 5, 2, 19},
      {4, 4, 21, 128, 96}, /* long runs */
      {3, 3, 256, 11, 10}, /* most classes */
      {16, 16, 1, 67, 45}, /* probability output */
      {16, 16, 1, 16, 16},
      {9, 7, 1, 4, 3},
      {5, 7, 21, 7, 5}, /* identity, odd, many classes */
      {3, 4, 1, 4, 3},  /* identity, probability output */
      {1, 1, 3, 1, 1},
  };
  int failed = 0, cases = 0;
  for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++)
    for (int kind = SCORES_UNIFORM; kind <= SCORES_REGIONS; kind++) {
      float threshold = kind == SCORES_PEAKED ? 0.25f : 0.5f;
      failed += post_case (shapes[s].h, shapes[s].w, shapes[s].c, shapes[s].dw,
                    shapes[s].dh, kind, threshold, r)
          ? 1
          : 0;
      cases++;
    }
  failed += post_exact ();
  cases++;
  printf ("postprocess: %d/%d cases pass\n", cases - failed, cases);
  return failed;
}

/* ---- timings (--bench) --------------------------------------------------- */

static void
timings (rng *r)
{
  test_frame t;
  frame_make (&t, SEG_PIXEL_NV12, 1280, 720, r);
  float *in = xmalloc ((size_t) 256 * 256 * 3 * sizeof *in);
  int iters = 50;
  double t0 = now_ms ();
  for (int i = 0; i < iters; i++)
    seg_preprocess_rows (&t.f, in, 256, 256, imagenet_mean, imagenet_std, 0,
        256);
  printf ("time: preprocess NV12 1280x720 -> 256x256: %.3f ms\n",
      (now_ms () - t0) / iters);
  free (in);
  frame_clear (&t);

  int h = 32, w = 32, c = 21, dw = 1280, dh = 720;
  float *src = xmalloc ((size_t) h * w * c * sizeof *src);
  uint8_t *mask = xmalloc ((size_t) dw * dh);
  static const struct
  {
    int kind;
    const char *name;
  } data[] = {
      {SCORES_REGIONS, "smooth"},
      {SCORES_UNIFORM, "random"},
  };
  for (size_t s = 0; s < sizeof data / sizeof data[0]; s++) {
    make_scores (src, h, w, c, data[s].kind, r);
    iters = 10;
    t0 = now_ms ();
    for (int i = 0; i < iters; i++)
      seg_post_class_map_rows (src, h, w, c, 0.5f, mask, dw, dh, dw, 0, dh);
    double cm = (now_ms () - t0) / iters;
    t0 = now_ms ();
    for (int i = 0; i < iters; i++)
      seg_post_probability_rows (src, h, w, c, 15, mask, dw, dh, dw, 0, dh);
    printf ("time: 32x32x21 %s scores -> 1280x720: class map %.3f ms, "
            "probability %.3f ms\n",
        data[s].name, cm, (now_ms () - t0) / iters);
  }
  free (mask);
  free (src);
}

int
main (int argc, char **argv)
{
  rng r = 20240611;
  int failed = 0;
  if (argc == 2 && strcmp (argv[1], "--bench") == 0) {
    timings (&r);
    return 0;
  }
  if (argc != 1) {
    fprintf (stderr, "usage: %s [--bench]\n", argv[0]);
    return 2;
  }
  failed += test_validate ();
  failed += test_preprocess (&r);
  failed += test_postprocess (&r);
  if (failed) {
    fprintf (stderr, "test-prepost: %d failure(s)\n", failed);
    return 1;
  }
  printf ("test-prepost: all pass\n");
  return 0;
}
