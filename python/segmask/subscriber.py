"""A subscriber to one or more segd publishers (python3-zmq), with the
bookkeeping docs/protocol.md asks for: validation of everything received,
sequence gaps and replays per stream, and optionally latest-only."""
import time

import numpy
import zmq

from . import protocol
from .curve import Curve
from .protocol import Invalid


class Message:
    """Header fields as attributes (stream, seq, session, width, height,
    stride, labels, model_name, model_sha256, inference_ns, ...); the
    whole header dict is `header`."""

    def __init__(self, header):
        self.header = header

    def __getattr__(self, name):
        try:
            return self.__dict__["header"][name]
        except KeyError:
            raise AttributeError(name) from None

    def __repr__(self):
        return "<%s %s seq=%d>" % (type(self).__name__, self.header["stream"],
                                   self.header["seq"])


class Mask(Message):
    """One mask. `data` is a read-only uint8 numpy array of shape
    (height, width) (class indexes or 0..255 probabilities, see `kind`),
    or None for a zstd mask when python3-zstandard is not installed.
    `raw` holds the decoded bytes with the row stride."""

    def __init__(self, header, raw):
        super().__init__(header)
        self.raw = raw
        if raw is None:
            self.data = None
        else:
            a = numpy.frombuffer(raw, numpy.uint8)
            self.data = a.reshape(header["height"], header["stride"])[:, :header["width"]]

    @property
    def is_classes(self):
        return self.header["kind"] == protocol.KIND_CLASSES

    def coverage(self):
        """Fraction of pixels per class (label, or index without labels),
        for class maps; for probability masks the share above 127."""
        if self.data is None:
            return {}
        total = self.data.size
        if not self.is_classes:
            return {"foreground": float((self.data > 127).sum()) / total}
        counts = numpy.bincount(self.data.ravel(), minlength=1)
        names = self.header["labels"]
        return {(names[i] if i < len(names) else i): float(n) / total
                for i, n in enumerate(counts) if n}


class Status(Message):
    """A status message: `text` is the key=value payload, `values` the dict."""

    def __init__(self, header, text):
        super().__init__(header)
        self.text = text
        self.values = protocol.parse_status(text)


class EndOfStream(Message):
    """The publisher's pipeline reached its end."""


class Stats:
    """Counters as in the C library's segmask_sub_stats."""

    def __init__(self):
        self.received = 0     # valid masks, status and EOS delivered
        self.invalid = 0      # messages rejected as malformed
        self.missed = 0       # sequence gaps: masks never received
        self.duplicates = 0   # replays already seen, dropped
        self.skipped = 0      # older masks skipped by latest_only

    def __repr__(self):
        return "Stats(%s)" % ", ".join("%s=%d" % kv for kv in vars(self).items())


class Subscriber:
    """Subscribes to masks (and optionally status) of segd publishers.

        sub = Subscriber("ipc:///run/segd/segd.sock", stream="segd")
        for msg in sub:                      # Mask, Status, EndOfStream
            print(msg.seq, msg.data.shape, msg.coverage())

    endpoints: one endpoint or a list (several segd instances at once).
    stream: only this stream (exact name; None: every stream).
    curve: a segmask.Curve, or a dict of Curve's arguments.
    status: also deliver Status messages.
    latest_only: drain what is queued and deliver only the newest mask.
    timeout: seconds iteration waits for a message before raising
        TimeoutError (None: forever).
    Malformed messages are dropped and counted (stats.invalid, last_error).
    """

    def __init__(self, endpoints, stream=None, curve=None, status=False,
                 latest_only=False, timeout=None, max_raw=protocol.MAX_RAW,
                 rcvhwm=0, context=None):
        if isinstance(endpoints, (str, bytes)):
            endpoints = [endpoints]
        if not endpoints:
            raise ValueError("no endpoint")
        if isinstance(curve, dict):
            curve = Curve(**curve)
        self.stream = stream or None
        self.status = status
        self.latest_only = latest_only
        self.timeout = timeout
        self.max_raw = max_raw or protocol.MAX_RAW
        self.stats = Stats()
        self.last_error = None
        self._tracks = {}
        self._held = None
        self._sock = (context or zmq.Context.instance()).socket(zmq.SUB)
        self._sock.setsockopt(zmq.LINGER, 0)
        if rcvhwm:
            self._sock.setsockopt(zmq.RCVHWM, rcvhwm)
        if curve is not None:
            curve.apply(self._sock)
        name = self.stream or ""
        self._sock.setsockopt(zmq.SUBSCRIBE, b"mask/" + name.encode())
        if status:
            self._sock.setsockopt(zmq.SUBSCRIBE, b"status/" + name.encode())
        for ep in endpoints:
            self.connect(ep)

    def connect(self, endpoint):
        """Connects to one more publisher."""
        self._sock.connect(endpoint)

    @property
    def socket(self):
        """The zmq SUB socket (e.g. to poll it with others)."""
        return self._sock

    def close(self):
        self._sock.close(0)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __iter__(self):
        while True:
            msg = self.recv(self.timeout)
            if msg is None:
                raise TimeoutError("no message within %s s" % self.timeout)
            yield msg

    def recv(self, timeout=None):
        """The next valid message (Mask, Status or EndOfStream), or None
        when nothing valid arrived within `timeout` seconds (None: wait)."""
        if self._held is not None:
            msg, self._held = self._held, None
            return msg
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            left = None if deadline is None else max(0.0, deadline - time.monotonic())
            if not self._sock.poll(None if left is None else int(left * 1000)):
                return None
            msg = self._receive_one()
            if msg is None:
                continue
            if self.latest_only and isinstance(msg, Mask):
                msg = self._drain(msg)
            return msg

    def _drain(self, newest):
        """Takes whatever is queued; keeps the newest mask, holds back a
        status or end-of-stream for the next recv()."""
        while self._held is None and self._sock.poll(0):
            msg = self._receive_one()
            if msg is None:
                continue
            if isinstance(msg, Mask):
                self.stats.skipped += 1
                self.stats.received -= 1
                newest = msg
            else:
                self._held = msg
        return newest

    def _reject(self, why):
        self.stats.invalid += 1
        self.last_error = why

    def _track(self, h):
        """False for a replay of a mask already seen in the same session."""
        t = self._tracks.get(h["stream"])
        if t is not None and t[0] == h["session"]:
            if h["seq"] <= t[1]:
                return False
            self.stats.missed += h["seq"] - t[1] - 1
        self._tracks[h["stream"]] = (h["session"], h["seq"])
        return True

    def _receive_one(self):
        try:
            frames = self._sock.recv_multipart(zmq.NOBLOCK, copy=False)
        except zmq.Again:
            return None
        if len(frames) != 3:
            self._reject("message does not have three frames")
            return None
        topic, hdr, payload = (f.buffer for f in frames)
        try:
            h = protocol.check_message(topic, hdr, len(payload), self.max_raw)
        except Invalid as e:
            self._reject(str(e))
            return None
        if self.stream is not None and h["stream"] != self.stream:
            return None   # a prefix match such as mask/cam2 for mask/cam
        if h["type"] == protocol.MASK:
            if not self._track(h):
                self.stats.duplicates += 1
                return None
            try:
                msg = Mask(h, protocol.decode_payload(h, payload))
            except Invalid as e:
                self._reject(str(e))
                return None
        elif h["type"] == protocol.STATUS:
            msg = Status(h, bytes(payload).decode("utf-8", "replace"))
        else:
            msg = EndOfStream(h)
        self.stats.received += 1
        return msg
