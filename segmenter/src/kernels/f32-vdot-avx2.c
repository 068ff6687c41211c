/* AVX2 one-output-channel dot products, as the AVX-512 version: channels
 * 8 to a vector (masked tail), then the partial-sum vectors of eight
 * pixels summed across their lanes together by horizontal adds, so the
 * bias and activation run on full vectors. A block of taps goes tap by
 * tap (only the AVX-512 kernel has a path for MediaPipe's 2x2 blocks). */
#include <immintrin.h>

#include "act-avx2.h"

static inline __m256
pixel (size_t kc, const float *row, const float *w, __m256i tail)
{
  __m256 acc = _mm256_setzero_ps ();
  size_t k = 0;
  for (; k + 8 <= kc; k += 8)
    acc = _mm256_fmadd_ps (_mm256_loadu_ps (row + k), _mm256_loadu_ps (w + k),
        acc);
  if (k < kc)
    acc = _mm256_fmadd_ps (_mm256_maskload_ps (row + k, tail),
        _mm256_maskload_ps (w + k, tail), acc);
  return acc;
}

/* One tap: out[i * out_stride] for i < n. */
static void
one_tap (size_t n, size_t kc, const float *in, size_t in_stride, const float *w,
    __m256 vbias, float *out, size_t out_stride, const act_avx2 *p)
{
  const __m256i tail = mask_avx2 (kc & 7);
  __m256 v[8];
  float sums[8];
  for (size_t i = 0; i < n; i += 8) {
    size_t m = n - i < 8 ? n - i : 8;
    for (size_t q = 0; q < 8; q++)
      v[q] = q < m ? pixel (kc, in + (i + q) * in_stride, w, tail)
                   : _mm256_setzero_ps ();
    /* per 128-bit half: the half's sums of v[0..3], then of v[4..7] */
    __m256 u0 = _mm256_hadd_ps (_mm256_hadd_ps (v[0], v[1]),
        _mm256_hadd_ps (v[2], v[3]));
    __m256 u1 = _mm256_hadd_ps (_mm256_hadd_ps (v[4], v[5]),
        _mm256_hadd_ps (v[6], v[7]));
    __m256 s = _mm256_add_ps (_mm256_permute2f128_ps (u0, u1, 0x20),
        _mm256_permute2f128_ps (u0, u1, 0x31));
    s = act_avx2_apply (p, _mm256_add_ps (vbias, s));
    if (out_stride == 1) {
      _mm256_maskstore_ps (out + i, mask_avx2 (m), s);
      continue;
    }
    _mm256_storeu_ps (sums, s);
    for (size_t q = 0; q < m; q++)
      out[(i + q) * out_stride] = sums[q];
  }
}

void
seg_f32_vdot_ukernel__avx2_8 (size_t n, size_t kc, const float *in,
    size_t in_stride, size_t th, size_t tw, const float *w, float bias,
    float *out, size_t row_stride, size_t px_stride,
    const seg_f32_act_params *act)
{
  const act_avx2 p = act_avx2_init (act);
  const __m256 vbias = _mm256_set1_ps (bias);
  for (size_t ty = 0; ty < th; ty++)
    for (size_t tx = 0; tx < tw; tx++)
      one_tap (n, kc, in, in_stride, w + (ty * tw + tx) * kc, vbias,
          out + ty * row_stride + tx, px_stride, &p);
}
