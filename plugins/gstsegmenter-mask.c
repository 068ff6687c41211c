/* segmenter, from a frame to a mask: the network's output turned into a
 * GstSegMask at the model's or the frame's size, then filtered against
 * the history of this model's masks (segtemporal.h) so that a still scene
 * gives a steady mask; and, between inferences in sync mode, the last mask
 * moved along the scene's motion instead of reused where it no longer
 * fits.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstsegmenter-private.h"

#include <math.h>

static void
get_temporal_params (GstSegmenter *self, seg_temporal_params *p)
{
  GST_OBJECT_LOCK (self);
  p->strength = (float) self->smoothing;
  p->hysteresis = (float) self->hysteresis;
  p->threshold = (float) self->threshold;
  p->motion = (float) self->motion_threshold;
  GST_OBJECT_UNLOCK (self);
}

/* Filters a fresh mask against the history of this model's masks. A
 * missing filter (out of memory at start) or a failed observation only
 * costs the steadiness, never the mask. */
static void
filter_mask (GstSegmenter *self, const seg_model_info *mi, guint generation,
    const seg_frame *sf, guint8 *prob, guint8 *classes, guint w, guint h,
    guint stride)
{
  gboolean single = mi->output_kind == SEG_OUTPUT_PROBABILITY;
  seg_temporal_params params;
  guint cut;

  get_temporal_params (self, &params);
  if (self->temporal && self->temporal_generation != generation) {
    seg_temporal_reset (self->temporal);
    self->temporal_generation = generation;
  }
  if (self->temporal && params.strength > 0.0f
      && seg_temporal_observe (self->temporal, sf) == SEG_OK
      && seg_temporal_filter (self->temporal, &params, prob, classes, w, h,
             stride, single)
          == SEG_OK)
    return;
  if (self->temporal)
    seg_temporal_reset (self->temporal);
  if (!single)
    return;
  /* Derived from the probability so both planes agree. */
  cut = (guint) ceil (params.threshold * 255.0);
  for (guint y = 0; y < h; y++)
    for (guint x = 0; x < w; x++)
      classes[(gsize) y * stride + x] = prob[(gsize) y * stride + x] >= cut;
}

GstSegMask *
gst_segmenter_run_inference (GstSegmenter *self, seg_session *session,
    const seg_model_info *mi, guint generation, const seg_frame *frame,
    const GstVideoInfo *info, GstClockTime *latency, gchar **error)
{
  GstSegmenterOutputSize output_size;
  gdouble threshold;
  GstSegMask *mask;
  GstClockTime t0;
  seg_frame sf;
  seg_status st;
  guint8 *prob, *classes;
  gint oh, ow, oc;
  guint w, h, stride;

  GST_OBJECT_LOCK (self);
  output_size = self->output_size;
  threshold = self->threshold;
  GST_OBJECT_UNLOCK (self);

  sf = *frame;
  t0 = gst_util_get_timestamp ();
  st = seg_session_run_frame (session, &sf);
  if (st != SEG_OK)
    goto run_failed;

  seg_session_output (session, &oh, &ow, &oc);
  if (output_size == GST_SEGMENTER_OUTPUT_SIZE_FRAME) {
    /* the camera's size, not a scaled JPEG decode's */
    w = GST_VIDEO_INFO_WIDTH (info);
    h = GST_VIDEO_INFO_HEIGHT (info);
  } else {
    w = ow;
    h = oh;
  }
  mask = gst_seg_mask_new (w, h, TRUE, TRUE, mi->num_classes,
      (const gchar *const *) mi->labels, mi->name, mi->sha256);
  if (!mask)
    goto no_mask;
  prob = gst_seg_mask_get_probability (mask);
  classes = gst_seg_mask_get_classes (mask);
  stride = gst_seg_mask_get_stride (mask);

  if (mi->output_kind == SEG_OUTPUT_PROBABILITY) {
    st = seg_session_probability (session, 1, prob, w, h, stride);
    if (st != SEG_OK)
      goto mask_failed;
  } else {
    st = seg_session_probability (session, 0, prob, w, h, stride);
    if (st == SEG_OK)
      st = seg_session_class_map (session, classes, w, h, stride,
          (float) threshold);
    if (st != SEG_OK)
      goto mask_failed;
    for (guint y = 0; y < h; y++)
      for (guint x = 0; x < w; x++)
        prob[(gsize) y * stride + x] = 255 - prob[(gsize) y * stride + x];
  }
  filter_mask (self, mi, generation, &sf, prob, classes, w, h, stride);
  *latency = gst_util_get_timestamp () - t0;
  return mask;

  /* ERRORS */
run_failed : {
  *error = g_strdup_printf ("inference failed: %s", seg_status_str (st));
  return NULL;
}
no_mask : {
  *error = g_strdup_printf ("cannot make a %ux%u mask", w, h);
  return NULL;
}
mask_failed : {
  gst_seg_mask_unref (mask);
  *error = g_strdup_printf ("mask extraction failed: %s", seg_status_str (st));
  return NULL;
}
}

GstSegMask *
gst_segmenter_track_mask (GstSegmenter *self, GstBuffer *buf, GstSegMask *ref,
    gboolean *cut)
{
  guint w = gst_seg_mask_get_width (ref), h = gst_seg_mask_get_height (ref);
  guint stride = gst_seg_mask_get_stride (ref);
  const seg_model_info *mi;
  seg_temporal_params params;
  GstSegMask *out = NULL;
  GstSegFrameMap fm;
  gchar *error = NULL;
  gboolean seen;
  SegRunner *runner;
  seg_frame sf;
  int moved = 0;

  get_temporal_params (self, &params);
  /* A shared engine's session is not ours to read between runs. */
  if (!self->temporal || params.strength <= 0.0f || self->shared)
    return NULL;
  g_mutex_lock (&self->lock);
  runner = seg_runner_ref (self->runner);
  g_mutex_unlock (&self->lock);
  mi = seg_runner_get_info (runner);
  if (seg_runner_get_generation (runner) != self->temporal_generation)
    goto done;
  seen = gst_seg_frame_map (buf, &self->info, gst_segmenter_jpeg_decoder (self),
             mi, &fm, &sf, &error)
      && seg_temporal_observe (self->temporal, &sf) == SEG_OK;
  gst_seg_frame_unmap (&fm);
  g_free (error);
  if (seen)
    moved = seg_temporal_track (self->temporal, &params,
        gst_seg_mask_get_probability (ref), gst_seg_mask_get_classes (ref), w,
        h, stride);
  *cut = moved == 2;
  if (moved != 1)
    goto done;
  out = gst_seg_mask_new (w, h, TRUE, TRUE, mi->num_classes,
      (const gchar *const *) mi->labels, mi->name, mi->sha256);
  if (!out || gst_seg_mask_get_stride (out) != stride) {
    g_clear_pointer (&out, gst_seg_mask_unref);
    goto done;
  }
  seg_temporal_warp (self->temporal, &params,
      gst_seg_mask_get_probability (ref), gst_seg_mask_get_classes (ref),
      gst_seg_mask_get_probability (out), gst_seg_mask_get_classes (out), w, h,
      stride, mi->output_kind == SEG_OUTPUT_PROBABILITY);

done:
  seg_runner_unref (runner);
  return out;
}
