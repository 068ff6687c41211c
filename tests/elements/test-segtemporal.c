/* Unit tests of the segmenter's temporal filter (plugins/segtemporal.c),
 * plain C on synthetic sequences: a textured scene with a bright disc (the
 * "person") whose probability is a ramp across the disc's edge.
 *
 * - still with noise: the filtered probability equals a plain per-pixel
 *   reference of the documented recurrence, and classes flip far less
 *   than plain thresholding; strength 0 is plain thresholding;
 * - moving edge: the filtered mask is the fresh mask, every frame;
 * - cut: the first mask of the new scene is the fresh one;
 * - between inferences: track says still / moved / cut, and the warped
 *   mask matches the new frame better than the reused one;
 * - packed RGB layouts, and the YUV layouts, give the same thumbnail;
 * - multi-class masks keep their classes; a new mask size starts afresh;
 * - the AVX-512 build of the filter gives the baseline's bytes.
 */
#include "segtemporal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../check.h"

#define FW 256 /* frame */
#define FH 192
#define MW 128 /* mask */
#define MH 96
#define CANVAS 512
#define RAMP 6.0 /* mask pixels from p = 0 to 255 */

static const seg_temporal_params defaults = {0.7f, 0.06f, 0.5f, 4.0f};

/* A scene to pan over: smooth random texture, a brighter disc. */
typedef struct
{
  uint8_t px[CANVAS * CANVAS];
  double cx, cy, r; /* disc, canvas pixels */
} Canvas;

static void
canvas_init (Canvas *c, uint32_t seed, double cx, double cy, double r)
{
  static uint8_t raw[CANVAS * CANVAS];
  uint32_t rng = seed;

  for (int i = 0; i < CANVAS * CANVAS; i++)
    raw[i] = (uint8_t) (test_rand (&rng) >> 24);
  c->cx = cx;
  c->cy = cy;
  c->r = r;
  for (int y = 0; y < CANVAS; y++)
    for (int x = 0; x < CANVAS; x++) {
      int sum = 0, v;

      /* 5x5 box: texture at the thumbnail's scale, so motion shows. */
      for (int dy = -2; dy <= 2; dy++)
        for (int dx = -2; dx <= 2; dx++) {
          int yy = y + dy < 0 ? 0 : y + dy >= CANVAS ? CANVAS - 1 : y + dy;
          int xx = x + dx < 0 ? 0 : x + dx >= CANVAS ? CANVAS - 1 : x + dx;

          sum += raw[yy * CANVAS + xx];
        }
      v = sum / 25 - 128 + (hypot (x - cx, y - cy) < r ? 170 : 80);
      c->px[y * CANVAS + x] = (uint8_t) (v < 0 ? 0 : v > 255 ? 255 : v);
    }
}

static double
gauss (uint32_t *rng)
{
  double u = ((test_rand (rng) >> 8) + 1.0) / 16777217.0;
  double v = (test_rand (rng) >> 8) / 16777216.0;

  return sqrt (-2.0 * log (u)) * cos (2.0 * M_PI * v);
}

/* Frame = canvas seen from (ox, oy), as packed RGB, plus noise. */
static void
render (const Canvas *c, int ox, int oy, double sigma, uint32_t *rng,
    uint8_t *rgb)
{
  for (int y = 0; y < FH; y++)
    for (int x = 0; x < FW; x++) {
      int v = c->px[(y + oy) * CANVAS + x + ox];

      for (int k = 0; k < 3; k++) {
        int n = v + (int) lrint (sigma * gauss (rng)) + 10 * k;

        rgb[(y * FW + x) * 3 + k] = (uint8_t) (n < 0 ? 0 : n > 255 ? 255 : n);
      }
    }
}

/* What the network would say: a ramp across the disc's edge, plus jitter,
 * on a mw x mh mask. */
static void
fresh_mask_sized (const Canvas *c, int ox, int oy, double jitter, uint32_t *rng,
    uint8_t *prob, int mw, int mh)
{
  for (int y = 0; y < mh; y++)
    for (int x = 0; x < mw; x++) {
      double fx = (x + 0.5) * FW / mw + ox, fy = (y + 0.5) * FH / mh + oy;
      double d = (c->r - hypot (fx - c->cx, fy - c->cy)) * mw / FW;
      double p = 127.5 + 255.0 * d / RAMP + jitter * gauss (rng);

      prob[y * mw + x] = (uint8_t) lrint (p < 0 ? 0 : p > 255 ? 255 : p);
    }
}

static void
fresh_mask (const Canvas *c, int ox, int oy, double jitter, uint32_t *rng,
    uint8_t *prob)
{
  fresh_mask_sized (c, ox, oy, jitter, rng, prob, MW, MH);
}

static seg_frame
rgb_frame (const uint8_t *rgb)
{
  seg_frame f = {.format = SEG_PIXEL_RGB,
      .width = FW,
      .height = FH,
      .strides = {FW * 3}};

  f.planes[0] = rgb;
  return f;
}

static void
plain_classes (const uint8_t *prob, uint8_t *cls)
{
  for (int i = 0; i < MW * MH; i++)
    cls[i] = prob[i] >= 128;
}

static double
iou (const uint8_t *a, const uint8_t *b)
{
  int inter = 0, uni = 0;

  for (int i = 0; i < MW * MH; i++) {
    inter += a[i] && b[i];
    uni += a[i] || b[i];
  }
  return uni ? (double) inter / uni : 1.0;
}

static Canvas canvas_a, canvas_b;
static uint8_t rgb[FW * FH * 3];

/* Identical frames (no motion at all, so every tile's gate is 0) and a
 * jittering probability: the filter must follow the recurrence of the
 * header, pixel by pixel, and hold classes in the band. */
static void
test_still_reference (void)
{
  seg_temporal *t = seg_temporal_new ();
  static float ref[MW * MH];
  uint8_t prob[MW * MH], cls[MW * MH], plain[MW * MH], prev_plain[MW * MH];
  uint8_t prev_cls[MW * MH];
  uint32_t rng = 7;
  long flips = 0, plain_flips = 0;
  seg_frame f = rgb_frame (rgb);

  render (&canvas_a, 100, 100, 0.0, &rng, rgb);
  for (int k = 0; k < 40; k++) {
    CHECK (seg_temporal_observe (t, &f) == SEG_OK, "observe");
    fresh_mask (&canvas_a, 100, 100, 8.0, &rng, prob);
    plain_classes (prob, plain);
    for (int i = 0; i < MW * MH; i++) {
      float d = prob[i] - ref[i], gp = fabsf (d) / 64.0f;

      gp = gp < 1.0f ? gp * gp : 1.0f;
      ref[i] = k == 0 ? prob[i] : ref[i] + (0.3f + 0.7f * gp) * d;
    }
    CHECK (seg_temporal_filter (t, &defaults, prob, cls, MW, MH, MW, 1)
            == SEG_OK,
        "filter");
    for (int i = 0; i < MW * MH; i++) {
      CHECK (fabsf (prob[i] - ref[i]) <= 0.5f + 1e-3f,
          "frame %d pixel %d: "
          "%d, reference %.3f",
          k, i, prob[i], ref[i]);
      if (k > 0) {
        flips += cls[i] != prev_cls[i];
        plain_flips += plain[i] != prev_plain[i];
      }
    }
    if (k > 0)
      CHECK (seg_temporal_last_motion (t) == 0.0f, "still frame %d moved %f", k,
          seg_temporal_last_motion (t));
    memcpy (prev_cls, cls, sizeof cls);
    memcpy (prev_plain, plain, sizeof plain);
  }
  CHECK (plain_flips > 200,
      "the jitter should make plain masks flicker "
      "(%ld flips)",
      plain_flips);
  CHECK (flips * 10 < plain_flips, "%ld flips filtered, %ld plain", flips,
      plain_flips);
  seg_temporal_free (t);
}

/* Camera noise on the frame (sigma 4) must still count as still, and
 * strength 0 must be plain thresholding with the probability untouched. */
static void
test_still_noise (void)
{
  seg_temporal *t = seg_temporal_new (), *off = seg_temporal_new ();
  seg_temporal_params zero = defaults;
  uint8_t prob[MW * MH], cls[MW * MH], p0[MW * MH], c0[MW * MH];
  uint8_t plain[MW * MH], prev[MW * MH], prev_plain[MW * MH];
  uint8_t given[MW * MH];
  uint32_t rng = 11;
  long flips = 0, plain_flips = 0;
  seg_frame f = rgb_frame (rgb);

  zero.strength = 0.0f;
  for (int k = 0; k < 30; k++) {
    render (&canvas_a, 100, 100, 4.0, &rng, rgb);
    fresh_mask (&canvas_a, 100, 100, 8.0, &rng, prob);
    memcpy (given, prob, sizeof prob);
    memcpy (p0, prob, sizeof prob);
    plain_classes (prob, plain);
    CHECK (seg_temporal_observe (t, &f) == SEG_OK, "observe");
    CHECK (seg_temporal_observe (off, &f) == SEG_OK, "observe");
    seg_temporal_filter (t, &defaults, prob, cls, MW, MH, MW, 1);
    seg_temporal_filter (off, &zero, p0, c0, MW, MH, MW, 1);
    CHECK (memcmp (p0, given, sizeof p0) == 0, "strength 0 changed p");
    CHECK (memcmp (c0, plain, sizeof c0) == 0, "strength 0 classes");
    if (k > 0) {
      CHECK (seg_temporal_last_motion (t) == 0.0f,
          "noise taken for motion "
          "(%f) at frame %d",
          seg_temporal_last_motion (t), k);
      for (int i = 0; i < MW * MH; i++) {
        flips += cls[i] != prev[i];
        plain_flips += plain[i] != prev_plain[i];
      }
    }
    memcpy (prev, cls, sizeof cls);
    memcpy (prev_plain, plain, sizeof plain);
  }
  CHECK (flips * 10 < plain_flips,
      "%ld flips filtered, %ld plain on a "
      "still noisy scene",
      flips, plain_flips);
  seg_temporal_free (t);
  seg_temporal_free (off);
}

/* The scene pans 2 px per frame: every mask must be the fresh one. */
static void
test_moving_edge (void)
{
  seg_temporal *t = seg_temporal_new ();
  uint8_t prob[MW * MH], cls[MW * MH], fresh[MW * MH], plain[MW * MH];
  uint32_t rng = 13;
  seg_frame f = rgb_frame (rgb);

  for (int k = 0; k < 30; k++) {
    int ox = 60 + 2 * k, oy = 80 + k;

    render (&canvas_a, ox, oy, 4.0, &rng, rgb);
    fresh_mask (&canvas_a, ox, oy, 2.0, &rng, prob);
    memcpy (fresh, prob, sizeof prob);
    plain_classes (prob, plain);
    seg_temporal_observe (t, &f);
    seg_temporal_filter (t, &defaults, prob, cls, MW, MH, MW, 1);
    /* Tiles whose texture changed little are only nearly moving (the
     * gate ramps up between motion / 2 and motion): a level or two of
     * smoothing may remain there, never a held class. */
    for (int i = 0; i < MW * MH; i++)
      CHECK (abs (prob[i] - fresh[i]) <= 2,
          "frame %d pixel %d: %d, fresh "
          "%d",
          k, i, prob[i], fresh[i]);
    CHECK (memcmp (cls, plain, sizeof cls) == 0,
        "frame %d: moving classes "
        "held (IoU %.4f)",
        k, iou (cls, plain));
  }
  seg_temporal_free (t);
}

/* The filter is built twice on x86-64 (baseline and AVX-512, chosen at
 * run time): both must give the same bytes, on a scene that stands still
 * (where the probability's jitter alone gives per-pixel gates between 0
 * and 1), moves a pixel every other frame, then pans, with a mask width
 * that leaves a tail after the vector spans, deriving classes and keeping
 * given ones. Where the CPU has only the baseline this compares it with
 * itself. */
static void
test_builds_agree (void)
{
  enum
  {
    W = 165,
    H = 77
  };
  seg_temporal *wide = seg_temporal_new (), *base = seg_temporal_new ();
  static uint8_t pw[W * H], cw[W * H], pb[W * H], cb[W * H];
  uint32_t rng = 17;
  seg_frame f = rgb_frame (rgb);
  int has_wide = seg_temporal_use_baseline (base);

  printf ("segtemporal: comparing the %s build with the baseline\n",
      has_wide ? "AVX-512" : "baseline (no wider one on this CPU)");
  for (int k = 0; k < 40; k++) {
    /* still, then a pixel every other frame, then 3 px a frame */
    int ox = 90 + (k < 10 ? 0 : k < 25 ? (k - 10) / 2 : 7 + 3 * (k - 25));
    int derive = k % 13 != 6;

    render (&canvas_a, ox, 100, 4.0, &rng, rgb);
    fresh_mask_sized (&canvas_a, ox, 100, 8.0, &rng, pw, W, H);
    for (int i = 0; i < W * H; i++)
      cw[i] = (uint8_t) (pw[i] / 50);
    memcpy (pb, pw, sizeof pb);
    memcpy (cb, cw, sizeof cb);
    CHECK (seg_temporal_observe (wide, &f) == SEG_OK, "observe");
    CHECK (seg_temporal_observe (base, &f) == SEG_OK, "observe");
    CHECK (seg_temporal_filter (wide, &defaults, pw, cw, W, H, W, derive)
            == SEG_OK,
        "filter");
    CHECK (seg_temporal_filter (base, &defaults, pb, cb, W, H, W, derive)
            == SEG_OK,
        "filter");
    CHECK (memcmp (pw, pb, sizeof pw) == 0, "frame %d: probability differs", k);
    CHECK (memcmp (cw, cb, sizeof cw) == 0, "frame %d: classes differ", k);
  }
  seg_temporal_free (wide);
  seg_temporal_free (base);
}

/* After a hard cut the first mask is the new scene's own. */
static void
test_cut (void)
{
  seg_temporal *t = seg_temporal_new ();
  uint8_t prob[MW * MH], cls[MW * MH], fresh[MW * MH], plain[MW * MH];
  uint32_t rng = 17;
  seg_frame f = rgb_frame (rgb);

  for (int k = 0; k < 12; k++) {
    const Canvas *c = k < 8 ? &canvas_a : &canvas_b;

    render (c, 100, 100, 4.0, &rng, rgb);
    fresh_mask (c, 100, 100, 8.0, &rng, prob);
    memcpy (fresh, prob, sizeof prob);
    plain_classes (prob, plain);
    seg_temporal_observe (t, &f);
    seg_temporal_filter (t, &defaults, prob, cls, MW, MH, MW, 1);
    if (k == 8) {
      CHECK (memcmp (prob, fresh, sizeof prob) == 0, "cut: smoothed");
      CHECK (memcmp (cls, plain, sizeof cls) == 0, "cut: classes held");
    }
  }
  seg_temporal_free (t);
}

/* Between inferences: still -> 0, panned -> 1 with a mask that fits the
 * new frame better than the old one did, cut -> 2. */
static void
test_track_warp (void)
{
  seg_temporal *t = seg_temporal_new ();
  uint8_t prob[MW * MH], cls[MW * MH], wprob[MW * MH], wcls[MW * MH];
  uint8_t want[MW * MH], want_cls[MW * MH];
  uint32_t rng = 19;
  seg_frame f = rgb_frame (rgb);
  double reused, warped;

  CHECK (seg_temporal_track (t, &defaults, prob, cls, MW, MH, MW)
          == SEG_ERR_INVALID,
      "track without a reference");
  render (&canvas_a, 100, 100, 4.0, &rng, rgb);
  fresh_mask (&canvas_a, 100, 100, 0.0, &rng, prob);
  seg_temporal_observe (t, &f);
  seg_temporal_filter (t, &defaults, prob, cls, MW, MH, MW, 1);

  render (&canvas_a, 100, 100, 4.0, &rng, rgb);
  seg_temporal_observe (t, &f);
  CHECK (seg_temporal_track (t, &defaults, prob, cls, MW, MH, MW) == 0,
      "still frame tracked as moving");
  CHECK (seg_temporal_track (t, &defaults, prob, cls, MW + 2, MH, MW + 2)
          == SEG_ERR_INVALID,
      "another mask size");

  /* The view moves by (-9, -5): the disc by (+9, +5) frame pixels. */
  render (&canvas_a, 91, 95, 4.0, &rng, rgb);
  fresh_mask (&canvas_a, 91, 95, 0.0, &rng, want);
  plain_classes (want, want_cls);
  seg_temporal_observe (t, &f);
  CHECK (seg_temporal_track (t, &defaults, prob, cls, MW, MH, MW) == 1,
      "pan not seen");
  memset (wprob, 0xAA, sizeof wprob);
  seg_temporal_warp (t, &defaults, prob, cls, wprob, wcls, MW, MH, MW, 1);
  reused = iou (cls, want_cls);
  warped = iou (wcls, want_cls);
  CHECK (warped >= 0.97 && warped > reused + 0.02,
      "warped IoU %.4f, "
      "reused %.4f",
      warped, reused);
  for (int i = 0; i < MW * MH; i++)
    CHECK (wcls[i] == (wprob[i] >= 128), "warped classes from p at %d", i);

  render (&canvas_b, 100, 100, 4.0, &rng, rgb);
  seg_temporal_observe (t, &f);
  CHECK (seg_temporal_track (t, &defaults, prob, cls, MW, MH, MW) == 2,
      "cut not seen");
  seg_temporal_free (t);
}

/* The same picture in every packed RGB layout, and in every YUV layout,
 * must give the same thumbnail (no motion between them). */
static void
test_formats (void)
{
  static const seg_pixel_format packed[] = {SEG_PIXEL_BGR, SEG_PIXEL_RGBX,
      SEG_PIXEL_BGRX, SEG_PIXEL_XRGB, SEG_PIXEL_XBGR, SEG_PIXEL_RGBA,
      SEG_PIXEL_BGRA};
  static const seg_pixel_format yuv[] = {SEG_PIXEL_NV12, SEG_PIXEL_I420,
      SEG_PIXEL_YUY2};
  static uint8_t buf[FW * FH * 4], gray[FW * FH];
  uint8_t prob[MW * MH], cls[MW * MH];
  uint32_t rng = 23;
  seg_frame f = rgb_frame (rgb);
  seg_temporal *t = seg_temporal_new ();

  render (&canvas_a, 100, 100, 0.0, &rng, rgb);
  fresh_mask (&canvas_a, 100, 100, 0.0, &rng, prob);
  seg_temporal_observe (t, &f);
  seg_temporal_filter (t, &defaults, prob, cls, MW, MH, MW, 1);
  for (size_t n = 0; n < sizeof packed / sizeof packed[0]; n++) {
    seg_frame g = {.format = packed[n], .width = FW, .height = FH};
    int bpp = packed[n] == SEG_PIXEL_BGR ? 3 : 4;
    /* Where R, G, B go in each layout. */
    int r = 0, gr = 1, b = 2;

    switch (packed[n]) {
      case SEG_PIXEL_BGR:
      case SEG_PIXEL_BGRX:
      case SEG_PIXEL_BGRA:
        r = 2;
        b = 0;
        break;
      case SEG_PIXEL_XRGB:
        r = 1;
        gr = 2;
        b = 3;
        break;
      case SEG_PIXEL_XBGR:
        r = 3;
        gr = 2;
        b = 1;
        break;
      default:
        break;
    }
    for (int i = 0; i < FW * FH; i++) {
      uint8_t *p = buf + i * bpp;

      memset (p, 0x55, (size_t) bpp);
      p[r] = rgb[i * 3];
      p[gr] = rgb[i * 3 + 1];
      p[b] = rgb[i * 3 + 2];
    }
    g.planes[0] = buf;
    g.strides[0] = FW * bpp;
    CHECK (seg_temporal_observe (t, &g) == SEG_OK, "observe %zu", n);
    CHECK (seg_temporal_track (t, &defaults, prob, cls, MW, MH, MW) == 0,
        "layout %zu differs from RGB", n);
  }

  /* YUV: the reference is GRAY8 of the same Y plane. */
  for (int i = 0; i < FW * FH; i++)
    gray[i] = rgb[i * 3 + 1];
  f = (seg_frame){.format = SEG_PIXEL_GRAY8,
      .width = FW,
      .height = FH,
      .planes = {gray},
      .strides = {FW}};
  seg_temporal_observe (t, &f);
  seg_temporal_filter (t, &defaults, prob, cls, MW, MH, MW, 1);
  for (size_t n = 0; n < sizeof yuv / sizeof yuv[0]; n++) {
    seg_frame g = {.format = yuv[n], .width = FW, .height = FH};

    if (yuv[n] == SEG_PIXEL_YUY2) {
      for (int i = 0; i < FW * FH; i++) {
        buf[i * 2] = gray[i];
        buf[i * 2 + 1] = 0x80;
      }
      g.planes[0] = buf;
      g.strides[0] = FW * 2;
    } else {
      /* Only the Y plane is read; chroma planes are given for form. */
      g.planes[0] = gray;
      g.planes[1] = buf;
      g.planes[2] = buf;
      g.strides[0] = FW;
      g.strides[1] = g.strides[2] = FW;
    }
    CHECK (seg_temporal_observe (t, &g) == SEG_OK, "observe yuv %zu", n);
    CHECK (seg_temporal_track (t, &defaults, prob, cls, MW, MH, MW) == 0,
        "YUV layout %zu differs from GRAY8", n);
  }
  f.planes[0] = NULL;
  CHECK (seg_temporal_observe (t, &f) == SEG_ERR_INVALID, "no pixels");
  seg_temporal_free (t);
  seg_temporal_free (NULL);
}

/* Multi-class models: classes stay the network's, only the probability
 * is filtered, and a moved mask takes its classes by nearest sample. A
 * new mask size starts the history afresh. */
static void
test_classes_kept_and_resize (void)
{
  seg_temporal *t = seg_temporal_new ();
  uint8_t prob[MW * MH], cls[MW * MH], given[MW * MH], wprob[MW * MH];
  uint8_t wcls[MW * MH];
  uint32_t rng = 29;
  seg_frame f = rgb_frame (rgb);

  for (int k = 0; k < 3; k++) {
    render (&canvas_a, 100, 100, 4.0, &rng, rgb);
    fresh_mask (&canvas_a, 100, 100, 8.0, &rng, prob);
    for (int i = 0; i < MW * MH; i++)
      cls[i] = given[i] = (uint8_t) (prob[i] / 40); /* classes 0..6 */
    seg_temporal_observe (t, &f);
    CHECK (seg_temporal_filter (t, &defaults, prob, cls, MW, MH, MW, 0)
            == SEG_OK,
        "filter");
    CHECK (memcmp (cls, given, sizeof cls) == 0, "classes changed");
  }
  render (&canvas_a, 91, 95, 4.0, &rng, rgb);
  seg_temporal_observe (t, &f);
  CHECK (seg_temporal_track (t, &defaults, prob, cls, MW, MH, MW) == 1,
      "pan not seen");
  seg_temporal_warp (t, &defaults, prob, cls, wprob, wcls, MW, MH, MW, 0);
  for (int i = 0; i < MW * MH; i++)
    CHECK (wcls[i] <= 6, "class %d out of the set at %d", wcls[i], i);

  /* Half the mask size: passed through as the first mask of a stream. */
  fresh_mask (&canvas_a, 91, 95, 8.0, &rng, prob);
  memcpy (given, prob, sizeof prob);
  seg_temporal_observe (t, &f);
  CHECK (seg_temporal_filter (t, &defaults, prob, cls, MW / 2, MH / 2, MW, 1)
          == SEG_OK,
      "filter at another size");
  for (int y = 0; y < MH / 2; y++)
    for (int x = 0; x < MW / 2; x++)
      CHECK (prob[y * MW + x] == given[y * MW + x]
              && cls[y * MW + x] == (given[y * MW + x] >= 128),
          "resized mask "
          "filtered at %d,%d",
          x, y);
  seg_temporal_free (t);
}

int
main (void)
{
  canvas_init (&canvas_a, 1, 230, 200, 60);
  canvas_init (&canvas_b, 2, 300, 260, 45);
  test_still_reference ();
  test_still_noise ();
  test_moving_edge ();
  test_builds_agree ();
  test_cut ();
  test_track_warp ();
  test_formats ();
  test_classes_kept_and_resize ();
  printf ("segtemporal tests passed\n");
  return 0;
}
