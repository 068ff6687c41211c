/* segd-preview — the status page's live picture, paid for only while
 * someone looks.
 *
 * The probe on the sink pad reads one atomic flag per frame. Only when a
 * viewer has asked since the last snapshot does it take a reference to
 * the buffer (and its caps) and schedule the main loop; it never copies,
 * converts or encodes on the streaming thread. The main loop then holds
 * the buffer for the few milliseconds it takes to scale it down with
 * GstVideoConverter (any raw format the source produces), tint the mask
 * in the way segoverlay's default does (green, half strength, by the
 * foreground probability) and encode a JPEG with libjpeg.
 *
 * Encoding on the main loop rather than a worker thread keeps the
 * lifetimes simple (nothing outlives segd_preview_free); it is bounded
 * to one frame of at most PREVIEW_WIDTH pixels per FRESH_US however many
 * viewers there are, about 3 ms for 640x480 on one core (docs/daemon.md).
 */
#include "segd-preview.h"

#include <gst/video/video.h>
#include <segmeta.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
/* jpeglib.h needs FILE and size_t declared first. */
#include <jpeglib.h>

#define PREVIEW_WIDTH 640
#define FRESH_US (500 * G_TIME_SPAN_MILLISECOND)
#define WAIT_MS 1000
#define JPEG_QUALITY 80
/* segoverlay's defaults: tint colour 0x00ff00 at opacity 0.5. */
#define TINT_R 0
#define TINT_G 255
#define TINT_B 0
#define TINT_OPACITY 128 /* of 256 */

typedef struct
{
  SegdPreviewFunc func;
  gpointer data;
  GDestroyNotify destroy;
} Waiter;

struct _SegdPreview
{
  GstPad *pad;
  gulong probe_id;

  /* Set by a request, cleared by the probe that takes the frame. */
  gint want;

  /* Under `lock`: handed from the probe to the main loop. */
  GMutex lock;
  GstBuffer *latched;
  GstCaps *latched_caps;
  guint idle_id;

  /* Main loop only. */
  GArray *waiters;
  guint timeout_id;
  GBytes *jpeg;
  gint64 jpeg_time;
  GstCaps *caps; /* what `converter` was made for */
  GstVideoConverter *converter;
  GstVideoInfo out_info;
  GstBuffer *rgb;
};

static gboolean latched_idle (gpointer data);

static GstPadProbeReturn
probe (GstPad *pad, GstPadProbeInfo *info, gpointer user_data)
{
  SegdPreview *p = user_data;
  GstBuffer *buf = GST_PAD_PROBE_INFO_BUFFER (info);
  GstCaps *caps;

  /* The whole cost while nobody watches. */
  if (!g_atomic_int_get (&p->want))
    return GST_PAD_PROBE_OK;
  if (!gst_buffer_get_seg_meta (buf)
      || !g_atomic_int_compare_and_exchange (&p->want, 1, 0))
    return GST_PAD_PROBE_OK;

  caps = gst_pad_get_current_caps (pad);
  g_mutex_lock (&p->lock);
  gst_buffer_replace (&p->latched, buf);
  gst_caps_take (&p->latched_caps, caps);
  if (!p->idle_id)
    p->idle_id = g_idle_add (latched_idle, p);
  g_mutex_unlock (&p->lock);
  return GST_PAD_PROBE_OK;
}

SegdPreview *
segd_preview_new (GstElement *pipeline)
{
  SegdPreview *p = g_new0 (SegdPreview, 1);
  GstElement *sink = gst_bin_get_by_name (GST_BIN (pipeline), "sink");

  g_mutex_init (&p->lock);
  p->waiters = g_array_new (FALSE, FALSE, sizeof (Waiter));
  if (sink) {
    p->pad = gst_element_get_static_pad (sink, "sink");
    gst_object_unref (sink);
  }
  if (p->pad)
    p->probe_id =
        gst_pad_add_probe (p->pad, GST_PAD_PROBE_TYPE_BUFFER, probe, p, NULL);
  return p;
}

static void
finish_waiters (SegdPreview *p, gboolean stale)
{
  GArray *waiters = p->waiters;

  /* A callback may ask again; it joins a fresh list. */
  p->waiters = g_array_new (FALSE, FALSE, sizeof (Waiter));
  for (guint i = 0; i < waiters->len; i++) {
    Waiter *w = &g_array_index (waiters, Waiter, i);

    w->func (p->jpeg, stale, w->data);
    if (w->destroy)
      w->destroy (w->data);
  }
  g_array_unref (waiters);
}

void
segd_preview_free (SegdPreview *p)
{
  if (!p)
    return;
  if (p->pad && p->probe_id)
    gst_pad_remove_probe (p->pad, p->probe_id);
  gst_clear_object (&p->pad);
  g_clear_handle_id (&p->idle_id, g_source_remove);
  g_clear_handle_id (&p->timeout_id, g_source_remove);
  for (guint i = 0; i < p->waiters->len; i++) {
    Waiter *w = &g_array_index (p->waiters, Waiter, i);

    if (w->destroy)
      w->destroy (w->data);
  }
  g_array_unref (p->waiters);
  gst_clear_buffer (&p->latched);
  gst_clear_caps (&p->latched_caps);
  gst_clear_caps (&p->caps);
  g_clear_pointer (&p->converter, gst_video_converter_free);
  gst_clear_buffer (&p->rgb);
  g_clear_pointer (&p->jpeg, g_bytes_unref);
  g_mutex_clear (&p->lock);
  g_free (p);
}

/* A converter from the frame's format and size to RGB at most
 * PREVIEW_WIDTH wide, and the buffer it writes into; both kept until the
 * caps change. */
static gboolean
ensure_converter (SegdPreview *p, GstCaps *caps, GstVideoInfo *in_info)
{
  guint width, height;

  if (!gst_video_info_from_caps (in_info, caps))
    return FALSE;
  if (p->converter && gst_caps_is_equal (caps, p->caps))
    return TRUE;

  g_clear_pointer (&p->converter, gst_video_converter_free);
  gst_clear_buffer (&p->rgb);
  gst_caps_replace (&p->caps, caps);
  width = MIN ((guint) GST_VIDEO_INFO_WIDTH (in_info), PREVIEW_WIDTH);
  height = MAX (1,
      (guint) ((guint64) GST_VIDEO_INFO_HEIGHT (in_info) * width
          / GST_VIDEO_INFO_WIDTH (in_info)));
  gst_video_info_set_format (&p->out_info, GST_VIDEO_FORMAT_RGB, width, height);
  /* The converter scales and converts colour, not time or fields. */
  GST_VIDEO_INFO_FPS_N (&p->out_info) = GST_VIDEO_INFO_FPS_N (in_info);
  GST_VIDEO_INFO_FPS_D (&p->out_info) = GST_VIDEO_INFO_FPS_D (in_info);
  GST_VIDEO_INFO_INTERLACE_MODE (&p->out_info) =
      GST_VIDEO_INFO_INTERLACE_MODE (in_info);
  p->converter = gst_video_converter_new (in_info, &p->out_info, NULL);
  if (!p->converter)
    return FALSE;
  p->rgb =
      gst_buffer_new_allocate (NULL, GST_VIDEO_INFO_SIZE (&p->out_info), NULL);
  return TRUE;
}

/* Blends the tint into the foreground, by probability where the mask has
 * it, else by class (anything but class 0). The mask covers the whole
 * frame at its own resolution: nearest neighbour is plenty for a
 * preview. */
static void
tint (GstVideoFrame *frame, const GstSegMeta *meta)
{
  guint w = GST_VIDEO_FRAME_WIDTH (frame), h = GST_VIDEO_FRAME_HEIGHT (frame);
  gint stride = GST_VIDEO_FRAME_PLANE_STRIDE (frame, 0);
  guint8 *pixels = GST_VIDEO_FRAME_PLANE_DATA (frame, 0);
  const guint8 *plane = meta->probability ? meta->probability : meta->classes;

  if (!plane || !meta->width || !meta->height)
    return;
  for (guint y = 0; y < h; y++) {
    const guint8 *mrow = plane + (gsize) (y * meta->height / h) * meta->stride;
    guint8 *row = pixels + (gsize) y * stride;

    for (guint x = 0; x < w; x++) {
      guint v = mrow[x * meta->width / w];
      guint a;
      guint8 *px = row + 3 * x;

      if (!meta->probability)
        v = v ? 255 : 0;
      a = v * TINT_OPACITY / 255; /* 0..TINT_OPACITY of 256 */
      if (!a)
        continue;
      px[0] = (guint8) ((px[0] * (256 - a) + TINT_R * a) >> 8);
      px[1] = (guint8) ((px[1] * (256 - a) + TINT_G * a) >> 8);
      px[2] = (guint8) ((px[2] * (256 - a) + TINT_B * a) >> 8);
    }
  }
}

typedef struct
{
  struct jpeg_error_mgr mgr;
  jmp_buf jump;
} JpegError;

static void
jpeg_error_exit (j_common_ptr cinfo)
{
  JpegError *err = (JpegError *) cinfo->err;

  longjmp (err->jump, 1);
}

static void
jpeg_silent (j_common_ptr cinfo)
{
}

/* libjpeg reports errors by calling error_exit, which would exit the
 * process: it jumps back here instead. (transfer full), NULL on error. */
static GBytes *
encode_jpeg (GstVideoFrame *frame)
{
  struct jpeg_compress_struct cinfo;
  JpegError err;
  unsigned char *volatile out = NULL;
  unsigned long volatile size = 0;
  guint8 *pixels = GST_VIDEO_FRAME_PLANE_DATA (frame, 0);
  gint stride = GST_VIDEO_FRAME_PLANE_STRIDE (frame, 0);

  cinfo.err = jpeg_std_error (&err.mgr);
  err.mgr.error_exit = jpeg_error_exit;
  err.mgr.output_message = jpeg_silent;
  if (setjmp (err.jump)) {
    jpeg_destroy_compress (&cinfo);
    free (out);
    return NULL;
  }
  jpeg_create_compress (&cinfo);
  jpeg_mem_dest (&cinfo, (unsigned char **) &out, (unsigned long *) &size);
  cinfo.image_width = GST_VIDEO_FRAME_WIDTH (frame);
  cinfo.image_height = GST_VIDEO_FRAME_HEIGHT (frame);
  cinfo.input_components = 3;
  cinfo.in_color_space = JCS_RGB;
  jpeg_set_defaults (&cinfo);
  jpeg_set_quality (&cinfo, JPEG_QUALITY, TRUE);
  jpeg_start_compress (&cinfo, TRUE);
  while (cinfo.next_scanline < cinfo.image_height) {
    JSAMPROW row = pixels + (gsize) cinfo.next_scanline * stride;

    jpeg_write_scanlines (&cinfo, &row, 1);
  }
  jpeg_finish_compress (&cinfo);
  jpeg_destroy_compress (&cinfo);
  return g_bytes_new_with_free_func (out, size, free, out);
}

static GBytes *
snapshot (SegdPreview *p, GstBuffer *buf, GstCaps *caps)
{
  GstVideoInfo in_info;
  GstVideoFrame in, out;
  GstSegMeta *meta = gst_buffer_get_seg_meta (buf);
  GBytes *jpeg;

  if (!meta || !ensure_converter (p, caps, &in_info)) {
    g_autofree gchar *text = caps ? gst_caps_to_string (caps) : NULL;

    g_debug ("preview: cannot convert %s", text ? text : "(no caps)");
    return NULL;
  }
  if (!gst_video_frame_map (&in, &in_info, buf, GST_MAP_READ))
    return NULL;
  if (!gst_video_frame_map (&out, &p->out_info, p->rgb, GST_MAP_WRITE)) {
    gst_video_frame_unmap (&in);
    return NULL;
  }
  gst_video_converter_frame (p->converter, &in, &out);
  tint (&out, meta);
  gst_video_frame_unmap (&in);
  jpeg = encode_jpeg (&out);
  gst_video_frame_unmap (&out);
  return jpeg;
}

static gboolean
latched_idle (gpointer data)
{
  SegdPreview *p = data;
  GstBuffer *buf;
  GstCaps *caps;
  GBytes *jpeg;
  gint64 t0 = g_get_monotonic_time ();

  g_mutex_lock (&p->lock);
  p->idle_id = 0;
  buf = g_steal_pointer (&p->latched);
  caps = g_steal_pointer (&p->latched_caps);
  g_mutex_unlock (&p->lock);

  jpeg = buf && caps ? snapshot (p, buf, caps) : NULL;
  gst_clear_buffer (&buf);
  gst_clear_caps (&caps);
  if (jpeg) {
    g_clear_pointer (&p->jpeg, g_bytes_unref);
    p->jpeg = jpeg;
    p->jpeg_time = g_get_monotonic_time ();
    g_debug ("preview: %" G_GSIZE_FORMAT " bytes of JPEG in %.1f ms",
        g_bytes_get_size (jpeg), (p->jpeg_time - t0) / 1e3);
  }
  g_clear_handle_id (&p->timeout_id, g_source_remove);
  finish_waiters (p, jpeg == NULL);
  return G_SOURCE_REMOVE;
}

static gboolean
wait_over (gpointer data)
{
  SegdPreview *p = data;

  p->timeout_id = 0;
  /* No frame came: stop asking the streaming thread. */
  g_atomic_int_set (&p->want, 0);
  finish_waiters (p, TRUE);
  return G_SOURCE_REMOVE;
}

void
segd_preview_request (SegdPreview *p, SegdPreviewFunc func, gpointer user_data,
    GDestroyNotify destroy)
{
  Waiter w = {func, user_data, destroy};

  if (p->jpeg && g_get_monotonic_time () - p->jpeg_time < FRESH_US) {
    func (p->jpeg, FALSE, user_data);
    if (destroy)
      destroy (user_data);
    return;
  }
  g_array_append_val (p->waiters, w);
  if (!p->pad) {
    finish_waiters (p, TRUE);
    return;
  }
  g_atomic_int_set (&p->want, 1);
  if (!p->timeout_id)
    p->timeout_id = g_timeout_add (WAIT_MS, wait_over, p);
}
