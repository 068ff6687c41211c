/* Fixed worker pool. One job at a time: the caller publishes (fn, ctx) and
 * a new state word holding a generation number, the task count and the
 * next task index; every thread (the caller too) claims tasks by
 * incrementing that word, and the caller returns once all tasks are done.
 *
 * The caller waits for tasks, never for workers: a worker that the OS has
 * descheduled (the machine is often shared) simply claims nothing, and the
 * caller and the other workers run its share. Because generation, count and
 * index change together in one atomic word, a worker waking late cannot
 * run a task of the wrong job: a claim that lands in a job's range pins
 * that job (it cannot finish without the claimed task), so its fn and ctx
 * stay valid to read.
 *
 * A network run issues ~100 small jobs back to back, so workers spin for a
 * short while before sleeping on the condition variable: waking a sleeping
 * thread costs tens of microseconds, which would dominate the small ops.
 */
#include "threadpool.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define cpu_relax() _mm_pause ()
#elif defined(__aarch64__)
#define cpu_relax() __asm__ __volatile__("yield")
#else
#define cpu_relax() ((void) 0)
#endif

/* About 0.1-0.2 ms of pause instructions. */
#define SPIN_ITERATIONS 4000

/* state = generation << 44 | count << 22 | next. A job's index field
 * overshoots its count by at most one claim per thread, so counts leave
 * headroom below 2^22; bigger jobs run as several batches. */
#define INDEX_BITS 22
#define INDEX_MASK ((UINT64_C (1) << INDEX_BITS) - 1)
#define GEN_SHIFT (2 * INDEX_BITS)
#define MAX_BATCH (INDEX_MASK - 1024)

struct seg_threadpool
{
  int nthreads;
  pthread_t *threads;
  pthread_mutex_t lock;
  pthread_cond_t wake; /* workers wait here for a new generation */
  pthread_cond_t done; /* the caller waits here for the last task */
  _Atomic uint64_t state;
  atomic_size_t remaining; /* tasks of the current batch not yet finished */
  uint64_t generation;     /* the caller's count of published batches */
  bool quit;
  /* the current job; written by the caller before publishing state */
  seg_task_fn fn;
  void *ctx;
  size_t base; /* task index of the batch's first task */
};

typedef struct
{
  seg_threadpool *pool;
  int index;
} worker_arg;

static uint64_t
gen_of (uint64_t state)
{
  return state >> GEN_SHIFT;
}

/* Claims and runs tasks until a claim falls past the end of its batch;
 * returns that batch's generation. */
static uint64_t
drain (seg_threadpool *pool, int thread)
{
  for (;;) {
    uint64_t s =
        atomic_fetch_add_explicit (&pool->state, 1, memory_order_acquire);
    uint64_t index = s & INDEX_MASK, count = (s >> INDEX_BITS) & INDEX_MASK;
    if (index >= count)
      return gen_of (s);
    pool->fn (pool->ctx, pool->base + index, thread);
    if (atomic_fetch_sub_explicit (&pool->remaining, 1, memory_order_acq_rel)
            == 1
        && thread != 0) {
      pthread_mutex_lock (&pool->lock);
      pthread_cond_signal (&pool->done);
      pthread_mutex_unlock (&pool->lock);
    }
  }
}

static void *
worker_main (void *data)
{
  worker_arg *arg = data;
  seg_threadpool *pool = arg->pool;
  int index = arg->index;
  uint64_t seen = 0;
  free (arg);

  for (;;) {
    uint64_t gen =
        gen_of (atomic_load_explicit (&pool->state, memory_order_relaxed));
    for (int i = 0; gen == seen && i < SPIN_ITERATIONS; i++) {
      cpu_relax ();
      gen = gen_of (atomic_load_explicit (&pool->state, memory_order_relaxed));
    }
    if (gen == seen) {
      pthread_mutex_lock (&pool->lock);
      while (!pool->quit
          && gen_of (atomic_load_explicit (&pool->state, memory_order_relaxed))
              == seen)
        pthread_cond_wait (&pool->wake, &pool->lock);
      bool quit = pool->quit;
      pthread_mutex_unlock (&pool->lock);
      if (quit)
        return NULL;
    }
    seen = drain (pool, index);
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

static void
run_batch (seg_threadpool *pool, size_t base, size_t count)
{
  pool->base = base;
  atomic_store_explicit (&pool->remaining, count, memory_order_relaxed);
  pool->generation++;
  /* Publish under the lock so a worker about to sleep cannot miss it. The
   * release orders fn, ctx, base and remaining before any claim. */
  pthread_mutex_lock (&pool->lock);
  atomic_store_explicit (&pool->state,
      pool->generation << GEN_SHIFT | (uint64_t) count << INDEX_BITS,
      memory_order_release);
  pthread_cond_broadcast (&pool->wake);
  pthread_mutex_unlock (&pool->lock);

  drain (pool, 0);

  for (int i = 0; i < SPIN_ITERATIONS; i++) {
    if (atomic_load_explicit (&pool->remaining, memory_order_acquire) == 0)
      return;
    cpu_relax ();
  }
  pthread_mutex_lock (&pool->lock);
  while (atomic_load_explicit (&pool->remaining, memory_order_acquire) != 0)
    pthread_cond_wait (&pool->done, &pool->lock);
  pthread_mutex_unlock (&pool->lock);
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
  for (size_t base = 0; base < ntasks; base += MAX_BATCH)
    run_batch (pool, base,
        ntasks - base < MAX_BATCH ? ntasks - base : MAX_BATCH);
}
