/* segd-hooks — what ties one segd process to its service manager, shared
 * by the one-stream daemon and the many-stream one: SIGTERM/SIGINT stop,
 * SIGHUP reloads, a status tick each second and, when systemd asked for a
 * watchdog, a tick at half its period.
 */
#ifndef SEGD_HOOKS_H
#define SEGD_HOOKS_H

#include <glib.h>

G_BEGIN_DECLS

typedef struct
{
  GSourceFunc stop, reload, status, watchdog;
} SegdHookFuncs;

/* GLib source ids of the installed hooks; 0 where none. */
typedef struct
{
  guint stop_ids[2], reload_id, status_id, watchdog_id;
} SegdHooks;

/* Installs every hook of `funcs` on the default main context, each called
 * with `data`. */
void
segd_hooks_add (SegdHooks *hooks, const SegdHookFuncs *funcs, gpointer data);

/* Ends reloading for good: a SIGHUP from now on is ignored, so that a
 * reload sent while the service stops cannot kill a clean shutdown. */
void segd_hooks_end_reload (SegdHooks *hooks);

/* Removes every hook still installed. */
void segd_hooks_clear (SegdHooks *hooks);

G_END_DECLS

#endif /* SEGD_HOOKS_H */
