//! The VPC router: an ENI of a subnet sends (its source/destination check,
//! then security-group egress), the subnet's route table decides where the
//! packet goes (leaving the subnet: NACL egress and a router hop), and an ENI
//! receives it (NACL ingress from outside its subnet, security-group ingress,
//! the destination check) or hands it to what owns the ENI (a NAT gateway,
//! an interface endpoint, a load balancer).

use vpcsim_model::{EniIdx, EniOwner, RouteTarget, SubnetIdx};

use super::cx::{Cx, Hop, Next, drop};
use crate::trace::{Component, Direction, DropReason};
use crate::wire::packet::{self, Meta};

impl Cx<'_> {
    /// A frame sent by an ENI in a subnet.
    pub(crate) fn sent_in_subnet(&mut self, meta: &mut Meta, at: EniIdx, s: SubnetIdx) -> Hop {
        let t = self.t;
        let eni = t.eni(at);
        if !eni.owns(meta.src) {
            if eni.source_dest_check {
                return Err(drop(DropReason::SourceDestCheck, Component::Eni(at)));
            }
            if matches!(eni.owner, EniOwner::Host(_)) {
                // A middlebox forwarding: its own router hop. At TTL 1 it
                // drops the packet (no ICMP error: its source is elsewhere).
                if meta.ttl <= 1 {
                    return Err(drop(DropReason::TtlExceeded, Component::Eni(at)));
                }
                packet::decrement_ttl(self.out, meta);
            }
        }
        self.security_groups(meta, at, Direction::Egress)?;
        Ok(Next::RouteFrom(s))
    }

    /// Out of subnet `s` through the VPC router: the subnet's NACL egress
    /// rules, then a hop.
    fn leave_subnet(&mut self, meta: &mut Meta, s: SubnetIdx) -> Hop<()> {
        let vpc = self.t.subnet(s).vpc;
        self.nacl(meta, s, Direction::Egress)?;
        self.hop(meta, Component::Vpc(vpc))
    }

    /// The route table of subnet `s` decides where a packet leaving an ENI of
    /// the subnet (an instance's, or a NAT gateway's) goes. The loop has
    /// counted the lookup (`count_route_lookup`).
    pub(crate) fn route_from(&mut self, meta: &mut Meta, s: SubnetIdx) -> Hop {
        let t = self.t;
        let subnet = t.subnet(s);
        let route = self.route_lookup(meta, subnet.route_table, None)?;
        match route.target {
            RouteTarget::Blackhole => Err(drop(DropReason::Blackhole, Component::RouteTable(subnet.route_table))),
            RouteTarget::Local => {
                let leaves = !subnet.contains(meta.dst);
                if leaves {
                    self.nacl(meta, s, Direction::Egress)?;
                }
                let Some(&to) = self.addresses.vpc.get(&(subnet.vpc, meta.dst)) else {
                    return Err(drop(DropReason::NoDestination, Component::Vpc(subnet.vpc)));
                };
                if leaves {
                    self.hop(meta, Component::Vpc(subnet.vpc))?;
                }
                Ok(Next::EnterEni { to, from: Some(s) })
            }
            RouteTarget::Eni(to) => {
                let leaves = t.eni(to).subnet() != Some(s);
                if leaves {
                    self.leave_subnet(meta, s)?;
                }
                Ok(Next::EnterEni { to, from: Some(s) })
            }
            RouteTarget::InternetGateway(igw) => {
                self.leave_subnet(meta, s)?;
                Ok(Next::IgwOut(igw))
            }
            RouteTarget::GatewayEndpoint(ep) => {
                self.leave_subnet(meta, s)?;
                Ok(Next::GatewayEndpointOut { ep, vpc: subnet.vpc })
            }
            RouteTarget::NatGateway(n) => {
                if t.nat_gateway(n).subnet != s {
                    self.leave_subnet(meta, s)?;
                }
                Ok(Next::NatOut { nat: n, from: s })
            }
            RouteTarget::GwlbEndpoint(ep) => {
                if self.after_gwlb == Some(ep) {
                    // Straight back into the endpoint it came out of: a loop.
                    return Err(drop(DropReason::NoRoute, Component::RouteTable(subnet.route_table)));
                }
                let eni = self.gwlb_endpoint_eni(ep, subnet.route_table)?;
                if t.eni(eni).subnet() != Some(s) {
                    self.leave_subnet(meta, s)?;
                }
                Ok(Next::EnterEni { to: eni, from: Some(s) })
            }
            RouteTarget::EgressOnlyInternetGateway(g) => {
                self.leave_subnet(meta, s)?;
                Ok(Next::EigwOut(g))
            }
            RouteTarget::Peering(peering) => {
                self.leave_subnet(meta, s)?;
                Ok(Next::PeeringOut { peering, from: subnet.vpc })
            }
            RouteTarget::TransitGateway(tg) => {
                self.leave_subnet(meta, s)?;
                Ok(Next::TgwFromVpc { tg, from: s })
            }
            RouteTarget::VpnGateway(g) => {
                self.leave_subnet(meta, s)?;
                Ok(Next::VgwOut(g))
            }
        }
    }

    /// Into a VPC ENI: the destination subnet's NACL ingress (when coming from
    /// outside it), the ENI's security groups, its source/destination check.
    /// A NAT gateway's ENI hands the packet to the NAT gateway.
    pub(crate) fn enter_eni(&mut self, meta: &mut Meta, to: EniIdx, from: Option<SubnetIdx>) -> Hop {
        let t = self.t;
        let eni = t.eni(to);
        if let EniOwner::NatGateway(n) = eni.owner {
            return Ok(Next::NatIn { nat: n, from });
        }
        let Some(dest_subnet) = eni.subnet() else {
            // Internet ENIs are reached through `internet`, never by a VPC route.
            return Err(drop(DropReason::NoDestination, Component::Eni(to)));
        };
        self.fits(meta, eni.mtu, Component::Vpc(t.subnet(dest_subnet).vpc))?;
        let routed = from != Some(dest_subnet);
        if routed {
            self.nacl(meta, dest_subnet, Direction::Ingress)?;
        }
        self.security_groups(meta, to, Direction::Ingress)?;
        match eni.owner {
            // The endpoint's ENI passes the packet on to the service.
            EniOwner::InterfaceEndpoint(ep) => return Ok(Next::InterfaceEndpointIn { ep, eni: to }),
            EniOwner::LoadBalancer(lb) => return Ok(Next::LoadBalancerBack(lb)),
            // Handled above, before any filter.
            EniOwner::Host(_) | EniOwner::NatGateway(_) => {}
        }
        if eni.source_dest_check && !eni.owns(meta.dst) {
            return Err(drop(DropReason::SourceDestCheck, Component::Eni(to)));
        }
        // Inside one subnet the frame keeps its sender's MAC; across a router it
        // comes from the router's interface in the destination subnet.
        let src_mac = if routed {
            t.subnet(dest_subnet).router_mac
        } else {
            let mut mac = [0; 6];
            mac.copy_from_slice(&self.out[6..12]);
            mac
        };
        Ok(Next::Deliver { to, src_mac })
    }
}
