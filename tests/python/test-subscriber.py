#!/usr/bin/python3
"""segmask.Subscriber against real publishers: segd (test source, rle)
delivers masks as numpy arrays with the header fields, status and the
end-of-stream on SIGTERM; a zmqmasksink with CURVE (server key from a Z85
key file, allowed clients from a czmq public certificate) admits the client
holding the matching czmq secret certificate and no other.

    test-subscriber.py PYTHON_DIR    (env: SEGD, SEG_MODEL_DIR, GST_*)
"""
import os
import shutil
import signal
import subprocess
import sys
import tempfile

sys.path.insert(0, sys.argv[1])
import numpy  # noqa: E402
import segmask  # noqa: E402
import zmq  # noqa: E402

MODEL = os.path.join(os.environ.get("SEG_MODEL_DIR", "models"),
                     "selfie_segmentation.tflite")


def fail(msg):
    print("FAIL: " + msg, file=sys.stderr)
    sys.exit(1)


def stop(proc):
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def test_segd(tmp):
    ep = "ipc://%s/segd.sock" % tmp
    conf = os.path.join(tmp, "etc")
    os.mkdir(conf)
    segd = subprocess.Popen([
        os.environ["SEGD"], "--config-dir", conf,
        "--set", "source.type=test", "--set", "source.width=160",
        "--set", "source.height=120", "--set", "segmenter.model=" + MODEL,
        "--set", "output.endpoint=" + ep, "--set", "output.stream-name=pyseg",
        "--set", "output.encoding=rle",
        # Not the status page: port 9470 may be another segd's.
        "--set", "http.enabled=false"])
    masks, status = [], None
    try:
        with segmask.Subscriber(ep, stream="pyseg", status=True, timeout=30) as sub:
            for msg in sub:
                if isinstance(msg, segmask.Status):
                    status = msg
                elif isinstance(msg, segmask.Mask):
                    masks.append(msg)
                if len(masks) >= 10 and status is not None:
                    break
            stop(segd)
            eos = sub.recv(10)
            while isinstance(eos, (segmask.Mask, segmask.Status)):
                eos = sub.recv(10)
            if not isinstance(eos, segmask.EndOfStream):
                fail("no end-of-stream after SIGTERM: %r" % eos)
            if sub.stats.invalid:
                fail("segd sent malformed messages: %s" % sub.last_error)
    finally:
        stop(segd)
    m = masks[-1]
    if m.stream != "pyseg" or m.encoding != segmask.RLE or not m.is_classes \
            or m.num_classes != len(m.labels) or m.num_classes < 2 \
            or m.model_name != "selfie_segmentation.tflite" \
            or len(m.model_sha256) != 64 or m.inference_ns <= 0:
        fail("mask header: %r" % m.header)
    if not isinstance(m.data, numpy.ndarray) or m.data.dtype != numpy.uint8 \
            or m.data.shape != (m.height, m.width) \
            or int(m.data.max()) >= m.num_classes:
        fail("mask data: %r %r" % (type(m.data), getattr(m.data, "shape", None)))
    seqs = [x.seq for x in masks]
    if seqs != sorted(seqs) or len(set(seqs)) != len(seqs):
        fail("seq not increasing: %r" % seqs)
    if "fps" not in status.values or status.stream != "pyseg":
        fail("status: %r" % status.text)
    return m


def test_key_files(tmp):
    """Certificates and Z85 files read back to the keys written, '#' and
    all (Z85 uses it; ZPL comments start with it). A bare Z85 file has no
    comments, as in libsegmask: a '#' line is an error naming file:line."""
    seen_hash = 0
    for i in range(300):
        pub, sec = (k.decode() for k in zmq.curve_keypair())
        seen_hash += "#" in pub + sec
        cert = os.path.join(tmp, "k.key_secret")
        public_cert = os.path.join(tmp, "k.key")
        segmask.write_certificate(cert, pub, sec)
        segmask.write_certificate(public_cert, pub)
        if segmask.read_key_file(public_cert, "public") != pub \
                or segmask.read_key_file(cert, "secret") != sec:
            fail("certificate round trip of %s / %s" % (pub, sec))
        c = segmask.Curve(server_key=pub, secret_key_file=cert)
        if (c.public_key, c.secret_key) != (pub, sec):
            fail("Curve from a secret certificate: %r" % vars(c))
        z = os.path.join(tmp, "k.z85")
        with open(z, "w") as f:
            f.write("%s\n" % sec)
        if segmask.Curve(server_key=pub, secret_key_file=z).public_key != pub:
            fail("public key derived from a Z85 secret key file")
    if not seen_hash:
        fail("no key with '#' among 300 key pairs")
    # The secret certificate is refused where a public key belongs.
    try:
        segmask.read_key_file(cert, "public")
        fail("a secret certificate accepted as a public key")
    except segmask.CurveKeyError as e:
        if not str(e).startswith(cert + ":"):
            fail("error does not name the file and line: %s" % e)
    with open(z, "w") as f:
        f.write("# a Z85 key file\n%s\n" % sec)
    try:
        segmask.Curve(server_key=pub, secret_key_file=z)
        fail("a comment accepted in a bare Z85 key file")
    except segmask.CurveKeyError as e:
        if not str(e).startswith(z + ":1: "):
            fail("error does not name the file and line: %s" % e)
    try:
        segmask.Curve(server_key=pub,
                      secret_key_file=os.path.join(tmp, "client.key"))
        fail("a public certificate accepted as the client's secret")
    except segmask.CurveKeyError:
        pass


def launch_env():
    """gst-launch-1.0 is not instrumented: in a sanitized build it must
    preload the runtimes before it loads our plugin (PUB_PRELOAD, set by
    meson; empty otherwise). Its own leaks at exit are not ours."""
    env = dict(os.environ)
    if env.get("PUB_PRELOAD"):
        env["LD_PRELOAD"] = env["PUB_PRELOAD"]
        env["ASAN_OPTIONS"] = "detect_leaks=0"
    return env


def test_curve(tmp):
    launch = shutil.which("gst-launch-1.0")
    if not launch:
        fail("gst-launch-1.0 not found (gstreamer1.0-tools)")
    server_pub, server_sec = (k.decode() for k in zmq.curve_keypair())
    client_pub, client_sec = (k.decode() for k in zmq.curve_keypair())
    with open(os.path.join(tmp, "server.z85"), "w") as f:
        f.write(server_sec + "\n")
    segmask.write_certificate(os.path.join(tmp, "server.key"), server_pub)
    segmask.write_certificate(os.path.join(tmp, "client.key"), client_pub)
    segmask.write_certificate(os.path.join(tmp, "client.key_secret"),
                              client_pub, client_sec)
    ep = "ipc://%s/curve.sock" % tmp
    pipe = subprocess.Popen([
        launch, "-q", "videotestsrc", "is-live=true", "!",
        "video/x-raw,width=160,height=120,framerate=30/1", "!", "videoconvert",
        "!", "segmenter", "model=" + MODEL, "!", "zmqmasksink",
        "endpoint=" + ep, "stream-name=sec", "encoding=zstd",
        "curve-secret-key-file=" + os.path.join(tmp, "server.z85"),
        "curve-allowed-keys-file=" + os.path.join(tmp, "client.key")],
        env=launch_env())
    try:
        # Admitted: the server's public certificate + our secret certificate.
        curve = segmask.Curve(
            server_key_file=os.path.join(tmp, "server.key"),
            secret_key_file=os.path.join(tmp, "client.key_secret"))
        if curve.public_key != client_pub or curve.server_key != server_pub:
            fail("keys read from the certificates differ")
        with segmask.Subscriber(ep, stream="sec", curve=curve) as sub:
            m = sub.recv(30)
            if not isinstance(m, segmask.Mask) or m.encoding != segmask.ZSTD \
                    or m.data is None or m.data.shape != (m.height, m.width):
                fail("no zstd mask over CURVE: %r" % m)
        # Not admitted: a key pair the sink does not list.
        with segmask.Subscriber(ep, stream="sec",
                                curve={"server_key": server_pub}) as sub:
            m = sub.recv(3)
            if m is not None:
                fail("an unlisted CURVE client received %r" % m)
        # And without CURVE at all.
        with segmask.Subscriber(ep, stream="sec") as sub:
            if sub.recv(2) is not None:
                fail("a plain client received a mask")
    finally:
        stop(pipe)


def main():
    if not os.path.exists(MODEL):
        print("SKIP: %s missing (scripts/fetch-models.sh)" % MODEL)
        return 77
    tmp = tempfile.mkdtemp(prefix="segmask-py-")
    try:
        m = test_segd(tmp)
        test_curve(tmp)
        test_key_files(tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print("python: segd masks %dx%d (%s) with status and end-of-stream; "
          "CURVE with key files admits only the listed client"
          % (m.width, m.height, ", ".join(m.labels)))
    return 0


sys.exit(main())
