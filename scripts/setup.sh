#!/bin/sh
# Prepares a Debian 12 machine (as root) or a developer checkout to build and
# test segd: installs the Debian packages the build and tests use, fetches
# the pinned default models (sha256-checked) into models/, and builds into
# build/. Safe to run again: each step skips what is already done.
#
#   scripts/setup.sh [BUILDDIR] [extra meson options...]
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
builddir=${1:-build}
[ $# -gt 0 ] && shift

. "$top/scripts/packages.sh"
ensure_packages setup $build_packages $test_packages

"$top/scripts/fetch-models.sh" "$top/models"

cd "$top"
# Every part is required here, so a missing package fails the set-up
# instead of quietly building (and testing) less; and a warning is an
# error, as in CI's sanitizer build.
if [ ! -f "$builddir/build.ninja" ]; then
  meson setup "$builddir" -Dplugin=enabled -Dzmq=enabled -Dsystemd=enabled \
    -Dwerror=true "$@"
fi
ninja -C "$builddir"
