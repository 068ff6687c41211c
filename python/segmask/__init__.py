"""segmask — a Python client of segd's mask protocol (docs/protocol.md).

    import segmask
    with segmask.Subscriber("ipc:///run/segd/segd.sock") as sub:
        for msg in sub:
            if isinstance(msg, segmask.Mask):
                print(segmask.printable(msg.stream), msg.seq,
                      msg.data.shape, msg.coverage())

Pure Python on python3-zmq and python3-numpy; zstd payloads need
python3-zstandard (without it such masks arrive with data None). It
accepts exactly what libsegmask accepts, messages and key files alike.
Strings in headers come from the publisher: pass them through printable()
before they reach a terminal or a log.
"""
from .curve import (KEY_PUBLIC, KEY_SECRET, Curve, CurveKeyError, Keyring,
                    key_load, keypair_load, load_key, read_key_file,
                    write_certificate)
from .protocol import (EOS, KIND_CLASSES, KIND_NONE, KIND_PROBABILITY, MASK,
                       MAX_RAW, RAW, RLE, STATUS, ZSTD, Invalid, check_message,
                       decode, decode_payload, have_zstd, parse_header,
                       parse_status, printable, rle_decode, zstd_decode)
from .subscriber import EndOfStream, Mask, Message, Stats, Status, Subscriber

try:
    from ._version import __version__
except ImportError:   # running from the source tree
    __version__ = "0.0.0+source"

__all__ = [
    "Subscriber", "Mask", "Status", "EndOfStream", "Message", "Stats",
    "Curve", "CurveKeyError", "Keyring", "KEY_PUBLIC", "KEY_SECRET",
    "key_load", "keypair_load", "load_key", "read_key_file",
    "write_certificate",
    "Invalid", "decode", "decode_payload", "check_message", "parse_header",
    "parse_status", "printable", "rle_decode", "zstd_decode", "have_zstd",
    "MASK", "STATUS", "EOS", "RAW", "RLE", "ZSTD", "KIND_NONE",
    "KIND_CLASSES", "KIND_PROBABILITY", "MAX_RAW",
]
