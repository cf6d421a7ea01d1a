#!/usr/bin/env bash
# The whole test suite: README's second command, and exactly what .ci/run runs.
# Installs the real consumers the tests need (idempotent; needs root, as CI has),
# then: formatting, lints, unit/case/property tests, a short run of every fuzz
# target over its committed corpus, and the consumer tests that
# run every artifact of the example site and of a generated 200-node site through
# the program that reads it, plus the BGP interoperation test. Before those, the
# release artefacts (tests/release.sh: one static release build, the .deb installed
# and used) and README's quick start run as written (tests/readme-quickstart.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"
start=$(date +%s)
step() { printf '\n== %s (%ss)\n' "$*" "$(( $(date +%s) - start ))"; }

step "install consumers"
bash scripts/install-consumers.sh

step "cargo fmt --check"
cargo fmt --check

step "cargo clippy --all-targets"
cargo clippy --all-targets --locked -- -D warnings

step "cargo test"
cargo test --locked

step "fuzz smoke (every target, ${FUZZ_SECONDS:-10}s each)"
FUZZ_SECONDS="${FUZZ_SECONDS:-10}" bash scripts/fuzz-smoke.sh

step "release artefacts (static binary, .deb: installed, man, completions) and README quick start"
bash tests/release.sh
bash tests/readme-quickstart.sh

step "consumer tests"
bash tests/consumers/run-all.sh

step "done in $(( $(date +%s) - start ))s"
