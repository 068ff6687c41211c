/* Tests for inverted-residual fusion (passes.c) and its band-streaming op
 * (ops/irb.c). Each case builds expand 1x1 -> depthwise -> project 1x1
 * [-> Add of the block input] three times: as is, which the passes fuse
 * whole; with a second reader of the expanded tensor, which leaves the
 * expand conv apart and fuses depthwise -> project (the no-expansion
 * form); and with second readers of both intermediate tensors, which keeps
 * every conv apart. All run through the public session API on the same
 * input; the fused outputs must match the unfused within 1e-5 relative
 * (the kernels and their summation order are the same, so in practice
 * they are bit-identical). Squeeze-and-excite blocks are checked the same
 * way (expand -> depthwise fused, Mul + project + Add fused). Cases cover
 * odd sizes, strides 1 and 2, dilation 2, 3x3 and 5x5, SAME and explicit
 * padding, both weight layouts, with and without residual and biases, 1
 * and 2 threads, and band heights forced small (seg_irb_force_rows) so that the
 * row ring wraps many times.
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

#define TOLERANCE 1e-5


typedef struct
{
  int h, w, cin, cexp, cout, k, stride, dilation;
  seg_pad_mode pad_mode;
  bool residual, bias, onnx_layout;
  seg_act expand_act, dw_act;
  int threads;
  size_t rows;   /* forced band height, or 0 for the cache-based height */
  bool add_self; /* output = project + project: an Add not to fuse */
} irb_case;

typedef struct
{
  float *we, *be, *wd, *bd, *wp, *bp;
} weights;

static int
add_const (seg_graph *g, const char *name, int rank, const int64_t *dims,
    const float *src, size_t count)
{
  float *data = malloc (count * sizeof *data);
  if (!data)
    return -1;
  memcpy (data, src, count * sizeof *data);
  return seg_graph_add_tensor (g, name, SEG_DT_F32, rank, dims, data,
      count * sizeof *data);
}

static int
add_act (seg_graph *g, const char *name)
{
  int64_t dims[4] = {-1, -1, -1, -1};
  return seg_graph_add_tensor (g, name, SEG_DT_F32, 4, dims, NULL, 0);
}

static void
set_act (seg_node *n, seg_act act)
{
  n->a.act = act;
  n->a.act_a = act == SEG_ACT_CLIP ? 0.0f
      : act == SEG_ACT_HARDSIGMOID ? 0.2f
                                   : 0.0f;
  n->a.act_b = act == SEG_ACT_CLIP ? 6.0f
      : act == SEG_ACT_HARDSIGMOID ? 0.5f
                                   : 0.0f;
}

/* The block as a graph. apart = 1: the expanded tensor has a second
 * reader; apart = 2: the depthwise output too. The fusion must respect
 * both. */
static seg_graph *
build (const irb_case *c, const weights *w, int apart)
{
  seg_graph *g = seg_graph_new (SEG_LAYOUT_NHWC);
  if (!g)
    return NULL;
  int64_t in_dims[4] = {1, -1, -1, c->cin};
  int x = seg_graph_add_tensor (g, "x", SEG_DT_F32, 4, in_dims, NULL, 0);
  int taps = c->k * c->k;
  seg_weight_layout pl = c->onnx_layout ? SEG_WL_OIHW : SEG_WL_OHWI;
  int64_t ed[4] = {c->cexp, 1, 1, c->cin};
  int64_t pd[4] = {c->cout, 1, 1, c->cexp};
  if (c->onnx_layout) {
    ed[1] = c->cin, ed[3] = 1;
    pd[1] = c->cexp, pd[3] = 1;
  }
  int64_t dd[4] = {c->cexp, 1, c->k, c->k};
  if (!c->onnx_layout) {
    dd[0] = 1, dd[1] = c->k, dd[2] = c->k, dd[3] = c->cexp;
  }
  int64_t bed[1] = {c->cexp}, bpd[1] = {c->cout};
  int we = add_const (g, "we", 4, ed, w->we, (size_t) c->cexp * c->cin);
  int wd = add_const (g, "wd", 4, dd, w->wd, (size_t) c->cexp * taps);
  int wp = add_const (g, "wp", 4, pd, w->wp, (size_t) c->cout * c->cexp);
  int be = c->bias ? add_const (g, "be", 1, bed, w->be, c->cexp) : -1;
  int bd = c->bias ? add_const (g, "bd", 1, bed, w->bd, c->cexp) : -1;
  int bp = c->bias ? add_const (g, "bp", 1, bpd, w->bp, c->cout) : -1;
  int te = add_act (g, "expanded"), td = add_act (g, "dw");
  int tp = add_act (g, "projected");
  int out = tp;

  seg_node *n = seg_graph_add_node (g, SEG_OP_CONV, "expand", 3,
      (int[]){x, we, be}, 1, &te);
  n->a.wlayout = pl;
  set_act (n, c->expand_act);
  n = seg_graph_add_node (g, SEG_OP_CONV, "dw", 3, (int[]){te, wd, bd}, 1, &td);
  n->a.wlayout = c->onnx_layout ? SEG_WL_OIHW : SEG_WL_1HWO;
  n->a.groups = c->cexp;
  n->a.stride[0] = n->a.stride[1] = c->stride;
  n->a.dilation[0] = n->a.dilation[1] = c->dilation;
  n->a.pad_mode = c->pad_mode;
  if (c->pad_mode == SEG_PAD_EXPLICIT) {
    int p = (c->k - 1) * c->dilation;
    n->a.pads[0] = n->a.pads[1] = p / 2;
    n->a.pads[2] = n->a.pads[3] = p - p / 2;
  }
  set_act (n, c->dw_act);
  n = seg_graph_add_node (g, SEG_OP_CONV, "project", 3, (int[]){td, wp, bp}, 1,
      &tp);
  n->a.wlayout = pl;
  if (c->residual || c->add_self) {
    out = add_act (g, "sum");
    seg_graph_add_node (g, SEG_OP_ADD, "add", 2,
        (int[]){c->add_self ? tp : x, tp}, 1, &out);
  }
  /* A second reader (whose output nobody reads) is enough to stop the
   * fusion. */
  for (int i = 0; i < apart; i++) {
    int sink = add_act (g, "sink");
    seg_graph_add_node (g, SEG_OP_SIGMOID, "sink", 1, i ? &td : &te, 1, &sink);
  }
  g->inputs[g->ninputs++] = x;
  g->outputs[g->noutputs++] = out;
  return g;
}

/* Fused nodes, counting those with an expand conv twice. */
static int
count_fused (const seg_model *m)
{
  int n = 0;
  for (int i = 0; i < m->g->nnodes; i++)
    if (m->g->nodes[i].op == SEG_OP_INVERTED_RESIDUAL)
      n += m->g->nodes[i].in[1] >= 0 ? 2 : 1;
  return n;
}

/* Runs the graph on x; returns a copy of the output (caller frees) and its
 * element count, or NULL after recording a failure. */
static float *
run_graph (const irb_case *c, const char *what, seg_graph *g, const float *x,
    int want_fused, size_t *count)
{
  seg_model *m = NULL;
  seg_session *s = NULL;
  char *error = NULL;
  float *out = NULL;
  if (!g
      || seg_model_new_from_graph (g, SEG_FORMAT_TFLITE, "irb", &m, &error)
          != SEG_OK) {
    FAIL ("%s: model: %s", what, error ? error : "out of memory");
    goto done;
  }
  if (count_fused (m) != want_fused) {
    FAIL ("%s: fused-node count %d, expected %d", what, count_fused (m),
        want_fused);
    goto done;
  }
  seg_session_options opt = {.threads = c->threads,
      .input_width = c->w,
      .input_height = c->h};
  if (seg_session_new (m, &opt, &s, &error) != SEG_OK) {
    FAIL ("%s: session: %s", what, error ? error : "?");
    goto done;
  }
  if (seg_session_run (s, x, (size_t) c->h * c->w * c->cin) != SEG_OK) {
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
  free (error);
  seg_session_free (s);
  seg_model_free (m);
  return out;
}

static void
test_case (const irb_case *c)
{
  char what[200];
  snprintf (what, sizeof what,
      "%dx%d cin%d cexp%d cout%d k%d s%d d%d pad%d "
      "res%d bias%d onnx%d act%d/%d t%d rows %zu",
      c->h, c->w, c->cin, c->cexp, c->cout, c->k, c->stride, c->dilation,
      (int) c->pad_mode, c->residual, c->bias, c->onnx_layout,
      (int) c->expand_act, (int) c->dw_act, c->threads, c->rows);
  size_t taps = (size_t) c->k * c->k;
  weights w = {0};
  w.we = malloc ((size_t) c->cexp * c->cin * sizeof (float));
  w.wd = malloc ((size_t) c->cexp * taps * sizeof (float));
  w.wp = malloc ((size_t) c->cout * c->cexp * sizeof (float));
  w.be = malloc ((size_t) c->cexp * sizeof (float));
  w.bd = malloc ((size_t) c->cexp * sizeof (float));
  w.bp = malloc ((size_t) c->cout * sizeof (float));
  size_t nx = (size_t) c->h * c->w * c->cin;
  float *x = malloc (nx * sizeof *x);
  if (!w.we || !w.wd || !w.wp || !w.be || !w.bd || !w.bp || !x) {
    FAIL ("%s: out of memory", what);
    goto done;
  }
  for (size_t i = 0; i < (size_t) c->cexp * c->cin; i++)
    w.we[i] = frand () * 0.5f;
  for (size_t i = 0; i < (size_t) c->cexp * taps; i++)
    w.wd[i] = frand () * 0.5f;
  for (size_t i = 0; i < (size_t) c->cout * c->cexp; i++)
    w.wp[i] = frand () * 0.3f;
  for (int i = 0; i < c->cexp; i++)
    w.be[i] = frand (), w.bd[i] = frand ();
  for (int i = 0; i < c->cout; i++)
    w.bp[i] = frand ();
  for (size_t i = 0; i < nx; i++)
    x[i] = frand () * 2.0f;

  seg_irb_force_rows (c->rows);
  size_t nu = 0, nf[2] = {0, 0};
  float *apart = run_graph (c, what, build (c, &w, 2), x, 0, &nu);
  float *fused[2] = {run_graph (c, what, build (c, &w, 0), x, 2, &nf[0]),
      run_graph (c, what, build (c, &w, 1), x, 1, &nf[1])};
  seg_irb_force_rows (0);
  for (int f = 0; f < 2; f++) {
    const char *form = f ? "without expand" : "whole";
    checks++;
    if (!fused[f] || !apart)
      continue;
    if (nf[f] != nu) {
      FAIL ("%s: %zu outputs fused %s, %zu unfused", what, nf[f], form, nu);
      continue;
    }
    for (size_t i = 0; i < nu; i++)
      if (!(fabs (fused[f][i] - apart[i])
              <= TOLERANCE * (1 + fabs (apart[i])))) {
        FAIL ("%s: output %zu is %.9g fused %s, %.9g unfused", what, i,
            (double) fused[f][i], form, (double) apart[i]);
        break;
      }
  }
  free (fused[0]);
  free (fused[1]);
  free (apart);
done:
  free (w.we);
  free (w.wd);
  free (w.wp);
  free (w.be);
  free (w.bd);
  free (w.bp);
  free (x);
}

/* An Add of something other than the block input stays an Add after
 * the fused node, and the results still match. */
static void
test_not_residual (void)
{
  irb_case c = {9, 11, 8, 24, 8, 3, 1, 1, SEG_PAD_SAME_UPPER, false, true,
      false, SEG_ACT_RELU, SEG_ACT_NONE, 2, 2, true};
  test_case (&c);
  size_t taps = 9;
  weights w = {0};
  w.we = calloc ((size_t) c.cexp * c.cin, sizeof (float));
  w.wd = calloc ((size_t) c.cexp * taps, sizeof (float));
  w.wp = calloc ((size_t) c.cout * c.cexp, sizeof (float));
  w.be = calloc ((size_t) c.cexp, sizeof (float));
  w.bd = calloc ((size_t) c.cexp, sizeof (float));
  w.bp = calloc ((size_t) c.cout, sizeof (float));
  seg_graph *g = build (&c, &w, 0);
  seg_model *m = NULL;
  char *error = NULL;
  checks++;
  if (!g
      || seg_model_new_from_graph (g, SEG_FORMAT_TFLITE, "irb", &m, &error)
          != SEG_OK) {
    FAIL ("add-self block: model: %s", error ? error : "out of memory");
  } else {
    int adds = 0, residual = 0;
    for (int i = 0; i < m->g->nnodes; i++) {
      adds += m->g->nodes[i].op == SEG_OP_ADD;
      residual += m->g->nodes[i].op == SEG_OP_INVERTED_RESIDUAL
          && m->g->nodes[i].a.irb_residual;
    }
    if (count_fused (m) != 2 || adds != 1 || residual)
      FAIL ("add-self block: %d fused (%d residual) and %d adds, expected "
            "1 (0) and 1",
          count_fused (m), residual, adds);
  }
  free (error);
  seg_model_free (m);
  free (w.we);
  free (w.wd);
  free (w.wp);
  free (w.be);
  free (w.bd);
  free (w.bp);
}

/* ---- squeeze-and-excite projection --------------------------------- */

typedef struct
{
  int h, w, cin, cexp, csq, cout, stride;
  bool residual;
  int threads;
} se_case;

/* expand -> depthwise 3x3 -> GAP -> 1x1 relu -> 1x1 hardsigmoid -> Mul ->
 * project [-> Add]. apart >= 1: the Mul output gets a second reader (no
 * SeProject); apart = 2: the expanded tensor too (nothing fused). */
static seg_graph *
build_se (const se_case *c, const float *const *wts, int apart)
{
  seg_graph *g = seg_graph_new (SEG_LAYOUT_NHWC);
  if (!g)
    return NULL;
  int64_t in_dims[4] = {1, -1, -1, c->cin};
  int x = seg_graph_add_tensor (g, "x", SEG_DT_F32, 4, in_dims, NULL, 0);
  int64_t ed[4] = {c->cexp, c->cin, 1, 1}, dd[4] = {c->cexp, 1, 3, 3};
  int64_t s1[4] = {c->csq, c->cexp, 1, 1}, s2[4] = {c->cexp, c->csq, 1, 1};
  int64_t pd[4] = {c->cout, c->cexp, 1, 1};
  int64_t b1d[1] = {c->csq}, b2d[1] = {c->cexp}, bpd[1] = {c->cout};
  int we = add_const (g, "we", 4, ed, wts[0], (size_t) c->cexp * c->cin);
  int wd = add_const (g, "wd", 4, dd, wts[1], (size_t) c->cexp * 9);
  int w1 = add_const (g, "w1", 4, s1, wts[2], (size_t) c->csq * c->cexp);
  int b1 = add_const (g, "b1", 1, b1d, wts[3], c->csq);
  int w2 = add_const (g, "w2", 4, s2, wts[4], (size_t) c->cexp * c->csq);
  int b2 = add_const (g, "b2", 1, b2d, wts[5], c->cexp);
  int wp = add_const (g, "wp", 4, pd, wts[6], (size_t) c->cout * c->cexp);
  int bp = add_const (g, "bp", 1, bpd, wts[7], c->cout);
  int te = add_act (g, "e"), td = add_act (g, "d"), tg = add_act (g, "gap");
  int t1 = add_act (g, "fc1"), t2 = add_act (g, "fc2");
  int tm = add_act (g, "gated"), tp = add_act (g, "proj"), out = tp;
  seg_node *n =
      seg_graph_add_node (g, SEG_OP_CONV, "e", 2, (int[]){x, we}, 1, &te);
  set_act (n, SEG_ACT_HARDSWISH);
  n = seg_graph_add_node (g, SEG_OP_CONV, "d", 2, (int[]){te, wd}, 1, &td);
  n->a.groups = c->cexp;
  n->a.stride[0] = n->a.stride[1] = c->stride;
  n->a.pads[0] = n->a.pads[1] = n->a.pads[2] = n->a.pads[3] = 1;
  set_act (n, SEG_ACT_HARDSWISH);
  seg_graph_add_node (g, SEG_OP_GLOBAL_AVG_POOL, "gap", 1, &td, 1, &tg);
  n = seg_graph_add_node (g, SEG_OP_CONV, "fc1", 3, (int[]){tg, w1, b1}, 1,
      &t1);
  set_act (n, SEG_ACT_RELU);
  n = seg_graph_add_node (g, SEG_OP_CONV, "fc2", 3, (int[]){t1, w2, b2}, 1,
      &t2);
  set_act (n, SEG_ACT_HARDSIGMOID);
  seg_graph_add_node (g, SEG_OP_MUL, "mul", 2, (int[]){td, t2}, 1, &tm);
  seg_graph_add_node (g, SEG_OP_CONV, "p", 3, (int[]){tm, wp, bp}, 1, &tp);
  if (c->residual) {
    out = add_act (g, "sum");
    seg_graph_add_node (g, SEG_OP_ADD, "add", 2, (int[]){tp, x}, 1, &out);
  }
  for (int i = 0; i < apart; i++) {
    int sink = add_act (g, "sink");
    seg_graph_add_node (g, SEG_OP_SIGMOID, "sink", 1, i ? &te : &tm, 1, &sink);
  }
  g->inputs[g->ninputs++] = x;
  g->outputs[g->noutputs++] = out;
  return g;
}

static void
test_se_case (const se_case *c)
{
  char what[160];
  snprintf (what, sizeof what, "SE %dx%d cin%d cexp%d cout%d s%d res%d t%d",
      c->h, c->w, c->cin, c->cexp, c->cout, c->stride, c->residual, c->threads);
  size_t counts[8] = {(size_t) c->cexp * c->cin, (size_t) c->cexp * 9,
      (size_t) c->csq * c->cexp, c->csq, (size_t) c->cexp * c->csq, c->cexp,
      (size_t) c->cout * c->cexp, c->cout};
  float *wts[8];
  for (int i = 0; i < 8; i++) {
    wts[i] = malloc (counts[i] * sizeof (float));
    for (size_t q = 0; wts[i] && q < counts[i]; q++)
      wts[i][q] = frand () * 0.5f;
  }
  size_t nx = (size_t) c->h * c->w * c->cin, nf = 0, nu = 0;
  float *x = malloc (nx * sizeof *x);
  for (size_t i = 0; x && i < nx; i++)
    x[i] = frand () * 2.0f;
  irb_case rc = {.h = c->h, .w = c->w, .cin = c->cin, .threads = c->threads};
  float *fused = NULL, *half = NULL, *apart = NULL;
  size_t nh = 0;
  seg_model *m = NULL;
  char *error = NULL;
  checks++;
  for (int i = 0; i < 8; i++)
    if (!wts[i])
      goto done;
  if (!x)
    goto done;
  /* Structure: the Mul, the projection and the add become one node. */
  if (seg_model_new_from_graph (build_se (c, (const float *const *) wts, 0),
          SEG_FORMAT_TFLITE, "se", &m, &error)
      != SEG_OK) {
    FAIL ("%s: model: %s", what, error ? error : "?");
    goto done;
  }
  int se = 0, muls = 0, adds = 0;
  for (int i = 0; i < m->g->nnodes; i++) {
    se += m->g->nodes[i].op == SEG_OP_SE_PROJECT;
    muls += m->g->nodes[i].op == SEG_OP_MUL;
    adds += m->g->nodes[i].op == SEG_OP_ADD;
  }
  if (se != 1 || muls != 0 || adds != 0)
    FAIL ("%s: %d SeProject, %d Mul, %d Add nodes after fusion", what, se, muls,
        adds);
  /* Whole: expand -> depthwise is one InvertedResidual (counted 2). */
  fused = run_graph (&rc, what, build_se (c, (const float *const *) wts, 0), x,
      2, &nf);
  half = run_graph (&rc, what, build_se (c, (const float *const *) wts, 1), x,
      2, &nh);
  apart = run_graph (&rc, what, build_se (c, (const float *const *) wts, 2), x,
      0, &nu);
  for (int f = 0; f < 2; f++) {
    const float *got = f ? half : fused;
    size_t ng = f ? nh : nf;
    if (!got || !apart)
      continue;
    if (ng != nu)
      FAIL ("%s: %zu outputs fused, %zu unfused", what, ng, nu);
    for (size_t i = 0; i < ng && ng == nu; i++)
      if (!(fabs (got[i] - apart[i]) <= TOLERANCE * (1 + fabs (apart[i])))) {
        FAIL ("%s: output %zu is %.9g fused%s, %.9g unfused", what, i,
            (double) got[i], f ? " (no SeProject)" : "", (double) apart[i]);
        break;
      }
  }
done:
  free (error);
  seg_model_free (m);
  free (fused);
  free (half);
  free (apart);
  free (x);
  for (int i = 0; i < 8; i++)
    free (wts[i]);
}

int
main (void)
{
  static const irb_case cases[] = {
      /* h, w, cin, cexp, cout, k, s, d, pad, res, bias, onnx, acts, thr, rows */
      {13, 9, 8, 24, 8, 3, 1, 1, SEG_PAD_EXPLICIT, true, true, true,
          SEG_ACT_HARDSWISH, SEG_ACT_HARDSWISH, 1, 0, false},
      {13, 9, 8, 24, 8, 3, 1, 1, SEG_PAD_EXPLICIT, true, true, true,
          SEG_ACT_HARDSWISH, SEG_ACT_HARDSWISH, 2, 1, false},
      {13, 9, 8, 24, 8, 3, 1, 1, SEG_PAD_EXPLICIT, true, true, false,
          SEG_ACT_RELU, SEG_ACT_RELU, 2, 2, false},
      {17, 15, 16, 72, 24, 3, 2, 1, SEG_PAD_EXPLICIT, false, true, true,
          SEG_ACT_RELU, SEG_ACT_RELU, 1, 3, false},
      {17, 15, 16, 72, 24, 3, 2, 1, SEG_PAD_SAME_UPPER, false, false, false,
          SEG_ACT_RELU, SEG_ACT_NONE, 2, 1, false},
      {16, 14, 16, 40, 24, 5, 2, 1, SEG_PAD_SAME_UPPER, false, true, false,
          SEG_ACT_CLIP, SEG_ACT_CLIP, 2, 0, false},
      {11, 13, 20, 60, 20, 3, 1, 2, SEG_PAD_EXPLICIT, true, true, true,
          SEG_ACT_HARDSWISH, SEG_ACT_HARDSWISH, 2, 2, false},
      {11, 13, 20, 60, 20, 5, 1, 2, SEG_PAD_EXPLICIT, true, false, true,
          SEG_ACT_HARDSIGMOID, SEG_ACT_RELU, 1, 1, false},
      {11, 13, 20, 60, 20, 5, 1, 2, SEG_PAD_EXPLICIT, true, true, true,
          SEG_ACT_NONE, SEG_ACT_NONE, 2, 4, false},
      {7, 5, 3, 17, 5, 3, 2, 1, SEG_PAD_VALID, false, true, true, SEG_ACT_RELU,
          SEG_ACT_RELU, 2, 0, false},
      {1, 1, 4, 12, 4, 3, 1, 1, SEG_PAD_SAME_UPPER, true, true, false,
          SEG_ACT_RELU, SEG_ACT_RELU, 2, 0, false},
      {33, 31, 40, 240, 40, 5, 1, 1, SEG_PAD_EXPLICIT, true, true, true,
          SEG_ACT_HARDSWISH, SEG_ACT_HARDSWISH, 2, 0, false},
      {33, 31, 40, 240, 40, 5, 1, 1, SEG_PAD_EXPLICIT, true, true, true,
          SEG_ACT_HARDSWISH, SEG_ACT_HARDSWISH, 2, 5, false},
      {40, 37, 24, 64, 24, 3, 2, 1, SEG_PAD_SAME_UPPER, false, true, false,
          SEG_ACT_RELU, SEG_ACT_RELU, 1, 7, false},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
    test_case (&cases[i]);
  test_not_residual ();
  static const se_case se_cases[] = {
      {9, 11, 16, 48, 8, 16, 1, true, 1},
      {9, 11, 16, 48, 8, 16, 1, true, 2},
      {17, 13, 16, 40, 12, 24, 2, false, 2},
      {33, 31, 40, 120, 32, 40, 1, true, 2},
      {5, 7, 24, 96, 24, 32, 1, false, 1},
      /* with threads, SE blocks split the expanded channels into slices of
     * whole GEMM panels where row ranges would repeat many halo rows;
     * these have a short last slice */
      {9, 10, 24, 200, 16, 24, 2, false, 3},
      {13, 10, 24, 200, 16, 24, 1, false, 3},
      {7, 19, 32, 600, 24, 32, 1, true, 2},
  };
  for (size_t i = 0; i < sizeof se_cases / sizeof se_cases[0]; i++)
    test_se_case (&se_cases[i]);
  if (failures) {
    fprintf (stderr, "%d of %d checks failed\n", failures, checks);
    return 1;
  }
  printf ("all %d checks passed\n", checks);
  return 0;
}
