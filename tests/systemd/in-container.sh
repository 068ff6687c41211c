#!/bin/bash
# Runs inside the booted container (tests/systemd/boot-test.sh), as the
# oneshot segd-ci-check.service once the system is up: checks segd.service
# and segd@.service as systemd runs them, writes PASS or FAIL to
# /segd-ci/result, then powers the container off.
set -u
out=/segd-ci
fails=0
log () { echo "check: $*"; }
ok () { log "ok   - $*"; }
bad () { log "FAIL - $*"; fails=$((fails + 1)); }
prop () { systemctl show -p "$2" --value "$1"; }

# wait_for SECONDS COMMAND...: retries COMMAND twice a second.
wait_for () {
  local end=$((SECONDS + $1))
  shift
  until "$@" >/dev/null 2>&1; do
    [ $SECONDS -lt $end ] || return 1
    sleep 0.5
  done
}

sock=/run/segd/segd.sock
sub () { timeout 20 segd-sub "$@"; }

finish () {
  if [ $fails -eq 0 ]; then echo PASS > $out/result; else echo "FAIL $fails" > $out/result; fi
  journalctl -b --no-pager -o short-monotonic > $out/journal.txt 2>&1
  systemctl poweroff --no-block
  exit 0
}

# --- segd.service, enabled as the README says, reaches active with READY.
if wait_for 60 systemctl is-active -q segd.service; then
  ok "segd.service active (Type=notify: READY=1 received)"
else
  bad "segd.service not active: $(systemctl status --no-pager segd.service 2>&1 | tail -n 20)"
  finish
fi
status=$(prop segd.service StatusText)
case "$status" in
  *fps*|*streaming*) ok "STATUS=$status" ;;
  *) bad "no useful STATUS= line: '$status'" ;;
esac
[ "$(prop segd.service NRestarts)" = 0 ] && ok "no restart" \
  || bad "segd.service restarted $(prop segd.service NRestarts) times"

# --- Nothing guessed or refused at start.
if journalctl -b -u segd.service --no-pager -o cat \
    | grep -Ei 'warn|critical|getpwuid|HOME|not permitted|denied'; then
  bad "warnings in segd's log (above)"
else
  ok "no warnings at start"
fi

# --- The status page and /metrics, on loopback, under the unit's sandbox
# (bash's /dev/tcp: the root has no HTTP client).
http_get () {
  exec 3<>/dev/tcp/127.0.0.1/9470 || return 1
  printf 'GET %s HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n' "$1" >&3
  cat <&3
  exec 3<&-
}
# READY comes with the first mask; the page may be a moment behind it.
metrics_counted () {
  http_get /metrics | grep -q '^segd_frames_total{stream="segd"} [1-9]'
}
if wait_for 10 metrics_counted; then
  ok "segd.service serves /metrics on 127.0.0.1:9470"
else
  bad "no /metrics on 127.0.0.1:9470: $(http_get /metrics 2>&1 | head -n 3)"
fi

# --- Masks for root, for a member of group segd, not for anyone else.
stat -c '%a %G' /run/segd "$sock"
[ "$(stat -c '%a %G' /run/segd)" = "750 segd" ] && ok "/run/segd is 0750 segd" \
  || bad "/run/segd is $(stat -c '%a %G' /run/segd)"
[ "$(stat -c '%a %G' $sock)" = "660 segd" ] && ok "$sock is 0660 segd" \
  || bad "$sock is $(stat -c '%a %G' $sock)"
sub ipc://$sock --count 5 >/dev/null && ok "root receives masks" \
  || bad "root receives no masks"
useradd -m -G segd alice && useradd -m bob
runuser -u alice -- timeout 20 segd-sub ipc://$sock --count 5 >/dev/null \
  && ok "alice (group segd) receives masks" || bad "alice (group segd) receives no masks"
if runuser -u bob -- timeout 5 segd-sub ipc://$sock --count 1 --timeout 3 >/dev/null 2>&1; then
  bad "bob (not in group segd) receives masks"
else
  ok "bob (not in group segd) receives nothing"
fi

# --- systemctl reload swaps the model with no gap in seq.
sub ipc://$sock --count 120 > /tmp/reload.txt &
subpid=$!
wait_for 10 grep -q seq= /tmp/reload.txt
printf '[segmenter]\nmodel=/usr/share/segd/models/selfie_segmentation_landscape.tflite\n' \
  > /etc/segd/segd.conf.d/50-landscape.conf
systemctl reload segd.service
wait $subpid
awk '{ for (i = 1; i <= NF; i++) { if ($i ~ /^seq=/) s = substr($i, 5); if ($i ~ /^size=/) z = substr($i, 6) }
       if (NR > 1 && s != prev + 1) gaps++; prev = s; sizes[z] = 1 }
     END { n = 0; for (z in sizes) n++; printf "%d %d\n", gaps + 0, n }' /tmp/reload.txt > /tmp/reload.sum
read -r gaps nsizes < /tmp/reload.sum
[ "$(wc -l < /tmp/reload.txt)" -ge 120 ] && [ "$gaps" = 0 ] && [ "$nsizes" = 2 ] \
  && ok "reload: 120 masks, both models' sizes, no gap in seq" \
  || { bad "reload: gaps=$gaps sizes=$nsizes"; head -n 3 /tmp/reload.txt; tail -n 3 /tmp/reload.txt; }
[ "$(prop segd.service MainPID)" != 0 ] && [ "$(prop segd.service NRestarts)" = 0 ] \
  && ok "reload kept the process" || bad "reload restarted segd"
rm /etc/segd/segd.conf.d/50-landscape.conf

# --- segd-proxy.service forwards segd's stream (its own, tighter sandbox:
# PrivateUsers=, PrivateDevices=), reaching the socket as group segd.
if [ -f /lib/systemd/system/segd-proxy.service ] || [ -f /usr/lib/systemd/system/segd-proxy.service ]; then
  mkdir -p /etc/segd/segd-proxy.conf.d
  printf '[proxy]\nbind = tcp://127.0.0.1:5600\nallow-plaintext = true\n[upstream local]\nendpoint = ipc://%s\n' \
    "$sock" > /etc/segd/segd-proxy.conf.d/50-ci.conf
  if systemctl start segd-proxy.service \
      && sub tcp://127.0.0.1:5600 --stream segd --count 5 >/dev/null; then
    ok "segd-proxy.service forwards segd's masks ($(prop segd-proxy.service StatusText | cut -c1-60))"
  else
    bad "segd-proxy.service: $(systemctl status --no-pager segd-proxy.service 2>&1 | tail -n 8)"
  fi
  systemctl stop segd-proxy.service
fi

# --- systemctl stop finishes in under 2 s.
t0=$(date +%s%N)
systemctl stop segd.service
ms=$((($(date +%s%N) - t0) / 1000000))
[ $ms -lt 2000 ] && ok "stop took $ms ms" || bad "stop took $ms ms"
[ "$(prop segd.service Result)" = success ] && ok "stopped cleanly" \
  || bad "stop result: $(prop segd.service Result)"

# --- Two instances side by side, each with its own socket.
for i in cam0 cam1; do
  printf '[source]\ntype=test\n' > /etc/segd/$i.conf
done
systemctl start segd@cam0.service segd@cam1.service
for i in cam0 cam1; do
  if sub ipc:///run/segd-$i/$i.sock --stream $i --count 5 >/dev/null \
      && [ "$(stat -c '%a %G' /run/segd-$i)" = "750 segd" ]; then
    ok "segd@$i publishes on /run/segd-$i/$i.sock"
  else
    bad "segd@$i: no masks on /run/segd-$i/$i.sock: $(systemctl status --no-pager segd@$i 2>&1 | tail -n 5)"
  fi
done
systemctl stop segd@cam0.service segd@cam1.service

# --- segd@ with device= a /dev/v4l/by-id name (the fake webcam).
if [ -f /etc/segd/cam2.conf ]; then
  systemctl start segd@cam2.service
  if sub ipc:///run/segd-cam2/cam2.sock --stream cam2 --count 5 > /tmp/cam2.txt \
      && grep -q 'size=' /tmp/cam2.txt; then
    ok "segd@cam2 streams from /dev/v4l/by-id/...: $(tail -n 1 /tmp/cam2.txt | cut -c1-100)"
  else
    bad "segd@cam2 (by-id camera): $(systemctl status --no-pager segd@cam2 2>&1 | tail -n 8)"
  fi
  systemctl stop segd@cam2.service
else
  log "skip - no fake camera (FAKECAM_SO unset)"
fi

# --- A bad configuration fails with 78 and is not restarted.
printf '[source]\nframerate=0\n' > /etc/segd/bad.conf
systemctl start segd@bad.service
sleep 5
if [ "$(prop segd@bad.service ExecMainStatus)" = 78 ] \
    && [ "$(prop segd@bad.service NRestarts)" = 0 ] \
    && [ "$(prop segd@bad.service ActiveState)" = failed ]; then
  ok "bad config: exit 78, failed, no restart"
else
  bad "bad config: status $(prop segd@bad.service ExecMainStatus)," \
    "restarts $(prop segd@bad.service NRestarts), $(prop segd@bad.service ActiveState)"
fi

# --- The watchdog restarts a segd whose source stalls.
mkdir -p /run/systemd/system/segd.service.d
printf '[Service]\nWatchdogSec=3s\n' > /run/systemd/system/segd.service.d/ci.conf
printf '[source]\ntype=test\nnum-buffers=60\n' > /etc/segd/segd.conf.d/50-stall.conf
systemctl daemon-reload
systemctl start segd.service
if wait_for 30 sh -c '[ "$(systemctl show -p NRestarts --value segd.service)" -ge 1 ]'; then
  ok "stalled source: restarted by the watchdog"
  journalctl -b -u segd.service --no-pager -o cat | grep -i watchdog | head -n 2
else
  bad "stalled source: no restart ($(prop segd.service ActiveState))"
fi
systemctl stop segd.service
rm /etc/segd/segd.conf.d/50-stall.conf /run/systemd/system/segd.service.d/ci.conf
systemctl daemon-reload

# --- Exposure of every unit.
for u in segd.service segd@cam0.service segd-proxy.service; do
  e=$(systemd-analyze security --no-pager "$u" 2>/dev/null \
    | sed -n 's/.*Overall exposure level for .*: \([0-9.]*\).*/\1/p')
  if [ -n "$e" ] && awk "BEGIN { exit !($e <= 2.0) }"; then
    ok "$u exposure $e"
  else
    bad "$u exposure '${e:-?}' (want <= 2.0)"
  fi
done

finish
