/* Vtables defined by the op files; only ops.c includes this. */
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

#endif
