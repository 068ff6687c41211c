/* The one harness that runs the real segd binary for tests/daemon and
 * tests/v4l2: the test owns segd's NOTIFY_SOCKET and counts READY, STATUS,
 * WATCHDOG and STOPPING from it, reads segd's stderr once it has exited and
 * subscribes to its ZeroMQ status. A failed CHECK exits the test at once
 * and takes segd with it (PR_SET_PDEATHSIG). Deadlines are generous;
 * nothing is asserted from a sleep.
 */
#ifndef SEGD_TEST_HARNESS_H
#define SEGD_TEST_HARNESS_H

#include <gio/gio.h>
#include <segmask.h>

typedef struct
{
  gchar *dir; /* notify socket, etc/; see segd_dir () */
  int sock;
  GSubprocess *proc;
  gchar *last_status;
  gchar *err_text; /* stderr, once read */
  guint watchdogs;
  gboolean ready, stopping;
  /* Extra environment: NAME, VALUE pairs, NULL-terminated (optional). */
  const gchar *const *env;
  /* When set, segd publishes on zmqmasksink as this stream, at `endpoint`
   * (ipc://DIR/STREAM.sock unless the test set one; freed by segd_clear),
   * instead of into a fakesink. */
  const gchar *stream;
  gchar *endpoint;
} Segd;

/* The path of model `name` in $SEG_MODEL_DIR (transfer full). */
gchar *model (const gchar *name);

/* The test's temporary directory, made on first use; segd_clear removes
 * it with everything in it. */
const gchar *segd_dir (Segd *s);

/* Starts $SEGD with --config-dir DIR/etc, the selfie model (unless `args`
 * has --config), the sink (see `stream`), no status page, then `args`: a
 * later --set wins. */
void segd_start (Segd *s, const gchar *const *args);

/* Reads datagrams until one contains `needle` (or the deadline); returns
 * it (transfer full) or NULL. */
gchar *segd_wait (Segd *s, const gchar *needle, gdouble seconds);

/* segd_wait, or the test fails: "`what`; last: STATUS". */
void
segd_expect (Segd *s, const gchar *needle, gdouble seconds, const gchar *what);

/* Reads what segd has sent without waiting. sd_notify blocks on a full
 * datagram queue (10 deep by default), so a test that waits on something
 * else must keep draining or it would stall segd's main loop. */
void segd_drain (Segd *s);

/* The "N masks" count of the last STATUS. */
guint64 segd_masks (Segd *s);

/* Waits until STATUS reports at least `n` masks; FALSE at the deadline. */
gboolean segd_masks_within (Segd *s, guint64 n, gdouble seconds);

/* segd_masks_within, or the test fails naming the count and the status. */
void segd_wait_masks (Segd *s, guint64 n, gdouble seconds);

/* Whether segd has exited (and GLib has reaped it). */
gboolean segd_exited (Segd *s);

/* Waits for segd to exit, draining the notify socket; returns its exit
 * status (128 + the signal if killed), -1 on timeout (then it is killed). */
int segd_wait_exit (Segd *s, gdouble seconds);

/* What segd wrote to stderr, once it has exited (read once, kept in
 * err_text; transfer full). */
gchar *segd_stderr (Segd *s);

/* SIGTERM: exit status 0 through the orderly path, without "did not flush
 * in time" in stderr. Returns that stderr (owned by `s`: err_text). */
const gchar *segd_stop (Segd *s);

/* Closes the socket, frees all and removes the directory tree. */
void segd_clear (Segd *s);

/* Removes `dir` and all in it (an ipc socket stays behind g_rmdir). */
void remove_tree (const gchar *dir);

/* Writes printf-style text to `path`, or the test fails. */
void write_text (const gchar *path, const gchar *fmt, ...) G_GNUC_PRINTF (2, 3);

/* ASAN_OPTIONS as the test has it, with `more` appended (transfer full). */
gchar *asan_options_with (const gchar *more);

/* Subscribes to the status (only) of `stream` at `endpoint`. */
segmask_sub *status_sub_new (const gchar *endpoint, const gchar *stream);

/* Waits for a status message on `sub` whose `key` line starts with `want`;
 * returns that line's value (transfer full) or NULL. Keeps draining segd's
 * notify socket meanwhile. */
gchar *status_wait_field (segmask_sub *sub, Segd *s, const gchar *key,
    const gchar *want, gdouble seconds);

/* Masks `sub` receives within `seconds`, stopping early at `enough`;
 * drains segd's notify socket meanwhile. */
guint sub_count_masks_until (segmask_sub *sub, Segd *s, guint enough,
    gdouble seconds);

#endif
