/* segd-metrics — what /metrics reports, counted where it happens.
 *
 * The streaming threads pay for this on every frame, whether anybody
 * scrapes or not, so the per-frame work is fixed and small: an atomic add
 * for each frame from the source and each leaky-queue drop, and for each
 * mask at the sink one uncontended mutex around a handful of additions
 * into fixed-size histograms (no allocation, no logging). Everything else
 * is done on the main loop when a scrape asks: the elements' own
 * counters are read from their `stats` properties, and the text is built
 * then.
 *
 * Names follow the Prometheus conventions: base units (seconds, bytes),
 * `_total` for counters, one `stream` label so that several segd
 * instances scraped into one Prometheus stay apart, and states as a set
 * of 0/1 gauges with a `state` label.
 */
#include "segd-metrics.h"

#include <segmeta.h>
#include <string.h>

#define MAX_BUCKETS 12

typedef struct
{
  const gdouble *bounds; /* upper bounds in seconds, ascending */
  guint n_bounds;
  guint64 counts[MAX_BUCKETS + 1]; /* per bucket, the last one is +Inf */
  gdouble sum;
  guint64 count;
} Histogram;

/* Inference takes 5..50 ms on a desktop core and up to a second on a
 * small board; capture to publish adds queueing and the camera's own
 * delay. Doubling buckets cover both with one decimal digit of
 * resolution per octave. */
static const gdouble inference_bounds[] = {0.0025, 0.005, 0.01, 0.02, 0.04,
    0.08, 0.16, 0.32, 0.64, 1.28};
static const gdouble latency_bounds[] = {0.005, 0.01, 0.02, 0.04, 0.08, 0.16,
    0.32, 0.64, 1.28, 2.56};

typedef struct
{
  GstElement *element;
  GstPad *pad;
  gulong id;
} Probe;

struct _SegdMetrics
{
  GstElement *segmenter, *sink;
  Probe frames_probe, sink_probe;
  GstElement *queues[2];
  gulong overrun_ids[2];

  /* Atomic: written by streaming threads, read by the main loop. */
  guint64 frames;
  guint64 queue_drops;

  /* Under `lock`: the sink probe's state. */
  GMutex lock;
  GstSegment segment;
  guint64 masks;
  gconstpointer last_mask;
  GstClockTime last_mask_pts;
  Histogram inference, latency;
};

static void
histogram_init (Histogram *h, const gdouble *bounds, guint n)
{
  g_assert (n <= MAX_BUCKETS);
  memset (h, 0, sizeof *h);
  h->bounds = bounds;
  h->n_bounds = n;
}

static void
histogram_observe (Histogram *h, gdouble v)
{
  guint i = 0;

  while (i < h->n_bounds && v > h->bounds[i])
    i++;
  h->counts[i]++;
  h->sum += v;
  h->count++;
}

/* Atomic adds for 64-bit counters: GLib has none for guint64, the
 * compiler's builtins are in every GCC and Clang we build with. */
static inline void
counter_inc (guint64 *c)
{
  __atomic_add_fetch (c, 1, __ATOMIC_RELAXED);
}

static inline guint64
counter_get (guint64 *c)
{
  return __atomic_load_n (c, __ATOMIC_RELAXED);
}

static GstPadProbeReturn
frames_probe (GstPad *pad, GstPadProbeInfo *info, gpointer user_data)
{
  SegdMetrics *m = user_data;

  if (info->type & GST_PAD_PROBE_TYPE_BUFFER)
    counter_inc (&m->frames);
  else if (info->type & GST_PAD_PROBE_TYPE_BUFFER_LIST)
    __atomic_add_fetch (&m->frames,
        gst_buffer_list_length (GST_PAD_PROBE_INFO_BUFFER_LIST (info)),
        __ATOMIC_RELAXED);
  return GST_PAD_PROBE_OK;
}

/* The leaky queues signal `overrun` once for each buffer they are about
 * to drop (downstream leaking drops the oldest until one fits). */
static void
on_overrun (GstElement *queue, gpointer user_data)
{
  SegdMetrics *m = user_data;

  counter_inc (&m->queue_drops);
}

/* Same clock arithmetic as the daemon's STATUS latency: capture is the
 * buffer's PTS in running time, publish is the pipeline clock now. */
static GstPadProbeReturn
sink_probe (GstPad *pad, GstPadProbeInfo *info, gpointer user_data)
{
  SegdMetrics *m = user_data;
  GstBuffer *buf;
  GstSegMeta *meta;
  GstElement *sink;
  GstClock *clock;
  GstClockTime now = GST_CLOCK_TIME_NONE, base, rt;
  gconstpointer mask;

  if (info->type & GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM) {
    GstEvent *event = GST_PAD_PROBE_INFO_EVENT (info);

    if (GST_EVENT_TYPE (event) == GST_EVENT_SEGMENT) {
      const GstSegment *seg;

      gst_event_parse_segment (event, &seg);
      g_mutex_lock (&m->lock);
      gst_segment_copy_into (seg, &m->segment);
      g_mutex_unlock (&m->lock);
    }
    return GST_PAD_PROBE_OK;
  }
  if (!(info->type & GST_PAD_PROBE_TYPE_BUFFER))
    return GST_PAD_PROBE_OK;

  buf = GST_PAD_PROBE_INFO_BUFFER (info);
  meta = gst_buffer_get_seg_meta (buf);
  if (!meta)
    return GST_PAD_PROBE_OK;

  sink = GST_ELEMENT (GST_PAD_PARENT (pad));
  clock = gst_element_get_clock (sink);
  if (clock) {
    now = gst_clock_get_time (clock);
    gst_object_unref (clock);
  }
  base = gst_element_get_base_time (sink);
  mask = gst_seg_meta_get_mask (meta);

  g_mutex_lock (&m->lock);
  m->masks++;
  rt = m->segment.format == GST_FORMAT_TIME
      ? gst_segment_to_running_time (&m->segment, GST_FORMAT_TIME,
          GST_BUFFER_PTS (buf))
      : GST_CLOCK_TIME_NONE;
  if (GST_CLOCK_TIME_IS_VALID (now) && GST_CLOCK_TIME_IS_VALID (rt)
      && now >= base + rt)
    histogram_observe (&m->latency, (now - base - rt) / 1e9);
  /* A mask is reused for the frames between inferences (interval, latest
   * mode): count each inference once, when its mask first arrives. */
  if (mask != m->last_mask || meta->pts != m->last_mask_pts) {
    m->last_mask = mask;
    m->last_mask_pts = meta->pts;
    if (GST_CLOCK_TIME_IS_VALID (meta->latency))
      histogram_observe (&m->inference, meta->latency / 1e9);
  }
  g_mutex_unlock (&m->lock);
  return GST_PAD_PROBE_OK;
}

static void
probe_add (Probe *p, GstElement *pipeline, const gchar *element,
    const gchar *pad, GstPadProbeType mask, GstPadProbeCallback callback,
    gpointer data)
{
  p->element = gst_bin_get_by_name (GST_BIN (pipeline), element);
  if (!p->element)
    return;
  p->pad = gst_element_get_static_pad (p->element, pad);
  if (p->pad)
    p->id = gst_pad_add_probe (p->pad, mask, callback, data, NULL);
}

static void
probe_remove (Probe *p)
{
  if (p->pad && p->id)
    gst_pad_remove_probe (p->pad, p->id);
  gst_clear_object (&p->pad);
  gst_clear_object (&p->element);
}

SegdMetrics *
segd_metrics_new (GstElement *pipeline)
{
  SegdMetrics *m = g_new0 (SegdMetrics, 1);
  static const gchar *const queues[] = {"frames", "masks"};

  g_mutex_init (&m->lock);
  gst_segment_init (&m->segment, GST_FORMAT_UNDEFINED);
  m->last_mask_pts = GST_CLOCK_TIME_NONE;
  histogram_init (&m->inference, inference_bounds,
      G_N_ELEMENTS (inference_bounds));
  histogram_init (&m->latency, latency_bounds, G_N_ELEMENTS (latency_bounds));

  m->segmenter = gst_bin_get_by_name (GST_BIN (pipeline), "segmenter");
  m->sink = gst_bin_get_by_name (GST_BIN (pipeline), "sink");
  probe_add (&m->frames_probe, pipeline, "frames", "sink",
      GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_BUFFER_LIST, frames_probe,
      m);
  probe_add (&m->sink_probe, pipeline, "sink", "sink",
      GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM,
      sink_probe, m);
  for (guint i = 0; i < G_N_ELEMENTS (queues); i++) {
    m->queues[i] = gst_bin_get_by_name (GST_BIN (pipeline), queues[i]);
    if (m->queues[i])
      m->overrun_ids[i] = g_signal_connect (m->queues[i], "overrun",
          G_CALLBACK (on_overrun), m);
  }
  return m;
}

void
segd_metrics_free (SegdMetrics *m)
{
  if (!m)
    return;
  probe_remove (&m->frames_probe);
  probe_remove (&m->sink_probe);
  for (guint i = 0; i < G_N_ELEMENTS (m->queues); i++) {
    if (m->queues[i] && m->overrun_ids[i])
      g_signal_handler_disconnect (m->queues[i], m->overrun_ids[i]);
    gst_clear_object (&m->queues[i]);
  }
  gst_clear_object (&m->segmenter);
  gst_clear_object (&m->sink);
  g_mutex_clear (&m->lock);
  g_free (m);
}

/* The element's `stats` structure, or NULL when it has none (fakesink in
 * tests, another publishing element). (transfer full) */
static GstStructure *
element_stats (GstElement *element)
{
  GParamSpec *spec;
  GstStructure *s = NULL;

  if (!element)
    return NULL;
  spec = g_object_class_find_property (G_OBJECT_GET_CLASS (element), "stats");
  if (!spec || spec->value_type != GST_TYPE_STRUCTURE)
    return NULL;
  g_object_get (element, "stats", &s, NULL);
  return s;
}

static guint64
stats_u64 (const GstStructure *s, const gchar *field, gboolean *found)
{
  guint64 v = 0;
  gboolean ok = s && gst_structure_get_uint64 (s, field, &v);

  if (found)
    *found = ok;
  return ok ? v : 0;
}

void
segd_metrics_get_counts (SegdMetrics *m, SegdMetricsCounts *c)
{
  g_autoptr (GstStructure) seg = element_stats (m->segmenter);
  g_autoptr (GstStructure) sink = element_stats (m->sink);

  memset (c, 0, sizeof *c);
  c->frames = counter_get (&m->frames);
  c->inferences = stats_u64 (seg, "inferences", NULL);
  c->dropped =
      counter_get (&m->queue_drops) + stats_u64 (sink, "dropped", NULL);
  c->published_bytes = stats_u64 (sink, "bytes", &c->have_bytes);
}

/* Label values escape backslash, double quote and newline. */
static void
append_label (GString *out, const gchar *name, const gchar *value)
{
  g_string_append_printf (out, "%s=\"", name);
  for (const gchar *p = value ? value : ""; *p; p++) {
    if (*p == '\\' || *p == '"')
      g_string_append_c (out, '\\');
    if (*p == '\n')
      g_string_append (out, "\\n");
    else
      g_string_append_c (out, *p);
  }
  g_string_append_c (out, '"');
}

static void
header (GString *out, const gchar *name, const gchar *type, const gchar *help)
{
  g_string_append_printf (out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name,
      type);
}

static void
append_double (GString *out, gdouble v)
{
  gchar buf[G_ASCII_DTOSTR_BUF_SIZE];

  g_string_append (out, g_ascii_formatd (buf, sizeof buf, "%.9g", v));
}

/* One sample: name{stream="...",extra_label="extra_value"} value. */
static void
sample (GString *out, const gchar *name, const gchar *stream,
    const gchar *extra_label, const gchar *extra_value, gdouble value)
{
  g_string_append_printf (out, "%s{", name);
  append_label (out, "stream", stream);
  if (extra_label) {
    g_string_append_c (out, ',');
    append_label (out, extra_label, extra_value);
  }
  g_string_append_c (out, '}');
  g_string_append_c (out, ' ');
  append_double (out, value);
  g_string_append_c (out, '\n');
}

static void
counter (GString *out, const gchar *name, const gchar *help,
    const gchar *stream, guint64 value)
{
  header (out, name, "counter", help);
  g_string_append_printf (out, "%s{", name);
  append_label (out, "stream", stream);
  g_string_append_printf (out, "} %" G_GUINT64_FORMAT "\n", value);
}

static void
histogram (GString *out, const gchar *name, const gchar *help,
    const gchar *stream, const Histogram *h)
{
  guint64 cumulative = 0;
  gchar le[G_ASCII_DTOSTR_BUF_SIZE];

  header (out, name, "histogram", help);
  for (guint i = 0; i <= h->n_bounds; i++) {
    cumulative += h->counts[i];
    g_string_append_printf (out, "%s_bucket{", name);
    append_label (out, "stream", stream);
    g_string_append_c (out, ',');
    append_label (out, "le",
        i < h->n_bounds ? g_ascii_formatd (le, sizeof le, "%g", h->bounds[i])
                        : "+Inf");
    g_string_append_printf (out, "} %" G_GUINT64_FORMAT "\n", cumulative);
  }
  g_string_append_printf (out, "%s_sum{", name);
  append_label (out, "stream", stream);
  g_string_append (out, "} ");
  append_double (out, h->sum);
  g_string_append_printf (out, "\n%s_count{", name);
  append_label (out, "stream", stream);
  g_string_append_printf (out, "} %" G_GUINT64_FORMAT "\n", h->count);
}

static void
state_set (GString *out, const gchar *name, const gchar *help,
    const gchar *stream, const gchar *const *states, const gchar *current)
{
  header (out, name, "gauge", help);
  for (guint i = 0; states[i]; i++)
    sample (out, name, stream, "state", states[i],
        !g_strcmp0 (states[i], current));
}

void
segd_metrics_render (SegdMetrics *m, const SegdStatus *st, GString *out)
{
  static const gchar *const camera_states[] = {"ok", "waiting", "network-error",
      "blocked", "idle", "stalled", "stopping", NULL};
  static const gchar *const model_states[] = {"ok", "error", NULL};
  g_autoptr (GstStructure) seg = element_stats (m->segmenter);
  g_autoptr (GstStructure) sink = element_stats (m->sink);
  Histogram inference, latency;
  guint64 masks;
  gboolean have_bytes;
  guint64 bytes;

  g_mutex_lock (&m->lock);
  inference = m->inference;
  latency = m->latency;
  masks = m->masks;
  g_mutex_unlock (&m->lock);

  counter (out, "segd_frames_total", "Frames the source delivered.", st->stream,
      counter_get (&m->frames));
  counter (out, "segd_inferences_total",
      "Runs of the segmentation "
      "network.",
      st->stream, stats_u64 (seg, "inferences", NULL));
  counter (out, "segd_inferences_skipped_total",
      "Frames due for "
      "inference while the network was busy (segmenter mode latest); they "
      "carry the previous mask.",
      st->stream, stats_u64 (seg, "dropped", NULL));
  counter (out, "segd_masks_total",
      "Frames with a mask that reached the "
      "publishing sink.",
      st->stream, masks);

  header (out, "segd_dropped_frames_total", "counter",
      "Frames dropped: "
      "reason queue, by a full leaky queue (the network or the sink was "
      "slower than the camera); reason sink, by the publisher's own "
      "queue.");
  sample (out, "segd_dropped_frames_total", st->stream, "reason", "queue",
      counter_get (&m->queue_drops));
  if (sink && gst_structure_has_field (sink, "dropped"))
    sample (out, "segd_dropped_frames_total", st->stream, "reason", "sink",
        stats_u64 (sink, "dropped", NULL));

  bytes = stats_u64 (sink, "bytes", &have_bytes);
  if (have_bytes)
    counter (out, "segd_published_bytes_total",
        "Bytes of mask messages "
        "handed to ZeroMQ.",
        st->stream, bytes);

  histogram (out, "segd_inference_seconds",
      "Time one run of the network "
      "took, for the masks that reached the sink.",
      st->stream, &inference);
  histogram (out, "segd_capture_to_publish_seconds",
      "From the frame's "
      "capture timestamp to its mask reaching the publishing sink.",
      st->stream, &latency);

  header (out, "segd_subscribers", "gauge",
      "Current subscriptions to the "
      "mask stream.");
  sample (out, "segd_subscribers", st->stream, NULL, NULL, st->subscribers);

  state_set (out, "segd_camera_state",
      "Source state: 1 for the current "
      "one. waiting: the camera is missing or failed and segd retries; "
      "network-error, blocked: a network camera cannot be reached (blocked: "
      "connecting was denied on this host, as by IPAddressDeny=) and segd "
      "retries; idle: closed on demand.",
      st->stream, camera_states, st->camera_state);
  state_set (out, "segd_model_state",
      "Model state: 1 for the current one. "
      "error: the last load failed (the previous model keeps serving).",
      st->stream, model_states, st->model_error ? "error" : "ok");
  header (out, "segd_model_info", "gauge", "The model in use, as a label.");
  sample (out, "segd_model_info", st->stream, "model",
      st->model ? st->model : "", 1);
}
