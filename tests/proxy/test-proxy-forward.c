/* test-proxy-forward — the real segd-proxy binary between two fake
 * publishers and one subscriber over ipc:// in a temp dir (no root, no
 * network). Checks what the namespace test cannot see byte by byte:
 * frames arrive exactly as sent; malformed messages are dropped and
 * counted; a stream name from two upstreams is reported; the first
 * subscription and the last unsubscription reach the publishers; the
 * status has segd's framing; SIGTERM exits 0.
 */
#include "../check.h"

#include <glib.h>
#include <glib/gstdio.h>
#include <segmask.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <zmq.h>

/* Most checks here are libzmq calls: say what libzmq said. */
#define EXPECT(cond) CHECK (cond, "zmq: %s", zmq_strerror (zmq_errno ()))

typedef struct
{
  guint8 header[512];
  gsize header_len;
  guint8 payload[64];
  gsize payload_len;
  gchar topic[64];
} Msg;

static void
make_mask (Msg *m, const gchar *stream, guint64 seq)
{
  segmask_header h = {0};
  guint8 raw[16 * 4];
  segmask_codec *codec = segmask_codec_new ();

  memset (raw, 1, sizeof (raw));
  memset (raw, 0, 20);
  EXPECT (segmask_payload_encode (codec, SEGMASK_ENC_RLE, 0, raw, sizeof (raw),
              m->payload, sizeof (m->payload), &m->payload_len)
      == SEGMASK_OK);
  segmask_codec_free (&codec);
  h.type = SEGMASK_MSG_MASK;
  h.kind = SEGMASK_KIND_CLASSES;
  h.encoding = SEGMASK_ENC_RLE;
  h.session = 7;
  h.seq = seq;
  h.num_classes = 2;
  h.labels[0] = "background";
  h.labels[1] = "person";
  h.capture_running_ns = SEGMASK_TIME_NONE;
  h.publish_realtime_ns = 1234567;
  h.width = h.stride = h.frame_width = 16;
  h.height = h.frame_height = 4;
  h.raw_len = sizeof (raw);
  h.payload_len = (guint32) m->payload_len;
  h.stream = stream;
  h.model_name = "m";
  h.model_sha256 = "00";
  EXPECT (
      segmask_header_encode (&h, m->header, sizeof (m->header), &m->header_len)
      == SEGMASK_OK);
  segmask_topic (SEGMASK_MSG_MASK, stream, m->topic, sizeof (m->topic));
}

static void
send_msg (void *sock, const Msg *m)
{
  EXPECT (zmq_send (sock, m->topic, strlen (m->topic), ZMQ_SNDMORE) >= 0);
  EXPECT (zmq_send (sock, m->header, m->header_len, ZMQ_SNDMORE) >= 0);
  EXPECT (zmq_send (sock, m->payload, m->payload_len, 0) >= 0);
}

/* Waits (bounded) for a subscription message starting with `want`. */
static gboolean
wait_subscription (void *xpub, const gchar *want, gsize want_len, int ms)
{
  gint64 end = g_get_monotonic_time () + ms * 1000;

  while (g_get_monotonic_time () < end) {
    zmq_pollitem_t it = {xpub, 0, ZMQ_POLLIN, 0};
    guint8 buf[256];
    int n;

    if (zmq_poll (&it, 1, 100) <= 0)
      continue;
    n = zmq_recv (xpub, buf, sizeof (buf), ZMQ_DONTWAIT);
    if (n >= (int) want_len && memcmp (buf, want, want_len) == 0)
      return TRUE;
  }
  return FALSE;
}

/* Receives one three-frame message into `parts` (bounded). */
static gboolean
recv3 (void *sub, GBytes *parts[3], int ms)
{
  zmq_pollitem_t it = {sub, 0, ZMQ_POLLIN, 0};

  if (zmq_poll (&it, 1, ms) <= 0)
    return FALSE;
  for (int i = 0; i < 3; i++) {
    zmq_msg_t f;

    zmq_msg_init (&f);
    EXPECT (zmq_msg_recv (&f, sub, 0) >= 0);
    parts[i] = g_bytes_new (zmq_msg_data (&f), zmq_msg_size (&f));
    EXPECT ((i < 2) == (zmq_msg_more (&f) != 0));
    zmq_msg_close (&f);
  }
  return TRUE;
}

static gboolean
same (GBytes *b, const void *data, gsize len)
{
  return g_bytes_get_size (b) == len
      && memcmp (g_bytes_get_data (b, NULL), data, len) == 0;
}

int
main (void)
{
  const gchar *proxy = g_getenv ("SEGD_PROXY");
  g_autofree gchar *dir = g_dir_make_tmp ("segd-proxy-fwd-XXXXXX", NULL);
  g_autofree gchar *ep_a = g_strdup_printf ("ipc://%s/a", dir);
  g_autofree gchar *ep_b = g_strdup_printf ("ipc://%s/b", dir);
  g_autofree gchar *ep_d = g_strdup_printf ("ipc://%s/down", dir);
  g_autofree gchar *set_bind = g_strdup_printf ("proxy.bind=%s", ep_d);
  g_autofree gchar *set_a = g_strdup_printf ("upstream a.endpoint=%s", ep_a);
  g_autofree gchar *set_b = g_strdup_printf ("upstream b.endpoint=%s", ep_b);
  g_autofree gchar *none = g_strdup_printf ("%s/none", dir);
  const gchar *argv[] = {proxy, "--config-dir", none, "--set", set_bind,
      "--set", "proxy.allow-plaintext=true", "--set", set_a, "--set", set_b,
      NULL};
  void *ctx = zmq_ctx_new (), *pa, *pb, *sub;
  int zero = 0, status;
  GPid pid;
  Msg m1, m2, m3, dup;
  GBytes *parts[3];
  gboolean got1 = FALSE, got2 = FALSE, got3 = FALSE, got_dup = FALSE;
  gboolean status_ok = FALSE;
  gint64 end;

  EXPECT (proxy && dir && ctx);
  pa = zmq_socket (ctx, ZMQ_XPUB);
  pb = zmq_socket (ctx, ZMQ_XPUB);
  sub = zmq_socket (ctx, ZMQ_SUB);
  EXPECT (pa && pb && sub);
  EXPECT (zmq_setsockopt (pa, ZMQ_LINGER, &zero, sizeof (zero)) == 0);
  EXPECT (zmq_setsockopt (pb, ZMQ_LINGER, &zero, sizeof (zero)) == 0);
  EXPECT (zmq_setsockopt (sub, ZMQ_LINGER, &zero, sizeof (zero)) == 0);
  EXPECT (zmq_bind (pa, ep_a) == 0);
  EXPECT (zmq_bind (pb, ep_b) == 0);
  EXPECT (g_spawn_async (NULL, (gchar **) argv, NULL, G_SPAWN_DO_NOT_REAP_CHILD,
      NULL, NULL, &pid, NULL));

  /* A subscriber's first subscription reaches both publishers. */
  EXPECT (zmq_connect (sub, ep_d) == 0);
  EXPECT (zmq_setsockopt (sub, ZMQ_SUBSCRIBE, "mask/", 5) == 0);
  EXPECT (zmq_setsockopt (sub, ZMQ_SUBSCRIBE, "status/segd-proxy", 17) == 0);
  EXPECT (wait_subscription (pa, "\1mask/", 6, 10000));
  EXPECT (wait_subscription (pb, "\1mask/", 6, 2000));

  make_mask (&m1, "s1", 1);
  make_mask (&m2, "s1", 2);
  make_mask (&m3, "s2", 1);
  make_mask (&dup, "s1", 1);
  send_msg (pa, &m1);
  /* Malformed: bad magic, then two frames only. Dropped, counted. */
  EXPECT (zmq_send (pa, "mask/s1", 7, ZMQ_SNDMORE) >= 0);
  EXPECT (zmq_send (pa, "XXXX", 4, ZMQ_SNDMORE) >= 0);
  EXPECT (zmq_send (pa, "", 0, 0) >= 0);
  EXPECT (zmq_send (pa, m2.topic, strlen (m2.topic), ZMQ_SNDMORE) >= 0);
  EXPECT (zmq_send (pa, m2.header, m2.header_len, 0) >= 0);
  send_msg (pa, &m2);
  send_msg (pb, &m3);
  send_msg (pb, &dup); /* s1 from a second upstream */

  end = g_get_monotonic_time () + 15 * G_USEC_PER_SEC;
  while (g_get_monotonic_time () < end
      && !(got1 && got2 && got3 && got_dup && status_ok)) {
    segmask_header h;

    if (!recv3 (sub, parts, 200))
      continue;
    EXPECT (segmask_message_parse (g_bytes_get_data (parts[0], NULL),
                g_bytes_get_size (parts[0]), g_bytes_get_data (parts[1], NULL),
                g_bytes_get_size (parts[1]), g_bytes_get_size (parts[2]), 0, &h,
                NULL)
        == SEGMASK_OK);
    if (h.type == SEGMASK_MSG_STATUS) {
      g_autofree gchar *text = g_strndup (g_bytes_get_data (parts[2], NULL),
          g_bytes_get_size (parts[2]));

      EXPECT (!strcmp (h.stream, "segd-proxy"));
      if (strstr (text, "\ninvalid=2\n") && strstr (text, "duplicates=s1(a,b)")
          && strstr (text, "upstream.a.state=up\n")
          && strstr (text, "upstream.b.state=up\n")
          && strstr (text, "upstream.a.streams=s1\n")
          && strstr (text, "upstream.b.streams=s2\n") && strstr (text, "fps="))
        status_ok = TRUE;
    } else {
      /* Every frame exactly as the publisher sent it. */
      const Msg *want = h.seq == 2 ? &m2 : !strcmp (h.stream, "s2") ? &m3 : &m1;

      EXPECT (same (parts[0], want->topic, strlen (want->topic)));
      EXPECT (same (parts[1], want->header, want->header_len));
      EXPECT (same (parts[2], want->payload, want->payload_len));
      if (want == &m2)
        got2 = TRUE;
      else if (want == &m3)
        got3 = TRUE;
      else if (got1)
        got_dup = TRUE;
      else
        got1 = TRUE;
    }
    for (int i = 0; i < 3; i++)
      g_bytes_unref (parts[i]);
  }
  EXPECT (got1 && got2 && got3 && got_dup);
  EXPECT (status_ok);

  /* The last subscriber leaving reaches the publishers as unsubscribe:
   * what lets an on-demand camera close. */
  EXPECT (zmq_close (sub) == 0);
  EXPECT (wait_subscription (pa, "\0mask/", 6, 10000));

  EXPECT (kill (pid, SIGTERM) == 0);
  EXPECT (waitpid (pid, &status, 0) == pid);
  EXPECT (WIFEXITED (status) && WEXITSTATUS (status) == 0);
  g_spawn_close_pid (pid);
  EXPECT (zmq_close (pa) == 0 && zmq_close (pb) == 0);
  EXPECT (zmq_ctx_term (ctx) == 0);
  g_remove (dir);
  printf ("all checks passed\n");
  return 0;
}
