/* The op interface: what the planner and executor need from each op.
 *
 * Life of a node: `pack` once at model load (after the passes: weights are
 * constant then) turns file-layout weights into the kernels' layout; `infer`
 * once per session plan computes output shapes (and per-session parameters
 * such as SAME padding) from input shapes; `eval` runs shape ops at plan time
 * on small values; `run` computes on the per-frame path and must not
 * allocate.
 */
#ifndef SEG_OPS_H
#define SEG_OPS_H

#include "../graph.h"
#include "../threadpool.h"

/* A tensor as one session sees it: shape for the planned input size and
 * where its data lives (graph constant, plan-time value, or arena slot). */
typedef enum
{
  SEG_VAL_ACT,    /* f32 activation in the arena, written by run */
  SEG_VAL_CONST,  /* points at the graph's constant data */
  SEG_VAL_STATIC, /* computed by eval at plan time; data owned by session */
} seg_value_kind;

typedef struct
{
  seg_value_kind kind;
  seg_dtype dtype;
  int rank;
  int64_t dims[SEG_MAX_RANK]; /* IR layout (NHWC for rank 4) */
  void *data;
  size_t nbytes;
} seg_value;

/* Per-session, per-node parameters computed by infer. */
typedef struct
{
  int pads[4];          /* resolved padding: top, left, bottom, right */
  size_t scratch_bytes; /* per thread, provided at run as ctx->scratch */
  uint64_t macs;        /* multiply-accumulates per run (for info/bench) */
} seg_node_plan;

typedef struct
{
  seg_threadpool *pool; /* never NULL; may have one thread */
  /* nthreads slices of plan->scratch_bytes each, 64-byte aligned */
  uint8_t *scratch;
  size_t scratch_stride;
} seg_run_ctx;

typedef struct
{
  /* Output shapes/dtypes into v[n->out[i]] (rank, dims, dtype) from the
   * inputs' (v[n->in[i]]). Must validate everything: inputs may come from a
   * hostile file. May set plan fields. */
  seg_status (*infer) (const seg_node *n, seg_value *v, seg_node_plan *plan,
      seg_err *err);
  /* Plan-time evaluation when every input is CONST or STATIC: allocate
   * v[out].data with malloc (the session frees it) and fill it. NULL for ops
   * that only run on activations. */
  seg_status (*eval) (const seg_node *n, seg_value *v, seg_err *err);
  /* Once at load; NULL if nothing to prepare. May read g->tensors[] constant
   * data and store n->packed / n->packed_free. */
  seg_status (*pack) (seg_node *n, const seg_graph *g, seg_err *err);
  /* Per frame. Inputs/outputs are v[]; shapes as infer left them. */
  void (*run) (const seg_node *n, const seg_value *v, const seg_node_plan *plan,
      const seg_run_ctx *ctx);
} seg_op_vtable;

/* Never NULL for op < SEG_OP_COUNT_; unimplemented entries have NULL run and
 * eval. */
const seg_op_vtable *seg_op_vtable_get (seg_op op);

/* For eval: allocates the data of output value o (its shape and dtype set by
 * infer), storing the size in *nbytes; NULL with err set on failure. */
void *seg_value_alloc (const seg_node *n, const seg_value *o, size_t *nbytes,
    seg_err *err);

/* For eval: makes data (malloc'd, nbytes long; transfer full) the plan-time
 * value of o. */
void seg_value_publish (seg_value *o, void *data, size_t nbytes);

/* Test hook, not API: InvertedResidual nodes packed from now on use bands
 * of `rows` output rows (0: the cache-based height), so that tests reach
 * the ring's wrap-around on small inputs and tuning can try heights.
 * Process-wide: call it while no model is loading. Replaces the
 * SEG_IRB_ROWS variable the library used to read from the environment. */
void seg_irb_force_rows (size_t rows);

/* Applies a fused activation in place to n floats. */
void seg_apply_act (seg_act act, float a, float b, float *x, size_t n);

#endif /* SEG_OPS_H */
