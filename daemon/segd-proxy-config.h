/* segd-proxy-config — segd-proxy's configuration: built-in defaults, then
 * DIR/segd-proxy.conf, DIR/segd-proxy.conf.d/ *.conf in lexical order,
 * --config files, --set overrides and --connect upstreams. Every key is
 * checked against one table, key files are read here too, and an error
 * names the file, the line and what was expected (as segd-config does).
 */
#ifndef SEGD_PROXY_CONFIG_H
#define SEGD_PROXY_CONFIG_H

#include "segd-proxy-keys.h"

#include <glib.h>

G_BEGIN_DECLS

#define SEGD_PROXY_CONFIG_ERROR (segd_proxy_config_error_quark ())
GQuark segd_proxy_config_error_quark (void);

typedef enum
{
  SEGD_PROXY_CONFIG_ERROR_SYNTAX,
  SEGD_PROXY_CONFIG_ERROR_UNKNOWN,
  SEGD_PROXY_CONFIG_ERROR_VALUE,
  SEGD_PROXY_CONFIG_ERROR_IO,
} SegdProxyConfigError;

typedef struct
{
  gchar *name; /* from [upstream NAME] or --connect */
  gchar *endpoint;
  gchar *server_key_file; /* "": plaintext */
  gchar server_key[SEGD_PROXY_Z85_LEN];
} SegdProxyUpstream;

typedef struct
{
  /* [proxy] */
  gchar *name; /* status/<name> */
  gchar *bind;
  gchar *curve_secret_key_file;
  gchar *curve_allowed_keys;
  gchar *client_key_file;
  gboolean allow_plaintext;
  gint sndhwm, rcvhwm;
  gdouble heartbeat;

  GPtrArray *upstreams; /* SegdProxyUpstream * */

  /* Read from the key files by segd_proxy_config_load. */
  gchar server_secret[SEGD_PROXY_Z85_LEN];
  gchar server_public[SEGD_PROXY_Z85_LEN];
  gchar client_secret[SEGD_PROXY_Z85_LEN];
  gchar client_public[SEGD_PROXY_Z85_LEN];
  GPtrArray *allowed; /* 32-byte binary client keys, or NULL */
} SegdProxyConfig;

typedef struct
{
  const gchar *config_dir;       /* NULL: SEGD_CONFIG_DIR */
  const gchar *const *files;     /* must exist */
  const gchar *const *overrides; /* "section.key=value" */
  const gchar *const *connects;  /* "ENDPOINT[,SERVER-KEY-FILE]" */
} SegdProxyConfigSources;

/* Builds and validates the configuration and reads every key file.
 * Returns NULL and sets `error` (one line, "FILE:LINE: [section] key:
 * ...") on the first problem. (transfer full) */
SegdProxyConfig *
segd_proxy_config_load (const SegdProxyConfigSources *src, GError **error);

/* NULL is a no-op; secrets are wiped. */
void segd_proxy_config_free (SegdProxyConfig *config);

/* The effective configuration as a key file (transfer full). */
gchar *segd_proxy_config_to_string (const SegdProxyConfig *config);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (SegdProxyConfig, segd_proxy_config_free)

G_END_DECLS

#endif /* SEGD_PROXY_CONFIG_H */
