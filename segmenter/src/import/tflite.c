/* placeholder */
#include "import.h"
seg_status seg_import_tflite (const uint8_t *data, size_t size, const char *file, seg_graph **out, seg_err *err)
{ (void) data; (void) size; *out = NULL; return seg_fail (err, SEG_ERR_UNSUPPORTED, "%s: TFLite import not built yet", file); }
