#!/usr/bin/python3
"""Subscribe to a segd mask stream with the segmask Python client
(python3-segmask, or python/ of the checkout) and print each mask.

    segd_sub.py ipc:///run/segd/segd.sock --stream segd --count 10
    segd_sub.py tcp://host:5556 --curve-server-key-file server.key \\
        --curve-secret-key-file me.key_secret

This is `python3 -m segmask`: the package is the one Python implementation
of docs/protocol.md and of libsegmask's key-file rules (docs/security.md),
so this example cannot drift from either. It validates everything it
receives, escapes what it prints, and takes secret keys from files only.
"""
import os
import sys

# Inside a checkout, the package next to this example, not an installed one.
_checkout = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                         "..", "..", "python")
if os.path.isfile(os.path.join(_checkout, "segmask", "__init__.py")):
    sys.path.insert(0, _checkout)

from segmask import (CurveKeyError, Invalid, decode, load_key,  # noqa: E402,F401
                     printable, rle_decode, zstd_decode)
from segmask.__main__ import main  # noqa: E402

# The names this example exported before the package existed.
KeyError_ = CurveKeyError

if __name__ == "__main__":
    sys.exit(main())
