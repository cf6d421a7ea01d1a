#!/usr/bin/env bash
# bgp-interop.sh — BGP interoperation test of siteconf's generated FRR configs: every node and
# switch of OUT/site/fabric.json becomes a network namespace running the real FRR (zebra +
# bgpd, + staticd when the config has static routes) with its generated frr.conf, cabled with
# veth pairs exactly as the fabric's sessions and links say. Numbered sessions ride on what the
# site declares: a routed switch port (its address comes from the switch's frr.conf, the
# node's from fabric.json, as netplan would set it) or the loopbacks learnt over unnumbered
# sessions. Each external peer is simulated by an FRR instance of its own (config written by
# lib/interop_plan.py: eBGP to the switches holding it, with the switch's password, sending a
# default route), on a bridged LAN with the switch ports the site declares for it. It then
# waits until every declared session is Established (with the declared peer and ASN at both
# ends), every node's loopbacks are installed BGP routes on every other node, and a ping
# between loopbacks goes through. All traffic stays inside these namespaces.
#
#   sudo tests/consumers/bgp-interop.sh OUT_DIR
#
# OUT_DIR is `siteconf build --out` output (or tests/consumers/fixtures/interop): it needs
# site/fabric.json, nodes/<host>/etc/frr/frr.conf and switches/<host>/etc/frr/frr.conf.
# Ends with `bgp-interop: N passed, N failed` (one check per session and per loopback pair
# and address family); exit 0 all passed, 1 failures, 2 usage error, 3 cannot run here
# (printed as `bgp-interop: CANNOT RUN: <reason>`; never a silent pass).
# Environment: BGP_INTEROP_TIMEOUT (seconds to wait for convergence, default 60),
#   BGP_INTEROP_KEEP=1 leaves the state dir (daemon logs, JSON answers) for inspection.
set -euo pipefail
export LC_ALL=C.UTF-8 PATH="/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

HERE=$(cd "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
PLAN="$HERE/lib/interop_plan.py"
FRR=/usr/lib/frr
TIMEOUT=${BGP_INTEROP_TIMEOUT:-60}
START=$(date +%s)

cannot_run() { echo "bgp-interop: CANNOT RUN: $*"; exit 3; }
if [ $# -ne 1 ] || [ ! -d "$1" ]; then echo "usage: bgp-interop.sh OUT_DIR" >&2; exit 2; fi
OUT=$(readlink -f -- "$1")
[ -f "$OUT/site/fabric.json" ] || { echo "bgp-interop: $1/site/fabric.json missing" >&2; exit 2; }
[[ "$TIMEOUT" =~ ^[0-9]+$ ]] || { echo "bgp-interop: BGP_INTEROP_TIMEOUT must be whole seconds" >&2; exit 2; }

[ "$(id -u)" -eq 0 ] || cannot_run "needs root (network namespaces, FRR daemons)"
if ! command -v ip >/dev/null || ! ip netns list >/dev/null 2>&1; then cannot_run "no working 'ip netns' (iproute2)"; fi
for b in "$FRR/zebra" "$FRR/bgpd" "$FRR/staticd" /usr/bin/vtysh; do
  [ -x "$b" ] || cannot_run "$b missing (run scripts/install-consumers.sh)"
done
command -v python3 >/dev/null || cannot_run "python3 missing"
command -v ping >/dev/null || cannot_run "ping missing (iputils-ping; run scripts/install-consumers.sh)"
id frr >/dev/null 2>&1 || cannot_run "user frr missing (FRR's package creates it)"

PREFIX="sc-$$"
STATE=$(mktemp -d "${TMPDIR:-/tmp}/bgp-interop.XXXXXX")
chmod 0755 "$STATE"   # the daemons read their config as user frr
NAMESPACES=()
PIDS=()               # "pid daemon" of every daemon started

# shellcheck disable=SC2317  # called by the EXIT trap
cleanup() {
  local rc=$? entry pid daemon ns
  trap - EXIT INT TERM HUP
  for entry in "${PIDS[@]}"; do kill -TERM "${entry%% *}" 2>/dev/null || true; done
  for entry in "${PIDS[@]}"; do
    pid=${entry%% *}
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
  done
  for entry in "${PIDS[@]}"; do
    pid=${entry%% *}; daemon=${entry#* }
    rm -rf "/var/tmp/frr/$daemon.$pid"
  done
  for ns in "${NAMESPACES[@]}"; do
    ip netns del "$ns" 2>/dev/null || true
    rm -rf "/run/frr/$ns" "/var/run/frr/$ns"
  done
  if [ "${BGP_INTEROP_KEEP:-0}" = 1 ]; then echo "(state kept in $STATE)" >&2; else rm -rf "$STATE"; fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM HUP

# ---- topology ----------------------------------------------------------------------------
if ! python3 "$PLAN" plan "$OUT" "$STATE" > "$STATE/plan.tsv" 2> "$STATE/plan.err"; then
  sed 's/^/  /' "$STATE/plan.err"
  echo "bgp-interop: the fabric cannot be built (see above)"
  echo "bgp-interop: 0 passed, 1 failed"
  exit 1
fi
declare -A NS KIND LO4 LO6 CONF
DEVS=()
while IFS=$'\t' read -r tag name kind conf lo4 lo6; do
  [ "$tag" = dev ] || continue
  DEVS+=("$name"); KIND[$name]=$kind; CONF[$name]=$conf; LO4[$name]=$lo4; LO6[$name]=$lo6
  NS[$name]="$PREFIX-$name"
done < "$STATE/plan.tsv"

# ---- namespaces, loopbacks, cables ---------------------------------------------------------
for d in "${DEVS[@]}"; do
  ns=${NS[$d]}
  ip netns add "$ns" 2>"$STATE/netns.err" || cannot_run "ip netns add failed: $(cat "$STATE/netns.err")"
  NAMESPACES+=("$ns")
  ip -n "$ns" link set lo up
  # no duplicate address detection: nothing else shares these links, and tentative addresses
  # would only delay the first BGP connections
  ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0
  [ "${LO4[$d]}" = - ] || ip -n "$ns" addr replace "${LO4[$d]}/32" dev lo
  [ "${LO6[$d]}" = - ] || ip -n "$ns" addr replace "${LO6[$d]}/128" dev lo
  if [ "${KIND[$d]}" = switch ]; then
    ip netns exec "$ns" sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1
  fi
done
ncables=0
while IFS=$'\t' read -r tag a a_if b b_if; do
  [ "$tag" = cable ] || continue
  # created straight inside the two namespaces: the names never meet in the host's namespace
  ip link add "$a_if" netns "${NS[$a]}" type veth peer name "$b_if" netns "${NS[$b]}"
  ip -n "${NS[$a]}" link set "$a_if" up
  ip -n "${NS[$b]}" link set "$b_if" up
  ncables=$((ncables + 1))
done < "$STATE/plan.tsv"
# node addresses netplan would set (a connected numbered session's end)
while IFS=$'\t' read -r tag d ifname cidr; do
  [ "$tag" = addr ] || continue
  ip -n "${NS[$d]}" addr add "$cidr" dev "$ifname"
done < "$STATE/plan.tsv"
# external peers' LANs: a bridge in a namespace of its own, the switch ports and peers plugged in
nlan=0
while IFS=$'\t' read -r tag lan d ifname; do
  case $tag in
    lan)
      ip netns add "$PREFIX-$lan"; NAMESPACES+=("$PREFIX-$lan")
      ip -n "$PREFIX-$lan" link add br0 type bridge
      ip -n "$PREFIX-$lan" link set br0 up
      nlan=0 ;;
    lanport)
      nlan=$((nlan + 1))
      ip link add "$ifname" netns "${NS[$d]}" type veth peer name "p$nlan" netns "$PREFIX-$lan"
      ip -n "$PREFIX-$lan" link set "p$nlan" master br0 up
      ip -n "${NS[$d]}" link set "$ifname" up ;;
    peeraddr)
      if [[ $d == *:* ]]; then ip -n "${NS[$lan]}" addr add "$d" dev lan0 nodad
      else ip -n "${NS[$lan]}" addr add "$d" dev lan0; fi ;;
  esac
done < "$STATE/plan.tsv"
echo "bgp-interop: ${#DEVS[@]} routers in namespaces $PREFIX-*, $ncables cables"

# ---- FRR, one instance per namespace -------------------------------------------------------
start_daemon() { # NAME DAEMON
  local d=$1 daemon=$2 ns=${NS[$1]} pid
  # -N: own socket/pid paths (/var/run/frr/NS/), so instances never meet each other or a system
  # FRR; -P 0: no TCP vty; `ip netns exec` execs the daemon, so $! is the daemon's pid.
  ip netns exec "$ns" "$FRR/$daemon" -N "$ns" -f "$STATE/$d/frr.conf" -P 0 -u frr -g frr \
    --log stdout --log-level informational > "$STATE/$d/$daemon.log" 2>&1 &
  pid=$!
  PIDS+=("$pid $daemon")
}
wait_socket() { # NAME SOCKET
  local _
  for _ in $(seq 1 100); do [ -S "/var/run/frr/${NS[$1]}/$2" ] && return 0; sleep 0.1; done
  echo "bgp-interop: $1: /var/run/frr/${NS[$1]}/$2 never appeared; log:"; tail -n 20 "$STATE/$1/"*.log
  return 1
}
for d in "${DEVS[@]}"; do
  mkdir -m 0755 "$STATE/$d"
  install -m 0644 "${CONF[$d]}" "$STATE/$d/frr.conf"
  start_daemon "$d" zebra
done
started=1
for d in "${DEVS[@]}"; do wait_socket "$d" zserv.api || started=0; done
if [ $started = 1 ]; then
  for d in "${DEVS[@]}"; do
    start_daemon "$d" bgpd
    if grep -qE '^[[:space:]]*(ip|ipv6) route ' "$STATE/$d/frr.conf"; then start_daemon "$d" staticd; fi
  done
  for d in "${DEVS[@]}"; do wait_socket "$d" bgpd.vty || started=0; done
fi

# ---- wait for convergence -----------------------------------------------------------------
collect() {
  local d ns
  for d in "${DEVS[@]}"; do
    ns=${NS[$d]}
    vtysh -N "$ns" -c 'show bgp summary json' > "$STATE/$d.bgp.json" 2>/dev/null || true
    if [ "${KIND[$d]}" = node ]; then
      vtysh -N "$ns" -c 'show ip route json' > "$STATE/$d.route4.json" 2>/dev/null || true
      vtysh -N "$ns" -c 'show ipv6 route json' > "$STATE/$d.route6.json" 2>/dev/null || true
    fi
  done
}
converged=0
while [ $started = 1 ]; do
  collect
  if python3 "$PLAN" judge "$OUT" "$STATE" >/dev/null 2>&1; then converged=1; break; fi
  [ $(( $(date +%s) - START )) -lt "$TIMEOUT" ] || break
  for entry in "${PIDS[@]}"; do
    kill -0 "${entry%% *}" 2>/dev/null || { echo "bgp-interop: ${entry#* } (pid ${entry%% *}) died"; break 2; }
  done
  sleep 1
done
if [ $converged = 1 ]; then
  echo "bgp-interop: control plane converged after $(( $(date +%s) - START )) s"
else
  echo "bgp-interop: not converged after $(( $(date +%s) - START )) s (limit ${TIMEOUT} s)"
fi

# ---- data plane: loopback to loopback, inside the namespaces only --------------------------
: > "$STATE/ping.tsv"
if [ $converged = 1 ]; then
  for src in "${DEVS[@]}"; do
    [ "${KIND[$src]}" = node ] || continue
    for dst in "${DEVS[@]}"; do
      [ "${KIND[$dst]}" = node ] && [ "$dst" != "$src" ] || continue
      for fam in 4 6; do
        if [ $fam = 4 ]; then from=${LO4[$src]} to=${LO4[$dst]}; else from=${LO6[$src]} to=${LO6[$dst]}; fi
        [ "$from" != - ] && [ "$to" != - ] || continue
        rc=0
        ip netns exec "${NS[$src]}" ping "-$fam" -n -q -c 1 -W 2 -I "$from" "$to" >/dev/null 2>&1 || rc=$?
        printf '%s\t%s\t%s\t%s\n' "$src" "$dst" "$fam" "$rc" >> "$STATE/ping.tsv"
      done
    done
  done
fi

# ---- verdict --------------------------------------------------------------------------------
rc=0
python3 "$PLAN" judge "$OUT" "$STATE" --final > "$STATE/verdict.txt" || rc=$?
if [ $rc -ne 0 ]; then
  echo "bgp-interop: daemon messages (warnings and errors):"
  for d in "${DEVS[@]}"; do
    grep -hE 'warn|error|crit|fail|notif' "$STATE/$d/"*.log 2>/dev/null \
      | grep -v 'on config line' | head -n 5 | sed "s/^/  $d: /" || true
  done
fi
echo "bgp-interop: total $(( $(date +%s) - START )) s"
cat "$STATE/verdict.txt"   # ends with the `bgp-interop: N passed, N failed` line
exit "$rc"
