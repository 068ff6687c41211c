/* segd-daemon — the running service: the pipeline source -> segmenter ->
 * publishing sink, the source's lifecycle (waiting with backoff, on-demand),
 * signals, config reload, systemd notifications and status.
 */
#ifndef SEGD_DAEMON_H
#define SEGD_DAEMON_H

#include "segd-config.h"
#include "segd-status.h"

#include <glib.h>

G_BEGIN_DECLS

typedef struct _SegdDaemon SegdDaemon;

/* Exit statuses (sysexits.h). */
#define SEGD_EXIT_OK 0
#define SEGD_EXIT_SOFTWARE 70    /* the pipeline failed while running */
#define SEGD_EXIT_UNAVAILABLE 69 /* a GStreamer element is missing */
#define SEGD_EXIT_CONFIG 78

/* Builds the pipeline for `config` (transfer full: the daemon owns it from
 * here on, and frees it when building fails too). `sources` is kept (the
 * strings are copied) to read the configuration again on SIGHUP. Returns
 * NULL with `error` set when the pipeline cannot be built; *exit_status
 * then says why. (transfer full): free with segd_daemon_free. */
SegdDaemon *segd_daemon_new (SegdConfig *config,
    const SegdConfigSources *sources, int *exit_status, GError **error);

/* Runs until SIGTERM/SIGINT, the end of a file played once or a fatal
 * error; returns the exit status. A non-zero status comes with `error`
 * set to the reason, for the caller to print. */
int segd_daemon_run (SegdDaemon *daemon, GError **error);

/* ---- one stream of several (segd-streams.c) ---- */

/* A daemon for one stream that runs on `loop` (a reference is taken),
 * shares the segmenter engine `engine`, publishes on `endpoint` when not
 * NULL, and leaves signals and systemd notifications to its owner.
 * (transfer full) as segd_daemon_new. */
SegdDaemon *segd_daemon_new_stream (SegdConfig *config, GMainLoop *loop,
    const gchar *engine, const gchar *endpoint, int *exit_status,
    GError **error);

/* Sets the pipeline playing and opens the source (or waits on demand). */
void segd_daemon_start (SegdDaemon *daemon);

/* Applies a newly loaded configuration (transfer full), as SIGHUP does:
 * the model, weight and budget at once, the source reopened if it
 * changed. */
void segd_daemon_reconfigure (SegdDaemon *daemon, SegdConfig *config);

/* Masks flowing, or deliberately without a source (waiting, idle). */
gboolean segd_daemon_is_healthy (SegdDaemon *daemon);

/* (transfer none) the configuration in use. */
const SegdConfig *segd_daemon_get_config (SegdDaemon *daemon);

/* SEGD_EXIT_OK, or why the loop was told to stop. */
int segd_daemon_get_exit_status (SegdDaemon *daemon);

/* (transfer full) the run-time error that stopped the loop, or NULL. */
GError *segd_daemon_take_error (SegdDaemon *daemon);

/* The one-line status systemd shows (transfer full). */
gchar *segd_daemon_get_status_line (SegdDaemon *daemon);

void segd_daemon_free (SegdDaemon *daemon);

/* Fills `status` (cleared by the caller with segd_status_clear) with
 * what the daemon knows now. Main loop only. */
void segd_daemon_get_status (SegdDaemon *daemon, SegdStatus *status);

/* Loads the model file to check it, as --check-config does. */
gboolean segd_daemon_check_model (const SegdConfig *config, GError **error);

G_END_DECLS

#endif /* SEGD_DAEMON_H */
