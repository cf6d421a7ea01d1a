"""A NoCloud network-config, read by cloud-init 22.4.2's own code.

Run with Debian's python (where cloud-init lives):
  network_config_check.py FILE OUT_YAML

cloud-init 22.4.2 has no schema for network-config (`cloud-init schema` checks user-data only).
This does what its init-local stage does with the file: load the YAML, drop a top-level
`network:` key (Init._remove_top_level_network_key), require version 2, and parse it with
network_state.parse_net_config_data(skip_broken=False), as the networkd/eni/sysconfig renderers
would; any warning cloud-init logs while parsing fails. Then it writes OUT_YAML as cloud-init's
netplan renderer would hand it to netplan (the v2 passthrough, `{"network": config}`), for
`netplan generate` to read next.
"""
import logging
import sys

from cloudinit import safeyaml, util
from cloudinit.net import network_state


class Collect(logging.Handler):
    def __init__(self):
        super().__init__(logging.WARNING)
        self.records = []

    def emit(self, record):
        self.records.append(record.getMessage())


def main(path, out):
    with open(path, "rb") as f:
        cfg = util.load_yaml(f.read(), default=None)
    if not isinstance(cfg, dict):
        print(f"{path}: not a YAML mapping (cloud-init ignores it and falls back to DHCP)")
        return 1
    if "network" in cfg:
        cfg = cfg["network"]
    if not isinstance(cfg, dict) or cfg.get("version") != 2:
        print(f"{path}: `version: 2` expected (got {cfg.get('version') if isinstance(cfg, dict) else cfg!r})")
        return 1
    grab = Collect()
    logging.getLogger().addHandler(grab)
    logging.getLogger().setLevel(logging.WARNING)
    try:
        state = network_state.parse_net_config_data(cfg, skip_broken=False)
    except Exception as e:  # cloud-init's own words
        print(f"{path}: cloud-init cannot parse it: {type(e).__name__}: {e}")
        return 1
    if grab.records:
        for r in grab.records:
            print(f"{path}: cloud-init: {r}")
        return 1
    if not list(state.iter_interfaces()):
        print(f"{path}: no interface: cloud-init would bring nothing up")
        return 1
    with open(out, "w") as f:
        f.write(safeyaml.dumps({"network": state.config}, explicit_start=False, explicit_end=False))
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 3:
        print(__doc__)
        sys.exit(2)
    sys.exit(main(sys.argv[1], sys.argv[2]))
