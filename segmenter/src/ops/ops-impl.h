/* Vtables defined by the op files (ops.c puts them in its table) and the
 * few helpers the op files share. */
#ifndef SEG_OPS_IMPL_H
#define SEG_OPS_IMPL_H

#include "ops.h"

/* conv.c, conv-transpose.c, pool.c, resize.c */
extern const seg_op_vtable seg_op_conv;
extern const seg_op_vtable seg_op_conv_transpose;
extern const seg_op_vtable seg_op_global_avg_pool;
extern const seg_op_vtable seg_op_resize;

/* irb.c, se-project.c */
extern const seg_op_vtable seg_op_inverted_residual;
extern const seg_op_vtable seg_op_se_project;

/* binary.c */
extern const seg_op_vtable seg_op_add;
extern const seg_op_vtable seg_op_sub;
extern const seg_op_vtable seg_op_mul;
extern const seg_op_vtable seg_op_div;

/* unary.c */
extern const seg_op_vtable seg_op_relu;
extern const seg_op_vtable seg_op_clip;
extern const seg_op_vtable seg_op_hardsigmoid;
extern const seg_op_vtable seg_op_hardswish;
extern const seg_op_vtable seg_op_sigmoid;
extern const seg_op_vtable seg_op_identity;
extern const seg_op_vtable seg_op_floor;
extern const seg_op_vtable seg_op_ceil;
extern const seg_op_vtable seg_op_batchnorm;
extern const seg_op_vtable seg_op_dequantize;

/* shape.c */
extern const seg_op_vtable seg_op_shape;
extern const seg_op_vtable seg_op_gather;
extern const seg_op_vtable seg_op_slice;
extern const seg_op_vtable seg_op_concat;
extern const seg_op_vtable seg_op_cast;
extern const seg_op_vtable seg_op_unsqueeze;
extern const seg_op_vtable seg_op_squeeze;
extern const seg_op_vtable seg_op_reshape;
extern const seg_op_vtable seg_op_constant_of_shape;

/* conv.c, for every op with a conv's geometry (Conv, InvertedResidual):
 * the output size along one axis of extent in, kernel k, stride s and
 * dilation d, with the padding resolved into *begin and *end (explicit
 * pads as given; SAME_UPPER/LOWER put the odd pixel after/before); 0 when
 * the kernel does not fit the padded input or the mode is unknown. */
int64_t seg_conv_axis (seg_pad_mode mode, int64_t in, int64_t k, int64_t s,
    int64_t d, int explicit_begin, int explicit_end, int *begin, int *end);

#endif
