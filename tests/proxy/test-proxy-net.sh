#!/bin/sh
# test-proxy-net.sh — segd-proxy in a real (namespaced) network.
#
# Builds, on this machine only, seven network namespaces joined by veth
# pairs on one bridge, with addresses in 10.231.0.0/24 that exist only
# inside them:
#
#   h1 10.231.0.1, h2 .2, h3 .3   publishers (segmenter ! zmqmasksink, CURVE)
#   px 10.231.0.10                segd-proxy (upstreams h1 h2 h3)
#   sb 10.231.0.20                subscribers, and segd-proxy-2 (upstreams
#                                 px and h1: a two-level tree, and cam1 twice)
#
# and checks: every stream arrives through the proxy and through the tree;
# only subscribed streams leave a publisher; a key not on the allow-list
# gets nothing from the proxy nor from a publisher; a cut link and a killed
# publisher stop only their stream, show as down in status/segd-proxy, and
# resume within 5 s of coming back while the others lose no mask; a slow
# subscriber costs the others nothing; a segd on-demand camera behind a
# proxy opens for a subscriber of the proxy and closes after it left.
# Every wait is bounded.
#
# Publishers are segd itself, with CURVE from [output] key files.
#
# Needs root (namespaces); exits 77 with the reason when they cannot be
# made.
set -u

: "${SEGD_PROXY:?}" "${PROBE:?}" "${SEG_MODEL:?}" "${SEGD:?}"

skip () { echo "SKIP: $*"; exit 77; }
[ "$(id -u)" = 0 ] || skip "needs root to create network namespaces"
command -v ip >/dev/null 2>&1 || skip "iproute2 (ip) is not installed"
command -v gst-launch-1.0 >/dev/null 2>&1 || skip "gst-launch-1.0 is missing"
[ -f "$SEG_MODEL" ] || skip "model $SEG_MODEL missing (scripts/fetch-models.sh)"

P="sp$$"                         # namespace and link prefix, unique per run
T=$(mktemp -d /tmp/segd-proxy-net.XXXXXX)
K="$T/keys"
PIDS=""
NSES=""
FAILED=0
FPS=15

cleanup () {
  for pid in $PIDS; do kill "$pid" 2>/dev/null; done
  sleep 0.3
  for pid in $PIDS; do kill -9 "$pid" 2>/dev/null; done
  wait 2>/dev/null
  for ns in $NSES; do ip netns del "$ns" 2>/dev/null; done
  if [ "$FAILED" = 0 ]; then rm -rf "$T"; else echo "logs kept in $T"; fi
}
trap cleanup EXIT INT TERM

fail () { echo "FAIL: $*"; FAILED=1; }
pass () { echo "ok: $*"; }
now () { date +%s.%N | cut -c1-14; }
# float comparison: fle A B is true when A <= B
fle () { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a <= b) }'; }

ip netns add "${P}sw" 2>/dev/null || skip "cannot create network namespaces"
NSES="${P}sw"
ip -n "${P}sw" link add br0 type bridge || skip "cannot create a bridge"
ip -n "${P}sw" link set br0 up
ip -n "${P}sw" link set lo up

host () {   # host NAME LAST-OCTET
  ns="${P}$1"
  ip netns add "$ns" || skip "cannot create namespace $ns"
  NSES="$NSES $ns"
  ip link add "${P}$1" type veth peer name "${P}$1b" || skip "no veth"
  ip link set "${P}$1" netns "$ns"
  ip link set "${P}$1b" netns "${P}sw"
  ip -n "$ns" link set "${P}$1" name eth0
  ip -n "$ns" addr add "10.231.0.$2/24" dev eth0
  ip -n "$ns" link set eth0 up
  ip -n "$ns" link set lo up
  ip -n "${P}sw" link set "${P}$1b" master br0
  ip -n "${P}sw" link set "${P}$1b" up
}
host h1 1; host h2 2; host h3 3; host px 10; host sb 20
# Background jobs are started as `ip netns exec ... &`, never through a
# shell function: a function in the background is a subshell, and its PID
# would not be the process that kill must reach.

# ---- keys: one pair per publisher, proxy (server and client side),
# subscriber, and a rogue subscriber nobody allowed.
mkdir -p "$K/px-clients.d" "$K/px2-clients.d"
for n in h1 h2 h3 px-server px-client px2-server px2-client sub slow rogue; do
  "$PROBE" keygen "$K" "$n" || { fail "keygen $n"; exit 1; }
done
cat "$K/px-client.pub" "$K/px2-client.pub" > "$K/pub-allowed"
cp "$K/sub.pub" "$K/slow.pub" "$K/px2-client.pub" "$K/px-clients.d/"
cp "$K/sub.pub" "$K/px2-clients.d/"

# One registry, written once, before the publishers share it.
export GST_REGISTRY="$T/registry.bin"
env ${PUB_PRELOAD:+LD_PRELOAD=$PUB_PRELOAD} ASAN_OPTIONS=detect_leaks=0 \
  gst-inspect-1.0 zmqmasksink >/dev/null 2>&1 || skip "zmqmasksink not found"

start_pub () {   # start_pub HOST STREAM
  i=$(echo "$1" | tr -d h)
  # segd as deployed, CURVE from its [output] key files; GStreamer's own
  # exit-time allocations are not ours to report.
  ip netns exec "${P}$1" env ASAN_OPTIONS=detect_leaks=0 "$SEGD" \
    --config-dir "$T/none" --set source.type=test \
    --set source.width=320 --set source.height=240 \
    --set source.framerate=$FPS --set segmenter.model="$SEG_MODEL" \
    --set segmenter.threads=1 --set segmenter.interval=15 \
    --set output.stream-name="$2" \
    --set output.endpoint="tcp://10.231.0.$i:5601" \
    --set output.curve-secret-key-file="$K/$1.secret" \
    --set output.curve-allowed-keys="$K/pub-allowed" \
    --set http.enabled=false \
    > "$T/$1.log" 2>&1 &
  PIDS="$PIDS $!"
  eval "PID_$1=$!"
}
start_pub h1 cam1; start_pub h2 cam2; start_pub h3 cam3

cat > "$T/px.conf" <<EOF
[proxy]
name = segd-proxy
bind = tcp://10.231.0.10:5600
curve-secret-key-file = $K/px-server.key
curve-allowed-keys = $K/px-clients.d
client-key-file = $K/px-client.key
heartbeat = 1
EOF
for h in h1 h2 h3; do
  printf '[upstream %s]\nendpoint = tcp://10.231.0.%s:5601\ncurve-server-key-file = %s\n' \
    "$h" "$(echo $h | tr -d h)" "$K/$h.pub" >> "$T/px.conf"
done
cat > "$T/px2.conf" <<EOF
[proxy]
name = segd-proxy-2
bind = tcp://10.231.0.20:5700
curve-secret-key-file = $K/px2-server.key
curve-allowed-keys = $K/px2-clients.d
client-key-file = $K/px2-client.key
[upstream px]
endpoint = tcp://10.231.0.10:5600
curve-server-key-file = $K/px-server.pub
[upstream h1]
endpoint = tcp://10.231.0.1:5601
curve-server-key-file = $K/h1.pub
EOF
for c in px px2; do
  "$SEGD_PROXY" --config-dir "$T/none" -c "$T/$c.conf" --check-config \
    >/dev/null || { fail "$c.conf does not validate"; exit 1; }
done
ip netns exec "${P}px" "$SEGD_PROXY" --config-dir "$T/none" -c "$T/px.conf" -v > "$T/px.log" 2>&1 &
PX_PID=$!; PIDS="$PIDS $PX_PID"
ip netns exec "${P}sb" "$SEGD_PROXY" --config-dir "$T/none" -c "$T/px2.conf" > "$T/px2.log" 2>&1 &
PX2_PID=$!; PIDS="$PIDS $PX2_PID"

# segd on demand, behind its own plaintext proxy (the CURVE hops are
# checked with the publishers above).
ip netns exec "${P}h3" env ASAN_OPTIONS=detect_leaks=0 "$SEGD" \
  --config-dir "$T/none" --set source.type=test \
  --set source.width=320 --set source.height=240 --set source.framerate=15 \
  --set source.on-demand=true --set source.on-demand-grace=1 \
  --set segmenter.model="$SEG_MODEL" --set segmenter.threads=1 \
  --set segmenter.interval=15 --set output.stream-name=cam4 \
  --set output.endpoint=tcp://10.231.0.3:5611 > "$T/segd.log" 2>&1 &
PIDS="$PIDS $!"
ip netns exec "${P}px" "$SEGD_PROXY" --config-dir "$T/none" \
  --set proxy.name=segd-proxy-3 --set proxy.bind=tcp://10.231.0.10:5800 \
  --set proxy.allow-plaintext=true --connect tcp://10.231.0.3:5611 \
  > "$T/px3.log" 2>&1 &
PX3_PID=$!; PIDS="$PIDS $PX3_PID"

SUB="--server-key $K/px-server.pub --client-key $K/sub.key"
PX=tcp://10.231.0.10:5600
ST="$T/status"
# The status watcher: subscribes status/segd-proxy only (and
# mask/segd-proxy, which nothing publishes), for the whole test.
ip netns exec "${P}sb" "$PROBE" sub --connect $PX $SUB --stream segd-proxy \
  --status-stream segd-proxy --status-file "$ST" --seconds 150 \
  > "$T/watch.out" 2>&1 &
PIDS="$PIDS $!"

st () { sed -n "s/^$1=//p" "$ST" 2>/dev/null | head -n1; }
wait_until () {   # wait_until SECONDS COMMAND...: bounded poll
  n=$(awk -v s="$1" 'BEGIN { print int(s * 5) }'); shift
  while [ "$n" -gt 0 ]; do
    "$@" && return 0
    sleep 0.2; n=$((n - 1))
  done
  return 1
}
state_is () { [ "$(st "upstream.$1.state")" = "$2" ]; }
all_up () { [ "$(st upstreams_up)" = 3 ]; }

wait_until 40 all_up && pass "proxy status shows 3 upstreams up" \
  || { fail "upstreams not up: $(cat "$ST" 2>/dev/null | grep state=)"; exit 1; }

# ---- subscriptions flow upstream: with only cam1 wanted, h2 and h3 send
# nothing (their bytes/s stay 0).
ip netns exec "${P}sb" "$PROBE" sub --connect $PX $SUB --stream cam1 --seconds 4 \
  > "$T/only1.out" 2>&1 &
ONLY=$!; PIDS="$PIDS $ONLY"
sleep 3.2
b1=$(st upstream.h1.masks_per_s); b2=$(st upstream.h2.bytes_per_s)
b3=$(st upstream.h3.bytes_per_s)
wait $ONLY || fail "the cam1-only subscriber failed: $(cat "$T/only1.out")"
if fle 1 "$b1" && [ "$b2" = 0 ] && [ "$b3" = 0 ] \
    && grep -q '^stream cam1 ' "$T/only1.out" \
    && ! grep -q '^stream cam[23] ' "$T/only1.out"; then
  pass "only the subscribed stream leaves its publisher (h1 $b1 masks/s, h2 $b2 B/s, h3 $b3 B/s)"
else
  fail "subscription filtering: h1 $b1 masks/s, h2 $b2 B/s, h3 $b3 B/s; $(cat "$T/only1.out")"
fi

# ---- segd on demand behind a proxy: closed while only the proxy is
# connected, open for a subscriber of the proxy, closed again after it.
segd_says () { grep -q "$1" "$T/segd.log"; }
if wait_until 20 segd_says "on demand: the source opens" && sleep 1 \
    && ! segd_says "source: "; then
  ip netns exec "${P}sb" "$PROBE" sub --connect tcp://10.231.0.10:5800 \
    --stream cam4 --seconds 6 > "$T/cam4.out" 2>&1
  if grep -q '^stream cam4 masks=[1-9]' "$T/cam4.out" \
      && segd_says "1 subscriber" && segd_says "source: "; then
    if wait_until 8 segd_says "closing the source"; then
      pass "segd on demand follows a subscriber through the proxy (opened, $(sed -n 's/^stream cam4 \(masks=[0-9]*\).*/\1/p' "$T/cam4.out"), closed after it left)"
    else
      fail "segd on demand: the source stayed open after the subscriber left"
    fi
  else
    fail "segd on demand: no masks through the proxy: $(cat "$T/cam4.out"; tail -5 "$T/segd.log")"
  fi
else
  fail "segd on demand: the source opened with nobody subscribed, or segd did not start: $(tail -5 "$T/segd.log")"
fi

# ---- the long run: a normal and a slow subscriber through the proxy.
RUN=42
ip netns exec "${P}sb" "$PROBE" sub --connect $PX $SUB --seconds $RUN --gap-ms 1500 \
  > "$T/main.out" 2>&1 &
MAIN=$!; PIDS="$PIDS $MAIN"
ip netns exec "${P}sb" "$PROBE" sub --connect $PX --server-key "$K/px-server.pub" \
  --client-key "$K/slow.key" --seconds $RUN --slow 300 --rcvhwm 4 \
  --gap-ms 100000 \
  > "$T/slow.out" 2>&1 &
SLOW=$!; PIDS="$PIDS $SLOW"

# The tree: everything through segd-proxy-2 too, and its status.
ip netns exec "${P}sb" "$PROBE" sub --connect tcp://10.231.0.20:5700 \
  --server-key "$K/px2-server.pub" --client-key "$K/sub.key" --seconds 8 \
  --status-stream segd-proxy-2 --status-file "$T/status2" \
  > "$T/tree.out" 2>&1 &
TREE=$!; PIDS="$PIDS $TREE"
# Keys nobody allowed, at the proxy and straight at a publisher.
ip netns exec "${P}sb" "$PROBE" sub --connect $PX --server-key "$K/px-server.pub" \
  --client-key "$K/rogue.key" --seconds 5 > "$T/rogue-px.out" 2>&1 &
R1=$!; PIDS="$PIDS $R1"
ip netns exec "${P}sb" "$PROBE" sub --connect tcp://10.231.0.1:5601 \
  --server-key "$K/h1.pub" --client-key "$K/rogue.key" --seconds 5 \
  > "$T/rogue-h1.out" 2>&1 &
R2=$!; PIDS="$PIDS $R2"
for pid in $TREE $R1 $R2; do
  wait "$pid" || fail "a subscriber exited with $?: see $T/*.out"
done

for s in cam1 cam2 cam3; do
  grep -q "^stream $s masks=[1-9]" "$T/tree.out" \
    || fail "$s did not arrive through the two-level tree"
done
grep -q '^upstream.px.state=up' "$T/status2" \
  || fail "segd-proxy-2 does not show segd-proxy up"
if grep -q '^duplicates=.*cam1(' "$T/status2"; then
  pass "tree: three streams through two proxies; cam1 from two upstreams reported: $(grep ^duplicates= "$T/status2")"
else
  fail "segd-proxy-2 did not report cam1 arriving twice: $(grep ^duplicates= "$T/status2")"
fi
for r in px h1; do
  if grep -q '^total masks=0 ' "$T/rogue-$r.out"; then
    pass "a key not on the allow-list gets nothing at $r"
  else
    fail "rogue subscriber at $r: $(cat "$T/rogue-$r.out")"
  fi
done
rej=$(st rejected)
fle 1 "${rej:-0}" || fail "the proxy counted no rejected subscriber"

# ---- h2's link cut, then back.
sleep 1
T_CUT=$(now)
ip -n "${P}sw" link set "${P}h2b" down
if wait_until 12 state_is h2 down; then
  pass "h2 cut: status shows it $(st upstream.h2.state) after $(awk -v a="$T_CUT" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }') s"
else
  fail "h2 cut: status still says $(st upstream.h2.state)"
fi
sleep 1
T_UP=$(now)
ip -n "${P}sw" link set "${P}h2b" up
wait_until 10 state_is h2 up || fail "h2 not up again: $(st upstream.h2.state)"

# ---- h3's publisher killed, then started again.
sleep 2
T_KILL=$(now)
eval kill -9 "\$PID_h3"
if wait_until 12 state_is h3 down; then
  pass "h3 killed: status shows it down"
else
  fail "h3 killed: status still says $(st upstream.h3.state)"
fi
sleep 1
T_RESTART=$(now)
start_pub h3 cam3
wait_until 15 state_is h3 up || fail "h3 not up again: $(st upstream.h3.state)"
age3=$(st upstream.h3.last_mask_age_ms)

for pid in $MAIN $SLOW; do
  wait "$pid" || fail "a subscriber exited with $?: see $T/*.out"
done
echo "--- main subscriber"; cat "$T/main.out"
echo "--- slow subscriber"; cat "$T/slow.out"

field () {   # field STREAM KEY FILE
  sed -n "s/^stream $1 .*$2=\([0-9.]*\).*/\1/p" "$3"
}
# cam1 never stops: no sequence gap, no arrival gap, full rate.
m1=$(field cam1 missed "$T/main.out"); r1=$(field cam1 rate "$T/main.out")
if [ "$m1" = 0 ] && ! grep -q '^gap cam1 ' "$T/main.out" \
    && fle $((FPS * 8 / 10)) "${r1:-0}"; then
  pass "cam1 never stopped: 0 missed, no gap, $r1 masks/s"
else
  fail "cam1 was disturbed: missed=$m1 rate=$r1"
fi
# cam2: gaps only while its link was cut, resumed within 5 s.
bad=$(awk -v c="$T_CUT" -v u="$T_UP" '
  $1 == "gap" && $2 == "cam2" && ($3 < c - 0.2 || $4 > u + 5) { print }
  $1 == "seqgap" && $2 == "cam2" && ($3 < c - 0.2 || $3 > u + 5) { print }' \
  "$T/main.out")
resumed=$(awk -v c="$T_CUT" -v u="$T_UP" '
  $1 == "gap" && $2 == "cam2" && $3 >= c - 0.2 { printf "%.1f", $4 - u }' \
  "$T/main.out")
if [ -z "$bad" ] && [ -n "$resumed" ]; then
  pass "cam2 stopped only while cut; resumed $resumed s after the link came back"
else
  fail "cam2: gaps outside the cut or no gap at all: '$bad' resumed='$resumed'"
fi
# cam3: a new session after the restart, no sequence gap, back within 5 s.
m3=$(field cam3 missed "$T/main.out"); s3=$(field cam3 sessions "$T/main.out")
bad=$(awk -v k="$T_KILL" -v r="$T_RESTART" '
  $1 == "gap" && $2 == "cam3" && ($3 < k - 0.2 || $4 > r + 5) { print }
  $1 == "seqgap" && $2 == "cam3" { print }' "$T/main.out")
resumed=$(awk -v k="$T_KILL" -v r="$T_RESTART" '
  $1 == "gap" && $2 == "cam3" && $3 >= k - 0.2 { printf "%.1f", $4 - r }' \
  "$T/main.out")
if [ "$m3" = 0 ] && [ "$s3" = 2 ] && [ -z "$bad" ] && [ -n "$resumed" ]; then
  pass "cam3 stopped only while killed; new session $resumed s after restart (proxy: last mask ${age3} ms ago)"
else
  fail "cam3: missed=$m3 sessions=$s3 bad='$bad' resumed='$resumed'"
fi
# The slow subscriber got masks, fell behind on its own (libzmq dropped for
# it alone), and cost the others nothing (checked above).
sm=$(sed -n 's/^total masks=\([0-9]*\).*/\1/p' "$T/slow.out")
if fle 1 "${sm:-0}" && fle "${sm:-0}" $((RUN * 4)); then
  pass "slow subscriber read $sm masks at its own pace; the others lost none"
else
  fail "slow subscriber: $(cat "$T/slow.out")"
fi

echo "--- proxy status at the end"; cat "$ST"

# Both proxies stop cleanly on SIGTERM (and, in a sanitizer build, with
# nothing to report).
for pid in $PX_PID $PX2_PID $PX3_PID; do
  kill -TERM "$pid"
  wait "$pid"; rc=$?
  [ "$rc" = 0 ] || fail "segd-proxy $pid exited with $rc on SIGTERM"
done
if grep -l -e 'Sanitizer' -e 'runtime error' "$T"/px*.log; then
  fail "sanitizer reports in the proxies' logs"; cat "$T"/px*.log
else
  pass "the proxies stopped cleanly on SIGTERM"
fi
[ "$FAILED" = 0 ] || exit 1
echo "all checks passed"
