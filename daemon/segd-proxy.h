/* segd-proxy — forwards segd mask streams from several publishers to one
 * bound endpoint (XSUB per upstream -> XPUB), passing subscriptions up so
 * publishers only send what someone downstream wants, and publishing its
 * own status/<name> once a second. See daemon/segd-proxy.c for why this is
 * a zmq_poll loop and not zmq_proxy_steerable.
 */
#ifndef SEGD_PROXY_H
#define SEGD_PROXY_H

#include "segd-proxy-config.h"

#include <glib.h>

G_BEGIN_DECLS

typedef struct _SegdProxy SegdProxy;

/* What the main loop needs for sd_notify, updated once a second. */
typedef struct
{
  guint64 loop_ticks; /* advances while the forwarder runs */
  guint64 forwarded;  /* masks sent downstream, total */
  gdouble masks_per_s;
  guint upstreams, upstreams_up;
  guint subscriptions; /* distinct topics subscribed downstream */
  gboolean failed;     /* the forwarder stopped on an error */
} SegdProxySummary;

/* Binds the downstream socket, connects every upstream and starts the
 * forwarding thread. `config` must outlive the proxy (transfer none).
 * On error returns NULL with `error` set (G_IO_ERROR). (transfer full) */
SegdProxy *segd_proxy_new (const SegdProxyConfig *config, GError **error);

void segd_proxy_get_summary (SegdProxy *proxy, SegdProxySummary *out);

/* Stops the forwarding thread, closes every socket and NULLs `*proxy`;
 * NULL is a no-op. */
void segd_proxy_free (SegdProxy **proxy);

G_END_DECLS

#endif /* SEGD_PROXY_H */
