/* segd-http — the status page, /api/status and /metrics, served with
 * libsoup 3 on the daemon's main loop (see the opening comment of
 * segd-http.c for why libsoup 3, and docs/security.md for what the page
 * exposes).
 */
#ifndef SEGD_HTTP_H
#define SEGD_HTTP_H

#include "segd-config.h"
#include "segd-status.h"

#include <gst/gst.h>

G_BEGIN_DECLS

typedef struct _SegdHttp SegdHttp;

/* Fills a snapshot of the daemon's state; called on the main loop for
 * every request that needs one. */
typedef void (*SegdHttpStatusFunc) (gpointer user_data, SegdStatus *status);

/* Starts serving per `config` ([http]) on the default main context, with
 * probes on `pipeline` (segd's, elements found by name). Returns NULL
 * when [http] enabled is false. When the address cannot be bound (the
 * port is taken, e.g. by another segd instance) it logs a warning naming
 * [http] port and returns NULL: the stream matters more than its page.
 * (transfer full): free with segd_http_free once the pipeline is in NULL
 * state. */
SegdHttp *segd_http_new (const SegdConfig *config, GstElement *pipeline,
    SegdHttpStatusFunc status_func, gpointer user_data);

/* NULL is a no-op. Closes the listening socket and every connection. */
void segd_http_free (SegdHttp *http);

G_END_DECLS

#endif /* SEGD_HTTP_H */
