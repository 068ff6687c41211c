"""The segd mask protocol 1.0 (docs/protocol.md): header parsing, payload
decoding and every check a subscriber must make, in pure Python.

Everything here works on bytes and raises `Invalid` (with the same reason
strings as the C library, segmask/codec.c) for anything malformed; nothing
here does I/O. `decode()` takes the three frames of one message.
"""
import struct

MAGIC = b"SGMK"
VERSION_MAJOR = 1
VERSION_MINOR = 0
FIXED_LEN = 120
MAX_CLASSES = 256
MAX_DIM = 16384
MAX_STRIDE_PAD = 4096
MAX_RAW = 64 << 20
MAX_STATUS_PAYLOAD = 65536

# Message types, mask kinds and payload encodings.
MASK, STATUS, EOS = 1, 2, 3
KIND_NONE, KIND_CLASSES, KIND_PROBABILITY = 0, 1, 2
RAW, RLE, ZSTD = 0, 1, 2
ENCODING_NAMES = {RAW: "raw", RLE: "rle", ZSTD: "zstd"}

FIXED = struct.Struct("<4sBBHIBBBBIHHQQQQQQQQIIIIIIII")
assert FIXED.size == FIXED_LEN
FIELDS = ("magic", "major", "minor", "fixed_len", "header_len", "type", "kind",
          "encoding", "flags", "session", "num_classes", "reserved", "seq",
          "capture_realtime_ns", "capture_running_ns", "publish_realtime_ns",
          "inference_ns", "mask_age_ns", "mask_age_frames", "drops",
          "frame_width", "frame_height", "width", "height", "stride",
          "raw_len", "payload_len", "reserved2")


class Invalid(Exception):
    """A malformed message; str() says why."""


def _is_control(b):
    """C0 controls (NUL included) and DEL: never in a header string."""
    return b < 0x20 or b == 0x7F


def _string(buf, pos):
    """One `u8 length, bytes, NUL` string at pos: (text, next pos).

    Control bytes are rejected as in segmask/codec.c: these strings end up
    on terminals and in logs. Bytes of 0x80 and above are kept as they came
    (invalid UTF-8 as surrogates), so the topic check compares the bytes
    the C library compares and printable() shows what was sent."""
    if pos >= len(buf):
        return None, pos
    n = buf[pos]
    if len(buf) - pos < n + 2 or buf[pos + 1 + n] != 0:
        return None, pos
    raw = bytes(buf[pos + 1:pos + 1 + n])
    if any(_is_control(b) for b in raw):
        return None, pos
    return raw.decode("utf-8", "surrogateescape"), pos + n + 2


def printable(text):
    """What a publisher sent, safe for a terminal or a log: printable
    ASCII as is, every other byte of its UTF-8 (and backslash) as \\xNN,
    like segmask_printable() and segd-sub."""
    if isinstance(text, str):
        text = text.encode("utf-8", "surrogateescape")
    return "".join(chr(b) if 0x20 <= b < 0x7F and b != 0x5C else "\\x%02x" % b
                   for b in text)


def parse_header(buf):
    """Parses and validates a header frame into a dict (the FIELDS plus
    stream, model_name, model_sha256 and labels). Raises Invalid."""
    buf = bytes(buf)
    if len(buf) < 8 or buf[:4] != MAGIC:
        raise Invalid("bad magic")
    if buf[4] != VERSION_MAJOR:
        raise Invalid("unsupported protocol version")
    if len(buf) < FIXED_LEN:
        raise Invalid("header truncated")
    h = dict(zip(FIELDS, FIXED.unpack_from(buf)))
    if h["header_len"] != len(buf):
        raise Invalid("header length does not match the frame")
    if not FIXED_LEN <= h["fixed_len"] <= h["header_len"]:
        raise Invalid("bad fixed header length")
    if not MASK <= h["type"] <= EOS:
        raise Invalid("unknown message type")
    if h["kind"] > KIND_PROBABILITY:
        raise Invalid("unknown mask kind")
    if h["encoding"] > ZSTD:
        raise Invalid("unknown payload encoding")
    if h["num_classes"] > MAX_CLASSES:
        raise Invalid("too many classes")
    pos, strings = h["fixed_len"], []
    for _ in range(3):
        s, pos = _string(buf, pos)
        if s is None:
            raise Invalid("bad string in header")
        strings.append(s)
    h["stream"], h["model_name"], h["model_sha256"] = strings
    if not h["stream"]:
        raise Invalid("empty stream name")
    labels = []
    for _ in range(h["num_classes"]):
        s, pos = _string(buf, pos)
        if s is None:
            raise Invalid("bad label in header")
        labels.append(s)
    h["labels"] = labels
    if h["type"] == MASK:
        if h["kind"] == KIND_NONE:
            raise Invalid("mask without a kind")
        if not (1 <= h["width"] <= MAX_DIM and 1 <= h["height"] <= MAX_DIM):
            raise Invalid("mask size out of range")
        if not h["width"] <= h["stride"] <= h["width"] + MAX_STRIDE_PAD:
            raise Invalid("bad mask stride")
        if h["stride"] * h["height"] != h["raw_len"]:
            raise Invalid("raw length does not match the mask size")
    elif h["kind"] or h["width"] or h["height"] or h["stride"] \
            or h["raw_len"] or h["encoding"] != RAW:
        raise Invalid("status or end-of-stream message with a mask")
    return h


def topic(msg_type, stream):
    """The topic frame of a message type for a stream, as bytes."""
    prefix = "status/" if msg_type == STATUS else "mask/"
    return (prefix + stream).encode("utf-8", "surrogateescape")


def payload_bound(encoding, raw_len):
    """Largest payload an encoding may produce for raw_len bytes (the
    libzstd compress bound for zstd, as the C library uses)."""
    if encoding == RAW:
        return raw_len
    if encoding == RLE:
        return 2 * raw_len
    small = ((128 << 10) - raw_len) >> 11 if raw_len < (128 << 10) else 0
    return raw_len + (raw_len >> 8) + small


def check_message(topic_frame, header_frame, payload_len, max_raw=MAX_RAW):
    """Validates topic, header and the payload's length (everything but the
    payload's content), in the order docs/protocol.md lists. Returns the
    header dict; raises Invalid."""
    if not max_raw:
        max_raw = MAX_RAW
    h = parse_header(header_frame)
    if bytes(topic_frame) != topic(h["type"], h["stream"]):
        raise Invalid("topic does not match the header")
    if h["payload_len"] != payload_len:
        raise Invalid("payload length does not match the header")
    if h["type"] == MASK:
        if h["raw_len"] > max_raw:
            raise Invalid("mask larger than allowed")
        if payload_len > payload_bound(h["encoding"], h["raw_len"]):
            raise Invalid("payload larger than its encoding allows")
        if h["encoding"] == RAW and payload_len != h["raw_len"]:
            raise Invalid("raw payload of the wrong size")
    elif h["type"] == STATUS:
        if payload_len > MAX_STATUS_PAYLOAD:
            raise Invalid("status payload too large")
    elif payload_len:
        raise Invalid("end-of-stream with a payload")
    return h


def rle_decode(src, raw_len):
    """Decodes runs (value byte, LEB128 length) into exactly raw_len bytes."""
    src = bytes(src)
    out, i, n = bytearray(raw_len), 0, len(src)
    o = 0
    while i < n:
        v, run, shift = src[i], 0, 0
        i += 1
        while True:
            if i >= n:
                raise Invalid("run-length payload truncated")
            if shift > 28:
                raise Invalid("run length too long")
            b = src[i]
            i += 1
            run |= (b & 0x7F) << shift
            shift += 7
            if not b & 0x80:
                break
        if run == 0:
            raise Invalid("empty run")
        if run > raw_len - o:
            raise Invalid("runs longer than the mask")
        if v:
            out[o:o + run] = bytes((v,)) * run
        o += run
    if o != raw_len:
        raise Invalid("runs shorter than the mask")
    return bytes(out)


def have_zstd():
    """True when the optional zstandard module (python3-zstandard) is there."""
    try:
        import zstandard  # noqa: F401
    except ImportError:
        return False
    return True


def zstd_decode(src, raw_len):
    """Decodes one zstd frame of exactly raw_len bytes, or returns None
    when the zstandard module is missing."""
    try:
        import zstandard
    except ImportError:
        return None
    src = bytes(src)
    try:
        content = zstandard.frame_content_size(src)
    except zstandard.ZstdError:
        content = -2
    if content != raw_len:
        raise Invalid("zstd frame of the wrong size")
    d = zstandard.ZstdDecompressor().decompressobj()
    try:
        out = d.decompress(src)
    except zstandard.ZstdError:
        raise Invalid("corrupt zstd payload") from None
    if not d.eof or d.unused_data:
        raise Invalid("zstd payload is not exactly one frame")
    if len(out) != raw_len:
        raise Invalid("corrupt zstd payload")
    return out


def decode_payload(h, payload):
    """Decodes a mask payload for header h into raw_len bytes (rows of
    h["stride"]); None for zstd without the zstandard module. Checks class
    indexes of class maps. Raises Invalid."""
    enc = h["encoding"]
    if enc == RAW:
        if len(payload) != h["raw_len"]:
            raise Invalid("raw payload of the wrong size")
        data = bytes(payload)
    elif enc == RLE:
        data = rle_decode(payload, h["raw_len"])
    elif enc == ZSTD:
        data = zstd_decode(payload, h["raw_len"])
    else:
        raise Invalid("unknown payload encoding")
    if data is not None and h["kind"] == KIND_CLASSES and h["num_classes"]:
        top = _max_of_rows(data, h["width"], h["height"], h["stride"])
        if top >= h["num_classes"]:
            raise Invalid("class index out of range")
    return data


def _max_of_rows(data, width, height, stride):
    try:
        import numpy
    except ImportError:
        return max(max(data[y * stride:y * stride + width]) for y in range(height))
    a = numpy.frombuffer(data, numpy.uint8).reshape(height, stride)
    return int(a[:, :width].max())


def decode(frames, max_raw=MAX_RAW):
    """Returns (header, payload) for one message's frames; the payload is
    the decoded mask bytes (None for zstd without the zstandard module), the
    status text, or b"" for end-of-stream. Raises Invalid."""
    if len(frames) != 3:
        raise Invalid("message does not have three frames")
    topic_frame, hdr, payload = (_bytes(f) for f in frames)
    h = check_message(topic_frame, hdr, len(payload), max_raw)
    if h["type"] == STATUS:
        return h, bytes(payload).decode("utf-8", "replace")
    if h["type"] == EOS:
        return h, b""
    return h, decode_payload(h, payload)


def _bytes(frame):
    """bytes or a memoryview of a zmq.Frame / bytes-like."""
    buf = getattr(frame, "buffer", None)
    return buf if buf is not None else frame


def parse_status(text):
    """The key=value lines of a status payload as a dict (unknown keys
    kept; lines without '=' ignored)."""
    out = {}
    for line in text.splitlines():
        k, sep, v = line.partition("=")
        if sep:
            out[k.strip()] = v.strip()
    return out
