/* Portable depthwise kernel reading pixels in place: the reference for the
 * SIMD versions. Taps in the order of the indirection kernel, four
 * channels at a time, so both give the same bits. */
#include "kernels.h"

void
seg_f32_dwconv_rows_ukernel__scalar_1x4 (size_t channels, size_t width,
    size_t kh, size_t kw, const float *const *rows, size_t x_step,
    size_t kx_step, const float *w, float *out, size_t out_stride,
    const seg_f32_act_params *act)
{
  for (size_t x = 0; x < width; x++) {
    float *o = out + x * out_stride;
    size_t ch = 0;
    for (; ch + 4 <= channels; ch += 4) {
      float a0 = w[ch], a1 = w[ch + 1], a2 = w[ch + 2], a3 = w[ch + 3];
      const float *k = w + channels + ch;
      for (size_t ky = 0; ky < kh; ky++) {
        const float *i = rows[ky] + x * x_step + ch;
        for (size_t kx = 0; kx < kw; kx++, i += kx_step, k += channels) {
          a0 += i[0] * k[0];
          a1 += i[1] * k[1];
          a2 += i[2] * k[2];
          a3 += i[3] * k[3];
        }
      }
      o[ch] = a0;
      o[ch + 1] = a1;
      o[ch + 2] = a2;
      o[ch + 3] = a3;
    }
    for (; ch < channels; ch++) {
      float a = w[ch];
      const float *k = w + channels + ch;
      for (size_t ky = 0; ky < kh; ky++) {
        const float *i = rows[ky] + x * x_step + ch;
        for (size_t kx = 0; kx < kw; kx++, i += kx_step, k += channels)
          a += i[0] * k[0];
      }
      o[ch] = a;
    }
    seg_f32_act_apply (act, o, channels);
  }
}
