/* segoverlay — renders the GstSegMeta of each buffer: tints, outlines,
 * blurs or replaces the background, or outputs the mask as alpha or as a
 * grey image.
 */
#ifndef GST_SEG_OVERLAY_H
#define GST_SEG_OVERLAY_H

#include <gst/video/gstvideofilter.h>
#include <gst/video/video.h>

G_BEGIN_DECLS

#define GST_TYPE_SEG_OVERLAY (gst_seg_overlay_get_type ())
G_DECLARE_FINAL_TYPE (GstSegOverlay, gst_seg_overlay, GST, SEG_OVERLAY,
    GstVideoFilter)

GST_ELEMENT_REGISTER_DECLARE (segoverlay);

typedef enum
{
  GST_SEG_OVERLAY_MODE_TINT,
  GST_SEG_OVERLAY_MODE_OUTLINE,
  GST_SEG_OVERLAY_MODE_BLUR,
  GST_SEG_OVERLAY_MODE_REPLACE,
  GST_SEG_OVERLAY_MODE_ALPHA,
  GST_SEG_OVERLAY_MODE_MASK,
} GstSegOverlayMode;

typedef enum
{
  GST_SEG_OVERLAY_REFINE_NONE,
  GST_SEG_OVERLAY_REFINE_GUIDED,
} GstSegOverlayRefine;

G_END_DECLS

#endif /* GST_SEG_OVERLAY_H */
