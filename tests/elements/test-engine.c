/* Several `segmenter` elements sharing one engine (engine=NAME): three
 * streams in one pipeline all get every frame segmented, with stats that
 * name the engine; an engine's mask equals a private model's on the same
 * frame; a second model under the same engine name fails to start; a
 * pipeline stopped while frames wait on the engine does not hang. */
#include "common.h"
#include "segmeta.h"

#include <gst/app/gstappsink.h>
#include <gst/app/gstappsrc.h>
#include <gst/video/video.h>
#include <string.h>

#define W 160
#define H 120
#define FRAMES 20
#define STREAMS 3

static gchar *square_model, *landscape_model;

static GstBuffer *
frame (guint64 index, guint32 *rng)
{
  GstBuffer *buf = test_random_buffer (W * H * 3, rng);

  GST_BUFFER_PTS (buf) = index * GST_SECOND / 30;
  GST_BUFFER_DURATION (buf) = GST_SECOND / 30;
  return buf;
}

static GstElement *
three_streams (const gchar *extra)
{
  GString *desc = g_string_new (NULL);
  GError *error = NULL;
  GstElement *pipeline;

  for (guint i = 0; i < STREAMS; i++)
    g_string_append_printf (desc,
        "appsrc name=src%u format=time "
        "caps=video/x-raw,format=RGB,width=%d,height=%d,framerate=30/1 ! "
        "segmenter name=seg%u engine=test-engine threads=2 weight=%u "
        "model=\"%s\" %s ! appsink name=sink%u sync=false ",
        i, W, H, i, i + 1, square_model, extra, i);
  pipeline = gst_parse_launch (desc->str, &error);
  CHECK (pipeline, "%s", error ? error->message : "?");
  g_string_free (desc, TRUE);
  return pipeline;
}

static GstElement *
get (GstElement *pipeline, const gchar *fmt, guint i)
{
  gchar *name = g_strdup_printf (fmt, i);
  GstElement *e = gst_bin_get_by_name (GST_BIN (pipeline), name);

  CHECK (e, "no %s", name);
  g_free (name);
  return e;
}

static void
test_three_streams (void)
{
  GstElement *pipeline = three_streams ("");
  GstBus *bus = gst_element_get_bus (pipeline);
  GstMessage *msg;
  guint32 rng = 7;

  CHECK (gst_element_set_state (pipeline, GST_STATE_PLAYING)
          != GST_STATE_CHANGE_FAILURE,
      "PLAYING");
  for (guint i = 0; i < STREAMS; i++) {
    GstElement *src = get (pipeline, "src%u", i);

    for (guint f = 0; f < FRAMES; f++)
      gst_app_src_push_buffer (GST_APP_SRC (src), frame (f, &rng));
    gst_app_src_end_of_stream (GST_APP_SRC (src));
    gst_object_unref (src);
  }
  for (guint i = 0; i < STREAMS; i++) {
    GstElement *sink = get (pipeline, "sink%u", i);
    guint got = 0;

    for (;;) {
      GstSample *sample = gst_app_sink_pull_sample (GST_APP_SINK (sink));
      GstSegMeta *meta;

      if (!sample)
        break;
      meta = gst_buffer_get_seg_meta (gst_sample_get_buffer (sample));
      CHECK (meta && meta->age_frames == 0,
          "stream %u: frame %u has no "
          "mask of its own",
          i, got);
      got++;
      gst_sample_unref (sample);
    }
    CHECK (got == FRAMES, "stream %u: %u of %d frames", i, got, FRAMES);
    gst_object_unref (sink);
  }
  msg = gst_bus_timed_pop_filtered (bus, 30 * GST_SECOND,
      GST_MESSAGE_EOS | GST_MESSAGE_ERROR);
  CHECK (msg && GST_MESSAGE_TYPE (msg) == GST_MESSAGE_EOS, "EOS");
  gst_message_unref (msg);

  for (guint i = 0; i < STREAMS; i++) {
    GstElement *seg = get (pipeline, "seg%u", i);
    GstStructure *s = NULL;
    guint64 inferences = 0;
    gdouble weight = 0, p99 = 0;

    g_object_get (seg, "stats", &s, NULL);
    CHECK (s
            && !g_strcmp0 (gst_structure_get_string (s, "engine"),
                "test-engine"),
        "stats name the engine");
    gst_structure_get_uint64 (s, "inferences", &inferences);
    gst_structure_get_double (s, "weight", &weight);
    gst_structure_get_double (s, "latency-p99-ms", &p99);
    CHECK (inferences == FRAMES, "stream %u: %" G_GUINT64_FORMAT " inferences",
        i, inferences);
    CHECK (weight == i + 1, "weight %g", weight);
    CHECK (p99 > 0, "latency measured");
    gst_structure_free (s);
    gst_object_unref (seg);
  }
  gst_element_set_state (pipeline, GST_STATE_NULL);
  gst_object_unref (bus);
  gst_object_unref (pipeline);
}

static GstSegMeta *
one_mask (GstHarness *hr, GstBuffer *in, GstBuffer **out)
{
  *out = gst_harness_push_and_pull (hr, in);
  CHECK (*out, "no buffer out");
  return gst_buffer_get_seg_meta (*out);
}

/* The engine runs the same network on the same pixels: the mask is the
 * private element's, byte for byte. */
static void
test_same_mask_as_private (void)
{
  guint32 rng = 3;
  GstBuffer *in = frame (0, &rng), *a, *b;
  GstElement *p = gst_element_factory_make ("segmenter", NULL);
  GstElement *e = gst_element_factory_make ("segmenter", NULL);
  GstHarness *priv, *shared;
  GstSegMeta *ma, *mb;
  GstStructure *s = NULL;

  g_object_set (p, "model", square_model, "threads", 1, NULL);
  g_object_set (e, "model", square_model, "engine", "eq", "threads", 1, NULL);
  priv = test_harness_new (p, "", "RGB", W, H);
  shared = test_harness_new (e, "", "RGB", W, H);
  ma = one_mask (priv, gst_buffer_ref (in), &a);
  mb = one_mask (shared, in, &b);
  CHECK (ma && mb, "masks");
  CHECK (ma->width == mb->width && ma->height == mb->height, "size");
  for (guint y = 0; y < ma->height; y++)
    CHECK (!memcmp (ma->probability + y * ma->stride,
               mb->probability + y * mb->stride, ma->width),
        "row %u", y);
  g_object_get (shared->element, "stats", &s, NULL);
  CHECK (!g_strcmp0 (gst_structure_get_string (s, "engine"), "eq"),
      "the engine ran it");
  gst_structure_free (s);
  gst_buffer_unref (a);
  gst_buffer_unref (b);
  gst_harness_teardown (priv);
  gst_harness_teardown (shared);
}

/* One engine, one model: a second model under the same name is refused
 * with a message naming both. */
static void
test_other_model_refused (void)
{
  GstElement *e = gst_element_factory_make ("segmenter", NULL);
  GstElement *b = gst_element_factory_make ("segmenter", NULL);
  GstBus *bus = gst_bus_new ();
  GstHarness *a;
  GstMessage *msg;
  GError *err = NULL;

  g_object_set (e, "model", square_model, "engine", "one", NULL);
  a = test_harness_new (e, "", "RGB", W, H);
  g_object_set (b, "model", landscape_model, "engine", "one", NULL);
  gst_element_set_bus (b, bus);
  CHECK (gst_element_set_state (b, GST_STATE_PAUSED)
          == GST_STATE_CHANGE_FAILURE,
      "a second model under one engine");
  msg = gst_bus_pop_filtered (bus, GST_MESSAGE_ERROR);
  CHECK (msg, "error message");
  gst_message_parse_error (msg, &err, NULL);
  CHECK (strstr (err->message, "already runs"), "%s", err->message);
  g_error_free (err);
  gst_message_unref (msg);
  gst_element_set_state (b, GST_STATE_NULL);
  gst_object_unref (b);
  gst_object_unref (bus);
  gst_harness_teardown (a);
}

/* Stopping while streaming threads wait on a one-worker engine. */
static void
test_stop_while_waiting (void)
{
  for (guint round = 0; round < 3; round++) {
    GstElement *pipeline = three_streams ("");
    guint32 rng = 11;

    for (guint i = 0; i < STREAMS; i++) {
      GstElement *seg = get (pipeline, "seg%u", i);

      g_object_set (seg, "threads", 1, NULL);
      gst_object_unref (seg);
    }
    gst_element_set_state (pipeline, GST_STATE_PLAYING);
    for (guint i = 0; i < STREAMS; i++) {
      GstElement *src = get (pipeline, "src%u", i);

      for (guint f = 0; f < FRAMES; f++)
        gst_app_src_push_buffer (GST_APP_SRC (src), frame (f, &rng));
      gst_object_unref (src);
    }
    g_usleep (20000 * round);
    CHECK (gst_element_set_state (pipeline, GST_STATE_NULL)
            == GST_STATE_CHANGE_SUCCESS,
        "stopped");
    gst_object_unref (pipeline);
  }
}

int
main (int argc, char **argv)
{
  gst_init (&argc, &argv);
  square_model = test_model ("selfie_segmentation.tflite");
  landscape_model = test_model ("selfie_segmentation_landscape.tflite");
  if (!g_file_test (square_model, G_FILE_TEST_EXISTS)) {
    fprintf (stderr, "skip: %s missing\n", square_model);
    return 77;
  }
  test_three_streams ();
  test_same_mask_as_private ();
  test_other_model_refused ();
  test_stop_while_waiting ();
  g_free (square_model);
  g_free (landscape_model);
  printf ("engine: ok\n");
  return 0;
}
