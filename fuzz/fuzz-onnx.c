/* libFuzzer target for the ONNX importer. Every byte string must either
 * become a graph with one input and one output that validates, or fail
 * with FORMAT/UNSUPPORTED and a message that starts with the file name;
 * never crash, leak or read past the input. What imports is then loaded
 * whole (fuzz-load.h): passes and planning within a memory budget. Seed
 * the corpus with fuzz/corpus/fuzz-onnx (hostile files from test-onnx-hostile.c) and a
 * few torch exports. */
#include "import/import.h"

#include "fuzz-load.h"

#include <string.h>

#define FILE_NAME "fuzz.onnx"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  seg_graph *g = NULL;
  seg_err err;
  seg_status st;

  err.msg[0] = '\0';
  st = seg_import_onnx (data, size, FILE_NAME, &g, &err);
  if (st == SEG_OK) {
    if (!g || g->ninputs != 1 || g->noutputs != 1
        || seg_graph_validate (g, FILE_NAME, &err) != SEG_OK)
      __builtin_trap ();
    fuzz_whole_load (data, size, FILE_NAME);
  } else if (g || (st != SEG_ERR_FORMAT && st != SEG_ERR_UNSUPPORTED)
      || strncmp (err.msg, FILE_NAME ": ", strlen (FILE_NAME) + 2) != 0) {
    __builtin_trap ();
  }
  seg_graph_free (g);
  return 0;
}
