//! Transit gateways, VPN gateways and on-premises networks, as stages of
//! the one pipeline.
//!
//! - A route to a **transit gateway** leaves the VPC through the attachment's
//!   ENI in the source subnet's AZ: the attachment subnet's NACL ingress
//!   applies (when it is another subnet). A subnet in an AZ where the
//!   attachment has no subnet cannot send to the TGW: dropped at the
//!   attachment with `not-reachable-via`. The TGW (a router: TTL - 1, MTU
//!   8500) looks the destination up in the route table associated with the
//!   attachment the packet came in through (longest prefix, then static
//!   over propagated, then the route written first); a blackhole route drops
//!   with `blackhole`. A VPC attachment delivers through its ENI in the AZ
//!   the packet came from when it has one (another AZ by flow hash
//!   otherwise); with **appliance mode** on, in the AZ a flow hash picks, the
//!   same hash both ways, so both directions of a flow cross one AZ of an
//!   inspection VPC. From that ENI the attachment subnet's route table sends
//!   the packet on (its local route reaches every subnet of the VPC). A VPN
//!   attachment sends it over its connection.
//! - A **VPN gateway** sends over its connection only destinations inside the
//!   on-premises CIDR (`no-route` at the VPN gateway otherwise); from the
//!   connection, traffic enters the VPC by its local route.
//! - An **on-premises network** is one LAN behind one router (base + 1 of its
//!   CIDR, also its DNS server, answered like the internet's resolver). The
//!   router delivers inside the CIDR, and sends over a connection only what
//!   the connection advertises (a VPN gateway: its VPC's CIDR; a transit
//!   gateway: the routes of the table associated with the VPN attachment),
//!   the longest prefix winning; anything else has `no-route`, except a
//!   destination that only a gateway endpoint behind one of its connections
//!   could reach: a gateway endpoint is not usable from on-premises
//!   (`not-reachable-via`, dropped at the endpoint). VPN and Direct Connect
//!   carry 1500 bytes.

use std::net::IpAddr;

use ipnet::IpNet;
use vpcsim_model::{
    EniIdx, GatewayEndpointIdx, OnPremIdx, SubnetIdx, TRANSIT_GATEWAY_MTU, TgwAttachmentIdx, TgwAttachmentKind,
    TgwRouteTarget, Topology, TransitGatewayIdx, VPN_MTU, VpcIdx, VpnConnectionIdx, VpnGatewayIdx, VpnKind,
    VpnTerminal,
};

use super::cx::{Cx, Hop, Next, drop};
use crate::trace::{Component, Direction, DropReason, Step};
use crate::wire::packet::Meta;

/// Calls `f` with every prefix a VPN connection advertises to its
/// on-premises network: a VPN gateway's VPC CIDRs; the routes (but
/// blackholes) of the TGW route table associated with the VPN attachment.
fn advertised(t: &Topology, c: VpnConnectionIdx, mut f: impl FnMut(IpNet)) {
    match t.vpn_connection(c).gateway {
        VpnTerminal::VpnGateway(g) => {
            let vpc = t.vpc(t.vpn_gateway(g).vpc);
            f(IpNet::V4(vpc.cidr));
            if let Some(v6) = vpc.ipv6_cidr {
                f(IpNet::V6(v6));
            }
        }
        VpnTerminal::TransitGateway(_) => {
            let table = t.tgw_vpn_attachment(c).and_then(|a| t.tgw_attachment(a).route_table);
            for r in table.map(|rt| t.tgw_route_table(rt).routes.as_slice()).unwrap_or(&[]) {
                if r.target != TgwRouteTarget::Blackhole {
                    f(r.dest);
                }
            }
        }
    }
}

/// The VPCs behind a VPN connection: a VPN gateway's, or every VPC attached
/// to the transit gateway.
fn vpcs_behind(t: &Topology, c: VpnConnectionIdx, mut f: impl FnMut(VpcIdx)) {
    match t.vpn_connection(c).gateway {
        VpnTerminal::VpnGateway(g) => f(t.vpn_gateway(g).vpc),
        VpnTerminal::TransitGateway(tg) => {
            for a in t.tgw_attachments.iter().filter(|a| a.transit_gateway == tg) {
                if let TgwAttachmentKind::Vpc { vpc, .. } = a.kind {
                    f(vpc);
                }
            }
        }
    }
}

impl Cx<'_> {
    /// A packet routed to transit gateway `tg` from subnet `from`: out
    /// through the attachment's ENI in `from`'s AZ.
    pub(crate) fn tgw_from_vpc(&mut self, meta: &mut Meta, tg: TransitGatewayIdx, from: SubnetIdx) -> Hop {
        let t = self.t;
        let subnet = t.subnet(from);
        let Some(att) = self.transit.vpc_attachment(tg, subnet.vpc) else {
            let at = Component::TransitGateway(tg);
            self.cross(at);
            self.say(|| format!("{} is not attached to {}", t.vpc(subnet.vpc).id, t.transit_gateway(tg).id));
            return Err(drop(DropReason::NotReachableVia, at));
        };
        let subnets = match &t.tgw_attachment(att).kind {
            TgwAttachmentKind::Vpc { subnets, .. } => subnets.as_slice(),
            TgwAttachmentKind::Vpn(_) => &[],
        };
        let Some(&eni_subnet) = subnets.iter().find(|&&s| t.subnet(s).az == subnet.az) else {
            let at = Component::TgwAttachment(att);
            self.cross(at);
            self.say(|| {
                format!(
                    "{} is in {}, where {} has no subnet: a subnet can send to a transit gateway only through the attachment's ENI in its own AZ",
                    subnet.id,
                    subnet.az,
                    t.tgw_attachment(att).id
                )
            });
            return Err(drop(DropReason::NotReachableVia, at));
        };
        if eni_subnet != from {
            self.nacl(meta, eni_subnet, Direction::Ingress)?;
        }
        Ok(Next::TgwForward { tg, ingress: att, came_from: Some(eni_subnet) })
    }

    /// Inside transit gateway `tg`: the route table associated with the
    /// ingress attachment decides; then out through the egress attachment.
    /// `came_from`: the attachment subnet the packet came in through. The
    /// loop has crossed the transit gateway and counted the lookup.
    pub(crate) fn tgw_forward(
        &mut self,
        meta: &mut Meta,
        tg: TransitGatewayIdx,
        ingress: TgwAttachmentIdx,
        came_from: Option<SubnetIdx>,
    ) -> Hop {
        let t = self.t;
        let at = Component::TransitGateway(tg);
        self.hop(meta, at)?;
        let Some(table) = t.tgw_attachment(ingress).route_table else {
            self.say(|| format!("{} is associated with no TGW route table", t.tgw_attachment(ingress).id));
            return Err(drop(DropReason::NoRoute, at));
        };
        let rt = t.tgw_route_table(table);
        let index = &self.transit.tables[table.index()];
        let winner = index.lookup(meta.dst);
        self.trace.record(|| Step::TgwRouteLookup {
            table,
            dest: meta.dst,
            winner,
            beaten: winner.map(|w| index.beaten(meta.dst, w)).unwrap_or_default(),
        });
        let Some(w) = winner else {
            return Err(drop(DropReason::NoRoute, Component::TgwRouteTable(table)));
        };
        let egress = match rt.routes[w].target {
            TgwRouteTarget::Blackhole => return Err(drop(DropReason::Blackhole, Component::TgwRouteTable(table))),
            TgwRouteTarget::Attachment(a) => a,
        };
        self.fits(meta, TRANSIT_GATEWAY_MTU, at)?;
        let attachment = t.tgw_attachment(egress);
        match &attachment.kind {
            TgwAttachmentKind::Vpn(c) => Ok(Next::VpnToOnPrem(*c)),
            TgwAttachmentKind::Vpc { subnets, .. } => {
                let by_hash = || subnets.get(meta.symmetric_flow_hash() as usize % subnets.len().max(1)).copied();
                let az = came_from.map(|s| t.subnet(s).az.as_str());
                let out = if attachment.appliance_mode {
                    by_hash()
                } else {
                    subnets.iter().copied().find(|&s| Some(t.subnet(s).az.as_str()) == az).or_else(by_hash)
                };
                let Some(s) = out else {
                    return Err(drop(DropReason::NoRoute, Component::TgwAttachment(egress)));
                };
                self.cross(Component::TgwAttachment(egress));
                // The attachment's ENI in `s` hands the packet to the VPC:
                // the attachment subnet's route table sends it on.
                Ok(Next::RouteFrom(s))
            }
        }
    }

    /// Over VPN connection `c` to its on-premises network, whose router
    /// delivers to one of its hosts.
    pub(crate) fn vpn_to_onprem(&mut self, meta: &mut Meta, c: VpnConnectionIdx) -> Hop {
        let t = self.t;
        let at = Component::VpnConnection(c);
        self.cross(at);
        self.fits(meta, VPN_MTU, at)?;
        let o = t.vpn_connection(c).onprem;
        let onprem = t.onprem(o);
        let inside = match meta.dst {
            IpAddr::V4(a) => onprem.cidr.contains(&a),
            IpAddr::V6(_) => false,
        };
        if !inside {
            let dst = meta.dst;
            self.say(|| format!("{dst} is not inside {} {}", onprem.id, onprem.cidr));
            return Err(drop(DropReason::NoDestination, Component::OnPrem(o)));
        }
        self.hop(meta, Component::OnPrem(o))?;
        self.onprem_deliver(meta, o)
    }

    /// The on-premises router delivers to the host that owns the destination.
    fn onprem_deliver(&mut self, meta: &Meta, o: OnPremIdx) -> Hop {
        let t = self.t;
        let Some(&to) = self.addresses.onprem.get(&(o, meta.dst)) else {
            return Err(drop(DropReason::NoDestination, Component::OnPrem(o)));
        };
        self.fits(meta, t.eni(to).mtu, Component::OnPrem(o))?;
        Ok(Next::Deliver { to, src_mac: t.onprem(o).router_mac })
    }

    /// Out of a VPC through VPN gateway `g`: only to an on-premises address
    /// of one of its connections.
    pub(crate) fn vgw_out(&mut self, meta: &mut Meta, g: VpnGatewayIdx) -> Hop {
        let t = self.t;
        let at = Component::VpnGateway(g);
        self.cross(at);
        let dst = meta.dst;
        // The connection whose network's CIDR is the longest match; for the
        // same prefix Direct Connect before a VPN (AWS's route priority:
        // Direct Connect BGP, then VPN), then the first declared.
        let conn = t
            .vpn_connections
            .iter()
            .enumerate()
            .filter(|(_, c)| {
                c.gateway == VpnTerminal::VpnGateway(g)
                    && matches!(dst, IpAddr::V4(a) if t.onprem(c.onprem).cidr.contains(&a))
            })
            .min_by_key(|(i, c)| {
                (std::cmp::Reverse(t.onprem(c.onprem).cidr.prefix_len()), c.kind != VpnKind::DirectConnect, *i)
            })
            .map(|(i, _)| i);
        let Some(c) = conn else {
            self.say(|| {
                format!("{dst} is not inside the on-premises CIDR of any connection of {}", t.vpn_gateway(g).id)
            });
            return Err(drop(DropReason::NoRoute, at));
        };
        Ok(Next::VpnToOnPrem(VpnConnectionIdx::from_index(c)))
    }

    /// A frame sent by a host on premises.
    pub(crate) fn sent_on_premises(&mut self, meta: &mut Meta, at: EniIdx, o: OnPremIdx) -> Hop {
        let t = self.t;
        if !t.eni(at).owns(meta.src) {
            return Err(drop(DropReason::SourceDestCheck, Component::Eni(at)));
        }
        let onprem = t.onprem(o);
        let router = Component::OnPrem(o);
        if let IpAddr::V4(a) = meta.dst
            && onprem.cidr.contains(&a)
        {
            return self.onprem_deliver(meta, o);
        }
        // The connections' advertised prefixes: the longest wins.
        let dst = meta.dst;
        let mut best: Option<(u8, VpnConnectionIdx)> = None;
        for (i, c) in t.vpn_connections.iter().enumerate() {
            if c.onprem != o {
                continue;
            }
            let ci = VpnConnectionIdx::from_index(i);
            // The longest prefix; for the same prefix, Direct Connect over a VPN.
            let dx = c.kind == VpnKind::DirectConnect;
            advertised(t, ci, |p| {
                let better = best.is_none_or(|(l, b)| {
                    p.prefix_len() > l
                        || (p.prefix_len() == l && dx && t.vpn_connection(b).kind != VpnKind::DirectConnect)
                });
                if p.contains(&dst) && better {
                    best = Some((p.prefix_len(), ci));
                }
            });
        }
        let Some((_, c)) = best else {
            if let Some(ep) = self.gateway_endpoint_behind(o, dst) {
                let at = Component::GatewayEndpoint(ep);
                self.cross(at);
                self.say(|| {
                    format!(
                        "a gateway endpoint carries only traffic that starts inside its VPC, never from on premises (use an interface endpoint); {} advertises no route to {dst}",
                        onprem.id
                    )
                });
                return Err(drop(DropReason::NotReachableVia, at));
            }
            self.say(|| format!("{dst} is outside {} and no connection of it advertises a route to it", onprem.id));
            return Err(drop(DropReason::NoRoute, router));
        };
        self.hop(meta, router)?;
        let conn_at = Component::VpnConnection(c);
        self.cross(conn_at);
        self.fits(meta, VPN_MTU, conn_at)?;
        match t.vpn_connection(c).gateway {
            VpnTerminal::VpnGateway(g) => {
                self.cross(Component::VpnGateway(g));
                let gateway = t.vpn_gateway(g);
                Ok(Next::EnterVpc { gateway: Component::VpnGateway(g), vpc: gateway.vpc, edge: gateway.route_table })
            }
            VpnTerminal::TransitGateway(tg) => match t.tgw_vpn_attachment(c) {
                Some(att) => Ok(Next::TgwForward { tg, ingress: att, came_from: None }),
                None => Err(drop(DropReason::NoRoute, conn_at)),
            },
        }
    }

    /// A gateway endpoint in a VPC behind a connection of `o` whose service
    /// owns `dst`: what an on-premises host trying that endpoint meets.
    fn gateway_endpoint_behind(&self, o: OnPremIdx, dst: IpAddr) -> Option<GatewayEndpointIdx> {
        let t = self.t;
        let mut found = None;
        for (i, c) in t.vpn_connections.iter().enumerate() {
            if c.onprem != o {
                continue;
            }
            vpcs_behind(t, VpnConnectionIdx::from_index(i), |vpc| {
                if found.is_some() {
                    return;
                }
                found = t
                    .gateway_endpoints
                    .iter()
                    .position(|ep| ep.vpc == vpc && t.service(ep.service).ranges.iter().any(|r| r.contains(&dst)))
                    .map(GatewayEndpointIdx::from_index);
            });
        }
        found
    }
}
