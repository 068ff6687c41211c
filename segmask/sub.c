/* The segmask subscriber: a SUB socket, receive-validate-decode, and the
 * bookkeeping the protocol asks of a subscriber (sequence gaps, replays of
 * the newest mask to late joiners, skipping to the newest mask). One
 * segmask_sub is used from one thread at a time, which makes its socket a
 * single-thread socket as libzmq requires. */
#include "segmask.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

/* Streams whose sequence numbers a subscriber tracks at once. */
#define TRACKED_STREAMS 16

typedef struct
{
  char name[SEGMASK_MAX_STRING + 1];
  uint32_t session;
  uint64_t last_seq;
  int used;
} Track;

typedef struct
{
  segmask_msg pub;
  zmq_msg_t header;
  uint8_t *data;
  char *text;
} Msg;

struct segmask_sub
{
  void *ctx;
  void *sock;
  char *stream;
  int latest_only;
  size_t max_raw;
  int wake_fd;
  segmask_codec *codec;
  segmask_sub_stats stats;
  const char *last_error;
  Track tracks[TRACKED_STREAMS];
  unsigned next_track;
  Msg *held; /* status/EOS that arrived behind a mask */
};

void
segmask_sub_options_init (segmask_sub_options *opt)
{
  memset (opt, 0, sizeof (*opt));
  opt->wake_fd = -1;
}

static void
set_err (char *err, size_t err_len, const char *what)
{
  if (err && err_len)
    snprintf (err, err_len, "%s: %s", what, zmq_strerror (zmq_errno ()));
}

static int
valid_key (const char *k)
{
  return k && strlen (k) == 40;
}

segmask_status
segmask_sub_new (const segmask_sub_options *opt, segmask_sub **out, char *err,
    size_t err_len)
{
  segmask_sub *s;
  char topic[16 + SEGMASK_MAX_STRING];
  size_t n;
  int zero = 0, ivl = 100, ivl_max = 2000;
  int ncurve;
  char server_z[41], public_z[41], secret_z[41];
  const char *server_key = NULL, *public_key = NULL, *secret_key = NULL;

  if (out)
    *out = NULL;
  if (!opt || !out || !opt->endpoint) {
    if (err && err_len)
      snprintf (err, err_len, "no endpoint given");
    return SEGMASK_ERR_INVALID;
  }
  if (opt->stream && strlen (opt->stream) > SEGMASK_MAX_STRING) {
    if (err && err_len)
      snprintf (err, err_len, "stream name longer than %d bytes",
          SEGMASK_MAX_STRING);
    return SEGMASK_ERR_INVALID;
  }
  ncurve = !!opt->curve_server_key + !!opt->curve_public_key
      + !!opt->curve_secret_key;
  if (opt->curve_server_key_file || opt->curve_secret_key_file) {
    segmask_status kst;

    /* Files or inline keys, never a mix: a half-configured CURVE client
     * must not quietly fall back to plain text. */
    if (ncurve || !opt->curve_server_key_file || !opt->curve_secret_key_file) {
      if (err && err_len)
        snprintf (err, err_len,
            "CURVE from files needs both "
            "curve_server_key_file and curve_secret_key_file and no "
            "inline keys");
      return SEGMASK_ERR_INVALID;
    }
    kst = segmask_key_load (NULL, opt->curve_server_key_file, server_z, err,
        err_len);
    if (kst == SEGMASK_OK)
      kst = segmask_keypair_load (NULL, opt->curve_secret_key_file, public_z,
          secret_z, err, err_len);
    if (kst != SEGMASK_OK) {
      memset (secret_z, 0, sizeof (secret_z));
      return kst;
    }
    server_key = server_z;
    public_key = public_z;
    secret_key = secret_z;
    ncurve = 3;
  } else if (ncurve != 0
      && (ncurve != 3 || !valid_key (opt->curve_server_key)
          || !valid_key (opt->curve_public_key)
          || !valid_key (opt->curve_secret_key))) {
    if (err && err_len)
      snprintf (err, err_len,
          "CURVE needs server, public and secret keys, "
          "40 Z85 characters each");
    return SEGMASK_ERR_INVALID;
  } else {
    server_key = opt->curve_server_key;
    public_key = opt->curve_public_key;
    secret_key = opt->curve_secret_key;
  }

  s = calloc (1, sizeof (*s));
  if (!s)
    return SEGMASK_ERR_NOMEM;
  s->wake_fd = opt->wake_fd;
  s->latest_only = opt->latest_only;
  s->max_raw = opt->max_raw ? opt->max_raw : SEGMASK_DEFAULT_MAX_RAW;
  if (opt->stream && opt->stream[0] && !(s->stream = strdup (opt->stream)))
    goto nomem;
  if (!(s->codec = segmask_codec_new ()))
    goto nomem;
  if (!(s->ctx = zmq_ctx_new ())) {
    set_err (err, err_len, "zmq_ctx_new");
    goto fail;
  }
  if (!(s->sock = zmq_socket (s->ctx, ZMQ_SUB))) {
    set_err (err, err_len, "zmq_socket");
    goto fail;
  }
  if (zmq_setsockopt (s->sock, ZMQ_LINGER, &zero, sizeof (zero)) != 0
      || zmq_setsockopt (s->sock, ZMQ_RECONNECT_IVL, &ivl, sizeof (ivl)) != 0
      || zmq_setsockopt (s->sock, ZMQ_RECONNECT_IVL_MAX, &ivl_max,
             sizeof (ivl_max))
          != 0
      || (opt->rcvhwm > 0
          && zmq_setsockopt (s->sock, ZMQ_RCVHWM, &opt->rcvhwm,
                 sizeof (opt->rcvhwm))
              != 0)) {
    set_err (err, err_len, "setting socket options");
    goto fail;
  }
  if (ncurve == 3
      && (zmq_setsockopt (s->sock, ZMQ_CURVE_SERVERKEY, server_key, 40) != 0
          || zmq_setsockopt (s->sock, ZMQ_CURVE_PUBLICKEY, public_key, 40) != 0
          || zmq_setsockopt (s->sock, ZMQ_CURVE_SECRETKEY, secret_key, 40)
              != 0)) {
    set_err (err, err_len, "setting CURVE keys");
    goto fail;
  }
  memset (secret_z, 0, sizeof (secret_z));
  n = segmask_topic (SEGMASK_MSG_MASK, s->stream, topic, sizeof (topic));
  if (zmq_setsockopt (s->sock, ZMQ_SUBSCRIBE, topic, n) != 0) {
    set_err (err, err_len, "subscribing");
    goto fail;
  }
  if (opt->status) {
    n = segmask_topic (SEGMASK_MSG_STATUS, s->stream, topic, sizeof (topic));
    if (zmq_setsockopt (s->sock, ZMQ_SUBSCRIBE, topic, n) != 0) {
      set_err (err, err_len, "subscribing");
      goto fail;
    }
  }
  if (zmq_connect (s->sock, opt->endpoint) != 0) {
    if (err && err_len)
      snprintf (err, err_len, "cannot connect to %s: %s", opt->endpoint,
          zmq_strerror (zmq_errno ()));
    goto fail;
  }
  *out = s;
  return SEGMASK_OK;

nomem:
  memset (secret_z, 0, sizeof (secret_z));
  segmask_sub_free (&s);
  if (err && err_len)
    snprintf (err, err_len, "out of memory");
  return SEGMASK_ERR_NOMEM;
fail:
  memset (secret_z, 0, sizeof (secret_z));
  segmask_sub_free (&s);
  return SEGMASK_ERR_ZMQ;
}

segmask_status
segmask_sub_connect (segmask_sub *sub, const char *endpoint, char *err,
    size_t err_len)
{
  if (!sub || !endpoint) {
    if (err && err_len)
      snprintf (err, err_len, "no endpoint given");
    return SEGMASK_ERR_INVALID;
  }
  if (zmq_connect (sub->sock, endpoint) != 0) {
    if (err && err_len)
      snprintf (err, err_len, "cannot connect to %s: %s", endpoint,
          zmq_strerror (zmq_errno ()));
    return SEGMASK_ERR_ZMQ;
  }
  return SEGMASK_OK;
}

static void
msg_destroy (Msg *m)
{
  if (!m)
    return;
  zmq_msg_close (&m->header);
  free (m->data);
  free (m->text);
  free (m);
}

void
segmask_msg_free (segmask_msg **msg)
{
  /* pub is the first member, so the public pointer is the Msg. */
  if (!msg || !*msg)
    return;
  msg_destroy ((Msg *) *msg);
  *msg = NULL;
}

void
segmask_sub_free (segmask_sub **sub)
{
  segmask_sub *s = sub ? *sub : NULL;

  if (!s)
    return;
  msg_destroy (s->held);
  if (s->sock)
    zmq_close (s->sock);
  if (s->ctx) {
    while (zmq_ctx_term (s->ctx) != 0 && zmq_errno () == EINTR)
      ;
  }
  segmask_codec_free (&s->codec);
  free (s->stream);
  free (s);
  *sub = NULL;
}

void
segmask_sub_get_stats (const segmask_sub *sub, segmask_sub_stats *stats)
{
  if (sub && stats)
    *stats = sub->stats;
}

const char *
segmask_sub_last_error (const segmask_sub *sub)
{
  return sub ? sub->last_error : NULL;
}

static int64_t
now_ms (void)
{
  struct timespec ts;

  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Returns 1 if the mask is new, 0 if it is a replay already seen. */
static int
track (segmask_sub *s, const segmask_header *h)
{
  Track *t = NULL;

  for (unsigned i = 0; i < TRACKED_STREAMS; i++)
    if (s->tracks[i].used && strcmp (s->tracks[i].name, h->stream) == 0)
      t = &s->tracks[i];
  if (t && t->session == h->session) {
    if (h->seq <= t->last_seq)
      return 0;
    s->stats.missed += h->seq - t->last_seq - 1;
  } else if (!t) {
    t = &s->tracks[s->next_track++ % TRACKED_STREAMS];
    t->used = 1;
    snprintf (t->name, sizeof (t->name), "%s", h->stream);
  }
  t->session = h->session;
  t->last_seq = h->seq;
  return 1;
}

typedef enum
{
  GOT_NOTHING,
  GOT_MSG,
  GOT_ERROR,
} Got;

static void
reject (segmask_sub *s, const char *why)
{
  s->stats.invalid++;
  s->last_error = why;
}

/* Receives one multipart message that zmq_poll said is there. */
static Got
receive_one (segmask_sub *s, Msg **out)
{
  zmq_msg_t parts[3];
  int nparts = 0, more = 1, extra = 0;
  Msg *m = NULL;
  const char *why = NULL;
  segmask_header h;
  segmask_status st;

  while (more) {
    zmq_msg_t *part = nparts < 3 ? &parts[nparts] : NULL;
    zmq_msg_t spill;

    if (!part)
      part = &spill;
    if (zmq_msg_init (part) != 0)
      goto zmq_error;
    if (zmq_msg_recv (part, s->sock, ZMQ_DONTWAIT) < 0) {
      int e = zmq_errno ();

      zmq_msg_close (part);
      if (nparts == 0 && (e == EAGAIN || e == EINTR))
        return GOT_NOTHING;
      goto zmq_error;
    }
    more = zmq_msg_more (part);
    if (part == &spill) {
      zmq_msg_close (part);
      extra = 1;
    } else {
      nparts++;
    }
  }

  if (nparts != 3 || extra) {
    reject (s, "message does not have three frames");
    goto done;
  }
  st = segmask_message_parse (zmq_msg_data (&parts[0]),
      zmq_msg_size (&parts[0]), zmq_msg_data (&parts[1]),
      zmq_msg_size (&parts[1]), zmq_msg_size (&parts[2]), s->max_raw, &h, &why);
  if (st != SEGMASK_OK) {
    reject (s, why);
    goto done;
  }
  /* Prefix subscriptions also match "mask/<stream>-2"; not an error. */
  if (s->stream && strcmp (h.stream, s->stream) != 0)
    goto done;
  if (h.type == SEGMASK_MSG_MASK && !track (s, &h)) {
    s->stats.duplicates++;
    goto done;
  }

  m = calloc (1, sizeof (*m));
  if (!m)
    goto nomem;
  if (zmq_msg_init (&m->header) != 0) {
    free (m);
    m = NULL;
    goto zmq_error;
  }
  if (h.type == SEGMASK_MSG_MASK) {
    if (!(m->data = malloc (h.raw_len ? h.raw_len : 1)))
      goto nomem;
    st = segmask_payload_decode (s->codec, &h, zmq_msg_data (&parts[2]),
        zmq_msg_size (&parts[2]), m->data, &why);
    if (st != SEGMASK_OK) {
      reject (s, why);
      msg_destroy (m);
      m = NULL;
      goto done;
    }
  } else if (h.type == SEGMASK_MSG_STATUS) {
    size_t n = zmq_msg_size (&parts[2]);

    if (!(m->text = malloc (n + 1)))
      goto nomem;
    if (n)
      memcpy (m->text, zmq_msg_data (&parts[2]), n);
    m->text[n] = 0;
  }
  /* The header's strings point into the frame: keep the frame. */
  if (zmq_msg_move (&m->header, &parts[1]) != 0)
    goto zmq_error;
  if (segmask_header_decode (zmq_msg_data (&m->header),
          zmq_msg_size (&m->header), &m->pub.header, &why)
      != SEGMASK_OK)
    goto zmq_error;
  m->pub.data = m->data;
  m->pub.text = m->text;
  s->stats.received++;
  *out = m;
  for (int i = 0; i < nparts; i++)
    zmq_msg_close (&parts[i]);
  return GOT_MSG;

done:
  for (int i = 0; i < nparts; i++)
    zmq_msg_close (&parts[i]);
  return GOT_NOTHING;
nomem:
  msg_destroy (m);
  for (int i = 0; i < nparts; i++)
    zmq_msg_close (&parts[i]);
  errno = ENOMEM;
  return GOT_ERROR;
zmq_error:
  msg_destroy (m);
  for (int i = 0; i < nparts; i++)
    zmq_msg_close (&parts[i]);
  return GOT_ERROR;
}

segmask_status
segmask_sub_recv (segmask_sub *s, int timeout_ms, segmask_msg **out)
{
  int64_t deadline = timeout_ms < 0 ? -1 : now_ms () + timeout_ms;
  Msg *pending = NULL;

  if (!s || !out)
    return SEGMASK_ERR_INVALID;
  *out = NULL;
  if (s->held) {
    *out = &s->held->pub;
    s->held = NULL;
    return SEGMASK_OK;
  }

  for (;;) {
    zmq_pollitem_t items[2] = {
        {s->sock, 0, ZMQ_POLLIN, 0},
        {NULL, s->wake_fd, ZMQ_POLLIN, 0},
    };
    long wait;
    int rc;
    Msg *m = NULL;
    Got got;

    if (pending)
      wait = 0;
    else if (deadline < 0)
      wait = -1;
    else
      wait = deadline - now_ms () > 0 ? (long) (deadline - now_ms ()) : 0;
    rc = zmq_poll (items, s->wake_fd >= 0 ? 2 : 1, wait);
    if (rc < 0) {
      if (zmq_errno () == EINTR)
        continue;
      msg_destroy (pending);
      return SEGMASK_ERR_ZMQ;
    }
    if (s->wake_fd >= 0 && (items[1].revents & ZMQ_POLLIN)) {
      msg_destroy (pending);
      return SEGMASK_INTERRUPTED;
    }
    if (!(items[0].revents & ZMQ_POLLIN)) {
      if (pending) {
        *out = &pending->pub;
        return SEGMASK_OK;
      }
      if (deadline >= 0 && now_ms () >= deadline)
        return SEGMASK_TIMEOUT;
      continue;
    }
    got = receive_one (s, &m);
    if (got == GOT_ERROR) {
      msg_destroy (pending);
      return SEGMASK_ERR_ZMQ;
    }
    if (got == GOT_NOTHING)
      continue;
    if (!s->latest_only)
      goto deliver;
    if (m->pub.header.type == SEGMASK_MSG_MASK) {
      /* Keep looking: a newer mask may already be queued behind. */
      if (pending)
        s->stats.skipped++;
      msg_destroy (pending);
      pending = m;
      continue;
    }
    if (pending) {
      s->held = m;
      m = pending;
    }
  deliver:
    *out = &m->pub;
    return SEGMASK_OK;
  }
}
