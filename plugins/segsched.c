/* segsched — start-time fair queueing over streams with one waiting frame
 * each, and a latency budget per stream. See segsched.h for the policy.
 *
 * Why virtual time rather than round robin: weights. A stream of weight 2
 * advances its virtual time half as fast per frame, so it is picked twice
 * as often while both have frames waiting, and a stream that asks for less
 * than its share (a 10 fps camera) leaves the rest to the others without
 * any bookkeeping. The virtual time is charged the expected cost at pick
 * and corrected by the real cost at finish, so several workers picking at
 * once do not all choose the same laggard.
 */
#include "segsched.h"

#include <stdlib.h>
#include <string.h>

#define LATENCY_RING 256
/* Weight of a new run in the moving average of the cost. */
#define COST_ALPHA 0.1
/* Virtual time a stream may keep in hand over the others, in its frames. */
#define CREDIT_FRAMES 2.0

struct _SegSchedStream
{
  gpointer user_data;
  gdouble weight;
  guint64 max_latency;
  gdouble vtime;

  gpointer frame; /* waiting, NULL if none */
  guint64 capture;
  gboolean running;
  guint64 charged; /* cost charged at pick */

  guint64 frames_in, inferred, superseded, stale;
  guint64 ring[LATENCY_RING];
  guint ring_len, ring_pos;
};

struct _SegSched
{
  GPtrArray *streams;
  gdouble vclock;   /* virtual time of the last frame started */
  gdouble cost;     /* ns, moving average; 0 until one ran */
  gdouble cost_dev; /* ns, moving average of |run - cost| */
};

SegSched *
seg_sched_new (void)
{
  SegSched *sched = g_new0 (SegSched, 1);

  sched->streams = g_ptr_array_new ();
  return sched;
}

void
seg_sched_free (SegSched *sched)
{
  if (!sched)
    return;
  g_assert (sched->streams->len == 0);
  g_ptr_array_unref (sched->streams);
  g_free (sched);
}

SegSchedStream *
seg_sched_add (SegSched *sched, gdouble weight, guint64 max_latency_ns,
    gpointer user_data)
{
  SegSchedStream *s = g_new0 (SegSchedStream, 1);

  s->user_data = user_data;
  s->weight = weight > 0 ? weight : 1.0;
  s->max_latency = max_latency_ns;
  s->vtime = sched->vclock;
  g_ptr_array_add (sched->streams, s);
  return s;
}

void
seg_sched_remove (SegSched *sched, SegSchedStream *stream,
    SegSchedDropFunc drop, gpointer user_data)
{
  if (!stream)
    return;
  g_assert (!stream->running);
  if (stream->frame && drop)
    drop (stream, stream->frame, FALSE, user_data);
  g_ptr_array_remove (sched->streams, stream);
  g_free (stream);
}

void
seg_sched_configure (SegSched *sched, SegSchedStream *stream, gdouble weight,
    guint64 max_latency_ns)
{
  (void) sched;
  stream->weight = weight > 0 ? weight : 1.0;
  stream->max_latency = max_latency_ns;
}

gpointer
seg_sched_stream_get_user_data (SegSchedStream *stream)
{
  return stream->user_data;
}

gboolean
seg_sched_stream_busy (SegSchedStream *stream)
{
  return stream->frame != NULL || stream->running;
}

void
seg_sched_submit (SegSched *sched, SegSchedStream *stream, gpointer frame,
    guint64 capture_ns, guint64 now, SegSchedDropFunc drop, gpointer user_data)
{
  (void) now;
  stream->frames_in++;
  if (stream->frame) {
    stream->superseded++;
    if (drop)
      drop (stream, stream->frame, FALSE, user_data);
  } else if (!stream->running) {
    /* Back from idle: no credit for the time away beyond a couple of its
     * own frames. Those few matter: a camera whose next frame is not there
     * yet when a worker frees up is not idle, only between frames, and
     * must not lose its weight for it. */
    gdouble floor =
        sched->vclock - CREDIT_FRAMES * sched->cost / stream->weight;

    if (stream->vtime < floor)
      stream->vtime = floor;
  }
  stream->frame = frame;
  stream->capture = capture_ns;
}

gboolean
seg_sched_withdraw (SegSched *sched, SegSchedStream *stream)
{
  (void) sched;
  if (!stream->frame)
    return FALSE;
  stream->frame = NULL;
  stream->frames_in--;
  return TRUE;
}

guint64
seg_sched_expected_cost (SegSched *sched)
{
  return (guint64) sched->cost;
}

/* Whether a frame waiting since `capture` can still finish in budget.
 * The run is expected to take the mean cost plus two mean deviations: on
 * a host shared with other work the cost varies, and the budget is about
 * the tail (p99), not the mean. */
static gboolean
is_stale (SegSched *sched, SegSchedStream *s, guint64 now)
{
  guint64 age = now > s->capture ? now - s->capture : 0;
  gdouble expected = sched->cost + 2.0 * sched->cost_dev;

  if (!s->max_latency || sched->cost <= 0
      || (gdouble) s->max_latency <= expected)
    return FALSE;
  return (gdouble) age + expected > (gdouble) s->max_latency;
}

gboolean
seg_sched_runnable (SegSched *sched)
{
  for (guint i = 0; i < sched->streams->len; i++) {
    SegSchedStream *s = g_ptr_array_index (sched->streams, i);

    if (s->frame && !s->running)
      return TRUE;
  }
  return FALSE;
}

SegSchedStream *
seg_sched_pick (SegSched *sched, guint64 now, gpointer *frame,
    guint64 *capture_ns, SegSchedDropFunc drop, gpointer user_data)
{
  SegSchedStream *best = NULL;

  for (guint i = 0; i < sched->streams->len; i++) {
    SegSchedStream *s = g_ptr_array_index (sched->streams, i);

    if (!s->frame || s->running)
      continue;
    if (is_stale (sched, s, now)) {
      gpointer f = s->frame;

      s->frame = NULL;
      s->stale++;
      if (drop)
        drop (s, f, TRUE, user_data);
      continue;
    }
    /* Ties go to the older frame, so equal streams alternate. */
    if (!best || s->vtime < best->vtime
        || (s->vtime == best->vtime && s->capture < best->capture))
      best = s;
  }
  if (!best)
    return NULL;

  *frame = best->frame;
  *capture_ns = best->capture;
  best->frame = NULL;
  best->running = TRUE;
  sched->vclock = MAX (sched->vclock, best->vtime);
  best->charged = (guint64) sched->cost;
  best->vtime += sched->cost / best->weight;
  return best;
}

void
seg_sched_finish (SegSched *sched, SegSchedStream *stream, guint64 capture_ns,
    guint64 start, guint64 end, gboolean ok)
{
  guint64 cost = end > start ? end - start : 0;

  g_assert (stream->running);
  stream->running = FALSE;
  stream->vtime +=
      ((gdouble) cost - (gdouble) stream->charged) / stream->weight;
  if (!ok)
    return;
  if (sched->cost > 0)
    sched->cost_dev = (1.0 - COST_ALPHA) * sched->cost_dev
        + COST_ALPHA * ABS ((gdouble) cost - sched->cost);
  sched->cost = sched->cost <= 0
      ? (gdouble) cost
      : (1.0 - COST_ALPHA) * sched->cost + COST_ALPHA * (gdouble) cost;
  stream->inferred++;
  stream->ring[stream->ring_pos] = end > capture_ns ? end - capture_ns : 0;
  stream->ring_pos = (stream->ring_pos + 1) % LATENCY_RING;
  stream->ring_len = MIN (stream->ring_len + 1, LATENCY_RING);
}

static int
compare_u64 (const void *a, const void *b)
{
  guint64 x = *(const guint64 *) a, y = *(const guint64 *) b;

  return (x > y) - (x < y);
}

void
seg_sched_get_stats (SegSched *sched, SegSchedStream *s, SegSchedStats *stats)
{
  guint64 sorted[LATENCY_RING];
  guint n = s->ring_len;

  (void) sched;
  memset (stats, 0, sizeof *stats);
  stats->frames_in = s->frames_in;
  stats->inferred = s->inferred;
  stats->superseded = s->superseded;
  stats->stale = s->stale;
  stats->weight = s->weight;
  stats->max_latency_ns = s->max_latency;
  if (n) {
    memcpy (sorted, s->ring, n * sizeof sorted[0]);
    qsort (sorted, n, sizeof sorted[0], compare_u64);
    stats->p50_ms = sorted[n / 2] / 1e6;
    stats->p99_ms = sorted[MIN (n - 1, n * 99 / 100)] / 1e6;
  }
}
