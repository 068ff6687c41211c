/* Fixed worker pool. One job at a time: the caller publishes (fn, ctx,
 * ntasks) under a new generation number, every thread (the caller too)
 * claims task indices from an atomic counter, and the caller waits until all
 * workers have checked out of the generation.
 *
 * A network run issues ~100 small jobs back to back, so workers spin for a
 * short while before sleeping on the condition variable: waking a sleeping
 * thread costs tens of microseconds, which would dominate the small ops.
 */
#include "threadpool.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>

#define SPIN_ITERATIONS 20000

struct seg_threadpool {
  int nthreads;
  pthread_t *threads;
  pthread_mutex_t lock;
  pthread_cond_t wake;  /* workers wait here for a new generation */
  pthread_cond_t done;  /* the caller waits here for checked-out workers */
  atomic_uint generation;
  atomic_size_t next_task;
  atomic_int active;    /* workers still inside the current generation */
  bool quit;
  /* the current job; written by the caller before bumping generation */
  seg_task_fn fn;
  void *ctx;
  size_t ntasks;
};

typedef struct {
  seg_threadpool *pool;
  int index;
} worker_arg;

static void
drain (seg_threadpool *pool, int thread)
{
  for (;;) {
    size_t t = atomic_fetch_add_explicit (&pool->next_task, 1,
        memory_order_relaxed);
    if (t >= pool->ntasks)
      break;
    pool->fn (pool->ctx, t, thread);
  }
}

static void *
worker_main (void *data)
{
  worker_arg *arg = data;
  seg_threadpool *pool = arg->pool;
  int index = arg->index;
  unsigned seen = 0;
  free (arg);

  for (;;) {
    unsigned gen = atomic_load_explicit (&pool->generation,
        memory_order_acquire);
    for (int i = 0; gen == seen && i < SPIN_ITERATIONS; i++)
      gen = atomic_load_explicit (&pool->generation, memory_order_acquire);
    if (gen == seen) {
      pthread_mutex_lock (&pool->lock);
      while (!pool->quit && (gen = atomic_load_explicit (&pool->generation,
                  memory_order_acquire)) == seen)
        pthread_cond_wait (&pool->wake, &pool->lock);
      bool quit = pool->quit;
      pthread_mutex_unlock (&pool->lock);
      if (quit)
        return NULL;
    }
    seen = gen;
    drain (pool, index);
    if (atomic_fetch_sub_explicit (&pool->active, 1, memory_order_acq_rel) == 1) {
      pthread_mutex_lock (&pool->lock);
      pthread_cond_signal (&pool->done);
      pthread_mutex_unlock (&pool->lock);
    }
  }
}

seg_threadpool *
seg_threadpool_new (int nthreads)
{
  seg_threadpool *pool = calloc (1, sizeof *pool);
  if (!pool)
    return NULL;
  pool->nthreads = nthreads < 1 ? 1 : nthreads;
  pthread_mutex_init (&pool->lock, NULL);
  pthread_cond_init (&pool->wake, NULL);
  pthread_cond_init (&pool->done, NULL);
  if (pool->nthreads == 1)
    return pool;

  pool->threads = calloc ((size_t) pool->nthreads, sizeof *pool->threads);
  if (!pool->threads)
    goto fail;
  for (int i = 1; i < pool->nthreads; i++) {
    worker_arg *arg = malloc (sizeof *arg);
    if (!arg)
      goto fail_threads;
    arg->pool = pool;
    arg->index = i;
    if (pthread_create (&pool->threads[i], NULL, worker_main, arg) != 0) {
      free (arg);
      goto fail_threads;
    }
    continue;
  fail_threads:
    /* Join what started; the pool is unusable. */
    pool->nthreads = i;
    seg_threadpool_free (pool);
    return NULL;
  }
  return pool;

fail:
  seg_threadpool_free (pool);
  return NULL;
}

void
seg_threadpool_free (seg_threadpool *pool)
{
  if (!pool)
    return;
  if (pool->threads) {
    pthread_mutex_lock (&pool->lock);
    pool->quit = true;
    pthread_cond_broadcast (&pool->wake);
    pthread_mutex_unlock (&pool->lock);
    for (int i = 1; i < pool->nthreads; i++)
      pthread_join (pool->threads[i], NULL);
    free (pool->threads);
  }
  pthread_mutex_destroy (&pool->lock);
  pthread_cond_destroy (&pool->wake);
  pthread_cond_destroy (&pool->done);
  free (pool);
}

int
seg_threadpool_threads (const seg_threadpool *pool)
{
  return pool->nthreads;
}

void
seg_threadpool_run (seg_threadpool *pool, seg_task_fn fn, void *ctx,
    size_t ntasks)
{
  if (ntasks == 0)
    return;
  if (pool->nthreads == 1 || ntasks == 1) {
    for (size_t t = 0; t < ntasks; t++)
      fn (ctx, t, 0);
    return;
  }
  pool->fn = fn;
  pool->ctx = ctx;
  pool->ntasks = ntasks;
  atomic_store_explicit (&pool->next_task, 0, memory_order_relaxed);
  atomic_store_explicit (&pool->active, pool->nthreads - 1,
      memory_order_relaxed);
  /* Bump under the lock so a worker about to sleep cannot miss it. */
  pthread_mutex_lock (&pool->lock);
  atomic_fetch_add_explicit (&pool->generation, 1, memory_order_release);
  pthread_cond_broadcast (&pool->wake);
  pthread_mutex_unlock (&pool->lock);

  drain (pool, 0);

  for (int i = 0; i < SPIN_ITERATIONS; i++)
    if (atomic_load_explicit (&pool->active, memory_order_acquire) == 0)
      return;
  pthread_mutex_lock (&pool->lock);
  while (atomic_load_explicit (&pool->active, memory_order_acquire) != 0)
    pthread_cond_wait (&pool->done, &pool->lock);
  pthread_mutex_unlock (&pool->lock);
}
