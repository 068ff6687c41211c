/* segd-status — one snapshot of what the daemon knows about its stream,
 * taken on the main loop for the status page, /api/status and /metrics.
 * The daemon fills it (segd_daemon_get_status); the HTTP side only reads
 * it, so neither needs the other's private fields.
 */
#ifndef SEGD_STATUS_H
#define SEGD_STATUS_H

#include <glib.h>

G_BEGIN_DECLS

typedef struct
{
  gchar *stream; /* [output] stream-name */
  gchar *source; /* the source's description, or NULL */
  /* starting, streaming, waiting, idle, stalled or stopping */
  const gchar *state;
  /* ok, waiting, network-error, blocked, idle, stalled or stopping: a
   * small fixed set, for metrics labels; `camera_detail` says more
   * (waiting for /dev/video0, network-error: Connection refused). */
  const gchar *camera_state;
  gchar *camera_detail;
  gchar *model;       /* model file name, NULL until loaded */
  gchar *model_error; /* NULL when the model is fine */
  gchar *status_line; /* what STATUS= says */
  gdouble fps, inference_ms;
  gboolean have_latency;
  gdouble latency_p50_ms, latency_p99_ms;
  gint subscribers;
  guint64 masks;
} SegdStatus;

/* Frees the strings and zeroes `status`; the struct itself is the
 * caller's (usually on the stack). */
void segd_status_clear (SegdStatus *status);

G_END_DECLS

#endif /* SEGD_STATUS_H */
