/* Pixel checks of `segoverlay`, one per mode, on synthetic frames carrying
 * a synthetic GstSegMeta (built directly, no network): tint in every
 * packed RGB format, outline, blur, replace by colour and by image, alpha,
 * mask, the guided edge refinement, and buffers without a mask. */
#include "common.h"
#include "segmeta.h"

#include <glib/gstdio.h>
#include <gst/check/gstharness.h>
#include <gst/video/video.h>
#include <string.h>

#define W 32
#define H 16

typedef void (*PixelFn) (guint x, guint y, guint8 rgb[3], gpointer data);

static GstHarness *
new_overlay (const gchar *props, const gchar *format, guint w, guint h)
{
  GstElement *e = gst_element_factory_make ("segoverlay", NULL);

  CHECK (e != NULL, "no segoverlay element");
  return test_harness_new (e, props, format, (gint) w, (gint) h);
}

static GstBuffer *
make_frame (const gchar *format, guint w, guint h, PixelFn fn, gpointer data)
{
  GstVideoInfo info;
  GstVideoFrame f;
  GstBuffer *buf;

  gst_video_info_set_format (&info, gst_video_format_from_string (format), w,
      h);
  buf = gst_buffer_new_allocate (NULL, info.size, NULL);
  gst_buffer_memset (buf, 0, 0x77, info.size);
  gst_video_frame_map (&f, &info, buf, GST_MAP_WRITE);
  if (GST_VIDEO_INFO_IS_RGB (&info)) {
    for (guint y = 0; y < h; y++)
      for (guint x = 0; x < w; x++) {
        guint8 rgb[3];
        guint8 *p = (guint8 *) GST_VIDEO_FRAME_PLANE_DATA (&f, 0)
            + y * GST_VIDEO_FRAME_PLANE_STRIDE (&f, 0)
            + x * GST_VIDEO_FRAME_COMP_PSTRIDE (&f, 0);

        fn (x, y, rgb, data);
        for (guint c = 0; c < 3; c++)
          p[GST_VIDEO_FRAME_COMP_POFFSET (&f, c)] = rgb[c];
      }
  }
  gst_video_frame_unmap (&f);
  return buf;
}

static void
read_rgb (const GstVideoFrame *f, guint x, guint y, guint8 rgb[3])
{
  const guint8 *p = (const guint8 *) GST_VIDEO_FRAME_PLANE_DATA (f, 0)
      + y * GST_VIDEO_FRAME_PLANE_STRIDE (f, 0)
      + x * GST_VIDEO_FRAME_COMP_PSTRIDE (f, 0);

  for (guint c = 0; c < 3; c++)
    rgb[c] = p[GST_VIDEO_FRAME_COMP_POFFSET (f, c)];
}

/* Foreground (probability 255, class 1) where x >= split (in mask pixels);
 * `ramp` instead fills the probability with 8 * x. */
static void
add_mask (GstBuffer *buf, guint mw, guint mh, guint split, gboolean ramp)
{
  const gchar *labels[] = {"background", "person"};
  GstSegMask *mask =
      gst_seg_mask_new (mw, mh, TRUE, TRUE, 2, labels, "synthetic", "00");
  guint8 *prob = gst_seg_mask_get_probability (mask);
  guint8 *cls = gst_seg_mask_get_classes (mask);
  guint stride = gst_seg_mask_get_stride (mask);

  for (guint y = 0; y < mh; y++)
    for (guint x = 0; x < mw; x++) {
      prob[y * stride + x] =
          ramp ? (guint8) MIN (8 * x, 255) : (x >= split ? 255 : 0);
      cls[y * stride + x] = prob[y * stride + x] >= 128;
    }
  gst_buffer_add_seg_meta (buf, mask, 0, 0, 0, 0);
  gst_seg_mask_unref (mask);
}

static void
solid (guint x, guint y, guint8 rgb[3], gpointer data)
{
  const guint8 *c = data;

  memcpy (rgb, c, 3);
}

static void
checker (guint x, guint y, guint8 rgb[3], gpointer data)
{
  guint8 v = ((x + y) & 1) ? 255 : 0;

  rgb[0] = rgb[1] = rgb[2] = v;
}

static void
step (guint x, guint y, guint8 rgb[3], gpointer data)
{
  guint8 v = x >= GPOINTER_TO_UINT (data) ? 230 : 20;

  rgb[0] = rgb[1] = rgb[2] = v;
}

/* Pushes `in`, pulls and maps the output (caller unmaps and unrefs). */
static GstBuffer *
run (GstHarness *hr, GstBuffer *in, GstVideoFrame *out)
{
  GstBuffer *buf;
  GstVideoInfo info;
  GstCaps *caps;

  CHECK (gst_harness_push (hr, in) == GST_FLOW_OK, "push");
  buf = gst_harness_pull (hr);
  CHECK (buf != NULL, "no output");
  caps = gst_pad_get_current_caps (hr->sinkpad);
  CHECK (caps && gst_video_info_from_caps (&info, caps), "output caps");
  gst_caps_unref (caps);
  CHECK (gst_video_frame_map (out, &info, buf, GST_MAP_READ), "map");
  return buf;
}

static void
test_tint_formats (void)
{
  static const gchar *formats[] = {"RGB", "BGR", "RGBx", "BGRx", "xRGB", "xBGR",
      "RGBA", "BGRA"};
  guint8 base[3] = {10, 20, 30};

  for (guint i = 0; i < G_N_ELEMENTS (formats); i++)
    for (guint half = 0; half < 2; half++) {
      GstHarness *hr = new_overlay (half
              ? "mode=tint refine=none opacity=0.5 color=0xff0000ff"
              : "mode=tint refine=none opacity=1.0 color=0xff0000ff",
          formats[i], W, H);
      GstBuffer *in = make_frame (formats[i], W, H, solid, base), *out;
      GstVideoFrame f;

      add_mask (in, W, H, W / 2, FALSE);
      out = run (hr, in, &f);
      for (guint y = 0; y < H; y++)
        for (guint x = 0; x < W; x++) {
          guint8 p[3];

          read_rgb (&f, x, y, p);
          if (x < W / 2)
            CHECK (p[0] == 10 && p[1] == 20 && p[2] == 30,
                "%s: background changed at %u,%u", formats[i], x, y);
          else if (!half)
            CHECK (p[0] == 0 && p[1] == 0 && p[2] == 255,
                "%s: tint at %u,%u is %u,%u,%u", formats[i], x, y, p[0], p[1],
                p[2]);
          else
            CHECK (ABS (p[0] - 5) <= 1 && ABS (p[1] - 10) <= 1
                    && ABS (p[2] - 142) <= 1,
                "%s: half tint %u,%u,%u", formats[i], p[0], p[1], p[2]);
        }
      gst_video_frame_unmap (&f);
      gst_buffer_unref (out);
      gst_harness_teardown (hr);
    }
}

static void
test_outline (void)
{
  GstHarness *hr = new_overlay ("mode=outline refine=none outline-width=2 "
                                "color=0xffff0000",
      "RGB", W, H);
  guint8 grey[3] = {100, 100, 100};
  GstBuffer *in = make_frame ("RGB", W, H, solid, grey), *out;
  GstVideoFrame f;

  add_mask (in, W, H, W / 2, FALSE);
  out = run (hr, in, &f);
  for (guint y = 0; y < H; y++)
    for (guint x = 0; x < W; x++) {
      guint8 p[3];
      gboolean line = x == W / 2 || x == W / 2 + 1;

      read_rgb (&f, x, y, p);
      if (line)
        CHECK (p[0] == 255 && p[1] == 0 && p[2] == 0, "no outline at %u,%u", x,
            y);
      else
        CHECK (p[0] == 100 && p[1] == 100 && p[2] == 100, "pixel %u,%u changed",
            x, y);
    }
  gst_video_frame_unmap (&f);
  gst_buffer_unref (out);
  gst_harness_teardown (hr);
}

static void
test_blur (void)
{
  GstHarness *hr =
      new_overlay ("mode=blur refine=none blur-radius=2", "BGRx", W, H);
  GstBuffer *in = make_frame ("BGRx", W, H, checker, NULL), *out;
  GstVideoFrame f;

  add_mask (in, W, H, W / 2, FALSE);
  out = run (hr, in, &f);
  for (guint y = 0; y < H; y++)
    for (guint x = 0; x < W; x++) {
      guint8 p[3], want = ((x + y) & 1) ? 255 : 0;

      read_rgb (&f, x, y, p);
      if (x >= W / 2)
        CHECK (p[0] == want && p[1] == want && p[2] == want,
            "foreground changed at %u,%u", x, y);
      else if (x >= 3 && x < W / 2 - 3 && y >= 3 && y < H - 3)
        CHECK (p[0] > 100 && p[0] < 155,
            "background not blurred at %u,%u: "
            "%u",
            x, y, p[0]);
    }
  gst_video_frame_unmap (&f);
  gst_buffer_unref (out);
  gst_harness_teardown (hr);
}

static void
check_replace (GstHarness *hr, const guint8 bg[3])
{
  guint8 base[3] = {1, 2, 3};
  GstBuffer *in = make_frame ("xBGR", W, H, solid, base), *out;
  GstVideoFrame f;

  add_mask (in, W, H, W / 2, FALSE);
  out = run (hr, in, &f);
  for (guint y = 0; y < H; y++)
    for (guint x = 0; x < W; x++) {
      guint8 p[3];
      const guint8 *want = x < W / 2 ? bg : base;

      read_rgb (&f, x, y, p);
      CHECK (ABS (p[0] - want[0]) <= 1 && ABS (p[1] - want[1]) <= 1
              && ABS (p[2] - want[2]) <= 1,
          "replace at %u,%u: %u,%u,%u", x, y, p[0], p[1], p[2]);
    }
  gst_video_frame_unmap (&f);
  gst_buffer_unref (out);
}

static void
test_replace (void)
{
  const guint8 colour[3] = {0x10, 0x20, 0x30}, image[3] = {0x40, 0x50, 0x60};
  GstHarness *hr = new_overlay ("mode=replace refine=none "
                                "background-color=0xff102030",
      "xBGR", W, H);
  gchar *dir = g_dir_make_tmp ("segd-test-XXXXXX", NULL);
  gchar *png = g_build_filename (dir, "bg.png", NULL);
  gchar *desc =
      g_strdup_printf ("videotestsrc num-buffers=1 "
                       "pattern=solid-color foreground-color=0xff405060 ! "
                       "video/x-raw,format=RGB,width=8,height=8 ! pngenc ! "
                       "filesink "
                       "location=\"%s\"",
          png);
  GstElement *writer = gst_parse_launch (desc, NULL);
  GstMessage *msg;
  gchar *props;

  check_replace (hr, colour);
  gst_harness_teardown (hr);

  CHECK (writer != NULL, "cannot build %s", desc);
  gst_element_set_state (writer, GST_STATE_PLAYING);
  msg = gst_bus_timed_pop_filtered (GST_ELEMENT_BUS (writer), 30 * GST_SECOND,
      GST_MESSAGE_EOS | GST_MESSAGE_ERROR);
  CHECK (msg && GST_MESSAGE_TYPE (msg) == GST_MESSAGE_EOS, "png not written");
  gst_message_unref (msg);
  gst_element_set_state (writer, GST_STATE_NULL);
  gst_object_unref (writer);

  props = g_strdup_printf ("mode=replace refine=none background=%s", png);
  hr = new_overlay (props, "xBGR", W, H);
  check_replace (hr, image);
  gst_harness_teardown (hr);

  g_unlink (png);
  g_rmdir (dir);
  g_free (props);
  g_free (desc);
  g_free (png);
  g_free (dir);
}

static void
test_alpha (void)
{
  GstHarness *hr = new_overlay ("mode=alpha refine=none", "BGRx", W, H);
  guint8 base[3] = {200, 100, 50};
  GstBuffer *in = make_frame ("BGRx", W, H, solid, base), *out;
  GstVideoFrame f;

  add_mask (in, W, H, 0, TRUE);
  out = run (hr, in, &f);
  CHECK (GST_VIDEO_FRAME_FORMAT (&f) == GST_VIDEO_FORMAT_RGBA, "not RGBA");
  for (guint y = 0; y < H; y++)
    for (guint x = 0; x < W; x++) {
      const guint8 *p = (const guint8 *) GST_VIDEO_FRAME_PLANE_DATA (&f, 0)
          + y * GST_VIDEO_FRAME_PLANE_STRIDE (&f, 0) + x * 4;

      CHECK (p[0] == 200 && p[1] == 100 && p[2] == 50, "colour at %u,%u", x, y);
      CHECK (p[3] == MIN (8 * x, 255), "alpha at %u,%u: %u", x, y, p[3]);
    }
  gst_video_frame_unmap (&f);
  gst_buffer_unref (out);
  gst_harness_teardown (hr);
}

static void
test_mask (void)
{
  GstHarness *hr = new_overlay ("mode=mask refine=none", "I420", W, H);
  GstVideoInfo info;
  GstBuffer *in, *out;
  GstVideoFrame f;

  gst_video_info_set_format (&info, GST_VIDEO_FORMAT_I420, W, H);
  in = gst_buffer_new_allocate (NULL, info.size, NULL);
  gst_buffer_memset (in, 0, 128, info.size);
  add_mask (in, W, H, 0, TRUE);
  out = run (hr, in, &f);
  CHECK (GST_VIDEO_FRAME_FORMAT (&f) == GST_VIDEO_FORMAT_GRAY8, "not GRAY8");
  for (guint y = 0; y < H; y++)
    for (guint x = 0; x < W; x++) {
      guint8 v = ((const guint8 *) GST_VIDEO_FRAME_PLANE_DATA (&f,
          0))[y * GST_VIDEO_FRAME_PLANE_STRIDE (&f, 0) + x];

      CHECK (v == MIN (8 * x, 255), "mask at %u,%u: %u", x, y, v);
    }
  gst_video_frame_unmap (&f);
  gst_buffer_unref (out);

  /* Without a meta: no foreground anywhere. */
  in = gst_buffer_new_allocate (NULL, info.size, NULL);
  gst_buffer_memset (in, 0, 128, info.size);
  out = run (hr, in, &f);
  for (guint y = 0; y < H; y++)
    for (guint x = 0; x < W; x++)
      CHECK (((const guint8 *) GST_VIDEO_FRAME_PLANE_DATA (&f,
                 0))[y * GST_VIDEO_FRAME_PLANE_STRIDE (&f, 0) + x]
              == 0,
          "mask without meta");
  gst_video_frame_unmap (&f);
  gst_buffer_unref (out);
  gst_harness_teardown (hr);
}

/* Middle row of the mask of a frame whose luma steps at x = 30, with an
 * 8x4 mask whose edge (between mask columns 3 and 4) upsamples to x = 32:
 * the model put the edge 2 px off and blurred it. */
static void
edge_row (const gchar *refine, guint8 row[64])
{
  gchar *props = g_strdup_printf ("mode=mask refine=%s", refine);
  GstHarness *hr = new_overlay (props, "RGB", 64, 32);
  GstBuffer *in = make_frame ("RGB", 64, 32, step, GUINT_TO_POINTER (30));
  GstBuffer *out;
  GstVideoFrame f;

  add_mask (in, 8, 4, 4, FALSE);
  out = run (hr, in, &f);
  memcpy (row,
      (const guint8 *) GST_VIDEO_FRAME_PLANE_DATA (&f, 0)
          + 16 * GST_VIDEO_FRAME_PLANE_STRIDE (&f, 0),
      64);
  gst_video_frame_unmap (&f);
  gst_buffer_unref (out);
  gst_harness_teardown (hr);
  g_free (props);
}

static guint
max_step (const guint8 row[64])
{
  guint m = 0;

  for (guint x = 1; x < 64; x++)
    m = MAX (m, (guint) ABS (row[x] - row[x - 1]));
  return m;
}

static void
test_refine (void)
{
  guint8 plain[64], guided[64];

  edge_row ("none", plain);
  edge_row ("guided", guided);
  printf ("largest step between neighbours: plain %u, guided %u\n",
      max_step (plain), max_step (guided));
  /* Plain: a ramp centred on the model's edge at 32. */
  CHECK (plain[31] < 128 && plain[32] >= 128, "plain edge moved");
  CHECK (max_step (plain) <= 40, "plain upsampling has no ramp");
  /* Guided: the edge jumps at the frame's own edge and is sharp. */
  CHECK (guided[29] < 128 && guided[30] >= 128,
      "guided edge not on the luma edge: %u %u", guided[29], guided[30]);
  CHECK (max_step (guided) >= 3 * max_step (plain), "guided edge not sharp");
  CHECK (plain[4] == 0 && plain[60] == 255 && guided[4] < 10
          && guided[60] > 245,
      "far pixels moved");
}

static void
test_no_meta_tint (void)
{
  GstHarness *hr = new_overlay ("mode=tint", "RGB", W, H);
  guint8 base[3] = {9, 8, 7};
  GstBuffer *out;
  GstVideoFrame f;

  out = run (hr, make_frame ("RGB", W, H, solid, base), &f);
  for (guint y = 0; y < H; y++)
    for (guint x = 0; x < W; x++) {
      guint8 p[3];

      read_rgb (&f, x, y, p);
      CHECK (p[0] == 9 && p[1] == 8 && p[2] == 7, "tint without a mask");
    }
  gst_video_frame_unmap (&f);
  gst_buffer_unref (out);
  gst_harness_teardown (hr);
}

int
main (int argc, char **argv)
{
  gst_init (&argc, &argv);
  test_tint_formats ();
  test_outline ();
  test_blur ();
  test_replace ();
  test_alpha ();
  test_mask ();
  test_refine ();
  test_no_meta_tint ();
  printf ("segoverlay tests passed\n");
  return 0;
}
