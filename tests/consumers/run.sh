#!/usr/bin/env bash
# run.sh — check a `siteconf build --out OUT` tree with the real consumer programs: every
# site-wide artifact, and every artifact of a deterministic sample of nodes and switches that
# covers every role and every rack (from OUT/site/fabric.json). Two checks run at a time.
#
#   sudo tests/consumers/run.sh OUT_DIR [--siteconf BIN --project DIR] [--sample N]
#                               [--allow-missing KIND[,KIND...]]
#
#   --siteconf BIN --project DIR  also check the script inventory: ansible-inventory runs
#                                 `BIN inventory --list` / `--host NAME` from DIR
#   --sample N    nodes (and switches) per sample: the smallest name-ordered set covering every
#                 role and rack, topped up to N in name order (default 3); 0 = all of them
#   --allow-missing KINDS  artifact kinds siteconf does not render yet (e.g. frr): reported as
#                 MISSING instead of failing. Anything else missing is a failure.
#
# Output: one line per check, `OK   kind path` or `FAIL kind path` followed by the consumer's
# own output, then the plain line `consumers: N passed, N failed`. Exit 1 if anything failed,
# 2 on a usage error. A consumer that is not installed makes its checks FAIL (run
# scripts/install-consumers.sh); nothing is skipped silently.
set -euo pipefail
export LC_ALL=C.UTF-8

HERE=$(cd "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
CHECK="$HERE/check-artifact.sh"
usage() { echo "run.sh: $*" >&2; echo "usage: run.sh OUT_DIR [--siteconf BIN --project DIR] [--sample N] [--allow-missing KINDS]" >&2; exit 2; }

OUT="" SITECONF="" PROJECT="" SAMPLE=3 ALLOW_MISSING=""
while [ $# -gt 0 ]; do
  case "$1" in
    --siteconf) [ $# -ge 2 ] || usage "--siteconf needs a path"; SITECONF=$2; shift 2 ;;
    --project) [ $# -ge 2 ] || usage "--project needs a dir"; PROJECT=$2; shift 2 ;;
    --sample) [ $# -ge 2 ] && [[ "$2" =~ ^[0-9]+$ ]] || usage "--sample needs a number"; SAMPLE=$2; shift 2 ;;
    --allow-missing) [ $# -ge 2 ] || usage "--allow-missing needs kinds"; ALLOW_MISSING=",$2,"; shift 2 ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    -*) usage "unknown option $1" ;;
    *) [ -z "$OUT" ] || usage "one OUT_DIR only"; OUT=$1; shift ;;
  esac
done
[ -n "$OUT" ] || usage "OUT_DIR missing"
[ -d "$OUT" ] || usage "$OUT is not a directory"
OUT=${OUT%/}
if [ -n "$SITECONF$PROJECT" ]; then
  [ -n "$SITECONF" ] && [ -n "$PROJECT" ] || usage "--siteconf and --project go together"
  [ -x "$SITECONF" ] || usage "$SITECONF is not executable"
  [ -d "$PROJECT" ] || usage "$PROJECT is not a directory"
fi

START=$(date +%s.%N)
WORK=$(mktemp -d "${TMPDIR:-/tmp}/consumers-run.XXXXXX")
chmod 0755 "$WORK"
trap 'rm -rf "$WORK"' EXIT
CHECKS="$WORK/checks.tsv"   # KIND<TAB>LABEL_PATH<TAB>ARGS... ; kind "-missing" = expected, absent
: > "$CHECKS"
add() { local IFS=$'\t'; echo "$*" >> "$CHECKS"; }
expect() { # KIND PATH [ARGS...]: check ARGS (default PATH) with KIND if PATH exists, else record it missing
  local kind=$1 path=$2
  shift 2
  [ $# -gt 0 ] || set -- "$path"
  if [ -e "$path" ]; then add "$kind" "$path" "$@"; return; fi
  if [[ "$ALLOW_MISSING" == *",$kind,"* ]]; then add "-allowed" "$path" "$kind"
  else add "-missing" "$path" "$kind"; fi
}

# ---- site-wide ------------------------------------------------------------------------------
expect manifest "$OUT/manifest.json"
expect jsonschema "$OUT/site/fabric.json" "$HERE/schemas/fabric.schema.json" "$OUT/site/fabric.json"
expect inventory "$OUT/site/inventory"
if [ -n "$SITECONF" ]; then
  # Ansible's script protocol: an executable it calls with --list / --host NAME
  bin=$(readlink -f -- "$SITECONF") proj=$(readlink -f -- "$PROJECT")
  printf '#!/bin/sh\n# ansible script inventory: siteconf inventory --list | --host NAME\ncd %q && exec %q inventory "$@"\n' \
    "$proj" "$bin" > "$WORK/siteconf-inventory"
  chmod 0755 "$WORK/siteconf-inventory"
  add inventory "siteconf inventory (script: $SITECONF)" "$WORK/siteconf-inventory"
fi
zones=0
for z in "$OUT"/site/dns/*.zone; do
  [ -e "$z" ] || continue
  zones=$((zones + 1)); add zone "$z" "$z" "$(basename -- "$z" .zone)"
done
[ $zones -gt 0 ] || expect zone "$OUT/site/dns/*.zone"
expect kea4 "$OUT/site/dhcp/kea-dhcp4.json"
# only a site with a boot service has one
if [ -e "$OUT/site/boot/nginx.conf" ]; then add nginx "$OUT/site/boot/nginx.conf" "$OUT/site/boot/nginx.conf"; fi
svgs=0
for s in "$OUT"/site/racks/*.svg; do [ -e "$s" ] && { svgs=$((svgs + 1)); add svg "$s" "$s"; }; done
[ $svgs -gt 0 ] || expect svg "$OUT/site/racks/*.svg"
expect html "$OUT/site/racks/index.html"
while IFS= read -r f; do   # site files none of the above reads: shown, never passed unseen
  case "${f#"$OUT/site/"}" in
    fabric.json|inventory/*|dns/*.zone|dhcp/kea-dhcp4.json|boot/nginx.conf|racks/*.svg|racks/index.html) ;;
    *) add "-unchecked" "$f" ;;
  esac
done < <(find "$OUT/site" -type f 2>/dev/null | sort)

# ---- sample of nodes and switches ---------------------------------------------------------
# name<TAB>kind for every sampled device; the cover is computed from fabric.json alone, so the
# same OUT always gives the same sample.
if [ -f "$OUT/site/fabric.json" ]; then
  if ! python3 - "$OUT/site/fabric.json" "$SAMPLE" > "$WORK/sample.tsv" 2> "$WORK/sample.err" <<'PY'
import json, sys
fabric, want = json.load(open(sys.argv[1])), int(sys.argv[2])
for key, kind in (("nodes", "node"), ("switches", "switch")):
    devs = sorted(fabric.get(key, []), key=lambda d: d["name"])
    if want == 0:
        chosen = devs
    else:
        chosen, roles, racks = [], set(), set()
        for d in devs:   # greedy: take a device that brings a new role or rack
            if d.get("role") not in roles or d.get("rack") not in racks:
                chosen.append(d); roles.add(d.get("role")); racks.add(d.get("rack"))
        for d in devs:   # top up to N in name order
            if len(chosen) >= want:
                break
            if d not in chosen:
                chosen.append(d)
    for d in sorted(chosen, key=lambda d: d["name"]):
        print(f"{d['name']}\t{kind}\t{d.get('role')}\t{d.get('rack')}")
PY
  then
    add "-broken" "$OUT/site/fabric.json" "$(cat "$WORK/sample.err")"
  fi
else
  : > "$WORK/sample.tsv"
fi
while IFS=$'\t' read -r name kind _role _rack; do
  if [ "$kind" = node ]; then
    d="$OUT/nodes/$name"
    expect hostname "$d/hostname" "$d/hostname"
    expect hosts "$d/hosts" "$d/hosts"
    expect netplan "$d/etc/netplan/50-siteconf.yaml" "$d/etc/netplan"
    expect frr "$d/etc/frr/frr.conf" "$d/etc/frr/frr.conf"
    expect deb822 "$d/etc/apt/sources.list.d" "$d/etc/apt/sources.list.d"
    expect sshd "$d/etc/ssh/sshd_config.d/50-siteconf.conf" "$d/etc/ssh/sshd_config.d"
    keys=0
    for k in "$d"/etc/ssh/authorized_keys/*; do [ -f "$k" ] && { keys=$((keys + 1)); add authorized_keys "$k" "$k"; }; done
    [ $keys -gt 0 ] || expect authorized_keys "$d/etc/ssh/authorized_keys/*"
    expect cloud-config "$d/cloud-init" "$d/cloud-init"
    [ -f "$d/cloud-init/network-config" ] || expect cloud-config "$d/cloud-init/network-config"
  else
    d="$OUT/switches/$name"
    expect frr "$d/etc/frr/frr.conf" "$d/etc/frr/frr.conf"
  fi
  # files of a sampled device that no check above reads: shown, so nothing passes unseen
  while IFS= read -r f; do
    case "${f#"$d/"}" in
      hostname|hosts|etc/netplan/*.yaml|etc/frr/frr.conf|etc/apt/sources.list.d/*.sources|\
      etc/ssh/sshd_config.d/*.conf|etc/ssh/authorized_keys/*|cloud-init/user-data|cloud-init/meta-data|\
      cloud-init/network-config) ;;
      *) add "-unchecked" "$f" ;;
    esac
  done < <(find "$d" -type f 2>/dev/null | sort)
done < "$WORK/sample.tsv"
nodes=$(awk -F'\t' '$2 == "node"' "$WORK/sample.tsv" | wc -l)
switches=$(awk -F'\t' '$2 == "switch"' "$WORK/sample.tsv" | wc -l)
echo "consumers: checking $OUT: site-wide artifacts, $nodes node(s) and $switches switch(es)" \
  "(sample covering every role and rack: $(cut -f1 "$WORK/sample.tsv" | paste -sd' ' -))"

# ---- run, two at a time ------------------------------------------------------------------
one_check() { # N: run line N of $CHECKS (KIND LABEL ARGS...)
  local n=$1 rc=0 row
  IFS=$'\t' read -r -a row < <(sed -n "${n}p" "$CHECKS")
  case "${row[0]}" in -*) return 0 ;; esac
  "$CHECK" "${row[0]}" "${row[@]:2}" > "$WORK/$n.out" 2>&1 || rc=$?
  echo "$rc" > "$WORK/$n.rc"
}
export -f one_check
export CHECK CHECKS WORK
# shellcheck disable=SC2016  # $1 is for the inner bash
seq 1 "$(wc -l < "$CHECKS")" | xargs -P2 -n1 bash -c 'one_check "$1"' _

# ---- report, in a stable order ------------------------------------------------------------
passed=0 failed=0 n=0
while IFS=$'\t' read -r -a row; do
  n=$((n + 1)); kind=${row[0]} label=${row[1]}
  case "$kind" in
    -missing)   failed=$((failed + 1)); echo "FAIL ${row[2]} $label"; echo "     missing: siteconf did not write it" ;;
    -allowed)   echo "MISSING ${row[2]} $label (allowed by --allow-missing)" ;;
    -broken)    failed=$((failed + 1)); echo "FAIL fabric $label"; echo "     cannot read it: ${row[2]:-}" ;;
    -unchecked) echo "UNCHECKED $label (no consumer check for this file)" ;;
    *)
      rc=$(cat "$WORK/$n.rc" 2>/dev/null || echo "?")
      if [ "$rc" = 0 ]; then
        passed=$((passed + 1)); echo "OK   $kind $label"
      else
        failed=$((failed + 1)); echo "FAIL $kind $label"
        [ "$rc" = 2 ] && echo "     consumer missing or unusable (exit 2): run scripts/install-consumers.sh as root"
        [ "$rc" = "?" ] && echo "     the check did not run"
        { grep -vE "^(OK  |FAIL) $kind " "$WORK/$n.out" 2>/dev/null || true; } | sed 's/^/     /'
      fi ;;
  esac
done < "$CHECKS"
echo "consumers: took $(awk -v a="$START" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }') s"
echo "consumers: $passed passed, $failed failed"
[ $failed -eq 0 ]
