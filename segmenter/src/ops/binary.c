/* Add, Sub, Mul and Div with numpy broadcasting on IR dims (NHWC for rank
 * 4), the fused activation applied to each stretch of output while it is
 * still in cache, and plan-time evaluation on small f32/int64/int32 values.
 *
 * Every broadcast pattern takes one path: both operands are aligned to the
 * output's rank, size-1 output dims are dropped and neighbouring dims that
 * step alike in both operands are merged. What is left is short: same shape
 * and scalar become one flat loop, a per-channel operand becomes [rows, C]
 * against [C], the squeeze-and-excite gate becomes [N, HW, C] against
 * [N, 1, C], and anything else walks its few remaining dims with an
 * odometer. The kernels only ever see vector-vector or vector-scalar rows,
 * so the fast paths need no case analysis of their own and nothing
 * allocates.
 */
#include "ops-impl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Below this many elements per thread, waking a worker costs more than the
 * arithmetic it would take over. */
#define MIN_TASK_ELEMENTS 16384
/* Task boundaries fall on 64-byte lines of output so threads never share
 * one. */
#define TASK_ALIGN 16

/* The broadcast iteration space after collapsing. */
typedef struct
{
  int rank; /* >= 1 */
  int64_t dims[SEG_MAX_RANK];
  int64_t sa[SEG_MAX_RANK]; /* element strides of a; 0 where broadcast */
  int64_t sb[SEG_MAX_RANK];
  int64_t total;
} bcast;

static void
bcast_init (bcast *bc, const seg_value *a, const seg_value *b,
    const seg_value *o)
{
  int r = o->rank;
  int64_t da[SEG_MAX_RANK], db[SEG_MAX_RANK];
  int64_t sa[SEG_MAX_RANK], sb[SEG_MAX_RANK];

  for (int i = 0; i < r; i++) {
    int ia = i - (r - a->rank), ib = i - (r - b->rank);
    da[i] = ia >= 0 ? a->dims[ia] : 1;
    db[i] = ib >= 0 ? b->dims[ib] : 1;
  }
  int64_t ka = 1, kb = 1;
  for (int i = r - 1; i >= 0; i--) {
    sa[i] = da[i] == 1 ? 0 : ka;
    sb[i] = db[i] == 1 ? 0 : kb;
    ka *= da[i];
    kb *= db[i];
  }

  bc->rank = 0;
  bc->total = 1;
  for (int i = 0; i < r; i++) {
    int64_t d = o->dims[i];
    int k = bc->rank;
    bc->total *= d;
    if (d == 1)
      continue;
    /* Merge into the previous dim when both operands continue it
     * contiguously, or both broadcast over both. */
    if (k > 0 && bc->sa[k - 1] == sa[i] * d && bc->sb[k - 1] == sb[i] * d) {
      bc->dims[k - 1] *= d;
      bc->sa[k - 1] = sa[i];
      bc->sb[k - 1] = sb[i];
      continue;
    }
    bc->dims[k] = d;
    bc->sa[k] = sa[i];
    bc->sb[k] = sb[i];
    bc->rank++;
  }
  if (bc->rank == 0) {
    bc->rank = 1;
    bc->dims[0] = 1;
    bc->sa[0] = bc->sb[0] = 1;
  }
}

/* The kernels compute rows x len outputs; o is contiguous, a and b step by
 * ra/rb per row and, within a row, by ia/ib (1: vector, 0: one broadcast
 * value; a non-zero inner stride is always 1 since size-1 dims were
 * dropped). Each block of BLOCK results is computed into a local before it
 * is stored: that keeps in-place use correct (o may be a or b) without the
 * runtime alias checks GCC's -O2 vectoriser will not emit, so the block
 * vectorises. */
#define BLOCK 8

#define DEFINE_ROWS(NAME, OP)                                       \
  static void NAME (float *o, const float *a, int64_t ra, int ia,   \
      const float *b, int64_t rb, int ib, size_t rows, size_t len)  \
  {                                                                 \
    for (size_t r = 0; r < rows; r++, o += len, a += ra, b += rb) { \
      size_t i = 0;                                                 \
      if (ia && ib) {                                               \
        for (; i + BLOCK <= len; i += BLOCK) {                      \
          float t[BLOCK];                                           \
          for (int k = 0; k < BLOCK; k++)                           \
            t[k] = a[i + k] OP b[i + k];                            \
          memcpy (o + i, t, sizeof t);                              \
        }                                                           \
        for (; i < len; i++)                                        \
          o[i] = a[i] OP b[i];                                      \
      } else if (ia) {                                              \
        const float y = b[0];                                       \
        for (; i + BLOCK <= len; i += BLOCK) {                      \
          float t[BLOCK];                                           \
          for (int k = 0; k < BLOCK; k++)                           \
            t[k] = a[i + k] OP y;                                   \
          memcpy (o + i, t, sizeof t);                              \
        }                                                           \
        for (; i < len; i++)                                        \
          o[i] = a[i] OP y;                                         \
      } else {                                                      \
        const float x = a[0];                                       \
        for (; i + BLOCK <= len; i += BLOCK) {                      \
          float t[BLOCK];                                           \
          for (int k = 0; k < BLOCK; k++)                           \
            t[k] = x OP b[i + k];                                   \
          memcpy (o + i, t, sizeof t);                              \
        }                                                           \
        for (; i < len; i++)                                        \
          o[i] = x OP b[i];                                         \
      }                                                             \
    }                                                               \
  }

DEFINE_ROWS (add_rows, +)
DEFINE_ROWS (sub_rows, -)
DEFINE_ROWS (mul_rows, *)
DEFINE_ROWS (div_rows, /)

#undef DEFINE_ROWS

typedef void (*rows_fn) (float *o, const float *a, int64_t ra, int ia,
    const float *b, int64_t rb, int ib, size_t rows, size_t len);

static rows_fn
rows_for (seg_op op)
{
  switch (op) {
    case SEG_OP_SUB:
      return sub_rows;
    case SEG_OP_MUL:
      return mul_rows;
    case SEG_OP_DIV:
      return div_rows;
    default:
      return add_rows;
  }
}

/* Output elements [begin, end) in row-major order of the collapsed space:
 * whole rows go to the kernel together (up to the end of the dim they step
 * along), so a small C costs no call per row; a task boundary inside a row
 * gives a partial row on its own. */
static void
binary_range (const seg_node *n, const bcast *bc, float *o, const float *a,
    const float *b, int64_t begin, int64_t end)
{
  rows_fn rows = rows_for (n->op);
  int r = bc->rank, d = r - 2; /* d: the dim whole rows step along */
  int64_t inner = bc->dims[r - 1];
  int ia = bc->sa[r - 1] != 0, ib = bc->sb[r - 1] != 0;
  int64_t ra = d >= 0 ? bc->sa[d] : 0, rb = d >= 0 ? bc->sb[d] : 0;
  int64_t row = begin / inner, col = begin % inner;
  int64_t idx[SEG_MAX_RANK];
  int64_t oa = 0, ob = 0;

  for (int i = d; i >= 0; i--) {
    idx[i] = row % bc->dims[i];
    row /= bc->dims[i];
    oa += idx[i] * bc->sa[i];
    ob += idx[i] * bc->sb[i];
  }
  for (int64_t e = begin; e < end;) {
    int64_t len, nrows;
    if (col == 0 && d >= 0 && end - e >= inner) {
      nrows = bc->dims[d] - idx[d];
      if (nrows > (end - e) / inner)
        nrows = (end - e) / inner;
      rows (o + e, a + oa, ra, ia, b + ob, rb, ib, (size_t) nrows,
          (size_t) inner);
      len = nrows * inner;
    } else {
      len = inner - col < end - e ? inner - col : end - e;
      rows (o + e, a + oa + col * ia, 0, ia, b + ob + col * ib, 0, ib, 1,
          (size_t) len);
      nrows = col + len == inner; /* else this was the range's last piece */
    }
    if (n->a.act != SEG_ACT_NONE)
      seg_apply_act (n->a.act, n->a.act_a, n->a.act_b, o + e, (size_t) len);
    e += len;
    col = 0;
    if (d < 0 || nrows == 0)
      continue;
    idx[d] += nrows;
    oa += nrows * ra;
    ob += nrows * rb;
    for (int i = d; i > 0 && idx[i] == bc->dims[i]; i--) {
      oa += bc->sa[i - 1] - bc->sa[i] * bc->dims[i];
      ob += bc->sb[i - 1] - bc->sb[i] * bc->dims[i];
      idx[i] = 0;
      idx[i - 1]++;
    }
  }
}

typedef struct
{
  const seg_node *n;
  bcast bc;
  float *o;
  const float *a, *b;
  size_t ntasks;
} binary_job;

static int64_t
task_bound (int64_t total, size_t task, size_t ntasks)
{
  if (task >= ntasks)
    return total;
  return (int64_t) ((uint64_t) total * task / ntasks) / TASK_ALIGN * TASK_ALIGN;
}

static void
binary_task (void *ctx, size_t task, int thread)
{
  const binary_job *job = ctx;
  binary_range (job->n, &job->bc, job->o, job->a, job->b,
      task_bound (job->bc.total, task, job->ntasks),
      task_bound (job->bc.total, task + 1, job->ntasks));
}

static void
binary_run (const seg_node *n, const seg_value *v, const seg_node_plan *plan,
    const seg_run_ctx *ctx)
{
  binary_job job = {
      .n = n,
      .o = v[n->out[0]].data,
      .a = v[n->in[0]].data,
      .b = v[n->in[1]].data,
  };
  bcast_init (&job.bc, &v[n->in[0]], &v[n->in[1]], &v[n->out[0]]);
  if (job.bc.total == 0)
    return;
  int64_t want = job.bc.total / MIN_TASK_ELEMENTS;
  int threads = seg_threadpool_threads (ctx->pool);
  job.ntasks = want < 1 ? 1 : want > threads ? (size_t) threads : (size_t) want;
  seg_threadpool_run (ctx->pool, binary_task, &job, job.ntasks);
}

static void
dims_str (char *buf, size_t size, const seg_value *x)
{
  size_t used = 0;
  buf[0] = '\0';
  for (int i = 0; i < x->rank && used < size; i++)
    used += (size_t) snprintf (buf + used, size - used, "%s%lld", i ? "," : "",
        (long long) x->dims[i]);
}

static seg_status
binary_infer (const seg_node *n, seg_value *v, seg_node_plan *plan,
    seg_err *err)
{
  if (n->nin != 2 || n->nout != 1 || n->in[0] < 0 || n->in[1] < 0)
    return seg_fail (err, SEG_ERR_FORMAT,
        "node '%s' (%s): expects 2 inputs and 1 output", n->name,
        seg_op_name (n->op));
  const seg_value *a = &v[n->in[0]], *b = &v[n->in[1]];
  seg_value *o = &v[n->out[0]];
  bool act = a->kind == SEG_VAL_ACT || b->kind == SEG_VAL_ACT;

  if (a->dtype != b->dtype)
    return seg_fail (err, SEG_ERR_FORMAT,
        "node '%s' (%s): inputs have different types (%s, %s)", n->name,
        seg_op_name (n->op), seg_dtype_name (a->dtype),
        seg_dtype_name (b->dtype));
  if (act ? a->dtype != SEG_DT_F32
          : a->dtype != SEG_DT_F32 && a->dtype != SEG_DT_I64
              && a->dtype != SEG_DT_I32)
    return seg_fail (err, SEG_ERR_UNSUPPORTED,
        "node '%s' (%s): %s %s is not supported", n->name, seg_op_name (n->op),
        seg_dtype_name (a->dtype), act ? "activations" : "values");
  for (int k = 0; k < 2; k++) {
    const seg_value *x = &v[n->in[k]];
    if (x->rank < 0 || x->rank > SEG_MAX_RANK
        || seg_shape_elements (x->rank, x->dims) < 0)
      return seg_fail (err, SEG_ERR_SHAPE,
          "node '%s' (%s): input %d has an unknown or oversized shape", n->name,
          seg_op_name (n->op), k);
  }

  int r = a->rank > b->rank ? a->rank : b->rank;
  int64_t dims[SEG_MAX_RANK];
  for (int i = 0; i < r; i++) {
    int ia = i - (r - a->rank), ib = i - (r - b->rank);
    int64_t da = ia >= 0 ? a->dims[ia] : 1;
    int64_t db = ib >= 0 ? b->dims[ib] : 1;
    if (da != db && da != 1 && db != 1) {
      char sa[96], sb[96];
      dims_str (sa, sizeof sa, a);
      dims_str (sb, sizeof sb, b);
      return seg_fail (err, SEG_ERR_SHAPE,
          "node '%s' (%s): shapes [%s] and [%s] do not broadcast", n->name,
          seg_op_name (n->op), sa, sb);
    }
    dims[i] = da == 1 ? db : da;
  }
  if (seg_shape_elements (r, dims) < 0)
    return seg_fail (err, SEG_ERR_SHAPE,
        "node '%s' (%s): output has too many elements", n->name,
        seg_op_name (n->op));
  o->dtype = a->dtype;
  o->rank = r;
  for (int i = 0; i < r; i++)
    o->dims[i] = dims[i];
  return SEG_OK;
}

/* Exact integer arithmetic: a file's constants must not be able to reach
 * signed overflow, and division by zero has no answer. */
static seg_status
int_op (const seg_node *n, int64_t x, int64_t y, int64_t lo, int64_t hi,
    int64_t *res, seg_err *err)
{
  bool bad = false;
  switch (n->op) {
    case SEG_OP_ADD:
      bad = __builtin_add_overflow (x, y, res);
      break;
    case SEG_OP_SUB:
      bad = __builtin_sub_overflow (x, y, res);
      break;
    case SEG_OP_MUL:
      bad = __builtin_mul_overflow (x, y, res);
      break;
    case SEG_OP_DIV:
      if (y == 0)
        return seg_fail (err, SEG_ERR_FORMAT,
            "node '%s' (%s): integer division by zero", n->name,
            seg_op_name (n->op));
      bad = x == INT64_MIN && y == -1;
      if (!bad)
        *res = x / y; /* C truncates toward zero, as ONNX wants */
      break;
    default:
      break;
  }
  if (bad || *res < lo || *res > hi)
    return seg_fail (err, SEG_ERR_FORMAT,
        "node '%s' (%s): integer overflow (%lld, %lld)", n->name,
        seg_op_name (n->op), (long long) x, (long long) y);
  return SEG_OK;
}

static seg_status
binary_eval_int (const seg_node *n, const bcast *bc, seg_dtype dt, void *o,
    const void *a, const void *b, seg_err *err)
{
  int r = bc->rank;
  int64_t idx[SEG_MAX_RANK] = {0};
  int64_t oa = 0, ob = 0;
  int64_t lo = dt == SEG_DT_I32 ? INT32_MIN : INT64_MIN;
  int64_t hi = dt == SEG_DT_I32 ? INT32_MAX : INT64_MAX;

  for (int64_t e = 0; e < bc->total; e++) {
    int64_t x, y, res = 0;
    if (dt == SEG_DT_I32) {
      x = ((const int32_t *) a)[oa];
      y = ((const int32_t *) b)[ob];
    } else {
      x = ((const int64_t *) a)[oa];
      y = ((const int64_t *) b)[ob];
    }
    seg_status st = int_op (n, x, y, lo, hi, &res, err);
    if (st != SEG_OK)
      return st;
    if (dt == SEG_DT_I32)
      ((int32_t *) o)[e] = (int32_t) res;
    else
      ((int64_t *) o)[e] = res;
    for (int i = r - 1; i >= 0; i--) {
      oa += bc->sa[i];
      ob += bc->sb[i];
      if (++idx[i] < bc->dims[i])
        break;
      oa -= bc->sa[i] * bc->dims[i];
      ob -= bc->sb[i] * bc->dims[i];
      idx[i] = 0;
    }
  }
  return SEG_OK;
}

static seg_status
binary_eval (const seg_node *n, seg_value *v, seg_err *err)
{
  seg_node_plan plan = {0};
  seg_status st = binary_infer (n, v, &plan, err);
  if (st != SEG_OK)
    return st;
  const seg_value *a = &v[n->in[0]], *b = &v[n->in[1]];
  seg_value *o = &v[n->out[0]];
  size_t esize = seg_dtype_size (o->dtype);

  for (int k = 0; k < 2; k++) {
    const seg_value *x = &v[n->in[k]];
    size_t need = (size_t) seg_shape_elements (x->rank, x->dims) * esize;
    if (x->kind == SEG_VAL_ACT)
      return seg_fail (err, SEG_ERR_INVALID,
          "node '%s' (%s): input %d is not known at plan time", n->name,
          seg_op_name (n->op), k);
    if (x->nbytes < need || (need && !x->data))
      return seg_fail (err, SEG_ERR_FORMAT,
          "node '%s' (%s): input %d holds %zu bytes, needs %zu", n->name,
          seg_op_name (n->op), k, x->nbytes, need);
  }

  bcast bc;
  bcast_init (&bc, a, b, o);
  size_t nbytes = (size_t) bc.total * esize;
  void *data = malloc (nbytes ? nbytes : 1);
  if (!data)
    return seg_fail (err, SEG_ERR_NOMEM, "node '%s' (%s): out of memory",
        n->name, seg_op_name (n->op));
  if (bc.total > 0) {
    if (o->dtype == SEG_DT_F32) {
      binary_range (n, &bc, data, a->data, b->data, 0, bc.total);
    } else {
      st = binary_eval_int (n, &bc, o->dtype, data, a->data, b->data, err);
      if (st != SEG_OK) {
        free (data);
        return st;
      }
    }
  }
  o->kind = SEG_VAL_STATIC;
  o->data = data;
  o->nbytes = nbytes;
  return SEG_OK;
}

const seg_op_vtable seg_op_add = {
    .infer = binary_infer,
    .eval = binary_eval,
    .run = binary_run,
};
const seg_op_vtable seg_op_sub = {
    .infer = binary_infer,
    .eval = binary_eval,
    .run = binary_run,
};
const seg_op_vtable seg_op_mul = {
    .infer = binary_infer,
    .eval = binary_eval,
    .run = binary_run,
};
const seg_op_vtable seg_op_div = {
    .infer = binary_infer,
    .eval = binary_eval,
    .run = binary_run,
};
