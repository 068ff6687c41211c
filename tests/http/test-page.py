#!/usr/bin/python3
"""The status page in a real browser: headless Chromium (Debian's
`chromium`) driven over the DevTools protocol with Debian's
python3-websocket. Checks that the page loads with no console error or
exception, shows the stream with its state, fps and model, and that its
preview picture updates and has the mask tinted in; saves a screenshot.
Exits 77 (skip) when chromium or python3-websocket is missing.

Usage: test-page.py [SCREENSHOT.png]
"""
import base64
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from segd_http import SKIP, Segd, check, wait_masks  # noqa: E402

try:
    import websocket
except ImportError:
    print("SKIP: python3-websocket is not installed")
    sys.exit(SKIP)

CHROMIUM = shutil.which("chromium")
if not CHROMIUM:
    print("SKIP: chromium is not installed")
    sys.exit(SKIP)


class Browser:
    def __init__(self):
        self.profile = tempfile.mkdtemp(prefix="segd-chromium-")
        # As root Chromium needs --no-sandbox; the rest keep it from
        # reaching for the network or a GPU.
        self.proc = subprocess.Popen(
            [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu",
             "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update",
             "--disable-sync", "--disable-extensions",
             "--user-data-dir=" + self.profile,
             "--remote-debugging-address=127.0.0.1",
             "--remote-debugging-port=0", "--window-size=1100,900",
             "about:blank"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        port_file = os.path.join(self.profile, "DevToolsActivePort")
        end = time.monotonic() + 30
        while not os.path.exists(port_file) and time.monotonic() < end:
            check(self.proc.poll() is None, "chromium exited")
            time.sleep(0.1)
        with open(port_file) as f:
            port = int(f.readline())
        with urllib.request.urlopen("http://127.0.0.1:%d/json/list" % port,
                                    timeout=10) as r:
            pages = [t for t in json.load(r) if t["type"] == "page"]
        check(pages, "chromium has no page")
        self.ws = websocket.create_connection(
            pages[0]["webSocketDebuggerUrl"], timeout=10,
            suppress_origin=True)
        self.next_id = 0
        self.errors = []

    def _event(self, msg):
        method, p = msg.get("method"), msg.get("params", {})
        if method == "Runtime.consoleAPICalled" and p["type"] in (
                "error", "assert", "warning"):
            self.errors.append("console.%s: %s" % (p["type"], " ".join(
                str(a.get("value", a.get("description"))) for a in p["args"])))
        elif method == "Runtime.exceptionThrown":
            self.errors.append("exception: %s" % p["exceptionDetails"])
        elif method == "Log.entryAdded" and p["entry"]["level"] in (
                "error", "warning"):
            self.errors.append("log: %s %s" % (p["entry"]["text"],
                                               p["entry"].get("url", "")))

    def call(self, method, **params):
        self.next_id += 1
        self.ws.send(json.dumps({"id": self.next_id, "method": method,
                                 "params": params}))
        while True:
            msg = json.loads(self.ws.recv())
            if msg.get("id") == self.next_id:
                check("error" not in msg, "%s: %s" % (method, msg.get("error")))
                return msg["result"]
            self._event(msg)

    def pump(self, seconds):
        """Collects events for a while (the page runs meanwhile)."""
        end = time.monotonic() + seconds
        self.ws.settimeout(0.2)
        while time.monotonic() < end:
            try:
                self._event(json.loads(self.ws.recv()))
            except websocket.WebSocketTimeoutException:
                pass
        self.ws.settimeout(10)

    def eval(self, expr):
        r = self.call("Runtime.evaluate", expression=expr,
                      returnByValue=True, awaitPromise=True)
        check("exceptionDetails" not in r, "%s: %s" % (expr, r))
        return r["result"].get("value")

    def close(self):
        try:
            self.ws.close()
        finally:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
            shutil.rmtree(self.profile, ignore_errors=True)


# Share of sampled pixels of the picture that are clearly green: the tint.
TINT_JS = """(async () => {
  const img = document.querySelector('section.stream img');
  if (!img || !img.naturalWidth) return -1;
  const c = document.createElement('canvas');
  c.width = img.naturalWidth; c.height = img.naturalHeight;
  const g = c.getContext('2d');
  g.drawImage(img, 0, 0);
  const d = g.getImageData(0, 0, c.width, c.height).data;
  let n = 0, green = 0;
  for (let i = 0; i < d.length; i += 64) {
    n++;
    if (d[i + 1] > d[i] + 40 && d[i + 1] > d[i + 2] + 40) green++;
  }
  return green / n;
})()"""


def main():
    shot = sys.argv[1] if len(sys.argv) > 1 else None
    segd = Segd()
    browser = None
    try:
        url = segd.wait_url()
        wait_masks(url, 10)
        browser = Browser()
        browser.call("Runtime.enable")
        browser.call("Log.enable")
        browser.call("Page.enable")
        browser.call("Page.navigate", url=url + "/")
        browser.pump(4)

        names = browser.eval("[...document.querySelectorAll('section.stream')]"
                             ".map(s => s.dataset.stream)")
        check(names == ["cam-http"], "streams on the page: %s" % names)
        text = browser.eval("document.querySelector('section.stream')"
                            ".innerText")
        for want in ("streaming", "fps", "selfie_segmentation.tflite",
                     "Subscribers", "Capture → publish", "p99"):
            check(want in text, "the page does not show %r:\n%s" % (want, text))
        check(browser.eval("document.getElementById('conn').textContent")
              == "live", "the page is not live")

        first = int(browser.eval("document.querySelector('section.stream "
                                 "img').dataset.updates"))
        src = browser.eval("document.querySelector('section.stream img').src")
        browser.pump(3)
        later = int(browser.eval("document.querySelector('section.stream "
                                 "img').dataset.updates"))
        check(first >= 1 and later >= first + 2,
              "the picture did not update: %d then %d" % (first, later))
        check(browser.eval("document.querySelector('section.stream img').src")
              != src, "the picture's source did not change")
        tint = browser.eval(TINT_JS)
        check(tint > 0.05, "the picture shows no mask (%.3f green)" % tint)

        if shot:
            png = browser.call("Page.captureScreenshot", format="png")["data"]
            with open(shot, "wb") as f:
                f.write(base64.b64decode(png))
            print("screenshot: %s" % shot)
        browser.pump(0.5)
        check(not browser.errors, "console:\n  " + "\n  ".join(browser.errors))
        print("ok: %d picture updates in 3 s, %.0f%% of it tinted, no console "
              "error" % (later - first, 100 * tint))
    finally:
        if browser:
            browser.close()
        check(segd.stop() == 0, "segd exit status")


if __name__ == "__main__":
    main()
