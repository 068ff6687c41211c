/* profile-nodes: per-node times of one model at a given size and thread
 * count, for finding what does not scale (issue 3). Not a test: it plans the
 * graph like a session does but gives every activation its own buffer, runs
 * the per-frame node list with the engine's ops and thread pool, and prints
 * each node's minimum time over the runs, sorted, with its share.
 *
 *   profile-nodes MODEL [HEIGHT WIDTH] [THREADS] [RUNS]
 *
 * For tuning, SEG_KERNELS=scalar|avx2 caps the kernel table and
 * SEG_IRB_ROWS=N forces the inverted-residual band height; this tool reads
 * them and sets the library's test hooks (the library reads no
 * environment).
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kernels/kernels.h"
#include "model.h"
#include "threadpool.h"

typedef struct
{
  int node;
  double best, sum;
} node_time;

static double
now_ms (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int
by_best_desc (const void *a, const void *b)
{
  const node_time *x = a, *y = b;
  return x->best < y->best ? 1 : x->best > y->best ? -1 : 0;
}

int
main (int argc, char **argv)
{
  seg_model *model;
  char *error = NULL;
  seg_err err = {""};
  if (argc < 2) {
    fprintf (stderr, "usage: %s MODEL [HEIGHT WIDTH] [THREADS] [RUNS]\n",
        argv[0]);
    return 2;
  }
  const char *isa = getenv ("SEG_KERNELS");
  if (isa && !seg_f32_kernels_cap (isa)) {
    fprintf (stderr, "SEG_KERNELS=%s: expected scalar or avx2\n", isa);
    return 2;
  }
  const char *rows = getenv ("SEG_IRB_ROWS");
  if (rows)
    seg_irb_force_rows (strtoul (rows, NULL, 10));
  if (seg_model_load (argv[1], &model, &error) != SEG_OK) {
    fprintf (stderr, "%s\n", error);
    return 1;
  }
  const seg_graph *g = model->g;
  int h = argc > 3 ? atoi (argv[2]) : model->declared_h;
  int w = argc > 3 ? atoi (argv[3]) : model->declared_w;
  int threads = argc > 4 ? atoi (argv[4]) : 1;
  int runs = argc > 5 ? atoi (argv[5]) : 20;
  seg_value *v = calloc ((size_t) g->ntensors, sizeof *v);
  seg_node_plan *plans = calloc ((size_t) g->nnodes + 1, sizeof *plans);
  int *exec = calloc ((size_t) g->nnodes + 1, sizeof *exec);
  node_time *times = calloc ((size_t) g->nnodes + 1, sizeof *times);
  int nexec;
  seg_budget budget = {model->memory_budget, model->memory_used};
  if (!v || !plans || !exec || !times
      || seg_plan_shapes (g, h, w, v, plans, exec, &nexec, &budget, &err)
          != SEG_OK) {
    fprintf (stderr, "planning failed: %s\n", err.msg);
    return 1;
  }
  size_t scratch = 64;
  void **owned = calloc ((size_t) g->ntensors, sizeof *owned);
  for (int t = 0; t < g->ntensors; t++)
    if (v[t].kind == SEG_VAL_ACT && v[t].nbytes) {
      owned[t] = seg_f32_alloc (v[t].nbytes / sizeof (float));
      for (size_t i = 0; i < v[t].nbytes / sizeof (float); i++)
        ((float *) owned[t])[i] = (float) ((i * 2654435761u) % 1000) / 1000.f;
      v[t].data = owned[t];
    }
  for (int k = 0; k < nexec; k++)
    if (plans[exec[k]].scratch_bytes > scratch)
      scratch = plans[exec[k]].scratch_bytes;
  scratch = (scratch + 63) / 64 * 64;
  seg_threadpool *pool = seg_threadpool_new (threads);
  uint8_t *scr = aligned_alloc (64, scratch * (size_t) threads);
  seg_run_ctx ctx = {pool, scr, scratch};
  double total_best = 1e30;
  for (int k = 0; k < nexec; k++) {
    times[k].node = exec[k];
    times[k].best = 1e30;
  }
  bool warm = getenv ("PROFILE_WARM") != NULL;
  for (int r = 0; r < runs + 2; r++) {
    double t0 = now_ms ();
    for (int k = 0; k < nexec; k++) {
      const seg_node *n = &g->nodes[exec[k]];
      /* PROFILE_WARM=1 runs each node once before timing it: the
       * difference from a cold run is what its weights cost to fetch. */
      if (warm)
        seg_op_vtable_get (n->op)->run (n, v, &plans[exec[k]], &ctx);
      double a = now_ms ();
      seg_op_vtable_get (n->op)->run (n, v, &plans[exec[k]], &ctx);
      double d = now_ms () - a;
      if (r >= 2) {
        if (d < times[k].best)
          times[k].best = d;
        times[k].sum += d;
      }
    }
    double t = now_ms () - t0;
    if (r >= 2 && t < total_best)
      total_best = t;
  }
  double sum_best = 0;
  for (int k = 0; k < nexec; k++)
    sum_best += times[k].best;
  /* PROFILE_GRAPH=1 keeps execution order and names each node's inputs,
   * which is what a fusion pass has to look at. */
  bool graph_order = getenv ("PROFILE_GRAPH") != NULL;
  if (!graph_order)
    qsort (times, (size_t) nexec, sizeof *times, by_best_desc);
  printf ("%s %dx%d, %d threads: best run %.3f ms, sum of node minima %.3f "
          "ms\n",
      argv[1], h, w, threads, total_best, sum_best);
  for (int k = 0; k < nexec; k++) {
    const seg_node *n = &g->nodes[times[k].node];
    const seg_value *o = &v[n->out[0]];
    printf ("%8.3f %8.3f %5.1f%%  %-18s %-40.40s %lldx%lldx%lld\n",
        times[k].best, times[k].sum / runs, 100 * times[k].best / sum_best,
        seg_op_name (n->op), n->name, (long long) o->dims[1],
        (long long) o->dims[2], (long long) o->dims[3]);
    if (graph_order)
      for (int i = 0; i < n->nin; i++)
        if (n->in[i] >= 0 && !g->tensors[n->in[i]].data)
          printf ("%60s <- %s\n", "", g->tensors[n->in[i]].name);
  }
  seg_threadpool_free (pool);
  free (scr);
  for (int t = 0; t < g->ntensors; t++)
    if (owned[t]) {
      free (owned[t]);
      v[t].data = NULL;
    }
  seg_values_clear (v, g->ntensors);
  free (owned);
  free (v);
  free (plans);
  free (exec);
  free (times);
  seg_model_free (model);
  return 0;
}
