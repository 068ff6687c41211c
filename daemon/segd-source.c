/* segd-source — the source bins. Every bin ends in `videoconvert` (a
 * no-op when the segmenter takes the format as is) behind a ghost pad
 * `src`. Looping files are made seamless here: at the decoder's output a
 * probe swallows the end of each pass, seeks back and shifts the
 * timestamps of the next pass, so downstream sees one endless stream and
 * never a flush.
 */
#include "segd-source.h"

#include <gio/gio.h>
#include <gst/app/gstappsink.h>
#include <gst/video/video.h>
#include <math.h>
#include <string.h>

const gchar *const segd_demo_images[] = {
    "/usr/lib/python3/dist-packages/skimage/data/astronaut.png",
    NULL,
};

gchar *
segd_uri_for_display (const gchar *uri)
{
  const gchar *auth, *end, *at, *colon;

  if (!uri || !(auth = strstr (uri, "://")))
    return g_strdup (uri);
  auth += 3;
  end = auth + strcspn (auth, "/?#");
  at = g_strrstr_len (auth, end - auth, "@");
  colon = at ? memchr (auth, ':', at - auth) : NULL;
  if (!colon)
    return g_strdup (uri);
  return g_strdup_printf ("%.*s:***%s", (int) (colon - uri), uri, at);
}

static GstElement *
make (const gchar *factory, const gchar *name, GError **error)
{
  GstElement *e = gst_element_factory_make (factory, name);

  if (!e)
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
        "GStreamer element \"%s\" is not installed", factory);
  return e;
}

static GstCaps *
raw_caps (const SegdConfig *config, const gchar *format)
{
  GstCaps *caps = gst_caps_new_simple ("video/x-raw", "width", G_TYPE_INT,
      config->width, "height", G_TYPE_INT, config->height, "framerate",
      GST_TYPE_FRACTION, config->framerate, 1, NULL);

  if (format)
    gst_caps_set_simple (caps, "format", G_TYPE_STRING, format, NULL);
  return caps;
}

/* Adds `elements` to `bin`, links them in order and ghosts the last one's
 * src pad. Takes the floating references; on failure the bin (and all of
 * them) is destroyed. */
static GstElement *
finish_bin (GstElement *bin, GstElement **elements, guint n, GError **error)
{
  GstPad *pad;

  for (guint i = 0; i < n; i++)
    gst_bin_add (GST_BIN (bin), elements[i]);
  for (guint i = 0; i + 1 < n; i++) {
    if (!gst_element_link (elements[i], elements[i + 1])) {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "cannot link %s to %s",
          GST_ELEMENT_NAME (elements[i]), GST_ELEMENT_NAME (elements[i + 1]));
      gst_object_unref (gst_object_ref_sink (bin));
      return NULL;
    }
  }
  pad = gst_element_get_static_pad (elements[n - 1], "src");
  gst_element_add_pad (bin, gst_ghost_pad_new ("src", pad));
  gst_object_unref (pad);
  return bin;
}

static void
unref_all (GstElement **elements, guint n)
{
  for (guint i = 0; i < n; i++)
    if (elements[i])
      gst_object_unref (gst_object_ref_sink (elements[i]));
}

static void
decoder_pad_added (GstElement *decoder, GstPad *pad, gpointer user_data);

/* ---- demo: a photo, panned and zoomed ---- */

typedef struct
{
  guint8 *rgb; /* packed RGB, rows of width * 3 */
  gint width, height;
  guint64 frame;
  gint fps;
} Demo;

static void
demo_free (gpointer data)
{
  Demo *demo = data;

  g_free (demo->rgb);
  g_free (demo);
}

/* Decodes `path` to packed RGB with GStreamer's own decoders, once. */
static Demo *
demo_load (const gchar *path, GError **error)
{
  GstElement *pipe = NULL, *src, *dec, *conv, *sink;
  GstSample *sample = NULL;
  GstVideoInfo info;
  GstVideoFrame vf;
  Demo *demo = NULL;

  pipe = gst_pipeline_new ("segd-demo-decoder");
  src = gst_element_factory_make ("filesrc", NULL);
  dec = gst_element_factory_make ("decodebin", NULL);
  conv = gst_element_factory_make ("videoconvert", NULL);
  sink = gst_element_factory_make ("appsink", NULL);
  if (!src || !dec || !conv || !sink) {
    unref_all ((GstElement *[]){src, dec, conv, sink}, 4);
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
        "filesrc, decodebin, videoconvert or appsink is not installed");
    goto out;
  }
  g_object_set (src, "location", path, NULL);
  {
    GstCaps *caps = gst_caps_from_string ("video/x-raw,format=RGB");

    g_object_set (sink, "caps", caps, "sync", FALSE, NULL);
    gst_caps_unref (caps);
  }
  gst_bin_add_many (GST_BIN (pipe), src, dec, conv, sink, NULL);
  gst_element_link (src, dec);
  gst_element_link (conv, sink);
  g_signal_connect (dec, "pad-added", G_CALLBACK (decoder_pad_added), conv);

  gst_element_set_state (pipe, GST_STATE_PLAYING);
  sample = gst_app_sink_try_pull_sample (GST_APP_SINK (sink), 10 * GST_SECOND);
  if (!sample
      || !gst_video_info_from_caps (&info, gst_sample_get_caps (sample))) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
        "%s: could not decode the image", path);
    goto out;
  }
  if (!gst_video_frame_map (&vf, &info, gst_sample_get_buffer (sample),
          GST_MAP_READ)) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "%s: cannot map", path);
    goto out;
  }
  demo = g_new0 (Demo, 1);
  demo->width = GST_VIDEO_INFO_WIDTH (&info);
  demo->height = GST_VIDEO_INFO_HEIGHT (&info);
  demo->rgb = g_malloc ((gsize) demo->width * demo->height * 3);
  for (gint y = 0; y < demo->height; y++)
    memcpy (demo->rgb + (gsize) y * demo->width * 3,
        (guint8 *) GST_VIDEO_FRAME_PLANE_DATA (&vf, 0)
            + (gsize) y * GST_VIDEO_FRAME_PLANE_STRIDE (&vf, 0),
        (gsize) demo->width * 3);
  gst_video_frame_unmap (&vf);

out:
  if (sample)
    gst_sample_unref (sample);
  if (pipe) {
    gst_element_set_state (pipe, GST_STATE_NULL);
    gst_object_unref (pipe);
  }
  return demo;
}

/* Paints the photo into the (black) test frame: a viewport that covers the
 * frame, zooming between 1x and 1.5x and drifting across the photo on slow,
 * incommensurate periods so the person moves and changes size. */
static GstPadProbeReturn
demo_paint (GstPad *pad, GstPadProbeInfo *info, gpointer user_data)
{
  Demo *demo = user_data;
  GstBuffer *buf = GST_PAD_PROBE_INFO_BUFFER (info);
  GstVideoInfo vinfo;
  GstVideoFrame vf;
  GstCaps *caps;
  gdouble t, cover, zoom, vw, vh, cx, cy;
  gint fw, fh;

  caps = gst_pad_get_current_caps (pad);
  if (!caps)
    return GST_PAD_PROBE_OK;
  if (!gst_video_info_from_caps (&vinfo, caps)) {
    gst_caps_unref (caps);
    return GST_PAD_PROBE_OK;
  }
  gst_caps_unref (caps);

  buf = gst_buffer_make_writable (buf);
  GST_PAD_PROBE_INFO_DATA (info) = buf;
  if (!gst_video_frame_map (&vf, &vinfo, buf, GST_MAP_WRITE))
    return GST_PAD_PROBE_OK;

  fw = GST_VIDEO_INFO_WIDTH (&vinfo);
  fh = GST_VIDEO_INFO_HEIGHT (&vinfo);
  t = (gdouble) demo->frame++ / demo->fps;
  cover = MAX ((gdouble) fw / demo->width, (gdouble) fh / demo->height);
  zoom = 1.25 + 0.25 * sin (2 * G_PI * t / 11.0);
  vw = fw / (cover * zoom);
  vh = fh / (cover * zoom);
  cx = demo->width / 2.0 + (demo->width - vw) / 2.0 * sin (2 * G_PI * t / 7.0);
  cy = demo->height / 2.0
      + (demo->height - vh) / 2.0 * sin (2 * G_PI * t / 13.0);

  {
    guint8 *dst = GST_VIDEO_FRAME_PLANE_DATA (&vf, 0);
    gint stride = GST_VIDEO_FRAME_PLANE_STRIDE (&vf, 0);
    /* 16.16 fixed point source coordinates, nearest neighbour. */
    gint64 step_x = (gint64) (vw / fw * 65536.0);
    gint64 step_y = (gint64) (vh / fh * 65536.0);
    gint64 x0 = (gint64) ((cx - vw / 2) * 65536.0);
    gint64 sy = (gint64) ((cy - vh / 2) * 65536.0);

    for (gint y = 0; y < fh; y++, sy += step_y) {
      gint iy = CLAMP ((gint) (sy >> 16), 0, demo->height - 1);
      const guint8 *row = demo->rgb + (gsize) iy * demo->width * 3;
      guint8 *d = dst + (gsize) y * stride;
      gint64 sx = x0;

      for (gint x = 0; x < fw; x++, sx += step_x, d += 3) {
        gint ix = CLAMP ((gint) (sx >> 16), 0, demo->width - 1);

        memcpy (d, row + ix * 3, 3);
      }
    }
  }
  gst_video_frame_unmap (&vf);
  return GST_PAD_PROBE_OK;
}

static const gchar *
find_demo_image (const SegdConfig *config)
{
  if (config->demo_image[0])
    return config->demo_image;
  for (guint i = 0; segd_demo_images[i]; i++)
    if (g_file_test (segd_demo_images[i], G_FILE_TEST_IS_REGULAR))
      return segd_demo_images[i];
  return NULL;
}

static GstElement *make_test (const SegdConfig *config, const gchar *pattern,
    gchar **description, GError **error);

static GstElement *
make_demo (const SegdConfig *config, gchar **description, GError **error)
{
  const gchar *path = find_demo_image (config);
  g_autoptr (GError) local = NULL;
  GstElement *el[2] = {NULL, NULL}, *bin;
  GstCaps *caps;
  GstPad *pad;
  Demo *demo;

  if (!path) {
    g_warning ("demo source: no photo found (install python3-skimage for "
               "%s); showing a test pattern instead",
        segd_demo_images[0]);
    return make_test (config, "ball", description, error);
  }
  demo = demo_load (path, &local);
  if (!demo) {
    g_warning ("demo source: %s; showing a test pattern instead",
        local->message);
    return make_test (config, "ball", description, error);
  }
  demo->fps = config->framerate;

  if (!(el[0] = make ("videotestsrc", "demo-src", error))
      || !(el[1] = make ("capsfilter", "demo-caps", error))) {
    unref_all (el, 2);
    demo_free (demo);
    return NULL;
  }
  g_object_set (el[0], "is-live", TRUE, "pattern", 2 /* black */, NULL);
  caps = raw_caps (config, "RGB");
  g_object_set (el[1], "caps", caps, NULL);
  gst_caps_unref (caps);

  pad = gst_element_get_static_pad (el[1], "src");
  gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_BUFFER, demo_paint, demo,
      demo_free);
  gst_object_unref (pad);

  bin = gst_bin_new ("source");
  if (description)
    *description = g_strdup_printf ("demo: %s, %dx%d at %d fps", path,
        config->width, config->height, config->framerate);
  return finish_bin (bin, el, 2, error);
}

static GstElement *
make_test (const SegdConfig *config, const gchar *pattern, gchar **description,
    GError **error)
{
  GstElement *el[3] = {NULL, NULL, NULL};
  GstCaps *caps;

  if (!(el[0] = make ("videotestsrc", "test-src", error))
      || !(el[1] = make ("capsfilter", "test-caps", error))
      || !(el[2] = make ("videoconvert", "test-convert", error))) {
    unref_all (el, 3);
    return NULL;
  }
  gst_util_set_object_arg (G_OBJECT (el[0]), "pattern", pattern);
  g_object_set (el[0], "is-live", TRUE, NULL);
  if (config->num_buffers > 0)
    g_object_set (el[0], "num-buffers", config->num_buffers, NULL);
  caps = raw_caps (config, NULL);
  g_object_set (el[1], "caps", caps, NULL);
  gst_caps_unref (caps);
  if (description)
    *description = g_strdup_printf ("test pattern %s, %dx%d at %d fps", pattern,
        config->width, config->height, config->framerate);
  return finish_bin (gst_bin_new ("source"), el, 3, error);
}

/* ---- file and uri: decodebin, looping ---- */

typedef struct
{
  gboolean loop;
  gboolean segment_seen;
  gboolean seeking;
  GstClockTime offset; /* added to every timestamp of this pass */
  GstClockTime end;    /* end of the latest buffer, before the offset */
} Loop;

static void
loop_seek (GstElement *element, gpointer user_data)
{
  GstPad *pad = user_data;
  GstEvent *seek = gst_event_new_seek (1.0, GST_FORMAT_TIME,
      GST_SEEK_FLAG_FLUSH, GST_SEEK_TYPE_SET, 0, GST_SEEK_TYPE_NONE, -1);

  if (!gst_pad_push_event (pad, seek))
    GST_ELEMENT_ERROR (element, RESOURCE, SEEK, ("Could not loop the file."),
        ("the seek back to the start failed"));
}

static GstPadProbeReturn
loop_probe (GstPad *pad, GstPadProbeInfo *info, gpointer user_data)
{
  Loop *loop = user_data;

  if (info->type & GST_PAD_PROBE_TYPE_BUFFER) {
    GstBuffer *buf = GST_PAD_PROBE_INFO_BUFFER (info);
    GstClockTime pts = GST_BUFFER_PTS (buf);

    if (GST_CLOCK_TIME_IS_VALID (pts)) {
      GstClockTime dur = GST_BUFFER_DURATION (buf);

      loop->end =
          MAX (loop->end, pts + (GST_CLOCK_TIME_IS_VALID (dur) ? dur : 0));
      if (loop->offset) {
        buf = gst_buffer_make_writable (buf);
        GST_BUFFER_PTS (buf) = pts + loop->offset;
        if (GST_BUFFER_DTS_IS_VALID (buf))
          GST_BUFFER_DTS (buf) += loop->offset;
        GST_PAD_PROBE_INFO_DATA (info) = buf;
      }
    }
    return GST_PAD_PROBE_OK;
  }

  switch (GST_EVENT_TYPE (GST_PAD_PROBE_INFO_EVENT (info))) {
    case GST_EVENT_SEGMENT:
      if (loop->segment_seen)
        return GST_PAD_PROBE_DROP;
      loop->segment_seen = TRUE;
      return GST_PAD_PROBE_OK;
    case GST_EVENT_FLUSH_START:
      return loop->seeking ? GST_PAD_PROBE_DROP : GST_PAD_PROBE_OK;
    case GST_EVENT_FLUSH_STOP:
      if (!loop->seeking)
        return GST_PAD_PROBE_OK;
      loop->seeking = FALSE;
      return GST_PAD_PROBE_DROP;
    case GST_EVENT_EOS:
      if (!loop->loop || !loop->end)
        return GST_PAD_PROBE_OK;
      loop->offset += loop->end;
      loop->end = 0;
      loop->seeking = TRUE;
      {
        GstElement *parent = gst_pad_get_parent_element (pad);

        gst_element_call_async (parent, loop_seek, gst_object_ref (pad),
            gst_object_unref);
        gst_object_unref (parent);
      }
      return GST_PAD_PROBE_DROP;
    default:
      return GST_PAD_PROBE_OK;
  }
}

static void
decoder_pad_added (GstElement *decoder, GstPad *pad, gpointer user_data)
{
  GstElement *convert = user_data;
  GstCaps *caps = gst_pad_get_current_caps (pad);
  GstPad *sink;

  if (!caps)
    caps = gst_pad_query_caps (pad, NULL);
  if (!g_str_has_prefix (gst_structure_get_name (
                             gst_caps_get_structure (caps, 0)),
          "video/")) {
    gst_caps_unref (caps);
    return;
  }
  gst_caps_unref (caps);
  sink = gst_element_get_static_pad (convert, "sink");
  if (!gst_pad_is_linked (sink) && gst_pad_link (pad, sink) != GST_PAD_LINK_OK)
    GST_ELEMENT_ERROR (decoder, CORE, NEGOTIATION,
        ("The decoded video cannot be linked."), (NULL));
  gst_object_unref (sink);
}

static gboolean
is_image (const gchar *path)
{
  g_autofree gchar *head = NULL;
  g_autofree gchar *type = NULL;
  gsize len = 0;
  GFile *file = g_file_new_for_path (path);
  GFileInputStream *in = g_file_read (file, NULL, NULL);

  g_object_unref (file);
  if (in) {
    head = g_malloc (4096);
    g_input_stream_read_all (G_INPUT_STREAM (in), head, 4096, &len, NULL, NULL);
    g_object_unref (in);
  }
  type = g_content_type_guess (path, (const guchar *) head, len, NULL);
  return type && g_str_has_prefix (type, "image/");
}

static GstElement *
make_decoded (const SegdConfig *config, SegdSourceType type,
    gchar **description, GError **error)
{
  gboolean image = type == SEGD_SOURCE_FILE && is_image (config->location);
  GstElement *bin, *src = NULL, *dec = NULL, *convert = NULL, *last = NULL;
  GstElement *tail[3] = {NULL, NULL, NULL};
  guint n_tail = 0;
  GstPad *pad;

  if (type == SEGD_SOURCE_FILE) {
    if (!g_file_test (config->location, G_FILE_TEST_IS_REGULAR)) {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
          "source file %s does not exist", config->location);
      return NULL;
    }
    if (!(src = make ("filesrc", "file-src", error))
        || !(dec = make ("decodebin", "file-decoder", error)))
      goto failed;
    g_object_set (src, "location", config->location, NULL);
  } else {
    if (!(dec = make ("uridecodebin", "uri-decoder", error)))
      goto failed;
    g_object_set (dec, "uri", config->uri, NULL);
  }
  if (!(convert = make ("videoconvert", "decoded-convert", error)))
    goto failed;
  tail[n_tail++] = convert;
  if (image) {
    GstCaps *caps = gst_caps_new_simple ("video/x-raw", "framerate",
        GST_TYPE_FRACTION, config->framerate, 1, NULL);

    if (!(tail[n_tail++] = make ("imagefreeze", "image-freeze", error))
        || !(last = make ("capsfilter", "image-caps", error))) {
      gst_caps_unref (caps);
      goto failed;
    }
    g_object_set (tail[1], "is-live", TRUE, NULL);
    g_object_set (last, "caps", caps, NULL);
    gst_caps_unref (caps);
    tail[n_tail++] = last;
  } else {
    Loop *loop = g_new0 (Loop, 1);

    /* Real time for files: nothing else paces a decoder. */
    if (!(last = make ("identity", "pace", error))) {
      g_free (loop);
      goto failed;
    }
    g_object_set (last, "sync", TRUE, NULL);
    tail[n_tail++] = last;
    loop->loop = config->loop;
    pad = gst_element_get_static_pad (convert, "sink");
    gst_pad_add_probe (pad,
        GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM
            | GST_PAD_PROBE_TYPE_EVENT_FLUSH,
        loop_probe, loop, g_free);
    gst_object_unref (pad);
  }

  bin = gst_bin_new ("source");
  if (src) {
    gst_bin_add_many (GST_BIN (bin), src, dec, NULL);
    gst_element_link (src, dec);
  } else {
    gst_bin_add (GST_BIN (bin), dec);
  }
  g_signal_connect (dec, "pad-added", G_CALLBACK (decoder_pad_added), convert);
  if (description) {
    g_autofree gchar *shown = type == SEGD_SOURCE_FILE
        ? g_strdup (config->location)
        : segd_uri_for_display (config->uri);

    *description = g_strdup_printf ("%s %s%s",
        image                          ? "image"
            : type == SEGD_SOURCE_FILE ? "video file"
                                       : "uri",
        shown,
        image              ? ""
            : config->loop ? ", looping"
                           : "");
  }
  return finish_bin (bin, tail, n_tail, error);

failed:
  unref_all ((GstElement *[]){src, dec, tail[0], tail[1], tail[2]}, 5);
  return NULL;
}

/* ---- v4l2 ---- */

/* Modes a camera failed to start in, by device path: uvcvideo answers
 * STREAMON with ENOSPC when the USB bus lacks the bandwidth for a mode,
 * and a cheaper one (often MJPEG) still works, so the next attempt tries
 * the next best mode instead of the same one forever. Once every mode
 * failed the list starts over. Main thread only. */
static GHashTable *refused_modes; /* path -> GArray of SegdV4l2Mode */

void
segd_source_refused (GstElement *source)
{
  const SegdV4l2Mode *mode =
      g_object_get_data (G_OBJECT (source), "segd-v4l2-mode");
  const gchar *path = g_object_get_data (G_OBJECT (source), "segd-v4l2-device");
  GArray *list;
  gchar fcc[5];

  if (!mode || !path)
    return;
  if (!refused_modes)
    refused_modes = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
        (GDestroyNotify) g_array_unref);
  list = g_hash_table_lookup (refused_modes, path);
  if (!list) {
    list = g_array_new (FALSE, FALSE, sizeof (SegdV4l2Mode));
    g_hash_table_insert (refused_modes, g_strdup (path), list);
  }
  g_array_append_val (list, *mode);
  g_message ("%s did not start in %s %ux%u at %u/%u fps: trying the next "
             "best mode",
      path, segd_v4l2_fourcc_to_string (mode->fourcc, fcc), mode->width,
      mode->height, mode->fps_n, mode->fps_d);
}

/* The device's modes without those it refused (all of them once every
 * one was refused). (transfer full) */
static GArray *
usable_modes (const SegdV4l2Device *device)
{
  GArray *list =
      refused_modes ? g_hash_table_lookup (refused_modes, device->path) : NULL;
  GArray *modes = g_array_new (FALSE, FALSE, sizeof (SegdV4l2Mode));

  for (guint i = 0; i < device->modes->len; i++) {
    const SegdV4l2Mode *m = &g_array_index (device->modes, SegdV4l2Mode, i);
    gboolean skip = FALSE;

    for (guint j = 0; list && j < list->len && !skip; j++)
      skip = !memcmp (m, &g_array_index (list, SegdV4l2Mode, j), sizeof *m);
    if (!skip)
      g_array_append_val (modes, *m);
  }
  if (!modes->len && list) {
    g_hash_table_remove (refused_modes, device->path);
    g_array_append_vals (modes, device->modes->data, device->modes->len);
  }
  return modes;
}

static GstElement *
make_v4l2 (const SegdConfig *config, const SegdV4l2Device *device,
    gchar **description, GError **error)
{
  guint32 fourcc = segd_v4l2_fourcc_from_string (config->pixel_format);
  g_autoptr (GArray) modes = usable_modes (device);
  const SegdV4l2Mode *mode;
  GstElement *bin;
  GstElement *el[4] = {NULL, NULL, NULL, NULL};
  g_autofree gchar *caps_str = NULL;
  gboolean jpeg, decode;
  guint n = 0;
  GstCaps *caps;
  gchar fcc[5];

  if (!strcmp (config->pixel_format, "auto"))
    fourcc = 0;
  mode = segd_v4l2_best_mode ((const SegdV4l2Mode *) modes->data, modes->len,
      config->width, config->height, config->framerate, fourcc);
  if (!mode) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
        "%s (%s) offers no %s mode segd can use", device->path, device->card,
        fourcc ? config->pixel_format : "video");
    return NULL;
  }
  caps_str = segd_v4l2_mode_to_caps (mode);

  if (!(el[n++] = make ("v4l2src", "v4l2-src", error))
      || !(el[n++] = make ("capsfilter", "v4l2-caps", error)))
    goto failed;
  g_object_set (el[0], "device", device->path, NULL);
  caps = gst_caps_from_string (caps_str);
  g_object_set (el[1], "caps", caps, NULL);
  gst_caps_unref (caps);
  /* The segmenter decodes MJPEG itself, at the scale its model needs
   * (about 1.7x less decoding at 720p and 1080p than jpegdec's full-size
   * frames, docs/performance.md); only the preview and record branches
   * need decoded frames. */
  jpeg = g_str_has_prefix (caps_str, "image/jpeg");
  decode = jpeg && (config->preview || config->record);
  if (decode && !(el[n++] = make ("jpegdec", "v4l2-decoder", error)))
    goto failed;
  if ((!jpeg || decode)
      && !(el[n++] = make ("videoconvert", "v4l2-convert", error)))
    goto failed;

  if (description)
    *description =
        g_strdup_printf ("v4l2 %s (%s): %s %ux%u at %u/%u fps", device->path,
            device->card, segd_v4l2_fourcc_to_string (mode->fourcc, fcc),
            mode->width, mode->height, mode->fps_n, mode->fps_d);
  bin = finish_bin (gst_bin_new ("source"), el, n, error);
  if (bin) {
    g_object_set_data_full (G_OBJECT (bin), "segd-v4l2-mode",
        g_memdup2 (mode, sizeof *mode), g_free);
    g_object_set_data_full (G_OBJECT (bin), "segd-v4l2-device",
        g_strdup (device->path), g_free);
  }
  return bin;

failed:
  unref_all (el, 4);
  return NULL;
}

GstElement *
segd_source_make (const SegdConfig *config, SegdSourceType type,
    const SegdV4l2Device *device, gchar **description, GError **error)
{
  if (description)
    *description = NULL;
  switch (type) {
    case SEGD_SOURCE_DEMO:
      return make_demo (config, description, error);
    case SEGD_SOURCE_TEST:
      return make_test (config, config->pattern, description, error);
    case SEGD_SOURCE_FILE:
    case SEGD_SOURCE_URI:
      return make_decoded (config, type, description, error);
    case SEGD_SOURCE_V4L2:
      g_return_val_if_fail (device != NULL, NULL);
      return make_v4l2 (config, device, description, error);
    case SEGD_SOURCE_AUTO:
    default:
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
          "source type %s cannot be built directly",
          segd_source_type_to_string (type));
      return NULL;
  }
}
