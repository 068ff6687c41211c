/* segengine — the process-wide registry of shared engines and their
 * workers.
 *
 * One mutex per engine guards the scheduler and every waiting job; the
 * callbacks (the actual inference) run outside it. A streaming thread puts
 * a Job (on its own stack) into the scheduler. If a worker is idle,
 * nothing else waits, and the streaming thread runs the frame itself on
 * that worker's session (the worker sleeps on): no thread switch at all
 * when capacity suffices. Otherwise it sleeps on the job's own condition
 * until a worker or the scheduler settled it, so nothing is allocated per
 * frame and a finished frame wakes its own streaming thread only, not
 * every stream's.
 *
 * Idle workers wait on a stack, each on its own condition, and a frame
 * takes the session of the one that went idle last: when capacity
 * suffices one session runs most frames and its activations and the
 * weights stay warm, where taking sessions in turn would start every
 * frame on a cold cache. The others serve frames that arrive while it is
 * busy; a worker wakes only for frames that queued while every session
 * was busy.
 */
#include "segengine.h"

#include <stdlib.h>
#include <string.h>

typedef struct
{
  SegEngineRunFunc func;
  gpointer data;
  SegEngineResult result;
  gboolean settled;
  GCond done;
} Job;

typedef struct
{
  SegEngine *engine;
  seg_session *session;
  GThread *thread;
  GCond wake;
  gboolean idle; /* on the engine's idle stack */
} Worker;

struct _SegEngineStream
{
  SegEngine *engine;
  gchar *name;
  SegSchedStream *sched;
  Job *job; /* queued or running, NULL if none */
  gboolean flushing;
};

struct _SegEngine
{
  gint refcount; /* under `registry_lock` */
  gchar *name;
  gchar *model_path;
  seg_model *model;
  const seg_model_info *info;

  GMutex lock;
  SegSched *sched;
  gboolean quit;
  guint n_workers;
  Worker *workers;
  guint *idle; /* indices into `workers`, the last to go idle on top */
  guint n_idle;
};

static GMutex registry_lock;
static GHashTable *registry; /* name -> SegEngine (transfer none) */

static gpointer worker_main (gpointer data);

static void
engine_destroy (SegEngine *e)
{
  g_mutex_lock (&e->lock);
  e->quit = TRUE;
  for (guint i = 0; i < e->n_workers; i++)
    g_cond_signal (&e->workers[i].wake);
  g_mutex_unlock (&e->lock);
  for (guint i = 0; i < e->n_workers; i++)
    if (e->workers[i].thread)
      g_thread_join (e->workers[i].thread);
  for (guint i = 0; i < e->n_workers; i++) {
    seg_session_free (e->workers[i].session);
    g_cond_clear (&e->workers[i].wake);
  }
  g_free (e->workers);
  g_free (e->idle);
  seg_sched_free (e->sched);
  seg_model_free (e->model);
  g_mutex_clear (&e->lock);
  g_free (e->model_path);
  g_free (e->name);
  g_free (e);
}

static SegEngine *
engine_create (const gchar *name, const gchar *model_path, gint threads,
    gchar **error)
{
  SegEngine *e = g_new0 (SegEngine, 1);
  seg_session_options options = {.threads = 1, .skip_final_resize = 1};
  char *msg = NULL;
  seg_status st;

  e->name = g_strdup (name);
  /* The model keeps pointing at the path it was given: keep it alive. */
  e->model_path = g_strdup (model_path);
  g_mutex_init (&e->lock);
  e->sched = seg_sched_new ();
  e->n_workers = threads > 0 ? (guint) threads : g_get_num_processors ();
  e->n_workers = MIN (e->n_workers, SEG_MAX_THREADS);
  e->workers = g_new0 (Worker, e->n_workers);
  e->idle = g_new0 (guint, e->n_workers);
  /* Every worker starts idle, worker 0 on top. */
  for (guint i = 0; i < e->n_workers; i++) {
    e->workers[i].engine = e;
    e->workers[i].idle = TRUE;
    g_cond_init (&e->workers[i].wake);
    e->idle[i] = e->n_workers - 1 - i;
  }
  e->n_idle = e->n_workers;

  st = seg_model_load (e->model_path, &e->model, &msg);
  if (st != SEG_OK)
    goto failed;
  e->info = seg_model_get_info (e->model);
  for (guint i = 0; i < e->n_workers; i++) {
    st = seg_session_new (e->model, &options, &e->workers[i].session, &msg);
    if (st != SEG_OK)
      goto failed;
  }
  for (guint i = 0; i < e->n_workers; i++)
    e->workers[i].thread =
        g_thread_new ("segengine", worker_main, &e->workers[i]);
  return e;

  /* ERRORS */
failed : {
  *error = g_strdup_printf ("%s (%s)", seg_status_str (st),
      msg ? msg : "no details");
  free (msg);
  engine_destroy (e);
  return NULL;
}
}

SegEngine *
seg_engine_get (const gchar *name, const gchar *model_path, gint threads,
    gchar **error)
{
  SegEngine *e;

  g_return_val_if_fail (name && *name, NULL);
  if (!model_path || !*model_path) {
    *error = g_strdup ("no model file given");
    return NULL;
  }
  g_mutex_lock (&registry_lock);
  if (!registry)
    registry = g_hash_table_new (g_str_hash, g_str_equal);
  e = g_hash_table_lookup (registry, name);
  if (e) {
    if (strcmp (e->model_path, model_path)) {
      *error = g_strdup_printf ("engine \"%s\" already runs %s", name,
          e->model_path);
      e = NULL;
    } else {
      e->refcount++;
    }
    g_mutex_unlock (&registry_lock);
    return e;
  }
  /* Loading under the registry lock: a second element asking for the
   * same engine waits for this load instead of loading its own copy. */
  e = engine_create (name, model_path, threads, error);
  if (e) {
    e->refcount = 1;
    g_hash_table_insert (registry, e->name, e);
  }
  g_mutex_unlock (&registry_lock);
  return e;
}

void
seg_engine_unref (SegEngine *e)
{
  gboolean last;

  if (!e)
    return;
  g_mutex_lock (&registry_lock);
  last = --e->refcount == 0;
  if (last)
    g_hash_table_remove (registry, e->name);
  g_mutex_unlock (&registry_lock);
  if (last)
    engine_destroy (e);
}

const gchar *
seg_engine_get_name (SegEngine *e)
{
  return e->name;
}

const seg_model_info *
seg_engine_get_info (SegEngine *e)
{
  return e->info;
}

gint
seg_engine_get_workers (SegEngine *e)
{
  return (gint) e->n_workers;
}

/* Under the engine lock, which the waiter needs to return: the Job on its
 * stack outlives the signal. */
static void
job_settle (Job *job, SegEngineResult result)
{
  job->result = result;
  job->settled = TRUE;
  g_cond_signal (&job->done);
}

/* Called by the scheduler, under the engine lock. */
static void
drop_job (SegSchedStream *s, gpointer frame, gboolean stale, gpointer data)
{
  SegEngineStream *stream = seg_sched_stream_get_user_data (s);
  Job *job = frame;

  (void) stale;
  (void) data;
  if (stream->job == job)
    stream->job = NULL;
  job_settle (job, SEG_ENGINE_DROPPED);
}

/* Under the engine lock, which it drops while the frame runs: picks the
 * next frame and runs it on `session`. FALSE when nothing was runnable. */
static gboolean
run_next (SegEngine *e, seg_session *session)
{
  SegSchedStream *s;
  SegEngineStream *stream;
  gpointer frame;
  guint64 capture, start, end;
  Job *job;
  gboolean ok;

  s = seg_sched_pick (e->sched, g_get_monotonic_time () * 1000, &frame,
      &capture, drop_job, e);
  if (!s)
    return FALSE;
  stream = seg_sched_stream_get_user_data (s);
  job = frame;
  g_mutex_unlock (&e->lock);

  start = g_get_monotonic_time () * 1000;
  ok = job->func (session, e->info, job->data);
  end = g_get_monotonic_time () * 1000;

  g_mutex_lock (&e->lock);
  seg_sched_finish (e->sched, s, capture, start, end, ok);
  stream->job = NULL;
  job_settle (job, ok ? SEG_ENGINE_DONE : SEG_ENGINE_FAILED);
  return TRUE;
}

static gpointer
worker_main (gpointer data)
{
  Worker *w = data;
  SegEngine *e = w->engine;

  g_mutex_lock (&e->lock);
  for (;;) {
    while (w->idle && !e->quit)
      g_cond_wait (&w->wake, &e->lock);
    if (e->quit)
      break;
    /* No other worker to wake after a frame: this one picks again
     * itself, and frames that arrived while every worker was busy are
     * still queued. */
    if (!run_next (e, w->session)) {
      w->idle = TRUE;
      e->idle[e->n_idle++] = (guint) (w - e->workers);
    }
  }
  g_mutex_unlock (&e->lock);
  return NULL;
}

/* Under the engine lock, with a worker idle: nothing else waits, so the
 * submitting thread runs the frame itself on the idle worker's session
 * instead of waking the worker and sleeping until it is done, two thread
 * switches a frame fewer. The worker sleeps on meanwhile (off the stack,
 * `idle` still set); if frames queued up while its session was lent, it
 * wakes to run them, else the session goes back on top of the stack. */
static void
run_on_idle_session (SegEngine *e)
{
  guint i = e->idle[--e->n_idle];
  Worker *w = &e->workers[i];

  run_next (e, w->session);
  if (seg_sched_runnable (e->sched)) {
    w->idle = FALSE;
    g_cond_signal (&w->wake);
  } else {
    e->idle[e->n_idle++] = i;
  }
}

SegEngineStream *
seg_engine_stream_new (SegEngine *e, const gchar *name, gdouble weight,
    guint64 max_latency_ns)
{
  SegEngineStream *stream = g_new0 (SegEngineStream, 1);

  stream->engine = e;
  stream->name = g_strdup (name);
  g_mutex_lock (&e->lock);
  stream->sched = seg_sched_add (e->sched, weight, max_latency_ns, stream);
  g_mutex_unlock (&e->lock);
  return stream;
}

void
seg_engine_stream_free (SegEngineStream *stream)
{
  SegEngine *e;

  if (!stream)
    return;
  e = stream->engine;
  g_mutex_lock (&e->lock);
  g_assert (stream->job == NULL);
  seg_sched_remove (e->sched, stream->sched, drop_job, e);
  g_mutex_unlock (&e->lock);
  g_free (stream->name);
  g_free (stream);
}

void
seg_engine_stream_configure (SegEngineStream *stream, gdouble weight,
    guint64 max_latency_ns)
{
  SegEngine *e = stream->engine;

  g_mutex_lock (&e->lock);
  seg_sched_configure (e->sched, stream->sched, weight, max_latency_ns);
  g_mutex_unlock (&e->lock);
}

SegEngineResult
seg_engine_stream_run (SegEngineStream *stream, guint64 capture_ns,
    SegEngineRunFunc func, gpointer data)
{
  SegEngine *e = stream->engine;
  Job job = {.func = func, .data = data};

  g_mutex_lock (&e->lock);
  if (stream->flushing) {
    g_mutex_unlock (&e->lock);
    return SEG_ENGINE_CANCELLED;
  }
  g_assert (stream->job == NULL);
  g_cond_init (&job.done);
  stream->job = &job;
  seg_sched_submit (e->sched, stream->sched, &job, capture_ns,
      g_get_monotonic_time () * 1000, drop_job, e);
  if (e->n_idle > 0)
    run_on_idle_session (e);
  while (!job.settled)
    g_cond_wait (&job.done, &e->lock);
  g_mutex_unlock (&e->lock);
  g_cond_clear (&job.done);
  return job.result;
}

void
seg_engine_stream_unblock (SegEngineStream *stream)
{
  SegEngine *e = stream->engine;

  g_mutex_lock (&e->lock);
  stream->flushing = TRUE;
  if (stream->job && seg_sched_withdraw (e->sched, stream->sched)) {
    Job *job = stream->job;

    stream->job = NULL;
    job_settle (job, SEG_ENGINE_CANCELLED);
  }
  g_mutex_unlock (&e->lock);
}

void
seg_engine_stream_unblock_stop (SegEngineStream *stream)
{
  SegEngine *e = stream->engine;

  g_mutex_lock (&e->lock);
  stream->flushing = FALSE;
  g_mutex_unlock (&e->lock);
}

void
seg_engine_stream_get_stats (SegEngineStream *stream, SegSchedStats *stats)
{
  SegEngine *e = stream->engine;

  g_mutex_lock (&e->lock);
  seg_sched_get_stats (e->sched, stream->sched, stats);
  g_mutex_unlock (&e->lock);
}
