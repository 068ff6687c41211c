/* AVX-512 pre-processing: 16 output pixels per step. Each slot of each of
 * the two rows is one 16-lane gather of 32-bit words (4 per step for YUY2
 * or NV12), and each tap's component is shifted and masked out of one; the YUV conversion, the
 * bilinear blend and the normalisation are FMAs; two permutes per vector
 * interleave R, G, B into NHWC. The tail is the same code under a mask, so
 * no lane reads outside the tables or the rows. */
#include <immintrin.h>

#include "f32-preprocess.h"

/* Where the interleaved stream's element s = 16 j + e comes from: pixel
 * s / 3 of R (index p), G (16 + p) or, for B, a second permute. */
typedef struct
{
  int32_t rg[3][16], b[3][16];
  uint16_t bmask[3];
} interleave_idx;

static interleave_idx
make_idx (void)
{
  interleave_idx t = {0};
  for (int j = 0; j < 3; j++)
    for (int e = 0; e < 16; e++) {
      int s = 16 * j + e, px = s / 3, ch = s % 3;
      t.rg[j][e] = ch == 1 ? 16 + px : px;
      t.b[j][e] = px;
      if (ch == 2)
        t.bmask[j] |= (uint16_t) (1u << e);
    }
  return t;
}

static inline __m512
byte_of (__m512i g, __m512i shift)
{
  return _mm512_cvtepi32_ps (_mm512_and_si512 (_mm512_srlv_epi32 (g, shift),
      _mm512_set1_epi32 (0xff)));
}

static inline __m512
clamp (__m512 v)
{
  return _mm512_min_ps (_mm512_max_ps (v, _mm512_setzero_ps ()),
      _mm512_set1_ps (255.0f));
}

static inline void
to_rgb (__m512 c[3])
{
  const __m512 y = _mm512_mul_ps (_mm512_sub_ps (c[0], _mm512_set1_ps (16.0f)),
      _mm512_set1_ps (1.164f));
  const __m512 u = _mm512_sub_ps (c[1], _mm512_set1_ps (128.0f));
  const __m512 v = _mm512_sub_ps (c[2], _mm512_set1_ps (128.0f));
  c[0] = clamp (_mm512_fmadd_ps (_mm512_set1_ps (1.596f), v, y));
  c[1] = clamp (_mm512_fnmadd_ps (_mm512_set1_ps (0.813f), v,
      _mm512_fnmadd_ps (_mm512_set1_ps (0.391f), u, y)));
  c[2] = clamp (_mm512_fmadd_ps (_mm512_set1_ps (2.018f), u, y));
}

static inline __mmask16
first (size_t n)
{
  return n >= 16 ? (__mmask16) 0xffff : (__mmask16) ((1u << n) - 1);
}

void
seg_f32_preprocess_ukernel__avx512_16 (size_t n, const uint8_t *const top[3],
    const uint8_t *const bottom[3], float fy,
    const seg_f32_preprocess_params *p, float *out)
{
  const interleave_idx idx = make_idx ();
  const __m512 vfy = _mm512_set1_ps (fy);
  __m512i rg[3], bi[3];
  for (int j = 0; j < 3; j++) {
    rg[j] = _mm512_loadu_si512 (idx.rg[j]);
    bi[j] = _mm512_loadu_si512 (idx.b[j]);
  }

  for (size_t x = 0; x < n; x += 16, out += 48) {
    const size_t left = n - x;
    const __mmask16 m = first (left);
    const __m512 fx = _mm512_maskz_loadu_ps (m, p->fx + x);
    __m512i gt[6], gb[6];
    for (int i = 0; i < p->slots; i++) {
      const __m512i w = _mm512_maskz_loadu_epi32 (m, p->word[i] + x);
      gt[i] = _mm512_mask_i32gather_epi32 (_mm512_setzero_si512 (), m, w,
          top[p->slot_row[i]], 1);
      gb[i] = _mm512_mask_i32gather_epi32 (_mm512_setzero_si512 (), m, w,
          bottom[p->slot_row[i]], 1);
    }
    __m512 c[4][3]; /* top-left, top-right, bottom-left, bottom-right */
    for (int t = 0; t < 2; t++)
      for (int k = 0; k < 3; k++) {
        const __m512i s = _mm512_maskz_loadu_epi32 (m, p->shift[t * 3 + k] + x);
        c[t][k] = byte_of (gt[p->slot[t * 3 + k]], s);
        c[2 + t][k] = byte_of (gb[p->slot[t * 3 + k]], s);
      }
    if (p->yuv)
      for (int t = 0; t < 4; t++)
        to_rgb (c[t]);
    __m512 o[3];
    for (int k = 0; k < 3; k++) {
      const __m512 a =
          _mm512_fmadd_ps (fx, _mm512_sub_ps (c[1][k], c[0][k]), c[0][k]);
      const __m512 b =
          _mm512_fmadd_ps (fx, _mm512_sub_ps (c[3][k], c[2][k]), c[2][k]);
      o[k] = _mm512_fmadd_ps (_mm512_fmadd_ps (vfy, _mm512_sub_ps (b, a), a),
          _mm512_set1_ps (p->scale[k]), _mm512_set1_ps (p->bias[k]));
    }
    const size_t floats = left >= 16 ? 48 : 3 * left;
    for (int j = 0; j < 3; j++) {
      __m512 v = _mm512_permutex2var_ps (o[0], rg[j], o[1]);
      v = _mm512_mask_permutexvar_ps (v, idx.bmask[j], bi[j], o[2]);
      size_t here = floats > (size_t) j * 16 ? floats - (size_t) j * 16 : 0;
      _mm512_mask_storeu_ps (out + 16 * j, first (here), v);
    }
  }
}
