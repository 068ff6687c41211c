/* Failure counting and a deterministic RNG shared by the engine's graph
 * tests (test-irb, test-fuse): a failed check is reported and counted, and
 * the test goes on, so one run lists every case that broke. */
#ifndef SEG_TEST_HARNESS_H
#define SEG_TEST_HARNESS_H

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>

static int failures, checks;
static uint64_t rng = 0x1bb5eedull;

static void
fail (const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  fprintf (stderr, "FAIL: ");
  vfprintf (stderr, fmt, ap);
  fprintf (stderr, "\n");
  va_end (ap);
  failures++;
}

/* Uniform in [-1, 1] from xorshift64 on rng. */
static float
frand (void)
{
  rng ^= rng << 13;
  rng ^= rng >> 7;
  rng ^= rng << 17;
  return (float) ((rng >> 40) & 0xffffff) / (float) 0xffffff * 2.0f - 1.0f;
}

#endif
