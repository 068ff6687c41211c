#!/usr/bin/python3
"""segd's HTTP side against the real daemon: `test-http.py CASE`.

metrics   /metrics parsed with the Prometheus client's own text parser
status    /api/status parsed as JSON; methods, unknown paths, Host checks
preview   the JPEG: live, decodable, with the mask tinted in
config    [http] enabled = false, a bad listen, a port already taken
waiting   a missing camera: states, no password shown, no preview yet
stalled   a source that stops: states, the last picture marked stale
"""
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from segd_http import Segd, check, fail, get, status, wait_masks  # noqa: E402


def families(url):
    from prometheus_client.parser import text_string_to_metric_families

    code, hdrs, body = get(url, "/metrics")
    check(code == 200, "/metrics: HTTP %d" % code)
    check(hdrs["content-type"].startswith("text/plain; version=0.0.4"),
          "/metrics content type %r" % hdrs["content-type"])
    return {f.name: f for f in text_string_to_metric_families(body.decode())}


def value(fams, family, sample=None, **labels):
    f = fams.get(family)
    check(f is not None, "no metric family %s" % family)
    for s in f.samples:
        if (sample is None or s.name == sample) and all(
                s.labels.get(k) == v for k, v in labels.items()):
            return s.value
    fail("%s%s: no sample with %s" % (family, sample or "", labels))


def case_metrics():
    segd = Segd()
    try:
        url = segd.wait_url()
        wait_masks(url, 20)
        fams = families(url)
        stream = {"stream": "cam-http"}
        # The parser names a counter's family without _total.
        types = {
            "segd_build_info": "gauge", "segd_start_time_seconds": "gauge",
            "segd_frames": "counter", "segd_inferences": "counter",
            "segd_inferences_skipped": "counter", "segd_masks": "counter",
            "segd_dropped_frames": "counter",
            "segd_published_bytes": "counter",
            "segd_inference_seconds": "histogram",
            "segd_capture_to_publish_seconds": "histogram",
            "segd_subscribers": "gauge", "segd_camera_state": "gauge",
            "segd_model_state": "gauge", "segd_model_info": "gauge",
        }
        for name, t in types.items():
            check(name in fams, "missing %s" % name)
            check(fams[name].type == t, "%s is a %s, not a %s"
                  % (name, fams[name].type, t))
            check(fams[name].documentation, "%s has no HELP" % name)
            for s in fams[name].samples:
                check(s.name.startswith("segd_"), "sample %s" % s.name)
        for name, f in fams.items():
            if f.type == "counter":
                check(all(s.name.endswith("_total") or
                          s.name.endswith("_created") for s in f.samples),
                      "counter %s without _total" % name)
        bi = fams["segd_build_info"].samples[0]
        check(bi.labels["version"] and bi.labels["gstreamer"].startswith("1.")
              and bi.labels["libsoup"].startswith("3."),
              "build info %s" % bi.labels)

        frames = value(fams, "segd_frames", **stream)
        masks = value(fams, "segd_masks", **stream)
        infer = value(fams, "segd_inferences", **stream)
        check(frames >= masks >= 20, "frames %d masks %d" % (frames, masks))
        check(infer >= 1, "inferences %d" % infer)
        check(value(fams, "segd_published_bytes", **stream) > 0,
              "no published bytes")
        check(value(fams, "segd_subscribers", **stream) == 0, "subscribers")
        check(value(fams, "segd_camera_state", state="ok", **stream) == 1,
              "camera not ok")
        check(value(fams, "segd_camera_state", state="waiting", **stream)
              == 0, "camera waiting")
        check(value(fams, "segd_model_state", state="ok", **stream) == 1,
              "model not ok")
        check(value(fams, "segd_model_info", model="selfie_segmentation."
                    "tflite", **stream) == 1, "model info")

        for h in ("segd_inference_seconds",
                  "segd_capture_to_publish_seconds"):
            buckets = [(float(s.labels["le"]), s.value)
                       for s in fams[h].samples if s.name == h + "_bucket"]
            check(buckets == sorted(buckets), "%s buckets out of order" % h)
            counts = [c for _, c in buckets]
            check(counts == sorted(counts), "%s not cumulative" % h)
            check(buckets[-1][0] == float("inf"), "%s has no +Inf" % h)
            count = value(fams, h, h + "_count", **stream)
            total = value(fams, h, h + "_sum", **stream)
            check(buckets[-1][1] == count > 0, "%s +Inf %s, count %s"
                  % (h, buckets[-1][1], count))
            check(0 < total / count < 1.0, "%s mean %s s" % (h, total / count))
        check(value(fams, "segd_capture_to_publish_seconds",
                    "segd_capture_to_publish_seconds_count", **stream)
              <= masks + 5, "more latencies than masks")

        # Counters only grow.
        time.sleep(1.5)
        later = families(url)
        for name in ("segd_frames", "segd_masks", "segd_inferences"):
            check(value(later, name, **stream) > value(fams, name, **stream),
                  "%s did not grow" % name)
        print("ok: %d families, %d frames, %d masks"
              % (len(fams), frames, masks))
    finally:
        check(segd.stop() == 0, "segd exit status")


def case_status():
    segd = Segd()
    try:
        url = segd.wait_url()
        st = wait_masks(url, 10)
        time.sleep(1.2)             # one STATUS tick for fps and latency
        st = status(url)
        check(st["segd"]["version"], "no version")
        check(st["segd"]["uptime_seconds"] > 0, "uptime")
        check(len(st["streams"]) == 1, "streams: %s" % st["streams"])
        s = st["streams"][0]
        expect = {"name": str, "state": str, "status": str, "source": str,
                  "camera_state": str, "model": str, "model_state": str,
                  "fps": (int, float), "inference_ms": (int, float),
                  "latency_ms": dict, "subscribers": int, "masks": int,
                  "frames": int, "inferences": int, "dropped": int,
                  "published_bytes": int, "preview": str}
        for k, t in expect.items():
            check(isinstance(s.get(k), t), "%s: %r" % (k, s.get(k)))
        check(s["name"] == "cam-http", "name %s" % s["name"])
        check(s["state"] == "streaming", "state %s" % s["state"])
        check(s["camera_state"] == "ok" and s["model_state"] == "ok",
              "states %s %s" % (s["camera_state"], s["model_state"]))
        check(s["camera_detail"] is None and s["model_error"] is None,
              "details")
        check(s["model"] == "selfie_segmentation.tflite", s["model"])
        check(s["fps"] > 1, "fps %s" % s["fps"])
        check(0 < s["latency_ms"]["p50"] <= s["latency_ms"]["p99"],
              "latency %s" % s["latency_ms"])
        check(s["frames"] >= s["masks"] > 0, "counts")
        check(s["source"].startswith("demo"), "source %s" % s["source"])

        port = url.rsplit(":", 1)[1]
        code, hdrs, body = get(url, "/")
        check(code == 200 and hdrs["content-type"].startswith("text/html"),
              "page: %d %s" % (code, hdrs.get("content-type")))
        check(b"/api/status" in body and b"<script" in body, "page body")
        check("default-src 'none'" in hdrs["content-security-policy"],
              "no CSP")
        check(b"http://" not in body.replace(b"http://www.w3.org", b"")
              and b"https://" not in body, "the page names an outside URL")
        check(get(url, "/nope")[0] == 404, "unknown path")
        check(get(url, "/api/status", method="POST")[0] == 405, "POST")
        check(get(url, "/api/status", method="HEAD")[0] == 200, "HEAD")
        # DNS rebinding: a foreign name is refused, addresses and
        # localhost are not.
        # (libsoup itself answers 400 to a malformed one.)
        for host, want in (("evil.example:" + port, (403,)),
                           ("evil.example", (403,)),
                           ("localhost:" + port, (200,)),
                           ("127.0.0.1:" + port, (200,)),
                           ("LOCALHOST", (200,)), ("[::1]:" + port, (200,)),
                           ("[::1]x", (400, 403))):
            got = get(url, "/api/status", headers={"Host": host})[0]
            check(got in want, "Host %s: HTTP %d, want %s" % (host, got, want))
        print("ok: %s" % s["status"])
    finally:
        check(segd.stop() == 0, "segd exit status")


def jpeg_size(data):
    """Width and height from a baseline JPEG's SOF0 segment."""
    check(data[:2] == b"\xff\xd8", "not a JPEG")
    i = 2
    while i < len(data):
        check(data[i] == 0xff, "bad JPEG segment")
        marker, length = data[i + 1], int.from_bytes(data[i + 2:i + 4], "big")
        if marker in (0xc0, 0xc1, 0xc2):
            return (int.from_bytes(data[i + 7:i + 9], "big"),
                    int.from_bytes(data[i + 5:i + 7], "big"))
        i += 2 + length
    fail("JPEG without a frame header")


def case_preview():
    segd = Segd()
    try:
        url = segd.wait_url()
        wait_masks(url, 10)
        code, hdrs, first = get(url, "/streams/0/preview.jpg")
        check(code == 200 and hdrs["content-type"] == "image/jpeg",
              "preview: %d %s" % (code, hdrs.get("content-type")))
        check(hdrs.get("x-segd-preview") == "live", "not live")
        check(hdrs.get("cache-control") == "no-store", "cacheable")
        check(jpeg_size(first) == (640, 480), "size %s" % (jpeg_size(first),))
        # Within half a second viewers share one picture; after it a new
        # frame (the demo source moves) makes a new one.
        check(get(url, "/streams/0/preview.jpg")[2] == first,
              "a second viewer got another encode at once")
        time.sleep(0.7)
        check(get(url, "/streams/0/preview.jpg")[2] != first,
              "the preview did not change")

        # The colour check (mask tinted green) needs a decoder: GStreamer,
        # with the system's plugins only (ours may be built with ASan,
        # which cannot be loaded into this Python).
        os.environ["GST_PLUGIN_PATH_1_0"] = ""
        os.environ.pop("GST_PLUGIN_SYSTEM_PATH_1_0", None)
        os.environ["GST_REGISTRY"] = os.path.join(segd.dir, "py-registry.bin")
        import gi
        gi.require_version("Gst", "1.0")
        from gi.repository import Gst
        Gst.init(None)
        pipe = Gst.parse_launch(
            "appsrc name=src caps=image/jpeg ! jpegdec ! videoconvert ! "
            "video/x-raw,format=RGB ! appsink name=sink")
        src, sink = pipe.get_by_name("src"), pipe.get_by_name("sink")
        pipe.set_state(Gst.State.PLAYING)
        src.emit("push-buffer", Gst.Buffer.new_wrapped(first))
        src.emit("end-of-stream")
        sample = sink.emit("pull-sample")
        ok, info = sample.get_buffer().map(Gst.MapFlags.READ)
        px = bytes(info.data)
        pipe.set_state(Gst.State.NULL)
        w, h = 640, 480
        stride = len(px) // h
        green = sum(1 for y in range(0, h, 4) for x in range(0, w, 4)
                    if px[y * stride + 3 * x + 1] >
                    px[y * stride + 3 * x] + 40 and px[y * stride + 3 * x + 1] >
                    px[y * stride + 3 * x + 2] + 40)
        frac = green / ((w // 4) * (h // 4))
        check(frac > 0.05, "only %.1f%% of the picture is tinted" % (100 * frac))
        print("ok: preview %d bytes, %.0f%% tinted" % (len(first), 100 * frac))
    finally:
        check(segd.stop() == 0, "segd exit status")


def case_config():
    import subprocess

    # Off: no server, no log line, the stream as usual.
    segd = Segd("http.enabled=false")
    try:
        time.sleep(4)
        check(segd.proc.poll() is None, "segd exited with http off")
        check("status page" not in segd.log(), "a page although disabled")
    finally:
        check(segd.stop() == 0, "segd exit status")

    # A name is not an address: configuration error, 78, naming the key.
    r = subprocess.run([os.environ["SEGD"], "--config-dir", "/nonexistent",
                        "--set", "http.listen=localhost", "--check-config"],
                       capture_output=True, text=True)
    check(r.returncode == 78 and "[http] listen" in r.stderr,
          "bad listen: %d %s" % (r.returncode, r.stderr))

    # A taken port: the second segd warns, naming the key, and streams on.
    first = Segd(source="test")
    try:
        port = int(first.wait_url().rsplit(":", 1)[1])
        second = Segd(source="test", port=port, name="cam-http-2")
        try:
            end = time.monotonic() + 20
            while "[http]" not in second.log() and time.monotonic() < end:
                time.sleep(0.2)
            check("warning: [http] listen = 127.0.0.1, port = %d" % port
                  in second.log(), "no warning naming [http] port")
            time.sleep(2)
            check(second.proc.poll() is None, "the second segd exited")
            check("source: " in second.log(), "the second segd did not start "
                  "its source")
        finally:
            check(second.stop() == 0, "second segd exit status")
        check(status(first.url)["streams"][0]["name"] == "cam-http",
              "the first page changed hands")
    finally:
        check(first.stop() == 0, "segd exit status")
    print("ok")


def case_waiting():
    """A camera that is not there (a refused rtsp:// connection): the page
    says waiting, camera_state network-error with the reason, and never
    shows the password of the camera's URI."""
    segd = Segd("source.uri=rtsp://alice:s3cret@127.0.0.1:9/cam",
                source="uri")
    try:
        url = segd.wait_url()
        end = time.monotonic() + 30
        while time.monotonic() < end:
            code, _, body = get(url, "/api/status")
            s = json.loads(body)["streams"][0]
            if s["state"] == "waiting":
                break
            time.sleep(0.3)
        check(s["state"] == "waiting"
              and s["camera_state"] == "network-error",
              "state %s/%s" % (s["state"], s["camera_state"]))
        check(b"s3cret" not in body, "the password is on the page: %s" % body)
        check("alice:***@127.0.0.1" in s["camera_detail"],
              "detail %r" % s["camera_detail"])
        check("network-error" in s["camera_detail"],
              "detail %r" % s["camera_detail"])
        # The reason stays while segd retries: every scrape says
        # network-error, with the set's other states 0.
        fams = families(url)
        states = {s.labels["state"]: s.value
                  for s in fams["segd_camera_state"].samples}
        check(states == {"ok": 0, "waiting": 0, "network-error": 1,
                         "blocked": 0, "idle": 0, "stalled": 0,
                         "stopping": 0}, "metrics: camera states %s" % states)
        # No frame yet: the preview answers 204, not an error.
        code = get(url, "/streams/0/preview.jpg")[0]
        check(code == 204, "preview without a frame: HTTP %d" % code)
        print("ok: %s" % s["camera_detail"])
    finally:
        check(segd.stop() == 0, "segd exit status")


def case_stalled():
    """A source that stops sending frames: stalled on the page and in
    /metrics, and the preview falls back to the last picture, marked."""
    segd = Segd("source.num-buffers=60", source="test")
    try:
        url = segd.wait_url()
        wait_masks(url, 5)
        code, hdrs, _ = get(url, "/streams/0/preview.jpg")
        check(code == 200 and hdrs["x-segd-preview"] == "live", "preview")
        end = time.monotonic() + 30
        while time.monotonic() < end:
            s = status(url)["streams"][0]
            if s["state"] == "stalled":
                break
            time.sleep(0.3)
        check(s["state"] == "stalled" and s["camera_state"] == "stalled",
              "state %s/%s" % (s["state"], s["camera_state"]))
        check(value(families(url), "segd_camera_state", state="stalled",
                    stream="cam-http") == 1, "metrics: not stalled")
        time.sleep(0.6)             # past the shared picture's half second
        code, hdrs, body = get(url, "/streams/0/preview.jpg")
        check(code == 200 and hdrs["x-segd-preview"] == "stale" and body,
              "stalled preview: %d %s" % (code, hdrs.get("x-segd-preview")))
        print("ok: %s" % s["status"])
    finally:
        check(segd.stop() == 0, "segd exit status")


CASES = {"metrics": case_metrics, "status": case_status,
         "preview": case_preview, "config": case_config,
         "waiting": case_waiting, "stalled": case_stalled}

if __name__ == "__main__":
    CASES[sys.argv[1]]()
