/* Sessions: plan once per input size, then run without allocating.
 *
 * Planning walks the graph in order. Nodes whose inputs are all known at
 * plan time (constants, or values computed from tensor shapes, such as the
 * Shape/Slice/Concat chains torch emits for `interpolate`) are evaluated
 * here and never again; the rest form the per-frame execution list. Every
 * activation then gets an arena offset: tensors whose lifetimes (first write
 * to last read in that list) do not overlap share memory, placed largest
 * first at the lowest offset that fits (the greedy-by-size heuristic TFLite's
 * arena planner popularised; near-optimal for chain-like CNN graphs). A
 * hostile graph with thousands of activations gets them unshared instead,
 * in linear time (place_apart).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "model.h"
#include "postprocess.h"
#include "preprocess.h"
#include "threadpool.h"

#define ALIGN 64
/* Activations past which the arena is not shared (place_apart): 20 times
 * what any model we run has. */
#define MAX_SHARED_SLOTS 4096

struct seg_session
{
  const seg_model *model;
  const seg_graph *g;
  seg_value *v;
  seg_node_plan *plans;
  int *exec;
  int nexec;
  uint8_t *arena;
  size_t arena_bytes;
  uint8_t *scratch;
  size_t scratch_stride;
  seg_threadpool *pool;
  seg_preprocess_plan pre; /* per frame geometry, see run_frame */
  int in_t, out_t;
  uint64_t macs;
};

static size_t
align_up (size_t x)
{
  return (x + ALIGN - 1) & ~(size_t) (ALIGN - 1);
}

void
seg_values_clear (seg_value *v, int n)
{
  for (int i = 0; i < n; i++) {
    if (v[i].kind == SEG_VAL_STATIC)
      free (v[i].data);
    memset (&v[i], 0, sizeof v[i]);
  }
}

static bool
value_known (const seg_value *x)
{
  return x->kind == SEG_VAL_CONST || x->kind == SEG_VAL_STATIC;
}

seg_status
seg_plan_shapes (const seg_graph *g, int height, int width, seg_value *v,
    seg_node_plan *plans, int *exec, int *nexec, seg_budget *budget,
    seg_err *err)
{
  *nexec = 0;
  for (int t = 0; t < g->ntensors; t++) {
    const seg_tensor *x = &g->tensors[t];
    memset (&v[t], 0, sizeof v[t]);
    v[t].kind = x->data ? SEG_VAL_CONST : SEG_VAL_ACT;
    v[t].dtype = x->dtype;
    v[t].rank = x->rank;
    memcpy (v[t].dims, x->dims, sizeof v[t].dims);
    v[t].data = x->data;
    v[t].nbytes = x->nbytes;
  }
  const seg_tensor *in = &g->tensors[g->inputs[0]];
  seg_value *vin = &v[g->inputs[0]];
  vin->kind = SEG_VAL_ACT;
  vin->dtype = SEG_DT_F32;
  vin->rank = 4;
  vin->dims[0] = 1;
  vin->dims[1] = height;
  vin->dims[2] = width;
  vin->dims[3] = in->dims[3];

  for (int i = 0; i < g->nnodes; i++) {
    const seg_node *n = &g->nodes[i];
    const seg_op_vtable *vt = seg_op_vtable_get (n->op);
    seg_status st;
    bool known = n->op == SEG_OP_SHAPE;
    if (!known) {
      known = true;
      for (int j = 0; j < n->nin; j++)
        if (n->in[j] >= 0 && !value_known (&v[n->in[j]]))
          known = false;
    }
    memset (&plans[i], 0, sizeof plans[i]);
    if (!vt->infer)
      return seg_fail (err, SEG_ERR_UNSUPPORTED,
          "node '%s' (%s): op not implemented", n->name, seg_op_name (n->op));
    if ((st = vt->infer (n, v, &plans[i], err)) != SEG_OK)
      return st;
    if (known && vt->eval) {
      for (int j = 0; j < n->nout; j++) {
        const seg_value *o = &v[n->out[j]];
        int64_t count = seg_shape_elements (o->rank, o->dims);
        if (count > 0 /* else eval refuses it */
            && (st = seg_budget_charge (budget,
                    (size_t) count * seg_dtype_size (o->dtype), n,
                    "its plan-time value", SEG_ERR_FORMAT, err))
                != SEG_OK)
          return st;
      }
      if ((st = vt->eval (n, v, err)) != SEG_OK)
        return st;
      for (int j = 0; j < n->nout; j++)
        v[n->out[j]].kind = SEG_VAL_STATIC;
      continue;
    }
    if (!vt->run)
      return seg_fail (err, SEG_ERR_UNSUPPORTED,
          "node '%s' (%s): runs on activations, which segd does not support",
          n->name, seg_op_name (n->op));
    for (int j = 0; j < n->nout; j++) {
      seg_value *o = &v[n->out[j]];
      int64_t count = seg_shape_elements (o->rank, o->dims);
      if (o->dtype != SEG_DT_F32 || count <= 0)
        return seg_fail (err, SEG_ERR_SHAPE,
            "node '%s' (%s): output %d has %s type or %lld elements", n->name,
            seg_op_name (n->op), j, seg_dtype_name (o->dtype),
            (long long) count);
      o->kind = SEG_VAL_ACT;
      o->nbytes = (size_t) count * sizeof (float);
    }
    exec[(*nexec)++] = i;
  }
  const seg_value *out = &v[g->outputs[0]];
  if (out->kind != SEG_VAL_ACT || out->rank != 4)
    return seg_fail (err, SEG_ERR_UNSUPPORTED,
        "graph output must be a rank-4 activation (has rank %d)", out->rank);
  vin->nbytes = (size_t) seg_shape_elements (4, vin->dims) * sizeof (float);
  return SEG_OK;
}

typedef struct
{
  int t;
  int first, last;
  size_t size, offset;
} slot;

static int
by_size_desc (const void *a, const void *b)
{
  const slot *x = a, *y = b;
  if (x->size != y->size)
    return x->size < y->size ? 1 : -1;
  return x->t - y->t;
}

/* Largest first, each at the lowest offset where it overlaps no placed
 * slot that is live at the same time; returns the arena size. Each slot
 * is compared with every slot placed before it, cubic at worst: right for
 * the few hundred activations of real models, not for a hostile file's
 * 10^5 (one with 20k tensors live at once did not finish). */
static size_t
place_greedy (slot *slots, int nslots)
{
  qsort (slots, (size_t) nslots, sizeof *slots, by_size_desc);
  size_t total = 0;
  for (int i = 0; i < nslots; i++) {
    /* Candidate offsets: 0 and the end of every placed, overlapping slot;
     * take the lowest that collides with none of them. */
    size_t best = SIZE_MAX;
    for (int c = -1; c < i; c++) {
      size_t off;
      if (c >= 0) {
        if (slots[c].last < slots[i].first || slots[i].last < slots[c].first)
          continue;
        off = slots[c].offset + slots[c].size;
      } else {
        off = 0;
      }
      if (off >= best)
        continue;
      bool fits = true;
      for (int p = 0; p < i && fits; p++) {
        if (slots[p].last < slots[i].first || slots[i].last < slots[p].first)
          continue;
        if (off < slots[p].offset + slots[p].size
            && slots[p].offset < off + slots[i].size)
          fits = false;
      }
      if (fits)
        best = off;
    }
    slots[i].offset = best;
    if (best + slots[i].size > total)
      total = best + slots[i].size;
  }
  return total;
}

/* Past MAX_SHARED_SLOTS: every slot its own range, in one pass; the
 * memory budget bounds the sum (SIZE_MAX when it overflows). */
static size_t
place_apart (slot *slots, int nslots)
{
  size_t total = 0;
  for (int i = 0; i < nslots; i++) {
    slots[i].offset = total;
    total =
        total <= SIZE_MAX - slots[i].size ? total + slots[i].size : SIZE_MAX;
  }
  return total;
}

/* Assigns arena offsets to every activation and allocates the arena,
 * once the budget allows its size. */
static seg_status
plan_memory (seg_session *s, seg_budget *budget, seg_err *err)
{
  const seg_graph *g = s->g;
  int *first = malloc ((size_t) g->ntensors * sizeof *first);
  int *last = malloc ((size_t) g->ntensors * sizeof *last);
  slot *slots = calloc ((size_t) g->ntensors, sizeof *slots);
  seg_status st = SEG_OK;
  if (!first || !last || !slots) {
    st = seg_fail (err, SEG_ERR_NOMEM, "out of memory planning the arena");
    goto out;
  }
  for (int t = 0; t < g->ntensors; t++)
    first[t] = last[t] = -2;
  first[s->in_t] = last[s->in_t] = -1;
  for (int k = 0; k < s->nexec; k++) {
    const seg_node *n = &g->nodes[s->exec[k]];
    for (int j = 0; j < n->nin; j++) {
      int t = n->in[j];
      if (t >= 0 && s->v[t].kind == SEG_VAL_ACT)
        last[t] = k;
    }
    for (int j = 0; j < n->nout; j++)
      first[n->out[j]] = last[n->out[j]] = k;
  }
  last[s->out_t] = s->nexec;

  int nslots = 0;
  for (int t = 0; t < g->ntensors; t++) {
    if (s->v[t].kind != SEG_VAL_ACT || first[t] == -2)
      continue;
    slots[nslots++] =
        (slot){t, first[t], last[t], align_up (s->v[t].nbytes), 0};
  }
  size_t total = nslots > MAX_SHARED_SLOTS ? place_apart (slots, nslots)
                                           : place_greedy (slots, nslots);

  const seg_value *in = &s->v[s->in_t];
  char what[96];
  snprintf (what, sizeof what, "the activation arena for a %lldx%lld input",
      (long long) in->dims[2], (long long) in->dims[1]);
  if ((st = seg_budget_charge (budget, total, NULL, what, SEG_ERR_SHAPE, err))
      != SEG_OK)
    goto out;
  s->arena_bytes = total;
  s->arena = total ? aligned_alloc (ALIGN, total) : NULL;
  if (total && !s->arena) {
    st = seg_fail (err, SEG_ERR_NOMEM, "cannot allocate a %zu-byte arena",
        total);
    goto out;
  }
  for (int i = 0; i < nslots; i++)
    s->v[slots[i].t].data = s->arena + slots[i].offset;

out:
  free (first);
  free (last);
  free (slots);
  return st;
}

/* Drops a trailing bilinear half-pixel Resize from the execution list and
 * makes its input the session output. postprocess.h samples exactly as that
 * Resize would, so masks come out the same. */
static void
skip_final_resize (seg_session *s)
{
  if (s->nexec < 1)
    return;
  const seg_node *n = &s->g->nodes[s->exec[s->nexec - 1]];
  if (n->op != SEG_OP_RESIZE || n->out[0] != s->out_t
      || n->a.act != SEG_ACT_NONE
      || (n->a.coord != SEG_COORD_HALF_PIXEL
          && n->a.coord != SEG_COORD_PYTORCH_HALF_PIXEL))
    return;
  const seg_value *in = &s->v[n->in[0]];
  /* pytorch_half_pixel differs from half_pixel only for a 1-pixel output */
  if (in->kind != SEG_VAL_ACT || in->rank != 4 || n->in[0] == s->in_t
      || s->v[s->out_t].dims[1] < 2 || s->v[s->out_t].dims[2] < 2)
    return;
  s->out_t = n->in[0];
  s->nexec--;
}

static char *
dup_error (const char *name, const seg_err *e)
{
  size_t len = strlen (name) + strlen (e->msg) + 3;
  char *m = malloc (len);
  if (m)
    snprintf (m, len, "%s: %s", name, e->msg);
  return m;
}

seg_status
seg_session_new (const seg_model *model, const seg_session_options *options,
    seg_session **session, char **error)
{
  seg_err err = {""};
  seg_status st;
  const seg_graph *g;
  int height, width, threads;

  if (error)
    *error = NULL;
  if (!session)
    return SEG_ERR_INVALID;
  *session = NULL;
  if (!model) {
    if (error)
      *error = strdup ("no model given");
    return SEG_ERR_INVALID;
  }
  g = model->g;
  height = options && options->input_height > 0 ? options->input_height
                                                : model->declared_h;
  width = options && options->input_width > 0 ? options->input_width
                                              : model->declared_w;
  threads = options && options->threads > 1 ? options->threads : 1;
  /* Callers ask for one thread per CPU (the element's threads=0); a host
   * with more CPUs than the pool takes must still run models, so the count
   * is capped, not refused. */
  if (threads > SEG_MAX_THREADS)
    threads = SEG_MAX_THREADS;
  if (height <= 0 || width <= 0 || height > 8192 || width > 8192) {
    seg_fail (&err, SEG_ERR_INVALID,
        "session input size %dx%d out of range (the model declares %dx%d)",
        width, height, model->declared_w, model->declared_h);
    st = SEG_ERR_INVALID;
    goto fail_early;
  }
  if (!model->info.resizable
      && (height != model->declared_h || width != model->declared_w)) {
    seg_fail (&err, SEG_ERR_SHAPE,
        "the model fixes its input size to %dx%d "
        "(asked for %dx%d)",
        model->declared_w, model->declared_h, width, height);
    st = SEG_ERR_SHAPE;
    goto fail_early;
  }

  seg_session *s = calloc (1, sizeof *s);
  if (!s)
    return SEG_ERR_NOMEM;
  /* The model's budget, less what the model holds. */
  seg_budget budget = {model->memory_budget, model->memory_used};
  s->model = model;
  s->g = g;
  s->in_t = g->inputs[0];
  s->out_t = g->outputs[0];
  s->v = calloc ((size_t) g->ntensors, sizeof *s->v);
  s->plans = calloc ((size_t) g->nnodes + 1, sizeof *s->plans);
  s->exec = calloc ((size_t) g->nnodes + 1, sizeof *s->exec);
  s->pool = seg_threadpool_new (threads);
  if (!s->v || !s->plans || !s->exec || !s->pool) {
    st = seg_fail (&err, SEG_ERR_NOMEM, "out of memory");
    goto fail;
  }
  st = seg_plan_shapes (g, height, width, s->v, s->plans, s->exec, &s->nexec,
      &budget, &err);
  if (st != SEG_OK)
    goto fail;
  if (options && options->skip_final_resize)
    skip_final_resize (s);
  if ((st = plan_memory (s, &budget, &err)) != SEG_OK)
    goto fail;

  size_t scratch = 0;
  for (int k = 0; k < s->nexec; k++) {
    const seg_node_plan *p = &s->plans[s->exec[k]];
    if (p->scratch_bytes > scratch)
      scratch = p->scratch_bytes;
    s->macs += p->macs;
  }
  s->scratch_stride = align_up (scratch);
  char what[64];
  snprintf (what, sizeof what, "kernel scratch for %d threads", threads);
  if ((st = seg_budget_charge (&budget, s->scratch_stride * (size_t) threads,
           NULL, what, SEG_ERR_SHAPE, &err))
      != SEG_OK)
    goto fail;
  if (scratch) {
    s->scratch = aligned_alloc (ALIGN, s->scratch_stride * (size_t) threads);
    if (!s->scratch) {
      st = seg_fail (&err, SEG_ERR_NOMEM, "out of memory for scratch");
      goto fail;
    }
  }
  *session = s;
  return SEG_OK;

fail:
  seg_session_free (s);
fail_early:
  if (error)
    *error = dup_error (model->name, &err);
  return st;
}

void
seg_session_free (seg_session *s)
{
  if (!s)
    return;
  if (s->v)
    seg_values_clear (s->v, s->g->ntensors);
  free (s->v);
  free (s->plans);
  free (s->exec);
  free (s->arena);
  free (s->scratch);
  seg_preprocess_plan_clear (&s->pre);
  seg_threadpool_free (s->pool);
  free (s);
}

void
seg_session_get_info (const seg_session *s, seg_session_info *info)
{
  const seg_value *in = &s->v[s->in_t], *out = &s->v[s->out_t];
  memset (info, 0, sizeof *info);
  info->input_height = (int) in->dims[1];
  info->input_width = (int) in->dims[2];
  info->input_channels = (int) in->dims[3];
  info->output_height = (int) out->dims[1];
  info->output_width = (int) out->dims[2];
  info->output_channels = (int) out->dims[3];
  info->arena_bytes = s->arena_bytes;
  info->scratch_bytes =
      s->scratch_stride * (size_t) seg_threadpool_threads (s->pool);
  info->macs = s->macs;
  info->threads = seg_threadpool_threads (s->pool);
}

static void
execute (seg_session *s)
{
  seg_run_ctx ctx = {s->pool, s->scratch, s->scratch_stride};
  for (int k = 0; k < s->nexec; k++) {
    const seg_node *n = &s->g->nodes[s->exec[k]];
    seg_op_vtable_get (n->op)->run (n, s->v, &s->plans[s->exec[k]], &ctx);
  }
}

/* Interleaves three planes (an NCHW RGB row) into n NHWC pixels. The
 * scalar loop took ~1.5% of an LR-ASPP frame at 256x256; SSE2 shuffles
 * build four pixels from four floats of each plane. */
static void
interleave3 (float *restrict dst, const float *restrict r,
    const float *restrict g, const float *restrict b, size_t n)
{
  size_t x = 0;
#ifdef __SSE2__
  for (; x + 4 <= n; x += 4, dst += 12) {
    const __m128 a = _mm_loadu_ps (r + x), e = _mm_loadu_ps (g + x);
    const __m128 c = _mm_loadu_ps (b + x);
    const __m128 ae_lo = _mm_unpacklo_ps (a, e); /* a0 e0 a1 e1 */
    const __m128 ae_hi = _mm_unpackhi_ps (a, e); /* a2 e2 a3 e3 */
    const __m128 ca01 = _mm_shuffle_ps (c, a, _MM_SHUFFLE (1, 1, 0, 0));
    const __m128 ec11 = _mm_shuffle_ps (e, c, _MM_SHUFFLE (1, 1, 1, 1));
    const __m128 ca23 = _mm_shuffle_ps (c, a, _MM_SHUFFLE (3, 3, 2, 2));
    const __m128 ec33 = _mm_shuffle_ps (e, c, _MM_SHUFFLE (3, 3, 3, 3));
    _mm_storeu_ps (dst, _mm_shuffle_ps (ae_lo, ca01, _MM_SHUFFLE (2, 0, 1, 0)));
    _mm_storeu_ps (dst + 4,
        _mm_shuffle_ps (ec11, ae_hi, _MM_SHUFFLE (1, 0, 2, 0)));
    _mm_storeu_ps (dst + 8,
        _mm_shuffle_ps (ca23, ec33, _MM_SHUFFLE (2, 0, 2, 0)));
  }
#endif
  for (; x < n; x++, dst += 3) {
    dst[0] = r[x];
    dst[1] = g[x];
    dst[2] = b[x];
  }
}

seg_status
seg_session_run (seg_session *s, const float *input, size_t count)
{
  if (!s || !input)
    return SEG_ERR_INVALID;
  seg_value *in = &s->v[s->in_t];
  size_t h = (size_t) in->dims[1], w = (size_t) in->dims[2],
         c = (size_t) in->dims[3];
  if (count != h * w * c)
    return SEG_ERR_INVALID;
  float *dst = in->data;
  if (s->g->layout == SEG_LAYOUT_NCHW && c == 3) {
    for (size_t y = 0; y < h; y++)
      interleave3 (dst + y * w * 3, input + y * w, input + (h + y) * w,
          input + (2 * h + y) * w, w);
  } else if (s->g->layout == SEG_LAYOUT_NCHW) {
    for (size_t y = 0; y < h; y++)
      for (size_t x = 0; x < w; x++)
        for (size_t k = 0; k < c; k++)
          dst[(y * w + x) * c + k] = input[(k * h + y) * w + x];
  } else {
    memcpy (dst, input, count * sizeof *dst);
  }
  execute (s);
  return SEG_OK;
}

typedef struct
{
  seg_session *s;
  const seg_frame *frame;
  int rows_per_task;
} frame_job;

static void
preprocess_task (void *data, size_t task, int thread)
{
  const frame_job *job = data;
  const seg_value *in = &job->s->v[job->s->in_t];
  int h = (int) in->dims[1];
  int begin = (int) task * job->rows_per_task;
  int end = begin + job->rows_per_task < h ? begin + job->rows_per_task : h;
  (void) thread;
  seg_preprocess_plan_rows (&job->s->pre, job->frame, in->data, begin, end);
}

seg_status
seg_session_run_frame (seg_session *s, const seg_frame *frame)
{
  char msg[256];
  if (!s || !frame || seg_frame_validate (frame, msg, sizeof msg) != SEG_OK)
    return SEG_ERR_INVALID;
  const seg_value *in = &s->v[s->in_t];
  if (in->dims[3] != 3 || in->dims[1] > 4096 || in->dims[2] > 4096)
    return SEG_ERR_UNSUPPORTED;
  seg_preprocess_plan_update (&s->pre, frame, (int) in->dims[2],
      (int) in->dims[1], s->model->info.mean, s->model->info.std);
  frame_job job = {s, frame, 16};
  size_t tasks = ((size_t) in->dims[1] + 15) / 16;
  seg_threadpool_run (s->pool, preprocess_task, &job, tasks);
  execute (s);
  return SEG_OK;
}

const float *
seg_session_output (const seg_session *s, int *height, int *width,
    int *channels)
{
  const seg_value *out = &s->v[s->out_t];
  if (height)
    *height = (int) out->dims[1];
  if (width)
    *width = (int) out->dims[2];
  if (channels)
    *channels = (int) out->dims[3];
  return out->data;
}

seg_status
seg_session_copy_output (const seg_session *s, float *dst, size_t count)
{
  const seg_value *out = &s->v[s->out_t];
  size_t h = (size_t) out->dims[1], w = (size_t) out->dims[2],
         c = (size_t) out->dims[3];
  const float *src = out->data;
  if (!dst || count != h * w * c)
    return SEG_ERR_INVALID;
  if (s->g->layout == SEG_LAYOUT_NCHW) {
    for (size_t k = 0; k < c; k++)
      for (size_t y = 0; y < h; y++)
        for (size_t x = 0; x < w; x++)
          dst[(k * h + y) * w + x] = src[(y * w + x) * c + k];
  } else {
    memcpy (dst, src, count * sizeof *dst);
  }
  return SEG_OK;
}

typedef struct
{
  const seg_session *s;
  uint8_t *dst;
  int width, height, stride;
  float threshold;
  int cls;
  bool probability;
} mask_job;

#define MASK_ROWS 16

static void
mask_task (void *data, size_t task, int thread)
{
  const mask_job *job = data;
  const seg_value *out = &job->s->v[job->s->out_t];
  int begin = (int) task * MASK_ROWS;
  int end = begin + MASK_ROWS < job->height ? begin + MASK_ROWS : job->height;
  (void) thread;
  if (job->probability)
    seg_post_probability_rows (out->data, (int) out->dims[1],
        (int) out->dims[2], (int) out->dims[3], job->cls, job->dst, job->width,
        job->height, job->stride, begin, end);
  else
    seg_post_class_map_rows (out->data, (int) out->dims[1], (int) out->dims[2],
        (int) out->dims[3], job->threshold, job->dst, job->width, job->height,
        job->stride, begin, end);
}

static seg_status
make_mask (const seg_session *s, mask_job *job)
{
  if (!s || !job->dst || job->width <= 0 || job->height <= 0
      || job->width > 16384 || job->height > 16384 || job->stride < job->width)
    return SEG_ERR_INVALID;
  seg_threadpool_run (s->pool, mask_task, job,
      ((size_t) job->height + MASK_ROWS - 1) / MASK_ROWS);
  return SEG_OK;
}

seg_status
seg_session_class_map (const seg_session *s, uint8_t *dst, int width,
    int height, int stride, float threshold)
{
  mask_job job = {s, dst, width, height, stride, threshold, 0, false};
  return make_mask (s, &job);
}

seg_status
seg_session_probability (const seg_session *s, int class_index, uint8_t *dst,
    int width, int height, int stride)
{
  if (!s || class_index < 0 || class_index >= s->model->info.num_classes)
    return SEG_ERR_INVALID;
  mask_job job = {s, dst, width, height, stride, 0.5f, class_index, true};
  return make_mask (s, &job);
}
