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

packages="gcc meson ninja-build pkg-config ca-certificates
  libpng-dev libjpeg-dev zlib1g-dev
  libglib2.0-dev libgstreamer1.0-dev libgstreamer-plugins-base1.0-dev
  gstreamer1.0-plugins-base gstreamer1.0-plugins-good gstreamer1.0-tools
  libzmq3-dev libzstd-dev libsystemd-dev libv4l-dev libgudev-1.0-dev systemd
  python3 python3-numpy python3-torch python3-torchvision python3-skimage
  python3-zmq python3-zstandard python-matplotlib-data"

missing=""
for p in $packages; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
done
command -v npm >/dev/null 2>&1 || missing="$missing npm"
if [ -n "$missing" ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "setup: missing packages:$missing (run as root to install them)" >&2
    exit 1
  fi
  echo "setup: installing$missing"
  apt-get update -q
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $missing
fi

"$top/scripts/fetch-models.sh" "$top/models"

cd "$top"
# Every part is required here, so a missing package fails the set-up
# instead of quietly building (and testing) less.
if [ ! -f "$builddir/build.ninja" ]; then
  meson setup "$builddir" -Dplugin=enabled -Dzmq=enabled -Dsystemd=enabled "$@"
fi
ninja -C "$builddir"
