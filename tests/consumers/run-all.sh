#!/usr/bin/env bash
# The consumer tests of siteconf's own output, as scripts/test.sh runs them:
#   1. the harness can fail (selftest --full: valid examples pass, broken ones are rejected);
#   2. every artifact of the example site's build, read by its real consumer;
#   3. the same for a site from `siteconf init --nodes 200` (a sample of every role and rack);
#   4. BGP interoperation: a small generated site's FRR configs run in network namespaces, and
#      those of fixtures/interop-site (numbered sessions, a single uplink, external peers);
#   5. soundness: random sites of varied shape (tests/soundness.rs) that check accepts must
#      build, and the consumers must accept a sample of each build;
#   6. the boot chain: virtual machines network-boot from a built site (Kea, nginx, iPXE, QEMU);
#   7. several sites: two sites sharing one bootinfra (each site's build, the joined Kea and
#      zones, both BGP fabrics).
# Ends with `consumer-suite: N passed, N failed`; exits 1 if any stage failed.
set -euo pipefail
cd "$(dirname "$0")/../.."
cargo build --locked --quiet
BIN="$PWD/target/debug/siteconf"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
passed=0
failed=0
stage() {
    local name=$1
    shift
    echo "-- $name"
    if "$@"; then
        passed=$((passed + 1))
    else
        echo "FAILED STAGE: $name"
        failed=$((failed + 1))
    fi
}

stage "harness selftest" tests/consumers/selftest.sh --full

stage "build example site" "$BIN" build --out "$T/example"
stage "consumers on the example site" \
    tests/consumers/run.sh "$T/example" --siteconf "$BIN" --project "$PWD"

stage "init 200 nodes" "$BIN" init "$T/gen" --nodes 200
stage "build 200 nodes" "$BIN" -C "$T/gen" build --out "$T/gen/out"
stage "consumers on 200 nodes" \
    tests/consumers/run.sh "$T/gen/out" --siteconf "$BIN" --project "$T/gen"

stage "init small interop site" "$BIN" init "$T/small" --nodes 8 --racks 2
stage "build small interop site" "$BIN" -C "$T/small" build --out "$T/small/out"
stage "BGP interop" tests/consumers/bgp-interop.sh "$T/small/out"

# Every kind of session siteconf renders: numbered (loopback to loopback, IPv4 and IPv6, and on
# a connected /31), a single-uplink node, external peers on a declared link (simulated).
# A copy: `build` records zone serials in the project's siteconf.lock, and a test run must not
# change the repository.
cp -r tests/consumers/fixtures/interop-site "$T/lab-site"
stage "build interop site" "$BIN" -C "$T/lab-site" build --out "$T/lab"
stage "BGP interop (numbered, single uplink, external)" tests/consumers/bgp-interop.sh "$T/lab"

stage "soundness: random valid sites" \
    tests/consumers/soundness.sh --siteconf "$BIN" --sites 4 --sample 2

stage "VM boot" tests/consumers/vm-boot.sh --siteconf "$BIN"

stage "two sites, one bootinfra" tests/consumers/sites.sh --siteconf "$BIN"

echo "consumer-suite: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
