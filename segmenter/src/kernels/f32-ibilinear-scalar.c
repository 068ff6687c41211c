/* Portable bilinear resize rows, channels innermost (NHWC): the reference
 * the SIMD version is tested against. */
#include "kernels.h"

void
seg_f32_ibilinear_ukernel__scalar_1 (size_t width, size_t channels,
    const float *top, const float *bottom, size_t rows, const float *wy,
    const seg_f32_bilinear_tap *taps, float *out, size_t out_stride)
{
  for (size_t x = 0; x < width; x++) {
    const float *tl = top + taps[x].left, *tr = top + taps[x].right;
    const float *bl = bottom + taps[x].left, *br = bottom + taps[x].right;
    float wx = taps[x].weight;
    for (size_t ch = 0; ch < channels; ch++) {
      float t = tl[ch] + (tr[ch] - tl[ch]) * wx;
      float b = bl[ch] + (br[ch] - bl[ch]) * wx;
      for (size_t r = 0; r < rows; r++)
        out[r * out_stride + ch] = t + (b - t) * wy[r];
    }
    out += channels;
  }
}
