/* libFuzzer target for the CURVE key and certificate parser (keys.c):
 * bare Z85 key lists and czmq ZPL certificates, as public keys and as a
 * secret key. Whatever the bytes, the parser either adds valid keys or
 * fails with a message; a secret parse never adds more than one key. */
#include "segmask.h"

#include <string.h>

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  segmask_keyring *r;
  segmask_key_kind kind;
  segmask_status st;
  char err[256] = "";

  if (size < 1)
    return 0;
  kind = data[0] & 1 ? SEGMASK_KEY_SECRET : SEGMASK_KEY_PUBLIC;
  if (!(r = segmask_keyring_new ()))
    return 0;
  st = segmask_keyring_add_text (r, kind, (const char *) data + 1, size - 1,
      "fuzz", err, sizeof (err));
  if (st == SEGMASK_ERR_INVALID && !err[0])
    __builtin_trap ();
  if (st == SEGMASK_OK && kind == SEGMASK_KEY_SECRET
      && segmask_keyring_count (r) > 1)
    __builtin_trap ();
  segmask_keyring_free (&r);
  return 0;
}
