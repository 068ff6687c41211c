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
 *
 * The importer is three files around onnx-impl.h: this one (errors,
 * names, the value table, the graph and the model), onnx-proto.c (the
 * protobuf message readers) and onnx-ops.c (the op importers and their
 * table).
 */
#include "onnx-impl.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- errors ------------------------------------------------------------ */

seg_status
onnx_fail (ctx *c, seg_status st, const char *fmt, ...)
{
  char msg[sizeof c->err->msg];
  va_list ap;
  va_start (ap, fmt);
  vsnprintf (msg, sizeof msg, fmt, ap);
  va_end (ap);
  return seg_fail (c->err, st, "%s: %s", c->file, msg);
}

seg_status
onnx_node_fail (ctx *c, const onnx_node *n, seg_status st, const char *fmt, ...)
{
  char msg[sizeof c->err->msg];
  va_list ap;
  va_start (ap, fmt);
  vsnprintf (msg, sizeof msg, fmt, ap);
  va_end (ap);
  return onnx_fail (c, st, "node '%s' (%s): %s", n->name, n->op, msg);
}

seg_status
onnx_nomem (ctx *c)
{
  return onnx_fail (c, SEG_ERR_NOMEM, "out of memory");
}

seg_status
onnx_bad_wire (ctx *c, const char *where, const char *field,
    const seg_pb_field *f, seg_pb_wire want)
{
  return onnx_fail (c, SEG_ERR_FORMAT, "%s.%s has wire type %d, expected %d",
      where, field, (int) f->wire, (int) want);
}

seg_status
onnx_bad_pb (ctx *c, const char *where, const char *why)
{
  return onnx_fail (c, SEG_ERR_FORMAT, "%s: %s", where, why);
}

/* ---- names ------------------------------------------------------------- */

bool
onnx_span_eq (span s, const char *lit)
{
  size_t n = strlen (lit);
  return s.n == n && (n == 0 || memcmp (s.p, lit, n) == 0);
}

/* Names end up in messages and logs: no control bytes, bounded length. */
seg_status
onnx_check_name (ctx *c, span s, const char *where, const char *field)
{
  if (s.n > MAX_NAME)
    return onnx_fail (c, SEG_ERR_FORMAT,
        "%s.%s is %zu bytes long, at most %d allowed", where, field, s.n,
        MAX_NAME);
  for (size_t i = 0; i < s.n; i++)
    if (s.p[i] < 0x20 || s.p[i] == 0x7f)
      return onnx_fail (c, SEG_ERR_FORMAT, "%s.%s contains control byte 0x%02x",
          where, field, s.p[i]);
  return SEG_OK;
}

/* Copies a checked name (at most MAX_NAME bytes) into buf. */
const char *
onnx_span_str (span s, char *buf, size_t size)
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

int
onnx_lookup (const ctx *c, span name)
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
int
onnx_new_value (ctx *c, span name, int tensor, value_kind kind, int rank)
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
int
onnx_define (ctx *c, span name, int tensor, value_kind kind, int rank)
{
  if ((size_t) (c->nvals + 1) * 2 > c->nslots && !grow_slots (c))
    return -1;
  int v = onnx_new_value (c, name, tensor, kind, rank);
  if (v < 0)
    return -1;
  size_t i = c->vals[v].hash & (c->nslots - 1);
  while (c->slots[i] >= 0)
    i = (i + 1) & (c->nslots - 1);
  c->slots[i] = v;
  return v;
}

/* Adds an IR tensor, telling the table limit from allocation failure. */
seg_status
onnx_add_tensor (ctx *c, const char *name, seg_dtype dt, int rank,
    const int64_t *dims, void *data, size_t nbytes, int *index)
{
  if (c->g->ntensors >= SEG_MAX_TENSORS) {
    free (data);
    return onnx_fail (c, SEG_ERR_FORMAT, "more than %d tensors",
        SEG_MAX_TENSORS);
  }
  *index = seg_graph_add_tensor (c->g, name, dt, rank, dims, data, nbytes);
  return *index < 0 ? onnx_nomem (c) : SEG_OK;
}

/* A value known to hold constant bytes: sets the length of small ones. */
void
onnx_value_set_data (ctx *c, int v, int tensor)
{
  const seg_tensor *t = &c->g->tensors[tensor];
  c->vals[v].data = tensor;
  if (t->rank == 0)
    c->vals[v].len = 1;
  else if (t->rank == 1)
    c->vals[v].len = t->dims[0];
}

/* ---- graph and model --------------------------------------------------- */

typedef struct
{
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
  size_t counts[4] = {0, 0, 0, 0};

  /* Count first so each list is allocated once, at the size the file
   * itself proves by holding that many fields. */
  seg_pb_init (&r, graph.p, graph.n);
  while ((res = seg_pb_next (&r, &f, &why)) == SEG_PB_FIELD) {
    int k = f.number == GRAPH_NODE      ? 0
        : f.number == GRAPH_INITIALIZER ? 1
        : f.number == GRAPH_INPUT       ? 2
        : f.number == GRAPH_OUTPUT      ? 3
                                        : -1;
    if (f.number == GRAPH_SPARSE_INITIALIZER)
      return onnx_fail (c, SEG_ERR_UNSUPPORTED,
          "graph.sparse_initializer is not supported");
    if (k < 0)
      continue;
    static const char *const names[] = {"node", "initializer", "input",
        "output"};
    if (f.wire != SEG_PB_LEN)
      return onnx_bad_wire (c, "graph", names[k], &f, SEG_PB_LEN);
    counts[k]++;
  }
  if (res == SEG_PB_BAD)
    return onnx_bad_pb (c, "graph", why);
  if (counts[0] > SEG_MAX_NODES)
    return onnx_fail (c, SEG_ERR_FORMAT, "graph.node: %zu nodes, at most %d",
        counts[0], SEG_MAX_NODES);
  for (int k = 1; k < 4; k++)
    if (counts[k] > SEG_MAX_TENSORS)
      return onnx_fail (c, SEG_ERR_FORMAT, "graph: %zu tensors, at most %d",
          counts[k], SEG_MAX_TENSORS);

  span **lists[4] = {&gp->node, &gp->init, &gp->input, &gp->output};
  int *ns[4] = {&gp->nnode, &gp->ninit, &gp->ninput, &gp->noutput};
  for (int k = 0; k < 4; k++) {
    *lists[k] = malloc ((counts[k] ? counts[k] : 1) * sizeof (span));
    if (!*lists[k])
      return onnx_nomem (c);
    *ns[k] = 0;
  }
  seg_pb_init (&r, graph.p, graph.n);
  while (seg_pb_next (&r, &f, &why) == SEG_PB_FIELD) {
    int k = f.number == GRAPH_NODE      ? 0
        : f.number == GRAPH_INITIALIZER ? 1
        : f.number == GRAPH_INPUT       ? 2
        : f.number == GRAPH_OUTPUT      ? 3
                                        : -1;
    if (k >= 0)
      (*lists[k])[(*ns[k])++] = (span){f.data, f.size};
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
    if ((st = onnx_read_tensor (c, gp->init[i], w, &t)) != SEG_OK)
      return st;
    if (!t.name.n) {
      free (t.data);
      return onnx_fail (c, SEG_ERR_FORMAT, "%s.name is missing", w);
    }
    if (onnx_lookup (c, t.name) >= 0) {
      free (t.data);
      return onnx_fail (c, SEG_ERR_FORMAT, "%s: name '%s' is already defined",
          w, onnx_span_str (t.name, nb, sizeof nb));
    }
    if ((st = onnx_add_tensor (c, onnx_span_str (t.name, nb, sizeof nb),
             t.dtype, t.rank, t.dims, t.data, t.nbytes, &ti))
        != SEG_OK)
      return st;
    if ((v = onnx_define (c, t.name, ti, KIND_CONST, t.rank)) < 0)
      return onnx_nomem (c);
    onnx_value_set_data (c, v, ti);
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
    if ((st = onnx_read_value_info (c, gp->input[i], w, &vi)) != SEG_OK)
      return st;
    /* Older exporters list initializers as inputs too: those are constants. */
    if (onnx_lookup (c, vi.name) >= 0)
      continue;
    if (nreal++ == 0) {
      real = vi;
      which = i;
    }
  }
  if (nreal != 1)
    return onnx_fail (c, SEG_ERR_FORMAT,
        "graph.input: %d inputs besides the initializers; segd needs exactly "
        "one",
        nreal);

  snprintf (w, sizeof w, "graph.input[%d]", which);
  onnx_span_str (real.name, nb, sizeof nb);
  if (real.elem_type != DT_FLOAT)
    return onnx_fail (c, SEG_ERR_UNSUPPORTED,
        "%s '%s': elem_type %s, segd needs FLOAT", w, nb,
        onnx_dtype_name (real.elem_type));
  if (real.rank != 4)
    return onnx_fail (c, SEG_ERR_UNSUPPORTED,
        "%s '%s': %s; segd needs an N,C,H,W image tensor", w, nb,
        real.rank < 0 ? "no shape" : "not rank 4");
  int64_t dims[4];
  int t = -1, v;
  nchw_to_nhwc (real.dims, dims);
  if ((st = onnx_add_tensor (c, nb, SEG_DT_F32, 4, dims, NULL, 0, &t))
      != SEG_OK)
    return st;
  if ((v = onnx_define (c, real.name, t, KIND_ACT, 4)) < 0)
    return onnx_nomem (c);
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
    return onnx_fail (c, SEG_ERR_FORMAT,
        "graph.output: %d outputs; segd needs exactly one", gp->noutput);
  if ((st = onnx_read_value_info (c, gp->output[0], "graph.output[0]", &vi))
      != SEG_OK)
    return st;
  onnx_span_str (vi.name, nb, sizeof nb);
  int v = onnx_lookup (c, vi.name);
  if (v < 0)
    return onnx_fail (c, SEG_ERR_FORMAT,
        "graph.output[0] '%s' is never produced", nb);
  const value *x = onnx_val (c, v);
  if (x->kind != KIND_ACT)
    return onnx_fail (c, SEG_ERR_UNSUPPORTED,
        "graph.output[0] '%s' does not depend on the graph input", nb);
  if (vi.elem_type && vi.elem_type != DT_FLOAT)
    return onnx_fail (c, SEG_ERR_UNSUPPORTED,
        "graph.output[0] '%s': elem_type %s, segd needs FLOAT", nb,
        onnx_dtype_name (vi.elem_type));
  if (vi.rank >= 0 && vi.rank != 4)
    return onnx_fail (c, SEG_ERR_FORMAT,
        "graph.output[0] '%s' is declared with rank %d but is a rank-4 "
        "activation",
        nb, vi.rank);
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
  span domain = {NULL, 0};
  int64_t version = 0;
  bool has_version = false;
  seg_status st;

  snprintf (w, sizeof w, "opset_import[%d]", index);
  seg_pb_init (&r, msg.p, msg.n);
  while ((res = seg_pb_next (&r, &f, &why)) == SEG_PB_FIELD) {
    if (f.number == OPSET_DOMAIN) {
      if (f.wire != SEG_PB_LEN)
        return onnx_bad_wire (c, w, "domain", &f, SEG_PB_LEN);
      domain = (span){f.data, f.size};
      if ((st = onnx_check_name (c, domain, w, "domain")) != SEG_OK)
        return st;
    } else if (f.number == OPSET_VERSION) {
      if (f.wire != SEG_PB_VARINT)
        return onnx_bad_wire (c, w, "version", &f, SEG_PB_VARINT);
      version = (int64_t) f.u64;
      has_version = true;
    }
  }
  if (res == SEG_PB_BAD)
    return onnx_bad_pb (c, w, why);
  if (domain.n && !onnx_span_eq (domain, "ai.onnx"))
    return SEG_OK; /* only matters if a node uses it, and then it is refused */
  if (c->opset)
    return onnx_fail (c, SEG_ERR_FORMAT,
        "%s: the default domain is imported twice", w);
  if (!has_version)
    return onnx_fail (c, SEG_ERR_FORMAT, "%s.version is missing", w);
  if (version < MIN_OPSET || version > MAX_OPSET)
    return onnx_fail (c, SEG_ERR_UNSUPPORTED,
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
  span graph = {NULL, 0};
  bool has_graph = false;
  int nopset = 0;
  seg_status st;
  graph_parts gp;

  seg_pb_init (&r, data, size);
  while ((res = seg_pb_next (&r, &f, &why)) == SEG_PB_FIELD) {
    if (f.number == MODEL_GRAPH) {
      if (f.wire != SEG_PB_LEN)
        return onnx_bad_wire (c, "model", "graph", &f, SEG_PB_LEN);
      if (has_graph)
        return onnx_fail (c, SEG_ERR_FORMAT, "model.graph is given twice");
      graph = (span){f.data, f.size};
      has_graph = true;
    } else if (f.number == MODEL_OPSET_IMPORT) {
      if (f.wire != SEG_PB_LEN)
        return onnx_bad_wire (c, "model", "opset_import", &f, SEG_PB_LEN);
      if ((st = read_opset (c, (span){f.data, f.size}, nopset++)) != SEG_OK)
        return st;
    }
  }
  if (res == SEG_PB_BAD)
    return onnx_bad_pb (c, "model", why);
  if (!has_graph)
    return onnx_fail (c, SEG_ERR_FORMAT,
        "model.graph is missing (not an ONNX model?)");
  if (!c->opset)
    return onnx_fail (c, SEG_ERR_FORMAT,
        "model.opset_import has no entry for the default domain");

  memset (&gp, 0, sizeof gp);
  if ((st = split_graph (c, graph, &gp)) != SEG_OK)
    goto out;
  if ((st = import_initializers (c, &gp)) != SEG_OK
      || (st = import_inputs (c, &gp)) != SEG_OK)
    goto out;
  for (int i = 0; i < gp.nnode; i++)
    if ((st = onnx_import_node (c, gp.node[i], i)) != SEG_OK)
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
    return onnx_fail (&c, SEG_ERR_INVALID, "no data");
  c.g = seg_graph_new (SEG_LAYOUT_NCHW);
  if (!c.g)
    return onnx_nomem (&c);
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
