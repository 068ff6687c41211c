#!/usr/bin/python3
"""Side-by-side benchmark: segd against ONNX Runtime on the same ONNX file.

For LR-ASPP MobileNetV3-Large at 256x256 and 520x520 with 1 and 2 threads,
segd (`seg bench --per-run`) and ONNX Runtime (ort-bench.js, the npm CPU
build) run in alternating batches, each batch in a fresh process with its
own warm-up, until both have at least --runs timed runs. Interleaving means
a burst of load from other processes hits both sides alike, so the ratio
is steadier than either time. The MediaPipe selfie models (TFLite: ONNX
Runtime cannot read them) are timed for segd alone.

Needs Debian's python3 with torch + torchvision (to export the ONNX files,
cached in --cache) and node with bench/node_modules/onnxruntime-node
(`cd bench && npm install --ignore-scripts`). Exits 77 (skip) when either is
missing.
"""
import argparse
import os
import re
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SKIP = 77


def loadavg():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def run(cmd):
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       text=True)
    if p.returncode != 0:
        sys.exit("bench: %s failed (%d): %s" % (" ".join(cmd), p.returncode,
                                                p.stderr.strip()))
    return p.stdout


def seg_batch(seg, model, size, threads, iters, warmup):
    cmd = [seg, "bench", model, "--threads", str(threads), "--iters",
           str(iters), "--warmup", str(warmup), "--per-run"]
    if size:
        cmd += ["--size", "%dx%d" % size]
    out = run(cmd)
    times = [float(m) for m in re.findall(r"^run:\s+([0-9.]+)", out, re.M)]
    act = int(re.search(r"^activations:\s+(\d+)", out, re.M).group(1))
    rss = int(re.search(r"^peak RSS:\s+(\d+)", out, re.M).group(1))
    macs = int(re.search(r"2 x (\d+) MACs", out).group(1))
    return times, act, rss, macs


def ort_batch(model, size, threads, iters, warmup):
    out = run(["node", os.path.join(HERE, "ort-bench.js"), model,
               str(size), str(threads), str(iters), str(warmup)])
    times = [float(m) for m in re.findall(r"^run ([0-9.]+)", out, re.M)]
    rss = int(re.search(r"^maxrss (\d+)", out, re.M).group(1))
    return times, rss


def export_lraspp(cache, size):
    path = os.path.join(cache, "lraspp-large-%d.onnx" % size)
    if not os.path.exists(path):
        tmp = path + ".tmp"
        run(["/usr/bin/python3", os.path.join(HERE, "make_lraspp.py"),
             str(size), tmp])
        os.replace(tmp, path)
    return path


def have_prereqs():
    try:
        subprocess.run(["/usr/bin/python3", "-c",
                        "import torch, torchvision, onnx"], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        subprocess.run(["node", "-e", "require('onnxruntime-node')"],
                       check=True, cwd=HERE, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
    except (OSError, subprocess.CalledProcessError):
        return False
    return True


def fma_peak(exe):
    """(ISA the engine uses, its 1-thread FMA peak in GFLOP/s) from
    bench-peak, or None if it did not say."""
    out = subprocess.run([exe], capture_output=True, text=True,
                         check=True).stdout
    isa = re.search(r"^engine: (\S+)", out, re.M)
    if not isa:
        return None
    gf = re.search(r"^peak %s: ([0-9.]+)" % re.escape(isa.group(1)), out,
                   re.M)
    return (isa.group(1), float(gf.group(1))) if gf else None


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seg", required=True, help="the seg tool")
    ap.add_argument("--cache", required=True,
                    help="directory for the exported ONNX files")
    ap.add_argument("--model-dir", default=os.path.join(HERE, "..", "models"),
                    help="where the MediaPipe .tflite files are")
    ap.add_argument("--runs", type=int, default=20,
                    help="timed runs per side and cell (default 20)")
    ap.add_argument("--batch", type=int, default=5,
                    help="timed runs per process (default 5)")
    ap.add_argument("--warmup", type=int, default=2,
                    help="untimed runs at the start of each process")
    ap.add_argument("--sizes", default="256,520")
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--peak", help="bench-peak, to print segd's GFLOP/s as a "
                    "share of this core's FMA peak")
    args = ap.parse_args()

    if not have_prereqs():
        print("bench: skipped: needs /usr/bin/python3 with torch and "
              "torchvision, and node with onnxruntime-node in bench/")
        return SKIP
    os.makedirs(args.cache, exist_ok=True)
    sizes = [int(s) for s in args.sizes.split(",")]
    threads = [int(t) for t in args.threads.split(",")]
    print("load average before: %s (%d CPUs)" % (loadavg(), os.cpu_count()))
    t_start = time.time()
    peak = fma_peak(args.peak) if args.peak else None

    rows = []
    for size in sizes:
        model = export_lraspp(args.cache, size)
        for t in threads:
            seg_t, ort_t = [], []
            seg_rss = ort_rss = act = macs = 0
            turn = 0
            while len(seg_t) < args.runs or len(ort_t) < args.runs:
                # Alternate who goes first so neither side always gets the
                # freshly idle machine.
                order = ("seg", "ort") if turn % 2 == 0 else ("ort", "seg")
                for side in order:
                    if side == "seg" and len(seg_t) < args.runs:
                        tt, act, rss, macs = seg_batch(args.seg, model, None,
                                                       t, args.batch,
                                                       args.warmup)
                        seg_t += tt
                        seg_rss = max(seg_rss, rss)
                    elif side == "ort" and len(ort_t) < args.runs:
                        tt, rss = ort_batch(model, size, t, args.batch,
                                            args.warmup)
                        ort_t += tt
                        ort_rss = max(ort_rss, rss)
                turn += 1
            ms, mo = statistics.median(seg_t), statistics.median(ort_t)
            rows.append((size, t, len(seg_t), ms, mo, 2 * macs / ms * 1e-6,
                         act, seg_rss, ort_rss))

    print()
    print("LR-ASPP MobileNetV3-Large, 21 classes (median ms/frame)")
    print("| input | thr | runs | segd ms | ORT ms | segd/ORT | segd GFLOP/s "
          "| segd act. MB | segd RSS MB | ORT RSS MB |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for (size, t, n, ms, mo, gf, act, srss, orss) in rows:
        print("| %dx%d | %d | %d | %.2f | %.2f | %.3f | %.1f | %.2f | %.1f "
              "| %.1f |" % (size, size, t, n, ms, mo, ms / mo, gf, act / 1e6,
                            srss / 1024, orss / 1024))
    if peak:
        isa, gflops = peak
        print()
        print("FP32 FMA peak of one core, %s (bench-peak): %.1f GFLOP/s"
              % (isa, gflops))
        for (size, t, n, ms, mo, gf, act, srss, orss) in rows:
            if t == 1:
                print("  segd %dx%d, 1 thread: %.1f GFLOP/s = %.0f%% of peak"
                      % (size, size, gf, 100 * gf / gflops))

    mp = [("selfie square", "selfie_segmentation.tflite"),
          ("selfie landscape", "selfie_segmentation_landscape.tflite")]
    mrows = []
    for label, name in mp:
        path = os.path.join(args.model_dir, name)
        if not os.path.exists(path):
            print("(%s: %s missing, run scripts/fetch-models.sh)"
                  % (label, path))
            continue
        for t in threads:
            tt, act, rss, macs = seg_batch(args.seg, path, None, t,
                                           max(args.runs, 50), 5)
            mrows.append((label, t, len(tt), statistics.median(tt), act, rss))
    if mrows:
        print()
        print("MediaPipe selfie segmentation (segd only; median ms/frame)")
        print("| model | thr | runs | segd ms | act. KB | RSS MB |")
        print("|---|---|---|---|---|---|")
        for (label, t, n, ms, act, rss) in mrows:
            print("| %s | %d | %d | %.3f | %.0f | %.1f |"
                  % (label, t, n, ms, act / 1e3, rss / 1024))
    print()
    print("load average after: %s; %.0f s" % (loadavg(), time.time() - t_start))
    return 0


if __name__ == "__main__":
    sys.exit(main())
