/* The graph IR shared by the importers, the load-time passes, the planner and
 * the executor.
 *
 * Layout convention: every rank-4 activation is NHWC in the IR, whatever the
 * file used. The ONNX importer records dims of NCHW activations as NHWC and
 * marks the nodes whose semantics depend on the source order (Shape, Resize
 * sizes/scales, Concat/Gather over shape values) with `nchw`. Weights stay in
 * the file's layout (recorded per node in attrs.wlayout); ops repack them at
 * load into whatever their kernels want, so importers never transpose data.
 */
#ifndef SEG_GRAPH_H
#define SEG_GRAPH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "segmenter/seg.h"

#define SEG_MAX_RANK 6
#define SEG_MAX_IO 8
#define SEG_MAX_INTS 8

/* Bounds on untrusted files: far above any real model, far below what
 * would hurt. They bound each tensor; what a load creates in all is
 * bounded by its seg_budget. */
#define SEG_MAX_TENSORS 100000
#define SEG_MAX_NODES 100000
#define SEG_MAX_DIM 65536
#define SEG_MAX_ELEMENTS ((int64_t) 1 << 28) /* per tensor, 1 GiB of f32 */

/* ---- errors ------------------------------------------------------------ */

typedef struct
{
  char msg[512];
} seg_err;

/* Formats into err (if non-NULL) and returns status, so that error paths are
 * one line: `return seg_fail (err, SEG_ERR_FORMAT, "%s: ...", file);` */
seg_status seg_fail (seg_err *err, seg_status status, const char *fmt, ...)
    __attribute__ ((format (printf, 3, 4)));

/* ---- memory budget ----------------------------------------------------- */

/* What one load may create (seg_load_options.memory_budget): charged
 * before each allocation whose size a file decides, so that a 24-byte
 * shape cannot make us allocate gigabytes. */
typedef struct
{
  size_t limit; /* bytes */
  size_t used;
} seg_budget;

struct seg_node;

/* Adds `bytes` to b->used, or, when that would pass b->limit, fails with
 * `status` and a message naming node n (may be NULL) and `what` ("its
 * folded output", ...) and leaves b alone. */
seg_status
seg_budget_charge (seg_budget *b, size_t bytes, const struct seg_node *n,
    const char *what, seg_status status, seg_err *err);

/* ---- tensors ----------------------------------------------------------- */

typedef enum
{
  SEG_DT_F32,
  SEG_DT_F16,
  SEG_DT_I64,
  SEG_DT_I32,
  SEG_DT_U8,
  SEG_DT_I8,
  SEG_DT_BOOL,
  SEG_DT_F64,
} seg_dtype;

size_t seg_dtype_size (seg_dtype dt);
const char *seg_dtype_name (seg_dtype dt);

typedef struct
{
  char *name; /* owned; never NULL */
  seg_dtype dtype;
  int rank;                   /* 0..SEG_MAX_RANK */
  int64_t dims[SEG_MAX_RANK]; /* IR layout; -1 = unknown until planned */
  void *data; /* constants only: owned, nbytes long; NULL otherwise */
  size_t nbytes;
} seg_tensor;

/* ---- nodes ------------------------------------------------------------- */

typedef enum
{
  /* compute ops on f32 activations */
  SEG_OP_CONV,
  SEG_OP_CONV_TRANSPOSE,
  SEG_OP_ADD,
  SEG_OP_SUB,
  SEG_OP_MUL,
  SEG_OP_DIV,
  SEG_OP_RELU,
  SEG_OP_CLIP,        /* attrs.alpha = min, attrs.beta = max (Relu6: 0, 6) */
  SEG_OP_HARDSIGMOID, /* max(0, min(1, alpha * x + beta)) */
  SEG_OP_HARDSWISH,
  SEG_OP_SIGMOID,
  SEG_OP_GLOBAL_AVG_POOL, /* over H, W; output N,1,1,C */
  SEG_OP_RESIZE,          /* bilinear, inputs: x, [roi], [scales], [sizes] */
  SEG_OP_BATCHNORM,       /* x, scale, bias, mean, var; folded at load */
  SEG_OP_DEQUANTIZE,      /* f16 -> f32; folded at load */
  SEG_OP_IDENTITY,
  /* shape ops: evaluated at plan time on int64/f32 values, never at run */
  SEG_OP_SHAPE,
  SEG_OP_GATHER,
  SEG_OP_SLICE,
  SEG_OP_CONCAT,
  SEG_OP_CAST,
  SEG_OP_UNSQUEEZE,
  SEG_OP_SQUEEZE,
  SEG_OP_RESHAPE,
  SEG_OP_FLOOR,
  SEG_OP_CEIL,
  SEG_OP_CONSTANT_OF_SHAPE,
  /* made by the load-time passes only, never by an importer */
  SEG_OP_INVERTED_RESIDUAL, /* see seg_attrs.irb_* */
  SEG_OP_SE_PROJECT,        /* conv1x1 (x * gate [+ addend]) [+ residual]:
                             * se-project.c */
  SEG_OP_COUNT_
} seg_op;

const char *seg_op_name (seg_op op);

/* Activation fused into the op before it by the fusion pass. */
typedef enum
{
  SEG_ACT_NONE,
  SEG_ACT_RELU,
  SEG_ACT_CLIP,        /* act_a = min, act_b = max */
  SEG_ACT_HARDSIGMOID, /* act_a = alpha, act_b = beta */
  SEG_ACT_HARDSWISH,
  SEG_ACT_SIGMOID,
} seg_act;

/* Layout of a conv-like node's weight tensor as stored in the file. */
typedef enum
{
  SEG_WL_OIHW, /* ONNX Conv: [O, I/g, KH, KW] (depthwise [C, 1, KH, KW]) */
  SEG_WL_OHWI, /* TFLite CONV_2D and transposed conv: [O, KH, KW, I/g] */
  SEG_WL_1HWO, /* TFLite DEPTHWISE_CONV_2D: [1, KH, KW, C * mult] */
  SEG_WL_IOHW, /* ONNX ConvTranspose: [I, O/g, KH, KW] */
} seg_weight_layout;

typedef enum
{
  SEG_PAD_EXPLICIT,   /* pads[] as given */
  SEG_PAD_SAME_UPPER, /* ONNX SAME_UPPER / TFLite SAME: extra pad at the end */
  SEG_PAD_SAME_LOWER,
  SEG_PAD_VALID,
} seg_pad_mode;

/* Resize coordinate transformation (ONNX names). */
typedef enum
{
  SEG_COORD_HALF_PIXEL, /* also TFLite half_pixel_centers */
  SEG_COORD_PYTORCH_HALF_PIXEL,
  SEG_COORD_ALIGN_CORNERS,
  SEG_COORD_ASYMMETRIC, /* TFLite default */
} seg_coord_mode;

typedef struct
{
  /* Conv, ConvTranspose */
  int kernel[2]; /* h, w */
  int stride[2];
  int dilation[2];
  int pads[4]; /* top, left, bottom, right */
  int output_padding[2];
  int groups;
  seg_pad_mode pad_mode;
  seg_weight_layout wlayout;
  /* fused activation (Conv, ConvTranspose, Add, Mul, GlobalAvgPool) */
  seg_act act;
  float act_a, act_b;
  /* Clip min/max, HardSigmoid alpha/beta, BatchNorm epsilon in alpha */
  float alpha, beta;
  /* Resize */
  seg_coord_mode coord;
  /* Sizes/scales/shape values are in NCHW order and refer to an NHWC
   * activation (ONNX). Shape uses it to report dims in the file's order. */
  bool nchw;
  /* Gather/Concat/Squeeze/Unsqueeze/Cast/Shape/Slice attributes */
  int64_t axis;
  int64_t ints[SEG_MAX_INTS]; /* Unsqueeze/Squeeze axes (opset < 13) */
  int nints;
  int64_t start, end; /* Shape (opset 15) */
  bool has_end;
  seg_dtype to; /* Cast target; ConstantOfShape value dtype */
  float value;  /* ConstantOfShape fill value */
  /* InvertedResidual: inputs x, expand W, b, depthwise W, b, project W, b
   * (biases may be -1). The depthwise conv's geometry, weight layout and
   * activation are the conv fields above; the 1x1 convs' activations and
   * the one after the optional residual add (output = project + x) are
   * here. */
  seg_act irb_act[3]; /* expand, project, after the residual add */
  float irb_act_a[3], irb_act_b[3];
  bool irb_residual;
  /* Operands the passes fold into a node (fuse_elementwise in passes.c),
   * each of exactly the shape named, so that the Add never runs:
   * GlobalAvgPool input 1 (may be absent): pools in[0] + in[1], in[0]'s
   * shape. Conv input 3 (may be absent): added to the output after
   * a.act, then irb_act[2] applies; only on the depthwise and
   * unpadded-pointwise paths. SeProject input 5 (may be absent): the
   * projection reads x * gate + in[5], x's shape. */
} seg_attrs;

typedef struct seg_node
{
  seg_op op;
  char *name; /* owned; never NULL (importers synthesise "node#i") */
  int nin, nout;
  int in[SEG_MAX_IO]; /* tensor indices; -1 = optional input absent */
  int out[SEG_MAX_IO];
  seg_attrs a;
  /* Load-time prepared data (packed weights), owned by the op. */
  void *packed;
  void (*packed_free) (void *packed);
  bool dead; /* removed by a pass; skipped everywhere, dropped by compact */
} seg_node;

typedef struct seg_graph
{
  seg_tensor *tensors;
  int ntensors, tensors_cap;
  seg_node *nodes; /* topologically sorted after import */
  int nnodes, nodes_cap;
  int inputs[SEG_MAX_IO], ninputs;
  int outputs[SEG_MAX_IO], noutputs;
  seg_layout layout; /* the file's layout of the graph input/output */
} seg_graph;

seg_graph *seg_graph_new (seg_layout layout);
void seg_graph_free (seg_graph *g);

/* Adds a tensor; `data` (may be NULL) is taken over (transfer full) and must
 * hold nbytes bytes. Returns the index, or -1 on allocation failure/limit
 * (data is freed then too). */
int seg_graph_add_tensor (seg_graph *g, const char *name, seg_dtype dtype,
    int rank, const int64_t *dims, void *data, size_t nbytes);

/* Adds a node with the given inputs/outputs; attrs zeroed except
 * stride/dilation/groups = 1. Returns NULL on allocation failure/limit. The
 * pointer is valid until the next add_node. */
seg_node *seg_graph_add_node (seg_graph *g, seg_op op, const char *name,
    int nin, const int *in, int nout, const int *out);

/* Element count of a fully known shape; -1 if a dim is unknown or the
 * product exceeds SEG_MAX_ELEMENTS. */
int64_t seg_shape_elements (int rank, const int64_t *dims);

/* Checks every node's tensor indices are in range and that nodes are in
 * topological order (each input produced earlier, or constant/input). */
seg_status
seg_graph_validate (const seg_graph *g, const char *file, seg_err *err);

/* Drops dead nodes and tensors no node or graph output refers to. */
void seg_graph_compact (seg_graph *g);

/* fp16 bits -> float */
float seg_f16_to_f32 (uint16_t h);

#endif /* SEG_GRAPH_H */
