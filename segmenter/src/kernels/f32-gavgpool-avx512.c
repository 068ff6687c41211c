/* AVX-512 global average pooling: 64 channels of running sums in four
 * registers while walking the pixels (the scalar kernel's in-memory sums
 * cost a load and a store per add), in the same per-channel order as the
 * scalar kernel, so the results are identical. */
#include <immintrin.h>

#include "act-avx512.h"

void
seg_f32_gavgpool_ukernel__avx512_64 (size_t pixels, size_t channels,
    const float *in, size_t in_stride, float scale, float *out,
    const seg_f32_act_params *act)
{
  const act_avx512 p = act_avx512_init (act);
  const __m512 vs = _mm512_set1_ps (scale);
  size_t ch = 0;
  for (; ch + 64 <= channels; ch += 64) {
    __m512 s0 = _mm512_setzero_ps (), s1 = s0, s2 = s0, s3 = s0;
    const float *row = in + ch;
    for (size_t px = 0; px < pixels; px++, row += in_stride) {
      s0 = _mm512_add_ps (s0, _mm512_loadu_ps (row));
      s1 = _mm512_add_ps (s1, _mm512_loadu_ps (row + 16));
      s2 = _mm512_add_ps (s2, _mm512_loadu_ps (row + 32));
      s3 = _mm512_add_ps (s3, _mm512_loadu_ps (row + 48));
    }
    _mm512_storeu_ps (out + ch, act_avx512_apply (&p, _mm512_mul_ps (s0, vs)));
    _mm512_storeu_ps (out + ch + 16,
        act_avx512_apply (&p, _mm512_mul_ps (s1, vs)));
    _mm512_storeu_ps (out + ch + 32,
        act_avx512_apply (&p, _mm512_mul_ps (s2, vs)));
    _mm512_storeu_ps (out + ch + 48,
        act_avx512_apply (&p, _mm512_mul_ps (s3, vs)));
  }
  for (; ch < channels; ch += 16) {
    const __mmask16 m = mask_avx512 (channels - ch < 16 ? channels - ch : 16);
    __m512 s = _mm512_setzero_ps ();
    const float *row = in + ch;
    for (size_t px = 0; px < pixels; px++, row += in_stride)
      s = _mm512_add_ps (s, _mm512_maskz_loadu_ps (m, row));
    _mm512_mask_storeu_ps (out + ch, m,
        act_avx512_apply (&p, _mm512_mul_ps (s, vs)));
  }
}
