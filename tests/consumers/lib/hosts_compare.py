"""Compare an /etc/hosts file with what glibc resolved from it.

  hosts_compare.py TARGET_NAME RESOLVED_TSV

RESOLVED_TSV has one row per (line, address, name): LINENO, ADDRESS, NAME, then the addresses
`getent -s files ahosts NAME` returned with that file bind-mounted over /etc/hosts. A name whose
line's address is not among them means glibc skipped or misread that line (bad address, ...).
"""
import ipaddress
import sys


def norm(a):
    try:
        return str(ipaddress.ip_address(a.split("%")[0]))
    except ValueError:
        return None


def main(argv):
    if len(argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    target, problems, rows = argv[1], [], 0
    with open(argv[2]) as f:
        for row in f:
            lineno, addr, name, *got = row.rstrip("\n").split("\t")
            rows += 1
            want = norm(addr)
            if want is None:
                problems.append(f"{target}:{lineno}: '{addr}' is not an IP address: glibc skips this line ({name} does not resolve from it)")
            elif want not in {norm(g) for g in got if g}:
                problems.append(f"{target}:{lineno}: {name} resolves to {', '.join(got) or 'nothing'}, not {addr}")
    for p in problems:
        print(p)
    if rows == 0:
        print(f"{target}: no host entries")
        return 1
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
