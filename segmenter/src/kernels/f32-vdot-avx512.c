/* AVX-512 one-output-channel dot products. Each pixel's channels go 16 to
 * a vector (masked tail); the partial-sum vectors of sixteen pixels are
 * then summed across their lanes together, by a transpose-and-add tree (30
 * shuffles for 16 pixels, where one horizontal sum per pixel would take
 * 8 each), so the bias and the activation (a sigmoid, for MediaPipe's
 * head) run on full vectors. */
#include <immintrin.h>

#include "act-avx512.h"

/* The partial-sum vector of one pixel. */
static inline __m512
pixel (size_t kc, const float *row, const float *w, __mmask16 tail)
{
  __m512 acc = _mm512_setzero_ps ();
  size_t k = 0;
  for (; k + 16 <= kc; k += 16)
    acc = _mm512_fmadd_ps (_mm512_loadu_ps (row + k), _mm512_loadu_ps (w + k),
        acc);
  if (k < kc)
    acc = _mm512_fmadd_ps (_mm512_maskz_loadu_ps (tail, row + k),
        _mm512_maskz_loadu_ps (tail, w + k), acc);
  return acc;
}

/* Lane q of the result is the sum of v[q]'s lanes. */
static inline __m512
sum16 (const __m512 v[16])
{
  __m512 t[8], u[4], x[2];
  for (int i = 0; i < 8; i++)
    t[i] = _mm512_add_ps (_mm512_unpacklo_ps (v[2 * i], v[2 * i + 1]),
        _mm512_unpackhi_ps (v[2 * i], v[2 * i + 1]));
  /* 128-bit chunk j of u[i]: chunk j's sums of v[4i] .. v[4i + 3] */
  for (int i = 0; i < 4; i++) {
    __m512d a = _mm512_castps_pd (t[2 * i]), b = _mm512_castps_pd (t[2 * i + 1]);
    u[i] = _mm512_add_ps (_mm512_castpd_ps (_mm512_unpacklo_pd (a, b)),
        _mm512_castpd_ps (_mm512_unpackhi_pd (a, b)));
  }
  for (int i = 0; i < 2; i++)
    x[i] = _mm512_add_ps (_mm512_shuffle_f32x4 (u[2 * i], u[2 * i + 1], 0x88),
        _mm512_shuffle_f32x4 (u[2 * i], u[2 * i + 1], 0xdd));
  return _mm512_add_ps (_mm512_shuffle_f32x4 (x[0], x[1], 0x88),
      _mm512_shuffle_f32x4 (x[0], x[1], 0xdd));
}

void
seg_f32_vdot_ukernel__avx512_16 (size_t n, size_t kc, const float *in,
    size_t in_stride, const float *w, float bias, float *out,
    size_t out_stride, const seg_f32_act_params *act)
{
  const act_avx512 p = act_avx512_init (act);
  const __mmask16 tail = mask_avx512 (kc & 15);
  const __m512 vbias = _mm512_set1_ps (bias);
  __m512 v[16];
  for (size_t i = 0; i < n; i += 16) {
    size_t m = n - i < 16 ? n - i : 16;
    for (size_t q = 0; q < 16; q++)
      v[q] = q < m ? pixel (kc, in + (i + q) * in_stride, w, tail)
          : _mm512_setzero_ps ();
    __m512 s = act_avx512_apply (&p, _mm512_add_ps (vbias, sum16 (v)));
    if (out_stride == 1) {
      _mm512_mask_storeu_ps (out + i, mask_avx512 (m), s);
      continue;
    }
    /* A scatter: storing the vector and copying floats out of it would
     * stall every load on store forwarding. */
    _mm512_mask_i32scatter_ps (out + i * out_stride, mask_avx512 (m),
        _mm512_mullo_epi32 (_mm512_set_epi32 (15, 14, 13, 12, 11, 10, 9, 8,
                7, 6, 5, 4, 3, 2, 1, 0), _mm512_set1_epi32 ((int) out_stride)),
        s, 4);
  }
}
