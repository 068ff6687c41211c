/* AVX-512 bilinear interpolation of the output rows that share two source
 * rows, 16 channels per step and a masked tail: the final upsample of a
 * segmentation head has few channels (21 for LR-ASPP) and many pixels, so
 * the tail matters as much as the body. */
#include <immintrin.h>

#include "act-avx512.h"

/* Inlined so that the common run lengths (1 and 2 rows: a 2x upsample)
 * get their row loop unrolled. */
static inline void
ibilinear_rows (size_t width, size_t channels, const float *top,
    const float *bottom, size_t rows, const float *wy,
    const seg_f32_bilinear_tap *taps, float *out, size_t out_stride)
{
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
      __m512 d =
          _mm512_sub_ps (_mm512_fmadd_ps (_mm512_sub_ps (r, l), vx, l), t);
      for (size_t y = 0; y < rows; y++)
        _mm512_storeu_ps (out + y * out_stride + ch,
            _mm512_fmadd_ps (d, _mm512_set1_ps (wy[y]), t));
    }
    if (ch < channels) {
      __m512 l = _mm512_maskz_loadu_ps (tail, tl + ch);
      __m512 r = _mm512_maskz_loadu_ps (tail, tr + ch);
      __m512 t = _mm512_fmadd_ps (_mm512_sub_ps (r, l), vx, l);
      l = _mm512_maskz_loadu_ps (tail, bl + ch);
      r = _mm512_maskz_loadu_ps (tail, br + ch);
      __m512 d =
          _mm512_sub_ps (_mm512_fmadd_ps (_mm512_sub_ps (r, l), vx, l), t);
      for (size_t y = 0; y < rows; y++)
        _mm512_mask_storeu_ps (out + y * out_stride + ch, tail,
            _mm512_fmadd_ps (d, _mm512_set1_ps (wy[y]), t));
    }
    out += channels;
  }
}

void
seg_f32_ibilinear_ukernel__avx512_16 (size_t width, size_t channels,
    const float *top, const float *bottom, size_t rows, const float *wy,
    const seg_f32_bilinear_tap *taps, float *out, size_t out_stride)
{
  if (rows == 1)
    ibilinear_rows (width, channels, top, bottom, 1, wy, taps, out, 0);
  else if (rows == 2)
    ibilinear_rows (width, channels, top, bottom, 2, wy, taps, out, out_stride);
  else
    ibilinear_rows (width, channels, top, bottom, rows, wy, taps, out,
        out_stride);
}
