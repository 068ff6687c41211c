/* placeholder */
#include "postprocess.h"
void seg_post_class_map_rows (const float *src, int h, int w, int c, float threshold, uint8_t *dst, int dst_w, int dst_h, int stride, int row_begin, int row_end)
{ (void) src; (void) h; (void) w; (void) c; (void) threshold; (void) dst; (void) dst_w; (void) dst_h; (void) stride; (void) row_begin; (void) row_end; }
void seg_post_probability_rows (const float *src, int h, int w, int c, int cls, uint8_t *dst, int dst_w, int dst_h, int stride, int row_begin, int row_end)
{ (void) src; (void) h; (void) w; (void) c; (void) cls; (void) dst; (void) dst_w; (void) dst_h; (void) stride; (void) row_begin; (void) row_end; }
