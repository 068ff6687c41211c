/* placeholder until the op lands */
#include "ops-impl.h"
const seg_op_vtable seg_op_shape;
const seg_op_vtable seg_op_gather;
const seg_op_vtable seg_op_slice;
const seg_op_vtable seg_op_concat;
const seg_op_vtable seg_op_cast;
const seg_op_vtable seg_op_unsqueeze;
const seg_op_vtable seg_op_squeeze;
const seg_op_vtable seg_op_reshape;
const seg_op_vtable seg_op_constant_of_shape;
