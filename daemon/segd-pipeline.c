/* segd-pipeline — builds the fixed part of segd's pipeline from the
 * configuration: leaky queue -> segmenter -> leaky queue -> [tee with the
 * preview and record branches] -> the publishing sink, with the sink's
 * endpoint, socket permissions and CURVE key files set. The daemon
 * (segd-daemon.c) owns what happens to it afterwards.
 */
#include "segd-pipeline.h"

#include "segd-daemon.h"

#include <gio/gio.h>
#include <string.h>

gboolean
segd_has_property (GstElement *element, const gchar *name)
{
  return g_object_class_find_property (G_OBJECT_GET_CLASS (element), name)
      != NULL;
}

static GstElement *
make_element (const gchar *factory, const gchar *name, int *exit_status,
    GError **error)
{
  GstElement *e = gst_element_factory_make (factory, name);

  if (!e) {
    *exit_status = SEGD_EXIT_UNAVAILABLE;
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
        "GStreamer element \"%s\" is not installed (GST_PLUGIN_PATH: %s)",
        factory,
        g_getenv ("GST_PLUGIN_PATH") ? g_getenv ("GST_PLUGIN_PATH") : "unset");
  }
  return e;
}

static void
make_leaky (GstElement *queue, gint size)
{
  g_object_set (queue, "leaky", 2 /* downstream: drop the oldest */,
      "max-size-buffers", (guint) size, "max-size-bytes", 0, "max-size-time",
      (guint64) 0, NULL);
}

/* A branch off the tee: leaky queue ! videoconvert ! segoverlay !
 * videoconvert ! TAIL, where TAIL is a launch description. */
static gboolean
add_branch (GstElement *pipeline, const SegdConfig *config, GstElement *tee,
    const gchar *name, const gchar *overlay, const gchar *tail, GError **error)
{
  g_autofree gchar *desc =
      g_strdup_printf ("queue name=%s-queue ! "
                       "videoconvert ! segoverlay mode=%s ! videoconvert ! %s",
          name, overlay, tail);
  GstElement *bin = gst_parse_bin_from_description (desc, TRUE, error);
  g_autofree gchar *queue_name = g_strdup_printf ("%s-queue", name);
  GstElement *queue;

  if (!bin) {
    g_prefix_error (error, "[%s]: ", name);
    return FALSE;
  }
  queue = gst_bin_get_by_name (GST_BIN (bin), queue_name);
  make_leaky (queue, config->queue_size);
  gst_object_unref (queue);
  gst_bin_add (GST_BIN (pipeline), bin);
  if (!gst_element_link (tee, bin)) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED,
        "[%s]: cannot link the branch", name);
    return FALSE;
  }
  return TRUE;
}

/* Under systemd the unit's RuntimeDirectory= is the socket's home: each
 * segd@ instance has its own, readable by group segd only, so the socket
 * never exists outside a directory that guards it. systemd passes the
 * directories as a colon-separated list; the first is ours. */
static gchar *
default_endpoint (const gchar *stream_name)
{
  const gchar *env = g_getenv ("RUNTIME_DIRECTORY");
  g_autofree gchar *dir = NULL;

  if (env && env[0] == '/')
    dir = g_strndup (env, strcspn (env, ":"));
  else
    dir = g_strdup ("/run/segd");
  return g_strdup_printf ("ipc://%s/%s.sock", dir, stream_name);
}

/* A key file for the sink's `property`. A sink that cannot take it would
 * publish in the clear what the configuration meant to protect: fail
 * closed, naming the setting. */
static gboolean
set_key_file (GstElement *sink, const gchar *key, const gchar *property,
    const gchar *path, GError **error)
{
  if (!path[0])
    return TRUE;
  if (!segd_has_property (sink, property)) {
    g_set_error (error, SEGD_CONFIG_ERROR, SEGD_CONFIG_ERROR_VALUE,
        "[output] %s: the sink %s has no %s property (CURVE needs "
        "zmqmasksink)",
        key, GST_OBJECT_NAME (gst_element_get_factory (sink)), property);
    return FALSE;
  }
  g_object_set (sink, property, path, NULL);
  return TRUE;
}

static gboolean
configure_sink (GstElement *s, const SegdConfig *c, GError **error)
{
  if (segd_has_property (s, "stream-name"))
    g_object_set (s, "stream-name", c->stream_name, NULL);
  if (c->endpoint[0]) {
    if (segd_has_property (s, "endpoint"))
      g_object_set (s, "endpoint", c->endpoint, NULL);
    else
      g_warning ("[output] endpoint: %s has no endpoint property", c->sink);
  } else if (segd_has_property (s, "endpoint")) {
    g_autofree gchar *endpoint = default_endpoint (c->stream_name);

    g_object_set (s, "endpoint", endpoint, NULL);
  }
  if (segd_has_property (s, "ipc-mode"))
    g_object_set (s, "ipc-mode", (guint) c->ipc_mode, NULL);
  if (c->ipc_group[0] && segd_has_property (s, "ipc-group"))
    g_object_set (s, "ipc-group", c->ipc_group, NULL);
  if (segd_has_property (s, "encoding"))
    gst_util_set_object_arg (G_OBJECT (s), "encoding", c->encoding);
  if (c->sndhwm && segd_has_property (s, "sndhwm"))
    g_object_set (s, "sndhwm", c->sndhwm, NULL);
  if (!set_key_file (s, "curve-secret-key-file", "curve-secret-key-file",
          c->curve_secret_key_file, error)
      || !set_key_file (s, "curve-allowed-keys", "curve-allowed-keys-file",
          c->curve_allowed_keys, error))
    return FALSE;
  /* Publish at once (no clock wait) and reach PLAYING with no source
   * attached, so status keeps flowing while we wait for a camera. */
  if (segd_has_property (s, "sync"))
    g_object_set (s, "sync", FALSE, NULL);
  if (segd_has_property (s, "async"))
    g_object_set (s, "async", FALSE, NULL);
  return TRUE;
}

/* Whether a tcp:// endpoint reaches beyond loopback: a wildcard or an
 * address or interface other than the loopback ones (for libzmq's
 * "source;destination" form, the destination). */
static gboolean
tcp_beyond_loopback (const gchar *endpoint)
{
  g_autofree gchar *host = NULL;
  const gchar *start, *colon;

  if (!g_str_has_prefix (endpoint, "tcp://"))
    return FALSE;
  start = endpoint + strlen ("tcp://");
  if (strchr (start, ';'))
    start = strrchr (start, ';') + 1;
  colon = strrchr (start, ':');
  host = colon ? g_strndup (start, colon - start) : g_strdup (start);
  if (host[0] == '[' && host[strlen (host) - 1] == ']') {
    memmove (host, host + 1, strlen (host) - 2);
    host[strlen (host) - 2] = '\0';
  }
  return !(g_str_has_prefix (host, "127.") || !strcmp (host, "::1")
      || !g_ascii_strcasecmp (host, "localhost") || !strcmp (host, "lo"));
}

/* segd.service allows IP traffic with localhost only. Nothing fails at
 * start when subscribers on other hosts are shut out (their packets are
 * dropped, and the watchdog stays happy), so say it here, under systemd
 * only (INVOCATION_ID is set for every unit it starts). */
static void
warn_sandboxed_output (const SegdConfig *c)
{
  if (!g_getenv ("INVOCATION_ID") || !tcp_beyond_loopback (c->endpoint))
    return;
  g_warning ("[output] endpoint %s: segd.service allows localhost only "
             "(IPAddressDeny=any), so subscribers on other hosts cannot "
             "connect "
             "unless a drop-in such as " SEGD_EXAMPLES_DIR
             "/segd-network.conf, "
             "copied to /etc/systemd/system/segd.service.d/ (segd@.service.d/ "
             "for the instances), allows their network with IPAddressAllow=",
      c->endpoint);
}


gboolean
segd_pipeline_build (GstElement *pipeline, const SegdConfig *config,
    SegdPipelineParts *parts, int *exit_status, GError **error)
{
  GstElement *q1 = NULL, *q2 = NULL, *tee = NULL, *segmenter = NULL;
  GstElement *sink = NULL;

  memset (parts, 0, sizeof *parts);
  if (!(q1 = make_element ("queue", "frames", exit_status, error))
      || !(segmenter =
               make_element ("segmenter", "segmenter", exit_status, error))
      || !(q2 = make_element ("queue", "masks", exit_status, error))
      || !(sink = make_element (config->sink, "sink", exit_status, error))) {
    goto failed;
  }
  make_leaky (q1, config->queue_size);
  make_leaky (q2, config->queue_size);
  gst_util_set_object_arg (G_OBJECT (segmenter), "mode", config->mode);
  if (!configure_sink (sink, config, error)) {
    *exit_status = SEGD_EXIT_CONFIG;
    goto failed;
  }
  warn_sandboxed_output (config);

  gst_bin_add_many (GST_BIN (pipeline), q1, segmenter, q2, sink, NULL);
  if (config->preview || config->record) {
    if (!(tee = make_element ("tee", "branches", exit_status, error)))
      goto failed;
    g_object_set (tee, "allow-not-linked", TRUE, NULL);
    gst_bin_add (GST_BIN (pipeline), tee);
    if (!gst_element_link_many (q1, segmenter, tee, q2, sink, NULL)) {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED,
          "cannot link segmenter through the preview/record tee to %s",
          config->sink);
      goto failed;
    }
    if (config->preview
        && !add_branch (pipeline, config, tee, "preview",
            config->preview_overlay, config->preview_sink, error))
      goto failed;
    if (config->record) {
      g_autofree gchar *quoted = g_strescape (config->record_location, NULL);
      g_autofree gchar *tail = g_strdup_printf ("%s ! filesink "
                                                "location=\"%s\"",
          config->record_encoder, quoted);

      if (!add_branch (pipeline, config, tee, "record", "tint", tail, error))
        goto failed;
    }
  } else if (!gst_element_link_many (q1, segmenter, q2, sink, NULL)) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED,
        "cannot link segmenter to %s", config->sink);
    goto failed;
  }

  parts->head = q1;
  parts->segmenter = segmenter;
  parts->sink = sink;
  return TRUE;

failed:
  /* Whatever is not in the pipeline yet is still floating. */
  {
    GstElement *loose[] = {q1, segmenter, q2, sink, tee};

    for (guint i = 0; i < G_N_ELEMENTS (loose); i++)
      if (loose[i] && !GST_OBJECT_PARENT (loose[i]))
        gst_object_unref (gst_object_ref_sink (loose[i]));
  }
  return FALSE;
}
