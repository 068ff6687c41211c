/* Portable one-output-channel dot products: the reference the SIMD
 * versions are tested against. Sums start at the bias and run over k in
 * order, as the scalar GEMM's do. */
#include "kernels.h"

void
seg_f32_vdot_ukernel__scalar_1 (size_t n, size_t kc, const float *in,
    size_t in_stride, size_t th, size_t tw, const float *w, float bias,
    float *out, size_t row_stride, size_t px_stride,
    const seg_f32_act_params *act)
{
  for (size_t i = 0; i < n; i++) {
    const float *row = in + i * in_stride;
    for (size_t t = 0; t < th * tw; t++) {
      const float *wt = w + t * kc;
      float acc = bias;
      for (size_t k = 0; k < kc; k++)
        acc += row[k] * wt[k];
      out[t / tw * row_stride + i * px_stride + t % tw] =
          seg_f32_act (act->act, act->a, act->b, acc);
    }
  }
}
