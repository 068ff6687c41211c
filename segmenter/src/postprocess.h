/* Model output -> uint8 masks at any size. Upsampling and the per-pixel
 * decision are fused: each destination pixel bilinearly samples the C score
 * planes (half-pixel centres, like torch's interpolate with
 * align_corners=False) and immediately takes the argmax / probability, so no
 * upsampled float tensor is ever built. */
#ifndef SEG_POSTPROCESS_H
#define SEG_POSTPROCESS_H

#include <stdint.h>

/* src: NHWC (N = 1) scores, h x w x c. c == 1 means a probability output:
 * class 1 where p >= threshold. Rows [row_begin, row_end) of dst. */
void
seg_post_class_map_rows (const float *src, int h, int w, int c, float threshold,
    uint8_t *dst, int dst_w, int dst_h, int stride, int row_begin, int row_end);

/* Probability of class `cls` as round(255 * p): softmax over c >= 2 scores;
 * for c == 1 the value itself (cls 1) or 1 - value (cls 0), clamped to
 * [0, 1]. */
void seg_post_probability_rows (const float *src, int h, int w, int c, int cls,
    uint8_t *dst, int dst_w, int dst_h, int stride, int row_begin, int row_end);

#endif
