"""CURVE keys for a subscriber: Z85 strings, Z85 key files, and czmq
certificate files (ZPL: a `curve` section with `public-key = "..."` and,
in the secret certificate, `secret-key = "..."`).

    Curve(server="/etc/segd/server.key",        # the publisher's public key
          client="/home/me/.curve/me.key_secret")  # our key pair
"""
import os

import zmq
from zmq.utils import z85

Z85_LEN = 40


class CurveKeyError(ValueError):
    """A key or key file that cannot be used."""


def is_z85_key(text):
    """True for a 40-character Z85 string that decodes to 32 bytes."""
    if isinstance(text, bytes):
        try:
            text = text.decode("ascii")
        except UnicodeDecodeError:
            return False
    if not isinstance(text, str) or len(text) != Z85_LEN:
        return False
    try:
        return len(z85.decode(text)) == 32
    except (ValueError, KeyError, TypeError):
        return False


def parse_zpl(text):
    """Reads the subset of ZPL (ZeroMQ RFC 4) czmq certificates use into a
    dict of "section/key" -> value (top-level keys as "key"). Z85 uses '#',
    so only whole-line comments and '#' after an unquoted value count."""
    out = {}
    path = []
    for raw in text.splitlines():
        if not raw.strip() or raw.lstrip().startswith("#"):
            continue
        line = raw.rstrip()
        depth = (len(line) - len(line.lstrip(" "))) // 4
        name, sep, value = line.strip().partition("=")
        name = name.strip()
        del path[depth:]
        if not sep:
            path.append(name.split("#", 1)[0].strip())
            continue
        value = value.strip()
        if value[:1] in ("\"", "'") and value.find(value[0], 1) > 0:
            value = value[1:value.find(value[0], 1)]
        else:
            value = value.split("#", 1)[0].strip()
        out["/".join(path + [name])] = value
    return out


def read_key_file(path, which="public"):
    """The Z85 key in a file: `which` is "public" or "secret". The file is
    either a czmq certificate (the matching `curve/<which>-key`) or holds
    one Z85 key (comments with # allowed), taken as the requested one."""
    with open(path, "r", encoding="utf-8") as f:
        text = f.read()
    fields = parse_zpl(text)
    if any(k.startswith("curve/") for k in fields):
        key = fields.get("curve/%s-key" % which)
        if not key:
            raise CurveKeyError("%s: certificate without a %s-key" % (path, which))
        if not is_z85_key(key):
            raise CurveKeyError("%s: %s-key is not a Z85 CURVE key" % (path, which))
        return key
    tokens = [t for line in text.splitlines()
              if not line.lstrip().startswith("#") for t in line.split()]
    keys = [t for t in tokens if len(t) == Z85_LEN]
    if len(keys) != 1 or not is_z85_key(keys[0]):
        raise CurveKeyError("%s: not a Z85 key file or czmq certificate" % path)
    return keys[0]


def _key(value, which):
    """A Z85 key given inline or as a file path."""
    if isinstance(value, bytes):
        value = value.decode("ascii", "replace")
    if is_z85_key(value) and not os.path.exists(value):
        return value
    return read_key_file(value, which)


class Curve:
    """CURVE settings of a subscriber.

    server: the publisher's public key (Z85 or a key file / certificate).
    client: our secret certificate (czmq `*_secret` file with both keys) or
        a Z85 secret key (file); the public key is derived from it. Given as
        (public, secret) it is taken as two keys or files. None: a fresh
        key pair, enough for a publisher that does not restrict clients.
    """

    def __init__(self, server, client=None):
        self.server_key = _key(server, "public")
        if client is None:
            pub, sec = zmq.curve_keypair()
            self.public_key, self.secret_key = pub.decode(), sec.decode()
        elif isinstance(client, (tuple, list)):
            self.public_key = _key(client[0], "public")
            self.secret_key = _key(client[1], "secret")
        else:
            self.secret_key = _key(client, "secret")
            self.public_key = zmq.curve_public(self.secret_key.encode()).decode()
        if zmq.curve_public(self.secret_key.encode()).decode() != self.public_key:
            raise CurveKeyError("the client public key does not belong to its secret key")

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
