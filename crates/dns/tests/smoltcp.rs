//! smoltcp 0.14's own DNS socket, on a real interface, resolves through this
//! crate: the test plays the network (ARP and the resolver) with frames.
//!
//! This is the evidence that `build_response` gives what smoltcp accepts, and
//! a record of what smoltcp sends: one question, RD set, the type the caller
//! chose, the name with the caller's case.

use std::collections::VecDeque;
use std::net::Ipv4Addr;

use smoltcp::iface::{Config, Interface, SocketHandle, SocketSet};
use smoltcp::phy::{self, ChecksumCapabilities, Device, DeviceCapabilities, Medium};
use smoltcp::socket::dns::{self, GetQueryResultError};
use smoltcp::time::Instant;
use smoltcp::wire::{
    ArpOperation, ArpPacket, ArpRepr, DnsQueryType, EthernetAddress, EthernetFrame, EthernetProtocol, EthernetRepr,
    HardwareAddress, IpAddress, IpCidr, IpProtocol, Ipv4Address, Ipv4Packet, Ipv4Repr, UdpPacket, UdpRepr,
};
use vpcsim_dns::{Answer, QueryType, build_response, parse_query};

const HOST_MAC: EthernetAddress = EthernetAddress([0x02, 0, 0, 0, 0, 0x0a]);
const RESOLVER_MAC: EthernetAddress = EthernetAddress([0x02, 0, 0, 0, 0, 0x02]);
const HOST_IP: Ipv4Address = Ipv4Address::new(10, 0, 0, 10);
const RESOLVER_IP: Ipv4Address = Ipv4Address::new(10, 0, 0, 2);

/// Frames in memory, both ways.
#[derive(Default)]
struct Wire {
    rx: VecDeque<Vec<u8>>,
    tx: Vec<Vec<u8>>,
}

impl Device for Wire {
    type RxToken<'a> = Rx;
    type TxToken<'a> = Tx<'a>;

    fn receive(&mut self, _: Instant) -> Option<(Rx, Tx<'_>)> {
        let frame = self.rx.pop_front()?;
        Some((Rx(frame), Tx(&mut self.tx)))
    }

    fn transmit(&mut self, _: Instant) -> Option<Tx<'_>> {
        Some(Tx(&mut self.tx))
    }

    fn capabilities(&self) -> DeviceCapabilities {
        let mut caps = DeviceCapabilities::default();
        caps.medium = Medium::Ethernet;
        caps.max_transmission_unit = 1514;
        caps
    }
}

struct Rx(Vec<u8>);

impl phy::RxToken for Rx {
    fn consume<R, F: FnOnce(&[u8]) -> R>(self, f: F) -> R {
        f(&self.0)
    }
}

struct Tx<'a>(&'a mut Vec<Vec<u8>>);

impl phy::TxToken for Tx<'_> {
    fn consume<R, F: FnOnce(&mut [u8]) -> R>(self, len: usize, f: F) -> R {
        let mut frame = vec![0; len];
        let r = f(&mut frame);
        self.0.push(frame);
        r
    }
}

/// One host with a DNS socket whose server is the resolver.
struct Host {
    wire: Wire,
    iface: Interface,
    sockets: SocketSet<'static>,
    dns: SocketHandle,
    now: Instant,
}

impl Host {
    fn new() -> Host {
        let mut wire = Wire::default();
        let mut iface = Interface::new(Config::new(HardwareAddress::Ethernet(HOST_MAC)), &mut wire, Instant::ZERO);
        iface.update_ip_addrs(|addrs| {
            addrs.push(IpCidr::new(IpAddress::Ipv4(HOST_IP), 24)).expect("room for one address");
        });
        let mut sockets = SocketSet::new(Vec::new());
        let dns = sockets.add(dns::Socket::new(&[IpAddress::Ipv4(RESOLVER_IP)], Vec::new()));
        Host { wire, iface, sockets, dns, now: Instant::ZERO }
    }

    /// Polls 50 ms later than the last poll: enough steps to see smoltcp's
    /// retransmissions (1 s, then doubling) and its 10 s timeout.
    fn poll(&mut self) {
        self.now += smoltcp::time::Duration::from_millis(50);
        self.iface.poll(self.now, &mut self.wire, &mut self.sockets);
    }

    /// Starts a query and runs the network, the resolver answering each DNS
    /// query with `respond`, until the socket has a result.
    fn resolve(
        &mut self,
        name: &str,
        qtype: DnsQueryType,
        mut respond: impl FnMut(&[u8]) -> Vec<u8>,
    ) -> Result<Vec<IpAddress>, GetQueryResultError> {
        let handle = self
            .sockets
            .get_mut::<dns::Socket>(self.dns)
            .start_query(self.iface.context(), name, qtype)
            .expect("a free query slot");
        // 30 simulated seconds.
        for _ in 0..300 {
            self.poll();
            for frame in std::mem::take(&mut self.wire.tx) {
                if let Some(reply) = network(&frame, &mut respond) {
                    self.wire.rx.push_back(reply);
                }
            }
            self.poll();
            match self.sockets.get_mut::<dns::Socket>(self.dns).get_query_result(handle) {
                Err(GetQueryResultError::Pending) => {}
                result => return result.map(|addrs| addrs.to_vec()),
            }
        }
        panic!("no result after 30 s");
    }
}

/// The network's answer to a frame from the host: an ARP reply for the
/// resolver's address, or the resolver's response to a DNS query.
fn network(frame: &[u8], respond: &mut impl FnMut(&[u8]) -> Vec<u8>) -> Option<Vec<u8>> {
    let caps = ChecksumCapabilities::default();
    let eth = EthernetFrame::new_checked(frame).ok()?;
    match eth.ethertype() {
        EthernetProtocol::Arp => {
            let ArpRepr::EthernetIpv4 { operation: ArpOperation::Request, target_protocol_addr, .. } =
                ArpRepr::parse(&ArpPacket::new_checked(eth.payload()).ok()?).ok()?
            else {
                return None;
            };
            assert_eq!(target_protocol_addr, RESOLVER_IP);
            let arp = ArpRepr::EthernetIpv4 {
                operation: ArpOperation::Reply,
                source_hardware_addr: RESOLVER_MAC,
                source_protocol_addr: RESOLVER_IP,
                target_hardware_addr: HOST_MAC,
                target_protocol_addr: HOST_IP,
            };
            let mut out = vec![0; 14 + arp.buffer_len()];
            let mut reply = EthernetFrame::new_unchecked(&mut out[..]);
            EthernetRepr { src_addr: RESOLVER_MAC, dst_addr: HOST_MAC, ethertype: EthernetProtocol::Arp }
                .emit(&mut reply);
            arp.emit(&mut ArpPacket::new_unchecked(reply.payload_mut()));
            Some(out)
        }
        EthernetProtocol::Ipv4 => {
            let ip = Ipv4Packet::new_checked(eth.payload()).ok()?;
            let ip_repr = Ipv4Repr::parse(&ip, &caps).ok()?;
            assert_eq!(ip_repr.next_header, IpProtocol::Udp);
            let udp = UdpPacket::new_checked(ip.payload()).ok()?;
            let udp_repr = UdpRepr::parse(&udp, &ip_repr.src_addr.into(), &ip_repr.dst_addr.into(), &caps).ok()?;
            assert_eq!((ip_repr.dst_addr, udp_repr.dst_port), (RESOLVER_IP, 53));
            let payload = respond(udp.payload());
            Some(udp_frame(RESOLVER_IP, 53, ip_repr.src_addr, udp_repr.src_port, &payload))
        }
        _ => None,
    }
}

/// An Ethernet frame from the resolver to the host carrying `payload` in UDP.
fn udp_frame(src: Ipv4Address, src_port: u16, dst: Ipv4Address, dst_port: u16, payload: &[u8]) -> Vec<u8> {
    let caps = ChecksumCapabilities::default();
    let udp = UdpRepr { src_port, dst_port };
    let ip = Ipv4Repr {
        src_addr: src,
        dst_addr: dst,
        next_header: IpProtocol::Udp,
        payload_len: udp.header_len() + payload.len(),
        hop_limit: 64,
    };
    let mut out = vec![0; 14 + ip.buffer_len() + ip.payload_len];
    let mut frame = EthernetFrame::new_unchecked(&mut out[..]);
    EthernetRepr { src_addr: RESOLVER_MAC, dst_addr: HOST_MAC, ethertype: EthernetProtocol::Ipv4 }.emit(&mut frame);
    let mut ip_packet = Ipv4Packet::new_unchecked(frame.payload_mut());
    ip.emit(&mut ip_packet, &caps);
    udp.emit(
        &mut UdpPacket::new_unchecked(ip_packet.payload_mut()),
        &src.into(),
        &dst.into(),
        payload.len(),
        |buf| buf.copy_from_slice(payload),
        &caps,
    );
    out
}

/// The resolver: parses the query, answers with `answer`.
fn resolver(answer: Answer) -> impl FnMut(&[u8]) -> Vec<u8> {
    move |bytes| {
        let query = parse_query(bytes).expect("smoltcp sends a standard query");
        let mut out = Vec::new();
        build_response(&query, &answer, 60, &mut out);
        out
    }
}

fn s3_answer() -> Answer {
    Answer::Addresses {
        v4: vec![Ipv4Addr::new(52, 217, 0, 1), Ipv4Addr::new(52, 217, 0, 2)],
        v6: vec!["2600:1f18::1".parse().expect("an address")],
    }
}

#[test]
fn smoltcp_sends_a_standard_query() {
    let mut host = Host::new();
    let mut seen = Vec::new();
    let _ = host.resolve("S3.us-east-1.amazonaws.com.", DnsQueryType::A, |bytes| {
        seen.push(bytes.to_vec());
        resolver(s3_answer())(bytes)
    });
    assert_eq!(seen.len(), 1);
    let query = parse_query(&seen[0]).expect("a standard query");
    assert_eq!(query.name, "s3.us-east-1.amazonaws.com");
    assert_eq!(query.qtype, QueryType::A);
    assert!(query.recursion_desired);
    // Flags exactly RD, one question, nothing else (no EDNS).
    assert_eq!(&seen[0][2..12], &[0x01, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00]);
    // The case as the caller wrote it; the final dot dropped.
    assert_eq!(&query.wire_name[..3], b"\x02S3");
}

#[test]
fn smoltcp_accepts_an_a_answer() {
    let mut host = Host::new();
    let addrs = host.resolve("s3.us-east-1.amazonaws.com", DnsQueryType::A, resolver(s3_answer()));
    // smoltcp keeps DNS_MAX_RESULT_COUNT addresses (1 by default) and drops
    // the rest.
    assert_eq!(addrs, Ok(vec![IpAddress::v4(52, 217, 0, 1)]));
}

#[test]
fn smoltcp_accepts_an_aaaa_answer() {
    let mut host = Host::new();
    let addrs = host.resolve("s3.us-east-1.amazonaws.com", DnsQueryType::Aaaa, resolver(s3_answer()));
    assert_eq!(addrs, Ok(vec![IpAddress::Ipv6("2600:1f18::1".parse().expect("an address"))]));
}

#[test]
fn smoltcp_needs_the_name_echoed_with_its_case() {
    let mut host = Host::new();
    let addrs = host.resolve("S3.US-East-1.amazonaws.com", DnsQueryType::A, resolver(s3_answer()));
    assert_eq!(addrs, Ok(vec![IpAddress::v4(52, 217, 0, 1)]));

    // Lowercasing the echoed question makes smoltcp ignore the response: it
    // retransmits, then gives up. This is why `Query` keeps `wire_name`.
    let mut host = Host::new();
    let mut sent = 0;
    let addrs = host.resolve("S3.US-East-1.amazonaws.com", DnsQueryType::A, |bytes| {
        sent += 1;
        let mut query = parse_query(bytes).expect("a standard query");
        query.wire_name.clear();
        let mut out = Vec::new();
        build_response(&query, &s3_answer(), 60, &mut out);
        out
    });
    assert_eq!(addrs, Err(GetQueryResultError::Failed));
    // Sent at 0, 1, 3 and 7 s (the delay doubles from 1 s, at most 10 s),
    // and failed at the 10 s timeout, there being one server only.
    assert_eq!(sent, 4);
}

#[test]
fn smoltcp_fails_on_nxdomain_and_nodata() {
    let mut host = Host::new();
    assert_eq!(
        host.resolve("nowhere.ec2.internal", DnsQueryType::A, resolver(Answer::NxDomain)),
        Err(GetQueryResultError::Failed)
    );
    let only_v4 = Answer::Addresses { v4: vec![Ipv4Addr::new(10, 0, 0, 5)], v6: vec![] };
    assert_eq!(
        host.resolve("ip-10-0-0-5.ec2.internal", DnsQueryType::Aaaa, resolver(only_v4)),
        Err(GetQueryResultError::Failed)
    );
}
