/* ONNX importer: turns a ModelProto into the graph IR.
 *
 * The file is untrusted. It is walked in place with the bounds-checked
 * protobuf reader (pb.h); nothing is allocated before the bytes that justify
 * it have been seen, and every error names the file and the field or node.
 * Nodes are imported in file order, which ONNX requires to be topological,
 * so an input that is not yet defined is an error rather than a forward
 * reference to resolve.
 *
 * Layout: ONNX activations are NCHW, the IR's are NHWC. Every value is
 * tracked as a constant, a plan-time value (shape arithmetic) or an
 * activation; activations are always rank 4, their declared dims are
 * permuted, and the constants they are combined with elementwise are
 * rewritten to NHWC here. Shape-like ops only ever see constants and
 * plan-time values (the engine evaluates them once per plan, never per
 * frame), so their axes keep ONNX's meaning; Shape and Resize carry `nchw`
 * to translate between the two orders.
 */
#include "import.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pb.h"
#include "../ops/ops.h"

#define MIN_OPSET 11
#define MAX_OPSET 17
/* Longest name accepted for a tensor, node, op or attribute. */
#define MAX_NAME 4096

/* Field numbers from onnx.proto. */
enum { MODEL_GRAPH = 7, MODEL_OPSET_IMPORT = 8 };
enum { OPSET_DOMAIN = 1, OPSET_VERSION = 2 };
enum {
  GRAPH_NODE = 1, GRAPH_INITIALIZER = 5, GRAPH_INPUT = 11, GRAPH_OUTPUT = 12,
  GRAPH_SPARSE_INITIALIZER = 15,
};
enum {
  NODE_INPUT = 1, NODE_OUTPUT = 2, NODE_NAME = 3, NODE_OP_TYPE = 4,
  NODE_ATTRIBUTE = 5, NODE_DOMAIN = 7,
};
enum {
  ATTR_NAME = 1, ATTR_F = 2, ATTR_I = 3, ATTR_S = 4, ATTR_T = 5,
  ATTR_FLOATS = 7, ATTR_INTS = 8, ATTR_TYPE = 20, ATTR_REF_ATTR_NAME = 21,
};
enum {
  TENSOR_DIMS = 1, TENSOR_DATA_TYPE = 2, TENSOR_SEGMENT = 3,
  TENSOR_FLOAT_DATA = 4, TENSOR_INT32_DATA = 5, TENSOR_STRING_DATA = 6,
  TENSOR_INT64_DATA = 7, TENSOR_NAME = 8, TENSOR_RAW_DATA = 9,
  TENSOR_DOUBLE_DATA = 10, TENSOR_UINT64_DATA = 11, TENSOR_EXTERNAL_DATA = 13,
  TENSOR_DATA_LOCATION = 14,
};
enum { VALUE_INFO_NAME = 1, VALUE_INFO_TYPE = 2 };
enum { TYPE_TENSOR = 1 };
enum { TYPE_TENSOR_ELEM_TYPE = 1, TYPE_TENSOR_SHAPE = 2 };
enum { SHAPE_DIM = 1 };
enum { DIM_VALUE = 1, DIM_PARAM = 2 };

/* AttributeProto.AttributeType */
enum {
  AT_FLOAT = 1, AT_INT = 2, AT_STRING = 3, AT_TENSOR = 4, AT_FLOATS = 6,
  AT_INTS = 7,
};

/* TensorProto.DataType */
enum {
  DT_FLOAT = 1, DT_UINT8 = 2, DT_INT8 = 3, DT_INT32 = 6, DT_INT64 = 7,
  DT_BOOL = 9, DT_FLOAT16 = 10, DT_DOUBLE = 11,
};

static const char *const onnx_dtype_names[] = {
  "UNDEFINED", "FLOAT", "UINT8", "INT8", "UINT16", "INT16", "INT32", "INT64",
  "STRING", "BOOL", "FLOAT16", "DOUBLE", "UINT32", "UINT64", "COMPLEX64",
  "COMPLEX128", "BFLOAT16",
};

typedef struct {
  const uint8_t *p;
  size_t n;
} span;

/* What a value is, which decides where the engine computes it. */
typedef enum {
  KIND_CONST,  /* known at load: stored, or computed from stored data only */
  KIND_STATIC, /* known at plan time: depends on an activation's shape */
  KIND_ACT,    /* an activation: rank 4, NHWC in the IR */
} value_kind;

typedef struct {
  span name;
  uint32_t hash;
  int tensor;
  value_kind kind;
  int rank;
  int64_t len;  /* element count of a rank-0/1 value if known, else -1 */
  int data;     /* tensor holding this value's bytes (through Identity), or -1 */
  int nhwc;     /* NHWC copy of a rank-3/4 constant for broadcasting, or -1 */
} value;

typedef struct {
  const char *file;
  seg_err *err;
  seg_graph *g;
  int64_t opset;
  value *vals;
  int nvals, vals_cap;
  int *slots; /* open-addressing index into vals; -1 = empty */
  size_t nslots;
  uint32_t seed;
} ctx;

typedef struct {
  int index;
  span name_s, op_s, domain;
  char name[MAX_NAME + 32]; /* the node's name, or "<op>#<index>" */
  char op[MAX_NAME + 1];
  int nin, nout; /* as in the file; only the first SEG_MAX_IO are kept */
  span in[SEG_MAX_IO], out[SEG_MAX_IO];
  int vin[SEG_MAX_IO]; /* value index per input, -1 when the name is "" */
  span msg;
} onnx_node;

typedef struct {
  span name;
  int64_t type; /* 0 when the writer left it out (old files) */
  bool has_f, has_i, has_s, has_t;
  float f;
  int64_t i;
  span s, t, msg;
} onnx_attr;

/* ---- errors ------------------------------------------------------------ */

static seg_status fail (ctx *c, seg_status st, const char *fmt, ...)
    __attribute__ ((format (printf, 3, 4)));
static seg_status node_fail (ctx *c, const onnx_node *n, seg_status st,
    const char *fmt, ...) __attribute__ ((format (printf, 4, 5)));

static seg_status
fail (ctx *c, seg_status st, const char *fmt, ...)
{
  char msg[sizeof c->err->msg];
  va_list ap;
  va_start (ap, fmt);
  vsnprintf (msg, sizeof msg, fmt, ap);
  va_end (ap);
  return seg_fail (c->err, st, "%s: %s", c->file, msg);
}

static seg_status
node_fail (ctx *c, const onnx_node *n, seg_status st, const char *fmt, ...)
{
  char msg[sizeof c->err->msg];
  va_list ap;
  va_start (ap, fmt);
  vsnprintf (msg, sizeof msg, fmt, ap);
  va_end (ap);
  return fail (c, st, "node '%s' (%s): %s", n->name, n->op, msg);
}

static seg_status
nomem (ctx *c)
{
  return fail (c, SEG_ERR_NOMEM, "out of memory");
}

static seg_status
bad_wire (ctx *c, const char *where, const char *field, const seg_pb_field *f,
    seg_pb_wire want)
{
  return fail (c, SEG_ERR_FORMAT, "%s.%s has wire type %d, expected %d",
      where, field, (int) f->wire, (int) want);
}

static seg_status
bad_pb (ctx *c, const char *where, const char *why)
{
  return fail (c, SEG_ERR_FORMAT, "%s: %s", where, why);
}

/* ---- names ------------------------------------------------------------- */

static bool
span_eq (span s, const char *lit)
{
  size_t n = strlen (lit);
  return s.n == n && (n == 0 || memcmp (s.p, lit, n) == 0);
}

/* Names end up in messages and logs: no control bytes, bounded length. */
static seg_status
check_name (ctx *c, span s, const char *where, const char *field)
{
  if (s.n > MAX_NAME)
    return fail (c, SEG_ERR_FORMAT, "%s.%s is %zu bytes long, at most %d allowed",
        where, field, s.n, MAX_NAME);
  for (size_t i = 0; i < s.n; i++)
    if (s.p[i] < 0x20 || s.p[i] == 0x7f)
      return fail (c, SEG_ERR_FORMAT, "%s.%s contains control byte 0x%02x",
          where, field, s.p[i]);
  return SEG_OK;
}

/* Copies a checked name (at most MAX_NAME bytes) into buf. */
static const char *
span_str (span s, char *buf, size_t size)
{
  size_t n = s.n < size - 1 ? s.n : size - 1;
  if (n)
    memcpy (buf, s.p, n);
  buf[n] = '\0';
  return buf;
}

/* ---- the value table --------------------------------------------------- */

/* FNV-1a from a per-process starting point (the ASLR'd address of the
 * context), so that a file cannot be crafted to make every name collide and
 * the table quadratic. */
static uint32_t
hash_span (const ctx *c, span s)
{
  uint32_t h = 2166136261u ^ c->seed;
  for (size_t i = 0; i < s.n; i++)
    h = (h ^ s.p[i]) * 16777619u;
  return h;
}

static int
lookup (const ctx *c, span name)
{
  if (!c->nslots)
    return -1;
  uint32_t h = hash_span (c, name);
  for (size_t i = h & (c->nslots - 1);; i = (i + 1) & (c->nslots - 1)) {
    int v = c->slots[i];
    if (v < 0)
      return -1;
    const value *x = &c->vals[v];
    if (x->hash == h && x->name.n == name.n
        && (name.n == 0 || memcmp (x->name.p, name.p, name.n) == 0))
      return v;
  }
}

static bool
grow_slots (ctx *c)
{
  size_t n = c->nslots ? c->nslots * 2 : 256;
  int *slots = malloc (n * sizeof *slots);
  if (!slots)
    return false;
  for (size_t i = 0; i < n; i++)
    slots[i] = -1;
  for (int v = 0; v < c->nvals; v++) {
    if (!c->vals[v].name.n)
      continue;
    size_t i = c->vals[v].hash & (n - 1);
    while (slots[i] >= 0)
      i = (i + 1) & (n - 1);
    slots[i] = v;
  }
  free (c->slots);
  c->slots = slots;
  c->nslots = n;
  return true;
}

/* Adds a value that no name refers to. Returns its index or -1 when out of
 * memory. */
static int
new_value (ctx *c, span name, int tensor, value_kind kind, int rank)
{
  if (c->nvals == c->vals_cap) {
    int cap = c->vals_cap ? c->vals_cap * 2 : 256;
    value *v = realloc (c->vals, (size_t) cap * sizeof *v);
    if (!v)
      return -1;
    c->vals = v;
    c->vals_cap = cap;
  }
  value *x = &c->vals[c->nvals];
  x->name = name;
  x->hash = hash_span (c, name);
  x->tensor = tensor;
  x->kind = kind;
  x->rank = rank;
  x->len = -1;
  x->data = -1;
  x->nhwc = -1;
  return c->nvals++;
}

/* Adds a named value; the caller has checked the name is not defined yet. */
static int
define (ctx *c, span name, int tensor, value_kind kind, int rank)
{
  if ((size_t) (c->nvals + 1) * 2 > c->nslots && !grow_slots (c))
    return -1;
  int v = new_value (c, name, tensor, kind, rank);
  if (v < 0)
    return -1;
  size_t i = c->vals[v].hash & (c->nslots - 1);
  while (c->slots[i] >= 0)
    i = (i + 1) & (c->nslots - 1);
  c->slots[i] = v;
  return v;
}

/* Adds an IR tensor, telling the table limit from allocation failure. */
static seg_status
add_tensor (ctx *c, const char *name, seg_dtype dt, int rank,
    const int64_t *dims, void *data, size_t nbytes, int *index)
{
  if (c->g->ntensors >= SEG_MAX_TENSORS) {
    free (data);
    return fail (c, SEG_ERR_FORMAT, "more than %d tensors", SEG_MAX_TENSORS);
  }
  *index = seg_graph_add_tensor (c->g, name, dt, rank, dims, data, nbytes);
  return *index < 0 ? nomem (c) : SEG_OK;
}

/* A value known to hold constant bytes: sets the length of small ones. */
static void
value_set_data (ctx *c, int v, int tensor)
{
  const seg_tensor *t = &c->g->tensors[tensor];
  c->vals[v].data = tensor;
  if (t->rank == 0)
    c->vals[v].len = 1;
  else if (t->rank == 1)
    c->vals[v].len = t->dims[0];
}

/* ---- TensorProto ------------------------------------------------------- */

static bool
map_dtype (int64_t onnx, seg_dtype *dt)
{
  switch (onnx) {
    case DT_FLOAT: *dt = SEG_DT_F32; return true;
    case DT_FLOAT16: *dt = SEG_DT_F16; return true;
    case DT_DOUBLE: *dt = SEG_DT_F64; return true;
    case DT_INT64: *dt = SEG_DT_I64; return true;
    case DT_INT32: *dt = SEG_DT_I32; return true;
    case DT_INT8: *dt = SEG_DT_I8; return true;
    case DT_UINT8: *dt = SEG_DT_U8; return true;
    case DT_BOOL: *dt = SEG_DT_BOOL; return true;
    default: return false;
  }
}

static const char *
onnx_dtype_name (int64_t onnx)
{
  size_t n = sizeof onnx_dtype_names / sizeof onnx_dtype_names[0];
  return onnx >= 0 && (uint64_t) onnx < n ? onnx_dtype_names[onnx] : "unknown";
}

typedef struct {
  span name;
  seg_dtype dtype;
  int rank;
  int64_t dims[SEG_MAX_RANK];
  void *data; /* owned; at least one byte so that empty constants count */
  size_t nbytes;
} tensor_in;

/* int32_data carries every type narrower than 32 bits; each has its range. */
static bool
int32_data_fits (seg_dtype dt, int64_t v)
{
  switch (dt) {
    case SEG_DT_I32: return v >= INT32_MIN && v <= INT32_MAX;
    case SEG_DT_I8: return v >= INT8_MIN && v <= INT8_MAX;
    case SEG_DT_U8: return v >= 0 && v <= UINT8_MAX;
    case SEG_DT_BOOL: return v == 0 || v == 1;
    case SEG_DT_F16: return v >= 0 && v <= UINT16_MAX;
    default: return false;
  }
}

static void
store_elem (void *dst, size_t i, seg_dtype dt, uint64_t v)
{
  switch (dt) {
    case SEG_DT_F32: case SEG_DT_I32: {
      uint32_t x = (uint32_t) v;
      memcpy ((uint8_t *) dst + i * 4, &x, 4);
      break;
    }
    case SEG_DT_F64: case SEG_DT_I64:
      memcpy ((uint8_t *) dst + i * 8, &v, 8);
      break;
    case SEG_DT_F16: {
      uint16_t x = (uint16_t) v;
      memcpy ((uint8_t *) dst + i * 2, &x, 2);
      break;
    }
    case SEG_DT_U8: case SEG_DT_I8: case SEG_DT_BOOL:
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
      *number = TENSOR_FLOAT_DATA; *kind = SEG_PB_KIND_FIXED32; *name = "float_data";
      return;
    case SEG_DT_F64:
      *number = TENSOR_DOUBLE_DATA; *kind = SEG_PB_KIND_FIXED64; *name = "double_data";
      return;
    case SEG_DT_I64:
      *number = TENSOR_INT64_DATA; *kind = SEG_PB_KIND_VARINT; *name = "int64_data";
      return;
    default:
      *number = TENSOR_INT32_DATA; *kind = SEG_PB_KIND_VARINT; *name = "int32_data";
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
static seg_status
read_tensor (ctx *c, span msg, const char *where, tensor_in *t)
{
  seg_pb_reader r;
  seg_pb_field f;
  seg_pb_result res;
  const char *why = NULL;
  int64_t onnx_dt = 0;
  bool has_raw = false, has_dt = false, external = false;
  span raw = { NULL, 0 };
  char label[MAX_NAME + 64];
  seg_status st;

  memset (t, 0, sizeof *t);
  seg_pb_init (&r, msg.p, msg.n);
  while ((res = seg_pb_next (&r, &f, &why)) == SEG_PB_FIELD) {
    switch (f.number) {
      case TENSOR_NAME:
        if (f.wire != SEG_PB_LEN)
          return bad_wire (c, where, "name", &f, SEG_PB_LEN);
        t->name = (span) { f.data, f.size };
        if ((st = check_name (c, t->name, where, "name")) != SEG_OK)
          return st;
        break;
      case TENSOR_DATA_TYPE:
        if (f.wire != SEG_PB_VARINT)
          return bad_wire (c, where, "data_type", &f, SEG_PB_VARINT);
        onnx_dt = (int64_t) f.u64;
        has_dt = true;
        break;
      case TENSOR_RAW_DATA:
        if (f.wire != SEG_PB_LEN)
          return bad_wire (c, where, "raw_data", &f, SEG_PB_LEN);
        raw = (span) { f.data, f.size };
        has_raw = true;
        break;
      case TENSOR_DATA_LOCATION:
        if (f.wire != SEG_PB_VARINT)
          return bad_wire (c, where, "data_location", &f, SEG_PB_VARINT);
        external = external || f.u64 != 0;
        break;
      case TENSOR_EXTERNAL_DATA:
        external = true;
        break;
      case TENSOR_SEGMENT:
        return fail (c, SEG_ERR_UNSUPPORTED,
            "%s: segmented tensors (field 'segment') are not supported", where);
      default:
        break;
    }
  }
  if (res == SEG_PB_BAD)
    return bad_pb (c, where, why);

  if (t->name.n) {
    char nb[MAX_NAME + 1];
    snprintf (label, sizeof label, "tensor '%s'", span_str (t->name, nb, sizeof nb));
  } else {
    snprintf (label, sizeof label, "%s", where);
  }
  if (external)
    return fail (c, SEG_ERR_UNSUPPORTED,
        "%s: data is stored outside the file (external_data/data_location); "
        "segd reads only self-contained models", label);
  if (!has_dt)
    return fail (c, SEG_ERR_FORMAT, "%s: data_type is missing", label);
  if (!map_dtype (onnx_dt, &t->dtype))
    return fail (c, onnx_dt == 0 ? SEG_ERR_FORMAT : SEG_ERR_UNSUPPORTED,
        "%s: data_type %lld (%s) is not one segd reads", label,
        (long long) onnx_dt, onnx_dtype_name (onnx_dt));

  seg_pb_repeated it;
  uint64_t u;
  size_t ndims;
  if (seg_pb_repeated_count (msg.p, msg.n, TENSOR_DIMS, SEG_PB_KIND_VARINT,
          &ndims, &why) == SEG_PB_BAD)
    return fail (c, SEG_ERR_FORMAT, "%s: dims: %s", label, why);
  if (ndims > SEG_MAX_RANK)
    return fail (c, SEG_ERR_UNSUPPORTED, "%s: dims has rank %zu, at most %d supported",
        label, ndims, SEG_MAX_RANK);
  t->rank = (int) ndims;
  seg_pb_repeated_init (&it, msg.p, msg.n, TENSOR_DIMS, SEG_PB_KIND_VARINT);
  for (int i = 0; i < t->rank; i++) {
    seg_pb_repeated_next (&it, &u, &why);
    int64_t d = (int64_t) u;
    if (d < 0 || d > SEG_MAX_DIM)
      return fail (c, SEG_ERR_FORMAT, "%s: dims[%d] = %lld out of range (0..%d)",
          label, i, (long long) d, SEG_MAX_DIM);
    t->dims[i] = d;
  }
  int64_t count = seg_shape_elements (t->rank, t->dims);
  if (count < 0)
    return fail (c, SEG_ERR_FORMAT, "%s: dims describe more than %lld elements",
        label, (long long) SEG_MAX_ELEMENTS);
  size_t es = seg_dtype_size (t->dtype);

  /* Exactly one place holds the values, and it holds exactly `count`. */
  static const struct {
    uint32_t number;
    seg_pb_kind kind;
    const char *name;
  } typed[] = {
    { TENSOR_FLOAT_DATA, SEG_PB_KIND_FIXED32, "float_data" },
    { TENSOR_INT32_DATA, SEG_PB_KIND_VARINT, "int32_data" },
    { TENSOR_INT64_DATA, SEG_PB_KIND_VARINT, "int64_data" },
    { TENSOR_DOUBLE_DATA, SEG_PB_KIND_FIXED64, "double_data" },
    { TENSOR_UINT64_DATA, SEG_PB_KIND_VARINT, "uint64_data" },
  };
  uint32_t want_field;
  seg_pb_kind want_kind;
  const char *want_name;
  size_t want_count = 0;
  typed_field (t->dtype, &want_field, &want_kind, &want_name);
  for (size_t k = 0; k < sizeof typed / sizeof typed[0]; k++) {
    size_t n;
    if (seg_pb_repeated_count (msg.p, msg.n, typed[k].number, typed[k].kind,
            &n, &why) == SEG_PB_BAD)
      return fail (c, SEG_ERR_FORMAT, "%s: %s: %s", label, typed[k].name, why);
    if (typed[k].number == want_field && !has_raw) {
      want_count = n;
      continue;
    }
    if (n)
      return fail (c, SEG_ERR_FORMAT, "%s: has %s, which a %s tensor%s cannot use",
          label, typed[k].name, onnx_dtype_name (onnx_dt),
          has_raw ? " with raw_data" : "");
  }
  if (has_field (msg, TENSOR_STRING_DATA))
    return fail (c, SEG_ERR_FORMAT, "%s: has string_data, which a %s tensor cannot use",
        label, onnx_dtype_name (onnx_dt));
  if (has_raw) {
    if (raw.n != (size_t) count * es)
      return fail (c, SEG_ERR_FORMAT,
          "%s: raw_data has %zu bytes, expected %lld (%lld %s elements)", label,
          raw.n, (long long) count * (long long) es, (long long) count,
          onnx_dtype_name (onnx_dt));
  } else if (want_count != (size_t) count) {
    return fail (c, SEG_ERR_FORMAT, "%s: %s has %zu values, expected %lld",
        label, want_name, want_count, (long long) count);
  }

  t->nbytes = (size_t) count * es;
  t->data = malloc (t->nbytes ? t->nbytes : 1);
  if (!t->data)
    return nomem (c);
  if (has_raw) {
    copy_le (t->data, raw.p, (size_t) count, es);
    return SEG_OK;
  }
  seg_pb_repeated_init (&it, msg.p, msg.n, want_field, want_kind);
  for (int64_t i = 0; i < count; i++) {
    seg_pb_repeated_next (&it, &u, &why);
    if (want_field == TENSOR_INT32_DATA && !int32_data_fits (t->dtype, (int64_t) u)) {
      free (t->data);
      t->data = NULL;
      return fail (c, SEG_ERR_FORMAT, "%s: int32_data[%lld] = %lld out of range for %s",
          label, (long long) i, (long long) (int64_t) u, onnx_dtype_name (onnx_dt));
    }
    store_elem (t->data, (size_t) i, t->dtype, u);
  }
  return SEG_OK;
}

/* ---- ValueInfoProto ---------------------------------------------------- */

typedef struct {
  span name;
  int64_t elem_type; /* 0 when not given */
  int rank;          /* -1 when no shape is given */
  int64_t dims[SEG_MAX_RANK]; /* -1 for symbolic or missing dims */
} value_info;

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
        return bad_wire (c, w, "dim_value", &f, SEG_PB_VARINT);
      int64_t v = (int64_t) f.u64;
      if (v < 0 || v > SEG_MAX_DIM)
        return fail (c, SEG_ERR_FORMAT, "%s.dim_value = %lld out of range (0..%d)",
            w, (long long) v, SEG_MAX_DIM);
      *d = v;
    } else if (f.number == DIM_PARAM) {
      if (f.wire != SEG_PB_LEN)
        return bad_wire (c, w, "dim_param", &f, SEG_PB_LEN);
      *d = -1;
    }
  }
  return res == SEG_PB_BAD ? bad_pb (c, w, why) : SEG_OK;
}

static seg_status
read_value_info (ctx *c, span msg, const char *where, value_info *vi)
{
  seg_pb_reader r, tr, ttr, sr;
  seg_pb_field f;
  seg_pb_result res;
  const char *why = NULL;
  span type = { NULL, 0 }, tensor_type = { NULL, 0 }, shape = { NULL, 0 };
  bool has_type = false, has_tt = false, has_shape = false;
  char w[256];
  seg_status st;

  memset (vi, 0, sizeof *vi);
  vi->rank = -1;
  seg_pb_init (&r, msg.p, msg.n);
  while ((res = seg_pb_next (&r, &f, &why)) == SEG_PB_FIELD) {
    if (f.number == VALUE_INFO_NAME) {
      if (f.wire != SEG_PB_LEN)
        return bad_wire (c, where, "name", &f, SEG_PB_LEN);
      vi->name = (span) { f.data, f.size };
      if ((st = check_name (c, vi->name, where, "name")) != SEG_OK)
        return st;
    } else if (f.number == VALUE_INFO_TYPE) {
      if (f.wire != SEG_PB_LEN)
        return bad_wire (c, where, "type", &f, SEG_PB_LEN);
      type = (span) { f.data, f.size };
      has_type = true;
    }
  }
  if (res == SEG_PB_BAD)
    return bad_pb (c, where, why);
  if (!vi->name.n)
    return fail (c, SEG_ERR_FORMAT, "%s.name is missing", where);
  if (!has_type)
    return SEG_OK;

  snprintf (w, sizeof w, "%s.type", where);
  seg_pb_init (&tr, type.p, type.n);
  bool other = false;
  while ((res = seg_pb_next (&tr, &f, &why)) == SEG_PB_FIELD) {
    if (f.number == TYPE_TENSOR) {
      if (f.wire != SEG_PB_LEN)
        return bad_wire (c, w, "tensor_type", &f, SEG_PB_LEN);
      tensor_type = (span) { f.data, f.size };
      has_tt = true;
    } else if (f.number == 4 || f.number == 5 || f.number == 8 || f.number == 9) {
      other = true; /* sequence, map, sparse tensor, optional */
    }
  }
  if (res == SEG_PB_BAD)
    return bad_pb (c, w, why);
  if (other && !has_tt)
    return fail (c, SEG_ERR_UNSUPPORTED, "%s: only dense tensors are supported", w);
  if (!has_tt)
    return SEG_OK;

  snprintf (w, sizeof w, "%s.type.tensor_type", where);
  seg_pb_init (&ttr, tensor_type.p, tensor_type.n);
  while ((res = seg_pb_next (&ttr, &f, &why)) == SEG_PB_FIELD) {
    if (f.number == TYPE_TENSOR_ELEM_TYPE) {
      if (f.wire != SEG_PB_VARINT)
        return bad_wire (c, w, "elem_type", &f, SEG_PB_VARINT);
      vi->elem_type = (int64_t) f.u64;
    } else if (f.number == TYPE_TENSOR_SHAPE) {
      if (f.wire != SEG_PB_LEN)
        return bad_wire (c, w, "shape", &f, SEG_PB_LEN);
      shape = (span) { f.data, f.size };
      has_shape = true;
    }
  }
  if (res == SEG_PB_BAD)
    return bad_pb (c, w, why);
  if (!has_shape)
    return SEG_OK;

  snprintf (w, sizeof w, "%s.type.shape", where);
  int rank = 0;
  seg_pb_init (&sr, shape.p, shape.n);
  while ((res = seg_pb_next (&sr, &f, &why)) == SEG_PB_FIELD) {
    if (f.number != SHAPE_DIM)
      continue;
    if (f.wire != SEG_PB_LEN)
      return bad_wire (c, w, "dim", &f, SEG_PB_LEN);
    if (rank == SEG_MAX_RANK)
      return fail (c, SEG_ERR_UNSUPPORTED, "%s.dim: more than %d dims", w, SEG_MAX_RANK);
    if ((st = read_dim (c, (span) { f.data, f.size }, where, rank,
             &vi->dims[rank])) != SEG_OK)
      return st;
    rank++;
  }
  if (res == SEG_PB_BAD)
    return bad_pb (c, w, why);
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
          return bad_wire (c, w, "name", &f, SEG_PB_LEN);
        a->name = (span) { f.data, f.size };
        if ((st = check_name (c, a->name, w, "name")) != SEG_OK)
          return st;
        break;
      case ATTR_TYPE:
        if (f.wire != SEG_PB_VARINT)
          return bad_wire (c, w, "type", &f, SEG_PB_VARINT);
        a->type = (int64_t) f.u64;
        break;
      case ATTR_F:
        if (f.wire != SEG_PB_I32)
          return bad_wire (c, w, "f", &f, SEG_PB_I32);
        a->f = seg_pb_float (f.u64);
        a->has_f = true;
        break;
      case ATTR_I:
        if (f.wire != SEG_PB_VARINT)
          return bad_wire (c, w, "i", &f, SEG_PB_VARINT);
        a->i = (int64_t) f.u64;
        a->has_i = true;
        break;
      case ATTR_S:
        if (f.wire != SEG_PB_LEN)
          return bad_wire (c, w, "s", &f, SEG_PB_LEN);
        a->s = (span) { f.data, f.size };
        a->has_s = true;
        break;
      case ATTR_T:
        if (f.wire != SEG_PB_LEN)
          return bad_wire (c, w, "t", &f, SEG_PB_LEN);
        a->t = (span) { f.data, f.size };
        a->has_t = true;
        break;
      case ATTR_REF_ATTR_NAME:
        return fail (c, SEG_ERR_UNSUPPORTED,
            "%s: ref_attr_name (function attributes) is not supported", w);
      default:
        break;
    }
  }
  if (res == SEG_PB_BAD)
    return bad_pb (c, w, why);
  if (!a->name.n)
    return fail (c, SEG_ERR_FORMAT, "%s.name is missing", w);
  return SEG_OK;
}

static seg_status
read_node (ctx *c, span msg, int index, onnx_node *n)
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
    span s = { f.data, f.size };
    switch (f.number) {
      case NODE_INPUT:
      case NODE_OUTPUT: {
        bool is_in = f.number == NODE_INPUT;
        const char *field = is_in ? "input" : "output";
        if (f.wire != SEG_PB_LEN)
          return bad_wire (c, w, field, &f, SEG_PB_LEN);
        if ((st = check_name (c, s, w, field)) != SEG_OK)
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
            : f.number == NODE_OP_TYPE ? "op_type" : "domain";
        if (f.wire != SEG_PB_LEN)
          return bad_wire (c, w, field, &f, SEG_PB_LEN);
        if ((st = check_name (c, s, w, field)) != SEG_OK)
          return st;
        *(f.number == NODE_NAME ? &n->name_s
            : f.number == NODE_OP_TYPE ? &n->op_s : &n->domain) = s;
        break;
      }
      case NODE_ATTRIBUTE:
        if (f.wire != SEG_PB_LEN)
          return bad_wire (c, w, "attribute", &f, SEG_PB_LEN);
        nattr++;
        break;
      default:
        break;
    }
  }
  if (res == SEG_PB_BAD)
    return bad_pb (c, w, why);
  if (!n->op_s.n)
    return fail (c, SEG_ERR_FORMAT, "%s.op_type is missing", w);
  span_str (n->op_s, n->op, sizeof n->op);
  if (n->name_s.n)
    span_str (n->name_s, n->name, sizeof n->name);
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
      if ((st = read_attr (c, n, i++, (span) { f.data, f.size }, &a)) != SEG_OK)
        return st;
    }
  }
  return SEG_OK;
}

static seg_status
find_attr (ctx *c, const onnx_node *n, const char *name, onnx_attr *a,
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
    if ((st = read_attr (c, n, i++, (span) { f.data, f.size }, &x)) != SEG_OK)
      return st;
    if (!span_eq (x.name, name))
      continue;
    if (*found)
      return node_fail (c, n, SEG_ERR_FORMAT, "attribute '%s' is given twice", name);
    *a = x;
    *found = true;
  }
  return SEG_OK;
}

static const char *
attr_type_name (int64_t t)
{
  switch (t) {
    case AT_FLOAT: return "FLOAT";
    case AT_INT: return "INT";
    case AT_STRING: return "STRING";
    case AT_TENSOR: return "TENSOR";
    case AT_FLOATS: return "FLOATS";
    case AT_INTS: return "INTS";
    default: return "another type";
  }
}

/* Files that predate AttributeProto.type are judged by the field present. */
static seg_status
attr_want (ctx *c, const onnx_node *n, const onnx_attr *a, int64_t type)
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
  return node_fail (c, n, SEG_ERR_FORMAT, "attribute '%s' is %s, expected %s",
      span_str (a->name, nb, sizeof nb), a->type ? attr_type_name (a->type) : "untyped",
      attr_type_name (type));
}

static seg_status
get_int (ctx *c, const onnx_node *n, const char *name, int64_t def,
    int64_t *v, bool *found)
{
  onnx_attr a;
  bool have;
  seg_status st = find_attr (c, n, name, &a, &have);
  if (found)
    *found = have;
  *v = def;
  if (st != SEG_OK || !have)
    return st;
  if ((st = attr_want (c, n, &a, AT_INT)) != SEG_OK)
    return st;
  *v = a.i;
  return SEG_OK;
}

static seg_status
get_float (ctx *c, const onnx_node *n, const char *name, float def, float *v)
{
  onnx_attr a;
  bool have;
  seg_status st = find_attr (c, n, name, &a, &have);
  *v = def;
  if (st != SEG_OK || !have)
    return st;
  if ((st = attr_want (c, n, &a, AT_FLOAT)) != SEG_OK)
    return st;
  *v = a.f;
  return SEG_OK;
}

/* Strings are compared and may be quoted in messages: checked like names. */
static seg_status
get_string (ctx *c, const onnx_node *n, const char *name, span *s,
    bool *found)
{
  onnx_attr a;
  char w[MAX_NAME + 128];
  seg_status st = find_attr (c, n, name, &a, found);
  if (st != SEG_OK || !*found)
    return st;
  if ((st = attr_want (c, n, &a, AT_STRING)) != SEG_OK)
    return st;
  snprintf (w, sizeof w, "node '%s' attribute '%s'", n->name, name);
  if ((st = check_name (c, a.s, w, "s")) != SEG_OK)
    return st;
  *s = a.s;
  return SEG_OK;
}

/* Reads an INTS attribute of at most `max` values; *count = -1 if absent. */
static seg_status
get_ints (ctx *c, const onnx_node *n, const char *name, int64_t *v, int max,
    int *count)
{
  onnx_attr a;
  bool have;
  const char *why = NULL;
  size_t cnt;
  seg_status st = find_attr (c, n, name, &a, &have);

  *count = -1;
  if (st != SEG_OK || !have)
    return st;
  if ((st = attr_want (c, n, &a, AT_INTS)) != SEG_OK)
    return st;
  if (seg_pb_repeated_count (a.msg.p, a.msg.n, ATTR_INTS, SEG_PB_KIND_VARINT,
          &cnt, &why) == SEG_PB_BAD)
    return node_fail (c, n, SEG_ERR_FORMAT, "attribute '%s' ints: %s", name, why);
  if (cnt > (size_t) max)
    return node_fail (c, n, SEG_ERR_FORMAT,
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
static seg_status
get_int_list (ctx *c, const onnx_node *n, const char *name, int want,
    int64_t lo, int64_t hi, int *out)
{
  int64_t v[SEG_MAX_INTS];
  int cnt;
  seg_status st = get_ints (c, n, name, v, SEG_MAX_INTS, &cnt);
  if (st != SEG_OK || cnt < 0)
    return st;
  if (cnt != want)
    return node_fail (c, n, cnt > want ? SEG_ERR_UNSUPPORTED : SEG_ERR_FORMAT,
        "attribute '%s' has %d values, expected %d (2-D only)", name, cnt, want);
  for (int i = 0; i < cnt; i++) {
    if (v[i] < lo || v[i] > hi)
      return node_fail (c, n, SEG_ERR_FORMAT,
          "attribute '%s'[%d] = %lld out of range (%lld..%lld)", name, i,
          (long long) v[i], (long long) lo, (long long) hi);
    out[i] = (int) v[i];
  }
  return SEG_OK;
}

/* ---- emitting IR ------------------------------------------------------- */

static value *
val (ctx *c, int v)
{
  return &c->vals[v];
}

static value_kind
join_kind (ctx *c, const onnx_node *n, int from, int to)
{
  value_kind k = KIND_CONST;
  for (int i = from; i < to && i < n->nin; i++) {
    if (n->vin[i] >= 0 && val (c, n->vin[i])->kind > k)
      k = val (c, n->vin[i])->kind;
  }
  return k;
}

/* Adds the node's output tensor and value, then the IR node reading the
 * given inputs (value indices, -1 absent). */
static seg_status
emit (ctx *c, const onnx_node *n, seg_op op, int nin, const int *vin,
    seg_dtype dt, value_kind kind, int rank, int64_t len, seg_node **node)
{
  int64_t dims[SEG_MAX_RANK];
  int tin[SEG_MAX_IO], t, out;
  char nb[MAX_NAME + 1];
  seg_status st;

  if (rank < 0 || rank > SEG_MAX_RANK)
    return node_fail (c, n, SEG_ERR_UNSUPPORTED, "output would have rank %d, at most %d supported",
        rank, SEG_MAX_RANK);
  for (int i = 0; i < SEG_MAX_RANK; i++)
    dims[i] = -1;
  if ((st = add_tensor (c, span_str (n->out[0], nb, sizeof nb), dt, rank, dims,
           NULL, 0, &t)) != SEG_OK)
    return st;
  for (int i = 0; i < nin; i++)
    tin[i] = vin[i] >= 0 ? val (c, vin[i])->tensor : -1;
  *node = seg_graph_add_node (c->g, op, n->name, nin, tin, 1, &t);
  if (!*node)
    return nomem (c);
  if ((out = define (c, n->out[0], t, kind, rank)) < 0)
    return nomem (c);
  val (c, out)->len = rank == 0 ? 1 : rank == 1 ? len : -1;
  return SEG_OK;
}

/* Same with the ONNX inputs first..first+nin. */
static seg_status
emit_range (ctx *c, const onnx_node *n, seg_op op, int first, int nin,
    seg_dtype dt, value_kind kind, int rank, int64_t len, seg_node **node)
{
  int vin[SEG_MAX_IO];
  for (int i = 0; i < nin; i++)
    vin[i] = first + i < n->nin ? n->vin[first + i] : -1;
  return emit (c, n, op, nin, vin, dt, kind, rank, len, node);
}

static seg_dtype
val_dtype (ctx *c, int v)
{
  return c->g->tensors[val (c, v)->tensor].dtype;
}

/* Dims of a value with stored bytes; NULL when they are not known. */
static const seg_tensor *
val_data (ctx *c, int v)
{
  return v >= 0 && val (c, v)->data >= 0 ? &c->g->tensors[val (c, v)->data] : NULL;
}

static seg_status
need_inputs (ctx *c, const onnx_node *n, int min, int max)
{
  if (n->nin < min || n->nin > max) {
    if (n->nin > SEG_MAX_IO)
      return node_fail (c, n, SEG_ERR_UNSUPPORTED, "has more than %d inputs", SEG_MAX_IO);
    return node_fail (c, n, SEG_ERR_FORMAT, "has %d inputs, expected %d to %d",
        n->nin, min, max);
  }
  for (int i = 0; i < min; i++)
    if (n->vin[i] < 0)
      return node_fail (c, n, SEG_ERR_FORMAT, "input %d is required but empty", i);
  return SEG_OK;
}

static seg_status
need_act (ctx *c, const onnx_node *n, int i)
{
  if (val (c, n->vin[i])->kind == KIND_ACT)
    return SEG_OK;
  char nb[MAX_NAME + 1];
  return node_fail (c, n, SEG_ERR_UNSUPPORTED,
      "input '%s' is not an activation; segd runs %s only on data that flows "
      "from the graph input", span_str (n->in[i], nb, sizeof nb), n->op);
}

static seg_status
need_const (ctx *c, const onnx_node *n, int i, const char *what)
{
  if (n->vin[i] < 0 || val (c, n->vin[i])->kind == KIND_CONST)
    return SEG_OK;
  char nb[MAX_NAME + 1];
  return node_fail (c, n, SEG_ERR_UNSUPPORTED, "%s '%s' must be a constant",
      what, span_str (n->in[i], nb, sizeof nb));
}

/* Shape arithmetic runs once per plan, never per frame: activations may not
 * flow into it. */
static seg_status
need_no_act (ctx *c, const onnx_node *n)
{
  for (int i = 0; i < n->nin && i < SEG_MAX_IO; i++) {
    if (n->vin[i] >= 0 && val (c, n->vin[i])->kind == KIND_ACT) {
      char nb[MAX_NAME + 1];
      return node_fail (c, n, SEG_ERR_UNSUPPORTED,
          "input '%s' is an activation; segd evaluates %s only on shapes and "
          "constants", span_str (n->in[i], nb, sizeof nb), n->op);
    }
  }
  return SEG_OK;
}

/* ---- ops --------------------------------------------------------------- */

/* op: the seg_op of the table entry, for handlers that serve several. */
typedef seg_status (*map_fn) (ctx *c, const onnx_node *n, seg_op op);

static seg_status
conv_common (ctx *c, const onnx_node *n, seg_op op, seg_node **node)
{
  seg_status st;
  seg_attrs a;
  memset (&a, 0, sizeof a);

  if ((st = need_inputs (c, n, 2, 3)) != SEG_OK || (st = need_act (c, n, 0)) != SEG_OK
      || (st = need_const (c, n, 1, "weight")) != SEG_OK
      || (st = need_const (c, n, 2, "bias")) != SEG_OK)
    return st;
  const value *w = val (c, n->vin[1]);
  if (w->rank != 4)
    return node_fail (c, n, SEG_ERR_UNSUPPORTED,
        "weight has rank %d; segd runs only 2-D convolutions", w->rank);
  if (n->nin > 2 && n->vin[2] >= 0 && val (c, n->vin[2])->rank != 1)
    return node_fail (c, n, SEG_ERR_FORMAT, "bias has rank %d, expected 1",
        val (c, n->vin[2])->rank);
  const seg_tensor *wt = val_data (c, n->vin[1]);

  a.stride[0] = a.stride[1] = a.dilation[0] = a.dilation[1] = 1;
  a.kernel[0] = a.kernel[1] = -1;
  if ((st = get_int_list (c, n, "kernel_shape", 2, 1, SEG_MAX_DIM, a.kernel)) != SEG_OK
      || (st = get_int_list (c, n, "strides", 2, 1, SEG_MAX_DIM, a.stride)) != SEG_OK
      || (st = get_int_list (c, n, "dilations", 2, 1, SEG_MAX_DIM, a.dilation)) != SEG_OK
      || (st = get_int_list (c, n, "pads", 4, 0, SEG_MAX_DIM, a.pads)) != SEG_OK)
    return st;
  if (wt) {
    for (int i = 0; i < 2; i++) {
      if (a.kernel[i] >= 0 && a.kernel[i] != wt->dims[2 + i])
        return node_fail (c, n, SEG_ERR_FORMAT,
            "attribute 'kernel_shape' = [%d, %d] does not match the weight's %lldx%lld",
            a.kernel[0], a.kernel[1], (long long) wt->dims[2], (long long) wt->dims[3]);
      a.kernel[i] = (int) wt->dims[2 + i];
    }
  } else if (a.kernel[0] < 0) {
    return node_fail (c, n, SEG_ERR_UNSUPPORTED,
        "weight is computed and attribute 'kernel_shape' is missing");
  }

  span ap;
  bool has;
  a.pad_mode = SEG_PAD_EXPLICIT;
  if ((st = get_string (c, n, "auto_pad", &ap, &has)) != SEG_OK)
    return st;
  if (has && !span_eq (ap, "NOTSET")) {
    char nb[MAX_NAME + 1];
    if (span_eq (ap, "SAME_UPPER"))
      a.pad_mode = SEG_PAD_SAME_UPPER;
    else if (span_eq (ap, "SAME_LOWER"))
      a.pad_mode = SEG_PAD_SAME_LOWER;
    else if (span_eq (ap, "VALID"))
      a.pad_mode = SEG_PAD_VALID;
    else
      return node_fail (c, n, SEG_ERR_FORMAT, "attribute 'auto_pad' = '%s' is not a padding mode",
          span_str (ap, nb, sizeof nb));
  }

  int64_t group;
  if ((st = get_int (c, n, "group", 1, &group, NULL)) != SEG_OK)
    return st;
  /* The grouped dim is O for Conv (OIHW) and I for ConvTranspose (IOHW):
   * dim 0 either way. */
  if (group < 1 || group > SEG_MAX_DIM || (wt && wt->dims[0] % group))
    return node_fail (c, n, SEG_ERR_FORMAT, "attribute 'group' = %lld out of range",
        (long long) group);
  a.groups = (int) group;

  if (op == SEG_OP_CONV_TRANSPOSE) {
    int64_t tmp[SEG_MAX_INTS];
    int cnt;
    if ((st = get_ints (c, n, "output_shape", tmp, SEG_MAX_INTS, &cnt)) != SEG_OK)
      return st;
    if (cnt >= 0)
      return node_fail (c, n, SEG_ERR_UNSUPPORTED,
          "attribute 'output_shape' is not supported; give pads and output_padding");
    if ((st = get_int_list (c, n, "output_padding", 2, 0, SEG_MAX_DIM,
             a.output_padding)) != SEG_OK)
      return st;
    a.wlayout = SEG_WL_IOHW;
  } else {
    a.wlayout = SEG_WL_OIHW;
  }

  if ((st = emit_range (c, n, op, 0, n->nin > 2 ? 3 : 2, SEG_DT_F32, KIND_ACT, 4,
           -1, node)) != SEG_OK)
    return st;
  a.act = SEG_ACT_NONE;
  a.to = SEG_DT_F32;
  (*node)->a = a;
  return SEG_OK;
}

static seg_status
map_conv (ctx *c, const onnx_node *n, seg_op op)
{
  seg_node *node;
  return conv_common (c, n, op, &node);
}


/* Writes a rank-3/4 NCHW constant as rank-4 NHWC, once per constant. */
static seg_status
nhwc_copy (ctx *c, const onnx_node *n, int v, int *copy)
{
  value *x = val (c, v);
  if (x->nhwc >= 0) {
    *copy = x->nhwc;
    return SEG_OK;
  }
  const seg_tensor *src = val_data (c, v);
  if (!src) {
    char nb[MAX_NAME + 1];
    return node_fail (c, n, SEG_ERR_UNSUPPORTED,
        "constant '%s' is computed, so it cannot be rewritten to NHWC for broadcasting",
        span_str (x->name, nb, sizeof nb));
  }
  int64_t d[4] = { 1, 1, 1, 1 };
  for (int i = 0; i < src->rank; i++)
    d[4 - src->rank + i] = src->dims[i];
  int64_t N = d[0], C = d[1], H = d[2], W = d[3];
  size_t es = seg_dtype_size (src->dtype);
  uint8_t *dst = malloc (src->nbytes ? src->nbytes : 1);
  if (!dst)
    return nomem (c);
  const uint8_t *s = src->data;
  for (int64_t in = 0; in < N; in++)
    for (int64_t ic = 0; ic < C; ic++)
      for (int64_t ih = 0; ih < H; ih++)
        for (int64_t iw = 0; iw < W; iw++)
          memcpy (dst + ((size_t) (((in * H + ih) * W + iw) * C + ic)) * es,
              s + ((size_t) (((in * C + ic) * H + ih) * W + iw)) * es, es);
  int64_t dims[4] = { N, H, W, C };
  char name[MAX_NAME + 16];
  snprintf (name, sizeof name, "%s:nhwc", src->name);
  int t = -1;
  seg_status st = add_tensor (c, name, src->dtype, 4, dims, dst, src->nbytes, &t);
  if (st != SEG_OK)
    return st;
  int nv = new_value (c, (span) { NULL, 0 }, t, KIND_CONST, 4);
  if (nv < 0)
    return nomem (c);
  c->vals[nv].data = t;
  /* new_value() may have moved the array under x. */
  val (c, v)->nhwc = nv;
  *copy = nv;
  return SEG_OK;
}

static int64_t
val_elements (ctx *c, int v)
{
  const seg_tensor *t = val_data (c, v);
  if (t)
    return seg_shape_elements (t->rank, t->dims);
  if (val (c, v)->rank <= 1)
    return val (c, v)->len;
  return -1;
}

static seg_status
map_binary (ctx *c, const onnx_node *n, seg_op op)
{
  seg_status st;
  seg_node *node;
  if ((st = need_inputs (c, n, 2, 2)) != SEG_OK)
    return st;
  int vin[2] = { n->vin[0], n->vin[1] };
  value_kind k = join_kind (c, n, 0, 2);

  if (k != KIND_ACT) {
    int ra = val (c, vin[0])->rank, rb = val (c, vin[1])->rank;
    int64_t la = val (c, vin[0])->len, lb = val (c, vin[1])->len, len = -1;
    if (ra <= 1 && rb <= 1 && la >= 0 && lb >= 0)
      len = la == 1 ? lb : lb == 1 ? la : la == lb ? la : -1;
    return emit (c, n, op, 2, vin, val_dtype (c, vin[0]), k,
        ra > rb ? ra : rb, len, &node);
  }

  /* One side is a rank-4 NHWC activation; make the other side agree. */
  for (int side = 0; side < 2; side++) {
    const value *o = val (c, vin[side]);
    if (o->kind == KIND_ACT)
      continue;
    char nb[MAX_NAME + 1];
    span_str (n->in[side], nb, sizeof nb);
    int64_t elems = val_elements (c, vin[side]);
    if (o->rank == 0 || elems == 1)
      continue;
    if (o->kind == KIND_STATIC)
      return node_fail (c, n, SEG_ERR_UNSUPPORTED,
          "combines an activation with the computed rank-%d value '%s'", o->rank, nb);
    if (o->rank >= 3 && o->rank <= 4) {
      int copy = -1;
      if ((st = nhwc_copy (c, n, vin[side], &copy)) != SEG_OK)
        return st;
      vin[side] = copy;
      continue;
    }
    /* A [W] or [H, W] constant broadcasts over NCHW's last axes, which
     * are not NHWC's: computing it would silently give wrong results. */
    return node_fail (c, n, SEG_ERR_UNSUPPORTED,
        "broadcasting the rank-%d constant '%s' over an NCHW activation is not "
        "supported (use shape [C,1,1] or [1,C,1,1])", o->rank, nb);
  }
  return emit (c, n, op, 2, vin, SEG_DT_F32, KIND_ACT, 4, -1, &node);
}






/* One-input ops that keep shape and kind. */
static seg_status
map_unary (ctx *c, const onnx_node *n, seg_op op, seg_node **node)
{
  seg_status st;
  if ((st = need_inputs (c, n, 1, 1)) != SEG_OK)
    return st;
  const value *x = val (c, n->vin[0]);
  return emit_range (c, n, op, 0, 1, val_dtype (c, n->vin[0]), x->kind, x->rank,
      x->len, node);
}

/* Relu, Sigmoid, HardSwish: no attributes. */
static seg_status
map_activation (ctx *c, const onnx_node *n, seg_op op)
{
  seg_node *node;
  return map_unary (c, n, op, &node);
}



static seg_status
map_hardsigmoid (ctx *c, const onnx_node *n, seg_op op)
{
  seg_node *node;
  float alpha, beta;
  seg_status st;
  if ((st = get_float (c, n, "alpha", 0.2f, &alpha)) != SEG_OK
      || (st = get_float (c, n, "beta", 0.5f, &beta)) != SEG_OK
      || (st = map_unary (c, n, SEG_OP_HARDSIGMOID, &node)) != SEG_OK)
    return st;
  node->a.alpha = alpha;
  node->a.beta = beta;
  return SEG_OK;
}

static seg_status
map_identity (ctx *c, const onnx_node *n, seg_op op)
{
  seg_node *node;
  seg_status st = map_unary (c, n, SEG_OP_IDENTITY, &node);
  if (st != SEG_OK)
    return st;
  /* Passes the stored bytes on, so that weights behind an Identity still
   * count as stored (torch shares weights this way). */
  int out = c->nvals - 1;
  const seg_tensor *src = val_data (c, n->vin[0]);
  if (src) {
    seg_tensor *t = &c->g->tensors[val (c, out)->tensor];
    memcpy (t->dims, src->dims, sizeof t->dims);
    val (c, out)->data = val (c, n->vin[0])->data;
  }
  return SEG_OK;
}

/* Reads a one-element stored constant as float. */
static seg_status
scalar_of (ctx *c, const onnx_node *n, int i, float *out)
{
  char nb[MAX_NAME + 1];
  const seg_tensor *t = val_data (c, n->vin[i]);
  span_str (n->in[i], nb, sizeof nb);
  if (!t)
    return node_fail (c, n, SEG_ERR_UNSUPPORTED, "input '%s' must be a stored constant", nb);
  if (seg_shape_elements (t->rank, t->dims) != 1)
    return node_fail (c, n, SEG_ERR_FORMAT, "input '%s' must have one element", nb);
  switch (t->dtype) {
    case SEG_DT_F32: memcpy (out, t->data, sizeof *out); return SEG_OK;
    case SEG_DT_F64: {
      double d;
      memcpy (&d, t->data, sizeof d);
      *out = (float) d;
      return SEG_OK;
    }
    case SEG_DT_F16: {
      uint16_t h;
      memcpy (&h, t->data, sizeof h);
      *out = seg_f16_to_f32 (h);
      return SEG_OK;
    }
    default:
      return node_fail (c, n, SEG_ERR_UNSUPPORTED, "input '%s' has type %s, expected a float",
          nb, seg_dtype_name (t->dtype));
  }
}

static seg_status
map_clip (ctx *c, const onnx_node *n, seg_op op)
{
  seg_status st;
  seg_node *node;
  float lo = -INFINITY, hi = INFINITY;
  if ((st = need_inputs (c, n, 1, 3)) != SEG_OK)
    return st;
  if (n->nin > 1 && n->vin[1] >= 0 && (st = scalar_of (c, n, 1, &lo)) != SEG_OK)
    return st;
  if (n->nin > 2 && n->vin[2] >= 0 && (st = scalar_of (c, n, 2, &hi)) != SEG_OK)
    return st;
  const value *x = val (c, n->vin[0]);
  if ((st = emit_range (c, n, SEG_OP_CLIP, 0, 1, val_dtype (c, n->vin[0]), x->kind,
           x->rank, x->len, &node)) != SEG_OK)
    return st;
  node->a.alpha = lo;
  node->a.beta = hi;
  return SEG_OK;
}

static seg_status
map_global_avg_pool (ctx *c, const onnx_node *n, seg_op op)
{
  seg_status st;
  seg_node *node;
  if ((st = need_inputs (c, n, 1, 1)) != SEG_OK || (st = need_act (c, n, 0)) != SEG_OK)
    return st;
  return emit_range (c, n, SEG_OP_GLOBAL_AVG_POOL, 0, 1, SEG_DT_F32, KIND_ACT, 4, -1,
      &node);
}

static seg_status
map_reduce_mean (ctx *c, const onnx_node *n, seg_op op)
{
  seg_status st;
  int64_t axes[SEG_MAX_INTS], keep;
  int cnt;
  if ((st = need_inputs (c, n, 1, 1)) != SEG_OK || (st = need_act (c, n, 0)) != SEG_OK
      || (st = get_ints (c, n, "axes", axes, SEG_MAX_INTS, &cnt)) != SEG_OK
      || (st = get_int (c, n, "keepdims", 1, &keep, NULL)) != SEG_OK)
    return st;
  /* The mean over H and W with kept dims is a global average pool. */
  bool h = false, w = false;
  for (int i = 0; i < cnt; i++) {
    h = h || axes[i] == 2 || axes[i] == -2;
    w = w || axes[i] == 3 || axes[i] == -1;
  }
  if (cnt != 2 || !h || !w || keep != 1)
    return node_fail (c, n, SEG_ERR_UNSUPPORTED,
        "only the mean over axes (2, 3) with keepdims=1 is supported");
  return map_global_avg_pool (c, n, op);
}

static seg_status
map_resize (ctx *c, const onnx_node *n, seg_op op)
{
  seg_status st;
  seg_node *node;
  span s;
  bool has;
  char nb[MAX_NAME + 1];
  seg_coord_mode coord = SEG_COORD_HALF_PIXEL;

  if ((st = need_inputs (c, n, 1, 4)) != SEG_OK || (st = need_act (c, n, 0)) != SEG_OK)
    return st;
  for (int i = 1; i < n->nin; i++) {
    if (n->vin[i] >= 0 && val (c, n->vin[i])->kind == KIND_ACT)
      return node_fail (c, n, SEG_ERR_UNSUPPORTED,
          "input %d ('%s') is computed from activation values", i,
          span_str (n->in[i], nb, sizeof nb));
  }
  if ((st = get_string (c, n, "mode", &s, &has)) != SEG_OK)
    return st;
  if (!has || !span_eq (s, "linear"))
    return node_fail (c, n, SEG_ERR_UNSUPPORTED,
        "attribute 'mode' = '%s'; segd resizes only with 'linear'",
        has ? span_str (s, nb, sizeof nb) : "nearest");
  if ((st = get_string (c, n, "coordinate_transformation_mode", &s, &has)) != SEG_OK)
    return st;
  if (has) {
    if (span_eq (s, "half_pixel"))
      coord = SEG_COORD_HALF_PIXEL;
    else if (span_eq (s, "pytorch_half_pixel"))
      coord = SEG_COORD_PYTORCH_HALF_PIXEL;
    else if (span_eq (s, "align_corners"))
      coord = SEG_COORD_ALIGN_CORNERS;
    else if (span_eq (s, "asymmetric"))
      coord = SEG_COORD_ASYMMETRIC;
    else
      return node_fail (c, n, SEG_ERR_UNSUPPORTED,
          "attribute 'coordinate_transformation_mode' = '%s' is not supported",
          span_str (s, nb, sizeof nb));
  }
  if ((st = emit_range (c, n, SEG_OP_RESIZE, 0, n->nin, SEG_DT_F32, KIND_ACT, 4, -1,
           &node)) != SEG_OK)
    return st;
  node->a.coord = coord;
  node->a.nchw = true;
  return SEG_OK;
}

static seg_status
map_batchnorm (ctx *c, const onnx_node *n, seg_op op)
{
  seg_status st;
  seg_node *node;
  float eps;
  int64_t training;
  static const char *const what[] = { "", "scale", "bias", "mean", "variance" };

  if ((st = need_inputs (c, n, 5, 5)) != SEG_OK || (st = need_act (c, n, 0)) != SEG_OK)
    return st;
  for (int i = 1; i < 5; i++)
    if ((st = need_const (c, n, i, what[i])) != SEG_OK)
      return st;
  if ((st = get_float (c, n, "epsilon", 1e-5f, &eps)) != SEG_OK
      || (st = get_int (c, n, "training_mode", 0, &training, NULL)) != SEG_OK)
    return st;
  if (training)
    return node_fail (c, n, SEG_ERR_UNSUPPORTED, "training_mode is not supported");
  if ((st = emit_range (c, n, SEG_OP_BATCHNORM, 0, 5, SEG_DT_F32, KIND_ACT, 4, -1,
           &node)) != SEG_OK)
    return st;
  node->a.alpha = eps;
  return SEG_OK;
}

/* Defines the node's output as stored bytes (taken over). */
static seg_status
define_const (ctx *c, const onnx_node *n, seg_dtype dt, int rank,
    const int64_t *dims, void *data, size_t nbytes)
{
  char nb[MAX_NAME + 1];
  int t = -1, v;
  seg_status st = add_tensor (c, span_str (n->out[0], nb, sizeof nb), dt, rank, dims,
      data, nbytes, &t);
  if (st != SEG_OK)
    return st;
  if ((v = define (c, n->out[0], t, KIND_CONST, rank)) < 0)
    return nomem (c);
  value_set_data (c, v, t);
  return SEG_OK;
}

static seg_status
map_constant (ctx *c, const onnx_node *n, seg_op op)
{
  seg_status st;
  onnx_attr a;
  bool has;
  const char *which = NULL;
  static const char *const names[] = {
    "value", "value_float", "value_floats", "value_int", "value_ints",
    "sparse_value", "value_string", "value_strings",
  };
  int found = 0, idx = -1;

  if ((st = need_inputs (c, n, 0, 0)) != SEG_OK)
    return st;
  for (int i = 0; i < (int) (sizeof names / sizeof names[0]); i++) {
    onnx_attr x;
    if ((st = find_attr (c, n, names[i], &x, &has)) != SEG_OK)
      return st;
    if (has) {
      found++;
      idx = i;
      which = names[i];
      a = x;
    }
  }
  if (found != 1)
    return node_fail (c, n, SEG_ERR_FORMAT, "needs exactly one value attribute, has %d",
        found);
  if (idx >= 5)
    return node_fail (c, n, SEG_ERR_UNSUPPORTED, "attribute '%s' is not supported", which);

  if (idx == 0) {
    tensor_in t;
    char w[MAX_NAME + 64];
    if ((st = attr_want (c, n, &a, AT_TENSOR)) != SEG_OK)
      return st;
    snprintf (w, sizeof w, "node '%s' attribute 'value'", n->name);
    if ((st = read_tensor (c, a.t, w, &t)) != SEG_OK)
      return st;
    return define_const (c, n, t.dtype, t.rank, t.dims, t.data, t.nbytes);
  }
  if (idx == 1 || idx == 3) {
    bool is_f = idx == 1;
    if ((st = attr_want (c, n, &a, is_f ? AT_FLOAT : AT_INT)) != SEG_OK)
      return st;
    void *d = malloc (is_f ? sizeof (float) : sizeof (int64_t));
    if (!d)
      return nomem (c);
    if (is_f)
      memcpy (d, &a.f, sizeof a.f);
    else
      memcpy (d, &a.i, sizeof a.i);
    return define_const (c, n, is_f ? SEG_DT_F32 : SEG_DT_I64, 0, NULL, d,
        is_f ? sizeof (float) : sizeof (int64_t));
  }

  bool is_f = idx == 2;
  const char *why = NULL;
  size_t cnt;
  uint32_t field = is_f ? ATTR_FLOATS : ATTR_INTS;
  seg_pb_kind kind = is_f ? SEG_PB_KIND_FIXED32 : SEG_PB_KIND_VARINT;
  if ((st = attr_want (c, n, &a, is_f ? AT_FLOATS : AT_INTS)) != SEG_OK)
    return st;
  if (seg_pb_repeated_count (a.msg.p, a.msg.n, field, kind, &cnt, &why) == SEG_PB_BAD)
    return node_fail (c, n, SEG_ERR_FORMAT, "attribute '%s': %s", which, why);
  if (cnt > SEG_MAX_DIM)
    return node_fail (c, n, SEG_ERR_FORMAT, "attribute '%s' has %zu values, at most %d",
        which, cnt, SEG_MAX_DIM);
  size_t es = is_f ? sizeof (float) : sizeof (int64_t);
  uint8_t *d = malloc (cnt ? cnt * es : 1);
  if (!d)
    return nomem (c);
  seg_pb_repeated it;
  uint64_t u;
  seg_pb_repeated_init (&it, a.msg.p, a.msg.n, field, kind);
  for (size_t i = 0; i < cnt; i++) {
    seg_pb_repeated_next (&it, &u, &why);
    store_elem (d, i, is_f ? SEG_DT_F32 : SEG_DT_I64, u);
  }
  int64_t dims[1] = { (int64_t) cnt };
  return define_const (c, n, is_f ? SEG_DT_F32 : SEG_DT_I64, 1, dims, d, cnt * es);
}

static seg_status
map_shape (ctx *c, const onnx_node *n, seg_op op)
{
  seg_status st;
  seg_node *node;
  int64_t start, end;
  bool has_end;

  if ((st = need_inputs (c, n, 1, 1)) != SEG_OK
      || (st = get_int (c, n, "start", 0, &start, NULL)) != SEG_OK
      || (st = get_int (c, n, "end", 0, &end, &has_end)) != SEG_OK)
    return st;
  const value *x = val (c, n->vin[0]);
  int r = x->rank;
  bool nchw = x->kind == KIND_ACT;
  /* Output length, clamped as the spec does. */
  int64_t s = start < 0 ? start + r : start, e = has_end ? (end < 0 ? end + r : end) : r;
  s = s < 0 ? 0 : s > r ? r : s;
  e = e < 0 ? 0 : e > r ? r : e;
  value_kind k = x->kind == KIND_CONST ? KIND_CONST : KIND_STATIC;
  if ((st = emit_range (c, n, SEG_OP_SHAPE, 0, 1, SEG_DT_I64, k, 1,
           e > s ? e - s : 0, &node)) != SEG_OK)
    return st;
  node->a.start = start;
  node->a.end = end;
  node->a.has_end = has_end;
  node->a.nchw = nchw;
  return SEG_OK;
}

static seg_status
map_gather (ctx *c, const onnx_node *n, seg_op op)
{
  seg_status st;
  seg_node *node;
  int64_t axis;
  if ((st = need_inputs (c, n, 2, 2)) != SEG_OK || (st = need_no_act (c, n)) != SEG_OK
      || (st = get_int (c, n, "axis", 0, &axis, NULL)) != SEG_OK)
    return st;
  const value *d = val (c, n->vin[0]), *idx = val (c, n->vin[1]);
  if (d->rank < 1 || axis < -d->rank || axis >= d->rank)
    return node_fail (c, n, SEG_ERR_FORMAT, "attribute 'axis' = %lld out of range for rank %d",
        (long long) axis, d->rank);
  int rank = d->rank - 1 + idx->rank;
  int64_t len = d->rank == 1 && idx->rank == 1 ? idx->len : -1;
  if ((st = emit_range (c, n, SEG_OP_GATHER, 0, 2, val_dtype (c, n->vin[0]),
           join_kind (c, n, 0, 2), rank, len, &node)) != SEG_OK)
    return st;
  node->a.axis = axis;
  return SEG_OK;
}

static seg_status
map_slice (ctx *c, const onnx_node *n, seg_op op)
{
  seg_status st;
  seg_node *node;
  if ((st = need_inputs (c, n, 3, 5)) != SEG_OK || (st = need_no_act (c, n)) != SEG_OK)
    return st;
  return emit_range (c, n, SEG_OP_SLICE, 0, n->nin, val_dtype (c, n->vin[0]),
      join_kind (c, n, 0, n->nin), val (c, n->vin[0])->rank, -1, &node);
}

static seg_status
map_concat (ctx *c, const onnx_node *n, seg_op op)
{
  seg_status st;
  seg_node *node;
  int64_t axis;
  bool has;
  if ((st = need_inputs (c, n, 1, SEG_MAX_IO)) != SEG_OK
      || (st = need_no_act (c, n)) != SEG_OK
      || (st = get_int (c, n, "axis", 0, &axis, &has)) != SEG_OK)
    return st;
  if (!has)
    return node_fail (c, n, SEG_ERR_FORMAT, "attribute 'axis' is missing");
  int rank = val (c, n->vin[0])->rank;
  int64_t len = 0;
  for (int i = 0; i < n->nin; i++) {
    if (n->vin[i] < 0)
      return node_fail (c, n, SEG_ERR_FORMAT, "input %d is empty", i);
    const value *x = val (c, n->vin[i]);
    if (x->rank != rank)
      return node_fail (c, n, SEG_ERR_FORMAT, "inputs have ranks %d and %d", rank, x->rank);
    len = len >= 0 && x->len >= 0 ? len + x->len : -1;
  }
  if (rank < 1 || axis < -rank || axis >= rank)
    return node_fail (c, n, SEG_ERR_FORMAT, "attribute 'axis' = %lld out of range for rank %d",
        (long long) axis, rank);
  if ((st = emit_range (c, n, SEG_OP_CONCAT, 0, n->nin, val_dtype (c, n->vin[0]),
           join_kind (c, n, 0, n->nin), rank, len, &node)) != SEG_OK)
    return st;
  node->a.axis = axis;
  return SEG_OK;
}

/* Small stored values cast at import, so that e.g. Clip bounds written as
 * Cast(Constant) are known here. Returns false to leave it to a node. */
#define MAX_FOLD_ELEMENTS 64

/* Runs the Cast op's eval on a stored tensor: v[0] is src, v[1] the
 * result, which the caller then owns. */
static bool
eval_cast (const seg_tensor *src, seg_dtype to, seg_value v[2])
{
  seg_node n = { .op = SEG_OP_CAST, .name = (char *) "Cast", .nin = 1,
    .nout = 1, .in = { 0 }, .out = { 1 } };
  seg_err ignored;
  n.a.to = to;
  memset (v, 0, 2 * sizeof *v);
  v[0] = (seg_value) { .kind = SEG_VAL_CONST, .dtype = src->dtype,
    .rank = src->rank, .data = src->data, .nbytes = src->nbytes };
  memcpy (v[0].dims, src->dims, sizeof v[0].dims);
  return seg_op_vtable_get (SEG_OP_CAST)->eval (&n, v, &ignored) == SEG_OK;
}

/* The conversion is the Cast op's (ops/shape.c), so a folded Cast and one
 * the passes evaluate agree. The import is stricter than the op: a value
 * the integer target cannot hold after truncation toward zero, or NaN,
 * which the op saturates or wraps as numpy does, leaves the Cast to a node
 * (test-onnx's "out-of-range cast left as a node"); so does an f16 target,
 * which the op refuses. The range is checked on the values cast to f64,
 * which is exact for every integer the narrower targets can hold. */
static bool
fold_cast (const seg_tensor *src, seg_dtype to, void **out, size_t *nbytes)
{
  int64_t count = seg_shape_elements (src->rank, src->dims);
  if (count < 0 || count > MAX_FOLD_ELEMENTS)
    return false;
  double lo = 0, hi = 0;
  bool ranged = true, from_int = src->dtype != SEG_DT_F32
      && src->dtype != SEG_DT_F64 && src->dtype != SEG_DT_F16;
  switch (to) {
    case SEG_DT_I64: lo = -9.2e18, hi = 9.2e18, ranged = !from_int; break;
    case SEG_DT_I32: lo = INT32_MIN, hi = INT32_MAX; break;
    case SEG_DT_I8: lo = INT8_MIN, hi = INT8_MAX; break;
    case SEG_DT_U8: lo = 0, hi = UINT8_MAX; break;
    default: ranged = false; break;
  }
  seg_value v[2];
  if (ranged) {
    if (!eval_cast (src, SEG_DT_F64, v))
      return false;
    const double *d = v[1].data;
    bool fits = true;
    for (int64_t i = 0; i < count && fits; i++)
      fits = trunc (d[i]) >= lo && trunc (d[i]) <= hi;
    free (v[1].data);
    if (!fits)
      return false;
  }
  if (!eval_cast (src, to, v))
    return false;
  *out = v[1].data; /* never NULL: seg_value_alloc gives 1 byte for 0 */
  *nbytes = v[1].nbytes;
  return true;
}

static seg_status
map_cast (ctx *c, const onnx_node *n, seg_op op)
{
  seg_status st;
  seg_node *node;
  int64_t to;
  bool has;
  seg_dtype dt;
  if ((st = need_inputs (c, n, 1, 1)) != SEG_OK || (st = need_no_act (c, n)) != SEG_OK
      || (st = get_int (c, n, "to", 0, &to, &has)) != SEG_OK)
    return st;
  if (!has)
    return node_fail (c, n, SEG_ERR_FORMAT, "attribute 'to' is missing");
  if (!map_dtype (to, &dt))
    return node_fail (c, n, SEG_ERR_UNSUPPORTED, "attribute 'to' = %lld (%s) is not supported",
        (long long) to, onnx_dtype_name (to));
  const value *x = val (c, n->vin[0]);
  const seg_tensor *src = val_data (c, n->vin[0]);
  void *folded;
  size_t nbytes;
  if (src && fold_cast (src, dt, &folded, &nbytes)) {
    int64_t dims[SEG_MAX_RANK];
    memcpy (dims, src->dims, sizeof dims);
    return define_const (c, n, dt, src->rank, dims, folded, nbytes);
  }
  /* f16 weights cast up to f32: the form the passes fold at load. */
  seg_op emitted = src && src->dtype == SEG_DT_F16 && dt == SEG_DT_F32
      ? SEG_OP_DEQUANTIZE : op;
  if ((st = emit_range (c, n, emitted, 0, 1, dt, x->kind, x->rank, x->len, &node)) != SEG_OK)
    return st;
  node->a.to = dt;
  return SEG_OK;
}

/* Unsqueeze/Squeeze axes: an attribute before opset 13, a stored input
 * from 13 on. Returns how many axes there are. */
static seg_status
squeeze_axes (ctx *c, const onnx_node *n, int64_t *ints, int *nints,
    int *naxes)
{
  seg_status st;
  *nints = 0;
  if (c->opset < 13) {
    int cnt;
    if ((st = need_inputs (c, n, 1, 1)) != SEG_OK
        || (st = get_ints (c, n, "axes", ints, SEG_MAX_INTS, &cnt)) != SEG_OK)
      return st;
    if (cnt < 0)
      return node_fail (c, n, SEG_ERR_UNSUPPORTED, "attribute 'axes' is missing");
    *nints = cnt;
    *naxes = cnt;
    return SEG_OK;
  }
  if ((st = need_inputs (c, n, 1, 2)) != SEG_OK)
    return st;
  const seg_tensor *t = n->nin > 1 ? val_data (c, n->vin[1]) : NULL;
  if (!t)
    return node_fail (c, n, SEG_ERR_UNSUPPORTED, "input 'axes' must be a stored constant");
  if (t->rank != 1 || t->dims[0] > SEG_MAX_RANK)
    return node_fail (c, n, SEG_ERR_FORMAT, "input 'axes' must be 1-D with at most %d values",
        SEG_MAX_RANK);
  *naxes = (int) t->dims[0];
  return SEG_OK;
}

static seg_status
map_squeeze_like (ctx *c, const onnx_node *n, seg_op op)
{
  seg_status st;
  seg_node *node;
  int64_t ints[SEG_MAX_INTS];
  int nints = 0, naxes = 0;
  if ((st = squeeze_axes (c, n, ints, &nints, &naxes)) != SEG_OK
      || (st = need_no_act (c, n)) != SEG_OK)
    return st;
  int r = val (c, n->vin[0])->rank;
  int rank = op == SEG_OP_UNSQUEEZE ? r + naxes : r - naxes;
  if (rank < 0 || rank > SEG_MAX_RANK)
    return node_fail (c, n, SEG_ERR_FORMAT, "output rank %d out of range", rank);
  int nin = c->opset < 13 ? 1 : 2;
  if ((st = emit_range (c, n, op, 0, nin, val_dtype (c, n->vin[0]),
           join_kind (c, n, 0, nin), rank, rank == 1 && r == 0 ? 1 : val (c, n->vin[0])->len,
           &node)) != SEG_OK)
    return st;
  memcpy (node->a.ints, ints, (size_t) nints * sizeof ints[0]);
  node->a.nints = nints;
  return SEG_OK;
}




/* The length of a 1-D shape input, which is the rank of what it shapes. */
static seg_status
shape_input_len (ctx *c, const onnx_node *n, int i, int *rank)
{
  const value *s = val (c, n->vin[i]);
  char nb[MAX_NAME + 1];
  span_str (n->in[i], nb, sizeof nb);
  if (s->rank != 1)
    return node_fail (c, n, SEG_ERR_FORMAT, "input '%s' has rank %d, expected 1", nb, s->rank);
  if (s->len < 0)
    return node_fail (c, n, SEG_ERR_UNSUPPORTED,
        "the length of input '%s' is not known at load", nb);
  if (s->len > SEG_MAX_RANK)
    return node_fail (c, n, SEG_ERR_UNSUPPORTED, "output rank %lld, at most %d supported",
        (long long) s->len, SEG_MAX_RANK);
  *rank = (int) s->len;
  return SEG_OK;
}

static seg_status
map_reshape (ctx *c, const onnx_node *n, seg_op op)
{
  seg_status st;
  seg_node *node;
  int64_t allowzero;
  int rank;
  if ((st = need_inputs (c, n, 2, 2)) != SEG_OK || (st = need_no_act (c, n)) != SEG_OK
      || (st = get_int (c, n, "allowzero", 0, &allowzero, NULL)) != SEG_OK
      || (st = shape_input_len (c, n, 1, &rank)) != SEG_OK)
    return st;
  if (allowzero)
    return node_fail (c, n, SEG_ERR_UNSUPPORTED, "attribute 'allowzero' = 1 is not supported");
  return emit_range (c, n, SEG_OP_RESHAPE, 0, 2, val_dtype (c, n->vin[0]),
      join_kind (c, n, 0, 2), rank, -1, &node);
}

static seg_status
map_rounding (ctx *c, const onnx_node *n, seg_op op)
{
  seg_status st;
  seg_node *node;
  if ((st = need_inputs (c, n, 1, 1)) != SEG_OK || (st = need_no_act (c, n)) != SEG_OK)
    return st;
  return map_unary (c, n, op, &node);
}



static seg_status
map_constant_of_shape (ctx *c, const onnx_node *n, seg_op op)
{
  seg_status st;
  seg_node *node;
  onnx_attr a;
  bool has;
  int rank;
  seg_dtype dt = SEG_DT_F32;
  float fill = 0;

  if ((st = need_inputs (c, n, 1, 1)) != SEG_OK || (st = need_no_act (c, n)) != SEG_OK
      || (st = shape_input_len (c, n, 0, &rank)) != SEG_OK
      || (st = find_attr (c, n, "value", &a, &has)) != SEG_OK)
    return st;
  if (has) {
    tensor_in t;
    char w[MAX_NAME + 64];
    if ((st = attr_want (c, n, &a, AT_TENSOR)) != SEG_OK)
      return st;
    snprintf (w, sizeof w, "node '%s' attribute 'value'", n->name);
    if ((st = read_tensor (c, a.t, w, &t)) != SEG_OK)
      return st;
    if (t.nbytes != seg_dtype_size (t.dtype)) {
      free (t.data);
      return node_fail (c, n, SEG_ERR_FORMAT, "attribute 'value' must have one element");
    }
    dt = t.dtype;
    switch (dt) {
      case SEG_DT_F32: memcpy (&fill, t.data, 4); break;
      case SEG_DT_F16: {
        uint16_t h;
        memcpy (&h, t.data, 2);
        fill = seg_f16_to_f32 (h);
        break;
      }
      case SEG_DT_F64: {
        double d;
        memcpy (&d, t.data, 8);
        fill = (float) d;
        break;
      }
      case SEG_DT_I64: {
        int64_t i;
        memcpy (&i, t.data, 8);
        fill = (float) i;
        break;
      }
      case SEG_DT_I32: {
        int32_t i;
        memcpy (&i, t.data, 4);
        fill = (float) i;
        break;
      }
      case SEG_DT_I8: fill = (float) (int8_t) *(uint8_t *) t.data; break;
      case SEG_DT_U8: case SEG_DT_BOOL: fill = (float) *(uint8_t *) t.data; break;
    }
    free (t.data);
  }
  if ((st = emit_range (c, n, SEG_OP_CONSTANT_OF_SHAPE, 0, 1, dt, join_kind (c, n, 0, 1),
           rank, -1, &node)) != SEG_OK)
    return st;
  node->a.to = dt;
  node->a.value = fill;
  return SEG_OK;
}

static const struct {
  const char *name;
  map_fn fn;
  seg_op op; /* what fn emits (Constant emits no node) */
} op_table[] = {
  { "Conv", map_conv, SEG_OP_CONV },
  { "ConvTranspose", map_conv, SEG_OP_CONV_TRANSPOSE },
  { "Add", map_binary, SEG_OP_ADD },
  { "Sub", map_binary, SEG_OP_SUB },
  { "Mul", map_binary, SEG_OP_MUL },
  { "Div", map_binary, SEG_OP_DIV },
  { "Relu", map_activation, SEG_OP_RELU },
  { "Clip", map_clip, SEG_OP_CLIP },
  { "HardSigmoid", map_hardsigmoid, SEG_OP_HARDSIGMOID },
  { "HardSwish", map_activation, SEG_OP_HARDSWISH },
  { "Sigmoid", map_activation, SEG_OP_SIGMOID },
  { "GlobalAveragePool", map_global_avg_pool, SEG_OP_GLOBAL_AVG_POOL },
  { "ReduceMean", map_reduce_mean, SEG_OP_GLOBAL_AVG_POOL },
  { "Resize", map_resize, SEG_OP_RESIZE },
  { "BatchNormalization", map_batchnorm, SEG_OP_BATCHNORM },
  { "Identity", map_identity, SEG_OP_IDENTITY },
  { "Constant", map_constant, SEG_OP_IDENTITY },
  { "Shape", map_shape, SEG_OP_SHAPE },
  { "Gather", map_gather, SEG_OP_GATHER },
  { "Slice", map_slice, SEG_OP_SLICE },
  { "Concat", map_concat, SEG_OP_CONCAT },
  { "Cast", map_cast, SEG_OP_CAST },
  { "Unsqueeze", map_squeeze_like, SEG_OP_UNSQUEEZE },
  { "Squeeze", map_squeeze_like, SEG_OP_SQUEEZE },
  { "Reshape", map_reshape, SEG_OP_RESHAPE },
  { "Floor", map_rounding, SEG_OP_FLOOR },
  { "Ceil", map_rounding, SEG_OP_CEIL },
  { "ConstantOfShape", map_constant_of_shape, SEG_OP_CONSTANT_OF_SHAPE },
};

static seg_status
import_node (ctx *c, span msg, int index)
{
  onnx_node *n = malloc (sizeof *n);
  seg_status st;
  map_fn fn = NULL;
  seg_op op = SEG_OP_IDENTITY;
  char nb[MAX_NAME + 1];

  if (!n)
    return nomem (c);
  if ((st = read_node (c, msg, index, n)) != SEG_OK)
    goto out;
  if (n->domain.n && !span_eq (n->domain, "ai.onnx")) {
    st = fail (c, SEG_ERR_UNSUPPORTED,
        "node '%s' uses op '%s' from domain '%s' which segd does not run", n->name,
        n->op, span_str (n->domain, nb, sizeof nb));
    goto out;
  }
  for (size_t i = 0; i < sizeof op_table / sizeof op_table[0]; i++) {
    if (span_eq (n->op_s, op_table[i].name)) {
      fn = op_table[i].fn;
      op = op_table[i].op;
    }
  }
  if (!fn) {
    st = fail (c, SEG_ERR_UNSUPPORTED, "node '%s' uses op '%s' which segd does not run",
        n->name, n->op);
    goto out;
  }
  if (n->nin > SEG_MAX_IO) {
    st = node_fail (c, n, SEG_ERR_UNSUPPORTED, "has more than %d inputs", SEG_MAX_IO);
    goto out;
  }
  for (int i = 0; i < n->nin; i++) {
    if (!n->in[i].n) {
      n->vin[i] = -1;
      continue;
    }
    n->vin[i] = lookup (c, n->in[i]);
    if (n->vin[i] < 0) {
      st = node_fail (c, n, SEG_ERR_FORMAT,
          "input '%s' is not an initializer, a graph input or the output of an "
          "earlier node", span_str (n->in[i], nb, sizeof nb));
      goto out;
    }
  }
  if (n->nout != 1) {
    st = node_fail (c, n, n->nout ? SEG_ERR_UNSUPPORTED : SEG_ERR_FORMAT,
        "has %d outputs; segd runs it with exactly one", n->nout);
    goto out;
  }
  if (!n->out[0].n) {
    st = node_fail (c, n, SEG_ERR_FORMAT, "output 0 has no name");
    goto out;
  }
  if (lookup (c, n->out[0]) >= 0) {
    st = node_fail (c, n, SEG_ERR_FORMAT, "output '%s' is already defined",
        span_str (n->out[0], nb, sizeof nb));
    goto out;
  }
  st = fn (c, n, op);
out:
  free (n);
  return st;
}

/* ---- graph and model --------------------------------------------------- */

typedef struct {
  span *node, *init, *input, *output;
  int nnode, ninit, ninput, noutput;
} graph_parts;

static seg_status
split_graph (ctx *c, span graph, graph_parts *gp)
{
  seg_pb_reader r;
  seg_pb_field f;
  seg_pb_result res;
  const char *why = NULL;
  size_t counts[4] = { 0, 0, 0, 0 };

  /* Count first so each list is allocated once, at the size the file
   * itself proves by holding that many fields. */
  seg_pb_init (&r, graph.p, graph.n);
  while ((res = seg_pb_next (&r, &f, &why)) == SEG_PB_FIELD) {
    int k = f.number == GRAPH_NODE ? 0 : f.number == GRAPH_INITIALIZER ? 1
        : f.number == GRAPH_INPUT ? 2 : f.number == GRAPH_OUTPUT ? 3 : -1;
    if (f.number == GRAPH_SPARSE_INITIALIZER)
      return fail (c, SEG_ERR_UNSUPPORTED, "graph.sparse_initializer is not supported");
    if (k < 0)
      continue;
    static const char *const names[] = { "node", "initializer", "input", "output" };
    if (f.wire != SEG_PB_LEN)
      return bad_wire (c, "graph", names[k], &f, SEG_PB_LEN);
    counts[k]++;
  }
  if (res == SEG_PB_BAD)
    return bad_pb (c, "graph", why);
  if (counts[0] > SEG_MAX_NODES)
    return fail (c, SEG_ERR_FORMAT, "graph.node: %zu nodes, at most %d", counts[0],
        SEG_MAX_NODES);
  for (int k = 1; k < 4; k++)
    if (counts[k] > SEG_MAX_TENSORS)
      return fail (c, SEG_ERR_FORMAT, "graph: %zu tensors, at most %d", counts[k],
          SEG_MAX_TENSORS);

  span **lists[4] = { &gp->node, &gp->init, &gp->input, &gp->output };
  int *ns[4] = { &gp->nnode, &gp->ninit, &gp->ninput, &gp->noutput };
  for (int k = 0; k < 4; k++) {
    *lists[k] = malloc ((counts[k] ? counts[k] : 1) * sizeof (span));
    if (!*lists[k])
      return nomem (c);
    *ns[k] = 0;
  }
  seg_pb_init (&r, graph.p, graph.n);
  while (seg_pb_next (&r, &f, &why) == SEG_PB_FIELD) {
    int k = f.number == GRAPH_NODE ? 0 : f.number == GRAPH_INITIALIZER ? 1
        : f.number == GRAPH_INPUT ? 2 : f.number == GRAPH_OUTPUT ? 3 : -1;
    if (k >= 0)
      (*lists[k])[(*ns[k])++] = (span) { f.data, f.size };
  }
  return SEG_OK;
}

static void
parts_free (graph_parts *gp)
{
  free (gp->node);
  free (gp->init);
  free (gp->input);
  free (gp->output);
}

static seg_status
import_initializers (ctx *c, const graph_parts *gp)
{
  char w[64], nb[MAX_NAME + 1];
  seg_status st;
  for (int i = 0; i < gp->ninit; i++) {
    tensor_in t;
    int ti = -1, v;
    snprintf (w, sizeof w, "graph.initializer[%d]", i);
    if ((st = read_tensor (c, gp->init[i], w, &t)) != SEG_OK)
      return st;
    if (!t.name.n) {
      free (t.data);
      return fail (c, SEG_ERR_FORMAT, "%s.name is missing", w);
    }
    if (lookup (c, t.name) >= 0) {
      free (t.data);
      return fail (c, SEG_ERR_FORMAT, "%s: name '%s' is already defined", w,
          span_str (t.name, nb, sizeof nb));
    }
    if ((st = add_tensor (c, span_str (t.name, nb, sizeof nb), t.dtype, t.rank, t.dims,
             t.data, t.nbytes, &ti)) != SEG_OK)
      return st;
    if ((v = define (c, t.name, ti, KIND_CONST, t.rank)) < 0)
      return nomem (c);
    value_set_data (c, v, ti);
  }
  return SEG_OK;
}

/* NCHW as declared -> NHWC as the IR keeps activations. */
static void
nchw_to_nhwc (const int64_t *nchw, int64_t *nhwc)
{
  nhwc[0] = nchw[0];
  nhwc[1] = nchw[2];
  nhwc[2] = nchw[3];
  nhwc[3] = nchw[1];
}

static seg_status
import_inputs (ctx *c, const graph_parts *gp)
{
  char w[64], nb[MAX_NAME + 1];
  seg_status st;
  value_info vi, real;
  int nreal = 0, which = -1;

  memset (&real, 0, sizeof real);
  for (int i = 0; i < gp->ninput; i++) {
    snprintf (w, sizeof w, "graph.input[%d]", i);
    if ((st = read_value_info (c, gp->input[i], w, &vi)) != SEG_OK)
      return st;
    /* Older exporters list initializers as inputs too: those are constants. */
    if (lookup (c, vi.name) >= 0)
      continue;
    if (nreal++ == 0) {
      real = vi;
      which = i;
    }
  }
  if (nreal != 1)
    return fail (c, SEG_ERR_FORMAT,
        "graph.input: %d inputs besides the initializers; segd needs exactly one", nreal);

  snprintf (w, sizeof w, "graph.input[%d]", which);
  span_str (real.name, nb, sizeof nb);
  if (real.elem_type != DT_FLOAT)
    return fail (c, SEG_ERR_UNSUPPORTED, "%s '%s': elem_type %s, segd needs FLOAT", w, nb,
        onnx_dtype_name (real.elem_type));
  if (real.rank != 4)
    return fail (c, SEG_ERR_UNSUPPORTED,
        "%s '%s': %s; segd needs an N,C,H,W image tensor", w, nb,
        real.rank < 0 ? "no shape" : "not rank 4");
  int64_t dims[4];
  int t = -1, v;
  nchw_to_nhwc (real.dims, dims);
  if ((st = add_tensor (c, nb, SEG_DT_F32, 4, dims, NULL, 0, &t)) != SEG_OK)
    return st;
  if ((v = define (c, real.name, t, KIND_ACT, 4)) < 0)
    return nomem (c);
  c->g->inputs[0] = t;
  c->g->ninputs = 1;
  return SEG_OK;
}

static seg_status
import_output (ctx *c, const graph_parts *gp)
{
  char nb[MAX_NAME + 1];
  seg_status st;
  value_info vi;

  if (gp->noutput != 1)
    return fail (c, SEG_ERR_FORMAT, "graph.output: %d outputs; segd needs exactly one",
        gp->noutput);
  if ((st = read_value_info (c, gp->output[0], "graph.output[0]", &vi)) != SEG_OK)
    return st;
  span_str (vi.name, nb, sizeof nb);
  int v = lookup (c, vi.name);
  if (v < 0)
    return fail (c, SEG_ERR_FORMAT, "graph.output[0] '%s' is never produced", nb);
  const value *x = val (c, v);
  if (x->kind != KIND_ACT)
    return fail (c, SEG_ERR_UNSUPPORTED,
        "graph.output[0] '%s' does not depend on the graph input", nb);
  if (vi.elem_type && vi.elem_type != DT_FLOAT)
    return fail (c, SEG_ERR_UNSUPPORTED, "graph.output[0] '%s': elem_type %s, segd needs FLOAT",
        nb, onnx_dtype_name (vi.elem_type));
  if (vi.rank >= 0 && vi.rank != 4)
    return fail (c, SEG_ERR_FORMAT,
        "graph.output[0] '%s' is declared with rank %d but is a rank-4 activation", nb,
        vi.rank);
  seg_tensor *t = &c->g->tensors[x->tensor];
  /* The graph input's own dims stay as declared for it. */
  if (vi.rank == 4 && x->tensor != c->g->inputs[0])
    nchw_to_nhwc (vi.dims, t->dims);
  c->g->outputs[0] = x->tensor;
  c->g->noutputs = 1;
  return SEG_OK;
}

static seg_status
read_opset (ctx *c, span msg, int index)
{
  seg_pb_reader r;
  seg_pb_field f;
  seg_pb_result res;
  const char *why = NULL;
  char w[64];
  span domain = { NULL, 0 };
  int64_t version = 0;
  bool has_version = false;
  seg_status st;

  snprintf (w, sizeof w, "opset_import[%d]", index);
  seg_pb_init (&r, msg.p, msg.n);
  while ((res = seg_pb_next (&r, &f, &why)) == SEG_PB_FIELD) {
    if (f.number == OPSET_DOMAIN) {
      if (f.wire != SEG_PB_LEN)
        return bad_wire (c, w, "domain", &f, SEG_PB_LEN);
      domain = (span) { f.data, f.size };
      if ((st = check_name (c, domain, w, "domain")) != SEG_OK)
        return st;
    } else if (f.number == OPSET_VERSION) {
      if (f.wire != SEG_PB_VARINT)
        return bad_wire (c, w, "version", &f, SEG_PB_VARINT);
      version = (int64_t) f.u64;
      has_version = true;
    }
  }
  if (res == SEG_PB_BAD)
    return bad_pb (c, w, why);
  if (domain.n && !span_eq (domain, "ai.onnx"))
    return SEG_OK; /* only matters if a node uses it, and then it is refused */
  if (c->opset)
    return fail (c, SEG_ERR_FORMAT, "%s: the default domain is imported twice", w);
  if (!has_version)
    return fail (c, SEG_ERR_FORMAT, "%s.version is missing", w);
  if (version < MIN_OPSET || version > MAX_OPSET)
    return fail (c, SEG_ERR_UNSUPPORTED,
        "%s: opset %lld of the default domain; segd reads opsets %d to %d", w,
        (long long) version, MIN_OPSET, MAX_OPSET);
  c->opset = version;
  return SEG_OK;
}

static seg_status
import_model (ctx *c, const uint8_t *data, size_t size)
{
  seg_pb_reader r;
  seg_pb_field f;
  seg_pb_result res;
  const char *why = NULL;
  span graph = { NULL, 0 };
  bool has_graph = false;
  int nopset = 0;
  seg_status st;
  graph_parts gp;

  seg_pb_init (&r, data, size);
  while ((res = seg_pb_next (&r, &f, &why)) == SEG_PB_FIELD) {
    if (f.number == MODEL_GRAPH) {
      if (f.wire != SEG_PB_LEN)
        return bad_wire (c, "model", "graph", &f, SEG_PB_LEN);
      if (has_graph)
        return fail (c, SEG_ERR_FORMAT, "model.graph is given twice");
      graph = (span) { f.data, f.size };
      has_graph = true;
    } else if (f.number == MODEL_OPSET_IMPORT) {
      if (f.wire != SEG_PB_LEN)
        return bad_wire (c, "model", "opset_import", &f, SEG_PB_LEN);
      if ((st = read_opset (c, (span) { f.data, f.size }, nopset++)) != SEG_OK)
        return st;
    }
  }
  if (res == SEG_PB_BAD)
    return bad_pb (c, "model", why);
  if (!has_graph)
    return fail (c, SEG_ERR_FORMAT, "model.graph is missing (not an ONNX model?)");
  if (!c->opset)
    return fail (c, SEG_ERR_FORMAT, "model.opset_import has no entry for the default domain");

  memset (&gp, 0, sizeof gp);
  if ((st = split_graph (c, graph, &gp)) != SEG_OK)
    goto out;
  if ((st = import_initializers (c, &gp)) != SEG_OK
      || (st = import_inputs (c, &gp)) != SEG_OK)
    goto out;
  for (int i = 0; i < gp.nnode; i++)
    if ((st = import_node (c, gp.node[i], i)) != SEG_OK)
      goto out;
  st = import_output (c, &gp);
out:
  parts_free (&gp);
  return st;
}

seg_status
seg_import_onnx (const uint8_t *data, size_t size, const char *file,
    seg_graph **out, seg_err *err)
{
  ctx c;
  seg_status st;

  *out = NULL;
  memset (&c, 0, sizeof c);
  c.file = file ? file : "(memory)";
  c.seed = (uint32_t) ((uintptr_t) &c >> 4) * 2654435761u;
  c.err = err;
  if (!data && size)
    return fail (&c, SEG_ERR_INVALID, "no data");
  c.g = seg_graph_new (SEG_LAYOUT_NCHW);
  if (!c.g)
    return nomem (&c);
  st = import_model (&c, data, size);
  if (st == SEG_OK) {
    /* Unused initializers and Constant outputs go now, not at every load
     * stage after this one. */
    seg_graph_compact (c.g);
    st = seg_graph_validate (c.g, c.file, err);
  }
  free (c.vals);
  free (c.slots);
  if (st != SEG_OK) {
    seg_graph_free (c.g);
    return st;
  }
  *out = c.g;
  return SEG_OK;
}
