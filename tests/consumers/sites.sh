#!/usr/bin/env bash
# sites.sh — a project of two sites sharing one bootinfra (tests/cases/sites-two-clusters:
# production and a lab, shared profiles and groups, the same VLAN ids and rack and node names)
# through the real consumers:
#   - each site's build, as run.sh checks a single site's;
#   - the bootinfra's joined files: Kea (kea-dhcp4 -t) holding both sites' subnets and
#     reservations, and every zone of both sites (named-checkzone);
#   - both sites' BGP fabrics up (bgp-interop.sh, FRR in network namespaces).
#
#   sudo tests/consumers/sites.sh --siteconf BIN
#
# Ends with `sites: N passed, N failed`; exit 1 if anything failed.
set -euo pipefail
HERE=$(cd "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
BIN=""
while [ $# -gt 0 ]; do
  case "$1" in
    --siteconf) BIN=$2; shift 2 ;;
    *) echo "usage: sites.sh --siteconf BIN" >&2; exit 2 ;;
  esac
done
[ -x "$BIN" ] || { echo "sites.sh: --siteconf BIN is required" >&2; exit 2; }

T=$(mktemp -d "${TMPDIR:-/tmp}/siteconf-sites.XXXXXX")
chmod 0755 "$T"
trap 'rm -rf "$T"' EXIT
# A copy without the case's snapshots: the build records zone serials in the sites' locks,
# and a test must not change the repository.
mkdir "$T/project"
cp -r "$ROOT/tests/cases/sites-two-clusters/." "$T/project/"
rm -f "$T/project"/*.snap "$T/project/cmd"

passed=0 failed=0
step() {
  local name=$1; shift
  echo "-- $name"
  if "$@"; then passed=$((passed + 1)); else echo "FAILED: $name"; failed=$((failed + 1)); fi
}

step "check --locked (both sites)" "$BIN" -C "$T/project" check --locked --deny warnings
step "build both sites and the bootinfra" "$BIN" -C "$T/project" build --out "$T/out"
n_sites=$(ls "$T/out" | grep -cv '^bootinfra$' || true)
step "two site outputs and one bootinfra" test "$n_sites" -eq 2 -a -d "$T/out/bootinfra/core"
for s in prod lab; do
  step "consumers on site $s" "$HERE/run.sh" "$T/out/$s" --siteconf "$BIN" --project "$T/project"
done

B="$T/out/bootinfra/core"
step "bootinfra Kea (kea-dhcp4 -t)" "$HERE/check-artifact.sh" kea4 "$B/dhcp/kea-dhcp4.json"
# Both sites' subnets and reservations are in the one Kea configuration.
step "bootinfra Kea holds both sites" python3 - "$B/dhcp/kea-dhcp4.json" \
  "$T/out/prod/site/dhcp/kea-dhcp4.json" "$T/out/lab/site/dhcp/kea-dhcp4.json" <<'EOF'
import json, sys
joined, *sites = (json.load(open(p))["Dhcp4"] for p in sys.argv[1:])
want = sorted(s["subnet"] for site in sites for s in site["subnet4"])
got = sorted(s["subnet"] for s in joined["subnet4"])
res = lambda d: sorted(r["hw-address"] for s in d["subnet4"] for r in s.get("reservations", []))
assert got == want and len(got) >= 2, (got, want)
assert res(joined) == sorted(sum((res(s) for s in sites), [])), "reservations differ"
print(f"{len(got)} subnets, {len(res(joined))} reservations from {len(sites)} sites")
EOF
zones=0
for z in "$B"/dns/*.zone; do
  zones=$((zones + 1))
  step "bootinfra zone $(basename "$z")" "$HERE/check-artifact.sh" zone "$z"
done
step "bootinfra zones of both sites" test -f "$B/dns/prod.example.net.zone" -a -f "$B/dns/lab.example.net.zone" -a "$zones" -ge 4

for s in prod lab; do
  step "BGP fabric of site $s" "$HERE/bgp-interop.sh" "$T/out/$s"
done

echo "sites: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
