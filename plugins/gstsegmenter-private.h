/* The segmenter element's instance struct and the functions its files
 * share: gstsegmenter.c (properties, start and stop, the sync and latest
 * modes, stats), gstsegmenter-mask.c (from a frame to a mask) and
 * gstsegmenter-shared.c (engine=NAME). Private to the element: nothing
 * else includes it.
 */
#ifndef GST_SEGMENTER_PRIVATE_H
#define GST_SEGMENTER_PRIVATE_H

#include "gstsegmenter.h"
#include "segengine.h"
#include "segframe.h"
#include "segjpeg.h"
#include "segmeta.h"
#include "segrunner.h"
#include "segtemporal.h"

#include <segmenter/seg.h>

G_BEGIN_DECLS

GST_DEBUG_CATEGORY_EXTERN (gst_segmenter_debug);
#define GST_CAT_DEFAULT gst_segmenter_debug

/* Number of recent inference times kept for the p99. */
#define LATENCY_RING 256

typedef enum
{
  SLOT_IDLE,    /* the worker waits; the staging frame is free */
  SLOT_FILLING, /* the streaming thread copies a frame in */
  SLOT_PENDING, /* a frame waits for the worker */
  SLOT_RUNNING, /* the worker reads the staging frame */
} SlotState;

struct _GstSegmenter
{
  GstBaseTransform parent;

  /* Properties, under the object lock. */
  gchar *model_path;
  gint threads;
  GstSegmenterMode mode;
  guint interval;
  gdouble threshold;
  GstSegmenterOutputSize output_size;
  gdouble smoothing;
  gchar *engine_name;
  gdouble weight;
  guint64 max_latency;
  gdouble hysteresis;
  gdouble motion_threshold;

  /* Streaming thread only. `info` has only the size for image/jpeg. */
  GstVideoInfo info;
  gboolean jpeg;
  GstSegmenterMode run_mode; /* `mode` latched at start */
  guint64 frame_index;
  GstClockTime stats_last_time;
  guint64 stats_last_frames, stats_last_inferences, stats_last_dropped;
  gdouble stats_last_latency_sum;

  /* Inference thread only (streaming thread in sync mode, worker in
   * latest mode): the temporal filter and the model generation its
   * history belongs to. */
  seg_temporal *temporal;
  guint temporal_generation;
  SegJpeg *decoder; /* image/jpeg only */

  /* Everything below under `lock`. */
  GMutex lock;
  GCond cond;
  SegRunner *runner;
  guint generation;
  GThreadPool *loader;
  GThread *worker;
  gboolean worker_quit;
  SlotState slot;
  GstBuffer *staging;
  GstVideoInfo staging_info;
  guint64 staging_index;
  GstClockTime staging_pts;
  GstSegMask *result;
  guint64 result_index;
  GstClockTime result_pts;
  GstClockTime result_latency;
  guint64 frames_in, inferences, dropped;
  gdouble latency_sum;        /* ms */
  gdouble ring[LATENCY_RING]; /* ms */
  guint ring_len, ring_pos;

  /* The shared engine, from start to stop when `engine` is set; `stream`
   * also under `lock` for change_state and the properties. */
  SegEngine *shared;
  SegEngineStream *stream;
  guint64 stale;
};

/* Where gst_seg_frame_map decodes: only image/jpeg needs a decoder, made on
 * the first frame so that raw video never pays for one. */
static inline SegJpeg **
gst_segmenter_jpeg_decoder (GstSegmenter *self)
{
  return self->jpeg ? &self->decoder : NULL;
}

/* gstsegmenter.c */

/* Makes `mask` (transfer full) the newest result, of frame `index` at
 * `pts`, and counts the inference. Called with `lock` held. */
void gst_segmenter_publish_result (GstSegmenter *self, GstSegMask *mask,
    guint64 index, GstClockTime pts, GstClockTime latency);

/* Posts the segmenter-model element message. `threads`: what the model
 * runs on (0 for a shared engine). */
void gst_segmenter_post_model_message (GstSegmenter *self, const gchar *path,
    const seg_model_info *info, gint threads);

/* gstsegmenter-mask.c: on the inference thread (the streaming thread in
 * sync mode and for engine=NAME, the worker in latest mode), the one user
 * of the temporal filter. */

/* Runs the network on `frame` with `session`, of the model `mi` describes
 * and loaded as `generation` (a shared engine's: 0), and builds a new mask
 * (transfer full), or returns NULL with *error set (transfer full). */
GstSegMask *
gst_segmenter_run_inference (GstSegmenter *self, seg_session *session,
    const seg_model_info *mi, guint generation, const seg_frame *frame,
    const GstVideoInfo *info, GstClockTime *latency, gchar **error);

/* Sync mode, between inferences: the last mask carried along the motion
 * of the scene since its frame (transfer full), or NULL when nothing moved
 * (or the filter is off, or the model changed): then the mask is reused as
 * it is. The meta's age still counts from the inference. Sets *cut when
 * the frame is of another scene, which no reused mask fits. */
GstSegMask *gst_segmenter_track_mask (GstSegmenter *self, GstBuffer *buf,
    GstSegMask *ref, gboolean *cut);

/* gstsegmenter-shared.c: engine=NAME */

/* Joins (or creates) the engine `name` running the model at `path` with
 * `threads` workers; posts an element error and returns FALSE when it
 * cannot. */
gboolean gst_segmenter_shared_start (GstSegmenter *self, const gchar *name,
    const gchar *path, gint threads);

/* Leaves the engine; a no-op when start did not join one. */
void gst_segmenter_shared_stop (GstSegmenter *self);

/* Runs frame `index` on the engine and publishes its mask, or drops the
 * frame as stale (GST_BASE_TRANSFORM_FLOW_DROPPED). */
GstFlowReturn
gst_segmenter_shared_infer (GstSegmenter *self, GstBuffer *buf, guint64 index);

/* A streaming thread waiting on the engine must let go before its pad
 * can deactivate. */
void gst_segmenter_shared_set_flushing (GstSegmenter *self, gboolean flushing);

/* Adds the engine's fields to a stats structure; none without an engine. */
void gst_segmenter_shared_add_stats (GstSegmenter *self, GstStructure *s);

G_END_DECLS

#endif /* GST_SEGMENTER_PRIVATE_H */
