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
#include "segoverlay-pixels.h"

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
  guint8 *alpha;   /* width * height */
  guint8 *luma;    /* width * height */
  guint8 *rgb;     /* width * height * 3, blur / background */
  guint8 *rgb_tmp; /* width * height * 3 */
  gfloat *gf;      /* 7 guided-filter planes */
  gfloat *line;    /* 2 * width + 1 floats */
  guint32 *sums;   /* width * 3 */

  /* The decoded background image, RGB at its own size (start/stop). */
  guint8 *bg_image;
  guint bg_width, bg_height;
  gboolean bg_scaled;
};

#define RGB_FORMATS "{ RGB, BGR, RGBx, BGRx, xRGB, xBGR, RGBA, BGRA }"
#define MASK_IN_FORMATS \
  "{ RGB, BGR, RGBx, BGRx, xRGB, xBGR, RGBA, BGRA, NV12, I420, YUY2, GRAY8 }"
#define SRC_FORMATS "{ RGB, BGR, RGBx, BGRx, xRGB, xBGR, RGBA, BGRA, GRAY8 }"

static GstStaticPadTemplate sink_template =
    GST_STATIC_PAD_TEMPLATE ("sink", GST_PAD_SINK, GST_PAD_ALWAYS,
        GST_STATIC_CAPS (GST_VIDEO_CAPS_MAKE (MASK_IN_FORMATS)));

static GstStaticPadTemplate src_template =
    GST_STATIC_PAD_TEMPLATE ("src", GST_PAD_SRC, GST_PAD_ALWAYS,
        GST_STATIC_CAPS (GST_VIDEO_CAPS_MAKE (SRC_FORMATS)));

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
    GstCaps *tmp =
        gst_caps_intersect_full (filter, res, GST_CAPS_INTERSECT_FIRST);

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
                               "! video/x-raw,format=RGB ! appsink name=sink "
                               "sync=false",
      &err);
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
parse_failed : {
  *error = g_strdup_printf ("cannot build a decoder: %s",
      err ? err->message : "unknown error");
  g_clear_error (&err);
  return FALSE;
}
decode_failed : {
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
background_failed : {
  GST_ELEMENT_ERROR (self, RESOURCE, OPEN_READ,
      ("Could not load the background image \"%s\": %s.", path, error), (NULL));
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

/* Plane 0 of an RGB-family frame, in the pixel module's terms. */
static SegPackedImage
packed_of (const GstVideoFrame *vf)
{
  SegPackedImage img = {
      .data = (guint8 *) GST_VIDEO_FRAME_PLANE_DATA (vf, 0),
      .stride = GST_VIDEO_FRAME_PLANE_STRIDE (vf, 0),
      .pstride = GST_VIDEO_FRAME_COMP_PSTRIDE (vf, 0),
      .width = GST_VIDEO_FRAME_WIDTH (vf),
      .height = GST_VIDEO_FRAME_HEIGHT (vf),
  };

  for (guint c = 0; c < 3; c++)
    img.off[c] = GST_VIDEO_FRAME_COMP_POFFSET (vf, c);
  return img;
}

/* What carries the luma: the RGB pixels, or the Y component of a YUV or
 * GRAY8 frame as a one-byte "image" (all offsets 0). */
static SegPackedImage
luma_of (const GstVideoFrame *vf)
{
  SegPackedImage img;

  if (GST_VIDEO_FORMAT_INFO_IS_RGB (vf->info.finfo))
    return packed_of (vf);
  img = (SegPackedImage){
      .data = (guint8 *) GST_VIDEO_FRAME_COMP_DATA (vf, 0),
      .stride = GST_VIDEO_FRAME_COMP_STRIDE (vf, 0),
      .pstride = GST_VIDEO_FRAME_COMP_PSTRIDE (vf, 0),
      .width = GST_VIDEO_FRAME_WIDTH (vf),
      .height = GST_VIDEO_FRAME_HEIGHT (vf),
  };
  return img;
}

static SegMaskPlane
mask_plane (const GstSegMeta *meta, const guint8 *data)
{
  SegMaskPlane m = {data, meta->stride, meta->width, meta->height};

  return m;
}

/* Fills self->alpha from the meta (0 without one). Returns FALSE when the
 * buffer has no usable mask. */
static gboolean
build_alpha (GstSegOverlay *self, GstBuffer *buf, const GstVideoFrame *vf,
    GstSegOverlayRefine refine)
{
  GstSegMeta *meta = gst_buffer_get_seg_meta (buf);
  guint w = self->width, h = self->height;
  SegMaskPlane mask;

  if (!meta || !(meta->probability || meta->classes) || meta->width == 0
      || meta->height == 0) {
    memset (self->alpha, 0, (gsize) w * h);
    return FALSE;
  }
  mask =
      mask_plane (meta, meta->probability ? meta->probability : meta->classes);
  seg_overlay_upsample (&mask, meta->probability == NULL, self->alpha, w, h);

  if (refine == GST_SEG_OVERLAY_REFINE_GUIDED) {
    /* Window about twice the upsampling factor: wide enough to span the
     * bilinear ramp between two mask pixels. */
    guint scale = MAX ((w + mask.width - 1) / mask.width,
        (h + mask.height - 1) / mask.height);
    guint r = CLAMP (scale, 2, 32);
    SegPackedImage luma = luma_of (vf);

    seg_overlay_luma (&luma, self->luma);
    seg_overlay_guided_refine (self->alpha, self->luma, w, h, r, self->gf,
        self->line);
  }
  return TRUE;
}

static void
fill_background (GstSegOverlay *self, guint color)
{
  if (self->bg_image) {
    if (!self->bg_scaled)
      seg_overlay_resize_rgb (self->bg_image, self->bg_width, self->bg_height,
          self->rgb, self->width, self->height);
    self->bg_scaled = TRUE;
    return;
  }
  seg_overlay_fill_rgb (self->rgb, (gsize) self->width * self->height, color);
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
  SegPackedImage img;
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
  img = packed_of (frame);
  switch (mode) {
    case GST_SEG_OVERLAY_MODE_TINT:
      if (have) {
        GstSegMeta *meta = gst_buffer_get_seg_meta (frame->buffer);
        SegMaskPlane classes = mask_plane (meta, meta->classes);
        guint strength = (guint) lrint (CLAMP (opacity, 0.0, 1.0) * 256.0);

        seg_overlay_tint (&img, self->alpha, meta->classes ? &classes : NULL,
            strength, color);
      }
      break;
    case GST_SEG_OVERLAY_MODE_OUTLINE:
      if (have)
        seg_overlay_outline (&img, self->alpha, outline_width, color);
      break;
    case GST_SEG_OVERLAY_MODE_BLUR:
      seg_overlay_to_rgb (&img, self->rgb);
      /* Two box passes: close to a Gaussian, no blocky box artefacts. */
      for (guint pass = 0; pass < 2; pass++)
        seg_overlay_box_blur_rgb (self->rgb, self->rgb, self->width,
            self->height, blur_radius, self->rgb_tmp, self->sums);
      seg_overlay_composite (&img, self->alpha, self->rgb);
      break;
    case GST_SEG_OVERLAY_MODE_REPLACE:
      fill_background (self, background_color);
      seg_overlay_composite (&img, self->alpha, self->rgb);
      break;
    default:
      /* The caps of alpha and mask modes never reach here. */
      break;
  }
  return GST_FLOW_OK;
}

static GstFlowReturn
gst_seg_overlay_transform_frame (GstVideoFilter *filter, GstVideoFrame *in,
    GstVideoFrame *out)
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
    SegPackedImage img = packed_of (in);

    seg_overlay_to_rgba (&img, self->alpha,
        (guint8 *) GST_VIDEO_FRAME_PLANE_DATA (out, 0),
        GST_VIDEO_FRAME_PLANE_STRIDE (out, 0));
  } else {
    goto bad_format;
  }
  return GST_FLOW_OK;

  /* ERRORS */
bad_format : {
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
    case PROP_MODE: {
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
  const GParamFlags rw =
      G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_PLAYING;

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
          "fewer halos)",
          GST_TYPE_SEG_OVERLAY_REFINE, DEFAULT_REFINE, rw));
  g_object_class_install_property (gobject_class, PROP_OPACITY,
      g_param_spec_double ("opacity", "Opacity",
          "Strength of the tint (mode=tint)", 0.0, 1.0, DEFAULT_OPACITY, rw));
  g_object_class_install_property (gobject_class, PROP_COLOR,
      g_param_spec_uint ("color", "Colour",
          "Tint colour of the foreground class and outline colour, as "
          "0xAARRGGBB (alpha ignored)",
          0, G_MAXUINT32, DEFAULT_COLOR, rw));
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
          DEFAULT_BACKGROUND,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS
              | GST_PARAM_MUTABLE_READY));
  g_object_class_install_property (gobject_class, PROP_BACKGROUND_COLOR,
      g_param_spec_uint ("background-color", "Background colour",
          "Background colour as 0xAARRGGBB when no background image is set "
          "(mode=replace)",
          0, G_MAXUINT32, DEFAULT_BACKGROUND_COLOR, rw));

  gst_element_class_set_static_metadata (element_class, "Segmentation overlay",
      "Filter/Effect/Video",
      "Renders the segmentation mask (GstSegMeta) attached by segmenter: "
      "tint, outline, background blur or replacement, RGBA with the mask "
      "as alpha, or the mask itself as GRAY8",
      "segd developers");
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
