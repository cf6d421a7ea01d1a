"""Plan and judge the BGP interop test (tests/consumers/bgp-interop.sh) from OUT/site/fabric.json.

  interop_plan.py plan OUT_DIR STATE_DIR
      Validates fabric.json and prints the topology, one tab-separated record per line:
        dev   NAME KIND CONFIG LOOPBACK4 LOOPBACK6      (KIND node|switch|peer, "-" when absent)
        cable A A_IF B B_IF                             (one veth pair)
        addr  DEV IFNAME CIDR                           (an interface address netplan would set:
                                                         a node's end of a connected session)
        lan   LAN                                       (a namespace with a bridge: an external
                                                         peers' segment)
        lanport LAN DEV IFNAME                          (DEV's IFNAME, plugged into the LAN)
        peeraddr NAME CIDR                              (an external peer's address on its LAN port)
      External peers (fabric.json "peers") become KIND peer: an FRR instance each whose config
      (STATE_DIR/peer-NAME.conf) this script writes: eBGP to every switch holding the peer, with
      the AS and password the switch's config has for it, sending a default route. Their namespace holds one
      interface, `lan0`, plugged into their LAN.
      Exit 1 with messages if the fabric cannot be built (unknown peer, port used twice,
      interface name longer than Linux's 15 characters, missing frr.conf, ...).
  interop_plan.py judge OUT_DIR STATE_DIR [--final]
      Reads what each router said (STATE_DIR/NAME.bgp.json, NAME.route4.json, NAME.route6.json,
      and STATE_DIR/ping.tsv once pings ran) and prints one line per check:
        OK   session ... / FAIL session ...   one per declared session (unnumbered, numbered,
             external) and switch-switch link: Established at both ends, peer AS and hostname as
             declared, a node announces exactly its own loopback(s) (a numbered session: the one
             of its family), a switch receives the external peer's default route
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
    """Return (devices, cables, sessions, errors, extra).

    A session is (kind, a, a_key, b, b_key, family): a_key/b_key are what each end's
    `show bgp summary` calls the other (an interface for unnumbered sessions, else an
    address); family is None (both) or "ipv4"/"ipv6" (numbered and external sessions).
    extra holds the node addresses, LANs and external peers."""
    fab = load_fabric(out)
    errors, devices, cables, sessions = [], {}, [], []
    extra = {"addrs": [], "lans": {}, "peers": {}}
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

    def family(addr):
        try:
            return "ipv4" if ipaddress.ip_address(addr).version == 4 else "ipv6"
        except ValueError:
            return None

    for d in fab.get("nodes", []):
        for s in d.get("sessions", []):
            what = f"{d.get('name')} {s.get('interface')} -> {s.get('peer')} {s.get('peer_port')}"
            mode, path = s.get("mode", "unnumbered"), s.get("path")
            if mode == "unnumbered":
                if port(d.get("name"), s.get("interface"), what) & port(s.get("peer"), s.get("peer_port"), what):
                    cables.append((d["name"], s["interface"], s["peer"], s["peer_port"]))
                    sessions.append(("node", d["name"], s["interface"], s["peer"], s["peer_port"], None))
                continue
            pa, la = s.get("peer_address"), s.get("local_address")
            fam = family(pa or "")
            if mode != "numbered" or path not in ("connected", "fabric") or not fam or family(la or "") != fam:
                errors.append(f"{what}: mode {mode!r} path {path!r} ({pa} from {la}) is not supported by this test")
                continue
            if s.get("peer") not in devices:
                errors.append(f"{what}: unknown device {s.get('peer')!r}")
                continue
            if path == "connected":
                if not (port(d.get("name"), s.get("interface"), what) & port(s.get("peer"), s.get("peer_port"), what)):
                    continue
                cables.append((d["name"], s["interface"], s["peer"], s["peer_port"]))
                extra["addrs"].append((d["name"], s["interface"], s.get("local_cidr")))
            sessions.append(("numbered-" + path, d["name"], pa, s["peer"], la, fam))
    for l in fab.get("links", []):
        what = f"link {l.get('a')} {l.get('a_port')} <-> {l.get('b')} {l.get('b_port')}"
        if port(l.get("a"), l.get("a_port"), what) & port(l.get("b"), l.get("b_port"), what):
            cables.append((l["a"], l["a_port"], l["b"], l["b_port"]))
            sessions.append(("link", l["a"], l["a_port"], l["b"], l["b_port"], None))
    # External peers: one LAN per set of switch ports that peers share.
    lan_of = {}
    for p in fab.get("peers", []):
        name, addr = p.get("name"), p.get("address")
        what = f"external peer {name}"
        fam = family(addr or "")
        if not isinstance(name, str) or not fam or p.get("multihop"):
            errors.append(f"{what}: only single-hop peers with an address are supported by this test")
            continue
        if name in devices:
            errors.append(f"{what}: name used twice")
            continue
        lans, plen = set(), None
        for ps in p.get("sessions", []):
            sw, swport, swaddr = ps.get("switch"), ps.get("port"), ps.get("address")
            if sw not in devices or not swport or not swaddr:
                errors.append(f"{what}: held by {sw} without a port and address on its subnet")
                continue
            net = ipaddress.ip_interface(swaddr)
            plen = net.network.prefixlen
            if (sw, swport) not in lan_of:
                if not port(sw, swport, f"{what} LAN"):
                    continue
                lan_of[(sw, swport)] = f"lan{len(extra['lans'])}"
                extra["lans"][lan_of[(sw, swport)]] = [(sw, swport)]
            lans.add(lan_of[(sw, swport)])
            sessions.append(("external", sw, addr, name, str(net.ip), fam))
        if not lans:
            errors.append(f"{what}: no switch holds it on a declared link")
            continue
        # peers of one segment share one LAN (merge LANs a peer spans)
        keep = sorted(lans)[0]
        for other in sorted(lans)[1:]:
            extra["lans"][keep] += extra["lans"].pop(other)
            for k, v in list(lan_of.items()):
                if v == other:
                    lan_of[k] = keep
            for pp in extra["peers"].values():
                if pp["lan"] == other:
                    pp["lan"] = keep
        # the peer's ASN is in the switches' configs (fabric.json leaves it out)
        asns = {switch_word(devices[sw]["conf"], addr, "remote-as")
                for kind, sw, _, pn, _, _ in sessions if kind == "external" and pn == name}
        if len(asns) != 1 or None in asns:
            errors.append(f"{what}: the switches holding it disagree on its AS ({sorted(map(str, asns))})")
            continue
        asn = int(asns.pop())
        devices[name] = {"kind": "peer", "asn": asn, "conf": None}
        extra["peers"][name] = {"lan": keep, "cidr": f"{addr}/{plen}", "asn": asn, "family": fam}
    if not any(d["kind"] == "node" for d in devices.values()):
        errors.append("fabric.json declares no nodes")
    return devices, cables, sessions, errors, extra


def peer_config(name, peer, devices, sessions, index):
    """FRR config of a simulated external peer: eBGP to each switch holding it."""
    fam = peer["family"]
    other = "ipv6" if fam == "ipv4" else "ipv4"
    lines = ["frr version 8.4", "frr defaults datacenter", f"hostname {name}",
             "log syslog informational", "!", f"router bgp {peer['asn']}",
             f" bgp router-id 198.51.100.{index + 1}", " no bgp ebgp-requires-policy",
             " no bgp network import-check"]
    nbrs = []
    for kind, sw, _, p, sw_addr, _ in sessions:
        if kind != "external" or p != name:
            continue
        nbrs.append(sw_addr)
        lines.append(f" neighbor {sw_addr} remote-as {devices[sw]['asn']}")
        pw = switch_password(devices[sw]["conf"], peer_address(peer))
        if pw:
            lines.append(f" neighbor {sw_addr} password {pw}")
    lines += [" !", f" address-family {other} unicast"]
    lines += [f"  no neighbor {n} activate" for n in nbrs]
    lines += [" exit-address-family", " !", f" address-family {fam} unicast"]
    for n in nbrs:
        lines += [f"  neighbor {n} activate", f"  neighbor {n} default-originate"]
    lines += [" exit-address-family", "exit", "!"]
    return "\n".join(lines) + "\n"


def peer_address(peer):
    return peer["cidr"].split("/")[0]


def switch_password(conf, addr):
    """The password the switch's generated config sets for neighbour ADDR, if any."""
    return switch_word(conf, addr, "password")


def switch_word(conf, addr, key):
    """The value of `neighbor ADDR KEY VALUE` in a switch's generated config, if any."""
    try:
        with open(conf) as f:
            for line in f:
                w = line.split()
                if len(w) == 4 and w[0] == "neighbor" and w[1] == addr and w[2] == key:
                    return w[3]
    except OSError:
        pass
    return None


def plan(out, state):
    devices, cables, sessions, errors, extra = topology(out)
    if errors:
        for e in errors:
            print(e, file=sys.stderr)
        return 1
    for i, (name, peer) in enumerate(sorted(extra["peers"].items())):
        conf = os.path.join(state, f"peer-{name}.conf")
        with open(conf, "w") as f:
            f.write(peer_config(name, peer, devices, sessions, i))
        devices[name]["conf"] = conf
    for name, d in devices.items():
        print("\t".join(["dev", name, d["kind"], d["conf"], d.get("loopback4", "-"), d.get("loopback6", "-")]))
    for c in cables:
        print("\t".join(["cable", *c]))
    for a in extra["addrs"]:
        print("\t".join(["addr", *a]))
    for lan, ports in sorted(extra["lans"].items()):
        print("\t".join(["lan", lan]))
        for dev, ifname in ports:
            print("\t".join(["lanport", lan, dev, ifname]))
    for name, peer in sorted(extra["peers"].items()):
        print("\t".join(["lanport", peer["lan"], name, "lan0"]))
        print("\t".join(["peeraddr", name, peer["cidr"]]))
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
    devices, _, sessions, errors, _ = topology(out)
    if errors:
        for e in errors:
            print(e)
        return 1
    lines, failed = [], 0
    afis = {"ipv4": "ipv4Unicast", "ipv6": "ipv6Unicast"}
    for kind, a, a_key, b, b_key, fam in sessions:
        label = f"session {a} {a_key} <-> {b} {b_key}" + ("" if kind in ("node", "link") else f" ({kind})")
        problems = []
        for dev, key, other in ((a, a_key, b), (b, b_key, a)):
            ok, info = peer_state(state, dev, key)
            if not ok:
                problems.append(info)
                continue
            # the far end must be the device the fabric says is cabled there, with its ASN
            want_as = devices[other].get("asn")
            if want_as is not None and info.get("remoteAs") != want_as:
                problems.append(f"{dev} {key}: peer AS {info.get('remoteAs')}, fabric says {other} is AS {want_as}")
            host = info.get("hostname")
            if host and host != other:
                problems.append(f"{dev} {key}: peer calls itself {host!r}, fabric says {other}")
            if devices[dev]["kind"] == "node":
                # a node announces its own loopback(s) and nothing else: never a transit path;
                # a numbered session carries its own address family only
                for afi, lo in (("ipv4Unicast", "loopback4"), ("ipv6Unicast", "loopback6")):
                    carried = fam is None or afis[fam] == afi
                    want = 1 if lo in devices[dev] and carried else 0
                    sent = peer_af(state, dev, key, afi).get("pfxSnt", 0)
                    if sent != want:
                        problems.append(f"{dev} {key}: announces {sent} {afi} prefixes, "
                                        f"expected {want} (its own {lo} only)")
            if kind == "external" and devices[dev]["kind"] == "switch":
                got = peer_af(state, dev, key, afis[fam]).get("pfxRcd", 0)
                if got != 1:
                    problems.append(f"{dev} {key}: received {got} {fam} prefixes from {other}, expected 1 (its default route)")
            if kind == "external" and devices[dev]["kind"] == "peer":
                got = peer_af(state, dev, key, afis[fam]).get("pfxRcd", 0)
                if fam == "ipv4" and not got:
                    problems.append(f"{dev} {key}: received no {fam} prefixes from {other} (the fabric's loopbacks)")
        lines.append((not problems, label, problems))
    pings = {}
    ping_file = os.path.join(state, "ping.tsv")
    if os.path.exists(ping_file):
        with open(ping_file) as f:
            for row in f:
                src, dst, fam, rc = row.rstrip("\n").split("\t")
                pings[(src, dst, fam)] = rc == "0"
    nodes = [n for n, d in devices.items() if d["kind"] == "node"]
    # uplinks[(node, "4"|"6")]: the node's interfaces with a session carrying that family
    uplinks = {}
    for a, ifname, sfam in _cables_of_sessions(out):
        for fam in ("4", "6"):
            if sfam is None or sfam == "ipv" + fam:
                uplinks.setdefault((a, fam), []).append(ifname)
    # A destination with one plane only (a single uplink, or a numbered session riding on
    # another one) is rightly reached over that plane; ECMP over every uplink is required
    # only towards destinations that sit on two planes or more with sessions over cables.
    fabric_numbered = {a for kind, a, *_ in sessions if kind == "numbered-fabric"}
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
                    multi = len(uplinks.get((dst, fam), [])) >= 2 and dst not in fabric_numbered
                    missing = sorted(set(uplinks.get((src, fam), [])) - set(via)) if multi else []
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


def _cables_of_sessions(out):
    """(node, node interface, family) of every node session that runs over a cable; family
    None when the session carries both (unnumbered)."""
    fab = load_fabric(out)
    for d in fab.get("nodes", []):
        for s in d.get("sessions", []):
            if s.get("mode", "unnumbered") == "unnumbered":
                yield (d.get("name"), s.get("interface"), None)
            elif s.get("path") == "connected":
                fam = "ipv4" if ":" not in (s.get("peer_address") or "") else "ipv6"
                yield (d.get("name"), s.get("interface"), fam)


def main(argv):
    if len(argv) == 4 and argv[1] == "plan":
        return plan(argv[2], argv[3])
    if len(argv) in (4, 5) and argv[1] == "judge":
        return judge(argv[2], argv[3], len(argv) == 5 and argv[4] == "--final")
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
