/* Bad input to the `seg` tool: each case must end with a non-zero exit (not
 * a crash), nothing on stdout and exactly one line on stderr that says what
 * was wrong (checked by a substring: the file or option at fault). Also
 * checks that --help works for every command.
 *
 * Usage: test-cli SEG
 * Cases that need a loadable model use $SEG_MODEL_DIR/selfie_segmentation.
 * tflite and are skipped, with a note, when it is not there. */
#include <stdarg.h>
#include <stdint.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "image.h"
#include "npy.h"
#include "util.h"

#include "../check.h"

static int failures;
static const char *seg;
static char *dir;

static void
fail_case (const char *what, char *const argv[], const tool_result *r,
    const char *why)
{
  fprintf (stderr, "FAIL: %s: %s\n", what, why);
  tool_result_dump (argv, r);
  failures++;
}

/* Runs seg with the given arguments (NULL-terminated, without argv[0]). */
static void
expect_failure (const char *what, int want_status, const char *needle, ...)
{
  char *argv[32];
  int argc = 0;
  tool_result r;
  va_list ap;
  const char *a, *nl;

  argv[argc++] = (char *) seg;
  va_start (ap, needle);
  while ((a = va_arg (ap, const char *)) && argc < 31)
    argv[argc++] = (char *) a;
  va_end (ap);
  argv[argc] = NULL;

  run_tool (argv, dir, &r);
  nl = strchr (r.err, '\n');
  if (r.status < 0)
    fail_case (what, argv, &r, "crashed");
  else if (r.status == 0)
    fail_case (what, argv, &r, "exited 0");
  else if (want_status && r.status != want_status)
    fail_case (what, argv, &r,
        want_status == 2 ? "expected exit status 2 (usage error)"
                         : "expected exit status 1 (failed operation)");
  else if (r.out[0] != '\0')
    fail_case (what, argv, &r, "printed on stdout");
  else if (!nl || nl[1] != '\0' || nl == r.err)
    fail_case (what, argv, &r, "stderr is not exactly one line");
  else if (strncmp (r.err, "seg", 3) != 0)
    fail_case (what, argv, &r, "message does not start with 'seg'");
  else if (!strstr (r.err, needle)) {
    fail_case (what, argv, &r, "message lacks the expected text");
    fprintf (stderr, "  expected text: '%s'\n", needle);
  } else {
    printf ("ok: %s: %s", what, r.err);
  }
  tool_result_clear (&r);
}

static void
expect_help (const char *command, const char *needle)
{
  char *argv[] = {(char *) seg, (char *) command, "--help", NULL};
  tool_result r;

  if (!command) {
    argv[1] = "--help";
    argv[2] = NULL;
  }
  run_tool (argv, dir, &r);
  if (r.status != 0 || !strstr (r.out, needle) || r.err[0] != '\0')
    fail_case ("help", argv, &r, "expected exit 0 and the usage on stdout");
  else
    printf ("ok: help for %s\n", command ? command : "seg");
  tool_result_clear (&r);
}

static char *
path_in_dir (const char *name)
{
  char *p;

  if (asprintf (&p, "%s/%s", dir, name) < 0)
    exit (1);
  return p;
}

static void
write_file (const char *path, const void *data, size_t len)
{
  FILE *f = fopen (path, "wb");

  if (!f || fwrite (data, 1, len, f) != len || fclose (f) != 0) {
    fprintf (stderr, "FAIL: cannot write %s\n", path);
    exit (1);
  }
}

static void
write_npy_or_die (const char *path, int rank, const int64_t *shape)
{
  size_t count = 1;
  float *data;
  char err[512];

  for (int i = 0; i < rank; i++)
    count *= (size_t) shape[i];
  data = calloc (count, sizeof *data);
  if (!data || npy_write (path, data, rank, shape, err, sizeof err) < 0) {
    fprintf (stderr, "FAIL: cannot write %s: %s\n", path, err);
    exit (1);
  }
  free (data);
}

int
main (int argc, char **argv)
{
  const char *model_dir = getenv ("SEG_MODEL_DIR");
  char *model = NULL, *png, *text, *trunc_png, *good_npy, *trunc_npy, *f8_npy,
       *small_npy, *rank3_npy, *missing, *mask, *bad_out;
  char err[512];
  bool model_missing = false;
  image img;
  static const int64_t good_shape[] = {1, 256, 256, 3};
  static const int64_t small_shape[] = {1, 64, 64, 3};
  static const int64_t rank3_shape[] = {256, 256, 3};

  if (argc != 2) {
    fprintf (stderr, "usage: test-cli SEG\n");
    return 2;
  }
  seg = argv[1];
  dir = make_scratch_dir ("cli");

  png = path_in_dir ("photo.png");
  if (image_alloc (&img, 32, 24, 3) < 0
      || image_write_png (png, &img, NULL, err, sizeof err) < 0) {
    fprintf (stderr, "FAIL: cannot write %s\n", png);
    return 1;
  }
  image_clear (&img);
  text = path_in_dir ("notes.png");
  write_file (text, "not an image\n", 13);
  trunc_png = path_in_dir ("cut.png");
  {
    FILE *f = fopen (png, "rb");
    uint8_t buf[4096];
    size_t n = f ? fread (buf, 1, sizeof buf, f) : 0;
    if (f)
      fclose (f);
    write_file (trunc_png, buf, n / 2);
  }
  good_npy = path_in_dir ("in.npy");
  write_npy_or_die (good_npy, 4, good_shape);
  small_npy = path_in_dir ("small.npy");
  write_npy_or_die (small_npy, 4, small_shape);
  trunc_npy = path_in_dir ("cut.npy");
  {
    /* 64 * 64 * 3 floats and the header fit the buffer. */
    FILE *f = fopen (small_npy, "rb");
    static uint8_t buf[1 << 16];
    size_t n = f ? fread (buf, 1, sizeof buf, f) : 0;
    if (f)
      fclose (f);
    write_file (trunc_npy, buf, n - 100);
  }
  f8_npy = path_in_dir ("f8.npy");
  {
    /* What np.save writes for np.zeros((2, 2)): float64. */
    static const char head[] = "\x93NUMPY\x01\x00v\x00{'descr': '<f8', "
                               "'fortran_order': False, 'shape': (2, 2), }";
    uint8_t buf[128 + 32];
    memset (buf, ' ', 128);
    memcpy (buf, head, sizeof head - 1);
    buf[127] = '\n';
    memset (buf + 128, 0, 32);
    write_file (f8_npy, buf, sizeof buf);
  }
  rank3_npy = path_in_dir ("rank3.npy");
  write_npy_or_die (rank3_npy, 3, rank3_shape);
  missing = path_in_dir ("missing.tflite");
  mask = path_in_dir ("mask.png");
  bad_out = path_in_dir ("no/such/dir/out.npy");

  expect_help (NULL, "Usage: seg COMMAND");
  expect_help ("info", "Usage: seg info");
  expect_help ("run", "Usage: seg run");
  expect_help ("bench", "Usage: seg bench");

  /* Command line. */
  expect_failure ("no command", 2, "no command", NULL);
  expect_failure ("unknown command", 2, "'frobnicate'", "frobnicate", NULL);
  expect_failure ("unknown option", 2, "'--frob'", "info", "m", "--frob", NULL);
  expect_failure ("unknown short option", 2, "'-q'", "run", "m", "-q", NULL);
  expect_failure ("option without its value", 2, "'--iters' needs a value",
      "bench", "m", "--iters", NULL);
  expect_failure ("threads junk", 2, "--threads 'abc'", "bench", "m",
      "--threads", "abc", NULL);
  expect_failure ("threads trailing junk", 2, "--threads '2x'", "run", "m",
      "i.png", "-o", "o.png", "--threads", "2x", NULL);
  expect_failure ("threads negative", 2, "--threads '-1'", "bench", "m",
      "--threads", "-1", NULL);
  expect_failure ("threads too many", 2, "--threads '100000'", "bench", "m",
      "--threads", "100000", NULL);
  expect_failure ("threads overflow", 2, "--threads", "bench", "m", "--threads",
      "99999999999999999999999", NULL);
  expect_failure ("threads with a space", 2, "--threads", "bench", "m",
      "--threads", " 4", NULL);
  expect_failure ("iters zero", 2, "--iters '0'", "bench", "m", "--iters", "0",
      NULL);
  expect_failure ("warmup empty", 2, "--warmup ''", "bench", "m", "--warmup",
      "", NULL);
  expect_failure ("gap negative", 2, "--gap '-1'", "bench", "m", "--gap", "-1",
      NULL);
  expect_failure ("gap over a second", 2, "--gap '1001'", "bench", "m", "--gap",
      "1001", NULL);
  expect_failure ("size zero", 2, "--size '0x5'", "info", "m", "--size", "0x5",
      NULL);
  expect_failure ("size half", 2, "--size '10x'", "info", "m", "--size", "10x",
      NULL);
  expect_failure ("size no height", 2, "--size 'x10'", "bench", "m", "--size",
      "x10", NULL);
  expect_failure ("size junk", 2, "--size '10x10x3'", "bench", "m", "--size",
      "10x10x3", NULL);
  expect_failure ("size huge", 2, "--size '100000x10'", "bench", "m", "--size",
      "100000x10", NULL);
  expect_failure ("threshold above 1", 2, "--threshold '1.5'", "run", "m",
      "i.png", "-o", "o.png", "--threshold", "1.5", NULL);
  expect_failure ("threshold nan", 2, "--threshold 'nan'", "run", "m", "i.png",
      "-o", "o.png", "--threshold", "nan", NULL);
  expect_failure ("run without -o", 2, "-o MASK.png", "run", "m", png, NULL);
  expect_failure ("run without image", 2, "MODEL and IMAGE", "run", "m", "-o",
      mask, NULL);
  expect_failure ("npy in without out", 2, "--output-npy", "run", "m",
      "--input-npy", good_npy, NULL);
  expect_failure ("npy and -o mixed", 2, "image mode", "run", "m",
      "--input-npy", good_npy, "--output-npy", "o.npy", "-o", mask, NULL);
  expect_failure ("info without model", 2, "MODEL", "info", NULL);

  /* Files that are missing or not what they claim; the input is read
   * before the model, so these need no model. */
  expect_failure ("missing image", 1, "missing.jpg: cannot open", "run",
      missing, "missing.jpg", "-o", mask, NULL);
  expect_failure ("non-image", 1, "notes.png: not a PNG or JPEG", "run",
      missing, text, "-o", mask, NULL);
  expect_failure ("truncated PNG", 1, "cut.png: bad PNG", "run", missing,
      trunc_png, "-o", mask, NULL);
  expect_failure ("missing npy", 1, "nope.npy: cannot open", "run", missing,
      "--input-npy", "nope.npy", "--output-npy", "o.npy", NULL);
  expect_failure ("truncated npy", 1, "cut.npy: data is", "run", missing,
      "--input-npy", trunc_npy, "--output-npy", "o.npy", NULL);
  expect_failure ("float64 npy", 1, "f8.npy: header field 'descr' is '<f8'",
      "run", missing, "--input-npy", f8_npy, "--output-npy", "o.npy", NULL);
  expect_failure ("missing model (image)", 1, "missing.tflite", "run", missing,
      png, "-o", mask, NULL);
  expect_failure ("missing model (npy)", 1, "missing.tflite", "run", missing,
      "--input-npy", good_npy, "--output-npy", "o.npy", NULL);
  expect_failure ("missing model (info)", 1, "missing.tflite", "info", missing,
      NULL);
  expect_failure ("missing model (bench)", 1, "missing.tflite", "bench",
      missing, "--iters", "1", NULL);
  expect_failure ("text file as model", 1, "notes.png", "info", text, NULL);
  expect_failure ("PNG as model", 1, "photo.png", "run", png, png, "-o", mask,
      NULL);

  if (model_dir && *model_dir
      && asprintf (&model, "%s/selfie_segmentation.tflite", model_dir) > 0
      && access (model, R_OK) == 0) {
    /* The model takes 1x256x256x3 NHWC and is not resizable. */
    expect_failure ("npy of the wrong size", 1,
        "small.npy: shape (1, 64, 64, 3) does not fit", "run", model,
        "--input-npy", small_npy, "--output-npy", "o.npy", NULL);
    expect_failure ("npy of the wrong rank", 1, "rank3.npy: shape has rank 3",
        "run", model, "--input-npy", rank3_npy, "--output-npy", "o.npy", NULL);
    expect_failure ("unwritable output npy", 1, "out.npy: cannot create", "run",
        model, "--input-npy", good_npy, "--output-npy", bad_out, NULL);
    expect_failure ("fixed-size model resized", 1, "selfie_segmentation.tflite",
        "bench", model, "--size", "100x100", "--iters", "1", NULL);
  } else {
    model_missing = true;
  }

  free (png);
  free (text);
  free (trunc_png);
  free (good_npy);
  free (trunc_npy);
  free (f8_npy);
  free (small_npy);
  free (rank3_npy);
  free (missing);
  free (mask);
  free (bad_out);
  remove_scratch_dir (dir);
  if (failures) {
    fprintf (stderr, "%d case(s) failed\n", failures);
    return 1;
  }
  if (model_missing) {
    printf ("SKIP: %s/selfie_segmentation.tflite not found (run "
            "scripts/fetch-models.sh); the cases that need no model passed\n",
        model_dir && *model_dir ? model_dir : "$SEG_MODEL_DIR");
    free (model);
    return TEST_SKIP;
  }
  free (model);
  printf ("cli: all cases passed\n");
  return 0;
}
