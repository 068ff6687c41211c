/* Tests of the `segmenter` element through GstHarness: every input format
 * negotiates and passes unchanged (same memory) with a mask of the right
 * size; interval, with the temporal filter following motion and cuts
 * between inferences; latest mode keeps buffers flowing while inference is
 * slower; model swap while playing; bad models fail the state change with
 * a message; the meta survives copies, tee and queue. */
#include "common.h"
#include "segmeta.h"

#include <gst/app/gstappsink.h>
#include <gst/app/gstappsrc.h>
#include <gst/check/gstharness.h>
#include <gst/video/video.h>
#include <glib/gstdio.h>
#include <string.h>

#define SQUARE_SHA256 \
  "8d13b7fae74af625c641226813616a2117bd6bca19eb3b75574621fc08557f27"

static gchar *square_model, *landscape_model;

/* Every segmenter under test runs the square model on one thread, so
 * results do not depend on the machine. */
static GstHarness *
new_harness (const gchar *props, const gchar *format, gint w, gint h)
{
  GstElement *e = gst_element_factory_make ("segmenter", NULL);

  CHECK (e != NULL, "no segmenter element");
  g_object_set (e, "model", square_model, "threads", 1, NULL);
  return test_harness_new (e, props, format, w, h);
}

static GstBuffer *
frame_buffer (const gchar *format, gint w, gint h, guint64 index, guint32 *rng)
{
  GstVideoInfo info;
  GstBuffer *buf;

  gst_video_info_set_format (&info, gst_video_format_from_string (format), w,
      h);
  buf = test_random_buffer (info.size, rng);
  GST_BUFFER_PTS (buf) = index * GST_SECOND / 30;
  GST_BUFFER_DURATION (buf) = GST_SECOND / 30;
  return buf;
}

static GstStructure *
get_stats (GstHarness *hr)
{
  GstStructure *s = NULL;

  g_object_get (hr->element, "stats", &s, NULL);
  CHECK (s != NULL, "no stats");
  return s;
}

static guint64
stat_u64 (GstHarness *hr, const gchar *field)
{
  GstStructure *s = get_stats (hr);
  guint64 v = 0;

  CHECK (gst_structure_get_uint64 (s, field, &v), "no %s in stats", field);
  gst_structure_free (s);
  return v;
}

static void
test_formats (void)
{
  static const gchar *formats[] = {"RGB", "BGR", "RGBx", "BGRx", "xRGB", "xBGR",
      "RGBA", "BGRA", "NV12", "I420", "YUY2"};
  guint32 rng = 1;

  for (guint f = 0; f < G_N_ELEMENTS (formats); f++) {
    GstHarness *hr = new_harness ("", formats[f], 96, 64);

    for (guint64 i = 0; i < 2; i++) {
      GstBuffer *in = frame_buffer (formats[f], 96, 64, i, &rng);
      GstBuffer *keep = gst_buffer_ref (in), *out;
      GstMapInfo a, b;
      GstSegMeta *meta;

      CHECK (gst_harness_push (hr, in) == GST_FLOW_OK, "push %s", formats[f]);
      out = gst_harness_pull (hr);
      CHECK (out != NULL, "no output for %s", formats[f]);
      gst_buffer_map (keep, &a, GST_MAP_READ);
      gst_buffer_map (out, &b, GST_MAP_READ);
      CHECK (a.size == b.size && memcmp (a.data, b.data, a.size) == 0,
          "%s: pixels changed", formats[f]);
      CHECK (a.data == b.data, "%s: pixels were copied", formats[f]);
      gst_buffer_unmap (out, &b);
      gst_buffer_unmap (keep, &a);

      meta = gst_buffer_get_seg_meta (out);
      CHECK (meta != NULL, "%s: no meta", formats[f]);
      CHECK (meta->width == 256 && meta->height == 256, "%s: mask %ux%u",
          formats[f], meta->width, meta->height);
      CHECK (meta->stride >= meta->width, "stride %u", meta->stride);
      CHECK (meta->classes && meta->probability, "%s: planes", formats[f]);
      CHECK (meta->num_classes == 2 && !strcmp (meta->labels[1], "person"),
          "labels");
      CHECK (!strcmp (meta->model_name, "selfie_segmentation.tflite"),
          "model name %s", meta->model_name);
      CHECK (!strcmp (meta->model_sha256, SQUARE_SHA256), "sha256");
      CHECK (meta->pts == GST_BUFFER_PTS (out), "pts");
      CHECK (meta->age_frames == 0 && meta->age == 0, "age");
      CHECK (meta->latency > 0, "latency");
      for (guint y = 0; y < meta->height; y++)
        for (guint x = 0; x < meta->width; x++) {
          guint8 p = meta->probability[y * meta->stride + x];
          guint8 c = meta->classes[y * meta->stride + x];

          CHECK (c == (p >= 128), "class %u for probability %u", c, p);
        }
      gst_buffer_unref (out);
      gst_buffer_unref (keep);
    }
    gst_harness_teardown (hr);
  }
}

static void
test_output_size_frame (void)
{
  GstHarness *hr = new_harness ("output-size=frame", "I420", 120, 90);
  guint32 rng = 2;
  GstBuffer *out;
  GstSegMeta *meta;

  gst_harness_push (hr, frame_buffer ("I420", 120, 90, 0, &rng));
  out = gst_harness_pull (hr);
  meta = gst_buffer_get_seg_meta (out);
  CHECK (meta && meta->width == 120 && meta->height == 90, "frame size");
  gst_buffer_unref (out);
  gst_harness_teardown (hr);
}

/* A random RGB picture of w x h (transfer full), the view at (ox, oy) of
 * `canvas` (cw pixels wide) as a frame with PTS for `index`. */
static GstBuffer *
view_buffer (const guint8 *canvas, gint cw, gint ox, gint oy, gint w, gint h,
    guint64 index)
{
  GstBuffer *buf = gst_buffer_new_allocate (NULL, (gsize) w * h * 3, NULL);
  GstMapInfo map;

  gst_buffer_map (buf, &map, GST_MAP_WRITE);
  for (gint y = 0; y < h; y++)
    memcpy (map.data + (gsize) y * w * 3,
        canvas + ((gsize) (y + oy) * cw + ox) * 3, (gsize) w * 3);
  gst_buffer_unmap (buf, &map);
  GST_BUFFER_PTS (buf) = index * GST_SECOND / 30;
  GST_BUFFER_DURATION (buf) = GST_SECOND / 30;
  return buf;
}

/* interval=3: inference on frames 0, 3, 6; in between the age counts up.
 * On a still scene the mask itself is reused; with smoothing=0 it is
 * reused whatever the frames show (the behaviour before the temporal
 * filter). */
static void
test_interval (void)
{
  static const gchar *const props[] = {"interval=3", "interval=3 smoothing=0"};

  for (guint p = 0; p < G_N_ELEMENTS (props); p++) {
    GstHarness *hr = new_harness (props[p], "RGB", 64, 48);
    const guint8 *first = NULL;
    guint32 rng = 3;
    GstBuffer *still = frame_buffer ("RGB", 64, 48, 0, &rng);

    for (guint64 i = 0; i < 7; i++) {
      GstBuffer *in, *out;
      GstSegMeta *meta;

      if (p == 0) {
        in = gst_buffer_copy_deep (still);
        GST_BUFFER_PTS (in) = i * GST_SECOND / 30;
      } else {
        in = frame_buffer ("RGB", 64, 48, i, &rng);
      }
      gst_harness_push (hr, in);
      out = gst_harness_pull (hr);
      meta = gst_buffer_get_seg_meta (out);
      CHECK (meta != NULL, "frame %" G_GUINT64_FORMAT " has no meta", i);
      CHECK (meta->age_frames == i % 3,
          "%s: frame %" G_GUINT64_FORMAT " age %" G_GUINT64_FORMAT, props[p], i,
          meta->age_frames);
      CHECK (meta->age == (i % 3) * GST_SECOND / 30, "age ns");
      if (i % 3 == 0)
        first = meta->probability;
      else
        CHECK (meta->probability == first, "%s: mask not reused", props[p]);
      gst_buffer_unref (out);
    }
    CHECK (stat_u64 (hr, "inferences") == 3, "inferences %" G_GUINT64_FORMAT,
        stat_u64 (hr, "inferences"));
    CHECK (stat_u64 (hr, "frames-in") == 7, "frames-in");
    gst_buffer_unref (still);
    gst_harness_teardown (hr);
  }
}

/* interval=3 on a panning view: frames between inferences get a mask of
 * their own (the last one moved along), still aged from the inference; a
 * cut between inferences is segmented at once rather than waiting. */
static void
test_interval_motion (void)
{
  GstHarness *hr = new_harness ("interval=3", "RGB", 64, 48);
  guint32 rng = 5;
  GstBuffer *canvas_buf = test_random_buffer (96 * 72 * 3, &rng);
  GstBuffer *other = test_random_buffer (96 * 72 * 3, &rng);
  const guint8 *first = NULL;
  GstMapInfo canvas, cut;
  GstBuffer *out;
  GstSegMeta *meta;

  gst_buffer_map (canvas_buf, &canvas, GST_MAP_READ);
  gst_buffer_map (other, &cut, GST_MAP_READ);
  for (guint64 i = 0; i < 6; i++) {
    /* Sideways only: the thumbnail of a 64-wide frame has one column per
     * pixel, so the random picture moves by whole thumbnail pixels (a
     * fractional shift of noise would match no shift: a cut). */
    gst_harness_push (hr, view_buffer (canvas.data, 96, 10 + i, 8, 64, 48, i));
    out = gst_harness_pull (hr);
    meta = gst_buffer_get_seg_meta (out);
    CHECK (meta != NULL, "frame %" G_GUINT64_FORMAT " has no meta", i);
    CHECK (meta->age_frames == i % 3,
        "frame %" G_GUINT64_FORMAT " age %" G_GUINT64_FORMAT, i,
        meta->age_frames);
    if (i % 3 == 0)
      first = meta->probability;
    else
      CHECK (meta->probability != first,
          "frame %" G_GUINT64_FORMAT ": a moving view kept the old mask", i);
    gst_buffer_unref (out);
  }
  CHECK (stat_u64 (hr, "inferences") == 2,
      "pan taken for a cut: %" G_GUINT64_FORMAT " inferences",
      stat_u64 (hr, "inferences"));

  /* Frame 6 is due; frame 7 is another scene. */
  gst_buffer_unref (gst_harness_push_and_pull (hr,
      view_buffer (canvas.data, 96, 16, 8, 64, 48, 6)));
  out = gst_harness_push_and_pull (hr,
      view_buffer (cut.data, 96, 0, 0, 64, 48, 7));
  meta = gst_buffer_get_seg_meta (out);
  CHECK (meta && meta->age_frames == 0, "cut not segmented at once");
  gst_buffer_unref (out);
  CHECK (stat_u64 (hr, "inferences") == 4, "inferences %" G_GUINT64_FORMAT,
      stat_u64 (hr, "inferences"));

  gst_buffer_unmap (canvas_buf, &canvas);
  gst_buffer_unmap (other, &cut);
  gst_buffer_unref (canvas_buf);
  gst_buffer_unref (other);
  gst_harness_teardown (hr);
}

static void
test_latest (void)
{
  /* A larger frame than the model's input, so each inference also pays
   * for the resize; 200 frames arrive much faster than 200 inferences. */
  GstHarness *hr = new_harness ("mode=latest", "RGB", 640, 480);
  const guint n = 200;
  guint32 rng = 4;
  GstBuffer *templ = frame_buffer ("RGB", 640, 480, 0, &rng), *out;
  GstSegMeta *meta;
  guint64 inferences;

  for (guint i = 0; i < n; i++) {
    GstBuffer *buf = gst_buffer_copy_deep (templ);

    GST_BUFFER_PTS (buf) = i * GST_SECOND / 30;
    CHECK (gst_harness_push (hr, buf) == GST_FLOW_OK, "push %u", i);
  }
  CHECK (gst_harness_buffers_received (hr) == n, "%u of %u buffers out",
      gst_harness_buffers_received (hr), n);
  CHECK (stat_u64 (hr, "frames-in") == n, "frames-in");
  /* However fast the worker is, each frame is either handed to it or
   * counted as dropped: once it is done, the two add up to the frames in.
   * (Whether it drops depends on its speed, so that is not asserted.) */
  for (guint i = 0;
       i < 2000 && stat_u64 (hr, "inferences") + stat_u64 (hr, "dropped") < n;
       i++)
    g_usleep (10000);
  inferences = stat_u64 (hr, "inferences");
  CHECK (inferences + stat_u64 (hr, "dropped") == n,
      "%" G_GUINT64_FORMAT " inferences + %" G_GUINT64_FORMAT
      " dropped of %u frames",
      inferences, stat_u64 (hr, "dropped"), n);
  for (guint i = 0; i < n; i++)
    gst_buffer_unref (gst_harness_pull (hr));

  /* Wait (bounded) for one result, then a buffer must carry a mask whose
   * age matches its frame count. The new frame goes to the idle worker
   * before the element reads the newest result, so a fast worker may
   * already have segmented this very frame: age 0 is a valid answer. */
  for (guint i = 0; i < 2000 && stat_u64 (hr, "inferences") == 0; i++)
    g_usleep (10000);
  CHECK (stat_u64 (hr, "inferences") > 0, "worker never finished");
  GST_BUFFER_PTS (templ) = n * GST_SECOND / 30;
  gst_harness_push (hr, templ);
  out = gst_harness_pull (hr);
  meta = gst_buffer_get_seg_meta (out);
  CHECK (meta != NULL, "no mask after the worker finished");
  CHECK (meta->age_frames <= n, "age %" G_GUINT64_FORMAT, meta->age_frames);
  /* PTS are rounded down to the ns, hence the slack. */
  CHECK (ABS (
             (gint64) meta->age - (gint64) (meta->age_frames * GST_SECOND / 30))
          <= 1,
      "age ns");
  gst_buffer_unref (out);

  CHECK (gst_harness_query_latency (hr) == 0, "latest adds latency");
  gst_harness_teardown (hr);
}

static void
test_latency_sync (void)
{
  GstHarness *hr = new_harness ("", "RGB", 64, 48);
  guint32 rng = 5;

  gst_harness_push (hr, frame_buffer ("RGB", 64, 48, 0, &rng));
  gst_buffer_unref (gst_harness_pull (hr));
  CHECK (gst_harness_query_latency (hr) > 0, "sync mode reports no latency");
  gst_harness_teardown (hr);
}

/* Pops messages of `types` until one satisfies `match` (or 30 s pass). */
static GstMessage *
wait_message (GstBus *bus, GstMessageType types, const gchar *structure)
{
  for (;;) {
    GstMessage *msg = gst_bus_timed_pop_filtered (bus, 30 * GST_SECOND, types);

    if (!msg)
      return NULL;
    if (!structure
        || (gst_message_get_structure (msg)
            && gst_message_has_name (msg, structure)))
      return msg;
    gst_message_unref (msg);
  }
}

static GstSegMeta *
push_and_meta (GstHarness *hr, guint64 index, GstBuffer **out, guint32 *rng)
{
  gst_harness_push (hr, frame_buffer ("RGB", 64, 48, index, rng));
  *out = gst_harness_pull (hr);
  return gst_buffer_get_seg_meta (*out);
}

static void
test_model_swap (void)
{
  GstHarness *hr = new_harness ("", "RGB", 64, 48);
  GstBus *bus = gst_bus_new ();
  GstBuffer *out;
  GstSegMeta *meta;
  GstMessage *msg;
  GError *err = NULL;
  gchar *debug = NULL;
  guint32 rng = 6;

  gst_element_set_bus (hr->element, bus);
  meta = push_and_meta (hr, 0, &out, &rng);
  CHECK (meta && meta->height == 256, "square model first");
  gst_buffer_unref (out);

  g_object_set (hr->element, "model", landscape_model, NULL);
  /* Buffers keep flowing with the old model while the new one loads. */
  meta = push_and_meta (hr, 1, &out, &rng);
  CHECK (meta != NULL, "no mask during the swap");
  gst_buffer_unref (out);
  msg = wait_message (bus, GST_MESSAGE_ELEMENT, "segmenter-model");
  CHECK (msg != NULL, "no segmenter-model message");
  CHECK (!strcmp (gst_structure_get_string (gst_message_get_structure (msg),
                      "name"),
             "selfie_segmentation_landscape.tflite"),
      "swap name");
  gst_message_unref (msg);
  meta = push_and_meta (hr, 2, &out, &rng);
  CHECK (meta && meta->width == 256 && meta->height == 144,
      "landscape mask %ux%u", meta ? meta->width : 0, meta ? meta->height : 0);
  CHECK (!strcmp (meta->model_name, "selfie_segmentation_landscape.tflite"),
      "model %s", meta->model_name);
  gst_buffer_unref (out);

  g_object_set (hr->element, "model", "/nonexistent/model.tflite", NULL);
  msg = wait_message (bus, GST_MESSAGE_WARNING, NULL);
  CHECK (msg != NULL, "no warning for a failed swap");
  gst_message_parse_warning (msg, &err, &debug);
  CHECK (strstr (err->message, "/nonexistent/model.tflite") != NULL,
      "warning does not name the file: %s", err->message);
  g_clear_error (&err);
  g_free (debug);
  gst_message_unref (msg);
  meta = push_and_meta (hr, 3, &out, &rng);
  CHECK (meta && meta->height == 144, "old model not kept");
  gst_buffer_unref (out);

  gst_element_set_bus (hr->element, NULL);
  gst_object_unref (bus);
  gst_harness_teardown (hr);
}

/* Two threads keep swapping the model while frames flow (as
 * gst-plugins-good's tests stress properties): every frame still gets a
 * mask, and each mask has the size of the model it names. */
static void
test_model_swap_stress (void)
{
  GstHarness *hr = new_harness ("", "RGB", 64, 48);
  GValue square = G_VALUE_INIT, landscape = G_VALUE_INIT;
  GstHarnessThread *t[2];
  guint32 rng = 8;
  guint swaps = 0;

  g_value_init (&square, G_TYPE_STRING);
  g_value_set_string (&square, square_model);
  g_value_init (&landscape, G_TYPE_STRING);
  g_value_set_string (&landscape, landscape_model);
  t[0] = gst_harness_stress_property_start_full (hr, "model", &square, 20000);
  t[1] =
      gst_harness_stress_property_start_full (hr, "model", &landscape, 23000);
  for (guint i = 0; i < 150; i++) {
    GstBuffer *out;
    GstSegMeta *meta = push_and_meta (hr, i, &out, &rng);
    gboolean is_square;

    CHECK (meta != NULL, "frame %u got no mask while the model changed", i);
    is_square = !strcmp (meta->model_name, "selfie_segmentation.tflite");
    CHECK (meta->width == 256 && meta->height == (is_square ? 256u : 144u),
        "frame %u: %ux%u mask from %s", i, meta->width, meta->height,
        meta->model_name);
    gst_buffer_unref (out);
  }
  for (guint i = 0; i < 2; i++)
    swaps += gst_harness_stress_thread_stop (t[i]);
  CHECK (swaps > 2, "only %u model sets", swaps);
  g_value_unset (&square);
  g_value_unset (&landscape);
  gst_harness_teardown (hr);
}

static void
check_bad_model (const gchar *path, const gchar *reason)
{
  GstElement *e = gst_element_factory_make ("segmenter", NULL);
  GstBus *bus = gst_bus_new ();
  GstMessage *msg;
  GError *err = NULL;
  gchar *debug = NULL;

  CHECK (e != NULL, "no segmenter element");
  gst_element_set_bus (e, bus);
  g_object_set (e, "model", path, NULL);
  CHECK (gst_element_set_state (e, GST_STATE_PLAYING)
          == GST_STATE_CHANGE_FAILURE,
      "state change succeeded with %s", path);
  msg = gst_bus_pop_filtered (bus, GST_MESSAGE_ERROR);
  CHECK (msg != NULL, "no error message for %s", path);
  gst_message_parse_error (msg, &err, &debug);
  CHECK (strstr (err->message, path) != NULL, "message does not name %s: %s",
      path, err->message);
  CHECK (strstr (err->message, reason) != NULL, "message lacks '%s': %s",
      reason, err->message);
  g_clear_error (&err);
  g_free (debug);
  gst_message_unref (msg);
  gst_element_set_state (e, GST_STATE_NULL);
  gst_element_set_bus (e, NULL);
  gst_object_unref (bus);
  gst_object_unref (e);
}

static void
test_bad_model (void)
{
  gchar *dir = g_dir_make_tmp ("segd-test-XXXXXX", NULL);
  gchar *junk = g_build_filename (dir, "junk.tflite", NULL);
  guint8 bytes[4096];
  guint32 rng = 7;

  for (gsize i = 0; i < sizeof bytes; i++)
    bytes[i] = (guint8) test_rand (&rng);
  CHECK (g_file_set_contents (junk, (const gchar *) bytes, sizeof bytes, NULL),
      "write %s", junk);
  check_bad_model ("/nonexistent/dir/model.tflite", "Could not load");
  check_bad_model (junk, "malformed");
  g_unlink (junk);
  g_rmdir (dir);
  g_free (junk);
  g_free (dir);
}

static void
test_meta_copies (void)
{
  GstBuffer *buf = gst_buffer_new_allocate (NULL, 64, NULL), *copy;
  const gchar *labels[] = {"background", "person"};
  GstSegMask *mask = gst_seg_mask_new (5, 3, TRUE, FALSE, 2, labels, "m", "00");
  GstSegMeta *meta, *cmeta;

  CHECK (mask && gst_seg_mask_get_stride (mask) == 8, "stride");
  CHECK (gst_seg_mask_get_probability (mask) == NULL, "unasked plane");
  gst_seg_mask_get_classes (mask)[8 + 2] = 1;
  meta = gst_buffer_add_seg_meta (buf, mask, 10, 20, 3, 40);
  gst_seg_mask_unref (mask);
  CHECK (meta && meta->classes[8 + 2] == 1, "meta view");

  copy = gst_buffer_copy (buf);
  cmeta = gst_buffer_get_seg_meta (copy);
  CHECK (cmeta && cmeta->classes == meta->classes, "copy shares the mask");
  CHECK (cmeta->pts == 10 && cmeta->latency == 20 && cmeta->age_frames == 3
          && cmeta->age == 40,
      "copy keeps the fields");
  CHECK (!strcmp (cmeta->labels[1], "person"), "labels");
  gst_buffer_unref (buf);
  /* The mask outlives the original buffer. */
  CHECK (cmeta->classes[8 + 2] == 1, "mask freed with its first buffer");
  gst_buffer_unref (copy);

  buf = gst_buffer_new_allocate (NULL, 64, NULL);
  mask = gst_seg_mask_new (4, 4, FALSE, TRUE, 2, NULL, NULL, NULL);
  gst_buffer_add_seg_meta (buf, mask, 0, 0, 0, 0);
  gst_seg_mask_unref (mask);
  copy = gst_buffer_copy_region (buf, GST_BUFFER_COPY_ALL, 0, 32);
  CHECK (gst_buffer_get_seg_meta (copy) == NULL, "region copy kept meta");
  gst_buffer_unref (copy);
  gst_buffer_unref (buf);

  CHECK (gst_seg_mask_new (0, 4, TRUE, TRUE, 2, NULL, NULL, NULL) == NULL,
      "empty mask");
  CHECK (gst_seg_mask_new (4, 4, FALSE, FALSE, 2, NULL, NULL, NULL) == NULL,
      "no planes");
}

static void
test_tee_queue (void)
{
  gchar *desc =
      g_strdup_printf ("appsrc name=src format=time caps="
                       "video/"
                       "x-raw,format=BGRx,width=80,height=60,framerate=30/1 "
                       "! segmenter model=\"%s\" threads=1 ! tee name=t "
                       "t. ! queue ! appsink name=a sync=false "
                       "t. ! queue ! appsink name=b sync=false",
          square_model);
  GstElement *pipeline = gst_parse_launch (desc, NULL);
  GstElement *src, *sinks[2];
  guint32 rng = 8;

  CHECK (pipeline != NULL, "cannot build %s", desc);
  src = gst_bin_get_by_name (GST_BIN (pipeline), "src");
  sinks[0] = gst_bin_get_by_name (GST_BIN (pipeline), "a");
  sinks[1] = gst_bin_get_by_name (GST_BIN (pipeline), "b");
  CHECK (gst_element_set_state (pipeline, GST_STATE_PLAYING)
          != GST_STATE_CHANGE_FAILURE,
      "pipeline does not start");
  for (guint64 i = 0; i < 3; i++)
    gst_app_src_push_buffer (GST_APP_SRC (src),
        frame_buffer ("BGRx", 80, 60, i, &rng));
  gst_app_src_end_of_stream (GST_APP_SRC (src));

  for (guint s = 0; s < 2; s++)
    for (guint64 i = 0; i < 3; i++) {
      GstSample *sample = gst_app_sink_try_pull_sample (GST_APP_SINK (sinks[s]),
          60 * GST_SECOND);
      GstSegMeta *meta;

      CHECK (sample != NULL, "branch %u: no buffer %" G_GUINT64_FORMAT, s, i);
      meta = gst_buffer_get_seg_meta (gst_sample_get_buffer (sample));
      CHECK (meta && meta->width == 256 && meta->height == 256,
          "branch %u: meta lost after tee + queue", s);
      CHECK (meta->pts == i * GST_SECOND / 30, "pts");
      gst_sample_unref (sample);
    }
  gst_element_set_state (pipeline, GST_STATE_NULL);
  gst_object_unref (sinks[0]);
  gst_object_unref (sinks[1]);
  gst_object_unref (src);
  gst_object_unref (pipeline);
  g_free (desc);
}

int
main (int argc, char **argv)
{
  gst_init (&argc, &argv);
  square_model = test_model ("selfie_segmentation.tflite");
  landscape_model = test_model ("selfie_segmentation_landscape.tflite");

  test_meta_copies ();
  test_formats ();
  test_output_size_frame ();
  test_interval ();
  test_interval_motion ();
  test_latency_sync ();
  test_latest ();
  test_model_swap ();
  test_model_swap_stress ();
  test_bad_model ();
  test_tee_queue ();

  g_free (square_model);
  g_free (landscape_model);
  printf ("segmenter element tests passed\n");
  return 0;
}
