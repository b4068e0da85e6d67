//! Gateway Load Balancer endpoints: a route table sends traffic to a GWLB
//! endpoint; the load balancer carries each packet, encapsulated in GENEVE
//! (UDP 6081, outer IPv4), to an appliance, and takes it back from the
//! appliance to continue its way from the endpoint's subnet.
//!
//! The appliance is chosen by a symmetric hash of the flow, so both directions
//! of a connection meet the same appliance. The GENEVE header carries AWS's
//! option class 0x0108 with the endpoint (type 1) and a flow cookie (type 3);
//! the way back reads the endpoint from it.

use std::net::IpAddr;

use etherparse::PacketBuilder;
use vpcsim_model::{EndpointTarget, EniIdx, InterfaceEndpointIdx, LoadBalancerIdx};

use crate::fabric::{Cx, Hop, Next, drop};
use crate::packet::{self, Meta, Parsed};
use crate::trace::{Component, DropReason, Step};

/// GENEVE's UDP port.
pub const GENEVE_PORT: u16 = 6081;
/// AWS's GENEVE option class for Gateway Load Balancer metadata.
pub const AWS_OPTION_CLASS: u16 = 0x0108;
const OPTION_ENDPOINT: u8 = 1;
const OPTION_COOKIE: u8 = 3;

/// Builds a GENEVE message: header, AWS options, the inner IP packet.
pub fn encapsulate(endpoint: u64, cookie: u32, inner: &[u8], inner_is_v4: bool, out: &mut Vec<u8>) {
    out.clear();
    // Options: endpoint id (4 + 8 bytes), flow cookie (4 + 4 bytes) = 20 bytes = 5 words.
    out.push(5);
    out.push(0);
    out.extend_from_slice(&(if inner_is_v4 { 0x0800u16 } else { 0x86ddu16 }).to_be_bytes());
    out.extend_from_slice(&[0, 0, 0, 0]); // VNI 0, reserved
    out.extend_from_slice(&AWS_OPTION_CLASS.to_be_bytes());
    out.push(OPTION_ENDPOINT);
    out.push(2); // length in 4-byte words
    out.extend_from_slice(&endpoint.to_be_bytes());
    out.extend_from_slice(&AWS_OPTION_CLASS.to_be_bytes());
    out.push(OPTION_COOKIE);
    out.push(1);
    out.extend_from_slice(&cookie.to_be_bytes());
    out.extend_from_slice(inner);
}

/// A GENEVE message read: the endpoint option and the inner packet. `None` for
/// anything malformed, whatever the bytes.
pub fn decapsulate(bytes: &[u8]) -> Option<(u64, &[u8])> {
    let opt_len = usize::from(*bytes.first()? & 0x3f) * 4;
    if bytes.first()? >> 6 != 0 {
        return None;
    }
    let options = bytes.get(8..8 + opt_len)?;
    let inner = bytes.get(8 + opt_len..)?;
    let mut at = 0;
    let mut endpoint = None;
    while at + 4 <= options.len() {
        let class = u16::from_be_bytes([options[at], options[at + 1]]);
        let kind = options[at + 2];
        let len = usize::from(options[at + 3] & 0x1f) * 4;
        let data = options.get(at + 4..at + 4 + len)?;
        if class == AWS_OPTION_CLASS && kind == OPTION_ENDPOINT && len == 8 {
            endpoint = Some(u64::from_be_bytes(data.try_into().ok()?));
        }
        at += 4 + len;
    }
    Some((endpoint?, inner))
}

impl Cx<'_> {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_geneve_message_reads_back() {
        let inner = [0x45u8, 0, 0, 20, 1, 2, 3, 4, 64, 6, 0, 0, 10, 0, 1, 10, 10, 0, 2, 20];
        let mut out = Vec::new();
        encapsulate(7, 0xdead_beef, &inner, true, &mut out);
        // Version 0, 5 words of options, protocol IPv4, VNI 0.
        assert_eq!(&out[..8], &[5, 0, 0x08, 0x00, 0, 0, 0, 0]);
        // AWS's option class 0x0108, type 1 (endpoint), 2 words.
        assert_eq!(&out[8..12], &[0x01, 0x08, 1, 2]);
        assert_eq!(decapsulate(&out), Some((7, &inner[..])));
    }

    #[test]
    fn garbage_is_never_a_geneve_message_and_never_a_panic() {
        let mut state = 0x1234_5678_9abc_def0u64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let mut valid = Vec::new();
        encapsulate(3, 1, &[0x45; 40], true, &mut valid);
        for i in 0..20_000 {
            let bytes: Vec<u8> = if i % 2 == 0 {
                (0..(next() % 64) as usize).map(|_| next() as u8).collect()
            } else {
                let mut v = valid.clone();
                let at = (next() as usize) % v.len();
                v[at] = next() as u8;
                v.truncate((next() as usize) % (v.len() + 1));
                v
            };
            let _ = decapsulate(&bytes);
        }
        assert_eq!(decapsulate(&[]), None);
        assert_eq!(decapsulate(&[0x40, 0, 0, 0, 0, 0, 0, 0]), None, "version 1 is not ours");
    }
}
