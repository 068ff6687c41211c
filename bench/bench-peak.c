/* bench-peak — this core's FP32 FMA peak, one thread, for each x86 vector
 * ISA it has, so that an engine figure in GFLOP/s can be read as a share
 * of what the core can do (bench/bench.py prints both).
 *
 *   bench-peak [SECONDS]
 *
 * Each ISA runs 16 independent chains of vector FMAs: enough to cover the
 * FMA latency (4 cycles) on two FMA ports, so the loop is bound by
 * throughput alone. The figure is the best of 5 rounds (the host is
 * shared: the best round is the one nobody else interrupted). The line
 * "engine:" names the ISA libsegmenter's kernels use on this CPU, chosen
 * the same way (AVX-512F, else AVX2 with FMA).
 */
#include <immintrin.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define CHAINS 16
#define ROUNDS 5

static double
now_s (void)
{
  struct timespec ts;

  clock_gettime (CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* One FMA per chain per step; x * 1 + 0 keeps the values finite. The
 * factors come through volatiles and the sum is returned, so the compiler
 * can neither fold nor drop the loop. */
#define FMA_LOOP(type, set1, fmadd, add, to_float)                      \
  volatile float one = 1.0f, zero = 0.0f;                               \
  type acc[CHAINS], a = set1 (one), b = set1 (zero);                    \
  for (int k = 0; k < CHAINS; k++)                                      \
    acc[k] = set1 ((float) k);                                          \
  for (long i = 0; i < steps; i++) {                                    \
    _Pragma ("GCC unroll 16") for (int k = 0; k < CHAINS; k++) acc[k] = \
        fmadd (acc[k], a, b);                                           \
  }                                                                     \
  for (int k = 1; k < CHAINS; k++)                                      \
    acc[0] = add (acc[0], acc[k]);                                      \
  return to_float (acc[0])

__attribute__ ((target ("avx512f"))) static float
fma_avx512 (long steps)
{
  FMA_LOOP (__m512, _mm512_set1_ps, _mm512_fmadd_ps, _mm512_add_ps,
      _mm512_cvtss_f32);
}

__attribute__ ((target ("avx2,fma"))) static float
fma_avx2 (long steps)
{
  FMA_LOOP (__m256, _mm256_set1_ps, _mm256_fmadd_ps, _mm256_add_ps,
      _mm256_cvtss_f32);
}

/* GFLOP/s of `fn` with `lanes` floats a vector, over about `seconds`. */
static double
measure (float (*fn) (long), int lanes, double seconds)
{
  long steps = 1000;
  double best = 0, sink = 0;

  /* Grow the step count until a round takes a tenth of the time. */
  for (;;) {
    double t0 = now_s ();

    sink += fn (steps);
    if (now_s () - t0 > seconds / (10 * ROUNDS))
      break;
    steps *= 2;
  }
  for (int r = 0; r < ROUNDS; r++) {
    double t0 = now_s (), t;

    sink += fn (steps * 10);
    t = now_s () - t0;
    if (2.0 * lanes * CHAINS * steps * 10 / t > best)
      best = 2.0 * lanes * CHAINS * steps * 10 / t;
  }
  if (sink == 12345.678)
    printf ("(unlikely)\n");
  return best * 1e-9;
}

int
main (int argc, char **argv)
{
  double seconds = argc > 1 ? atof (argv[1]) : 1.0;
  const char *engine = "scalar";

  if (seconds <= 0 || seconds > 600) {
    fprintf (stderr, "usage: bench-peak [SECONDS] (0 < SECONDS <= 600)\n");
    return 2;
  }
  __builtin_cpu_init ();
  if (__builtin_cpu_supports ("avx2") && __builtin_cpu_supports ("fma")) {
    printf ("peak avx2: %.1f GFLOP/s (1 thread, FP32 FMA)\n",
        measure (fma_avx2, 8, seconds));
    engine = "avx2";
  }
  if (__builtin_cpu_supports ("avx512f")) {
    printf ("peak avx512: %.1f GFLOP/s (1 thread, FP32 FMA)\n",
        measure (fma_avx512, 16, seconds));
    engine = "avx512";
  }
  printf ("engine: %s\n", engine);
  return 0;
}
