"""Inventory checks that ansible-inventory does not make itself, using Ansible's own loader.

Run with the consumers venv's python:
  inventory_extra.py vars INVENTORY_DIR LIST_JSON|-
      Loads every host_vars/* and group_vars/* file with Ansible's DataLoader (ansible-core
      2.19 reports a YAML error there without naming the file) and reports files for hosts or
      groups the inventory does not have (Ansible silently ignores those, even broken ones);
      with "-" instead of a listing (Ansible failed), only names the broken files.
  inventory_extra.py shape LIST_JSON
      The --list output must be an inventory: an 'all' group and _meta.hostvars.
  inventory_extra.py same LIST_WITH_META LIST_VIA_HOST
      Host vars from --list's _meta must equal those Ansible got by calling --host per host.
"""
import json
import os
import sys


def vars_files(inv_dir, listing):
    from ansible.errors import AnsibleError
    from ansible.parsing.dataloader import DataLoader

    names = None
    if listing != "-":
        with open(listing) as f:
            inv = json.load(f)
        # --list leaves out a group with no hosts at the top level, but still names it among
        # its parent's children: it exists, and Ansible loads its group_vars (a declared group
        # nobody is in yet is not a mistake).
        groups = {g for g in inv if g != "_meta"}
        for g in list(groups):
            body = inv.get(g)
            if isinstance(body, dict):
                groups.update(body.get("children", []))
        names = {
            "host_vars": set(inv.get("_meta", {}).get("hostvars", {})),
            "group_vars": groups | {"all", "ungrouped"},
        }
    loader, problems = DataLoader(), []
    for kind in ("host_vars", "group_vars"):
        base = os.path.join(inv_dir, kind)
        if not os.path.isdir(base):
            continue
        for entry in sorted(os.listdir(base)):
            if entry.startswith("."):
                continue
            path = os.path.join(base, entry)
            stem, ext = os.path.splitext(entry)
            # host_vars/NAME.yml, host_vars/NAME (no extension) or host_vars/NAME/ (a dir)
            if os.path.isdir(path):
                files, name = [os.path.join(path, f) for f in sorted(os.listdir(path))], entry
            elif ext in (".yml", ".yaml", ".json"):
                files, name = [path], stem
            elif ext == "":
                files, name = [path], entry
            else:
                continue
            if names is not None and name not in names[kind]:
                problems.append(f"{path}: no {kind[:-5]} '{name}' in the inventory, Ansible ignores this file")
            for file in files:
                try:
                    data = loader.load_from_file(file)
                except AnsibleError as e:
                    problems.append(f"{file}: {getattr(e, 'message', e)}")
                    continue
                if data is not None and not isinstance(data, dict):
                    problems.append(f"{file}: must be a mapping of variables, not {type(data).__name__}")
    return problems


def shape(listing):
    with open(listing) as f:
        inv = json.load(f)
    if not isinstance(inv.get("all"), dict):
        return ["ansible-inventory --list has no 'all' group"]
    hosts = inv.get("_meta", {}).get("hostvars", {})
    print(f"{len(hosts)} hosts, {len([g for g in inv if g != '_meta'])} groups")
    return []


def same(a_path, b_path):
    with open(a_path) as f:
        a = json.load(f).get("_meta", {}).get("hostvars", {})
    with open(b_path) as f:
        b = json.load(f).get("_meta", {}).get("hostvars", {})
    problems = []
    for host in sorted(set(a) | set(b)):
        if a.get(host) != b.get(host):
            problems.append(f"host {host}: --list _meta gives {json.dumps(a.get(host), sort_keys=True)}")
            problems.append(f"host {host}: --host {host} gives {json.dumps(b.get(host), sort_keys=True)}")
    return problems


def main(argv):
    cmds = {"vars": (vars_files, 2), "shape": (shape, 1), "same": (same, 2)}
    if len(argv) < 2 or argv[1] not in cmds or len(argv) - 2 != cmds[argv[1]][1]:
        print(__doc__, file=sys.stderr)
        return 2
    problems = cmds[argv[1]][0](*argv[2:])
    for p in problems:
        print(p)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
