/* segd-notify — thin wrappers over sd_notify(3) and sd_watchdog_enabled(3).
 * Return values are checked and logged at debug level only: a manager that
 * went away must not take the stream down with it.
 */
#include "segd-notify.h"

#ifdef HAVE_LIBSYSTEMD
#include <systemd/sd-daemon.h>
#include <time.h>

static void
send_state (const gchar *state)
{
  int r = sd_notify (0, state);

  if (r < 0)
    g_debug ("sd_notify failed: %s", g_strerror (-r));
}

void
segd_notify_ready (const gchar *status)
{
  g_autofree gchar *s = g_strdup_printf ("READY=1\nSTATUS=%s", status);

  send_state (s);
}

void
segd_notify_status (const gchar *status)
{
  g_autofree gchar *s = g_strdup_printf ("STATUS=%s", status);

  send_state (s);
}

void
segd_notify_watchdog (void)
{
  send_state ("WATCHDOG=1");
}

void
segd_notify_stopping (void)
{
  send_state ("STOPPING=1");
}

void
segd_notify_reloading (gboolean reloading)
{
  if (reloading) {
    struct timespec ts;
    g_autofree gchar *s = NULL;

    clock_gettime (CLOCK_MONOTONIC, &ts);
    s = g_strdup_printf ("RELOADING=1\nMONOTONIC_USEC=%" G_GUINT64_FORMAT,
        (guint64) ts.tv_sec * 1000000 + ts.tv_nsec / 1000);
    send_state (s);
  } else {
    send_state ("READY=1");
  }
}

guint64
segd_notify_watchdog_usec (void)
{
  uint64_t usec = 0;

  if (sd_watchdog_enabled (0, &usec) <= 0)
    return 0;
  return usec;
}

#else

void
segd_notify_ready (const gchar *status)
{
}

void
segd_notify_status (const gchar *status)
{
}

void
segd_notify_watchdog (void)
{
}

void
segd_notify_stopping (void)
{
}

void
segd_notify_reloading (gboolean reloading)
{
}

guint64
segd_notify_watchdog_usec (void)
{
  return 0;
}

#endif
