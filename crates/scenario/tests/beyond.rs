//! Loading NAT gateways, egress-only internet gateways and VPC peering: what
//! is built, and every error, located (`line:column: message`).

use std::net::Ipv4Addr;

use vpcsim_model::{EniOwner, RouteTarget};
use vpcsim_scenario::load_str;

fn error_of(src: &str) -> String {
    match load_str(src, "test.toml") {
        Ok(_) => panic!("the scenario is valid, expected an error:\n{src}"),
        Err(d) => {
            d.errors.iter().map(|e| format!("{}:{}: {}", e.line, e.column, e.message)).collect::<Vec<_>>().join("\n")
        }
    }
}

/// Two VPCs (lines 1–17); tests' own lines start at line 18.
const BASE: &str = r#"name = "t"
[[vpc]]
id = "vpc-a"
cidr = "10.0.0.0/16"
ipv6_cidr = "2600:1f18:aa:100::/56"
[[subnet]]
id = "subnet-a"
vpc = "vpc-a"
cidr = "10.0.1.0/24"
[[vpc]]
id = "vpc-b"
cidr = "10.1.0.0/16"
[[subnet]]
id = "subnet-b"
vpc = "vpc-b"
cidr = "10.1.1.0/24"
[[internet_gateway]]
"#;

fn with_base(rest: &str) -> String {
    format!("{BASE}id = \"igw-a\"\nvpc = \"vpc-a\"\n{rest}")
}

#[test]
fn a_nat_gateway_owns_an_eni_after_the_hosts() {
    let t = load_str(
        &with_base(
            r#"
[[host]]
id = "h1"
subnet = "subnet-a"
[[nat_gateway]]
id = "nat-a"
subnet = "subnet-a"
public_ip = "54.0.0.50"
[[host]]
id = "h2"
subnet = "subnet-a"
ip = "10.0.1.4"
"#,
        ),
        "t.toml",
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let nat = &t.nat_gateways[0];
    let eni = t.eni(nat.eni);
    assert_eq!(eni.owner, EniOwner::NatGateway(vpcsim_model::NatGatewayIdx(0)));
    assert_eq!(eni.id, "eni-nat-a");
    // Written addresses first (h2's 10.0.1.4), then the hosts', then the NAT gateway's.
    assert_eq!(t.eni(t.host(t.host_by_id("h1").unwrap()).eni).ipv4, Ipv4Addr::new(10, 0, 1, 5));
    assert_eq!(eni.ipv4, Ipv4Addr::new(10, 0, 1, 6));
    assert_eq!(eni.public_ip, Some(Ipv4Addr::new(54, 0, 0, 50)));
    assert!(eni.security_groups.is_empty(), "NAT gateways have no security groups");
    assert_eq!(nat.eni.index(), t.enis.len() - 1, "after the hosts' and the services' ENIs");
    assert_eq!(t.eni_owner_id(nat.eni), "nat-a");
}

#[test]
fn nat_gateway_errors() {
    let src = with_base(
        r#"
[[nat_gateway]]
id = "nat-1"
subnet = "subnet-a"
[[nat_gateway]]
id = "nat-2"
subnet = "subnet-a"
connectivity = "private"
public_ip = "54.0.0.51"
[[nat_gateway]]
id = "nat-3"
subnet = "subnet-a"
connectivity = "carrier"
public_ip = "10.9.9.9"
ip = "10.0.9.9"
[[nat_gateway]]
id = "nat-4"
subnet = "subnet-a"
public_ip = "54.0.0.52"
ip = "10.0.1.3"
[[host]]
id = "h"
subnet = "subnet-a"
ip = "10.0.1.20"
public_ip = "54.0.0.52"
[[nat_gateway]]
id = "nat-5"
subnet = "subnet-a"
public_ip = "54.0.0.53"
ip = "10.0.1.20"
"#,
    );
    assert_eq!(
        error_of(&src),
        [
            "22:6: NAT gateway `nat-1` needs `public_ip` (its Elastic IP), or `connectivity = \"private\"` for a private NAT gateway",
            "28:13: a private NAT gateway has no public IP; remove `public_ip`",
            "32:16: unknown connectivity `carrier`, expected `public` or `private`",
            "33:13: 10.9.9.9 is private (10.0.0.0/8, RFC 1918): a public IP is a public internet address",
            "34:6: 10.0.9.9 is not inside subnet-a 10.0.1.0/24",
            // Hosts take their addresses first: the NAT gateway meets the host's claim.
            "38:13: 54.0.0.52 is already taken on the internet by `h` (line 41)",
            "39:6: 10.0.1.3 is reserved by AWS in subnet-a",
            "49:6: 10.0.1.20 is already taken by `h` (line 41)",
        ]
        .join("\n")
    );
}

#[test]
fn routes_to_the_new_targets() {
    let src = with_base(
        r#"
[[nat_gateway]]
id = "nat-a"
subnet = "subnet-a"
public_ip = "54.0.0.50"
[[egress_only_internet_gateway]]
id = "eigw-a"
vpc = "vpc-a"
[[vpc_peering]]
id = "pcx-ab"
requester = "vpc-a"
accepter = "vpc-b"
[[route_table]]
id = "rtb-a"
vpc = "vpc-a"
routes = [
  { dest = "0.0.0.0/0", target = "nat-a" },
  { dest = "::/0", target = "eigw-a" },
  { dest = "10.1.0.0/16", target = "pcx-ab" },
]
[[route_table]]
id = "rtb-b"
vpc = "vpc-b"
routes = [ { dest = "10.0.0.0/16", target = "pcx-ab" } ]
"#,
    );
    let t = load_str(&src, "t.toml").unwrap_or_else(|e| panic!("{e}"));
    let rtb = t.route_tables.iter().find(|r| r.id == "rtb-a").unwrap();
    let targets: Vec<RouteTarget> = rtb.routes.iter().skip(2).map(|r| r.target).collect();
    assert_eq!(
        targets,
        [
            RouteTarget::NatGateway(vpcsim_model::NatGatewayIdx(0)),
            RouteTarget::EgressOnlyInternetGateway(vpcsim_model::EgressOnlyIgwIdx(0)),
            RouteTarget::Peering(vpcsim_model::PeeringIdx(0)),
        ]
    );
    assert!(t.peered(t.vpc_peerings[0].requester, t.vpc_peerings[0].accepter));
    assert_eq!(t.graph().node_count(), 1 + 2 + 2 + 1 + t.enis.len() + 3);
}

#[test]
fn route_errors_for_the_new_targets() {
    let src = with_base(
        r#"
[[vpc]]
id = "vpc-c"
cidr = "10.2.0.0/16"
[[nat_gateway]]
id = "nat-a"
subnet = "subnet-a"
public_ip = "54.0.0.50"
[[egress_only_internet_gateway]]
id = "eigw-a"
vpc = "vpc-a"
[[vpc_peering]]
id = "pcx-ab"
requester = "vpc-a"
accepter = "vpc-b"
[[route_table]]
id = "rtb-a"
vpc = "vpc-a"
routes = [
  { dest = "0.0.0.0/0", target = "eigw-a" },
  { dest = "::/0", target = "nat-a" },
]
[[route_table]]
id = "rtb-c"
vpc = "vpc-c"
routes = [
  { dest = "10.0.0.0/16", target = "pcx-ab" },
  { dest = "0.0.0.0/0", target = "nat-a" },
]
"#,
    );
    assert_eq!(
        error_of(&src),
        [
            "39:34: `eigw-a` is an egress-only internet gateway: it carries IPv6 only (use a NAT gateway for IPv4)",
            "40:29: `nat-a` is a NAT gateway: it translates IPv4 only (NAT64 is not simulated by vpcsim; use an egress-only internet gateway for IPv6)",
            "46:36: `pcx-ab` peers vpc-a and vpc-b; `rtb-c` belongs to vpc-c, which is not one of its sides",
            "47:34: route to a target in another VPC: `nat-a` is in vpc-a, but `rtb-c` belongs to vpc-c",
        ]
        .join("\n")
    );
}

#[test]
fn peering_errors() {
    let src = with_base(
        r#"
[[vpc]]
id = "vpc-overlap"
cidr = "10.0.0.0/20"
[[vpc_peering]]
id = "pcx-1"
requester = "vpc-a"
accepter = "vpc-overlap"
[[vpc_peering]]
id = "pcx-2"
requester = "vpc-a"
accepter = "vpc-a"
[[vpc_peering]]
id = "pcx-3"
requester = "vpc-a"
accepter = "vpc-b"
[[vpc_peering]]
id = "pcx-4"
requester = "vpc-b"
accepter = "vpc-a"
[[vpc_peering]]
id = "pcx-5"
requester = "vpc-a"
accepter = "subnet-b"
"#,
    );
    assert_eq!(
        error_of(&src),
        [
            "27:12: vpc-a 10.0.0.0/16 overlaps vpc-overlap 10.0.0.0/20: VPCs with overlapping CIDRs cannot be peered",
            "31:12: a VPC cannot peer with itself (vpc-a)",
            "39:12: vpc-b and vpc-a are already peered by `pcx-3`; two VPCs have at most one peering connection",
            "43:12: `subnet-b` is a subnet, not a vpc",
        ]
        .join("\n")
    );
}

#[test]
fn egress_only_gateway_errors() {
    let src = with_base(
        r#"
[[egress_only_internet_gateway]]
id = "eigw-1"
vpc = "vpc-a"
[[egress_only_internet_gateway]]
id = "eigw-2"
vpc = "vpc-a"
[[egress_only_internet_gateway]]
id = "eigw-3"
vpc = "vpc-z"
"#,
    );
    assert_eq!(
        error_of(&src),
        [
            "26:7: vpc-a already has an egress-only internet gateway, `eigw-1`; a VPC has at most one",
            "29:7: unknown vpc `vpc-z`",
        ]
        .join("\n")
    );
}

#[test]
fn security_groups_may_reference_a_peered_vpc_group() {
    let sgs = r#"
[[security_group]]
id = "sg-b"
vpc = "vpc-b"
[[security_group]]
id = "sg-a"
vpc = "vpc-a"
ingress = [{ proto = "all", sg = "sg-b" }]
"#;
    let peering = "[[vpc_peering]]\nid = \"pcx-ab\"\nrequester = \"vpc-a\"\naccepter = \"vpc-b\"\n";
    load_str(&with_base(&format!("{sgs}{peering}")), "t.toml").unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        error_of(&with_base(sgs)),
        "27:34: security group `sg-b` belongs to vpc-b, but `sg-a` is in vpc-a (a rule may reference a group of its own VPC, or of a VPC peered with it in the same region)"
    );
}

#[test]
fn unknown_fields_of_the_new_tables() {
    let err = error_of(&with_base("[[nat_gateway]]\nid = \"n\"\nsubnet = \"subnet-a\"\nelastic_ip = \"54.0.0.1\"\n"));
    assert!(
        err.starts_with(
            "23:1: unknown field `elastic_ip`, expected one of `id`, `subnet`, `ip`, `public_ip`, `connectivity`"
        ),
        "{err}"
    );
    let err = error_of(&with_base("[[vpc_peering]]\nid = \"p\"\nrequester = \"vpc-a\"\npeer = \"vpc-b\"\n"));
    assert!(err.starts_with("23:1: unknown field `peer`"), "{err}");
}
