/* zmqmasksrc — a live source that subscribes to a zmqmasksink and outputs
 * the masks as video/x-raw GRAY8 frames.
 */
#ifndef GST_ZMQ_MASK_SRC_H
#define GST_ZMQ_MASK_SRC_H

#include <gst/base/gstpushsrc.h>

G_BEGIN_DECLS

#define GST_TYPE_ZMQ_MASK_SRC (gst_zmq_mask_src_get_type ())
G_DECLARE_FINAL_TYPE (GstZmqMaskSrc, gst_zmq_mask_src, GST, ZMQ_MASK_SRC,
    GstPushSrc)

GST_ELEMENT_REGISTER_DECLARE (zmqmasksrc);

G_END_DECLS

#endif /* GST_ZMQ_MASK_SRC_H */
