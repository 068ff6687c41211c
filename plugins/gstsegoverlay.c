/* segoverlay — renders the segmentation mask a `segmenter` upstream
 * attached to each buffer.
 *
 * Every mode first builds one "foreground alpha" plane at frame size from
 * the meta's probability (or class map): a bilinear upsample, optionally
 * refined by a guided filter steered by the frame's luma so mask edges
 * snap to image edges instead of showing the model's coarse grid as halos
 * and steps. The modes then blend with that plane. A buffer without a meta
 * is treated as all background, so `blur` and `replace` hide rather than
 * reveal when no mask is known yet.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstsegoverlay.h"
#include "segmeta.h"

#include <gst/app/gstappsink.h>
#include <math.h>
#include <string.h>

GST_DEBUG_CATEGORY_STATIC (gst_seg_overlay_debug);
#define GST_CAT_DEFAULT gst_seg_overlay_debug

#define DEFAULT_MODE GST_SEG_OVERLAY_MODE_TINT
#define DEFAULT_REFINE GST_SEG_OVERLAY_REFINE_NONE
#define DEFAULT_OPACITY 0.5
#define DEFAULT_COLOR 0xff00ff00
#define DEFAULT_OUTLINE_WIDTH 3
#define DEFAULT_BLUR_RADIUS 15
#define DEFAULT_BACKGROUND NULL
#define DEFAULT_BACKGROUND_COLOR 0xff00ff00

/* Guided filter regulariser, for luma and alpha scaled to [0, 1]: edges
 * with a luma step well above sqrt(eps) steer the mask. */
#define GUIDED_EPS 1e-2f

enum
{
  PROP_0,
  PROP_MODE,
  PROP_REFINE,
  PROP_OPACITY,
  PROP_COLOR,
  PROP_OUTLINE_WIDTH,
  PROP_BLUR_RADIUS,
  PROP_BACKGROUND,
  PROP_BACKGROUND_COLOR,
};

struct _GstSegOverlay
{
  GstVideoFilter parent;

  /* Properties, under the object lock. */
  GstSegOverlayMode mode;
  GstSegOverlayRefine refine;
  gdouble opacity;
  guint color;
  guint outline_width;
  guint blur_radius;
  gchar *background;
  guint background_color;

  /* Streaming thread; sized in set_info. */
  guint width, height;
  guint8 *alpha;                /* width * height */
  guint8 *luma;                 /* width * height */
  guint8 *rgb;                  /* width * height * 3, blur / background */
  guint8 *rgb_tmp;              /* width * height * 3 */
  gfloat *gf;                   /* 7 guided-filter planes */
  gfloat *line;                 /* 2 * width + 1 floats */
  guint32 *sums;                /* width * 3 */

  /* The decoded background image, RGB at its own size (start/stop). */
  guint8 *bg_image;
  guint bg_width, bg_height;
  gboolean bg_scaled;
};

#define RGB_FORMATS "{ RGB, BGR, RGBx, BGRx, xRGB, xBGR, RGBA, BGRA }"
#define MASK_IN_FORMATS \
  "{ RGB, BGR, RGBx, BGRx, xRGB, xBGR, RGBA, BGRA, NV12, I420, YUY2, GRAY8 }"
#define SRC_FORMATS \
  "{ RGB, BGR, RGBx, BGRx, xRGB, xBGR, RGBA, BGRA, GRAY8 }"

static GstStaticPadTemplate sink_template = GST_STATIC_PAD_TEMPLATE ("sink",
    GST_PAD_SINK, GST_PAD_ALWAYS,
    GST_STATIC_CAPS (GST_VIDEO_CAPS_MAKE (MASK_IN_FORMATS)));

static GstStaticPadTemplate src_template = GST_STATIC_PAD_TEMPLATE ("src",
    GST_PAD_SRC, GST_PAD_ALWAYS,
    GST_STATIC_CAPS (GST_VIDEO_CAPS_MAKE (SRC_FORMATS)));

/* Colours of classes 2.. of multi-class models (class 1 uses `color`). */
static const guint8 palette[][3] = {
  {0, 0, 0}, {0, 255, 0}, {255, 0, 0}, {0, 0, 255}, {255, 255, 0},
  {255, 0, 255}, {0, 255, 255}, {255, 128, 0}, {128, 0, 255},
  {0, 128, 255}, {255, 0, 128}, {128, 255, 0}, {0, 255, 128},
  {128, 64, 0}, {64, 0, 128}, {0, 128, 64}, {192, 192, 192},
};

#define gst_seg_overlay_parent_class parent_class
G_DEFINE_TYPE (GstSegOverlay, gst_seg_overlay, GST_TYPE_VIDEO_FILTER);
GST_ELEMENT_REGISTER_DEFINE (segoverlay, "segoverlay", GST_RANK_NONE,
    GST_TYPE_SEG_OVERLAY);

#define GST_TYPE_SEG_OVERLAY_MODE (gst_seg_overlay_mode_get_type ())
static GType
gst_seg_overlay_mode_get_type (void)
{
  static GType type = 0;
  static const GEnumValue values[] = {
    {GST_SEG_OVERLAY_MODE_TINT, "Tint each class with a colour", "tint"},
    {GST_SEG_OVERLAY_MODE_OUTLINE, "Draw the outline of the foreground",
        "outline"},
    {GST_SEG_OVERLAY_MODE_BLUR, "Blur the background", "blur"},
    {GST_SEG_OVERLAY_MODE_REPLACE,
        "Replace the background with an image or a colour", "replace"},
    {GST_SEG_OVERLAY_MODE_ALPHA, "RGBA output with the mask as alpha",
        "alpha"},
    {GST_SEG_OVERLAY_MODE_MASK, "GRAY8 output: the mask at frame size",
        "mask"},
    {0, NULL, NULL},
  };

  if (g_once_init_enter (&type)) {
    GType t = g_enum_register_static ("GstSegOverlayMode", values);
    g_once_init_leave (&type, t);
  }
  return type;
}

#define GST_TYPE_SEG_OVERLAY_REFINE (gst_seg_overlay_refine_get_type ())
static GType
gst_seg_overlay_refine_get_type (void)
{
  static GType type = 0;
  static const GEnumValue values[] = {
    {GST_SEG_OVERLAY_REFINE_NONE, "Bilinear upsampling only", "none"},
    {GST_SEG_OVERLAY_REFINE_GUIDED,
        "Guided filter on the frame's luma after upsampling", "guided"},
    {0, NULL, NULL},
  };

  if (g_once_init_enter (&type)) {
    GType t = g_enum_register_static ("GstSegOverlayRefine", values);
    g_once_init_leave (&type, t);
  }
  return type;
}

static gboolean
mode_in_place (GstSegOverlayMode mode)
{
  return mode != GST_SEG_OVERLAY_MODE_ALPHA
      && mode != GST_SEG_OVERLAY_MODE_MASK;
}

static GstSegOverlayMode
get_mode (GstSegOverlay *self)
{
  GstSegOverlayMode mode;

  GST_OBJECT_LOCK (self);
  mode = self->mode;
  GST_OBJECT_UNLOCK (self);
  return mode;
}

/* `caps` restricted to `allowed`, then every structure's format replaced by
 * the `to` list (colorimetry dropped: it belongs to the old format). */
static GstCaps *
map_formats (GstCaps *caps, const gchar *allowed, const gchar *to)
{
  GstCaps *allowed_caps = gst_caps_from_string (allowed);
  GstCaps *tmp = gst_caps_intersect (caps, allowed_caps);
  GstCaps *res;

  gst_caps_unref (allowed_caps);
  if (!to)
    return tmp;

  res = gst_caps_new_empty ();
  for (guint i = 0; i < gst_caps_get_size (tmp); i++) {
    GstStructure *s = gst_structure_copy (gst_caps_get_structure (tmp, i));
    GstCaps *to_caps = gst_caps_from_string (to);

    gst_structure_set_value (s, "format",
        gst_structure_get_value (gst_caps_get_structure (to_caps, 0),
            "format"));
    gst_structure_remove_fields (s, "colorimetry", "chroma-site", NULL);
    res = gst_caps_merge_structure (res, s);
    gst_caps_unref (to_caps);
  }
  gst_caps_unref (tmp);
  return res;
}

static GstCaps *
gst_seg_overlay_transform_caps (GstBaseTransform *trans,
    GstPadDirection direction, GstCaps *caps, GstCaps *filter)
{
  GstSegOverlay *self = GST_SEG_OVERLAY (trans);
  const gchar *rgb = GST_VIDEO_CAPS_MAKE (RGB_FORMATS);
  const gchar *mask_in = GST_VIDEO_CAPS_MAKE (MASK_IN_FORMATS);
  const gchar *rgba = GST_VIDEO_CAPS_MAKE ("RGBA");
  const gchar *gray = GST_VIDEO_CAPS_MAKE ("GRAY8");
  GstCaps *res;

  switch (get_mode (self)) {
    case GST_SEG_OVERLAY_MODE_ALPHA:
      res = direction == GST_PAD_SINK ? map_formats (caps, rgb, rgba)
          : map_formats (caps, rgba, rgb);
      break;
    case GST_SEG_OVERLAY_MODE_MASK:
      res = direction == GST_PAD_SINK ? map_formats (caps, mask_in, gray)
          : map_formats (caps, gray, mask_in);
      break;
    default:
      res = map_formats (caps, rgb, NULL);
      break;
  }
  if (filter) {
    GstCaps *tmp = gst_caps_intersect_full (filter, res,
        GST_CAPS_INTERSECT_FIRST);

    gst_caps_unref (res);
    res = tmp;
  }
  GST_DEBUG_OBJECT (self, "%s caps %" GST_PTR_FORMAT " -> %" GST_PTR_FORMAT,
      direction == GST_PAD_SINK ? "sink" : "src", caps, res);
  return res;
}

static void
free_scratch (GstSegOverlay *self)
{
  g_clear_pointer (&self->alpha, g_free);
  g_clear_pointer (&self->luma, g_free);
  g_clear_pointer (&self->rgb, g_free);
  g_clear_pointer (&self->rgb_tmp, g_free);
  g_clear_pointer (&self->gf, g_free);
  g_clear_pointer (&self->line, g_free);
  g_clear_pointer (&self->sums, g_free);
  self->width = self->height = 0;
  self->bg_scaled = FALSE;
}

/* Bilinear resize of a packed 3-byte image, half-pixel centres. */
static void
resize_rgb (const guint8 *src, guint sw, guint sh, guint8 *dst, guint dw,
    guint dh)
{
  for (guint y = 0; y < dh; y++) {
    gfloat fy = ((gfloat) y + 0.5f) * sh / dh - 0.5f;
    gint y0 = (gint) floorf (fy);
    gfloat wy = fy - y0;
    gint ya = CLAMP (y0, 0, (gint) sh - 1), yb = CLAMP (y0 + 1, 0,
        (gint) sh - 1);

    for (guint x = 0; x < dw; x++) {
      gfloat fx = ((gfloat) x + 0.5f) * sw / dw - 0.5f;
      gint x0 = (gint) floorf (fx);
      gfloat wx = fx - x0;
      gint xa = CLAMP (x0, 0, (gint) sw - 1), xb = CLAMP (x0 + 1, 0,
          (gint) sw - 1);

      for (guint c = 0; c < 3; c++) {
        gfloat top = src[((gsize) ya * sw + xa) * 3 + c] * (1 - wx)
            + src[((gsize) ya * sw + xb) * 3 + c] * wx;
        gfloat bot = src[((gsize) yb * sw + xa) * 3 + c] * (1 - wx)
            + src[((gsize) yb * sw + xb) * 3 + c] * wx;

        dst[((gsize) y * dw + x) * 3 + c] =
            (guint8) lrintf (top * (1 - wy) + bot * wy);
      }
    }
  }
}

static gboolean
gst_seg_overlay_set_info (GstVideoFilter *filter, GstCaps *incaps,
    GstVideoInfo *in_info, GstCaps *outcaps, GstVideoInfo *out_info)
{
  GstSegOverlay *self = GST_SEG_OVERLAY (filter);
  guint w = GST_VIDEO_INFO_WIDTH (in_info);
  guint h = GST_VIDEO_INFO_HEIGHT (in_info);
  gsize n = (gsize) w * h;

  gst_base_transform_set_in_place (GST_BASE_TRANSFORM (filter),
      mode_in_place (get_mode (self)));

  if (w != self->width || h != self->height) {
    free_scratch (self);
    self->width = w;
    self->height = h;
    self->alpha = g_malloc0 (n);
    self->luma = g_malloc0 (n);
    self->rgb = g_malloc0 (n * 3);
    self->rgb_tmp = g_malloc0 (n * 3);
    self->gf = g_new0 (gfloat, n * 7);
    self->line = g_new0 (gfloat, 2 * (gsize) w + 1);
    self->sums = g_new0 (guint32, (gsize) w * 3);
  }
  return TRUE;
}

/* Decodes the background image once, with GStreamer's own decoders, into
 * packed RGB at its native size. */
static gboolean
load_background (GstSegOverlay *self, const gchar *path, gchar **error)
{
  GstElement *pipeline = NULL, *src, *sink;
  GstSample *sample = NULL;
  GstVideoInfo info;
  GstVideoFrame frame;
  GError *err = NULL;
  GstStateChangeReturn sret;

  pipeline = gst_parse_launch ("filesrc name=src ! decodebin ! videoconvert "
      "! video/x-raw,format=RGB ! appsink name=sink sync=false", &err);
  if (!pipeline)
    goto parse_failed;
  src = gst_bin_get_by_name (GST_BIN (pipeline), "src");
  sink = gst_bin_get_by_name (GST_BIN (pipeline), "sink");
  g_object_set (src, "location", path, NULL);
  gst_object_unref (src);

  gst_element_set_state (pipeline, GST_STATE_PAUSED);
  sret = gst_element_get_state (pipeline, NULL, NULL, 10 * GST_SECOND);
  if (sret == GST_STATE_CHANGE_SUCCESS)
    sample = gst_app_sink_try_pull_preroll (GST_APP_SINK (sink), 0);
  gst_object_unref (sink);
  if (!sample)
    goto decode_failed;
  if (!gst_video_info_from_caps (&info, gst_sample_get_caps (sample))
      || !gst_video_frame_map (&frame, &info, gst_sample_get_buffer (sample),
          GST_MAP_READ))
    goto decode_failed;

  self->bg_width = GST_VIDEO_INFO_WIDTH (&info);
  self->bg_height = GST_VIDEO_INFO_HEIGHT (&info);
  self->bg_image = g_malloc ((gsize) self->bg_width * self->bg_height * 3);
  for (guint y = 0; y < self->bg_height; y++)
    memcpy (self->bg_image + (gsize) y * self->bg_width * 3,
        (const guint8 *) GST_VIDEO_FRAME_PLANE_DATA (&frame, 0)
        + (gsize) y * GST_VIDEO_FRAME_PLANE_STRIDE (&frame, 0),
        (gsize) self->bg_width * 3);
  gst_video_frame_unmap (&frame);
  gst_sample_unref (sample);
  gst_element_set_state (pipeline, GST_STATE_NULL);
  gst_object_unref (pipeline);
  return TRUE;

  /* ERRORS */
parse_failed:
  {
    *error = g_strdup_printf ("cannot build a decoder: %s",
        err ? err->message : "unknown error");
    g_clear_error (&err);
    return FALSE;
  }
decode_failed:
  {
    *error = g_strdup ("cannot decode it as an image");
    if (sample)
      gst_sample_unref (sample);
    gst_element_set_state (pipeline, GST_STATE_NULL);
    gst_object_unref (pipeline);
    return FALSE;
  }
}

static gboolean
gst_seg_overlay_start (GstBaseTransform *trans)
{
  GstSegOverlay *self = GST_SEG_OVERLAY (trans);
  gchar *path, *error = NULL;
  gboolean replace;

  GST_OBJECT_LOCK (self);
  path = g_strdup (self->background);
  replace = self->mode == GST_SEG_OVERLAY_MODE_REPLACE;
  GST_OBJECT_UNLOCK (self);

  if (replace && path && *path && !load_background (self, path, &error))
    goto background_failed;
  g_free (path);
  return TRUE;

  /* ERRORS */
background_failed:
  {
    GST_ELEMENT_ERROR (self, RESOURCE, OPEN_READ,
        ("Could not load the background image \"%s\": %s.", path, error),
        (NULL));
    g_free (error);
    g_free (path);
    return FALSE;
  }
}

static gboolean
gst_seg_overlay_stop (GstBaseTransform *trans)
{
  GstSegOverlay *self = GST_SEG_OVERLAY (trans);

  free_scratch (self);
  g_clear_pointer (&self->bg_image, g_free);
  return TRUE;
}

/* Luma (BT.601 weights, full range) of any accepted input format. */
static void
compute_luma (GstSegOverlay *self, const GstVideoFrame *vf)
{
  const GstVideoFormatInfo *fi = vf->info.finfo;
  guint w = self->width, h = self->height;

  if (GST_VIDEO_FORMAT_INFO_IS_RGB (fi)) {
    guint ps = GST_VIDEO_FRAME_COMP_PSTRIDE (vf, 0);
    guint r = GST_VIDEO_FRAME_COMP_POFFSET (vf, 0);
    guint g = GST_VIDEO_FRAME_COMP_POFFSET (vf, 1);
    guint b = GST_VIDEO_FRAME_COMP_POFFSET (vf, 2);

    for (guint y = 0; y < h; y++) {
      const guint8 *row = (const guint8 *) GST_VIDEO_FRAME_PLANE_DATA (vf, 0)
          + (gsize) y * GST_VIDEO_FRAME_PLANE_STRIDE (vf, 0);

      for (guint x = 0; x < w; x++) {
        const guint8 *p = row + (gsize) x * ps;

        self->luma[(gsize) y * w + x] =
            (guint8) ((77 * p[r] + 150 * p[g] + 29 * p[b] + 128) >> 8);
      }
    }
  } else {
    guint ps = GST_VIDEO_FRAME_COMP_PSTRIDE (vf, 0);

    for (guint y = 0; y < h; y++) {
      const guint8 *row = (const guint8 *) GST_VIDEO_FRAME_COMP_DATA (vf, 0)
          + (gsize) y * GST_VIDEO_FRAME_COMP_STRIDE (vf, 0);

      for (guint x = 0; x < w; x++)
        self->luma[(gsize) y * w + x] = row[(gsize) x * ps];
    }
  }
}

/* Mean over a (2r+1)^2 window clipped to the image, normalised by the
 * number of pixels inside it: vertical running sums of rows, then prefix
 * sums along the row. `acc` holds w floats, `pre` w + 1. */
static void
box_mean (const gfloat *src, gfloat *dst, guint w, guint h, guint r,
    gfloat *acc, gfloat *pre)
{
  memset (acc, 0, w * sizeof *acc);
  for (guint y = 0; y < MIN (r, h); y++)
    for (guint x = 0; x < w; x++)
      acc[x] += src[(gsize) y * w + x];
  for (guint y = 0; y < h; y++) {
    guint y0 = y > r ? y - r : 0, y1 = MIN (y + r, h - 1);
    gfloat *out = dst + (gsize) y * w;
    gfloat rows = (gfloat) (y1 - y0 + 1);

    if (y + r < h)
      for (guint x = 0; x < w; x++)
        acc[x] += src[(gsize) (y + r) * w + x];
    if (y > r)
      for (guint x = 0; x < w; x++)
        acc[x] -= src[(gsize) (y - r - 1) * w + x];

    pre[0] = 0.0f;
    for (guint x = 0; x < w; x++)
      pre[x + 1] = pre[x] + acc[x];
    for (guint x = 0; x < w; x++) {
      guint x0 = x > r ? x - r : 0, x1 = MIN (x + r, w - 1);

      out[x] = (pre[x1 + 1] - pre[x0]) / ((gfloat) (x1 - x0 + 1) * rows);
    }
  }
}

/* He, Sun and Tang's guided filter with the luma as guide: locally the
 * output is a linear function of the luma fitted to the upsampled mask,
 * so where the frame has an edge near the mask's soft ramp the ramp
 * collapses onto it, and where it has none the mask stays as it was. */
static void
guided_refine (GstSegOverlay *self, guint r)
{
  guint w = self->width, h = self->height;
  gsize n = (gsize) w * h;
  gfloat *I = self->gf, *p = I + n, *mI = p + n, *mp = mI + n;
  gfloat *mIp = mp + n, *mII = mIp + n, *t = mII + n;
  gfloat *acc = self->line, *pre = self->line + w;

  for (gsize i = 0; i < n; i++) {
    I[i] = self->luma[i] * (1.0f / 255.0f);
    p[i] = self->alpha[i] * (1.0f / 255.0f);
  }
  box_mean (I, mI, w, h, r, acc, pre);
  box_mean (p, mp, w, h, r, acc, pre);
  for (gsize i = 0; i < n; i++)
    t[i] = I[i] * p[i];
  box_mean (t, mIp, w, h, r, acc, pre);
  for (gsize i = 0; i < n; i++)
    t[i] = I[i] * I[i];
  box_mean (t, mII, w, h, r, acc, pre);
  /* a into mIp, b into mp. */
  for (gsize i = 0; i < n; i++) {
    gfloat var = mII[i] - mI[i] * mI[i];
    gfloat cov = mIp[i] - mI[i] * mp[i];
    gfloat a = cov / (var + GUIDED_EPS);

    mIp[i] = a;
    mp[i] = mp[i] - a * mI[i];
  }
  box_mean (mIp, mII, w, h, r, acc, pre);
  box_mean (mp, mI, w, h, r, acc, pre);
  for (gsize i = 0; i < n; i++) {
    gfloat q = mII[i] * I[i] + mI[i];

    self->alpha[i] = (guint8) lrintf (CLAMP (q, 0.0f, 1.0f) * 255.0f);
  }
}

/* Fills self->alpha from the meta (0 without one). Returns FALSE when the
 * buffer has no usable mask. */
static gboolean
build_alpha (GstSegOverlay *self, GstBuffer *buf, const GstVideoFrame *vf,
    GstSegOverlayRefine refine)
{
  GstSegMeta *meta = gst_buffer_get_seg_meta (buf);
  guint w = self->width, h = self->height;
  const guint8 *plane;
  gboolean binary;
  guint mw, mh;

  if (!meta || !(meta->probability || meta->classes) || meta->width == 0
      || meta->height == 0) {
    memset (self->alpha, 0, (gsize) w * h);
    return FALSE;
  }
  mw = meta->width;
  mh = meta->height;
  binary = meta->probability == NULL;
  plane = binary ? meta->classes : meta->probability;

  for (guint y = 0; y < h; y++) {
    gfloat fy = ((gfloat) y + 0.5f) * mh / h - 0.5f;
    gint y0 = (gint) floorf (fy);
    gfloat wy = fy - y0;
    const guint8 *ra = plane + (gsize) CLAMP (y0, 0, (gint) mh - 1)
        * meta->stride;
    const guint8 *rb = plane + (gsize) CLAMP (y0 + 1, 0, (gint) mh - 1)
        * meta->stride;

    for (guint x = 0; x < w; x++) {
      gfloat fx = ((gfloat) x + 0.5f) * mw / w - 0.5f;
      gint x0 = (gint) floorf (fx);
      gfloat wx = fx - x0;
      gint xa = CLAMP (x0, 0, (gint) mw - 1);
      gint xb = CLAMP (x0 + 1, 0, (gint) mw - 1);
      gfloat a = ra[xa], b = ra[xb], c = rb[xa], d = rb[xb];
      gfloat v;

      if (binary) {
        a = a ? 255.0f : 0.0f;
        b = b ? 255.0f : 0.0f;
        c = c ? 255.0f : 0.0f;
        d = d ? 255.0f : 0.0f;
      }
      v = (a * (1 - wx) + b * wx) * (1 - wy) + (c * (1 - wx) + d * wx) * wy;
      self->alpha[(gsize) y * w + x] = (guint8) lrintf (v);
    }
  }

  if (refine == GST_SEG_OVERLAY_REFINE_GUIDED) {
    /* Window about twice the upsampling factor: wide enough to span the
     * bilinear ramp between two mask pixels. */
    guint scale = MAX ((w + mw - 1) / mw, (h + mh - 1) / mh);
    guint r = CLAMP (scale, 2, 32);

    compute_luma (self, vf);
    guided_refine (self, r);
  }
  return TRUE;
}

/* Class index of the frame pixel (x, y), nearest mask pixel. */
static guint
class_at (const GstSegMeta *meta, guint x, guint y, guint w, guint h)
{
  guint mx = MIN ((guint) (((guint64) x * meta->width) / w),
      meta->width - 1);
  guint my = MIN ((guint) (((guint64) y * meta->height) / h),
      meta->height - 1);

  return meta->classes[(gsize) my * meta->stride + mx];
}

static void
colour_of_class (guint cls, guint color, guint8 rgb[3])
{
  if (cls == 1 || cls >= G_N_ELEMENTS (palette)) {
    rgb[0] = (color >> 16) & 0xff;
    rgb[1] = (color >> 8) & 0xff;
    rgb[2] = color & 0xff;
  } else {
    memcpy (rgb, palette[cls], 3);
  }
}

static inline guint8
blend (guint fg, guint bg, guint a)
{
  return (guint8) ((fg * a + bg * (255 - a) + 127) / 255);
}

static void
render_tint (GstSegOverlay *self, GstVideoFrame *vf, GstSegMeta *meta,
    gdouble opacity, guint color)
{
  guint w = self->width, h = self->height;
  guint ps = GST_VIDEO_FRAME_COMP_PSTRIDE (vf, 0);
  guint off[3];
  guint strength = (guint) lrint (CLAMP (opacity, 0.0, 1.0) * 256.0);

  for (guint c = 0; c < 3; c++)
    off[c] = GST_VIDEO_FRAME_COMP_POFFSET (vf, c);
  for (guint y = 0; y < h; y++) {
    guint8 *row = (guint8 *) GST_VIDEO_FRAME_PLANE_DATA (vf, 0)
        + (gsize) y * GST_VIDEO_FRAME_PLANE_STRIDE (vf, 0);

    for (guint x = 0; x < w; x++) {
      guint a = (self->alpha[(gsize) y * w + x] * strength) >> 8;
      guint cls = meta->classes ? class_at (meta, x, y, w, h) : 1;
      guint8 *px = row + (gsize) x * ps;
      guint8 rgb[3];

      if (a == 0)
        continue;
      /* A soft edge of a multi-class map still gets a foreground colour. */
      colour_of_class (cls ? cls : 1, color, rgb);
      for (guint c = 0; c < 3; c++)
        px[off[c]] = blend (rgb[c], px[off[c]], a);
    }
  }
}

static void
render_outline (GstSegOverlay *self, GstVideoFrame *vf, guint width,
    guint color)
{
  guint w = self->width, h = self->height;
  guint ps = GST_VIDEO_FRAME_COMP_PSTRIDE (vf, 0);
  guint8 rgb[3] = { (color >> 16) & 0xff, (color >> 8) & 0xff, color & 0xff };
  const guint8 *a = self->alpha;

  for (guint y = 0; y < h; y++) {
    guint8 *row = (guint8 *) GST_VIDEO_FRAME_PLANE_DATA (vf, 0)
        + (gsize) y * GST_VIDEO_FRAME_PLANE_STRIDE (vf, 0);

    for (guint x = 0; x < w; x++) {
      gboolean edge = FALSE;

      if (a[(gsize) y * w + x] < 128)
        continue;
      /* Inside pixels within `width` of an outside one (or of the frame
       * border, which is not an edge of the mask) form the outline. */
      for (guint k = 1; k <= width && !edge; k++)
        edge = (x >= k && a[(gsize) y * w + x - k] < 128)
            || (x + k < w && a[(gsize) y * w + x + k] < 128)
            || (y >= k && a[(gsize) (y - k) * w + x] < 128)
            || (y + k < h && a[(gsize) (y + k) * w + x] < 128);
      if (!edge)
        continue;
      for (guint c = 0; c < 3; c++)
        row[(gsize) x * ps + GST_VIDEO_FRAME_COMP_POFFSET (vf, c)] = rgb[c];
    }
  }
}

/* One horizontal then one vertical box pass of radius r, packed 3-byte
 * pixels, edges clamped. */
static void
box_blur_rgb (GstSegOverlay *self, const guint8 *src, guint8 *dst, guint r)
{
  guint w = self->width, h = self->height;
  guint8 *tmp = self->rgb_tmp;
  guint32 *sums = self->sums;
  guint n = 2 * r + 1;

  for (guint y = 0; y < h; y++) {
    const guint8 *s = src + (gsize) y * w * 3;
    guint8 *d = tmp + (gsize) y * w * 3;

    for (guint c = 0; c < 3; c++) {
      guint32 sum = 0;

      for (gint k = -(gint) r; k <= (gint) r; k++)
        sum += s[CLAMP (k, 0, (gint) w - 1) * 3 + c];
      for (guint x = 0; x < w; x++) {
        gint add = MIN ((gint) (x + r + 1), (gint) w - 1);
        gint sub = MAX ((gint) x - (gint) r, 0);

        d[x * 3 + c] = (guint8) ((sum + n / 2) / n);
        sum += s[add * 3 + c];
        sum -= s[sub * 3 + c];
      }
    }
  }
  /* Vertical: running column sums over whole rows, cache friendly. */
  memset (sums, 0, (gsize) w * 3 * sizeof *sums);
  for (gint k = -(gint) r; k <= (gint) r; k++) {
    const guint8 *s = tmp + (gsize) CLAMP (k, 0, (gint) h - 1) * w * 3;

    for (guint i = 0; i < w * 3; i++)
      sums[i] += s[i];
  }
  for (guint y = 0; y < h; y++) {
    const guint8 *add = tmp + (gsize) MIN (y + r + 1, h - 1) * w * 3;
    const guint8 *sub = tmp + (gsize) MAX ((gint) y - (gint) r, 0) * w * 3;
    guint8 *d = dst + (gsize) y * w * 3;

    for (guint i = 0; i < w * 3; i++) {
      d[i] = (guint8) ((sums[i] + n / 2) / n);
      sums[i] += add[i];
      sums[i] -= sub[i];
    }
  }
}

/* Blends the frame (foreground) over self->rgb (background) by alpha. */
static void
composite_over (GstSegOverlay *self, GstVideoFrame *vf)
{
  guint w = self->width, h = self->height;
  guint ps = GST_VIDEO_FRAME_COMP_PSTRIDE (vf, 0);
  guint off[3];

  for (guint c = 0; c < 3; c++)
    off[c] = GST_VIDEO_FRAME_COMP_POFFSET (vf, c);
  for (guint y = 0; y < h; y++) {
    guint8 *row = (guint8 *) GST_VIDEO_FRAME_PLANE_DATA (vf, 0)
        + (gsize) y * GST_VIDEO_FRAME_PLANE_STRIDE (vf, 0);
    const guint8 *bg = self->rgb + (gsize) y * w * 3;

    for (guint x = 0; x < w; x++) {
      guint a = self->alpha[(gsize) y * w + x];
      guint8 *px = row + (gsize) x * ps;

      for (guint c = 0; c < 3; c++)
        px[off[c]] = blend (px[off[c]], bg[x * 3 + c], a);
    }
  }
}

static void
frame_to_rgb (GstSegOverlay *self, const GstVideoFrame *vf, guint8 *dst)
{
  guint w = self->width, h = self->height;
  guint ps = GST_VIDEO_FRAME_COMP_PSTRIDE (vf, 0);
  guint off[3];

  for (guint c = 0; c < 3; c++)
    off[c] = GST_VIDEO_FRAME_COMP_POFFSET (vf, c);
  for (guint y = 0; y < h; y++) {
    const guint8 *row = (const guint8 *) GST_VIDEO_FRAME_PLANE_DATA (vf, 0)
        + (gsize) y * GST_VIDEO_FRAME_PLANE_STRIDE (vf, 0);

    for (guint x = 0; x < w; x++)
      for (guint c = 0; c < 3; c++)
        dst[((gsize) y * w + x) * 3 + c] = row[(gsize) x * ps + off[c]];
  }
}

static void
fill_background (GstSegOverlay *self, guint color)
{
  gsize n = (gsize) self->width * self->height;

  if (self->bg_image) {
    if (!self->bg_scaled)
      resize_rgb (self->bg_image, self->bg_width, self->bg_height, self->rgb,
          self->width, self->height);
    self->bg_scaled = TRUE;
    return;
  }
  for (gsize i = 0; i < n; i++) {
    self->rgb[i * 3] = (color >> 16) & 0xff;
    self->rgb[i * 3 + 1] = (color >> 8) & 0xff;
    self->rgb[i * 3 + 2] = color & 0xff;
  }
}

static GstFlowReturn
gst_seg_overlay_transform_frame_ip (GstVideoFilter *filter,
    GstVideoFrame *frame)
{
  GstSegOverlay *self = GST_SEG_OVERLAY (filter);
  GstSegOverlayMode mode;
  GstSegOverlayRefine refine;
  gdouble opacity;
  guint color, outline_width, blur_radius, background_color;
  gboolean have;

  GST_OBJECT_LOCK (self);
  mode = self->mode;
  refine = self->refine;
  opacity = self->opacity;
  color = self->color;
  outline_width = self->outline_width;
  blur_radius = self->blur_radius;
  background_color = self->background_color;
  GST_OBJECT_UNLOCK (self);

  have = build_alpha (self, frame->buffer, frame, refine);
  switch (mode) {
    case GST_SEG_OVERLAY_MODE_TINT:
      if (have)
        render_tint (self, frame, gst_buffer_get_seg_meta (frame->buffer),
            opacity, color);
      break;
    case GST_SEG_OVERLAY_MODE_OUTLINE:
      if (have)
        render_outline (self, frame, outline_width, color);
      break;
    case GST_SEG_OVERLAY_MODE_BLUR:
      frame_to_rgb (self, frame, self->rgb);
      /* Two box passes: close to a Gaussian, no blocky box artefacts. */
      box_blur_rgb (self, self->rgb, self->rgb, blur_radius);
      box_blur_rgb (self, self->rgb, self->rgb, blur_radius);
      composite_over (self, frame);
      break;
    case GST_SEG_OVERLAY_MODE_REPLACE:
      fill_background (self, background_color);
      composite_over (self, frame);
      break;
    default:
      /* The caps of alpha and mask modes never reach here. */
      break;
  }
  return GST_FLOW_OK;
}

static GstFlowReturn
gst_seg_overlay_transform_frame (GstVideoFilter *filter,
    GstVideoFrame *in, GstVideoFrame *out)
{
  GstSegOverlay *self = GST_SEG_OVERLAY (filter);
  guint w = self->width, h = self->height;
  GstSegOverlayRefine refine;

  GST_OBJECT_LOCK (self);
  refine = self->refine;
  GST_OBJECT_UNLOCK (self);

  build_alpha (self, in->buffer, in, refine);

  if (GST_VIDEO_FRAME_FORMAT (out) == GST_VIDEO_FORMAT_GRAY8) {
    for (guint y = 0; y < h; y++)
      memcpy ((guint8 *) GST_VIDEO_FRAME_PLANE_DATA (out, 0)
          + (gsize) y * GST_VIDEO_FRAME_PLANE_STRIDE (out, 0),
          self->alpha + (gsize) y * w, w);
  } else if (GST_VIDEO_FRAME_FORMAT (out) == GST_VIDEO_FORMAT_RGBA) {
    guint ps = GST_VIDEO_FRAME_COMP_PSTRIDE (in, 0);
    guint off[3];

    for (guint c = 0; c < 3; c++)
      off[c] = GST_VIDEO_FRAME_COMP_POFFSET (in, c);
    for (guint y = 0; y < h; y++) {
      const guint8 *src = (const guint8 *) GST_VIDEO_FRAME_PLANE_DATA (in, 0)
          + (gsize) y * GST_VIDEO_FRAME_PLANE_STRIDE (in, 0);
      guint8 *dst = (guint8 *) GST_VIDEO_FRAME_PLANE_DATA (out, 0)
          + (gsize) y * GST_VIDEO_FRAME_PLANE_STRIDE (out, 0);

      for (guint x = 0; x < w; x++) {
        const guint8 *p = src + (gsize) x * ps;

        dst[x * 4] = p[off[0]];
        dst[x * 4 + 1] = p[off[1]];
        dst[x * 4 + 2] = p[off[2]];
        dst[x * 4 + 3] = self->alpha[(gsize) y * w + x];
      }
    }
  } else {
    goto bad_format;
  }
  return GST_FLOW_OK;

  /* ERRORS */
bad_format:
  {
    GST_ELEMENT_ERROR (self, CORE, NEGOTIATION,
        ("Output format %s does not fit the overlay mode.",
            gst_video_format_to_string (GST_VIDEO_FRAME_FORMAT (out))),
        (NULL));
    return GST_FLOW_NOT_NEGOTIATED;
  }
}

static void
gst_seg_overlay_set_property (GObject *object, guint prop_id,
    const GValue *value, GParamSpec *pspec)
{
  GstSegOverlay *self = GST_SEG_OVERLAY (object);

  GST_OBJECT_LOCK (self);
  switch (prop_id) {
    case PROP_MODE:{
      GstSegOverlayMode mode = g_value_get_enum (value);
      gboolean renegotiate = mode_in_place (mode) != mode_in_place (self->mode)
          || mode == GST_SEG_OVERLAY_MODE_ALPHA
          || mode == GST_SEG_OVERLAY_MODE_MASK;

      self->mode = mode;
      GST_OBJECT_UNLOCK (self);
      if (renegotiate)
        gst_base_transform_reconfigure_src (GST_BASE_TRANSFORM (self));
      return;
    }
    case PROP_REFINE:
      self->refine = g_value_get_enum (value);
      break;
    case PROP_OPACITY:
      self->opacity = g_value_get_double (value);
      break;
    case PROP_COLOR:
      self->color = g_value_get_uint (value);
      break;
    case PROP_OUTLINE_WIDTH:
      self->outline_width = g_value_get_uint (value);
      break;
    case PROP_BLUR_RADIUS:
      self->blur_radius = g_value_get_uint (value);
      break;
    case PROP_BACKGROUND:
      g_free (self->background);
      self->background = g_value_dup_string (value);
      break;
    case PROP_BACKGROUND_COLOR:
      self->background_color = g_value_get_uint (value);
      self->bg_scaled = FALSE;
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);
}

static void
gst_seg_overlay_get_property (GObject *object, guint prop_id, GValue *value,
    GParamSpec *pspec)
{
  GstSegOverlay *self = GST_SEG_OVERLAY (object);

  GST_OBJECT_LOCK (self);
  switch (prop_id) {
    case PROP_MODE:
      g_value_set_enum (value, self->mode);
      break;
    case PROP_REFINE:
      g_value_set_enum (value, self->refine);
      break;
    case PROP_OPACITY:
      g_value_set_double (value, self->opacity);
      break;
    case PROP_COLOR:
      g_value_set_uint (value, self->color);
      break;
    case PROP_OUTLINE_WIDTH:
      g_value_set_uint (value, self->outline_width);
      break;
    case PROP_BLUR_RADIUS:
      g_value_set_uint (value, self->blur_radius);
      break;
    case PROP_BACKGROUND:
      g_value_set_string (value, self->background);
      break;
    case PROP_BACKGROUND_COLOR:
      g_value_set_uint (value, self->background_color);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);
}

static void
gst_seg_overlay_finalize (GObject *object)
{
  GstSegOverlay *self = GST_SEG_OVERLAY (object);

  free_scratch (self);
  g_free (self->bg_image);
  g_free (self->background);
  G_OBJECT_CLASS (parent_class)->finalize (object);
}

static void
gst_seg_overlay_class_init (GstSegOverlayClass *klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);
  GstBaseTransformClass *trans_class = GST_BASE_TRANSFORM_CLASS (klass);
  GstVideoFilterClass *filter_class = GST_VIDEO_FILTER_CLASS (klass);
  const GParamFlags rw = G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS
      | GST_PARAM_MUTABLE_PLAYING;

  GST_DEBUG_CATEGORY_INIT (gst_seg_overlay_debug, "segoverlay", 0,
      "segmentation mask renderer");

  gobject_class->set_property = gst_seg_overlay_set_property;
  gobject_class->get_property = gst_seg_overlay_get_property;
  gobject_class->finalize = gst_seg_overlay_finalize;

  g_object_class_install_property (gobject_class, PROP_MODE,
      g_param_spec_enum ("mode", "Mode",
          "How to render the mask: tint, outline, blur (the background), "
          "replace (the background), alpha (RGBA out) or mask (GRAY8 out)",
          GST_TYPE_SEG_OVERLAY_MODE, DEFAULT_MODE, rw));
  g_object_class_install_property (gobject_class, PROP_REFINE,
      g_param_spec_enum ("refine", "Edge refinement",
          "How the mask is upsampled to the frame: plain bilinear, or "
          "refined by a guided filter on the frame's luma (sharper edges, "
          "fewer halos)", GST_TYPE_SEG_OVERLAY_REFINE, DEFAULT_REFINE, rw));
  g_object_class_install_property (gobject_class, PROP_OPACITY,
      g_param_spec_double ("opacity", "Opacity",
          "Strength of the tint (mode=tint)", 0.0, 1.0, DEFAULT_OPACITY, rw));
  g_object_class_install_property (gobject_class, PROP_COLOR,
      g_param_spec_uint ("color", "Colour",
          "Tint colour of the foreground class and outline colour, as "
          "0xAARRGGBB (alpha ignored)", 0, G_MAXUINT32, DEFAULT_COLOR, rw));
  g_object_class_install_property (gobject_class, PROP_OUTLINE_WIDTH,
      g_param_spec_uint ("outline-width", "Outline width",
          "Width of the outline in pixels (mode=outline)", 1, 64,
          DEFAULT_OUTLINE_WIDTH, rw));
  g_object_class_install_property (gobject_class, PROP_BLUR_RADIUS,
      g_param_spec_uint ("blur-radius", "Blur radius",
          "Radius in pixels of the background blur (mode=blur)", 1, 200,
          DEFAULT_BLUR_RADIUS, rw));
  g_object_class_install_property (gobject_class, PROP_BACKGROUND,
      g_param_spec_string ("background", "Background image",
          "Image file (any format GStreamer decodes) to put behind the "
          "foreground, stretched to the frame (mode=replace; read at start)",
          DEFAULT_BACKGROUND, G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS
          | GST_PARAM_MUTABLE_READY));
  g_object_class_install_property (gobject_class, PROP_BACKGROUND_COLOR,
      g_param_spec_uint ("background-color", "Background colour",
          "Background colour as 0xAARRGGBB when no background image is set "
          "(mode=replace)", 0, G_MAXUINT32, DEFAULT_BACKGROUND_COLOR, rw));

  gst_element_class_set_static_metadata (element_class,
      "Segmentation overlay", "Filter/Effect/Video",
      "Renders the segmentation mask (GstSegMeta) attached by segmenter: "
      "tint, outline, background blur or replacement, RGBA with the mask "
      "as alpha, or the mask itself as GRAY8", "segd developers");
  gst_element_class_add_static_pad_template (element_class, &sink_template);
  gst_element_class_add_static_pad_template (element_class, &src_template);

  trans_class->transform_caps =
      GST_DEBUG_FUNCPTR (gst_seg_overlay_transform_caps);
  trans_class->start = GST_DEBUG_FUNCPTR (gst_seg_overlay_start);
  trans_class->stop = GST_DEBUG_FUNCPTR (gst_seg_overlay_stop);
  filter_class->set_info = GST_DEBUG_FUNCPTR (gst_seg_overlay_set_info);
  filter_class->transform_frame =
      GST_DEBUG_FUNCPTR (gst_seg_overlay_transform_frame);
  filter_class->transform_frame_ip =
      GST_DEBUG_FUNCPTR (gst_seg_overlay_transform_frame_ip);

  gst_type_mark_as_plugin_api (GST_TYPE_SEG_OVERLAY_MODE, 0);
  gst_type_mark_as_plugin_api (GST_TYPE_SEG_OVERLAY_REFINE, 0);
}

static void
gst_seg_overlay_init (GstSegOverlay *self)
{
  self->mode = DEFAULT_MODE;
  self->refine = DEFAULT_REFINE;
  self->opacity = DEFAULT_OPACITY;
  self->color = DEFAULT_COLOR;
  self->outline_width = DEFAULT_OUTLINE_WIDTH;
  self->blur_radius = DEFAULT_BLUR_RADIUS;
  self->background = g_strdup (DEFAULT_BACKGROUND);
  self->background_color = DEFAULT_BACKGROUND_COLOR;
}
