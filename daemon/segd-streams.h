/* segd-streams — several cameras in one segd: one SegdDaemon per
 * [stream NAME] on one main loop, all sharing the segmenter engine "segd"
 * (one model, one set of workers, one scheduler), publishing on one
 * socket under their own topics unless a stream has an endpoint of its
 * own. SIGHUP adds, removes and changes streams without touching the
 * others.
 */
#ifndef SEGD_STREAMS_H
#define SEGD_STREAMS_H

#include "segd-config.h"

#include <glib.h>

G_BEGIN_DECLS

typedef struct _SegdStreams SegdStreams;

/* Builds every stream of `config` (transfer full; config->streams must not
 * be empty). NULL with `error` and *exit_status set on failure.
 * (transfer full): free with segd_streams_free. */
SegdStreams *segd_streams_new (SegdConfig *config,
    const SegdConfigSources *sources, int *exit_status, GError **error);

/* Runs until SIGTERM/SIGINT or a fatal error; returns the exit status,
 * with `error` set (naming the stream) when a stream failed. */
int segd_streams_run (SegdStreams *streams, GError **error);

void segd_streams_free (SegdStreams *streams);

G_END_DECLS

#endif /* SEGD_STREAMS_H */
