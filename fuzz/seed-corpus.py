#!/usr/bin/env python3
"""Seeds fuzz/corpus/<target>/ from the repository's own inputs: the test
cases, fixtures, the example site, the KDL compliance suite, the observed
state samples and the default templates. Run from anywhere; files are named
by the SHA-1 of their contents (as libFuzzer does), so running it again adds
nothing twice. After seeding, `cargo fuzz cmin <target>` keeps the inputs
that add coverage (see fuzz/README.md).
"""

import hashlib
import pathlib
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
CORPUS = ROOT / "fuzz" / "corpus"


def files(*globs):
    out = []
    for g in globs:
        out += [p for p in sorted(ROOT.glob(g)) if p.is_file()]
    return out


def put(target, data):
    d = CORPUS / target
    d.mkdir(parents=True, exist_ok=True)
    (d / hashlib.sha1(data).hexdigest()).write_bytes(data)


def main():
    kdl = files("site/**/*.kdl", "tests/cases/**/*.kdl", "tests/fixtures/**/*.kdl")
    # The KDL compliance suite (320 files) is in the repository already;
    # add it with --with-compliance for a longer run of the KDL targets.
    compliance = files("tests/kdl_compliance/input/*.kdl") if "--with-compliance" in sys.argv else []
    toml_sites = files("tests/cases/**/site/**/*.toml", "tests/fixtures/**/site/**/*.toml")
    toml_other = files("siteconf.toml", "tests/**/siteconf.toml", "tests/fixtures/small/secrets.toml")
    for p in kdl + compliance:
        put("kdl_parse", p.read_bytes())
        put("kdl_differential", p.read_bytes())
    for p in toml_sites + toml_other:
        put("toml_parse", p.read_bytes())
    for p in kdl:
        put("check_site", b"K" + p.read_bytes())
    for p in toml_sites:
        put("check_site", b"T" + p.read_bytes())
    # The lock reader: every lock of the repository (the damaged ones of
    # tests/cases/lock-* included); siteconf.toml: every project config.
    for p in files("siteconf.lock", "tests/**/siteconf.lock"):
        put("lock_parse", p.read_bytes())
    for p in files("siteconf.toml", "tests/**/siteconf.toml"):
        put("config_parse", p.read_bytes())
    for extra in [b"site-dir = \"../outside\"\n", b"templates-dir = \"/etc\"\n", b"out-dir = \"/srv/out\"\n[secrets]\nfile = \"/run/secrets.toml\"\n"]:
        put("config_parse", extra)
    # A site with its lock file after a NUL byte.
    put("check_site", b"K" + (ROOT / "site/site.kdl").read_bytes() + b"\0" + (ROOT / "siteconf.lock").read_bytes())

    # Templates: the first byte is the index of the built-in template the
    # rest replaces (built-ins sorted by name, as siteconf keeps them).
    tdir = ROOT / "templates"
    names = sorted(str(p.relative_to(tdir)) for p in tdir.rglob("*.j2"))
    for i, n in enumerate(names):
        put("template", bytes([i]) + (tdir / n).read_bytes())
    for p in files("tests/cases/*/templates/**/*.j2"):
        rel = str(p.relative_to(ROOT)).split("/templates/", 1)[1]
        i = names.index(rel) if rel in names else 255
        put("template", bytes([i]) + p.read_bytes())

    for kind, target in [("lldp", "state_lldp"), ("facts", "state_facts"), ("bgp", "state_bgp")]:
        for p in files(f"tests/state/{kind}/*", f"tests/cases/*/observed/{kind}/*"):
            put(target, p.read_bytes())
    for p in files("tests/state/leases/*", "tests/cases/*/observed/leases.csv"):
        put("state_leases", p.read_bytes())


if __name__ == "__main__":
    main()
