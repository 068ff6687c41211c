/* The value ops: Shape, Gather, Slice, Concat, Cast, Unsqueeze, Squeeze,
 * Reshape and ConstantOfShape, as exporters use them to compute resize
 * sizes. They run once, when a session plans (never per frame), on small
 * constant or plan-time values; apart from Shape, which only needs its
 * input's dims, an activation input is refused rather than supported
 * half-way. Every index, axis and count comes from an untrusted file, so
 * each is range-checked before it touches memory.
 *
 * Shape values follow the file's order: Shape reports an NHWC activation as
 * [N, C, H, W] when attrs.nchw says the file thinks in NCHW, after which
 * Gather/Slice/Concat over those values need no reordering of their own.
 */
#include "ops-impl.h"

#include <stdlib.h>
#include <string.h>

/* ---- shared checks ------------------------------------------------------ */

static const seg_value *
input (const seg_node *n, const seg_value *v, int i)
{
  return i < n->nin && n->in[i] >= 0 ? &v[n->in[i]] : NULL;
}

static seg_status
check_io (const seg_node *n, int min_in, int max_in, seg_err *err)
{
  if (n->nin < min_in || n->nin > max_in || n->nout != 1)
    return seg_fail (err, SEG_ERR_FORMAT,
        "node '%s' (%s): wrong number of inputs (%d) or outputs (%d)", n->name,
        seg_op_name (n->op), n->nin, n->nout);
  for (int i = 0; i < min_in; i++)
    if (n->in[i] < 0)
      return seg_fail (err, SEG_ERR_FORMAT,
          "node '%s' (%s): input %d is missing", n->name, seg_op_name (n->op),
          i);
  return SEG_OK;
}

/* Every present input must be a value with all its data. */
static seg_status
check_values (const seg_node *n, const seg_value *v, seg_err *err)
{
  for (int i = 0; i < n->nin; i++) {
    const seg_value *x = input (n, v, i);
    if (!x)
      continue;
    if (x->kind == SEG_VAL_ACT)
      return seg_fail (err, SEG_ERR_UNSUPPORTED,
          "node '%s' (%s): runs on activations, which segd does not support",
          n->name, seg_op_name (n->op));
    int64_t count = x->rank < 0 || x->rank > SEG_MAX_RANK
        ? -1
        : seg_shape_elements (x->rank, x->dims);
    if (count < 0)
      return seg_fail (err, SEG_ERR_SHAPE,
          "node '%s' (%s): input %d has an unknown or oversized shape", n->name,
          seg_op_name (n->op), i);
    size_t need = (size_t) count * seg_dtype_size (x->dtype);
    if (x->nbytes < need || (need && !x->data))
      return seg_fail (err, SEG_ERR_FORMAT,
          "node '%s' (%s): input %d holds %zu bytes, needs %zu", n->name,
          seg_op_name (n->op), i, x->nbytes, need);
  }
  return SEG_OK;
}

static bool
is_int (seg_dtype dt)
{
  return dt == SEG_DT_I64 || dt == SEG_DT_I32;
}

/* Element i of an int64 or int32 value. */
static int64_t
get_int (const seg_value *x, size_t i)
{
  if (x->dtype == SEG_DT_I32)
    return ((const int32_t *) x->data)[i];
  return ((const int64_t *) x->data)[i];
}

/* A 1-D (or scalar) integer input of at most max entries into out. */
static seg_status
read_ints (const seg_node *n, const seg_value *x, const char *what,
    int64_t *out, int max, int *count, seg_err *err)
{
  if (!is_int (x->dtype) || x->rank > 1)
    return seg_fail (err, SEG_ERR_FORMAT,
        "node '%s' (%s): %s must be a 1-D int64 or int32 tensor", n->name,
        seg_op_name (n->op), what);
  int64_t k = seg_shape_elements (x->rank, x->dims);
  if (k > max)
    return seg_fail (err, SEG_ERR_FORMAT,
        "node '%s' (%s): %s has %lld entries, at most %d allowed", n->name,
        seg_op_name (n->op), what, (long long) k, max);
  for (int64_t i = 0; i < k; i++)
    out[i] = get_int (x, (size_t) i);
  *count = (int) k;
  return SEG_OK;
}

/* Maps axis from [-rank, rank) into [0, rank). */
static seg_status
norm_axis (const seg_node *n, int64_t axis, int rank, int64_t *out,
    seg_err *err)
{
  if (axis < -rank || axis >= rank)
    return seg_fail (err, SEG_ERR_FORMAT,
        "node '%s' (%s): axis %lld out of range for rank %d", n->name,
        seg_op_name (n->op), (long long) axis, rank);
  *out = axis < 0 ? axis + rank : axis;
  return SEG_OK;
}

/* Validates and stores the output's shape. Dims may exceed SEG_MAX_DIM
 * (a flattened value may), but never the element bound. */
static seg_status
set_out (const seg_node *n, seg_value *v, seg_dtype dtype, int rank,
    const int64_t *dims, seg_err *err)
{
  if (rank > SEG_MAX_RANK)
    return seg_fail (err, SEG_ERR_UNSUPPORTED,
        "node '%s' (%s): output rank %d exceeds %d", n->name,
        seg_op_name (n->op), rank, SEG_MAX_RANK);
  for (int i = 0; i < rank; i++)
    if (dims[i] < 0 || dims[i] > SEG_MAX_ELEMENTS)
      return seg_fail (err, SEG_ERR_FORMAT,
          "node '%s' (%s): output dim %d = %lld out of range", n->name,
          seg_op_name (n->op), i, (long long) dims[i]);
  if (seg_shape_elements (rank, dims) < 0)
    return seg_fail (err, SEG_ERR_FORMAT,
        "node '%s' (%s): output has too many elements", n->name,
        seg_op_name (n->op));
  seg_value *o = &v[n->out[0]];
  o->dtype = dtype;
  o->rank = rank;
  for (int i = 0; i < rank; i++)
    o->dims[i] = dims[i];
  return SEG_OK;
}

static int64_t
product (const int64_t *dims, int begin, int end)
{
  int64_t p = 1;
  for (int i = begin; i < end; i++)
    p *= dims[i];
  return p;
}

/* ---- Shape ------------------------------------------------------------- */

/* Which of the input's dims Shape reports, in the file's order. */
static seg_status
shape_select (const seg_node *n, const seg_value *v, int64_t *dims, int *count,
    seg_err *err)
{
  seg_status st = check_io (n, 1, 1, err);
  if (st != SEG_OK)
    return st;
  const seg_value *x = &v[n->in[0]];
  int r = x->rank;
  if (r < 0 || r > SEG_MAX_RANK)
    return seg_fail (err, SEG_ERR_FORMAT, "node '%s' (%s): bad input rank %d",
        n->name, seg_op_name (n->op), r);
  int64_t all[SEG_MAX_RANK];
  for (int i = 0; i < r; i++) {
    if (x->dims[i] < 0)
      return seg_fail (err, SEG_ERR_SHAPE,
          "node '%s' (%s): input dim %d is unknown at plan time", n->name,
          seg_op_name (n->op), i);
    all[i] = x->dims[i];
  }
  if (n->a.nchw && r == 4) {
    all[1] = x->dims[3];
    all[2] = x->dims[1];
    all[3] = x->dims[2];
  }
  /* opset 15: negative counts from the back, then clamp into [0, r] */
  int64_t b = n->a.start, e = n->a.has_end ? n->a.end : r;
  b = b < 0 ? b + r : b;
  e = e < 0 ? e + r : e;
  b = b < 0 ? 0 : b > r ? r : b;
  e = e < 0 ? 0 : e > r ? r : e;
  *count = 0;
  for (int64_t i = b; i < e; i++)
    dims[(*count)++] = all[i];
  return SEG_OK;
}

static seg_status
shape_infer (const seg_node *n, seg_value *v, seg_node_plan *plan, seg_err *err)
{
  int64_t dims[SEG_MAX_RANK], len;
  int count;
  seg_status st = shape_select (n, v, dims, &count, err);
  if (st != SEG_OK)
    return st;
  len = count;
  return set_out (n, v, SEG_DT_I64, 1, &len, err);
}

static seg_status
shape_eval (const seg_node *n, seg_value *v, seg_err *err)
{
  int64_t dims[SEG_MAX_RANK];
  int count;
  seg_status st = shape_infer (n, v, NULL, err);
  if (st == SEG_OK)
    st = shape_select (n, v, dims, &count, err);
  if (st != SEG_OK)
    return st;
  seg_value *o = &v[n->out[0]];
  size_t nbytes;
  int64_t *data = seg_value_alloc (n, o, &nbytes, err);
  if (!data)
    return SEG_ERR_NOMEM;
  memcpy (data, dims, nbytes);
  seg_value_publish (o, data, nbytes);
  return SEG_OK;
}

/* ---- Gather ------------------------------------------------------------ */

static seg_status
gather_infer (const seg_node *n, seg_value *v, seg_node_plan *plan,
    seg_err *err)
{
  seg_status st = check_io (n, 2, 2, err);
  if (st == SEG_OK)
    st = check_values (n, v, err);
  if (st != SEG_OK)
    return st;
  const seg_value *x = &v[n->in[0]], *idx = &v[n->in[1]];
  int64_t axis = 0;
  if (x->rank < 1)
    return seg_fail (err, SEG_ERR_FORMAT,
        "node '%s' (%s): data must have rank >= 1", n->name,
        seg_op_name (n->op));
  if (!is_int (idx->dtype))
    return seg_fail (err, SEG_ERR_FORMAT,
        "node '%s' (%s): indices must be int64 or int32", n->name,
        seg_op_name (n->op));
  st = norm_axis (n, n->a.axis, x->rank, &axis, err);
  if (st != SEG_OK)
    return st;
  int64_t size = x->dims[axis];
  int64_t nidx = seg_shape_elements (idx->rank, idx->dims);
  for (int64_t i = 0; i < nidx; i++) {
    int64_t k = get_int (idx, (size_t) i);
    if (k < -size || k >= size)
      return seg_fail (err, SEG_ERR_FORMAT,
          "node '%s' (%s): index %lld out of range for a dim of %lld", n->name,
          seg_op_name (n->op), (long long) k, (long long) size);
  }
  int rank = x->rank - 1 + idx->rank;
  int64_t dims[2 * SEG_MAX_RANK];
  int r = 0;
  for (int i = 0; i < axis; i++)
    dims[r++] = x->dims[i];
  for (int i = 0; i < idx->rank; i++)
    dims[r++] = idx->dims[i];
  for (int i = (int) axis + 1; i < x->rank; i++)
    dims[r++] = x->dims[i];
  return set_out (n, v, x->dtype, rank, dims, err);
}

static seg_status
gather_eval (const seg_node *n, seg_value *v, seg_err *err)
{
  seg_status st = gather_infer (n, v, NULL, err);
  if (st != SEG_OK)
    return st;
  const seg_value *x = &v[n->in[0]], *idx = &v[n->in[1]];
  seg_value *o = &v[n->out[0]];
  int axis = (int) (n->a.axis < 0 ? n->a.axis + x->rank : n->a.axis);
  size_t nbytes;
  uint8_t *dst = seg_value_alloc (n, o, &nbytes, err);
  if (!dst)
    return SEG_ERR_NOMEM;
  int64_t outer = product (x->dims, 0, axis), size = x->dims[axis];
  size_t inner =
      (size_t) product (x->dims, axis + 1, x->rank) * seg_dtype_size (x->dtype);
  size_t nidx = (size_t) seg_shape_elements (idx->rank, idx->dims);
  const uint8_t *src = x->data;
  uint8_t *p = dst;
  for (int64_t i = 0; inner > 0 && i < outer; i++) {
    for (size_t j = 0; j < nidx; j++) {
      int64_t k = get_int (idx, j);
      k = k < 0 ? k + size : k;
      memcpy (p, src + (size_t) (i * size + k) * inner, inner);
      p += inner;
    }
  }
  seg_value_publish (o, dst, nbytes);
  return SEG_OK;
}

/* ---- Slice ------------------------------------------------------------- */

/* Per data dim: first index, step and output length after ONNX's
 * normalisation (negatives count from the end, then clamp). */
static seg_status
slice_params (const seg_node *n, const seg_value *v, int64_t *start,
    int64_t *step, int64_t *dims, seg_err *err)
{
  seg_status st = check_io (n, 3, 5, err);
  if (st == SEG_OK)
    st = check_values (n, v, err);
  if (st != SEG_OK)
    return st;
  const seg_value *x = &v[n->in[0]];
  const seg_value *vaxes = input (n, v, 3), *vsteps = input (n, v, 4);
  int r = x->rank;
  int64_t starts[SEG_MAX_RANK], ends[SEG_MAX_RANK];
  int64_t axes[SEG_MAX_RANK], steps[SEG_MAX_RANK];
  int k, ke, ka, ks;

  if ((st = read_ints (n, &v[n->in[1]], "starts", starts, r, &k, err))
      || (st = read_ints (n, &v[n->in[2]], "ends", ends, r, &ke, err)))
    return st;
  ka = ks = k;
  for (int i = 0; i < k; i++) {
    axes[i] = i;
    steps[i] = 1;
  }
  if ((vaxes && (st = read_ints (n, vaxes, "axes", axes, r, &ka, err)))
      || (vsteps && (st = read_ints (n, vsteps, "steps", steps, r, &ks, err))))
    return st;
  if (ke != k || ka != k || ks != k)
    return seg_fail (err, SEG_ERR_FORMAT,
        "node '%s' (%s): starts, ends, axes and steps differ in length",
        n->name, seg_op_name (n->op));

  bool seen[SEG_MAX_RANK] = {false};
  for (int d = 0; d < r; d++) {
    start[d] = 0;
    step[d] = 1;
    dims[d] = x->dims[d];
  }
  for (int i = 0; i < k; i++) {
    int64_t a = 0, s = starts[i], e = ends[i], t = steps[i], count;
    if ((st = norm_axis (n, axes[i], r, &a, err)))
      return st;
    if (seen[a])
      return seg_fail (err, SEG_ERR_FORMAT,
          "node '%s' (%s): axis %lld given twice", n->name, seg_op_name (n->op),
          (long long) axes[i]);
    seen[a] = true;
    if (t == 0)
      return seg_fail (err, SEG_ERR_FORMAT, "node '%s' (%s): step is 0",
          n->name, seg_op_name (n->op));
    int64_t d = x->dims[a];
    s = s < 0 ? s + d : s;
    e = e < 0 ? e + d : e;
    if (t > 0) {
      s = s < 0 ? 0 : s > d ? d : s;
      e = e < 0 ? 0 : e > d ? d : e;
      count = e > s ? 1 + (e - s - 1) / t : 0;
    } else {
      /* -t would overflow for INT64_MIN; any step that large takes one
       * element at most anyway. */
      int64_t mag = t == INT64_MIN ? INT64_MAX : -t;
      s = s < 0 ? 0 : s > d - 1 ? d - 1 : s;
      e = e < -1 ? -1 : e > d - 1 ? d - 1 : e;
      count = s > e ? 1 + (s - e - 1) / mag : 0;
    }
    start[a] = count > 0 ? s : 0;
    /* A step is only ever multiplied out when it is taken more than once,
     * which bounds it by the dim; keep it small otherwise. */
    step[a] = count > 1 ? t : 1;
    dims[a] = count;
  }
  return SEG_OK;
}

static seg_status
slice_infer (const seg_node *n, seg_value *v, seg_node_plan *plan, seg_err *err)
{
  int64_t start[SEG_MAX_RANK], step[SEG_MAX_RANK], dims[SEG_MAX_RANK];
  seg_status st = slice_params (n, v, start, step, dims, err);
  if (st != SEG_OK)
    return st;
  const seg_value *x = &v[n->in[0]];
  return set_out (n, v, x->dtype, x->rank, dims, err);
}

static seg_status
slice_eval (const seg_node *n, seg_value *v, seg_err *err)
{
  int64_t start[SEG_MAX_RANK], step[SEG_MAX_RANK], dims[SEG_MAX_RANK];
  seg_status st = slice_infer (n, v, NULL, err);
  if (st == SEG_OK)
    st = slice_params (n, v, start, step, dims, err);
  if (st != SEG_OK)
    return st;
  const seg_value *x = &v[n->in[0]];
  seg_value *o = &v[n->out[0]];
  size_t esize = seg_dtype_size (x->dtype), nbytes;
  uint8_t *dst = seg_value_alloc (n, o, &nbytes, err);
  if (!dst)
    return SEG_ERR_NOMEM;

  int r = x->rank;
  int64_t total = (int64_t) (nbytes / esize);
  int64_t jump[SEG_MAX_RANK], idx[SEG_MAX_RANK] = {0}, off = 0, stride = 1;
  for (int d = r - 1; d >= 0; d--) {
    off += start[d] * stride;
    jump[d] = step[d] * stride;
    stride *= x->dims[d];
  }
  const uint8_t *src = x->data;
  for (int64_t e = 0; e < total; e++) {
    memcpy (dst + (size_t) e * esize, src + (size_t) off * esize, esize);
    for (int d = r - 1; d >= 0; d--) {
      off += jump[d];
      if (++idx[d] < dims[d])
        break;
      off -= jump[d] * dims[d];
      idx[d] = 0;
    }
  }
  seg_value_publish (o, dst, nbytes);
  return SEG_OK;
}

/* ---- Concat ------------------------------------------------------------ */

static seg_status
concat_infer (const seg_node *n, seg_value *v, seg_node_plan *plan,
    seg_err *err)
{
  seg_status st = check_io (n, n->nin < 1 ? 1 : n->nin, SEG_MAX_IO, err);
  if (st == SEG_OK)
    st = check_values (n, v, err);
  if (st != SEG_OK)
    return st;
  const seg_value *x0 = &v[n->in[0]];
  int64_t axis = 0, dims[SEG_MAX_RANK];
  if (x0->rank < 1)
    return seg_fail (err, SEG_ERR_FORMAT,
        "node '%s' (%s): inputs must have rank >= 1", n->name,
        seg_op_name (n->op));
  if ((st = norm_axis (n, n->a.axis, x0->rank, &axis, err)))
    return st;
  for (int d = 0; d < x0->rank; d++)
    dims[d] = x0->dims[d];
  for (int i = 1; i < n->nin; i++) {
    const seg_value *x = &v[n->in[i]];
    bool fits = x->dtype == x0->dtype && x->rank == x0->rank;
    for (int d = 0; fits && d < x->rank; d++)
      fits = d == axis || x->dims[d] == x0->dims[d];
    if (!fits)
      return seg_fail (err, SEG_ERR_FORMAT,
          "node '%s' (%s): input %d does not match input 0 in type, rank "
          "or dims off axis %lld",
          n->name, seg_op_name (n->op), i, (long long) axis);
    /* both terms <= SEG_MAX_ELEMENTS: no overflow */
    dims[axis] += x->dims[axis];
  }
  return set_out (n, v, x0->dtype, x0->rank, dims, err);
}

static seg_status
concat_eval (const seg_node *n, seg_value *v, seg_err *err)
{
  seg_status st = concat_infer (n, v, NULL, err);
  if (st != SEG_OK)
    return st;
  seg_value *o = &v[n->out[0]];
  int axis = (int) (n->a.axis < 0 ? n->a.axis + o->rank : n->a.axis);
  size_t nbytes;
  uint8_t *dst = seg_value_alloc (n, o, &nbytes, err);
  if (!dst)
    return SEG_ERR_NOMEM;
  int64_t outer = product (o->dims, 0, axis);
  size_t inner =
      (size_t) product (o->dims, axis + 1, o->rank) * seg_dtype_size (o->dtype);
  uint8_t *p = dst;
  for (int64_t i = 0; i < outer; i++) {
    for (int j = 0; j < n->nin; j++) {
      const seg_value *x = &v[n->in[j]];
      size_t chunk = (size_t) x->dims[axis] * inner;
      if (chunk) /* an empty input may have no data at all */
        memcpy (p, (const uint8_t *) x->data + (size_t) i * chunk, chunk);
      p += chunk;
    }
  }
  seg_value_publish (o, dst, nbytes);
  return SEG_OK;
}

/* ---- Cast and ConstantOfShape ------------------------------------------ */

static bool
is_float (seg_dtype dt)
{
  return dt == SEG_DT_F32 || dt == SEG_DT_F16 || dt == SEG_DT_F64;
}

static bool
can_store (seg_dtype dt)
{
  return dt != SEG_DT_F16 && seg_dtype_size (dt) > 0;
}

static double
load_float (const void *p, seg_dtype dt, size_t i)
{
  switch (dt) {
    case SEG_DT_F16:
      return seg_f16_to_f32 (((const uint16_t *) p)[i]);
    case SEG_DT_F64:
      return ((const double *) p)[i];
    default:
      return ((const float *) p)[i];
  }
}

static int64_t
load_int (const void *p, seg_dtype dt, size_t i)
{
  switch (dt) {
    case SEG_DT_I64:
      return ((const int64_t *) p)[i];
    case SEG_DT_I32:
      return ((const int32_t *) p)[i];
    case SEG_DT_I8:
      return ((const int8_t *) p)[i];
    default:
      return ((const uint8_t *) p)[i]; /* u8, bool */
  }
}

/* Float to integer saturates (NaN gives 0): out-of-range conversion is
 * undefined in C and a file must not be able to trigger it. */
static int64_t
saturate (double f, int64_t lo, int64_t hi)
{
  if (f != f)
    return 0;
  if (f <= (double) lo)
    return lo;
  if (f >= (double) hi)
    return hi;
  return (int64_t) f;
}

/* Stores element i of dt from a float (is_f) or an integer. Integer to
 * narrower integer wraps, as numpy and ONNX Runtime do. */
static void
store (void *p, seg_dtype dt, size_t i, bool is_f, double f, int64_t k)
{
  switch (dt) {
    case SEG_DT_F32:
      ((float *) p)[i] = is_f ? (float) f : (float) k;
      break;
    case SEG_DT_F64:
      ((double *) p)[i] = is_f ? f : (double) k;
      break;
    case SEG_DT_I64:
      ((int64_t *) p)[i] = is_f ? saturate (f, INT64_MIN, INT64_MAX) : k;
      break;
    case SEG_DT_I32:
      ((int32_t *) p)[i] = (int32_t) (is_f ? saturate (f, INT32_MIN, INT32_MAX)
                                           : (int64_t) (uint32_t) k);
      break;
    case SEG_DT_I8:
      ((int8_t *) p)[i] = (int8_t) (is_f ? saturate (f, INT8_MIN, INT8_MAX)
                                         : (int64_t) (int8_t) (uint8_t) k);
      break;
    case SEG_DT_U8:
      ((uint8_t *) p)[i] = (uint8_t) (is_f ? saturate (f, 0, UINT8_MAX) : k);
      break;
    case SEG_DT_BOOL:
      ((uint8_t *) p)[i] = is_f ? f != 0.0 : k != 0;
      break;
    case SEG_DT_F16:
      break; /* refused by infer */
  }
}

static seg_status
cast_infer (const seg_node *n, seg_value *v, seg_node_plan *plan, seg_err *err)
{
  seg_status st = check_io (n, 1, 1, err);
  if (st == SEG_OK)
    st = check_values (n, v, err);
  if (st != SEG_OK)
    return st;
  if (!can_store (n->a.to))
    return seg_fail (err, SEG_ERR_UNSUPPORTED,
        "node '%s' (%s): casting to %s is not supported", n->name,
        seg_op_name (n->op), seg_dtype_name (n->a.to));
  const seg_value *x = &v[n->in[0]];
  return set_out (n, v, n->a.to, x->rank, x->dims, err);
}

static seg_status
cast_eval (const seg_node *n, seg_value *v, seg_err *err)
{
  seg_status st = cast_infer (n, v, NULL, err);
  if (st != SEG_OK)
    return st;
  const seg_value *x = &v[n->in[0]];
  seg_value *o = &v[n->out[0]];
  size_t nbytes;
  void *dst = seg_value_alloc (n, o, &nbytes, err);
  if (!dst)
    return SEG_ERR_NOMEM;
  size_t count = nbytes / seg_dtype_size (o->dtype);
  bool is_f = is_float (x->dtype);
  for (size_t i = 0; i < count; i++)
    store (dst, o->dtype, i, is_f,
        is_f ? load_float (x->data, x->dtype, i) : 0.0,
        is_f ? 0 : load_int (x->data, x->dtype, i));
  seg_value_publish (o, dst, nbytes);
  return SEG_OK;
}

static seg_status
constant_of_shape_infer (const seg_node *n, seg_value *v, seg_node_plan *plan,
    seg_err *err)
{
  seg_status st = check_io (n, 1, 1, err);
  if (st == SEG_OK)
    st = check_values (n, v, err);
  if (st != SEG_OK)
    return st;
  int64_t dims[SEG_MAX_RANK];
  int rank;
  if ((st = read_ints (n, &v[n->in[0]], "shape", dims, SEG_MAX_RANK, &rank,
           err)))
    return st;
  if (!can_store (n->a.to))
    return seg_fail (err, SEG_ERR_UNSUPPORTED,
        "node '%s' (%s): %s values are not supported", n->name,
        seg_op_name (n->op), seg_dtype_name (n->a.to));
  return set_out (n, v, n->a.to, rank, dims, err);
}

static seg_status
constant_of_shape_eval (const seg_node *n, seg_value *v, seg_err *err)
{
  seg_status st = constant_of_shape_infer (n, v, NULL, err);
  if (st != SEG_OK)
    return st;
  seg_value *o = &v[n->out[0]];
  size_t nbytes;
  void *dst = seg_value_alloc (n, o, &nbytes, err);
  if (!dst)
    return SEG_ERR_NOMEM;
  size_t count = nbytes / seg_dtype_size (o->dtype);
  for (size_t i = 0; i < count; i++)
    store (dst, o->dtype, i, true, n->a.value, 0);
  seg_value_publish (o, dst, nbytes);
  return SEG_OK;
}

/* ---- Unsqueeze, Squeeze, Reshape: new dims, same bytes ----------------- */

/* Axes from input 1 (opset 13+) or the attribute (before). */
static seg_status
read_axes (const seg_node *n, const seg_value *v, int64_t *axes, int *count,
    seg_err *err)
{
  const seg_value *x = input (n, v, 1);
  if (x)
    return read_ints (n, x, "axes", axes, SEG_MAX_RANK, count, err);
  if (n->a.nints < 0 || n->a.nints > SEG_MAX_INTS)
    return seg_fail (err, SEG_ERR_FORMAT, "node '%s' (%s): bad axes count",
        n->name, seg_op_name (n->op));
  for (int i = 0; i < n->a.nints; i++)
    axes[i] = n->a.ints[i];
  *count = n->a.nints;
  return SEG_OK;
}

static seg_status
unsqueeze_infer (const seg_node *n, seg_value *v, seg_node_plan *plan,
    seg_err *err)
{
  seg_status st = check_io (n, 1, 2, err);
  if (st == SEG_OK)
    st = check_values (n, v, err);
  if (st != SEG_OK)
    return st;
  const seg_value *x = &v[n->in[0]];
  int64_t axes[SEG_MAX_INTS > SEG_MAX_RANK ? SEG_MAX_INTS : SEG_MAX_RANK];
  int k;
  if ((st = read_axes (n, v, axes, &k, err)))
    return st;
  int rank = x->rank + k;
  if (k == 0)
    return seg_fail (err, SEG_ERR_FORMAT, "node '%s' (%s): no axes given",
        n->name, seg_op_name (n->op));
  if (rank > SEG_MAX_RANK)
    return seg_fail (err, SEG_ERR_UNSUPPORTED,
        "node '%s' (%s): output rank %d exceeds %d", n->name,
        seg_op_name (n->op), rank, SEG_MAX_RANK);
  bool ones[SEG_MAX_RANK] = {false};
  for (int i = 0; i < k; i++) {
    int64_t a = 0;
    if ((st = norm_axis (n, axes[i], rank, &a, err)))
      return st;
    if (ones[a])
      return seg_fail (err, SEG_ERR_FORMAT,
          "node '%s' (%s): axis %lld given twice", n->name, seg_op_name (n->op),
          (long long) axes[i]);
    ones[a] = true;
  }
  int64_t dims[SEG_MAX_RANK];
  for (int d = 0, j = 0; d < rank; d++)
    dims[d] = ones[d] ? 1 : x->dims[j++];
  return set_out (n, v, x->dtype, rank, dims, err);
}

static seg_status
squeeze_infer (const seg_node *n, seg_value *v, seg_node_plan *plan,
    seg_err *err)
{
  seg_status st = check_io (n, 1, 2, err);
  if (st == SEG_OK)
    st = check_values (n, v, err);
  if (st != SEG_OK)
    return st;
  const seg_value *x = &v[n->in[0]];
  int64_t axes[SEG_MAX_INTS > SEG_MAX_RANK ? SEG_MAX_INTS : SEG_MAX_RANK];
  int k;
  if ((st = read_axes (n, v, axes, &k, err)))
    return st;
  bool drop[SEG_MAX_RANK] = {false};
  for (int i = 0; i < k; i++) {
    int64_t a = 0;
    if ((st = norm_axis (n, axes[i], x->rank, &a, err)))
      return st;
    if (x->dims[a] != 1)
      return seg_fail (err, SEG_ERR_FORMAT,
          "node '%s' (%s): axis %lld has size %lld, not 1", n->name,
          seg_op_name (n->op), (long long) axes[i], (long long) x->dims[a]);
    drop[a] = true;
  }
  int64_t dims[SEG_MAX_RANK];
  int rank = 0;
  for (int d = 0; d < x->rank; d++)
    if (!(k ? drop[d] : x->dims[d] == 1))
      dims[rank++] = x->dims[d];
  return set_out (n, v, x->dtype, rank, dims, err);
}

static seg_status
reshape_infer (const seg_node *n, seg_value *v, seg_node_plan *plan,
    seg_err *err)
{
  seg_status st = check_io (n, 2, 2, err);
  if (st == SEG_OK)
    st = check_values (n, v, err);
  if (st != SEG_OK)
    return st;
  const seg_value *x = &v[n->in[0]];
  int64_t dims[SEG_MAX_RANK], known = 1;
  int rank, unknown = -1;
  if ((st = read_ints (n, &v[n->in[1]], "shape", dims, SEG_MAX_RANK, &rank,
           err)))
    return st;
  for (int i = 0; i < rank; i++) {
    if (dims[i] == 0) { /* allowzero = 0: copy the input's dim */
      if (i >= x->rank)
        return seg_fail (err, SEG_ERR_FORMAT,
            "node '%s' (%s): shape[%d] = 0 but the input has rank %d", n->name,
            seg_op_name (n->op), i, x->rank);
      dims[i] = x->dims[i];
    } else if (dims[i] == -1) {
      if (unknown >= 0)
        return seg_fail (err, SEG_ERR_FORMAT,
            "node '%s' (%s): more than one -1 in shape", n->name,
            seg_op_name (n->op));
      unknown = i;
      continue;
    } else if (dims[i] < 0 || dims[i] > SEG_MAX_ELEMENTS) {
      return seg_fail (err, SEG_ERR_FORMAT,
          "node '%s' (%s): shape[%d] = %lld out of range", n->name,
          seg_op_name (n->op), i, (long long) dims[i]);
    }
    known *= dims[i];
    if (known > SEG_MAX_ELEMENTS)
      return seg_fail (err, SEG_ERR_FORMAT,
          "node '%s' (%s): shape has too many elements", n->name,
          seg_op_name (n->op));
  }
  int64_t total = seg_shape_elements (x->rank, x->dims);
  if (unknown >= 0) {
    if (known == 0 || total % known != 0)
      return seg_fail (err, SEG_ERR_SHAPE,
          "node '%s' (%s): cannot infer the -1 dim (%lld elements over %lld)",
          n->name, seg_op_name (n->op), (long long) total, (long long) known);
    dims[unknown] = total / known;
    known = total;
  }
  if (known != total)
    return seg_fail (err, SEG_ERR_SHAPE,
        "node '%s' (%s): %lld elements cannot be reshaped to %lld", n->name,
        seg_op_name (n->op), (long long) total, (long long) known);
  return set_out (n, v, x->dtype, rank, dims, err);
}

/* Shared eval of the three: infer, then copy the bytes as they are. */
static seg_status
relabel_eval (const seg_node *n, seg_value *v, seg_err *err)
{
  seg_status st;
  switch (n->op) {
    case SEG_OP_UNSQUEEZE:
      st = unsqueeze_infer (n, v, NULL, err);
      break;
    case SEG_OP_SQUEEZE:
      st = squeeze_infer (n, v, NULL, err);
      break;
    case SEG_OP_RESHAPE:
      st = reshape_infer (n, v, NULL, err);
      break;
    default:
      return seg_fail (err, SEG_ERR_INVALID, "node '%s' (%s): wrong eval",
          n->name, seg_op_name (n->op));
  }
  if (st != SEG_OK)
    return st;
  seg_value *o = &v[n->out[0]];
  size_t nbytes;
  void *dst = seg_value_alloc (n, o, &nbytes, err);
  if (!dst)
    return SEG_ERR_NOMEM;
  if (nbytes)
    memcpy (dst, v[n->in[0]].data, nbytes);
  seg_value_publish (o, dst, nbytes);
  return SEG_OK;
}

/* ---- vtables ----------------------------------------------------------- */

const seg_op_vtable seg_op_shape = {
    .infer = shape_infer,
    .eval = shape_eval,
};
const seg_op_vtable seg_op_gather = {
    .infer = gather_infer,
    .eval = gather_eval,
};
const seg_op_vtable seg_op_slice = {
    .infer = slice_infer,
    .eval = slice_eval,
};
const seg_op_vtable seg_op_concat = {
    .infer = concat_infer,
    .eval = concat_eval,
};
const seg_op_vtable seg_op_cast = {
    .infer = cast_infer,
    .eval = cast_eval,
};
const seg_op_vtable seg_op_unsqueeze = {
    .infer = unsqueeze_infer,
    .eval = relabel_eval,
};
const seg_op_vtable seg_op_squeeze = {
    .infer = squeeze_infer,
    .eval = relabel_eval,
};
const seg_op_vtable seg_op_reshape = {
    .infer = reshape_infer,
    .eval = relabel_eval,
};
const seg_op_vtable seg_op_constant_of_shape = {
    .infer = constant_of_shape_infer,
    .eval = constant_of_shape_eval,
};
