/* A small protobuf writer and ONNX message builders for the ONNX importer
 * tests (test-onnx.c: op mappings; test-onnx-hostile.c: malformed and
 * hostile files), with the import helpers both use. Included by those two
 * files only: the functions are static inline so that each file compiles
 * the ones it uses, and CHECK counts into that file's `failures`. */
#ifndef SEG_TEST_ONNX_BUILDER_H
#define SEG_TEST_ONNX_BUILDER_H

#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "import/import.h"
#include "import/pb.h"
#include "segmenter/seg.h"

#define CHECK_CONTINUES
#include "../check.h"

#define FILE_NAME "t.onnx"

/* ---- a protobuf writer -------------------------------------------------- */

typedef struct
{
  uint8_t *p;
  size_t n, cap;
} buf;

#define END ((buf){NULL, 0, 0})

static inline void
b_raw (buf *b, const void *d, size_t n)
{
  if (b->n + n > b->cap) {
    size_t cap = b->cap ? b->cap : 64;
    while (cap < b->n + n)
      cap *= 2;
    uint8_t *p = realloc (b->p, cap);
    if (!p) {
      fprintf (stderr, "out of memory\n");
      exit (2);
    }
    b->p = p;
    b->cap = cap;
  }
  if (n)
    memcpy (b->p + b->n, d, n);
  b->n += n;
}

static inline void
b_varint (buf *b, uint64_t v)
{
  uint8_t tmp[10];
  int n = 0;
  do {
    tmp[n] = (uint8_t) (v & 0x7f);
    v >>= 7;
    if (v)
      tmp[n] |= 0x80;
    n++;
  } while (v);
  b_raw (b, tmp, (size_t) n);
}

static inline void
b_tag (buf *b, uint32_t field, int wire)
{
  b_varint (b, ((uint64_t) field << 3) | (unsigned) wire);
}

static inline void
b_int (buf *b, uint32_t field, int64_t v)
{
  b_tag (b, field, 0);
  b_varint (b, (uint64_t) v);
}

static inline void
b_fixed32 (buf *b, uint32_t field, uint32_t v)
{
  uint8_t t[4] = {(uint8_t) v, (uint8_t) (v >> 8), (uint8_t) (v >> 16),
      (uint8_t) (v >> 24)};
  b_tag (b, field, 5);
  b_raw (b, t, 4);
}

static inline void
b_float (buf *b, uint32_t field, float f)
{
  uint32_t u;
  memcpy (&u, &f, 4);
  b_fixed32 (b, field, u);
}

static inline void
b_bytes (buf *b, uint32_t field, const void *d, size_t n)
{
  b_tag (b, field, 2);
  b_varint (b, n);
  b_raw (b, d, n);
}

static inline void
b_str (buf *b, uint32_t field, const char *s)
{
  b_bytes (b, field, s, strlen (s));
}

/* Appends sub as a nested message and frees it. */
static inline void
b_msg (buf *b, uint32_t field, buf sub)
{
  b_bytes (b, field, sub.p, sub.n);
  free (sub.p);
}

static inline void
b_packed_varints (buf *b, uint32_t field, int n, const int64_t *v)
{
  buf run = END;
  for (int i = 0; i < n; i++)
    b_varint (&run, (uint64_t) v[i]);
  b_msg (b, field, run);
}

/* ---- ONNX messages ------------------------------------------------------ */

enum
{
  DT_FLOAT = 1,
  DT_UINT8 = 2,
  DT_INT8 = 3,
  DT_INT32 = 6,
  DT_INT64 = 7,
  DT_STRING = 8,
  DT_BOOL = 9,
  DT_FLOAT16 = 10,
  DT_DOUBLE = 11
};

static inline buf
tensor_head (const char *name, int dt, int rank, const int64_t *dims)
{
  buf t = END;
  if (rank)
    b_packed_varints (&t, 1, rank, dims);
  b_int (&t, 2, dt);
  if (name)
    b_str (&t, 8, name);
  return t;
}

static inline buf
tensor_raw (const char *name, int dt, int rank, const int64_t *dims,
    const void *data, size_t nbytes)
{
  buf t = tensor_head (name, dt, rank, dims);
  b_bytes (&t, 9, data, nbytes);
  return t;
}

static inline int64_t
elements (int rank, const int64_t *dims)
{
  int64_t n = 1;
  for (int i = 0; i < rank; i++)
    n *= dims[i];
  return n;
}

static inline buf
tf32 (const char *name, int rank, const int64_t *dims, const float *data)
{
  return tensor_raw (name, DT_FLOAT, rank, dims, data,
      (size_t) elements (rank, dims) * sizeof (float));
}

static inline buf
ti64 (const char *name, int rank, const int64_t *dims, const int64_t *data)
{
  return tensor_raw (name, DT_INT64, rank, dims, data,
      (size_t) elements (rank, dims) * sizeof (int64_t));
}

enum
{
  AT_FLOAT = 1,
  AT_INT = 2,
  AT_STRING = 3,
  AT_TENSOR = 4,
  AT_INTS = 7
};

static inline buf
attr_i (const char *name, int64_t v)
{
  buf a = END;
  b_str (&a, 1, name);
  b_int (&a, 3, v);
  b_int (&a, 20, AT_INT);
  return a;
}

static inline buf
attr_f (const char *name, float v)
{
  buf a = END;
  b_str (&a, 1, name);
  b_float (&a, 2, v);
  b_int (&a, 20, AT_FLOAT);
  return a;
}

static inline buf
attr_s (const char *name, const char *s)
{
  buf a = END;
  b_str (&a, 1, name);
  b_str (&a, 4, s);
  b_int (&a, 20, AT_STRING);
  return a;
}

static inline buf
attr_ints (const char *name, int n, const int64_t *v)
{
  buf a = END;
  b_str (&a, 1, name);
  b_packed_varints (&a, 8, n, v);
  b_int (&a, 20, AT_INTS);
  return a;
}

static inline buf
attr_t (const char *name, buf t)
{
  buf a = END;
  b_str (&a, 1, name);
  b_msg (&a, 5, t);
  b_int (&a, 20, AT_TENSOR);
  return a;
}

#define INTS(...)                                                           \
  (int) (sizeof ((int64_t[]){__VA_ARGS__}) / sizeof (int64_t)), (int64_t[]) \
  {                                                                         \
    __VA_ARGS__                                                             \
  }

/* Splits "a,,b" into names (empty ones included) and writes each. */
static inline void
b_names (buf *b, uint32_t field, const char *list)
{
  if (!list)
    return;
  const char *s = list;
  for (;;) {
    const char *e = strchr (s, ',');
    size_t n = e ? (size_t) (e - s) : strlen (s);
    b_bytes (b, field, s, n);
    if (!e)
      break;
    s = e + 1;
  }
}

/* node (op, name, "in1,in2", "out", attr..., END) */
static inline buf
node (const char *op, const char *name, const char *ins, const char *outs, ...)
{
  buf n = END;
  va_list ap;
  b_names (&n, 1, ins);
  b_names (&n, 2, outs);
  if (name)
    b_str (&n, 3, name);
  b_str (&n, 4, op);
  va_start (ap, outs);
  for (;;) {
    buf a = va_arg (ap, buf);
    if (!a.p)
      break;
    b_msg (&n, 5, a);
  }
  va_end (ap);
  return n;
}

/* ValueInfoProto; a dim of -1 is written as a dim_param. */
static inline buf
value_info (const char *name, int elem, int rank, const int64_t *dims)
{
  buf vi = END, type = END, tt = END, shape = END;
  for (int i = 0; i < rank; i++) {
    buf d = END;
    if (dims[i] >= 0)
      b_int (&d, 1, dims[i]);
    else
      b_str (&d, 2, "n");
    b_msg (&shape, 1, d);
  }
  b_int (&tt, 1, elem);
  if (rank >= 0)
    b_msg (&tt, 2, shape);
  else
    free (shape.p);
  b_msg (&type, 1, tt);
  b_str (&vi, 1, name);
  b_msg (&vi, 2, type);
  return vi;
}

static inline void
g_node (buf *g, buf n)
{
  b_msg (g, 1, n);
}

static inline void
g_init (buf *g, buf t)
{
  b_msg (g, 5, t);
}

static inline void
g_input (buf *g, const char *name, int rank, const int64_t *dims)
{
  b_msg (g, 11, value_info (name, DT_FLOAT, rank, dims));
}

static inline void
g_output (buf *g, const char *name, int rank, const int64_t *dims)
{
  b_msg (g, 12, value_info (name, DT_FLOAT, rank, dims));
}

/* Input x and output y, both 1x4x8x8. */
static inline void
g_std_io (buf *g)
{
  g_input (g, "x", 4, (int64_t[]){1, 4, 8, 8});
  g_output (g, "y", 4, (int64_t[]){1, 4, 8, 8});
}

static inline buf
model_domain (int opset, const char *domain, buf g)
{
  buf m = END, os = END;
  b_int (&m, 1, 7);
  b_str (&os, 1, domain);
  b_int (&os, 2, opset);
  b_msg (&m, 8, os);
  b_str (&m, 2, "test");
  b_msg (&m, 7, g);
  return m;
}

static inline buf
model (int opset, buf g)
{
  return model_domain (opset, "", g);
}

/* ---- import helpers ----------------------------------------------------- */

/* Copies into an exact-size allocation so that a read past the end is an
 * ASan error rather than a silent read of the writer's slack. */
static inline seg_status
import_bytes (const uint8_t *p, size_t n, seg_graph **g, seg_err *err)
{
  uint8_t *copy = malloc (n ? n : 1);
  if (!copy)
    exit (2);
  if (n)
    memcpy (copy, p, n);
  err->msg[0] = '\0';
  seg_status st = seg_import_onnx (copy, n, FILE_NAME, g, err);
  free (copy);
  return st;
}

static inline seg_graph *
expect_ok (buf m, int line)
{
  seg_graph *g = NULL;
  seg_err err;
  seg_status st = import_bytes (m.p, m.n, &g, &err);
  free (m.p);
  if (st != SEG_OK || !g) {
    fprintf (stderr, "%s:%d: import failed (%d): %s\n", __FILE__, line, st,
        err.msg);
    failures++;
    seg_graph_free (g);
    return NULL;
  }
  return g;
}

/* The status must match and the message must start with the file name
 * and contain each needle. */
static inline void
expect_fail (buf m, seg_status want, const char *n1, const char *n2, int line)
{
  seg_graph *g = (seg_graph *) 1;
  seg_err err;
  seg_status st = import_bytes (m.p, m.n, &g, &err);
  free (m.p);
  if (st != want || g != NULL
      || strncmp (err.msg, FILE_NAME ": ", strlen (FILE_NAME) + 2)
      || (n1 && !strstr (err.msg, n1)) || (n2 && !strstr (err.msg, n2))) {
    fprintf (stderr,
        "%s:%d: expected status %d with '%s' and '%s', got %d: '%s'\n",
        __FILE__, line, want, n1 ? n1 : "", n2 ? n2 : "", st, err.msg);
    failures++;
  }
  if (st == SEG_OK && g != (seg_graph *) 1)
    seg_graph_free (g);
}

#define OK(m) expect_ok ((m), __LINE__)
#define FAILS(m, st, n1, n2) expect_fail ((m), (st), (n1), (n2), __LINE__)

static inline int
count_op (const seg_graph *g, seg_op op)
{
  int n = 0;
  for (int i = 0; i < g->nnodes; i++)
    n += g->nodes[i].op == op;
  return n;
}

static inline const seg_node *
find_op (const seg_graph *g, seg_op op)
{
  for (int i = 0; i < g->nnodes; i++)
    if (g->nodes[i].op == op)
      return &g->nodes[i];
  return NULL;
}

static inline const seg_tensor *
tensor_named (const seg_graph *g, const char *name)
{
  for (int i = 0; i < g->ntensors; i++)
    if (!strcmp (g->tensors[i].name, name))
      return &g->tensors[i];
  return NULL;
}

static inline bool
dims_are (const seg_tensor *t, int rank, const int64_t *dims)
{
  if (!t || t->rank != rank)
    return false;
  for (int i = 0; i < rank; i++)
    if (t->dims[i] != dims[i])
      return false;
  return true;
}

/* ---- the small valid model ---------------------------------------------- */

/* x[1,3,2,3] -> Conv 1x1 (4 out) -> Relu -> Add [1,4,1,1] -> Mul [4,2,3]
 * -> Resize to (N, C) ++ [4, 6] computed from Shape. */
static inline buf
small_model (void)
{
  buf g = END;
  float w[12], bias[4] = {0.5f, -0.5f, 1, 2}, addc[4] = {1, 2, 3, 4}, mulc[24];
  for (int i = 0; i < 12; i++)
    w[i] = (float) i * 0.25f;
  for (int i = 0; i < 24; i++)
    mulc[i] = (float) i;
  g_input (&g, "x", 4, (int64_t[]){1, 3, 2, 3});
  g_init (&g, tf32 ("W", 4, (int64_t[]){4, 3, 1, 1}, w));
  g_init (&g, tf32 ("B", 1, (int64_t[]){4}, bias));
  g_init (&g, tf32 ("A", 4, (int64_t[]){1, 4, 1, 1}, addc));
  g_node (&g,
      node ("Conv", "conv", "x,W,B", "c",
          attr_ints ("kernel_shape", INTS (1, 1)),
          attr_ints ("strides", INTS (1, 1)),
          attr_ints ("pads", INTS (0, 0, 0, 0)), END));
  g_node (&g, node ("Relu", "relu", "c", "r", END));
  g_node (&g, node ("Add", "add", "r,A", "a", END));
  g_node (&g,
      node ("Constant", "mconst", NULL, "M",
          attr_t ("value", tf32 (NULL, 3, (int64_t[]){4, 2, 3}, mulc)), END));
  g_node (&g, node ("Mul", "mul", "a,M", "m", END));
  g_node (&g, node ("Shape", "shape", "m", "s", END));
  g_node (&g,
      node ("Constant", "c0", NULL, "st", attr_ints ("value_ints", INTS (0)),
          END));
  g_node (&g,
      node ("Constant", "c1", NULL, "en",
          attr_t ("value", ti64 (NULL, 1, (int64_t[]){1}, (int64_t[]){2})),
          END));
  g_node (&g, node ("Slice", "slice", "s,st,en", "nc", END));
  g_node (&g,
      node ("Constant", "c2", NULL, "hw", attr_ints ("value_ints", INTS (4, 6)),
          END));
  g_node (&g,
      node ("Concat", "concat", "nc,hw", "sizes", attr_i ("axis", 0), END));
  g_node (&g,
      node ("Resize", "resize", "m,,,sizes", "y", attr_s ("mode", "linear"),
          attr_s ("coordinate_transformation_mode", "pytorch_half_pixel"),
          END));
  g_output (&g, "y", 4, (int64_t[]){1, 4, 4, 6});
  return model (13, g);
}

/* All-ones weights; main fills them. */
static float ones[256];

#endif
