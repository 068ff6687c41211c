#!/bin/sh
# The service as users run it: installs segd into a Debian 12 root by the
# README's procedure (scripts/install with DESTDIR), enables segd.service,
# boots the root with systemd-nspawn --boot (systemd as PID 1), and lets
# tests/systemd/in-container.sh check the units from inside. Exit 0 when
# every check passed, 1 when one failed, 77 (skip) where no container can
# be booted here (not root, no nspawn, no debootstrap or mirror).
#
#   tests/systemd/boot-test.sh     (SEGD_CI_CACHE: where the root is kept)
set -eu

top=$(cd "$(dirname "$0")/../.." && pwd)
here="$top/tests/systemd"
me=boot-test
# shellcheck source=tests/systemd/boot-lib.sh
. "$here/boot-lib.sh"
boot_prepare "debootstrap, systemd-nspawn"

echo "boot-test: installing with scripts/install into the root"
DESTDIR="$root" BUILDDIR="${SEGD_BOOT_BUILDDIR:-$top/build-release}" \
  "$top/scripts/install" >"$work/install.log" 2>&1 \
  || { tail -n 30 "$work/install.log"; echo "boot-test: install failed"; exit 1; }
systemctl --root="$root" enable segd.service
boot_checks "segd boot test"
# A camera for segd@cam2, named by /dev/v4l/by-id: the tests' fake UVC
# webcam (tests/v4l2/fakecam.c), preloaded into that instance only.
if [ -n "${FAKECAM_SO:-}" ] && [ -f "$FAKECAM_SO" ]; then
  install -D -m 644 "$FAKECAM_SO" "$root/usr/local/lib/segd-ci/fakecam.so"
  install -D -m 644 "${SEG_TEST_IMAGE:?}" "$root/usr/local/lib/segd-ci/person.png"
  mkdir -p "$root/usr/local/lib/segd-ci/cams"
  echo "by-id=usb-Fake_Webcam_C920_0001-video-index0" \
    > "$root/usr/local/lib/segd-ci/cams/video0"
  mkdir -p "$root/etc/systemd/system/segd@cam2.service.d"
  cat > "$root/etc/systemd/system/segd@cam2.service.d/fakecam.conf" <<'DROPIN'
[Service]
Environment=LD_PRELOAD=/usr/local/lib/segd-ci/fakecam.so
Environment=FAKECAM_DIR=/usr/local/lib/segd-ci/cams
Environment=FAKECAM_SCENE=/usr/local/lib/segd-ci/person.png
DROPIN
  printf '[source]\ntype=v4l2\ndevice=/dev/v4l/by-id/usb-Fake_Webcam_C920_0001-video-index0\n' \
    > "$root/etc/segd/cam2.conf"
fi
boot_run segd-ci
