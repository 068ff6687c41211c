/* segoverlay's pixel module (plugins/segoverlay-pixels.c) against plain
 * references: each fast path (running sums, prefix sums, packed channel
 * offsets) is compared with the obvious per-pixel loop, on random images
 * with odd sizes and strides. No GStreamer here. */
#include "segoverlay-pixels.h"

#include <math.h>
#include <string.h>

#include "../check.h"

static uint32_t rng = 0x5e60f1u;

static void
fill_random (guint8 *p, gsize n)
{
  for (gsize i = 0; i < n; i++)
    p[i] = (guint8) test_rand (&rng);
}

/* A BGRx image with padding at the end of each row. */
static SegPackedImage
bgrx_image (guint w, guint h)
{
  SegPackedImage img = {NULL, (gsize) w * 4 + 12, 4, {2, 1, 0}, w, h};

  img.data = g_malloc (img.stride * h);
  fill_random (img.data, img.stride * h);
  return img;
}

static guint8
ref_blend (guint fg, guint bg, guint a)
{
  return (guint8) ((fg * a + bg * (255 - a) + 127) / 255);
}

static void
test_box_blur (void)
{
  const guint sizes[][3] = {{1, 1, 1}, {7, 5, 2}, {33, 17, 4}, {9, 40, 15}};

  for (guint s = 0; s < G_N_ELEMENTS (sizes); s++) {
    guint w = sizes[s][0], h = sizes[s][1], r = sizes[s][2], n = 2 * r + 1;
    gsize len = (gsize) w * h * 3;
    guint8 *src = g_malloc (len), *dst = g_malloc (len);
    guint8 *tmp = g_malloc (len), *ref_tmp = g_malloc (len);
    guint32 *sums = g_new (guint32, w * 3);

    fill_random (src, len);
    seg_overlay_box_blur_rgb (src, dst, w, h, r, tmp, sums);
    /* Horizontal then vertical box of 2r+1 with clamped edges, each pass
     * rounded to bytes. */
    for (guint y = 0; y < h; y++)
      for (guint x = 0; x < w; x++)
        for (guint c = 0; c < 3; c++) {
          guint sum = 0;

          for (gint k = -(gint) r; k <= (gint) r; k++)
            sum +=
                src[((gsize) y * w + CLAMP ((gint) x + k, 0, (gint) w - 1)) * 3
                    + c];
          ref_tmp[((gsize) y * w + x) * 3 + c] = (guint8) ((sum + n / 2) / n);
        }
    for (guint y = 0; y < h; y++)
      for (guint x = 0; x < w; x++)
        for (guint c = 0; c < 3; c++) {
          guint sum = 0;
          guint8 want;

          for (gint k = -(gint) r; k <= (gint) r; k++)
            sum +=
                ref_tmp[((gsize) CLAMP ((gint) y + k, 0, (gint) h - 1) * w + x)
                        * 3
                    + c];
          want = (guint8) ((sum + n / 2) / n);
          CHECK (dst[((gsize) y * w + x) * 3 + c] == want,
              "blur %ux%u r=%u at (%u,%u,%u): %u, want %u", w, h, r, x, y, c,
              dst[((gsize) y * w + x) * 3 + c], want);
        }
    /* In place gives the same. */
    seg_overlay_box_blur_rgb (src, src, w, h, r, tmp, sums);
    CHECK (memcmp (src, dst, len) == 0, "in-place blur differs");
    g_free (src);
    g_free (dst);
    g_free (tmp);
    g_free (ref_tmp);
    g_free (sums);
  }
}

static void
test_box_mean (void)
{
  const guint w = 23, h = 11;
  gfloat src[23 * 11], dst[23 * 11], acc[23], pre[24];

  for (guint i = 0; i < w * h; i++)
    src[i] = (gfloat) (test_rand (&rng) % 1000) / 999.0f;
  for (guint r = 0; r <= 12; r += 3) {
    seg_overlay_box_mean (src, dst, w, h, r, acc, pre);
    for (guint y = 0; y < h; y++)
      for (guint x = 0; x < w; x++) {
        gdouble sum = 0;
        guint count = 0;

        for (gint dy = -(gint) r; dy <= (gint) r; dy++)
          for (gint dx = -(gint) r; dx <= (gint) r; dx++) {
            gint yy = (gint) y + dy, xx = (gint) x + dx;

            if (yy < 0 || yy >= (gint) h || xx < 0 || xx >= (gint) w)
              continue;
            sum += src[yy * w + xx];
            count++;
          }
        CHECK (fabs (dst[y * w + x] - sum / count) < 1e-4,
            "box mean r=%u at (%u,%u): %g, want %g", r, x, y, dst[y * w + x],
            sum / count);
      }
  }
}

/* The filter fits alpha ~ a * luma + b per window: where the luma has a
 * step the soft mask ramp snaps onto it; on a flat luma it only smooths. */
static void
test_guided (void)
{
  const guint w = 40, h = 8, r = 3;
  guint8 alpha[40 * 8], luma[40 * 8];
  gfloat *planes = g_new (gfloat, 7 * w * h), line[81];

  for (guint y = 0; y < h; y++)
    for (guint x = 0; x < w; x++) {
      /* Ramp from x = 14 to 26 in the mask; a hard edge at 20 in luma. */
      alpha[y * w + x] = (guint8) CLAMP (((gint) x - 14) * 255 / 12, 0, 255);
      luma[y * w + x] = x < 20 ? 30 : 220;
    }
  seg_overlay_guided_refine (alpha, luma, w, h, r, planes, line);
  for (guint y = 0; y < h; y++) {
    const guint8 *row = alpha + y * w;
    guint steepest = 1;

    /* Before: steps of 21 along the ramp. After: the largest step sits on
     * the luma edge, and it is several times steeper. */
    for (guint x = 2; x < w; x++)
      if (abs (row[x] - row[x - 1]) > abs (row[steepest] - row[steepest - 1]))
        steepest = x;
    CHECK (steepest == 20, "row %u: steepest step at x=%u, not on the edge", y,
        steepest);
    CHECK (row[20] - row[19] >= 3 * 21, "row %u: step on the edge only %d", y,
        row[20] - row[19]);
    CHECK (row[0] < 10 && row[w - 1] > 245, "row %u: ends %u %u", y, row[0],
        row[w - 1]);
  }

  /* Flat luma: var = 0, so the output is the box mean of the box mean. */
  for (guint i = 0; i < w * h; i++) {
    alpha[i] = (guint8) test_rand (&rng);
    luma[i] = 128;
  }
  {
    gfloat p[40 * 8], m1[40 * 8], m2[40 * 8];
    guint8 before[40 * 8];

    memcpy (before, alpha, sizeof before);
    for (guint i = 0; i < w * h; i++)
      p[i] = before[i] / 255.0f;
    seg_overlay_box_mean (p, m1, w, h, r, line, line + w);
    seg_overlay_box_mean (m1, m2, w, h, r, line, line + w);
    seg_overlay_guided_refine (alpha, luma, w, h, r, planes, line);
    for (guint i = 0; i < w * h; i++)
      CHECK (abs ((gint) alpha[i] - (gint) lrintf (m2[i] * 255.0f)) <= 1,
          "flat luma at %u: %u, want %ld", i, alpha[i],
          lrintf (m2[i] * 255.0f));
  }
  g_free (planes);
}

static void
test_upsample (void)
{
  guint8 mask[5 * 3 * 2], alpha[5 * 3], big[10 * 6];
  SegMaskPlane m = {mask, 10, 5, 3}; /* stride 10: padded rows */

  fill_random (mask, sizeof mask);
  /* Same size: a copy. */
  seg_overlay_upsample (&m, FALSE, alpha, 5, 3);
  for (guint y = 0; y < 3; y++)
    for (guint x = 0; x < 5; x++)
      CHECK (alpha[y * 5 + x] == mask[y * 10 + x], "copy at (%u,%u)", x, y);
  /* A class map: non-zero counts as 255. */
  seg_overlay_upsample (&m, TRUE, alpha, 5, 3);
  for (guint y = 0; y < 3; y++)
    for (guint x = 0; x < 5; x++)
      CHECK (alpha[y * 5 + x] == (mask[y * 10 + x] ? 255 : 0),
          "binary at (%u,%u)", x, y);
  /* 2x: each output lies between its neighbours' values. */
  seg_overlay_upsample (&m, FALSE, big, 10, 6);
  for (guint y = 0; y < 6; y++)
    for (guint x = 0; x < 10; x++) {
      guint8 lo = 255, hi = 0;

      for (guint yy = y ? (y - 1) / 2 : 0; yy <= MIN ((y + 1) / 2, 2u); yy++)
        for (guint xx = x ? (x - 1) / 2 : 0; xx <= MIN ((x + 1) / 2, 4u);
             xx++) {
          lo = MIN (lo, mask[yy * 10 + xx]);
          hi = MAX (hi, mask[yy * 10 + xx]);
        }
      CHECK (big[y * 10 + x] >= lo && big[y * 10 + x] <= hi,
          "2x at (%u,%u): %u outside [%u,%u]", x, y, big[y * 10 + x], lo, hi);
    }
}

static void
test_luma (void)
{
  SegPackedImage img = bgrx_image (13, 7);
  guint8 luma[13 * 7], gray[13 * 7], out[13 * 7];
  SegPackedImage g = {gray, 13, 1, {0, 0, 0}, 13, 7};

  seg_overlay_luma (&img, luma);
  for (guint y = 0; y < 7; y++)
    for (guint x = 0; x < 13; x++) {
      const guint8 *p = img.data + y * img.stride + x * 4;
      guint want = (77 * p[2] + 150 * p[1] + 29 * p[0] + 128) >> 8;

      CHECK (luma[y * 13 + x] == want, "luma at (%u,%u)", x, y);
    }
  /* A one-byte plane comes back unchanged (the weights sum to 256). */
  fill_random (gray, sizeof gray);
  seg_overlay_luma (&g, out);
  CHECK (memcmp (gray, out, sizeof gray) == 0, "gray plane changed");
  g_free (img.data);
}

static void
test_composite_and_copies (void)
{
  /* Large enough that every rounding case of the blend comes up. */
  const guint w = 97, h = 61;
  SegPackedImage img = bgrx_image (w, h);
  guint8 *orig = g_memdup2 (img.data, img.stride * h);
  guint8 *alpha = g_malloc (w * h), *bg = g_malloc (w * h * 3);
  guint8 *rgb = g_malloc (w * h * 3), *rgba = g_malloc (w * h * 4);

  fill_random (alpha, w * h);
  alpha[0] = 0;
  alpha[1] = 255;
  fill_random (bg, w * h * 3);

  seg_overlay_to_rgb (&img, rgb);
  seg_overlay_to_rgba (&img, alpha, rgba, w * 4);
  for (guint i = 0; i < w * h; i++) {
    const guint8 *p = orig + (i / w) * img.stride + (i % w) * 4;

    CHECK (rgb[i * 3] == p[2] && rgb[i * 3 + 1] == p[1]
            && rgb[i * 3 + 2] == p[0],
        "to_rgb at %u", i);
    CHECK (rgba[i * 4] == p[2] && rgba[i * 4 + 3] == alpha[i], "to_rgba at %u",
        i);
  }

  seg_overlay_composite (&img, alpha, bg);
  for (guint i = 0; i < w * h; i++) {
    const guint8 *was = orig + (i / w) * img.stride + (i % w) * 4;
    const guint8 *now = img.data + (i / w) * img.stride + (i % w) * 4;

    for (guint c = 0; c < 3; c++)
      CHECK (now[2 - c] == ref_blend (was[2 - c], bg[i * 3 + c], alpha[i]),
          "composite at %u channel %u", i, c);
    CHECK (now[3] == was[3], "composite touched the padding byte at %u", i);
  }
  CHECK (img.data[2] == bg[0] && img.data[1] == bg[1] && img.data[0] == bg[2],
      "alpha 0 shows the background");
  CHECK (img.data[4 + 2] == orig[4 + 2], "alpha 255 keeps the frame");

  seg_overlay_fill_rgb (rgb, 3, 0xff102030);
  CHECK (rgb[0] == 0x10 && rgb[4] == 0x20 && rgb[8] == 0x30, "fill");
  g_free (alpha);
  g_free (bg);
  g_free (rgb);
  g_free (rgba);
  g_free (orig);
  g_free (img.data);
}

static void
test_tint_and_outline (void)
{
  const guint w = 12, h = 10, color = 0xff00ff00;
  SegPackedImage img = bgrx_image (w, h);
  guint8 *orig = g_memdup2 (img.data, img.stride * h);
  guint8 alpha[12 * 10] = {0}, classes[6 * 5];
  SegMaskPlane cm = {classes, 6, 6, 5};

  /* A 6x4 foreground block from (3,3). */
  for (guint y = 3; y < 7; y++)
    for (guint x = 3; x < 9; x++)
      alpha[y * w + x] = 255;
  seg_overlay_outline (&img, alpha, 1, color);
  for (guint y = 0; y < h; y++)
    for (guint x = 0; x < w; x++) {
      gboolean in = alpha[y * w + x] == 255;
      gboolean border = in && (x == 3 || x == 8 || y == 3 || y == 6);
      const guint8 *p = img.data + y * img.stride + x * 4;
      const guint8 *q = orig + y * img.stride + x * 4;

      if (border)
        CHECK (p[2] == 0 && p[1] == 255 && p[0] == 0, "outline at (%u,%u)", x,
            y);
      else
        CHECK (memcmp (p, q, 4) == 0, "outline touched (%u,%u)", x, y);
    }

  /* Tint at full strength: class 1 takes `color`, class 2 the palette's
   * red, a probability mask (no classes) `color` everywhere. */
  memcpy (img.data, orig, img.stride * h);
  memset (classes, 1, sizeof classes);
  classes[2 * 6 + 2] = 2; /* mask pixel (2,2) -> frame (4..5, 4..5) */
  seg_overlay_tint (&img, alpha, &cm, 256, color);
  {
    const guint8 *red = img.data + 4 * img.stride + 4 * 4;
    const guint8 *green = img.data + 3 * img.stride + 3 * 4;
    const guint8 *none = img.data + 0 * img.stride + 0 * 4;

    CHECK (red[2] == 255 && red[1] == 0 && red[0] == 0, "class 2 colour");
    CHECK (green[2] == 0 && green[1] == 255 && green[0] == 0, "class 1 colour");
    CHECK (memcmp (none, orig, 4) == 0, "tint outside the mask");
  }
  memcpy (img.data, orig, img.stride * h);
  seg_overlay_tint (&img, alpha, NULL, 128, color);
  {
    const guint8 *p = img.data + 4 * img.stride + 4 * 4;
    const guint8 *q = orig + 4 * img.stride + 4 * 4;
    guint a = (255 * 128) >> 8;

    CHECK (p[1] == ref_blend (255, q[1], a) && p[2] == ref_blend (0, q[2], a),
        "half-strength tint");
  }
  g_free (orig);
  g_free (img.data);
}

static void
test_resize (void)
{
  guint8 src[4 * 3 * 3], dst[4 * 3 * 3], up[8 * 6 * 3];

  fill_random (src, sizeof src);
  seg_overlay_resize_rgb (src, 4, 3, dst, 4, 3);
  CHECK (memcmp (src, dst, sizeof src) == 0, "same-size resize is a copy");
  memset (src, 77, sizeof src);
  seg_overlay_resize_rgb (src, 4, 3, up, 8, 6);
  for (guint i = 0; i < sizeof up; i++)
    CHECK (up[i] == 77, "flat image stays flat at %u", i);
}

int
main (void)
{
  test_box_blur ();
  test_box_mean ();
  test_guided ();
  test_upsample ();
  test_luma ();
  test_composite_and_copies ();
  test_tint_and_outline ();
  test_resize ();
  printf ("PASS overlay-pixels\n");
  return 0;
}
