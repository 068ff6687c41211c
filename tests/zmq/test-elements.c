/* zmqmasksink → libsegmask and zmqmasksink → zmqmasksrc round trips over
 * ipc:// (temp dir) and loopback TCP with each encoding (payload bytes
 * identical), two subscribers with one that never reads, a late joiner,
 * status / end-of-stream / subscriber-count messages, CURVE with an
 * allowed-key list, and the error for an unwritable default endpoint.
 * Every wait is for a count, bounded by a generous deadline. */
#include "../check.h"

#include <gst/app/gstappsink.h>
#include <glib/gstdio.h>
#include <gst/gst.h>
#include <segmask.h>
#include <segmeta.h>
#include <string.h>
#include <unistd.h>
#include <zmq.h>

#include "zmq-fixtures.h"

/* A harness-driven zmqmasksink with `encoding` and `extra` properties. */
static GstHarness *
new_sink (const gchar *endpoint, const gchar *encoding, const gchar *extra)
{
  GstElement *sink = sink_new (endpoint, extra);

  gst_util_set_object_arg (G_OBJECT (sink), "encoding", encoding);
  return sink_harness (sink);
}

static void
wait_handled (GstHarness *h, guint64 n)
{
  gint64 end = g_get_monotonic_time () + DEADLINE_US;

  while (g_get_monotonic_time () < end) {
    if (stat_u64 (h, "published") + stat_u64 (h, "dropped") >= n)
      return;
    g_usleep (500);
  }
  CHECK (0, "sink handled fewer than %" G_GUINT64_FORMAT " masks", n);
}

static segmask_sub *
new_sub (const gchar *ep, int status, int rcvhwm)
{
  return sub_open (ep, status, rcvhwm, NULL, NULL, NULL);
}

static segmask_msg *
recv_type (segmask_sub *s, segmask_msg_type type)
{
  gint64 end = g_get_monotonic_time () + DEADLINE_US;

  while (g_get_monotonic_time () < end) {
    segmask_msg *m = NULL;
    segmask_status st = segmask_sub_recv (s, 200, &m);

    CHECK (st == SEGMASK_OK || st == SEGMASK_TIMEOUT, "recv: %s",
        segmask_status_string (st));
    if (st == SEGMASK_OK && m->header.type == type)
      return m;
    segmask_msg_free (&m);
  }
  CHECK (0, "no message of type %d", type);
  return NULL;
}

static void
compare_mask (const segmask_msg *m, GstSegMask *mask, guint64 seq,
    gboolean classes)
{
  const segmask_header *h = &m->header;
  guint stride = gst_seg_mask_get_stride (mask);
  const guint8 *plane = classes ? gst_seg_mask_get_classes (mask)
                                : gst_seg_mask_get_probability (mask);

  CHECK (h->seq == seq, "seq %" G_GUINT64_FORMAT ", want %" G_GUINT64_FORMAT,
      (guint64) h->seq, seq);
  CHECK (h->width == gst_seg_mask_get_width (mask)
          && h->height == gst_seg_mask_get_height (mask) && h->stride == stride,
      "size %ux%u/%u", h->width, h->height, h->stride);
  CHECK (h->kind == (classes ? SEGMASK_KIND_CLASSES : SEGMASK_KIND_PROBABILITY),
      "kind %d", h->kind);
  CHECK (h->frame_width == 320 && h->frame_height == 240, "frame size");
  CHECK (h->num_classes == 3 && strcmp (h->labels[1], "person") == 0
          && strcmp (h->model_name, "test-model.onnx") == 0
          && strcmp (h->stream, "cam0") == 0,
      "labels/model/stream");
  CHECK (h->inference_ns == 5 * GST_MSECOND, "latency %" G_GUINT64_FORMAT,
      (guint64) h->inference_ns);
  CHECK (memcmp (m->data, plane, (gsize) stride * h->height) == 0,
      "payload bytes differ (seq %" G_GUINT64_FORMAT ")", seq);
}

static void
test_library (const gchar *endpoint, const gchar *enc, gboolean classes)
{
  GstHarness *h =
      new_sink (endpoint, enc, classes ? NULL : "mask-kind=probability");
  gchar *ep = bound (h);
  segmask_sub *s = new_sub (ep, 0, 0);
  segmask_sub_stats st;

  wait_subscribers (h, 1);
  for (guint i = 1; i <= 12; i++) {
    GstSegMask *mask = make_mask (97 + i, 61, i, TRUE);
    segmask_msg *m;

    CHECK (gst_harness_push (h, make_buffer (mask, i)) == GST_FLOW_OK, "push");
    m = recv_type (s, SEGMASK_MSG_MASK);
    CHECK (m->header.encoding
            == (segmask_encoding) segmask_encoding_from_name (enc),
        "encoding");
    compare_mask (m, mask, i, classes);
    segmask_msg_free (&m);
    gst_seg_mask_unref (mask);
  }
  segmask_sub_get_stats (s, &st);
  CHECK (st.missed == 0 && st.invalid == 0 && st.received == 12,
      "stats missed %" G_GUINT64_FORMAT " invalid %" G_GUINT64_FORMAT,
      (guint64) st.missed, (guint64) st.invalid);
  wait_handled (h, 12);
  CHECK (stat_u64 (h, "published") == 12 && stat_u64 (h, "dropped") == 0,
      "sink counters");
  segmask_sub_free (&s);
  g_free (ep);
  gst_harness_teardown (h);
  printf ("library %s %s %s: ok\n", endpoint, enc,
      classes ? "classes" : "probability");
}

static void
test_src (const gchar *endpoint, const gchar *enc)
{
  GstHarness *h = new_sink (endpoint, enc, NULL);
  gchar *ep = bound (h);
  gchar *desc =
      g_strdup_printf ("zmqmasksrc name=in endpoint=%s stream-name=cam0 "
                       "! appsink name=out sync=false max-buffers=100",
          ep);
  GstElement *pipe = gst_parse_launch (desc, NULL);
  GstElement *out;
  GstElement *src;

  CHECK (pipe, "parse %s", desc);
  out = gst_bin_get_by_name (GST_BIN (pipe), "out");
  src = gst_bin_get_by_name (GST_BIN (pipe), "in");
  CHECK (gst_element_set_state (pipe, GST_STATE_PLAYING)
          != GST_STATE_CHANGE_FAILURE,
      "play");
  wait_subscribers (h, 1);
  for (guint i = 1; i <= 8; i++) {
    GstSegMask *mask = make_mask (101, 37, i, TRUE);
    GstSample *sample;
    GstBuffer *buf;
    GstMapInfo map;
    GstStructure *caps;
    gint w = 0, hh = 0;
    guint stride = gst_seg_mask_get_stride (mask);
    const guint8 *c = gst_seg_mask_get_classes (mask);

    CHECK (gst_harness_push (h, make_buffer (mask, i)) == GST_FLOW_OK, "push");
    sample = gst_app_sink_try_pull_sample (GST_APP_SINK (out), 10 * GST_SECOND);
    CHECK (sample, "no sample %u", i);
    caps = gst_caps_get_structure (gst_sample_get_caps (sample), 0);
    CHECK (gst_structure_get_int (caps, "width", &w)
            && gst_structure_get_int (caps, "height", &hh) && w == 101
            && hh == 37
            && g_strcmp0 (gst_structure_get_string (caps, "format"), "GRAY8")
                == 0,
        "caps %" GST_PTR_FORMAT, caps);
    buf = gst_sample_get_buffer (sample);
    CHECK (GST_BUFFER_PTS_IS_VALID (buf), "no timestamp");
    CHECK (GST_BUFFER_OFFSET (buf) == i, "offset (seq) %" G_GUINT64_FORMAT,
        GST_BUFFER_OFFSET (buf));
    gst_buffer_map (buf, &map, GST_MAP_READ);
    for (guint y = 0; y < 37; y++)
      CHECK (memcmp (map.data + y * GST_ROUND_UP_4 (101), c + y * stride, 101)
              == 0,
          "row %u of mask %u differs", y, i);
    gst_buffer_unmap (buf, &map);
    gst_sample_unref (sample);
    gst_seg_mask_unref (mask);
  }
  {
    GstStructure *s = NULL;
    guint64 received = 0, invalid = 1;

    g_object_get (src, "stats", &s, NULL);
    gst_structure_get_uint64 (s, "received", &received);
    gst_structure_get_uint64 (s, "invalid", &invalid);
    gst_structure_free (s);
    CHECK (received >= 8 && invalid == 0, "src stats");
  }
  /* End-of-stream travels to the source as a message. */
  CHECK (gst_harness_push_event (h, gst_event_new_eos ()), "eos");
  {
    GstBus *bus = gst_element_get_bus (pipe);
    GstMessage *msg = gst_bus_timed_pop_filtered (bus, 10 * GST_SECOND,
        GST_MESSAGE_EOS | GST_MESSAGE_ERROR);

    CHECK (msg && GST_MESSAGE_TYPE (msg) == GST_MESSAGE_EOS, "no EOS");
    gst_message_unref (msg);
    gst_object_unref (bus);
  }
  gst_element_set_state (pipe, GST_STATE_NULL);
  gst_object_unref (out);
  gst_object_unref (src);
  gst_object_unref (pipe);
  g_free (desc);
  g_free (ep);
  gst_harness_teardown (h);
  printf ("src %s %s: ok\n", endpoint, enc);
}

/* One subscriber that never reads must not slow the publisher or cost
 * upstream frames; the reading one still gets every mask. */
static void
test_stuck_subscriber (void)
{
  gchar *endpoint = g_strdup_printf ("ipc://%s/stuck.sock", tmpdir);
  GstHarness *h = new_sink (endpoint, "raw", "sndhwm=2");
  segmask_sub *reader = new_sub (endpoint, 0, 0);
  segmask_sub *stuck = new_sub (endpoint, 0, 1);
  GstSegMask *mask = make_mask (640, 480, 1, TRUE);
  const guint n = 300;
  guint got_stuck = 0;
  segmask_sub_stats st;

  wait_subscribers (h, 2);
  for (guint i = 1; i <= n; i++) {
    segmask_msg *m;

    CHECK (gst_harness_push (h, make_buffer (mask, i)) == GST_FLOW_OK, "push");
    wait_handled (h, i);
    m = recv_type (reader, SEGMASK_MSG_MASK);
    CHECK (m->header.seq == i, "reader got %" G_GUINT64_FORMAT,
        (guint64) m->header.seq);
    segmask_msg_free (&m);
  }
  CHECK (stat_u64 (h, "published") == n && stat_u64 (h, "dropped") == 0,
      "frames in %u, published %" G_GUINT64_FORMAT
      ", dropped %" G_GUINT64_FORMAT,
      n, stat_u64 (h, "published"), stat_u64 (h, "dropped"));
  for (;;) {
    segmask_msg *m = NULL;

    if (segmask_sub_recv (stuck, 300, &m) != SEGMASK_OK)
      break;
    got_stuck++;
    segmask_msg_free (&m);
  }
  CHECK (got_stuck < n, "stuck subscriber got all %u masks", n);
  /* The next mask it does get shows the gap by its sequence number. */
  gst_harness_push (h, make_buffer (mask, n + 1));
  wait_handled (h, n + 1);
  {
    segmask_msg *m = recv_type (stuck, SEGMASK_MSG_MASK);

    CHECK (m->header.seq == n + 1, "stuck got %" G_GUINT64_FORMAT,
        (guint64) m->header.seq);
    segmask_msg_free (&m);
  }
  segmask_sub_get_stats (stuck, &st);
  CHECK (got_stuck + st.missed == n,
      "stuck subscriber got %u of %u, missed %" G_GUINT64_FORMAT, got_stuck, n,
      (guint64) st.missed);
  printf ("stuck subscriber: publisher %u in / %u out, 0 dropped; reader got "
          "%u, stuck one %u (missed %" G_GUINT64_FORMAT ")\n",
      n, n, n, got_stuck, (guint64) st.missed);
  segmask_sub_free (&reader);
  segmask_sub_free (&stuck);
  gst_seg_mask_unref (mask);
  gst_harness_teardown (h);
  g_free (endpoint);
}

static void
test_late_joiner (void)
{
  gchar *endpoint = g_strdup_printf ("ipc://%s/late.sock", tmpdir);
  GstHarness *h = new_sink (endpoint, "zstd", NULL);
  GstSegMask *masks[5];
  segmask_sub *s, *early;
  segmask_msg *m;
  segmask_sub_stats st;

  early = new_sub (endpoint, 0, 0);
  wait_subscribers (h, 1);
  for (guint i = 0; i < 5; i++) {
    masks[i] = make_mask (64, 48, i + 1, TRUE);
    gst_harness_push (h, make_buffer (masks[i], i + 1));
    wait_handled (h, i + 1);
  }
  for (guint i = 0; i < 5; i++) {
    m = recv_type (early, SEGMASK_MSG_MASK);
    segmask_msg_free (&m);
  }
  s = new_sub (endpoint, 0, 0);
  wait_subscribers (h, 2);
  m = recv_type (s, SEGMASK_MSG_MASK);
  compare_mask (m, masks[4], 5, TRUE);
  segmask_msg_free (&m);
  /* The replay reached the early subscriber too; it drops it by seq. */
  gst_harness_push (h, make_buffer (masks[0], 6));
  m = recv_type (early, SEGMASK_MSG_MASK);
  CHECK (m->header.seq == 6, "early got seq %" G_GUINT64_FORMAT,
      (guint64) m->header.seq);
  segmask_msg_free (&m);
  segmask_sub_get_stats (early, &st);
  CHECK (st.duplicates == 1 && st.missed == 0, "early dup %" G_GUINT64_FORMAT,
      (guint64) st.duplicates);
  m = recv_type (s, SEGMASK_MSG_MASK);
  CHECK (m->header.seq == 6, "late got seq %" G_GUINT64_FORMAT,
      (guint64) m->header.seq);
  segmask_msg_free (&m);
  for (guint i = 0; i < 5; i++)
    gst_seg_mask_unref (masks[i]);
  segmask_sub_free (&s);
  segmask_sub_free (&early);
  gst_harness_teardown (h);
  g_free (endpoint);
  printf ("late joiner: ok\n");
}

static gint
pop_subscribers (GstBus *bus)
{
  GstMessage *msg;
  gint n = -1;

  while ((msg = gst_bus_timed_pop_filtered (bus, 10 * GST_SECOND,
              GST_MESSAGE_ELEMENT))) {
    const GstStructure *s = gst_message_get_structure (msg);

    if (gst_structure_has_name (s, "zmqmasksink-subscribers")) {
      gst_structure_get_int (s, "subscribers", &n);
      gst_message_unref (msg);
      return n;
    }
    gst_message_unref (msg);
  }
  CHECK (0, "no zmqmasksink-subscribers message");
  return n;
}

static void
test_status (void)
{
  gchar *endpoint = g_strdup_printf ("ipc://%s/status.sock", tmpdir);
  GstElement *sink = gst_element_factory_make ("zmqmasksink", NULL);
  GstHarness *h;
  GstBus *bus = gst_bus_new ();
  segmask_sub *s;
  segmask_msg *m;
  gint64 end;
  gboolean seen = FALSE;

  gst_element_set_bus (sink, bus);
  g_object_set (sink, "endpoint", endpoint, "stream-name", "cam0", "async",
      FALSE, NULL);
  h = gst_harness_new_with_element (sink, "sink", NULL);
  gst_object_unref (sink);
  gst_harness_set_src_caps_str (h, "video/x-raw,width=320,height=240");
  g_object_set (h->element, "async", FALSE, NULL);
  gst_harness_play (h);
  s = new_sub (endpoint, 1, 0);
  CHECK (pop_subscribers (bus) == 1, "subscriber count message");
  g_object_set (h->element, "camera-state", "waiting for /dev/video0", NULL);
  /* No buffer has flowed: the status still comes, once a second. */
  end = g_get_monotonic_time () + DEADLINE_US;
  while (!seen && g_get_monotonic_time () < end) {
    m = recv_type (s, SEGMASK_MSG_STATUS);
    CHECK (strstr (m->text, "subscribers=1\n"), "status: %s", m->text);
    seen = strstr (m->text, "camera_state=waiting for /dev/video0\n") != NULL;
    segmask_msg_free (&m);
  }
  CHECK (seen, "camera state never reported");
  CHECK (gst_harness_push_event (h, gst_event_new_eos ()), "eos");
  m = recv_type (s, SEGMASK_MSG_EOS);
  segmask_msg_free (&m);
  segmask_sub_free (&s);
  CHECK (pop_subscribers (bus) == 0, "unsubscribe not counted");
  gst_harness_teardown (h);
  gst_object_unref (bus);
  g_free (endpoint);
  printf ("status, eos, subscriber messages: ok\n");
}

static void
test_curve (void)
{
  char srv_pub[41], srv_sec[41], a_pub[41], a_sec[41], b_pub[41], b_sec[41];
  gchar *endpoint = g_strdup_printf ("ipc://%s/curve.sock", tmpdir);
  gchar *extra;
  GstHarness *h;
  segmask_sub *a, *b, *plain;
  segmask_msg *m = NULL;
  gint64 end;

  CHECK (zmq_curve_keypair (srv_pub, srv_sec) == 0
          && zmq_curve_keypair (a_pub, a_sec) == 0
          && zmq_curve_keypair (b_pub, b_sec) == 0,
      "keypair");
  extra = g_strdup_printf ("curve-secret-key=%s curve-allowed-keys=%s", srv_sec,
      a_pub);
  h = new_sink (endpoint, "rle", extra);
  a = sub_open (endpoint, 0, 0, srv_pub, a_pub, a_sec);
  b = sub_open (endpoint, 0, 0, srv_pub, b_pub, b_sec);
  plain = new_sub (endpoint, 0, 0);
  wait_subscribers (h, 1);
  end = g_get_monotonic_time () + DEADLINE_US;
  while (stat_u64 (h, "rejected") < 1 && g_get_monotonic_time () < end)
    g_usleep (2000);
  CHECK (stat_u64 (h, "rejected") >= 1, "B was not rejected");
  for (guint i = 1; i <= 10; i++) {
    GstSegMask *mask = make_mask (50, 40, i, TRUE);

    gst_harness_push (h, make_buffer (mask, i));
    m = recv_type (a, SEGMASK_MSG_MASK);
    compare_mask (m, mask, i, TRUE);
    segmask_msg_free (&m);
    gst_seg_mask_unref (mask);
  }
  CHECK (segmask_sub_recv (b, 300, &m) == SEGMASK_TIMEOUT, "B got a message");
  CHECK (segmask_sub_recv (plain, 300, &m) == SEGMASK_TIMEOUT,
      "plain subscriber got a message");
  CHECK (subscribers (h) == 1, "subscribers %d", subscribers (h));
  segmask_sub_free (&a);
  segmask_sub_free (&b);
  segmask_sub_free (&plain);
  gst_harness_teardown (h);
  g_free (extra);
  g_free (endpoint);
  printf ("curve: allowed key got 10/10, other key and plain got 0: ok\n");
}

static void
test_bad_default_endpoint (void)
{
  GstElement *sink = gst_element_factory_make ("zmqmasksink", NULL);
  GstBus *bus = gst_bus_new ();
  GstMessage *msg;
  GError *err = NULL;

  if (access ("/run/segd", W_OK) == 0) {
    printf ("default endpoint: /run/segd writable here, skipped\n");
    gst_object_unref (sink);
    gst_object_unref (bus);
    return;
  }
  gst_element_set_bus (sink, bus);
  CHECK (gst_element_set_state (sink, GST_STATE_PAUSED)
          == GST_STATE_CHANGE_FAILURE,
      "start should fail");
  msg = gst_bus_pop_filtered (bus, GST_MESSAGE_ERROR);
  CHECK (msg, "no error message");
  gst_message_parse_error (msg, &err, NULL);
  CHECK (strstr (err->message, "/run/segd")
          && strstr (err->message, "not writable"),
      "error: %s", err->message);
  g_error_free (err);
  gst_message_unref (msg);
  gst_element_set_state (sink, GST_STATE_NULL);
  gst_object_unref (sink);
  gst_object_unref (bus);
  printf ("default endpoint error: ok\n");
}

int
main (int argc, char **argv)
{
  static const gchar *const encs[] = {"raw", "rle", "zstd"};
  gchar *ipc;

  gst_init (&argc, &argv);
  tmpdir = g_dir_make_tmp ("segd-zmq-XXXXXX", NULL);
  CHECK (tmpdir, "tmpdir");
  for (guint e = 0; e < 3; e++) {
    ipc = g_strdup_printf ("ipc://%s/lib-%s.sock", tmpdir, encs[e]);
    test_library (ipc, encs[e], TRUE);
    g_free (ipc);
    test_library ("tcp://127.0.0.1:*", encs[e], e != 1);
    ipc = g_strdup_printf ("ipc://%s/src-%s.sock", tmpdir, encs[e]);
    test_src (ipc, encs[e]);
    g_free (ipc);
    test_src ("tcp://127.0.0.1:*", encs[e]);
  }
  test_stuck_subscriber ();
  test_late_joiner ();
  test_status ();
  test_curve ();
  test_bad_default_endpoint ();
  {
    GDir *d = g_dir_open (tmpdir, 0, NULL);
    const gchar *name;

    while (d && (name = g_dir_read_name (d))) {
      gchar *path = g_build_filename (tmpdir, name, NULL);

      g_unlink (path);
      g_free (path);
    }
    if (d)
      g_dir_close (d);
  }
  g_rmdir (tmpdir);
  g_free (tmpdir);
  return 0;
}
