/* The portable pre-processing kernel: the table-driven form of
 * preprocess.c's reference loop, one pixel at a time. */
#include "f32-preprocess.h"

void
seg_f32_preprocess_ukernel__scalar_1 (size_t n, const uint8_t *const top[3],
    const uint8_t *const bottom[3], float fy,
    const seg_f32_preprocess_params *p, float *out)
{
  for (size_t x = 0; x < n; x++)
    seg_f32_preprocess_pixel (x, top, bottom, fy, p, out);
}
