#!/usr/bin/env bash
# Runs README.md's quick start — every command of its fenced block, as written, in order, with
# `set -e` — then checks what a user would see afterwards:
#   - siteconf is installed from the .deb (/usr/bin/siteconf, dpkg knows it, `man` finds it);
#   - ~/fleet is a git repository whose first commit holds the site, the lock, the CI file and
#     the pre-commit configuration `siteconf init` wrote, and neither out/ nor secrets/;
#   - the pre-commit hook is live: staging a broken site makes `git commit` fail.
#
# Only the surroundings differ from a user's shell, each for a reason:
#   HOME      a scratch directory (the quick start writes ~/fleet); CARGO_HOME and RUSTUP_HOME
#             keep pointing at the real toolchain.
#   sudo      when running as root without sudo installed (CI), a shim that runs the command.
#   git       an author name and e-mail in the environment (a fresh HOME has no ~/.gitconfig).
# The .deb is a real `apt-get install` into this machine (CI runs as root); the package is
# removed again at the end unless it was installed before the test.
# The release build is the static one of scripts/release.sh, shared with tests/release.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
REPO=$PWD
T=$(mktemp -d)
had_pkg=0
if [ "$(dpkg-query -W -f='${db:Status-Abbrev}' siteconf 2>/dev/null)" = "ii " ]; then had_pkg=1; fi
cleanup() {
    if [ "$had_pkg" = 0 ] && dpkg-query -W siteconf >/dev/null 2>&1; then
        dpkg -r siteconf >/dev/null 2>&1 || true
    fi
    rm -rf "$T"
}
trap cleanup EXIT

# The quick start: the first ```sh block after "## Quick start".
awk '/^## Quick start/ { q = 1; next }
     q && /^```sh$/ { f = 1; next }
     f && /^```$/ { exit }
     f { print }' README.md > "$T/quickstart.sh"
n=$(grep -cvE '^[[:space:]]*(#|$)' "$T/quickstart.sh" || true)
[ "$n" -ge 10 ] || { echo "FAIL README quick start not found or too short ($n commands)"; exit 1; }

mkdir -p "$T/home" "$T/bin"
if ! command -v sudo >/dev/null 2>&1; then
    [ "$(id -u)" -eq 0 ] || { echo "FAIL needs root or sudo (the quick start installs a .deb)"; exit 1; }
    printf '#!/bin/sh\nexec "$@"\n' > "$T/bin/sudo"
    chmod +x "$T/bin/sudo"
fi
export CARGO_HOME="${CARGO_HOME:-$HOME/.cargo}" RUSTUP_HOME="${RUSTUP_HOME:-$HOME/.rustup}"
export PATH="$T/bin:$PATH" HOME="$T/home"
export GIT_AUTHOR_NAME="Quick Start" GIT_AUTHOR_EMAIL="quickstart@example.net"
export GIT_COMMITTER_NAME="Quick Start" GIT_COMMITTER_EMAIL="quickstart@example.net"
export GIT_CONFIG_NOSYSTEM=1 NO_COLOR=1

echo "-- running the $n commands of README.md's quick start"
if ! bash -euo pipefail -x "$T/quickstart.sh" > "$T/log" 2>&1; then
    cat "$T/log"
    echo "FAIL a README quick start command failed (its trace is above)"
    exit 1
fi

fails=0
ok() { printf 'ok   %s\n' "$*"; }
bad() { printf 'FAIL %s\n' "$*"; fails=$((fails + 1)); }
[ "$(command -v siteconf)" = /usr/bin/siteconf ] && ok "siteconf on PATH is /usr/bin/siteconf" \
    || bad "siteconf on PATH is $(command -v siteconf || echo nothing)"
dpkg-query -W -f='${Status}\n' siteconf | grep -q "install ok installed" && ok "dpkg: siteconf installed" \
    || bad "dpkg does not list siteconf"
man -w siteconf >/dev/null 2>&1 && ok "man siteconf finds the page" || bad "man siteconf finds no page"
F="$HOME/fleet"
[ "$(git -C "$F" rev-list --count HEAD)" = 1 ] && ok "~/fleet has its first commit" || bad "no commit in ~/fleet"
files=$(git -C "$F" ls-files)
# A here-string, not `printf | grep -q`: under pipefail, grep -q leaving at
# the first match can kill printf with SIGPIPE, and the check then fails
# for a file that is there (it did, for .pre-commit-config.yaml, listed first).
for f in siteconf.toml siteconf.lock .gitlab-ci.yml .gitignore .pre-commit-config.yaml \
         schema/site.schema.json site/site.kdl; do
    grep -qx -- "$f" <<<"$files" && ok "committed: $f" || bad "not committed: $f"
done
grep -q '^out/' <<<"$files" && bad "out/ was committed" || ok "out/ is not committed"
grep -q '^secrets/' <<<"$files" && bad "the secrets file was committed" \
    || ok "secrets/ is not committed"
[ -f "$F/out/manifest.json" ] || [ -d "$F/out/nodes" ] && ok "out/ was built" || bad "nothing built in out/"
# The hook is live: a node in a rack that does not exist, staged → the commit is refused.
printf 'node "r99n01" rack="r99" position=1 role="compute"\n' >> "$F/site/site.kdl"
git -C "$F" add -A
if git -C "$F" commit -qm "broken" > "$T/commit.log" 2>&1; then
    bad "the pre-commit hook let a broken site be committed"
else
    grep -q "error" "$T/commit.log" && ok "the pre-commit hook refuses a broken site" \
        || { cat "$T/commit.log"; bad "the commit failed without siteconf's report"; }
fi

if [ "$fails" -eq 0 ]; then
    echo "readme-quickstart: all $n commands ran; all checks passed"
else
    echo "readme-quickstart: $fails check(s) failed"
    exit 1
fi
