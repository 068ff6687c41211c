# Sourced by scripts/setup.sh and scripts/install: the Debian packages segd
# needs, and one way to install the missing ones.

# To build and run segd (the daemon, the plugin, the libraries).
build_packages="gcc meson ninja-build pkg-config ca-certificates npm
  libpng-dev libjpeg-dev zlib1g-dev
  libglib2.0-dev libgstreamer1.0-dev libgstreamer-plugins-base1.0-dev
  gstreamer1.0-plugins-base gstreamer1.0-plugins-good gstreamer1.0-tools
  libzmq3-dev libzstd-dev libsystemd-dev libv4l-dev libgudev-1.0-dev systemd
  scdoc libsoup-3.0-dev"

# Only for the tests: reference outputs, photos, the Python client tests,
# the container the systemd boot test starts, and the status page's tests
# (a Prometheus parser, GStreamer from Python to decode the preview, a
# real browser driven over its DevTools socket).
test_packages="python3 python3-numpy python3-torch python3-torchvision
  python3-skimage python3-zmq python3-zstandard python-matplotlib-data
  debootstrap systemd-container
  python3-prometheus-client python3-gi gir1.2-gstreamer-1.0
  python3-websocket chromium"

# To build the Debian packages (scripts/package, tests/package) on top of
# the build packages.
package_packages="dpkg-dev debhelper dh-python fakeroot lintian xz-utils git"

# ensure_packages WHO PACKAGE...: installs what is missing (as root), or
# says what is missing and fails.
ensure_packages () {
  who=$1
  shift
  missing=""
  for p in "$@"; do
    # npm may come from outside Debian's archive; any npm will do.
    if [ "$p" = npm ]; then
      command -v npm >/dev/null 2>&1 || missing="$missing npm"
      continue
    fi
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" \
      || missing="$missing $p"
  done
  [ -n "$missing" ] || return 0
  if [ "$(id -u)" -ne 0 ]; then
    echo "$who: missing packages:$missing (run as root to install them)" >&2
    exit 1
  fi
  echo "$who: installing$missing"
  apt-get update -q
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $missing
}
