//! Address classes: which addresses and CIDRs a scenario may give, and to
//! what. One place, so that a VPC, a subnet, an on-premises network, an
//! internet host, a public IP and a route are judged by the same table.
//!
//! A host's address is handed to its TCP/IP stack, which refuses anything but
//! unicast (smoltcp panics on a multicast interface address), so these are
//! checked at load, each as a located error that names the address's class.
//! Rule-matching CIDRs (security groups, NACLs, prefix lists) are patterns and
//! take any prefix; an expectation's `to` is a destination and is not checked
//! here (it may name the link-local services).

use std::net::IpAddr;
use std::sync::LazyLock;

use ipnet::IpNet;

/// Where a scenario gives an address or a CIDR; decides which classes are
/// refused and what the error says AWS allows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Place {
    /// A VPC's or a subnet's CIDR, either family.
    Vpc,
    /// An on-premises network's CIDR.
    OnPrem,
    /// An internet host's address.
    Internet,
    /// A public or Elastic IP (of a host or a NAT gateway).
    Public,
    /// A route's destination, in a VPC or a transit gateway route table.
    RouteDest,
}

/// A block of addresses with a special purpose, and what it is called.
struct Block {
    net: IpNet,
    class: &'static str,
}

fn blocks(table: &[(&str, &'static str)]) -> Vec<Block> {
    // The table is written below; a line that did not parse would only make
    // the check more lenient, never panic.
    table.iter().filter_map(|(net, class)| Some(Block { net: net.parse().ok()?, class })).collect()
}

/// Never unicast host space, whatever it is for (IANA special-purpose
/// registries, RFC 6890). The more specific blocks come first, so that an
/// address is called by its narrowest name.
static NOT_UNICAST: LazyLock<Vec<Block>> = LazyLock::new(|| {
    blocks(&[
        ("0.0.0.0/32", "the unspecified address"),
        ("0.0.0.0/8", "\"this network\" (0.0.0.0/8)"),
        ("127.0.0.0/8", "loopback (127.0.0.0/8)"),
        ("169.254.0.0/16", "link-local (169.254.0.0/16)"),
        ("224.0.0.0/4", "multicast (224.0.0.0/4)"),
        ("255.255.255.255/32", "the broadcast address"),
        ("240.0.0.0/4", "reserved (240.0.0.0/4)"),
        ("::/128", "the unspecified address"),
        ("::1/128", "loopback (::1)"),
        ("::ffff:0:0/96", "IPv4-mapped (::ffff:0:0/96)"),
        ("fe80::/10", "link-local (fe80::/10)"),
        ("ff00::/8", "multicast (ff00::/8)"),
    ])
});

/// Unicast, but never on the public internet.
static NOT_PUBLIC_V4: LazyLock<Vec<Block>> = LazyLock::new(|| {
    blocks(&[
        ("10.0.0.0/8", "private (10.0.0.0/8, RFC 1918)"),
        ("172.16.0.0/12", "private (172.16.0.0/12, RFC 1918)"),
        ("192.168.0.0/16", "private (192.168.0.0/16, RFC 1918)"),
        ("100.64.0.0/10", "shared address space (100.64.0.0/10)"),
    ])
});

/// Where AWS's own link-local services answer over IPv6 (the Amazon DNS
/// server fd00:ec2::253, instance metadata): never a VPC's.
static AWS_SERVICES_V6: LazyLock<Vec<Block>> =
    LazyLock::new(|| blocks(&[("fd00:ec2::/32", "reserved by AWS for its services (fd00:ec2::/32)")]));

/// What a VPC's IPv6 CIDR may be: global unicast, or AWS's private IPv6
/// (unique local addresses).
static VPC_V6: LazyLock<Vec<Block>> =
    LazyLock::new(|| blocks(&[("2000::/3", "global unicast"), ("fc00::/7", "unique local")]));

static GLOBAL_UNICAST_V6: LazyLock<Vec<Block>> = LazyLock::new(|| blocks(&[("2000::/3", "global unicast")]));

fn overlaps(a: IpNet, b: IpNet) -> bool {
    a.contains(&b.network()) || b.contains(&a.network())
}

/// What `net` is: "is" the class of the block that holds all of it, else
/// "overlaps" the first block it reaches into.
fn class_in(net: IpNet, table: &[Block]) -> Option<String> {
    if let Some(b) = table.iter().find(|b| b.net.contains(&net)) {
        return Some(format!("is {}", b.class));
    }
    table.iter().find(|b| overlaps(b.net, net)).map(|b| format!("overlaps {}", b.class))
}

fn within(net: IpNet, table: &[Block]) -> bool {
    table.iter().any(|b| b.net.contains(&net))
}

/// Whether a CIDR may stand at `place`; the error names its class and what
/// AWS allows there.
pub(crate) fn check_cidr(net: IpNet, place: Place) -> Result<(), String> {
    check(net, &net.to_string(), place)
}

/// Whether an address may stand at `place`; the error names its class and
/// what AWS allows there.
pub(crate) fn check_addr(a: IpAddr, place: Place) -> Result<(), String> {
    check(IpNet::from(a), &a.to_string(), place)
}

fn check(net: IpNet, shown: &str, place: Place) -> Result<(), String> {
    let v4 = net.addr().is_ipv4();
    let class = match place {
        // A route is a pattern too: 0.0.0.0/0 reaches into every block and is
        // fine; only a destination wholly inside one can never be used.
        Place::RouteDest => NOT_UNICAST.iter().find(|b| b.net.contains(&net)).map(|b| format!("is {}", b.class)),
        _ => class_in(net, &NOT_UNICAST),
    };
    let class = class.or_else(|| match (place, v4) {
        (Place::Internet | Place::Public, true) => class_in(net, &NOT_PUBLIC_V4),
        (Place::Vpc, false) => class_in(net, &AWS_SERVICES_V6).or_else(|| {
            (!within(net, &VPC_V6)).then(|| "is neither global unicast (2000::/3) nor unique local (fc00::/7)".into())
        }),
        (Place::Internet, false) => {
            (!within(net, &GLOBAL_UNICAST_V6)).then(|| "is not global unicast (2000::/3)".into())
        }
        _ => None,
    });
    let Some(class) = class else {
        return Ok(());
    };
    let allowed = match (place, v4) {
        (Place::Vpc, true) => {
            "AWS refuses it for a VPC or a subnet (not 0.0.0.0/8, 127.0.0.0/8, 169.254.0.0/16, 224.0.0.0/4 or 240.0.0.0/4; RFC 1918 space such as 10.0.0.0/16 is usual)"
        }
        (Place::Vpc, false) => {
            "a VPC's or a subnet's IPv6 CIDR is global unicast (2000::/3) or AWS's private IPv6, unique local (fc00::/7), outside fd00:ec2::/32"
        }
        (Place::OnPrem, _) => {
            "an on-premises network is unicast space (not 0.0.0.0/8, 127.0.0.0/8, 169.254.0.0/16, 224.0.0.0/4 or 240.0.0.0/4)"
        }
        (Place::Internet, true) => "an internet host's IPv4 address is a public internet address",
        (Place::Internet, false) => "an internet host's IPv6 address is global unicast (2000::/3)",
        (Place::Public, _) => "a public IP is a public internet address",
        (Place::RouteDest, _) => {
            "no packet can be routed there (a destination is unicast space; 0.0.0.0/0 and ::/0 are fine)"
        }
    };
    Err(format!("{shown} {class}: {allowed}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cidr(s: &str) -> IpNet {
        s.parse().unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    fn addr(s: &str) -> IpAddr {
        s.parse().unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    #[test]
    fn vpc_cidrs_follow_aws_rules() {
        for ok in ["10.0.0.0/16", "172.31.0.0/16", "192.168.0.0/20", "100.64.0.0/16", "198.18.0.0/16", "54.0.0.0/16"] {
            assert_eq!(check_cidr(cidr(ok), Place::Vpc), Ok(()), "{ok}");
        }
        for (bad, class) in [
            ("0.0.0.0/16", "\"this network\""),
            ("127.0.0.0/16", "loopback"),
            ("169.254.0.0/16", "link-local"),
            ("224.0.0.0/16", "multicast"),
            ("239.255.0.0/16", "multicast"),
            ("240.0.0.0/16", "reserved"),
            ("255.255.255.240/28", "reserved"),
        ] {
            let e = check_cidr(cidr(bad), Place::Vpc).expect_err(bad);
            assert!(e.starts_with(&format!("{bad} is {class}")), "{e}");
        }
    }

    #[test]
    fn vpc_ipv6_is_global_unicast_or_unique_local() {
        for ok in ["2600:1f18:aa:100::/56", "2001:db8:1::/56", "fd12:3456:789a::/56", "fc00:1::/56"] {
            assert_eq!(check_cidr(cidr(ok), Place::Vpc), Ok(()), "{ok}");
        }
        for (bad, class) in [
            ("ff00::/56", "multicast"),
            ("fe80::/56", "link-local"),
            ("::/64", "overlaps the unspecified address"),
            ("fd00:ec2::/56", "reserved by AWS"),
            ("100::/64", "neither global unicast"),
        ] {
            let e = check_cidr(cidr(bad), Place::Vpc).expect_err(bad);
            assert!(e.contains(class), "{e}");
        }
    }

    #[test]
    fn addresses_are_named_by_their_narrowest_class() {
        let e = check_addr(addr("0.0.0.0"), Place::Internet).unwrap_err();
        assert!(e.starts_with("0.0.0.0 is the unspecified address"), "{e}");
        let e = check_addr(addr("255.255.255.255"), Place::Public).unwrap_err();
        assert!(e.starts_with("255.255.255.255 is the broadcast address"), "{e}");
        let e = check_addr(addr("ff02::1"), Place::Internet).unwrap_err();
        assert!(e.starts_with("ff02::1 is multicast (ff00::/8)"), "{e}");
        let e = check_addr(addr("::1"), Place::Internet).unwrap_err();
        assert!(e.starts_with("::1 is loopback"), "{e}");
        let e = check_addr(addr("10.9.9.9"), Place::Public).unwrap_err();
        assert!(e.starts_with("10.9.9.9 is private"), "{e}");
        let e = check_addr(addr("fd00::1"), Place::Internet).unwrap_err();
        assert!(e.starts_with("fd00::1 is not global unicast"), "{e}");
    }

    #[test]
    fn the_benchmarking_range_stays_usable() {
        // 198.18.0.0/15 (benchmarking) counts as public: vpcsim's own
        // real-traffic tests live there.
        assert_eq!(check_addr(addr("198.18.1.10"), Place::Public), Ok(()));
        assert_eq!(check_addr(addr("198.19.0.1"), Place::Internet), Ok(()));
        assert_eq!(check_cidr(cidr("198.18.0.0/15"), Place::OnPrem), Ok(()));
        assert_eq!(check_cidr(cidr("198.18.1.0/24"), Place::Vpc), Ok(()));
    }

    #[test]
    fn routes_refuse_only_destinations_wholly_inside_a_class() {
        for ok in ["0.0.0.0/0", "::/0", "10.0.0.0/8", "192.168.0.0/16", "2000::/3"] {
            assert_eq!(check_cidr(cidr(ok), Place::RouteDest), Ok(()), "{ok}");
        }
        for bad in ["224.0.0.0/4", "127.0.0.1/32", "ff00::/8", "fe80::/64", "0.0.0.0/8"] {
            assert!(check_cidr(cidr(bad), Place::RouteDest).is_err(), "{bad}");
        }
    }
}
