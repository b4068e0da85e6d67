//! The link-local services of a VPC other than the DNS server: the instance
//! metadata service (169.254.169.254 and fd00:ec2::254, HTTP on TCP port 80)
//! and the Amazon Time Sync Service (169.254.169.123 and fd00:ec2::123, NTP
//! on UDP port 123). AWS answers them for every instance of a VPC, and
//! neither security groups nor network ACLs filter that traffic.
//!
//! Both answer without keeping state, like the resolver: the time service
//! answers each NTP request; the metadata service is a TCP responder that
//! takes its sequence number from the acknowledgment it receives, so a
//! client's handshake, request and close all complete against it.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use etherparse::PacketBuilder;
use vpcsim_model::{Attachment, EniIdx, Protocol};

use crate::fabric::{Cx, Verdict};
use crate::packet::Meta;
use crate::trace::Step;

/// The instance metadata service's addresses.
pub const METADATA_V4: Ipv4Addr = Ipv4Addr::new(169, 254, 169, 254);
pub const METADATA_V6: Ipv6Addr = Ipv6Addr::new(0xfd00, 0xec2, 0, 0, 0, 0, 0, 0x254);
/// The Amazon Time Sync Service's addresses.
pub const TIME_V4: Ipv4Addr = Ipv4Addr::new(169, 254, 169, 123);
pub const TIME_V6: Ipv6Addr = Ipv6Addr::new(0xfd00, 0xec2, 0, 0, 0, 0, 0, 0x123);

const TCP_FIN: u8 = 0x01;
const TCP_SYN: u8 = 0x02;
const TCP_RST: u8 = 0x04;
const TCP_ACK: u8 = 0x10;

/// The answer to any request: what `curl http://169.254.169.254/` shows.
const METADATA_ANSWER: &[u8] =
    b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 22\r\nConnection: close\r\n\r\n1.0\nlatest\n2024-04-11\n";

/// Which link-local service a packet is for, if any.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Service {
    Metadata,
    TimeSync,
}

impl Service {
    pub fn name(self) -> &'static str {
        match self {
            Service::Metadata => "the instance metadata service",
            Service::TimeSync => "the Amazon Time Sync Service",
        }
    }
}

/// The service at `dst`, for a packet of an instance in a VPC.
pub fn service_at(dst: IpAddr) -> Option<Service> {
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
}

enum Reply {
    Udp(Vec<u8>),
    Tcp { flags: u8, seq: u32, ack: u32, payload: &'static [u8] },
}

fn tcp_flags(
    mut b: etherparse::PacketBuilderStep<etherparse::TcpHeader>,
    flags: u8,
    ack: u32,
) -> etherparse::PacketBuilderStep<etherparse::TcpHeader> {
    if flags & TCP_SYN != 0 {
        b = b.syn();
    }
    if flags & TCP_FIN != 0 {
        b = b.fin();
    }
    if flags & TCP_RST != 0 {
        b = b.rst();
    }
    if flags & TCP_ACK != 0 {
        b = b.ack(ack);
    }
    b
}

/// An NTP server's answer (version 4, mode 4, stratum 1, reference "AMZN"),
/// with the request's transmit timestamp as its originate timestamp. The
/// clock reads zero: simulated time has no calendar.
fn ntp_answer(request: &[u8]) -> Vec<u8> {
    let mut a = vec![0u8; 48];
    a[0] = 0x24; // LI 0, version 4, mode 4 (server)
    a[1] = 1; // stratum 1
    a[2] = request.get(2).copied().unwrap_or(6);
    a[3] = 0xec; // precision 2^-20
    a[12..16].copy_from_slice(b"AMZN");
    if let Some(transmit) = request.get(40..48) {
        a[24..32].copy_from_slice(transmit);
    }
    a
}
