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
skip () { echo "boot-test: SKIP: $*"; exit 77; }

[ "$(id -u)" -eq 0 ] || skip "needs root (debootstrap, systemd-nspawn)"
command -v systemd-nspawn >/dev/null || skip "systemd-nspawn is not installed (systemd-container)"
base=$("$here/make-root.sh") || { rc=$?; [ $rc -eq 77 ] && skip "no Debian root"; exit $rc; }

work=$(mktemp -d /var/tmp/segd-boot-XXXXXX)
cleanup () { [ -n "${SEGD_BOOT_KEEP:-}" ] || rm -rf "$work"; }
trap cleanup EXIT INT TERM
root="$work/root"
echo "boot-test: copying $base"
cp -a "$base" "$root"

echo "boot-test: installing with scripts/install into the root"
DESTDIR="$root" BUILDDIR="${SEGD_BOOT_BUILDDIR:-$top/build-release}" \
  "$top/scripts/install" >"$work/install.log" 2>&1 \
  || { tail -n 30 "$work/install.log"; echo "boot-test: install failed"; exit 1; }
systemctl --root="$root" enable segd.service
# A deterministic source (the root has no camera and no demo photo).
mkdir -p "$root/etc/segd/segd.conf.d"
printf '[source]\ntype=test\n' > "$root/etc/segd/segd.conf.d/10-ci.conf"

install -D -m 755 "$here/in-container.sh" "$root/usr/local/lib/segd-ci/check"
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
cat > "$root/etc/systemd/system/segd-ci-check.service" <<'UNIT'
[Unit]
Description=segd boot test
After=multi-user.target segd.service
[Service]
Type=oneshot
ExecStart=/usr/local/lib/segd-ci/check
StandardOutput=journal+console
StandardError=journal+console
[Install]
WantedBy=multi-user.target
UNIT
systemctl --root="$root" enable segd-ci-check.service
mkdir "$work/out"

echo "boot-test: booting"
rc=0
timeout 600 systemd-nspawn --quiet --boot --register=no --keep-unit --console=pipe \
  --directory="$root" --machine=segd-ci --bind="$work/out:/segd-ci" \
  </dev/null >"$work/console.log" 2>&1 || rc=$?
grep -a ' check\[[0-9]*\]: ' "$work/out/journal.txt" 2>/dev/null \
  | sed 's/^.* check\[[0-9]*\]: /  /' || true
result=$(cat "$work/out/result" 2>/dev/null || echo "no result (nspawn exit $rc)")
echo "boot-test: $result"
if [ "$result" != PASS ]; then
  echo "--- console (last 60 lines)"
  tail -n 60 "$work/console.log"
  if [ -f "$work/out/journal.txt" ]; then
    echo "--- segd in the journal"
    grep -a 'segd' "$work/out/journal.txt" | tail -n 60
  fi
  exit 1
fi
