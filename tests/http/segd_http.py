"""Helpers for the HTTP tests: run the real segd on a free port and talk to
it over loopback only. segd logs the address it bound ("status page on
http://127.0.0.1:PORT/"), so every test runs with [http] port = 0 and
tests can run in parallel."""
import http.client
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time

SKIP = 77


def fail(msg):
    print("FAIL: " + msg, file=sys.stderr)
    sys.exit(1)


def check(cond, msg):
    if not cond:
        fail(msg)


class Segd:
    """segd on the demo source (the astronaut photo: a person, so the
    masks are not empty), publishing on ipc:// in a temp dir."""

    def __init__(self, *sets, source="demo", port=0, name="cam-http"):
        self.dir = tempfile.mkdtemp(prefix="segd-http-")
        os.mkdir(os.path.join(self.dir, "etc"))
        model = os.path.join(os.environ["SEG_MODEL_DIR"],
                             "selfie_segmentation.tflite")
        args = [os.environ["SEGD"], "--config-dir",
                os.path.join(self.dir, "etc"),
                "--set", "segmenter.model=" + model,
                "--set", "source.type=" + source,
                "--set", "output.stream-name=" + name,
                "--set", "output.endpoint=ipc://%s/s.sock" % self.dir,
                "--set", "http.port=%d" % port]
        for s in sets:
            args += ["--set", s]
        env = dict(os.environ)
        env.pop("NOTIFY_SOCKET", None)
        self.lines = []
        self.url = None
        self.got_url = threading.Event()
        self.proc = subprocess.Popen(args, stderr=subprocess.PIPE, env=env,
                                     text=True)
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.proc.stderr:
            sys.stderr.write("segd| " + line)
            self.lines.append(line)
            m = re.search(r"status page on (http://\S+)", line)
            if m:
                self.url = m.group(1).rstrip("/")
                self.got_url.set()
        self.got_url.set()

    def wait_url(self, timeout=20):
        self.got_url.wait(timeout)
        check(self.url, "segd logged no status page address")
        return self.url

    def log(self):
        return "".join(self.lines)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                return self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                return self.proc.wait()
        return self.proc.returncode


def get(url, path, headers=None, method="GET"):
    """(status, headers, body) of one request; no exception on 4xx/5xx."""
    m = re.match(r"http://([^/]+)$", url)
    conn = http.client.HTTPConnection(m.group(1), timeout=10)
    try:
        conn.request(method, path, headers=headers or {})
        r = conn.getresponse()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read()
    finally:
        conn.close()


def status(url):
    code, hdrs, body = get(url, "/api/status")
    check(code == 200, "/api/status: HTTP %d" % code)
    check(hdrs.get("content-type", "").startswith("application/json"),
          "/api/status content type %r" % hdrs.get("content-type"))
    return json.loads(body)


def wait_masks(url, n=10, timeout=40):
    end = time.monotonic() + timeout
    st = None
    while time.monotonic() < end:
        st = status(url)
        if st["streams"][0]["masks"] >= n and st["streams"][0]["model"]:
            return st
        time.sleep(0.3)
    fail("no %d masks within %d s: %s" % (n, timeout, st))
