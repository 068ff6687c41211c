/* segd-log — a GLogWriterFunc. Info is shown by default (GLib hides it
 * unless G_MESSAGES_DEBUG is set) because a service's start-up choices,
 * such as which camera mode it picked, belong in the journal. The
 * verbosity is the writer's user data, not a global.
 */
#include "segd-log.h"

#include <stdio.h>
#include <unistd.h>

static const gchar *
level_name (GLogLevelFlags level)
{
  if (level & G_LOG_LEVEL_ERROR)
    return "error";
  if (level & G_LOG_LEVEL_CRITICAL)
    return "error";
  if (level & G_LOG_LEVEL_WARNING)
    return "warning";
  if (level & G_LOG_LEVEL_MESSAGE)
    return "notice";
  if (level & G_LOG_LEVEL_INFO)
    return "info";
  return "debug";
}

static GLogWriterOutput
writer (GLogLevelFlags level, const GLogField *fields, gsize n_fields,
    gpointer user_data)
{
  int verbosity = GPOINTER_TO_INT (user_data);
  const gchar *message = NULL, *domain = NULL;

  if ((level & G_LOG_LEVEL_DEBUG) && verbosity < 1)
    return G_LOG_WRITER_HANDLED;
  /* GStreamer and GLib chatter only with -vv. */
  for (gsize i = 0; i < n_fields; i++) {
    if (!g_strcmp0 (fields[i].key, "MESSAGE"))
      message = fields[i].value;
    else if (!g_strcmp0 (fields[i].key, "GLIB_DOMAIN"))
      domain = fields[i].value;
  }
  if (domain && g_strcmp0 (domain, "segd") && verbosity < 2
      && !(level
          & (G_LOG_LEVEL_ERROR | G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_WARNING)))
    return G_LOG_WRITER_HANDLED;

  if (g_log_writer_is_journald (fileno (stderr)))
    return g_log_writer_journald (level, fields, n_fields, user_data);

  fprintf (stderr, "segd: %s: %s\n", level_name (level),
      message ? message : "");
  fflush (stderr);
  return G_LOG_WRITER_HANDLED;
}

void
segd_log_init (int verbosity)
{
  g_log_set_writer_func (writer, GINT_TO_POINTER (verbosity), NULL);
}
