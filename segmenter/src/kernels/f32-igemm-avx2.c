/* AVX2+FMA implicit-A GEMM: the 6x16 GEMM's tile and summation order
 * (bias, then one FMA per k), with each row's A read in place from its
 * runs instead of from a gathered copy, so the bits are those of im2col
 * followed by the GEMM. Row pointers are set up once per run. */
#include <immintrin.h>
#include <stdint.h>

#include "act-avx2.h"

#define MR 6
#define NR 16

/* Rows [0, mr), mr <= MR, from a[r] + i * step, of one panel with nc <= NR
 * live columns. Rows past mr alias the last real one and are not stored. */
static void
tile (size_t mr, size_t nc, size_t runs, size_t run_len, const float *const *a,
    size_t off, size_t step, const float *w, float *c, size_t c_stride,
    const act_avx2 *p)
{
  __m256 v00 = _mm256_loadu_ps (w), v01 = _mm256_loadu_ps (w + 8);
  __m256 v10 = v00, v11 = v01, v20 = v00, v21 = v01;
  __m256 v30 = v00, v31 = v01, v40 = v00, v41 = v01;
  __m256 v50 = v00, v51 = v01;
  const float *wk = w + NR;
  for (size_t r = 0; r < runs; r++) {
    const float *a0 = a[r] + off;
    const float *a1 = a0 + (mr > 1 ? step : 0);
    const float *a2 = a1 + (mr > 2 ? step : 0);
    const float *a3 = a2 + (mr > 3 ? step : 0);
    const float *a4 = a3 + (mr > 4 ? step : 0);
    const float *a5 = a4 + (mr > 5 ? step : 0);
    for (size_t q = 0; q < run_len; q++, wk += NR) {
      const __m256 b0 = _mm256_loadu_ps (wk), b1 = _mm256_loadu_ps (wk + 8);
      __m256 x = _mm256_broadcast_ss (a0 + q);
      v00 = _mm256_fmadd_ps (x, b0, v00);
      v01 = _mm256_fmadd_ps (x, b1, v01);
      x = _mm256_broadcast_ss (a1 + q);
      v10 = _mm256_fmadd_ps (x, b0, v10);
      v11 = _mm256_fmadd_ps (x, b1, v11);
      x = _mm256_broadcast_ss (a2 + q);
      v20 = _mm256_fmadd_ps (x, b0, v20);
      v21 = _mm256_fmadd_ps (x, b1, v21);
      x = _mm256_broadcast_ss (a3 + q);
      v30 = _mm256_fmadd_ps (x, b0, v30);
      v31 = _mm256_fmadd_ps (x, b1, v31);
      x = _mm256_broadcast_ss (a4 + q);
      v40 = _mm256_fmadd_ps (x, b0, v40);
      v41 = _mm256_fmadd_ps (x, b1, v41);
      x = _mm256_broadcast_ss (a5 + q);
      v50 = _mm256_fmadd_ps (x, b0, v50);
      v51 = _mm256_fmadd_ps (x, b1, v51);
    }
  }
  __m256 lo[MR] = {v00, v10, v20, v30, v40, v50};
  __m256 hi[MR] = {v01, v11, v21, v31, v41, v51};
  const __m256i m0 = mask_avx2 (nc < 8 ? nc : 8);
  const __m256i m1 = mask_avx2 (nc > 8 ? nc - 8 : 0);
  for (size_t i = 0; i < mr; i++) {
    _mm256_maskstore_ps (c + i * c_stride, m0, act_avx2_apply (p, lo[i]));
    if (nc > 8)
      _mm256_maskstore_ps (c + i * c_stride + 8, m1, act_avx2_apply (p, hi[i]));
  }
}

void
seg_f32_igemm_ukernel__avx2_6x16 (size_t m, size_t nc, size_t runs,
    size_t run_len, const float *const *a, size_t a_step, const float *w,
    float *c, size_t c_stride, const seg_f32_act_params *act)
{
  const act_avx2 p = act_avx2_init (act);
  const size_t panel = (runs * run_len + 1) * NR;
  for (size_t col = 0; col < nc; col += NR, w += panel, c += NR) {
    size_t live = nc - col < NR ? nc - col : NR;
    for (size_t i = 0; i < m; i += MR)
      tile (m - i < MR ? m - i : MR, live, runs, run_len, a, i * a_step, a_step,
          w, c + i * c_stride, c_stride, &p);
  }
}
