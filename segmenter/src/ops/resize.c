/* Bilinear resize of the H and W axes of an NHWC activation (ONNX Resize in
 * linear mode, TFLite RESIZE_BILINEAR). Sizes and scales must be known when
 * a session is planned (constants or plan-time values); they are read again
 * at run time because the coordinate maths needs the scale as given, which
 * is not always out / in. Source coordinates are computed in double so that
 * large maps do not drift.
 *
 * Output rows that share their two source rows (upsampling repeats a pair
 * for several rows: 8 for LR-ASPP's final 8x) go through the kernel
 * together, so the horizontal lerps are computed once for all of them.
 * Streaming stores for the big final output were tried and dropped: the
 * node took half the time, but the arena reuses those addresses in the
 * next frame, whose first nodes then missed the cache, and whole frames
 * got no faster.
 */
#include <math.h>

#include "kernels/kernels.h"
#include "ops-impl.h"

typedef struct
{
  int64_t out_h, out_w;
  double scale_h, scale_w; /* output / input, as the coordinate maths uses */
} resize_geom;

/* Reads a sizes (integers) or scales (floats) input into N, H, W, C order.
 * Returns 0 elements for an absent or empty input. */
static seg_status
read_axes (const seg_node *n, const seg_value *s, bool sizes, double vals[4],
    int *count, seg_err *err)
{
  const char *what = sizes ? "sizes" : "scales";
  *count = 0;
  if (s->kind == SEG_VAL_ACT)
    return seg_fail (err, SEG_ERR_UNSUPPORTED,
        "node '%s' (Resize): %s are computed per frame, not at plan time",
        n->name, what);
  int64_t len = seg_shape_elements (s->rank, s->dims);
  if (len == 0)
    return SEG_OK;
  if (s->rank != 1 || (len != 2 && len != 4) || (n->a.nchw && len != 4))
    return seg_fail (err, SEG_ERR_UNSUPPORTED,
        "node '%s' (Resize): %s must have %s values", n->name, what,
        n->a.nchw ? "4" : "2 or 4");
  if (sizes ? s->dtype != SEG_DT_I64 && s->dtype != SEG_DT_I32
            : s->dtype != SEG_DT_F32)
    return seg_fail (err, SEG_ERR_FORMAT, "node '%s' (Resize): %s are %s",
        n->name, what, seg_dtype_name (s->dtype));
  if (!s->data || s->nbytes < (size_t) len * seg_dtype_size (s->dtype))
    return seg_fail (err, SEG_ERR_FORMAT, "node '%s' (Resize): %s have no data",
        n->name, what);
  double raw[4];
  for (int i = 0; i < len; i++)
    raw[i] = s->dtype == SEG_DT_I64 ? (double) ((const int64_t *) s->data)[i]
        : s->dtype == SEG_DT_I32    ? (double) ((const int32_t *) s->data)[i]
                                    : (double) ((const float *) s->data)[i];
  if (len == 2) { /* TFLite: H, W only */
    vals[0] = vals[3] = NAN;
    vals[1] = raw[0];
    vals[2] = raw[1];
  } else if (n->a.nchw) { /* N, C, H, W */
    vals[0] = raw[0];
    vals[1] = raw[2];
    vals[2] = raw[3];
    vals[3] = raw[1];
  } else {
    for (int i = 0; i < 4; i++)
      vals[i] = raw[i];
  }
  *count = (int) len;
  return SEG_OK;
}

static seg_status
resize_geometry (const seg_node *n, const seg_value *v, resize_geom *geo,
    seg_err *err)
{
  const seg_value *x = &v[n->in[0]];
  int si = n->nin > 2 ? n->in[2] : -1, zi = n->nin > 3 ? n->in[3] : -1;
  double scales[4], sizes[4];
  int nscales = 0, nsizes = 0;
  seg_status st;
  if (si >= 0 && (st = read_axes (n, &v[si], false, scales, &nscales, err)))
    return st;
  if (zi >= 0 && (st = read_axes (n, &v[zi], true, sizes, &nsizes, err)))
    return st;

  double out[4];
  double in[4] = {(double) x->dims[0], (double) x->dims[1], (double) x->dims[2],
      (double) x->dims[3]};
  if (nsizes) {
    for (int i = 0; i < 4; i++)
      out[i] = isnan (sizes[i]) ? in[i] : sizes[i];
    geo->scale_h = out[1] / in[1];
    geo->scale_w = out[2] / in[2];
  } else if (nscales) {
    for (int i = 0; i < 4; i++) {
      double s = isnan (scales[i]) ? 1.0 : scales[i];
      if (!(s > 0.0) || !isfinite (s))
        return seg_fail (err, SEG_ERR_FORMAT,
            "node '%s' (Resize): scale %g out of range", n->name, s);
      out[i] = floor (in[i] * s);
    }
    geo->scale_h = isnan (scales[1]) ? 1.0 : scales[1];
    geo->scale_w = isnan (scales[2]) ? 1.0 : scales[2];
  } else {
    return seg_fail (err, SEG_ERR_FORMAT,
        "node '%s' (Resize): neither sizes nor scales given", n->name);
  }
  if (out[0] != in[0] || out[3] != in[3])
    return seg_fail (err, SEG_ERR_UNSUPPORTED,
        "node '%s' (Resize): only H and W may be resized", n->name);
  if (!(out[1] >= 1.0 && out[1] <= SEG_MAX_DIM && out[2] >= 1.0
          && out[2] <= SEG_MAX_DIM))
    return seg_fail (err, SEG_ERR_SHAPE,
        "node '%s' (Resize): output size %gx%g out of range", n->name, out[1],
        out[2]);
  geo->out_h = (int64_t) out[1];
  geo->out_w = (int64_t) out[2];
  return SEG_OK;
}

static seg_status
resize_infer (const seg_node *n, seg_value *v, seg_node_plan *plan,
    seg_err *err)
{
  if (n->nin < 1 || n->in[0] < 0 || n->nout < 1)
    return seg_fail (err, SEG_ERR_FORMAT, "node '%s' (Resize): missing input",
        n->name);
  const seg_value *x = &v[n->in[0]];
  if (x->rank != 4 || x->dtype != SEG_DT_F32)
    return seg_fail (err, SEG_ERR_UNSUPPORTED,
        "node '%s' (Resize): input must be a rank-4 float32 tensor", n->name);
  for (int i = 0; i < 4; i++)
    if (x->dims[i] < 1 || x->dims[i] > SEG_MAX_DIM)
      return seg_fail (err, SEG_ERR_SHAPE,
          "node '%s' (Resize): input dim %d is %lld", n->name, i,
          (long long) x->dims[i]);
  if ((unsigned) n->a.coord > SEG_COORD_ASYMMETRIC)
    return seg_fail (err, SEG_ERR_UNSUPPORTED,
        "node '%s' (Resize): coordinate mode %d not supported", n->name,
        (int) n->a.coord);
  resize_geom geo;
  seg_status st = resize_geometry (n, v, &geo, err);
  if (st != SEG_OK)
    return st;
  seg_value *y = &v[n->out[0]];
  y->dtype = SEG_DT_F32;
  y->rank = 4;
  y->dims[0] = x->dims[0];
  y->dims[1] = geo.out_h;
  y->dims[2] = geo.out_w;
  y->dims[3] = x->dims[3];
  int64_t count = seg_shape_elements (4, y->dims);
  if (count < 0)
    return seg_fail (err, SEG_ERR_SHAPE, "node '%s' (Resize): output too large",
        n->name);
  /* The column taps, filled once per run by the caller: thread 0's slice
   * (every task reads them). */
  plan->scratch_bytes = (size_t) geo.out_w * sizeof (seg_f32_bilinear_tap);
  /* Three lerps per output value, one multiply-add each. */
  plan->macs = (uint64_t) count * 3;
  return SEG_OK;
}

/* Source position of output index i along an axis, clamped to the input. */
static double
source_coord (seg_coord_mode mode, size_t i, size_t in, size_t out,
    double scale)
{
  double s = 0.0;
  switch (mode) {
    case SEG_COORD_HALF_PIXEL:
      s = ((double) i + 0.5) / scale - 0.5;
      break;
    case SEG_COORD_PYTORCH_HALF_PIXEL:
      s = out > 1 ? ((double) i + 0.5) / scale - 0.5 : 0.0;
      break;
    case SEG_COORD_ALIGN_CORNERS:
      s = out > 1 ? (double) i * (double) (in - 1) / (double) (out - 1) : 0.0;
      break;
    case SEG_COORD_ASYMMETRIC:
      s = (double) i / scale;
      break;
  }
  if (s < 0.0)
    s = 0.0;
  if (s > (double) (in - 1))
    s = (double) (in - 1);
  return s;
}

static void
source_pair (seg_coord_mode mode, size_t i, size_t in, size_t out, double scale,
    size_t *lo, size_t *hi, float *weight)
{
  double s = source_coord (mode, i, in, out, scale);
  *lo = (size_t) s;
  *hi = *lo + 1 < in ? *lo + 1 : in - 1;
  *weight = (float) (s - (double) *lo);
}

typedef struct
{
  const seg_f32_kernels *k;
  const seg_run_ctx *ctx;
  const seg_f32_bilinear_tap *taps;
  const float *in;
  float *out;
  size_t h, w, c, oh, ow, rows, bands;
  seg_coord_mode mode;
  resize_geom geo;
} resize_job;

/* Runs of output rows that share their source rows, up to MAX_RUN at a
 * time. */
#define MAX_RUN 16

static void
resize_band (void *data, size_t task, int thread)
{
  const resize_job *j = data;
  size_t r0 = task * j->rows / j->bands, r1 = (task + 1) * j->rows / j->bands;
  size_t row_floats = j->ow * j->c;
  (void) thread;
  for (size_t r = r0; r < r1;) {
    size_t b = r / j->oh, lo, hi, lo2, hi2, run = 1;
    float wy[MAX_RUN];
    source_pair (j->mode, r % j->oh, j->h, j->oh, j->geo.scale_h, &lo, &hi,
        &wy[0]);
    /* A run stays within one image of the batch. */
    size_t end = (b + 1) * j->oh < r1 ? (b + 1) * j->oh : r1;
    while (run < MAX_RUN && r + run < end) {
      source_pair (j->mode, (r + run) % j->oh, j->h, j->oh, j->geo.scale_h,
          &lo2, &hi2, &wy[run]);
      if (lo2 != lo || hi2 != hi)
        break;
      run++;
    }
    const float *base = j->in + b * j->h * j->w * j->c;
    j->k->ibilinear (j->ow, j->c, base + lo * j->w * j->c,
        base + hi * j->w * j->c, run, wy, j->taps, j->out + r * row_floats,
        row_floats);
    r += run;
  }
}

static void
resize_run (const seg_node *n, const seg_value *v, const seg_node_plan *plan,
    const seg_run_ctx *ctx)
{
  const seg_value *x = &v[n->in[0]];
  const seg_value *y = &v[n->out[0]];
  resize_job j = {
      .k = seg_f32_kernels_get (),
      .ctx = ctx,
      .in = x->data,
      .out = y->data,
      .h = x->dims[1],
      .w = x->dims[2],
      .c = x->dims[3],
      .oh = y->dims[1],
      .ow = y->dims[2],
      .rows = (size_t) y->dims[0] * y->dims[1],
      .mode = n->a.coord,
  };
  /* infer accepted these values and they have not changed since. */
  if (resize_geometry (n, v, &j.geo, NULL) != SEG_OK)
    return;
  seg_f32_bilinear_tap *taps = (seg_f32_bilinear_tap *) (void *) ctx->scratch;
  for (size_t ox = 0; ox < j.ow; ox++) {
    size_t lo, hi;
    source_pair (j.mode, ox, j.w, j.ow, j.geo.scale_w, &lo, &hi,
        &taps[ox].weight);
    taps[ox].left = lo * j.c;
    taps[ox].right = hi * j.c;
  }
  j.taps = taps;
  /* Bands of rows: a run of rows cut by a band boundary computes its
   * horizontal lerps twice, so few bands, but enough to even out
   * threads. */
  size_t threads = (size_t) seg_threadpool_threads (ctx->pool);
  size_t want = threads > 1 ? threads * 4 : 1;
  j.bands = j.rows < want ? j.rows : want;
  seg_threadpool_run (ctx->pool, resize_band, &j, j.bands);
}

const seg_op_vtable seg_op_resize = {
    .infer = resize_infer,
    .run = resize_run,
};
