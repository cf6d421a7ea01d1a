"""Check OUT/manifest.json against the files beside it.

  manifest_check.py OUT/manifest.json

Every entry (any object with "path" and "sha256", at any depth under "nodes", "switches" and
"site") must name an existing file under OUT with that sha256 (and size, when given), and
every file under OUT except manifest.json must be listed. A path is taken relative to OUT,
or else relative to the directory its keys lead to (e.g. nodes/<host>/).
"""
import hashlib
import json
import os
import sys


def entries(node, keys=()):
    if isinstance(node, dict):
        if "path" in node and "sha256" in node:
            yield keys, node
            return
        for k, v in node.items():
            yield from entries(v, keys + (str(k),))
    elif isinstance(node, list):
        for v in node:
            yield from entries(v, keys)


def main(argv):
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    manifest = os.path.abspath(argv[1])
    out = os.path.dirname(manifest)
    with open(manifest) as f:
        data = json.load(f)
    problems, listed, count = [], set(), 0
    for section in ("nodes", "switches", "site"):
        if section not in data:
            problems.append(f"manifest.json has no '{section}'")
    for keys, e in entries({k: data.get(k) for k in ("nodes", "switches", "site")}):
        count += 1
        rel = str(e["path"])
        if os.path.isabs(rel) or ".." in rel.split("/"):
            problems.append(f"{'/'.join(keys)}: path {rel!r} escapes the output directory")
            continue
        candidates = [os.path.join(out, *keys[:i], rel) for i in range(len(keys) + 1)]
        found = next((c for c in candidates if os.path.isfile(c)), None)
        if found is None:
            problems.append(f"{'/'.join(keys)}: {rel}: listed but no such file")
            continue
        listed.add(os.path.relpath(found, out))
        with open(found, "rb") as f:
            blob = f.read()
        if hashlib.sha256(blob).hexdigest() != str(e["sha256"]).lower().removeprefix("sha256:"):
            problems.append(f"{os.path.relpath(found, out)}: sha256 differs from the manifest")
        if "size" in e and e["size"] != len(blob):
            problems.append(f"{os.path.relpath(found, out)}: size {len(blob)}, manifest says {e['size']}")
    for root, dirs, files in os.walk(out):
        dirs.sort()
        for name in sorted(files):
            rel = os.path.relpath(os.path.join(root, name), out)
            if rel != "manifest.json" and rel not in listed:
                problems.append(f"{rel}: present but not in manifest.json")
    for p in problems:
        print(p)
    print(f"{count} manifest entries")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
