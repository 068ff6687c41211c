/* Tests of the FlatBuffer reader and the TFLite importer: the two real
 * MediaPipe selfie models import into the expected graph, and hand-built
 * FlatBuffers (from the small builder below) cover a valid model and every
 * class of broken file: wrong identifier, truncation at every byte, random
 * byte flips, offsets and vtables pointing outside, bad dims and indices,
 * buffer size mismatches, unknown ops and bad custom options. Run under
 * ASan/UBSan, every import uses an exact-size heap copy so an over-read is
 * caught.
 *
 * The real models are looked up in $SEG_MODEL_DIR, else in argv[1]; the
 * test exits 77 (skipped) after its other checks when they are absent.
 *
 * Why one file of 1.2k lines: the FlatBuffer builder (~300 lines) exists
 * for these tests only and every section builds through it, valid models
 * and broken ones alike; split, it would become a header as large as
 * each half, for halves that read no better than the sections below.
 */
#include "graph.h"
#include "import/flatbuf.h"
#include "import/import.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FILE_NAME "t.tflite"


#define CHECK_CONTINUES
#include "../check.h"

static uint32_t rng_state = 0x5e6d5e6du;

static void *
xmalloc (size_t n)
{
  void *p = malloc (n ? n : 1);
  if (!p) {
    fprintf (stderr, "FAIL: out of memory\n");
    exit (1);
  }
  return p;
}

/* ---- a minimal FlatBuffer builder -------------------------------------
 * Like the real ones it builds back to front: children first, so every
 * uoffset points forward. Objects are named by their distance from the end
 * of the buffer ("ref"), which does not change as the buffer grows. */

typedef struct
{
  uint8_t *data; /* content right-aligned in data[0, cap) */
  size_t cap, len;
} fbb;

static void
b_prepend (fbb *b, const void *p, size_t n)
{
  if (n == 0)
    return;
  if (b->len + n > b->cap) {
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + n)
      cap *= 2;
    uint8_t *d = xmalloc (cap);
    if (b->len)
      memcpy (d + cap - b->len, b->data + b->cap - b->len, b->len);
    free (b->data);
    b->data = d;
    b->cap = cap;
  }
  b->len += n;
  memcpy (b->data + b->cap - b->len, p, n);
}

static void
b_zeros (fbb *b, size_t n)
{
  static const uint8_t z[16];
  while (n > 0) {
    size_t k = n < sizeof z ? n : sizeof z;
    b_prepend (b, z, k);
    n -= k;
  }
}

static void
b_align (fbb *b, size_t a)
{
  b_zeros (b, (a - b->len % a) % a);
}

static void
put_le (uint8_t *p, uint64_t v, int n)
{
  for (int i = 0; i < n; i++)
    p[i] = (uint8_t) (v >> (8 * i));
}

static void
b_scalar (fbb *b, uint64_t v, int n)
{
  uint8_t tmp[8];
  b_align (b, (size_t) n);
  put_le (tmp, v, n);
  b_prepend (b, tmp, (size_t) n);
}

/* A uoffset to `ref`, written at the front. */
static void
b_uoffset (fbb *b, uint32_t ref)
{
  b_align (b, 4);
  b_scalar (b, (uint32_t) (b->len + 4 - ref), 4);
}

enum
{
  F_U8,
  F_I32,
  F_U32,
  F_U64,
  F_REF
};

typedef struct
{
  int id;
  int kind;
  uint64_t v;
} fbf;

#define MAX_FIELDS 16

static uint32_t
b_table (fbb *b, int n, const fbf *f)
{
  size_t end = b->len;
  size_t fpos[MAX_FIELDS] = {0};
  int nslots = 0;
  for (int i = n - 1; i >= 0; i--) {
    switch (f[i].kind) {
      case F_U8:
        b_scalar (b, f[i].v, 1);
        break;
      case F_I32:
      case F_U32:
        b_scalar (b, f[i].v, 4);
        break;
      case F_U64:
        b_scalar (b, f[i].v, 8);
        break;
      case F_REF:
        b_uoffset (b, (uint32_t) f[i].v);
        break;
    }
    fpos[f[i].id] = b->len;
    if (f[i].id + 1 > nslots)
      nslots = f[i].id + 1;
  }
  b_scalar (b, 0, 4); /* soffset, patched below */
  size_t table = b->len;
  uint8_t vt[4 + 2 * MAX_FIELDS];
  put_le (vt, 4 + 2 * (uint64_t) nslots, 2);
  put_le (vt + 2, table - end, 2);
  for (int i = 0; i < nslots; i++)
    put_le (vt + 4 + 2 * i, fpos[i] ? table - fpos[i] : 0, 2);
  b_prepend (b, vt, 4 + 2 * (size_t) nslots);
  put_le (b->data + b->cap - table, b->len - table, 4);
  return (uint32_t) table;
}

static uint32_t
b_vec_u8 (fbb *b, const uint8_t *p, uint32_t n)
{
  b_zeros (b, (4 - (b->len + n) % 4) % 4);
  b_prepend (b, p, n);
  b_scalar (b, n, 4);
  return (uint32_t) b->len;
}

static uint32_t
b_vec_i32 (fbb *b, const int32_t *v, uint32_t n)
{
  for (uint32_t i = n; i-- > 0;)
    b_scalar (b, (uint32_t) v[i], 4);
  b_scalar (b, n, 4);
  return (uint32_t) b->len;
}

static uint32_t
b_vec_ref (fbb *b, const uint32_t *refs, uint32_t n)
{
  for (uint32_t i = n; i-- > 0;)
    b_uoffset (b, refs[i]);
  b_scalar (b, n, 4);
  return (uint32_t) b->len;
}

static uint32_t
b_string (fbb *b, const char *s)
{
  size_t n = strlen (s);
  b_zeros (b, (4 - (b->len + n + 1) % 4) % 4 + 1);
  b_prepend (b, s, n);
  b_scalar (b, n, 4);
  return (uint32_t) b->len;
}

/* Returns an exact-size malloc'd copy of the finished buffer. */
static uint8_t *
b_finish (fbb *b, uint32_t root, const char *ident, size_t *size)
{
  b_zeros (b, (8 - (b->len + 8) % 8) % 8);
  b_prepend (b, ident, 4);
  b_uoffset (b, root);
  uint8_t *out = xmalloc (b->len);
  memcpy (out, b->data + b->cap - b->len, b->len);
  *size = b->len;
  free (b->data);
  memset (b, 0, sizeof *b);
  return out;
}

/* ---- model descriptions ------------------------------------------------ */

enum
{
  TT_F32 = 0,
  TT_F16 = 1,
  TT_I32 = 2,
  TT_I8 = 9
};
enum
{
  B_ADD = 0,
  B_AVERAGE_POOL_2D = 1,
  B_CONV_2D = 3,
  B_DEPTHWISE = 4,
  B_DEQUANTIZE = 6,
  B_LOGISTIC = 14,
  B_MUL = 18,
  B_RELU = 19,
  B_RELU6 = 21,
  B_RESIZE_BILINEAR = 23,
  B_SOFTMAX = 25,
  B_CUSTOM = 32,
  B_MEAN = 40,
  B_HARD_SWISH = 117
};

typedef struct
{
  const char *name; /* NULL: no name field */
  uint8_t type;
  int rank; /* -1: no shape field */
  int32_t shape[8];
  uint32_t buffer;
} tdesc;

typedef struct
{
  uint32_t code;
  int nin, nout;
  int32_t in[4], out[2];
  uint8_t opt_type; /* 0: no builtin options */
  int nopt;
  fbf opt[8];
  int ncustom; /* -1: no custom_options */
  uint8_t custom[16];
} odesc;

typedef struct
{
  int8_t dep;
  int32_t builtin;
  const char *custom;
} cdesc;

typedef struct
{
  uint32_t n;
  uint8_t bytes[512];
} bdesc;

typedef struct
{
  char ident[5];
  uint32_t version;
  int ncodes, ntensors, nops, nbufs, nin, nout;
  cdesc codes[16];
  tdesc tensors[32];
  odesc ops[24];
  bdesc bufs[16];
  int32_t inputs[2], outputs[2];
} mdesc;

static uint8_t *
serialize (const mdesc *m, size_t *size)
{
  fbb b = {0};
  uint32_t refs[32], data[16];

  /* Buffer data first: it ends up last in the file, so cutting off any
   * tail of the file breaks a buffer that a tensor needs. */
  for (int i = m->nbufs; i-- > 0;)
    data[i] = m->bufs[i].n ? b_vec_u8 (&b, m->bufs[i].bytes, m->bufs[i].n) : 0;
  for (int i = 0; i < m->nbufs; i++) {
    fbf f = {0, F_REF, data[i]};
    refs[i] = b_table (&b, data[i] ? 1 : 0, &f);
  }
  uint32_t buffers = b_vec_ref (&b, refs, (uint32_t) m->nbufs);

  for (int i = 0; i < m->ntensors; i++) {
    const tdesc *t = &m->tensors[i];
    fbf f[4];
    int n = 0;
    uint32_t name = t->name ? b_string (&b, t->name) : 0;
    if (t->rank >= 0) {
      uint32_t shape = b_vec_i32 (&b, t->shape, (uint32_t) t->rank);
      f[n++] = (fbf){0, F_REF, shape};
    }
    f[n++] = (fbf){1, F_U8, t->type};
    f[n++] = (fbf){2, F_U32, t->buffer};
    if (t->name)
      f[n++] = (fbf){3, F_REF, name};
    refs[i] = b_table (&b, n, f);
  }
  uint32_t tensors = b_vec_ref (&b, refs, (uint32_t) m->ntensors);

  for (int i = 0; i < m->nops; i++) {
    const odesc *o = &m->ops[i];
    fbf f[6];
    int n = 0;
    uint32_t in = b_vec_i32 (&b, o->in, (uint32_t) o->nin);
    uint32_t out = b_vec_i32 (&b, o->out, (uint32_t) o->nout);
    f[n++] = (fbf){0, F_U32, o->code};
    f[n++] = (fbf){1, F_REF, in};
    f[n++] = (fbf){2, F_REF, out};
    if (o->opt_type) {
      uint32_t opts = b_table (&b, o->nopt, o->opt);
      f[n++] = (fbf){3, F_U8, o->opt_type};
      f[n++] = (fbf){4, F_REF, opts};
    }
    if (o->ncustom >= 0)
      f[n++] = (fbf){5, F_REF, b_vec_u8 (&b, o->custom, (uint32_t) o->ncustom)};
    refs[i] = b_table (&b, n, f);
  }
  uint32_t operators = b_vec_ref (&b, refs, (uint32_t) m->nops);

  uint32_t sin = b_vec_i32 (&b, m->inputs, (uint32_t) m->nin);
  uint32_t sout = b_vec_i32 (&b, m->outputs, (uint32_t) m->nout);
  uint32_t sname = b_string (&b, "main");
  fbf sf[5] = {{0, F_REF, tensors}, {1, F_REF, sin}, {2, F_REF, sout},
      {3, F_REF, operators}, {4, F_REF, sname}};
  refs[0] = b_table (&b, 5, sf);
  uint32_t subgraphs = b_vec_ref (&b, refs, 1);

  for (int i = 0; i < m->ncodes; i++) {
    const cdesc *c = &m->codes[i];
    fbf f[4];
    int n = 0;
    uint32_t custom = c->custom ? b_string (&b, c->custom) : 0;
    if (c->dep)
      f[n++] = (fbf){0, F_U8, (uint8_t) c->dep};
    if (c->custom)
      f[n++] = (fbf){1, F_REF, custom};
    f[n++] = (fbf){2, F_I32, 1};
    if (c->builtin)
      f[n++] = (fbf){3, F_I32, (uint32_t) c->builtin};
    refs[i] = b_table (&b, n, f);
  }
  uint32_t codes = b_vec_ref (&b, refs, (uint32_t) m->ncodes);
  uint32_t desc = b_string (&b, "test model");
  fbf mf[5] = {{0, F_U32, m->version}, {1, F_REF, codes}, {2, F_REF, subgraphs},
      {3, F_REF, desc}, {4, F_REF, buffers}};
  uint32_t root = b_table (&b, 5, mf);
  return b_finish (&b, root, m->ident, size);
}

static void
add_buffer_f32 (mdesc *m, int n, float scale)
{
  bdesc *b = &m->bufs[m->nbufs++];
  b->n = (uint32_t) n * 4;
  for (int i = 0; i < n; i++) {
    float v = scale * (float) ((int) (test_rand (&rng_state) % 2001) - 1000)
        / 1000.0f;
    memcpy (b->bytes + 4 * i, &v, 4);
  }
}

static void
add_buffer_f16 (mdesc *m, int n)
{
  bdesc *b = &m->bufs[m->nbufs++];
  b->n = (uint32_t) n * 2;
  for (int i = 0; i < n; i++) {
    /* sign, exponent 13..15 (0.25 .. 1.99), random mantissa */
    uint16_t h = (uint16_t) ((test_rand (&rng_state) & 0x83ff)
        | (13 + test_rand (&rng_state) % 3) << 10);
    put_le (b->bytes + 2 * i, h, 2);
  }
}

static void
add_buffer_i32 (mdesc *m, int n, const int32_t *v)
{
  bdesc *b = &m->bufs[m->nbufs++];
  b->n = (uint32_t) n * 4;
  for (int i = 0; i < n; i++)
    put_le (b->bytes + 4 * i, (uint32_t) v[i], 4);
}

static int
add_tensor (mdesc *m, const char *name, uint8_t type, uint32_t buffer, int rank,
    int32_t d0, int32_t d1, int32_t d2, int32_t d3)
{
  tdesc *t = &m->tensors[m->ntensors];
  t->name = name;
  t->type = type;
  t->buffer = buffer;
  t->rank = rank;
  int32_t d[4] = {d0, d1, d2, d3};
  for (int i = 0; i < rank; i++)
    t->shape[i] = d[i];
  return m->ntensors++;
}

static odesc *
add_op (mdesc *m, uint32_t code, int nin, int32_t i0, int32_t i1, int32_t i2,
    int32_t out)
{
  odesc *o = &m->ops[m->nops++];
  memset (o, 0, sizeof *o);
  o->code = code;
  o->nin = nin;
  o->in[0] = i0;
  o->in[1] = i1;
  o->in[2] = i2;
  o->nout = 1;
  o->out[0] = out;
  o->ncustom = -1;
  return o;
}

static void
set_opts (odesc *o, uint8_t type, int n, const fbf *f)
{
  o->opt_type = type;
  o->nopt = n;
  if (n > 0)
    memcpy (o->opt, f, (size_t) n * sizeof *f);
}

/* Opcode indices of the small model. */
enum
{
  C_DEQUANTIZE,
  C_CONV,
  C_HARD_SWISH,
  C_DEPTHWISE,
  C_MEAN,
  C_LOGISTIC,
  C_MUL,
  C_AVG_POOL,
  C_ADD,
  C_TCONV,
  C_RESIZE,
  C_COUNT
};

/* A small model using every op the importer maps:
 *   x[1,8,8,3] -> CONV(f16 weights via DEQUANTIZE, stride 2, SAME, RELU6)
 *   -> HARD_SWISH -> DEPTHWISE(RELU) -> MEAN{1,2} -> LOGISTIC -> MUL
 *   -> AVERAGE_POOL(global) -> ADD -> transposed conv -> RESIZE -> LOGISTIC */
static void
small_model (mdesc *m)
{
  memset (m, 0, sizeof *m);
  memcpy (m->ident, "TFL3", 5);
  m->version = 3;
  static const cdesc codes[C_COUNT] = {
      [C_DEQUANTIZE] = {B_DEQUANTIZE, 0, NULL},
      [C_CONV] = {B_CONV_2D, B_CONV_2D, NULL},
      /* new-style writer: both fields */
      [C_HARD_SWISH] = {B_HARD_SWISH, B_HARD_SWISH, NULL},
      /* only the int field, as a writer that dropped the byte might do */
      [C_DEPTHWISE] = {0, B_DEPTHWISE, NULL},
      [C_MEAN] = {B_MEAN, 0, NULL},
      [C_LOGISTIC] = {B_LOGISTIC, 0, NULL},
      [C_MUL] = {B_MUL, 0, NULL},
      [C_AVG_POOL] = {B_AVERAGE_POOL_2D, 0, NULL},
      [C_ADD] = {0, 0, NULL}, /* ADD is code 0: both fields absent */
      [C_TCONV] = {B_CUSTOM, B_CUSTOM, "Convolution2DTransposeBias"},
      [C_RESIZE] = {B_RESIZE_BILINEAR, 0, NULL},
  };
  memcpy (m->codes, codes, sizeof codes);
  m->ncodes = C_COUNT;

  m->nbufs = 1;                        /* buffer 0: the empty sentinel */
  add_buffer_f16 (m, 4 * 3 * 3 * 3);   /* 1: conv weights */
  add_buffer_f32 (m, 4, 0.1f);         /* 2: conv bias */
  add_buffer_f32 (m, 3 * 3 * 4, 0.5f); /* 3: depthwise weights */
  add_buffer_f32 (m, 4, 0.1f);         /* 4: depthwise bias */
  static const int32_t axes[2] = {1, 2};
  add_buffer_i32 (m, 2, axes);             /* 5 */
  add_buffer_f32 (m, 2 * 2 * 2 * 4, 0.5f); /* 6: transposed conv weights */
  add_buffer_f32 (m, 2, 0.1f);             /* 7 */
  static const int32_t size[2] = {16, 16};
  add_buffer_i32 (m, 2, size); /* 8 */

  add_tensor (m, "input", TT_F32, 0, 4, 1, 8, 8, 3);          /* 0 */
  add_tensor (m, "conv/Kernel", TT_F16, 1, 4, 4, 3, 3, 3);    /* 1 */
  add_tensor (m, "conv/Kernel/dq", TT_F32, 0, 4, 4, 3, 3, 3); /* 2 */
  add_tensor (m, "conv/Bias", TT_F32, 2, 1, 4, 0, 0, 0);      /* 3 */
  add_tensor (m, "conv", TT_F32, 0, 4, 1, 4, 4, 4);           /* 4 */
  add_tensor (m, "hswish", TT_F32, 0, 4, 1, 4, 4, 4);         /* 5 */
  add_tensor (m, "dw/Kernel", TT_F32, 3, 4, 1, 3, 3, 4);      /* 6 */
  add_tensor (m, "dw/Bias", TT_F32, 4, 1, 4, 0, 0, 0);        /* 7 */
  add_tensor (m, "dw", TT_F32, 0, 4, 1, 4, 4, 4);             /* 8 */
  add_tensor (m, "mean/Axes", TT_I32, 5, 1, 2, 0, 0, 0);      /* 9 */
  add_tensor (m, "mean", TT_F32, 0, 4, 1, 1, 1, 4);           /* 10 */
  add_tensor (m, "gate", TT_F32, 0, 4, 1, 1, 1, 4);           /* 11 */
  add_tensor (m, "mul", TT_F32, 0, 4, 1, 4, 4, 4);            /* 12 */
  add_tensor (m, "pool", TT_F32, 0, 4, 1, 1, 1, 4);           /* 13 */
  add_tensor (m, "add", TT_F32, 0, 4, 1, 4, 4, 4);            /* 14 */
  add_tensor (m, "up/Kernel", TT_F32, 6, 4, 2, 2, 2, 4);      /* 15 */
  add_tensor (m, "up/Bias", TT_F32, 7, 1, 2, 0, 0, 0);        /* 16 */
  add_tensor (m, "up", TT_F32, 0, 4, 1, 8, 8, 2);             /* 17 */
  add_tensor (m, "resize/Size", TT_I32, 8, 1, 2, 0, 0, 0);    /* 18 */
  add_tensor (m, "resize", TT_F32, 0, 4, 1, 16, 16, 2);       /* 19 */
  add_tensor (m, NULL, TT_F32, 0, 4, 1, 16, 16, 2);           /* 20 */

  odesc *o;
  add_op (m, C_DEQUANTIZE, 1, 1, 0, 0, 2);
  o = add_op (m, C_CONV, 3, 0, 2, 3, 4);
  set_opts (o, 1, 3, (fbf[]){{1, F_I32, 2}, {2, F_I32, 2}, {3, F_U8, 3}});
  add_op (m, C_HARD_SWISH, 1, 4, 0, 0, 5);
  o = add_op (m, C_DEPTHWISE, 3, 5, 6, 7, 8);
  set_opts (o, 2, 5,
      (fbf[]){{0, F_U8, 0}, {1, F_I32, 1}, {2, F_I32, 1}, {3, F_I32, 1},
          {4, F_U8, 1}});
  o = add_op (m, C_MEAN, 2, 8, 9, 0, 10);
  set_opts (o, 27, 1, (fbf[]){{0, F_U8, 1}});
  add_op (m, C_LOGISTIC, 1, 10, 0, 0, 11);
  o = add_op (m, C_MUL, 2, 8, 11, 0, 12);
  set_opts (o, 21, 0, NULL);
  o = add_op (m, C_AVG_POOL, 1, 12, 0, 0, 13);
  set_opts (o, 5, 5,
      (fbf[]){{0, F_U8, 1}, {1, F_I32, 4}, {2, F_I32, 4}, {3, F_I32, 4},
          {4, F_I32, 4}});
  o = add_op (m, C_ADD, 2, 12, 13, 0, 14);
  set_opts (o, 11, 1, (fbf[]){{0, F_U8, 0}});
  o = add_op (m, C_TCONV, 3, 14, 15, 16, 17);
  o->ncustom = 12;
  put_le (o->custom, 1, 4); /* kTfLitePaddingSame */
  put_le (o->custom + 4, 2, 4);
  put_le (o->custom + 8, 2, 4);
  o = add_op (m, C_RESIZE, 2, 17, 18, 0, 19);
  set_opts (o, 15, 1, (fbf[]){{3, F_U8, 1}});
  add_op (m, C_LOGISTIC, 1, 19, 0, 0, 20);

  m->nin = m->nout = 1;
  m->inputs[0] = 0;
  m->outputs[0] = 20;
}

/* ---- import helpers ---------------------------------------------------- */

/* Imports an exact-size copy of data[0, size). */
static seg_status
import_copy (const uint8_t *data, size_t size, seg_graph **g, seg_err *err)
{
  uint8_t *copy = xmalloc (size);
  memcpy (copy, data, size);
  err->msg[0] = '\0';
  seg_status st = seg_import_tflite (copy, size, FILE_NAME, g, err);
  free (copy);
  return st;
}

static bool
names_file (const seg_err *err)
{
  return strncmp (err->msg, FILE_NAME ": ", strlen (FILE_NAME) + 2) == 0;
}

/* Expects failure with `want` and a message naming the file and holding
 * `needle`. */
static void
expect_bytes (const char *what, const uint8_t *data, size_t size,
    seg_status want, const char *needle)
{
  seg_graph *g = (seg_graph *) 1;
  seg_err err;
  seg_status st = import_copy (data, size, &g, &err);
  CHECK (st == want, "%s: status %d, expected %d (%s)", what, st, want,
      err.msg);
  CHECK (g == NULL, "%s: *out not NULL on failure", what);
  CHECK (names_file (&err), "%s: message does not name the file: '%s'", what,
      err.msg);
  CHECK (strstr (err.msg, needle), "%s: message '%s' lacks '%s'", what, err.msg,
      needle);
  if (st == SEG_OK)
    seg_graph_free (g);
}

static void
expect_model (const char *what, const mdesc *m, seg_status want,
    const char *needle)
{
  size_t size;
  uint8_t *data = serialize (m, &size);
  expect_bytes (what, data, size, want, needle);
  free (data);
}

static int
count_op (const seg_graph *g, seg_op op)
{
  int n = 0;
  for (int i = 0; i < g->nnodes; i++)
    n += g->nodes[i].op == op;
  return n;
}

static bool
dims_are (const seg_tensor *t, int rank, int64_t d0, int64_t d1, int64_t d2,
    int64_t d3)
{
  int64_t d[4] = {d0, d1, d2, d3};
  if (t->rank != rank)
    return false;
  for (int i = 0; i < rank; i++)
    if (t->dims[i] != d[i])
      return false;
  return true;
}

/* ---- tests ------------------------------------------------------------- */

static void
test_reader (void)
{
  /* A table with one inline u32 and a vtable after it (negative soffset),
   * which FlatBuffers allows and builders rarely emit. */
  uint8_t buf[32] = {0};
  put_le (buf, 8, 4); /* root at 8 */
  memcpy (buf + 4, "ABCD", 4);
  put_le (buf + 8, (uint32_t) -8, 4); /* vtable at 16 */
  put_le (buf + 12, 0xdeadbeef, 4);
  put_le (buf + 16, 8, 2); /* vtable: 8 bytes, 2 slots */
  put_le (buf + 18, 8, 2); /* table: 8 bytes */
  put_le (buf + 20, 4, 2); /* field 0 at +4 */
  put_le (buf + 22, 0, 2); /* field 1 absent */
  seg_fb fb = {buf, sizeof buf};
  seg_fb_table t;
  uint32_t v;
  int32_t d;
  CHECK (seg_fb_has_identifier (&fb, "ABCD"), "identifier");
  CHECK (!seg_fb_has_identifier (&fb, "TFL3"), "wrong identifier accepted");
  CHECK (seg_fb_root (&fb, &t), "root with trailing vtable");
  CHECK (seg_fb_get_u32 (&t, 0, 7, &v) && v == 0xdeadbeef, "field 0 = %x", v);
  CHECK (seg_fb_get_i32 (&t, 1, -5, &d) && d == -5, "default of absent field");
  CHECK (seg_fb_get_i32 (&t, 9, 42, &d) && d == 42,
      "default beyond the vtable");
  uint64_t big;
  CHECK (!seg_fb_get_u64 (&t, 0, 0, &big), "8-byte read past the 8-byte table");
  seg_fb_vec vec;
  CHECK (seg_fb_get_vector (&t, 0, 4, &vec) == SEG_FB_BAD,
      "offset 0xdeadbeef followed");

  /* Table size shrunk so field 0 lies outside it. */
  put_le (buf + 18, 6, 2);
  CHECK (seg_fb_root (&fb, &t) && !seg_fb_get_u32 (&t, 0, 0, &v),
      "field past the table end read");
  /* vtable length running off the buffer */
  put_le (buf + 18, 8, 2);
  put_le (buf + 16, 40, 2);
  CHECK (!seg_fb_root (&fb, &t), "vtable past the end accepted");
  /* vtable before the buffer start */
  put_le (buf + 16, 8, 2);
  put_le (buf + 8, 100, 4);
  CHECK (!seg_fb_root (&fb, &t), "vtable before the buffer accepted");
  /* buffers too small for the root offset or identifier */
  seg_fb tiny = {buf, 3};
  CHECK (!seg_fb_root (&tiny, &t) && !seg_fb_has_identifier (&tiny, "ABCD"),
      "3-byte buffer");

  /* A string whose length runs past the end. */
  uint8_t sb[24] = {0};
  put_le (sb, 8, 4);
  put_le (sb + 8, (uint32_t) -8, 4); /* vtable at 16 */
  put_le (sb + 12, 4, 4);            /* field 0 -> 16, which reads as */
  put_le (sb + 16, 6, 2);            /* a length of 0x00080006 */
  put_le (sb + 18, 8, 2);
  put_le (sb + 20, 4, 2);
  seg_fb sfb = {sb, sizeof sb};
  const char *s;
  size_t slen;
  CHECK (seg_fb_root (&sfb, &t), "string table");
  CHECK (seg_fb_get_string (&t, 0, &s, &slen) == SEG_FB_BAD,
      "overlong string accepted");
}

static void
check_small_graph (const seg_graph *g, const mdesc *m)
{
  CHECK (g->ntensors == m->ntensors, "%d tensors", g->ntensors);
  CHECK (g->nnodes == m->nops, "%d nodes", g->nnodes);
  CHECK (g->layout == SEG_LAYOUT_NHWC, "layout");
  CHECK (g->ninputs == 1 && g->inputs[0] == 0, "inputs");
  CHECK (g->noutputs == 1 && g->outputs[0] == 20, "outputs");
  if (g->nnodes != m->nops || g->ntensors != m->ntensors)
    return;
  static const seg_op want[] = {SEG_OP_DEQUANTIZE, SEG_OP_CONV,
      SEG_OP_HARDSWISH, SEG_OP_CONV, SEG_OP_GLOBAL_AVG_POOL, SEG_OP_SIGMOID,
      SEG_OP_MUL, SEG_OP_GLOBAL_AVG_POOL, SEG_OP_ADD, SEG_OP_CONV_TRANSPOSE,
      SEG_OP_RESIZE, SEG_OP_SIGMOID};
  for (int i = 0; i < g->nnodes; i++) {
    const seg_node *n = &g->nodes[i];
    CHECK (n->op == want[i], "node %d is %s, expected %s", i,
        seg_op_name (n->op), seg_op_name (want[i]));
    CHECK (n->nout == 1 && n->out[0] == m->ops[i].out[0], "node %d output", i);
    CHECK (strcmp (n->name, g->tensors[n->out[0]].name) == 0,
        "node %d named '%s'", i, n->name);
  }
  const seg_node *n = &g->nodes[1];
  CHECK (n->nin == 3 && n->in[0] == 0 && n->in[1] == 2 && n->in[2] == 3,
      "conv inputs");
  CHECK (n->a.stride[0] == 2 && n->a.stride[1] == 2, "conv stride");
  CHECK (n->a.kernel[0] == 3 && n->a.kernel[1] == 3, "conv kernel");
  CHECK (n->a.dilation[0] == 1 && n->a.dilation[1] == 1,
      "conv dilation default");
  CHECK (n->a.groups == 1 && n->a.wlayout == SEG_WL_OHWI, "conv groups/layout");
  CHECK (n->a.pad_mode == SEG_PAD_SAME_UPPER, "conv SAME");
  CHECK (n->a.act == SEG_ACT_CLIP && n->a.act_a == 0.0f && n->a.act_b == 6.0f,
      "conv fused RELU6");
  n = &g->nodes[3];
  CHECK (n->a.groups == 4 && n->a.wlayout == SEG_WL_1HWO, "depthwise groups %d",
      n->a.groups);
  CHECK (n->a.act == SEG_ACT_RELU && n->a.stride[0] == 1,
      "depthwise act/stride");
  n = &g->nodes[4];
  CHECK (n->nin == 1 && n->in[0] == 8, "MEAN as a one-input pool");
  n = &g->nodes[7];
  CHECK (n->nin == 1 && n->in[0] == 12 && n->a.act == SEG_ACT_NONE,
      "global AVERAGE_POOL");
  n = &g->nodes[9];
  CHECK (n->nin == 3 && n->in[1] == 15 && n->in[2] == 16,
      "transposed conv inputs");
  CHECK (n->a.stride[0] == 2 && n->a.stride[1] == 2 && n->a.kernel[0] == 2,
      "transposed conv stride/kernel");
  CHECK (n->a.pad_mode == SEG_PAD_SAME_UPPER && n->a.wlayout == SEG_WL_OHWI,
      "transposed conv padding %d", n->a.pad_mode);
  n = &g->nodes[10];
  CHECK (n->nin == 4 && n->in[0] == 17 && n->in[1] == -1 && n->in[2] == -1
          && n->in[3] == 18,
      "resize inputs");
  CHECK (n->a.coord == SEG_COORD_HALF_PIXEL && !n->a.nchw, "resize attrs");

  /* Tensors: dims, types, copied constant data. */
  CHECK (dims_are (&g->tensors[0], 4, 1, 8, 8, 3) && !g->tensors[0].data,
      "input");
  CHECK (g->tensors[1].dtype == SEG_DT_F16 && g->tensors[1].nbytes == 216
          && memcmp (g->tensors[1].data, m->bufs[1].bytes, 216) == 0,
      "f16 weights");
  CHECK (g->tensors[2].dtype == SEG_DT_F32 && !g->tensors[2].data,
      "dequantized weights");
  CHECK (g->tensors[3].nbytes == 16
          && memcmp (g->tensors[3].data, m->bufs[2].bytes, 16) == 0,
      "bias data");
  CHECK (g->tensors[18].dtype == SEG_DT_I32
          && dims_are (&g->tensors[18], 1, 2, 0, 0, 0),
      "size tensor");
  CHECK (strcmp (g->tensors[6].name, "dw/Kernel") == 0, "tensor name");
  CHECK (strcmp (g->tensors[20].name, "tensor#20") == 0,
      "synthesised name '%s'", g->tensors[20].name);
}

static void
test_small_valid (void)
{
  mdesc m;
  small_model (&m);
  size_t size;
  uint8_t *data = serialize (&m, &size);
  seg_graph *g = NULL;
  seg_err err;
  seg_status st = seg_import_tflite (data, size, FILE_NAME, &g, &err);
  CHECK (st == SEG_OK, "small model: %s", err.msg);
  if (st == SEG_OK) {
    check_small_graph (g, &m);
    seg_graph_free (g);
  }

  /* Every truncation breaks it: the buffer data at the end is needed. */
  for (size_t n = 0; n < size; n++) {
    seg_status tst = import_copy (data, n, &g, &err);
    CHECK (tst == SEG_ERR_FORMAT && names_file (&err),
        "truncated to %zu of %zu: status %d '%s'", n, size, tst, err.msg);
    if (tst == SEG_OK)
      seg_graph_free (g);
  }
  free (data);
}

/* Random byte changes must never crash or leak; whatever imports must be
 * a valid graph (the importer validates it) and failures name the file. */
static void
flip_bytes (const char *what, const uint8_t *data, size_t size, int rounds,
    size_t from)
{
  uint8_t *copy = xmalloc (size);
  int ok = 0, bad = 0;
  for (int r = 0; r < rounds; r++) {
    memcpy (copy, data, size);
    int nflips = 1 + (int) (test_rand (&rng_state) % 4);
    for (int k = 0; k < nflips; k++) {
      size_t at = from + (size_t) (test_rand (&rng_state) % (size - from));
      copy[at] = (uint8_t) test_rand (&rng_state);
    }
    seg_graph *g = NULL;
    seg_err err;
    err.msg[0] = '\0';
    seg_status st = seg_import_tflite (copy, size, FILE_NAME, &g, &err);
    if (st == SEG_OK) {
      ok++;
      CHECK (g && seg_graph_validate (g, FILE_NAME, &err) == SEG_OK,
          "%s round %d: imported graph invalid", what, r);
      seg_graph_free (g);
    } else {
      bad++;
      CHECK (g == NULL && names_file (&err), "%s round %d: status %d '%s'",
          what, r, st, err.msg);
    }
  }
  free (copy);
  printf ("%s: %d byte-flip rounds, %d still import, %d rejected\n", what,
      rounds, ok, bad);
}

static void
test_flips_small (void)
{
  mdesc m;
  small_model (&m);
  size_t size;
  uint8_t *data = serialize (&m, &size);
  flip_bytes ("small model", data, size, 4000, 0);
  free (data);
}

static void
test_identifier_and_root (void)
{
  mdesc m;
  small_model (&m);
  memcpy (m.ident, "TFL2", 5);
  expect_model ("wrong identifier", &m, SEG_ERR_FORMAT, "TFL3");
  expect_bytes ("empty file", (const uint8_t *) "", 0, SEG_ERR_FORMAT, "TFL3");

  small_model (&m);
  m.version = 2;
  expect_model ("schema version", &m, SEG_ERR_UNSUPPORTED, "version 2");

  size_t size;
  small_model (&m);
  uint8_t *data = serialize (&m, &size);
  uint8_t *bad = xmalloc (size);
  seg_fb fb = {data, size};
  seg_fb_table root;
  CHECK (seg_fb_root (&fb, &root), "root of the small model");

  memcpy (bad, data, size);
  put_le (bad, size + 100, 4);
  expect_bytes ("root offset outside", bad, size, SEG_ERR_FORMAT, "root table");

  memcpy (bad, data, size);
  put_le (bad + root.pos, (uint32_t) (int32_t) - (int32_t) size, 4);
  expect_bytes ("vtable after the end", bad, size, SEG_ERR_FORMAT,
      "root table");

  memcpy (bad, data, size);
  put_le (bad + root.pos, (uint32_t) (root.pos + 64), 4);
  expect_bytes ("vtable before the start", bad, size, SEG_ERR_FORMAT,
      "root table");

  memcpy (bad, data, size);
  put_le (bad + root.vtab, 0xfffe, 2);
  expect_bytes ("vtable length", bad, size, SEG_ERR_FORMAT, "root table");

  /* The subgraphs field's uoffset pointed far outside. */
  uint16_t fo = (uint16_t) (data[root.vtab + 8] | data[root.vtab + 9] << 8);
  memcpy (bad, data, size);
  put_le (bad + root.pos + fo, 0x7ffffff0, 4);
  expect_bytes ("subgraphs offset", bad, size, SEG_ERR_FORMAT,
      "subgraphs outside");

  /* The subgraphs vector claiming 2^30 entries. */
  seg_fb_vec sgs, ts;
  seg_fb_table sg, t0;
  const char *name = NULL;
  size_t nlen = 0;
  bool found = seg_fb_get_vector (&root, 2, 4, &sgs) == SEG_FB_OK
      && seg_fb_vec_table (&sgs, 0, &sg)
      && seg_fb_get_vector (&sg, 0, 4, &ts) == SEG_FB_OK
      && seg_fb_vec_table (&ts, 0, &t0)
      && seg_fb_get_string (&t0, 3, &name, &nlen) == SEG_FB_OK;
  CHECK (found, "subgraph 0, tensor 0 and its name in the small model");
  if (!found) {
    free (bad);
    free (data);
    return;
  }
  memcpy (bad, data, size);
  put_le (bad + sgs.pos - 4, 1u << 30, 4);
  expect_bytes ("vector length", bad, size, SEG_ERR_FORMAT,
      "subgraphs outside");

  /* The first tensor's name string claiming to run past the end. */
  memcpy (bad, data, size);
  put_le (bad + (size_t) ((const uint8_t *) name - data) - 4, (uint32_t) size,
      4);
  expect_bytes ("name length", bad, size, SEG_ERR_FORMAT,
      "tensor 0: name outside");

  /* ... or missing its NUL. */
  memcpy (bad, data, size);
  bad[(size_t) ((const uint8_t *) name - data) + nlen] = 'x';
  expect_bytes ("name NUL", bad, size, SEG_ERR_FORMAT,
      "tensor 0: name outside");

  free (bad);
  free (data);
}

static void
test_bad_tensors (void)
{
  mdesc m;

  small_model (&m);
  m.tensors[4].shape[1] = 1 << 30;
  expect_model ("absurd dim", &m, SEG_ERR_FORMAT,
      "tensor 4 'conv': shape[1] = 1073741824");
  small_model (&m);
  m.tensors[0].shape[2] = -1;
  expect_model ("negative dim", &m, SEG_ERR_FORMAT,
      "shape[2] = -1 out of range");
  small_model (&m);
  m.tensors[0].rank = 7;
  expect_model ("rank 7", &m, SEG_ERR_UNSUPPORTED, "rank 7");
  small_model (&m);
  m.tensors[14].shape[1] = m.tensors[14].shape[2] = m.tensors[14].shape[3] =
      65536;
  expect_model ("too many elements", &m, SEG_ERR_FORMAT, "more than");

  small_model (&m);
  m.tensors[3].buffer = 99;
  expect_model ("buffer index", &m, SEG_ERR_FORMAT,
      "buffer 99 out of range (9 buffers)");
  small_model (&m);
  m.bufs[2].n = 12;
  expect_model ("buffer size", &m, SEG_ERR_FORMAT,
      "tensor 3 'conv/Bias': buffer 2 holds 12 bytes, its shape needs 16");
  small_model (&m);
  m.tensors[3].type = 5; /* STRING */
  expect_model ("string tensor", &m, SEG_ERR_UNSUPPORTED, "tensor type 5");
  small_model (&m);
  m.inputs[0] = 3;
  expect_model ("constant input", &m, SEG_ERR_FORMAT, "is a constant");

  /* Many tensors sharing one buffer may not copy more than the file. */
  small_model (&m);
  for (int i = 0; i < 10; i++) {
    m.tensors[m.ntensors] = m.tensors[1];
    m.tensors[m.ntensors++].name = "conv/Kernel/again";
  }
  size_t size;
  uint8_t *data = serialize (&m, &size);
  seg_graph *g;
  seg_err err;
  CHECK (import_copy (data, size, &g, &err) == SEG_OK, "shared buffer x10: %s",
      err.msg);
  if (g)
    seg_graph_free (g);
  free (data);

  /* ... but 11 tensors sharing one 512-byte buffer would copy more than
   * the whole file again. */
  small_model (&m);
  add_buffer_f32 (&m, 128, 1.0f);
  for (int i = 0; i < 11; i++)
    add_tensor (&m, "shared", TT_F32, (uint32_t) m.nbufs - 1, 1, 128, 0, 0, 0);
  data = serialize (&m, &size);
  CHECK (size < 10 * 512, "budget test needs a file under 5 KiB, got %zu",
      size);
  expect_bytes ("shared buffer x11", data, size, SEG_ERR_FORMAT,
      "shared by more constant data than the file holds");
  free (data);
}

static void
test_bad_operators (void)
{
  mdesc m;

  small_model (&m);
  m.ops[1].in[1] = 9999;
  expect_model ("tensor index", &m, SEG_ERR_FORMAT,
      "operator 1 (CONV_2D): input 1 refers to tensor 9999 of 21");
  small_model (&m);
  m.ops[2].in[0] = -1;
  expect_model ("required input absent", &m, SEG_ERR_FORMAT,
      "operator 2 (HARD_SWISH): input 0 refers to tensor -1");
  small_model (&m);
  m.ops[5].out[0] = 21;
  expect_model ("output index", &m, SEG_ERR_FORMAT,
      "output 0 refers to tensor 21 of 21");
  small_model (&m);
  m.ops[5].nout = 2;
  m.ops[5].out[1] = 3;
  expect_model ("two outputs", &m, SEG_ERR_FORMAT, "2 outputs, expected 1");
  small_model (&m);
  m.ops[6].nin = 1;
  expect_model ("input count", &m, SEG_ERR_FORMAT,
      "operator 6 (MUL): 1 inputs, expected 2");
  small_model (&m);
  m.ops[3].code = 77;
  expect_model ("opcode index", &m, SEG_ERR_FORMAT, "opcode_index 77 of 11");

  /* Conv bias is optional. */
  small_model (&m);
  m.ops[1].in[2] = -1;
  size_t size;
  uint8_t *data = serialize (&m, &size);
  seg_graph *g;
  seg_err err;
  CHECK (import_copy (data, size, &g, &err) == SEG_OK
          && g->nodes[1].in[2] == -1,
      "conv without bias: %s", err.msg);
  if (g)
    seg_graph_free (g);
  free (data);

  /* Unknown ops, builtin and custom, named in the message. */
  small_model (&m);
  m.codes[C_HARD_SWISH] = (cdesc){B_SOFTMAX, 0, NULL};
  expect_model ("SOFTMAX", &m, SEG_ERR_UNSUPPORTED,
      "operator 2 (SOFTMAX): op not supported");
  small_model (&m);
  m.codes[C_HARD_SWISH] = (cdesc){0, 250, NULL};
  expect_model ("builtin 250", &m, SEG_ERR_UNSUPPORTED,
      "operator 2 (builtin 250)");
  small_model (&m);
  m.codes[C_TCONV].custom = "MaxPoolingWithArgmax2D";
  expect_model ("custom op", &m, SEG_ERR_UNSUPPORTED,
      "operator 9 (CUSTOM 'MaxPoolingWithArgmax2D'): op not supported");

  /* Custom options of the transposed conv. */
  small_model (&m);
  m.ops[9].ncustom = 8;
  expect_model ("custom options length", &m, SEG_ERR_FORMAT,
      "custom_options hold 8 bytes, expected 12");
  small_model (&m);
  m.ops[9].ncustom = -1;
  expect_model ("custom options missing", &m, SEG_ERR_FORMAT, "hold 0 bytes");
  small_model (&m);
  put_le (m.ops[9].custom, 0, 4);
  expect_model ("custom padding unknown", &m, SEG_ERR_FORMAT,
      "padding 0 unknown");
  small_model (&m);
  put_le (m.ops[9].custom + 4, 0, 4);
  expect_model ("custom stride 0", &m, SEG_ERR_FORMAT,
      "stride 2 x 0 out of range");

  /* Options. */
  small_model (&m);
  m.ops[1].opt[2].v = 4; /* TANH */
  expect_model ("fused TANH", &m, SEG_ERR_UNSUPPORTED, "fused activation 4");
  small_model (&m);
  m.ops[1].opt_type = 0;
  expect_model ("conv without options", &m, SEG_ERR_FORMAT,
      "missing builtin_options");
  small_model (&m);
  m.ops[1].opt_type = 5;
  expect_model ("conv options type", &m, SEG_ERR_FORMAT,
      "union type 5, expected 1");
  small_model (&m);
  m.ops[1].opt[0].v = 0;
  expect_model ("conv stride 0", &m, SEG_ERR_FORMAT, "stride 2 x 0");
  small_model (&m);
  m.ops[3].opt[3].v = 3; /* depth_multiplier */
  expect_model ("depth multiplier", &m, SEG_ERR_FORMAT, "depth_multiplier 3");
  small_model (&m);
  m.tensors[2].shape[3] = 2; /* conv weights I = 2 for 3 input channels */
  m.tensors[1].shape[3] = 2;
  m.bufs[1].n = 4 * 3 * 3 * 2 * 2;
  expect_model ("conv groups", &m, SEG_ERR_FORMAT,
      "does not fit 3 input channels");
  small_model (&m);
  m.ops[7].opt[3].v = 3;
  expect_model ("non-global pool", &m, SEG_ERR_UNSUPPORTED,
      "only global pooling");
  small_model (&m);
  m.ops[4].opt[0].v = 0;
  expect_model ("MEAN without keep_dims", &m, SEG_ERR_UNSUPPORTED, "keep_dims");
  small_model (&m);
  put_le (m.bufs[5].bytes + 4, 3, 4);
  expect_model ("MEAN axes {1,3}", &m, SEG_ERR_UNSUPPORTED, "axes {1, 2}");
  small_model (&m);
  set_opts (&m.ops[10], 15, 2, (fbf[]){{2, F_U8, 1}, {3, F_U8, 1}});
  expect_model ("resize both modes", &m, SEG_ERR_FORMAT, "both set");
  small_model (&m);
  m.tensors[1].type = TT_I8;
  m.bufs[1].n = 108;
  expect_model ("int8 DEQUANTIZE", &m, SEG_ERR_UNSUPPORTED,
      "operator 0 (DEQUANTIZE): only constant float16");
  small_model (&m);
  m.tensors[2].shape[1] = 5;
  expect_model ("DEQUANTIZE shape", &m, SEG_ERR_FORMAT,
      "operator 0 (DEQUANTIZE): output shape differs");

  /* Graph-level structure checked by validate. */
  small_model (&m);
  m.ops[5].in[0] = 11; /* LOGISTIC reading its own output */
  expect_model ("cycle", &m, SEG_ERR_FORMAT, "not produced by an earlier node");
  small_model (&m);
  m.ops[5].out[0] = 3; /* writes a constant */
  expect_model ("output is constant", &m, SEG_ERR_FORMAT, "already defined");
  small_model (&m);
  m.nin = 2;
  m.inputs[1] = 9;
  expect_model ("two inputs", &m, SEG_ERR_UNSUPPORTED, "2 inputs, exactly 1");
  small_model (&m);
  m.outputs[0] = 50;
  expect_model ("output index", &m, SEG_ERR_FORMAT,
      "outputs refers to tensor 50 of 21");
}

/* MediaPipe's SAME for a transposed conv is not ONNX's SAME_UPPER when the
 * input is not a multiple of the stride: the padding is pinned then. */
static void
test_transpose_conv_odd (void)
{
  mdesc m;
  small_model (&m);
  m.tensors[0] = (tdesc){"x", TT_F32, 4, {1, 3, 3, 4}, 0};
  m.tensors[1] = (tdesc){"w", TT_F32, 4, {2, 2, 2, 4}, 6};
  m.tensors[2] = (tdesc){"b", TT_F32, 1, {2}, 7};
  m.tensors[3] = (tdesc){"y", TT_F32, 4, {1, 5, 5, 2}, 0};
  m.ntensors = 4;
  m.nops = 0;
  odesc *o = add_op (&m, C_TCONV, 3, 0, 1, 2, 3);
  o->ncustom = 12;
  put_le (o->custom, 1, 4);
  put_le (o->custom + 4, 2, 4);
  put_le (o->custom + 8, 2, 4);
  m.outputs[0] = 3;
  size_t size;
  uint8_t *data = serialize (&m, &size);
  seg_graph *g;
  seg_err err;
  CHECK (import_copy (data, size, &g, &err) == SEG_OK,
      "odd transposed conv: %s", err.msg);
  if (g) {
    const seg_node *n = &g->nodes[0];
    CHECK (n->a.pad_mode == SEG_PAD_EXPLICIT && n->a.pads[0] == 0
            && n->a.pads[1] == 0 && n->a.pads[2] == 1 && n->a.pads[3] == 1,
        "pads %d %d %d %d", n->a.pads[0], n->a.pads[1], n->a.pads[2],
        n->a.pads[3]);
    seg_graph_free (g);
  }
  free (data);
}

static uint8_t *
read_file (const char *path, size_t *size)
{
  FILE *f = fopen (path, "rb");
  if (!f)
    return NULL;
  uint8_t *data = NULL;
  long n = -1;
  if (fseek (f, 0, SEEK_END) == 0 && (n = ftell (f)) > 0
      && fseek (f, 0, SEEK_SET) == 0) {
    data = xmalloc ((size_t) n);
    if (fread (data, 1, (size_t) n, f) != (size_t) n) {
      free (data);
      data = NULL;
    }
  }
  fclose (f);
  *size = data ? (size_t) n : 0;
  return data;
}

typedef struct
{
  const char *file;
  int64_t h;
  const char *output;
} real_model;

/* False when the model file is not there (the test then skips). */
static bool
test_real_model (const char *dir, const real_model *rm, bool abuse)
{
  char path[4096];
  snprintf (path, sizeof path, "%s/%s", dir, rm->file);
  size_t size;
  uint8_t *data = read_file (path, &size);
  if (!data)
    return false;
  seg_graph *g = NULL;
  seg_err err;
  seg_status st = seg_import_tflite (data, size, rm->file, &g, &err);
  CHECK (st == SEG_OK, "%s: %s", rm->file, err.msg);
  if (st == SEG_OK) {
    const seg_tensor *in = &g->tensors[g->inputs[0]];
    const seg_tensor *out = &g->tensors[g->outputs[0]];
    CHECK (dims_are (in, 4, 1, rm->h, 256, 3) && in->dtype == SEG_DT_F32,
        "%s: input dims", rm->file);
    CHECK (dims_are (out, 4, 1, rm->h, 256, 1), "%s: output dims", rm->file);
    CHECK (strcmp (out->name, rm->output) == 0, "%s: output '%s'", rm->file,
        out->name);
    /* The 246 TFLite operators, one node each: CONV counts the 43
     * CONV_2D and 11 DEPTHWISE_CONV_2D; the 10 global pools are
     * AVERAGE_POOL_2D in the square model, MEAN in the landscape one. */
    static const struct
    {
      seg_op op;
      int n;
    } counts[] = {
        {SEG_OP_CONV, 54},
        {SEG_OP_DEQUANTIZE, 110},
        {SEG_OP_RELU, 22},
        {SEG_OP_HARDSWISH, 11},
        {SEG_OP_SIGMOID, 11},
        {SEG_OP_ADD, 14},
        {SEG_OP_MUL, 10},
        {SEG_OP_GLOBAL_AVG_POOL, 10},
        {SEG_OP_RESIZE, 3},
        {SEG_OP_CONV_TRANSPOSE, 1},
    };
    int total = 0;
    for (size_t i = 0; i < sizeof counts / sizeof counts[0]; i++) {
      int n = count_op (g, counts[i].op);
      CHECK (n == counts[i].n, "%s: %d %s nodes, expected %d", rm->file, n,
          seg_op_name (counts[i].op), counts[i].n);
      total += counts[i].n;
    }
    CHECK (g->nnodes == total, "%s: %d nodes, expected %d", rm->file, g->nnodes,
        total);
    int depthwise = 0;
    for (int i = 0; i < g->nnodes; i++) {
      const seg_node *n = &g->nodes[i];
      if (n->op == SEG_OP_CONV && n->a.wlayout == SEG_WL_1HWO) {
        depthwise++;
        CHECK (n->a.groups == g->tensors[n->in[0]].dims[3],
            "%s: depthwise groups", rm->file);
      }
      if (n->op == SEG_OP_CONV_TRANSPOSE) {
        CHECK (n->a.stride[0] == 2 && n->a.stride[1] == 2 && n->a.kernel[0] == 2
                && n->a.kernel[1] == 2 && n->a.pad_mode == SEG_PAD_SAME_UPPER
                && n->a.wlayout == SEG_WL_OHWI && n->nin == 3,
            "%s: transposed conv attrs", rm->file);
      }
      if (n->op == SEG_OP_DEQUANTIZE) {
        const seg_tensor *x = &g->tensors[n->in[0]],
                         *y = &g->tensors[n->out[0]];
        CHECK (x->dtype == SEG_DT_F16 && x->data && y->dtype == SEG_DT_F32
                && !y->data,
            "%s: DEQUANTIZE %d tensors", rm->file, i);
      }
      if (n->op == SEG_OP_RESIZE)
        CHECK (n->a.coord == SEG_COORD_HALF_PIXEL && n->nin == 4
                && n->in[3] >= 0 && g->tensors[n->in[3]].data,
            "%s: resize attrs", rm->file);
    }
    CHECK (depthwise == 11, "%s: %d depthwise convs", rm->file, depthwise);
    seg_graph_free (g);
  }

  if (abuse && st == SEG_OK) {
    size_t limit = size < 65536 ? size : 65536;
    for (size_t n = 0; n < limit; n++) {
      seg_status tst = import_copy (data, n, &g, &err);
      CHECK (tst == SEG_ERR_FORMAT && names_file (&err),
          "%s truncated to %zu: status %d '%s'", rm->file, n, tst, err.msg);
      if (tst == SEG_OK)
        seg_graph_free (g);
    }
    /* Flips over the whole file, then over its last 36 KiB, where the
     * converter put the FlatBuffer structure (tables, vectors, names)
     * after 210 KiB of weights. */
    flip_bytes (rm->file, data, size, 1500, 0);
    flip_bytes (rm->file, data, size, 3000, size > 36864 ? size - 36864 : 0);
  }
  free (data);
  return true;
}

int
main (int argc, char **argv)
{
  const char *dir = getenv ("SEG_MODEL_DIR");
  if (!dir || !*dir)
    dir = argc > 1 ? argv[1] : NULL;

  test_reader ();
  test_small_valid ();
  test_identifier_and_root ();
  test_bad_tensors ();
  test_bad_operators ();
  test_transpose_conv_odd ();
  test_flips_small ();

  static const real_model models[] = {
      {"selfie_segmentation.tflite", 256, "activation_10"},
      {"selfie_segmentation_landscape.tflite", 144, "segment_back"},
  };
  const char *missing = NULL;
  if (!dir)
    missing = "no model directory (set SEG_MODEL_DIR or pass it as argv[1])";
  else
    for (int i = 0; i < 2; i++)
      if (!test_real_model (dir, &models[i], i == 0) && !missing)
        missing = models[i].file;

  if (failures) {
    fprintf (stderr, "test-tflite: %d check(s) failed\n", failures);
    return 1;
  }
  if (missing) {
    printf ("SKIP: %s: run scripts/fetch-models.sh; the checks that need no "
            "model passed\n",
        missing);
    return TEST_SKIP;
  }
  printf ("test-tflite: all checks passed\n");
  return 0;
}
