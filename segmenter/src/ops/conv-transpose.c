/* placeholder until the op lands */
#include "ops-impl.h"
const seg_op_vtable seg_op_conv_transpose;
