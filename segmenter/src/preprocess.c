/* placeholder */
#include "preprocess.h"
seg_status seg_frame_validate (const seg_frame *frame, char *err_msg, size_t err_len) { (void) frame; (void) err_msg; (void) err_len; return SEG_ERR_UNSUPPORTED; }
void seg_preprocess_rows (const seg_frame *frame, float *dst, int dst_w, int dst_h, const float mean[3], const float std[3], int row_begin, int row_end)
{ (void) frame; (void) dst; (void) dst_w; (void) dst_h; (void) mean; (void) std; (void) row_begin; (void) row_end; }
