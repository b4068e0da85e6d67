#!/usr/bin/env python3
"""Differential oracle: vpcsim against the Linux kernel (issue 8, part 1).

Generates random scenarios within the semantics both can express, asks
vpcsim for each probe's verdict (`vpcsim trace --json`), builds the same
topology in Linux network namespaces and runs the same probes there, then
compares. Every disagreement is printed as a minimal scenario file (the
topology plus the one expectation, with Linux's verdict as `result`, so that
`vpcsim check` on it fails until vpcsim agrees).

    scripts/differential.py [--topologies N] [--probes M] [--seed S]
                            [--vpcsim PATH] [--out DIR] [--parallel P]

Needs root (namespaces, veth, nftables). Exit status: 0 when every probe
agreed, 1 on a disagreement, 2 when the oracle cannot run.

What is generated: VPC a (10.0.0.0/16) and, half the time, VPC b
(10.1.0.0/16) peered with it (pcx-ab) and without an internet gateway.
- 2-4 subnets 10.0.X.0/24 in a (2-3 subnets 10.1.X.0/24 in b), each with its
  own route table and NACL, and 1-3 hosts 10.N.X.Y with 1-2 of their VPC's
  security groups and listeners; hosts in a have a public IP.
- 1-3 hosts on the internet (203.0.113.0/24, 198.51.100.0/24) and a's
  internet gateway. A route table in a routes 0.0.0.0/0 to it or not; one in
  b sometimes routes 0.0.0.0/0 to the peering (edge to edge: AWS carries
  nothing on to a's gateway). Route tables route the peer's whole CIDR, some
  of its subnets, or nothing to the peering, and hold 0-2 blackhole routes
  to internet prefixes or to peer subnets the peering route overlaps (AWS
  refuses routes more specific than the local route, so none point inside
  their own VPC).
- NACLs: ordered allow/deny rules over proto, ports and CIDRs; implicit
  final deny.
- Prefix lists (customer-managed): one of internet prefixes for routes (a
  CIDR route of the same prefix beats a prefix-list route; the more specific
  route wins whatever its kind), up to two of anything for security-group
  rules.
- Security groups: CIDR, prefix-list and group-reference rules (to groups of
  either VPC), ingress and egress.
- IPv6, half the time: vpc-a dual stack (a /56, a /64 per subnet, an
  address per host), internet hosts with IPv6 addresses, `::/0` to the
  internet gateway or not, IPv6 NACL rules (a NACL with none denies IPv6)
  and security-group rules.
- Probes: tcp connect, udp echo, icmp (icmpv6) echo; in one VPC, across the
  peering (to the private address), VPC->internet and internet->VPC (to the
  public IP; over IPv6 to the address itself, untranslated).

The Linux model follows AWS:
- Addresses: 10.0.X.Y -> 198.18.X.Y; 10.1.X.Y -> 198.18.(128+X).Y (so a
  VPC's /16 is a /17 here); IPv6 into 2001:2::/48 (the IPv6 benchmarking
  range): 2600:1f18:aa:1XX::Y -> 2001:2:0:1XX::Y, 2001:db8::Z ->
  2001:2:0:ff00::Z; 203.0.113.Z -> 198.19.113.Z;
  198.51.100.Z -> 198.19.100.Z; a public IP maps to its host's private
  address (the internet gateway's 1:1 NAT changes nothing any filter here
  looks at: internet hosts have no filters).
- A router namespace per VPC (a's is also the internet gateway), joined by
  one veth (the peering), which drops what arrives through it for anything
  but its own VPC (no edge-to-edge routing). Each host
  namespace has one veth into its VPC's router; internet hosts hang off a
  bridge in a's. Each
  subnet has a routing table chosen by `ip rule from <subnet>`, holding the
  /32 routes of the VPC's hosts (the local route), `default dev br-inet` (the
  internet gateway) or a blackhole default (no route), routes via the peer
  router, the blackholes, and a prefix-list route's entries (but those a
  CIDR route of the table already routes).
- NACLs: nftables chains in the router's forward hook, rule-number order,
  first match, final drop; a subnet's egress chain for packets that come in
  from its hosts' veths, its ingress chain for packets that leave through
  them. Traffic between two hosts of one subnet skips both, as in AWS.
- Security groups: an nftables table in each host namespace (per ENI, as in
  AWS): `ct state established,related accept`, the allow rules (all groups of
  the host, group references expanded to member addresses, prefix lists to
  one rule per entry), policy drop, on
  input and output.
- Probes run with explicit 1 s timeouts from the same source port vpcsim
  used. TCP: connected / refused (RST) / dropped (anything else); UDP:
  replied (echo) / dropped; ICMP: replied / dropped.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import ipaddress
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

PORTS = [22, 80, 443, 8080, 9000]
V6_VPC = "2600:1f18:aa:100::/56"
PORT_RANGES = ["22", "80", "443", "8080", "9000", "1-1023", "1024-65535", "32768-60999", "80-443"]
INTERNET_IPS = ["203.0.113.5", "203.0.113.20", "203.0.113.130", "198.51.100.7", "198.51.100.100"]
BLACKHOLES = [
    "203.0.113.0/24",
    "203.0.113.0/25",
    "203.0.113.128/25",
    "203.0.113.16/28",
    "198.51.100.0/24",
    "198.51.100.0/28",
]


# ---------------------------------------------------------------- generation


def gen_topology(rng: random.Random) -> dict:
    # VPC a (10.0.0.0/16) always; half the time a peered VPC b (10.1.0.0/16)
    # with no internet gateway of its own. Subnet numbers are unique across
    # both (a: 1-9, b: 11-19), so subnet, table and interface names are too.
    vpcs = [{"id": "vpc-a", "n": 0, "cidr": "10.0.0.0/16"}]
    # Half the time vpc-a is dual stack: an IPv6 /56, a /64 per subnet, an
    # IPv6 address per host, and internet hosts with IPv6 addresses.
    v6 = rng.random() < 0.5
    if v6:
        vpcs[0]["ipv6_cidr"] = V6_VPC
    if rng.random() < 0.5:
        vpcs.append({"id": "vpc-b", "n": 1, "cidr": "10.1.0.0/16"})
    subnets = []
    hosts = []
    for v in vpcs:
        base = 10 * v["n"]
        for x in sorted(rng.sample(range(base + 1, base + 10), rng.randint(2, 4 if v["n"] == 0 else 3))):
            sid = f"subnet-{x}"
            for j in range(rng.randint(1, 3)):
                h = {"id": f"h{x}{j}", "vpc": v["id"], "subnet": sid, "ip": f"10.{v['n']}.{x}.{10 + j}"}
                if v["n"] == 0:
                    h["public_ip"] = f"54.0.{x}.{10 + j}"
                    if v6:
                        h["ipv6"] = f"2600:1f18:aa:1{x:02x}::{10 + j:x}"
                hosts.append(h)
            subnets.append({"id": sid, "vpc": v["id"], "x": x, "cidr": f"10.{v['n']}.{x}.0/24"})
            if v6 and v["n"] == 0:
                subnets[-1]["ipv6_cidr"] = f"2600:1f18:aa:1{x:02x}::/64"
    inet = [{"id": f"i{k}", "ip": ip} for k, ip in enumerate(sorted(rng.sample(INTERNET_IPS, rng.randint(1, 3))))]
    if v6:
        for k, i in enumerate(inet):
            i["ipv6"] = f"2001:db8::{k + 5:x}"
    peered = len(vpcs) == 2

    # CIDRs a rule may name: everything, the VPCs, subnets, hosts, parts of
    # subnets, internet prefixes and hosts.
    cidrs = ["0.0.0.0/0"] + [v["cidr"] for v in vpcs]
    for s in subnets:
        o = s["cidr"].rsplit(".", 1)[0]
        cidrs += [s["cidr"], f"{o}.0/28", f"{o}.8/29"]
    cidrs += [h["ip"] + "/32" for h in hosts]
    cidrs += ["203.0.113.0/24", "198.51.100.0/24", "203.0.113.0/25"] + [i["ip"] + "/32" for i in inet]

    broad = ["0.0.0.0/0"] + [v["cidr"] for v in vpcs] + [s["cidr"] for s in subnets]
    # IPv6 CIDRs a rule may name (only when vpc-a is dual stack).
    cidrs6 = []
    if v6:
        cidrs6 = ["::/0", V6_VPC, "2001:db8::/32"] + [s["ipv6_cidr"] for s in subnets if "ipv6_cidr" in s]
        cidrs6 += [h["ipv6"] + "/128" for h in hosts if "ipv6" in h] + [i["ipv6"] + "/128" for i in inet]

    def rand_proto_ports6():
        proto, ports = rand_proto_ports()
        return ("icmpv6" if proto == "icmp" else proto), ports

    # Customer-managed prefix lists: one for routes (internet prefixes only:
    # an entry inside a VPC would be more specific than its local route) and
    # up to two for security-group rules (anything a rule may name).
    pls = []
    if rng.random() < 0.6:
        entries = rng.sample(BLACKHOLES + [i["ip"] + "/32" for i in inet], rng.randint(1, 3))
        pls.append({"id": "pl-routes", "entries": sorted(set(entries))})
    for k in range(rng.choice([0, 1, 1, 2])):
        pls.append({"id": f"pl-sg{k}", "entries": sorted(set(rng.sample(cidrs[1:], rng.randint(1, 3))))})
    sg_pls = [p["id"] for p in pls if p["id"] != "pl-routes"]

    def rand_proto_ports():
        proto = rng.choice(["tcp", "tcp", "udp", "udp", "icmp", "icmp", "all"])
        ports = None
        if proto in ("tcp", "udp") and rng.random() < 0.8:
            ports = rng.choice(PORT_RANGES)
        return proto, ports

    for s in subnets:
        routes = []
        in_a = s["vpc"] == "vpc-a"
        peer_subnets = [p["cidr"] for p in subnets if p["vpc"] != s["vpc"]]
        if in_a and v6 and rng.random() < 0.7:
            routes.append({"dest": "::/0", "target": "igw"})
        if in_a and rng.random() < 0.75:
            routes.append({"dest": "0.0.0.0/0", "target": "igw"})
        elif not in_a and rng.random() < 0.4:
            # Edge to edge: AWS carries nothing through the peer's internet gateway.
            routes.append({"dest": "0.0.0.0/0", "target": "pcx-ab"})
        blackholes = BLACKHOLES if in_a else []
        if peered:
            # Overlapping prefixes: the peer's whole CIDR, or some of its
            # subnets, to the peering, and maybe one of them blackholed.
            peer_cidr = "10.1.0.0/16" if in_a else "10.0.0.0/16"
            r = rng.random()
            if r < 0.65:
                routes.append({"dest": peer_cidr, "target": "pcx-ab"})
            elif r < 0.9:
                for c in rng.sample(peer_subnets, rng.randint(1, len(peer_subnets))):
                    routes.append({"dest": c, "target": "pcx-ab"})
            blackholes = blackholes + [c for c in peer_subnets if not any(r["dest"] == c for r in routes)]
        for b in rng.sample(blackholes, min(len(blackholes), rng.choice([0, 1, 1, 2]))):
            routes.append({"dest": b, "target": "blackhole"})
        if pls and pls[0]["id"] == "pl-routes" and rng.random() < 0.5:
            # A prefix-list route: a CIDR route of the same prefix beats it,
            # a more specific one of either kind wins. From b to the peering
            # it is edge to edge.
            targets = ["igw", "blackhole"] if in_a else ["blackhole"] + (["pcx-ab"] if peered else [])
            routes.append({"dest": "pl-routes", "target": rng.choice(targets)})
        s["routes"] = routes
        nacl = {}
        for direction in ("ingress", "egress"):
            rules = []
            nums = sorted(rng.sample(range(1, 40), rng.randint(1, 5)))
            for num in nums:
                proto, ports = rand_proto_ports()
                action = "allow" if rng.random() < 0.6 else "deny"
                rules.append({"rule": num * 10, "action": action, "proto": proto, "ports": ports, "cidr": rng.choice(cidrs)})
            if rng.random() < 0.85:  # mostly a broad allow at the end, or little gets through
                rules.append({"rule": 500, "action": "allow", "proto": "all", "ports": None, "cidr": "0.0.0.0/0"})
            if cidrs6:
                # IPv6 rules between them (numbers ending in 5); a NACL with
                # none denies IPv6 whatever its IPv4 rules say.
                for num in sorted(rng.sample(range(1, 40), rng.randint(0, 3))):
                    proto, ports = rand_proto_ports6()
                    action = "allow" if rng.random() < 0.6 else "deny"
                    rules.append({"rule": num * 10 + 5, "action": action, "proto": proto, "ports": ports,
                                  "cidr": rng.choice(cidrs6)})
                if rng.random() < 0.85:
                    rules.append({"rule": 505, "action": "allow", "proto": "all", "ports": None, "cidr": "::/0"})
                rules.sort(key=lambda r: r["rule"])
            nacl[direction] = rules
        s["nacl"] = nacl

    sgs = []
    for v in vpcs:
        for k in range(rng.randint(2, 4) if v["n"] == 0 else rng.randint(1, 3)):
            sgs.append({"id": f"sg-{v['id'][-1]}{k}", "vpc": v["id"]})
    for sg in sgs:
        for direction in ("ingress", "egress"):
            rules = []
            if direction == "egress" and rng.random() < 0.8:
                rules.append({"proto": "all", "ports": None, "cidr": "0.0.0.0/0"})
                if cidrs6 and sg["vpc"] == "vpc-a":
                    rules.append({"proto": "all", "ports": None, "cidr": "::/0"})
            if cidrs6 and sg["vpc"] == "vpc-a":
                for _ in range(rng.randint(0, 2)):
                    proto, ports = rand_proto_ports6()
                    rules.append({"proto": proto, "ports": ports, "cidr": rng.choice(cidrs6)})
            if direction == "ingress" and peered and rng.random() < 0.4:
                # Often the peer VPC is let in whole, or little crosses.
                rules.append({"proto": "all", "ports": None, "cidr": "10.1.0.0/16" if sg["vpc"] == "vpc-a" else "10.0.0.0/16"})
            for _ in range(rng.randint(1, 6) if direction == "ingress" else rng.randint(1, 4)):
                proto, ports = rand_proto_ports()
                r = {"proto": proto, "ports": ports}
                if rng.random() < 0.3:
                    # A group of this VPC or of the peered one.
                    r["sg"] = rng.choice(sgs)["id"]
                elif sg_pls and rng.random() < 0.2:
                    r["prefix_list"] = rng.choice(sg_pls)
                else:
                    r["cidr"] = rng.choice(cidrs if rng.random() < 0.4 else broad)
                rules.append(r)
            sg[direction] = rules
    for h in hosts:
        mine = [g for g in sgs if g["vpc"] == h["vpc"]]
        h["sgs"] = sorted({g["id"] for g in rng.sample(mine, rng.randint(1, min(2, len(mine))))})
    for h in hosts + inet:
        h["listen"] = sorted(
            {f"{p}/{n}" for p in ("tcp", "udp") for n in PORTS if rng.random() < 0.4},
            key=lambda s: (s.split("/")[0], int(s.split("/")[1])),
        )
    return {"vpcs": vpcs, "subnets": subnets, "hosts": hosts, "inet": inet, "sgs": sgs, "pls": pls, "v6": v6}


def gen_probes(rng: random.Random, topo: dict, m: int) -> list[dict]:
    hosts, inet = topo["hosts"], topo["inet"]
    public = [h for h in hosts if "public_ip" in h]
    probes = []
    while len(probes) < m:
        kind = rng.random()
        if kind < 0.6 and len(hosts) > 1:
            a, b = rng.sample(hosts, 2)
            # Across the peering by private address; in one VPC by name.
            src, to, dst_host = a, (b["id"] if a["vpc"] == b["vpc"] else b["ip"]), b
            kind = "in one VPC" if a["vpc"] == b["vpc"] else "across the peering"
        elif kind < 0.8:
            a, b = rng.choice(hosts), rng.choice(inet)
            src, to, dst_host = a, b["ip"], b
            kind = "to the internet" if a["vpc"] == "vpc-a" else "edge to edge"
        else:
            a, b = rng.choice(inet), rng.choice(public)
            src, to, dst_host = a, b["public_ip"], b
            kind = "from the internet"
        proto = rng.choice(["tcp", "tcp", "udp", "icmp"])
        if (topo["v6"] and "ipv6" in src and "ipv6" in dst_host and kind != "across the peering"
                and rng.random() < 0.35):
            # The same probe over IPv6: to the address itself (the internet
            # gateway translates nothing for IPv6).
            to = dst_host["ipv6"]
            kind += " (IPv6)"
            if proto == "icmp":
                proto = "icmpv6"
        port = None
        if proto not in ("icmp", "icmpv6"):
            listening = [int(s.split("/")[1]) for s in dst_host["listen"] if s.startswith(proto)]
            port = rng.choice(listening) if listening and rng.random() < 0.7 else rng.choice(PORTS)
        probes.append({"from": src["id"], "to": to, "proto": proto, "port": port, "dst": dst_host["id"], "kind": kind,
                       "v6": ":" in to})
    return probes


def toml_rule(r: dict, keys: list[str]) -> str:
    parts = []
    for k in keys:
        v = r.get(k)
        if v is None:
            continue
        parts.append(f"{k} = {v}" if isinstance(v, int) else f'{k} = "{v}"')
    return "{ " + ", ".join(parts) + " }"


def to_toml(topo: dict, name: str) -> str:
    out = [f'name = "{name}"', "seed = 1", ""]
    for v in topo["vpcs"]:
        out += ["[[vpc]]", f'id = "{v["id"]}"', f'cidr = "{v["cidr"]}"']
        out += [f'ipv6_cidr = "{v["ipv6_cidr"]}"'] if "ipv6_cidr" in v else []
        out += [""]
    out += ["[[internet_gateway]]", 'id = "igw"', 'vpc = "vpc-a"', ""]
    if len(topo["vpcs"]) == 2:
        out += ["[[vpc_peering]]", 'id = "pcx-ab"', 'requester = "vpc-a"', 'accepter = "vpc-b"', ""]
    for p in topo["pls"]:
        out += ["[[prefix_list]]", f'id = "{p["id"]}"', "entries = " + json.dumps(p["entries"]), ""]
    for s in topo["subnets"]:
        out += ["[[route_table]]", f'id = "rtb-{s["x"]}"', f'vpc = "{s["vpc"]}"', "routes = ["]
        out += [f"  {toml_rule(r, ['dest', 'target'])}," for r in s["routes"]]
        out += ["]", ""]
        out += ["[[nacl]]", f'id = "acl-{s["x"]}"', f'vpc = "{s["vpc"]}"']
        for d in ("ingress", "egress"):
            out += [f"{d} = ["]
            out += [f"  {toml_rule(r, ['rule', 'action', 'proto', 'ports', 'cidr'])}," for r in s["nacl"][d]]
            out += ["]"]
        out += [""]
        out += ["[[subnet]]", f'id = "{s["id"]}"', f'vpc = "{s["vpc"]}"', f'cidr = "{s["cidr"]}"']
        out += [f'ipv6_cidr = "{s["ipv6_cidr"]}"'] if "ipv6_cidr" in s else []
        out += [f'route_table = "rtb-{s["x"]}"', f'nacl = "acl-{s["x"]}"', ""]
    for sg in topo["sgs"]:
        out += ["[[security_group]]", f'id = "{sg["id"]}"', f'vpc = "{sg["vpc"]}"']
        for d in ("ingress", "egress"):
            out += [f"{d} = ["]
            out += [f"  {toml_rule(r, ['proto', 'ports', 'cidr', 'sg', 'prefix_list'])}," for r in sg[d]]
            out += ["]"]
        out += [""]
    for h in topo["hosts"]:
        out += ["[[host]]", f'id = "{h["id"]}"', f'subnet = "{h["subnet"]}"', f'ip = "{h["ip"]}"']
        if "public_ip" in h:
            out += [f'public_ip = "{h["public_ip"]}"']
        if "ipv6" in h:
            out += [f'ipv6 = "{h["ipv6"]}"']
        out += ["security_groups = " + json.dumps(h["sgs"])]
        out += ["listen = " + json.dumps(h["listen"]), ""]
    for i in topo["inet"]:
        out += ["[[host]]", f'id = "{i["id"]}"', "internet = true", f'ip = "{i["ip"]}"']
        out += [f'ipv6 = "{i["ipv6"]}"'] if "ipv6" in i else []
        out += ["listen = " + json.dumps(i["listen"]), ""]
    return "\n".join(out)


# ---------------------------------------------------------------- vpcsim

DROP_REASONS: dict[str, int] = {}


def vpcsim_verdict(vpcsim: str, path: str, p: dict) -> tuple[str, int | None]:
    cmd = [vpcsim, "trace", path, "--from", p["from"], "--to", p["to"], "--proto", p["proto"], "--json"]
    if p["port"] is not None:
        cmd += ["--port", str(p["port"])]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    if r.returncode not in (0, 1):
        raise RuntimeError(f"vpcsim trace failed ({r.returncode}): {' '.join(cmd)}\n{r.stderr}")
    d = json.loads(r.stdout)
    sport = None
    if d.get("frames"):
        m = re.search(r":(\d+) →", d["frames"][0]["packet"])
        if m:
            sport = int(m.group(1))
    result = d["result"]
    if d.get("drop"):
        DROP_REASONS[d["drop"]["reason"]] = DROP_REASONS.get(d["drop"]["reason"], 0) + 1
    return result, sport


# ---------------------------------------------------------------- Linux


def lx(addr: str) -> str:
    """Maps a scenario address into 198.18.0.0/15, or (IPv6) into 2001:2::/48,
    the IPv6 range for benchmarking: 2600:1f18:aa:1XX::Y -> 2001:2:0:1XX::Y,
    2001:db8::Z -> 2001:2:0:ff00::Z."""
    ip = ipaddress.ip_address(addr)
    o = ip.packed
    if ip.version == 6:
        if o[:6] == bytes.fromhex("26001f1800aa"):
            return str(ipaddress.IPv6Address(bytes.fromhex("200100020000") + o[6:]))
        if o[:4] == bytes.fromhex("20010db8"):
            return str(ipaddress.IPv6Address(bytes.fromhex("200100020000ff00") + o[8:]))
        raise ValueError(f"no mapping for {addr}")
    if o[0] == 10 and o[1] in (0, 1):  # vpc-a in 198.18.0.0/17, vpc-b in 198.18.128.0/17
        return f"198.18.{o[2] + 128 * o[1]}.{o[3]}"
    if o[:3] == bytes([203, 0, 113]):
        return f"198.19.113.{o[3]}"
    if o[:3] == bytes([198, 51, 100]):
        return f"198.19.100.{o[3]}"
    raise ValueError(f"no mapping for {addr}")


def lx_cidr(cidr: str) -> str:
    net = ipaddress.ip_network(cidr)
    if net.prefixlen == 0:
        return "0.0.0.0/0" if net.version == 4 else "::/0"
    if net.version == 6:
        if str(net) == "2001:db8::/32":
            return "2001:2:0:ff00::/56"  # where the internet's IPv6 hosts are
        return f"{lx(str(net.network_address))}/{net.prefixlen}"
    in_vpc = any(net.subnet_of(ipaddress.ip_network(v)) for v in ("10.0.0.0/16", "10.1.0.0/16"))
    if in_vpc or net.prefixlen >= 24:
        # A VPC's /16 is a /17 here (two VPCs share 198.18.0.0/16); every
        # subnet number used is below 128, so nothing else changes size.
        return f"{lx(str(net.network_address))}/{max(net.prefixlen, 17)}"
    raise ValueError(f"no mapping for {cidr}")


def fam(cidr: str) -> str:
    """The nftables address family keyword of a CIDR: ip or ip6."""
    return "ip6" if ":" in cidr else "ip"


def vpc_cidr(vpc: str) -> str:
    return {"vpc-a": "10.0.0.0/16", "vpc-b": "10.1.0.0/16"}[vpc]


def nft_match(proto: str, ports: str | None) -> str:
    if proto == "all":
        return ""
    if ports is None:
        return f"meta l4proto {proto}"
    return f"{proto} dport {ports}"


SERVER = r"""
import selectors, socket, sys
sel = selectors.DefaultSelector()
for spec in sys.argv[1:]:
    proto, port = spec.split('/')
    # Dual stack: one IPv6 socket takes IPv4 too (as mapped addresses).
    kind = socket.SOCK_STREAM if proto == 'tcp' else socket.SOCK_DGRAM
    s = socket.socket(socket.AF_INET6, kind); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    s.bind(('::', int(port)))
    if proto == 'tcp':
        s.listen(64)
    s.setblocking(False); sel.register(s, selectors.EVENT_READ, proto)
print('ready', flush=True)
while True:
    for key, _ in sel.select():
        s = key.fileobj
        try:
            if key.data == 'tcp':
                c, _ = s.accept(); c.close()
            else:
                d, a = s.recvfrom(65535); s.sendto(d, a)
        except OSError:
            pass
"""

CLIENT = r"""
import socket, struct, sys, time
proto, dst, port, sport, ident = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
v6 = ':' in dst
af = socket.AF_INET6 if v6 else socket.AF_INET
def bind(s):
    if sport:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try: s.bind(('::' if v6 else '0.0.0.0', sport))
        except OSError: pass
if proto == 'tcp':
    s = socket.socket(af); bind(s); s.settimeout(1.0)
    try: s.connect((dst, port)); print('connected')
    except ConnectionRefusedError: print('refused')
    except OSError: print('dropped')
elif proto == 'udp':
    s = socket.socket(af, socket.SOCK_DGRAM); bind(s); s.settimeout(1.0)
    try:
        s.sendto(b'vpcsim', (dst, port)); s.recvfrom(2048); print('replied')
    except OSError: print('dropped')
elif v6:
    # ICMPv6 echo; the kernel fills in the checksum and strips the IP header.
    s = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6)
    deadline = time.monotonic() + 1.0; verdict = 'dropped'
    try:
        s.sendto(struct.pack('!BBHHH', 128, 0, 0, ident, 1) + b'vpcsim', (dst, 0))
        while (left := deadline - time.monotonic()) > 0:
            s.settimeout(left); d, a = s.recvfrom(2048)
            if a[0] == dst and d[0] == 129 and struct.unpack('!H', d[4:6])[0] == ident:
                verdict = 'replied'; break
    except OSError: pass
    print(verdict)
else:
    s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
    def csum(b):
        t = sum(struct.unpack('!%dH' % (len(b) // 2), b)); t = (t >> 16) + (t & 0xffff); t += t >> 16
        return ~t & 0xffff
    body = struct.pack('!BBHHH', 8, 0, 0, ident, 1) + b'vpcsim'
    body = body[:2] + struct.pack('!H', csum(body)) + body[4:]
    deadline = time.monotonic() + 1.0; verdict = 'dropped'
    try:
        s.sendto(body, (dst, 0))
        while (left := deadline - time.monotonic()) > 0:
            s.settimeout(left); d, a = s.recvfrom(2048); h = (d[0] & 15) * 4
            if a[0] == dst and d[h] == 0 and struct.unpack('!H', d[h+4:h+6])[0] == ident:
                verdict = 'replied'; break
    except OSError: pass
    print(verdict)
"""


class Linux:
    """One topology in namespaces; `close()` removes everything it made."""

    def __init__(self, topo: dict, tag: str, mutate: str | None = None):
        self.mutate = mutate
        self.topo = topo
        self.tag = tag
        self.namespaces: list[str] = []
        self.servers: list[subprocess.Popen] = []
        self.router = f"{tag}r"
        self.ns = {}

    def sh(self, *cmd: str, ns: str | None = None, stdin: str | None = None) -> None:
        full = (["ip", "netns", "exec", ns] if ns else []) + list(cmd)
        r = subprocess.run(full, input=stdin, capture_output=True, text=True, timeout=30)
        if r.returncode != 0:
            raise RuntimeError(f"{' '.join(full)}: {r.stderr.strip()}\n{stdin or ''}")

    def add_ns(self, name: str) -> None:
        self.sh("ip", "netns", "add", name)
        self.namespaces.append(name)
        self.sh("ip", "link", "set", "lo", "up", ns=name)
        self.sh("sysctl", "-qw", "net.ipv4.conf.all.rp_filter=0", "net.ipv4.conf.default.rp_filter=0",
                "net.ipv6.conf.all.accept_dad=0", "net.ipv6.conf.default.accept_dad=0",
                "net.ipv6.conf.all.disable_ipv6=0", "net.ipv6.conf.default.disable_ipv6=0", ns=name)

    def build(self) -> None:
        t = self.topo
        routers = {v["id"]: f"{self.tag}r{v['id'][-1]}" for v in t["vpcs"]}
        R = routers["vpc-a"]
        for r in routers.values():
            self.add_ns(r)
            self.sh("sysctl", "-qw", "net.ipv4.ip_forward=1", "net.ipv4.conf.all.send_redirects=0",
                    "net.ipv4.conf.default.send_redirects=0", "net.ipv6.conf.all.forwarding=1", ns=r)
        self.sh("ip", "link", "add", "br-inet", "type", "bridge", ns=R)
        self.sh("ip", "addr", "add", "198.19.0.254/32", "dev", "br-inet", ns=R)
        self.sh("ip", "link", "set", "br-inet", "up", ns=R)
        if t["v6"]:
            self.sh("ip", "-6", "addr", "add", "fe80::254/64", "dev", "br-inet", "nodad", ns=R)
            self.sh("ip", "-6", "route", "add", "2001:2:0:ff00::/56", "dev", "br-inet", ns=R)
        peer_gw = {}
        if "vpc-b" in routers:
            # The peering connection: one veth between the two VPC routers.
            B = routers["vpc-b"]
            self.sh("ip", "link", "add", "pcx", "netns", R, "type", "veth", "peer", "name", "pcx", "netns", B)
            for r, mine, theirs in ((R, "198.19.255.1", "198.19.255.2"), (B, "198.19.255.2", "198.19.255.1")):
                self.sh("ip", "addr", "add", f"{mine}/32", "dev", "pcx", ns=r)
                self.sh("ip", "link", "set", "pcx", "up", ns=r)
                self.sh("sysctl", "-qw", "net.ipv4.conf.pcx.rp_filter=0", ns=r)
                peer_gw[r] = theirs
            # Only for the answers to what --mutate edge-to-edge lets out.
            self.sh("ip", "route", "add", "198.18.128.0/17", "via", "198.19.255.2", "dev", "pcx", "onlink", ns=R)
        subnet_x = {s["id"]: s["x"] for s in t["subnets"]}
        members, members6 = {}, {}
        for h in t["hosts"]:
            for g in h["sgs"]:
                members.setdefault(g, []).append(lx(h["ip"]))
                if "ipv6" in h:
                    members6.setdefault(g, []).append(lx(h["ipv6"]))
        for k, h in enumerate(t["hosts"] + t["inet"]):
            ns = f"{self.tag}h{k}"
            self.ns[h["id"]] = ns
            self.add_ns(ns)
            internet = "subnet" not in h
            router = R if internet else routers[h["vpc"]]
            rside = f"v{k}" if internet else f"s{subnet_x[h['subnet']]}h{k}"
            self.sh("ip", "link", "add", rside, "netns", router, "type", "veth", "peer", "name", "eth0", "netns", ns)
            addr, gw = lx(h["ip"]), ("198.19.0.254" if internet else "198.19.0.1")
            self.sh("ip", "addr", "add", f"{addr}/32", "dev", "eth0", ns=ns)
            self.sh("ip", "link", "set", "eth0", "up", ns=ns)
            self.sh("ip", "route", "add", gw, "dev", "eth0", ns=ns)
            self.sh("ip", "route", "add", "default", "via", gw, "dev", "eth0", ns=ns)
            if "ipv6" in h:
                gw6 = "fe80::254" if internet else "fe80::1"
                self.sh("ip", "-6", "addr", "add", f"{lx(h['ipv6'])}/128", "dev", "eth0", "nodad", ns=ns)
                self.sh("ip", "-6", "route", "add", "default", "via", gw6, "dev", "eth0", ns=ns)
            if internet:
                self.sh("ip", "link", "set", rside, "master", "br-inet", ns=R)
                self.sh("ip", "link", "set", rside, "up", ns=R)
            else:
                self.sh("ip", "addr", "add", "198.19.0.1/32", "dev", rside, ns=router)
                self.sh("ip", "link", "set", rside, "up", ns=router)
                self.sh("sysctl", "-qw", f"net.ipv4.conf.{rside}.rp_filter=0", ns=router)
                # The local route: in the main table (for what arrives from
                # the internet or the peering) and in each subnet's table.
                self.sh("ip", "route", "add", f"{addr}/32", "dev", rside, ns=router)
                for s in t["subnets"]:
                    if s["vpc"] == h["vpc"]:
                        self.sh("ip", "route", "add", f"{addr}/32", "dev", rside, "table", str(100 + s["x"]), ns=router)
                if "ipv6" in h:
                    addr6 = lx(h["ipv6"])
                    self.sh("ip", "-6", "addr", "add", "fe80::1/64", "dev", rside, "nodad", ns=router)
                    self.sh("ip", "-6", "route", "add", f"{addr6}/128", "dev", rside, ns=router)
                    for s in t["subnets"]:
                        if s["vpc"] == h["vpc"]:
                            self.sh("ip", "-6", "route", "add", f"{addr6}/128", "dev", rside, "table",
                                    str(100 + s["x"]), ns=router)
                self.sh("nft", "-f", "-", ns=ns, stdin=self.sg_ruleset(h, members, members6))
        for net in ("198.19.113.0/24", "198.19.100.0/24"):
            self.sh("ip", "route", "add", net, "dev", "br-inet", ns=R)
        for s in t["subnets"]:
            table, router = str(100 + s["x"]), routers[s["vpc"]]
            self.sh("ip", "rule", "add", "from", lx_cidr(s["cidr"]), "lookup", table, ns=router)
            if "ipv6_cidr" in s:
                self.sh("ip", "-6", "rule", "add", "from", lx_cidr(s["ipv6_cidr"]), "lookup", table, ns=router)
                if not any(r["dest"] == "::/0" for r in s["routes"]):
                    self.sh("ip", "-6", "route", "add", "blackhole", "default", "table", table, ns=router)
            if not any(r["dest"] == "0.0.0.0/0" for r in s["routes"]):
                self.sh("ip", "route", "add", "blackhole", "default", "table", table, ns=router)
            pl_entries = {p["id"]: p["entries"] if self.mutate != "no-prefix-lists" else [] for p in t["pls"]}
            cidr_dests = {r["dest"] for r in s["routes"] if r["dest"] not in pl_entries}
            for r, d in ((r, d) for r in s["routes"] for d in pl_entries.get(r["dest"], [r["dest"]])):
                if r["dest"] in pl_entries and d in cidr_dests:
                    continue  # the CIDR route of the same prefix wins
                dest = "default" if d in ("0.0.0.0/0", "::/0") else lx_cidr(d)
                fam = ["-6"] if ":" in d else []
                if r["target"] == "igw":
                    self.sh("ip", *fam, "route", "add", dest, "dev", "br-inet", "table", table, ns=router)
                elif r["target"] == "pcx-ab":
                    self.sh("ip", "route", "add", dest, "via", peer_gw[router], "dev", "pcx", "onlink", "table", table,
                            ns=router)
                elif r["target"] == "blackhole" and self.mutate != "no-blackholes":
                    self.sh("ip", "route", "add", "blackhole", dest, "table", table, ns=router)
        for vpc, router in routers.items():
            self.sh("nft", "-f", "-", ns=router, stdin=self.nacl_ruleset(vpc, "vpc-b" in routers))
        for h in t["hosts"] + t["inet"]:
            if h["listen"]:
                p = subprocess.Popen(["ip", "netns", "exec", self.ns[h["id"]], sys.executable, "-c", SERVER, *h["listen"]],
                                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
                self.servers.append(p)
        for p in self.servers:
            if p.stdout.readline().strip() != "ready":
                raise RuntimeError("a listener did not start")

    def sg_ruleset(self, h: dict, members: dict, members6: dict) -> str:
        rules = {"ingress": [], "egress": []}
        for sg in self.topo["sgs"]:
            if sg["id"] not in h["sgs"]:
                continue
            for d in ("ingress", "egress"):
                key = "saddr" if d == "ingress" else "daddr"
                for r in sg[d]:
                    m = nft_match(r["proto"], r["ports"])
                    if "sg" in r:
                        # A group's members' private addresses, IPv6 too.
                        ips, ips6 = members.get(r["sg"], []), members6.get(r["sg"], [])
                        peers = [f"ip {key} {{ {', '.join(ips)} }}"] if ips else []
                        peers += [f"ip6 {key} {{ {', '.join(ips6)} }}"] if ips6 else []
                    elif "prefix_list" in r:
                        # One rule per entry: entries may overlap, which an
                        # nftables set refuses.
                        entries = next(p["entries"] for p in self.topo["pls"] if p["id"] == r["prefix_list"])
                        peers = [f"{fam(e)} {key} {lx_cidr(e)}" for e in entries if self.mutate != "no-prefix-lists"]
                    else:
                        peers = [f"{fam(r['cidr'])} {key} {lx_cidr(r['cidr'])}"]
                    rules[d] += [f"{peer} {m} accept" for peer in peers]
        ct = "    ct state established,related accept" if self.mutate != "sg-stateless" else ""
        # Neighbour discovery is the VPC's business, never a security group's.
        ndp = "    icmpv6 type { nd-neighbor-solicit, nd-neighbor-advert, nd-router-solicit, nd-router-advert } accept"
        lines = ["table inet sg {", "  chain input {", "    type filter hook input priority 0; policy drop;",
                 ct, '    iifname "lo" accept', ndp]
        lines += [f"    {r}" for r in rules["ingress"]]
        lines += ["  }", "  chain output {", "    type filter hook output priority 0; policy drop;",
                  ct, '    oifname "lo" accept', ndp]
        lines += [f"    {r}" for r in rules["egress"]]
        lines += ["  }", "}"]
        return "\n".join(lines) + "\n"

    def nacl_ruleset(self, vpc: str, peered: bool) -> str:
        lines = ["table inet nacl {"]
        fwd = ["  chain forward {", "    type filter hook forward priority 0; policy accept;"]
        if peered and self.mutate != "edge-to-edge":
            # A peering carries traffic between the two VPCs only: nothing
            # that arrives through it goes on to the internet.
            fwd.append(f'    iifname "pcx" ip daddr != {lx_cidr(vpc_cidr(vpc))} drop')
            fwd.append('    iifname "pcx" meta nfproto ipv6 drop')
        for s in (s for s in self.topo["subnets"] if s["vpc"] == vpc):
            x = s["x"]
            pat = f'"s{x}h*"'
            for d in ("egress", "ingress"):
                key = "saddr" if d == "ingress" else "daddr"
                lines.append(f"  chain {d}_{x} {{")
                if self.mutate == "v6-without-nacls":  # wrong on purpose: AWS judges IPv6 too
                    lines.append("    meta nfproto ipv6 return")
                for r in sorted(s["nacl"][d], key=lambda r: r["rule"]):
                    verdict = "return" if r["action"] == "allow" else "drop"
                    lines.append(f"    {fam(r['cidr'])} {key} {lx_cidr(r['cidr'])} {nft_match(r['proto'], r['ports'])} {verdict}")
                lines += ["    drop", "  }"]
            # Leaving subnet x (its egress), then entering subnet y (its
            # ingress); traffic that stays in one subnet meets no NACL.
            if self.mutate == "nacl-in-subnet":  # wrong on purpose: AWS skips them
                fwd.append(f"    iifname {pat} jump egress_{x}")
                fwd.append(f"    oifname {pat} jump ingress_{x}")
            else:
                fwd.append(f"    iifname {pat} oifname != {pat} jump egress_{x}")
                fwd.append(f"    oifname {pat} iifname != {pat} jump ingress_{x}")
        lines += fwd + ["  }", "}"]
        return "\n".join(lines) + "\n"

    def probe(self, p: dict, sport: int | None, ident: int) -> str:
        dst = lx(self.topo_ip(p["dst"], p.get("v6", False)))
        cmd = ["ip", "netns", "exec", self.ns[p["from"]], sys.executable, "-c", CLIENT,
               p["proto"], dst, str(p["port"] or 0), str(sport or 0), str(ident)]
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=20)
        return r.stdout.strip() or f"error: {r.stderr.strip()}"

    def topo_ip(self, hid: str, v6: bool = False) -> str:
        for h in self.topo["hosts"] + self.topo["inet"]:
            if h["id"] == hid:
                return h["ipv6"] if v6 else h["ip"]
        raise KeyError(hid)

    def close(self) -> None:
        for p in self.servers:
            p.kill()
            p.wait()
        for ns in reversed(self.namespaces):
            subprocess.run(["ip", "netns", "del", ns], capture_output=True)
        self.namespaces.clear()


# ---------------------------------------------------------------- main


def expect_toml(p: dict, result: str, ours: str) -> str:
    lines = [f"# vpcsim: {ours}", f"# Linux:  {result}", "[[expect]]", f'from = "{p["from"]}"', f'to = "{p["to"]}"',
             f'proto = "{p["proto"]}"']
    if p["port"] is not None:
        lines.append(f"port = {p['port']}")
    lines.append(f'result = "{result}"')
    return "\n".join(lines)


def can_make_namespaces() -> str | None:
    if os.geteuid() != 0:
        return "not root"
    for tool in ("ip", "nft"):
        if shutil.which(tool) is None:
            return f"`{tool}` is not installed"
    name = f"vdprobe{os.getpid()}"
    r = subprocess.run(["ip", "netns", "add", name], capture_output=True, text=True)
    if r.returncode != 0:
        return f"ip netns add failed: {r.stderr.strip()}"
    try:
        r = subprocess.run(["ip", "netns", "exec", name, "nft", "list", "ruleset"], capture_output=True, text=True)
        if r.returncode != 0:
            return f"nft does not work in a namespace: {r.stderr.strip()}"
    finally:
        subprocess.run(["ip", "netns", "del", name], capture_output=True)
    return None


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--topologies", type=int, default=5)
    ap.add_argument("--probes", type=int, default=40)
    ap.add_argument("--seed", type=int, default=None, help="default: random, printed")
    default_vpcsim = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "target", "release", "vpcsim")
    ap.add_argument("--vpcsim", default=os.path.normpath(default_vpcsim), help="default: target/release/vpcsim")
    ap.add_argument("--out", default=None, help="where to keep scenario files (default: a temporary directory)")
    ap.add_argument("--parallel", type=int, default=8, help="probes run at once on the Linux side")
    ap.add_argument("--mutate", choices=["sg-stateless", "no-blackholes", "nacl-in-subnet", "edge-to-edge", "no-prefix-lists", "v6-without-nacls"],
                    help="break the Linux model on purpose, to see the oracle catch it")
    ap.add_argument("--check-only", action="store_true", help="only say whether namespaces can be made")
    a = ap.parse_args()

    why = can_make_namespaces()
    if why:
        print(f"differential: cannot create network namespaces here ({why}); the oracle did not run")
        return 2
    if a.check_only:
        print("differential: network namespaces can be created")
        return 0
    if not os.access(a.vpcsim, os.X_OK):
        print(f"differential: {a.vpcsim} not found: build it with `cargo build --release`")
        return 2
    seed = a.seed if a.seed is not None else random.randrange(1 << 32)
    print(f"differential: seed {seed}, {a.topologies} topologies x {a.probes} probes")
    out = a.out or tempfile.mkdtemp(prefix="vpcsim-differential-")
    os.makedirs(out, exist_ok=True)

    current: list[Linux] = []

    def on_signal(signum, _frame):
        for lnx in current:
            lnx.close()
        sys.exit(128 + signum)

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)

    agreed = disagreed = 0
    verdicts: dict[str, int] = {}
    kinds: dict[str, list[int]] = {}  # probes, of which delivered
    start = time.monotonic()
    for t in range(a.topologies):
        tseed = seed + t
        rng = random.Random(tseed)
        topo = gen_topology(rng)
        probes = gen_probes(rng, topo, a.probes)
        text = to_toml(topo, f"differential seed {tseed}")
        path = os.path.join(out, f"topology-{tseed}.toml")
        with open(path, "w") as f:
            f.write(text + "\n")
        ours = [vpcsim_verdict(a.vpcsim, path, p) for p in probes]
        # Each trace is a fresh simulation, so every probe of one host leaves
        # from the same port in vpcsim. Linux reuses it once per host and
        # protocol, then picks its own: two probes on one 5-tuple would meet
        # each other's sockets and conntrack entries. No generated rule
        # splits the ephemeral range (32768-60999, the same in both), so the
        # port Linux picks is judged as vpcsim's would be.
        used = set()
        sports = []
        for p, (_, sport) in zip(probes, ours):
            key = (p["from"], p["proto"], sport)
            sports.append(sport if key not in used else None)
            used.add(key)
        lnx = Linux(topo, f"vd{os.getpid() % 100000}t{t}", a.mutate)
        current.append(lnx)
        try:
            lnx.build()
            with concurrent.futures.ThreadPoolExecutor(a.parallel) as pool:
                theirs = list(pool.map(lambda ip: lnx.probe(ip[1], sports[ip[0]], 1000 + ip[0]), enumerate(probes)))
        finally:
            lnx.close()
            current.remove(lnx)
        n_dis = 0
        for i, (p, (v, _), l) in enumerate(zip(probes, ours, theirs)):
            verdicts[f"{p['proto']} {v}"] = verdicts.get(f"{p['proto']} {v}", 0) + 1
            k = kinds.setdefault(p["kind"], [0, 0])
            k[0] += 1
            k[1] += v in ("connected", "refused", "replied")
            if v == l:
                agreed += 1
                continue
            disagreed += 1
            n_dis += 1
            repro = os.path.join(out, f"disagreement-{tseed}-{i}.toml")
            body = f"# Differential oracle, seed {tseed}, probe {i}: vpcsim says {v}, Linux says {l}.\n{text}\n{expect_toml(p, l, v)}\n"
            with open(repro, "w") as f:
                f.write(body)
            print(f"--- disagreement: {repro}\n{body}")
        print(f"topology {tseed}: {len(probes) - n_dis}/{len(probes)} agreed ({len(topo['hosts'])} hosts, "
              f"{len(topo['subnets'])} subnets, {time.monotonic() - start:.0f} s)", flush=True)
    print("vpcsim's verdicts: " + ", ".join(f"{k} {n}" for k, n in sorted(verdicts.items())))
    print("probes (answered): " + ", ".join(f"{k} {n} ({d})" for k, (n, d) in sorted(kinds.items())))
    print("vpcsim's drop reasons: " + ", ".join(f"{k} {n}" for k, n in sorted(DROP_REASONS.items())))
    print(f"{agreed} agreed, {disagreed} disagreed")
    return 0 if disagreed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
