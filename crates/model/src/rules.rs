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
    Tcp,
    Udp,
    Icmp,
    Icmpv6,
    /// Any other IP protocol number.
    Number(u8),
}

impl Protocol {
    pub const TCP: u8 = 6;
    pub const UDP: u8 = 17;
    pub const ICMP: u8 = 1;
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
    pub first: u16,
    pub last: u16,
}

impl PortRange {
    pub const ALL: PortRange = PortRange { first: 0, last: u16::MAX };

    pub fn single(port: u16) -> PortRange {
        PortRange { first: port, last: port }
    }

    pub fn contains(self, port: u16) -> bool {
        (self.first..=self.last).contains(&port)
    }

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
    Cidr(IpNet),
    /// The private addresses of the ENIs in this group.
    Sg(SgIdx),
    PrefixList(PrefixListIdx),
}

/// A security-group rule: an allow.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SgRule {
    pub proto: Protocol,
    /// For TCP and UDP the destination port; for ICMP the ICMP type.
    pub ports: PortRange,
    pub peer: SgPeer,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    Allow,
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
    pub action: Action,
    pub proto: Protocol,
    /// For TCP and UDP the destination port; for ICMP the ICMP type.
    pub ports: PortRange,
    /// Ingress: the source; egress: the destination.
    pub cidr: IpNet,
}
