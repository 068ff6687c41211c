"""python3 -m segmask ENDPOINT... [--stream NAME] [--count N]: prints one
line per mask (stream, seq, size, latency, coverage per class)."""
import argparse
import sys

from . import Curve, EndOfStream, Mask, Subscriber


def main(argv=None):
    ap = argparse.ArgumentParser(prog="python3 -m segmask",
                                 description="Print the masks segd publishes.")
    ap.add_argument("endpoint", nargs="+")
    ap.add_argument("--stream", default=None)
    ap.add_argument("--count", type=int, default=-1)
    ap.add_argument("--timeout", type=float, default=10.0)
    ap.add_argument("--latest", action="store_true")
    ap.add_argument("--curve-server-key", metavar="KEY|FILE",
                    help="publisher public key (Z85 or key/certificate file)")
    ap.add_argument("--curve-client", metavar="FILE",
                    help="our secret certificate or Z85 secret key file")
    args = ap.parse_args(argv)

    curve = None
    if args.curve_server_key:
        curve = Curve(args.curve_server_key, args.curve_client)
    got = 0
    with Subscriber(args.endpoint, stream=args.stream, curve=curve,
                    latest_only=args.latest, timeout=args.timeout) as sub:
        try:
            for msg in sub:
                if isinstance(msg, EndOfStream):
                    if len(args.endpoint) == 1:
                        break
                    continue
                if not isinstance(msg, Mask):
                    continue
                got += 1
                if msg.data is None:
                    print("stream=%s seq=%d zstd (no zstandard module)"
                          % (msg.stream, msg.seq))
                else:
                    cov = " ".join("%s=%.1f%%" % (k, 100.0 * v)
                                   for k, v in msg.coverage().items())
                    print("stream=%s seq=%d size=%dx%d latency=%.1fms %s"
                          % (msg.stream, msg.seq, msg.width, msg.height,
                             msg.inference_ns / 1e6, cov), flush=True)
                if args.count >= 0 and got >= args.count:
                    break
        except TimeoutError:
            print("no mask within %.1f s" % args.timeout, file=sys.stderr)
            return 69
        if sub.stats.invalid:
            print("dropped %d malformed messages (last: %s)"
                  % (sub.stats.invalid, sub.last_error), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
