#!/usr/bin/python3
"""The Python client against libsegmask on the same garbage corpus
(make-corpus writes it with the C library's verdict on every message):
segmask.decode must accept exactly what the C library accepts and decode
it to the same bytes. Then a slice of the corpus goes over a real ZeroMQ
socket into segmask.Subscriber, between valid masks: it must deliver the
valid ones only and count every malformed one.

    test-corpus.py PYTHON_DIR MAKE_CORPUS
"""
import os
import struct
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, sys.argv[1])
import segmask  # noqa: E402
import zmq  # noqa: E402


def fail(msg):
    print("FAIL: " + msg, file=sys.stderr)
    sys.exit(1)


def read_corpus(path):
    with open(path, "rb") as f:
        data = f.read()
    pos, out = 0, []

    def u32():
        nonlocal pos
        v = struct.unpack_from("<I", data, pos)[0]
        pos += 4
        return v

    while pos < len(data):
        frames = []
        for _ in range(u32()):
            n = u32()
            frames.append(data[pos:pos + n])
            pos += n
        verdict = data[pos]
        pos += 1
        n = u32()
        out.append((frames, verdict == 0, data[pos:pos + n]))
        pos += n
    return out


def check_decode(corpus):
    accepted = rejected = 0
    for i, (frames, c_ok, c_raw) in enumerate(corpus):
        try:
            h, data = segmask.decode(frames)
            ok = True
        except segmask.Invalid as e:
            ok, why = False, str(e)
        if ok != c_ok:
            fail("message %d: C %s, Python %s%s" % (
                i, "accepts" if c_ok else "rejects",
                "accepts" if ok else "rejects", "" if ok else " (%s)" % why))
        if ok and h["type"] == segmask.MASK and data != c_raw:
            fail("message %d decodes differently" % i)
        accepted += ok
        rejected += not ok
    return accepted, rejected


def check_subscriber(corpus):
    """Valid masks with increasing seq around malformed messages."""
    garbage = [fr for fr, ok, _ in corpus
               if not ok and len(fr) == 3 and fr[0] == b"mask/cam0"][:200]
    good = corpus[0][0]
    tmp = tempfile.mkdtemp(prefix="segmask-corpus-")
    ep = "ipc://%s/c.sock" % tmp
    ctx = zmq.Context.instance()
    pub = ctx.socket(zmq.PUB)
    pub.setsockopt(zmq.SNDHWM, 100000)
    pub.bind(ep)
    sub = segmask.Subscriber(ep, stream="cam0", timeout=5)
    try:
        # Wait for the subscription to arrive: a probe mask with seq 1.
        seq = 1
        deadline = time.monotonic() + 10
        while True:
            pub.send_multipart(with_seq(good, seq))
            if sub.recv(0.1) is not None:
                break
            if time.monotonic() > deadline:
                fail("subscriber never connected")
        sent = []
        for g in garbage:
            pub.send_multipart(g)
            seq += 1
            sent.append(seq)
            pub.send_multipart(with_seq(good, seq))
        got = []
        while len(got) < len(sent):
            m = sub.recv(5)
            if m is None:
                fail("only %d of %d valid masks arrived" % (len(got), len(sent)))
            got.append(m.seq)
            if m.data.shape != (30, 40) or m.labels != ["background", "person", "cat"]:
                fail("mask fields: %r %r" % (m.data.shape, m.labels))
        if got != sent:
            fail("valid masks out of order or lost")
        if sub.stats.invalid != len(garbage) or sub.stats.duplicates:
            fail("stats %r for %d malformed" % (sub.stats, len(garbage)))
        if sub.stats.missed:
            fail("gaps reported: %r" % sub.stats)
    finally:
        sub.close()
        pub.close(0)
        os.unlink("%s/c.sock" % tmp)
        os.rmdir(tmp)
    return len(garbage), sub.stats


def with_seq(frames, seq):
    hdr = bytearray(frames[1])
    hdr[16:20] = struct.pack("<I", 0x1111)  # not the garbage's session
    hdr[24:32] = struct.pack("<Q", seq)
    return [frames[0], bytes(hdr), frames[2]]


def main():
    if not segmask.have_zstd():
        print("SKIP: python3-zstandard is not installed (needed to compare zstd)")
        return 77
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "corpus.bin")
        subprocess.run([sys.argv[2], path], check=True)
        corpus = read_corpus(path)
    if len(corpus) < 10000:
        fail("corpus too small: %d" % len(corpus))
    accepted, rejected = check_decode(corpus)
    if accepted < 7 or rejected < 5000:
        fail("suspicious corpus: %d accepted, %d rejected" % (accepted, rejected))
    n, stats = check_subscriber(corpus)
    print("corpus: %d messages, Python and C agree (%d accepted, %d rejected); "
          "subscriber dropped %d malformed among valid masks (%r)"
          % (len(corpus), accepted, rejected, n, stats))
    return 0


sys.exit(main())
