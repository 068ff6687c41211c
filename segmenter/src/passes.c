/* Load-time graph passes: make the imported graph cheap to run without
 * changing what it computes.
 *
 * Order matters: Identity removal and constant folding first (DEQUANTIZE of
 * f16 weights and Constant-only subgraphs become plain f32 constants), then
 * BatchNorm folding into the conv before it (needs constant weights), then the
 * HardSigmoid·Mul -> HardSwish rewrite, then activation fusion (which must
 * see the HardSwish), then the move of 1x1 convs before the bilinear
 * upsample that feeds them (only convs shown to have no activation; before
 * the block fusions, which then find an SE gate's Mul next to the conv),
 * then inverted-residual fusion (which must see the fused activations),
 * then the folding of the remaining elementwise Adds
 * and Muls into their neighbours (after the block fusions, which remove
 * more), and last the compaction of the graph and the packing of every
 * op's weights. Shape subgraphs that depend on an activation's shape are
 * left in place: the session evaluates them once per input size. The
 * passes are a table, each timed, so `seg info` can list them.
 *
 * Why one file of 1.2k lines: every pass works through the same graph
 * index (readers and producers kept right as outputs move, so each
 * look-up is O(1)) and the same pattern helpers (sole_producer,
 * pointwise_conv, residual_add, ...); split by pass, those would become an
 * internal header of some fifteen functions that no other module may use.
 * Each pass is one section below, in table order.
 */
#include "passes.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ops/ops.h"

/* ---- what the passes look up: readers and producers of a tensor ------
 *
 * Each pass builds this once, in one sweep over the graph, and keeps the
 * producers right as it moves outputs between nodes, so that every look-up
 * is O(1). Scanning all nodes per look-up made loading quadratic in the
 * node count: a 3 MB file of 100k chained nodes took minutes. */
typedef struct
{
  int *uses;     /* live readers of t; a graph output counts as one */
  int *reader;   /* the last live reader of t in node order, or -1 */
  int *producer; /* the node that wrote t at the last update; see producer */
  int ntensors;  /* entries; tensors added since are constants */
} graph_index;

static void
index_free (graph_index *ix)
{
  if (!ix)
    return;
  free (ix->uses);
  free (ix->reader);
  free (ix->producer);
  free (ix);
}

/* Makes room for the tensors added since the index was built (constants:
 * no producer, no readers yet). */
static bool
index_fit (graph_index *ix, const seg_graph *g)
{
  size_t n = (size_t) g->ntensors + 1;
  int *u = realloc (ix->uses, n * sizeof *u);
  if (u)
    ix->uses = u;
  int *r = u ? realloc (ix->reader, n * sizeof *r) : NULL;
  if (r)
    ix->reader = r;
  int *p = r ? realloc (ix->producer, n * sizeof *p) : NULL;
  if (!p)
    return false;
  ix->producer = p;
  for (int t = ix->ntensors; t < g->ntensors; t++) {
    ix->uses[t] = 0;
    ix->reader[t] = ix->producer[t] = -1;
  }
  ix->ntensors = g->ntensors;
  return true;
}

static graph_index *
index_new (const seg_graph *g)
{
  graph_index *ix = calloc (1, sizeof *ix);
  if (!ix || !index_fit (ix, g)) {
    index_free (ix);
    return NULL;
  }
  for (int i = 0; i < g->nnodes; i++) {
    const seg_node *n = &g->nodes[i];
    if (n->dead)
      continue;
    for (int j = 0; j < n->nin; j++) {
      if (n->in[j] >= 0) {
        ix->uses[n->in[j]]++;
        ix->reader[n->in[j]] = i;
      }
    }
    for (int j = 0; j < n->nout; j++)
      if (ix->producer[n->out[j]] < 0)
        ix->producer[n->out[j]] = i;
  }
  for (int i = 0; i < g->noutputs; i++)
    ix->uses[g->outputs[i]]++;
  return ix;
}

/* The live node writing t, or -1 (graph input, constant, or a tensor
 * whose writer a pass removed). */
static int
producer (const seg_graph *g, const graph_index *ix, int t)
{
  if (t < 0 || t >= ix->ntensors || ix->producer[t] < 0)
    return -1;
  const seg_node *n = &g->nodes[ix->producer[t]];
  if (n->dead)
    return -1;
  for (int j = 0; j < n->nout; j++)
    if (n->out[j] == t)
      return ix->producer[t];
  return -1;
}

/* Node p writes t from now on (a fusion moved t's writer into p). */
static void
set_output (seg_graph *g, graph_index *ix, int p, int t)
{
  g->nodes[p].out[0] = t;
  if (t >= 0 && t < ix->ntensors)
    ix->producer[t] = p;
}

static bool
is_graph_output (const seg_graph *g, int t)
{
  for (int i = 0; i < g->noutputs; i++)
    if (g->outputs[i] == t)
      return true;
  return false;
}

/* The node of type op that writes t when nothing else reads t (no other
 * node, not a graph output), so that a pass may fold it into t's reader;
 * else -1. */
static int
private_producer (const seg_graph *g, const graph_index *ix, int t, seg_op op)
{
  int p = producer (g, ix, t);
  if (p < 0 || ix->uses[t] != 1 || is_graph_output (g, t)
      || g->nodes[p].op != op)
    return -1;
  return p;
}

/* The producer of t when it is a two-input elementwise node of type op
 * without a fused activation and t has no other reader; else NULL. */
static seg_node *
sole_producer (seg_graph *g, const graph_index *ix, int t, seg_op op)
{
  int p = private_producer (g, ix, t, op);
  if (p < 0)
    return NULL;
  seg_node *n = &g->nodes[p];
  if (n->nout != 1 || n->a.act != SEG_ACT_NONE || n->nin != 2 || n->in[0] < 0
      || n->in[1] < 0)
    return NULL;
  return n;
}

/* Readers of an Identity's output read its input instead. One sweep in
 * node order: alias[t] is what t stands for once the Identities before the
 * current node are gone, and every reader comes after its writer. */
static seg_status
remove_identities (seg_graph *g, const char *file, seg_budget *budget,
    seg_err *err)
{
  int *alias = malloc (((size_t) g->ntensors + 1) * sizeof *alias);
  if (!alias)
    return seg_fail (err, SEG_ERR_NOMEM, "%s: out of memory", file);
  for (int t = 0; t < g->ntensors; t++)
    alias[t] = t;
  for (int i = 0; i < g->nnodes; i++) {
    seg_node *n = &g->nodes[i];
    if (n->dead)
      continue;
    for (int j = 0; j < n->nin; j++)
      if (n->in[j] >= 0)
        n->in[j] = alias[n->in[j]];
    if (n->op != SEG_OP_IDENTITY || n->nin < 1 || n->in[0] < 0
        || is_graph_output (g, n->out[0]))
      continue;
    alias[n->out[0]] = n->in[0];
    n->dead = true;
  }
  free (alias);
  return SEG_OK;
}

/* Evaluates every node whose inputs are all constants and turns its outputs
 * into constants. Each output is charged to the budget before it is made:
 * ConstantOfShape turns 24 bytes of shape into up to 2 GiB. */
static seg_status
fold_constants (seg_graph *g, const char *file, seg_budget *budget,
    seg_err *err)
{
  seg_value *v = calloc ((size_t) g->ntensors + 1, sizeof *v);
  if (!v)
    return seg_fail (err, SEG_ERR_NOMEM, "%s: out of memory", file);
  seg_status st = SEG_OK;

  for (int i = 0; i < g->nnodes && st == SEG_OK; i++) {
    seg_node *n = &g->nodes[i];
    const seg_op_vtable *vt = seg_op_vtable_get (n->op);
    if (n->dead || !vt->eval || !vt->infer)
      continue;
    bool all_const = true;
    for (int j = 0; j < n->nin; j++) {
      if (n->in[j] >= 0 && !g->tensors[n->in[j]].data)
        all_const = false;
    }
    if (!all_const)
      continue;
    for (int j = 0; j < n->nin; j++) {
      if (n->in[j] < 0)
        continue;
      const seg_tensor *t = &g->tensors[n->in[j]];
      seg_value *val = &v[n->in[j]];
      val->kind = SEG_VAL_CONST;
      val->dtype = t->dtype;
      val->rank = t->rank;
      memcpy (val->dims, t->dims, sizeof val->dims);
      val->data = t->data;
      val->nbytes = t->nbytes;
    }
    seg_node_plan plan = {0};
    st = vt->infer (n, v, &plan, err);
    for (int j = 0; j < n->nout && st == SEG_OK; j++) {
      const seg_value *o = &v[n->out[j]];
      int64_t count = seg_shape_elements (o->rank, o->dims);
      if (count > 0) /* else eval refuses it */
        st = seg_budget_charge (budget,
            (size_t) count * seg_dtype_size (o->dtype), n, "its folded output",
            SEG_ERR_FORMAT, err);
    }
    if (st == SEG_OK)
      st = vt->eval (n, v, err);
    if (st != SEG_OK)
      break;
    for (int j = 0; j < n->nout; j++) {
      seg_value *o = &v[n->out[j]];
      seg_tensor *t = &g->tensors[n->out[j]];
      t->dtype = o->dtype;
      t->rank = o->rank;
      memcpy (t->dims, o->dims, sizeof t->dims);
      free (t->data);
      /* A zero-sized result still needs non-NULL data to count as const. */
      t->data = o->data ? o->data : malloc (1);
      t->nbytes = o->nbytes;
      o->data = NULL;
      if (!t->data)
        st = seg_fail (err, SEG_ERR_NOMEM, "%s: out of memory", file);
    }
    n->dead = true;
  }
  /* Inputs were borrowed; outputs were moved into the graph. */
  free (v);
  return st;
}

/* Output-channel axis of a conv weight and its stride in elements. */
static bool
weight_channel_axis (const seg_node *conv, const seg_tensor *w, int *count,
    int *inner, int *outer)
{
  if (w->rank != 4)
    return false;
  int64_t d0 = w->dims[0], d1 = w->dims[1], d2 = w->dims[2], d3 = w->dims[3];
  switch (conv->a.wlayout) {
    case SEG_WL_OIHW:
    case SEG_WL_OHWI:
      *count = (int) d0;
      *inner = (int) (d1 * d2 * d3);
      *outer = 1;
      return true;
    case SEG_WL_1HWO:
      *count = (int) d3;
      *inner = 1;
      *outer = (int) (d0 * d1 * d2);
      return true;
    case SEG_WL_IOHW:
      break;
  }
  return false;
}

static bool
const_f32 (const seg_graph *g, int t, int64_t count)
{
  if (t < 0)
    return false;
  const seg_tensor *x = &g->tensors[t];
  return x->data && x->dtype == SEG_DT_F32
      && x->nbytes == (size_t) count * sizeof (float);
}

static seg_status
fold_batchnorm (seg_graph *g, const char *file, seg_budget *budget,
    seg_err *err)
{
  graph_index *ix = index_new (g);
  if (!ix)
    return seg_fail (err, SEG_ERR_NOMEM, "%s: out of memory", file);

  for (int i = 0; i < g->nnodes; i++) {
    seg_node *bn = &g->nodes[i];
    if (bn->dead || bn->op != SEG_OP_BATCHNORM || bn->nin != 5)
      continue;
    int p = private_producer (g, ix, bn->in[0], SEG_OP_CONV);
    if (p < 0)
      continue;
    seg_node *conv = &g->nodes[p];
    if (conv->a.act != SEG_ACT_NONE)
      continue;
    int wt = conv->in[1];
    if (wt < 0 || !g->tensors[wt].data || g->tensors[wt].dtype != SEG_DT_F32
        || ix->uses[wt] != 1)
      continue;
    int count, inner, outer;
    if (!weight_channel_axis (conv, &g->tensors[wt], &count, &inner, &outer))
      continue;
    bool ok = true;
    for (int j = 1; j < 5; j++)
      ok = ok && const_f32 (g, bn->in[j], count);
    int bt = conv->nin > 2 ? conv->in[2] : -1;
    if (bt >= 0 && (!const_f32 (g, bt, count) || ix->uses[bt] != 1))
      ok = false;
    if (!ok)
      continue;

    const float *scale = g->tensors[bn->in[1]].data;
    const float *beta = g->tensors[bn->in[2]].data;
    const float *mean = g->tensors[bn->in[3]].data;
    const float *var = g->tensors[bn->in[4]].data;
    float eps = bn->a.alpha;

    if (bt < 0) {
      float *zero = calloc ((size_t) count, sizeof *zero);
      int64_t dims[1] = {count};
      char name[64];
      snprintf (name, sizeof name, "bias#%d", p);
      bt = zero ? seg_graph_add_tensor (g, name, SEG_DT_F32, 1, dims, zero,
               (size_t) count * sizeof *zero)
                : -1;
      if (bt < 0) {
        index_free (ix);
        return seg_fail (err, SEG_ERR_NOMEM, "%s: out of memory", file);
      }
      /* add_tensor may move the tensor array; node pointers are stable. */
      conv->in[2] = bt;
      if (conv->nin < 3)
        conv->nin = 3;
      if (!index_fit (ix, g)) {
        index_free (ix);
        return seg_fail (err, SEG_ERR_NOMEM, "%s: out of memory", file);
      }
      ix->uses[bt] = 1;
    }
    float *w = g->tensors[wt].data;
    float *b = g->tensors[bt].data;
    for (int c = 0; c < count; c++) {
      float k = scale[c] / sqrtf (var[c] + eps);
      for (int o = 0; o < outer; o++)
        for (int e = 0; e < inner; e++)
          w[((size_t) o * count + c) * inner + e] *= k;
      b[c] = (b[c] - mean[c]) * k + beta[c];
    }
    set_output (g, ix, p, bn->out[0]);
    bn->dead = true;
  }
  index_free (ix);
  return SEG_OK;
}

/* torch before opset 14 writes hardswish as x * HardSigmoid(x, 1/6, 0.5). */
static seg_status
fuse_hardswish (seg_graph *g, const char *file, seg_budget *budget,
    seg_err *err)
{
  graph_index *ix = index_new (g);
  if (!ix)
    return seg_fail (err, SEG_ERR_NOMEM, "%s: out of memory", file);
  for (int i = 0; i < g->nnodes; i++) {
    seg_node *mul = &g->nodes[i];
    if (mul->dead || mul->op != SEG_OP_MUL || mul->nin != 2
        || mul->a.act != SEG_ACT_NONE)
      continue;
    for (int side = 0; side < 2; side++) {
      int hs_t = mul->in[side], x_t = mul->in[1 - side];
      int p = private_producer (g, ix, hs_t, SEG_OP_HARDSIGMOID);
      if (p < 0)
        continue;
      seg_node *hs = &g->nodes[p];
      if (hs->in[0] != x_t)
        continue;
      if (fabsf (hs->a.alpha - 1.0f / 6.0f) > 1e-6f
          || fabsf (hs->a.beta - 0.5f) > 1e-6f)
        continue;
      mul->op = SEG_OP_HARDSWISH;
      mul->nin = 1;
      mul->in[0] = x_t;
      mul->in[1] = -1;
      hs->dead = true;
      break;
    }
  }
  index_free (ix);
  return SEG_OK;
}

static bool
activation_of (const seg_node *n, seg_act *act, float *a, float *b)
{
  switch (n->op) {
    case SEG_OP_RELU:
      *act = SEG_ACT_RELU;
      *a = *b = 0;
      return true;
    case SEG_OP_CLIP:
      *act = SEG_ACT_CLIP;
      *a = n->a.alpha;
      *b = n->a.beta;
      return true;
    case SEG_OP_HARDSIGMOID:
      *act = SEG_ACT_HARDSIGMOID;
      *a = n->a.alpha;
      *b = n->a.beta;
      return true;
    case SEG_OP_HARDSWISH:
      *act = SEG_ACT_HARDSWISH;
      *a = *b = 0;
      return true;
    case SEG_OP_SIGMOID:
      *act = SEG_ACT_SIGMOID;
      *a = *b = 0;
      return true;
    default:
      return false;
  }
}

static seg_status
fuse_activations (seg_graph *g, const char *file, seg_budget *budget,
    seg_err *err)
{
  graph_index *ix = index_new (g);
  if (!ix)
    return seg_fail (err, SEG_ERR_NOMEM, "%s: out of memory", file);
  for (int i = 0; i < g->nnodes; i++) {
    seg_node *an = &g->nodes[i];
    seg_act act;
    float a, b;
    if (an->dead || an->nin < 1 || an->in[0] < 0
        || !activation_of (an, &act, &a, &b))
      continue;
    int p = producer (g, ix, an->in[0]);
    if (p < 0)
      continue;
    seg_node *prod = &g->nodes[p];
    switch (prod->op) {
      case SEG_OP_CONV:
      case SEG_OP_CONV_TRANSPOSE:
      case SEG_OP_ADD:
      case SEG_OP_MUL:
      case SEG_OP_GLOBAL_AVG_POOL:
        break;
      default:
        continue;
    }
    if (prod->a.act != SEG_ACT_NONE || prod->nout != 1
        || ix->uses[an->in[0]] != 1 || is_graph_output (g, an->in[0]))
      continue;
    prod->a.act = act;
    prod->a.act_a = a;
    prod->a.act_b = b;
    set_output (g, ix, p, an->out[0]);
    an->dead = true;
  }
  index_free (ix);
  return SEG_OK;
}

/* A constant float32 1x1 conv without stride, padding or groups: a GEMM
 * over pixels whose output can be produced row by row. Returns its output
 * channel count, or 0. */
static int
pointwise_conv (const seg_graph *g, const seg_node *n)
{
  if (n->dead || n->op != SEG_OP_CONV || n->nin < 2 || n->nout != 1
      || n->in[0] < 0 || n->in[1] < 0 || n->a.groups != 1 || n->a.stride[0] != 1
      || n->a.stride[1] != 1)
    return 0;
  if (n->a.pad_mode == SEG_PAD_EXPLICIT
      && (n->a.pads[0] || n->a.pads[1] || n->a.pads[2] || n->a.pads[3]))
    return 0;
  /* Both spatial kernel dims must be 1: testing "one of I, KW is 1" took
   * a 1x3 (or 3x1) kernel on one input channel for a 1x1 conv on three,
   * which commute_resize_convs then moved before the upsample. */
  const seg_tensor *w = &g->tensors[n->in[1]];
  bool oihw = n->a.wlayout == SEG_WL_OIHW;
  if (!w->data || w->dtype != SEG_DT_F32 || w->rank != 4
      || (!oihw && n->a.wlayout != SEG_WL_OHWI) || w->dims[oihw ? 2 : 1] != 1
      || w->dims[oihw ? 3 : 2] != 1)
    return 0;
  return (int) w->dims[0];
}

/* A constant float32 depthwise conv with one weight per channel and tap;
 * returns its channel count, or 0. */
static int
depthwise_conv (const seg_graph *g, const seg_node *n)
{
  if (n->dead || n->op != SEG_OP_CONV || n->nin < 2 || n->nout != 1
      || n->in[0] < 0 || n->in[1] < 0)
    return 0;
  const seg_tensor *w = &g->tensors[n->in[1]];
  if (!w->data || w->dtype != SEG_DT_F32 || w->rank != 4)
    return 0;
  int64_t c;
  if (n->a.wlayout == SEG_WL_OIHW && w->dims[1] == 1)
    c = w->dims[0];
  else if (n->a.wlayout == SEG_WL_1HWO && w->dims[0] == 1)
    c = w->dims[3];
  else
    return 0;
  return n->a.groups == c ? (int) c : 0;
}

/* True when a stride-1 conv's padding keeps the spatial size, so that a
 * residual add of its block input is elementwise. */
static bool
keeps_size (const seg_node *d, const seg_tensor *w)
{
  int kh = (int) (d->a.wlayout == SEG_WL_OIHW ? w->dims[2] : w->dims[1]);
  int kw = (int) (d->a.wlayout == SEG_WL_OIHW ? w->dims[3] : w->dims[2]);
  if (d->a.stride[0] != 1 || d->a.stride[1] != 1)
    return false;
  if (d->a.pad_mode == SEG_PAD_SAME_UPPER
      || d->a.pad_mode == SEG_PAD_SAME_LOWER)
    return true;
  return d->a.pad_mode == SEG_PAD_EXPLICIT
      && d->a.pads[0] + d->a.pads[2] == (kh - 1) * d->a.dilation[0]
      && d->a.pads[1] + d->a.pads[3] == (kw - 1) * d->a.dilation[1];
}

/* The Add (y, x) or (x, y) that is the only reader of y, or NULL. */
static seg_node *
residual_add (seg_graph *g, const graph_index *ix, int y, int x)
{
  if (ix->uses[y] != 1 || ix->reader[y] < 0)
    return NULL;
  seg_node *an = &g->nodes[ix->reader[y]];
  if (an->dead || an->op != SEG_OP_ADD || an->nin != 2 || an->nout != 1
      || !((an->in[0] == y && an->in[1] == x)
          || (an->in[1] == y && an->in[0] == x)))
    return NULL;
  return an;
}

/* InvertedResidual reads its 1x1 weights in the layout that goes with its
 * depthwise one (ops/irb.c): OIHW with OIHW, OHWI with TFLite's 1HWO. */
static bool
irb_layouts_match (const seg_node *dn, const seg_node *pn)
{
  return pn->a.wlayout
      == (dn->a.wlayout == SEG_WL_OIHW ? SEG_WL_OIHW : SEG_WL_OHWI);
}

/* [expand 1x1 ->] depthwise -> project 1x1 [-> Add of the block input]
 * becomes one InvertedResidual node (ops/irb.c) in the project conv's
 * place, so that the expanded tensor and the depthwise output are never
 * materialised. Blocks with
 * squeeze-and-excite between depthwise and project read the depthwise
 * output twice and are left alone. */
static seg_status
fuse_inverted_residuals (seg_graph *g, const char *file, seg_budget *budget,
    seg_err *err)
{
  graph_index *ix = index_new (g);
  if (!ix)
    return seg_fail (err, SEG_ERR_NOMEM, "%s: out of memory", file);
  for (int i = 0; i < g->nnodes; i++) {
    seg_node *pn = &g->nodes[i];
    int cout = pointwise_conv (g, pn);
    if (!cout)
      continue;
    int di = private_producer (g, ix, pn->in[0], SEG_OP_CONV);
    if (di < 0)
      continue;
    seg_node *dn = &g->nodes[di];
    int cexp = depthwise_conv (g, dn);
    if (!cexp || !irb_layouts_match (dn, pn))
      continue;
    /* The expand conv, if the depthwise input is a 1x1 conv's output that
     * nothing else reads; otherwise the block starts at the depthwise. */
    int te = dn->in[0];
    int ei = private_producer (g, ix, te, SEG_OP_CONV);
    seg_node *en = ei >= 0 && pointwise_conv (g, &g->nodes[ei]) == cexp
            && irb_layouts_match (dn, &g->nodes[ei])
        ? &g->nodes[ei]
        : NULL;
    int x = en ? en->in[0] : te;
    const seg_tensor *pw = &g->tensors[pn->in[1]];
    int cin = cexp;
    if (en) {
      const seg_tensor *ew = &g->tensors[en->in[1]];
      cin = (int) (ew->dims[1] * ew->dims[3]);
    }
    if ((int) (pw->dims[1] * pw->dims[3]) != cexp)
      continue;

    /* The residual Add: the projection's only reader, adding x. */
    seg_node *add = NULL;
    int ty = pn->out[0];
    if (cin == cout && ix->uses[ty] == 1 && !is_graph_output (g, ty)
        && pn->a.act == SEG_ACT_NONE && keeps_size (dn, &g->tensors[dn->in[1]]))
      add = residual_add (g, ix, ty, x);

    seg_attrs a = dn->a;
    if (en) {
      a.irb_act[0] = en->a.act;
      a.irb_act_a[0] = en->a.act_a;
      a.irb_act_b[0] = en->a.act_b;
    }
    a.irb_act[1] = pn->a.act;
    a.irb_act_a[1] = pn->a.act_a;
    a.irb_act_b[1] = pn->a.act_b;
    a.irb_residual = add != NULL;
    if (add) {
      a.irb_act[2] = add->a.act;
      a.irb_act_a[2] = add->a.act_a;
      a.irb_act_b[2] = add->a.act_b;
      set_output (g, ix, i, add->out[0]);
      add->dead = true;
    }
    int in[7] = {x, en ? en->in[1] : -1, en && en->nin > 2 ? en->in[2] : -1,
        dn->in[1], dn->nin > 2 ? dn->in[2] : -1, pn->in[1],
        pn->nin > 2 ? pn->in[2] : -1};
    pn->op = SEG_OP_INVERTED_RESIDUAL;
    pn->nin = 7;
    memcpy (pn->in, in, sizeof in);
    pn->a = a;
    if (en)
      en->dead = true;
    dn->dead = true;
  }
  index_free (ix);
  return SEG_OK;
}

/* True when t is a squeeze-and-excite gate, (N, 1, 1, channels): a 1x1
 * conv output whose input comes, through at most two more 1x1 convs (and
 * activations fused into them), from a GlobalAveragePool. */
static bool
se_gate (const seg_graph *g, const graph_index *ix, int t, int channels)
{
  int p = producer (g, ix, t);
  if (p < 0 || pointwise_conv (g, &g->nodes[p]) != channels)
    return false;
  for (int depth = 0; depth < 3; depth++) {
    int q = producer (g, ix, g->nodes[p].in[0]);
    if (q < 0)
      return false;
    if (g->nodes[q].op == SEG_OP_GLOBAL_AVG_POOL && !g->nodes[q].dead)
      return true;
    if (!pointwise_conv (g, &g->nodes[q]))
      return false;
    p = q;
  }
  return false;
}

/* Mul (x, gate) -> project 1x1 [-> Add of the block input] becomes one
 * SeProject node (ops/se-project.c) in the conv's place, so that neither
 * the gated tensor nor the pre-add projection is written out. */
static seg_status
fuse_se_projects (seg_graph *g, const char *file, seg_budget *budget,
    seg_err *err)
{
  graph_index *ix = index_new (g);
  if (!ix)
    return seg_fail (err, SEG_ERR_NOMEM, "%s: out of memory", file);
  for (int i = 0; i < g->nnodes; i++) {
    seg_node *pn = &g->nodes[i];
    int cout = pointwise_conv (g, pn);
    if (!cout)
      continue;
    const seg_tensor *pw = &g->tensors[pn->in[1]];
    int cin = (int) (pw->dims[1] * pw->dims[3]);
    seg_node *mul = sole_producer (g, ix, pn->in[0], SEG_OP_MUL);
    if (!mul)
      continue;
    int side = se_gate (g, ix, mul->in[1], cin) ? 1
        : se_gate (g, ix, mul->in[0], cin)      ? 0
                                                : -1;
    if (side < 0)
      continue;
    int x = mul->in[1 - side], gate = mul->in[side];

    /* The block input: x = depthwise (expand (xb)) or depthwise (xb),
     * with the depthwise and 1x1 convs keeping the spatial size; the add
     * is elementwise when xb also has the output's channel count. */
    int xb = -1, xb_ch = 0;
    int di = producer (g, ix, x);
    if (di >= 0 && depthwise_conv (g, &g->nodes[di]) == cin
        && keeps_size (&g->nodes[di], &g->tensors[g->nodes[di].in[1]])) {
      int te = g->nodes[di].in[0];
      int ei = producer (g, ix, te);
      xb = te, xb_ch = cin;
      if (ei >= 0 && pointwise_conv (g, &g->nodes[ei]) == cin) {
        const seg_tensor *ew = &g->tensors[g->nodes[ei].in[1]];
        xb = g->nodes[ei].in[0];
        xb_ch = (int) (ew->dims[1] * ew->dims[3]);
      }
    }
    seg_node *add = NULL;
    int ty = pn->out[0];
    if (xb >= 0 && xb_ch == cout && ix->uses[ty] == 1
        && !is_graph_output (g, ty))
      add = residual_add (g, ix, ty, xb);

    int in[5] = {x, gate, pn->in[1], pn->nin > 2 ? pn->in[2] : -1,
        add ? xb : -1};
    pn->op = SEG_OP_SE_PROJECT;
    pn->nin = 5;
    memcpy (pn->in, in, sizeof in);
    if (add) {
      pn->a.irb_act[2] = add->a.act;
      pn->a.irb_act_a[2] = add->a.act_a;
      pn->a.irb_act_b[2] = add->a.act_b;
      set_output (g, ix, i, add->out[0]);
      add->dead = true;
    }
    mul->dead = true;
  }
  index_free (ix);
  return SEG_OK;
}

/* What is left of squeeze-and-excite blocks after the two fusions above:
 * expand 1x1 -> depthwise whose output several nodes read (the global
 * pool and the gate). The pair becomes an InvertedResidual node without
 * project inputs, so that the expanded tensor streams through a ring of
 * rows instead of being written out. */
static seg_status
fuse_expand_depthwise (seg_graph *g, const char *file, seg_budget *budget,
    seg_err *err)
{
  graph_index *ix = index_new (g);
  if (!ix)
    return seg_fail (err, SEG_ERR_NOMEM, "%s: out of memory", file);
  for (int i = 0; i < g->nnodes; i++) {
    seg_node *dn = &g->nodes[i];
    int cexp = depthwise_conv (g, dn);
    if (!cexp)
      continue;
    int te = dn->in[0];
    int ei = private_producer (g, ix, te, SEG_OP_CONV);
    if (ei < 0 || pointwise_conv (g, &g->nodes[ei]) != cexp
        || !irb_layouts_match (dn, &g->nodes[ei]))
      continue;
    seg_node *en = &g->nodes[ei];
    seg_attrs a = dn->a;
    a.irb_act[0] = en->a.act;
    a.irb_act_a[0] = en->a.act_a;
    a.irb_act_b[0] = en->a.act_b;
    int in[7] = {en->in[0], en->in[1], en->nin > 2 ? en->in[2] : -1, dn->in[1],
        dn->nin > 2 ? dn->in[2] : -1, -1, -1};
    dn->op = SEG_OP_INVERTED_RESIDUAL;
    dn->nin = 7;
    memcpy (dn->in, in, sizeof in);
    dn->a = a;
    en->dead = true;
  }
  index_free (ix);
  return SEG_OK;
}

/* True when tensors a and b are known to have one shape: the same tensor,
 * or every dim recorded (TFLite files record them) and equal. The fused
 * ops check the planned shapes again and refuse a mismatch; this keeps
 * them from being made where the Add might broadcast. */
static bool
same_shape (const seg_graph *g, int a, int b)
{
  if (a == b)
    return true;
  const seg_tensor *x = &g->tensors[a], *y = &g->tensors[b];
  if (x->rank != 4 || y->rank != 4)
    return false;
  for (int i = 0; i < 4; i++)
    if (x->dims[i] < 0 || x->dims[i] != y->dims[i])
      return false;
  return true;
}

/* Conv1x1 (Mul (x, gate) + y), MediaPipe's decoder: the gated skip plus
 * the upsampled path, projected. The Mul and the Add become SeProject's
 * tile fill, so neither full-size tensor is written. */
static void
fuse_gated_adds (seg_graph *g, const graph_index *ix)
{
  for (int i = 0; i < g->nnodes; i++) {
    seg_node *pn = &g->nodes[i];
    if (!pointwise_conv (g, pn))
      continue;
    const seg_tensor *pw = &g->tensors[pn->in[1]];
    int cin = (int) (pw->dims[1] * pw->dims[3]);
    seg_node *add = sole_producer (g, ix, pn->in[0], SEG_OP_ADD);
    if (!add)
      continue;
    for (int side = 0; side < 2; side++) {
      seg_node *mul = sole_producer (g, ix, add->in[side], SEG_OP_MUL);
      if (!mul)
        continue;
      int gs = se_gate (g, ix, mul->in[1], cin) ? 1
          : se_gate (g, ix, mul->in[0], cin)    ? 0
                                                : -1;
      int x = gs >= 0 ? mul->in[1 - gs] : -1, y = add->in[1 - side];
      if (x < 0 || !same_shape (g, x, y) || g->tensors[x].dims[3] != cin)
        continue;
      int in[6] = {x, mul->in[gs], pn->in[1], pn->nin > 2 ? pn->in[2] : -1, -1,
          y};
      pn->op = SEG_OP_SE_PROJECT;
      pn->nin = 6;
      memcpy (pn->in, in, sizeof in);
      add->dead = true;
      mul->dead = true;
      break;
    }
  }
}

/* A float32 constant-weight conv with a 1x1 kernel and no padding (any
 * stride or groups): the conv op runs it as a GEMM straight on the
 * activation rows, never through im2col. */
static bool
pointwise_kernel (const seg_graph *g, const seg_node *n)
{
  if (n->nin < 2 || n->in[1] < 0)
    return false;
  const seg_tensor *w = &g->tensors[n->in[1]];
  if (!w->data || w->dtype != SEG_DT_F32 || w->rank != 4)
    return false;
  bool oihw = n->a.wlayout == SEG_WL_OIHW;
  if (!oihw && n->a.wlayout != SEG_WL_OHWI && n->a.wlayout != SEG_WL_1HWO)
    return false;
  if (w->dims[oihw ? 2 : 1] != 1 || w->dims[oihw ? 3 : 2] != 1)
    return false;
  return n->a.pad_mode != SEG_PAD_EXPLICIT
      || !(n->a.pads[0] || n->a.pads[1] || n->a.pads[2] || n->a.pads[3]);
}

/* GlobalAvgPool (x + y) where the pool is the sum's only reader: the pool
 * adds as it sums (MediaPipe's decoder pools skip + upsampled for the
 * gate). */
static void
fuse_pool_adds (seg_graph *g, const graph_index *ix)
{
  for (int i = 0; i < g->nnodes; i++) {
    seg_node *pool = &g->nodes[i];
    if (pool->dead || pool->op != SEG_OP_GLOBAL_AVG_POOL || pool->nin != 1
        || pool->in[0] < 0)
      continue;
    seg_node *add = sole_producer (g, ix, pool->in[0], SEG_OP_ADD);
    if (!add || !same_shape (g, add->in[0], add->in[1]))
      continue;
    pool->nin = 2;
    pool->in[0] = add->in[0];
    pool->in[1] = add->in[1];
    add->dead = true;
  }
}

/* Add (act (Conv (...)), other) where the conv's output is read only by
 * the Add and `other` exists before the conv runs: the conv adds `other`
 * to each output row or tile as soon as its kernel wrote it, while it is
 * in L1. Only the paths that write whole output rows or GEMM tiles
 * themselves take it: depthwise convs and 1x1 convs without padding. */
static void
fuse_conv_adds (seg_graph *g, graph_index *ix)
{
  for (int i = 0; i < g->nnodes; i++) {
    seg_node *an = &g->nodes[i];
    if (an->dead || an->op != SEG_OP_ADD || an->nin != 2 || an->nout != 1
        || an->in[0] < 0 || an->in[1] < 0)
      continue;
    for (int side = 0; side < 2; side++) {
      int tc = an->in[side], other = an->in[1 - side];
      int ci = private_producer (g, ix, tc, SEG_OP_CONV);
      if (ci < 0)
        continue;
      seg_node *cn = &g->nodes[ci];
      int po = producer (g, ix, other);
      if (cn->nin > 3 || cn->nout != 1 || po >= ci)
        continue;
      int dw = depthwise_conv (g, cn);
      bool proven = same_shape (g, other, tc)
          || (dw && other == cn->in[0]
              && keeps_size (cn, &g->tensors[cn->in[1]]));
      if (!proven || (!dw && !pointwise_kernel (g, cn)))
        continue;
      if (cn->nin < 3)
        cn->in[2] = -1;
      cn->in[3] = other;
      cn->nin = 4;
      cn->a.irb_act[2] = an->a.act;
      cn->a.irb_act_a[2] = an->a.act_a;
      cn->a.irb_act_b[2] = an->a.act_b;
      set_output (g, ix, ci, an->out[0]);
      an->dead = true;
      break;
    }
  }
}

static seg_status
fuse_elementwise (seg_graph *g, const char *file, seg_budget *budget,
    seg_err *err)
{
  /* Each pass only kills nodes and rewires the fused node's inputs to
   * tensors it already read through the killed ones, so reader counts
   * of what the later passes look at stay right. The gated form first:
   * it removes the Mul as well as the Add. */
  graph_index *ix = index_new (g);
  if (!ix)
    return seg_fail (err, SEG_ERR_NOMEM, "%s: out of memory", file);
  fuse_gated_adds (g, ix);
  fuse_pool_adds (g, ix);
  fuse_conv_adds (g, ix);
  index_free (ix);
  return SEG_OK;
}

/* ---- 1x1 convs moved before the bilinear upsample that feeds them ---- */

/* The single integer held by constant t (int64 or int32), if it is one. */
static bool
const_int1 (const seg_graph *g, int t, int64_t *val)
{
  if (t < 0)
    return false;
  const seg_tensor *x = &g->tensors[t];
  if (!x->data || seg_shape_elements (x->rank, x->dims) != 1)
    return false;
  if (x->dtype == SEG_DT_I64 && x->nbytes >= sizeof (int64_t))
    *val = *(const int64_t *) x->data;
  else if (x->dtype == SEG_DT_I32 && x->nbytes >= sizeof (int32_t))
    *val = *(const int32_t *) x->data;
  else
    return false;
  return true;
}

/* torchvision's export of F.interpolate (x, size=...): sizes = Concat
 * (Slice (Shape (x), 0, 2), hw), or Shape (x, end=2) with opset 15. The
 * channel count reaches the Resize only through that Shape, so reading
 * the conv's output there instead gives sizes of the conv's channels.
 * Returns the Shape node, or -1 for any other form. */
static int
sizes_shape_node (const seg_graph *g, const graph_index *ix, int sizes, int x)
{
  int si;
  int ci = private_producer (g, ix, sizes, SEG_OP_CONCAT);
  if (ci < 0 || g->nodes[ci].a.axis != 0 || g->nodes[ci].nin < 1)
    return -1;
  int lead = g->nodes[ci].in[0];
  if ((si = private_producer (g, ix, lead, SEG_OP_SHAPE)) >= 0) {
    const seg_node *sh = &g->nodes[si];
    return sh->in[0] == x && sh->a.nchw && sh->a.start == 0 && sh->a.has_end
            && sh->a.end == 2
        ? si
        : -1;
  }
  int li = private_producer (g, ix, lead, SEG_OP_SLICE);
  if (li < 0)
    return -1;
  const seg_node *sl = &g->nodes[li];
  int64_t start, end, axis = 0, step = 1;
  if (!const_int1 (g, sl->in[1], &start) || !const_int1 (g, sl->in[2], &end)
      || (sl->nin > 3 && sl->in[3] >= 0 && !const_int1 (g, sl->in[3], &axis))
      || (sl->nin > 4 && sl->in[4] >= 0 && !const_int1 (g, sl->in[4], &step))
      || start != 0 || end != 2 || axis != 0 || step != 1)
    return -1;
  si = private_producer (g, ix, sl->in[0], SEG_OP_SHAPE);
  if (si < 0)
    return -1;
  const seg_node *sh = &g->nodes[si];
  return sh->in[0] == x && sh->a.nchw && sh->a.start == 0 && !sh->a.has_end
      ? si
      : -1;
}

/* How a Resize's sizes follow a change of its input's channel count:
 * `shape` >= 0 is a Shape node to point at the new input, `channel` >= 0
 * an element of the constant sizes to set to the new count. */
typedef struct
{
  int shape, channel;
} sizes_fix;

/* False when the Resize states its input's channel count in a form this
 * pass cannot rewrite, or when nothing shows that count is cin. Scales
 * (the channel's is 1) and TFLite's (H, W) sizes do not depend on it, so
 * there the input's recorded channel count must be cin: the conv, once
 * moved, reads that input. */
static bool
resize_sizes_fixable (const seg_graph *g, const graph_index *ix,
    const seg_node *rn, int cin, sizes_fix *fix)
{
  fix->shape = fix->channel = -1;
  const seg_tensor *x = &g->tensors[rn->in[0]];
  bool recorded = x->rank == 4 && x->dims[3] == cin;
  int zi = rn->nin > 3 ? rn->in[3] : -1;
  if (zi < 0)
    return recorded;
  const seg_tensor *z = &g->tensors[zi];
  if (z->rank != 1)
    return false;
  if (z->dims[0] == 0 || (z->dims[0] == 2 && !rn->a.nchw))
    return recorded;
  if (!z->data) {
    /* The importer leaves the length of computed sizes unknown; the
     * Resize's plan insists on 4 values of which this Shape gives N, C. */
    fix->shape = rn->a.nchw ? sizes_shape_node (g, ix, zi, rn->in[0]) : -1;
    return fix->shape >= 0;
  }
  if (z->dims[0] != 4)
    return false;
  int c = rn->a.nchw ? 1 : 3;
  int64_t have;
  if (ix->uses[zi] != 1 || is_graph_output (g, zi))
    return false;
  if (z->dtype == SEG_DT_I64 && z->nbytes >= 4 * sizeof (int64_t))
    have = ((const int64_t *) z->data)[c];
  else if (z->dtype == SEG_DT_I32 && z->nbytes >= 4 * sizeof (int32_t))
    have = ((const int32_t *) z->data)[c];
  else
    return false;
  fix->channel = c;
  return have == cin;
}

/* False when the recorded dims or constant scales show the Resize
 * shrinking an axis: the conv is cheaper after it then. */
static bool
may_grow (const seg_graph *g, const seg_node *rn)
{
  const seg_tensor *x = &g->tensors[rn->in[0]], *y = &g->tensors[rn->out[0]];
  if (x->rank == 4 && y->rank == 4)
    for (int i = 1; i <= 2; i++)
      if (x->dims[i] > 0 && y->dims[i] > 0 && y->dims[i] < x->dims[i])
        return false;
  int si = rn->nin > 2 ? rn->in[2] : -1;
  if (si < 0 || !g->tensors[si].data || g->tensors[si].dtype != SEG_DT_F32)
    return true;
  const seg_tensor *s = &g->tensors[si];
  int64_t len = seg_shape_elements (s->rank, s->dims);
  const float *v = s->data;
  for (int64_t i = 0; i < len && (size_t) (i + 1) * sizeof *v <= s->nbytes; i++)
    if (v[i] < 1.0f)
      return false;
  return true;
}

typedef struct
{
  int key, node;
} node_slot;

static int
by_key (const void *a, const void *b)
{
  const node_slot *x = a, *y = b;
  if (x->key != y->key)
    return x->key < y->key ? -1 : 1;
  return x->node - y->node;
}

/* Puts the nodes in order of key[] (ties in node order): one sort at the
 * end of the pass rather than a memmove of the nodes between per moved
 * conv, which was quadratic in a file with many of them. */
static bool
reorder_nodes (seg_graph *g, const int *key)
{
  node_slot *order = malloc (((size_t) g->nnodes + 1) * sizeof *order);
  seg_node *nodes = malloc (((size_t) g->nnodes + 1) * sizeof *nodes);
  if (!order || !nodes) {
    free (order);
    free (nodes);
    return false;
  }
  for (int i = 0; i < g->nnodes; i++)
    order[i] = (node_slot){key[i], i};
  qsort (order, (size_t) g->nnodes, sizeof *order, by_key);
  for (int i = 0; i < g->nnodes; i++)
    nodes[i] = g->nodes[order[i].node];
  memcpy (g->nodes, nodes, (size_t) g->nnodes * sizeof *nodes);
  free (order);
  free (nodes);
  return true;
}

/* Conv1x1 (Resize (x)) -> Resize (Conv1x1 (x)) for a bilinear Resize and
 * a conv without activation. Bilinear weights are convex per output pixel
 * (also where edges clamp), a 1x1 conv is affine per pixel, so the two
 * commute up to rounding, and the conv then runs on the small tensor and
 * the Resize moves the conv's channels (MediaPipe's decoder: 128 -> 24;
 * LR-ASPP's high classifier: 128 -> 21). The conv takes the first slot
 * where its output is needed (the Resize's, or the Shape that sizes it)
 * and may then meet an SE gate's Mul, which fuse_se_projects folds.
 * Runs after activation fusion, which shows the convs without one. */
static seg_status
commute_resize_convs (seg_graph *g, const char *file, seg_budget *budget,
    seg_err *err)
{
  /* A moved conv's key puts it just before the node at slot `to`; the
   * others keep their order. */
  graph_index *ix = index_new (g);
  int *key = malloc (((size_t) g->nnodes + 1) * sizeof *key);
  bool moved = false;
  if (!ix || !key) {
    index_free (ix);
    free (key);
    return seg_fail (err, SEG_ERR_NOMEM, "%s: out of memory", file);
  }
  for (int i = 0; i < g->nnodes; i++)
    key[i] = 2 * i + 1;
  for (int c = 0; c < g->nnodes; c++) {
    seg_node *cn = &g->nodes[c];
    int cout = pointwise_conv (g, cn);
    if (!cout || cn->a.act != SEG_ACT_NONE || cn->nin > 3
        || cn->a.dilation[0] != 1 || cn->a.dilation[1] != 1)
      continue;
    int bt = cn->nin > 2 ? cn->in[2] : -1;
    if (bt >= 0 && !g->tensors[bt].data)
      continue;
    int tr = cn->in[0];
    int r = private_producer (g, ix, tr, SEG_OP_RESIZE);
    if (r < 0)
      continue;
    const seg_node *rn = &g->nodes[r];
    int x = rn->nin > 0 ? rn->in[0] : -1;
    const seg_tensor *w = &g->tensors[cn->in[1]];
    int cin = (int) (w->dims[1] * w->dims[3]);
    sizes_fix fix;
    if (x < 0 || rn->nout != 1 || !may_grow (g, rn)
        || !resize_sizes_fixable (g, ix, rn, cin, &fix))
      continue;

    int tc = cn->out[0];
    seg_tensor *mid = &g->tensors[tr];
    const seg_tensor *xt = &g->tensors[x];
    mid->rank = 4;
    for (int i = 0; i < 3; i++)
      mid->dims[i] = xt->rank == 4 ? xt->dims[i] : -1;
    mid->dims[3] = cout;
    if (fix.shape >= 0) {
      g->nodes[fix.shape].in[0] = tr;
      ix->uses[x]--;
      ix->uses[tr]++;
    }
    if (fix.channel >= 0) {
      seg_tensor *z = &g->tensors[rn->in[3]];
      if (z->dtype == SEG_DT_I64)
        ((int64_t *) z->data)[fix.channel] = cout;
      else
        ((int32_t *) z->data)[fix.channel] = cout;
    }
    key[c] = 2 * (fix.shape >= 0 && fix.shape < r ? fix.shape : r);
    moved = true;
    cn->in[0] = x;
    set_output (g, ix, c, tr);
    g->nodes[r].in[0] = tr;
    set_output (g, ix, r, tc);
  }
  index_free (ix);
  bool ok = !moved || reorder_nodes (g, key);
  free (key);
  return ok ? SEG_OK : seg_fail (err, SEG_ERR_NOMEM, "%s: out of memory", file);
}

/* Graph compaction between the rewrites and packing: drops dead nodes and
 * the tensors nothing reads. */
static seg_status
compact (seg_graph *g, const char *file, seg_budget *budget, seg_err *err)
{
  seg_graph_compact (g);
  return SEG_OK;
}

/* Lets every op pack its weights. Packing copies the weights into the
 * kernels' layout, a few bytes of padding aside: charged as one more copy
 * of the node's constants. */
static seg_status
pack_weights (seg_graph *g, const char *file, seg_budget *budget, seg_err *err)
{
  seg_status st;
  for (int i = 0; i < g->nnodes; i++) {
    seg_node *n = &g->nodes[i];
    const seg_op_vtable *vt = seg_op_vtable_get (n->op);
    if (!vt->pack)
      continue;
    size_t bytes = 0;
    for (int j = 0; j < n->nin; j++)
      if (n->in[j] >= 0 && g->tensors[n->in[j]].data)
        bytes += g->tensors[n->in[j]].nbytes;
    if ((st = seg_budget_charge (budget, bytes, n, "packing its weights",
             SEG_ERR_FORMAT, err))
            != SEG_OK
        || (st = vt->pack (n, g, err)) != SEG_OK)
      return st;
  }
  return SEG_OK;
}

/* The passes in the order they run (see the top of this file for why that
 * order); the names are what `seg info` prints. */
static const struct
{
  const char *name;
  seg_status (
      *run) (seg_graph *g, const char *file, seg_budget *budget, seg_err *err);
} passes[SEG_NPASSES] = {
    {"remove-identities", remove_identities},
    {"fold-constants", fold_constants},
    {"fold-batchnorm", fold_batchnorm},
    {"fuse-hardswish", fuse_hardswish},
    {"fuse-activations", fuse_activations},
    {"commute-resize-convs", commute_resize_convs},
    {"fuse-inverted-residuals", fuse_inverted_residuals},
    {"fuse-se-projects", fuse_se_projects},
    {"fuse-expand-depthwise", fuse_expand_depthwise},
    {"fuse-elementwise", fuse_elementwise},
    {"compact", compact},
    {"pack-weights", pack_weights},
};

static double
now_ms (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (double) ts.tv_sec * 1e3 + (double) ts.tv_nsec * 1e-6;
}

static int
live_nodes (const seg_graph *g)
{
  int live = 0;
  for (int i = 0; i < g->nnodes; i++)
    live += !g->nodes[i].dead;
  return live;
}

seg_status
seg_passes_run (seg_graph *g, const char *file, seg_budget *budget,
    seg_pass_info log[SEG_NPASSES], seg_err *err)
{
  for (int i = 0; i < SEG_NPASSES; i++) {
    double t0 = now_ms ();
    seg_status st = passes[i].run (g, file, budget, err);
    if (st != SEG_OK)
      return st;
    if (log)
      log[i] = (seg_pass_info){passes[i].name, now_ms () - t0, live_nodes (g)};
  }
  return SEG_OK;
}
