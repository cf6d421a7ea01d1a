#!/bin/sh
# The `siteconf-check` pre-commit hook (.pre-commit-hooks.yaml): run the siteconf that is
# installed — $SITECONF_BIN, else `siteconf` on PATH — with the hook's arguments. When there
# is none, say how to install a prebuilt one and fail: the hook never compiles siteconf.
bin=${SITECONF_BIN:-siteconf}
if command -v "$bin" >/dev/null 2>&1; then
    exec "$bin" "$@"
fi
# Only shell built-ins from here: PATH may be as bare as a GUI git client's.
printf '%s\n' "siteconf-check: no siteconf found (${SITECONF_BIN:+SITECONF_BIN=$SITECONF_BIN, }PATH=$PATH)." >&2
printf '%s\n' "Install a prebuilt one, then commit again:" >&2
printf '%s\n' "  - the Debian package:   sudo apt-get install ./siteconf_VERSION-1_amd64.deb" >&2
printf '%s\n' "  - or the static binary: install -m 755 siteconf-VERSION-x86_64-linux-static ~/.local/bin/siteconf" >&2
printf '%s\n' "Both are release artefacts of siteconf (scripts/release.sh in its repository writes them to" >&2
printf '%s\n' "dist/; ask where your team publishes them). A binary elsewhere: export SITECONF_BIN=/path/to/siteconf." >&2
printf '%s\n' "With a Rust toolchain and time to compile, the hook id siteconf-check-from-source builds it." >&2
exit 1
