/* Internal to the ONNX importer, shared by its three files: onnx.c (errors,
 * names, the value table, the graph and the model), onnx-proto.c (the
 * protobuf message readers: TensorProto, ValueInfoProto, NodeProto and its
 * attributes) and onnx-ops.c (the op importers, their table, and the
 * helpers that emit IR nodes). Nothing here leaves the importer: the
 * library's entry point is seg_import_onnx in import.h. Functions carry
 * an onnx_ prefix because they link across files; what one file alone
 * uses stays static there.
 */
#ifndef SEG_IMPORT_ONNX_IMPL_H
#define SEG_IMPORT_ONNX_IMPL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "import.h"
#include "pb.h"

#define MIN_OPSET 11
#define MAX_OPSET 17
/* Longest name accepted for a tensor, node, op or attribute. */
#define MAX_NAME 4096

/* Field numbers from onnx.proto. */
enum
{
  MODEL_GRAPH = 7,
  MODEL_OPSET_IMPORT = 8
};
enum
{
  OPSET_DOMAIN = 1,
  OPSET_VERSION = 2
};
enum
{
  GRAPH_NODE = 1,
  GRAPH_INITIALIZER = 5,
  GRAPH_INPUT = 11,
  GRAPH_OUTPUT = 12,
  GRAPH_SPARSE_INITIALIZER = 15,
};
enum
{
  NODE_INPUT = 1,
  NODE_OUTPUT = 2,
  NODE_NAME = 3,
  NODE_OP_TYPE = 4,
  NODE_ATTRIBUTE = 5,
  NODE_DOMAIN = 7,
};
enum
{
  ATTR_NAME = 1,
  ATTR_F = 2,
  ATTR_I = 3,
  ATTR_S = 4,
  ATTR_T = 5,
  ATTR_FLOATS = 7,
  ATTR_INTS = 8,
  ATTR_TYPE = 20,
  ATTR_REF_ATTR_NAME = 21,
};
enum
{
  TENSOR_DIMS = 1,
  TENSOR_DATA_TYPE = 2,
  TENSOR_SEGMENT = 3,
  TENSOR_FLOAT_DATA = 4,
  TENSOR_INT32_DATA = 5,
  TENSOR_STRING_DATA = 6,
  TENSOR_INT64_DATA = 7,
  TENSOR_NAME = 8,
  TENSOR_RAW_DATA = 9,
  TENSOR_DOUBLE_DATA = 10,
  TENSOR_UINT64_DATA = 11,
  TENSOR_EXTERNAL_DATA = 13,
  TENSOR_DATA_LOCATION = 14,
};
enum
{
  VALUE_INFO_NAME = 1,
  VALUE_INFO_TYPE = 2
};
enum
{
  TYPE_TENSOR = 1
};
enum
{
  TYPE_TENSOR_ELEM_TYPE = 1,
  TYPE_TENSOR_SHAPE = 2
};
enum
{
  SHAPE_DIM = 1
};
enum
{
  DIM_VALUE = 1,
  DIM_PARAM = 2
};

/* AttributeProto.AttributeType */
enum
{
  AT_FLOAT = 1,
  AT_INT = 2,
  AT_STRING = 3,
  AT_TENSOR = 4,
  AT_FLOATS = 6,
  AT_INTS = 7,
};

/* TensorProto.DataType */
enum
{
  DT_FLOAT = 1,
  DT_UINT8 = 2,
  DT_INT8 = 3,
  DT_INT32 = 6,
  DT_INT64 = 7,
  DT_BOOL = 9,
  DT_FLOAT16 = 10,
  DT_DOUBLE = 11,
};

typedef struct
{
  const uint8_t *p;
  size_t n;
} span;

/* What a value is, which decides where the engine computes it. */
typedef enum
{
  KIND_CONST,  /* known at load: stored, or computed from stored data only */
  KIND_STATIC, /* known at plan time: depends on an activation's shape */
  KIND_ACT,    /* an activation: rank 4, NHWC in the IR */
} value_kind;

typedef struct
{
  span name;
  uint32_t hash;
  int tensor;
  value_kind kind;
  int rank;
  int64_t len; /* element count of a rank-0/1 value if known, else -1 */
  int data;    /* tensor holding this value's bytes (through Identity), or -1 */
  int nhwc;    /* NHWC copy of a rank-3/4 constant for broadcasting, or -1 */
} value;

typedef struct
{
  const char *file;
  seg_err *err;
  seg_graph *g;
  int64_t opset;
  value *vals;
  int nvals, vals_cap;
  int *slots; /* open-addressing index into vals; -1 = empty */
  size_t nslots;
  uint32_t seed;
} ctx;

typedef struct
{
  int index;
  span name_s, op_s, domain;
  char name[MAX_NAME + 32]; /* the node's name, or "<op>#<index>" */
  char op[MAX_NAME + 1];
  int nin, nout; /* as in the file; only the first SEG_MAX_IO are kept */
  span in[SEG_MAX_IO], out[SEG_MAX_IO];
  int vin[SEG_MAX_IO]; /* value index per input, -1 when the name is "" */
  span msg;
} onnx_node;

typedef struct
{
  span name;
  int64_t type; /* 0 when the writer left it out (old files) */
  bool has_f, has_i, has_s, has_t;
  float f;
  int64_t i;
  span s, t, msg;
} onnx_attr;

/* A TensorProto as read (onnx_read_tensor). */
typedef struct
{
  span name;
  seg_dtype dtype;
  int rank;
  int64_t dims[SEG_MAX_RANK];
  void *data; /* owned; at least one byte so that empty constants count */
  size_t nbytes;
} tensor_in;

/* A ValueInfoProto as read (onnx_read_value_info). */
typedef struct
{
  span name;
  int64_t elem_type;          /* 0 when not given */
  int rank;                   /* -1 when no shape is given */
  int64_t dims[SEG_MAX_RANK]; /* -1 for symbolic or missing dims */
} value_info;

/* ---- onnx.c: errors, names, the value table ---------------------------- */

/* "file: <what>" into c->err; returns st. */
seg_status onnx_fail (ctx *c, seg_status st, const char *fmt, ...)
    __attribute__ ((format (printf, 3, 4)));
/* "file: node 'NAME' (OP): <what>" into c->err; returns st. */
seg_status onnx_node_fail (ctx *c, const onnx_node *n, seg_status st,
    const char *fmt, ...) __attribute__ ((format (printf, 4, 5)));
seg_status onnx_nomem (ctx *c);
seg_status onnx_bad_wire (ctx *c, const char *where, const char *field,
    const seg_pb_field *f, seg_pb_wire want);
seg_status onnx_bad_pb (ctx *c, const char *where, const char *why);

bool onnx_span_eq (span s, const char *lit);
seg_status
onnx_check_name (ctx *c, span s, const char *where, const char *field);
const char *onnx_span_str (span s, char *buf, size_t size);

int onnx_lookup (const ctx *c, span name);
int onnx_new_value (ctx *c, span name, int tensor, value_kind kind, int rank);
int onnx_define (ctx *c, span name, int tensor, value_kind kind, int rank);
seg_status onnx_add_tensor (ctx *c, const char *name, seg_dtype dt, int rank,
    const int64_t *dims, void *data, size_t nbytes, int *index);
void onnx_value_set_data (ctx *c, int v, int tensor);

/* ---- onnx-proto.c: message readers ------------------------------------- */

bool onnx_map_dtype (int64_t onnx, seg_dtype *dt);
const char *onnx_dtype_name (int64_t onnx);
void onnx_store_elem (void *dst, size_t i, seg_dtype dt, uint64_t v);
seg_status onnx_read_tensor (ctx *c, span msg, const char *where, tensor_in *t);
seg_status
onnx_read_value_info (ctx *c, span msg, const char *where, value_info *vi);
seg_status onnx_read_node (ctx *c, span msg, int index, onnx_node *n);

seg_status onnx_find_attr (ctx *c, const onnx_node *n, const char *name,
    onnx_attr *a, bool *found);
seg_status
onnx_attr_want (ctx *c, const onnx_node *n, const onnx_attr *a, int64_t type);
seg_status onnx_get_int (ctx *c, const onnx_node *n, const char *name,
    int64_t def, int64_t *v, bool *found);
seg_status onnx_get_float (ctx *c, const onnx_node *n, const char *name,
    float def, float *v);
seg_status onnx_get_string (ctx *c, const onnx_node *n, const char *name,
    span *s, bool *found);
seg_status onnx_get_ints (ctx *c, const onnx_node *n, const char *name,
    int64_t *v, int max, int *count);
seg_status onnx_get_int_list (ctx *c, const onnx_node *n, const char *name,
    int want, int64_t lo, int64_t hi, int *out);

/* ---- onnx-ops.c: op importers ------------------------------------------ */

value *onnx_val (ctx *c, int v);
/* Reads NodeProto msg (the index-th of the graph) and imports it through
 * the op table. */
seg_status onnx_import_node (ctx *c, span msg, int index);

#endif
