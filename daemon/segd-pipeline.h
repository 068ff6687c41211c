/* segd-pipeline — the fixed part of segd's pipeline, built once from the
 * configuration (see segd-pipeline.c). */
#ifndef SEGD_PIPELINE_H
#define SEGD_PIPELINE_H

#include "segd-config.h"

#include <gst/gst.h>

G_BEGIN_DECLS

/* Elements of the built pipeline, owned by it (transfer none). */
typedef struct
{
  GstElement *head; /* the first queue: sources link here */
  GstElement *segmenter;
  GstElement *sink;
} SegdPipelineParts;

/* Creates, configures, adds to `pipeline` and links the queues, the
 * segmenter, the optional tee branches and the sink of `config`. FALSE
 * with `error` set and *exit_status saying why (a missing element, a bad
 * [output] setting); `pipeline` may then hold some of the elements. */
gboolean segd_pipeline_build (GstElement *pipeline, const SegdConfig *config,
    SegdPipelineParts *parts, int *exit_status, GError **error);

/* Whether `element` has a property `name`: the sink is whatever element
 * `[output] sink` names (zmqmasksink by default), and settings only some
 * sinks have are applied where they exist. */
gboolean segd_has_property (GstElement *element, const gchar *name);

G_END_DECLS

#endif /* SEGD_PIPELINE_H */
