/* segmenter with `engine=NAME`: the element joins the process-wide engine
 * of that name (segengine.h): one model, one set of workers and one
 * scheduler for every element naming it. The streaming thread hands its
 * frame to the scheduler and waits; the frame is either run (and carries
 * its own mask) or dropped as stale, because it could no longer meet
 * `max-latency`.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstsegmenter-private.h"

typedef struct
{
  GstSegmenter *self;
  const seg_frame *sf;
  const GstVideoInfo *info;
  GstSegMask *mask;
  GstClockTime latency;
  gchar *error;
} SharedJob;

/* Runs on an engine worker while the streaming thread waits for it, so
 * the element's inference state (smoothing) is still used by one thread at
 * a time. */
static gboolean
shared_job_run (seg_session *session, const seg_model_info *info, gpointer data)
{
  SharedJob *job = data;

  /* generation 0: the engine's model never changes */
  job->mask = gst_segmenter_run_inference (job->self, session, info, 0, job->sf,
      job->info, &job->latency, &job->error);
  return job->mask != NULL;
}

/* When the frame was captured, on the engine's clock (monotonic ns): its
 * running time against the pipeline clock, so time spent in queues before
 * us counts against the budget. Arrival time when there is no clock. */
static guint64
capture_time (GstSegmenter *self, GstBuffer *buf)
{
  GstBaseTransform *trans = GST_BASE_TRANSFORM (self);
  guint64 now = g_get_monotonic_time () * 1000;
  GstClock *clock = gst_element_get_clock (GST_ELEMENT (self));
  GstClockTime rt = GST_CLOCK_TIME_NONE, cnow, base, age;

  if (!clock)
    return now;
  if (trans->segment.format == GST_FORMAT_TIME && GST_BUFFER_PTS_IS_VALID (buf))
    rt = gst_segment_to_running_time (&trans->segment, GST_FORMAT_TIME,
        GST_BUFFER_PTS (buf));
  cnow = gst_clock_get_time (clock);
  base = gst_element_get_base_time (GST_ELEMENT (self));
  gst_object_unref (clock);
  if (!GST_CLOCK_TIME_IS_VALID (rt) || cnow < base + rt)
    return now;
  age = cnow - base - rt;
  return age < now ? now - age : 0;
}

GstFlowReturn
gst_segmenter_shared_infer (GstSegmenter *self, GstBuffer *buf, guint64 index)
{
  SharedJob job = {.self = self};
  SegEngineResult res;
  GstSegFrameMap fm;
  seg_frame sf;

  /* a JPEG frame is decoded here, on the streaming thread, the one user
   * of the decoder */
  if (!gst_seg_frame_map (buf, &self->info, gst_segmenter_jpeg_decoder (self),
          seg_engine_get_info (self->shared), &fm, &sf, &job.error)) {
    gst_seg_frame_unmap (&fm);
    goto map_failed;
  }
  job.sf = &sf;
  job.info = &self->info;
  res = seg_engine_stream_run (self->stream, capture_time (self, buf),
      shared_job_run, &job);
  gst_seg_frame_unmap (&fm);

  switch (res) {
    case SEG_ENGINE_DONE:
      g_mutex_lock (&self->lock);
      gst_segmenter_publish_result (self, job.mask, index, GST_BUFFER_PTS (buf),
          job.latency);
      g_mutex_unlock (&self->lock);
      return GST_FLOW_OK;
    case SEG_ENGINE_DROPPED:
      /* Too late for its budget: the frame goes, so that no stale mask
       * is published as if it were new. */
      g_mutex_lock (&self->lock);
      self->dropped++;
      self->stale++;
      g_mutex_unlock (&self->lock);
      return GST_BASE_TRANSFORM_FLOW_DROPPED;
    case SEG_ENGINE_CANCELLED:
      return GST_FLOW_FLUSHING;
    case SEG_ENGINE_FAILED:
    default:
      goto inference_failed;
  }

  /* ERRORS */
map_failed : {
  GST_ELEMENT_ERROR (self, STREAM, FAILED,
      ("Could not read the video frame: %s.", job.error), (NULL));
  g_free (job.error);
  return GST_FLOW_ERROR;
}
inference_failed : {
  GST_ELEMENT_ERROR (self, STREAM, FAILED,
      ("Segmentation of a frame failed: %s.", job.error), (NULL));
  g_free (job.error);
  return GST_FLOW_ERROR;
}
}

gboolean
gst_segmenter_shared_start (GstSegmenter *self, const gchar *name,
    const gchar *path, gint threads)
{
  SegEngine *shared;
  SegEngineStream *stream;
  gchar *error = NULL;
  gdouble weight;
  guint64 max_latency;

  GST_OBJECT_LOCK (self);
  weight = self->weight;
  max_latency = self->max_latency;
  self->run_mode = GST_SEGMENTER_MODE_SYNC;
  GST_OBJECT_UNLOCK (self);

  shared = seg_engine_get (name, path, threads, &error);
  if (!shared)
    goto load_failed;
  stream = seg_engine_stream_new (shared, GST_OBJECT_NAME (self), weight,
      max_latency);

  self->frame_index = 0;
  self->stats_last_time = GST_CLOCK_TIME_NONE;
  /* The engine's workers use it, one frame of ours at a time; its model
   * never changes, hence the generation 0 shared_job_run passes. */
  if (!self->temporal)
    self->temporal = seg_temporal_new ();
  self->temporal_generation = 0;
  g_mutex_lock (&self->lock);
  self->shared = shared;
  self->stream = stream;
  self->frames_in = self->inferences = self->dropped = self->stale = 0;
  self->latency_sum = 0;
  self->ring_len = self->ring_pos = 0;
  g_mutex_unlock (&self->lock);

  GST_INFO_OBJECT (self, "joined engine %s (%d workers) running %s", name,
      seg_engine_get_workers (shared), path);
  gst_segmenter_post_model_message (self, path, seg_engine_get_info (shared),
      0);
  return TRUE;

  /* ERRORS */
load_failed : {
  GST_ELEMENT_ERROR (self, RESOURCE, OPEN_READ,
      ("Could not load the segmentation model \"%s\" for engine \"%s\": "
       "%s.",
          path, name, error),
      (NULL));
  g_free (error);
  return FALSE;
}
}

void
gst_segmenter_shared_stop (GstSegmenter *self)
{
  SegEngineStream *stream;
  SegEngine *shared;

  g_mutex_lock (&self->lock);
  stream = g_steal_pointer (&self->stream);
  shared = g_steal_pointer (&self->shared);
  g_mutex_unlock (&self->lock);
  seg_engine_stream_free (stream);
  seg_engine_unref (shared);
}

void
gst_segmenter_shared_set_flushing (GstSegmenter *self, gboolean flushing)
{
  g_mutex_lock (&self->lock);
  if (self->stream) {
    if (flushing)
      seg_engine_stream_unblock (self->stream);
    else
      seg_engine_stream_unblock_stop (self->stream);
  }
  g_mutex_unlock (&self->lock);
}

/* The scheduler's view of this element's stream: budget and weight, and
 * latency from capture to mask rather than inference time alone. */
void
gst_segmenter_shared_add_stats (GstSegmenter *self, GstStructure *s)
{
  SegSchedStats st;
  const gchar *name;

  g_mutex_lock (&self->lock);
  if (!self->stream) {
    g_mutex_unlock (&self->lock);
    return;
  }
  seg_engine_stream_get_stats (self->stream, &st);
  name = seg_engine_get_name (self->shared);
  gst_structure_set (s, "engine", G_TYPE_STRING, name, "weight", G_TYPE_DOUBLE,
      st.weight, "max-latency", G_TYPE_UINT64, st.max_latency_ns, "stale",
      G_TYPE_UINT64, self->stale, "latency-p50-ms", G_TYPE_DOUBLE, st.p50_ms,
      "latency-p99-ms", G_TYPE_DOUBLE, st.p99_ms, NULL);
  g_mutex_unlock (&self->lock);
}
