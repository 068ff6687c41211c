#!/usr/bin/python3
"""What the status page costs segd, in CPU time of the segd process alone
(utime + stime from /proc/PID/stat) over the same window, on the demo
source at 640x480 and 30 fps:

  http off       [http] enabled = false: the baseline
  nobody looks   the server and its probes, no request
  polled         /api/status and the preview fetched once a second, as
                 the page does
  page open      the page itself in headless Chromium (skipped without it)

Usage: bench-preview.py [SECONDS [ROUNDS]]   (default 3 rounds of 10 s)
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


def started(*sets):
    segd = Segd(*sets)
    if "http.enabled=false" in sets:
        time.sleep(6)
    else:
        wait_masks(segd.wait_url(), 30)
        time.sleep(2)
    return segd


def main():
    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 10
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    pct = lambda xs: "%5.1f %%" % (100 * sorted(xs)[len(xs) // 2])

    segd = started("http.enabled=false")
    try:
        off = [measure(segd, seconds) for _ in range(rounds)]
    finally:
        segd.stop()
    print("http off        segd CPU %s of one core (median of %d x %g s)"
          % (pct(off), rounds, seconds), flush=True)

    # One process, windows alternating, so that the machine's other load
    # and segd's warm-up fall on both sides alike.
    segd = started()
    url = segd.url
    poll = lambda: (get(url, "/api/status"), get(url, "/streams/0/preview.jpg"))
    idle, polled, page, blank = [], [], [], []
    browser = None
    try:
        for _ in range(rounds):
            idle.append(measure(segd, seconds))
            polled.append(measure(segd, seconds, poll))
        print("nobody looks    segd CPU %s" % pct(idle), flush=True)
        print("polled 1/s      segd CPU %s (what the page requests)"
              % pct(polled), flush=True)
        if shutil.which("chromium"):
            import importlib
            browser = importlib.import_module("test-page").Browser()
            for _ in range(rounds):
                browser.call("Page.navigate", url=url + "/")
                page.append(measure(segd, seconds))
                browser.call("Page.navigate", url="about:blank")
                blank.append(measure(segd, seconds))
            print("page open       segd CPU %s" % pct(page), flush=True)
            print("page closed     segd CPU %s (browser still running)"
                  % pct(blank), flush=True)
    finally:
        if browser:
            browser.close()
        segd.stop()


if __name__ == "__main__":
    main()
