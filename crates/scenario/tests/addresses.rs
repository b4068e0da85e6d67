//! Issue 12, items 4 and 11: addresses of the wrong class, accounts, regions
//! and too-deep keys. Multicast and other non-unicast addresses used to pass
//! validation and panic the hosts' TCP/IP stack at start-up; each is now a
//! located error that names the address's class and what AWS allows.

use vpcsim_scenario::load_str;

/// The errors of an invalid scenario, as `line:column: message` lines.
fn error_of(src: &str) -> String {
    match load_str(src, "test.toml") {
        Ok(_) => panic!("the scenario is valid, expected an error:\n{src}"),
        Err(d) => {
            d.errors.iter().map(|e| format!("{}:{}: {}", e.line, e.column, e.message)).collect::<Vec<_>>().join("\n")
        }
    }
}

#[track_caller]
fn loads(src: &str) {
    if let Err(d) = load_str(src, "test.toml") {
        panic!("expected a valid scenario:\n{d}");
    }
}

/// One VPC with IPv6 and one subnet (lines 1–11); tests' own lines start at 12.
const BASE: &str = r#"name = "t"
[[vpc]]
id = "vpc-a"
cidr = "10.0.0.0/16"
ipv6_cidr = "2600:1f18:aa:100::/56"

[[subnet]]
id = "subnet-a"
vpc = "vpc-a"
cidr = "10.0.1.0/24"
ipv6_cidr = "2600:1f18:aa:101::/64"
"#;

fn with_base(rest: &str) -> String {
    format!("{BASE}{rest}")
}

const VPC_V4_RULE: &str = "AWS refuses it for a VPC or a subnet (not 0.0.0.0/8, 127.0.0.0/8, 169.254.0.0/16, 224.0.0.0/4 or 240.0.0.0/4; RFC 1918 space such as 10.0.0.0/16 is usual)";
const VPC_V6_RULE: &str = "a VPC's or a subnet's IPv6 CIDR is global unicast (2000::/3) or AWS's private IPv6, unique local (fc00::/7), outside fd00:ec2::/32";

#[test]
fn the_four_addresses_that_panicked_at_start_up_are_located_errors() {
    let internet = with_base("\n[[host]]\nid = \"far\"\ninternet = true\nip = \"ff02::1\"\n");
    assert_eq!(
        error_of(&internet),
        "16:6: ff02::1 is multicast (ff00::/8): an internet host's IPv6 address is global unicast (2000::/3)"
    );
    let vpc_v6 = "name = \"t\"\n[[vpc]]\nid = \"vpc-a\"\ncidr = \"10.0.0.0/16\"\nipv6_cidr = \"ff00::/56\"\n";
    assert_eq!(error_of(vpc_v6), format!("5:13: ff00::/56 is multicast (ff00::/8): {VPC_V6_RULE}"));
    let onprem = with_base("\n[[onprem]]\nid = \"dc1\"\ncidr = \"224.0.0.0/8\"\n");
    assert_eq!(
        error_of(&onprem),
        "15:8: 224.0.0.0/8 is multicast (224.0.0.0/4): an on-premises network is unicast space (not 0.0.0.0/8, 127.0.0.0/8, 169.254.0.0/16, 224.0.0.0/4 or 240.0.0.0/4)"
    );
    let vpc_v4 = "name = \"t\"\n[[vpc]]\nid = \"vpc-a\"\ncidr = \"224.0.0.0/16\"\n";
    assert_eq!(error_of(vpc_v4), format!("4:8: 224.0.0.0/16 is multicast (224.0.0.0/4): {VPC_V4_RULE}"));
}

#[test]
fn vpc_cidrs_outside_unicast_space_are_refused_by_class() {
    for (cidr, class) in [
        ("0.0.0.0/16", "\"this network\" (0.0.0.0/8)"),
        ("127.0.0.0/16", "loopback (127.0.0.0/8)"),
        ("169.254.0.0/16", "link-local (169.254.0.0/16)"),
        ("239.1.0.0/16", "multicast (224.0.0.0/4)"),
        ("240.0.0.0/16", "reserved (240.0.0.0/4)"),
    ] {
        let src = format!("name = \"t\"\n[[vpc]]\nid = \"vpc-a\"\ncidr = \"{cidr}\"\n");
        assert_eq!(error_of(&src), format!("4:8: {cidr} is {class}: {VPC_V4_RULE}"));
    }
}

#[test]
fn vpc_ipv6_is_global_unicast_or_unique_local() {
    for (cidr, class) in [
        ("fe80::/56", "is link-local (fe80::/10)"),
        ("fd00:ec2::/56", "is reserved by AWS for its services (fd00:ec2::/32)"),
        ("100::/56", "is neither global unicast (2000::/3) nor unique local (fc00::/7)"),
    ] {
        let src = format!("name = \"t\"\n[[vpc]]\nid = \"vpc-a\"\ncidr = \"10.0.0.0/16\"\nipv6_cidr = \"{cidr}\"\n");
        assert_eq!(error_of(&src), format!("5:13: {cidr} {class}: {VPC_V6_RULE}"));
    }
    // AWS's private IPv6: unique local addresses, for the VPC, its subnets and hosts.
    loads(
        r#"name = "t"
[[vpc]]
id = "vpc-a"
cidr = "10.0.0.0/16"
ipv6_cidr = "fd12:3456:789a::/56"

[[subnet]]
id = "subnet-a"
vpc = "vpc-a"
cidr = "10.0.1.0/24"
ipv6_cidr = "fd12:3456:789a:1::/64"

[[host]]
id = "h"
subnet = "subnet-a"
ipv6 = "fd12:3456:789a:1::10"
"#,
    );
}

#[test]
fn subnet_cidrs_follow_the_vpc_rules() {
    let src = r#"name = "t"
[[vpc]]
id = "vpc-a"
cidr = "10.0.0.0/16"

[[subnet]]
id = "subnet-a"
vpc = "vpc-a"
cidr = "127.0.1.0/24"
ipv6_cidr = "ff02::/64"
"#;
    let err = error_of(src);
    assert!(err.contains(&format!("9:8: 127.0.1.0/24 is loopback (127.0.0.0/8): {VPC_V4_RULE}")), "{err}");
    assert!(err.contains(&format!("10:13: ff02::/64 is multicast (ff00::/8): {VPC_V6_RULE}")), "{err}");
}

#[test]
fn internet_hosts_public_ips_and_nat_gateways_refuse_non_unicast() {
    let src = with_base(
        r#"
[[host]]
id = "loop"
internet = true
ip = "127.0.0.1"

[[host]]
id = "ula"
internet = true
ip = "fd00::1"

[[host]]
id = "h"
subnet = "subnet-a"
public_ip = "255.255.255.255"

[[nat_gateway]]
id = "nat-a"
subnet = "subnet-a"
public_ip = "224.0.0.1"
"#,
    );
    assert_eq!(
        error_of(&src),
        [
            "16:6: 127.0.0.1 is loopback (127.0.0.0/8): an internet host's IPv4 address is a public internet address",
            "21:6: fd00::1 is not global unicast (2000::/3): an internet host's IPv6 address is global unicast (2000::/3)",
            "26:13: 255.255.255.255 is the broadcast address: a public IP is a public internet address",
            "31:13: 224.0.0.1 is multicast (224.0.0.0/4): a public IP is a public internet address",
        ]
        .join("\n")
    );
}

#[test]
fn on_premises_networks_refuse_non_unicast() {
    let src = with_base("\n[[onprem]]\nid = \"dc1\"\ncidr = \"169.254.0.0/16\"\n");
    assert!(error_of(&src).starts_with("15:8: 169.254.0.0/16 is link-local (169.254.0.0/16): an on-premises network"));
}

#[test]
fn routes_to_destinations_that_carry_no_packet_are_refused() {
    let src = with_base(
        r#"
[[internet_gateway]]
id = "igw-a"
vpc = "vpc-a"

[[route_table]]
id = "rtb-a"
vpc = "vpc-a"
main = true
routes = [
  { dest = "0.0.0.0/0", target = "igw-a" },
  { dest = "::/0", target = "igw-a" },
  { dest = "224.0.0.0/4", target = "igw-a" },
  { dest = "ff00::/8", target = "igw-a" },
]
"#,
    );
    let rule = "no packet can be routed there (a destination is unicast space; 0.0.0.0/0 and ::/0 are fine)";
    assert_eq!(
        error_of(&src),
        [
            format!("24:12: 224.0.0.0/4 is multicast (224.0.0.0/4): {rule}"),
            format!("25:12: ff00::/8 is multicast (ff00::/8): {rule}"),
        ]
        .join("\n")
    );
}

#[test]
fn transit_gateway_routes_follow_the_same_rule() {
    let src = with_base(
        r#"
[[transit_gateway]]
id = "tgw-a"

[[tgw_route_table]]
id = "tgw-rtb"
transit_gateway = "tgw-a"
routes = [ { dest = "127.0.0.0/8", target = "blackhole" }, { dest = "0.0.0.0/0", target = "blackhole" } ]
"#,
    );
    assert_eq!(
        error_of(&src),
        "19:21: 127.0.0.0/8 is loopback (127.0.0.0/8): no packet can be routed there (a destination is unicast space; 0.0.0.0/0 and ::/0 are fine)"
    );
}

#[test]
fn match_patterns_take_any_prefix() {
    // Security groups, NACLs and prefix lists match addresses; they route
    // nothing and give no host an address.
    loads(&with_base(
        r#"
[[prefix_list]]
id = "pl-odd"
entries = ["224.0.0.0/4", "127.0.0.0/8"]

[[security_group]]
id = "sg-a"
vpc = "vpc-a"
ingress = [ { proto = "all", cidr = "224.0.0.0/4" }, { proto = "all", cidr = "ff00::/8" } ]

[[nacl]]
id = "acl-a"
vpc = "vpc-a"
ingress = [ { rule = 100, action = "deny", proto = "all", cidr = "169.254.0.0/16" } ]
"#,
    ));
}

#[test]
fn the_benchmarking_range_stays_usable_everywhere() {
    // vpcsim's own real-traffic tests live in 198.18.0.0/15.
    loads(
        r#"name = "t"
[[vpc]]
id = "vpc-a"
cidr = "198.18.0.0/16"

[[subnet]]
id = "subnet-a"
vpc = "vpc-a"
cidr = "198.18.1.0/24"

[[internet_gateway]]
id = "igw-a"
vpc = "vpc-a"

[[route_table]]
id = "rtb-a"
vpc = "vpc-a"
main = true
routes = [ { dest = "198.19.0.0/16", target = "igw-a" } ]

[[host]]
id = "h"
subnet = "subnet-a"
ip = "198.18.1.10"
public_ip = "198.19.5.5"

[[host]]
id = "far"
internet = true
ip = "198.19.1.1"

[[onprem]]
id = "dc1"
cidr = "198.19.128.0/17"
"#,
    );
}

#[test]
fn an_expectation_may_still_name_the_link_local_services() {
    let src = with_base(
        r#"
[[host]]
id = "h"
subnet = "subnet-a"

[[expect]]
from = "h"
to = "169.254.169.254"
proto = "tcp"
port = 80
result = "connected"

[[expect]]
from = "h"
to = "169.254.169.123"
proto = "udp"
port = 123
result = "replied"

[[expect]]
from = "h"
to = "fd00:ec2::254"
proto = "tcp"
port = 80
result = "connected"
"#,
    );
    loads(&src);
}

#[test]
fn accounts_are_twelve_digits() {
    let src = "name = \"t\"\n[[vpc]]\nid = \"vpc-a\"\ncidr = \"10.0.0.0/16\"\naccount = \"abc\"\n";
    assert_eq!(error_of(src), "5:11: `abc` is not an AWS account id (twelve digits, e.g. \"111111111111\")");
}

#[test]
fn regions_are_checked_by_shape() {
    let src = "name = \"t\"\n[[vpc]]\nid = \"vpc-a\"\ncidr = \"10.0.0.0/16\"\nregion = \"xx-nowhere-99\"\n";
    assert!(
        error_of(src)
            .starts_with("5:10: `xx-nowhere-99` is not a region name: AWS names regions area-direction-number")
    );
    // A region AWS has not opened yet, in the shape it names them, is accepted.
    loads("name = \"t\"\n[[vpc]]\nid = \"vpc-a\"\ncidr = \"10.0.0.0/16\"\nregion = \"us-gov-east-1\"\n");
}

#[test]
fn a_key_too_deep_for_the_reader_is_located_at_the_key() {
    let key = vec!["a"; 10_000].join(".");
    for src in [format!("name = \"t\"\n# a.b.c\n{key} = 1\n"), format!("name = \"t\"\n\n[{key}]\n")] {
        let err = error_of(&src);
        assert!(err.starts_with("3:"), "{err}");
        assert!(err.contains("nests too deeply"), "{err}");
    }
}
