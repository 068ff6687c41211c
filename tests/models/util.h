/* Helpers shared by the model-level C tests: run the `seg` binary as a
 * child process and capture what it prints, make a scratch directory, and
 * read back the palette PNGs the tool writes. */
#ifndef SEG_TESTS_UTIL_H
#define SEG_TESTS_UTIL_H

#include <stdint.h>

/* What one run of the tool did. */
typedef struct
{
  int status; /* exit code, or -1 if it died from a signal */
  int signal; /* the signal, when status is -1 */
  char *out;  /* everything written to stdout, NUL-terminated; owned */
  char *err;  /* everything written to stderr; owned */
} tool_result;

/* Runs argv (argv[0] is the program path, NULL-terminated) with stdout and
 * stderr captured through files in scratch_dir. Aborts the test on a
 * failure to spawn, which is a broken test set-up, not a tool failure. */
void
run_tool (char *const argv[], const char *scratch_dir, tool_result *result);

void tool_result_clear (tool_result *result);

/* Prints the command line and its captured output, for failure reports. */
void tool_result_dump (char *const argv[], const tool_result *result);

/* Creates a fresh directory under $TMPDIR (or /tmp); returns its path
 * (owned) and aborts the test if that fails. */
char *make_scratch_dir (const char *tag);

/* Removes the files made in the directory (one level) and the directory. */
void remove_scratch_dir (char *path);

#include "image.h"

/* Reads an 8-bit palette PNG as raw indices (channels 1) plus its palette
 * (up to 256 RGB triplets; *entries gets the count). Fails (-1) for any
 * other colour type or depth, which is how the tests prove the tool wrote
 * class indices rather than colours. */
int
read_indexed_png (const char *path, image *out, uint8_t *palette, int *entries);

#endif
