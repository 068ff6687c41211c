/* segd-proxy-keys — reads the CURVE key files segd-proxy needs: its
 * downstream server secret, its client key pair towards the publishers,
 * each publisher's server public key, and the allow-list of subscriber
 * public keys (a file or a directory of czmq public certificates).
 *
 * The formats are libsegmask's, as for segd and its clients: a Z85 key
 * list (no comments), or a czmq certificate (`public-key = "..."`,
 * `secret-key = "..."` under `curve`); see docs/security.md.
 */
#ifndef SEGD_PROXY_KEYS_H
#define SEGD_PROXY_KEYS_H

#include <glib.h>

G_BEGIN_DECLS

/* 40 Z85 characters and a NUL. */
#define SEGD_PROXY_Z85_LEN 41

/* Reads a secret key (a Z85 key file or a czmq secret certificate) and
 * derives its public key. Fails, naming the file, if there is no secret
 * key or more than one. */
gboolean segd_proxy_keys_load_secret (const gchar *path,
    gchar secret[SEGD_PROXY_Z85_LEN], gchar public_key[SEGD_PROXY_Z85_LEN],
    GError **error);

/* Reads one public key (a Z85 key file or a czmq public certificate). */
gboolean segd_proxy_keys_load_public (const gchar *path,
    gchar public_key[SEGD_PROXY_Z85_LEN], GError **error);

/* Reads the allowed client keys: every public key in the file, or in every
 * regular, non-hidden file of the directory. Returns an array of 32-byte
 * binary keys (transfer full); an empty list is an error, since it would
 * lock every subscriber out without saying why. */
GPtrArray *segd_proxy_keys_load_allowed (const gchar *path, GError **error);

G_END_DECLS

#endif /* SEGD_PROXY_KEYS_H */
