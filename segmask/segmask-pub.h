/* segmask-pub — the publishing side of the segd mask protocol
 * (docs/protocol.md): an XPUB socket owned by one publisher thread, a
 * small hand-off ring that never blocks the caller, CURVE with an
 * allow-list answered by the library's own ZAP handler, per-connection
 * subscription accounting, the newest-mask replay to late joiners and the
 * once-a-second status message. zmqmasksink is a thin element on top.
 *
 * This is the trust boundary of the publisher: keys are loaded here and
 * misconfiguration fails closed (the error names the option, the file and
 * the line); what peers send ((un)subscribe frames, ZAP requests) is
 * handled here and can only change the sending connection's own state.
 * See docs/security.md. The library never prints, exits or aborts. */
#ifndef SEGMASK_PUB_H
#define SEGMASK_PUB_H

#include "segmask.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Releases what keeps a pushed mask's pointers alive. Same signature as
 * libzmq's zmq_free_fn: `data` is the mask plane, `owner` the mask's
 * owner. May run on any thread (libzmq's I/O thread for raw payloads). */
typedef void (*segmask_release_func) (void *data, void *owner);

/* Called on the publisher thread whenever the number of subscribers
 * changes. Must not call back into the publisher. */
typedef void (*segmask_pub_subscribers_func) (void *user, int subscribers);

typedef enum
{
  SEGMASK_LOG_ERROR = 0,
  SEGMASK_LOG_WARNING = 1,
  SEGMASK_LOG_INFO = 2,
  SEGMASK_LOG_DEBUG = 3,
} segmask_log_level;

/* Called on the publisher thread with a sentence (transfer none). */
typedef void (*segmask_pub_log_func) (void *user, segmask_log_level level,
    const char *message);

typedef struct
{
  /* Bind to this (tcp://, ipc://), or connect with a leading '>'; a
   * leading '@' binds explicitly. Required. */
  const char *endpoint;
  const char *stream; /* 1..SEGMASK_MAX_STRING bytes, required */
  segmask_encoding encoding;
  int zstd_level;
  int sndhwm;      /* per-subscriber queue; 0: unlimited */
  int latest_only; /* SNDHWM 1 and one mask in the ring */
  /* CURVE. NULL means "not set"; a set value that cannot be used (even
   * "") is an error. Secret: Z85 text or a key file / czmq secret
   * certificate, not both. Allowed client keys: Z85 list and/or a file or
   * czmq certificate directory; a set but empty list admits nobody. */
  const char *curve_secret_key;
  const char *curve_secret_key_file;
  const char *curve_allowed_keys;
  const char *curve_allowed_keys_file;
  /* ipc:// binds: file mode (0: leave as created) and group (NULL/"":
   * leave) of the socket, applied before any client can connect. */
  unsigned ipc_mode;
  const char *ipc_group;
  segmask_pub_subscribers_func on_subscribers;
  segmask_pub_log_func log;
  void *user; /* passed to the two callbacks */
} segmask_pub_options;

/* One mask to publish. Every pointer must stay valid until `release`
 * (`plane`, `owner`) is called; the publisher calls it exactly once. */
typedef struct
{
  const uint8_t *plane;
  segmask_kind kind;
  uint32_t width, height, stride;
  unsigned num_classes;
  const char *const *labels; /* num_classes strings, or NULL */
  const char *model_name;
  const char *model_sha256;
  uint32_t frame_width, frame_height;
  uint64_t capture_realtime_ns;
  uint64_t capture_running_ns; /* SEGMASK_TIME_NONE: unknown */
  uint64_t inference_ns;
  uint64_t mask_age_ns;
  uint64_t mask_age_frames;
  segmask_release_func release;
  void *owner;
} segmask_pub_mask;

typedef struct
{
  uint64_t published; /* masks sent */
  uint64_t dropped;   /* masks not sent (ring full, send failed) */
  uint64_t bytes;     /* bytes of the masks sent */
  uint64_t rejected;  /* connections refused by ZAP */
  uint64_t replayed;  /* newest-mask replays to late joiners */
  int subscribers;    /* connections subscribed to the masks */
} segmask_pub_stats;

typedef struct segmask_pub segmask_pub;

SEGMASK_API void segmask_pub_options_init (segmask_pub_options *opt);

/* Loads the keys, binds or connects, starts the publisher thread.
 * Returns OK with `*out` (transfer full), or ERR_INVALID (bad option,
 * unusable key, endpoint in use), ERR_ZMQ, ERR_NOMEM with a sentence in
 * `err` that names the option. */
SEGMASK_API segmask_status segmask_pub_new (const segmask_pub_options *opt,
    segmask_pub **out, char *err, size_t err_len);

/* Hands a mask to the publisher thread; never blocks and never waits for
 * the network. When the ring is full the oldest mask is dropped and
 * counted. Takes over `mask->owner` in every case (transfer full). */
SEGMASK_API void
segmask_pub_push (segmask_pub *pub, const segmask_pub_mask *mask);

/* Sends end-of-stream after the masks already pushed. */
SEGMASK_API void segmask_pub_eos (segmask_pub *pub);

/* Sets the camera_state / model_state status values (copied; NULL keeps
 * the current one). Line breaks are sent as spaces. */
SEGMASK_API segmask_status segmask_pub_set_state (segmask_pub *pub,
    const char *camera_state, const char *model_state);

/* Further "key=value" lines for the status message, after the standard
 * keys (copied; NULL or "" removes them): an application's own counters,
 * such as segd's per-stream scheduler figures. */
SEGMASK_API segmask_status segmask_pub_set_extra_status (segmask_pub *pub,
    const char *lines);

SEGMASK_API void
segmask_pub_get_stats (segmask_pub *pub, segmask_pub_stats *stats);

/* The endpoint as bound (e.g. the port of tcp://...:*). (transfer none) */
SEGMASK_API const char *segmask_pub_endpoint (const segmask_pub *pub);

/* Publishes what is queued, stops the thread, closes the socket (bounded
 * linger) and frees; NULLs `*pub`. NULL is fine. */
SEGMASK_API void segmask_pub_free (segmask_pub **pub);

#ifdef __cplusplus
}
#endif

#endif /* SEGMASK_PUB_H */
