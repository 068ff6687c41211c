/* The segmask publisher (segmask-pub.h): one XPUB socket and one ZAP
 * socket, both owned by the publisher thread started in segmask_pub_new
 * and joined in segmask_pub_free. The caller's thread only puts masks in a
 * small ring under a mutex and wakes the publisher through an eventfd; a
 * full ring drops the oldest mask and counts it, so segmask_pub_push never
 * waits for the network. The publisher thread encodes and sends with
 * ZMQ_DONTWAIT (raw masks zero-copy: libzmq holds the caller's reference
 * until every subscriber got it), attributes (un)subscribe frames to
 * connections (pub-track.c), replays the newest mask to a new subscriber
 * at most once per REPLAY_INTERVAL_MS, answers ZAP for every connection
 * and publishes the status message once per second.
 *
 * ZAP runs even without CURVE: it is how each connection gets a User-Id
 * that its subscription frames then carry, which is what lets a peer
 * change only its own subscriptions. The ZAP socket is a ROUTER, not the
 * usual REP: a reply that fails half-way leaves a REP socket waiting to
 * send for ever (and every later handshake stuck), a ROUTER has no such
 * state.
 *
 * Why one file of 1.2k lines: it is one object, whose struct stays
 * private to this file, and every section below (sending, what peers
 * send, the caller's side, start) works on its fields. What stands alone
 * without sockets, the subscription and ZAP decisions, is already in
 * pub-track.c. The next cut, if this grows, is bind_ipc (~140 lines that
 * touch only the XPUB socket and the ipc_* fields). */
#include "pub-internal.h"
#include "error.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

/* Masks waiting for the publisher thread; the oldest is dropped when full. */
#define QUEUE_LEN 8
/* Bounded wait for queued messages to leave when the socket closes. */
#define LINGER_MS 200
#define STATUS_INTERVAL_MS 1000
/* The replay reaches every subscriber (a PUB socket cannot address one),
 * so it is rate-limited: new connections cannot fill others' queues. */
#define REPLAY_INTERVAL_MS 500
#define ZAP_ENDPOINT "inproc://zeromq.zap.01"
/* Frames of a ZAP request we look at (7) plus the ROUTER envelope. */
#define ZAP_MAX_FRAMES 12

typedef struct
{
  segmask_pub_mask m;
  int used;
} Pending;

struct segmask_pub
{
  /* Fixed at start. */
  char *stream;
  char mask_topic[16 + SEGMASK_MAX_STRING];
  char status_topic[16 + SEGMASK_MAX_STRING];
  segmask_encoding enc;
  int level;
  int curve;
  segmask_keyring *allowed; /* NULL: any CURVE client */
  segmask_pub_subscribers_func on_subscribers;
  segmask_pub_log_func log;
  void *user;
  char *bound;
  char *ipc_path; /* the socket file we placed, to unlink */
  dev_t ipc_dev;
  ino_t ipc_ino;

  /* The publisher thread's alone while it runs. */
  void *ctx, *xpub, *zap;
  segmask_track *track;
  segmask_codec *codec;
  uint8_t *scratch;
  size_t scratch_len;
  uint8_t *hbuf;
  size_t hbuf_len;
  zmq_msg_t last[3];
  int have_last;
  uint32_t session;
  uint64_t seq;
  uint64_t conn_seq;
  int64_t last_replay_ms;
  segmask_pub_mask last_info; /* numbers of the newest mask */
  char *last_model_name, *last_model_sha256;
  int64_t status_time_ms;
  uint64_t status_published;
  int fail_zap_sends;
  pthread_t thread;
  int thread_started;
  int wake_fd;

  /* Under `lock`. */
  pthread_mutex_t lock;
  Pending queue[QUEUE_LEN];
  unsigned qhead, qlen, qcap;
  int eos_pending, quit;
  char *camera_state, *model_state;
  char *extra_status; /* "key=value\n" lines, or NULL */
  segmask_pub_stats stats;
};

static void
logf_ (segmask_pub *p, segmask_log_level level, const char *fmt, ...)
{
  char buf[512];
  va_list ap;

  if (!p->log)
    return;
  va_start (ap, fmt);
  vsnprintf (buf, sizeof (buf), fmt, ap);
  va_end (ap);
  p->log (p->user, level, buf);
}

static int64_t
mono_ms (void)
{
  struct timespec ts;

  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static uint64_t
real_ns (void)
{
  struct timespec ts;

  clock_gettime (CLOCK_REALTIME, &ts);
  return (uint64_t) ts.tv_sec * 1000000000u + (uint64_t) ts.tv_nsec;
}

void
segmask_pub_options_init (segmask_pub_options *opt)
{
  memset (opt, 0, sizeof (*opt));
  opt->encoding = SEGMASK_ENC_RLE;
  opt->zstd_level = 1;
  opt->sndhwm = 16;
}

static void
release (segmask_pub_mask *m)
{
  if (m->release)
    m->release ((void *) m->plane, m->owner);
  m->release = NULL;
  m->owner = NULL;
}

/* ---- sending (publisher thread) ---- */

static int
msg_from (zmq_msg_t *m, const void *data, size_t len)
{
  if (zmq_msg_init_size (m, len) != 0)
    return 0;
  if (len)
    memcpy (zmq_msg_data (m), data, len);
  return 1;
}

/* Sends three parts without blocking. The parts are always consumed. */
static int
send_parts (segmask_pub *p, zmq_msg_t parts[3], size_t *bytes)
{
  size_t total = 0;

  for (int i = 0; i < 3; i++) {
    total += zmq_msg_size (&parts[i]);
    if (zmq_msg_send (&parts[i], p->xpub,
            ZMQ_DONTWAIT | (i < 2 ? ZMQ_SNDMORE : 0))
        < 0) {
      logf_ (p, SEGMASK_LOG_DEBUG, "send failed: %s",
          zmq_strerror (zmq_errno ()));
      /* After a failed send the caller still owns the message. */
      for (; i < 3; i++)
        zmq_msg_close (&parts[i]);
      return 0;
    }
  }
  if (bytes)
    *bytes = total;
  return 1;
}

static void
count_send (segmask_pub *p, int ok, size_t bytes)
{
  pthread_mutex_lock (&p->lock);
  if (ok) {
    p->stats.published++;
    p->stats.bytes += bytes;
  } else {
    p->stats.dropped++;
  }
  pthread_mutex_unlock (&p->lock);
}

static void
header_common (segmask_pub *p, segmask_header *h, segmask_msg_type type)
{
  memset (h, 0, sizeof (*h));
  h->type = type;
  h->session = p->session;
  h->seq = p->seq;
  h->stream = p->stream;
  h->publish_realtime_ns = real_ns ();
  h->capture_running_ns = SEGMASK_TIME_NONE;
  pthread_mutex_lock (&p->lock);
  h->drops = p->stats.dropped;
  pthread_mutex_unlock (&p->lock);
}

static int
ensure_scratch (segmask_pub *p, size_t len)
{
  if (len <= p->scratch_len)
    return 1;
  free (p->scratch);
  p->scratch = malloc (len);
  p->scratch_len = p->scratch ? len : 0;
  return p->scratch != NULL;
}

static int
set_str (char **field, const char *v)
{
  char *c;

  if ((*field == NULL && v == NULL) || (*field && v && !strcmp (*field, v)))
    return 1;
  c = v ? strdup (v) : NULL;
  if (v && !c)
    return 0;
  free (*field);
  *field = c;
  return 1;
}

static void
remember_last (segmask_pub *p, const segmask_pub_mask *m)
{
  p->last_info = *m;
  p->last_info.release = NULL;
  p->last_info.owner = NULL;
  p->last_info.plane = NULL;
  p->last_info.labels = NULL;
  if (!set_str (&p->last_model_name, m->model_name)
      || !set_str (&p->last_model_sha256, m->model_sha256))
    logf_ (p, SEGMASK_LOG_WARNING, "out of memory for the model name");
  p->last_info.model_name = p->last_model_name;
  p->last_info.model_sha256 = p->last_model_sha256;
}

static void
publish_mask (segmask_pub *p, segmask_pub_mask *m)
{
  segmask_header h;
  zmq_msg_t parts[3];
  size_t raw_len = (size_t) m->stride * m->height, hlen, plen, sent = 0;
  int ok;

  p->seq++;
  header_common (p, &h, SEGMASK_MSG_MASK);
  h.kind = m->kind;
  h.encoding = p->enc;
  h.capture_realtime_ns = m->capture_realtime_ns;
  h.capture_running_ns = m->capture_running_ns;
  h.inference_ns = m->inference_ns;
  h.mask_age_ns = m->mask_age_ns;
  h.mask_age_frames = m->mask_age_frames;
  h.frame_width = m->frame_width;
  h.frame_height = m->frame_height;
  h.width = m->width;
  h.height = m->height;
  h.stride = m->stride;
  h.raw_len = (uint32_t) raw_len;
  h.model_name = m->model_name;
  h.model_sha256 = m->model_sha256;
  /* Labels longer than the protocol allows are sent as class counts only. */
  h.num_classes = m->num_classes <= SEGMASK_MAX_CLASSES ? m->num_classes : 0;
  for (unsigned i = 0; i < h.num_classes; i++)
    h.labels[i] = m->labels ? m->labels[i] : NULL;
  if (segmask_header_size (&h) == 0)
    h.num_classes = 0;

  if (p->enc == SEGMASK_ENC_RAW) {
    plen = raw_len;
  } else if (!ensure_scratch (p, segmask_payload_bound (p->enc, raw_len))
      || segmask_payload_encode (p->codec, p->enc, p->level, m->plane, raw_len,
             p->scratch, p->scratch_len, &plen)
          != SEGMASK_OK) {
    goto encode_failed;
  }
  h.payload_len = (uint32_t) plen;
  if (segmask_header_encode (&h, p->hbuf, p->hbuf_len, &hlen) != SEGMASK_OK)
    goto encode_failed;
  if (!msg_from (&parts[0], p->mask_topic, strlen (p->mask_topic)))
    goto encode_failed;
  if (!msg_from (&parts[1], p->hbuf, hlen)) {
    zmq_msg_close (&parts[0]);
    goto encode_failed;
  }
  if (p->enc == SEGMASK_ENC_RAW) {
    /* Zero-copy: libzmq takes over the caller's reference. */
    if (zmq_msg_init_data (&parts[2], (void *) m->plane, raw_len, m->release,
            m->owner)
        != 0) {
      zmq_msg_close (&parts[0]);
      zmq_msg_close (&parts[1]);
      goto encode_failed;
    }
    m->release = NULL;
    m->owner = NULL;
  } else if (!msg_from (&parts[2], p->scratch, plen)) {
    zmq_msg_close (&parts[0]);
    zmq_msg_close (&parts[1]);
    goto encode_failed;
  }

  /* Keep a copy (shared, not duplicated) to replay to late joiners. */
  for (int i = 0; i < 3; i++) {
    if (p->have_last)
      zmq_msg_close (&p->last[i]);
    zmq_msg_init (&p->last[i]);
  }
  p->have_last = zmq_msg_copy (&p->last[0], &parts[0]) == 0
      && zmq_msg_copy (&p->last[1], &parts[1]) == 0
      && zmq_msg_copy (&p->last[2], &parts[2]) == 0;
  if (!p->have_last)
    for (int i = 0; i < 3; i++)
      zmq_msg_close (&p->last[i]);

  ok = send_parts (p, parts, &sent);
  remember_last (p, m);
  count_send (p, ok, sent);
  return;

encode_failed:
  logf_ (p, SEGMASK_LOG_WARNING, "could not encode mask %llu",
      (unsigned long long) p->seq);
  count_send (p, 0, 0);
}

static void
replay_last (segmask_pub *p)
{
  zmq_msg_t parts[3];
  int64_t now = mono_ms ();

  if (!p->have_last || now - p->last_replay_ms < REPLAY_INTERVAL_MS)
    return;
  for (int i = 0; i < 3; i++) {
    zmq_msg_init (&parts[i]);
    if (zmq_msg_copy (&parts[i], &p->last[i]) != 0) {
      for (int j = 0; j <= i; j++)
        zmq_msg_close (&parts[j]);
      return;
    }
  }
  /* Subscribers that had it drop the replay by its sequence number. */
  if (send_parts (p, parts, NULL)) {
    p->last_replay_ms = now;
    pthread_mutex_lock (&p->lock);
    p->stats.replayed++;
    pthread_mutex_unlock (&p->lock);
  }
}

static void
publish_simple (segmask_pub *p, segmask_msg_type type, const char *payload,
    size_t payload_len)
{
  segmask_header h;
  zmq_msg_t parts[3];
  const char *topic =
      type == SEGMASK_MSG_STATUS ? p->status_topic : p->mask_topic;
  size_t hlen;

  header_common (p, &h, type);
  h.model_name = p->last_model_name;
  h.model_sha256 = p->last_model_sha256;
  h.inference_ns = p->last_info.inference_ns;
  h.mask_age_ns = p->last_info.mask_age_ns;
  h.mask_age_frames = p->last_info.mask_age_frames;
  h.capture_realtime_ns = p->last_info.capture_realtime_ns;
  h.payload_len = (uint32_t) payload_len;
  if (segmask_header_encode (&h, p->hbuf, p->hbuf_len, &hlen) != SEGMASK_OK)
    return;
  if (!msg_from (&parts[0], topic, strlen (topic)))
    return;
  if (!msg_from (&parts[1], p->hbuf, hlen)) {
    zmq_msg_close (&parts[0]);
    return;
  }
  if (!msg_from (&parts[2], payload, payload_len)) {
    zmq_msg_close (&parts[0]);
    zmq_msg_close (&parts[1]);
    return;
  }
  if (!send_parts (p, parts, NULL))
    logf_ (p, SEGMASK_LOG_DEBUG, "could not send the %s message",
        type == SEGMASK_MSG_EOS ? "end-of-stream" : "status");
}

static void
publish_status (segmask_pub *p)
{
  int64_t now = mono_ms ();
  double secs = (now - p->status_time_ms) / 1000.0;
  uint64_t published, dropped;
  char text[2048];
  int n;

  pthread_mutex_lock (&p->lock);
  published = p->stats.published;
  dropped = p->stats.dropped;
  n = snprintf (text, sizeof (text),
      "fps=%.2f\ninference_ms=%.3f\n"
      "drops=%llu\nmask_age_ms=%.3f\nmodel=%s\nmodel_sha256=%s\n"
      "subscribers=%d\ncamera_state=%s\nmodel_state=%s\npublished=%llu\n"
      "seq=%llu\n%s",
      secs > 0 ? (published - p->status_published) / secs : 0.0,
      p->last_info.inference_ns / 1e6, (unsigned long long) dropped,
      p->last_info.mask_age_ns / 1e6,
      p->last_model_name ? p->last_model_name : "",
      p->last_model_sha256 ? p->last_model_sha256 : "", p->stats.subscribers,
      p->camera_state ? p->camera_state : "",
      p->model_state ? p->model_state : "", (unsigned long long) published,
      (unsigned long long) p->seq, p->extra_status ? p->extra_status : "");
  pthread_mutex_unlock (&p->lock);
  if (n < 0)
    return;
  /* Truncated at a byte boundary at worst; readers ignore a broken line. */
  publish_simple (p, SEGMASK_MSG_STATUS, text,
      (size_t) n < sizeof (text) ? (size_t) n : sizeof (text) - 1);
  p->status_time_ms = now;
  p->status_published = published;
}

/* ---- what peers send (publisher thread) ---- */

static void
set_subscribers (segmask_pub *p)
{
  int n = segmask_track_subscribers (p->track);

  pthread_mutex_lock (&p->lock);
  p->stats.subscribers = n;
  pthread_mutex_unlock (&p->lock);
  logf_ (p, SEGMASK_LOG_DEBUG, "%d subscriber(s)", n);
  if (p->on_subscribers)
    p->on_subscribers (p->user, n);
}

/* Reads the XPUB (un)subscription notifications queued. */
static void
handle_subscriptions (segmask_pub *p, int *replay, int *status_now)
{
  unsigned flags = 0;

  for (;;) {
    zmq_msg_t m;
    const char *uid;
    uint64_t conn = 0;

    if (zmq_msg_init (&m) != 0)
      break;
    if (zmq_msg_recv (&m, p->xpub, ZMQ_DONTWAIT) < 0) {
      zmq_msg_close (&m);
      break;
    }
    /* Frames from peers carry the User-Id our ZAP handler gave their
     * connection; libzmq's own (a departed pipe) carry no metadata. */
    uid = zmq_msg_gets (&m, "User-Id");
    if (uid) {
      conn = segmask_track_parse_user_id (uid);
      if (conn == 0) {
        zmq_msg_close (&m);
        continue;
      }
    }
    flags |= segmask_track_frame (p->track, conn, zmq_msg_data (&m),
        zmq_msg_size (&m));
    zmq_msg_close (&m);
  }
  flags |= segmask_track_flush (p->track);
  if (flags & SEGMASK_TRACK_REPLAY)
    *replay = 1;
  if (flags & SEGMASK_TRACK_STATUS)
    *status_now = 1;
  if (flags & SEGMASK_TRACK_COUNT)
    set_subscribers (p);
}

/* Sends one reply frame; `fail_zap_sends` lets the tests break it. */
static int
zap_send (segmask_pub *p, const void *data, size_t len, int more)
{
  if (__atomic_load_n (&p->fail_zap_sends, __ATOMIC_SEQ_CST) > 0) {
    __atomic_fetch_sub (&p->fail_zap_sends, 1, __ATOMIC_SEQ_CST);
    errno = EAGAIN;
    return -1;
  }
  return zmq_send (p->zap, data, len, more ? ZMQ_SNDMORE : 0);
}

/* RFC 27 over a ROUTER: [routing id, empty, request frames...]. */
static void
handle_zap (segmask_pub *p)
{
  zmq_msg_t f[ZAP_MAX_FRAMES];
  segmask_frame req[ZAP_MAX_FRAMES];
  int n = 0, more = 1, delim = -1, too_many = 0;
  segmask_zap_reply r;
  int admitted;

  while (more) {
    zmq_msg_t spill, *m = n < ZAP_MAX_FRAMES ? &f[n] : &spill;

    if (zmq_msg_init (m) != 0)
      break;
    if (zmq_msg_recv (m, p->zap, ZMQ_DONTWAIT) < 0) {
      zmq_msg_close (m);
      break;
    }
    more = zmq_msg_more (m);
    if (m == &spill) {
      zmq_msg_close (m);
      too_many = 1;
      continue;
    }
    if (delim < 0 && zmq_msg_size (m) == 0)
      delim = n;
    n++;
  }
  if (n == 0)
    return;
  if (delim < 1)
    goto out; /* no envelope: nothing to reply to */
  for (int i = delim + 1; i < n; i++) {
    req[i - delim - 1].data = zmq_msg_data (&f[i]);
    req[i - delim - 1].len = zmq_msg_size (&f[i]);
  }
  admitted = segmask_zap_decide (req, too_many ? 0 : (size_t) (n - delim - 1),
      p->curve, p->allowed, p->conn_seq + 1, &r);
  if (admitted) {
    p->conn_seq++;
  } else {
    pthread_mutex_lock (&p->lock);
    p->stats.rejected++;
    pthread_mutex_unlock (&p->lock);
    logf_ (p, SEGMASK_LOG_INFO, "refused a connection: %s", r.text);
  }
  {
    /* The envelope back, then version, request id, code, text, user id,
     * metadata. If the first frame fails nothing was queued; after that
     * the message is finished anyway (a ROUTER has no state to wedge). */
    int ok = 1;

    for (int i = 0; ok && i <= delim; i++)
      ok = zap_send (p, zmq_msg_data (&f[i]), zmq_msg_size (&f[i]), 1) >= 0;
    if (ok) {
      const segmask_frame *id = r.request_id;
      const void *d[6] = {"1.0", id ? id->data : NULL, r.code, r.text,
          r.user_id, NULL};
      size_t l[6] = {3, id ? id->len : 0, 3, strlen (r.text),
          strlen (r.user_id), 0};

      /* Once the envelope is out, every frame is sent even if one fails,
       * so that the message is complete. */
      for (int i = 0; i < 6; i++)
        if (zap_send (p, d[i], l[i], i < 5) < 0)
          ok = 0;
    }
    if (!ok)
      logf_ (p, SEGMASK_LOG_WARNING, "ZAP reply failed: %s",
          zmq_strerror (errno));
  }
out:
  for (int i = 0; i < n; i++)
    zmq_msg_close (&f[i]);
}

/* Publishes what the caller queued, then a pending EOS. */
static void
drain_queue (segmask_pub *p)
{
  for (;;) {
    Pending q;
    int eos;

    pthread_mutex_lock (&p->lock);
    if (p->qlen == 0) {
      eos = p->eos_pending;
      p->eos_pending = 0;
      pthread_mutex_unlock (&p->lock);
      if (eos)
        publish_simple (p, SEGMASK_MSG_EOS, NULL, 0);
      return;
    }
    q = p->queue[p->qhead];
    memset (&p->queue[p->qhead], 0, sizeof (Pending));
    p->qhead = (p->qhead + 1) % QUEUE_LEN;
    p->qlen--;
    pthread_mutex_unlock (&p->lock);
    publish_mask (p, &q.m);
    release (&q.m);
  }
}

static void *
publisher_thread (void *data)
{
  segmask_pub *p = data;
  int64_t next_status = mono_ms () + STATUS_INTERVAL_MS;

  p->status_time_ms = mono_ms ();
  for (;;) {
    zmq_pollitem_t items[3] = {
        {p->xpub, 0, ZMQ_POLLIN, 0},
        {NULL, p->wake_fd, ZMQ_POLLIN, 0},
        {p->zap, 0, ZMQ_POLLIN, 0},
    };
    int64_t now = mono_ms ();
    long timeout = next_status > now ? (long) (next_status - now) : 0;
    int replay = 0, status_now = 0, quit, rc;

    rc = zmq_poll (items, 3, timeout);
    if (rc < 0 && zmq_errno () != EINTR) {
      logf_ (p, SEGMASK_LOG_ERROR, "zmq_poll: %s", zmq_strerror (zmq_errno ()));
      break;
    }
    if (rc > 0 && (items[1].revents & ZMQ_POLLIN)) {
      uint64_t v;

      if (read (p->wake_fd, &v, sizeof (v)) < 0 && errno != EAGAIN)
        logf_ (p, SEGMASK_LOG_WARNING, "eventfd read: %s", strerror (errno));
    }
    /* ZAP first: a handshake waiting on us delays that subscriber. */
    if (rc > 0 && (items[2].revents & ZMQ_POLLIN))
      handle_zap (p);
    if (rc > 0 && (items[0].revents & ZMQ_POLLIN))
      handle_subscriptions (p, &replay, &status_now);
    if (replay)
      replay_last (p);
    drain_queue (p);
    now = mono_ms ();
    if (status_now || now >= next_status) {
      publish_status (p);
      if (now >= next_status)
        next_status = now + STATUS_INTERVAL_MS;
    }
    pthread_mutex_lock (&p->lock);
    quit = p->quit;
    pthread_mutex_unlock (&p->lock);
    if (quit) {
      drain_queue (p);
      break;
    }
  }

  /* The thread that used the sockets closes them; LINGER bounds it. */
  if (p->have_last) {
    for (int i = 0; i < 3; i++)
      zmq_msg_close (&p->last[i]);
    p->have_last = 0;
  }
  if (zmq_close (p->xpub) != 0)
    logf_ (p, SEGMASK_LOG_WARNING, "zmq_close: %s",
        zmq_strerror (zmq_errno ()));
  p->xpub = NULL;
  if (zmq_close (p->zap) != 0)
    logf_ (p, SEGMASK_LOG_WARNING, "zmq_close: %s",
        zmq_strerror (zmq_errno ()));
  p->zap = NULL;
  return NULL;
}

static void
wake (segmask_pub *p)
{
  uint64_t one = 1;

  /* An eventfd write only fails when the counter would overflow, which
   * means the publisher has a wake-up pending anyway. */
  if (write (p->wake_fd, &one, sizeof (one)) < 0 && errno != EAGAIN)
    logf_ (p, SEGMASK_LOG_WARNING, "eventfd write: %s", strerror (errno));
}

/* ---- caller's side ---- */

void
segmask_pub_push (segmask_pub *p, const segmask_pub_mask *mask)
{
  Pending old = {0};
  segmask_pub_mask m;

  if (!mask)
    return;
  m = *mask;
  if (!p || !m.plane) {
    release (&m);
    return;
  }
  pthread_mutex_lock (&p->lock);
  if (p->qlen == p->qcap) {
    /* Newest wins: subscribers want the current mask, not a backlog. */
    old = p->queue[p->qhead];
    memset (&p->queue[p->qhead], 0, sizeof (Pending));
    p->qhead = (p->qhead + 1) % QUEUE_LEN;
    p->qlen--;
    p->stats.dropped++;
  }
  p->queue[(p->qhead + p->qlen) % QUEUE_LEN] = (Pending){m, 1};
  p->qlen++;
  pthread_mutex_unlock (&p->lock);
  if (old.used)
    release (&old.m);
  wake (p);
}

void
segmask_pub_eos (segmask_pub *p)
{
  if (!p)
    return;
  pthread_mutex_lock (&p->lock);
  p->eos_pending = 1;
  pthread_mutex_unlock (&p->lock);
  wake (p);
}

/* One line per key in the status text: no line breaks inside a value. */
static char *
one_line (const char *s)
{
  char *c = strdup (s);

  for (char *q = c; q && *q; q++)
    if (*q == '\r' || *q == '\n')
      *q = ' ';
  return c;
}

segmask_status
segmask_pub_set_state (segmask_pub *p, const char *camera, const char *model)
{
  char *c = NULL, *m = NULL;

  if (!p)
    return SEGMASK_ERR_INVALID;
  if ((camera && !(c = one_line (camera)))
      || (model && !(m = one_line (model)))) {
    free (c);
    return SEGMASK_ERR_NOMEM;
  }
  pthread_mutex_lock (&p->lock);
  if (c) {
    free (p->camera_state);
    p->camera_state = c;
  }
  if (m) {
    free (p->model_state);
    p->model_state = m;
  }
  pthread_mutex_unlock (&p->lock);
  return SEGMASK_OK;
}

segmask_status
segmask_pub_set_extra_status (segmask_pub *p, const char *lines)
{
  size_t n = lines ? strlen (lines) : 0;
  char *copy = NULL;

  if (!p)
    return SEGMASK_ERR_INVALID;
  if (n) {
    /* Ends in a line break, carries no carriage return: readers split
     * on '\n' and must not see a half key glued to the next one. */
    if (!(copy = malloc (n + 2)))
      return SEGMASK_ERR_NOMEM;
    memcpy (copy, lines, n + 1);
    for (char *q = copy; *q; q++)
      if (*q == '\r')
        *q = ' ';
    if (copy[n - 1] != '\n') {
      copy[n] = '\n';
      copy[n + 1] = '\0';
    }
  }
  pthread_mutex_lock (&p->lock);
  free (p->extra_status);
  p->extra_status = copy;
  pthread_mutex_unlock (&p->lock);
  return SEGMASK_OK;
}

void
segmask_pub_get_stats (segmask_pub *p, segmask_pub_stats *stats)
{
  if (!p || !stats)
    return;
  pthread_mutex_lock (&p->lock);
  *stats = p->stats;
  pthread_mutex_unlock (&p->lock);
}

const char *
segmask_pub_endpoint (const segmask_pub *p)
{
  return p ? p->bound : NULL;
}

void
segmask_pub_test_fail_zap_sends (segmask_pub *p, int n)
{
  /* Read by the publisher thread: only meaningful before a handshake the
   * test then starts, which orders it through libzmq's own locking. */
  __atomic_store_n (&p->fail_zap_sends, n, __ATOMIC_SEQ_CST);
}

void
segmask_pub_free (segmask_pub **pp)
{
  segmask_pub *p = pp ? *pp : NULL;

  if (!p)
    return;
  if (p->thread_started) {
    pthread_mutex_lock (&p->lock);
    p->quit = 1;
    pthread_mutex_unlock (&p->lock);
    wake (p);
    pthread_join (p->thread, NULL);
  }
  if (p->xpub)
    zmq_close (p->xpub);
  if (p->zap)
    zmq_close (p->zap);
  if (p->ctx) {
    while (zmq_ctx_term (p->ctx) != 0 && zmq_errno () == EINTR)
      ;
  }
  if (p->ipc_path) {
    struct stat st;

    /* Only our own socket file: a successor may have replaced it. */
    if (lstat (p->ipc_path, &st) == 0 && st.st_dev == p->ipc_dev
        && st.st_ino == p->ipc_ino)
      unlink (p->ipc_path);
    free (p->ipc_path);
  }
  if (p->wake_fd >= 0)
    close (p->wake_fd);
  for (unsigned i = 0; i < QUEUE_LEN; i++)
    if (p->queue[i].used)
      release (&p->queue[i].m);
  segmask_keyring_free (&p->allowed);
  segmask_track_free (&p->track);
  segmask_codec_free (&p->codec);
  free (p->scratch);
  free (p->hbuf);
  free (p->stream);
  free (p->bound);
  free (p->last_model_name);
  free (p->last_model_sha256);
  free (p->camera_state);
  free (p->model_state);
  free (p->extra_status);
  pthread_mutex_destroy (&p->lock);
  free (p);
  *pp = NULL;
}

/* ---- start ---- */

/* Loads the CURVE settings; fails closed: anything set must be usable. */
static segmask_status
load_curve (segmask_pub *p, const segmask_pub_options *o, uint8_t secret[32],
    char *err, size_t err_len)
{
  char why[400], pub_z[41], sec_z[41];
  segmask_status st;
  int have_secret = o->curve_secret_key || o->curve_secret_key_file;
  int have_allowed = o->curve_allowed_keys || o->curve_allowed_keys_file;

  if (o->curve_secret_key && o->curve_secret_key_file) {
    segmask_set_error (err, err_len,
        "curve-secret-key and curve-secret-key-file are "
        "both set; set one");
    return SEGMASK_ERR_INVALID;
  }
  if (have_allowed && !have_secret) {
    segmask_set_error (err, err_len,
        "curve-allowed-keys%s needs the server's "
        "curve-secret-key or curve-secret-key-file",
        o->curve_allowed_keys ? "" : "-file");
    return SEGMASK_ERR_INVALID;
  }
  if (!have_secret)
    return SEGMASK_OK;
  st = segmask_keypair_load (o->curve_secret_key, o->curve_secret_key_file,
      pub_z, sec_z, why, sizeof (why));
  if (st != SEGMASK_OK) {
    segmask_set_error (err, err_len, "%s: %s",
        o->curve_secret_key ? "curve-secret-key" : "curve-secret-key-file",
        why);
    return st;
  }
  if (!zmq_z85_decode (secret, sec_z)) {
    memset (sec_z, 0, sizeof (sec_z));
    return SEGMASK_ERR_INVALID;
  }
  memset (sec_z, 0, sizeof (sec_z));
  p->curve = 1;
  if (!have_allowed)
    return SEGMASK_OK;
  if (!(p->allowed = segmask_keyring_new ()))
    return SEGMASK_ERR_NOMEM;
  if (o->curve_allowed_keys
      && (st = segmask_keyring_add_text (p->allowed, SEGMASK_KEY_PUBLIC,
              o->curve_allowed_keys, strlen (o->curve_allowed_keys),
              "(property)", why, sizeof (why)))
          != SEGMASK_OK) {
    segmask_set_error (err, err_len, "curve-allowed-keys: %s", why);
    return st;
  }
  if (o->curve_allowed_keys_file
      && (st = segmask_keyring_add_path (p->allowed, SEGMASK_KEY_PUBLIC,
              o->curve_allowed_keys_file, why, sizeof (why)))
          != SEGMASK_OK) {
    segmask_set_error (err, err_len, "curve-allowed-keys-file: %s", why);
    return st;
  }
  return SEGMASK_OK;
}

/* Binds an ipc:// endpoint without a window in which the socket file is
 * reachable with the wrong mode or group, and without following links.
 *
 * libzmq unlinks whatever is at the path and binds there; then anyone can
 * connect before a chmod by path, and a chmod/chown by path follows a
 * symlink swapped in meanwhile. Instead: refuse if a live socket answers
 * at the path (libzmq would silently take over another publisher's
 * endpoint) or if the path is anything but a socket; bind inside a fresh
 * 0700 directory next to it, where nobody else can connect or swap files;
 * set mode and group there; then rename the socket into place with
 * RENAME_NOREPLACE, so nothing that appeared meanwhile is replaced. A
 * rename keeps the bound socket working (it is bound to the inode). A
 * process-wide umask would do for the mode but not for the group, and is
 * not thread-safe in a GStreamer application. */
static segmask_status
bind_ipc (segmask_pub *p, const char *path, unsigned mode, const char *group,
    char *err, size_t err_len)
{
  char *dir = strdup (path), *slash,
       tmpl[sizeof (((struct sockaddr_un *) 0)->sun_path) + 32];
  const char *base;
  struct stat st;
  struct sockaddr_un sa;
  int dfd = -1, tfd = -1;
  char ep[sizeof (tmpl) + 16];
  gid_t gid = (gid_t) -1;
  segmask_status ret = SEGMASK_ERR_INVALID;

  if (!dir)
    return SEGMASK_ERR_NOMEM;
  slash = strrchr (dir, '/');
  if (!slash) {
    segmask_set_error (err, err_len,
        "ipc://%s: give an absolute or ./relative path", path);
    goto out;
  }
  *slash = 0;
  base = path + (slash - dir) + 1;
  if (!base[0] || strlen (path) >= sizeof (sa.sun_path)) {
    segmask_set_error (err, err_len, "ipc://%s: not a usable socket path",
        path);
    goto out;
  }
  if (group && group[0]) {
    struct group *gr = getgrnam (group);

    if (!gr) {
      segmask_set_error (err, err_len, "ipc-group: unknown group \"%s\"",
          group);
      goto out;
    }
    gid = gr->gr_gid;
  }
  if ((dfd = open (dir[0] ? dir : "/", O_DIRECTORY | O_RDONLY | O_CLOEXEC)) < 0
      || faccessat (dfd, ".", W_OK | X_OK, AT_EACCESS) != 0) {
    segmask_set_error (err, err_len,
        "Cannot create the socket for \"ipc://%s\": "
        "directory \"%s\" is not writable (%s).",
        path, dir[0] ? dir : "/", strerror (errno));
    goto out;
  }
  if (fstatat (dfd, base, &st, AT_SYMLINK_NOFOLLOW) == 0) {
    int s;

    if (!S_ISSOCK (st.st_mode)) {
      segmask_set_error (err, err_len,
          "ipc://%s: the path exists and is not a socket "
          "(a symlink or file is never followed or replaced)",
          path);
      goto out;
    }
    memset (&sa, 0, sizeof (sa));
    sa.sun_family = AF_UNIX;
    memcpy (sa.sun_path, path, strlen (path));
    s = socket (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (s < 0) {
      segmask_set_error (err, err_len, "socket: %s", strerror (errno));
      goto out;
    }
    if (connect (s, (struct sockaddr *) &sa, sizeof (sa)) == 0) {
      close (s);
      segmask_set_error (err, err_len,
          "ipc://%s is in use by a running publisher; "
          "refusing to take over its endpoint",
          path);
      goto out;
    }
    close (s);
    /* Nobody listens: a stale file from a publisher that died. */
    if (unlinkat (dfd, base, 0) != 0 && errno != ENOENT) {
      segmask_set_error (err, err_len,
          "ipc://%s: cannot remove the stale socket: %s", path,
          strerror (errno));
      goto out;
    }
  }
  snprintf (tmpl, sizeof (tmpl), "%s/.segd-bind-XXXXXX", dir[0] ? dir : "");
  if (!mkdtemp (tmpl)) {
    segmask_set_error (err, err_len,
        "ipc://%s: cannot create a directory beside it: %s", path,
        strerror (errno));
    goto out;
  }
  if ((tfd = open (tmpl, O_DIRECTORY | O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) < 0)
    goto tmp_failed;
  snprintf (ep, sizeof (ep), "ipc://%s/%s", tmpl, base);
  if (strlen (ep) - 6 >= sizeof (sa.sun_path)) {
    segmask_set_error (err, err_len,
        "ipc://%s: path too long to bind safely (%zu bytes "
        "with the private directory)",
        path, strlen (ep) - 6);
    goto cleanup;
  }
  if (zmq_bind (p->xpub, ep) != 0) {
    segmask_set_error (err, err_len, "Could not bind \"ipc://%s\": %s", path,
        zmq_strerror (zmq_errno ()));
    ret = SEGMASK_ERR_ZMQ;
    goto cleanup;
  }
  /* In our 0700 directory nobody can swap the file: no link to follow. */
  if (mode && fchmodat (tfd, base, mode, 0) != 0) {
    segmask_set_error (err, err_len,
        "ipc-mode: cannot set mode %o on ipc://%s: %s", mode, path,
        strerror (errno));
    goto unbind;
  }
  if (gid != (gid_t) -1
      && fchownat (tfd, base, (uid_t) -1, gid, AT_SYMLINK_NOFOLLOW) != 0) {
    segmask_set_error (err, err_len,
        "ipc-group: cannot give ipc://%s to group \"%s\": %s", path, group,
        strerror (errno));
    goto unbind;
  }
  if (renameat2 (tfd, base, dfd, base, RENAME_NOREPLACE) != 0) {
    segmask_set_error (err, err_len,
        "ipc://%s: cannot move the socket into place: %s", path,
        errno == EEXIST ? "something appeared at the path meanwhile"
                        : strerror (errno));
    goto unbind;
  }
  if (fstatat (dfd, base, &st, AT_SYMLINK_NOFOLLOW) == 0) {
    p->ipc_dev = st.st_dev;
    p->ipc_ino = st.st_ino;
  }
  p->ipc_path = strdup (path);
  ret = p->ipc_path ? SEGMASK_OK : SEGMASK_ERR_NOMEM;
  goto cleanup;

unbind:
  if (zmq_unbind (p->xpub, ep) != 0)
    ret = SEGMASK_ERR_ZMQ;
  unlinkat (tfd, base, 0);
  goto cleanup;
tmp_failed:
  segmask_set_error (err, err_len, "ipc://%s: %s", tmpl, strerror (errno));
cleanup:
  if (tfd >= 0)
    close (tfd);
  /* A leftover empty 0700 directory is harmless; say so, go on. */
  if (rmdir (tmpl) != 0)
    logf_ (p, SEGMASK_LOG_WARNING, "cannot remove %s: %s", tmpl,
        strerror (errno));
out:
  if (dfd >= 0)
    close (dfd);
  free (dir);
  return ret;
}

segmask_status
segmask_pub_new (const segmask_pub_options *o, segmask_pub **out, char *err,
    size_t err_len)
{
  segmask_pub *p;
  const char *addr;
  int bind = 1, hwm, linger = LINGER_MS, one = 1;
  uint8_t secret[32];
  segmask_status st = SEGMASK_ERR_INVALID;
  char last[1024];
  size_t len = sizeof (last);

  if (out)
    *out = NULL;
  if (!o || !out || !o->endpoint || !o->endpoint[0]) {
    segmask_set_error (err, err_len, "endpoint: not set");
    return SEGMASK_ERR_INVALID;
  }
  if (!o->stream || !o->stream[0] || strlen (o->stream) > SEGMASK_MAX_STRING) {
    segmask_set_error (err, err_len, "stream-name: must be 1 to %d bytes long",
        SEGMASK_MAX_STRING);
    return SEGMASK_ERR_INVALID;
  }
  if (!(p = calloc (1, sizeof (*p))))
    return SEGMASK_ERR_NOMEM;
  pthread_mutex_init (&p->lock, NULL);
  p->wake_fd = -1;
  p->enc = o->encoding;
  p->level = o->zstd_level;
  p->qcap = o->latest_only ? 1 : QUEUE_LEN;
  p->on_subscribers = o->on_subscribers;
  p->log = o->log;
  p->user = o->user;
  p->last_replay_ms = INT64_MIN / 2;
  hwm = o->latest_only ? 1 : o->sndhwm;
  if (!(p->stream = strdup (o->stream)))
    goto nomem;
  segmask_topic (SEGMASK_MSG_MASK, p->stream, p->mask_topic,
      sizeof (p->mask_topic));
  segmask_topic (SEGMASK_MSG_STATUS, p->stream, p->status_topic,
      sizeof (p->status_topic));
  if ((st = load_curve (p, o, secret, err, err_len)) != SEGMASK_OK)
    goto failed;
  if (p->allowed && segmask_keyring_count (p->allowed) == 0)
    logf_ (p, SEGMASK_LOG_WARNING,
        "the CURVE allow-list is set but empty: "
        "no client will be admitted");
  p->hbuf_len =
      SEGMASK_FIXED_LEN + (SEGMASK_MAX_CLASSES + 3) * (SEGMASK_MAX_STRING + 2);
  if (!(p->track = segmask_track_new (p->mask_topic, p->status_topic))
      || !(p->codec = segmask_codec_new ()) || !(p->hbuf = malloc (p->hbuf_len))
      || !(p->camera_state = strdup ("ok"))
      || !(p->model_state = strdup ("ok")))
    goto nomem;
  if ((p->wake_fd = eventfd (0, EFD_NONBLOCK | EFD_CLOEXEC)) < 0) {
    segmask_set_error (err, err_len, "eventfd: %s", strerror (errno));
    goto failed;
  }
  if (!(p->ctx = zmq_ctx_new ()))
    goto zmq_failed;
  /* The ZAP handler first: it must exist before any client handshakes. */
  if (!(p->zap = zmq_socket (p->ctx, ZMQ_ROUTER))
      || zmq_setsockopt (p->zap, ZMQ_LINGER, &linger, sizeof (linger)) != 0
      || zmq_bind (p->zap, ZAP_ENDPOINT) != 0)
    goto zmq_failed;
  if (!(p->xpub = zmq_socket (p->ctx, ZMQ_XPUB))
      || zmq_setsockopt (p->xpub, ZMQ_LINGER, &linger, sizeof (linger)) != 0
      || zmq_setsockopt (p->xpub, ZMQ_SNDHWM, &hwm, sizeof (hwm)) != 0
      /* Every frame, so each connection's own set can be kept. */
      || zmq_setsockopt (p->xpub, ZMQ_XPUB_VERBOSER, &one, sizeof (one)) != 0
      /* A domain makes libzmq ask ZAP for NULL connections too. */
      || zmq_setsockopt (p->xpub, ZMQ_ZAP_DOMAIN, "segd", 4) != 0)
    goto zmq_failed;
  if (p->curve
      && (zmq_setsockopt (p->xpub, ZMQ_CURVE_SERVER, &one, sizeof (one)) != 0
          || zmq_setsockopt (p->xpub, ZMQ_CURVE_SECRETKEY, secret, 32) != 0))
    goto zmq_failed;
  memset (secret, 0, sizeof (secret));

  addr = o->endpoint;
  if (addr[0] == '>' || addr[0] == '@') {
    bind = addr[0] == '@';
    addr++;
  }
  if (bind && strncmp (addr, "ipc://", 6) == 0) {
    if ((st = bind_ipc (p, addr + 6, o->ipc_mode, o->ipc_group, err, err_len))
        != SEGMASK_OK)
      goto failed;
    p->bound = strdup (addr);
  } else {
    if (bind ? zmq_bind (p->xpub, addr) != 0
             : zmq_connect (p->xpub, addr) != 0) {
      segmask_set_error (err, err_len, "Could not %s \"%s\": %s",
          bind ? "bind" : "connect to", addr, zmq_strerror (zmq_errno ()));
      st = SEGMASK_ERR_ZMQ;
      goto failed;
    }
    /* Tests and logs want the port a tcp://...:* bind picked. */
    if (zmq_getsockopt (p->xpub, ZMQ_LAST_ENDPOINT, last, &len) != 0)
      goto zmq_failed;
    p->bound = strdup (last[0] ? last : addr);
  }
  if (!p->bound)
    goto nomem;
  {
    uint32_t r = 0;
    int fd = open ("/dev/urandom", O_RDONLY | O_CLOEXEC);

    /* Only tells sessions apart; time and pid do if urandom is missing. */
    if (fd < 0 || read (fd, &r, sizeof (r)) != (ssize_t) sizeof (r))
      r = (uint32_t) (real_ns () ^ ((uint64_t) getpid () << 16));
    if (fd >= 0)
      close (fd);
    p->session = r;
  }
  if ((errno = pthread_create (&p->thread, NULL, publisher_thread, p)) != 0) {
    segmask_set_error (err, err_len, "cannot start the publisher thread: %s",
        strerror (errno));
    goto failed;
  }
  p->thread_started = 1;
  *out = p;
  return SEGMASK_OK;

nomem:
  segmask_set_error (err, err_len, "out of memory");
  st = SEGMASK_ERR_NOMEM;
  goto failed;
zmq_failed:
  segmask_set_error (err, err_len, "Could not set up the ZeroMQ socket: %s",
      zmq_strerror (zmq_errno ()));
  st = SEGMASK_ERR_ZMQ;
failed:
  memset (secret, 0, sizeof (secret));
  segmask_pub_free (&p);
  return st;
}
