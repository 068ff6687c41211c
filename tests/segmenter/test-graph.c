/* Passes, planner, session and thread pool, on graphs built in the test.
 * Each pass is checked twice: that it rewrote the graph, and that the
 * rewritten graph computes what a plain reference of the original computes. */
#include <math.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model.h"
#include "threadpool.h"


#define CHECK_CONTINUES
#include "../check.h"

static uint32_t rng_state = 0x9e3779b9u;

/* Uniform in [-1, 1). */
static float
frand (void)
{
  return test_randf (&rng_state, -1.0f, 1.0f);
}

static float *
rand_floats (size_t n)
{
  float *p = malloc (n * sizeof *p);
  for (size_t i = 0; i < n; i++)
    p[i] = frand ();
  return p;
}

static int
add_const (seg_graph *g, const char *name, int rank, const int64_t *dims,
    const float *values)
{
  int64_t n = seg_shape_elements (rank, dims);
  float *data = malloc ((size_t) n * sizeof *data);
  memcpy (data, values, (size_t) n * sizeof *data);
  return seg_graph_add_tensor (g, name, SEG_DT_F32, rank, dims, data,
      (size_t) n * sizeof *data);
}

static int
add_act (seg_graph *g, const char *name)
{
  int64_t dims[4] = {-1, -1, -1, -1};
  return seg_graph_add_tensor (g, name, SEG_DT_F32, 4, dims, NULL, 0);
}

static seg_model *
make_model (seg_graph *g)
{
  seg_model *m = NULL;
  char *error = NULL;
  seg_status st =
      seg_model_new_from_graph (g, SEG_FORMAT_TFLITE, "test", &m, &error);
  CHECK (st == SEG_OK, "model: %s", error ? error : "?");
  free (error);
  return m;
}

static int
count_op (const seg_model *m, seg_op op)
{
  int n = 0;
  for (int i = 0; i < m->g->nnodes; i++)
    n += m->g->nodes[i].op == op;
  return n;
}

static double
max_diff (const float *a, const float *b, size_t n)
{
  double d = 0;
  for (size_t i = 0; i < n; i++) {
    double e = fabs ((double) a[i] - b[i]);
    if (!(e <= d))
      d = e; /* NaN propagates as a failure */
  }
  return d;
}

/* 1x1 conv, NHWC, weights OHWI, then the reference BN and act. */
static void
ref_conv1x1 (const float *x, int pixels, int cin, const float *w,
    const float *bias, int cout, float *y)
{
  for (int p = 0; p < pixels; p++)
    for (int o = 0; o < cout; o++) {
      double acc = bias ? bias[o] : 0;
      for (int i = 0; i < cin; i++)
        acc += (double) x[p * cin + i] * w[o * cin + i];
      y[p * cout + o] = (float) acc;
    }
}

static void
test_batchnorm_and_relu_fold (void)
{
  enum
  {
    H = 5,
    W = 7,
    CIN = 3,
    COUT = 4
  };
  seg_graph *g = seg_graph_new (SEG_LAYOUT_NHWC);
  int64_t in_dims[4] = {1, H, W, CIN};
  int x = seg_graph_add_tensor (g, "x", SEG_DT_F32, 4, in_dims, NULL, 0);
  float *w = rand_floats (COUT * CIN);
  float scale[COUT], beta[COUT], mean[COUT], var[COUT];
  for (int c = 0; c < COUT; c++) {
    scale[c] = frand () + 1.5f;
    beta[c] = frand ();
    mean[c] = frand ();
    var[c] = frand () + 1.2f;
  }
  int64_t wd[4] = {COUT, 1, 1, CIN}, cd[1] = {COUT};
  int wt = add_const (g, "w", 4, wd, w);
  int st = add_const (g, "scale", 1, cd, scale);
  int bt = add_const (g, "beta", 1, cd, beta);
  int mt = add_const (g, "mean", 1, cd, mean);
  int vt = add_const (g, "var", 1, cd, var);
  int c1 = add_act (g, "conv"), b1 = add_act (g, "bn"),
      r1 = add_act (g, "relu");
  seg_node *n =
      seg_graph_add_node (g, SEG_OP_CONV, "conv", 2, (int[]){x, wt}, 1, &c1);
  n->a.wlayout = SEG_WL_OHWI;
  n->a.kernel[0] = n->a.kernel[1] = 1;
  n = seg_graph_add_node (g, SEG_OP_BATCHNORM, "bn", 5,
      (int[]){c1, st, bt, mt, vt}, 1, &b1);
  n->a.alpha = 1e-3f;
  seg_graph_add_node (g, SEG_OP_RELU, "relu", 1, &b1, 1, &r1);
  g->inputs[g->ninputs++] = x;
  g->outputs[g->noutputs++] = r1;

  seg_model *m = make_model (g);
  if (!m) {
    free (w);
    return;
  }
  CHECK (m->g->nnodes == 1 && count_op (m, SEG_OP_CONV) == 1,
      "BN and Relu folded into the conv: %d nodes left", m->g->nnodes);
  CHECK (m->g->nodes[0].a.act == SEG_ACT_RELU, "relu fused");

  seg_session *s = NULL;
  CHECK (seg_session_new (m, NULL, &s, NULL) == SEG_OK, "session");
  float *in = rand_floats (H * W * CIN);
  float ref[H * W * COUT];
  CHECK (seg_session_run (s, in, H * W * CIN) == SEG_OK, "run");
  ref_conv1x1 (in, H * W, CIN, w, NULL, COUT, ref);
  for (int p = 0; p < H * W; p++)
    for (int c = 0; c < COUT; c++) {
      float *r = &ref[p * COUT + c];
      *r = (*r - mean[c]) / sqrtf (var[c] + 1e-3f) * scale[c] + beta[c];
      *r = *r > 0 ? *r : 0;
    }
  int oh, ow, oc;
  const float *out = seg_session_output (s, &oh, &ow, &oc);
  CHECK (oh == H && ow == W && oc == COUT, "output shape %dx%dx%d", oh, ow, oc);
  double d = max_diff (out, ref, H * W * COUT);
  CHECK (d < 1e-5, "folded conv+bn+relu max diff %g", d);
  seg_session_free (s);
  seg_model_free (m);
  free (w);
  free (in);
}

static void
test_hardswish_fusion (void)
{
  enum
  {
    H = 3,
    W = 9,
    C = 5
  };
  seg_graph *g = seg_graph_new (SEG_LAYOUT_NHWC);
  int64_t in_dims[4] = {1, H, W, C};
  int x = seg_graph_add_tensor (g, "x", SEG_DT_F32, 4, in_dims, NULL, 0);
  int hs = add_act (g, "hs"), y = add_act (g, "y"), z = add_act (g, "z");
  seg_node *n = seg_graph_add_node (g, SEG_OP_HARDSIGMOID, "hs", 1, &x, 1, &hs);
  n->a.alpha = 1.0f / 6.0f;
  n->a.beta = 0.5f;
  seg_graph_add_node (g, SEG_OP_MUL, "mul", 2, (int[]){x, hs}, 1, &y);
  /* a gate with another operand must stay a Mul */
  n = seg_graph_add_node (g, SEG_OP_HARDSIGMOID, "gate", 1, &y, 1, &z);
  n->a.alpha = 0.2f;
  n->a.beta = 0.5f;
  int out = add_act (g, "out");
  seg_graph_add_node (g, SEG_OP_MUL, "gated", 2, (int[]){x, z}, 1, &out);
  g->inputs[g->ninputs++] = x;
  g->outputs[g->noutputs++] = out;

  seg_model *m = make_model (g);
  if (!m)
    return;
  CHECK (count_op (m, SEG_OP_HARDSWISH) == 1,
      "x*hardsigmoid(x) became HardSwish");
  CHECK (count_op (m, SEG_OP_MUL) == 1, "the gate multiply stays");
  seg_session *s = NULL;
  CHECK (seg_session_new (m, NULL, &s, NULL) == SEG_OK, "session");
  float *in = rand_floats (H * W * C);
  for (int i = 0; i < H * W * C; i++)
    in[i] *= 5; /* cover both clamps */
  float ref[H * W * C];
  for (int i = 0; i < H * W * C; i++) {
    float v = in[i];
    float h = fminf (fmaxf (v / 6 + 0.5f, 0), 1) * v;
    float gte = fminf (fmaxf (0.2f * h + 0.5f, 0), 1);
    ref[i] = v * gte;
  }
  seg_session_run (s, in, H * W * C);
  double d =
      max_diff (seg_session_output (s, NULL, NULL, NULL), ref, H * W * C);
  CHECK (d < 1e-5, "hardswish graph max diff %g", d);
  seg_session_free (s);
  seg_model_free (m);
  free (in);
}

/* A chain of ops needs two buffers whatever its length; a graph output
 * stays live to the end; a skip connection keeps its source alive. */
static void
test_memory_plan (void)
{
  enum
  {
    H = 8,
    W = 8,
    C = 16,
    LEN = 10
  };
  seg_graph *g = seg_graph_new (SEG_LAYOUT_NHWC);
  int64_t in_dims[4] = {1, H, W, C};
  int x = seg_graph_add_tensor (g, "x", SEG_DT_F32, 4, in_dims, NULL, 0);
  int prev = x;
  for (int i = 0; i < LEN; i++) {
    char name[16];
    snprintf (name, sizeof name, "t%d", i);
    int t = add_act (g, name);
    seg_node *n = seg_graph_add_node (g, SEG_OP_CLIP, name, 1, &prev, 1, &t);
    n->a.alpha = -1.0f + 0.05f * (float) i;
    n->a.beta = 1.0f - 0.05f * (float) i;
    prev = t;
  }
  /* skip connection from the input to the end */
  int sum = add_act (g, "sum");
  seg_graph_add_node (g, SEG_OP_ADD, "add", 2, (int[]){prev, x}, 1, &sum);
  g->inputs[g->ninputs++] = x;
  g->outputs[g->noutputs++] = sum;

  seg_model *m = make_model (g);
  if (!m)
    return;
  seg_session *s = NULL;
  CHECK (seg_session_new (m, NULL, &s, NULL) == SEG_OK, "session");
  seg_session_info info;
  seg_session_get_info (s, &info);
  size_t one = H * W * C * sizeof (float);
  /* input kept alive by the skip + two ping-pong buffers */
  CHECK (info.arena_bytes == 3 * one, "arena %zu bytes, expected %zu",
      info.arena_bytes, 3 * one);

  float *in = rand_floats (H * W * C);
  float ref[H * W * C];
  for (int i = 0; i < H * W * C; i++) {
    float v = in[i];
    for (int k = 0; k < LEN; k++)
      v = fminf (fmaxf (v, -1.0f + 0.05f * (float) k),
          1.0f - 0.05f * (float) k);
    ref[i] = v + in[i];
  }
  seg_session_run (s, in, H * W * C);
  double d =
      max_diff (seg_session_output (s, NULL, NULL, NULL), ref, H * W * C);
  CHECK (d == 0, "chain result with shared buffers differs by %g", d);
  seg_session_free (s);
  seg_model_free (m);
  free (in);
}

/* Shape -> Slice -> Concat -> Resize as torch writes it: evaluated at plan
 * time for each session's input size. */
static void
test_shape_subgraph (void)
{
  seg_graph *g = seg_graph_new (SEG_LAYOUT_NCHW);
  int64_t in_dims[4] = {1, 6, 10, 2};
  int x = seg_graph_add_tensor (g, "x", SEG_DT_F32, 4, in_dims, NULL, 0);
  int relu = add_act (g, "relu");
  seg_graph_add_node (g, SEG_OP_RELU, "relu", 1, &x, 1, &relu);
  int64_t one[1] = {1}, two[1] = {2};
  int shape = seg_graph_add_tensor (g, "shape", SEG_DT_I64, 1, (int64_t[]){-1},
      NULL, 0);
  seg_node *n = seg_graph_add_node (g, SEG_OP_SHAPE, "shape", 1, &x, 1, &shape);
  n->a.nchw = true;
  int64_t *st = malloc (8), *en = malloc (8), *ax = malloc (8),
          *hw = malloc (16);
  st[0] = 2;
  en[0] = 4;
  ax[0] = 0;
  int ts = seg_graph_add_tensor (g, "starts", SEG_DT_I64, 1, one, st, 8);
  int te = seg_graph_add_tensor (g, "ends", SEG_DT_I64, 1, one, en, 8);
  int ta = seg_graph_add_tensor (g, "axes", SEG_DT_I64, 1, one, ax, 8);
  int sl =
      seg_graph_add_tensor (g, "hw", SEG_DT_I64, 1, (int64_t[]){-1}, NULL, 0);
  seg_graph_add_node (g, SEG_OP_SLICE, "slice", 4, (int[]){shape, ts, te, ta},
      1, &sl);
  /* sizes = [1, 2] ++ 2 * (H, W) */
  int64_t *nc = malloc (16);
  nc[0] = 1;
  nc[1] = 2;
  int tnc = seg_graph_add_tensor (g, "nc", SEG_DT_I64, 1, two, nc, 16);
  hw[0] = 2;
  hw[1] = 2;
  int t2 = seg_graph_add_tensor (g, "two", SEG_DT_I64, 1, two, hw, 16);
  int dbl =
      seg_graph_add_tensor (g, "dbl", SEG_DT_I64, 1, (int64_t[]){-1}, NULL, 0);
  seg_graph_add_node (g, SEG_OP_MUL, "mul", 2, (int[]){sl, t2}, 1, &dbl);
  int sizes = seg_graph_add_tensor (g, "sizes", SEG_DT_I64, 1, (int64_t[]){-1},
      NULL, 0);
  n = seg_graph_add_node (g, SEG_OP_CONCAT, "concat", 2, (int[]){tnc, dbl}, 1,
      &sizes);
  n->a.axis = 0;
  int up = add_act (g, "up");
  n = seg_graph_add_node (g, SEG_OP_RESIZE, "resize", 4,
      (int[]){relu, -1, -1, sizes}, 1, &up);
  n->a.nchw = true;
  n->a.coord = SEG_COORD_HALF_PIXEL;
  g->inputs[g->ninputs++] = x;
  g->outputs[g->noutputs++] = up;

  seg_model *m = make_model (g);
  if (!m)
    return;
  const seg_model_info *info = seg_model_get_info (m);
  CHECK (info->resizable, "output follows the input size");
  CHECK (info->output_height == 12 && info->output_width == 20,
      "declared output %dx%d", info->output_width, info->output_height);
  seg_session *s = NULL;
  seg_session_options opt = {.threads = 2, .input_width = 7, .input_height = 5};
  CHECK (seg_session_new (m, &opt, &s, NULL) == SEG_OK, "session at 7x5");
  if (s) {
    seg_session_info si;
    seg_session_get_info (s, &si);
    CHECK (si.output_height == 10 && si.output_width == 14,
        "output %dx%d at input 7x5", si.output_width, si.output_height);
    CHECK (si.threads == 2, "threads");
    /* a constant input upsamples to the same constant */
    float in[5 * 7 * 2];
    for (int i = 0; i < 70; i++)
      in[i] = i < 35 ? 0.25f : 0.75f; /* NCHW: channel 0, then 1 */
    seg_session_run (s, in, 70);
    float out[10 * 14 * 2];
    CHECK (seg_session_copy_output (s, out, 280) == SEG_OK, "copy output");
    CHECK (out[0] == 0.25f && out[139] == 0.25f && out[140] == 0.75f
            && out[279] == 0.75f,
        "NCHW output order");
  }
  seg_session_free (s);

  /* Skipping the final resize: raw output stays at the pre-resize size, and
   * masks at the full size come out as the full session's do. */
  seg_session *full = NULL, *skip = NULL;
  seg_session_options fo = {1, 9, 11, 0}, so = {2, 9, 11, 1};
  CHECK (seg_session_new (m, &fo, &full, NULL) == SEG_OK, "full session");
  CHECK (seg_session_new (m, &so, &skip, NULL) == SEG_OK, "skip session");
  if (full && skip) {
    seg_session_info fi, si;
    seg_session_get_info (full, &fi);
    seg_session_get_info (skip, &si);
    CHECK (si.output_height == 11 && si.output_width == 9
            && fi.output_height == 22,
        "skip output %dx%d, full %dx%d", si.output_width, si.output_height,
        fi.output_width, fi.output_height);
    CHECK (si.arena_bytes < fi.arena_bytes,
        "skip plans less memory (%zu vs %zu)", si.arena_bytes, fi.arena_bytes);
    float *in = rand_floats (2 * 11 * 9);
    seg_session_run (full, in, 2 * 11 * 9);
    seg_session_run (skip, in, 2 * 11 * 9);
    uint8_t a[22 * 18], b[22 * 18], pa[22 * 18], pb[22 * 18];
    seg_session_class_map (full, a, 18, 22, 18, 0.5f);
    seg_session_class_map (skip, b, 18, 22, 18, 0.5f);
    seg_session_probability (full, 1, pa, 18, 22, 18);
    seg_session_probability (skip, 1, pb, 18, 22, 18);
    int diff = 0, pdiff = 0;
    for (int i = 0; i < 22 * 18; i++) {
      diff += a[i] != b[i];
      pdiff = abs (pa[i] - pb[i]) > pdiff ? abs (pa[i] - pb[i]) : pdiff;
    }
    CHECK (diff == 0, "%d class-map pixels differ", diff);
    CHECK (pdiff <= 1, "probabilities differ by up to %d", pdiff);
    free (in);
  }
  seg_session_free (full);
  seg_session_free (skip);
  seg_model_free (m);
}

static void
test_api_errors (void)
{
  seg_model *m = NULL;
  char *error = NULL;
  CHECK (seg_model_load ("/nonexistent/model.onnx", &m, &error) == SEG_ERR_IO
          && m == NULL,
      "missing file");
  CHECK (error && strstr (error, "/nonexistent/model.onnx"),
      "message names the file: %s", error ? error : "(null)");
  free (error);
  error = NULL;
  CHECK (seg_model_load_from_memory ("", 0, "empty", &m, &error)
          == SEG_ERR_FORMAT,
      "empty buffer");
  free (error);
  seg_model_free (NULL);
  seg_session_free (NULL);
  CHECK (strcmp (seg_status_str (SEG_ERR_FORMAT), "malformed model") == 0,
      "status string");

  /* a fixed-size graph refuses another input size */
  seg_graph *g = seg_graph_new (SEG_LAYOUT_NHWC);
  int64_t dims[4] = {1, 4, 4, 3};
  int x = seg_graph_add_tensor (g, "x", SEG_DT_F32, 4, dims, NULL, 0);
  int y = add_act (g, "y");
  seg_graph_add_node (g, SEG_OP_SIGMOID, "sig", 1, &x, 1, &y);
  g->inputs[g->ninputs++] = x;
  g->outputs[g->noutputs++] = y;
  m = make_model (g);
  if (!m)
    return;
  seg_session *s = NULL;
  seg_session_options opt = {.threads = 1, .input_width = 8, .input_height = 8};
  /* elementwise graphs follow any size */
  CHECK (seg_session_new (m, &opt, &s, &error) == SEG_OK,
      "resizable elementwise graph");
  float in[8 * 8 * 3] = {0};
  CHECK (seg_session_run (s, in, 10) == SEG_ERR_INVALID, "wrong element count");
  CHECK (seg_session_run (s, in, 8 * 8 * 3) == SEG_OK, "right element count");
  uint8_t mask[4 * 4];
  CHECK (seg_session_class_map (s, mask, 4, 4, 2, 0.5f) == SEG_ERR_INVALID,
      "stride < width");
  seg_session_free (s);
  opt.input_width = 9000;
  CHECK (seg_session_new (m, &opt, &s, &error) == SEG_ERR_INVALID && !s,
      "absurd input size");
  CHECK (error && strstr (error, "9000"), "message says why: %s",
      error ? error : "(null)");
  free (error);
  seg_model_free (m);
}

/* Trust finding 4, the session's share: a session's arena is held to what
 * the model leaves of its budget, and refused (SEG_ERR_SHAPE, before it is
 * allocated) when the caller's input size needs more. */
static void
test_session_budget (void)
{
  seg_graph *g = seg_graph_new (SEG_LAYOUT_NHWC);
  int64_t dims[4] = {1, 4, 4, 3};
  int x = seg_graph_add_tensor (g, "x", SEG_DT_F32, 4, dims, NULL, 0);
  int y = add_act (g, "y");
  seg_graph_add_node (g, SEG_OP_SIGMOID, "sig", 1, &x, 1, &y);
  g->inputs[g->ninputs++] = x;
  g->outputs[g->noutputs++] = y;
  seg_model *m = make_model (g);
  if (!m)
    return;
  m->memory_budget = m->memory_used + (64 << 10);
  seg_session *s = NULL;
  char *error = NULL;
  /* 2 x 64x64x3 floats: 96 KiB > 64 KiB; 32x32 needs 24 KiB */
  seg_session_options opt = {.input_width = 32, .input_height = 32};
  CHECK (seg_session_new (m, &opt, &s, &error) == SEG_OK, "32x32 session: %s",
      error ? error : "?");
  seg_session_free (s);
  free (error);
  s = NULL;
  error = NULL;
  opt.input_width = opt.input_height = 64;
  CHECK (seg_session_new (m, &opt, &s, &error) == SEG_ERR_SHAPE && !s,
      "64x64 session over the budget");
  CHECK (error && strstr (error, "arena") && strstr (error, "memory budget"),
      "message: %s", error ? error : "(null)");
  free (error);
  seg_model_free (m);
}

/* Trust finding 5: the element asks for one thread per CPU, and hosts
 * with more than 64 CPUs could not create any session. More threads than
 * the pool takes are capped, and the session runs. */
static void
test_many_threads (void)
{
  seg_graph *g = seg_graph_new (SEG_LAYOUT_NHWC);
  int64_t dims[4] = {1, 4, 4, 3};
  int x = seg_graph_add_tensor (g, "x", SEG_DT_F32, 4, dims, NULL, 0);
  int y = add_act (g, "y");
  seg_graph_add_node (g, SEG_OP_SIGMOID, "sig", 1, &x, 1, &y);
  g->inputs[g->ninputs++] = x;
  g->outputs[g->noutputs++] = y;
  seg_model *m = make_model (g);
  if (!m)
    return;
  static const int asked[] = {64, 65, 128, 257, 1000, 1 << 30};
  for (size_t i = 0; i < sizeof asked / sizeof asked[0]; i++) {
    seg_session *s = NULL;
    char *error = NULL;
    seg_session_options opt = {.threads = asked[i]};
    seg_status st = seg_session_new (m, &opt, &s, &error);
    CHECK (st == SEG_OK && s, "%d threads: %s", asked[i], error ? error : "?");
    free (error);
    if (!s)
      continue;
    seg_session_info si;
    seg_session_get_info (s, &si);
    CHECK (si.threads == SEG_MAX_THREADS, "%d threads asked, %d used", asked[i],
        si.threads);
    float in[4 * 4 * 3] = {0};
    CHECK (seg_session_run (s, in, 4 * 4 * 3) == SEG_OK, "run with %d threads",
        si.threads);
    int oh, ow, oc;
    const float *out = seg_session_output (s, &oh, &ow, &oc);
    CHECK (out && out[0] == 0.5f && out[oh * ow * oc - 1] == 0.5f,
        "sigmoid (0) with %d threads", si.threads);
    seg_session_free (s);
  }
  seg_model_free (m);
}

typedef struct
{
  atomic_int hits[1000];
  atomic_int bad_thread;
  int nthreads;
  int spin; /* busy work per task, so that tasks overlap across threads */
} pool_ctx;

static void
pool_task (void *data, size_t task, int thread)
{
  pool_ctx *c = data;
  volatile unsigned sink = 0;
  for (int i = 0; i < c->spin; i++)
    sink += (unsigned) i;
  atomic_fetch_add (&c->hits[task], 1);
  if (thread < 0 || thread >= c->nthreads)
    atomic_fetch_add (&c->bad_thread, 1);
}

typedef struct
{
  atomic_ullong sum;
  atomic_ullong count;
} big_ctx;

static void
big_task (void *data, size_t task, int thread)
{
  big_ctx *c = data;
  (void) thread;
  atomic_fetch_add_explicit (&c->sum, task, memory_order_relaxed);
  atomic_fetch_add_explicit (&c->count, 1, memory_order_relaxed);
}

static void
test_threadpool (void)
{
  /* More threads than cores too: workers then often wake after the job
   * they were woken for has finished, and must not run a task of the
   * next one twice or with the old job's context. */
  static const int sizes[] = {1, 2, 3, 4, 8};
  for (size_t si = 0; si < sizeof sizes / sizeof sizes[0]; si++) {
    int threads = sizes[si];
    seg_threadpool *pool = seg_threadpool_new (threads);
    CHECK (pool && seg_threadpool_threads (pool) == threads, "pool of %d",
        threads);
    if (!pool)
      continue;
    static pool_ctx c[2];
    memset (c, 0, sizeof c);
    /* many short jobs back to back, as a network run issues them; two
     * contexts alternate so a task run with a stale one shows up */
    int bad_rounds = 0;
    for (int round = 0; round < 2000; round++) {
      pool_ctx *cc = &c[round & 1];
      size_t n = (size_t) (round % 7) * 100 % 1000 + 1;
      cc->nthreads = threads;
      cc->spin = round % 3 == 0 ? 200 : 0;
      seg_threadpool_run (pool, pool_task, cc, n);
      for (size_t i = 0; i < 1000; i++) {
        int hits = atomic_exchange (&cc->hits[i], 0);
        if (hits != (i < n ? 1 : 0))
          bad_rounds++;
      }
    }
    CHECK (bad_rounds == 0, "%d threads: %d task counts were not exactly once",
        threads, bad_rounds);
    CHECK (atomic_load (&c[0].bad_thread) + atomic_load (&c[1].bad_thread) == 0,
        "thread index in range");
    if (threads == 2) {
      /* more tasks than one batch of the pool's state word holds */
      static big_ctx b;
      size_t n = ((size_t) 1 << 22) + 1000;
      seg_threadpool_run (pool, big_task, &b, n);
      CHECK (atomic_load (&b.count) == n
              && atomic_load (&b.sum) == (unsigned long long) n * (n - 1) / 2,
          "%zu tasks ran once each "
          "(%llu ran)",
          n, (unsigned long long) atomic_load (&b.count));
    }
    seg_threadpool_free (pool);
  }
}

int
main (void)
{
  test_threadpool ();
  test_api_errors ();
  test_many_threads ();
  test_session_budget ();
  test_batchnorm_and_relu_fold ();
  test_hardswish_fusion ();
  test_memory_plan ();
  test_shape_subgraph ();
  if (failures) {
    fprintf (stderr, "%d check(s) failed\n", failures);
    return 1;
  }
  printf ("all graph tests passed\n");
  return 0;
}
