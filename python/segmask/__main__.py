"""python3 -m segmask ENDPOINT... [--stream NAME] [--count N]: prints one
line per mask (stream, seq, size, latency, coverage per class).

The CURVE options are segd-sub's, read with the same rules; secret keys
only from files (a command line shows in `ps`). Everything the publisher
sent is escaped before it is printed, as segd-sub does. Exit status as
segd-sub's: 64 bad usage or key, 69 no mask within --timeout."""
import argparse
import sys

from . import (Curve, CurveKeyError, EndOfStream, Mask, Subscriber,
               printable)

EX_USAGE = 64
EX_UNAVAILABLE = 69


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        self.print_usage(sys.stderr)
        self.exit(EX_USAGE, "%s: error: %s\n" % (self.prog, message))


def _refuse(why):
    """An option segd-sub refuses: an action that says why and exits 64."""
    class Refuse(argparse.Action):
        def __call__(self, parser, namespace, values, option_string=None):
            print("%s: %s" % (parser.prog, why), file=sys.stderr)
            sys.exit(EX_USAGE)
    return Refuse


def main(argv=None):
    ap = _Parser(prog="python3 -m segmask",
                 description="Print the masks segd publishes.")
    ap.add_argument("endpoint", nargs="+")
    ap.add_argument("-s", "--stream", default=None)
    ap.add_argument("-n", "--count", type=int, default=-1)
    ap.add_argument("-t", "--timeout", type=float, default=10.0)
    ap.add_argument("-l", "--latest", action="store_true")
    ap.add_argument("--curve-server-key", metavar="KEY",
                    help="the publisher's public key (Z85)")
    ap.add_argument("--curve-server-key-file", metavar="FILE",
                    help="the publisher's public key file or certificate")
    ap.add_argument("--curve-secret-key-file", metavar="FILE",
                    help="our secret certificate or Z85 secret key file "
                    "(default with a server key: a fresh key pair)")
    ap.add_argument("--curve-secret-key", help=argparse.SUPPRESS, action=_refuse(
        "a secret key on the command line is visible to every user in ps; "
        "put it in a file (mode 0600) and use --curve-secret-key-file"))
    ap.add_argument("--curve-public-key", help=argparse.SUPPRESS, action=_refuse(
        "--curve-public-key is gone: the public key is derived from "
        "--curve-secret-key-file"))
    args = ap.parse_args(argv)
    if args.curve_server_key and args.curve_server_key_file:
        ap.error("give --curve-server-key or --curve-server-key-file, not both")

    curve = None
    if args.curve_server_key or args.curve_server_key_file \
            or args.curve_secret_key_file:
        if not (args.curve_server_key or args.curve_server_key_file):
            ap.error("CURVE needs --curve-server-key or --curve-server-key-file")
        try:
            curve = Curve(server_key=args.curve_server_key,
                          server_key_file=args.curve_server_key_file,
                          secret_key_file=args.curve_secret_key_file)
        except CurveKeyError as e:
            print("%s: %s" % (ap.prog, e), file=sys.stderr)
            return EX_USAGE
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
                          % (printable(msg.stream), msg.seq))
                else:
                    cov = " ".join("%s=%.1f%%" % (printable(str(k)), 100.0 * v)
                                   for k, v in msg.coverage().items())
                    print("stream=%s seq=%d size=%dx%d latency=%.1fms %s"
                          % (printable(msg.stream), msg.seq, msg.width,
                             msg.height, msg.inference_ns / 1e6, cov),
                          flush=True)
                if args.count >= 0 and got >= args.count:
                    break
        except TimeoutError:
            print("no mask within %.1f s" % args.timeout, file=sys.stderr)
            return EX_UNAVAILABLE
        if sub.stats.invalid:
            print("dropped %d malformed messages (last: %s)"
                  % (sub.stats.invalid, printable(sub.last_error or "")),
                  file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
