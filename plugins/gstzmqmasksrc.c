/* zmqmasksrc — a live source that subscribes to a zmqmasksink and pushes
 * each mask as a video/x-raw GRAY8 frame (class indexes or probability,
 * as published), timestamped on arrival, with the capture wall-clock time
 * as a GstReferenceTimestampMeta (timestamp/x-unix).
 *
 * Receiving, validation and decoding are the segmask library's, so the
 * element and other subscribers reject exactly the same messages. The
 * socket is opened in `start`, used only by the streaming thread in
 * `create` and closed in `stop` after that thread is gone; `unlock` wakes
 * the wait through an eventfd. libzmq reconnects by itself.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstzmqmasksrc.h"

#include <errno.h>
#include <segmask.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>
#include <gst/video/video.h>

GST_DEBUG_CATEGORY_STATIC (gst_zmq_mask_src_debug);
#define GST_CAT_DEFAULT gst_zmq_mask_src_debug

#define DEFAULT_STREAM_NAME "default"
#define DEFAULT_RCVHWM 16
#define DEFAULT_LATEST_ONLY FALSE
#define DEFAULT_MAX_SIZE (64u << 20)
/* How often create() looks at the rejection counter while idle. */
#define POLL_MS 200

enum
{
  PROP_0,
  PROP_ENDPOINT,
  PROP_STREAM_NAME,
  PROP_RCVHWM,
  PROP_LATEST_ONLY,
  PROP_MAX_SIZE,
  PROP_CURVE_SERVER_KEY,
  PROP_CURVE_PUBLIC_KEY,
  PROP_CURVE_SECRET_KEY,
  PROP_STATS,
  PROP_CURVE_SERVER_KEY_FILE,
  PROP_CURVE_SECRET_KEY_FILE,
};

struct _GstZmqMaskSrc
{
  GstPushSrc parent;

  /* Properties and `stats`, under the object lock. */
  gchar *endpoint;
  gchar *stream_name;
  gint rcvhwm;
  gboolean latest_only;
  guint max_size;
  gchar *curve_server_key;
  gchar *curve_public_key;
  gchar *curve_secret_key;
  gchar *curve_server_key_file;
  gchar *curve_secret_key_file;
  segmask_sub_stats stats;

  /* Opened in start, used by the streaming thread, closed in stop. */
  segmask_sub *sub;
  int wake_fd;
  guint width, height;
  guint64 warned_invalid;
  gint64 last_warning;
  GstCaps *unix_caps;
};

static GstStaticPadTemplate src_template =
    GST_STATIC_PAD_TEMPLATE ("src", GST_PAD_SRC, GST_PAD_ALWAYS,
        GST_STATIC_CAPS (GST_VIDEO_CAPS_MAKE ("GRAY8")));

#define gst_zmq_mask_src_parent_class parent_class
G_DEFINE_TYPE (GstZmqMaskSrc, gst_zmq_mask_src, GST_TYPE_PUSH_SRC);
GST_ELEMENT_REGISTER_DEFINE (zmqmasksrc, "zmqmasksrc", GST_RANK_NONE,
    GST_TYPE_ZMQ_MASK_SRC);

static gboolean
gst_zmq_mask_src_start (GstBaseSrc *src)
{
  GstZmqMaskSrc *self = GST_ZMQ_MASK_SRC (src);
  segmask_sub_options opt;
  gchar err[256];
  segmask_status st;

  self->wake_fd = eventfd (0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (self->wake_fd < 0)
    goto no_eventfd;
  segmask_sub_options_init (&opt);
  GST_OBJECT_LOCK (self);
  opt.endpoint = self->endpoint;
  opt.stream = self->stream_name;
  opt.rcvhwm = self->rcvhwm;
  opt.latest_only = self->latest_only;
  opt.max_raw = self->max_size;
  opt.curve_server_key = self->curve_server_key;
  opt.curve_public_key = self->curve_public_key;
  opt.curve_secret_key = self->curve_secret_key;
  opt.curve_server_key_file = self->curve_server_key_file;
  opt.curve_secret_key_file = self->curve_secret_key_file;
  opt.wake_fd = self->wake_fd;
  memset (&self->stats, 0, sizeof (self->stats));
  st = segmask_sub_new (&opt, &self->sub, err, sizeof (err));
  GST_OBJECT_UNLOCK (self);
  if (st != SEGMASK_OK)
    goto open_failed;
  self->width = self->height = 0;
  self->warned_invalid = 0;
  self->last_warning = 0;
  return TRUE;

  /* ERRORS */
no_eventfd:
  GST_ELEMENT_ERROR (self, RESOURCE, FAILED, ("Could not create an eventfd."),
      ("%s", g_strerror (errno)));
  return FALSE;
open_failed:
  GST_ELEMENT_ERROR (self, RESOURCE, OPEN_READ,
      ("Could not subscribe to the mask publisher: %s", err), (NULL));
  close (self->wake_fd);
  self->wake_fd = -1;
  return FALSE;
}

static gboolean
gst_zmq_mask_src_stop (GstBaseSrc *src)
{
  GstZmqMaskSrc *self = GST_ZMQ_MASK_SRC (src);

  segmask_sub_free (&self->sub);
  if (self->wake_fd >= 0) {
    close (self->wake_fd);
    self->wake_fd = -1;
  }
  return TRUE;
}

static gboolean
gst_zmq_mask_src_unlock (GstBaseSrc *src)
{
  GstZmqMaskSrc *self = GST_ZMQ_MASK_SRC (src);
  guint64 one = 1;

  if (self->wake_fd >= 0 && write (self->wake_fd, &one, sizeof (one)) < 0)
    GST_WARNING_OBJECT (self, "eventfd write: %s", g_strerror (errno));
  return TRUE;
}

static gboolean
gst_zmq_mask_src_unlock_stop (GstBaseSrc *src)
{
  GstZmqMaskSrc *self = GST_ZMQ_MASK_SRC (src);
  guint64 v;

  if (self->wake_fd >= 0 && read (self->wake_fd, &v, sizeof (v)) < 0
      && errno != EAGAIN)
    GST_WARNING_OBJECT (self, "eventfd read: %s", g_strerror (errno));
  return TRUE;
}

static GstCaps *
gst_zmq_mask_src_get_caps (GstBaseSrc *src, GstCaps *filter)
{
  GstZmqMaskSrc *self = GST_ZMQ_MASK_SRC (src);
  GstCaps *caps;

  if (self->width) {
    caps = gst_caps_new_simple ("video/x-raw", "format", G_TYPE_STRING, "GRAY8",
        "width", G_TYPE_INT, (gint) self->width, "height", G_TYPE_INT,
        (gint) self->height, "framerate", GST_TYPE_FRACTION, 0, 1, NULL);
  } else {
    caps = gst_pad_get_pad_template_caps (GST_BASE_SRC_PAD (src));
  }
  if (filter) {
    GstCaps *tmp =
        gst_caps_intersect_full (filter, caps, GST_CAPS_INTERSECT_FIRST);

    gst_caps_unref (caps);
    caps = tmp;
  }
  return caps;
}

static gboolean
gst_zmq_mask_src_negotiate (GstBaseSrc *src)
{
  GstZmqMaskSrc *self = GST_ZMQ_MASK_SRC (src);

  /* The size is only known from the first mask; create() sets the caps. */
  if (!self->width)
    return TRUE;
  return GST_BASE_SRC_CLASS (parent_class)->negotiate (src);
}

/* Copies the counters for `stats` and warns (at most once a second on
 * the bus) about rejected messages. */
static void
update_stats (GstZmqMaskSrc *self)
{
  segmask_sub_stats s;
  gint64 now;

  segmask_sub_get_stats (self->sub, &s);
  GST_OBJECT_LOCK (self);
  self->stats = s;
  GST_OBJECT_UNLOCK (self);
  if (s.invalid == self->warned_invalid)
    return;
  GST_WARNING_OBJECT (self,
      "dropped %" G_GUINT64_FORMAT " malformed "
      "message(s), last: %s",
      s.invalid - self->warned_invalid, segmask_sub_last_error (self->sub));
  now = g_get_monotonic_time ();
  if (now - self->last_warning >= G_USEC_PER_SEC) {
    GST_ELEMENT_WARNING (self, STREAM, DECODE,
        ("Dropped malformed mask messages."),
        ("%" G_GUINT64_FORMAT " so far, last: %s", s.invalid,
            segmask_sub_last_error (self->sub)));
    self->last_warning = now;
  }
  self->warned_invalid = s.invalid;
}

static GstFlowReturn
gst_zmq_mask_src_create (GstPushSrc *psrc, GstBuffer **outbuf)
{
  GstZmqMaskSrc *self = GST_ZMQ_MASK_SRC (psrc);
  segmask_msg *msg = NULL;
  const segmask_header *h;
  GstBuffer *buf;
  GstMapInfo map;
  guint out_stride;
  segmask_status st;

  for (;;) {
    st = segmask_sub_recv (self->sub, POLL_MS, &msg);

    update_stats (self);
    if (st == SEGMASK_INTERRUPTED)
      return GST_FLOW_FLUSHING;
    if (st == SEGMASK_TIMEOUT)
      continue;
    if (st != SEGMASK_OK)
      goto recv_failed;
    if (msg->header.type == SEGMASK_MSG_EOS) {
      GST_INFO_OBJECT (self, "publisher sent end-of-stream");
      segmask_msg_free (&msg);
      return GST_FLOW_EOS;
    }
    if (msg->header.type == SEGMASK_MSG_MASK)
      break;
    segmask_msg_free (&msg);
  }

  h = &msg->header;
  if (h->width != self->width || h->height != self->height) {
    GstCaps *caps;

    self->width = h->width;
    self->height = h->height;
    caps = gst_zmq_mask_src_get_caps (GST_BASE_SRC (self), NULL);
    if (!gst_base_src_set_caps (GST_BASE_SRC (self), caps)) {
      gst_caps_unref (caps);
      segmask_msg_free (&msg);
      return GST_FLOW_NOT_NEGOTIATED;
    }
    gst_caps_unref (caps);
  }
  out_stride = GST_ROUND_UP_4 (h->width);
  buf = gst_buffer_new_allocate (NULL, (gsize) out_stride * h->height, NULL);
  if (!buf || !gst_buffer_map (buf, &map, GST_MAP_WRITE)) {
    if (buf)
      gst_buffer_unref (buf);
    segmask_msg_free (&msg);
    return GST_FLOW_ERROR;
  }
  for (guint y = 0; y < h->height; y++) {
    guint8 *row = map.data + (gsize) y * out_stride;

    memcpy (row, msg->data + (gsize) y * h->stride, h->width);
    memset (row + h->width, 0, out_stride - h->width);
  }
  gst_buffer_unmap (buf, &map);
  GST_BUFFER_OFFSET (buf) = h->seq;
  if (h->capture_realtime_ns)
    gst_buffer_add_reference_timestamp_meta (buf, self->unix_caps,
        h->capture_realtime_ns, GST_CLOCK_TIME_NONE);
  segmask_msg_free (&msg);
  *outbuf = buf;
  return GST_FLOW_OK;

  /* ERRORS */
recv_failed:
  GST_ELEMENT_ERROR (self, RESOURCE, READ,
      ("Receiving masks failed: %s", segmask_status_string (st)), (NULL));
  return GST_FLOW_ERROR;
}

static void
set_string (GstZmqMaskSrc *self, gchar **field, const GValue *value)
{
  GST_OBJECT_LOCK (self);
  g_free (*field);
  *field = g_value_dup_string (value);
  GST_OBJECT_UNLOCK (self);
}

static void
gst_zmq_mask_src_set_property (GObject *object, guint prop_id,
    const GValue *value, GParamSpec *pspec)
{
  GstZmqMaskSrc *self = GST_ZMQ_MASK_SRC (object);

  switch (prop_id) {
    case PROP_ENDPOINT:
      set_string (self, &self->endpoint, value);
      break;
    case PROP_STREAM_NAME:
      set_string (self, &self->stream_name, value);
      break;
    case PROP_CURVE_SERVER_KEY:
      set_string (self, &self->curve_server_key, value);
      break;
    case PROP_CURVE_PUBLIC_KEY:
      set_string (self, &self->curve_public_key, value);
      break;
    case PROP_CURVE_SECRET_KEY:
      set_string (self, &self->curve_secret_key, value);
      break;
    case PROP_CURVE_SERVER_KEY_FILE:
      set_string (self, &self->curve_server_key_file, value);
      break;
    case PROP_CURVE_SECRET_KEY_FILE:
      set_string (self, &self->curve_secret_key_file, value);
      break;
    case PROP_RCVHWM:
      GST_OBJECT_LOCK (self);
      self->rcvhwm = g_value_get_int (value);
      GST_OBJECT_UNLOCK (self);
      break;
    case PROP_LATEST_ONLY:
      GST_OBJECT_LOCK (self);
      self->latest_only = g_value_get_boolean (value);
      GST_OBJECT_UNLOCK (self);
      break;
    case PROP_MAX_SIZE:
      GST_OBJECT_LOCK (self);
      self->max_size = g_value_get_uint (value);
      GST_OBJECT_UNLOCK (self);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
}

static void
gst_zmq_mask_src_get_property (GObject *object, guint prop_id, GValue *value,
    GParamSpec *pspec)
{
  GstZmqMaskSrc *self = GST_ZMQ_MASK_SRC (object);

  GST_OBJECT_LOCK (self);
  switch (prop_id) {
    case PROP_ENDPOINT:
      g_value_set_string (value, self->endpoint);
      break;
    case PROP_STREAM_NAME:
      g_value_set_string (value, self->stream_name);
      break;
    case PROP_CURVE_SERVER_KEY:
      g_value_set_string (value, self->curve_server_key);
      break;
    case PROP_CURVE_PUBLIC_KEY:
      g_value_set_string (value, self->curve_public_key);
      break;
    case PROP_CURVE_SECRET_KEY:
      g_value_set_string (value, self->curve_secret_key);
      break;
    case PROP_CURVE_SERVER_KEY_FILE:
      g_value_set_string (value, self->curve_server_key_file);
      break;
    case PROP_CURVE_SECRET_KEY_FILE:
      g_value_set_string (value, self->curve_secret_key_file);
      break;
    case PROP_RCVHWM:
      g_value_set_int (value, self->rcvhwm);
      break;
    case PROP_LATEST_ONLY:
      g_value_set_boolean (value, self->latest_only);
      break;
    case PROP_MAX_SIZE:
      g_value_set_uint (value, self->max_size);
      break;
    case PROP_STATS:
      g_value_take_boxed (value,
          gst_structure_new ("zmqmasksrc-stats", "received", G_TYPE_UINT64,
              (guint64) self->stats.received, "invalid", G_TYPE_UINT64,
              (guint64) self->stats.invalid, "missed", G_TYPE_UINT64,
              (guint64) self->stats.missed, "duplicates", G_TYPE_UINT64,
              (guint64) self->stats.duplicates, "skipped", G_TYPE_UINT64,
              (guint64) self->stats.skipped, NULL));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);
}

static void
gst_zmq_mask_src_finalize (GObject *object)
{
  GstZmqMaskSrc *self = GST_ZMQ_MASK_SRC (object);

  segmask_sub_free (&self->sub);
  if (self->wake_fd >= 0)
    close (self->wake_fd);
  g_free (self->endpoint);
  g_free (self->stream_name);
  g_free (self->curve_server_key);
  g_free (self->curve_public_key);
  g_free (self->curve_secret_key);
  g_free (self->curve_server_key_file);
  g_free (self->curve_secret_key_file);
  gst_caps_unref (self->unix_caps);
  G_OBJECT_CLASS (parent_class)->finalize (object);
}

static void
gst_zmq_mask_src_class_init (GstZmqMaskSrcClass *klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);
  GstBaseSrcClass *src_class = GST_BASE_SRC_CLASS (klass);
  GstPushSrcClass *push_class = GST_PUSH_SRC_CLASS (klass);
  const GParamFlags rw =
      G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_READY;

  GST_DEBUG_CATEGORY_INIT (gst_zmq_mask_src_debug, "zmqmasksrc", 0,
      "segmentation masks from ZeroMQ");

  gobject_class->set_property = gst_zmq_mask_src_set_property;
  gobject_class->get_property = gst_zmq_mask_src_get_property;
  gobject_class->finalize = gst_zmq_mask_src_finalize;

  g_object_class_install_property (gobject_class, PROP_ENDPOINT,
      g_param_spec_string ("endpoint", "Endpoint",
          "Publisher to connect to (tcp://, ipc://)", NULL, rw));
  g_object_class_install_property (gobject_class, PROP_STREAM_NAME,
      g_param_spec_string ("stream-name", "Stream name",
          "Stream to subscribe to", DEFAULT_STREAM_NAME, rw));
  g_object_class_install_property (gobject_class, PROP_RCVHWM,
      g_param_spec_int ("rcvhwm", "Receive high-water mark",
          "Messages queued before libzmq drops (0: unlimited)", 0, G_MAXINT,
          DEFAULT_RCVHWM, rw));
  g_object_class_install_property (gobject_class, PROP_LATEST_ONLY,
      g_param_spec_boolean ("latest-only", "Latest only",
          "Skip queued masks and output the newest", DEFAULT_LATEST_ONLY, rw));
  g_object_class_install_property (gobject_class, PROP_MAX_SIZE,
      g_param_spec_uint ("max-size", "Maximum mask size",
          "Larger masks (decoded bytes) are rejected", 1, G_MAXUINT32,
          DEFAULT_MAX_SIZE, rw));
  g_object_class_install_property (gobject_class, PROP_CURVE_SERVER_KEY,
      g_param_spec_string ("curve-server-key", "CURVE server key",
          "Publisher's public key (Z85); enables CURVE", NULL, rw));
  g_object_class_install_property (gobject_class, PROP_CURVE_PUBLIC_KEY,
      g_param_spec_string ("curve-public-key", "CURVE public key",
          "This client's public key (Z85)", NULL, rw));
  g_object_class_install_property (gobject_class, PROP_CURVE_SECRET_KEY,
      g_param_spec_string ("curve-secret-key", "CURVE secret key",
          "This client's secret key (Z85). Prefer curve-secret-key-file: a "
          "property value shows up in pipeline descriptions and logs",
          NULL, rw));
  g_object_class_install_property (gobject_class, PROP_CURVE_SERVER_KEY_FILE,
      g_param_spec_string ("curve-server-key-file", "CURVE server key file",
          "Publisher's public key: a Z85 key file or czmq public "
          "certificate; with curve-secret-key-file enables CURVE",
          NULL, rw));
  g_object_class_install_property (gobject_class, PROP_CURVE_SECRET_KEY_FILE,
      g_param_spec_string ("curve-secret-key-file", "CURVE secret key file",
          "This client's secret key: a Z85 key file or czmq secret "
          "certificate (the public key is derived)",
          NULL, rw));
  g_object_class_install_property (gobject_class, PROP_STATS,
      g_param_spec_boxed ("stats", "Statistics",
          "received, invalid, missed, duplicates, skipped", GST_TYPE_STRUCTURE,
          G_PARAM_READABLE | G_PARAM_STATIC_STRINGS));

  gst_element_class_add_static_pad_template (element_class, &src_template);
  gst_element_class_set_static_metadata (element_class,
      "Segmentation mask ZeroMQ subscriber", "Source/Network/Video",
      "Receives masks published by zmqmasksink as GRAY8 video", "segd");

  src_class->start = GST_DEBUG_FUNCPTR (gst_zmq_mask_src_start);
  src_class->stop = GST_DEBUG_FUNCPTR (gst_zmq_mask_src_stop);
  src_class->unlock = GST_DEBUG_FUNCPTR (gst_zmq_mask_src_unlock);
  src_class->unlock_stop = GST_DEBUG_FUNCPTR (gst_zmq_mask_src_unlock_stop);
  src_class->get_caps = GST_DEBUG_FUNCPTR (gst_zmq_mask_src_get_caps);
  src_class->negotiate = GST_DEBUG_FUNCPTR (gst_zmq_mask_src_negotiate);
  push_class->create = GST_DEBUG_FUNCPTR (gst_zmq_mask_src_create);
}

static void
gst_zmq_mask_src_init (GstZmqMaskSrc *self)
{
  self->stream_name = g_strdup (DEFAULT_STREAM_NAME);
  self->rcvhwm = DEFAULT_RCVHWM;
  self->latest_only = DEFAULT_LATEST_ONLY;
  self->max_size = DEFAULT_MAX_SIZE;
  self->wake_fd = -1;
  self->unix_caps = gst_caps_new_empty_simple ("timestamp/x-unix");
  gst_base_src_set_live (GST_BASE_SRC (self), TRUE);
  gst_base_src_set_format (GST_BASE_SRC (self), GST_FORMAT_TIME);
  gst_base_src_set_do_timestamp (GST_BASE_SRC (self), TRUE);
}
