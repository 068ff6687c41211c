/* Pre-processing kernels (scalar, AVX2, AVX-512, whichever this CPU runs)
 * against the reference loop seg_preprocess_rows, through the per-geometry
 * plans the session uses: every pixel format, output widths below, at and
 * above each kernel's tile, sources smaller and larger than the output,
 * planes of 4 and 5 bytes (the narrowest the gathers read), random padded
 * strides with the last row ending at the allocation (so AddressSanitizer
 * sees any read past a frame), outputs pre-filled with NaN and a guard row.
 *
 * Tolerance: the SIMD kernels fuse multiply-adds the reference rounds
 * twice, so values may differ by a few float ulps of a 0..255 sample
 * before normalisation; 1e-3 of one 8-bit level is far above that and
 * far below anything a model could see. The scalar kernel computes in the
 * reference's order and must match exactly. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernels/kernels.h"
#include "preprocess.h"

typedef struct
{
  uint64_t s;
} rng;

static uint64_t
rng_u64 (rng *r)
{
  uint64_t z = (r->s += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

static int
rng_int (rng *r, int n)
{
  return (int) (rng_u64 (r) % (uint64_t) n);
}

static void *
xmalloc (size_t n)
{
  void *p = malloc (n ? n : 1);
  if (!p) {
    fprintf (stderr, "out of memory\n");
    exit (2);
  }
  return p;
}

static int
planes_of (seg_pixel_format f)
{
  return f == SEG_PIXEL_NV12 ? 2 : f == SEG_PIXEL_I420 ? 3 : 1;
}

static void
geometry (seg_pixel_format f, int p, int w, int h, int *row_bytes, int *rows)
{
  *rows = h;
  switch (f) {
    case SEG_PIXEL_RGB:
    case SEG_PIXEL_BGR:
      *row_bytes = 3 * w;
      break;
    case SEG_PIXEL_NV12:
    case SEG_PIXEL_GRAY8:
      *row_bytes = w;
      *rows = f == SEG_PIXEL_NV12 && p ? h / 2 : h;
      break;
    case SEG_PIXEL_I420:
      *row_bytes = p ? w / 2 : w;
      *rows = p ? h / 2 : h;
      break;
    case SEG_PIXEL_YUY2:
      *row_bytes = 2 * w;
      break;
    default:
      *row_bytes = 4 * w;
      break;
  }
}

typedef struct
{
  seg_frame f;
  uint8_t *buf[3];
} frame;

static void
frame_make (frame *t, seg_pixel_format fmt, int w, int h, rng *r)
{
  memset (t, 0, sizeof *t);
  t->f.format = fmt;
  t->f.width = w;
  t->f.height = h;
  for (int p = 0; p < planes_of (fmt); p++) {
    int row_bytes, rows;
    geometry (fmt, p, w, h, &row_bytes, &rows);
    int stride = row_bytes + rng_int (r, 3) * rng_int (r, 9);
    size_t size = (size_t) stride * (rows - 1) + row_bytes;
    t->buf[p] = xmalloc (size);
    for (size_t i = 0; i < size; i++) {
      /* a quarter of the samples at the ends of the range, where the YUV
       * conversion clamps */
      uint64_t v = rng_u64 (r);
      t->buf[p][i] = (v & 3) == 0 ? (v & 4 ? 255 : 0) : (uint8_t) (v >> 8);
    }
    t->f.planes[p] = t->buf[p];
    t->f.strides[p] = stride;
  }
}

static void
frame_clear (frame *t)
{
  for (int p = 0; p < 3; p++)
    free (t->buf[p]);
}

typedef struct
{
  const char *name;
  seg_f32_preprocess_ukernel_fn fn;
  float tolerance; /* in 8-bit levels */
} isa;

static int
check (const isa *k, seg_pixel_format fmt, int sw, int sh, int dw, int dh,
    rng *r)
{
  static const float mean[3] = {0.485f, 0.456f, 0.406f};
  static const float std[3] = {0.229f, 0.224f, 0.225f};
  frame t;
  seg_preprocess_plan plan = {0};
  size_t n = (size_t) dw * dh * 3;
  float *want = xmalloc (n * sizeof *want);
  float *got = xmalloc ((n + 3 * (size_t) dw) * sizeof *got);
  int bad = 0;

  frame_make (&t, fmt, sw, sh, r);
  seg_preprocess_rows (&t.f, want, dw, dh, mean, std, 0, dh);
  seg_preprocess_plan_update (&plan, &t.f, dw, dh, mean, std);
  if (plan.kernel)
    plan.kernel = k->fn;
  for (size_t i = 0; i < n + 3 * (size_t) dw; i++)
    got[i] = NAN;
  /* in two row ranges, as the session's tasks split it */
  int mid = dh / 2;
  seg_preprocess_plan_rows (&plan, &t.f, got, 0, mid);
  seg_preprocess_plan_rows (&plan, &t.f, got, mid, dh);
  for (size_t i = 0; i < n && bad < 3; i++) {
    float level = fabsf (got[i] - want[i]) * 255.0f * std[i % 3];
    if (!(level <= k->tolerance)) {
      fprintf (stderr,
          "FAIL %s %s %dx%d -> %dx%d: pixel %zu ch %zu is %.7g, "
          "reference %.7g\n",
          k->name, seg_pixel_format_name (fmt), sw, sh, dw, dh, i / 3, i % 3,
          got[i], want[i]);
      bad++;
    }
  }
  for (size_t i = n; i < n + 3 * (size_t) dw && !bad; i++)
    if (!isnan (got[i])) {
      fprintf (stderr, "FAIL %s %s %dx%d -> %dx%d: wrote past the output\n",
          k->name, seg_pixel_format_name (fmt), sw, sh, dw, dh);
      bad++;
    }
  seg_preprocess_plan_clear (&plan);
  frame_clear (&t);
  free (got);
  free (want);
  return bad ? 1 : 0;
}

int
main (void)
{
  isa isas[3];
  int nisa = 0;
  isas[nisa++] = (isa){"scalar", seg_f32_kernels_scalar ()->preprocess, 0.0f};
  if (seg_f32_kernels_avx2 () && seg_f32_kernels_avx2 ()->preprocess)
    isas[nisa++] = (isa){"avx2", seg_f32_kernels_avx2 ()->preprocess, 1e-3f};
  if (seg_f32_kernels_avx512 () && seg_f32_kernels_avx512 ()->preprocess)
    isas[nisa++] =
        (isa){"avx512", seg_f32_kernels_avx512 ()->preprocess, 1e-3f};

  /* source sizes: even (chroma formats need it), 2 and 4 wide (planes
   * narrower than a gathered word, and exactly one word), odd heights */
  static const struct
  {
    int w, h;
  } src[] = {{2, 2}, {4, 4}, {6, 3}, {10, 8}, {64, 48}, {640, 480}, {1280, 720},
      {34, 200}};
  static const int dst_w[] = {1, 7, 8, 9, 15, 16, 17, 33, 256};
  rng r = {2026};
  int failed = 0, cases = 0;

  for (int k = 0; k < nisa; k++)
    for (int fmt = 0; fmt <= SEG_PIXEL_GRAY8; fmt++)
      for (size_t s = 0; s < sizeof src / sizeof src[0]; s++)
        for (size_t d = 0; d < sizeof dst_w / sizeof dst_w[0]; d++) {
          int sh = src[s].h;
          if ((fmt == SEG_PIXEL_NV12 || fmt == SEG_PIXEL_I420) && sh % 2)
            sh++;
          int dh = dst_w[d] == 256 ? 256 : 1 + rng_int (&r, 40);
          failed += check (&isas[k], (seg_pixel_format) fmt, src[s].w, sh,
              dst_w[d], dh, &r);
          cases++;
        }
  printf ("preprocess kernels (%d ISAs): %d/%d cases pass\n", nisa,
      cases - failed, cases);
  return failed ? 1 : 0;
}
