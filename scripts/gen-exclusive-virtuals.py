#!/usr/bin/env python3
"""Writes data/debian-bookworm-exclusive-virtuals.txt from a Debian package index.

Usage (on Debian 12, its main archive in the apt lists):
    lz4cat /var/lib/apt/lists/deb.debian.org_debian_dists_bookworm_main_binary-amd64_Packages.lz4 \
        | python3 scripts/gen-exclusive-virtuals.py > data/debian-bookworm-exclusive-virtuals.txt

A virtual package that its providers also conflict with (`Provides: time-daemon`
and `Conflicts: time-daemon`, Debian Policy 7.6.2) is one of which only one provider can
be installed at a time: `apt-get install chrony ntpsec` fails. A transitional
package that depends on exactly one such provider (`ntp` -> `ntpsec`) is listed
with it.
"""
import collections
import re
import sys


def relations(value):
    out = []
    for alt in value.split(","):
        first = alt.split("|")[0].strip()
        m = re.match(r"([a-z0-9][a-z0-9.+-]*)", first)
        if m:
            out.append((m.group(1), "(" in first, "|" in alt))
    return out


stanzas = []
for block in sys.stdin.read().split("\n\n"):
    fields = {}
    for line in block.split("\n"):
        m = re.match(r"^([A-Za-z-]+): ?(.*)$", line)
        if m:
            fields[m.group(1)] = m.group(2)
    if "Package" in fields:
        stanzas.append(fields)

groups = collections.defaultdict(set)
for f in stanzas:
    provides = {n for n, _, _ in relations(f.get("Provides", ""))}
    conflicts = {n for n, versioned, _ in relations(f.get("Conflicts", "")) if not versioned}
    for v in provides & conflicts:
        groups[v].add(f["Package"])
groups = {v: ps for v, ps in groups.items() if len(ps) >= 2}
member_of = collections.defaultdict(set)
for v, ps in groups.items():
    for p in ps:
        member_of[p].add(v)
for f in stanzas:
    deps = relations(f.get("Depends", ""))
    if "transitional" not in f.get("Description", "").lower():
        continue
    targets = [n for n, _, alt in deps if not alt and n in member_of]
    if len(targets) == 1:
        for v in member_of[targets[0]]:
            groups[v].add(f["Package"])

print("# Virtual packages of Debian 12 (bookworm) of which one provider at a time can be")
print("# installed: each provider also conflicts with the virtual package (Debian Policy 7.6.2),")
print("# so `apt-get install` of two of them fails. One line: VIRTUAL PROVIDER PROVIDER...")
print("# (a transitional package that depends on one provider, `ntp` -> `ntpsec`, is listed too).")
print("# Source: the bookworm main archive's package index. Regenerate with:")
print("#   lz4cat /var/lib/apt/lists/deb.debian.org_debian_dists_bookworm_main_binary-amd64_Packages.lz4 \\")
print("#     | python3 scripts/gen-exclusive-virtuals.py > data/debian-bookworm-exclusive-virtuals.txt")
for v in sorted(groups):
    print(v, " ".join(sorted(groups[v])))
