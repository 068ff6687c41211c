/* NEON depthwise kernel for arm64: 8 channels per step with the sums in
 * registers across all taps, then 4, then single channels, so that no load
 * reads past a pixel's channels. */
#include "act-neon.h"

void
seg_f32_dwconv_ukernel__neon_1x8 (size_t channels, size_t width, size_t taps,
    const float *const *in, const float *w, float *out, size_t out_stride,
    const seg_f32_act_params *act)
{
  const act_neon p = act_neon_init (act);
  for (size_t x = 0; x < width; x++) {
    const float *const *ip = in + x * taps;
    float *o = out + x * out_stride;
    size_t ch = 0;
    for (; ch + 8 <= channels; ch += 8) {
      float32x4_t a0 = vld1q_f32 (w + ch), a1 = vld1q_f32 (w + ch + 4);
      const float *k = w + channels + ch;
      for (size_t t = 0; t < taps; t++, k += channels) {
        a0 = vfmaq_f32 (a0, vld1q_f32 (ip[t] + ch), vld1q_f32 (k));
        a1 = vfmaq_f32 (a1, vld1q_f32 (ip[t] + ch + 4), vld1q_f32 (k + 4));
      }
      vst1q_f32 (o + ch, act_neon_apply (&p, a0));
      vst1q_f32 (o + ch + 4, act_neon_apply (&p, a1));
    }
    for (; ch + 4 <= channels; ch += 4) {
      float32x4_t acc = vld1q_f32 (w + ch);
      const float *k = w + channels + ch;
      for (size_t t = 0; t < taps; t++, k += channels)
        acc = vfmaq_f32 (acc, vld1q_f32 (ip[t] + ch), vld1q_f32 (k));
      vst1q_f32 (o + ch, act_neon_apply (&p, acc));
    }
    for (; ch < channels; ch++) {
      float acc = w[ch];
      const float *k = w + channels + ch;
      for (size_t t = 0; t < taps; t++, k += channels)
        acc += ip[t][ch] * k[0];
      o[ch] = seg_f32_act (act->act, act->a, act->b, acc);
    }
  }
}
