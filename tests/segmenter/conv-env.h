/* What the conv-like op tests (test-ops-conv.c) and the microkernel tests
 * (test-microkernels.c) share: the environment with its RNG state, thread
 * pools, check and failure counts, and the reference helpers (double
 * accumulation, activations, the relative tolerance). Included by those
 * two files only; functions are static inline so each compiles what it
 * uses. */
#ifndef SEG_TEST_CONV_ENV_H
#define SEG_TEST_CONV_ENV_H

#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "graph.h"
#include "kernels/kernels.h"
#include "ops/ops.h"
#include "threadpool.h"

#include "../check.h"

#define TOLERANCE 1e-5

typedef struct
{
  uint32_t rng;
  int checks;
  int failures;
  seg_threadpool *pools[2]; /* 1 and 2 threads */
  const char *isa;
} env;


static inline float *
random_floats (env *e, size_t count, float scale)
{
  float *p = malloc ((count ? count : 1) * sizeof *p);
  if (!p) {
    fprintf (stderr, "out of memory\n");
    exit (1);
  }
  for (size_t i = 0; i < count; i++)
    p[i] = test_randf (&e->rng, -1.0f, 1.0f) * scale;
  return p;
}

static inline void *
copy_of (const void *p, size_t bytes)
{
  void *d = malloc (bytes ? bytes : 1);
  if (!d) {
    fprintf (stderr, "out of memory\n");
    exit (1);
  }
  memcpy (d, p, bytes);
  return d;
}

static inline void
fail (env *e, const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  fprintf (stderr, "FAIL [%s] ", e->isa);
  vfprintf (stderr, fmt, ap);
  fputc ('\n', stderr);
  va_end (ap);
  e->failures++;
}

static inline double
ref_act (seg_act act, double a, double b, double x)
{
  switch (act) {
    case SEG_ACT_NONE:
      return x;
    case SEG_ACT_RELU:
      return x > 0 ? x : 0;
    case SEG_ACT_CLIP:
      return fmin (fmax (x, a), b);
    case SEG_ACT_HARDSIGMOID:
      return fmax (0, fmin (1, a * x + b));
    case SEG_ACT_HARDSWISH:
      return x * fmax (0, fmin (1, x / 6 + 0.5));
    case SEG_ACT_SIGMOID:
      return 1 / (1 + exp (-x));
  }
  return x;
}

/* Activation parameters that make each kind bite on values near [-2, 2]. */
static inline void
act_params (seg_act act, float *a, float *b)
{
  *a = *b = 0.0f;
  if (act == SEG_ACT_CLIP) {
    *a = -0.3f;
    *b = 0.4f;
  } else if (act == SEG_ACT_HARDSIGMOID) {
    *a = 0.2f;
    *b = 0.5f;
  }
}

static inline bool
check_close (env *e, const char *what, const float *got, const double *ref,
    size_t count)
{
  e->checks++;
  for (size_t i = 0; i < count; i++) {
    if (!(fabs ((double) got[i] - ref[i]) <= TOLERANCE * (1 + fabs (ref[i])))) {
      fail (e, "%s: element %zu is %.9g, reference %.9g", what, i,
          (double) got[i], ref[i]);
      return false;
    }
  }
  return true;
}

#endif
