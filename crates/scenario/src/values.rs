//! Parsers for the small value languages of a scenario: CIDRs, protocols, port
//! ranges, durations, DNS names, listeners. Each returns the message of what is
//! wrong; the caller locates it.

use std::net::IpAddr;
use std::time::Duration;

use ipnet::IpNet;
use toml::Value;
use vpcsim_model::{Listener, PortRange, Protocol};

/// A CIDR block that must be a network address (no host bits set).
pub(crate) fn cidr(s: &str) -> Result<IpNet, String> {
    let Some((addr, len)) = s.split_once('/') else {
        return Err(if s.parse::<IpAddr>().is_ok() {
            format!(
                "`{s}` is an address, not a CIDR block (write it as {s}/{})",
                if s.contains(':') { 128 } else { 32 }
            )
        } else {
            format!("`{s}` is not a CIDR block (expected address/prefix length, e.g. 10.0.0.0/16)")
        });
    };
    let ip: IpAddr = addr.parse().map_err(|_| format!("`{s}` is not a CIDR block: `{addr}` is not an IP address"))?;
    let max = if ip.is_ipv4() { 32 } else { 128 };
    let len: u8 = len
        .parse()
        .ok()
        .filter(|l| *l <= max)
        .ok_or_else(|| format!("`{s}` is not a CIDR block: the prefix length must be 0 to {max}"))?;
    let net = IpNet::new(ip, len).map_err(|_| format!("`{s}` is not a CIDR block"))?;
    if net.network() != ip {
        return Err(format!("{s} is not a network address; did you mean {}?", net.trunc()));
    }
    Ok(net)
}

/// An IP address of either family.
pub(crate) fn ip(s: &str) -> Result<IpAddr, String> {
    s.parse().map_err(|_| format!("`{s}` is not an IP address"))
}

/// An AWS account id: twelve digits.
pub(crate) fn account(s: &str) -> Result<(), String> {
    if s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit()) {
        Ok(())
    } else {
        Err(format!("`{s}` is not an AWS account id (twelve digits, e.g. \"111111111111\")"))
    }
}

/// A region name, checked by its shape rather than against a list, so that a
/// region AWS opens tomorrow is accepted: `<area>-<direction>-<number>`, with
/// `gov` or `iso…` after the area in those partitions (`us-east-1`,
/// `ap-southeast-4`, `us-gov-west-1`, `us-isob-east-1`, `cn-northwest-1`).
pub(crate) fn region(s: &str) -> Result<(), String> {
    const DIRECTIONS: [&str; 9] =
        ["east", "west", "north", "south", "central", "northeast", "northwest", "southeast", "southwest"];
    let parts: Vec<&str> = s.split('-').collect();
    let lower = |p: &str| !p.is_empty() && p.bytes().all(|b| b.is_ascii_lowercase());
    let shape_ok = match parts.as_slice() {
        [area, rest @ .., direction, number] => {
            area.len() == 2
                && lower(area)
                && match rest {
                    [] => true,
                    [partition] => {
                        *partition == "gov" || partition.strip_prefix("iso").is_some_and(|p| p.is_empty() || lower(p))
                    }
                    _ => false,
                }
                && DIRECTIONS.contains(direction)
                && (1..=2).contains(&number.len())
                && number.bytes().all(|b| b.is_ascii_digit())
                && !number.starts_with('0')
        }
        _ => false,
    };
    if shape_ok {
        Ok(())
    } else {
        Err(format!(
            "`{s}` is not a region name: AWS names regions area-direction-number, e.g. us-east-1, eu-central-2, ap-southeast-4, us-gov-west-1 (the direction is east, west, north, south, central or a combination such as northeast)"
        ))
    }
}

/// A rule's protocol: a name, `-1`, or an IP protocol number (string or integer).
pub(crate) fn protocol(v: &Value) -> Result<Protocol, String> {
    let number = |n: i64| -> Result<Protocol, String> {
        match n {
            -1 => Ok(Protocol::All),
            0..=255 => Ok(Protocol::from_number(n as u8)),
            _ => Err(format!("protocol number {n} is out of range (0-255, or -1 for all)")),
        }
    };
    match v {
        Value::Integer(n) => number(*n),
        Value::String(s) => match s.as_str() {
            "tcp" => Ok(Protocol::Tcp),
            "udp" => Ok(Protocol::Udp),
            "icmp" => Ok(Protocol::Icmp),
            "icmpv6" => Ok(Protocol::Icmpv6),
            "all" => Ok(Protocol::All),
            s => match s.parse::<i64>() {
                Ok(n) => number(n),
                Err(_) => Err(format!(
                    "unknown protocol `{s}`, expected one of `tcp`, `udp`, `icmp`, `icmpv6`, `all` or an IP protocol number"
                )),
            },
        },
        other => Err(format!("a protocol is a name or a number, not a {}", other.type_str())),
    }
}

/// A port range: `"443"`, `"1024-65535"` or the integer `443`.
pub(crate) fn ports(v: &Value) -> Result<PortRange, String> {
    let port = |s: &str| -> Result<u16, String> {
        s.trim().parse::<u16>().map_err(|_| format!("`{}` is not a port (0-65535)", s.trim()))
    };
    match v {
        Value::Integer(n) => {
            u16::try_from(*n).map(PortRange::single).map_err(|_| format!("port {n} is out of range (0-65535)"))
        }
        Value::String(s) => {
            let range = match s.split_once('-') {
                Some((a, b)) => PortRange { first: port(a)?, last: port(b)? },
                None => PortRange::single(port(s)?),
            };
            if range.first > range.last {
                return Err(format!("port range `{s}` is backwards (the first port must not exceed the last)"));
            }
            Ok(range)
        }
        other => Err(format!("ports are a string like \"443\" or \"1024-65535\", not a {}", other.type_str())),
    }
}

/// Protocol and optional ports of a rule; ports make sense only where the
/// protocol has them.
pub(crate) fn rule_ports(proto: Protocol, ports_value: Option<&Value>) -> Result<PortRange, String> {
    match ports_value {
        None => Ok(PortRange::ALL),
        Some(_) if !proto.has_ports() => Err(match proto {
            Protocol::All => "protocol `all` covers every port; remove `ports`".to_owned(),
            p => format!("protocol {p} has no ports; remove `ports`"),
        }),
        Some(v) => ports(v),
    }
}

/// A duration: `"3s"`, `"500ms"`, `"1.5s"`, `"2m"`, `"1h"` (or `"0"`).
pub(crate) fn duration(s: &str) -> Result<Duration, String> {
    let bad = || format!("`{s}` is not a duration (e.g. \"100us\", \"500ms\", \"3s\", \"1.5s\", \"2m\", \"1h\")");
    let t = s.trim();
    if t == "0" {
        return Ok(Duration::ZERO);
    }
    let digits_end = t.find(|c: char| !(c.is_ascii_digit() || c == '.')).ok_or_else(bad)?;
    let (number, unit) = t.split_at(digits_end);
    let unit_nanos: u128 = match unit {
        "us" | "µs" => 1_000,
        "ms" => 1_000_000,
        "s" => 1_000_000_000,
        "m" => 60_000_000_000,
        "h" => 3_600_000_000_000,
        _ => return Err(bad()),
    };
    let (whole, frac) = number.split_once('.').unwrap_or((number, ""));
    if whole.is_empty() || frac.contains('.') || frac.len() > 9 || (number.contains('.') && frac.is_empty()) {
        return Err(bad());
    }
    let whole: u128 = whole.parse().map_err(|_| bad())?;
    let frac_value: u128 = if frac.is_empty() { 0 } else { frac.parse().map_err(|_| bad())? };
    let scale = 10u128.pow(frac.len() as u32);
    let nanos =
        whole.checked_mul(unit_nanos).and_then(|w| w.checked_add(frac_value * unit_nanos / scale)).ok_or_else(bad)?;
    let secs = u64::try_from(nanos / 1_000_000_000).map_err(|_| bad())?;
    Ok(Duration::new(secs, (nanos % 1_000_000_000) as u32))
}

/// A duration no longer than `max` (a documented limit, `vpcsim_model::limits`).
pub(crate) fn duration_at_most(s: &str, max: Duration, key: &str) -> Result<Duration, String> {
    let d = duration(s)?;
    if d > max {
        return Err(format!("`{key}` = \"{}\" is past vpcsim's limit: at most {}", s.trim(), show_duration(max)));
    }
    Ok(d)
}

/// A limit in the largest unit that writes it whole: "8760h", "1h", "100ms".
pub(crate) fn show_duration(d: Duration) -> String {
    let nanos = d.as_nanos();
    for (unit, n) in [("h", 3_600_000_000_000u128), ("m", 60_000_000_000), ("s", 1_000_000_000), ("ms", 1_000_000)] {
        if nanos >= n && nanos.is_multiple_of(n) {
            return format!("{}{unit}", nanos / n);
        }
    }
    format!("{}us", d.as_micros())
}

/// Whether `s` is a well-formed DNS name: at least two labels of letters,
/// digits and hyphens, none starting or ending with a hyphen, 1–63 characters
/// each, 253 in all. A trailing dot is allowed. The last label may not be all
/// digits, so that a mistyped address (`10.0.0.256`) is not taken for a name.
pub(crate) fn is_dns_name(s: &str) -> bool {
    let s = s.strip_suffix('.').unwrap_or(s);
    if s.is_empty() || s.len() > 253 || !s.contains('.') {
        return false;
    }
    let labels: Vec<&str> = s.split('.').collect();
    let label_ok = |l: &&str| {
        !l.is_empty()
            && l.len() <= 63
            && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
            && !l.starts_with('-')
            && !l.ends_with('-')
    };
    labels.iter().all(label_ok) && labels.last().is_some_and(|l| !l.chars().all(|c| c.is_ascii_digit()))
}

/// A listener: `"tcp/443"` or `"udp/53"`.
pub(crate) fn listener(s: &str) -> Result<Listener, String> {
    let bad = || format!("`{s}` is not a listener (expected \"tcp/PORT\" or \"udp/PORT\")");
    let (proto, port) = s.split_once('/').ok_or_else(bad)?;
    let proto = match proto {
        "tcp" => Protocol::Tcp,
        "udp" => Protocol::Udp,
        _ => return Err(bad()),
    };
    let port: u16 = port.parse().map_err(|_| bad())?;
    if port == 0 {
        return Err(format!("`{s}`: port 0 cannot be listened on (1-65535)"));
    }
    Ok(Listener { proto, port })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(duration("3s"), Ok(Duration::from_secs(3)));
        assert_eq!(duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(duration("1.5s"), Ok(Duration::from_millis(1500)));
        assert_eq!(duration("0.1s"), Ok(Duration::from_millis(100)));
        assert_eq!(duration("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(duration("1h"), Ok(Duration::from_secs(3600)));
        assert_eq!(duration("0"), Ok(Duration::ZERO));
        for bad in ["", "s", "3", "3x", "-1s", "1.s", ".5s", "1.2.3s", "99999999999999999999999h"] {
            assert!(duration(bad).is_err(), "{bad}");
        }
        let year = Duration::from_secs(365 * 24 * 3600);
        assert_eq!(duration_at_most("8760h", year, "at"), Ok(year));
        assert!(duration_at_most("8760.001h", year, "at").unwrap_err().contains("at most 8760h"));
        assert!(duration_at_most("5124095576030431h", year, "start").is_err());
        assert_eq!(show_duration(Duration::from_millis(100)), "100ms");
        assert_eq!(show_duration(Duration::from_secs(3600)), "1h");
    }

    #[test]
    fn regions_are_checked_by_shape() {
        let catalog = vpcsim_aws::known_regions().iter().copied();
        let others =
            ["us-gov-west-1", "us-gov-east-1", "cn-north-1", "cn-northwest-1", "us-iso-east-1", "us-isob-east-1"];
        for ok in catalog.chain(others).chain(["eu-isoe-west-1", "xy-central-9", "ap-southeast-12"]) {
            assert_eq!(region(ok), Ok(()), "{ok}");
        }
        for bad in ["xx-nowhere-99", "us-east", "us-east-01", "USA-east-1", "us-east-1a", "u-east-1", "us--east-1", ""]
        {
            assert!(region(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn accounts_are_twelve_digits() {
        assert_eq!(account("111111111111"), Ok(()));
        for bad in ["abc", "11111111111", "1111111111111", "11111111111x", "１１１１１１１１１１１１"] {
            assert!(account(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn dns_names() {
        assert!(is_dns_name("s3.us-east-1.amazonaws.com"));
        assert!(is_dns_name("example.com."));
        for bad in ["localhost", "-a.com", "a-.com", "a..com", "a_b.com", "10.0.0.256", ""] {
            assert!(!is_dns_name(bad), "{bad}");
        }
        assert!(!is_dns_name(&format!("{}.com", "a".repeat(64))));
    }

    #[test]
    fn cidrs() {
        assert!(cidr("10.0.0.0/16").is_ok());
        assert_eq!(cidr("10.0.1.5/24").unwrap_err(), "10.0.1.5/24 is not a network address; did you mean 10.0.1.0/24?");
        assert!(cidr("10.0.0.0/33").is_err());
        assert!(cidr("10.0.0.0").is_err());
        assert!(cidr("2600:1f18::/56").is_ok());
    }

    #[test]
    fn protocols_and_ports() {
        assert_eq!(protocol(&Value::Integer(6)), Ok(Protocol::Tcp));
        assert_eq!(protocol(&Value::String("-1".into())), Ok(Protocol::All));
        assert_eq!(protocol(&Value::String("47".into())), Ok(Protocol::Number(47)));
        assert!(protocol(&Value::Integer(256)).is_err());
        assert_eq!(ports(&Value::String("1024-65535".into())), Ok(PortRange { first: 1024, last: 65535 }));
        assert!(ports(&Value::String("10-5".into())).is_err());
        assert!(ports(&Value::String("65536".into())).is_err());
        assert!(rule_ports(Protocol::All, Some(&Value::String("1".into()))).is_err());
        assert!(rule_ports(Protocol::Number(47), Some(&Value::String("1".into()))).is_err());
    }
}
