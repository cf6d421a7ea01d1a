#!/usr/bin/env bash
# selftest.sh — prove the consumer checks can fail: run check-artifact.sh over the examples in
# tests/consumers/examples/KIND/ (every `valid*` must be accepted, every `invalid*` rejected
# with exit 1; exit 2 — consumer missing, usage — counts as a failure of the selftest), plus
# the interop fixture's FRR configs and fabric.json, which must be accepted.
#
#   sudo tests/consumers/selftest.sh [--full]
#
# Example conventions: an entry is a file or a directory named valid*/invalid*; `ENTRY.args`
# beside it holds extra arguments (a zone's origin). jsonschema entries are directories: the
# schema is DIR/schema.json, or the file DIR/SCHEMA names (relative to tests/consumers), and
# every other file in DIR is a document. manifest entries are OUT-like dirs with manifest.json.
# --full also runs, on the hand-made siteconf output in fixtures/interop/, run.sh (must pass)
# and on a damaged copy (must fail, naming the damage), and bgp-interop.sh (must pass) and on
# a copy whose nodes lack their outbound policy (must fail): about a minute more.
# Ends with `consumer-selftest: N passed, N failed`; exit 1 if anything failed.
set -euo pipefail
export LC_ALL=C.UTF-8

HERE=$(cd "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
CHECK="$HERE/check-artifact.sh"
EX="$HERE/examples"
FULL=0
case "${1:-}" in
  --full) FULL=1 ;;
  "") ;;
  *) echo "usage: selftest.sh [--full]" >&2; exit 2 ;;
esac
START=$(date +%s.%N)
WORK=$(mktemp -d "${TMPDIR:-/tmp}/consumer-selftest.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

# Build the case list: EXPECT<TAB>KIND<TAB>LABEL<TAB>ARGS... (args tab-separated)
cases="$WORK/cases.tsv"
: > "$cases"
add() { local IFS=$'\t'; echo "$*" >> "$cases"; }
for kdir in "$EX"/*/; do
  kind=$(basename -- "$kdir")
  for entry in "$kdir"*; do
    name=$(basename -- "$entry")
    case "$name" in valid*) expect=pass ;; invalid*) expect=reject ;; *) continue ;; esac
    [[ "$name" == *.args ]] && continue
    args=("$entry")
    case "$kind" in
      jsonschema)
        schema="$entry/schema.json"
        [ -f "$entry/SCHEMA" ] && schema="$HERE/$(cat "$entry/SCHEMA")"
        args=("$schema")
        for doc in "$entry"/*; do
          case "$(basename -- "$doc")" in schema.json|SCHEMA) ;; *) args+=("$doc") ;; esac
        done ;;
      manifest) args=("$entry/manifest.json") ;;
    esac
    if [ -f "$entry.args" ]; then read -r -a extra < "$entry.args"; args+=("${extra[@]}"); fi
    add "$expect" "$kind" "${entry#"$HERE/"}" "${args[@]}"
  done
done
# the interop fixture is hand-made "siteconf output": its FRR configs and fabric must pass too
for conf in "$HERE"/fixtures/interop/*/*/etc/frr/frr.conf; do add pass frr "${conf#"$HERE/"}" "$conf"; done
add pass jsonschema fixtures/interop/site/fabric.json "$HERE/schemas/fabric.schema.json" "$HERE/fixtures/interop/site/fabric.json"

# Run them two at a time; each writes its verdict to its own file.
run_case() { # N: run line N of $CASES (EXPECT KIND LABEL ARGS...)
  local n=$1 rc=0 verdict row expect kind label
  IFS=$'\t' read -r -a row < <(sed -n "${n}p" "$CASES")
  expect=${row[0]} kind=${row[1]} label=${row[2]}
  "$CHECK" "$kind" "${row[@]:3}" > "$WORK/$n.out" 2>&1 || rc=$?
  if [ "$expect" = pass ] && [ $rc -eq 0 ]; then verdict=ok
  elif [ "$expect" = reject ] && [ $rc -eq 1 ]; then verdict=ok
  else verdict="bad (exit $rc, expected $expect)"; fi
  printf '%s\t%s\t%s\t%s\n' "$verdict" "$expect" "$kind" "$label" > "$WORK/$n.verdict"
}
export -f run_case
export CHECK WORK CASES="$cases"
# shellcheck disable=SC2016  # $1 is for the inner bash
seq 1 "$(wc -l < "$cases")" | xargs -P2 -n1 bash -c 'run_case "$1"' _

passed=0 failed=0
n=0
while IFS= read -r _; do
  n=$((n + 1))
  if [ ! -f "$WORK/$n.verdict" ]; then echo "FAIL case $n did not run"; failed=$((failed + 1)); continue; fi
  IFS=$'\t' read -r verdict expect kind path < "$WORK/$n.verdict"
  if [ "$verdict" = ok ]; then
    passed=$((passed + 1))
    printf 'ok   %-15s %-6s %s\n' "$kind" "$expect" "$path"
    # show why an invalid example was rejected: the consumer's own words
    if [ "$expect" = reject ]; then
      { grep -vE '^(OK|FAIL) |^reason:' "$WORK/$n.out" || true; } | head -n 2 | sed 's/^/       | /'
    fi
  else
    failed=$((failed + 1))
    printf 'FAIL %-15s %-6s %s: %s\n' "$kind" "$expect" "$path" "$verdict"
    sed 's/^/       | /' "$WORK/$n.out"
  fi
done < "$cases"

# expect_run NAME WANT_RC GREP_PATTERN LOG CMD...: a whole-tool case
expect_run() {
  local name=$1 want=$2 pattern=$3 log=$4 rc=0
  shift 4
  "$@" > "$log" 2>&1 || rc=$?
  if [ $rc -eq "$want" ] && grep -qE -- "$pattern" "$log"; then
    passed=$((passed + 1)); echo "ok   $name ($(tail -n1 "$log"))"
  else
    failed=$((failed + 1)); echo "FAIL $name (exit $rc, expected $want and /$pattern/)"; sed 's/^/       | /' "$log"
  fi
}
if [ $FULL = 1 ]; then
  FIX="$HERE/fixtures/interop"
  expect_run "run.sh         pass   fixtures/interop" 0 '^consumers: [0-9]+ passed, 0 failed$' "$WORK/run.out" \
    "$HERE/run.sh" "$FIX"
  cp -r "$FIX" "$WORK/out-damaged"
  rm "$WORK/out-damaged/nodes/r01n01/hostname"
  sed -i 's/^ns1\tIN A 10.0.0.2$/ns1\tIN A 10.0.0.300/' "$WORK/out-damaged/site/dns/dc1.example.net.zone"
  expect_run "run.sh         reject fixtures/interop damaged (no hostname, bad A record)" 1 \
    '^consumers: [0-9]+ passed, 3 failed$' "$WORK/run-damaged.out" "$HERE/run.sh" "$WORK/out-damaged"
  grep -qE '^FAIL hostname .*/r01n01/hostname$' "$WORK/run-damaged.out" && grep -qE '^FAIL zone .*dc1.example.net.zone$' "$WORK/run-damaged.out" \
    && grep -qE '^FAIL manifest ' "$WORK/run-damaged.out" \
    || { failed=$((failed + 1)); echo "FAIL run.sh did not name the damaged files"; }
fi
if [ $FULL = 1 ]; then
  expect_run "bgp-interop    pass   fixtures/interop" 0 '^bgp-interop: [0-9]+ passed, 0 failed$' "$WORK/interop.out" \
    "$HERE/bgp-interop.sh" "$FIX"
  # nodes that announce everything they learn are transit paths between the ToRs
  cp -r "$FIX" "$WORK/interop-broken"
  sed -i '/neighbor TOR route-map OWN-LOOPBACK out/d' "$WORK"/interop-broken/nodes/*/etc/frr/frr.conf
  expect_run "bgp-interop    reject nodes without outbound policy" 1 'expected 1 \(its own loopback4 only\)' \
    "$WORK/interop-broken.out" env BGP_INTEROP_TIMEOUT=15 "$HERE/bgp-interop.sh" "$WORK/interop-broken"
fi

echo "selftest took $(awk -v a="$START" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }') s"
echo "consumer-selftest: $passed passed, $failed failed"
[ $failed -eq 0 ]
