/* zmqmasksink — publishes each buffer's mask on a ZeroMQ XPUB socket in
 * the segmask protocol (docs/protocol.md).
 *
 * The socket belongs to one publisher thread, started in `start` and
 * joined in `stop`. The streaming thread only takes a reference on the
 * meta's GstSegMask (never the video buffer, so a camera's buffer pool is
 * not starved), puts it in a small ring and wakes the publisher through an
 * eventfd; a full ring drops the oldest entry and counts it, so `render`
 * never waits for the network. The publisher thread encodes and sends
 * with ZMQ_DONTWAIT (raw masks zero-copy: libzmq holds the mask reference
 * until every subscriber got it), counts subscribers from the XPUB
 * (un)subscribe events, replays the newest mask to a late joiner, answers
 * ZAP requests when CURVE client keys are restricted, and publishes the
 * status message once per second whether or not buffers flow.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstzmqmasksink.h"
#include "segmeta.h"

#include <errno.h>
#include <grp.h>
#include <segmask.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
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

/* Masks waiting for the publisher thread; the oldest is dropped when full. */
#define QUEUE_LEN 8
/* Bounded wait for queued messages to leave when the socket closes. */
#define LINGER_MS 200
#define STATUS_INTERVAL_US G_USEC_PER_SEC
#define ZAP_ENDPOINT "inproc://zeromq.zap.01"

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
  PROP_MASK_KIND,
  PROP_ZSTD_LEVEL,
  PROP_BOUND_ENDPOINT,
};

typedef struct
{
  GstSegMask *mask;             /* owns everything below */
  const guint8 *plane;
  segmask_kind kind;
  guint width, height, stride;
  guint num_classes;
  const gchar *const *labels;
  const gchar *model_name;
  const gchar *model_sha256;
  guint frame_width, frame_height;
  guint64 capture_realtime, capture_running;
  guint64 inference, age, age_frames;
} Pending;

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
  GstZmqMaskKind mask_kind;
  gint zstd_level;
  gchar *bound_endpoint;        /* what bind/connect resolved to */

  /* Streaming thread only. */
  guint frame_width, frame_height;

  /* Set in start, then the publisher thread's alone until stop joins it. */
  void *ctx;
  void *xpub;
  void *zap;
  gchar *stream;                /* latched stream-name */
  gchar mask_topic[16 + SEGMASK_MAX_STRING];
  gchar status_topic[16 + SEGMASK_MAX_STRING];
  segmask_encoding enc;
  gint level;
  GPtrArray *allowed;           /* 32-byte binary client keys */
  segmask_codec *codec;
  guint8 *scratch;
  gsize scratch_len;
  guint8 *hbuf;
  gsize hbuf_len;
  zmq_msg_t last[3];
  gboolean have_last;
  guint32 session;
  guint64 seq;
  Pending last_info;            /* fields of the newest mask, mask = NULL */
  gchar *last_model_name, *last_model_sha256;
  gint64 status_time;
  guint64 status_published;
  GThread *thread;
  int wake_fd;

  /* Under `lock`. */
  GMutex lock;
  Pending queue[QUEUE_LEN];
  guint qhead, qlen, qcap;
  gboolean eos_pending;
  gboolean quit;
  guint64 published, dropped, bytes, rejected, without_mask;
  gint subscribers;
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
    g_once_init_leave (&type, g_enum_register_static ("GstZmqMaskEncoding",
            values));
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
    g_once_init_leave (&type, g_enum_register_static ("GstZmqMaskKind",
            values));
  return type;
}

static void
pending_clear (Pending *p)
{
  g_clear_pointer (&p->mask, gst_seg_mask_unref);
}

static void
free_mask (void *data, void *hint)
{
  /* Called by libzmq (possibly from its I/O thread) when the last copy of a
   * zero-copy payload is gone. */
  gst_seg_mask_unref (hint);
}

/* ---- keys ---- */

/* Appends every 40-character Z85 token of `text` decoded to 32 bytes; the
 * separators also accept czmq's `public-key = "..."` certificate lines. */
static gboolean
collect_keys (const gchar *text, GPtrArray *out, GError **error)
{
  gchar **lines;
  gboolean ok = TRUE;

  if (!text)
    return TRUE;
  lines = g_strsplit (text, "\n", -1);
  for (gchar **l = lines; ok && *l; l++) {
    gchar **tokens;

    if (g_strstrip (*l)[0] == '#')
      continue;
    tokens = g_strsplit_set (*l, " \t\r,;\"'", -1);
    for (gchar **t = tokens; *t; t++) {
      guint8 key[32];

      if (strlen (*t) != 40)
        continue;
      if (!zmq_z85_decode (key, *t)) {
        g_set_error (error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_SETTINGS,
            "\"%s\" is not a Z85 CURVE key", *t);
        ok = FALSE;
        break;
      }
      g_ptr_array_add (out, g_memdup2 (key, sizeof (key)));
    }
    g_strfreev (tokens);
  }
  g_strfreev (lines);
  return ok;
}

static gboolean
load_keys (const gchar *inline_keys, const gchar *file, GPtrArray *out,
    GError **error)
{
  gchar *text = NULL;
  gboolean ok;

  if (!collect_keys (inline_keys, out, error))
    return FALSE;
  if (!file || !file[0])
    return TRUE;
  if (!g_file_get_contents (file, &text, NULL, error))
    return FALSE;
  ok = collect_keys (text, out, error);
  g_free (text);
  return ok;
}

/* ---- sending (publisher thread) ---- */

static gboolean
msg_from (zmq_msg_t *m, const void *data, gsize len)
{
  if (zmq_msg_init_size (m, len) != 0)
    return FALSE;
  if (len)
    memcpy (zmq_msg_data (m), data, len);
  return TRUE;
}

/* Sends three parts without blocking. The parts are always consumed. */
static gboolean
send_parts (GstZmqMaskSink *self, zmq_msg_t parts[3], gsize *bytes)
{
  gsize total = 0;
  int i;

  for (i = 0; i < 3; i++) {
    total += zmq_msg_size (&parts[i]);
    if (zmq_msg_send (&parts[i], self->xpub,
            ZMQ_DONTWAIT | (i < 2 ? ZMQ_SNDMORE : 0)) < 0) {
      GST_LOG_OBJECT (self, "send failed: %s", zmq_strerror (zmq_errno ()));
      /* After a failed send the caller still owns the message. */
      for (; i < 3; i++)
        zmq_msg_close (&parts[i]);
      return FALSE;
    }
  }
  if (bytes)
    *bytes = total;
  return TRUE;
}

static void
count_send (GstZmqMaskSink *self, gboolean ok, gsize bytes)
{
  g_mutex_lock (&self->lock);
  if (ok) {
    self->published++;
    self->bytes += bytes;
  } else {
    self->dropped++;
  }
  g_mutex_unlock (&self->lock);
}

static guint64
get_dropped (GstZmqMaskSink *self)
{
  guint64 d;

  g_mutex_lock (&self->lock);
  d = self->dropped;
  g_mutex_unlock (&self->lock);
  return d;
}

static void
header_common (GstZmqMaskSink *self, segmask_header *h, segmask_msg_type type)
{
  memset (h, 0, sizeof (*h));
  h->type = type;
  h->session = self->session;
  h->seq = self->seq;
  h->stream = self->stream;
  h->publish_realtime_ns = (guint64) g_get_real_time () * 1000;
  h->capture_running_ns = SEGMASK_TIME_NONE;
  h->drops = get_dropped (self);
}

static gboolean
ensure_scratch (GstZmqMaskSink *self, gsize len)
{
  if (len <= self->scratch_len)
    return TRUE;
  g_free (self->scratch);
  self->scratch = g_try_malloc (len);
  self->scratch_len = self->scratch ? len : 0;
  return self->scratch != NULL;
}

static void
publish_mask (GstZmqMaskSink *self, Pending *p)
{
  segmask_header h;
  zmq_msg_t parts[3];
  gsize raw_len = (gsize) p->stride * p->height, hlen, plen, sent = 0;
  gboolean ok = FALSE;

  self->seq++;
  header_common (self, &h, SEGMASK_MSG_MASK);
  h.kind = p->kind;
  h.encoding = self->enc;
  h.capture_realtime_ns = p->capture_realtime;
  h.capture_running_ns = p->capture_running;
  h.inference_ns = p->inference;
  h.mask_age_ns = p->age;
  h.mask_age_frames = p->age_frames;
  h.frame_width = p->frame_width;
  h.frame_height = p->frame_height;
  h.width = p->width;
  h.height = p->height;
  h.stride = p->stride;
  h.raw_len = (guint32) raw_len;
  h.model_name = p->model_name;
  h.model_sha256 = p->model_sha256;
  /* Labels longer than the protocol allows are sent as class counts only. */
  h.num_classes = p->num_classes <= SEGMASK_MAX_CLASSES ? p->num_classes : 0;
  for (guint i = 0; i < h.num_classes; i++)
    h.labels[i] = p->labels ? p->labels[i] : NULL;
  if (segmask_header_size (&h) == 0)
    h.num_classes = 0;

  if (self->enc == SEGMASK_ENC_RAW) {
    plen = raw_len;
  } else {
    if (!ensure_scratch (self, segmask_payload_bound (self->enc, raw_len))
        || segmask_payload_encode (self->codec, self->enc, self->level,
            p->plane, raw_len, self->scratch, self->scratch_len,
            &plen) != SEGMASK_OK)
      goto encode_failed;
  }
  h.payload_len = (guint32) plen;
  if (segmask_header_encode (&h, self->hbuf, self->hbuf_len, &hlen)
      != SEGMASK_OK)
    goto encode_failed;

  if (!msg_from (&parts[0], self->mask_topic, strlen (self->mask_topic)))
    goto encode_failed;
  if (!msg_from (&parts[1], self->hbuf, hlen)) {
    zmq_msg_close (&parts[0]);
    goto encode_failed;
  }
  if (self->enc == SEGMASK_ENC_RAW) {
    /* Zero-copy: libzmq takes over this reference to the mask. */
    if (zmq_msg_init_data (&parts[2], (void *) p->plane, raw_len, free_mask,
            p->mask) != 0) {
      zmq_msg_close (&parts[0]);
      zmq_msg_close (&parts[1]);
      goto encode_failed;
    }
    p->mask = NULL;
  } else if (!msg_from (&parts[2], self->scratch, plen)) {
    zmq_msg_close (&parts[0]);
    zmq_msg_close (&parts[1]);
    goto encode_failed;
  }

  /* Keep a copy (shared, not duplicated) to replay to late joiners. */
  for (int i = 0; i < 3; i++) {
    if (self->have_last)
      zmq_msg_close (&self->last[i]);
    zmq_msg_init (&self->last[i]);
  }
  self->have_last = zmq_msg_copy (&self->last[0], &parts[0]) == 0
      && zmq_msg_copy (&self->last[1], &parts[1]) == 0
      && zmq_msg_copy (&self->last[2], &parts[2]) == 0;
  if (!self->have_last)
    for (int i = 0; i < 3; i++)
      zmq_msg_close (&self->last[i]);

  ok = send_parts (self, parts, &sent);
  self->last_info = *p;
  self->last_info.mask = NULL;
  if (g_strcmp0 (self->last_model_name, p->model_name) != 0) {
    g_free (self->last_model_name);
    self->last_model_name = g_strdup (p->model_name);
  }
  if (g_strcmp0 (self->last_model_sha256, p->model_sha256) != 0) {
    g_free (self->last_model_sha256);
    self->last_model_sha256 = g_strdup (p->model_sha256);
  }
  self->last_info.model_name = self->last_model_name;
  self->last_info.model_sha256 = self->last_model_sha256;
  self->last_info.labels = NULL;
  count_send (self, ok, sent);
  return;

encode_failed:
  GST_WARNING_OBJECT (self, "could not encode mask %" G_GUINT64_FORMAT,
      self->seq);
  count_send (self, FALSE, 0);
}

static void
replay_last (GstZmqMaskSink *self)
{
  zmq_msg_t parts[3];
  int i;

  if (!self->have_last)
    return;
  for (i = 0; i < 3; i++) {
    zmq_msg_init (&parts[i]);
    if (zmq_msg_copy (&parts[i], &self->last[i]) != 0) {
      for (int j = 0; j <= i; j++)
        zmq_msg_close (&parts[j]);
      return;
    }
  }
  /* Subscribers that had it drop the replay by its sequence number. */
  send_parts (self, parts, NULL);
}

static void
publish_simple (GstZmqMaskSink *self, segmask_msg_type type,
    const gchar *payload, gsize payload_len)
{
  segmask_header h;
  zmq_msg_t parts[3];
  const gchar *topic = type == SEGMASK_MSG_STATUS ? self->status_topic
      : self->mask_topic;
  gsize hlen;

  header_common (self, &h, type);
  h.model_name = self->last_model_name;
  h.model_sha256 = self->last_model_sha256;
  h.inference_ns = self->last_info.inference;
  h.mask_age_ns = self->last_info.age;
  h.mask_age_frames = self->last_info.age_frames;
  h.capture_realtime_ns = self->last_info.capture_realtime;
  h.payload_len = (guint32) payload_len;
  if (segmask_header_encode (&h, self->hbuf, self->hbuf_len, &hlen)
      != SEGMASK_OK)
    return;
  if (!msg_from (&parts[0], topic, strlen (topic)))
    return;
  if (!msg_from (&parts[1], self->hbuf, hlen)) {
    zmq_msg_close (&parts[0]);
    return;
  }
  if (!msg_from (&parts[2], payload, payload_len)) {
    zmq_msg_close (&parts[0]);
    zmq_msg_close (&parts[1]);
    return;
  }
  if (!send_parts (self, parts, NULL))
    GST_DEBUG_OBJECT (self, "could not send %s message",
        type == SEGMASK_MSG_EOS ? "end-of-stream" : "status");
}

static void
publish_status (GstZmqMaskSink *self)
{
  gint64 now = g_get_monotonic_time ();
  gdouble secs = (now - self->status_time) / (gdouble) G_USEC_PER_SEC;
  guint64 published, dropped;
  gint subscribers;
  gchar *camera, *model_state, *text;

  g_mutex_lock (&self->lock);
  published = self->published;
  dropped = self->dropped;
  subscribers = self->subscribers;
  g_mutex_unlock (&self->lock);
  GST_OBJECT_LOCK (self);
  camera = g_strdup (self->camera_state ? self->camera_state : "");
  model_state = g_strdup (self->model_state ? self->model_state : "");
  GST_OBJECT_UNLOCK (self);
  /* One line per key: no line breaks inside a value. */
  g_strdelimit (camera, "\r\n", ' ');
  g_strdelimit (model_state, "\r\n", ' ');

  text = g_strdup_printf ("fps=%.2f\ninference_ms=%.3f\ndrops=%"
      G_GUINT64_FORMAT "\nmask_age_ms=%.3f\nmodel=%s\nmodel_sha256=%s\n"
      "subscribers=%d\ncamera_state=%s\nmodel_state=%s\npublished=%"
      G_GUINT64_FORMAT
      "\nseq=%" G_GUINT64_FORMAT "\n",
      secs > 0 ? (published - self->status_published) / secs : 0.0,
      self->last_info.inference / 1e6, dropped, self->last_info.age / 1e6,
      self->last_model_name ? self->last_model_name : "",
      self->last_model_sha256 ? self->last_model_sha256 : "",
      subscribers, camera, model_state, published, self->seq);
  publish_simple (self, SEGMASK_MSG_STATUS, text, strlen (text));
  g_free (text);
  g_free (camera);
  g_free (model_state);
  self->status_time = now;
  self->status_published = published;
}

/* Whether a subscription prefix selects our mask topic. */
static gboolean
selects_masks (GstZmqMaskSink *self, const guint8 *prefix, gsize len)
{
  gsize n = strlen (self->mask_topic);

  return len <= n && memcmp (prefix, self->mask_topic, len) == 0;
}

static gboolean
selects_status (GstZmqMaskSink *self, const guint8 *prefix, gsize len)
{
  gsize n = strlen (self->status_topic);

  return len <= n && memcmp (prefix, self->status_topic, len) == 0;
}

/* Reads XPUB (un)subscription events; returns what to do after. */
static void
handle_subscriptions (GstZmqMaskSink *self, gboolean *replay,
    gboolean *status_now)
{
  gint delta = 0, count = 0;

  for (;;) {
    zmq_msg_t m;
    const guint8 *d;
    gsize len;

    if (zmq_msg_init (&m) != 0)
      break;
    if (zmq_msg_recv (&m, self->xpub, ZMQ_DONTWAIT) < 0) {
      zmq_msg_close (&m);
      break;
    }
    d = zmq_msg_data (&m);
    len = zmq_msg_size (&m);
    if (len >= 1 && (d[0] == 0 || d[0] == 1)) {
      gboolean sub = d[0] == 1;

      if (selects_masks (self, d + 1, len - 1)) {
        delta += sub ? 1 : -1;
        if (sub)
          *replay = TRUE;
      }
      if (sub && selects_status (self, d + 1, len - 1))
        *status_now = TRUE;
    }
    zmq_msg_close (&m);
  }
  if (delta == 0)
    return;
  g_mutex_lock (&self->lock);
  self->subscribers = MAX (0, self->subscribers + delta);
  count = self->subscribers;
  g_mutex_unlock (&self->lock);
  GST_DEBUG_OBJECT (self, "%d subscriber(s)", count);
  g_object_notify (G_OBJECT (self), "subscribers");
  gst_element_post_message (GST_ELEMENT (self),
      gst_message_new_element (GST_OBJECT (self),
          gst_structure_new ("zmqmasksink-subscribers", "subscribers",
              G_TYPE_INT, count, NULL)));
}

/* RFC 27 ZAP: allow CURVE clients whose key is in the allowed list. */
static void
handle_zap (GstZmqMaskSink *self)
{
  zmq_msg_t req[8];
  int n = 0, more = 1;
  gboolean allow = FALSE;
  const gchar *code, *text;
  zmq_msg_t reply[6];

  while (more) {
    zmq_msg_t *m = &req[n < 8 ? n : 7];

    if (n >= 8)
      zmq_msg_close (m);
    if (zmq_msg_init (m) != 0)
      return;
    if (zmq_msg_recv (m, self->zap, ZMQ_DONTWAIT) < 0) {
      zmq_msg_close (m);
      if (n == 0)
        return;
      break;
    }
    more = zmq_msg_more (m);
    if (n < 8)
      n++;
  }
  if (n >= 7 && zmq_msg_size (&req[5]) == 5
      && memcmp (zmq_msg_data (&req[5]), "CURVE", 5) == 0
      && zmq_msg_size (&req[6]) == 32) {
    for (guint i = 0; i < self->allowed->len; i++)
      if (memcmp (g_ptr_array_index (self->allowed, i),
              zmq_msg_data (&req[6]), 32) == 0)
        allow = TRUE;
  }
  code = allow ? "200" : n >= 2 ? "400" : "500";
  text = allow ? "OK" : "client key not allowed";
  if (!allow) {
    g_mutex_lock (&self->lock);
    self->rejected++;
    g_mutex_unlock (&self->lock);
    GST_INFO_OBJECT (self, "rejected a CURVE client");
  }
  if (msg_from (&reply[0], "1.0", 3)) {
    if (n >= 2) {
      zmq_msg_init (&reply[1]);
      zmq_msg_copy (&reply[1], &req[1]);
    } else {
      zmq_msg_init (&reply[1]);
    }
    msg_from (&reply[2], code, 3);
    msg_from (&reply[3], text, strlen (text));
    zmq_msg_init (&reply[4]);
    zmq_msg_init (&reply[5]);
    for (int i = 0; i < 6; i++) {
      if (zmq_msg_send (&reply[i], self->zap, i < 5 ? ZMQ_SNDMORE : 0) < 0) {
        GST_WARNING_OBJECT (self, "ZAP reply failed: %s",
            zmq_strerror (zmq_errno ()));
        for (; i < 6; i++)
          zmq_msg_close (&reply[i]);
        break;
      }
    }
  }
  for (int i = 0; i < n; i++)
    zmq_msg_close (&req[i]);
}

/* Publishes what the streaming thread queued, then a pending EOS. */
static void
drain_queue (GstZmqMaskSink *self)
{
  for (;;) {
    Pending p;
    gboolean eos = FALSE;

    g_mutex_lock (&self->lock);
    if (self->qlen == 0) {
      eos = self->eos_pending;
      self->eos_pending = FALSE;
      g_mutex_unlock (&self->lock);
      if (eos)
        publish_simple (self, SEGMASK_MSG_EOS, NULL, 0);
      return;
    }
    p = self->queue[self->qhead];
    memset (&self->queue[self->qhead], 0, sizeof (Pending));
    self->qhead = (self->qhead + 1) % QUEUE_LEN;
    self->qlen--;
    g_mutex_unlock (&self->lock);
    publish_mask (self, &p);
    pending_clear (&p);
  }
}

static gpointer
publisher_thread (gpointer data)
{
  GstZmqMaskSink *self = data;
  gint64 next_status = g_get_monotonic_time () + STATUS_INTERVAL_US;

  self->status_time = g_get_monotonic_time ();
  for (;;) {
    zmq_pollitem_t items[3] = {
      {self->xpub, 0, ZMQ_POLLIN, 0},
      {NULL, self->wake_fd, ZMQ_POLLIN, 0},
      {self->zap, 0, ZMQ_POLLIN, 0},
    };
    gint64 now = g_get_monotonic_time ();
    long timeout = next_status > now ? (long) ((next_status - now) / 1000) : 0;
    gboolean replay = FALSE, status_now = FALSE, quit;
    int rc;

    rc = zmq_poll (items, self->zap ? 3 : 2, timeout);
    if (rc < 0 && zmq_errno () != EINTR) {
      GST_ELEMENT_ERROR (self, RESOURCE, FAILED,
          ("Polling the ZeroMQ socket failed."), ("zmq_poll: %s",
              zmq_strerror (zmq_errno ())));
      break;
    }
    if (rc > 0 && (items[1].revents & ZMQ_POLLIN)) {
      guint64 v;

      if (read (self->wake_fd, &v, sizeof (v)) < 0 && errno != EAGAIN)
        GST_WARNING_OBJECT (self, "eventfd read: %s", g_strerror (errno));
    }
    if (rc > 0 && (items[0].revents & ZMQ_POLLIN))
      handle_subscriptions (self, &replay, &status_now);
    if (rc > 0 && self->zap && (items[2].revents & ZMQ_POLLIN))
      handle_zap (self);
    if (replay)
      replay_last (self);
    drain_queue (self);
    now = g_get_monotonic_time ();
    if (status_now || now >= next_status) {
      publish_status (self);
      if (now >= next_status)
        next_status = now + STATUS_INTERVAL_US;
    }
    g_mutex_lock (&self->lock);
    quit = self->quit;
    g_mutex_unlock (&self->lock);
    if (quit) {
      drain_queue (self);
      break;
    }
  }

  /* The thread that used the sockets closes them; LINGER bounds it. */
  if (self->have_last) {
    for (int i = 0; i < 3; i++)
      zmq_msg_close (&self->last[i]);
    self->have_last = FALSE;
  }
  if (zmq_close (self->xpub) != 0)
    GST_WARNING_OBJECT (self, "zmq_close: %s", zmq_strerror (zmq_errno ()));
  self->xpub = NULL;
  if (self->zap && zmq_close (self->zap) != 0)
    GST_WARNING_OBJECT (self, "zmq_close: %s", zmq_strerror (zmq_errno ()));
  self->zap = NULL;
  return NULL;
}

/* ---- start/stop ---- */

static void
wake (GstZmqMaskSink *self)
{
  guint64 one = 1;

  /* An eventfd write only fails when the counter would overflow, which
   * means the publisher has a wake-up pending anyway. */
  if (write (self->wake_fd, &one, sizeof (one)) < 0 && errno != EAGAIN)
    GST_WARNING_OBJECT (self, "eventfd write: %s", g_strerror (errno));
}

static void
close_resources (GstZmqMaskSink *self)
{
  if (self->xpub) {
    zmq_close (self->xpub);
    self->xpub = NULL;
  }
  if (self->zap) {
    zmq_close (self->zap);
    self->zap = NULL;
  }
  if (self->ctx) {
    while (zmq_ctx_term (self->ctx) != 0 && zmq_errno () == EINTR)
      ;
    self->ctx = NULL;
  }
  if (self->wake_fd >= 0) {
    close (self->wake_fd);
    self->wake_fd = -1;
  }
  g_clear_pointer (&self->allowed, g_ptr_array_unref);
  segmask_codec_free (&self->codec);
  g_clear_pointer (&self->scratch, g_free);
  self->scratch_len = 0;
  g_clear_pointer (&self->hbuf, g_free);
  g_clear_pointer (&self->stream, g_free);
  g_clear_pointer (&self->last_model_name, g_free);
  g_clear_pointer (&self->last_model_sha256, g_free);
  for (guint i = 0; i < QUEUE_LEN; i++)
    pending_clear (&self->queue[i]);
  self->qhead = self->qlen = 0;
}

/* Applies ipc-mode / ipc-group to the socket file of a bound ipc:// endpoint. */
static gboolean
fix_ipc_permissions (GstZmqMaskSink *self, guint mode, const gchar *group)
{
  gchar last[1024];
  size_t len = sizeof (last);
  const gchar *path;

  if (mode == 0 && (!group || !group[0]))
    return TRUE;
  if (zmq_getsockopt (self->xpub, ZMQ_LAST_ENDPOINT, last, &len) != 0
      || !g_str_has_prefix (last, "ipc://"))
    return TRUE;
  path = last + strlen ("ipc://");
  if (mode != 0 && chmod (path, mode) != 0)
    goto chmod_failed;
  if (group && group[0]) {
    struct group *gr = getgrnam (group);

    if (!gr)
      goto no_group;
    if (chown (path, (uid_t) -1, gr->gr_gid) != 0)
      goto chown_failed;
  }
  return TRUE;

chmod_failed:
  GST_ELEMENT_ERROR (self, RESOURCE, SETTINGS,
      ("Could not set the mode of the socket file \"%s\".", path),
      ("chmod: %s", g_strerror (errno)));
  return FALSE;
no_group:
  GST_ELEMENT_ERROR (self, RESOURCE, SETTINGS,
      ("Unknown group \"%s\" in ipc-group.", group), (NULL));
  return FALSE;
chown_failed:
  GST_ELEMENT_ERROR (self, RESOURCE, SETTINGS,
      ("Could not give the socket file \"%s\" to group \"%s\".", path, group),
      ("chown: %s", g_strerror (errno)));
  return FALSE;
}

static gboolean
gst_zmq_mask_sink_start (GstBaseSink *sink)
{
  GstZmqMaskSink *self = GST_ZMQ_MASK_SINK (sink);
  gchar *endpoint, *secret_inline, *secret_file, *allowed_inline,
      *allowed_file, *group;
  const gchar *addr;
  gboolean bind = TRUE;
  gint hwm, linger = LINGER_MS, one = 1;
  guint mode;
  GPtrArray *secret = NULL;
  GError *error = NULL;

  GST_OBJECT_LOCK (self);
  self->stream = g_strdup (self->stream_name);
  endpoint = self->endpoint && self->endpoint[0] ? g_strdup (self->endpoint)
      : g_strdup_printf ("ipc://" DEFAULT_IPC_DIR "/%s.sock", self->stream);
  self->enc = (segmask_encoding) self->encoding;
  self->level = self->zstd_level;
  hwm = self->latest_only ? 1 : self->sndhwm;
  secret_inline = g_strdup (self->curve_secret_key);
  secret_file = g_strdup (self->curve_secret_key_file);
  allowed_inline = g_strdup (self->curve_allowed_keys);
  allowed_file = g_strdup (self->curve_allowed_keys_file);
  mode = self->ipc_mode;
  group = g_strdup (self->ipc_group);
  g_mutex_lock (&self->lock);
  self->qcap = self->latest_only ? 1 : QUEUE_LEN;
  self->published = self->dropped = self->bytes = self->rejected = 0;
  self->without_mask = 0;
  self->subscribers = 0;
  self->eos_pending = self->quit = FALSE;
  g_mutex_unlock (&self->lock);
  GST_OBJECT_UNLOCK (self);

  if (!self->stream || !self->stream[0]
      || strlen (self->stream) > SEGMASK_MAX_STRING)
    goto bad_stream;
  segmask_topic (SEGMASK_MSG_MASK, self->stream, self->mask_topic,
      sizeof (self->mask_topic));
  segmask_topic (SEGMASK_MSG_STATUS, self->stream, self->status_topic,
      sizeof (self->status_topic));
  addr = endpoint;
  if (addr[0] == '>' || addr[0] == '@') {
    bind = addr[0] == '@';
    addr++;
  }

  /* The default lives in /run/segd; say so plainly if it is not there. */
  if (bind && g_str_has_prefix (addr, "ipc://")) {
    gchar *dir = g_path_get_dirname (addr + strlen ("ipc://"));
    gboolean ok = access (dir, W_OK | X_OK) == 0;

    if (!ok) {
      GST_ELEMENT_ERROR (self, RESOURCE, OPEN_WRITE,
          ("Cannot create the socket for \"%s\": directory \"%s\" is not "
              "writable (%s).", addr, dir, g_strerror (errno)),
          ("set the endpoint property or create the directory"));
      g_free (dir);
      goto fail;
    }
    g_free (dir);
  }

  secret = g_ptr_array_new_with_free_func (g_free);
  self->allowed = g_ptr_array_new_with_free_func (g_free);
  if (!load_keys (secret_inline, secret_file, secret, &error)
      || !load_keys (allowed_inline, allowed_file, self->allowed, &error))
    goto key_error;
  if (secret->len > 1)
    goto too_many_keys;
  if (secret->len == 0 && self->allowed->len > 0)
    goto allowed_without_secret;

  self->codec = segmask_codec_new ();
  self->hbuf_len = SEGMASK_FIXED_LEN + (SEGMASK_MAX_CLASSES + 3)
      * (SEGMASK_MAX_STRING + 2);
  self->hbuf = g_malloc (self->hbuf_len);
  self->wake_fd = eventfd (0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (!self->codec || self->wake_fd < 0)
    goto no_resources;
  if (!(self->ctx = zmq_ctx_new ()))
    goto zmq_failed;

  if (self->allowed->len > 0) {
    /* ZAP handler first: it must exist before any client handshakes. */
    if (!(self->zap = zmq_socket (self->ctx, ZMQ_REP))
        || zmq_setsockopt (self->zap, ZMQ_LINGER, &linger,
            sizeof (linger)) != 0
        || zmq_bind (self->zap, ZAP_ENDPOINT) != 0)
      goto zmq_failed;
  }
  if (!(self->xpub = zmq_socket (self->ctx, ZMQ_XPUB))
      || zmq_setsockopt (self->xpub, ZMQ_LINGER, &linger, sizeof (linger)) != 0
      || zmq_setsockopt (self->xpub, ZMQ_SNDHWM, &hwm, sizeof (hwm)) != 0
      || zmq_setsockopt (self->xpub, ZMQ_XPUB_VERBOSER, &one,
          sizeof (one)) != 0)
    goto zmq_failed;
  if (secret->len == 1) {
    if (zmq_setsockopt (self->xpub, ZMQ_CURVE_SERVER, &one, sizeof (one)) != 0
        || zmq_setsockopt (self->xpub, ZMQ_CURVE_SECRETKEY,
            g_ptr_array_index (secret, 0), 32) != 0
        || zmq_setsockopt (self->xpub, ZMQ_ZAP_DOMAIN, "segd", 4) != 0)
      goto zmq_failed;
  }
  if (bind ? zmq_bind (self->xpub, addr) != 0
      : zmq_connect (self->xpub, addr) != 0)
    goto open_failed;
  if (bind && !fix_ipc_permissions (self, mode, group))
    goto fail;
  {
    gchar last[1024];
    size_t len = sizeof (last);

    /* Tests and logs want the port a tcp://...:* bind picked. */
    if (zmq_getsockopt (self->xpub, ZMQ_LAST_ENDPOINT, last, &len) != 0)
      goto zmq_failed;
    GST_OBJECT_LOCK (self);
    g_free (self->bound_endpoint);
    self->bound_endpoint = g_strdup (last[0] ? last : addr);
    GST_OBJECT_UNLOCK (self);
  }

  self->session = g_random_int ();
  self->seq = 0;
  self->have_last = FALSE;
  memset (&self->last_info, 0, sizeof (self->last_info));
  self->status_published = 0;
  self->thread = g_thread_try_new ("zmqmasksink", publisher_thread, self,
      &error);
  if (!self->thread)
    goto thread_failed;
  GST_INFO_OBJECT (self, "%s %s, stream \"%s\", %s",
      bind ? "bound" : "connected", addr, self->stream,
      segmask_encoding_name (self->enc));
  g_ptr_array_unref (secret);
  g_free (endpoint);
  g_free (secret_inline);
  g_free (secret_file);
  g_free (allowed_inline);
  g_free (allowed_file);
  g_free (group);
  return TRUE;

  /* ERRORS */
bad_stream:
  GST_ELEMENT_ERROR (self, RESOURCE, SETTINGS,
      ("The stream name must be 1 to %d bytes long.", SEGMASK_MAX_STRING),
      (NULL));
  goto fail;
key_error:
  GST_ELEMENT_ERROR (self, RESOURCE, SETTINGS,
      ("Could not read the CURVE keys: %s", error->message), (NULL));
  g_clear_error (&error);
  goto fail;
too_many_keys:
  GST_ELEMENT_ERROR (self, RESOURCE, SETTINGS,
      ("Found more than one CURVE secret key."), (NULL));
  goto fail;
allowed_without_secret:
  GST_ELEMENT_ERROR (self, RESOURCE, SETTINGS,
      ("curve-allowed-keys needs the server's curve-secret-key."), (NULL));
  goto fail;
no_resources:
  GST_ELEMENT_ERROR (self, RESOURCE, NO_SPACE_LEFT,
      ("Could not allocate the publisher's resources."), (NULL));
  goto fail;
zmq_failed:
  GST_ELEMENT_ERROR (self, RESOURCE, FAILED,
      ("Could not set up the ZeroMQ socket: %s", zmq_strerror (zmq_errno ())),
      (NULL));
  goto fail;
open_failed:
  GST_ELEMENT_ERROR (self, RESOURCE, OPEN_WRITE,
      ("Could not %s \"%s\": %s", bind ? "bind" : "connect to", addr,
          zmq_strerror (zmq_errno ())), (NULL));
  goto fail;
thread_failed:
  GST_ELEMENT_ERROR (self, RESOURCE, FAILED,
      ("Could not start the publisher thread: %s", error->message), (NULL));
  g_clear_error (&error);
  goto fail;
fail:
  if (secret)
    g_ptr_array_unref (secret);
  close_resources (self);
  g_free (endpoint);
  g_free (secret_inline);
  g_free (secret_file);
  g_free (allowed_inline);
  g_free (allowed_file);
  g_free (group);
  return FALSE;
}

static gboolean
gst_zmq_mask_sink_stop (GstBaseSink *sink)
{
  GstZmqMaskSink *self = GST_ZMQ_MASK_SINK (sink);

  if (self->thread) {
    g_mutex_lock (&self->lock);
    self->quit = TRUE;
    g_mutex_unlock (&self->lock);
    wake (self);
    g_thread_join (self->thread);
    self->thread = NULL;
  }
  close_resources (self);
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
  Pending p = { 0 };
  GstClock *clock;
  guint64 real_now = (guint64) g_get_real_time () * 1000;
  GstClockTime frame_rt;
  Pending old = { 0 };

  if (!meta || !gst_seg_meta_get_mask (meta)) {
    g_mutex_lock (&self->lock);
    self->without_mask++;
    g_mutex_unlock (&self->lock);
    return GST_FLOW_OK;
  }
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
  if (!p.plane) {
    g_mutex_lock (&self->lock);
    self->without_mask++;
    g_mutex_unlock (&self->lock);
    return GST_FLOW_OK;
  }

  /* The mask's pointers all live in the GstSegMask, which we keep. */
  p.mask = gst_seg_mask_ref (gst_seg_meta_get_mask (meta));
  p.width = meta->width;
  p.height = meta->height;
  p.stride = meta->stride;
  p.num_classes = meta->num_classes;
  p.labels = meta->labels;
  p.model_name = meta->model_name;
  p.model_sha256 = meta->model_sha256;
  p.frame_width = self->frame_width;
  p.frame_height = self->frame_height;
  p.inference = GST_CLOCK_TIME_IS_VALID (meta->latency) ? meta->latency : 0;
  p.age = GST_CLOCK_TIME_IS_VALID (meta->age) ? meta->age : 0;
  p.age_frames = meta->age_frames;

  /* Capture time: the source frame's running time, and wall-clock time
   * moved back by how long ago (in running time) that frame was. */
  frame_rt = gst_segment_to_running_time (&sink->segment, GST_FORMAT_TIME,
      meta->pts);
  p.capture_running = GST_CLOCK_TIME_IS_VALID (frame_rt) ? frame_rt
      : SEGMASK_TIME_NONE;
  p.capture_realtime = real_now - MIN (real_now, p.age);
  clock = gst_element_get_clock (GST_ELEMENT (self));
  if (clock && GST_CLOCK_TIME_IS_VALID (frame_rt)) {
    GstClockTime now = gst_clock_get_time (clock);
    GstClockTime base = gst_element_get_base_time (GST_ELEMENT (self));

    if (now >= base && now - base >= frame_rt)
      p.capture_realtime = real_now - MIN (real_now, now - base - frame_rt);
  }
  if (clock)
    gst_object_unref (clock);

  g_mutex_lock (&self->lock);
  if (self->qlen == self->qcap) {
    /* Newest wins: subscribers want the current mask, not a backlog. */
    old = self->queue[self->qhead];
    memset (&self->queue[self->qhead], 0, sizeof (Pending));
    self->qhead = (self->qhead + 1) % QUEUE_LEN;
    self->qlen--;
    self->dropped++;
  }
  self->queue[(self->qhead + self->qlen) % QUEUE_LEN] = p;
  self->qlen++;
  g_mutex_unlock (&self->lock);
  pending_clear (&old);
  wake (self);
  return GST_FLOW_OK;
}

static gboolean
gst_zmq_mask_sink_event (GstBaseSink *sink, GstEvent *event)
{
  GstZmqMaskSink *self = GST_ZMQ_MASK_SINK (sink);

  if (GST_EVENT_TYPE (event) == GST_EVENT_EOS && self->thread) {
    g_mutex_lock (&self->lock);
    self->eos_pending = TRUE;
    g_mutex_unlock (&self->lock);
    wake (self);
  }
  return GST_BASE_SINK_CLASS (parent_class)->event (sink, event);
}

static GstStructure *
make_stats (GstZmqMaskSink *self)
{
  GstStructure *s;

  g_mutex_lock (&self->lock);
  s = gst_structure_new ("zmqmasksink-stats",
      "published", G_TYPE_UINT64, self->published,
      "dropped", G_TYPE_UINT64, self->dropped,
      "bytes", G_TYPE_UINT64, self->bytes,
      "subscribers", G_TYPE_INT, self->subscribers,
      "rejected", G_TYPE_UINT64, self->rejected,
      "without-mask", G_TYPE_UINT64, self->without_mask, NULL);
  g_mutex_unlock (&self->lock);
  return s;
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
      set_string (self, &self->camera_state, value);
      break;
    case PROP_MODEL_STATE:
      set_string (self, &self->model_state, value);
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
gst_zmq_mask_sink_get_property (GObject *object, guint prop_id,
    GValue *value, GParamSpec *pspec)
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
    case PROP_SUBSCRIBERS:
      g_mutex_lock (&self->lock);
      g_value_set_int (value, self->subscribers);
      g_mutex_unlock (&self->lock);
      break;
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

  close_resources (self);
  g_free (self->endpoint);
  g_free (self->stream_name);
  g_free (self->curve_secret_key);
  g_free (self->curve_secret_key_file);
  g_free (self->curve_allowed_keys);
  g_free (self->curve_allowed_keys_file);
  g_free (self->ipc_group);
  g_free (self->camera_state);
  g_free (self->model_state);
  g_free (self->bound_endpoint);
  g_mutex_clear (&self->lock);
  G_OBJECT_CLASS (parent_class)->finalize (object);
}

static void
gst_zmq_mask_sink_class_init (GstZmqMaskSinkClass *klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);
  GstBaseSinkClass *sink_class = GST_BASE_SINK_CLASS (klass);
  const GParamFlags rw = G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS
      | GST_PARAM_MUTABLE_READY;

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
          "Compression level of encoding=zstd", 1, 19, DEFAULT_ZSTD_LEVEL,
          rw));
  g_object_class_install_property (gobject_class, PROP_SNDHWM,
      g_param_spec_int ("sndhwm", "Send high-water mark",
          "Messages queued per subscriber before libzmq drops for it "
          "(0: unlimited)", 0, G_MAXINT, DEFAULT_SNDHWM, rw));
  g_object_class_install_property (gobject_class, PROP_LATEST_ONLY,
      g_param_spec_boolean ("latest-only", "Latest only",
          "Keep at most one mask queued per subscriber and in the element, "
          "so a slow subscriber gets the newest mask", DEFAULT_LATEST_ONLY,
          rw));
  g_object_class_install_property (gobject_class, PROP_CURVE_SECRET_KEY,
      g_param_spec_string ("curve-secret-key", "CURVE secret key",
          "Server secret key (Z85); enables CURVE", NULL, rw));
  g_object_class_install_property (gobject_class, PROP_CURVE_SECRET_KEY_FILE,
      g_param_spec_string ("curve-secret-key-file", "CURVE secret key file",
          "File holding the server secret key (Z85, e.g. a czmq secret "
          "certificate)", NULL, rw));
  g_object_class_install_property (gobject_class, PROP_CURVE_ALLOWED_KEYS,
      g_param_spec_string ("curve-allowed-keys", "Allowed CURVE clients",
          "Client public keys (Z85, comma-separated) allowed to subscribe; "
          "empty: any client that knows the server key", NULL, rw));
  g_object_class_install_property (gobject_class,
      PROP_CURVE_ALLOWED_KEYS_FILE,
      g_param_spec_string ("curve-allowed-keys-file",
          "Allowed CURVE clients file",
          "File with allowed client public keys (Z85), one per line", NULL,
          rw));
  g_object_class_install_property (gobject_class, PROP_IPC_MODE,
      g_param_spec_uint ("ipc-mode", "ipc socket mode",
          "File mode of a bound ipc:// socket (e.g. 0660; 0: leave)", 0,
          07777, DEFAULT_IPC_MODE, rw));
  g_object_class_install_property (gobject_class, PROP_IPC_GROUP,
      g_param_spec_string ("ipc-group", "ipc socket group",
          "Group of a bound ipc:// socket file", NULL, rw));
  g_object_class_install_property (gobject_class, PROP_CAMERA_STATE,
      g_param_spec_string ("camera-state", "Camera state",
          "Text sent in the status message", DEFAULT_CAMERA_STATE,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS
          | GST_PARAM_MUTABLE_PLAYING));
  g_object_class_install_property (gobject_class, PROP_MODEL_STATE,
      g_param_spec_string ("model-state", "Model state",
          "Text sent in the status message as model_state (\"ok\", or why "
          "the last model reload failed)", DEFAULT_MODEL_STATE,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS
          | GST_PARAM_MUTABLE_PLAYING));
  g_object_class_install_property (gobject_class, PROP_BOUND_ENDPOINT,
      g_param_spec_string ("bound-endpoint", "Bound endpoint",
          "The endpoint as libzmq resolved it (e.g. the port of tcp://*:*)",
          NULL, G_PARAM_READABLE | G_PARAM_STATIC_STRINGS));
  g_object_class_install_property (gobject_class, PROP_SUBSCRIBERS,
      g_param_spec_int ("subscribers", "Subscribers",
          "Current number of mask subscriptions", 0, G_MAXINT, 0,
          G_PARAM_READABLE | G_PARAM_STATIC_STRINGS));
  g_object_class_install_property (gobject_class, PROP_STATS,
      g_param_spec_boxed ("stats", "Statistics",
          "published, dropped, bytes, subscribers, rejected, without-mask",
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
  g_mutex_init (&self->lock);
  self->stream_name = g_strdup (DEFAULT_STREAM_NAME);
  self->encoding = DEFAULT_ENCODING;
  self->sndhwm = DEFAULT_SNDHWM;
  self->latest_only = DEFAULT_LATEST_ONLY;
  self->ipc_mode = DEFAULT_IPC_MODE;
  self->camera_state = g_strdup (DEFAULT_CAMERA_STATE);
  self->model_state = g_strdup (DEFAULT_MODEL_STATE);
  self->mask_kind = DEFAULT_MASK_KIND;
  self->zstd_level = DEFAULT_ZSTD_LEVEL;
  self->wake_fd = -1;
  self->qcap = QUEUE_LEN;
  /* Masks go out as soon as they exist; a live pipeline must not preroll
   * waiting for us either. */
  gst_base_sink_set_sync (GST_BASE_SINK (self), FALSE);
  /* last-sample would keep a video frame alive for nothing. */
  gst_base_sink_set_last_sample_enabled (GST_BASE_SINK (self), FALSE);
}
