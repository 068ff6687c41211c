/* threads=0's choice (plugins/segthreads.c) against a fake clock: the
 * choice must follow the medians, not single noisy runs, and must not take
 * more threads for less than SEG_THREADS_MARGIN. */
#include "../../plugins/segthreads.h"
#include "../check.h"

typedef struct
{
  gdouble base[5]; /* per thread count, seconds */
  guint calls;
  guint spike_every; /* every Nth run takes 10x (a preemption) */
  gint fail;         /* this count fails */
} Fake;

static gdouble
fake_timer (gpointer data, guint threads)
{
  Fake *f = data;

  f->calls++;
  if ((gint) threads == f->fail)
    return -1.0;
  if (f->spike_every && f->calls % f->spike_every == 0)
    return 10.0 * f->base[threads];
  return f->base[threads];
}

int
main (void)
{
  /* scales well: the most threads */
  Fake good = {{0, 4.0, 2.2, 1.6, 1.3}, 0, 0, 0};
  CHECK (seg_threads_choose (4, 5, fake_timer, &good) == 4, "good scaling");
  CHECK (good.calls == 20, "%u runs, not 4 x 5", good.calls);

  /* the selfie model here: 2 threads 1.2x faster, 3 and 4 no faster */
  Fake selfie = {{0, 1.8, 1.5, 1.5, 1.6}, 0, 0, 0};
  CHECK (seg_threads_choose (4, 5, fake_timer, &selfie) == 2, "selfie");

  /* 5% faster is not worth a second thread */
  Fake flat = {{0, 1.0, 0.95, 0.97, 0.99}, 0, 0, 0};
  CHECK (seg_threads_choose (4, 5, fake_timer, &flat) == 1, "flat");

  /* slower with threads */
  Fake worse = {{0, 1.0, 1.3, 1.6, 2.0}, 0, 0, 0};
  CHECK (seg_threads_choose (4, 5, fake_timer, &worse) == 1, "worse");

  /* preemption spikes on every 3rd run land on every count at some point;
   * medians of 7 ignore them */
  Fake spiky = {{0, 2.0, 1.2, 1.19, 1.18}, 0, 3, 0};
  CHECK (seg_threads_choose (4, 7, fake_timer, &spiky) == 2, "spikes");

  /* a count that fails is never chosen */
  Fake broken = {{0, 2.0, 1.0, 0.5, 0.95}, 0, 0, 3};
  CHECK (seg_threads_choose (4, 5, fake_timer, &broken) == 2, "failed count");

  /* one CPU, or no rounds: no timing at all */
  Fake none = {{0, 1.0, 0.1, 0.1, 0.1}, 0, 0, 0};
  CHECK (seg_threads_choose (1, 5, fake_timer, &none) == 1, "one CPU");
  CHECK (seg_threads_choose (4, 0, fake_timer, &none) == 1, "no rounds");
  CHECK (none.calls == 0, "timed %u runs for nothing", none.calls);

  printf ("segthreads tests passed\n");
  return 0;
}
