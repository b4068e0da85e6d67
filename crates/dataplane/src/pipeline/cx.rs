//! One frame's pass: the fabric's parts, borrowed ([`Cx`]), what a stage
//! hands the packet to ([`Next`]), and the steps every stage shares (a router
//! hop, the MTU, a route lookup, network ACLs, security groups, the trace).
//! Stages use this; this uses no stage.

use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use vpcsim_model::{
    EndpointState, EniIdx, EniOwner, GatewayEndpointIdx, IgwIdx, InterfaceEndpointIdx, LoadBalancerIdx, NatGatewayIdx,
    RouteTableIdx, SgIdx, SubnetIdx, Topology, VpcIdx,
};

use crate::state::addresses::Addresses;
use crate::state::conntrack::{Conntrack, FlowKey};
use crate::state::counters::Counters;
use crate::state::endpoints::{EndpointFlow, Endpoints};
use crate::state::fib::{Fib, FibEntry, beaten_routes};
use crate::state::filter::Filters;
use crate::state::flows::{EgressFlows, GatewayFlows};
use crate::state::nat::NatTable;
use crate::state::transit::Transit;
use crate::trace::{Component, Direction, Drop, DropReason, SgDecision, Step, Trace};
use crate::wire::packet::{self, IcmpError, Meta, Parsed, Side};

/// What happened to a frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// `out` holds the frame as it arrives at this ENI.
    Deliver(EniIdx),
    /// `out` holds an answer (ARP, neighbour discovery) for the ENI that sent the frame.
    Reply(EniIdx),
    /// A service of the fabric (the Amazon DNS server) answered: `out` holds
    /// the answer for the ENI that asked.
    Answered(EniIdx),
    /// The frame died.
    Drop(Drop),
    /// The frame died, and the router answered its source with an ICMP error
    /// (time exceeded, fragmentation needed / packet too big), which `out`
    /// holds, for this ENI.
    Bounce(Drop, EniIdx),
    /// Nothing to do (an ARP reply, or a request nobody answers).
    Absorbed,
}

impl Verdict {
    /// The drop, if the frame died.
    pub fn dropped(&self) -> Option<Drop> {
        match *self {
            Verdict::Drop(d) | Verdict::Bounce(d, _) => Some(d),
            _ => None,
        }
    }
}

/// One frame's pass: the fabric's parts, borrowed.
pub(crate) struct Cx<'a> {
    pub(crate) t: &'a Topology,
    pub(crate) fibs: &'a [Fib],
    pub(crate) filters: &'a Filters,
    pub(crate) addresses: &'a Addresses,
    pub(crate) transit: &'a Transit,
    pub(crate) conntrack: &'a mut Conntrack,
    pub(crate) gateway_flows: &'a mut GatewayFlows,
    pub(crate) endpoints: &'a mut Endpoints,
    pub(crate) counters: &'a mut Counters,
    pub(crate) trace: &'a mut Trace,
    pub(crate) now: Duration,
    pub(crate) out: &'a mut Vec<u8>,
    /// Set with a drop that a router answers with an ICMP error.
    pub(crate) bounce: Option<IcmpError>,
    pub(crate) nat: &'a mut NatTable,
    pub(crate) egress_flows: &'a mut EgressFlows,
    /// Route lookups so far for this frame: a bound against routing loops.
    pub(crate) routed: u16,
    /// A NAT gateway has translated this frame already.
    pub(crate) natted: bool,
    /// Why the frame dropped, in words, for the trace (set only when tracing).
    pub(crate) detail: Option<String>,
    /// The Gateway Load Balancer endpoint this frame just came back out of.
    pub(crate) after_gwlb: Option<InterfaceEndpointIdx>,
    /// The endpoint flow a reply rides, for [`Next::InterfaceEndpointBack`]:
    /// kept here, not in the variant, so that [`Next`] stays a few words
    /// wide and every stage's return stays cheap.
    pub(crate) endpoint_flow: Option<EndpointFlow>,
}

pub(crate) type Hop<T = Next> = Result<T, Drop>;

/// What a stage of the pipeline hands the packet to: the next stage, or
/// delivery. A drop is `Err(Drop)` of the stage's [`Hop`]. [`Cx::run`] holds
/// the one loop that dispatches them, in the order a packet meets them.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Next {
    /// ENI `eni` of subnet `subnet` sends the packet: its source/destination
    /// check and security-group egress (`sent_in_subnet`).
    Sent { eni: EniIdx, subnet: SubnetIdx },
    /// A host on the internet sends the packet (`sent_on_internet`).
    SentOnInternet(EniIdx),
    /// A host on premises sends the packet (`sent_on_premises`).
    SentOnPremises { eni: EniIdx, onprem: vpcsim_model::OnPremIdx },
    /// The route table of the subnet decides (`route_from`): one route lookup.
    RouteFrom(SubnetIdx),
    /// Into an ENI: NACL ingress, security-group ingress, then what owns it
    /// (`enter_eni`). `from`: the subnet the packet comes from, if any.
    EnterEni { to: EniIdx, from: Option<SubnetIdx> },
    /// Out through a gateway endpoint to its service (`gateway_endpoint_out`).
    GatewayEndpointOut { ep: GatewayEndpointIdx, vpc: VpcIdx },
    /// Out of a VPC through its internet gateway (`igw_out`).
    IgwOut(IgwIdx),
    /// Out through an egress-only internet gateway (`eigw_out`).
    EigwOut(vpcsim_model::EgressOnlyIgwIdx),
    /// The internet's router (`internet`).
    Internet,
    /// Into a VPC through its internet gateway (`igw_in`).
    IgwIn { igw: IgwIdx, vpc: VpcIdx },
    /// Into a VPC through a gateway: its gateway route table, or the local
    /// route (`enter_vpc`).
    EnterVpc { gateway: Component, vpc: VpcIdx, edge: Option<RouteTableIdx> },
    /// Across a peering connection (`peering_out`).
    PeeringOut { peering: vpcsim_model::PeeringIdx, from: VpcIdx },
    /// A route to a NAT gateway (`nat_out`).
    NatOut { nat: vpcsim_model::NatGatewayIdx, from: SubnetIdx },
    /// A packet at a NAT gateway's own address (`nat_in`).
    NatIn { nat: vpcsim_model::NatGatewayIdx, from: Option<SubnetIdx> },
    /// Through an interface endpoint's ENI to its service
    /// (`interface_endpoint_in`).
    InterfaceEndpointIn { ep: InterfaceEndpointIdx, eni: EniIdx },
    /// A reply back through an interface endpoint (`interface_endpoint_back`),
    /// on the flow in [`Cx::endpoint_flow`].
    InterfaceEndpointBack,
    /// A packet at a load balancer's node (`load_balancer_back`).
    LoadBalancerBack(LoadBalancerIdx),
    /// Into a Gateway Load Balancer, encapsulated (`gwlb_in`).
    GwlbIn { ep: InterfaceEndpointIdx, eni: EniIdx },
    /// A GENEVE message back from an appliance (`gwlb_back`).
    GwlbBack(LoadBalancerIdx),
    /// A route to a transit gateway (`tgw_from_vpc`).
    TgwFromVpc { tg: vpcsim_model::TransitGatewayIdx, from: SubnetIdx },
    /// Inside a transit gateway: one route lookup (`tgw_forward`).
    TgwForward {
        tg: vpcsim_model::TransitGatewayIdx,
        ingress: vpcsim_model::TgwAttachmentIdx,
        came_from: Option<SubnetIdx>,
    },
    /// Out through a VPN gateway (`vgw_out`).
    VgwOut(vpcsim_model::VpnGatewayIdx),
    /// Over a VPN connection to its on-premises network (`vpn_to_onprem`).
    VpnToOnPrem(vpcsim_model::VpnConnectionIdx),
    /// The frame arrives at ENI `to`, from `src_mac`.
    Deliver { to: EniIdx, src_mac: [u8; 6] },
}

pub(crate) fn drop(reason: DropReason, at: Component) -> Drop {
    Drop { reason, at }
}

impl Cx<'_> {
    /// Drops the frame and answers its source with an ICMP error from the
    /// router of the source's subnet, quoting the packet as it was sent.
    pub(crate) fn bounced(&mut self, d: Drop, error: IcmpError, at: EniIdx, frame: &[u8]) -> Verdict {
        let t = self.t;
        let eni = t.eni(at);
        let Some(subnet) = eni.subnet().map(|s| t.subnet(s)) else {
            return self.dropped(d, None);
        };
        let Ok(Parsed::Ip(meta)) = packet::parse(frame) else {
            return self.dropped(d, None);
        };
        let (router, to) = match meta.src {
            IpAddr::V4(_) => (IpAddr::V4(subnet.router_ip()), IpAddr::V4(eni.ipv4)),
            IpAddr::V6(_) => match (subnet.router_ipv6(), eni.ipv6) {
                (Some(r), Some(e)) => (IpAddr::V6(r), IpAddr::V6(e)),
                _ => return self.dropped(d, None),
            },
        };
        let ip_packet = &frame[meta.l3..(meta.l3 + meta.ip_len).min(frame.len())];
        packet::icmp_error(self.out, error, (subnet.router_mac, router), (eni.mac, to), ip_packet);
        self.trace.record(|| Step::Dropped { drop: d, detail: None });
        self.trace.record(|| Step::Bounced { eni: at, error });
        Verdict::Bounce(d, at)
    }

    pub(crate) fn dropped(&mut self, d: Drop, detail: Option<String>) -> Verdict {
        self.trace.record(|| Step::Dropped { drop: d, detail });
        Verdict::Drop(d)
    }

    pub(crate) fn say(&mut self, f: impl FnOnce() -> String) {
        if self.trace.enabled {
            self.detail = Some(f());
        }
    }

    /// The routing-loop guard: one more route lookup (VPC or TGW) for this
    /// frame, or a `no-route` drop at `at` once there have been too many.
    pub(crate) fn count_route_lookup(&mut self, at: Component) -> Hop<()> {
        self.routed += 1;
        if self.routed > MAX_ROUTE_LOOKUPS {
            self.say(|| "routing loop: too many route lookups for one packet".into());
            return Err(drop(DropReason::NoRoute, at));
        }
        Ok(())
    }

    pub(crate) fn cross(&mut self, c: Component) {
        self.trace.record(|| Step::Crossed { component: c });
    }

    /// A router hop: the TTL / hop limit goes down by one, or the packet dies
    /// and its source hears of it.
    pub(crate) fn hop(&mut self, meta: &mut Meta, at: Component) -> Hop<()> {
        if meta.ttl <= 1 {
            self.bounce = Some(IcmpError::TimeExceeded);
            return Err(drop(DropReason::TtlExceeded, at));
        }
        packet::decrement_ttl(self.out, meta);
        Ok(())
    }

    /// Whether the packet fits the next hop's MTU. A router does not fragment:
    /// it drops, and tells the source the MTU when the packet may not be
    /// fragmented (IPv6 always, IPv4 with DF set), so the source's stack can adapt.
    pub(crate) fn fits(&mut self, meta: &Meta, mtu: u16, at: Component) -> Hop<()> {
        if meta.ip_len <= usize::from(mtu) {
            return Ok(());
        }
        if meta.dont_fragment {
            self.bounce = Some(IcmpError::TooBig { mtu });
        }
        Err(drop(DropReason::MtuExceeded, at))
    }

    /// `gateway`: the gateway the packet enters the VPC through, when `table`
    /// is that gateway's route table.
    pub(crate) fn route_lookup(
        &mut self,
        meta: &Meta,
        table: RouteTableIdx,
        gateway: Option<Component>,
    ) -> Hop<FibEntry> {
        let t = self.t;
        let found = self.fibs[table.index()].lookup(meta.dst).copied();
        self.trace.record(|| Step::RouteLookup {
            table,
            gateway,
            dest: meta.dst,
            winner: found.map(|e| e.route),
            beaten: found.map(|e| beaten_routes(t, t.route_table(table), meta.dst, e.route)).unwrap_or_default(),
        });
        found.ok_or(drop(DropReason::NoRoute, Component::RouteTable(table)))
    }

    pub(crate) fn nacl(&mut self, meta: &Meta, s: SubnetIdx, direction: Direction) -> Hop<()> {
        let nacl = self.t.subnet(s).nacl;
        let decision = self.filters.nacl(self.t, nacl, direction, meta);
        self.trace.record(|| Step::Nacl { nacl, subnet: s, direction, decision });
        if decision.allows() {
            Ok(())
        } else {
            let reason = match direction {
                Direction::Ingress => DropReason::NaclIngress,
                Direction::Egress => DropReason::NaclEgress,
            };
            Err(drop(reason, Component::Nacl(nacl)))
        }
    }

    /// An ENI's security groups: a tracked flow passes; an ICMP error about a
    /// tracked flow passes; otherwise a rule must allow it, and the flow is
    /// tracked from then on.
    pub(crate) fn security_groups(&mut self, meta: &Meta, eni: EniIdx, direction: Direction) -> Hop<()> {
        let t = self.t;
        let now = self.now;
        // Load balancer nodes and Gateway Load Balancer endpoints have no
        // security groups: nothing to filter.
        if !matches!(t.eni(eni).owner, EniOwner::Host(_)) && t.eni(eni).security_groups.is_empty() {
            return Ok(());
        }
        let key = FlowKey::new(eni, direction, meta);
        let at = Component::SecurityGroups(eni);
        if self.conntrack.track(&key, direction, meta, now) {
            self.trace.record(|| Step::SecurityGroup { eni, direction, decision: SgDecision::Tracked });
            return Ok(());
        }
        if meta.is_icmp_error()
            && let Some((proto, src, dst, sp, dp)) = packet::quoted_flow(self.out, meta)
        {
            // The quoted packet went the other way through this ENI.
            let quoted = FlowKey::from_parts(eni, opposite(direction), proto, src, dst, sp, dp);
            if self.conntrack.get(&quoted).is_some_and(|e| e.expires > now) {
                self.trace.record(|| Step::SecurityGroup { eni, direction, decision: SgDecision::Related });
                return Ok(());
            }
        }
        let addresses = self.addresses;
        let member_of = |sg: SgIdx, ip: IpAddr| {
            let vpc = t.security_group(sg).vpc;
            addresses.vpc.get(&(vpc, ip)).is_some_and(|&e| t.eni(e).security_groups.contains(&sg))
        };
        match self.filters.security_groups(t, &t.eni(eni).security_groups, direction, meta, member_of) {
            Some((sg, index)) => {
                self.trace.record(|| Step::SecurityGroup { eni, direction, decision: SgDecision::Rule { sg, index } });
                if self.conntrack.open(key, direction, meta, now) {
                    Ok(())
                } else {
                    Err(drop(DropReason::ConntrackFull, at))
                }
            }
            None => {
                self.trace.record(|| Step::SecurityGroup { eni, direction, decision: SgDecision::Denied });
                let reason = match direction {
                    Direction::Ingress => DropReason::SgIngress,
                    Direction::Egress => DropReason::SgEgress,
                };
                Err(drop(reason, at))
            }
        }
    }

    /// Every address or port translation of the pipeline: rewrites the
    /// frame in place (checksums patched) and records the step, before and
    /// after, in the trace.
    pub(crate) fn rewrite_traced(&mut self, meta: &mut Meta, rewrite: Rewrite) {
        match rewrite {
            Rewrite::Ends { at, src, dst } => {
                let before = (meta.src, meta.src_port, meta.dst, meta.dst_port);
                if let (IpAddr::V4(s), IpAddr::V4(d)) = (src.0, dst.0) {
                    packet::rewrite_ipv4(self.out, meta, Side::Source, s);
                    packet::rewrite_ipv4(self.out, meta, Side::Destination, d);
                }
                packet::rewrite_port(self.out, meta, Side::Source, src.1);
                packet::rewrite_port(self.out, meta, Side::Destination, dst.1);
                let after = (meta.src, meta.src_port, meta.dst, meta.dst_port);
                self.trace.record(|| Step::Rewritten { at, before, after });
            }
            Rewrite::Address { at, side, to } => {
                let from = end(meta, side).0;
                packet::rewrite_ipv4(self.out, meta, side, to);
                self.trace.record(|| Step::Translated { at, side, from, to: to.into() });
            }
            Rewrite::Nat { nat, side, to } => {
                let from = end(meta, side);
                let other = opposite_side(side);
                // The remote end as the outside sees it: after a source
                // rewrite, before a destination rewrite (they differ for an
                // ICMP echo only, whose identifier is both ports).
                let outside = end(meta, other);
                packet::rewrite_ipv4(self.out, meta, side, to.0);
                packet::rewrite_port(self.out, meta, side, to.1);
                let remote = if side == Side::Source { end(meta, other) } else { outside };
                let proto = meta.proto;
                self.trace.record(|| Step::NatTranslated {
                    nat,
                    side,
                    proto,
                    from,
                    to: (IpAddr::V4(to.0), to.1),
                    remote,
                });
            }
        }
    }

    /// The ENI a route in `table` to Gateway Load Balancer endpoint `ep` sends
    /// to. Once the endpoint is deleted the route's target is gone, and AWS
    /// shows the route as a blackhole.
    pub(crate) fn gwlb_endpoint_eni(&self, ep: InterfaceEndpointIdx, table: RouteTableIdx) -> Hop<EniIdx> {
        if self.endpoints.states[ep.index()] == EndpointState::Deleted {
            return Err(drop(DropReason::Blackhole, Component::RouteTable(table)));
        }
        self.t
            .interface_endpoint(ep)
            .enis
            .first()
            .copied()
            .ok_or(drop(DropReason::NoDestination, Component::InterfaceEndpoint(ep)))
    }

    /// Whether a load balancer target fails its health checks.
    pub(crate) fn target_down(&self, h: vpcsim_model::HostIdx) -> bool {
        self.endpoints.targets_down.contains(&h)
    }
}

/// Route lookups one frame may make: a bound on the work of a routing loop.
/// Every lap of a loop through routers decrements the TTL, so a loop ends
/// as AWS ends it, `ttl-exceeded`, long before this (a TTL is at most 255);
/// the bound catches only a loop that no router counts, as `no-route`.
pub(crate) const MAX_ROUTE_LOOKUPS: u16 = 1024;

/// A translation [`Cx::rewrite_traced`] makes, and the step it records.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Rewrite {
    /// Both ends, addresses (IPv4) and ports, at `at` (an interface
    /// endpoint, a load balancer): `Step::Rewritten`.
    Ends { at: Component, src: (IpAddr, u16), dst: (IpAddr, u16) },
    /// One IPv4 address, 1:1, at `at` (an internet gateway): `Step::Translated`.
    Address { at: Component, side: Side, to: Ipv4Addr },
    /// One IPv4 address and port (or echo identifier) by NAT gateway `nat`:
    /// `Step::NatTranslated`.
    Nat { nat: NatGatewayIdx, side: Side, to: (Ipv4Addr, u16) },
}

/// One end of the packet: address and port.
fn end(meta: &Meta, side: Side) -> (IpAddr, u16) {
    match side {
        Side::Source => (meta.src, meta.src_port),
        Side::Destination => (meta.dst, meta.dst_port),
    }
}

fn opposite_side(side: Side) -> Side {
    match side {
        Side::Source => Side::Destination,
        Side::Destination => Side::Source,
    }
}

fn opposite(d: Direction) -> Direction {
    match d {
        Direction::Ingress => Direction::Egress,
        Direction::Egress => Direction::Ingress,
    }
}
