/* seg — the command-line front end of libsegmenter: describe a model, run it
 * on a raw tensor (.npy in and out, for golden-tensor tests) or on a photo
 * (PNG/JPEG in, mask PNG out), and benchmark it. It uses only the public
 * API in segmenter/seg.h. Every failure ends with one line on stderr naming
 * what was wrong and a non-zero exit: 1 for a failed operation, 2 for a
 * command line we do not understand. */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "segmenter/seg.h"

#include "image.h"
#include "npy.h"

#define EXIT_USAGE 2
#define MAX_THREADS 256
#define MAX_SIDE 16384

static const char usage_main[] =
    "Usage: seg COMMAND [ARGS...]\n"
    "\n"
    "Run MobileNetV3 + LR-ASPP segmentation models (ONNX or TFLite).\n"
    "\n"
    "Commands:\n"
    "  info   describe a model: inputs, outputs, ops, parameters, cost\n"
    "  run    run a model on a .npy tensor or on a PNG/JPEG image\n"
    "  bench  time a model on random input\n"
    "\n"
    "'seg COMMAND --help' describes each command.\n";

static const char usage_info[] =
    "Usage: seg info MODEL [--size HxW] [--passes]\n"
    "\n"
    "Prints the model's format and layout, its input and output tensors (in\n"
    "the model's own layout), the normalisation it expects, the op counts,\n"
    "the parameter count, and for the planned input size the multiply-\n"
    "accumulates per frame and the planned activation memory. Ends with the\n"
    "class labels.\n"
    "\n"
    "  --size HxW   plan for this input size (resizable models only);\n"
    "               default: the size declared in the file\n"
    "  --passes     also list the load-time graph passes in the order they\n"
    "               ran, each with its time and the nodes left after it\n"
    "  -h, --help   show this help\n";

static const char usage_run[] =
    "Usage: seg run MODEL --input-npy IN.npy --output-npy OUT.npy [--threads "
    "N]\n"
    "       seg run MODEL IMAGE -o MASK.png [--overlay OUT.png] [--threads N]\n"
    "               [--threshold T]\n"
    "\n"
    "Tensor mode: IN.npy is the raw input in the model's own layout (NCHW\n"
    "for ONNX, NHWC for TFLite), float32, batch 1, fed without any\n"
    "preprocessing; a resizable model is planned for its height and width.\n"
    "OUT.npy receives the raw output, float32, in the model's own layout.\n"
    "\n"
    "Image mode: IMAGE (PNG or JPEG) is resized to the model input and\n"
    "normalised as the model expects. MASK.png has the image's size:\n"
    "  - for a probability model (one sigmoid output channel), an 8-bit\n"
    "    grayscale PNG of the foreground probability (0..255);\n"
    "  - for a logits model, an 8-bit palette PNG whose pixel values are\n"
    "    class indices (argmax), coloured with the PASCAL VOC colour map.\n"
    "--overlay writes the image with every pixel of a non-background class\n"
    "tinted half-and-half with that class's VOC colour (class 1, e.g.\n"
    "'person' for MediaPipe, is dark red); background pixels are unchanged.\n"
    "\n"
    "  --threads N     worker threads, 0..256 (0 and 1: calling thread only;\n"
    "                  default 1)\n"
    "  --threshold T   probability models: foreground where p >= T, in [0, 1]\n"
    "                  (default 0.5); used by --overlay only\n"
    "  -h, --help      show this help\n";

static const char usage_bench[] =
    "Usage: seg bench MODEL [--size HxW] [--threads N] [--iters N] [--warmup "
    "N]\n"
    "                 [--gap MS] [--per-run]\n"
    "\n"
    "Runs the model on a fixed pseudo-random input, raw tensor path (no\n"
    "pre- or postprocessing), and prints the median and 90th percentile\n"
    "time per frame, the arithmetic rate (2 * MACs / median time), the\n"
    "planned activation memory and the process's peak resident memory.\n"
    "\n"
    "  --size HxW    input size (resizable models only; default: declared)\n"
    "  --threads N   worker threads, 0..256 (default 1)\n"
    "  --iters N     timed runs, 1..1000000 (default 20)\n"
    "  --warmup N    untimed runs first, 0..100000 (default 3)\n"
    "  --gap MS      sleep MS milliseconds before each run, 0..1000 (default\n"
    "                0): a camera's frame interval, over which other work on\n"
    "                the host evicts the model from the caches\n"
    "  --per-run     also print 'run: MS' for every timed run, in order (for\n"
    "                scripts that pool runs from several invocations)\n"
    "  -h, --help    show this help\n";

static int
error_line (const char *fmt, ...) __attribute__ ((format (printf, 1, 2)));

/* The single line a failure prints; returns the exit code for a failed
 * operation so callers can `return error_line (...)`. */
static int
error_line (const char *fmt, ...)
{
  va_list ap;

  fputs ("seg: ", stderr);
  va_start (ap, fmt);
  vfprintf (stderr, fmt, ap);
  va_end (ap);
  fputc ('\n', stderr);
  return EXIT_FAILURE;
}

static int usage_error (const char *command, const char *fmt, ...)
    __attribute__ ((format (printf, 2, 3)));

static int
usage_error (const char *command, const char *fmt, ...)
{
  va_list ap;

  fprintf (stderr, "seg %s: ", command);
  va_start (ap, fmt);
  vfprintf (stderr, fmt, ap);
  va_end (ap);
  fprintf (stderr, " (see 'seg %s --help')\n", command);
  return EXIT_USAGE;
}

/* Reports a library failure: its message when it gave one (it names the
 * file and field), else the status name. Frees msg. */
static int
lib_error (const char *what, seg_status status, char *msg)
{
  if (msg)
    error_line ("%s", msg);
  else
    error_line ("%s: %s", what, seg_status_str (status));
  free (msg);
  return EXIT_FAILURE;
}

/* ---- strict number parsing ---------------------------------------------- */

/* Decimal integer in [min, max], nothing else: no sign but an optional
 * '-', no spaces, no trailing junk. */
static int
parse_int (const char *s, long min, long max, long *out)
{
  const char *p = s;
  char *end;
  long v;

  if (*p == '-')
    p++;
  if (*p < '0' || *p > '9')
    return -1;
  errno = 0;
  v = strtol (s, &end, 10);
  if (errno != 0 || *end != '\0' || v < min || v > max)
    return -1;
  *out = v;
  return 0;
}

/* "HxW" with both sides in [1, MAX_SIDE]. */
static int
parse_size (const char *s, int *height, int *width)
{
  const char *x = strchr (s, 'x');
  char h[16];
  long hv, wv;

  if (!x || (size_t) (x - s) >= sizeof h)
    return -1;
  memcpy (h, s, (size_t) (x - s));
  h[x - s] = '\0';
  if (parse_int (h, 1, MAX_SIDE, &hv) < 0
      || parse_int (x + 1, 1, MAX_SIDE, &wv) < 0)
    return -1;
  *height = (int) hv;
  *width = (int) wv;
  return 0;
}

static int
parse_unit_float (const char *s, float *out)
{
  char *end;
  float v;

  if (!((*s >= '0' && *s <= '9') || *s == '.'))
    return -1;
  errno = 0;
  v = strtof (s, &end);
  if (errno != 0 || *end != '\0' || !isfinite (v) || v < 0.0f || v > 1.0f)
    return -1;
  *out = v;
  return 0;
}

/* getopt_long's view of a bad option, as one usage line. */
static int
bad_option (const char *command, int c, int optopt_value, char **argv)
{
  const char *arg = argv[optind - 1];

  if (c == ':')
    return usage_error (command, "option '%s' needs a value", arg);
  if (optopt_value)
    return usage_error (command, "unknown option '-%c'", optopt_value);
  return usage_error (command, "unknown option '%s'", arg);
}

/* ---- shared helpers ----------------------------------------------------- */

static int
load_model (const char *path, seg_model **model)
{
  char *msg = NULL;
  seg_status st = seg_model_load (path, model, &msg);

  if (st != SEG_OK)
    return lib_error (path, st, msg);
  return 0;
}

static int
new_session (const seg_model *model, int threads, int height, int width,
    int mask_only, seg_session **session)
{
  seg_session_options opts = {0};
  char *msg = NULL;
  const seg_model_info *mi = seg_model_get_info (model);
  seg_status st;

  /* Say it here rather than leave it to the planner's shape error: the
   * user asked for a size the file cannot take. */
  if (height > 0 && !mi->resizable
      && (height != mi->input_height || width != mi->input_width))
    return error_line ("%s: input size %dx%d requested, but the model's "
                       "input is fixed at %dx%d",
        mi->name, height, width, mi->input_height, mi->input_width);
  opts.threads = threads;
  opts.input_height = height;
  opts.input_width = width;
  opts.skip_final_resize = mask_only;
  st = seg_session_new (model, &opts, session, &msg);
  if (st != SEG_OK)
    return lib_error (mi->name, st, msg);
  return 0;
}

/* The four dims of a tensor in the model's own layout. */
static void
layout_dims (seg_layout layout, int c, int h, int w, int64_t dims[4])
{
  dims[0] = 1;
  if (layout == SEG_LAYOUT_NCHW) {
    dims[1] = c;
    dims[2] = h;
    dims[3] = w;
  } else {
    dims[1] = h;
    dims[2] = w;
    dims[3] = c;
  }
}

static void
print_dims (const int64_t *dims, int rank)
{
  for (int i = 0; i < rank; i++)
    printf ("%s%lld", i ? "x" : "", (long long) dims[i]);
}

static const char *
layout_name (seg_layout layout)
{
  return layout == SEG_LAYOUT_NCHW ? "NCHW" : "NHWC";
}

/* ---- seg info ----------------------------------------------------------- */

static int
cmd_info (int argc, char **argv)
{
  static const struct option longopts[] = {
      {"size", required_argument, NULL, 's'},
      {"passes", no_argument, NULL, 'p'},
      {"help", no_argument, NULL, 'h'},
      {NULL, 0, NULL, 0},
  };
  int height = 0, width = 0, c, ret = EXIT_FAILURE;
  bool passes = false;
  seg_model *model = NULL;
  seg_session *session = NULL;
  seg_session *mask_session = NULL;
  const seg_model_info *mi;
  seg_session_info si;
  seg_session_info msi;
  int64_t dims[4];
  char ops[4096];

  opterr = 0;
  while ((c = getopt_long (argc, argv, ":h", longopts, NULL)) != -1) {
    switch (c) {
      case 's':
        if (parse_size (optarg, &height, &width) < 0)
          return usage_error ("info",
              "--size '%s' is not HxW with sides "
              "1..%d",
              optarg, MAX_SIDE);
        break;
      case 'p':
        passes = true;
        break;
      case 'h':
        fputs (usage_info, stdout);
        return EXIT_SUCCESS;
      default:
        return bad_option ("info", c, optopt, argv);
    }
  }
  if (argc - optind != 1)
    return usage_error ("info", "expects exactly one MODEL argument");

  if (load_model (argv[optind], &model) != 0)
    goto out;
  mi = seg_model_get_info (model);
  if (new_session (model, 1, height, width, 0, &session) != 0
      || new_session (model, 1, height, width, 1, &mask_session) != 0)
    goto out;
  seg_session_get_info (session, &si);
  seg_session_get_info (mask_session, &msi);
  seg_model_describe_ops (model, ops, sizeof ops);

  printf ("model:        %s\n", mi->name);
  printf ("sha256:       %s\n", mi->sha256);
  printf ("format:       %s, layout %s\n",
      mi->format == SEG_FORMAT_ONNX ? "ONNX" : "TFLite",
      layout_name (mi->layout));
  layout_dims (mi->layout, mi->input_channels, mi->input_height,
      mi->input_width, dims);
  printf ("input:        ");
  print_dims (dims, 4);
  printf (" float32 (%s)\n", mi->resizable ? "resizable" : "fixed size");
  printf ("normalise:    (pixel / 255 - mean) / std, mean %g %g %g, "
          "std %g %g %g\n",
      mi->mean[0], mi->mean[1], mi->mean[2], mi->std[0], mi->std[1],
      mi->std[2]);
  layout_dims (mi->layout, mi->output_channels, mi->output_height,
      mi->output_width, dims);
  printf ("output:       ");
  print_dims (dims, 4);
  printf (" float32, %s\n",
      mi->output_kind == SEG_OUTPUT_PROBABILITY
          ? "probability (sigmoid applied)"
          : "logits (argmax gives the class)");
  printf ("nodes:        %d\n", mi->num_nodes);
  printf ("ops:          %s\n", ops);
  printf ("parameters:   %llu\n", (unsigned long long) mi->parameters);
  layout_dims (mi->layout, si.input_channels, si.input_height, si.input_width,
      dims);
  printf ("planned for:  input ");
  print_dims (dims, 4);
  layout_dims (mi->layout, si.output_channels, si.output_height,
      si.output_width, dims);
  printf (", output ");
  print_dims (dims, 4);
  printf ("\n");
  printf ("MACs:         %llu per frame (%.3f GMAC)\n",
      (unsigned long long) si.macs, (double) si.macs * 1e-9);
  printf ("activations:  %zu bytes planned (+ %zu bytes kernel scratch)\n",
      si.arena_bytes, si.scratch_bytes);
  printf ("  for masks:  %zu bytes planned (final resize fused into the "
          "mask)\n",
      msi.arena_bytes);
  printf ("labels:       %d:", mi->num_classes);
  for (int i = 0; i < mi->num_classes; i++)
    printf (" %d=%s", i, mi->labels[i]);
  printf ("\n");
  if (passes) {
    const seg_pass_info *pi;
    int n = seg_model_get_passes (model, &pi);
    printf ("passes:       %d, in the order they ran\n", n);
    for (int i = 0; i < n; i++)
      printf ("  %-24s %9.3f ms  %6d nodes\n", pi[i].name, pi[i].milliseconds,
          pi[i].nodes);
  }
  if (fflush (stdout) != 0 || ferror (stdout)) {
    error_line ("info: cannot write to standard output");
    goto out;
  }
  ret = EXIT_SUCCESS;

out:
  seg_session_free (session);
  seg_session_free (mask_session);
  seg_model_free (model);
  return ret;
}

/* ---- seg run ------------------------------------------------------------ */

static int
run_npy (const char *model_path, const char *in_path, const char *out_path,
    int threads)
{
  char err[512];
  npy_array in = {0};
  seg_model *model = NULL;
  seg_session *session = NULL;
  const seg_model_info *mi;
  seg_session_info si;
  int64_t want[4], out_dims[4];
  int c, h, w, ret = EXIT_FAILURE;
  float *out = NULL;
  size_t out_count;
  seg_status st;

  if (npy_read (in_path, &in, err, sizeof err) < 0)
    return error_line ("%s", err);
  if (load_model (model_path, &model) != 0)
    goto out;
  mi = seg_model_get_info (model);
  layout_dims (mi->layout, mi->input_channels, mi->input_height,
      mi->input_width, want);
  if (in.rank != 4 || in.shape[0] != 1) {
    error_line ("%s: shape has rank %d%s; the model takes 4 dims with "
                "batch 1 (%s)",
        in_path, in.rank, in.rank == 4 ? ", batch != 1" : "",
        layout_name (mi->layout));
    goto out;
  }
  if (mi->layout == SEG_LAYOUT_NCHW) {
    c = (int) in.shape[1];
    h = (int) in.shape[2];
    w = (int) in.shape[3];
  } else {
    h = (int) in.shape[1];
    w = (int) in.shape[2];
    c = (int) in.shape[3];
  }
  if (c != mi->input_channels || h <= 0 || w <= 0
      || (!mi->resizable && (h != mi->input_height || w != mi->input_width))) {
    error_line ("%s: shape (%lld, %lld, %lld, %lld) does not fit the "
                "model input (%lld, %lld, %lld, %lld) %s%s",
        in_path, (long long) in.shape[0], (long long) in.shape[1],
        (long long) in.shape[2], (long long) in.shape[3], (long long) want[0],
        (long long) want[1], (long long) want[2], (long long) want[3],
        layout_name (mi->layout),
        mi->resizable ? " (height and width may vary)" : "");
    goto out;
  }
  if (new_session (model, threads, h, w, 0, &session) != 0)
    goto out;
  st = seg_session_run (session, in.data, in.count);
  if (st != SEG_OK) {
    error_line ("%s: run failed: %s", mi->name, seg_status_str (st));
    goto out;
  }
  seg_session_get_info (session, &si);
  layout_dims (mi->layout, si.output_channels, si.output_height,
      si.output_width, out_dims);
  out_count = (size_t) si.output_channels * (size_t) si.output_height
      * (size_t) si.output_width;
  out = malloc (out_count * sizeof *out);
  if (!out) {
    error_line ("%s: out of memory for the output", mi->name);
    goto out;
  }
  st = seg_session_copy_output (session, out, out_count);
  if (st != SEG_OK) {
    error_line ("%s: cannot copy the output: %s", mi->name,
        seg_status_str (st));
    goto out;
  }
  if (npy_write (out_path, out, 4, out_dims, err, sizeof err) < 0) {
    error_line ("%s", err);
    goto out;
  }
  ret = EXIT_SUCCESS;

out:
  free (out);
  seg_session_free (session);
  seg_model_free (model);
  npy_array_clear (&in);
  return ret;
}

static void
tint (image *img, const uint8_t *classes, const uint8_t *palette)
{
  size_t n = (size_t) img->width * (size_t) img->height;

  for (size_t i = 0; i < n; i++) {
    const uint8_t *col = palette + 3 * classes[i];
    uint8_t *px = img->pixels + 3 * i;

    if (classes[i] == 0)
      continue;
    for (int k = 0; k < 3; k++)
      px[k] = (uint8_t) ((px[k] + col[k] + 1) / 2);
  }
}

static int
run_image (const char *model_path, const char *image_path,
    const char *mask_path, const char *overlay_path, int threads,
    float threshold)
{
  char err[512];
  image img = {0}, mask = {0};
  seg_model *model = NULL;
  seg_session *session = NULL;
  const seg_model_info *mi;
  seg_frame frame = {0};
  uint8_t palette[256 * 3];
  int ret = EXIT_FAILURE, probability;
  seg_status st;

  if (image_load (image_path, 3, &img, err, sizeof err) < 0)
    return error_line ("%s", err);
  if (load_model (model_path, &model) != 0)
    goto out;
  mi = seg_model_get_info (model);
  probability = mi->output_kind == SEG_OUTPUT_PROBABILITY;
  if (new_session (model, threads, 0, 0, 1, &session) != 0)
    goto out;

  frame.format = SEG_PIXEL_RGB;
  frame.width = img.width;
  frame.height = img.height;
  frame.planes[0] = img.pixels;
  frame.strides[0] = img.width * 3;
  st = seg_session_run_frame (session, &frame);
  if (st != SEG_OK) {
    error_line ("%s: run on %s failed: %s", mi->name, image_path,
        seg_status_str (st));
    goto out;
  }

  if (image_alloc (&mask, img.width, img.height, 1) < 0) {
    error_line ("%s: out of memory for the mask", mask_path);
    goto out;
  }
  image_voc_palette (palette);
  if (probability)
    st = seg_session_probability (session, 1, mask.pixels, mask.width,
        mask.height, mask.width);
  else
    st = seg_session_class_map (session, mask.pixels, mask.width, mask.height,
        mask.width, threshold);
  if (st != SEG_OK) {
    error_line ("%s: cannot compute the mask: %s", mi->name,
        seg_status_str (st));
    goto out;
  }
  if (image_write_png (mask_path, &mask, probability ? NULL : palette, err,
          sizeof err)
      < 0) {
    error_line ("%s", err);
    goto out;
  }

  if (overlay_path) {
    if (probability) {
      st = seg_session_class_map (session, mask.pixels, mask.width, mask.height,
          mask.width, threshold);
      if (st != SEG_OK) {
        error_line ("%s: cannot compute the class map: %s", mi->name,
            seg_status_str (st));
        goto out;
      }
    }
    tint (&img, mask.pixels, palette);
    if (image_write_png (overlay_path, &img, NULL, err, sizeof err) < 0) {
      error_line ("%s", err);
      goto out;
    }
  }
  ret = EXIT_SUCCESS;

out:
  image_clear (&mask);
  image_clear (&img);
  seg_session_free (session);
  seg_model_free (model);
  return ret;
}

static int
cmd_run (int argc, char **argv)
{
  static const struct option longopts[] = {
      {"input-npy", required_argument, NULL, 'i'},
      {"output-npy", required_argument, NULL, 'O'},
      {"output", required_argument, NULL, 'o'},
      {"overlay", required_argument, NULL, 'v'},
      {"threads", required_argument, NULL, 't'},
      {"threshold", required_argument, NULL, 'T'},
      {"help", no_argument, NULL, 'h'},
      {NULL, 0, NULL, 0},
  };
  const char *in_npy = NULL, *out_npy = NULL, *mask = NULL, *overlay = NULL;
  int threads = 1, have_threshold = 0, c, npos;
  float threshold = 0.5f;
  long v;

  opterr = 0;
  while ((c = getopt_long (argc, argv, ":o:h", longopts, NULL)) != -1) {
    switch (c) {
      case 'i':
        in_npy = optarg;
        break;
      case 'O':
        out_npy = optarg;
        break;
      case 'o':
        mask = optarg;
        break;
      case 'v':
        overlay = optarg;
        break;
      case 't':
        if (parse_int (optarg, 0, MAX_THREADS, &v) < 0)
          return usage_error ("run",
              "--threads '%s' is not an integer in "
              "0..%d",
              optarg, MAX_THREADS);
        threads = (int) v;
        break;
      case 'T':
        if (parse_unit_float (optarg, &threshold) < 0)
          return usage_error ("run",
              "--threshold '%s' is not a number in "
              "[0, 1]",
              optarg);
        have_threshold = 1;
        break;
      case 'h':
        fputs (usage_run, stdout);
        return EXIT_SUCCESS;
      default:
        return bad_option ("run", c, optopt, argv);
    }
  }
  npos = argc - optind;
  if (in_npy || out_npy) {
    if (!in_npy || !out_npy)
      return usage_error ("run",
          "tensor mode needs both --input-npy and "
          "--output-npy");
    if (mask || overlay || have_threshold)
      return usage_error ("run",
          "-o, --overlay and --threshold belong to "
          "image mode, not --input-npy");
    if (npos != 1)
      return usage_error ("run",
          "tensor mode expects exactly one MODEL "
          "argument");
    return run_npy (argv[optind], in_npy, out_npy, threads);
  }
  if (npos != 2)
    return usage_error ("run", "expects MODEL and IMAGE (or --input-npy)");
  if (!mask)
    return usage_error ("run", "image mode needs -o MASK.png");
  return run_image (argv[optind], argv[optind + 1], mask, overlay, threads,
      threshold);
}

/* ---- seg bench ---------------------------------------------------------- */

static double
now_seconds (void)
{
  struct timespec ts;

  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (double) ts.tv_sec + (double) ts.tv_nsec * 1e-9;
}

static int
compare_double (const void *a, const void *b)
{
  double x = *(const double *) a, y = *(const double *) b;

  return (x > y) - (x < y);
}

/* Roughly normal values (sum of four uniforms) from a fixed xorshift seed,
 * so every bench run sees the same input. */
static void
fill_random (float *x, size_t n)
{
  uint64_t s = 0x9e3779b97f4a7c15u;

  for (size_t i = 0; i < n; i++) {
    float sum = 0.0f;
    for (int k = 0; k < 4; k++) {
      s ^= s << 13;
      s ^= s >> 7;
      s ^= s << 17;
      sum += (float) (s >> 40) * (1.0f / 16777216.0f);
    }
    x[i] = (sum - 2.0f) * 1.7320508f;
  }
}

static int
cmd_bench (int argc, char **argv)
{
  static const struct option longopts[] = {
      {"size", required_argument, NULL, 's'},
      {"threads", required_argument, NULL, 't'},
      {"iters", required_argument, NULL, 'n'},
      {"warmup", required_argument, NULL, 'w'},
      {"per-run", no_argument, NULL, 'r'},
      {"gap", required_argument, NULL, 'g'},
      {"help", no_argument, NULL, 'h'},
      {NULL, 0, NULL, 0},
  };
  int height = 0, width = 0, threads = 1, c, ret = EXIT_FAILURE;
  bool per_run = false;
  long iters = 20, warmup = 3, gap_ms = 0, v;
  seg_model *model = NULL;
  seg_session *session = NULL;
  seg_session *mask_session = NULL;
  seg_session_info si;
  seg_session_info msi;
  float *input = NULL;
  double *times = NULL, median, p90;
  size_t count;
  struct rusage ru;
  seg_status st;

  opterr = 0;
  while ((c = getopt_long (argc, argv, ":h", longopts, NULL)) != -1) {
    switch (c) {
      case 's':
        if (parse_size (optarg, &height, &width) < 0)
          return usage_error ("bench",
              "--size '%s' is not HxW with sides "
              "1..%d",
              optarg, MAX_SIDE);
        break;
      case 't':
        if (parse_int (optarg, 0, MAX_THREADS, &v) < 0)
          return usage_error ("bench",
              "--threads '%s' is not an integer "
              "in 0..%d",
              optarg, MAX_THREADS);
        threads = (int) v;
        break;
      case 'n':
        if (parse_int (optarg, 1, 1000000, &iters) < 0)
          return usage_error ("bench",
              "--iters '%s' is not an integer in "
              "1..1000000",
              optarg);
        break;
      case 'w':
        if (parse_int (optarg, 0, 100000, &warmup) < 0)
          return usage_error ("bench",
              "--warmup '%s' is not an integer in "
              "0..100000",
              optarg);
        break;
      case 'r':
        per_run = true;
        break;
      case 'g':
        if (parse_int (optarg, 0, 1000, &gap_ms) < 0)
          return usage_error ("bench",
              "--gap '%s' is not an integer in 0..1000", optarg);
        break;
      case 'h':
        fputs (usage_bench, stdout);
        return EXIT_SUCCESS;
      default:
        return bad_option ("bench", c, optopt, argv);
    }
  }
  if (argc - optind != 1)
    return usage_error ("bench", "expects exactly one MODEL argument");

  if (load_model (argv[optind], &model) != 0)
    goto out;
  if (new_session (model, threads, height, width, 0, &session) != 0
      || new_session (model, threads, height, width, 1, &mask_session) != 0)
    goto out;
  seg_session_get_info (session, &si);
  seg_session_get_info (mask_session, &msi);
  seg_session_free (mask_session);
  mask_session = NULL;
  count = (size_t) si.input_channels * (size_t) si.input_height
      * (size_t) si.input_width;
  input = malloc (count * sizeof *input);
  times = malloc ((size_t) iters * sizeof *times);
  if (!input || !times) {
    error_line ("bench: out of memory");
    goto out;
  }
  fill_random (input, count);

  for (long i = 0; i < warmup + iters; i++) {
    if (gap_ms > 0) {
      struct timespec gap = {gap_ms / 1000, gap_ms % 1000 * 1000000};
      nanosleep (&gap, NULL);
    }
    double t0 = now_seconds ();
    st = seg_session_run (session, input, count);
    if (st != SEG_OK) {
      error_line ("%s: run failed: %s", seg_model_get_info (model)->name,
          seg_status_str (st));
      goto out;
    }
    if (i >= warmup)
      times[i - warmup] = now_seconds () - t0;
  }
  if (per_run)
    for (long i = 0; i < iters; i++)
      printf ("run:          %.3f\n", times[i] * 1e3);
  qsort (times, (size_t) iters, sizeof *times, compare_double);
  median = iters % 2 ? times[iters / 2]
                     : 0.5 * (times[iters / 2 - 1] + times[iters / 2]);
  /* Nearest-rank percentile: the smallest time that at least 90% of the
   * runs did not exceed. */
  p90 = times[(size_t) ceil (0.9 * (double) iters) - 1];
  getrusage (RUSAGE_SELF, &ru);

  printf ("model:        %s\n", seg_model_get_info (model)->name);
  printf ("input:        %dx%d, %d threads, %ld runs after %ld warm-up",
      si.input_height, si.input_width, si.threads, iters, warmup);
  if (gap_ms > 0)
    printf (", %ld ms apart", gap_ms);
  printf ("\n");
  printf ("median:       %.3f ms/frame\n", median * 1e3);
  printf ("p90:          %.3f ms/frame\n", p90 * 1e3);
  printf ("rate:         %.2f GFLOP/s (2 x %llu MACs per frame)\n",
      median > 0 ? 2.0 * (double) si.macs / median * 1e-9 : 0.0,
      (unsigned long long) si.macs);
  printf ("activations:  %zu bytes planned\n", si.arena_bytes);
  printf ("  for masks:  %zu bytes planned (final resize fused into the "
          "mask)\n",
      msi.arena_bytes);
  printf ("peak RSS:     %ld KiB\n", ru.ru_maxrss);
  if (fflush (stdout) != 0 || ferror (stdout)) {
    error_line ("bench: cannot write to standard output");
    goto out;
  }
  ret = EXIT_SUCCESS;

out:
  free (times);
  free (input);
  seg_session_free (session);
  seg_session_free (mask_session);
  seg_model_free (model);
  return ret;
}

/* ---- main --------------------------------------------------------------- */

typedef struct
{
  const char *name;
  int (*run) (int argc, char **argv);
  const char *usage;
} command;

static const command commands[] = {
    {"info", cmd_info, usage_info},
    {"run", cmd_run, usage_run},
    {"bench", cmd_bench, usage_bench},
};

static const command *
find_command (const char *name)
{
  for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
    if (strcmp (commands[i].name, name) == 0)
      return &commands[i];
  return NULL;
}

int
main (int argc, char **argv)
{
  const command *cmd;

  if (argc < 2) {
    fputs ("seg: no command given (see 'seg --help')\n", stderr);
    return EXIT_USAGE;
  }
  if (strcmp (argv[1], "--help") == 0 || strcmp (argv[1], "-h") == 0) {
    fputs (usage_main, stdout);
    return EXIT_SUCCESS;
  }
  if (strcmp (argv[1], "help") == 0) {
    if (argc == 2) {
      fputs (usage_main, stdout);
      return EXIT_SUCCESS;
    }
    cmd = find_command (argv[2]);
    if (!cmd) {
      fprintf (stderr, "seg: unknown command '%s' (see 'seg --help')\n",
          argv[2]);
      return EXIT_USAGE;
    }
    fputs (cmd->usage, stdout);
    return EXIT_SUCCESS;
  }
  cmd = find_command (argv[1]);
  if (!cmd) {
    fprintf (stderr, "seg: unknown command '%s' (see 'seg --help')\n", argv[1]);
    return EXIT_USAGE;
  }
  return cmd->run (argc - 1, argv + 1);
}
