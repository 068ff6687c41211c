/* TFLite importer: turns the FlatBuffer of a .tflite file (schema version 3)
 * into the graph IR. TFLite activations are already NHWC and its weights
 * already in the layouts graph.h names (OHWI, 1HWO), so tensors map one to
 * one, in file order, and only the op vocabulary the MediaPipe selfie
 * segmentation models use (plus its trivial neighbours) is accepted. The
 * file is untrusted: flatbuf.c bounds-checks every read, and this file
 * checks every index, count and shape against the graph limits before it
 * is used.
 *
 * One file of ~1.2k lines: the importer's context (tensor map, buffer
 * checks) is used by every op mapper; unlike ONNX there is no protobuf
 * reader or value folding to split off (flatbuf.c is the reader).
 */
#include "import.h"
#include "flatbuf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* BuiltinOperator codes we map (schema.fbs). */
enum
{
  TFL_ADD = 0,
  TFL_AVERAGE_POOL_2D = 1,
  TFL_CONV_2D = 3,
  TFL_DEPTHWISE_CONV_2D = 4,
  TFL_DEQUANTIZE = 6,
  TFL_LOGISTIC = 14,
  TFL_MUL = 18,
  TFL_RELU = 19,
  TFL_RELU_N1_TO_1 = 20,
  TFL_RELU6 = 21,
  TFL_RESIZE_BILINEAR = 23,
  TFL_CUSTOM = 32,
  TFL_MEAN = 40,
  TFL_HARD_SWISH = 117,
};

/* BuiltinOptions union members we read. */
enum
{
  OPT_CONV_2D = 1,
  OPT_DEPTHWISE_CONV_2D = 2,
  OPT_POOL_2D = 5,
  OPT_ADD = 11,
  OPT_RESIZE_BILINEAR = 15,
  OPT_MUL = 21,
  OPT_REDUCER = 27,
};

/* Field ids, in schema declaration order (a union takes two). */
enum
{
  MODEL_VERSION = 0,
  MODEL_OPERATOR_CODES = 1,
  MODEL_SUBGRAPHS = 2,
  MODEL_BUFFERS = 4
};
enum
{
  OPCODE_DEPRECATED_BUILTIN = 0,
  OPCODE_CUSTOM = 1,
  OPCODE_BUILTIN = 3
};
enum
{
  SUBGRAPH_TENSORS = 0,
  SUBGRAPH_INPUTS = 1,
  SUBGRAPH_OUTPUTS = 2,
  SUBGRAPH_OPERATORS = 3
};
enum
{
  TENSOR_SHAPE = 0,
  TENSOR_TYPE = 1,
  TENSOR_BUFFER = 2,
  TENSOR_NAME = 3,
  TENSOR_QUANTIZATION = 4,
  TENSOR_IS_VARIABLE = 5,
  TENSOR_SPARSITY = 6
};
enum
{
  QUANT_SCALE = 2
};
enum
{
  BUFFER_DATA = 0,
  BUFFER_OFFSET = 1,
  BUFFER_SIZE = 2
};
enum
{
  OP_OPCODE_INDEX = 0,
  OP_INPUTS = 1,
  OP_OUTPUTS = 2,
  OP_BUILTIN_OPTIONS_TYPE = 3,
  OP_BUILTIN_OPTIONS = 4,
  OP_CUSTOM_OPTIONS = 5,
  OP_LARGE_CUSTOM_OFFSET = 9,
  OP_LARGE_CUSTOM_SIZE = 10
};

/* TensorType */
enum
{
  TT_FLOAT32 = 0,
  TT_FLOAT16 = 1,
  TT_INT32 = 2,
  TT_UINT8 = 3,
  TT_INT64 = 4,
  TT_BOOL = 6,
  TT_INT8 = 9
};

/* Padding and ActivationFunctionType */
enum
{
  PAD_SAME = 0,
  PAD_VALID = 1
};
enum
{
  ACT_NONE = 0,
  ACT_RELU = 1,
  ACT_RELU_N1_TO_1 = 2,
  ACT_RELU6 = 3
};

/* TfLitePadding, as MediaPipe's custom op stores it in its options. */
enum
{
  TFLITE_PADDING_SAME = 1,
  TFLITE_PADDING_VALID = 2
};

#define TRANSPOSE_CONV_CUSTOM "Convolution2DTransposeBias"

/* Names are only for messages and debugging; capping them keeps a hostile
 * file whose tensors all share one huge string from costing gigabytes. */
#define MAX_NAME 256

/* BuiltinOperator names for messages, indexed by code. */
static const char *const builtin_names[] = {
    "ADD",
    "AVERAGE_POOL_2D",
    "CONCATENATION",
    "CONV_2D",
    "DEPTHWISE_CONV_2D",
    "DEPTH_TO_SPACE",
    "DEQUANTIZE",
    "EMBEDDING_LOOKUP",
    "FLOOR",
    "FULLY_CONNECTED",
    "HASHTABLE_LOOKUP",
    "L2_NORMALIZATION",
    "L2_POOL_2D",
    "LOCAL_RESPONSE_NORMALIZATION",
    "LOGISTIC",
    "LSH_PROJECTION",
    "LSTM",
    "MAX_POOL_2D",
    "MUL",
    "RELU",
    "RELU_N1_TO_1",
    "RELU6",
    "RESHAPE",
    "RESIZE_BILINEAR",
    "RNN",
    "SOFTMAX",
    "SPACE_TO_DEPTH",
    "SVDF",
    "TANH",
    "CONCAT_EMBEDDINGS",
    "SKIP_GRAM",
    "CALL",
    "CUSTOM",
    "EMBEDDING_LOOKUP_SPARSE",
    "PAD",
    "UNIDIRECTIONAL_SEQUENCE_RNN",
    "GATHER",
    "BATCH_TO_SPACE_ND",
    "SPACE_TO_BATCH_ND",
    "TRANSPOSE",
    "MEAN",
    "SUB",
    "DIV",
    "SQUEEZE",
    "UNIDIRECTIONAL_SEQUENCE_LSTM",
    "STRIDED_SLICE",
    "BIDIRECTIONAL_SEQUENCE_RNN",
    "EXP",
    "TOPK_V2",
    "SPLIT",
    "LOG_SOFTMAX",
    "DELEGATE",
    "BIDIRECTIONAL_SEQUENCE_LSTM",
    "CAST",
    "PRELU",
    "MAXIMUM",
    "ARG_MAX",
    "MINIMUM",
    "LESS",
    "NEG",
    "PADV2",
    "GREATER",
    "GREATER_EQUAL",
    "LESS_EQUAL",
    "SELECT",
    "SLICE",
    "SIN",
    "TRANSPOSE_CONV",
    "SPARSE_TO_DENSE",
    "TILE",
    "EXPAND_DIMS",
    "EQUAL",
    "NOT_EQUAL",
    "LOG",
    "SUM",
    "SQRT",
    "RSQRT",
    "SHAPE",
    "POW",
    "ARG_MIN",
    "FAKE_QUANT",
    "REDUCE_PROD",
    "REDUCE_MAX",
    "PACK",
    "LOGICAL_OR",
    "ONE_HOT",
    "LOGICAL_AND",
    "LOGICAL_NOT",
    "UNPACK",
    "REDUCE_MIN",
    "FLOOR_DIV",
    "REDUCE_ANY",
    "SQUARE",
    "ZEROS_LIKE",
    "FILL",
    "FLOOR_MOD",
    "RANGE",
    "RESIZE_NEAREST_NEIGHBOR",
    "LEAKY_RELU",
    "SQUARED_DIFFERENCE",
    "MIRROR_PAD",
    "ABS",
    "SPLIT_V",
    "UNIQUE",
    "CEIL",
    "REVERSE_V2",
    "ADD_N",
    "GATHER_ND",
    "COS",
    "WHERE",
    "RANK",
    "ELU",
    "REVERSE_SEQUENCE",
    "MATRIX_DIAG",
    "QUANTIZE",
    "MATRIX_SET_DIAG",
    "ROUND",
    "HARD_SWISH",
    "IF",
    "WHILE",
    "NON_MAX_SUPPRESSION_V4",
    "NON_MAX_SUPPRESSION_V5",
    "SCATTER_ND",
    "SELECT_V2",
    "DENSIFY",
    "SEGMENT_SUM",
    "BATCH_MATMUL",
    "PLACEHOLDER_FOR_GREATER_OP_CODES",
    "CUMSUM",
    "CALL_ONCE",
    "BROADCAST_TO",
    "RFFT2D",
    "CONV_3D",
    "IMAG",
    "REAL",
    "COMPLEX_ABS",
    "HASHTABLE",
    "HASHTABLE_FIND",
    "HASHTABLE_IMPORT",
    "HASHTABLE_SIZE",
    "REDUCE_ALL",
    "CONV_3D_TRANSPOSE",
    "VAR_HANDLE",
    "READ_VARIABLE",
    "ASSIGN_VARIABLE",
    "BROADCAST_ARGS",
    "RANDOM_STANDARD_NORMAL",
    "BUCKETIZE",
    "RANDOM_UNIFORM",
    "MULTINOMIAL",
    "GELU",
    "DYNAMIC_UPDATE_SLICE",
    "RELU_0_TO_1",
    "UNSORTED_SEGMENT_PROD",
    "UNSORTED_SEGMENT_MAX",
    "UNSORTED_SEGMENT_SUM",
    "ATAN2",
    "UNSORTED_SEGMENT_MIN",
    "SIGN",
    "BITCAST",
    "BITWISE_XOR",
    "RIGHT_SHIFT",
};

typedef struct
{
  const char *file;
  seg_err *err;
  seg_fb fb;
  seg_graph *g;
  seg_fb_vec opcodes, buffers, tensors, operators;
  bool have_opcodes, have_buffers;
  /* Constant data is copied; the first copy of each buffer is bounded by
   * the file, later copies of a shared buffer are charged to `budget`. */
  uint8_t *buffer_used;
  uint64_t budget;
  /* The operator being imported, for messages. */
  uint32_t opi;
  char label[96];
} ctx;

static seg_status fail (ctx *c, seg_status st, const char *fmt, ...)
    __attribute__ ((format (printf, 3, 4)));

/* "file: <what>" */
static seg_status
fail (ctx *c, seg_status st, const char *fmt, ...)
{
  char what[384];
  va_list ap;
  va_start (ap, fmt);
  vsnprintf (what, sizeof what, fmt, ap);
  va_end (ap);
  return seg_fail (c->err, st, "%s: %s", c->file, what);
}

static seg_status node_fail (ctx *c, seg_status st, const char *fmt, ...)
    __attribute__ ((format (printf, 3, 4)));

/* "file: operator N (LABEL): <what>" */
static seg_status
node_fail (ctx *c, seg_status st, const char *fmt, ...)
{
  char what[320];
  va_list ap;
  va_start (ap, fmt);
  vsnprintf (what, sizeof what, fmt, ap);
  va_end (ap);
  return seg_fail (c->err, st, "%s: operator %u (%s): %s", c->file, c->opi,
      c->label, what);
}

/* Copies at most MAX_NAME - 1 bytes of a file string, replacing bytes
 * that would garble a one-line message. */
static void
copy_name (char *dst, const char *src, size_t len)
{
  if (len > MAX_NAME - 1)
    len = MAX_NAME - 1;
  for (size_t i = 0; i < len; i++) {
    unsigned char ch = (unsigned char) src[i];
    dst[i] = ch < 0x20 || ch == 0x7f ? '?' : (char) ch;
  }
  dst[len] = '\0';
}

static const seg_tensor *
tensor (const ctx *c, int t)
{
  return &c->g->tensors[t];
}

/* ---- tensors ----------------------------------------------------------- */

static bool
map_type (uint8_t tt, seg_dtype *dt)
{
  switch (tt) {
    case TT_FLOAT32:
      *dt = SEG_DT_F32;
      return true;
    case TT_FLOAT16:
      *dt = SEG_DT_F16;
      return true;
    case TT_INT32:
      *dt = SEG_DT_I32;
      return true;
    case TT_UINT8:
      *dt = SEG_DT_U8;
      return true;
    case TT_INT64:
      *dt = SEG_DT_I64;
      return true;
    case TT_BOOL:
      *dt = SEG_DT_BOOL;
      return true;
    case TT_INT8:
      *dt = SEG_DT_I8;
      return true;
  }
  return false;
}

/* Copies the constant data of tensor i from buffer `bi`, if it has any. */
static seg_status
tensor_data (ctx *c, uint32_t i, const char *name, uint32_t bi, seg_dtype dt,
    int64_t elements, void **data, size_t *nbytes)
{
  seg_fb_table buf;
  seg_fb_vec bytes;
  uint64_t offset, size;

  *data = NULL;
  *nbytes = 0;
  /* Buffer 0 is the schema's empty sentinel; a file may omit the vector
   * altogether when nothing is constant. */
  if (!c->have_buffers && bi == 0)
    return SEG_OK;
  if (!c->have_buffers || bi >= c->buffers.len)
    return fail (c, SEG_ERR_FORMAT,
        "tensor %u '%s': buffer %u out of range (%u buffers)", i, name, bi,
        c->have_buffers ? c->buffers.len : 0);
  if (!seg_fb_vec_table (&c->buffers, bi, &buf))
    return fail (c, SEG_ERR_FORMAT, "buffer %u: table outside the file", bi);
  if (!seg_fb_get_u64 (&buf, BUFFER_OFFSET, 0, &offset)
      || !seg_fb_get_u64 (&buf, BUFFER_SIZE, 0, &size))
    return fail (c, SEG_ERR_FORMAT,
        "buffer %u: offset/size fields outside the table", bi);
  /* Offsets of 0 and 1 are the converter's "not used" markers. */
  if (offset > 1 || size != 0)
    return fail (c, SEG_ERR_UNSUPPORTED,
        "buffer %u: data stored outside the FlatBuffer (models over 2 GB) "
        "is not supported",
        bi);
  seg_fb_result r = seg_fb_get_vector (&buf, BUFFER_DATA, 1, &bytes);
  if (r == SEG_FB_BAD)
    return fail (c, SEG_ERR_FORMAT, "buffer %u: data outside the file", bi);
  if (r == SEG_FB_ABSENT || bytes.len == 0)
    return SEG_OK;

  size_t want = (size_t) elements * seg_dtype_size (dt);
  if (bytes.len != want)
    return fail (c, SEG_ERR_FORMAT,
        "tensor %u '%s': buffer %u holds %u bytes, its shape needs %zu", i,
        name, bi, bytes.len, want);
  if (c->buffer_used[bi]) {
    if (want > c->budget)
      return fail (c, SEG_ERR_FORMAT,
          "tensor %u '%s': buffer %u shared by more constant data than the "
          "file holds",
          i, name, bi);
    c->budget -= want;
  }
  c->buffer_used[bi] = 1;
  *data = malloc (want);
  if (!*data)
    return fail (c, SEG_ERR_NOMEM, "out of memory for tensor %u", i);
  memcpy (*data, seg_fb_vec_data (&bytes), want);
  *nbytes = want;
  return SEG_OK;
}

static seg_status
import_tensor (ctx *c, uint32_t i)
{
  seg_fb_table t, q;
  seg_fb_vec shape, scale;
  const char *s;
  size_t slen;
  char name[MAX_NAME];
  int64_t dims[SEG_MAX_RANK];
  uint8_t tt;
  uint32_t bi;
  bool variable;
  seg_dtype dt;

  if (!seg_fb_vec_table (&c->tensors, i, &t))
    return fail (c, SEG_ERR_FORMAT, "tensor %u: table outside the file", i);
  seg_fb_result r = seg_fb_get_string (&t, TENSOR_NAME, &s, &slen);
  if (r == SEG_FB_BAD)
    return fail (c, SEG_ERR_FORMAT, "tensor %u: name outside the file", i);
  if (r == SEG_FB_OK)
    copy_name (name, s, slen);
  else
    snprintf (name, sizeof name, "tensor#%u", i);

  if (!seg_fb_get_u8 (&t, TENSOR_TYPE, TT_FLOAT32, &tt)
      || !seg_fb_get_u32 (&t, TENSOR_BUFFER, 0, &bi)
      || !seg_fb_get_bool (&t, TENSOR_IS_VARIABLE, false, &variable))
    return fail (c, SEG_ERR_FORMAT, "tensor %u '%s': field outside its table",
        i, name);
  if (!map_type (tt, &dt))
    return fail (c, SEG_ERR_UNSUPPORTED,
        "tensor %u '%s': tensor type %u not supported", i, name, tt);
  if (variable)
    return fail (c, SEG_ERR_UNSUPPORTED,
        "tensor %u '%s': variable tensors are not supported", i, name);
  if (seg_fb_has_field (&t, TENSOR_SPARSITY))
    return fail (c, SEG_ERR_UNSUPPORTED,
        "tensor %u '%s': sparse tensors are not supported", i, name);

  r = seg_fb_get_table (&t, TENSOR_QUANTIZATION, &q);
  if (r == SEG_FB_BAD)
    return fail (c, SEG_ERR_FORMAT,
        "tensor %u '%s': quantization outside the file", i, name);
  if (r == SEG_FB_OK) {
    r = seg_fb_get_vector (&q, QUANT_SCALE, 4, &scale);
    if (r == SEG_FB_BAD)
      return fail (c, SEG_ERR_FORMAT,
          "tensor %u '%s': quantization scale outside the file", i, name);
    if (r == SEG_FB_OK && scale.len > 0)
      return fail (c, SEG_ERR_UNSUPPORTED,
          "tensor %u '%s': quantized tensors are not supported", i, name);
  }

  r = seg_fb_get_vector (&t, TENSOR_SHAPE, 4, &shape);
  if (r == SEG_FB_BAD)
    return fail (c, SEG_ERR_FORMAT, "tensor %u '%s': shape outside the file", i,
        name);
  if (r == SEG_FB_OK && shape.len > SEG_MAX_RANK)
    return fail (c, SEG_ERR_UNSUPPORTED, "tensor %u '%s': rank %u above %d", i,
        name, shape.len, SEG_MAX_RANK);
  int rank = r == SEG_FB_OK ? (int) shape.len : 0;
  for (int d = 0; d < rank; d++) {
    int32_t v = seg_fb_vec_i32 (&shape, (uint32_t) d);
    if (v < 0 || v > SEG_MAX_DIM)
      return fail (c, SEG_ERR_FORMAT,
          "tensor %u '%s': shape[%d] = %d out of range 0..%d", i, name, d, v,
          SEG_MAX_DIM);
    dims[d] = v;
  }
  int64_t elements = seg_shape_elements (rank, dims);
  if (elements < 0)
    return fail (c, SEG_ERR_FORMAT, "tensor %u '%s': more than %lld elements",
        i, name, (long long) SEG_MAX_ELEMENTS);

  void *data;
  size_t nbytes;
  seg_status st = tensor_data (c, i, name, bi, dt, elements, &data, &nbytes);
  if (st != SEG_OK)
    return st;
  int idx = seg_graph_add_tensor (c->g, name, dt, rank, dims, data, nbytes);
  if (idx < 0)
    return fail (c, SEG_ERR_NOMEM, "out of memory adding tensor %u", i);
  return SEG_OK;
}

/* ---- operators --------------------------------------------------------- */

/* Reads the operator's tensor lists: between min_in and max_in inputs
 * (those past min_in may be -1, "absent"), exactly one output. */
static seg_status
op_io (ctx *c, const seg_fb_table *op, int min_in, int max_in, int *in,
    int *nin, int *out)
{
  seg_fb_vec vin, vout;
  seg_fb_result r = seg_fb_get_vector (op, OP_INPUTS, 4, &vin);
  if (r == SEG_FB_BAD)
    return node_fail (c, SEG_ERR_FORMAT, "inputs outside the file");
  uint32_t n = r == SEG_FB_OK ? vin.len : 0;
  if (n < (uint32_t) min_in || n > (uint32_t) max_in) {
    if (min_in == max_in)
      return node_fail (c, SEG_ERR_FORMAT, "%u inputs, expected %d", n, min_in);
    return node_fail (c, SEG_ERR_FORMAT, "%u inputs, expected %d to %d", n,
        min_in, max_in);
  }
  for (uint32_t j = 0; j < n; j++) {
    int32_t t = seg_fb_vec_i32 (&vin, j);
    if (t == -1 && j >= (uint32_t) min_in) {
      in[j] = -1;
      continue;
    }
    if (t < 0 || t >= c->g->ntensors)
      return node_fail (c, SEG_ERR_FORMAT, "input %u refers to tensor %d of %d",
          j, t, c->g->ntensors);
    in[j] = t;
  }
  *nin = (int) n;

  r = seg_fb_get_vector (op, OP_OUTPUTS, 4, &vout);
  if (r == SEG_FB_BAD)
    return node_fail (c, SEG_ERR_FORMAT, "outputs outside the file");
  n = r == SEG_FB_OK ? vout.len : 0;
  if (n != 1)
    return node_fail (c, SEG_ERR_FORMAT, "%u outputs, expected 1", n);
  int32_t t = seg_fb_vec_i32 (&vout, 0);
  if (t < 0 || t >= c->g->ntensors)
    return node_fail (c, SEG_ERR_FORMAT, "output 0 refers to tensor %d of %d",
        t, c->g->ntensors);
  *out = t;
  return SEG_OK;
}

/* Opens the builtin options table if present (*have = false otherwise:
 * every field takes its schema default). */
static seg_status
op_options (ctx *c, const seg_fb_table *op, uint8_t want, seg_fb_table *opts,
    bool *have)
{
  uint8_t type;
  if (!seg_fb_get_u8 (op, OP_BUILTIN_OPTIONS_TYPE, 0, &type))
    return node_fail (c, SEG_ERR_FORMAT,
        "builtin_options_type outside its table");
  seg_fb_result r = seg_fb_get_table (op, OP_BUILTIN_OPTIONS, opts);
  if (r == SEG_FB_BAD)
    return node_fail (c, SEG_ERR_FORMAT, "builtin_options outside the file");
  *have = r == SEG_FB_OK;
  if (*have && type != want)
    return node_fail (c, SEG_ERR_FORMAT,
        "builtin_options of union type %u, expected %u", type, want);
  return SEG_OK;
}

static seg_status
fused_act (ctx *c, uint8_t code, seg_attrs *a)
{
  switch (code) {
    case ACT_NONE:
      a->act = SEG_ACT_NONE;
      return SEG_OK;
    case ACT_RELU:
      a->act = SEG_ACT_RELU;
      return SEG_OK;
    case ACT_RELU_N1_TO_1:
      a->act = SEG_ACT_CLIP;
      a->act_a = -1.0f;
      a->act_b = 1.0f;
      return SEG_OK;
    case ACT_RELU6:
      a->act = SEG_ACT_CLIP;
      a->act_a = 0.0f;
      a->act_b = 6.0f;
      return SEG_OK;
  }
  return node_fail (c, SEG_ERR_UNSUPPORTED,
      "fused activation %u not supported (TANH/SIGN_BIT or unknown)", code);
}

static seg_status
pad_mode (ctx *c, uint8_t code, seg_pad_mode *mode)
{
  switch (code) {
    case PAD_SAME:
      *mode = SEG_PAD_SAME_UPPER; /* TFLite puts the odd pixel at the end */
      return SEG_OK;
    case PAD_VALID:
      *mode = SEG_PAD_VALID;
      return SEG_OK;
  }
  return node_fail (c, SEG_ERR_FORMAT, "padding %u unknown", code);
}

static seg_status
check_window (ctx *c, const char *what, int32_t h, int32_t w)
{
  if (h < 1 || w < 1 || h > SEG_MAX_DIM || w > SEG_MAX_DIM)
    return node_fail (c, SEG_ERR_FORMAT, "%s %d x %d out of range", what, h, w);
  return SEG_OK;
}

static seg_status
need_rank4 (ctx *c, int t, const char *what)
{
  if (tensor (c, t)->rank != 4)
    return node_fail (c, SEG_ERR_FORMAT,
        "%s tensor %d '%s' has rank %d, expected 4", what, t,
        tensor (c, t)->name, tensor (c, t)->rank);
  return SEG_OK;
}

static seg_node *
add_node (ctx *c, seg_op op, int nin, const int *in, int out)
{
  return seg_graph_add_node (c->g, op, tensor (c, out)->name, nin, in, 1, &out);
}

#define TRY(expr)            \
  do {                       \
    seg_status st_ = (expr); \
    if (st_ != SEG_OK)       \
      return st_;            \
  } while (0)

#define ADD_NODE(n, op, nin, in, out)                                     \
  do {                                                                    \
    (n) = add_node (c, (op), (nin), (in), (out));                         \
    if (!(n))                                                             \
      return node_fail (c, SEG_ERR_NOMEM, "out of memory or node limit"); \
  } while (0)

static seg_status
map_conv (ctx *c, const seg_fb_table *op, bool depthwise)
{
  int in[3], nin, out;
  seg_fb_table o;
  bool have;
  uint8_t padding, act;
  int32_t sw, sh, dw, dh, mult = 0;
  bool ok;

  TRY (op_io (c, op, 2, 3, in, &nin, &out));
  TRY (op_options (c, op, depthwise ? OPT_DEPTHWISE_CONV_2D : OPT_CONV_2D, &o,
      &have));
  if (!have)
    return node_fail (c, SEG_ERR_FORMAT, "missing builtin_options");
  /* Conv2DOptions{padding, stride_w, stride_h, fused_activation_function,
   * dilation_w_factor, dilation_h_factor}; the depthwise one has
   * depth_multiplier before the activation. */
  int k = depthwise ? 1 : 0;
  ok = seg_fb_get_u8 (&o, 0, PAD_SAME, &padding)
      && seg_fb_get_i32 (&o, 1, 0, &sw) && seg_fb_get_i32 (&o, 2, 0, &sh)
      && (!depthwise || seg_fb_get_i32 (&o, 3, 0, &mult))
      && seg_fb_get_u8 (&o, 3 + k, ACT_NONE, &act)
      && seg_fb_get_i32 (&o, 4 + k, 1, &dw)
      && seg_fb_get_i32 (&o, 5 + k, 1, &dh);
  if (!ok)
    return node_fail (c, SEG_ERR_FORMAT, "option field outside its table");
  TRY (check_window (c, "stride", sh, sw));
  TRY (check_window (c, "dilation", dh, dw));
  TRY (need_rank4 (c, in[0], "input"));
  TRY (need_rank4 (c, in[1], "weight"));

  const int64_t *xd = tensor (c, in[0])->dims, *wd = tensor (c, in[1])->dims;
  int64_t channels = xd[3], groups;
  if (depthwise) {
    /* [1, KH, KW, C * multiplier]: one group per input channel. */
    if (wd[0] != 1 || channels < 1 || wd[3] % channels != 0)
      return node_fail (c, SEG_ERR_FORMAT,
          "weight shape [%lld, %lld, %lld, %lld] does not fit %lld input "
          "channels",
          (long long) wd[0], (long long) wd[1], (long long) wd[2],
          (long long) wd[3], (long long) channels);
    if (mult != 0 && wd[3] != channels * mult)
      return node_fail (c, SEG_ERR_FORMAT,
          "depth_multiplier %d disagrees with weights "
          "(%lld outputs for %lld channels)",
          mult, (long long) wd[3], (long long) channels);
    groups = channels;
  } else {
    /* [O, KH, KW, I / groups] */
    if (channels < 1 || wd[3] < 1 || channels % wd[3] != 0
        || wd[0] % (channels / wd[3]) != 0)
      return node_fail (c, SEG_ERR_FORMAT,
          "weight shape [%lld, %lld, %lld, %lld] does not fit %lld input "
          "channels",
          (long long) wd[0], (long long) wd[1], (long long) wd[2],
          (long long) wd[3], (long long) channels);
    groups = channels / wd[3];
  }
  if (wd[1] < 1 || wd[2] < 1)
    return node_fail (c, SEG_ERR_FORMAT, "empty %lld x %lld kernel",
        (long long) wd[1], (long long) wd[2]);

  seg_node *n;
  ADD_NODE (n, SEG_OP_CONV, nin, in, out);
  n->a.kernel[0] = (int) wd[1];
  n->a.kernel[1] = (int) wd[2];
  n->a.stride[0] = sh;
  n->a.stride[1] = sw;
  n->a.dilation[0] = dh;
  n->a.dilation[1] = dw;
  n->a.groups = (int) groups;
  n->a.wlayout = depthwise ? SEG_WL_1HWO : SEG_WL_OHWI;
  TRY (pad_mode (c, padding, &n->a.pad_mode));
  return fused_act (c, act, &n->a);
}

/* MediaPipe's Convolution2DTransposeBias: inputs x, OHWI weights, bias;
 * custom_options are TfLiteTransposeConvParams (3 little-endian int32). */
static seg_status
map_transpose_conv (ctx *c, const seg_fb_table *op)
{
  int in[3], nin, out;
  seg_fb_vec opts;
  uint64_t large_off, large_size;

  TRY (op_io (c, op, 3, 3, in, &nin, &out));
  if (!seg_fb_get_u64 (op, OP_LARGE_CUSTOM_OFFSET, 0, &large_off)
      || !seg_fb_get_u64 (op, OP_LARGE_CUSTOM_SIZE, 0, &large_size))
    return node_fail (c, SEG_ERR_FORMAT,
        "large_custom_options fields outside the table");
  if (large_off > 1 || large_size != 0)
    return node_fail (c, SEG_ERR_UNSUPPORTED,
        "custom options stored outside the FlatBuffer are not supported");
  seg_fb_result r = seg_fb_get_vector (op, OP_CUSTOM_OPTIONS, 1, &opts);
  if (r == SEG_FB_BAD)
    return node_fail (c, SEG_ERR_FORMAT, "custom_options outside the file");
  if (r != SEG_FB_OK || opts.len != 12)
    return node_fail (c, SEG_ERR_FORMAT,
        "custom_options hold %u bytes, expected 12",
        r == SEG_FB_OK ? opts.len : 0);
  const uint8_t *p = seg_fb_vec_data (&opts);
  int32_t v[3];
  for (int i = 0; i < 3; i++)
    v[i] = (int32_t) ((uint32_t) p[4 * i] | (uint32_t) p[4 * i + 1] << 8
        | (uint32_t) p[4 * i + 2] << 16 | (uint32_t) p[4 * i + 3] << 24);
  int32_t padding = v[0], sw = v[1], sh = v[2];
  if (padding != TFLITE_PADDING_SAME && padding != TFLITE_PADDING_VALID)
    return node_fail (c, SEG_ERR_FORMAT, "padding %d unknown", padding);
  TRY (check_window (c, "stride", sh, sw));
  TRY (need_rank4 (c, in[0], "input"));
  TRY (need_rank4 (c, in[1], "weight"));
  const int64_t *xd = tensor (c, in[0])->dims, *wd = tensor (c, in[1])->dims;
  if (wd[3] != xd[3] || wd[0] < 1 || wd[1] < 1 || wd[2] < 1)
    return node_fail (c, SEG_ERR_FORMAT,
        "weight shape [%lld, %lld, %lld, %lld] does not fit %lld input "
        "channels",
        (long long) wd[0], (long long) wd[1], (long long) wd[2],
        (long long) wd[3], (long long) xd[3]);

  seg_node *n;
  ADD_NODE (n, SEG_OP_CONV_TRANSPOSE, nin, in, out);
  n->a.kernel[0] = (int) wd[1];
  n->a.kernel[1] = (int) wd[2];
  n->a.stride[0] = sh;
  n->a.stride[1] = sw;
  n->a.wlayout = SEG_WL_OHWI;
  if (padding == TFLITE_PADDING_VALID) {
    n->a.pad_mode = SEG_PAD_VALID;
    return SEG_OK;
  }
  /* MediaPipe's SAME pads max(0, k - (in - 1) % s - 1) in total, the odd
   * pixel at the end. That is ONNX's SAME_UPPER (total k - s, output
   * in * s) whenever k >= s and s divides the input, true of every real
   * model; otherwise pin the padding for the declared input size. */
  int64_t k[2] = {wd[1], wd[2]}, s[2] = {sh, sw}, x[2] = {xd[1], xd[2]};
  bool upper = true;
  for (int i = 0; i < 2; i++)
    upper = upper && k[i] >= s[i] && x[i] % s[i] == 0;
  if (upper) {
    n->a.pad_mode = SEG_PAD_SAME_UPPER;
    return SEG_OK;
  }
  n->a.pad_mode = SEG_PAD_EXPLICIT;
  for (int i = 0; i < 2; i++) {
    if (x[i] < 1)
      return node_fail (c, SEG_ERR_FORMAT, "empty input");
    int64_t total = k[i] - (x[i] - 1) % s[i] - 1;
    if (total < 0)
      total = 0;
    n->a.pads[i] = (int) (total / 2);
    n->a.pads[i + 2] = (int) (total - total / 2);
  }
  return SEG_OK;
}

static seg_status
map_binary (ctx *c, const seg_fb_table *op, seg_op sop, uint8_t opt_type)
{
  int in[2], nin, out;
  seg_fb_table o;
  bool have;
  uint8_t act = ACT_NONE;

  TRY (op_io (c, op, 2, 2, in, &nin, &out));
  TRY (op_options (c, op, opt_type, &o, &have));
  if (have && !seg_fb_get_u8 (&o, 0, ACT_NONE, &act))
    return node_fail (c, SEG_ERR_FORMAT, "option field outside its table");
  seg_node *n;
  ADD_NODE (n, sop, nin, in, out);
  return fused_act (c, act, &n->a);
}

static seg_status
map_unary (ctx *c, const seg_fb_table *op, seg_op sop, float lo, float hi)
{
  int in[1], nin, out;
  seg_node *n;

  TRY (op_io (c, op, 1, 1, in, &nin, &out));
  ADD_NODE (n, sop, nin, in, out);
  n->a.alpha = lo;
  n->a.beta = hi;
  return SEG_OK;
}

/* Only the global form (the window covers the whole declared input) is a
 * pool we run. */
static seg_status
map_average_pool (ctx *c, const seg_fb_table *op)
{
  int in[1], nin, out;
  seg_fb_table o;
  bool have;
  uint8_t padding, act;
  int32_t sw, sh, fw, fh;

  TRY (op_io (c, op, 1, 1, in, &nin, &out));
  TRY (op_options (c, op, OPT_POOL_2D, &o, &have));
  if (!have)
    return node_fail (c, SEG_ERR_FORMAT, "missing builtin_options");
  /* Pool2DOptions{padding, stride_w, stride_h, filter_width, filter_height,
   * fused_activation_function} */
  if (!seg_fb_get_u8 (&o, 0, PAD_SAME, &padding)
      || !seg_fb_get_i32 (&o, 1, 0, &sw) || !seg_fb_get_i32 (&o, 2, 0, &sh)
      || !seg_fb_get_i32 (&o, 3, 0, &fw) || !seg_fb_get_i32 (&o, 4, 0, &fh)
      || !seg_fb_get_u8 (&o, 5, ACT_NONE, &act))
    return node_fail (c, SEG_ERR_FORMAT, "option field outside its table");
  TRY (check_window (c, "stride", sh, sw));
  TRY (check_window (c, "filter", fh, fw));
  TRY (need_rank4 (c, in[0], "input"));
  const int64_t *xd = tensor (c, in[0])->dims;
  if (padding != PAD_VALID || fh != xd[1] || fw != xd[2])
    return node_fail (c, SEG_ERR_UNSUPPORTED,
        "%d x %d %s window on a %lld x %lld input: only global pooling is "
        "supported",
        fh, fw, padding == PAD_VALID ? "VALID" : "SAME", (long long) xd[1],
        (long long) xd[2]);
  seg_node *n;
  ADD_NODE (n, SEG_OP_GLOBAL_AVG_POOL, 1, in, out);
  return fused_act (c, act, &n->a);
}

/* MEAN over H and W keeping dims is the same global pool. */
static seg_status
map_mean (ctx *c, const seg_fb_table *op)
{
  int in[2], nin, out;
  seg_fb_table o;
  bool have, keep = false;

  TRY (op_io (c, op, 2, 2, in, &nin, &out));
  TRY (op_options (c, op, OPT_REDUCER, &o, &have));
  if (have && !seg_fb_get_bool (&o, 0, false, &keep))
    return node_fail (c, SEG_ERR_FORMAT, "option field outside its table");
  TRY (need_rank4 (c, in[0], "input"));
  const seg_tensor *axes = tensor (c, in[1]);
  if (!axes->data || (axes->dtype != SEG_DT_I32 && axes->dtype != SEG_DT_I64))
    return node_fail (c, SEG_ERR_UNSUPPORTED,
        "axes are not a constant integer tensor");
  size_t na = axes->nbytes / seg_dtype_size (axes->dtype);
  bool seen[4] = {false, false, false, false};
  bool global = na == 2;
  for (size_t j = 0; j < na && global; j++) {
    int64_t a;
    if (axes->dtype == SEG_DT_I32) {
      int32_t v;
      memcpy (&v, (const uint8_t *) axes->data + 4 * j, 4);
      a = v;
    } else {
      memcpy (&a, (const uint8_t *) axes->data + 8 * j, 8);
    }
    if (a < 0)
      a += 4;
    global = (a == 1 || a == 2) && !seen[a];
    if (global)
      seen[a] = true;
  }
  if (!global || !keep)
    return node_fail (c, SEG_ERR_UNSUPPORTED,
        "only MEAN over axes {1, 2} with keep_dims is supported");
  seg_node *n;
  ADD_NODE (n, SEG_OP_GLOBAL_AVG_POOL, 1, in, out);
  return SEG_OK;
}

static seg_status
map_resize (ctx *c, const seg_fb_table *op)
{
  int io[2], nin, out;
  seg_fb_table o;
  bool have, align = false, half = false;

  TRY (op_io (c, op, 2, 2, io, &nin, &out));
  TRY (op_options (c, op, OPT_RESIZE_BILINEAR, &o, &have));
  /* ResizeBilinearOptions{new_height, new_width (deprecated),
   * align_corners, half_pixel_centers} */
  if (have
      && (!seg_fb_get_bool (&o, 2, false, &align)
          || !seg_fb_get_bool (&o, 3, false, &half)))
    return node_fail (c, SEG_ERR_FORMAT, "option field outside its table");
  if (align && half)
    return node_fail (c, SEG_ERR_FORMAT,
        "align_corners and half_pixel_centers both set");
  const seg_tensor *size = tensor (c, io[1]);
  if (size->dtype != SEG_DT_I32 || size->rank != 1 || size->dims[0] != 2)
    return node_fail (c, SEG_ERR_FORMAT,
        "size tensor %d '%s' is not an int32 [2] (new_height, new_width)",
        io[1], size->name);
  TRY (need_rank4 (c, io[0], "input"));

  int in[4] = {io[0], -1, -1, io[1]};
  seg_node *n;
  ADD_NODE (n, SEG_OP_RESIZE, 4, in, out);
  n->a.nchw = false;
  n->a.coord = half ? SEG_COORD_HALF_PIXEL
      : align       ? SEG_COORD_ALIGN_CORNERS
                    : SEG_COORD_ASYMMETRIC;
  return SEG_OK;
}

/* The selfie models store weights as float16 constants, each followed by a
 * DEQUANTIZE to float32; the load-time passes fold the pair. */
static seg_status
map_dequantize (ctx *c, const seg_fb_table *op)
{
  int in[1], nin, out;
  seg_node *n;

  TRY (op_io (c, op, 1, 1, in, &nin, &out));
  const seg_tensor *x = tensor (c, in[0]), *y = tensor (c, out);
  if (x->dtype != SEG_DT_F16 || !x->data)
    return node_fail (c, SEG_ERR_UNSUPPORTED,
        "only constant float16 inputs are supported (got %s%s): "
        "quantized models are not",
        x->data ? "constant " : "", seg_dtype_name (x->dtype));
  if (y->dtype != SEG_DT_F32)
    return node_fail (c, SEG_ERR_FORMAT, "output is %s, expected float32",
        seg_dtype_name (y->dtype));
  /* Consumers take kernel sizes from the declared output shape, so it must
   * be the shape of the data that the fold will put there. */
  bool same = x->rank == y->rank;
  for (int d = 0; same && d < x->rank; d++)
    same = x->dims[d] == y->dims[d];
  if (!same)
    return node_fail (c, SEG_ERR_FORMAT,
        "output shape differs from the input's");
  ADD_NODE (n, SEG_OP_DEQUANTIZE, nin, in, out);
  return SEG_OK;
}

static seg_status
import_operator (ctx *c, uint32_t i)
{
  seg_fb_table op, code;
  uint32_t ci;
  int8_t dep;
  int32_t builtin;
  const char *custom = NULL;
  size_t clen = 0;
  char cname[MAX_NAME] = "";

  c->opi = i;
  snprintf (c->label, sizeof c->label, "?");
  if (!seg_fb_vec_table (&c->operators, i, &op))
    return node_fail (c, SEG_ERR_FORMAT, "table outside the file");
  if (!seg_fb_get_u32 (&op, OP_OPCODE_INDEX, 0, &ci))
    return node_fail (c, SEG_ERR_FORMAT, "opcode_index outside its table");
  if (!c->have_opcodes || ci >= c->opcodes.len)
    return node_fail (c, SEG_ERR_FORMAT, "opcode_index %u of %u", ci,
        c->have_opcodes ? c->opcodes.len : 0);
  if (!seg_fb_vec_table (&c->opcodes, ci, &code))
    return node_fail (c, SEG_ERR_FORMAT, "operator code %u outside the file",
        ci);
  if (!seg_fb_get_i8 (&code, OPCODE_DEPRECATED_BUILTIN, 0, &dep)
      || !seg_fb_get_i32 (&code, OPCODE_BUILTIN, 0, &builtin))
    return node_fail (c, SEG_ERR_FORMAT,
        "operator code %u: field outside its table", ci);
  /* Old writers fill only the byte field, new ones both (the byte capped
   * at 127): the larger is the real code. */
  if (dep > builtin)
    builtin = dep;
  if (builtin == TFL_CUSTOM) {
    seg_fb_result r = seg_fb_get_string (&code, OPCODE_CUSTOM, &custom, &clen);
    if (r == SEG_FB_BAD)
      return node_fail (c, SEG_ERR_FORMAT,
          "operator code %u: custom_code outside the file", ci);
    if (r == SEG_FB_ABSENT)
      custom = "";
    copy_name (cname, custom, clen);
    snprintf (c->label, sizeof c->label, "CUSTOM '%.64s'", cname);
  } else if (builtin >= 0
      && (size_t) builtin < sizeof builtin_names / sizeof builtin_names[0]) {
    snprintf (c->label, sizeof c->label, "%s", builtin_names[builtin]);
  } else {
    snprintf (c->label, sizeof c->label, "builtin %d", (int) builtin);
  }

  switch (builtin) {
    case TFL_CONV_2D:
      return map_conv (c, &op, false);
    case TFL_DEPTHWISE_CONV_2D:
      return map_conv (c, &op, true);
    case TFL_ADD:
      return map_binary (c, &op, SEG_OP_ADD, OPT_ADD);
    case TFL_MUL:
      return map_binary (c, &op, SEG_OP_MUL, OPT_MUL);
    case TFL_HARD_SWISH:
      return map_unary (c, &op, SEG_OP_HARDSWISH, 0, 0);
    case TFL_RELU:
      return map_unary (c, &op, SEG_OP_RELU, 0, 0);
    case TFL_RELU6:
      return map_unary (c, &op, SEG_OP_CLIP, 0.0f, 6.0f);
    case TFL_RELU_N1_TO_1:
      return map_unary (c, &op, SEG_OP_CLIP, -1.0f, 1.0f);
    case TFL_LOGISTIC:
      return map_unary (c, &op, SEG_OP_SIGMOID, 0, 0);
    case TFL_AVERAGE_POOL_2D:
      return map_average_pool (c, &op);
    case TFL_MEAN:
      return map_mean (c, &op);
    case TFL_RESIZE_BILINEAR:
      return map_resize (c, &op);
    case TFL_DEQUANTIZE:
      return map_dequantize (c, &op);
    case TFL_CUSTOM:
      if (strcmp (cname, TRANSPOSE_CONV_CUSTOM) == 0 && clen == strlen (cname))
        return map_transpose_conv (c, &op);
      break;
  }
  return node_fail (c, SEG_ERR_UNSUPPORTED, "op not supported");
}

/* ---- model ------------------------------------------------------------- */

/* Reads a subgraph's single input or output index. */
static seg_status
io_index (ctx *c, const seg_fb_table *sg, unsigned field, const char *what,
    int *t)
{
  seg_fb_vec v;
  seg_fb_result r = seg_fb_get_vector (sg, field, 4, &v);
  if (r == SEG_FB_BAD)
    return fail (c, SEG_ERR_FORMAT, "subgraph 0: %s outside the file", what);
  uint32_t n = r == SEG_FB_OK ? v.len : 0;
  if (n != 1)
    return fail (c, SEG_ERR_UNSUPPORTED,
        "subgraph 0 has %u %s, exactly 1 is supported", n, what);
  int32_t i = seg_fb_vec_i32 (&v, 0);
  if (i < 0 || i >= c->g->ntensors)
    return fail (c, SEG_ERR_FORMAT, "subgraph 0: %s refers to tensor %d of %d",
        what, i, c->g->ntensors);
  *t = i;
  return SEG_OK;
}

static seg_status
import_model (ctx *c)
{
  seg_fb_table model, sg;
  seg_fb_vec subgraphs;
  uint32_t version;
  seg_fb_result r;

  if (!seg_fb_has_identifier (&c->fb, "TFL3"))
    return fail (c, SEG_ERR_FORMAT,
        "not a TFLite model (no \"TFL3\" file identifier)");
  if (!seg_fb_root (&c->fb, &model))
    return fail (c, SEG_ERR_FORMAT, "root table outside the file");
  if (!seg_fb_get_u32 (&model, MODEL_VERSION, 0, &version))
    return fail (c, SEG_ERR_FORMAT, "version outside the root table");
  if (version != 3)
    return fail (c, SEG_ERR_UNSUPPORTED, "schema version %u, expected 3",
        version);

  r = seg_fb_get_vector (&model, MODEL_OPERATOR_CODES, 4, &c->opcodes);
  if (r == SEG_FB_BAD)
    return fail (c, SEG_ERR_FORMAT, "operator_codes outside the file");
  c->have_opcodes = r == SEG_FB_OK;
  r = seg_fb_get_vector (&model, MODEL_BUFFERS, 4, &c->buffers);
  if (r == SEG_FB_BAD)
    return fail (c, SEG_ERR_FORMAT, "buffers outside the file");
  c->have_buffers = r == SEG_FB_OK;
  r = seg_fb_get_vector (&model, MODEL_SUBGRAPHS, 4, &subgraphs);
  if (r == SEG_FB_BAD)
    return fail (c, SEG_ERR_FORMAT, "subgraphs outside the file");
  if (r == SEG_FB_ABSENT || subgraphs.len == 0)
    return fail (c, SEG_ERR_FORMAT, "no subgraph");
  /* Further subgraphs are bodies of control-flow ops, which we reject. */
  if (!seg_fb_vec_table (&subgraphs, 0, &sg))
    return fail (c, SEG_ERR_FORMAT, "subgraph 0: table outside the file");

  r = seg_fb_get_vector (&sg, SUBGRAPH_TENSORS, 4, &c->tensors);
  if (r == SEG_FB_BAD)
    return fail (c, SEG_ERR_FORMAT, "subgraph 0: tensors outside the file");
  if (r == SEG_FB_ABSENT)
    c->tensors.len = 0;
  if (c->tensors.len > SEG_MAX_TENSORS)
    return fail (c, SEG_ERR_FORMAT, "subgraph 0: %u tensors, more than %d",
        c->tensors.len, SEG_MAX_TENSORS);
  r = seg_fb_get_vector (&sg, SUBGRAPH_OPERATORS, 4, &c->operators);
  if (r == SEG_FB_BAD)
    return fail (c, SEG_ERR_FORMAT, "subgraph 0: operators outside the file");
  if (r == SEG_FB_ABSENT)
    c->operators.len = 0;
  if (c->operators.len > SEG_MAX_NODES)
    return fail (c, SEG_ERR_FORMAT, "subgraph 0: %u operators, more than %d",
        c->operators.len, SEG_MAX_NODES);

  /* The buffers vector is bounds-checked, so this is at most size / 4. */
  c->buffer_used = calloc (c->have_buffers ? c->buffers.len + 1 : 1, 1);
  if (!c->buffer_used)
    return fail (c, SEG_ERR_NOMEM, "out of memory");
  c->budget = c->fb.size;

  for (uint32_t i = 0; i < c->tensors.len; i++)
    TRY (import_tensor (c, i));
  for (uint32_t i = 0; i < c->operators.len; i++)
    TRY (import_operator (c, i));

  int in, out;
  TRY (io_index (c, &sg, SUBGRAPH_INPUTS, "inputs", &in));
  TRY (io_index (c, &sg, SUBGRAPH_OUTPUTS, "outputs", &out));
  if (tensor (c, in)->data)
    return fail (c, SEG_ERR_FORMAT,
        "subgraph input tensor %d '%s' is a constant", in,
        tensor (c, in)->name);
  c->g->inputs[0] = in;
  c->g->ninputs = 1;
  c->g->outputs[0] = out;
  c->g->noutputs = 1;
  return seg_graph_validate (c->g, c->file, c->err);
}

seg_status
seg_import_tflite (const uint8_t *data, size_t size, const char *file,
    seg_graph **out, seg_err *err)
{
  ctx c;

  *out = NULL;
  if (!file)
    file = "model.tflite";
  if (!data && size > 0)
    return seg_fail (err, SEG_ERR_INVALID, "%s: no data", file);
  memset (&c, 0, sizeof c);
  c.file = file;
  c.err = err;
  c.fb.buf = data;
  c.fb.size = size;
  c.g = seg_graph_new (SEG_LAYOUT_NHWC);
  if (!c.g)
    return seg_fail (err, SEG_ERR_NOMEM, "%s: out of memory", file);

  seg_status st = import_model (&c);
  free (c.buffer_used);
  if (st != SEG_OK) {
    seg_graph_free (c.g);
    return st;
  }
  *out = c.g;
  return SEG_OK;
}
