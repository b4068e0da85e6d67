//! The internet and the gateways of a VPC, as stages of the one pipeline.
//!
//! - The **internet** is one router that knows internet hosts (AWS
//!   services' front doors among them), public IPs and VPC IPv6 CIDRs. An
//!   **internet gateway** translates a private IPv4 source to its ENI's
//!   public IP (1:1) and back; what enters a VPC through a gateway goes where
//!   the gateway's route table (edge association) says, or by the local
//!   route.
//! - A **gateway endpoint**'s prefix-list route carries the packet to its
//!   service privately and remembers the flow, so the service's replies come
//!   back through it.
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

use vpcsim_model::{
    EgressOnlyIgwIdx, EniIdx, EniOwner, GatewayEndpointIdx, INTERNET_GATEWAY_MTU, INTERNET_ROUTER_MAC, IgwIdx,
    NatGatewayIdx, PeeringIdx, Protocol, RouteTableIdx, RouteTarget, SubnetIdx, Topology, VpcIdx,
};

use super::cx::{Cx, Hop, Next, Rewrite, drop};
use crate::state::addresses::InternetOwner;
use crate::state::flows::GatewayFlow;
use crate::state::nat::{Destination, PORTS_PER_DESTINATION};
use crate::trace::{Component, Direction, DropReason, Step};
use crate::wire::packet::{self, Meta, Side};

impl Cx<'_> {
    /// A frame sent by a host on the internet.
    pub(crate) fn sent_on_internet(&mut self, meta: &mut Meta, at: EniIdx) -> Hop {
        if !self.t.eni(at).owns(meta.src) {
            return Err(drop(DropReason::SourceDestCheck, Component::Eni(at)));
        }
        if let Some(flow) = self.endpoints.flow_back(meta.proto, (meta.src, meta.src_port), meta.dst_port, self.now)
            && flow.via == meta.dst
            && flow.node.is_none()
        {
            return {
                self.endpoint_flow = Some(flow);
                Ok(Next::InterfaceEndpointBack)
            };
        }
        if let Some(flow) = self.gateway_flow_back(meta) {
            // Back through the gateway endpoint into the VPC, never the internet.
            let c = Component::GatewayEndpoint(flow.endpoint);
            self.cross(c);
            let Some(&to) = self.addresses.vpc.get(&(flow.vpc, meta.dst)) else {
                return Err(drop(DropReason::NoDestination, Component::Vpc(flow.vpc)));
            };
            self.hop(meta, c)?;
            return Ok(Next::EnterEni { to, from: None });
        }
        Ok(Next::Internet)
    }

    /// A service's reply to a flow a gateway endpoint carried, if it is one.
    fn gateway_flow_back(&mut self, meta: &Meta) -> Option<GatewayFlow> {
        let key = (meta.proto, meta.src, meta.src_port, meta.dst, meta.dst_port);
        self.gateway_flows.touch_or_forget(key, self.now).copied()
    }

    /// Out of a VPC through its internet gateway: private IPv4 source to its
    /// public IP (1:1); IPv6 passes untranslated.
    pub(crate) fn igw_out(&mut self, meta: &mut Meta, igw: IgwIdx) -> Hop {
        let t = self.t;
        self.cross(Component::InternetGateway(igw));
        self.fits(meta, INTERNET_GATEWAY_MTU, Component::InternetGateway(igw))?;
        let vpc = t.internet_gateway(igw).vpc;
        if meta.src.is_ipv4() {
            let public = self
                .addresses
                .vpc
                .get(&(vpc, meta.src))
                .and_then(|&e| t.eni(e).public_ip)
                .ok_or(drop(DropReason::NoPublicIp, Component::InternetGateway(igw)))?;
            let at = Component::InternetGateway(igw);
            self.rewrite_traced(meta, Rewrite::Address { at, side: Side::Source, to: public });
        }
        Ok(Next::Internet)
    }

    /// The internet's router: to an internet host, or to the internet gateway
    /// of the VPC that owns the public address.
    pub(crate) fn internet(&mut self, meta: &mut Meta) -> Hop {
        let t = self.t;
        self.cross(Component::Internet);
        self.hop(meta, Component::Internet)?;
        match self.addresses.internet.get(&meta.dst).copied() {
            Some(InternetOwner::Host(to)) => {
                self.fits(meta, t.eni(to).mtu, Component::Internet)?;
                Ok(Next::Deliver { to, src_mac: INTERNET_ROUTER_MAC })
            }
            Some(InternetOwner::PublicIp(_, vpc)) => match t.vpc(vpc).internet_gateway {
                Some(igw) => Ok(Next::IgwIn { igw, vpc }),
                None => Err(drop(DropReason::NoRoute, Component::Internet)),
            },
            None => {
                let vpc6 = packet::v6(meta.dst)
                    .and_then(|a| self.addresses.vpc_ipv6.iter().find(|(net, _)| net.contains(&a)))
                    .map(|&(_, vpc)| vpc);
                if let Some(vpc) = vpc6
                    && let Some(back) = self.egress_only_in(meta, vpc)
                {
                    return back;
                }
                match vpc6.and_then(|vpc| t.vpc(vpc).internet_gateway.map(|igw| (igw, vpc))) {
                    Some((igw, vpc)) => Ok(Next::IgwIn { igw, vpc }),
                    None => Err(drop(DropReason::NoRoute, Component::Internet)),
                }
            }
        }
    }

    /// Into a VPC through its internet gateway: public IPv4 destination to the
    /// private address (1:1), then the local route to the ENI.
    pub(crate) fn igw_in(&mut self, meta: &mut Meta, igw: IgwIdx, vpc: VpcIdx) -> Hop {
        let t = self.t;
        let at = Component::InternetGateway(igw);
        self.cross(at);
        self.fits(meta, INTERNET_GATEWAY_MTU, at)?;
        if meta.dst.is_ipv4()
            && let Some(InternetOwner::PublicIp(owner, _)) = self.addresses.internet.get(&meta.dst).copied()
        {
            let private = t.eni(owner).ipv4;
            self.rewrite_traced(meta, Rewrite::Address { at, side: Side::Destination, to: private });
        }
        self.hop(meta, at)?;
        Ok(Next::EnterVpc { gateway: at, vpc, edge: t.internet_gateway(igw).route_table })
    }

    /// Into VPC `vpc` through a gateway (internet or VPN). The gateway's
    /// route table, when it has one (an edge association), decides: the local
    /// route, a middlebox's network interface, or a Gateway Load Balancer
    /// endpoint; without one, the local route delivers.
    pub(crate) fn enter_vpc(
        &mut self,
        meta: &mut Meta,
        gateway: Component,
        vpc: VpcIdx,
        edge: Option<RouteTableIdx>,
    ) -> Hop {
        let t = self.t;
        if let Some(table) = edge {
            let route = self.route_lookup(meta, table, Some(gateway))?;
            match route.target {
                RouteTarget::Local => {}
                RouteTarget::Eni(to) => {
                    // AWS: "for traffic through an internet gateway, the
                    // target network interface must also have a public IP".
                    if matches!(gateway, Component::InternetGateway(_)) && t.eni(to).public_ip.is_none() {
                        self.say(|| {
                            format!(
                                "{} has no public IP: a gateway route table sends traffic from an internet gateway only to a network interface that has one",
                                t.eni(to).id
                            )
                        });
                        return Err(drop(DropReason::NoPublicIp, Component::Eni(to)));
                    }
                    return Ok(Next::EnterEni { to, from: None });
                }
                RouteTarget::GwlbEndpoint(ep) => {
                    let eni = self.gwlb_endpoint_eni(ep, table)?;
                    return Ok(Next::EnterEni { to: eni, from: None });
                }
                RouteTarget::Blackhole => return Err(drop(DropReason::Blackhole, Component::RouteTable(table))),
                // The loader admits nothing else in a gateway route table.
                _ => return Err(drop(DropReason::NotReachableVia, Component::RouteTable(table))),
            }
        }
        let Some(&to) = self.addresses.vpc.get(&(vpc, meta.dst)) else {
            return Err(drop(DropReason::NoDestination, Component::Vpc(vpc)));
        };
        Ok(Next::EnterEni { to, from: None })
    }

    /// Out through a gateway endpoint, privately, to its service: the source
    /// stays the instance's private address, and the endpoint remembers the
    /// flow so the service's replies come back the same way.
    pub(crate) fn gateway_endpoint_out(&mut self, meta: &mut Meta, ep: GatewayEndpointIdx, vpc: VpcIdx) -> Hop {
        let t = self.t;
        let at = Component::GatewayEndpoint(ep);
        self.cross(at);
        if !self.addresses.vpc.contains_key(&(vpc, meta.src)) {
            // Not from inside the VPC: a transit gateway, a VPN (AWS).
            return Err(drop(DropReason::NotReachableVia, at));
        }
        let service = t.gateway_endpoint(ep).service;
        let to = match self.addresses.internet.get(&meta.dst) {
            Some(&InternetOwner::Host(to)) if service_of(t, to) == Some(service) => to,
            // In the service's ranges, but no front door of it answers there.
            _ => return Err(drop(DropReason::NoDestination, at)),
        };
        self.fits(meta, t.eni(to).mtu, at)?;
        let key = (meta.proto, meta.dst, meta.dst_port, meta.src, meta.src_port);
        self.gateway_flows.insert(key, GatewayFlow { endpoint: ep, vpc }, self.now);
        Ok(Next::Deliver { to, src_mac: INTERNET_ROUTER_MAC })
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
            self.say(|| "the packet was translated by a NAT gateway already".into());
            return Err(drop(DropReason::NotReachableVia, at));
        }
        let dest_port = match meta.proto {
            _ if !meta.is_ipv4() => None,
            Protocol::TCP | Protocol::UDP if !meta.fragment => Some(meta.dst_port),
            Protocol::ICMP if meta.is_echo_request() => Some(0),
            _ => None,
        };
        let Some(dest_port) = dest_port else {
            self.say(|| "a NAT gateway translates IPv4 TCP, UDP and ICMP echo only".into());
            return Err(drop(DropReason::NotReachableVia, at));
        };
        let nat_ip = t.eni(nat.eni).ipv4;
        let dest = Destination { nat: n, proto: meta.proto, ip: meta.dst, port: dest_port };
        let inside = (meta.src, meta.src_port);
        let Some(port) = self.nat.outbound(dest, inside, self.now) else {
            let (ip, p) = (meta.dst, meta.dst_port);
            let proto = Protocol::from_number(meta.proto);
            self.say(|| {
                format!("no port left for another {proto} connection to {ip} port {p} (at most {PORTS_PER_DESTINATION} at once per destination)")
            });
            return Err(drop(DropReason::NatPortExhausted, at));
        };
        self.rewrite_traced(meta, Rewrite::Nat { nat: n, side: Side::Source, to: (nat_ip, port) });
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
            self.say(|| {
                format!(
                    "no session of {id} matches: a NAT gateway lets in only the replies of connections it translated"
                )
            });
            return Err(drop(DropReason::NoSession, at));
        };
        self.rewrite_traced(meta, Rewrite::Nat { nat: n, side: Side::Destination, to: (inside, inside_port) });
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
            self.say(|| "an egress-only internet gateway carries IPv6 only".into());
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
    fn egress_only_in(&mut self, meta: &mut Meta, vpc: VpcIdx) -> Option<Hop> {
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
        self.say(|| {
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
            self.say(|| {
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

/// The AWS service whose front door this ENI is.
fn service_of(t: &Topology, eni: EniIdx) -> Option<vpcsim_model::ServiceIdx> {
    match t.eni(eni).owner {
        EniOwner::Host(h) => t.host(h).service,
        EniOwner::InterfaceEndpoint(_) | EniOwner::LoadBalancer(_) | EniOwner::NatGateway(_) => None,
    }
}
