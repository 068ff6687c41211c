/* The shared engine's workers (plugins/segengine.c), driven directly with
 * a callback that records which worker's session ran each frame:
 *
 * - frames of one stream, one after another, all run on the same worker:
 *   the one that went idle last is woken, so when capacity suffices the
 *   work stays on one core's warm caches instead of visiting every worker
 *   in turn;
 * - frames that arrive while that worker is busy wake another one, so a
 *   second stream does not wait behind the first.
 */
#include "common.h"
#include "segengine.h"

#define WORKERS 3
#define FRAMES 40

typedef struct
{
  seg_session *session;
  gulong sleep_us;
} Job;

static gboolean
record (seg_session *session, const seg_model_info *info, gpointer data)
{
  Job *job = data;

  (void) info;
  job->session = session;
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
      seg_engine_stream_new (engine, "one", 1.0, 10 * G_TIME_SPAN_SECOND);
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
  }
  seg_engine_stream_free (stream);
}

typedef struct
{
  SegEngineStream *stream;
  GPtrArray *sessions;
} Feeder;

static gpointer
feed (gpointer data)
{
  Feeder *f = data;

  for (guint i = 0; i < FRAMES / 4; i++) {
    Job job = {.sleep_us = 5000};

    CHECK (seg_engine_stream_run (f->stream, now_ns (), record, &job)
            == SEG_ENGINE_DONE,
        "frame %u ran", i);
    g_ptr_array_add (f->sessions, job.session);
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
    f[i].stream =
        seg_engine_stream_new (engine, "busy", 1.0, 10 * G_TIME_SPAN_SECOND);
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
  /* And again after the others have been woken and gone idle. */
  test_one_stream_stays_on_one_worker (engine);
  seg_engine_unref (engine);
  g_free (model);
  printf ("engine-workers: ok\n");
  return 0;
}
