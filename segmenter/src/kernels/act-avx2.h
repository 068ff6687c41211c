/* Fused activations on 8 floats at a time, shared by the AVX2 kernels.
 * Sigmoid uses a polynomial exp accurate to a few ulp: the same maths as
 * seg_f32_act's expf within float rounding, and it matters for speed, since
 * MediaPipe's selfie head ends in a full-resolution conv with a sigmoid. */
#ifndef SEG_ACT_AVX2_H
#define SEG_ACT_AVX2_H

#include <immintrin.h>
#include <stdint.h>

#include "kernels.h"

typedef struct
{
  seg_act act;
  __m256 a, b, zero, one, sixth, half;
} act_avx2;

/* exp(x) for x in [-87, 88]: x = n ln2 + r with |r| <= ln2 / 2, a degree-6
 * polynomial for exp(r) (Cephes' expf coefficients), then 2^n through the
 * exponent bits. Arguments outside the range are clamped. */
static inline __m256
exp_avx2 (__m256 x)
{
  x = _mm256_min_ps (_mm256_max_ps (x, _mm256_set1_ps (-87.0f)),
      _mm256_set1_ps (88.0f));
  __m256 n = _mm256_round_ps (_mm256_mul_ps (x, _mm256_set1_ps (1.44269504f)),
      _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m256 r = _mm256_fnmadd_ps (n, _mm256_set1_ps (0.693359375f), x);
  r = _mm256_fnmadd_ps (n, _mm256_set1_ps (-2.12194440e-4f), r);
  __m256 p = _mm256_set1_ps (1.9875691500e-4f);
  p = _mm256_fmadd_ps (p, r, _mm256_set1_ps (1.3981999507e-3f));
  p = _mm256_fmadd_ps (p, r, _mm256_set1_ps (8.3334519073e-3f));
  p = _mm256_fmadd_ps (p, r, _mm256_set1_ps (4.1665795894e-2f));
  p = _mm256_fmadd_ps (p, r, _mm256_set1_ps (1.6666665459e-1f));
  p = _mm256_fmadd_ps (p, r, _mm256_set1_ps (5.0000001201e-1f));
  p = _mm256_fmadd_ps (p, _mm256_mul_ps (r, r),
      _mm256_add_ps (r, _mm256_set1_ps (1.0f)));
  /* n is in [-126, 127]: 2^n is n + 127 in the exponent field. */
  __m256i e = _mm256_slli_epi32 (_mm256_add_epi32 (_mm256_cvtps_epi32 (n),
                                     _mm256_set1_epi32 (127)),
      23);
  return _mm256_mul_ps (p, _mm256_castsi256_ps (e));
}

static inline act_avx2
act_avx2_init (const seg_f32_act_params *p)
{
  act_avx2 v = {
      .act = p->act,
      .a = _mm256_set1_ps (p->a),
      .b = _mm256_set1_ps (p->b),
      .zero = _mm256_setzero_ps (),
      .one = _mm256_set1_ps (1.0f),
      .sixth = _mm256_set1_ps (1.0f / 6.0f),
      .half = _mm256_set1_ps (0.5f),
  };
  return v;
}

static inline __m256
act_avx2_apply (const act_avx2 *p, __m256 x)
{
  switch (p->act) {
    case SEG_ACT_RELU:
      return _mm256_max_ps (x, p->zero);
    case SEG_ACT_CLIP:
      return _mm256_min_ps (_mm256_max_ps (x, p->a), p->b);
    case SEG_ACT_HARDSIGMOID:
      return _mm256_max_ps (p->zero,
          _mm256_min_ps (p->one, _mm256_fmadd_ps (p->a, x, p->b)));
    case SEG_ACT_HARDSWISH:
      return _mm256_mul_ps (x,
          _mm256_max_ps (p->zero,
              _mm256_min_ps (p->one, _mm256_fmadd_ps (x, p->sixth, p->half))));
    case SEG_ACT_SIGMOID:
      /* Below x = -87 the quotient would be a denormal, which costs a
       * microcode assist of ~100 cycles per division on x86 (a head's
       * background logits go there); stop at 1.6e-38 instead. */
      return _mm256_div_ps (p->one,
          _mm256_add_ps (p->one,
              exp_avx2 (_mm256_min_ps (_mm256_sub_ps (p->zero, x),
                  _mm256_set1_ps (87.0f)))));
    case SEG_ACT_NONE:
      break;
  }
  return x;
}

/* Lanes [0, n) set, n <= 8, for maskload/maskstore: a window into eight
 * -1 then eight 0. */
static inline __m256i
mask_avx2 (size_t n)
{
  static const int32_t table[16] = {-1, -1, -1, -1, -1, -1, -1, -1, 0, 0, 0, 0,
      0, 0, 0, 0};
  return _mm256_loadu_si256 ((const __m256i *) (table + 8 - n));
}

#endif /* SEG_ACT_AVX2_H */
