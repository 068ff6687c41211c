/* ZeroMQ transport benchmark (`meson test --benchmark --suite zmq`): real
 * 640x480 masks of the astronaut photo (the selfie model's class map and
 * probability plane, from the real segmenter) go through zmqmasksink over
 * ipc:// to a libsegmask subscriber that decodes them, for each encoding.
 * Prints the compression ratio of each encoding on each plane, then
 * masks/s and MB/s (decoded mask bytes and bytes on the wire). At most
 * WINDOW masks are in flight, so nothing is dropped and the figure is
 * what a subscriber sustains, not how fast a publisher can discard. */
#include "../check.h"

#include <gst/app/gstappsink.h>
#include <gst/check/gstharness.h>
#include <glib/gstdio.h>
#include <gst/gst.h>
#include <segmask.h>
#include <segmeta.h>
#include <string.h>

#define WINDOW 8

typedef struct
{
  segmask_sub *sub;
  gint target;
  gint received; /* atomic */
  guint64 wire_bytes;
  gboolean failed;
} Receiver;

/* Runs the real segmenter once on the photo at 640x480 and returns the
 * mask it attached (transfer full). */
static GstSegMask *
photo_mask (void)
{
  g_autofree gchar *model = g_build_filename (g_getenv ("SEG_MODEL_DIR"),
      "selfie_segmentation.tflite", NULL);
  g_autofree gchar *desc =
      g_strdup_printf ("filesrc location=%s ! pngdec "
                       "! videoconvert ! videoscale ! "
                       "video/x-raw,format=RGB,width=640,"
                       "height=480 ! segmenter model=%s output-size=frame ! "
                       "appsink name=out",
          g_getenv ("SEG_TEST_IMAGE"), model);
  g_autoptr (GError) error = NULL;
  GstElement *pipe = gst_parse_launch (desc, &error);
  GstElement *out;
  GstSample *sample;
  GstSegMeta *meta;
  GstSegMask *mask;

  CHECK (pipe, "%s", error->message);
  out = gst_bin_get_by_name (GST_BIN (pipe), "out");
  gst_element_set_state (pipe, GST_STATE_PLAYING);
  sample = gst_app_sink_try_pull_sample (GST_APP_SINK (out), 60 * GST_SECOND);
  CHECK (sample, "no frame from the segmenter");
  meta = gst_buffer_get_seg_meta (gst_sample_get_buffer (sample));
  CHECK (meta && meta->width == 640 && meta->height == 480,
      "no 640x480 "
      "mask");
  CHECK (meta->classes && meta->probability,
      "the selfie model gives both "
      "planes");
  mask = gst_seg_mask_ref (gst_seg_meta_get_mask (meta));
  gst_sample_unref (sample);
  gst_element_set_state (pipe, GST_STATE_NULL);
  gst_object_unref (out);
  gst_object_unref (pipe);
  return mask;
}

static void
print_ratios (const guint8 *plane, gsize len, const gchar *what)
{
  segmask_codec *codec = segmask_codec_new ();
  gsize cap = segmask_payload_bound (SEGMASK_ENC_ZSTD, len);
  guint8 *dst;
  gsize n;

  cap = MAX (cap, segmask_payload_bound (SEGMASK_ENC_RLE, len));
  dst = g_malloc (cap);
  CHECK (codec, "codec");
  CHECK (segmask_payload_encode (codec, SEGMASK_ENC_RLE, 0, plane, len, dst,
             cap, &n)
          == SEGMASK_OK,
      "rle");
  printf ("%-12s raw %zu B  rle %zu B (%.1fx)", what, len, n, (double) len / n);
  for (int level = 1; level <= 3; level += 2) {
    CHECK (segmask_payload_encode (codec, SEGMASK_ENC_ZSTD, level, plane, len,
               dst, cap, &n)
            == SEGMASK_OK,
        "zstd");
    printf ("  zstd-%d %zu B (%.1fx)", level, n, (double) len / n);
  }
  printf ("\n");
  g_free (dst);
  segmask_codec_free (&codec);
}

static gpointer
receive (gpointer data)
{
  Receiver *r = data;
  gint64 end = g_get_monotonic_time () + 120 * G_USEC_PER_SEC;

  while (g_atomic_int_get (&r->received) < r->target
      && g_get_monotonic_time () < end) {
    segmask_msg *m = NULL;

    if (segmask_sub_recv (r->sub, 100, &m) != SEGMASK_OK)
      continue;
    if (m->header.type == SEGMASK_MSG_MASK) {
      r->wire_bytes += m->header.payload_len;
      g_atomic_int_inc (&r->received);
    }
    segmask_msg_free (&m);
  }
  r->failed = g_atomic_int_get (&r->received) < r->target;
  return NULL;
}

static void
run (GstSegMask *mask, const gchar *dir, const gchar *encoding,
    const gchar *kind, gint count, gboolean quiet)
{
  g_autofree gchar *endpoint =
      g_strdup_printf ("ipc://%s/bench-%s-%s.sock", dir, encoding, kind);
  GstElement *sink = gst_element_factory_make ("zmqmasksink", NULL);
  GstHarness *h;
  segmask_sub_options opt;
  Receiver r = {0};
  GThread *thread;
  char err[256];
  gint subs = 0;
  gint64 t0, t1, end;
  gdouble secs, raw_mb;

  CHECK (sink, "no zmqmasksink");
  gst_util_set_object_arg (G_OBJECT (sink), "encoding", encoding);
  gst_util_set_object_arg (G_OBJECT (sink), "mask-kind", kind);
  g_object_set (sink, "endpoint", endpoint, "stream-name", "bench", "sndhwm",
      64, NULL);
  h = gst_harness_new_with_element (sink, "sink", NULL);
  gst_object_unref (sink);
  gst_harness_set_src_caps_str (h,
      "video/x-raw,format=RGB,width=640,height=480,framerate=30/1");
  gst_harness_play (h);

  segmask_sub_options_init (&opt);
  opt.endpoint = endpoint;
  opt.stream = "bench";
  opt.rcvhwm = 64;
  CHECK (segmask_sub_new (&opt, &r.sub, err, sizeof err) == SEGMASK_OK, "%s",
      err);
  end = g_get_monotonic_time () + 10 * G_USEC_PER_SEC;
  while (subs < 1 && g_get_monotonic_time () < end) {
    g_object_get (h->element, "subscribers", &subs, NULL);
    g_usleep (1000);
  }
  CHECK (subs == 1, "subscriber did not connect");

  r.target = count;
  thread = g_thread_new ("receiver", receive, &r);
  t0 = g_get_monotonic_time ();
  for (gint i = 0; i < count && !r.failed; i++) {
    GstBuffer *buf = gst_buffer_new_allocate (NULL, 16, NULL);

    GST_BUFFER_PTS (buf) = i * GST_SECOND / 30;
    gst_buffer_add_seg_meta (buf, mask, GST_BUFFER_PTS (buf), 0, 0, 0);
    while (i - g_atomic_int_get (&r.received) >= WINDOW
        && g_get_monotonic_time () - t0 < 120 * G_USEC_PER_SEC)
      g_thread_yield ();
    CHECK (gst_harness_push (h, buf) == GST_FLOW_OK, "push");
  }
  g_thread_join (thread);
  t1 = g_get_monotonic_time ();
  CHECK (!r.failed, "%s/%s: received %d of %d", encoding, kind, r.received,
      count);
  secs = (t1 - t0) / 1e6;
  raw_mb = 640.0 * 480 * count / 1e6;
  if (!quiet)
    printf ("%-5s %-12s %7.0f masks/s  %7.1f MB/s of masks  %7.2f MB/s on "
            "the wire (%.0f B/mask)\n",
        encoding, kind, count / secs, raw_mb / secs, r.wire_bytes / 1e6 / secs,
        (double) r.wire_bytes / count);
  segmask_sub_free (&r.sub);
  gst_harness_teardown (h);
}

int
main (int argc, char **argv)
{
  const gchar *env = g_getenv ("SEGD_BENCH_MASKS");
  gint count = env ? atoi (env) : 5000;
  g_autoptr (GError) error = NULL;
  g_autofree gchar *dir = NULL;
  GstSegMask *mask;
  GstBuffer *probe;
  GstSegMeta *meta;

  gst_init (&argc, &argv);
  CHECK (g_getenv ("SEG_MODEL_DIR") && g_getenv ("SEG_TEST_IMAGE"),
      "SEG_MODEL_DIR and SEG_TEST_IMAGE must be set");
  CHECK (count > 0, "SEGD_BENCH_MASKS");
  dir = g_dir_make_tmp ("segd-bench-XXXXXX", &error);
  CHECK (dir, "%s", error->message);

  mask = photo_mask ();
  /* The planes through a meta: the public way to read them. */
  probe = gst_buffer_new ();
  meta = gst_buffer_add_seg_meta (probe, mask, 0, 0, 0, 0);
  printf ("astronaut.png, selfie model, 640x480 masks; compression "
          "(raw/encoded):\n");
  print_ratios (meta->classes, (gsize) meta->stride * meta->height,
      "class map");
  print_ratios (meta->probability, (gsize) meta->stride * meta->height,
      "probability");
  gst_buffer_unref (probe);

  printf ("throughput over ipc://, %d masks each, %d in flight, decoded by "
          "libsegmask:\n",
      count, WINDOW);
  /* Warm-up (page faults, libzmq's first connection): not reported. */
  run (mask, dir, "raw", "classes", MIN (count, 500), TRUE);
  for (const gchar *const *e = (const gchar *[]){"raw", "rle", "zstd", NULL};
       *e; e++)
    for (const gchar *const *k =
             (const gchar *[]){"classes", "probability", NULL};
         *k; k++)
      run (mask, dir, *e, *k, count, FALSE);

  gst_seg_mask_unref (mask);
  g_rmdir (dir);
  return 0;
}
