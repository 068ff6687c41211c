#!/usr/bin/python3
"""The Python client against libsegmask on the same garbage corpus
(make-corpus writes it with the C library's verdict on every message):
segmask.decode must accept exactly what the C library accepts and decode
it to the same bytes. Then a slice of the corpus goes over a real ZeroMQ
socket into segmask.Subscriber, between valid masks: it must deliver the
valid ones only and count every malformed one.

The same for CURVE key files: segmask.Keyring must accept exactly the key
texts libsegmask accepts, with the same keys, and reject the others with
the same message (file and line included); and key directories, files
that are not there, and a directory given as a secret key read the same
through both (make-corpus -p).

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


def read_key_corpus(path):
    with open(path, "rb") as f:
        data = f.read()
    pos, out = 0, []

    def blob():
        nonlocal pos
        n = struct.unpack_from("<I", data, pos)[0]
        pos += 4 + n
        return data[pos - n:pos]

    while pos < len(data):
        kind = data[pos]
        pos += 1
        text = blob()
        ok = data[pos] == 0
        pos += 1
        err = blob().decode("latin-1")
        n = struct.unpack_from("<I", data, pos)[0]
        pos += 4
        keys = [data[pos + 32 * i:pos + 32 * i + 32] for i in range(n)]
        pos += 32 * n
        out.append((kind, text, ok, err, keys))
    return out


def check_keys(corpus):
    accepted = 0
    for i, (kind, text, c_ok, c_err, c_keys) in enumerate(corpus):
        ring = segmask.Keyring()
        try:
            ring.add_text(text, kind, "corpus")
            ok, err = True, ""
        except segmask.CurveKeyError as e:
            ok, err = False, str(e)
        what = "key text %d (%s, %r)" % (i, ("public", "secret")[kind], text)
        if ok != c_ok:
            fail("%s: C %s, Python %s" % (what, c_err or "accepts",
                                          err or "accepts"))
        if not ok and err != c_err:
            fail("%s: C says %r, Python %r" % (what, c_err, err))
        if ok and [z85_key(k) for k in ring.keys] != c_keys:
            fail("%s: C reads %d keys, Python %r" % (what, len(c_keys), ring.keys))
        accepted += ok
    return accepted, len(corpus) - accepted


def z85_key(text):
    return segmask.curve.z85_decode_key(text)


def c_path(make_corpus, kind, path):
    out = subprocess.run([make_corpus, "-p", kind, path], check=True,
                         stdout=subprocess.PIPE).stdout.decode("latin-1")
    first, _, rest = out.partition("\n")
    if first == "ok":
        return True, rest.split()
    return False, out[len("error: "):].rstrip("\n")


def check_key_paths(make_corpus):
    """Files and certificate directories (czmq's store), judged by
    segmask_keyring_add_path."""
    pairs = [tuple(k.decode() for k in zmq.curve_keypair()) for _ in range(4)]
    cases = 0
    with tempfile.TemporaryDirectory() as d:
        def write(rel, text):
            p = os.path.join(d, rel)
            os.makedirs(os.path.dirname(p), exist_ok=True)
            with open(p, "w") as f:
                f.write(text)

        store = os.path.join(d, "store")
        os.makedirs(store)
        segmask.write_certificate(os.path.join(store, "a.key"), *pairs[0][:1])
        segmask.write_certificate(os.path.join(store, "a.key_secret"), *pairs[0])
        write("store/b.z85", "%s, %s\n" % (pairs[1][0], pairs[0][0]))
        write("store/.hidden", "not a key\n")
        write("store/sub/c.key", "curve\n    public-key = \"%s\"\n" % pairs[2][0])
        write("store/sub/deeper/d", pairs[3][0])
        os.makedirs(os.path.join(d, "empty"))
        write("bad/ok.key", pairs[0][0])
        write("bad/x.key", "# comment\n%s\n" % pairs[1][0])
        write("secret.z85", pairs[0][1] + "\n")
        write("two.z85", "%s %s\n" % (pairs[0][1], pairs[1][1]))
        deep = os.path.join(d, "deep")
        for i in range(10):
            deep = os.path.join(deep, str(i))
        os.makedirs(deep)
        os.symlink(store, os.path.join(d, "link"))
        tests = [("public", p) for p in ("store", "empty", "bad", "secret.z85",
                                         "two.z85", "missing", "deep", "link",
                                         "store/a.key_secret", "store/sub/")]
        tests += [("secret", p) for p in ("store", "secret.z85", "two.z85",
                                          "store/a.key_secret", "store/a.key",
                                          "missing")]
        for kind, rel in tests:
            path = os.path.join(d, rel)
            want = c_path(make_corpus, kind, path)
            ring = segmask.Keyring()
            try:
                ring.add_path(path, segmask.KEY_SECRET if kind == "secret"
                              else segmask.KEY_PUBLIC)
                got = (True, ring.keys)
            except segmask.CurveKeyError as e:
                got = (False, str(e))
            if got != want:
                fail("%s key path %s: C %r, Python %r" % (kind, rel, want, got))
            cases += 1
    return cases


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
        keys_path = os.path.join(d, "keys.bin")
        subprocess.run([sys.argv[2], path, keys_path], check=True)
        corpus = read_corpus(path)
        key_corpus = read_key_corpus(keys_path)
    if len(corpus) < 10000:
        fail("corpus too small: %d" % len(corpus))
    accepted, rejected = check_decode(corpus)
    if accepted < 7 or rejected < 5000:
        fail("suspicious corpus: %d accepted, %d rejected" % (accepted, rejected))
    k_accepted, k_rejected = check_keys(key_corpus)
    if k_accepted < 1000 or k_rejected < 1000:
        fail("suspicious key corpus: %d accepted, %d rejected"
             % (k_accepted, k_rejected))
    n_paths = check_key_paths(sys.argv[2])
    n, stats = check_subscriber(corpus)
    print("corpus: %d messages, Python and C agree (%d accepted, %d rejected); "
          "%d key texts agree (%d accepted, %d rejected), %d key paths; "
          "subscriber dropped %d malformed among valid masks (%r)"
          % (len(corpus), accepted, rejected, len(key_corpus), k_accepted,
             k_rejected, n_paths, n, stats))
    return 0


sys.exit(main())
