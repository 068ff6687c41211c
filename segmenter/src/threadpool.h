/* A fixed pool of worker threads for intra-op parallelism.
 *
 * Our own rather than Debian's libpthreadpool: the whole need is "run f(i)
 * for i in [0, n) on all threads and wait", which is ~150 lines, and owning it
 * lets the band-streaming executor pass a thread index for per-thread
 * scratch without an extra dependency on every target.
 */
#ifndef SEG_THREADPOOL_H
#define SEG_THREADPOOL_H

#include <stddef.h>

typedef struct seg_threadpool seg_threadpool;

/* fn(ctx, task, thread): thread is in [0, seg_threadpool_threads()). */
typedef void (*seg_task_fn) (void *ctx, size_t task, int thread);

/* nthreads <= 1 makes a pool that runs everything on the caller. Returns
 * NULL on failure. (transfer full) */
seg_threadpool *seg_threadpool_new (int nthreads);

void seg_threadpool_free (seg_threadpool *pool);

int seg_threadpool_threads (const seg_threadpool *pool);

/* Calls fn for every task in [0, ntasks) across the pool (the calling thread
 * takes part as thread 0) and returns when all are done. Not reentrant: do
 * not call from inside fn. */
void seg_threadpool_run (seg_threadpool *pool, seg_task_fn fn, void *ctx,
    size_t ntasks);

#endif /* SEG_THREADPOOL_H */
