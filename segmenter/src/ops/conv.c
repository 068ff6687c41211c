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

/* Tasks per thread of a pointwise GEMM split by panels, and by rows: two
 * rather than one let the caller make up for a worker that starts late;
 * row splits at 520x520 input were slower with fewer than four. */
#define FLAT_PANEL_TASKS 2
#define FLAT_ROW_TASKS 4

typedef struct
{
  int out_ch, cin_g, kh, kw;
} conv_geom;

typedef struct
{
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
      *geo = (conv_geom){(int) dims[0], (int) dims[1], (int) dims[2],
          (int) dims[3]};
      break;
    case SEG_WL_OHWI:
      *geo = (conv_geom){(int) dims[0], (int) dims[3], (int) dims[1],
          (int) dims[2]};
      break;
    case SEG_WL_1HWO:
      if (dims[0] != 1)
        return seg_fail (err, SEG_ERR_FORMAT,
            "node '%s' (Conv): depthwise weights have dim 0 = %lld, expected 1",
            n->name, (long long) dims[0]);
      *geo = (conv_geom){(int) dims[3], 1, (int) dims[1], (int) dims[2]};
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

int64_t
seg_conv_axis (seg_pad_mode mode, int64_t in, int64_t k, int64_t s, int64_t d,
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
  } else if (mode != SEG_PAD_VALID) {
    return 0;
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
conv_infer (const seg_node *n, seg_value *v, seg_node_plan *plan, seg_err *err)
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
        "groups",
        n->name, (long long) x->dims[3], geo.cin_g, a->groups);
  int bi = bias_index (n);
  if (bi >= 0) {
    const seg_value *b = &v[bi];
    if (b->dtype != SEG_DT_F32 || b->rank != 1 || b->dims[0] != geo.out_ch)
      return seg_fail (err, SEG_ERR_FORMAT,
          "node '%s' (Conv): bias must be %d float32 values", n->name,
          geo.out_ch);
  }

  int pads[4];
  int64_t oh = seg_conv_axis (a->pad_mode, x->dims[1], geo.kh, a->stride[0],
      a->dilation[0], a->pads[0], a->pads[2], &pads[0], &pads[2]);
  int64_t ow = seg_conv_axis (a->pad_mode, x->dims[2], geo.kw, a->stride[1],
      a->dilation[1], a->pads[1], a->pads[3], &pads[1], &pads[3]);
  if (oh < 1 || ow < 1)
    return seg_fail (err, SEG_ERR_SHAPE,
        "node '%s' (Conv): %dx%d kernel (dilation %dx%d) does not fit the "
        "%lldx%lld input",
        n->name, geo.kh, geo.kw, a->dilation[0], a->dilation[1],
        (long long) x->dims[1], (long long) x->dims[2]);
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

  if (n->nin > 3 && n->in[3] >= 0) {
    const seg_value *r = &v[n->in[3]];
    if (r->dtype != SEG_DT_F32 || r->rank != 4
        || memcmp (r->dims, y->dims, 4 * sizeof y->dims[0]))
      return seg_fail (err, SEG_ERR_SHAPE,
          "node '%s' (Conv): the fused addend must have the output's shape",
          n->name);
    if (!is_depthwise (&geo, a->groups) && use_im2col (&geo, pads))
      return seg_fail (err, SEG_ERR_UNSUPPORTED,
          "node '%s' (Conv): a fused addend needs a depthwise or unpadded "
          "1x1 conv",
          n->name);
    if ((unsigned) a->irb_act[2] > SEG_ACT_SIGMOID)
      return seg_fail (err, SEG_ERR_FORMAT,
          "node '%s' (Conv): bad activation after the addend", n->name);
  }

  memcpy (plan->pads, pads, sizeof pads);
  size_t taps = (size_t) geo.kh * geo.kw;
  plan->macs = (uint64_t) x->dims[0] * oh * ow * geo.out_ch * taps * geo.cin_g;
  if (is_depthwise (&geo, a->groups))
    plan->scratch_bytes = (size_t) ow * taps * sizeof (const float *);
  else if (use_im2col (&geo, pads))
    plan->scratch_bytes = seg_f32_im2col_pixels (taps * geo.cin_g, ow) * taps
        * geo.cin_g * sizeof (float);
  else
    plan->scratch_bytes = 0;
  return SEG_OK;
}

/* Everything a task needs; tasks are output rows or GEMM tiles. */
typedef struct
{
  const conv_packed *p;
  const seg_run_ctx *ctx;
  const float *in;
  float *out;
  size_t n, h, w, cin; /* input */
  size_t oh, ow, cout; /* output */
  size_t sh, sw, dh, dw, pt, pl;
  size_t kc, cout_g;
  seg_f32_act_params act;
  /* fused Add: output += add (same layout) after act, then act_add */
  const float *add;
  seg_f32_act_params act_add;
  /* flat GEMM split: the grid of row tiles x panels, walked tile by tile
   * or (by_panel) panel by panel, cut into `parts` equal runs */
  size_t m, tiles, panels, parts;
  bool by_panel;
} conv_job;

/* Rows of output pixels that flat_task hands the GEMM at a time before
 * adding the fused addend to them, in GEMM row tiles: small enough that
 * the rows are still in L1 when the add reads them back. */
#define ADD_TILES 8

/* The fused Add on output pixels [p0, p1), channels [c0, c1): the same
 * sums the separate Add would have computed. */
static void
add_addend (const conv_job *j, size_t p0, size_t p1, size_t c0, size_t c1)
{
  if (c0 == 0 && c1 == j->cout) {
    float *o = j->out + p0 * j->cout;
    const float *r = j->add + p0 * j->cout;
    size_t count = (p1 - p0) * j->cout;
    for (size_t i = 0; i < count; i++)
      o[i] += r[i];
    if (j->act_add.act != SEG_ACT_NONE)
      seg_f32_act_apply (&j->act_add, o, count);
    return;
  }
  for (size_t p = p0; p < p1; p++) {
    float *o = j->out + p * j->cout;
    const float *r = j->add + p * j->cout;
    for (size_t c = c0; c < c1; c++)
      o[c] += r[c];
    if (j->act_add.act != SEG_ACT_NONE)
      seg_f32_act_apply (&j->act_add, o + c0, c1 - c0);
  }
}

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
 * matrix. Row tiles [t0, t1) times panels [p0, p1) of it. */
static void
flat_block (const conv_job *j, size_t t0, size_t t1, size_t p0, size_t p1)
{
  size_t mr = j->p->k->gemm_mr;
  size_t r0 = t0 * mr, r1 = t1 * mr < j->m ? t1 * mr : j->m;
  if (r0 >= r1 || p0 >= p1)
    return;
  size_t groups = (size_t) j->p->groups;
  if (!j->add) {
    for (size_t g = 0; g < groups; g++)
      gemm_group (j, g, j->in + r0 * j->cin + g * j->kc, j->cin, r1 - r0,
          j->out + r0 * j->cout, j->cout, p0, p1);
    return;
  }
  size_t nr = j->p->k->gemm_nr, step = ADD_TILES * mr;
  size_t c0 = p0 * nr, c1 = p1 * nr < j->cout_g ? p1 * nr : j->cout_g;
  for (size_t r = r0; r < r1; r += step) {
    size_t e = r1 - r < step ? r1 : r + step;
    for (size_t g = 0; g < groups; g++)
      gemm_group (j, g, j->in + r * j->cin + g * j->kc, j->cin, e - r,
          j->out + r * j->cout, j->cout, p0, p1);
    if (groups == 1)
      add_addend (j, r, e, c0, c1);
    else
      for (size_t g = 0; g < groups; g++)
        add_addend (j, r, e, g * j->cout_g + c0, g * j->cout_g + c1);
  }
}

/* Grid rows [o0, o1) in the walk order, cells [i0, i1) of each. */
static void
flat_cells (const conv_job *j, size_t o0, size_t o1, size_t i0, size_t i1)
{
  if (j->by_panel)
    flat_block (j, i0, i1, o0, o1);
  else
    flat_block (j, o0, o1, i0, i1);
}

/* A task is the run [u0, u1) of the grid's cells in walk order: the rest
 * of one grid row, whole rows, then the start of another. Every output
 * is still one kernel call's sum over all of kc, so where the cuts fall
 * does not change any value. */
static void
flat_task (void *data, size_t task, int thread)
{
  const conv_job *j = data;
  size_t inner = j->by_panel ? j->tiles : j->panels;
  size_t cells = j->tiles * j->panels;
  size_t u0 = task * cells / j->parts, u1 = (task + 1) * cells / j->parts;
  size_t o0 = u0 / inner, i0 = u0 % inner, o1 = u1 / inner, i1 = u1 % inner;
  if (o0 == o1) {
    flat_cells (j, o0, o0 + 1, i0, i1);
    return;
  }
  if (i0) {
    flat_cells (j, o0, o0 + 1, i0, inner);
    o0++;
  }
  flat_cells (j, o0, o1, 0, inner);
  if (i1)
    flat_cells (j, o1, o1 + 1, 0, i1);
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
  if (j->add)
    add_addend (j, task * j->ow, (task + 1) * j->ow, 0, j->cout);
}

/* Gathers the receptive fields of output pixels [x0, x1) of row oy of
 * image b into col in chunks of `chunk` pixels (kc floats each, zeros for
 * padding) and runs every group's GEMM on each chunk. */
static void
im2col_span (const conv_job *j, size_t b, size_t oy, size_t x0, size_t x1,
    size_t chunk, float *col, float *out_row)
{
  const conv_geom *geo = &j->p->geo;
  size_t cin_g = geo->cin_g, kw = geo->kw, span = kw * cin_g;
  for (; x0 < x1; x0 += chunk) {
    size_t count = x1 - x0 < chunk ? x1 - x0 : chunk;
    for (size_t g = 0; g < (size_t) j->p->groups; g++) {
      float *dst = col;
      for (size_t i = 0; i < count; i++) {
        size_t ix0 = (x0 + i) * j->sw - j->pl;
        /* With one group and no dilation a kernel row's taps are one
         * contiguous run of input (the 3-channel stem: 9 floats), copied
         * by a plain loop: a libc call per 3 floats costs more than the
         * copy. */
        bool run =
            j->dw == 1 && cin_g == j->cin && ix0 < j->w && ix0 + kw <= j->w;
        for (size_t ky = 0; ky < (size_t) geo->kh; ky++) {
          /* Unsigned wrap-around makes rows above the input fail iy < h. */
          size_t iy = oy * j->sh + ky * j->dh - j->pt;
          const float *src = iy < j->h
              ? j->in + ((b * j->h + iy) * j->w) * j->cin + g * cin_g
              : NULL;
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
      gemm_group (j, g, col, j->kc, count, out_row + x0 * j->cout, j->cout, 0,
          panel_count (j));
    }
  }
}

/* Most kernel rows for which im2col_task reads windows in place. */
#define IGEMM_MAX_RUNS 16

static void
im2col_task (void *data, size_t task, int thread)
{
  const conv_job *j = data;
  const conv_geom *geo = &j->p->geo;
  const seg_f32_kernels *k = j->p->k;
  float *col =
      (float *) (j->ctx->scratch + (size_t) thread * j->ctx->scratch_stride);
  size_t b = task / j->oh, oy = task % j->oh;
  size_t chunk = seg_f32_im2col_pixels (j->kc, j->ow);
  float *out_row = j->out + task * j->ow * j->cout;
  size_t kh = geo->kh, kw = geo->kw;

  /* The stem's input frame and output rows are often not in L2 when it
   * starts; asking for the next row's lines now keeps the hardware
   * prefetcher's ramp-up at each page out of the loop (7% on a cold
   * stem). Only for narrow rows, where that is a few hundred lines. */
  size_t row_bytes = j->w * j->cin * sizeof (float);
  size_t out_bytes = j->ow * j->cout * sizeof (float);
  if (oy + 1 < j->oh && kh * row_bytes + out_bytes <= 32 * 1024) {
    for (size_t ky = 0; ky < kh; ky++) {
      size_t iy = (oy + 1) * j->sh + ky * j->dh - j->pt;
      if (iy >= j->h)
        continue;
      const char *r = (const char *) (j->in + (b * j->h + iy) * j->w * j->cin);
      for (size_t o = 0; o < row_bytes; o += 64)
        __builtin_prefetch (r + o, 0, 3);
    }
    const char *next = (const char *) (out_row + j->ow * j->cout);
    for (size_t o = 0; o < out_bytes; o += 64)
      __builtin_prefetch (next + o, 1, 3);
  }

  /* Copying the windows cost twice the GEMM on the 3-channel stem: with
   * one group and no dilation a window's kernel rows are runs of the
   * input rows, so the pixels whose windows lie inside the row, [xa, xb),
   * are read in place; only the padded edges are gathered. */
  size_t xa = 0, xb = 0;
  if (k->igemm && j->p->groups == 1 && j->dw == 1 && kh <= IGEMM_MAX_RUNS
      && j->w + j->pl >= kw) {
    xa = (j->pl + j->sw - 1) / j->sw;
    xb = (j->w + j->pl - kw) / j->sw + 1;
    if (xb > j->ow)
      xb = j->ow;
    if (xa > xb)
      xa = xb;
  }
  size_t step = j->sw * j->cin, run_len = kw * j->cin;
  /* Kernel rows in the top or bottom padding read a run of zeros in col
   * with the same step; where that does not fit, gather the whole row. */
  bool padded = false;
  for (size_t ky = 0; ky < kh; ky++)
    padded |= oy * j->sh + ky * j->dh - j->pt >= j->h;
  if (xa < xb && padded && (xb - xa - 1) * step + run_len > chunk * j->kc)
    xa = xb = 0;
  if (xa == xb) {
    im2col_span (j, b, oy, 0, j->ow, chunk, col, out_row);
    return;
  }
  im2col_span (j, b, oy, 0, xa, chunk, col, out_row);
  im2col_span (j, b, oy, xb, j->ow, chunk, col, out_row);
  if (padded)
    memset (col, 0, ((xb - xa - 1) * step + run_len) * sizeof (float));
  const float *a[IGEMM_MAX_RUNS];
  for (size_t ky = 0; ky < kh; ky++) {
    size_t iy = oy * j->sh + ky * j->dh - j->pt;
    a[ky] = iy < j->h
        ? j->in + ((b * j->h + iy) * j->w + xa * j->sw - j->pl) * j->cin
        : col;
  }
  k->igemm (xb - xa, j->cout, kh, run_len, a, step, j->p->w,
      out_row + xa * j->cout, j->cout, &j->act);
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
  size_t w = j->w, cin = j->cin, sw = j->sw, pl = j->pl, ow = j->ow;
  size_t span = (kw - 1) * j->dw, step = j->dw * cin;
  const float *zero = j->p->zero;
  const seg_f32_kernels *k = j->p->k;
  /* Where every tap of a pixel is inside the input ([xa, xb) of a row
   * whose kernel rows all are), the in-place kernel reads the rows
   * themselves: filling the table cost as much as the convolution with
   * MediaPipe's 16 channels (the selfie model's two standalone 128x128
   * depthwise convs), and it sums in the same order, so the bits agree. */
  size_t xa = ow, xb = ow;
  const float *rows[16];
  if (k->dwconv_rows && kh <= 16) {
    bool inside = true;
    for (size_t ky = 0; ky < kh && inside; ky++) {
      size_t iy = oy * j->sh + ky * j->dh - j->pt;
      inside = iy < j->h;
      rows[ky] = inside ? j->in + (b * j->h + iy) * w * cin : NULL;
    }
    if (inside && w > span) {
      xa = (pl + sw - 1) / sw;
      xb = (w - 1 - span + pl) / sw + 1;
      if (xb > ow)
        xb = ow;
      if (xa > xb)
        xa = xb;
      if (xa == xb)
        xa = xb = ow;
    }
  }
  /* Locals, not j's fields: the compiler cannot tell the table stores
   * from them and would reload every one per pixel. */
  for (size_t ky = 0; ky < kh; ky++) {
    size_t iy = oy * j->sh + ky * j->dh - j->pt;
    const float *row = iy < j->h ? j->in + (b * j->h + iy) * w * cin : NULL;
    const float **t = ind + ky * kw;
    for (size_t ox = 0; ox < ow; ox++, t += taps) {
      if (ox == xa) {
        ox = xb - 1;
        t = ind + ky * kw + ox * taps;
        continue;
      }
      size_t ix0 = ox * sw - pl;
      if (row && ix0 < w && ix0 + span < w) {
        const float *p = row + ix0 * cin;
        if (kw == 3) {
          t[0] = p;
          t[1] = p + step;
          t[2] = p + 2 * step;
        } else {
          for (size_t kx = 0; kx < kw; kx++)
            t[kx] = p + kx * step;
        }
        continue;
      }
      for (size_t kx = 0; kx < kw; kx++) {
        size_t ix = ix0 + kx * j->dw;
        t[kx] = row && ix < w ? row + ix * cin : zero;
      }
    }
  }
  float *out = j->out + task * j->ow * j->cout;
  if (xa == ow) {
    k->dwconv (j->cout, ow, taps, ind, j->p->w, out, j->cout, &j->act);
  } else {
    for (size_t ky = 0; ky < kh; ky++)
      rows[ky] += (xa * sw - pl) * cin;
    if (xa)
      k->dwconv (j->cout, xa, taps, ind, j->p->w, out, j->cout, &j->act);
    k->dwconv_rows (j->cout, xb - xa, kh, kw, rows, sw * cin, step, j->p->w,
        out + xa * j->cout, j->cout, &j->act);
    if (xb < ow)
      k->dwconv (j->cout, ow - xb, taps, ind + xb * taps, j->p->w,
          out + xb * j->cout, j->cout, &j->act);
  }
  if (j->add)
    add_addend (j, task * j->ow, (task + 1) * j->ow, 0, j->cout);
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
      .n = x->dims[0],
      .h = x->dims[1],
      .w = x->dims[2],
      .cin = x->dims[3],
      .oh = y->dims[1],
      .ow = y->dims[2],
      .cout = y->dims[3],
      .sh = n->a.stride[0],
      .sw = n->a.stride[1],
      .dh = n->a.dilation[0],
      .dw = n->a.dilation[1],
      .pt = plan->pads[0],
      .pl = plan->pads[1],
      .kc = (size_t) p->geo.kh * p->geo.kw * p->geo.cin_g,
      .cout_g = p->geo.out_ch / p->groups,
      .act = {n->a.act, n->a.act_a, n->a.act_b},
      .add = n->nin > 3 && n->in[3] >= 0 ? v[n->in[3]].data : NULL,
      .act_add = {n->a.irb_act[2], n->a.irb_act_a[2], n->a.irb_act_b[2]},
  };
  size_t rows = j.n * j.oh;

  if (p->depthwise) {
    seg_threadpool_run (ctx->pool, depthwise_task, &j, rows);
  } else if (use_im2col (&p->geo, plan->pads)) {
    seg_threadpool_run (ctx->pool, im2col_task, &j, rows);
  } else if (j.sh != 1 || j.sw != 1) {
    seg_threadpool_run (ctx->pool, strided_task, &j, rows);
  } else {
    /* Equal runs of the tile x panel grid, a few per thread: whole row
     * tiles alone left the threads up to a task apart
     * (22 tiles at 256x256 input in 8 tasks of 2 or 3). The walk goes
     * panel by panel when the weights outweigh the activation (the last
     * blocks' 1x1 convs at low resolution), so that each thread fetches
     * only its share of the weights, which come from memory once per
     * frame: with rows, both threads fetched all of them. A job smaller
     * than a few microseconds stays on one thread: waking the others
     * would cost more than it saves. Work counts whole row tiles, as the
     * kernels compute them: a one-pixel conv (squeeze-and-excite) streams
     * its weights as a full tile would, so it is worth splitting. */
    size_t threads = (size_t) seg_threadpool_threads (ctx->pool);
    j.m = rows * j.ow;
    j.tiles = (j.m + p->k->gemm_mr - 1) / p->k->gemm_mr;
    j.panels = panel_count (&j);
    uint64_t work = (uint64_t) j.tiles * p->k->gemm_mr * p->geo.out_ch * j.kc;
    j.by_panel = (uint64_t) j.kc * p->geo.out_ch >= (uint64_t) j.m * j.cin;
    size_t want = threads * (j.by_panel ? FLAT_PANEL_TASKS : FLAT_ROW_TASKS);
    if (want > work / MIN_TASK_MACS)
      want = work / MIN_TASK_MACS;
    if (want > j.tiles * j.panels)
      want = j.tiles * j.panels;
    if (want > threads)
      want -= want % threads;
    j.parts = threads == 1 || want < 1 ? 1 : want;
    seg_threadpool_run (ctx->pool, flat_task, &j, j.parts);
  }
}

const seg_op_vtable seg_op_conv = {
    .infer = conv_infer,
    .pack = conv_pack,
    .run = conv_run,
};
