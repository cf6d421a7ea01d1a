#!/usr/bin/env bash
# The release artefacts as a user gets them (scripts/release.sh): build the .deb, install it
# with dpkg into a scratch root (a real `dpkg -i`, with its own database, so the machine is
# left alone), then use what was installed:
#   - the files are where Debian puts them: /usr/bin/siteconf, man pages in
#     /usr/share/man/man1/, bash/zsh/fish completions in their vendor directories;
#   - the installed `siteconf --version` answers the crate's version, and `siteconf check`
#     on the example site is clean;
#   - `man -l` renders siteconf(1) and siteconf-check(1) without a groff warning
#     (`mandoc -T lint` too, when mandoc is installed);
#   - the bash completion parses (`bash -n`), loads, and completes a subcommand.
#   - the packaged binary is static (scripts/release.sh checks it with `file` and `ldd`; here
#     again on the installed file).
# Cost: one release build (the static one, target/x86_64-unknown-linux-gnu/release, or musl
# when installed), shared with tests/readme-quickstart.sh, which runs scripts/release.sh
# again as the README says (then only cargo-deb runs). cargo-deb is installed on first use
# (`cargo install cargo-deb --locked`: a few minutes, once).
#
# Usage: tests/release.sh            (exit 0 when every check passes)
set -euo pipefail
cd "$(dirname "$0")/.."
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fails=0
ok() { printf 'ok   %s\n' "$*"; }
bad() { printf 'FAIL %s\n' "$*"; fails=$((fails + 1)); }

bash scripts/release.sh --out "$T/dist" > "$T/release.log" 2>&1 || {
    cat "$T/release.log"
    echo "FAIL scripts/release.sh"
    exit 1
}
STATIC=$(ls "$T"/dist/siteconf-*-x86_64-linux-static)
"$STATIC" --version > /dev/null && ok "static binary runs: $(basename "$STATIC")" || bad "static binary does not run"
( cd "$T/dist" && sha256sum --check --quiet SHA256SUMS ) && ok "SHA256SUMS match" || bad "SHA256SUMS do not match"
DEB=$(ls "$T"/dist/siteconf_*_amd64.deb)
VERSION=$(sed -n 's/^version = "\(.*\)"$/\1/p' Cargo.toml | head -1)

# ---- the package's metadata ---------------------------------------------------------------
[ "$(dpkg-deb -f "$DEB" Package)" = siteconf ] && ok "Package: siteconf" || bad "Package field"
case "$(dpkg-deb -f "$DEB" Version)" in
    "$VERSION"-*) ok "Version: $VERSION-…" ;;
    *) bad "Version field: $(dpkg-deb -f "$DEB" Version), crate is $VERSION" ;;
esac

# ---- dpkg -i into a scratch root ----------------------------------------------------------
R="$T/root"
mkdir -p "$R/var/lib/dpkg/info" "$R/var/lib/dpkg/updates"
touch "$R/var/lib/dpkg/status"
# The scratch root has no libc6 package in its database: --force-depends (the host has one).
if dpkg --root="$R" --log=/dev/null --force-not-root --force-depends --force-script-chrootless \
        -i "$DEB" > "$T/dpkg.log" 2>&1; then
    ok "dpkg -i (scratch root)"
else
    cat "$T/dpkg.log"
    bad "dpkg -i (scratch root)"
fi
[ "$(dpkg-query --admindir="$R/var/lib/dpkg" -W -f='${Status}' siteconf 2>/dev/null)" = "install ok installed" ] \
    && ok "dpkg-query: siteconf install ok installed" || bad "dpkg-query status"

for f in usr/bin/siteconf \
         usr/share/man/man1/siteconf.1.gz \
         usr/share/man/man1/siteconf-check.1.gz \
         usr/share/man/man1/siteconf-build.1.gz \
         usr/share/bash-completion/completions/siteconf \
         usr/share/zsh/vendor-completions/_siteconf \
         usr/share/fish/vendor_completions.d/siteconf.fish \
         usr/share/doc/siteconf/copyright; do
    [ -s "$R/$f" ] && ok "/$f" || bad "/$f missing from the package"
done
[ -x "$R/usr/bin/siteconf" ] && ok "/usr/bin/siteconf is executable" || bad "/usr/bin/siteconf not executable"
case "$(file -b "$R/usr/bin/siteconf")" in
    *"statically linked"*|*"static-pie linked"*) ok "/usr/bin/siteconf is static" ;;
    *) bad "/usr/bin/siteconf is not static: $(file -b "$R/usr/bin/siteconf")" ;;
esac
case "$(ldd "$R/usr/bin/siteconf" 2>&1 || true)" in
    *"not a dynamic executable"*|*"statically linked"*) ok "ldd: no shared libraries (static)" ;;
    *) bad "ldd lists shared libraries" ;;
esac
[ -z "$(dpkg-deb -f "$DEB" Depends)" ] && ok "no Depends (static)" || bad "Depends: $(dpkg-deb -f "$DEB" Depends)"

# ---- the installed binary -----------------------------------------------------------------
S="$R/usr/bin/siteconf"
got=$("$S" --version 2>&1 || true)
[ "$got" = "siteconf $VERSION" ] && ok "siteconf --version: $got" || bad "siteconf --version said: $got"
if out=$("$S" check 2>&1); then
    ok "siteconf check on the example site (exit 0)"
else
    printf '%s\n' "$out"
    bad "siteconf check on the example site"
fi
# What a first hour looks like: explain names what was meant.
out=$("$S" explain r01n01 address 2>&1 || true)
case "$out" in
    *"addresses.mgmt"*) ok "siteconf explain r01n01 address hints addresses.mgmt" ;;
    *) printf '%s\n' "$out"; bad "explain hint" ;;
esac

# ---- man pages ----------------------------------------------------------------------------
for page in siteconf siteconf-check; do
    f="$R/usr/share/man/man1/$page.1.gz"
    if rendered=$(MANWIDTH=80 man --warnings -l "$f" 2> "$T/man.err") \
            && [ ! -s "$T/man.err" ] && printf '%s' "$rendered" | grep -q '^NAME'; then
        ok "man -l $page.1.gz (no warnings)"
    else
        cat "$T/man.err"
        bad "man -l $page.1.gz"
    fi
done
if ! printf '%s' "$(MANWIDTH=80 man -l "$R/usr/share/man/man1/siteconf.1.gz" 2>/dev/null)" | grep -q 'completions'; then
    bad "siteconf(1) does not list the completions command"
fi
if command -v mandoc >/dev/null 2>&1; then
    if mandoc -T lint -W warning "$R/usr/share/man/man1/siteconf.1.gz"; then ok "mandoc -T lint"; else bad "mandoc -T lint"; fi
fi

# ---- completions --------------------------------------------------------------------------
C="$R/usr/share/bash-completion/completions/siteconf"
bash -n "$C" && ok "bash -n completion" || bad "bash -n completion"
# Load it and complete `siteconf che<TAB>`.
got=$(bash -c '
    source "$1"
    COMP_WORDS=(siteconf che); COMP_CWORD=1; COMP_LINE="siteconf che"; COMP_POINT=${#COMP_LINE}
    _siteconf siteconf che siteconf
    printf "%s\n" "${COMPREPLY[@]}"' _ "$C" 2>&1 || true)
case "$got" in
    *check*) ok "bash completion: siteconf che<TAB> → check" ;;
    *) printf '%s\n' "$got"; bad "bash completion of a subcommand" ;;
esac
if command -v zsh >/dev/null 2>&1; then
    zsh -n "$R/usr/share/zsh/vendor-completions/_siteconf" && ok "zsh -n completion" || bad "zsh -n completion"
fi
if command -v fish >/dev/null 2>&1; then
    fish -n "$R/usr/share/fish/vendor_completions.d/siteconf.fish" && ok "fish -n completion" || bad "fish -n completion"
fi

# ---- dpkg -r: the package removes what it installed ---------------------------------------
dpkg --root="$R" --log=/dev/null --force-not-root --force-script-chrootless -r siteconf > "$T/dpkg-r.log" 2>&1 \
    && [ ! -e "$R/usr/bin/siteconf" ] && ok "dpkg -r removes /usr/bin/siteconf" || { cat "$T/dpkg-r.log"; bad "dpkg -r"; }

if [ "$fails" -eq 0 ]; then
    echo "release: all checks passed ($(basename "$DEB"))"
else
    echo "release: $fails check(s) failed"
    exit 1
fi
