//! Load balancers: a network load balancer's node takes its targets'
//! replies back to the interface endpoint they answer; a Gateway Load
//! Balancer carries each packet, encapsulated in GENEVE (`wire::geneve`), to
//! an appliance chosen by a symmetric flow hash, and takes it back from the
//! appliance to continue its way from the endpoint's subnet.

use std::net::IpAddr;

use etherparse::PacketBuilder;
use vpcsim_model::{EndpointTarget, EniIdx, InterfaceEndpointIdx, LoadBalancerIdx};

use super::cx::{Cx, Hop, Next, drop};
use crate::trace::{Component, DropReason, Step};
use crate::wire::geneve::{GENEVE_PORT, decapsulate, encapsulate};
use crate::wire::packet::{self, Meta, Parsed};

impl Cx<'_> {
    /// A target's reply reaching its load balancer's node: back through the
    /// endpoint to the consumer. Anything else addressed to the node is not for
    /// it: the load balancer serves its endpoint service's endpoints only.
    pub(crate) fn load_balancer_back(&mut self, meta: &mut Meta, lb: LoadBalancerIdx) -> Hop {
        if self.t.load_balancer(lb).kind == vpcsim_model::LoadBalancerKind::Gateway {
            return Ok(Next::GwlbBack(lb));
        }
        let at = Component::LoadBalancer(lb);
        self.cross(at);
        match self.endpoints.flow_back(meta.proto, (meta.src, meta.src_port), meta.dst_port, self.now) {
            Some(flow) if flow.via == meta.dst && flow.node.is_some_and(|(l, _)| l == lb) => {
                self.endpoint_flow = Some(flow);
                Ok(Next::InterfaceEndpointBack)
            }
            _ => Err(drop(DropReason::NotReachableVia, at)),
        }
    }

    /// Into the Gateway Load Balancer behind endpoint `ep`: encapsulated to a
    /// healthy appliance, from the load balancer's node in the endpoint's AZ.
    pub(crate) fn gwlb_in(&mut self, meta: &mut Meta, ep: InterfaceEndpointIdx, eni: EniIdx) -> Hop {
        let t = self.t;
        let EndpointTarget::EndpointService(es) = t.interface_endpoint(ep).target else {
            return Err(drop(DropReason::NotReachableVia, Component::InterfaceEndpoint(ep)));
        };
        let lb_idx = t.endpoint_service(es).load_balancer;
        let lb = t.load_balancer(lb_idx);
        let at = Component::LoadBalancer(lb_idx);
        self.cross(at);
        let az = |e: EniIdx| t.eni(e).subnet().map(|s| t.subnet(s).az.as_str());
        let node = lb.nodes.iter().copied().find(|&n| az(n) == az(eni)).or(lb.nodes.first().copied());
        let Some(node) = node.filter(|&n| lb.cross_zone || az(n) == az(eni)) else {
            return Err(drop(DropReason::NoTarget, at));
        };
        let mut pool: Vec<EniIdx> = Vec::new();
        for l in &lb.listeners {
            for h in &l.targets {
                let e = t.host(*h).eni;
                if !self.target_down(*h) && (lb.cross_zone || az(e) == az(node)) && !pool.contains(&e) {
                    pool.push(e);
                }
            }
        }
        if pool.is_empty() {
            return Err(drop(DropReason::NoTarget, at));
        }
        let hash = meta.symmetric_flow_hash();
        let appliance = pool[(hash % pool.len() as u64) as usize];
        let inner_end = (meta.l3 + meta.ip_len).min(self.out.len());
        let inner = self.out[meta.l3..inner_end].to_vec();
        let mut geneve = Vec::with_capacity(inner.len() + 28);
        encapsulate(u64::from(ep.0), hash as u32, &inner, meta.is_ipv4(), &mut geneve);
        let (IpAddr::V4(node_ip), IpAddr::V4(target_ip)) =
            (IpAddr::V4(t.eni(node).ipv4), IpAddr::V4(t.eni(appliance).ipv4))
        else {
            return Err(drop(DropReason::NoTarget, at));
        };
        // The flow's hash picks the source port, so both directions of a flow
        // travel the same outer 5-tuple.
        let source_port = 0xc000 | (hash as u16 & 0x3fff);
        self.out.clear();
        let built = PacketBuilder::ethernet2(t.eni(node).mac, t.eni(appliance).mac)
            .ipv4(node_ip.octets(), target_ip.octets(), 64)
            .udp(source_port, GENEVE_PORT)
            .write(self.out, &geneve);
        let Ok(Parsed::Ip(outer)) = built.ok().map_or(Err(packet::Malformed::Unparsable), |_| packet::parse(self.out))
        else {
            return Err(drop(DropReason::Malformed, at));
        };
        let inner_meta = *meta;
        self.trace.record(|| Step::Encapsulated { at, appliance, inner: inner_meta });
        let Some(subnet) = t.eni(node).subnet() else {
            return Err(drop(DropReason::NoTarget, at));
        };
        *meta = outer;
        Ok(Next::Sent { eni: node, subnet })
    }

    /// A GENEVE message an appliance returned to the load balancer's node: the
    /// inner packet goes on from its endpoint's subnet.
    pub(crate) fn gwlb_back(&mut self, meta: &mut Meta, lb: LoadBalancerIdx) -> Hop {
        let t = self.t;
        let at = Component::LoadBalancer(lb);
        self.cross(at);
        let not_geneve = drop(DropReason::NotReachableVia, at);
        // An appliance answers to the load balancer's port 6081, or (an echo)
        // from 6081 to the port the message came from.
        let geneve = meta.dst_port == GENEVE_PORT || meta.src_port == GENEVE_PORT;
        if meta.proto != vpcsim_model::Protocol::UDP || !geneve {
            return Err(not_geneve);
        }
        let start = meta.l4.map_or(self.out.len(), |l| l + 8);
        let end = (meta.l3 + meta.ip_len).min(self.out.len());
        let payload = self.out.get(start..end).unwrap_or(&[]).to_vec();
        let Some((endpoint, inner)) = decapsulate(&payload) else {
            return Err(drop(DropReason::Malformed, at));
        };
        let ep = InterfaceEndpointIdx(u32::try_from(endpoint).unwrap_or(u32::MAX));
        let Some(endpoint) = t.interface_endpoints.get(ep.index()) else {
            return Err(drop(DropReason::Malformed, at));
        };
        let Some(&ep_eni) = endpoint.enis.first() else {
            return Err(drop(DropReason::NoTarget, at));
        };
        let ethertype: u16 = match inner.first().map(|b| b >> 4) {
            Some(4) => 0x0800,
            Some(6) => 0x86dd,
            _ => return Err(drop(DropReason::Malformed, at)),
        };
        let mac = t.eni(ep_eni).mac;
        self.out.clear();
        self.out.extend_from_slice(&mac);
        self.out.extend_from_slice(&mac);
        self.out.extend_from_slice(&ethertype.to_be_bytes());
        self.out.extend_from_slice(inner);
        let Ok(Parsed::Ip(inner_meta)) = packet::parse(self.out) else {
            return Err(drop(DropReason::Malformed, at));
        };
        let decapsulated = inner_meta;
        self.trace.record(|| Step::Decapsulated { at, inner: decapsulated });
        let c = Component::InterfaceEndpoint(ep);
        self.cross(c);
        let Some(subnet) = t.eni(ep_eni).subnet() else {
            return Err(drop(DropReason::NoTarget, at));
        };
        // Back through the same endpoint would loop.
        self.after_gwlb = Some(ep);
        // The inner packet goes on, from the endpoint's ENI.
        *meta = inner_meta;
        Ok(Next::Sent { eni: ep_eni, subnet })
    }
}
