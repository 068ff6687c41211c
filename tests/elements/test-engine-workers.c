/* The shared engine's workers (plugins/segengine.c), driven directly with
 * a callback that records which worker's session ran each frame, and on
 * which thread:
 *
 * - frames of one stream, one after another, all run on the same session
 *   (the one that went idle last), so when capacity suffices the work
 *   stays on warm caches instead of visiting every session in turn; and
 *   on the submitting thread itself, with no thread switch;
 * - frames that arrive while that session is busy take another one, so a
 *   second stream does not wait behind the first;
 * - with more streams than sessions, frames that queued run on the
 *   workers' own threads, and every frame runs.
 */
#include "common.h"
#include "segengine.h"

#define WORKERS 3
#define FRAMES 40
/* A latency budget no frame here comes near: none is dropped as stale. */
#define BUDGET_NS (G_GUINT64_CONSTANT (10) * 1000000000)

typedef struct
{
  seg_session *session;
  GThread *thread;
  gulong sleep_us;
} Job;

static gboolean
record (seg_session *session, const seg_model_info *info, gpointer data)
{
  Job *job = data;

  (void) info;
  job->session = session;
  job->thread = g_thread_self ();
  if (job->sleep_us)
    g_usleep (job->sleep_us);
  return TRUE;
}

static guint64
now_ns (void)
{
  return (guint64) g_get_monotonic_time () * 1000;
}

static void
test_one_stream_stays_on_one_worker (SegEngine *engine)
{
  SegEngineStream *stream =
      seg_engine_stream_new (engine, "one", 1.0, BUDGET_NS);
  seg_session *first = NULL;

  for (guint i = 0; i < FRAMES; i++) {
    Job job = {0};

    CHECK (seg_engine_stream_run (stream, now_ns (), record, &job)
            == SEG_ENGINE_DONE,
        "frame %u ran", i);
    /* The first frame may go to any worker; after it, that worker is the
     * last to have gone idle. */
    if (i == 0)
      first = job.session;
    CHECK (job.session == first, "frame %u ran on another worker", i);
    CHECK (job.thread == g_thread_self (),
        "frame %u went to a worker thread with a worker idle", i);
  }
  seg_engine_stream_free (stream);
}

typedef struct
{
  SegEngineStream *stream;
  GPtrArray *sessions;
  guint on_worker; /* frames run by a thread other than the feeder's */
} Feeder;

static gpointer
feed (gpointer data)
{
  Feeder *f = data;

  for (guint i = 0; i < FRAMES / 4; i++) {
    Job job = {.sleep_us = 5000};
    SegEngineResult r =
        seg_engine_stream_run (f->stream, now_ns (), record, &job);

    CHECK (r == SEG_ENGINE_DONE, "frame %u: result %d", i, r);
    g_ptr_array_add (f->sessions, job.session);
    f->on_worker += job.thread != g_thread_self ();
  }
  return NULL;
}

static void
test_busy_worker_wakes_another (SegEngine *engine)
{
  Feeder f[2];
  GThread *threads[2];
  guint concurrent = 0;

  for (guint i = 0; i < 2; i++) {
    f[i].stream = seg_engine_stream_new (engine, "busy", 1.0, BUDGET_NS);
    f[i].sessions = g_ptr_array_new ();
  }
  for (guint i = 0; i < 2; i++)
    threads[i] = g_thread_new ("feeder", feed, &f[i]);
  for (guint i = 0; i < 2; i++)
    g_thread_join (threads[i]);
  /* Two streams each keep a frame in flight most of the time: they must
   * have been on different workers for most frames. */
  for (guint i = 0; i < FRAMES / 4; i++)
    concurrent += g_ptr_array_index (f[0].sessions, i)
        != g_ptr_array_index (f[1].sessions, i);
  CHECK (concurrent >= FRAMES / 8, "only %u of %u frame pairs ran apart",
      concurrent, FRAMES / 4);
  for (guint i = 0; i < 2; i++) {
    seg_engine_stream_free (f[i].stream);
    g_ptr_array_unref (f[i].sessions);
  }
}

/* Twice as many streams as sessions, each keeping a frame in flight:
 * frames queue, the workers wake for them, and no frame is lost. */
static void
test_queued_frames_run_on_workers (SegEngine *engine)
{
  enum
  {
    STREAMS = 2 * WORKERS
  };
  Feeder f[STREAMS];
  GThread *threads[STREAMS];
  guint on_worker = 0;

  for (guint i = 0; i < STREAMS; i++) {
    f[i].stream = seg_engine_stream_new (engine, "many", 1.0, BUDGET_NS);
    f[i].sessions = g_ptr_array_new ();
    f[i].on_worker = 0;
  }
  for (guint i = 0; i < STREAMS; i++)
    threads[i] = g_thread_new ("feeder", feed, &f[i]);
  for (guint i = 0; i < STREAMS; i++)
    g_thread_join (threads[i]);
  for (guint i = 0; i < STREAMS; i++) {
    CHECK (f[i].sessions->len == FRAMES / 4, "stream %u ran %u frames", i,
        f[i].sessions->len);
    on_worker += f[i].on_worker;
    seg_engine_stream_free (f[i].stream);
    g_ptr_array_unref (f[i].sessions);
  }
  CHECK (on_worker > 0, "no queued frame ran on a worker's thread");
}

int
main (void)
{
  gchar *model = test_model ("selfie_segmentation.tflite");
  gchar *error = NULL;
  SegEngine *engine = seg_engine_get ("workers", model, WORKERS, &error);

  CHECK (engine, "engine: %s", error ? error : "?");
  CHECK (seg_engine_get_workers (engine) == WORKERS, "%d workers",
      seg_engine_get_workers (engine));
  test_one_stream_stays_on_one_worker (engine);
  test_busy_worker_wakes_another (engine);
  test_queued_frames_run_on_workers (engine);
  /* And again after the others have been woken and gone idle. */
  test_one_stream_stays_on_one_worker (engine);
  seg_engine_unref (engine);
  g_free (model);
  printf ("engine-workers: ok\n");
  return 0;
}
