/* Frame -> model input in one pass: sample (bilinear, half-pixel centres, as
 * cv2/torch resize do) the source frame at each output pixel, convert YUV to
 * RGB (BT.601 limited range), normalise with (p / 255 - mean) / std, and
 * write NHWC float. No intermediate RGB or resized image exists. */
#ifndef SEG_PREPROCESS_H
#define SEG_PREPROCESS_H

#include "segmenter/seg.h"
#include "kernels/f32-preprocess.h"

/* The format's name as error messages give it ("RGBx", "NV12"), or "?"
 * for a value outside the enum. */
const char *seg_pixel_format_name (seg_pixel_format format);

/* Validates the frame (format, sizes > 0, planes non-NULL, strides large
 * enough, even dims where the format subsamples) and returns SEG_ERR_INVALID
 * with a message in err_msg (size err_len) if not. */
seg_status
seg_frame_validate (const seg_frame *frame, char *err_msg, size_t err_len);

/* dst: dst_h * dst_w * 3 floats, RGB order. The frame must be valid.
 * Rows [row_begin, row_end) only, so callers can split work across threads. */
void
seg_preprocess_rows (const seg_frame *frame, float *dst, int dst_w, int dst_h,
    const float mean[3], const float std[3], int row_begin, int row_end);

/* Per-geometry state of the SIMD path: each output column's taps (where
 * to read each component, the blend weight) and each output row's source
 * rows, built once for a frame format and size and reused every frame.
 * Zero-initialise; seg_preprocess_plan_clear frees it. */
typedef struct
{
  int format, src_w, src_h, dst_w, dst_h;
  float mean[3], std[3];
  seg_f32_preprocess_ukernel_fn kernel; /* NULL: the reference loop */
  seg_f32_preprocess_params params;
  int32_t *row0, *row1; /* per output row: source rows */
  float *fy;
  void *mem;
} seg_preprocess_plan;

/* Makes `plan` fit this frame's format and size (allocating only when
 * those change). On allocation failure, or where the kernels cannot read
 * the frame (planes narrower than 4 bytes), the plan falls back to
 * seg_preprocess_rows; it never fails. */
void
seg_preprocess_plan_update (seg_preprocess_plan *plan, const seg_frame *frame,
    int dst_w, int dst_h, const float mean[3], const float std[3]);

/* seg_preprocess_rows through the plan's kernel: the same output within
 * the tolerance the kernel tests state. The frame must be valid and of the
 * plan's geometry (strides and planes may differ from frame to frame). */
void seg_preprocess_plan_rows (const seg_preprocess_plan *plan,
    const seg_frame *frame, float *dst, int row_begin, int row_end);

/* Frees the tables and zeroes the plan. */
void seg_preprocess_plan_clear (seg_preprocess_plan *plan);

#endif
