/* Load-time rewrites of an imported graph, then weight packing. */
#ifndef SEG_PASSES_H
#define SEG_PASSES_H

#include "graph.h"

/* Removes Identity, folds constant subgraphs (incl. f16 DEQUANTIZE),
 * BatchNorm into the conv before it, HardSigmoid·Mul into HardSwish, and
 * activations into the op before them; compacts the graph; then lets every
 * op pack its weights. Folded constants and packed weights are charged to
 * budget first (SEG_ERR_FORMAT naming the node when it runs out). On error
 * the graph may be half-rewritten: free it. */
seg_status seg_passes_run (seg_graph *g, const char *file, seg_budget *budget,
    seg_err *err);

#endif
