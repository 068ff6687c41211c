/* ONNX importer, ops: one map_* function per ONNX op (or family), the
 * table from op_type to them, and the helpers that emit IR nodes and check
 * their inputs. This is where ONNX's NCHW activations become the IR's NHWC
 * (see onnx.c) and where small constant subgraphs are folded at import.
 *
 * One file of ~1.2k lines: it is the op table and its mappers, one short
 * function per op over shared emit/check helpers; the message reader
 * (onnx-proto.c) and the graph and value code (onnx.c) are apart.
 */
#include "onnx-impl.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../ops/ops.h"

/* ---- emitting IR ------------------------------------------------------- */

value *
onnx_val (ctx *c, int v)
{
  return &c->vals[v];
}

static value_kind
join_kind (ctx *c, const onnx_node *n, int from, int to)
{
  value_kind k = KIND_CONST;
  for (int i = from; i < to && i < n->nin; i++) {
    if (n->vin[i] >= 0 && onnx_val (c, n->vin[i])->kind > k)
      k = onnx_val (c, n->vin[i])->kind;
  }
  return k;
}

/* Adds the node's output tensor and value, then the IR node reading the
 * given inputs (value indices, -1 absent). */
static seg_status
emit (ctx *c, const onnx_node *n, seg_op op, int nin, const int *vin,
    seg_dtype dt, value_kind kind, int rank, int64_t len, seg_node **node)
{
  int64_t dims[SEG_MAX_RANK];
  int tin[SEG_MAX_IO], t, out;
  char nb[MAX_NAME + 1];
  seg_status st;

  if (rank < 0 || rank > SEG_MAX_RANK)
    return onnx_node_fail (c, n, SEG_ERR_UNSUPPORTED,
        "output would have rank %d, at most %d supported", rank, SEG_MAX_RANK);
  for (int i = 0; i < SEG_MAX_RANK; i++)
    dims[i] = -1;
  if ((st = onnx_add_tensor (c, onnx_span_str (n->out[0], nb, sizeof nb), dt,
           rank, dims, NULL, 0, &t))
      != SEG_OK)
    return st;
  for (int i = 0; i < nin; i++)
    tin[i] = vin[i] >= 0 ? onnx_val (c, vin[i])->tensor : -1;
  *node = seg_graph_add_node (c->g, op, n->name, nin, tin, 1, &t);
  if (!*node)
    return onnx_nomem (c);
  if ((out = onnx_define (c, n->out[0], t, kind, rank)) < 0)
    return onnx_nomem (c);
  onnx_val (c, out)->len = rank == 0 ? 1 : rank == 1 ? len : -1;
  return SEG_OK;
}

/* Same with the ONNX inputs first..first+nin. */
static seg_status
emit_range (ctx *c, const onnx_node *n, seg_op op, int first, int nin,
    seg_dtype dt, value_kind kind, int rank, int64_t len, seg_node **node)
{
  int vin[SEG_MAX_IO];
  for (int i = 0; i < nin; i++)
    vin[i] = first + i < n->nin ? n->vin[first + i] : -1;
  return emit (c, n, op, nin, vin, dt, kind, rank, len, node);
}

static seg_dtype
val_dtype (ctx *c, int v)
{
  return c->g->tensors[onnx_val (c, v)->tensor].dtype;
}

/* Dims of a value with stored bytes; NULL when they are not known. */
static const seg_tensor *
val_data (ctx *c, int v)
{
  return v >= 0 && onnx_val (c, v)->data >= 0
      ? &c->g->tensors[onnx_val (c, v)->data]
      : NULL;
}

static seg_status
need_inputs (ctx *c, const onnx_node *n, int min, int max)
{
  if (n->nin < min || n->nin > max) {
    if (n->nin > SEG_MAX_IO)
      return onnx_node_fail (c, n, SEG_ERR_UNSUPPORTED,
          "has more than %d inputs", SEG_MAX_IO);
    return onnx_node_fail (c, n, SEG_ERR_FORMAT,
        "has %d inputs, expected %d to %d", n->nin, min, max);
  }
  for (int i = 0; i < min; i++)
    if (n->vin[i] < 0)
      return onnx_node_fail (c, n, SEG_ERR_FORMAT,
          "input %d is required but empty", i);
  return SEG_OK;
}

static seg_status
need_act (ctx *c, const onnx_node *n, int i)
{
  if (onnx_val (c, n->vin[i])->kind == KIND_ACT)
    return SEG_OK;
  char nb[MAX_NAME + 1];
  return onnx_node_fail (c, n, SEG_ERR_UNSUPPORTED,
      "input '%s' is not an activation; segd runs %s only on data that flows "
      "from the graph input",
      onnx_span_str (n->in[i], nb, sizeof nb), n->op);
}

static seg_status
need_const (ctx *c, const onnx_node *n, int i, const char *what)
{
  if (n->vin[i] < 0 || onnx_val (c, n->vin[i])->kind == KIND_CONST)
    return SEG_OK;
  char nb[MAX_NAME + 1];
  return onnx_node_fail (c, n, SEG_ERR_UNSUPPORTED,
      "%s '%s' must be a constant", what,
      onnx_span_str (n->in[i], nb, sizeof nb));
}

/* Shape arithmetic runs once per plan, never per frame: activations may not
 * flow into it. */
static seg_status
need_no_act (ctx *c, const onnx_node *n)
{
  for (int i = 0; i < n->nin && i < SEG_MAX_IO; i++) {
    if (n->vin[i] >= 0 && onnx_val (c, n->vin[i])->kind == KIND_ACT) {
      char nb[MAX_NAME + 1];
      return onnx_node_fail (c, n, SEG_ERR_UNSUPPORTED,
          "input '%s' is an activation; segd evaluates %s only on shapes and "
          "constants",
          onnx_span_str (n->in[i], nb, sizeof nb), n->op);
    }
  }
  return SEG_OK;
}

/* ---- ops --------------------------------------------------------------- */

/* op: the seg_op of the table entry, for handlers that serve several. */
typedef seg_status (*map_fn) (ctx *c, const onnx_node *n, seg_op op);

static seg_status
conv_common (ctx *c, const onnx_node *n, seg_op op, seg_node **node)
{
  seg_status st;
  seg_attrs a;
  memset (&a, 0, sizeof a);

  if ((st = need_inputs (c, n, 2, 3)) != SEG_OK
      || (st = need_act (c, n, 0)) != SEG_OK
      || (st = need_const (c, n, 1, "weight")) != SEG_OK
      || (st = need_const (c, n, 2, "bias")) != SEG_OK)
    return st;
  const value *w = onnx_val (c, n->vin[1]);
  if (w->rank != 4)
    return onnx_node_fail (c, n, SEG_ERR_UNSUPPORTED,
        "weight has rank %d; segd runs only 2-D convolutions", w->rank);
  if (n->nin > 2 && n->vin[2] >= 0 && onnx_val (c, n->vin[2])->rank != 1)
    return onnx_node_fail (c, n, SEG_ERR_FORMAT, "bias has rank %d, expected 1",
        onnx_val (c, n->vin[2])->rank);
  const seg_tensor *wt = val_data (c, n->vin[1]);

  a.stride[0] = a.stride[1] = a.dilation[0] = a.dilation[1] = 1;
  a.kernel[0] = a.kernel[1] = -1;
  if ((st = onnx_get_int_list (c, n, "kernel_shape", 2, 1, SEG_MAX_DIM,
           a.kernel))
          != SEG_OK
      || (st = onnx_get_int_list (c, n, "strides", 2, 1, SEG_MAX_DIM, a.stride))
          != SEG_OK
      || (st = onnx_get_int_list (c, n, "dilations", 2, 1, SEG_MAX_DIM,
              a.dilation))
          != SEG_OK
      || (st = onnx_get_int_list (c, n, "pads", 4, 0, SEG_MAX_DIM, a.pads))
          != SEG_OK)
    return st;
  if (wt) {
    for (int i = 0; i < 2; i++) {
      if (a.kernel[i] >= 0 && a.kernel[i] != wt->dims[2 + i])
        return onnx_node_fail (c, n, SEG_ERR_FORMAT,
            "attribute 'kernel_shape' = [%d, %d] does not match the weight's "
            "%lldx%lld",
            a.kernel[0], a.kernel[1], (long long) wt->dims[2],
            (long long) wt->dims[3]);
      a.kernel[i] = (int) wt->dims[2 + i];
    }
  } else if (a.kernel[0] < 0) {
    return onnx_node_fail (c, n, SEG_ERR_UNSUPPORTED,
        "weight is computed and attribute 'kernel_shape' is missing");
  }

  span ap;
  bool has;
  a.pad_mode = SEG_PAD_EXPLICIT;
  if ((st = onnx_get_string (c, n, "auto_pad", &ap, &has)) != SEG_OK)
    return st;
  if (has && !onnx_span_eq (ap, "NOTSET")) {
    char nb[MAX_NAME + 1];
    if (onnx_span_eq (ap, "SAME_UPPER"))
      a.pad_mode = SEG_PAD_SAME_UPPER;
    else if (onnx_span_eq (ap, "SAME_LOWER"))
      a.pad_mode = SEG_PAD_SAME_LOWER;
    else if (onnx_span_eq (ap, "VALID"))
      a.pad_mode = SEG_PAD_VALID;
    else
      return onnx_node_fail (c, n, SEG_ERR_FORMAT,
          "attribute 'auto_pad' = '%s' is not a padding mode",
          onnx_span_str (ap, nb, sizeof nb));
  }

  int64_t group;
  if ((st = onnx_get_int (c, n, "group", 1, &group, NULL)) != SEG_OK)
    return st;
  /* The grouped dim is O for Conv (OIHW) and I for ConvTranspose (IOHW):
   * dim 0 either way. */
  if (group < 1 || group > SEG_MAX_DIM || (wt && wt->dims[0] % group))
    return onnx_node_fail (c, n, SEG_ERR_FORMAT,
        "attribute 'group' = %lld out of range", (long long) group);
  a.groups = (int) group;

  if (op == SEG_OP_CONV_TRANSPOSE) {
    int64_t tmp[SEG_MAX_INTS];
    int cnt;
    if ((st = onnx_get_ints (c, n, "output_shape", tmp, SEG_MAX_INTS, &cnt))
        != SEG_OK)
      return st;
    if (cnt >= 0)
      return onnx_node_fail (c, n, SEG_ERR_UNSUPPORTED,
          "attribute 'output_shape' is not supported; give pads and "
          "output_padding");
    if ((st = onnx_get_int_list (c, n, "output_padding", 2, 0, SEG_MAX_DIM,
             a.output_padding))
        != SEG_OK)
      return st;
    a.wlayout = SEG_WL_IOHW;
  } else {
    a.wlayout = SEG_WL_OIHW;
  }

  if ((st = emit_range (c, n, op, 0, n->nin > 2 ? 3 : 2, SEG_DT_F32, KIND_ACT,
           4, -1, node))
      != SEG_OK)
    return st;
  a.act = SEG_ACT_NONE;
  a.to = SEG_DT_F32;
  (*node)->a = a;
  return SEG_OK;
}

static seg_status
map_conv (ctx *c, const onnx_node *n, seg_op op)
{
  seg_node *node;
  return conv_common (c, n, op, &node);
}


/* Writes a rank-3/4 NCHW constant as rank-4 NHWC, once per constant. */
static seg_status
nhwc_copy (ctx *c, const onnx_node *n, int v, int *copy)
{
  value *x = onnx_val (c, v);
  if (x->nhwc >= 0) {
    *copy = x->nhwc;
    return SEG_OK;
  }
  const seg_tensor *src = val_data (c, v);
  if (!src) {
    char nb[MAX_NAME + 1];
    return onnx_node_fail (c, n, SEG_ERR_UNSUPPORTED,
        "constant '%s' is computed, so it cannot be rewritten to NHWC for "
        "broadcasting",
        onnx_span_str (x->name, nb, sizeof nb));
  }
  int64_t d[4] = {1, 1, 1, 1};
  for (int i = 0; i < src->rank; i++)
    d[4 - src->rank + i] = src->dims[i];
  int64_t N = d[0], C = d[1], H = d[2], W = d[3];
  size_t es = seg_dtype_size (src->dtype);
  uint8_t *dst = malloc (src->nbytes ? src->nbytes : 1);
  if (!dst)
    return onnx_nomem (c);
  const uint8_t *s = src->data;
  for (int64_t in = 0; in < N; in++)
    for (int64_t ic = 0; ic < C; ic++)
      for (int64_t ih = 0; ih < H; ih++)
        for (int64_t iw = 0; iw < W; iw++)
          memcpy (dst + ((size_t) (((in * H + ih) * W + iw) * C + ic)) * es,
              s + ((size_t) (((in * C + ic) * H + ih) * W + iw)) * es, es);
  int64_t dims[4] = {N, H, W, C};
  char name[MAX_NAME + 16];
  snprintf (name, sizeof name, "%s:nhwc", src->name);
  int t = -1;
  seg_status st =
      onnx_add_tensor (c, name, src->dtype, 4, dims, dst, src->nbytes, &t);
  if (st != SEG_OK)
    return st;
  int nv = onnx_new_value (c, (span){NULL, 0}, t, KIND_CONST, 4);
  if (nv < 0)
    return onnx_nomem (c);
  c->vals[nv].data = t;
  /* new_value() may have moved the array under x. */
  onnx_val (c, v)->nhwc = nv;
  *copy = nv;
  return SEG_OK;
}

static int64_t
val_elements (ctx *c, int v)
{
  const seg_tensor *t = val_data (c, v);
  if (t)
    return seg_shape_elements (t->rank, t->dims);
  if (onnx_val (c, v)->rank <= 1)
    return onnx_val (c, v)->len;
  return -1;
}

static seg_status
map_binary (ctx *c, const onnx_node *n, seg_op op)
{
  seg_status st;
  seg_node *node;
  if ((st = need_inputs (c, n, 2, 2)) != SEG_OK)
    return st;
  int vin[2] = {n->vin[0], n->vin[1]};
  value_kind k = join_kind (c, n, 0, 2);

  if (k != KIND_ACT) {
    int ra = onnx_val (c, vin[0])->rank, rb = onnx_val (c, vin[1])->rank;
    int64_t la = onnx_val (c, vin[0])->len, lb = onnx_val (c, vin[1])->len,
            len = -1;
    if (ra <= 1 && rb <= 1 && la >= 0 && lb >= 0)
      len = la == 1 ? lb : lb == 1 ? la : la == lb ? la : -1;
    return emit (c, n, op, 2, vin, val_dtype (c, vin[0]), k, ra > rb ? ra : rb,
        len, &node);
  }

  /* One side is a rank-4 NHWC activation; make the other side agree. */
  for (int side = 0; side < 2; side++) {
    const value *o = onnx_val (c, vin[side]);
    if (o->kind == KIND_ACT)
      continue;
    char nb[MAX_NAME + 1];
    onnx_span_str (n->in[side], nb, sizeof nb);
    int64_t elems = val_elements (c, vin[side]);
    if (o->rank == 0 || elems == 1)
      continue;
    if (o->kind == KIND_STATIC)
      return onnx_node_fail (c, n, SEG_ERR_UNSUPPORTED,
          "combines an activation with the computed rank-%d value '%s'",
          o->rank, nb);
    if (o->rank >= 3 && o->rank <= 4) {
      int copy = -1;
      if ((st = nhwc_copy (c, n, vin[side], &copy)) != SEG_OK)
        return st;
      vin[side] = copy;
      continue;
    }
    /* A [W] or [H, W] constant broadcasts over NCHW's last axes, which
     * are not NHWC's: computing it would silently give wrong results. */
    return onnx_node_fail (c, n, SEG_ERR_UNSUPPORTED,
        "broadcasting the rank-%d constant '%s' over an NCHW activation is not "
        "supported (use shape [C,1,1] or [1,C,1,1])",
        o->rank, nb);
  }
  return emit (c, n, op, 2, vin, SEG_DT_F32, KIND_ACT, 4, -1, &node);
}


/* One-input ops that keep shape and kind. */
static seg_status
map_unary (ctx *c, const onnx_node *n, seg_op op, seg_node **node)
{
  seg_status st;
  if ((st = need_inputs (c, n, 1, 1)) != SEG_OK)
    return st;
  const value *x = onnx_val (c, n->vin[0]);
  return emit_range (c, n, op, 0, 1, val_dtype (c, n->vin[0]), x->kind, x->rank,
      x->len, node);
}

/* Relu, Sigmoid, HardSwish: no attributes. */
static seg_status
map_activation (ctx *c, const onnx_node *n, seg_op op)
{
  seg_node *node;
  return map_unary (c, n, op, &node);
}


static seg_status
map_hardsigmoid (ctx *c, const onnx_node *n, seg_op op)
{
  seg_node *node;
  float alpha, beta;
  seg_status st;
  if ((st = onnx_get_float (c, n, "alpha", 0.2f, &alpha)) != SEG_OK
      || (st = onnx_get_float (c, n, "beta", 0.5f, &beta)) != SEG_OK
      || (st = map_unary (c, n, SEG_OP_HARDSIGMOID, &node)) != SEG_OK)
    return st;
  node->a.alpha = alpha;
  node->a.beta = beta;
  return SEG_OK;
}

static seg_status
map_identity (ctx *c, const onnx_node *n, seg_op op)
{
  seg_node *node;
  seg_status st = map_unary (c, n, SEG_OP_IDENTITY, &node);
  if (st != SEG_OK)
    return st;
  /* Passes the stored bytes on, so that weights behind an Identity still
   * count as stored (torch shares weights this way). */
  int out = c->nvals - 1;
  const seg_tensor *src = val_data (c, n->vin[0]);
  if (src) {
    seg_tensor *t = &c->g->tensors[onnx_val (c, out)->tensor];
    memcpy (t->dims, src->dims, sizeof t->dims);
    onnx_val (c, out)->data = onnx_val (c, n->vin[0])->data;
  }
  return SEG_OK;
}

/* Reads a one-element stored constant as float. */
static seg_status
scalar_of (ctx *c, const onnx_node *n, int i, float *out)
{
  char nb[MAX_NAME + 1];
  const seg_tensor *t = val_data (c, n->vin[i]);
  onnx_span_str (n->in[i], nb, sizeof nb);
  if (!t)
    return onnx_node_fail (c, n, SEG_ERR_UNSUPPORTED,
        "input '%s' must be a stored constant", nb);
  if (seg_shape_elements (t->rank, t->dims) != 1)
    return onnx_node_fail (c, n, SEG_ERR_FORMAT,
        "input '%s' must have one element", nb);
  switch (t->dtype) {
    case SEG_DT_F32:
      memcpy (out, t->data, sizeof *out);
      return SEG_OK;
    case SEG_DT_F64: {
      double d;
      memcpy (&d, t->data, sizeof d);
      *out = (float) d;
      return SEG_OK;
    }
    case SEG_DT_F16: {
      uint16_t h;
      memcpy (&h, t->data, sizeof h);
      *out = seg_f16_to_f32 (h);
      return SEG_OK;
    }
    default:
      return onnx_node_fail (c, n, SEG_ERR_UNSUPPORTED,
          "input '%s' has type %s, expected a float", nb,
          seg_dtype_name (t->dtype));
  }
}

static seg_status
map_clip (ctx *c, const onnx_node *n, seg_op op)
{
  seg_status st;
  seg_node *node;
  float lo = -INFINITY, hi = INFINITY;
  if ((st = need_inputs (c, n, 1, 3)) != SEG_OK)
    return st;
  if (n->nin > 1 && n->vin[1] >= 0 && (st = scalar_of (c, n, 1, &lo)) != SEG_OK)
    return st;
  if (n->nin > 2 && n->vin[2] >= 0 && (st = scalar_of (c, n, 2, &hi)) != SEG_OK)
    return st;
  const value *x = onnx_val (c, n->vin[0]);
  if ((st = emit_range (c, n, SEG_OP_CLIP, 0, 1, val_dtype (c, n->vin[0]),
           x->kind, x->rank, x->len, &node))
      != SEG_OK)
    return st;
  node->a.alpha = lo;
  node->a.beta = hi;
  return SEG_OK;
}

static seg_status
map_global_avg_pool (ctx *c, const onnx_node *n, seg_op op)
{
  seg_status st;
  seg_node *node;
  if ((st = need_inputs (c, n, 1, 1)) != SEG_OK
      || (st = need_act (c, n, 0)) != SEG_OK)
    return st;
  return emit_range (c, n, SEG_OP_GLOBAL_AVG_POOL, 0, 1, SEG_DT_F32, KIND_ACT,
      4, -1, &node);
}

static seg_status
map_reduce_mean (ctx *c, const onnx_node *n, seg_op op)
{
  seg_status st;
  int64_t axes[SEG_MAX_INTS], keep;
  int cnt;
  if ((st = need_inputs (c, n, 1, 1)) != SEG_OK
      || (st = need_act (c, n, 0)) != SEG_OK
      || (st = onnx_get_ints (c, n, "axes", axes, SEG_MAX_INTS, &cnt)) != SEG_OK
      || (st = onnx_get_int (c, n, "keepdims", 1, &keep, NULL)) != SEG_OK)
    return st;
  /* The mean over H and W with kept dims is a global average pool. */
  bool h = false, w = false;
  for (int i = 0; i < cnt; i++) {
    h = h || axes[i] == 2 || axes[i] == -2;
    w = w || axes[i] == 3 || axes[i] == -1;
  }
  if (cnt != 2 || !h || !w || keep != 1)
    return onnx_node_fail (c, n, SEG_ERR_UNSUPPORTED,
        "only the mean over axes (2, 3) with keepdims=1 is supported");
  return map_global_avg_pool (c, n, op);
}

static seg_status
map_resize (ctx *c, const onnx_node *n, seg_op op)
{
  seg_status st;
  seg_node *node;
  span s;
  bool has;
  char nb[MAX_NAME + 1];
  seg_coord_mode coord = SEG_COORD_HALF_PIXEL;

  if ((st = need_inputs (c, n, 1, 4)) != SEG_OK
      || (st = need_act (c, n, 0)) != SEG_OK)
    return st;
  for (int i = 1; i < n->nin; i++) {
    if (n->vin[i] >= 0 && onnx_val (c, n->vin[i])->kind == KIND_ACT)
      return onnx_node_fail (c, n, SEG_ERR_UNSUPPORTED,
          "input %d ('%s') is computed from activation values", i,
          onnx_span_str (n->in[i], nb, sizeof nb));
  }
  if ((st = onnx_get_string (c, n, "mode", &s, &has)) != SEG_OK)
    return st;
  if (!has || !onnx_span_eq (s, "linear"))
    return onnx_node_fail (c, n, SEG_ERR_UNSUPPORTED,
        "attribute 'mode' = '%s'; segd resizes only with 'linear'",
        has ? onnx_span_str (s, nb, sizeof nb) : "nearest");
  if ((st = onnx_get_string (c, n, "coordinate_transformation_mode", &s, &has))
      != SEG_OK)
    return st;
  if (has) {
    if (onnx_span_eq (s, "half_pixel"))
      coord = SEG_COORD_HALF_PIXEL;
    else if (onnx_span_eq (s, "pytorch_half_pixel"))
      coord = SEG_COORD_PYTORCH_HALF_PIXEL;
    else if (onnx_span_eq (s, "align_corners"))
      coord = SEG_COORD_ALIGN_CORNERS;
    else if (onnx_span_eq (s, "asymmetric"))
      coord = SEG_COORD_ASYMMETRIC;
    else
      return onnx_node_fail (c, n, SEG_ERR_UNSUPPORTED,
          "attribute 'coordinate_transformation_mode' = '%s' is not supported",
          onnx_span_str (s, nb, sizeof nb));
  }
  if ((st = emit_range (c, n, SEG_OP_RESIZE, 0, n->nin, SEG_DT_F32, KIND_ACT, 4,
           -1, &node))
      != SEG_OK)
    return st;
  node->a.coord = coord;
  node->a.nchw = true;
  return SEG_OK;
}

static seg_status
map_batchnorm (ctx *c, const onnx_node *n, seg_op op)
{
  seg_status st;
  seg_node *node;
  float eps;
  int64_t training;
  static const char *const what[] = {"", "scale", "bias", "mean", "variance"};

  if ((st = need_inputs (c, n, 5, 5)) != SEG_OK
      || (st = need_act (c, n, 0)) != SEG_OK)
    return st;
  for (int i = 1; i < 5; i++)
    if ((st = need_const (c, n, i, what[i])) != SEG_OK)
      return st;
  if ((st = onnx_get_float (c, n, "epsilon", 1e-5f, &eps)) != SEG_OK
      || (st = onnx_get_int (c, n, "training_mode", 0, &training, NULL))
          != SEG_OK)
    return st;
  if (training)
    return onnx_node_fail (c, n, SEG_ERR_UNSUPPORTED,
        "training_mode is not supported");
  if ((st = emit_range (c, n, SEG_OP_BATCHNORM, 0, 5, SEG_DT_F32, KIND_ACT, 4,
           -1, &node))
      != SEG_OK)
    return st;
  node->a.alpha = eps;
  return SEG_OK;
}

/* Defines the node's output as stored bytes (taken over). */
static seg_status
define_const (ctx *c, const onnx_node *n, seg_dtype dt, int rank,
    const int64_t *dims, void *data, size_t nbytes)
{
  char nb[MAX_NAME + 1];
  int t = -1, v;
  seg_status st = onnx_add_tensor (c, onnx_span_str (n->out[0], nb, sizeof nb),
      dt, rank, dims, data, nbytes, &t);
  if (st != SEG_OK)
    return st;
  if ((v = onnx_define (c, n->out[0], t, KIND_CONST, rank)) < 0)
    return onnx_nomem (c);
  onnx_value_set_data (c, v, t);
  return SEG_OK;
}

static seg_status
map_constant (ctx *c, const onnx_node *n, seg_op op)
{
  seg_status st;
  onnx_attr a;
  bool has;
  const char *which = NULL;
  static const char *const names[] = {
      "value",
      "value_float",
      "value_floats",
      "value_int",
      "value_ints",
      "sparse_value",
      "value_string",
      "value_strings",
  };
  int found = 0, idx = -1;

  if ((st = need_inputs (c, n, 0, 0)) != SEG_OK)
    return st;
  for (int i = 0; i < (int) (sizeof names / sizeof names[0]); i++) {
    onnx_attr x;
    if ((st = onnx_find_attr (c, n, names[i], &x, &has)) != SEG_OK)
      return st;
    if (has) {
      found++;
      idx = i;
      which = names[i];
      a = x;
    }
  }
  if (found != 1)
    return onnx_node_fail (c, n, SEG_ERR_FORMAT,
        "needs exactly one value attribute, has %d", found);
  if (idx >= 5)
    return onnx_node_fail (c, n, SEG_ERR_UNSUPPORTED,
        "attribute '%s' is not supported", which);

  if (idx == 0) {
    tensor_in t;
    char w[MAX_NAME + 64];
    if ((st = onnx_attr_want (c, n, &a, AT_TENSOR)) != SEG_OK)
      return st;
    snprintf (w, sizeof w, "node '%s' attribute 'value'", n->name);
    if ((st = onnx_read_tensor (c, a.t, w, &t)) != SEG_OK)
      return st;
    return define_const (c, n, t.dtype, t.rank, t.dims, t.data, t.nbytes);
  }
  if (idx == 1 || idx == 3) {
    bool is_f = idx == 1;
    if ((st = onnx_attr_want (c, n, &a, is_f ? AT_FLOAT : AT_INT)) != SEG_OK)
      return st;
    void *d = malloc (is_f ? sizeof (float) : sizeof (int64_t));
    if (!d)
      return onnx_nomem (c);
    if (is_f)
      memcpy (d, &a.f, sizeof a.f);
    else
      memcpy (d, &a.i, sizeof a.i);
    return define_const (c, n, is_f ? SEG_DT_F32 : SEG_DT_I64, 0, NULL, d,
        is_f ? sizeof (float) : sizeof (int64_t));
  }

  bool is_f = idx == 2;
  const char *why = NULL;
  size_t cnt;
  uint32_t field = is_f ? ATTR_FLOATS : ATTR_INTS;
  seg_pb_kind kind = is_f ? SEG_PB_KIND_FIXED32 : SEG_PB_KIND_VARINT;
  if ((st = onnx_attr_want (c, n, &a, is_f ? AT_FLOATS : AT_INTS)) != SEG_OK)
    return st;
  if (seg_pb_repeated_count (a.msg.p, a.msg.n, field, kind, &cnt, &why)
      == SEG_PB_BAD)
    return onnx_node_fail (c, n, SEG_ERR_FORMAT, "attribute '%s': %s", which,
        why);
  if (cnt > SEG_MAX_DIM)
    return onnx_node_fail (c, n, SEG_ERR_FORMAT,
        "attribute '%s' has %zu values, at most %d", which, cnt, SEG_MAX_DIM);
  size_t es = is_f ? sizeof (float) : sizeof (int64_t);
  uint8_t *d = malloc (cnt ? cnt * es : 1);
  if (!d)
    return onnx_nomem (c);
  seg_pb_repeated it;
  uint64_t u;
  seg_pb_repeated_init (&it, a.msg.p, a.msg.n, field, kind);
  for (size_t i = 0; i < cnt; i++) {
    seg_pb_repeated_next (&it, &u, &why);
    onnx_store_elem (d, i, is_f ? SEG_DT_F32 : SEG_DT_I64, u);
  }
  int64_t dims[1] = {(int64_t) cnt};
  return define_const (c, n, is_f ? SEG_DT_F32 : SEG_DT_I64, 1, dims, d,
      cnt * es);
}

static seg_status
map_shape (ctx *c, const onnx_node *n, seg_op op)
{
  seg_status st;
  seg_node *node;
  int64_t start, end;
  bool has_end;

  if ((st = need_inputs (c, n, 1, 1)) != SEG_OK
      || (st = onnx_get_int (c, n, "start", 0, &start, NULL)) != SEG_OK
      || (st = onnx_get_int (c, n, "end", 0, &end, &has_end)) != SEG_OK)
    return st;
  const value *x = onnx_val (c, n->vin[0]);
  int r = x->rank;
  bool nchw = x->kind == KIND_ACT;
  /* Output length, clamped as the spec does. */
  int64_t s = start < 0 ? start + r : start,
          e = has_end ? (end < 0 ? end + r : end) : r;
  s = s < 0 ? 0 : s > r ? r : s;
  e = e < 0 ? 0 : e > r ? r : e;
  value_kind k = x->kind == KIND_CONST ? KIND_CONST : KIND_STATIC;
  if ((st = emit_range (c, n, SEG_OP_SHAPE, 0, 1, SEG_DT_I64, k, 1,
           e > s ? e - s : 0, &node))
      != SEG_OK)
    return st;
  node->a.start = start;
  node->a.end = end;
  node->a.has_end = has_end;
  node->a.nchw = nchw;
  return SEG_OK;
}

static seg_status
map_gather (ctx *c, const onnx_node *n, seg_op op)
{
  seg_status st;
  seg_node *node;
  int64_t axis;
  if ((st = need_inputs (c, n, 2, 2)) != SEG_OK
      || (st = need_no_act (c, n)) != SEG_OK
      || (st = onnx_get_int (c, n, "axis", 0, &axis, NULL)) != SEG_OK)
    return st;
  const value *d = onnx_val (c, n->vin[0]), *idx = onnx_val (c, n->vin[1]);
  if (d->rank < 1 || axis < -d->rank || axis >= d->rank)
    return onnx_node_fail (c, n, SEG_ERR_FORMAT,
        "attribute 'axis' = %lld out of range for rank %d", (long long) axis,
        d->rank);
  int rank = d->rank - 1 + idx->rank;
  int64_t len = d->rank == 1 && idx->rank == 1 ? idx->len : -1;
  if ((st = emit_range (c, n, SEG_OP_GATHER, 0, 2, val_dtype (c, n->vin[0]),
           join_kind (c, n, 0, 2), rank, len, &node))
      != SEG_OK)
    return st;
  node->a.axis = axis;
  return SEG_OK;
}

static seg_status
map_slice (ctx *c, const onnx_node *n, seg_op op)
{
  seg_status st;
  seg_node *node;
  if ((st = need_inputs (c, n, 3, 5)) != SEG_OK
      || (st = need_no_act (c, n)) != SEG_OK)
    return st;
  return emit_range (c, n, SEG_OP_SLICE, 0, n->nin, val_dtype (c, n->vin[0]),
      join_kind (c, n, 0, n->nin), onnx_val (c, n->vin[0])->rank, -1, &node);
}

static seg_status
map_concat (ctx *c, const onnx_node *n, seg_op op)
{
  seg_status st;
  seg_node *node;
  int64_t axis;
  bool has;
  if ((st = need_inputs (c, n, 1, SEG_MAX_IO)) != SEG_OK
      || (st = need_no_act (c, n)) != SEG_OK
      || (st = onnx_get_int (c, n, "axis", 0, &axis, &has)) != SEG_OK)
    return st;
  if (!has)
    return onnx_node_fail (c, n, SEG_ERR_FORMAT, "attribute 'axis' is missing");
  int rank = onnx_val (c, n->vin[0])->rank;
  int64_t len = 0;
  for (int i = 0; i < n->nin; i++) {
    if (n->vin[i] < 0)
      return onnx_node_fail (c, n, SEG_ERR_FORMAT, "input %d is empty", i);
    const value *x = onnx_val (c, n->vin[i]);
    if (x->rank != rank)
      return onnx_node_fail (c, n, SEG_ERR_FORMAT,
          "inputs have ranks %d and %d", rank, x->rank);
    len = len >= 0 && x->len >= 0 ? len + x->len : -1;
  }
  if (rank < 1 || axis < -rank || axis >= rank)
    return onnx_node_fail (c, n, SEG_ERR_FORMAT,
        "attribute 'axis' = %lld out of range for rank %d", (long long) axis,
        rank);
  if ((st = emit_range (c, n, SEG_OP_CONCAT, 0, n->nin,
           val_dtype (c, n->vin[0]), join_kind (c, n, 0, n->nin), rank, len,
           &node))
      != SEG_OK)
    return st;
  node->a.axis = axis;
  return SEG_OK;
}

/* Small stored values cast at import, so that e.g. Clip bounds written as
 * Cast(Constant) are known here. Returns false to leave it to a node. */
#define MAX_FOLD_ELEMENTS 64

/* Runs the Cast op's eval on a stored tensor: v[0] is src, v[1] the
 * result, which the caller then owns. */
static bool
eval_cast (const seg_tensor *src, seg_dtype to, seg_value v[2])
{
  seg_node n = {.op = SEG_OP_CAST,
      .name = (char *) "Cast",
      .nin = 1,
      .nout = 1,
      .in = {0},
      .out = {1}};
  seg_err ignored;
  n.a.to = to;
  memset (v, 0, 2 * sizeof *v);
  v[0] = (seg_value){.kind = SEG_VAL_CONST,
      .dtype = src->dtype,
      .rank = src->rank,
      .data = src->data,
      .nbytes = src->nbytes};
  memcpy (v[0].dims, src->dims, sizeof v[0].dims);
  return seg_op_vtable_get (SEG_OP_CAST)->eval (&n, v, &ignored) == SEG_OK;
}

/* The conversion is the Cast op's (ops/shape.c), so a folded Cast and one
 * the passes evaluate agree. The import is stricter than the op: a value
 * the integer target cannot hold after truncation toward zero, or NaN,
 * which the op saturates or wraps as numpy does, leaves the Cast to a node
 * (test-onnx's "out-of-range cast left as a node"); so does an f16 target,
 * which the op refuses. The range is checked on the values cast to f64,
 * which is exact for every integer the narrower targets can hold. */
static bool
fold_cast (const seg_tensor *src, seg_dtype to, void **out, size_t *nbytes)
{
  int64_t count = seg_shape_elements (src->rank, src->dims);
  if (count < 0 || count > MAX_FOLD_ELEMENTS)
    return false;
  double lo = 0, hi = 0;
  bool ranged = true,
       from_int = src->dtype != SEG_DT_F32 && src->dtype != SEG_DT_F64
      && src->dtype != SEG_DT_F16;
  switch (to) {
    case SEG_DT_I64:
      lo = -9.2e18, hi = 9.2e18, ranged = !from_int;
      break;
    case SEG_DT_I32:
      lo = INT32_MIN, hi = INT32_MAX;
      break;
    case SEG_DT_I8:
      lo = INT8_MIN, hi = INT8_MAX;
      break;
    case SEG_DT_U8:
      lo = 0, hi = UINT8_MAX;
      break;
    default:
      ranged = false;
      break;
  }
  seg_value v[2];
  if (ranged) {
    if (!eval_cast (src, SEG_DT_F64, v))
      return false;
    const double *d = v[1].data;
    bool fits = true;
    for (int64_t i = 0; i < count && fits; i++)
      fits = trunc (d[i]) >= lo && trunc (d[i]) <= hi;
    free (v[1].data);
    if (!fits)
      return false;
  }
  if (!eval_cast (src, to, v))
    return false;
  *out = v[1].data; /* never NULL: seg_value_alloc gives 1 byte for 0 */
  *nbytes = v[1].nbytes;
  return true;
}

static seg_status
map_cast (ctx *c, const onnx_node *n, seg_op op)
{
  seg_status st;
  seg_node *node;
  int64_t to;
  bool has;
  seg_dtype dt;
  if ((st = need_inputs (c, n, 1, 1)) != SEG_OK
      || (st = need_no_act (c, n)) != SEG_OK
      || (st = onnx_get_int (c, n, "to", 0, &to, &has)) != SEG_OK)
    return st;
  if (!has)
    return onnx_node_fail (c, n, SEG_ERR_FORMAT, "attribute 'to' is missing");
  if (!onnx_map_dtype (to, &dt))
    return onnx_node_fail (c, n, SEG_ERR_UNSUPPORTED,
        "attribute 'to' = %lld (%s) is not supported", (long long) to,
        onnx_dtype_name (to));
  const value *x = onnx_val (c, n->vin[0]);
  const seg_tensor *src = val_data (c, n->vin[0]);
  void *folded;
  size_t nbytes;
  if (src && fold_cast (src, dt, &folded, &nbytes)) {
    int64_t dims[SEG_MAX_RANK];
    memcpy (dims, src->dims, sizeof dims);
    return define_const (c, n, dt, src->rank, dims, folded, nbytes);
  }
  /* f16 weights cast up to f32: the form the passes fold at load. */
  seg_op emitted = src && src->dtype == SEG_DT_F16 && dt == SEG_DT_F32
      ? SEG_OP_DEQUANTIZE
      : op;
  if ((st = emit_range (c, n, emitted, 0, 1, dt, x->kind, x->rank, x->len,
           &node))
      != SEG_OK)
    return st;
  node->a.to = dt;
  return SEG_OK;
}

/* Unsqueeze/Squeeze axes: an attribute before opset 13, a stored input
 * from 13 on. Returns how many axes there are. */
static seg_status
squeeze_axes (ctx *c, const onnx_node *n, int64_t *ints, int *nints, int *naxes)
{
  seg_status st;
  *nints = 0;
  if (c->opset < 13) {
    int cnt;
    if ((st = need_inputs (c, n, 1, 1)) != SEG_OK
        || (st = onnx_get_ints (c, n, "axes", ints, SEG_MAX_INTS, &cnt))
            != SEG_OK)
      return st;
    if (cnt < 0)
      return onnx_node_fail (c, n, SEG_ERR_UNSUPPORTED,
          "attribute 'axes' is missing");
    *nints = cnt;
    *naxes = cnt;
    return SEG_OK;
  }
  if ((st = need_inputs (c, n, 1, 2)) != SEG_OK)
    return st;
  const seg_tensor *t = n->nin > 1 ? val_data (c, n->vin[1]) : NULL;
  if (!t)
    return onnx_node_fail (c, n, SEG_ERR_UNSUPPORTED,
        "input 'axes' must be a stored constant");
  if (t->rank != 1 || t->dims[0] > SEG_MAX_RANK)
    return onnx_node_fail (c, n, SEG_ERR_FORMAT,
        "input 'axes' must be 1-D with at most %d values", SEG_MAX_RANK);
  *naxes = (int) t->dims[0];
  return SEG_OK;
}

static seg_status
map_squeeze_like (ctx *c, const onnx_node *n, seg_op op)
{
  seg_status st;
  seg_node *node;
  int64_t ints[SEG_MAX_INTS];
  int nints = 0, naxes = 0;
  if ((st = squeeze_axes (c, n, ints, &nints, &naxes)) != SEG_OK
      || (st = need_no_act (c, n)) != SEG_OK)
    return st;
  int r = onnx_val (c, n->vin[0])->rank;
  int rank = op == SEG_OP_UNSQUEEZE ? r + naxes : r - naxes;
  if (rank < 0 || rank > SEG_MAX_RANK)
    return onnx_node_fail (c, n, SEG_ERR_FORMAT, "output rank %d out of range",
        rank);
  int nin = c->opset < 13 ? 1 : 2;
  if ((st = emit_range (c, n, op, 0, nin, val_dtype (c, n->vin[0]),
           join_kind (c, n, 0, nin), rank,
           rank == 1 && r == 0 ? 1 : onnx_val (c, n->vin[0])->len, &node))
      != SEG_OK)
    return st;
  memcpy (node->a.ints, ints, (size_t) nints * sizeof ints[0]);
  node->a.nints = nints;
  return SEG_OK;
}


/* The length of a 1-D shape input, which is the rank of what it shapes. */
static seg_status
shape_input_len (ctx *c, const onnx_node *n, int i, int *rank)
{
  const value *s = onnx_val (c, n->vin[i]);
  char nb[MAX_NAME + 1];
  onnx_span_str (n->in[i], nb, sizeof nb);
  if (s->rank != 1)
    return onnx_node_fail (c, n, SEG_ERR_FORMAT,
        "input '%s' has rank %d, expected 1", nb, s->rank);
  if (s->len < 0)
    return onnx_node_fail (c, n, SEG_ERR_UNSUPPORTED,
        "the length of input '%s' is not known at load", nb);
  if (s->len > SEG_MAX_RANK)
    return onnx_node_fail (c, n, SEG_ERR_UNSUPPORTED,
        "output rank %lld, at most %d supported", (long long) s->len,
        SEG_MAX_RANK);
  *rank = (int) s->len;
  return SEG_OK;
}

static seg_status
map_reshape (ctx *c, const onnx_node *n, seg_op op)
{
  seg_status st;
  seg_node *node;
  int64_t allowzero;
  int rank;
  if ((st = need_inputs (c, n, 2, 2)) != SEG_OK
      || (st = need_no_act (c, n)) != SEG_OK
      || (st = onnx_get_int (c, n, "allowzero", 0, &allowzero, NULL)) != SEG_OK
      || (st = shape_input_len (c, n, 1, &rank)) != SEG_OK)
    return st;
  if (allowzero)
    return onnx_node_fail (c, n, SEG_ERR_UNSUPPORTED,
        "attribute 'allowzero' = 1 is not supported");
  return emit_range (c, n, SEG_OP_RESHAPE, 0, 2, val_dtype (c, n->vin[0]),
      join_kind (c, n, 0, 2), rank, -1, &node);
}

static seg_status
map_rounding (ctx *c, const onnx_node *n, seg_op op)
{
  seg_status st;
  seg_node *node;
  if ((st = need_inputs (c, n, 1, 1)) != SEG_OK
      || (st = need_no_act (c, n)) != SEG_OK)
    return st;
  return map_unary (c, n, op, &node);
}


static seg_status
map_constant_of_shape (ctx *c, const onnx_node *n, seg_op op)
{
  seg_status st;
  seg_node *node;
  onnx_attr a;
  bool has;
  int rank;
  seg_dtype dt = SEG_DT_F32;
  float fill = 0;

  if ((st = need_inputs (c, n, 1, 1)) != SEG_OK
      || (st = need_no_act (c, n)) != SEG_OK
      || (st = shape_input_len (c, n, 0, &rank)) != SEG_OK
      || (st = onnx_find_attr (c, n, "value", &a, &has)) != SEG_OK)
    return st;
  if (has) {
    tensor_in t;
    char w[MAX_NAME + 64];
    if ((st = onnx_attr_want (c, n, &a, AT_TENSOR)) != SEG_OK)
      return st;
    snprintf (w, sizeof w, "node '%s' attribute 'value'", n->name);
    if ((st = onnx_read_tensor (c, a.t, w, &t)) != SEG_OK)
      return st;
    if (t.nbytes != seg_dtype_size (t.dtype)) {
      free (t.data);
      return onnx_node_fail (c, n, SEG_ERR_FORMAT,
          "attribute 'value' must have one element");
    }
    dt = t.dtype;
    switch (dt) {
      case SEG_DT_F32:
        memcpy (&fill, t.data, 4);
        break;
      case SEG_DT_F16: {
        uint16_t h;
        memcpy (&h, t.data, 2);
        fill = seg_f16_to_f32 (h);
        break;
      }
      case SEG_DT_F64: {
        double d;
        memcpy (&d, t.data, 8);
        fill = (float) d;
        break;
      }
      case SEG_DT_I64: {
        int64_t i;
        memcpy (&i, t.data, 8);
        fill = (float) i;
        break;
      }
      case SEG_DT_I32: {
        int32_t i;
        memcpy (&i, t.data, 4);
        fill = (float) i;
        break;
      }
      case SEG_DT_I8:
        fill = (float) (int8_t) * (uint8_t *) t.data;
        break;
      case SEG_DT_U8:
      case SEG_DT_BOOL:
        fill = (float) *(uint8_t *) t.data;
        break;
    }
    free (t.data);
  }
  if ((st = emit_range (c, n, SEG_OP_CONSTANT_OF_SHAPE, 0, 1, dt,
           join_kind (c, n, 0, 1), rank, -1, &node))
      != SEG_OK)
    return st;
  node->a.to = dt;
  node->a.value = fill;
  return SEG_OK;
}

static const struct
{
  const char *name;
  map_fn fn;
  seg_op op; /* what fn emits (Constant emits no node) */
} op_table[] = {
    {"Conv", map_conv, SEG_OP_CONV},
    {"ConvTranspose", map_conv, SEG_OP_CONV_TRANSPOSE},
    {"Add", map_binary, SEG_OP_ADD},
    {"Sub", map_binary, SEG_OP_SUB},
    {"Mul", map_binary, SEG_OP_MUL},
    {"Div", map_binary, SEG_OP_DIV},
    {"Relu", map_activation, SEG_OP_RELU},
    {"Clip", map_clip, SEG_OP_CLIP},
    {"HardSigmoid", map_hardsigmoid, SEG_OP_HARDSIGMOID},
    {"HardSwish", map_activation, SEG_OP_HARDSWISH},
    {"Sigmoid", map_activation, SEG_OP_SIGMOID},
    {"GlobalAveragePool", map_global_avg_pool, SEG_OP_GLOBAL_AVG_POOL},
    {"ReduceMean", map_reduce_mean, SEG_OP_GLOBAL_AVG_POOL},
    {"Resize", map_resize, SEG_OP_RESIZE},
    {"BatchNormalization", map_batchnorm, SEG_OP_BATCHNORM},
    {"Identity", map_identity, SEG_OP_IDENTITY},
    {"Constant", map_constant, SEG_OP_IDENTITY},
    {"Shape", map_shape, SEG_OP_SHAPE},
    {"Gather", map_gather, SEG_OP_GATHER},
    {"Slice", map_slice, SEG_OP_SLICE},
    {"Concat", map_concat, SEG_OP_CONCAT},
    {"Cast", map_cast, SEG_OP_CAST},
    {"Unsqueeze", map_squeeze_like, SEG_OP_UNSQUEEZE},
    {"Squeeze", map_squeeze_like, SEG_OP_SQUEEZE},
    {"Reshape", map_reshape, SEG_OP_RESHAPE},
    {"Floor", map_rounding, SEG_OP_FLOOR},
    {"Ceil", map_rounding, SEG_OP_CEIL},
    {"ConstantOfShape", map_constant_of_shape, SEG_OP_CONSTANT_OF_SHAPE},
};

seg_status
onnx_import_node (ctx *c, span msg, int index)
{
  onnx_node *n = malloc (sizeof *n);
  seg_status st;
  map_fn fn = NULL;
  seg_op op = SEG_OP_IDENTITY;
  char nb[MAX_NAME + 1];

  if (!n)
    return onnx_nomem (c);
  if ((st = onnx_read_node (c, msg, index, n)) != SEG_OK)
    goto out;
  if (n->domain.n && !onnx_span_eq (n->domain, "ai.onnx")) {
    st = onnx_fail (c, SEG_ERR_UNSUPPORTED,
        "node '%s' uses op '%s' from domain '%s' which segd does not run",
        n->name, n->op, onnx_span_str (n->domain, nb, sizeof nb));
    goto out;
  }
  for (size_t i = 0; i < sizeof op_table / sizeof op_table[0]; i++) {
    if (onnx_span_eq (n->op_s, op_table[i].name)) {
      fn = op_table[i].fn;
      op = op_table[i].op;
    }
  }
  if (!fn) {
    st = onnx_fail (c, SEG_ERR_UNSUPPORTED,
        "node '%s' uses op '%s' which segd does not run", n->name, n->op);
    goto out;
  }
  if (n->nin > SEG_MAX_IO) {
    st = onnx_node_fail (c, n, SEG_ERR_UNSUPPORTED, "has more than %d inputs",
        SEG_MAX_IO);
    goto out;
  }
  for (int i = 0; i < n->nin; i++) {
    if (!n->in[i].n) {
      n->vin[i] = -1;
      continue;
    }
    n->vin[i] = onnx_lookup (c, n->in[i]);
    if (n->vin[i] < 0) {
      st = onnx_node_fail (c, n, SEG_ERR_FORMAT,
          "input '%s' is not an initializer, a graph input or the output of an "
          "earlier node",
          onnx_span_str (n->in[i], nb, sizeof nb));
      goto out;
    }
  }
  if (n->nout != 1) {
    st = onnx_node_fail (c, n, n->nout ? SEG_ERR_UNSUPPORTED : SEG_ERR_FORMAT,
        "has %d outputs; segd runs it with exactly one", n->nout);
    goto out;
  }
  if (!n->out[0].n) {
    st = onnx_node_fail (c, n, SEG_ERR_FORMAT, "output 0 has no name");
    goto out;
  }
  if (onnx_lookup (c, n->out[0]) >= 0) {
    st = onnx_node_fail (c, n, SEG_ERR_FORMAT, "output '%s' is already defined",
        onnx_span_str (n->out[0], nb, sizeof nb));
    goto out;
  }
  st = fn (c, n, op);
out:
  free (n);
  return st;
}
