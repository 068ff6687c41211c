/* segmenter — runs a segmentation network on video frames and attaches the
 * mask to each buffer as a GstSegMeta; the pixels pass through untouched.
 *
 * The model runs on a reference-counted SegRunner (segrunner.h), so a new
 * model loaded off the streaming thread (property `model` while PLAYING)
 * is swapped in by replacing one pointer under the lock; buffers reach it
 * as seg_frames through segframe.h. In `sync` mode the streaming thread
 * runs the network itself; in `latest` mode a worker thread does, on a
 * private copy of the newest frame, and buffers carry the newest finished
 * mask with its age — the streaming thread never waits for inference.
 * How a frame becomes a mask (the temporal filter included) is in
 * gstsegmenter-mask.c.
 *
 * With `engine=NAME` the element instead joins a process-wide engine
 * shared with other elements: gstsegmenter-shared.c. The instance struct
 * and what the three files share are in gstsegmenter-private.h.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstsegmenter-private.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

GST_DEBUG_CATEGORY (gst_segmenter_debug);

#ifndef SEG_DEFAULT_MODEL
#define SEG_DEFAULT_MODEL "selfie_segmentation.tflite"
#endif

#define DEFAULT_MODEL SEG_DEFAULT_MODEL
#define DEFAULT_THREADS 0
#define DEFAULT_MODE GST_SEGMENTER_MODE_SYNC
#define DEFAULT_INTERVAL 1
#define DEFAULT_THRESHOLD 0.5
#define DEFAULT_OUTPUT_SIZE GST_SEGMENTER_OUTPUT_SIZE_MODEL
/* Measured on noisy still and panning photos (bench/bench-temporal.c,
 * figures in docs/elements.md). */
#define DEFAULT_SMOOTHING 0.7
#define DEFAULT_HYSTERESIS 0.06
#define DEFAULT_MOTION 4.0
#define DEFAULT_WEIGHT 1.0
#define DEFAULT_MAX_LATENCY 0

enum
{
  PROP_0,
  PROP_MODEL,
  PROP_THREADS,
  PROP_MODE,
  PROP_INTERVAL,
  PROP_THRESHOLD,
  PROP_OUTPUT_SIZE,
  PROP_SMOOTHING,
  PROP_HYSTERESIS,
  PROP_MOTION_THRESHOLD,
  PROP_STATS,
  PROP_ENGINE,
  PROP_WEIGHT,
  PROP_MAX_LATENCY,
};

#define FORMATS \
  "{ RGB, BGR, RGBx, BGRx, xRGB, xBGR, RGBA, BGRA, NV12, I420, YUY2 }"

/* image/jpeg: MJPEG cameras' frames, decoded here at the size the model
 * needs (segjpeg.h) and passed on as they came. */
#define CAPS                          \
  GST_VIDEO_CAPS_MAKE (FORMATS)       \
  "; image/jpeg, width = (int) [ 1, " \
  "16384 ], height = (int) [ 1, 16384 ]"

static GstStaticPadTemplate sink_template = GST_STATIC_PAD_TEMPLATE ("sink",
    GST_PAD_SINK, GST_PAD_ALWAYS, GST_STATIC_CAPS (CAPS));

static GstStaticPadTemplate src_template = GST_STATIC_PAD_TEMPLATE ("src",
    GST_PAD_SRC, GST_PAD_ALWAYS, GST_STATIC_CAPS (CAPS));

#define gst_segmenter_parent_class parent_class
G_DEFINE_TYPE (GstSegmenter, gst_segmenter, GST_TYPE_BASE_TRANSFORM);
GST_ELEMENT_REGISTER_DEFINE (segmenter, "segmenter", GST_RANK_NONE,
    GST_TYPE_SEGMENTER);

#define GST_TYPE_SEGMENTER_MODE (gst_segmenter_mode_get_type ())
static GType
gst_segmenter_mode_get_type (void)
{
  static GType type = 0;
  static const GEnumValue values[] = {
      {GST_SEGMENTER_MODE_SYNC, "Every frame waits for its own mask", "sync"},
      {GST_SEGMENTER_MODE_LATEST,
          "Inference runs in a worker on the newest frame; buffers carry the "
          "newest finished mask",
          "latest"},
      {0, NULL, NULL},
  };

  if (g_once_init_enter (&type)) {
    GType t = g_enum_register_static ("GstSegmenterMode", values);
    g_once_init_leave (&type, t);
  }
  return type;
}

#define GST_TYPE_SEGMENTER_OUTPUT_SIZE (gst_segmenter_output_size_get_type ())
static GType
gst_segmenter_output_size_get_type (void)
{
  static GType type = 0;
  static const GEnumValue values[] = {
      {GST_SEGMENTER_OUTPUT_SIZE_MODEL, "The model's output resolution",
          "model"},
      {GST_SEGMENTER_OUTPUT_SIZE_FRAME, "The video frame's resolution",
          "frame"},
      {0, NULL, NULL},
  };

  if (g_once_init_enter (&type)) {
    GType t = g_enum_register_static ("GstSegmenterOutputSize", values);
    g_once_init_leave (&type, t);
  }
  return type;
}

/* Called with `lock` held. Takes ownership of `mask`. */
void
gst_segmenter_publish_result (GstSegmenter *self, GstSegMask *mask,
    guint64 index, GstClockTime pts, GstClockTime latency)
{
  gdouble ms = (gdouble) latency / GST_MSECOND;

  g_clear_pointer (&self->result, gst_seg_mask_unref);
  self->result = mask;
  self->result_index = index;
  self->result_pts = pts;
  self->result_latency = latency;
  self->inferences++;
  self->latency_sum += ms;
  self->ring[self->ring_pos] = ms;
  self->ring_pos = (self->ring_pos + 1) % LATENCY_RING;
  if (self->ring_len < LATENCY_RING)
    self->ring_len++;
}

static gpointer
worker_main (gpointer data)
{
  GstSegmenter *self = data;

  g_mutex_lock (&self->lock);
  for (;;) {
    GstSegFrameMap fm;
    seg_frame sf;
    GstSegMask *mask = NULL;
    GstClockTime latency = 0;
    gchar *error = NULL;
    SegRunner *runner;
    guint64 index;
    GstClockTime pts;

    while (!self->worker_quit && self->slot != SLOT_PENDING)
      g_cond_wait (&self->cond, &self->lock);
    if (self->worker_quit)
      break;
    self->slot = SLOT_RUNNING;
    runner = seg_runner_ref (self->runner);
    index = self->staging_index;
    pts = self->staging_pts;
    g_mutex_unlock (&self->lock);

    /* RUNNING keeps the streaming thread away from the staging frame. */
    if (gst_seg_frame_map (self->staging, &self->staging_info,
            gst_segmenter_jpeg_decoder (self), seg_runner_get_info (runner),
            &fm, &sf, &error))
      mask = gst_segmenter_run_inference (self, seg_runner_get_session (runner),
          seg_runner_get_info (runner), seg_runner_get_generation (runner), &sf,
          &self->staging_info, &latency, &error);
    gst_seg_frame_unmap (&fm);
    seg_runner_unref (runner);

    if (!mask) {
      GST_ELEMENT_WARNING (self, STREAM, FAILED,
          ("Segmentation of a frame failed."), ("%s", error));
      g_free (error);
    }

    g_mutex_lock (&self->lock);
    self->slot = SLOT_IDLE;
    if (mask)
      gst_segmenter_publish_result (self, mask, index, pts, latency);
  }
  g_mutex_unlock (&self->lock);
  return NULL;
}

/* `threads`: what the model runs on (0 for a shared engine). */
void
gst_segmenter_post_model_message (GstSegmenter *self, const gchar *path,
    const seg_model_info *info, gint threads)
{
  GstStructure *s = gst_structure_new ("segmenter-model", "location",
      G_TYPE_STRING, path, "name", G_TYPE_STRING, info->name, "sha256",
      G_TYPE_STRING, info->sha256, "threads", G_TYPE_INT, threads, NULL);

  gst_element_post_message (GST_ELEMENT (self),
      gst_message_new_element (GST_OBJECT (self), s));
}

/* Runs on the loader thread: a slow load never stalls the stream, and a
 * failed one leaves the running model in place. */
static void
loader_main (gpointer data, gpointer user_data)
{
  GstSegmenter *self = user_data;
  gchar *path = data;
  SegRunner *runner, *old;
  gchar *error = NULL;
  gchar *current;
  guint generation;
  gint threads;

  GST_OBJECT_LOCK (self);
  threads = self->threads;
  GST_OBJECT_UNLOCK (self);

  g_mutex_lock (&self->lock);
  generation = ++self->generation;
  current = g_strdup (self->runner ? seg_runner_get_path (self->runner) : "");
  g_mutex_unlock (&self->lock);

  runner = seg_runner_load (path, threads, generation, &error);
  if (!runner)
    goto load_failed;

  g_mutex_lock (&self->lock);
  old = self->runner;
  self->runner = runner;
  g_mutex_unlock (&self->lock);
  seg_runner_unref (old);

  GST_INFO_OBJECT (self, "switched to model %s", path);
  gst_segmenter_post_model_message (self, path, seg_runner_get_info (runner),
      seg_runner_get_threads (runner));
  if (self->run_mode == GST_SEGMENTER_MODE_SYNC)
    gst_element_post_message (GST_ELEMENT (self),
        gst_message_new_latency (GST_OBJECT (self)));
  g_free (current);
  g_free (path);
  return;

  /* ERRORS */
load_failed : {
  /* The details let an application (segd) report the path and the
     * reason without parsing the sentence. */
  GST_ELEMENT_WARNING_WITH_DETAILS (self, RESOURCE, OPEN_READ,
      ("Could not load the segmentation model \"%s\": %s; still using "
       "\"%s\".",
          path, error, current),
      (NULL),
      ("model", G_TYPE_STRING, path, "reason", G_TYPE_STRING, error, NULL));
  g_free (error);
  g_free (current);
  g_free (path);
}
}

static gboolean
gst_segmenter_start (GstBaseTransform *trans)
{
  GstSegmenter *self = GST_SEGMENTER (trans);
  SegRunner *runner;
  gchar *path, *engine_name, *error = NULL;
  guint generation;
  gint threads;

  GST_OBJECT_LOCK (self);
  path = g_strdup (self->model_path);
  threads = self->threads;
  self->run_mode = self->mode;
  engine_name = g_strdup (self->engine_name);
  GST_OBJECT_UNLOCK (self);

  if (engine_name && *engine_name) {
    gboolean ok = gst_segmenter_shared_start (self, engine_name, path, threads);

    g_free (engine_name);
    g_free (path);
    return ok;
  }
  g_free (engine_name);

  g_mutex_lock (&self->lock);
  generation = ++self->generation;
  g_mutex_unlock (&self->lock);

  runner = seg_runner_load (path, threads, generation, &error);
  if (!runner)
    goto load_failed;

  self->frame_index = 0;
  /* Before the worker starts: from here on it is the inference thread's. */
  if (!self->temporal)
    self->temporal = seg_temporal_new ();
  self->temporal_generation = generation;
  self->stats_last_time = GST_CLOCK_TIME_NONE;

  g_mutex_lock (&self->lock);
  self->runner = runner;
  self->frames_in = self->inferences = self->dropped = 0;
  self->latency_sum = 0;
  self->ring_len = self->ring_pos = 0;
  self->slot = SLOT_IDLE;
  self->worker_quit = FALSE;
  self->loader = g_thread_pool_new (loader_main, self, 1, FALSE, NULL);
  if (self->run_mode == GST_SEGMENTER_MODE_LATEST)
    self->worker = g_thread_new ("segmenter-worker", worker_main, self);
  g_mutex_unlock (&self->lock);

  GST_INFO_OBJECT (self, "loaded model %s (%s)", path,
      seg_runner_get_info (runner)->sha256);
  gst_segmenter_post_model_message (self, path, seg_runner_get_info (runner),
      seg_runner_get_threads (runner));
  g_free (path);
  return TRUE;

  /* ERRORS */
load_failed : {
  GST_ELEMENT_ERROR (self, RESOURCE, OPEN_READ,
      ("Could not load the segmentation model \"%s\": %s.", path, error),
      (NULL));
  g_free (error);
  g_free (path);
  return FALSE;
}
}

static gboolean
gst_segmenter_stop (GstBaseTransform *trans)
{
  GstSegmenter *self = GST_SEGMENTER (trans);
  GThreadPool *loader;
  GThread *worker;

  gst_segmenter_shared_stop (self);
  g_mutex_lock (&self->lock);
  worker = g_steal_pointer (&self->worker);
  loader = g_steal_pointer (&self->loader);
  self->worker_quit = TRUE;
  g_cond_broadcast (&self->cond);
  g_mutex_unlock (&self->lock);

  if (worker)
    g_thread_join (worker);
  /* Lets a load in progress finish, so its thread never outlives us. */
  if (loader)
    g_thread_pool_free (loader, FALSE, TRUE);

  g_mutex_lock (&self->lock);
  g_clear_pointer (&self->runner, seg_runner_unref);
  g_clear_pointer (&self->result, gst_seg_mask_unref);
  gst_clear_buffer (&self->staging);
  g_mutex_unlock (&self->lock);
  g_clear_pointer (&self->temporal, seg_temporal_free);
  g_clear_pointer (&self->decoder, seg_jpeg_free);
  return TRUE;
}

static gboolean
gst_segmenter_set_caps (GstBaseTransform *trans, GstCaps *incaps,
    GstCaps *outcaps)
{
  GstSegmenter *self = GST_SEGMENTER (trans);

  GstStructure *s = gst_caps_get_structure (incaps, 0);
  gint w, h;

  self->jpeg = gst_structure_has_name (s, "image/jpeg");
  if (self->jpeg) {
    if (!gst_structure_get_int (s, "width", &w)
        || !gst_structure_get_int (s, "height", &h) || w <= 0 || h <= 0)
      goto invalid_caps;
    /* the size only: output-size=frame makes masks of it */
    gst_video_info_init (&self->info);
    self->info.width = w;
    self->info.height = h;
    return TRUE;
  }
  if (!gst_video_info_from_caps (&self->info, incaps))
    goto invalid_caps;
  return TRUE;

  /* ERRORS */
invalid_caps : {
  GST_ERROR_OBJECT (self, "invalid caps %" GST_PTR_FORMAT, incaps);
  return FALSE;
}
}

/* The pixels are never written, so a buffer shared with someone else only
 * needs a new GstBuffer around the same memory to take our meta. */
static GstFlowReturn
gst_segmenter_prepare_output_buffer (GstBaseTransform *trans, GstBuffer *input,
    GstBuffer **outbuf)
{
  if (gst_buffer_is_writable (input))
    *outbuf = input;
  else
    *outbuf = gst_buffer_copy (input);
  return GST_FLOW_OK;
}

static GstFlowReturn
infer_sync (GstSegmenter *self, GstBuffer *buf, guint64 index)
{
  GstSegFrameMap fm;
  seg_frame sf;
  GstSegMask *mask = NULL;
  GstClockTime latency = 0;
  gchar *error = NULL;
  SegRunner *runner;

  g_mutex_lock (&self->lock);
  runner = seg_runner_ref (self->runner);
  g_mutex_unlock (&self->lock);
  if (gst_seg_frame_map (buf, &self->info, gst_segmenter_jpeg_decoder (self),
          seg_runner_get_info (runner), &fm, &sf, &error))
    mask = gst_segmenter_run_inference (self, seg_runner_get_session (runner),
        seg_runner_get_info (runner), seg_runner_get_generation (runner), &sf,
        &self->info, &latency, &error);
  gst_seg_frame_unmap (&fm);
  seg_runner_unref (runner);
  if (!mask)
    goto inference_failed;

  g_mutex_lock (&self->lock);
  gst_segmenter_publish_result (self, mask, index, GST_BUFFER_PTS (buf),
      latency);
  g_mutex_unlock (&self->lock);
  return GST_FLOW_OK;

  /* ERRORS */
inference_failed : {
  GST_ELEMENT_ERROR (self, STREAM, FAILED,
      ("Segmentation of a frame failed: %s.", error), (NULL));
  g_free (error);
  return GST_FLOW_ERROR;
}
}

static GstStateChangeReturn
gst_segmenter_change_state (GstElement *element, GstStateChange transition)
{
  if (transition == GST_STATE_CHANGE_PAUSED_TO_READY)
    gst_segmenter_shared_set_flushing (GST_SEGMENTER (element), TRUE);
  return GST_ELEMENT_CLASS (parent_class)->change_state (element, transition);
}

static gboolean
gst_segmenter_sink_event (GstBaseTransform *trans, GstEvent *event)
{
  if (GST_EVENT_TYPE (event) == GST_EVENT_FLUSH_START)
    gst_segmenter_shared_set_flushing (GST_SEGMENTER (trans), TRUE);
  else if (GST_EVENT_TYPE (event) == GST_EVENT_FLUSH_STOP)
    gst_segmenter_shared_set_flushing (GST_SEGMENTER (trans), FALSE);
  return GST_BASE_TRANSFORM_CLASS (parent_class)->sink_event (trans, event);
}

/* Hands a copy of the frame to the worker if it is idle; never waits. */
static void
submit_latest (GstSegmenter *self, GstBuffer *buf, guint64 index)
{
  GstVideoFrame src, dst;
  gboolean copied = FALSE;

  g_mutex_lock (&self->lock);
  if (self->slot != SLOT_IDLE) {
    self->dropped++;
    g_mutex_unlock (&self->lock);
    return;
  }
  self->slot = SLOT_FILLING;
  g_mutex_unlock (&self->lock);

  /* FILLING gives this thread the staging frame; no lock needed. A JPEG
   * frame is never written, so the worker reads its memory, through a
   * buffer of its own: a reference to `buf` would make it read-only before
   * it gets its meta. */
  if (self->jpeg) {
    gst_clear_buffer (&self->staging);
    self->staging_info = self->info;
    self->staging = gst_buffer_copy_region (buf, GST_BUFFER_COPY_MEMORY, 0, -1);
    copied = self->staging != NULL;
  } else if (!self->staging
      || !gst_video_info_is_equal (&self->staging_info, &self->info)) {
    gst_clear_buffer (&self->staging);
    self->staging_info = self->info;
    self->staging = gst_buffer_new_allocate (NULL, self->info.size, NULL);
  }
  if (!self->jpeg && self->staging
      && gst_video_frame_map (&src, &self->info, buf, GST_MAP_READ)) {
    if (gst_video_frame_map (&dst, &self->staging_info, self->staging,
            GST_MAP_WRITE)) {
      copied = gst_video_frame_copy (&dst, &src);
      gst_video_frame_unmap (&dst);
    }
    gst_video_frame_unmap (&src);
  }

  g_mutex_lock (&self->lock);
  if (copied) {
    self->slot = SLOT_PENDING;
    self->staging_index = index;
    self->staging_pts = GST_BUFFER_PTS (buf);
    g_cond_broadcast (&self->cond);
  } else {
    self->slot = SLOT_IDLE;
    self->dropped++;
  }
  g_mutex_unlock (&self->lock);
}

static void
maybe_post_stats (GstSegmenter *self)
{
  GstClockTime now = gst_util_get_timestamp ();
  guint64 frames, inferences, dropped;
  gdouble latency_sum, seconds, ms;
  GstStructure *s;

  g_mutex_lock (&self->lock);
  frames = self->frames_in;
  inferences = self->inferences;
  dropped = self->dropped;
  latency_sum = self->latency_sum;
  g_mutex_unlock (&self->lock);

  if (!GST_CLOCK_TIME_IS_VALID (self->stats_last_time))
    goto reset;
  if (now - self->stats_last_time < GST_SECOND)
    return;

  seconds = (gdouble) (now - self->stats_last_time) / GST_SECOND;
  ms = inferences > self->stats_last_inferences
      ? (latency_sum - self->stats_last_latency_sum)
          / (inferences - self->stats_last_inferences)
      : 0.0;
  s = gst_structure_new ("segmenter-stats", "fps", G_TYPE_DOUBLE,
      (frames - self->stats_last_frames) / seconds, "inference-fps",
      G_TYPE_DOUBLE, (inferences - self->stats_last_inferences) / seconds,
      "inference-ms", G_TYPE_DOUBLE, ms, "dropped", G_TYPE_UINT64,
      dropped - self->stats_last_dropped, "frames-in", G_TYPE_UINT64, frames,
      "inferences", G_TYPE_UINT64, inferences, NULL);
  gst_element_post_message (GST_ELEMENT (self),
      gst_message_new_element (GST_OBJECT (self), s));

reset:
  self->stats_last_time = now;
  self->stats_last_frames = frames;
  self->stats_last_inferences = inferences;
  self->stats_last_dropped = dropped;
  self->stats_last_latency_sum = latency_sum;
}

static GstFlowReturn
gst_segmenter_transform_ip (GstBaseTransform *trans, GstBuffer *buf)
{
  GstSegmenter *self = GST_SEGMENTER (trans);
  GstClockTime pts = GST_BUFFER_PTS (buf);
  GstClockTime rpts = GST_CLOCK_TIME_NONE, rlatency = 0, age = 0;
  GstSegMask *mask = NULL;
  guint64 index, rindex = 0;
  gboolean due, reused = FALSE;
  guint interval;

  GST_OBJECT_LOCK (self);
  interval = self->interval;
  GST_OBJECT_UNLOCK (self);

  index = self->frame_index++;
  due = index % interval == 0;

  if (self->run_mode == GST_SEGMENTER_MODE_SYNC) {
    gboolean have;

    g_mutex_lock (&self->lock);
    have = self->result != NULL;
    g_mutex_unlock (&self->lock);
    if (due || !have) {
      GstFlowReturn ret = self->stream
          ? gst_segmenter_shared_infer (self, buf, index)
          : infer_sync (self, buf, index);

      if (ret == GST_BASE_TRANSFORM_FLOW_DROPPED) {
        g_mutex_lock (&self->lock);
        self->frames_in++;
        g_mutex_unlock (&self->lock);
        maybe_post_stats (self);
      }
      if (ret != GST_FLOW_OK)
        return ret;
    } else {
      reused = TRUE;
    }
  } else if (due) {
    submit_latest (self, buf, index);
  }

  g_mutex_lock (&self->lock);
  self->frames_in++;
  if (self->result) {
    mask = gst_seg_mask_ref (self->result);
    rindex = self->result_index;
    rpts = self->result_pts;
    rlatency = self->result_latency;
  }
  g_mutex_unlock (&self->lock);

  if (mask && reused) {
    gboolean cut = FALSE;
    GstSegMask *moved = gst_segmenter_track_mask (self, buf, mask, &cut);

    if (moved) {
      gst_seg_mask_unref (mask);
      mask = moved;
    } else if (cut) {
      /* One inference off the schedule rather than `interval` frames of
       * the previous scene's mask. */
      GstFlowReturn ret;

      g_clear_pointer (&mask, gst_seg_mask_unref);
      ret = infer_sync (self, buf, index);
      if (ret != GST_FLOW_OK)
        return ret;
      g_mutex_lock (&self->lock);
      mask = gst_seg_mask_ref (self->result);
      rindex = self->result_index;
      rpts = self->result_pts;
      rlatency = self->result_latency;
      g_mutex_unlock (&self->lock);
    }
  }
  if (mask) {
    if (GST_CLOCK_TIME_IS_VALID (pts) && GST_CLOCK_TIME_IS_VALID (rpts)
        && pts >= rpts)
      age = pts - rpts;
    gst_buffer_add_seg_meta (buf, mask, rpts, rlatency, index - rindex, age);
    gst_seg_mask_unref (mask);
  }

  maybe_post_stats (self);
  return GST_FLOW_OK;
}

static GstClockTime
inference_latency (GstSegmenter *self)
{
  GstClockTime latency = 0;

  /* On a shared engine a frame may wait for others' up to its budget. */
  GST_OBJECT_LOCK (self);
  if (self->engine_name && *self->engine_name && self->max_latency)
    latency = self->max_latency;
  GST_OBJECT_UNLOCK (self);
  if (latency)
    return latency;
  g_mutex_lock (&self->lock);
  if (self->inferences > 0)
    latency =
        (GstClockTime) (self->latency_sum / self->inferences * GST_MSECOND);
  else if (self->runner)
    latency = seg_runner_get_warm_latency (self->runner);
  g_mutex_unlock (&self->lock);
  return latency;
}

static gboolean
gst_segmenter_query (GstBaseTransform *trans, GstPadDirection direction,
    GstQuery *query)
{
  GstSegmenter *self = GST_SEGMENTER (trans);
  GstClockTime min, max, ours;
  gboolean live;

  if (direction != GST_PAD_SRC || GST_QUERY_TYPE (query) != GST_QUERY_LATENCY)
    return GST_BASE_TRANSFORM_CLASS (parent_class)
        ->query (trans, direction, query);

  if (!GST_BASE_TRANSFORM_CLASS (parent_class)->query (trans, direction, query))
    return FALSE;
  /* In latest mode frames do not wait for the network. */
  if (self->run_mode != GST_SEGMENTER_MODE_SYNC)
    return TRUE;
  gst_query_parse_latency (query, &live, &min, &max);
  ours = inference_latency (self);
  GST_DEBUG_OBJECT (self, "adding %" GST_TIME_FORMAT " of latency",
      GST_TIME_ARGS (ours));
  min += ours;
  if (GST_CLOCK_TIME_IS_VALID (max))
    max += ours;
  gst_query_set_latency (query, live, min, max);
  return TRUE;
}

static int
compare_double (const void *a, const void *b)
{
  gdouble x = *(const gdouble *) a, y = *(const gdouble *) b;

  return (x > y) - (x < y);
}

static GstStructure *
make_stats (GstSegmenter *self)
{
  gdouble sorted[LATENCY_RING];
  gdouble mean = 0.0, p99 = 0.0;
  guint64 frames, inferences, dropped;
  GstStructure *s;
  guint n;

  g_mutex_lock (&self->lock);
  frames = self->frames_in;
  inferences = self->inferences;
  dropped = self->dropped;
  if (inferences > 0)
    mean = self->latency_sum / inferences;
  n = self->ring_len;
  memcpy (sorted, self->ring, n * sizeof sorted[0]);
  g_mutex_unlock (&self->lock);

  if (n > 0) {
    qsort (sorted, n, sizeof sorted[0], compare_double);
    p99 = sorted[MIN (n - 1, (guint) ceil (0.99 * n) - 1)];
  }
  s = gst_structure_new ("segmenter-stats", "frames-in", G_TYPE_UINT64, frames,
      "inferences", G_TYPE_UINT64, inferences, "mean-inference-ms",
      G_TYPE_DOUBLE, mean, "p99-inference-ms", G_TYPE_DOUBLE, p99, "dropped",
      G_TYPE_UINT64, dropped, NULL);
  gst_segmenter_shared_add_stats (self, s);
  return s;
}

static void
gst_segmenter_set_property (GObject *object, guint prop_id, const GValue *value,
    GParamSpec *pspec)
{
  GstSegmenter *self = GST_SEGMENTER (object);

  switch (prop_id) {
    case PROP_MODEL:
      GST_OBJECT_LOCK (self);
      g_free (self->model_path);
      self->model_path = g_value_dup_string (value);
      GST_OBJECT_UNLOCK (self);
      g_mutex_lock (&self->lock);
      if (self->loader)
        g_thread_pool_push (self->loader, g_value_dup_string (value), NULL);
      g_mutex_unlock (&self->lock);
      break;
    case PROP_THREADS:
      GST_OBJECT_LOCK (self);
      self->threads = g_value_get_int (value);
      GST_OBJECT_UNLOCK (self);
      break;
    case PROP_MODE:
      GST_OBJECT_LOCK (self);
      self->mode = g_value_get_enum (value);
      GST_OBJECT_UNLOCK (self);
      break;
    case PROP_INTERVAL:
      GST_OBJECT_LOCK (self);
      self->interval = g_value_get_uint (value);
      GST_OBJECT_UNLOCK (self);
      break;
    case PROP_THRESHOLD:
      GST_OBJECT_LOCK (self);
      self->threshold = g_value_get_double (value);
      GST_OBJECT_UNLOCK (self);
      break;
    case PROP_OUTPUT_SIZE:
      GST_OBJECT_LOCK (self);
      self->output_size = g_value_get_enum (value);
      GST_OBJECT_UNLOCK (self);
      break;
    case PROP_SMOOTHING:
      GST_OBJECT_LOCK (self);
      self->smoothing = g_value_get_double (value);
      GST_OBJECT_UNLOCK (self);
      break;
    case PROP_ENGINE:
      GST_OBJECT_LOCK (self);
      g_free (self->engine_name);
      self->engine_name = g_value_dup_string (value);
      GST_OBJECT_UNLOCK (self);
      break;
    case PROP_WEIGHT:
    case PROP_MAX_LATENCY:
      GST_OBJECT_LOCK (self);
      if (prop_id == PROP_WEIGHT)
        self->weight = g_value_get_double (value);
      else
        self->max_latency = g_value_get_uint64 (value);
      GST_OBJECT_UNLOCK (self);
      g_mutex_lock (&self->lock);
      if (self->stream)
        seg_engine_stream_configure (self->stream, self->weight,
            self->max_latency);
      g_mutex_unlock (&self->lock);
      break;
    case PROP_HYSTERESIS:
      GST_OBJECT_LOCK (self);
      self->hysteresis = g_value_get_double (value);
      GST_OBJECT_UNLOCK (self);
      break;
    case PROP_MOTION_THRESHOLD:
      GST_OBJECT_LOCK (self);
      self->motion_threshold = g_value_get_double (value);
      GST_OBJECT_UNLOCK (self);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
}

static void
gst_segmenter_get_property (GObject *object, guint prop_id, GValue *value,
    GParamSpec *pspec)
{
  GstSegmenter *self = GST_SEGMENTER (object);

  switch (prop_id) {
    case PROP_MODEL:
      GST_OBJECT_LOCK (self);
      g_value_set_string (value, self->model_path);
      GST_OBJECT_UNLOCK (self);
      break;
    case PROP_THREADS:
      GST_OBJECT_LOCK (self);
      g_value_set_int (value, self->threads);
      GST_OBJECT_UNLOCK (self);
      break;
    case PROP_MODE:
      GST_OBJECT_LOCK (self);
      g_value_set_enum (value, self->mode);
      GST_OBJECT_UNLOCK (self);
      break;
    case PROP_INTERVAL:
      GST_OBJECT_LOCK (self);
      g_value_set_uint (value, self->interval);
      GST_OBJECT_UNLOCK (self);
      break;
    case PROP_THRESHOLD:
      GST_OBJECT_LOCK (self);
      g_value_set_double (value, self->threshold);
      GST_OBJECT_UNLOCK (self);
      break;
    case PROP_OUTPUT_SIZE:
      GST_OBJECT_LOCK (self);
      g_value_set_enum (value, self->output_size);
      GST_OBJECT_UNLOCK (self);
      break;
    case PROP_SMOOTHING:
      GST_OBJECT_LOCK (self);
      g_value_set_double (value, self->smoothing);
      GST_OBJECT_UNLOCK (self);
      break;
    case PROP_HYSTERESIS:
      GST_OBJECT_LOCK (self);
      g_value_set_double (value, self->hysteresis);
      GST_OBJECT_UNLOCK (self);
      break;
    case PROP_MOTION_THRESHOLD:
      GST_OBJECT_LOCK (self);
      g_value_set_double (value, self->motion_threshold);
      GST_OBJECT_UNLOCK (self);
      break;
    case PROP_STATS:
      g_value_take_boxed (value, make_stats (self));
      break;
    case PROP_ENGINE:
      GST_OBJECT_LOCK (self);
      g_value_set_string (value, self->engine_name);
      GST_OBJECT_UNLOCK (self);
      break;
    case PROP_WEIGHT:
      GST_OBJECT_LOCK (self);
      g_value_set_double (value, self->weight);
      GST_OBJECT_UNLOCK (self);
      break;
    case PROP_MAX_LATENCY:
      GST_OBJECT_LOCK (self);
      g_value_set_uint64 (value, self->max_latency);
      GST_OBJECT_UNLOCK (self);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
}

static void
gst_segmenter_finalize (GObject *object)
{
  GstSegmenter *self = GST_SEGMENTER (object);

  g_free (self->model_path);
  g_free (self->engine_name);
  seg_temporal_free (self->temporal);
  g_clear_pointer (&self->result, gst_seg_mask_unref);
  g_clear_pointer (&self->runner, seg_runner_unref);
  gst_clear_buffer (&self->staging);
  g_mutex_clear (&self->lock);
  g_cond_clear (&self->cond);
  G_OBJECT_CLASS (parent_class)->finalize (object);
}

static void
gst_segmenter_class_init (GstSegmenterClass *klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);
  GstBaseTransformClass *trans_class = GST_BASE_TRANSFORM_CLASS (klass);
  const GParamFlags rw = G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS;

  GST_DEBUG_CATEGORY_INIT (gst_segmenter_debug, "segmenter", 0,
      "segmentation network element");

  gobject_class->set_property = gst_segmenter_set_property;
  gobject_class->get_property = gst_segmenter_get_property;
  gobject_class->finalize = gst_segmenter_finalize;

  g_object_class_install_property (gobject_class, PROP_MODEL,
      g_param_spec_string ("model", "Model",
          "Path of the segmentation model (ONNX or TFLite); setting it "
          "while playing loads the new model in the background and swaps "
          "it in when ready",
          DEFAULT_MODEL, rw | GST_PARAM_MUTABLE_PLAYING));
  g_object_class_install_property (gobject_class, PROP_THREADS,
      g_param_spec_int ("threads", "Threads",
          "Inference threads (0 = the count, up to 4 and the CPU cores, "
          "that runs this model fastest, timed at load); used when a model "
          "is loaded",
          0, 256, DEFAULT_THREADS, rw | GST_PARAM_MUTABLE_PLAYING));
  g_object_class_install_property (gobject_class, PROP_MODE,
      g_param_spec_enum ("mode", "Mode",
          "sync: every frame waits for its mask; latest: a worker segments "
          "the newest frame and buffers never wait (applies at start)",
          GST_TYPE_SEGMENTER_MODE, DEFAULT_MODE, rw | GST_PARAM_MUTABLE_READY));
  g_object_class_install_property (gobject_class, PROP_INTERVAL,
      g_param_spec_uint ("interval", "Interval",
          "Run the network on every Nth frame and reuse the mask in "
          "between (in sync mode with smoothing > 0: moved along the "
          "scene's motion, and a cut is segmented at once)",
          1, 10000, DEFAULT_INTERVAL, rw | GST_PARAM_MUTABLE_PLAYING));
  g_object_class_install_property (gobject_class, PROP_THRESHOLD,
      g_param_spec_double ("threshold", "Threshold",
          "Foreground probability from which a pixel belongs to the class "
          "map's foreground (single-output models)",
          0.0, 1.0, DEFAULT_THRESHOLD, rw | GST_PARAM_MUTABLE_PLAYING));
  g_object_class_install_property (gobject_class, PROP_OUTPUT_SIZE,
      g_param_spec_enum ("output-size", "Output size",
          "Resolution of the attached mask", GST_TYPE_SEGMENTER_OUTPUT_SIZE,
          DEFAULT_OUTPUT_SIZE, rw | GST_PARAM_MUTABLE_PLAYING));
  g_object_class_install_property (gobject_class, PROP_SMOOTHING,
      g_param_spec_double ("smoothing", "Smoothing",
          "Temporal filter strength (0 = off): where the frame is still the "
          "probability is averaged over inferences with this weight on the "
          "past and the class has hysteresis; where it changed the new mask "
          "is taken at once; with interval > 1, masks between inferences "
          "follow the measured motion",
          0.0, 0.99, DEFAULT_SMOOTHING, rw | GST_PARAM_MUTABLE_PLAYING));
  g_object_class_install_property (gobject_class, PROP_HYSTERESIS,
      g_param_spec_double ("hysteresis", "Hysteresis",
          "Half-width of the probability band around the threshold inside "
          "which a still pixel keeps its class (with smoothing > 0, "
          "single-output models)",
          0.0, 0.5, DEFAULT_HYSTERESIS, rw | GST_PARAM_MUTABLE_PLAYING));
  g_object_class_install_property (gobject_class, PROP_MOTION_THRESHOLD,
      g_param_spec_double ("motion-threshold", "Motion threshold",
          "Mean absolute luma change of a tile (levels of 255, measured on "
          "a 64x64 thumbnail of the frame) from which the smoothing lets go "
          "of it; from half of it on it starts to",
          0.5, 255.0, DEFAULT_MOTION, rw | GST_PARAM_MUTABLE_PLAYING));
  g_object_class_install_property (gobject_class, PROP_STATS,
      g_param_spec_boxed ("stats", "Statistics",
          "frames-in, inferences, mean-inference-ms, p99-inference-ms "
          "(over the last 256 inferences), dropped (frames due for "
          "inference while the worker was busy)",
          GST_TYPE_STRUCTURE, G_PARAM_READABLE | G_PARAM_STATIC_STRINGS));
  g_object_class_install_property (gobject_class, PROP_ENGINE,
      g_param_spec_string ("engine", "Engine",
          "Name of a process-wide engine to share: elements naming the same "
          "engine share one loaded model, its workers (`threads` of the "
          "first one) and a scheduler that splits them by `weight` within "
          "`max-latency`; `mode` and model changes while playing do not "
          "apply. Empty: a private model, as without it",
          NULL, rw | GST_PARAM_MUTABLE_READY));
  g_object_class_install_property (gobject_class, PROP_WEIGHT,
      g_param_spec_double ("weight", "Weight",
          "Share of a shared engine under overload, relative to the other "
          "streams' weights",
          0.01, 1000.0, DEFAULT_WEIGHT, rw | GST_PARAM_MUTABLE_PLAYING));
  g_object_class_install_property (gobject_class, PROP_MAX_LATENCY,
      g_param_spec_uint64 ("max-latency", "Maximum latency",
          "Shared engine: latency budget from capture to mask in ns; a "
          "frame that cannot make it is dropped as stale (0: no budget)",
          0, G_MAXUINT64, DEFAULT_MAX_LATENCY, rw | GST_PARAM_MUTABLE_PLAYING));

  gst_element_class_set_static_metadata (element_class, "Video segmentation",
      "Filter/Analyzer/Video",
      "Runs a MobileNetV3 + LR-ASPP segmentation network (ONNX or TFLite) "
      "on each frame and attaches the class map and probability mask as a "
      "GstSegMeta; the video passes through unchanged",
      "segd developers");
  gst_element_class_add_static_pad_template (element_class, &sink_template);
  gst_element_class_add_static_pad_template (element_class, &src_template);

  element_class->change_state = GST_DEBUG_FUNCPTR (gst_segmenter_change_state);
  trans_class->sink_event = GST_DEBUG_FUNCPTR (gst_segmenter_sink_event);
  trans_class->start = GST_DEBUG_FUNCPTR (gst_segmenter_start);
  trans_class->stop = GST_DEBUG_FUNCPTR (gst_segmenter_stop);
  trans_class->set_caps = GST_DEBUG_FUNCPTR (gst_segmenter_set_caps);
  trans_class->prepare_output_buffer =
      GST_DEBUG_FUNCPTR (gst_segmenter_prepare_output_buffer);
  trans_class->transform_ip = GST_DEBUG_FUNCPTR (gst_segmenter_transform_ip);
  trans_class->query = GST_DEBUG_FUNCPTR (gst_segmenter_query);
  trans_class->transform_ip_on_passthrough = TRUE;

  gst_type_mark_as_plugin_api (GST_TYPE_SEGMENTER_MODE, 0);
  gst_type_mark_as_plugin_api (GST_TYPE_SEGMENTER_OUTPUT_SIZE, 0);
}

static void
gst_segmenter_init (GstSegmenter *self)
{
  self->model_path = g_strdup (DEFAULT_MODEL);
  self->threads = DEFAULT_THREADS;
  self->mode = DEFAULT_MODE;
  self->interval = DEFAULT_INTERVAL;
  self->threshold = DEFAULT_THRESHOLD;
  self->output_size = DEFAULT_OUTPUT_SIZE;
  self->smoothing = DEFAULT_SMOOTHING;
  self->hysteresis = DEFAULT_HYSTERESIS;
  self->motion_threshold = DEFAULT_MOTION;
#define DEFAULT_WEIGHT 1.0
#define DEFAULT_MAX_LATENCY 0
  self->stats_last_time = GST_CLOCK_TIME_NONE;
  g_mutex_init (&self->lock);
  g_cond_init (&self->cond);
  gst_video_info_init (&self->info);
  gst_base_transform_set_passthrough (GST_BASE_TRANSFORM (self), TRUE);
}
