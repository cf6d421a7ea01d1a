#!/usr/bin/env bash
# vm-boot.sh — the boot chain, proven on a virtual machine: a machine powered on in a rack
# gets its address, its own iPXE script, its image and its own seed, all from siteconf's output.
#
#   tests/consumers/vm-boot.sh [--siteconf BIN]
#
# 1. Builds a small site (two declared nodes, a boot service) with siteconf.
# 2. In a network namespace (a bridge with the boot server's address), starts Kea with the
#    generated kea-dhcp4.json and nginx with the generated site/boot/nginx.conf, serving the
#    built tree.
# 3. Boots two QEMU virtual machines (TCG, Debian's iPXE ROM on a virtio NIC, tap in the
#    namespace): one with the MAC of node r01n01, one with a MAC no node declares. The kernel
#    and initrd they boot are made here from Debian packages (the cloud kernel and a busybox
#    initramfs whose /init reads /proc/cmdline, brings up the NIC with udhcpc, fetches the seed
#    named by `ds=nocloud-net;s=…`, prints it on the serial console and powers off).
# 4. Checks: the declared VM got its reserved address, loaded its own script and the image it
#    names, and received the seed of r01n01 (hostname, FQDN, management address as declared);
#    the unknown VM got a discovery-range address and the discovery path, never a node's
#    script or seed; the HTTP service refuses what is not in the tree.
# 5. Rebuilds with `unknown "report"` and node r01n02 removed (decommissioned): r01n02's seed
#    and script are no longer served; a third machine with another unknown MAC must report
#    its MAC to the boot server and load nothing else.
# 6. `siteconf state` on Kea's lease file lists both unknown MACs, and not the node's.
# Stretch: the host's real cloud-init runs on the seed the VM received, in a copy-on-write
# sandbox (overlay over /, private namespaces), with the kernel command line the VM booted with,
# and the network config it takes from there (`network-config=`: the static management
# address), the hostname, /etc/hostname, netplan file and /etc/hosts it leaves are checked.
#
# Needs root, network namespaces, qemu-system-x86, ipxe-qemu, busybox-static, nginx-light and
# kea-dhcp4-server (scripts/install-consumers.sh). The kernel package is fetched once with
# `apt-get download` (from the configured Debian mirror, or /var/cache/apt/archives) and the
# kernel + initramfs are cached in $SITECONF_VM_CACHE (default /var/cache/siteconf-vm); with a
# warm cache nothing leaves this machine. No stdin needed; fine under CI=true.
#
# Ends with `vm-boot: N passed, N failed`. Exit 0 all passed, 1 a check failed, 3 with
# `vm-boot: CANNOT RUN: reason` when it cannot run here (not root, no network namespaces).
# Environment: VM_BOOT_TIMEOUT (seconds per VM, default 240), VM_BOOT_KEEP=1 keeps the work
# dir (logs, build), SITECONF_VM_CACHE.
set -euo pipefail
exec </dev/null
export LC_ALL=C.UTF-8 LANG=C.UTF-8
export PATH="/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:$PATH"

HERE=$(cd "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
SITECONF=""
while [ $# -gt 0 ]; do
  case "$1" in
    --siteconf) SITECONF=$2; shift 2 ;;
    *) echo "usage: vm-boot.sh [--siteconf BIN]" >&2; exit 2 ;;
  esac
done
CACHE=${SITECONF_VM_CACHE:-/var/cache/siteconf-vm}
TIMEOUT=${VM_BOOT_TIMEOUT:-240}
START=$(date +%s)
PASS=0 FAIL=0

cannot_run() { echo "vm-boot: CANNOT RUN: $*"; exit 3; }
say() { printf '== %s\n' "$*"; }
ok() { PASS=$((PASS + 1)); printf 'ok   %s\n' "$*"; }
fail() { FAIL=$((FAIL + 1)); printf 'FAIL %s\n' "$*"; }
check() { # DESCRIPTION CMD...: a check that passes when CMD succeeds
  local what=$1; shift
  if "$@"; then ok "$what"; else fail "$what"; fi
}
finish() {
  echo "vm-boot: $PASS passed, $FAIL failed ($(( $(date +%s) - START )) s)"
  [ "$FAIL" -eq 0 ] && exit 0 || exit 1
}
abort() { fail "$*"; finish; }

[ "$(id -u)" -eq 0 ] || cannot_run "needs root (network namespaces, tap devices)"
command -v ip >/dev/null || cannot_run "no ip(8) (iproute2)"
NS="scvm-$$"
ip netns add "$NS" 2>/dev/null || cannot_run "cannot create a network namespace"
ip netns del "$NS"

missing=()
for p in qemu-system-x86_64 kea-dhcp4 nginx busybox apt-get dpkg-deb python3; do
  command -v "$p" >/dev/null || missing+=("$p")
done
[ -e /usr/share/qemu/efi-virtio.rom ] || [ -e /usr/lib/ipxe/qemu/efi-virtio.rom ] || missing+=("ipxe-qemu")
busybox --list 2>/dev/null | grep -qx udhcpc || missing+=("busybox-static (udhcpc)")
if [ ${#missing[@]} -gt 0 ]; then
  abort "missing: ${missing[*]} (run scripts/install-consumers.sh)"
fi
if [ -z "$SITECONF" ]; then
  SITECONF="$ROOT/target/debug/siteconf"
  [ -x "$SITECONF" ] || (cd "$ROOT" && cargo build --locked -q) || abort "cannot build siteconf"
fi
[ -x "$SITECONF" ] || abort "no siteconf binary at $SITECONF"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/vm-boot.XXXXXX")
chmod 0755 "$WORK"   # nginx workers (user nobody) read the built tree below it
PIDS=()
cleanup() {
  local p
  # nginx's own pid file too, in case the master is not the process started
  if [ -s "$WORK/nginx/nginx.pid" ]; then PIDS+=("$(cat "$WORK/nginx/nginx.pid")"); fi
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do
    for _ in 1 2 3 4 5 6 7 8 9 10; do kill -0 "$p" 2>/dev/null || break; sleep 0.2; done
    kill -9 "$p" 2>/dev/null || true
  done
  ip netns del "$NS" 2>/dev/null || true
  if [ "${VM_BOOT_KEEP:-0}" = 1 ]; then echo "vm-boot: kept $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---- kernel and initramfs from Debian packages (cached) ------------------------------------
build_image() {
  local pkg ver tmp deb kdir m
  pkg=$(apt-cache depends linux-image-cloud-amd64 2>/dev/null \
        | sed -n 's/^ *Depends: \(linux-image-[0-9][^ ]*-cloud-amd64\)$/\1/p' | head -n1)
  [ -n "$pkg" ] || { echo "no linux-image-*-cloud-amd64 known to apt (apt-get update?)"; return 1; }
  ver=${pkg#linux-image-}
  if [ -s "$CACHE/vmlinuz" ] && [ -s "$CACHE/initrd.img" ] && [ "$(cat "$CACHE/version" 2>/dev/null)" = "$ver-3" ]; then
    return 0
  fi
  tmp=$(mktemp -d "$WORK/img.XXXXXX")
  deb=$(ls /var/cache/apt/archives/"${pkg}"_*.deb 2>/dev/null | head -n1 || true)
  if [ -z "$deb" ]; then
    (cd "$tmp" && apt-get download -q "$pkg" >/dev/null 2>&1) || { echo "apt-get download $pkg failed"; return 1; }
    deb=$(ls "$tmp"/*.deb | head -n1)
  fi
  dpkg-deb -x "$deb" "$tmp/pkg"
  kdir="$tmp/pkg/lib/modules/$ver"
  [ -d "$kdir" ] || kdir=$(ls -d "$tmp"/pkg/usr/lib/modules/* | head -n1)
  # the NIC's modules with their dependencies, dependencies first (`depends=` of .modinfo)
  ko_depends() {
    python3 - "$1" <<'PY'
import lzma, re, sys
p = sys.argv[1]
data = lzma.open(p).read() if p.endswith(".xz") else open(p, "rb").read()
m = re.search(rb"(?:^|\x00)depends=([^\x00]*)", data)
print(" ".join(d for d in (m.group(1).decode() if m else "").split(",") if d))
PY
  }
  local want=(virtio_net) order=() seen=" "
  resolve() {
    local name=$1 f d
    case "$seen" in *" $name "*) return 0 ;; esac
    seen="$seen$name "
    f=$(find "$kdir" -name "$name.ko*" -o -name "${name//_/-}.ko*" | head -n1)
    [ -n "$f" ] || return 0   # built in
    for d in $(ko_depends "$f"); do resolve "$d"; done
    order+=("$f")
  }
  for m in virtio virtio_ring virtio_pci "${want[@]}"; do resolve "$m"; done
  mkdir -p "$tmp/root"/{bin,dev,proc,sys,lib/modules,tmp,etc}
  cp "$(command -v busybox)" "$tmp/root/bin/busybox"
  : > "$tmp/root/modules.order"
  for f in "${order[@]}"; do
    case "$f" in
      *.ko) cp "$f" "$tmp/root/lib/modules/" ;;
      *.ko.xz) xz -dc "$f" > "$tmp/root/lib/modules/$(basename "$f" .xz)" ;;
      *.ko.zst) zstd -qdc "$f" > "$tmp/root/lib/modules/$(basename "$f" .zst)" ;;
      *) continue ;;
    esac
    basename "${f%.xz}" | sed 's/\.zst$//' >> "$tmp/root/modules.order"
  done
  cat > "$tmp/root/init" <<'INIT'
#!/bin/busybox sh
# siteconf vm-boot test initramfs: read the kernel command line, bring up the NIC, fetch the
# NoCloud seed it names, print it on the serial console, power off.
/bin/busybox --install -s /bin
mount -t proc proc /proc; mount -t sysfs sys /sys; mount -t devtmpfs dev /dev 2>/dev/null
for m in $(cat /modules.order); do insmod "/lib/modules/$m" 2>/dev/null; done
echo "VMBOOT cmdline: $(cat /proc/cmdline)"
ip link set lo up
nic=""
for i in 1 2 3 4 5 6 7 8 9 10; do
  nic=$(ls /sys/class/net | grep -v '^lo$' | head -n1)
  [ -n "$nic" ] && break; sleep 1
done
echo "VMBOOT nic: $nic $(cat /sys/class/net/$nic/address 2>/dev/null)"
cat > /tmp/udhcpc.sh <<'S'
#!/bin/sh
case "$1" in bound|renew)
  ifconfig "$interface" "$ip" netmask "$subnet" up
  echo "VMBOOT lease: ip=$ip mask=$subnet hostname=$hostname" ;;
esac
S
chmod 755 /tmp/udhcpc.sh
ip link set "$nic" up
udhcpc -i "$nic" -s /tmp/udhcpc.sh -n -q -t 8 -T 3 || echo "VMBOOT dhcp-failed"
seed=""
for a in $(cat /proc/cmdline); do
  case "$a" in ds=nocloud-net\;s=*|ds=nocloud\;s=*) seed=${a#*;s=} ;; esac
done
# HTTP GET with nc: busybox-static's wget resolves names through glibc's NSS, which a static
# binary cannot load (it crashes); an address and a plain request need no resolver.
http_get() {
  rest=${1#http://}; hostport=${rest%%/*}; path=/${rest#*/}
  host=${hostport%:*}; port=${hostport##*:}; [ "$port" = "$hostport" ] && port=80
  printf 'GET %s HTTP/1.0\r\nHost: %s\r\nConnection: close\r\n\r\n' "$path" "$hostport" \
    | nc -w 20 "$host" "$port" > /tmp/resp || return 1
  head -n1 /tmp/resp | grep -q ' 200 ' || { head -n1 /tmp/resp; return 1; }
  tr -d '\r' < /tmp/resp | sed '1,/^$/d'
}
if [ -n "$seed" ]; then
  echo "VMBOOT seed-url: $seed"
  for f in meta-data user-data; do
    echo "VMBOOT-BEGIN $f"
    http_get "$seed$f" || echo "VMBOOT fetch-failed $f"
    echo "VMBOOT-END $f"
  done
else
  mac=""
  for a in $(cat /proc/cmdline); do case "$a" in siteconf.unknown-mac=*) mac=${a#*=} ;; esac; done
  echo "VMBOOT discovery: mac=$mac"
fi
echo "VMBOOT done"
sync
poweroff -f
INIT
  chmod 0755 "$tmp/root/init"
  (cd "$tmp/root" && find . | busybox cpio -o -H newc 2>/dev/null | gzip -1) > "$tmp/initrd.img"
  mkdir -p "$CACHE"
  cp "$(ls "$tmp"/pkg/boot/vmlinuz-* | head -n1)" "$CACHE/vmlinuz.new"
  cp "$tmp/initrd.img" "$CACHE/initrd.img.new"
  mv "$CACHE/vmlinuz.new" "$CACHE/vmlinuz"; mv "$CACHE/initrd.img.new" "$CACHE/initrd.img"
  chmod 0644 "$CACHE/vmlinuz" "$CACHE/initrd.img"; chmod 0755 "$CACHE"
  echo "$ver-3" > "$CACHE/version"
  echo "modules: ${order[*]##*/}"
  rm -rf "$tmp"
}
say "kernel and initramfs (cache: $CACHE)"
if ! build_image > "$WORK/image.log" 2>&1; then cat "$WORK/image.log"; abort "could not make the test kernel/initrd"; fi
cat "$WORK/image.log"
check "kernel and initramfs made from Debian packages" test -s "$CACHE/vmlinuz" -a -s "$CACHE/initrd.img"

# ---- the site ---------------------------------------------------------------------------------
KNOWN_MAC=52:54:00:5c:00:01 KNOWN_IP=10.0.0.101 OTHER_MAC=52:54:00:5c:00:02
UNKNOWN_MAC=52:54:00:5c:00:99
OUT="$WORK/out"
# no_timer_check: under TCG on a loaded machine the kernel's IO-APIC timer check can fail and
# panic ("IO-APIC + timer doesn't work"); the check proves nothing about the boot chain.
mkdir -p "$WORK/project/site"
cat > "$WORK/project/site/site.kdl" <<EOF
site vmlab {
    domain "vmlab.example.net"
    dns-servers "10.0.0.2"
    boot {
        servers "10.0.0.2"
        base-url "http://10.0.0.2"
        serve-dir "$OUT"
        images-dir "$CACHE"
        unknown discover
        discovery-image discovery
        discovery-range "10.0.0.20-10.0.0.29"
        image test {
            kernel "http://10.0.0.2/images/vmlinuz"
            initrd "http://10.0.0.2/images/initrd.img"
            args "console=ttyS0 panic=-1 quiet no_timer_check"
        }
        image discovery {
            kernel "http://10.0.0.2/images/vmlinuz"
            initrd "http://10.0.0.2/images/initrd.img"
            args "console=ttyS0 panic=-1 quiet no_timer_check siteconf.discovery"
        }
    }
    defaults { boot-image test; }
}
network mgmt {
    purpose management
    ipv4 "10.0.0.0/24"
    gateway4 "10.0.0.1"
    reserved "10.0.0.1-10.0.0.31"
}
rack r01 { height 42; }
node r01n01 {
    rack r01; position 1; role compute
    interface eno1 { mac "$KNOWN_MAC"; }
    address mgmt interface=eno1 ipv4="$KNOWN_IP"
}
node r01n02 {
    rack r01; position 2; role compute
    interface eno1 { mac "$OTHER_MAC"; }
    address mgmt interface=eno1 ipv4="10.0.0.102"
}
EOF
say "siteconf build"
if ! (cd "$WORK/project" && "$SITECONF" build --out "$OUT") > "$WORK/build.log" 2>&1; then
  cat "$WORK/build.log"; abort "siteconf build failed"
fi
for f in site/dhcp/kea-dhcp4.json site/boot/nginx.conf site/boot/ipxe/unknown.ipxe \
         "site/boot/ipxe/${KNOWN_MAC//:/-}.ipxe" nodes/r01n01/cloud-init/user-data; do
  [ -s "$OUT/$f" ] || abort "build has no $f"
done

for kf in "kea4 site/dhcp/kea-dhcp4.json" "nginx site/boot/nginx.conf"; do
  set -- $kf
  check "$1 accepts the generated $2" bash -c '"$0" "$1" "$2" > "$3" 2>&1 || { cat "$3"; exit 1; }' \
    "$HERE/check-artifact.sh" "$1" "$OUT/$2" "$WORK/check-$1.log"
done

# ---- the boot network: bridge 10.0.0.2/24 in a namespace, Kea, nginx ---------------------------
say "namespace $NS: Kea and nginx with the generated configurations"
ip netns add "$NS"
nsx() { ip netns exec "$NS" "$@"; }
nsx ip link set lo up
nsx ip link add br0 type bridge
nsx ip addr add 10.0.0.2/24 dev br0
nsx ip link set br0 up
for t in tap0 tap1 tap2; do
  nsx ip tuntap add "$t" mode tap
  nsx ip link set "$t" master br0
  nsx ip link set "$t" up
done
# A bridge has carrier only while a port has: a veth port keeps it up before QEMU opens the
# taps, so Kea finds br0 running when it opens its sockets.
nsx ip link add vcarrier type veth peer name vcarrier-peer
nsx ip link set vcarrier master br0
nsx ip link set vcarrier up
nsx ip link set vcarrier-peer up
# Kea: the generated file, with only the lease file moved into the work dir (the default is
# the system's /var/lib/kea) — nothing that decides what a client gets is changed.
mkdir -p "$WORK/kea" "$WORK/nginx"
python3 - "$OUT/site/dhcp/kea-dhcp4.json" "$WORK/kea/kea-dhcp4.json" "$WORK/kea/leases4.csv" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))
c["Dhcp4"]["lease-database"]["name"] = sys.argv[3]
c["Dhcp4"]["lease-database"]["lfc-interval"] = 0
json.dump(c, open(sys.argv[2], "w"), indent=2)
PY
KEA_PIDFILE_DIR="$WORK/kea" KEA_LOCKFILE_DIR="$WORK/kea" \
  ip netns exec "$NS" kea-dhcp4 -c "$WORK/kea/kea-dhcp4.json" > "$WORK/kea/kea.log" 2>&1 &
PIDS+=($!)
# Started directly (not through a shell function, whose background job would be a subshell):
# $! is nginx's master itself, which the teardown kills with its workers.
ip netns exec "$NS" nginx -p "$WORK/nginx/" -c "$OUT/site/boot/nginx.conf" -g 'daemon off;' > "$WORK/nginx/stderr.log" 2>&1 &
PIDS+=($!)
up=0
for _ in $(seq 1 60); do
  if nsx busybox wget -q -O /dev/null http://10.0.0.2/boot/unknown.ipxe 2>/dev/null \
     && grep -q 'DHCP4_STARTED\|DHCPSRV_.*OPEN\|DHCP4_CONFIG_COMPLETE' "$WORK/kea/kea.log"; then up=1; break; fi
  sleep 0.5
done
[ "$up" = 1 ] || { tail -n 20 "$WORK/kea/kea.log" "$WORK/nginx/stderr.log" "$WORK/nginx/error.log" 2>/dev/null; abort "Kea or nginx did not come up"; }
ok "Kea and nginx started with the generated configurations"

# ---- what the HTTP service must refuse ---------------------------------------------------------
http_status() { # URL -> HTTP status code
  nsx python3 -c 'import sys, urllib.request, urllib.error
try:
    print(urllib.request.urlopen(sys.argv[1], timeout=10).status)
except urllib.error.HTTPError as e:
    print(e.code)
except Exception as e:
    print("error", e)' "$1"
}
check "a declared node's seed is served" test "$(http_status http://10.0.0.2/nodes/r01n01/meta-data)" = 200
check "an undeclared node's seed is 404" test "$(http_status http://10.0.0.2/nodes/ghost/meta-data)" = 404
check "the unknown MAC's own script name is 404" test "$(http_status "http://10.0.0.2/boot/${UNKNOWN_MAC//:/-}.ipxe")" = 404
check "no other file of the tree is served (nginx.conf)" test "$(http_status http://10.0.0.2/site/boot/nginx.conf)" = 404
check "no path escape (/nodes/../site/...)" test "$(http_status 'http://10.0.0.2/nodes/r01n01/../../site/dhcp/kea-dhcp4.json')" = 404

# ---- the virtual machines -------------------------------------------------------------------
# The NIC's boot ROM: Debian's iPXE for virtio (ipxe-qemu), named explicitly (this QEMU's
# data dir may not link it). That ROM declares the modern virtio-net PCI id (1af4:1041), and
# SeaBIOS runs a ROM only on a device with the id it declares: hence disable-legacy=on (a
# transitional device is 1af4:1000 and would boot without its ROM, i.e. not at all).
# iPXE prints to the VGA console only (no display here); the kernel prints on the serial one.
ROM=/usr/share/qemu/efi-virtio.rom; [ -e "$ROM" ] || ROM=/usr/lib/ipxe/qemu/efi-virtio.rom
boot_vm() { # NAME TAP MAC: starts QEMU in the namespace, serial console to WORK/NAME.serial
  local name=$1 tap=$2 mac=$3
  ip netns exec "$NS" qemu-system-x86_64 -machine pc,accel=tcg -m 384 -smp 1 \
    -display none -monitor none -no-reboot \
    -serial "file:$WORK/$name.serial" \
    -netdev "tap,id=n0,ifname=$tap,script=no,downscript=no" \
    -device "virtio-net-pci,netdev=n0,mac=$mac,disable-legacy=on,romfile=$ROM" -boot n \
    > "$WORK/$name.qemu.log" 2>&1 &
  echo $!
}
say "booting VM 'known' (MAC $KNOWN_MAC, node r01n01) and VM 'unknown' (MAC $UNKNOWN_MAC)"
T0=$(date +%s)
P1=$(boot_vm known tap0 "$KNOWN_MAC"); PIDS+=("$P1")
P2=$(boot_vm unknown tap1 "$UNKNOWN_MAC"); PIDS+=("$P2")
while :; do
  done1=0 done2=0
  grep -q 'VMBOOT done' "$WORK/known.serial" 2>/dev/null && done1=1
  grep -q 'VMBOOT done' "$WORK/unknown.serial" 2>/dev/null && done2=1
  kill -0 "$P1" 2>/dev/null || done1=1
  kill -0 "$P2" 2>/dev/null || done2=1
  [ $done1 = 1 ] && [ $done2 = 1 ] && break
  [ $(( $(date +%s) - T0 )) -lt "$TIMEOUT" ] || { echo "timeout after $TIMEOUT s"; break; }
  sleep 1
done
sleep 1
echo "VMs finished in $(( $(date +%s) - T0 )) s"
for p in "$P1" "$P2"; do kill "$p" 2>/dev/null || true; done

S1="$WORK/known.serial" S2="$WORK/unknown.serial" ACC="$WORK/nginx/access.log"
tr -d '\r' < "$S1" > "$S1.txt" 2>/dev/null || : > "$S1.txt"
tr -d '\r' < "$S2" > "$S2.txt" 2>/dev/null || : > "$S2.txt"
show() { echo "---- $1 (last 40 lines)"; tail -n 40 "$2" 2>/dev/null || true; echo "----"; }

# ---- checks: the declared machine ---------------------------------------------------------------
F0=$FAIL
check "known VM: got its reserved address $KNOWN_IP from Kea" \
  grep -q "VMBOOT lease: ip=$KNOWN_IP " "$S1.txt"
check "known VM: Kea leased $KNOWN_IP to $KNOWN_MAC" \
  grep -q "^$KNOWN_IP,$KNOWN_MAC," "$WORK/kea/leases4.csv"
check "known VM: iPXE loaded its own script over HTTP" \
  grep -q "^$KNOWN_IP .*\"GET /boot/${KNOWN_MAC//:/-}.ipxe HTTP/1.[01]\" 200 " "$ACC"
check "known VM: iPXE loaded the kernel and initrd the script names" \
  bash -c "grep -q '^$KNOWN_IP .*\"GET /images/vmlinuz HTTP/1.[01]\" 200 ' '$ACC' && grep -q '^$KNOWN_IP .*\"GET /images/initrd.img HTTP/1.[01]\" 200 ' '$ACC'"
check "known VM: the kernel command line carries its own seed URL" \
  grep -qF 'ds=nocloud-net;s=http://10.0.0.2/nodes/r01n01/' "$S1.txt"
# the seed as the VM printed it
python3 - "$S1.txt" "$WORK/known" <<'PY' || true
import re, sys
text = open(sys.argv[1], errors="replace").read()
for f in ("meta-data", "user-data"):
    m = re.search(r"VMBOOT-BEGIN %s\n(.*?)VMBOOT-END %s" % (f, f), text, re.S)
    open("%s.%s" % (sys.argv[2], f), "w").write(m.group(1) if m else "")
PY
seed_facts() { # the hostname, fqdn, local-hostname and netplan addresses the VM received
  python3 - "$WORK/known.meta-data" "$WORK/known.user-data" <<'PY'
import base64, sys, yaml
meta = yaml.safe_load(open(sys.argv[1])) or {}
ud = yaml.safe_load(open(sys.argv[2])) or {}
addrs = []
for wf in ud.get("write_files", []):
    if wf.get("path", "").startswith("/etc/netplan/"):
        c = wf.get("content", "")
        if wf.get("encoding") in ("b64", "base64"):
            c = base64.b64decode(c).decode()
        for eth in (yaml.safe_load(c).get("network", {}).get("ethernets") or {}).values():
            addrs += eth.get("addresses") or []
print("local-hostname=%s" % meta.get("local-hostname"))
print("hostname=%s" % ud.get("hostname"))
print("fqdn=%s" % ud.get("fqdn"))
print("addresses=%s" % ",".join(map(str, addrs)))
PY
}
facts=$(seed_facts 2>&1 || true)
echo "$facts" | sed 's/^/  seed: /'
check "known VM: received the seed of r01n01 (local-hostname)" grep -qx 'local-hostname=r01n01' <<<"$facts"
check "known VM: seed hostname is r01n01" grep -qx 'hostname=r01n01' <<<"$facts"
check "known VM: seed FQDN is r01n01.vmlab.example.net" grep -qx 'fqdn=r01n01.vmlab.example.net' <<<"$facts"
check "known VM: seed management address is $KNOWN_IP/24" grep -qE "^addresses=(.*,)?$KNOWN_IP/24(,|$)" <<<"$facts"
# The seed as received, read by cloud-init's own schema check (the NoCloud pair).
mkdir -p "$WORK/received-seed"
cp "$WORK/known.meta-data" "$WORK/received-seed/meta-data" 2>/dev/null || true
cp "$WORK/known.user-data" "$WORK/received-seed/user-data" 2>/dev/null || true
check "known VM: the seed it received is accepted by cloud-init (schema, NoCloud meta-data)" \
  bash -c '"$0" cloud-config "$1" > "$2" 2>&1 || { cat "$2"; exit 1; }' \
  "$HERE/check-artifact.sh" "$WORK/received-seed" "$WORK/check-seed.log"
# ---- stretch: the real cloud-init applies the seed the VM received -----------------------------
# The host's cloud-init (Debian 12: 22.4.2) runs all four stages on that seed, as a local NoCloud
# seed, in a throwaway copy-on-write view of this machine: an overlay over / (changes land in a
# tmpfs) in private mount, UTS, network and PID namespaces. Nothing of the host changes.
# The kernel command line the VM booted with is the sandbox's too (cloud-init reads
# DEBUG_PROC_CMDLINE in place of /proc/cmdline): cloud-init 22.4 takes a network config from an
# HTTP seed only from there (`network-config=`, the first source its init-local stage consults).
# A veth NIC with the VM's MAC stands in for the machine's, which the config matches (sysfs is
# mounted anew so that it shows the sandbox's network namespace).
# Its `ds=` goes: the sandbox has no network to fetch the seed with, and gets the seed the VM
# fetched as a local one instead.
sed -n 's/^VMBOOT cmdline: //p' "$S1.txt" | head -n1 | tr -d '\r' | sed 's/ ds=[^ ]*//' \
  > "$WORK/known.cmdline"
cat > "$WORK/cloud-init-run.sh" <<'CI'
#!/bin/bash
set -u
SEED=$1 W=$2 CMDLINE=$3 MAC=$4
mount -t tmpfs tmpfs "$W" || exit 3
mkdir -p "$W/upper" "$W/work" "$W/root"
mount -t overlay overlay -o "lowerdir=/,upperdir=$W/upper,workdir=$W/work" "$W/root" || exit 3
R="$W/root"
mount -t proc proc "$R/proc"; mount -t sysfs sysfs "$R/sys"; mount --rbind /dev "$R/dev"
mount -t tmpfs tmpfs "$R/run"; mount -t tmpfs tmpfs "$R/tmp"
rm -rf "$R/var/lib/cloud" "$R/var/log/cloud-init.log" "$R/var/log/cloud-init-output.log"
mkdir -p "$R/var/lib/cloud/seed/nocloud" "$R/etc/cloud/cloud.cfg.d"
cp "$SEED"/* "$R/var/lib/cloud/seed/nocloud/"
printf 'datasource_list: [ NoCloud ]\n' > "$R/etc/cloud/cloud.cfg.d/99-siteconf-vm-boot.cfg"
hostname localhost
ip link add nic0 type veth peer name nic1 && ip link set nic0 address "$MAC" || echo "no NIC"
# cloud-init runs `udevadm test-builtin net_setup_link` after writing netplan; a machine has udev,
# this sandbox may not: a stand-in that succeeds, inside the overlay only.
command -v udevadm > /dev/null || { printf '#!/bin/sh\nexit 0\n' > "$R/usr/bin/udevadm"; chmod 0755 "$R/usr/bin/udevadm"; }
export DEBUG_PROC_CMDLINE
DEBUG_PROC_CMDLINE=$(cat "$CMDLINE")
for stage in "init --local" "init" "modules --mode config" "modules --mode final"; do
  chroot "$R" cloud-init $stage > /dev/null 2>&1 || echo "stage '$stage' exit $?"
  if [ "$stage" = "init --local" ]; then
    # What init-local made of the network config, before user-data's own netplan file.
    echo "netcfg-source=$(grep -o 'Applying network configuration from [A-Za-z_.]*' "$R/var/log/cloud-init.log" | head -n1 | awk '{print $NF}')"
    echo "netcfg-address=$(grep -o '10\.0\.0\.[0-9]*/24' "$R/etc/netplan/50-cloud-init.yaml" 2>/dev/null | head -n1)"
    echo "netcfg-dhcp4=$(grep -o 'dhcp4: [a-z]*' "$R/etc/netplan/50-cloud-init.yaml" 2>/dev/null | head -n1)"
  fi
done
echo "uts-hostname=$(hostname)"
echo "etc-hostname=$(cat "$R/etc/hostname")"
echo "netplan-mode=$(stat -c %a "$R/etc/netplan/50-siteconf.yaml" 2>/dev/null)"
echo "netplan-address=$(grep -o '10\.0\.0\.[0-9]*/24' "$R/etc/netplan/50-siteconf.yaml" 2>/dev/null | head -n1)"
echo "hosts-line=$(grep -v '^#' "$R/etc/hosts" | grep -w r01n01.vmlab.example.net | head -n1)"
echo "ds=$(sed -n 's/.*"datasource": "\([^"]*\)".*/\1/p' "$R/var/lib/cloud/data/status.json" 2>/dev/null | head -n1)"
echo "other-netplan=$(cd "$R/etc/netplan" && ls | grep -v '^50-siteconf.yaml$' | paste -sd, -)"
CI
chmod 0755 "$WORK/cloud-init-run.sh"
mkdir -p "$WORK/ci"
ci_rc=0
timeout 300 unshare -m -u -n -p --fork --propagation private \
  "$WORK/cloud-init-run.sh" "$WORK/received-seed" "$WORK/ci" "$WORK/known.cmdline" "$KNOWN_MAC" \
  > "$WORK/cloud-init.txt" 2>&1 || ci_rc=$?
if [ "$ci_rc" = 3 ]; then
  echo "SKIP real cloud-init on the seed: no overlay mount here"
else
  sed 's/^/  cloud-init: /' "$WORK/cloud-init.txt"
  check "real cloud-init on the received seed: hostname r01n01 set" grep -qx 'uts-hostname=r01n01' "$WORK/cloud-init.txt"
  check "real cloud-init on the received seed: /etc/hostname is r01n01" grep -qx 'etc-hostname=r01n01' "$WORK/cloud-init.txt"
  check "real cloud-init at first boot: network config from the kernel command line (the VM's)" \
    grep -qx 'netcfg-source=cmdline' "$WORK/cloud-init.txt"
  check "real cloud-init at first boot: netplan has the static $KNOWN_IP/24, no DHCP" \
    bash -c "grep -qx 'netcfg-address=$KNOWN_IP/24' '$WORK/cloud-init.txt' && grep -qx 'netcfg-dhcp4=dhcp4: false' '$WORK/cloud-init.txt'"
  check "real cloud-init on the received seed: netplan 50-siteconf.yaml written 0600 with $KNOWN_IP/24" \
    bash -c "grep -qx 'netplan-mode=600' '$WORK/cloud-init.txt' && grep -qx 'netplan-address=$KNOWN_IP/24' '$WORK/cloud-init.txt'"
  check "real cloud-init on the received seed: /etc/hosts maps the FQDN to $KNOWN_IP" \
    grep -qE "^hosts-line=$KNOWN_IP[[:space:]].*r01n01\.vmlab\.example\.net" "$WORK/cloud-init.txt"
fi

[ "$FAIL" = "$F0" ] || show "known VM serial console" "$S1.txt"

# ---- checks: the unknown machine ------------------------------------------------------------------
F1=$FAIL
UIP=$(sed -n 's/^VMBOOT lease: ip=\([0-9.]*\) .*/\1/p' "$S2.txt" | head -n1)
in_range() { python3 -c 'import ipaddress,sys; a=ipaddress.ip_address(sys.argv[1]); sys.exit(0 if ipaddress.ip_address("10.0.0.20") <= a <= ipaddress.ip_address("10.0.0.29") else 1)' "$1" 2>/dev/null; }
check "unknown VM: got an address from the discovery range ($UIP)" in_range "${UIP:-none}"
check "unknown VM: iPXE got the unknown-MAC script" \
  grep -q "^${UIP:-none} .*\"GET /boot/unknown.ipxe HTTP/1.[01]\" 200 " "$ACC"
check "unknown VM: booted the discovery path with its MAC" \
  grep -qi "VMBOOT discovery: mac=$UNKNOWN_MAC" "$S2.txt"
check "unknown VM: no seed URL on its kernel command line" \
  bash -c "! grep -q 'ds=nocloud' '$S2.txt'"
check "unknown VM: never requested a node's seed or script" \
  bash -c "! grep -E '^${UIP:-none} .*\"GET /(nodes/|boot/[0-9a-f-]{17}\\.ipxe)' '$ACC'"
[ "$FAIL" = "$F1" ] || show "unknown VM serial console" "$S2.txt"
# ---- the other unknown-MAC policy: report and stop ---------------------------------------------
# Only site/boot/ipxe/unknown.ipxe depends on the policy (Kea's configuration is the same):
# rebuild with `unknown report` into the served tree (an atomic swap under nginx) and boot a
# third machine with another unknown MAC. It must report its MAC and boot nothing.
REPORT_MAC=52:54:00:5c:00:98
say "unknown \"report\": VM 'report' (MAC $REPORT_MAC)"
# The same rebuild decommissions node r01n02 (removed from the site): its seed and script,
# served before, must be gone.
check "r01n02 (declared) is served before it is decommissioned" \
  test "$(http_status http://10.0.0.2/nodes/r01n02/meta-data) $(http_status "http://10.0.0.2/boot/${OTHER_MAC//:/-}.ipxe")" = "200 200"
sed -i 's/^        unknown discover$/        unknown report/' "$WORK/project/site/site.kdl"
python3 - "$WORK/project/site/site.kdl" <<'PY'
import re, sys
p = sys.argv[1]
s = open(p).read()
open(p, "w").write(re.sub(r"\nnode r01n02 \{.*?\n\}\n", "\n", s, flags=re.S))
PY
if (cd "$WORK/project" && "$SITECONF" build --out "$OUT") >> "$WORK/build.log" 2>&1 \
   && grep -q 'policy: report' "$OUT/site/boot/ipxe/unknown.ipxe"; then
  cmp -s "$WORK/kea/kea-dhcp4.json" <(python3 - "$OUT/site/dhcp/kea-dhcp4.json" "$WORK/kea/leases4.csv" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))
c["Dhcp4"]["lease-database"]["name"] = sys.argv[2]
c["Dhcp4"]["lease-database"]["lfc-interval"] = 0
print(json.dumps(c, indent=2), end="")
PY
) || echo "note: the Kea configuration changed with the policy; the running Kea keeps the first one"
  check "decommissioned r01n02: seed and script no longer served (404)" \
    test "$(http_status http://10.0.0.2/nodes/r01n02/meta-data) $(http_status "http://10.0.0.2/boot/${OTHER_MAC//:/-}.ipxe")" = "404 404"
  P3=$(boot_vm report tap2 "$REPORT_MAC"); PIDS+=("$P3")
  T0=$(date +%s)
  R="\"GET /boot/unknown/${REPORT_MAC//:/-} HTTP/1.[01]\" 204 "
  until grep -q "$R" "$ACC" 2>/dev/null; do
    kill -0 "$P3" 2>/dev/null || break
    [ $(( $(date +%s) - T0 )) -lt "$TIMEOUT" ] || { echo "timeout after $TIMEOUT s"; break; }
    sleep 1
  done
  sleep 5   # time to do anything else it would do (it must not)
  kill "$P3" 2>/dev/null || true
  RIP=$(grep "$R" "$ACC" | head -n1 | cut -d' ' -f1)
  echo "report VM: $(( $(date +%s) - T0 )) s, address ${RIP:-none}"
  check "report VM: reported its MAC to the boot server (GET /boot/unknown/<mac> → 204)" test -n "$RIP"
  check "report VM: got the unknown-MAC script" \
    grep -q "^${RIP:-none} .*\"GET /boot/unknown.ipxe HTTP/1.[01]\" 200 " "$ACC"
  check "report VM: loaded no image, no node's script, no seed" \
    bash -c "! grep -E '^${RIP:-none} .*\"GET /(images/|nodes/|boot/[0-9a-f-]{17}\\.ipxe)' '$ACC'"
else
  fail "rebuild with unknown \"report\""
fi

# ---- what the boot network saw, as `siteconf state` reports it ---------------------------------
(cd "$WORK/project" && "$SITECONF" --color never state --leases "$WORK/kea/leases4.csv") > "$WORK/state.txt" 2>&1 || true
for m in "$UNKNOWN_MAC" "$REPORT_MAC"; do
  check "siteconf state lists unknown machine $m from Kea's leases (SC1007)" \
    grep -q "unknown machine $m" "$WORK/state.txt"
done
check "siteconf state does not call node r01n01's MAC unknown" bash -c "! grep -q 'unknown machine $KNOWN_MAC' '$WORK/state.txt'"

if [ "$FAIL" != 0 ]; then
  show "nginx access log" "$ACC"; show "Kea log (warnings, errors, leases)" <(grep -E 'WARN|ERROR|DHCP4_LEASE_ALLOC|DHCP4_PACKET_NAK|CLASS' "$WORK/kea/kea.log")
fi
finish
