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
    Forward,
    Return,
}

/// A request sent once a TCP connection to an AWS service is made.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Request {
    pub action: String,
    pub resource: String,
    /// Defaults to the source VPC's account root.
    pub principal: Option<String>,
}

/// One `[[expect]]`: a probe and what it should find.
#[derive(Clone, Debug)]
pub struct Expectation {
    pub name: String,
    pub from: HostIdx,
    pub to: Destination,
    /// Tcp, Udp, Icmp or Icmpv6.
    pub proto: Protocol,
    /// The destination port (TCP, UDP).
    pub port: Option<u16>,
    pub at: Duration,
    pub timeout: Duration,
    pub request: Option<Request>,
    pub result: ExpectedResult,
    pub via: Vec<String>,
    pub drop_reason: Option<crate::DropReason>,
    pub drop_at: Option<String>,
    pub on: Option<Leg>,
    pub seen_source: Option<IpAddr>,
    /// UDP probes: the payload's size in bytes (vpcsim's extension).
    pub size: Option<usize>,
}

/// One `[[flow]]`: traffic that `vpcsim run` generates.
#[derive(Clone, Debug)]
pub struct Flow {
    pub from: HostIdx,
    pub to: Destination,
    pub proto: Protocol,
    pub port: Option<u16>,
    pub start: Duration,
    pub requests: u32,
}
