/* zmqmasksink — publishes the GstSegMeta of each buffer on a ZeroMQ XPUB
 * socket in the segmask protocol (docs/protocol.md), with a status message
 * once per second and an end-of-stream message on EOS.
 */
#ifndef GST_ZMQ_MASK_SINK_H
#define GST_ZMQ_MASK_SINK_H

#include <gst/base/gstbasesink.h>

G_BEGIN_DECLS

#define GST_TYPE_ZMQ_MASK_SINK (gst_zmq_mask_sink_get_type ())
G_DECLARE_FINAL_TYPE (GstZmqMaskSink, gst_zmq_mask_sink, GST, ZMQ_MASK_SINK,
    GstBaseSink)

GST_ELEMENT_REGISTER_DECLARE (zmqmasksink);

/* Values match segmask_encoding. */
typedef enum
{
  GST_ZMQ_MASK_ENCODING_RAW = 0,
  GST_ZMQ_MASK_ENCODING_RLE = 1,
  GST_ZMQ_MASK_ENCODING_ZSTD = 2,
} GstZmqMaskEncoding;

typedef enum
{
  GST_ZMQ_MASK_KIND_AUTO = 0,
  GST_ZMQ_MASK_KIND_CLASSES = 1,
  GST_ZMQ_MASK_KIND_PROBABILITY = 2,
} GstZmqMaskKind;

G_END_DECLS

#endif /* GST_ZMQ_MASK_SINK_H */
