/* segd-daemon — owns the pipeline and everything that happens to it over
 * months of running.
 *
 *   [source bin] -> queue (leaky) -> segmenter -> queue (leaky) -> [tee] -> sink
 *
 * The part from the first queue on is built once and stays PLAYING; the
 * source bin is added and removed as cameras come and go, subscribers
 * arrive and leave (on-demand) or the configuration changes. Both queues
 * drop the oldest frame when full, so neither a slow network nor a slow
 * network model ever backs up into the camera. Every decision runs on the
 * main loop; streaming threads only count masks and post messages. What
 * segd says about all this (STATUS=, the status page, the latency
 * percentiles) is in segd-status.c, which shares the struct through
 * segd-daemon-private.h.
 */
#include "segd-daemon-private.h"

#include "segd-hotplug.h"
#include "segd-http.h"
#include "segd-notify.h"
#include "segd-pipeline.h"
#include "segd-source.h"
#include "segd-v4l2.h"

#include <glib-unix.h>
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <gst/gst.h>
#include <segmenter/seg.h>
#include <segmeta.h>
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <stdlib.h>

#define RETRY_FIRST_MS 250

static void start_source (SegdDaemon *d);
static void stop_source (SegdDaemon *d);
static void set_state (SegdDaemon *d, State state, const gchar *detail);
static void cancel_probe (SegdDaemon *d);

static gboolean
lifecycle_source (SegdSourceType type)
{
  return type == SEGD_SOURCE_V4L2 || type == SEGD_SOURCE_URI;
}

/* ---- masks, latency: the sink pad probe ---- */

static gboolean
first_mask_idle (gpointer data)
{
  SegdDaemon *d = data;

  if (d->state == STATE_STARTING)
    set_state (d, STATE_RUNNING, NULL);
  return G_SOURCE_REMOVE;
}

static GstPadProbeReturn
sink_probe (GstPad *pad, GstPadProbeInfo *info, gpointer user_data)
{
  SegdDaemon *d = user_data;

  if (info->type & GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM) {
    GstEvent *event = GST_PAD_PROBE_INFO_EVENT (info);

    if (GST_EVENT_TYPE (event) == GST_EVENT_SEGMENT) {
      const GstSegment *seg;

      gst_event_parse_segment (event, &seg);
      g_mutex_lock (&d->lock);
      gst_segment_copy_into (seg, &d->segment);
      g_mutex_unlock (&d->lock);
    }
    return GST_PAD_PROBE_OK;
  }

  if (info->type & GST_PAD_PROBE_TYPE_BUFFER) {
    GstBuffer *buf = GST_PAD_PROBE_INFO_BUFFER (info);
    GstElement *sink = GST_ELEMENT (GST_PAD_PARENT (pad));
    GstClock *clock;
    GstClockTime now = GST_CLOCK_TIME_NONE, base, rt;
    gboolean first;

    if (!gst_buffer_get_seg_meta (buf))
      return GST_PAD_PROBE_OK;

    clock = gst_element_get_clock (sink);
    if (clock) {
      now = gst_clock_get_time (clock);
      gst_object_unref (clock);
    }
    base = gst_element_get_base_time (sink);

    g_mutex_lock (&d->lock);
    d->masks++;
    d->last_mask_us = g_get_monotonic_time ();
    rt = d->segment.format == GST_FORMAT_TIME
        ? gst_segment_to_running_time (&d->segment, GST_FORMAT_TIME,
            GST_BUFFER_PTS (buf))
        : GST_CLOCK_TIME_NONE;
    /* Capture (the PTS, in running time) to publish (now). */
    if (GST_CLOCK_TIME_IS_VALID (now) && GST_CLOCK_TIME_IS_VALID (rt)
        && now >= base + rt) {
      d->latency[d->latency_pos] = now - base - rt;
      d->latency_pos = (d->latency_pos + 1) % LATENCY_SAMPLES;
      d->latency_n = MIN (d->latency_n + 1, LATENCY_SAMPLES);
    }
    first = !d->first_mask_posted;
    d->first_mask_posted = TRUE;
    g_mutex_unlock (&d->lock);

    if (first)
      g_idle_add (first_mask_idle, d);
  }
  return GST_PAD_PROBE_OK;
}

static void
get_status (gpointer data, SegdStatus *st)
{
  segd_daemon_get_status (data, st);
}

static gboolean
status_tick (gpointer data)
{
  segd_daemon_update_status (data);
  return G_SOURCE_CONTINUE;
}

static void
set_state (SegdDaemon *d, State state, const gchar *detail)
{
  g_autofree gchar *line = NULL;

  d->state = state;
  g_free (d->state_detail);
  d->state_detail = g_strdup (detail);
  if (state != STATE_WAITING) {
    g_clear_pointer (&d->camera_error, g_free);
    g_clear_pointer (&d->network_logged, g_free);
    cancel_probe (d);
  }
  line = segd_daemon_get_status_line (d);

  if (!d->ready_sent
      && (state == STATE_RUNNING || state == STATE_WAITING
          || state == STATE_IDLE)) {
    d->ready_sent = TRUE;
    if (!d->embedded)
      segd_notify_ready (line);
  }
  segd_daemon_update_status (d);
}

/* Pings only while the stream is healthy: masks arrived within
 * stall-timeout, or segd is deliberately without a source (waiting with a
 * live retry timer, or idle on demand). A stalled pipeline gets no ping,
 * and systemd restarts it. */
gboolean
segd_daemon_is_healthy (SegdDaemon *d)
{
  gint64 now = g_get_monotonic_time (), last;
  gboolean healthy = FALSE;

  g_mutex_lock (&d->lock);
  last = d->last_mask_us;
  g_mutex_unlock (&d->lock);

  switch (d->state) {
    case STATE_RUNNING:
      healthy = now - last < (gint64) (d->config->stall_timeout * 1e6);
      if (!healthy
          && segd_daemon_masks_published (d) != d->masks_at_stall_check) {
        g_warning ("no mask published for %.1f s: the stream is stalled",
            (now - last) / 1e6);
        d->masks_at_stall_check = segd_daemon_masks_published (d);
      }
      break;
    case STATE_WAITING:
      healthy =
          now - d->last_retry_us < (gint64) ((d->config->retry_max + 2) * 1e6);
      break;
    case STATE_IDLE:
      healthy = TRUE;
      break;
    default:
      break;
  }
  return healthy;
}

static gboolean
watchdog_tick (gpointer data)
{
  if (segd_daemon_is_healthy (data))
    segd_notify_watchdog ();
  return G_SOURCE_CONTINUE;
}

/* ---- the source and its lifecycle ---- */

/* On the source's streaming thread, so it reads nothing of the daemon: the
 * configuration belongs to the main loop, which frees it on SIGHUP. What
 * the end of this source means was decided when it was made and comes as
 * `user_data`: TRUE for a file played once, whose end ends the stream (and
 * segd); any other end is a source that went away, and the rest of the
 * pipeline must stay open for the next one, so the main loop hears of it
 * by a message and decides there. */
static GstPadProbeReturn
source_eos_probe (GstPad *pad, GstPadProbeInfo *info, gpointer user_data)
{
  gboolean plays_once = GPOINTER_TO_INT (user_data);
  GstEvent *event = GST_PAD_PROBE_INFO_EVENT (info);
  GstElement *bin;

  if (GST_EVENT_TYPE (event) != GST_EVENT_EOS || plays_once)
    return GST_PAD_PROBE_OK;
  bin = GST_ELEMENT (gst_object_get_parent (GST_OBJECT (pad)));
  if (bin) {
    gst_element_post_message (bin,
        gst_message_new_application (GST_OBJECT (bin),
            gst_structure_new_empty ("segd-source-ended")));
    gst_object_unref (bin);
  }
  return GST_PAD_PROBE_DROP;
}

static gboolean
retry_source (gpointer data)
{
  SegdDaemon *d = data;

  d->retry_id = 0;
  start_source (d);
  return G_SOURCE_REMOVE;
}

static void
wait_for_source (SegdDaemon *d, const gchar *what, const gchar *reason)
{
  g_autofree gchar *detail = g_strdup_printf ("waiting for %s", what);

  if (d->state != STATE_WAITING || g_strcmp0 (d->state_detail, detail))
    g_message ("%s: %s; retrying up to every %.1f s", detail, reason,
        d->config->retry_max);
  else
    g_debug ("%s: %s", detail, reason);
  set_state (d, STATE_WAITING, detail);

  d->last_retry_us = g_get_monotonic_time ();
  if (!d->retry_ms)
    d->retry_ms = RETRY_FIRST_MS;
  else
    d->retry_ms = MIN (d->retry_ms * 2, (guint) (d->config->retry_max * 1000));
  g_clear_handle_id (&d->retry_id, g_source_remove);
  d->retry_id = g_timeout_add (d->retry_ms, retry_source, d);
}

static void fatal (SegdDaemon *d, int status, const gchar *format, ...)
    G_GNUC_PRINTF (3, 4);

/* Ends the run with `status`. The sentence goes up to main, which prints
 * it once like every other error; a failure at run time (a camera file that
 * is gone, a sink that cannot bind) is no programming error, so it is not
 * a g_critical, which G_DEBUG=fatal-criticals would turn into an abort. The
 * first failure wins: later ones are its consequences. */
static void
fatal (SegdDaemon *d, int status, const gchar *format, ...)
{
  va_list args;

  if (!d->error) {
    va_start (args, format);
    d->error = g_error_new_valist (G_IO_ERROR, G_IO_ERROR_FAILED, format, args);
    va_end (args);
    d->exit_status = status;
  }
  g_main_loop_quit (d->loop);
}

static void
start_source (SegdDaemon *d)
{
  g_autoptr (SegdV4l2Device) device = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree gchar *desc = NULL;
  SegdSourceType type = d->config->source_type;
  GstElement *bin;
  GstPad *src, *sink;
  GstPadLinkReturn link;

  if (d->source || d->state == STATE_STOPPING)
    return;

  /* Once auto found a camera, it waits for that camera to come back. */
  if (type == SEGD_SOURCE_AUTO && d->device_path
      && d->source_type == SEGD_SOURCE_V4L2)
    type = SEGD_SOURCE_V4L2;
  if (type == SEGD_SOURCE_AUTO) {
    g_autofree gchar *path = d->config->device[0]
        ? segd_v4l2_resolve (d->config->device)
        : segd_v4l2_resolve (NULL);

    type = path ? SEGD_SOURCE_V4L2 : SEGD_SOURCE_DEMO;
    if (type == SEGD_SOURCE_DEMO && d->state == STATE_STARTING)
      g_message ("no camera found: using the demo source");
    g_free (d->device_path);
    d->device_path = g_steal_pointer (&path);
  } else if (type == SEGD_SOURCE_V4L2
      && d->config->source_type == SEGD_SOURCE_V4L2) {
    g_free (d->device_path);
    d->device_path = segd_v4l2_resolve (d->config->device);
    if (!d->device_path) {
      d->source_type = type;
      wait_for_source (d, "a V4L2 capture device", "none found");
      return;
    }
  }
  d->source_type = type;

  if (type == SEGD_SOURCE_V4L2) {
    device = segd_v4l2_probe (d->device_path, &error);
    if (!device) {
      wait_for_source (d, d->device_path, error->message);
      return;
    }
  }

  bin = segd_source_make (d->config, type, device, &desc, &error);
  if (!bin) {
    if (lifecycle_source (type)) {
      g_autofree gchar *uri = segd_uri_for_display (d->config->uri);

      wait_for_source (d, d->device_path ? d->device_path : uri,
          error->message);
    } else {
      fatal (d,
          g_error_matches (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND)
              ? SEGD_EXIT_UNAVAILABLE
              : SEGD_EXIT_SOFTWARE,
          "source: %s", error->message);
    }
    return;
  }

  /* The source's state changes stay inside it: a uri source that never
   * prerolls (a camera that does not answer) would otherwise leave the
   * whole pipeline in an unfinished state change, and a pipeline in one
   * posts no EOS, so SIGTERM waited for stop_timeout. */
  g_object_set (bin, "async-handling", TRUE, NULL);
  gst_bin_add (GST_BIN (d->pipeline), bin);
  d->source = gst_object_ref (bin);
  src = gst_element_get_static_pad (bin, "src");
  sink = gst_element_get_static_pad (d->head, "sink");
  gst_pad_add_probe (src, GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM, source_eos_probe,
      GINT_TO_POINTER (type == SEGD_SOURCE_FILE && !d->config->loop), NULL);
  link = gst_pad_link (src, sink);
  gst_object_unref (src);
  gst_object_unref (sink);
  if (GST_PAD_LINK_FAILED (link)) {
    fatal (d, SEGD_EXIT_SOFTWARE,
        "source: cannot link %s to the segmenter "
        "(%s)",
        desc, gst_pad_link_get_name (link));
    return;
  }

  g_free (d->source_desc);
  d->source_desc = g_steal_pointer (&desc);
  g_message ("source: %s", d->source_desc);

  g_mutex_lock (&d->lock);
  d->first_mask_posted = FALSE;
  g_mutex_unlock (&d->lock);
  d->state = STATE_STARTING;
  if (gst_element_set_state (bin, GST_STATE_PLAYING)
      == GST_STATE_CHANGE_FAILURE) {
    /* The error message on the bus says why and drives the retry. */
    g_debug ("source failed to start");
  }
  segd_daemon_update_status (d);
}

static void
stop_source (SegdDaemon *d)
{
  GstElement *bin = g_steal_pointer (&d->source);
  GstPad *src, *peer;

  if (!bin)
    return;
  src = gst_element_get_static_pad (bin, "src");
  gst_element_set_state (bin, GST_STATE_NULL);
  peer = gst_pad_get_peer (src);
  if (peer) {
    gst_pad_unlink (src, peer);
    gst_object_unref (peer);
  }
  gst_object_unref (src);
  gst_bin_remove (GST_BIN (d->pipeline), bin);
  gst_object_unref (bin);
}

/* `camera_error`: NULL, or what camera_state is to say while retrying. */
static void
source_lost (SegdDaemon *d, const gchar *reason, const gchar *camera_error)
{
  g_autofree gchar *uri = segd_uri_for_display (d->config->uri);
  const gchar *what = d->source_type == SEGD_SOURCE_V4L2 ? d->device_path : uri;

  /* A source that ran and went away gets a quick first retry; one that
   * fails to open keeps backing off up to retry-max. */
  if (d->state == STATE_RUNNING)
    d->retry_ms = 0;
  stop_source (d);
  g_free (d->camera_error);
  d->camera_error = g_strdup (camera_error);
  wait_for_source (d, what ? what : "the source", reason);
}

/* ---- hotplug ---- */

/* udev announced a capture device: if segd waits for it (or, with no
 * device named, for any), retry now rather than at the next backoff
 * step. */
static void
camera_appeared (const gchar *devnode, const gchar *devlinks, gpointer data)
{
  SegdDaemon *d = data;
  const gchar *wanted = d->config->device[0] ? d->device_path : NULL;

  if (d->state != STATE_WAITING || !d->retry_id
      || d->source_type != SEGD_SOURCE_V4L2
      || !segd_hotplug_matches (wanted, devnode, devlinks))
    return;
  g_message ("%s appeared: opening it", devnode);
  g_clear_handle_id (&d->retry_id, g_source_remove);
  d->retry_ms = 0;
  d->retry_id = g_idle_add (retry_source, d);
}

/* ---- on demand ---- */

static gboolean
grace_over (gpointer data)
{
  SegdDaemon *d = data;

  d->grace_id = 0;
  if (d->subscribers > 0 || !d->config->on_demand)
    return G_SOURCE_REMOVE;
  g_message ("no subscriber for %.0f s: closing the source",
      d->config->on_demand_grace);
  stop_source (d);
  g_clear_handle_id (&d->retry_id, g_source_remove);
  set_state (d, STATE_IDLE, NULL);
  return G_SOURCE_REMOVE;
}

static void
subscribers_changed (SegdDaemon *d, gint count)
{
  if (count == d->subscribers)
    return;
  g_message ("%d subscriber%s", count, count == 1 ? "" : "s");
  d->subscribers = count;
  if (!d->config->on_demand)
    return;
  if (count > 0) {
    g_clear_handle_id (&d->grace_id, g_source_remove);
    if (d->state == STATE_IDLE) {
      d->retry_ms = 0;
      start_source (d);
    }
  } else if (!d->grace_id && d->state != STATE_IDLE) {
    d->grace_id = g_timeout_add ((guint) (d->config->on_demand_grace * 1000),
        grace_over, d);
  }
  segd_daemon_update_status (d);
}

/* ---- bus ---- */

/* Whether an error of the uri source is the network failing us: any error
 * of the element that talks to the network (uridecodebin's URI source) or
 * a resource error reading it. */
static gboolean
network_failure (SegdDaemon *d, GstObject *src, const GError *err)
{
  g_autofree gchar *scheme = NULL;

  if (d->source_type != SEGD_SOURCE_URI)
    return FALSE;
  scheme = g_uri_parse_scheme (d->config->uri);
  if (!scheme || !g_ascii_strcasecmp (scheme, "file"))
    return FALSE;
  if (GST_IS_URI_HANDLER (src)
      && gst_uri_handler_get_uri_type (GST_URI_HANDLER (src)) == GST_URI_SRC)
    return TRUE;
  if (err->domain != GST_RESOURCE_ERROR)
    return FALSE;
  switch (err->code) {
    case GST_RESOURCE_ERROR_NOT_FOUND: /* also: the name did not resolve */
    case GST_RESOURCE_ERROR_OPEN_READ:
    case GST_RESOURCE_ERROR_OPEN_READ_WRITE:
    case GST_RESOURCE_ERROR_READ:
    case GST_RESOURCE_ERROR_WRITE:
      return TRUE;
    default:
      return FALSE;
  }
}

static void
log_network (SegdDaemon *d, const gchar *state, gboolean hint)
{
  g_autofree gchar *uri = segd_uri_for_display (d->config->uri);

  if (!g_strcmp0 (state, d->network_logged))
    return;
  g_free (d->network_logged);
  d->network_logged = g_strdup (state);
  if (hint)
    g_warning ("source %s: %s; segd.service allows localhost only "
               "(IPAddressDeny=any), so if segd runs under it, a camera on "
               "another "
               "host needs IPAddressAllow= for its network in a drop-in such "
               "as " SEGD_EXAMPLES_DIR "/segd-network.conf, copied to "
               "/etc/systemd/system/segd.service.d/ (segd@.service.d/ for the "
               "instances)",
        uri, state);
  else
    g_warning ("source %s: %s (its address is reachable)", uri, state);
}

typedef struct
{
  SegdDaemon *d;
  gchar *message; /* the element's error */
} Probe;

static void
probe_done (GObject *client, GAsyncResult *res, gpointer data)
{
  Probe *p = data;
  SegdDaemon *d = p->d;
  g_autoptr (GError) error = NULL;
  g_autoptr (GSocketConnection) conn = NULL;
  g_autofree gchar *state = NULL;

  conn = g_socket_client_connect_to_uri_finish (G_SOCKET_CLIENT (client), res,
      &error);
  /* Cancelled: a newer failure, a reload or the end of segd; `d` may be
   * gone. */
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    goto out;
  g_clear_object (&d->probe);
  if (conn)
    state = g_strdup_printf ("network-error: %s", p->message);
  else if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED))
    state = g_strdup_printf ("blocked: %s (denied on this host: a sandbox "
                             "such as the unit's IPAddressDeny= blocks the "
                             "address)",
        error->message);
  else
    state = g_strdup_printf ("network-error: %s", error->message);
  log_network (d, state, !conn);
  if (d->state == STATE_WAITING
      || (d->state == STATE_STARTING && d->camera_error)) {
    g_free (d->camera_error);
    d->camera_error = g_steal_pointer (&state);
    segd_daemon_update_status (d);
  }
out:
  g_free (p->message);
  g_free (p);
}

/* souphttpsrc and rtspsrc do not say why they could not connect: a
 * refused connection is often just "Internal data stream error", and EPERM,
 * what the unit's IPAddressDeny= does to connect(), is not in their
 * messages at all ("Generic error"). So segd connects to the camera's
 * address itself, asynchronously, and reports what that says: EPERM/EACCES
 * is "blocked", any other failure "network-error" with the reason; if the
 * address takes the connection, the element's own message stands. */
static void
probe_network (SegdDaemon *d, const gchar *message)
{
  g_autoptr (GSocketClient) client = g_socket_client_new ();
  g_autofree gchar *scheme = g_uri_parse_scheme (d->config->uri);
  Probe *p = g_new0 (Probe, 1);
  guint16 port = 0;

  if (!g_ascii_strcasecmp (scheme, "rtsp")
      || !g_ascii_strcasecmp (scheme, "rtspt"))
    port = 554;
  else if (!g_ascii_strcasecmp (scheme, "http"))
    port = 80;
  else if (!g_ascii_strcasecmp (scheme, "https"))
    port = 443;
  else if (!g_ascii_strcasecmp (scheme, "rtsps"))
    port = 322;
  if (d->probe)
    g_cancellable_cancel (d->probe);
  g_clear_object (&d->probe);
  d->probe = g_cancellable_new ();
  p->d = d;
  p->message = g_strdup (message);
  /* The camera's own address, not a proxy's. */
  g_socket_client_set_enable_proxy (client, FALSE);
  g_socket_client_set_timeout (client, 5);
  g_socket_client_connect_to_uri_async (client, d->config->uri, port, d->probe,
      probe_done, p);
}

static void
cancel_probe (SegdDaemon *d)
{
  if (d->probe)
    g_cancellable_cancel (d->probe);
  g_clear_object (&d->probe);
}

static void
handle_error (SegdDaemon *d, GstMessage *msg)
{
  g_autoptr (GError) err = NULL;
  g_autofree gchar *debug = NULL;

  gst_message_parse_error (msg, &err, &debug);
  g_debug ("error from %s: %s (%s)", GST_OBJECT_NAME (msg->src), err->message,
      debug ? debug : "");

  /* A source that fails usually posts more than one error (v4l2src:
   * "Could not read from resource", then "Failed to allocate a buffer");
   * the first one already removed its bin, and the rest come from
   * elements that are no longer ours. */
  if (!gst_object_has_as_ancestor (msg->src, GST_OBJECT (d->pipeline))) {
    g_debug ("ignored: %s is no longer in the pipeline",
        GST_OBJECT_NAME (msg->src));
    return;
  }
  if (d->source
      && gst_object_has_as_ancestor (msg->src, GST_OBJECT (d->source))) {
    if (lifecycle_source (d->source_type)) {
      g_autofree gchar *camera_error = NULL;
      gboolean streamed;

      g_mutex_lock (&d->lock);
      streamed = d->first_mask_posted;
      g_mutex_unlock (&d->lock);
      /* Failed to start while the camera is still there: the mode. */
      if (!streamed && d->source_type == SEGD_SOURCE_V4L2 && d->device_path
          && g_file_test (d->device_path, G_FILE_TEST_EXISTS))
        segd_source_refused (d->source);
      if (!network_failure (d, msg->src, err)) {
        source_lost (d, err->message, NULL);
        return;
      }
      /* What the last probe found stands until the next one says more. */
      camera_error = d->camera_error
          ? g_strdup (d->camera_error)
          : g_strdup_printf ("network-error: %s", err->message);
      source_lost (d, err->message, camera_error);
      probe_network (d, err->message);
      return;
    }
    fatal (d, SEGD_EXIT_SOFTWARE, "source %s: %s", d->source_desc,
        err->message);
    return;
  }
  /* The rest of a failing source's errors (a typefind starved by the dead
   * connection) arrive after it was taken out of the pipeline. */
  if (!gst_object_has_as_ancestor (msg->src, GST_OBJECT (d->pipeline))) {
    g_debug ("ignored: from %s, no longer in the pipeline",
        GST_OBJECT_NAME (msg->src));
    return;
  }
  if (d->state == STATE_STOPPING)
    return;
  fatal (d, SEGD_EXIT_SOFTWARE, "%s: %s", GST_OBJECT_NAME (msg->src),
      err->message);
}

static void
handle_element (SegdDaemon *d, GstMessage *msg)
{
  const GstStructure *s = gst_message_get_structure (msg);
  const gchar *name = gst_structure_get_name (s);

  if (!strcmp (name, "segmenter-stats")) {
    gst_structure_get_double (s, "fps", &d->fps);
    gst_structure_get_double (s, "inference-ms", &d->inference_ms);
  } else if (!strcmp (name, "segmenter-model")) {
    const gchar *model = gst_structure_get_string (s, "name");

    g_free (d->model_name);
    d->model_name = g_strdup (model);
    if (d->model_error)
      g_message ("model %s loaded; the earlier reload failure is resolved",
          model);
    else
      g_message ("model %s (sha256 %s)", model,
          gst_structure_get_string (s, "sha256"));
    g_clear_pointer (&d->model_error, g_free);
    segd_daemon_update_status (d);
  } else if (!strcmp (name, "zmqmasksink-subscribers")) {
    gint n = 0;

    if (gst_structure_get_int (s, "subscribers", &n))
      subscribers_changed (d, n);
  }
}

static gboolean
bus_watch (GstBus *bus, GstMessage *msg, gpointer data)
{
  SegdDaemon *d = data;

  switch (GST_MESSAGE_TYPE (msg)) {
    case GST_MESSAGE_ERROR:
      handle_error (d, msg);
      break;
    case GST_MESSAGE_WARNING: {
      g_autoptr (GError) err = NULL;
      const GstStructure *details = NULL;
      const gchar *path, *reason;

      gst_message_parse_warning (msg, &err, NULL);
      gst_message_parse_warning_details (msg, &details);
      g_warning ("%s: %s", GST_OBJECT_NAME (msg->src), err->message);
      if (GST_MESSAGE_SRC (msg) == GST_OBJECT (d->segmenter)) {
        /* The element names the file and the reason in the details; the
         * sentence is the fallback for other warnings. */
        path = details ? gst_structure_get_string (details, "model") : NULL;
        reason = details ? gst_structure_get_string (details, "reason") : NULL;
        g_free (d->model_error);
        if (path && reason)
          d->model_error =
              g_strdup_printf ("reload of %s failed: %s", path, reason);
        else
          d->model_error =
              g_strdup_printf ("model reload failed: %s", err->message);
        segd_daemon_update_status (d);
      }
      break;
    }
    case GST_MESSAGE_ELEMENT:
      handle_element (d, msg);
      break;
    case GST_MESSAGE_APPLICATION:
      /* Stopping, the EOS sent into the head queue ends the stream. */
      if (gst_message_has_name (msg, "segd-source-ended")
          && d->state != STATE_STOPPING && d->source
          && GST_MESSAGE_SRC (msg) == GST_OBJECT (d->source)) {
        if (lifecycle_source (d->source_type)) {
          source_lost (d, "end of stream", NULL);
        } else {
          g_warning ("the source stopped sending frames");
          set_state (d, STATE_ENDED, NULL);
        }
      }
      break;
    case GST_MESSAGE_EOS:
      if (d->state == STATE_STOPPING) {
        g_debug ("flushed");
      } else {
        g_message ("end of the file: done");
        segd_notify_stopping ();
        d->state = STATE_STOPPING;
      }
      g_main_loop_quit (d->loop);
      break;
    default:
      break;
  }
  return G_SOURCE_CONTINUE;
}

/* ---- signals ---- */

static gboolean
stop_timeout (gpointer data)
{
  SegdDaemon *d = data;

  d->stop_id = 0;
  g_warning ("the pipeline did not flush in time; stopping anyway");
  g_main_loop_quit (d->loop);
  return G_SOURCE_REMOVE;
}

static gboolean
on_stop_signal (gpointer data)
{
  SegdDaemon *d = data;
  GstPad *pad;

  if (d->state == STATE_STOPPING)
    return G_SOURCE_CONTINUE;
  g_message ("stopping");
  segd_notify_stopping ();
  d->state = STATE_STOPPING;
  cancel_probe (d);
  g_clear_handle_id (&d->retry_id, g_source_remove);
  g_clear_handle_id (&d->grace_id, g_source_remove);

  /* EOS straight into the head queue: it works with no source at all,
   * and the sink tells subscribers the stream ended. */
  pad = gst_element_get_static_pad (d->head, "sink");
  gst_pad_send_event (pad, gst_event_new_eos ());
  gst_object_unref (pad);
  d->stop_id = g_timeout_add (1500, stop_timeout, d);
  return G_SOURCE_CONTINUE;
}

/* What tells one model load from another: the path, the file's identity
 * and the thread count it is loaded with. NULL when the file cannot be
 * examined (the element then reports why it cannot load it). */
static gchar *
model_identity (const gchar *path, gint threads)
{
  GStatBuf st;

  if (g_stat (path, &st) != 0)
    return NULL;
  return g_strdup_printf ("%s|%ju:%ju|%jd|%jd.%09ld|%jd.%09ld|%d", path,
      (uintmax_t) st.st_dev, (uintmax_t) st.st_ino, (intmax_t) st.st_size,
      (intmax_t) st.st_mtim.tv_sec, st.st_mtim.tv_nsec,
      (intmax_t) st.st_ctim.tv_sec, st.st_ctim.tv_nsec, threads);
}

/* The model goes last. On a running element, setting "model" queues the
 * load on the element's loader thread, which reads "threads" when it runs:
 * a model set before the thread count is loaded with the old count
 * whenever the loader is quicker than this function. `reload`: the element
 * is running and an empty [segmenter] model means its built-in default.
 *
 * A reload loads the model again only if the path, the file (replaced by
 * rename: another inode; rewritten: another mtime) or the thread count
 * changed. Each load is a full parse and a warm-up run on the loader
 * thread, and the element queues them all: a burst of SIGHUPs (a config
 * manager reloading on every run) would otherwise pile up loads that the
 * element also works through when it stops. */
static void
apply_segmenter (SegdDaemon *d, const SegdConfig *c, gboolean reload)
{
  g_autofree gchar *path = NULL;
  gchar *identity;

  gst_util_set_object_arg (G_OBJECT (d->segmenter), "output-size",
      c->output_size);
  g_object_set (d->segmenter, "threads", c->threads, "interval",
      (guint) c->interval, "threshold", c->threshold, "smoothing", c->smoothing,
      NULL);
  if (c->model[0]) {
    path = g_strdup (c->model);
  } else {
    GParamSpec *spec =
        g_object_class_find_property (G_OBJECT_GET_CLASS (d->segmenter),
            "model");

    path = g_value_dup_string (g_param_spec_get_default_value (spec));
  }
  identity = path ? model_identity (path, c->threads) : NULL;
  if (reload && identity && !g_strcmp0 (identity, d->model_identity))
    g_debug ("reload: model %s unchanged, keeping it", path);
  else if (reload || c->model[0])
    g_object_set (d->segmenter, "model", path, NULL);
  g_free (d->model_identity);
  d->model_identity = identity;
}

static gboolean
on_reload_signal (gpointer data)
{
  SegdDaemon *d = data;
  SegdConfigSources sources = {d->config_dir, (const gchar *const *) d->files,
      (const gchar *const *) d->overrides};
  g_autoptr (GError) error = NULL;
  SegdConfig *config;

  if (d->state == STATE_STOPPING)
    return G_SOURCE_CONTINUE;
  segd_notify_reloading (TRUE);
  config = segd_config_load (&sources, &error);
  if (!config) {
    g_warning ("reload: %s; keeping the running configuration", error->message);
    segd_notify_reloading (FALSE);
    return G_SOURCE_CONTINUE;
  }
  g_message ("reloading the configuration");
  segd_daemon_reconfigure (d, config);
  segd_notify_reloading (FALSE);
  return G_SOURCE_CONTINUE;
}

void
segd_daemon_reconfigure (SegdDaemon *d, SegdConfig *config)
{
  gboolean restart, was_on_demand;

  if (segd_config_output_changed (d->config, config))
    g_warning ("reload: [output], [preview], [record] and segmenter.mode "
               "changes take effect at the next start");
  restart = segd_config_source_changed (d->config, config);

  /* The element loads the model on its own thread and swaps it in only
   * if it loads; a failure comes back as a WARNING and the old model
   * keeps serving. */
  apply_segmenter (d, config, TRUE);
  was_on_demand = d->config->on_demand;
  if (d->embedded)
    g_object_set (d->segmenter, "weight", config->weight, "max-latency",
        (guint64) (config->max_latency * GST_MSECOND), NULL);
  segd_config_free (d->config);
  d->config = config;

  if (d->state == STATE_IDLE) {
    /* Idle only ever meant "on demand, nobody there". */
    if (!config->on_demand) {
      g_message ("reload: on-demand is off, opening the source");
      d->retry_ms = 0;
      start_source (d);
    }
  } else if (restart) {
    g_message ("reload: the source changed, reopening it");
    /* What was found out about the old source no longer holds. */
    g_clear_pointer (&d->camera_error, g_free);
    g_clear_pointer (&d->network_logged, g_free);
    cancel_probe (d);
    stop_source (d);
    g_clear_handle_id (&d->retry_id, g_source_remove);
    d->retry_ms = 0;
    start_source (d);
  }
  if (!config->on_demand) {
    g_clear_handle_id (&d->grace_id, g_source_remove);
  } else if (!was_on_demand && d->subscribers == 0 && !d->grace_id
      && d->state != STATE_IDLE && d->state != STATE_STOPPING) {
    /* As if the last subscriber had just left. */
    d->grace_id =
        g_timeout_add ((guint) (config->on_demand_grace * 1000), grace_over, d);
  }
  segd_daemon_update_status (d);
}

gboolean
segd_daemon_check_model (const SegdConfig *config, GError **error)
{
  g_autofree gchar *path = NULL;
  seg_model *model = NULL;
  char *msg = NULL;
  seg_status st;

  if (config->model[0]) {
    path = g_strdup (config->model);
  } else {
    GstElementFactory *f = gst_element_factory_find ("segmenter");
    GstElement *e = f ? gst_element_factory_create (f, NULL) : NULL;

    if (f)
      gst_object_unref (f);
    if (!e) {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
          "the segmenter element is not installed");
      return FALSE;
    }
    g_object_get (e, "model", &path, NULL);
    gst_object_unref (gst_object_ref_sink (e));
  }
  st = seg_model_load (path, &model, &msg);
  if (st != SEG_OK) {
    g_set_error (error, SEGD_CONFIG_ERROR, SEGD_CONFIG_ERROR_VALUE,
        "[segmenter] model: cannot load %s: %s", path,
        msg ? msg : seg_status_str (st));
    free (msg);
    return FALSE;
  }
  seg_model_free (model);
  return TRUE;
}

SegdDaemon *
segd_daemon_new (SegdConfig *config, const SegdConfigSources *sources,
    int *exit_status, GError **error)
{
  SegdDaemon *d = g_new0 (SegdDaemon, 1);
  SegdPipelineParts parts;
  GstBus *bus;
  GstPad *pad;

  *exit_status = SEGD_EXIT_SOFTWARE;
  g_mutex_init (&d->lock);
  gst_segment_init (&d->segment, GST_FORMAT_UNDEFINED);
  d->config = config;
  d->config_dir = g_strdup (sources ? sources->config_dir : NULL);
  d->files = g_strdupv (sources ? (gchar **) sources->files : NULL);
  d->overrides = g_strdupv (sources ? (gchar **) sources->overrides : NULL);
  d->loop = g_main_loop_new (NULL, FALSE);
  d->pipeline = gst_pipeline_new ("segd");
  d->state = STATE_STARTING;

  if (!segd_pipeline_build (d->pipeline, config, &parts, exit_status, error))
    goto failed;
  d->head = parts.head;
  d->segmenter = parts.segmenter;
  d->sink = parts.sink;
  apply_segmenter (d, config, FALSE);

  pad = gst_element_get_static_pad (d->sink, "sink");
  gst_pad_add_probe (pad,
      GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM,
      sink_probe, d, NULL);
  gst_object_unref (pad);

  bus = gst_pipeline_get_bus (GST_PIPELINE (d->pipeline));
  d->bus_id = gst_bus_add_watch (bus, bus_watch, d);
  gst_object_unref (bus);
  d->hotplug = segd_hotplug_new (camera_appeared, d);
  d->http = segd_http_new (config, d->pipeline, get_status, d);

  *exit_status = SEGD_EXIT_OK;
  return d;

failed:
  segd_daemon_free (d);
  return NULL;
}

void
segd_daemon_start (SegdDaemon *d)
{
  /* segd_daemon_run has its own; a stream of several needs its counters
   * in its status message every second too. */
  if (d->embedded && !d->hooks.status_id)
    d->hooks.status_id = g_timeout_add_seconds (1, status_tick, d);
  if (gst_element_set_state (d->pipeline, GST_STATE_PLAYING)
      == GST_STATE_CHANGE_FAILURE) {
    /* The bus has the reason; let the loop report it. */
    g_debug ("pipeline failed to start");
  }
  if (d->config->on_demand) {
    g_message ("on demand: the source opens when a subscriber connects");
    set_state (d, STATE_IDLE, NULL);
  } else {
    start_source (d);
  }
}

SegdDaemon *
segd_daemon_new_stream (SegdConfig *config, GMainLoop *loop,
    const gchar *engine, const gchar *endpoint, int *exit_status,
    GError **error)
{
  SegdDaemon *d = segd_daemon_new (config, NULL, exit_status, error);

  if (!d)
    return NULL;
  d->embedded = TRUE;
  g_main_loop_unref (d->loop);
  d->loop = g_main_loop_ref (loop);
  g_object_set (d->segmenter, "engine", engine, "weight", config->weight,
      "max-latency", (guint64) (config->max_latency * GST_MSECOND), NULL);
  if (endpoint && segd_has_property (d->sink, "endpoint"))
    g_object_set (d->sink, "endpoint", endpoint, NULL);
  return d;
}

const SegdConfig *
segd_daemon_get_config (SegdDaemon *d)
{
  return d->config;
}

int
segd_daemon_get_exit_status (SegdDaemon *d)
{
  return d->exit_status;
}

GError *
segd_daemon_take_error (SegdDaemon *d)
{
  return g_steal_pointer (&d->error);
}

int
segd_daemon_run (SegdDaemon *d, GError **error)
{
  static const SegdHookFuncs funcs = {
      on_stop_signal,
      on_reload_signal,
      status_tick,
      watchdog_tick,
  };

  segd_hooks_add (&d->hooks, &funcs, d);
  segd_daemon_start (d);
  if (d->exit_status == SEGD_EXIT_OK)
    g_main_loop_run (d->loop);

  /* There is nothing left to reload, but a SIGHUP (systemctl reload while
   * the file ends or the unit stops) must not kill a clean shutdown. */
  segd_hooks_end_reload (&d->hooks);

  {
    gdouble p50, p99;

    if (segd_daemon_latency_percentiles (d, &p50, &p99))
      g_message ("%" G_GUINT64_FORMAT " masks published; capture to "
                 "publish p50 %.1f ms, p99 %.1f ms",
          segd_daemon_masks_published (d), p50, p99);
  }
  gst_element_set_state (d->pipeline, GST_STATE_NULL);
  if (d->error)
    g_propagate_error (error, g_steal_pointer (&d->error));
  return d->exit_status;
}

void
segd_daemon_free (SegdDaemon *d)
{
  if (!d)
    return;
  segd_hooks_clear (&d->hooks);
  g_clear_handle_id (&d->retry_id, g_source_remove);
  g_clear_handle_id (&d->grace_id, g_source_remove);
  g_clear_handle_id (&d->stop_id, g_source_remove);
  g_clear_handle_id (&d->bus_id, g_source_remove);
  g_clear_pointer (&d->hotplug, segd_hotplug_free);
  if (d->pipeline) {
    gst_element_set_state (d->pipeline, GST_STATE_NULL);
    gst_object_unref (d->pipeline);
  }
  /* After the pipeline: no streaming thread is in its probes now. */
  g_clear_pointer (&d->http, segd_http_free);
  g_clear_object (&d->source);
  g_clear_pointer (&d->loop, g_main_loop_unref);
  segd_config_free (d->config);
  g_free (d->config_dir);
  g_strfreev (d->files);
  g_strfreev (d->overrides);
  g_free (d->source_desc);
  g_free (d->device_path);
  g_free (d->state_detail);
  g_free (d->camera_error);
  g_free (d->network_logged);
  cancel_probe (d);
  g_free (d->model_name);
  g_free (d->model_error);
  g_free (d->model_identity);
  g_clear_error (&d->error);
  g_mutex_clear (&d->lock);
  g_free (d);
}
