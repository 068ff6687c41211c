/* End-to-end tests of real models through the `seg` tool.
 *
 *   test-models SEG tensor MODEL
 *       `seg info` describes the model; `seg run --input-npy` on a random
 *       input gives an output of the declared shape, finite, in [0, 1] for a
 *       probability model, and the same with 1 and 2 threads; `seg bench`
 *       runs.
 *   test-models SEG photo MODEL PHOTO
 *       `seg run MODEL PHOTO -o mask.png --overlay ov.png` on a photo from a
 *       Debian package: for a photo of a person the mask is high inside a
 *       face box and a torso box and low on a background box; for a photo
 *       with nobody in it the mask is nearly empty. The overlay is checked
 *       pixel by pixel against the photo and the mask.
 *   test-models SEG classes MODEL PHOTO NUM_CLASSES
 *       for a logits model, the mask is an 8-bit palette PNG at the photo's
 *       size whose values are class indices below NUM_CLASSES with the VOC
 *       colours, and the overlay tints exactly the non-background pixels.
 *
 * Exits 77 (skipped) when the model or the photo is not installed.
 *
 * How the boxes and limits were chosen: `seg run` wrote the masks of every
 * photo with both MediaPipe models, and they were looked at as images next
 * to the photo, with the boxes drawn on both. The face box covers eyes to
 * chin, the torso box the chest or coat, each well inside the person's
 * outline in the photo and in both masks; the background box lies on flag,
 * sky or lawn well away from the outline, so a few pixels of movement at
 * the mask edge cannot flip a result. Photos without a person were picked
 * the same way (see the note on coffee.png below).
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "image.h"
#include "npy.h"
#include "util.h"

typedef struct
{
  int x0, y0, x1, y1; /* pixels, x1 and y1 exclusive */
} box;

typedef struct
{
  const char *name; /* as given on the command line */
  const char *path;
  const char *package; /* the Debian package that ships it */
  int width, height;
  int person;
  box face, torso, background;
} photo;

static const photo photos[] = {
    /* Astronaut Eileen Collins, head and shoulders in an orange suit, flag
   * on the left, a shuttle model on the right. RGB PNG. */
    {"astronaut.png",
        "/usr/lib/python3/dist-packages/skimage/data/astronaut.png",
        "python3-skimage", 512, 512, 1, {185, 85, 265, 170},
        {80, 320, 260, 480}, {0, 0, 60, 130}},
    /* Grace Hopper in uniform and cap, flag on the left, sky on the right.
   * JPEG. */
    {"grace_hopper.jpg",
        "/usr/share/matplotlib/mpl-data/sample_data/grace_hopper.jpg",
        "python-matplotlib-data", 512, 600, 1, {190, 170, 330, 300},
        {120, 420, 420, 580}, {430, 20, 512, 220}},
    /* The cameraman, in profile behind a tripod on a lawn: a grayscale PNG,
   * and a person who does not face the camera. */
    {"camera.png", "/usr/lib/python3/dist-packages/skimage/data/camera.png",
        "python3-skimage", 512, 512, 1, {180, 100, 245, 180},
        {45, 220, 130, 420}, {400, 330, 512, 500}},
    /* A rocket on its launch pad. */
    {"rocket.jpg", "/usr/lib/python3/dist-packages/skimage/data/rocket.jpg",
        "python3-skimage", 640, 427, 0, {0}, {0}, {0}},
    /* A motorcycle in a garage. (skimage's coffee.png and chelsea.png are no
   * use here: both MediaPipe models segment the cup and the cat, centred
   * skin-coloured blobs, as a person; that is the models, not the engine.) */
    {"motorcycle_left.png",
        "/usr/lib/python3/dist-packages/skimage/data/motorcycle_left.png",
        "python3-skimage", 741, 500, 0, {0}, {0}, {0}},
};

/* Mask means as a fraction of 255. Measured when the boxes were chosen:
 * face and torso >= 0.985, background boxes <= 0.02, whole-mask mean of the
 * photos without a person <= 0.03 with <= 3.2% of pixels >= 128 (the
 * square model lights up part of the motorcycle's tank). */
#define PERSON_MIN 0.80
#define BACKGROUND_MAX 0.10
#define EMPTY_MEAN_MAX 0.06
#define EMPTY_FRACTION_MAX 0.06

static const char *seg;
static char *dir;

#define CHECK_CONTINUES
#include "../check.h"

static char *
path_in_dir (const char *name)
{
  char *p;

  if (asprintf (&p, "%s/%s", dir, name) < 0)
    exit (1);
  return p;
}

/* Runs seg; returns its stdout (owned) or NULL after reporting a failure. */
static char *
run_ok (char *const argv[])
{
  tool_result r;
  char *out;

  run_tool (argv, dir, &r);
  if (r.status != 0) {
    fprintf (stderr, "FAIL: seg did not succeed\n");
    tool_result_dump (argv, &r);
    failures++;
    tool_result_clear (&r);
    return NULL;
  }
  out = r.out;
  r.out = NULL;
  tool_result_clear (&r);
  return out;
}

/* Finds "key" at a line start in `seg info` output and reads the
 * "AxBxCxD" dims after it. */
static int
info_dims (const char *info, const char *key, int64_t dims[4])
{
  const char *p = info;
  long long d[4];

  while (p && *p) {
    if (strncmp (p, key, strlen (key)) == 0) {
      if (sscanf (p + strlen (key), " %lldx%lldx%lldx%lld", &d[0], &d[1], &d[2],
              &d[3])
          != 4)
        return -1;
      for (int i = 0; i < 4; i++)
        dims[i] = d[i];
      return 0;
    }
    p = strchr (p, '\n');
    if (p)
      p++;
  }
  return -1;
}

static int
test_tensor (const char *model)
{
  char *argv_info[] = {(char *) seg, "info", (char *) model, "--passes", NULL};
  char *in = path_in_dir ("in.npy"), *o1 = path_in_dir ("o1.npy"),
       *o2 = path_in_dir ("o2.npy");
  char *argv_run[] = {(char *) seg, "run", (char *) model, "--input-npy", in,
      "--output-npy", o1, "--threads", "1", NULL};
  char *argv_bench[] = {(char *) seg, "bench", (char *) model, "--iters", "2",
      "--warmup", "1", "--threads", "2", "--gap", "1", NULL};
  char *info, *bench, err[512];
  int64_t in_dims[4], out_dims[4];
  npy_array a1 = {0}, a2 = {0};
  size_t count = 1;
  float *x;
  uint32_t s = 1;
  int probability;

  info = run_ok (argv_info);
  if (!info)
    goto out;
  printf ("%s", info);
  if (info_dims (info, "input:", in_dims) < 0
      || info_dims (info, "output:", out_dims) < 0) {
    CHECK (0, "seg info output lacks input:/output: dims");
    goto out;
  }
  probability = strstr (info, "probability") != NULL;
  CHECK (strstr (info, "ops:") && strstr (info, "parameters:")
          && strstr (info, "MACs:") && strstr (info, "activations:")
          && strstr (info, "labels:"),
      "seg info lacks a section");
  CHECK (strstr (info, "passes:") && strstr (info, "fold-constants")
          && strstr (info, "pack-weights"),
      "seg info --passes lacks the passes");

  for (int i = 0; i < 4; i++)
    count *= (size_t) in_dims[i];
  x = malloc (count * sizeof *x);
  for (size_t i = 0; i < count; i++) {
    x[i] = test_randf (&s, 0.0f, 1.0f);
  }
  if (npy_write (in, x, 4, in_dims, err, sizeof err) < 0) {
    free (x);
    CHECK (0, "%s", err);
    goto out;
  }
  free (x);

  free (run_ok (argv_run));
  argv_run[6] = o2;
  argv_run[8] = "2";
  free (run_ok (argv_run));
  if (failures)
    goto out;
  if (npy_read (o1, &a1, err, sizeof err) < 0
      || npy_read (o2, &a2, err, sizeof err) < 0) {
    CHECK (0, "%s", err);
    goto out;
  }
  CHECK (a1.rank == 4, "output rank %d", a1.rank);
  for (int i = 0; i < 4 && i < a1.rank; i++)
    CHECK (a1.shape[i] == out_dims[i],
        "output dim %d is %lld, seg info "
        "says %lld",
        i, (long long) a1.shape[i], (long long) out_dims[i]);
  if (a1.count == a2.count) {
    double worst = 0, lo = INFINITY, hi = -INFINITY;
    size_t bad = 0;

    for (size_t i = 0; i < a1.count; i++) {
      double v = a1.data[i];
      if (!isfinite (v) || (probability && (v < 0 || v > 1)))
        bad++;
      lo = fmin (lo, v);
      hi = fmax (hi, v);
      worst = fmax (worst, fabs (v - (double) a2.data[i]));
    }
    printf ("output range [%g, %g], 1 vs 2 threads max |delta| %g\n", lo, hi,
        worst);
    CHECK (bad == 0, "%zu output values non-finite%s", bad,
        probability ? " or outside [0, 1]" : "");
    CHECK (worst <= 1e-5, "1 and 2 threads differ by %g", worst);
  } else {
    CHECK (0, "1 and 2 threads gave %zu and %zu values", a1.count, a2.count);
  }

  bench = run_ok (argv_bench);
  if (bench) {
    printf ("%s", bench);
    CHECK (strstr (bench, "median:") && strstr (bench, "p90:")
            && strstr (bench, "1 ms apart") && strstr (bench, "GFLOP/s")
            && strstr (bench, "peak RSS:"),
        "seg bench output lacks a line");
    free (bench);
  }

out:
  npy_array_clear (&a1);
  npy_array_clear (&a2);
  free (info);
  free (in);
  free (o1);
  free (o2);
  return failures ? 1 : 0;
}

static double
box_mean (const image *mask, box b)
{
  double sum = 0;

  for (int y = b.y0; y < b.y1; y++)
    for (int x = b.x0; x < b.x1; x++)
      sum += mask->pixels[(size_t) y * (size_t) mask->width + (size_t) x];
  return sum / ((double) (b.x1 - b.x0) * (b.y1 - b.y0) * 255.0);
}

/* Every overlay pixel is the photo pixel, or for class c != 0 the rounded
 * mean of the photo pixel and VOC colour c; pixels with ignore[i] set are
 * not compared. */
static void
check_overlay (const image *img, const image *ov, const image *classes,
    const uint8_t *palette, const uint8_t *ignore)
{
  size_t n = (size_t) img->width * (size_t) img->height, wrong = 0;

  if (ov->width != img->width || ov->height != img->height) {
    CHECK (0, "overlay is %dx%d, photo %dx%d", ov->width, ov->height,
        img->width, img->height);
    return;
  }
  for (size_t i = 0; i < n; i++) {
    int c = classes->pixels[i];
    if (ignore && ignore[i])
      continue;
    for (int k = 0; k < 3; k++) {
      int p = img->pixels[3 * i + k];
      int want = c ? (p + palette[3 * c + k] + 1) / 2 : p;
      if (ov->pixels[3 * i + k] != want)
        wrong++;
    }
  }
  CHECK (wrong == 0, "%zu overlay samples differ from photo + tint", wrong);
}

static const photo *
find_photo (const char *name)
{
  for (size_t i = 0; i < sizeof photos / sizeof photos[0]; i++)
    if (strcmp (photos[i].name, name) == 0)
      return &photos[i];
  return NULL;
}

static int
test_photo (const char *model, const photo *ph)
{
  char *mask_path = path_in_dir ("mask.png"), *ov_path = path_in_dir ("ov.png");
  char *argv_run[] = {(char *) seg, "run", (char *) model, (char *) ph->path,
      "-o", mask_path, "--overlay", ov_path, NULL};
  image img = {0}, mask = {0}, ov = {0}, classes = {0}, ignore = {0};
  uint8_t palette[256 * 3];
  char err[512];
  char *out = run_ok (argv_run);

  free (out);
  if (!out)
    goto out;
  if (image_load (ph->path, 3, &img, err, sizeof err) < 0
      || image_load (mask_path, 1, &mask, err, sizeof err) < 0
      || image_load (ov_path, 3, &ov, err, sizeof err) < 0) {
    CHECK (0, "%s", err);
    goto out;
  }
  if (mask.width != ph->width || mask.height != ph->height) {
    CHECK (0, "mask is %dx%d, photo %dx%d", mask.width, mask.height, ph->width,
        ph->height);
    goto out;
  }
  if (ph->person) {
    double face = box_mean (&mask, ph->face);
    double torso = box_mean (&mask, ph->torso);
    double bg = box_mean (&mask, ph->background);

    printf ("%s: mask mean face %.3f torso %.3f background %.3f\n", ph->name,
        face, torso, bg);
    CHECK (face >= PERSON_MIN,
        "face box mean %.3f < %.2f: the person's "
        "face was not found",
        face, PERSON_MIN);
    CHECK (torso >= PERSON_MIN,
        "torso box mean %.3f < %.2f: the person's "
        "body was not found",
        torso, PERSON_MIN);
    CHECK (bg <= BACKGROUND_MAX,
        "background box mean %.3f > %.2f: the "
        "background was taken for a person",
        bg, BACKGROUND_MAX);
  } else {
    box all = {0, 0, mask.width, mask.height};
    double mean = box_mean (&mask, all);
    size_t high = 0, n = (size_t) mask.width * (size_t) mask.height;

    for (size_t i = 0; i < n; i++)
      high += mask.pixels[i] >= 128;
    printf ("%s: mask mean %.3f, %.4f of pixels >= 128\n", ph->name, mean,
        (double) high / (double) n);
    CHECK (mean <= EMPTY_MEAN_MAX,
        "mask mean %.3f > %.2f on a photo "
        "without a person",
        mean, EMPTY_MEAN_MAX);
    CHECK ((double) high / (double) n <= EMPTY_FRACTION_MAX,
        "%.4f of the mask is foreground on a photo without a person",
        (double) high / (double) n);
  }

  /* The overlay uses the class map at threshold 0.5 and the mask holds
   * round (255 p), so class 1 is mask >= 128; pixels within a rounding
   * step of the threshold are not compared. */
  if (image_alloc (&classes, mask.width, mask.height, 1) == 0
      && image_alloc (&ignore, mask.width, mask.height, 1) == 0) {
    size_t n = (size_t) mask.width * (size_t) mask.height;
    image_voc_palette (palette);
    for (size_t i = 0; i < n; i++) {
      classes.pixels[i] = mask.pixels[i] >= 128;
      ignore.pixels[i] = mask.pixels[i] >= 126 && mask.pixels[i] <= 129;
    }
    check_overlay (&img, &ov, &classes, palette, ignore.pixels);
  }

out:
  image_clear (&ignore);
  image_clear (&classes);
  image_clear (&ov);
  image_clear (&mask);
  image_clear (&img);
  free (mask_path);
  free (ov_path);
  return failures ? 1 : 0;
}

static int
test_classes (const char *model, const photo *ph, int num_classes)
{
  char *mask_path = path_in_dir ("classes.png"),
       *ov_path = path_in_dir ("ov.png");
  char *argv_run[] = {(char *) seg, "run", (char *) model, (char *) ph->path,
      "-o", mask_path, "--overlay", ov_path, NULL};
  image img = {0}, classes = {0}, ov = {0};
  uint8_t palette[256 * 3], voc[256 * 3];
  int entries = 0, used[256] = {0}, distinct = 0;
  char err[512];
  char *out = run_ok (argv_run);
  size_t n;

  free (out);
  if (!out)
    goto out;
  if (read_indexed_png (mask_path, &classes, palette, &entries) < 0) {
    CHECK (0, "%s is not an 8-bit palette PNG", mask_path);
    goto out;
  }
  if (image_load (ph->path, 3, &img, err, sizeof err) < 0
      || image_load (ov_path, 3, &ov, err, sizeof err) < 0) {
    CHECK (0, "%s", err);
    goto out;
  }
  if (classes.width != ph->width || classes.height != ph->height) {
    CHECK (0, "class map is %dx%d, photo %dx%d", classes.width, classes.height,
        ph->width, ph->height);
    goto out;
  }
  image_voc_palette (voc);
  CHECK (entries >= num_classes
          && memcmp (palette, voc, (size_t) num_classes * 3) == 0,
      "palette (%d entries) is not the VOC colour map", entries);
  n = (size_t) classes.width * (size_t) classes.height;
  for (size_t i = 0; i < n; i++)
    used[classes.pixels[i]]++;
  for (int c = 0; c < 256; c++) {
    if (used[c] && c >= num_classes)
      CHECK (0, "%d pixels have class %d, but the model has %d classes",
          used[c], c, num_classes);
    distinct += used[c] > 0;
  }
  printf ("%s: %d distinct classes in the map\n", ph->name, distinct);
  check_overlay (&img, &ov, &classes, voc, NULL);

out:
  image_clear (&ov);
  image_clear (&classes);
  image_clear (&img);
  free (mask_path);
  free (ov_path);
  return failures ? 1 : 0;
}

int
main (int argc, char **argv)
{
  const photo *ph = NULL;
  const char *mode, *model;
  int ret;

  if (argc < 4) {
    fprintf (stderr,
        "usage: test-models SEG tensor|photo|classes MODEL "
        "[PHOTO [NUM_CLASSES]]\n");
    return 2;
  }
  seg = argv[1];
  mode = argv[2];
  model = argv[3];
  if (access (model, R_OK) != 0) {
    printf ("SKIP: %s not found (scripts/fetch-models.sh fetches the "
            "MediaPipe models; torch fixtures need python3-torchvision)\n",
        model);
    return TEST_SKIP;
  }
  if (strcmp (mode, "tensor") != 0) {
    if (argc < 5 || !(ph = find_photo (argv[4]))) {
      fprintf (stderr, "unknown photo\n");
      return 2;
    }
    if (access (ph->path, R_OK) != 0) {
      printf ("SKIP: %s not found (install the Debian package %s)\n", ph->path,
          ph->package);
      return TEST_SKIP;
    }
  }
  dir = make_scratch_dir ("models");
  if (strcmp (mode, "tensor") == 0)
    ret = test_tensor (model);
  else if (strcmp (mode, "photo") == 0)
    ret = test_photo (model, ph);
  else if (strcmp (mode, "classes") == 0 && argc == 6)
    ret = test_classes (model, ph, atoi (argv[5]));
  else
    ret = 2;
  remove_scratch_dir (dir);
  if (ret == 0)
    printf ("%s: all checks passed\n", mode);
  return ret;
}
