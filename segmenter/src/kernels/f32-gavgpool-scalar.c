/* Portable global average pooling over NHWC pixels: rows of channels are
 * summed in order so the inner loop is contiguous. */
#include "kernels.h"

void
seg_f32_gavgpool_ukernel__scalar_1 (size_t pixels, size_t channels,
    const float *in, size_t in_stride, float scale, float *out,
    const seg_f32_act_params *act)
{
  for (size_t ch = 0; ch < channels; ch++)
    out[ch] = 0.0f;
  for (size_t p = 0; p < pixels; p++) {
    const float *row = in + p * in_stride;
    for (size_t ch = 0; ch < channels; ch++)
      out[ch] += row[ch];
  }
  for (size_t ch = 0; ch < channels; ch++)
    out[ch] *= scale;
  seg_f32_act_apply (act, out, channels);
}
