/* segd-daemon-private — the SegdDaemon struct, shared by the files that
 * make up the daemon (segd-daemon.c runs it, segd-status.c reports on it)
 * and by nothing else: segd-daemon.h stays the only interface for main,
 * segd-streams.c and the tests.
 *
 * The main loop owns every field except those under `lock`, which the sink
 * pad probe writes from the streaming thread.
 */
#ifndef SEGD_DAEMON_PRIVATE_H
#define SEGD_DAEMON_PRIVATE_H

#include "segd-daemon.h"
#include "segd-hooks.h"
#include "segd-hotplug.h"
#include "segd-http.h"
#include "segd-source.h"

#include <gio/gio.h>
#include <gst/gst.h>

G_BEGIN_DECLS

#define LATENCY_SAMPLES 1024

typedef enum
{
  STATE_STARTING, /* source added, no mask yet */
  STATE_RUNNING,  /* masks flow */
  STATE_WAITING,  /* the source is missing or failed; retrying */
  STATE_IDLE,     /* on-demand, nobody subscribed */
  STATE_ENDED,    /* the source stopped sending (test num-buffers) */
  STATE_STOPPING,
} State;

struct _SegdDaemon
{
  SegdConfig *config;
  gchar *config_dir;
  GStrv files, overrides;

  GMainLoop *loop;
  GstElement *pipeline, *head, *segmenter, *sink;
  GstElement *source; /* NULL while waiting or idle */
  gchar *source_desc;
  SegdSourceType source_type; /* what the source currently is */
  gchar *device_path;         /* v4l2: the device we wait for */

  State state;
  gchar *state_detail;
  /* Why the last attempt to open the source failed, when that is worth a
   * camera_state of its own ("network-error: ..."); kept while retrying,
   * cleared once masks flow. */
  gchar *camera_error;
  /* The connection test after a network camera failed (see probe_network)
   * and the last network warning logged, so each is logged once. */
  GCancellable *probe;
  gchar *network_logged;
  gboolean ready_sent;
  int exit_status;
  GError *error; /* why the run ended with exit_status, for main */

  guint retry_id, grace_id, stop_id, bus_id;
  SegdHooks hooks;
  guint retry_ms;
  gint64 last_retry_us;

  /* Written by the sink pad probe (streaming thread). */
  GMutex lock;
  guint64 masks;
  gint64 last_mask_us;
  GstClockTime latency[LATENCY_SAMPLES];
  guint latency_n, latency_pos;
  GstSegment segment;
  gboolean first_mask_posted;

  /* From bus messages, main loop only. */
  gdouble fps, inference_ms;
  gint subscribers;
  gchar *model_name;
  gchar *model_error;
  gchar *model_identity; /* of the last model given to the element */
  guint64 masks_at_stall_check;

  SegdHotplug *hotplug; /* udev: a returning camera retries at once */
  SegdHttp *http;       /* NULL when [http] is off */

  /* One stream of several (segd-streams.c): the loop, signals and systemd
   * notifications belong to SegdStreams. */
  gboolean embedded;
};

/* ---- segd-status.c ---- */

/* Tells systemd (STATUS=) and the sink (camera-state, model-state) what
 * the stream is doing now; for one stream of several, the sink's status
 * message instead, with the engine's counters. Main loop only: call it
 * after every change of state, model or subscribers. */
void segd_daemon_update_status (SegdDaemon *daemon);

/* p50 and p99 of the recent capture-to-publish latencies, in ms; FALSE
 * (and *p50, *p99 untouched) before the first mask. Takes daemon->lock. */
gboolean segd_daemon_latency_percentiles (SegdDaemon *daemon, gdouble *p50,
    gdouble *p99);

/* The masks the sink probe counted on the streaming thread. Takes
 * daemon->lock. */
guint64 segd_daemon_masks_published (SegdDaemon *daemon);

G_END_DECLS

#endif /* SEGD_DAEMON_PRIVATE_H */
