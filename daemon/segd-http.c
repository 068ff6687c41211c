/* segd-http — segd's own small web server: `/` the status page (from a
 * GResource, inline CSS and JS, no external assets), `/api/status` the
 * same data as JSON, `/metrics` for Prometheus, and
 * `/streams/N/preview.jpg` the live picture the page shows.
 *
 * Why libsoup 3: segd is a GLib program whose state lives on its main
 * loop, and SoupServer runs there too, so a handler reads that state
 * without locks or a second event loop (libmicrohttpd would bring its own
 * threads and need both). And it is the libsoup GStreamer uses: a process
 * can hold only one of libsoup 2 and libsoup 3 (each aborts when it finds
 * the other's symbols), and GStreamer 1.22's souphttpsrc and
 * adaptivedemux2, which a uri source may load, link neither but dlopen
 * one at run time, taking whichever is already resident (RTLD_NOLOAD
 * probe, libsoup 3 first). With libsoup 3 linked here they find it and
 * use it; linking libsoup 2 would work the same way, but it is the old
 * series, and libsoup 3 is what Debian's GNOME stack moved to.
 *
 * Every handler runs on the main loop and does bounded work: a snapshot
 * of the status (the daemon's fields and the elements' `stats`), some
 * text, or a preview JPEG (segd-preview.c). Nothing here touches a
 * streaming thread beyond the probes of segd-metrics.c and
 * segd-preview.c.
 *
 * The page shows camera images and has no authentication: it listens on
 * loopback unless [http] listen says otherwise, and it answers only
 * requests whose Host is an IP address or localhost, so a web page from
 * elsewhere cannot reach it through DNS rebinding (docs/security.md).
 */
#include "segd-http.h"

#include "segd-http-resources.h"
#include "segd-metrics.h"
#include "segd-preview.h"

#include <gio/gio.h>
#include <libsoup/soup.h>
#include <math.h>
#include <string.h>

#define PAGE_RESOURCE "/org/segd/daemon/status.html"

struct _SegdHttp
{
  SoupServer *server;
  SegdMetrics *metrics;
  SegdPreview *preview;
  SegdHttpStatusFunc status_func;
  gpointer status_data;
  gint64 start_us;
  gchar *url;
  GRegex *userinfo; /* scheme://user:password@ */
};

/* ---- helpers ---- */

static void
reply (SoupServerMessage *msg, guint status, const gchar *type, GBytes *body)
{
  SoupMessageHeaders *h = soup_server_message_get_response_headers (msg);

  soup_server_message_set_status (msg, status, NULL);
  soup_message_headers_replace (h, "Content-Type", type);
  /* Live data: a cached copy is a wrong copy. */
  soup_message_headers_replace (h, "Cache-Control", "no-store");
  soup_message_headers_replace (h, "X-Content-Type-Options", "nosniff");
  soup_message_body_append_bytes (soup_server_message_get_response_body (msg),
      body);
}

static void
reply_text (SoupServerMessage *msg, guint status, const gchar *text)
{
  g_autoptr (GBytes) body = g_bytes_new (text, strlen (text));

  reply (msg, status, "text/plain; charset=utf-8", body);
}

static void
reply_string (SoupServerMessage *msg, const gchar *type, GString *s)
{
  gsize len = s->len;
  g_autoptr (GBytes) body = g_bytes_new_take (g_string_free (s, FALSE), len);

  reply (msg, SOUP_STATUS_OK, type, body);
}

/* Host must name this machine by address or as localhost. A browser
 * visiting another site whose name was re-pointed at 127.0.0.1 (DNS
 * rebinding) sends that site's name, and gets nothing. */
static gboolean
host_allowed (SoupServerMessage *msg)
{
  const gchar *host =
      soup_message_headers_get_one (soup_server_message_get_request_headers (
                                        msg),
          "Host");
  g_autofree gchar *name = NULL;
  const gchar *end;

  if (!host || !host[0])
    return FALSE;
  if (host[0] == '[') {
    end = strchr (host, ']');
    if (!end || (end[1] && end[1] != ':'))
      return FALSE;
    name = g_strndup (host + 1, end - host - 1);
  } else {
    end = strchr (host, ':');
    name = end ? g_strndup (host, end - host) : g_strdup (host);
  }
  return g_hostname_is_ip_address (name)
      || !g_ascii_strcasecmp (name, "localhost");
}

static void json_string (GString *out, const gchar *s);

/* Hides the password of a URI with credentials (an rtsp:// camera's,
 * say) in text shown on the page. (transfer full) */
static gchar *
redact (SegdHttp *http, const gchar *text)
{
  if (!text)
    return NULL;
  return g_regex_replace (http->userinfo, text, -1, 0, "\\1:***@", 0, NULL);
}

static void
json_redacted (SegdHttp *http, GString *out, const gchar *s)
{
  g_autofree gchar *r = redact (http, s);

  json_string (out, r);
}

static void
json_string (GString *out, const gchar *s)
{
  g_autofree gchar *valid = NULL;

  if (!s) {
    g_string_append (out, "null");
    return;
  }
  valid = g_utf8_make_valid (s, -1);
  g_string_append_c (out, '"');
  for (const guchar *p = (const guchar *) valid; *p; p++) {
    switch (*p) {
      case '"':
        g_string_append (out, "\\\"");
        break;
      case '\\':
        g_string_append (out, "\\\\");
        break;
      case '\n':
        g_string_append (out, "\\n");
        break;
      default:
        if (*p < 0x20)
          g_string_append_printf (out, "\\u%04x", *p);
        else
          g_string_append_c (out, (gchar) *p);
    }
  }
  g_string_append_c (out, '"');
}

static void
json_number (GString *out, gdouble v)
{
  gchar buf[G_ASCII_DTOSTR_BUF_SIZE];

  if (!isfinite (v))
    g_string_append (out, "null");
  else
    g_string_append (out, g_ascii_formatd (buf, sizeof buf, "%.15g", v));
}

/* ---- routes ---- */

static void
serve_page (SoupServerMessage *msg)
{
  /* Named, not looked up globally: the reference is what makes the linker
   * keep the resource's object file from the static library. */
  g_autoptr (GBytes) page = g_resource_lookup_data (segd_http_get_resource (),
      PAGE_RESOURCE, G_RESOURCE_LOOKUP_FLAGS_NONE, NULL);
  SoupMessageHeaders *h = soup_server_message_get_response_headers (msg);

  g_assert (page); /* compiled in */
  reply (msg, SOUP_STATUS_OK, "text/html; charset=utf-8", page);
  /* Everything is inline and same-origin; nothing may be framed, posted
   * or fetched from elsewhere. */
  soup_message_headers_replace (h, "Content-Security-Policy",
      "default-src 'none'; script-src 'unsafe-inline'; "
      "style-src 'unsafe-inline'; img-src 'self' blob: data:; "
      "connect-src 'self'; "
      "base-uri 'none'; form-action 'none'; frame-ancestors 'none'");
  soup_message_headers_replace (h, "Referrer-Policy", "no-referrer");
}

static void
serve_status (SegdHttp *http, SoupServerMessage *msg)
{
  GString *out = g_string_new (NULL);
  SegdStatus st = {0};
  SegdMetricsCounts c;

  http->status_func (http->status_data, &st);
  segd_metrics_get_counts (http->metrics, &c);

  g_string_append (out, "{\"segd\":{\"version\":");
  json_string (out, SEGD_VERSION);
  g_string_append (out, ",\"uptime_seconds\":");
  json_number (out, (g_get_monotonic_time () - http->start_us) / 1e6);
  g_string_append (out, "},\"streams\":[{\"name\":");
  json_string (out, st.stream);
  g_string_append (out, ",\"state\":");
  json_string (out, st.state);
  g_string_append (out, ",\"status\":");
  json_redacted (http, out, st.status_line);
  g_string_append (out, ",\"source\":");
  json_redacted (http, out, st.source);
  g_string_append (out, ",\"camera_state\":");
  json_string (out, st.camera_state);
  g_string_append (out, ",\"camera_detail\":");
  json_redacted (http, out, st.camera_detail);
  g_string_append (out, ",\"model\":");
  json_string (out, st.model);
  g_string_append (out, ",\"model_state\":");
  json_string (out, st.model_error ? "error" : "ok");
  g_string_append (out, ",\"model_error\":");
  json_redacted (http, out, st.model_error);
  g_string_append (out, ",\"fps\":");
  json_number (out, st.fps);
  g_string_append (out, ",\"inference_ms\":");
  json_number (out, st.inference_ms);
  g_string_append (out, ",\"latency_ms\":");
  if (st.have_latency) {
    g_string_append (out, "{\"p50\":");
    json_number (out, st.latency_p50_ms);
    g_string_append (out, ",\"p99\":");
    json_number (out, st.latency_p99_ms);
    g_string_append_c (out, '}');
  } else {
    g_string_append (out, "null");
  }
  g_string_append_printf (out,
      ",\"subscribers\":%d,\"masks\":%" G_GUINT64_FORMAT
      ",\"frames\":%" G_GUINT64_FORMAT ",\"inferences\":%" G_GUINT64_FORMAT
      ",\"dropped\":%" G_GUINT64_FORMAT ",\"published_bytes\":",
      st.subscribers, st.masks, c.frames, c.inferences, c.dropped);
  if (c.have_bytes)
    g_string_append_printf (out, "%" G_GUINT64_FORMAT, c.published_bytes);
  else
    g_string_append (out, "null");
  g_string_append (out, ",\"preview\":\"/streams/0/preview.jpg\"}]}\n");

  segd_status_clear (&st);
  reply_string (msg, "application/json", out);
}

static void
serve_metrics (SegdHttp *http, SoupServerMessage *msg)
{
  GString *out = g_string_new (NULL);
  SegdStatus st = {0};

  http->status_func (http->status_data, &st);
  g_string_append (out,
      "# HELP segd_build_info segd's version and the "
      "libraries it runs with.\n# TYPE segd_build_info gauge\n");
  g_string_append_printf (out,
      "segd_build_info{version=\"%s\","
      "gstreamer=\"%u.%u.%u\",libsoup=\"%u.%u.%u\"} 1\n",
      SEGD_VERSION, GST_VERSION_MAJOR, GST_VERSION_MINOR, GST_VERSION_MICRO,
      soup_get_major_version (), soup_get_minor_version (),
      soup_get_micro_version ());
  g_string_append (out,
      "# HELP segd_start_time_seconds When segd started, "
      "in seconds since the epoch.\n# TYPE segd_start_time_seconds gauge\n");
  g_string_append (out, "segd_start_time_seconds ");
  json_number (out,
      (g_get_real_time () - (g_get_monotonic_time () - http->start_us)) / 1e6);
  g_string_append_c (out, '\n');
  segd_metrics_render (http->metrics, &st, out);
  segd_status_clear (&st);
  /* The text format, version 0.0.4, as Prometheus asks for it. */
  reply_string (msg, "text/plain; version=0.0.4; charset=utf-8", out);
}

typedef struct
{
  SoupServerMessage *msg;
  gulong finished_id;
  gboolean finished;
} PreviewRequest;

static void
on_finished (SoupServerMessage *msg, gpointer data)
{
  ((PreviewRequest *) data)->finished = TRUE;
}

static void
preview_ready (GBytes *jpeg, gboolean stale, gpointer data)
{
  PreviewRequest *req = data;

  if (req->finished) /* the client went away meanwhile */
    return;
  if (jpeg) {
    reply (req->msg, SOUP_STATUS_OK, "image/jpeg", jpeg);
    /* The page says "last frame" rather than pretending it is live. */
    soup_message_headers_replace (soup_server_message_get_response_headers (
                                      req->msg),
        "X-Segd-Preview", stale ? "stale" : "live");
  } else {
    /* No frame yet (a camera still waited for): not an error, so the
     * page's console stays clean. */
    soup_server_message_set_status (req->msg, SOUP_STATUS_NO_CONTENT, NULL);
  }
  soup_server_message_unpause (req->msg);
}

static void
preview_request_free (gpointer data)
{
  PreviewRequest *req = data;

  g_signal_handler_disconnect (req->msg, req->finished_id);
  g_object_unref (req->msg);
  g_free (req);
}

static void
serve_preview (SegdHttp *http, SoupServerMessage *msg)
{
  PreviewRequest *req = g_new0 (PreviewRequest, 1);

  req->msg = g_object_ref (msg);
  req->finished_id =
      g_signal_connect (msg, "finished", G_CALLBACK (on_finished), req);
  /* Paused until the picture is there; the callback may run right away
   * (a fresh one is cached), and unpausing then is fine. */
  soup_server_message_pause (msg);
  segd_preview_request (http->preview, preview_ready, req,
      preview_request_free);
}

static void
handle (SoupServer *server, SoupServerMessage *msg, const char *path,
    GHashTable *query, gpointer user_data)
{
  SegdHttp *http = user_data;
  const gchar *method = soup_server_message_get_method (msg);

  if (!host_allowed (msg)) {
    reply_text (msg, SOUP_STATUS_FORBIDDEN,
        "segd answers only requests "
        "for an IP address or localhost\n");
    return;
  }
  if (strcmp (method, "GET") && strcmp (method, "HEAD")) {
    soup_message_headers_replace (soup_server_message_get_response_headers (
                                      msg),
        "Allow", "GET, HEAD");
    reply_text (msg, SOUP_STATUS_METHOD_NOT_ALLOWED, "GET or HEAD only\n");
    return;
  }
  if (!strcmp (path, "/") || !strcmp (path, "/index.html"))
    serve_page (msg);
  else if (!strcmp (path, "/api/status"))
    serve_status (http, msg);
  else if (!strcmp (path, "/metrics"))
    serve_metrics (http, msg);
  else if (!strcmp (path, "/streams/0/preview.jpg"))
    serve_preview (http, msg);
  else
    reply_text (msg, SOUP_STATUS_NOT_FOUND, "not found\n");
}

/* ---- lifetime ---- */

static gboolean
is_loopback (const gchar *listen)
{
  g_autoptr (GInetAddress) addr = g_inet_address_new_from_string (listen);

  return addr && g_inet_address_get_is_loopback (addr);
}

SegdHttp *
segd_http_new (const SegdConfig *config, GstElement *pipeline,
    SegdHttpStatusFunc status_func, gpointer user_data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GSocketAddress) addr = NULL;
  SegdHttp *http;
  GSList *uris;

  if (!config->http_enabled)
    return NULL;

  http = g_new0 (SegdHttp, 1);
  http->status_func = status_func;
  http->status_data = user_data;
  http->start_us = g_get_monotonic_time ();
  http->userinfo =
      g_regex_new ("([a-zA-Z][a-zA-Z0-9+.-]*://[^/@\\s:]*):[^/@\\s]*@", 0, 0,
          NULL);
  /* A trailing space makes libsoup append its own name and version. */
  http->server =
      soup_server_new ("server-header", "segd/" SEGD_VERSION " ", NULL);
  soup_server_add_handler (http->server, NULL, handle, http, NULL);

  /* segd-config checked that listen is an IP address. */
  addr = g_inet_socket_address_new_from_string (config->http_listen,
      (guint) config->http_port);
  if (!addr || !soup_server_listen (http->server, addr, 0, &error)) {
    g_warning ("[http] listen = %s, port = %d: %s; the status page and "
               "/metrics are off (set [http] port, or enabled = false)",
        config->http_listen, config->http_port,
        error ? error->message : "not an address");
    segd_http_free (http);
    return NULL;
  }
  uris = soup_server_get_uris (http->server);
  if (uris)
    http->url = g_uri_to_string (uris->data);
  g_slist_free_full (uris, (GDestroyNotify) g_uri_unref);

  http->metrics = segd_metrics_new (pipeline);
  http->preview = segd_preview_new (pipeline);
  if (is_loopback (config->http_listen))
    g_message ("status page on %s (metrics at /metrics)", http->url);
  else
    g_warning ("status page on %s, reachable from other hosts: it shows "
               "the camera's images to anyone who can connect, with no "
               "password "
               "([http] listen; docs/security.md)",
        http->url);
  return http;
}

void
segd_http_free (SegdHttp *http)
{
  if (!http)
    return;
  /* Pending previews first: their requests hold the server's messages. */
  segd_preview_free (http->preview);
  if (http->server) {
    soup_server_disconnect (http->server);
    g_object_unref (http->server);
  }
  segd_metrics_free (http->metrics);
  g_clear_pointer (&http->userinfo, g_regex_unref);
  g_free (http->url);
  g_free (http);
}
