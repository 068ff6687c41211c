/* AVX-512 probability-to-byte: 16 values a step, the tail under a mask.
 * max (p, 0) returns its second operand for a NaN p, so NaN gives 0 as in
 * seg_f32_prob_u8; the multiply and the add stay two roundings, as there,
 * so the bytes are the scalar kernel's. */
#include <immintrin.h>

#include "act-avx512.h"

void
seg_f32_prob_u8_ukernel__avx512_16 (size_t n, const float *in, int complement,
    uint8_t *out)
{
  const __m512 zero = _mm512_setzero_ps (), one = _mm512_set1_ps (1.0f);
  const __m512 scale = _mm512_set1_ps (255.0f), half = _mm512_set1_ps (0.5f);

  for (size_t i = 0; i < n; i += 16) {
    const __mmask16 m = mask_avx512 (n - i < 16 ? n - i : 16);
    __m512 p = _mm512_maskz_loadu_ps (m, in + i);

    if (complement)
      p = _mm512_sub_ps (one, p);
    p = _mm512_min_ps (_mm512_max_ps (p, zero), one);
    p = _mm512_add_ps (_mm512_mul_ps (p, scale), half);
    _mm512_mask_cvtepi32_storeu_epi8 (out + i, m, _mm512_cvttps_epi32 (p));
  }
}
