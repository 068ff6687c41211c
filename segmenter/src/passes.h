/* Load-time rewrites of an imported graph, then weight packing. */
#ifndef SEG_PASSES_H
#define SEG_PASSES_H

#include "graph.h"

/* The passes, in order (passes.c says why that order):
 *   remove-identities        readers of an Identity read its input
 *   fold-constants           constant subgraphs (f16 DEQUANTIZE included)
 *                            evaluated into f32 constants
 *   fold-batchnorm           BatchNorm into the conv before it
 *   fuse-hardswish           HardSigmoid·Mul -> HardSwish
 *   fuse-activations         activations into the op before them
 *   commute-resize-convs     1x1 convs moved before a bilinear upsample
 *   fuse-inverted-residuals  expand/depthwise/project (+ add) -> one node
 *   fuse-se-projects         SE gate·project (+ add) -> one node
 *   fuse-expand-depthwise    expand -> depthwise into one node
 *   fuse-elementwise         remaining Adds and Muls into their neighbours
 *   compact                  dead nodes and unread tensors dropped
 *   pack-weights             every op packs its weights */
#define SEG_NPASSES 12

/* Runs the passes above. Folded constants and packed weights are charged
 * to budget first (SEG_ERR_FORMAT naming the node when it runs out). When
 * log is not NULL, log[i] gets each pass's name, wall time and the live
 * node count after it. On error the graph may be half-rewritten: free
 * it. */
seg_status seg_passes_run (seg_graph *g, const char *file, seg_budget *budget,
    seg_pass_info log[SEG_NPASSES], seg_err *err);

#endif
