/* bench-temporal — how steady and how prompt the segmenter's masks are,
 * measured through the real element (GstHarness around `segmenter`, the
 * selfie model) on short clips made in-process from photos shipped by
 * python3-skimage:
 *
 *   still   astronaut.png plus fresh camera-like noise (sigma 4) per frame:
 *           class flips per pixel per frame, mean |delta p| (levels of 255);
 *   moving  the same photo panned and zoomed a few pixels per frame (plus
 *           noise), like segd's demo source: mean and worst IoU of each
 *           frame's mask against the unfiltered single-frame mask of the
 *           same frame, and the lag (frames) at which they match best;
 *   slow    the same at 1/8 the speed (under half a pixel per frame, which
 *           the filter treats as still): mean IoU and lag;
 *   cut     a hard switch astronaut -> camera (the cameraman) and back:
 *           frames after the switch until the mask has IoU >= 0.95 with the
 *           new photo's unfiltered mask (0: the first new frame already).
 *
 * The reference ("unfiltered single-frame") masks come from the element
 * with smoothing=0 interval=1. The filter's own cost is timed by running
 * plugins/segtemporal.c on the same frames and masks, next to the
 * element's time per frame without it. Prints a table; `meson test -C
 * BUILD --benchmark -v temporal` runs it. Exits 77 when the photos or the
 * model are missing.
 */
#include "../tests/elements/common.h"
#include "segmeta.h"
#include "segtemporal.h"

#include <gst/app/gstappsink.h>
#include <gst/check/gstharness.h>
#include <gst/gst.h>
#include <gst/video/video.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SKIP 77
#define DATA "/usr/lib/python3/dist-packages/skimage/data/"
#define NOISE_SIGMA 4.0
#define STILL_FRAMES 60
#define MOVING_FRAMES 60
#define CUT_BEFORE 10
#define CUT_AFTER 10
#define LAG_MAX 3

typedef struct
{
  gint width, height;
  guint8 *rgb; /* packed, width * 3 per row */
} Image;

typedef struct
{
  gint w, h; /* mask size */
  guint n;
  guint8 *classes, *prob; /* n masks of w * h, packed */
} Masks;

static guint32 rng_state = 12345;

static guint32
rng_next (void)
{
  guint32 x = rng_state;

  x ^= x << 13;
  x ^= x >> 17;
  x ^= x << 5;
  return rng_state = x;
}

/* Decodes a photo to packed RGB with GStreamer's own decoders. */
static gboolean
image_load (const gchar *path, Image *img)
{
  gchar *desc = g_strdup_printf ("filesrc location=\"%s\" ! decodebin ! "
                                 "videoconvert ! video/x-raw,format=RGB ! "
                                 "appsink name=sink",
      path);
  GstElement *pipe = gst_parse_launch (desc, NULL), *sink;
  GstSample *sample = NULL;
  GstVideoInfo info;
  GstVideoFrame vf;

  g_free (desc);
  if (!pipe)
    return FALSE;
  sink = gst_bin_get_by_name (GST_BIN (pipe), "sink");
  gst_element_set_state (pipe, GST_STATE_PLAYING);
  sample = gst_app_sink_try_pull_sample (GST_APP_SINK (sink), 10 * GST_SECOND);
  if (sample && gst_video_info_from_caps (&info, gst_sample_get_caps (sample))
      && gst_video_frame_map (&vf, &info, gst_sample_get_buffer (sample),
          GST_MAP_READ)) {
    img->width = GST_VIDEO_INFO_WIDTH (&info);
    img->height = GST_VIDEO_INFO_HEIGHT (&info);
    img->rgb = g_malloc ((gsize) img->width * img->height * 3);
    for (gint y = 0; y < img->height; y++)
      memcpy (img->rgb + (gsize) y * img->width * 3,
          (guint8 *) GST_VIDEO_FRAME_PLANE_DATA (&vf, 0)
              + (gsize) y * GST_VIDEO_FRAME_PLANE_STRIDE (&vf, 0),
          (gsize) img->width * 3);
    gst_video_frame_unmap (&vf);
  }
  if (sample)
    gst_sample_unref (sample);
  gst_element_set_state (pipe, GST_STATE_NULL);
  gst_object_unref (sink);
  gst_object_unref (pipe);
  return img->rgb != NULL;
}

/* Adds fresh noise of NOISE_SIGMA: the sum of four uniform bytes (Irwin-
 * Hall, close to Gaussian within 3.4 sigma) from one random word. */
static void
add_noise (guint8 *px, gsize n)
{
  const gdouble scale = NOISE_SIGMA / sqrt (4.0 * (256.0 * 256.0 - 1) / 12);

  for (gsize i = 0; i < n; i++) {
    guint32 r = rng_next ();
    gint sum = (gint) (r & 255) + (gint) (r >> 8 & 255) + (gint) (r >> 16 & 255)
        + (gint) (r >> 24) - 510;
    gint v = px[i] + (gint) lrint (sum * scale);

    px[i] = (guint8) CLAMP (v, 0, 255);
  }
}

/* Time t (frames) of the moving clip: a viewport over the photo zooming
 * between 1.1x and 1.4x and drifting +-40 source pixels, bilinearly
 * sampled, so the astronaut moves up to about 4 px per frame and changes
 * size. */
static void
render_moving (const Image *img, gdouble t, guint8 *dst)
{
  gdouble zoom = 1.25 + 0.15 * sin (2 * G_PI * t / 45.0);
  gdouble cx = img->width / 2.0 + 40.0 * sin (2 * G_PI * t / 60.0);
  gdouble cy = img->height / 2.0 + 30.0 * sin (2 * G_PI * t / 75.0);
  gint w = img->width, h = img->height;

  for (gint y = 0; y < h; y++) {
    gdouble sy = cy + (y + 0.5 - h / 2.0) / zoom - 0.5;
    gint y0 = CLAMP ((gint) floor (sy), 0, h - 1), y1 = MIN (y0 + 1, h - 1);
    gdouble fy = CLAMP (sy - y0, 0.0, 1.0);

    for (gint x = 0; x < w; x++) {
      gdouble sx = cx + (x + 0.5 - w / 2.0) / zoom - 0.5;
      gint x0 = CLAMP ((gint) floor (sx), 0, w - 1), x1 = MIN (x0 + 1, w - 1);
      gdouble fx = CLAMP (sx - x0, 0.0, 1.0);

      for (gint c = 0; c < 3; c++) {
        const guint8 *r0 = img->rgb + (gsize) y0 * w * 3;
        const guint8 *r1 = img->rgb + (gsize) y1 * w * 3;
        gdouble top = (1 - fx) * r0[x0 * 3 + c] + fx * r0[x1 * 3 + c];
        gdouble bot = (1 - fx) * r1[x0 * 3 + c] + fx * r1[x1 * 3 + c];

        dst[((gsize) y * w + x) * 3 + c] =
            (guint8) lrint ((1 - fy) * top + fy * bot);
      }
    }
  }
}

typedef enum
{
  CLIP_STILL,
  CLIP_MOVING,
  CLIP_SLOW,
  CLIP_CUT_AC,
  CLIP_CUT_CA
} ClipKind;

typedef struct
{
  ClipKind kind;
  guint frames;
  const Image *a, *b; /* photos; b only for cuts */
} Clip;

/* Frame k of a clip, noise included; the noise is the same for every
 * setting because the RNG is reseeded per clip. */
static void
clip_frame (Clip *c, guint k, guint8 *dst)
{
  gsize n = (gsize) c->a->width * c->a->height * 3;

  switch (c->kind) {
    case CLIP_STILL:
      memcpy (dst, c->a->rgb, n);
      break;
    case CLIP_MOVING:
      render_moving (c->a, k, dst);
      break;
    case CLIP_SLOW:
      /* An eighth of the speed: up to half a pixel per frame, below what
       * the filter calls motion, so what it smooths there must not lag. */
      render_moving (c->a, k / 8.0, dst);
      break;
    case CLIP_CUT_AC:
    case CLIP_CUT_CA:
      memcpy (dst,
          (k < CUT_BEFORE) == (c->kind == CLIP_CUT_AC) ? c->a->rgb : c->b->rgb,
          n);
      break;
  }
  add_noise (dst, n);
}

static int
compare_double (const void *a, const void *b)
{
  gdouble x = *(const gdouble *) a, y = *(const gdouble *) b;

  return (x > y) - (x < y);
}

static const gchar *model_path;

/* Runs the clip through segmenter with `props`; keeps every mask.
 * frame_ms (may be NULL) gets the element's time per frame (push to
 * pull: conversion, inference, mask, filter), minimum and median. */
static void
run_clip (Clip *c, const gchar *props, Masks *out, gdouble frame_ms[2])
{
  GstElement *e = gst_element_factory_make ("segmenter", NULL);
  gint w = c->a->width, h = c->a->height;
  gsize size = (gsize) w * h * 3;
  gdouble *times = g_new (gdouble, c->frames);
  GstHarness *hr;

  g_assert (e);
  g_object_set (e, "model", model_path, NULL);
  hr = test_harness_new (e, props, "RGB", w, h);

  rng_state = 12345 + c->kind;
  memset (out, 0, sizeof *out);
  out->n = c->frames;
  for (guint k = 0; k < c->frames; k++) {
    GstBuffer *buf = gst_buffer_new_allocate (NULL, size, NULL), *res;
    GstSegMeta *meta;
    GstMapInfo map;
    gint64 t0;

    gst_buffer_map (buf, &map, GST_MAP_WRITE);
    clip_frame (c, k, map.data);
    gst_buffer_unmap (buf, &map);
    GST_BUFFER_PTS (buf) = k * GST_SECOND / 30;
    GST_BUFFER_DURATION (buf) = GST_SECOND / 30;
    t0 = g_get_monotonic_time ();
    res = gst_harness_push_and_pull (hr, buf);
    times[k] = (g_get_monotonic_time () - t0) / 1000.0;
    g_assert (res);
    meta = gst_buffer_get_seg_meta (res);
    g_assert (meta && meta->classes && meta->probability);
    if (!out->classes) {
      out->w = meta->width;
      out->h = meta->height;
      out->classes = g_malloc ((gsize) out->w * out->h * c->frames);
      out->prob = g_malloc ((gsize) out->w * out->h * c->frames);
    }
    for (gint y = 0; y < out->h; y++) {
      gsize o = ((gsize) k * out->h + y) * out->w;

      memcpy (out->classes + o, meta->classes + (gsize) y * meta->stride,
          out->w);
      memcpy (out->prob + o, meta->probability + (gsize) y * meta->stride,
          out->w);
    }
    gst_buffer_unref (res);
  }
  if (frame_ms) {
    /* Frame 0 pays for first-use costs: not a typical frame. */
    qsort (times + 1, c->frames - 1, sizeof *times, compare_double);
    frame_ms[0] = times[1];
    frame_ms[1] = times[1 + (c->frames - 1) / 2];
  }
  g_free (times);
  gst_harness_teardown (hr);
}

static void
masks_clear (Masks *m)
{
  g_free (m->classes);
  g_free (m->prob);
}

static gdouble
iou (const Masks *a, guint i, const Masks *b, guint j)
{
  gsize n = (gsize) a->w * a->h, inter = 0, uni = 0;
  const guint8 *x = a->classes + i * n, *y = b->classes + j * n;

  for (gsize p = 0; p < n; p++) {
    inter += x[p] && y[p];
    uni += x[p] || y[p];
  }
  return uni ? (gdouble) inter / uni : 1.0;
}

typedef struct
{
  gdouble flips, dp;         /* still: % of pixels per frame, levels */
  gdouble iou_mean, iou_min; /* moving */
  gint lag;
  gdouble slow_iou; /* slow */
  gint slow_lag;
  gint cut[2]; /* frames to IoU >= 0.95; -1: never */
} Result;

static void
still_figures (const Masks *m, Result *r)
{
  gsize n = (gsize) m->w * m->h, flips = 0;
  guint64 dp = 0;

  for (guint k = 1; k < m->n; k++)
    for (gsize p = 0; p < n; p++) {
      flips += m->classes[k * n + p] != m->classes[(k - 1) * n + p];
      dp += (guint64) ABS (m->prob[k * n + p] - m->prob[(k - 1) * n + p]);
    }
  r->flips = 100.0 * flips / ((gdouble) n * (m->n - 1));
  r->dp = (gdouble) dp / ((gdouble) n * (m->n - 1));
}

static void
moving_figures (const Masks *m, const Masks *ref, Result *r)
{
  gdouble best = -1.0;

  r->iou_mean = 0.0;
  r->iou_min = 1.0;
  for (guint k = 0; k < m->n; k++) {
    gdouble v = iou (m, k, ref, k);

    if (g_getenv ("BENCH_TEMPORAL_FRAMES"))
      printf ("  frame %u IoU %.4f\n", k, v);

    r->iou_mean += v / m->n;
    r->iou_min = MIN (r->iou_min, v);
  }
  /* Lag L: the filtered mask of frame k looks most like the unfiltered
   * mask of frame k - L. */
  for (gint lag = -LAG_MAX; lag <= LAG_MAX; lag++) {
    gdouble sum = 0.0;
    guint cnt = 0;

    for (guint k = LAG_MAX; k + LAG_MAX < m->n; k++) {
      sum += iou (m, k, ref, k - lag);
      cnt++;
    }
    if (sum / cnt > best) {
      best = sum / cnt;
      r->lag = lag;
    }
  }
}

static gint
cut_figure (const Masks *m, const Masks *ref)
{
  for (guint k = CUT_BEFORE; k < m->n; k++)
    if (iou (m, k, ref, k) >= 0.95)
      return (gint) (k - CUT_BEFORE);
  return -1;
}

static gdouble
median (gdouble *v, guint n)
{
  qsort (v, n, sizeof *v, compare_double);
  return v[n / 2];
}

/* Times segtemporal on the moving clip's frames and reference masks, the
 * worst case for it (every tile moves; as with interval 2, every other
 * frame is tracked and warped). ms per call, minimum in ms[0][], median in
 * ms[1][]: observe (the thumbnail), filter, track + warp. Both, because
 * the machine is shared: the minimum is what the code costs, the median
 * what it cost among everyone else's load. */
static void
time_filter (Clip *c, const Masks *ref, gdouble ms[2][3])
{
  enum
  {
    REPS = 5
  };
  seg_temporal_params params = {0.7f, 0.06f, 0.5f, 4.0f};
  seg_temporal *t = seg_temporal_new ();
  gsize size = (gsize) c->a->width * c->a->height * 3;
  gsize n = (gsize) ref->w * ref->h;
  guint8 *frame = g_malloc (size), *prob = g_malloc (n), *cls = g_malloc (n);
  guint8 *dprob = g_malloc (n), *dcls = g_malloc (n);
  gdouble *times[3];
  guint count[3] = {0};
  seg_frame sf = {.format = SEG_PIXEL_RGB,
      .width = c->a->width,
      .height = c->a->height,
      .strides = {c->a->width * 3}};

  for (guint i = 0; i < 3; i++)
    times[i] = g_new (gdouble, REPS * c->frames);
  sf.planes[0] = frame;
  for (guint rep = 0; rep < REPS; rep++) {
    for (guint k = 0; k < c->frames; k++) {
      gint64 t0, t1;

      clip_frame (c, k, frame);
      t0 = g_get_monotonic_time ();
      seg_temporal_observe (t, &sf);
      t1 = g_get_monotonic_time ();
      times[0][count[0]++] = (t1 - t0) / 1000.0;
      if (k % 2 == 0) {
        memcpy (prob, ref->prob + k * n, n);
        t0 = g_get_monotonic_time ();
        seg_temporal_filter (t, &params, prob, cls, ref->w, ref->h, ref->w, 1);
        times[1][count[1]++] = (g_get_monotonic_time () - t0) / 1000.0;
      } else {
        t0 = g_get_monotonic_time ();
        if (seg_temporal_track (t, &params, prob, cls, ref->w, ref->h, ref->w)
            == 1)
          seg_temporal_warp (t, &params, prob, cls, dprob, dcls, ref->w, ref->h,
              ref->w, 1);
        times[2][count[2]++] = (g_get_monotonic_time () - t0) / 1000.0;
      }
    }
  }
  for (guint i = 0; i < 3; i++) {
    ms[1][i] = median (times[i], count[i]);
    ms[0][i] = times[i][0];
    g_free (times[i]);
  }
  seg_temporal_free (t);
  g_free (frame);
  g_free (prob);
  g_free (cls);
  g_free (dprob);
  g_free (dcls);
}

int
main (int argc, char **argv)
{
  static const struct
  {
    const gchar *name, *props;
  } settings[] = {
      {"smoothing=0 (off)", "smoothing=0"},
      {"default", ""},
      {"default, no hysteresis", "hysteresis=0"},
      {"strong", "smoothing=0.9 hysteresis=0.1"},
      {"interval=2 smoothing=0", "interval=2 smoothing=0"},
      {"interval=2", "interval=2"},
      {"interval=3 smoothing=0", "interval=3 smoothing=0"},
      {"interval=3", "interval=3"},
  };
  const gchar *dir = g_getenv ("SEG_MODEL_DIR");
  Image astro = {0}, camera = {0};
  Clip still, moving, slow, cut_ac, cut_ca;
  Masks ref_moving, ref_slow, ref_ac, ref_ca;
  gdouble frame_ms[2], cost[2][3];
  gchar *model;

  gst_init (&argc, &argv);
  model = g_build_filename (dir ? dir : "models", "selfie_segmentation.tflite",
      NULL);
  model_path = model;
  if (!g_file_test (model, G_FILE_TEST_EXISTS)
      || !image_load (DATA "astronaut.png", &astro)
      || !image_load (DATA "camera.png", &camera)) {
    printf ("SKIP: needs %s and python3-skimage's astronaut.png and "
            "camera.png\n",
        model);
    return SKIP;
  }
  g_assert (astro.width == camera.width && astro.height == camera.height);

  still = (Clip){CLIP_STILL, STILL_FRAMES, &astro, NULL};
  moving = (Clip){CLIP_MOVING, MOVING_FRAMES, &astro, NULL};
  slow = (Clip){CLIP_SLOW, MOVING_FRAMES, &astro, NULL};
  cut_ac = (Clip){CLIP_CUT_AC, CUT_BEFORE + CUT_AFTER, &astro, &camera};
  cut_ca = (Clip){CLIP_CUT_CA, CUT_BEFORE + CUT_AFTER, &astro, &camera};

  run_clip (&moving, "smoothing=0", &ref_moving, frame_ms);
  run_clip (&slow, "smoothing=0", &ref_slow, NULL);
  run_clip (&cut_ac, "smoothing=0", &ref_ac, NULL);
  run_clip (&cut_ca, "smoothing=0", &ref_ca, NULL);

  printf ("segmenter on %dx%d clips, %s, noise sigma %.0f, masks %dx%d\n",
      astro.width, astro.height, model, NOISE_SIGMA, ref_moving.w,
      ref_moving.h);
  printf ("still: %d frames of astronaut.png; moving: %d frames panned and "
          "zoomed (slow: at 1/8 the speed); cut: %d frames then the other "
          "photo\n",
      STILL_FRAMES, MOVING_FRAMES, CUT_BEFORE);
  printf ("\n%-24s %12s %7s %8s %8s %4s %8s %4s %7s %7s\n", "setting",
      "still flips", "|dp|", "IoU mean", "IoU min", "lag", "IoU mean", "lag",
      "cut A>C", "cut C>A");
  printf ("%-24s %12s %7s %8s %8s %4s %8s %4s %7s %7s\n", "", "%/px/frame",
      "levels", "moving", "moving", "fr", "slow", "fr", "frames", "frames");
  for (guint i = 0; i < G_N_ELEMENTS (settings); i++) {
    Masks m;
    Result r = {0};

    run_clip (&still, settings[i].props, &m, NULL);
    still_figures (&m, &r);
    masks_clear (&m);
    run_clip (&moving, settings[i].props, &m, NULL);
    moving_figures (&m, &ref_moving, &r);
    masks_clear (&m);
    {
      Result sr = {0};

      run_clip (&slow, settings[i].props, &m, NULL);
      moving_figures (&m, &ref_slow, &sr);
      r.slow_iou = sr.iou_mean;
      r.slow_lag = sr.lag;
      masks_clear (&m);
    }
    run_clip (&cut_ac, settings[i].props, &m, NULL);
    r.cut[0] = cut_figure (&m, &ref_ac);
    masks_clear (&m);
    run_clip (&cut_ca, settings[i].props, &m, NULL);
    r.cut[1] = cut_figure (&m, &ref_ca);
    masks_clear (&m);
    printf ("%-24s %11.4f%% %7.3f %8.4f %8.4f %4d %8.4f %4d %7d %7d\n",
        settings[i].name, r.flips, r.dp, r.iou_mean, r.iou_min, r.lag,
        r.slow_iou, r.slow_lag, r.cut[0], r.cut[1]);
  }

  time_filter (&moving, &ref_moving, cost);
  printf ("\ncost per frame, ms, minimum / median (shared machine):\n"
          "  element, smoothing=0 (convert, infer, mask):  %7.3f / %7.3f\n",
      frame_ms[0], frame_ms[1]);
  for (guint i = 0; i < 2; i++)
    printf ("  %s thumbnail %.3f + filter %.3f = %.3f (%.1f%% of the "
            "element)\n",
        i ? "median: " : "minimum:", cost[i][0], cost[i][1],
        cost[i][0] + cost[i][1],
        100.0 * (cost[i][0] + cost[i][1]) / frame_ms[i]);
  printf ("  between inferences (interval > 1): thumbnail + track and warp "
          "%.3f / %.3f\n",
      cost[0][0] + cost[0][2], cost[1][0] + cost[1][2]);

  masks_clear (&ref_moving);
  masks_clear (&ref_slow);
  masks_clear (&ref_ac);
  masks_clear (&ref_ca);
  g_free (astro.rgb);
  g_free (camera.rgb);
  g_free (model);
  return 0;
}
