/* One-input ops: the activations (also applied fused, by seg_apply_act, at
 * the end of conv, pool and binary ops), Identity, the BatchNormalization
 * fallback for nodes the load-time pass could not fold, and the plan-time
 * only Floor, Ceil and Dequantize.
 *
 * Activations keep NaN as NaN (comparisons are written so a NaN input falls
 * through) and compute the sigmoid from whichever side cannot overflow.
 */
#include "ops-impl.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Below this many elements per thread, waking a worker costs more than the
 * work it would take over. */
#define MIN_TASK_ELEMENTS 16384
/* Task boundaries fall on 64-byte lines of output. */
#define TASK_ALIGN 16

static inline float
clampf (float x, float lo, float hi)
{
  return x < lo ? lo : x > hi ? hi : x;
}

static inline float
sigmoidf (float x)
{
  if (x >= 0.0f)
    return 1.0f / (1.0f + expf (-x));
  float e = expf (x);
  return e / (1.0f + e);
}

/* y[i] = EXPR with v = x[i]. Blocks of 8 are computed into a local before
 * they are stored: correct when y is x, and vectorisable at -O2 without
 * alias checks (see binary.c). */
#define MAP(EXPR)                   \
  do {                              \
    size_t i = 0;                   \
    for (; i + 8 <= n; i += 8) {    \
      float t[8];                   \
      for (int k = 0; k < 8; k++) { \
        const float v = x[i + k];   \
        t[k] = (EXPR);              \
      }                             \
      memcpy (y + i, t, sizeof t);  \
    }                               \
    for (; i < n; i++) {            \
      const float v = x[i];         \
      y[i] = (EXPR);                \
    }                               \
  } while (0)

/* y = act(x) for n floats; y may be x. */
static void
act_map (seg_act act, float a, float b, const float *x, float *y, size_t n)
{
  switch (act) {
    case SEG_ACT_NONE:
      if (y != x)
        memcpy (y, x, n * sizeof *y);
      break;
    case SEG_ACT_RELU:
      MAP (v < 0.0f ? 0.0f : v);
      break;
    case SEG_ACT_CLIP:
      MAP (clampf (v, a, b));
      break;
    case SEG_ACT_HARDSIGMOID:
      MAP (clampf (a * v + b, 0.0f, 1.0f));
      break;
    case SEG_ACT_HARDSWISH:
      MAP (v * clampf (v / 6.0f + 0.5f, 0.0f, 1.0f));
      break;
    case SEG_ACT_SIGMOID:
      MAP (sigmoidf (v));
      break;
  }
}

#undef MAP

void
seg_apply_act (seg_act act, float a, float b, float *x, size_t n)
{
  if (act != SEG_ACT_NONE)
    act_map (act, a, b, x, x, n);
}

/* The activation a standalone node computes, with its parameters. */
static seg_act
node_act (const seg_node *n, float *a, float *b)
{
  *a = n->a.alpha;
  *b = n->a.beta;
  switch (n->op) {
    case SEG_OP_RELU:
      return SEG_ACT_RELU;
    case SEG_OP_CLIP:
      return SEG_ACT_CLIP;
    case SEG_OP_HARDSIGMOID:
      return SEG_ACT_HARDSIGMOID;
    case SEG_OP_HARDSWISH:
      return SEG_ACT_HARDSWISH;
    case SEG_OP_SIGMOID:
      return SEG_ACT_SIGMOID;
    default:
      return SEG_ACT_NONE;
  }
}

/* ---- shared checks ------------------------------------------------------ */

static seg_status
check_io (const seg_node *n, int nin, seg_err *err)
{
  if (n->nin < nin || n->nout != 1)
    return seg_fail (err, SEG_ERR_FORMAT,
        "node '%s' (%s): expects %d input%s and 1 output", n->name,
        seg_op_name (n->op), nin, nin == 1 ? "" : "s");
  for (int i = 0; i < nin; i++)
    if (n->in[i] < 0)
      return seg_fail (err, SEG_ERR_FORMAT,
          "node '%s' (%s): input %d is missing", n->name, seg_op_name (n->op),
          i);
  return SEG_OK;
}

static int64_t
value_elements (const seg_node *n, const seg_value *x, int k, seg_err *err)
{
  int64_t count = x->rank < 0 || x->rank > SEG_MAX_RANK
      ? -1
      : seg_shape_elements (x->rank, x->dims);
  if (count < 0)
    seg_fail (err, SEG_ERR_SHAPE,
        "node '%s' (%s): input %d has an unknown or oversized shape", n->name,
        seg_op_name (n->op), k);
  return count;
}

/* Input k must hold its data at plan time. */
static seg_status
check_value (const seg_node *n, const seg_value *x, int k, seg_err *err)
{
  int64_t count = value_elements (n, x, k, err);
  if (count < 0)
    return SEG_ERR_SHAPE;
  size_t need = (size_t) count * seg_dtype_size (x->dtype);
  if (x->kind == SEG_VAL_ACT)
    return seg_fail (err, SEG_ERR_UNSUPPORTED,
        "node '%s' (%s): runs on activations, which segd does not support",
        n->name, seg_op_name (n->op));
  if (x->nbytes < need || (need && !x->data))
    return seg_fail (err, SEG_ERR_FORMAT,
        "node '%s' (%s): input %d holds %zu bytes, needs %zu", n->name,
        seg_op_name (n->op), k, x->nbytes, need);
  return SEG_OK;
}

static void
same_shape (seg_value *o, const seg_value *x, seg_dtype dtype)
{
  o->dtype = dtype;
  o->rank = x->rank;
  for (int i = 0; i < x->rank; i++)
    o->dims[i] = x->dims[i];
}

/* ---- parallel elementwise run ------------------------------------------ */

typedef struct
{
  const seg_node *n;
  const float *x;
  float *y;
  size_t count;
  size_t ntasks;
  /* BatchNormalization: y = x * mul[c] + add[c] over the last dim */
  const float *mul, *add;
  size_t channels;
} map_job;

static size_t
task_bound (size_t total, size_t task, size_t ntasks)
{
  if (task >= ntasks)
    return total;
  return (size_t) ((uint64_t) total * task / ntasks) / TASK_ALIGN * TASK_ALIGN;
}

static void
map_range (const map_job *job, size_t begin, size_t end)
{
  const seg_node *n = job->n;
  const float *x = job->x + begin;
  float *y = job->y + begin;
  size_t len = end - begin;

  if (job->mul) {
    size_t c = begin % job->channels;
    for (size_t i = 0; i < len; i++) {
      y[i] = x[i] * job->mul[c] + job->add[c];
      if (++c == job->channels)
        c = 0;
    }
  } else {
    float a, b;
    seg_act act = node_act (n, &a, &b);
    act_map (act, a, b, x, y, len);
  }
  seg_apply_act (n->a.act, n->a.act_a, n->a.act_b, y, len);
}

static void
map_task (void *ctx, size_t task, int thread)
{
  const map_job *job = ctx;
  map_range (job, task_bound (job->count, task, job->ntasks),
      task_bound (job->count, task + 1, job->ntasks));
}

static void
map_run (map_job *job, const seg_run_ctx *ctx)
{
  if (job->count == 0)
    return;
  size_t want = job->count / MIN_TASK_ELEMENTS;
  size_t threads = (size_t) seg_threadpool_threads (ctx->pool);
  job->ntasks = want < 1 ? 1 : want > threads ? threads : want;
  seg_threadpool_run (ctx->pool, map_task, job, job->ntasks);
}

/* ---- activations and Identity ------------------------------------------ */

static seg_status
act_infer (const seg_node *n, seg_value *v, seg_node_plan *plan, seg_err *err)
{
  seg_status st = check_io (n, 1, err);
  if (st != SEG_OK)
    return st;
  const seg_value *x = &v[n->in[0]];
  if (value_elements (n, x, 0, err) < 0)
    return SEG_ERR_SHAPE;
  if (x->dtype != SEG_DT_F32
      && (n->op != SEG_OP_IDENTITY || x->kind == SEG_VAL_ACT))
    return seg_fail (err, SEG_ERR_UNSUPPORTED,
        "node '%s' (%s): %s input is not supported", n->name,
        seg_op_name (n->op), seg_dtype_name (x->dtype));
  same_shape (&v[n->out[0]], x, x->dtype);
  return SEG_OK;
}

static void
act_run (const seg_node *n, const seg_value *v, const seg_node_plan *plan,
    const seg_run_ctx *ctx)
{
  map_job job = {
      .n = n,
      .x = v[n->in[0]].data,
      .y = v[n->out[0]].data,
      .count =
          (size_t) seg_shape_elements (v[n->out[0]].rank, v[n->out[0]].dims),
  };
  map_run (&job, ctx);
}

static seg_status
act_eval (const seg_node *n, seg_value *v, seg_err *err)
{
  seg_node_plan plan = {0};
  seg_status st = act_infer (n, v, &plan, err);
  if (st == SEG_OK)
    st = check_value (n, &v[n->in[0]], 0, err);
  if (st != SEG_OK)
    return st;
  seg_value *o = &v[n->out[0]];
  size_t nbytes;
  void *data = seg_value_alloc (n, o, &nbytes, err);
  if (!data)
    return SEG_ERR_NOMEM;
  if (nbytes)
    memcpy (data, v[n->in[0]].data, nbytes);
  if (o->dtype == SEG_DT_F32) {
    map_job job = {
        .n = n,
        .x = data,
        .y = data,
        .count = nbytes / sizeof (float),
    };
    map_range (&job, 0, job.count);
  }
  seg_value_publish (o, data, nbytes);
  return SEG_OK;
}

/* ---- Floor, Ceil ------------------------------------------------------- */

static seg_status
round_infer (const seg_node *n, seg_value *v, seg_node_plan *plan, seg_err *err)
{
  seg_status st = check_io (n, 1, err);
  if (st == SEG_OK)
    st = check_value (n, &v[n->in[0]], 0, err);
  if (st != SEG_OK)
    return st;
  const seg_value *x = &v[n->in[0]];
  if (x->dtype != SEG_DT_F32)
    return seg_fail (err, SEG_ERR_UNSUPPORTED,
        "node '%s' (%s): %s input is not supported", n->name,
        seg_op_name (n->op), seg_dtype_name (x->dtype));
  same_shape (&v[n->out[0]], x, SEG_DT_F32);
  return SEG_OK;
}

static seg_status
round_eval (const seg_node *n, seg_value *v, seg_err *err)
{
  seg_node_plan plan = {0};
  seg_status st = round_infer (n, v, &plan, err);
  if (st != SEG_OK)
    return st;
  seg_value *o = &v[n->out[0]];
  size_t nbytes;
  float *y = seg_value_alloc (n, o, &nbytes, err);
  if (!y)
    return SEG_ERR_NOMEM;
  const float *x = v[n->in[0]].data;
  for (size_t i = 0; i < nbytes / sizeof *y; i++)
    y[i] = n->op == SEG_OP_FLOOR ? floorf (x[i]) : ceilf (x[i]);
  seg_value_publish (o, y, nbytes);
  return SEG_OK;
}

/* ---- BatchNormalization ------------------------------------------------ */

static const char *const bn_param_names[] = {"scale", "B", "mean", "var"};

static seg_status
bn_infer (const seg_node *n, seg_value *v, seg_node_plan *plan, seg_err *err)
{
  seg_status st = check_io (n, 5, err);
  if (st != SEG_OK)
    return st;
  const seg_value *x = &v[n->in[0]];
  if (value_elements (n, x, 0, err) < 0)
    return SEG_ERR_SHAPE;
  if (x->dtype != SEG_DT_F32 || x->rank < 1)
    return seg_fail (err, SEG_ERR_UNSUPPORTED,
        "node '%s' (%s): needs a float32 input of rank >= 1", n->name,
        seg_op_name (n->op));
  int64_t channels = x->dims[x->rank - 1];
  for (int k = 1; k < 5; k++) {
    const seg_value *p = &v[n->in[k]];
    if (p->kind == SEG_VAL_ACT)
      return seg_fail (err, SEG_ERR_UNSUPPORTED,
          "node '%s' (%s): %s is computed at run time, which segd does not "
          "support",
          n->name, seg_op_name (n->op), bn_param_names[k - 1]);
    st = check_value (n, p, k, err);
    if (st != SEG_OK)
      return st;
    if (p->dtype != SEG_DT_F32 || p->rank > 1
        || seg_shape_elements (p->rank, p->dims) != channels)
      return seg_fail (err, SEG_ERR_FORMAT,
          "node '%s' (%s): %s must be float32 with %lld values", n->name,
          seg_op_name (n->op), bn_param_names[k - 1], (long long) channels);
  }
  same_shape (&v[n->out[0]], x, SEG_DT_F32);
  plan->scratch_bytes = 2 * (size_t) channels * sizeof (float);
  return SEG_OK;
}

/* Folds the four parameters into y = x * mul + add, in double so the fold
 * adds no more rounding than the per-element formula would. */
static void
bn_fold (const seg_node *n, const seg_value *v, float *mul, float *add,
    size_t channels)
{
  const float *scale = v[n->in[1]].data, *bias = v[n->in[2]].data;
  const float *mean = v[n->in[3]].data, *var = v[n->in[4]].data;
  for (size_t c = 0; c < channels; c++) {
    double m = scale[c] / sqrt ((double) var[c] + n->a.alpha);
    mul[c] = (float) m;
    add[c] = (float) (bias[c] - mean[c] * m);
  }
}

static void
bn_run (const seg_node *n, const seg_value *v, const seg_node_plan *plan,
    const seg_run_ctx *ctx)
{
  const seg_value *x = &v[n->in[0]];
  size_t channels = (size_t) x->dims[x->rank - 1];
  /* Thread 0's scratch; workers only read it. */
  float *mul = (float *) ctx->scratch, *add = mul + channels;
  map_job job = {
      .n = n,
      .x = x->data,
      .y = v[n->out[0]].data,
      .count = (size_t) seg_shape_elements (x->rank, x->dims),
      .mul = mul,
      .add = add,
      .channels = channels,
  };
  if (job.count == 0)
    return;
  bn_fold (n, v, mul, add, channels);
  map_run (&job, ctx);
}

static seg_status
bn_eval (const seg_node *n, seg_value *v, seg_err *err)
{
  seg_node_plan plan = {0};
  seg_status st = bn_infer (n, v, &plan, err);
  if (st == SEG_OK)
    st = check_value (n, &v[n->in[0]], 0, err);
  if (st != SEG_OK)
    return st;
  seg_value *o = &v[n->out[0]];
  const seg_value *x = &v[n->in[0]];
  size_t channels = (size_t) x->dims[x->rank - 1];
  size_t nbytes;
  float *y = seg_value_alloc (n, o, &nbytes, err);
  float *fold = malloc (2 * channels * sizeof *fold + 1);
  if (!y || !fold) {
    free (y);
    free (fold);
    return seg_fail (err, SEG_ERR_NOMEM, "node '%s' (%s): out of memory",
        n->name, seg_op_name (n->op));
  }
  map_job job = {
      .n = n,
      .x = x->data,
      .y = y,
      .count = nbytes / sizeof *y,
      .mul = fold,
      .add = fold + channels,
      .channels = channels,
  };
  if (job.count > 0) {
    bn_fold (n, v, fold, fold + channels, channels);
    map_range (&job, 0, job.count);
  }
  free (fold);
  seg_value_publish (o, y, nbytes);
  return SEG_OK;
}

/* ---- Dequantize -------------------------------------------------------- */

static seg_status
dequantize_infer (const seg_node *n, seg_value *v, seg_node_plan *plan,
    seg_err *err)
{
  seg_status st = check_io (n, 1, err);
  if (st == SEG_OK)
    st = check_value (n, &v[n->in[0]], 0, err);
  if (st != SEG_OK)
    return st;
  const seg_value *x = &v[n->in[0]];
  if (x->dtype != SEG_DT_F16 && x->dtype != SEG_DT_F32)
    return seg_fail (err, SEG_ERR_UNSUPPORTED,
        "node '%s' (%s): dequantizing %s is not supported", n->name,
        seg_op_name (n->op), seg_dtype_name (x->dtype));
  same_shape (&v[n->out[0]], x, SEG_DT_F32);
  return SEG_OK;
}

static seg_status
dequantize_eval (const seg_node *n, seg_value *v, seg_err *err)
{
  seg_node_plan plan = {0};
  seg_status st = dequantize_infer (n, v, &plan, err);
  if (st != SEG_OK)
    return st;
  const seg_value *x = &v[n->in[0]];
  seg_value *o = &v[n->out[0]];
  size_t nbytes;
  float *y = seg_value_alloc (n, o, &nbytes, err);
  if (!y)
    return SEG_ERR_NOMEM;
  if (x->dtype == SEG_DT_F32) {
    if (nbytes)
      memcpy (y, x->data, nbytes);
  } else {
    const uint16_t *h = x->data;
    for (size_t i = 0; i < nbytes / sizeof *y; i++)
      y[i] = seg_f16_to_f32 (h[i]);
  }
  seg_value_publish (o, y, nbytes);
  return SEG_OK;
}

/* ---- vtables ----------------------------------------------------------- */

const seg_op_vtable seg_op_relu = {
    .infer = act_infer,
    .eval = act_eval,
    .run = act_run,
};
const seg_op_vtable seg_op_clip = {
    .infer = act_infer,
    .eval = act_eval,
    .run = act_run,
};
const seg_op_vtable seg_op_hardsigmoid = {
    .infer = act_infer,
    .eval = act_eval,
    .run = act_run,
};
const seg_op_vtable seg_op_hardswish = {
    .infer = act_infer,
    .eval = act_eval,
    .run = act_run,
};
const seg_op_vtable seg_op_sigmoid = {
    .infer = act_infer,
    .eval = act_eval,
    .run = act_run,
};
const seg_op_vtable seg_op_identity = {
    .infer = act_infer,
    .eval = act_eval,
    .run = act_run,
};
const seg_op_vtable seg_op_floor = {
    .infer = round_infer,
    .eval = round_eval,
};
const seg_op_vtable seg_op_ceil = {
    .infer = round_infer,
    .eval = round_eval,
};
const seg_op_vtable seg_op_batchnorm = {
    .infer = bn_infer,
    .eval = bn_eval,
    .run = bn_run,
};
const seg_op_vtable seg_op_dequantize = {
    .infer = dequantize_infer,
    .eval = dequantize_eval,
};
