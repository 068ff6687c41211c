/* Failure reporting and a deterministic RNG for the tests. Plain C, no
 * GLib, so tests that link only libsegmask can use it. */
#ifndef SEGD_TEST_CHECK_H
#define SEGD_TEST_CHECK_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

/* CHECK (cond, fmt, ...): on failure prints the place, the condition and
 * the message, then exits 1. A test that defines CHECK_CONTINUES before
 * including this instead counts the failure in `failures` and goes on, so
 * that one run lists every broken case; it must then exit non-zero when
 * failures > 0. */
#ifdef CHECK_CONTINUES
static int failures;
#define CHECK_FAILED() failures++
#else
#define CHECK_FAILED() exit (1)
#endif

#define CHECK(cond, ...) \
  do { \
    if (!(cond)) { \
      fprintf (stderr, "FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond); \
      fprintf (stderr, __VA_ARGS__); \
      fputc ('\n', stderr); \
      CHECK_FAILED (); \
    } \
  } while (0)

static inline uint32_t
test_rand (uint32_t *state)
{
  /* xorshift32: the same inputs on every run. */
  uint32_t x = *state;

  x ^= x << 13;
  x ^= x >> 17;
  x ^= x << 5;
  return *state = x;
}

#endif
