/* segd-config — the daemon's configuration: one typed struct filled from
 * layers (built-in defaults, DIR/segd.conf, DIR/segd.conf.d/ *.conf in
 * lexical order, --config files, --set overrides), each key checked against
 * one schema table so an error names the file, the line and what is
 * expected, and configs/segd.conf can be checked against the same table.
 */
#ifndef SEGD_CONFIG_H
#define SEGD_CONFIG_H

#include <glib.h>

G_BEGIN_DECLS

#define SEGD_CONFIG_ERROR (segd_config_error_quark ())
GQuark segd_config_error_quark (void);

typedef enum
{
  SEGD_CONFIG_ERROR_SYNTAX,  /* not a key file */
  SEGD_CONFIG_ERROR_UNKNOWN, /* section or key we do not have */
  SEGD_CONFIG_ERROR_VALUE,   /* wrong type or out of range */
  SEGD_CONFIG_ERROR_IO,      /* a named file could not be read */
} SegdConfigError;

typedef enum
{
  SEGD_SOURCE_AUTO,
  SEGD_SOURCE_DEMO,
  SEGD_SOURCE_TEST,
  SEGD_SOURCE_FILE,
  SEGD_SOURCE_URI,
  SEGD_SOURCE_V4L2,
} SegdSourceType;

typedef struct
{
  /* [source] */
  SegdSourceType source_type;
  gchar *device;
  gint width, height, framerate;
  gchar *pixel_format;
  gchar *location;
  gchar *uri;
  gboolean loop;
  gchar *pattern;
  gint num_buffers;
  gchar *demo_image;
  gboolean on_demand;
  gdouble on_demand_grace;
  gdouble retry_max;

  /* [segmenter] */
  gchar *model;
  gint threads;
  gchar *mode;
  gint interval;
  gdouble threshold;
  gchar *output_size;
  gdouble smoothing;

  /* [output] */
  gchar *sink;
  gchar *stream_name;
  gchar *endpoint;
  gint ipc_mode;
  gchar *ipc_group;
  gchar *encoding;
  gint sndhwm;
  gchar *curve_secret_key_file;
  gchar *curve_allowed_keys;
  gint queue_size;

  /* [preview] */
  gboolean preview;
  gchar *preview_sink;
  gchar *preview_overlay;

  /* [record] */
  gboolean record;
  gchar *record_location;
  gchar *record_encoder;

  /* [daemon] */
  gdouble stall_timeout;

  /* [http] */
  gboolean http_enabled;
  gchar *http_listen;
  gint http_port;

  /* "section.key" -> where the value in effect was set ("FILE:LINE",
   * "--set ..."), for the keys checked after all layers (the key files). */
  GHashTable *origins;

  /* [stream]: the defaults of every [stream NAME] */
  gdouble weight;
  gdouble max_latency; /* ms, 0: no budget */

  /* One entry per [stream NAME] section, in the order they first appear
   * (SegdStreamConfig, transfer full); empty: one camera, as configured
   * by [source] and [output]. */
  GPtrArray *streams;

  /* Private to segd-config.c: [stream NAME] settings while loading. */
  GPtrArray *stream_sections;
} SegdConfig;

/* One stream of a multi-camera segd: the whole configuration as it applies
 * to that stream ([source] keys and endpoint overridden by its section,
 * stream-name set to NAME, its weight and budget). */
typedef struct
{
  gchar *name;
  SegdConfig *config;    /* streams is empty here */
  gboolean own_endpoint; /* endpoint set in its section */
} SegdStreamConfig;

typedef struct
{
  /* Directory holding segd.conf and segd.conf.d/ (NULL: the built-in
   * SEGD_CONFIG_DIR). */
  const gchar *config_dir;
  /* Further files, applied in order after the drop-ins; a named file that
   * is missing is an error (the system ones are optional). */
  const gchar *const *files;
  /* "section.key=value" overrides, applied last. */
  const gchar *const *overrides;
} SegdConfigSources;

/* Builds the configuration from all layers. Returns NULL and sets `error`
 * (SEGD_CONFIG_ERROR, one line: "FILE:LINE: [section] key: expected ...")
 * on the first bad layer. The model file is not opened here; the CURVE key
 * files must exist and be readable (regular files, or for
 * curve-allowed-keys a directory), or the error names the line that set
 * them and the path.
 * (transfer full): free with segd_config_free. */
SegdConfig *segd_config_load (const SegdConfigSources *sources, GError **error);

/* NULL is a no-op. */
void segd_config_free (SegdConfig *config);

/* Whether two configurations are the same, key for key (streams
 * included). */
gboolean segd_config_equal (const SegdConfig *a, const SegdConfig *b);

/* The effective configuration as a key file, every key present
 * (transfer full). */
gchar *segd_config_to_string (const SegdConfig *config);

/* Calls `func` for every key of the schema in documentation order with its
 * section, key, default as text and a one-line description. */
typedef void (*SegdConfigKeyFunc) (const gchar *section, const gchar *key,
    const gchar *default_value, const gchar *description, gpointer user_data);
void segd_config_foreach_key (SegdConfigKeyFunc func, gpointer user_data);

const gchar *segd_source_type_to_string (SegdSourceType type);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (SegdConfig, segd_config_free)

/* Whether going from `a` to `b` changes the source (it must be reopened)
 * or the output side of the pipeline (only a restart applies it). */
gboolean segd_config_source_changed (const SegdConfig *a, const SegdConfig *b);
gboolean segd_config_output_changed (const SegdConfig *a, const SegdConfig *b);

G_END_DECLS

#endif /* SEGD_CONFIG_H */
