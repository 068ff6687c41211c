/* AVX-512 depthwise kernel. Four output pixels per step share each weight
 * load (a tap's weights for 16 channels, then four input loads and four
 * FMAs), so the loop is bound by the FMAs rather than by loads, as a
 * one-pixel loop with two loads per FMA would be. Channels go 16 at a
 * time with a masked tail, so no load reads past a pixel's channels. */
#include <immintrin.h>

#include "act-avx512.h"

/* Pixels x .. x + 3, channels ch .. ch + 15 under mask m. */
static inline void
quad (size_t channels, size_t taps, const float *const *ip, const float *w,
    size_t ch, __mmask16 m, const act_avx512 *p, float *o, size_t out_stride)
{
  const float *const *i0 = ip, *const *i1 = ip + taps;
  const float *const *i2 = ip + 2 * taps, *const *i3 = ip + 3 * taps;
  __m512 a0 = _mm512_maskz_loadu_ps (m, w + ch);
  __m512 a1 = a0, a2 = a0, a3 = a0;
  const float *k = w + channels + ch;
  for (size_t t = 0; t < taps; t++, k += channels) {
    const __m512 kv = _mm512_maskz_loadu_ps (m, k);
    a0 = _mm512_fmadd_ps (_mm512_maskz_loadu_ps (m, i0[t] + ch), kv, a0);
    a1 = _mm512_fmadd_ps (_mm512_maskz_loadu_ps (m, i1[t] + ch), kv, a1);
    a2 = _mm512_fmadd_ps (_mm512_maskz_loadu_ps (m, i2[t] + ch), kv, a2);
    a3 = _mm512_fmadd_ps (_mm512_maskz_loadu_ps (m, i3[t] + ch), kv, a3);
  }
  _mm512_mask_storeu_ps (o + ch, m, act_avx512_apply (p, a0));
  _mm512_mask_storeu_ps (o + out_stride + ch, m, act_avx512_apply (p, a1));
  _mm512_mask_storeu_ps (o + 2 * out_stride + ch, m, act_avx512_apply (p, a2));
  _mm512_mask_storeu_ps (o + 3 * out_stride + ch, m, act_avx512_apply (p, a3));
}

static inline void
single (size_t channels, size_t taps, const float *const *ip, const float *w,
    size_t ch, __mmask16 m, const act_avx512 *p, float *o)
{
  __m512 acc = _mm512_maskz_loadu_ps (m, w + ch);
  const float *k = w + channels + ch;
  for (size_t t = 0; t < taps; t++, k += channels)
    acc = _mm512_fmadd_ps (_mm512_maskz_loadu_ps (m, ip[t] + ch),
        _mm512_maskz_loadu_ps (m, k), acc);
  _mm512_mask_storeu_ps (o + ch, m, act_avx512_apply (p, acc));
}

void
seg_f32_dwconv_ukernel__avx512_4x16 (size_t channels, size_t width, size_t taps,
    const float *const *in, const float *w, float *out, size_t out_stride,
    const seg_f32_act_params *act)
{
  const act_avx512 p = act_avx512_init (act);
  const __mmask16 full = mask_avx512 (16);
  const __mmask16 tail = mask_avx512 (channels & 15);
  size_t x = 0;
  for (; x + 4 <= width; x += 4) {
    const float *const *ip = in + x * taps;
    float *o = out + x * out_stride;
    size_t ch = 0;
    for (; ch + 16 <= channels; ch += 16)
      quad (channels, taps, ip, w, ch, full, &p, o, out_stride);
    if (ch < channels)
      quad (channels, taps, ip, w, ch, tail, &p, o, out_stride);
  }
  for (; x < width; x++) {
    const float *const *ip = in + x * taps;
    float *o = out + x * out_stride;
    size_t ch = 0;
    for (; ch + 16 <= channels; ch += 16)
      single (channels, taps, ip, w, ch, full, &p, o);
    if (ch < channels)
      single (channels, taps, ip, w, ch, tail, &p, o);
  }
}
