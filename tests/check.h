/* Failure reporting and a deterministic RNG for the element and ZeroMQ
 * tests. Plain C, no GLib, so tests that link only libsegmask can use it. */
#ifndef SEGD_TEST_CHECK_H
#define SEGD_TEST_CHECK_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#define CHECK(cond, ...) \
  do { \
    if (!(cond)) { \
      fprintf (stderr, "FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond); \
      fprintf (stderr, __VA_ARGS__); \
      fputc ('\n', stderr); \
      exit (1); \
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
