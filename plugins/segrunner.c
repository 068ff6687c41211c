/* segrunner — loading a model for a segmenter of its own (segrunner.h).
 * threads=0 times every thread count on the model itself rather than
 * trusting the CPU count, because the fastest count depends on the model
 * and its input size as much as on the machine (segthreads.h).
 */
#include "segrunner.h"

#include "segthreads.h"

#include <stdlib.h>

struct _SegRunner
{
  gint refcount;
  guint generation;
  gchar *path;
  seg_model *model;
  seg_session *session;
  const seg_model_info *info;
  GstClockTime warm_latency;
  gint threads; /* what threads=0 chose, or threads */
};

SegRunner *
seg_runner_ref (SegRunner *runner)
{
  g_atomic_int_inc (&runner->refcount);
  return runner;
}

void
seg_runner_unref (SegRunner *runner)
{
  if (!runner || !g_atomic_int_dec_and_test (&runner->refcount))
    return;
  seg_session_free (runner->session);
  seg_model_free (runner->model);
  g_free (runner->path);
  g_free (runner);
}

/* Thread counts threads=0 tries, and timed runs of each. */
#define AUTO_THREADS_MAX 4
#define AUTO_THREADS_ROUNDS 7

typedef struct
{
  seg_session *sessions[AUTO_THREADS_MAX + 1];
  const seg_frame *frame;
} AutoThreads;

static gdouble
time_run (gpointer data, guint threads)
{
  AutoThreads *a = data;
  gint64 t0 = g_get_monotonic_time ();

  if (seg_session_run_frame (a->sessions[threads], a->frame) != SEG_OK)
    return -1.0;
  return (g_get_monotonic_time () - t0) / 1e6;
}

/* threads=0: a session on each count up to the CPUs (at most
 * AUTO_THREADS_MAX), timed on `frame`; returns the fastest by
 * seg_threads_choose's rule and frees the others. */
static seg_status
auto_threads_session (seg_model *model, seg_session_options *options,
    const seg_frame *frame, seg_session **out, char **msg)
{
  AutoThreads a = {{NULL}, frame};
  guint max = MIN (g_get_num_processors (), AUTO_THREADS_MAX), best;
  seg_status st = SEG_OK;

  for (guint t = 1; t <= max && st == SEG_OK; t++) {
    options->threads = (int) t;
    st = seg_session_new (model, options, &a.sessions[t], msg);
    /* the first run of a session fills its caches and pages */
    if (st == SEG_OK)
      st = seg_session_run_frame (a.sessions[t], frame);
    if (st != SEG_OK && t > 1) {
      /* a count that cannot run is not a reason to fail the load */
      g_clear_pointer (&a.sessions[t], seg_session_free);
      g_clear_pointer (msg, free);
      max = t - 1;
      st = SEG_OK;
      break;
    }
  }
  best = st == SEG_OK
      ? seg_threads_choose (max, AUTO_THREADS_ROUNDS, time_run, &a)
      : 1;
  for (guint t = 1; t <= max; t++)
    if (t != best)
      seg_session_free (a.sessions[t]);
  *out = st == SEG_OK ? a.sessions[best] : NULL;
  if (st != SEG_OK)
    seg_session_free (a.sessions[best]);
  options->threads = (int) best;
  return st;
}

SegRunner *
seg_runner_load (const gchar *path, gint threads, guint generation,
    gchar **error)
{
  SegRunner *runner = g_new0 (SegRunner, 1);
  seg_session_options options = {.skip_final_resize = 1};
  seg_frame frame = {0};
  guint8 *gray = NULL;
  char *msg = NULL;
  seg_status st;
  GstClockTime t0;

  runner->refcount = 1;
  runner->generation = generation;
  runner->path = g_strdup (path);

  if (!path || !*path)
    goto no_path;

  st = seg_model_load (runner->path, &runner->model, &msg);
  if (st != SEG_OK)
    goto failed;
  runner->info = seg_model_get_info (runner->model);

  frame.format = SEG_PIXEL_GRAY8;
  frame.width = runner->info->input_width;
  frame.height = runner->info->input_height;
  gray = g_malloc0 ((gsize) frame.width * frame.height);
  frame.planes[0] = gray;
  frame.strides[0] = frame.width;

  if (threads > 0) {
    options.threads = threads;
    st = seg_session_new (runner->model, &options, &runner->session, &msg);
  } else {
    st = auto_threads_session (runner->model, &options, &frame,
        &runner->session, &msg);
  }
  if (st != SEG_OK) {
    g_free (gray);
    goto failed;
  }
  runner->threads = options.threads;

  t0 = gst_util_get_timestamp ();
  st = seg_session_run_frame (runner->session, &frame);
  runner->warm_latency = gst_util_get_timestamp () - t0;
  g_free (gray);
  if (st != SEG_OK)
    goto failed;

  return runner;

  /* ERRORS */
no_path : {
  *error = g_strdup ("no model file given");
  seg_runner_unref (runner);
  return NULL;
}
failed : {
  *error = g_strdup_printf ("%s (%s)", seg_status_str (st),
      msg ? msg : "no details");
  free (msg);
  seg_runner_unref (runner);
  return NULL;
}
}

const gchar *
seg_runner_get_path (SegRunner *runner)
{
  return runner->path;
}

const seg_model_info *
seg_runner_get_info (SegRunner *runner)
{
  return runner->info;
}

guint
seg_runner_get_generation (SegRunner *runner)
{
  return runner->generation;
}

gint
seg_runner_get_threads (SegRunner *runner)
{
  return runner->threads;
}

GstClockTime
seg_runner_get_warm_latency (SegRunner *runner)
{
  return runner->warm_latency;
}

seg_session *
seg_runner_get_session (SegRunner *runner)
{
  return runner->session;
}
