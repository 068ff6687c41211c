/* The raw formats the segmenter's caps accept map one to one onto the
 * library's pixel layouts, which it converts while scaling to the model's
 * input, so the element never converts a frame itself.
 */
#include "segframe.h"

static gboolean
video_to_seg_frame (const GstVideoFrame *vf, seg_frame *sf)
{
  switch (GST_VIDEO_FRAME_FORMAT (vf)) {
    case GST_VIDEO_FORMAT_RGB:
      sf->format = SEG_PIXEL_RGB;
      break;
    case GST_VIDEO_FORMAT_BGR:
      sf->format = SEG_PIXEL_BGR;
      break;
    case GST_VIDEO_FORMAT_RGBx:
      sf->format = SEG_PIXEL_RGBX;
      break;
    case GST_VIDEO_FORMAT_BGRx:
      sf->format = SEG_PIXEL_BGRX;
      break;
    case GST_VIDEO_FORMAT_xRGB:
      sf->format = SEG_PIXEL_XRGB;
      break;
    case GST_VIDEO_FORMAT_xBGR:
      sf->format = SEG_PIXEL_XBGR;
      break;
    case GST_VIDEO_FORMAT_RGBA:
      sf->format = SEG_PIXEL_RGBA;
      break;
    case GST_VIDEO_FORMAT_BGRA:
      sf->format = SEG_PIXEL_BGRA;
      break;
    case GST_VIDEO_FORMAT_NV12:
      sf->format = SEG_PIXEL_NV12;
      break;
    case GST_VIDEO_FORMAT_I420:
      sf->format = SEG_PIXEL_I420;
      break;
    case GST_VIDEO_FORMAT_YUY2:
      sf->format = SEG_PIXEL_YUY2;
      break;
    default:
      return FALSE;
  }
  sf->width = GST_VIDEO_FRAME_WIDTH (vf);
  sf->height = GST_VIDEO_FRAME_HEIGHT (vf);
  for (guint i = 0; i < 3; i++) {
    if (i < GST_VIDEO_FRAME_N_PLANES (vf)) {
      sf->planes[i] = GST_VIDEO_FRAME_PLANE_DATA (vf, i);
      sf->strides[i] = GST_VIDEO_FRAME_PLANE_STRIDE (vf, i);
    } else {
      sf->planes[i] = NULL;
      sf->strides[i] = 0;
    }
  }
  return TRUE;
}

gboolean
gst_seg_frame_map (GstBuffer *buf, const GstVideoInfo *info, SegJpeg **decoder,
    const seg_model_info *mi, GstSegFrameMap *m, seg_frame *sf, gchar **error)
{
  GstMapInfo map;
  gboolean ok;

  m->mapped = FALSE;
  if (!decoder) {
    if (!gst_video_frame_map (&m->vf, info, buf, GST_MAP_READ)) {
      *error = g_strdup ("cannot map the video frame");
      return FALSE;
    }
    m->mapped = TRUE;
    if (!video_to_seg_frame (&m->vf, sf)) {
      *error = g_strdup ("unsupported video format");
      return FALSE;
    }
    return TRUE;
  }
  if (!*decoder)
    *decoder = seg_jpeg_new ();
  if (!gst_buffer_map (buf, &map, GST_MAP_READ)) {
    *error = g_strdup ("cannot map the JPEG frame");
    return FALSE;
  }
  ok = seg_jpeg_decode (*decoder, map.data, map.size, mi->input_width,
      mi->input_height, sf, error);
  gst_buffer_unmap (buf, &map);
  return ok;
}

void
gst_seg_frame_unmap (GstSegFrameMap *m)
{
  if (m->mapped)
    gst_video_frame_unmap (&m->vf);
  m->mapped = FALSE;
}
