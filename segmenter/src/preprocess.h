/* Frame -> model input in one pass: sample (bilinear, half-pixel centres, as
 * cv2/torch resize do) the source frame at each output pixel, convert YUV to
 * RGB (BT.601 limited range), normalise with (p / 255 - mean) / std, and
 * write NHWC float. No intermediate RGB or resized image exists. */
#ifndef SEG_PREPROCESS_H
#define SEG_PREPROCESS_H

#include "segmenter/seg.h"

/* Validates the frame (format, sizes > 0, planes non-NULL, strides large
 * enough, even dims where the format subsamples) and returns SEG_ERR_INVALID
 * with a message in err_msg (size err_len) if not. */
seg_status seg_frame_validate (const seg_frame *frame, char *err_msg,
    size_t err_len);

/* dst: dst_h * dst_w * 3 floats, RGB order. The frame must be valid.
 * Rows [row_begin, row_end) only, so callers can split work across threads. */
void seg_preprocess_rows (const seg_frame *frame, float *dst, int dst_w,
    int dst_h, const float mean[3], const float std[3], int row_begin,
    int row_end);

#endif
