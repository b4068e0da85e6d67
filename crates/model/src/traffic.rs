//! Traffic a scenario asks for: `[[flow]]`s that `vpcsim run` generates and
//! `[[expect]]`ations that `vpcsim check` verifies.

use std::net::IpAddr;
use std::time::Duration;

use crate::{HostIdx, Protocol};

/// Where a probe or flow goes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Destination {
    /// A host id: its private IPv4 address.
    Host(HostIdx),
    /// An IP address, IPv4 or IPv6, sent to as is: nobody need own it, and
    /// it may be a link-local service (169.254.169.254, fd00:ec2::254).
    Ip(IpAddr),
    /// A DNS name, resolved from the source host.
    Name(String),
}

/// What an expectation says should happen.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExpectedResult {
    /// TCP: the handshake completed both ways.
    Connected,
    /// TCP: a RST came back.
    Refused,
    /// TCP: connected, but the request was refused (HTTP 403).
    Denied,
    /// UDP, ICMP: the reply came back.
    Replied,
    /// The packet or its reply died on the way.
    Dropped,
}

impl ExpectedResult {
    /// The scenario's word for it (`result = "connected"`).
    pub fn as_str(self) -> &'static str {
        match self {
            ExpectedResult::Connected => "connected",
            ExpectedResult::Refused => "refused",
            ExpectedResult::Denied => "denied",
            ExpectedResult::Replied => "replied",
            ExpectedResult::Dropped => "dropped",
        }
    }
}

/// The leg of a probe: the packet out, or its reply.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Leg {
    /// `on = "forward"`: the packet from the probe's source to its destination.
    Forward,
    /// `on = "return"`: the reply, from the destination back to the source.
    Return,
}

/// A request sent once a TCP connection to an AWS service is made.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Request {
    /// The IAM action asked for, as an endpoint policy names it
    /// (`s3:GetObject`).
    pub action: String,
    /// The ARN of the resource it acts on (`arn:aws:s3:::reports/q1.csv`).
    pub resource: String,
    /// Defaults to the source VPC's account root.
    pub principal: Option<String>,
}

/// One `[[expect]]`: a probe and what it should find.
#[derive(Clone, Debug)]
pub struct Expectation {
    /// The name reports give it; when the file gives none, vpcsim's
    /// `"<from> -> <to> <proto>/<port>"`.
    pub name: String,
    /// The host whose own stack sends the probe.
    pub from: HostIdx,
    /// What the probe is sent to: a host, an address, or a DNS name (an
    /// interface endpoint id stands for its regional DNS name).
    pub to: Destination,
    /// Tcp, Udp, Icmp or Icmpv6.
    pub proto: Protocol,
    /// The destination port (TCP, UDP).
    pub port: Option<u16>,
    /// When the probe starts, in simulated time (default 0s, at most one
    /// year); it sees every event at or before this instant and none after.
    pub at: Duration,
    /// How long the probe waits for its answer (default 1s, above 0, at most
    /// 1h); retransmissions inside it count.
    pub timeout: Duration,
    /// TCP to an AWS service: the request sent once connected, which an
    /// endpoint policy may deny (`denied`).
    pub request: Option<Request>,
    /// What the probe should find.
    pub result: ExpectedResult,
    /// Ids the forward leg must cross, in this order (an ordered
    /// subsequence): gateways, peerings, endpoints, load balancers; empty
    /// checks nothing.
    pub via: Vec<String>,
    /// With `Dropped`: the reason of the first drop.
    pub drop_reason: Option<crate::DropReason>,
    /// With `Dropped`: the id of the resource where the first drop happened
    /// (an id of the file, an implicit id, or `eni-<host>`).
    pub drop_at: Option<String>,
    /// With `Dropped`: the leg on which the first drop happened.
    pub on: Option<Leg>,
    /// The source address the destination should see (after any NAT or
    /// load balancer rewrite).
    pub seen_source: Option<IpAddr>,
    /// UDP probes: the payload's size in bytes (vpcsim's extension).
    pub size: Option<usize>,
}

/// One `[[flow]]`: traffic that `vpcsim run` generates.
#[derive(Clone, Debug)]
pub struct Flow {
    /// The host whose own stack opens the connections.
    pub from: HostIdx,
    /// Where they go: a host, an address, or a DNS name resolved from `from`.
    pub to: Destination,
    /// Tcp, Udp, Icmp or Icmpv6, as for an expectation.
    pub proto: Protocol,
    /// The destination port: required for TCP and UDP (1–65535), none for ICMP.
    pub port: Option<u16>,
    /// When the flow starts, in simulated time (default 0s, at most one year).
    pub start: Duration,
    /// How many requests it makes, one after another (TCP: each on a
    /// connection of its own); default 1, 1 to 100,000, and at most 100,000
    /// for all flows together.
    pub requests: u32,
}

/// What makes `ip` no destination a host can send a probe to, if anything:
/// loopback, unspecified, multicast, broadcast, IPv4-mapped IPv6. One rule
/// for a `to` written in a file (refused at load) and for an address a DNS
/// answer gives (`not-unicast` when the probe runs).
pub fn unusable_destination(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(a) if a.is_loopback() => Some("a loopback address"),
        IpAddr::V4(a) if a.is_unspecified() => Some("the unspecified address"),
        IpAddr::V4(a) if a.is_multicast() => Some("a multicast address"),
        IpAddr::V4(a) if a.is_broadcast() => Some("the broadcast address"),
        IpAddr::V6(a) if a.is_loopback() => Some("the IPv6 loopback address"),
        IpAddr::V6(a) if a.is_unspecified() => Some("the unspecified address"),
        IpAddr::V6(a) if a.is_multicast() => Some("a multicast address"),
        IpAddr::V6(a) if a.to_ipv4_mapped().is_some() => Some("an IPv4-mapped IPv6 address"),
        _ => None,
    }
}
