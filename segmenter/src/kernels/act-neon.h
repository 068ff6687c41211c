/* Fused activations on 4 floats at a time, shared by the NEON kernels: the
 * maths of act-avx2.h (Cephes exp for the sigmoid) on 128-bit vectors. */
#ifndef SEG_ACT_NEON_H
#define SEG_ACT_NEON_H

#include <arm_neon.h>

#include "kernels.h"

typedef struct
{
  seg_act act;
  float32x4_t a, b;
} act_neon;

static inline float32x4_t
exp_neon (float32x4_t x)
{
  x = vminq_f32 (vmaxq_f32 (x, vdupq_n_f32 (-87.0f)), vdupq_n_f32 (88.0f));
  float32x4_t n = vrndnq_f32 (vmulq_f32 (x, vdupq_n_f32 (1.44269504f)));
  float32x4_t r = vfmsq_f32 (x, n, vdupq_n_f32 (0.693359375f));
  r = vfmsq_f32 (r, n, vdupq_n_f32 (-2.12194440e-4f));
  float32x4_t p = vdupq_n_f32 (1.9875691500e-4f);
  p = vfmaq_f32 (vdupq_n_f32 (1.3981999507e-3f), p, r);
  p = vfmaq_f32 (vdupq_n_f32 (8.3334519073e-3f), p, r);
  p = vfmaq_f32 (vdupq_n_f32 (4.1665795894e-2f), p, r);
  p = vfmaq_f32 (vdupq_n_f32 (1.6666665459e-1f), p, r);
  p = vfmaq_f32 (vdupq_n_f32 (5.0000001201e-1f), p, r);
  p = vfmaq_f32 (vaddq_f32 (r, vdupq_n_f32 (1.0f)), p, vmulq_f32 (r, r));
  int32x4_t e =
      vshlq_n_s32 (vaddq_s32 (vcvtq_s32_f32 (n), vdupq_n_s32 (127)), 23);
  return vmulq_f32 (p, vreinterpretq_f32_s32 (e));
}

static inline act_neon
act_neon_init (const seg_f32_act_params *p)
{
  act_neon v = {p->act, vdupq_n_f32 (p->a), vdupq_n_f32 (p->b)};
  return v;
}

static inline float32x4_t
act_neon_apply (const act_neon *p, float32x4_t x)
{
  const float32x4_t zero = vdupq_n_f32 (0.0f), one = vdupq_n_f32 (1.0f);
  switch (p->act) {
    case SEG_ACT_RELU:
      return vmaxq_f32 (x, zero);
    case SEG_ACT_CLIP:
      return vminq_f32 (vmaxq_f32 (x, p->a), p->b);
    case SEG_ACT_HARDSIGMOID:
      return vmaxq_f32 (zero, vminq_f32 (one, vfmaq_f32 (p->b, p->a, x)));
    case SEG_ACT_HARDSWISH:
      return vmulq_f32 (x,
          vmaxq_f32 (zero,
              vminq_f32 (one,
                  vfmaq_f32 (vdupq_n_f32 (0.5f), x,
                      vdupq_n_f32 (1.0f / 6.0f)))));
    case SEG_ACT_SIGMOID:
      return vdivq_f32 (one, vaddq_f32 (one, exp_neon (vnegq_f32 (x))));
    case SEG_ACT_NONE:
      break;
  }
  return x;
}

#endif /* SEG_ACT_NEON_H */
