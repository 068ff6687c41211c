/* The thread-count choice of segthreads.h: plain logic over a timer, so
 * the tests drive it with a fake clock. */
#include "segthreads.h"

#include <stdlib.h>

static int
cmp_double (const void *a, const void *b)
{
  gdouble x = *(const gdouble *) a, y = *(const gdouble *) b;

  return (x > y) - (x < y);
}

guint
seg_threads_choose (guint max_threads, guint rounds, SegThreadsTimer timer,
    gpointer data)
{
  gdouble *times, *median;
  guint best = 1;

  if (max_threads <= 1 || rounds == 0)
    return 1;
  times = g_new (gdouble, (gsize) max_threads * rounds);
  median = g_new (gdouble, max_threads + 1);
  for (guint r = 0; r < rounds; r++)
    for (guint t = 1; t <= max_threads; t++)
      times[(gsize) (t - 1) * rounds + r] = timer (data, t);
  for (guint t = 1; t <= max_threads; t++) {
    gdouble *row = times + (gsize) (t - 1) * rounds;

    qsort (row, rounds, sizeof *row, cmp_double);
    /* a failed run sorts first: a count with any failure is out */
    median[t] = row[0] < 0 ? -1.0
        : rounds % 2       ? row[rounds / 2]
                           : 0.5 * (row[rounds / 2 - 1] + row[rounds / 2]);
  }
  for (guint t = 2; t <= max_threads; t++)
    if (median[t] >= 0 && median[t] < median[best] * (1.0 - SEG_THREADS_MARGIN))
      best = t;
  g_free (median);
  g_free (times);
  return best;
}
