/* ONNX importer, message readers: TensorProto (every data field and
 * type, sizes checked against the bytes present before anything is
 * allocated), ValueInfoProto, NodeProto and AttributeProto with the typed
 * attribute getters the op importers use. Walks the untrusted bytes with
 * the bounds-checked protobuf reader (pb.h); every error names the file
 * and the field. See onnx.c for the importer as a whole.
 */
#include "onnx-impl.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- TensorProto ------------------------------------------------------- */

bool
onnx_map_dtype (int64_t onnx, seg_dtype *dt)
{
  switch (onnx) {
    case DT_FLOAT:
      *dt = SEG_DT_F32;
      return true;
    case DT_FLOAT16:
      *dt = SEG_DT_F16;
      return true;
    case DT_DOUBLE:
      *dt = SEG_DT_F64;
      return true;
    case DT_INT64:
      *dt = SEG_DT_I64;
      return true;
    case DT_INT32:
      *dt = SEG_DT_I32;
      return true;
    case DT_INT8:
      *dt = SEG_DT_I8;
      return true;
    case DT_UINT8:
      *dt = SEG_DT_U8;
      return true;
    case DT_BOOL:
      *dt = SEG_DT_BOOL;
      return true;
    default:
      return false;
  }
}

static const char *const onnx_dtype_names[] = {
    "UNDEFINED",
    "FLOAT",
    "UINT8",
    "INT8",
    "UINT16",
    "INT16",
    "INT32",
    "INT64",
    "STRING",
    "BOOL",
    "FLOAT16",
    "DOUBLE",
    "UINT32",
    "UINT64",
    "COMPLEX64",
    "COMPLEX128",
    "BFLOAT16",
};

const char *
onnx_dtype_name (int64_t onnx)
{
  size_t n = sizeof onnx_dtype_names / sizeof onnx_dtype_names[0];
  return onnx >= 0 && (uint64_t) onnx < n ? onnx_dtype_names[onnx] : "unknown";
}

/* int32_data carries every type narrower than 32 bits; each has its range. */
static bool
int32_data_fits (seg_dtype dt, int64_t v)
{
  switch (dt) {
    case SEG_DT_I32:
      return v >= INT32_MIN && v <= INT32_MAX;
    case SEG_DT_I8:
      return v >= INT8_MIN && v <= INT8_MAX;
    case SEG_DT_U8:
      return v >= 0 && v <= UINT8_MAX;
    case SEG_DT_BOOL:
      return v == 0 || v == 1;
    case SEG_DT_F16:
      return v >= 0 && v <= UINT16_MAX;
    default:
      return false;
  }
}

void
onnx_store_elem (void *dst, size_t i, seg_dtype dt, uint64_t v)
{
  switch (dt) {
    case SEG_DT_F32:
    case SEG_DT_I32: {
      uint32_t x = (uint32_t) v;
      memcpy ((uint8_t *) dst + i * 4, &x, 4);
      break;
    }
    case SEG_DT_F64:
    case SEG_DT_I64:
      memcpy ((uint8_t *) dst + i * 8, &v, 8);
      break;
    case SEG_DT_F16: {
      uint16_t x = (uint16_t) v;
      memcpy ((uint8_t *) dst + i * 2, &x, 2);
      break;
    }
    case SEG_DT_U8:
    case SEG_DT_I8:
    case SEG_DT_BOOL:
      ((uint8_t *) dst)[i] = (uint8_t) v;
      break;
  }
}

/* raw_data is little-endian whatever the host. */
static void
copy_le (void *dst, const uint8_t *src, size_t count, size_t size)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
  memcpy (dst, src, count * size);
#else
  for (size_t i = 0; i < count; i++)
    for (size_t b = 0; b < size; b++)
      ((uint8_t *) dst)[i * size + b] = src[i * size + size - 1 - b];
#endif
}

/* The typed field a dtype's values live in when there is no raw_data. */
static void
typed_field (seg_dtype dt, uint32_t *number, seg_pb_kind *kind,
    const char **name)
{
  switch (dt) {
    case SEG_DT_F32:
      *number = TENSOR_FLOAT_DATA;
      *kind = SEG_PB_KIND_FIXED32;
      *name = "float_data";
      return;
    case SEG_DT_F64:
      *number = TENSOR_DOUBLE_DATA;
      *kind = SEG_PB_KIND_FIXED64;
      *name = "double_data";
      return;
    case SEG_DT_I64:
      *number = TENSOR_INT64_DATA;
      *kind = SEG_PB_KIND_VARINT;
      *name = "int64_data";
      return;
    default:
      *number = TENSOR_INT32_DATA;
      *kind = SEG_PB_KIND_VARINT;
      *name = "int32_data";
      return;
  }
}

/* Whether an already-checked message has a field with this number. */
static bool
has_field (span msg, uint32_t number)
{
  seg_pb_reader r;
  seg_pb_field f;
  const char *why;
  seg_pb_init (&r, msg.p, msg.n);
  while (seg_pb_next (&r, &f, &why) == SEG_PB_FIELD)
    if (f.number == number)
      return true;
  return false;
}

/* Reads a TensorProto. `where` names it until its own name is known. */
seg_status
onnx_read_tensor (ctx *c, span msg, const char *where, tensor_in *t)
{
  seg_pb_reader r;
  seg_pb_field f;
  seg_pb_result res;
  const char *why = NULL;
  int64_t onnx_dt = 0;
  bool has_raw = false, has_dt = false, external = false;
  span raw = {NULL, 0};
  char label[MAX_NAME + 64];
  seg_status st;

  memset (t, 0, sizeof *t);
  seg_pb_init (&r, msg.p, msg.n);
  while ((res = seg_pb_next (&r, &f, &why)) == SEG_PB_FIELD) {
    switch (f.number) {
      case TENSOR_NAME:
        if (f.wire != SEG_PB_LEN)
          return onnx_bad_wire (c, where, "name", &f, SEG_PB_LEN);
        t->name = (span){f.data, f.size};
        if ((st = onnx_check_name (c, t->name, where, "name")) != SEG_OK)
          return st;
        break;
      case TENSOR_DATA_TYPE:
        if (f.wire != SEG_PB_VARINT)
          return onnx_bad_wire (c, where, "data_type", &f, SEG_PB_VARINT);
        onnx_dt = (int64_t) f.u64;
        has_dt = true;
        break;
      case TENSOR_RAW_DATA:
        if (f.wire != SEG_PB_LEN)
          return onnx_bad_wire (c, where, "raw_data", &f, SEG_PB_LEN);
        raw = (span){f.data, f.size};
        has_raw = true;
        break;
      case TENSOR_DATA_LOCATION:
        if (f.wire != SEG_PB_VARINT)
          return onnx_bad_wire (c, where, "data_location", &f, SEG_PB_VARINT);
        external = external || f.u64 != 0;
        break;
      case TENSOR_EXTERNAL_DATA:
        external = true;
        break;
      case TENSOR_SEGMENT:
        return onnx_fail (c, SEG_ERR_UNSUPPORTED,
            "%s: segmented tensors (field 'segment') are not supported", where);
      default:
        break;
    }
  }
  if (res == SEG_PB_BAD)
    return onnx_bad_pb (c, where, why);

  if (t->name.n) {
    char nb[MAX_NAME + 1];
    snprintf (label, sizeof label, "tensor '%s'",
        onnx_span_str (t->name, nb, sizeof nb));
  } else {
    snprintf (label, sizeof label, "%s", where);
  }
  if (external)
    return onnx_fail (c, SEG_ERR_UNSUPPORTED,
        "%s: data is stored outside the file (external_data/data_location); "
        "segd reads only self-contained models",
        label);
  if (!has_dt)
    return onnx_fail (c, SEG_ERR_FORMAT, "%s: data_type is missing", label);
  if (!onnx_map_dtype (onnx_dt, &t->dtype))
    return onnx_fail (c, onnx_dt == 0 ? SEG_ERR_FORMAT : SEG_ERR_UNSUPPORTED,
        "%s: data_type %lld (%s) is not one segd reads", label,
        (long long) onnx_dt, onnx_dtype_name (onnx_dt));

  seg_pb_repeated it;
  uint64_t u;
  size_t ndims;
  if (seg_pb_repeated_count (msg.p, msg.n, TENSOR_DIMS, SEG_PB_KIND_VARINT,
          &ndims, &why)
      == SEG_PB_BAD)
    return onnx_fail (c, SEG_ERR_FORMAT, "%s: dims: %s", label, why);
  if (ndims > SEG_MAX_RANK)
    return onnx_fail (c, SEG_ERR_UNSUPPORTED,
        "%s: dims has rank %zu, at most %d supported", label, ndims,
        SEG_MAX_RANK);
  t->rank = (int) ndims;
  seg_pb_repeated_init (&it, msg.p, msg.n, TENSOR_DIMS, SEG_PB_KIND_VARINT);
  for (int i = 0; i < t->rank; i++) {
    seg_pb_repeated_next (&it, &u, &why);
    int64_t d = (int64_t) u;
    if (d < 0 || d > SEG_MAX_DIM)
      return onnx_fail (c, SEG_ERR_FORMAT,
          "%s: dims[%d] = %lld out of range (0..%d)", label, i, (long long) d,
          SEG_MAX_DIM);
    t->dims[i] = d;
  }
  int64_t count = seg_shape_elements (t->rank, t->dims);
  if (count < 0)
    return onnx_fail (c, SEG_ERR_FORMAT,
        "%s: dims describe more than %lld elements", label,
        (long long) SEG_MAX_ELEMENTS);
  size_t es = seg_dtype_size (t->dtype);

  /* Exactly one place holds the values, and it holds exactly `count`. */
  static const struct
  {
    uint32_t number;
    seg_pb_kind kind;
    const char *name;
  } typed[] = {
      {TENSOR_FLOAT_DATA, SEG_PB_KIND_FIXED32, "float_data"},
      {TENSOR_INT32_DATA, SEG_PB_KIND_VARINT, "int32_data"},
      {TENSOR_INT64_DATA, SEG_PB_KIND_VARINT, "int64_data"},
      {TENSOR_DOUBLE_DATA, SEG_PB_KIND_FIXED64, "double_data"},
      {TENSOR_UINT64_DATA, SEG_PB_KIND_VARINT, "uint64_data"},
  };
  uint32_t want_field;
  seg_pb_kind want_kind;
  const char *want_name;
  size_t want_count = 0;
  typed_field (t->dtype, &want_field, &want_kind, &want_name);
  for (size_t k = 0; k < sizeof typed / sizeof typed[0]; k++) {
    size_t n;
    if (seg_pb_repeated_count (msg.p, msg.n, typed[k].number, typed[k].kind, &n,
            &why)
        == SEG_PB_BAD)
      return onnx_fail (c, SEG_ERR_FORMAT, "%s: %s: %s", label, typed[k].name,
          why);
    if (typed[k].number == want_field && !has_raw) {
      want_count = n;
      continue;
    }
    if (n)
      return onnx_fail (c, SEG_ERR_FORMAT,
          "%s: has %s, which a %s tensor%s cannot use", label, typed[k].name,
          onnx_dtype_name (onnx_dt), has_raw ? " with raw_data" : "");
  }
  if (has_field (msg, TENSOR_STRING_DATA))
    return onnx_fail (c, SEG_ERR_FORMAT,
        "%s: has string_data, which a %s tensor cannot use", label,
        onnx_dtype_name (onnx_dt));
  if (has_raw) {
    if (raw.n != (size_t) count * es)
      return onnx_fail (c, SEG_ERR_FORMAT,
          "%s: raw_data has %zu bytes, expected %lld (%lld %s elements)", label,
          raw.n, (long long) count * (long long) es, (long long) count,
          onnx_dtype_name (onnx_dt));
  } else if (want_count != (size_t) count) {
    return onnx_fail (c, SEG_ERR_FORMAT, "%s: %s has %zu values, expected %lld",
        label, want_name, want_count, (long long) count);
  }

  t->nbytes = (size_t) count * es;
  t->data = malloc (t->nbytes ? t->nbytes : 1);
  if (!t->data)
    return onnx_nomem (c);
  if (has_raw) {
    copy_le (t->data, raw.p, (size_t) count, es);
    return SEG_OK;
  }
  seg_pb_repeated_init (&it, msg.p, msg.n, want_field, want_kind);
  for (int64_t i = 0; i < count; i++) {
    seg_pb_repeated_next (&it, &u, &why);
    if (want_field == TENSOR_INT32_DATA
        && !int32_data_fits (t->dtype, (int64_t) u)) {
      free (t->data);
      t->data = NULL;
      return onnx_fail (c, SEG_ERR_FORMAT,
          "%s: int32_data[%lld] = %lld out of range for %s", label,
          (long long) i, (long long) (int64_t) u, onnx_dtype_name (onnx_dt));
    }
    onnx_store_elem (t->data, (size_t) i, t->dtype, u);
  }
  return SEG_OK;
}

/* ---- ValueInfoProto ---------------------------------------------------- */

static seg_status
read_dim (ctx *c, span msg, const char *where, int i, int64_t *d)
{
  seg_pb_reader r;
  seg_pb_field f;
  seg_pb_result res;
  const char *why = NULL;
  char w[256];

  snprintf (w, sizeof w, "%s.type.shape.dim[%d]", where, i);
  *d = -1;
  seg_pb_init (&r, msg.p, msg.n);
  while ((res = seg_pb_next (&r, &f, &why)) == SEG_PB_FIELD) {
    if (f.number == DIM_VALUE) {
      if (f.wire != SEG_PB_VARINT)
        return onnx_bad_wire (c, w, "dim_value", &f, SEG_PB_VARINT);
      int64_t v = (int64_t) f.u64;
      if (v < 0 || v > SEG_MAX_DIM)
        return onnx_fail (c, SEG_ERR_FORMAT,
            "%s.dim_value = %lld out of range (0..%d)", w, (long long) v,
            SEG_MAX_DIM);
      *d = v;
    } else if (f.number == DIM_PARAM) {
      if (f.wire != SEG_PB_LEN)
        return onnx_bad_wire (c, w, "dim_param", &f, SEG_PB_LEN);
      *d = -1;
    }
  }
  return res == SEG_PB_BAD ? onnx_bad_pb (c, w, why) : SEG_OK;
}

seg_status
onnx_read_value_info (ctx *c, span msg, const char *where, value_info *vi)
{
  seg_pb_reader r, tr, ttr, sr;
  seg_pb_field f;
  seg_pb_result res;
  const char *why = NULL;
  span type = {NULL, 0}, tensor_type = {NULL, 0}, shape = {NULL, 0};
  bool has_type = false, has_tt = false, has_shape = false;
  char w[256];
  seg_status st;

  memset (vi, 0, sizeof *vi);
  vi->rank = -1;
  seg_pb_init (&r, msg.p, msg.n);
  while ((res = seg_pb_next (&r, &f, &why)) == SEG_PB_FIELD) {
    if (f.number == VALUE_INFO_NAME) {
      if (f.wire != SEG_PB_LEN)
        return onnx_bad_wire (c, where, "name", &f, SEG_PB_LEN);
      vi->name = (span){f.data, f.size};
      if ((st = onnx_check_name (c, vi->name, where, "name")) != SEG_OK)
        return st;
    } else if (f.number == VALUE_INFO_TYPE) {
      if (f.wire != SEG_PB_LEN)
        return onnx_bad_wire (c, where, "type", &f, SEG_PB_LEN);
      type = (span){f.data, f.size};
      has_type = true;
    }
  }
  if (res == SEG_PB_BAD)
    return onnx_bad_pb (c, where, why);
  if (!vi->name.n)
    return onnx_fail (c, SEG_ERR_FORMAT, "%s.name is missing", where);
  if (!has_type)
    return SEG_OK;

  snprintf (w, sizeof w, "%s.type", where);
  seg_pb_init (&tr, type.p, type.n);
  bool other = false;
  while ((res = seg_pb_next (&tr, &f, &why)) == SEG_PB_FIELD) {
    if (f.number == TYPE_TENSOR) {
      if (f.wire != SEG_PB_LEN)
        return onnx_bad_wire (c, w, "tensor_type", &f, SEG_PB_LEN);
      tensor_type = (span){f.data, f.size};
      has_tt = true;
    } else if (f.number == 4 || f.number == 5 || f.number == 8
        || f.number == 9) {
      other = true; /* sequence, map, sparse tensor, optional */
    }
  }
  if (res == SEG_PB_BAD)
    return onnx_bad_pb (c, w, why);
  if (other && !has_tt)
    return onnx_fail (c, SEG_ERR_UNSUPPORTED,
        "%s: only dense tensors are supported", w);
  if (!has_tt)
    return SEG_OK;

  snprintf (w, sizeof w, "%s.type.tensor_type", where);
  seg_pb_init (&ttr, tensor_type.p, tensor_type.n);
  while ((res = seg_pb_next (&ttr, &f, &why)) == SEG_PB_FIELD) {
    if (f.number == TYPE_TENSOR_ELEM_TYPE) {
      if (f.wire != SEG_PB_VARINT)
        return onnx_bad_wire (c, w, "elem_type", &f, SEG_PB_VARINT);
      vi->elem_type = (int64_t) f.u64;
    } else if (f.number == TYPE_TENSOR_SHAPE) {
      if (f.wire != SEG_PB_LEN)
        return onnx_bad_wire (c, w, "shape", &f, SEG_PB_LEN);
      shape = (span){f.data, f.size};
      has_shape = true;
    }
  }
  if (res == SEG_PB_BAD)
    return onnx_bad_pb (c, w, why);
  if (!has_shape)
    return SEG_OK;

  snprintf (w, sizeof w, "%s.type.shape", where);
  int rank = 0;
  seg_pb_init (&sr, shape.p, shape.n);
  while ((res = seg_pb_next (&sr, &f, &why)) == SEG_PB_FIELD) {
    if (f.number != SHAPE_DIM)
      continue;
    if (f.wire != SEG_PB_LEN)
      return onnx_bad_wire (c, w, "dim", &f, SEG_PB_LEN);
    if (rank == SEG_MAX_RANK)
      return onnx_fail (c, SEG_ERR_UNSUPPORTED, "%s.dim: more than %d dims", w,
          SEG_MAX_RANK);
    if ((st = read_dim (c, (span){f.data, f.size}, where, rank,
             &vi->dims[rank]))
        != SEG_OK)
      return st;
    rank++;
  }
  if (res == SEG_PB_BAD)
    return onnx_bad_pb (c, w, why);
  vi->rank = rank;
  return SEG_OK;
}

/* ---- NodeProto and attributes ------------------------------------------ */

static seg_status
read_attr (ctx *c, const onnx_node *n, int index, span msg, onnx_attr *a)
{
  seg_pb_reader r;
  seg_pb_field f;
  seg_pb_result res;
  const char *why = NULL;
  char w[MAX_NAME + 128];
  seg_status st;

  snprintf (w, sizeof w, "node '%s' attribute[%d]", n->name, index);
  memset (a, 0, sizeof *a);
  a->msg = msg;
  seg_pb_init (&r, msg.p, msg.n);
  while ((res = seg_pb_next (&r, &f, &why)) == SEG_PB_FIELD) {
    switch (f.number) {
      case ATTR_NAME:
        if (f.wire != SEG_PB_LEN)
          return onnx_bad_wire (c, w, "name", &f, SEG_PB_LEN);
        a->name = (span){f.data, f.size};
        if ((st = onnx_check_name (c, a->name, w, "name")) != SEG_OK)
          return st;
        break;
      case ATTR_TYPE:
        if (f.wire != SEG_PB_VARINT)
          return onnx_bad_wire (c, w, "type", &f, SEG_PB_VARINT);
        a->type = (int64_t) f.u64;
        break;
      case ATTR_F:
        if (f.wire != SEG_PB_I32)
          return onnx_bad_wire (c, w, "f", &f, SEG_PB_I32);
        a->f = seg_pb_float (f.u64);
        a->has_f = true;
        break;
      case ATTR_I:
        if (f.wire != SEG_PB_VARINT)
          return onnx_bad_wire (c, w, "i", &f, SEG_PB_VARINT);
        a->i = (int64_t) f.u64;
        a->has_i = true;
        break;
      case ATTR_S:
        if (f.wire != SEG_PB_LEN)
          return onnx_bad_wire (c, w, "s", &f, SEG_PB_LEN);
        a->s = (span){f.data, f.size};
        a->has_s = true;
        break;
      case ATTR_T:
        if (f.wire != SEG_PB_LEN)
          return onnx_bad_wire (c, w, "t", &f, SEG_PB_LEN);
        a->t = (span){f.data, f.size};
        a->has_t = true;
        break;
      case ATTR_REF_ATTR_NAME:
        return onnx_fail (c, SEG_ERR_UNSUPPORTED,
            "%s: ref_attr_name (function attributes) is not supported", w);
      default:
        break;
    }
  }
  if (res == SEG_PB_BAD)
    return onnx_bad_pb (c, w, why);
  if (!a->name.n)
    return onnx_fail (c, SEG_ERR_FORMAT, "%s.name is missing", w);
  return SEG_OK;
}

seg_status
onnx_read_node (ctx *c, span msg, int index, onnx_node *n)
{
  seg_pb_reader r;
  seg_pb_field f;
  seg_pb_result res;
  const char *why = NULL;
  char w[64];
  seg_status st;
  int nattr = 0;

  snprintf (w, sizeof w, "graph.node[%d]", index);
  memset (n, 0, sizeof *n);
  n->index = index;
  n->msg = msg;
  seg_pb_init (&r, msg.p, msg.n);
  while ((res = seg_pb_next (&r, &f, &why)) == SEG_PB_FIELD) {
    span s = {f.data, f.size};
    switch (f.number) {
      case NODE_INPUT:
      case NODE_OUTPUT: {
        bool is_in = f.number == NODE_INPUT;
        const char *field = is_in ? "input" : "output";
        if (f.wire != SEG_PB_LEN)
          return onnx_bad_wire (c, w, field, &f, SEG_PB_LEN);
        if ((st = onnx_check_name (c, s, w, field)) != SEG_OK)
          return st;
        int *cnt = is_in ? &n->nin : &n->nout;
        if (*cnt < SEG_MAX_IO)
          (is_in ? n->in : n->out)[*cnt] = s;
        if (*cnt < SEG_MAX_IO + 1)
          (*cnt)++;
        break;
      }
      case NODE_NAME:
      case NODE_OP_TYPE:
      case NODE_DOMAIN: {
        const char *field = f.number == NODE_NAME ? "name"
            : f.number == NODE_OP_TYPE            ? "op_type"
                                                  : "domain";
        if (f.wire != SEG_PB_LEN)
          return onnx_bad_wire (c, w, field, &f, SEG_PB_LEN);
        if ((st = onnx_check_name (c, s, w, field)) != SEG_OK)
          return st;
        *(f.number == NODE_NAME            ? &n->name_s
                : f.number == NODE_OP_TYPE ? &n->op_s
                                           : &n->domain) = s;
        break;
      }
      case NODE_ATTRIBUTE:
        if (f.wire != SEG_PB_LEN)
          return onnx_bad_wire (c, w, "attribute", &f, SEG_PB_LEN);
        nattr++;
        break;
      default:
        break;
    }
  }
  if (res == SEG_PB_BAD)
    return onnx_bad_pb (c, w, why);
  if (!n->op_s.n)
    return onnx_fail (c, SEG_ERR_FORMAT, "%s.op_type is missing", w);
  onnx_span_str (n->op_s, n->op, sizeof n->op);
  if (n->name_s.n)
    onnx_span_str (n->name_s, n->name, sizeof n->name);
  else
    snprintf (n->name, sizeof n->name, "%s#%d", n->op, index);

  /* Every attribute is well-formed, whether or not its op reads it. */
  if (nattr) {
    seg_pb_init (&r, msg.p, msg.n);
    int i = 0;
    while (seg_pb_next (&r, &f, &why) == SEG_PB_FIELD) {
      onnx_attr a;
      if (f.number != NODE_ATTRIBUTE)
        continue;
      if ((st = read_attr (c, n, i++, (span){f.data, f.size}, &a)) != SEG_OK)
        return st;
    }
  }
  return SEG_OK;
}

seg_status
onnx_find_attr (ctx *c, const onnx_node *n, const char *name, onnx_attr *a,
    bool *found)
{
  seg_pb_reader r;
  seg_pb_field f;
  const char *why = NULL;
  int i = 0;
  seg_status st;

  *found = false;
  seg_pb_init (&r, n->msg.p, n->msg.n);
  while (seg_pb_next (&r, &f, &why) == SEG_PB_FIELD) {
    onnx_attr x;
    if (f.number != NODE_ATTRIBUTE)
      continue;
    if ((st = read_attr (c, n, i++, (span){f.data, f.size}, &x)) != SEG_OK)
      return st;
    if (!onnx_span_eq (x.name, name))
      continue;
    if (*found)
      return onnx_node_fail (c, n, SEG_ERR_FORMAT,
          "attribute '%s' is given twice", name);
    *a = x;
    *found = true;
  }
  return SEG_OK;
}

static const char *
attr_type_name (int64_t t)
{
  switch (t) {
    case AT_FLOAT:
      return "FLOAT";
    case AT_INT:
      return "INT";
    case AT_STRING:
      return "STRING";
    case AT_TENSOR:
      return "TENSOR";
    case AT_FLOATS:
      return "FLOATS";
    case AT_INTS:
      return "INTS";
    default:
      return "another type";
  }
}

/* Files that predate AttributeProto.type are judged by the field present. */
seg_status
onnx_attr_want (ctx *c, const onnx_node *n, const onnx_attr *a, int64_t type)
{
  bool ok;
  if (a->type)
    ok = a->type == type;
  else if (type == AT_FLOAT)
    ok = a->has_f;
  else if (type == AT_INT)
    ok = a->has_i;
  else if (type == AT_STRING)
    ok = a->has_s;
  else if (type == AT_TENSOR)
    ok = a->has_t;
  else
    ok = !a->has_f && !a->has_i && !a->has_s && !a->has_t;
  if (ok)
    return SEG_OK;
  char nb[MAX_NAME + 1];
  return onnx_node_fail (c, n, SEG_ERR_FORMAT,
      "attribute '%s' is %s, expected %s",
      onnx_span_str (a->name, nb, sizeof nb),
      a->type ? attr_type_name (a->type) : "untyped", attr_type_name (type));
}

seg_status
onnx_get_int (ctx *c, const onnx_node *n, const char *name, int64_t def,
    int64_t *v, bool *found)
{
  onnx_attr a;
  bool have;
  seg_status st = onnx_find_attr (c, n, name, &a, &have);
  if (found)
    *found = have;
  *v = def;
  if (st != SEG_OK || !have)
    return st;
  if ((st = onnx_attr_want (c, n, &a, AT_INT)) != SEG_OK)
    return st;
  *v = a.i;
  return SEG_OK;
}

seg_status
onnx_get_float (ctx *c, const onnx_node *n, const char *name, float def,
    float *v)
{
  onnx_attr a;
  bool have;
  seg_status st = onnx_find_attr (c, n, name, &a, &have);
  *v = def;
  if (st != SEG_OK || !have)
    return st;
  if ((st = onnx_attr_want (c, n, &a, AT_FLOAT)) != SEG_OK)
    return st;
  *v = a.f;
  return SEG_OK;
}

/* Strings are compared and may be quoted in messages: checked like names. */
seg_status
onnx_get_string (ctx *c, const onnx_node *n, const char *name, span *s,
    bool *found)
{
  onnx_attr a;
  char w[MAX_NAME + 128];
  seg_status st = onnx_find_attr (c, n, name, &a, found);
  if (st != SEG_OK || !*found)
    return st;
  if ((st = onnx_attr_want (c, n, &a, AT_STRING)) != SEG_OK)
    return st;
  snprintf (w, sizeof w, "node '%s' attribute '%s'", n->name, name);
  if ((st = onnx_check_name (c, a.s, w, "s")) != SEG_OK)
    return st;
  *s = a.s;
  return SEG_OK;
}

/* Reads an INTS attribute of at most `max` values; *count = -1 if absent. */
seg_status
onnx_get_ints (ctx *c, const onnx_node *n, const char *name, int64_t *v,
    int max, int *count)
{
  onnx_attr a;
  bool have;
  const char *why = NULL;
  size_t cnt;
  seg_status st = onnx_find_attr (c, n, name, &a, &have);

  *count = -1;
  if (st != SEG_OK || !have)
    return st;
  if ((st = onnx_attr_want (c, n, &a, AT_INTS)) != SEG_OK)
    return st;
  if (seg_pb_repeated_count (a.msg.p, a.msg.n, ATTR_INTS, SEG_PB_KIND_VARINT,
          &cnt, &why)
      == SEG_PB_BAD)
    return onnx_node_fail (c, n, SEG_ERR_FORMAT, "attribute '%s' ints: %s",
        name, why);
  if (cnt > (size_t) max)
    return onnx_node_fail (c, n, SEG_ERR_FORMAT,
        "attribute '%s' has %zu values, expected at most %d", name, cnt, max);
  seg_pb_repeated it;
  uint64_t u;
  seg_pb_repeated_init (&it, a.msg.p, a.msg.n, ATTR_INTS, SEG_PB_KIND_VARINT);
  for (size_t i = 0; i < cnt; i++) {
    seg_pb_repeated_next (&it, &u, &why);
    v[i] = (int64_t) u;
  }
  *count = (int) cnt;
  return SEG_OK;
}

/* An INTS attribute of exactly `want` values in [lo, hi] into int[];
 * absent leaves out[] as is. */
seg_status
onnx_get_int_list (ctx *c, const onnx_node *n, const char *name, int want,
    int64_t lo, int64_t hi, int *out)
{
  int64_t v[SEG_MAX_INTS];
  int cnt;
  seg_status st = onnx_get_ints (c, n, name, v, SEG_MAX_INTS, &cnt);
  if (st != SEG_OK || cnt < 0)
    return st;
  if (cnt != want)
    return onnx_node_fail (c, n,
        cnt > want ? SEG_ERR_UNSUPPORTED : SEG_ERR_FORMAT,
        "attribute '%s' has %d values, expected %d (2-D only)", name, cnt,
        want);
  for (int i = 0; i < cnt; i++) {
    if (v[i] < lo || v[i] > hi)
      return onnx_node_fail (c, n, SEG_ERR_FORMAT,
          "attribute '%s'[%d] = %lld out of range (%lld..%lld)", name, i,
          (long long) v[i], (long long) lo, (long long) hi);
    out[i] = (int) v[i];
  }
  return SEG_OK;
}
