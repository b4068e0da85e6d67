//! Security-group and network-ACL rules, and the protocol and port vocabulary
//! they share.

use std::fmt;

use ipnet::IpNet;

use crate::{PrefixListIdx, SgIdx};

/// An IP protocol as a rule names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Protocol {
    /// AWS's `-1`: every protocol, every port.
    All,
    /// TCP, IP protocol 6 (`tcp` or `6`); rules select by destination port.
    Tcp,
    /// UDP, IP protocol 17 (`udp` or `17`); rules select by destination port.
    Udp,
    /// ICMP, IP protocol 1 (`icmp` or `1`); rules select by ICMP type.
    Icmp,
    /// ICMPv6, IP protocol 58 (`icmpv6` or `58`); rules select by ICMP type.
    Icmpv6,
    /// Any other IP protocol number.
    Number(u8),
}

impl Protocol {
    /// TCP's IP protocol number (IANA).
    pub const TCP: u8 = 6;
    /// UDP's IP protocol number (IANA).
    pub const UDP: u8 = 17;
    /// ICMP's IP protocol number (IANA).
    pub const ICMP: u8 = 1;
    /// ICMPv6's IP protocol number (IANA).
    pub const ICMPV6: u8 = 58;

    /// The IP protocol number, `None` for `All`.
    pub fn number(self) -> Option<u8> {
        match self {
            Protocol::All => None,
            Protocol::Tcp => Some(Self::TCP),
            Protocol::Udp => Some(Self::UDP),
            Protocol::Icmp => Some(Self::ICMP),
            Protocol::Icmpv6 => Some(Self::ICMPV6),
            Protocol::Number(n) => Some(n),
        }
    }

    /// The protocol for an IP protocol number, named when it has a name.
    pub fn from_number(n: u8) -> Protocol {
        match n {
            Self::TCP => Protocol::Tcp,
            Self::UDP => Protocol::Udp,
            Self::ICMP => Protocol::Icmp,
            Self::ICMPV6 => Protocol::Icmpv6,
            n => Protocol::Number(n),
        }
    }

    /// Whether a packet of IP protocol `n` is of this protocol.
    pub fn matches(self, n: u8) -> bool {
        self.number().is_none_or(|p| p == n)
    }

    /// Whether rules of this protocol select by port (TCP, UDP) or by ICMP type
    /// (ICMP, ICMPv6). Other protocols have neither.
    pub fn has_ports(self) -> bool {
        matches!(self, Protocol::Tcp | Protocol::Udp | Protocol::Icmp | Protocol::Icmpv6)
    }
}

impl fmt::Display for Protocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Protocol::All => f.write_str("all"),
            Protocol::Tcp => f.write_str("tcp"),
            Protocol::Udp => f.write_str("udp"),
            Protocol::Icmp => f.write_str("icmp"),
            Protocol::Icmpv6 => f.write_str("icmpv6"),
            Protocol::Number(n) => write!(f, "{n}"),
        }
    }
}

/// An inclusive range of ports (for ICMP: of ICMP types).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct PortRange {
    /// The lowest port (or ICMP type) matched; at most `last`.
    pub first: u16,
    /// The highest port (or ICMP type) matched, inclusive; at most 65535.
    pub last: u16,
}

impl PortRange {
    /// Every port, 0–65535: what a rule means when it gives no `ports`.
    pub const ALL: PortRange = PortRange { first: 0, last: u16::MAX };

    /// The range of one port (a rule's `ports = "443"` or `ports = 443`).
    pub fn single(port: u16) -> PortRange {
        PortRange { first: port, last: port }
    }

    /// Whether `port` (or ICMP type) lies in the range, both ends included.
    pub fn contains(self, port: u16) -> bool {
        (self.first..=self.last).contains(&port)
    }

    /// Whether the range is every port, 0–65535 (shown as `all`).
    pub fn is_all(self) -> bool {
        self == Self::ALL
    }
}

impl fmt::Display for PortRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_all() {
            f.write_str("all")
        } else if self.first == self.last {
            write!(f, "{}", self.first)
        } else {
            write!(f, "{}-{}", self.first, self.last)
        }
    }
}

/// The other side of a security-group rule.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SgPeer {
    /// A rule's `cidr`: an IPv4 or IPv6 block, any prefix length (a match
    /// pattern, not a network of the scenario).
    Cidr(IpNet),
    /// The private addresses of the ENIs in this group.
    Sg(SgIdx),
    /// A rule's `prefix_list`: every entry of a customer-managed or
    /// AWS-managed prefix list (`pl-s3`, `pl-dynamodb`).
    PrefixList(PrefixListIdx),
}

/// A security-group rule: an allow.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SgRule {
    /// The IP protocol the rule allows; `All` (AWS's `-1`) is every protocol.
    pub proto: Protocol,
    /// For TCP and UDP the destination port; for ICMP the ICMP type.
    pub ports: PortRange,
    /// Ingress: the source the rule admits; egress: the destination.
    pub peer: SgPeer,
}

/// What a network-ACL rule does to the traffic it matches.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    /// `allow`: the traffic passes this NACL.
    Allow,
    /// `deny`: the traffic is dropped (`nacl-ingress` or `nacl-egress`).
    Deny,
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Action::Allow => "allow",
            Action::Deny => "deny",
        })
    }
}

/// A network-ACL rule.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NaclRule {
    /// 1–32766; lowest first.
    pub number: u16,
    /// Whether matching traffic is allowed or denied; no later rule is read.
    pub action: Action,
    /// The IP protocol the rule matches; `All` (AWS's `-1`) is every protocol.
    pub proto: Protocol,
    /// For TCP and UDP the destination port; for ICMP the ICMP type.
    pub ports: PortRange,
    /// Ingress: the source; egress: the destination.
    pub cidr: IpNet,
}
