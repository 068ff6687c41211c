/* segd — publishes segmentation masks of a camera (or demo, test, file or
 * URI source) over ZeroMQ as a long-running service. main parses the
 * command line, reads the configuration and hands over to SegdDaemon;
 * errors come back as GError and are printed here, once.
 */
#include "segd-config.h"
#include "segd-streams.h"
#include "segd-daemon.h"
#include "segd-log.h"
#include "segd-v4l2.h"

#include <gst/gst.h>
#include <stdio.h>

static void
print_devices (void)
{
  g_autoptr (GPtrArray) devices = segd_v4l2_list ();

  if (!devices->len) {
    printf ("no V4L2 capture device found\n");
    return;
  }
  for (guint i = 0; i < devices->len; i++) {
    SegdV4l2Device *dev = devices->pdata[i];

    printf ("%s: %s (%s, %s)\n", dev->path, dev->card, dev->driver,
        dev->bus_info);
    for (guint m = 0; m < dev->modes->len; m++) {
      SegdV4l2Mode *mode = &g_array_index (dev->modes, SegdV4l2Mode, m);
      gchar fcc[5];

      printf ("  %s %ux%u at %u/%u fps\n",
          segd_v4l2_fourcc_to_string (mode->fourcc, fcc), mode->width,
          mode->height, mode->fps_n, mode->fps_d);
    }
  }
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
  g_auto (GStrv) files = NULL, overrides = NULL;
  g_autofree gchar *config_dir = NULL;
  gboolean check = FALSE, print = FALSE, list = FALSE, version = FALSE;
  gint verbose = 0;
  g_autoptr (GError) error = NULL;
  g_autoptr (GOptionContext) ctx = NULL;
  SegdConfigSources sources;
  SegdConfig *config;
  SegdDaemon *daemon;
  int status;
  GOptionEntry entries[] = {{"config", 'c', 0, G_OPTION_ARG_FILENAME_ARRAY,
                                &files,
                                "Read FILE after the system configuration "
                                "(repeatable)",
                                "FILE"},
      {"set", 's', 0, G_OPTION_ARG_STRING_ARRAY, &overrides,
          "Override one key (repeatable)", "SECTION.KEY=VALUE"},
      {"config-dir", 0, 0, G_OPTION_ARG_FILENAME, &config_dir,
          "Directory with segd.conf and segd.conf.d/ (default " SEGD_CONFIG_DIR
          ")",
          "DIR"},
      {"check-config", 0, 0, G_OPTION_ARG_NONE, &check,
          "Validate the configuration and the model, then exit", NULL},
      {"print-config", 0, 0, G_OPTION_ARG_NONE, &print,
          "Print the effective configuration and exit", NULL},
      {"list-devices", 0, 0, G_OPTION_ARG_NONE, &list,
          "List V4L2 capture devices and their modes, then exit", NULL},
      {"verbose", 'v', G_OPTION_FLAG_NO_ARG, G_OPTION_ARG_CALLBACK,
          (gpointer) count_verbose, "More log output (-vv: GStreamer's too)",
          NULL},
      {"version", 0, 0, G_OPTION_ARG_NONE, &version, "Print the version", NULL},
      G_OPTION_ENTRY_NULL};

  GOptionGroup *group;

  ctx = g_option_context_new ("- publish segmentation masks");
  /* The group's user data reaches the -v callback: no global counter. */
  group = g_option_group_new ("segd", "segd options", "segd options", &verbose,
      NULL);
  g_option_group_add_entries (group, entries);
  g_option_context_set_main_group (ctx, group);
  g_option_context_add_group (ctx, gst_init_get_option_group ());
  if (!g_option_context_parse (ctx, &argc, &argv, &error)) {
    fprintf (stderr, "segd: %s\n", error->message);
    return 64; /* EX_USAGE */
  }
  if (version) {
    printf ("segd %s\n", SEGD_VERSION);
    return 0;
  }
  segd_log_init (verbose);
  if (list) {
    print_devices ();
    return 0;
  }

  sources.config_dir = config_dir;
  sources.files = (const gchar *const *) files;
  sources.overrides = (const gchar *const *) overrides;
  config = segd_config_load (&sources, &error);
  if (!config) {
    fprintf (stderr, "segd: %s\n", error->message);
    return SEGD_EXIT_CONFIG;
  }
  if (print) {
    g_autofree gchar *text = segd_config_to_string (config);

    fputs (text, stdout);
    segd_config_free (config);
    return 0;
  }
  if (!segd_daemon_check_model (config, &error)) {
    fprintf (stderr, "segd: %s\n", error->message);
    segd_config_free (config);
    return SEGD_EXIT_CONFIG;
  }
  if (check) {
    printf ("configuration OK\n");
    segd_config_free (config);
    return 0;
  }

  if (config->streams->len > 0) {
#ifdef SEGD_HAVE_STREAMS
    SegdStreams *streams = segd_streams_new (config, &sources, &status, &error);

    if (!streams) {
      fprintf (stderr, "segd: %s\n", error->message);
      return status;
    }
    status = segd_streams_run (streams, &error);
    segd_streams_free (streams);
    if (error)
      fprintf (stderr, "segd: %s\n", error->message);
    return status;
#else
    fprintf (stderr,
        "segd: [stream NAME] sections need segd built with "
        "ZeroMQ (-Dzmq=enabled)\n");
    segd_config_free (config);
    return SEGD_EXIT_CONFIG;
#endif
  }
  daemon = segd_daemon_new (config, &sources, &status, &error);
  if (!daemon) {
    fprintf (stderr, "segd: %s\n", error->message);
    return status;
  }
  status = segd_daemon_run (daemon, &error);
  segd_daemon_free (daemon);
  if (error)
    fprintf (stderr, "segd: %s\n", error->message);
  return status;
}
