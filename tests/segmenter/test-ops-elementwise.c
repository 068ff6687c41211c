/* Elementwise, activation and value ops against references written out
 * plainly here: every broadcast pattern both ways, in place, every fused
 * activation, one and three threads, outputs pre-filled with NaN so an
 * element left unwritten shows; value ops against ONNX's documented
 * examples; and the errors a hostile file can provoke.
 *
 * Tolerance: exact equality where the float maths is the same as the
 * reference's (Add/Sub/Mul/Div, Relu, Clip, every value op); max abs diff
 * <= 1e-6 against a double reference for HardSigmoid, HardSwish, Sigmoid
 * and BatchNormalization, on inputs ranged so outputs stay below ~4.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ops/ops.h"

#define TOL 1e-6

#define CHECK_CONTINUES
#include "../check.h"

static uint32_t rng_state = 0x9e3779b9u;

static char node_name[] = "node_x";

/* A node reading v[0..nin) and writing v[nin]. */
static seg_node
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

static int64_t
elements (int rank, const int64_t *dims)
{
  int64_t e = 1;
  for (int i = 0; i < rank; i++)
    e *= dims[i];
  return e;
}

static void
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

static float *
random_floats (int64_t count, float lo, float hi)
{
  float *p = malloc ((size_t) (count ? count : 1) * sizeof *p);
  for (int64_t i = 0; i < count; i++)
    p[i] = test_randf (&rng_state, lo, hi);
  return p;
}

static float *
nan_floats (int64_t count)
{
  float *p = malloc ((size_t) (count ? count : 1) * sizeof *p);
  for (int64_t i = 0; i < count; i++)
    p[i] = NAN;
  return p;
}

/* Session-like plan time: infer, then eval. */
static seg_status
eval_node (const seg_node *n, seg_value *v, seg_err *err)
{
  const seg_op_vtable *vt = seg_op_vtable_get (n->op);
  seg_node_plan plan = { 0 };
  err->msg[0] = '\0';
  seg_status st = vt->infer (n, v, &plan, err);
  if (st == SEG_OK)
    st = vt->eval (n, v, err);
  return st;
}

/* Per-frame: run with scratch as the session would lay it out. */
static void
run_node (const seg_node *n, seg_value *v, const seg_node_plan *plan,
    seg_threadpool *pool)
{
  int threads = seg_threadpool_threads (pool);
  size_t stride = (plan->scratch_bytes + 63) / 64 * 64;
  uint8_t *scratch = aligned_alloc (64, stride * (size_t) threads + 64);
  seg_run_ctx ctx = {
    .pool = pool, .scratch = scratch, .scratch_stride = stride,
  };
  seg_op_vtable_get (n->op)->run (n, v, plan, &ctx);
  free (scratch);
}

static const char *
act_name (seg_act act)
{
  static const char *const names[] = {
    "none", "relu", "clip", "hardsigmoid", "hardswish", "sigmoid",
  };
  return names[act];
}

/* NaN falls through every comparison, so it propagates. */
static double
dclamp (double x, double lo, double hi)
{
  return x < lo ? lo : x > hi ? hi : x;
}

static double
ref_act (seg_act act, double a, double b, float x)
{
  switch (act) {
    case SEG_ACT_NONE: return x;
    case SEG_ACT_RELU: return x < 0 ? 0 : x;
    case SEG_ACT_CLIP: return dclamp (x, a, b);
    case SEG_ACT_HARDSIGMOID: return dclamp (a * x + b, 0, 1);
    case SEG_ACT_HARDSWISH: return x * dclamp (x / 6.0 + 0.5, 0, 1);
    case SEG_ACT_SIGMOID: return 1 / (1 + exp (-(double) x));
  }
  return NAN;
}

static double
act_tol (seg_act act)
{
  return act == SEG_ACT_HARDSIGMOID || act == SEG_ACT_HARDSWISH
      || act == SEG_ACT_SIGMOID ? TOL : 0.0;
}

/* Compares n floats (NaN matches NaN); exact when tol is 0. */
static void
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

/* ---- binary ops -------------------------------------------------------- */

static float
ref_binop (seg_op op, float x, float y)
{
  switch (op) {
    case SEG_OP_ADD: return x + y;
    case SEG_OP_SUB: return x - y;
    case SEG_OP_MUL: return x * y;
    case SEG_OP_DIV: return x / y;
    default: return NAN;
  }
}

/* Plain numpy broadcasting by coordinates. */
static void
ref_binary (seg_op op, seg_act act, float aa, float ab, int ra,
    const int64_t *da, const float *a, int rb, const int64_t *db,
    const float *b, int r, const int64_t *dout, double *out)
{
  int64_t total = elements (r, dout);
  for (int64_t e = 0; e < total; e++) {
    int64_t rest = e, ia = 0, ib = 0, sa = 1, sb = 1;
    for (int i = r - 1; i >= 0; i--) {
      int64_t c = rest % dout[i];
      rest /= dout[i];
      int ka = i - (r - ra), kb = i - (r - rb);
      if (ka >= 0) {
        ia += (da[ka] == 1 ? 0 : c) * sa;
        sa *= da[ka];
      }
      if (kb >= 0) {
        ib += (db[kb] == 1 ? 0 : c) * sb;
        sb *= db[kb];
      }
    }
    out[e] = ref_act (act, aa, ab, ref_binop (op, a[ia], b[ib]));
  }
}

typedef struct {
  int ra;
  int64_t a[SEG_MAX_RANK];
  int rb;
  int64_t b[SEG_MAX_RANK];
} pattern;

static const pattern patterns[] = {
  { 4, { 2, 5, 7, 13 }, 4, { 2, 5, 7, 13 } },   /* same shape */
  { 4, { 2, 5, 7, 13 }, 1, { 13 } },            /* per channel [C] */
  { 4, { 2, 5, 7, 13 }, 4, { 1, 1, 1, 13 } },   /* per channel [1,1,1,C] */
  { 4, { 2, 5, 7, 13 }, 4, { 2, 1, 1, 13 } },   /* SE gate [N,1,1,C] */
  { 4, { 2, 5, 7, 13 }, 0, { 0 } },             /* rank-0 scalar */
  { 4, { 2, 5, 7, 13 }, 1, { 1 } },             /* [1] scalar */
  { 4, { 2, 5, 7, 13 }, 4, { 2, 5, 7, 1 } },    /* per pixel */
  { 4, { 2, 5, 7, 13 }, 3, { 5, 7, 13 } },      /* lower rank */
  { 4, { 2, 5, 7, 13 }, 4, { 1, 5, 1, 13 } },   /* general */
  { 4, { 2, 5, 7, 13 }, 4, { 2, 1, 7, 1 } },    /* general */
  { 4, { 2, 1, 7, 13 }, 4, { 1, 5, 1, 13 } },   /* both broadcast */
  { 2, { 3, 1 }, 2, { 1, 4 } },                 /* outer product */
  { 5, { 2, 3, 1, 4, 5 }, 4, { 3, 6, 1, 1 } },  /* rank 5 */
  { 4, { 1, 1, 1, 1 }, 4, { 1, 1, 1, 1 } },     /* one element */
  { 3, { 2, 0, 3 }, 1, { 3 } },                 /* empty */
  /* big enough for three tasks, rows split across tasks */
  { 4, { 1, 61, 47, 19 }, 4, { 1, 61, 47, 19 } },
  { 4, { 1, 61, 47, 19 }, 4, { 1, 1, 1, 19 } },
  { 4, { 1, 61, 47, 19 }, 4, { 1, 61, 1, 19 } },
  { 4, { 1, 61, 47, 19 }, 0, { 0 } },
};

/* inplace: 0 none, 1 output aliases a, 2 output aliases b. */
static void
binary_case (seg_threadpool *pool, seg_op op, seg_act act, int ra,
    const int64_t *da, int rb, const int64_t *db, int inplace)
{
  char what[160];
  seg_value v[3];
  seg_err err;
  seg_node n = make_node (op, 2);
  int64_t na = elements (ra, da), nb = elements (rb, db);
  float *a = random_floats (na, -2, 2);
  float *b = random_floats (nb, -2, 2);
  if (op == SEG_OP_DIV)
    for (int64_t i = 0; i < nb; i++)
      b[i] = (b[i] < 0 ? -0.5f : 0.5f) + b[i] * 0.75f; /* |b| in [0.5, 2] */

  n.a.act = act;
  n.a.act_a = act == SEG_ACT_CLIP ? -0.5f : 1.0f / 6;
  n.a.act_b = act == SEG_ACT_CLIP ? 1.5f : 0.5f;
  set_val (&v[0], SEG_VAL_ACT, SEG_DT_F32, ra, da, a);
  /* the broadcast operand is usually a weight */
  set_val (&v[1], nb < na ? SEG_VAL_CONST : SEG_VAL_ACT, SEG_DT_F32, rb, db, b);
  memset (&v[2], 0, sizeof v[2]);
  snprintf (what, sizeof what, "%s+%s rank %d/%d (%lld vs %lld) inplace %d "
      "threads %d", seg_op_name (op), act_name (act), ra, rb, (long long) na,
      (long long) nb, inplace, seg_threadpool_threads (pool));

  seg_node_plan plan = { 0 };
  seg_status st = seg_op_vtable_get (op)->infer (&n, v, &plan, &err);
  CHECK (st == SEG_OK, "%s: infer: %s", what, err.msg);
  if (st != SEG_OK)
    goto out;

  int r = ra > rb ? ra : rb;
  int64_t dout[SEG_MAX_RANK];
  for (int i = 0; i < r; i++) {
    int ka = i - (r - ra), kb = i - (r - rb);
    int64_t x = ka >= 0 ? da[ka] : 1, y = kb >= 0 ? db[kb] : 1;
    dout[i] = x == 1 ? y : x;
  }
  CHECK (v[2].rank == r && v[2].dtype == SEG_DT_F32
      && memcmp (v[2].dims, dout, (size_t) r * sizeof *dout) == 0,
      "%s: inferred output shape wrong", what);
  int64_t no = elements (r, dout);
  if ((inplace == 1 && na != no) || (inplace == 2 && nb != no))
    goto out;
  double *want = malloc ((size_t) (no ? no : 1) * sizeof *want);
  ref_binary (op, act, n.a.act_a, n.a.act_b, ra, da, a, rb, db, b, r, dout,
      want);
  float *o = inplace == 1 ? a : inplace == 2 ? b : nan_floats (no);
  v[2].data = o;
  run_node (&n, v, &plan, pool);
  compare (what, o, want, no, act_tol (act));
  if (!inplace)
    free (o);
  free (want);
out:
  free (a);
  free (b);
}

static void
test_binary (seg_threadpool *pool)
{
  static const seg_op ops[] = { SEG_OP_ADD, SEG_OP_SUB, SEG_OP_MUL,
    SEG_OP_DIV };
  for (size_t p = 0; p < sizeof patterns / sizeof patterns[0]; p++) {
    const pattern *pt = &patterns[p];
    bool big = elements (pt->ra, pt->a) > 16384;
    for (int o = 0; o < 4; o++) {
      for (int act = SEG_ACT_NONE; act <= SEG_ACT_SIGMOID; act++) {
        if (big && act != SEG_ACT_NONE && act != SEG_ACT_HARDSWISH)
          continue;
        for (int inplace = 0; inplace < 3; inplace++) {
          binary_case (pool, ops[o], act, pt->ra, pt->a, pt->rb, pt->b,
              inplace);
          binary_case (pool, ops[o], act, pt->rb, pt->b, pt->ra, pt->a,
              inplace);
        }
      }
    }
  }
}

static void
test_binary_errors (void)
{
  seg_value v[3];
  seg_err err;
  seg_node n = make_node (SEG_OP_ADD, 2);
  seg_node_plan plan = { 0 };
  float a[12] = { 0 }, b[4] = { 0 };

  set_val (&v[0], SEG_VAL_ACT, SEG_DT_F32, 2, (int64_t[]) { 3, 4 }, a);
  set_val (&v[1], SEG_VAL_CONST, SEG_DT_F32, 1, (int64_t[]) { 3 }, b);
  seg_status st = seg_op_vtable_get (n.op)->infer (&n, v, &plan, &err);
  CHECK (st == SEG_ERR_SHAPE && strstr (err.msg, "node_x")
      && strstr (err.msg, "[3,4] and [3]"),
      "mismatched broadcast: %d '%s'", st, err.msg);

  set_val (&v[1], SEG_VAL_CONST, SEG_DT_I64, 1, (int64_t[]) { 1 }, b);
  st = seg_op_vtable_get (n.op)->infer (&n, v, &plan, &err);
  CHECK (st == SEG_ERR_FORMAT, "mixed dtypes: %d '%s'", st, err.msg);

  set_val (&v[0], SEG_VAL_ACT, SEG_DT_I64, 1, (int64_t[]) { 2 }, a);
  st = seg_op_vtable_get (n.op)->infer (&n, v, &plan, &err);
  CHECK (st == SEG_ERR_UNSUPPORTED, "int64 activation: %d '%s'", st, err.msg);

  n.nin = 1;
  st = seg_op_vtable_get (n.op)->infer (&n, v, &plan, &err);
  CHECK (st == SEG_ERR_FORMAT, "one input: %d '%s'", st, err.msg);
}

static void
test_binary_eval (void)
{
  seg_value v[3];
  seg_err err;
  seg_node n = make_node (SEG_OP_DIV, 2);

  /* integer Div truncates toward zero */
  int64_t x[] = { 7, -7, 7, -7, 9, -9 }, y[] = { 2, 2, -2, -2, 3, 4 };
  set_val (&v[0], SEG_VAL_CONST, SEG_DT_I64, 1, (int64_t[]) { 6 }, x);
  set_val (&v[1], SEG_VAL_STATIC, SEG_DT_I64, 1, (int64_t[]) { 6 }, y);
  seg_status st = eval_node (&n, v, &err);
  CHECK (st == SEG_OK && v[2].kind == SEG_VAL_STATIC
      && v[2].dtype == SEG_DT_I64 && v[2].rank == 1 && v[2].dims[0] == 6,
      "int div eval: %s", err.msg);
  if (st == SEG_OK) {
    const int64_t want[] = { 3, -3, -3, 3, 3, -2 };
    CHECK (memcmp (v[2].data, want, sizeof want) == 0, "int div values");
    free (v[2].data);
  }

  /* broadcast int64 Mul [2,3] * [3] */
  n.op = SEG_OP_MUL;
  int64_t m[] = { 1, 2, 3, 4, 5, 6 }, k[] = { 10, -1, 0 };
  set_val (&v[0], SEG_VAL_CONST, SEG_DT_I64, 2, (int64_t[]) { 2, 3 }, m);
  set_val (&v[1], SEG_VAL_CONST, SEG_DT_I64, 1, (int64_t[]) { 3 }, k);
  st = eval_node (&n, v, &err);
  CHECK (st == SEG_OK && v[2].rank == 2 && v[2].dims[0] == 2
      && v[2].dims[1] == 3, "int mul eval: %s", err.msg);
  if (st == SEG_OK) {
    const int64_t want[] = { 10, -2, 0, 40, -5, 0 };
    CHECK (memcmp (v[2].data, want, sizeof want) == 0, "int mul values");
    free (v[2].data);
  }

  /* int32 Sub with a scalar on the left */
  n.op = SEG_OP_SUB;
  int32_t s = 100, t[] = { 1, 200, -5 };
  set_val (&v[0], SEG_VAL_CONST, SEG_DT_I32, 0, NULL, &s);
  set_val (&v[1], SEG_VAL_CONST, SEG_DT_I32, 1, (int64_t[]) { 3 }, t);
  st = eval_node (&n, v, &err);
  CHECK (st == SEG_OK && v[2].dtype == SEG_DT_I32 && v[2].rank == 1,
      "int32 sub eval: %s", err.msg);
  if (st == SEG_OK) {
    const int32_t want[] = { 99, -100, 105 };
    CHECK (memcmp (v[2].data, want, sizeof want) == 0, "int32 sub values");
    free (v[2].data);
  }

  /* f32 eval with a fused activation (plan-time scale computations) */
  n.op = SEG_OP_MUL;
  n.a.act = SEG_ACT_RELU;
  float f[] = { 1.5f, -2.0f, 3.0f }, g = 2.0f;
  set_val (&v[0], SEG_VAL_CONST, SEG_DT_F32, 1, (int64_t[]) { 3 }, f);
  set_val (&v[1], SEG_VAL_CONST, SEG_DT_F32, 0, NULL, &g);
  st = eval_node (&n, v, &err);
  CHECK (st == SEG_OK, "f32 eval: %s", err.msg);
  if (st == SEG_OK) {
    const float want[] = { 3.0f, 0.0f, 6.0f };
    CHECK (memcmp (v[2].data, want, sizeof want) == 0, "f32 eval values");
    free (v[2].data);
  }
  n.a.act = SEG_ACT_NONE;

  /* integer division by zero */
  n.op = SEG_OP_DIV;
  int64_t z[] = { 4, 0 };
  set_val (&v[0], SEG_VAL_CONST, SEG_DT_I64, 1, (int64_t[]) { 2 }, x);
  set_val (&v[1], SEG_VAL_CONST, SEG_DT_I64, 1, (int64_t[]) { 2 }, z);
  v[2].data = NULL;
  st = eval_node (&n, v, &err);
  CHECK (st == SEG_ERR_FORMAT && strstr (err.msg, "division by zero")
      && v[2].data == NULL, "int div by zero: %d '%s'", st, err.msg);
  int32_t zi[] = { 0 }, xi[] = { 5 };
  set_val (&v[0], SEG_VAL_CONST, SEG_DT_I32, 1, (int64_t[]) { 1 }, xi);
  set_val (&v[1], SEG_VAL_CONST, SEG_DT_I32, 1, (int64_t[]) { 1 }, zi);
  st = eval_node (&n, v, &err);
  CHECK (st == SEG_ERR_FORMAT, "int32 div by zero: %d '%s'", st, err.msg);

  /* overflow is an error, not undefined behaviour */
  n.op = SEG_OP_ADD;
  int64_t big[] = { INT64_MAX }, one[] = { 1 };
  set_val (&v[0], SEG_VAL_CONST, SEG_DT_I64, 1, (int64_t[]) { 1 }, big);
  set_val (&v[1], SEG_VAL_CONST, SEG_DT_I64, 1, (int64_t[]) { 1 }, one);
  st = eval_node (&n, v, &err);
  CHECK (st == SEG_ERR_FORMAT, "int64 overflow: %d '%s'", st, err.msg);
  n.op = SEG_OP_DIV;
  int64_t mn[] = { INT64_MIN }, m1[] = { -1 };
  set_val (&v[0], SEG_VAL_CONST, SEG_DT_I64, 1, (int64_t[]) { 1 }, mn);
  set_val (&v[1], SEG_VAL_CONST, SEG_DT_I64, 1, (int64_t[]) { 1 }, m1);
  st = eval_node (&n, v, &err);
  CHECK (st == SEG_ERR_FORMAT, "INT64_MIN / -1: %d '%s'", st, err.msg);
  n.op = SEG_OP_MUL;
  int32_t h[] = { 65536 };
  set_val (&v[0], SEG_VAL_CONST, SEG_DT_I32, 1, (int64_t[]) { 1 }, h);
  set_val (&v[1], SEG_VAL_CONST, SEG_DT_I32, 1, (int64_t[]) { 1 }, h);
  st = eval_node (&n, v, &err);
  CHECK (st == SEG_ERR_FORMAT, "int32 overflow: %d '%s'", st, err.msg);
}

/* ---- activations ------------------------------------------------------- */

typedef struct {
  seg_op op;
  seg_act act;
  float alpha, beta;
  float range; /* inputs in [-range, range] */
} act_case;

static const act_case act_cases[] = {
  { SEG_OP_RELU, SEG_ACT_RELU, 0, 0, 8 },
  { SEG_OP_CLIP, SEG_ACT_CLIP, 0, 6, 8 },
  { SEG_OP_CLIP, SEG_ACT_CLIP, -1, 1, 3 },
  { SEG_OP_HARDSIGMOID, SEG_ACT_HARDSIGMOID, 0.2f, 0.5f, 4 },
  { SEG_OP_HARDSIGMOID, SEG_ACT_HARDSIGMOID, 1.0f / 6, 0.5f, 4 },
  { SEG_OP_HARDSWISH, SEG_ACT_HARDSWISH, 0, 0, 4 },
  { SEG_OP_SIGMOID, SEG_ACT_SIGMOID, 0, 0, 12 },
};

static void
unary_case (seg_threadpool *pool, const act_case *c, int rank,
    const int64_t *dims, bool inplace, seg_act fused)
{
  char what[128];
  seg_value v[2];
  seg_err err;
  seg_node n = make_node (c->op, 1);
  int64_t count = elements (rank, dims);
  float *x = random_floats (count, -c->range, c->range);
  double *want = malloc ((size_t) count * sizeof *want);

  n.a.alpha = c->alpha;
  n.a.beta = c->beta;
  n.a.act = fused;
  n.a.act_a = 0.25f;
  n.a.act_b = 0.75f;
  for (int64_t i = 0; i < count; i++) {
    double y = ref_act (c->act, c->alpha, c->beta, x[i]);
    want[i] = ref_act (fused, 0.25, 0.75, (float) y);
  }
  snprintf (what, sizeof what, "%s(%g,%g)+%s %lld elems inplace %d threads %d",
      seg_op_name (c->op), c->alpha, c->beta, act_name (fused),
      (long long) count, inplace, seg_threadpool_threads (pool));
  set_val (&v[0], SEG_VAL_ACT, SEG_DT_F32, rank, dims, x);
  memset (&v[1], 0, sizeof v[1]);
  seg_node_plan plan = { 0 };
  seg_status st = seg_op_vtable_get (c->op)->infer (&n, v, &plan, &err);
  CHECK (st == SEG_OK && v[1].rank == rank && v[1].dtype == SEG_DT_F32
      && memcmp (v[1].dims, dims, (size_t) rank * sizeof *dims) == 0,
      "%s: infer: %s", what, err.msg);
  float *y = inplace ? x : nan_floats (count);
  v[1].data = y;
  run_node (&n, v, &plan, pool);
  double tol = fmax (act_tol (c->act), act_tol (fused));
  compare (what, y, want, count, tol);
  if (!inplace)
    free (y);
  free (x);
  free (want);
}

static void
test_unary (seg_threadpool *pool)
{
  static const int64_t small[] = { 1, 7, 9, 5 }, big[] = { 1, 61, 47, 19 };
  for (size_t i = 0; i < sizeof act_cases / sizeof act_cases[0]; i++) {
    for (int inplace = 0; inplace < 2; inplace++) {
      unary_case (pool, &act_cases[i], 4, small, inplace, SEG_ACT_NONE);
      unary_case (pool, &act_cases[i], 4, big, inplace, SEG_ACT_NONE);
      unary_case (pool, &act_cases[i], 2, small + 1, inplace, SEG_ACT_CLIP);
    }
  }
  /* Identity copies, or is a no-op in place, and honours a fused act */
  const act_case id = { SEG_OP_IDENTITY, SEG_ACT_NONE, 0, 0, 5 };
  for (int inplace = 0; inplace < 2; inplace++) {
    unary_case (pool, &id, 4, big, inplace, SEG_ACT_NONE);
    unary_case (pool, &id, 3, small, inplace, SEG_ACT_SIGMOID);
  }
}

static void
test_apply_act (void)
{
  /* extremes: sigmoid must not overflow into NaN; NaN stays NaN */
  const float x[] = { -1000, -100, -88.5f, -1, -0.0f, 0, 0.5f, 3, 7, 100,
    1000, NAN };
  const size_t count = sizeof x / sizeof x[0];
  for (int act = SEG_ACT_NONE; act <= SEG_ACT_SIGMOID; act++) {
    float a = act == SEG_ACT_CLIP ? 0.0f : 0.2f;
    float b = act == SEG_ACT_CLIP ? 6.0f : 0.5f;
    float y[sizeof x / sizeof x[0]];
    double want[sizeof x / sizeof x[0]];
    memcpy (y, x, sizeof y);
    for (size_t i = 0; i < count; i++)
      want[i] = ref_act (act, a, b, x[i]);
    seg_apply_act (act, a, b, y, count);
    char what[64];
    snprintf (what, sizeof what, "seg_apply_act %s", act_name (act));
    compare (what, y, want, (int64_t) count, act_tol (act));
  }
  float s[] = { -1000, 1000, -100, 100 };
  seg_apply_act (SEG_ACT_SIGMOID, 0, 0, s, 4);
  CHECK (s[0] == 0.0f && s[1] == 1.0f && s[2] >= 0.0f && s[2] < 1e-40f
      && s[3] == 1.0f, "sigmoid extremes: %g %g %g %g", s[0], s[1], s[2],
      s[3]);
}

static void
test_unary_eval (void)
{
  seg_value v[2];
  seg_err err;
  seg_node n = make_node (SEG_OP_FLOOR, 1);
  float x[] = { -1.5f, -0.5f, 0.0f, 0.5f, 1.5f, 2.0f };
  const float fl[] = { -2, -1, 0, 0, 1, 2 }, ce[] = { -1, -0.0f, 0, 1, 2, 2 };

  set_val (&v[0], SEG_VAL_CONST, SEG_DT_F32, 1, (int64_t[]) { 6 }, x);
  seg_status st = eval_node (&n, v, &err);
  CHECK (st == SEG_OK && memcmp (v[1].data, fl, sizeof fl) == 0,
      "floor: %s", err.msg);
  if (st == SEG_OK)
    free (v[1].data);
  n.op = SEG_OP_CEIL;
  st = eval_node (&n, v, &err);
  CHECK (st == SEG_OK && memcmp (v[1].data, ce, sizeof ce) == 0,
      "ceil: %s", err.msg);
  if (st == SEG_OK)
    free (v[1].data);

  /* an activation op on a constant (folded at plan time) */
  n.op = SEG_OP_CLIP;
  n.a.alpha = 0;
  n.a.beta = 1;
  st = eval_node (&n, v, &err);
  CHECK (st == SEG_OK && v[1].kind == SEG_VAL_STATIC, "clip eval: %s",
      err.msg);
  if (st == SEG_OK) {
    const float want[] = { 0, 0, 0, 0.5f, 1, 1 };
    CHECK (memcmp (v[1].data, want, sizeof want) == 0, "clip eval values");
    free (v[1].data);
  }

  /* Identity keeps any dtype */
  n.op = SEG_OP_IDENTITY;
  int64_t k[] = { 3, -4, 5 };
  set_val (&v[0], SEG_VAL_STATIC, SEG_DT_I64, 1, (int64_t[]) { 3 }, k);
  st = eval_node (&n, v, &err);
  CHECK (st == SEG_OK && v[1].dtype == SEG_DT_I64
      && memcmp (v[1].data, k, sizeof k) == 0, "identity i64: %s", err.msg);
  if (st == SEG_OK)
    free (v[1].data);

  /* Dequantize f16 -> f32 */
  n.op = SEG_OP_DEQUANTIZE;
  uint16_t h[] = { 0x3c00, 0xc000, 0x7bff, 0x0001, 0x8000, 0x3555 };
  const float hf[] = { 1.0f, -2.0f, 65504.0f, 0x1p-24f, -0.0f,
    0.333251953125f };
  set_val (&v[0], SEG_VAL_CONST, SEG_DT_F16, 2, (int64_t[]) { 2, 3 }, h);
  st = eval_node (&n, v, &err);
  CHECK (st == SEG_OK && v[1].dtype == SEG_DT_F32 && v[1].rank == 2
      && v[1].dims[1] == 3 && memcmp (v[1].data, hf, sizeof hf) == 0,
      "dequantize: %s", err.msg);
  if (st == SEG_OK)
    free (v[1].data);

  /* value-only ops refuse activations */
  static const seg_op value_only[] = { SEG_OP_FLOOR, SEG_OP_CEIL,
    SEG_OP_DEQUANTIZE };
  for (size_t i = 0; i < 3; i++) {
    seg_node_plan plan = { 0 };
    n.op = value_only[i];
    set_val (&v[0], SEG_VAL_ACT, SEG_DT_F32, 1, (int64_t[]) { 6 }, x);
    st = seg_op_vtable_get (n.op)->infer (&n, v, &plan, &err);
    CHECK (st == SEG_ERR_UNSUPPORTED && strstr (err.msg, "node_x")
        && strstr (err.msg, "runs on activations"), "%s on ACT: %d '%s'",
        seg_op_name (n.op), st, err.msg);
  }
}

/* ---- BatchNormalization ------------------------------------------------ */

static void
bn_case (seg_threadpool *pool, int rank, const int64_t *dims, bool inplace)
{
  seg_value v[6];
  seg_err err;
  seg_node n = make_node (SEG_OP_BATCHNORM, 5);
  int64_t c = dims[rank - 1], count = elements (rank, dims);
  float *x = random_floats (count, -1, 1);
  float *scale = random_floats (c, -1, 1), *bias = random_floats (c, -1, 1);
  float *mean = random_floats (c, -1, 1), *var = random_floats (c, 0.5f, 2);
  double *want = malloc ((size_t) count * sizeof *want);
  char what[96];

  n.a.alpha = 1e-3f;
  for (int64_t i = 0; i < count; i++) {
    int64_t k = i % c;
    want[i] = (x[i] - mean[k]) / sqrt ((double) var[k] + n.a.alpha)
        * scale[k] + bias[k];
  }
  set_val (&v[0], SEG_VAL_ACT, SEG_DT_F32, rank, dims, x);
  set_val (&v[1], SEG_VAL_CONST, SEG_DT_F32, 1, &c, scale);
  set_val (&v[2], SEG_VAL_CONST, SEG_DT_F32, 1, &c, bias);
  set_val (&v[3], SEG_VAL_STATIC, SEG_DT_F32, 1, &c, mean);
  set_val (&v[4], SEG_VAL_CONST, SEG_DT_F32, 1, &c, var);
  memset (&v[5], 0, sizeof v[5]);
  snprintf (what, sizeof what, "BatchNormalization %lld elems C %lld "
      "inplace %d threads %d", (long long) count, (long long) c, inplace,
      seg_threadpool_threads (pool));
  seg_node_plan plan = { 0 };
  seg_status st = seg_op_vtable_get (n.op)->infer (&n, v, &plan, &err);
  CHECK (st == SEG_OK && v[5].rank == rank && plan.scratch_bytes
      >= 2 * (size_t) c * sizeof (float), "%s: infer: %s", what, err.msg);
  if (st == SEG_OK) {
    float *y = inplace ? x : nan_floats (count);
    v[5].data = y;
    run_node (&n, v, &plan, pool);
    compare (what, y, want, count, TOL);
    if (!inplace)
      free (y);
  }

  /* a parameter of the wrong length, or computed at run time */
  int64_t c1 = c - 1;
  set_val (&v[4], SEG_VAL_CONST, SEG_DT_F32, 1, &c1, var);
  st = seg_op_vtable_get (n.op)->infer (&n, v, &plan, &err);
  CHECK (st == SEG_ERR_FORMAT && strstr (err.msg, "var"),
      "bn short var: %d '%s'", st, err.msg);
  set_val (&v[4], SEG_VAL_ACT, SEG_DT_F32, 1, &c, var);
  st = seg_op_vtable_get (n.op)->infer (&n, v, &plan, &err);
  CHECK (st == SEG_ERR_UNSUPPORTED, "bn ACT var: %d '%s'", st, err.msg);

  free (x);
  free (scale);
  free (bias);
  free (mean);
  free (var);
  free (want);
}

static void
test_batchnorm (seg_threadpool *pool)
{
  static const int64_t small[] = { 1, 7, 9, 5 }, big[] = { 1, 61, 47, 19 };
  for (int inplace = 0; inplace < 2; inplace++) {
    bn_case (pool, 4, small, inplace);
    bn_case (pool, 4, big, inplace);
    bn_case (pool, 2, small + 2, inplace);
  }
}

/* ---- value ops --------------------------------------------------------- */

/* Checks v's value against dtype/dims/bytes, then frees it. */
static void
expect (const char *what, seg_status st, const seg_err *err, seg_value *o,
    seg_dtype dt, int rank, const int64_t *dims, const void *data)
{
  CHECK (st == SEG_OK, "%s: %s", what, err->msg);
  if (st != SEG_OK)
    return;
  size_t nbytes = (size_t) elements (rank, dims) * seg_dtype_size (dt);
  CHECK (o->kind == SEG_VAL_STATIC && o->dtype == dt && o->rank == rank
      && (rank == 0 || memcmp (o->dims, dims, (size_t) rank * sizeof *dims)
          == 0) && o->nbytes == nbytes,
      "%s: got %s rank %d dims[0] %lld nbytes %zu", what,
      seg_dtype_name (o->dtype), o->rank, (long long) o->dims[0], o->nbytes);
  CHECK (o->data && (nbytes == 0 || memcmp (o->data, data, nbytes) == 0),
      "%s: wrong values", what);
  free (o->data);
  o->data = NULL;
}

static void
expect_error (const char *what, seg_status st, seg_status want,
    const seg_err *err, const char *needle)
{
  CHECK (st == want && strstr (err->msg, "node_x")
      && (!needle || strstr (err->msg, needle)),
      "%s: status %d, want %d, '%s'", what, st, want, err->msg);
}

static void
test_shape (void)
{
  seg_value v[2];
  seg_err err;
  seg_node n = make_node (SEG_OP_SHAPE, 1);
  seg_status st;

  /* an NHWC activation reported in the file's NCHW order */
  set_val (&v[0], SEG_VAL_ACT, SEG_DT_F32, 4, (int64_t[]) { 1, 20, 30, 3 },
      NULL);
  n.a.nchw = true;
  st = eval_node (&n, v, &err);
  expect ("shape nchw", st, &err, &v[1], SEG_DT_I64, 1, (int64_t[]) { 4 },
      (int64_t[]) { 1, 3, 20, 30 });
  n.a.nchw = false;
  st = eval_node (&n, v, &err);
  expect ("shape nhwc", st, &err, &v[1], SEG_DT_I64, 1, (int64_t[]) { 4 },
      (int64_t[]) { 1, 20, 30, 3 });

  /* opset 15 start/end */
  n.a.nchw = true;
  n.a.start = 1;
  n.a.end = -1;
  n.a.has_end = true;
  st = eval_node (&n, v, &err);
  expect ("shape [1:-1]", st, &err, &v[1], SEG_DT_I64, 1, (int64_t[]) { 2 },
      (int64_t[]) { 3, 20 });
  n.a.start = -2;
  n.a.has_end = false;
  st = eval_node (&n, v, &err);
  expect ("shape [-2:]", st, &err, &v[1], SEG_DT_I64, 1, (int64_t[]) { 2 },
      (int64_t[]) { 20, 30 });
  n.a.start = -10;
  n.a.end = 100;
  n.a.has_end = true;
  st = eval_node (&n, v, &err);
  expect ("shape clamped", st, &err, &v[1], SEG_DT_I64, 1, (int64_t[]) { 4 },
      (int64_t[]) { 1, 3, 20, 30 });
  n.a.start = 3;
  n.a.end = 1;
  st = eval_node (&n, v, &err);
  expect ("shape empty", st, &err, &v[1], SEG_DT_I64, 1, (int64_t[]) { 0 },
      NULL);

  /* a constant of rank 2, nchw ignored off rank 4 */
  n.a.start = 0;
  n.a.has_end = false;
  set_val (&v[0], SEG_VAL_CONST, SEG_DT_F32, 2, (int64_t[]) { 5, 6 },
      (float[30]) { 0 });
  st = eval_node (&n, v, &err);
  expect ("shape rank 2", st, &err, &v[1], SEG_DT_I64, 1, (int64_t[]) { 2 },
      (int64_t[]) { 5, 6 });

  /* dims not yet known */
  set_val (&v[0], SEG_VAL_ACT, SEG_DT_F32, 4, (int64_t[]) { 1, -1, 30, 3 },
      NULL);
  st = eval_node (&n, v, &err);
  expect_error ("shape unknown dim", st, SEG_ERR_SHAPE, &err, NULL);
}

static void
test_gather (void)
{
  seg_value v[3];
  seg_err err;
  seg_node n = make_node (SEG_OP_GATHER, 2);
  seg_status st;
  int64_t shp[] = { 1, 3, 20, 30 };

  /* Gather(Shape(x), 2): a scalar */
  set_val (&v[0], SEG_VAL_STATIC, SEG_DT_I64, 1, (int64_t[]) { 4 }, shp);
  set_val (&v[1], SEG_VAL_CONST, SEG_DT_I64, 0, NULL, (int64_t[]) { 2 });
  st = eval_node (&n, v, &err);
  expect ("gather scalar", st, &err, &v[2], SEG_DT_I64, 0, NULL,
      (int64_t[]) { 20 });
  set_val (&v[1], SEG_VAL_CONST, SEG_DT_I32, 1, (int64_t[]) { 2 },
      (int32_t[]) { -1, 0 });
  st = eval_node (&n, v, &err);
  expect ("gather negative", st, &err, &v[2], SEG_DT_I64, 1,
      (int64_t[]) { 2 }, (int64_t[]) { 30, 1 });

  /* ONNX example, axis 0: [3,2] by [2,2] -> [2,2,2] */
  float d0[] = { 1.0f, 1.2f, 2.3f, 3.4f, 4.5f, 5.7f };
  set_val (&v[0], SEG_VAL_CONST, SEG_DT_F32, 2, (int64_t[]) { 3, 2 }, d0);
  set_val (&v[1], SEG_VAL_CONST, SEG_DT_I64, 2, (int64_t[]) { 2, 2 },
      (int64_t[]) { 0, 1, 1, 2 });
  st = eval_node (&n, v, &err);
  expect ("gather onnx axis 0", st, &err, &v[2], SEG_DT_F32, 3,
      (int64_t[]) { 2, 2, 2 },
      (float[]) { 1.0f, 1.2f, 2.3f, 3.4f, 2.3f, 3.4f, 4.5f, 5.7f });

  /* ONNX example, axis 1: [3,3] by [1,2] -> [3,1,2] */
  float d1[] = { 1.0f, 1.2f, 1.9f, 2.3f, 3.4f, 3.9f, 4.5f, 5.7f, 5.9f };
  n.a.axis = 1;
  set_val (&v[0], SEG_VAL_CONST, SEG_DT_F32, 2, (int64_t[]) { 3, 3 }, d1);
  set_val (&v[1], SEG_VAL_CONST, SEG_DT_I64, 2, (int64_t[]) { 1, 2 },
      (int64_t[]) { 0, 2 });
  st = eval_node (&n, v, &err);
  expect ("gather onnx axis 1", st, &err, &v[2], SEG_DT_F32, 3,
      (int64_t[]) { 3, 1, 2 },
      (float[]) { 1.0f, 1.9f, 2.3f, 3.9f, 4.5f, 5.9f });
  n.a.axis = -1;
  st = eval_node (&n, v, &err);
  expect ("gather axis -1", st, &err, &v[2], SEG_DT_F32, 3,
      (int64_t[]) { 3, 1, 2 },
      (float[]) { 1.0f, 1.9f, 2.3f, 3.9f, 4.5f, 5.9f });

  /* errors */
  n.a.axis = 2;
  st = eval_node (&n, v, &err);
  expect_error ("gather bad axis", st, SEG_ERR_FORMAT, &err, "axis");
  n.a.axis = 0;
  set_val (&v[1], SEG_VAL_CONST, SEG_DT_I64, 1, (int64_t[]) { 2 },
      (int64_t[]) { 0, 3 });
  st = eval_node (&n, v, &err);
  expect_error ("gather index 3 of 3", st, SEG_ERR_FORMAT, &err, "index");
  set_val (&v[1], SEG_VAL_CONST, SEG_DT_I64, 1, (int64_t[]) { 1 },
      (int64_t[]) { -4 });
  st = eval_node (&n, v, &err);
  expect_error ("gather index -4 of 3", st, SEG_ERR_FORMAT, &err, "index");
  set_val (&v[1], SEG_VAL_CONST, SEG_DT_F32, 1, (int64_t[]) { 1 },
      (float[]) { 0 });
  st = eval_node (&n, v, &err);
  expect_error ("gather float indices", st, SEG_ERR_FORMAT, &err, NULL);
}

static void
test_slice (void)
{
  seg_value v[6];
  seg_err err;
  seg_node n = make_node (SEG_OP_SLICE, 5);
  seg_status st;
  int64_t d[] = { 1, 2, 3, 4, 5, 6, 7, 8 };

  /* ONNX example: axes [0,1], starts [1,0], ends [2,3], steps [1,2] */
  set_val (&v[0], SEG_VAL_CONST, SEG_DT_I64, 2, (int64_t[]) { 2, 4 }, d);
  set_val (&v[1], SEG_VAL_CONST, SEG_DT_I64, 1, (int64_t[]) { 2 },
      (int64_t[]) { 1, 0 });
  set_val (&v[2], SEG_VAL_CONST, SEG_DT_I64, 1, (int64_t[]) { 2 },
      (int64_t[]) { 2, 3 });
  set_val (&v[3], SEG_VAL_CONST, SEG_DT_I64, 1, (int64_t[]) { 2 },
      (int64_t[]) { 0, 1 });
  set_val (&v[4], SEG_VAL_CONST, SEG_DT_I64, 1, (int64_t[]) { 2 },
      (int64_t[]) { 1, 2 });
  st = eval_node (&n, v, &err);
  expect ("slice onnx steps", st, &err, &v[5], SEG_DT_I64, 2,
      (int64_t[]) { 1, 2 }, (int64_t[]) { 5, 7 });

  /* ONNX example: starts [0,1], ends [-1,1000], no axes/steps */
  n.nin = 3;
  n.out[0] = 5;
  set_val (&v[1], SEG_VAL_CONST, SEG_DT_I64, 1, (int64_t[]) { 2 },
      (int64_t[]) { 0, 1 });
  set_val (&v[2], SEG_VAL_CONST, SEG_DT_I32, 1, (int64_t[]) { 2 },
      (int32_t[]) { -1, 1000 });
  st = eval_node (&n, v, &err);
  expect ("slice onnx clamp", st, &err, &v[5], SEG_DT_I64, 2,
      (int64_t[]) { 1, 3 }, (int64_t[]) { 2, 3, 4 });

  /* negative steps over a 1-D value */
  int64_t r[] = { 0, 1, 2, 3, 4, 5, 6, 7, 8, 9 };
  n.nin = 5;
  set_val (&v[0], SEG_VAL_CONST, SEG_DT_I64, 1, (int64_t[]) { 10 }, r);
  set_val (&v[1], SEG_VAL_CONST, SEG_DT_I64, 1, (int64_t[]) { 1 },
      (int64_t[]) { -1 });
  set_val (&v[2], SEG_VAL_CONST, SEG_DT_I64, 1, (int64_t[]) { 1 },
      (int64_t[]) { INT64_MIN });
  set_val (&v[3], SEG_VAL_CONST, SEG_DT_I64, 1, (int64_t[]) { 1 },
      (int64_t[]) { 0 });
  set_val (&v[4], SEG_VAL_CONST, SEG_DT_I64, 1, (int64_t[]) { 1 },
      (int64_t[]) { -1 });
  st = eval_node (&n, v, &err);
  expect ("slice reverse", st, &err, &v[5], SEG_DT_I64, 1,
      (int64_t[]) { 10 }, (int64_t[]) { 9, 8, 7, 6, 5, 4, 3, 2, 1, 0 });
  set_val (&v[1], SEG_VAL_CONST, SEG_DT_I64, 1, (int64_t[]) { 1 },
      (int64_t[]) { 8 });
  set_val (&v[2], SEG_VAL_CONST, SEG_DT_I64, 1, (int64_t[]) { 1 },
      (int64_t[]) { 1 });
  set_val (&v[4], SEG_VAL_CONST, SEG_DT_I64, 1, (int64_t[]) { 1 },
      (int64_t[]) { -3 });
  st = eval_node (&n, v, &err);
  expect ("slice step -3", st, &err, &v[5], SEG_DT_I64, 1,
      (int64_t[]) { 3 }, (int64_t[]) { 8, 5, 2 });
  set_val (&v[1], SEG_VAL_CONST, SEG_DT_I64, 1, (int64_t[]) { 1 },
      (int64_t[]) { 100 });
  set_val (&v[2], SEG_VAL_CONST, SEG_DT_I64, 1, (int64_t[]) { 1 },
      (int64_t[]) { -100 });
  set_val (&v[4], SEG_VAL_CONST, SEG_DT_I64, 1, (int64_t[]) { 1 },
      (int64_t[]) { INT64_MIN });
  st = eval_node (&n, v, &err);
  expect ("slice huge negative step", st, &err, &v[5], SEG_DT_I64, 1,
      (int64_t[]) { 1 }, (int64_t[]) { 9 });
  set_val (&v[1], SEG_VAL_CONST, SEG_DT_I64, 1, (int64_t[]) { 1 },
      (int64_t[]) { 2 });
  set_val (&v[2], SEG_VAL_CONST, SEG_DT_I64, 1, (int64_t[]) { 1 },
      (int64_t[]) { INT64_MAX });
  set_val (&v[4], SEG_VAL_CONST, SEG_DT_I64, 1, (int64_t[]) { 1 },
      (int64_t[]) { 4 });
  st = eval_node (&n, v, &err);
  expect ("slice step 4 to INT64_MAX", st, &err, &v[5], SEG_DT_I64, 1,
      (int64_t[]) { 2 }, (int64_t[]) { 2, 6 });
  set_val (&v[1], SEG_VAL_CONST, SEG_DT_I64, 1, (int64_t[]) { 1 },
      (int64_t[]) { 5 });
  set_val (&v[2], SEG_VAL_CONST, SEG_DT_I64, 1, (int64_t[]) { 1 },
      (int64_t[]) { 5 });
  st = eval_node (&n, v, &err);
  expect ("slice empty", st, &err, &v[5], SEG_DT_I64, 1, (int64_t[]) { 0 },
      NULL);

  /* 3-D, negative axis and a negative step in the middle dim */
  int64_t c[24];
  for (int i = 0; i < 24; i++)
    c[i] = i;
  set_val (&v[0], SEG_VAL_CONST, SEG_DT_I64, 3, (int64_t[]) { 2, 3, 4 }, c);
  set_val (&v[1], SEG_VAL_CONST, SEG_DT_I64, 1, (int64_t[]) { 2 },
      (int64_t[]) { -1, 1 });
  set_val (&v[2], SEG_VAL_CONST, SEG_DT_I64, 1, (int64_t[]) { 2 },
      (int64_t[]) { INT64_MIN, 3 });
  set_val (&v[3], SEG_VAL_CONST, SEG_DT_I64, 1, (int64_t[]) { 2 },
      (int64_t[]) { -2, 2 });
  set_val (&v[4], SEG_VAL_CONST, SEG_DT_I64, 1, (int64_t[]) { 2 },
      (int64_t[]) { -2, 1 });
  st = eval_node (&n, v, &err);
  expect ("slice 3-D", st, &err, &v[5], SEG_DT_I64, 3,
      (int64_t[]) { 2, 2, 2 },
      (int64_t[]) { 9, 10, 1, 2, 21, 22, 13, 14 });

  /* errors: step 0, repeated axis, axis out of range, length mismatch */
  set_val (&v[4], SEG_VAL_CONST, SEG_DT_I64, 1, (int64_t[]) { 2 },
      (int64_t[]) { 0, 1 });
  st = eval_node (&n, v, &err);
  expect_error ("slice step 0", st, SEG_ERR_FORMAT, &err, "step");
  set_val (&v[4], SEG_VAL_CONST, SEG_DT_I64, 1, (int64_t[]) { 2 },
      (int64_t[]) { 1, 1 });
  set_val (&v[3], SEG_VAL_CONST, SEG_DT_I64, 1, (int64_t[]) { 2 },
      (int64_t[]) { 1, -2 });
  st = eval_node (&n, v, &err);
  expect_error ("slice repeated axis", st, SEG_ERR_FORMAT, &err, "twice");
  set_val (&v[3], SEG_VAL_CONST, SEG_DT_I64, 1, (int64_t[]) { 2 },
      (int64_t[]) { 0, 3 });
  st = eval_node (&n, v, &err);
  expect_error ("slice axis 3 of rank 3", st, SEG_ERR_FORMAT, &err, "axis");
  set_val (&v[3], SEG_VAL_CONST, SEG_DT_I64, 1, (int64_t[]) { 1 },
      (int64_t[]) { 0 });
  st = eval_node (&n, v, &err);
  expect_error ("slice axes too short", st, SEG_ERR_FORMAT, &err, NULL);
}

static void
test_concat (void)
{
  seg_value v[4];
  seg_err err;
  seg_node n = make_node (SEG_OP_CONCAT, 2);
  seg_status st;

  set_val (&v[0], SEG_VAL_STATIC, SEG_DT_I64, 1, (int64_t[]) { 2 },
      (int64_t[]) { 1, 3 });
  set_val (&v[1], SEG_VAL_CONST, SEG_DT_I64, 1, (int64_t[]) { 2 },
      (int64_t[]) { 40, 60 });
  st = eval_node (&n, v, &err);
  expect ("concat 1-D", st, &err, &v[2], SEG_DT_I64, 1, (int64_t[]) { 4 },
      (int64_t[]) { 1, 3, 40, 60 });

  /* 2-D along axis 1 (and -1), three inputs, one empty */
  n = make_node (SEG_OP_CONCAT, 3);
  set_val (&v[0], SEG_VAL_CONST, SEG_DT_F32, 2, (int64_t[]) { 2, 2 },
      (float[]) { 1, 2, 3, 4 });
  set_val (&v[1], SEG_VAL_CONST, SEG_DT_F32, 2, (int64_t[]) { 2, 0 },
      NULL);
  set_val (&v[2], SEG_VAL_CONST, SEG_DT_F32, 2, (int64_t[]) { 2, 1 },
      (float[]) { 5, 6 });
  for (int axis = 1; axis >= -1; axis -= 2) {
    n.a.axis = axis;
    st = eval_node (&n, v, &err);
    expect ("concat axis 1", st, &err, &v[3], SEG_DT_F32, 2,
        (int64_t[]) { 2, 3 }, (float[]) { 1, 2, 5, 3, 4, 6 });
  }
  n.a.axis = 0;
  st = eval_node (&n, v, &err);
  expect_error ("concat mismatched dims", st, SEG_ERR_FORMAT, &err, NULL);
  n.a.axis = 2;
  st = eval_node (&n, v, &err);
  expect_error ("concat bad axis", st, SEG_ERR_FORMAT, &err, "axis");
  n.a.axis = 1;
  set_val (&v[2], SEG_VAL_CONST, SEG_DT_I64, 2, (int64_t[]) { 2, 1 },
      (int64_t[]) { 5, 6 });
  st = eval_node (&n, v, &err);
  expect_error ("concat mixed types", st, SEG_ERR_FORMAT, &err, NULL);
}

/* The resize-sizes pattern torch emits:
 * Concat(Slice(Shape(x), [0], [2]), Constant[H, W]) with x NHWC in the IR. */
static void
test_torch_pattern (void)
{
  seg_value v[7];
  seg_err err;
  seg_status st;
  memset (v, 0, sizeof v);
  set_val (&v[0], SEG_VAL_ACT, SEG_DT_F32, 4, (int64_t[]) { 1, 33, 41, 40 },
      NULL);
  set_val (&v[2], SEG_VAL_CONST, SEG_DT_I64, 1, (int64_t[]) { 1 },
      (int64_t[]) { 0 });
  set_val (&v[3], SEG_VAL_CONST, SEG_DT_I64, 1, (int64_t[]) { 1 },
      (int64_t[]) { 2 });
  set_val (&v[5], SEG_VAL_CONST, SEG_DT_I64, 1, (int64_t[]) { 2 },
      (int64_t[]) { 520, 640 });

  seg_node shape = make_node (SEG_OP_SHAPE, 1);
  shape.a.nchw = true;
  shape.out[0] = 1;
  seg_node slice = make_node (SEG_OP_SLICE, 3);
  slice.in[0] = 1;
  slice.in[1] = 2;
  slice.in[2] = 3;
  slice.out[0] = 4;
  seg_node concat = make_node (SEG_OP_CONCAT, 2);
  concat.a.nchw = true;
  concat.in[0] = 4;
  concat.in[1] = 5;
  concat.out[0] = 6;

  st = eval_node (&shape, v, &err);
  CHECK (st == SEG_OK, "torch pattern shape: %s", err.msg);
  st = eval_node (&slice, v, &err);
  CHECK (st == SEG_OK, "torch pattern slice: %s", err.msg);
  st = eval_node (&concat, v, &err);
  expect ("torch resize sizes", st, &err, &v[6], SEG_DT_I64, 1,
      (int64_t[]) { 4 }, (int64_t[]) { 1, 40, 520, 640 });
  free (v[1].data);
  free (v[4].data);
}

static void
test_cast (void)
{
  seg_value v[2];
  seg_err err;
  seg_node n = make_node (SEG_OP_CAST, 1);
  seg_status st;

  /* out of range saturates, from exactly 2^63 on */
  float e[] = { 0x1p63f, -0x1p63f, 0x1p62f };
  set_val (&v[0], SEG_VAL_CONST, SEG_DT_F32, 1, (int64_t[]) { 3 }, e);
  n.a.to = SEG_DT_I64;
  st = eval_node (&n, v, &err);
  expect ("cast f32->i64 at 2^63", st, &err, &v[1], SEG_DT_I64, 1,
      (int64_t[]) { 3 }, (int64_t[]) { INT64_MAX, INT64_MIN, 1ll << 62 });

  float f[] = { 2.7f, -2.7f, 0.0f, 1e30f, -1e30f, NAN };
  set_val (&v[0], SEG_VAL_CONST, SEG_DT_F32, 1, (int64_t[]) { 6 }, f);
  st = eval_node (&n, v, &err);
  expect ("cast f32->i64", st, &err, &v[1], SEG_DT_I64, 1, (int64_t[]) { 6 },
      (int64_t[]) { 2, -2, 0, INT64_MAX, INT64_MIN, 0 });
  n.a.to = SEG_DT_I32;
  st = eval_node (&n, v, &err);
  expect ("cast f32->i32", st, &err, &v[1], SEG_DT_I32, 1, (int64_t[]) { 6 },
      (int32_t[]) { 2, -2, 0, INT32_MAX, INT32_MIN, 0 });
  n.a.to = SEG_DT_U8;
  st = eval_node (&n, v, &err);
  expect ("cast f32->u8", st, &err, &v[1], SEG_DT_U8, 1, (int64_t[]) { 6 },
      (uint8_t[]) { 2, 0, 0, 255, 0, 0 });
  n.a.to = SEG_DT_BOOL;
  st = eval_node (&n, v, &err);
  expect ("cast f32->bool", st, &err, &v[1], SEG_DT_BOOL, 1,
      (int64_t[]) { 6 }, (uint8_t[]) { 1, 1, 0, 1, 1, 1 });

  int64_t k[] = { 3, -5, 4294967297ll, 0 };
  set_val (&v[0], SEG_VAL_STATIC, SEG_DT_I64, 2, (int64_t[]) { 2, 2 }, k);
  n.a.to = SEG_DT_F32;
  st = eval_node (&n, v, &err);
  expect ("cast i64->f32", st, &err, &v[1], SEG_DT_F32, 2,
      (int64_t[]) { 2, 2 }, (float[]) { 3, -5, 4294967297.0f, 0 });
  n.a.to = SEG_DT_I32;
  st = eval_node (&n, v, &err);
  expect ("cast i64->i32 wraps", st, &err, &v[1], SEG_DT_I32, 2,
      (int64_t[]) { 2, 2 }, (int32_t[]) { 3, -5, 1, 0 });

  set_val (&v[0], SEG_VAL_CONST, SEG_DT_I32, 0, NULL, (int32_t[]) { -7 });
  n.a.to = SEG_DT_I64;
  st = eval_node (&n, v, &err);
  expect ("cast i32->i64 scalar", st, &err, &v[1], SEG_DT_I64, 0, NULL,
      (int64_t[]) { -7 });

  set_val (&v[0], SEG_VAL_CONST, SEG_DT_BOOL, 1, (int64_t[]) { 2 },
      (uint8_t[]) { 1, 0 });
  n.a.to = SEG_DT_F32;
  st = eval_node (&n, v, &err);
  expect ("cast bool->f32", st, &err, &v[1], SEG_DT_F32, 1,
      (int64_t[]) { 2 }, (float[]) { 1, 0 });

  set_val (&v[0], SEG_VAL_CONST, SEG_DT_U8, 1, (int64_t[]) { 2 },
      (uint8_t[]) { 200, 7 });
  n.a.to = SEG_DT_I64;
  st = eval_node (&n, v, &err);
  expect ("cast u8->i64", st, &err, &v[1], SEG_DT_I64, 1, (int64_t[]) { 2 },
      (int64_t[]) { 200, 7 });

  set_val (&v[0], SEG_VAL_CONST, SEG_DT_F16, 1, (int64_t[]) { 2 },
      (uint16_t[]) { 0x3e00, 0xc100 });
  n.a.to = SEG_DT_F32;
  st = eval_node (&n, v, &err);
  expect ("cast f16->f32", st, &err, &v[1], SEG_DT_F32, 1, (int64_t[]) { 2 },
      (float[]) { 1.5f, -2.5f });

  n.a.to = SEG_DT_F16;
  st = eval_node (&n, v, &err);
  expect_error ("cast to f16", st, SEG_ERR_UNSUPPORTED, &err, NULL);
}

static void
test_unsqueeze_squeeze_reshape (void)
{
  seg_value v[3];
  seg_err err;
  seg_status st;
  int64_t d12[12];
  for (int i = 0; i < 12; i++)
    d12[i] = 100 + i;

  /* Unsqueeze: axes from the input (opset 13) */
  seg_node n = make_node (SEG_OP_UNSQUEEZE, 2);
  set_val (&v[0], SEG_VAL_STATIC, SEG_DT_I64, 0, NULL, (int64_t[]) { 20 });
  set_val (&v[1], SEG_VAL_CONST, SEG_DT_I64, 1, (int64_t[]) { 1 },
      (int64_t[]) { 0 });
  st = eval_node (&n, v, &err);
  expect ("unsqueeze scalar", st, &err, &v[2], SEG_DT_I64, 1,
      (int64_t[]) { 1 }, (int64_t[]) { 20 });
  set_val (&v[0], SEG_VAL_CONST, SEG_DT_I64, 2, (int64_t[]) { 3, 4 }, d12);
  set_val (&v[1], SEG_VAL_CONST, SEG_DT_I64, 1, (int64_t[]) { 2 },
      (int64_t[]) { -1, 0 });
  st = eval_node (&n, v, &err);
  expect ("unsqueeze [0,-1]", st, &err, &v[2], SEG_DT_I64, 4,
      (int64_t[]) { 1, 3, 4, 1 }, d12);
  set_val (&v[1], SEG_VAL_CONST, SEG_DT_I64, 1, (int64_t[]) { 2 },
      (int64_t[]) { 1, -3 });
  st = eval_node (&n, v, &err);
  expect_error ("unsqueeze repeated axis", st, SEG_ERR_FORMAT, &err,
      "twice");
  set_val (&v[1], SEG_VAL_CONST, SEG_DT_I64, 1, (int64_t[]) { 1 },
      (int64_t[]) { 3 });
  st = eval_node (&n, v, &err);
  expect_error ("unsqueeze axis 3 of out rank 3", st, SEG_ERR_FORMAT, &err,
      "axis");
  set_val (&v[1], SEG_VAL_CONST, SEG_DT_I64, 1, (int64_t[]) { 5 },
      (int64_t[]) { 0, 1, 2, 3, 4 });
  st = eval_node (&n, v, &err);
  expect_error ("unsqueeze to rank 7", st, SEG_ERR_UNSUPPORTED, &err,
      "rank");

  /* axes from the attribute (before opset 13) */
  n = make_node (SEG_OP_UNSQUEEZE, 1);
  n.out[0] = 2;
  n.a.ints[0] = 1;
  n.a.nints = 1;
  st = eval_node (&n, v, &err);
  expect ("unsqueeze attr", st, &err, &v[2], SEG_DT_I64, 3,
      (int64_t[]) { 3, 1, 4 }, d12);

  /* Squeeze */
  n = make_node (SEG_OP_SQUEEZE, 2);
  set_val (&v[0], SEG_VAL_CONST, SEG_DT_I64, 4, (int64_t[]) { 1, 3, 1, 4 },
      d12);
  set_val (&v[1], SEG_VAL_CONST, SEG_DT_I64, 1, (int64_t[]) { 1 },
      (int64_t[]) { -2 });
  st = eval_node (&n, v, &err);
  expect ("squeeze [-2]", st, &err, &v[2], SEG_DT_I64, 3,
      (int64_t[]) { 1, 3, 4 }, d12);
  set_val (&v[1], SEG_VAL_CONST, SEG_DT_I64, 1, (int64_t[]) { 1 },
      (int64_t[]) { 1 });
  st = eval_node (&n, v, &err);
  expect_error ("squeeze a dim of 3", st, SEG_ERR_FORMAT, &err, "not 1");
  set_val (&v[1], SEG_VAL_CONST, SEG_DT_I64, 1, (int64_t[]) { 1 },
      (int64_t[]) { 4 });
  st = eval_node (&n, v, &err);
  expect_error ("squeeze axis 4 of rank 4", st, SEG_ERR_FORMAT, &err,
      "axis");
  n = make_node (SEG_OP_SQUEEZE, 1);
  n.out[0] = 2;
  st = eval_node (&n, v, &err);
  expect ("squeeze all", st, &err, &v[2], SEG_DT_I64, 2,
      (int64_t[]) { 3, 4 }, d12);
  n.a.ints[0] = 0;
  n.a.nints = 1;
  st = eval_node (&n, v, &err);
  expect ("squeeze attr", st, &err, &v[2], SEG_DT_I64, 3,
      (int64_t[]) { 3, 1, 4 }, d12);

  /* Reshape */
  n = make_node (SEG_OP_RESHAPE, 2);
  set_val (&v[0], SEG_VAL_CONST, SEG_DT_I64, 3, (int64_t[]) { 2, 3, 2 },
      d12);
  static const struct {
    int k;
    int64_t shape[4];
    int rank;
    int64_t dims[4];
  } ok[] = {
    { 2, { 0, -1 }, 2, { 2, 6 } },
    { 3, { 2, -1, 3 }, 3, { 2, 2, 3 } },
    { 1, { -1 }, 1, { 12 } },
    { 4, { 0, 0, 2, 1 }, 4, { 2, 3, 2, 1 } },
  };
  for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
    set_val (&v[1], SEG_VAL_CONST, SEG_DT_I64, 1,
        (int64_t[]) { ok[i].k }, (int64_t *) ok[i].shape);
    st = eval_node (&n, v, &err);
    expect ("reshape", st, &err, &v[2], SEG_DT_I64, ok[i].rank, ok[i].dims,
        d12);
  }
  static const struct {
    int k;
    int64_t shape[4];
    seg_status st;
  } bad[] = {
    { 2, { -1, -1 }, SEG_ERR_FORMAT },
    { 2, { 5, -1 }, SEG_ERR_SHAPE },
    { 2, { -2, 6 }, SEG_ERR_FORMAT },
    { 2, { 5, 3 }, SEG_ERR_SHAPE },
    { 4, { 1, 1, 1, 0 }, SEG_ERR_FORMAT }, /* 0 past the input's rank */
    { 3, { INT64_MAX, INT64_MAX, 0 }, SEG_ERR_FORMAT },
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    set_val (&v[1], SEG_VAL_CONST, SEG_DT_I64, 1,
        (int64_t[]) { bad[i].k }, (int64_t *) bad[i].shape);
    st = eval_node (&n, v, &err);
    expect_error ("reshape bad shape", st, bad[i].st, &err, NULL);
  }
}

static void
test_constant_of_shape (void)
{
  seg_value v[2];
  seg_err err;
  seg_node n = make_node (SEG_OP_CONSTANT_OF_SHAPE, 1);
  seg_status st;

  set_val (&v[0], SEG_VAL_CONST, SEG_DT_I64, 1, (int64_t[]) { 2 },
      (int64_t[]) { 2, 3 });
  n.a.value = 1.5f;
  st = eval_node (&n, v, &err);
  expect ("constant of shape f32", st, &err, &v[1], SEG_DT_F32, 2,
      (int64_t[]) { 2, 3 }, (float[]) { 1.5f, 1.5f, 1.5f, 1.5f, 1.5f, 1.5f });
  n.a.to = SEG_DT_I64;
  n.a.value = 7;
  st = eval_node (&n, v, &err);
  expect ("constant of shape i64", st, &err, &v[1], SEG_DT_I64, 2,
      (int64_t[]) { 2, 3 }, (int64_t[]) { 7, 7, 7, 7, 7, 7 });
  set_val (&v[0], SEG_VAL_CONST, SEG_DT_I64, 1, (int64_t[]) { 0 }, NULL);
  st = eval_node (&n, v, &err);
  expect ("constant of shape scalar", st, &err, &v[1], SEG_DT_I64, 0, NULL,
      (int64_t[]) { 7 });
  set_val (&v[0], SEG_VAL_CONST, SEG_DT_I64, 1, (int64_t[]) { 2 },
      (int64_t[]) { 2, -3 });
  st = eval_node (&n, v, &err);
  expect_error ("constant of shape negative", st, SEG_ERR_FORMAT, &err,
      NULL);
  set_val (&v[0], SEG_VAL_CONST, SEG_DT_I64, 1, (int64_t[]) { 3 },
      (int64_t[]) { 65536, 65536, 65536 });
  st = eval_node (&n, v, &err);
  expect_error ("constant of shape huge", st, SEG_ERR_FORMAT, &err, NULL);
}

/* Every value op refuses an activation input, naming the node. */
static void
test_value_ops_refuse_act (void)
{
  static const seg_op ops[] = { SEG_OP_GATHER, SEG_OP_SLICE, SEG_OP_CONCAT,
    SEG_OP_CAST, SEG_OP_UNSQUEEZE, SEG_OP_SQUEEZE, SEG_OP_RESHAPE,
    SEG_OP_CONSTANT_OF_SHAPE, SEG_OP_FLOOR, SEG_OP_CEIL };
  static const int nin[] = { 2, 3, 2, 1, 2, 1, 2, 1, 1, 1 };
  float x[6] = { 0 };
  for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++) {
    seg_value v[4];
    seg_err err;
    seg_node_plan plan = { 0 };
    seg_node n = make_node (ops[i], nin[i]);
    set_val (&v[0], SEG_VAL_ACT, SEG_DT_F32, 2, (int64_t[]) { 2, 3 }, x);
    for (int k = 1; k < nin[i]; k++)
      set_val (&v[k], SEG_VAL_CONST, SEG_DT_I64, 1, (int64_t[]) { 1 },
          (int64_t[]) { 0 });
    if (ops[i] == SEG_OP_CONCAT)
      set_val (&v[1], SEG_VAL_CONST, SEG_DT_F32, 2, (int64_t[]) { 2, 3 }, x);
    seg_status st = seg_op_vtable_get (ops[i])->infer (&n, v, &plan, &err);
    CHECK (st == SEG_ERR_UNSUPPORTED && strstr (err.msg, "node 'node_x'")
        && strstr (err.msg, seg_op_name (ops[i]))
        && strstr (err.msg, "runs on activations"),
        "%s on an activation: %d '%s'", seg_op_name (ops[i]), st, err.msg);
    CHECK (seg_op_vtable_get (ops[i])->run == NULL, "%s has a run",
        seg_op_name (ops[i]));
  }
  /* also when the activation is not the first input */
  seg_value v[3];
  seg_err err;
  seg_node_plan plan = { 0 };
  seg_node n = make_node (SEG_OP_RESHAPE, 2);
  set_val (&v[0], SEG_VAL_CONST, SEG_DT_F32, 2, (int64_t[]) { 2, 3 }, x);
  set_val (&v[1], SEG_VAL_ACT, SEG_DT_I64, 1, (int64_t[]) { 1 }, NULL);
  seg_status st = seg_op_vtable_get (n.op)->infer (&n, v, &plan, &err);
  CHECK (st == SEG_ERR_UNSUPPORTED, "Reshape with ACT shape: %d '%s'", st,
      err.msg);
}

int
main (void)
{
  seg_threadpool *pools[2] = { seg_threadpool_new (1),
    seg_threadpool_new (3) };
  if (!pools[0] || !pools[1]) {
    fprintf (stderr, "cannot create thread pools\n");
    return 1;
  }
  for (int p = 0; p < 2; p++) {
    test_binary (pools[p]);
    test_unary (pools[p]);
    test_batchnorm (pools[p]);
  }
  test_binary_errors ();
  test_binary_eval ();
  test_apply_act ();
  test_unary_eval ();
  test_shape ();
  test_gather ();
  test_slice ();
  test_concat ();
  test_torch_pattern ();
  test_cast ();
  test_unsqueeze_squeeze_reshape ();
  test_constant_of_shape ();
  test_value_ops_refuse_act ();
  seg_threadpool_free (pools[0]);
  seg_threadpool_free (pools[1]);

  if (failures) {
    fprintf (stderr, "FAIL: %d of %d checks failed\n", failures, checks);
    return 1;
  }
  printf ("ok: %d checks\n", checks);
  return 0;
}
