/* libFuzzer target for what peers send the publisher: XPUB subscription
 * notifications (from identified connections and libzmq's anonymous
 * departures) into the subscription tracker, and ZAP requests into the
 * ZAP decision, without sockets (pub-internal.h). The input is a list of
 * records: op, connection, length, bytes. Invariants checked: the
 * subscriber count never goes negative nor above the number of distinct
 * connections seen; ZAP admits only well-formed requests, only listed
 * keys when a list is set, and names the connection it admitted. */
#include "pub-internal.h"

#include <stdlib.h>
#include <string.h>
#include <zmq.h>

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  static const uint8_t listed[32] = {7, 7, 7};
  static segmask_keyring *ring, *empty;
  segmask_track *t = segmask_track_new ("mask/cam0", "status/cam0");
  uint64_t seen = 0;

  if (!t)
    return 0;
  if (!ring) {
    char z[41];

    ring = segmask_keyring_new ();
    empty = segmask_keyring_new ();
    if (!ring || !empty || !zmq_z85_encode (z, listed, 32)
        || segmask_keyring_add_text (ring, SEGMASK_KEY_PUBLIC, z, 40, "f", NULL,
               0)
            != SEGMASK_OK)
      __builtin_trap ();
  }
  while (size >= 3) {
    uint8_t op = data[0], conn = data[1];
    size_t len = data[2] < size - 3 ? data[2] : size - 3;
    const uint8_t *p = data + 3;

    data += 3 + len;
    size -= 3 + len;
    switch (op % 3) {
      case 0:
        /* Connections 0..15: 0 is libzmq's anonymous departure. */
        segmask_track_frame (t, conn % 16, p, len);
        if (conn % 16 > seen)
          seen = conn % 16;
        break;
      case 1:
        segmask_track_flush (t);
        break;
      default: {
        segmask_frame f[8];
        size_t n = 0;
        segmask_zap_reply r;
        const segmask_keyring *allowed = conn % 3 == 0 ? NULL
            : conn % 3 == 1                            ? ring
                                                       : empty;
        int ok;

        /* Frames: a length byte, then that many bytes. */
        while (len && n < 8) {
          size_t k = p[0] < len - 1 ? p[0] : len - 1;

          f[n].data = p + 1;
          f[n++].len = k;
          p += 1 + k;
          len -= 1 + k;
        }
        ok = segmask_zap_decide (f, n, op & 8, allowed, 42, &r);
        if (!r.code || !r.text || (ok != !strcmp (r.code, "200")))
          __builtin_trap ();
        if (ok && (n < 6 || strcmp (r.user_id, "segd-42") != 0))
          __builtin_trap ();
        if (ok && allowed
            && (n != 7 || f[6].len != 32
                || !segmask_keyring_contains (allowed, f[6].data)))
          __builtin_trap ();
        break;
      }
    }
    if (segmask_track_subscribers (t) < 0
        || (uint64_t) segmask_track_subscribers (t) > seen)
      __builtin_trap ();
  }
  segmask_track_free (&t);
  return 0;
}
