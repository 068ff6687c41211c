/* AVX-512 depthwise kernel reading pixels in place. As in the indirection
 * kernel, four output pixels share each weight load and channels go 16 at
 * a time with a masked tail; taps are summed in the same order, so the
 * bits are the same. Here a pixel's taps are offsets from its kernel
 * rows, so there is no pointer table to fill and read. */
#include <immintrin.h>

#include "act-avx512.h"

/* Pixels x .. x + n - 1 (n = 4 or 1), channels ch .. ch + 15 under m. */
static inline __attribute__ ((always_inline)) void
pixels (size_t n, size_t channels, size_t kh, size_t kw,
    const float *const *rows, size_t x, size_t x_step, size_t kx_step,
    const float *w, size_t ch, __mmask16 m, const act_avx512 *p, float *o,
    size_t out_stride)
{
  __m512 a0 = _mm512_maskz_loadu_ps (m, w + ch);
  __m512 a1 = a0, a2 = a0, a3 = a0;
  const float *k = w + channels + ch;
  for (size_t ky = 0; ky < kh; ky++) {
    const float *i = rows[ky] + x * x_step + ch;
    for (size_t kx = 0; kx < kw; kx++, i += kx_step, k += channels) {
      const __m512 kv = _mm512_maskz_loadu_ps (m, k);
      a0 = _mm512_fmadd_ps (_mm512_maskz_loadu_ps (m, i), kv, a0);
      if (n == 4) {
        a1 = _mm512_fmadd_ps (_mm512_maskz_loadu_ps (m, i + x_step), kv, a1);
        a2 =
            _mm512_fmadd_ps (_mm512_maskz_loadu_ps (m, i + 2 * x_step), kv, a2);
        a3 =
            _mm512_fmadd_ps (_mm512_maskz_loadu_ps (m, i + 3 * x_step), kv, a3);
      }
    }
  }
  _mm512_mask_storeu_ps (o + ch, m, act_avx512_apply (p, a0));
  if (n == 4) {
    _mm512_mask_storeu_ps (o + out_stride + ch, m, act_avx512_apply (p, a1));
    _mm512_mask_storeu_ps (o + 2 * out_stride + ch, m,
        act_avx512_apply (p, a2));
    _mm512_mask_storeu_ps (o + 3 * out_stride + ch, m,
        act_avx512_apply (p, a3));
  }
}

void
seg_f32_dwconv_rows_ukernel__avx512_4x16 (size_t channels, size_t width,
    size_t kh, size_t kw, const float *const *rows, size_t x_step,
    size_t kx_step, const float *w, float *out, size_t out_stride,
    const seg_f32_act_params *act)
{
  const act_avx512 p = act_avx512_init (act);
  const __mmask16 full = mask_avx512 (16);
  const __mmask16 tail = mask_avx512 (channels & 15);
  size_t x = 0;
  for (; x + 4 <= width; x += 4) {
    float *o = out + x * out_stride;
    size_t ch = 0;
    for (; ch + 16 <= channels; ch += 16)
      pixels (4, channels, kh, kw, rows, x, x_step, kx_step, w, ch, full, &p, o,
          out_stride);
    if (ch < channels)
      pixels (4, channels, kh, kw, rows, x, x_step, kx_step, w, ch, tail, &p, o,
          out_stride);
  }
  for (; x < width; x++) {
    float *o = out + x * out_stride;
    size_t ch = 0;
    for (; ch + 16 <= channels; ch += 16)
      pixels (1, channels, kh, kw, rows, x, x_step, kx_step, w, ch, full, &p, o,
          out_stride);
    if (ch < channels)
      pixels (1, channels, kh, kw, rows, x, x_step, kx_step, w, ch, tail, &p, o,
          out_stride);
  }
}
