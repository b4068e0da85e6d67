//! Loading transit gateways, on-premises networks, VPN gateways and private
//! hosted zones: what is built, and each error, located.

use vpcsim_model::{Attachment, DnsRecordData, RouteTarget, TgwAttachmentKind, TgwRouteOrigin, TgwRouteTarget};
use vpcsim_scenario::load_str;

fn errors_of(src: &str) -> Vec<String> {
    match load_str(src, "test.toml") {
        Ok(_) => panic!("the scenario is valid, expected an error:\n{src}"),
        Err(d) => d.errors.iter().map(|e| format!("{}:{}: {}", e.line, e.column, e.message)).collect(),
    }
}

/// Asserts that loading fails with exactly one error, on `line`, containing `text`.
fn fails(rest: &str, line: usize, text: &str) {
    let src = format!("{BASE}{rest}");
    let errors = errors_of(&src);
    assert_eq!(errors.len(), 1, "{errors:#?}");
    assert!(errors[0].starts_with(&format!("{line}:")), "expected line {line}: {}", errors[0]);
    assert!(errors[0].contains(text), "expected `{text}` in: {}", errors[0]);
}

/// Two VPCs in two AZs and a transit gateway with one table (lines 1–27);
/// tests' own lines start at line 28.
const BASE: &str = r#"name = "t"
[[vpc]]
id = "vpc-a"
cidr = "10.0.0.0/16"
[[subnet]]
id = "subnet-a1"
vpc = "vpc-a"
cidr = "10.0.1.0/24"
az = "us-east-1a"
[[subnet]]
id = "subnet-a2"
vpc = "vpc-a"
cidr = "10.0.2.0/24"
az = "us-east-1a"
[[vpc]]
id = "vpc-b"
cidr = "10.1.0.0/16"
[[subnet]]
id = "subnet-b1"
vpc = "vpc-b"
cidr = "10.1.1.0/24"
az = "us-east-1b"
[[transit_gateway]]
id = "tgw-1"
[[tgw_route_table]]
id = "tgw-rtb"
transit_gateway = "tgw-1"
"#;

const ATTACH: &str = r#"[[tgw_attachment]]
id = "att-a"
transit_gateway = "tgw-1"
vpc = "vpc-a"
subnets = ["subnet-a1"]
"#;

#[test]
fn a_transit_gateway_with_its_default_table_associates_and_propagates() {
    let src = format!(
        "{}{ATTACH}{}",
        BASE.replace("id = \"tgw-1\"\n", "id = \"tgw-1\"\ndefault_route_table = \"tgw-rtb\"\n"),
        r#"[[tgw_attachment]]
id = "att-b"
transit_gateway = "tgw-1"
vpc = "vpc-b"
subnets = ["subnet-b1"]
appliance_mode = true
[[route_table]]
id = "rtb-a"
vpc = "vpc-a"
main = true
routes = [ { dest = "10.0.0.0/8", target = "tgw-1" } ]
[[tgw_route_table]]
id = "tgw-rtb-2"
transit_gateway = "tgw-1"
routes = [ { dest = "10.1.0.0/16", attachment = "att-a" }, { dest = "10.66.0.0/16", target = "blackhole" } ]
"#
    );
    let t = load_str(&src, "t.toml").unwrap_or_else(|e| panic!("{e}"));
    let rt = &t.tgw_route_tables[0];
    assert_eq!(t.tgw_attachments[0].route_table.map(|r| r.index()), Some(0));
    assert!(t.tgw_attachments[1].appliance_mode);
    let routes: Vec<(String, TgwRouteOrigin)> = rt.routes.iter().map(|r| (r.dest.to_string(), r.origin)).collect();
    assert_eq!(
        routes,
        [
            ("10.0.0.0/16".to_string(), TgwRouteOrigin::Propagated),
            ("10.1.0.0/16".to_string(), TgwRouteOrigin::Propagated)
        ]
    );
    let statics = &t.tgw_route_tables[1].routes;
    assert_eq!(statics[1].target, TgwRouteTarget::Blackhole);
    assert!(matches!(t.route_tables[0].routes[1].target, RouteTarget::TransitGateway(_)));
    assert!(matches!(&t.tgw_attachments[1].kind, TgwAttachmentKind::Vpc { subnets, .. } if subnets.len() == 1));
}

#[test]
fn unknown_ids() {
    fail_unknown(
        "[[tgw_attachment]]\nid = \"att-a\"\ntransit_gateway = \"tgw-9\"\nvpc = \"vpc-a\"\nsubnets = [\"subnet-a1\"]\n",
        30,
        "unknown transit_gateway `tgw-9`",
    );
    fail_unknown(
        &format!("{ATTACH}[[tgw_route_table]]\nid = \"r2\"\ntransit_gateway = \"tgw-1\"\nassociations = [\"att-z\"]\n"),
        36,
        "unknown tgw_attachment `att-z`",
    );
    fail_unknown(
        "[[vpn_connection]]\nid = \"vpn-1\"\nonprem = \"dc9\"\ngateway = \"tgw-1\"\n",
        30,
        "unknown onprem `dc9`",
    );
    fail_unknown(
        "[[onprem]]\nid = \"dc1\"\ncidr = \"192.168.0.0/16\"\n[[vpn_connection]]\nid = \"vpn-1\"\nonprem = \"dc1\"\ngateway = \"vgw-9\"\n",
        34,
        "unknown vpn_gateway or transit_gateway `vgw-9`",
    );
}

fn fail_unknown(rest: &str, line: usize, text: &str) {
    fails(rest, line, text);
}

#[test]
fn attachment_subnets_one_per_az_in_the_vpc() {
    fails(
        "[[tgw_attachment]]\nid = \"att-a\"\ntransit_gateway = \"tgw-1\"\nvpc = \"vpc-a\"\nsubnets = [\"subnet-a1\", \"subnet-a2\"]\n",
        32,
        "`subnet-a1` and `subnet-a2` are both in us-east-1a: a transit gateway attachment takes one subnet per AZ",
    );
    fails(
        "[[tgw_attachment]]\nid = \"att-a\"\ntransit_gateway = \"tgw-1\"\nvpc = \"vpc-a\"\nsubnets = [\"subnet-b1\"]\n",
        32,
        "`subnet-b1` is a subnet of vpc-b, not of vpc-a",
    );
    fails(
        "[[tgw_attachment]]\nid = \"att-a\"\ntransit_gateway = \"tgw-1\"\nvpc = \"vpc-a\"\n",
        29,
        "a VPC attachment needs `subnets`",
    );
    fails(
        "[[tgw_attachment]]\nid = \"att-a\"\ntransit_gateway = \"tgw-1\"\n",
        29,
        "needs `vpc = \"...\"` or `vpn = \"...\"`",
    );
}

#[test]
fn routes_to_attachments_of_another_transit_gateway() {
    fails(
        &format!(
            "{ATTACH}[[transit_gateway]]\nid = \"tgw-2\"\n[[tgw_route_table]]\nid = \"r2\"\ntransit_gateway = \"tgw-2\"\nroutes = [ {{ dest = \"10.0.0.0/16\", attachment = \"att-a\" }} ]\n"
        ),
        38,
        "`att-a` is an attachment of `tgw-1`, not of `tgw-2`",
    );
    fails(
        &format!(
            "{ATTACH}[[tgw_route_table]]\nid = \"r2\"\ntransit_gateway = \"tgw-1\"\nassociations = [\"att-a\"]\n[[tgw_route_table]]\nid = \"r3\"\ntransit_gateway = \"tgw-1\"\nassociations = [\"att-a\"]\n"
        ),
        40,
        "`att-a` is already associated with `r2`",
    );
    fails(
        &format!(
            "{ATTACH}[[tgw_route_table]]\nid = \"r2\"\ntransit_gateway = \"tgw-1\"\nroutes = [ {{ dest = \"10.0.0.0/16\", target = \"att-a\" }} ]\n"
        ),
        36,
        "a TGW route's `target` can only be \"blackhole\"",
    );
}

#[test]
fn a_vpc_route_to_a_transit_gateway_needs_an_attachment() {
    fails(
        "[[route_table]]\nid = \"rtb-b\"\nvpc = \"vpc-b\"\nroutes = [ { dest = \"10.0.0.0/8\", target = \"tgw-1\" } ]\n",
        31,
        "vpc-b has no attachment to `tgw-1`",
    );
}

#[test]
fn a_route_to_the_vpn_gateway_of_another_vpc() {
    fails(
        "[[vpn_gateway]]\nid = \"vgw-a\"\nvpc = \"vpc-a\"\n[[route_table]]\nid = \"rtb-b\"\nvpc = \"vpc-b\"\nroutes = [ { dest = \"192.168.0.0/16\", target = \"vgw-a\" } ]\n",
        34,
        "`vgw-a` is in vpc-a, but `rtb-b` belongs to vpc-b",
    );
}

#[test]
fn overlapping_onprem_and_vpc_cidrs() {
    fails(
        "[[vpn_gateway]]\nid = \"vgw-a\"\nvpc = \"vpc-a\"\n[[onprem]]\nid = \"dc1\"\ncidr = \"10.0.0.0/8\"\n[[vpn_connection]]\nid = \"vpn-1\"\nonprem = \"dc1\"\ngateway = \"vgw-a\"\n",
        36,
        "dc1 10.0.0.0/8 overlaps vpc-a 10.0.0.0/16",
    );
    fails(
        &format!(
            "{ATTACH}[[onprem]]\nid = \"dc1\"\ncidr = \"10.0.128.0/20\"\n[[vpn_connection]]\nid = \"vpn-1\"\nonprem = \"dc1\"\ngateway = \"tgw-1\"\n[[tgw_attachment]]\nid = \"att-vpn\"\ntransit_gateway = \"tgw-1\"\nvpn = \"vpn-1\"\n"
        ),
        43,
        "dc1 10.0.128.0/20 overlaps vpc-a 10.0.0.0/16",
    );
    // Overlap does not matter when the two never meet.
    let ok = format!("{BASE}[[onprem]]\nid = \"dc1\"\ncidr = \"10.0.0.0/16\"\n");
    load_str(&ok, "t.toml").unwrap_or_else(|e| panic!("{e}"));
}

#[test]
fn vpn_attachments_and_connections() {
    let conn = "[[onprem]]\nid = \"dc1\"\ncidr = \"192.168.0.0/16\"\n[[vpn_gateway]]\nid = \"vgw-a\"\nvpc = \"vpc-a\"\n[[vpn_connection]]\nid = \"vpn-1\"\nonprem = \"dc1\"\ngateway = \"vgw-a\"\n";
    fails(
        &format!("{conn}[[tgw_attachment]]\nid = \"att-vpn\"\ntransit_gateway = \"tgw-1\"\nvpn = \"vpn-1\"\n"),
        41,
        "VPN connection `vpn-1` does not end on `tgw-1`",
    );
    fails(
        "[[onprem]]\nid = \"dc1\"\ncidr = \"192.168.0.0/16\"\n[[vpn_connection]]\nid = \"vpn-1\"\nonprem = \"dc1\"\ngateway = \"tgw-1\"\ntype = \"ipsec\"\n",
        35,
        "unknown connection type `ipsec`",
    );
    fails(
        "[[vpn_connection]]\nid = \"vpn-1\"\nonprem = \"vpc-a\"\ngateway = \"tgw-1\"\n",
        30,
        "`vpc-a` is a vpc, not an onprem",
    );
}

#[test]
fn onprem_hosts() {
    let src = format!(
        "{BASE}[[onprem]]\nid = \"dc1\"\ncidr = \"192.168.0.0/16\"\n[[host]]\nid = \"laptop\"\nonprem = \"dc1\"\nip = \"192.168.1.5\"\n"
    );
    let t = load_str(&src, "t.toml").unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        t.eni(t.host(t.host_by_id("laptop").unwrap()).eni).attachment,
        Attachment::OnPrem(vpcsim_model::OnPremIdx(0))
    );
    let dc = "[[onprem]]\nid = \"dc1\"\ncidr = \"192.168.0.0/16\"\n[[host]]\nid = \"laptop\"\nonprem = \"dc1\"\n";
    fails(&format!("{dc}ip = \"10.9.0.5\"\n"), 34, "10.9.0.5 is not inside dc1 192.168.0.0/16");
    fails(&format!("{dc}ip = \"192.168.0.1\"\n"), 34, "its router (192.168.0.1)");
    fails(
        &format!("{dc}ip = \"192.168.1.5\"\nsecurity_groups = [\"default\"]\n"),
        35,
        "an on-premises host has no security groups",
    );
    fails(dc, 32, "on-premises host `laptop` needs `ip`");
    fails(
        &format!("{dc}ip = \"192.168.1.5\"\n[[host]]\nid = \"desk\"\nonprem = \"dc1\"\nip = \"192.168.1.5\"\n"),
        38,
        "192.168.1.5 is already taken in dc1 by `laptop`",
    );
}

#[test]
fn dns_zones() {
    let ep = "[[interface_endpoint]]\nid = \"vpce-kms\"\nvpc = \"vpc-a\"\nservice = \"kms\"\nsubnets = [\"subnet-a1\"]\nprivate_dns = false\n";
    let zone = "[[dns_zone]]\nid = \"zone\"\nname = \"kms.us-east-1.amazonaws.com\"\nvpcs = [\"vpc-b\"]\n";
    let src = format!(
        "{BASE}{ep}{zone}records = [ {{ name = \"kms.us-east-1.amazonaws.com\", alias = \"vpce-kms\" }}, {{ name = \"a.kms.us-east-1.amazonaws.com\", a = [\"10.0.9.9\"] }} ]\n"
    );
    let t = load_str(&src, "t.toml").unwrap_or_else(|e| panic!("{e}"));
    assert!(matches!(t.dns_zones[0].records[0].data, DnsRecordData::Alias(_)));
    assert!(matches!(&t.dns_zones[0].records[1].data, DnsRecordData::A(v) if v.len() == 1));
    let records = |r: &str| format!("{ep}{zone}records = [ {r} ]\n");
    fails(
        &records("{ name = \"kms.us-east-1.amazonaws.com\", a = [\"2001:db8::1\"] }"),
        38,
        "an `a` record holds IPv4 addresses",
    );
    fails(&records("{ name = \"kms.us-east-1.amazonaws.com\", a = [\"nope\"] }"), 38, "nope");
    fails(&records("{ name = \"sqs.us-east-1.amazonaws.com\", a = [\"10.0.0.1\"] }"), 38, "is not inside the zone");
    fails(&records("{ name = \"kms.us-east-1.amazonaws.com\" }"), 38, "a record has exactly one of");
    fails(
        &records("{ name = \"kms.us-east-1.amazonaws.com\", alias = \"subnet-a1\" }"),
        38,
        "`subnet-a1` is a subnet, not an interface_endpoint",
    );
    fails(
        &records("{ name = \"kms.us-east-1.amazonaws.com\", a = [\"10.0.0.1\"], alias = \"vpce-kms\" }"),
        38,
        "a record has exactly one of",
    );
    fails("[[dns_zone]]\nid = \"zone\"\nname = \"not a name\"\n", 30, "is not a well-formed DNS name");
    fails(
        &format!("{zone}[[dns_zone]]\nid = \"zone2\"\nname = \"kms.us-east-1.amazonaws.com\"\nvpcs = [\"vpc-b\"]\n"),
        35,
        "vpc-b is already associated with `zone`",
    );
}
