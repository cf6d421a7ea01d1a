#!/usr/bin/env bash
# check-artifact.sh — have the REAL program that consumes a siteconf artifact read it, offline,
# and fail where that program would fail, warn, or silently ignore something.
#
#   tests/consumers/check-artifact.sh KIND PATH [ARG...]
#
#   KIND             PATH                                   consumer (strictness added)
#   inventory        inventory dir, hosts.yml, or an         ansible-inventory --list (warnings fail;
#                    executable script inventory             broken/orphan vars files fail; script:
#                                                            --host must agree with _meta)
#   frr              frr.conf (integrated)                  vtysh -C; frr-reload.py --test;
#                                                            bgpd/zebra/staticd -C in `unshare -n`
#                                                            (a line every daemon rejects fails)
#   zone             zone file; ARG = origin (default:      named-checkzone, every check set to fail,
#                    file name without .zone)               no DNS lookups
#   kea4             kea-dhcp4 JSON                         kea-dhcp4 -t in a private netns with the
#                                                            interfaces it names (WARN fails)
#   nginx            a whole nginx.conf (site/boot/)        nginx -t -p TMP -c FILE in a private netns
#                                                            holding the addresses it listens on
#                                                            ([warn] fails)
#   netplan          a netplan YAML, or a dir of them       netplan generate --root-dir (WARNING fails)
#   sshd             an sshd_config.d drop-in, or a dir     sshd -t under Debian's stock main config
#   authorized_keys  authorized_keys file                   ssh-keygen -l line by line; sshd's own
#                                                            key-option parser (sshd -i over a pipe)
#   cloud-config     #cloud-config user-data, or a          cloud-init schema (deprecations and unknown
#                    NoCloud dir (user-data + meta-data      top-level keys fail; meta-data checked;
#                    [+ network-config])                     network-config: cloud-init's v2 parser,
#                                                            then netplan generate on what it passes on)
#   deb822           a .sources file, or a dir of them      apt-get update --print-uris, scratch dirs
#   svg              SVG file                               xmllint --noout --nonet; rsvg-convert
#   jsonschema       SCHEMA DOC...                          check-jsonschema (+ taplo for .toml)
#   hostname         etc/hostname                           hostname -F in a private UTS namespace
#   hosts            etc/hosts                              glibc (getent -s files) with the file bind-
#                                                            mounted on /etc/hosts: every name resolves
#                                                            to the address its line gives
#   html             an HTML page (racks/index.html)        xmllint --html (any message fails); local
#                                                            links must exist
#   manifest         OUT/manifest.json                      every listed file exists with its size and
#                                                            sha256, every file under OUT is listed
#
# Exit: 0 accepted, 1 rejected (the consumer's messages are printed), 2 usage error or the
# consumer is not installed (run scripts/install-consumers.sh). The last line printed is
# `OK   KIND PATH` or `FAIL KIND PATH`. Each run works in its own temp dir, network namespace
# and FRR path space, so checks can run in parallel.
#
# Environment: SITECONF_CONSUMERS_VENV (default /opt/siteconf-consumers/venv);
#   CHECK_VERBOSE=1 prints the consumer's output on success too;
#   CLOUD_CONFIG_EXTRA_KEYS="k1 k2" allows more top-level cloud-config keys.
# frr, kea4, nginx, sshd, authorized_keys, hostname and hosts need root.
set -euo pipefail

export LC_ALL=C.UTF-8 LANG=C.UTF-8 NO_COLOR=1
export PATH="/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
VENV=${SITECONF_CONSUMERS_VENV:-/opt/siteconf-consumers/venv}
SELF=$(readlink -f -- "${BASH_SOURCE[0]}")
LIB=$(dirname -- "$SELF")/lib
KINDS="inventory frr zone kea4 nginx netplan sshd authorized_keys cloud-config deb822 svg jsonschema manifest hostname hosts html"

usage() { echo "check-artifact: $*" >&2; exit 2; }

# ---- internal entry point: runs inside `unshare -n` (see check_kea4) ------------------------
# Both internal modes change the namespace they run in (create interfaces, bind-mount over
# /etc/hosts): they only run when the caller handed over the namespace it left, and this one
# is a different one. (/proc/1/ns cannot be relied on: it may not be readable.)
in_private_ns() { # KIND(net|mnt) -> 0 if this process is in another namespace than its caller
  local mine; mine=$(readlink "/proc/self/ns/$1") || return 1
  [ -n "${SC_CALLER_NS:-}" ] && [ -n "$mine" ] && [ "$mine" != "$SC_CALLER_NS" ]
}
if [ "${1:-}" = "--kea-in-netns" ]; then
  in_private_ns net || { echo "check-artifact: --kea-in-netns is internal (needs a private network namespace)" >&2; exit 2; }
  conf=$2 made=0
  while :; do
    rc=0; out=$(kea-dhcp4 -t "$conf" 2>&1) || rc=$?
    ifname=$(sed -n "s/.*interface '\([^']*\)' doesn't exist in the system.*/\1/p" <<<"$out" | head -n1)
    # Create each interface Kea asks for (dummy when the kernel has it, else bridge, else veth)
    # and run again; this is a private namespace, nothing outside sees them.
    if [ $rc -ne 0 ] && [ -n "$ifname" ] && [ $made -lt 200 ]; then
      made=$((made + 1))
      if ip link add "$ifname" type dummy 2>/dev/null || ip link add "$ifname" type bridge 2>/dev/null \
         || ip link add "$ifname" type veth peer name "kea-peer$made" 2>/dev/null; then
        ip link set "$ifname" up 2>/dev/null || true
        continue
      fi
      echo "could not create interface '$ifname' for Kea in the private namespace"
    fi
    printf '%s\n' "$out"
    exit $rc
  done
fi

# ---- internal entry point: runs inside `unshare -n` (see check_nginx) ------------------------
if [ "${1:-}" = "--nginx-in-netns" ]; then
  in_private_ns net || { echo "check-artifact: --nginx-in-netns is internal (needs a private network namespace)" >&2; exit 2; }
  conf=$2 prefix=$3
  ip link set lo up
  # `nginx -t` binds every `listen ADDR:PORT`: put each IPv4 address on lo of this namespace.
  sed -n 's/^[[:space:]]*listen[[:space:]]\+\([0-9.]\+\):[0-9]\+.*;.*/\1/p' "$conf" | sort -u |
    while read -r a; do ip addr add "$a/32" dev lo 2>/dev/null || true; done
  rc=0; nginx -t -p "$prefix/" -c "$conf" 2>&1 || rc=$?
  exit $rc
fi

# ---- internal entry point: runs inside `unshare -m` with FILE bind-mounted on /etc/hosts ------
if [ "${1:-}" = "--hosts-in-mntns" ]; then
  in_private_ns mnt || { echo "check-artifact: --hosts-in-mntns is internal (needs a private mount namespace)" >&2; exit 2; }
  mount --bind "$2" /etc/hosts
  n=0
  while IFS= read -r line || [ -n "$line" ]; do
    n=$((n + 1))
    line=${line%%#*}
    read -r -a fields <<<"$line"
    [ ${#fields[@]} -gt 0 ] || continue
    if [ ${#fields[@]} -eq 1 ]; then printf '%s\t%s\t%s\n' "$n" "${fields[0]}" "(no name)"; continue; fi
    for name in "${fields[@]:1}"; do
      # -s files: this file only, never DNS
      got=$(getent -s files ahosts "$name" | awk '{print $1}' | sort -u | paste -sd '\t' -) || true
      printf '%s\t%s\t%s\t%s\n' "$n" "${fields[0]}" "$name" "$got"
    done
  done < "$2"
  exit 0
fi

KIND=${1:-}; TARGET=${2:-}
[ -n "$KIND" ] && [ -n "$TARGET" ] || usage "usage: check-artifact.sh KIND PATH [ARG...]   KIND: $KINDS"
case " $KINDS " in *" $KIND "*) ;; *) usage "unknown kind '$KIND' (kinds: $KINDS)" ;; esac
[ -e "$TARGET" ] || usage "$TARGET: no such file or directory"
case "$KIND" in
  frr|kea4|nginx|sshd|authorized_keys|hostname|hosts) [ "$(id -u)" -eq 0 ] || usage "the $KIND check needs root" ;;
esac
ABS=$(readlink -f -- "$TARGET")

WORK=$(mktemp -d "${TMPDIR:-/tmp}/sc-check.XXXXXX") || usage "cannot make a temp dir"
chmod 0755 "$WORK"            # FRR daemons read their copy after dropping to user frr
OUT="$WORK/consumer.out"      # what the consumer said; printed on failure
: > "$OUT"
FRR_NS=""
cleanup() {
  if [ -n "$FRR_NS" ]; then rm -rf "/run/frr/$FRR_NS" "/var/run/frr/$FRR_NS"; fi
  rm -rf "$WORK"
}
trap cleanup EXIT

need() { # a program or an absolute path
  command -v "$1" >/dev/null 2>&1 || usage "consumer '$1' is not installed (run scripts/install-consumers.sh)"
}
need_venv() {
  [ -x "$VENV/bin/$1" ] || usage "$VENV/bin/$1 is not installed (run scripts/install-consumers.sh)"
  "$VENV/bin/python" -c '' 2>/dev/null || usage "the venv $VENV is not usable by this user"
}
# run CMD... with stdout+stderr appended to $OUT; sets RC (never trips set -e)
run() { RC=0; "$@" >>"$OUT" 2>&1 || RC=$?; }
# rewrite a temp path in $OUT to the path the caller gave
unmap() {
  local text; text=$(<"$OUT")
  [ -n "$text" ] || return 0
  printf '%s\n' "${text//"$1"/$2}" > "$OUT"
}
accept() {
  if [ "${CHECK_VERBOSE:-0}" = 1 ] && [ -s "$OUT" ]; then cat "$OUT"; fi
  echo "OK   $KIND $TARGET"
  exit 0
}
reject() {
  if [ -s "$OUT" ]; then cat "$OUT"; fi
  echo "reason: $*"
  echo "FAIL $KIND $TARGET"
  exit 1
}
has_line() { grep -qE "$1" "$OUT"; }

# ---- inventory ------------------------------------------------------------------------------
check_inventory() {
  need_venv ansible-inventory
  local script=0 dir=$ABS
  if [ -f "$ABS" ] && [ -x "$ABS" ]; then script=1; fi
  [ -d "$ABS" ] || dir=$(dirname -- "$ABS")
  : > "$WORK/ansible.cfg"
  # An existing ANSIBLE_CONFIG wins over ./ansible.cfg, ~/.ansible.cfg and /etc/ansible.
  export ANSIBLE_CONFIG="$WORK/ansible.cfg" ANSIBLE_HOME="$WORK/ansible-home" \
    ANSIBLE_LOCAL_TEMP="$WORK/ansible-tmp" ANSIBLE_NOCOLOR=1 ANSIBLE_FORCE_COLOR=0
  # Only the plugins siteconf's inventory is meant for (no INI fallback drowning the error);
  # fail when ANY source fails to parse (default: a warning and exit 0); duplicate keys fail.
  export ANSIBLE_INVENTORY_ENABLED=script,auto,yaml ANSIBLE_INVENTORY_UNPARSED_FAILED=true \
    ANSIBLE_INVENTORY_ANY_UNPARSED_IS_FAILED=true ANSIBLE_DUPLICATE_YAML_DICT_KEY=error
  [ $script = 1 ] && export ANSIBLE_INVENTORY_ENABLED=script
  cd "$WORK"
  RC=0; "$VENV/bin/ansible-inventory" -i "$ABS" --list > "$WORK/list.json" 2>>"$OUT" || RC=$?
  if [ $RC -ne 0 ]; then
    local arc=$RC
    # ansible-core 2.19 does not say WHICH vars file is broken: name it
    run "$VENV/bin/python" "$LIB/inventory_extra.py" vars "$dir" -
    reject "ansible-inventory --list exited $arc"
  fi
  has_line '^\[(WARNING|DEPRECATION WARNING)\]' && reject "ansible-inventory printed warnings"
  run "$VENV/bin/python" "$LIB/inventory_extra.py" shape "$WORK/list.json"
  [ $RC -eq 0 ] || reject "ansible-inventory's output is not an inventory"
  run "$VENV/bin/python" "$LIB/inventory_extra.py" vars "$dir" "$WORK/list.json"
  [ $RC -eq 0 ] || reject "host_vars/group_vars files Ansible would fail on or ignore"
  if [ $script = 1 ]; then
    # Ansible calls `--host NAME` only when --list has no _meta: hide it, so Ansible itself
    # walks every host through --host, and require the same vars as from _meta.
    cat > "$WORK/inventory-without-meta" <<EOF
#!/bin/sh
# wraps $TARGET for check-artifact.sh: --list without _meta
if [ "\$1" = "--list" ]; then
  "$ABS" --list | "$VENV/bin/python" -c 'import json, sys; d = json.load(sys.stdin); d.pop("_meta", None); json.dump(d, sys.stdout)'
else
  exec "$ABS" "\$@"
fi
EOF
    chmod 0755 "$WORK/inventory-without-meta"
    : > "$WORK/host.err"
    RC=0; "$VENV/bin/ansible-inventory" -i "$WORK/inventory-without-meta" --list \
      > "$WORK/list-host.json" 2>"$WORK/host.err" || RC=$?
    # the deprecation warning for a script without _meta is expected here: only errors count
    if [ $RC -ne 0 ]; then
      grep -v 'DEPRECATION' "$WORK/host.err" >> "$OUT" || true
      unmap "$WORK/inventory-without-meta" "$TARGET (called with --host)"
      reject "ansible-inventory failed on the --host answers (exit $RC)"
    fi
    run "$VENV/bin/python" "$LIB/inventory_extra.py" same "$WORK/list.json" "$WORK/list-host.json"
    [ $RC -eq 0 ] || reject "--host NAME disagrees with --list _meta.hostvars"
  fi
  accept
}

# ---- frr ------------------------------------------------------------------------------------
check_frr() {
  need vtysh; need /usr/lib/frr/bgpd; need unshare
  [ -f "$ABS" ] || usage "frr: expects a file"
  # 1. vtysh's dry run: every line against every daemon's grammar, in its node context.
  run vtysh -C -f "$ABS"
  [ $RC -eq 0 ] || reject "vtysh -C rejected the file (exit $RC)"
  #    vtysh exits 0 on lines it cannot parse ("line 13: % Command incomplete[4]: interface "),
  #    while bgpd, reading the same file, stops at such a line and drops everything after it
  #    (a switch with no `router bgp`): any `% ` message is a failure.
  if grep -qE '^(line [0-9]+: )?% ' "$OUT"; then reject "vtysh -C reported errors (it exits 0 on them)"; fi
  # 2. the parser `systemctl reload frr` goes through, against an empty running config.
  if [ -x /usr/lib/frr/frr-reload.py ]; then
    : > "$WORK/running.conf"; : > "$OUT"
    RC=0
    /usr/lib/frr/frr-reload.py --test --stdout --input "$WORK/running.conf" "$ABS" > "$WORK/reload.out" 2>&1 || RC=$?
    if [ $RC -ne 0 ]; then grep -v ' INFO: ' "$WORK/reload.out" > "$OUT" || true; reject "frr-reload.py --test rejected the file (exit $RC)"; fi
  else
    usage "/usr/lib/frr/frr-reload.py missing (frr-pythontools; run scripts/install-consumers.sh)"
  fi
  # 3. the daemons' own dry run catches what their handlers refuse (undefined peer-group, a
  #    neighbor option before remote-as). They exit 0 regardless, so read the log. Each daemon
  #    also refuses the other daemons' lines: only a line ALL of them refuse is an error.
  #    They drop privileges to user frr: give them a 0644 copy in the 0755 work dir.
  install -m 0644 "$ABS" "$WORK/frr.conf"
  FRR_NS="sc-check-$$-$RANDOM"
  local d pid first=1
  for d in zebra bgpd staticd; do
    need "/usr/lib/frr/$d"
    # unshare execs the daemon, so $! is the daemon's pid (for its /var/tmp/frr/DAEMON.PID dir).
    # -N keeps its sockets and pid files apart from any running FRR; -n keeps it off the network.
    unshare -n "/usr/lib/frr/$d" -N "$FRR_NS" -C -f "$WORK/frr.conf" > "$WORK/$d.log" 2>&1 &
    pid=$!
    wait "$pid" || true
    rm -rf "/var/tmp/frr/$d.$pid"
    if grep -q "can't open configuration file" "$WORK/$d.log"; then
      cat "$WORK/$d.log" >&2
      usage "$d (as user frr) cannot read its copy in $WORK: use a TMPDIR others can traverse"
    fi
    sed -n 's/.* on config line \([0-9][0-9]*\):.*/\1/p' "$WORK/$d.log" | sort -u > "$WORK/$d.lines"
    if [ $first = 1 ]; then cp "$WORK/$d.lines" "$WORK/rejected"; first=0
    else comm -12 "$WORK/rejected" "$WORK/$d.lines" > "$WORK/both"; mv "$WORK/both" "$WORK/rejected"; fi
  done
  : > "$OUT"
  local n text
  while read -r n; do
    text=$(sed -n "${n}p" "$ABS")
    # lines only vtysh handles (every daemon refuses them, harmlessly)
    case "$text" in *"service integrated-vtysh-config"*) continue ;; esac
    [[ "$text" =~ ^[[:space:]]*(!.*|end|exit)?[[:space:]]*$ ]] && continue
    echo "$TARGET:$n: every FRR daemon rejects: $text" >> "$OUT"
  done < <(sort -n "$WORK/rejected")
  if [ -s "$OUT" ]; then
    grep -h '^%' "$WORK"/*.log | sort -u | sed 's/^/  daemon message: /' >> "$OUT" || true
    reject "FRR daemons' dry run (-C) rejected lines"
  fi
  accept
}

# ---- zone -----------------------------------------------------------------------------------
check_zone() {
  need named-checkzone
  [ -f "$ABS" ] || usage "zone: expects a file"
  local origin=${3:-}
  if [ -z "$origin" ]; then origin=$(basename -- "$ABS" .zone); fi
  # -i local: never resolve out-of-zone names (the default asks DNS). Everything else: fail.
  run named-checkzone -i local -k fail -n fail -m fail -M fail -S fail -r fail \
    -w "$(dirname -- "$ABS")" "$origin" "$ABS"
  [ $RC -eq 0 ] || reject "named-checkzone rejected zone '$origin' (exit $RC)"
  accept
}

# ---- kea4 -----------------------------------------------------------------------------------
check_kea4() {
  need kea-dhcp4; need unshare; need ip
  [ -f "$ABS" ] || usage "kea4: expects a file"
  # `kea-dhcp4 -t` insists the interfaces in interfaces-config exist: give it them, in a
  # throwaway network namespace (this script re-entered, see the top).
  run env SC_CALLER_NS="$(readlink /proc/self/ns/net)" unshare -n bash "$SELF" --kea-in-netns "$ABS"
  if [ $RC -ne 0 ]; then
    # Kea logs every step at INFO; keep what explains the rejection
    grep -vE '^[0-9-]+ [0-9:.]+ +(INFO|DEBUG) ' "$OUT" > "$WORK/kea.err" || true
    cp "$WORK/kea.err" "$OUT"
    reject "kea-dhcp4 -t rejected the config (exit $RC)"
  fi
  # Kea only warns, exit 0, on e.g. a trailing comma
  if has_line '(^| )WARN '; then
    grep -E '(^| )(WARN|ERROR) ' "$OUT" > "$WORK/kea.err" || true
    cp "$WORK/kea.err" "$OUT"
    reject "kea-dhcp4 -t printed warnings"
  fi
  accept
}

# ---- nginx ---------------------------------------------------------------------------------
check_nginx() {
  need nginx; need unshare; need ip
  [ -f "$ABS" ] || usage "nginx: expects a file"
  mkdir -p "$WORK/nginx"
  # The config is a whole one whose pid and logs are relative to the prefix (-p): a scratch
  # dir. `nginx -t` binds the listen addresses: done in a throwaway network namespace.
  run env SC_CALLER_NS="$(readlink /proc/self/ns/net)" unshare -n bash "$SELF" --nginx-in-netns "$ABS" "$WORK/nginx"
  [ "$RC" -eq 0 ] || reject "nginx -t rejected the config (exit $RC)"
  has_line '\[(warn|emerg|alert|crit|error)\]' && reject "nginx -t printed warnings"
  has_line 'test is successful' || reject "nginx -t did not say the test is successful"
  accept
}

# ---- netplan --------------------------------------------------------------------------------
check_netplan() {
  need netplan
  local etc="$WORK/root/etc/netplan" f n=0
  mkdir -p "$etc"
  if [ -d "$ABS" ]; then
    for f in "$ABS"/*.yaml; do [ -e "$f" ] && { install -m 0600 "$f" "$etc/"; n=$((n + 1)); }; done
    [ $n -gt 0 ] || usage "netplan: no *.yaml in $TARGET"
  else
    [[ "$ABS" == *.yaml ]] || echo "note: netplan reads only files named *.yaml" >> "$OUT"
    install -m 0600 "$ABS" "$etc/$(basename -- "$ABS" .yaml).yaml"
  fi
  # 0600 copies: the mode warning is about deployment (siteconf must install 0600), not content.
  (cd "$WORK" && netplan generate --root-dir "$WORK/root") >>"$OUT" 2>&1 && RC=0 || RC=$?
  if [ -d "$ABS" ]; then unmap "$etc" "$ABS"; else unmap "$etc/$(basename -- "$ABS" .yaml).yaml" "$ABS"; fi
  [ "$RC" -eq 0 ] || reject "netplan generate rejected it (exit $RC)"
  has_line 'WARNING' && reject "netplan generate printed warnings (e.g. deprecated keys)"
  ls "$WORK/root/run/systemd/network/" >/dev/null 2>&1 || reject "netplan generated no networkd config"
  accept
}

# ---- sshd / authorized_keys -----------------------------------------------------------------
sshd_setup() {
  need /usr/sbin/sshd; need ssh-keygen
  # privilege-separation dir (the ssh.service unit creates it on a real host)
  [ -d /run/sshd ] || mkdir -m 0755 /run/sshd
  ssh-keygen -q -t ed25519 -N '' -C check-artifact -f "$WORK/host_ed25519" >/dev/null </dev/null
}
check_sshd() {
  sshd_setup
  local dropins="$WORK/sshd_config.d" f n=0
  mkdir -p "$dropins"
  if [ -d "$ABS" ]; then
    for f in "$ABS"/*.conf; do [ -e "$f" ] && { install -m 0644 "$f" "$dropins/"; n=$((n + 1)); }; done
    [ $n -gt 0 ] || usage "sshd: no *.conf in $TARGET"
  else
    [[ "$ABS" == *.conf ]] || echo "note: Debian's sshd_config includes only sshd_config.d/*.conf" >> "$OUT"
    install -m 0644 "$ABS" "$dropins/$(basename -- "$ABS" .conf).conf"
  fi
  # The drop-in is checked where it sits on a node: Debian's stock main config, whose first
  # line Includes sshd_config.d/*.conf (first value of a keyword wins in sshd).
  local stock=/usr/share/openssh/sshd_config
  [ -f "$stock" ] || usage "$stock missing (openssh-server)"
  # sshd loads only the host keys the config names, and the harness's own key when it names
  # none. A drop-in that names keys is checked with what a fresh Debian node has: its three
  # keys (made here, as openssh-server makes them), any other path missing as on the node.
  local own_key="HostKey $WORK/host_ed25519" t
  if grep -qiE '^[[:space:]]*HostKey[[:space:]]' "$dropins"/*.conf; then
    own_key=""
    for t in rsa ecdsa ed25519; do
      ssh-keygen -q -t "$t" -N '' -C check-artifact -f "$WORK/ssh_host_${t}_key" >/dev/null </dev/null
    done
    sed -i -E "s#/etc/ssh/ssh_host_(rsa|ecdsa|ed25519)_key#$WORK/ssh_host_\\1_key#g; s#/etc/ssh/ssh_host_[A-Za-z0-9_]*_key#$WORK/absent&#g" "$dropins"/*.conf
  fi
  { [ -z "$own_key" ] || echo "$own_key"
    while IFS= read -r line; do
      if [ "$line" = "Include /etc/ssh/sshd_config.d/*.conf" ]; then echo "Include $dropins/*.conf"; else printf '%s\n' "$line"; fi
    done < "$stock"
  } > "$WORK/sshd_config"
  grep -qx "Include $dropins/\*.conf" "$WORK/sshd_config" || usage "$stock has no Include of sshd_config.d"
  run /usr/sbin/sshd -t -f "$WORK/sshd_config"
  if [ -d "$ABS" ]; then unmap "$dropins" "$ABS"; else unmap "$dropins/$(basename -- "$ABS" .conf).conf" "$ABS"; fi
  [ $RC -eq 0 ] || reject "sshd -t rejected it (exit $RC)"
  accept
}
check_authorized_keys() {
  sshd_setup; need ssh
  [ -f "$ABS" ] || usage "authorized_keys: expects a file"
  local n=0 line bad=0 types=()
  # 1. ssh-keygen line by line (on a whole file it skips bad lines if one is good).
  while IFS= read -r line || [ -n "$line" ]; do
    n=$((n + 1))
    [[ "$line" =~ ^[[:space:]]*(#.*)?$ ]] && continue
    printf '%s\n' "$line" > "$WORK/line.pub"
    if ssh-keygen -l -f "$WORK/line.pub" > "$WORK/fp" 2>&1; then
      types+=("$(sed -n 's/.*(\([A-Z0-9-]*\))$/\1/p' "$WORK/fp")")
    else
      echo "$TARGET:$n: ssh-keygen cannot read this key: ${line:0:72}..." >> "$OUT"; bad=1
    fi
  done < "$ABS"
  # 2. key options (from=, command=, restrict, ...): only sshd parses them, and only on lines
  #    whose key type matches the key offered. Offer a throwaway key of each type present to
  #    the real sshd in inetd mode over a pipe (no socket) and read its debug log.
  install -m 0644 "$ABS" "$WORK/authorized_keys"
  local ids=() t
  for t in $(printf '%s\n' "${types[@]}" | sort -u); do
    case "$t" in
      ED25519) ssh-keygen -q -t ed25519 -N '' -f "$WORK/try_ed25519" </dev/null && ids+=(-i "$WORK/try_ed25519") ;;
      ECDSA)   ssh-keygen -q -t ecdsa -b 256 -N '' -f "$WORK/try_ecdsa" </dev/null && ids+=(-i "$WORK/try_ecdsa") ;;
      RSA)     ssh-keygen -q -t rsa -b 2048 -N '' -f "$WORK/try_rsa" </dev/null && ids+=(-i "$WORK/try_rsa") ;;
      *)       echo "note: options on $t keys are not checked (no throwaway key of that type)" >> "$OUT" ;;
    esac
  done
  if [ ${#ids[@]} -gt 0 ]; then
    cat > "$WORK/sshd_probe" <<EOF
HostKey $WORK/host_ed25519
AuthorizedKeysFile $WORK/authorized_keys
StrictModes no
UsePAM no
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin prohibit-password
MaxAuthTries 30
LogLevel DEBUG3
PidFile none
EOF
    RC=0
    timeout 60 ssh -n -F /dev/null -o "ProxyCommand=/usr/sbin/sshd -i -e -f $WORK/sshd_probe" \
      -o BatchMode=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null \
      -o IdentitiesOnly=yes -o IdentityAgent=none "${ids[@]}" -l root probe true \
      > "$WORK/probe.log" 2>&1 || RC=$?
    grep -q "$WORK/authorized_keys: processed" "$WORK/probe.log" \
      || { tail -n 15 "$WORK/probe.log" >&2; usage "authorized_keys: the sshd probe never read the file"; }
    { grep -oE "$WORK/authorized_keys:[0-9]+: bad key options: .*" "$WORK/probe.log" || true; } | sort -u \
      | while IFS= read -r line; do echo "${line/"$WORK/authorized_keys"/$TARGET} (sshd ignores this key)"; done > "$WORK/opts"
    if [ -s "$WORK/opts" ]; then cat "$WORK/opts" >> "$OUT"; bad=1; fi
  fi
  [ $bad = 0 ] || reject "authorized_keys has lines sshd would not accept"
  accept
}

# ---- cloud-config ---------------------------------------------------------------------------
check_cloud_config() {
  need cloud-init; need /usr/bin/python3
  local ud=$ABS md=""
  if [ -d "$ABS" ]; then
    ud="$ABS/user-data" md="$ABS/meta-data"
    [ -f "$ud" ] || { echo "$TARGET: a NoCloud seed needs user-data" >> "$OUT"; reject "incomplete NoCloud seed"; }
    [ -f "$md" ] || { echo "$TARGET: a NoCloud seed needs meta-data" >> "$OUT"; reject "incomplete NoCloud seed"; }
  fi
  # no --annotate: cloud-init 22.4.2 crashes with a KeyError on some errors with it
  run cloud-init schema --config-file "$ud"
  [ $RC -eq 0 ] || reject "cloud-init schema rejected it (exit $RC)"
  grep -qi 'deprecat' "$OUT" && reject "cloud-init schema reported deprecations"
  # shellcheck disable=SC2086  # the extra keys are a space-separated list
  run /usr/bin/python3 "$LIB/cloud_config_extra.py" user-data "$ud" ${CLOUD_CONFIG_EXTRA_KEYS:-}
  [ $RC -eq 0 ] || reject "top-level keys cloud-init does not know (it ignores them silently)"
  if [ -n "$md" ]; then
    run /usr/bin/python3 "$LIB/cloud_config_extra.py" meta-data "$md"
    [ $RC -eq 0 ] || reject "NoCloud meta-data is not usable"
  fi
  # network-config (optional in a NoCloud seed; without it cloud-init falls back to DHCP on the
  # first NIC). cloud-init 22.4.2 has no schema for it: its own v2 parser reads it as init-local
  # would, then netplan generates from what cloud-init's netplan renderer would write.
  if [ -d "$ABS" ] && [ -f "$ABS/network-config" ]; then
    need netplan
    local nroot="$WORK/nc-root"
    mkdir -p "$nroot/etc/netplan"
    run /usr/bin/python3 "$LIB/network_config_check.py" "$ABS/network-config" "$WORK/50-cloud-init.yaml"
    [ $RC -eq 0 ] || reject "cloud-init cannot use network-config"
    install -m 0600 "$WORK/50-cloud-init.yaml" "$nroot/etc/netplan/50-cloud-init.yaml"
    (cd "$WORK" && netplan generate --root-dir "$nroot") >>"$OUT" 2>&1 && RC=0 || RC=$?
    [ "$RC" -eq 0 ] || reject "netplan generate rejected network-config (exit $RC)"
    has_line 'WARNING' && reject "netplan generate printed warnings on network-config"
    ls "$nroot/run/systemd/network/" >/dev/null 2>&1 || reject "network-config generated no networkd config"
  fi
  accept
}

# ---- deb822 ---------------------------------------------------------------------------------
check_deb822() {
  need apt-get
  local apt="$WORK/apt" f n=0
  mkdir -p "$apt/sources.list.d" "$apt/lists/partial" "$apt/cache/archives/partial" "$apt/state"
  : > "$apt/sources.list"; : > "$apt/state/status"
  if [ -d "$ABS" ]; then
    for f in "$ABS"/*.sources; do [ -e "$f" ] && { install -m 0644 "$f" "$apt/sources.list.d/"; n=$((n + 1)); }; done
    [ $n -gt 0 ] || usage "deb822: no *.sources in $TARGET"
  else
    [[ "$ABS" == *.sources ]] || { echo "$TARGET: apt ignores sources.list.d files not named *.sources" >> "$OUT"; reject "wrong file name"; }
    install -m 0644 "$ABS" "$apt/sources.list.d/"
  fi
  # --print-uris parses every stanza like `apt-get update` and lists what it would fetch,
  # without fetching; the scratch dirs keep the host's own sources and lists out of it.
  RC=0
  apt-get -q -o Dir::Etc::sourcelist="$apt/sources.list" -o Dir::Etc::sourceparts="$apt/sources.list.d" \
    -o Dir::State::Lists="$apt/lists" -o Dir::Cache="$apt/cache" -o Dir::State::status="$apt/state/status" \
    -o Debug::NoLocking=true update --print-uris > "$WORK/uris" 2>>"$OUT" || RC=$?
  if [ -d "$ABS" ]; then unmap "$apt/sources.list.d" "$ABS"; else unmap "$apt/sources.list.d/$(basename -- "$ABS")" "$ABS"; fi
  [ $RC -eq 0 ] || reject "apt rejected the sources (exit $RC)"
  has_line '^(W|N|E):' && reject "apt printed warnings or notices"
  grep -q "InRelease'" "$WORK/uris" || reject "apt found no repository to fetch in it"
  echo "$(grep -c "InRelease'" "$WORK/uris") repositories" >> "$OUT"
  accept
}

# ---- svg ------------------------------------------------------------------------------------
check_svg() {
  need xmllint; need rsvg-convert
  [ -f "$ABS" ] || usage "svg: expects a file"
  run xmllint --noout --nonet "$ABS"
  [ $RC -eq 0 ] || reject "not well-formed XML (xmllint exit $RC)"
  run rsvg-convert --format png -o "$WORK/render.png" "$ABS"
  [ $RC -eq 0 ] || reject "rsvg-convert cannot render it (exit $RC)"
  [ -s "$WORK/render.png" ] || reject "rsvg-convert rendered nothing"
  accept
}

# ---- jsonschema -----------------------------------------------------------------------------
check_jsonschema() {
  need_venv check-jsonschema
  shift 2
  [ $# -gt 0 ] || usage "usage: check-artifact.sh jsonschema SCHEMA DOC..."
  local docs=() tomls=() d bad=""
  for d in "$@"; do
    [ -f "$d" ] || usage "$d: no such file"
    docs+=("$(readlink -f -- "$d")")
    [[ "$d" == *.toml ]] && tomls+=("$(readlink -f -- "$d")")
  done
  run "$VENV/bin/check-jsonschema" --check-metaschema "$ABS"
  [ $RC -eq 0 ] || reject "the schema itself is not a valid JSON Schema"
  : > "$OUT"
  run "$VENV/bin/check-jsonschema" --schemafile "$ABS" "${docs[@]}"
  [ $RC -eq 0 ] || bad="check-jsonschema"
  if [ ${#tomls[@]} -gt 0 ]; then
    need_venv taplo
    # taplo needs an absolute file:// URL, and --no-auto-config so no .taplo.toml leaks in
    RC=0
    (cd "$WORK" && "$VENV/bin/taplo" lint --colors never --no-auto-config --schema "file://$ABS" "${tomls[@]}") \
      > "$WORK/taplo.out" 2>&1 || RC=$?
    if [ $RC -ne 0 ]; then bad="$bad${bad:+ and }taplo"; grep -v ' INFO ' "$WORK/taplo.out" >> "$OUT" || true; fi
  fi
  [ -z "$bad" ] || reject "$bad rejected the document(s)"
  accept
}

# ---- manifest -------------------------------------------------------------------------------
check_manifest() {
  need /usr/bin/python3
  [ -f "$ABS" ] || usage "manifest: expects OUT/manifest.json"
  run /usr/bin/python3 "$LIB/manifest_check.py" "$ABS"
  [ $RC -eq 0 ] || reject "manifest.json does not match the files beside it"
  accept
}

# ---- hostname -------------------------------------------------------------------------------
check_hostname() {
  need hostname; need unshare
  [ -f "$ABS" ] || usage "hostname: expects a file"
  local lines; lines=$(grep -cv '^[[:space:]]*\(#.*\)\?$' "$ABS" || true)
  [ "$lines" = 1 ] || { echo "$TARGET: $lines host names, expected exactly one line" >> "$OUT"; reject "not a single host name"; }
  # Debian's hostname(1) reads the file as at boot and refuses invalid names; in a private UTS
  # namespace the host's own name is untouched.
  run unshare -u hostname -F "$ABS"
  [ $RC -eq 0 ] || reject "hostname -F refused it (exit $RC)"
  accept
}

# ---- hosts ----------------------------------------------------------------------------------
check_hosts() {
  need getent; need unshare; need mount; need /usr/bin/python3
  [ -f "$ABS" ] || usage "hosts: expects a file"
  # glibc skips lines it cannot parse without a word: resolve every name from this file alone
  # (bind-mounted over /etc/hosts in a private mount namespace) and compare.
  RC=0
  SC_CALLER_NS=$(readlink /proc/self/ns/mnt) unshare -m bash "$SELF" --hosts-in-mntns "$ABS" \
    > "$WORK/resolved.tsv" 2>>"$OUT" || RC=$?
  [ $RC -eq 0 ] || usage "could not resolve in a private mount namespace (exit $RC)"
  run /usr/bin/python3 "$LIB/hosts_compare.py" "$TARGET" "$WORK/resolved.tsv"
  [ $RC -eq 0 ] || reject "glibc does not resolve the names as written"
  accept
}

HTML5_TAGS="article aside audio bdi canvas data datalist details dialog figcaption figure footer
  header main mark meter nav output picture progress section source summary svg template time
  track video wbr g rect text line path circle title desc use defs"
# ---- html -----------------------------------------------------------------------------------
check_html() {
  need xmllint
  [ -f "$ABS" ] || usage "html: expects a file"
  # libxml2's HTML parser: reports unclosed/mismatched tags and bad entities (lenient: any
  # message fails), then every local href/src must exist beside the file.
  RC=0; xmllint --html --noout --nonet "$ABS" > "$WORK/html.out" 2>&1 || RC=$?
  # libxml2 2.9 knows HTML 4 only: drop its "Tag X invalid" for HTML5 elements (each message
  # is followed by two context lines), keep everything else.
  awk -v html5="$HTML5_TAGS" '
    BEGIN { n = split(html5, t, " "); for (i = 1; i <= n; i++) ok[t[i]] = 1 }
    skip > 0 { skip--; next }
    match($0, /HTML parser error : Tag [A-Za-z0-9]+ invalid/) {
      tag = $0; sub(/.*HTML parser error : Tag /, "", tag); sub(/ invalid.*/, "", tag)
      if (tolower(tag) in ok) { skip = 2; next }
    }
    { print }' "$WORK/html.out" >> "$OUT"
  [ $RC -eq 0 ] && [ ! -s "$OUT" ] || reject "xmllint --html reported problems (exit $RC)"
  local ref dir; dir=$(dirname -- "$ABS")
  while IFS= read -r ref; do
    case "$ref" in ''|'#'*|*://*|mailto:*|data:*) continue ;; esac
    ref=${ref%%#*}; ref=${ref%%\?*}
    [ -e "$dir/$ref" ] || echo "$TARGET: links to $ref, which is not there" >> "$OUT"
  done < <(grep -oE '(href|src)="[^"]*"' "$ABS" | sed -E 's/^(href|src)="(.*)"$/\2/')
  [ ! -s "$OUT" ] || reject "broken local links"
  accept
}

case "$KIND" in
  hostname)        check_hostname ;;
  hosts)           check_hosts ;;
  html)            check_html ;;
  inventory)       check_inventory ;;
  frr)             check_frr ;;
  zone)            check_zone "$@" ;;
  kea4)            check_kea4 ;;
  nginx)           check_nginx ;;
  netplan)         check_netplan ;;
  sshd)            check_sshd ;;
  authorized_keys) check_authorized_keys ;;
  cloud-config)    check_cloud_config ;;
  deb822)          check_deb822 ;;
  svg)             check_svg ;;
  jsonschema)      check_jsonschema "$@" ;;
  manifest)        check_manifest ;;
esac
