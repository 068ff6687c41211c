/* Portable implicit-A GEMM: the reference for the SIMD versions and the
 * GEMM-based convs' in-place path wherever no SIMD version exists. Each
 * output is the bias plus the products in k order, as the scalar GEMM sums
 * it, so in-place and gathered (im2col) rows agree bit for bit. */
#include "kernels.h"

#define MR 4
#define NR 8

void
seg_f32_igemm_ukernel__scalar_4x8 (size_t m, size_t nc, size_t runs,
    size_t run_len, const float *const *a, size_t a_step, const float *w,
    float *c, size_t c_stride, const seg_f32_act_params *act)
{
  size_t panel = (runs * run_len + 1) * NR;
  for (size_t i0 = 0; i0 < m; i0 += MR) {
    size_t rows = m - i0 < MR ? m - i0 : MR;
    const float *wp = w;
    for (size_t n0 = 0; n0 < nc; n0 += NR, wp += panel) {
      float acc[MR][NR];
      for (size_t i = 0; i < rows; i++)
        for (size_t j = 0; j < NR; j++)
          acc[i][j] = wp[j];
      const float *wk = wp + NR;
      for (size_t r = 0; r < runs; r++) {
        const float *ar = a[r] + i0 * a_step;
        for (size_t q = 0; q < run_len; q++, wk += NR)
          for (size_t i = 0; i < rows; i++) {
            float av = ar[i * a_step + q];
            for (size_t j = 0; j < NR; j++)
              acc[i][j] += av * wk[j];
          }
      }
      size_t cols = nc - n0 < NR ? nc - n0 : NR;
      for (size_t i = 0; i < rows; i++)
        for (size_t j = 0; j < cols; j++)
          c[(i0 + i) * c_stride + n0 + j] =
              seg_f32_act (act->act, act->a, act->b, acc[i][j]);
    }
  }
}
