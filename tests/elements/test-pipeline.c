/* A real pipeline: a photo of a person (the astronaut from Debian's
 * python3-skimage) through imagefreeze ! videoconvert ! segmenter !
 * segoverlay mode=mask; the mask must cover her face and torso and leave
 * the flag and the shuttle in the background. */
#include "common.h"

#include <gst/app/gstappsink.h>
#include <gst/video/video.h>

/* Mean of the GRAY8 frame over [x0, x1) x [y0, y1). */
static gdouble
box_mean (const GstVideoFrame *f, guint x0, guint y0, guint x1, guint y1)
{
  const guint8 *data = GST_VIDEO_FRAME_PLANE_DATA (f, 0);
  gint stride = GST_VIDEO_FRAME_PLANE_STRIDE (f, 0);
  gdouble sum = 0;

  for (guint y = y0; y < y1; y++)
    for (guint x = x0; x < x1; x++)
      sum += data[(gsize) y * stride + x];
  return sum / ((x1 - x0) * (y1 - y0));
}

int
main (int argc, char **argv)
{
  const gchar *image = g_getenv ("SEG_TEST_IMAGE");
  gchar *model, *desc;
  GstElement *pipeline, *sink;
  guint frames = 0;
  GError *err = NULL;

  gst_init (&argc, &argv);
  if (!image || !g_file_test (image, G_FILE_TEST_EXISTS)) {
    printf ("SKIP: no test image (python3-skimage)\n");
    return 77;
  }
  model = test_model ("selfie_segmentation.tflite");
  desc = g_strdup_printf ("filesrc location=\"%s\" ! pngdec ! imagefreeze "
                          "num-buffers=2 ! videoconvert ! segmenter "
                          "model=\"%s\" ! segoverlay "
                          "mode=mask ! appsink name=sink sync=false",
      image, model);
  pipeline = gst_parse_launch (desc, &err);
  CHECK (pipeline != NULL && err == NULL, "cannot build %s: %s", desc,
      err ? err->message : "");
  sink = gst_bin_get_by_name (GST_BIN (pipeline), "sink");
  CHECK (gst_element_set_state (pipeline, GST_STATE_PLAYING)
          != GST_STATE_CHANGE_FAILURE,
      "pipeline does not start");

  for (;;) {
    GstSample *sample =
        gst_app_sink_try_pull_sample (GST_APP_SINK (sink), 60 * GST_SECOND);
    GstVideoInfo info;
    GstVideoFrame f;
    gdouble face, torso, flag, shuttle;

    if (!sample)
      break;
    CHECK (gst_video_info_from_caps (&info, gst_sample_get_caps (sample)),
        "caps");
    CHECK (GST_VIDEO_INFO_FORMAT (&info) == GST_VIDEO_FORMAT_GRAY8
            && info.width == 512 && info.height == 512,
        "mask is %s %dx%d",
        gst_video_format_to_string (GST_VIDEO_INFO_FORMAT (&info)), info.width,
        info.height);
    gst_video_frame_map (&f, &info, gst_sample_get_buffer (sample),
        GST_MAP_READ);
    face = box_mean (&f, 200, 70, 260, 130);
    torso = box_mean (&f, 150, 300, 300, 420);
    flag = box_mean (&f, 10, 10, 70, 70);
    shuttle = box_mean (&f, 430, 10, 500, 60);
    gst_video_frame_unmap (&f);
    gst_sample_unref (sample);
    printf ("mask means: face %.1f torso %.1f flag %.1f shuttle %.1f\n", face,
        torso, flag, shuttle);
    CHECK (face > 200 && torso > 200, "person not covered");
    CHECK (flag < 40 && shuttle < 40, "background covered");
    frames++;
  }
  CHECK (frames == 2, "%u masks instead of 2", frames);

  gst_element_set_state (pipeline, GST_STATE_NULL);
  gst_object_unref (sink);
  gst_object_unref (pipeline);
  g_free (desc);
  g_free (model);
  printf ("pipeline test passed\n");
  return 0;
}
