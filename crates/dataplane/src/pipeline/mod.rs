//! The pipeline: the stages a packet goes through, and the one loop that
//! runs them ([`Cx::run`]). Each stage is a method of [`Cx`] in the file of
//! its family and returns what comes next ([`Next`]) or a drop; no stage
//! calls another. The loop's arms are the stages, in the order a packet meets
//! them.
//!
//! - `neighbours`: ARP and neighbour discovery, answered by the router;
//! - `link_local`: the Amazon DNS server, the instance metadata service and
//!   the time service, answered before any filter;
//! - `vpc`: the VPC router: an ENI sends (source/destination check,
//!   security-group egress), the subnet's route table decides, an ENI
//!   receives (NACL ingress, security-group ingress, delivery);
//! - `gateways`: the internet and its gateways (internet gateways,
//!   egress-only internet gateways, gateway endpoints, the gateway route
//!   tables of edge associations), NAT gateways, peering connections;
//! - `endpoints`: interface endpoints (PrivateLink), both ways;
//! - `load_balancers`: network load balancers behind endpoint services,
//!   Gateway Load Balancers (GENEVE to appliances and back);
//! - `transit`: transit gateways, VPN gateways, on-premises networks.
//!
//! `cx` holds what they share. Stages use `state` and `wire`, and each other
//! only through [`Next`].

mod cx;
mod endpoints;
mod gateways;
mod link_local;
mod load_balancers;
mod neighbours;
mod transit;
mod vpc;

pub(crate) use cx::Cx;
pub use cx::Verdict;

use vpcsim_model::{Attachment, EniIdx, Protocol};

use crate::trace::{Component, DropReason, Step};
use crate::wire::packet::{self, Parsed};
use cx::{Next, drop};

impl Cx<'_> {
    pub(crate) fn run(&mut self, at: EniIdx, frame: &[u8]) -> Verdict {
        let Some(eni) = self.t.enis.get(at.index()) else {
            // A caller bug, not user input: still no panic.
            return self.dropped(drop(DropReason::Malformed, Component::Internet), Some("unknown ENI".into()));
        };
        let mut meta = match packet::parse(frame) {
            Ok(Parsed::Ip(meta)) => meta,
            Ok(Parsed::Arp(arp)) => return self.answer_arp(at, &arp),
            Err(m) => {
                return self.dropped(drop(DropReason::Malformed, Component::Eni(at)), Some(m.to_string()));
            }
        };
        if meta.proto == Protocol::ICMPV6 && meta.icmp.is_some_and(|(t, _)| packet::NDP_TYPES.contains(&t)) {
            return self.answer_ndp(at, &meta, frame);
        }
        self.out.clear();
        self.out.extend_from_slice(frame);
        self.trace.record(|| Step::Sent { eni: at, packet: meta });
        if let Some(from) = self.dns_query(at, &meta) {
            return self.answer_dns(at, &meta, frame, from);
        }
        if let Some(answered) = self.link_local(at, &meta, frame) {
            return answered;
        }
        let mut next = match eni.attachment {
            Attachment::Subnet(subnet) => Next::Sent { eni: at, subnet },
            Attachment::Internet => Next::SentOnInternet(at),
            Attachment::OnPrem(onprem) => Next::SentOnPremises { eni: at, onprem },
        };
        // The one loop: each stage says what comes next. Every cycle of
        // stages passes a route lookup (`RouteFrom`, `TgwForward`), so the
        // routing-loop guard bounds it.
        let meta = &mut meta;
        let result = loop {
            let step = match next {
                Next::Sent { eni, subnet } => self.sent_in_subnet(meta, eni, subnet),
                Next::SentOnInternet(eni) => self.sent_on_internet(meta, eni),
                Next::SentOnPremises { eni, onprem } => self.sent_on_premises(meta, eni, onprem),
                Next::RouteFrom(s) => {
                    let table = Component::RouteTable(self.t.subnet(s).route_table);
                    self.count_route_lookup(table).and_then(|()| self.route_from(meta, s))
                }
                Next::EnterEni { to, from } => self.enter_eni(meta, to, from),
                Next::GatewayEndpointOut { ep, vpc } => self.gateway_endpoint_out(meta, ep, vpc),
                Next::IgwOut(igw) => self.igw_out(meta, igw),
                Next::EigwOut(g) => self.eigw_out(meta, g),
                Next::Internet => self.internet(meta),
                Next::IgwIn { igw, vpc } => self.igw_in(meta, igw, vpc),
                Next::EnterVpc { gateway, vpc, edge } => self.enter_vpc(meta, gateway, vpc, edge),
                Next::PeeringOut { peering, from } => self.peering_out(meta, peering, from),
                Next::NatOut { nat, from } => self.nat_out(meta, nat, from),
                Next::NatIn { nat, from } => self.nat_in(meta, nat, from),
                Next::InterfaceEndpointIn { ep, eni } => self.interface_endpoint_in(meta, ep, eni),
                Next::InterfaceEndpointBack => match self.endpoint_flow.take() {
                    Some(flow) => self.interface_endpoint_back(meta, flow),
                    // Every stage that returns it stores its flow first.
                    None => Err(drop(DropReason::NotReachableVia, Component::Internet)),
                },
                Next::LoadBalancerBack(lb) => self.load_balancer_back(meta, lb),
                Next::GwlbIn { ep, eni } => self.gwlb_in(meta, ep, eni),
                Next::GwlbBack(lb) => self.gwlb_back(meta, lb),
                Next::TgwFromVpc { tg, from } => self.tgw_from_vpc(meta, tg, from),
                Next::TgwForward { tg, ingress, came_from } => {
                    // The transit gateway is crossed before its lookup is counted.
                    self.cross(Component::TransitGateway(tg));
                    self.count_route_lookup(Component::TransitGateway(tg))
                        .and_then(|()| self.tgw_forward(meta, tg, ingress, came_from))
                }
                Next::VgwOut(g) => self.vgw_out(meta, g),
                Next::VpnToOnPrem(c) => self.vpn_to_onprem(meta, c),
                Next::Deliver { to, src_mac } => {
                    packet::set_macs(self.out, src_mac, self.t.eni(to).mac);
                    self.trace.record(|| Step::Delivered { eni: to });
                    break Ok(to);
                }
            };
            match step {
                Ok(n) => next = n,
                Err(d) => break Err(d),
            }
        };
        match result {
            Ok(to) => Verdict::Deliver(to),
            Err(d) => match self.bounce.take() {
                Some(error) if !meta.is_icmp_error() => self.bounced(d, error, at, frame),
                _ => {
                    let detail = self.detail.take();
                    self.dropped(d, detail)
                }
            },
        }
    }
}
