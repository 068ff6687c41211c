/* The table from op type to implementation. Each op file defines its
 * vtable; an op without one (NULL run) is rejected when a session plans it. */
#include "ops.h"

#include "ops-impl.h"

#include <stdlib.h>

static const seg_op_vtable none;

const seg_op_vtable *
seg_op_vtable_get (seg_op op)
{
  switch (op) {
    case SEG_OP_CONV:
      return &seg_op_conv;
    case SEG_OP_CONV_TRANSPOSE:
      return &seg_op_conv_transpose;
    case SEG_OP_ADD:
      return &seg_op_add;
    case SEG_OP_SUB:
      return &seg_op_sub;
    case SEG_OP_MUL:
      return &seg_op_mul;
    case SEG_OP_DIV:
      return &seg_op_div;
    case SEG_OP_RELU:
      return &seg_op_relu;
    case SEG_OP_CLIP:
      return &seg_op_clip;
    case SEG_OP_HARDSIGMOID:
      return &seg_op_hardsigmoid;
    case SEG_OP_HARDSWISH:
      return &seg_op_hardswish;
    case SEG_OP_SIGMOID:
      return &seg_op_sigmoid;
    case SEG_OP_GLOBAL_AVG_POOL:
      return &seg_op_global_avg_pool;
    case SEG_OP_RESIZE:
      return &seg_op_resize;
    case SEG_OP_BATCHNORM:
      return &seg_op_batchnorm;
    case SEG_OP_DEQUANTIZE:
      return &seg_op_dequantize;
    case SEG_OP_IDENTITY:
      return &seg_op_identity;
    case SEG_OP_SHAPE:
      return &seg_op_shape;
    case SEG_OP_GATHER:
      return &seg_op_gather;
    case SEG_OP_SLICE:
      return &seg_op_slice;
    case SEG_OP_CONCAT:
      return &seg_op_concat;
    case SEG_OP_CAST:
      return &seg_op_cast;
    case SEG_OP_UNSQUEEZE:
      return &seg_op_unsqueeze;
    case SEG_OP_SQUEEZE:
      return &seg_op_squeeze;
    case SEG_OP_RESHAPE:
      return &seg_op_reshape;
    case SEG_OP_FLOOR:
      return &seg_op_floor;
    case SEG_OP_CEIL:
      return &seg_op_ceil;
    case SEG_OP_CONSTANT_OF_SHAPE:
      return &seg_op_constant_of_shape;
    case SEG_OP_INVERTED_RESIDUAL:
      return &seg_op_inverted_residual;
    case SEG_OP_SE_PROJECT:
      return &seg_op_se_project;
    case SEG_OP_COUNT_:
      break;
  }
  return &none;
}

void *
seg_value_alloc (const seg_node *n, const seg_value *o, size_t *nbytes,
    seg_err *err)
{
  *nbytes = (size_t) seg_shape_elements (o->rank, o->dims)
      * seg_dtype_size (o->dtype);
  void *p = malloc (*nbytes ? *nbytes : 1);
  if (!p)
    seg_fail (err, SEG_ERR_NOMEM, "node '%s' (%s): out of memory", n->name,
        seg_op_name (n->op));
  return p;
}

void
seg_value_publish (seg_value *o, void *data, size_t nbytes)
{
  o->kind = SEG_VAL_STATIC;
  o->data = data;
  o->nbytes = nbytes;
}
