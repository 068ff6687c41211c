"""CURVE keys for a subscriber, read with libsegmask's rules (segmask/keys.c,
docs/security.md) so that a key file segd-sub or the sink refuses is
refused here too, with the same message naming the file and the line.

Two formats, told apart by the file's shape:
 - a bare key list: Z85 keys (40 characters) separated by white space or
   commas, and nothing else. No comments: `#` is a Z85 character, so a
   line starting with it is a (broken) key and an error, never skipped.
 - a czmq certificate (ZPL), recognised by a top-level `curve` section:
   `curve/public-key` and, in a secret certificate, `curve/secret-key`.
   Here a line whose first non-blank character is `#` is a comment.
A directory (public keys only, for allow-lists) is czmq's certificate
store: every regular file in it and its subdirectories, except hidden
files and names ending in `_secret`, must be a certificate or key list.

    Curve(server_key_file="/etc/segd/server.key",       # publisher's key
          secret_key_file="/home/me/client.key_secret")  # our key pair
"""
import os
import re
import stat
import struct

import zmq

Z85_LEN = 40
Z85_CHARS = ("0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
             ".-:+=^!/*?&<>()[]{}@%$#")
_Z85_VALUE = {c: i for i, c in enumerate(Z85_CHARS)}
KEY_PUBLIC, KEY_SECRET = 0, 1
MAX_KEY_FILE = 1 << 20       # key files are tiny; larger is a mistake
MAX_DIR_DEPTH = 8
_BLANK = " \t\r"
_ZPL_NAME = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                      "0123456789$-_@.&+/")


class CurveKeyError(ValueError):
    """A key or key file that cannot be used; str() names file and line."""


def z85_decode_key(text):
    """The 32 bytes of a 40-character Z85 key, or None. The checks are
    zmq_z85_decode's: the alphabet, and every group of five below 2**32."""
    if not isinstance(text, str) or len(text) != Z85_LEN:
        return None
    out = bytearray()
    for i in range(0, Z85_LEN, 5):
        v = 0
        for c in text[i:i + 5]:
            d = _Z85_VALUE.get(c)
            if d is None:
                return None
            v = v * 85 + d
        if v >> 32:
            return None
        out += struct.pack(">I", v)
    return bytes(out)


def is_z85_key(text):
    """True for a 40-character Z85 string that decodes to a 32-byte key."""
    if isinstance(text, bytes):
        text = text.decode("latin-1")
    return z85_decode_key(text) is not None


def _preview(tok):
    """An offending token, cut short (never a whole secret in a message)."""
    shown = "".join(c if " " <= c < "\x7f" else "?" for c in tok[:8])
    return shown + ("..." if len(tok) > 8 else "")


def _bad_key(where, tok, what=""):
    return CurveKeyError("%s: %s\"%s\" (%d characters) is not a Z85 CURVE key%s"
                         % (where, what, _preview(tok), len(tok),
                            "" if what else
                            " (40 characters of the Z85 alphabet)"))


def _parse_list(text, origin):
    keys = []
    for no, line in enumerate(text.split("\n"), 1):
        for tok in re.split(r"[ \t\r,]+", line):
            if not tok:
                continue
            if z85_decode_key(tok) is None:
                raise _bad_key("%s:%d" % (origin, no), tok)
            keys.append(tok)
    return keys


def _looks_like_cert(text):
    """A top-level `curve` section: the file is a certificate."""
    for line in text.split("\n"):
        if line.startswith("curve"):
            rest = line[5:].lstrip(_BLANK)
            if not rest or rest[0] == "#":
                return True
    return False


def _parse_cert(text, origin):
    """{"public-key"|"secret-key": (value, line)} of a ZPL certificate."""
    found = {}
    top, depth, have_prev = "", 0, False
    for no, line in enumerate(text.split("\n"), 1):
        body = line.lstrip(" ")
        indent = len(line) - len(body)
        body = body.rstrip(_BLANK)
        if not body or body[0] == "#":
            continue
        if body[0] == "\t" or indent % 4 \
                or indent // 4 > (depth + 1 if have_prev else 0):
            raise CurveKeyError("%s:%d: indentation must be a multiple of "
                                "four spaces under a section (ZPL)" % (origin, no))
        level = indent // 4
        k = 0
        while k < len(body) and body[k] in _ZPL_NAME:
            k += 1
        name = body[:k]
        if not name:
            raise CurveKeyError("%s:%d: expected a ZPL name" % (origin, no))
        rest = body[k:].lstrip(_BLANK)
        value = None
        if rest[:1] == "=":
            rest = rest[1:].lstrip(_BLANK)
            if rest[:1] in ("\"", "'"):
                end = rest.find(rest[0], 1)
                if end < 0:
                    raise CurveKeyError("%s:%d: unterminated quoted value"
                                        % (origin, no))
                value, rest = rest[1:end], rest[end + 1:]
            else:
                # A Z85 key holding '#' must be quoted; unquoted it ends
                # early here and fails the length check.
                k = 0
                while k < len(rest) and rest[k] not in _BLANK + "#":
                    k += 1
                value, rest = rest[:k], rest[k:]
            rest = rest.lstrip(_BLANK)
        if rest and rest[0] != "#":
            raise CurveKeyError("%s:%d: unexpected text after the value"
                                % (origin, no))
        if level == 0:
            top = name if len(name) <= 15 else ""
        elif level == 1 and top == "curve" and value is not None \
                and name in ("public-key", "secret-key"):
            if name in found:
                raise CurveKeyError("%s:%d: curve/%s given twice"
                                    % (origin, no, name))
            found[name] = (value, no)
        depth, have_prev = level, True
    return found


def _cert_key(found, name, origin):
    value, no = found[name]
    if z85_decode_key(value) is None:
        raise _bad_key("%s:%d" % (origin, no), value, "curve/%s " % name)
    return value


class Keyring:
    """A set of Z85 keys read with segmask_keyring_add_text/_add_path's
    rules (duplicates count once); `keys` in the order first seen."""

    def __init__(self):
        self.keys = []

    def __len__(self):
        return len(self.keys)

    def __contains__(self, key):
        return key in self.keys

    def _add(self, key):
        if key not in self.keys:
            self.keys.append(key)

    def add_text(self, text, kind=KEY_PUBLIC, origin=None):
        """Adds the keys of a key list or certificate given as str or
        bytes; `origin` names it in errors. A secret parse adds one key.
        Raises CurveKeyError; a ring that saw an error is for discarding,
        as in C."""
        if origin is None:
            origin = "(keys)"
        if isinstance(text, (bytes, bytearray, memoryview)):
            text = bytes(text).decode("latin-1")
        if "\0" in text:
            raise CurveKeyError("%s: holds a NUL byte; not a key file" % origin)
        if not _looks_like_cert(text):
            before = len(self.keys)
            for key in _parse_list(text, origin):
                self._add(key)
            if kind == KEY_SECRET and len(self.keys) - before > 1:
                raise CurveKeyError("%s: holds %d keys where one secret key "
                                    "belongs" % (origin, len(self.keys) - before))
            return
        found = _parse_cert(text, origin)
        if kind == KEY_SECRET:
            if "secret-key" not in found:
                raise CurveKeyError(
                    "%s: certificate has no curve/secret-key (a public "
                    "certificate? czmq writes the secret one as *_secret)" % origin)
            sec = _cert_key(found, "secret-key", origin)
            if "public-key" in found:
                pub = _cert_key(found, "public-key", origin)
                if zmq.curve_public(sec.encode()).decode() != pub:
                    raise CurveKeyError("%s:%d: curve/public-key does not belong "
                                        "to curve/secret-key"
                                        % (origin, found["public-key"][1]))
            self._add(sec)
            return
        if "public-key" not in found:
            raise CurveKeyError("%s: certificate has no curve/public-key" % origin)
        # A secret certificate where a public key belongs: the secret was
        # copied to a host that should only know the public half.
        if "secret-key" in found:
            raise CurveKeyError("%s:%d: holds a secret key where a public key "
                                "belongs; give this host the public certificate "
                                "(czmq writes it without _secret)"
                                % (origin, found["secret-key"][1]))
        self._add(_cert_key(found, "public-key", origin))

    def add_path(self, path, kind=KEY_PUBLIC):
        """Adds the keys of a file or, for public keys, of every
        certificate in a directory (czmq's store). Raises CurveKeyError."""
        if not path:
            raise CurveKeyError("no key file given")
        try:
            st = os.stat(path)
        except OSError as e:
            raise CurveKeyError("%s: %s" % (path, os.strerror(e.errno))) from None
        if stat.S_ISDIR(st.st_mode):
            if kind == KEY_SECRET:
                raise CurveKeyError("%s: a directory where one secret key "
                                    "belongs" % path)
            self._add_dir(path, 0)
        else:
            self._add_file(path, kind)

    def _add_file(self, path, kind):
        try:
            fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC | os.O_NOCTTY)
        except OSError as e:
            raise CurveKeyError("%s: %s" % (path, os.strerror(e.errno))) from None
        try:
            st = os.fstat(fd)
            if not stat.S_ISREG(st.st_mode):
                raise CurveKeyError("%s: not a regular file" % path)
            if st.st_size > MAX_KEY_FILE:
                raise CurveKeyError("%s: %d bytes is too large for a key file"
                                    % (path, st.st_size))
            chunks, left = [], st.st_size
            while left > 0:
                b = os.read(fd, left)
                if not b:
                    break
                chunks.append(b)
                left -= len(b)
        except OSError as e:
            raise CurveKeyError("%s: %s" % (path, os.strerror(e.errno))) from None
        finally:
            os.close(fd)
        self.add_text(b"".join(chunks), kind, path)

    def _add_dir(self, path, depth):
        if depth > MAX_DIR_DEPTH:
            raise CurveKeyError("%s: certificate directories nested too deep" % path)
        try:
            names = os.listdir(path)
        except OSError as e:
            raise CurveKeyError("%s: %s" % (path, os.strerror(e.errno))) from None
        # Sorted as bytes, like the C library's strcmp, so errors and
        # results do not depend on readdir's order.
        full = sorted((path + "/" + n for n in names
                       if not n.startswith(".") and not n.endswith("_secret")),
                      key=os.fsencode)
        for p in full:
            try:
                st = os.stat(p)
            except OSError as e:
                raise CurveKeyError("%s: %s" % (p, os.strerror(e.errno))) from None
            if stat.S_ISDIR(st.st_mode):
                self._add_dir(p, depth + 1)
            else:
                self._add_file(p, KEY_PUBLIC)


def key_load(key=None, key_file=None):
    """One public key (Z85) given inline or as a file, like
    segmask_key_load: exactly one of the two, holding exactly one key."""
    if (key is None) == (key_file is None):
        raise CurveKeyError("give a public key or a key file, not %s"
                            % ("both" if key is not None else "neither"))
    ring = Keyring()
    if key is not None:
        ring.add_text(key, KEY_PUBLIC, "(inline key)")
    else:
        ring.add_path(key_file, KEY_PUBLIC)
    if len(ring) != 1:
        raise CurveKeyError("%s: holds %d keys where one public key belongs"
                            % (key_file or "(inline key)", len(ring)))
    return ring.keys[0]


def keypair_load(secret_key=None, secret_key_file=None):
    """(public, secret) Z85 keys from one secret key given inline or as a
    file, like segmask_keypair_load; the public key is derived."""
    if (secret_key is None) == (secret_key_file is None):
        raise CurveKeyError("give a secret key or a secret key file, not %s"
                            % ("both" if secret_key is not None else "neither"))
    ring = Keyring()
    if secret_key is not None:
        ring.add_text(secret_key, KEY_SECRET, "(inline key)")
    else:
        ring.add_path(secret_key_file, KEY_SECRET)
    if len(ring) != 1:
        raise CurveKeyError("%s: holds no key" % (secret_key_file or "(inline key)"))
    sec = ring.keys[0]
    return zmq.curve_public(sec.encode()).decode(), sec


def load_key(path, secret=False):
    """The one key of a key file: its secret key (secret=True, a bare key
    or a secret certificate) or its public key."""
    if secret:
        return keypair_load(secret_key_file=path)[1]
    return key_load(key_file=path)


def read_key_file(path, which="public"):
    """load_key() with which = "public" or "secret"."""
    if which not in ("public", "secret"):
        raise ValueError("which must be 'public' or 'secret'")
    return load_key(path, which == "secret")


class Curve:
    """CURVE settings of a subscriber, as segd-sub takes them.

    server_key / server_key_file: the publisher's public key, inline (Z85)
        or from a key file or certificate; exactly one.
    secret_key_file: our secret certificate (czmq `*_secret`) or a file
        holding one Z85 secret key; the public key is derived from it.
    secret_key: the same inline, for keys that come from elsewhere than a
        command line. Neither: a fresh key pair, enough for a publisher
        without an allow-list.
    """

    def __init__(self, server_key=None, server_key_file=None,
                 secret_key_file=None, secret_key=None):
        self.server_key = key_load(server_key, server_key_file)
        if secret_key is None and secret_key_file is None:
            pub, sec = zmq.curve_keypair()
            self.public_key, self.secret_key = pub.decode(), sec.decode()
        else:
            self.public_key, self.secret_key = keypair_load(secret_key,
                                                            secret_key_file)

    def __repr__(self):
        return "Curve(server_key=%r, public_key=%r)" % (self.server_key,
                                                        self.public_key)

    def apply(self, sock):
        """Sets the socket options on a SUB socket before it connects."""
        sock.curve_serverkey = self.server_key.encode()
        sock.curve_publickey = self.public_key.encode()
        sock.curve_secretkey = self.secret_key.encode()


def write_certificate(path, public, secret=None):
    """Writes a czmq-style certificate (the secret one when `secret` is
    given), mode 0600 for secrets. For tests and key set-up."""
    lines = ["#   ZeroMQ CURVE %s certificate (czmq format)"
             % ("secret" if secret else "public"), "",
             "metadata", "curve", '    public-key = "%s"' % public]
    if secret:
        lines.append('    secret-key = "%s"' % secret)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600 if secret else 0o644)
    with os.fdopen(fd, "w") as f:
        f.write("\n".join(lines) + "\n")
