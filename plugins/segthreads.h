/* How many threads a model runs on when the user leaves it to us
 * (threads=0): measured at load, because it depends on the model and its
 * input size as much as on the machine. MediaPipe's selfie model at 256x256
 * is about 1.25x faster on two threads than on one here, at 1.6x the CPU;
 * LR-ASPP at 520 scales 1.8x. */
#ifndef SEG_THREADS_H
#define SEG_THREADS_H

#include <glib.h>

/* One run of the model on `threads` threads; returns its time in seconds,
 * or a negative value when that count cannot run. */
typedef gdouble (*SegThreadsTimer) (gpointer data, guint threads);

/* A count with more threads must beat the best fewer-thread count by this
 * fraction of its time: below it, the extra threads' CPU (and their
 * wake-ups on a loaded host) buy too little. */
#define SEG_THREADS_MARGIN 0.10

/* Times 1..max_threads threads `rounds` times each, interleaved so that a
 * slow spell of the host hits every count alike, and returns the count
 * with the lowest median that beats every smaller count by
 * SEG_THREADS_MARGIN; 1 when max_threads <= 1 or nothing beats it. */
guint seg_threads_choose (guint max_threads, guint rounds,
    SegThreadsTimer timer, gpointer data);

#endif
