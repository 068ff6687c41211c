/* Tests of the ONNX importer on byte streams built here with a small
 * protobuf writer: op mappings and their attributes, the NCHW -> NHWC
 * rewrite, and hostile files (truncated, bit-flipped, wrong wire types,
 * absurd sizes), each error checked for its status and for a message that
 * names the file and the field. */
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

#define FILE_NAME "t.onnx"


#define CHECK_CONTINUES
#include "../check.h"

/* ---- a protobuf writer -------------------------------------------------- */

typedef struct {
  uint8_t *p;
  size_t n, cap;
} buf;

#define END ((buf) { NULL, 0, 0 })

static void
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

static void
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

static void
b_tag (buf *b, uint32_t field, int wire)
{
  b_varint (b, ((uint64_t) field << 3) | (unsigned) wire);
}

static void
b_int (buf *b, uint32_t field, int64_t v)
{
  b_tag (b, field, 0);
  b_varint (b, (uint64_t) v);
}

static void
b_fixed32 (buf *b, uint32_t field, uint32_t v)
{
  uint8_t t[4] = { (uint8_t) v, (uint8_t) (v >> 8), (uint8_t) (v >> 16), (uint8_t) (v >> 24) };
  b_tag (b, field, 5);
  b_raw (b, t, 4);
}

static void
b_float (buf *b, uint32_t field, float f)
{
  uint32_t u;
  memcpy (&u, &f, 4);
  b_fixed32 (b, field, u);
}

static void
b_bytes (buf *b, uint32_t field, const void *d, size_t n)
{
  b_tag (b, field, 2);
  b_varint (b, n);
  b_raw (b, d, n);
}

static void
b_str (buf *b, uint32_t field, const char *s)
{
  b_bytes (b, field, s, strlen (s));
}

/* Appends sub as a nested message and frees it. */
static void
b_msg (buf *b, uint32_t field, buf sub)
{
  b_bytes (b, field, sub.p, sub.n);
  free (sub.p);
}

static void
b_packed_varints (buf *b, uint32_t field, int n, const int64_t *v)
{
  buf run = END;
  for (int i = 0; i < n; i++)
    b_varint (&run, (uint64_t) v[i]);
  b_msg (b, field, run);
}

/* ---- ONNX messages ------------------------------------------------------ */

enum { DT_FLOAT = 1, DT_UINT8 = 2, DT_INT8 = 3, DT_INT32 = 6, DT_INT64 = 7,
       DT_STRING = 8, DT_BOOL = 9, DT_FLOAT16 = 10, DT_DOUBLE = 11 };

static buf
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

static buf
tensor_raw (const char *name, int dt, int rank, const int64_t *dims,
    const void *data, size_t nbytes)
{
  buf t = tensor_head (name, dt, rank, dims);
  b_bytes (&t, 9, data, nbytes);
  return t;
}

static int64_t
elements (int rank, const int64_t *dims)
{
  int64_t n = 1;
  for (int i = 0; i < rank; i++)
    n *= dims[i];
  return n;
}

static buf
tf32 (const char *name, int rank, const int64_t *dims, const float *data)
{
  return tensor_raw (name, DT_FLOAT, rank, dims, data,
      (size_t) elements (rank, dims) * sizeof (float));
}

static buf
ti64 (const char *name, int rank, const int64_t *dims, const int64_t *data)
{
  return tensor_raw (name, DT_INT64, rank, dims, data,
      (size_t) elements (rank, dims) * sizeof (int64_t));
}

enum { AT_FLOAT = 1, AT_INT = 2, AT_STRING = 3, AT_TENSOR = 4, AT_INTS = 7 };

static buf
attr_i (const char *name, int64_t v)
{
  buf a = END;
  b_str (&a, 1, name);
  b_int (&a, 3, v);
  b_int (&a, 20, AT_INT);
  return a;
}

static buf
attr_f (const char *name, float v)
{
  buf a = END;
  b_str (&a, 1, name);
  b_float (&a, 2, v);
  b_int (&a, 20, AT_FLOAT);
  return a;
}

static buf
attr_s (const char *name, const char *s)
{
  buf a = END;
  b_str (&a, 1, name);
  b_str (&a, 4, s);
  b_int (&a, 20, AT_STRING);
  return a;
}

static buf
attr_ints (const char *name, int n, const int64_t *v)
{
  buf a = END;
  b_str (&a, 1, name);
  b_packed_varints (&a, 8, n, v);
  b_int (&a, 20, AT_INTS);
  return a;
}

static buf
attr_t (const char *name, buf t)
{
  buf a = END;
  b_str (&a, 1, name);
  b_msg (&a, 5, t);
  b_int (&a, 20, AT_TENSOR);
  return a;
}

#define INTS(...) (int) (sizeof ((int64_t[]) { __VA_ARGS__ }) / sizeof (int64_t)), \
    (int64_t[]) { __VA_ARGS__ }

/* Splits "a,,b" into names (empty ones included) and writes each. */
static void
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
static buf
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
static buf
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

static void
g_node (buf *g, buf n)
{
  b_msg (g, 1, n);
}

static void
g_init (buf *g, buf t)
{
  b_msg (g, 5, t);
}

static void
g_input (buf *g, const char *name, int rank, const int64_t *dims)
{
  b_msg (g, 11, value_info (name, DT_FLOAT, rank, dims));
}

static void
g_output (buf *g, const char *name, int rank, const int64_t *dims)
{
  b_msg (g, 12, value_info (name, DT_FLOAT, rank, dims));
}

/* Input x and output y, both 1x4x8x8. */
static void
g_std_io (buf *g)
{
  g_input (g, "x", 4, (int64_t[]) { 1, 4, 8, 8 });
  g_output (g, "y", 4, (int64_t[]) { 1, 4, 8, 8 });
}

static buf
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

static buf
model (int opset, buf g)
{
  return model_domain (opset, "", g);
}

/* ---- import helpers ----------------------------------------------------- */

/* Copies into an exact-size allocation so that a read past the end is an
 * ASan error rather than a silent read of the writer's slack. */
static seg_status
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

static seg_graph *
expect_ok (buf m, int line)
{
  seg_graph *g = NULL;
  seg_err err;
  seg_status st = import_bytes (m.p, m.n, &g, &err);
  free (m.p);
  if (st != SEG_OK || !g) {
    fprintf (stderr, "%s:%d: import failed (%d): %s\n", __FILE__, line, st, err.msg);
    failures++;
    seg_graph_free (g);
    return NULL;
  }
  return g;
}

/* The status must match and the message must start with the file name
 * and contain each needle. */
static void
expect_fail (buf m, seg_status want, const char *n1, const char *n2, int line)
{
  seg_graph *g = (seg_graph *) 1;
  seg_err err;
  seg_status st = import_bytes (m.p, m.n, &g, &err);
  free (m.p);
  if (st != want || g != NULL || strncmp (err.msg, FILE_NAME ": ", strlen (FILE_NAME) + 2)
      || (n1 && !strstr (err.msg, n1)) || (n2 && !strstr (err.msg, n2))) {
    fprintf (stderr, "%s:%d: expected status %d with '%s' and '%s', got %d: '%s'\n",
        __FILE__, line, want, n1 ? n1 : "", n2 ? n2 : "", st, err.msg);
    failures++;
  }
  if (st == SEG_OK && g != (seg_graph *) 1)
    seg_graph_free (g);
}

#define OK(m) expect_ok ((m), __LINE__)
#define FAILS(m, st, n1, n2) expect_fail ((m), (st), (n1), (n2), __LINE__)

static int
count_op (const seg_graph *g, seg_op op)
{
  int n = 0;
  for (int i = 0; i < g->nnodes; i++)
    n += g->nodes[i].op == op;
  return n;
}

static const seg_node *
find_op (const seg_graph *g, seg_op op)
{
  for (int i = 0; i < g->nnodes; i++)
    if (g->nodes[i].op == op)
      return &g->nodes[i];
  return NULL;
}

static const seg_tensor *
tensor_named (const seg_graph *g, const char *name)
{
  for (int i = 0; i < g->ntensors; i++)
    if (!strcmp (g->tensors[i].name, name))
      return &g->tensors[i];
  return NULL;
}

static bool
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
static buf
small_model (void)
{
  buf g = END;
  float w[12], bias[4] = { 0.5f, -0.5f, 1, 2 }, addc[4] = { 1, 2, 3, 4 }, mulc[24];
  for (int i = 0; i < 12; i++)
    w[i] = (float) i * 0.25f;
  for (int i = 0; i < 24; i++)
    mulc[i] = (float) i;
  g_input (&g, "x", 4, (int64_t[]) { 1, 3, 2, 3 });
  g_init (&g, tf32 ("W", 4, (int64_t[]) { 4, 3, 1, 1 }, w));
  g_init (&g, tf32 ("B", 1, (int64_t[]) { 4 }, bias));
  g_init (&g, tf32 ("A", 4, (int64_t[]) { 1, 4, 1, 1 }, addc));
  g_node (&g, node ("Conv", "conv", "x,W,B", "c", attr_ints ("kernel_shape", INTS (1, 1)),
      attr_ints ("strides", INTS (1, 1)), attr_ints ("pads", INTS (0, 0, 0, 0)), END));
  g_node (&g, node ("Relu", "relu", "c", "r", END));
  g_node (&g, node ("Add", "add", "r,A", "a", END));
  g_node (&g, node ("Constant", "mconst", NULL, "M",
      attr_t ("value", tf32 (NULL, 3, (int64_t[]) { 4, 2, 3 }, mulc)), END));
  g_node (&g, node ("Mul", "mul", "a,M", "m", END));
  g_node (&g, node ("Shape", "shape", "m", "s", END));
  g_node (&g, node ("Constant", "c0", NULL, "st", attr_ints ("value_ints", INTS (0)), END));
  g_node (&g, node ("Constant", "c1", NULL, "en",
      attr_t ("value", ti64 (NULL, 1, (int64_t[]) { 1 }, (int64_t[]) { 2 })), END));
  g_node (&g, node ("Slice", "slice", "s,st,en", "nc", END));
  g_node (&g, node ("Constant", "c2", NULL, "hw", attr_ints ("value_ints", INTS (4, 6)), END));
  g_node (&g, node ("Concat", "concat", "nc,hw", "sizes", attr_i ("axis", 0), END));
  g_node (&g, node ("Resize", "resize", "m,,,sizes", "y", attr_s ("mode", "linear"),
      attr_s ("coordinate_transformation_mode", "pytorch_half_pixel"), END));
  g_output (&g, "y", 4, (int64_t[]) { 1, 4, 4, 6 });
  return model (13, g);
}

static void
test_small_model (void)
{
  seg_graph *g = OK (small_model ());
  if (!g)
    return;
  static const seg_op want[] = {
    SEG_OP_CONV, SEG_OP_RELU, SEG_OP_ADD, SEG_OP_MUL, SEG_OP_SHAPE, SEG_OP_SLICE,
    SEG_OP_CONCAT, SEG_OP_RESIZE,
  };
  CHECK (g->nnodes == 8, "%d nodes", g->nnodes);
  for (int i = 0; i < g->nnodes && i < 8; i++)
    CHECK (g->nodes[i].op == want[i], "node %d is %s", i, seg_op_name (g->nodes[i].op));
  CHECK (g->layout == SEG_LAYOUT_NCHW, "layout %d", g->layout);
  CHECK (g->ninputs == 1 && g->noutputs == 1, "%d inputs %d outputs", g->ninputs, g->noutputs);
  CHECK (dims_are (&g->tensors[g->inputs[0]], 4, (int64_t[]) { 1, 2, 3, 3 }),
      "input dims not NHWC");
  CHECK (dims_are (&g->tensors[g->outputs[0]], 4, (int64_t[]) { 1, 4, 6, 4 }),
      "output dims not NHWC");
  CHECK (!strcmp (g->tensors[g->inputs[0]].name, "x"), "input name %s",
      g->tensors[g->inputs[0]].name);

  const seg_node *conv = &g->nodes[0];
  CHECK (!strcmp (conv->name, "conv"), "conv name %s", conv->name);
  CHECK (conv->nin == 3 && conv->in[0] == g->inputs[0], "conv inputs");
  CHECK (conv->a.wlayout == SEG_WL_OIHW, "wlayout %d", conv->a.wlayout);
  CHECK (conv->a.kernel[0] == 1 && conv->a.kernel[1] == 1, "kernel");
  CHECK (conv->a.groups == 1 && conv->a.pad_mode == SEG_PAD_EXPLICIT, "groups/pad mode");
  const seg_tensor *w = &g->tensors[conv->in[1]];
  CHECK (dims_are (w, 4, (int64_t[]) { 4, 3, 1, 1 }) && w->dtype == SEG_DT_F32, "weight dims");
  /* Weights stay in file order. */
  CHECK (w->data && ((float *) w->data)[5] == 1.25f && w->nbytes == 48, "weight data");
  const seg_tensor *b = &g->tensors[conv->in[2]];
  CHECK (b->data && ((float *) b->data)[1] == -0.5f, "bias data");

  const seg_node *add = &g->nodes[2];
  CHECK (add->in[0] == g->nodes[1].out[0], "add input 0");
  const seg_tensor *ac = &g->tensors[add->in[1]];
  CHECK (dims_are (ac, 4, (int64_t[]) { 1, 1, 1, 4 }), "add constant not NHWC");
  CHECK (ac->data && ((float *) ac->data)[3] == 4, "add constant data");

  /* [4,2,3] CHW -> [1,2,3,4] HWC: element (h, w, c) = c*6 + h*3 + w. */
  const seg_tensor *mc = &g->tensors[g->nodes[3].in[1]];
  CHECK (dims_are (mc, 4, (int64_t[]) { 1, 2, 3, 4 }), "mul constant not NHWC");
  bool permuted = mc->data != NULL && mc->nbytes == 24 * sizeof (float);
  for (int h = 0; permuted && h < 2; h++)
    for (int x = 0; x < 3; x++)
      for (int c = 0; c < 4; c++)
        permuted = permuted
            && ((float *) mc->data)[(h * 3 + x) * 4 + c] == (float) (c * 6 + h * 3 + x);
  CHECK (permuted, "mul constant data not permuted NCHW -> NHWC");

  const seg_node *shape = &g->nodes[4];
  CHECK (shape->a.nchw && !shape->a.has_end, "shape attrs");
  CHECK (shape->in[0] == g->nodes[3].out[0], "shape reads the mul");
  const seg_node *slice = &g->nodes[5];
  CHECK (slice->nin == 3 && g->tensors[slice->in[1]].data && g->tensors[slice->in[2]].data,
      "slice starts/ends are constants");
  CHECK (g->tensors[slice->in[2]].dtype == SEG_DT_I64
      && ((int64_t *) g->tensors[slice->in[2]].data)[0] == 2, "slice end value");
  const seg_node *concat = &g->nodes[6];
  CHECK (concat->a.axis == 0 && concat->nin == 2, "concat");
  const seg_tensor *hw = &g->tensors[concat->in[1]];
  CHECK (dims_are (hw, 1, (int64_t[]) { 2 }) && ((int64_t *) hw->data)[1] == 6, "hw const");
  const seg_node *rs = &g->nodes[7];
  CHECK (rs->nin == 4 && rs->in[1] == -1 && rs->in[2] == -1 && rs->in[3] == concat->out[0],
      "resize inputs %d %d %d", rs->in[1], rs->in[2], rs->in[3]);
  CHECK (rs->a.coord == SEG_COORD_PYTORCH_HALF_PIXEL && rs->a.nchw, "resize attrs");
  CHECK (rs->out[0] == g->outputs[0], "resize is the output");
  seg_graph_free (g);
}

/* ---- op mappings -------------------------------------------------------- */

static float ones[256];

/* y = op(x) on the standard 1x4x8x8 input. */
static seg_graph *
unary_graph (int opset, buf n, int line)
{
  buf g = END;
  g_std_io (&g);
  g_node (&g, n);
  return expect_ok (model (opset, g), line);
}

static void
test_conv_variants (void)
{
  /* depthwise, SAME_UPPER, dilated, no bias */
  buf g = END;
  g_std_io (&g);
  g_init (&g, tf32 ("W", 4, (int64_t[]) { 4, 1, 3, 3 }, ones));
  g_node (&g, node ("Conv", NULL, "x,W", "y", attr_i ("group", 4),
      attr_s ("auto_pad", "SAME_UPPER"), attr_ints ("dilations", INTS (2, 2)), END));
  seg_graph *gr = OK (model (13, g));
  if (gr) {
    const seg_node *c = find_op (gr, SEG_OP_CONV);
    CHECK (c && c->nin == 2 && c->a.groups == 4 && c->a.pad_mode == SEG_PAD_SAME_UPPER
        && c->a.dilation[0] == 2 && c->a.dilation[1] == 2 && c->a.kernel[0] == 3
        && c->a.stride[0] == 1, "depthwise conv attrs");
    CHECK (c && !strcmp (c->name, "Conv#0"), "synthesised name %s", c ? c->name : "");
    seg_graph_free (gr);
  }

  /* bias given as an empty name; VALID, asymmetric pads/strides */
  g = END;
  g_std_io (&g);
  g_init (&g, tf32 ("W", 4, (int64_t[]) { 4, 4, 1, 3 }, ones));
  g_node (&g, node ("Conv", "c", "x,W,", "y", attr_ints ("strides", INTS (1, 2)),
      attr_ints ("pads", INTS (1, 2, 3, 4)), END));
  gr = OK (model (11, g));
  if (gr) {
    const seg_node *c = find_op (gr, SEG_OP_CONV);
    CHECK (c && c->nin == 3 && c->in[2] == -1, "empty bias -> -1");
    CHECK (c && c->a.pads[0] == 1 && c->a.pads[1] == 2 && c->a.pads[2] == 3
        && c->a.pads[3] == 4 && c->a.stride[0] == 1 && c->a.stride[1] == 2
        && c->a.kernel[0] == 1 && c->a.kernel[1] == 3, "pads/strides/kernel");
    seg_graph_free (gr);
  }

  /* weights shared through Identity, as torch writes them */
  g = END;
  g_std_io (&g);
  g_init (&g, tf32 ("W0", 4, (int64_t[]) { 4, 4, 1, 1 }, ones));
  g_node (&g, node ("Identity", "id", "W0", "W", END));
  g_node (&g, node ("Conv", "c", "x,W", "y", END));
  gr = OK (model (13, g));
  if (gr) {
    const seg_node *c = find_op (gr, SEG_OP_CONV);
    CHECK (count_op (gr, SEG_OP_IDENTITY) == 1, "identity kept for the passes");
    CHECK (c && c->a.kernel[0] == 1 && c->a.kernel[1] == 1, "kernel through identity");
    seg_graph_free (gr);
  }

  static const struct {
    const char *attr;
    int64_t v;
    seg_status st;
    const char *needle;
  } bad[] = {
    { "group", 0, SEG_ERR_FORMAT, "'group' = 0" },
    { "group", 3, SEG_ERR_FORMAT, "'group' = 3" },
    { "group", -1, SEG_ERR_FORMAT, "'group' = -1" },
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    g = END;
    g_std_io (&g);
    g_init (&g, tf32 ("W", 4, (int64_t[]) { 4, 4, 1, 1 }, ones));
    g_node (&g, node ("Conv", "cv", "x,W", "y", attr_i (bad[i].attr, bad[i].v), END));
    FAILS (model (13, g), bad[i].st, "node 'cv' (Conv)", bad[i].needle);
  }

  g = END;
  g_std_io (&g);
  g_init (&g, tf32 ("W", 4, (int64_t[]) { 4, 4, 1, 1 }, ones));
  g_node (&g, node ("Conv", "cv", "x,W", "y", attr_ints ("kernel_shape", INTS (3, 3)), END));
  FAILS (model (13, g), SEG_ERR_FORMAT, "node 'cv'", "kernel_shape");

  g = END;
  g_std_io (&g);
  g_init (&g, tf32 ("W", 4, (int64_t[]) { 4, 4, 1, 1 }, ones));
  g_node (&g, node ("Conv", "cv", "x,W", "y", attr_ints ("pads", INTS (1, 1)), END));
  FAILS (model (13, g), SEG_ERR_FORMAT, "node 'cv'", "'pads' has 2 values");

  g = END;
  g_std_io (&g);
  g_init (&g, tf32 ("W", 4, (int64_t[]) { 4, 4, 1, 1 }, ones));
  g_node (&g, node ("Conv", "cv", "x,W", "y", attr_ints ("strides", INTS (0, 1)), END));
  FAILS (model (13, g), SEG_ERR_FORMAT, "node 'cv'", "'strides'[0] = 0");

  g = END;
  g_std_io (&g);
  g_init (&g, tf32 ("W", 4, (int64_t[]) { 4, 4, 1, 1 }, ones));
  g_node (&g, node ("Conv", "cv", "x,W", "y", attr_s ("auto_pad", "SIDEWAYS"), END));
  FAILS (model (13, g), SEG_ERR_FORMAT, "node 'cv'", "auto_pad");

  /* Conv1d */
  g = END;
  g_std_io (&g);
  g_init (&g, tf32 ("W", 3, (int64_t[]) { 4, 4, 1 }, ones));
  g_node (&g, node ("Conv", "cv", "x,W", "y", END));
  FAILS (model (13, g), SEG_ERR_UNSUPPORTED, "node 'cv'", "2-D");

  /* weight computed from the input */
  g = END;
  g_std_io (&g);
  g_node (&g, node ("Conv", "cv", "x,x", "y", END));
  FAILS (model (13, g), SEG_ERR_UNSUPPORTED, "node 'cv'", "weight 'x' must be a constant");

  /* ConvTranspose: IOHW, output_padding */
  g = END;
  g_std_io (&g);
  g_init (&g, tf32 ("W", 4, (int64_t[]) { 4, 2, 2, 2 }, ones));
  g_init (&g, tf32 ("B", 1, (int64_t[]) { 4 }, ones));
  g_node (&g, node ("ConvTranspose", "ct", "x,W,B", "y", attr_ints ("strides", INTS (2, 2)),
      attr_ints ("output_padding", INTS (1, 0)), attr_i ("group", 2), END));
  gr = OK (model (13, g));
  if (gr) {
    const seg_node *c = find_op (gr, SEG_OP_CONV_TRANSPOSE);
    CHECK (c && c->a.wlayout == SEG_WL_IOHW && c->a.kernel[0] == 2 && c->a.stride[1] == 2
        && c->a.output_padding[0] == 1 && c->a.output_padding[1] == 0 && c->a.groups == 2
        && c->nin == 3, "conv transpose attrs");
    seg_graph_free (gr);
  }
  g = END;
  g_std_io (&g);
  g_init (&g, tf32 ("W", 4, (int64_t[]) { 4, 2, 2, 2 }, ones));
  g_node (&g, node ("ConvTranspose", "ct", "x,W", "y",
      attr_ints ("output_shape", INTS (16, 16)), END));
  FAILS (model (13, g), SEG_ERR_UNSUPPORTED, "node 'ct'", "output_shape");
}

static void
test_elementwise (void)
{
  static const struct {
    const char *op;
    seg_op want;
  } bin[] = {
    { "Add", SEG_OP_ADD }, { "Sub", SEG_OP_SUB }, { "Mul", SEG_OP_MUL }, { "Div", SEG_OP_DIV },
  };
  for (size_t i = 0; i < 4; i++) {
    /* scalar constant stays as it is */
    buf g = END;
    g_std_io (&g);
    g_init (&g, tf32 ("k", 0, NULL, (float[]) { 3 }));
    g_node (&g, node (bin[i].op, "b", "x,k", "y", END));
    seg_graph *gr = OK (model (13, g));
    if (gr) {
      const seg_node *n = find_op (gr, bin[i].want);
      CHECK (n && gr->tensors[n->in[1]].rank == 0, "%s scalar", bin[i].op);
      seg_graph_free (gr);
    }
  }

  /* [C,1,1] -> [1,1,1,C]; activation on the right */
  buf g = END;
  g_std_io (&g);
  g_init (&g, tf32 ("k", 3, (int64_t[]) { 4, 1, 1 }, (float[]) { 1, 2, 3, 4 }));
  g_node (&g, node ("Mul", "m", "k,x", "y", END));
  seg_graph *gr = OK (model (13, g));
  if (gr) {
    const seg_node *n = find_op (gr, SEG_OP_MUL);
    CHECK (n && n->in[1] == gr->inputs[0], "activation side kept");
    CHECK (n && dims_are (&gr->tensors[n->in[0]], 4, (int64_t[]) { 1, 1, 1, 4 }),
        "[C,1,1] constant rewritten");
    seg_graph_free (gr);
  }

  /* The same constant used twice is rewritten once. */
  g = END;
  g_std_io (&g);
  g_init (&g, tf32 ("k", 4, (int64_t[]) { 1, 4, 1, 1 }, ones));
  g_node (&g, node ("Mul", "m1", "x,k", "t", END));
  g_node (&g, node ("Add", "a1", "t,k", "y", END));
  gr = OK (model (13, g));
  if (gr) {
    const seg_node *m = find_op (gr, SEG_OP_MUL), *a = find_op (gr, SEG_OP_ADD);
    CHECK (m && a && m->in[1] == a->in[1], "one NHWC copy per constant");
    seg_graph_free (gr);
  }

  /* one-element rank-1 constant is fine */
  g = END;
  g_std_io (&g);
  g_init (&g, tf32 ("k", 1, (int64_t[]) { 1 }, ones));
  g_node (&g, node ("Add", "a", "x,k", "y", END));
  gr = OK (model (13, g));
  seg_graph_free (gr);

  /* two activations */
  g = END;
  g_std_io (&g);
  g_node (&g, node ("Sigmoid", "s", "x", "t", END));
  g_node (&g, node ("Mul", "m", "x,t", "y", END));
  gr = OK (model (13, g));
  if (gr) {
    CHECK (count_op (gr, SEG_OP_SIGMOID) == 1 && count_op (gr, SEG_OP_MUL) == 1, "act*act");
    seg_graph_free (gr);
  }

  /* [W] would broadcast against NCHW's W axis, which NHWC does not have */
  g = END;
  g_std_io (&g);
  g_init (&g, tf32 ("row", 1, (int64_t[]) { 8 }, ones));
  g_node (&g, node ("Add", "a", "x,row", "y", END));
  FAILS (model (13, g), SEG_ERR_UNSUPPORTED, "node 'a' (Add)", "'row'");
  g = END;
  g_std_io (&g);
  g_init (&g, tf32 ("hw", 2, (int64_t[]) { 8, 8 }, ones));
  g_node (&g, node ("Mul", "m", "hw,x", "y", END));
  FAILS (model (13, g), SEG_ERR_UNSUPPORTED, "node 'm' (Mul)", "rank-2 constant 'hw'");

  /* a computed rank-1 value against an activation */
  g = END;
  g_std_io (&g);
  g_node (&g, node ("Shape", "s", "x", "shp", END));
  g_node (&g, node ("Cast", "cf", "shp", "shpf", attr_i ("to", DT_FLOAT), END));
  g_node (&g, node ("Add", "a", "x,shpf", "y", END));
  FAILS (model (13, g), SEG_ERR_UNSUPPORTED, "node 'a' (Add)", "computed");

  /* unary ops */
  static const struct {
    const char *op;
    seg_op want;
  } un[] = {
    { "Relu", SEG_OP_RELU }, { "Sigmoid", SEG_OP_SIGMOID }, { "HardSwish", SEG_OP_HARDSWISH },
    { "GlobalAveragePool", SEG_OP_GLOBAL_AVG_POOL }, { "Identity", SEG_OP_IDENTITY },
  };
  for (size_t i = 0; i < sizeof un / sizeof un[0]; i++) {
    gr = unary_graph (14, node (un[i].op, "u", "x", "y", END), __LINE__);
    if (gr) {
      CHECK (gr->nnodes == 1 && gr->nodes[0].op == un[i].want
          && gr->nodes[0].in[0] == gr->inputs[0] && gr->nodes[0].out[0] == gr->outputs[0],
          "%s mapping", un[i].op);
      seg_graph_free (gr);
    }
  }

  gr = unary_graph (13, node ("HardSigmoid", "h", "x", "y", END), __LINE__);
  if (gr) {
    CHECK (gr->nodes[0].a.alpha == 0.2f && gr->nodes[0].a.beta == 0.5f, "hardsigmoid defaults");
    seg_graph_free (gr);
  }
  gr = unary_graph (13, node ("HardSigmoid", "h", "x", "y", attr_f ("alpha", 1.0f / 6),
      attr_f ("beta", 0.25f), END), __LINE__);
  if (gr) {
    CHECK (gr->nodes[0].a.alpha == 1.0f / 6 && gr->nodes[0].a.beta == 0.25f, "hardsigmoid attrs");
    seg_graph_free (gr);
  }
  /* an INT where a FLOAT belongs */
  g = END;
  g_std_io (&g);
  g_node (&g, node ("HardSigmoid", "h", "x", "y", attr_i ("alpha", 1), END));
  FAILS (model (13, g), SEG_ERR_FORMAT, "node 'h'", "'alpha' is INT, expected FLOAT");

  /* Clip: constant min/max inputs become attributes */
  g = END;
  g_std_io (&g);
  g_init (&g, tf32 ("lo", 0, NULL, (float[]) { 0 }));
  g_node (&g, node ("Constant", "k6", NULL, "hi", attr_f ("value_float", 6), END));
  g_node (&g, node ("Clip", "clip", "x,lo,hi", "y", END));
  gr = OK (model (11, g));
  if (gr) {
    const seg_node *n = find_op (gr, SEG_OP_CLIP);
    CHECK (n && n->nin == 1 && n->a.alpha == 0 && n->a.beta == 6, "clip 0..6");
    seg_graph_free (gr);
  }
  g = END;
  g_std_io (&g);
  g_init (&g, tf32 ("hi", 1, (int64_t[]) { 1 }, (float[]) { 2.5f }));
  g_node (&g, node ("Clip", "clip", "x,,hi", "y", END));
  gr = OK (model (13, g));
  if (gr) {
    const seg_node *n = find_op (gr, SEG_OP_CLIP);
    CHECK (n && isinf (n->a.alpha) && n->a.alpha < 0 && n->a.beta == 2.5f, "clip max only");
    seg_graph_free (gr);
  }
  gr = unary_graph (13, node ("Clip", "clip", "x", "y", END), __LINE__);
  if (gr) {
    CHECK (isinf (gr->nodes[0].a.alpha) && isinf (gr->nodes[0].a.beta)
        && gr->nodes[0].a.beta > 0, "clip unbounded");
    seg_graph_free (gr);
  }
  g = END;
  g_std_io (&g);
  g_init (&g, tf32 ("lo", 1, (int64_t[]) { 2 }, ones));
  g_node (&g, node ("Clip", "clip", "x,lo", "y", END));
  FAILS (model (13, g), SEG_ERR_FORMAT, "node 'clip'", "one element");
}

static void
test_pool_resize_bn (void)
{
  seg_graph *gr = unary_graph (13, node ("ReduceMean", "rm", "x", "y",
      attr_ints ("axes", INTS (2, 3)), attr_i ("keepdims", 1), END), __LINE__);
  if (gr) {
    CHECK (gr->nnodes == 1 && gr->nodes[0].op == SEG_OP_GLOBAL_AVG_POOL, "reduce mean 2,3");
    seg_graph_free (gr);
  }
  gr = unary_graph (13, node ("ReduceMean", "rm", "x", "y", attr_ints ("axes", INTS (-1, -2)),
      END), __LINE__);
  if (gr) {
    CHECK (gr->nodes[0].op == SEG_OP_GLOBAL_AVG_POOL, "reduce mean -1,-2");
    seg_graph_free (gr);
  }
  buf g = END;
  g_std_io (&g);
  g_node (&g, node ("ReduceMean", "rm", "x", "y", attr_ints ("axes", INTS (1)), END));
  FAILS (model (13, g), SEG_ERR_UNSUPPORTED, "node 'rm' (ReduceMean)", "axes");
  g = END;
  g_std_io (&g);
  g_node (&g, node ("ReduceMean", "rm", "x", "y", attr_ints ("axes", INTS (2, 3)),
      attr_i ("keepdims", 0), END));
  FAILS (model (13, g), SEG_ERR_UNSUPPORTED, "node 'rm'", "keepdims");

  /* Resize modes */
  static const struct {
    const char *mode;
    seg_coord_mode want;
  } coords[] = {
    { "half_pixel", SEG_COORD_HALF_PIXEL }, { "pytorch_half_pixel", SEG_COORD_PYTORCH_HALF_PIXEL },
    { "align_corners", SEG_COORD_ALIGN_CORNERS }, { "asymmetric", SEG_COORD_ASYMMETRIC },
  };
  for (size_t i = 0; i < 4; i++) {
    g = END;
    g_std_io (&g);
    g_init (&g, tf32 ("roi", 1, (int64_t[]) { 0 }, NULL));
    g_init (&g, tf32 ("scales", 1, (int64_t[]) { 4 }, (float[]) { 1, 1, 2, 2 }));
    g_node (&g, node ("Resize", "rs", "x,roi,scales", "y", attr_s ("mode", "linear"),
        attr_s ("coordinate_transformation_mode", coords[i].mode), END));
    gr = OK (model (11, g));
    if (gr) {
      const seg_node *n = find_op (gr, SEG_OP_RESIZE);
      CHECK (n && n->a.coord == coords[i].want && n->a.nchw && n->nin == 3, "coord %s",
          coords[i].mode);
      /* an empty constant is still a constant */
      CHECK (n && gr->tensors[n->in[1]].data && gr->tensors[n->in[1]].nbytes == 0, "empty roi");
      CHECK (n && ((float *) gr->tensors[n->in[2]].data)[3] == 2, "scales");
      seg_graph_free (gr);
    }
  }
  g = END;
  g_std_io (&g);
  g_node (&g, node ("Resize", "rs", "x", "y", attr_s ("mode", "linear"), END));
  gr = OK (model (13, g));
  if (gr) {
    CHECK (gr->nodes[0].a.coord == SEG_COORD_HALF_PIXEL, "default coord");
    seg_graph_free (gr);
  }
  g = END;
  g_std_io (&g);
  g_node (&g, node ("Resize", "rs", "x", "y", attr_s ("mode", "nearest"), END));
  FAILS (model (13, g), SEG_ERR_UNSUPPORTED, "node 'rs' (Resize)", "'mode' = 'nearest'");
  g = END;
  g_std_io (&g);
  g_node (&g, node ("Resize", "rs", "x", "y", END));
  FAILS (model (13, g), SEG_ERR_UNSUPPORTED, "node 'rs'", "mode");
  g = END;
  g_std_io (&g);
  g_node (&g, node ("Resize", "rs", "x", "y", attr_s ("mode", "linear"),
      attr_s ("coordinate_transformation_mode", "tf_crop_and_resize"), END));
  FAILS (model (13, g), SEG_ERR_UNSUPPORTED, "node 'rs'", "tf_crop_and_resize");
  /* sizes computed from activation values */
  g = END;
  g_std_io (&g);
  g_node (&g, node ("Resize", "rs", "x,,,x", "y", attr_s ("mode", "linear"), END));
  FAILS (model (13, g), SEG_ERR_UNSUPPORTED, "node 'rs'", "input 3");

  /* BatchNormalization */
  g = END;
  g_std_io (&g);
  g_init (&g, tf32 ("s", 1, (int64_t[]) { 4 }, ones));
  g_init (&g, tf32 ("b", 1, (int64_t[]) { 4 }, ones));
  g_init (&g, tf32 ("m", 1, (int64_t[]) { 4 }, ones));
  g_init (&g, tf32 ("v", 1, (int64_t[]) { 4 }, ones));
  g_node (&g, node ("BatchNormalization", "bn", "x,s,b,m,v", "y", attr_f ("epsilon", 1e-3f),
      attr_f ("momentum", 0.9f), END));
  gr = OK (model (13, g));
  if (gr) {
    const seg_node *n = find_op (gr, SEG_OP_BATCHNORM);
    CHECK (n && n->nin == 5 && n->a.alpha == 1e-3f, "batchnorm");
    for (int i = 1; n && i < 5; i++)
      CHECK (gr->tensors[n->in[i]].data != NULL, "batchnorm input %d constant", i);
    seg_graph_free (gr);
  }
  g = END;
  g_std_io (&g);
  g_init (&g, tf32 ("s", 1, (int64_t[]) { 4 }, ones));
  g_node (&g, node ("BatchNormalization", "bn", "x,s,s,s,s", "y", END));
  gr = OK (model (15, g));
  if (gr) {
    CHECK (gr->nodes[0].a.alpha == 1e-5f, "batchnorm default epsilon");
    seg_graph_free (gr);
  }
  g = END;
  g_std_io (&g);
  g_init (&g, tf32 ("s", 1, (int64_t[]) { 4 }, ones));
  g_node (&g, node ("BatchNormalization", "bn", "x,s,s,s,s", "y", attr_i ("training_mode", 1),
      END));
  FAILS (model (15, g), SEG_ERR_UNSUPPORTED, "node 'bn'", "training_mode");
  g = END;
  g_std_io (&g);
  g_init (&g, tf32 ("s", 1, (int64_t[]) { 4 }, ones));
  g_node (&g, node ("BatchNormalization", "bn", "x,s,s,s,s", "y,mean_out,var_out", END));
  FAILS (model (13, g), SEG_ERR_UNSUPPORTED, "node 'bn'", "3 outputs");
  g = END;
  g_std_io (&g);
  g_init (&g, tf32 ("s", 1, (int64_t[]) { 4 }, ones));
  g_node (&g, node ("BatchNormalization", "bn", "x,s,s,s", "y", END));
  FAILS (model (13, g), SEG_ERR_FORMAT, "node 'bn'", "4 inputs");
}

/* Shape arithmetic: x -> Shape -> <chain> -> "t" -> Resize sizes -> y. */
static buf
shape_chain (int opset, buf *nodes, int n)
{
  buf g = END;
  g_std_io (&g);
  g_node (&g, node ("Shape", "shape", "x", "s", END));
  for (int i = 0; i < n; i++)
    g_node (&g, nodes[i]);
  g_node (&g, node ("Resize", "rs", "x,,,t", "y", attr_s ("mode", "linear"), END));
  return model (opset, g);
}

static void
test_shape_ops (void)
{
  /* Shape start/end (opset 15) */
  buf g = END;
  g_std_io (&g);
  g_node (&g, node ("Shape", "sh", "x", "s", attr_i ("start", 2), attr_i ("end", -1), END));
  g_node (&g, node ("Resize", "rs", "x,,,s", "y", attr_s ("mode", "linear"), END));
  seg_graph *gr = OK (model (15, g));
  if (gr) {
    const seg_node *n = find_op (gr, SEG_OP_SHAPE);
    CHECK (n && n->a.start == 2 && n->a.end == -1 && n->a.has_end && n->a.nchw, "shape attrs");
    seg_graph_free (gr);
  }

  /* Gather + Unsqueeze (opset 13: axes input) + Concat + Cast, as torch
   * writes dynamic sizes */
  buf chain[] = {
    node ("Constant", "k2", NULL, "i2", attr_t ("value", ti64 (NULL, 0, NULL, (int64_t[]) { 2 })),
        END),
    node ("Gather", "ga", "s,i2", "h", attr_i ("axis", 0), END),
    node ("Constant", "k0", NULL, "ax", attr_ints ("value_ints", INTS (0)), END),
    node ("Unsqueeze", "un", "h,ax", "h1", END),
    node ("Cast", "ca", "h1", "h1f", attr_i ("to", DT_FLOAT), END),
    node ("Floor", "fl", "h1f", "h1r", END),
    node ("Ceil", "ce", "h1r", "h1c", END),
    node ("Cast", "cb", "h1c", "h1i", attr_i ("to", DT_INT64), END),
    node ("Concat", "cc", "h1i,h1i", "hh", attr_i ("axis", -1), END),
    node ("Constant", "k01", NULL, "nc", attr_ints ("value_ints", INTS (1, 4)), END),
    node ("Concat", "cd", "nc,hh", "t", attr_i ("axis", 0), END),
  };
  gr = OK (shape_chain (13, chain, (int) (sizeof chain / sizeof chain[0])));
  if (gr) {
    const seg_node *ga = find_op (gr, SEG_OP_GATHER), *un = find_op (gr, SEG_OP_UNSQUEEZE);
    CHECK (ga && ga->a.axis == 0 && gr->tensors[ga->out[0]].rank == 0, "gather");
    CHECK (un && un->nin == 2 && gr->tensors[un->out[0]].rank == 1, "unsqueeze opset 13");
    const seg_node *ca = find_op (gr, SEG_OP_CAST);
    CHECK (ca && ca->a.to == SEG_DT_F32 && gr->tensors[ca->out[0]].dtype == SEG_DT_F32, "cast");
    CHECK (count_op (gr, SEG_OP_FLOOR) == 1 && count_op (gr, SEG_OP_CEIL) == 1, "floor/ceil");
    const seg_node *cc = find_op (gr, SEG_OP_CONCAT);
    CHECK (cc && cc->a.axis == -1, "concat axis");
    seg_graph_free (gr);
  }

  /* Unsqueeze/Squeeze with axes attributes (opset 11), Slice, Reshape */
  buf chain11[] = {
    node ("Constant", "k", NULL, "st", attr_ints ("value_ints", INTS (0)), END),
    node ("Slice", "sl", "s,st,st,st,st", "s1", END),
    node ("Unsqueeze", "un", "s1", "s2", attr_ints ("axes", INTS (0, 2)), END),
    node ("Squeeze", "sq", "s2", "s3", attr_ints ("axes", INTS (0)), END),
    node ("Constant", "kshape", NULL, "shp", attr_ints ("value_ints", INTS (2, 2)), END),
    node ("Reshape", "re", "s,shp", "s4", END),
    node ("Constant", "kflat", NULL, "flat", attr_ints ("value_ints", INTS (-1)), END),
    node ("Reshape", "re2", "s4,flat", "t", END),
  };
  gr = OK (shape_chain (11, chain11, (int) (sizeof chain11 / sizeof chain11[0])));
  if (gr) {
    const seg_node *un = find_op (gr, SEG_OP_UNSQUEEZE), *sq = find_op (gr, SEG_OP_SQUEEZE);
    CHECK (un && un->nin == 1 && un->a.nints == 2 && un->a.ints[1] == 2
        && gr->tensors[un->out[0]].rank == 3, "unsqueeze opset 11");
    CHECK (sq && sq->a.nints == 1 && sq->a.ints[0] == 0 && gr->tensors[sq->out[0]].rank == 2,
        "squeeze opset 11");
    const seg_node *sl = find_op (gr, SEG_OP_SLICE);
    CHECK (sl && sl->nin == 5, "slice inputs");
    const seg_node *re = find_op (gr, SEG_OP_RESHAPE);
    CHECK (re && gr->tensors[re->out[0]].rank == 2, "reshape rank");
    seg_graph_free (gr);
  }

  /* ConstantOfShape */
  buf chain_cos[] = {
    node ("ConstantOfShape", "cos", "s", "t",
        attr_t ("value", ti64 (NULL, 1, (int64_t[]) { 1 }, (int64_t[]) { 7 })), END),
  };
  gr = OK (shape_chain (13, chain_cos, 1));
  if (gr) {
    const seg_node *n = find_op (gr, SEG_OP_CONSTANT_OF_SHAPE);
    CHECK (n && n->a.to == SEG_DT_I64 && n->a.value == 7 && gr->tensors[n->out[0]].rank == 4,
        "constant of shape");
    seg_graph_free (gr);
  }
  buf chain_cos0[] = { node ("ConstantOfShape", "cos", "s", "t", END) };
  gr = OK (shape_chain (13, chain_cos0, 1));
  if (gr) {
    const seg_node *n = find_op (gr, SEG_OP_CONSTANT_OF_SHAPE);
    CHECK (n && n->a.to == SEG_DT_F32 && n->a.value == 0, "constant of shape default");
    seg_graph_free (gr);
  }

  /* Cast of stored f16 weights becomes a DEQUANTIZE the passes fold */
  buf g16 = END;
  uint16_t h[144];
  for (int i = 0; i < 144; i++)
    h[i] = 0x3c00; /* 1.0 */
  g_std_io (&g16);
  g_init (&g16, tensor_raw ("W16", DT_FLOAT16, 4, (int64_t[]) { 4, 4, 3, 3 }, h, sizeof h));
  g_node (&g16, node ("Cast", "up", "W16", "W", attr_i ("to", DT_FLOAT), END));
  g_node (&g16, node ("Conv", "cv", "x,W", "y", attr_ints ("kernel_shape", INTS (3, 3)), END));
  gr = OK (model (13, g16));
  if (gr) {
    const seg_node *dq = find_op (gr, SEG_OP_DEQUANTIZE);
    CHECK (dq && gr->tensors[dq->in[0]].dtype == SEG_DT_F16 && dq->a.to == SEG_DT_F32,
        "f16 cast -> dequantize");
    CHECK (count_op (gr, SEG_OP_CAST) == 0, "no cast node left");
    seg_graph_free (gr);
  }

  /* Casts of small stored values are done at import: Clip bounds written
   * as Cast(Constant) (torch without constant folding), truncation toward
   * zero; an out-of-range cast is left to a node. */
  buf gc = END;
  g_std_io (&gc);
  g_node (&gc, node ("Constant", "k0", NULL, "i0", attr_i ("value_int", 0), END));
  g_node (&gc, node ("Constant", "k6", NULL, "i6", attr_i ("value_int", 6), END));
  g_node (&gc, node ("Cast", "c0", "i0", "f0", attr_i ("to", DT_FLOAT), END));
  g_node (&gc, node ("Cast", "c6", "i6", "f6", attr_i ("to", DT_FLOAT), END));
  g_node (&gc, node ("Clip", "clip", "x,f0,f6", "t", END));
  g_node (&gc, node ("Constant", "kf", NULL, "fv", attr_ints ("value_ints", INTS (1, 4, 8, 8)),
      END));
  g_node (&gc, node ("Cast", "cf", "fv", "ff", attr_i ("to", DT_FLOAT), END));
  g_node (&gc, node ("Constant", "kn", NULL, "neg", attr_f ("value_float", -2.75f), END));
  g_node (&gc, node ("Cast", "ci", "neg", "negi", attr_i ("to", DT_INT64), END));
  g_node (&gc, node ("Constant", "kb", NULL, "big", attr_f ("value_float", 300), END));
  g_node (&gc, node ("Cast", "cu", "big", "bigu", attr_i ("to", DT_UINT8), END));
  g_node (&gc, node ("Resize", "rs", "t,,ff,", "y", attr_s ("mode", "linear"), END));
  gr = OK (model (13, gc));
  if (gr) {
    const seg_node *cl = find_op (gr, SEG_OP_CLIP);
    CHECK (cl && cl->a.alpha == 0 && cl->a.beta == 6, "clip bounds through Cast");
    const seg_tensor *ff = tensor_named (gr, "ff");
    CHECK (ff && ff->dtype == SEG_DT_F32 && dims_are (ff, 1, (int64_t[]) { 4 })
        && ((float *) ff->data)[2] == 8.0f, "folded cast of a vector");
    const seg_tensor *ni = tensor_named (gr, "negi");
    CHECK (!ni, "unused folded constant dropped");
    CHECK (count_op (gr, SEG_OP_CAST) == 1 && find_op (gr, SEG_OP_CAST)->a.to == SEG_DT_U8,
        "out-of-range cast left as a node");
    seg_graph_free (gr);
  }
  /* the folded value itself */
  buf gi = END;
  g_std_io (&gi);
  g_node (&gi, node ("Constant", "kn", NULL, "neg", attr_f ("value_float", -2.75f), END));
  g_node (&gi, node ("Cast", "ci", "neg", "negi", attr_i ("to", DT_INT64), END));
  g_node (&gi, node ("Add", "a", "x,negi", "y", END));
  gr = OK (model (13, gi));
  if (gr) {
    const seg_tensor *ni = tensor_named (gr, "negi");
    CHECK (ni && ni->dtype == SEG_DT_I64 && *(int64_t *) ni->data == -2, "cast truncates");
    seg_graph_free (gr);
  }

  /* errors */
  g = END;
  g_std_io (&g);
  g_node (&g, node ("Cast", "ca", "x", "t", attr_i ("to", DT_FLOAT), END));
  g_node (&g, node ("Relu", "r", "t", "y", END));
  FAILS (model (13, g), SEG_ERR_UNSUPPORTED, "node 'ca' (Cast)", "activation");

  buf bad_cast[] = { node ("Cast", "ca", "s", "t", attr_i ("to", DT_STRING), END) };
  FAILS (shape_chain (13, bad_cast, 1), SEG_ERR_UNSUPPORTED, "node 'ca'", "STRING");
  buf no_to[] = { node ("Cast", "ca", "s", "t", END) };
  FAILS (shape_chain (13, no_to, 1), SEG_ERR_FORMAT, "node 'ca'", "'to' is missing");
  buf bad_axis[] = { node ("Gather", "ga", "s,s", "t", attr_i ("axis", 1), END) };
  FAILS (shape_chain (13, bad_axis, 1), SEG_ERR_FORMAT, "node 'ga' (Gather)", "'axis' = 1");
  buf no_axis[] = { node ("Concat", "cc", "s,s", "t", END) };
  FAILS (shape_chain (13, no_axis, 1), SEG_ERR_FORMAT, "node 'cc'", "'axis' is missing");
  buf no_axes[] = { node ("Unsqueeze", "un", "s", "t", END) };
  FAILS (shape_chain (13, no_axes, 1), SEG_ERR_UNSUPPORTED, "node 'un'", "axes");
  buf sq_no_axes[] = { node ("Squeeze", "sq", "s", "t", END) };
  FAILS (shape_chain (11, sq_no_axes, 1), SEG_ERR_UNSUPPORTED, "node 'sq'", "axes");
  buf reshape_unknown[] = {
    node ("Constant", "k", NULL, "st", attr_ints ("value_ints", INTS (0)), END),
    node ("Slice", "sl", "s,st,st", "s1", END),
    node ("Reshape", "re", "s,s1", "t", END),
  };
  FAILS (shape_chain (13, reshape_unknown, 3), SEG_ERR_UNSUPPORTED, "node 're'", "length");
  g = END;
  g_std_io (&g);
  g_node (&g, node ("Constant", "kshape", NULL, "shp", attr_ints ("value_ints", INTS (1, 256)),
      END));
  g_node (&g, node ("Reshape", "re", "x,shp", "y", END));
  FAILS (model (13, g), SEG_ERR_UNSUPPORTED, "node 're' (Reshape)", "activation");

  /* Constant value forms */
  buf consts[] = {
    node ("Constant", "kf", NULL, "f", attr_f ("value_float", 1.5f), END),
    node ("Constant", "ki", NULL, "i", attr_i ("value_int", -3), END),
    node ("Constant", "kfs", NULL, "fs", attr_ints ("value_ints", INTS (5, 6, 7)), END),
    node ("Concat", "cc", "fs,fs", "t", attr_i ("axis", 0), END),
  };
  buf cg = END;
  g_std_io (&cg);
  g_node (&cg, node ("Shape", "shape", "x", "s", END));
  for (int i = 0; i < 4; i++)
    g_node (&cg, consts[i]);
  g_node (&cg, node ("Mul", "m", "x,f", "xf", END));
  g_node (&cg, node ("Add", "a", "xf,i", "xi", END));
  g_node (&cg, node ("Resize", "rs", "xi,,,t", "y", attr_s ("mode", "linear"), END));
  gr = OK (model (13, cg));
  if (gr) {
    const seg_tensor *f = tensor_named (gr, "f"), *i = tensor_named (gr, "i"),
        *fs = tensor_named (gr, "fs");
    CHECK (f && f->rank == 0 && f->dtype == SEG_DT_F32 && *(float *) f->data == 1.5f,
        "value_float");
    CHECK (i && i->rank == 0 && i->dtype == SEG_DT_I64 && *(int64_t *) i->data == -3,
        "value_int");
    CHECK (fs && dims_are (fs, 1, (int64_t[]) { 3 }) && ((int64_t *) fs->data)[2] == 7,
        "value_ints");
    CHECK (count_op (gr, SEG_OP_CONCAT) == 1 && gr->nnodes == 5, "constants make no nodes");
    seg_graph_free (gr);
  }
  g = END;
  g_std_io (&g);
  g_node (&g, node ("Constant", "k2", NULL, "k", attr_f ("value_float", 1),
      attr_i ("value_int", 1), END));
  g_node (&g, node ("Add", "a", "x,k", "y", END));
  FAILS (model (13, g), SEG_ERR_FORMAT, "node 'k2' (Constant)", "exactly one");
  g = END;
  g_std_io (&g);
  g_node (&g, node ("Constant", "ks", NULL, "k", attr_s ("value_string", "hi"), END));
  g_node (&g, node ("Add", "a", "x,k", "y", END));
  FAILS (model (13, g), SEG_ERR_UNSUPPORTED, "node 'ks'", "value_string");
}

/* ---- model-level errors -------------------------------------------------- */

static buf
relu_graph (void)
{
  buf g = END;
  g_std_io (&g);
  g_node (&g, node ("Relu", "r", "x", "y", END));
  return g;
}

static void
test_opsets_and_ops (void)
{
  FAILS (model (10, relu_graph ()), SEG_ERR_UNSUPPORTED, "opset", "opset 10");
  FAILS (model (18, relu_graph ()), SEG_ERR_UNSUPPORTED, "opset_import[0]", "opset 18");
  for (int v = 11; v <= 17; v++) {
    seg_graph *g = OK (model (v, relu_graph ()));
    seg_graph_free (g);
  }
  seg_graph_free (OK (model_domain (13, "ai.onnx", relu_graph ())));
  FAILS (model_domain (13, "ai.onnx.ml", relu_graph ()), SEG_ERR_FORMAT, "opset_import",
      "default domain");

  /* a second, non-default opset import is fine until a node uses it */
  buf g = relu_graph (), m = END, os = END, os2 = END;
  b_str (&os, 1, "");
  b_int (&os, 2, 13);
  b_str (&os2, 1, "com.microsoft");
  b_int (&os2, 2, 1);
  b_msg (&m, 8, os);
  b_msg (&m, 8, os2);
  b_msg (&m, 7, g);
  seg_graph_free (OK (m));

  g = END;
  g_std_io (&g);
  g_node (&g, node ("Frobnicate", "n0", "x", "y", END));
  FAILS (model (13, g), SEG_ERR_UNSUPPORTED,
      FILE_NAME ": node 'n0' uses op 'Frobnicate' which segd does not run", NULL);
  g = END;
  g_std_io (&g);
  g_node (&g, node ("Frobnicate", NULL, "x", "y", END));
  FAILS (model (13, g), SEG_ERR_UNSUPPORTED, "node 'Frobnicate#0'", "Frobnicate");

  g = END;
  g_std_io (&g);
  buf n = node ("FusedConv", "fc", "x", "y", END);
  b_str (&n, 7, "com.microsoft");
  g_node (&g, n);
  FAILS (model (13, g), SEG_ERR_UNSUPPORTED, "node 'fc'", "domain 'com.microsoft'");

  /* no graph, no opset */
  buf empty = END;
  FAILS (empty, SEG_ERR_FORMAT, "model.graph", NULL);
  m = END;
  b_msg (&m, 7, relu_graph ());
  FAILS (m, SEG_ERR_FORMAT, "opset_import", NULL);
  m = END;
  os = END;
  b_str (&os, 1, "");
  b_int (&os, 2, 13);
  b_msg (&m, 8, os);
  os = END;
  b_int (&os, 2, 12);
  b_msg (&m, 8, os);
  b_msg (&m, 7, relu_graph ());
  FAILS (m, SEG_ERR_FORMAT, "opset_import[1]", "twice");
}

static void
test_graph_structure (void)
{
  /* a missing initializer: the name is undefined */
  buf g = END;
  g_std_io (&g);
  g_node (&g, node ("Conv", "cv", "x,W", "y", END));
  FAILS (model (13, g), SEG_ERR_FORMAT, "node 'cv' (Conv)", "input 'W'");

  /* nodes out of order */
  g = END;
  g_std_io (&g);
  g_node (&g, node ("Relu", "second", "t", "y", END));
  g_node (&g, node ("Relu", "first", "x", "t", END));
  FAILS (model (13, g), SEG_ERR_FORMAT, "node 'second'", "input 't'");

  /* duplicate outputs */
  g = END;
  g_std_io (&g);
  g_node (&g, node ("Relu", "a", "x", "t", END));
  g_node (&g, node ("Sigmoid", "b", "x", "t", END));
  g_node (&g, node ("Relu", "c", "t", "y", END));
  FAILS (model (13, g), SEG_ERR_FORMAT, "node 'b' (Sigmoid)", "output 't' is already defined");
  g = END;
  g_std_io (&g);
  g_init (&g, tf32 ("k", 0, NULL, ones));
  g_node (&g, node ("Relu", "a", "x", "k", END));
  g_node (&g, node ("Relu", "c", "k", "y", END));
  FAILS (model (13, g), SEG_ERR_FORMAT, "node 'a'", "output 'k' is already defined");
  g = END;
  g_std_io (&g);
  g_init (&g, tf32 ("k", 0, NULL, ones));
  g_init (&g, tf32 ("k", 0, NULL, ones));
  g_node (&g, node ("Relu", "r", "x", "y", END));
  FAILS (model (13, g), SEG_ERR_FORMAT, "graph.initializer[1]", "'k' is already defined");
  g = END;
  g_std_io (&g);
  g_node (&g, node ("Relu", "r", "x", "", END));
  FAILS (model (13, g), SEG_ERR_FORMAT, "node 'r'", "no name");
  g = END;
  g_std_io (&g);
  g_node (&g, node ("Relu", "r", "", "y", END));
  FAILS (model (13, g), SEG_ERR_FORMAT, "node 'r'", "input 0");

  /* inputs */
  g = END;
  g_std_io (&g);
  g_input (&g, "x2", 4, (int64_t[]) { 1, 4, 8, 8 });
  g_node (&g, node ("Add", "a", "x,x2", "y", END));
  FAILS (model (13, g), SEG_ERR_FORMAT, "graph.input", "2 inputs");
  g = END;
  g_output (&g, "y", 4, (int64_t[]) { 1, 1, 1, 1 });
  g_init (&g, tf32 ("y", 4, (int64_t[]) { 1, 1, 1, 1 }, ones));
  FAILS (model (13, g), SEG_ERR_FORMAT, "graph.input", "0 inputs");
  /* an initializer listed as an input is a constant, not an input */
  g = END;
  g_std_io (&g);
  g_input (&g, "k", 0, NULL);
  g_init (&g, tf32 ("k", 0, NULL, ones));
  g_node (&g, node ("Mul", "m", "x,k", "y", END));
  seg_graph *gr = OK (model (13, g));
  if (gr) {
    CHECK (gr->ninputs == 1 && !strcmp (gr->tensors[gr->inputs[0]].name, "x"), "real input");
    seg_graph_free (gr);
  }
  g = END;
  g_input (&g, "x", 4, (int64_t[]) { 1, 3, -1, -1 });
  g_output (&g, "y", 4, (int64_t[]) { 1, 3, -1, -1 });
  g_node (&g, node ("Relu", "r", "x", "y", END));
  gr = OK (model (13, g));
  if (gr) {
    CHECK (dims_are (&gr->tensors[gr->inputs[0]], 4, (int64_t[]) { 1, -1, -1, 3 }),
        "symbolic dims -> -1");
    seg_graph_free (gr);
  }
  g = END;
  b_msg (&g, 11, value_info ("x", DT_INT64, 4, (int64_t[]) { 1, 3, 8, 8 }));
  g_output (&g, "y", 4, (int64_t[]) { 1, 3, 8, 8 });
  g_node (&g, node ("Relu", "r", "x", "y", END));
  FAILS (model (13, g), SEG_ERR_UNSUPPORTED, "graph.input[0] 'x'", "INT64");
  g = END;
  g_input (&g, "x", 3, (int64_t[]) { 3, 8, 8 });
  g_output (&g, "y", 3, (int64_t[]) { 3, 8, 8 });
  g_node (&g, node ("Relu", "r", "x", "y", END));
  FAILS (model (13, g), SEG_ERR_UNSUPPORTED, "graph.input[0] 'x'", "rank 4");
  g = END;
  g_input (&g, "x", -1, NULL);
  g_output (&g, "y", 4, (int64_t[]) { 1, 3, 8, 8 });
  g_node (&g, node ("Relu", "r", "x", "y", END));
  FAILS (model (13, g), SEG_ERR_UNSUPPORTED, "graph.input[0] 'x'", "no shape");

  /* outputs */
  g = END;
  g_std_io (&g);
  g_output (&g, "z", 4, (int64_t[]) { 1, 4, 8, 8 });
  g_node (&g, node ("Relu", "r", "x", "y", END));
  g_node (&g, node ("Relu", "r2", "x", "z", END));
  FAILS (model (13, g), SEG_ERR_FORMAT, "graph.output", "2 outputs");
  g = END;
  g_input (&g, "x", 4, (int64_t[]) { 1, 4, 8, 8 });
  g_node (&g, node ("Relu", "r", "x", "y", END));
  FAILS (model (13, g), SEG_ERR_FORMAT, "graph.output", "0 outputs");
  g = END;
  g_std_io (&g);
  FAILS (model (13, g), SEG_ERR_FORMAT, "graph.output[0] 'y'", "never produced");
  g = END;
  g_std_io (&g);
  g_init (&g, tf32 ("y", 4, (int64_t[]) { 1, 1, 1, 1 }, ones));
  FAILS (model (13, g), SEG_ERR_UNSUPPORTED, "graph.output[0] 'y'", "graph input");
  g = END;
  g_input (&g, "x", 4, (int64_t[]) { 1, 4, 8, 8 });
  g_output (&g, "y", 2, (int64_t[]) { 1, 4 });
  g_node (&g, node ("Relu", "r", "x", "y", END));
  FAILS (model (13, g), SEG_ERR_FORMAT, "graph.output[0] 'y'", "rank 2");
}

/* ---- tensors ------------------------------------------------------------- */

/* A graph whose Add reads initializer tensor `t` (named "k"). */
static buf
with_init (buf t)
{
  buf g = END;
  g_std_io (&g);
  g_init (&g, t);
  g_node (&g, node ("Add", "a", "x,k", "y", END));
  return model (13, g);
}

static void
test_tensors (void)
{
  /* float_data, packed and unpacked, mixed */
  buf t = tensor_head ("k", DT_FLOAT, 1, (int64_t[]) { 1 });
  b_float (&t, 4, 2.5f);
  seg_graph *gr = OK (with_init (t));
  if (gr) {
    const seg_tensor *k = tensor_named (gr, "k");
    CHECK (k && k->dtype == SEG_DT_F32 && *(float *) k->data == 2.5f, "unpacked float_data");
    seg_graph_free (gr);
  }
  t = tensor_head ("k", DT_FLOAT, 3, (int64_t[]) { 2, 1, 1 });
  b_float (&t, 4, 1.0f);
  b_bytes (&t, 4, (float[]) { 7.0f }, 4);
  gr = OK (with_init (t));
  if (gr) {
    /* rank 3 against an activation: only the NHWC copy is left */
    const seg_tensor *k = tensor_named (gr, "k:nhwc");
    CHECK (k && dims_are (k, 4, (int64_t[]) { 1, 1, 1, 2 }) && k->nbytes == 8
        && ((float *) k->data)[0] == 1.0f && ((float *) k->data)[1] == 7.0f,
        "mixed float_data");
    seg_graph_free (gr);
  }
  /* int64_data, int32_data for int8 and f16, double_data, bool raw */
  buf g = END;
  g_std_io (&g);
  t = tensor_head ("i64", DT_INT64, 1, (int64_t[]) { 3 });
  b_packed_varints (&t, 7, 3, (int64_t[]) { -1, 0, INT64_MAX });
  g_init (&g, t);
  t = tensor_head ("i8", DT_INT8, 1, (int64_t[]) { 2 });
  b_packed_varints (&t, 5, 2, (int64_t[]) { -128, 127 });
  g_init (&g, t);
  t = tensor_head ("h", DT_FLOAT16, 0, NULL);
  b_packed_varints (&t, 5, 1, (int64_t[]) { 0x3e00 });
  g_init (&g, t);
  t = tensor_head ("d", DT_DOUBLE, 1, (int64_t[]) { 1 });
  double dv = 0.125;
  b_bytes (&t, 10, &dv, 8);
  g_init (&g, t);
  g_init (&g, tensor_raw ("bl", DT_BOOL, 1, (int64_t[]) { 2 }, (uint8_t[]) { 1, 0 }, 2));
  g_init (&g, tensor_raw ("u8", DT_UINT8, 1, (int64_t[]) { 1 }, (uint8_t[]) { 200 }, 1));
  g_init (&g, tensor_raw ("i32", DT_INT32, 1, (int64_t[]) { 1 }, (int32_t[]) { -5 }, 4));
  g_node (&g, node ("Concat", "c1", "i64,i64", "cc", attr_i ("axis", 0), END));
  g_node (&g, node ("Concat", "c2", "i8,i8", "c8", attr_i ("axis", 0), END));
  g_node (&g, node ("Concat", "c3", "d,d", "cd", attr_i ("axis", 0), END));
  g_node (&g, node ("Concat", "c4", "bl,bl", "cb", attr_i ("axis", 0), END));
  g_node (&g, node ("Concat", "c5", "u8,u8", "cu", attr_i ("axis", 0), END));
  g_node (&g, node ("Concat", "c6", "i32,i32", "ci", attr_i ("axis", 0), END));
  g_node (&g, node ("Add", "a", "x,h", "y", END));
  gr = OK (model (13, g));
  if (gr) {
    const seg_tensor *x;
    x = tensor_named (gr, "i64");
    CHECK (x && x->dtype == SEG_DT_I64 && ((int64_t *) x->data)[0] == -1
        && ((int64_t *) x->data)[2] == INT64_MAX, "int64_data");
    x = tensor_named (gr, "i8");
    CHECK (x && x->dtype == SEG_DT_I8 && ((int8_t *) x->data)[0] == -128
        && ((int8_t *) x->data)[1] == 127, "int8 via int32_data");
    x = tensor_named (gr, "h");
    CHECK (x && x->dtype == SEG_DT_F16 && *(uint16_t *) x->data == 0x3e00, "f16 via int32_data");
    x = tensor_named (gr, "d");
    CHECK (x && x->dtype == SEG_DT_F64 && *(double *) x->data == 0.125, "double_data");
    x = tensor_named (gr, "bl");
    CHECK (x && x->dtype == SEG_DT_BOOL && ((uint8_t *) x->data)[0] == 1, "bool");
    x = tensor_named (gr, "u8");
    CHECK (x && x->dtype == SEG_DT_U8 && *(uint8_t *) x->data == 200, "uint8");
    x = tensor_named (gr, "i32");
    CHECK (x && x->dtype == SEG_DT_I32 && *(int32_t *) x->data == -5, "int32");
    seg_graph_free (gr);
  }

  /* errors */
  FAILS (with_init (tensor_raw ("k", DT_FLOAT, 1, (int64_t[]) { 4 }, ones, 12)),
      SEG_ERR_FORMAT, "tensor 'k'", "raw_data has 12 bytes, expected 16");
  FAILS (with_init (tensor_raw ("k", DT_FLOAT, 1, (int64_t[]) { 4 }, ones, 20)),
      SEG_ERR_FORMAT, "tensor 'k'", "raw_data has 20 bytes, expected 16");
  t = tensor_head ("k", DT_FLOAT, 1, (int64_t[]) { 3 });
  b_packed_varints (&t, 7, 1, (int64_t[]) { 1 });
  FAILS (with_init (t), SEG_ERR_FORMAT, "tensor 'k'", "int64_data");
  t = tensor_head ("k", DT_FLOAT, 1, (int64_t[]) { 3 });
  b_float (&t, 4, 1.0f);
  FAILS (with_init (t), SEG_ERR_FORMAT, "tensor 'k'", "float_data has 1 values, expected 3");
  t = tensor_head ("k", DT_FLOAT, 1, (int64_t[]) { 1 });
  b_float (&t, 4, 1.0f);
  b_bytes (&t, 9, ones, 4);
  FAILS (with_init (t), SEG_ERR_FORMAT, "tensor 'k'", "float_data");
  t = tensor_head ("k", DT_FLOAT, 1, (int64_t[]) { 2 });
  b_bytes (&t, 4, ones, 5);
  FAILS (with_init (t), SEG_ERR_FORMAT, "tensor 'k'", "float_data: packed run");
  t = tensor_head ("k", DT_INT8, 1, (int64_t[]) { 1 });
  b_packed_varints (&t, 5, 1, (int64_t[]) { 300 });
  FAILS (with_init (t), SEG_ERR_FORMAT, "tensor 'k'", "int32_data[0] = 300");
  t = tensor_head ("k", DT_FLOAT, 1, (int64_t[]) { 2 });
  FAILS (with_init (t), SEG_ERR_FORMAT, "tensor 'k'", "float_data has 0 values");
  t = tensor_head ("k", DT_FLOAT, 1, (int64_t[]) { 1 });
  b_float (&t, 4, 1.0f);
  b_str (&t, 6, "text");
  FAILS (with_init (t), SEG_ERR_FORMAT, "tensor 'k'", "string_data");
  FAILS (with_init (tensor_raw ("k", DT_STRING, 1, (int64_t[]) { 1 }, "a", 1)),
      SEG_ERR_UNSUPPORTED, "tensor 'k'", "STRING");
  FAILS (with_init (tensor_raw ("k", 16, 1, (int64_t[]) { 1 }, "ab", 2)),
      SEG_ERR_UNSUPPORTED, "tensor 'k'", "BFLOAT16");
  FAILS (with_init (tensor_raw ("k", 0, 1, (int64_t[]) { 1 }, "ab", 2)),
      SEG_ERR_FORMAT, "tensor 'k'", "data_type");
  t = END;
  b_packed_varints (&t, 1, 1, (int64_t[]) { 1 });
  b_str (&t, 8, "k");
  b_bytes (&t, 9, ones, 4);
  FAILS (with_init (t), SEG_ERR_FORMAT, "tensor 'k'", "data_type is missing");
  t = END;
  b_int (&t, 2, DT_FLOAT);
  b_bytes (&t, 9, ones, 4);
  FAILS (with_init (t), SEG_ERR_FORMAT, "graph.initializer[0]", "name");

  /* absurd dims */
  FAILS (with_init (tensor_raw ("k", DT_FLOAT, 1, (int64_t[]) { (int64_t) 1 << 40 }, ones, 4)),
      SEG_ERR_FORMAT, "tensor 'k'", "dims[0] = 1099511627776");
  FAILS (with_init (tensor_raw ("k", DT_FLOAT, 2, (int64_t[]) { 1, -4 }, ones, 4)),
      SEG_ERR_FORMAT, "tensor 'k'", "dims[1] = -4");
  FAILS (with_init (tensor_raw ("k", DT_FLOAT, 3, (int64_t[]) { 65536, 65536, 65536 }, ones, 4)),
      SEG_ERR_FORMAT, "tensor 'k'", "dims describe more than");
  FAILS (with_init (tensor_raw ("k", DT_FLOAT, 7, (int64_t[]) { 1, 1, 1, 1, 1, 1, 1 }, ones, 4)),
      SEG_ERR_UNSUPPORTED, "tensor 'k'", "rank 7");
  g = END;
  g_input (&g, "x", 4, (int64_t[]) { 1, 3, (int64_t) 1 << 40, 8 });
  g_output (&g, "y", 4, (int64_t[]) { 1, 3, 8, 8 });
  g_node (&g, node ("Relu", "r", "x", "y", END));
  FAILS (model (13, g), SEG_ERR_FORMAT, "graph.input[0].type.shape.dim[2]", "dim_value");

  /* external data */
  t = tensor_head ("k", DT_FLOAT, 1, (int64_t[]) { 1 });
  b_int (&t, 14, 1);
  FAILS (with_init (t), SEG_ERR_UNSUPPORTED, "tensor 'k'", "external");
  t = tensor_head ("k", DT_FLOAT, 1, (int64_t[]) { 1 });
  buf kv = END;
  b_str (&kv, 1, "location");
  b_str (&kv, 2, "weights.bin");
  b_msg (&t, 13, kv);
  FAILS (with_init (t), SEG_ERR_UNSUPPORTED, "tensor 'k'", "external");
}

/* ---- wire-level errors ---------------------------------------------------- */

static void
test_wire (void)
{
  /* graph as a varint */
  buf m = END, os = END;
  b_str (&os, 1, "");
  b_int (&os, 2, 13);
  b_msg (&m, 8, os);
  b_int (&m, 7, 5);
  FAILS (m, SEG_ERR_FORMAT, "model.graph has wire type 0", NULL);

  /* dims as fixed32 */
  buf t = END;
  b_fixed32 (&t, 1, 4);
  b_int (&t, 2, DT_FLOAT);
  b_str (&t, 8, "k");
  b_bytes (&t, 9, ones, 16);
  FAILS (with_init (t), SEG_ERR_FORMAT, "tensor 'k'", "dims: wrong wire type");

  /* node name as a varint */
  buf g = END;
  g_std_io (&g);
  buf n = END;
  b_str (&n, 1, "x");
  b_str (&n, 2, "y");
  b_int (&n, 3, 1);
  b_str (&n, 4, "Relu");
  g_node (&g, n);
  FAILS (model (13, g), SEG_ERR_FORMAT, "graph.node[0].name has wire type 0", NULL);

  /* attribute i as bytes */
  g = END;
  g_std_io (&g);
  buf a = END;
  b_str (&a, 1, "axis");
  b_str (&a, 3, "0");
  g_node (&g, node ("Relu", "r", "x", "y", a, END));
  FAILS (model (13, g), SEG_ERR_FORMAT, "node 'r' attribute[0].i", "wire type 2");

  /* ints attribute as fixed32 */
  g = END;
  g_std_io (&g);
  a = END;
  b_str (&a, 1, "axes");
  b_fixed32 (&a, 8, 2);
  b_int (&a, 20, AT_INTS);
  g_node (&g, node ("ReduceMean", "rm", "x", "y", a, END));
  FAILS (model (13, g), SEG_ERR_FORMAT, "node 'rm'", "'axes' ints: wrong wire type");

  /* a group (wire type 3) */
  m = END;
  b_tag (&m, 9, 3);
  FAILS (m, SEG_ERR_FORMAT, "model", "group");
  /* wire types 6 and 7 do not exist */
  m = END;
  b_tag (&m, 9, 7);
  FAILS (m, SEG_ERR_FORMAT, "model", "invalid wire type");
  /* field number 0 */
  m = END;
  b_varint (&m, 0);
  FAILS (m, SEG_ERR_FORMAT, "model", "field number");

  /* huge varints: 11 bytes, and 10 bytes carrying more than 64 bits */
  m = END;
  for (int i = 0; i < 10; i++)
    b_raw (&m, "\xff", 1);
  b_raw (&m, "\x01", 1);
  FAILS (m, SEG_ERR_FORMAT, "model", "varint longer than 64 bits");
  m = END;
  b_tag (&m, 1, 0);
  for (int i = 0; i < 9; i++)
    b_raw (&m, "\x80", 1);
  b_raw (&m, "\x02", 1);
  FAILS (m, SEG_ERR_FORMAT, "model", "varint longer than 64 bits");
  m = END;
  b_tag (&m, 1, 0);
  b_raw (&m, "\x80\x80", 2);
  FAILS (m, SEG_ERR_FORMAT, "model", "truncated varint");
  /* a length far past the end */
  m = END;
  b_tag (&m, 7, 2);
  b_varint (&m, UINT64_MAX);
  FAILS (m, SEG_ERR_FORMAT, "model", "past the end");
  m = END;
  b_tag (&m, 9, 1);
  b_raw (&m, "1234567", 7);
  FAILS (m, SEG_ERR_FORMAT, "model", "truncated 64-bit");

  /* names with control bytes */
  g = END;
  g_std_io (&g);
  g_node (&g, node ("Relu", "r\x1b[2J", "x", "y", END));
  FAILS (model (13, g), SEG_ERR_FORMAT, "graph.node[0].name", "control byte 0x1b");
  g = END;
  g_std_io (&g);
  buf nn = END;
  b_str (&nn, 1, "x");
  b_str (&nn, 2, "y");
  b_bytes (&nn, 3, "a\0b", 3);
  b_str (&nn, 4, "Relu");
  g_node (&g, nn);
  FAILS (model (13, g), SEG_ERR_FORMAT, "graph.node[0].name", "control byte 0x00");
}

/* The reader's own contract, independent of ONNX. */
static void
test_pb_reader (void)
{
  /* repeated scalars: unpacked, packed, split packed runs */
  buf m = END;
  b_int (&m, 3, 1);
  b_packed_varints (&m, 3, 2, (int64_t[]) { 2, 300 });
  b_str (&m, 4, "skip");
  b_packed_varints (&m, 3, 1, (int64_t[]) { -1 });
  size_t cnt;
  const char *why = NULL;
  CHECK (seg_pb_repeated_count (m.p, m.n, 3, SEG_PB_KIND_VARINT, &cnt, &why) == SEG_PB_END
      && cnt == 4, "count %zu", cnt);
  seg_pb_repeated it;
  uint64_t v[4] = { 0 };
  seg_pb_repeated_init (&it, m.p, m.n, 3, SEG_PB_KIND_VARINT);
  for (int i = 0; i < 4; i++)
    seg_pb_repeated_next (&it, &v[i], &why);
  CHECK (v[0] == 1 && v[1] == 2 && v[2] == 300 && (int64_t) v[3] == -1, "values");
  CHECK (seg_pb_repeated_next (&it, &v[0], &why) == SEG_PB_END, "end");
  /* a 4-byte LEN field is a packed run of one fixed32 ... */
  CHECK (seg_pb_repeated_count (m.p, m.n, 4, SEG_PB_KIND_FIXED32, &cnt, &why) == SEG_PB_END
      && cnt == 1, "packed fixed32 count %zu", cnt);
  /* ... but a fixed64 run must be a whole number of 8 bytes, and varints
   * are not fixed32 */
  CHECK (seg_pb_repeated_count (m.p, m.n, 4, SEG_PB_KIND_FIXED64, &cnt, &why) == SEG_PB_BAD,
      "4-byte run read as fixed64");
  CHECK (seg_pb_repeated_count (m.p, m.n, 3, SEG_PB_KIND_FIXED32, &cnt, &why) == SEG_PB_BAD,
      "varint read as fixed32");
  free (m.p);

  /* every prefix of a message either parses or fails, never overreads */
  buf s = small_model ();
  for (size_t n = 0; n <= s.n; n++) {
    uint8_t *copy = malloc (n ? n : 1);
    memcpy (copy, s.p, n);
    seg_pb_reader r;
    seg_pb_field f;
    seg_pb_init (&r, copy, n);
    while (seg_pb_next (&r, &f, &why) == SEG_PB_FIELD)
      ;
    free (copy);
  }
  free (s.p);
}

/* ---- hostile bytes ---------------------------------------------------------- */

static uint64_t rng_state = 0x9e3779b97f4a7c15u;

static uint64_t
rng (void)
{
  /* xorshift64* */
  rng_state ^= rng_state >> 12;
  rng_state ^= rng_state << 25;
  rng_state ^= rng_state >> 27;
  return rng_state * 2685821657736338717u;
}

static void
check_outcome (seg_status st, seg_graph *g, const seg_err *err, const char *what, size_t i)
{
  if (st == SEG_OK) {
    CHECK (g != NULL && g->ninputs == 1 && g->noutputs == 1, "%s %zu: bad graph", what, i);
    seg_graph_free (g);
    return;
  }
  CHECK (st == SEG_ERR_FORMAT || st == SEG_ERR_UNSUPPORTED, "%s %zu: status %d", what, i, st);
  CHECK (g == NULL, "%s %zu: graph left on error", what, i);
  CHECK (!strncmp (err->msg, FILE_NAME ": ", strlen (FILE_NAME) + 2), "%s %zu: message '%s'",
      what, i, err->msg);
}

static void
test_truncation (void)
{
  buf m = small_model ();
  int ok = 0;
  for (size_t n = 0; n < m.n; n++) {
    seg_graph *g = NULL;
    seg_err err;
    seg_status st = import_bytes (m.p, n, &g, &err);
    ok += st == SEG_OK;
    check_outcome (st, g, &err, "prefix", n);
  }
  /* Only the whole model has the output's producer. */
  CHECK (ok == 0, "%d truncated prefixes imported", ok);
  seg_graph *g = NULL;
  seg_err err;
  CHECK (import_bytes (m.p, m.n, &g, &err) == SEG_OK, "whole model: %s", err.msg);
  seg_graph_free (g);
  free (m.p);
}

static void
test_byte_flips (void)
{
  buf m = small_model ();
  uint8_t *copy = malloc (m.n);
  int errors = 0;
  for (int i = 0; i < 4000; i++) {
    memcpy (copy, m.p, m.n);
    int flips = 1 + (int) (rng () % 4);
    for (int k = 0; k < flips; k++) {
      size_t at = (size_t) (rng () % m.n);
      copy[at] = (i & 1) ? (uint8_t) rng () : (uint8_t) (copy[at] ^ (1u << (rng () % 8)));
    }
    seg_graph *g = NULL;
    seg_err err;
    seg_status st = import_bytes (copy, m.n, &g, &err);
    errors += st != SEG_OK;
    check_outcome (st, g, &err, "flip", (size_t) i);
  }
  /* Most corruptions must be caught; a few land in float data harmlessly. */
  CHECK (errors > 2000, "only %d of 4000 corrupted models rejected", errors);
  free (copy);
  free (m.p);
}

/* ---- whole loads of hostile files ----------------------------------- */

/* With SEG_WRITE_SEEDS=DIR the hostile files below are also written to
 * DIR/NAME, as seeds for fuzz/fuzz-onnx (fuzz/corpus/fuzz-onnx holds them). */
static void
write_seed (const char *name, const buf *m)
{
  const char *dir = getenv ("SEG_WRITE_SEEDS");
  char path[4096];
  if (!dir)
    return;
  snprintf (path, sizeof path, "%s/%s", dir, name);
  FILE *f = fopen (path, "wb");
  CHECK (f && fwrite (m->p, 1, m->n, f) == m->n && fclose (f) == 0,
      "writing %s", path);
}

static double
now_s (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (double) ts.tv_sec + (double) ts.tv_nsec * 1e-9;
}

/* Lets the process use 20 more seconds of CPU, then SIGXCPU ends it;
 * *saved is the limit to restore. */
static void
cpu_bound (struct rlimit *saved)
{
  struct rlimit bounded;
  struct rusage ru;
  CHECK (getrlimit (RLIMIT_CPU, saved) == 0 && getrusage (RUSAGE_SELF, &ru) == 0,
      "getrlimit/getrusage");
  bounded = *saved;
  bounded.rlim_cur = (rlim_t) (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec + 21);
  if (saved->rlim_max != RLIM_INFINITY && bounded.rlim_cur > saved->rlim_max)
    bounded.rlim_cur = saved->rlim_max;
  CHECK (setrlimit (RLIMIT_CPU, &bounded) == 0, "setrlimit RLIMIT_CPU");
}

/* Trust finding 10: x -> Identity -> Relu -> Identity -> ... -> y, n nodes
 * (~34 bytes each: the longest chain the tensor limit lets in is a 3.4 MB
 * file). The passes used to find producers and readers by scanning all
 * nodes, ~10^10 steps here (about a minute); now they must load it. The
 * wall time is printed, not asserted, as that would be flaky on a shared
 * machine; the bound is on CPU time, which other load does not inflate:
 * 20 s (~100 times what the load takes, ASan included) ends the process
 * with SIGXCPU when the passes are quadratic again. */
static void
test_long_chain (int n)
{
  buf g = END;
  char in[32], out[32], name[32];
  g_input (&g, "x", 4, (int64_t[]) { 1, 3, 8, 8 });
  for (int i = 0; i < n; i++) {
    snprintf (in, sizeof in, i ? "t%d" : "x", i - 1);
    snprintf (out, sizeof out, i + 1 < n ? "t%d" : "y", i);
    snprintf (name, sizeof name, "n%d", i);
    g_node (&g, node (i % 2 ? "Relu" : "Identity", name, in, out, END));
  }
  g_output (&g, "y", 4, (int64_t[]) { 1, 3, 8, 8 });
  buf m = model (13, g);
  if (n <= 1000)
    write_seed ("identity-relu-chain.onnx", &m);
  seg_model *sm = NULL;
  char *error = NULL;
  struct rlimit cpu;
  cpu_bound (&cpu);
  double t0 = now_s ();
  seg_status st = seg_model_load_from_memory (m.p, m.n, FILE_NAME, &sm, &error);
  double t1 = now_s ();
  setrlimit (RLIMIT_CPU, &cpu);
  printf ("test-onnx: %d-node chain (%zu bytes) loaded in %.3f s: %s\n", n,
      m.n, t1 - t0, st == SEG_OK ? "ok" : error);
  CHECK (st == SEG_OK && sm, "%d-node chain: %s", n, error ? error : "?");
  if (sm) {
    /* the Relus stay, the Identities go but one writing the output */
    CHECK (seg_model_get_info (sm)->num_nodes == n / 2 + n % 2,
        "%d nodes left", seg_model_get_info (sm)->num_nodes);
  }
  seg_model_free (sm);
  free (error);
  free (m.p);
}

/* k Relus of x all live until a chain of Adds sums them into y: k
 * activations live at once, which made the arena's greedy placement
 * cubic (20k did not finish). The session must plan it and sum right. */
static void
test_wide_graph (int k)
{
  buf g = END;
  char in[32], out[32], name[32];
  g_input (&g, "x", 4, (int64_t[]) { 1, 3, 8, 8 });
  for (int i = 0; i < k; i++) {
    snprintf (out, sizeof out, "r%d", i);
    snprintf (name, sizeof name, "relu%d", i);
    g_node (&g, node ("Relu", name, "x", out, END));
  }
  for (int i = 1; i < k; i++) {
    snprintf (in, sizeof in, i == 1 ? "r0,r1" : "a%d,r%d", i - 1, i);
    snprintf (out, sizeof out, i + 1 < k ? "a%d" : "y", i);
    snprintf (name, sizeof name, "add%d", i);
    g_node (&g, node ("Add", name, in, out, END));
  }
  g_output (&g, "y", 4, (int64_t[]) { 1, 3, 8, 8 });
  buf m = model (13, g);
  seg_model *sm = NULL;
  seg_session *ss = NULL;
  char *error = NULL;
  struct rlimit cpu;
  cpu_bound (&cpu);
  double t0 = now_s ();
  seg_status st = seg_model_load_from_memory (m.p, m.n, FILE_NAME, &sm, &error);
  if (st == SEG_OK)
    st = seg_session_new (sm, NULL, &ss, &error);
  double t1 = now_s ();
  setrlimit (RLIMIT_CPU, &cpu);
  printf ("test-onnx: %d Relus summed (%zu bytes): model and session in "
      "%.3f s: %s\n", k, m.n, t1 - t0, st == SEG_OK ? "ok" : error);
  CHECK (st == SEG_OK, "%d live activations: %s", k, error ? error : "?");
  if (ss) {
    float x[3 * 8 * 8], y[3 * 8 * 8];
    for (int i = 0; i < 3 * 8 * 8; i++)
      x[i] = i % 2 ? 0.5f : -1.0f;
    CHECK (seg_session_run (ss, x, 3 * 8 * 8) == SEG_OK
            && seg_session_copy_output (ss, y, 3 * 8 * 8) == SEG_OK,
        "run");
    for (int i = 0; i < 3 * 8 * 8; i++)
      CHECK (y[i] == (i % 2 ? 0.5f * (float) k : 0.0f), "y[%d] = %g", i,
          (double) y[i]);
  }
  seg_session_free (ss);
  seg_model_free (sm);
  free (error);
  free (m.p);
}

/* Trust finding 4. RLIMIT_AS makes an allocation the budget should have
 * stopped fail instead of swapping; ASan reserves terabytes of shadow
 * address space, so there the limit is left off and only the error is
 * checked. */
#if defined(__SANITIZE_ADDRESS__)
#define UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define UNDER_ASAN 1
#endif
#endif

static bool
limit_address_space (struct rlimit *saved)
{
#ifdef UNDER_ASAN
  (void) saved;
  return false;
#else
  struct rlimit lim;
  if (getrlimit (RLIMIT_AS, saved) != 0)
    return false;
  lim = *saved;
  lim.rlim_cur = (rlim_t) 3 << 29; /* 1.5 GiB */
  if (saved->rlim_max != RLIM_INFINITY && lim.rlim_cur > saved->rlim_max)
    lim.rlim_cur = saved->rlim_max;
  return setrlimit (RLIMIT_AS, &lim) == 0;
#endif
}

/* Loads m (freeing it) with the given budget (0: the default, through the
 * plain seg_model_load_from_memory) under the
 * address-space limit and expects a refusal with status want whose
 * message names the file, node and the budget. */
static void
expect_over_budget (const char *seed, buf m, size_t budget, seg_status want,
    const char *node, int line)
{
  struct rlimit saved;
  bool limited = limit_address_space (&saved);
  seg_model *sm = NULL;
  char *error = NULL;
  seg_load_options opt = { .memory_budget = budget };
  write_seed (seed, &m);
  seg_status st = budget
      ? seg_model_load_from_memory_with_options (m.p, m.n, FILE_NAME, &opt,
            &sm, &error)
      : seg_model_load_from_memory (m.p, m.n, FILE_NAME, &sm, &error);
  if (limited)
    setrlimit (RLIMIT_AS, &saved);
  if (st != want || sm || !error
      || strncmp (error, FILE_NAME ": ", strlen (FILE_NAME) + 2)
      || !strstr (error, node) || !strstr (error, "memory budget")) {
    fprintf (stderr, "%s:%d: expected status %d naming %s and the memory "
        "budget, got %d: '%s'\n", __FILE__, line, want, node, st,
        error ? error : "(none)");
    failures++;
  }
  seg_model_free (sm);
  free (error);
  free (m.p);
}

/* x -> Relu -> y, plus k ConstantOfShape nodes "bomb<i>" nobody reads,
 * each filling `dims` with a `dt` value: 24 bytes of shape for 2 GiB. */
static buf
bomb_model (int k, int dt, int rank, const int64_t *dims)
{
  buf g = END;
  char name[32], out[32];
  g_input (&g, "x", 4, (int64_t[]) { 1, 3, 8, 8 });
  g_init (&g, ti64 ("shape", 1, (int64_t[]) { rank }, dims));
  for (int i = 0; i < k; i++) {
    double d = 1.0;
    float f = 1.0f;
    snprintf (name, sizeof name, "bomb%d", i);
    snprintf (out, sizeof out, "big%d", i);
    buf value = dt == DT_DOUBLE
        ? tensor_raw (NULL, DT_DOUBLE, 1, (int64_t[]) { 1 }, &d, sizeof d)
        : tensor_raw (NULL, DT_FLOAT, 1, (int64_t[]) { 1 }, &f, sizeof f);
    g_node (&g, node ("ConstantOfShape", name, "shape", out,
        attr_t ("value", value), END));
  }
  g_node (&g, node ("Relu", "r", "x", "y", END));
  g_output (&g, "y", 4, (int64_t[]) { 1, 3, 8, 8 });
  return model (13, g);
}

static void
test_memory_budget (void)
{
  /* The attack: {1024, 512, 512} doubles, 2 GiB per node, four nodes.
   * The first is refused before anything is allocated. */
  expect_over_budget ("constant-of-shape-bomb.onnx", bomb_model (4,
        DT_DOUBLE, 3, (int64_t[]) { 1024, 512, 512 }), 0, SEG_ERR_FORMAT,
      "node 'bomb0' (ConstantOfShape)", __LINE__);
  /* Each node within the budget, their sum not: 32 MiB each against
   * 100 MiB, the fourth is refused. */
  expect_over_budget ("constant-of-shape-total.onnx", bomb_model (4,
        DT_FLOAT, 3, (int64_t[]) { 32, 512, 512 }), (size_t) 100 << 20,
      SEG_ERR_FORMAT, "node 'bomb3' (ConstantOfShape)", __LINE__);
  /* ... and the same loads with room for them. */
  seg_model *sm = NULL;
  char *error = NULL;
  buf m = bomb_model (4, DT_FLOAT, 3, (int64_t[]) { 32, 512, 512 });
  seg_load_options opt = { .memory_budget = (size_t) 160 << 20 };
  CHECK (seg_model_load_from_memory_with_options (m.p, m.n, FILE_NAME, &opt,
             &sm, &error) == SEG_OK, "four 32 MiB constants in 160 MiB: %s",
      error ? error : "?");
  seg_model_free (sm);
  free (error);
  free (m.p);

  /* A shape computed at plan time from the input's: {1, 3, 8, 8} times
   * {1, 1, 1024, 1024} doubles, 1.6 GB. */
  buf g = END;
  double one = 1.0;
  g_input (&g, "x", 4, (int64_t[]) { 1, 3, 8, 8 });
  g_node (&g, node ("Shape", "sh", "x", "s", END));
  g_node (&g, node ("Constant", "c2", NULL, "k",
      attr_ints ("value_ints", INTS (1, 1, 1024, 1024)), END));
  g_node (&g, node ("Mul", "mul", "s,k", "shp", END));
  g_node (&g, node ("ConstantOfShape", "planbomb", "shp", "big",
      attr_t ("value", tensor_raw (NULL, DT_DOUBLE, 1, (int64_t[]) { 1 },
          &one, sizeof one)), END));
  g_node (&g, node ("Relu", "r", "x", "y", END));
  g_output (&g, "y", 4, (int64_t[]) { 1, 3, 8, 8 });
  expect_over_budget ("plan-time-bomb.onnx", model (13, g), 0,
      SEG_ERR_FORMAT, "node 'planbomb' (ConstantOfShape)", __LINE__);

  /* Activations: an 8x8 input upsampled to 8192x8192 (805 MB) and added
   * to itself: 1.6 GB live at the Add, which every session would need. */
  g = END;
  g_input (&g, "x", 4, (int64_t[]) { 1, 3, 8, 8 });
  g_init (&g, ti64 ("sizes", 1, (int64_t[]) { 4 },
      (int64_t[]) { 1, 3, 8192, 8192 }));
  g_node (&g, node ("Resize", "up", "x,,,sizes", "a", attr_s ("mode", "linear"), END));
  g_node (&g, node ("Add", "twice", "a,a", "y", END));
  g_output (&g, "y", 4, (int64_t[]) { 1, 3, 8192, 8192 });
  expect_over_budget ("activation-bomb.onnx", model (13, g), 0,
      SEG_ERR_FORMAT, "node 'twice' (Add)", __LINE__);
}

int
main (void)
{
  for (int i = 0; i < 256; i++)
    ones[i] = 1.0f;
  test_small_model ();
  test_conv_variants ();
  test_elementwise ();
  test_pool_resize_bn ();
  test_shape_ops ();
  test_opsets_and_ops ();
  test_graph_structure ();
  test_tensors ();
  test_wire ();
  test_pb_reader ();
  test_truncation ();
  test_byte_flips ();
  test_long_chain (1000);
  test_long_chain (SEG_MAX_TENSORS - 1);
  test_wide_graph (20000);
  test_memory_budget ();
  if (failures) {
    fprintf (stderr, "test-onnx: %d check(s) failed\n", failures);
    return 1;
  }
  printf ("test-onnx: all checks passed\n");
  return 0;
}
