#!/bin/sh
# The packages installed the Debian way and booted: copies the Debian 12
# root of tests/systemd (make-root.sh), installs the runtime .debs with
# dpkg -i in it (postinst: systemd-sysusers creates segd, deb-systemd-helper
# enables segd.service), checks user and enablement, boots it with
# systemd-nspawn and runs tests/systemd/in-container.sh (the same checks
# as the boot test of scripts/install), then purges segd and checks that
# its conffile and unit links are gone. Exit 77 where no container can be
# booted (not root, no nspawn, no root image).
#
#   tests/package/boot-debs.sh DEBDIR
set -eu

top=$(cd "$(dirname "$0")/../.." && pwd)
debs=$(cd "$1" && pwd)
skip () { echo "boot-debs: SKIP: $*"; exit 77; }

[ "$(id -u)" -eq 0 ] || skip "needs root (chroot, systemd-nspawn)"
command -v systemd-nspawn >/dev/null || skip "systemd-nspawn is not installed (systemd-container)"
base=$("$top/tests/systemd/make-root.sh") || { rc=$?; [ $rc -eq 77 ] && skip "no Debian root"; exit $rc; }

work=$(mktemp -d /var/tmp/segd-debboot-XXXXXX)
cleanup () { [ -n "${SEGD_BOOT_KEEP:-}" ] || rm -rf "$work"; }
trap cleanup EXIT
trap 'exit 1' HUP INT TERM
root=$work/root
cp -a "$base" "$root"

# What a service host installs; python3-segmask and the -dev packages need
# more than the root has.
version=$(cd "$top" && dpkg-parsechangelog -S Version)
mkdir -p "$root/tmp/debs"
for p in segd gstreamer1.0-segd libgstsegmeta-1.0-0 libsegmenter0 libsegmask0 \
    segd-models-mediapipe; do
  cp "$debs/${p}_${version}_"*.deb "$root/tmp/debs/"
done
echo "boot-debs: dpkg -i in the root"
chroot "$root" sh -c 'dpkg -i /tmp/debs/*.deb' >"$work/dpkg.log" 2>&1 \
  || { cat "$work/dpkg.log"; echo "boot-debs: FAIL: dpkg -i"; exit 1; }
fails=0
chroot "$root" getent group segd >/dev/null && chroot "$root" getent passwd segd >/dev/null \
  || { echo "boot-debs: FAIL: no segd user/group after dpkg -i"; fails=1; }
[ -L "$root/etc/systemd/system/multi-user.target.wants/segd.service" ] \
  || { echo "boot-debs: FAIL: segd.service not enabled by the postinst"; fails=1; }
[ $fails -eq 0 ] && echo "boot-debs: ok: postinst created user and group segd and enabled segd.service"

# A deterministic source (no camera, no demo photo in the root).
mkdir -p "$root/etc/segd/segd.conf.d"
printf '[source]\ntype=test\n' > "$root/etc/segd/segd.conf.d/10-ci.conf"
install -D -m 755 "$top/tests/systemd/in-container.sh" "$root/usr/local/lib/segd-ci/check"
cat > "$root/etc/systemd/system/segd-ci-check.service" <<'UNIT'
[Unit]
Description=segd package boot test
After=multi-user.target segd.service
[Service]
Type=oneshot
ExecStart=/usr/local/lib/segd-ci/check
StandardOutput=journal+console
StandardError=journal+console
[Install]
WantedBy=multi-user.target
UNIT
systemctl --root="$root" enable segd-ci-check.service >/dev/null 2>&1
mkdir "$work/out"

echo "boot-debs: booting"
rc=0
timeout 600 systemd-nspawn --quiet --boot --register=no --keep-unit --console=pipe \
  --directory="$root" --machine=segd-debs --bind="$work/out:/segd-ci" \
  </dev/null >"$work/console.log" 2>&1 || rc=$?
grep -a ' check\[[0-9]*\]: ' "$work/out/journal.txt" 2>/dev/null \
  | sed 's/^.* check\[[0-9]*\]: /  /' || true
result=$(cat "$work/out/result" 2>/dev/null || echo "no result (nspawn exit $rc)")
echo "boot-debs: in the booted container: $result"
if [ "$result" != PASS ]; then
  tail -n 40 "$work/console.log"
  exit 1
fi

# Purge: conffile, unit links and state go.
chroot "$root" dpkg --purge segd >"$work/purge.log" 2>&1 \
  || { cat "$work/purge.log"; echo "boot-debs: FAIL: dpkg --purge segd"; exit 1; }
for f in /etc/segd/segd.conf /etc/systemd/system/multi-user.target.wants/segd.service \
    /usr/bin/segd; do
  if [ -e "$root$f" ] || [ -L "$root$f" ]; then
    echo "boot-debs: FAIL: $f left after purge"
    fails=1
  fi
done
[ $fails -eq 0 ] || exit 1
echo "boot-debs: ok: purge removes the conffile, the unit links and the binaries"
