/* segd-proxy-config — layered GKeyFile configuration for segd-proxy. Each
 * layer's values are checked against `keys` as they are read, so a type
 * error points at the file and line that set it; the checks that involve
 * several keys (CURVE needs an allow-list, an upstream needs an endpoint)
 * run once all layers are in and name where the deciding value came from.
 * Key files are read here, so --check-config catches a bad key too.
 */
#include "segd-proxy-config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#ifndef SEGD_CONFIG_DIR
#define SEGD_CONFIG_DIR "/etc/segd"
#endif

/* Spelled out rather than G_DEFINE_QUARK, whose first argument is
 * stringified: a formatter would put spaces around its dashes. */
GQuark
segd_proxy_config_error_quark (void)
{
  return g_quark_from_static_string ("segd-proxy-config-error-quark");
}

#define UPSTREAM_PREFIX "upstream "

typedef enum
{
  T_BOOL,
  T_INT,
  T_DOUBLE,
  T_STRING,
} KeyType;

typedef struct
{
  gboolean upstream; /* in [upstream NAME], else in [proxy] */
  const gchar *key;
  KeyType type;
  const gchar *def;
  gdouble min, max;
  const gchar *desc;
} KeyDef;

static const KeyDef keys[] = {
    {FALSE, "name", T_STRING, "segd-proxy", 0, 0,
        "stream name of the proxy's own status/<name> messages; give each "
        "proxy of a tree its own"},
    {FALSE, "bind", T_STRING, "", 0, 0,
        "endpoint subscribers connect to, e.g. tcp://10.0.0.5:5600 (required)"},
    {FALSE, "curve-secret-key-file", T_STRING, "", 0, 0,
        "the proxy's CURVE server secret key for subscribers (Z85 file or "
        "czmq certificate)"},
    {FALSE, "curve-allowed-keys", T_STRING, "", 0, 0,
        "file or directory of subscriber public keys admitted (ZAP); "
        "required with curve-secret-key-file"},
    {FALSE, "client-key-file", T_STRING, "", 0, 0,
        "the proxy's own CURVE key pair towards publishers (secret key file); "
        "its public key goes into each publisher's allow-list"},
    {FALSE, "allow-plaintext", T_BOOL, "false", 0, 0,
        "permit a hop without CURVE (downstream or an upstream)"},
    {FALSE, "sndhwm", T_INT, "1000", 1, 1000000,
        "messages queued per subscriber before libzmq drops for it"},
    {FALSE, "rcvhwm", T_INT, "1000", 1, 1000000,
        "messages queued per upstream before the proxy reads them"},
    {FALSE, "heartbeat", T_DOUBLE, "1", 0.1, 60,
        "seconds between ZMTP heartbeats; a peer silent for three is "
        "disconnected"},
    {TRUE, "endpoint", T_STRING, "", 0, 0,
        "the publisher (segd or another segd-proxy) to connect to (required)"},
    {TRUE, "curve-server-key-file", T_STRING, "", 0, 0,
        "the publisher's CURVE server public key"},
};

typedef struct
{
  gchar *value;
  gchar *origin; /* "FILE:LINE", "FILE", "--set", ... */
} Setting;

typedef struct
{
  GHashTable *settings; /* "section\nkey" -> Setting */
  GPtrArray *upstreams; /* names, first-seen order */
} Layers;

static void
setting_free (gpointer p)
{
  Setting *s = p;

  g_free (s->value);
  g_free (s->origin);
  g_free (s);
}

static const KeyDef *
find_key (gboolean upstream, const gchar *key)
{
  for (guint i = 0; i < G_N_ELEMENTS (keys); i++)
    if (keys[i].upstream == upstream && !strcmp (keys[i].key, key))
      return &keys[i];
  return NULL;
}

static gchar *
known_keys (gboolean upstream)
{
  GString *s = g_string_new (NULL);

  for (guint i = 0; i < G_N_ELEMENTS (keys); i++) {
    if (keys[i].upstream != upstream)
      continue;
    if (s->len)
      g_string_append (s, ", ");
    g_string_append (s, keys[i].key);
  }
  return g_string_free (s, FALSE);
}

/* Line (1-based) of `key` in `[section]` (or of the section header when
 * `key` is NULL) in key file text; 0 if not found. GKeyFile keeps no
 * positions and an error should point at the line. */
static guint
find_line (const gchar *text, const gchar *section, const gchar *key)
{
  g_auto (GStrv) lines = g_strsplit (text, "\n", -1);
  gboolean in_section = FALSE;
  guint found = 0;

  for (guint i = 0; lines[i]; i++) {
    gchar *line = g_strstrip (lines[i]);

    if (line[0] == '[') {
      gchar *end = strrchr (line, ']');

      in_section = end && (gsize) (end - line - 1) == strlen (section)
          && !strncmp (line + 1, section, end - line - 1);
      if (in_section && !key)
        return i + 1;
      continue;
    }
    if (in_section && key && g_str_has_prefix (line, key)) {
      const gchar *rest = line + strlen (key);

      rest += strspn (rest, " \t");
      if (*rest == '=')
        found = i + 1; /* the last one wins, as in GKeyFile */
    }
  }
  return found;
}

static gchar *
origin_of (const gchar *file, const gchar *text, const gchar *section,
    const gchar *key)
{
  guint line = text ? find_line (text, section, key) : 0;

  return line ? g_strdup_printf ("%s:%u", file, line) : g_strdup (file);
}

static gboolean
valid_upstream_name (const gchar *name)
{
  if (!name[0] || strlen (name) > 64)
    return FALSE;
  for (const gchar *p = name; *p; p++)
    if (!g_ascii_isalnum (*p) && !strchr ("-_.:", *p))
      return FALSE;
  return TRUE;
}

static gchar *
describe (const KeyDef *def)
{
  switch (def->type) {
    case T_BOOL:
      return g_strdup ("true or false");
    case T_INT:
      return g_strdup_printf ("an integer from %.0f to %.0f", def->min,
          def->max);
    case T_DOUBLE:
      return g_strdup_printf ("a number from %g to %g", def->min, def->max);
    case T_STRING:
    default:
      return g_strdup ("a string");
  }
}

static gboolean
parse_bool (const gchar *v, gboolean *out)
{
  if (!g_ascii_strcasecmp (v, "true") || !strcmp (v, "1")
      || !g_ascii_strcasecmp (v, "yes") || !g_ascii_strcasecmp (v, "on"))
    *out = TRUE;
  else if (!g_ascii_strcasecmp (v, "false") || !strcmp (v, "0")
      || !g_ascii_strcasecmp (v, "no") || !g_ascii_strcasecmp (v, "off"))
    *out = FALSE;
  else
    return FALSE;
  return TRUE;
}

static gboolean
value_fits (const KeyDef *def, const gchar *v)
{
  switch (def->type) {
    case T_BOOL: {
      gboolean b;

      return parse_bool (v, &b);
    }
    case T_INT:
      return g_ascii_string_to_signed (v, 10, (gint64) def->min,
          (gint64) def->max, NULL, NULL);
    case T_DOUBLE: {
      gchar *end;
      gdouble d;

      errno = 0;
      d = g_ascii_strtod (v, &end);
      return end != v && !*end && !errno && d >= def->min && d <= def->max;
    }
    case T_STRING:
    default:
      return TRUE;
  }
}

/* Checks a section name; an upstream section, even an empty one, names an
 * upstream (which then must get an endpoint somewhere). */
static gboolean
check_section (Layers *l, const gchar *section, const gchar *origin,
    GError **error)
{
  gboolean upstream = g_str_has_prefix (section, UPSTREAM_PREFIX);
  const gchar *uname = section + strlen (UPSTREAM_PREFIX);
  gboolean seen = FALSE;

  if (!upstream && strcmp (section, "proxy")) {
    g_set_error (error, SEGD_PROXY_CONFIG_ERROR,
        SEGD_PROXY_CONFIG_ERROR_UNKNOWN,
        "%s: unknown section [%s] (expected "
        "[proxy] or [upstream NAME])",
        origin, section);
    return FALSE;
  }
  if (!upstream)
    return TRUE;
  if (!valid_upstream_name (uname)) {
    g_set_error (error, SEGD_PROXY_CONFIG_ERROR, SEGD_PROXY_CONFIG_ERROR_VALUE,
        "%s: [%s]: an upstream name is 1 to 64 "
        "letters, digits or -_.:",
        origin, section);
    return FALSE;
  }
  for (guint i = 0; i < l->upstreams->len && !seen; i++)
    seen = !strcmp (g_ptr_array_index (l->upstreams, i), uname);
  if (!seen)
    g_ptr_array_add (l->upstreams, g_strdup (uname));
  return TRUE;
}

/* Checks one value where it is read and records it with its origin
 * (transfer full of `origin`). */
static gboolean
apply (Layers *l, const gchar *section, const gchar *key, const gchar *value,
    gchar *origin, GError **error)
{
  gboolean upstream = g_str_has_prefix (section, UPSTREAM_PREFIX);
  const KeyDef *def;
  Setting *s;

  if (!check_section (l, section, origin, error)) {
    g_free (origin);
    return FALSE;
  }
  if (!(def = find_key (upstream, key))) {
    g_autofree gchar *known = known_keys (upstream);

    g_set_error (error, SEGD_PROXY_CONFIG_ERROR,
        SEGD_PROXY_CONFIG_ERROR_UNKNOWN,
        "%s: unknown key \"%s\" in [%s] "
        "(expected one of %s)",
        origin, key, section, known);
    g_free (origin);
    return FALSE;
  }
  if (!value_fits (def, value)) {
    g_autofree gchar *expected = describe (def);

    g_set_error (error, SEGD_PROXY_CONFIG_ERROR, SEGD_PROXY_CONFIG_ERROR_VALUE,
        "%s: [%s] %s: expected %s, got \"%s\"", origin, section, key, expected,
        value);
    g_free (origin);
    return FALSE;
  }
  s = g_new0 (Setting, 1);
  s->value = g_strdup (value);
  s->origin = origin;
  g_hash_table_replace (l->settings, g_strdup_printf ("%s\n%s", section, key),
      s);
  return TRUE;
}

static gboolean
apply_file (Layers *l, const gchar *path, gboolean required, GError **error)
{
  g_autofree gchar *text = NULL;
  g_autoptr (GKeyFile) kf = g_key_file_new ();
  g_autoptr (GError) local = NULL;
  g_auto (GStrv) groups = NULL;

  if (!g_file_get_contents (path, &text, NULL, &local)) {
    if (!required && g_error_matches (local, G_FILE_ERROR, G_FILE_ERROR_NOENT))
      return TRUE;
    g_set_error (error, SEGD_PROXY_CONFIG_ERROR, SEGD_PROXY_CONFIG_ERROR_IO,
        "%s", local->message);
    return FALSE;
  }
  if (!g_key_file_load_from_data (kf, text, -1, G_KEY_FILE_NONE, &local)) {
    g_set_error (error, SEGD_PROXY_CONFIG_ERROR, SEGD_PROXY_CONFIG_ERROR_SYNTAX,
        "%s: %s", path, local->message);
    return FALSE;
  }
  groups = g_key_file_get_groups (kf, NULL);
  for (guint g = 0; groups[g]; g++) {
    g_auto (GStrv) names = g_key_file_get_keys (kf, groups[g], NULL, NULL);

    g_autofree gchar *at = origin_of (path, text, groups[g], NULL);

    /* Checked even when empty, so a misspelt section has a line. */
    if (!check_section (l, groups[g], at, error))
      return FALSE;
    for (guint k = 0; names && names[k]; k++) {
      g_autofree gchar *v =
          g_key_file_get_value (kf, groups[g], names[k], NULL);

      if (!apply (l, groups[g], names[k], v ? v : "",
              origin_of (path, text, groups[g], names[k]), error))
        return FALSE;
    }
  }
  return TRUE;
}

static gboolean
apply_override (Layers *l, const gchar *spec, GError **error)
{
  const gchar *eq = strchr (spec, '=');
  g_autofree gchar *lhs = eq ? g_strndup (spec, eq - spec) : NULL;
  gchar *dot = lhs ? strrchr (lhs, '.') : NULL;

  if (!dot || dot == lhs || !dot[1]) {
    g_set_error (error, SEGD_PROXY_CONFIG_ERROR, SEGD_PROXY_CONFIG_ERROR_SYNTAX,
        "--set %s: expected SECTION.KEY=VALUE", spec);
    return FALSE;
  }
  *dot = 0;
  return apply (l, lhs, dot + 1, eq + 1, g_strdup_printf ("--set %s", spec),
      error);
}

/* --connect ENDPOINT[,SERVER-KEY-FILE]: an upstream named after the
 * endpoint's address, so status lines say which host it is. */
static gboolean
apply_connect (Layers *l, const gchar *spec, GError **error)
{
  g_auto (GStrv) parts = g_strsplit (spec, ",", 2);
  const gchar *addr = strstr (parts[0], "://");
  g_autofree gchar *section = NULL;

  if (!addr || !addr[3]) {
    g_set_error (error, SEGD_PROXY_CONFIG_ERROR, SEGD_PROXY_CONFIG_ERROR_VALUE,
        "--connect %s: expected "
        "ENDPOINT[,SERVER-KEY-FILE], e.g. tcp://10.0.0.1:5601",
        spec);
    return FALSE;
  }
  section = g_strdup_printf (UPSTREAM_PREFIX "%s", addr + 3);
  g_strdelimit (section + strlen (UPSTREAM_PREFIX), "/*[]", '_');
  if (!apply (l, section, "endpoint", parts[0],
          g_strdup_printf ("--connect %s", spec), error))
    return FALSE;
  if (parts[1]
      && !apply (l, section, "curve-server-key-file", parts[1],
          g_strdup_printf ("--connect %s", spec), error))
    return FALSE;
  return TRUE;
}

static gint
compare_strings (gconstpointer a, gconstpointer b)
{
  return strcmp (*(gchar *const *) a, *(gchar *const *) b);
}

static gboolean
apply_dropins (Layers *l, const gchar *dir, GError **error)
{
  g_autofree gchar *d = g_build_filename (dir, "segd-proxy.conf.d", NULL);
  g_autoptr (GDir) gdir = g_dir_open (d, 0, NULL);
  g_autoptr (GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  const gchar *name;

  if (!gdir)
    return TRUE; /* optional */
  while ((name = g_dir_read_name (gdir)))
    if (g_str_has_suffix (name, ".conf") && name[0] != '.')
      g_ptr_array_add (names, g_build_filename (d, name, NULL));
  g_ptr_array_sort (names, compare_strings);
  for (guint i = 0; i < names->len; i++)
    if (!apply_file (l, g_ptr_array_index (names, i), TRUE, error))
      return FALSE;
  return TRUE;
}

/* The value of a key, or its default; `origin` says where it came from. */
static const gchar *
get (Layers *l, const gchar *section, const gchar *key, const gchar **origin)
{
  g_autofree gchar *k = g_strdup_printf ("%s\n%s", section, key);
  Setting *s = g_hash_table_lookup (l->settings, k);
  const KeyDef *def =
      find_key (g_str_has_prefix (section, UPSTREAM_PREFIX), key);

  if (origin)
    *origin = s ? s->origin : "built-in default";
  return s ? s->value : def->def;
}

static gboolean fail (GError **error, const gchar *origin, const gchar *section,
    const gchar *key, const gchar *fmt, ...) G_GNUC_PRINTF (5, 6);

static gboolean
fail (GError **error, const gchar *origin, const gchar *section,
    const gchar *key, const gchar *fmt, ...)
{
  va_list ap;
  g_autofree gchar *why = NULL;

  va_start (ap, fmt);
  why = g_strdup_vprintf (fmt, ap);
  va_end (ap);
  g_set_error (error, SEGD_PROXY_CONFIG_ERROR, SEGD_PROXY_CONFIG_ERROR_VALUE,
      "%s: [%s] %s: %s", origin, section, key, why);
  return FALSE;
}

static gboolean
endpoint_ok (const gchar *e)
{
  return (g_str_has_prefix (e, "tcp://") || g_str_has_prefix (e, "ipc://")
             || g_str_has_prefix (e, "inproc://"))
      && strlen (e) > 8;
}

/* Cross-key checks and key files; fills `c`. */
static gboolean
build (Layers *l, SegdProxyConfig *c, GError **error)
{
  const gchar *o, *o_secret, *o_allowed, *o_client;
  g_autoptr (GError) local = NULL;
  gboolean plaintext_ok;

  c->name = g_strdup (get (l, "proxy", "name", &o));
  if (!c->name[0] || strlen (c->name) > 255 || strchr (c->name, '\n'))
    return fail (error, o, "proxy", "name", "expected 1 to 255 bytes");
  c->bind = g_strdup (get (l, "proxy", "bind", &o));
  if (!c->bind[0])
    return fail (error, o, "proxy", "bind",
        "required: the endpoint "
        "subscribers connect to, e.g. tcp://10.0.0.5:5600");
  if (!endpoint_ok (c->bind))
    return fail (error, o, "proxy", "bind",
        "expected a tcp://, ipc:// or "
        "inproc:// endpoint, got \"%s\"",
        c->bind);
  parse_bool (get (l, "proxy", "allow-plaintext", NULL), &c->allow_plaintext);
  plaintext_ok = c->allow_plaintext;
  c->sndhwm = atoi (get (l, "proxy", "sndhwm", NULL));
  c->rcvhwm = atoi (get (l, "proxy", "rcvhwm", NULL));
  c->heartbeat = g_ascii_strtod (get (l, "proxy", "heartbeat", NULL), NULL);

  c->curve_secret_key_file =
      g_strdup (get (l, "proxy", "curve-secret-key-file", &o_secret));
  c->curve_allowed_keys =
      g_strdup (get (l, "proxy", "curve-allowed-keys", &o_allowed));
  c->client_key_file =
      g_strdup (get (l, "proxy", "client-key-file", &o_client));

  /* Downstream: CURVE with an allow-list, or plaintext on purpose. */
  if (c->curve_secret_key_file[0]) {
    if (!segd_proxy_keys_load_secret (c->curve_secret_key_file,
            c->server_secret, c->server_public, &local))
      return fail (error, o_secret, "proxy", "curve-secret-key-file", "%s",
          local->message);
    if (!c->curve_allowed_keys[0])
      return fail (error, o_secret, "proxy", "curve-allowed-keys",
          "required with curve-secret-key-file: without it any CURVE client "
          "could subscribe");
    if (!(c->allowed =
                segd_proxy_keys_load_allowed (c->curve_allowed_keys, &local)))
      return fail (error, o_allowed, "proxy", "curve-allowed-keys", "%s",
          local->message);
  } else if (c->curve_allowed_keys[0]) {
    return fail (error, o_allowed, "proxy", "curve-allowed-keys",
        "needs "
        "curve-secret-key-file (the allow-list is checked in the CURVE "
        "handshake)");
  } else if (!plaintext_ok) {
    return fail (error, o_secret, "proxy", "curve-secret-key-file",
        "required unless allow-plaintext = true");
  }
  if (c->client_key_file[0]
      && !segd_proxy_keys_load_secret (c->client_key_file, c->client_secret,
          c->client_public, &local))
    return fail (error, o_client, "proxy", "client-key-file", "%s",
        local->message);

  if (l->upstreams->len == 0) {
    g_set_error (error, SEGD_PROXY_CONFIG_ERROR, SEGD_PROXY_CONFIG_ERROR_VALUE,
        "no upstream: add an [upstream NAME] "
        "section with an endpoint, or --connect ENDPOINT");
    return FALSE;
  }
  for (guint i = 0; i < l->upstreams->len; i++) {
    const gchar *uname = g_ptr_array_index (l->upstreams, i);
    g_autofree gchar *sec = g_strdup_printf (UPSTREAM_PREFIX "%s", uname);
    SegdProxyUpstream *u = g_new0 (SegdProxyUpstream, 1);
    const gchar *o_key;

    g_ptr_array_add (c->upstreams, u);
    u->name = g_strdup (uname);
    u->endpoint = g_strdup (get (l, sec, "endpoint", &o));
    if (!endpoint_ok (u->endpoint))
      return fail (error, o, sec, "endpoint",
          "expected a tcp://, ipc:// or "
          "inproc:// endpoint, got \"%s\"",
          u->endpoint);
    for (guint j = 0; j < i; j++) {
      SegdProxyUpstream *v = g_ptr_array_index (c->upstreams, j);

      if (!strcmp (v->endpoint, u->endpoint))
        return fail (error, o, sec, "endpoint", "%s is upstream %s already",
            u->endpoint, v->name);
    }
    u->server_key_file =
        g_strdup (get (l, sec, "curve-server-key-file", &o_key));
    if (u->server_key_file[0]) {
      if (!segd_proxy_keys_load_public (u->server_key_file, u->server_key,
              &local))
        return fail (error, o_key, sec, "curve-server-key-file", "%s",
            local->message);
      if (!c->client_key_file[0])
        return fail (error, o_key, "proxy", "client-key-file",
            "required: "
            "upstream %s uses CURVE and the proxy needs its own key pair",
            uname);
    } else if (!plaintext_ok) {
      return fail (error, o, sec, "curve-server-key-file",
          "required unless allow-plaintext = true");
    }
  }
  return TRUE;
}

SegdProxyConfig *
segd_proxy_config_load (const SegdProxyConfigSources *src, GError **error)
{
  Layers l;
  const gchar *dir = src && src->config_dir ? src->config_dir : SEGD_CONFIG_DIR;
  g_autofree gchar *main_file = g_build_filename (dir, "segd-proxy.conf", NULL);
  SegdProxyConfig *c = g_new0 (SegdProxyConfig, 1);
  gboolean ok;

  c->upstreams = g_ptr_array_new ();
  l.settings =
      g_hash_table_new_full (g_str_hash, g_str_equal, g_free, setting_free);
  l.upstreams = g_ptr_array_new_with_free_func (g_free);

  ok = apply_file (&l, main_file, FALSE, error)
      && apply_dropins (&l, dir, error);
  for (guint i = 0; ok && src && src->files && src->files[i]; i++)
    ok = apply_file (&l, src->files[i], TRUE, error);
  for (guint i = 0; ok && src && src->overrides && src->overrides[i]; i++)
    ok = apply_override (&l, src->overrides[i], error);
  for (guint i = 0; ok && src && src->connects && src->connects[i]; i++)
    ok = apply_connect (&l, src->connects[i], error);
  ok = ok && build (&l, c, error);

  g_hash_table_unref (l.settings);
  g_ptr_array_unref (l.upstreams);
  if (!ok)
    g_clear_pointer (&c, segd_proxy_config_free);
  return c;
}

void
segd_proxy_config_free (SegdProxyConfig *c)
{
  if (!c)
    return;
  g_free (c->name);
  g_free (c->bind);
  g_free (c->curve_secret_key_file);
  g_free (c->curve_allowed_keys);
  g_free (c->client_key_file);
  for (guint i = 0; c->upstreams && i < c->upstreams->len; i++) {
    SegdProxyUpstream *u = g_ptr_array_index (c->upstreams, i);

    g_free (u->name);
    g_free (u->endpoint);
    g_free (u->server_key_file);
    g_free (u);
  }
  g_clear_pointer (&c->upstreams, g_ptr_array_unref);
  g_clear_pointer (&c->allowed, g_ptr_array_unref);
  memset (c->server_secret, 0, sizeof (c->server_secret));
  memset (c->client_secret, 0, sizeof (c->client_secret));
  g_free (c);
}

gchar *
segd_proxy_config_to_string (const SegdProxyConfig *c)
{
  GString *s = g_string_new (NULL);

  g_string_append_printf (s,
      "[proxy]\nname=%s\nbind=%s\n"
      "curve-secret-key-file=%s\ncurve-allowed-keys=%s\nclient-key-file=%s\n"
      "allow-plaintext=%s\nsndhwm=%d\nrcvhwm=%d\nheartbeat=%g\n",
      c->name, c->bind, c->curve_secret_key_file, c->curve_allowed_keys,
      c->client_key_file, c->allow_plaintext ? "true" : "false", c->sndhwm,
      c->rcvhwm, c->heartbeat);
  for (guint i = 0; i < c->upstreams->len; i++) {
    SegdProxyUpstream *u = g_ptr_array_index (c->upstreams, i);

    g_string_append_printf (s,
        "\n[" UPSTREAM_PREFIX "%s]\nendpoint=%s\n"
        "curve-server-key-file=%s\n",
        u->name, u->endpoint, u->server_key_file);
  }
  return g_string_free (s, FALSE);
}
