/* What sessions need to know about a loaded model. */
#ifndef SEG_MODEL_H
#define SEG_MODEL_H

#include "graph.h"
#include "ops/ops.h"
#include "passes.h"

struct seg_model
{
  seg_graph *g;
  seg_model_info info;
  char *name;
  char **labels;              /* info.num_classes strings, owned */
  int declared_h, declared_w; /* 0 when the file leaves them open */
  /* seg_load_options.memory_budget, and what the model holds of it
   * (constants, packed weights); a session gets the rest. */
  size_t memory_budget, memory_used;
  seg_pass_info passes[SEG_NPASSES]; /* what seg_passes_run logged */
};

/* Shape phase of planning, shared by the session and by model loading (which
 * plans once to fill in the info). v: g->ntensors values, plans: g->nnodes.
 * Writes the indices of nodes that must run per frame into exec (g->nnodes
 * capacity) and their count into *nexec. STATIC values are malloc'd into v,
 * each charged to budget first (SEG_ERR_FORMAT naming the node when it runs
 * out); release them with seg_values_clear. */
seg_status seg_plan_shapes (const seg_graph *g, int height, int width,
    seg_value *v, seg_node_plan *plans, int *exec, int *nexec,
    seg_budget *budget, seg_err *err);

void seg_values_clear (seg_value *v, int n);

/* Runs the passes and planning on an already built graph (transfer full: g
 * is freed on failure too), as loading a file does after import. For tests
 * and tools that build graphs directly. */
seg_status seg_model_new_from_graph (seg_graph *g, seg_model_format format,
    const char *name, seg_model **model, char **error);

#endif
