/* segd-notify — the systemd service manager protocol (READY, STATUS,
 * WATCHDOG, STOPPING) through libsystemd when it was built in; without it,
 * or when NOTIFY_SOCKET is unset, every call is a no-op so segd runs the
 * same outside systemd.
 */
#ifndef SEGD_NOTIFY_H
#define SEGD_NOTIFY_H

#include <glib.h>

G_BEGIN_DECLS

/* Sends READY=1 plus a STATUS line. */
void segd_notify_ready (const gchar *status);

/* Sends STATUS=<status>. */
void segd_notify_status (const gchar *status);

void segd_notify_watchdog (void);

void segd_notify_stopping (void);

/* Sends RELOADING=1 (MONOTONIC_USEC too) or, after a reload, READY=1. */
void segd_notify_reloading (gboolean reloading);

/* The watchdog period the manager asked for in microseconds (0: none). */
guint64 segd_notify_watchdog_usec (void);

G_END_DECLS

#endif /* SEGD_NOTIFY_H */
