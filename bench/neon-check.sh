#!/bin/sh
# Cross-compiles the engine (segmenter/src, with the NEON kernels) and its
# kernel tests for arm64 with Debian's gcc-aarch64-linux-gnu, then runs the
# tests under qemu-user: the NEON kernels against the scalar reference and
# every op and fusion through them. The engine itself has no dependencies,
# so this needs no arm64 libraries beyond libc.
#
# Usage: bench/neon-check.sh [OUTDIR]   (default: build-neon)
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-$top/build-neon}
cc=${CC_AARCH64:-aarch64-linux-gnu-gcc}
qemu=${QEMU_AARCH64:-qemu-aarch64-static}
if ! command -v "$cc" >/dev/null; then
  echo "neon-check: $cc not found" >&2
  exit 77
fi
mkdir -p "$out"
flags="-std=c11 -D_GNU_SOURCE -O2 -Wall -Wextra -Wshadow -Wstrict-prototypes
  -Wmissing-prototypes -Wno-unused-parameter -fno-math-errno
  -fno-trapping-math -DSEG_KERNELS_HAVE_NEON
  -I$top/segmenter/src -I$top/segmenter/include"
srcs=$(find "$top/segmenter/src" -name '*.c' ! -name '*-avx2.c' \
  ! -name '*-avx512.c' | sort)
for t in microkernels ops-conv irb fuse graph; do
  # shellcheck disable=SC2086
  $cc $flags -o "$out/test-$t" "$top/tests/segmenter/test-$t.c" $srcs \
    -lm -lpthread
done
echo "neon-check: built $(ls "$out" | wc -l) tests with $cc"
if ! command -v "$qemu" >/dev/null; then
  echo "neon-check: $qemu not found; built only" >&2
  exit 0
fi
status=0
for t in microkernels ops-conv irb fuse graph; do
  if "$qemu" -L /usr/aarch64-linux-gnu "$out/test-$t" >"$out/test-$t.log" 2>&1
  then
    echo "test-$t: $(tail -1 "$out/test-$t.log")"
  else
    echo "test-$t: FAILED, see $out/test-$t.log" >&2
    status=1
  fi
done
exit $status
