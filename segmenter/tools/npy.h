/* Reading and writing NumPy .npy files of float32 tensors, the exchange
 * format of `seg run --input-npy/--output-npy` and the golden-tensor tests.
 * Only what those need: versions 1.0 and 2.0, dtype '<f4', C order. A file
 * is untrusted input: every header field is checked and anything else is
 * refused with a message naming the file and the field. */
#ifndef SEG_TOOLS_NPY_H
#define SEG_TOOLS_NPY_H

#include <stddef.h>
#include <stdint.h>

#define NPY_MAX_RANK 8

typedef struct
{
  int rank;
  int64_t shape[NPY_MAX_RANK];
  size_t count; /* product of shape (1 for rank 0) */
  float *data;  /* count floats, host byte order; owned */
} npy_array;

/* Parses a whole .npy file held in memory; `name` is used in messages. On
 * success fills *out (free its data with npy_array_clear) and returns 0; on
 * failure returns -1 and writes one line into err (size err_len). */
int npy_parse (const void *buf, size_t len, const char *name, npy_array *out,
    char *err, size_t err_len);

/* Reads and parses `path`; same contract as npy_parse. */
int npy_read (const char *path, npy_array *out, char *err, size_t err_len);

/* Writes data (count = product of shape) as a version 1.0 '<f4' file.
 * Returns 0, or -1 with a message in err. */
int npy_write (const char *path, const float *data, int rank,
    const int64_t *shape, char *err, size_t err_len);

/* Frees the data and resets *array; safe on a cleared array. */
void npy_array_clear (npy_array *array);

#endif
