/* segframe — a GstBuffer seen as the seg_frame the network reads: raw
 * video mapped in place, in one of the pixel layouts the library converts
 * itself, or an MJPEG frame decoded at the scale the model's input needs
 * (segjpeg.h). Nothing is copied or allocated per frame on either path.
 */
#ifndef SEG_FRAME_H
#define SEG_FRAME_H

#include "segjpeg.h"

#include <gst/video/video.h>
#include <segmenter/seg.h>

G_BEGIN_DECLS

/* What gst_seg_frame_map holds mapped; on the caller's stack, so that a
 * frame costs no allocation. */
typedef struct
{
  GstVideoFrame vf;
  gboolean mapped;
} GstSegFrameMap;

/* Fills *sf with `buf`'s pixels for a model whose input is mi's. Raw video
 * (decoder NULL) is described by `info` and mapped for reading. A JPEG
 * frame (decoder non-NULL) is decoded into memory *decoder owns, with
 * *decoder created on first use (transfer full to the caller: free it
 * with seg_jpeg_free); `info` is not read. *sf is valid until
 * gst_seg_frame_unmap, or the next decode with the same decoder. Returns
 * FALSE with *error set (transfer full, g_free). Call gst_seg_frame_unmap
 * on `m` whatever the result. */
gboolean
gst_seg_frame_map (GstBuffer *buf, const GstVideoInfo *info, SegJpeg **decoder,
    const seg_model_info *mi, GstSegFrameMap *m, seg_frame *sf, gchar **error);

/* Releases what gst_seg_frame_map mapped; safe to call twice. */
void gst_seg_frame_unmap (GstSegFrameMap *m);

G_END_DECLS

#endif /* SEG_FRAME_H */
