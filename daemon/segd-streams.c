/* segd-streams — runs each [stream NAME] as its own SegdDaemon (its own
 * pipeline, source lifecycle and reload logic, unchanged from the
 * one-camera segd) on one main loop. What the streams share lives here or
 * in the engine:
 *
 *  - the segmenter engine "segd": every stream's segmenter names it, so
 *    the model is loaded once and one scheduler splits the workers by
 *    weight within each stream's budget (plugins/segsched.h);
 *  - the socket: streams without an endpoint of their own connect their
 *    publisher to a private ipc:// socket in a 0700 directory, and a
 *    zmq_proxy forwards to the one public XPUB socket, so a subscriber
 *    reads every stream (topics mask/NAME, status/NAME) from one endpoint.
 *    The public XPUB is verbose: each subscriber's subscription reaches
 *    the publishers, so late joiners still get the newest mask;
 *  - signals, READY, STATUS= and the watchdog (pinged only while every
 *    stream is healthy);
 *  - the [http] port: the first stream serves its page there; a page
 *    over every stream is still to be written.
 *
 * SIGHUP reads the configuration again and compares stream by stream: a
 * removed stream's pipeline stops, a new one starts, a changed one gets
 * segd_daemon_reconfigure (its source reopened only if the source
 * changed); the others are not touched.
 */
#include "segd-streams.h"

#include "segd-daemon.h"
#include "segd-hooks.h"
#include "segd-notify.h"

#include <errno.h>
#include <glib-unix.h>
#include <glib/gstdio.h>
#include <gio/gio.h>
#include <grp.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zmq.h>

#define ENGINE_NAME "segd"

typedef struct
{
  void *ctx, *frontend, *backend, *control, *control_peer;
  GThread *thread;
  gchar *dir;      /* private directory of the inner socket */
  gchar *inner;    /* ">ipc://DIR/streams.sock" for the sinks */
  gchar *endpoint; /* the public one */
} Proxy;

struct _SegdStreams
{
  SegdConfig *config; /* streams[i]->config stolen by the daemons */
  gchar *config_dir;
  GStrv files, overrides;
  GMainLoop *loop;
  GHashTable *daemons; /* name -> SegdDaemon (transfer full) */
  GPtrArray *names;    /* in configuration order */
  Proxy *proxy;
  SegdHooks hooks;
  gboolean ready_sent, stopping;
  gboolean http_taken; /* a stream serves [http] */
  int exit_status;
};

/* ---- the shared socket ---- */

static gpointer
proxy_main (gpointer data)
{
  Proxy *p = data;

  /* Returns when the control socket says TERMINATE. */
  zmq_proxy_steerable (p->frontend, p->backend, NULL, p->control);
  return NULL;
}

static void
proxy_free (Proxy *p)
{
  if (!p)
    return;
  if (p->thread) {
    if (zmq_send (p->control_peer, "TERMINATE", 9, 0) != 9)
      g_warning ("cannot stop the stream proxy: %s",
          zmq_strerror (zmq_errno ()));
    else
      g_thread_join (p->thread);
  }
  {
    void *sockets[] = {p->frontend, p->backend, p->control, p->control_peer};
    int zero = 0;

    for (guint i = 0; i < G_N_ELEMENTS (sockets); i++)
      if (sockets[i]) {
        zmq_setsockopt (sockets[i], ZMQ_LINGER, &zero, sizeof zero);
        zmq_close (sockets[i]);
      }
  }
  if (p->ctx)
    while (zmq_ctx_term (p->ctx) != 0 && zmq_errno () == EINTR)
      ;
  if (p->dir) {
    g_autofree gchar *sock = g_build_filename (p->dir, "streams.sock", NULL);

    g_unlink (sock);
    g_rmdir (p->dir);
  }
  g_free (p->dir);
  g_free (p->inner);
  g_free (p->endpoint);
  g_free (p);
}

/* The public socket of an ipc:// endpoint gets the configured mode and
 * group, as zmqmasksink does for its own. */
static gboolean
protect_socket (const SegdConfig *c, const gchar *endpoint, GError **error)
{
  const gchar *path;

  if (!g_str_has_prefix (endpoint, "ipc://"))
    return TRUE;
  path = endpoint + strlen ("ipc://");
  if (c->ipc_mode && chmod (path, c->ipc_mode) != 0) {
    g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errno),
        "[output] ipc-mode: chmod %s: %s", path, g_strerror (errno));
    return FALSE;
  }
  if (c->ipc_group[0]) {
    struct group *g = getgrnam (c->ipc_group);

    if (!g || chown (path, (uid_t) -1, g->gr_gid) != 0) {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED,
          "[output] ipc-group: %s: %s", c->ipc_group,
          g ? g_strerror (errno) : "no such group");
      return FALSE;
    }
  }
  return TRUE;
}

static Proxy *
proxy_new (const SegdConfig *c, const gchar *endpoint, GError **error)
{
  Proxy *p = g_new0 (Proxy, 1);
  g_autofree gchar *bind_inner = NULL;
  int one = 1;

  p->endpoint = g_strdup (endpoint);
  p->dir = g_dir_make_tmp ("segd-streams-XXXXXX", error);
  if (!p->dir)
    goto failed;
  bind_inner = g_strdup_printf ("ipc://%s/streams.sock", p->dir);
  p->inner = g_strdup_printf (">%s", bind_inner);

  if (!(p->ctx = zmq_ctx_new ()))
    goto zmq_failed;
  if (!(p->frontend = zmq_socket (p->ctx, ZMQ_XSUB))
      || zmq_bind (p->frontend, bind_inner) != 0)
    goto zmq_failed;
  if (!(p->backend = zmq_socket (p->ctx, ZMQ_XPUB))
      || zmq_setsockopt (p->backend, ZMQ_XPUB_VERBOSE, &one, sizeof one) != 0
      || zmq_bind (p->backend, endpoint) != 0)
    goto bind_failed;
  if (!protect_socket (c, endpoint, error))
    goto failed;
  if (!(p->control = zmq_socket (p->ctx, ZMQ_PAIR))
      || zmq_bind (p->control, "inproc://segd-streams-control") != 0
      || !(p->control_peer = zmq_socket (p->ctx, ZMQ_PAIR))
      || zmq_connect (p->control_peer, "inproc://segd-streams-control") != 0)
    goto zmq_failed;
  /* The sockets move to the proxy thread; creating it is the barrier
   * libzmq asks for. */
  p->thread = g_thread_new ("segd-proxy", proxy_main, p);
  return p;

  /* ERRORS */
bind_failed : {
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED,
      "[output] endpoint: cannot bind %s: %s", endpoint,
      zmq_strerror (zmq_errno ()));
  proxy_free (p);
  return NULL;
}
zmq_failed : {
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "the stream proxy: %s",
      zmq_strerror (zmq_errno ()));
  proxy_free (p);
  return NULL;
}
failed : {
  proxy_free (p);
  return NULL;
}
}

/* As segd-daemon.c's default: the systemd runtime directory's socket,
 * named after the base stream name (segd, or the --config file's). */
static gchar *
shared_endpoint (const SegdConfig *c)
{
  const gchar *env = g_getenv ("RUNTIME_DIRECTORY");
  g_autofree gchar *dir = NULL;

  if (c->endpoint[0])
    return g_strdup (c->endpoint);
  if (env && env[0] == '/')
    dir = g_strndup (env, strcspn (env, ":"));
  else
    dir = g_strdup ("/run/segd");
  return g_strdup_printf ("ipc://%s/%s.sock", dir, c->stream_name);
}

/* ---- streams ---- */

static gboolean
add_stream (SegdStreams *ss, SegdStreamConfig *sc, GError **error)
{
  SegdConfig *config = g_steal_pointer (&sc->config);
  SegdDaemon *d;
  int status;

  /* The proxy's public socket has no CURVE: fail closed rather than
   * publish in the clear what the configuration asked to encrypt. */
  if (!sc->own_endpoint
      && (ss->config->curve_secret_key_file[0]
          || ss->config->curve_allowed_keys[0])) {
    g_set_error (error, SEGD_CONFIG_ERROR, SEGD_CONFIG_ERROR_VALUE,
        "[stream %s]: [output] curve-secret-key-file: CURVE is not "
        "available on the socket streams share; give the stream an "
        "endpoint of its own",
        sc->name);
    segd_config_free (config);
    ss->exit_status = SEGD_EXIT_CONFIG;
    return FALSE;
  }
  if (!sc->own_endpoint && !ss->proxy) {
    g_autofree gchar *endpoint = shared_endpoint (ss->config);

    ss->proxy = proxy_new (ss->config, endpoint, error);
    if (!ss->proxy) {
      segd_config_free (config);
      ss->exit_status = SEGD_EXIT_CONFIG;
      return FALSE;
    }
    g_message ("streams publish on %s", endpoint);
  }
  /* One port, one page: the first stream's. The others would only fail
   * to bind it. */
  if (ss->http_taken)
    config->http_enabled = FALSE;
  ss->http_taken = ss->http_taken || config->http_enabled;
  d = segd_daemon_new_stream (config, ss->loop, ENGINE_NAME,
      sc->own_endpoint ? NULL : ss->proxy->inner, &status, error);
  if (!d) {
    g_prefix_error (error, "[stream %s]: ", sc->name);
    ss->exit_status = status;
    return FALSE;
  }
  g_hash_table_insert (ss->daemons, g_strdup (sc->name), d);
  g_ptr_array_add (ss->names, g_strdup (sc->name));
  return TRUE;
}

static void
remove_stream (SegdStreams *ss, const gchar *name)
{
  g_message ("stream %s: removed", name);
  g_hash_table_remove (ss->daemons, name);
  for (guint i = 0; i < ss->names->len; i++)
    if (!strcmp (g_ptr_array_index (ss->names, i), name)) {
      g_ptr_array_remove_index (ss->names, i);
      break;
    }
}

static SegdStreamConfig *
find_stream (SegdConfig *config, const gchar *name)
{
  for (guint i = 0; i < config->streams->len; i++) {
    SegdStreamConfig *sc = g_ptr_array_index (config->streams, i);

    if (!strcmp (sc->name, name))
      return sc;
  }
  return NULL;
}

/* ---- status, watchdog, signals ---- */

static gboolean
status_tick (gpointer data)
{
  SegdStreams *ss = data;
  g_autoptr (GString) line = g_string_new (NULL);
  gboolean healthy = TRUE;

  for (guint i = 0; i < ss->names->len; i++) {
    const gchar *name = g_ptr_array_index (ss->names, i);
    SegdDaemon *d = g_hash_table_lookup (ss->daemons, name);
    g_autofree gchar *one = segd_daemon_get_status_line (d);

    healthy = healthy && segd_daemon_is_healthy (d);
    g_string_append_printf (line, "%s%s: %s", i ? "; " : "", name, one);
  }
  if (!ss->ready_sent && healthy) {
    ss->ready_sent = TRUE;
    segd_notify_ready (line->str);
  } else {
    segd_notify_status (line->str);
  }
  return G_SOURCE_CONTINUE;
}

static gboolean
watchdog_tick (gpointer data)
{
  SegdStreams *ss = data;
  GHashTableIter it;
  gpointer d;

  g_hash_table_iter_init (&it, ss->daemons);
  while (g_hash_table_iter_next (&it, NULL, &d))
    if (!segd_daemon_is_healthy (d))
      return G_SOURCE_CONTINUE;
  segd_notify_watchdog ();
  return G_SOURCE_CONTINUE;
}

static gboolean
on_stop_signal (gpointer data)
{
  SegdStreams *ss = data;

  if (ss->stopping)
    return G_SOURCE_CONTINUE;
  g_message ("stopping");
  segd_notify_stopping ();
  ss->stopping = TRUE;
  g_main_loop_quit (ss->loop);
  return G_SOURCE_CONTINUE;
}

static gboolean
on_reload_signal (gpointer data)
{
  SegdStreams *ss = data;
  SegdConfigSources sources = {ss->config_dir, (const gchar *const *) ss->files,
      (const gchar *const *) ss->overrides};
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) gone = g_ptr_array_new_with_free_func (g_free);
  SegdConfig *config;

  if (ss->stopping)
    return G_SOURCE_CONTINUE;
  segd_notify_reloading (TRUE);
  config = segd_config_load (&sources, &error);
  if (config && config->streams->len == 0) {
    g_set_error (&error, SEGD_CONFIG_ERROR, SEGD_CONFIG_ERROR_VALUE,
        "no [stream NAME] section left (restart segd to run one camera)");
    g_clear_pointer (&config, segd_config_free);
  }
  if (!config) {
    g_warning ("reload: %s; keeping the running configuration", error->message);
    segd_notify_reloading (FALSE);
    return G_SOURCE_CONTINUE;
  }
  g_message ("reloading the configuration");
  if (g_strcmp0 (config->model, ss->config->model)
      || config->threads != ss->config->threads)
    g_warning ("reload: [segmenter] model and threads of the shared engine "
               "take effect at the next start");

  for (guint i = 0; i < ss->names->len; i++)
    if (!find_stream (config, g_ptr_array_index (ss->names, i)))
      g_ptr_array_add (gone, g_strdup (g_ptr_array_index (ss->names, i)));
  for (guint i = 0; i < gone->len; i++)
    remove_stream (ss, g_ptr_array_index (gone, i));

  /* New streams check the shared endpoint against the new [output]. */
  segd_config_free (ss->config);
  ss->config = config;
  for (guint i = 0; i < config->streams->len; i++) {
    SegdStreamConfig *sc = g_ptr_array_index (config->streams, i);
    SegdDaemon *d = g_hash_table_lookup (ss->daemons, sc->name);

    if (!d) {
      g_autoptr (GError) add_error = NULL;

      if (!add_stream (ss, sc, &add_error)) {
        g_warning ("reload: %s; stream %s not added", add_error->message,
            sc->name);
        continue;
      }
      g_message ("stream %s: added", sc->name);
      segd_daemon_start (g_hash_table_lookup (ss->daemons, sc->name));
    } else if (!segd_config_equal (segd_daemon_get_config (d), sc->config)) {
      g_message ("stream %s: changed", sc->name);
      segd_daemon_reconfigure (d, g_steal_pointer (&sc->config));
    }
  }
  segd_notify_reloading (FALSE);
  status_tick (ss);
  return G_SOURCE_CONTINUE;
}

/* ---- construction ---- */

SegdStreams *
segd_streams_new (SegdConfig *config, const SegdConfigSources *sources,
    int *exit_status, GError **error)
{
  SegdStreams *ss = g_new0 (SegdStreams, 1);

  g_return_val_if_fail (config->streams && config->streams->len > 0, NULL);
  ss->config = config;
  ss->config_dir = g_strdup (sources ? sources->config_dir : NULL);
  ss->files = g_strdupv (sources ? (gchar **) sources->files : NULL);
  ss->overrides = g_strdupv (sources ? (gchar **) sources->overrides : NULL);
  ss->loop = g_main_loop_new (NULL, FALSE);
  ss->daemons = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
      (GDestroyNotify) segd_daemon_free);
  ss->names = g_ptr_array_new_with_free_func (g_free);
  ss->exit_status = SEGD_EXIT_OK;

  for (guint i = 0; i < config->streams->len; i++)
    if (!add_stream (ss, g_ptr_array_index (config->streams, i), error)) {
      *exit_status = ss->exit_status;
      segd_streams_free (ss);
      return NULL;
    }
  *exit_status = SEGD_EXIT_OK;
  return ss;
}

int
segd_streams_run (SegdStreams *ss, GError **error)
{
  static const SegdHookFuncs funcs = {
      on_stop_signal,
      on_reload_signal,
      status_tick,
      watchdog_tick,
  };

  segd_hooks_add (&ss->hooks, &funcs, ss);
  g_message ("%u streams on one engine", ss->names->len);
  for (guint i = 0; i < ss->names->len; i++)
    segd_daemon_start (
        g_hash_table_lookup (ss->daemons, g_ptr_array_index (ss->names, i)));
  g_main_loop_run (ss->loop);
  /* As segd_daemon_run: a SIGHUP during shutdown must not kill it. */
  segd_hooks_end_reload (&ss->hooks);
  {
    GHashTableIter it;
    gpointer name, d;

    /* A stream's fatal error ended the loop for all: its status is ours. */
    g_hash_table_iter_init (&it, ss->daemons);
    while (g_hash_table_iter_next (&it, &name, &d)) {
      GError *local = segd_daemon_take_error (d);

      if (segd_daemon_get_exit_status (d) != SEGD_EXIT_OK
          && ss->exit_status == SEGD_EXIT_OK) {
        ss->exit_status = segd_daemon_get_exit_status (d);
        if (local) {
          g_prefix_error (&local, "[stream %s]: ", (const gchar *) name);
          g_propagate_error (error, g_steal_pointer (&local));
        }
      }
      g_clear_error (&local);
    }
  }
  return ss->exit_status;
}

void
segd_streams_free (SegdStreams *ss)
{
  if (!ss)
    return;
  segd_hooks_clear (&ss->hooks);
  /* The pipelines go before the proxy their publishers connect to. */
  g_clear_pointer (&ss->daemons, g_hash_table_unref);
  g_clear_pointer (&ss->proxy, proxy_free);
  g_clear_pointer (&ss->names, g_ptr_array_unref);
  g_clear_pointer (&ss->loop, g_main_loop_unref);
  segd_config_free (ss->config);
  g_free (ss->config_dir);
  g_strfreev (ss->files);
  g_strfreev (ss->overrides);
  g_free (ss);
}
