/* Elementwise and activation ops against references written out plainly
 * here: every broadcast pattern both ways, in place, every fused
 * activation, one and three threads, outputs pre-filled with NaN so an
 * element left unwritten shows; and the errors a hostile file can provoke.
 * The value (shape) ops are test-ops-shape.c's.
 *
 * Tolerance: exact equality where the float maths is the same as the
 * reference's (Add/Sub/Mul/Div, Relu, Clip); max abs diff <= 1e-6 against
 * a double reference for HardSigmoid, HardSwish, Sigmoid and
 * BatchNormalization, on inputs ranged so outputs stay below ~4.
 */
#include "ops-env.h"

/* ---- binary ops -------------------------------------------------------- */

static float
ref_binop (seg_op op, float x, float y)
{
  switch (op) {
    case SEG_OP_ADD:
      return x + y;
    case SEG_OP_SUB:
      return x - y;
    case SEG_OP_MUL:
      return x * y;
    case SEG_OP_DIV:
      return x / y;
    default:
      return NAN;
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

typedef struct
{
  int ra;
  int64_t a[SEG_MAX_RANK];
  int rb;
  int64_t b[SEG_MAX_RANK];
} pattern;

static const pattern patterns[] = {
    {4, {2, 5, 7, 13}, 4, {2, 5, 7, 13}},  /* same shape */
    {4, {2, 5, 7, 13}, 1, {13}},           /* per channel [C] */
    {4, {2, 5, 7, 13}, 4, {1, 1, 1, 13}},  /* per channel [1,1,1,C] */
    {4, {2, 5, 7, 13}, 4, {2, 1, 1, 13}},  /* SE gate [N,1,1,C] */
    {4, {2, 5, 7, 13}, 0, {0}},            /* rank-0 scalar */
    {4, {2, 5, 7, 13}, 1, {1}},            /* [1] scalar */
    {4, {2, 5, 7, 13}, 4, {2, 5, 7, 1}},   /* per pixel */
    {4, {2, 5, 7, 13}, 3, {5, 7, 13}},     /* lower rank */
    {4, {2, 5, 7, 13}, 4, {1, 5, 1, 13}},  /* general */
    {4, {2, 5, 7, 13}, 4, {2, 1, 7, 1}},   /* general */
    {4, {2, 1, 7, 13}, 4, {1, 5, 1, 13}},  /* both broadcast */
    {2, {3, 1}, 2, {1, 4}},                /* outer product */
    {5, {2, 3, 1, 4, 5}, 4, {3, 6, 1, 1}}, /* rank 5 */
    {4, {1, 1, 1, 1}, 4, {1, 1, 1, 1}},    /* one element */
    {3, {2, 0, 3}, 1, {3}},                /* empty */
    /* big enough for three tasks, rows split across tasks */
    {4, {1, 61, 47, 19}, 4, {1, 61, 47, 19}},
    {4, {1, 61, 47, 19}, 4, {1, 1, 1, 19}},
    {4, {1, 61, 47, 19}, 4, {1, 61, 1, 19}},
    {4, {1, 61, 47, 19}, 0, {0}},
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
  snprintf (what, sizeof what,
      "%s+%s rank %d/%d (%lld vs %lld) inplace %d "
      "threads %d",
      seg_op_name (op), act_name (act), ra, rb, (long long) na, (long long) nb,
      inplace, seg_threadpool_threads (pool));

  seg_node_plan plan = {0};
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
  static const seg_op ops[] = {SEG_OP_ADD, SEG_OP_SUB, SEG_OP_MUL, SEG_OP_DIV};
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
  seg_node_plan plan = {0};
  float a[12] = {0}, b[4] = {0};

  set_val (&v[0], SEG_VAL_ACT, SEG_DT_F32, 2, (int64_t[]){3, 4}, a);
  set_val (&v[1], SEG_VAL_CONST, SEG_DT_F32, 1, (int64_t[]){3}, b);
  seg_status st = seg_op_vtable_get (n.op)->infer (&n, v, &plan, &err);
  CHECK (st == SEG_ERR_SHAPE && strstr (err.msg, "node_x")
          && strstr (err.msg, "[3,4] and [3]"),
      "mismatched broadcast: %d '%s'", st, err.msg);

  set_val (&v[1], SEG_VAL_CONST, SEG_DT_I64, 1, (int64_t[]){1}, b);
  st = seg_op_vtable_get (n.op)->infer (&n, v, &plan, &err);
  CHECK (st == SEG_ERR_FORMAT, "mixed dtypes: %d '%s'", st, err.msg);

  set_val (&v[0], SEG_VAL_ACT, SEG_DT_I64, 1, (int64_t[]){2}, a);
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
  int64_t x[] = {7, -7, 7, -7, 9, -9}, y[] = {2, 2, -2, -2, 3, 4};
  set_val (&v[0], SEG_VAL_CONST, SEG_DT_I64, 1, (int64_t[]){6}, x);
  set_val (&v[1], SEG_VAL_STATIC, SEG_DT_I64, 1, (int64_t[]){6}, y);
  seg_status st = eval_node (&n, v, &err);
  CHECK (st == SEG_OK && v[2].kind == SEG_VAL_STATIC && v[2].dtype == SEG_DT_I64
          && v[2].rank == 1 && v[2].dims[0] == 6,
      "int div eval: %s", err.msg);
  if (st == SEG_OK) {
    const int64_t want[] = {3, -3, -3, 3, 3, -2};
    CHECK (memcmp (v[2].data, want, sizeof want) == 0, "int div values");
    free (v[2].data);
  }

  /* broadcast int64 Mul [2,3] * [3] */
  n.op = SEG_OP_MUL;
  int64_t m[] = {1, 2, 3, 4, 5, 6}, k[] = {10, -1, 0};
  set_val (&v[0], SEG_VAL_CONST, SEG_DT_I64, 2, (int64_t[]){2, 3}, m);
  set_val (&v[1], SEG_VAL_CONST, SEG_DT_I64, 1, (int64_t[]){3}, k);
  st = eval_node (&n, v, &err);
  CHECK (st == SEG_OK && v[2].rank == 2 && v[2].dims[0] == 2
          && v[2].dims[1] == 3,
      "int mul eval: %s", err.msg);
  if (st == SEG_OK) {
    const int64_t want[] = {10, -2, 0, 40, -5, 0};
    CHECK (memcmp (v[2].data, want, sizeof want) == 0, "int mul values");
    free (v[2].data);
  }

  /* int32 Sub with a scalar on the left */
  n.op = SEG_OP_SUB;
  int32_t s = 100, t[] = {1, 200, -5};
  set_val (&v[0], SEG_VAL_CONST, SEG_DT_I32, 0, NULL, &s);
  set_val (&v[1], SEG_VAL_CONST, SEG_DT_I32, 1, (int64_t[]){3}, t);
  st = eval_node (&n, v, &err);
  CHECK (st == SEG_OK && v[2].dtype == SEG_DT_I32 && v[2].rank == 1,
      "int32 sub eval: %s", err.msg);
  if (st == SEG_OK) {
    const int32_t want[] = {99, -100, 105};
    CHECK (memcmp (v[2].data, want, sizeof want) == 0, "int32 sub values");
    free (v[2].data);
  }

  /* f32 eval with a fused activation (plan-time scale computations) */
  n.op = SEG_OP_MUL;
  n.a.act = SEG_ACT_RELU;
  float f[] = {1.5f, -2.0f, 3.0f}, g = 2.0f;
  set_val (&v[0], SEG_VAL_CONST, SEG_DT_F32, 1, (int64_t[]){3}, f);
  set_val (&v[1], SEG_VAL_CONST, SEG_DT_F32, 0, NULL, &g);
  st = eval_node (&n, v, &err);
  CHECK (st == SEG_OK, "f32 eval: %s", err.msg);
  if (st == SEG_OK) {
    const float want[] = {3.0f, 0.0f, 6.0f};
    CHECK (memcmp (v[2].data, want, sizeof want) == 0, "f32 eval values");
    free (v[2].data);
  }
  n.a.act = SEG_ACT_NONE;

  /* integer division by zero */
  n.op = SEG_OP_DIV;
  int64_t z[] = {4, 0};
  set_val (&v[0], SEG_VAL_CONST, SEG_DT_I64, 1, (int64_t[]){2}, x);
  set_val (&v[1], SEG_VAL_CONST, SEG_DT_I64, 1, (int64_t[]){2}, z);
  v[2].data = NULL;
  st = eval_node (&n, v, &err);
  CHECK (st == SEG_ERR_FORMAT && strstr (err.msg, "division by zero")
          && v[2].data == NULL,
      "int div by zero: %d '%s'", st, err.msg);
  int32_t zi[] = {0}, xi[] = {5};
  set_val (&v[0], SEG_VAL_CONST, SEG_DT_I32, 1, (int64_t[]){1}, xi);
  set_val (&v[1], SEG_VAL_CONST, SEG_DT_I32, 1, (int64_t[]){1}, zi);
  st = eval_node (&n, v, &err);
  CHECK (st == SEG_ERR_FORMAT, "int32 div by zero: %d '%s'", st, err.msg);

  /* overflow is an error, not undefined behaviour */
  n.op = SEG_OP_ADD;
  int64_t big[] = {INT64_MAX}, one[] = {1};
  set_val (&v[0], SEG_VAL_CONST, SEG_DT_I64, 1, (int64_t[]){1}, big);
  set_val (&v[1], SEG_VAL_CONST, SEG_DT_I64, 1, (int64_t[]){1}, one);
  st = eval_node (&n, v, &err);
  CHECK (st == SEG_ERR_FORMAT, "int64 overflow: %d '%s'", st, err.msg);
  n.op = SEG_OP_DIV;
  int64_t mn[] = {INT64_MIN}, m1[] = {-1};
  set_val (&v[0], SEG_VAL_CONST, SEG_DT_I64, 1, (int64_t[]){1}, mn);
  set_val (&v[1], SEG_VAL_CONST, SEG_DT_I64, 1, (int64_t[]){1}, m1);
  st = eval_node (&n, v, &err);
  CHECK (st == SEG_ERR_FORMAT, "INT64_MIN / -1: %d '%s'", st, err.msg);
  n.op = SEG_OP_MUL;
  int32_t h[] = {65536};
  set_val (&v[0], SEG_VAL_CONST, SEG_DT_I32, 1, (int64_t[]){1}, h);
  set_val (&v[1], SEG_VAL_CONST, SEG_DT_I32, 1, (int64_t[]){1}, h);
  st = eval_node (&n, v, &err);
  CHECK (st == SEG_ERR_FORMAT, "int32 overflow: %d '%s'", st, err.msg);
}

/* ---- activations ------------------------------------------------------- */

typedef struct
{
  seg_op op;
  seg_act act;
  float alpha, beta;
  float range; /* inputs in [-range, range] */
} act_case;

static const act_case act_cases[] = {
    {SEG_OP_RELU, SEG_ACT_RELU, 0, 0, 8},
    {SEG_OP_CLIP, SEG_ACT_CLIP, 0, 6, 8},
    {SEG_OP_CLIP, SEG_ACT_CLIP, -1, 1, 3},
    {SEG_OP_HARDSIGMOID, SEG_ACT_HARDSIGMOID, 0.2f, 0.5f, 4},
    {SEG_OP_HARDSIGMOID, SEG_ACT_HARDSIGMOID, 1.0f / 6, 0.5f, 4},
    {SEG_OP_HARDSWISH, SEG_ACT_HARDSWISH, 0, 0, 4},
    {SEG_OP_SIGMOID, SEG_ACT_SIGMOID, 0, 0, 12},
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
  seg_node_plan plan = {0};
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
  static const int64_t small[] = {1, 7, 9, 5}, big[] = {1, 61, 47, 19};
  for (size_t i = 0; i < sizeof act_cases / sizeof act_cases[0]; i++) {
    for (int inplace = 0; inplace < 2; inplace++) {
      unary_case (pool, &act_cases[i], 4, small, inplace, SEG_ACT_NONE);
      unary_case (pool, &act_cases[i], 4, big, inplace, SEG_ACT_NONE);
      unary_case (pool, &act_cases[i], 2, small + 1, inplace, SEG_ACT_CLIP);
    }
  }
  /* Identity copies, or is a no-op in place, and honours a fused act */
  const act_case id = {SEG_OP_IDENTITY, SEG_ACT_NONE, 0, 0, 5};
  for (int inplace = 0; inplace < 2; inplace++) {
    unary_case (pool, &id, 4, big, inplace, SEG_ACT_NONE);
    unary_case (pool, &id, 3, small, inplace, SEG_ACT_SIGMOID);
  }
}

static void
test_apply_act (void)
{
  /* extremes: sigmoid must not overflow into NaN; NaN stays NaN */
  const float x[] = {-1000, -100, -88.5f, -1, -0.0f, 0, 0.5f, 3, 7, 100, 1000,
      NAN};
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
  float s[] = {-1000, 1000, -100, 100};
  seg_apply_act (SEG_ACT_SIGMOID, 0, 0, s, 4);
  CHECK (s[0] == 0.0f && s[1] == 1.0f && s[2] >= 0.0f && s[2] < 1e-40f
          && s[3] == 1.0f,
      "sigmoid extremes: %g %g %g %g", s[0], s[1], s[2], s[3]);
}

static void
test_unary_eval (void)
{
  seg_value v[2];
  seg_err err;
  seg_node n = make_node (SEG_OP_FLOOR, 1);
  float x[] = {-1.5f, -0.5f, 0.0f, 0.5f, 1.5f, 2.0f};
  const float fl[] = {-2, -1, 0, 0, 1, 2}, ce[] = {-1, -0.0f, 0, 1, 2, 2};

  set_val (&v[0], SEG_VAL_CONST, SEG_DT_F32, 1, (int64_t[]){6}, x);
  seg_status st = eval_node (&n, v, &err);
  CHECK (st == SEG_OK && memcmp (v[1].data, fl, sizeof fl) == 0, "floor: %s",
      err.msg);
  if (st == SEG_OK)
    free (v[1].data);
  n.op = SEG_OP_CEIL;
  st = eval_node (&n, v, &err);
  CHECK (st == SEG_OK && memcmp (v[1].data, ce, sizeof ce) == 0, "ceil: %s",
      err.msg);
  if (st == SEG_OK)
    free (v[1].data);

  /* an activation op on a constant (folded at plan time) */
  n.op = SEG_OP_CLIP;
  n.a.alpha = 0;
  n.a.beta = 1;
  st = eval_node (&n, v, &err);
  CHECK (st == SEG_OK && v[1].kind == SEG_VAL_STATIC, "clip eval: %s", err.msg);
  if (st == SEG_OK) {
    const float want[] = {0, 0, 0, 0.5f, 1, 1};
    CHECK (memcmp (v[1].data, want, sizeof want) == 0, "clip eval values");
    free (v[1].data);
  }

  /* Identity keeps any dtype */
  n.op = SEG_OP_IDENTITY;
  int64_t k[] = {3, -4, 5};
  set_val (&v[0], SEG_VAL_STATIC, SEG_DT_I64, 1, (int64_t[]){3}, k);
  st = eval_node (&n, v, &err);
  CHECK (st == SEG_OK && v[1].dtype == SEG_DT_I64
          && memcmp (v[1].data, k, sizeof k) == 0,
      "identity i64: %s", err.msg);
  if (st == SEG_OK)
    free (v[1].data);

  /* Dequantize f16 -> f32 */
  n.op = SEG_OP_DEQUANTIZE;
  uint16_t h[] = {0x3c00, 0xc000, 0x7bff, 0x0001, 0x8000, 0x3555};
  const float hf[] = {1.0f, -2.0f, 65504.0f, 0x1p-24f, -0.0f, 0.333251953125f};
  set_val (&v[0], SEG_VAL_CONST, SEG_DT_F16, 2, (int64_t[]){2, 3}, h);
  st = eval_node (&n, v, &err);
  CHECK (st == SEG_OK && v[1].dtype == SEG_DT_F32 && v[1].rank == 2
          && v[1].dims[1] == 3 && memcmp (v[1].data, hf, sizeof hf) == 0,
      "dequantize: %s", err.msg);
  if (st == SEG_OK)
    free (v[1].data);

  /* value-only ops refuse activations */
  static const seg_op value_only[] = {SEG_OP_FLOOR, SEG_OP_CEIL,
      SEG_OP_DEQUANTIZE};
  for (size_t i = 0; i < 3; i++) {
    seg_node_plan plan = {0};
    n.op = value_only[i];
    set_val (&v[0], SEG_VAL_ACT, SEG_DT_F32, 1, (int64_t[]){6}, x);
    st = seg_op_vtable_get (n.op)->infer (&n, v, &plan, &err);
    CHECK (st == SEG_ERR_UNSUPPORTED && strstr (err.msg, "node_x")
            && strstr (err.msg, "runs on activations"),
        "%s on ACT: %d '%s'", seg_op_name (n.op), st, err.msg);
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
    want[i] = (x[i] - mean[k]) / sqrt ((double) var[k] + n.a.alpha) * scale[k]
        + bias[k];
  }
  set_val (&v[0], SEG_VAL_ACT, SEG_DT_F32, rank, dims, x);
  set_val (&v[1], SEG_VAL_CONST, SEG_DT_F32, 1, &c, scale);
  set_val (&v[2], SEG_VAL_CONST, SEG_DT_F32, 1, &c, bias);
  set_val (&v[3], SEG_VAL_STATIC, SEG_DT_F32, 1, &c, mean);
  set_val (&v[4], SEG_VAL_CONST, SEG_DT_F32, 1, &c, var);
  memset (&v[5], 0, sizeof v[5]);
  snprintf (what, sizeof what,
      "BatchNormalization %lld elems C %lld "
      "inplace %d threads %d",
      (long long) count, (long long) c, inplace, seg_threadpool_threads (pool));
  seg_node_plan plan = {0};
  seg_status st = seg_op_vtable_get (n.op)->infer (&n, v, &plan, &err);
  CHECK (st == SEG_OK && v[5].rank == rank
          && plan.scratch_bytes >= 2 * (size_t) c * sizeof (float),
      "%s: infer: %s", what, err.msg);
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
  static const int64_t small[] = {1, 7, 9, 5}, big[] = {1, 61, 47, 19};
  for (int inplace = 0; inplace < 2; inplace++) {
    bn_case (pool, 4, small, inplace);
    bn_case (pool, 4, big, inplace);
    bn_case (pool, 2, small + 2, inplace);
  }
}

int
main (void)
{
  seg_threadpool *pools[2] = {seg_threadpool_new (1), seg_threadpool_new (3)};
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
  seg_threadpool_free (pools[0]);
  seg_threadpool_free (pools[1]);

  if (failures) {
    fprintf (stderr, "FAIL: %d of %d checks failed\n", failures, checks);
    return 1;
  }
  printf ("ok: %d checks\n", checks);
  return 0;
}
