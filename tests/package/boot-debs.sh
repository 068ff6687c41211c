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
me=boot-debs
# shellcheck source=tests/systemd/boot-lib.sh
. "$top/tests/systemd/boot-lib.sh"
boot_prepare "chroot, systemd-nspawn"

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

boot_checks "segd package boot test"
boot_run segd-debs

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
