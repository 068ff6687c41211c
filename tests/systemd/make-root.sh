#!/bin/sh
# Builds (once) the Debian 12 root that tests/systemd/boot-test.sh boots with
# systemd-nspawn, and prints its path. The root lives outside the checkout,
# in $SEGD_CI_CACHE (default /var/cache/segd-ci), and is rebuilt only when
# this script's package list changes: a stamp file holds its checksum.
#
# The root gets the host's own apt sources and apt/certificate configuration,
# so it reaches exactly the mirrors the host does.
#
#   tests/systemd/make-root.sh            exit 0: path on stdout
#                                         exit 77: cannot be built here
set -eu

cache=${SEGD_CI_CACHE:-/var/cache/segd-ci}
root=$cache/bookworm
# What segd needs at run time, and what the test inside the container uses
# (useradd, runuser, timeout, ps). The build is installed on top of it.
base="systemd systemd-sysv dbus passwd util-linux procps"
packages="libglib2.0-0 libgstreamer1.0-0 libgstreamer-plugins-base1.0-0
  gstreamer1.0-plugins-base gstreamer1.0-plugins-good
  libzmq5 libzstd1 libsystemd0 libv4l-0 libgudev-1.0-0 zlib1g libpng16-16
  libjpeg62-turbo libsoup-3.0-0"

skip() { echo "make-root: $*" >&2; exit 77; }
[ "$(id -u)" -eq 0 ] || skip "needs root (debootstrap, chroot)"
command -v debootstrap >/dev/null || skip "debootstrap is not installed"

stamp=$(printf '%s\n' "$base" "$packages" | sha256sum | cut -c1-16)
if [ -f "$root/.segd-ci-stamp" ] && [ "$(cat "$root/.segd-ci-stamp")" = "$stamp" ]; then
  echo "$root"
  exit 0
fi

# The mirror the host itself uses (deb822 or one-line sources).
mirror=$(sed -n 's/^URIs: *\([^ ]*\).*/\1/p' /etc/apt/sources.list.d/*.sources 2>/dev/null \
  | grep -v security | head -n 1)
[ -n "$mirror" ] || mirror=$(awk '$1 == "deb" && $2 !~ /security/ { print $2; exit }' \
  /etc/apt/sources.list 2>/dev/null || true)
[ -n "$mirror" ] || skip "no Debian mirror in the host's apt sources"

mkdir -p "$cache"
rm -rf "$root.new"
echo "make-root: debootstrap bookworm from $mirror into $root (once)" >&2
# debootstrap resolves alternatives poorly (GStreamer's plugins pull in a
# D-Bus session bus through dconf), so it installs only the base and apt
# installs the rest inside.
debootstrap --variant=minbase --include="$(echo $base | tr ' ' ',')" \
  bookworm "$root.new" "$mirror" >"$cache/debootstrap.log" 2>&1 \
  || { tail -n 20 "$cache/debootstrap.log" >&2; skip "debootstrap failed (no mirror?)"; }

# The host's apt configuration and certificates, so apt inside works as here.
rm -f "$root.new/etc/apt/sources.list"
cp -a /etc/apt/sources.list.d/. "$root.new/etc/apt/sources.list.d/" 2>/dev/null || true
[ -f /etc/apt/sources.list ] && cp /etc/apt/sources.list "$root.new/etc/apt/"
cp -a /etc/apt/apt.conf.d/. "$root.new/etc/apt/apt.conf.d/"
cp -a /etc/ssl/certs/. "$root.new/etc/ssl/certs/" 2>/dev/null || true
cp /etc/resolv.conf "$root.new/etc/resolv.conf" 2>/dev/null || true

mount -t proc proc "$root.new/proc"
trap 'umount "$root.new/proc" 2>/dev/null || true' EXIT
if ! { chroot "$root.new" apt-get update -q \
      && DEBIAN_FRONTEND=noninteractive chroot "$root.new" \
        apt-get install -y -q --no-install-recommends $packages; } \
    >>"$cache/debootstrap.log" 2>&1; then
  tail -n 20 "$cache/debootstrap.log" >&2
  skip "apt-get install in the new root failed"
fi
chroot "$root.new" apt-get clean
umount "$root.new/proc"
trap - EXIT

# A container, not a machine: no getty on a console nobody reads.
chroot "$root.new" systemctl mask console-getty.service getty@tty1.service \
  systemd-timesyncd.service >/dev/null 2>&1 || true
echo segd-ci > "$root.new/etc/hostname"
echo "$stamp" > "$root.new/.segd-ci-stamp"
rm -rf "$root"
mv "$root.new" "$root"
echo "$root"
