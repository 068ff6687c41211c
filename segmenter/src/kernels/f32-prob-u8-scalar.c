/* The probability-to-byte kernel, one value at a time (the reference the
 * SIMD kernels are tested against). */
#include "kernels.h"

void
seg_f32_prob_u8_ukernel__scalar_1 (size_t n, const float *in, int complement,
    uint8_t *out)
{
  for (size_t i = 0; i < n; i++)
    out[i] = seg_f32_prob_u8 (complement ? 1.0f - in[i] : in[i]);
}
