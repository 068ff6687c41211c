/* The Trust issue's findings, each with its attack input: bad CURVE keys
 * must stop the sink (never fall back to plain text), czmq certificates
 * and certificate directories work, an empty allow-list admits nobody,
 * spoofed unsubscribes from a raw ZMTP peer change nothing but its own
 * state, a subscribe flood cannot make the replay drop real masks, a
 * failed ZAP reply does not wedge the handler, a second publisher cannot
 * take over an ipc:// endpoint and a symlink there is not followed.
 * Loopback TCP and ipc:// in a temp dir only. */
#include "../check.h"

#include <arpa/inet.h>
#include <errno.h>
#include <glib/gstdio.h>
#include <gst/app/gstappsink.h>
#include <gst/check/gstharness.h>
#include <gst/gst.h>
#include <netinet/in.h>
#include <pub-internal.h>
#include <segmask.h>
#include <segmeta.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zmq.h>

#define DEADLINE_US (10 * G_USEC_PER_SEC)

static const gchar *const labels[] = { "background", "person", "cat" };
static gchar *tmpdir;

static GstSegMask *
make_mask (guint w, guint h, guint seed)
{
  GstSegMask *m = gst_seg_mask_new (w, h, TRUE, FALSE, 3, labels,
      "test-model.onnx", "0123");
  guint stride = gst_seg_mask_get_stride (m);
  guint8 *c = gst_seg_mask_get_classes (m);

  for (guint y = 0; y < h; y++)
    for (guint x = 0; x < w; x++)
      c[y * stride + x] = (guint8) (((x + seed) / 11 + y / 7) % 3);
  return m;
}

static GstBuffer *
make_buffer (GstSegMask *mask, guint i)
{
  GstBuffer *buf = gst_buffer_new_allocate (NULL, 16, NULL);

  GST_BUFFER_PTS (buf) = i * 40 * GST_MSECOND;
  gst_buffer_add_seg_meta (buf, mask, GST_BUFFER_PTS (buf), 5 * GST_MSECOND,
      0, 0);
  return buf;
}

/* Starts a zmqmasksink with `props` ("k=v k=v"); NULL if start failed,
 * with the error message in `*error` (if given). */
static GstHarness *
try_sink (const gchar *endpoint, const gchar *props, gchar **error)
{
  GstElement *sink = gst_element_factory_make ("zmqmasksink", NULL);
  GstBus *bus = gst_bus_new ();
  GstHarness *h;
  GstMessage *msg;

  g_object_set (sink, "endpoint", endpoint, "stream-name", "cam0", "async",
      FALSE, NULL);
  if (props) {
    gchar **kv = g_strsplit (props, " ", -1);

    for (gchar **p = kv; *p; p++) {
      gchar **pair = g_strsplit (*p, "=", 2);

      gst_util_set_object_arg (G_OBJECT (sink), pair[0], pair[1]);
      g_strfreev (pair);
    }
    g_strfreev (kv);
  }
  gst_element_set_bus (sink, bus);
  if (gst_element_set_state (sink, GST_STATE_PAUSED)
      == GST_STATE_CHANGE_FAILURE) {
    msg = gst_bus_pop_filtered (bus, GST_MESSAGE_ERROR);
    if (error && msg) {
      GError *err = NULL;

      gst_message_parse_error (msg, &err, NULL);
      *error = g_strdup (err->message);
      g_error_free (err);
    }
    if (msg)
      gst_message_unref (msg);
    gst_element_set_state (sink, GST_STATE_NULL);
    gst_object_unref (sink);
    gst_object_unref (bus);
    return NULL;
  }
  gst_element_set_state (sink, GST_STATE_NULL);
  gst_object_unref (bus);
  h = gst_harness_new_with_element (sink, "sink", NULL);
  gst_object_unref (sink);
  gst_harness_set_src_caps_str (h,
      "video/x-raw,format=RGB,width=320,height=240,framerate=25/1");
  gst_harness_play (h);
  return h;
}

static gchar *
bound (GstHarness *h)
{
  gchar *ep = NULL;

  g_object_get (h->element, "bound-endpoint", &ep, NULL);
  CHECK (ep, "no bound endpoint");
  return ep;
}

static gint
subscribers (GstHarness *h)
{
  gint n = -1;

  g_object_get (h->element, "subscribers", &n, NULL);
  return n;
}

static void
wait_subscribers (GstHarness *h, gint n)
{
  gint64 end = g_get_monotonic_time () + DEADLINE_US;

  while (g_get_monotonic_time () < end && subscribers (h) != n)
    g_usleep (2000);
  CHECK (subscribers (h) == n, "subscribers %d, want %d", subscribers (h), n);
}

static guint64
stat_u64 (GstHarness *h, const gchar *field)
{
  GstStructure *s = NULL;
  guint64 v = 0;

  g_object_get (h->element, "stats", &s, NULL);
  CHECK (s && gst_structure_get_uint64 (s, field, &v), "stats.%s", field);
  gst_structure_free (s);
  return v;
}

static segmask_sub *
sub_with (const gchar *ep, const char *srv, const char *pub, const char *sec,
    int rcvhwm)
{
  segmask_sub_options o;
  segmask_sub *s = NULL;
  char err[256];

  segmask_sub_options_init (&o);
  o.endpoint = ep;
  o.stream = "cam0";
  o.rcvhwm = rcvhwm;
  o.curve_server_key = srv;
  o.curve_public_key = pub;
  o.curve_secret_key = sec;
  CHECK (segmask_sub_new (&o, &s, err, sizeof (err)) == SEGMASK_OK, "%s", err);
  return s;
}

/* Pushes `n` masks and counts how many `s` receives within the deadline. */
static guint
push_and_count (GstHarness *h, segmask_sub *s, guint first, guint n,
    int timeout_ms)
{
  guint got = 0;

  for (guint i = first; i < first + n; i++) {
    GstSegMask *m = make_mask (40, 30, i);

    CHECK (gst_harness_push (h, make_buffer (m, i)) == GST_FLOW_OK, "push");
    gst_seg_mask_unref (m);
  }
  for (;;) {
    segmask_msg *m = NULL;

    if (segmask_sub_recv (s, timeout_ms, &m) != SEGMASK_OK)
      break;
    if (m->header.type == SEGMASK_MSG_MASK)
      got++;
    segmask_msg_free (&m);
  }
  return got;
}

static gchar *
write_tmp (const gchar *name, const gchar *text)
{
  gchar *path = g_build_filename (tmpdir, name, NULL);

  CHECK (g_file_set_contents (path, text, -1, NULL), "write %s", path);
  return path;
}

static gchar *
cert_text (const char *pub, const char *sec)
{
  /* czmq's layout: comment banner, metadata, curve section. */
  return g_strdup_printf ("#   ****  Generated by a test  ****\n"
      "#   ZeroMQ CURVE %s Certificate\n\nmetadata\n    name = \"t\"\n"
      "curve\n    public-key = \"%s\"\n%s%s%s", sec ? "**Secret**" : "Public",
      pub, sec ? "    secret-key = \"" : "", sec ? sec : "", sec ? "\"\n" : "");
}

/* ---- finding 1: bad secret keys fail closed; certificates work ---- */

static void
test_bad_secret_keys (void)
{
  static const char *const bad[] = {
    "curve-secret-key=#this-is-not-a-valid-key",
    "curve-secret-key=",
    "curve-secret-key=0123456789abcdef0123456789abcdef0123456789abcdef",
  };
  gchar *ep = g_strdup_printf ("ipc://%s/badkey.sock", tmpdir);

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++) {
    gchar *error = NULL;
    GstHarness *h = try_sink (ep, bad[i], &error);

    CHECK (!h, "sink started with %s", bad[i]);
    CHECK (error && strstr (error, "curve-secret-key"), "error for %s: %s",
        bad[i], error ? error : "(none)");
    g_free (error);
  }
  {
    /* The secret in a file; line 2 is broken. */
    char pub[41], sec[41];
    gchar *text, *path, *props, *error = NULL;

    CHECK (zmq_curve_keypair (pub, sec) == 0, "keypair");
    text = g_strdup_printf ("%s\n#short\n", sec);
    path = write_tmp ("bad.key_secret", text);
    props = g_strdup_printf ("curve-secret-key-file=%s", path);
    CHECK (!try_sink (ep, props, &error), "sink started with %s", text);
    CHECK (error && strstr (error, "curve-secret-key-file")
        && strstr (error, "bad.key_secret:2:"), "error: %s", error);
    g_free (error);
    g_free (props);
    g_free (path);
    g_free (text);
  }
  g_free (ep);
  printf ("bad secret keys stop the sink: ok\n");
}

static void
test_cert_files (void)
{
  char srv_pub[41], srv_sec[41], a_pub[41], a_sec[41], b_pub[41], b_sec[41];
  gchar *ep = g_strdup_printf ("ipc://%s/cert.sock", tmpdir);
  gchar *store = g_build_filename (tmpdir, "clients", NULL);
  gchar *t, *srv_path, *a_path, *props, *p;
  GstHarness *h;
  segmask_sub *a, *b, *plain;

  CHECK (zmq_curve_keypair (srv_pub, srv_sec) == 0
      && zmq_curve_keypair (a_pub, a_sec) == 0
      && zmq_curve_keypair (b_pub, b_sec) == 0, "keypair");
  t = cert_text (srv_pub, srv_sec);
  srv_path = write_tmp ("server.key_secret", t);
  g_free (t);
  /* czmq's store: A's public cert and its secret twin (skipped). */
  CHECK (g_mkdir (store, 0700) == 0, "mkdir");
  t = cert_text (a_pub, NULL);
  a_path = g_build_filename (store, "a.key", NULL);
  CHECK (g_file_set_contents (a_path, t, -1, NULL), "write");
  g_free (t);
  t = cert_text (a_pub, a_sec);
  p = g_build_filename (store, "a.key_secret", NULL);
  CHECK (g_file_set_contents (p, t, -1, NULL), "write");
  g_free (p);
  g_free (t);
  props = g_strdup_printf ("curve-secret-key-file=%s "
      "curve-allowed-keys-file=%s", srv_path, store);
  h = try_sink (ep, props, NULL);
  CHECK (h, "sink refused a czmq secret certificate and store");
  a = sub_with (ep, srv_pub, a_pub, a_sec, 0);
  b = sub_with (ep, srv_pub, b_pub, b_sec, 0);
  plain = sub_with (ep, NULL, NULL, NULL, 0);
  wait_subscribers (h, 1);
  CHECK (push_and_count (h, a, 1, 5, 500) == 5, "A missed masks");
  CHECK (push_and_count (h, b, 6, 2, 300) == 0, "B got masks");
  CHECK (push_and_count (h, plain, 8, 2, 300) == 0, "plain got masks");
  segmask_sub_free (&a);
  segmask_sub_free (&b);
  segmask_sub_free (&plain);
  gst_harness_teardown (h);
  g_unlink (a_path);
  p = g_build_filename (store, "a.key_secret", NULL);
  g_unlink (p);
  g_free (p);
  g_rmdir (store);
  g_unlink (srv_path);
  g_free (props);
  g_free (a_path);
  g_free (srv_path);
  g_free (store);
  g_free (ep);
  printf ("czmq secret certificate + certificate directory: ok\n");
}

/* zmqmasksrc takes its keys from the same kinds of files. */
static void
test_src_key_files (void)
{
  char srv_pub[41], srv_sec[41], a_pub[41], a_sec[41];
  gchar *ep = g_strdup_printf ("ipc://%s/src.sock", tmpdir);
  gchar *t, *srv_sec_path, *srv_pub_path, *a_sec_path, *props, *desc;
  GstHarness *h;
  GstElement *pipe, *out;
  GstSample *sample = NULL;
  gint64 end;

  CHECK (zmq_curve_keypair (srv_pub, srv_sec) == 0
      && zmq_curve_keypair (a_pub, a_sec) == 0, "keypair");
  t = cert_text (srv_pub, srv_sec);
  srv_sec_path = write_tmp ("srv.key_secret", t);
  g_free (t);
  t = cert_text (srv_pub, NULL);
  srv_pub_path = write_tmp ("srv.key", t);
  g_free (t);
  t = cert_text (a_pub, a_sec);
  a_sec_path = write_tmp ("a.key_secret", t);
  g_free (t);
  props = g_strdup_printf ("curve-secret-key-file=%s curve-allowed-keys=%s",
      srv_sec_path, a_pub);
  h = try_sink (ep, props, NULL);
  CHECK (h, "sink");
  desc = g_strdup_printf ("zmqmasksrc endpoint=%s stream-name=cam0 "
      "curve-server-key-file=%s curve-secret-key-file=%s ! appsink name=out "
      "sync=false", ep, srv_pub_path, a_sec_path);
  pipe = gst_parse_launch (desc, NULL);
  CHECK (pipe, "parse %s", desc);
  out = gst_bin_get_by_name (GST_BIN (pipe), "out");
  CHECK (gst_element_set_state (pipe, GST_STATE_PLAYING)
      != GST_STATE_CHANGE_FAILURE, "play");
  wait_subscribers (h, 1);
  end = g_get_monotonic_time () + DEADLINE_US;
  for (guint i = 1; !sample && g_get_monotonic_time () < end; i++) {
    GstSegMask *m = make_mask (40, 30, i);

    gst_harness_push (h, make_buffer (m, i));
    gst_seg_mask_unref (m);
    sample = gst_app_sink_try_pull_sample (GST_APP_SINK (out),
        100 * GST_MSECOND);
  }
  CHECK (sample, "zmqmasksrc with key files got nothing");
  gst_sample_unref (sample);
  gst_element_set_state (pipe, GST_STATE_NULL);
  gst_object_unref (out);
  gst_object_unref (pipe);
  gst_harness_teardown (h);
  g_unlink (srv_sec_path);
  g_unlink (srv_pub_path);
  g_unlink (a_sec_path);
  g_free (srv_sec_path);
  g_free (srv_pub_path);
  g_free (a_sec_path);
  g_free (props);
  g_free (desc);
  g_free (ep);
  printf ("zmqmasksrc with czmq certificate files: ok\n");
}

/* ---- finding 2: allow-lists that are set admit only their keys ---- */

static void
test_allow_lists (void)
{
  char srv_pub[41], srv_sec[41], a_pub[41], a_sec[41], b_pub[41], b_sec[41];
  gchar *ep = g_strdup_printf ("ipc://%s/allow.sock", tmpdir);
  gchar *empty = write_tmp ("empty.keys", ""), *props, *error = NULL, *hex;
  GstHarness *h;
  segmask_sub *a, *plain;

  CHECK (zmq_curve_keypair (srv_pub, srv_sec) == 0
      && zmq_curve_keypair (a_pub, a_sec) == 0, "keypair");
  CHECK (zmq_curve_keypair (b_pub, b_sec) == 0, "keypair");

  /* An empty file (everyone revoked): nobody gets in. */
  props = g_strdup_printf ("curve-secret-key=%s curve-allowed-keys-file=%s",
      srv_sec, empty);
  h = try_sink (ep, props, NULL);
  CHECK (h, "sink refused an empty allow-list");
  a = sub_with (ep, srv_pub, a_pub, a_sec, 0);
  plain = sub_with (ep, NULL, NULL, NULL, 0);
  CHECK (push_and_count (h, a, 1, 3, 500) == 0, "empty list admitted A");
  CHECK (push_and_count (h, plain, 4, 3, 300) == 0, "empty list: plain got");
  CHECK (subscribers (h) == 0, "subscribers %d", subscribers (h));
  segmask_sub_free (&a);
  segmask_sub_free (&plain);
  gst_harness_teardown (h);
  g_free (props);

  /* A sole entry starting with '#' (a key "commented out" to revoke it):
   * an error naming file:line, not an empty list that admits everyone.
   * (A Z85 key itself never starts with '#': 2^32 / 85^4 < 84.) */
  {
    gchar *text = g_strdup_printf ("#%s\n", a_pub);
    gchar *path = write_tmp ("hash.keys", text);

    props = g_strdup_printf ("curve-secret-key=%s curve-allowed-keys-file=%s",
        srv_sec, path);
    h = try_sink (ep, props, &error);
    if (h) {
      plain = sub_with (ep, NULL, NULL, NULL, 0);
      CHECK (push_and_count (h, plain, 1, 3, 500) == 0,
          "'#' entry: a plain subscriber got masks");
      segmask_sub_free (&plain);
      gst_harness_teardown (h);
    }
    CHECK (!h, "sink started with a sole '#' entry in the allow-list");
    CHECK (error && strstr (error, "curve-allowed-keys-file")
        && strstr (error, "hash.keys:1:"), "error: %s", error);
    g_clear_pointer (&error, g_free);
    g_unlink (path);
    g_free (path);
    g_free (text);
    g_free (props);
  }
  /* A key with '#' inside, in a czmq public certificate: admitted. */
  {
    gchar *text, *path;
    segmask_sub *b;

    do
      CHECK (zmq_curve_keypair (b_pub, b_sec) == 0, "keypair");
    while (!strchr (b_pub, '#'));
    text = cert_text (b_pub, NULL);
    path = write_tmp ("b.key", text);
    props = g_strdup_printf ("curve-secret-key=%s curve-allowed-keys-file=%s",
        srv_sec, path);
    h = try_sink (ep, props, NULL);
    CHECK (h, "sink refused a public certificate");
    a = sub_with (ep, srv_pub, a_pub, a_sec, 0);
    b = sub_with (ep, srv_pub, b_pub, b_sec, 0);
    plain = sub_with (ep, NULL, NULL, NULL, 0);
    wait_subscribers (h, 1);
    CHECK (push_and_count (h, b, 1, 5, 500) == 5, "listed key missed masks");
    CHECK (push_and_count (h, a, 6, 2, 300) == 0, "unlisted A got masks");
    CHECK (push_and_count (h, plain, 8, 2, 300) == 0, "plain got masks");
    segmask_sub_free (&a);
    segmask_sub_free (&b);
    segmask_sub_free (&plain);
    gst_harness_teardown (h);
    g_unlink (path);
    g_free (path);
    g_free (text);
    g_free (props);
  }

  /* Keys in hex are an error naming file:line, not an open door. */
  {
    guint8 bin[32];

    CHECK (zmq_z85_decode (bin, a_pub), "decode");
    hex = g_strdup ("");
    for (int i = 0; i < 32; i++) {
      gchar *n = g_strdup_printf ("%s%02x", hex, bin[i]);

      g_free (hex);
      hex = n;
    }
    {
      gchar *text = g_strdup_printf ("%s\n%s\n", a_pub, hex);
      gchar *path = write_tmp ("hex.keys", text);

      props = g_strdup_printf ("curve-secret-key=%s "
          "curve-allowed-keys-file=%s", srv_sec, path);
      CHECK (!try_sink (ep, props, &error), "sink started with hex keys");
      CHECK (error && strstr (error, "curve-allowed-keys-file")
          && strstr (error, "hex.keys:2:"), "error: %s", error);
      g_free (error);
      g_unlink (path);
      g_free (path);
      g_free (text);
      g_free (props);
    }
    g_free (hex);
  }
  g_unlink (empty);
  g_free (empty);
  g_free (ep);
  printf ("allow-lists: empty admits nobody, '#' entry and hex fail, "
      "certificate works: ok\n");
}

/* ---- finding 3: spoofed subscriptions ---- */

/* A ZMTP 3.0 peer by hand (NULL mechanism, SUB): libzmq's own SUB/XSUB
 * would not send an unsubscribe for a topic it does not hold. */
static void
read_exactly (int fd, guint8 *buf, size_t n)
{
  while (n) {
    ssize_t r = read (fd, buf, n);

    CHECK (r > 0, "read from the publisher: %s", r ? g_strerror (errno)
        : "closed");
    buf += r;
    n -= (size_t) r;
  }
}

static int
raw_peer (const gchar *tcp_endpoint)
{
  const gchar *port = strrchr (tcp_endpoint, ':') + 1;
  struct sockaddr_in sa = { 0 };
  guint8 greet[64] = { 0xff, 0, 0, 0, 0, 0, 0, 0, 0, 0x7f, 3, 0, 'N', 'U',
    'L', 'L'
  };
  static const guint8 ready[] = { 0x04, 25, 5, 'R', 'E', 'A', 'D', 'Y', 11,
    'S', 'o', 'c', 'k', 'e', 't', '-', 'T', 'y', 'p', 'e', 0, 0, 0, 3, 'S',
    'U', 'B'
  };
  guint8 buf[256];
  int fd = socket (AF_INET, SOCK_STREAM, 0);

  sa.sin_family = AF_INET;
  sa.sin_port = htons ((guint16) atoi (port));
  sa.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
  CHECK (fd >= 0 && connect (fd, (struct sockaddr *) &sa, sizeof (sa)) == 0,
      "connect");
  CHECK (write (fd, greet, 64) == 64, "greeting");
  CHECK (write (fd, ready, sizeof (ready)) == (ssize_t) sizeof (ready),
      "READY");
  /* Like a real peer, send nothing else before the server's READY: data
   * during the handshake (ZAP pending) is a protocol error. */
  read_exactly (fd, buf, 64);
  read_exactly (fd, buf, 2);
  CHECK (buf[0] == 0x04, "expected a short command, got flags %x", buf[0]);
  read_exactly (fd, buf, buf[1]);
  return fd;
}

static void
raw_send (int fd, const char *frame, size_t len)
{
  guint8 b[2 + 255];

  b[0] = 0;
  b[1] = (guint8) len;
  memcpy (b + 2, frame, len);
  CHECK (write (fd, b, len + 2) == (ssize_t) (len + 2), "raw send of %.*s: %s",
      (int) len - 1, frame + 1, g_strerror (errno));
}

static void
test_spoofed_unsubscribe (void)
{
  GstHarness *h = try_sink ("tcp://127.0.0.1:*", NULL, NULL);
  gchar *ep = bound (h);
  segmask_sub *s = sub_with (ep, NULL, NULL, NULL, 0);
  int fd;

  wait_subscribers (h, 1);
  fd = raw_peer (ep);
  for (int i = 0; i < 100; i++)
    raw_send (fd, "\0mask/cam0", 10);
  raw_send (fd, "\0mask/", 6);
  raw_send (fd, "\0", 1);
  g_usleep (300 * 1000);
  CHECK (subscribers (h) == 1, "spoofed unsubscribes: subscribers %d",
      subscribers (h));
  CHECK (push_and_count (h, s, 1, 5, 500) == 5, "real subscriber missed");
  /* Its own subscription it may drop; the count follows. */
  raw_send (fd, "\1mask/cam0", 10);
  wait_subscribers (h, 2);
  raw_send (fd, "\0mask/cam0", 10);
  wait_subscribers (h, 1);
  /* A real departure still counts. */
  close (fd);
  segmask_sub_free (&s);
  wait_subscribers (h, 0);
  gst_harness_teardown (h);
  g_free (ep);
  printf ("spoofed unsubscribes change nothing: ok\n");
}

static void
test_replay_flood (void)
{
  /* Raw 640x480 masks, so a handful of replays fill the real
   * subscriber's queue (sndhwm 8) and the kernel buffers. */
  GstHarness *h = try_sink ("tcp://127.0.0.1:*", "encoding=raw sndhwm=8",
      NULL);
  gchar *ep = bound (h);
  segmask_sub *s = sub_with (ep, NULL, NULL, NULL, 2);
  GstSegMask *big = make_mask (640, 480, 1);
  segmask_sub_stats st;
  guint got = 0;
  int fd;

  wait_subscribers (h, 1);
  CHECK (gst_harness_push (h, make_buffer (big, 1)) == GST_FLOW_OK, "push");
  {
    segmask_msg *m = NULL;

    CHECK (segmask_sub_recv (s, 5000, &m) == SEGMASK_OK, "first mask");
    segmask_msg_free (&m);
  }
  fd = raw_peer (ep);
  /* Subscribe, unsubscribe, again: each its own read on the publisher
   * side (the sleeps), so each looks like a late joiner. */
  for (int i = 0; i < 150; i++) {
    raw_send (fd, "\1mask/cam0", 10);
    raw_send (fd, "\1mask/", 6);
    g_usleep (1000);
    raw_send (fd, "\0mask/cam0", 10);
    raw_send (fd, "\0mask/", 6);
    g_usleep (1000);
  }
  g_usleep (500 * 1000);
  for (guint i = 2; i <= 6; i++)
    CHECK (gst_harness_push (h, make_buffer (big, i)) == GST_FLOW_OK, "push");
  for (;;) {
    segmask_msg *m = NULL;

    if (segmask_sub_recv (s, 1000, &m) != SEGMASK_OK)
      break;
    got += m->header.type == SEGMASK_MSG_MASK;
    segmask_msg_free (&m);
  }
  segmask_sub_get_stats (s, &st);
  CHECK (got == 5 && st.missed == 0, "flood: got %u of 5, missed %"
      G_GUINT64_FORMAT ", replays %" G_GUINT64_FORMAT, got,
      (guint64) st.missed, stat_u64 (h, "replayed"));
  close (fd);
  segmask_sub_free (&s);
  gst_seg_mask_unref (big);
  gst_harness_teardown (h);
  g_free (ep);
  printf ("replay flood: real subscriber got 5/5: ok\n");
}

/* ---- finding 7: ipc:// endpoints ---- */

static void
test_ipc (void)
{
  gchar *path = g_build_filename (tmpdir, "taken.sock", NULL);
  gchar *ep = g_strdup_printf ("ipc://%s", path);
  gchar *props = g_strdup ("ipc-mode=0660");
  gchar *error = NULL, *target, *link;
  GstHarness *first = try_sink (ep, props, NULL), *second;
  segmask_sub *s;
  struct stat st;

  CHECK (first, "first publisher");
  CHECK (lstat (path, &st) == 0 && S_ISSOCK (st.st_mode)
      && (st.st_mode & 07777) == 0660, "socket mode %o", st.st_mode & 07777);
  second = try_sink (ep, props, &error);
  CHECK (!second, "a second publisher took over %s", ep);
  CHECK (error && strstr (error, "in use"), "error: %s", error);
  g_clear_pointer (&error, g_free);
  /* The first one still serves. */
  s = sub_with (ep, NULL, NULL, NULL, 0);
  wait_subscribers (first, 1);
  CHECK (push_and_count (first, s, 1, 3, 500) == 3, "first stopped serving");
  segmask_sub_free (&s);
  gst_harness_teardown (first);

  /* A symlink at the path is neither followed nor replaced. */
  target = write_tmp ("precious", "data");
  CHECK (chmod (target, 0600) == 0, "chmod");
  link = g_build_filename (tmpdir, "link.sock", NULL);
  CHECK (symlink (target, link) == 0, "symlink");
  g_free (ep);
  ep = g_strdup_printf ("ipc://%s", link);
  CHECK (!try_sink (ep, "ipc-mode=0666", &error), "bound over a symlink");
  CHECK (error && strstr (error, "not a socket"), "error: %s", error);
  CHECK (lstat (link, &st) == 0 && S_ISLNK (st.st_mode), "symlink removed");
  CHECK (stat (target, &st) == 0 && (st.st_mode & 07777) == 0600,
      "target mode changed to %o", st.st_mode & 07777);
  g_free (error);
  g_unlink (link);
  g_unlink (target);
  g_unlink (path);
  g_free (link);
  g_free (target);
  g_free (props);
  g_free (path);
  g_free (ep);
  printf ("ipc: second publisher refused, symlink left alone: ok\n");
}

/* ---- ZAP: a failed reply does not wedge the handler ---- */

static void
release_free (void *data, void *owner)
{
  g_free (owner);
}

static void
test_zap_wedge (void)
{
  char srv_pub[41], srv_sec[41], a_pub[41], a_sec[41];
  segmask_pub_options o;
  segmask_pub *pub = NULL;
  segmask_sub *a, *a2;
  char err[256];
  gint64 end;
  guint got = 0;

  CHECK (zmq_curve_keypair (srv_pub, srv_sec) == 0
      && zmq_curve_keypair (a_pub, a_sec) == 0, "keypair");
  segmask_pub_options_init (&o);
  o.endpoint = "tcp://127.0.0.1:*";
  o.stream = "cam0";
  o.curve_secret_key = srv_sec;
  o.curve_allowed_keys = a_pub;
  CHECK (segmask_pub_new (&o, &pub, err, sizeof (err)) == SEGMASK_OK, "%s",
      err);
  segmask_pub_test_fail_zap_sends (pub, 1);
  /* The first handshake's reply fails; the next one must still work. */
  a = sub_with (segmask_pub_endpoint (pub), srv_pub, a_pub, a_sec, 0);
  g_usleep (300 * 1000);
  a2 = sub_with (segmask_pub_endpoint (pub), srv_pub, a_pub, a_sec, 0);
  end = g_get_monotonic_time () + DEADLINE_US;
  while (g_get_monotonic_time () < end && got == 0) {
    segmask_pub_mask m = { 0 };
    guint8 *plane = g_malloc0 (16 * 8);
    segmask_msg *msg = NULL;

    m.plane = plane;
    m.kind = SEGMASK_KIND_PROBABILITY;
    m.width = m.stride = 16;
    m.height = 8;
    m.release = release_free;
    m.owner = plane;
    segmask_pub_push (pub, &m);
    if (segmask_sub_recv (a2, 100, &msg) == SEGMASK_OK)
      got++;
    segmask_msg_free (&msg);
  }
  CHECK (got, "no mask after a failed ZAP reply: the handler is wedged");
  segmask_sub_free (&a);
  segmask_sub_free (&a2);
  segmask_pub_free (&pub);
  printf ("ZAP handler survives a failed reply: ok\n");
}

int
main (int argc, char **argv)
{
  gst_init (&argc, &argv);
  tmpdir = g_dir_make_tmp ("segd-trust-XXXXXX", NULL);
  CHECK (tmpdir, "tmpdir");
  if (argc > 1) {
    /* One test by name, for reverting a fix and watching it fail. */
    if (!strcmp (argv[1], "keys"))
      test_bad_secret_keys ();
    else if (!strcmp (argv[1], "certs"))
      test_cert_files ();
    else if (!strcmp (argv[1], "allow"))
      test_allow_lists ();
    else if (!strcmp (argv[1], "spoof"))
      test_spoofed_unsubscribe ();
    else if (!strcmp (argv[1], "flood"))
      test_replay_flood ();
    else if (!strcmp (argv[1], "ipc"))
      test_ipc ();
    else if (!strcmp (argv[1], "zap"))
      test_zap_wedge ();
    else if (!strcmp (argv[1], "src"))
      test_src_key_files ();
  } else {
    test_bad_secret_keys ();
    test_cert_files ();
    test_allow_lists ();
    test_spoofed_unsubscribe ();
    test_replay_flood ();
    test_ipc ();
    test_zap_wedge ();
    test_src_key_files ();
  }
  g_rmdir (tmpdir);
  g_free (tmpdir);
  return 0;
}
