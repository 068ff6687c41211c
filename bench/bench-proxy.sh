#!/bin/sh
# bench-proxy.sh — what one segd-proxy forwards, and what it adds, across
# veth links between three network namespaces on this machine
# (10.231.1.0/24, addresses that exist only inside them):
#
#   bpub 10.231.1.1   bench-proxy-peer pub: N upstreams, one XPUB each
#   bprx 10.231.1.10  segd-proxy
#   bsub 10.231.1.20  bench-proxy-peer sub
#
# 1. Capacity: every upstream sends 640x480 masks as fast as it can (class
#    maps RLE, probability planes zstd), 1 to 16 upstreams; prints masks/s
#    and MB/s arriving through the proxy and the proxy's CPU time per
#    forwarded mask (utime+stime from /proc). Plaintext, then CURVE on both
#    hops with 4 upstreams.
# 2. Latency: 4 upstreams at 30 masks/s each; p50/p99 of publish ->
#    receive, straight from the publishers and through the proxy.
#
# SEGD_BENCH_SECONDS sets each measurement window (default 3). Needs root;
# exits 77 otherwise. On a shared 2-core VM the publisher, proxy and
# subscriber compete for the same cores: the CPU per mask is the figure to
# carry to other machines, masks/s is a floor.
set -u
: "${SEGD_PROXY:?}" "${PEER:?}" "${PROBE:?}"
SECS=${SEGD_BENCH_SECONDS:-3}
[ "$(id -u)" = 0 ] || { echo "SKIP: needs root for network namespaces"; exit 77; }
P="bp$$"
T=$(mktemp -d /tmp/segd-proxy-bench.XXXXXX)
NSES=""
PIDS=""
cleanup () {
  for pid in $PIDS; do kill "$pid" 2>/dev/null; done
  wait 2>/dev/null
  for ns in $NSES; do ip netns del "$ns" 2>/dev/null; done
  rm -rf "$T"
}
trap cleanup EXIT INT TERM

ip netns add "${P}sw" 2>/dev/null || { echo "SKIP: cannot create namespaces"; exit 77; }
NSES="${P}sw"
ip -n "${P}sw" link add br0 type bridge && ip -n "${P}sw" link set br0 up
for h in pub:1 prx:10 sub:20; do
  n=${h%%:*}; a=${h#*:}; ns="${P}$n"
  ip netns add "$ns"; NSES="$NSES $ns"
  ip link add "${P}$n" type veth peer name "${P}${n}b"
  ip link set "${P}$n" netns "$ns"; ip link set "${P}${n}b" netns "${P}sw"
  ip -n "$ns" link set "${P}$n" name eth0
  ip -n "$ns" addr add "10.231.1.$a/24" dev eth0
  ip -n "$ns" link set eth0 up; ip -n "$ns" link set lo up
  ip -n "${P}sw" link set "${P}${n}b" master br0
  ip -n "${P}sw" link set "${P}${n}b" up
done

K="$T/keys"; mkdir -p "$K/allowed"
for k in pub prxs prxc sub; do "$PROBE" keygen "$K" "$k" >/dev/null || exit 1; done
cp "$K/sub.pub" "$K/allowed/"
z () { head -n1 "$1"; }

cpu_ticks () { awk '{ print $14 + $15 }' "/proc/$1/stat" 2>/dev/null || echo 0; }
HZ=$(getconf CLK_TCK)

# start_proxy N CURVE(0|1): segd-proxy with N upstreams, PID in $PROXY
start_proxy () {
  set -- "$1" "$2"
  args=""
  i=0
  while [ $i -lt "$1" ]; do
    if [ "$2" = 1 ]; then
      args="$args --connect tcp://10.231.1.1:$((6000 + i)),$K/pub.pub"
    else
      args="$args --connect tcp://10.231.1.1:$((6000 + i))"
    fi
    i=$((i + 1))
  done
  if [ "$2" = 1 ]; then
    sec="--set proxy.curve-secret-key-file=$K/prxs.key --set proxy.curve-allowed-keys=$K/allowed --set proxy.client-key-file=$K/prxc.key"
  else
    sec="--set proxy.allow-plaintext=true"
  fi
  # Small queues: a flood must not pile up hundreds of MB anywhere.
  # shellcheck disable=SC2086
  ip netns exec "${P}prx" "$SEGD_PROXY" --config-dir "$T/none" \
    --set proxy.bind=tcp://10.231.1.10:5600 --set proxy.rcvhwm=100 \
    --set proxy.sndhwm=200 $sec $args > "$T/proxy.log" 2>&1 &
  PROXY=$!; PIDS="$PIDS $PROXY"
}

# capacity KIND N CURVE: prints one table row
capacity () {
  kind=$1; n=$2; curve=$3
  pubsec=""; subsec=""
  if [ "$curve" = 1 ]; then
    pubsec="--curve-secret $(z "$K/pub.secret")"
    subsec="--curve-server $(z "$K/prxs.pub") --curve-public $(z "$K/sub.pub") --curve-secret $(z "$K/sub.secret")"
  fi
  # shellcheck disable=SC2086
  ip netns exec "${P}pub" "$PEER" pub --host 10.231.1.1 --port 6000 \
    --streams "$n" --kind "$kind" --rate 0 --seconds $((SECS + 4)) $pubsec \
    2> "$T/pub.err" &
  PUB=$!; PIDS="$PIDS $PUB"
  start_proxy "$n" "$curve"
  # shellcheck disable=SC2086
  ip netns exec "${P}sub" "$PEER" sub --connect tcp://10.231.1.10:5600 \
    --seconds "$SECS" --warmup 2 $subsec > "$T/sub.out" 2>&1 &
  SUB=$!; PIDS="$PIDS $SUB"
  sleep 2
  c0=$(cpu_ticks $PROXY)
  sleep "$SECS"
  c1=$(cpu_ticks $PROXY)
  wait $SUB
  kill $PROXY 2>/dev/null; wait $PROXY 2>/dev/null
  wait $PUB 2>/dev/null
  out=$(cat "$T/sub.out")
  mps=$(echo "$out" | sed -n 's/.* masks_per_s=\([0-9.]*\).*/\1/p')
  mbs=$(echo "$out" | sed -n 's/.*MB_per_s=\([0-9.]*\).*/\1/p')
  handled=$(echo "$out" | sed -n 's/.*proxy_masks_per_s=\([0-9]*\).*/\1/p')
  size=$(sed -n 's/.*: \([0-9]*\) bytes.*/\1/p' "$T/pub.err" | head -n1)
  awk -v k="$kind" -v n="$n" -v c="$curve" -v m="$mps" -v b="$mbs" \
    -v t0="$c0" -v t1="$c1" -v hz="$HZ" -v h="${handled:-0}" -v s="$size" \
    -v secs="$SECS" '
    BEGIN {
      cpu = (t1 - t0) / hz
      # CPU per mask the proxy handled (its own count), not per mask that
      # reached our subscriber: under a flood it drops for a slow reader.
      per = h > 0 ? cpu / (h * secs) * 1e6 : 0
      # (parentheses: a bare > in printf arguments is a redirection)
      printf "| %-17s | %6s B | %2d | %-5s | %8.0f | %7.1f | %8.0f | %5.0f%% | %6.1f | %9.0f |\n",
        (k == "prob" ? "probability zstd" : "class map rle"), s, n,
        (c ? "CURVE" : "plain"), m, b, h, cpu / secs * 100, per,
        (per > 0 ? 1e6 / per : 0)
    }'
}

# latency KIND VIA(direct|proxy): prints one row
latency () {
  kind=$1; via=$2
  ip netns exec "${P}pub" "$PEER" pub --host 10.231.1.1 --port 6000 \
    --streams 4 --kind "$kind" --rate 30 --seconds $((SECS + 5)) \
    2> "$T/pub.err" &
  PUB=$!; PIDS="$PIDS $PUB"
  if [ "$via" = proxy ]; then
    start_proxy 4 0
    eps="--connect tcp://10.231.1.10:5600"
  else
    PROXY=""
    eps=""
    for i in 0 1 2 3; do eps="$eps --connect tcp://10.231.1.1:$((6000 + i))"; done
  fi
  # shellcheck disable=SC2086
  ip netns exec "${P}sub" "$PEER" sub $eps --seconds $((SECS + 2)) \
    --warmup 2 > "$T/sub.out" 2>&1
  [ -n "$PROXY" ] && { kill $PROXY 2>/dev/null; wait $PROXY 2>/dev/null; }
  wait $PUB 2>/dev/null
  out=$(cat "$T/sub.out")
  printf "| %-17s | %-6s | %6s | %7s | %7s |\n" \
    "$([ "$kind" = prob ] && echo "probability zstd" || echo "class map rle")" \
    "$via" "$(echo "$out" | sed -n 's/.* masks_per_s=\([0-9]*\).*/\1/p')" \
    "$(echo "$out" | sed -n 's/.*p50_us=\([0-9]*\).*/\1/p')" \
    "$(echo "$out" | sed -n 's/.*p99_us=\([0-9]*\).*/\1/p')"
}

echo "segd-proxy capacity over veth, ${SECS} s per row ($(nproc) cores, load $(cut -d' ' -f1 /proc/loadavg))"
echo
echo "| mask (640x480)    | payload  | up | hops  | received/s | MB/s  | proxy sent/s | proxy CPU | CPU us/mask | masks/s per core |"
echo "|---|---|---|---|---|---|---|---|---|---|"
for kind in class prob; do
  for n in 1 2 4 8 16; do capacity $kind $n 0; done
  capacity $kind 4 1
done
echo
echo "Latency, publish -> receive, 4 upstreams x 30 masks/s"
echo
echo "| mask              | via    | masks/s | p50 us  | p99 us  |"
echo "|---|---|---|---|---|"
for kind in class prob; do
  latency $kind direct
  latency $kind proxy
done
