#!/usr/bin/env bash
# soundness.sh — the consumer half of the soundness property (issue #13, item 6): random
# sites that `check` accepts must build, and the real consumers must accept a sample of every
# artifact kind of each build.
#
#   tests/consumers/soundness.sh [--siteconf BIN] [--sites N] [--sample K] [--seed S] [--keep DIR]
#                                [--interop]
#
#   --siteconf BIN  the siteconf binary (default: `cargo build --release`, target/release/siteconf)
#   --sites N       generated projects (default 4): IPv4-only, IPv6-only and dual stack, one to
#                   three racks, KDL and TOML, numbered sessions, external peers
#   --sample K      nodes and switches per build checked by run.sh (default 2; the sample always
#                   covers every role and rack)
#   --seed S        first seed (default: the property test's fixed seed)
#   --keep DIR      write the projects and builds under DIR and keep them (default: a temp dir,
#                   removed at exit)
#   --interop       also run bgp-interop.sh on each build whose topology it can judge (see
#                   write_projects in tests/soundness.rs); slower (10-60 s a site)
#
# The projects come from tests/soundness.rs in writer mode (SITECONF_SOUNDNESS_OUT), which has
# already checked and rendered each one in memory. Here each is locked, checked and built by
# the binary (`lock`, then `check --locked` must be clean and `build` must succeed) and handed
# to tests/consumers/run.sh. Ends with
# `soundness: N passed, N failed` (one per project); exit 1 if any failed.
set -euo pipefail
export LC_ALL=C.UTF-8
cd "$(dirname -- "${BASH_SOURCE[0]}")/../.."
usage() { echo "soundness.sh: $*" >&2; sed -n '4p' "$0" | sed 's/^# \{0,1\}/usage: /' >&2; exit 2; }

BIN="" SITES=4 SAMPLE=2 SEED="" KEEP="" INTEROP=0
while [ $# -gt 0 ]; do
  case "$1" in
    --siteconf) [ $# -ge 2 ] || usage "--siteconf needs a path"; BIN=$2; shift 2 ;;
    --sites) [ $# -ge 2 ] && [[ "$2" =~ ^[0-9]+$ ]] || usage "--sites needs a number"; SITES=$2; shift 2 ;;
    --sample) [ $# -ge 2 ] && [[ "$2" =~ ^[0-9]+$ ]] || usage "--sample needs a number"; SAMPLE=$2; shift 2 ;;
    --seed) [ $# -ge 2 ] && [[ "$2" =~ ^[0-9]+$ ]] || usage "--seed needs a number"; SEED=$2; shift 2 ;;
    --keep) [ $# -ge 2 ] || usage "--keep needs a dir"; KEEP=$2; shift 2 ;;
    --interop) INTEROP=1; shift ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) usage "unknown argument $1" ;;
  esac
done
if [ -z "$BIN" ]; then
  cargo build --release --locked --quiet
  BIN="$PWD/target/release/siteconf"
fi
[ -x "$BIN" ] || usage "$BIN is not executable"
BIN=$(readlink -f -- "$BIN")

if [ -n "$KEEP" ]; then
  mkdir -p "$KEEP"
  T=$(readlink -f -- "$KEEP")
else
  T=$(mktemp -d "${TMPDIR:-/tmp}/soundness.XXXXXX")
  trap 'rm -rf "$T"' EXIT
fi
chmod 0755 "$T"

echo "soundness: generating $SITES project(s) in $T"
if [ -n "$SEED" ]; then export SITECONF_SOUNDNESS_SEED="$SEED"; fi
SITECONF_SOUNDNESS_OUT="$T" SITECONF_SOUNDNESS_SITES="$SITES" \
  cargo test --locked --quiet --test soundness write_projects -- --exact --nocapture

# `--deny warnings` where the binary has it: a warning on a meant-valid site is a finding too.
DENY=()
if "$BIN" check --help 2>/dev/null | grep -q -- '--deny'; then DENY=(--deny warnings); fi

passed=0 failed=0
for dir in "$T"/site-*; do
  [ -d "$dir" ] || continue
  name=$(basename -- "$dir")
  echo "-- $name: $(tr -s ' \n' ' ' < "$dir/shape.txt" | cut -c1-200)"
  ok=1
  # As an operator would: allocate into siteconf.lock, then the CI check against it.
  if ! "$BIN" -C "$dir" lock > "$dir/lock.log" 2>&1; then
    echo "FAIL $name: siteconf lock failed"; sed 's/^/     /' "$dir/lock.log"; ok=0
  elif ! "$BIN" -C "$dir" check --locked "${DENY[@]}" > "$dir/check.log" 2>&1; then
    echo "FAIL $name: siteconf check --locked is not clean"; sed 's/^/     /' "$dir/check.log"; ok=0
  elif ! "$BIN" -C "$dir" build --out "$dir/out" > "$dir/build.log" 2>&1; then
    echo "FAIL $name: check was clean but build failed"; sed 's/^/     /' "$dir/build.log"; ok=0
  elif ! tests/consumers/run.sh "$dir/out" --siteconf "$BIN" --project "$dir" --sample "$SAMPLE" \
      > "$dir/consumers.log" 2>&1; then
    echo "FAIL $name: a consumer rejected an artifact"
    grep -vE '^(OK  |UNCHECKED )' "$dir/consumers.log" | sed 's/^/     /'; ok=0
  else
    tail -n 1 "$dir/consumers.log" | sed 's/^/     /'
    if [ $INTEROP = 1 ] && [ "$(cat "$dir/interop.txt")" = yes ]; then
      if tests/consumers/bgp-interop.sh "$dir/out" > "$dir/interop.log" 2>&1; then
        tail -n 1 "$dir/interop.log" | sed 's/^/     /'
      else
        echo "FAIL $name: the generated FRR configs do not interoperate"
        grep -vE '^OK ' "$dir/interop.log" | sed 's/^/     /'; ok=0
      fi
    fi
  fi
  if [ $ok = 1 ]; then
    passed=$((passed + 1)); echo "OK   $name"
  else
    failed=$((failed + 1)); echo "     (site files: $dir/site; keep them with --keep DIR)"
  fi
done
echo "soundness: $passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
