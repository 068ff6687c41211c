/* segmask — the segd mask protocol (docs/protocol.md) and a small
 * subscriber library.
 *
 * Two layers: the codec (header and payload encode/decode, no I/O, used by
 * the zmqmasksink/zmqmasksrc elements and the fuzz target) and the
 * subscriber (connect, receive the next validated mask, free). Everything
 * received is untrusted: decoding checks every length and size before use
 * and reports why a message was rejected. The library never prints,
 * exits or aborts. Link with `pkg-config --libs segmask`.
 */
#ifndef SEGMASK_H
#define SEGMASK_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The library exports what carries this and nothing else (it is built
 * with hidden visibility); scripts/check-exports.py compares the two. */
#if defined(SEGMASK_BUILDING) && defined(__GNUC__)
#define SEGMASK_API __attribute__ ((visibility ("default")))
#else
#define SEGMASK_API
#endif

#define SEGMASK_MAGIC "SGMK"
#define SEGMASK_VERSION_MAJOR 1
#define SEGMASK_VERSION_MINOR 0
/* Size of the fixed part of a 1.0 header; later minors may grow it. */
#define SEGMASK_FIXED_LEN 120
#define SEGMASK_MAX_CLASSES 256
#define SEGMASK_MAX_STRING 255
#define SEGMASK_MAX_DIM 16384
/* Default bound on a decoded mask (stride * height). */
#define SEGMASK_DEFAULT_MAX_RAW (64u << 20)
/* running time / timestamps not known */
#define SEGMASK_TIME_NONE UINT64_MAX

typedef enum
{
  SEGMASK_OK = 0,
  SEGMASK_TIMEOUT = 1,      /* nothing arrived in time */
  SEGMASK_INTERRUPTED = 2,  /* the wake fd became readable */
  SEGMASK_ERR_INVALID = -1, /* malformed message or bad argument */
  SEGMASK_ERR_NOSPACE = -2, /* output buffer too small */
  SEGMASK_ERR_NOMEM = -3,
  SEGMASK_ERR_ZMQ = -4, /* a libzmq call failed (see errno) */
} segmask_status;

typedef enum
{
  SEGMASK_MSG_MASK = 1,
  SEGMASK_MSG_STATUS = 2,
  SEGMASK_MSG_EOS = 3,
} segmask_msg_type;

typedef enum
{
  SEGMASK_KIND_NONE = 0,
  SEGMASK_KIND_CLASSES = 1,     /* class index per pixel */
  SEGMASK_KIND_PROBABILITY = 2, /* 0..255 that the pixel is not background */
} segmask_kind;

typedef enum
{
  SEGMASK_ENC_RAW = 0,
  SEGMASK_ENC_RLE = 1,
  SEGMASK_ENC_ZSTD = 2,
} segmask_encoding;

/* A header, decoded or to encode. Decoded strings point into the header
 * frame they were parsed from (NUL-terminated there) and live as long as
 * it does (transfer none). */
typedef struct
{
  unsigned version_major, version_minor;
  segmask_msg_type type;
  segmask_kind kind;
  segmask_encoding encoding;
  unsigned flags;
  uint32_t session; /* random per publisher start */
  uint64_t seq;
  uint64_t capture_realtime_ns; /* 0: unknown */
  uint64_t capture_running_ns;  /* SEGMASK_TIME_NONE: unknown */
  uint64_t publish_realtime_ns;
  uint64_t inference_ns;
  uint64_t mask_age_ns;
  uint64_t mask_age_frames;
  uint64_t drops;
  uint32_t frame_width, frame_height;
  uint32_t width, height, stride;
  uint32_t raw_len; /* stride * height for masks, else 0 */
  uint32_t payload_len;
  unsigned num_classes;
  const char *stream;
  const char *model_name;
  const char *model_sha256;
  const char *labels[SEGMASK_MAX_CLASSES];
} segmask_header;

/* Bytes segmask_header_encode() needs for `h`, or 0 if a field is out of
 * range (string too long, too many classes, NULL stream). */
SEGMASK_API size_t segmask_header_size (const segmask_header *h);

/* Writes `h` in the 1.0 layout. NULL strings are sent empty.
 * Returns SEGMASK_OK, ERR_INVALID (see segmask_header_size) or
 * ERR_NOSPACE. */
SEGMASK_API segmask_status segmask_header_encode (const segmask_header *h,
    uint8_t *dst, size_t cap, size_t *out_len);

/* Parses and validates a header frame; `*why` (static string) says what
 * was wrong on ERR_INVALID. Does not look at the payload. */
SEGMASK_API segmask_status segmask_header_decode (const uint8_t *buf,
    size_t len, segmask_header *h, const char **why);

/* Validates a whole received message: topic frame, header frame (parsed
 * into `h`) and the payload frame's length. `max_raw` bounds the decoded
 * size (0: SEGMASK_DEFAULT_MAX_RAW). */
SEGMASK_API segmask_status segmask_message_parse (const uint8_t *topic,
    size_t topic_len, const uint8_t *header, size_t header_len,
    size_t payload_len, size_t max_raw, segmask_header *h, const char **why);

/* Topic of a message type for a stream: "mask/<stream>" (mask and
 * end-of-stream) or "status/<stream>". Returns the length written without
 * the NUL, or 0 if it does not fit. */
SEGMASK_API size_t segmask_topic (segmask_msg_type type, const char *stream,
    char *dst, size_t cap);

/* Payload codec. One object holds the zstd contexts so the per-frame path
 * does not allocate; use it from one thread at a time. */
typedef struct segmask_codec segmask_codec;

/* (transfer full) or NULL when out of memory. */
SEGMASK_API segmask_codec *segmask_codec_new (void);
/* Frees and NULLs `*codec`; NULL is fine. */
SEGMASK_API void segmask_codec_free (segmask_codec **codec);

/* Upper bound of an encoded payload of `raw_len` bytes. */
SEGMASK_API size_t segmask_payload_bound (segmask_encoding enc, size_t raw_len);

/* Encodes `raw_len` bytes. `level` is the zstd level (ignored otherwise). */
SEGMASK_API segmask_status segmask_payload_encode (segmask_codec *codec,
    segmask_encoding enc, int level, const uint8_t *raw, size_t raw_len,
    uint8_t *dst, size_t cap, size_t *out_len);

/* Decodes a payload that must expand to exactly `raw_len` bytes into
 * `dst`. For class maps with num_classes > 0 each value is also checked to
 * be a valid class index. */
SEGMASK_API segmask_status segmask_payload_decode (segmask_codec *codec,
    const segmask_header *h, const uint8_t *src, size_t len, uint8_t *dst,
    const char **why);

SEGMASK_API const char *segmask_encoding_name (segmask_encoding enc);
/* Returns the encoding named `name` ("raw", "rle", "zstd") or -1. */
SEGMASK_API int segmask_encoding_from_name (const char *name);
SEGMASK_API const char *segmask_status_string (segmask_status st);

/* ---- CURVE keys ----
 *
 * One loader for the publisher and every subscriber. Accepted: Z85 keys
 * (40 characters; a bare list separated by white space or commas, with no
 * comments since `#` is a Z85 character), czmq certificates (ZPL with a
 * top-level `curve` section: `public-key`, and in a secret certificate
 * also `secret-key`; `#` lines are comments there) and, for lists of
 * public keys, a directory laid out as czmq's certificate store (every
 * regular file but hidden ones and `*_secret`). Anything unusable is an
 * error naming the file, the line and the reason; nothing is skipped. */

typedef enum
{
  SEGMASK_KEY_PUBLIC = 0, /* bare keys, or a certificate's public-key */
  SEGMASK_KEY_SECRET = 1, /* one bare key, or curve/secret-key */
} segmask_key_kind;

/* A set of 32-byte binary CURVE keys. */
typedef struct segmask_keyring segmask_keyring;

/* (transfer full) or NULL when out of memory. */
SEGMASK_API segmask_keyring *segmask_keyring_new (void);
/* Wipes and frees `*ring`, NULLs it; NULL is fine. */
SEGMASK_API void segmask_keyring_free (segmask_keyring **ring);
SEGMASK_API size_t segmask_keyring_count (const segmask_keyring *ring);
/* The i-th key, 32 bytes (transfer none), or NULL past the end. */
SEGMASK_API const uint8_t *
segmask_keyring_get (const segmask_keyring *ring, size_t i);
/* Whether the 32-byte `key` is in the ring. */
SEGMASK_API int
segmask_keyring_contains (const segmask_keyring *ring, const uint8_t *key);

/* Parses `len` bytes of key text (a key list or one certificate) named
 * `origin` in messages and adds its keys; duplicates are kept once.
 * Returns OK, ERR_INVALID with "origin:line: why" in `err`, or
 * ERR_NOMEM. On error the ring may hold keys added before the error. */
SEGMASK_API segmask_status segmask_keyring_add_text (segmask_keyring *ring,
    segmask_key_kind kind, const char *text, size_t len, const char *origin,
    char *err, size_t err_len);

/* Adds the keys of a file, or (SEGMASK_KEY_PUBLIC only) of every
 * certificate in a directory. Errors as segmask_keyring_add_text. */
SEGMASK_API segmask_status segmask_keyring_add_path (segmask_keyring *ring,
    segmask_key_kind kind, const char *path, char *err, size_t err_len);

/* Loads one secret key, from `secret_key` (Z85 text) or from the file
 * `secret_key_file` (exactly one of them), and derives its public key.
 * Writes both as 40 Z85 characters + NUL. Returns OK, ERR_INVALID (with
 * the reason in `err`), ERR_NOMEM or ERR_ZMQ (libzmq without CURVE). */
SEGMASK_API segmask_status segmask_keypair_load (const char *secret_key,
    const char *secret_key_file, char public_z85[41], char secret_z85[41],
    char *err, size_t err_len);

/* Loads exactly one public key from `key` (Z85) or `key_file` (exactly
 * one of them) into `z85` (41 bytes). Errors as segmask_keypair_load. */
SEGMASK_API segmask_status segmask_key_load (const char *key,
    const char *key_file, char z85[41], char *err, size_t err_len);

/* Copies `src` into `dst` (NUL-terminated, truncated to `cap`) so that
 * it is safe on a terminal: printable ASCII stays, every other byte
 * becomes \xNN. Returns `dst`. For printing strings a peer sent. */
SEGMASK_API char *segmask_printable (const char *src, char *dst, size_t cap);

/* ---- Subscriber ---- */

typedef struct
{
  const char *endpoint; /* connect to this (tcp://, ipc://) */
  const char *stream;   /* NULL or "": every stream */
  int status;           /* also deliver status messages */
  int rcvhwm;           /* 0: libzmq default */
  int latest_only;      /* skip to the newest queued mask */
  size_t max_raw;       /* 0: SEGMASK_DEFAULT_MAX_RAW */
  /* CURVE, inline: all three Z85 keys (40 characters) or none. Prefer
   * the files below: a key given on a command line is visible in `ps`. */
  const char *curve_server_key;
  const char *curve_public_key;
  const char *curve_secret_key;
  int wake_fd; /* -1: none; readable => INTERRUPTED */
  /* CURVE from files (segmask_key_load / segmask_keypair_load formats):
   * the publisher's public key or certificate, and this client's secret
   * key or czmq secret certificate (its public key is derived). Either
   * both files, or the three inline keys, or nothing. */
  const char *curve_server_key_file;
  const char *curve_secret_key_file;
} segmask_sub_options;

typedef struct
{
  uint64_t received;   /* valid masks, status and EOS delivered */
  uint64_t invalid;    /* messages rejected as malformed */
  uint64_t missed;     /* sequence gaps: masks never received */
  uint64_t duplicates; /* replays already seen, dropped */
  uint64_t skipped;    /* older masks skipped by latest_only */
} segmask_sub_stats;

/* One received message. For masks `data` holds raw_len decoded bytes
 * (rows of header.stride); for status `text` is the NUL-terminated
 * key=value payload; both NULL otherwise. */
typedef struct
{
  segmask_header header;
  const uint8_t *data;
  const char *text;
} segmask_msg;

typedef struct segmask_sub segmask_sub;

SEGMASK_API void segmask_sub_options_init (segmask_sub_options *opt);

/* Creates a SUB socket connected to opt->endpoint (libzmq reconnects by
 * itself). On error returns a negative status and writes a sentence to
 * `err` (if not NULL). (transfer full) in `*out`. */
SEGMASK_API segmask_status segmask_sub_new (const segmask_sub_options *opt,
    segmask_sub **out, char *err, size_t err_len);

/* Connects the same socket to one more publisher (e.g. a second segd
 * instance), so one subscriber reads several streams; sequence gaps are
 * tracked per stream. Returns OK, ERR_INVALID or ERR_ZMQ with a sentence
 * in `err`. */
SEGMASK_API segmask_status segmask_sub_connect (segmask_sub *sub,
    const char *endpoint, char *err, size_t err_len);

/* Waits up to `timeout_ms` (-1: forever) for the next valid message.
 * Malformed ones are counted and skipped; `*why` (if not NULL) keeps the
 * reason of the last rejection. Returns OK with `*out` (transfer full,
 * free with segmask_msg_free), TIMEOUT, INTERRUPTED or a negative error. */
SEGMASK_API segmask_status segmask_sub_recv (segmask_sub *sub, int timeout_ms,
    segmask_msg **out);

SEGMASK_API void
segmask_sub_get_stats (const segmask_sub *sub, segmask_sub_stats *stats);
/* Reason of the most recent rejection, or NULL. (transfer none) */
SEGMASK_API const char *segmask_sub_last_error (const segmask_sub *sub);

SEGMASK_API void segmask_msg_free (segmask_msg **msg);
SEGMASK_API void segmask_sub_free (segmask_sub **sub);

#ifdef __cplusplus
}
#endif

#endif /* SEGMASK_H */
