#!/usr/bin/env bash
# Short smoke run of every fuzz target over the committed corpus (see
# fuzz/README.md): installs cargo-fuzz if missing, builds the targets, runs
# each for FUZZ_SECONDS (default 20) and fails on any crash, timeout or
# out-of-memory. Inputs the fuzzer finds are written to a scratch copy of
# the corpus, so the committed corpus stays as it is.
#
# cargo-fuzz needs nightly-only compiler flags; RUSTC_BOOTSTRAP=1 lets the
# stable toolchain accept them.
set -euo pipefail

cd "$(dirname "$0")/.."
export RUSTC_BOOTSTRAP=1
secs="${FUZZ_SECONDS:-20}"

if ! cargo fuzz --version >/dev/null 2>&1; then
    cargo install cargo-fuzz --locked
fi

cd fuzz
cargo fuzz build -O
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT

failed=()
for target in $(cargo fuzz list); do
    case "$target" in
        kdl_* | check_site) dict=dict/kdl.dict ;;
        template) dict=dict/template.dict ;;
        state_*) dict=dict/json.dict ;;
        *) dict= ;;
    esac
    mkdir -p "$scratch/$target"
    if [ -d "corpus/$target" ]; then
        cp -r "corpus/$target/." "$scratch/$target/"
    fi
    echo "== $target (${secs}s)"
    if ! cargo fuzz run -O "$target" "$scratch/$target" -- \
        -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
        ${dict:+-dict="$dict"} </dev/null 2>"$scratch/$target.log"; then
        tail -n 40 "$scratch/$target.log"
        failed+=("$target")
    else
        grep -E '^#[0-9]+[[:space:]]+DONE' "$scratch/$target.log" || true
    fi
done

if [ "${#failed[@]}" -gt 0 ]; then
    echo "fuzz smoke: crashes in ${failed[*]} (inputs under fuzz/artifacts/)" >&2
    exit 1
fi
echo "fuzz smoke: every target ran ${secs}s without a crash"
