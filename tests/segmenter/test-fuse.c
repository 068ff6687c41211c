/* Tests for the folding of elementwise Adds and Muls into the ops around
 * them (fuse_elementwise in passes.c; pool.c, se-project.c and conv.c
 * take the extra operand). Each graph is built twice from the same
 * weights: as is, which the passes fuse, and with a second reader of every
 * intermediate tensor a fusion would remove, which keeps each Add and Mul
 * apart. The fused ops compute the same sums in the same order as the
 * separate ones, so the outputs must be bit-identical. Cases: MediaPipe's
 * decoder level (pool of skip + upsampled, projection of skip * gate +
 * upsampled, depthwise conv plus its own input) at odd sizes, channel
 * counts off the vector width, either operand order, both weight layouts
 * and 1 and 2 threads; 1x1 convs plus an earlier tensor (row tiles,
 * stride 2, groups, a channel split across threads, an activation after
 * the add); and the forms that must stay apart (padded kxk conv, addend
 * computed after the conv, shapes not known to match).
 *
 * Also the 1x1 conv moved before the bilinear Resize that feeds it
 * (commute_resize_convs): the sums change order there, so those outputs
 * are compared within 1e-5 of the largest; cases cover each way a Resize
 * gets its size (TFLite (H, W), ONNX constant sizes and scales,
 * torchvision's Shape/Slice/Concat and opset 15's Shape (end=2)), each
 * coordinate mode, odd and non-integer factors, SE-gated inputs (which
 * then fold into a SeProject) and the forms that must stay (activation,
 * 3x3 kernel, shrinking Resize, sizes from another tensor's Shape, and
 * 1x3 / 3x1 kernels on one input channel, which are not 1x1 convs).
 */
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "graph.h"
#include "model.h"
#include "segmenter/seg.h"

#define CHECK_CONTINUES
#include "../check.h"

static uint32_t rng = 0x1bb5eed;

/* Uniform in [-1, 1). */
static float
frand (void)
{
  return test_randf (&rng, -1.0f, 1.0f);
}

/* What a graph is being built for; every tensor gets known dims unless
 * `unknown` (ONNX importers leave them at -1). */
typedef struct
{
  seg_graph *g;
  bool unknown, onnx;
} builder;

static int
tensor (builder *b, const char *name, int h, int w, int c)
{
  int64_t dims[4] = {1, h, w, c};
  if (b->unknown)
    dims[1] = dims[2] = -1;
  return seg_graph_add_tensor (b->g, name, SEG_DT_F32, 4, dims, NULL, 0);
}

static int
constant (builder *b, const char *name, int rank, const int64_t *dims,
    float scale)
{
  int64_t count = seg_shape_elements (rank, dims);
  float *data = malloc ((size_t) count * sizeof *data);
  if (!data)
    return -1;
  for (int64_t i = 0; i < count; i++)
    data[i] = frand () * scale;
  return seg_graph_add_tensor (b->g, name, SEG_DT_F32, rank, dims, data,
      (size_t) count * sizeof *data);
}

static void
set_act (seg_node *n, seg_act act)
{
  n->a.act = act;
  n->a.act_a = act == SEG_ACT_CLIP ? -0.5f : 0.0f;
  n->a.act_b = act == SEG_ACT_CLIP ? 0.75f : 0.0f;
}

/* A kh x kw conv of c_in -> c_out channels (groups g, stride s, SAME) on
 * a tensor of h x w; returns the output tensor. */
static int
conv_k (builder *b, const char *name, int x, int h, int w, int cin, int cout,
    int kh, int kw, int s, int groups, seg_act act)
{
  int64_t wd[4] = {cout, kh, kw, cin / groups}, bd[1] = {cout};
  seg_weight_layout wl = SEG_WL_OHWI;
  if (b->onnx) {
    wd[1] = cin / groups, wd[2] = kh, wd[3] = kw;
    wl = SEG_WL_OIHW;
  } else if (groups == cin && cin == cout && groups > 1) {
    wd[0] = 1, wd[1] = kh, wd[2] = kw, wd[3] = cout;
    wl = SEG_WL_1HWO;
  }
  int wt = constant (b, "w", 4, wd, 0.4f), bt = constant (b, "b", 1, bd, 1);
  int y = tensor (b, name, (h + s - 1) / s, (w + s - 1) / s, cout);
  seg_node *n = seg_graph_add_node (b->g, SEG_OP_CONV, name, 3,
      (int[]){x, wt, bt}, 1, &y);
  if (!n)
    return -1;
  n->a.wlayout = wl;
  n->a.groups = groups;
  n->a.stride[0] = n->a.stride[1] = s;
  n->a.pad_mode = SEG_PAD_SAME_UPPER;
  set_act (n, act);
  return y;
}

static int
conv (builder *b, const char *name, int x, int h, int w, int cin, int cout,
    int k, int s, int groups, seg_act act)
{
  return conv_k (b, name, x, h, w, cin, cout, k, k, s, groups, act);
}

static int
binary (builder *b, seg_op op, const char *name, int x, int y, int h, int w,
    int c)
{
  int o = tensor (b, name, h, w, c);
  seg_graph_add_node (b->g, op, name, 2, (int[]){x, y}, 1, &o);
  return o;
}

/* With `apart`, t gets a second reader (a Sigmoid nobody reads), which
 * must stop any fusion that would remove t. */
static void
sink (builder *b, int t, bool apart)
{
  if (!apart)
    return;
  int o = seg_graph_add_tensor (b->g, "sink", SEG_DT_F32, 4,
      (int64_t[]){-1, -1, -1, -1}, NULL, 0);
  seg_graph_add_node (b->g, SEG_OP_SIGMOID, "sink", 1, &t, 1, &o);
}

/* ---- MediaPipe decoder level ---------------------------------------- */

typedef struct
{
  int h, w, c;
  bool swap; /* operands of the Adds and the Mul the other way round */
  bool onnx;
  bool post_relu; /* a Relu after the last Add (fused into it) */
  bool unknown;
  int threads;
} dec_case;

/* skip = hardswish (1x1 (x)); up = 1x1 (x); C = 1x1 (up);
 * g = sigmoid (1x1 (relu (1x1 (GAP (skip + C)))));
 * R = relu (1x1 (skip * g + C)); out = R + relu (dw3x3 (R)). */
static seg_graph *
build_decoder (const dec_case *c, bool apart)
{
  builder b = {seg_graph_new (SEG_LAYOUT_NHWC), c->unknown, c->onnx};
  if (!b.g)
    return NULL;
  rng = 0x5eedf00du;
  int h = c->h, w = c->w, ch = c->c, q = c->c / 2 > 0 ? c->c / 2 : 1;
  int x = tensor (&b, "x", h, w, 8);
  int skip = conv (&b, "skip", x, h, w, 8, ch, 1, 1, 1, SEG_ACT_HARDSWISH);
  int up = conv (&b, "up", x, h, w, 8, ch, 1, 1, 1, SEG_ACT_NONE);
  int cc = conv (&b, "c", up, h, w, ch, ch, 1, 1, 1, SEG_ACT_NONE);
  int a = c->swap ? binary (&b, SEG_OP_ADD, "a", cc, skip, h, w, ch)
                  : binary (&b, SEG_OP_ADD, "a", skip, cc, h, w, ch);
  sink (&b, a, apart);
  int pooled = tensor (&b, "gap", 1, 1, ch);
  seg_graph_add_node (b.g, SEG_OP_GLOBAL_AVG_POOL, "gap", 1, &a, 1, &pooled);
  int f1 = conv (&b, "fc1", pooled, 1, 1, ch, q, 1, 1, 1, SEG_ACT_RELU);
  int gate = conv (&b, "fc2", f1, 1, 1, q, ch, 1, 1, 1, SEG_ACT_SIGMOID);
  int64_t gd[4] = {1, 1, 1, ch};
  seg_tensor *gt = &b.g->tensors[gate];
  memcpy (gt->dims, gd, sizeof gd);
  int m = c->swap ? binary (&b, SEG_OP_MUL, "m", gate, skip, h, w, ch)
                  : binary (&b, SEG_OP_MUL, "m", skip, gate, h, w, ch);
  sink (&b, m, apart);
  int a2 = c->swap ? binary (&b, SEG_OP_ADD, "a2", cc, m, h, w, ch)
                   : binary (&b, SEG_OP_ADD, "a2", m, cc, h, w, ch);
  sink (&b, a2, apart);
  int r = conv (&b, "r", a2, h, w, ch, ch, 1, 1, 1, SEG_ACT_RELU);
  int d = conv (&b, "d", r, h, w, ch, ch, 3, 1, ch, SEG_ACT_RELU);
  sink (&b, d, apart);
  int out = c->swap ? binary (&b, SEG_OP_ADD, "out", d, r, h, w, ch)
                    : binary (&b, SEG_OP_ADD, "out", r, d, h, w, ch);
  if (c->post_relu) {
    int o2 = tensor (&b, "relu", h, w, ch);
    seg_graph_add_node (b.g, SEG_OP_RELU, "relu", 1, &out, 1, &o2);
    out = o2;
  }
  b.g->inputs[b.g->ninputs++] = x;
  b.g->outputs[b.g->noutputs++] = out;
  return b.g;
}

typedef struct
{
  int adds, muls, se_addend, pool_addend, conv_addend;
  int resize_last; /* Resizes writing a graph output */
} census;

static census
count_nodes (const seg_model *m)
{
  census k = {0};
  for (int i = 0; i < m->g->nnodes; i++) {
    const seg_node *n = &m->g->nodes[i];
    k.adds += n->op == SEG_OP_ADD;
    k.muls += n->op == SEG_OP_MUL;
    k.se_addend += n->op == SEG_OP_SE_PROJECT && n->nin > 5 && n->in[5] >= 0;
    k.pool_addend +=
        n->op == SEG_OP_GLOBAL_AVG_POOL && n->nin > 1 && n->in[1] >= 0;
    k.conv_addend += n->op == SEG_OP_CONV && n->nin > 3 && n->in[3] >= 0;
    k.resize_last += n->op == SEG_OP_RESIZE && n->out[0] == m->g->outputs[0];
  }
  return k;
}

/* Loads g (taking it), checks the fused-node census when want is given,
 * runs it on x and returns a copy of the output (caller frees), or NULL
 * after recording a failure. */
static float *
run_graph (const char *what, seg_graph *g, const census *want, int h, int w,
    int cin, int threads, size_t *count)
{
  seg_model *m = NULL;
  seg_session *s = NULL;
  char *error = NULL;
  float *out = NULL, *x = NULL;
  if (!g
      || seg_model_new_from_graph (g, SEG_FORMAT_TFLITE, "fuse", &m, &error)
          != SEG_OK) {
    FAIL ("%s: model: %s", what, error ? error : "out of memory");
    goto done;
  }
  census k = count_nodes (m);
  if (want && memcmp (&k, want, sizeof k)) {
    FAIL ("%s: %d Add, %d Mul, SeProject/pool/conv with addend %d/%d/%d,"
          " %d Resize last; expected %d, %d, %d/%d/%d, %d",
        what, k.adds, k.muls, k.se_addend, k.pool_addend, k.conv_addend,
        k.resize_last, want->adds, want->muls, want->se_addend,
        want->pool_addend, want->conv_addend, want->resize_last);
    /* run anyway: whether the output still matches tells more */
  }
  seg_session_options opt = {.threads = threads,
      .input_width = w,
      .input_height = h};
  if (seg_session_new (m, &opt, &s, &error) != SEG_OK) {
    FAIL ("%s: session: %s", what, error ? error : "?");
    goto done;
  }
  size_t nx = (size_t) h * w * cin;
  x = malloc (nx * sizeof *x);
  if (!x) {
    FAIL ("%s: out of memory", what);
    goto done;
  }
  uint32_t keep = rng;
  rng = 0xfeedbeefu;
  for (size_t i = 0; i < nx; i++)
    x[i] = frand () * 2.0f;
  rng = keep;
  if (seg_session_run (s, x, nx) != SEG_OK) {
    FAIL ("%s: run failed", what);
    goto done;
  }
  int oh, ow, oc;
  const float *y = seg_session_output (s, &oh, &ow, &oc);
  *count = (size_t) oh * ow * oc;
  out = malloc (*count * sizeof *out);
  if (out)
    memcpy (out, y, *count * sizeof *out);
done:
  free (x);
  free (error);
  seg_session_free (s);
  seg_model_free (m);
  return out;
}

static void
compare (const char *what, const float *fused, size_t nf, const float *apart,
    size_t na)
{
  checks++;
  if (!fused || !apart)
    return;
  if (nf != na) {
    FAIL ("%s: %zu outputs fused, %zu apart", what, nf, na);
    return;
  }
  for (size_t i = 0; i < na; i++)
    if (memcmp (&fused[i], &apart[i], sizeof (float))) {
      FAIL ("%s: output %zu is %.9g fused, %.9g apart", what, i,
          (double) fused[i], (double) apart[i]);
      return;
    }
}

static void
test_decoder (const dec_case *c)
{
  char what[160];
  snprintf (what, sizeof what,
      "decoder %dx%dx%d swap%d onnx%d relu%d "
      "unknown%d t%d",
      c->h, c->w, c->c, c->swap, c->onnx, c->post_relu, c->unknown, c->threads);
  /* With unknown dims only the depthwise conv's own input is provably of
   * its output's shape. */
  census want = {0, 0, 1, 1, 1, 0}, apart = {3, 1, 0, 0, 0, 0};
  if (c->unknown)
    want = (census){2, 1, 0, 0, 1, 0};
  size_t nf = 0, na = 0;
  float *f = run_graph (what, build_decoder (c, false), &want, c->h, c->w, 8,
      c->threads, &nf);
  float *a = run_graph (what, build_decoder (c, true), &apart, c->h, c->w, 8,
      c->threads, &na);
  compare (what, f, nf, a, na);
  free (f);
  free (a);
}

/* ---- conv plus an earlier tensor ------------------------------------ */

typedef struct
{
  int h, w, cin, cout, k, stride, groups;
  seg_act act, post; /* the conv's activation, one after the add */
  bool late;         /* the addend (not a conv) is computed after it */
  bool unknown;
  int threads;
  bool fuses;
} add_case;

/* other = 1x1 (x) [stride s]; y = conv (x) [k, s, groups]; out = other + y
 * (or, when late, y first and other = t * t for t = 1x1 (x), so that
 * neither operand can take the add). */
static seg_graph *
build_add (const add_case *c, bool apart)
{
  builder b = {seg_graph_new (SEG_LAYOUT_NHWC), c->unknown, false};
  if (!b.g)
    return NULL;
  rng = 0xadd5eedu;
  int h = c->h, w = c->w, s = c->stride;
  int oh = (h + s - 1) / s, ow = (w + s - 1) / s;
  int x = tensor (&b, "x", h, w, c->cin);
  int other = -1, y;
  if (!c->late)
    other = conv (&b, "other", x, h, w, c->cin, c->cout, 1, s, 1, SEG_ACT_NONE);
  y = conv (&b, "y", x, h, w, c->cin, c->cout, c->k, s, c->groups, c->act);
  sink (&b, y, apart);
  if (c->late) {
    int t = conv (&b, "t", x, h, w, c->cin, c->cout, 1, s, 1, SEG_ACT_NONE);
    other = binary (&b, SEG_OP_MUL, "other", t, t, oh, ow, c->cout);
  }
  int out = binary (&b, SEG_OP_ADD, "out", other, y, oh, ow, c->cout);
  if (c->post != SEG_ACT_NONE) {
    int o2 = tensor (&b, "post", oh, ow, c->cout);
    seg_node *n =
        seg_graph_add_node (b.g, SEG_OP_CLIP, "post", 1, &out, 1, &o2);
    n->a.alpha = -0.5f;
    n->a.beta = 0.75f;
    out = o2;
  }
  b.g->inputs[b.g->ninputs++] = x;
  b.g->outputs[b.g->noutputs++] = out;
  return b.g;
}

static void
test_add (const add_case *c)
{
  char what[160];
  snprintf (what, sizeof what,
      "conv+add %dx%d %d->%d k%d s%d g%d act%d/%d "
      "late%d unknown%d t%d",
      c->h, c->w, c->cin, c->cout, c->k, c->stride, c->groups, (int) c->act,
      (int) c->post, c->late, c->unknown, c->threads);
  census want = {c->fuses ? 0 : 1, c->late, 0, 0, c->fuses, 0};
  census apart = {1, c->late, 0, 0, 0, 0};
  size_t nf = 0, na = 0;
  float *f = run_graph (what, build_add (c, false), &want, c->h, c->w, c->cin,
      c->threads, &nf);
  float *a = run_graph (what, build_add (c, true), &apart, c->h, c->w, c->cin,
      c->threads, &na);
  compare (what, f, nf, a, na);
  free (f);
  free (a);
}

/* A hand-built fused Conv whose addend does not have the output's shape
 * must be refused when planned, not read out of bounds. */
static void
test_bad_addend (void)
{
  builder b = {seg_graph_new (SEG_LAYOUT_NHWC), false, false};
  checks++;
  if (!b.g) {
    FAIL ("bad addend: out of memory");
    return;
  }
  rng = 0xbadu;
  int x = tensor (&b, "x", 6, 6, 4);
  int other = conv (&b, "other", x, 6, 6, 4, 8, 1, 2, 1, SEG_ACT_NONE);
  int y = conv (&b, "y", x, 6, 6, 4, 8, 1, 1, 1, SEG_ACT_NONE);
  seg_node *n = &b.g->nodes[b.g->nnodes - 1];
  n->in[3] = other;
  n->nin = 4;
  b.g->inputs[b.g->ninputs++] = x;
  b.g->outputs[b.g->noutputs++] = y;
  seg_model *m = NULL;
  seg_session *s = NULL;
  char *error = NULL;
  seg_session_options opt = {.threads = 1, .input_width = 6, .input_height = 6};
  if (seg_model_new_from_graph (b.g, SEG_FORMAT_TFLITE, "fuse", &m, &error)
          == SEG_OK
      && seg_session_new (m, &opt, &s, &error) == SEG_OK)
    FAIL ("bad addend: a 3x3 addend on a 6x6 output was accepted");
  free (error);
  seg_session_free (s);
  seg_model_free (m);
}

/* ---- 1x1 conv moved before the upsample feeding it ------------------ */

typedef enum
{
  SIZES_HW,      /* TFLite: constant int32 (H, W) */
  SIZES_CONST,   /* ONNX: constant int64 (N, C, H, W) */
  SIZES_SLICE,   /* torchvision: Concat (Slice (Shape (x), 0, 2), (H, W)) */
  SIZES_SHAPE15, /* the same with Shape (x, end=2) */
  SIZES_OTHER,   /* Concat (Slice (Shape (y), 0, 2), ...) of another y */
  SCALES,        /* ONNX: constant float (1, 1, sh, sw) */
} sizes_form;

typedef struct
{
  int h, w, oh, ow, cin, cout;
  seg_coord_mode coord;
  sizes_form sizes;
  bool gated;  /* the Resize reads an SE gate's Mul */
  seg_act act; /* the conv's activation */
  int k;       /* the conv's kernel */
  int kw;      /* its width when not k */
  int threads;
  bool swaps;
} up_case;

static int
int_const (builder *b, const char *name, seg_dtype dt, int n,
    const int64_t *vals)
{
  size_t es = dt == SEG_DT_I32 ? sizeof (int32_t) : sizeof (int64_t);
  void *data = malloc ((size_t) n * es);
  if (!data)
    return -1;
  for (int i = 0; i < n; i++) {
    if (dt == SEG_DT_I32)
      ((int32_t *) data)[i] = (int32_t) vals[i];
    else
      ((int64_t *) data)[i] = vals[i];
  }
  int64_t dims[1] = {n};
  return seg_graph_add_tensor (b->g, name, dt, 1, dims, data, (size_t) n * es);
}

static int
shape_value (builder *b, seg_op op, const char *name, int nin, const int *in)
{
  int o = seg_graph_add_tensor (b->g, name, SEG_DT_I64, 1, (int64_t[]){-1},
      NULL, 0);
  seg_node *n = seg_graph_add_node (b->g, op, name, nin, in, 1, &o);
  if (!n)
    return -1;
  n->a.nchw = op == SEG_OP_SHAPE;
  n->a.axis = 0;
  return o;
}

/* x = relu (1x1 (input)); [x = x * sigmoid (1x1 (GAP (x)))];
 * up = Resize (x); out = conv k x k (up) with act. ONNX forms leave the
 * spatial dims of all but the input unknown, as the importer does. With
 * `apart`, up has a second reader, which must keep the conv after it. */
static seg_graph *
build_up (const up_case *c, bool apart)
{
  bool onnx = c->sizes != SIZES_HW;
  builder b = {seg_graph_new (SEG_LAYOUT_NHWC), onnx, onnx};
  if (!b.g)
    return NULL;
  rng = 0x0b5e55edu;
  int h = c->h, w = c->w, ci = c->cin;
  int in = tensor (&b, "in", h, w, 8);
  /* The importer records the graph input's declared size. */
  b.g->tensors[in].dims[1] = h;
  b.g->tensors[in].dims[2] = w;
  int x = conv (&b, "pre", in, h, w, 8, ci, 1, 1, 1, SEG_ACT_RELU);
  int pre = x;
  if (c->gated) {
    int pooled = tensor (&b, "gap", 1, 1, ci);
    seg_graph_add_node (b.g, SEG_OP_GLOBAL_AVG_POOL, "gap", 1, &x, 1, &pooled);
    int gate = conv (&b, "fc", pooled, 1, 1, ci, ci, 1, 1, 1, SEG_ACT_SIGMOID);
    memcpy (b.g->tensors[gate].dims, (int64_t[]){1, 1, 1, ci},
        4 * sizeof (int64_t));
    x = binary (&b, SEG_OP_MUL, "m", x, gate, h, w, ci);
  }
  int rin[4] = {x, -1, -1, -1};
  int64_t hw[2] = {c->oh, c->ow};
  switch (c->sizes) {
    case SIZES_HW:
      rin[3] = int_const (&b, "hw", SEG_DT_I32, 2, hw);
      break;
    case SIZES_CONST:
      rin[3] = int_const (&b, "sizes", SEG_DT_I64, 4,
          (int64_t[]){1, ci, c->oh, c->ow});
      break;
    case SIZES_SLICE:
    case SIZES_OTHER: {
      int sh = shape_value (&b, SEG_OP_SHAPE, "shape", 1,
          (int[]){c->sizes == SIZES_OTHER ? pre : x});
      int sl = shape_value (&b, SEG_OP_SLICE, "slice", 4,
          (int[]){sh, int_const (&b, "s0", SEG_DT_I64, 1, (int64_t[]){0}),
              int_const (&b, "s1", SEG_DT_I64, 1, (int64_t[]){2}),
              int_const (&b, "ax", SEG_DT_I64, 1, (int64_t[]){0})});
      rin[3] = shape_value (&b, SEG_OP_CONCAT, "sizes", 2,
          (int[]){sl, int_const (&b, "hw", SEG_DT_I64, 2, hw)});
      break;
    }
    case SIZES_SHAPE15: {
      int sh = shape_value (&b, SEG_OP_SHAPE, "shape", 1, &x);
      seg_node *n = &b.g->nodes[b.g->nnodes - 1];
      n->a.has_end = true;
      n->a.end = 2;
      rin[3] = shape_value (&b, SEG_OP_CONCAT, "sizes", 2,
          (int[]){sh, int_const (&b, "hw", SEG_DT_I64, 2, hw)});
      break;
    }
    case SCALES: {
      float *sc = malloc (4 * sizeof *sc);
      if (sc) {
        sc[0] = sc[1] = 1.0f;
        sc[2] = (float) c->oh / (float) h;
        sc[3] = (float) c->ow / (float) w;
      }
      rin[2] = sc ? seg_graph_add_tensor (b.g, "scales", SEG_DT_F32, 1,
                   (int64_t[]){4}, sc, 4 * sizeof *sc)
                  : -1;
      break;
    }
  }
  int up = tensor (&b, "up", c->oh, c->ow, ci);
  seg_node *rn = seg_graph_add_node (b.g, SEG_OP_RESIZE, "up", 4, rin, 1, &up);
  if (!rn) {
    seg_graph_free (b.g);
    return NULL;
  }
  rn->a.coord = c->coord;
  rn->a.nchw = onnx;
  sink (&b, up, apart);
  int out = conv_k (&b, "out", up, c->oh, c->ow, ci, c->cout, c->k,
      c->kw ? c->kw : c->k, 1, 1, c->act);
  b.g->inputs[b.g->ninputs++] = in;
  b.g->outputs[b.g->noutputs++] = out;
  return b.g;
}

/* Max |fused - apart| within 1e-5 of max |apart|: the swap changes the
 * order of the sums, so the last bits may move. */
static void
compare_close (const char *what, const float *fused, size_t nf,
    const float *apart, size_t na)
{
  checks++;
  if (!fused || !apart)
    return;
  if (nf != na) {
    FAIL ("%s: %zu outputs fused, %zu apart", what, nf, na);
    return;
  }
  double big = 0.0, worst = 0.0;
  size_t at = 0;
  for (size_t i = 0; i < na; i++) {
    double d = fabs ((double) fused[i] - (double) apart[i]);
    big = fmax (big, fabs ((double) apart[i]));
    if (!(d <= worst)) {
      worst = d;
      at = i;
    }
  }
  if (!(worst <= 1e-5 * big) || big == 0.0)
    FAIL ("%s: output %zu is %.9g fused, %.9g apart (max |apart| %.3g)", what,
        at, (double) fused[at], (double) apart[at], big);
}

static void
test_up (const up_case *c)
{
  char what[160];
  snprintf (what, sizeof what,
      "resize+conv %dx%d->%dx%d %d->%d coord%d "
      "sizes%d gated%d act%d k%dx%d t%d",
      c->h, c->w, c->oh, c->ow, c->cin, c->cout, (int) c->coord, (int) c->sizes,
      c->gated, (int) c->act, c->k, c->kw ? c->kw : c->k, c->threads);
  /* Swapped next to a gate, the Mul folds into the conv (SeProject). */
  census want = {0, c->gated && !c->swaps, 0, 0, 0, c->swaps};
  census apart = {0, c->gated, 0, 0, 0, 0};
  size_t nf = 0, na = 0;
  float *f = run_graph (what, build_up (c, false), &want, c->h, c->w, 8,
      c->threads, &nf);
  float *a = run_graph (what, build_up (c, true), &apart, c->h, c->w, 8,
      c->threads, &na);
  if (c->swaps)
    compare_close (what, f, nf, a, na);
  else
    compare (what, f, nf, a, na);
  free (f);
  free (a);
}

int
main (void)
{
  static const dec_case dec[] = {
      /* h, w, c, swap, onnx, post_relu, unknown, threads */
      {16, 16, 16, false, false, false, false, 1},
      {13, 17, 16, true, false, true, false, 2},
      {9, 11, 24, false, true, false, false, 2},
      {32, 32, 20, true, true, true, false, 1},
      {7, 5, 3, false, false, false, false, 2},
      {64, 48, 16, false, false, false, false, 2},
      {11, 9, 16, false, true, false, true, 2},
  };
  for (size_t i = 0; i < sizeof dec / sizeof dec[0]; i++)
    test_decoder (&dec[i]);

  static const add_case adds[] = {
      /* h, w, cin, cout, k, s, groups, act, post, late, unknown, thr, fuses */
      {13, 11, 8, 16, 1, 1, 1, SEG_ACT_RELU, SEG_ACT_NONE, false, false, 1,
          true},
      {37, 29, 16, 21, 1, 1, 1, SEG_ACT_NONE, SEG_ACT_CLIP, false, false, 2,
          true},
      {13, 11, 8, 24, 1, 2, 1, SEG_ACT_HARDSWISH, SEG_ACT_NONE, false, false, 2,
          true},
      {10, 14, 16, 32, 1, 1, 2, SEG_ACT_RELU, SEG_ACT_NONE, false, false, 2,
          true},
      /* few pixels, many channels: the GEMM splits its panels across
     * threads */
      {2, 3, 1024, 96, 1, 1, 1, SEG_ACT_NONE, SEG_ACT_CLIP, false, false, 2,
          true},
      /* depthwise, stride 2: its input is not its shape, the other conv's
     * output is */
      {12, 10, 16, 16, 3, 2, 16, SEG_ACT_RELU, SEG_ACT_NONE, false, false, 2,
          true},
      /* must stay apart */
      {9, 9, 8, 16, 3, 1, 1, SEG_ACT_RELU, SEG_ACT_NONE, false, false, 1,
          false},
      {9, 9, 8, 16, 1, 1, 1, SEG_ACT_RELU, SEG_ACT_NONE, true, false, 1, false},
      {9, 9, 8, 16, 1, 1, 1, SEG_ACT_RELU, SEG_ACT_NONE, false, true, 1, false},
  };
  for (size_t i = 0; i < sizeof adds / sizeof adds[0]; i++)
    test_add (&adds[i]);
  test_bad_addend ();

  static const up_case ups[] = {
      /* h, w, oh, ow, cin, cout, coord, sizes, gated, act, k, kw, threads,
     * swaps */
      {8, 8, 16, 16, 16, 16, SEG_COORD_ASYMMETRIC, SIZES_HW, false,
          SEG_ACT_NONE, 1, 0, 1, true},
      {7, 5, 13, 11, 24, 5, SEG_COORD_HALF_PIXEL, SIZES_HW, true, SEG_ACT_NONE,
          1, 0, 2, true},
      {9, 6, 18, 12, 8, 24, SEG_COORD_ALIGN_CORNERS, SIZES_HW, false,
          SEG_ACT_NONE, 1, 0, 2, true},
      {8, 8, 8, 8, 16, 16, SEG_COORD_HALF_PIXEL, SIZES_HW, false, SEG_ACT_NONE,
          1, 0, 1, true},
      {16, 16, 32, 32, 128, 21, SEG_COORD_HALF_PIXEL, SIZES_SLICE, true,
          SEG_ACT_NONE, 1, 0, 2, true},
      {11, 7, 23, 15, 20, 3, SEG_COORD_PYTORCH_HALF_PIXEL, SIZES_SLICE, false,
          SEG_ACT_NONE, 1, 0, 1, true},
      {6, 9, 12, 18, 16, 10, SEG_COORD_HALF_PIXEL, SIZES_SHAPE15, true,
          SEG_ACT_NONE, 1, 0, 2, true},
      {6, 9, 13, 17, 12, 7, SEG_COORD_ALIGN_CORNERS, SIZES_CONST, false,
          SEG_ACT_NONE, 1, 0, 1, true},
      {7, 5, 14, 10, 12, 20, SEG_COORD_ASYMMETRIC, SCALES, true, SEG_ACT_NONE,
          1, 0, 2, true},
      /* must stay apart: an activation, a 3x3 kernel, a shrinking Resize
     * (the conv is cheaper after it), sizes from another tensor's Shape */
      {8, 8, 16, 16, 16, 16, SEG_COORD_HALF_PIXEL, SIZES_HW, false,
          SEG_ACT_RELU, 1, 0, 1, false},
      {8, 8, 16, 16, 16, 16, SEG_COORD_HALF_PIXEL, SIZES_HW, true, SEG_ACT_NONE,
          3, 0, 1, false},
      {16, 16, 7, 9, 16, 8, SEG_COORD_HALF_PIXEL, SIZES_HW, false, SEG_ACT_NONE,
          1, 0, 1, false},
      {8, 8, 8, 4, 16, 8, SEG_COORD_ASYMMETRIC, SCALES, false, SEG_ACT_NONE, 1,
          0, 1, false},
      {8, 8, 16, 16, 16, 8, SEG_COORD_HALF_PIXEL, SIZES_OTHER, true,
          SEG_ACT_NONE, 1, 0, 2, false},
      /* Trust finding 8: 3x1 and 1x3 kernels on one input channel, which
     * the 1x1 test took for a 1x1 conv on three; the TFLite (H, W) and
     * scales forms let the conv be moved before the Resize then. */
      {8, 8, 16, 16, 1, 6, SEG_COORD_HALF_PIXEL, SIZES_HW, false, SEG_ACT_NONE,
          3, 1, 1, false},
      {8, 8, 16, 16, 1, 6, SEG_COORD_ASYMMETRIC, SIZES_HW, false, SEG_ACT_NONE,
          1, 3, 2, false},
      {7, 5, 14, 10, 1, 4, SEG_COORD_HALF_PIXEL, SCALES, false, SEG_ACT_NONE, 1,
          3, 1, false},
      {7, 5, 14, 10, 1, 4, SEG_COORD_ALIGN_CORNERS, SCALES, false, SEG_ACT_NONE,
          3, 1, 2, false},
      {6, 9, 13, 17, 1, 5, SEG_COORD_HALF_PIXEL, SIZES_CONST, false,
          SEG_ACT_NONE, 1, 3, 1, false},
  };
  for (size_t i = 0; i < sizeof ups / sizeof ups[0]; i++)
    test_up (&ups[i]);

  if (failures) {
    fprintf (stderr, "%d of %d checks failed\n", failures, checks);
    return 1;
  }
  printf ("all %d checks passed\n", checks);
  return 0;
}
