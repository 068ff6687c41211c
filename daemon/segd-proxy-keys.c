/* segd-proxy-keys — CURVE key files through libsegmask's loader, the one
 * place segd, its clients and this proxy agree on what a key file is. Read
 * and checked before any socket exists, so a wrong file stops the proxy at
 * start with the file's name and line rather than as a handshake that
 * silently never completes.
 */
#include "segd-proxy-keys.h"

#include <gio/gio.h>
#include <segmask.h>
#include <string.h>

static gboolean
fail (GError **error, const gchar *path, const gchar *why)
{
  /* libsegmask's messages already start with the file (and line). */
  if (g_str_has_prefix (why, path))
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "%s", why);
  else
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "%s: %s", path,
        why);
  return FALSE;
}

gboolean
segd_proxy_keys_load_secret (const gchar *path,
    gchar secret[SEGD_PROXY_Z85_LEN], gchar public_key[SEGD_PROXY_Z85_LEN],
    GError **error)
{
  char err[512] = "";

  if (segmask_keypair_load (NULL, path, public_key, secret, err, sizeof err)
      != SEGMASK_OK)
    return fail (error, path, err);
  return TRUE;
}

gboolean
segd_proxy_keys_load_public (const gchar *path,
    gchar public_key[SEGD_PROXY_Z85_LEN], GError **error)
{
  char err[512] = "";

  if (segmask_key_load (NULL, path, public_key, err, sizeof err) != SEGMASK_OK)
    return fail (error, path, err);
  return TRUE;
}

GPtrArray *
segd_proxy_keys_load_allowed (const gchar *path, GError **error)
{
  segmask_keyring *ring = segmask_keyring_new ();
  GPtrArray *keys = NULL;
  char err[512] = "";

  if (!ring) {
    fail (error, path, "out of memory");
    return NULL;
  }
  if (segmask_keyring_add_path (ring, SEGMASK_KEY_PUBLIC, path, err, sizeof err)
      != SEGMASK_OK) {
    fail (error, path, err);
  } else if (segmask_keyring_count (ring) == 0) {
    fail (error, path,
        "no public keys: an empty allow-list would lock "
        "every subscriber out");
  } else {
    keys = g_ptr_array_new_with_free_func (g_free);
    for (size_t i = 0; i < segmask_keyring_count (ring); i++)
      g_ptr_array_add (keys, g_memdup2 (segmask_keyring_get (ring, i), 32));
  }
  segmask_keyring_free (&ring);
  return keys;
}
