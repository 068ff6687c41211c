/* The segmenter decoding MJPEG itself at the model's scale against
 * jpegdec's full-size decode: real photos (python3-skimage's astronaut,
 * coffee and chelsea) scaled to 1280x720 and 1920x1080 and encoded as a
 * webcam would (jpegenc, 4:2:0), each segmented both ways with the
 * temporal filter off. On photos with a person the foreground masks must
 * agree to IoU >= 0.99 and the probabilities within 1% on average. On
 * photos without one (coffee, the cat, a rocket) the selfie model's
 * foreground is weak, ragged and sensitive to any change of the input (the
 * full-size decode is sampled by 2 of every 5 pixels, the 1/2 decode has
 * been low-passed by the DCT): their IoU is printed, not checked, and the
 * probabilities must agree within 10%.
 * Also: the scale choice, a grayscale JPEG (the RGB path), a corrupt
 * frame (an element error, not a crash), and output-size=frame giving
 * masks of the camera's size, not the decode's. */
#include <gst/app/app.h>
#include <gst/gst.h>
#include <stdlib.h>
#include <string.h>

#include "../../plugins/segjpeg.h"
#include "common.h"
#include "segmeta.h"

static gchar *model;

/* One JPEG of `photo` at w x h (transfer full), or NULL when the photo is
 * not installed. */
static GBytes *
encode (const gchar *photo, gint w, gint h, const gchar *format)
{
  gchar *desc = g_strdup_printf ("filesrc location=%s ! decodebin ! "
                                 "imagefreeze num-buffers=1 ! videoconvert ! "
                                 "videoscale ! "
                                 "video/x-raw,format=%s,width=%d,height=%d ! "
                                 "jpegenc quality=85 ! "
                                 "appsink name=out sync=false",
      photo, format, w, h);
  GstElement *p = gst_parse_launch (desc, NULL);
  GstElement *sink;
  GstSample *sample;
  GBytes *bytes = NULL;

  CHECK (p != NULL, "cannot build %s", desc);
  sink = gst_bin_get_by_name (GST_BIN (p), "out");
  gst_element_set_state (p, GST_STATE_PLAYING);
  sample = gst_app_sink_try_pull_sample (GST_APP_SINK (sink), 60 * GST_SECOND);
  if (sample) {
    GstMapInfo map;

    gst_buffer_map (gst_sample_get_buffer (sample), &map, GST_MAP_READ);
    bytes = g_bytes_new (map.data, map.size);
    gst_buffer_unmap (gst_sample_get_buffer (sample), &map);
    gst_sample_unref (sample);
  }
  gst_element_set_state (p, GST_STATE_NULL);
  gst_object_unref (sink);
  gst_object_unref (p);
  g_free (desc);
  return bytes;
}

/* The class map (transfer full, w x h) and its size after `chain`. */
static guint8 *
segment (GBytes *jpeg, gint w, gint h, const gchar *chain, const gchar *props,
    guint *mw, guint *mh, gboolean *failed, guint8 **prob)
{
  gchar *desc = g_strdup_printf ("appsrc name=src format=time caps="
                                 "image/jpeg,width=%d,height=%d,framerate=30/1 "
                                 "! %s segmenter "
                                 "model=\"%s\" threads=1 smoothing=0 %s ! "
                                 "appsink name=out sync=false",
      w, h, chain, model, props);
  GstElement *p = gst_parse_launch (desc, NULL);
  GstElement *src, *sink;
  GstSample *sample;
  guint8 *mask = NULL;
  GstBuffer *buf;

  CHECK (p != NULL, "cannot build %s", desc);
  src = gst_bin_get_by_name (GST_BIN (p), "src");
  sink = gst_bin_get_by_name (GST_BIN (p), "out");
  CHECK (gst_element_set_state (p, GST_STATE_PLAYING)
          != GST_STATE_CHANGE_FAILURE,
      "%s does not start", desc);
  buf = gst_buffer_new_wrapped_bytes (jpeg);
  GST_BUFFER_PTS (buf) = 0;
  gst_app_src_push_buffer (GST_APP_SRC (src), buf);
  gst_app_src_end_of_stream (GST_APP_SRC (src));
  sample = gst_app_sink_try_pull_sample (GST_APP_SINK (sink), 60 * GST_SECOND);
  *failed = sample == NULL;
  if (sample) {
    GstSegMeta *meta = gst_buffer_get_seg_meta (gst_sample_get_buffer (sample));

    CHECK (meta != NULL, "%s: no mask", chain);
    *mw = meta->width;
    *mh = meta->height;
    mask = g_malloc ((gsize) meta->width * meta->height);
    if (prob)
      *prob = g_malloc ((gsize) meta->width * meta->height);
    for (guint y = 0; y < meta->height; y++) {
      memcpy (mask + (gsize) y * meta->width,
          meta->classes + (gsize) y * meta->stride, meta->width);
      if (prob)
        memcpy (*prob + (gsize) y * meta->width,
            meta->probability + (gsize) y * meta->stride, meta->width);
    }
    gst_sample_unref (sample);
  }
  gst_element_set_state (p, GST_STATE_NULL);
  gst_object_unref (src);
  gst_object_unref (sink);
  gst_object_unref (p);
  g_free (desc);
  return mask;
}

static void
test_scale_choice (void)
{
  CHECK (seg_jpeg_scale_denom (1280, 720, 256, 256) == 2, "720p -> 1/2");
  CHECK (seg_jpeg_scale_denom (1920, 1080, 256, 256) == 4, "1080p -> 1/4");
  CHECK (seg_jpeg_scale_denom (2048, 2048, 256, 256) == 8, "2048 -> 1/8");
  CHECK (seg_jpeg_scale_denom (640, 480, 256, 256) == 1, "480p: full");
  CHECK (seg_jpeg_scale_denom (1280, 720, 256, 144) == 4, "landscape");
  /* 1025 / 4 rounds up to 257 in libjpeg */
  CHECK (seg_jpeg_scale_denom (1025, 1025, 257, 257) == 4, "rounding up");
  CHECK (seg_jpeg_scale_denom (1280, 720, 0, 0) == 1, "no minimum");
}

static void
test_photos (void)
{
  /* with people, then without (the selfie model's foreground there is
   * weak and ragged, so a mask's IoU says little; its probabilities must
   * still agree) */
  static const gchar *photos[] = {"astronaut.png", "camera.png",
      "/usr/share/matplotlib/mpl-data/sample_data/grace_hopper.jpg",
      "coffee.png", "chelsea.png", "rocket.jpg"};
  const guint with_people = 3;
  static const struct
  {
    gint w, h;
  } sizes[] = {{1280, 720}, {1920, 1080}};
  const gchar *dir = "/usr/lib/python3/dist-packages/skimage/data";

  for (guint i = 0; i < G_N_ELEMENTS (photos); i++)
    for (guint s = 0; s < G_N_ELEMENTS (sizes); s++) {
      gchar *path = g_path_is_absolute (photos[i])
          ? g_strdup (photos[i])
          : g_build_filename (dir, photos[i], NULL);
      gint w = sizes[s].w, h = sizes[s].h;
      GBytes *jpeg = g_file_test (path, G_FILE_TEST_EXISTS)
          ? encode (path, w, h, "I420")
          : NULL;
      guint aw = 0, ah = 0, bw = 0, bh = 0, inter = 0, uni = 0;
      gboolean failed;
      guint8 *a, *b, *pa = NULL, *pb = NULL;
      gdouble diff = 0, iou;

      if (!g_file_test (path, G_FILE_TEST_EXISTS)) {
        printf ("skip %s: not installed\n", photos[i]);
        g_free (path);
        continue;
      }
      if (!jpeg) {
        printf ("skip %s: not installed\n", photos[i]);
        g_free (path);
        continue;
      }
      a = segment (jpeg, w, h, "jpegdec !", "", &aw, &ah, &failed, &pa);
      CHECK (!failed, "%s: jpegdec pipeline failed", photos[i]);
      b = segment (jpeg, w, h, "", "", &bw, &bh, &failed, &pb);
      CHECK (!failed, "%s: segmenter did not decode", photos[i]);
      CHECK (aw == bw && ah == bh, "mask sizes %ux%u, %ux%u", aw, ah, bw, bh);
      for (gsize k = 0; k < (gsize) aw * ah; k++) {
        inter += a[k] && b[k];
        uni += a[k] || b[k];
        diff += abs ((int) pa[k] - (int) pb[k]);
      }
      iou = uni ? (double) inter / uni : 1.0;
      diff /= 255.0 * aw * ah;
      printf ("%s %dx%d: foreground %u px, IoU %.4f, mean |dp| %.4f\n",
          photos[i], w, h, uni, iou, diff);
      CHECK (i >= with_people || iou >= 0.99,
          "%s %dx%d: IoU %.4f below "
          "0.99",
          photos[i], w, h, iou);
      CHECK (diff <= (i < with_people ? 0.01 : 0.1),
          "%s %dx%d: "
          "probabilities differ by %.4f",
          photos[i], w, h, diff);
      g_free (a);
      g_free (b);
      g_free (pa);
      g_free (pb);
      g_bytes_unref (jpeg);
      g_free (path);
    }
}

static void
test_gray_and_frame_size (void)
{
  const gchar *photo = "/usr/lib/python3/dist-packages/skimage/data/"
                       "camera.png";
  GBytes *jpeg = encode (photo, 1280, 720, "GRAY8");
  guint w = 0, h = 0;
  gboolean failed;
  guint8 *m;

  if (!jpeg) {
    printf ("skip gray: camera.png not installed\n");
    return;
  }
  m = segment (jpeg, 1280, 720, "", "output-size=frame", &w, &h, &failed, NULL);
  CHECK (!failed && m, "grayscale JPEG not segmented");
  CHECK (w == 1280 && h == 720, "output-size=frame gave %ux%u", w, h);
  g_free (m);
  g_bytes_unref (jpeg);
}

/* Frames between inferences (interval=2: the temporal filter tracks the
 * mask on each decoded frame), latest mode (the worker decodes the
 * buffer's memory) and a shared engine (decoded on the streaming thread,
 * run on the engine's) all give masks. */
static void
test_modes (void)
{
  const gchar *photo = "/usr/lib/python3/dist-packages/skimage/data/"
                       "astronaut.png";
  static const gchar *props[] = {"interval=2", "mode=latest",
      "engine=jpeg-test"};
  GBytes *jpeg = encode (photo, 1280, 720, "I420");

  if (!jpeg) {
    printf ("skip modes: astronaut.png not installed\n");
    return;
  }
  for (guint m = 0; m < G_N_ELEMENTS (props); m++) {
    gchar *desc =
        g_strdup_printf ("appsrc name=src format=time caps="
                         "image/jpeg,width=1280,height=720,framerate=30/1 ! "
                         "segmenter "
                         "model=\"%s\" threads=1 %s ! appsink name=out "
                         "sync=false",
            model, props[m]);
    GstElement *p = gst_parse_launch (desc, NULL);
    GstElement *src = gst_bin_get_by_name (GST_BIN (p), "src");
    GstElement *sink = gst_bin_get_by_name (GST_BIN (p), "out");
    guint masks = 0, frames = 0;
    GstSample *sample;

    gst_element_set_state (p, GST_STATE_PLAYING);
    for (guint i = 0; i < 6; i++) {
      GstBuffer *buf = gst_buffer_new_wrapped_bytes (jpeg);

      GST_BUFFER_PTS (buf) = i * GST_SECOND / 30;
      gst_app_src_push_buffer (GST_APP_SRC (src), buf);
      /* latest mode: give the worker time to finish one */
      if (m == 1)
        g_usleep (50000);
    }
    gst_app_src_end_of_stream (GST_APP_SRC (src));
    while ((sample = gst_app_sink_try_pull_sample (GST_APP_SINK (sink),
                30 * GST_SECOND))) {
      frames++;
      masks += gst_buffer_get_seg_meta (gst_sample_get_buffer (sample)) != NULL;
      gst_sample_unref (sample);
    }
    CHECK (frames == 6, "%s: %u of 6 frames came out", props[m], frames);
    CHECK (m == 1 ? masks >= 1 : masks == 6, "%s: %u masks", props[m], masks);
    gst_element_set_state (p, GST_STATE_NULL);
    gst_object_unref (src);
    gst_object_unref (sink);
    gst_object_unref (p);
    g_free (desc);
  }
  g_bytes_unref (jpeg);
}

static void
test_corrupt (void)
{
  static const guint8 junk[] = {0xff, 0xd8, 0xff, 0xe0, 0, 16, 'J', 'F', 'I',
      'F', 0, 1, 2, 3, 4, 5, 6, 7, 8, 9};
  GBytes *jpeg = g_bytes_new_static (junk, sizeof junk);
  guint w, h;
  gboolean failed;
  guint8 *m = segment (jpeg, 64, 64, "", "", &w, &h, &failed, NULL);

  CHECK (failed && !m, "a corrupt JPEG gave a mask");
  g_bytes_unref (jpeg);
}

int
main (int argc, char **argv)
{
  gst_init (&argc, &argv);
  model = test_model ("selfie_segmentation.tflite");
  test_scale_choice ();
  test_photos ();
  test_gray_and_frame_size ();
  test_modes ();
  test_corrupt ();
  g_free (model);
  printf ("segjpeg tests passed\n");
  return 0;
}
