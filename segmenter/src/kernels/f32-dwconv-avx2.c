/* AVX2+FMA depthwise kernel: 16 channels per step with the accumulators in
 * registers across all taps, then 8, then a masked tail so that no load
 * reads past a pixel's channels. */
#include <immintrin.h>
#include <stdint.h>

#include "act-avx2.h"

void
seg_f32_dwconv_ukernel__avx2_1x16 (size_t channels, size_t width, size_t taps,
    const float *const *in, const float *w, float *out, size_t out_stride,
    const seg_f32_act_params *act)
{
  const act_avx2 p = act_avx2_init (act);
  const __m256i tail = mask_avx2 (channels & 7);

  for (size_t x = 0; x < width; x++) {
    const float *const *ip = in + x * taps;
    float *o = out + x * out_stride;
    size_t ch = 0;
    for (; ch + 16 <= channels; ch += 16) {
      __m256 acc0 = _mm256_loadu_ps (w + ch);
      __m256 acc1 = _mm256_loadu_ps (w + ch + 8);
      const float *k = w + channels + ch;
      for (size_t t = 0; t < taps; t++, k += channels) {
        const float *i = ip[t] + ch;
        acc0 = _mm256_fmadd_ps (_mm256_loadu_ps (i), _mm256_loadu_ps (k), acc0);
        acc1 = _mm256_fmadd_ps (_mm256_loadu_ps (i + 8),
            _mm256_loadu_ps (k + 8), acc1);
      }
      _mm256_storeu_ps (o + ch, act_avx2_apply (&p, acc0));
      _mm256_storeu_ps (o + ch + 8, act_avx2_apply (&p, acc1));
    }
    if (ch + 8 <= channels) {
      __m256 acc = _mm256_loadu_ps (w + ch);
      const float *k = w + channels + ch;
      for (size_t t = 0; t < taps; t++, k += channels)
        acc = _mm256_fmadd_ps (_mm256_loadu_ps (ip[t] + ch),
            _mm256_loadu_ps (k), acc);
      _mm256_storeu_ps (o + ch, act_avx2_apply (&p, acc));
      ch += 8;
    }
    if (ch < channels) {
      __m256 acc = _mm256_maskload_ps (w + ch, tail);
      const float *k = w + channels + ch;
      for (size_t t = 0; t < taps; t++, k += channels)
        acc = _mm256_fmadd_ps (_mm256_maskload_ps (ip[t] + ch, tail),
            _mm256_maskload_ps (k, tail), acc);
      _mm256_maskstore_ps (o + ch, tail, act_avx2_apply (&p, acc));
    }
  }
}
