/* segmenter — the element that runs the network on video frames and
 * attaches the mask to them as a GstSegMeta, passing the pixels through
 * untouched.
 */
#ifndef GST_SEGMENTER_H
#define GST_SEGMENTER_H

#include <gst/base/gstbasetransform.h>
#include <gst/video/video.h>

G_BEGIN_DECLS

#define GST_TYPE_SEGMENTER (gst_segmenter_get_type ())
G_DECLARE_FINAL_TYPE (GstSegmenter, gst_segmenter, GST, SEGMENTER,
    GstBaseTransform)

GST_ELEMENT_REGISTER_DECLARE (segmenter);

typedef enum
{
  GST_SEGMENTER_MODE_SYNC,
  GST_SEGMENTER_MODE_LATEST,
} GstSegmenterMode;

typedef enum
{
  GST_SEGMENTER_OUTPUT_SIZE_MODEL,
  GST_SEGMENTER_OUTPUT_SIZE_FRAME,
} GstSegmenterOutputSize;

G_END_DECLS

#endif /* GST_SEGMENTER_H */
