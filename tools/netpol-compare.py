#!/usr/bin/env python3
"""Compares `kubeguard netpol matrix -o json` with np-guard/netpol-analyzer's
`list -o json` on the same input, pair by pair of Deployments: the ports each
allows from one to the other. Used by tools/bench-netpol-npguard.sh.

Usage: netpol-compare.py KUBEGUARD.json NETPOL-ANALYZER.json
"""
import collections
import json
import re
import sys

ALL = {p: [(1, 65535)] for p in ("TCP", "UDP", "SCTP")}


def np_name(s):
    m = re.match(r"(.*)/(.*)\[Deployment\]$", s)
    return f"{m.group(1)}/deployment/{m.group(2)}" if m else None


def np_ports(c):  # "TCP 8080,9000-9100,UDP 1-65535" or "All Connections"
    if c == "All Connections":
        return ALL
    out, proto = {}, None
    for tok in c.split(","):
        if " " in tok:
            proto, tok = tok.split(" ", 1)
        a, _, b = tok.partition("-")
        out.setdefault(proto, []).append((int(a), int(b or a)))
    return {k: sorted(v) for k, v in out.items()}


def kg_ports(s):  # "TCP:8080,9000-9100 UDP:all" or "all"
    if s == "all":
        return ALL
    out = {}
    for part in s.split(" "):
        proto, ports = part.split(":")
        if ports == "all":
            out[proto] = [(1, 65535)]
            continue
        for r in ports.split(","):
            a, _, b = r.partition("-")
            out.setdefault(proto, []).append((int(a), int(b or a)))
    return {k: sorted(v) for k, v in out.items()}


def show(p):
    if p is None:
        return "none"
    return " ".join(f"{k}:" + ",".join(f"{a}" if a == b else f"{a}-{b}" for a, b in v) for k, v in sorted(p.items()))


kg = {}
for c in json.load(open(sys.argv[1]))["connections"]:
    if "outside" not in (c["from"], c["to"]):
        kg[(c["from"], c["to"])] = kg_ports(c["ports"])
np = {}
for e in json.load(open(sys.argv[2])):
    s, d = np_name(e["src"]), np_name(e["dst"])
    if s and d:
        np[(s, d)] = np_ports(e["conn"])
pairs = set(kg) | set(np)
self_only = [k for k in pairs if k[0] == k[1] and k not in np]
diff = [k for k in pairs if k[0] != k[1] and kg.get(k) != np.get(k)]
print(f"Deployment pairs connected: kubeguard {len(kg)}, netpol-analyzer {len(np)}")
print(f"  a Deployment to itself, listed by kubeguard only: {len(self_only)}")
print(f"  other pairs whose ports differ: {len(diff)}")
kinds = collections.Counter((show(np.get(k)), show(kg.get(k))) for k in diff)
for (a, b), n in kinds.most_common():
    example = next(k for k in sorted(diff) if (show(np.get(k)), show(kg.get(k))) == (a, b))
    print(f"    {n}: netpol-analyzer {a}, kubeguard {b} (e.g. {example[0]} -> {example[1]})")
