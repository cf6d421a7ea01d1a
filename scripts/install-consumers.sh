#!/usr/bin/env bash
# install-consumers.sh — install the real programs that consume siteconf's artifacts
# (FRR, Kea, BIND's zone checker, netplan, OpenSSH, cloud-init, apt, xmllint/rsvg,
# ansible-core, check-jsonschema, taplo, pre-commit), so that tests/consumers/ can check every
# artifact with them and run the BGP interop test, and tests/init.rs can run a new project's hook.
#
#   sudo scripts/install-consumers.sh
#
# Debian 12, as root. Idempotent and non-interactive (no stdin needed, fine under CI=true):
# it only runs `apt-get update` / `apt-get install` for packages that are missing, and only
# (re)builds the venv when its pinned requirements changed. A second run installs nothing.
# Package daemons (frr, kea-dhcp4-server, ssh, nginx) are kept from starting during the install.
#
# Environment:
#   SITECONF_CONSUMERS_VENV    venv for the PyPI tools (default /opt/siteconf-consumers/venv)
#   SITECONF_CONSUMERS_PYTHON  python >= 3.11 with venv to build it with
#                              (default /usr/bin/python3, so the venv is usable by every user)
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive NEEDRESTART_MODE=l LC_ALL=C.UTF-8
exec </dev/null

HERE=$(cd "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
REQS="$HERE/consumers-requirements.txt"
VENV=${SITECONF_CONSUMERS_VENV:-/opt/siteconf-consumers/venv}
START=$(date +%s.%N)
installed=()

say() { printf '== %s\n' "$*"; }
die() { printf 'install-consumers: ERROR: %s\n' "$*" >&2; exit 1; }
elapsed() { awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }'; }

[ "$(id -u)" -eq 0 ] || die "must run as root (it installs Debian packages and a venv under /opt)"
[ -r "$REQS" ] || die "missing $REQS"
if ! command -v dpkg-query >/dev/null || ! command -v apt-get >/dev/null; then die "needs a Debian system with apt"; fi

# Debian package -> what the consumer tests use it for
declare -A WHY=(
  [bind9-utils]="named-checkzone (zone)"
  [frr]="vtysh -C, bgpd/zebra/staticd -C (frr); daemons for bgp-interop"
  [frr-pythontools]="frr-reload.py --test (frr)"
  [kea-dhcp4-server]="kea-dhcp4 -t (kea4)"
  [netplan.io]="netplan generate (netplan)"
  [openssh-server]="sshd -t, sshd -i (sshd, authorized_keys)"
  [openssh-client]="ssh-keygen, ssh (authorized_keys)"
  [cloud-init]="cloud-init schema (cloud-config)"
  [libxml2-utils]="xmllint (svg)"
  [librsvg2-bin]="rsvg-convert (svg)"
  [apt]="apt-get update --print-uris (deb822)"
  [iproute2]="ip netns / ip link (kea4, bgp-interop)"
  [iputils-ping]="ping between loopbacks (bgp-interop data plane)"
  [util-linux]="unshare (frr, kea4)"
  [python3]="JSON/YAML helpers, cloud-init's python"
  [python3-venv]="venv for the PyPI tools"
  [chromium]="headless page load + screenshot of siteconf state --html (tests/state_html.rs)"
  [nginx-light]="nginx -t (nginx); the boot/seed HTTP service in vm-boot"
  [qemu-system-x86]="the virtual machine that network-boots in vm-boot (TCG)"
  [ipxe-qemu]="the iPXE boot ROM of QEMU's virtio NIC (vm-boot)"
  [busybox-static]="the test initramfs of vm-boot (udhcpc, wget, cpio)"
  [file]="the release binary is static (scripts/release.sh, tests/release.sh)"
  [man-db]="man -l on the packaged man pages (tests/release.sh)"
  [dpkg-dev]="dpkg-shlibdeps for cargo-deb (scripts/release.sh)"
  [binutils]="strip for cargo-deb (scripts/release.sh)"
)
PKGS=(bind9-utils frr frr-pythontools kea-dhcp4-server netplan.io openssh-server openssh-client
      cloud-init libxml2-utils librsvg2-bin apt iproute2 iputils-ping util-linux python3 python3-venv chromium
      nginx-light qemu-system-x86 ipxe-qemu busybox-static file man-db dpkg-dev binutils)

is_installed() { [ "$(dpkg-query -W -f='${db:Status-Abbrev}' "$1" 2>/dev/null)" = "ii " ]; }

# ---- Debian packages ---------------------------------------------------------------------
missing=()
for p in "${PKGS[@]}"; do is_installed "$p" || missing+=("$p"); done

POLICY=/usr/sbin/policy-rc.d
placed_policy=0
# shellcheck disable=SC2317  # called by the EXIT trap
cleanup() { if [ "$placed_policy" = 1 ]; then rm -f "$POLICY"; fi; }
trap cleanup EXIT

if [ ${#missing[@]} -eq 0 ]; then
  say "apt: all ${#PKGS[@]} packages present"
else
  for p in "${missing[@]}"; do say "apt: missing $p — ${WHY[$p]}"; done
  # Keep frr / kea-dhcp4-server / ssh from being started by their maintainer scripts: the tests
  # run their own private instances. Only place a policy if the host has none (Docker images do).
  if [ ! -e "$POLICY" ]; then
    printf '#!/bin/sh\n# placed by siteconf scripts/install-consumers.sh for the duration of an install\nexit 101\n' > "$POLICY"
    chmod 0755 "$POLICY"
    placed_policy=1
  fi
  had_cloud_init=0; is_installed cloud-init && had_cloud_init=1
  t=$(date +%s.%N)
  apt-get update -q -o Dpkg::Use-Pty=0 || die "apt-get update failed"
  apt-get install -y -q --no-install-recommends -o Dpkg::Use-Pty=0 \
      -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold "${missing[@]}" \
    || die "apt-get install ${missing[*]} failed"
  for p in "${missing[@]}"; do is_installed "$p" || die "package $p is still not installed"; done
  say "apt: installed ${missing[*]} in $(elapsed "$t") s"
  installed+=("${missing[@]}")
  cleanup; placed_policy=0
  # A freshly installed cloud-init would provision this host at its next systemd boot; we only
  # want `cloud-init schema`. Leave a host that already had cloud-init alone.
  if [ "$had_cloud_init" = 0 ] && [ ! -e /etc/cloud/cloud-init.disabled ]; then
    mkdir -p /etc/cloud && touch /etc/cloud/cloud-init.disabled
    say "created /etc/cloud/cloud-init.disabled (cloud-init is here only for its schema check)"
  fi
fi

# ---- PyPI tools in a pinned venv ----------------------------------------------------------
pick_python() {
  local c
  for c in "${SITECONF_CONSUMERS_PYTHON:-}" /usr/bin/python3 python3; do
    if [ -z "$c" ] || ! command -v "$c" >/dev/null 2>&1; then continue; fi
    "$c" -c 'import sys, venv, ensurepip; sys.exit(sys.version_info < (3, 11))' 2>/dev/null || continue
    command -v "$c"; return 0
  done
  return 1
}
# The stamp records the requirements it was built from; a changed pin list rebuilds the venv.
want_stamp=$(sha256sum < "$REQS" | cut -d' ' -f1)
stamp="$VENV/.siteconf-requirements.sha256"
venv_ok() {
  [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want_stamp" ] || return 1
  local b; for b in ansible-inventory check-jsonschema taplo pre-commit python; do [ -x "$VENV/bin/$b" ] || return 1; done
  "$VENV/bin/python" -c '' 2>/dev/null
}
if venv_ok; then
  say "venv: $VENV has the pinned tools"
else
  t=$(date +%s.%N)
  PY=$(pick_python) || die "no python >= 3.11 with the venv module (install python3-venv)"
  say "venv: building $VENV with $PY ($("$PY" -V 2>&1))"
  rm -rf "$VENV"; mkdir -p "$(dirname -- "$VENV")"
  "$PY" -m venv "$VENV" || die "python -m venv $VENV failed"
  "$VENV/bin/python" -m pip install -q --no-input --disable-pip-version-check --no-deps \
      --require-virtualenv -r "$REQS" || die "pip install -r $REQS failed"
  "$VENV/bin/python" -m pip check >/dev/null || die "pinned requirements are inconsistent: $("$VENV/bin/python" -m pip check)"
  echo "$want_stamp" > "$stamp"
  venv_ok || die "venv $VENV is incomplete after install"
  say "venv: installed $(grep -cE '^[A-Za-z]' "$REQS") pinned packages in $(elapsed "$t") s ($(du -sh "$VENV" | cut -f1))"
  installed+=("venv:$VENV")
fi

# ---- summary ------------------------------------------------------------------------------
say "versions:"
dpkg-query -W -f='   ${Package} ${Version}\n' frr kea-dhcp4-server bind9-utils netplan.io openssh-server cloud-init librsvg2-bin libxml2-utils
# (from the pins the venv was verified against: starting ansible just to ask costs a second)
grep -iE '^(ansible-core|check-jsonschema|taplo|pre-commit)==' "$REQS" | sed 's/==/ /; s/^/   /; s/$/ (venv)/'
if [ ${#installed[@]} -eq 0 ]; then
  say "install-consumers: nothing to install; total $(elapsed "$START") s"
else
  say "install-consumers: installed ${installed[*]}; total $(elapsed "$START") s"
fi
