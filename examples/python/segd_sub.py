#!/usr/bin/python3
"""Subscribe to a segd mask stream with Debian's python3-zmq and decode
each message per docs/protocol.md (header 1.0, raw / rle / zstd payloads).

    segd_sub.py ipc:///run/segd/default.sock --stream default --count 10
    segd_sub.py tcp://host:5556 --curve-server-key-file server.key \
        --curve-secret-key-file me.key_secret

zstd payloads need the `zstandard` module (python3-zstandard); without it
they are reported and skipped. Everything received is validated before
use, as the protocol asks; strings are escaped before printing.
CURVE keys are read from files with the rules of libsegmask's loader
(docs/security.md): a Z85 key list without comments, or a czmq
certificate; never from the command line, where `ps` shows them.
"""
import argparse
import struct
import sys

import zmq

MAGIC = b"SGMK"
FIXED = struct.Struct("<4sBBHIBBBBIHHQQQQQQQQIIIIIIII")
assert FIXED.size == 120
FIELDS = ("magic", "major", "minor", "fixed_len", "header_len", "type", "kind",
          "encoding", "flags", "session", "num_classes", "reserved", "seq",
          "capture_realtime_ns", "capture_running_ns", "publish_realtime_ns",
          "inference_ns", "mask_age_ns", "mask_age_frames", "drops",
          "frame_width", "frame_height", "width", "height", "stride",
          "raw_len", "payload_len", "reserved2")
MASK, STATUS, EOS = 1, 2, 3
RAW, RLE, ZSTD = 0, 1, 2
MAX_RAW = 64 << 20


class Invalid(Exception):
    pass


def parse_header(buf):
    if len(buf) < 8 or buf[:4] != MAGIC:
        raise Invalid("bad magic")
    if buf[4] != 1:
        raise Invalid("unsupported protocol version %d" % buf[4])
    if len(buf) < FIXED.size:
        raise Invalid("header truncated")
    h = dict(zip(FIELDS, FIXED.unpack_from(buf)))
    if h["header_len"] != len(buf):
        raise Invalid("header length does not match the frame")
    if not FIXED.size <= h["fixed_len"] <= len(buf):
        raise Invalid("bad fixed header length")
    if h["type"] not in (MASK, STATUS, EOS) or h["kind"] > 2 \
            or h["encoding"] > 2 or h["num_classes"] > 256:
        raise Invalid("unknown type, kind, encoding or class count")
    pos, strings = h["fixed_len"], []
    for _ in range(3 + h["num_classes"]):
        if pos >= len(buf):
            raise Invalid("string out of bounds")
        n = buf[pos]
        if pos + n + 2 > len(buf) or buf[pos + 1 + n] != 0 \
                or any(c < 0x20 or c == 0x7f for c in buf[pos + 1:pos + 1 + n]):
            raise Invalid("bad string")
        strings.append(bytes(buf[pos + 1:pos + 1 + n]).decode("utf-8", "replace"))
        pos += n + 2
    h["stream"], h["model_name"], h["model_sha256"] = strings[:3]
    h["labels"] = strings[3:]
    if not h["stream"]:
        raise Invalid("empty stream name")
    if h["type"] == MASK:
        if h["kind"] == 0 or not (1 <= h["width"] <= 16384) \
                or not (1 <= h["height"] <= 16384) \
                or not (h["width"] <= h["stride"] <= h["width"] + 4096) \
                or h["stride"] * h["height"] != h["raw_len"]:
            raise Invalid("bad mask size")
    elif h["kind"] or h["width"] or h["height"] or h["stride"] \
            or h["raw_len"] or h["encoding"]:
        raise Invalid("status or end-of-stream with a mask")
    return h


def rle_decode(src, raw_len):
    out, i = bytearray(), 0
    while i < len(src):
        v, run, shift = src[i], 0, 0
        i += 1
        while True:
            if i >= len(src):
                raise Invalid("run-length payload truncated")
            if shift > 28:
                raise Invalid("run length too long")
            b = src[i]
            i += 1
            run |= (b & 0x7F) << shift
            shift += 7
            if not b & 0x80:
                break
        if run == 0 or run > raw_len - len(out):
            raise Invalid("bad run")
        out += bytes([v]) * run
    if len(out) != raw_len:
        raise Invalid("runs shorter than the mask")
    return bytes(out)


def zstd_decode(src, raw_len):
    try:
        import zstandard
    except ImportError:
        return None
    try:
        out = zstandard.ZstdDecompressor().decompress(src, max_output_size=raw_len)
    except zstandard.ZstdError as e:
        raise Invalid("corrupt zstd payload: %s" % e)
    if len(out) != raw_len:
        raise Invalid("zstd frame of the wrong size")
    return out


def decode(frames, max_raw=MAX_RAW):
    """Returns (header, payload) for one message; the payload is the
    decoded mask bytes (None for zstd without the module), the status text,
    or b"" for end-of-stream. Raises Invalid."""
    if len(frames) != 3:
        raise Invalid("message does not have three frames")
    topic, hdr, payload = (bytes(f) for f in frames)
    h = parse_header(hdr)
    prefix = "status/" if h["type"] == STATUS else "mask/"
    if topic != (prefix + h["stream"]).encode():
        raise Invalid("topic does not match the header")
    if h["payload_len"] != len(payload):
        raise Invalid("payload length does not match the header")
    if h["type"] == STATUS:
        return h, payload.decode("utf-8", "replace")
    if h["type"] == EOS:
        return h, b""
    if h["raw_len"] > max_raw:
        raise Invalid("mask larger than allowed")
    if h["encoding"] == RAW:
        if len(payload) != h["raw_len"]:
            raise Invalid("raw payload of the wrong size")
        data = payload
    elif h["encoding"] == RLE:
        data = rle_decode(payload, h["raw_len"])
    else:
        data = zstd_decode(payload, h["raw_len"])
    if data is not None and h["kind"] == 1 and h["num_classes"]:
        for y in range(h["height"]):
            row = data[y * h["stride"]:y * h["stride"] + h["width"]]
            if max(row) >= h["num_classes"]:
                raise Invalid("class index out of range")
    return h, data


Z85 = ("0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
       ".-:+=^!/*?&<>()[]{}@%$#")


class KeyError_(Exception):
    pass


def _z85_ok(tok):
    if len(tok) != 40 or any(c not in Z85 for c in tok):
        return False
    # Each 5-character group must fit in 32 bits, as zmq_z85_decode checks.
    for i in range(0, 40, 5):
        v = 0
        for c in tok[i:i + 5]:
            v = v * 85 + Z85.index(c)
        if v >= 1 << 32:
            return False
    return True


def load_key(path, secret):
    """One CURVE key (Z85 text) from a file: a bare Z85 key (no comments:
    '#' is a Z85 character) or a czmq certificate, whose curve/secret-key
    (secret=True) or curve/public-key is taken. Raises KeyError_ naming
    the file and line, like libsegmask's segmask_key_load."""
    with open(path, encoding="ascii", errors="replace") as f:
        lines = f.read().split("\n")
    is_cert = any(l.rstrip(" \t\r").split("#")[0].rstrip() == "curve"
                  for l in lines)
    if not is_cert:
        keys = []
        for no, line in enumerate(lines, 1):
            for tok in line.replace(",", " ").split():
                if not _z85_ok(tok):
                    raise KeyError_("%s:%d: %r is not a Z85 CURVE key" % (path, no, tok[:8]))
                keys.append(tok)
        if len(keys) != 1:
            raise KeyError_("%s: holds %d keys where one belongs" % (path, len(keys)))
        return keys[0]
    section, found = None, {}
    for no, line in enumerate(lines, 1):
        body = line.rstrip(" \t\r")
        stripped = body.lstrip(" ")
        if not stripped or stripped.startswith("#"):
            continue
        indent = len(body) - len(stripped)
        if indent % 4:
            raise KeyError_("%s:%d: indentation must be a multiple of four" % (path, no))
        name, _, value = stripped.partition("=")
        name, value = name.strip(), value.strip()
        if indent == 0:
            section = name
            continue
        if indent == 4 and section == "curve" and name in ("public-key", "secret-key"):
            if value[:1] in ("\"", "'"):
                end = value.find(value[0], 1)
                if end < 0:
                    raise KeyError_("%s:%d: unterminated quoted value" % (path, no))
                value = value[1:end]
            else:
                value = value.split("#")[0].strip()
            if not _z85_ok(value):
                raise KeyError_("%s:%d: curve/%s is not a Z85 CURVE key" % (path, no, name))
            found[name] = value
    want = "secret-key" if secret else "public-key"
    if want not in found:
        raise KeyError_("%s: certificate has no curve/%s" % (path, want))
    if secret and "public-key" in found \
            and zmq.curve_public(found["secret-key"].encode()).decode() != found["public-key"]:
        raise KeyError_("%s: curve/public-key does not belong to curve/secret-key" % path)
    return found[want]


def printable(s):
    """Escapes what a publisher sent for a terminal: printable ASCII only."""
    return "".join(c if " " <= c <= "~" and c != "\\" else "\\x%02x" % b
                   for c, b in ((chr(b), b) for b in s.encode("utf-8", "replace")))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("endpoint")
    ap.add_argument("--stream", default="")
    ap.add_argument("--count", type=int, default=-1)
    ap.add_argument("--timeout", type=float, default=10.0)
    ap.add_argument("--curve-server-key-file")
    ap.add_argument("--curve-secret-key-file")
    args = ap.parse_args()

    sock = zmq.Context.instance().socket(zmq.SUB)
    sock.setsockopt(zmq.LINGER, 0)
    if args.curve_server_key_file or args.curve_secret_key_file:
        if not (args.curve_server_key_file and args.curve_secret_key_file):
            print("CURVE needs both --curve-server-key-file and "
                  "--curve-secret-key-file", file=sys.stderr)
            return 64
        try:
            server = load_key(args.curve_server_key_file, False)
            secret = load_key(args.curve_secret_key_file, True)
        except (KeyError_, OSError) as e:
            print(e, file=sys.stderr)
            return 64
        sock.setsockopt(zmq.CURVE_SERVERKEY, server.encode())
        sock.setsockopt(zmq.CURVE_SECRETKEY, secret.encode())
        sock.setsockopt(zmq.CURVE_PUBLICKEY, zmq.curve_public(secret.encode()))
    sock.setsockopt(zmq.SUBSCRIBE, ("mask/" + args.stream).encode())
    sock.connect(args.endpoint)
    got = invalid = 0
    while args.count < 0 or got < args.count:
        if not sock.poll(int(args.timeout * 1000)):
            print("no mask within %.1f s" % args.timeout, file=sys.stderr)
            return 69
        frames = sock.recv_multipart(copy=False)
        try:
            h, data = decode(frames)
        except Invalid as e:
            invalid += 1
            print("dropped a malformed message: %s" % printable(str(e)), file=sys.stderr)
            continue
        if args.stream and h["stream"] != args.stream:
            continue
        if h["type"] == EOS:
            break
        got += 1
        if data is None:
            print("stream=%s seq=%d zstd (no zstandard module)" % (printable(h["stream"]), h["seq"]))
            continue
        total = h["width"] * h["height"]
        counts = {}
        for y in range(h["height"]):
            for v in data[y * h["stride"]:y * h["stride"] + h["width"]]:
                counts[v] = counts.get(v, 0) + 1
        names = h["labels"]
        cov = " ".join("%s=%.1f%%" % (printable(names[v]) if v < len(names) else v, 100.0 * n / total)
                       for v, n in sorted(counts.items()))
        print("stream=%s seq=%d size=%dx%d latency=%.1fms %s"
              % (printable(h["stream"]), h["seq"], h["width"], h["height"],
                 h["inference_ns"] / 1e6, cov))
    return 0


if __name__ == "__main__":
    sys.exit(main())
