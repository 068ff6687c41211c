#!/usr/bin/python3
"""Runs examples/python/segd_sub.py's decoder against masks published by
the C codec (pub-fixture) over ipc:// in a temp dir and checks every
decoded byte, then feeds it malformed messages.
Usage: test-python.py EXAMPLE_DIR PUB_FIXTURE"""
import os
import subprocess
import sys
import tempfile

import zmq

sys.path.insert(0, sys.argv[1])
import segd_sub  # noqa: E402


def fail(msg):
    print("FAIL: " + msg, file=sys.stderr)
    sys.exit(1)


def expected(seq):
    return bytes(((x // 8 + y // 8 + seq) % 3) if x < 50 else 0
                 for y in range(30) for x in range(52))


def check_keys(tmp):
    """The example's key loader follows libsegmask's rules."""
    pub, sec = (k.decode() for k in zmq.curve_keypair())
    cases = {
        "ok.key_secret": ("#  czmq\nmetadata\ncurve\n    public-key = \"%s\"\n"
                          "    secret-key = \"%s\"\n" % (pub, sec), True, sec),
        "ok.key": ("curve\n    public-key = \"%s\"\n" % pub, False, pub),
        "bare": ("%s\n" % pub, False, pub),
        "hash": ("#%s\n" % pub, False, None),
        "bad": ("#this-is-not-a-valid-key\n", True, None),
        "empty": ("", False, None),
        "pubcert-as-secret": ("curve\n    public-key = \"%s\"\n" % pub, True, None),
    }
    os.makedirs(tmp, exist_ok=True)
    for name, (text, secret, want) in cases.items():
        path = os.path.join(tmp, name)
        with open(path, "w") as f:
            f.write(text)
        try:
            got = segd_sub.load_key(path, secret)
        except segd_sub.KeyError_:
            got = None
        os.unlink(path)
        if got != want:
            fail("key file %s: got %r, want %r" % (name, got, want))


def main():
    tmp = tempfile.mkdtemp(prefix="segd-py-")
    ep = "ipc://%s/py.sock" % tmp
    pub = subprocess.Popen([sys.argv[2], ep])
    try:
        sock = zmq.Context.instance().socket(zmq.SUB)
        sock.setsockopt(zmq.LINGER, 0)
        sock.setsockopt(zmq.SUBSCRIBE, b"mask/py")
        sock.connect(ep)
        checked = {0: 0, 1: 0, 2: 0}
        skipped = 0
        while sum(checked.values()) + skipped < 30:
            if not sock.poll(10000):
                fail("no mask from the fixture")
            h, data = segd_sub.decode(sock.recv_multipart())
            if h["stream"] != "py" or h["labels"] != ["background", "person", "cat"] \
                    or (h["width"], h["height"], h["stride"]) != (50, 30, 52) \
                    or h["model_name"] != "fixture" or h["inference_ns"] != 4000000:
                fail("header fields: %r" % h)
            if data is None:
                skipped += 1
                continue
            if data != expected(h["seq"]):
                fail("payload of seq %d (%s) differs" % (h["seq"], h["encoding"]))
            checked[h["encoding"]] += 1
        if checked[0] < 5 or checked[1] < 5:
            fail("too few raw/rle masks checked: %r" % checked)
        good = None
        while good is None:
            frames = sock.recv_multipart()
            if frames[1][14] == 1:
                good = frames
    finally:
        pub.kill()
        pub.wait()
        try:
            os.unlink("%s/py.sock" % tmp)
        except OSError:
            pass
        os.rmdir(tmp)

    topic, hdr, pay = good
    bad = [
        [topic, hdr],                                  # two frames
        [topic, b"XGMK" + hdr[4:], pay],               # magic
        [topic, hdr[:4] + b"\x02" + hdr[5:], pay],     # version 2
        [topic, hdr[:60], pay],                        # truncated header
        [topic, hdr, pay[:-1]],                        # payload length
        [b"mask/other", hdr, pay],                     # topic mismatch
        [topic, hdr[:-1] + b"x", pay],                 # label without NUL
        [topic, hdr[:-3] + b"\x1b" + hdr[-2:], pay],   # ESC in a label
    ]
    for i, frames in enumerate(bad):
        try:
            segd_sub.decode(frames)
        except segd_sub.Invalid:
            continue
        fail("malformed message %d accepted" % i)
    try:
        segd_sub.rle_decode(b"\x01\x00", 4)
        fail("empty run accepted")
    except segd_sub.Invalid:
        pass
    check_keys(tmp)
    os.rmdir(tmp)
    if segd_sub.printable("a\x1b[31m\u009b") != "a\\x1b[31m\\xc2\\x9b":
        fail("printable: %r" % segd_sub.printable("a\x1b[31m\u009b"))
    print("python: checked %r masks byte for byte (%d zstd skipped: no "
          "zstandard module); %d malformed rejected" % (checked, skipped, len(bad) + 1))


main()
