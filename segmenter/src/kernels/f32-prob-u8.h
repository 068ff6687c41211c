/* A probability (0..1, any float) as an 8-bit level: 255 p rounded half
 * up, clamped; NaN is 0. The one definition: postprocess.c's masks and the
 * scalar kernel use it, and the SIMD kernels must give its bytes. */
#ifndef SEG_F32_PROB_U8_H
#define SEG_F32_PROB_U8_H

#include <stdint.h>

static inline uint8_t
seg_f32_prob_u8 (float p)
{
  if (!(p > 0.0f))
    return 0;
  if (p >= 1.0f)
    return 255;
  return (uint8_t) (255.0f * p + 0.5f);
}

#endif
