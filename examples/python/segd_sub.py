#!/usr/bin/python3
"""Subscribe to a segd mask stream with the segmask Python client
(python3-segmask, or python/ of the checkout) and print each mask.

    segd_sub.py ipc:///run/segd/segd.sock --stream segd --count 10

The client validates everything received as docs/protocol.md asks;
zstd masks need python3-zstandard.
"""
import os
import sys

try:
    import segmask
except ImportError:   # from the checkout: the package lives in python/
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                    "..", "..", "python"))
    import segmask
from segmask.__main__ import main
# The protocol decoder, as this example exported it before the package.
from segmask import Invalid, decode, rle_decode, zstd_decode  # noqa: F401

if __name__ == "__main__":
    sys.exit(main())
