/* segengine — one loaded model, its worker threads and a scheduler, shared
 * by every `segmenter` element in the process that names the same engine.
 *
 * Plain C and GLib, no GStreamer: the element hands in a callback that
 * runs one frame on a session; the engine decides when (segsched.h) and on
 * which worker. Each worker owns a single-threaded session, so the engine
 * runs as many frames at once as it has workers: on a busy host that beats
 * splitting one frame over threads (measured in docs/daemon.md).
 */
#ifndef SEG_ENGINE_H
#define SEG_ENGINE_H

#include "segsched.h"

#include <glib.h>
#include <segmenter/seg.h>

G_BEGIN_DECLS

typedef struct _SegEngine SegEngine;
typedef struct _SegEngineStream SegEngineStream;

typedef enum
{
  SEG_ENGINE_DONE,      /* the callback ran and returned TRUE */
  SEG_ENGINE_FAILED,    /* the callback ran and returned FALSE */
  SEG_ENGINE_DROPPED,   /* stale or superseded: not run */
  SEG_ENGINE_CANCELLED, /* the stream is flushing */
} SegEngineResult;

/* Runs one frame on a worker's session, on that worker's thread or on the
 * thread of seg_engine_stream_run; `job` is what was passed to
 * seg_engine_stream_run. Called without any engine lock held. */
typedef gboolean (*SegEngineRunFunc) (seg_session *session,
    const seg_model_info *info, gpointer job);

/* The engine called `name`, created (model loaded, `threads` workers
 * started; 0: one per CPU) if no one holds it yet. (transfer full): release
 * with seg_engine_unref. Fails with *error set (transfer full, g_free) when
 * the model does not load, or when the engine exists with another model. */
SegEngine *seg_engine_get (const gchar *name, const gchar *model_path,
    gint threads, gchar **error);
void seg_engine_unref (SegEngine *engine);

const gchar *seg_engine_get_name (SegEngine *engine);
const seg_model_info *seg_engine_get_info (SegEngine *engine);
gint seg_engine_get_workers (SegEngine *engine);

/* A stream in the engine's scheduler (transfer full; free with
 * seg_engine_stream_free, never while seg_engine_stream_run waits).
 * `name` is for logs and stats. */
SegEngineStream *seg_engine_stream_new (SegEngine *engine, const gchar *name,
    gdouble weight, guint64 max_latency_ns);
void seg_engine_stream_free (SegEngineStream *stream);
void seg_engine_stream_configure (SegEngineStream *stream, gdouble weight,
    guint64 max_latency_ns);

/* Queues a frame captured at `capture_ns` (g_get_monotonic_time () * 1000
 * clock) and waits until the scheduler ran it, dropped it or the stream
 * was unblocked. With a worker idle the frame runs on this thread, on that
 * worker's session; otherwise a worker runs it: `func` must not care
 * which thread calls it. */
SegEngineResult seg_engine_stream_run (SegEngineStream *stream,
    guint64 capture_ns, SegEngineRunFunc func, gpointer job);

/* Makes a waiting seg_engine_stream_run return CANCELLED now (unless its
 * frame already runs: then when it finishes), and later ones at once,
 * until seg_engine_stream_unblock_stop. */
void seg_engine_stream_unblock (SegEngineStream *stream);
void seg_engine_stream_unblock_stop (SegEngineStream *stream);

void
seg_engine_stream_get_stats (SegEngineStream *stream, SegSchedStats *stats);

G_END_DECLS

#endif /* SEG_ENGINE_H */
