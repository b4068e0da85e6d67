//! The one harness of the data-plane tests (`mod common;` in each test file):
//! a fabric built from a scenario text, frames sent from a host's ENI, and the
//! assertions on one frame's fate. Frame makers that only one file needs stay
//! in that file, as an `impl Net` block of its own.
//!
//! Each test file is its own crate and uses a part of this module; the rest
//! would be dead code there.
#![allow(dead_code)]

use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;
use std::time::Duration;

use etherparse::{NetSlice, PacketBuilder, SlicedPacket, TransportSlice};
use vpcsim_dataplane::packet::{Meta, Parsed, parse};
use vpcsim_dataplane::{DropReason, Fabric, Step, Trace, Verdict};
use vpcsim_model::{EniIdx, Topology};

/// A fabric, its topology and the time frames are sent at.
pub(crate) struct Net {
    pub fabric: Fabric,
    pub t: Arc<Topology>,
    pub now: Duration,
}

/// One frame's fate: the verdict, the frame that came out, the trace and its
/// rendering.
pub(crate) struct Sent {
    pub verdict: Verdict,
    pub out: Vec<u8>,
    pub trace: Trace,
    pub text: String,
}

impl Net {
    /// Loads the scenario `src` (named `file` in diagnostics) into a fresh fabric.
    pub(crate) fn load(src: &str, file: &str) -> Net {
        Net::with_fabric(src, file, |f| f)
    }

    /// Like `load`, with the fabric adjusted by `adjust` (a smaller table, …).
    pub(crate) fn with_fabric(src: &str, file: &str, adjust: impl FnOnce(Fabric) -> Fabric) -> Net {
        let t = Arc::new(vpcsim_scenario::load_str(src, file).unwrap_or_else(|e| panic!("{e}")));
        Net { fabric: adjust(Fabric::new(Arc::clone(&t))), t, now: Duration::ZERO }
    }

    pub(crate) fn eni(&self, host: &str) -> EniIdx {
        let h = self.t.host_by_id(host).unwrap_or_else(|| panic!("no host {host}"));
        self.t.host(h).eni
    }

    pub(crate) fn mac(&self, host: &str) -> [u8; 6] {
        self.t.eni(self.eni(host)).mac
    }

    /// The host's primary IPv4 address.
    pub(crate) fn ipv4(&self, host: &str) -> Ipv4Addr {
        self.t.eni(self.eni(host)).ipv4
    }

    /// Sends `frame` from `host`'s ENI at `now`, with the trace on.
    pub(crate) fn send(&mut self, host: &str, frame: &[u8]) -> Sent {
        let mut out = Vec::new();
        let mut trace = Trace::on();
        let verdict = self.fabric.process(self.now, self.eni(host), frame, &mut out, &mut trace);
        let text = trace.render(&self.t);
        Sent { verdict, out, trace, text }
    }
}

impl Sent {
    /// Asserts the frame was delivered to `host`.
    pub(crate) fn delivered_to(&self, net: &Net, host: &str) {
        assert_eq!(self.verdict, Verdict::Deliver(net.eni(host)), "trace:\n{}", self.text);
    }

    /// Asserts the frame was delivered to `host` with every checksum right, and
    /// returns what it carried.
    pub(crate) fn delivered_intact_to(&self, net: &Net, host: &str) -> Meta {
        self.delivered_to(net, host);
        assert_checksums(&self.out);
        self.ip()
    }

    /// Asserts the frame was dropped for `reason` at the component `at` (an id).
    pub(crate) fn dropped(&self, reason: DropReason, at: &str, net: &Net) {
        let Some(d) = self.verdict.dropped() else { panic!("not dropped: {:?}\ntrace:\n{}", self.verdict, self.text) };
        assert_eq!(d.reason, reason, "trace:\n{}", self.text);
        assert!(d.at.answers_to(&net.t, at), "dropped at {:?}, expected {at}\ntrace:\n{}", d.at, self.text);
    }

    /// The ids of the components crossed, in order.
    pub(crate) fn crossed(&self, net: &Net) -> Vec<String> {
        self.trace
            .steps
            .iter()
            .filter_map(|s| match s {
                Step::Crossed { component } => Some(component.id(&net.t).to_string()),
                _ => None,
            })
            .collect()
    }

    /// The first route lookup's winner and the routes it beat.
    pub(crate) fn route_winner(&self) -> (Option<usize>, Vec<usize>) {
        self.trace
            .steps
            .iter()
            .find_map(|s| match s {
                Step::RouteLookup { winner, beaten, .. } => Some((*winner, beaten.clone())),
                _ => None,
            })
            .expect("a route lookup")
    }

    /// The fields of the frame that came out.
    pub(crate) fn ip(&self) -> Meta {
        match parse(&self.out) {
            Ok(Parsed::Ip(m)) => m,
            other => panic!("not an IP frame: {other:?}"),
        }
    }
}

/// An Ethernet and IP header builder from a host's MAC to the router.
pub(crate) fn builder(
    mac: [u8; 6],
    src: &str,
    dst: &str,
    ttl: u8,
) -> etherparse::PacketBuilderStep<etherparse::IpHeaders> {
    // Hosts send to the router's MAC; the fabric rewrites it anyway.
    let eth = PacketBuilder::ethernet2(mac, [0x02, 0x01, 0, 0, 0, 0]);
    match (ip(src), ip(dst)) {
        (IpAddr::V4(s), IpAddr::V4(d)) => eth.ipv4(s.octets(), d.octets(), ttl),
        (IpAddr::V6(s), IpAddr::V6(d)) => eth.ipv6(s.octets(), d.octets(), ttl),
        _ => panic!("mixed families"),
    }
}

/// Asserts that every checksum of the frame is right (IPv4 header, TCP, UDP,
/// ICMP; TCP over IPv6).
pub(crate) fn assert_checksums(frame: &[u8]) {
    let p = SlicedPacket::from_ethernet(frame).unwrap();
    match (&p.net, &p.transport) {
        (Some(NetSlice::Ipv4(ip)), t) => {
            let h = ip.header().to_header();
            assert_eq!(h.header_checksum, h.calc_header_checksum(), "IPv4 header checksum");
            match t {
                Some(TransportSlice::Tcp(tcp)) => assert_eq!(
                    tcp.checksum(),
                    tcp.to_header().calc_checksum_ipv4(&h, tcp.payload()).unwrap(),
                    "TCP checksum"
                ),
                Some(TransportSlice::Udp(udp)) => assert_eq!(
                    udp.checksum(),
                    udp.to_header().calc_checksum_ipv4(&h, udp.payload()).unwrap(),
                    "UDP checksum"
                ),
                Some(TransportSlice::Icmpv4(icmp)) => {
                    assert_eq!(icmp.checksum(), icmp.header().icmp_type.calc_checksum(icmp.payload()), "ICMP checksum")
                }
                _ => {}
            }
        }
        (Some(NetSlice::Ipv6(ip)), Some(TransportSlice::Tcp(tcp))) => {
            let h = ip.header().to_header();
            assert_eq!(tcp.checksum(), tcp.to_header().calc_checksum_ipv6(&h, tcp.payload()).unwrap(), "TCP checksum");
        }
        _ => {}
    }
}

pub(crate) fn ip(s: &str) -> IpAddr {
    s.parse().unwrap_or_else(|e| panic!("{s}: {e}"))
}
