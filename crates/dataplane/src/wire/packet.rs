//! Frame bytes: parsing a frame once into the few fields the rules need, and
//! rewriting it in place (MACs, TTL, addresses) with checksums kept right.
//!
//! Parsing is etherparse's `SlicedPacket` (the zero-copy path). Offsets come from
//! the slices, never from constants, so VLAN tags and IPv4 options shift nothing.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use etherparse::{NetSlice, SlicedPacket, TransportSlice};

use vpcsim_model::Protocol;

pub(crate) const ETHERTYPE_ARP: u16 = 0x0806;

/// What the rules look at in an IP packet, and where its headers sit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Meta {
    /// Offset of the IP header in the frame.
    pub l3: usize,
    /// Offset of the transport header (TCP, UDP, ICMP) in the frame, if any.
    pub l4: Option<usize>,
    /// IP protocol number (IPv6: of the last header).
    pub proto: u8,
    /// Source IP address.
    pub src: IpAddr,
    /// Destination IP address.
    pub dst: IpAddr,
    /// TCP/UDP ports; for ICMP echo the identifier in both.
    pub src_port: u16,
    /// Destination TCP/UDP port (see `src_port`).
    pub dst_port: u16,
    /// ICMP / ICMPv6 type and code.
    pub icmp: Option<(u8, u8)>,
    /// TCP flags byte (FIN 0x01, SYN 0x02, RST 0x04, ACK 0x10).
    pub tcp_flags: u8,
    /// IPv4 TTL or IPv6 hop limit.
    pub ttl: u8,
    /// A fragment without its transport header: ports are unknown.
    pub fragment: bool,
    /// Total length of the IP packet (header included).
    pub ip_len: usize,
    /// IPv4 "don't fragment" (always true for IPv6, which routers never fragment).
    pub dont_fragment: bool,
}

pub(crate) const TCP_FIN: u8 = 0x01;
pub(crate) const TCP_SYN: u8 = 0x02;
pub(crate) const TCP_RST: u8 = 0x04;
pub(crate) const TCP_ACK: u8 = 0x10;

impl Meta {
    /// A hash of the flow (protocol, both ends), stable for its life: how a
    /// load balancer picks a target.
    pub(crate) fn flow_hash(&self) -> u64 {
        use std::hash::{Hash, Hasher};
        let mut h = rustc_hash::FxHasher::default();
        (self.proto, self.src, self.src_port, self.dst, self.dst_port).hash(&mut h);
        h.finish()
    }

    /// A hash of the flow that is the same in both directions: how a Gateway
    /// Load Balancer and a transit gateway in appliance mode keep a flow's
    /// two directions on one appliance or AZ.
    pub(crate) fn symmetric_flow_hash(&self) -> u64 {
        use std::hash::{Hash, Hasher};
        let a = (self.src, self.src_port);
        let b = (self.dst, self.dst_port);
        let (lo, hi) = if a <= b { (a, b) } else { (b, a) };
        let mut h = rustc_hash::FxHasher::default();
        (self.proto, lo, hi).hash(&mut h);
        h.finish()
    }

    pub(crate) fn is_ipv4(&self) -> bool {
        self.src.is_ipv4()
    }

    /// What port-like value rules compare against: the destination port for TCP
    /// and UDP, the type for ICMP; `None` when the packet has neither (or is a
    /// fragment without its transport header).
    pub(crate) fn rule_port(&self) -> Option<u16> {
        if self.fragment {
            return None;
        }
        match self.proto {
            Protocol::TCP | Protocol::UDP => Some(self.dst_port),
            Protocol::ICMP | Protocol::ICMPV6 => self.icmp.map(|(t, _)| u16::from(t)),
            _ => None,
        }
    }

    /// Whether this is an ICMP echo request (v4 type 8, v6 type 128).
    pub(crate) fn is_echo_request(&self) -> bool {
        matches!((self.proto, self.icmp), (Protocol::ICMP, Some((8, _))) | (Protocol::ICMPV6, Some((128, _))))
    }

    /// Whether this is an ICMP echo reply (v4 type 0, v6 type 129).
    pub(crate) fn is_echo_reply(&self) -> bool {
        matches!((self.proto, self.icmp), (Protocol::ICMP, Some((0, _))) | (Protocol::ICMPV6, Some((129, _))))
    }

    /// Whether this is an ICMP error that quotes another packet (destination
    /// unreachable, time exceeded, parameter problem; ICMPv6 packet too big too).
    pub(crate) fn is_icmp_error(&self) -> bool {
        match (self.proto, self.icmp) {
            (Protocol::ICMP, Some((t, _))) => matches!(t, 3 | 11 | 12),
            (Protocol::ICMPV6, Some((t, _))) => (1..=4).contains(&t),
            _ => false,
        }
    }
}

impl fmt::Display for Meta {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let proto = Protocol::from_number(self.proto);
        match self.proto {
            Protocol::TCP | Protocol::UDP if !self.fragment => {
                write!(f, "{proto} {} → {}", SockAddr(self.src, self.src_port), SockAddr(self.dst, self.dst_port))?;
                if self.proto == Protocol::TCP {
                    write!(f, " [{}]", TcpFlags(self.tcp_flags))?;
                }
                Ok(())
            }
            Protocol::ICMP | Protocol::ICMPV6 => {
                write!(f, "{proto} {} → {}", self.src, self.dst)?;
                if let Some((t, c)) = self.icmp {
                    write!(f, " {}", icmp_name(self.proto, t, c))?;
                }
                Ok(())
            }
            _ => write!(f, "{proto} {} → {}", self.src, self.dst),
        }
    }
}

struct SockAddr(IpAddr, u16);

impl fmt::Display for SockAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            IpAddr::V4(a) => write!(f, "{a}:{}", self.1),
            IpAddr::V6(a) => write!(f, "[{a}]:{}", self.1),
        }
    }
}

struct TcpFlags(u8);

impl fmt::Display for TcpFlags {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names = [(TCP_SYN, "SYN"), (TCP_FIN, "FIN"), (TCP_RST, "RST"), (0x08, "PSH"), (TCP_ACK, "ACK")];
        let mut first = true;
        for (bit, name) in names {
            if self.0 & bit != 0 {
                if !first {
                    f.write_str(",")?;
                }
                f.write_str(name)?;
                first = false;
            }
        }
        Ok(())
    }
}

fn icmp_name(proto: u8, t: u8, c: u8) -> String {
    let known = match (proto, t) {
        (Protocol::ICMP, 0) | (Protocol::ICMPV6, 129) => "echo reply",
        (Protocol::ICMP, 8) | (Protocol::ICMPV6, 128) => "echo request",
        (Protocol::ICMP, 3) if c == 4 => "fragmentation needed",
        (Protocol::ICMP, 3) | (Protocol::ICMPV6, 1) => "destination unreachable",
        (Protocol::ICMP, 11) | (Protocol::ICMPV6, 3) => "time exceeded",
        (Protocol::ICMPV6, 2) => "packet too big",
        (Protocol::ICMPV6, 135) => "neighbour solicitation",
        (Protocol::ICMPV6, 136) => "neighbour advertisement",
        _ => "",
    };
    if known.is_empty() { format!("type {t} code {c}") } else { known.to_string() }
}

/// Why a frame could not be read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Malformed {
    /// etherparse could not slice it (truncated, bad header length, bad version...).
    Unparsable,
    /// An ethertype the fabric does not carry.
    UnsupportedEthertype(u16),
    /// An ARP packet that is not Ethernet/IPv4.
    BadArp,
}

impl fmt::Display for Malformed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Malformed::Unparsable => f.write_str("the frame cannot be parsed (truncated or bad header)"),
            Malformed::UnsupportedEthertype(t) => write!(f, "unsupported ethertype {t:#06x}"),
            Malformed::BadArp => f.write_str("ARP that is not Ethernet/IPv4"),
        }
    }
}

/// An ARP packet (Ethernet/IPv4).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Arp {
    /// ARP operation: 1 request, 2 reply.
    pub operation: u16,
    /// The sender's MAC address.
    pub sender_mac: [u8; 6],
    /// The sender's IPv4 address.
    pub sender_ip: Ipv4Addr,
    /// The IPv4 address whose MAC address is asked for (or answered).
    pub target_ip: Ipv4Addr,
}

pub(crate) const ARP_REQUEST: u16 = 1;

/// A frame, read.
#[derive(Clone, Copy, Debug)]
pub enum Parsed {
    /// An IPv4 or IPv6 packet.
    Ip(Meta),
    /// An ARP request or reply.
    Arp(Arp),
}

/// Reads a frame. Never panics, whatever the bytes.
pub fn parse(frame: &[u8]) -> Result<Parsed, Malformed> {
    let sliced = match SlicedPacket::from_ethernet(frame) {
        Ok(s) => s,
        Err(_) => return parse_odd_icmp_timestamp(frame).ok_or(Malformed::Unparsable),
    };
    let base = frame.as_ptr() as usize;
    let offset = |s: &[u8]| s.as_ptr() as usize - base;
    let (l3, proto, src, dst, ttl, fragment, ip_len, dont_fragment) = match &sliced.net {
        Some(NetSlice::Ipv4(ip)) => {
            let h = ip.header();
            let payload = ip.payload();
            (
                offset(h.slice()),
                payload.ip_number.0,
                IpAddr::V4(h.source_addr()),
                IpAddr::V4(h.destination_addr()),
                h.ttl(),
                payload.fragmented,
                usize::from(h.total_len()),
                h.dont_fragment(),
            )
        }
        Some(NetSlice::Ipv6(ip)) => {
            let h = ip.header();
            let payload = ip.payload();
            (
                offset(h.slice()),
                payload.ip_number.0,
                IpAddr::V6(h.source_addr()),
                IpAddr::V6(h.destination_addr()),
                h.hop_limit(),
                payload.fragmented,
                40 + usize::from(h.payload_length()),
                true,
            )
        }
        Some(NetSlice::Arp(arp)) => return parse_arp(arp.slice()),
        None => {
            let ethertype = sliced.payload_ether_type().map_or(0, |t| t.0);
            return Err(Malformed::UnsupportedEthertype(ethertype));
        }
    };
    let mut meta = Meta {
        l3,
        l4: None,
        proto,
        src,
        dst,
        src_port: 0,
        dst_port: 0,
        icmp: None,
        tcp_flags: 0,
        ttl,
        fragment,
        ip_len,
        dont_fragment,
    };
    match &sliced.transport {
        Some(TransportSlice::Tcp(tcp)) => {
            meta.l4 = Some(offset(tcp.slice()));
            meta.src_port = tcp.source_port();
            meta.dst_port = tcp.destination_port();
            meta.tcp_flags = tcp.slice()[13];
        }
        Some(TransportSlice::Udp(udp)) => {
            meta.l4 = Some(offset(udp.slice()));
            meta.src_port = udp.source_port();
            meta.dst_port = udp.destination_port();
        }
        Some(TransportSlice::Icmpv4(icmp)) => {
            let s = icmp.slice();
            icmp_fields(&mut meta, offset(s), s);
        }
        Some(TransportSlice::Icmpv6(icmp)) => {
            let s = icmp.slice();
            icmp_fields(&mut meta, offset(s), s);
        }
        Some(_) | None => {}
    }
    Ok(Parsed::Ip(meta))
}

/// An ICMPv4 timestamp or timestamp reply (types 13 and 14) whose length is not
/// exactly 20 bytes: etherparse refuses to slice it, but it is an ordinary
/// ICMP packet to AWS, which filters it by type and code like any other. Only
/// that case: the IPv4 header must be sound and unfragmented.
fn parse_odd_icmp_timestamp(frame: &[u8]) -> Option<Parsed> {
    const L3: usize = 14;
    if frame.get(12..14)? != [0x08, 0x00] {
        return None;
    }
    let ip = etherparse::Ipv4Slice::from_slice(frame.get(L3..)?).ok()?;
    let h = ip.header();
    let payload = ip.payload();
    if payload.ip_number != etherparse::IpNumber::ICMP || payload.fragmented {
        return None;
    }
    let icmp = payload.payload;
    if icmp.len() < 8 || !matches!(icmp[0], 13 | 14) {
        return None;
    }
    let mut meta = Meta {
        l3: L3,
        l4: None,
        proto: payload.ip_number.0,
        src: IpAddr::V4(h.source_addr()),
        dst: IpAddr::V4(h.destination_addr()),
        src_port: 0,
        dst_port: 0,
        icmp: None,
        tcp_flags: 0,
        ttl: h.ttl(),
        fragment: false,
        ip_len: usize::from(h.total_len()),
        dont_fragment: h.dont_fragment(),
    };
    let l4 = icmp.as_ptr() as usize - frame.as_ptr() as usize;
    icmp_fields(&mut meta, l4, icmp);
    Some(Parsed::Ip(meta))
}

fn icmp_fields(meta: &mut Meta, l4: usize, s: &[u8]) {
    meta.l4 = Some(l4);
    if s.len() >= 8 {
        meta.icmp = Some((s[0], s[1]));
        if meta.is_echo_request() || meta.is_echo_reply() {
            // Echo is tracked by its identifier, as ports are for TCP and UDP.
            let id = u16::from_be_bytes([s[4], s[5]]);
            meta.src_port = id;
            meta.dst_port = id;
        }
    }
}

fn parse_arp(s: &[u8]) -> Result<Parsed, Malformed> {
    // htype 1 (Ethernet), ptype 0x0800, hlen 6, plen 4.
    if s.len() < 28 || s[0..6] != [0, 1, 8, 0, 6, 4] {
        return Err(Malformed::BadArp);
    }
    let mut sender_mac = [0; 6];
    sender_mac.copy_from_slice(&s[8..14]);
    Ok(Parsed::Arp(Arp {
        operation: u16::from_be_bytes([s[6], s[7]]),
        sender_mac,
        sender_ip: Ipv4Addr::new(s[14], s[15], s[16], s[17]),
        target_ip: Ipv4Addr::new(s[24], s[25], s[26], s[27]),
    }))
}

/// The flow an ICMP error quotes: (proto, src, dst, src port, dst port) of the
/// packet that caused it, read from the quoted IP header and its first 8 bytes.
#[doc(hidden)]
pub fn quoted_flow(frame: &[u8], meta: &Meta) -> Option<(u8, IpAddr, IpAddr, u16, u16)> {
    let inner = frame.get(meta.l4? + 8..)?;
    let (proto, src, dst, l4) = if meta.is_ipv4() {
        let ihl = usize::from(*inner.first()? & 0x0f) * 4;
        let a: [u8; 4] = inner.get(12..16)?.try_into().ok()?;
        let b: [u8; 4] = inner.get(16..20)?.try_into().ok()?;
        (*inner.get(9)?, IpAddr::from(a), IpAddr::from(b), inner.get(ihl..)?)
    } else {
        let a: [u8; 16] = inner.get(8..24)?.try_into().ok()?;
        let b: [u8; 16] = inner.get(24..40)?.try_into().ok()?;
        (*inner.get(6)?, IpAddr::from(a), IpAddr::from(b), inner.get(40..)?)
    };
    let (sp, dp) = match proto {
        Protocol::TCP | Protocol::UDP => {
            (u16::from_be_bytes([*l4.first()?, *l4.get(1)?]), u16::from_be_bytes([*l4.get(2)?, *l4.get(3)?]))
        }
        Protocol::ICMP | Protocol::ICMPV6 => {
            let id = u16::from_be_bytes([*l4.get(4)?, *l4.get(5)?]);
            (id, id)
        }
        _ => (0, 0),
    };
    Some((proto, src, dst, sp, dp))
}

// ---------------------------------------------------------------------------
// Rewriting in place.

/// Sets the Ethernet source and destination addresses.
pub fn set_macs(frame: &mut [u8], src: [u8; 6], dst: [u8; 6]) {
    frame[0..6].copy_from_slice(&dst);
    frame[6..12].copy_from_slice(&src);
}

/// Decrements the TTL / hop limit by one, patching the IPv4 header checksum
/// incrementally (RFC 1624). The caller has checked that the TTL is above 1.
pub(crate) fn decrement_ttl(frame: &mut [u8], meta: &mut Meta) {
    let l3 = meta.l3;
    if meta.is_ipv4() {
        // TTL is the high byte of the 16-bit word at offset 8.
        let old = u16::from_be_bytes([frame[l3 + 8], frame[l3 + 9]]);
        frame[l3 + 8] -= 1;
        let new = u16::from_be_bytes([frame[l3 + 8], frame[l3 + 9]]);
        patch_checksum(frame, l3 + 10, &[old], &[new]);
    } else {
        frame[l3 + 7] -= 1;
    }
    meta.ttl -= 1;
}

/// Which address a translation rewrites.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Side {
    /// The source address (outbound NAT: the private address becomes the gateway's).
    Source,
    /// The destination address (inbound: the gateway's address becomes the private one).
    Destination,
}

/// Replaces an IPv4 source or destination address, patching the IP header
/// checksum and the TCP/UDP checksum (whose pseudo-header holds the address).
pub(crate) fn rewrite_ipv4(frame: &mut [u8], meta: &mut Meta, side: Side, new: Ipv4Addr) {
    let at = meta.l3 + if side == Side::Source { 12 } else { 16 };
    let old_bytes: [u8; 4] = [frame[at], frame[at + 1], frame[at + 2], frame[at + 3]];
    let new_bytes = new.octets();
    frame[at..at + 4].copy_from_slice(&new_bytes);
    let old = words(&old_bytes);
    let new_w = words(&new_bytes);
    patch_checksum(frame, meta.l3 + 10, &old, &new_w);
    if let (Some(l4), false) = (meta.l4, meta.fragment) {
        match meta.proto {
            Protocol::TCP if frame.len() >= l4 + 18 => patch_checksum(frame, l4 + 16, &old, &new_w),
            // A UDP checksum of zero means "none" and stays zero; a result of
            // zero is sent as 0xffff (RFC 768).
            Protocol::UDP if frame.len() >= l4 + 8 && frame[l4 + 6..l4 + 8] != [0, 0] => {
                patch_checksum(frame, l4 + 6, &old, &new_w);
                if frame[l4 + 6..l4 + 8] == [0, 0] {
                    frame[l4 + 6..l4 + 8].copy_from_slice(&[0xff, 0xff]);
                }
            }
            _ => {}
        }
    }
    match side {
        Side::Source => meta.src = IpAddr::V4(new),
        Side::Destination => meta.dst = IpAddr::V4(new),
    }
}

/// Replaces a TCP/UDP source or destination port, or an ICMP echo's
/// identifier (either side: an echo has one), patching the transport
/// checksum incrementally. A frame too short for it is left alone.
pub(crate) fn rewrite_port(frame: &mut [u8], meta: &mut Meta, side: Side, new: u16) {
    let Some(l4) = meta.l4.filter(|_| !meta.fragment) else { return };
    let (at, checksum) = match meta.proto {
        Protocol::TCP => (l4 + if side == Side::Source { 0 } else { 2 }, Some(l4 + 16)),
        Protocol::UDP => (l4 + if side == Side::Source { 0 } else { 2 }, Some(l4 + 6)),
        Protocol::ICMP | Protocol::ICMPV6 => (l4 + 4, Some(l4 + 2)),
        _ => return,
    };
    let Some(bytes) = frame.get(at..at + 2) else { return };
    let old = u16::from_be_bytes([bytes[0], bytes[1]]);
    frame[at..at + 2].copy_from_slice(&new.to_be_bytes());
    if let Some(c) = checksum.filter(|&c| frame.len() >= c + 2) {
        let udp_without = meta.proto == Protocol::UDP && frame[c..c + 2] == [0, 0];
        if !udp_without {
            patch_checksum(frame, c, &[old], &[new]);
            if meta.proto == Protocol::UDP && frame[c..c + 2] == [0, 0] {
                frame[c..c + 2].copy_from_slice(&[0xff, 0xff]);
            }
        }
    }
    match meta.proto {
        Protocol::ICMP | Protocol::ICMPV6 => {
            meta.src_port = new;
            meta.dst_port = new;
        }
        _ if side == Side::Source => meta.src_port = new,
        _ => meta.dst_port = new,
    }
}

fn words(b: &[u8; 4]) -> [u16; 2] {
    [u16::from_be_bytes([b[0], b[1]]), u16::from_be_bytes([b[2], b[3]])]
}

/// RFC 1624 eqn. 3: HC' = ~(~HC + ~m + m'), over each replaced 16-bit word.
fn patch_checksum(frame: &mut [u8], at: usize, old: &[u16], new: &[u16]) {
    let hc = u16::from_be_bytes([frame[at], frame[at + 1]]);
    let mut sum = u32::from(!hc);
    for (&m, &m2) in old.iter().zip(new) {
        sum += u32::from(!m) + u32::from(m2);
    }
    while sum >> 16 != 0 {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    frame[at..at + 2].copy_from_slice(&(!(sum as u16)).to_be_bytes());
}

/// Builds an ARP reply: `mac` owns `ip`, told to the asker.
pub(crate) fn arp_reply(out: &mut Vec<u8>, request: &Arp, mac: [u8; 6], ip: Ipv4Addr) {
    out.clear();
    out.extend_from_slice(&request.sender_mac);
    out.extend_from_slice(&mac);
    out.extend_from_slice(&ETHERTYPE_ARP.to_be_bytes());
    out.extend_from_slice(&[0, 1, 8, 0, 6, 4, 0, 2]);
    out.extend_from_slice(&mac);
    out.extend_from_slice(&ip.octets());
    out.extend_from_slice(&request.sender_mac);
    out.extend_from_slice(&request.sender_ip.octets());
}

/// An ICMP error a router sends back to a packet's source.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IcmpError {
    /// The TTL / hop limit ran out.
    TimeExceeded,
    /// IPv4 "fragmentation needed" / ICMPv6 "packet too big", with the next hop's MTU.
    TooBig {
        /// The MTU of the next hop, in bytes.
        mtu: u16,
    },
}

/// Builds an ICMP (or ICMPv6) error from `router` (MAC, address) to `to` (MAC,
/// address) quoting `packet` (the offending IP packet, from its IP header):
/// as much of it as fits in 576 bytes (IPv4) or 1280 bytes (IPv6).
pub(crate) fn icmp_error(
    out: &mut Vec<u8>,
    error: IcmpError,
    router: ([u8; 6], IpAddr),
    to: ([u8; 6], IpAddr),
    packet: &[u8],
) {
    use etherparse::{Icmpv4Type, Icmpv6Type, PacketBuilder, icmpv4, icmpv6};
    out.clear();
    let eth = PacketBuilder::ethernet2(router.0, to.0);
    let written = match (router.1, to.1) {
        (IpAddr::V4(from), IpAddr::V4(dst)) => {
            let quote = &packet[..packet.len().min(576 - 28)];
            let kind = match error {
                IcmpError::TimeExceeded => Icmpv4Type::TimeExceeded(icmpv4::TimeExceededCode::TtlExceededInTransit),
                IcmpError::TooBig { mtu } => {
                    Icmpv4Type::DestinationUnreachable(icmpv4::DestUnreachableHeader::FragmentationNeeded {
                        next_hop_mtu: mtu,
                    })
                }
            };
            eth.ipv4(from.octets(), dst.octets(), 64).icmpv4(kind).write(out, quote)
        }
        (IpAddr::V6(from), IpAddr::V6(dst)) => {
            let quote = &packet[..packet.len().min(1280 - 48)];
            let kind = match error {
                IcmpError::TimeExceeded => Icmpv6Type::TimeExceeded(icmpv6::TimeExceededCode::HopLimitExceeded),
                IcmpError::TooBig { mtu } => Icmpv6Type::PacketTooBig { mtu: u32::from(mtu) },
            };
            eth.ipv6(from.octets(), dst.octets(), 64).icmpv6(kind).write(out, quote)
        }
        _ => return,
    };
    // Writing into a Vec cannot fail; the quote is bounded above.
    debug_assert!(written.is_ok());
}

/// ICMPv6 neighbour-discovery types (router solicitation .. redirect).
pub(crate) const NDP_TYPES: std::ops::RangeInclusive<u8> = 133..=137;
pub(crate) const NEIGHBOUR_SOLICITATION: u8 = 135;

/// The target address of a neighbour solicitation.
pub(crate) fn ns_target(frame: &[u8], meta: &Meta) -> Option<Ipv6Addr> {
    let l4 = meta.l4?;
    let b: [u8; 16] = frame.get(l4 + 8..l4 + 24)?.try_into().ok()?;
    Some(Ipv6Addr::from(b))
}

/// Builds a neighbour advertisement answering a solicitation from `asker`
/// (MAC, IPv6 address): `mac` owns `target`. Hop limit 255, source = target,
/// with the target link-layer address option, as RFC 4861 and smoltcp want.
pub(crate) fn neighbour_advertisement(
    out: &mut Vec<u8>,
    asker: ([u8; 6], Ipv6Addr),
    target: Ipv6Addr,
    mac: [u8; 6],
    router: bool,
) {
    use etherparse::{Icmpv6Type, PacketBuilder, icmpv6::NeighborAdvertisementHeader};
    out.clear();
    let dst = if asker.1.is_unspecified() { Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 1) } else { asker.1 };
    let mut payload = [0u8; 24];
    payload[..16].copy_from_slice(&target.octets());
    payload[16] = 2; // target link-layer address
    payload[17] = 1; // length in units of 8 bytes
    payload[18..24].copy_from_slice(&mac);
    let na = NeighborAdvertisementHeader { router, solicited: !asker.1.is_unspecified(), r#override: true };
    let built = PacketBuilder::ethernet2(mac, asker.0)
        .ipv6(target.octets(), dst.octets(), 255)
        .icmpv6(Icmpv6Type::NeighborAdvertisement(na))
        .write(out, &payload);
    // Writing into a Vec cannot fail, and the sizes are fixed.
    debug_assert!(built.is_ok());
}

/// The IPv6 address as `Ipv6Addr`, if it is one.
pub(crate) fn v6(ip: IpAddr) -> Option<Ipv6Addr> {
    match ip {
        IpAddr::V6(a) => Some(a),
        IpAddr::V4(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use etherparse::{PacketBuilder, SlicedPacket, TransportSlice};

    use super::*;

    fn tcp_v4() -> Vec<u8> {
        let mut frame = Vec::new();
        PacketBuilder::ethernet2([2, 0, 0, 0, 0, 1], [2, 1, 0, 0, 0, 1])
            .ipv4([10, 0, 1, 10], [198, 51, 100, 7], 64)
            .tcp(40000, 443, 1, 1000)
            .syn()
            .write(&mut frame, b"hello")
            .unwrap();
        frame
    }

    /// Asserts that the IPv4 header checksum and the TCP/UDP checksum are right.
    fn assert_checksums(frame: &[u8]) {
        let p = SlicedPacket::from_ethernet(frame).unwrap();
        let Some(NetSlice::Ipv4(ip)) = &p.net else { panic!("not IPv4") };
        let h = ip.header().to_header();
        assert_eq!(h.header_checksum, h.calc_header_checksum(), "IPv4 header checksum");
        match &p.transport {
            Some(TransportSlice::Tcp(tcp)) => {
                let want = tcp.to_header().calc_checksum_ipv4(&h, tcp.payload()).unwrap();
                assert_eq!(tcp.checksum(), want, "TCP checksum");
            }
            Some(TransportSlice::Udp(udp)) => {
                let want = udp.to_header().calc_checksum_ipv4(&h, udp.payload()).unwrap();
                assert_eq!(udp.checksum(), want, "UDP checksum");
            }
            _ => {}
        }
    }

    #[test]
    fn parse_reads_the_fields_rules_need() {
        let frame = tcp_v4();
        let Ok(Parsed::Ip(m)) = parse(&frame) else { panic!() };
        assert_eq!((m.src_port, m.dst_port, m.proto, m.ttl), (40000, 443, 6, 64));
        assert_eq!(m.tcp_flags & TCP_SYN, TCP_SYN);
        assert_eq!(m.l3, 14);
        assert_eq!(m.l4, Some(34));
        assert_eq!(m.rule_port(), Some(443));
    }

    /// An ICMPv4 timestamp (type 13) of any length is an ICMP packet with its
    /// type and code, though etherparse slices only the 20-byte form; a
    /// truncated one (the IP total length beyond the frame) stays malformed.
    #[test]
    fn icmp_timestamps_of_any_length_parse() {
        for body in [0usize, 12, 16, 40] {
            let mut frame = Vec::new();
            let icmp = etherparse::Icmpv4Type::Unknown { type_u8: 13, code_u8: 0, bytes5to8: [0, 7, 0, 1] };
            PacketBuilder::ethernet2([2; 6], [3; 6])
                .ipv4([10, 0, 1, 10], [10, 0, 2, 20], 64)
                .icmpv4(icmp)
                .write(&mut frame, &vec![0; body])
                .unwrap();
            let Ok(Parsed::Ip(m)) = parse(&frame) else { panic!("{body}-byte timestamp body: {:?}", parse(&frame)) };
            assert_eq!((m.proto, m.icmp, m.l4, m.ip_len), (1, Some((13, 0)), Some(34), 20 + 8 + body), "{body}");
            frame.truncate(frame.len() - 1);
            if body > 0 {
                assert!(matches!(parse(&frame), Err(Malformed::Unparsable)), "{body}");
            }
        }
    }

    #[test]
    fn ttl_decrement_keeps_the_header_checksum_right() {
        let mut frame = tcp_v4();
        let Ok(Parsed::Ip(mut m)) = parse(&frame) else { panic!() };
        for _ in 0..63 {
            decrement_ttl(&mut frame, &mut m);
            assert_checksums(&frame);
        }
        assert_eq!(m.ttl, 1);
    }

    #[test]
    fn address_rewrite_keeps_ip_and_tcp_checksums_right() {
        let mut frame = tcp_v4();
        let Ok(Parsed::Ip(mut m)) = parse(&frame) else { panic!() };
        for addr in [Ipv4Addr::new(54, 0, 0, 10), Ipv4Addr::new(255, 255, 255, 255), Ipv4Addr::new(0, 0, 0, 0)] {
            rewrite_ipv4(&mut frame, &mut m, Side::Source, addr);
            assert_checksums(&frame);
            rewrite_ipv4(&mut frame, &mut m, Side::Destination, addr);
            assert_checksums(&frame);
        }
        let Ok(Parsed::Ip(again)) = parse(&frame) else { panic!() };
        assert_eq!(again.src, IpAddr::V4(Ipv4Addr::new(0, 0, 0, 0)));
    }

    #[test]
    fn udp_rewrite_keeps_the_checksum_right() {
        let mut frame = Vec::new();
        PacketBuilder::ethernet2([2; 6], [3; 6])
            .ipv4([10, 0, 1, 10], [10, 0, 2, 20], 64)
            .udp(5000, 53)
            .write(&mut frame, b"query")
            .unwrap();
        let Ok(Parsed::Ip(mut m)) = parse(&frame) else { panic!() };
        rewrite_ipv4(&mut frame, &mut m, Side::Source, Ipv4Addr::new(203, 0, 113, 99));
        assert_checksums(&frame);
    }

    #[test]
    fn quoted_flow_reads_an_icmp_error() {
        // Port unreachable quoting a UDP packet 10.0.2.20:53 <- 10.0.1.10:5000.
        let inner = {
            let mut f = Vec::new();
            PacketBuilder::ipv4([10, 0, 1, 10], [10, 0, 2, 20], 64).udp(5000, 53).write(&mut f, b"abcd").unwrap();
            f
        };
        let mut frame = Vec::new();
        PacketBuilder::ethernet2([2; 6], [3; 6])
            .ipv4([10, 0, 2, 20], [10, 0, 1, 10], 64)
            .icmpv4(etherparse::Icmpv4Type::DestinationUnreachable(etherparse::icmpv4::DestUnreachableHeader::Port))
            .write(&mut frame, &inner[..28])
            .unwrap();
        let Ok(Parsed::Ip(m)) = parse(&frame) else { panic!() };
        assert!(m.is_icmp_error());
        let q = quoted_flow(&frame, &m).unwrap();
        assert_eq!(q, (17, "10.0.1.10".parse().unwrap(), "10.0.2.20".parse().unwrap(), 5000, 53));
    }

    #[test]
    fn arp_reply_is_a_valid_arp_frame() {
        let req = Arp {
            operation: ARP_REQUEST,
            sender_mac: [2, 0, 0, 0, 0, 9],
            sender_ip: Ipv4Addr::new(10, 0, 1, 10),
            target_ip: Ipv4Addr::new(10, 0, 1, 1),
        };
        let mut out = Vec::new();
        arp_reply(&mut out, &req, [2, 1, 0, 0, 0, 0], req.target_ip);
        let Ok(Parsed::Arp(reply)) = parse(&out) else { panic!("{out:?}") };
        assert_eq!(reply.operation, 2);
        assert_eq!(reply.sender_mac, [2, 1, 0, 0, 0, 0]);
        assert_eq!(reply.sender_ip, req.target_ip);
        assert_eq!(reply.target_ip, req.sender_ip);
    }
}
