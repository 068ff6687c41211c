/* Convolution (ONNX Conv, TFLite CONV_2D and DEPTHWISE_CONV_2D) on NHWC
 * activations. Weights are packed once for one of three paths: depthwise
 * convs (one input and one output channel per group) run through a per-row
 * indirection buffer; pointwise convs without padding run as a GEMM straight
 * on the activation rows; everything else (the 3-channel stem, grouped or
 * padded kxk convs) gathers a chunk of output pixels' receptive fields into
 * thread scratch (im2col) and runs the same GEMM on it. Bias and the fused
 * activation are applied in the kernels' epilogues.
 */
#include <stdlib.h>
#include <string.h>

#include "kernels/kernels.h"
#include "ops-impl.h"

/* Below this many multiply-adds per task, splitting a GEMM across threads
 * costs more in wake-ups than it gains. */
#define MIN_TASK_MACS 65536

typedef struct {
  int out_ch, cin_g, kh, kw;
} conv_geom;

typedef struct {
  const seg_f32_kernels *k;
  conv_geom geo;
  int groups;
  bool depthwise;
  size_t group_stride; /* floats between two groups' GEMM panels */
  float *w;
  float *zero; /* depthwise: out_ch zeros standing in for padding */
} conv_packed;

/* Reads the weight shape for the node's layout and checks it against the
 * attributes. Used by pack (graph tensor) and infer (session value). */
static seg_status
conv_geometry (const seg_node *n, seg_dtype dtype, int rank,
    const int64_t *dims, conv_geom *geo, seg_err *err)
{
  const seg_attrs *a = &n->a;
  if (rank != 4)
    return seg_fail (err, SEG_ERR_FORMAT,
        "node '%s' (Conv): weights have rank %d, expected 4", n->name, rank);
  if (dtype != SEG_DT_F32)
    return seg_fail (err, SEG_ERR_UNSUPPORTED,
        "node '%s' (Conv): weights are %s, expected float32", n->name,
        seg_dtype_name (dtype));
  for (int i = 0; i < 4; i++)
    if (dims[i] < 1 || dims[i] > SEG_MAX_DIM)
      return seg_fail (err, SEG_ERR_FORMAT,
          "node '%s' (Conv): weight dim %d = %lld out of range", n->name, i,
          (long long) dims[i]);
  switch (a->wlayout) {
    case SEG_WL_OIHW:
      *geo = (conv_geom) { (int) dims[0], (int) dims[1], (int) dims[2],
        (int) dims[3] };
      break;
    case SEG_WL_OHWI:
      *geo = (conv_geom) { (int) dims[0], (int) dims[3], (int) dims[1],
        (int) dims[2] };
      break;
    case SEG_WL_1HWO:
      if (dims[0] != 1)
        return seg_fail (err, SEG_ERR_FORMAT,
            "node '%s' (Conv): depthwise weights have dim 0 = %lld, expected 1",
            n->name, (long long) dims[0]);
      *geo = (conv_geom) { (int) dims[3], 1, (int) dims[1], (int) dims[2] };
      break;
    default:
      return seg_fail (err, SEG_ERR_UNSUPPORTED,
          "node '%s' (Conv): weight layout %d not supported", n->name,
          (int) a->wlayout);
  }
  if (seg_shape_elements (4, dims) < 0)
    return seg_fail (err, SEG_ERR_FORMAT, "node '%s' (Conv): weights too large",
        n->name);
  if (a->groups < 1 || geo->out_ch % a->groups != 0)
    return seg_fail (err, SEG_ERR_FORMAT,
        "node '%s' (Conv): groups %d does not divide %d output channels",
        n->name, a->groups, geo->out_ch);
  if ((a->kernel[0] != 0 || a->kernel[1] != 0)
      && (a->kernel[0] != geo->kh || a->kernel[1] != geo->kw))
    return seg_fail (err, SEG_ERR_FORMAT,
        "node '%s' (Conv): kernel_shape %dx%d does not match weights %dx%d",
        n->name, a->kernel[0], a->kernel[1], geo->kh, geo->kw);
  for (int i = 0; i < 2; i++) {
    if (a->stride[i] < 1 || a->stride[i] > SEG_MAX_DIM)
      return seg_fail (err, SEG_ERR_FORMAT,
          "node '%s' (Conv): stride %d out of range", n->name, a->stride[i]);
    if (a->dilation[i] < 1 || a->dilation[i] > SEG_MAX_DIM)
      return seg_fail (err, SEG_ERR_FORMAT,
          "node '%s' (Conv): dilation %d out of range", n->name,
          a->dilation[i]);
  }
  if (a->pad_mode == SEG_PAD_EXPLICIT) {
    for (int i = 0; i < 4; i++)
      if (a->pads[i] < 0 || a->pads[i] > SEG_MAX_DIM)
        return seg_fail (err, SEG_ERR_FORMAT,
            "node '%s' (Conv): pad %d out of range", n->name, a->pads[i]);
  } else if (a->pad_mode != SEG_PAD_SAME_UPPER
      && a->pad_mode != SEG_PAD_SAME_LOWER && a->pad_mode != SEG_PAD_VALID) {
    return seg_fail (err, SEG_ERR_FORMAT, "node '%s' (Conv): bad pad mode %d",
        n->name, (int) a->pad_mode);
  }
  if ((unsigned) a->act > SEG_ACT_SIGMOID)
    return seg_fail (err, SEG_ERR_FORMAT,
        "node '%s' (Conv): bad fused activation %d", n->name, (int) a->act);
  return SEG_OK;
}

static bool
is_depthwise (const conv_geom *geo, int groups)
{
  return geo->cin_g == 1 && geo->out_ch == groups;
}

static int
bias_index (const seg_node *n)
{
  return n->nin > 2 ? n->in[2] : -1;
}

static void
conv_packed_free (void *data)
{
  conv_packed *p = data;
  if (!p)
    return;
  free (p->w);
  free (p->zero);
  free (p);
}

static seg_status
conv_pack (seg_node *n, const seg_graph *g, seg_err *err)
{
  if (n->nin < 2 || n->in[0] < 0 || n->in[1] < 0 || n->in[1] >= g->ntensors)
    return seg_fail (err, SEG_ERR_FORMAT, "node '%s' (Conv): missing weights",
        n->name);
  const seg_tensor *wt = &g->tensors[n->in[1]];
  conv_geom geo;
  seg_status st = conv_geometry (n, wt->dtype, wt->rank, wt->dims, &geo, err);
  if (st != SEG_OK)
    return st;
  size_t taps = (size_t) geo.kh * geo.kw;
  size_t kc = taps * geo.cin_g;
  size_t count = (size_t) geo.out_ch * kc;
  if (!wt->data || wt->nbytes < count * sizeof (float))
    return seg_fail (err, SEG_ERR_UNSUPPORTED,
        "node '%s' (Conv): weights '%s' are not a float32 constant", n->name,
        wt->name);
  const float *bias = NULL;
  int bi = bias_index (n);
  if (bi >= 0) {
    const seg_tensor *bt = bi < g->ntensors ? &g->tensors[bi] : NULL;
    if (!bt || bt->dtype != SEG_DT_F32 || bt->rank != 1
        || bt->dims[0] != geo.out_ch || !bt->data
        || bt->nbytes < (size_t) geo.out_ch * sizeof (float))
      return seg_fail (err, SEG_ERR_FORMAT,
          "node '%s' (Conv): bias is not a float32 constant of %d values",
          n->name, geo.out_ch);
    bias = bt->data;
  }

  /* Bring every layout to [O][KH][KW][I/g]: one output channel's taps
   * contiguous, in the order im2col gathers them. */
  const float *w = wt->data;
  float *ohwi = NULL;
  if (n->a.wlayout != SEG_WL_OHWI) {
    ohwi = malloc (count * sizeof *ohwi);
    if (!ohwi)
      return seg_fail (err, SEG_ERR_NOMEM, "node '%s' (Conv): out of memory",
          n->name);
    for (size_t o = 0; o < (size_t) geo.out_ch; o++)
      for (size_t t = 0; t < taps; t++)
        for (size_t ci = 0; ci < (size_t) geo.cin_g; ci++)
          ohwi[(o * taps + t) * geo.cin_g + ci] = n->a.wlayout == SEG_WL_OIHW
              ? w[(o * geo.cin_g + ci) * taps + t]
              : w[t * geo.out_ch + o];
    w = ohwi;
  }

  conv_packed *p = calloc (1, sizeof *p);
  if (!p)
    goto nomem;
  p->k = seg_f32_kernels_get ();
  p->geo = geo;
  p->groups = n->a.groups;
  p->depthwise = is_depthwise (&geo, n->a.groups);
  if (p->depthwise) {
    p->w = seg_f32_alloc ((1 + taps) * geo.out_ch);
    p->zero = calloc ((size_t) geo.out_ch, sizeof (float));
    if (!p->w || !p->zero)
      goto nomem;
    seg_f32_dwconv_pack (geo.out_ch, taps, w, bias, p->w);
  } else {
    size_t cout_g = geo.out_ch / p->groups;
    size_t nr = p->k->gemm_nr;
    p->group_stride = seg_f32_gemm_packed_size (nr, cout_g, kc);
    p->w = seg_f32_alloc (p->group_stride * p->groups);
    if (!p->w)
      goto nomem;
    for (size_t gi = 0; gi < (size_t) p->groups; gi++)
      seg_f32_gemm_pack (nr, cout_g, kc, w + gi * cout_g * kc, kc,
          bias ? bias + gi * cout_g : NULL, p->w + gi * p->group_stride);
  }
  free (ohwi);
  if (n->packed_free)
    n->packed_free (n->packed);
  n->packed = p;
  n->packed_free = conv_packed_free;
  return SEG_OK;

nomem:
  free (ohwi);
  conv_packed_free (p);
  return seg_fail (err, SEG_ERR_NOMEM, "node '%s' (Conv): out of memory",
      n->name);
}

/* Output size and resolved padding along one axis; 0 when the kernel does
 * not fit the padded input. */
static int64_t
conv_axis (seg_pad_mode mode, int64_t in, int64_t k, int64_t s, int64_t d,
    int explicit_begin, int explicit_end, int *begin, int *end)
{
  int64_t extent = (k - 1) * d + 1;
  int64_t pb = 0, pe = 0;
  if (mode == SEG_PAD_EXPLICIT) {
    pb = explicit_begin;
    pe = explicit_end;
  } else if (mode == SEG_PAD_SAME_UPPER || mode == SEG_PAD_SAME_LOWER) {
    int64_t total = ((in + s - 1) / s - 1) * s + extent - in;
    if (total < 0)
      total = 0;
    pb = mode == SEG_PAD_SAME_UPPER ? total / 2 : total - total / 2;
    pe = total - pb;
  }
  if (pb > SEG_MAX_DIM || pe > SEG_MAX_DIM || in + pb + pe < extent)
    return 0;
  *begin = (int) pb;
  *end = (int) pe;
  return (in + pb + pe - extent) / s + 1;
}

static bool
use_im2col (const conv_geom *geo, const int *pads)
{
  return geo->kh != 1 || geo->kw != 1 || pads[0] || pads[1] || pads[2]
      || pads[3];
}

static seg_status
conv_infer (const seg_node *n, seg_value *v, seg_node_plan *plan,
    seg_err *err)
{
  if (n->nin < 2 || n->in[0] < 0 || n->in[1] < 0 || n->nout < 1)
    return seg_fail (err, SEG_ERR_FORMAT,
        "node '%s' (Conv): needs an input and weights", n->name);
  const seg_value *x = &v[n->in[0]];
  const seg_value *wv = &v[n->in[1]];
  const seg_attrs *a = &n->a;
  conv_geom geo;
  seg_status st = conv_geometry (n, wv->dtype, wv->rank, wv->dims, &geo, err);
  if (st != SEG_OK)
    return st;
  if (x->rank != 4 || x->dtype != SEG_DT_F32)
    return seg_fail (err, SEG_ERR_UNSUPPORTED,
        "node '%s' (Conv): input must be a rank-4 float32 tensor", n->name);
  for (int i = 0; i < 4; i++)
    if (x->dims[i] < 1)
      return seg_fail (err, SEG_ERR_SHAPE,
          "node '%s' (Conv): input dim %d is %lld", n->name, i,
          (long long) x->dims[i]);
  if (x->dims[3] != (int64_t) geo.cin_g * a->groups)
    return seg_fail (err, SEG_ERR_SHAPE,
        "node '%s' (Conv): input has %lld channels, weights expect %d x %d "
        "groups", n->name, (long long) x->dims[3], geo.cin_g, a->groups);
  int bi = bias_index (n);
  if (bi >= 0) {
    const seg_value *b = &v[bi];
    if (b->dtype != SEG_DT_F32 || b->rank != 1 || b->dims[0] != geo.out_ch)
      return seg_fail (err, SEG_ERR_FORMAT,
          "node '%s' (Conv): bias must be %d float32 values", n->name,
          geo.out_ch);
  }

  int pads[4];
  int64_t oh = conv_axis (a->pad_mode, x->dims[1], geo.kh, a->stride[0],
      a->dilation[0], a->pads[0], a->pads[2], &pads[0], &pads[2]);
  int64_t ow = conv_axis (a->pad_mode, x->dims[2], geo.kw, a->stride[1],
      a->dilation[1], a->pads[1], a->pads[3], &pads[1], &pads[3]);
  if (oh < 1 || ow < 1)
    return seg_fail (err, SEG_ERR_SHAPE,
        "node '%s' (Conv): %dx%d kernel (dilation %dx%d) does not fit the "
        "%lldx%lld input", n->name, geo.kh, geo.kw, a->dilation[0],
        a->dilation[1], (long long) x->dims[1], (long long) x->dims[2]);
  seg_value *y = &v[n->out[0]];
  y->dtype = SEG_DT_F32;
  y->rank = 4;
  y->dims[0] = x->dims[0];
  y->dims[1] = oh;
  y->dims[2] = ow;
  y->dims[3] = geo.out_ch;
  if (oh > SEG_MAX_DIM || ow > SEG_MAX_DIM
      || seg_shape_elements (4, y->dims) < 0)
    return seg_fail (err, SEG_ERR_SHAPE, "node '%s' (Conv): output too large",
        n->name);

  memcpy (plan->pads, pads, sizeof pads);
  size_t taps = (size_t) geo.kh * geo.kw;
  plan->macs = (uint64_t) x->dims[0] * oh * ow * geo.out_ch * taps * geo.cin_g;
  if (is_depthwise (&geo, a->groups))
    plan->scratch_bytes = (size_t) ow * taps * sizeof (const float *);
  else if (use_im2col (&geo, pads))
    plan->scratch_bytes = seg_f32_im2col_pixels (taps * geo.cin_g, ow)
        * taps * geo.cin_g * sizeof (float);
  else
    plan->scratch_bytes = 0;
  return SEG_OK;
}

/* Everything a task needs; tasks are output rows or GEMM tiles. */
typedef struct {
  const conv_packed *p;
  const seg_run_ctx *ctx;
  const float *in;
  float *out;
  size_t n, h, w, cin;    /* input */
  size_t oh, ow, cout;    /* output */
  size_t sh, sw, dh, dw, pt, pl;
  size_t kc, cout_g;
  seg_f32_act_params act;
  /* flat GEMM split: m_parts row ranges x n_parts panel ranges */
  size_t m, m_parts, n_parts;
} conv_job;

/* One group's GEMM over m rows of A (stride a_stride) into C, for panels
 * [panel0, panel1) of the group's output channels. */
static void
gemm_group (const conv_job *j, size_t g, const float *a, size_t a_stride,
    size_t m, float *c, size_t c_stride, size_t panel0, size_t panel1)
{
  const seg_f32_kernels *k = j->p->k;
  size_t mr = k->gemm_mr, nr = k->gemm_nr;
  size_t col0 = panel0 * nr;
  size_t col1 = panel1 * nr < j->cout_g ? panel1 * nr : j->cout_g;
  if (col0 >= col1)
    return;
  const float *w = j->p->w + g * j->p->group_stride + panel0 * nr * (j->kc + 1);
  c += g * j->cout_g + col0;
  for (size_t i = 0; i < m; i += mr)
    k->gemm (m - i < mr ? m - i : mr, col1 - col0, j->kc, a + i * a_stride,
        a_stride, w, c + i * c_stride, c_stride, &j->act);
}

static size_t
panel_count (const conv_job *j)
{
  return (j->cout_g + j->p->k->gemm_nr - 1) / j->p->k->gemm_nr;
}

/* Pointwise, stride 1, no padding: the activation is an [N*H*W x Cin]
 * matrix; a task is a range of row tiles times a range of panels. */
static void
flat_task (void *data, size_t task, int thread)
{
  const conv_job *j = data;
  size_t mr = j->p->k->gemm_mr;
  size_t tiles = (j->m + mr - 1) / mr, panels = panel_count (j);
  size_t im = task / j->n_parts, in = task % j->n_parts;
  size_t r0 = im * tiles / j->m_parts * mr;
  size_t r1 = (im + 1) * tiles / j->m_parts * mr;
  if (r1 > j->m)
    r1 = j->m;
  if (r0 >= r1)
    return;
  size_t p0 = in * panels / j->n_parts, p1 = (in + 1) * panels / j->n_parts;
  for (size_t g = 0; g < (size_t) j->p->groups; g++)
    gemm_group (j, g, j->in + r0 * j->cin + g * j->kc, j->cin, r1 - r0,
        j->out + r0 * j->cout, j->cout, p0, p1);
}

/* Pointwise with a stride: one output row reads every sw-th input pixel of
 * every sh-th input row. */
static void
strided_task (void *data, size_t task, int thread)
{
  const conv_job *j = data;
  size_t b = task / j->oh, oy = task % j->oh;
  const float *a = j->in + ((b * j->h + oy * j->sh) * j->w) * j->cin;
  float *c = j->out + task * j->ow * j->cout;
  for (size_t g = 0; g < (size_t) j->p->groups; g++)
    gemm_group (j, g, a + g * j->kc, j->sw * j->cin, j->ow, c, j->cout, 0,
        panel_count (j));
}

static void
im2col_task (void *data, size_t task, int thread)
{
  const conv_job *j = data;
  const conv_geom *geo = &j->p->geo;
  float *col = (float *) (j->ctx->scratch + (size_t) thread
      * j->ctx->scratch_stride);
  size_t b = task / j->oh, oy = task % j->oh;
  size_t chunk = seg_f32_im2col_pixels (j->kc, j->ow);
  size_t cin_g = geo->cin_g;
  float *out_row = j->out + task * j->ow * j->cout;

  for (size_t x0 = 0; x0 < j->ow; x0 += chunk) {
    size_t count = j->ow - x0 < chunk ? j->ow - x0 : chunk;
    for (size_t g = 0; g < (size_t) j->p->groups; g++) {
      float *dst = col;
      size_t kw = geo->kw, span = kw * cin_g;
      for (size_t i = 0; i < count; i++) {
        size_t ix0 = (x0 + i) * j->sw - j->pl;
        /* With one group and no dilation a kernel row's taps are one
         * contiguous run of input (the 3-channel stem: 9 floats), copied
         * by a plain loop: a libc call per 3 floats costs more than the
         * copy. */
        bool run = j->dw == 1 && cin_g == j->cin && ix0 < j->w
            && ix0 + kw <= j->w;
        for (size_t ky = 0; ky < (size_t) geo->kh; ky++) {
          /* Unsigned wrap-around makes rows above the input fail iy < h. */
          size_t iy = oy * j->sh + ky * j->dh - j->pt;
          const float *src = iy < j->h
              ? j->in + ((b * j->h + iy) * j->w) * j->cin + g * cin_g : NULL;
          if (run && src) {
            src += ix0 * j->cin;
            for (size_t q = 0; q < span; q++)
              dst[q] = src[q];
            dst += span;
            continue;
          }
          for (size_t kx = 0; kx < kw; kx++) {
            size_t ix = ix0 + kx * j->dw;
            if (src && ix < j->w)
              memcpy (dst, src + ix * j->cin, cin_g * sizeof (float));
            else
              memset (dst, 0, cin_g * sizeof (float));
            dst += cin_g;
          }
        }
      }
      gemm_group (j, g, col, j->kc, count, out_row + x0 * j->cout, j->cout,
          0, panel_count (j));
    }
  }
}

static void
depthwise_task (void *data, size_t task, int thread)
{
  const conv_job *j = data;
  const conv_geom *geo = &j->p->geo;
  const float **ind = (const float **) (void *) (j->ctx->scratch
      + (size_t) thread * j->ctx->scratch_stride);
  size_t b = task / j->oh, oy = task % j->oh;
  size_t taps = (size_t) geo->kh * geo->kw;

  /* Kernel row by kernel row, so that the source row is looked up once;
   * pixels whose taps all fall inside the row skip the checks. With few
   * channels (MediaPipe's 16) filling the table costs as much as the
   * convolution itself. Unsigned wrap-around makes rows and columns left
   * of or above the input fail the < h and < w tests. */
  size_t kh = (size_t) geo->kh, kw = (size_t) geo->kw;
  size_t span = (kw - 1) * j->dw;
  for (size_t ky = 0; ky < kh; ky++) {
    size_t iy = oy * j->sh + ky * j->dh - j->pt;
    const float *row = iy < j->h ? j->in + (b * j->h + iy) * j->w * j->cin
        : NULL;
    for (size_t ox = 0; ox < j->ow; ox++) {
      const float **t = ind + ox * taps + ky * kw;
      size_t ix0 = ox * j->sw - j->pl;
      if (row && ix0 < j->w && ix0 + span < j->w) {
        for (size_t kx = 0; kx < kw; kx++)
          t[kx] = row + (ix0 + kx * j->dw) * j->cin;
        continue;
      }
      for (size_t kx = 0; kx < kw; kx++) {
        size_t ix = ix0 + kx * j->dw;
        t[kx] = row && ix < j->w ? row + ix * j->cin : j->p->zero;
      }
    }
  }
  j->p->k->dwconv (j->cout, j->ow, taps, ind, j->p->w,
      j->out + task * j->ow * j->cout, j->cout, &j->act);
}

static void
conv_run (const seg_node *n, const seg_value *v, const seg_node_plan *plan,
    const seg_run_ctx *ctx)
{
  const conv_packed *p = n->packed;
  const seg_value *x = &v[n->in[0]];
  const seg_value *y = &v[n->out[0]];
  conv_job j = {
    .p = p,
    .ctx = ctx,
    .in = x->data,
    .out = y->data,
    .n = x->dims[0], .h = x->dims[1], .w = x->dims[2], .cin = x->dims[3],
    .oh = y->dims[1], .ow = y->dims[2], .cout = y->dims[3],
    .sh = n->a.stride[0], .sw = n->a.stride[1],
    .dh = n->a.dilation[0], .dw = n->a.dilation[1],
    .pt = plan->pads[0], .pl = plan->pads[1],
    .kc = (size_t) p->geo.kh * p->geo.kw * p->geo.cin_g,
    .cout_g = p->geo.out_ch / p->groups,
    .act = { n->a.act, n->a.act_a, n->a.act_b },
  };
  size_t rows = j.n * j.oh;

  if (p->depthwise) {
    seg_threadpool_run (ctx->pool, depthwise_task, &j, rows);
  } else if (use_im2col (&p->geo, plan->pads)) {
    seg_threadpool_run (ctx->pool, im2col_task, &j, rows);
  } else if (j.sh != 1 || j.sw != 1) {
    seg_threadpool_run (ctx->pool, strided_task, &j, rows);
  } else {
    /* A few tasks per thread balance the load; with too few row tiles
     * (squeeze-and-excite convs on one pixel) split the channels too. A
     * job smaller than a few microseconds stays on one thread: waking the
     * others would cost more than it saves. */
    size_t threads = (size_t) seg_threadpool_threads (ctx->pool);
    size_t want = threads * 4;
    if (want > plan->macs / MIN_TASK_MACS)
      want = plan->macs / MIN_TASK_MACS;
    if (threads == 1 || want < 1)
      want = 1;
    size_t tiles = (rows * j.ow + p->k->gemm_mr - 1) / p->k->gemm_mr;
    j.m = rows * j.ow;
    j.m_parts = tiles < want ? tiles : want;
    j.n_parts = 1;
    if (p->groups == 1 && j.m_parts < want) {
      size_t panels = panel_count (&j);
      j.n_parts = (want + j.m_parts - 1) / j.m_parts;
      if (j.n_parts > panels)
        j.n_parts = panels;
    }
    seg_threadpool_run (ctx->pool, flat_task, &j, j.m_parts * j.n_parts);
  }
}

const seg_op_vtable seg_op_conv = {
  .infer = conv_infer,
  .pack = conv_pack,
  .run = conv_run,
};
