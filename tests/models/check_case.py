#!/usr/bin/python3
"""One golden-tensor test: `seg run` a torch fixture, then compare.

Usage: check_case.py SEG FIXTURE_DIR CASE [--threads N]

Runs `seg run CASE.onnx --input-npy CASE.in.npy --output-npy ...` and
compare_npy.py against CASE.out.npy (torch's logits), and checks that
`seg info` describes the model. Exits 77 (skipped) when gen_fixtures.py did
not write the case, which it does when torch cannot export it.
"""

import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))


def main():
    if len(sys.argv) not in (4, 6):
        sys.exit("usage: check_case.py SEG FIXTURE_DIR CASE [--threads N]")
    seg, fixtures, case = sys.argv[1:4]
    extra = sys.argv[4:]
    with open(os.path.join(fixtures, "manifest.txt")) as f:
        if case not in f.read().split():
            print("SKIP: %s was not generated (see gen_fixtures.py's "
                  "output)" % case)
            return 77
    base = os.path.join(fixtures, case)
    model = base + ".onnx"

    info = subprocess.run([seg, "info", model], capture_output=True,
                          text=True)
    print(info.stdout + info.stderr, end="")
    if info.returncode != 0:
        print("FAIL: seg info exited %d" % info.returncode)
        return 1
    for needle in ("format:       ONNX, layout NCHW", "ops:          ",
                   "Conv:"):
        if needle not in info.stdout:
            print("FAIL: seg info output lacks %r" % needle)
            return 1

    with tempfile.TemporaryDirectory() as tmp:
        got = os.path.join(tmp, "out.npy")
        cmd = [seg, "run", model, "--input-npy", base + ".in.npy",
               "--output-npy", got] + extra
        print("+ " + " ".join(cmd))
        run = subprocess.run(cmd)
        if run.returncode != 0:
            print("FAIL: seg run exited %d" % run.returncode)
            return 1
        cmp = subprocess.run(["/usr/bin/python3",
                              os.path.join(HERE, "compare_npy.py"),
                              base + ".out.npy", got])
        return cmp.returncode


if __name__ == "__main__":
    sys.exit(main())
