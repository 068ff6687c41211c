/* Fused activations on 16 floats at a time, shared by the AVX-512 kernels:
 * the same maths as act-avx2.h (and so as seg_f32_act within float
 * rounding), one register wider. */
#ifndef SEG_ACT_AVX512_H
#define SEG_ACT_AVX512_H

#include <immintrin.h>

#include "kernels.h"

typedef struct
{
  seg_act act;
  __m512 a, b, zero, one, sixth, half;
} act_avx512;

/* exp(x) for x in [-87, 88] by the Cephes reduction and polynomial that
 * act-avx2.h uses; arguments outside the range are clamped. */
static inline __m512
exp_avx512 (__m512 x)
{
  x = _mm512_min_ps (_mm512_max_ps (x, _mm512_set1_ps (-87.0f)),
      _mm512_set1_ps (88.0f));
  __m512 n =
      _mm512_roundscale_ps (_mm512_mul_ps (x, _mm512_set1_ps (1.44269504f)),
          _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m512 r = _mm512_fnmadd_ps (n, _mm512_set1_ps (0.693359375f), x);
  r = _mm512_fnmadd_ps (n, _mm512_set1_ps (-2.12194440e-4f), r);
  __m512 p = _mm512_set1_ps (1.9875691500e-4f);
  p = _mm512_fmadd_ps (p, r, _mm512_set1_ps (1.3981999507e-3f));
  p = _mm512_fmadd_ps (p, r, _mm512_set1_ps (8.3334519073e-3f));
  p = _mm512_fmadd_ps (p, r, _mm512_set1_ps (4.1665795894e-2f));
  p = _mm512_fmadd_ps (p, r, _mm512_set1_ps (1.6666665459e-1f));
  p = _mm512_fmadd_ps (p, r, _mm512_set1_ps (5.0000001201e-1f));
  p = _mm512_fmadd_ps (p, _mm512_mul_ps (r, r),
      _mm512_add_ps (r, _mm512_set1_ps (1.0f)));
  __m512i e = _mm512_slli_epi32 (_mm512_add_epi32 (_mm512_cvtps_epi32 (n),
                                     _mm512_set1_epi32 (127)),
      23);
  return _mm512_mul_ps (p, _mm512_castsi512_ps (e));
}

static inline act_avx512
act_avx512_init (const seg_f32_act_params *p)
{
  act_avx512 v = {
      .act = p->act,
      .a = _mm512_set1_ps (p->a),
      .b = _mm512_set1_ps (p->b),
      .zero = _mm512_setzero_ps (),
      .one = _mm512_set1_ps (1.0f),
      .sixth = _mm512_set1_ps (1.0f / 6.0f),
      .half = _mm512_set1_ps (0.5f),
  };
  return v;
}

static inline __m512
act_avx512_apply (const act_avx512 *p, __m512 x)
{
  switch (p->act) {
    case SEG_ACT_RELU:
      return _mm512_max_ps (x, p->zero);
    case SEG_ACT_CLIP:
      return _mm512_min_ps (_mm512_max_ps (x, p->a), p->b);
    case SEG_ACT_HARDSIGMOID:
      return _mm512_max_ps (p->zero,
          _mm512_min_ps (p->one, _mm512_fmadd_ps (p->a, x, p->b)));
    case SEG_ACT_HARDSWISH:
      return _mm512_mul_ps (x,
          _mm512_max_ps (p->zero,
              _mm512_min_ps (p->one, _mm512_fmadd_ps (x, p->sixth, p->half))));
    case SEG_ACT_SIGMOID:
      /* Below x = -87 the quotient would be a denormal, which costs a
       * microcode assist of ~100 cycles per division on x86 (a head's
       * background logits go there); stop at 1.6e-38 instead. */
      return _mm512_div_ps (p->one,
          _mm512_add_ps (p->one,
              exp_avx512 (_mm512_min_ps (_mm512_sub_ps (p->zero, x),
                  _mm512_set1_ps (87.0f)))));
    case SEG_ACT_NONE:
      break;
  }
  return x;
}

/* Lanes [0, n) set, n <= 16. */
static inline __mmask16
mask_avx512 (size_t n)
{
  return (__mmask16) ((1u << n) - 1u);
}

#endif /* SEG_ACT_AVX512_H */
