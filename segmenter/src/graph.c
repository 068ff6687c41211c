/* Graph IR construction and the small helpers every stage shares. */
#include "graph.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

seg_status
seg_fail (seg_err *err, seg_status status, const char *fmt, ...)
{
  if (err) {
    va_list ap;
    va_start (ap, fmt);
    vsnprintf (err->msg, sizeof err->msg, fmt, ap);
    va_end (ap);
  }
  return status;
}

seg_status
seg_budget_charge (seg_budget *b, size_t bytes, const seg_node *n,
    const char *what, seg_status status, seg_err *err)
{
  if (bytes <= b->limit && b->used <= b->limit - bytes) {
    b->used += bytes;
    return SEG_OK;
  }
  if (n)
    return seg_fail (err, status,
        "node '%s' (%s): %s needs %zu bytes, over "
        "the memory budget of %zu bytes (%zu in use)",
        n->name, seg_op_name (n->op), what, bytes, b->limit, b->used);
  return seg_fail (err, status,
      "%s needs %zu bytes, over the memory budget "
      "of %zu bytes (%zu in use)",
      what, bytes, b->limit, b->used);
}

size_t
seg_dtype_size (seg_dtype dt)
{
  switch (dt) {
    case SEG_DT_F32:
    case SEG_DT_I32:
      return 4;
    case SEG_DT_F16:
      return 2;
    case SEG_DT_I64:
    case SEG_DT_F64:
      return 8;
    case SEG_DT_U8:
    case SEG_DT_I8:
    case SEG_DT_BOOL:
      return 1;
  }
  return 0;
}

const char *
seg_dtype_name (seg_dtype dt)
{
  static const char *const names[] = {
      [SEG_DT_F32] = "float32",
      [SEG_DT_F16] = "float16",
      [SEG_DT_I64] = "int64",
      [SEG_DT_I32] = "int32",
      [SEG_DT_U8] = "uint8",
      [SEG_DT_I8] = "int8",
      [SEG_DT_BOOL] = "bool",
      [SEG_DT_F64] = "float64",
  };
  return (unsigned) dt < sizeof names / sizeof names[0] ? names[dt] : "?";
}

const char *
seg_op_name (seg_op op)
{
  static const char *const names[SEG_OP_COUNT_] = {
      [SEG_OP_CONV] = "Conv",
      [SEG_OP_CONV_TRANSPOSE] = "ConvTranspose",
      [SEG_OP_ADD] = "Add",
      [SEG_OP_SUB] = "Sub",
      [SEG_OP_MUL] = "Mul",
      [SEG_OP_DIV] = "Div",
      [SEG_OP_RELU] = "Relu",
      [SEG_OP_CLIP] = "Clip",
      [SEG_OP_HARDSIGMOID] = "HardSigmoid",
      [SEG_OP_HARDSWISH] = "HardSwish",
      [SEG_OP_SIGMOID] = "Sigmoid",
      [SEG_OP_GLOBAL_AVG_POOL] = "GlobalAveragePool",
      [SEG_OP_RESIZE] = "Resize",
      [SEG_OP_BATCHNORM] = "BatchNormalization",
      [SEG_OP_DEQUANTIZE] = "Dequantize",
      [SEG_OP_IDENTITY] = "Identity",
      [SEG_OP_SHAPE] = "Shape",
      [SEG_OP_GATHER] = "Gather",
      [SEG_OP_SLICE] = "Slice",
      [SEG_OP_CONCAT] = "Concat",
      [SEG_OP_CAST] = "Cast",
      [SEG_OP_UNSQUEEZE] = "Unsqueeze",
      [SEG_OP_SQUEEZE] = "Squeeze",
      [SEG_OP_RESHAPE] = "Reshape",
      [SEG_OP_FLOOR] = "Floor",
      [SEG_OP_CEIL] = "Ceil",
      [SEG_OP_CONSTANT_OF_SHAPE] = "ConstantOfShape",
      [SEG_OP_INVERTED_RESIDUAL] = "InvertedResidual",
      [SEG_OP_SE_PROJECT] = "SeProject",
  };
  return (unsigned) op < SEG_OP_COUNT_ && names[op] ? names[op] : "?";
}

seg_graph *
seg_graph_new (seg_layout layout)
{
  seg_graph *g = calloc (1, sizeof *g);
  if (g)
    g->layout = layout;
  return g;
}

static void
node_clear (seg_node *n)
{
  if (n->packed_free && n->packed)
    n->packed_free (n->packed);
  n->packed = NULL;
  free (n->name);
  n->name = NULL;
}

void
seg_graph_free (seg_graph *g)
{
  if (!g)
    return;
  for (int i = 0; i < g->ntensors; i++) {
    free (g->tensors[i].name);
    free (g->tensors[i].data);
  }
  for (int i = 0; i < g->nnodes; i++)
    node_clear (&g->nodes[i]);
  free (g->tensors);
  free (g->nodes);
  free (g);
}

static char *
dup_str (const char *s)
{
  size_t n = strlen (s ? s : "");
  char *d = malloc (n + 1);
  if (d)
    memcpy (d, s ? s : "", n + 1);
  return d;
}

int
seg_graph_add_tensor (seg_graph *g, const char *name, seg_dtype dtype, int rank,
    const int64_t *dims, void *data, size_t nbytes)
{
  if (rank < 0 || rank > SEG_MAX_RANK || g->ntensors >= SEG_MAX_TENSORS)
    goto fail;
  if (g->ntensors == g->tensors_cap) {
    int cap = g->tensors_cap ? g->tensors_cap * 2 : 64;
    seg_tensor *t = realloc (g->tensors, (size_t) cap * sizeof *t);
    if (!t)
      goto fail;
    g->tensors = t;
    g->tensors_cap = cap;
  }
  seg_tensor *t = &g->tensors[g->ntensors];
  memset (t, 0, sizeof *t);
  t->name = dup_str (name);
  if (!t->name)
    goto fail;
  t->dtype = dtype;
  t->rank = rank;
  for (int i = 0; i < rank; i++)
    t->dims[i] = dims[i];
  t->data = data;
  t->nbytes = nbytes;
  return g->ntensors++;

fail:
  free (data);
  return -1;
}

seg_node *
seg_graph_add_node (seg_graph *g, seg_op op, const char *name, int nin,
    const int *in, int nout, const int *out)
{
  if (nin < 0 || nin > SEG_MAX_IO || nout < 1 || nout > SEG_MAX_IO
      || g->nnodes >= SEG_MAX_NODES)
    return NULL;
  if (g->nnodes == g->nodes_cap) {
    int cap = g->nodes_cap ? g->nodes_cap * 2 : 64;
    seg_node *n = realloc (g->nodes, (size_t) cap * sizeof *n);
    if (!n)
      return NULL;
    g->nodes = n;
    g->nodes_cap = cap;
  }
  seg_node *n = &g->nodes[g->nnodes];
  memset (n, 0, sizeof *n);
  n->name = dup_str (name);
  if (!n->name)
    return NULL;
  n->op = op;
  n->nin = nin;
  n->nout = nout;
  for (int i = 0; i < nin; i++)
    n->in[i] = in[i];
  for (int i = 0; i < nout; i++)
    n->out[i] = out[i];
  n->a.stride[0] = n->a.stride[1] = 1;
  n->a.dilation[0] = n->a.dilation[1] = 1;
  n->a.groups = 1;
  n->a.to = SEG_DT_F32;
  g->nnodes++;
  return n;
}

int64_t
seg_shape_elements (int rank, const int64_t *dims)
{
  int64_t n = 1;
  for (int i = 0; i < rank; i++) {
    if (dims[i] < 0 || (dims[i] > 0 && n > SEG_MAX_ELEMENTS / dims[i]))
      return -1;
    n *= dims[i];
  }
  return n;
}

seg_status
seg_graph_validate (const seg_graph *g, const char *file, seg_err *err)
{
  /* ready[t]: 1 once t is defined (constant, graph input or produced). */
  unsigned char *ready = calloc ((size_t) g->ntensors + 1, 1);
  seg_status st = SEG_OK;
  if (!ready)
    return seg_fail (err, SEG_ERR_NOMEM, "%s: out of memory", file);
  for (int t = 0; t < g->ntensors; t++)
    ready[t] = g->tensors[t].data != NULL;
  for (int i = 0; i < g->ninputs; i++) {
    if (g->inputs[i] < 0 || g->inputs[i] >= g->ntensors) {
      st = seg_fail (err, SEG_ERR_FORMAT, "%s: graph input %d out of range",
          file, i);
      goto out;
    }
    ready[g->inputs[i]] = 1;
  }
  for (int i = 0; i < g->nnodes; i++) {
    const seg_node *n = &g->nodes[i];
    if (n->dead)
      continue;
    for (int j = 0; j < n->nin; j++) {
      int t = n->in[j];
      if (t == -1)
        continue;
      if (t < 0 || t >= g->ntensors || !ready[t]) {
        st =
            seg_fail (err, SEG_ERR_FORMAT, "%s: node '%s' (%s): input %d is %s",
                file, n->name, seg_op_name (n->op), j,
                t < 0 || t >= g->ntensors ? "out of range"
                                          : "not produced by an earlier node");
        goto out;
      }
    }
    for (int j = 0; j < n->nout; j++) {
      int t = n->out[j];
      if (t < 0 || t >= g->ntensors || ready[t]) {
        st = seg_fail (err, SEG_ERR_FORMAT,
            "%s: node '%s' (%s): output %d is %s", file, n->name,
            seg_op_name (n->op), j,
            t < 0 || t >= g->ntensors ? "out of range" : "already defined");
        goto out;
      }
      ready[t] = 1;
    }
  }
  for (int i = 0; i < g->noutputs; i++) {
    int t = g->outputs[i];
    if (t < 0 || t >= g->ntensors || !ready[t]) {
      st = seg_fail (err, SEG_ERR_FORMAT,
          "%s: graph output %d is never produced", file, i);
      goto out;
    }
  }
out:
  free (ready);
  return st;
}

void
seg_graph_compact (seg_graph *g)
{
  int n = 0;
  for (int i = 0; i < g->nnodes; i++) {
    if (g->nodes[i].dead)
      node_clear (&g->nodes[i]);
    else
      g->nodes[n++] = g->nodes[i];
  }
  g->nnodes = n;

  /* Renumber tensors still referred to. */
  int *map = malloc ((size_t) (g->ntensors + 1) * sizeof *map);
  if (!map)
    return; /* unreferenced tensors stay; harmless */
  for (int t = 0; t < g->ntensors; t++)
    map[t] = -1;
  for (int i = 0; i < g->ninputs; i++)
    map[g->inputs[i]] = 0;
  for (int i = 0; i < g->noutputs; i++)
    map[g->outputs[i]] = 0;
  for (int i = 0; i < g->nnodes; i++) {
    for (int j = 0; j < g->nodes[i].nin; j++)
      if (g->nodes[i].in[j] >= 0)
        map[g->nodes[i].in[j]] = 0;
    for (int j = 0; j < g->nodes[i].nout; j++)
      map[g->nodes[i].out[j]] = 0;
  }
  int m = 0;
  for (int t = 0; t < g->ntensors; t++) {
    if (map[t] < 0) {
      free (g->tensors[t].name);
      free (g->tensors[t].data);
      continue;
    }
    map[t] = m;
    g->tensors[m++] = g->tensors[t];
  }
  g->ntensors = m;
  for (int i = 0; i < g->ninputs; i++)
    g->inputs[i] = map[g->inputs[i]];
  for (int i = 0; i < g->noutputs; i++)
    g->outputs[i] = map[g->outputs[i]];
  for (int i = 0; i < g->nnodes; i++) {
    for (int j = 0; j < g->nodes[i].nin; j++)
      if (g->nodes[i].in[j] >= 0)
        g->nodes[i].in[j] = map[g->nodes[i].in[j]];
    for (int j = 0; j < g->nodes[i].nout; j++)
      g->nodes[i].out[j] = map[g->nodes[i].out[j]];
  }
  free (map);
}

float
seg_f16_to_f32 (uint16_t h)
{
  uint32_t sign = (uint32_t) (h & 0x8000) << 16;
  uint32_t exp = (h >> 10) & 0x1f;
  uint32_t man = h & 0x3ff;
  uint32_t bits;
  if (exp == 0) {
    if (man == 0) {
      bits = sign;
    } else { /* subnormal: renormalise */
      exp = 127 - 15 + 1;
      while (!(man & 0x400)) {
        man <<= 1;
        exp--;
      }
      man &= 0x3ff;
      bits = sign | (exp << 23) | (man << 13);
    }
  } else if (exp == 31) {
    bits = sign | 0x7f800000u | (man << 13);
  } else {
    bits = sign | ((exp + 127 - 15) << 23) | (man << 13);
  }
  float f;
  memcpy (&f, &bits, sizeof f);
  return f;
}
