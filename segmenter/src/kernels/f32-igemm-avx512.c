/* AVX-512 implicit-A GEMM for the convs that would otherwise gather their
 * receptive fields (im2col): the 3-channel stem reads its 3x3 windows in
 * place. Each output is summed as the 12x32 GEMM sums it (bias, then one
 * FMA per k in order), so in-place and gathered rows give the same bits.
 * A panel with at most 16 live columns (the stem's 16 channels: one zmm a
 * pixel) goes 16 pixels at a time; where the step between pixels is a
 * constant (3 channels at stride 1 or 2) every pixel's broadcast is an
 * immediate offset from one pointer, so the loop needs no row pointers. A
 * last partial tile overlaps the one before it and stores those pixels
 * again with the same values. Other steps and wider panels take 12 rows
 * through row pointers as the GEMM does. */
#include <immintrin.h>

#include "act-avx512.h"

#define MR 12
#define NR 32

#define HALF_FMA(i) \
  v##i = _mm512_fmadd_ps (_mm512_set1_ps (ar[(i) *step]), b, v##i)

#define HALF_STORE(i) \
  _mm512_mask_storeu_ps (c + (i) *c_stride, m, act_avx512_apply (p, v##i))

/* Rows [0, 16) of a panel with nc <= 16 live columns; a[r] + off is row
 * 0's run r. */
static inline __attribute__ ((always_inline)) void
half16 (size_t nc, size_t runs, size_t run_len, const float *const *a,
    size_t off, size_t step, const float *w, float *c, size_t c_stride,
    const act_avx512 *p)
{
  __m512 v0 = _mm512_loadu_ps (w);
  __m512 v1 = v0, v2 = v0, v3 = v0, v4 = v0, v5 = v0, v6 = v0, v7 = v0;
  __m512 v8 = v0, v9 = v0, v10 = v0, v11 = v0, v12 = v0, v13 = v0;
  __m512 v14 = v0, v15 = v0;
  const float *wk = w + NR;
  for (size_t r = 0; r < runs; r++) {
    const float *ar = a[r] + off;
    for (size_t q = 0; q < run_len; q++, ar++, wk += NR) {
      const __m512 b = _mm512_loadu_ps (wk);
      HALF_FMA (0);
      HALF_FMA (1);
      HALF_FMA (2);
      HALF_FMA (3);
      HALF_FMA (4);
      HALF_FMA (5);
      HALF_FMA (6);
      HALF_FMA (7);
      HALF_FMA (8);
      HALF_FMA (9);
      HALF_FMA (10);
      HALF_FMA (11);
      HALF_FMA (12);
      HALF_FMA (13);
      HALF_FMA (14);
      HALF_FMA (15);
    }
  }
  const __mmask16 m = mask_avx512 (nc);
  HALF_STORE (0);
  HALF_STORE (1);
  HALF_STORE (2);
  HALF_STORE (3);
  HALF_STORE (4);
  HALF_STORE (5);
  HALF_STORE (6);
  HALF_STORE (7);
  HALF_STORE (8);
  HALF_STORE (9);
  HALF_STORE (10);
  HALF_STORE (11);
  HALF_STORE (12);
  HALF_STORE (13);
  HALF_STORE (14);
  HALF_STORE (15);
}

static void
half16_step3 (size_t nc, size_t runs, size_t run_len, const float *const *a,
    size_t off, const float *w, float *c, size_t c_stride, const act_avx512 *p)
{
  half16 (nc, runs, run_len, a, off, 3, w, c, c_stride, p);
}

static void
half16_step6 (size_t nc, size_t runs, size_t run_len, const float *const *a,
    size_t off, const float *w, float *c, size_t c_stride, const act_avx512 *p)
{
  half16 (nc, runs, run_len, a, off, 6, w, c, c_stride, p);
}

#define ROW_FMA_HALF(i) \
  v##i = _mm512_fmadd_ps (_mm512_set1_ps (a##i[q]), b, v##i)

#define ROW_FMA(i)                               \
  do {                                           \
    const __m512 x_ = _mm512_set1_ps (a##i[q]);  \
    v##i##0 = _mm512_fmadd_ps (x_, b0, v##i##0); \
    v##i##1 = _mm512_fmadd_ps (x_, b1, v##i##1); \
  } while (0)

/* The MR row pointers of run r for rows [i0, i0 + mr); rows past mr alias
 * the last real one. */
#define RUN_ROWS()                                                    \
  const float *a0 = a[r] + i0 * step, *a1 = a0 + (mr > 1 ? step : 0); \
  const float *a2 = a1 + (mr > 2 ? step : 0);                         \
  const float *a3 = a2 + (mr > 3 ? step : 0);                         \
  const float *a4 = a3 + (mr > 4 ? step : 0);                         \
  const float *a5 = a4 + (mr > 5 ? step : 0);                         \
  const float *a6 = a5 + (mr > 6 ? step : 0);                         \
  const float *a7 = a6 + (mr > 7 ? step : 0);                         \
  const float *a8 = a7 + (mr > 8 ? step : 0);                         \
  const float *a9 = a8 + (mr > 9 ? step : 0);                         \
  const float *a10 = a9 + (mr > 10 ? step : 0);                       \
  const float *a11 = a10 + (mr > 11 ? step : 0)

/* Rows [i0, i0 + mr), mr <= MR, of a panel with nc <= 16 live columns. */
static void
half_rows (size_t mr, size_t nc, size_t runs, size_t run_len,
    const float *const *a, size_t i0, size_t step, const float *w, float *c,
    size_t c_stride, const act_avx512 *p)
{
  __m512 v0 = _mm512_loadu_ps (w);
  __m512 v1 = v0, v2 = v0, v3 = v0, v4 = v0, v5 = v0, v6 = v0, v7 = v0;
  __m512 v8 = v0, v9 = v0, v10 = v0, v11 = v0;
  const float *wk = w + NR;
  for (size_t r = 0; r < runs; r++) {
    RUN_ROWS ();
    for (size_t q = 0; q < run_len; q++, wk += NR) {
      const __m512 b = _mm512_loadu_ps (wk);
      ROW_FMA_HALF (0);
      ROW_FMA_HALF (1);
      ROW_FMA_HALF (2);
      ROW_FMA_HALF (3);
      ROW_FMA_HALF (4);
      ROW_FMA_HALF (5);
      ROW_FMA_HALF (6);
      ROW_FMA_HALF (7);
      ROW_FMA_HALF (8);
      ROW_FMA_HALF (9);
      ROW_FMA_HALF (10);
      ROW_FMA_HALF (11);
    }
  }
  __m512 v[MR] = {v0, v1, v2, v3, v4, v5, v6, v7, v8, v9, v10, v11};
  const __mmask16 m = mask_avx512 (nc);
  for (size_t i = 0; i < mr; i++)
    _mm512_mask_storeu_ps (c + (i0 + i) * c_stride, m,
        act_avx512_apply (p, v[i]));
}

/* Rows [i0, i0 + mr), mr <= MR, of a panel with 17 to 32 live columns. */
static void
full_rows (size_t mr, size_t nc, size_t runs, size_t run_len,
    const float *const *a, size_t i0, size_t step, const float *w, float *c,
    size_t c_stride, const act_avx512 *p)
{
  __m512 v00 = _mm512_loadu_ps (w), v01 = _mm512_loadu_ps (w + 16);
  __m512 v10 = v00, v11 = v01, v20 = v00, v21 = v01, v30 = v00, v31 = v01;
  __m512 v40 = v00, v41 = v01, v50 = v00, v51 = v01, v60 = v00, v61 = v01;
  __m512 v70 = v00, v71 = v01, v80 = v00, v81 = v01, v90 = v00, v91 = v01;
  __m512 v100 = v00, v101 = v01, v110 = v00, v111 = v01;
  const float *wk = w + NR;
  for (size_t r = 0; r < runs; r++) {
    RUN_ROWS ();
    for (size_t q = 0; q < run_len; q++, wk += NR) {
      const __m512 b0 = _mm512_loadu_ps (wk), b1 = _mm512_loadu_ps (wk + 16);
      ROW_FMA (0);
      ROW_FMA (1);
      ROW_FMA (2);
      ROW_FMA (3);
      ROW_FMA (4);
      ROW_FMA (5);
      ROW_FMA (6);
      ROW_FMA (7);
      ROW_FMA (8);
      ROW_FMA (9);
      ROW_FMA (10);
      ROW_FMA (11);
    }
  }
  __m512 lo[MR] = {v00, v10, v20, v30, v40, v50, v60, v70, v80, v90, v100,
      v110};
  __m512 hi[MR] = {v01, v11, v21, v31, v41, v51, v61, v71, v81, v91, v101,
      v111};
  const __mmask16 m = mask_avx512 (nc - 16);
  for (size_t i = 0; i < mr; i++) {
    float *ci = c + (i0 + i) * c_stride;
    _mm512_storeu_ps (ci, act_avx512_apply (p, lo[i]));
    _mm512_mask_storeu_ps (ci + 16, m, act_avx512_apply (p, hi[i]));
  }
}

void
seg_f32_igemm_ukernel__avx512_16x16 (size_t m, size_t nc, size_t runs,
    size_t run_len, const float *const *a, size_t a_step, const float *w,
    float *c, size_t c_stride, const seg_f32_act_params *act)
{
  const act_avx512 p = act_avx512_init (act);
  const size_t panel = (runs * run_len + 1) * NR;
  for (size_t col = 0; col < nc; col += NR, w += panel, c += NR) {
    size_t live = nc - col < NR ? nc - col : NR;
    if (live <= 16 && m >= 16 && (a_step == 3 || a_step == 6)) {
      for (size_t i = 0;; i += 16) {
        if (i + 16 > m)
          i = m - 16;
        if (a_step == 3)
          half16_step3 (live, runs, run_len, a, i * 3, w, c + i * c_stride,
              c_stride, &p);
        else
          half16_step6 (live, runs, run_len, a, i * 6, w, c + i * c_stride,
              c_stride, &p);
        if (i + 16 >= m)
          break;
      }
      continue;
    }
    for (size_t i = 0; i < m; i += MR) {
      size_t mr = m - i < MR ? m - i : MR;
      if (live <= 16)
        half_rows (mr, live, runs, run_len, a, i, a_step, w, c, c_stride, &p);
      else
        full_rows (mr, live, runs, run_len, a, i, a_step, w, c, c_stride, &p);
    }
  }
}
