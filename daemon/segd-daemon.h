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

void segd_daemon_free (SegdDaemon *daemon);

/* Fills `status` (cleared by the caller with segd_status_clear) with
 * what the daemon knows now. Main loop only. */
void segd_daemon_get_status (SegdDaemon *daemon, SegdStatus *status);

/* Loads the model file to check it, as --check-config does. */
gboolean segd_daemon_check_model (const SegdConfig *config, GError **error);

G_END_DECLS

#endif /* SEGD_DAEMON_H */
