//! Why a packet or a probe died: the contract's drop reasons, in one place.
//! The data plane drops with the first nineteen; a probe can also end for a
//! reason of its own before or after any packet (a name that does not
//! resolve, an address family the host lacks, no answer in time). Scenarios
//! name them in `drop_reason`, and the loader refuses any other word.

use std::fmt;

/// Why a packet or a probe died. The names are the contract's vocabulary.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DropReason {
    /// No route matches the destination.
    NoRoute,
    /// The matching route is a blackhole.
    Blackhole,
    /// No security-group egress rule allows it.
    SgEgress,
    /// No security-group ingress rule allows it.
    SgIngress,
    /// A network ACL egress rule (or the implicit `*`) denied it.
    NaclEgress,
    /// A network ACL ingress rule (or the implicit `*`) denied it.
    NaclIngress,
    /// The hop limit ran out.
    TtlExceeded,
    /// Larger than the next hop's MTU.
    MtuExceeded,
    /// Nobody owns the destination address in its address space.
    NoDestination,
    /// An internet gateway cannot translate a private IPv4 source without a
    /// public IP.
    NoPublicIp,
    /// An ENI with source/destination check on sent from, or was sent to, an
    /// address that is not its own.
    SourceDestCheck,
    /// The frame could not be read.
    Malformed,
    /// Connection tracking is full: the new flow could not be tracked.
    ConntrackFull,
    /// The endpoint policy denies the request.
    EndpointPolicy,
    /// The interface endpoint is not in state Available.
    EndpointNotAvailable,
    /// The load balancer has no healthy target for it.
    NoTarget,
    /// The target cannot carry this traffic: a peering used transitively or
    /// edge-to-edge, IPv4 at an egress-only internet gateway, a protocol a NAT
    /// gateway does not translate, anything but TCP through an interface
    /// endpoint.
    NotReachableVia,
    /// Inbound traffic that matches no session of a NAT gateway or flow of an
    /// egress-only internet gateway (unsolicited, or addressed to the NAT
    /// gateway itself).
    NoSession,
    /// A NAT gateway has no port left for another connection to this
    /// destination (IP, port, protocol).
    NatPortExhausted,
    /// A probe's: the name did not resolve.
    Nxdomain,
    /// A probe's: the source host has no address of the destination's family
    /// (an IPv4-only host asked to reach an IPv6 address, or the reverse), so
    /// its stack cannot send and no frame leaves.
    NoAddressFamily,
    /// A probe's: the destination cannot be sent to (loopback, multicast,
    /// broadcast, unspecified, IPv4-mapped IPv6), as a DNS answer may give.
    NotUnicast,
    /// A probe's: nothing was dropped, but no answer came back before the
    /// timeout (a hop latency too long for it, a server that never answers).
    Timeout,
}

impl DropReason {
    /// Every reason, the data plane's first.
    pub const ALL: [DropReason; 23] = [
        DropReason::NoRoute,
        DropReason::Blackhole,
        DropReason::SgEgress,
        DropReason::SgIngress,
        DropReason::NaclEgress,
        DropReason::NaclIngress,
        DropReason::TtlExceeded,
        DropReason::MtuExceeded,
        DropReason::NoDestination,
        DropReason::NoPublicIp,
        DropReason::SourceDestCheck,
        DropReason::Malformed,
        DropReason::ConntrackFull,
        DropReason::EndpointPolicy,
        DropReason::EndpointNotAvailable,
        DropReason::NotReachableVia,
        DropReason::NoTarget,
        DropReason::NoSession,
        DropReason::NatPortExhausted,
        DropReason::Nxdomain,
        DropReason::NoAddressFamily,
        DropReason::NotUnicast,
        DropReason::Timeout,
    ];

    /// The one-word name scenarios use in `drop_reason`.
    pub fn as_str(self) -> &'static str {
        match self {
            DropReason::NoRoute => "no-route",
            DropReason::Blackhole => "blackhole",
            DropReason::SgEgress => "sg-egress",
            DropReason::SgIngress => "sg-ingress",
            DropReason::NaclEgress => "nacl-egress",
            DropReason::NaclIngress => "nacl-ingress",
            DropReason::TtlExceeded => "ttl-exceeded",
            DropReason::MtuExceeded => "mtu-exceeded",
            DropReason::NoDestination => "no-destination",
            DropReason::NoPublicIp => "no-public-ip",
            DropReason::SourceDestCheck => "source-dest-check",
            DropReason::Malformed => "malformed",
            DropReason::ConntrackFull => "conntrack-full",
            DropReason::EndpointPolicy => "endpoint-policy",
            DropReason::EndpointNotAvailable => "endpoint-not-available",
            DropReason::NoTarget => "no-target",
            DropReason::NotReachableVia => "not-reachable-via",
            DropReason::NoSession => "no-session",
            DropReason::NatPortExhausted => "nat-port-exhausted",
            DropReason::Nxdomain => "nxdomain",
            DropReason::NoAddressFamily => "no-address-family",
            DropReason::NotUnicast => "not-unicast",
            DropReason::Timeout => "timeout",
        }
    }

    /// The reason a scenario's `drop_reason` word names, if it is one of
    /// [`DropReason::ALL`]'s names exactly.
    pub fn from_name(s: &str) -> Option<DropReason> {
        Self::ALL.into_iter().find(|r| r.as_str() == s)
    }

    /// The reason whose name is closest to a word that is none, when it is
    /// close enough to be a slip (a third of its letters at most).
    pub fn did_you_mean(s: &str) -> Option<DropReason> {
        let (distance, best) = Self::ALL.into_iter().map(|r| (edit_distance(s, r.as_str()), r)).min()?;
        (distance <= best.as_str().len().max(3) / 3).then_some(best)
    }

    /// A distinct index below `ALL.len()`, for counters.
    pub fn slot(self) -> usize {
        self as usize
    }
}

impl fmt::Display for DropReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Levenshtein distance, by characters; the words are short.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, &cb) in b.iter().enumerate() {
            let above = row[j + 1];
            row[j + 1] = (diagonal + usize::from(ca != cb)).min(row[j] + 1).min(above + 1);
            diagonal = above;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::DropReason;

    #[test]
    fn every_reason_has_its_own_name_and_slot() {
        let mut slots = std::collections::BTreeSet::new();
        for r in DropReason::ALL {
            assert!(r.slot() < DropReason::ALL.len() && slots.insert(r.slot()), "{r}");
            assert_eq!(DropReason::from_name(r.as_str()), Some(r));
        }
    }

    #[test]
    fn a_slip_has_a_suggestion_and_a_stranger_none() {
        assert_eq!(DropReason::did_you_mean("blackhol"), Some(DropReason::Blackhole));
        assert_eq!(DropReason::did_you_mean("sg-ingres"), Some(DropReason::SgIngress));
        assert_eq!(DropReason::did_you_mean("nacl_egress"), Some(DropReason::NaclEgress));
        assert_eq!(DropReason::did_you_mean("timeout"), Some(DropReason::Timeout));
        assert_eq!(DropReason::did_you_mean("firewall"), None);
        assert_eq!(DropReason::did_you_mean(""), None);
    }
}
