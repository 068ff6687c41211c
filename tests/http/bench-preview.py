#!/usr/bin/python3
"""What the status page costs segd, in CPU time of the segd process alone
(utime + stime from /proc/PID/stat) over the same window, on the demo
source at 640x480 and 30 fps:

  http off       [http] enabled = false: the baseline
  nobody looks   the server and its probes, no request
  polled         /api/status and the preview fetched once a second, as
                 the page does
  page open      the page itself in headless Chromium (skipped without it)

Usage: bench-preview.py [SECONDS]   (default 20 per window)
"""
import os
import shutil
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from segd_http import Segd, get, wait_masks  # noqa: E402

TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def measure(segd, seconds, during=None):
    t0, c0 = time.monotonic(), cpu_seconds(segd.proc.pid)
    end = t0 + seconds
    while time.monotonic() < end:
        if during:
            during()
        time.sleep(max(0.0, min(1.0, end - time.monotonic())))
    return (cpu_seconds(segd.proc.pid) - c0) / (time.monotonic() - t0)


def run(label, seconds, *sets, during=None, page=False):
    segd = Segd(*sets)
    browser = None
    try:
        if "http.enabled=false" in sets:
            time.sleep(6)
        else:
            url = segd.wait_url()
            wait_masks(url, 30)
            time.sleep(2)
        if page:
            sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
            import importlib
            tp = importlib.import_module("test-page")
            browser = tp.Browser()
            browser.call("Page.navigate", url=url + "/")
            time.sleep(2)
        cb = (lambda: (get(url, "/api/status"),
                       get(url, "/streams/0/preview.jpg"))) if during else None
        cpu = measure(segd, seconds, cb)
        print("%-14s segd CPU %5.1f %% of one core" % (label, 100 * cpu),
              flush=True)
        return cpu
    finally:
        if browser:
            browser.close()
        segd.stop()


def main():
    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 20
    off = run("http off", seconds, "http.enabled=false")
    idle = run("nobody looks", seconds)
    polled = run("polled 1/s", seconds, during=True)
    print("nobody looks - http off: %+.1f %% of a core; polled - nobody "
          "looks: %+.1f %%" % (100 * (idle - off), 100 * (polled - idle)))
    if shutil.which("chromium"):
        page = run("page open", seconds, page=True)
        print("page open - nobody looks: %+.1f %% of a core"
              % (100 * (page - idle)))


if __name__ == "__main__":
    main()
