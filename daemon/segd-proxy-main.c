/* segd-proxy — forwards segd mask streams of several hosts to subscribers
 * through one endpoint. main parses the command line, loads the
 * configuration, and runs a GLib main loop for signals and the service
 * manager (READY, STATUS, WATCHDOG) while SegdProxy forwards in its own
 * thread. Errors come back as GError and are printed here, once.
 */
#include "segd-log.h"
#include "segd-notify.h"
#include "segd-proxy-config.h"
#include "segd-proxy.h"

#include <glib-unix.h>
#include <stdio.h>

#define EX_USAGE 64
#define EX_UNAVAILABLE 69
#define EX_SOFTWARE 70
#define EX_CONFIG 78

typedef struct
{
  GMainLoop *loop;
  SegdProxy *proxy;
  guint64 last_ticks;
  int status;
} App;

static gboolean
on_signal (gpointer data)
{
  App *app = data;

  g_message ("stopping");
  segd_notify_stopping ();
  g_main_loop_quit (app->loop);
  return G_SOURCE_CONTINUE;
}

static gboolean
on_status (gpointer data)
{
  App *app = data;
  SegdProxySummary s;
  g_autofree gchar *text = NULL;

  segd_proxy_get_summary (app->proxy, &s);
  if (s.failed) {
    app->status = EX_SOFTWARE;
    g_main_loop_quit (app->loop);
    return G_SOURCE_REMOVE;
  }
  text = g_strdup_printf ("%u of %u upstreams up, %.1f masks/s forwarded, "
                          "%u topics subscribed",
      s.upstreams_up, s.upstreams, s.masks_per_s, s.subscriptions);
  segd_notify_status (text);
  return G_SOURCE_CONTINUE;
}

/* Pinged only while the forwarding loop goes round (it wakes at least once
 * a second for the status): a wedged forwarder gets restarted. Not tied to
 * masks flowing: with no subscriber a proxy rightly forwards nothing. */
static gboolean
on_watchdog (gpointer data)
{
  App *app = data;
  SegdProxySummary s;

  segd_proxy_get_summary (app->proxy, &s);
  if (s.loop_ticks != app->last_ticks && !s.failed)
    segd_notify_watchdog ();
  app->last_ticks = s.loop_ticks;
  return G_SOURCE_CONTINUE;
}

static gboolean
count_verbose (const gchar *name, const gchar *value, gpointer data,
    GError **error)
{
  (*(gint *) data)++;
  return TRUE;
}

int
main (int argc, char **argv)
{
  g_auto (GStrv) files = NULL, overrides = NULL, connects = NULL;
  g_autofree gchar *config_dir = NULL;
  gboolean check = FALSE, print = FALSE, version = FALSE;
  gint verbose = 0;
  g_autoptr (GError) error = NULL;
  g_autoptr (GOptionContext) ctx = NULL;
  g_autoptr (SegdProxyConfig) config = NULL;
  SegdProxyConfigSources sources;
  GOptionGroup *group;
  App app = {0};
  guint64 wd_usec;
  GOptionEntry entries[] =
      {{"config", 'c', 0, G_OPTION_ARG_FILENAME_ARRAY, &files,
           "Read FILE after the system configuration (repeatable)", "FILE"},
          {"set", 's', 0, G_OPTION_ARG_STRING_ARRAY, &overrides,
              "Override one key (repeatable)", "SECTION.KEY=VALUE"},
          {"connect", 0, 0, G_OPTION_ARG_STRING_ARRAY, &connects,
              "Add an upstream publisher (repeatable)",
              "ENDPOINT[,SERVER-KEY-FILE]"},
          {"config-dir", 0, 0, G_OPTION_ARG_FILENAME, &config_dir,
              "Directory with segd-proxy.conf and segd-proxy.conf.d/ "
              "(default " SEGD_CONFIG_DIR ")",
              "DIR"},
          {"check-config", 0, 0, G_OPTION_ARG_NONE, &check,
              "Validate the configuration and the key files, then exit", NULL},
          {"print-config", 0, 0, G_OPTION_ARG_NONE, &print,
              "Print the effective configuration and exit", NULL},
          {"verbose", 'v', G_OPTION_FLAG_NO_ARG, G_OPTION_ARG_CALLBACK,
              (gpointer) count_verbose, "More log output", NULL},
          {"version", 0, 0, G_OPTION_ARG_NONE, &version, "Print the version",
              NULL},
          G_OPTION_ENTRY_NULL};

  ctx = g_option_context_new ("- forward segd mask streams of several hosts");
  group = g_option_group_new ("segd-proxy", "segd-proxy options",
      "segd-proxy options", &verbose, NULL);
  g_option_group_add_entries (group, entries);
  g_option_context_set_main_group (ctx, group);
  if (!g_option_context_parse (ctx, &argc, &argv, &error)) {
    fprintf (stderr, "segd-proxy: %s\n", error->message);
    return EX_USAGE;
  }
  if (version) {
    printf ("segd-proxy %s\n", SEGD_VERSION);
    return 0;
  }
  segd_log_init (verbose);

  sources.config_dir = config_dir;
  sources.files = (const gchar *const *) files;
  sources.overrides = (const gchar *const *) overrides;
  sources.connects = (const gchar *const *) connects;
  if (!(config = segd_proxy_config_load (&sources, &error))) {
    fprintf (stderr, "segd-proxy: %s\n", error->message);
    return EX_CONFIG;
  }
  if (print) {
    g_autofree gchar *text = segd_proxy_config_to_string (config);

    fputs (text, stdout);
    return 0;
  }
  if (check) {
    printf ("configuration OK\n");
    return 0;
  }

  if (!(app.proxy = segd_proxy_new (config, &error))) {
    fprintf (stderr, "segd-proxy: %s\n", error->message);
    return EX_UNAVAILABLE;
  }
  g_message ("forwarding %u upstream(s) to %s as status/%s",
      config->upstreams->len, config->bind, config->name);
  app.loop = g_main_loop_new (NULL, FALSE);
  app.status = 0;
  g_unix_signal_add (SIGTERM, on_signal, &app);
  g_unix_signal_add (SIGINT, on_signal, &app);
  g_timeout_add_seconds (1, on_status, &app);
  wd_usec = segd_notify_watchdog_usec ();
  if (wd_usec)
    g_timeout_add (MAX (wd_usec / 2000, 1), on_watchdog, &app);
  /* Ready once bound and connecting: a proxy has nothing else to wait
   * for, and masks flow only when someone subscribes. */
  segd_notify_ready ("forwarding");

  g_main_loop_run (app.loop);

  segd_proxy_free (&app.proxy);
  g_main_loop_unref (app.loop);
  return app.status;
}
