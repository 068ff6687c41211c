/* What the elementwise op tests (test-ops-elementwise.c) and the value op
 * tests (test-ops-shape.c) share: one-node graphs evaluated or run as a
 * session would, the references for the activations, and comparison with
 * a tolerance. Included by those two files only; functions are static
 * inline so each compiles what it uses. */
#ifndef SEG_TEST_OPS_ENV_H
#define SEG_TEST_OPS_ENV_H

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ops/ops.h"

#define TOL 1e-6

#define CHECK_CONTINUES
#include "../check.h"

static uint32_t rng_state __attribute__ ((unused)) = 0x9e3779b9u;

static char node_name[] = "node_x";

/* A node reading v[0..nin) and writing v[nin]. */
static inline seg_node
make_node (seg_op op, int nin)
{
  seg_node n;
  memset (&n, 0, sizeof n);
  n.op = op;
  n.name = node_name;
  n.nin = nin;
  n.nout = 1;
  for (int i = 0; i < nin; i++)
    n.in[i] = i;
  n.out[0] = nin;
  n.a.to = SEG_DT_F32;
  return n;
}

static inline int64_t
elements (int rank, const int64_t *dims)
{
  int64_t e = 1;
  for (int i = 0; i < rank; i++)
    e *= dims[i];
  return e;
}

static inline void
set_val (seg_value *x, seg_value_kind kind, seg_dtype dt, int rank,
    const int64_t *dims, void *data)
{
  memset (x, 0, sizeof *x);
  x->kind = kind;
  x->dtype = dt;
  x->rank = rank;
  for (int i = 0; i < rank; i++)
    x->dims[i] = dims[i];
  x->data = data;
  x->nbytes = (size_t) elements (rank, dims) * seg_dtype_size (dt);
}

static inline float *
random_floats (int64_t count, float lo, float hi)
{
  float *p = malloc ((size_t) (count ? count : 1) * sizeof *p);
  for (int64_t i = 0; i < count; i++)
    p[i] = test_randf (&rng_state, lo, hi);
  return p;
}

static inline float *
nan_floats (int64_t count)
{
  float *p = malloc ((size_t) (count ? count : 1) * sizeof *p);
  for (int64_t i = 0; i < count; i++)
    p[i] = NAN;
  return p;
}

/* Session-like plan time: infer, then eval. */
static inline seg_status
eval_node (const seg_node *n, seg_value *v, seg_err *err)
{
  const seg_op_vtable *vt = seg_op_vtable_get (n->op);
  seg_node_plan plan = {0};
  err->msg[0] = '\0';
  seg_status st = vt->infer (n, v, &plan, err);
  if (st == SEG_OK)
    st = vt->eval (n, v, err);
  return st;
}

/* Per-frame: run with scratch as the session would lay it out. */
static inline void
run_node (const seg_node *n, seg_value *v, const seg_node_plan *plan,
    seg_threadpool *pool)
{
  int threads = seg_threadpool_threads (pool);
  size_t stride = (plan->scratch_bytes + 63) / 64 * 64;
  uint8_t *scratch = aligned_alloc (64, stride * (size_t) threads + 64);
  seg_run_ctx ctx = {
      .pool = pool,
      .scratch = scratch,
      .scratch_stride = stride,
  };
  seg_op_vtable_get (n->op)->run (n, v, plan, &ctx);
  free (scratch);
}

static inline const char *
act_name (seg_act act)
{
  static const char *const names[] = {
      "none",
      "relu",
      "clip",
      "hardsigmoid",
      "hardswish",
      "sigmoid",
  };
  return names[act];
}

/* NaN falls through every comparison, so it propagates. */
static inline double
dclamp (double x, double lo, double hi)
{
  return x < lo ? lo : x > hi ? hi : x;
}

static inline double
ref_act (seg_act act, double a, double b, float x)
{
  switch (act) {
    case SEG_ACT_NONE:
      return x;
    case SEG_ACT_RELU:
      return x < 0 ? 0 : x;
    case SEG_ACT_CLIP:
      return dclamp (x, a, b);
    case SEG_ACT_HARDSIGMOID:
      return dclamp (a * x + b, 0, 1);
    case SEG_ACT_HARDSWISH:
      return x * dclamp (x / 6.0 + 0.5, 0, 1);
    case SEG_ACT_SIGMOID:
      return 1 / (1 + exp (-(double) x));
  }
  return NAN;
}

static inline double
act_tol (seg_act act)
{
  return act == SEG_ACT_HARDSIGMOID || act == SEG_ACT_HARDSWISH
          || act == SEG_ACT_SIGMOID
      ? TOL
      : 0.0;
}

/* Compares n floats (NaN matches NaN); exact when tol is 0. */
static inline void
compare (const char *what, const float *got, const double *want, int64_t n,
    double tol)
{
  double worst = 0;
  int64_t bad = -1;
  for (int64_t i = 0; i < n; i++) {
    if (isnan (got[i]) && isnan (want[i]))
      continue;
    double d = fabs (got[i] - want[i]);
    if (!(d <= tol) && bad < 0)
      bad = i;
    worst = isnan (d) ? INFINITY : fmax (worst, d);
  }
  CHECK (bad < 0, "%s: element %lld is %.9g, want %.9g (max diff %g)", what,
      (long long) bad, bad < 0 ? 0.0 : got[bad], bad < 0 ? 0.0 : want[bad],
      worst);
}

#endif
