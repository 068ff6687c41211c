/* libFuzzer target for the TFLite importer: any byte string must either
 * import into a graph that validates or fail with a message naming the
 * file, without crashing, leaking or reading outside the input; what
 * imports is then loaded whole (fuzz-load.h). Seed it with the MediaPipe
 * models (scripts/fetch-models.sh). */
#include "import/import.h"

#include "fuzz-load.h"

#include <string.h>

#define FILE_NAME "fuzz.tflite"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  seg_graph *g = NULL;
  seg_err err;

  err.msg[0] = '\0';
  if (seg_import_tflite (data, size, FILE_NAME, &g, &err) == SEG_OK) {
    /* The importer validated it already; a second look catches a graph
     * changed after its own check. */
    if (!g || seg_graph_validate (g, FILE_NAME, &err) != SEG_OK)
      __builtin_trap ();
    seg_graph_free (g);
    fuzz_whole_load (data, size, FILE_NAME);
  } else if (g
      || strncmp (err.msg, FILE_NAME ": ", strlen (FILE_NAME) + 2) != 0) {
    __builtin_trap ();
  }
  return 0;
}
