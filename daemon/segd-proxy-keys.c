/* segd-proxy-keys — CURVE key files, read and checked before any socket
 * exists, so a wrong file stops the proxy at start with the file's name
 * rather than as a handshake that silently never completes. To be replaced
 * by libsegmask's key loading (see the header).
 */
#include "segd-proxy-keys.h"

#include <gio/gio.h>
#include <string.h>
#include <zmq.h>

typedef struct
{
  GPtrArray *publics;           /* gchar * Z85, in file order */
  GPtrArray *secrets;
} KeyText;

static gboolean
valid_z85 (const gchar *s)
{
  guint8 bin[32];

  return strlen (s) == 40 && zmq_z85_decode (bin, s) != NULL;
}

static gchar *
unquote (gchar *s)
{
  gsize n;

  g_strstrip (s);
  n = strlen (s);
  if (n >= 2 && (s[0] == '"' || s[0] == '\'') && s[n - 1] == s[0]) {
    s[n - 1] = 0;
    s++;
  }
  return s;
}

/* Sorts the keys of one file into public and secret. czmq certificates
 * name them; a bare token is `bare_is` (a plain key file does not say). */
static gboolean
scan_keys (const gchar *path, const gchar *text, gboolean bare_is_secret,
    KeyText *out, GError **error)
{
  gchar **lines = g_strsplit (text, "\n", -1);
  gboolean ok = TRUE;

  for (guint i = 0; ok && lines[i]; i++) {
    gchar *line = g_strstrip (lines[i]), *eq, *value;
    GPtrArray *dest;

    if (!line[0] || line[0] == '#')
      continue;
    /* A bare key first: Z85 has '=' in its alphabet. */
    eq = strlen (line) == 40 && valid_z85 (line) ? NULL : strchr (line, '=');
    if (eq) {
      *eq = 0;
      value = unquote (eq + 1);
      g_strstrip (line);
      if (!strcmp (line, "public-key"))
        dest = out->publics;
      else if (!strcmp (line, "secret-key"))
        dest = out->secrets;
      else
        continue;               /* czmq metadata: name, email, ... */
    } else if (strlen (line) == 40) {
      value = line;
      dest = bare_is_secret ? out->secrets : out->publics;
    } else {
      continue;                 /* czmq section headers: curve, metadata */
    }
    if (!valid_z85 (value)) {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
          "%s:%u: not a 40-character Z85 CURVE key", path, i + 1);
      ok = FALSE;
      break;
    }
    g_ptr_array_add (dest, g_strdup (value));
  }
  g_strfreev (lines);
  return ok;
}

static gboolean
read_keys (const gchar *path, gboolean bare_is_secret, KeyText *out,
    GError **error)
{
  g_autofree gchar *text = NULL;
  g_autoptr (GError) local = NULL;

  out->publics = g_ptr_array_new_with_free_func (g_free);
  out->secrets = g_ptr_array_new_with_free_func (g_free);
  if (!g_file_get_contents (path, &text, NULL, &local)) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "%s", local->message);
    return FALSE;
  }
  return scan_keys (path, text, bare_is_secret, out, error);
}

static void
key_text_clear (KeyText *k)
{
  g_clear_pointer (&k->publics, g_ptr_array_unref);
  if (k->secrets) {
    /* Secrets do not linger in freed heap memory. */
    for (guint i = 0; i < k->secrets->len; i++) {
      gchar *s = g_ptr_array_index (k->secrets, i);

      memset (s, 0, strlen (s));
    }
    g_clear_pointer (&k->secrets, g_ptr_array_unref);
  }
}

gboolean
segd_proxy_keys_load_secret (const gchar *path,
    gchar secret[SEGD_PROXY_Z85_LEN], gchar public_key[SEGD_PROXY_Z85_LEN],
    GError **error)
{
  KeyText k = { 0 };
  gboolean ok = FALSE;

  if (!read_keys (path, TRUE, &k, error))
    goto out;
  if (k.secrets->len != 1) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
        "%s: expected one CURVE secret key, found %u", path, k.secrets->len);
    goto out;
  }
  memcpy (secret, g_ptr_array_index (k.secrets, 0), SEGD_PROXY_Z85_LEN);
  if (zmq_curve_public (public_key, secret) != 0) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
        "%s: cannot derive the public key: %s", path,
        zmq_strerror (zmq_errno ()));
    goto out;
  }
  /* A czmq certificate carries both: they must belong together. */
  if (k.publics->len && strcmp (g_ptr_array_index (k.publics, 0),
          public_key) != 0) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
        "%s: the public key does not belong to the secret key", path);
    goto out;
  }
  ok = TRUE;
out:
  if (!ok)
    memset (secret, 0, SEGD_PROXY_Z85_LEN);
  key_text_clear (&k);
  return ok;
}

gboolean
segd_proxy_keys_load_public (const gchar *path,
    gchar public_key[SEGD_PROXY_Z85_LEN], GError **error)
{
  KeyText k = { 0 };
  gboolean ok = FALSE;

  if (!read_keys (path, FALSE, &k, error))
    goto out;
  if (k.secrets->len) {
    /* Fail closed: a secret key where a public one belongs has leaked. */
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
        "%s: holds a secret key; give the server's public key", path);
    goto out;
  }
  if (k.publics->len != 1) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
        "%s: expected one CURVE public key, found %u", path, k.publics->len);
    goto out;
  }
  memcpy (public_key, g_ptr_array_index (k.publics, 0), SEGD_PROXY_Z85_LEN);
  ok = TRUE;
out:
  key_text_clear (&k);
  return ok;
}

static gboolean
add_allowed (const gchar *path, GPtrArray *out, GError **error)
{
  KeyText k = { 0 };
  gboolean ok = FALSE;

  if (!read_keys (path, FALSE, &k, error))
    goto out;
  if (k.secrets->len) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
        "%s: holds a secret key; an allow-list takes public keys only",
        path);
    goto out;
  }
  for (guint i = 0; i < k.publics->len; i++) {
    guint8 *bin = g_malloc (32);

    zmq_z85_decode (bin, g_ptr_array_index (k.publics, i));
    g_ptr_array_add (out, bin);
  }
  ok = TRUE;
out:
  key_text_clear (&k);
  return ok;
}

static gint
compare_names (gconstpointer a, gconstpointer b)
{
  return strcmp (*(gchar * const *) a, *(gchar * const *) b);
}

GPtrArray *
segd_proxy_keys_load_allowed (const gchar *path, GError **error)
{
  g_autoptr (GPtrArray) keys = g_ptr_array_new_with_free_func (g_free);

  if (g_file_test (path, G_FILE_TEST_IS_DIR)) {
    g_autoptr (GDir) dir = g_dir_open (path, 0, error);
    g_autoptr (GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
    const gchar *name;

    if (!dir)
      return NULL;
    while ((name = g_dir_read_name (dir))) {
      g_autofree gchar *full = g_build_filename (path, name, NULL);

      /* Editors' and czmq's hidden files, and sub-directories, are not
       * certificates. */
      if (name[0] == '.' || !g_file_test (full, G_FILE_TEST_IS_REGULAR))
        continue;
      g_ptr_array_add (names, g_steal_pointer (&full));
    }
    /* Deterministic order: errors name the same file on every start. */
    g_ptr_array_sort (names, compare_names);
    for (guint i = 0; i < names->len; i++)
      if (!add_allowed (g_ptr_array_index (names, i), keys, error))
        return NULL;
  } else if (!add_allowed (path, keys, error)) {
    return NULL;
  }
  if (keys->len == 0) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
        "%s: no public keys found", path);
    return NULL;
  }
  return g_steal_pointer (&keys);
}
