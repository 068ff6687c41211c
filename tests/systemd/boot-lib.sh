# shellcheck shell=sh
# Sourced by tests/systemd/boot-test.sh and tests/package/boot-debs.sh:
# what both do around their own install step. boot_prepare copies the
# cached Debian 12 root (make-root.sh) to $work/root, boot_checks installs
# tests/systemd/in-container.sh as the oneshot segd-ci-check.service, and
# boot_run boots the root with systemd-nspawn (systemd as PID 1) and reads
# the checks' result. The caller sets `me` (its name in messages) and
# `top` (the source tree) first; skips exit 77.
: "${me:?}" "${top:?}"

boot_skip () { echo "$me: SKIP: $*"; exit 77; }

# boot_prepare WHY-ROOT: sets base, work and root; $work goes at exit
# unless SEGD_BOOT_KEEP is set.
boot_prepare () {
  [ "$(id -u)" -eq 0 ] || boot_skip "needs root ($1)"
  command -v systemd-nspawn >/dev/null || boot_skip "systemd-nspawn is not installed (systemd-container)"
  base=$("$top/tests/systemd/make-root.sh") || { rc=$?; [ $rc -eq 77 ] && boot_skip "no Debian root"; exit $rc; }
  work=$(mktemp -d "/var/tmp/segd-$me-XXXXXX")
  trap boot_cleanup EXIT
  trap 'exit 1' HUP INT TERM
  root=$work/root
  echo "$me: copying $base"
  cp -a "$base" "$root"
}

boot_cleanup () { [ -n "${SEGD_BOOT_KEEP:-}" ] || rm -rf "$work"; }

# boot_checks DESCRIPTION: a deterministic source (the root has no camera
# and no demo photo) and the checks, run once the system is up.
boot_checks () {
  mkdir -p "$root/etc/segd/segd.conf.d"
  printf '[source]\ntype=test\n' > "$root/etc/segd/segd.conf.d/10-ci.conf"
  install -D -m 755 "$top/tests/systemd/in-container.sh" "$root/usr/local/lib/segd-ci/check"
  cat > "$root/etc/systemd/system/segd-ci-check.service" <<UNIT
[Unit]
Description=$1
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
}

# boot_run MACHINE: boots, prints the checks' lines and their result;
# exits 1 with the console and segd's journal lines unless it is PASS.
boot_run () {
  echo "$me: booting"
  rc=0
  timeout 600 systemd-nspawn --quiet --boot --register=no --keep-unit --console=pipe \
    --directory="$root" --machine="$1" --bind="$work/out:/segd-ci" \
    </dev/null >"$work/console.log" 2>&1 || rc=$?
  grep -a ' check\[[0-9]*\]: ' "$work/out/journal.txt" 2>/dev/null \
    | sed 's/^.* check\[[0-9]*\]: /  /' || true
  result=$(cat "$work/out/result" 2>/dev/null || echo "no result (nspawn exit $rc)")
  echo "$me: in the booted container: $result"
  if [ "$result" != PASS ]; then
    echo "--- console (last 60 lines)"
    tail -n 60 "$work/console.log"
    if [ -f "$work/out/journal.txt" ]; then
      echo "--- segd in the journal"
      grep -a 'segd' "$work/out/journal.txt" | tail -n 60
    fi
    exit 1
  fi
}
