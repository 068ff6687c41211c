/* The rest of a load after a successful import, for the importer fuzz
 * targets: the passes and planning run on what the fuzzer built, under a
 * memory budget well inside libFuzzer's default -rss_limit_mb=2048, so a
 * shape that asks for gigabytes must be refused (FORMAT/UNSUPPORTED/SHAPE,
 * message naming the file), never allocated. The hostile files of
 * tests/segmenter/test-onnx-hostile.c are seeds in fuzz/corpus/fuzz-onnx. */
#ifndef SEG_FUZZ_LOAD_H
#define SEG_FUZZ_LOAD_H

#include <stdlib.h>
#include <string.h>

#include "segmenter/seg.h"

static void
fuzz_whole_load (const uint8_t *data, size_t size, const char *file)
{
  seg_load_options opt = {.memory_budget = (size_t) 256 << 20};
  seg_model *m = NULL;
  char *error = NULL;
  seg_status st = seg_model_load_from_memory_with_options (data, size, file,
      &opt, &m, &error);
  if (st == SEG_OK ? !m
                   : (m
                       || (st != SEG_ERR_FORMAT && st != SEG_ERR_UNSUPPORTED
                           && st != SEG_ERR_SHAPE)
                       || !error || strncmp (error, file, strlen (file)) != 0))
    __builtin_trap ();
  seg_model_free (m);
  free (error);
}

#endif
