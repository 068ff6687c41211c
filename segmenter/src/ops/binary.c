/* placeholder until the op lands */
#include "ops-impl.h"
const seg_op_vtable seg_op_add;
const seg_op_vtable seg_op_sub;
const seg_op_vtable seg_op_mul;
const seg_op_vtable seg_op_div;
