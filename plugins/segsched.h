/* segsched — decides which stream's frame a shared engine runs next.
 *
 * Pure bookkeeping: no threads, no clock, no model. The caller (segengine.c,
 * or a test with a fake clock and fake costs) passes the time in and holds
 * whatever lock it needs. Times are nanoseconds on one monotonic clock.
 *
 * Policy, in short (the long version is in docs/daemon.md):
 *  - each stream holds at most one waiting frame; a newer one replaces it
 *    (the old one is "superseded", counted as dropped);
 *  - among streams with a waiting frame and nothing in flight, the one with
 *    the smallest virtual time runs next; running a frame adds
 *    cost / weight to its stream's virtual time (start-time fair queueing),
 *    so under overload capacity splits by weight and every stream with a
 *    positive weight keeps getting turns;
 *  - a stream that was idle re-enters at the current virtual time: it
 *    neither banks credit while away nor is punished for returning;
 *  - a waiting frame that can no longer finish within its stream's budget
 *    (age + expected cost > max-latency) is dropped as stale instead of
 *    run, unless the budget is smaller than the cost itself (then nothing
 *    could ever meet it, and dropping everything would starve the stream).
 */
#ifndef SEG_SCHED_H
#define SEG_SCHED_H

#include <glib.h>

G_BEGIN_DECLS

typedef struct _SegSched SegSched;
typedef struct _SegSchedStream SegSchedStream;

typedef struct
{
  guint64 frames_in;      /* frames submitted */
  guint64 inferred;       /* frames run to the end */
  guint64 superseded;     /* replaced by a newer frame before they ran */
  guint64 stale;          /* dropped: they could not meet the budget */
  gdouble p50_ms, p99_ms; /* capture -> finished, last 256 frames */
  gdouble weight;
  guint64 max_latency_ns;
} SegSchedStats;

/* A frame that leaves without running: superseded or stale. */
typedef void (*SegSchedDropFunc) (SegSchedStream *stream, gpointer frame,
    gboolean stale, gpointer user_data);

/* (transfer full); free with seg_sched_free once every stream is removed. */
SegSched *seg_sched_new (void);
void seg_sched_free (SegSched *sched);

/* Adds a stream (transfer none: owned by the scheduler until removed).
 * weight > 0; max_latency_ns 0: no budget. */
SegSchedStream *seg_sched_add (SegSched *sched, gdouble weight,
    guint64 max_latency_ns, gpointer user_data);

/* Removes a stream; its waiting frame, if any, goes to `drop` (counted as
 * superseded). The stream must have no frame in flight. */
void seg_sched_remove (SegSched *sched, SegSchedStream *stream,
    SegSchedDropFunc drop, gpointer user_data);

void seg_sched_configure (SegSched *sched, SegSchedStream *stream,
    gdouble weight, guint64 max_latency_ns);

gpointer seg_sched_stream_get_user_data (SegSchedStream *stream);
gboolean
seg_sched_stream_busy (SegSchedStream *stream); /* waiting or running */

/* A frame captured at `capture_ns` arrives at `now`. A frame still waiting
 * on this stream goes to `drop` as superseded. */
void seg_sched_submit (SegSched *sched, SegSchedStream *stream, gpointer frame,
    guint64 capture_ns, guint64 now, SegSchedDropFunc drop, gpointer user_data);

/* Takes back a waiting frame that has not started (its submitter gave up,
 * e.g. flushing). TRUE if it was still waiting. Not counted as dropped. */
gboolean seg_sched_withdraw (SegSched *sched, SegSchedStream *stream);

/* Whether a frame waits that seg_sched_pick could return (stale frames
 * included: pick drops those). */
gboolean seg_sched_runnable (SegSched *sched);

/* The next frame to run at `now`, or NULL when no stream is runnable.
 * Stale frames met on the way go to `drop`. The returned stream is in
 * flight until seg_sched_finish. */
SegSchedStream *seg_sched_pick (SegSched *sched, guint64 now, gpointer *frame,
    guint64 *capture_ns, SegSchedDropFunc drop, gpointer user_data);

/* The frame picked for `stream` ran from `start` to `end`; `ok` FALSE when
 * it failed (not counted as inferred). */
void seg_sched_finish (SegSched *sched, SegSchedStream *stream,
    guint64 capture_ns, guint64 start, guint64 end, gboolean ok);

/* The expected cost of one frame (ns): a moving average of recent runs. */
guint64 seg_sched_expected_cost (SegSched *sched);

void seg_sched_get_stats (SegSched *sched, SegSchedStream *stream,
    SegSchedStats *stats);

G_END_DECLS

#endif /* SEG_SCHED_H */
