/* SeProject: the end of a squeeze-and-excite block, y = conv1x1 (x * gate)
 * [+ residual], as one pass. x is the depthwise output (N, H, W, C), gate
 * the excitation (N, 1, 1, C). The load-time pass fuse_se_projects makes
 * these from a Mul, the projection Conv and the residual Add, so that
 * neither the gated tensor nor the projection before the add is ever
 * written out: each task gates a tile of rows into thread scratch (the
 * same x * gate products the Mul computed, so results are bit-identical),
 * runs the GEMM on it straight into the output and adds the residual while
 * the rows are in cache.
 *
 * Inputs: x, gate, W (1x1, OIHW or OHWI), bias (may be -1), residual (may
 * be -1), and optionally an addend of x's shape (may be -1): MediaPipe's
 * decoder projects skip * gate + upsampled, and the pass folds that Add in
 * too, so the tile holds x * gate + addend. a.act applies after the GEMM;
 * with a residual, irb_act[2] after the add.
 */
#include <stdlib.h>
#include <string.h>

#include "kernels/kernels.h"
#include "ops-impl.h"

/* Most pixels per gated tile: a multiple of every kernel's rows. */
#define TILE_PIXELS 96

/* Most GEMM row tiles in one task when there are enough to share: 16
 * (six tasks at 520x520 input) was 15% slower there than 8. */
#define TASK_TILES 8

typedef struct
{
  const seg_f32_kernels *k;
  int cin, cout;
  float *w;
} se_packed;

static void
se_packed_free (void *data)
{
  se_packed *p = data;
  if (!p)
    return;
  free (p->w);
  free (p);
}

/* [O, I, 1, 1] (OIHW) or [O, 1, 1, I] (OHWI): the same memory. The layout
 * decides which dims are the kernel's: [O, 1, 1, 3] is a 1x3 kernel on one
 * channel in OIHW. */
static bool
weight_dims (int rank, const int64_t *d, seg_weight_layout wl, int *o, int *i)
{
  bool oihw = wl == SEG_WL_OIHW;
  if (rank != 4 || (!oihw && wl != SEG_WL_OHWI) || d[oihw ? 2 : 1] != 1
      || d[oihw ? 3 : 2] != 1 || d[0] < 1 || d[0] > SEG_MAX_DIM || d[1] < 1
      || d[1] > SEG_MAX_DIM || d[3] < 1 || d[3] > SEG_MAX_DIM)
    return false;
  *o = (int) d[0];
  *i = (int) (d[1] * d[3]);
  return true;
}

static seg_status
se_pack (seg_node *n, const seg_graph *g, seg_err *err)
{
  if ((n->nin != 5 && n->nin != 6) || n->in[0] < 0 || n->in[1] < 0
      || n->in[2] < 0 || n->in[2] >= g->ntensors || n->in[3] >= g->ntensors)
    return seg_fail (err, SEG_ERR_FORMAT, "node '%s' (SeProject): bad inputs",
        n->name);
  const seg_tensor *w = &g->tensors[n->in[2]];
  int cout, cin;
  if (w->dtype != SEG_DT_F32
      || !weight_dims (w->rank, w->dims, n->a.wlayout, &cout, &cin) || !w->data
      || w->nbytes < (size_t) cout * cin * sizeof (float))
    return seg_fail (err, SEG_ERR_FORMAT,
        "node '%s' (SeProject): weights are not a float32 1x1 constant",
        n->name);
  const float *bias = NULL;
  if (n->in[3] >= 0) {
    const seg_tensor *b = &g->tensors[n->in[3]];
    if (b->dtype != SEG_DT_F32 || b->rank != 1 || b->dims[0] != cout || !b->data
        || b->nbytes < (size_t) cout * sizeof (float))
      return seg_fail (err, SEG_ERR_FORMAT,
          "node '%s' (SeProject): bias is not %d float32 constants", n->name,
          cout);
    bias = b->data;
  }
  se_packed *p = calloc (1, sizeof *p);
  if (p) {
    p->k = seg_f32_kernels_get ();
    p->cin = cin, p->cout = cout;
    p->w = seg_f32_alloc (seg_f32_gemm_packed_size (p->k->gemm_nr, cout, cin));
  }
  if (!p || !p->w) {
    se_packed_free (p);
    return seg_fail (err, SEG_ERR_NOMEM,
        "node '%s' (SeProject): out of "
        "memory",
        n->name);
  }
  seg_f32_gemm_pack (p->k->gemm_nr, cout, cin, w->data, cin, bias, p->w);
  if (n->packed_free)
    n->packed_free (n->packed);
  n->packed = p;
  n->packed_free = se_packed_free;
  return SEG_OK;
}

static seg_status
se_infer (const seg_node *n, seg_value *v, seg_node_plan *plan, seg_err *err)
{
  if ((n->nin != 5 && n->nin != 6) || n->nout < 1 || n->in[0] < 0
      || n->in[1] < 0 || n->in[2] < 0)
    return seg_fail (err, SEG_ERR_FORMAT, "node '%s' (SeProject): bad inputs",
        n->name);
  const seg_value *x = &v[n->in[0]], *gate = &v[n->in[1]];
  const seg_value *w = &v[n->in[2]];
  int cout, cin;
  if (w->dtype != SEG_DT_F32
      || !weight_dims (w->rank, w->dims, n->a.wlayout, &cout, &cin))
    return seg_fail (err, SEG_ERR_FORMAT,
        "node '%s' (SeProject): weights are not float32 1x1", n->name);
  if (x->rank != 4 || x->dtype != SEG_DT_F32 || x->dims[3] != cin)
    return seg_fail (err, SEG_ERR_SHAPE,
        "node '%s' (SeProject): input must be float32 NHWC with %d channels",
        n->name, cin);
  for (int i = 0; i < 3; i++)
    if (x->dims[i] < 1)
      return seg_fail (err, SEG_ERR_SHAPE,
          "node '%s' (SeProject): input dim %d is %lld", n->name, i,
          (long long) x->dims[i]);
  if (gate->rank != 4 || gate->dtype != SEG_DT_F32
      || gate->dims[0] != x->dims[0] || gate->dims[1] != 1 || gate->dims[2] != 1
      || gate->dims[3] != cin)
    return seg_fail (err, SEG_ERR_SHAPE,
        "node '%s' (SeProject): gate must be %lldx1x1x%d", n->name,
        (long long) x->dims[0], cin);
  if (n->in[3] >= 0
      && (v[n->in[3]].dtype != SEG_DT_F32 || v[n->in[3]].rank != 1
          || v[n->in[3]].dims[0] != cout))
    return seg_fail (err, SEG_ERR_FORMAT,
        "node '%s' (SeProject): bias must be %d float32 values", n->name, cout);
  if ((unsigned) n->a.act > SEG_ACT_SIGMOID
      || (unsigned) n->a.irb_act[2] > SEG_ACT_SIGMOID)
    return seg_fail (err, SEG_ERR_FORMAT,
        "node '%s' (SeProject): bad activation", n->name);
  seg_value *y = &v[n->out[0]];
  y->dtype = SEG_DT_F32;
  y->rank = 4;
  memcpy (y->dims, x->dims, sizeof y->dims);
  y->dims[3] = cout;
  if (seg_shape_elements (4, y->dims) < 0
      || seg_shape_elements (4, x->dims) < 0)
    return seg_fail (err, SEG_ERR_SHAPE,
        "node '%s' (SeProject): tensor too "
        "large",
        n->name);
  if (n->in[4] >= 0) {
    const seg_value *r = &v[n->in[4]];
    if (r->rank != 4 || r->dtype != SEG_DT_F32
        || memcmp (r->dims, y->dims, 4 * sizeof y->dims[0]))
      return seg_fail (err, SEG_ERR_SHAPE,
          "node '%s' (SeProject): residual must have the output's shape",
          n->name);
  }
  if (n->nin > 5 && n->in[5] >= 0) {
    const seg_value *r = &v[n->in[5]];
    if (r->rank != 4 || r->dtype != SEG_DT_F32
        || memcmp (r->dims, x->dims, 4 * sizeof x->dims[0]))
      return seg_fail (err, SEG_ERR_SHAPE,
          "node '%s' (SeProject): addend must have the input's shape", n->name);
  }
  plan->macs = (uint64_t) x->dims[0] * x->dims[1] * x->dims[2] * cin * cout;
  plan->scratch_bytes = (size_t) TILE_PIXELS * cin * sizeof (float);
  return SEG_OK;
}

typedef struct
{
  const se_packed *p;
  const seg_run_ctx *ctx;
  const float *x, *gate, *res, *add;
  float *y;
  size_t pixels; /* per batch item */
  size_t tiles;  /* GEMM row tiles per batch item */
  size_t parts;  /* tasks per batch item */
  seg_f32_act_params act, act_r;
} se_job;

/* Pixels [p0, p0 + np) of batch item b: at most TILE_PIXELS. */
static void
se_tile (const se_job *j, float *a, size_t b, size_t p0, size_t np)
{
  const se_packed *p = j->p;
  const seg_f32_kernels *k = p->k;
  size_t cin = p->cin, cout = p->cout;
  const float *x = j->x + (b * j->pixels + p0) * cin;
  const float *gate = j->gate + b * cin;
  if (j->add) {
    /* The product is rounded before the add, as the Mul stored it. */
    const float *r = j->add + (b * j->pixels + p0) * cin;
    for (size_t i = 0; i < np; i++)
      for (size_t c = 0; c < cin; c++) {
        float m = x[i * cin + c] * gate[c];
        a[i * cin + c] = m + r[i * cin + c];
      }
  } else {
    for (size_t i = 0; i < np; i++)
      for (size_t c = 0; c < cin; c++)
        a[i * cin + c] = x[i * cin + c] * gate[c];
  }
  float *y = j->y + (b * j->pixels + p0) * cout;
  for (size_t i = 0; i < np; i += k->gemm_mr)
    k->gemm (np - i < k->gemm_mr ? np - i : k->gemm_mr, cout, cin, a + i * cin,
        cin, p->w, y + i * cout, cout, &j->act);
  if (j->res) {
    const float *r = j->res + (b * j->pixels + p0) * cout;
    for (size_t i = 0; i < np * cout; i++)
      y[i] += r[i];
    seg_f32_act_apply (&j->act_r, y, np * cout);
  }
}

/* A task is a run of whole GEMM row tiles, gated and projected
 * TILE_PIXELS at a time. */
static void
se_task (void *data, size_t task, int thread)
{
  const se_job *j = data;
  size_t mr = j->p->k->gemm_mr, most = TILE_PIXELS / mr * mr;
  float *a = (float *) (void *) (j->ctx->scratch
      + (size_t) thread * j->ctx->scratch_stride);
  size_t b = task / j->parts, part = task % j->parts;
  size_t p0 = part * j->tiles / j->parts * mr;
  size_t p1 = (part + 1) * j->tiles / j->parts * mr;
  if (p1 > j->pixels)
    p1 = j->pixels;
  for (; p0 < p1; p0 += most)
    se_tile (j, a, b, p0, p1 - p0 < most ? p1 - p0 : most);
}

static void
se_run (const seg_node *n, const seg_value *v, const seg_node_plan *plan,
    const seg_run_ctx *ctx)
{
  const seg_value *x = &v[n->in[0]];
  const seg_attrs *a = &n->a;
  se_job j = {
      .p = n->packed,
      .ctx = ctx,
      .x = x->data,
      .gate = v[n->in[1]].data,
      .res = n->in[4] >= 0 ? v[n->in[4]].data : NULL,
      .add = n->nin > 5 && n->in[5] >= 0 ? v[n->in[5]].data : NULL,
      .y = v[n->out[0]].data,
      .pixels = (size_t) x->dims[1] * x->dims[2],
      .act = {a->act, a->act_a, a->act_b},
      .act_r = {a->irb_act[2], a->irb_act_a[2], a->irb_act_b[2]},
  };
  /* Equal runs of row tiles, as few per thread as keep a task within
   * TASK_TILES and a multiple of the thread count, so that the last round
   * does not leave a thread idle. */
  size_t mr = j.p->k->gemm_mr;
  size_t threads = (size_t) seg_threadpool_threads (ctx->pool);
  j.tiles = (j.pixels + mr - 1) / mr;
  j.parts =
      (j.tiles + threads * TASK_TILES - 1) / (threads * TASK_TILES) * threads;
  if (j.parts > j.tiles)
    j.parts = j.tiles;
  seg_threadpool_run (ctx->pool, se_task, &j, (size_t) x->dims[0] * j.parts);
}

const seg_op_vtable seg_op_se_project = {
    .infer = se_infer,
    .pack = se_pack,
    .run = se_run,
};
