/* Model importers. Both take untrusted bytes: every offset, size and index is
 * bounds-checked, every allocation is bounded by what the file can hold, and
 * a bad file gives SEG_ERR_FORMAT (or SEG_ERR_UNSUPPORTED for a valid file
 * using an op/attribute we do not run) with a message in err naming `file`
 * and the offending field/node, e.g.
 *   "model.onnx: node 'Conv_12' (Conv): attribute 'group' = 0 out of range".
 *
 * On success *out is a topologically sorted graph (transfer full): rank-4
 * activations NHWC, weights in file layout with attrs.wlayout saying which,
 * FLOAT16 constants kept as SEG_DT_F16 behind DEQUANTIZE nodes (the passes
 * fold them), BatchNormalization kept as SEG_OP_BATCHNORM. Graph input dims
 * are the declared ones; unknown dims (ONNX dim_param) are -1.
 */
#ifndef SEG_IMPORT_H
#define SEG_IMPORT_H

#include "../graph.h"

seg_status seg_import_onnx (const uint8_t *data, size_t size, const char *file,
    seg_graph **out, seg_err *err);

seg_status seg_import_tflite (const uint8_t *data, size_t size,
    const char *file, seg_graph **out, seg_err *err);

#endif
