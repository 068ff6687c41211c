/* AVX2 pre-processing: 8 output pixels per step, an 8-lane gather of
 * 32-bit words per slot and row (4 for YUY2 or NV12), FMAs for the conversion, blend
 * and normalisation, and lane permutes and blends to interleave R, G, B.
 * AVX2 gathers have no cheap masked tail, so the last n % 8 pixels take
 * the scalar kernel's path. */
#include <immintrin.h>

#include "f32-preprocess.h"

static inline __m256
byte_of (__m256i g, __m256i shift)
{
  return _mm256_cvtepi32_ps (_mm256_and_si256 (_mm256_srlv_epi32 (g, shift),
      _mm256_set1_epi32 (0xff)));
}

static inline __m256
clamp (__m256 v)
{
  return _mm256_min_ps (_mm256_max_ps (v, _mm256_setzero_ps ()),
      _mm256_set1_ps (255.0f));
}

static inline void
to_rgb (__m256 c[3])
{
  const __m256 y = _mm256_mul_ps (_mm256_sub_ps (c[0], _mm256_set1_ps (16.0f)),
      _mm256_set1_ps (1.164f));
  const __m256 u = _mm256_sub_ps (c[1], _mm256_set1_ps (128.0f));
  const __m256 v = _mm256_sub_ps (c[2], _mm256_set1_ps (128.0f));
  c[0] = clamp (_mm256_fmadd_ps (_mm256_set1_ps (1.596f), v, y));
  c[1] = clamp (_mm256_fnmadd_ps (_mm256_set1_ps (0.813f), v,
      _mm256_fnmadd_ps (_mm256_set1_ps (0.391f), u, y)));
  c[2] = clamp (_mm256_fmadd_ps (_mm256_set1_ps (2.018f), u, y));
}

/* r0 g0 b0 r1 g1 b1 r2 g2 | b2 r3 g3 b3 r4 g4 b4 r5 | g5 b5 r6 g6 b6 r7 g7 b7 */
static inline void
store_rgb (float *out, __m256 r, __m256 g, __m256 b)
{
  const __m256 r0 =
      _mm256_permutevar8x32_ps (r, _mm256_setr_epi32 (0, 0, 0, 1, 0, 0, 2, 0));
  const __m256 g0 =
      _mm256_permutevar8x32_ps (g, _mm256_setr_epi32 (0, 0, 0, 0, 1, 0, 0, 2));
  const __m256 b0 =
      _mm256_permutevar8x32_ps (b, _mm256_setr_epi32 (0, 0, 0, 0, 0, 1, 0, 0));
  _mm256_storeu_ps (out,
      _mm256_blend_ps (_mm256_blend_ps (r0, g0, 0x92), b0, 0x24));
  const __m256 r1 =
      _mm256_permutevar8x32_ps (r, _mm256_setr_epi32 (0, 3, 0, 0, 4, 0, 0, 5));
  const __m256 g1 =
      _mm256_permutevar8x32_ps (g, _mm256_setr_epi32 (0, 0, 3, 0, 0, 4, 0, 0));
  const __m256 b1 =
      _mm256_permutevar8x32_ps (b, _mm256_setr_epi32 (2, 0, 0, 3, 0, 0, 4, 0));
  _mm256_storeu_ps (out + 8,
      _mm256_blend_ps (_mm256_blend_ps (r1, g1, 0x24), b1, 0x49));
  const __m256 r2 =
      _mm256_permutevar8x32_ps (r, _mm256_setr_epi32 (0, 0, 6, 0, 0, 7, 0, 0));
  const __m256 g2 =
      _mm256_permutevar8x32_ps (g, _mm256_setr_epi32 (5, 0, 0, 6, 0, 0, 7, 0));
  const __m256 b2 =
      _mm256_permutevar8x32_ps (b, _mm256_setr_epi32 (0, 5, 0, 0, 6, 0, 0, 7));
  _mm256_storeu_ps (out + 16,
      _mm256_blend_ps (_mm256_blend_ps (r2, g2, 0x49), b2, 0x92));
}

void
seg_f32_preprocess_ukernel__avx2_8 (size_t n, const uint8_t *const top[3],
    const uint8_t *const bottom[3], float fy,
    const seg_f32_preprocess_params *p, float *out)
{
  const __m256 vfy = _mm256_set1_ps (fy);
  size_t x = 0;
  for (; x + 8 <= n; x += 8) {
    const __m256 fx = _mm256_loadu_ps (p->fx + x);
    __m256i gt[6], gb[6];
    for (int i = 0; i < p->slots; i++) {
      const __m256i w = _mm256_loadu_si256 ((const __m256i *) (p->word[i] + x));
      gt[i] = _mm256_i32gather_epi32 ((const int *) top[p->slot_row[i]], w, 1);
      gb[i] =
          _mm256_i32gather_epi32 ((const int *) bottom[p->slot_row[i]], w, 1);
    }
    __m256 c[4][3];
    for (int t = 0; t < 2; t++)
      for (int k = 0; k < 3; k++) {
        const __m256i s =
            _mm256_loadu_si256 ((const __m256i *) (p->shift[t * 3 + k] + x));
        c[t][k] = byte_of (gt[p->slot[t * 3 + k]], s);
        c[2 + t][k] = byte_of (gb[p->slot[t * 3 + k]], s);
      }
    if (p->yuv)
      for (int t = 0; t < 4; t++)
        to_rgb (c[t]);
    __m256 o[3];
    for (int k = 0; k < 3; k++) {
      const __m256 a =
          _mm256_fmadd_ps (fx, _mm256_sub_ps (c[1][k], c[0][k]), c[0][k]);
      const __m256 b =
          _mm256_fmadd_ps (fx, _mm256_sub_ps (c[3][k], c[2][k]), c[2][k]);
      o[k] = _mm256_fmadd_ps (_mm256_fmadd_ps (vfy, _mm256_sub_ps (b, a), a),
          _mm256_set1_ps (p->scale[k]), _mm256_set1_ps (p->bias[k]));
    }
    store_rgb (out + 3 * x, o[0], o[1], o[2]);
  }
  for (; x < n; x++)
    seg_f32_preprocess_pixel (x, top, bottom, fy, p, out);
}
