"""Checks cloud-init's own CLI does not make, done with cloud-init's own code.

Run with Debian's python (where cloud-init lives):
  cloud_config_extra.py user-data FILE [EXTRA_KEY...]   unknown top-level keys
  cloud_config_extra.py meta-data FILE                  NoCloud meta-data shape

cloud-init 22.4.2 lets any unknown top-level key through (`runcmdd:` is "valid"), and on a
broken meta-data only logs a warning and boots with instance-id "nocloud".
"""
import sys

from cloudinit import safeyaml
from cloudinit.config.schema import get_schema

# Real top-level keys that cloud-init reads but that its 22.4.2 schema does not list.
UNLISTED = {
    "merge_how", "merge_type", "system_info", "datasource", "datasource_list",
    "output", "log_cfgs", "manual_cache_clean", "cloud_init_modules",
    "cloud_config_modules", "cloud_final_modules", "vendor_data", "vendor_data2",
}


def schema_keys():
    schema = get_schema()
    defs = schema.get("$defs", {})
    keys, stack, seen = set(), list(schema.get("allOf", [])), set()
    while stack:
        node = stack.pop()
        if not isinstance(node, dict):
            continue
        ref = node.get("$ref")
        if ref and ref not in seen:
            seen.add(ref)
            stack.append(defs.get(ref.rsplit("/", 1)[-1], {}))
        keys.update(node.get("properties", {}))
        for combinator in ("allOf", "anyOf", "oneOf"):
            stack.extend(node.get(combinator, []))
    return keys


def load(path):
    with open(path, "rb") as f:
        return safeyaml.load(f.read())


def user_data(path, extra):
    data = load(path)
    if not isinstance(data, dict):
        return [f"{path}: cloud-config must be a mapping"]
    known = schema_keys() | UNLISTED | set(extra)
    return [f"{path}: top-level key '{k}' is not a cloud-init key (cloud-init would ignore it)"
            for k in sorted(data, key=str) if k not in known]


def meta_data(path):
    try:
        md = load(path)
    except Exception as e:  # cloud-init's loader raises several kinds
        return [f"{path}: not valid YAML: {e}"]
    if not isinstance(md, dict):
        return [f"{path}: meta-data must be a mapping, got {type(md).__name__}"]
    errors = []
    iid = md.get("instance-id")
    if not isinstance(iid, str) or not iid.strip():
        errors.append(f"{path}: instance-id must be a non-empty string (cloud-init falls back to 'nocloud')")
    for key in ("local-hostname", "hostname"):
        if key in md and not isinstance(md[key], str):
            errors.append(f"{path}: {key} must be a string")
    return errors


def main(argv):
    if len(argv) < 3 or argv[1] not in ("user-data", "meta-data"):
        print(__doc__, file=sys.stderr)
        return 2
    errors = user_data(argv[2], argv[3:]) if argv[1] == "user-data" else meta_data(argv[2])
    for e in errors:
        print(e)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
