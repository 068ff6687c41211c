/* Portable depthwise kernel. Four channels at a time keep their sums in
 * registers across all taps (the compiler can pack them into one SIMD
 * register), so each tap costs two loads and no store. */
#include "kernels.h"

void
seg_f32_dwconv_ukernel__scalar_1x4 (size_t channels, size_t width, size_t taps,
    const float *const *in, const float *w, float *out, size_t out_stride,
    const seg_f32_act_params *act)
{
  for (size_t x = 0; x < width; x++) {
    const float *const *ip = in + x * taps;
    float *o = out + x * out_stride;
    size_t ch = 0;
    for (; ch + 4 <= channels; ch += 4) {
      float a0 = w[ch], a1 = w[ch + 1], a2 = w[ch + 2], a3 = w[ch + 3];
      const float *k = w + channels + ch;
      for (size_t t = 0; t < taps; t++, k += channels) {
        const float *i = ip[t] + ch;
        a0 += i[0] * k[0];
        a1 += i[1] * k[1];
        a2 += i[2] * k[2];
        a3 += i[3] * k[3];
      }
      o[ch] = a0;
      o[ch + 1] = a1;
      o[ch + 2] = a2;
      o[ch + 3] = a3;
    }
    for (; ch < channels; ch++) {
      float a = w[ch];
      const float *k = w + channels + ch;
      for (size_t t = 0; t < taps; t++, k += channels)
        a += ip[t][ch] * k[0];
      o[ch] = a;
    }
    seg_f32_act_apply (act, o, channels);
  }
}
