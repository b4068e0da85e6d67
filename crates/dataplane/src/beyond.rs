//! Beyond one VPC: NAT gateways, egress-only internet gateways and VPC
//! peering connections, as steps of the one pipeline (`fabric.rs`).
//!
//! - A **NAT gateway** is reached by a route to it. The packet enters the NAT
//!   gateway's subnet (its NACL ingress; a NAT gateway has no security
//!   groups), its source becomes the NAT gateway's private address and a port
//!   of its own per destination (`nat.rs`), and the NAT gateway's subnet route
//!   table sends it on (normally to the internet gateway, which translates
//!   the private address to the Elastic IP 1:1 like an instance's). A packet
//!   that reaches the NAT gateway's ENI from anywhere is the reply of a
//!   session, translated back and routed to the instance, or dropped there
//!   (`no-session`).
//! - An **egress-only internet gateway** carries IPv6 out to the internet
//!   and remembers the flow; only replies of such flows come back in through
//!   it (`no-session` for the rest, unless the VPC's internet gateway lets
//!   them in).
//! - A **peering connection** carries a packet into the peer VPC, where the
//!   peer's local route delivers it: only to an address of the peer VPC
//!   (`not-reachable-via` otherwise: no transitive routing through a third
//!   VPC, no edge-to-edge use of the peer's internet gateway, NAT gateway,
//!   endpoints).

use std::net::IpAddr;
use std::time::Duration;

use rustc_hash::FxHashMap;
use vpcsim_model::{EgressOnlyIgwIdx, INTERNET_GATEWAY_MTU, NatGatewayIdx, PeeringIdx, Protocol, SubnetIdx, VpcIdx};

use crate::fabric::{Cx, Hop, Next, drop};
use crate::nat::{Destination, PORTS_PER_DESTINATION};
use crate::packet::{self, Meta, Side};
use crate::trace::{Component, Direction, DropReason, Step};

/// How long an egress-only internet gateway remembers an idle flow.
pub const EGRESS_ONLY_IDLE: Duration = Duration::from_secs(350);
/// The bound on flows remembered by the egress-only internet gateways of a fabric.
pub const EGRESS_ONLY_CAPACITY: usize = 1 << 20;

/// A flow an egress-only internet gateway carried out, keyed from inside:
/// (protocol, inside address, inside port, remote address, remote port).
type EgressKey = (u8, IpAddr, u16, IpAddr, u16);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EgressFlow {
    pub gateway: EgressOnlyIgwIdx,
    pub expires: Duration,
}

/// The flows of every egress-only internet gateway.
#[derive(Clone, Debug, Default)]
pub struct EgressFlows {
    flows: FxHashMap<EgressKey, EgressFlow>,
}

impl EgressFlows {
    pub fn clear(&mut self) {
        self.flows.clear();
    }

    pub fn len(&self) -> usize {
        self.flows.len()
    }

    pub fn is_empty(&self) -> bool {
        self.flows.is_empty()
    }

    /// Remembers a flow going out; `false` when the table is full of live flows.
    fn open(&mut self, key: EgressKey, gateway: EgressOnlyIgwIdx, now: Duration) -> bool {
        if self.flows.len() >= EGRESS_ONLY_CAPACITY && !self.flows.contains_key(&key) {
            self.flows.retain(|_, f| f.expires > now);
            if self.flows.len() >= EGRESS_ONLY_CAPACITY {
                return false;
            }
        }
        self.flows.insert(key, EgressFlow { gateway, expires: now + EGRESS_ONLY_IDLE });
        true
    }

    /// The live flow a packet coming in answers, kept alive.
    fn answer(&mut self, key: EgressKey, now: Duration) -> Option<EgressFlow> {
        let flow = self.flows.get_mut(&key)?;
        if flow.expires <= now {
            self.flows.remove(&key);
            return None;
        }
        flow.expires = now + EGRESS_ONLY_IDLE;
        Some(*flow)
    }
}

impl Cx<'_> {
    /// Says why the frame is about to drop, for the trace.
    fn explain(&mut self, f: impl FnOnce() -> String) {
        if self.trace.enabled {
            self.detail = Some(f());
        }
    }

    /// A packet routed to NAT gateway `n` from subnet `from`: into the NAT
    /// gateway's subnet, source NAT, then the NAT gateway's subnet route table.
    pub(crate) fn nat_out(&mut self, meta: &mut Meta, n: NatGatewayIdx, from: SubnetIdx) -> Hop {
        let t = self.t;
        let nat = t.nat_gateway(n);
        let at = Component::NatGateway(n);
        if nat.subnet != from {
            self.nacl(meta, nat.subnet, Direction::Ingress)?;
        }
        self.cross(at);
        if self.natted {
            self.explain(|| "the packet was translated by a NAT gateway already".into());
            return Err(drop(DropReason::NotReachableVia, at));
        }
        let dest_port = match meta.proto {
            _ if !meta.is_ipv4() => None,
            Protocol::TCP | Protocol::UDP if !meta.fragment => Some(meta.dst_port),
            Protocol::ICMP if meta.is_echo_request() => Some(0),
            _ => None,
        };
        let Some(dest_port) = dest_port else {
            self.explain(|| "a NAT gateway translates IPv4 TCP, UDP and ICMP echo only".into());
            return Err(drop(DropReason::NotReachableVia, at));
        };
        let nat_ip = t.eni(nat.eni).ipv4;
        let dest = Destination { nat: n, proto: meta.proto, ip: meta.dst, port: dest_port };
        let inside = (meta.src, meta.src_port);
        let Some(port) = self.nat.outbound(dest, inside, self.now) else {
            let (ip, p) = (meta.dst, meta.dst_port);
            let proto = Protocol::from_number(meta.proto);
            self.explain(|| {
                format!("no port left for another {proto} connection to {ip} port {p} (at most {PORTS_PER_DESTINATION} at once per destination)")
            });
            return Err(drop(DropReason::NatPortExhausted, at));
        };
        packet::rewrite_ipv4(self.out, meta, Side::Source, nat_ip);
        packet::rewrite_port(self.out, meta, Side::Source, port);
        let remote = (meta.dst, meta.dst_port);
        self.trace.record(|| Step::NatTranslated {
            nat: n,
            side: Side::Source,
            proto: meta.proto,
            from: inside,
            to: (IpAddr::V4(nat_ip), port),
            remote,
        });
        self.natted = true;
        Ok(Next::RouteFrom(nat.subnet))
    }

    /// A packet that reached NAT gateway `n`'s own address (from subnet
    /// `from`, or from outside the VPC: `None`): the reply of a session,
    /// translated back and routed to the instance; anything else dies here.
    pub(crate) fn nat_in(&mut self, meta: &mut Meta, n: NatGatewayIdx, from: Option<SubnetIdx>) -> Hop {
        let t = self.t;
        let nat = t.nat_gateway(n);
        let at = Component::NatGateway(n);
        if from != Some(nat.subnet) {
            self.nacl(meta, nat.subnet, Direction::Ingress)?;
        }
        self.cross(at);
        let ports = match meta.proto {
            Protocol::TCP | Protocol::UDP if !meta.fragment => Some((meta.src_port, meta.dst_port)),
            Protocol::ICMP if meta.is_echo_reply() => Some((0, meta.dst_port)),
            _ => None,
        };
        let now = self.now;
        let session = ports.and_then(|(remote_port, port)| {
            let dest = Destination { nat: n, proto: meta.proto, ip: meta.src, port: remote_port };
            self.nat.inbound(dest, port, now)
        });
        let Some((IpAddr::V4(inside), inside_port)) = session else {
            let id = &nat.id;
            self.explain(|| {
                format!(
                    "no session of {id} matches: a NAT gateway lets in only the replies of connections it translated"
                )
            });
            return Err(drop(DropReason::NoSession, at));
        };
        let from_addr = (meta.dst, meta.dst_port);
        let remote = (meta.src, meta.src_port);
        packet::rewrite_ipv4(self.out, meta, Side::Destination, inside);
        packet::rewrite_port(self.out, meta, Side::Destination, inside_port);
        self.trace.record(|| Step::NatTranslated {
            nat: n,
            side: Side::Destination,
            proto: meta.proto,
            from: from_addr,
            to: (IpAddr::V4(inside), inside_port),
            remote,
        });
        self.natted = true;
        // The NAT gateway's ENI sends it on: the frame comes from its MAC.
        let mac = t.eni(nat.eni).mac;
        if self.out.len() >= 12 {
            self.out[6..12].copy_from_slice(&mac);
        }
        Ok(Next::RouteFrom(nat.subnet))
    }

    /// Out through egress-only internet gateway `g` (IPv6 only), remembering
    /// the flow so its replies come back.
    pub(crate) fn eigw_out(&mut self, meta: &mut Meta, g: EgressOnlyIgwIdx) -> Hop {
        let at = Component::EgressOnlyInternetGateway(g);
        self.cross(at);
        if meta.is_ipv4() {
            self.explain(|| "an egress-only internet gateway carries IPv6 only".into());
            return Err(drop(DropReason::NotReachableVia, at));
        }
        self.fits(meta, INTERNET_GATEWAY_MTU, at)?;
        let key = (meta.proto, meta.src, meta.src_port, meta.dst, meta.dst_port);
        if !self.egress_flows.open(key, g, self.now) {
            return Err(drop(DropReason::ConntrackFull, at));
        }
        Ok(Next::Internet)
    }

    /// An IPv6 packet from the internet to `vpc`: back in through the VPC's
    /// egress-only internet gateway when it answers a flow that went out
    /// there; dropped there when unsolicited and the VPC has no internet
    /// gateway to let it in. `None`: the egress-only gateway has no say.
    pub(crate) fn egress_only_in(&mut self, meta: &mut Meta, vpc: VpcIdx) -> Option<Hop> {
        let t = self.t;
        let key = (meta.proto, meta.dst, meta.dst_port, meta.src, meta.src_port);
        if let Some(flow) = self.egress_flows.answer(key, self.now) {
            let at = Component::EgressOnlyInternetGateway(flow.gateway);
            self.cross(at);
            self.trace.record(|| Step::Session { at });
            let back = (|| {
                self.fits(meta, INTERNET_GATEWAY_MTU, at)?;
                let Some(&to) = self.addresses.vpc.get(&(vpc, meta.dst)) else {
                    return Err(drop(DropReason::NoDestination, Component::Vpc(vpc)));
                };
                self.hop(meta, at)?;
                Ok(Next::EnterEni { to, from: None })
            })();
            return Some(back);
        }
        let g = t.egress_only_igw_of(vpc)?;
        if t.vpc(vpc).internet_gateway.is_some() {
            return None;
        }
        let at = Component::EgressOnlyInternetGateway(g);
        self.cross(at);
        self.explain(|| {
            "an egress-only internet gateway lets in only the replies of connections opened from inside".into()
        });
        Some(Err(drop(DropReason::NoSession, at)))
    }

    /// Across peering connection `p` from `from`: into the peer VPC, where its
    /// local route delivers to an address of the peer, and nothing else.
    pub(crate) fn peering_out(&mut self, meta: &mut Meta, p: PeeringIdx, from: VpcIdx) -> Hop {
        let t = self.t;
        let at = Component::Peering(p);
        self.cross(at);
        let Some(peer) = t.vpc_peering(p).other_side(from) else {
            return Err(drop(DropReason::NotReachableVia, at));
        };
        let v = t.vpc(peer);
        let inside = match meta.dst {
            IpAddr::V4(a) => v.cidr.contains(&a),
            IpAddr::V6(a) => v.ipv6_cidr.is_some_and(|n| n.contains(&a)),
        };
        if !inside {
            let dst = meta.dst;
            self.explain(|| {
                format!(
                    "{dst} is not an address of {}: a peering connection delivers only inside the peer VPC (no transitive routing, no edge-to-edge use of its gateways)",
                    v.id
                )
            });
            return Err(drop(DropReason::NotReachableVia, at));
        }
        if t.vpc(from).region != v.region {
            self.fits(meta, vpcsim_model::INTER_REGION_PEERING_MTU, at)?;
        }
        let Some(&to) = self.addresses.vpc.get(&(peer, meta.dst)) else {
            return Err(drop(DropReason::NoDestination, Component::Vpc(peer)));
        };
        Ok(Next::EnterEni { to, from: None })
    }
}
