/* Tests of the ONNX importer's op mappings on byte streams built with
 * onnx-builder.h: each op and its attributes, the NCHW -> NHWC rewrite of
 * activations and of the constants combined with them, the shape
 * subgraphs torch exports, and the refusals of what segd does not run.
 * Malformed and hostile files are test-onnx-hostile.c's. */
#include "onnx-builder.h"

/* ---- the small valid model (onnx-builder.h) ----------------------------- */

static void
test_small_model (void)
{
  seg_graph *g = OK (small_model ());
  if (!g)
    return;
  static const seg_op want[] = {
      SEG_OP_CONV,
      SEG_OP_RELU,
      SEG_OP_ADD,
      SEG_OP_MUL,
      SEG_OP_SHAPE,
      SEG_OP_SLICE,
      SEG_OP_CONCAT,
      SEG_OP_RESIZE,
  };
  CHECK (g->nnodes == 8, "%d nodes", g->nnodes);
  for (int i = 0; i < g->nnodes && i < 8; i++)
    CHECK (g->nodes[i].op == want[i], "node %d is %s", i,
        seg_op_name (g->nodes[i].op));
  CHECK (g->layout == SEG_LAYOUT_NCHW, "layout %d", g->layout);
  CHECK (g->ninputs == 1 && g->noutputs == 1, "%d inputs %d outputs",
      g->ninputs, g->noutputs);
  CHECK (dims_are (&g->tensors[g->inputs[0]], 4, (int64_t[]){1, 2, 3, 3}),
      "input dims not NHWC");
  CHECK (dims_are (&g->tensors[g->outputs[0]], 4, (int64_t[]){1, 4, 6, 4}),
      "output dims not NHWC");
  CHECK (!strcmp (g->tensors[g->inputs[0]].name, "x"), "input name %s",
      g->tensors[g->inputs[0]].name);

  const seg_node *conv = &g->nodes[0];
  CHECK (!strcmp (conv->name, "conv"), "conv name %s", conv->name);
  CHECK (conv->nin == 3 && conv->in[0] == g->inputs[0], "conv inputs");
  CHECK (conv->a.wlayout == SEG_WL_OIHW, "wlayout %d", conv->a.wlayout);
  CHECK (conv->a.kernel[0] == 1 && conv->a.kernel[1] == 1, "kernel");
  CHECK (conv->a.groups == 1 && conv->a.pad_mode == SEG_PAD_EXPLICIT,
      "groups/pad mode");
  const seg_tensor *w = &g->tensors[conv->in[1]];
  CHECK (dims_are (w, 4, (int64_t[]){4, 3, 1, 1}) && w->dtype == SEG_DT_F32,
      "weight dims");
  /* Weights stay in file order. */
  CHECK (w->data && ((float *) w->data)[5] == 1.25f && w->nbytes == 48,
      "weight data");
  const seg_tensor *b = &g->tensors[conv->in[2]];
  CHECK (b->data && ((float *) b->data)[1] == -0.5f, "bias data");

  const seg_node *add = &g->nodes[2];
  CHECK (add->in[0] == g->nodes[1].out[0], "add input 0");
  const seg_tensor *ac = &g->tensors[add->in[1]];
  CHECK (dims_are (ac, 4, (int64_t[]){1, 1, 1, 4}), "add constant not NHWC");
  CHECK (ac->data && ((float *) ac->data)[3] == 4, "add constant data");

  /* [4,2,3] CHW -> [1,2,3,4] HWC: element (h, w, c) = c*6 + h*3 + w. */
  const seg_tensor *mc = &g->tensors[g->nodes[3].in[1]];
  CHECK (dims_are (mc, 4, (int64_t[]){1, 2, 3, 4}), "mul constant not NHWC");
  bool permuted = mc->data != NULL && mc->nbytes == 24 * sizeof (float);
  for (int h = 0; permuted && h < 2; h++)
    for (int x = 0; x < 3; x++)
      for (int c = 0; c < 4; c++)
        permuted = permuted
            && ((float *) mc->data)[(h * 3 + x) * 4 + c]
                == (float) (c * 6 + h * 3 + x);
  CHECK (permuted, "mul constant data not permuted NCHW -> NHWC");

  const seg_node *shape = &g->nodes[4];
  CHECK (shape->a.nchw && !shape->a.has_end, "shape attrs");
  CHECK (shape->in[0] == g->nodes[3].out[0], "shape reads the mul");
  const seg_node *slice = &g->nodes[5];
  CHECK (slice->nin == 3 && g->tensors[slice->in[1]].data
          && g->tensors[slice->in[2]].data,
      "slice starts/ends are constants");
  CHECK (g->tensors[slice->in[2]].dtype == SEG_DT_I64
          && ((int64_t *) g->tensors[slice->in[2]].data)[0] == 2,
      "slice end value");
  const seg_node *concat = &g->nodes[6];
  CHECK (concat->a.axis == 0 && concat->nin == 2, "concat");
  const seg_tensor *hw = &g->tensors[concat->in[1]];
  CHECK (dims_are (hw, 1, (int64_t[]){2}) && ((int64_t *) hw->data)[1] == 6,
      "hw const");
  const seg_node *rs = &g->nodes[7];
  CHECK (rs->nin == 4 && rs->in[1] == -1 && rs->in[2] == -1
          && rs->in[3] == concat->out[0],
      "resize inputs %d %d %d", rs->in[1], rs->in[2], rs->in[3]);
  CHECK (rs->a.coord == SEG_COORD_PYTORCH_HALF_PIXEL && rs->a.nchw,
      "resize attrs");
  CHECK (rs->out[0] == g->outputs[0], "resize is the output");
  seg_graph_free (g);
}

/* ---- op mappings -------------------------------------------------------- */

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
  g_init (&g, tf32 ("W", 4, (int64_t[]){4, 1, 3, 3}, ones));
  g_node (&g,
      node ("Conv", NULL, "x,W", "y", attr_i ("group", 4),
          attr_s ("auto_pad", "SAME_UPPER"),
          attr_ints ("dilations", INTS (2, 2)), END));
  seg_graph *gr = OK (model (13, g));
  if (gr) {
    const seg_node *c = find_op (gr, SEG_OP_CONV);
    CHECK (c && c->nin == 2 && c->a.groups == 4
            && c->a.pad_mode == SEG_PAD_SAME_UPPER && c->a.dilation[0] == 2
            && c->a.dilation[1] == 2 && c->a.kernel[0] == 3
            && c->a.stride[0] == 1,
        "depthwise conv attrs");
    CHECK (c && !strcmp (c->name, "Conv#0"), "synthesised name %s",
        c ? c->name : "");
    seg_graph_free (gr);
  }

  /* bias given as an empty name; VALID, asymmetric pads/strides */
  g = END;
  g_std_io (&g);
  g_init (&g, tf32 ("W", 4, (int64_t[]){4, 4, 1, 3}, ones));
  g_node (&g,
      node ("Conv", "c", "x,W,", "y", attr_ints ("strides", INTS (1, 2)),
          attr_ints ("pads", INTS (1, 2, 3, 4)), END));
  gr = OK (model (11, g));
  if (gr) {
    const seg_node *c = find_op (gr, SEG_OP_CONV);
    CHECK (c && c->nin == 3 && c->in[2] == -1, "empty bias -> -1");
    CHECK (c && c->a.pads[0] == 1 && c->a.pads[1] == 2 && c->a.pads[2] == 3
            && c->a.pads[3] == 4 && c->a.stride[0] == 1 && c->a.stride[1] == 2
            && c->a.kernel[0] == 1 && c->a.kernel[1] == 3,
        "pads/strides/kernel");
    seg_graph_free (gr);
  }

  /* weights shared through Identity, as torch writes them */
  g = END;
  g_std_io (&g);
  g_init (&g, tf32 ("W0", 4, (int64_t[]){4, 4, 1, 1}, ones));
  g_node (&g, node ("Identity", "id", "W0", "W", END));
  g_node (&g, node ("Conv", "c", "x,W", "y", END));
  gr = OK (model (13, g));
  if (gr) {
    const seg_node *c = find_op (gr, SEG_OP_CONV);
    CHECK (count_op (gr, SEG_OP_IDENTITY) == 1, "identity kept for the passes");
    CHECK (c && c->a.kernel[0] == 1 && c->a.kernel[1] == 1,
        "kernel through identity");
    seg_graph_free (gr);
  }

  static const struct
  {
    const char *attr;
    int64_t v;
    seg_status st;
    const char *needle;
  } bad[] = {
      {"group", 0, SEG_ERR_FORMAT, "'group' = 0"},
      {"group", 3, SEG_ERR_FORMAT, "'group' = 3"},
      {"group", -1, SEG_ERR_FORMAT, "'group' = -1"},
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    g = END;
    g_std_io (&g);
    g_init (&g, tf32 ("W", 4, (int64_t[]){4, 4, 1, 1}, ones));
    g_node (&g,
        node ("Conv", "cv", "x,W", "y", attr_i (bad[i].attr, bad[i].v), END));
    FAILS (model (13, g), bad[i].st, "node 'cv' (Conv)", bad[i].needle);
  }

  g = END;
  g_std_io (&g);
  g_init (&g, tf32 ("W", 4, (int64_t[]){4, 4, 1, 1}, ones));
  g_node (&g,
      node ("Conv", "cv", "x,W", "y", attr_ints ("kernel_shape", INTS (3, 3)),
          END));
  FAILS (model (13, g), SEG_ERR_FORMAT, "node 'cv'", "kernel_shape");

  g = END;
  g_std_io (&g);
  g_init (&g, tf32 ("W", 4, (int64_t[]){4, 4, 1, 1}, ones));
  g_node (&g,
      node ("Conv", "cv", "x,W", "y", attr_ints ("pads", INTS (1, 1)), END));
  FAILS (model (13, g), SEG_ERR_FORMAT, "node 'cv'", "'pads' has 2 values");

  g = END;
  g_std_io (&g);
  g_init (&g, tf32 ("W", 4, (int64_t[]){4, 4, 1, 1}, ones));
  g_node (&g,
      node ("Conv", "cv", "x,W", "y", attr_ints ("strides", INTS (0, 1)), END));
  FAILS (model (13, g), SEG_ERR_FORMAT, "node 'cv'", "'strides'[0] = 0");

  g = END;
  g_std_io (&g);
  g_init (&g, tf32 ("W", 4, (int64_t[]){4, 4, 1, 1}, ones));
  g_node (&g,
      node ("Conv", "cv", "x,W", "y", attr_s ("auto_pad", "SIDEWAYS"), END));
  FAILS (model (13, g), SEG_ERR_FORMAT, "node 'cv'", "auto_pad");

  /* Conv1d */
  g = END;
  g_std_io (&g);
  g_init (&g, tf32 ("W", 3, (int64_t[]){4, 4, 1}, ones));
  g_node (&g, node ("Conv", "cv", "x,W", "y", END));
  FAILS (model (13, g), SEG_ERR_UNSUPPORTED, "node 'cv'", "2-D");

  /* weight computed from the input */
  g = END;
  g_std_io (&g);
  g_node (&g, node ("Conv", "cv", "x,x", "y", END));
  FAILS (model (13, g), SEG_ERR_UNSUPPORTED, "node 'cv'",
      "weight 'x' must be a constant");

  /* ConvTranspose: IOHW, output_padding */
  g = END;
  g_std_io (&g);
  g_init (&g, tf32 ("W", 4, (int64_t[]){4, 2, 2, 2}, ones));
  g_init (&g, tf32 ("B", 1, (int64_t[]){4}, ones));
  g_node (&g,
      node ("ConvTranspose", "ct", "x,W,B", "y",
          attr_ints ("strides", INTS (2, 2)),
          attr_ints ("output_padding", INTS (1, 0)), attr_i ("group", 2), END));
  gr = OK (model (13, g));
  if (gr) {
    const seg_node *c = find_op (gr, SEG_OP_CONV_TRANSPOSE);
    CHECK (c && c->a.wlayout == SEG_WL_IOHW && c->a.kernel[0] == 2
            && c->a.stride[1] == 2 && c->a.output_padding[0] == 1
            && c->a.output_padding[1] == 0 && c->a.groups == 2 && c->nin == 3,
        "conv transpose attrs");
    seg_graph_free (gr);
  }
  g = END;
  g_std_io (&g);
  g_init (&g, tf32 ("W", 4, (int64_t[]){4, 2, 2, 2}, ones));
  g_node (&g,
      node ("ConvTranspose", "ct", "x,W", "y",
          attr_ints ("output_shape", INTS (16, 16)), END));
  FAILS (model (13, g), SEG_ERR_UNSUPPORTED, "node 'ct'", "output_shape");
}

static void
test_elementwise (void)
{
  static const struct
  {
    const char *op;
    seg_op want;
  } bin[] = {
      {"Add", SEG_OP_ADD},
      {"Sub", SEG_OP_SUB},
      {"Mul", SEG_OP_MUL},
      {"Div", SEG_OP_DIV},
  };
  for (size_t i = 0; i < 4; i++) {
    /* scalar constant stays as it is */
    buf g = END;
    g_std_io (&g);
    g_init (&g, tf32 ("k", 0, NULL, (float[]){3}));
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
  g_init (&g, tf32 ("k", 3, (int64_t[]){4, 1, 1}, (float[]){1, 2, 3, 4}));
  g_node (&g, node ("Mul", "m", "k,x", "y", END));
  seg_graph *gr = OK (model (13, g));
  if (gr) {
    const seg_node *n = find_op (gr, SEG_OP_MUL);
    CHECK (n && n->in[1] == gr->inputs[0], "activation side kept");
    CHECK (n && dims_are (&gr->tensors[n->in[0]], 4, (int64_t[]){1, 1, 1, 4}),
        "[C,1,1] constant rewritten");
    seg_graph_free (gr);
  }

  /* The same constant used twice is rewritten once. */
  g = END;
  g_std_io (&g);
  g_init (&g, tf32 ("k", 4, (int64_t[]){1, 4, 1, 1}, ones));
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
  g_init (&g, tf32 ("k", 1, (int64_t[]){1}, ones));
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
    CHECK (count_op (gr, SEG_OP_SIGMOID) == 1 && count_op (gr, SEG_OP_MUL) == 1,
        "act*act");
    seg_graph_free (gr);
  }

  /* [W] would broadcast against NCHW's W axis, which NHWC does not have */
  g = END;
  g_std_io (&g);
  g_init (&g, tf32 ("row", 1, (int64_t[]){8}, ones));
  g_node (&g, node ("Add", "a", "x,row", "y", END));
  FAILS (model (13, g), SEG_ERR_UNSUPPORTED, "node 'a' (Add)", "'row'");
  g = END;
  g_std_io (&g);
  g_init (&g, tf32 ("hw", 2, (int64_t[]){8, 8}, ones));
  g_node (&g, node ("Mul", "m", "hw,x", "y", END));
  FAILS (model (13, g), SEG_ERR_UNSUPPORTED, "node 'm' (Mul)",
      "rank-2 constant 'hw'");

  /* a computed rank-1 value against an activation */
  g = END;
  g_std_io (&g);
  g_node (&g, node ("Shape", "s", "x", "shp", END));
  g_node (&g, node ("Cast", "cf", "shp", "shpf", attr_i ("to", DT_FLOAT), END));
  g_node (&g, node ("Add", "a", "x,shpf", "y", END));
  FAILS (model (13, g), SEG_ERR_UNSUPPORTED, "node 'a' (Add)", "computed");

  /* unary ops */
  static const struct
  {
    const char *op;
    seg_op want;
  } un[] = {
      {"Relu", SEG_OP_RELU},
      {"Sigmoid", SEG_OP_SIGMOID},
      {"HardSwish", SEG_OP_HARDSWISH},
      {"GlobalAveragePool", SEG_OP_GLOBAL_AVG_POOL},
      {"Identity", SEG_OP_IDENTITY},
  };
  for (size_t i = 0; i < sizeof un / sizeof un[0]; i++) {
    gr = unary_graph (14, node (un[i].op, "u", "x", "y", END), __LINE__);
    if (gr) {
      CHECK (gr->nnodes == 1 && gr->nodes[0].op == un[i].want
              && gr->nodes[0].in[0] == gr->inputs[0]
              && gr->nodes[0].out[0] == gr->outputs[0],
          "%s mapping", un[i].op);
      seg_graph_free (gr);
    }
  }

  gr = unary_graph (13, node ("HardSigmoid", "h", "x", "y", END), __LINE__);
  if (gr) {
    CHECK (gr->nodes[0].a.alpha == 0.2f && gr->nodes[0].a.beta == 0.5f,
        "hardsigmoid defaults");
    seg_graph_free (gr);
  }
  gr = unary_graph (13,
      node ("HardSigmoid", "h", "x", "y", attr_f ("alpha", 1.0f / 6),
          attr_f ("beta", 0.25f), END),
      __LINE__);
  if (gr) {
    CHECK (gr->nodes[0].a.alpha == 1.0f / 6 && gr->nodes[0].a.beta == 0.25f,
        "hardsigmoid attrs");
    seg_graph_free (gr);
  }
  /* an INT where a FLOAT belongs */
  g = END;
  g_std_io (&g);
  g_node (&g, node ("HardSigmoid", "h", "x", "y", attr_i ("alpha", 1), END));
  FAILS (model (13, g), SEG_ERR_FORMAT, "node 'h'",
      "'alpha' is INT, expected FLOAT");

  /* Clip: constant min/max inputs become attributes */
  g = END;
  g_std_io (&g);
  g_init (&g, tf32 ("lo", 0, NULL, (float[]){0}));
  g_node (&g,
      node ("Constant", "k6", NULL, "hi", attr_f ("value_float", 6), END));
  g_node (&g, node ("Clip", "clip", "x,lo,hi", "y", END));
  gr = OK (model (11, g));
  if (gr) {
    const seg_node *n = find_op (gr, SEG_OP_CLIP);
    CHECK (n && n->nin == 1 && n->a.alpha == 0 && n->a.beta == 6, "clip 0..6");
    seg_graph_free (gr);
  }
  g = END;
  g_std_io (&g);
  g_init (&g, tf32 ("hi", 1, (int64_t[]){1}, (float[]){2.5f}));
  g_node (&g, node ("Clip", "clip", "x,,hi", "y", END));
  gr = OK (model (13, g));
  if (gr) {
    const seg_node *n = find_op (gr, SEG_OP_CLIP);
    CHECK (n && isinf (n->a.alpha) && n->a.alpha < 0 && n->a.beta == 2.5f,
        "clip max only");
    seg_graph_free (gr);
  }
  gr = unary_graph (13, node ("Clip", "clip", "x", "y", END), __LINE__);
  if (gr) {
    CHECK (isinf (gr->nodes[0].a.alpha) && isinf (gr->nodes[0].a.beta)
            && gr->nodes[0].a.beta > 0,
        "clip unbounded");
    seg_graph_free (gr);
  }
  g = END;
  g_std_io (&g);
  g_init (&g, tf32 ("lo", 1, (int64_t[]){2}, ones));
  g_node (&g, node ("Clip", "clip", "x,lo", "y", END));
  FAILS (model (13, g), SEG_ERR_FORMAT, "node 'clip'", "one element");
}

static void
test_pool_resize_bn (void)
{
  seg_graph *gr = unary_graph (13,
      node ("ReduceMean", "rm", "x", "y", attr_ints ("axes", INTS (2, 3)),
          attr_i ("keepdims", 1), END),
      __LINE__);
  if (gr) {
    CHECK (gr->nnodes == 1 && gr->nodes[0].op == SEG_OP_GLOBAL_AVG_POOL,
        "reduce mean 2,3");
    seg_graph_free (gr);
  }
  gr = unary_graph (13,
      node ("ReduceMean", "rm", "x", "y", attr_ints ("axes", INTS (-1, -2)),
          END),
      __LINE__);
  if (gr) {
    CHECK (gr->nodes[0].op == SEG_OP_GLOBAL_AVG_POOL, "reduce mean -1,-2");
    seg_graph_free (gr);
  }
  buf g = END;
  g_std_io (&g);
  g_node (&g,
      node ("ReduceMean", "rm", "x", "y", attr_ints ("axes", INTS (1)), END));
  FAILS (model (13, g), SEG_ERR_UNSUPPORTED, "node 'rm' (ReduceMean)", "axes");
  g = END;
  g_std_io (&g);
  g_node (&g,
      node ("ReduceMean", "rm", "x", "y", attr_ints ("axes", INTS (2, 3)),
          attr_i ("keepdims", 0), END));
  FAILS (model (13, g), SEG_ERR_UNSUPPORTED, "node 'rm'", "keepdims");

  /* Resize modes */
  static const struct
  {
    const char *mode;
    seg_coord_mode want;
  } coords[] = {
      {"half_pixel", SEG_COORD_HALF_PIXEL},
      {"pytorch_half_pixel", SEG_COORD_PYTORCH_HALF_PIXEL},
      {"align_corners", SEG_COORD_ALIGN_CORNERS},
      {"asymmetric", SEG_COORD_ASYMMETRIC},
  };
  for (size_t i = 0; i < 4; i++) {
    g = END;
    g_std_io (&g);
    g_init (&g, tf32 ("roi", 1, (int64_t[]){0}, NULL));
    g_init (&g, tf32 ("scales", 1, (int64_t[]){4}, (float[]){1, 1, 2, 2}));
    g_node (&g,
        node ("Resize", "rs", "x,roi,scales", "y", attr_s ("mode", "linear"),
            attr_s ("coordinate_transformation_mode", coords[i].mode), END));
    gr = OK (model (11, g));
    if (gr) {
      const seg_node *n = find_op (gr, SEG_OP_RESIZE);
      CHECK (n && n->a.coord == coords[i].want && n->a.nchw && n->nin == 3,
          "coord %s", coords[i].mode);
      /* an empty constant is still a constant */
      CHECK (n && gr->tensors[n->in[1]].data
              && gr->tensors[n->in[1]].nbytes == 0,
          "empty roi");
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
  FAILS (model (13, g), SEG_ERR_UNSUPPORTED, "node 'rs' (Resize)",
      "'mode' = 'nearest'");
  g = END;
  g_std_io (&g);
  g_node (&g, node ("Resize", "rs", "x", "y", END));
  FAILS (model (13, g), SEG_ERR_UNSUPPORTED, "node 'rs'", "mode");
  g = END;
  g_std_io (&g);
  g_node (&g,
      node ("Resize", "rs", "x", "y", attr_s ("mode", "linear"),
          attr_s ("coordinate_transformation_mode", "tf_crop_and_resize"),
          END));
  FAILS (model (13, g), SEG_ERR_UNSUPPORTED, "node 'rs'", "tf_crop_and_resize");
  /* sizes computed from activation values */
  g = END;
  g_std_io (&g);
  g_node (&g,
      node ("Resize", "rs", "x,,,x", "y", attr_s ("mode", "linear"), END));
  FAILS (model (13, g), SEG_ERR_UNSUPPORTED, "node 'rs'", "input 3");

  /* BatchNormalization */
  g = END;
  g_std_io (&g);
  g_init (&g, tf32 ("s", 1, (int64_t[]){4}, ones));
  g_init (&g, tf32 ("b", 1, (int64_t[]){4}, ones));
  g_init (&g, tf32 ("m", 1, (int64_t[]){4}, ones));
  g_init (&g, tf32 ("v", 1, (int64_t[]){4}, ones));
  g_node (&g,
      node ("BatchNormalization", "bn", "x,s,b,m,v", "y",
          attr_f ("epsilon", 1e-3f), attr_f ("momentum", 0.9f), END));
  gr = OK (model (13, g));
  if (gr) {
    const seg_node *n = find_op (gr, SEG_OP_BATCHNORM);
    CHECK (n && n->nin == 5 && n->a.alpha == 1e-3f, "batchnorm");
    for (int i = 1; n && i < 5; i++)
      CHECK (gr->tensors[n->in[i]].data != NULL, "batchnorm input %d constant",
          i);
    seg_graph_free (gr);
  }
  g = END;
  g_std_io (&g);
  g_init (&g, tf32 ("s", 1, (int64_t[]){4}, ones));
  g_node (&g, node ("BatchNormalization", "bn", "x,s,s,s,s", "y", END));
  gr = OK (model (15, g));
  if (gr) {
    CHECK (gr->nodes[0].a.alpha == 1e-5f, "batchnorm default epsilon");
    seg_graph_free (gr);
  }
  g = END;
  g_std_io (&g);
  g_init (&g, tf32 ("s", 1, (int64_t[]){4}, ones));
  g_node (&g,
      node ("BatchNormalization", "bn", "x,s,s,s,s", "y",
          attr_i ("training_mode", 1), END));
  FAILS (model (15, g), SEG_ERR_UNSUPPORTED, "node 'bn'", "training_mode");
  g = END;
  g_std_io (&g);
  g_init (&g, tf32 ("s", 1, (int64_t[]){4}, ones));
  g_node (&g,
      node ("BatchNormalization", "bn", "x,s,s,s,s", "y,mean_out,var_out",
          END));
  FAILS (model (13, g), SEG_ERR_UNSUPPORTED, "node 'bn'", "3 outputs");
  g = END;
  g_std_io (&g);
  g_init (&g, tf32 ("s", 1, (int64_t[]){4}, ones));
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
  g_node (&g,
      node ("Resize", "rs", "x,,,t", "y", attr_s ("mode", "linear"), END));
  return model (opset, g);
}

static void
test_shape_ops (void)
{
  /* Shape start/end (opset 15) */
  buf g = END;
  g_std_io (&g);
  g_node (&g,
      node ("Shape", "sh", "x", "s", attr_i ("start", 2), attr_i ("end", -1),
          END));
  g_node (&g,
      node ("Resize", "rs", "x,,,s", "y", attr_s ("mode", "linear"), END));
  seg_graph *gr = OK (model (15, g));
  if (gr) {
    const seg_node *n = find_op (gr, SEG_OP_SHAPE);
    CHECK (n && n->a.start == 2 && n->a.end == -1 && n->a.has_end && n->a.nchw,
        "shape attrs");
    seg_graph_free (gr);
  }

  /* Gather + Unsqueeze (opset 13: axes input) + Concat + Cast, as torch
   * writes dynamic sizes */
  buf chain[] = {
      node ("Constant", "k2", NULL, "i2",
          attr_t ("value", ti64 (NULL, 0, NULL, (int64_t[]){2})), END),
      node ("Gather", "ga", "s,i2", "h", attr_i ("axis", 0), END),
      node ("Constant", "k0", NULL, "ax", attr_ints ("value_ints", INTS (0)),
          END),
      node ("Unsqueeze", "un", "h,ax", "h1", END),
      node ("Cast", "ca", "h1", "h1f", attr_i ("to", DT_FLOAT), END),
      node ("Floor", "fl", "h1f", "h1r", END),
      node ("Ceil", "ce", "h1r", "h1c", END),
      node ("Cast", "cb", "h1c", "h1i", attr_i ("to", DT_INT64), END),
      node ("Concat", "cc", "h1i,h1i", "hh", attr_i ("axis", -1), END),
      node ("Constant", "k01", NULL, "nc",
          attr_ints ("value_ints", INTS (1, 4)), END),
      node ("Concat", "cd", "nc,hh", "t", attr_i ("axis", 0), END),
  };
  gr = OK (shape_chain (13, chain, (int) (sizeof chain / sizeof chain[0])));
  if (gr) {
    const seg_node *ga = find_op (gr, SEG_OP_GATHER),
                   *un = find_op (gr, SEG_OP_UNSQUEEZE);
    CHECK (ga && ga->a.axis == 0 && gr->tensors[ga->out[0]].rank == 0,
        "gather");
    CHECK (un && un->nin == 2 && gr->tensors[un->out[0]].rank == 1,
        "unsqueeze opset 13");
    const seg_node *ca = find_op (gr, SEG_OP_CAST);
    CHECK (ca && ca->a.to == SEG_DT_F32
            && gr->tensors[ca->out[0]].dtype == SEG_DT_F32,
        "cast");
    CHECK (count_op (gr, SEG_OP_FLOOR) == 1 && count_op (gr, SEG_OP_CEIL) == 1,
        "floor/ceil");
    const seg_node *cc = find_op (gr, SEG_OP_CONCAT);
    CHECK (cc && cc->a.axis == -1, "concat axis");
    seg_graph_free (gr);
  }

  /* Unsqueeze/Squeeze with axes attributes (opset 11), Slice, Reshape */
  buf chain11[] = {
      node ("Constant", "k", NULL, "st", attr_ints ("value_ints", INTS (0)),
          END),
      node ("Slice", "sl", "s,st,st,st,st", "s1", END),
      node ("Unsqueeze", "un", "s1", "s2", attr_ints ("axes", INTS (0, 2)),
          END),
      node ("Squeeze", "sq", "s2", "s3", attr_ints ("axes", INTS (0)), END),
      node ("Constant", "kshape", NULL, "shp",
          attr_ints ("value_ints", INTS (2, 2)), END),
      node ("Reshape", "re", "s,shp", "s4", END),
      node ("Constant", "kflat", NULL, "flat",
          attr_ints ("value_ints", INTS (-1)), END),
      node ("Reshape", "re2", "s4,flat", "t", END),
  };
  gr = OK (
      shape_chain (11, chain11, (int) (sizeof chain11 / sizeof chain11[0])));
  if (gr) {
    const seg_node *un = find_op (gr, SEG_OP_UNSQUEEZE),
                   *sq = find_op (gr, SEG_OP_SQUEEZE);
    CHECK (un && un->nin == 1 && un->a.nints == 2 && un->a.ints[1] == 2
            && gr->tensors[un->out[0]].rank == 3,
        "unsqueeze opset 11");
    CHECK (sq && sq->a.nints == 1 && sq->a.ints[0] == 0
            && gr->tensors[sq->out[0]].rank == 2,
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
          attr_t ("value", ti64 (NULL, 1, (int64_t[]){1}, (int64_t[]){7})),
          END),
  };
  gr = OK (shape_chain (13, chain_cos, 1));
  if (gr) {
    const seg_node *n = find_op (gr, SEG_OP_CONSTANT_OF_SHAPE);
    CHECK (n && n->a.to == SEG_DT_I64 && n->a.value == 7
            && gr->tensors[n->out[0]].rank == 4,
        "constant of shape");
    seg_graph_free (gr);
  }
  buf chain_cos0[] = {node ("ConstantOfShape", "cos", "s", "t", END)};
  gr = OK (shape_chain (13, chain_cos0, 1));
  if (gr) {
    const seg_node *n = find_op (gr, SEG_OP_CONSTANT_OF_SHAPE);
    CHECK (n && n->a.to == SEG_DT_F32 && n->a.value == 0,
        "constant of shape default");
    seg_graph_free (gr);
  }

  /* Cast of stored f16 weights becomes a DEQUANTIZE the passes fold */
  buf g16 = END;
  uint16_t h[144];
  for (int i = 0; i < 144; i++)
    h[i] = 0x3c00; /* 1.0 */
  g_std_io (&g16);
  g_init (&g16,
      tensor_raw ("W16", DT_FLOAT16, 4, (int64_t[]){4, 4, 3, 3}, h, sizeof h));
  g_node (&g16, node ("Cast", "up", "W16", "W", attr_i ("to", DT_FLOAT), END));
  g_node (&g16,
      node ("Conv", "cv", "x,W", "y", attr_ints ("kernel_shape", INTS (3, 3)),
          END));
  gr = OK (model (13, g16));
  if (gr) {
    const seg_node *dq = find_op (gr, SEG_OP_DEQUANTIZE);
    CHECK (dq && gr->tensors[dq->in[0]].dtype == SEG_DT_F16
            && dq->a.to == SEG_DT_F32,
        "f16 cast -> dequantize");
    CHECK (count_op (gr, SEG_OP_CAST) == 0, "no cast node left");
    seg_graph_free (gr);
  }

  /* Casts of small stored values are done at import: Clip bounds written
   * as Cast(Constant) (torch without constant folding), truncation toward
   * zero; an out-of-range cast is left to a node. */
  buf gc = END;
  g_std_io (&gc);
  g_node (&gc,
      node ("Constant", "k0", NULL, "i0", attr_i ("value_int", 0), END));
  g_node (&gc,
      node ("Constant", "k6", NULL, "i6", attr_i ("value_int", 6), END));
  g_node (&gc, node ("Cast", "c0", "i0", "f0", attr_i ("to", DT_FLOAT), END));
  g_node (&gc, node ("Cast", "c6", "i6", "f6", attr_i ("to", DT_FLOAT), END));
  g_node (&gc, node ("Clip", "clip", "x,f0,f6", "t", END));
  g_node (&gc,
      node ("Constant", "kf", NULL, "fv",
          attr_ints ("value_ints", INTS (1, 4, 8, 8)), END));
  g_node (&gc, node ("Cast", "cf", "fv", "ff", attr_i ("to", DT_FLOAT), END));
  g_node (&gc,
      node ("Constant", "kn", NULL, "neg", attr_f ("value_float", -2.75f),
          END));
  g_node (&gc,
      node ("Cast", "ci", "neg", "negi", attr_i ("to", DT_INT64), END));
  g_node (&gc,
      node ("Constant", "kb", NULL, "big", attr_f ("value_float", 300), END));
  g_node (&gc,
      node ("Cast", "cu", "big", "bigu", attr_i ("to", DT_UINT8), END));
  g_node (&gc,
      node ("Resize", "rs", "t,,ff,", "y", attr_s ("mode", "linear"), END));
  gr = OK (model (13, gc));
  if (gr) {
    const seg_node *cl = find_op (gr, SEG_OP_CLIP);
    CHECK (cl && cl->a.alpha == 0 && cl->a.beta == 6,
        "clip bounds through Cast");
    const seg_tensor *ff = tensor_named (gr, "ff");
    CHECK (ff && ff->dtype == SEG_DT_F32 && dims_are (ff, 1, (int64_t[]){4})
            && ((float *) ff->data)[2] == 8.0f,
        "folded cast of a vector");
    const seg_tensor *ni = tensor_named (gr, "negi");
    CHECK (!ni, "unused folded constant dropped");
    CHECK (count_op (gr, SEG_OP_CAST) == 1
            && find_op (gr, SEG_OP_CAST)->a.to == SEG_DT_U8,
        "out-of-range cast left as a node");
    seg_graph_free (gr);
  }
  /* the folded value itself */
  buf gi = END;
  g_std_io (&gi);
  g_node (&gi,
      node ("Constant", "kn", NULL, "neg", attr_f ("value_float", -2.75f),
          END));
  g_node (&gi,
      node ("Cast", "ci", "neg", "negi", attr_i ("to", DT_INT64), END));
  g_node (&gi, node ("Add", "a", "x,negi", "y", END));
  gr = OK (model (13, gi));
  if (gr) {
    const seg_tensor *ni = tensor_named (gr, "negi");
    CHECK (ni && ni->dtype == SEG_DT_I64 && *(int64_t *) ni->data == -2,
        "cast truncates");
    seg_graph_free (gr);
  }

  /* errors */
  g = END;
  g_std_io (&g);
  g_node (&g, node ("Cast", "ca", "x", "t", attr_i ("to", DT_FLOAT), END));
  g_node (&g, node ("Relu", "r", "t", "y", END));
  FAILS (model (13, g), SEG_ERR_UNSUPPORTED, "node 'ca' (Cast)", "activation");

  buf bad_cast[] = {
      node ("Cast", "ca", "s", "t", attr_i ("to", DT_STRING), END)};
  FAILS (shape_chain (13, bad_cast, 1), SEG_ERR_UNSUPPORTED, "node 'ca'",
      "STRING");
  buf no_to[] = {node ("Cast", "ca", "s", "t", END)};
  FAILS (shape_chain (13, no_to, 1), SEG_ERR_FORMAT, "node 'ca'",
      "'to' is missing");
  buf bad_axis[] = {node ("Gather", "ga", "s,s", "t", attr_i ("axis", 1), END)};
  FAILS (shape_chain (13, bad_axis, 1), SEG_ERR_FORMAT, "node 'ga' (Gather)",
      "'axis' = 1");
  buf no_axis[] = {node ("Concat", "cc", "s,s", "t", END)};
  FAILS (shape_chain (13, no_axis, 1), SEG_ERR_FORMAT, "node 'cc'",
      "'axis' is missing");
  buf no_axes[] = {node ("Unsqueeze", "un", "s", "t", END)};
  FAILS (shape_chain (13, no_axes, 1), SEG_ERR_UNSUPPORTED, "node 'un'",
      "axes");
  buf sq_no_axes[] = {node ("Squeeze", "sq", "s", "t", END)};
  FAILS (shape_chain (11, sq_no_axes, 1), SEG_ERR_UNSUPPORTED, "node 'sq'",
      "axes");
  buf reshape_unknown[] = {
      node ("Constant", "k", NULL, "st", attr_ints ("value_ints", INTS (0)),
          END),
      node ("Slice", "sl", "s,st,st", "s1", END),
      node ("Reshape", "re", "s,s1", "t", END),
  };
  FAILS (shape_chain (13, reshape_unknown, 3), SEG_ERR_UNSUPPORTED, "node 're'",
      "length");
  g = END;
  g_std_io (&g);
  g_node (&g,
      node ("Constant", "kshape", NULL, "shp",
          attr_ints ("value_ints", INTS (1, 256)), END));
  g_node (&g, node ("Reshape", "re", "x,shp", "y", END));
  FAILS (model (13, g), SEG_ERR_UNSUPPORTED, "node 're' (Reshape)",
      "activation");

  /* Constant value forms */
  buf consts[] = {
      node ("Constant", "kf", NULL, "f", attr_f ("value_float", 1.5f), END),
      node ("Constant", "ki", NULL, "i", attr_i ("value_int", -3), END),
      node ("Constant", "kfs", NULL, "fs",
          attr_ints ("value_ints", INTS (5, 6, 7)), END),
      node ("Concat", "cc", "fs,fs", "t", attr_i ("axis", 0), END),
  };
  buf cg = END;
  g_std_io (&cg);
  g_node (&cg, node ("Shape", "shape", "x", "s", END));
  for (int i = 0; i < 4; i++)
    g_node (&cg, consts[i]);
  g_node (&cg, node ("Mul", "m", "x,f", "xf", END));
  g_node (&cg, node ("Add", "a", "xf,i", "xi", END));
  g_node (&cg,
      node ("Resize", "rs", "xi,,,t", "y", attr_s ("mode", "linear"), END));
  gr = OK (model (13, cg));
  if (gr) {
    const seg_tensor *f = tensor_named (gr, "f"), *i = tensor_named (gr, "i"),
                     *fs = tensor_named (gr, "fs");
    CHECK (f && f->rank == 0 && f->dtype == SEG_DT_F32
            && *(float *) f->data == 1.5f,
        "value_float");
    CHECK (i && i->rank == 0 && i->dtype == SEG_DT_I64
            && *(int64_t *) i->data == -3,
        "value_int");
    CHECK (fs && dims_are (fs, 1, (int64_t[]){3})
            && ((int64_t *) fs->data)[2] == 7,
        "value_ints");
    CHECK (count_op (gr, SEG_OP_CONCAT) == 1 && gr->nnodes == 5,
        "constants make no nodes");
    seg_graph_free (gr);
  }
  g = END;
  g_std_io (&g);
  g_node (&g,
      node ("Constant", "k2", NULL, "k", attr_f ("value_float", 1),
          attr_i ("value_int", 1), END));
  g_node (&g, node ("Add", "a", "x,k", "y", END));
  FAILS (model (13, g), SEG_ERR_FORMAT, "node 'k2' (Constant)", "exactly one");
  g = END;
  g_std_io (&g);
  g_node (&g,
      node ("Constant", "ks", NULL, "k", attr_s ("value_string", "hi"), END));
  g_node (&g, node ("Add", "a", "x,k", "y", END));
  FAILS (model (13, g), SEG_ERR_UNSUPPORTED, "node 'ks'", "value_string");
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
  if (failures) {
    fprintf (stderr, "test-onnx: %d check(s) failed\n", failures);
    return 1;
  }
  printf ("test-onnx: all checks passed\n");
  return 0;
}
