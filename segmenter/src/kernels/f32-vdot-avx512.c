/* AVX-512 one-output-channel dot products. Each pixel's channels go 16 to
 * a vector (masked tail); the partial-sum vectors of sixteen pixels are
 * then summed across their lanes together, by a transpose-and-add tree (30
 * shuffles for 16 pixels, where one horizontal sum per pixel would take
 * 8 each), so the bias and the activation (a sigmoid, for MediaPipe's
 * head) run on full vectors. For 2x2 blocks (that head) the four taps
 * share the lanes instead, a 128-bit chunk each, and every group of four
 * channels is broadcast to all chunks: 6 shuffles sum the chunks of four
 * pixels, where one tap at a time would take 30 per sixteen outputs and
 * a scatter to interleave the taps. */
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
    __m512d a = _mm512_castps_pd (t[2 * i]),
            b = _mm512_castps_pd (t[2 * i + 1]);
    u[i] = _mm512_add_ps (_mm512_castpd_ps (_mm512_unpacklo_pd (a, b)),
        _mm512_castpd_ps (_mm512_unpackhi_pd (a, b)));
  }
  for (int i = 0; i < 2; i++)
    x[i] = _mm512_add_ps (_mm512_shuffle_f32x4 (u[2 * i], u[2 * i + 1], 0x88),
        _mm512_shuffle_f32x4 (u[2 * i], u[2 * i + 1], 0xdd));
  return _mm512_add_ps (_mm512_shuffle_f32x4 (x[0], x[1], 0x88),
      _mm512_shuffle_f32x4 (x[0], x[1], 0xdd));
}

/* One tap: out[i * out_stride] for i < n. */
static void
one_tap (size_t n, size_t kc, const float *in, size_t in_stride, const float *w,
    __m512 vbias, float *out, size_t out_stride, const act_avx512 *p)
{
  const __mmask16 tail = mask_avx512 (kc & 15);
  __m512 v[16];
  for (size_t i = 0; i < n; i += 16) {
    size_t m = n - i < 16 ? n - i : 16;
    for (size_t q = 0; q < 16; q++)
      v[q] = q < m ? pixel (kc, in + (i + q) * in_stride, w, tail)
                   : _mm512_setzero_ps ();
    __m512 s = act_avx512_apply (p, _mm512_add_ps (vbias, sum16 (v)));
    if (out_stride == 1) {
      _mm512_mask_storeu_ps (out + i, mask_avx512 (m), s);
      continue;
    }
    /* A scatter: storing the vector and copying floats out of it would
     * stall every load on store forwarding. */
    _mm512_mask_i32scatter_ps (out + i * out_stride, mask_avx512 (m),
        _mm512_mullo_epi32 (_mm512_set_epi32 (15, 14, 13, 12, 11, 10, 9, 8, 7,
                                6, 5, 4, 3, 2, 1, 0),
            _mm512_set1_epi32 ((int) out_stride)),
        s, 4);
  }
}

/* Lane p of 128-bit chunk c of the result: the sum of chunk c of a[p],
 * for four vectors a[0..3]. */
static inline __m512
sum4_in_chunks (__m512 a0, __m512 a1, __m512 a2, __m512 a3)
{
  __m512 u =
      _mm512_add_ps (_mm512_unpacklo_ps (a0, a1), _mm512_unpackhi_ps (a0, a1));
  __m512 v =
      _mm512_add_ps (_mm512_unpacklo_ps (a2, a3), _mm512_unpackhi_ps (a2, a3));
  __m512d ud = _mm512_castps_pd (u), vd = _mm512_castps_pd (v);
  return _mm512_add_ps (_mm512_castpd_ps (_mm512_unpacklo_pd (ud, vd)),
      _mm512_castpd_ps (_mm512_unpackhi_pd (ud, vd)));
}

/* The partial sums of one pixel for a 2x2 block, chunk t holding tap t:
 * each group of four channels is broadcast to all four chunks and
 * multiplied by the four taps' weights for those channels at once, which
 * costs loads rather than shuffles. */
static inline __m512
block_pixel (size_t groups, const float *x, const __m512 *wg)
{
  __m512 acc = _mm512_mul_ps (_mm512_broadcast_f32x4 (_mm_loadu_ps (x)), wg[0]);
  for (size_t g = 1; g < groups; g++)
    acc = _mm512_fmadd_ps (_mm512_broadcast_f32x4 (_mm_loadu_ps (x + 4 * g)),
        wg[g], acc);
  return acc;
}

#define BLOCK_MAX_GROUPS 16

/* 2x2 blocks of pixels [0, n - n % 8) with contiguous block rows and
 * kc = 4 * groups channels, groups <= BLOCK_MAX_GROUPS; returns how many
 * pixels it did. Inlined so that a constant group count unrolls. */
static inline size_t
block_2x2 (size_t n, size_t groups, const float *in, size_t in_stride,
    const float *w, __m512 vbias, float *out, size_t row_stride,
    const act_avx512 *p)
{
  size_t kc = 4 * groups;
  __m512 wg[BLOCK_MAX_GROUPS];
  for (size_t g = 0; g < groups; g++) {
    __m512 v = _mm512_castps128_ps512 (_mm_loadu_ps (w + 4 * g));
    v = _mm512_insertf32x4 (v, _mm_loadu_ps (w + kc + 4 * g), 1);
    v = _mm512_insertf32x4 (v, _mm_loadu_ps (w + 2 * kc + 4 * g), 2);
    wg[g] = _mm512_insertf32x4 (v, _mm_loadu_ps (w + 3 * kc + 4 * g), 3);
  }
  /* Lane 4t + q of s0 is tap t of pixel q, of s1 of pixel 4 + q; block
   * row ty wants pixel by pixel taps 2ty and 2ty + 1. */
  const __m512i row0 = _mm512_setr_epi32 (0, 4, 1, 5, 2, 6, 3, 7, 16, 20, 17,
      21, 18, 22, 19, 23);
  const __m512i row1 = _mm512_add_epi32 (row0, _mm512_set1_epi32 (8));
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const float *x = in + i * in_stride;
    __m512 a[8];
    for (int q = 0; q < 8; q++)
      a[q] = block_pixel (groups, x + (size_t) q * in_stride, wg);
    __m512 s0 = act_avx512_apply (p,
        _mm512_add_ps (vbias, sum4_in_chunks (a[0], a[1], a[2], a[3])));
    __m512 s1 = act_avx512_apply (p,
        _mm512_add_ps (vbias, sum4_in_chunks (a[4], a[5], a[6], a[7])));
    _mm512_storeu_ps (out + 2 * i, _mm512_permutex2var_ps (s0, row0, s1));
    _mm512_storeu_ps (out + row_stride + 2 * i,
        _mm512_permutex2var_ps (s0, row1, s1));
  }
  return i;
}

void
seg_f32_vdot_ukernel__avx512_16 (size_t n, size_t kc, const float *in,
    size_t in_stride, size_t th, size_t tw, const float *w, float bias,
    float *out, size_t row_stride, size_t px_stride,
    const seg_f32_act_params *act)
{
  const act_avx512 p = act_avx512_init (act);
  const __m512 vbias = _mm512_set1_ps (bias);
  size_t done = 0;
  /* MediaPipe's head has 16 channels. */
  if (th == 2 && tw == 2 && px_stride == 2 && kc == 16)
    done = block_2x2 (n, 4, in, in_stride, w, vbias, out, row_stride, &p);
  else if (th == 2 && tw == 2 && px_stride == 2 && kc % 4 == 0
      && kc <= 4 * BLOCK_MAX_GROUPS)
    done = block_2x2 (n, kc / 4, in, in_stride, w, vbias, out, row_stride, &p);
  if (done == n)
    return;
  for (size_t ty = 0; ty < th; ty++)
    for (size_t tx = 0; tx < tw; tx++)
      one_tap (n - done, kc, in + done * in_stride, in_stride,
          w + (ty * tw + tx) * kc, vbias,
          out + ty * row_stride + done * px_stride + tx, px_stride, &p);
}
