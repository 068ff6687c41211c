/* CURVE key loading for the publisher and every subscriber: one parser,
 * so a key that the sink refuses is refused by segd-sub too, and a
 * misconfiguration always fails with the file, the line and the reason.
 *
 * Two formats are accepted, told apart by the file's shape:
 *  - a bare key list: Z85 keys (40 characters) separated by white space or
 *    commas. There are no comments: `#` is a Z85 character (about one key
 *    in 85 starts with it), so a line that starts with it is a key like any
 *    other, and anything that is not a valid key is an error.
 *  - a czmq certificate in ZPL (rfc.zeromq.org/spec:4), recognised by its
 *    top-level `curve` section: `curve/public-key` and, in a secret
 *    certificate, `curve/secret-key`, each a quoted Z85 string. Here, as
 *    ZPL says, a line whose first non-blank character is `#` is a comment.
 * A directory (allow-lists only) is czmq's certificate store: every regular
 * file in it, subdirectories included, except names ending in `_secret`
 * and hidden files, must be a certificate or key list; none is skipped
 * silently. Nothing here logs: errors are returned as sentences. */
#include "segmask.h"
#include "error.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zmq.h>

/* Key files are tiny; anything larger is a mistake (or /dev/zero). */
#define MAX_KEY_FILE (1u << 20)
/* czmq stores nest; we follow a few levels, never symlink loops forever. */
#define MAX_DIR_DEPTH 8

struct segmask_keyring
{
  uint8_t (*keys)[32];
  size_t len, cap;
};

segmask_keyring *
segmask_keyring_new (void)
{
  return calloc (1, sizeof (segmask_keyring));
}

void
segmask_keyring_free (segmask_keyring **ring)
{
  if (!ring || !*ring)
    return;
  /* Secret keys pass through rings too: do not leave them in the heap. */
  if ((*ring)->keys)
    memset ((*ring)->keys, 0, (*ring)->cap * 32);
  free ((*ring)->keys);
  free (*ring);
  *ring = NULL;
}

size_t
segmask_keyring_count (const segmask_keyring *ring)
{
  return ring ? ring->len : 0;
}

const uint8_t *
segmask_keyring_get (const segmask_keyring *ring, size_t i)
{
  return ring && i < ring->len ? ring->keys[i] : NULL;
}

int
segmask_keyring_contains (const segmask_keyring *ring, const uint8_t *key)
{
  if (!ring || !key)
    return 0;
  for (size_t i = 0; i < ring->len; i++)
    if (memcmp (ring->keys[i], key, 32) == 0)
      return 1;
  return 0;
}

static segmask_status
ring_add (segmask_keyring *ring, const uint8_t key[32])
{
  if (segmask_keyring_contains (ring, key))
    return SEGMASK_OK;
  if (ring->len == ring->cap) {
    size_t cap = ring->cap ? ring->cap * 2 : 8;
    uint8_t (*k)[32] = calloc (cap, 32);

    if (!k)
      return SEGMASK_ERR_NOMEM;
    if (ring->len)
      memcpy (k, ring->keys, ring->len * 32);
    if (ring->keys)
      memset (ring->keys, 0, ring->cap * 32);
    free (ring->keys);
    ring->keys = k;
    ring->cap = cap;
  }
  memcpy (ring->keys[ring->len++], key, 32);
  return SEGMASK_OK;
}

/* Decodes exactly 40 Z85 characters. zmq_z85_decode checks the alphabet. */
static int
decode_key (const char *s, size_t n, uint8_t out[32])
{
  char z[41];

  if (n != 40)
    return 0;
  memcpy (z, s, 40);
  z[40] = 0;
  return zmq_z85_decode (out, z) != NULL;
}

/* Shows an offending token without flooding the message (or echoing a
 * whole secret key into a log: only its first characters). */
static void
token_preview (const char *s, size_t n, char out[16])
{
  size_t k = n < 8 ? n : 8;

  for (size_t i = 0; i < k; i++)
    out[i] = s[i] >= 0x20 && s[i] < 0x7f ? s[i] : '?';
  strcpy (out + k, n > 8 ? "..." : "");
}

static int
is_blank (char c)
{
  return c == ' ' || c == '\t' || c == '\r';
}

/* ---- bare key lists ---- */

static segmask_status
parse_list (segmask_keyring *ring, const char *text, size_t len,
    const char *origin, char *err, size_t err_len)
{
  size_t i = 0;
  unsigned line = 1;

  while (i < len) {
    size_t start, n;
    uint8_t key[32];
    char pv[16];

    if (text[i] == '\n') {
      line++;
      i++;
      continue;
    }
    if (is_blank (text[i]) || text[i] == ',') {
      i++;
      continue;
    }
    start = i;
    while (i < len && !is_blank (text[i]) && text[i] != ',' && text[i] != '\n')
      i++;
    n = i - start;
    if (!decode_key (text + start, n, key)) {
      token_preview (text + start, n, pv);
      segmask_set_error (err, err_len,
          "%s:%u: \"%s\" (%zu characters) is not a Z85 "
          "CURVE key (40 characters of the Z85 alphabet)",
          origin, line, pv, n);
      return SEGMASK_ERR_INVALID;
    }
    if (ring_add (ring, key) != SEGMASK_OK)
      return SEGMASK_ERR_NOMEM;
  }
  return SEGMASK_OK;
}

/* ---- czmq certificates (ZPL) ---- */

static int
zpl_name_char (char c)
{
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
      || (c >= '0' && c <= '9') || strchr ("$-_@.&+/", c);
}

/* Whether `text` has a top-level `curve` section, i.e. is a certificate. */
static int
looks_like_cert (const char *text, size_t len)
{
  size_t i = 0;

  while (i < len) {
    size_t e = i;

    while (e < len && text[e] != '\n')
      e++;
    if (e - i >= 5 && memcmp (text + i, "curve", 5) == 0) {
      size_t k = i + 5;

      while (k < e && is_blank (text[k]))
        k++;
      if (k == e || text[k] == '#')
        return 1;
    }
    i = e + 1;
  }
  return 0;
}

typedef struct
{
  const char *val;
  size_t n;
  unsigned line;
} Found;

static segmask_status
parse_cert (const char *text, size_t len, const char *origin, Found *pub,
    Found *sec, char *err, size_t err_len)
{
  /* Path of section names by depth; only depth 0 and 1 matter to us. */
  char top[16] = "";
  unsigned depth = 0, line = 0;
  size_t i = 0;
  int have_prev = 0;

  memset (pub, 0, sizeof (*pub));
  memset (sec, 0, sizeof (*sec));
  while (i < len) {
    size_t e = i, k, name, name_n;
    unsigned indent = 0, level;
    const char *val = NULL;
    size_t val_n = 0;

    line++;
    while (e < len && text[e] != '\n')
      e++;
    k = i;
    while (k < e && text[k] == ' ') {
      indent++;
      k++;
    }
    while (e > k && is_blank (text[e - 1]))
      e--;
    if (k == e || text[k] == '#')
      goto next;
    if (text[k] == '\t')
      goto bad_indent;
    if (indent % 4)
      goto bad_indent;
    level = indent / 4;
    if (level > (have_prev ? depth + 1 : 0))
      goto bad_indent;
    name = k;
    while (k < e && zpl_name_char (text[k]))
      k++;
    name_n = k - name;
    if (name_n == 0)
      goto bad_name;
    while (k < e && is_blank (text[k]))
      k++;
    if (k < e && text[k] == '=') {
      k++;
      while (k < e && is_blank (text[k]))
        k++;
      if (k < e && (text[k] == '"' || text[k] == '\'')) {
        char q = text[k++];

        val = text + k;
        while (k < e && text[k] != q)
          k++;
        if (k == e)
          goto unterminated;
        val_n = (size_t) (text + k - val);
        k++;
      } else {
        /* Unquoted: up to blank or comment. A Z85 key holding `#` must be
         * quoted; unquoted it ends early and fails the length check. */
        val = text + k;
        while (k < e && !is_blank (text[k]) && text[k] != '#')
          k++;
        val_n = (size_t) (text + k - val);
      }
      while (k < e && is_blank (text[k]))
        k++;
    }
    if (k < e && text[k] != '#')
      goto trailing;
    if (level == 0) {
      snprintf (top, sizeof (top), "%.*s", (int) (name_n < 15 ? name_n : 15),
          text + name);
      if (name_n > 15)
        top[0] = 0;
    } else if (level == 1 && strcmp (top, "curve") == 0 && val) {
      Found *f = NULL;

      if (name_n == 10 && memcmp (text + name, "public-key", 10) == 0)
        f = pub;
      else if (name_n == 10 && memcmp (text + name, "secret-key", 10) == 0)
        f = sec;
      if (f) {
        if (f->val)
          goto duplicate;
        f->val = val;
        f->n = val_n;
        f->line = line;
      }
    }
    depth = level;
    have_prev = 1;
  next:
    i = e;
    while (i < len && text[i] != '\n')
      i++;
    i++;
    continue;

  bad_indent:
    segmask_set_error (err, err_len,
        "%s:%u: indentation must be a multiple of four "
        "spaces under a section (ZPL)",
        origin, line);
    return SEGMASK_ERR_INVALID;
  bad_name:
    segmask_set_error (err, err_len, "%s:%u: expected a ZPL name", origin,
        line);
    return SEGMASK_ERR_INVALID;
  unterminated:
    segmask_set_error (err, err_len, "%s:%u: unterminated quoted value", origin,
        line);
    return SEGMASK_ERR_INVALID;
  trailing:
    segmask_set_error (err, err_len, "%s:%u: unexpected text after the value",
        origin, line);
    return SEGMASK_ERR_INVALID;
  duplicate:
    segmask_set_error (err, err_len, "%s:%u: curve/%.*s given twice", origin,
        line, (int) name_n, text + name);
    return SEGMASK_ERR_INVALID;
  }
  return SEGMASK_OK;
}

static segmask_status
found_key (const Found *f, const char *what, const char *origin,
    uint8_t key[32], char *err, size_t err_len)
{
  char pv[16];

  if (decode_key (f->val, f->n, key))
    return SEGMASK_OK;
  token_preview (f->val, f->n, pv);
  segmask_set_error (err, err_len,
      "%s:%u: curve/%s \"%s\" (%zu characters) is not a "
      "Z85 CURVE key",
      origin, f->line, what, pv, f->n);
  return SEGMASK_ERR_INVALID;
}

/* Checks that a certificate's public key belongs to its secret key, so a
 * hand-edited certificate cannot quietly serve under another identity. */
static segmask_status
check_pair (const uint8_t pub[32], const uint8_t sec[32], const char *origin,
    unsigned line, char *err, size_t err_len)
{
  char sec_z[41], pub_z[41], derived[41];
  segmask_status st = SEGMASK_OK;

  if (!zmq_z85_encode (sec_z, sec, 32) || !zmq_z85_encode (pub_z, pub, 32)
      || zmq_curve_public (derived, sec_z) != 0) {
    segmask_set_error (err, err_len,
        "%s: cannot derive the public key (libzmq without "
        "CURVE?): %s",
        origin, zmq_strerror (zmq_errno ()));
    st = SEGMASK_ERR_ZMQ;
  } else if (strcmp (derived, pub_z) != 0) {
    segmask_set_error (err, err_len,
        "%s:%u: curve/public-key does not belong to "
        "curve/secret-key",
        origin, line);
    st = SEGMASK_ERR_INVALID;
  }
  memset (sec_z, 0, sizeof (sec_z));
  return st;
}

segmask_status
segmask_keyring_add_text (segmask_keyring *ring, segmask_key_kind kind,
    const char *text, size_t len, const char *origin, char *err, size_t err_len)
{
  Found pub, sec;
  uint8_t pk[32], sk[32];
  segmask_status st;

  if (!ring || (!text && len)) {
    segmask_set_error (err, err_len, "no key ring or text");
    return SEGMASK_ERR_INVALID;
  }
  if (!origin)
    origin = "(keys)";
  if (memchr (text, 0, len)) {
    segmask_set_error (err, err_len, "%s: holds a NUL byte; not a key file",
        origin);
    return SEGMASK_ERR_INVALID;
  }
  if (!looks_like_cert (text, len)) {
    size_t before = ring->len;

    st = parse_list (ring, text, len, origin, err, err_len);
    if (st == SEGMASK_OK && kind == SEGMASK_KEY_SECRET
        && ring->len - before > 1) {
      segmask_set_error (err, err_len,
          "%s: holds %zu keys where one secret key belongs", origin,
          ring->len - before);
      st = SEGMASK_ERR_INVALID;
    }
    return st;
  }
  st = parse_cert (text, len, origin, &pub, &sec, err, err_len);
  if (st != SEGMASK_OK)
    return st;
  if (kind == SEGMASK_KEY_SECRET) {
    if (!sec.val) {
      segmask_set_error (err, err_len,
          "%s: certificate has no curve/secret-key (a "
          "public certificate? czmq writes the secret one as *_secret)",
          origin);
      return SEGMASK_ERR_INVALID;
    }
    if ((st = found_key (&sec, "secret-key", origin, sk, err, err_len))
        != SEGMASK_OK)
      return st;
    if (pub.val) {
      if ((st = found_key (&pub, "public-key", origin, pk, err, err_len))
              != SEGMASK_OK
          || (st = check_pair (pk, sk, origin, pub.line, err, err_len))
              != SEGMASK_OK) {
        memset (sk, 0, sizeof (sk));
        return st;
      }
    }
    st = ring_add (ring, sk);
    memset (sk, 0, sizeof (sk));
    return st;
  }
  if (!pub.val) {
    segmask_set_error (err, err_len, "%s: certificate has no curve/public-key",
        origin);
    return SEGMASK_ERR_INVALID;
  }
  /* A secret certificate where a public key belongs means the secret has
   * been copied to a host that should only know the public half. */
  if (sec.val) {
    segmask_set_error (err, err_len,
        "%s:%u: holds a secret key where a public key "
        "belongs; give this host the public certificate (czmq writes it "
        "without _secret)",
        origin, sec.line);
    return SEGMASK_ERR_INVALID;
  }
  if ((st = found_key (&pub, "public-key", origin, pk, err, err_len))
      != SEGMASK_OK)
    return st;
  return ring_add (ring, pk);
}

/* Reads a whole small file; `*out` is NUL-terminated (transfer full). */
static segmask_status
read_file (const char *path, char **out, size_t *out_len, char *err,
    size_t err_len)
{
  int fd = open (path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
  struct stat st;
  char *buf = NULL;
  size_t n = 0;

  if (fd < 0)
    goto io_error;
  if (fstat (fd, &st) != 0)
    goto io_error;
  if (!S_ISREG (st.st_mode)) {
    segmask_set_error (err, err_len, "%s: not a regular file", path);
    close (fd);
    return SEGMASK_ERR_INVALID;
  }
  if (st.st_size > MAX_KEY_FILE) {
    segmask_set_error (err, err_len,
        "%s: %lld bytes is too large for a key file", path,
        (long long) st.st_size);
    close (fd);
    return SEGMASK_ERR_INVALID;
  }
  if (!(buf = malloc ((size_t) st.st_size + 1))) {
    close (fd);
    return SEGMASK_ERR_NOMEM;
  }
  while (n < (size_t) st.st_size) {
    ssize_t r = read (fd, buf + n, (size_t) st.st_size - n);

    if (r < 0 && errno == EINTR)
      continue;
    if (r < 0)
      goto io_error;
    if (r == 0)
      break;
    n += (size_t) r;
  }
  close (fd);
  buf[n] = 0;
  *out = buf;
  *out_len = n;
  return SEGMASK_OK;

io_error:
  segmask_set_error (err, err_len, "%s: %s", path, strerror (errno));
  if (fd >= 0)
    close (fd);
  free (buf);
  return SEGMASK_ERR_INVALID;
}

static segmask_status
add_file (segmask_keyring *ring, segmask_key_kind kind, const char *path,
    char *err, size_t err_len)
{
  char *text = NULL;
  size_t len = 0;
  segmask_status st = read_file (path, &text, &len, err, err_len);

  if (st != SEGMASK_OK)
    return st;
  st = segmask_keyring_add_text (ring, kind, text, len, path, err, err_len);
  memset (text, 0, len);
  free (text);
  return st;
}

static int
ends_with (const char *s, const char *suffix)
{
  size_t n = strlen (s), k = strlen (suffix);

  return n >= k && strcmp (s + n - k, suffix) == 0;
}

static int
compare_names (const void *a, const void *b)
{
  return strcmp (*(char *const *) a, *(char *const *) b);
}

static segmask_status
add_dir (segmask_keyring *ring, const char *path, unsigned depth, char *err,
    size_t err_len)
{
  DIR *d;
  struct dirent *de;
  char **names = NULL;
  size_t n = 0, cap = 0;
  segmask_status st = SEGMASK_OK;

  if (depth > MAX_DIR_DEPTH) {
    segmask_set_error (err, err_len,
        "%s: certificate directories nested too deep", path);
    return SEGMASK_ERR_INVALID;
  }
  if (!(d = opendir (path))) {
    segmask_set_error (err, err_len, "%s: %s", path, strerror (errno));
    return SEGMASK_ERR_INVALID;
  }
  /* Sorted, so errors and results do not depend on readdir's order. */
  while ((de = readdir (d))) {
    if (de->d_name[0] == '.' || ends_with (de->d_name, "_secret"))
      continue;
    if (n == cap) {
      char **nn = realloc (names, (cap = cap ? cap * 2 : 16) * sizeof (*nn));

      if (!nn) {
        st = SEGMASK_ERR_NOMEM;
        break;
      }
      names = nn;
    }
    if (!(names[n] = malloc (strlen (path) + strlen (de->d_name) + 2))) {
      st = SEGMASK_ERR_NOMEM;
      break;
    }
    sprintf (names[n++], "%s/%s", path, de->d_name);
  }
  closedir (d);
  if (st == SEGMASK_OK && n)
    qsort (names, n, sizeof (*names), compare_names);
  for (size_t i = 0; st == SEGMASK_OK && i < n; i++) {
    struct stat sb;

    if (stat (names[i], &sb) != 0) {
      segmask_set_error (err, err_len, "%s: %s", names[i], strerror (errno));
      st = SEGMASK_ERR_INVALID;
    } else if (S_ISDIR (sb.st_mode)) {
      st = add_dir (ring, names[i], depth + 1, err, err_len);
    } else {
      st = add_file (ring, SEGMASK_KEY_PUBLIC, names[i], err, err_len);
    }
  }
  for (size_t i = 0; i < n; i++)
    free (names[i]);
  free (names);
  if (st == SEGMASK_ERR_NOMEM)
    segmask_set_error (err, err_len, "out of memory");
  return st;
}

segmask_status
segmask_keyring_add_path (segmask_keyring *ring, segmask_key_kind kind,
    const char *path, char *err, size_t err_len)
{
  struct stat sb;

  if (!ring || !path || !path[0]) {
    segmask_set_error (err, err_len, "no key file given");
    return SEGMASK_ERR_INVALID;
  }
  if (stat (path, &sb) != 0) {
    segmask_set_error (err, err_len, "%s: %s", path, strerror (errno));
    return SEGMASK_ERR_INVALID;
  }
  if (S_ISDIR (sb.st_mode)) {
    if (kind == SEGMASK_KEY_SECRET) {
      segmask_set_error (err, err_len,
          "%s: a directory where one secret key belongs", path);
      return SEGMASK_ERR_INVALID;
    }
    return add_dir (ring, path, 0, err, err_len);
  }
  return add_file (ring, kind, path, err, err_len);
}

segmask_status
segmask_keypair_load (const char *secret_key, const char *secret_key_file,
    char public_z85[41], char secret_z85[41], char *err, size_t err_len)
{
  segmask_keyring *ring;
  segmask_status st;

  if ((secret_key != NULL) == (secret_key_file != NULL)) {
    segmask_set_error (err, err_len,
        "give a secret key or a secret key file, not %s",
        secret_key ? "both" : "neither");
    return SEGMASK_ERR_INVALID;
  }
  if (!(ring = segmask_keyring_new ()))
    return SEGMASK_ERR_NOMEM;
  if (secret_key)
    st = segmask_keyring_add_text (ring, SEGMASK_KEY_SECRET, secret_key,
        strlen (secret_key), "(inline key)", err, err_len);
  else
    st = segmask_keyring_add_path (ring, SEGMASK_KEY_SECRET, secret_key_file,
        err, err_len);
  if (st == SEGMASK_OK && ring->len != 1) {
    segmask_set_error (err, err_len, "%s: holds no key",
        secret_key_file ? secret_key_file : "(inline key)");
    st = SEGMASK_ERR_INVALID;
  }
  if (st == SEGMASK_OK) {
    if (!zmq_z85_encode (secret_z85, ring->keys[0], 32)
        || zmq_curve_public (public_z85, secret_z85) != 0) {
      segmask_set_error (err, err_len, "cannot derive the public key: %s",
          zmq_strerror (zmq_errno ()));
      memset (secret_z85, 0, 41);
      st = SEGMASK_ERR_ZMQ;
    }
  }
  segmask_keyring_free (&ring);
  return st;
}

segmask_status
segmask_key_load (const char *key, const char *key_file, char z85[41],
    char *err, size_t err_len)
{
  segmask_keyring *ring;
  segmask_status st;

  if ((key != NULL) == (key_file != NULL)) {
    segmask_set_error (err, err_len, "give a public key or a key file, not %s",
        key ? "both" : "neither");
    return SEGMASK_ERR_INVALID;
  }
  if (!(ring = segmask_keyring_new ()))
    return SEGMASK_ERR_NOMEM;
  if (key)
    st = segmask_keyring_add_text (ring, SEGMASK_KEY_PUBLIC, key, strlen (key),
        "(inline key)", err, err_len);
  else
    st = segmask_keyring_add_path (ring, SEGMASK_KEY_PUBLIC, key_file, err,
        err_len);
  if (st == SEGMASK_OK && ring->len != 1) {
    segmask_set_error (err, err_len,
        "%s: holds %zu keys where one public key belongs",
        key_file ? key_file : "(inline key)", ring->len);
    st = SEGMASK_ERR_INVALID;
  }
  if (st == SEGMASK_OK && !zmq_z85_encode (z85, ring->keys[0], 32))
    st = SEGMASK_ERR_INVALID;
  segmask_keyring_free (&ring);
  return st;
}
