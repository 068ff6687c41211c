/* segd-metrics — counters and histograms for /metrics, in the Prometheus
 * text format. What the elements already count (frames in, inferences,
 * bytes published) is read from their `stats` properties when a scrape
 * asks; what nobody counts (capture-to-publish and inference latency
 * distributions, frames from the source, leaky-queue drops) is counted
 * here by pad probes and signal handlers that take one short lock or one
 * atomic add per frame and never allocate.
 */
#ifndef SEGD_METRICS_H
#define SEGD_METRICS_H

#include "segd-status.h"

#include <gst/gst.h>

G_BEGIN_DECLS

typedef struct _SegdMetrics SegdMetrics;

/* Attaches probes to the elements of segd's pipeline found by name:
 * "frames" and "masks" (the leaky queues), "segmenter" and "sink". Missing
 * elements are skipped. (transfer full): free with segd_metrics_free, only
 * once the pipeline is in NULL state (no streaming thread may be in a
 * probe then). */
SegdMetrics *segd_metrics_new (GstElement *pipeline);

/* NULL is a no-op. Removes the probes and signal handlers. */
void segd_metrics_free (SegdMetrics *metrics);

/* Appends the whole exposition for one stream described by `status`
 * (main loop: it reads the elements' properties). */
void segd_metrics_render (SegdMetrics *metrics, const SegdStatus *status,
    GString *out);

/* Counters the status page shows too, read from the elements and the
 * probes. */
typedef struct
{
  guint64 frames; /* from the source */
  guint64 inferences;
  guint64 dropped; /* all reasons */
  guint64 published_bytes;
  gboolean have_bytes; /* FALSE when the sink does not count bytes */
} SegdMetricsCounts;

void segd_metrics_get_counts (SegdMetrics *metrics, SegdMetricsCounts *counts);

G_END_DECLS

#endif /* SEGD_METRICS_H */
