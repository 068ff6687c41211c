/* segd-hooks — signals and periodic ticks of a segd process (see
 * segd-hooks.h). */
#include "segd-hooks.h"

#include "segd-notify.h"

#include <glib-unix.h>
#include <signal.h>

void
segd_hooks_add (SegdHooks *hooks, const SegdHookFuncs *funcs, gpointer data)
{
  guint64 wd_usec = segd_notify_watchdog_usec ();

  hooks->stop_ids[0] = g_unix_signal_add (SIGTERM, funcs->stop, data);
  hooks->stop_ids[1] = g_unix_signal_add (SIGINT, funcs->stop, data);
  hooks->reload_id = g_unix_signal_add (SIGHUP, funcs->reload, data);
  hooks->status_id = g_timeout_add_seconds (1, funcs->status, data);
  if (wd_usec)
    hooks->watchdog_id =
        g_timeout_add (MAX (wd_usec / 2000, 1), funcs->watchdog, data);
}

static gboolean
ignore_signal (gpointer data)
{
  return G_SOURCE_CONTINUE;
}

void
segd_hooks_end_reload (SegdHooks *hooks)
{
  /* GLib gives a signal back its default action (for SIGHUP: exit) when
   * the last source for it goes, so a no-op source that lives until exit
   * takes over before the reload one goes; signal (SIG_IGN) after the
   * removal would leave a window that a reload loop does hit. */
  g_unix_signal_add (SIGHUP, ignore_signal, NULL);
  g_clear_handle_id (&hooks->reload_id, g_source_remove);
}

void
segd_hooks_clear (SegdHooks *hooks)
{
  g_clear_handle_id (&hooks->stop_ids[0], g_source_remove);
  g_clear_handle_id (&hooks->stop_ids[1], g_source_remove);
  g_clear_handle_id (&hooks->reload_id, g_source_remove);
  g_clear_handle_id (&hooks->status_id, g_source_remove);
  g_clear_handle_id (&hooks->watchdog_id, g_source_remove);
}
