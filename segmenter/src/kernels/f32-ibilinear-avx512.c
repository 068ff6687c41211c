/* AVX-512 bilinear interpolation of one output row, 16 channels per step
 * and a masked tail: the final upsample of a segmentation head has few
 * channels (21 for LR-ASPP) and many pixels, so the tail matters as much as
 * the body. */
#include <immintrin.h>

#include "act-avx512.h"

void
seg_f32_ibilinear_ukernel__avx512 (size_t width, size_t channels,
    const float *top, const float *bottom, float wy,
    const seg_f32_bilinear_tap *taps, float *out)
{
  const __m512 vy = _mm512_set1_ps (wy);
  const __mmask16 tail = mask_avx512 (channels & 15);
  for (size_t x = 0; x < width; x++) {
    const float *tl = top + taps[x].left, *tr = top + taps[x].right;
    const float *bl = bottom + taps[x].left, *br = bottom + taps[x].right;
    const __m512 vx = _mm512_set1_ps (taps[x].weight);
    size_t ch = 0;
    for (; ch + 16 <= channels; ch += 16) {
      __m512 l = _mm512_loadu_ps (tl + ch), r = _mm512_loadu_ps (tr + ch);
      __m512 t = _mm512_fmadd_ps (_mm512_sub_ps (r, l), vx, l);
      l = _mm512_loadu_ps (bl + ch), r = _mm512_loadu_ps (br + ch);
      __m512 b = _mm512_fmadd_ps (_mm512_sub_ps (r, l), vx, l);
      _mm512_storeu_ps (out + ch,
          _mm512_fmadd_ps (_mm512_sub_ps (b, t), vy, t));
    }
    if (ch < channels) {
      __m512 l = _mm512_maskz_loadu_ps (tail, tl + ch);
      __m512 r = _mm512_maskz_loadu_ps (tail, tr + ch);
      __m512 t = _mm512_fmadd_ps (_mm512_sub_ps (r, l), vx, l);
      l = _mm512_maskz_loadu_ps (tail, bl + ch);
      r = _mm512_maskz_loadu_ps (tail, br + ch);
      __m512 b = _mm512_fmadd_ps (_mm512_sub_ps (r, l), vx, l);
      _mm512_mask_storeu_ps (out + ch, tail,
          _mm512_fmadd_ps (_mm512_sub_ps (b, t), vy, t));
    }
    out += channels;
  }
}
