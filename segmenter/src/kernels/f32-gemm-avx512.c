/* AVX-512 GEMM microkernel: 12 rows by 32-column panels. Twenty-four zmm
 * accumulators, two weight vectors and a broadcast leave room in the 32
 * registers; twelve rows per weight load halve the weight traffic from L2
 * compared with the AVX2 6x16 tile, which matters because the 1x1 convs'
 * weight panels (up to 960 x 32 floats) do not fit in L1. Column tails use
 * AVX-512 store masks, and a last panel of at most 16 live columns takes a
 * half-width path. */
#include <immintrin.h>

#include "act-avx512.h"

#define MR 12

/* Sets up the MR row pointers; rows past mr alias the last real one, so
 * they are computed and stored twice with the same values. */
static inline void
rows_setup (size_t mr, const float *a, size_t a_stride, float *c,
    size_t c_stride, const float **ar, float **cr)
{
  for (size_t i = 0; i < MR; i++) {
    size_t r = i < mr ? i : mr - 1;
    ar[i] = a + r * a_stride;
    cr[i] = c + r * c_stride;
  }
}

#define FMA_ROW(i)                               \
  do {                                           \
    const __m512 x_ = _mm512_set1_ps (a##i[k]);  \
    v##i##0 = _mm512_fmadd_ps (x_, b0, v##i##0); \
    v##i##1 = _mm512_fmadd_ps (x_, b1, v##i##1); \
  } while (0)

#define FMA_ROW_HALF(i) \
  v##i = _mm512_fmadd_ps (_mm512_set1_ps (a##i[k]), b, v##i)

/* 1 to 16 live columns: one vector per row. */
static void
half_panel (size_t nc, size_t kc, const float *const *ar, const float *w,
    float *const *cr, const act_avx512 *p)
{
  const float *a0 = ar[0], *a1 = ar[1], *a2 = ar[2], *a3 = ar[3];
  const float *a4 = ar[4], *a5 = ar[5], *a6 = ar[6], *a7 = ar[7];
  const float *a8 = ar[8], *a9 = ar[9], *a10 = ar[10], *a11 = ar[11];
  __m512 v0 = _mm512_loadu_ps (w);
  __m512 v1 = v0, v2 = v0, v3 = v0, v4 = v0, v5 = v0, v6 = v0, v7 = v0;
  __m512 v8 = v0, v9 = v0, v10 = v0, v11 = v0;
  w += 32;
  for (size_t k = 0; k < kc; k++, w += 32) {
    const __m512 b = _mm512_loadu_ps (w);
    FMA_ROW_HALF (0);
    FMA_ROW_HALF (1);
    FMA_ROW_HALF (2);
    FMA_ROW_HALF (3);
    FMA_ROW_HALF (4);
    FMA_ROW_HALF (5);
    FMA_ROW_HALF (6);
    FMA_ROW_HALF (7);
    FMA_ROW_HALF (8);
    FMA_ROW_HALF (9);
    FMA_ROW_HALF (10);
    FMA_ROW_HALF (11);
  }
  __m512 v[MR] = {v0, v1, v2, v3, v4, v5, v6, v7, v8, v9, v10, v11};
  if (p->act == SEG_ACT_SIGMOID && nc < 16) {
    /* A sigmoid on a few live columns (a one-channel probability head)
     * is evaluated on the live values packed together, not on 16 lanes
     * per row. */
    float rows[MR][16], live[MR * 16];
    for (size_t i = 0; i < MR; i++)
      _mm512_storeu_ps (rows[i], v[i]);
    for (size_t i = 0; i < MR; i++)
      for (size_t j = 0; j < nc; j++)
        live[i * nc + j] = rows[i][j];
    for (size_t q = 0; q < MR * nc; q += 16) {
      const __mmask16 lm = mask_avx512 (MR * nc - q < 16 ? MR * nc - q : 16);
      _mm512_mask_storeu_ps (live + q, lm,
          act_avx512_apply (p, _mm512_maskz_loadu_ps (lm, live + q)));
    }
    for (size_t i = MR; i-- > 0;)
      for (size_t j = 0; j < nc; j++)
        cr[i][j] = live[i * nc + j];
    return;
  }
  const __mmask16 m = mask_avx512 (nc);
  /* Highest row first: an aliased row then ends with its own values. */
  for (size_t i = MR; i-- > 0;)
    _mm512_mask_storeu_ps (cr[i], m, act_avx512_apply (p, v[i]));
}

/* Weight distance the few-row path prefetches ahead, in floats. Its
 * callers are mostly squeeze-and-excite convs on one pixel, whose panels
 * (up to 960 x 240 floats) come from memory once per frame and are never
 * reused: with four FMAs per weight line the hardware prefetcher alone
 * leaves the core waiting on each line. */
#define FEW_PREFETCH 2048

/* 1 to 4 rows (rows past mr alias the last one): a 12-row tile would
 * compute every row of a one-pixel conv twelve times. Each output keeps one
 * accumulator summed over k in order, as the 12-row path does, so a row
 * gets the same bits whichever path computes it. */
static void
few_rows (size_t nc, size_t kc, const float *const *ar, const float *w,
    float *const *cr, const act_avx512 *p)
{
  const float *a0 = ar[0], *a1 = ar[1], *a2 = ar[2], *a3 = ar[3];
  for (size_t col = 0; col < nc; col += 32) {
    const size_t live = nc - col < 32 ? nc - col : 32;
    __m512 v00 = _mm512_loadu_ps (w), v01 = _mm512_loadu_ps (w + 16);
    __m512 v10 = v00, v11 = v01, v20 = v00, v21 = v01, v30 = v00, v31 = v01;
    w += 32;
    for (size_t k = 0; k < kc; k++) {
      _mm_prefetch ((const char *) (w + FEW_PREFETCH), _MM_HINT_T0);
      _mm_prefetch ((const char *) (w + FEW_PREFETCH + 16), _MM_HINT_T0);
      const __m512 b0 = _mm512_loadu_ps (w), b1 = _mm512_loadu_ps (w + 16);
      w += 32;
      FMA_ROW (0);
      FMA_ROW (1);
      FMA_ROW (2);
      FMA_ROW (3);
    }
    __m512 lo[4] = {v00, v10, v20, v30}, hi[4] = {v01, v11, v21, v31};
    const __mmask16 ml = mask_avx512 (live < 16 ? live : 16);
    const __mmask16 mh = mask_avx512 (live > 16 ? live - 16 : 0);
    for (size_t i = 4; i-- > 0;) {
      _mm512_mask_storeu_ps (cr[i] + col, ml, act_avx512_apply (p, lo[i]));
      if (live > 16)
        _mm512_mask_storeu_ps (cr[i] + col + 16, mh,
            act_avx512_apply (p, hi[i]));
    }
  }
}

void
seg_f32_gemm_ukernel__avx512_12x32 (size_t mr, size_t nc, size_t kc,
    const float *a, size_t a_stride, const float *w, float *c, size_t c_stride,
    const seg_f32_act_params *act)
{
  const float *ar[MR];
  float *cr[MR];
  rows_setup (mr, a, a_stride, c, c_stride, ar, cr);
  const act_avx512 p = act_avx512_init (act);
  if (mr <= 4 && !(act->act == SEG_ACT_SIGMOID && nc < 16)) {
    few_rows (nc, kc, ar, w, cr, &p);
    return;
  }
  const float *a0 = ar[0], *a1 = ar[1], *a2 = ar[2], *a3 = ar[3];
  const float *a4 = ar[4], *a5 = ar[5], *a6 = ar[6], *a7 = ar[7];
  const float *a8 = ar[8], *a9 = ar[9], *a10 = ar[10], *a11 = ar[11];
  size_t col = 0;

  while (col < nc) {
    if (nc - col <= 16) {
      float *cc[MR];
      for (size_t i = 0; i < MR; i++)
        cc[i] = cr[i] + col;
      half_panel (nc - col, kc, ar, w, cc, &p);
      return;
    }
    __m512 v00 = _mm512_loadu_ps (w), v01 = _mm512_loadu_ps (w + 16);
    __m512 v10 = v00, v11 = v01, v20 = v00, v21 = v01, v30 = v00, v31 = v01;
    __m512 v40 = v00, v41 = v01, v50 = v00, v51 = v01, v60 = v00, v61 = v01;
    __m512 v70 = v00, v71 = v01, v80 = v00, v81 = v01, v90 = v00, v91 = v01;
    __m512 v100 = v00, v101 = v01, v110 = v00, v111 = v01;
    w += 32;
    for (size_t k = 0; k < kc; k++) {
      const __m512 b0 = _mm512_loadu_ps (w), b1 = _mm512_loadu_ps (w + 16);
      w += 32;
      FMA_ROW (0);
      FMA_ROW (1);
      FMA_ROW (2);
      FMA_ROW (3);
      FMA_ROW (4);
      FMA_ROW (5);
      FMA_ROW (6);
      FMA_ROW (7);
      FMA_ROW (8);
      FMA_ROW (9);
      FMA_ROW (10);
      FMA_ROW (11);
    }
    __m512 lo[MR] = {v00, v10, v20, v30, v40, v50, v60, v70, v80, v90, v100,
        v110};
    __m512 hi[MR] = {v01, v11, v21, v31, v41, v51, v61, v71, v81, v91, v101,
        v111};
    const __mmask16 m = mask_avx512 (nc - col >= 32 ? 16 : nc - col - 16);
    for (size_t i = MR; i-- > 0;) {
      _mm512_storeu_ps (cr[i] + col, act_avx512_apply (&p, lo[i]));
      _mm512_mask_storeu_ps (cr[i] + col + 16, m, act_avx512_apply (&p, hi[i]));
    }
    col += 32;
  }
}
