/* segd-status — what the daemon says about its stream: the STATUS= line
 * systemd shows, the sink's camera-state and model-state (and, for one
 * stream of several, its counters), and the SegdStatus snapshot the status
 * page and /metrics read. It reads the daemon's fields
 * (segd-daemon-private.h) and changes none of them: every decision about
 * the stream stays in segd-daemon.c, which calls
 * segd_daemon_update_status after each one.
 */
#include "segd-status.h"

#include "segd-daemon-private.h"
#include "segd-notify.h"
#include "segd-pipeline.h"

#include <stdlib.h>
#include <string.h>

void
segd_status_clear (SegdStatus *st)
{
  g_free (st->stream);
  g_free (st->source);
  g_free (st->camera_detail);
  g_free (st->model);
  g_free (st->model_error);
  g_free (st->status_line);
  memset (st, 0, sizeof *st);
}

static gint
compare_times (gconstpointer a, gconstpointer b)
{
  GstClockTime x = *(const GstClockTime *) a, y = *(const GstClockTime *) b;

  return x < y ? -1 : x > y;
}

gboolean
segd_daemon_latency_percentiles (SegdDaemon *d, gdouble *p50, gdouble *p99)
{
  GstClockTime copy[LATENCY_SAMPLES];
  guint n;

  g_mutex_lock (&d->lock);
  n = d->latency_n;
  memcpy (copy, d->latency, n * sizeof copy[0]);
  g_mutex_unlock (&d->lock);
  if (!n)
    return FALSE;
  qsort (copy, n, sizeof copy[0], compare_times);
  *p50 = copy[n / 2] / 1e6;
  *p99 = copy[MIN (n - 1, n * 99 / 100)] / 1e6;
  return TRUE;
}

/* Seconds since the last mask while running and past stall-timeout (a
 * live camera that stopped sending frames without an error), else 0. */
static gdouble
stalled_for (SegdDaemon *d)
{
  gint64 age;

  if (d->state != STATE_RUNNING)
    return 0;
  g_mutex_lock (&d->lock);
  age = g_get_monotonic_time () - d->last_mask_us;
  g_mutex_unlock (&d->lock);
  return age >= (gint64) (d->config->stall_timeout * 1e6) ? age / 1e6 : 0;
}

static const gchar *
camera_state (SegdDaemon *d)
{
  switch (d->state) {
    case STATE_RUNNING:
      return stalled_for (d) > 0 ? "stalled" : "ok";
    case STATE_STARTING:
      /* A retry is no recovery until frames come. */
      return d->camera_error ? d->camera_error : "ok";
    case STATE_WAITING:
      if (d->camera_error)
        return d->camera_error;
      return d->state_detail ? d->state_detail : "waiting";
    case STATE_IDLE:
      return "idle";
    case STATE_ENDED:
      return "stalled";
    case STATE_STOPPING:
    default:
      return "stopping";
  }
}

guint64
segd_daemon_masks_published (SegdDaemon *d)
{
  guint64 n;

  g_mutex_lock (&d->lock);
  n = d->masks;
  g_mutex_unlock (&d->lock);
  return n;
}

static gchar *
status_line (SegdDaemon *d)
{
  GString *s = g_string_new (NULL);
  gdouble p50, p99;

  switch (d->state) {
    case STATE_RUNNING:
      if (stalled_for (d) > 0) {
        g_string_append_printf (s, "stalled: no mask for %.1f s",
            stalled_for (d));
        break;
      }
      g_string_append_printf (s, "streaming %.1f fps, inference %.1f ms",
          d->fps, d->inference_ms);
      if (segd_daemon_latency_percentiles (d, &p50, &p99))
        g_string_append_printf (s, ", latency p50 %.1f ms p99 %.1f ms", p50,
            p99);
      break;
    case STATE_STARTING:
      if (d->camera_error)
        g_string_append_printf (s, "%s, retrying (%s)",
            d->state_detail ? d->state_detail : "starting", d->camera_error);
      else
        g_string_append (s, "starting");
      break;
    case STATE_WAITING:
      g_string_append (s, d->state_detail ? d->state_detail : "waiting");
      if (d->camera_error)
        g_string_append_printf (s, " (%s)", d->camera_error);
      break;
    case STATE_IDLE:
      g_string_append (s, "idle, source closed until a subscriber connects");
      break;
    case STATE_ENDED:
      g_string_append (s, "stalled: the source sends no frames");
      break;
    case STATE_STOPPING:
      g_string_append (s, "stopping");
      break;
  }
  g_string_append_printf (s,
      ", %d subscriber%s, %" G_GUINT64_FORMAT " masks, model %s",
      d->subscribers, d->subscribers == 1 ? "" : "s",
      segd_daemon_masks_published (d), d->model_name ? d->model_name : "?");
  if (d->model_error)
    g_string_append_printf (s, ", %s", d->model_error);
  return g_string_free (s, FALSE);
}

/* A stream of several: its state and the engine's counters for it go in
 * its own status message; systemd hears from SegdStreams. */
static void
update_stream_status (SegdDaemon *d)
{
  g_autoptr (GString) extra = g_string_new (NULL);
  GstStructure *s = NULL;
  gdouble p50 = 0, p99 = 0, weight = 0;
  guint64 frames = 0, inferences = 0, dropped = 0, budget = 0;

  if (d->sink && segd_has_property (d->sink, "camera-state"))
    g_object_set (d->sink, "camera-state", camera_state (d), NULL);
  if (d->sink && segd_has_property (d->sink, "model-state"))
    g_object_set (d->sink, "model-state",
        d->model_error ? d->model_error : "ok", NULL);
  if (!d->sink || !segd_has_property (d->sink, "extra-status"))
    return;
  g_object_get (d->segmenter, "stats", &s, NULL);
  if (s) {
    gst_structure_get_uint64 (s, "frames-in", &frames);
    gst_structure_get_uint64 (s, "inferences", &inferences);
    gst_structure_get_uint64 (s, "dropped", &dropped);
    gst_structure_get_double (s, "weight", &weight);
    gst_structure_get_uint64 (s, "max-latency", &budget);
    gst_structure_get_double (s, "latency-p50-ms", &p50);
    gst_structure_get_double (s, "latency-p99-ms", &p99);
    gst_structure_free (s);
  }
  g_string_append_printf (extra,
      "weight=%g\nmax_latency_ms=%g\n"
      "frames_in=%" G_GUINT64_FORMAT "\ninferred=%" G_GUINT64_FORMAT
      "\ndropped=%" G_GUINT64_FORMAT "\nlatency_p50_ms=%.1f\n"
      "latency_p99_ms=%.1f\n",
      weight, budget / 1e6, frames, inferences, dropped, p50, p99);
  g_object_set (d->sink, "extra-status", extra->str, NULL);
}

void
segd_daemon_update_status (SegdDaemon *d)
{
  g_autofree gchar *line = status_line (d);

  if (d->embedded) {
    update_stream_status (d);
    return;
  }
  if (d->sink && segd_has_property (d->sink, "camera-state"))
    g_object_set (d->sink, "camera-state", camera_state (d), NULL);
  if (d->sink && segd_has_property (d->sink, "model-state"))
    g_object_set (d->sink, "model-state",
        d->model_error ? d->model_error : "ok", NULL);
  segd_notify_status (line);
}

void
segd_daemon_get_status (SegdDaemon *d, SegdStatus *st)
{
  static const gchar *const states[] = {
      [STATE_STARTING] = "starting",
      [STATE_RUNNING] = "streaming",
      [STATE_WAITING] = "waiting",
      [STATE_IDLE] = "idle",
      [STATE_ENDED] = "stalled",
      [STATE_STOPPING] = "stopping",
  };
  static const gchar *const cameras[] = {
      [STATE_STARTING] = "ok",
      [STATE_RUNNING] = "ok",
      [STATE_WAITING] = "waiting",
      [STATE_IDLE] = "idle",
      [STATE_ENDED] = "stalled",
      [STATE_STOPPING] = "stopping",
  };

  st->stream = g_strdup (d->config->stream_name);
  st->source = g_strdup (d->source ? d->source_desc : NULL);
  st->state = states[d->state];
  st->camera_state = cameras[d->state];
  /* A live camera that stopped sending frames, as camera_state says. */
  if (d->state == STATE_RUNNING && stalled_for (d) > 0)
    st->state = st->camera_state = "stalled";
  st->camera_detail = g_strdup (d->state_detail);
  /* A network camera that cannot be reached: the word of camera_state in
   * the ZeroMQ status, and the detail says what and why, as STATUS does. */
  if (d->camera_error
      && (d->state == STATE_WAITING || d->state == STATE_STARTING)) {
    st->camera_state = g_str_has_prefix (d->camera_error, "blocked:")
        ? "blocked"
        : "network-error";
    g_free (st->camera_detail);
    st->camera_detail = d->state_detail
        ? g_strdup_printf ("%s (%s)", d->state_detail, d->camera_error)
        : g_strdup (d->camera_error);
  }
  st->model = g_strdup (d->model_name);
  st->model_error = g_strdup (d->model_error);
  st->status_line = status_line (d);
  st->fps = d->state == STATE_RUNNING ? d->fps : 0;
  st->inference_ms = d->inference_ms;
  st->have_latency = segd_daemon_latency_percentiles (d, &st->latency_p50_ms,
      &st->latency_p99_ms);
  st->subscribers = d->subscribers;
  st->masks = segd_daemon_masks_published (d);
}

gchar *
segd_daemon_get_status_line (SegdDaemon *d)
{
  return status_line (d);
}
