/* Internal to libsegmask (not installed): the publisher's handling of
 * what peers send, without sockets, so tests and the fuzz target can
 * drive it directly. */
#ifndef SEGMASK_PUB_INTERNAL_H
#define SEGMASK_PUB_INTERNAL_H

#include "segmask-pub.h"

/* ---- subscriptions ----
 *
 * libzmq keeps each pipe's subscriptions itself and routes by them; what
 * the XPUB socket hands up is only a notification stream, and it is not
 * trustworthy: libzmq 4.3 passes up an unsubscribe for a topic the pipe
 * never held (not only with XPUB_VERBOSER, also on a plain XPUB), so a
 * count kept from those frames can be driven to zero by any peer. Here
 * each frame is attributed to its connection by the User-Id our own ZAP
 * handler gave that connection (a peer cannot set it; libzmq's ZAP
 * properties win over the peer's), each connection's set of interesting
 * prefixes is kept as libzmq keeps it (a set per pipe), and a connection
 * counts as a subscriber while its set selects the mask topic.
 *
 * When a pipe goes away, libzmq (with XPUB_VERBOSER) emits one
 * unsubscribe per topic it held, with no metadata. Those are collected
 * and matched against the connections' sets; when two connections held
 * the same set the choice is arbitrary, and corrected if the one thought
 * gone speaks again (it takes over the record of a look-alike that has
 * been silent since). */

typedef struct segmask_track segmask_track;

enum
{
  SEGMASK_TRACK_COUNT = 1,  /* the subscriber count changed */
  SEGMASK_TRACK_REPLAY = 2, /* a connection subscribed to masks */
  SEGMASK_TRACK_STATUS = 4, /* a connection subscribed to status */
};

/* Tracks subscriptions to the two topics (copied). NULL: out of memory. */
segmask_track *
segmask_track_new (const char *mask_topic, const char *status_topic);
void segmask_track_free (segmask_track **t);

/* One XPUB notification (`\x01prefix` or `\x00prefix`) from connection
 * `conn` (from the frame's User-Id; 0: no metadata, i.e. libzmq's own
 * unsubscription for a departed pipe). Returns SEGMASK_TRACK_* flags. */
unsigned segmask_track_frame (segmask_track *t, uint64_t conn,
    const uint8_t *data, size_t len);

/* Settles the departures collected so far; call when the socket has no
 * more notifications queued. Returns SEGMASK_TRACK_* flags. */
unsigned segmask_track_flush (segmask_track *t);

int segmask_track_subscribers (const segmask_track *t);

/* Parses a User-Id we issued ("segd-<n>"); 0 if it is not one. */
uint64_t segmask_track_parse_user_id (const char *user_id);

/* ---- ZAP (RFC 27) ---- */

typedef struct
{
  const uint8_t *data;
  size_t len;
} segmask_frame;

typedef struct
{
  const char *code; /* "200", "400" */
  const char *text;
  char user_id[32];                /* "segd-<conn>" when admitted, else "" */
  const segmask_frame *request_id; /* NULL: send an empty one */
} segmask_zap_reply;

/* Decides a ZAP request (the frames after the envelope). `curve`: the
 * socket is a CURVE server; `allowed`: NULL admits any CURVE client, a
 * ring (possibly empty) only its keys. Returns 1 when admitted. */
int segmask_zap_decide (const segmask_frame *req, size_t n, int curve,
    const segmask_keyring *allowed, uint64_t conn, segmask_zap_reply *r);

/* Test hook: make the next `n` ZAP replies fail at their first frame, as
 * a full or broken ZAP pipe would. */
void segmask_pub_test_fail_zap_sends (segmask_pub *pub, int n);

#endif
