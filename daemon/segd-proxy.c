/* segd-proxy — the forwarder. One XSUB socket per upstream publisher, one
 * XPUB socket downstream, one thread that moves messages between them in a
 * zmq_poll loop, and a PAIR control socket the main thread uses to stop it.
 *
 * Why not zmq_proxy_steerable: it reads all upstreams through one
 * frontend socket, so a message no longer says which host sent it, and
 * the status this proxy owes (per upstream: connected, last mask age,
 * masks/s, bytes/s; stream names arriving from two hosts) needs exactly
 * that. Its control socket also cannot publish our own status on the XPUB,
 * which only the thread that owns the XPUB may touch. The loop below is
 * the same forwarding with that accounting: each upstream's messages are
 * read whole (three frames), their header is checked with libsegmask
 * (what a subscriber would reject is dropped and counted here, once) and
 * the frames are passed on unchanged, zero-copy (zmq_msg_send moves the
 * received zmq_msg_t).
 *
 * Subscriptions: the XPUB is not verbose, so it reports a topic's first
 * subscription and its last unsubscription only. Forwarded to every XSUB
 * (which remembers them and re-sends them whenever it reconnects), that is
 * exactly one subscriber per topic as a publisher sees it: a segd
 * on-demand camera opens with the first real subscriber behind the proxy
 * and closes after the last one left. A verbose XPUB would pass every
 * subscribe but, without verbose unsubscribes, leave the XSUB's counts
 * high forever; with both, a client that subscribes twice and unsubscribes
 * once would keep a camera open. The cost: segd's newest-mask replay for a
 * late joiner fires only for the first subscriber of a topic; later ones
 * wait for the next mask (one frame interval).
 *
 * Threads: every socket is created and configured in segd_proxy_new
 * (so errors come back as a GError), then used only by the forwarding
 * thread; g_thread_new and g_thread_join are the memory barriers libzmq
 * asks for when a socket changes threads. The summary for sd_notify is the
 * only shared state, under a mutex.
 */
#include "segd-proxy.h"

#include <gio/gio.h>
#include <segmask.h>
#include <string.h>
#include <zmq.h>

#define CONTROL_ENDPOINT "inproc://segd-proxy-control"
#define ZAP_ENDPOINT "inproc://zeromq.zap.01"
#define STATUS_INTERVAL_US G_USEC_PER_SEC
/* Messages read from one socket before looking at the others: keeps one
 * flooding upstream from starving the rest and the status timer. */
#define BATCH 256
/* A stream name counts as duplicated while a second upstream sent it
 * within this time of the first. */
#define DUPLICATE_WINDOW_US (3 * G_USEC_PER_SEC)
/* Largest frame accepted from an upstream: the protocol's default mask
 * bound plus room for a header (protects the proxy's memory from a
 * compromised publisher). */
#define MAX_FRAME ((int64_t) SEGMASK_DEFAULT_MAX_RAW + (1 << 20))
/* Stream names tracked for gaps and duplicates. Names come from peers:
 * past this many, new names are still forwarded but not tracked, so a
 * publisher inventing names cannot grow the proxy without bound. */
#define MAX_STREAMS 65536

typedef struct
{
  const SegdProxyUpstream *conf;
  void *sock, *monitor;
  const gchar *state; /* connecting, up, down, auth-failed, ... */
  gint64 state_since;
  gint64 last_mask; /* monotonic us; 0: none yet */
  guint64 masks, bytes, invalid, missed, handshakes;
  guint64 masks_mark, bytes_mark;
  gdouble masks_per_s, bytes_per_s;
} Upstream;

typedef struct
{
  guint owner; /* index of the upstream it comes from */
  guint32 session;
  guint64 seq;
  gint64 last_seen;
  gint other; /* a second upstream sending it, or -1 */
  gint64 other_seen;
} Stream;

struct _SegdProxy
{
  const SegdProxyConfig *config;
  void *ctx, *xpub, *zap, *control_main, *control_thread;
  Upstream *up;
  guint n_up;
  GHashTable *streams; /* name -> Stream */
  GThread *thread;

  /* Forwarding thread only. */
  guint32 session;
  guint64 forwarded, forwarded_mark, bytes_out, dropped, rejected;
  guint subscriptions;
  gint64 status_time;
  gdouble masks_per_s;
  guint8 hbuf[1024];
  GString *text;

  GMutex lock;
  SegdProxySummary summary;
};

/* ---- setup ---- */

static gboolean
zmq_fail (GError **error, const gchar *what, const gchar *where)
{
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "%s%s%s: %s", what,
      where ? " " : "", where ? where : "", zmq_strerror (zmq_errno ()));
  return FALSE;
}

static gboolean
set_int (void *sock, int option, int value)
{
  return zmq_setsockopt (sock, option, &value, sizeof (value)) == 0;
}

/* Heartbeats notice a cut link in seconds (TCP alone takes minutes); the
 * TTL asks the peer to drop us as fast, so a publisher stops queueing for
 * a connection that is gone. */
static gboolean
set_heartbeats (void *sock, gdouble seconds)
{
  int ivl = (int) (seconds * 1000);

  return set_int (sock, ZMQ_HEARTBEAT_IVL, ivl)
      && set_int (sock, ZMQ_HEARTBEAT_TIMEOUT, 3 * ivl)
      && set_int (sock, ZMQ_HEARTBEAT_TTL, MIN (3 * ivl, 6553500));
}

static gboolean
setup_downstream (SegdProxy *p, GError **error)
{
  const SegdProxyConfig *c = p->config;

  if (c->allowed) {
    /* The ZAP handler must exist before the first client handshakes. */
    if (!(p->zap = zmq_socket (p->ctx, ZMQ_REP))
        || !set_int (p->zap, ZMQ_LINGER, 0)
        || zmq_bind (p->zap, ZAP_ENDPOINT) != 0)
      return zmq_fail (error, "cannot set up the ZAP handler", NULL);
  }
  if (!(p->xpub = zmq_socket (p->ctx, ZMQ_XPUB))
      || !set_int (p->xpub, ZMQ_LINGER, 0)
      || !set_int (p->xpub, ZMQ_SNDHWM, c->sndhwm)
      || !set_heartbeats (p->xpub, c->heartbeat))
    return zmq_fail (error, "cannot set up the downstream socket", NULL);
  if (c->server_secret[0]
      && (!set_int (p->xpub, ZMQ_CURVE_SERVER, 1)
          || zmq_setsockopt (p->xpub, ZMQ_CURVE_SECRETKEY, c->server_secret, 40)
              != 0
          || zmq_setsockopt (p->xpub, ZMQ_ZAP_DOMAIN, "segd-proxy", 10) != 0))
    return zmq_fail (error, "cannot set the downstream CURVE key", NULL);
  if (zmq_bind (p->xpub, c->bind) != 0)
    return zmq_fail (error, "cannot bind", c->bind);
  return TRUE;
}

static gboolean
setup_upstream (SegdProxy *p, guint i, GError **error)
{
  const SegdProxyConfig *c = p->config;
  Upstream *u = &p->up[i];
  g_autofree gchar *mon = g_strdup_printf ("inproc://segd-proxy-monitor-%u", i);
  int64_t max = MAX_FRAME;

  u->conf = g_ptr_array_index (c->upstreams, i);
  u->state = "connecting";
  u->state_since = g_get_monotonic_time ();
  if (!(u->sock = zmq_socket (p->ctx, ZMQ_XSUB))
      || !set_int (u->sock, ZMQ_LINGER, 0)
      || !set_int (u->sock, ZMQ_RCVHWM, c->rcvhwm)
      || zmq_setsockopt (u->sock, ZMQ_MAXMSGSIZE, &max, sizeof (max)) != 0
      || !set_int (u->sock, ZMQ_RECONNECT_IVL, 250)
      || !set_int (u->sock, ZMQ_RECONNECT_IVL_MAX, 2000)
      /* A SYN into a cut link is retried by the kernel for minutes;
       * start over instead, so a host that comes back is seen at once. */
      || !set_int (u->sock, ZMQ_CONNECT_TIMEOUT, 2000)
      || !set_heartbeats (u->sock, c->heartbeat))
    return zmq_fail (error, "cannot set up upstream", u->conf->name);
  if (u->conf->server_key[0]
      && (zmq_setsockopt (u->sock, ZMQ_CURVE_SERVERKEY, u->conf->server_key, 40)
              != 0
          || zmq_setsockopt (u->sock, ZMQ_CURVE_PUBLICKEY, c->client_public, 40)
              != 0
          || zmq_setsockopt (u->sock, ZMQ_CURVE_SECRETKEY, c->client_secret, 40)
              != 0))
    return zmq_fail (error, "cannot set the CURVE keys of upstream",
        u->conf->name);
  if (zmq_socket_monitor (u->sock, mon,
          ZMQ_EVENT_CONNECTED | ZMQ_EVENT_CONNECT_RETRIED
              | ZMQ_EVENT_DISCONNECTED | ZMQ_EVENT_HANDSHAKE_SUCCEEDED
              | ZMQ_EVENT_HANDSHAKE_FAILED_AUTH
              | ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL
              | ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL)
          != 0
      || !(u->monitor = zmq_socket (p->ctx, ZMQ_PAIR))
      || !set_int (u->monitor, ZMQ_LINGER, 0)
      || zmq_connect (u->monitor, mon) != 0)
    return zmq_fail (error, "cannot monitor upstream", u->conf->name);
  if (zmq_connect (u->sock, u->conf->endpoint) != 0)
    return zmq_fail (error, "cannot connect to", u->conf->endpoint);
  return TRUE;
}

/* ---- forwarding thread ---- */

static void
set_state (Upstream *u, const gchar *state)
{
  if (!strcmp (u->state, state))
    return;
  /* Down and back are the events an operator looks for in the journal. */
  if (!strcmp (state, "up") || !strcmp (u->state, "up"))
    g_message ("upstream %s (%s): %s", u->conf->name, u->conf->endpoint, state);
  else
    g_info ("upstream %s (%s): %s", u->conf->name, u->conf->endpoint, state);
  u->state = state;
  u->state_since = g_get_monotonic_time ();
}

static void
read_monitor (Upstream *u)
{
  for (int n = 0; n < BATCH; n++) {
    guint8 ev[6];
    guint16 event = 0;
    int len, more = 0;
    size_t more_len = sizeof (more);

    /* Event frame: u16 event, u32 value; then the endpoint frame, which
     * we do not need (each monitor watches one upstream). */
    len = zmq_recv (u->monitor, ev, sizeof (ev), ZMQ_DONTWAIT);
    if (len < 0)
      return;
    if (len >= 2)
      memcpy (&event, ev, 2);
    while (zmq_getsockopt (u->monitor, ZMQ_RCVMORE, &more, &more_len) == 0
        && more) {
      guint8 skip[1];

      if (zmq_recv (u->monitor, skip, sizeof (skip), ZMQ_DONTWAIT) < 0)
        break;
    }
    switch (event) {
      case ZMQ_EVENT_HANDSHAKE_SUCCEEDED:
        u->handshakes++;
        set_state (u, "up");
        break;
      case ZMQ_EVENT_DISCONNECTED:
        set_state (u, "down");
        break;
      case ZMQ_EVENT_HANDSHAKE_FAILED_AUTH:
        set_state (u, "auth-failed");
        break;
      case ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL:
      case ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL:
        set_state (u, "handshake-failed");
        break;
      default:
        break; /* connected, retried: a handshake follows */
    }
  }
}

static void
close_parts (zmq_msg_t *parts, int n)
{
  for (int i = 0; i < n; i++)
    if (zmq_msg_close (&parts[i]) != 0)
      g_warning ("zmq_msg_close: %s", zmq_strerror (zmq_errno ()));
}

/* Receives one whole message from `sock`, keeping its first `cap` frames
 * in `parts`; later frames are read and discarded so the next message
 * starts clean. Returns the frame count (0: nothing queued), so a caller
 * sees a message with too many frames. */
static int
recv_frames (void *sock, zmq_msg_t *parts, int cap)
{
  int n = 0, more = 1;

  while (more) {
    zmq_msg_t extra, *m = n < cap ? &parts[n] : &extra;

    if (zmq_msg_init (m) != 0) {
      close_parts (parts, MIN (n, cap));
      return 0;
    }
    if (zmq_msg_recv (m, sock, n == 0 ? ZMQ_DONTWAIT : 0) < 0) {
      close_parts (m, 1);
      close_parts (parts, MIN (n, cap));
      return 0;
    }
    more = zmq_msg_more (m);
    if (m == &extra)
      close_parts (&extra, 1);
    n++;
  }
  return n;
}

/* Per-stream bookkeeping: sequence gaps and names sent by two hosts. */
static void
account_stream (SegdProxy *p, guint idx, const segmask_header *h, gint64 now)
{
  Stream *s = g_hash_table_lookup (p->streams, h->stream);

  if (!s) {
    if (g_hash_table_size (p->streams) >= MAX_STREAMS)
      return;
    /* One allocation per new stream name, never per mask. */
    s = g_new0 (Stream, 1);
    s->owner = idx;
    s->other = -1;
    s->session = h->session;
    s->seq = h->type == SEGMASK_MSG_MASK ? h->seq : 0;
    s->last_seen = now;
    g_hash_table_insert (p->streams, g_strdup (h->stream), s);
    return;
  }
  if (s->owner != idx) {
    if (now - s->last_seen > DUPLICATE_WINDOW_US) {
      /* The old host went quiet: the stream moved, it is not a clash. */
      s->owner = idx;
      s->session = h->session;
      s->seq = 0;
    } else {
      if (s->other != (gint) idx)
        g_warning ("stream \"%s\" arrives from upstream %s and from %s: "
                   "stream names must be unique across hosts",
            h->stream, p->up[s->owner].conf->name, p->up[idx].conf->name);
      s->other = idx;
      s->other_seen = now;
      return;
    }
  }
  s->last_seen = now;
  if (s->other >= 0 && now - s->other_seen > DUPLICATE_WINDOW_US)
    s->other = -1;
  if (h->type != SEGMASK_MSG_MASK)
    return;
  if (h->session != s->session) {
    s->session = h->session; /* a restarted publisher starts at 1 */
  } else if (s->seq && h->seq > s->seq + 1) {
    p->up[idx].missed += h->seq - s->seq - 1;
  }
  if (h->seq > s->seq || h->session != s->session)
    s->seq = h->seq;
}

static void
forward_upstream (SegdProxy *p, guint idx)
{
  Upstream *u = &p->up[idx];

  for (int n = 0; n < BATCH; n++) {
    zmq_msg_t parts[3];
    int nparts = recv_frames (u->sock, parts, 3);
    segmask_header h;
    const char *why = NULL;
    gsize size;
    gint64 now;

    if (nparts == 0)
      return;
    if (nparts != 3
        || segmask_message_parse (zmq_msg_data (&parts[0]),
               zmq_msg_size (&parts[0]), zmq_msg_data (&parts[1]),
               zmq_msg_size (&parts[1]), zmq_msg_size (&parts[2]), 0, &h, &why)
            != SEGMASK_OK) {
      if (u->invalid++ == 0)
        g_warning ("upstream %s sent an invalid message (%s); dropping "
                   "such messages",
            u->conf->name, why ? why : "not three frames");
      close_parts (parts, MIN (nparts, 3));
      continue;
    }
    now = g_get_monotonic_time ();
    size = zmq_msg_size (&parts[0]) + zmq_msg_size (&parts[1])
        + zmq_msg_size (&parts[2]);
    account_stream (p, idx, &h, now);
    if (h.type == SEGMASK_MSG_MASK) {
      u->masks++;
      u->last_mask = now;
    }
    u->bytes += size;
    /* Untouched: the same frames go on, in order. */
    for (int i = 0; i < 3; i++) {
      if (zmq_msg_send (&parts[i], p->xpub,
              ZMQ_DONTWAIT | (i < 2 ? ZMQ_SNDMORE : 0))
          < 0) {
        /* After a failed send we still own this part and the rest. */
        close_parts (parts + i, 3 - i);
        p->dropped++;
        size = 0;
        break;
      }
    }
    if (size && h.type == SEGMASK_MSG_MASK)
      p->forwarded++;
    p->bytes_out += size;
  }
}

static gboolean
selects (const guint8 *prefix, gsize len, const gchar *topic)
{
  return len <= strlen (topic) && memcmp (prefix, topic, len) == 0;
}

static void publish_status (SegdProxy *p);

/* Subscriptions from downstream go to every upstream. */
static void
forward_subscriptions (SegdProxy *p)
{
  gchar status_topic[16 + SEGMASK_MAX_STRING];
  gboolean status_now = FALSE;

  segmask_topic (SEGMASK_MSG_STATUS, p->config->name, status_topic,
      sizeof (status_topic));
  for (int n = 0; n < BATCH; n++) {
    guint8 buf[16 + 2 * SEGMASK_MAX_STRING];
    int len = zmq_recv (p->xpub, buf, sizeof (buf), ZMQ_DONTWAIT);

    if (len < 0)
      break;
    /* Longer than any topic we publish: truncated, and a prefix that long
     * could not match anything the proxy forwards. */
    if (len < 1 || (gsize) len > sizeof (buf) || buf[0] > 1)
      continue;
    if (buf[0] == 1) {
      p->subscriptions++;
      status_now |= selects (buf + 1, len - 1, status_topic);
    } else if (p->subscriptions) {
      p->subscriptions--;
    }
    g_debug ("%s \"%.*s\"", buf[0] ? "subscribe" : "unsubscribe", len - 1,
        buf + 1);
    for (guint i = 0; i < p->n_up; i++)
      if (zmq_send (p->up[i].sock, buf, len, ZMQ_DONTWAIT) < 0)
        g_warning ("cannot pass a subscription to upstream %s: %s",
            p->up[i].conf->name, zmq_strerror (zmq_errno ()));
  }
  /* As segd does: a new status subscriber need not wait a second. */
  if (status_now)
    publish_status (p);
}

/* RFC 27: admit CURVE clients whose public key is in the allow-list.
 * Request: version, request id, domain, address, routing id, mechanism,
 * credentials (the 32-byte client key for CURVE). */
static void
handle_zap (SegdProxy *p)
{
  zmq_msg_t req[8];
  int n = recv_frames (p->zap, req, 8);
  gboolean allow = FALSE;
  const gchar *code, *text;

  if (n == 0)
    return;
  if (n >= 7 && zmq_msg_size (&req[5]) == 5
      && memcmp (zmq_msg_data (&req[5]), "CURVE", 5) == 0
      && zmq_msg_size (&req[6]) == 32) {
    for (guint i = 0; i < p->config->allowed->len && !allow; i++)
      allow = memcmp (g_ptr_array_index (p->config->allowed, i),
                  zmq_msg_data (&req[6]), 32)
          == 0;
  }
  code = allow ? "200" : "400";
  text = allow ? "OK" : "client key not allowed";
  if (!allow && p->rejected++ % 100 == 0)
    g_message ("rejected a subscriber whose CURVE key is not allowed "
               "(%" G_GUINT64_FORMAT " so far)",
        p->rejected);
  /* Reply: version, request id, status code, text, user id, metadata. */
  if (zmq_send (p->zap, "1.0", 3, ZMQ_SNDMORE) < 0
      || zmq_send (p->zap, n >= 2 ? zmq_msg_data (&req[1]) : "",
             n >= 2 ? zmq_msg_size (&req[1]) : 0, ZMQ_SNDMORE)
          < 0
      || zmq_send (p->zap, code, 3, ZMQ_SNDMORE) < 0
      || zmq_send (p->zap, text, strlen (text), ZMQ_SNDMORE) < 0
      || zmq_send (p->zap, "", 0, ZMQ_SNDMORE) < 0
      || zmq_send (p->zap, "", 0, 0) < 0)
    g_warning ("ZAP reply failed: %s", zmq_strerror (zmq_errno ()));
  close_parts (req, MIN (n, 8));
}

static void
publish_status (SegdProxy *p)
{
  gint64 now = g_get_monotonic_time ();
  gdouble secs = (now - p->status_time) / (gdouble) G_USEC_PER_SEC;
  GString *t = p->text;
  GHashTableIter it;
  gpointer key, value;
  guint up = 0;
  guint64 missed = 0, invalid = 0;
  segmask_header h;
  gchar topic[16 + SEGMASK_MAX_STRING];
  gsize hlen, tlen;
  GString *dups = g_string_new (NULL);

  if (secs < 0.5) {
    /* An early status (new subscriber) does not reset the rate window. */
    secs = 0;
  }
  for (guint i = 0; i < p->n_up; i++) {
    Upstream *u = &p->up[i];

    if (secs > 0) {
      u->masks_per_s = (u->masks - u->masks_mark) / secs;
      u->bytes_per_s = (u->bytes - u->bytes_mark) / secs;
      u->masks_mark = u->masks;
      u->bytes_mark = u->bytes;
    }
    up += !strcmp (u->state, "up");
    missed += u->missed;
    invalid += u->invalid;
  }
  if (secs > 0) {
    p->masks_per_s = (p->forwarded - p->forwarded_mark) / secs;
    p->forwarded_mark = p->forwarded;
    p->status_time = now;
  }
  g_hash_table_iter_init (&it, p->streams);
  while (g_hash_table_iter_next (&it, &key, &value)) {
    Stream *s = value;

    if (s->other >= 0 && now - s->other_seen <= DUPLICATE_WINDOW_US)
      g_string_append_printf (dups, "%s%s(%s,%s)", dups->len ? " " : "",
          (const gchar *) key, p->up[s->owner].conf->name,
          p->up[s->other].conf->name);
  }

  /* segd's keys first (fps, drops, subscribers, published, seq), so tools
   * that show a segd status show a proxy's too; then the proxy's own. */
  g_string_printf (t,
      "fps=%.2f\ndrops=%" G_GUINT64_FORMAT "\nsubscribers=%u"
      "\npublished=%" G_GUINT64_FORMAT "\nseq=%" G_GUINT64_FORMAT
      "\nrole=proxy\nupstreams=%u\nupstreams_up=%u\nmissed=%" G_GUINT64_FORMAT
      "\ninvalid=%" G_GUINT64_FORMAT "\nrejected=%" G_GUINT64_FORMAT
      "\nbytes_out=%" G_GUINT64_FORMAT "\nduplicates=%s\n",
      p->masks_per_s, p->dropped, p->subscriptions, p->forwarded, p->forwarded,
      p->n_up, up, missed, invalid, p->rejected, p->bytes_out, dups->str);
  for (guint i = 0; i < p->n_up; i++) {
    Upstream *u = &p->up[i];
    GString *names = g_string_new (NULL);

    g_hash_table_iter_init (&it, p->streams);
    while (g_hash_table_iter_next (&it, &key, &value))
      if (((Stream *) value)->owner == i)
        g_string_append_printf (names, "%s%s", names->len ? " " : "",
            (const gchar *) key);
    /* One key per fact: a reader splits on the first '=' and needs no
     * second format for a list of upstreams. */
    g_string_append_printf (t,
        "upstream.%s.endpoint=%s\n"
        "upstream.%s.state=%s\nupstream.%s.state_s=%.1f\n"
        "upstream.%s.last_mask_age_ms=%.1f\nupstream.%s.masks_per_s=%.2f\n"
        "upstream.%s.bytes_per_s=%.0f\nupstream.%s.missed=%" G_GUINT64_FORMAT
        "\nupstream.%s.invalid=%" G_GUINT64_FORMAT
        "\nupstream.%s.connects=%" G_GUINT64_FORMAT
        "\nupstream.%s.streams=%s\n",
        u->conf->name, u->conf->endpoint, u->conf->name, u->state,
        u->conf->name, (now - u->state_since) / 1e6, u->conf->name,
        u->last_mask ? (now - u->last_mask) / 1e3 : -1.0, u->conf->name,
        u->masks_per_s, u->conf->name, u->bytes_per_s, u->conf->name, u->missed,
        u->conf->name, u->invalid, u->conf->name, u->handshakes, u->conf->name,
        names->str);
    g_string_free (names, TRUE);
  }
  g_string_free (dups, TRUE);

  g_mutex_lock (&p->lock);
  p->summary.forwarded = p->forwarded;
  p->summary.masks_per_s = p->masks_per_s;
  p->summary.upstreams = p->n_up;
  p->summary.upstreams_up = up;
  p->summary.subscriptions = p->subscriptions;
  g_mutex_unlock (&p->lock);

  memset (&h, 0, sizeof (h));
  h.version_major = SEGMASK_VERSION_MAJOR;
  h.version_minor = SEGMASK_VERSION_MINOR;
  h.type = SEGMASK_MSG_STATUS;
  h.session = p->session;
  h.seq = p->forwarded;
  h.capture_running_ns = SEGMASK_TIME_NONE;
  h.publish_realtime_ns = (guint64) g_get_real_time () * 1000;
  h.drops = p->dropped;
  h.stream = p->config->name;
  h.payload_len = (guint32) t->len;
  tlen = segmask_topic (SEGMASK_MSG_STATUS, p->config->name, topic,
      sizeof (topic));
  if (segmask_header_encode (&h, p->hbuf, sizeof (p->hbuf), &hlen)
      != SEGMASK_OK)
    return;
  if (zmq_send (p->xpub, topic, tlen, ZMQ_DONTWAIT | ZMQ_SNDMORE) < 0
      || zmq_send (p->xpub, p->hbuf, hlen, ZMQ_DONTWAIT | ZMQ_SNDMORE) < 0
      || zmq_send (p->xpub, t->str, t->len, ZMQ_DONTWAIT) < 0)
    g_debug ("cannot send the status: %s", zmq_strerror (zmq_errno ()));
}

static gpointer
forward_thread (gpointer data)
{
  SegdProxy *p = data;
  guint n_items = 2 + (p->zap ? 1 : 0) + 2 * p->n_up;
  zmq_pollitem_t *items = g_new0 (zmq_pollitem_t, n_items);
  gint64 next_status = g_get_monotonic_time () + STATUS_INTERVAL_US;
  guint zap_at = 2, up_at = 2 + (p->zap ? 1 : 0);

  items[0].socket = p->control_thread;
  items[1].socket = p->xpub;
  if (p->zap)
    items[zap_at].socket = p->zap;
  for (guint i = 0; i < p->n_up; i++) {
    items[up_at + 2 * i].socket = p->up[i].sock;
    items[up_at + 2 * i + 1].socket = p->up[i].monitor;
  }
  for (guint i = 0; i < n_items; i++)
    items[i].events = ZMQ_POLLIN;
  p->status_time = g_get_monotonic_time ();

  for (;;) {
    gint64 now = g_get_monotonic_time ();
    long timeout = next_status > now ? (long) ((next_status - now) / 1000) : 0;
    int rc = zmq_poll (items, (int) n_items, timeout);

    if (rc < 0 && zmq_errno () != EINTR) {
      g_critical ("zmq_poll failed: %s", zmq_strerror (zmq_errno ()));
      g_mutex_lock (&p->lock);
      p->summary.failed = TRUE;
      g_mutex_unlock (&p->lock);
      break;
    }
    if (rc > 0 && (items[0].revents & ZMQ_POLLIN))
      break; /* the only command is: stop */
    if (rc > 0) {
      if (items[1].revents & ZMQ_POLLIN)
        forward_subscriptions (p);
      if (p->zap && (items[zap_at].revents & ZMQ_POLLIN))
        handle_zap (p);
      for (guint i = 0; i < p->n_up; i++) {
        if (items[up_at + 2 * i + 1].revents & ZMQ_POLLIN)
          read_monitor (&p->up[i]);
        if (items[up_at + 2 * i].revents & ZMQ_POLLIN)
          forward_upstream (p, i);
      }
    }
    now = g_get_monotonic_time ();
    if (now >= next_status) {
      publish_status (p);
      next_status += STATUS_INTERVAL_US;
      if (next_status <= now) /* fell behind: do not burst */
        next_status = now + STATUS_INTERVAL_US;
    }
    g_mutex_lock (&p->lock);
    p->summary.loop_ticks++;
    g_mutex_unlock (&p->lock);
  }
  g_free (items);
  return NULL;
}

/* ---- public ---- */

SegdProxy *
segd_proxy_new (const SegdProxyConfig *config, GError **error)
{
  SegdProxy *p = g_new0 (SegdProxy, 1);

  p->config = config;
  g_mutex_init (&p->lock);
  p->session = g_random_int ();
  p->text = g_string_sized_new (4096);
  p->streams = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  p->n_up = config->upstreams->len;
  p->up = g_new0 (Upstream, p->n_up);
  p->summary.upstreams = p->n_up;

  if (!(p->ctx = zmq_ctx_new ())) {
    zmq_fail (error, "cannot create the ZeroMQ context", NULL);
    goto failed;
  }
  if (!(p->control_thread = zmq_socket (p->ctx, ZMQ_PAIR))
      || !set_int (p->control_thread, ZMQ_LINGER, 0)
      || zmq_bind (p->control_thread, CONTROL_ENDPOINT) != 0
      || !(p->control_main = zmq_socket (p->ctx, ZMQ_PAIR))
      || !set_int (p->control_main, ZMQ_LINGER, 0)
      || zmq_connect (p->control_main, CONTROL_ENDPOINT) != 0) {
    zmq_fail (error, "cannot set up the control socket", NULL);
    goto failed;
  }
  if (!setup_downstream (p, error))
    goto failed;
  for (guint i = 0; i < p->n_up; i++)
    if (!setup_upstream (p, i, error))
      goto failed;
  p->thread = g_thread_new ("segd-proxy", forward_thread, p);
  return p;

failed:
  segd_proxy_free (&p);
  return NULL;
}

void
segd_proxy_get_summary (SegdProxy *p, SegdProxySummary *out)
{
  g_mutex_lock (&p->lock);
  *out = p->summary;
  g_mutex_unlock (&p->lock);
}

static void
close_socket (void **sock)
{
  if (*sock && zmq_close (*sock) != 0)
    g_warning ("zmq_close: %s", zmq_strerror (zmq_errno ()));
  *sock = NULL;
}

void
segd_proxy_free (SegdProxy **proxy)
{
  SegdProxy *p = proxy ? *proxy : NULL;

  if (!p)
    return;
  if (p->thread) {
    if (zmq_send (p->control_main, "TERMINATE", 9, 0) < 0)
      g_warning ("cannot stop the forwarder: %s", zmq_strerror (zmq_errno ()));
    g_thread_join (p->thread);
  }
  for (guint i = 0; i < p->n_up; i++) {
    close_socket (&p->up[i].monitor);
    close_socket (&p->up[i].sock);
  }
  close_socket (&p->xpub);
  close_socket (&p->zap);
  close_socket (&p->control_main);
  close_socket (&p->control_thread);
  if (p->ctx && zmq_ctx_term (p->ctx) != 0)
    g_warning ("zmq_ctx_term: %s", zmq_strerror (zmq_errno ()));
  g_free (p->up);
  g_hash_table_unref (p->streams);
  g_string_free (p->text, TRUE);
  g_mutex_clear (&p->lock);
  g_free (p);
  *proxy = NULL;
}
