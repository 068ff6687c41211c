/* Portable GEMM microkernel: 4 rows by 8-column panels, the reference the
 * SIMD kernels are tested against and the fallback everywhere else. */
#include "kernels.h"

#define MR 4
#define NR 8

void
seg_f32_gemm_ukernel__scalar_4x8 (size_t mr, size_t nc, size_t kc,
    const float *a, size_t a_stride, const float *w, float *c, size_t c_stride,
    const seg_f32_act_params *act)
{
  /* Rows past mr alias the last real one: computed twice, stored twice with
   * the same values, so the loops need no row tail. */
  const float *ar[MR];
  float *cr[MR];
  for (size_t i = 0; i < MR; i++) {
    size_t r = i < mr ? i : mr - 1;
    ar[i] = a + r * a_stride;
    cr[i] = c + r * c_stride;
  }

  for (size_t n0 = 0; n0 < nc; n0 += NR) {
    float acc[MR][NR];
    for (size_t i = 0; i < MR; i++)
      for (size_t j = 0; j < NR; j++)
        acc[i][j] = w[j];
    w += NR;
    for (size_t k = 0; k < kc; k++) {
      for (size_t i = 0; i < MR; i++) {
        float av = ar[i][k];
        for (size_t j = 0; j < NR; j++)
          acc[i][j] += av * w[j];
      }
      w += NR;
    }
    size_t cols = nc - n0 < NR ? nc - n0 : NR;
    for (size_t i = 0; i < MR; i++)
      for (size_t j = 0; j < cols; j++)
        cr[i][n0 + j] = seg_f32_act (act->act, act->a, act->b, acc[i][j]);
  }
}
