/* Tests for Conv, ConvTranspose, GlobalAveragePool and Resize. Every op
 * runs through its vtable (pack, infer, run) on a one-node graph and is
 * compared with a naive reference in this file that accumulates in double.
 * The suite runs once with the best kernels for this CPU, once more capped
 * at AVX2 when that is a different table, and once capped at scalar
 * (seg_f32_kernels_cap). The microkernels themselves, every ISA against
 * the scalar one, are test-microkernels.c's.
 *
 * Tolerance: |got - ref| <= 1e-5 * (1 + |ref|) per element.
 *
 * One file of ~1.2k lines: the four ops share the reference convolution,
 * the one-node graph builder and the ISA-capped runs; one section per op.
 */
#include "conv-env.h"

/* ---- one-node graph harness -------------------------------------------- */

typedef struct
{
  seg_graph *g;
  int static_tensor; /* this constant is presented as a plan-time value */
  seg_value v[8];
  seg_node_plan plan;
  seg_err err;
} harness;

static harness
harness_new (void)
{
  harness h;
  memset (&h, 0, sizeof h);
  h.static_tensor = -1;
  h.g = seg_graph_new (SEG_LAYOUT_NHWC);
  if (!h.g) {
    fprintf (stderr, "out of memory\n");
    exit (1);
  }
  return h;
}

/* A tensor with copied data (constant) or without (activation). */
static int
add_tensor (harness *h, const char *name, seg_dtype dt, int rank,
    const int64_t *dims, const void *data, size_t nbytes)
{
  int t = seg_graph_add_tensor (h->g, name, dt, rank, dims,
      data ? copy_of (data, nbytes) : NULL, data ? nbytes : 0);
  if (t < 0) {
    fprintf (stderr, "seg_graph_add_tensor failed\n");
    exit (1);
  }
  return t;
}

static seg_node *
add_node (harness *h, seg_op op, int nin, const int *in, int out)
{
  seg_node *n = seg_graph_add_node (h->g, op, "node", nin, in, 1, &out);
  if (!n) {
    fprintf (stderr, "seg_graph_add_node failed\n");
    exit (1);
  }
  return n;
}

/* pack (if the op has it), then values from the graph's tensors, then
 * infer: what a model load followed by a session plan does. */
static seg_status
harness_plan (harness *h)
{
  seg_node *n = &h->g->nodes[0];
  const seg_op_vtable *vt = seg_op_vtable_get (n->op);
  h->err.msg[0] = '\0';
  if (!vt->infer || !vt->run) {
    snprintf (h->err.msg, sizeof h->err.msg, "op has no implementation");
    return SEG_ERR_UNSUPPORTED;
  }
  if (vt->pack) {
    seg_status st = vt->pack (n, h->g, &h->err);
    if (st != SEG_OK)
      return st;
  }
  for (int t = 0; t < h->g->ntensors; t++) {
    const seg_tensor *ten = &h->g->tensors[t];
    seg_value *v = &h->v[t];
    v->kind = !ten->data        ? SEG_VAL_ACT
        : t == h->static_tensor ? SEG_VAL_STATIC
                                : SEG_VAL_CONST;
    v->dtype = ten->dtype;
    v->rank = ten->rank;
    memcpy (v->dims, ten->dims, sizeof v->dims);
    v->data = ten->data;
    v->nbytes = ten->nbytes;
  }
  memset (&h->plan, 0, sizeof h->plan);
  return vt->infer (n, h->v, &h->plan, &h->err);
}

/* Runs on input x with the pool; returns the output (malloc'd, caller
 * frees). The output starts as NaN and the scratch as garbage so that a
 * missed store or a read of unwritten scratch shows. */
static float *
harness_run (harness *h, seg_threadpool *pool, const float *x)
{
  seg_node *n = &h->g->nodes[0];
  seg_value *y = &h->v[n->out[0]];
  size_t count = (size_t) seg_shape_elements (y->rank, y->dims);
  float *out = malloc (count * sizeof *out);
  int threads = seg_threadpool_threads (pool);
  size_t stride = (h->plan.scratch_bytes + 63) / 64 * 64;
  uint8_t *scratch = aligned_alloc (64, stride * threads + 64);
  if (!out || !scratch) {
    fprintf (stderr, "out of memory\n");
    exit (1);
  }
  for (size_t i = 0; i < count; i++)
    out[i] = NAN;
  memset (scratch, 0xff, stride * threads + 64);
  h->v[n->in[0]].data = (void *) x;
  y->data = out;
  seg_run_ctx ctx = {.pool = pool,
      .scratch = scratch,
      .scratch_stride = stride};
  seg_op_vtable_get (n->op)->run (n, h->v, &h->plan, &ctx);
  free (scratch);
  return out;
}

static void
harness_free (harness *h)
{
  seg_graph_free (h->g);
}

/* ---- Conv ---------------------------------------------------------------- */

typedef struct
{
  int n, h, w, cin, cout, groups, kh, kw, sh, sw, dh, dw;
  seg_pad_mode pad_mode;
  int pads[4];
  seg_weight_layout layout;
  bool bias;
  seg_act act;
  int pool; /* index into env.pools */
} conv_case;

static double
conv_weight (const conv_case *c, const float *w, int o, int ci, int ky, int kx)
{
  int cin_g = c->cin / c->groups;
  switch (c->layout) {
    case SEG_WL_OIHW:
      return w[((o * cin_g + ci) * c->kh + ky) * c->kw + kx];
    case SEG_WL_OHWI:
      return w[((o * c->kh + ky) * c->kw + kx) * cin_g + ci];
    case SEG_WL_1HWO:
      return w[(ky * c->kw + kx) * c->cout + o];
    default:
      return NAN;
  }
}

/* Output length and padding of one axis, written from the definitions. */
static int
conv_out_len (seg_pad_mode mode, int in, int k, int s, int d, int eb, int ee,
    int *pb)
{
  int ext = (k - 1) * d + 1, b = eb, e = ee;
  if (mode == SEG_PAD_VALID) {
    b = e = 0;
  } else if (mode != SEG_PAD_EXPLICIT) {
    int total = ((in + s - 1) / s - 1) * s + ext - in;
    total = total > 0 ? total : 0;
    b = mode == SEG_PAD_SAME_UPPER ? total / 2 : total - total / 2;
    e = total - b;
  }
  *pb = b;
  if (in + b + e < ext)
    return 0;
  return (in + b + e - ext) / s + 1;
}

static void
conv_describe (const conv_case *c, char *buf, size_t size)
{
  snprintf (buf, size,
      "conv n%d %dx%dx%d->%d g%d k%dx%d s%d,%d d%d,%d pad%d[%d,%d,%d,%d] "
      "wl%d bias%d act%d threads%d",
      c->n, c->h, c->w, c->cin, c->cout, c->groups, c->kh, c->kw, c->sh, c->sw,
      c->dh, c->dw, (int) c->pad_mode, c->pads[0], c->pads[1], c->pads[2],
      c->pads[3], (int) c->layout, c->bias, (int) c->act, c->pool + 1);
}

static void
test_conv_case (env *e, const conv_case *c)
{
  char what[256];
  conv_describe (c, what, sizeof what);
  int cin_g = c->cin / c->groups, cout_g = c->cout / c->groups;
  size_t wcount = (size_t) c->cout * cin_g * c->kh * c->kw;
  size_t xcount = (size_t) c->n * c->h * c->w * c->cin;
  float *w =
      random_floats (e, wcount, 1.5f / sqrtf ((float) cin_g * c->kh * c->kw));
  float *x = random_floats (e, xcount, 1.0f);
  float *bias = random_floats (e, c->cout, 1.0f);
  float act_a, act_b;
  act_params (c->act, &act_a, &act_b);

  int pt, pl;
  int oh = conv_out_len (c->pad_mode, c->h, c->kh, c->sh, c->dh, c->pads[0],
      c->pads[2], &pt);
  int ow = conv_out_len (c->pad_mode, c->w, c->kw, c->sw, c->dw, c->pads[1],
      c->pads[3], &pl);

  harness h = harness_new ();
  int64_t xd[4] = {c->n, c->h, c->w, c->cin};
  int64_t wd[4];
  if (c->layout == SEG_WL_OIHW)
    memcpy (wd, (int64_t[4]){c->cout, cin_g, c->kh, c->kw}, sizeof wd);
  else if (c->layout == SEG_WL_OHWI)
    memcpy (wd, (int64_t[4]){c->cout, c->kh, c->kw, cin_g}, sizeof wd);
  else
    memcpy (wd, (int64_t[4]){1, c->kh, c->kw, c->cout}, sizeof wd);
  int64_t bd[1] = {c->cout};
  int in[3];
  in[0] = add_tensor (&h, "x", SEG_DT_F32, 4, xd, NULL, 0);
  in[1] = add_tensor (&h, "w", SEG_DT_F32, 4, wd, w, wcount * sizeof *w);
  in[2] = c->bias
      ? add_tensor (&h, "b", SEG_DT_F32, 1, bd, bias, c->cout * sizeof *bias)
      : -1;
  int out = add_tensor (&h, "y", SEG_DT_F32, 0, NULL, NULL, 0);
  seg_node *n = add_node (&h, SEG_OP_CONV, c->bias ? 3 : 2, in, out);
  n->a.kernel[0] = c->kh;
  n->a.kernel[1] = c->kw;
  n->a.stride[0] = c->sh;
  n->a.stride[1] = c->sw;
  n->a.dilation[0] = c->dh;
  n->a.dilation[1] = c->dw;
  memcpy (n->a.pads, c->pads, sizeof n->a.pads);
  n->a.pad_mode = c->pad_mode;
  n->a.groups = c->groups;
  n->a.wlayout = c->layout;
  n->a.act = c->act;
  n->a.act_a = act_a;
  n->a.act_b = act_b;

  seg_status st = harness_plan (&h);
  e->checks++;
  if (oh < 1 || ow < 1) {
    if (st == SEG_OK || !h.err.msg[0])
      fail (e, "%s: kernel larger than the input was accepted", what);
    goto out;
  }
  if (st != SEG_OK) {
    fail (e, "%s: plan failed: %s", what, h.err.msg);
    goto out;
  }
  const seg_value *y = &h.v[out];
  if (y->rank != 4 || y->dims[0] != c->n || y->dims[1] != oh || y->dims[2] != ow
      || y->dims[3] != c->cout) {
    fail (e, "%s: output dims %lldx%lldx%lldx%lld, expected %dx%dx%dx%d", what,
        (long long) y->dims[0], (long long) y->dims[1], (long long) y->dims[2],
        (long long) y->dims[3], c->n, oh, ow, c->cout);
    goto out;
  }
  uint64_t macs = (uint64_t) c->n * oh * ow * c->cout * cin_g * c->kh * c->kw;
  if (h.plan.macs != macs)
    fail (e, "%s: macs %llu, expected %llu", what,
        (unsigned long long) h.plan.macs, (unsigned long long) macs);

  size_t ycount = (size_t) c->n * oh * ow * c->cout;
  double *ref = malloc (ycount * sizeof *ref);
  for (int b = 0; b < c->n; b++)
    for (int oy = 0; oy < oh; oy++)
      for (int ox = 0; ox < ow; ox++)
        for (int o = 0; o < c->cout; o++) {
          int g = o / cout_g;
          double acc = c->bias ? bias[o] : 0.0;
          for (int ky = 0; ky < c->kh; ky++)
            for (int kx = 0; kx < c->kw; kx++) {
              int iy = oy * c->sh - pt + ky * c->dh;
              int ix = ox * c->sw - pl + kx * c->dw;
              if (iy < 0 || iy >= c->h || ix < 0 || ix >= c->w)
                continue;
              for (int ci = 0; ci < cin_g; ci++)
                acc += (double) x[((b * c->h + iy) * c->w + ix) * c->cin
                           + g * cin_g + ci]
                    * conv_weight (c, w, o, ci, ky, kx);
            }
          ref[((b * oh + oy) * ow + ox) * c->cout + o] =
              ref_act (c->act, act_a, act_b, acc);
        }
  float *got = harness_run (&h, e->pools[c->pool], x);
  check_close (e, what, got, ref, ycount);
  free (got);
  free (ref);
out:
  harness_free (&h);
  free (w);
  free (x);
  free (bias);
}

static void
test_conv (env *e)
{
  /* cin, cout, groups, kh, kw: the stem, pointwise below/above the tiles,
   * grouped, depthwise (channels around the 8/16 vector widths), depth
   * multiplier 2, a lone channel, a non-square kernel. */
  static const int shapes[][5] = {
      {3, 16, 1, 3, 3},
      {5, 7, 1, 1, 1},
      {33, 40, 1, 1, 1},
      {17, 9, 1, 1, 1},
      {8, 6, 2, 3, 3},
      {4, 12, 2, 1, 1},
      {11, 11, 11, 3, 3},
      {20, 20, 20, 5, 5},
      {24, 24, 24, 3, 3},
      {7, 14, 7, 3, 3},
      {1, 1, 1, 3, 3},
      {6, 19, 1, 3, 2},
  };
  static const int sizes[][2] = {{1, 1}, {7, 5}, {13, 17}};
  static const seg_pad_mode modes[] = {SEG_PAD_EXPLICIT, SEG_PAD_SAME_UPPER,
      SEG_PAD_SAME_LOWER, SEG_PAD_VALID};
  int index = 0;
  for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++)
    for (size_t z = 0; z < sizeof sizes / sizeof sizes[0]; z++)
      for (int stride = 1; stride <= 2; stride++)
        for (int dil = 1; dil <= 2; dil++)
          for (size_t m = 0; m < 4; m++, index++) {
            conv_case c = {
                .n = index % 7 == 3 ? 2 : 1,
                .h = sizes[z][0],
                .w = sizes[z][1],
                .cin = shapes[s][0],
                .cout = shapes[s][1],
                .groups = shapes[s][2],
                .kh = shapes[s][3],
                .kw = shapes[s][4],
                /* one axis strided alone now and then */
                .sh = stride,
                .sw = index % 5 == 0 ? 1 : stride,
                .dh = dil,
                .dw = dil,
                .pad_mode = modes[m],
                .bias = index % 3 != 1,
                .act = (seg_act) (index % 6),
                .pool = index % 2,
            };
            for (int i = 0; i < 4; i++) {
              int ext = ((i % 2 ? c.kw : c.kh) - 1) * dil + 1;
              c.pads[i] = (int) (test_rand (&e->rng) % (uint64_t) ext);
            }
            /* Explicit padding on a 1x1 kernel sends it down im2col. */
            if (c.kh == 1 && c.kw == 1 && m == 0 && index % 2)
              c.pads[1] = 1;
            bool dw_ok = c.cin == c.groups;
            int nl = dw_ok ? 3 : 2;
            static const seg_weight_layout layouts[] = {SEG_WL_OIHW,
                SEG_WL_OHWI, SEG_WL_1HWO};
            c.layout = layouts[(index / 4) % nl];
            test_conv_case (e, &c);
          }

  /* 3x3 over 160 channels gathers 1440 floats per pixel: a 30-pixel row
   * takes two im2col chunks. */
  for (int i = 0; i < 2; i++) {
    conv_case c = {
        .n = 1,
        .h = 3,
        .w = 30,
        .cin = 160,
        .cout = 8,
        .groups = 1,
        .kh = 3,
        .kw = 3,
        .sh = 1,
        .sw = 1,
        .dh = 1,
        .dw = 1,
        .pad_mode = SEG_PAD_SAME_UPPER,
        .layout = SEG_WL_OHWI,
        .bias = true,
        .act = SEG_ACT_HARDSWISH,
        .pool = i,
    };
    test_conv_case (e, &c);
  }

  /* Stems wide enough for the in-place path's 16-pixel tiles and their
   * overlapping last tile, with ONNX's symmetric padding, TFLite's SAME
   * (bottom/right only) and none, at strides 1 and 2, and 3 -> 40 channels
   * for the two-vector path. */
  for (int i = 0; i < 8; i++) {
    conv_case c = {
        .n = 1 + i % 2,
        .h = 5 + i,
        .w = 37 + 9 * i,
        .cin = i == 7 ? 5 : 3,
        .cout = i == 6 ? 40 : 16,
        .groups = 1,
        .kh = 3,
        .kw = 3,
        .sh = 1 + (i / 2) % 2,
        .sw = 1 + (i / 2) % 2,
        .dh = 1,
        .dw = 1,
        .pad_mode = i % 3 == 0 ? SEG_PAD_EXPLICIT
            : i % 3 == 1       ? SEG_PAD_SAME_UPPER
                               : SEG_PAD_VALID,
        .pads = {1, 1, 1, 1},
        .layout = i % 2 ? SEG_WL_OHWI : SEG_WL_OIHW,
        .bias = true,
        .act = SEG_ACT_HARDSWISH,
        .pool = i % 2,
    };
    test_conv_case (e, &c);
  }

  /* A big pointwise conv on two pixels: too few row tiles to keep two
   * threads busy, so the output channels are split between tasks. */
  for (int i = 0; i < 2; i++) {
    conv_case c = {
        .n = 1,
        .h = 2,
        .w = 1,
        .cin = 700,
        .cout = 750,
        .groups = 1,
        .kh = 1,
        .kw = 1,
        .sh = 1,
        .sw = 1,
        .dh = 1,
        .dw = 1,
        .pad_mode = SEG_PAD_VALID,
        .layout = SEG_WL_OIHW,
        .bias = true,
        .act = SEG_ACT_SIGMOID,
        .pool = i,
    };
    test_conv_case (e, &c);
  }
}

/* ---- ConvTranspose ----------------------------------------------------- */

typedef struct
{
  int n, h, w, cin, cout, groups, kh, kw, sh, sw, dh, dw;
  seg_pad_mode pad_mode;
  int pads[4], out_pad[2];
  seg_weight_layout layout;
  bool bias;
  seg_act act;
  int pool;
} deconv_case;

static double
deconv_weight (const deconv_case *c, const float *w, int ci, int o, int ky,
    int kx)
{
  /* ci global, o global */
  int cin_g = c->cin / c->groups, cout_g = c->cout / c->groups;
  if (c->layout == SEG_WL_IOHW)
    return w[((ci * cout_g + o % cout_g) * c->kh + ky) * c->kw + kx];
  return w[((o * c->kh + ky) * c->kw + kx) * cin_g + ci % cin_g];
}

static int
deconv_out_len (seg_pad_mode mode, int in, int k, int s, int d, int op, int eb,
    int ee, int *pb)
{
  int full = (in - 1) * s + (k - 1) * d + 1;
  if (mode == SEG_PAD_SAME_UPPER || mode == SEG_PAD_SAME_LOWER) {
    int total = full + op - in * s;
    total = total > 0 ? total : 0;
    *pb = mode == SEG_PAD_SAME_UPPER ? total / 2 : total - total / 2;
    return in * s;
  }
  if (mode == SEG_PAD_VALID)
    eb = ee = 0;
  *pb = eb;
  return full + op - eb - ee;
}

static void
test_deconv_case (env *e, const deconv_case *c)
{
  char what[256];
  snprintf (what, sizeof what,
      "convtranspose n%d %dx%dx%d->%d g%d k%dx%d s%d,%d d%d,%d pad%d"
      "[%d,%d,%d,%d] op%d,%d wl%d bias%d act%d threads%d",
      c->n, c->h, c->w, c->cin, c->cout, c->groups, c->kh, c->kw, c->sh, c->sw,
      c->dh, c->dw, (int) c->pad_mode, c->pads[0], c->pads[1], c->pads[2],
      c->pads[3], c->out_pad[0], c->out_pad[1], (int) c->layout, c->bias,
      (int) c->act, c->pool + 1);
  int cin_g = c->cin / c->groups, cout_g = c->cout / c->groups;
  size_t wcount = (size_t) c->cout * cin_g * c->kh * c->kw;
  size_t xcount = (size_t) c->n * c->h * c->w * c->cin;
  float *w = random_floats (e, wcount, 1.5f / sqrtf ((float) cin_g));
  float *x = random_floats (e, xcount, 1.0f);
  float *bias = random_floats (e, c->cout, 1.0f);
  float act_a, act_b;
  act_params (c->act, &act_a, &act_b);

  int pt, pl;
  int oh = deconv_out_len (c->pad_mode, c->h, c->kh, c->sh, c->dh,
      c->out_pad[0], c->pads[0], c->pads[2], &pt);
  int ow = deconv_out_len (c->pad_mode, c->w, c->kw, c->sw, c->dw,
      c->out_pad[1], c->pads[1], c->pads[3], &pl);

  harness h = harness_new ();
  int64_t xd[4] = {c->n, c->h, c->w, c->cin};
  int64_t wd[4];
  if (c->layout == SEG_WL_IOHW)
    memcpy (wd, (int64_t[4]){c->cin, cout_g, c->kh, c->kw}, sizeof wd);
  else
    memcpy (wd, (int64_t[4]){c->cout, c->kh, c->kw, cin_g}, sizeof wd);
  int64_t bd[1] = {c->cout};
  int in[3];
  in[0] = add_tensor (&h, "x", SEG_DT_F32, 4, xd, NULL, 0);
  in[1] = add_tensor (&h, "w", SEG_DT_F32, 4, wd, w, wcount * sizeof *w);
  in[2] = c->bias
      ? add_tensor (&h, "b", SEG_DT_F32, 1, bd, bias, c->cout * sizeof *bias)
      : -1;
  int out = add_tensor (&h, "y", SEG_DT_F32, 0, NULL, NULL, 0);
  seg_node *n = add_node (&h, SEG_OP_CONV_TRANSPOSE, c->bias ? 3 : 2, in, out);
  n->a.stride[0] = c->sh;
  n->a.stride[1] = c->sw;
  n->a.dilation[0] = c->dh;
  n->a.dilation[1] = c->dw;
  memcpy (n->a.pads, c->pads, sizeof n->a.pads);
  n->a.output_padding[0] = c->out_pad[0];
  n->a.output_padding[1] = c->out_pad[1];
  n->a.pad_mode = c->pad_mode;
  n->a.groups = c->groups;
  n->a.wlayout = c->layout;
  n->a.act = c->act;
  n->a.act_a = act_a;
  n->a.act_b = act_b;

  seg_status st = harness_plan (&h);
  e->checks++;
  if (oh < 1 || ow < 1) {
    if (st == SEG_OK || !h.err.msg[0])
      fail (e, "%s: empty output was accepted", what);
    goto out;
  }
  if (st != SEG_OK) {
    fail (e, "%s: plan failed: %s", what, h.err.msg);
    goto out;
  }
  const seg_value *y = &h.v[out];
  if (y->rank != 4 || y->dims[0] != c->n || y->dims[1] != oh || y->dims[2] != ow
      || y->dims[3] != c->cout) {
    fail (e, "%s: output dims %lldx%lldx%lldx%lld, expected %dx%dx%dx%d", what,
        (long long) y->dims[0], (long long) y->dims[1], (long long) y->dims[2],
        (long long) y->dims[3], c->n, oh, ow, c->cout);
    goto out;
  }

  /* Scatter form, the definition; the op gathers. */
  size_t ycount = (size_t) c->n * oh * ow * c->cout;
  double *ref = calloc (ycount, sizeof *ref);
  for (int b = 0; b < c->n; b++)
    for (int iy = 0; iy < c->h; iy++)
      for (int ix = 0; ix < c->w; ix++)
        for (int ci = 0; ci < c->cin; ci++) {
          int g = ci / cin_g;
          double xv = x[((b * c->h + iy) * c->w + ix) * c->cin + ci];
          for (int ky = 0; ky < c->kh; ky++)
            for (int kx = 0; kx < c->kw; kx++) {
              int oy = iy * c->sh - pt + ky * c->dh;
              int ox = ix * c->sw - pl + kx * c->dw;
              if (oy < 0 || oy >= oh || ox < 0 || ox >= ow)
                continue;
              for (int o = g * cout_g; o < (g + 1) * cout_g; o++)
                ref[((b * oh + oy) * ow + ox) * c->cout + o] +=
                    xv * deconv_weight (c, w, ci, o, ky, kx);
            }
        }
  for (size_t i = 0; i < ycount; i++)
    ref[i] = ref_act (c->act, act_a, act_b,
        ref[i] + (c->bias ? bias[i % c->cout] : 0.0));
  float *got = harness_run (&h, e->pools[c->pool], x);
  check_close (e, what, got, ref, ycount);
  free (got);
  free (ref);
out:
  harness_free (&h);
  free (w);
  free (x);
  free (bias);
}

static void
test_deconv (env *e)
{
  /* cin, cout, groups, kh, kw, sh, sw: MediaPipe's 2x2/2 head, grouped,
   * stride 1, a 4x4/2 upsampler, a 1x1/2 whose odd outputs get no taps,
   * unequal strides (3 along W, where -pad and +pad residues differ),
   * MediaPipe's head as it is (one output channel) and with a channel
   * count that leaves a SIMD tail. */
  static const int shapes[][7] = {
      {5, 3, 1, 2, 2, 2, 2},
      {4, 6, 2, 3, 3, 2, 2},
      {3, 5, 1, 3, 3, 1, 1},
      {6, 4, 1, 4, 4, 2, 2},
      {2, 17, 1, 1, 1, 2, 2},
      {3, 2, 1, 3, 4, 2, 3},
      {16, 1, 1, 2, 2, 2, 2}, /* one output channel: the vdot kernel */
      {37, 1, 1, 2, 2, 2, 2},
  };
  static const int sizes[][2] = {{1, 1}, {7, 5}, {13, 17}};
  static const seg_pad_mode modes[] = {SEG_PAD_EXPLICIT, SEG_PAD_SAME_UPPER,
      SEG_PAD_SAME_LOWER, SEG_PAD_VALID};
  int index = 0;
  for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++)
    for (size_t z = 0; z < sizeof sizes / sizeof sizes[0]; z++)
      for (int dil = 1; dil <= 2; dil++)
        for (size_t m = 0; m < 4; m++, index++) {
          deconv_case c = {
              .n = index % 5 == 2 ? 2 : 1,
              .h = sizes[z][0],
              .w = sizes[z][1],
              .cin = shapes[s][0],
              .cout = shapes[s][1],
              .groups = shapes[s][2],
              .kh = shapes[s][3],
              .kw = shapes[s][4],
              .sh = shapes[s][5],
              .sw = shapes[s][6],
              .dh = dil,
              .dw = dil,
              .pad_mode = modes[m],
              .layout = index % 2 ? SEG_WL_IOHW : SEG_WL_OHWI,
              .bias = index % 3 != 2,
              .act = (seg_act) (index % 6),
              .pool = (index / 2) % 2,
          };
          for (int i = 0; i < 4; i++) {
            int ext = ((i % 2 ? c.kw : c.kh) - 1) * dil + 1;
            c.pads[i] = (int) (test_rand (&e->rng) % (uint64_t) ext);
          }
          /* output_padding counts in every mode (ONNX adds it to the SAME
           * total padding too). */
          for (int i = 0; i < 2; i++) {
            int st = i ? c.sw : c.sh;
            c.out_pad[i] =
                (int) (test_rand (&e->rng) % (uint64_t) (st > dil ? st : dil));
          }
          test_deconv_case (e, &c);
        }

  /* Dilation 3 on a 2x2/2 kernel puts the single tap of class 1 three
   * pixels out, so its first outputs fall left of the input. */
  for (int i = 0; i < 4; i++) {
    deconv_case c = {
        .n = 1,
        .h = 5,
        .w = 7,
        .cin = 4,
        .cout = 3,
        .groups = 1,
        .kh = 2,
        .kw = 2,
        .sh = 2,
        .sw = 2,
        .dh = 3,
        .dw = 3,
        .pad_mode = SEG_PAD_EXPLICIT,
        .pads = {i, i, 3 - i, 3 - i},
        .layout = SEG_WL_OHWI,
        .bias = true,
        .act = SEG_ACT_SIGMOID,
        .pool = i % 2,
    };
    test_deconv_case (e, &c);
  }

  /* 3x3/2 has classes of 1, 2 and 4 taps; over 250 channels and ~120
   * pixels per class, the 2-tap class gathers more floats per chunk than
   * the 4-tap one, and the scratch must hold either. */
  for (int i = 0; i < 2; i++) {
    deconv_case c = {
        .n = 1,
        .h = 2,
        .w = 121,
        .cin = 250,
        .cout = 2,
        .groups = 1,
        .kh = 3,
        .kw = 3,
        .sh = 2,
        .sw = 2,
        .dh = 1,
        .dw = 1,
        .pad_mode = SEG_PAD_VALID,
        .layout = SEG_WL_IOHW,
        .bias = true,
        .act = SEG_ACT_NONE,
        .pool = i,
    };
    test_deconv_case (e, &c);
  }

  /* One output channel with kernel == stride: whole blocks per input
   * pixel in one kernel call. 16 channels (MediaPipe's head), another
   * multiple of 4, one that is not, and 3x3/3; widths around the 8-pixel
   * step; SAME_LOWER with output_padding 1 shifts the blocks by a pixel,
   * which the blocks path must leave to the general one. */
  static const int blocks[][6] = {
      /* cin, k, h, w, out_pad, same_lower */
      {16, 2, 13, 17, 0, 0},
      {16, 2, 4, 8, 0, 0},
      {12, 2, 3, 9, 0, 0},
      {6, 2, 5, 7, 0, 0},
      {16, 3, 4, 5, 0, 0},
      {16, 2, 5, 9, 1, 0},
      {16, 2, 5, 9, 1, 1},
  };
  for (size_t i = 0; i < sizeof blocks / sizeof blocks[0]; i++) {
    const int *b = blocks[i];
    deconv_case c = {
        .n = i % 3 == 1 ? 2 : 1,
        .h = b[2],
        .w = b[3],
        .cin = b[0],
        .cout = 1,
        .groups = 1,
        .kh = b[1],
        .kw = b[1],
        .sh = b[1],
        .sw = b[1],
        .dh = 1,
        .dw = 1,
        .pad_mode = b[5] ? SEG_PAD_SAME_LOWER : SEG_PAD_SAME_UPPER,
        .out_pad = {b[4], b[4]},
        .layout = i % 2 ? SEG_WL_IOHW : SEG_WL_OHWI,
        .bias = i != 2,
        .act = i % 2 ? SEG_ACT_SIGMOID : SEG_ACT_NONE,
        .pool = (int) i % 2,
    };
    test_deconv_case (e, &c);
  }

  /* Likewise two im2col chunks per residue class. */
  for (int i = 0; i < 2; i++) {
    deconv_case c = {
        .n = 1,
        .h = 2,
        .w = 30,
        .cin = 160,
        .cout = 5,
        .groups = 1,
        .kh = 3,
        .kw = 3,
        .sh = 1,
        .sw = 1,
        .dh = 1,
        .dw = 1,
        .pad_mode = SEG_PAD_SAME_UPPER,
        .layout = SEG_WL_IOHW,
        .bias = true,
        .act = SEG_ACT_RELU,
        .pool = i,
    };
    test_deconv_case (e, &c);
  }
}

/* ---- GlobalAveragePool ------------------------------------------------- */

static void
test_pool (env *e)
{
  static const int sizes[][2] = {{1, 1}, {7, 5}, {13, 17}, {16, 16}};
  static const int channels[] = {1, 3, 64, 70, 130};
  int index = 0;
  for (size_t z = 0; z < sizeof sizes / sizeof sizes[0]; z++)
    for (size_t k = 0; k < sizeof channels / sizeof channels[0]; k++, index++) {
      int nb = index % 4 == 1 ? 2 : 1, hh = sizes[z][0], ww = sizes[z][1];
      int cc = channels[k];
      seg_act act = (seg_act) (index % 6);
      float act_a, act_b;
      act_params (act, &act_a, &act_b);
      char what[128];
      snprintf (what, sizeof what, "gavgpool n%d %dx%dx%d act%d threads%d", nb,
          hh, ww, cc, (int) act, index % 2 + 1);
      size_t xcount = (size_t) nb * hh * ww * cc;
      float *x = random_floats (e, xcount, 2.0f);
      harness h = harness_new ();
      int64_t xd[4] = {nb, hh, ww, cc};
      int in = add_tensor (&h, "x", SEG_DT_F32, 4, xd, NULL, 0);
      int out = add_tensor (&h, "y", SEG_DT_F32, 0, NULL, NULL, 0);
      seg_node *n = add_node (&h, SEG_OP_GLOBAL_AVG_POOL, 1, &in, out);
      n->a.act = act;
      n->a.act_a = act_a;
      n->a.act_b = act_b;
      e->checks++;
      if (harness_plan (&h) != SEG_OK) {
        fail (e, "%s: plan failed: %s", what, h.err.msg);
      } else if (h.v[out].rank != 4 || h.v[out].dims[0] != nb
          || h.v[out].dims[1] != 1 || h.v[out].dims[2] != 1
          || h.v[out].dims[3] != cc) {
        fail (e, "%s: wrong output dims", what);
      } else {
        double *ref = malloc ((size_t) nb * cc * sizeof *ref);
        for (int b = 0; b < nb; b++)
          for (int ch = 0; ch < cc; ch++) {
            double sum = 0;
            for (int p = 0; p < hh * ww; p++)
              sum += x[((size_t) b * hh * ww + p) * cc + ch];
            ref[b * cc + ch] = ref_act (act, act_a, act_b, sum / (hh * ww));
          }
        float *got = harness_run (&h, e->pools[index % 2], x);
        check_close (e, what, got, ref, (size_t) nb * cc);
        free (got);
        free (ref);
      }
      harness_free (&h);
      free (x);
    }
}

/* ---- Resize ------------------------------------------------------------ */

typedef enum
{
  BY_SIZES_I64_NCHW, /* ONNX: sizes [N, C, H, W] */
  BY_SIZES_I32_HW,   /* TFLite: size [H, W] */
  BY_SIZES_I64_NHWC,
  BY_SCALES_NCHW, /* ONNX: scales [1, 1, sh, sw], empty sizes absent */
  BY_MAX_
} resize_by;

static double
ref_coord (seg_coord_mode mode, int i, int in, int out, double scale)
{
  double s = 0;
  switch (mode) {
    case SEG_COORD_HALF_PIXEL:
      s = (i + 0.5) / scale - 0.5;
      break;
    case SEG_COORD_PYTORCH_HALF_PIXEL:
      s = out > 1 ? (i + 0.5) / scale - 0.5 : 0;
      break;
    case SEG_COORD_ALIGN_CORNERS:
      s = out > 1 ? (double) i * (in - 1) / (out - 1) : 0;
      break;
    case SEG_COORD_ASYMMETRIC:
      s = i / scale;
      break;
  }
  return fmin (fmax (s, 0), in - 1);
}

static void
test_resize_case (env *e, int nb, int ih, int iw, int cc, int oh, int ow,
    double scale_h, double scale_w, seg_coord_mode mode, resize_by by, int pool)
{
  char what[160];
  snprintf (what, sizeof what,
      "resize n%d %dx%dx%d->%dx%d scale %g,%g coord%d by%d threads%d", nb, ih,
      iw, cc, oh, ow, scale_h, scale_w, (int) mode, (int) by, pool + 1);
  size_t xcount = (size_t) nb * ih * iw * cc;
  float *x = random_floats (e, xcount, 3.0f);
  harness h = harness_new ();
  int64_t xd[4] = {nb, ih, iw, cc};
  int in[4] = {-1, -1, -1, -1};
  in[0] = add_tensor (&h, "x", SEG_DT_F32, 4, xd, NULL, 0);
  int64_t len4[1] = {4}, len2[1] = {2}, len0[1] = {0};
  bool nchw = by == BY_SIZES_I64_NCHW || by == BY_SCALES_NCHW;
  if (by == BY_SIZES_I64_NCHW) {
    int64_t v[4] = {nb, cc, oh, ow};
    in[2] = add_tensor (&h, "scales", SEG_DT_F32, 1, len0, "", 0);
    in[3] = add_tensor (&h, "sizes", SEG_DT_I64, 1, len4, v, sizeof v);
  } else if (by == BY_SIZES_I32_HW) {
    int32_t v[2] = {oh, ow};
    in[3] = add_tensor (&h, "sizes", SEG_DT_I32, 1, len2, v, sizeof v);
  } else if (by == BY_SIZES_I64_NHWC) {
    int64_t v[4] = {nb, oh, ow, cc};
    in[3] = add_tensor (&h, "sizes", SEG_DT_I64, 1, len4, v, sizeof v);
  } else {
    float v[4] = {1.0f, 1.0f, (float) scale_h, (float) scale_w};
    in[2] = add_tensor (&h, "scales", SEG_DT_F32, 1, len4, v, sizeof v);
  }
  int out = add_tensor (&h, "y", SEG_DT_F32, 0, NULL, NULL, 0);
  seg_node *n = add_node (&h, SEG_OP_RESIZE, 4, in, out);
  n->a.coord = mode;
  n->a.nchw = nchw;

  /* TFLite sizes computed by shape ops arrive as plan-time values. */
  if (by == BY_SIZES_I32_HW)
    h.static_tensor = in[3];
  seg_status st = harness_plan (&h);
  e->checks++;
  if (st != SEG_OK) {
    fail (e, "%s: plan failed: %s", what, h.err.msg);
  } else if (h.v[out].rank != 4 || h.v[out].dims[0] != nb
      || h.v[out].dims[1] != oh || h.v[out].dims[2] != ow
      || h.v[out].dims[3] != cc) {
    fail (e, "%s: output dims %lldx%lld", what, (long long) h.v[out].dims[1],
        (long long) h.v[out].dims[2]);
  } else {
    size_t ycount = (size_t) nb * oh * ow * cc;
    double *ref = malloc (ycount * sizeof *ref);
    for (int b = 0; b < nb; b++)
      for (int y = 0; y < oh; y++) {
        double sy = ref_coord (mode, y, ih, oh, scale_h);
        int y0 = (int) floor (sy), y1 = y0 + 1 < ih ? y0 + 1 : ih - 1;
        double ly = sy - y0;
        for (int xo = 0; xo < ow; xo++) {
          double sx = ref_coord (mode, xo, iw, ow, scale_w);
          int x0 = (int) floor (sx), x1 = x0 + 1 < iw ? x0 + 1 : iw - 1;
          double lx = sx - x0;
          for (int ch = 0; ch < cc; ch++) {
#define AT(yy, xx) \
  ((double) x[(((size_t) b * ih + (yy)) * iw + (xx)) * cc + ch])
            ref[(((size_t) b * oh + y) * ow + xo) * cc + ch] =
                (1 - ly) * ((1 - lx) * AT (y0, x0) + lx * AT (y0, x1))
                + ly * ((1 - lx) * AT (y1, x0) + lx * AT (y1, x1));
#undef AT
          }
        }
      }
    float *got = harness_run (&h, e->pools[pool], x);
    check_close (e, what, got, ref, ycount);
    free (got);
    free (ref);
  }
  harness_free (&h);
  free (x);
}

static void
test_resize (env *e)
{
  static const int shapes[][4] = {
      {7, 5, 13, 17},
      {13, 17, 7, 5},
      {5, 7, 1, 1},
      {1, 1, 4, 3},
      {8, 8, 16, 16},
      {16, 16, 8, 8},
  };
  static const int channels[] = {1, 3, 21};
  static const double scales[][2] = {{2.0, 2.0}, {0.5, 0.5}, {1.7, 0.6},
      {4.0, 3.0}};
  int index = 0;
  for (int mode = 0; mode <= SEG_COORD_ASYMMETRIC; mode++) {
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++)
      for (int by = 0; by < BY_SCALES_NCHW; by++, index++) {
        const int *sh = shapes[s];
        test_resize_case (e, index % 4 == 1 ? 2 : 1, sh[0], sh[1],
            channels[index % 3], sh[2], sh[3], (double) sh[2] / sh[0],
            (double) sh[3] / sh[1], (seg_coord_mode) mode, (resize_by) by,
            index % 2);
      }
    /* Scales: out = floor (in * scale), coordinates use the scale as given. */
    for (size_t s = 0; s < sizeof scales / sizeof scales[0]; s++, index++) {
      int ih = 7 + (int) s, iw = 5 + 2 * (int) s;
      int oh = (int) floor (ih * (double) (float) scales[s][0]);
      int ow = (int) floor (iw * (double) (float) scales[s][1]);
      test_resize_case (e, 1, ih, iw, channels[index % 3], oh, ow,
          (float) scales[s][0], (float) scales[s][1], (seg_coord_mode) mode,
          BY_SCALES_NCHW, index % 2);
    }
  }

  /* Long runs of output rows on one source pair: LR-ASPP's final 8x with
   * 21 channels, two images (a run must not cross into the next: with one
   * source row, every output row of both has the same pair), 20x (runs
   * longer than the kernel takes at once), and H down with W up (runs of
   * one row). */
  static const int runs[][7] = {
      /* n, ih, iw, c, oh, ow, coord */
      {1, 9, 10, 21, 72, 80, SEG_COORD_PYTORCH_HALF_PIXEL},
      {2, 5, 6, 21, 40, 90, SEG_COORD_ALIGN_CORNERS},
      {2, 1, 6, 3, 4, 9, SEG_COORD_HALF_PIXEL}, /* one thread: one band */
      {2, 3, 4, 5, 60, 8, SEG_COORD_HALF_PIXEL},
      {1, 40, 20, 21, 20, 30, SEG_COORD_ASYMMETRIC},
  };
  for (size_t i = 0; i < sizeof runs / sizeof runs[0]; i++) {
    const int *b = runs[i];
    test_resize_case (e, b[0], b[1], b[2], b[3], b[4], b[5],
        (double) b[4] / b[1], (double) b[5] / b[2], (seg_coord_mode) b[6],
        BY_SIZES_I64_NCHW, (int) i % 2 && i != 2);
  }
}

/* ---- rejected attributes ----------------------------------------------- */

typedef enum
{
  BAD_GROUPS_ZERO,
  BAD_GROUPS_INDIVISIBLE,
  BAD_STRIDE_ZERO,
  BAD_DILATION_ZERO,
  BAD_KERNEL_ATTR,
  BAD_BIAS_LENGTH,
  BAD_INPUT_CHANNELS,
  BAD_KERNEL_TOO_BIG,
  BAD_INPUT_RANK,
  BAD_NEGATIVE_PAD,
  BAD_DW_DIM0,
  BAD_LAYOUT,
  BAD_WEIGHTS_NOT_CONST,
  BAD_WEIGHTS_F16,
  BAD_CONV_MAX_
} conv_bad;

static void
test_conv_rejects (env *e)
{
  for (int bad = 0; bad < BAD_CONV_MAX_; bad++) {
    harness h = harness_new ();
    int64_t xd[4] = {1, 3, 3, 4};
    int64_t wd[4] = {6, 4, 3, 3}; /* OIHW */
    int64_t bd[1] = {bad == BAD_BIAS_LENGTH ? 5 : 6};
    float wdata[6 * 4 * 3 * 3] = {0}, bdata[6] = {0};
    if (bad == BAD_INPUT_CHANNELS)
      xd[3] = 5;
    if (bad == BAD_DW_DIM0)
      wd[0] = 2;
    if (bad == BAD_GROUPS_INDIVISIBLE)
      wd[1] = 1; /* 4 groups of one input channel each, but 6 outputs */
    int in[3];
    /* rank 3: the same dims without N */
    in[0] = add_tensor (&h, "x", SEG_DT_F32, bad == BAD_INPUT_RANK ? 3 : 4,
        bad == BAD_INPUT_RANK ? xd + 1 : xd, NULL, 0);
    in[1] = bad == BAD_WEIGHTS_NOT_CONST
        ? add_tensor (&h, "w", SEG_DT_F32, 4, wd, NULL, 0)
        : add_tensor (&h, "w", bad == BAD_WEIGHTS_F16 ? SEG_DT_F16 : SEG_DT_F32,
            4, wd, wdata, sizeof wdata);
    in[2] = add_tensor (&h, "b", SEG_DT_F32, 1, bd, bdata,
        (size_t) bd[0] * sizeof (float));
    int out = add_tensor (&h, "y", SEG_DT_F32, 0, NULL, NULL, 0);
    seg_node *n = add_node (&h, SEG_OP_CONV, 3, in, out);
    n->a.wlayout = bad == BAD_DW_DIM0 ? SEG_WL_1HWO
        : bad == BAD_LAYOUT           ? SEG_WL_IOHW
                                      : SEG_WL_OIHW;
    n->a.pad_mode =
        bad == BAD_KERNEL_TOO_BIG ? SEG_PAD_VALID : SEG_PAD_EXPLICIT;
    if (bad == BAD_KERNEL_TOO_BIG)
      n->a.dilation[0] = 2;
    if (bad == BAD_GROUPS_ZERO)
      n->a.groups = 0;
    if (bad == BAD_GROUPS_INDIVISIBLE)
      n->a.groups = 4;
    if (bad == BAD_STRIDE_ZERO)
      n->a.stride[1] = 0;
    if (bad == BAD_DILATION_ZERO)
      n->a.dilation[0] = 0;
    if (bad == BAD_KERNEL_ATTR)
      n->a.kernel[0] = n->a.kernel[1] = 5;
    if (bad == BAD_NEGATIVE_PAD)
      n->a.pads[2] = -1;
    seg_status st = harness_plan (&h);
    e->checks++;
    if (st == SEG_OK || !h.err.msg[0])
      fail (e, "conv with bad attribute %d was accepted", bad);
    harness_free (&h);
  }
}

static void
test_deconv_rejects (env *e)
{
  for (int bad = 0; bad < 5; bad++) {
    harness h = harness_new ();
    int64_t xd[4] = {1, 2, 2, 4};
    int64_t wd[4] = {4, 3, 2, 2}; /* IOHW */
    float wdata[4 * 3 * 2 * 2] = {0};
    int in[2];
    in[0] = add_tensor (&h, "x", SEG_DT_F32, 4, xd, NULL, 0);
    in[1] = add_tensor (&h, "w", SEG_DT_F32, 4, wd, wdata, sizeof wdata);
    int out = add_tensor (&h, "y", SEG_DT_F32, 0, NULL, NULL, 0);
    seg_node *n = add_node (&h, SEG_OP_CONV_TRANSPOSE, 2, in, out);
    n->a.wlayout = SEG_WL_IOHW;
    n->a.stride[0] = n->a.stride[1] = 2;
    switch (bad) {
      case 0:
        n->a.output_padding[0] = 2;
        break; /* not below the stride */
      case 1:
        n->a.stride[1] = 0;
        break;
      case 2:
        n->a.stride[0] = 100000;
        break;
      case 3:
        n->a.groups = 3;
        break; /* does not divide Cin 4 */
      case 4:
        n->a.pads[0] = n->a.pads[2] = 3;
        break; /* 4 rows - 6 */
    }
    seg_status st = harness_plan (&h);
    e->checks++;
    if (st == SEG_OK || !h.err.msg[0])
      fail (e, "convtranspose with bad attribute %d was accepted", bad);
    harness_free (&h);
  }
}

static void
test_resize_rejects (env *e)
{
  for (int bad = 0; bad < 7; bad++) {
    harness h = harness_new ();
    int64_t xd[4] = {1, 4, 4, 3};
    int in[4] = {-1, -1, -1, -1};
    in[0] = add_tensor (&h, "x", SEG_DT_F32, 4, xd, NULL, 0);
    int64_t len4[1] = {4}, len3[1] = {3};
    int64_t sizes[4] = {1, 3, 8, 8}; /* N, C, H, W */
    float scales[4] = {1, 1, 2, 2};
    switch (bad) {
      case 0: /* sizes only known per frame */
        in[3] = add_tensor (&h, "sizes", SEG_DT_I64, 1, len4, NULL, 0);
        break;
      case 1: /* C changes */
        sizes[1] = 4;
        in[3] =
            add_tensor (&h, "sizes", SEG_DT_I64, 1, len4, sizes, sizeof sizes);
        break;
      case 2: /* neither sizes nor scales */
        break;
      case 3: /* zero scale */
        scales[3] = 0;
        in[2] = add_tensor (&h, "scales", SEG_DT_F32, 1, len4, scales,
            sizeof scales);
        break;
      case 4: /* three sizes */
        in[3] = add_tensor (&h, "sizes", SEG_DT_I64, 1, len3, sizes,
            3 * sizeof sizes[0]);
        break;
      case 5: /* N scaled */
        scales[0] = 2;
        in[2] = add_tensor (&h, "scales", SEG_DT_F32, 1, len4, scales,
            sizeof scales);
        break;
      case 6: /* float sizes */
        in[3] = add_tensor (&h, "sizes", SEG_DT_F32, 1, len4, scales,
            sizeof scales);
        break;
    }
    int out = add_tensor (&h, "y", SEG_DT_F32, 0, NULL, NULL, 0);
    seg_node *n = add_node (&h, SEG_OP_RESIZE, 4, in, out);
    n->a.nchw = true;
    seg_status st = harness_plan (&h);
    e->checks++;
    if (st == SEG_OK || !h.err.msg[0])
      fail (e, "resize with bad input %d was accepted", bad);
    else if (bad == 0 && st != SEG_ERR_UNSUPPORTED)
      fail (e, "resize with per-frame sizes: status %d, expected unsupported",
          (int) st);
    harness_free (&h);
  }

  harness h = harness_new ();
  int64_t xd[3] = {4, 4, 3};
  int in = add_tensor (&h, "x", SEG_DT_F32, 3, xd, NULL, 0);
  int out = add_tensor (&h, "y", SEG_DT_F32, 0, NULL, NULL, 0);
  add_node (&h, SEG_OP_GLOBAL_AVG_POOL, 1, &in, out);
  e->checks++;
  if (harness_plan (&h) == SEG_OK || !h.err.msg[0])
    fail (e, "global pool of a rank-3 tensor was accepted");
  harness_free (&h);
}

/* ---- main -------------------------------------------------------------- */

static void
run_op_suite (env *e)
{
  int before = e->failures, checks = e->checks;
  test_conv (e);
  test_deconv (e);
  test_pool (e);
  test_resize (e);
  test_conv_rejects (e);
  test_deconv_rejects (e);
  test_resize_rejects (e);
  printf ("ops with %s kernels: %d checks, %d failures\n", e->isa,
      e->checks - checks, e->failures - before);
}

int
main (void)
{
  env e = {.rng = 0x5eed5eedu};
  e.pools[0] = seg_threadpool_new (1);
  e.pools[1] = seg_threadpool_new (2);
  if (!e.pools[0] || !e.pools[1]) {
    fprintf (stderr, "FAIL: could not create thread pools\n");
    return 1;
  }

  e.isa = seg_f32_kernels_get ()->name;
  run_op_suite (&e);
  if (strcmp (e.isa, "scalar") != 0) {
    seg_f32_kernels_cap ("avx2");
    if (strcmp (seg_f32_kernels_get ()->name, e.isa) != 0) {
      e.isa = seg_f32_kernels_get ()->name;
      run_op_suite (&e);
    }
    seg_f32_kernels_cap ("scalar");
    e.isa = seg_f32_kernels_get ()->name;
    run_op_suite (&e);
    seg_f32_kernels_cap (NULL);
  }

  seg_threadpool_free (e.pools[0]);
  seg_threadpool_free (e.pools[1]);
  if (e.failures) {
    fprintf (stderr, "%d of %d checks failed\n", e.failures, e.checks);
    return 1;
  }
  printf ("all %d checks passed\n", e.checks);
  return 0;
}
