/* segd-config — layered GKeyFile configuration checked against one schema
 * table. Every key, its type, range and default live in `keys` below; the
 * loader, `--print-config`, the error messages and the test that keeps
 * configs/segd.conf complete all read that table.
 */
#include "segd-config.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <limits.h>
#include <segmask.h>
#include <stddef.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef SEGD_CONFIG_DIR
#define SEGD_CONFIG_DIR "/etc/segd"
#endif

/* Spelled out rather than G_DEFINE_QUARK, whose first argument is
 * stringified: a formatter would put spaces around its dashes. */
GQuark
segd_config_error_quark (void)
{
  return g_quark_from_static_string ("segd-config-error-quark");
}

typedef enum
{
  T_BOOL,
  T_INT,
  T_DOUBLE,
  T_STRING,
  T_CHOICE, /* a string from `choices` */
  T_ENUM,   /* a string from `choices`, stored as its index */
  T_MODE,   /* an octal file mode from min to max, stored as an int */
} KeyType;

typedef struct
{
  const gchar *section;
  const gchar *key;
  KeyType type;
  gsize offset;
  const gchar *def;
  gdouble min, max;
  const gchar *const *choices;
  const gchar *desc;
} KeyDef;

static const gchar *const source_types[] = {"auto", "demo", "test", "file",
    "uri", "v4l2", NULL};

static const gchar *const patterns[] = {"smpte", "snow", "black", "white",
    "red", "green", "blue", "checkers-1", "checkers-2", "checkers-4",
    "checkers-8", "circular", "blink", "smpte75", "zone-plate", "gamut",
    "chroma-zone-plate", "solid-color", "ball", "smpte100", "bar", "pinwheel",
    "spokes", "gradient", "colors", NULL};

static const gchar *const modes[] = {"sync", "latest", NULL};
static const gchar *const output_sizes[] = {"model", "frame", NULL};
static const gchar *const encodings[] = {"raw", "rle", "zstd", NULL};
static const gchar *const overlays[] = {"tint", "outline", "blur", "alpha",
    "mask", NULL};

#define OFF(field) offsetof (SegdConfig, field)

static const KeyDef keys[] = {
    {"source", "type", T_ENUM, OFF (source_type), "auto", 0, 0, source_types,
        "auto: the first V4L2 capture device, or demo when there is none"},
    {"source", "device", T_STRING, OFF (device), "", 0, 0, NULL,
        "v4l2: a device path or a name under /dev/v4l/by-id or by-path; "
        "empty: the first capture device"},
    {"source", "width", T_INT, OFF (width), "640", 16, 8192, NULL,
        "wanted frame width (v4l2, test, demo)"},
    {"source", "height", T_INT, OFF (height), "480", 16, 8192, NULL,
        "wanted frame height (v4l2, test, demo)"},
    {"source", "framerate", T_INT, OFF (framerate), "30", 1, 240, NULL,
        "wanted frames per second"},
    {"source", "format", T_STRING, OFF (pixel_format), "auto", 0, 0, NULL,
        "v4l2 pixel format as a fourcc (YUYV, MJPG, NV12, ...) or auto"},
    {"source", "location", T_STRING, OFF (location), "", 0, 0, NULL,
        "file: a video or image file"},
    {"source", "uri", T_STRING, OFF (uri), "", 0, 0, NULL,
        "uri: anything uridecodebin plays (rtsp://, http://, file://)"},
    {"source", "loop", T_BOOL, OFF (loop), "true", 0, 0, NULL,
        "file, uri: start again at the end"},
    {"source", "pattern", T_CHOICE, OFF (pattern), "ball", 0, 0, patterns,
        "test: the videotestsrc pattern"},
    {"source", "num-buffers", T_INT, OFF (num_buffers), "0", 0, G_MAXINT, NULL,
        "test: stop after this many frames, as a stalled camera would "
        "(0: never)"},
    {"source", "demo-image", T_STRING, OFF (demo_image), "", 0, 0, NULL,
        "demo: the photo to animate; empty: the astronaut photo of "
        "python3-skimage"},
    {"source", "on-demand", T_BOOL, OFF (on_demand), "false", 0, 0, NULL,
        "open the source only while a subscriber is connected"},
    {"source", "on-demand-grace", T_DOUBLE, OFF (on_demand_grace), "10", 0,
        3600, NULL,
        "seconds to keep the source open after the last "
        "subscriber left"},
    {"source", "retry-max", T_DOUBLE, OFF (retry_max), "5", 0.1, 300, NULL,
        "longest wait in seconds between attempts to reopen a lost source"},

    {"segmenter", "model", T_STRING, OFF (model), "", 0, 0, NULL,
        "ONNX or TFLite model; empty: the installed selfie model"},
    {"segmenter", "threads", T_INT, OFF (threads), "0", 0, 256, NULL,
        "inference threads, 0: one per core"},
    {"segmenter", "mode", T_CHOICE, OFF (mode), "sync", 0, 0, modes,
        "sync: every frame gets its own mask; latest: never wait for the "
        "network"},
    {"segmenter", "interval", T_INT, OFF (interval), "1", 1, 10000, NULL,
        "run the network on every Nth frame"},
    {"segmenter", "threshold", T_DOUBLE, OFF (threshold), "0.5", 0, 1, NULL,
        "foreground probability threshold of the class map"},
    {"segmenter", "output-size", T_CHOICE, OFF (output_size), "model", 0, 0,
        output_sizes, "mask resolution: model or frame"},
    {"segmenter", "smoothing", T_DOUBLE, OFF (smoothing), "0.7", 0, 0.99, NULL,
        "temporal smoothing strength, 0: off"},

    {"output", "sink", T_STRING, OFF (sink), "zmqmasksink", 0, 0, NULL,
        "the publishing element"},
    {"output", "stream-name", T_STRING, OFF (stream_name), "", 0, 0, NULL,
        "stream name; empty: the base name of the last --config file, or "
        "segd"},
    {"output", "endpoint", T_STRING, OFF (endpoint), "", 0, 0, NULL,
        "ZeroMQ endpoint; empty: ipc://$RUNTIME_DIRECTORY/<stream-name>.sock "
        "(systemd sets it), else ipc:///run/segd/<stream-name>.sock"},
    {"output", "ipc-mode", T_MODE, OFF (ipc_mode), "0660", 0, 0777, NULL,
        "file mode of a bound ipc:// socket (octal); subscribers need write "
        "permission"},
    {"output", "ipc-group", T_STRING, OFF (ipc_group), "", 0, 0, NULL,
        "group of a bound ipc:// socket; empty: segd's own group"},
    {"output", "encoding", T_CHOICE, OFF (encoding), "rle", 0, 0, encodings,
        "mask encoding on the wire"},
    {"output", "sndhwm", T_INT, OFF (sndhwm), "0", 0, 100000, NULL,
        "ZeroMQ send high-water mark in messages, 0: the sink's default"},
    {"output", "curve-secret-key-file", T_STRING, OFF (curve_secret_key_file),
        "", 0, 0, NULL,
        "CURVE encryption: the server's secret key, a file "
        "with the Z85 key or a czmq secret certificate; empty: no CURVE, "
        "anyone who reaches the endpoint subscribes"},
    {"output", "curve-allowed-keys", T_STRING, OFF (curve_allowed_keys), "", 0,
        0, NULL,
        "CURVE: the subscribers let in, a file of Z85 public keys "
        "or a directory of czmq public certificates; empty: any client that "
        "knows the server's public key (needs curve-secret-key-file)"},
    {"output", "queue-size", T_INT, OFF (queue_size), "2", 1, 100, NULL,
        "frames the leaky queues before the network and the sink hold"},

    {"preview", "enabled", T_BOOL, OFF (preview), "false", 0, 0, NULL,
        "show the overlaid video"},
    {"preview", "sink", T_STRING, OFF (preview_sink), "autovideosink", 0, 0,
        NULL, "video sink of the preview"},
    {"preview", "overlay", T_CHOICE, OFF (preview_overlay), "tint", 0, 0,
        overlays, "segoverlay mode of the preview"},

    {"record", "enabled", T_BOOL, OFF (record), "false", 0, 0, NULL,
        "record the overlaid video to a file"},
    {"record", "location", T_STRING, OFF (record_location), "", 0, 0, NULL,
        "file to record to (required when enabled)"},
    {"record", "encoder", T_STRING, OFF (record_encoder), "jpegenc ! avimux", 0,
        0, NULL, "GStreamer encoder and muxer description"},

    {"daemon", "stall-timeout", T_DOUBLE, OFF (stall_timeout), "2", 0.1, 600,
        NULL,
        "seconds without a published mask after which the stream "
        "counts as stalled and the watchdog stops"},

    {"http", "enabled", T_BOOL, OFF (http_enabled), "true", 0, 0, NULL,
        "serve the status page, /api/status and /metrics"},
    {"http", "listen", T_STRING, OFF (http_listen), "127.0.0.1", 0, 0, NULL,
        "IP address to listen on; anything but loopback (127.0.0.1, ::1) "
        "shows the camera's images to the network, with no password"},
    {"http", "port", T_INT, OFF (http_port), "9470", 0, 65535, NULL,
        "TCP port; 0: any free one (logged); each segd@ instance needs its "
        "own"},

    {"stream", "weight", T_DOUBLE, OFF (weight), "1", 0.01, 1000, NULL,
        "share of the shared engine under overload, relative to the other "
        "streams"},
    {"stream", "max-latency", T_DOUBLE, OFF (max_latency), "0", 0, 60000, NULL,
        "latency budget from capture to mask in ms; a frame that "
        "cannot make it is dropped (0: none)"},
};

/* A [stream NAME] section takes the [stream] keys, every [source] key and
 * these of [output]. */
static const gchar *const stream_output_keys[] = {"endpoint", NULL};

#define STREAM_PREFIX "stream "

typedef struct
{
  gchar *name;
  /* "section\nkey\nvalue\norigin" in the order read; applied to a copy
   * of the finished base configuration. */
  GPtrArray *settings;
} StreamSection;

#define N_KEYS G_N_ELEMENTS (keys)

const gchar *
segd_source_type_to_string (SegdSourceType type)
{
  if ((guint) type >= G_N_ELEMENTS (source_types) - 1)
    return "?";
  return source_types[type];
}

static const KeyDef *
find_key (const gchar *section, const gchar *key)
{
  for (guint i = 0; i < N_KEYS; i++)
    if (!strcmp (keys[i].section, section) && !strcmp (keys[i].key, key))
      return &keys[i];
  return NULL;
}

static gboolean
known_section (const gchar *section)
{
  for (guint i = 0; i < N_KEYS; i++)
    if (!strcmp (keys[i].section, section))
      return TRUE;
  return FALSE;
}

static gchar *
section_keys (const gchar *section)
{
  GString *s = g_string_new (NULL);

  for (guint i = 0; i < N_KEYS; i++) {
    if (strcmp (keys[i].section, section))
      continue;
    if (s->len)
      g_string_append (s, ", ");
    g_string_append (s, keys[i].key);
  }
  return g_string_free (s, FALSE);
}

static gchar *
describe_expected (const KeyDef *def)
{
  switch (def->type) {
    case T_BOOL:
      return g_strdup ("true or false");
    case T_INT:
      if (def->max >= G_MAXINT)
        return g_strdup_printf ("an integer of at least %.0f", def->min);
      return g_strdup_printf ("an integer from %.0f to %.0f", def->min,
          def->max);
    case T_DOUBLE:
      return g_strdup_printf ("a number from %g to %g", def->min, def->max);
    case T_MODE:
      return g_strdup_printf ("an octal file mode from %04o to %04o",
          (guint) def->min, (guint) def->max);
    case T_CHOICE:
    case T_ENUM: {
      gchar *list = g_strjoinv (", ", (gchar **) def->choices);
      gchar *s = g_strdup_printf ("one of %s", list);

      g_free (list);
      return s;
    }
    case T_STRING:
    default:
      return g_strdup ("a string");
  }
}

static gint
choice_index (const KeyDef *def, const gchar *value)
{
  for (gint i = 0; def->choices[i]; i++)
    if (!strcmp (def->choices[i], value))
      return i;
  return -1;
}

/* Parses `value` for `def` and stores it. FALSE when the text does not fit;
 * nothing is stored then. */
static gboolean
store_value (SegdConfig *config, const KeyDef *def, const gchar *value)
{
  gpointer field = (guint8 *) config + def->offset;

  switch (def->type) {
    case T_BOOL:
      if (!g_ascii_strcasecmp (value, "true") || !strcmp (value, "1")
          || !g_ascii_strcasecmp (value, "yes")
          || !g_ascii_strcasecmp (value, "on"))
        *(gboolean *) field = TRUE;
      else if (!g_ascii_strcasecmp (value, "false") || !strcmp (value, "0")
          || !g_ascii_strcasecmp (value, "no")
          || !g_ascii_strcasecmp (value, "off"))
        *(gboolean *) field = FALSE;
      else
        return FALSE;
      return TRUE;
    case T_INT: {
      gint64 v;

      if (!g_ascii_string_to_signed (value, 10, (gint64) def->min,
              (gint64) def->max, &v, NULL))
        return FALSE;
      *(gint *) field = (gint) v;
      return TRUE;
    }
    case T_MODE: {
      guint64 v;

      if (!g_ascii_string_to_unsigned (value, 8, (guint64) def->min,
              (guint64) def->max, &v, NULL))
        return FALSE;
      *(gint *) field = (gint) v;
      return TRUE;
    }
    case T_DOUBLE: {
      gchar *end;
      gdouble v;

      errno = 0;
      v = g_ascii_strtod (value, &end);
      if (end == value || *end || errno || !(v >= def->min && v <= def->max))
        return FALSE;
      *(gdouble *) field = v;
      return TRUE;
    }
    case T_ENUM: {
      gint i = choice_index (def, value);

      if (i < 0)
        return FALSE;
      *(gint *) field = i;
      return TRUE;
    }
    case T_CHOICE:
      if (choice_index (def, value) < 0)
        return FALSE;
      /* fall through */
    case T_STRING:
    default:
      g_free (*(gchar **) field);
      *(gchar **) field = g_strdup (value);
      return TRUE;
  }
}

static gchar *
format_value (const SegdConfig *config, const KeyDef *def)
{
  gconstpointer field = (const guint8 *) config + def->offset;

  switch (def->type) {
    case T_BOOL:
      return g_strdup (*(const gboolean *) field ? "true" : "false");
    case T_INT:
      return g_strdup_printf ("%d", *(const gint *) field);
    case T_MODE:
      return g_strdup_printf ("%04o", (guint) * (const gint *) field);
    case T_DOUBLE: {
      gchar buf[G_ASCII_DTOSTR_BUF_SIZE];

      return g_strdup (
          g_ascii_formatd (buf, sizeof buf, "%g", *(const gdouble *) field));
    }
    case T_ENUM:
      return g_strdup (def->choices[*(const gint *) field]);
    case T_CHOICE:
    case T_STRING:
    default: {
      const gchar *s = *(gchar *const *) field;
      return g_strdup (s ? s : "");
    }
  }
}

/* Line (1-based) of `key` in `[section]` of key file text, 0 if not found:
 * GKeyFile keeps no positions, and an error should point at the line. */
static guint
find_line (const gchar *text, const gchar *section, const gchar *key)
{
  gchar **lines = g_strsplit (text, "\n", -1);
  gboolean in_section = FALSE;
  guint found = 0;

  for (guint i = 0; lines[i]; i++) {
    gchar *line = g_strstrip (lines[i]);

    if (line[0] == '[') {
      gchar *end = strchr (line, ']');

      in_section = end && (gsize) (end - line - 1) == strlen (section)
          && !strncmp (line + 1, section, end - line - 1);
      if (in_section && !key) {
        found = i + 1;
        break;
      }
      continue;
    }
    if (in_section && key && g_str_has_prefix (line, key)) {
      const gchar *rest = line + strlen (key);

      while (*rest == ' ' || *rest == '\t')
        rest++;
      if (*rest == '=') {
        found = i + 1; /* the last one wins, as in GKeyFile */
      }
    }
  }
  g_strfreev (lines);
  return found;
}

static gchar *
where (const gchar *origin, const gchar *text, const gchar *section,
    const gchar *key)
{
  guint line = text ? find_line (text, section, key) : 0;

  if (line)
    return g_strdup_printf ("%s:%u", origin, line);
  return g_strdup (origin);
}

static void
stream_section_free (gpointer data)
{
  StreamSection *ss = data;

  g_free (ss->name);
  g_ptr_array_unref (ss->settings);
  g_free (ss);
}

static StreamSection *
stream_section (SegdConfig *config, const gchar *name)
{
  StreamSection *ss;

  if (!config->stream_sections)
    config->stream_sections =
        g_ptr_array_new_with_free_func (stream_section_free);
  for (guint i = 0; i < config->stream_sections->len; i++) {
    ss = g_ptr_array_index (config->stream_sections, i);
    if (!strcmp (ss->name, name))
      return ss;
  }
  ss = g_new0 (StreamSection, 1);
  ss->name = g_strdup (name);
  ss->settings = g_ptr_array_new_with_free_func (g_free);
  g_ptr_array_add (config->stream_sections, ss);
  return ss;
}

/* The table section a key of [stream NAME] belongs to, or NULL. */
static const gchar *
stream_key_section (const gchar *key)
{
  if (find_key ("stream", key))
    return "stream";
  if (find_key ("source", key))
    return "source";
  if (g_strv_contains (stream_output_keys, key))
    return "output";
  return NULL;
}

static gboolean
valid_stream_name (const gchar *name)
{
  gsize n = strlen (name);

  if (n == 0 || n > 64)
    return FALSE;
  for (const gchar *c = name; *c; c++)
    if (!g_ascii_isalnum (*c) && *c != '-' && *c != '_')
      return FALSE;
  return TRUE;
}

static gboolean
apply_value (SegdConfig *config, const gchar *origin, const gchar *text,
    const gchar *section, const gchar *key, const gchar *value, GError **error);

/* Checks a key of [stream NAME] by applying it to a scratch copy, and
 * records it for the stream. */
static gboolean
apply_stream_value (SegdConfig *config, const gchar *origin, const gchar *text,
    const gchar *group, const gchar *key, const gchar *value, GError **error)
{
  const gchar *name = group + strlen (STREAM_PREFIX);
  const gchar *section = stream_key_section (key);
  StreamSection *ss;
  gchar *at;

  if (!valid_stream_name (name)) {
    at = where (origin, text, group, NULL);
    g_set_error (error, SEGD_CONFIG_ERROR, SEGD_CONFIG_ERROR_VALUE,
        "%s: [%s]: a stream name is 1 to 64 letters, digits, - or _", at,
        group);
    g_free (at);
    return FALSE;
  }
  if (!section) {
    at = where (origin, text, group, key);
    g_set_error (error, SEGD_CONFIG_ERROR, SEGD_CONFIG_ERROR_UNKNOWN,
        "%s: unknown key \"%s\" in [%s] (expected weight, max-latency, "
        "endpoint or a [source] key)",
        at, key, group);
    g_free (at);
    return FALSE;
  }
  {
    g_autoptr (SegdConfig) scratch = g_new0 (SegdConfig, 1);
    g_autoptr (GError) local = NULL;

    if (!apply_value (scratch, origin, text, section, key, value, &local)) {
      at = where (origin, text, group, key);
      g_set_error (error, SEGD_CONFIG_ERROR, local->code, "%s: [%s] %s: %s", at,
          group, key,
          strstr (local->message, "expected")
              ? strstr (local->message, "expected")
              : local->message);
      g_free (at);
      return FALSE;
    }
  }
  ss = stream_section (config, name);
  g_ptr_array_add (ss->settings,
      g_strjoin ("\n", section, key, value, origin, NULL));
  return TRUE;
}

/* Keys naming files that segd hands to an element which reads them only
 * when the pipeline starts: they are checked here, once every layer is in
 * (a later layer may fix an earlier one), so that --check-config and
 * start-up fail with the line that set them, before the sink would. */
static const struct
{
  const gchar *section, *key;
  gboolean dir_ok;
} path_keys[] = {
    {"output", "curve-secret-key-file", FALSE},
    {"output", "curve-allowed-keys", TRUE},
};

static gboolean
is_path_key (const gchar *section, const gchar *key)
{
  for (guint i = 0; i < G_N_ELEMENTS (path_keys); i++)
    if (!strcmp (path_keys[i].section, section)
        && !strcmp (path_keys[i].key, key))
      return TRUE;
  return FALSE;
}

static void
note_origin (SegdConfig *config, const gchar *origin, const gchar *text,
    const gchar *section, const gchar *key)
{
  if (!is_path_key (section, key))
    return;
  if (!config->origins)
    config->origins =
        g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  g_hash_table_replace (config->origins,
      g_strdup_printf ("%s.%s", section, key),
      where (origin, text, section, key));
}

/* "FILE:LINE: [section] key: " for an error about the value in effect. */
static gchar *
key_prefix (const SegdConfig *config, const gchar *section, const gchar *key)
{
  g_autofree gchar *name = g_strdup_printf ("%s.%s", section, key);
  const gchar *at =
      config->origins ? g_hash_table_lookup (config->origins, name) : NULL;

  return g_strdup_printf ("%s%s[%s] %s: ", at ? at : "", at ? ": " : "",
      section, key);
}

/* Opens `path` as the key will be read: a regular file (or a directory
 * when `dir_ok`) that this user can read. NULL or why not. */
static gchar *
check_readable (const gchar *path, gboolean dir_ok)
{
  g_autoptr (GError) local = NULL;
  GStatBuf st;
  int fd;

  if (g_stat (path, &st) != 0)
    return g_strdup (g_strerror (errno));
  if (S_ISDIR (st.st_mode) && dir_ok) {
    GDir *dir = g_dir_open (path, 0, &local);

    if (!dir)
      return g_strdup (local->message);
    g_dir_close (dir);
    return NULL;
  }
  if (!S_ISREG (st.st_mode))
    return g_strdup (
        dir_ok ? "not a regular file or a directory" : "not a regular file");
  fd = g_open (path, O_RDONLY | O_CLOEXEC, 0);
  if (fd < 0)
    return g_strdup (g_strerror (errno));
  close (fd);
  return NULL;
}

static gboolean
apply_value (SegdConfig *config, const gchar *origin, const gchar *text,
    const gchar *section, const gchar *key, const gchar *value, GError **error)
{
  const KeyDef *def = find_key (section, key);
  gchar *at, *expected;

  if (!known_section (section)) {
    at = where (origin, text, section, NULL);
    g_set_error (error, SEGD_CONFIG_ERROR, SEGD_CONFIG_ERROR_UNKNOWN,
        "%s: unknown section [%s] (expected source, segmenter, output, "
        "preview, record, daemon or http)",
        at, section);
    g_free (at);
    return FALSE;
  }
  if (!def) {
    gchar *known = section_keys (section);

    at = where (origin, text, section, key);
    g_set_error (error, SEGD_CONFIG_ERROR, SEGD_CONFIG_ERROR_UNKNOWN,
        "%s: unknown key \"%s\" in [%s] (expected one of %s)", at, key, section,
        known);
    g_free (known);
    g_free (at);
    return FALSE;
  }
  if (store_value (config, def, value)) {
    note_origin (config, origin, text, section, key);
    return TRUE;
  }

  at = where (origin, text, section, key);
  expected = describe_expected (def);
  g_set_error (error, SEGD_CONFIG_ERROR, SEGD_CONFIG_ERROR_VALUE,
      "%s: [%s] %s: expected %s, got \"%s\"", at, section, key, expected,
      value);
  g_free (expected);
  g_free (at);
  return FALSE;
}

static gboolean
apply_file (SegdConfig *config, const gchar *path, gboolean required,
    GError **error)
{
  g_autoptr (GKeyFile) kf = g_key_file_new ();
  g_autoptr (GError) local = NULL;
  g_autofree gchar *text = NULL;
  g_auto (GStrv) groups = NULL;
  gsize len;

  if (!g_file_get_contents (path, &text, &len, &local)) {
    if (!required && g_error_matches (local, G_FILE_ERROR, G_FILE_ERROR_NOENT))
      return TRUE;
    g_set_error (error, SEGD_CONFIG_ERROR, SEGD_CONFIG_ERROR_IO, "%s: %s", path,
        local->message);
    return FALSE;
  }
  if (!g_key_file_load_from_data (kf, text, len, G_KEY_FILE_NONE, &local)) {
    g_set_error (error, SEGD_CONFIG_ERROR, SEGD_CONFIG_ERROR_SYNTAX,
        "%s: not a key file: %s", path, local->message);
    return FALSE;
  }

  groups = g_key_file_get_groups (kf, NULL);
  for (guint g = 0; groups[g]; g++) {
    g_auto (GStrv) names = g_key_file_get_keys (kf, groups[g], NULL, NULL);

    if (g_str_has_prefix (groups[g], STREAM_PREFIX)) {
      const gchar *name = groups[g] + strlen (STREAM_PREFIX);

      /* A section without keys is a stream with the defaults. */
      if (valid_stream_name (name))
        stream_section (config, name);
      else if (!names || !names[0])
        return apply_stream_value (config, path, text, groups[g], "", "",
            error);
    }
    if (!names || !names[0]) {
      /* An empty unknown section is still a typo worth reporting. */
      if (!known_section (groups[g])
          && !g_str_has_prefix (groups[g], STREAM_PREFIX))
        return apply_value (config, path, text, groups[g], "", "", error);
      continue;
    }
    for (guint k = 0; names[k]; k++) {
      g_autofree gchar *value = NULL;

      value = g_key_file_get_string (kf, groups[g], names[k], &local);
      if (!value) {
        g_autofree gchar *at = where (path, text, groups[g], names[k]);

        g_set_error (error, SEGD_CONFIG_ERROR, SEGD_CONFIG_ERROR_SYNTAX,
            "%s: [%s] %s: %s", at, groups[g], names[k], local->message);
        return FALSE;
      }
      if (g_str_has_prefix (groups[g], STREAM_PREFIX)
              ? !apply_stream_value (config, path, text, groups[g], names[k],
                  value, error)
              : !apply_value (config, path, text, groups[g], names[k], value,
                  error))
        return FALSE;
    }
  }
  return TRUE;
}

static gboolean
apply_override (SegdConfig *config, const gchar *arg, GError **error)
{
  g_autofree gchar *origin = g_strdup_printf ("--set %s", arg);
  g_autofree gchar *name = NULL;
  const gchar *eq = strchr (arg, '=');
  const gchar *dot;

  if (!eq) {
    g_set_error (error, SEGD_CONFIG_ERROR, SEGD_CONFIG_ERROR_SYNTAX,
        "%s: expected section.key=value", origin);
    return FALSE;
  }
  name = g_strndup (arg, eq - arg);
  dot = strchr (name, '.');
  if (!dot || dot == name || !dot[1]) {
    g_set_error (error, SEGD_CONFIG_ERROR, SEGD_CONFIG_ERROR_SYNTAX,
        "%s: expected section.key=value", origin);
    return FALSE;
  }
  name[dot - name] = '\0';
  return apply_value (config, origin, NULL, name, name + (dot - name) + 1,
      eq + 1, error);
}

static gint
compare_names (gconstpointer a, gconstpointer b)
{
  return strcmp (*(const gchar *const *) a, *(const gchar *const *) b);
}

static gboolean
apply_dropins (SegdConfig *config, const gchar *dir_path, GError **error)
{
  g_autoptr (GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GError) local = NULL;
  GDir *dir = g_dir_open (dir_path, 0, &local);
  const gchar *name;

  if (!dir) {
    if (g_error_matches (local, G_FILE_ERROR, G_FILE_ERROR_NOENT))
      return TRUE;
    g_set_error (error, SEGD_CONFIG_ERROR, SEGD_CONFIG_ERROR_IO, "%s: %s",
        dir_path, local->message);
    return FALSE;
  }
  while ((name = g_dir_read_name (dir)))
    if (g_str_has_suffix (name, ".conf") && name[0] != '.')
      g_ptr_array_add (names, g_strdup (name));
  g_dir_close (dir);
  g_ptr_array_sort (names, compare_names);

  for (guint i = 0; i < names->len; i++) {
    g_autofree gchar *path =
        g_build_filename (dir_path, (const gchar *) names->pdata[i], NULL);

    if (!apply_file (config, path, TRUE, error))
      return FALSE;
  }
  return TRUE;
}

/* The keys themselves, read by the loader the sink uses (libsegmask): a
 * file that is there but holds no usable key (a public certificate given
 * as the secret one, a truncated key) fails here with the line that set
 * it, not when the sink starts. `public_keys`: a list of public keys or a
 * directory of certificates; else one secret key. NULL, or "PATH...: why"
 * (transfer full). */
static gchar *
check_keys (const gchar *path, gboolean public_keys)
{
  char err[512] = "";
  segmask_status st;

  if (public_keys) {
    segmask_keyring *ring = segmask_keyring_new ();

    if (!ring)
      return g_strdup_printf ("%s: out of memory", path);
    st = segmask_keyring_add_path (ring, SEGMASK_KEY_PUBLIC, path, err,
        sizeof err);
    segmask_keyring_free (&ring);
  } else {
    char public_z85[41], secret_z85[41];

    st = segmask_keypair_load (NULL, path, public_z85, secret_z85, err,
        sizeof err);
    /* Not a copy of the secret left on the stack. */
    explicit_bzero (secret_z85, sizeof secret_z85);
  }
  if (st == SEGMASK_OK)
    return NULL;
  if (err[0] && strstr (err, path))
    return g_strdup (err);
  return g_strdup_printf ("%s: %s", path,
      err[0] ? err : segmask_status_string (st));
}

static gboolean
check_paths (SegdConfig *config, GError **error)
{
  for (guint i = 0; i < G_N_ELEMENTS (path_keys); i++) {
    const KeyDef *def = find_key (path_keys[i].section, path_keys[i].key);
    const gchar *path = *(gchar **) ((guint8 *) config + def->offset);
    g_autofree gchar *problem = NULL;

    if (!path[0])
      continue;
    if ((problem = check_readable (path, path_keys[i].dir_ok))) {
      g_autofree gchar *prefix = key_prefix (config, def->section, def->key);

      g_set_error (error, SEGD_CONFIG_ERROR, SEGD_CONFIG_ERROR_VALUE,
          "%s%s: %s", prefix, path, problem);
      return FALSE;
    }
    if ((problem = check_keys (path, path_keys[i].dir_ok))) {
      g_autofree gchar *prefix = key_prefix (config, def->section, def->key);

      g_set_error (error, SEGD_CONFIG_ERROR, SEGD_CONFIG_ERROR_VALUE, "%s%s",
          prefix, problem);
      return FALSE;
    }
  }
  /* The sink would refuse this at start; say it now. */
  if (config->curve_allowed_keys[0] && !config->curve_secret_key_file[0]) {
    g_autofree gchar *prefix =
        key_prefix (config, "output", "curve-allowed-keys");

    g_set_error (error, SEGD_CONFIG_ERROR, SEGD_CONFIG_ERROR_VALUE,
        "%sneeds [output] curve-secret-key-file, the server's key", prefix);
    return FALSE;
  }
  return TRUE;
}

/* Checks between keys, once every layer is in. */
static gboolean
check_consistency (SegdConfig *config, GError **error)
{
  const gchar *fmt = config->pixel_format;

  if (strcmp (fmt, "auto") && strlen (fmt) != 4) {
    g_set_error (error, SEGD_CONFIG_ERROR, SEGD_CONFIG_ERROR_VALUE,
        "[source] format: expected auto or a four-character code such as "
        "YUYV or MJPG, got \"%s\"",
        fmt);
    return FALSE;
  }
  if (config->source_type == SEGD_SOURCE_FILE && !config->location[0]) {
    g_set_error (error, SEGD_CONFIG_ERROR, SEGD_CONFIG_ERROR_VALUE,
        "[source] location: expected a file name when type=file");
    return FALSE;
  }
  if (config->source_type == SEGD_SOURCE_URI
      && !g_uri_is_valid (config->uri, G_URI_FLAGS_NONE, NULL)) {
    g_set_error (error, SEGD_CONFIG_ERROR, SEGD_CONFIG_ERROR_VALUE,
        "[source] uri: expected a URI such as rtsp://host/path when "
        "type=uri, got \"%s\"",
        config->uri);
    return FALSE;
  }
  if (config->record && !config->record_location[0]) {
    g_set_error (error, SEGD_CONFIG_ERROR, SEGD_CONFIG_ERROR_VALUE,
        "[record] location: expected a file name when enabled=true");
    return FALSE;
  }
  if (!config->sink[0]) {
    g_set_error (error, SEGD_CONFIG_ERROR, SEGD_CONFIG_ERROR_VALUE,
        "[output] sink: expected an element name");
    return FALSE;
  }
  /* An address, not a name: a name could resolve to anything, and what
   * the page exposes depends on exactly where it listens. */
  if (!g_hostname_is_ip_address (config->http_listen)) {
    g_set_error (error, SEGD_CONFIG_ERROR, SEGD_CONFIG_ERROR_VALUE,
        "[http] listen: expected an IP address such as 127.0.0.1 or ::1, "
        "got \"%s\"",
        config->http_listen);
    return FALSE;
  }
  return TRUE;
}

static SegdConfig *
config_copy (const SegdConfig *config)
{
  SegdConfig *copy = g_new0 (SegdConfig, 1);

  for (guint i = 0; i < N_KEYS; i++) {
    g_autofree gchar *value = format_value (config, &keys[i]);
    gboolean ok = store_value (copy, &keys[i], value);

    g_assert (ok);
  }
  return copy;
}

static void
stream_config_free (gpointer data)
{
  SegdStreamConfig *sc = data;

  g_free (sc->name);
  segd_config_free (sc->config);
  g_free (sc);
}

/* Each [stream NAME]: the finished base configuration with the section's
 * keys on top, in the order the layers gave them. */
static gboolean
build_streams (SegdConfig *config, GError **error)
{
  config->streams = g_ptr_array_new_with_free_func (stream_config_free);
  for (guint i = 0; config->stream_sections && i < config->stream_sections->len;
       i++) {
    StreamSection *ss = g_ptr_array_index (config->stream_sections, i);
    SegdStreamConfig *sc = g_new0 (SegdStreamConfig, 1);

    sc->name = g_strdup (ss->name);
    sc->config = config_copy (config);
    g_free (sc->config->stream_name);
    sc->config->stream_name = g_strdup (ss->name);
    g_free (sc->config->endpoint);
    sc->config->endpoint = g_strdup ("");
    g_ptr_array_add (config->streams, sc);
    for (guint k = 0; k < ss->settings->len; k++) {
      g_auto (GStrv) f =
          g_strsplit (g_ptr_array_index (ss->settings, k), "\n", 4);
      gboolean ok = store_value (sc->config, find_key (f[0], f[1]), f[2]);

      g_assert (ok);
      if (!strcmp (f[1], "endpoint"))
        sc->own_endpoint = f[2][0] != '\0';
    }
    if (!check_consistency (sc->config, error)) {
      g_prefix_error (error, "[stream %s]: ", ss->name);
      return FALSE;
    }
  }
  return TRUE;
}

gboolean
segd_config_equal (const SegdConfig *a, const SegdConfig *b)
{
  g_autofree gchar *x = segd_config_to_string (a);
  g_autofree gchar *y = segd_config_to_string (b);

  return !strcmp (x, y);
}

SegdConfig *
segd_config_load (const SegdConfigSources *sources, GError **error)
{
  g_autoptr (SegdConfig) config = g_new0 (SegdConfig, 1);
  const gchar *dir =
      sources && sources->config_dir ? sources->config_dir : SEGD_CONFIG_DIR;
  const gchar *last_file = NULL;

  for (guint i = 0; i < N_KEYS; i++) {
    gboolean ok = store_value (config, &keys[i], keys[i].def);

    g_assert (ok);
  }

  {
    g_autofree gchar *main_path = g_build_filename (dir, "segd.conf", NULL);
    g_autofree gchar *dropin_dir = g_build_filename (dir, "segd.conf.d", NULL);

    if (!apply_file (config, main_path, FALSE, error)
        || !apply_dropins (config, dropin_dir, error))
      return NULL;
  }

  for (guint i = 0; sources && sources->files && sources->files[i]; i++) {
    if (!apply_file (config, sources->files[i], TRUE, error))
      return NULL;
    last_file = sources->files[i];
  }
  for (guint i = 0; sources && sources->overrides && sources->overrides[i]; i++)
    if (!apply_override (config, sources->overrides[i], error))
      return NULL;

  if (!config->stream_name[0]) {
    g_free (config->stream_name);
    if (last_file) {
      gchar *base = g_path_get_basename (last_file);
      gchar *dot = strrchr (base, '.');

      if (dot && dot != base)
        *dot = '\0';
      config->stream_name = base;
    } else {
      config->stream_name = g_strdup ("segd");
    }
  }

  if (!check_consistency (config, error) || !check_paths (config, error))
    return NULL;
  if (!build_streams (config, error))
    return NULL;
  return g_steal_pointer (&config);
}

void
segd_config_free (SegdConfig *config)
{
  if (!config)
    return;
  for (guint i = 0; i < N_KEYS; i++)
    if (keys[i].type == T_STRING || keys[i].type == T_CHOICE)
      g_free (*(gchar **) ((guint8 *) config + keys[i].offset));
  g_clear_pointer (&config->streams, g_ptr_array_unref);
  g_clear_pointer (&config->stream_sections, g_ptr_array_unref);
  g_clear_pointer (&config->origins, g_hash_table_unref);
  g_free (config);
}

gchar *
segd_config_to_string (const SegdConfig *config)
{
  GString *s = g_string_new (NULL);
  const gchar *section = NULL;

  for (guint i = 0; i < N_KEYS; i++) {
    g_autofree gchar *value = format_value (config, &keys[i]);

    if (!section || strcmp (section, keys[i].section)) {
      section = keys[i].section;
      g_string_append_printf (s, "%s[%s]\n", s->len ? "\n" : "", section);
    }
    g_string_append_printf (s, "%s=%s\n", keys[i].key, value);
  }
  /* A stream: what differs from the base, which is all its section can
   * change. */
  for (guint i = 0; config->streams && i < config->streams->len; i++) {
    const SegdStreamConfig *sc = g_ptr_array_index (config->streams, i);

    g_string_append_printf (s, "\n[stream %s]\n", sc->name);
    for (guint k = 0; k < N_KEYS; k++) {
      g_autofree gchar *value = format_value (sc->config, &keys[k]);
      g_autofree gchar *base = format_value (config, &keys[k]);

      if (strcmp (value, base) && strcmp (keys[k].key, "stream-name")
          && (sc->own_endpoint || strcmp (keys[k].key, "endpoint")))
        g_string_append_printf (s, "%s=%s\n", keys[k].key, value);
    }
  }
  return g_string_free (s, FALSE);
}

void
segd_config_foreach_key (SegdConfigKeyFunc func, gpointer user_data)
{
  for (guint i = 0; i < N_KEYS; i++)
    func (keys[i].section, keys[i].key, keys[i].def, keys[i].desc, user_data);
}

/* ---- what a reload changes ---- */

gboolean
segd_config_source_changed (const SegdConfig *a, const SegdConfig *b)
{
  return a->source_type != b->source_type || g_strcmp0 (a->device, b->device)
      || a->width != b->width || a->height != b->height
      || a->framerate != b->framerate
      || g_strcmp0 (a->pixel_format, b->pixel_format)
      || g_strcmp0 (a->location, b->location) || g_strcmp0 (a->uri, b->uri)
      || a->loop != b->loop || g_strcmp0 (a->pattern, b->pattern)
      || a->num_buffers != b->num_buffers
      || g_strcmp0 (a->demo_image, b->demo_image);
}

gboolean
segd_config_output_changed (const SegdConfig *a, const SegdConfig *b)
{
  return g_strcmp0 (a->sink, b->sink)
      || g_strcmp0 (a->stream_name, b->stream_name)
      || g_strcmp0 (a->endpoint, b->endpoint) || a->ipc_mode != b->ipc_mode
      || g_strcmp0 (a->ipc_group, b->ipc_group)
      || g_strcmp0 (a->encoding, b->encoding) || a->sndhwm != b->sndhwm
      || g_strcmp0 (a->curve_secret_key_file, b->curve_secret_key_file)
      || g_strcmp0 (a->curve_allowed_keys, b->curve_allowed_keys)
      || a->queue_size != b->queue_size || a->preview != b->preview
      || a->record != b->record || g_strcmp0 (a->mode, b->mode);
}
