//! Property tests: network-ACL evaluation, security-group matching and
//! connection tracking, each against a naive reference written here from the
//! AWS rules (not from the implementation), over random rules and packets.
//!
//! The references are deliberately built differently from the code they
//! check: CIDR containment by hand-made masks instead of `ipnet`, "lowest
//! matching rule number" instead of "first match in sorted order", "the
//! earliest allowing rule of all" instead of a nested early return, and a
//! linear table with its own timer arithmetic for conntrack.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::Arc;
use std::time::Duration;

use etherparse::{IpNumber, PacketBuilder};
use ipnet::{IpNet, Ipv4Net, Ipv6Net};
use proptest::prelude::*;
use vpcsim_dataplane::conntrack::{Conntrack, FlowKey};
use vpcsim_dataplane::filter::{evaluate_nacl, evaluate_security_groups};
use vpcsim_dataplane::packet::Meta;
use vpcsim_dataplane::{Direction, DropReason, Fabric, NaclDecision, Trace, Verdict};
use vpcsim_model::{
    Action, EniIdx, Nacl, NaclRule, PortRange, PrefixList, PrefixListIdx, Protocol, SecurityGroup, SgIdx, SgPeer,
    SgRule, Topology, VpcIdx,
};

// ---------------------------------------------------------------------------
// The reference: AWS's matching rules, written naively.

/// Whether `ip` is inside `net`, by masks (families never match each other).
fn ref_in_cidr(net: &IpNet, ip: IpAddr) -> bool {
    match (net, ip) {
        (IpNet::V4(n), IpAddr::V4(a)) => {
            let len = u32::from(n.prefix_len());
            let mask = if len == 0 { 0 } else { u32::MAX << (32 - len) };
            u32::from(a) & mask == u32::from(n.addr()) & mask
        }
        (IpNet::V6(n), IpAddr::V6(a)) => {
            let len = u32::from(n.prefix_len());
            let mask = if len == 0 { 0 } else { u128::MAX << (128 - len) };
            u128::from(a) & mask == u128::from(n.addr()) & mask
        }
        _ => false,
    }
}

/// What a rule sees of a packet: the remote address, the IP protocol, and the
/// value a port range is compared with (TCP/UDP destination port, ICMP type),
/// `None` when the packet has none (other protocols, fragments, short ICMP).
#[derive(Clone, Copy, Debug)]
struct Seen {
    remote: IpAddr,
    proto: u8,
    value: Option<u16>,
}

fn seen(meta: &Meta, direction: Direction) -> Seen {
    let remote = if direction == Direction::Ingress { meta.src } else { meta.dst };
    let value = match (meta.proto, meta.fragment, meta.icmp) {
        (_, true, _) => None,
        (6 | 17, false, _) => Some(meta.dst_port),
        (1 | 58, false, Some((t, _))) => Some(u16::from(t)),
        _ => None,
    };
    Seen { remote, proto: meta.proto, value }
}

/// A rule's protocol and port range against what the rule sees.
fn ref_l4(proto: Protocol, ports: PortRange, p: &Seen) -> bool {
    let number = match proto {
        Protocol::All => return true,
        Protocol::Tcp => 6,
        Protocol::Udp => 17,
        Protocol::Icmp => 1,
        Protocol::Icmpv6 => 58,
        Protocol::Number(n) => n,
    };
    if number != p.proto {
        return false;
    }
    if ports.first == 0 && ports.last == 65535 {
        return true;
    }
    p.value.is_some_and(|v| ports.first <= v && v <= ports.last)
}

/// The NACL's answer: the matching rule with the lowest number, else deny.
fn ref_nacl(rules: &[NaclRule], p: &Seen) -> NaclDecision {
    rules
        .iter()
        .filter(|r| ref_in_cidr(&r.cidr, p.remote) && ref_l4(r.proto, r.ports, p))
        .min_by_key(|r| r.number)
        .map_or(NaclDecision::ImplicitDeny, |r| NaclDecision::Rule { number: r.number, action: r.action })
}

// ---------------------------------------------------------------------------
// Generators. Addresses come mostly from a small pool so that rules and
// packets meet often; CIDRs are cut from the same pool with any prefix length,
// /0 and the host length (/32, /128) weighted up.

fn v4_pool() -> impl Strategy<Value = Ipv4Addr> {
    prop_oneof![
        4 => (0u8..4, 0u8..8).prop_map(|(a, b)| Ipv4Addr::new(10, 0, a, b)),
        1 => any::<u32>().prop_map(Ipv4Addr::from),
    ]
}

fn v6_pool() -> impl Strategy<Value = Ipv6Addr> {
    prop_oneof![
        4 => (0u16..4, 0u16..8).prop_map(|(a, b)| Ipv6Addr::new(0x2600, 0x1f18, 0, a, 0, 0, 0, b)),
        1 => any::<u128>().prop_map(Ipv6Addr::from),
    ]
}

fn addr(v6: bool) -> BoxedStrategy<IpAddr> {
    if v6 { v6_pool().prop_map(IpAddr::V6).boxed() } else { v4_pool().prop_map(IpAddr::V4).boxed() }
}

fn any_addr() -> impl Strategy<Value = IpAddr> {
    any::<bool>().prop_flat_map(addr)
}

fn cidr() -> impl Strategy<Value = IpNet> {
    let v4 = (v4_pool(), prop_oneof![1 => Just(0u8), 1 => Just(32u8), 3 => 0u8..=32])
        .prop_map(|(a, len)| IpNet::V4(Ipv4Net::new(a, len).unwrap().trunc()));
    let v6 = (v6_pool(), prop_oneof![1 => Just(0u8), 1 => Just(128u8), 3 => 0u8..=128])
        .prop_map(|(a, len)| IpNet::V6(Ipv6Net::new(a, len).unwrap().trunc()));
    prop_oneof![v4, v6]
}

/// A protocol and port range as the loader makes them: numbers named when
/// they have a name, ports only where the protocol has them.
fn proto_ports() -> impl Strategy<Value = (Protocol, PortRange)> {
    let proto = prop_oneof![
        Just(Protocol::All),
        Just(Protocol::Tcp),
        Just(Protocol::Udp),
        Just(Protocol::Icmp),
        Just(Protocol::Icmpv6),
        prop_oneof![Just(47u8), Just(50u8), any::<u8>()].prop_map(Protocol::from_number),
    ];
    let ports = prop_oneof![
        1 => Just(PortRange::ALL),
        2 => prop_oneof![Just(0u16), Just(8), Just(22), Just(443), any::<u16>()].prop_map(PortRange::single),
        2 => (any::<u16>(), any::<u16>()).prop_map(|(a, b)| PortRange { first: a.min(b), last: a.max(b) }),
        1 => (0u16..16).prop_map(|a| PortRange { first: a, last: a + 8 }),
    ];
    (proto, ports).prop_map(|(p, r)| (p, if p.has_ports() { r } else { PortRange::ALL }))
}

fn nacl_rules(max: usize) -> impl Strategy<Value = Vec<NaclRule>> {
    let rule = (prop_oneof![3 => 1u16..50, 1 => 1u16..=32766], any::<bool>(), proto_ports(), cidr()).prop_map(
        |(number, allow, (proto, ports), cidr)| NaclRule {
            number,
            action: if allow { Action::Allow } else { Action::Deny },
            proto,
            ports,
            cidr,
        },
    );
    prop::collection::vec(rule, 0..max).prop_map(|mut rules| {
        // Rule numbers are unique in a direction (the loader says so).
        let mut seen = std::collections::BTreeSet::new();
        rules.retain(|r| seen.insert(r.number));
        rules
    })
}

/// A packet as the parser would describe it.
fn meta() -> impl Strategy<Value = Meta> {
    let proto = prop_oneof![Just(6u8), Just(17), Just(1), Just(58), Just(47), any::<u8>()];
    let port = || prop_oneof![Just(0u16), Just(8), Just(22), Just(443), 0u16..24, any::<u16>()];
    let icmp = prop_oneof![
        Just(None),
        (prop_oneof![Just(0u8), Just(3), Just(8), Just(11), Just(128), Just(129), 0u8..24, any::<u8>()], any::<u8>())
            .prop_map(Some),
    ];
    (any::<bool>(), proto, port(), port(), icmp, any::<u8>(), prop::bool::weighted(0.1)).prop_flat_map(
        move |(v6, proto, sp, dp, icmp, flags, fragment)| {
            (addr(v6), addr(v6)).prop_map(move |(src, dst)| Meta {
                l3: 14,
                l4: Some(34),
                proto,
                src,
                dst,
                src_port: sp,
                dst_port: dp,
                icmp: if matches!(proto, 1 | 58) { icmp } else { None },
                tcp_flags: if proto == 6 { flags } else { 0 },
                ttl: 64,
                fragment,
                ip_len: 60,
                dont_fragment: true,
            })
        },
    )
}

fn direction() -> impl Strategy<Value = Direction> {
    prop_oneof![Just(Direction::Ingress), Just(Direction::Egress)]
}

// ---------------------------------------------------------------------------
// Network ACLs.

proptest! {
    /// `evaluate_nacl` (first match over rules sorted by number, as the model
    /// keeps them) answers what "the lowest-numbered matching rule, else deny"
    /// answers.
    #[test]
    fn nacl_evaluation_agrees_with_the_reference(
        ingress in nacl_rules(24),
        egress in nacl_rules(24),
        packets in prop::collection::vec((meta(), direction()), 1..16),
    ) {
        let sorted = |r: &[NaclRule]| { let mut r = r.to_vec(); r.sort_by_key(|r| r.number); r };
        let nacl = Nacl {
            id: "acl-p".into(),
            vpc: VpcIdx(0),
            ingress: sorted(&ingress),
            egress: sorted(&egress),
            is_default: false,
        };
        for (m, d) in packets {
            let rules = if d == Direction::Ingress { &ingress } else { &egress };
            let want = ref_nacl(rules, &seen(&m, d));
            prop_assert_eq!(evaluate_nacl(&nacl, d, &m), want, "{:?} {}", d, m);
        }
    }
}

// ---------------------------------------------------------------------------
// Security groups.

fn sg_rules() -> impl Strategy<Value = Vec<(Protocol, PortRange, u8, IpNet, usize)>> {
    prop::collection::vec((proto_ports(), 0u8..3, cidr(), 0usize..8), 0..6)
        .prop_map(|v| v.into_iter().map(|((p, r), kind, c, i)| (p, r, kind, c, i)).collect())
}

proptest! {
    /// `evaluate_security_groups` answers with the earliest allowing rule
    /// (groups in the ENI's order, then rules in order) of all the rules that
    /// allow the packet; `None` when none does. Peers are CIDRs, prefix lists,
    /// and group references (membership is a random relation).
    #[test]
    fn security_group_matching_agrees_with_the_reference(
        groups in prop::collection::vec((sg_rules(), sg_rules()), 1..5),
        lists in prop::collection::vec(prop::collection::vec(cidr(), 0..4), 0..3),
        members in prop::collection::vec((0usize..5, any_addr()), 0..12),
        order in Just(()).prop_perturb(|_, mut rng| {
            let mut o: Vec<usize> = (0..5).collect();
            for i in (1..o.len()).rev() { o.swap(i, rng.random_range(0..=i)); }
            o
        }),
        take in 1usize..=5,
        packets in prop::collection::vec((meta(), direction(), prop::bool::weighted(0.3)), 1..16),
    ) {
        let n = groups.len();
        let mut t = Topology::default();
        for (i, entries) in lists.iter().enumerate() {
            t.prefix_lists.push(PrefixList { id: format!("pl-{i}"), entries: entries.clone(), managed: None });
        }
        let peer = |kind: u8, c: IpNet, i: usize| match kind {
            1 => SgPeer::Sg(SgIdx::from_index(i % n)),
            2 if !lists.is_empty() => SgPeer::PrefixList(PrefixListIdx::from_index(i % lists.len())),
            _ => SgPeer::Cidr(c),
        };
        let rules = |v: &[(Protocol, PortRange, u8, IpNet, usize)]| -> Vec<SgRule> {
            v.iter().map(|&(proto, ports, kind, c, i)| SgRule { proto, ports, peer: peer(kind, c, i) }).collect()
        };
        for (i, (ingress, egress)) in groups.iter().enumerate() {
            t.security_groups.push(SecurityGroup {
                id: format!("sg-{i}"),
                vpc: VpcIdx(0),
                ingress: rules(ingress),
                egress: rules(egress),
                is_default: false,
            });
        }
        let eni_groups: Vec<SgIdx> =
            order.iter().filter(|&&i| i < n).take(take).map(|&i| SgIdx::from_index(i)).collect();
        for (m, d, remote_is_member) in packets {
            let mut members = members.clone();
            if remote_is_member {
                // Make group references match this packet's remote side sometimes.
                members.push((m.src_port as usize % n, seen(&m, d).remote));
            }
            let is_member = |sg: SgIdx, ip: IpAddr| members.iter().any(|&(g, a)| g % n == sg.index() && a == ip);
            let p = seen(&m, d);
            let mut allowing = Vec::new();
            for (position, &sg) in eni_groups.iter().enumerate() {
                let g = &t.security_groups[sg.index()];
                let rules = if d == Direction::Ingress { &g.ingress } else { &g.egress };
                for (i, r) in rules.iter().enumerate() {
                    let peer = match r.peer {
                        SgPeer::Cidr(c) => ref_in_cidr(&c, p.remote),
                        SgPeer::PrefixList(pl) => t.prefix_lists[pl.index()].entries.iter().any(|e| ref_in_cidr(e, p.remote)),
                        SgPeer::Sg(other) => is_member(other, p.remote),
                    };
                    if peer && ref_l4(r.proto, r.ports, &p) {
                        allowing.push((position, i, sg));
                    }
                }
            }
            let want = allowing.iter().min().map(|&(_, i, sg)| (sg, i));
            let got = evaluate_security_groups(&t, &eni_groups, d, &m, is_member);
            prop_assert_eq!(got, want, "{:?} {} groups {:?}", d, m, eni_groups);
        }
    }
}

// ---------------------------------------------------------------------------
// Connection tracking, against a linear table with its own timer arithmetic.

const TCP_ESTABLISHED: u64 = 432_000;
const TCP_CLOSING: u64 = 120;
const TCP_RESET: u64 = 5;
const UDP_ONE_WAY: u64 = 30;
const UDP_BOTH_WAYS: u64 = 180;
const OTHER: u64 = 600;

#[derive(Clone, Copy, Debug)]
struct RefFlow {
    opened: Direction,
    deadline: Duration,
    answered: bool,
    fin_egress: bool,
    fin_ingress: bool,
    reset: bool,
}

#[derive(Debug, Default)]
struct RefTable {
    flows: Vec<(FlowKey, RefFlow)>,
    capacity: usize,
    inserted: u64,
    expired: u64,
    refused: u64,
}

/// How long a flow lives after a packet, updating its close state.
fn ref_lifetime(f: &mut RefFlow, d: Direction, m: &Meta) -> Duration {
    let secs = match m.proto {
        6 => {
            f.reset |= m.tcp_flags & 0x04 != 0;
            if m.tcp_flags & 0x01 != 0 {
                match d {
                    Direction::Egress => f.fin_egress = true,
                    Direction::Ingress => f.fin_ingress = true,
                }
            }
            if f.reset {
                TCP_RESET
            } else if f.fin_egress && f.fin_ingress {
                TCP_CLOSING
            } else {
                TCP_ESTABLISHED
            }
        }
        17 if f.answered => UDP_BOTH_WAYS,
        17 => UDP_ONE_WAY,
        _ => OTHER,
    };
    Duration::from_secs(secs)
}

impl RefTable {
    fn find(&self, k: &FlowKey) -> Option<usize> {
        self.flows.iter().position(|(key, _)| key == k)
    }

    fn track(&mut self, k: &FlowKey, d: Direction, m: &Meta, now: Duration) -> bool {
        let Some(i) = self.find(k) else { return false };
        if self.flows[i].1.deadline <= now {
            self.flows.remove(i);
            self.expired += 1;
            return false;
        }
        let icmp_type = m.icmp.map(|(t, _)| t);
        let request = (m.proto == 1 && icmp_type == Some(8)) || (m.proto == 58 && icmp_type == Some(128));
        let reply = (m.proto == 1 && icmp_type == Some(0)) || (m.proto == 58 && icmp_type == Some(129));
        let f = &mut self.flows[i].1;
        // Echo: requests only the way the flow was opened, replies only back.
        if (request && d != f.opened) || (reply && d == f.opened) {
            return false;
        }
        if d != f.opened {
            f.answered = true;
        }
        f.deadline = now + ref_lifetime(f, d, m);
        true
    }

    fn open(&mut self, k: FlowKey, d: Direction, m: &Meta, now: Duration) -> bool {
        let existing = self.find(&k);
        if existing.is_none() && self.flows.len() >= self.capacity {
            let before = self.flows.len();
            self.flows.retain(|(_, f)| f.deadline > now);
            self.expired += (before - self.flows.len()) as u64;
            if self.flows.len() >= self.capacity {
                self.refused += 1;
                return false;
            }
        }
        let mut f =
            RefFlow { opened: d, deadline: now, answered: false, fin_egress: false, fin_ingress: false, reset: false };
        f.deadline = now + ref_lifetime(&mut f, d, m);
        match self.find(&k) {
            Some(i) => self.flows[i].1 = f,
            None => self.flows.push((k, f)),
        }
        self.inserted += 1;
        true
    }

    fn sweep(&mut self, now: Duration) {
        let before = self.flows.len();
        self.flows.retain(|(_, f)| f.deadline > now);
        self.expired += (before - self.flows.len()) as u64;
    }
}

#[derive(Clone, Debug)]
enum Op {
    Open {
        key: usize,
        d: Direction,
        flags: u8,
        icmp: Option<u8>,
    },
    Track {
        key: usize,
        d: Direction,
        flags: u8,
        icmp: Option<u8>,
    },
    Sweep,
    /// Time passes: the steps land on and around every timeout.
    Advance(u64),
}

fn op() -> impl Strategy<Value = Op> {
    let flags = prop_oneof![Just(0x02u8), Just(0x10), Just(0x11), Just(0x01), Just(0x04), any::<u8>()];
    let icmp = prop_oneof![Just(None), Just(Some(8u8)), Just(Some(0)), Just(Some(128)), Just(Some(129)), Just(Some(3))];
    let secs = prop_oneof![
        Just(0u64),
        Just(1),
        Just(TCP_RESET),
        Just(UDP_ONE_WAY - 1),
        Just(UDP_ONE_WAY),
        Just(TCP_CLOSING),
        Just(UDP_BOTH_WAYS),
        Just(OTHER - 1),
        Just(OTHER),
        Just(TCP_ESTABLISHED),
        0u64..1000,
    ];
    prop_oneof![
        4 => (0usize..8, direction(), flags.clone(), icmp.clone()).prop_map(|(key, d, flags, icmp)| Op::Open { key, d, flags, icmp }),
        6 => (0usize..8, direction(), flags, icmp).prop_map(|(key, d, flags, icmp)| Op::Track { key, d, flags, icmp }),
        1 => Just(Op::Sweep),
        3 => secs.prop_map(Op::Advance),
    ]
}

/// A pool of flows: several protocols, both families, two ENIs.
fn key_pool() -> impl Strategy<Value = Vec<FlowKey>> {
    let key = (0u32..2, prop_oneof![Just(6u8), Just(17), Just(1), Just(58), Just(47)], any::<bool>(), 0u16..4, 0u16..4)
        .prop_map(|(eni, proto, v6, lp, rp)| {
            let (local, remote) = if v6 {
                (
                    IpAddr::V6(Ipv6Addr::new(0x2600, 0, 0, 0, 0, 0, 0, 1)),
                    IpAddr::V6(Ipv6Addr::new(0x2600, 0, 0, 0, 0, 0, 0, 2)),
                )
            } else {
                (IpAddr::V4(Ipv4Addr::new(10, 0, 1, 10)), IpAddr::V4(Ipv4Addr::new(10, 0, 2, 20)))
            };
            FlowKey { eni: EniIdx(eni), proto, local, remote, local_port: 40000 + lp, remote_port: 80 + rp }
        });
    prop::collection::vec(key, 8)
}

/// The packet of flow `k` going `d` at the key's ENI.
fn packet_of(k: &FlowKey, d: Direction, flags: u8, icmp: Option<u8>) -> Meta {
    let (src, dst, sp, dp) = match d {
        Direction::Egress => (k.local, k.remote, k.local_port, k.remote_port),
        Direction::Ingress => (k.remote, k.local, k.remote_port, k.local_port),
    };
    Meta {
        l3: 14,
        l4: Some(34),
        proto: k.proto,
        src,
        dst,
        src_port: sp,
        dst_port: dp,
        icmp: if matches!(k.proto, 1 | 58) { icmp.map(|t| (t, 0)) } else { None },
        tcp_flags: if k.proto == 6 { flags } else { 0 },
        ttl: 64,
        fragment: false,
        ip_len: 60,
        dont_fragment: true,
    }
}

proptest! {
    /// Any sequence of opens, tracks, sweeps and waits: every answer, the size,
    /// the counters and every flow's deadline agree with the reference table,
    /// and the table never holds more than its capacity.
    #[test]
    fn conntrack_agrees_with_the_reference(
        capacity in 1usize..6,
        keys in key_pool(),
        ops in prop::collection::vec(op(), 1..80),
    ) {
        let mut ct = Conntrack::with_capacity(capacity);
        let mut reference = RefTable { capacity, ..RefTable::default() };
        let mut now = Duration::ZERO;
        for (step, op) in ops.iter().enumerate() {
            match *op {
                Op::Open { key, d, flags, icmp } => {
                    let m = packet_of(&keys[key], d, flags, icmp);
                    prop_assert_eq!(FlowKey::new(keys[key].eni, d, &m), keys[key]);
                    let got = ct.open(keys[key], d, &m, now);
                    prop_assert_eq!(got, reference.open(keys[key], d, &m, now), "step {}: {:?}", step, op);
                }
                Op::Track { key, d, flags, icmp } => {
                    let m = packet_of(&keys[key], d, flags, icmp);
                    let got = ct.track(&keys[key], d, &m, now);
                    prop_assert_eq!(got, reference.track(&keys[key], d, &m, now), "step {}: {:?}", step, op);
                }
                Op::Sweep => {
                    ct.sweep(now);
                    reference.sweep(now);
                }
                Op::Advance(s) => now += Duration::from_secs(s),
            }
            prop_assert!(ct.len() <= capacity);
            prop_assert_eq!(ct.len(), reference.flows.len(), "step {}: {:?}", step, op);
            prop_assert_eq!(ct.stats.inserted, reference.inserted);
            prop_assert_eq!(ct.stats.expired, reference.expired);
            prop_assert_eq!(ct.stats.refused, reference.refused);
            // Every flow's whole entry: its deadline, who opened it, whether
            // it was answered, the FIN seen each way (out: from the ENI) and
            // the reset.
            for k in &keys {
                let want = reference.find(k).map(|i| {
                    let f = reference.flows[i].1;
                    (f.deadline, f.opened, f.answered, f.fin_egress, f.fin_ingress, f.reset)
                });
                let got = ct.get(k).map(|e| (e.expires, e.opened, e.answered, e.fin_out, e.fin_in, e.reset));
                prop_assert_eq!(got, want, "step {}: {:?}", step, k);
            }
        }
    }
}

// ---------------------------------------------------------------------------
// Through the loader and the whole pipeline, with real frames: a random NACL
// written as TOML guards a subnet; frames from random sources (the sender has
// its source/destination check off) are delivered exactly when the reference
// allows them, else dropped by that NACL.

const FIXTURE: &str = r#"
name = "nacl property"

[[vpc]]
id = "vpc-p"
cidr = "10.0.0.0/16"
ipv6_cidr = "2600:1f18:aa:100::/56"

[[subnet]]
id = "subnet-src"
vpc = "vpc-p"
cidr = "10.0.1.0/24"
ipv6_cidr = "2600:1f18:aa:101::/64"

[[subnet]]
id = "subnet-dst"
vpc = "vpc-p"
cidr = "10.0.2.0/24"
ipv6_cidr = "2600:1f18:aa:102::/64"
nacl = "acl-p"

[[security_group]]
id = "sg-open"
vpc = "vpc-p"
ingress = [ { proto = "all", cidr = "0.0.0.0/0" }, { proto = "all", cidr = "::/0" } ]

[[host]]
id = "sender"
subnet = "subnet-src"
ip = "10.0.1.10"
ipv6 = "2600:1f18:aa:101::10"
security_groups = ["sg-open"]
source_dest_check = false

[[host]]
id = "receiver"
subnet = "subnet-dst"
ip = "10.0.2.20"
ipv6 = "2600:1f18:aa:102::20"
security_groups = ["sg-open"]
"#;

fn toml_rule(r: &NaclRule, explicit_all_ports: bool) -> String {
    let proto = match r.proto {
        Protocol::All => "\"all\"".to_string(),
        Protocol::Tcp => "\"tcp\"".to_string(),
        Protocol::Udp => "\"udp\"".to_string(),
        Protocol::Icmp => "\"icmp\"".to_string(),
        Protocol::Icmpv6 => "\"icmpv6\"".to_string(),
        Protocol::Number(n) => n.to_string(),
    };
    let ports = if r.ports.is_all() {
        if explicit_all_ports && r.proto.has_ports() { ", ports = \"0-65535\"".to_string() } else { String::new() }
    } else {
        format!(", ports = \"{}-{}\"", r.ports.first, r.ports.last)
    };
    let action = if r.action == Action::Allow { "allow" } else { "deny" };
    format!("  {{ rule = {}, action = \"{action}\", proto = {proto}{ports}, cidr = \"{}\" }},\n", r.number, r.cidr)
}

/// The body of an ICMP message: a timestamp request (type 13) of the
/// standard 20 bytes, everything else (a timestamp reply too) longer, so both
/// ways the parser reads a timestamp are judged.
fn icmp_body(ty: u8) -> &'static [u8] {
    if ty == 13 { &[0; 12] } else { &[0; 24] }
}

#[derive(Clone, Copy, Debug)]
enum Kind {
    Tcp(u16),
    Udp(u16),
    Icmp(u8),
    Other(u8),
}

fn kind() -> impl Strategy<Value = Kind> {
    let port = || prop_oneof![Just(22u16), Just(443), 0u16..24, any::<u16>()];
    prop_oneof![
        port().prop_map(Kind::Tcp),
        port().prop_map(Kind::Udp),
        // Not neighbour discovery (133-137), which the router answers itself.
        prop_oneof![Just(8u8), Just(0), Just(128), Just(129), 0u8..24, 138u8..=255].prop_map(Kind::Icmp),
        prop_oneof![Just(47u8), Just(50), 100u8..140].prop_map(Kind::Other),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    #[test]
    fn nacl_through_the_loader_and_real_frames(
        rules in nacl_rules(16),
        explicit in any::<bool>(),
        frames in prop::collection::vec((any::<bool>(), kind()).prop_flat_map(|(v6, k)| (addr(v6), Just(k))), 1..12),
    ) {
        let mut src = FIXTURE.to_string();
        src.push_str("\n[[nacl]]\nid = \"acl-p\"\nvpc = \"vpc-p\"\negress = [ { rule = 1, action = \"allow\", proto = \"all\", cidr = \"0.0.0.0/0\" }, { rule = 2, action = \"allow\", proto = \"all\", cidr = \"::/0\" } ]\ningress = [\n");
        for r in &rules {
            src.push_str(&toml_rule(r, explicit));
        }
        src.push_str("]\n");
        let t = Arc::new(vpcsim_scenario::load_str(&src, "p.toml").unwrap_or_else(|e| panic!("{e}\n{src}")));
        let sender = t.host(t.host_by_id("sender").unwrap()).eni;
        let receiver = t.host(t.host_by_id("receiver").unwrap()).eni;
        let mut fabric = Fabric::new(Arc::clone(&t));
        let mut out = Vec::new();
        for (i, (from, k)) in frames.into_iter().enumerate() {
            let to: IpAddr = if from.is_ipv4() { "10.0.2.20".parse().unwrap() } else { "2600:1f18:aa:102::20".parse().unwrap() };
            let eth = PacketBuilder::ethernet2(t.eni(sender).mac, [2, 1, 0, 0, 0, 0]);
            let b = match (from, to) {
                (IpAddr::V4(s), IpAddr::V4(d)) => eth.ipv4(s.octets(), d.octets(), 64),
                (IpAddr::V6(s), IpAddr::V6(d)) => eth.ipv6(s.octets(), d.octets(), 64),
                _ => unreachable!(),
            };
            let mut frame = Vec::new();
            // A different source port each time, so no frame rides a tracked flow.
            let sport = 1024 + i as u16;
            let (proto, value) = match k {
                Kind::Tcp(p) => { b.tcp(sport, p, 1, 1000).syn().write(&mut frame, &[]).unwrap(); (6, Some(p)) }
                Kind::Udp(p) => { b.udp(sport, p).write(&mut frame, b"x").unwrap(); (17, Some(p)) }
                Kind::Icmp(ty) if from.is_ipv4() => {
                    let icmp = etherparse::Icmpv4Type::Unknown { type_u8: ty, code_u8: 0, bytes5to8: [0, sport as u8, 0, 1] };
                    b.icmpv4(icmp).write(&mut frame, icmp_body(ty)).unwrap();
                    (1, Some(u16::from(ty)))
                }
                Kind::Icmp(ty) => {
                    let icmp = etherparse::Icmpv6Type::Unknown { type_u8: ty, code_u8: 0, bytes5to8: [0, sport as u8, 0, 1] };
                    b.icmpv6(icmp).write(&mut frame, &[0; 24]).unwrap();
                    (58, Some(u16::from(ty)))
                }
                Kind::Other(n) => { b.write(&mut frame, IpNumber(n), b"payload").unwrap(); (n, None) }
            };
            let want = ref_nacl(&rules, &Seen { remote: from, proto, value });
            let verdict = fabric.process(Duration::from_secs(i as u64), sender, &frame, &mut out, &mut Trace::off());
            match want {
                NaclDecision::Rule { action: Action::Allow, .. } => {
                    prop_assert_eq!(verdict, Verdict::Deliver(receiver), "{:?} from {} want {:?}\n{}", k, from, want, src);
                }
                _ => {
                    let d = verdict.dropped();
                    prop_assert_eq!(d.map(|d| d.reason), Some(DropReason::NaclIngress), "{:?} from {} want {:?}: {:?}\n{}", k, from, want, verdict, src);
                }
            }
        }
    }
}
