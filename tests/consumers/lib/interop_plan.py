"""Plan and judge the BGP interop test (tests/consumers/bgp-interop.sh) from OUT/site/fabric.json.

  interop_plan.py plan OUT_DIR
      Validates fabric.json and prints the topology, one tab-separated record per line:
        dev   NAME KIND CONFIG LOOPBACK4 LOOPBACK6      (KIND node|switch, "-" when absent)
        cable A A_IF B B_IF                             (one veth pair)
      Exit 1 with messages if the fabric cannot be built (unknown peer, port used twice,
      interface name longer than Linux's 15 characters, missing frr.conf, ...).
  interop_plan.py judge OUT_DIR STATE_DIR [--final]
      Reads what each router said (STATE_DIR/NAME.bgp.json, NAME.route4.json, NAME.route6.json,
      and STATE_DIR/ping.tsv once pings ran) and prints one line per check:
        OK   session ... / FAIL session ...   one per declared session and switch-switch link:
             Established at both ends, peer AS and hostname as declared, a node announces
             exactly its own loopback(s)
        OK   loopback ... / FAIL loopback ... one per (node, other node, address family):
             an installed BGP route with a next hop over every uplink of the node, and a
             ping from loopback to loopback
      Exit 0 when every check passes. Without --final only the verdict is printed.
"""
import ipaddress
import json
import os
import sys

IFNAMSIZ = 15  # Linux interface names: at most 15 characters


def load_fabric(out):
    with open(os.path.join(out, "site", "fabric.json")) as f:
        return json.load(f)


def topology(out):
    """Return (devices, cables, sessions, errors)."""
    fab = load_fabric(out)
    errors, devices, cables, sessions = [], {}, [], []
    for kind, key in (("node", "nodes"), ("switch", "switches")):
        for d in fab.get(key, []):
            name = d.get("name")
            if not isinstance(name, str) or not name:
                errors.append(f"{key}: entry without a name: {d}")
                continue
            if name in devices:
                errors.append(f"{name}: declared twice")
            lo = {}
            for fam in ("loopback4", "loopback6"):
                v = d.get(fam)
                if v is not None:
                    try:
                        ip = ipaddress.ip_address(v)
                        if ip.version != int(fam[-1]):
                            raise ValueError("wrong family")
                        lo[fam] = str(ip)
                    except ValueError:
                        errors.append(f"{name}: {fam} {v!r} is not an IPv{fam[-1]} address")
            conf = os.path.join(out, key, name, "etc", "frr", "frr.conf")
            if not os.path.isfile(conf):
                errors.append(f"{name}: no FRR config at {os.path.relpath(conf, out)}")
            devices[name] = {"kind": kind, "asn": d.get("asn"), "conf": conf, **lo}
            if kind == "node" and "loopback4" not in lo:
                errors.append(f"{name}: node without loopback4")
    used = {}

    def port(dev, ifname, what):
        if dev not in devices:
            errors.append(f"{what}: unknown device {dev!r}")
            return False
        if not isinstance(ifname, str) or not ifname or len(ifname) > IFNAMSIZ or "/" in ifname or " " in ifname:
            errors.append(f"{what}: {ifname!r} is not a usable Linux interface name (1-15 characters)")
            return False
        if (dev, ifname) in used:
            errors.append(f"{what}: {dev} {ifname} is already cabled ({used[(dev, ifname)]})")
            return False
        used[(dev, ifname)] = what
        return True

    for d in fab.get("nodes", []):
        for s in d.get("sessions", []):
            what = f"{d.get('name')} {s.get('interface')} -> {s.get('peer')} {s.get('peer_port')}"
            if s.get("mode", "unnumbered") != "unnumbered":
                errors.append(f"{what}: mode {s.get('mode')!r} is not supported by this test (unnumbered only)")
                continue
            if port(d.get("name"), s.get("interface"), what) & port(s.get("peer"), s.get("peer_port"), what):
                cables.append((d["name"], s["interface"], s["peer"], s["peer_port"]))
                sessions.append(("node", d["name"], s["interface"], s["peer"], s["peer_port"]))
    for l in fab.get("links", []):
        what = f"link {l.get('a')} {l.get('a_port')} <-> {l.get('b')} {l.get('b_port')}"
        if port(l.get("a"), l.get("a_port"), what) & port(l.get("b"), l.get("b_port"), what):
            cables.append((l["a"], l["a_port"], l["b"], l["b_port"]))
            sessions.append(("link", l["a"], l["a_port"], l["b"], l["b_port"]))
    if not any(d["kind"] == "node" for d in devices.values()):
        errors.append("fabric.json declares no nodes")
    return devices, cables, sessions, errors


def plan(out):
    devices, cables, _, errors = topology(out)
    if errors:
        for e in errors:
            print(e, file=sys.stderr)
        return 1
    for name, d in devices.items():
        print("\t".join(["dev", name, d["kind"], d["conf"], d.get("loopback4", "-"), d.get("loopback6", "-")]))
    for c in cables:
        print("\t".join(["cable", *c]))
    return 0


def read_json(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def peer_af(state, dev, ifname, afi):
    summary = read_json(os.path.join(state, f"{dev}.bgp.json")) or {}
    body = summary.get(afi)
    return body.get("peers", {}).get(ifname, {}) if isinstance(body, dict) else {}


def peer_state(state, dev, ifname):
    """(ok, detail) for the BGP session of DEV over interface IFNAME."""
    summary = read_json(os.path.join(state, f"{dev}.bgp.json"))
    if summary is None:
        return False, f"{dev}: no answer from bgpd"
    seen = []
    for afi, body in summary.items():
        peers = body.get("peers", {}) if isinstance(body, dict) else {}
        if ifname in peers:
            seen.append((afi, peers[ifname]))
    if not seen:
        return False, f"{dev}: no BGP neighbor on {ifname}"
    bad = [f"{afi} {p.get('state')}" for afi, p in seen if p.get("state") != "Established"]
    if bad:
        return False, f"{dev} {ifname}: " + ", ".join(bad)
    return True, seen[0][1]


def judge(out, state, final):
    devices, _, sessions, errors = topology(out)
    if errors:
        for e in errors:
            print(e)
        return 1
    lines, failed = [], 0
    for kind, a, a_if, b, b_if in sessions:
        label = f"session {a} {a_if} <-> {b} {b_if}"
        problems = []
        for dev, ifname, other in ((a, a_if, b), (b, b_if, a)):
            ok, info = peer_state(state, dev, ifname)
            if not ok:
                problems.append(info)
                continue
            # the far end must be the device the fabric says is cabled there, with its ASN
            want_as = devices[other].get("asn")
            if want_as is not None and info.get("remoteAs") != want_as:
                problems.append(f"{dev} {ifname}: peer AS {info.get('remoteAs')}, fabric says {other} is AS {want_as}")
            host = info.get("hostname")
            if host and host != other:
                problems.append(f"{dev} {ifname}: peer calls itself {host!r}, fabric says {other}")
            if devices[dev]["kind"] == "node":
                # a node announces its own loopback(s) and nothing else: never a transit path
                for afi, fam in (("ipv4Unicast", "loopback4"), ("ipv6Unicast", "loopback6")):
                    want = 1 if fam in devices[dev] else 0
                    sent = peer_af(state, dev, ifname, afi).get("pfxSnt", 0)
                    if sent != want:
                        problems.append(f"{dev} {ifname}: announces {sent} {afi} prefixes, "
                                        f"expected {want} (its own {fam} only)")
        lines.append((not problems, label, problems))
    pings = {}
    ping_file = os.path.join(state, "ping.tsv")
    if os.path.exists(ping_file):
        with open(ping_file) as f:
            for row in f:
                src, dst, fam, rc = row.rstrip("\n").split("\t")
                pings[(src, dst, fam)] = rc == "0"
    nodes = [n for n, d in devices.items() if d["kind"] == "node"]
    uplinks = {}
    for kind, a, a_if, _, _ in sessions:
        if kind == "node":
            uplinks.setdefault(a, []).append(a_if)
    for src in nodes:
        routes = {fam: read_json(os.path.join(state, f"{src}.route{fam}.json")) for fam in ("4", "6")}
        for dst in nodes:
            if dst == src:
                continue
            for fam in ("4", "6"):
                prefix_ip = devices[dst].get(f"loopback{fam}")
                if prefix_ip is None:
                    continue
                prefix = f"{prefix_ip}/{32 if fam == '4' else 128}"
                label = f"loopback {src} -> {dst} {prefix}"
                table, problems = routes[fam], []
                entries = (table or {}).get(prefix, [])
                best = [e for e in entries if e.get("protocol") == "bgp" and e.get("selected") and e.get("installed")]
                if table is None:
                    problems.append(f"{src}: no answer from zebra")
                elif not best:
                    got = ", ".join(f"{e.get('protocol')} selected={e.get('selected')} installed={e.get('installed')}" for e in entries)
                    problems.append(f"{src}: {prefix} not in the routing table as an installed BGP route" + (f" ({got})" if got else ""))
                else:
                    # Every uplink must carry it (ECMP): otherwise one plane is broken and the
                    # other hides it until the day it fails too.
                    via = sorted({h.get("interfaceName") for e in best for h in e.get("nexthops", [])
                                  if h.get("active") and h.get("fib")} - {None})
                    missing = sorted(set(uplinks.get(src, [])) - set(via))
                    label += f" via {','.join(via)}"
                    if missing:
                        problems.append(f"{src}: {prefix} not reachable over uplink(s) {', '.join(missing)} "
                                        f"(installed next hops: {', '.join(via) or 'none'})")
                if not problems and (src, dst, fam) in pings:
                    if pings[(src, dst, fam)]:
                        label += ", ping ok"
                    else:
                        problems.append(f"{src}: ping from {devices[src].get('loopback' + fam)} to {prefix_ip} failed")
                elif not problems and final:
                    problems.append(f"{src}: ping to {prefix_ip} not run")
                lines.append((not problems, label, problems))
    for ok, label, problems in lines:
        if not ok:
            failed += 1
        if final:
            print(("OK   " if ok else "FAIL ") + label)
            for p in problems:
                print("     " + p)
    if final:
        print(f"bgp-interop: {len(lines) - failed} passed, {failed} failed")
    return 1 if failed else 0


def main(argv):
    if len(argv) == 3 and argv[1] == "plan":
        return plan(argv[2])
    if len(argv) in (4, 5) and argv[1] == "judge":
        return judge(argv[2], argv[3], len(argv) == 5 and argv[4] == "--final")
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
