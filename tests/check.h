/* The tests' one harness: failure reporting and a deterministic RNG. Plain
 * C, no GLib, so tests that link only libsegmask can use it. */
#ifndef SEGD_TEST_CHECK_H
#define SEGD_TEST_CHECK_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

/* CHECK (cond, fmt, ...): on failure prints the place, the condition and
 * the message, then exits 1. A test that defines CHECK_CONTINUES before
 * including this instead counts the failure in `failures` and goes on, so
 * that one run lists every broken case; it must then exit non-zero when
 * failures > 0. There CHECK also counts itself in `checks`, for the
 * summary line. */
#ifdef CHECK_CONTINUES
static int failures;
static int checks __attribute__ ((unused));
#define CHECK_FAILED() failures++
#define CHECK_COUNT() checks++
#else
#define CHECK_FAILED() exit (1)
#define CHECK_COUNT() ((void) 0)
#endif

/* The one skip policy: a test whose inputs (a model, a photo) are missing
 * runs what it can, prints "SKIP: <what is missing and how to get it>" and
 * exits TEST_SKIP, which meson reports as skipped; it never exits 0 without
 * having run all its checks. Failures still exit 1 first. */
#define TEST_SKIP 77

/* FAIL (fmt, ...): a failed check whose condition the caller has already
 * tested; reported and counted as CHECK does. */
#define FAIL(...)                                         \
  do {                                                    \
    fprintf (stderr, "FAIL %s:%d: ", __FILE__, __LINE__); \
    fprintf (stderr, __VA_ARGS__);                        \
    fputc ('\n', stderr);                                 \
    CHECK_FAILED ();                                      \
  } while (0)

#define CHECK(cond, ...)                                               \
  do {                                                                 \
    CHECK_COUNT ();                                                    \
    if (!(cond)) {                                                     \
      fprintf (stderr, "FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond); \
      fprintf (stderr, __VA_ARGS__);                                   \
      fputc ('\n', stderr);                                            \
      CHECK_FAILED ();                                                 \
    }                                                                  \
  } while (0)

/* The tests' one random number generator: xorshift32, so the same inputs
 * on every run and every platform. Any state but 0 is a seed (0 is taken
 * as a fixed other seed rather than left stuck at 0). */
static inline uint32_t
test_rand (uint32_t *state)
{
  uint32_t x = *state ? *state : 0x9e3779b9u;

  x ^= x << 13;
  x ^= x >> 17;
  x ^= x << 5;
  return *state = x;
}

/* Uniform in [lo, hi), 24 random bits. */
static inline float
test_randf (uint32_t *state, float lo, float hi)
{
  return lo
      + (hi - lo) * (float) (test_rand (state) >> 8) * (1.0f / 16777216.0f);
}

/* Uniform in [0, n) for n >= 1 (the modulo bias does not matter here). */
static inline uint32_t
test_randn (uint32_t *state, uint32_t n)
{
  return test_rand (state) % n;
}

#endif
