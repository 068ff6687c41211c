#!/usr/bin/python3
"""Compares a tensor from the engine with a golden one from torch.

Usage: compare_npy.py EXPECTED.npy GOT.npy [--tol T]

Fails (exit 1) unless both load, have the same shape, hold only finite
values and differ by at most T (default 1e-4) everywhere; prints max |delta|
either way so a log shows how close a passing run was.
"""

import argparse
import sys

import numpy as np


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("expected")
    ap.add_argument("got")
    ap.add_argument("--tol", type=float, default=1e-4)
    args = ap.parse_args()

    want = np.load(args.expected)
    got = np.load(args.got)
    if want.shape != got.shape:
        print("FAIL: shape %s, expected %s" % (got.shape, want.shape))
        return 1
    if got.dtype != np.float32:
        print("FAIL: dtype %s, expected float32" % got.dtype)
        return 1
    if not np.all(np.isfinite(got)):
        print("FAIL: %d non-finite values" % int(np.sum(~np.isfinite(got))))
        return 1
    delta = np.abs(got.astype(np.float64) - want.astype(np.float64))
    worst = np.unravel_index(int(np.argmax(delta)), delta.shape)
    print("max |delta| = %.3g at %s (got %.6g, expected %.6g), mean %.3g, "
          "shape %s" % (delta[worst], worst, got[worst], want[worst],
                        delta.mean(), got.shape))
    if delta[worst] > args.tol:
        print("FAIL: max |delta| exceeds the tolerance %g" % args.tol)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
