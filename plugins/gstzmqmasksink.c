/* zmqmasksink — publishes each buffer's mask on a ZeroMQ XPUB socket in
 * the segmask protocol (docs/protocol.md).
 *
 * The element is properties, start/stop and render; publishing (the
 * socket, its thread, CURVE keys and ZAP, subscription accounting, the
 * replay to late joiners, status) is libsegmask's segmask_pub, so the
 * trust boundary has one home with its own tests. `render` only takes a
 * reference on the meta's GstSegMask (never the video buffer, so a
 * camera's buffer pool is not starved) and hands it over; the library
 * drops the oldest mask and counts it when its ring is full, so `render`
 * never waits for the network.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstzmqmasksink.h"
#include "segmeta.h"

#include <segmask-pub.h>
#include <string.h>
#include <unistd.h>
#include <gst/video/video.h>
#include <zmq.h>

GST_DEBUG_CATEGORY_STATIC (gst_zmq_mask_sink_debug);
#define GST_CAT_DEFAULT gst_zmq_mask_sink_debug

#define DEFAULT_STREAM_NAME "default"
#define DEFAULT_ENCODING GST_ZMQ_MASK_ENCODING_RLE
#define DEFAULT_SNDHWM 16
#define DEFAULT_LATEST_ONLY FALSE
#define DEFAULT_IPC_MODE 0
#define DEFAULT_CAMERA_STATE "ok"
#define DEFAULT_MODEL_STATE "ok"
#define DEFAULT_MASK_KIND GST_ZMQ_MASK_KIND_AUTO
#define DEFAULT_ZSTD_LEVEL 1
#define DEFAULT_IPC_DIR "/run/segd"


enum
{
  PROP_0,
  PROP_ENDPOINT,
  PROP_STREAM_NAME,
  PROP_ENCODING,
  PROP_SNDHWM,
  PROP_LATEST_ONLY,
  PROP_CURVE_SECRET_KEY,
  PROP_CURVE_SECRET_KEY_FILE,
  PROP_CURVE_ALLOWED_KEYS,
  PROP_CURVE_ALLOWED_KEYS_FILE,
  PROP_IPC_MODE,
  PROP_IPC_GROUP,
  PROP_SUBSCRIBERS,
  PROP_STATS,
  PROP_CAMERA_STATE,
  PROP_MODEL_STATE,
  PROP_EXTRA_STATUS,
  PROP_MASK_KIND,
  PROP_ZSTD_LEVEL,
  PROP_BOUND_ENDPOINT,
};

struct _GstZmqMaskSink
{
  GstBaseSink parent;

  /* Properties, under the object lock. */
  gchar *endpoint;
  gchar *stream_name;
  GstZmqMaskEncoding encoding;
  gint sndhwm;
  gboolean latest_only;
  gchar *curve_secret_key;
  gchar *curve_secret_key_file;
  gchar *curve_allowed_keys;
  gchar *curve_allowed_keys_file;
  guint ipc_mode;
  gchar *ipc_group;
  gchar *camera_state;
  gchar *model_state;
  gchar *extra_status;
  GstZmqMaskKind mask_kind;
  gint zstd_level;
  gchar *bound_endpoint; /* what bind/connect resolved to */
  /* Set in start, cleared in stop (under the object lock, so property
   * reads and state updates never see a freed publisher). */
  segmask_pub *pub;
  segmask_pub_stats last_stats; /* kept from the last run after stop */

  /* Streaming thread only. */
  guint frame_width, frame_height;

  /* Atomic. */
  gint without_mask;
};

static GstStaticPadTemplate sink_template = GST_STATIC_PAD_TEMPLATE ("sink",
    GST_PAD_SINK, GST_PAD_ALWAYS, GST_STATIC_CAPS ("video/x-raw; image/jpeg"));

#define gst_zmq_mask_sink_parent_class parent_class
G_DEFINE_TYPE (GstZmqMaskSink, gst_zmq_mask_sink, GST_TYPE_BASE_SINK);
GST_ELEMENT_REGISTER_DEFINE (zmqmasksink, "zmqmasksink", GST_RANK_NONE,
    GST_TYPE_ZMQ_MASK_SINK);

#define GST_TYPE_ZMQ_MASK_ENCODING (gst_zmq_mask_encoding_get_type ())
static GType
gst_zmq_mask_encoding_get_type (void)
{
  static GType type = 0;
  static const GEnumValue values[] = {
      {GST_ZMQ_MASK_ENCODING_RAW, "Uncompressed (zero-copy)", "raw"},
      {GST_ZMQ_MASK_ENCODING_RLE, "Run-length", "rle"},
      {GST_ZMQ_MASK_ENCODING_ZSTD, "Zstandard", "zstd"},
      {0, NULL, NULL},
  };

  if (g_once_init_enter (&type))
    g_once_init_leave (&type,
        g_enum_register_static ("GstZmqMaskEncoding", values));
  return type;
}

#define GST_TYPE_ZMQ_MASK_KIND (gst_zmq_mask_kind_get_type ())
static GType
gst_zmq_mask_kind_get_type (void)
{
  static GType type = 0;
  static const GEnumValue values[] = {
      {GST_ZMQ_MASK_KIND_AUTO, "Class map if there is one, else probability",
          "auto"},
      {GST_ZMQ_MASK_KIND_CLASSES, "Class map", "classes"},
      {GST_ZMQ_MASK_KIND_PROBABILITY, "Foreground probability", "probability"},
      {0, NULL, NULL},
  };

  if (g_once_init_enter (&type))
    g_once_init_leave (&type,
        g_enum_register_static ("GstZmqMaskKind", values));
  return type;
}

static void
free_mask (void *data, void *hint)
{
  /* Called once per pushed mask, possibly from libzmq's I/O thread when
   * the last copy of a zero-copy payload is gone. */
  gst_seg_mask_unref (hint);
}

/* ---- callbacks from the publisher thread ---- */

static void
on_subscribers (void *user, int count)
{
  GstZmqMaskSink *self = user;

  GST_DEBUG_OBJECT (self, "%d subscriber(s)", count);
  g_object_notify (G_OBJECT (self), "subscribers");
  gst_element_post_message (GST_ELEMENT (self),
      gst_message_new_element (GST_OBJECT (self),
          gst_structure_new ("zmqmasksink-subscribers", "subscribers",
              G_TYPE_INT, count, NULL)));
}

static void
on_log (void *user, segmask_log_level level, const char *message)
{
  static const GstDebugLevel levels[] = {GST_LEVEL_ERROR, GST_LEVEL_WARNING,
      GST_LEVEL_INFO, GST_LEVEL_DEBUG};

  GST_CAT_LEVEL_LOG (GST_CAT_DEFAULT, levels[level <= 3 ? level : 3], user,
      "%s", message);
}

/* ---- start/stop ---- */

static gboolean
gst_zmq_mask_sink_start (GstBaseSink *sink)
{
  GstZmqMaskSink *self = GST_ZMQ_MASK_SINK (sink);
  segmask_pub_options o;
  segmask_pub *pub = NULL;
  gchar *endpoint, *stream, *secret, *secret_file, *allowed, *allowed_file,
      *group, *camera, *model, *extra;
  gchar err[512];
  segmask_status st;

  segmask_pub_options_init (&o);
  GST_OBJECT_LOCK (self);
  stream = g_strdup (self->stream_name);
  endpoint = self->endpoint && self->endpoint[0]
      ? g_strdup (self->endpoint)
      : g_strdup_printf ("ipc://" DEFAULT_IPC_DIR "/%s.sock",
          stream ? stream : "");
  o.encoding = (segmask_encoding) self->encoding;
  o.zstd_level = self->zstd_level;
  o.sndhwm = self->sndhwm;
  o.latest_only = self->latest_only;
  secret = g_strdup (self->curve_secret_key);
  secret_file = g_strdup (self->curve_secret_key_file);
  allowed = g_strdup (self->curve_allowed_keys);
  allowed_file = g_strdup (self->curve_allowed_keys_file);
  o.ipc_mode = self->ipc_mode;
  group = g_strdup (self->ipc_group);
  camera = g_strdup (self->camera_state);
  model = g_strdup (self->model_state);
  extra = g_strdup (self->extra_status);
  memset (&self->last_stats, 0, sizeof (self->last_stats));
  GST_OBJECT_UNLOCK (self);
  g_atomic_int_set (&self->without_mask, 0);

  o.endpoint = endpoint;
  o.stream = stream;
  o.curve_secret_key = secret;
  o.curve_secret_key_file = secret_file;
  o.curve_allowed_keys = allowed;
  o.curve_allowed_keys_file = allowed_file;
  o.ipc_group = group;
  o.on_subscribers = on_subscribers;
  o.log = on_log;
  o.user = self;
  st = segmask_pub_new (&o, &pub, err, sizeof (err));
  if (secret)
    memset (secret, 0, strlen (secret));
  if (st == SEGMASK_OK
      && segmask_pub_set_state (pub, camera ? camera : "", model ? model : "")
          != SEGMASK_OK)
    st = SEGMASK_ERR_NOMEM;
  if (st == SEGMASK_OK
      && segmask_pub_set_extra_status (pub, extra) != SEGMASK_OK)
    st = SEGMASK_ERR_NOMEM;
  g_free (extra);
  g_free (endpoint);
  g_free (secret);
  g_free (secret_file);
  g_free (allowed);
  g_free (allowed_file);
  g_free (group);
  g_free (camera);
  g_free (model);
  if (st != SEGMASK_OK)
    goto failed;

  GST_OBJECT_LOCK (self);
  self->pub = pub;
  g_free (self->bound_endpoint);
  self->bound_endpoint = g_strdup (segmask_pub_endpoint (pub));
  GST_OBJECT_UNLOCK (self);
  GST_INFO_OBJECT (self, "publishing stream \"%s\" on %s, %s", stream,
      segmask_pub_endpoint (pub), segmask_encoding_name (o.encoding));
  g_free (stream);
  return TRUE;

  /* ERRORS */
failed:
  segmask_pub_free (&pub);
  g_free (stream);
  if (st == SEGMASK_ERR_INVALID)
    GST_ELEMENT_ERROR (self, RESOURCE, SETTINGS, ("%s", err), (NULL));
  else if (st == SEGMASK_ERR_NOMEM)
    GST_ELEMENT_ERROR (self, RESOURCE, NO_SPACE_LEFT, ("%s", err), (NULL));
  else
    GST_ELEMENT_ERROR (self, RESOURCE, OPEN_WRITE, ("%s", err), (NULL));
  return FALSE;
}

static gboolean
gst_zmq_mask_sink_stop (GstBaseSink *sink)
{
  GstZmqMaskSink *self = GST_ZMQ_MASK_SINK (sink);
  segmask_pub *pub;

  GST_OBJECT_LOCK (self);
  pub = g_steal_pointer (&self->pub);
  if (pub)
    segmask_pub_get_stats (pub, &self->last_stats);
  GST_OBJECT_UNLOCK (self);
  /* Publishes what is queued, joins the thread: outside the lock, since
   * the thread's callbacks take it. */
  segmask_pub_free (&pub);
  return TRUE;
}

/* `render` never waits for the network and basesink's own clock waits are
 * unblocked by basesink itself, so there is nothing of ours to interrupt. */
static gboolean
gst_zmq_mask_sink_unlock (GstBaseSink *sink)
{
  return TRUE;
}

static gboolean
gst_zmq_mask_sink_unlock_stop (GstBaseSink *sink)
{
  return TRUE;
}

static gboolean
gst_zmq_mask_sink_set_caps (GstBaseSink *sink, GstCaps *caps)
{
  GstZmqMaskSink *self = GST_ZMQ_MASK_SINK (sink);
  GstStructure *s = gst_caps_get_structure (caps, 0);
  gint w = 0, h = 0;

  gst_structure_get_int (s, "width", &w);
  gst_structure_get_int (s, "height", &h);
  self->frame_width = (guint) MAX (w, 0);
  self->frame_height = (guint) MAX (h, 0);
  return TRUE;
}

static GstFlowReturn
gst_zmq_mask_sink_render (GstBaseSink *sink, GstBuffer *buf)
{
  GstZmqMaskSink *self = GST_ZMQ_MASK_SINK (sink);
  GstSegMeta *meta = gst_buffer_get_seg_meta (buf);
  GstZmqMaskKind want;
  segmask_pub_mask p = {0};
  GstClock *clock;
  guint64 real_now = (guint64) g_get_real_time () * 1000;
  GstClockTime frame_rt;

  if (!meta || !gst_seg_meta_get_mask (meta) || !self->pub)
    goto no_mask;
  GST_OBJECT_LOCK (self);
  want = self->mask_kind;
  GST_OBJECT_UNLOCK (self);
  if (want == GST_ZMQ_MASK_KIND_PROBABILITY
      || (want == GST_ZMQ_MASK_KIND_AUTO && !meta->classes)) {
    p.plane = meta->probability;
    p.kind = SEGMASK_KIND_PROBABILITY;
  } else {
    p.plane = meta->classes;
    p.kind = SEGMASK_KIND_CLASSES;
  }
  if (!p.plane)
    goto no_mask;

  /* The mask's pointers all live in the GstSegMask, which the publisher
   * keeps until free_mask. */
  p.owner = gst_seg_mask_ref (gst_seg_meta_get_mask (meta));
  p.release = free_mask;
  p.width = meta->width;
  p.height = meta->height;
  p.stride = meta->stride;
  p.num_classes = meta->num_classes;
  p.labels = (const char *const *) meta->labels;
  p.model_name = meta->model_name;
  p.model_sha256 = meta->model_sha256;
  p.frame_width = self->frame_width;
  p.frame_height = self->frame_height;
  p.inference_ns = GST_CLOCK_TIME_IS_VALID (meta->latency) ? meta->latency : 0;
  p.mask_age_ns = GST_CLOCK_TIME_IS_VALID (meta->age) ? meta->age : 0;
  p.mask_age_frames = meta->age_frames;

  /* Capture time: the source frame's running time, and wall-clock time
   * moved back by how long ago (in running time) that frame was. */
  frame_rt =
      gst_segment_to_running_time (&sink->segment, GST_FORMAT_TIME, meta->pts);
  p.capture_running_ns =
      GST_CLOCK_TIME_IS_VALID (frame_rt) ? frame_rt : SEGMASK_TIME_NONE;
  p.capture_realtime_ns = real_now - MIN (real_now, p.mask_age_ns);
  clock = gst_element_get_clock (GST_ELEMENT (self));
  if (clock && GST_CLOCK_TIME_IS_VALID (frame_rt)) {
    GstClockTime now = gst_clock_get_time (clock);
    GstClockTime base = gst_element_get_base_time (GST_ELEMENT (self));

    if (now >= base && now - base >= frame_rt)
      p.capture_realtime_ns = real_now - MIN (real_now, now - base - frame_rt);
  }
  if (clock)
    gst_object_unref (clock);

  /* Never blocks: a full ring drops the oldest mask and counts it. */
  segmask_pub_push (self->pub, &p);
  return GST_FLOW_OK;

no_mask:
  g_atomic_int_inc (&self->without_mask);
  return GST_FLOW_OK;
}

static gboolean
gst_zmq_mask_sink_event (GstBaseSink *sink, GstEvent *event)
{
  GstZmqMaskSink *self = GST_ZMQ_MASK_SINK (sink);

  /* The streaming thread sends EOS; stop cannot run meanwhile. */
  if (GST_EVENT_TYPE (event) == GST_EVENT_EOS && self->pub)
    segmask_pub_eos (self->pub);
  return GST_BASE_SINK_CLASS (parent_class)->event (sink, event);
}

/* Call with the object lock held. */
static void
current_stats (GstZmqMaskSink *self, segmask_pub_stats *st)
{
  if (self->pub)
    segmask_pub_get_stats (self->pub, st);
  else
    *st = self->last_stats;
}

/* Call with the object lock held. */
static GstStructure *
make_stats (GstZmqMaskSink *self)
{
  segmask_pub_stats st;

  current_stats (self, &st);
  return gst_structure_new ("zmqmasksink-stats", "published", G_TYPE_UINT64,
      (guint64) st.published, "dropped", G_TYPE_UINT64, (guint64) st.dropped,
      "bytes", G_TYPE_UINT64, (guint64) st.bytes, "subscribers", G_TYPE_INT,
      st.subscribers, "rejected", G_TYPE_UINT64, (guint64) st.rejected,
      "replayed", G_TYPE_UINT64, (guint64) st.replayed, "without-mask",
      G_TYPE_UINT64, (guint64) (guint) g_atomic_int_get (&self->without_mask),
      NULL);
}

static void
set_string (GstZmqMaskSink *self, gchar **field, const GValue *value)
{
  GST_OBJECT_LOCK (self);
  g_free (*field);
  *field = g_value_dup_string (value);
  GST_OBJECT_UNLOCK (self);
}

static void
gst_zmq_mask_sink_set_property (GObject *object, guint prop_id,
    const GValue *value, GParamSpec *pspec)
{
  GstZmqMaskSink *self = GST_ZMQ_MASK_SINK (object);

  switch (prop_id) {
    case PROP_ENDPOINT:
      set_string (self, &self->endpoint, value);
      break;
    case PROP_STREAM_NAME:
      set_string (self, &self->stream_name, value);
      break;
    case PROP_CURVE_SECRET_KEY:
      set_string (self, &self->curve_secret_key, value);
      break;
    case PROP_CURVE_SECRET_KEY_FILE:
      set_string (self, &self->curve_secret_key_file, value);
      break;
    case PROP_CURVE_ALLOWED_KEYS:
      set_string (self, &self->curve_allowed_keys, value);
      break;
    case PROP_CURVE_ALLOWED_KEYS_FILE:
      set_string (self, &self->curve_allowed_keys_file, value);
      break;
    case PROP_IPC_GROUP:
      set_string (self, &self->ipc_group, value);
      break;
    case PROP_CAMERA_STATE:
    case PROP_MODEL_STATE:
      GST_OBJECT_LOCK (self);
      g_free (prop_id == PROP_CAMERA_STATE ? self->camera_state
                                           : self->model_state);
      *(prop_id == PROP_CAMERA_STATE ? &self->camera_state
                                     : &self->model_state) =
          g_value_dup_string (value);
      if (self->pub
          && segmask_pub_set_state (self->pub,
                 prop_id == PROP_CAMERA_STATE ? g_value_get_string (value)
                                              : NULL,
                 prop_id == PROP_MODEL_STATE ? g_value_get_string (value)
                                             : NULL)
              != SEGMASK_OK)
        GST_WARNING_OBJECT (self, "out of memory for the status text");
      GST_OBJECT_UNLOCK (self);
      break;
    case PROP_EXTRA_STATUS:
      GST_OBJECT_LOCK (self);
      g_free (self->extra_status);
      self->extra_status = g_value_dup_string (value);
      if (self->pub
          && segmask_pub_set_extra_status (self->pub, self->extra_status)
              != SEGMASK_OK)
        GST_WARNING_OBJECT (self, "out of memory for the status text");
      GST_OBJECT_UNLOCK (self);
      break;
    case PROP_ENCODING:
      GST_OBJECT_LOCK (self);
      self->encoding = g_value_get_enum (value);
      GST_OBJECT_UNLOCK (self);
      break;
    case PROP_MASK_KIND:
      GST_OBJECT_LOCK (self);
      self->mask_kind = g_value_get_enum (value);
      GST_OBJECT_UNLOCK (self);
      break;
    case PROP_SNDHWM:
      GST_OBJECT_LOCK (self);
      self->sndhwm = g_value_get_int (value);
      GST_OBJECT_UNLOCK (self);
      break;
    case PROP_ZSTD_LEVEL:
      GST_OBJECT_LOCK (self);
      self->zstd_level = g_value_get_int (value);
      GST_OBJECT_UNLOCK (self);
      break;
    case PROP_LATEST_ONLY:
      GST_OBJECT_LOCK (self);
      self->latest_only = g_value_get_boolean (value);
      GST_OBJECT_UNLOCK (self);
      break;
    case PROP_IPC_MODE:
      GST_OBJECT_LOCK (self);
      self->ipc_mode = g_value_get_uint (value);
      GST_OBJECT_UNLOCK (self);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
}

static void
gst_zmq_mask_sink_get_property (GObject *object, guint prop_id, GValue *value,
    GParamSpec *pspec)
{
  GstZmqMaskSink *self = GST_ZMQ_MASK_SINK (object);

  GST_OBJECT_LOCK (self);
  switch (prop_id) {
    case PROP_ENDPOINT:
      g_value_set_string (value, self->endpoint);
      break;
    case PROP_STREAM_NAME:
      g_value_set_string (value, self->stream_name);
      break;
    case PROP_CURVE_SECRET_KEY:
      g_value_set_string (value, self->curve_secret_key);
      break;
    case PROP_CURVE_SECRET_KEY_FILE:
      g_value_set_string (value, self->curve_secret_key_file);
      break;
    case PROP_CURVE_ALLOWED_KEYS:
      g_value_set_string (value, self->curve_allowed_keys);
      break;
    case PROP_CURVE_ALLOWED_KEYS_FILE:
      g_value_set_string (value, self->curve_allowed_keys_file);
      break;
    case PROP_IPC_GROUP:
      g_value_set_string (value, self->ipc_group);
      break;
    case PROP_CAMERA_STATE:
      g_value_set_string (value, self->camera_state);
      break;
    case PROP_EXTRA_STATUS:
      g_value_set_string (value, self->extra_status);
      break;
    case PROP_MODEL_STATE:
      g_value_set_string (value, self->model_state);
      break;
    case PROP_ENCODING:
      g_value_set_enum (value, self->encoding);
      break;
    case PROP_MASK_KIND:
      g_value_set_enum (value, self->mask_kind);
      break;
    case PROP_SNDHWM:
      g_value_set_int (value, self->sndhwm);
      break;
    case PROP_ZSTD_LEVEL:
      g_value_set_int (value, self->zstd_level);
      break;
    case PROP_LATEST_ONLY:
      g_value_set_boolean (value, self->latest_only);
      break;
    case PROP_IPC_MODE:
      g_value_set_uint (value, self->ipc_mode);
      break;
    case PROP_BOUND_ENDPOINT:
      g_value_set_string (value, self->bound_endpoint);
      break;
    case PROP_SUBSCRIBERS: {
      segmask_pub_stats st;

      current_stats (self, &st);
      g_value_set_int (value, st.subscribers);
      break;
    }
    case PROP_STATS:
      g_value_take_boxed (value, make_stats (self));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);
}

static void
gst_zmq_mask_sink_finalize (GObject *object)
{
  GstZmqMaskSink *self = GST_ZMQ_MASK_SINK (object);

  segmask_pub_free (&self->pub);
  g_free (self->endpoint);
  g_free (self->stream_name);
  g_free (self->curve_secret_key);
  g_free (self->curve_secret_key_file);
  g_free (self->curve_allowed_keys);
  g_free (self->curve_allowed_keys_file);
  g_free (self->ipc_group);
  g_free (self->camera_state);
  g_free (self->model_state);
  g_free (self->extra_status);
  g_free (self->bound_endpoint);
  G_OBJECT_CLASS (parent_class)->finalize (object);
}

static void
gst_zmq_mask_sink_class_init (GstZmqMaskSinkClass *klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);
  GstBaseSinkClass *sink_class = GST_BASE_SINK_CLASS (klass);
  const GParamFlags rw =
      G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_READY;

  GST_DEBUG_CATEGORY_INIT (gst_zmq_mask_sink_debug, "zmqmasksink", 0,
      "segmentation masks over ZeroMQ");

  gobject_class->set_property = gst_zmq_mask_sink_set_property;
  gobject_class->get_property = gst_zmq_mask_sink_get_property;
  gobject_class->finalize = gst_zmq_mask_sink_finalize;

  g_object_class_install_property (gobject_class, PROP_ENDPOINT,
      g_param_spec_string ("endpoint", "Endpoint",
          "ZeroMQ endpoint (tcp://, ipc://); binds, or connects with a '>' "
          "prefix. Default: ipc://" DEFAULT_IPC_DIR "/<stream-name>.sock",
          NULL, rw));
  g_object_class_install_property (gobject_class, PROP_STREAM_NAME,
      g_param_spec_string ("stream-name", "Stream name",
          "Name in the topics mask/<name> and status/<name>",
          DEFAULT_STREAM_NAME, rw));
  g_object_class_install_property (gobject_class, PROP_ENCODING,
      g_param_spec_enum ("encoding", "Encoding", "Payload encoding",
          GST_TYPE_ZMQ_MASK_ENCODING, DEFAULT_ENCODING, rw));
  g_object_class_install_property (gobject_class, PROP_MASK_KIND,
      g_param_spec_enum ("mask-kind", "Mask kind", "Which plane to publish",
          GST_TYPE_ZMQ_MASK_KIND, DEFAULT_MASK_KIND, rw));
  g_object_class_install_property (gobject_class, PROP_ZSTD_LEVEL,
      g_param_spec_int ("zstd-level", "zstd level",
          "Compression level of encoding=zstd", 1, 19, DEFAULT_ZSTD_LEVEL, rw));
  g_object_class_install_property (gobject_class, PROP_SNDHWM,
      g_param_spec_int ("sndhwm", "Send high-water mark",
          "Messages queued per subscriber before libzmq drops for it "
          "(0: unlimited)",
          0, G_MAXINT, DEFAULT_SNDHWM, rw));
  g_object_class_install_property (gobject_class, PROP_LATEST_ONLY,
      g_param_spec_boolean ("latest-only", "Latest only",
          "Keep at most one mask queued per subscriber and in the element, "
          "so a slow subscriber gets the newest mask",
          DEFAULT_LATEST_ONLY, rw));
  g_object_class_install_property (gobject_class, PROP_CURVE_SECRET_KEY,
      g_param_spec_string ("curve-secret-key", "CURVE secret key",
          "Server secret key (Z85); enables CURVE. Prefer "
          "curve-secret-key-file: a property value shows up in pipeline "
          "descriptions and logs",
          NULL, rw));
  g_object_class_install_property (gobject_class, PROP_CURVE_SECRET_KEY_FILE,
      g_param_spec_string ("curve-secret-key-file", "CURVE secret key file",
          "File holding the server secret key: one Z85 key, or a czmq "
          "secret certificate (*.key_secret); enables CURVE",
          NULL, rw));
  g_object_class_install_property (gobject_class, PROP_CURVE_ALLOWED_KEYS,
      g_param_spec_string ("curve-allowed-keys", "Allowed CURVE clients",
          "Client public keys (Z85, comma-separated) allowed to subscribe; "
          "unset: any client that knows the server key; set but empty: "
          "nobody",
          NULL, rw));
  g_object_class_install_property (gobject_class, PROP_CURVE_ALLOWED_KEYS_FILE,
      g_param_spec_string ("curve-allowed-keys-file",
          "Allowed CURVE clients file",
          "Allowed client public keys: a file of Z85 keys, a czmq "
          "public certificate, or a directory of them (czmq's certificate "
          "store; *_secret files are skipped); an empty one admits nobody",
          NULL, rw));
  g_object_class_install_property (gobject_class, PROP_IPC_MODE,
      g_param_spec_uint ("ipc-mode", "ipc socket mode",
          "File mode of a bound ipc:// socket (e.g. 0660; 0: leave), set "
          "before any client can connect",
          0, 07777, DEFAULT_IPC_MODE, rw));
  g_object_class_install_property (gobject_class, PROP_IPC_GROUP,
      g_param_spec_string ("ipc-group", "ipc socket group",
          "Group of a bound ipc:// socket file", NULL, rw));
  g_object_class_install_property (gobject_class, PROP_CAMERA_STATE,
      g_param_spec_string ("camera-state", "Camera state",
          "Text sent in the status message", DEFAULT_CAMERA_STATE,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS
              | GST_PARAM_MUTABLE_PLAYING));
  g_object_class_install_property (gobject_class, PROP_EXTRA_STATUS,
      g_param_spec_string ("extra-status", "Extra status",
          "Further key=value lines of the status message (segd's per-stream "
          "scheduler counters)",
          NULL,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS
              | GST_PARAM_MUTABLE_PLAYING));
  g_object_class_install_property (gobject_class, PROP_MODEL_STATE,
      g_param_spec_string ("model-state", "Model state",
          "Text sent in the status message as model_state (\"ok\", or why "
          "the last model reload failed)",
          DEFAULT_MODEL_STATE,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS
              | GST_PARAM_MUTABLE_PLAYING));
  g_object_class_install_property (gobject_class, PROP_BOUND_ENDPOINT,
      g_param_spec_string ("bound-endpoint", "Bound endpoint",
          "The endpoint as libzmq resolved it (e.g. the port of tcp://*:*)",
          NULL, G_PARAM_READABLE | G_PARAM_STATIC_STRINGS));
  g_object_class_install_property (gobject_class, PROP_SUBSCRIBERS,
      g_param_spec_int ("subscribers", "Subscribers",
          "Connections currently subscribed to the masks", 0, G_MAXINT, 0,
          G_PARAM_READABLE | G_PARAM_STATIC_STRINGS));
  g_object_class_install_property (gobject_class, PROP_STATS,
      g_param_spec_boxed ("stats", "Statistics",
          "published, dropped, bytes, subscribers, rejected, replayed, "
          "without-mask",
          GST_TYPE_STRUCTURE, G_PARAM_READABLE | G_PARAM_STATIC_STRINGS));

  gst_element_class_add_static_pad_template (element_class, &sink_template);
  gst_element_class_set_static_metadata (element_class,
      "Segmentation mask ZeroMQ publisher", "Sink/Network",
      "Publishes GstSegMeta masks over ZeroMQ (segmask protocol)", "segd");

  sink_class->start = GST_DEBUG_FUNCPTR (gst_zmq_mask_sink_start);
  sink_class->stop = GST_DEBUG_FUNCPTR (gst_zmq_mask_sink_stop);
  sink_class->unlock = GST_DEBUG_FUNCPTR (gst_zmq_mask_sink_unlock);
  sink_class->unlock_stop = GST_DEBUG_FUNCPTR (gst_zmq_mask_sink_unlock_stop);
  sink_class->set_caps = GST_DEBUG_FUNCPTR (gst_zmq_mask_sink_set_caps);
  sink_class->render = GST_DEBUG_FUNCPTR (gst_zmq_mask_sink_render);
  sink_class->event = GST_DEBUG_FUNCPTR (gst_zmq_mask_sink_event);

  gst_type_mark_as_plugin_api (GST_TYPE_ZMQ_MASK_ENCODING, 0);
  gst_type_mark_as_plugin_api (GST_TYPE_ZMQ_MASK_KIND, 0);
}

static void
gst_zmq_mask_sink_init (GstZmqMaskSink *self)
{
  self->stream_name = g_strdup (DEFAULT_STREAM_NAME);
  self->encoding = DEFAULT_ENCODING;
  self->sndhwm = DEFAULT_SNDHWM;
  self->latest_only = DEFAULT_LATEST_ONLY;
  self->ipc_mode = DEFAULT_IPC_MODE;
  self->camera_state = g_strdup (DEFAULT_CAMERA_STATE);
  self->model_state = g_strdup (DEFAULT_MODEL_STATE);
  self->mask_kind = DEFAULT_MASK_KIND;
  self->zstd_level = DEFAULT_ZSTD_LEVEL;
  /* Masks go out as soon as they exist; a live pipeline must not preroll
   * waiting for us either. */
  gst_base_sink_set_sync (GST_BASE_SINK (self), FALSE);
  /* last-sample would keep a video frame alive for nothing. */
  gst_base_sink_set_last_sample_enabled (GST_BASE_SINK (self), FALSE);
}
