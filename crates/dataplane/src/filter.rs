//! Rule matching for network ACLs (stateless, ordered, first match) and security
//! groups (allow-only, a union over the ENI's groups). Connection tracking, which
//! makes security groups stateful, is in `conntrack`.

use std::net::IpAddr;

use vpcsim_model::{Nacl, PortRange, Protocol, SgIdx, SgPeer, Topology};

use crate::packet::Meta;
use crate::trace::{Direction, NaclDecision};

/// Whether a rule's protocol and ports (ICMP: types) match the packet. The one
/// place both NACLs and security groups decide this.
#[inline]
pub fn l4_matches(proto: Protocol, ports: PortRange, meta: &Meta) -> bool {
    if !proto.matches(meta.proto) {
        return false;
    }
    if proto == Protocol::All || ports.is_all() {
        return true;
    }
    meta.rule_port().is_some_and(|p| ports.contains(p))
}

/// The address on the far side of the filter: the source coming in, the
/// destination going out.
#[inline]
pub fn remote(meta: &Meta, direction: Direction) -> IpAddr {
    match direction {
        Direction::Ingress => meta.src,
        Direction::Egress => meta.dst,
    }
}

/// A network ACL's verdict: rules in number order, first match decides, `*` denies.
pub fn evaluate_nacl(nacl: &Nacl, direction: Direction, meta: &Meta) -> NaclDecision {
    let rules = match direction {
        Direction::Ingress => &nacl.ingress,
        Direction::Egress => &nacl.egress,
    };
    let addr = remote(meta, direction);
    for rule in rules {
        // An IPv4 CIDR never matches an IPv6 packet, nor the reverse.
        if rule.cidr.contains(&addr) && l4_matches(rule.proto, rule.ports, meta) {
            return NaclDecision::Rule { number: rule.number, action: rule.action };
        }
    }
    NaclDecision::ImplicitDeny
}

/// The first rule of `groups` (in order) that allows the packet, if any.
///
/// `members_of(sg, ip)` answers whether `ip` is the private address of an ENI in
/// group `sg` — how a group reference matches.
pub fn evaluate_security_groups(
    t: &Topology,
    groups: &[SgIdx],
    direction: Direction,
    meta: &Meta,
    mut member_of: impl FnMut(SgIdx, IpAddr) -> bool,
) -> Option<(SgIdx, usize)> {
    let addr = remote(meta, direction);
    for &sg in groups {
        let group = t.security_group(sg);
        let rules = match direction {
            Direction::Ingress => &group.ingress,
            Direction::Egress => &group.egress,
        };
        for (i, rule) in rules.iter().enumerate() {
            if !l4_matches(rule.proto, rule.ports, meta) {
                continue;
            }
            let peer_matches = match rule.peer {
                SgPeer::Cidr(c) => c.contains(&addr),
                SgPeer::PrefixList(pl) => t.prefix_list(pl).contains(addr),
                SgPeer::Sg(other) => member_of(other, addr),
            };
            if peer_matches {
                return Some((sg, i));
            }
        }
    }
    None
}
