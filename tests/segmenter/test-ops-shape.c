/* Value ops (Shape, Gather, Slice, Concat, Cast, Unsqueeze/Squeeze/
 * Reshape, ConstantOfShape), the plan-time shape arithmetic of ops/shape.c,
 * against ONNX's documented examples and torch's export patterns; their
 * overflow rules (Cast saturates and wraps as numpy does); and their
 * refusal of activations and of what a hostile file can provoke.
 *
 * Tolerance: exact equality; the value ops do no float maths.
 */
#include "ops-env.h"

/* ---- value ops --------------------------------------------------------- */

/* Checks v's value against dtype/dims/bytes, then frees it. */
static void
expect (const char *what, seg_status st, const seg_err *err, seg_value *o,
    seg_dtype dt, int rank, const int64_t *dims, const void *data)
{
  CHECK (st == SEG_OK, "%s: %s", what, err->msg);
  if (st != SEG_OK)
    return;
  size_t nbytes = (size_t) elements (rank, dims) * seg_dtype_size (dt);
  CHECK (o->kind == SEG_VAL_STATIC && o->dtype == dt && o->rank == rank
          && (rank == 0
              || memcmp (o->dims, dims, (size_t) rank * sizeof *dims) == 0)
          && o->nbytes == nbytes,
      "%s: got %s rank %d dims[0] %lld nbytes %zu", what,
      seg_dtype_name (o->dtype), o->rank, (long long) o->dims[0], o->nbytes);
  CHECK (o->data && (nbytes == 0 || memcmp (o->data, data, nbytes) == 0),
      "%s: wrong values", what);
  free (o->data);
  o->data = NULL;
}

static void
expect_error (const char *what, seg_status st, seg_status want,
    const seg_err *err, const char *needle)
{
  CHECK (st == want && strstr (err->msg, "node_x")
          && (!needle || strstr (err->msg, needle)),
      "%s: status %d, want %d, '%s'", what, st, want, err->msg);
}

static void
test_shape (void)
{
  seg_value v[2];
  seg_err err;
  seg_node n = make_node (SEG_OP_SHAPE, 1);
  seg_status st;

  /* an NHWC activation reported in the file's NCHW order */
  set_val (&v[0], SEG_VAL_ACT, SEG_DT_F32, 4, (int64_t[]){1, 20, 30, 3}, NULL);
  n.a.nchw = true;
  st = eval_node (&n, v, &err);
  expect ("shape nchw", st, &err, &v[1], SEG_DT_I64, 1, (int64_t[]){4},
      (int64_t[]){1, 3, 20, 30});
  n.a.nchw = false;
  st = eval_node (&n, v, &err);
  expect ("shape nhwc", st, &err, &v[1], SEG_DT_I64, 1, (int64_t[]){4},
      (int64_t[]){1, 20, 30, 3});

  /* opset 15 start/end */
  n.a.nchw = true;
  n.a.start = 1;
  n.a.end = -1;
  n.a.has_end = true;
  st = eval_node (&n, v, &err);
  expect ("shape [1:-1]", st, &err, &v[1], SEG_DT_I64, 1, (int64_t[]){2},
      (int64_t[]){3, 20});
  n.a.start = -2;
  n.a.has_end = false;
  st = eval_node (&n, v, &err);
  expect ("shape [-2:]", st, &err, &v[1], SEG_DT_I64, 1, (int64_t[]){2},
      (int64_t[]){20, 30});
  n.a.start = -10;
  n.a.end = 100;
  n.a.has_end = true;
  st = eval_node (&n, v, &err);
  expect ("shape clamped", st, &err, &v[1], SEG_DT_I64, 1, (int64_t[]){4},
      (int64_t[]){1, 3, 20, 30});
  n.a.start = 3;
  n.a.end = 1;
  st = eval_node (&n, v, &err);
  expect ("shape empty", st, &err, &v[1], SEG_DT_I64, 1, (int64_t[]){0}, NULL);

  /* a constant of rank 2, nchw ignored off rank 4 */
  n.a.start = 0;
  n.a.has_end = false;
  set_val (&v[0], SEG_VAL_CONST, SEG_DT_F32, 2, (int64_t[]){5, 6},
      (float[30]){0});
  st = eval_node (&n, v, &err);
  expect ("shape rank 2", st, &err, &v[1], SEG_DT_I64, 1, (int64_t[]){2},
      (int64_t[]){5, 6});

  /* dims not yet known */
  set_val (&v[0], SEG_VAL_ACT, SEG_DT_F32, 4, (int64_t[]){1, -1, 30, 3}, NULL);
  st = eval_node (&n, v, &err);
  expect_error ("shape unknown dim", st, SEG_ERR_SHAPE, &err, NULL);
}

static void
test_gather (void)
{
  seg_value v[3];
  seg_err err;
  seg_node n = make_node (SEG_OP_GATHER, 2);
  seg_status st;
  int64_t shp[] = {1, 3, 20, 30};

  /* Gather(Shape(x), 2): a scalar */
  set_val (&v[0], SEG_VAL_STATIC, SEG_DT_I64, 1, (int64_t[]){4}, shp);
  set_val (&v[1], SEG_VAL_CONST, SEG_DT_I64, 0, NULL, (int64_t[]){2});
  st = eval_node (&n, v, &err);
  expect ("gather scalar", st, &err, &v[2], SEG_DT_I64, 0, NULL,
      (int64_t[]){20});
  set_val (&v[1], SEG_VAL_CONST, SEG_DT_I32, 1, (int64_t[]){2},
      (int32_t[]){-1, 0});
  st = eval_node (&n, v, &err);
  expect ("gather negative", st, &err, &v[2], SEG_DT_I64, 1, (int64_t[]){2},
      (int64_t[]){30, 1});

  /* ONNX example, axis 0: [3,2] by [2,2] -> [2,2,2] */
  float d0[] = {1.0f, 1.2f, 2.3f, 3.4f, 4.5f, 5.7f};
  set_val (&v[0], SEG_VAL_CONST, SEG_DT_F32, 2, (int64_t[]){3, 2}, d0);
  set_val (&v[1], SEG_VAL_CONST, SEG_DT_I64, 2, (int64_t[]){2, 2},
      (int64_t[]){0, 1, 1, 2});
  st = eval_node (&n, v, &err);
  expect ("gather onnx axis 0", st, &err, &v[2], SEG_DT_F32, 3,
      (int64_t[]){2, 2, 2},
      (float[]){1.0f, 1.2f, 2.3f, 3.4f, 2.3f, 3.4f, 4.5f, 5.7f});

  /* ONNX example, axis 1: [3,3] by [1,2] -> [3,1,2] */
  float d1[] = {1.0f, 1.2f, 1.9f, 2.3f, 3.4f, 3.9f, 4.5f, 5.7f, 5.9f};
  n.a.axis = 1;
  set_val (&v[0], SEG_VAL_CONST, SEG_DT_F32, 2, (int64_t[]){3, 3}, d1);
  set_val (&v[1], SEG_VAL_CONST, SEG_DT_I64, 2, (int64_t[]){1, 2},
      (int64_t[]){0, 2});
  st = eval_node (&n, v, &err);
  expect ("gather onnx axis 1", st, &err, &v[2], SEG_DT_F32, 3,
      (int64_t[]){3, 1, 2}, (float[]){1.0f, 1.9f, 2.3f, 3.9f, 4.5f, 5.9f});
  n.a.axis = -1;
  st = eval_node (&n, v, &err);
  expect ("gather axis -1", st, &err, &v[2], SEG_DT_F32, 3,
      (int64_t[]){3, 1, 2}, (float[]){1.0f, 1.9f, 2.3f, 3.9f, 4.5f, 5.9f});

  /* errors */
  n.a.axis = 2;
  st = eval_node (&n, v, &err);
  expect_error ("gather bad axis", st, SEG_ERR_FORMAT, &err, "axis");
  n.a.axis = 0;
  set_val (&v[1], SEG_VAL_CONST, SEG_DT_I64, 1, (int64_t[]){2},
      (int64_t[]){0, 3});
  st = eval_node (&n, v, &err);
  expect_error ("gather index 3 of 3", st, SEG_ERR_FORMAT, &err, "index");
  set_val (&v[1], SEG_VAL_CONST, SEG_DT_I64, 1, (int64_t[]){1},
      (int64_t[]){-4});
  st = eval_node (&n, v, &err);
  expect_error ("gather index -4 of 3", st, SEG_ERR_FORMAT, &err, "index");
  set_val (&v[1], SEG_VAL_CONST, SEG_DT_F32, 1, (int64_t[]){1}, (float[]){0});
  st = eval_node (&n, v, &err);
  expect_error ("gather float indices", st, SEG_ERR_FORMAT, &err, NULL);
}

static void
test_slice (void)
{
  seg_value v[6];
  seg_err err;
  seg_node n = make_node (SEG_OP_SLICE, 5);
  seg_status st;
  int64_t d[] = {1, 2, 3, 4, 5, 6, 7, 8};

  /* ONNX example: axes [0,1], starts [1,0], ends [2,3], steps [1,2] */
  set_val (&v[0], SEG_VAL_CONST, SEG_DT_I64, 2, (int64_t[]){2, 4}, d);
  set_val (&v[1], SEG_VAL_CONST, SEG_DT_I64, 1, (int64_t[]){2},
      (int64_t[]){1, 0});
  set_val (&v[2], SEG_VAL_CONST, SEG_DT_I64, 1, (int64_t[]){2},
      (int64_t[]){2, 3});
  set_val (&v[3], SEG_VAL_CONST, SEG_DT_I64, 1, (int64_t[]){2},
      (int64_t[]){0, 1});
  set_val (&v[4], SEG_VAL_CONST, SEG_DT_I64, 1, (int64_t[]){2},
      (int64_t[]){1, 2});
  st = eval_node (&n, v, &err);
  expect ("slice onnx steps", st, &err, &v[5], SEG_DT_I64, 2, (int64_t[]){1, 2},
      (int64_t[]){5, 7});

  /* ONNX example: starts [0,1], ends [-1,1000], no axes/steps */
  n.nin = 3;
  n.out[0] = 5;
  set_val (&v[1], SEG_VAL_CONST, SEG_DT_I64, 1, (int64_t[]){2},
      (int64_t[]){0, 1});
  set_val (&v[2], SEG_VAL_CONST, SEG_DT_I32, 1, (int64_t[]){2},
      (int32_t[]){-1, 1000});
  st = eval_node (&n, v, &err);
  expect ("slice onnx clamp", st, &err, &v[5], SEG_DT_I64, 2, (int64_t[]){1, 3},
      (int64_t[]){2, 3, 4});

  /* negative steps over a 1-D value */
  int64_t r[] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9};
  n.nin = 5;
  set_val (&v[0], SEG_VAL_CONST, SEG_DT_I64, 1, (int64_t[]){10}, r);
  set_val (&v[1], SEG_VAL_CONST, SEG_DT_I64, 1, (int64_t[]){1},
      (int64_t[]){-1});
  set_val (&v[2], SEG_VAL_CONST, SEG_DT_I64, 1, (int64_t[]){1},
      (int64_t[]){INT64_MIN});
  set_val (&v[3], SEG_VAL_CONST, SEG_DT_I64, 1, (int64_t[]){1}, (int64_t[]){0});
  set_val (&v[4], SEG_VAL_CONST, SEG_DT_I64, 1, (int64_t[]){1},
      (int64_t[]){-1});
  st = eval_node (&n, v, &err);
  expect ("slice reverse", st, &err, &v[5], SEG_DT_I64, 1, (int64_t[]){10},
      (int64_t[]){9, 8, 7, 6, 5, 4, 3, 2, 1, 0});
  set_val (&v[1], SEG_VAL_CONST, SEG_DT_I64, 1, (int64_t[]){1}, (int64_t[]){8});
  set_val (&v[2], SEG_VAL_CONST, SEG_DT_I64, 1, (int64_t[]){1}, (int64_t[]){1});
  set_val (&v[4], SEG_VAL_CONST, SEG_DT_I64, 1, (int64_t[]){1},
      (int64_t[]){-3});
  st = eval_node (&n, v, &err);
  expect ("slice step -3", st, &err, &v[5], SEG_DT_I64, 1, (int64_t[]){3},
      (int64_t[]){8, 5, 2});
  set_val (&v[1], SEG_VAL_CONST, SEG_DT_I64, 1, (int64_t[]){1},
      (int64_t[]){100});
  set_val (&v[2], SEG_VAL_CONST, SEG_DT_I64, 1, (int64_t[]){1},
      (int64_t[]){-100});
  set_val (&v[4], SEG_VAL_CONST, SEG_DT_I64, 1, (int64_t[]){1},
      (int64_t[]){INT64_MIN});
  st = eval_node (&n, v, &err);
  expect ("slice huge negative step", st, &err, &v[5], SEG_DT_I64, 1,
      (int64_t[]){1}, (int64_t[]){9});
  set_val (&v[1], SEG_VAL_CONST, SEG_DT_I64, 1, (int64_t[]){1}, (int64_t[]){2});
  set_val (&v[2], SEG_VAL_CONST, SEG_DT_I64, 1, (int64_t[]){1},
      (int64_t[]){INT64_MAX});
  set_val (&v[4], SEG_VAL_CONST, SEG_DT_I64, 1, (int64_t[]){1}, (int64_t[]){4});
  st = eval_node (&n, v, &err);
  expect ("slice step 4 to INT64_MAX", st, &err, &v[5], SEG_DT_I64, 1,
      (int64_t[]){2}, (int64_t[]){2, 6});
  set_val (&v[1], SEG_VAL_CONST, SEG_DT_I64, 1, (int64_t[]){1}, (int64_t[]){5});
  set_val (&v[2], SEG_VAL_CONST, SEG_DT_I64, 1, (int64_t[]){1}, (int64_t[]){5});
  st = eval_node (&n, v, &err);
  expect ("slice empty", st, &err, &v[5], SEG_DT_I64, 1, (int64_t[]){0}, NULL);

  /* 3-D, negative axis and a negative step in the middle dim */
  int64_t c[24];
  for (int i = 0; i < 24; i++)
    c[i] = i;
  set_val (&v[0], SEG_VAL_CONST, SEG_DT_I64, 3, (int64_t[]){2, 3, 4}, c);
  set_val (&v[1], SEG_VAL_CONST, SEG_DT_I64, 1, (int64_t[]){2},
      (int64_t[]){-1, 1});
  set_val (&v[2], SEG_VAL_CONST, SEG_DT_I64, 1, (int64_t[]){2},
      (int64_t[]){INT64_MIN, 3});
  set_val (&v[3], SEG_VAL_CONST, SEG_DT_I64, 1, (int64_t[]){2},
      (int64_t[]){-2, 2});
  set_val (&v[4], SEG_VAL_CONST, SEG_DT_I64, 1, (int64_t[]){2},
      (int64_t[]){-2, 1});
  st = eval_node (&n, v, &err);
  expect ("slice 3-D", st, &err, &v[5], SEG_DT_I64, 3, (int64_t[]){2, 2, 2},
      (int64_t[]){9, 10, 1, 2, 21, 22, 13, 14});

  /* errors: step 0, repeated axis, axis out of range, length mismatch */
  set_val (&v[4], SEG_VAL_CONST, SEG_DT_I64, 1, (int64_t[]){2},
      (int64_t[]){0, 1});
  st = eval_node (&n, v, &err);
  expect_error ("slice step 0", st, SEG_ERR_FORMAT, &err, "step");
  set_val (&v[4], SEG_VAL_CONST, SEG_DT_I64, 1, (int64_t[]){2},
      (int64_t[]){1, 1});
  set_val (&v[3], SEG_VAL_CONST, SEG_DT_I64, 1, (int64_t[]){2},
      (int64_t[]){1, -2});
  st = eval_node (&n, v, &err);
  expect_error ("slice repeated axis", st, SEG_ERR_FORMAT, &err, "twice");
  set_val (&v[3], SEG_VAL_CONST, SEG_DT_I64, 1, (int64_t[]){2},
      (int64_t[]){0, 3});
  st = eval_node (&n, v, &err);
  expect_error ("slice axis 3 of rank 3", st, SEG_ERR_FORMAT, &err, "axis");
  set_val (&v[3], SEG_VAL_CONST, SEG_DT_I64, 1, (int64_t[]){1}, (int64_t[]){0});
  st = eval_node (&n, v, &err);
  expect_error ("slice axes too short", st, SEG_ERR_FORMAT, &err, NULL);
}

static void
test_concat (void)
{
  seg_value v[4];
  seg_err err;
  seg_node n = make_node (SEG_OP_CONCAT, 2);
  seg_status st;

  set_val (&v[0], SEG_VAL_STATIC, SEG_DT_I64, 1, (int64_t[]){2},
      (int64_t[]){1, 3});
  set_val (&v[1], SEG_VAL_CONST, SEG_DT_I64, 1, (int64_t[]){2},
      (int64_t[]){40, 60});
  st = eval_node (&n, v, &err);
  expect ("concat 1-D", st, &err, &v[2], SEG_DT_I64, 1, (int64_t[]){4},
      (int64_t[]){1, 3, 40, 60});

  /* 2-D along axis 1 (and -1), three inputs, one empty */
  n = make_node (SEG_OP_CONCAT, 3);
  set_val (&v[0], SEG_VAL_CONST, SEG_DT_F32, 2, (int64_t[]){2, 2},
      (float[]){1, 2, 3, 4});
  set_val (&v[1], SEG_VAL_CONST, SEG_DT_F32, 2, (int64_t[]){2, 0}, NULL);
  set_val (&v[2], SEG_VAL_CONST, SEG_DT_F32, 2, (int64_t[]){2, 1},
      (float[]){5, 6});
  for (int axis = 1; axis >= -1; axis -= 2) {
    n.a.axis = axis;
    st = eval_node (&n, v, &err);
    expect ("concat axis 1", st, &err, &v[3], SEG_DT_F32, 2, (int64_t[]){2, 3},
        (float[]){1, 2, 5, 3, 4, 6});
  }
  n.a.axis = 0;
  st = eval_node (&n, v, &err);
  expect_error ("concat mismatched dims", st, SEG_ERR_FORMAT, &err, NULL);
  n.a.axis = 2;
  st = eval_node (&n, v, &err);
  expect_error ("concat bad axis", st, SEG_ERR_FORMAT, &err, "axis");
  n.a.axis = 1;
  set_val (&v[2], SEG_VAL_CONST, SEG_DT_I64, 2, (int64_t[]){2, 1},
      (int64_t[]){5, 6});
  st = eval_node (&n, v, &err);
  expect_error ("concat mixed types", st, SEG_ERR_FORMAT, &err, NULL);
}

/* The resize-sizes pattern torch emits:
 * Concat(Slice(Shape(x), [0], [2]), Constant[H, W]) with x NHWC in the IR. */
static void
test_torch_pattern (void)
{
  seg_value v[7];
  seg_err err;
  seg_status st;
  memset (v, 0, sizeof v);
  set_val (&v[0], SEG_VAL_ACT, SEG_DT_F32, 4, (int64_t[]){1, 33, 41, 40}, NULL);
  set_val (&v[2], SEG_VAL_CONST, SEG_DT_I64, 1, (int64_t[]){1}, (int64_t[]){0});
  set_val (&v[3], SEG_VAL_CONST, SEG_DT_I64, 1, (int64_t[]){1}, (int64_t[]){2});
  set_val (&v[5], SEG_VAL_CONST, SEG_DT_I64, 1, (int64_t[]){2},
      (int64_t[]){520, 640});

  seg_node shape = make_node (SEG_OP_SHAPE, 1);
  shape.a.nchw = true;
  shape.out[0] = 1;
  seg_node slice = make_node (SEG_OP_SLICE, 3);
  slice.in[0] = 1;
  slice.in[1] = 2;
  slice.in[2] = 3;
  slice.out[0] = 4;
  seg_node concat = make_node (SEG_OP_CONCAT, 2);
  concat.a.nchw = true;
  concat.in[0] = 4;
  concat.in[1] = 5;
  concat.out[0] = 6;

  st = eval_node (&shape, v, &err);
  CHECK (st == SEG_OK, "torch pattern shape: %s", err.msg);
  st = eval_node (&slice, v, &err);
  CHECK (st == SEG_OK, "torch pattern slice: %s", err.msg);
  st = eval_node (&concat, v, &err);
  expect ("torch resize sizes", st, &err, &v[6], SEG_DT_I64, 1, (int64_t[]){4},
      (int64_t[]){1, 40, 520, 640});
  free (v[1].data);
  free (v[4].data);
}

static void
test_cast (void)
{
  seg_value v[2];
  seg_err err;
  seg_node n = make_node (SEG_OP_CAST, 1);
  seg_status st;

  /* out of range saturates, from exactly 2^63 on */
  float e[] = {0x1p63f, -0x1p63f, 0x1p62f};
  set_val (&v[0], SEG_VAL_CONST, SEG_DT_F32, 1, (int64_t[]){3}, e);
  n.a.to = SEG_DT_I64;
  st = eval_node (&n, v, &err);
  expect ("cast f32->i64 at 2^63", st, &err, &v[1], SEG_DT_I64, 1,
      (int64_t[]){3}, (int64_t[]){INT64_MAX, INT64_MIN, 1ll << 62});

  float f[] = {2.7f, -2.7f, 0.0f, 1e30f, -1e30f, NAN};
  set_val (&v[0], SEG_VAL_CONST, SEG_DT_F32, 1, (int64_t[]){6}, f);
  st = eval_node (&n, v, &err);
  expect ("cast f32->i64", st, &err, &v[1], SEG_DT_I64, 1, (int64_t[]){6},
      (int64_t[]){2, -2, 0, INT64_MAX, INT64_MIN, 0});
  n.a.to = SEG_DT_I32;
  st = eval_node (&n, v, &err);
  expect ("cast f32->i32", st, &err, &v[1], SEG_DT_I32, 1, (int64_t[]){6},
      (int32_t[]){2, -2, 0, INT32_MAX, INT32_MIN, 0});
  n.a.to = SEG_DT_U8;
  st = eval_node (&n, v, &err);
  expect ("cast f32->u8", st, &err, &v[1], SEG_DT_U8, 1, (int64_t[]){6},
      (uint8_t[]){2, 0, 0, 255, 0, 0});
  n.a.to = SEG_DT_BOOL;
  st = eval_node (&n, v, &err);
  expect ("cast f32->bool", st, &err, &v[1], SEG_DT_BOOL, 1, (int64_t[]){6},
      (uint8_t[]){1, 1, 0, 1, 1, 1});

  int64_t k[] = {3, -5, 4294967297ll, 0};
  set_val (&v[0], SEG_VAL_STATIC, SEG_DT_I64, 2, (int64_t[]){2, 2}, k);
  n.a.to = SEG_DT_F32;
  st = eval_node (&n, v, &err);
  expect ("cast i64->f32", st, &err, &v[1], SEG_DT_F32, 2, (int64_t[]){2, 2},
      (float[]){3, -5, 4294967297.0f, 0});
  n.a.to = SEG_DT_I32;
  st = eval_node (&n, v, &err);
  expect ("cast i64->i32 wraps", st, &err, &v[1], SEG_DT_I32, 2,
      (int64_t[]){2, 2}, (int32_t[]){3, -5, 1, 0});

  set_val (&v[0], SEG_VAL_CONST, SEG_DT_I32, 0, NULL, (int32_t[]){-7});
  n.a.to = SEG_DT_I64;
  st = eval_node (&n, v, &err);
  expect ("cast i32->i64 scalar", st, &err, &v[1], SEG_DT_I64, 0, NULL,
      (int64_t[]){-7});

  set_val (&v[0], SEG_VAL_CONST, SEG_DT_BOOL, 1, (int64_t[]){2},
      (uint8_t[]){1, 0});
  n.a.to = SEG_DT_F32;
  st = eval_node (&n, v, &err);
  expect ("cast bool->f32", st, &err, &v[1], SEG_DT_F32, 1, (int64_t[]){2},
      (float[]){1, 0});

  set_val (&v[0], SEG_VAL_CONST, SEG_DT_U8, 1, (int64_t[]){2},
      (uint8_t[]){200, 7});
  n.a.to = SEG_DT_I64;
  st = eval_node (&n, v, &err);
  expect ("cast u8->i64", st, &err, &v[1], SEG_DT_I64, 1, (int64_t[]){2},
      (int64_t[]){200, 7});

  set_val (&v[0], SEG_VAL_CONST, SEG_DT_F16, 1, (int64_t[]){2},
      (uint16_t[]){0x3e00, 0xc100});
  n.a.to = SEG_DT_F32;
  st = eval_node (&n, v, &err);
  expect ("cast f16->f32", st, &err, &v[1], SEG_DT_F32, 1, (int64_t[]){2},
      (float[]){1.5f, -2.5f});

  n.a.to = SEG_DT_F16;
  st = eval_node (&n, v, &err);
  expect_error ("cast to f16", st, SEG_ERR_UNSUPPORTED, &err, NULL);
}

static void
test_unsqueeze_squeeze_reshape (void)
{
  seg_value v[3];
  seg_err err;
  seg_status st;
  int64_t d12[12];
  for (int i = 0; i < 12; i++)
    d12[i] = 100 + i;

  /* Unsqueeze: axes from the input (opset 13) */
  seg_node n = make_node (SEG_OP_UNSQUEEZE, 2);
  set_val (&v[0], SEG_VAL_STATIC, SEG_DT_I64, 0, NULL, (int64_t[]){20});
  set_val (&v[1], SEG_VAL_CONST, SEG_DT_I64, 1, (int64_t[]){1}, (int64_t[]){0});
  st = eval_node (&n, v, &err);
  expect ("unsqueeze scalar", st, &err, &v[2], SEG_DT_I64, 1, (int64_t[]){1},
      (int64_t[]){20});
  set_val (&v[0], SEG_VAL_CONST, SEG_DT_I64, 2, (int64_t[]){3, 4}, d12);
  set_val (&v[1], SEG_VAL_CONST, SEG_DT_I64, 1, (int64_t[]){2},
      (int64_t[]){-1, 0});
  st = eval_node (&n, v, &err);
  expect ("unsqueeze [0,-1]", st, &err, &v[2], SEG_DT_I64, 4,
      (int64_t[]){1, 3, 4, 1}, d12);
  set_val (&v[1], SEG_VAL_CONST, SEG_DT_I64, 1, (int64_t[]){2},
      (int64_t[]){1, -3});
  st = eval_node (&n, v, &err);
  expect_error ("unsqueeze repeated axis", st, SEG_ERR_FORMAT, &err, "twice");
  set_val (&v[1], SEG_VAL_CONST, SEG_DT_I64, 1, (int64_t[]){1}, (int64_t[]){3});
  st = eval_node (&n, v, &err);
  expect_error ("unsqueeze axis 3 of out rank 3", st, SEG_ERR_FORMAT, &err,
      "axis");
  set_val (&v[1], SEG_VAL_CONST, SEG_DT_I64, 1, (int64_t[]){5},
      (int64_t[]){0, 1, 2, 3, 4});
  st = eval_node (&n, v, &err);
  expect_error ("unsqueeze to rank 7", st, SEG_ERR_UNSUPPORTED, &err, "rank");

  /* axes from the attribute (before opset 13) */
  n = make_node (SEG_OP_UNSQUEEZE, 1);
  n.out[0] = 2;
  n.a.ints[0] = 1;
  n.a.nints = 1;
  st = eval_node (&n, v, &err);
  expect ("unsqueeze attr", st, &err, &v[2], SEG_DT_I64, 3,
      (int64_t[]){3, 1, 4}, d12);

  /* Squeeze */
  n = make_node (SEG_OP_SQUEEZE, 2);
  set_val (&v[0], SEG_VAL_CONST, SEG_DT_I64, 4, (int64_t[]){1, 3, 1, 4}, d12);
  set_val (&v[1], SEG_VAL_CONST, SEG_DT_I64, 1, (int64_t[]){1},
      (int64_t[]){-2});
  st = eval_node (&n, v, &err);
  expect ("squeeze [-2]", st, &err, &v[2], SEG_DT_I64, 3, (int64_t[]){1, 3, 4},
      d12);
  set_val (&v[1], SEG_VAL_CONST, SEG_DT_I64, 1, (int64_t[]){1}, (int64_t[]){1});
  st = eval_node (&n, v, &err);
  expect_error ("squeeze a dim of 3", st, SEG_ERR_FORMAT, &err, "not 1");
  set_val (&v[1], SEG_VAL_CONST, SEG_DT_I64, 1, (int64_t[]){1}, (int64_t[]){4});
  st = eval_node (&n, v, &err);
  expect_error ("squeeze axis 4 of rank 4", st, SEG_ERR_FORMAT, &err, "axis");
  n = make_node (SEG_OP_SQUEEZE, 1);
  n.out[0] = 2;
  st = eval_node (&n, v, &err);
  expect ("squeeze all", st, &err, &v[2], SEG_DT_I64, 2, (int64_t[]){3, 4},
      d12);
  n.a.ints[0] = 0;
  n.a.nints = 1;
  st = eval_node (&n, v, &err);
  expect ("squeeze attr", st, &err, &v[2], SEG_DT_I64, 3, (int64_t[]){3, 1, 4},
      d12);

  /* Reshape */
  n = make_node (SEG_OP_RESHAPE, 2);
  set_val (&v[0], SEG_VAL_CONST, SEG_DT_I64, 3, (int64_t[]){2, 3, 2}, d12);
  static const struct
  {
    int k;
    int64_t shape[4];
    int rank;
    int64_t dims[4];
  } ok[] = {
      {2, {0, -1}, 2, {2, 6}},
      {3, {2, -1, 3}, 3, {2, 2, 3}},
      {1, {-1}, 1, {12}},
      {4, {0, 0, 2, 1}, 4, {2, 3, 2, 1}},
  };
  for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
    set_val (&v[1], SEG_VAL_CONST, SEG_DT_I64, 1, (int64_t[]){ok[i].k},
        (int64_t *) ok[i].shape);
    st = eval_node (&n, v, &err);
    expect ("reshape", st, &err, &v[2], SEG_DT_I64, ok[i].rank, ok[i].dims,
        d12);
  }
  static const struct
  {
    int k;
    int64_t shape[4];
    seg_status st;
  } bad[] = {
      {2, {-1, -1}, SEG_ERR_FORMAT},
      {2, {5, -1}, SEG_ERR_SHAPE},
      {2, {-2, 6}, SEG_ERR_FORMAT},
      {2, {5, 3}, SEG_ERR_SHAPE},
      {4, {1, 1, 1, 0}, SEG_ERR_FORMAT}, /* 0 past the input's rank */
      {3, {INT64_MAX, INT64_MAX, 0}, SEG_ERR_FORMAT},
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    set_val (&v[1], SEG_VAL_CONST, SEG_DT_I64, 1, (int64_t[]){bad[i].k},
        (int64_t *) bad[i].shape);
    st = eval_node (&n, v, &err);
    expect_error ("reshape bad shape", st, bad[i].st, &err, NULL);
  }
}

static void
test_constant_of_shape (void)
{
  seg_value v[2];
  seg_err err;
  seg_node n = make_node (SEG_OP_CONSTANT_OF_SHAPE, 1);
  seg_status st;

  set_val (&v[0], SEG_VAL_CONST, SEG_DT_I64, 1, (int64_t[]){2},
      (int64_t[]){2, 3});
  n.a.value = 1.5f;
  st = eval_node (&n, v, &err);
  expect ("constant of shape f32", st, &err, &v[1], SEG_DT_F32, 2,
      (int64_t[]){2, 3}, (float[]){1.5f, 1.5f, 1.5f, 1.5f, 1.5f, 1.5f});
  n.a.to = SEG_DT_I64;
  n.a.value = 7;
  st = eval_node (&n, v, &err);
  expect ("constant of shape i64", st, &err, &v[1], SEG_DT_I64, 2,
      (int64_t[]){2, 3}, (int64_t[]){7, 7, 7, 7, 7, 7});
  set_val (&v[0], SEG_VAL_CONST, SEG_DT_I64, 1, (int64_t[]){0}, NULL);
  st = eval_node (&n, v, &err);
  expect ("constant of shape scalar", st, &err, &v[1], SEG_DT_I64, 0, NULL,
      (int64_t[]){7});
  set_val (&v[0], SEG_VAL_CONST, SEG_DT_I64, 1, (int64_t[]){2},
      (int64_t[]){2, -3});
  st = eval_node (&n, v, &err);
  expect_error ("constant of shape negative", st, SEG_ERR_FORMAT, &err, NULL);
  set_val (&v[0], SEG_VAL_CONST, SEG_DT_I64, 1, (int64_t[]){3},
      (int64_t[]){65536, 65536, 65536});
  st = eval_node (&n, v, &err);
  expect_error ("constant of shape huge", st, SEG_ERR_FORMAT, &err, NULL);
}

/* Every value op refuses an activation input, naming the node. */
static void
test_value_ops_refuse_act (void)
{
  static const seg_op ops[] = {SEG_OP_GATHER, SEG_OP_SLICE, SEG_OP_CONCAT,
      SEG_OP_CAST, SEG_OP_UNSQUEEZE, SEG_OP_SQUEEZE, SEG_OP_RESHAPE,
      SEG_OP_CONSTANT_OF_SHAPE, SEG_OP_FLOOR, SEG_OP_CEIL};
  static const int nin[] = {2, 3, 2, 1, 2, 1, 2, 1, 1, 1};
  float x[6] = {0};
  for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++) {
    seg_value v[4];
    seg_err err;
    seg_node_plan plan = {0};
    seg_node n = make_node (ops[i], nin[i]);
    set_val (&v[0], SEG_VAL_ACT, SEG_DT_F32, 2, (int64_t[]){2, 3}, x);
    for (int k = 1; k < nin[i]; k++)
      set_val (&v[k], SEG_VAL_CONST, SEG_DT_I64, 1, (int64_t[]){1},
          (int64_t[]){0});
    if (ops[i] == SEG_OP_CONCAT)
      set_val (&v[1], SEG_VAL_CONST, SEG_DT_F32, 2, (int64_t[]){2, 3}, x);
    seg_status st = seg_op_vtable_get (ops[i])->infer (&n, v, &plan, &err);
    CHECK (st == SEG_ERR_UNSUPPORTED && strstr (err.msg, "node 'node_x'")
            && strstr (err.msg, seg_op_name (ops[i]))
            && strstr (err.msg, "runs on activations"),
        "%s on an activation: %d '%s'", seg_op_name (ops[i]), st, err.msg);
    CHECK (seg_op_vtable_get (ops[i])->run == NULL, "%s has a run",
        seg_op_name (ops[i]));
  }
  /* also when the activation is not the first input */
  seg_value v[3];
  seg_err err;
  seg_node_plan plan = {0};
  seg_node n = make_node (SEG_OP_RESHAPE, 2);
  set_val (&v[0], SEG_VAL_CONST, SEG_DT_F32, 2, (int64_t[]){2, 3}, x);
  set_val (&v[1], SEG_VAL_ACT, SEG_DT_I64, 1, (int64_t[]){1}, NULL);
  seg_status st = seg_op_vtable_get (n.op)->infer (&n, v, &plan, &err);
  CHECK (st == SEG_ERR_UNSUPPORTED, "Reshape with ACT shape: %d '%s'", st,
      err.msg);
}

int
main (void)
{
  test_shape ();
  test_gather ();
  test_slice ();
  test_concat ();
  test_torch_pattern ();
  test_cast ();
  test_unsqueeze_squeeze_reshape ();
  test_constant_of_shape ();
  test_value_ops_refuse_act ();

  if (failures) {
    fprintf (stderr, "FAIL: %d of %d checks failed\n", failures, checks);
    return 1;
  }
  printf ("ok: %d checks\n", checks);
  return 0;
}
