/* NEON GEMM microkernel for arm64: 8 rows by 8-column panels. Sixteen
 * q-register accumulators, two weight vectors and the row scalars fit the
 * 32 vector registers; vfmaq_n_f32 multiplies by a row's scalar without a
 * separate broadcast. Rows past mr alias the last real one, as in the other
 * kernels; a column tail goes through a small buffer. */
#include <string.h>

#include "act-neon.h"

#define MR 8

void
seg_f32_gemm_ukernel__neon_8x8 (size_t mr, size_t nc, size_t kc, const float *a,
    size_t a_stride, const float *w, float *c, size_t c_stride,
    const seg_f32_act_params *act)
{
  const float *ar[MR];
  float *cr[MR];
  for (size_t i = 0; i < MR; i++) {
    size_t r = i < mr ? i : mr - 1;
    ar[i] = a + r * a_stride;
    cr[i] = c + r * c_stride;
  }
  const act_neon p = act_neon_init (act);

  for (size_t col = 0; col < nc; col += 8) {
    float32x4_t lo[MR], hi[MR];
    const float32x4_t b0 = vld1q_f32 (w), b1 = vld1q_f32 (w + 4);
    for (size_t i = 0; i < MR; i++)
      lo[i] = b0, hi[i] = b1;
    w += 8;
    for (size_t k = 0; k < kc; k++, w += 8) {
      const float32x4_t v0 = vld1q_f32 (w), v1 = vld1q_f32 (w + 4);
      for (size_t i = 0; i < MR; i++) {
        lo[i] = vfmaq_n_f32 (lo[i], v0, ar[i][k]);
        hi[i] = vfmaq_n_f32 (hi[i], v1, ar[i][k]);
      }
    }
    size_t cols = nc - col < 8 ? nc - col : 8;
    for (size_t i = MR; i-- > 0;) {
      float32x4_t x0 = act_neon_apply (&p, lo[i]);
      float32x4_t x1 = act_neon_apply (&p, hi[i]);
      if (cols == 8) {
        vst1q_f32 (cr[i] + col, x0);
        vst1q_f32 (cr[i] + col + 4, x1);
      } else {
        float buf[8];
        vst1q_f32 (buf, x0);
        vst1q_f32 (buf + 4, x1);
        memcpy (cr[i] + col, buf, cols * sizeof (float));
      }
    }
  }
}
