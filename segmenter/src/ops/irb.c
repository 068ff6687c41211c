/* InvertedResidual: a MobileNet block (1x1 expand -> depthwise -> 1x1
 * project, optionally plus the block input) computed in bands of output
 * rows, so that the expanded tensor, the biggest in the network, never
 * exists in full. The load-time pass fuse_inverted_residuals makes these
 * nodes from three Conv nodes (and an Add), or from two where a block has
 * no expansion (depthwise -> project): then the depthwise conv reads the
 * input directly and only its output is kept from materialising. In a
 * squeeze-and-excite block the global mean needs the whole depthwise
 * output before the projection can start, so there the node is expand ->
 * depthwise only (no project inputs): the expanded tensor streams through
 * the ring and the depthwise output is the node's output, which SeProject
 * then gates and projects.
 *
 * Each task owns a contiguous range of output rows. It expands input rows
 * into a ring of R rows in its thread scratch just before the depthwise
 * conv first needs them (each row once, except the few halo rows at a
 * task boundary), runs the depthwise conv for a band of B output rows into
 * a band buffer, and projects that band straight into the output. B is
 * chosen so that ring and band buffer fit in about half of the L2 cache.
 * The kernels and their summation order are those of the unfused convs, so
 * the results are bit-identical to the unfused graph's.
 *
 * With several threads, row ranges cost the halo rows twice: at the low
 * resolutions of the last stages (33 rows at 520 input, 5x5 kernels dilated
 * by 2) that is a quarter more expand work. Blocks that end at the
 * depthwise conv (SE blocks) need no channel mixing after the expansion, so
 * there each task takes all rows of one slice of the expanded channels
 * instead: no halo is computed twice, and the slices are several per thread
 * so that a thread the OS deschedules costs little.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kernels/kernels.h"
#include "ops-impl.h"

typedef struct
{
  const seg_f32_kernels *k;
  int cin, cexp, cout, kh, kw;
  float *we, *wd, *wp; /* packed expand GEMM (NULL: none), depthwise,
                          project GEMM (NULL: none) */
  float *wds;          /* depthwise weights packed slice by slice, or NULL */
  size_t slice;        /* channels per slice for wds (a multiple of the
                          GEMM panel width) */
  float *zero;         /* cexp zeros standing in for padding */
  size_t budget;       /* scratch bytes to aim for per thread */
  size_t force_rows;   /* band height from seg_irb_force_rows, or 0 */
} irb_packed;

static size_t forced_rows;

void
seg_irb_force_rows (size_t rows)
{
  forced_rows = rows;
}

static void
irb_packed_free (void *data)
{
  irb_packed *p = data;
  if (!p)
    return;
  free (p->we);
  free (p->wd);
  free (p->wp);
  free (p->wds);
  free (p->zero);
  free (p);
}

/* Half of the L2 cache (the other half holds weights and the input and
 * output rows in flight), assuming 512 KiB where the size is unknown. Read
 * once at pack time: sysconf may read files. */
static size_t
band_budget (void)
{
  long l2 = sysconf (_SC_LEVEL2_CACHE_SIZE);
  if (l2 <= 0)
    l2 = 512 * 1024;
  if (l2 > 4 * 1024 * 1024)
    l2 = 4 * 1024 * 1024;
  return (size_t) l2 / 2;
}

/* A 1x1 conv's weights, [O, I, 1, 1] (OIHW, next to an OIHW depthwise) or
 * [O, 1, 1, I] (OHWI, next to a 1HWO one): the same memory either way. The
 * layout decides which dims are the kernel's: [O, 1, 1, 3] is a 1x3 kernel
 * on one channel in OIHW. */
static bool
pointwise_dims (const int64_t *d, int rank, seg_weight_layout dw_layout, int *o,
    int *i)
{
  bool oihw = dw_layout == SEG_WL_OIHW;
  if (rank != 4 || d[oihw ? 2 : 1] != 1 || d[oihw ? 3 : 2] != 1 || d[0] < 1
      || d[0] > SEG_MAX_DIM || d[1] < 1 || d[1] > SEG_MAX_DIM || d[3] < 1
      || d[3] > SEG_MAX_DIM)
    return false;
  *o = (int) d[0];
  *i = (int) (d[1] * d[3]);
  return true;
}

/* Depthwise weights [C, 1, KH, KW] (OIHW) or [1, KH, KW, C] (1HWO). */
static bool
depthwise_dims (const int64_t *d, int rank, seg_weight_layout wl, int *c,
    int *kh, int *kw)
{
  if (rank != 4)
    return false;
  for (int i = 0; i < 4; i++)
    if (d[i] < 1 || d[i] > SEG_MAX_DIM)
      return false;
  if (wl == SEG_WL_OIHW && d[1] == 1) {
    *c = (int) d[0], *kh = (int) d[2], *kw = (int) d[3];
    return true;
  }
  if (wl == SEG_WL_1HWO && d[0] == 1) {
    *c = (int) d[3], *kh = (int) d[1], *kw = (int) d[2];
    return true;
  }
  return false;
}

/* Checks the three weight shapes (from the graph at pack time, from the
 * session's values at infer) fit together. */
static seg_status
irb_geometry (const seg_node *n, const int64_t *const dims[3],
    const int ranks[3], const seg_dtype dtypes[3], int *cin, int *cexp,
    int *cout, int *kh, int *kw, seg_err *err)
{
  int ce2 = 0, ce3, cd;
  for (int i = 0; i < 3; i++)
    if (dims[i] && dtypes[i] != SEG_DT_F32)
      return seg_fail (err, SEG_ERR_UNSUPPORTED,
          "node '%s' (InvertedResidual): weights must be float32", n->name);
  if ((dims[0] && !pointwise_dims (dims[0], ranks[0], n->a.wlayout, &ce2, cin))
      || !depthwise_dims (dims[1], ranks[1], n->a.wlayout, &cd, kh, kw)
      || (dims[2]
          && !pointwise_dims (dims[2], ranks[2], n->a.wlayout, cout, &ce3)))
    return seg_fail (err, SEG_ERR_FORMAT,
        "node '%s' (InvertedResidual): weight shapes are not 1x1, "
        "depthwise, 1x1",
        n->name);
  if (!dims[0])
    ce2 = *cin = cd;
  if (!dims[2])
    ce3 = *cout = cd;
  if (!dims[0] && !dims[2])
    return seg_fail (err, SEG_ERR_FORMAT,
        "node '%s' (InvertedResidual): neither expand nor project", n->name);
  if (ce2 != cd || ce3 != cd || n->a.groups != cd)
    return seg_fail (err, SEG_ERR_FORMAT,
        "node '%s' (InvertedResidual): expanded channels disagree (%d, %d, "
        "%d, groups %d)",
        n->name, ce2, cd, ce3, n->a.groups);
  *cexp = cd;
  for (int i = 0; i < 2; i++)
    if (n->a.stride[i] < 1 || n->a.stride[i] > SEG_MAX_DIM
        || n->a.dilation[i] < 1 || n->a.dilation[i] > SEG_MAX_DIM)
      return seg_fail (err, SEG_ERR_FORMAT,
          "node '%s' (InvertedResidual): bad stride or dilation", n->name);
  for (int i = 0; i < 4; i++)
    if (n->a.pads[i] < 0 || n->a.pads[i] > SEG_MAX_DIM)
      return seg_fail (err, SEG_ERR_FORMAT,
          "node '%s' (InvertedResidual): pad out of range", n->name);
  for (int i = 0; i < 3; i++)
    if ((unsigned) n->a.irb_act[i] > SEG_ACT_SIGMOID)
      return seg_fail (err, SEG_ERR_FORMAT,
          "node '%s' (InvertedResidual): bad activation", n->name);
  if ((unsigned) n->a.act > SEG_ACT_SIGMOID)
    return seg_fail (err, SEG_ERR_FORMAT,
        "node '%s' (InvertedResidual): bad activation", n->name);
  return SEG_OK;
}

/* A bias input: absent (-1) or count float32 constants. */
static const float *
bias_of (const seg_graph *g, int t, int count, bool *ok)
{
  *ok = true;
  if (t < 0)
    return NULL;
  const seg_tensor *b = t < g->ntensors ? &g->tensors[t] : NULL;
  if (!b || b->dtype != SEG_DT_F32 || b->rank != 1 || b->dims[0] != count
      || !b->data || b->nbytes < (size_t) count * sizeof (float)) {
    *ok = false;
    return NULL;
  }
  return b->data;
}

static seg_status
irb_pack (seg_node *n, const seg_graph *g, seg_err *err)
{
  if (n->nin != 7 || n->in[0] < 0 || n->in[3] < 0 || n->in[1] >= g->ntensors
      || n->in[3] >= g->ntensors || n->in[5] >= g->ntensors
      || (n->in[1] < 0 && n->in[2] >= 0)
      || (n->in[5] < 0 && (n->in[6] >= 0 || n->a.irb_residual)))
    return seg_fail (err, SEG_ERR_FORMAT,
        "node '%s' (InvertedResidual): bad inputs", n->name);
  const seg_tensor *w[3] = {n->in[1] >= 0 ? &g->tensors[n->in[1]] : NULL,
      &g->tensors[n->in[3]], n->in[5] >= 0 ? &g->tensors[n->in[5]] : NULL};
  const int64_t *dims[3] = {w[0] ? w[0]->dims : NULL, w[1]->dims,
      w[2] ? w[2]->dims : NULL};
  int ranks[3] = {w[0] ? w[0]->rank : 0, w[1]->rank, w[2] ? w[2]->rank : 0};
  seg_dtype dts[3] = {w[0] ? w[0]->dtype : SEG_DT_F32, w[1]->dtype,
      w[2] ? w[2]->dtype : SEG_DT_F32};
  int cin, cexp, cout, kh, kw;
  seg_status st =
      irb_geometry (n, dims, ranks, dts, &cin, &cexp, &cout, &kh, &kw, err);
  if (st != SEG_OK)
    return st;
  size_t taps = (size_t) kh * kw;
  size_t counts[3] = {(size_t) cexp * cin, (size_t) cexp * taps,
      (size_t) cout * cexp};
  bool ok[3];
  const float *bias[3] = {bias_of (g, n->in[2], cexp, &ok[0]),
      bias_of (g, n->in[4], cexp, &ok[1]), bias_of (g, n->in[6], cout, &ok[2])};
  for (int i = 0; i < 3; i++)
    if ((w[i] && (!w[i]->data || w[i]->nbytes < counts[i] * sizeof (float)))
        || !ok[i])
      return seg_fail (err, SEG_ERR_FORMAT,
          "node '%s' (InvertedResidual): weights or bias %d are not float32 "
          "constants of the right size",
          n->name, i);

  irb_packed *p = calloc (1, sizeof *p);
  float *dw = NULL;
  if (!p)
    goto nomem;
  p->k = seg_f32_kernels_get ();
  p->cin = cin, p->cexp = cexp, p->cout = cout, p->kh = kh, p->kw = kw;
  p->budget = band_budget ();
  p->force_rows = forced_rows;
  size_t nr = p->k->gemm_nr;
  if (w[0]) {
    p->we = seg_f32_alloc (seg_f32_gemm_packed_size (nr, cexp, cin));
    if (!p->we)
      goto nomem;
    seg_f32_gemm_pack (nr, cexp, cin, w[0]->data, cin, bias[0], p->we);
  }
  if (w[2]) {
    p->wp = seg_f32_alloc (seg_f32_gemm_packed_size (nr, cout, cexp));
    if (!p->wp)
      goto nomem;
    seg_f32_gemm_pack (nr, cout, cexp, w[2]->data, cexp, bias[2], p->wp);
  }
  p->wd = seg_f32_alloc ((1 + taps) * cexp);
  p->zero = calloc ((size_t) cexp, sizeof (float));
  dw = malloc (counts[1] * sizeof *dw);
  if (!p->wd || !p->zero || !dw)
    goto nomem;
  /* The depthwise kernel wants [channel][tap]; 1HWO stores [tap][channel]. */
  const float *src = w[1]->data;
  for (size_t c = 0; c < (size_t) cexp; c++)
    for (size_t t = 0; t < taps; t++)
      dw[c * taps + t] =
          n->a.wlayout == SEG_WL_OIHW ? src[c * taps + t] : src[t * cexp + c];
  seg_f32_dwconv_pack (cexp, taps, dw, bias[1], p->wd);
  if (p->we && !p->wp) {
    /* About eight slices: enough for four threads to balance. */
    size_t panels = (cexp + nr - 1) / nr;
    p->slice = (panels + 7) / 8 * nr;
    p->wds = seg_f32_alloc ((1 + taps) * cexp);
    if (!p->wds)
      goto nomem;
    for (size_t c0 = 0; c0 < (size_t) cexp; c0 += p->slice) {
      size_t cs = cexp - c0 < p->slice ? cexp - c0 : p->slice;
      float *sw = malloc (cs * taps * sizeof *sw);
      if (!sw)
        goto nomem;
      for (size_t c = 0; c < cs; c++)
        memcpy (sw + c * taps, dw + (c0 + c) * taps, taps * sizeof *sw);
      seg_f32_dwconv_pack (cs, taps, sw, bias[1] ? bias[1] + c0 : NULL,
          p->wds + (1 + taps) * c0);
      free (sw);
    }
  }
  free (dw);
  if (n->packed_free)
    n->packed_free (n->packed);
  n->packed = p;
  n->packed_free = irb_packed_free;
  return SEG_OK;

nomem:
  free (dw);
  irb_packed_free (p);
  return seg_fail (err, SEG_ERR_NOMEM,
      "node '%s' (InvertedResidual): out of memory", n->name);
}

/* Scratch layout for one thread, all parts 64-byte aligned. */
typedef struct
{
  size_t ring_rows, band_rows;
  size_t ring_off, band_off, ind_off, total;
} irb_layout;

static size_t
align64 (size_t x)
{
  return (x + 63) / 64 * 64;
}

/* channels: cexp, or the slice width when tasks split the channels. */
static irb_layout
irb_plan_layout (const irb_packed *p, size_t channels, size_t h, size_t w,
    size_t oh, size_t ow, size_t sh, size_t dh)
{
  irb_layout l;
  size_t cexp = channels, kh = p->kh, kw = p->kw;
  size_t row = w * cexp * sizeof (float);
  size_t orow = ow * cexp * sizeof (float);
  size_t halo = (kh - 1) * dh + 1;
  size_t band = p->force_rows;
  if (!band) {
    size_t budget = p->budget;
    /* ring (B - 1) * sh + halo input rows plus B output rows */
    size_t fixed = p->we ? (halo > sh ? halo - sh : 0) * row : 0;
    size_t per = (p->we ? sh * row : 0) + (p->wp ? orow : 0);
    if (!per)
      per = orow; /* neither ring nor band buffer: any height will do */
    band = budget > fixed + per ? (budget - fixed) / per : 1;
  }
  if (band > oh)
    band = oh;
  if (band < 1)
    band = 1;
  l.band_rows = band;
  l.ring_rows = (band - 1) * sh + halo;
  if (l.ring_rows > h)
    l.ring_rows = h;
  if (!p->we)
    l.ring_rows = 0; /* the depthwise conv reads the input itself */
  l.ring_off = 0;
  l.band_off = align64 (l.ring_rows * row);
  l.ind_off = l.band_off + (p->wp ? align64 (band * orow) : 0);
  l.total = l.ind_off + align64 (ow * kh * kw * sizeof (const float *));
  return l;
}

static seg_status
irb_infer (const seg_node *n, seg_value *v, seg_node_plan *plan, seg_err *err)
{
  if (n->nin != 7 || n->nout < 1 || n->in[0] < 0 || n->in[3] < 0
      || (n->in[1] < 0 && n->in[2] >= 0)
      || (n->in[5] < 0 && (n->in[6] >= 0 || n->a.irb_residual)))
    return seg_fail (err, SEG_ERR_FORMAT,
        "node '%s' (InvertedResidual): bad inputs", n->name);
  const seg_value *x = &v[n->in[0]];
  const seg_value *w[3] = {n->in[1] >= 0 ? &v[n->in[1]] : NULL, &v[n->in[3]],
      n->in[5] >= 0 ? &v[n->in[5]] : NULL};
  const int64_t *dims[3] = {w[0] ? w[0]->dims : NULL, w[1]->dims,
      w[2] ? w[2]->dims : NULL};
  int ranks[3] = {w[0] ? w[0]->rank : 0, w[1]->rank, w[2] ? w[2]->rank : 0};
  seg_dtype dts[3] = {w[0] ? w[0]->dtype : SEG_DT_F32, w[1]->dtype,
      w[2] ? w[2]->dtype : SEG_DT_F32};
  int cin, cexp, cout, kh, kw;
  seg_status st =
      irb_geometry (n, dims, ranks, dts, &cin, &cexp, &cout, &kh, &kw, err);
  if (st != SEG_OK)
    return st;
  if (x->rank != 4 || x->dtype != SEG_DT_F32 || x->dims[3] != cin)
    return seg_fail (err, SEG_ERR_SHAPE,
        "node '%s' (InvertedResidual): input must be float32 NHWC with %d "
        "channels",
        n->name, cin);
  for (int i = 0; i < 3; i++)
    if (x->dims[i] < 1)
      return seg_fail (err, SEG_ERR_SHAPE,
          "node '%s' (InvertedResidual): input dim %d is %lld", n->name, i,
          (long long) x->dims[i]);
  const int bi[3] = {n->in[2], n->in[4], n->in[6]};
  const int bc[3] = {cexp, cexp, cout};
  for (int i = 0; i < 3; i++)
    if (bi[i] >= 0
        && (v[bi[i]].dtype != SEG_DT_F32 || v[bi[i]].rank != 1
            || v[bi[i]].dims[0] != bc[i]))
      return seg_fail (err, SEG_ERR_FORMAT,
          "node '%s' (InvertedResidual): bias %d must be %d float32 values",
          n->name, i, bc[i]);

  const seg_attrs *a = &n->a;
  int pads[4];
  int64_t oh = seg_conv_axis (a->pad_mode, x->dims[1], kh, a->stride[0],
      a->dilation[0], a->pads[0], a->pads[2], &pads[0], &pads[2]);
  int64_t ow = seg_conv_axis (a->pad_mode, x->dims[2], kw, a->stride[1],
      a->dilation[1], a->pads[1], a->pads[3], &pads[1], &pads[3]);
  if (oh < 1 || ow < 1 || oh > SEG_MAX_DIM || ow > SEG_MAX_DIM)
    return seg_fail (err, SEG_ERR_SHAPE,
        "node '%s' (InvertedResidual): the depthwise kernel does not fit "
        "the %lldx%lld input",
        n->name, (long long) x->dims[1], (long long) x->dims[2]);
  seg_value *y = &v[n->out[0]];
  y->dtype = SEG_DT_F32;
  y->rank = 4;
  y->dims[0] = x->dims[0];
  y->dims[1] = oh;
  y->dims[2] = ow;
  y->dims[3] = cout;
  if (seg_shape_elements (4, y->dims) < 0
      || seg_shape_elements (4, x->dims) < 0)
    return seg_fail (err, SEG_ERR_SHAPE,
        "node '%s' (InvertedResidual): tensor too large", n->name);
  if (a->irb_residual && memcmp (x->dims, y->dims, 4 * sizeof x->dims[0]))
    return seg_fail (err, SEG_ERR_SHAPE,
        "node '%s' (InvertedResidual): residual add needs the output shape "
        "to equal the input's",
        n->name);
  memcpy (plan->pads, pads, sizeof pads);
  uint64_t pix_in = (uint64_t) x->dims[0] * x->dims[1] * x->dims[2];
  uint64_t pix_out = (uint64_t) x->dims[0] * oh * ow;
  plan->macs = (n->in[1] >= 0 ? pix_in * cin * cexp : 0)
      + pix_out * cexp * ((uint64_t) kh * kw + (n->in[5] >= 0 ? cout : 0));
  /* The scratch layout depends on the budget pack read; sessions always
   * plan packed graphs. */
  const irb_packed *p = n->packed;
  if (!p)
    return seg_fail (err, SEG_ERR_INVALID,
        "node '%s' (InvertedResidual): planned before its weights were "
        "packed",
        n->name);
  irb_layout l = irb_plan_layout (p, p->cexp, x->dims[1], x->dims[2], oh, ow,
      a->stride[0], a->dilation[0]);
  plan->scratch_bytes = l.total;
  if (p->wds) {
    l = irb_plan_layout (p, p->slice, x->dims[1], x->dims[2], oh, ow,
        a->stride[0], a->dilation[0]);
    if (l.total > plan->scratch_bytes)
      plan->scratch_bytes = l.total;
  }
  return SEG_OK;
}

typedef struct
{
  const irb_packed *p;
  const seg_attrs *a;
  const seg_run_ctx *ctx;
  const float *in;
  float *out;
  size_t n, h, w, oh, ow, parts;
  size_t slices; /* channel slices (p->wds), or 0 for row ranges */
  size_t sh, sw, dh, dw, pt, pl;
  size_t xa, xb; /* output pixels whose taps lie inside the row */
  irb_layout l;
  seg_f32_act_params act_e, act_d, act_p, act_r;
} irb_job;

/* rows x cols GEMM through the microkernel, mr rows at a time. */
static void
gemm_rows (const seg_f32_kernels *k, size_t rows, size_t nc, size_t kc,
    const float *a, const float *w, float *c, const seg_f32_act_params *act)
{
  for (size_t i = 0; i < rows; i += k->gemm_mr)
    k->gemm (rows - i < k->gemm_mr ? rows - i : k->gemm_mr, nc, kc, a + i * kc,
        kc, w, c + i * nc, nc, act);
}

/* Most kernel rows the in-place depthwise path handles. */
#define IRB_MAX_KH 8

/* Indirection entries of output row oy for pixels [x0, x1): input or ring
 * pixels, or zeros where a tap falls in the padding. Unsigned wrap-around
 * makes rows and columns above or left of the input fail the < h and < w
 * tests. */
static void
fill_table (const irb_job *j, const float *ring, const float *x, size_t R,
    size_t row_floats, size_t cs, size_t oy, size_t x0, size_t x1,
    const float **ind)
{
  const irb_packed *p = j->p;
  size_t kh = p->kh, kw = p->kw, taps = kh * kw, cin = p->cin;
  size_t span = (kw - 1) * j->dw;
  if (x0 >= x1)
    return;
  for (size_t ky = 0; ky < kh; ky++) {
    size_t iy = oy * j->sh + ky * j->dh - j->pt;
    const float *row = iy >= j->h ? NULL
        : p->we                   ? ring + iy % R * row_floats
                                  : x + iy * j->w * cin;
    for (size_t ox = x0; ox < x1; ox++) {
      const float **t = ind + ox * taps + ky * kw;
      size_t ix0 = ox * j->sw - j->pl;
      if (row && ix0 < j->w && ix0 + span < j->w) {
        for (size_t kx = 0; kx < kw; kx++)
          t[kx] = row + (ix0 + kx * j->dw) * cs;
        continue;
      }
      for (size_t kx = 0; kx < kw; kx++) {
        size_t ix = ix0 + kx * j->dw;
        t[kx] = row && ix < j->w ? row + ix * cs : p->zero;
      }
    }
  }
}

static void
irb_task (void *data, size_t task, int thread)
{
  const irb_job *j = data;
  const irb_packed *p = j->p;
  const seg_f32_kernels *k = p->k;
  size_t cin = p->cin, cexp = p->cexp, cout = p->cout;
  size_t kh = p->kh, kw = p->kw, taps = kh * kw;
  /* This task's expanded channels [c0, c0 + cs), their packed expand and
   * depthwise weights, and the floats a pixel takes in the ring (or in
   * the input, without expansion). */
  size_t c0 = 0, cs = cexp;
  const float *we = p->we, *wd = p->wd;
  uint8_t *scratch = j->ctx->scratch + (size_t) thread * j->ctx->scratch_stride;
  float *ring = (float *) (void *) (scratch + j->l.ring_off);
  float *band = (float *) (void *) (scratch + j->l.band_off);
  const float **ind = (const float **) (void *) (scratch + j->l.ind_off);
  size_t b, y0 = 0, y1 = j->oh;
  if (j->slices) {
    size_t s = task % j->slices;
    b = task / j->slices;
    c0 = s * p->slice;
    cs = cexp - c0 < p->slice ? cexp - c0 : p->slice;
    we = p->we + c0 / k->gemm_nr * (cin + 1) * k->gemm_nr;
    wd = p->wds + (1 + taps) * c0;
  } else {
    size_t part = task % j->parts;
    b = task / j->parts;
    y0 = part * j->oh / j->parts;
    y1 = (part + 1) * j->oh / j->parts;
  }
  const float *x = j->in + b * j->h * j->w * cin;
  float *y = j->out + b * j->oh * j->ow * cout;
  size_t row_floats = j->w * cs, R = j->l.ring_rows;
  /* The ring holds input rows up to next - 1 (at most R of them). In the
   * indirection below, unsigned wrap-around makes rows above the input
   * fail iy < h. */
  size_t next = 0;
  bool started = false;

  for (size_t b0 = y0; b0 < y1; b0 += j->l.band_rows) {
    size_t b1 = b0 + j->l.band_rows < y1 ? b0 + j->l.band_rows : y1;
    /* Input rows this band reads, clipped to the input. */
    ptrdiff_t lo = (ptrdiff_t) (b0 * j->sh) - (ptrdiff_t) j->pt;
    ptrdiff_t hi =
        (ptrdiff_t) ((b1 - 1) * j->sh + (kh - 1) * j->dh) - (ptrdiff_t) j->pt;
    if (lo < 0)
      lo = 0;
    if (hi > (ptrdiff_t) j->h - 1)
      hi = (ptrdiff_t) j->h - 1;
    if (!started || (ptrdiff_t) next < lo) {
      next = lo > 0 ? (size_t) lo : 0;
      started = true;
    }
    /* New rows in as few GEMMs as the ring's wrap-around allows: on a
     * narrow input one row is only a tile or two. */
    while (p->we && (ptrdiff_t) next <= hi) {
      size_t slot = next % R, rows = (size_t) hi - next + 1;
      if (rows > R - slot)
        rows = R - slot;
      gemm_rows (k, rows * j->w, cs, cin, x + next * j->w * cin, we,
          ring + slot * row_floats, &j->act_e);
      next += rows;
    }

    for (size_t oy = b0; oy < b1; oy++) {
      /* Kernel row by kernel row, so that the source row is looked up
       * once. A ring row has cs floats a pixel, an input row cexp (= cs).
       * Unless a kernel row falls in the padding, the pixels whose taps
       * all lie inside the row, [xa, xb), are read in place and only the
       * edges go through the pointer table: with 16 channels filling the
       * table for every pixel cost as much as the convolution. */
      const float *rows[IRB_MAX_KH];
      bool direct = k->dwconv_rows && j->xa < j->xb && kh <= IRB_MAX_KH;
      for (size_t ky = 0; ky < kh; ky++) {
        size_t iy = oy * j->sh + ky * j->dh - j->pt;
        const float *row = iy >= j->h ? NULL
            : p->we                   ? ring + iy % R * row_floats
                                      : x + iy * j->w * cin;
        if (ky < IRB_MAX_KH)
          rows[ky] = row ? row + (j->xa * j->sw - j->pl) * cs : NULL;
        direct &= row != NULL;
      }
      float *out =
          p->wp ? band + (oy - b0) * j->ow * cexp : y + oy * j->ow * cexp + c0;
      size_t xa = direct ? j->xa : j->ow, xb = direct ? j->xb : j->ow;
      fill_table (j, ring, x, R, row_floats, cs, oy, 0, xa, ind);
      fill_table (j, ring, x, R, row_floats, cs, oy, xb, j->ow, ind);
      if (xa)
        k->dwconv (cs, xa, taps, ind, wd, out, cexp, &j->act_d);
      if (!direct)
        continue;
      k->dwconv_rows (cs, xb - xa, kh, kw, rows, j->sw * cs, j->dw * cs, wd,
          out + xa * cexp, cexp, &j->act_d);
      if (xb < j->ow)
        k->dwconv (cs, j->ow - xb, taps, ind + xb * taps, wd, out + xb * cexp,
            cexp, &j->act_d);
    }
    if (!p->wp)
      continue;

    size_t pixels = (b1 - b0) * j->ow;
    float *dst = y + b0 * j->ow * cout;
    gemm_rows (k, pixels, cout, cexp, band, p->wp, dst, &j->act_p);
    if (j->a->irb_residual) {
      const float *src = x + b0 * j->ow * cout;
      for (size_t i = 0; i < pixels * cout; i++)
        dst[i] += src[i];
      seg_f32_act_apply (&j->act_r, dst, pixels * cout);
    }
  }
}

static void
irb_run (const seg_node *n, const seg_value *v, const seg_node_plan *plan,
    const seg_run_ctx *ctx)
{
  const irb_packed *p = n->packed;
  const seg_value *x = &v[n->in[0]];
  const seg_value *y = &v[n->out[0]];
  const seg_attrs *a = &n->a;
  irb_job j = {
      .p = p,
      .a = a,
      .ctx = ctx,
      .in = x->data,
      .out = y->data,
      .n = x->dims[0],
      .h = x->dims[1],
      .w = x->dims[2],
      .oh = y->dims[1],
      .ow = y->dims[2],
      .sh = a->stride[0],
      .sw = a->stride[1],
      .dh = a->dilation[0],
      .dw = a->dilation[1],
      .pt = plan->pads[0],
      .pl = plan->pads[1],
      .act_e = {a->irb_act[0], a->irb_act_a[0], a->irb_act_b[0]},
      .act_d = {a->act, a->act_a, a->act_b},
      .act_p = {a->irb_act[1], a->irb_act_a[1], a->irb_act_b[1]},
      .act_r = {a->irb_act[2], a->irb_act_a[2], a->irb_act_b[2]},
  };
  size_t span = (p->kw - 1) * j.dw;
  j.xa = (j.pl + j.sw - 1) / j.sw;
  j.xb = j.w + j.pl > span ? (j.w + j.pl - span - 1) / j.sw + 1 : 0;
  if (j.xb > j.ow)
    j.xb = j.ow;
  if (j.xa > j.xb)
    j.xa = j.xb;
  size_t threads = (size_t) seg_threadpool_threads (ctx->pool);
  size_t slices = p->wds ? (p->cexp + p->slice - 1) / p->slice : 0;
  size_t halo = (p->kh - 1) * j.dh + 1;
  /* Channel slices where row ranges would expand a fifth more rows and
   * there are slices enough to balance. Slices cost too (narrower GEMMs
   * and depthwise calls, the input read once per slice): measured on
   * LR-ASPP-Large with two threads they win on the 5x5 dilated blocks at
   * 33 and 16 rows (8 halo rows) and lose on 3x3 blocks at 16 rows and
   * 5x5 blocks at 32. */
  if (threads > 1 && slices >= 2 * threads && halo > j.sh
      && (threads - 1) * (halo - j.sh) * 5 > j.h) {
    j.slices = slices;
    j.l = irb_plan_layout (p, p->slice, j.h, j.w, j.oh, j.ow, j.sh, j.dh);
    seg_threadpool_run (ctx->pool, irb_task, &j, j.n * j.slices);
    return;
  }
  j.l = irb_plan_layout (p, p->cexp, j.h, j.w, j.oh, j.ow, j.sh, j.dh);
  /* One contiguous row range per thread: every split recomputes the halo
   * rows at its top, so more parts than threads would only cost. */
  j.parts = threads < j.oh ? threads : j.oh;
  seg_threadpool_run (ctx->pool, irb_task, &j, j.n * j.parts);
}

const seg_op_vtable seg_op_inverted_residual = {
    .infer = irb_infer,
    .pack = irb_pack,
    .run = irb_run,
};
