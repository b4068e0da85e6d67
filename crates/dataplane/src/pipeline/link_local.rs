//! The link-local services of a VPC: the Amazon DNS server (the resolver,
//! `state::resolver`, with private hosted zones), the instance
//! metadata service (169.254.169.254 and fd00:ec2::254, HTTP on TCP port 80)
//! and the Amazon Time Sync Service (169.254.169.123 and fd00:ec2::123, NTP
//! on UDP port 123). AWS answers them for every instance of a VPC, and
//! neither security groups nor network ACLs filter that traffic.
//!
//! All answer without keeping state, the resolver answers each query; the time service
//! answers each NTP request; the metadata service is a TCP responder that
//! takes its sequence number from the acknowledgment it receives, so a
//! client's handshake, request and close all complete against it.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use etherparse::PacketBuilder;
use vpcsim_model::{Attachment, EniIdx, INTERNET_ROUTER_MAC, Protocol, VpcIdx};

use super::cx::{Cx, Verdict, drop};
use crate::state::resolver;
use crate::trace::{Component, DropReason, Step};
use crate::wire::answers::{METADATA_ANSWER, TCP_ACK, TCP_FIN, TCP_RST, TCP_SYN, ntp_answer, tcp_flags};
use crate::wire::packet::{self, Meta};

/// The instance metadata service's addresses.
pub(super) const METADATA_V4: Ipv4Addr = Ipv4Addr::new(169, 254, 169, 254);
pub(super) const METADATA_V6: Ipv6Addr = Ipv6Addr::new(0xfd00, 0xec2, 0, 0, 0, 0, 0, 0x254);
/// The Amazon Time Sync Service's addresses.
pub(super) const TIME_V4: Ipv4Addr = Ipv4Addr::new(169, 254, 169, 123);
pub(super) const TIME_V6: Ipv6Addr = Ipv6Addr::new(0xfd00, 0xec2, 0, 0, 0, 0, 0, 0x123);

/// Which link-local service a packet is for, if any.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Service {
    Metadata,
    TimeSync,
}

impl Service {
    pub(super) fn name(self) -> &'static str {
        match self {
            Service::Metadata => "the instance metadata service",
            Service::TimeSync => "the Amazon Time Sync Service",
        }
    }
}

/// The service at `dst`, for a packet of an instance in a VPC.
pub(super) fn service_at(dst: IpAddr) -> Option<Service> {
    match dst {
        IpAddr::V4(a) if a == METADATA_V4 => Some(Service::Metadata),
        IpAddr::V6(a) if a == METADATA_V6 => Some(Service::Metadata),
        IpAddr::V4(a) if a == TIME_V4 => Some(Service::TimeSync),
        IpAddr::V6(a) if a == TIME_V6 => Some(Service::TimeSync),
        _ => None,
    }
}

impl Cx<'_> {
    /// A packet of an instance to a link-local service: answered here, before
    /// any filter. `None` when the packet is not for one.
    pub(crate) fn link_local(&mut self, at: EniIdx, meta: &Meta, frame: &[u8]) -> Option<Verdict> {
        let t = self.t;
        let eni = t.eni(at);
        let Attachment::Subnet(s) = eni.attachment else { return None };
        let service = service_at(meta.dst)?;
        if meta.fragment {
            return Some(Verdict::Absorbed);
        }
        let payload_at = |header: usize| meta.l4.map(|l4| l4 + header);
        let end = (meta.l3 + meta.ip_len).min(frame.len());
        let (reply, what): (Option<Reply>, String) = match (service, meta.proto) {
            (Service::TimeSync, Protocol::UDP) if meta.dst_port == 123 => {
                let request = payload_at(8).and_then(|p| frame.get(p..end)).unwrap_or(&[]);
                (Some(Reply::Udp(ntp_answer(request))), "an NTP answer".into())
            }
            (Service::Metadata, Protocol::TCP) => {
                let Some(l4) = meta.l4 else { return Some(Verdict::Absorbed) };
                let tcp = frame.get(l4..end).unwrap_or(&[]);
                if tcp.len() < 20 {
                    return Some(Verdict::Absorbed);
                }
                let seq = u32::from_be_bytes([tcp[4], tcp[5], tcp[6], tcp[7]]);
                let ack = u32::from_be_bytes([tcp[8], tcp[9], tcp[10], tcp[11]]);
                let data = tcp.get(usize::from(tcp[12] >> 4) * 4..).unwrap_or(&[]);
                let flags = meta.tcp_flags;
                let isn = (meta.flow_hash() as u32) & 0x7fff_ffff;
                let segment = if flags & TCP_RST != 0 {
                    None
                } else if meta.dst_port != 80 {
                    // Nothing listens there: a reset, as from a closed port.
                    let ack_no = seq.wrapping_add(data.len() as u32).wrapping_add(u32::from(flags & TCP_SYN != 0));
                    Some((TCP_RST | TCP_ACK, 0, ack_no, &[][..], "a reset (only port 80 answers)"))
                } else if flags & TCP_SYN != 0 {
                    Some((TCP_SYN | TCP_ACK, isn, seq.wrapping_add(1), &[][..], "the connection accepted"))
                } else if flags & TCP_FIN != 0 {
                    let ack_no = seq.wrapping_add(data.len() as u32).wrapping_add(1);
                    Some((TCP_FIN | TCP_ACK, ack, ack_no, &[][..], "the connection closed"))
                } else if !data.is_empty() {
                    let ack_no = seq.wrapping_add(data.len() as u32);
                    Some((TCP_ACK | TCP_FIN, ack, ack_no, METADATA_ANSWER, "HTTP 200 with the metadata index"))
                } else {
                    None
                };
                match segment {
                    Some((flags, seq, ack, payload, what)) => {
                        (Some(Reply::Tcp { flags, seq, ack, payload }), what.to_string())
                    }
                    None => (None, "nothing to answer".into()),
                }
            }
            // Anything else to those addresses: nobody answers.
            _ => (None, "nothing answers that protocol and port".into()),
        };
        let dst = meta.dst;
        self.trace.record(|| Step::LinkLocal { eni: at, server: dst, service: service.name(), answer: what.clone() });
        let Some(reply) = reply else { return Some(Verdict::Absorbed) };
        let router_mac = t.subnet(s).router_mac;
        let mut asker = [0; 6];
        asker.copy_from_slice(frame.get(6..12)?);
        self.out.clear();
        let eth = PacketBuilder::ethernet2(router_mac, asker);
        let (src_port, dst_port) = (meta.dst_port, meta.src_port);
        let written = match (meta.dst, meta.src, reply) {
            (IpAddr::V4(s), IpAddr::V4(d), Reply::Udp(body)) => {
                eth.ipv4(s.octets(), d.octets(), 64).udp(src_port, dst_port).write(self.out, &body)
            }
            (IpAddr::V6(s), IpAddr::V6(d), Reply::Udp(body)) => {
                eth.ipv6(s.octets(), d.octets(), 64).udp(src_port, dst_port).write(self.out, &body)
            }
            (IpAddr::V4(s), IpAddr::V4(d), Reply::Tcp { flags, seq, ack, payload }) => {
                tcp_flags(eth.ipv4(s.octets(), d.octets(), 64).tcp(src_port, dst_port, seq, 65535), flags, ack)
                    .write(self.out, payload)
            }
            (IpAddr::V6(s), IpAddr::V6(d), Reply::Tcp { flags, seq, ack, payload }) => {
                tcp_flags(eth.ipv6(s.octets(), d.octets(), 64).tcp(src_port, dst_port, seq, 65535), flags, ack)
                    .write(self.out, payload)
            }
            _ => return Some(Verdict::Absorbed),
        };
        Some(if written.is_ok() { Verdict::Answered(at) } else { Verdict::Absorbed })
    }

    /// Whether the frame is a DNS query to a resolver: the Amazon DNS server of
    /// the sender's VPC, or (from an internet host, to an address nobody on the
    /// internet owns) the internet's resolver. `Some(vpc)` says whose.
    pub(crate) fn dns_query(&self, at: EniIdx, meta: &Meta) -> Option<Option<VpcIdx>> {
        if meta.proto != Protocol::UDP || meta.dst_port != 53 || meta.fragment {
            return None;
        }
        let t = self.t;
        let eni = t.eni(at);
        if !eni.owns(meta.src) {
            return None;
        }
        match eni.attachment {
            Attachment::Subnet(s) => {
                let vpc = t.subnet(s).vpc;
                resolver::is_vpc_resolver(t, vpc, meta.dst).then_some(Some(vpc))
            }
            Attachment::Internet => {
                let owned = self.addresses.internet.contains_key(&meta.dst)
                    || packet::v6(meta.dst)
                        .is_some_and(|a| self.addresses.vpc_ipv6.iter().any(|(n, _)| n.contains(&a)));
                (!owned).then_some(None)
            }
            // The on-premises router resolves like the internet's resolver.
            Attachment::OnPrem(o) => (meta.dst == IpAddr::V4(t.onprem(o).router_ip())).then_some(None),
        }
    }

    /// The resolver answers. Neither security groups nor network ACLs filter
    /// traffic to and from the Amazon DNS server (AWS).
    pub(crate) fn answer_dns(&mut self, at: EniIdx, meta: &Meta, frame: &[u8], from: Option<VpcIdx>) -> Verdict {
        let t = self.t;
        let resolver = Component::Resolver(from);
        let start = meta.l4.map_or(frame.len(), |l4| l4 + 8);
        let end = (meta.l3 + meta.ip_len).min(frame.len());
        if let Some(vpc) = from
            && !t.vpc(vpc).private_dns
        {
            // private_dns = false is enableDnsSupport off: the Amazon DNS
            // server of the VPC resolves nothing (AWS), so no answer comes.
            let detail = format!(
                "{} has private_dns = false (enableDnsSupport off): its Amazon DNS server does not answer",
                t.vpc(vpc).id
            );
            return self.dropped(drop(DropReason::NoDestination, resolver), Some(detail));
        }
        let Ok(query) = vpcsim_dns::parse_query(frame.get(start..end).unwrap_or(&[])) else {
            return self.dropped(drop(DropReason::Malformed, resolver), Some("not a DNS query".into()));
        };
        let az = t.eni(at).subnet().map(|s| t.subnet(s).az.as_str());
        let answer = resolver::lookup(t, self.addresses, &self.endpoints.states, from, az, &query.name);
        let mut dns = Vec::new();
        vpcsim_dns::build_response(&query, &answer, resolver::TTL, &mut dns);
        let eni = t.eni(at);
        let router_mac = match eni.attachment {
            Attachment::Subnet(s) => t.subnet(s).router_mac,
            Attachment::Internet => INTERNET_ROUTER_MAC,
            Attachment::OnPrem(o) => t.onprem(o).router_mac,
        };
        let mut asker = [0; 6];
        asker.copy_from_slice(&frame[6..12]);
        self.out.clear();
        let eth = etherparse::PacketBuilder::ethernet2(router_mac, asker);
        let written = match (meta.dst, meta.src) {
            (IpAddr::V4(s), IpAddr::V4(d)) => {
                eth.ipv4(s.octets(), d.octets(), 64).udp(53, meta.src_port).write(self.out, &dns)
            }
            (IpAddr::V6(s), IpAddr::V6(d)) => {
                eth.ipv6(s.octets(), d.octets(), 64).udp(53, meta.src_port).write(self.out, &dns)
            }
            _ => return Verdict::Absorbed,
        };
        if written.is_err() {
            return self.dropped(drop(DropReason::Malformed, resolver), Some("answer too large".into()));
        }
        self.trace.record(|| Step::Dns {
            eni: at,
            server: meta.dst,
            name: query.name.clone(),
            answer: describe(&answer, query.qtype),
        });
        Verdict::Answered(at)
    }
}

enum Reply {
    Udp(Vec<u8>),
    Tcp { flags: u8, seq: u32, ack: u32, payload: &'static [u8] },
}

fn describe(answer: &vpcsim_dns::Answer, qtype: vpcsim_dns::QueryType) -> String {
    match answer {
        vpcsim_dns::Answer::NxDomain => "NXDOMAIN (no such name)".to_string(),
        vpcsim_dns::Answer::Addresses { v4, v6 } => {
            let (kind, ips): (&str, Vec<String>) = match qtype {
                vpcsim_dns::QueryType::Aaaa => ("AAAA", v6.iter().map(|a| a.to_string()).collect()),
                _ => ("A", v4.iter().map(|a| a.to_string()).collect()),
            };
            if ips.is_empty() { format!("no {kind} record") } else { format!("{kind} {}", ips.join(", ")) }
        }
    }
}
