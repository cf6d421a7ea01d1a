#!/usr/bin/env bash
# release.sh — build siteconf's release artefacts into dist/ (or --out DIR):
#
#   siteconf-VERSION-x86_64-linux-static   one static binary: copy it anywhere and run it
#   siteconf_VERSION-1_amd64.deb           /usr/bin/siteconf, man pages (siteconf(1),
#                                          siteconf-check(1) …) and bash, zsh, fish completions
#   SHA256SUMS
#
# The container image recipe (Containerfile at the repository root) installs that .deb:
#   scripts/release.sh && podman build -f Containerfile -t siteconf .
#
# Usage: scripts/release.sh [--dynamic] [--out DIR]
#
# Static binary, in order of preference:
#   1. musl (x86_64-unknown-linux-musl), when that target's standard library is installed
#      (`rustup target add x86_64-unknown-linux-musl`): the usual fully static Rust binary.
#   2. glibc linked statically (-C target-feature=+crt-static, --target
#      x86_64-unknown-linux-gnu), when musl is not installed. Everything siteconf links
#      (libgit2 built without network or SSH, mimalloc) links statically; the one caveat of a
#      static glibc is NSS (user and host name look-ups through /etc/nsswitch.conf modules),
#      which siteconf does not use for its work. The linker may warn about getpwuid_r in
#      libgit2 (home directory look-up): it works with plain /etc/passwd files.
# Either way the script checks the result is static (`file`, `ldd`) and fails if it is not.
#
# --dynamic packages a normal `cargo build --release` instead (what tests/release.sh uses, to
# reuse the release build a developer already has rather than compile a second one); the .deb
# then depends on the libc it was linked against ($auto through dpkg-shlibdeps).
#
# Needs cargo-deb: installed here on first use with `cargo install cargo-deb --locked`
# (from crates.io; it compiles for a few minutes, once).
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"

CARGO_DEB_VERSION=3.8.0
OUT=dist
MODE=static
while [ $# -gt 0 ]; do
    case "$1" in
        --dynamic) MODE=dynamic ;;
        --out) OUT=${2:?--out needs a directory}; shift ;;
        -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
        *) echo "release.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
    esac
    shift
done
say() { printf '== %s\n' "$*"; }
die() { printf 'release.sh: ERROR: %s\n' "$*" >&2; exit 1; }

if ! command -v cargo-deb >/dev/null 2>&1; then
    say "installing cargo-deb $CARGO_DEB_VERSION (once; compiles for a few minutes)"
    cargo install cargo-deb --locked --version "$CARGO_DEB_VERSION"
fi

# ---- the binary ---------------------------------------------------------------------------
TARGET=""
case "$MODE" in
    dynamic)
        say "cargo build --release (dynamic)"
        cargo build --release --locked
        ;;
    static)
        if rustup target list --installed 2>/dev/null | grep -qx 'x86_64-unknown-linux-musl'; then
            TARGET=x86_64-unknown-linux-musl
            say "cargo build --release --target $TARGET (static, musl)"
            cargo build --release --locked --target "$TARGET"
        else
            TARGET=x86_64-unknown-linux-gnu
            say "musl target not installed: static glibc (+crt-static, --target $TARGET)"
            RUSTFLAGS="${RUSTFLAGS:-} -C target-feature=+crt-static" \
                cargo build --release --locked --target "$TARGET"
        fi
        ;;
esac
BIN=target/${TARGET:+$TARGET/}release/siteconf
[ -x "$BIN" ] || die "no binary at $BIN"

if [ "$MODE" = static ]; then
    desc=$(file -b "$BIN")
    case "$desc" in
        *"statically linked"*|*"static-pie linked"*) ;;
        *) die "$BIN is not static: $desc" ;;
    esac
    # ldd exits non-zero on a static binary; its message is what matters.
    ldd_out=$(ldd "$BIN" 2>&1 || true)
    case "$ldd_out" in
        *"not a dynamic executable"*|*"statically linked"*) ;;
        *) die "$BIN links shared libraries: $ldd_out" ;;
    esac
    say "static: $desc"
fi
VERSION=$("$BIN" --version | awk '{print $2}')
[ -n "$VERSION" ] || die "cannot read the version from $BIN --version"

# ---- man pages and completions, written by the binary being packaged ----------------------
ASSETS=target/siteconf-assets
rm -rf "$ASSETS"
mkdir -p "$ASSETS/man" "$ASSETS/completions"
"$BIN" man --dir "$ASSETS/man"
# Reproducible: no name or time stamp in the gzip header.
gzip -9n "$ASSETS"/man/*.1
"$BIN" completions bash > "$ASSETS/completions/siteconf.bash"
"$BIN" completions zsh > "$ASSETS/completions/_siteconf"
"$BIN" completions fish > "$ASSETS/completions/siteconf.fish"

# ---- the Debian package -------------------------------------------------------------------
mkdir -p "$OUT"
rm -f "$OUT"/siteconf_*.deb "$OUT"/siteconf-*-linux-static "$OUT"/SHA256SUMS
say "cargo deb"
# --strip: the release profile keeps line tables (for backtraces in development); the
# packaged binary drops them (here 80 MB → 12 MB). For a static binary dpkg-shlibdeps warns
# "Failed to find dependency specification": right, it depends on nothing.
cargo deb --no-build --locked --strip ${TARGET:+--target "$TARGET"} --output "$OUT"
DEB=$(ls "$OUT"/siteconf_*.deb)

if [ "$MODE" = static ]; then
    strip -o "$OUT/siteconf-$VERSION-x86_64-linux-static" "$BIN"
fi
(cd "$OUT" && sha256sum -- siteconf* > SHA256SUMS)
say "artefacts in $OUT:"
ls -l "$OUT"
say "deb: $DEB"
