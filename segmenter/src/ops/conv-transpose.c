/* Transposed convolution (ONNX ConvTranspose, MediaPipe's custom
 * Convolution2DTransposeBias) on NHWC activations, as a gather: output pixel
 * (oy, ox) receives input (iy, ix) through tap (ky, kx) when
 * oy = iy * sh - pad_top + ky * dh, and likewise for x. Which taps reach an
 * output pixel depends only on (oy + pad_top) mod sh and (ox + pad_left)
 * mod sw, so the weights are packed once per residue class as a GEMM over
 * just those taps; a row of outputs of one class is then an im2col of the
 * matching input pixels times that matrix, with no scatter and no zeros
 * multiplied for the holes a stride leaves.
 *
 * With a single output channel (MediaPipe's 2x2/2 head) the GEMM would use
 * one lane of each panel, so one-tap classes go through the vdot kernel
 * instead, which puts the input channels across the lanes. When the kernel
 * is exactly the stride, every input pixel owns a block of outputs: then a
 * task is an input row, whose blocks the kernel computes whole, reading
 * each pixel once instead of once per class.
 */
#include <stdlib.h>
#include <string.h>

#include "kernels/kernels.h"
#include "ops-impl.h"

#define MAX_STRIDE 256

typedef struct
{
  int out_ch, cin_g, kh, kw;
} deconv_geom;

/* Taps of one residue class (ry, rx) and where their panels start. */
typedef struct
{
  size_t ntaps;
  size_t tap0;  /* first entry in taps[] */
  size_t w_off; /* floats into w of group 0's panels */
  size_t group_stride;
} deconv_class;

typedef struct
{
  const seg_f32_kernels *k;
  deconv_geom geo;
  int groups, sh, sw;
  deconv_class *classes; /* sh * sw, index ry * sw + rx */
  int (*taps)[2];        /* kh * kw (ky, kx), grouped by class */
  size_t max_kc;
  float *w;
  float *dot; /* one output channel, one group: max_kc weights
                            per class; else NULL */
  float dot_bias;
  bool blocks; /* dot, and kernel == stride with dilation 1: the
                            classes' taps are the kernel in order */
} deconv_packed;

static seg_status
deconv_geometry (const seg_node *n, seg_dtype dtype, int rank,
    const int64_t *dims, deconv_geom *geo, seg_err *err)
{
  const seg_attrs *a = &n->a;
  if (rank != 4)
    return seg_fail (err, SEG_ERR_FORMAT,
        "node '%s' (ConvTranspose): weights have rank %d, expected 4", n->name,
        rank);
  if (dtype != SEG_DT_F32)
    return seg_fail (err, SEG_ERR_UNSUPPORTED,
        "node '%s' (ConvTranspose): weights are %s, expected float32", n->name,
        seg_dtype_name (dtype));
  for (int i = 0; i < 4; i++)
    if (dims[i] < 1 || dims[i] > SEG_MAX_DIM)
      return seg_fail (err, SEG_ERR_FORMAT,
          "node '%s' (ConvTranspose): weight dim %d = %lld out of range",
          n->name, i, (long long) dims[i]);
  if (seg_shape_elements (4, dims) < 0)
    return seg_fail (err, SEG_ERR_FORMAT,
        "node '%s' (ConvTranspose): weights too large", n->name);
  if (a->groups < 1)
    return seg_fail (err, SEG_ERR_FORMAT,
        "node '%s' (ConvTranspose): groups %d out of range", n->name,
        a->groups);
  switch (a->wlayout) {
    case SEG_WL_IOHW:
      /* [Cin, O/g, KH, KW] */
      if (dims[0] % a->groups != 0)
        return seg_fail (err, SEG_ERR_FORMAT,
            "node '%s' (ConvTranspose): groups %d does not divide %lld input "
            "channels",
            n->name, a->groups, (long long) dims[0]);
      if (dims[1] * a->groups > SEG_MAX_DIM)
        return seg_fail (err, SEG_ERR_FORMAT,
            "node '%s' (ConvTranspose): too many output channels", n->name);
      *geo = (deconv_geom){(int) dims[1] * a->groups,
          (int) (dims[0] / a->groups), (int) dims[2], (int) dims[3]};
      break;
    case SEG_WL_OHWI:
      /* [O, KH, KW, Cin/g] */
      if (dims[0] % a->groups != 0)
        return seg_fail (err, SEG_ERR_FORMAT,
            "node '%s' (ConvTranspose): groups %d does not divide %lld output "
            "channels",
            n->name, a->groups, (long long) dims[0]);
      *geo = (deconv_geom){(int) dims[0], (int) dims[3], (int) dims[1],
          (int) dims[2]};
      break;
    default:
      return seg_fail (err, SEG_ERR_UNSUPPORTED,
          "node '%s' (ConvTranspose): weight layout %d not supported", n->name,
          (int) a->wlayout);
  }
  if ((a->kernel[0] != 0 || a->kernel[1] != 0)
      && (a->kernel[0] != geo->kh || a->kernel[1] != geo->kw))
    return seg_fail (err, SEG_ERR_FORMAT,
        "node '%s' (ConvTranspose): kernel_shape %dx%d does not match "
        "weights %dx%d",
        n->name, a->kernel[0], a->kernel[1], geo->kh, geo->kw);
  for (int i = 0; i < 2; i++) {
    /* The packing has one class per stride phase: a hostile stride must
     * not blow that up (FCN-style upsampling uses 32). */
    if (a->stride[i] < 1 || a->stride[i] > MAX_STRIDE)
      return seg_fail (err, SEG_ERR_FORMAT,
          "node '%s' (ConvTranspose): stride %d out of range", n->name,
          a->stride[i]);
    if (a->dilation[i] < 1 || a->dilation[i] > SEG_MAX_DIM)
      return seg_fail (err, SEG_ERR_FORMAT,
          "node '%s' (ConvTranspose): dilation %d out of range", n->name,
          a->dilation[i]);
    int limit = a->stride[i] > a->dilation[i] ? a->stride[i] : a->dilation[i];
    if (a->output_padding[i] < 0 || a->output_padding[i] >= limit)
      return seg_fail (err, SEG_ERR_FORMAT,
          "node '%s' (ConvTranspose): output_padding %d must be below the "
          "stride or dilation",
          n->name, a->output_padding[i]);
  }
  if (a->pad_mode == SEG_PAD_EXPLICIT) {
    for (int i = 0; i < 4; i++)
      if (a->pads[i] < 0 || a->pads[i] > SEG_MAX_DIM)
        return seg_fail (err, SEG_ERR_FORMAT,
            "node '%s' (ConvTranspose): pad %d out of range", n->name,
            a->pads[i]);
  } else if (a->pad_mode != SEG_PAD_SAME_UPPER
      && a->pad_mode != SEG_PAD_SAME_LOWER && a->pad_mode != SEG_PAD_VALID) {
    return seg_fail (err, SEG_ERR_FORMAT,
        "node '%s' (ConvTranspose): bad pad mode %d", n->name,
        (int) a->pad_mode);
  }
  if ((unsigned) a->act > SEG_ACT_SIGMOID)
    return seg_fail (err, SEG_ERR_FORMAT,
        "node '%s' (ConvTranspose): bad fused activation %d", n->name,
        (int) a->act);
  return SEG_OK;
}

static int
bias_index (const seg_node *n)
{
  return n->nin > 2 ? n->in[2] : -1;
}

/* Groups kernel indices 0..k-1 along one axis by residue class i * d mod s:
 * class r is sorted[start[r] .. start[r + 1]) (start has s + 1 entries;
 * sorted may be NULL when only the counts are wanted). */
static void
axis_classes (int k, int s, int d, int *sorted, int *start)
{
  int fill[MAX_STRIDE];
  memset (start, 0, ((size_t) s + 1) * sizeof *start);
  for (int i = 0; i < k; i++)
    start[(int64_t) i * d % s + 1]++;
  for (int r = 0; r < s; r++) {
    start[r + 1] += start[r];
    fill[r] = start[r];
  }
  if (sorted)
    for (int i = 0; i < k; i++)
      sorted[fill[(int64_t) i * d % s]++] = i;
}

static void
deconv_packed_free (void *data)
{
  deconv_packed *p = data;
  if (!p)
    return;
  free (p->classes);
  free (p->taps);
  free (p->w);
  free (p->dot);
  free (p);
}

/* Weight of input channel ci (within its group) to output channel o
 * (global) through tap (ky, kx), from the file's layout. */
static float
weight_at (const seg_node *n, const deconv_geom *geo, const float *w, size_t o,
    size_t ci, size_t ky, size_t kx)
{
  size_t cout_g = geo->out_ch / n->a.groups;
  if (n->a.wlayout == SEG_WL_IOHW) {
    size_t g = o / cout_g;
    size_t i = g * geo->cin_g + ci;
    return w[((i * cout_g + o % cout_g) * geo->kh + ky) * geo->kw + kx];
  }
  return w[((o * geo->kh + ky) * geo->kw + kx) * geo->cin_g + ci];
}

static seg_status
deconv_pack (seg_node *n, const seg_graph *g, seg_err *err)
{
  if (n->nin < 2 || n->in[0] < 0 || n->in[1] < 0 || n->in[1] >= g->ntensors)
    return seg_fail (err, SEG_ERR_FORMAT,
        "node '%s' (ConvTranspose): missing weights", n->name);
  const seg_tensor *wt = &g->tensors[n->in[1]];
  deconv_geom geo;
  seg_status st = deconv_geometry (n, wt->dtype, wt->rank, wt->dims, &geo, err);
  if (st != SEG_OK)
    return st;
  size_t taps = (size_t) geo.kh * geo.kw;
  size_t count = (size_t) geo.out_ch * geo.cin_g * taps;
  if (!wt->data || wt->nbytes < count * sizeof (float))
    return seg_fail (err, SEG_ERR_UNSUPPORTED,
        "node '%s' (ConvTranspose): weights '%s' are not a float32 constant",
        n->name, wt->name);
  const float *bias = NULL;
  int bi = bias_index (n);
  if (bi >= 0) {
    const seg_tensor *bt = bi < g->ntensors ? &g->tensors[bi] : NULL;
    if (!bt || bt->dtype != SEG_DT_F32 || bt->rank != 1
        || bt->dims[0] != geo.out_ch || !bt->data
        || bt->nbytes < (size_t) geo.out_ch * sizeof (float))
      return seg_fail (err, SEG_ERR_FORMAT,
          "node '%s' (ConvTranspose): bias is not a float32 constant of %d "
          "values",
          n->name, geo.out_ch);
    bias = bt->data;
  }

  deconv_packed *p = calloc (1, sizeof *p);
  float *b = NULL; /* one class's [cout_g][kc] matrix before packing */
  int *ys = NULL, *xs = NULL, *ystart = NULL, *xstart = NULL;
  st = SEG_ERR_NOMEM;
  if (!p)
    goto out;
  p->k = seg_f32_kernels_get ();
  p->geo = geo;
  p->groups = n->a.groups;
  p->sh = n->a.stride[0];
  p->sw = n->a.stride[1];
  size_t nclasses = (size_t) p->sh * p->sw;
  size_t cout_g = geo.out_ch / p->groups, nr = p->k->gemm_nr;
  p->classes = calloc (nclasses, sizeof *p->classes);
  p->taps = calloc (taps, sizeof *p->taps);
  ys = malloc ((size_t) geo.kh * sizeof *ys);
  xs = malloc ((size_t) geo.kw * sizeof *xs);
  ystart = malloc (((size_t) p->sh + 1) * sizeof *ystart);
  xstart = malloc (((size_t) p->sw + 1) * sizeof *xstart);
  if (!p->classes || !p->taps || !ys || !xs || !ystart || !xstart)
    goto out;
  axis_classes (geo.kh, p->sh, n->a.dilation[0], ys, ystart);
  axis_classes (geo.kw, p->sw, n->a.dilation[1], xs, xstart);

  size_t total = 0, t = 0;
  for (size_t c = 0; c < nclasses; c++) {
    size_t ry = c / p->sw, rx = c % p->sw;
    deconv_class *cl = &p->classes[c];
    cl->tap0 = t;
    for (int yi = ystart[ry]; yi < ystart[ry + 1]; yi++)
      for (int xi = xstart[rx]; xi < xstart[rx + 1]; xi++) {
        p->taps[t][0] = ys[yi];
        p->taps[t][1] = xs[xi];
        t++;
      }
    cl->ntaps = t - cl->tap0;
    size_t kc = cl->ntaps * geo.cin_g;
    if (kc > p->max_kc)
      p->max_kc = kc;
    cl->w_off = total;
    cl->group_stride = seg_f32_gemm_packed_size (nr, cout_g, kc);
    total += cl->group_stride * p->groups;
    /* Even a class without taps carries a bias panel per group: with large
     * strides that dominates, so bound it like any tensor. */
    if (total > (size_t) SEG_MAX_ELEMENTS) {
      st = SEG_ERR_UNSUPPORTED;
      goto out;
    }
  }

  p->w = seg_f32_alloc (total);
  b = malloc ((p->max_kc ? p->max_kc : 1) * cout_g * sizeof *b);
  if (!p->w || !b)
    goto out;
  if (geo.out_ch == 1 && p->groups == 1) {
    p->dot = calloc (nclasses * p->max_kc + 1, sizeof *p->dot);
    if (!p->dot)
      goto out;
    p->dot_bias = bias ? bias[0] : 0.0f;
    p->blocks = geo.kh == p->sh && geo.kw == p->sw && n->a.dilation[0] == 1
        && n->a.dilation[1] == 1;
  }
  for (size_t c = 0; c < nclasses; c++) {
    const deconv_class *cl = &p->classes[c];
    size_t kc = cl->ntaps * geo.cin_g;
    for (size_t gi = 0; gi < (size_t) p->groups; gi++) {
      for (size_t o = 0; o < cout_g; o++)
        for (size_t i = 0; i < cl->ntaps; i++)
          for (size_t ci = 0; ci < (size_t) geo.cin_g; ci++)
            b[o * kc + i * geo.cin_g + ci] =
                weight_at (n, &geo, wt->data, gi * cout_g + o, ci,
                    p->taps[cl->tap0 + i][0], p->taps[cl->tap0 + i][1]);
      seg_f32_gemm_pack (nr, cout_g, kc, b, kc,
          bias ? bias + gi * cout_g : NULL,
          p->w + cl->w_off + gi * cl->group_stride);
    }
    if (p->dot)
      memcpy (p->dot + c * p->max_kc, b, kc * sizeof *b);
  }
  if (n->packed_free)
    n->packed_free (n->packed);
  n->packed = p;
  n->packed_free = deconv_packed_free;
  p = NULL;
  st = SEG_OK;

out:
  free (b);
  free (ys);
  free (xs);
  free (ystart);
  free (xstart);
  deconv_packed_free (p);
  if (st == SEG_ERR_NOMEM)
    return seg_fail (err, st, "node '%s' (ConvTranspose): out of memory",
        n->name);
  if (st != SEG_OK)
    return seg_fail (err, st,
        "node '%s' (ConvTranspose): packed weights too large", n->name);
  return SEG_OK;
}

/* Output size and resolved padding along one axis; 0 when nothing is left
 * after the padding is cropped. */
static int64_t
deconv_axis (seg_pad_mode mode, int64_t in, int64_t k, int64_t s, int64_t d,
    int64_t out_pad, int explicit_begin, int explicit_end, int *begin, int *end)
{
  int64_t full = (in - 1) * s + (k - 1) * d + 1;
  int64_t pb = 0, pe = 0;
  if (mode == SEG_PAD_EXPLICIT) {
    pb = explicit_begin;
    pe = explicit_end;
  } else if (mode == SEG_PAD_SAME_UPPER || mode == SEG_PAD_SAME_LOWER) {
    int64_t total = full + out_pad - in * s;
    if (total < 0)
      total = 0;
    pb = mode == SEG_PAD_SAME_UPPER ? total / 2 : total - total / 2;
    pe = total - pb;
    *begin = (int) pb;
    *end = (int) pe;
    return in * s;
  }
  *begin = (int) pb;
  *end = (int) pe;
  int64_t out = full + out_pad - pb - pe;
  return out > 0 ? out : 0;
}

static seg_status
deconv_infer (const seg_node *n, seg_value *v, seg_node_plan *plan,
    seg_err *err)
{
  if (n->nin < 2 || n->in[0] < 0 || n->in[1] < 0 || n->nout < 1)
    return seg_fail (err, SEG_ERR_FORMAT,
        "node '%s' (ConvTranspose): needs an input and weights", n->name);
  const seg_value *x = &v[n->in[0]];
  const seg_value *wv = &v[n->in[1]];
  const seg_attrs *a = &n->a;
  deconv_geom geo;
  seg_status st = deconv_geometry (n, wv->dtype, wv->rank, wv->dims, &geo, err);
  if (st != SEG_OK)
    return st;
  if (x->rank != 4 || x->dtype != SEG_DT_F32)
    return seg_fail (err, SEG_ERR_UNSUPPORTED,
        "node '%s' (ConvTranspose): input must be a rank-4 float32 tensor",
        n->name);
  for (int i = 0; i < 4; i++)
    if (x->dims[i] < 1 || x->dims[i] > SEG_MAX_DIM)
      return seg_fail (err, SEG_ERR_SHAPE,
          "node '%s' (ConvTranspose): input dim %d is %lld", n->name, i,
          (long long) x->dims[i]);
  if (x->dims[3] != (int64_t) geo.cin_g * a->groups)
    return seg_fail (err, SEG_ERR_SHAPE,
        "node '%s' (ConvTranspose): input has %lld channels, weights expect "
        "%d x %d groups",
        n->name, (long long) x->dims[3], geo.cin_g, a->groups);
  int bi = bias_index (n);
  if (bi >= 0) {
    const seg_value *b = &v[bi];
    if (b->dtype != SEG_DT_F32 || b->rank != 1 || b->dims[0] != geo.out_ch)
      return seg_fail (err, SEG_ERR_FORMAT,
          "node '%s' (ConvTranspose): bias must be %d float32 values", n->name,
          geo.out_ch);
  }

  int pads[4];
  int64_t oh = deconv_axis (a->pad_mode, x->dims[1], geo.kh, a->stride[0],
      a->dilation[0], a->output_padding[0], a->pads[0], a->pads[2], &pads[0],
      &pads[2]);
  int64_t ow = deconv_axis (a->pad_mode, x->dims[2], geo.kw, a->stride[1],
      a->dilation[1], a->output_padding[1], a->pads[1], a->pads[3], &pads[1],
      &pads[3]);
  if (oh < 1 || ow < 1)
    return seg_fail (err, SEG_ERR_SHAPE,
        "node '%s' (ConvTranspose): padding leaves no output", n->name);
  seg_value *y = &v[n->out[0]];
  y->dtype = SEG_DT_F32;
  y->rank = 4;
  y->dims[0] = x->dims[0];
  y->dims[1] = oh;
  y->dims[2] = ow;
  y->dims[3] = geo.out_ch;
  if (oh > SEG_MAX_DIM || ow > SEG_MAX_DIM
      || seg_shape_elements (4, y->dims) < 0)
    return seg_fail (err, SEG_ERR_SHAPE,
        "node '%s' (ConvTranspose): output too large", n->name);

  memcpy (plan->pads, pads, sizeof pads);
  size_t cout_g = geo.out_ch / a->groups;
  plan->macs = (uint64_t) x->dims[0] * x->dims[1] * x->dims[2] * x->dims[3]
      * geo.kh * geo.kw * cout_g;
  /* The largest class's im2col need not be the largest chunk: the pixel
   * count per chunk rounds differently per K, so take every class. */
  int ystart[MAX_STRIDE + 1], xstart[MAX_STRIDE + 1];
  axis_classes (geo.kh, a->stride[0], a->dilation[0], NULL, ystart);
  axis_classes (geo.kw, a->stride[1], a->dilation[1], NULL, xstart);
  size_t per_class = ((size_t) ow + a->stride[1] - 1) / a->stride[1];
  plan->scratch_bytes = 0;
  for (int ry = 0; ry < a->stride[0]; ry++)
    for (int rx = 0; rx < a->stride[1]; rx++) {
      size_t kc = (size_t) (ystart[ry + 1] - ystart[ry])
          * (xstart[rx + 1] - xstart[rx]) * geo.cin_g;
      size_t bytes =
          seg_f32_im2col_pixels (kc, per_class) * kc * sizeof (float);
      if (bytes > plan->scratch_bytes)
        plan->scratch_bytes = bytes;
    }
  return SEG_OK;
}

typedef struct
{
  const deconv_packed *p;
  const seg_run_ctx *ctx;
  const float *in;
  float *out;
  size_t h, w, cin;
  size_t oh, ow, cout, cout_g;
  size_t dh, dw, pt, pl;
  seg_f32_act_params act;
} deconv_job;

/* One group's GEMM for pixels [i0, i1) of a class, whose A rows are at
 * a (stride a_stride), into output pixels x_first + i * sw of the row. */
static void
class_gemm (const deconv_job *j, const deconv_class *cl, size_t g,
    const float *a, size_t a_stride, float *out_row, size_t x_first, size_t i0,
    size_t i1)
{
  const seg_f32_kernels *k = j->p->k;
  size_t sw = j->p->sw, kc = cl->ntaps * j->p->geo.cin_g;
  const float *w = j->p->w + cl->w_off + g * cl->group_stride;
  float *c = out_row + (x_first + i0 * sw) * j->cout + g * j->cout_g;
  for (size_t r = 0; r < i1 - i0; r += k->gemm_mr)
    k->gemm (i1 - i0 - r < k->gemm_mr ? i1 - i0 - r : k->gemm_mr, j->cout_g, kc,
        a + r * a_stride, a_stride, w, c + r * sw * j->cout, sw * j->cout,
        &j->act);
}

/* Pixels [i0, i1) of a class through im2col in scratch, chunk by chunk. */
static void
class_im2col (const deconv_job *j, const deconv_class *cl, float *col, size_t b,
    size_t oy, float *out_row, size_t x_first, size_t i0, size_t i1)
{
  const deconv_packed *p = j->p;
  size_t cin_g = p->geo.cin_g, sh = p->sh, sw = p->sw;
  const int (*taps)[2] = (const int (*)[2]) (p->taps + cl->tap0);
  size_t kc = cl->ntaps * cin_g;
  size_t chunk = seg_f32_im2col_pixels (kc, i1 - i0);

  for (size_t c0 = i0; c0 < i1; c0 += chunk) {
    size_t c1 = i1 - c0 < chunk ? i1 : c0 + chunk;
    for (size_t g = 0; g < (size_t) p->groups; g++) {
      float *dst = col;
      for (size_t i = c0; i < c1; i++) {
        size_t ox = x_first + i * sw;
        for (size_t t = 0; t < cl->ntaps; t++) {
          size_t ty = (size_t) taps[t][0] * j->dh;
          size_t tx = (size_t) taps[t][1] * j->dw;
          /* Exact divisions by construction of the class. */
          size_t iy = (oy + j->pt - ty) / sh, ix = (ox + j->pl - tx) / sw;
          if (oy + j->pt >= ty && iy < j->h && ox + j->pl >= tx && ix < j->w)
            memcpy (dst,
                j->in + ((b * j->h + iy) * j->w + ix) * j->cin + g * cin_g,
                cin_g * sizeof (float));
          else
            memset (dst, 0, cin_g * sizeof (float));
          dst += cin_g;
        }
      }
      class_gemm (j, cl, g, col, kc, out_row, x_first, c0, c1);
    }
  }
}

static void
deconv_row (void *data, size_t task, int thread)
{
  const deconv_job *j = data;
  const deconv_packed *p = j->p;
  size_t sh = p->sh, sw = p->sw;
  float *col =
      (float *) (j->ctx->scratch + (size_t) thread * j->ctx->scratch_stride);
  size_t b = task / j->oh, oy = task % j->oh;
  size_t ry = (oy + j->pt) % sh;
  float *out_row = j->out + task * j->ow * j->cout;

  for (size_t rx = 0; rx < sw; rx++) {
    size_t x_first = (rx + sw - j->pl % sw) % sw;
    if (x_first >= j->ow)
      continue;
    size_t count = (j->ow - 1 - x_first) / sw + 1;
    const deconv_class *cl = &p->classes[ry * sw + rx];
    if (cl->ntaps != 1) {
      class_im2col (j, cl, col, b, oy, out_row, x_first, 0, count);
      continue;
    }
    /* One tap (kernel no larger than the stride, as in 2x2/2 upsampling):
     * the class's pixels read consecutive input pixels of one row, so the
     * input is the GEMM's A as it stands; only the ends, where the tap
     * falls outside the input, are gathered with zeros. */
    int64_t ty = (int64_t) p->taps[cl->tap0][0] * j->dh;
    int64_t tx = (int64_t) p->taps[cl->tap0][1] * j->dw;
    int64_t iy = ((int64_t) (oy + j->pt) - ty) / (int64_t) sh;
    int64_t ix0 = ((int64_t) (x_first + j->pl) - tx) / (int64_t) sw;
    int64_t lo = ix0 < 0 ? -ix0 : 0, hi = (int64_t) j->w - ix0;
    if ((int64_t) (oy + j->pt) < ty || iy >= (int64_t) j->h || hi <= lo) {
      class_im2col (j, cl, col, b, oy, out_row, x_first, 0, count);
      continue;
    }
    if (hi > (int64_t) count)
      hi = count;
    class_im2col (j, cl, col, b, oy, out_row, x_first, 0, lo);
    const float *a = j->in + ((b * j->h + iy) * j->w + ix0 + lo) * j->cin;
    if (p->dot) {
      p->k->vdot ((size_t) (hi - lo), j->cin, a, j->cin, 1, 1,
          p->dot + (ry * sw + rx) * p->max_kc, p->dot_bias,
          out_row + (x_first + (size_t) lo * sw) * j->cout, 0, sw * j->cout,
          &j->act);
    } else {
      for (size_t g = 0; g < (size_t) p->groups; g++)
        class_gemm (j, cl, g, a + g * p->geo.cin_g, j->cin, out_row, x_first,
            lo, hi);
    }
    class_im2col (j, cl, col, b, oy, out_row, x_first, hi, count);
  }
}

/* Blocks mode: input row `task` (over the batch) makes whole output
 * blocks, sh rows of them, in one kernel call. */
static void
deconv_block_row (void *data, size_t task, int thread)
{
  const deconv_job *j = data;
  const deconv_packed *p = j->p;
  (void) thread;
  p->k->vdot (j->w, j->cin, j->in + task * j->w * j->cin, j->cin,
      (size_t) p->sh, (size_t) p->sw, p->dot, p->dot_bias,
      j->out + task * p->sh * j->ow, j->ow, (size_t) p->sw, &j->act);
}

static void
deconv_run (const seg_node *n, const seg_value *v, const seg_node_plan *plan,
    const seg_run_ctx *ctx)
{
  const deconv_packed *p = n->packed;
  const seg_value *x = &v[n->in[0]];
  const seg_value *y = &v[n->out[0]];
  deconv_job j = {
      .p = p,
      .ctx = ctx,
      .in = x->data,
      .out = y->data,
      .h = x->dims[1],
      .w = x->dims[2],
      .cin = x->dims[3],
      .oh = y->dims[1],
      .ow = y->dims[2],
      .cout = y->dims[3],
      .cout_g = p->geo.out_ch / p->groups,
      .dh = n->a.dilation[0],
      .dw = n->a.dilation[1],
      .pt = plan->pads[0],
      .pl = plan->pads[1],
      .act = {n->a.act, n->a.act_a, n->a.act_b},
  };
  /* Blocks tile the output exactly unless padding crops them or
   * output_padding adds bias-only pixels: then the general path. */
  if (p->blocks && j.oh == j.h * p->sh && j.ow == j.w * p->sw
      && plan->pads[0] == 0 && plan->pads[1] == 0) {
    seg_threadpool_run (ctx->pool, deconv_block_row, &j,
        (size_t) y->dims[0] * j.h);
    return;
  }
  seg_threadpool_run (ctx->pool, deconv_row, &j, (size_t) y->dims[0] * j.oh);
}

const seg_op_vtable seg_op_conv_transpose = {
    .infer = deconv_infer,
    .pack = deconv_pack,
    .run = deconv_run,
};
