/* Tests of the ONNX importer on malformed and hostile files built with
 * onnx-builder.h: opsets and model-level structure, tensors of every kind
 * and size, wrong wire types, truncation at every byte and bit flips,
 * graphs long and wide enough to expose anything quadratic, and the memory
 * budget against shape bombs. Each error is checked for its status and
 * for a message naming the file and the field. With SEG_WRITE_SEEDS=DIR
 * the hostile models are also written to DIR as seeds for fuzz/fuzz-onnx. */
#include "onnx-builder.h"

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
  FAILS (model (18, relu_graph ()), SEG_ERR_UNSUPPORTED, "opset_import[0]",
      "opset 18");
  for (int v = 11; v <= 17; v++) {
    seg_graph *g = OK (model (v, relu_graph ()));
    seg_graph_free (g);
  }
  seg_graph_free (OK (model_domain (13, "ai.onnx", relu_graph ())));
  FAILS (model_domain (13, "ai.onnx.ml", relu_graph ()), SEG_ERR_FORMAT,
      "opset_import", "default domain");

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
      FILE_NAME ": node 'n0' uses op 'Frobnicate' which segd does not run",
      NULL);
  g = END;
  g_std_io (&g);
  g_node (&g, node ("Frobnicate", NULL, "x", "y", END));
  FAILS (model (13, g), SEG_ERR_UNSUPPORTED, "node 'Frobnicate#0'",
      "Frobnicate");

  g = END;
  g_std_io (&g);
  buf n = node ("FusedConv", "fc", "x", "y", END);
  b_str (&n, 7, "com.microsoft");
  g_node (&g, n);
  FAILS (model (13, g), SEG_ERR_UNSUPPORTED, "node 'fc'",
      "domain 'com.microsoft'");

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
  FAILS (model (13, g), SEG_ERR_FORMAT, "node 'b' (Sigmoid)",
      "output 't' is already defined");
  g = END;
  g_std_io (&g);
  g_init (&g, tf32 ("k", 0, NULL, ones));
  g_node (&g, node ("Relu", "a", "x", "k", END));
  g_node (&g, node ("Relu", "c", "k", "y", END));
  FAILS (model (13, g), SEG_ERR_FORMAT, "node 'a'",
      "output 'k' is already defined");
  g = END;
  g_std_io (&g);
  g_init (&g, tf32 ("k", 0, NULL, ones));
  g_init (&g, tf32 ("k", 0, NULL, ones));
  g_node (&g, node ("Relu", "r", "x", "y", END));
  FAILS (model (13, g), SEG_ERR_FORMAT, "graph.initializer[1]",
      "'k' is already defined");
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
  g_input (&g, "x2", 4, (int64_t[]){1, 4, 8, 8});
  g_node (&g, node ("Add", "a", "x,x2", "y", END));
  FAILS (model (13, g), SEG_ERR_FORMAT, "graph.input", "2 inputs");
  g = END;
  g_output (&g, "y", 4, (int64_t[]){1, 1, 1, 1});
  g_init (&g, tf32 ("y", 4, (int64_t[]){1, 1, 1, 1}, ones));
  FAILS (model (13, g), SEG_ERR_FORMAT, "graph.input", "0 inputs");
  /* an initializer listed as an input is a constant, not an input */
  g = END;
  g_std_io (&g);
  g_input (&g, "k", 0, NULL);
  g_init (&g, tf32 ("k", 0, NULL, ones));
  g_node (&g, node ("Mul", "m", "x,k", "y", END));
  seg_graph *gr = OK (model (13, g));
  if (gr) {
    CHECK (gr->ninputs == 1 && !strcmp (gr->tensors[gr->inputs[0]].name, "x"),
        "real input");
    seg_graph_free (gr);
  }
  g = END;
  g_input (&g, "x", 4, (int64_t[]){1, 3, -1, -1});
  g_output (&g, "y", 4, (int64_t[]){1, 3, -1, -1});
  g_node (&g, node ("Relu", "r", "x", "y", END));
  gr = OK (model (13, g));
  if (gr) {
    CHECK (dims_are (&gr->tensors[gr->inputs[0]], 4, (int64_t[]){1, -1, -1, 3}),
        "symbolic dims -> -1");
    seg_graph_free (gr);
  }
  g = END;
  b_msg (&g, 11, value_info ("x", DT_INT64, 4, (int64_t[]){1, 3, 8, 8}));
  g_output (&g, "y", 4, (int64_t[]){1, 3, 8, 8});
  g_node (&g, node ("Relu", "r", "x", "y", END));
  FAILS (model (13, g), SEG_ERR_UNSUPPORTED, "graph.input[0] 'x'", "INT64");
  g = END;
  g_input (&g, "x", 3, (int64_t[]){3, 8, 8});
  g_output (&g, "y", 3, (int64_t[]){3, 8, 8});
  g_node (&g, node ("Relu", "r", "x", "y", END));
  FAILS (model (13, g), SEG_ERR_UNSUPPORTED, "graph.input[0] 'x'", "rank 4");
  g = END;
  g_input (&g, "x", -1, NULL);
  g_output (&g, "y", 4, (int64_t[]){1, 3, 8, 8});
  g_node (&g, node ("Relu", "r", "x", "y", END));
  FAILS (model (13, g), SEG_ERR_UNSUPPORTED, "graph.input[0] 'x'", "no shape");

  /* outputs */
  g = END;
  g_std_io (&g);
  g_output (&g, "z", 4, (int64_t[]){1, 4, 8, 8});
  g_node (&g, node ("Relu", "r", "x", "y", END));
  g_node (&g, node ("Relu", "r2", "x", "z", END));
  FAILS (model (13, g), SEG_ERR_FORMAT, "graph.output", "2 outputs");
  g = END;
  g_input (&g, "x", 4, (int64_t[]){1, 4, 8, 8});
  g_node (&g, node ("Relu", "r", "x", "y", END));
  FAILS (model (13, g), SEG_ERR_FORMAT, "graph.output", "0 outputs");
  g = END;
  g_std_io (&g);
  FAILS (model (13, g), SEG_ERR_FORMAT, "graph.output[0] 'y'",
      "never produced");
  g = END;
  g_std_io (&g);
  g_init (&g, tf32 ("y", 4, (int64_t[]){1, 1, 1, 1}, ones));
  FAILS (model (13, g), SEG_ERR_UNSUPPORTED, "graph.output[0] 'y'",
      "graph input");
  g = END;
  g_input (&g, "x", 4, (int64_t[]){1, 4, 8, 8});
  g_output (&g, "y", 2, (int64_t[]){1, 4});
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
  buf t = tensor_head ("k", DT_FLOAT, 1, (int64_t[]){1});
  b_float (&t, 4, 2.5f);
  seg_graph *gr = OK (with_init (t));
  if (gr) {
    const seg_tensor *k = tensor_named (gr, "k");
    CHECK (k && k->dtype == SEG_DT_F32 && *(float *) k->data == 2.5f,
        "unpacked float_data");
    seg_graph_free (gr);
  }
  t = tensor_head ("k", DT_FLOAT, 3, (int64_t[]){2, 1, 1});
  b_float (&t, 4, 1.0f);
  b_bytes (&t, 4, (float[]){7.0f}, 4);
  gr = OK (with_init (t));
  if (gr) {
    /* rank 3 against an activation: only the NHWC copy is left */
    const seg_tensor *k = tensor_named (gr, "k:nhwc");
    CHECK (k && dims_are (k, 4, (int64_t[]){1, 1, 1, 2}) && k->nbytes == 8
            && ((float *) k->data)[0] == 1.0f && ((float *) k->data)[1] == 7.0f,
        "mixed float_data");
    seg_graph_free (gr);
  }
  /* int64_data, int32_data for int8 and f16, double_data, bool raw */
  buf g = END;
  g_std_io (&g);
  t = tensor_head ("i64", DT_INT64, 1, (int64_t[]){3});
  b_packed_varints (&t, 7, 3, (int64_t[]){-1, 0, INT64_MAX});
  g_init (&g, t);
  t = tensor_head ("i8", DT_INT8, 1, (int64_t[]){2});
  b_packed_varints (&t, 5, 2, (int64_t[]){-128, 127});
  g_init (&g, t);
  t = tensor_head ("h", DT_FLOAT16, 0, NULL);
  b_packed_varints (&t, 5, 1, (int64_t[]){0x3e00});
  g_init (&g, t);
  t = tensor_head ("d", DT_DOUBLE, 1, (int64_t[]){1});
  double dv = 0.125;
  b_bytes (&t, 10, &dv, 8);
  g_init (&g, t);
  g_init (&g,
      tensor_raw ("bl", DT_BOOL, 1, (int64_t[]){2}, (uint8_t[]){1, 0}, 2));
  g_init (&g,
      tensor_raw ("u8", DT_UINT8, 1, (int64_t[]){1}, (uint8_t[]){200}, 1));
  g_init (&g,
      tensor_raw ("i32", DT_INT32, 1, (int64_t[]){1}, (int32_t[]){-5}, 4));
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
            && ((int64_t *) x->data)[2] == INT64_MAX,
        "int64_data");
    x = tensor_named (gr, "i8");
    CHECK (x && x->dtype == SEG_DT_I8 && ((int8_t *) x->data)[0] == -128
            && ((int8_t *) x->data)[1] == 127,
        "int8 via int32_data");
    x = tensor_named (gr, "h");
    CHECK (x && x->dtype == SEG_DT_F16 && *(uint16_t *) x->data == 0x3e00,
        "f16 via int32_data");
    x = tensor_named (gr, "d");
    CHECK (x && x->dtype == SEG_DT_F64 && *(double *) x->data == 0.125,
        "double_data");
    x = tensor_named (gr, "bl");
    CHECK (x && x->dtype == SEG_DT_BOOL && ((uint8_t *) x->data)[0] == 1,
        "bool");
    x = tensor_named (gr, "u8");
    CHECK (x && x->dtype == SEG_DT_U8 && *(uint8_t *) x->data == 200, "uint8");
    x = tensor_named (gr, "i32");
    CHECK (x && x->dtype == SEG_DT_I32 && *(int32_t *) x->data == -5, "int32");
    seg_graph_free (gr);
  }

  /* errors */
  FAILS (with_init (tensor_raw ("k", DT_FLOAT, 1, (int64_t[]){4}, ones, 12)),
      SEG_ERR_FORMAT, "tensor 'k'", "raw_data has 12 bytes, expected 16");
  FAILS (with_init (tensor_raw ("k", DT_FLOAT, 1, (int64_t[]){4}, ones, 20)),
      SEG_ERR_FORMAT, "tensor 'k'", "raw_data has 20 bytes, expected 16");
  t = tensor_head ("k", DT_FLOAT, 1, (int64_t[]){3});
  b_packed_varints (&t, 7, 1, (int64_t[]){1});
  FAILS (with_init (t), SEG_ERR_FORMAT, "tensor 'k'", "int64_data");
  t = tensor_head ("k", DT_FLOAT, 1, (int64_t[]){3});
  b_float (&t, 4, 1.0f);
  FAILS (with_init (t), SEG_ERR_FORMAT, "tensor 'k'",
      "float_data has 1 values, expected 3");
  t = tensor_head ("k", DT_FLOAT, 1, (int64_t[]){1});
  b_float (&t, 4, 1.0f);
  b_bytes (&t, 9, ones, 4);
  FAILS (with_init (t), SEG_ERR_FORMAT, "tensor 'k'", "float_data");
  t = tensor_head ("k", DT_FLOAT, 1, (int64_t[]){2});
  b_bytes (&t, 4, ones, 5);
  FAILS (with_init (t), SEG_ERR_FORMAT, "tensor 'k'", "float_data: packed run");
  t = tensor_head ("k", DT_INT8, 1, (int64_t[]){1});
  b_packed_varints (&t, 5, 1, (int64_t[]){300});
  FAILS (with_init (t), SEG_ERR_FORMAT, "tensor 'k'", "int32_data[0] = 300");
  t = tensor_head ("k", DT_FLOAT, 1, (int64_t[]){2});
  FAILS (with_init (t), SEG_ERR_FORMAT, "tensor 'k'",
      "float_data has 0 values");
  t = tensor_head ("k", DT_FLOAT, 1, (int64_t[]){1});
  b_float (&t, 4, 1.0f);
  b_str (&t, 6, "text");
  FAILS (with_init (t), SEG_ERR_FORMAT, "tensor 'k'", "string_data");
  FAILS (with_init (tensor_raw ("k", DT_STRING, 1, (int64_t[]){1}, "a", 1)),
      SEG_ERR_UNSUPPORTED, "tensor 'k'", "STRING");
  FAILS (with_init (tensor_raw ("k", 16, 1, (int64_t[]){1}, "ab", 2)),
      SEG_ERR_UNSUPPORTED, "tensor 'k'", "BFLOAT16");
  FAILS (with_init (tensor_raw ("k", 0, 1, (int64_t[]){1}, "ab", 2)),
      SEG_ERR_FORMAT, "tensor 'k'", "data_type");
  t = END;
  b_packed_varints (&t, 1, 1, (int64_t[]){1});
  b_str (&t, 8, "k");
  b_bytes (&t, 9, ones, 4);
  FAILS (with_init (t), SEG_ERR_FORMAT, "tensor 'k'", "data_type is missing");
  t = END;
  b_int (&t, 2, DT_FLOAT);
  b_bytes (&t, 9, ones, 4);
  FAILS (with_init (t), SEG_ERR_FORMAT, "graph.initializer[0]", "name");

  /* absurd dims */
  FAILS (with_init (tensor_raw ("k", DT_FLOAT, 1,
             (int64_t[]){(int64_t) 1 << 40}, ones, 4)),
      SEG_ERR_FORMAT, "tensor 'k'", "dims[0] = 1099511627776");
  FAILS (with_init (tensor_raw ("k", DT_FLOAT, 2, (int64_t[]){1, -4}, ones, 4)),
      SEG_ERR_FORMAT, "tensor 'k'", "dims[1] = -4");
  FAILS (with_init (tensor_raw ("k", DT_FLOAT, 3,
             (int64_t[]){65536, 65536, 65536}, ones, 4)),
      SEG_ERR_FORMAT, "tensor 'k'", "dims describe more than");
  FAILS (with_init (tensor_raw ("k", DT_FLOAT, 7,
             (int64_t[]){1, 1, 1, 1, 1, 1, 1}, ones, 4)),
      SEG_ERR_UNSUPPORTED, "tensor 'k'", "rank 7");
  g = END;
  g_input (&g, "x", 4, (int64_t[]){1, 3, (int64_t) 1 << 40, 8});
  g_output (&g, "y", 4, (int64_t[]){1, 3, 8, 8});
  g_node (&g, node ("Relu", "r", "x", "y", END));
  FAILS (model (13, g), SEG_ERR_FORMAT, "graph.input[0].type.shape.dim[2]",
      "dim_value");

  /* external data */
  t = tensor_head ("k", DT_FLOAT, 1, (int64_t[]){1});
  b_int (&t, 14, 1);
  FAILS (with_init (t), SEG_ERR_UNSUPPORTED, "tensor 'k'", "external");
  t = tensor_head ("k", DT_FLOAT, 1, (int64_t[]){1});
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
  FAILS (model (13, g), SEG_ERR_FORMAT, "graph.node[0].name has wire type 0",
      NULL);

  /* attribute i as bytes */
  g = END;
  g_std_io (&g);
  buf a = END;
  b_str (&a, 1, "axis");
  b_str (&a, 3, "0");
  g_node (&g, node ("Relu", "r", "x", "y", a, END));
  FAILS (model (13, g), SEG_ERR_FORMAT, "node 'r' attribute[0].i",
      "wire type 2");

  /* ints attribute as fixed32 */
  g = END;
  g_std_io (&g);
  a = END;
  b_str (&a, 1, "axes");
  b_fixed32 (&a, 8, 2);
  b_int (&a, 20, AT_INTS);
  g_node (&g, node ("ReduceMean", "rm", "x", "y", a, END));
  FAILS (model (13, g), SEG_ERR_FORMAT, "node 'rm'",
      "'axes' ints: wrong wire type");

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
  FAILS (model (13, g), SEG_ERR_FORMAT, "graph.node[0].name",
      "control byte 0x1b");
  g = END;
  g_std_io (&g);
  buf nn = END;
  b_str (&nn, 1, "x");
  b_str (&nn, 2, "y");
  b_bytes (&nn, 3, "a\0b", 3);
  b_str (&nn, 4, "Relu");
  g_node (&g, nn);
  FAILS (model (13, g), SEG_ERR_FORMAT, "graph.node[0].name",
      "control byte 0x00");
}

/* The reader's own contract, independent of ONNX. */
static void
test_pb_reader (void)
{
  /* repeated scalars: unpacked, packed, split packed runs */
  buf m = END;
  b_int (&m, 3, 1);
  b_packed_varints (&m, 3, 2, (int64_t[]){2, 300});
  b_str (&m, 4, "skip");
  b_packed_varints (&m, 3, 1, (int64_t[]){-1});
  size_t cnt;
  const char *why = NULL;
  CHECK (seg_pb_repeated_count (m.p, m.n, 3, SEG_PB_KIND_VARINT, &cnt, &why)
              == SEG_PB_END
          && cnt == 4,
      "count %zu", cnt);
  seg_pb_repeated it;
  uint64_t v[4] = {0};
  seg_pb_repeated_init (&it, m.p, m.n, 3, SEG_PB_KIND_VARINT);
  for (int i = 0; i < 4; i++)
    seg_pb_repeated_next (&it, &v[i], &why);
  CHECK (v[0] == 1 && v[1] == 2 && v[2] == 300 && (int64_t) v[3] == -1,
      "values");
  CHECK (seg_pb_repeated_next (&it, &v[0], &why) == SEG_PB_END, "end");
  /* a 4-byte LEN field is a packed run of one fixed32 ... */
  CHECK (seg_pb_repeated_count (m.p, m.n, 4, SEG_PB_KIND_FIXED32, &cnt, &why)
              == SEG_PB_END
          && cnt == 1,
      "packed fixed32 count %zu", cnt);
  /* ... but a fixed64 run must be a whole number of 8 bytes, and varints
   * are not fixed32 */
  CHECK (seg_pb_repeated_count (m.p, m.n, 4, SEG_PB_KIND_FIXED64, &cnt, &why)
          == SEG_PB_BAD,
      "4-byte run read as fixed64");
  CHECK (seg_pb_repeated_count (m.p, m.n, 3, SEG_PB_KIND_FIXED32, &cnt, &why)
          == SEG_PB_BAD,
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

static uint32_t rng_state = 0x9e3779b9u;

static void
check_outcome (seg_status st, seg_graph *g, const seg_err *err,
    const char *what, size_t i)
{
  if (st == SEG_OK) {
    CHECK (g != NULL && g->ninputs == 1 && g->noutputs == 1,
        "%s %zu: bad graph", what, i);
    seg_graph_free (g);
    return;
  }
  CHECK (st == SEG_ERR_FORMAT || st == SEG_ERR_UNSUPPORTED, "%s %zu: status %d",
      what, i, st);
  CHECK (g == NULL, "%s %zu: graph left on error", what, i);
  CHECK (!strncmp (err->msg, FILE_NAME ": ", strlen (FILE_NAME) + 2),
      "%s %zu: message '%s'", what, i, err->msg);
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
  CHECK (import_bytes (m.p, m.n, &g, &err) == SEG_OK, "whole model: %s",
      err.msg);
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
    int flips = 1 + (int) (test_rand (&rng_state) % 4);
    for (int k = 0; k < flips; k++) {
      size_t at = (size_t) (test_rand (&rng_state) % m.n);
      copy[at] = (i & 1)
          ? (uint8_t) test_rand (&rng_state)
          : (uint8_t) (copy[at] ^ (1u << (test_rand (&rng_state) % 8)));
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
  CHECK (getrlimit (RLIMIT_CPU, saved) == 0
          && getrusage (RUSAGE_SELF, &ru) == 0,
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
  g_input (&g, "x", 4, (int64_t[]){1, 3, 8, 8});
  for (int i = 0; i < n; i++) {
    snprintf (in, sizeof in, i ? "t%d" : "x", i - 1);
    snprintf (out, sizeof out, i + 1 < n ? "t%d" : "y", i);
    snprintf (name, sizeof name, "n%d", i);
    g_node (&g, node (i % 2 ? "Relu" : "Identity", name, in, out, END));
  }
  g_output (&g, "y", 4, (int64_t[]){1, 3, 8, 8});
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
  printf ("test-onnx: %d-node chain (%zu bytes) loaded in %.3f s: %s\n", n, m.n,
      t1 - t0, st == SEG_OK ? "ok" : error);
  CHECK (st == SEG_OK && sm, "%d-node chain: %s", n, error ? error : "?");
  if (sm) {
    /* the Relus stay, the Identities go but one writing the output */
    CHECK (seg_model_get_info (sm)->num_nodes == n / 2 + n % 2, "%d nodes left",
        seg_model_get_info (sm)->num_nodes);
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
  g_input (&g, "x", 4, (int64_t[]){1, 3, 8, 8});
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
  g_output (&g, "y", 4, (int64_t[]){1, 3, 8, 8});
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
          "%.3f s: %s\n",
      k, m.n, t1 - t0, st == SEG_OK ? "ok" : error);
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
  seg_load_options opt = {.memory_budget = budget};
  write_seed (seed, &m);
  seg_status st = budget
      ? seg_model_load_from_memory_with_options (m.p, m.n, FILE_NAME, &opt, &sm,
          &error)
      : seg_model_load_from_memory (m.p, m.n, FILE_NAME, &sm, &error);
  if (limited)
    setrlimit (RLIMIT_AS, &saved);
  if (st != want || sm || !error
      || strncmp (error, FILE_NAME ": ", strlen (FILE_NAME) + 2)
      || !strstr (error, node) || !strstr (error, "memory budget")) {
    fprintf (stderr,
        "%s:%d: expected status %d naming %s and the memory "
        "budget, got %d: '%s'\n",
        __FILE__, line, want, node, st, error ? error : "(none)");
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
  g_input (&g, "x", 4, (int64_t[]){1, 3, 8, 8});
  g_init (&g, ti64 ("shape", 1, (int64_t[]){rank}, dims));
  for (int i = 0; i < k; i++) {
    double d = 1.0;
    float f = 1.0f;
    snprintf (name, sizeof name, "bomb%d", i);
    snprintf (out, sizeof out, "big%d", i);
    buf value = dt == DT_DOUBLE
        ? tensor_raw (NULL, DT_DOUBLE, 1, (int64_t[]){1}, &d, sizeof d)
        : tensor_raw (NULL, DT_FLOAT, 1, (int64_t[]){1}, &f, sizeof f);
    g_node (&g,
        node ("ConstantOfShape", name, "shape", out, attr_t ("value", value),
            END));
  }
  g_node (&g, node ("Relu", "r", "x", "y", END));
  g_output (&g, "y", 4, (int64_t[]){1, 3, 8, 8});
  return model (13, g);
}

static void
test_memory_budget (void)
{
  /* The attack: {1024, 512, 512} doubles, 2 GiB per node, four nodes.
   * The first is refused before anything is allocated. */
  expect_over_budget ("constant-of-shape-bomb.onnx",
      bomb_model (4, DT_DOUBLE, 3, (int64_t[]){1024, 512, 512}), 0,
      SEG_ERR_FORMAT, "node 'bomb0' (ConstantOfShape)", __LINE__);
  /* Each node within the budget, their sum not: 32 MiB each against
   * 100 MiB, the fourth is refused. */
  expect_over_budget ("constant-of-shape-total.onnx",
      bomb_model (4, DT_FLOAT, 3, (int64_t[]){32, 512, 512}),
      (size_t) 100 << 20, SEG_ERR_FORMAT, "node 'bomb3' (ConstantOfShape)",
      __LINE__);
  /* ... and the same loads with room for them. */
  seg_model *sm = NULL;
  char *error = NULL;
  buf m = bomb_model (4, DT_FLOAT, 3, (int64_t[]){32, 512, 512});
  seg_load_options opt = {.memory_budget = (size_t) 160 << 20};
  CHECK (seg_model_load_from_memory_with_options (m.p, m.n, FILE_NAME, &opt,
             &sm, &error)
          == SEG_OK,
      "four 32 MiB constants in 160 MiB: %s", error ? error : "?");
  seg_model_free (sm);
  free (error);
  free (m.p);

  /* A shape computed at plan time from the input's: {1, 3, 8, 8} times
   * {1, 1, 1024, 1024} doubles, 1.6 GB. */
  buf g = END;
  double one = 1.0;
  g_input (&g, "x", 4, (int64_t[]){1, 3, 8, 8});
  g_node (&g, node ("Shape", "sh", "x", "s", END));
  g_node (&g,
      node ("Constant", "c2", NULL, "k",
          attr_ints ("value_ints", INTS (1, 1, 1024, 1024)), END));
  g_node (&g, node ("Mul", "mul", "s,k", "shp", END));
  g_node (&g,
      node ("ConstantOfShape", "planbomb", "shp", "big",
          attr_t ("value",
              tensor_raw (NULL, DT_DOUBLE, 1, (int64_t[]){1}, &one,
                  sizeof one)),
          END));
  g_node (&g, node ("Relu", "r", "x", "y", END));
  g_output (&g, "y", 4, (int64_t[]){1, 3, 8, 8});
  expect_over_budget ("plan-time-bomb.onnx", model (13, g), 0, SEG_ERR_FORMAT,
      "node 'planbomb' (ConstantOfShape)", __LINE__);

  /* Activations: an 8x8 input upsampled to 8192x8192 (805 MB) and added
   * to itself: 1.6 GB live at the Add, which every session would need. */
  g = END;
  g_input (&g, "x", 4, (int64_t[]){1, 3, 8, 8});
  g_init (&g, ti64 ("sizes", 1, (int64_t[]){4}, (int64_t[]){1, 3, 8192, 8192}));
  g_node (&g,
      node ("Resize", "up", "x,,,sizes", "a", attr_s ("mode", "linear"), END));
  g_node (&g, node ("Add", "twice", "a,a", "y", END));
  g_output (&g, "y", 4, (int64_t[]){1, 3, 8192, 8192});
  expect_over_budget ("activation-bomb.onnx", model (13, g), 0, SEG_ERR_FORMAT,
      "node 'twice' (Add)", __LINE__);
}

int
main (void)
{
  for (int i = 0; i < 256; i++)
    ones[i] = 1.0f;
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
    fprintf (stderr, "test-onnx-hostile: %d check(s) failed\n", failures);
    return 1;
  }
  printf ("test-onnx-hostile: all checks passed\n");
  return 0;
}
