//! Every validation rule, each through one helper: the scenario text in, the
//! located errors out (`line:column: message`, one per line).

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

/// A valid preamble: one VPC with one subnet (lines 1–9), so that tests only
/// write what they are about. Tests' own lines start at line 10.
const BASE: &str = r#"name = "t"
[[vpc]]
id = "vpc-a"
cidr = "10.0.0.0/16"

[[subnet]]
id = "subnet-a"
vpc = "vpc-a"
cidr = "10.0.1.0/24"
"#;

fn with_base(rest: &str) -> String {
    format!("{BASE}{rest}")
}

#[test]
fn unknown_field_lists_the_expected_fields() {
    let src = "name = \"t\"\n[[vpc]]\nid = \"vpc-a\"\ncidrr = \"10.0.0.0/16\"\n";
    assert_eq!(
        error_of(src),
        "4:1: unknown field `cidrr`, expected one of `id`, `cidr`, `ipv6_cidr`, `region`, `account`, `private_dns`"
    );
}

#[test]
fn unknown_top_level_key() {
    let err = error_of("name = \"t\"\nvpcs = []\n");
    assert!(err.starts_with("2:1: unknown field `vpcs`, expected one of"), "{err}");
}

#[test]
fn missing_name() {
    assert_eq!(error_of("seed = 1\n"), "1:1: missing `name`: every scenario starts with name = \"...\"");
}

#[test]
fn subnet_outside_its_vpc() {
    let src = with_base("\n[[subnet]]\nid = \"subnet-b\"\nvpc = \"vpc-a\"\ncidr = \"10.1.0.0/24\"\n");
    assert_eq!(error_of(&src), "14:8: subnet-b: 10.1.0.0/24 is not inside vpc-a 10.0.0.0/16");
}

#[test]
fn overlapping_subnets_name_each_other() {
    let src = with_base("\n[[subnet]]\nid = \"subnet-b\"\nvpc = \"vpc-a\"\ncidr = \"10.0.1.128/25\"\n");
    assert_eq!(error_of(&src), "14:8: subnet-b: 10.0.1.128/25 overlaps subnet subnet-a 10.0.1.0/24");
}

#[test]
fn host_bits_set() {
    let src = with_base("\n[[subnet]]\nid = \"subnet-b\"\nvpc = \"vpc-a\"\ncidr = \"10.0.2.5/24\"\n");
    assert_eq!(error_of(&src), "14:8: 10.0.2.5/24 is not a network address; did you mean 10.0.2.0/24?");
}

#[test]
fn vpc_cidr_size_limits() {
    let src = "name = \"t\"\n[[vpc]]\nid = \"vpc-a\"\ncidr = \"10.0.0.0/8\"\n";
    assert_eq!(error_of(src), "4:8: 10.0.0.0/8: a VPC's IPv4 CIDR must be between /16 and /28 (AWS's limits)");
}

#[test]
fn malformed_cidr() {
    let src = "name = \"t\"\n[[vpc]]\nid = \"vpc-a\"\ncidr = \"10.0.0/16\"\n";
    assert_eq!(error_of(src), "4:8: `10.0.0/16` is not a CIDR block: `10.0.0` is not an IP address");
}

#[test]
fn subnet_ipv6_needs_a_vpc_ipv6_cidr() {
    let src = with_base(
        "\n[[subnet]]\nid = \"subnet-b\"\nvpc = \"vpc-a\"\ncidr = \"10.0.2.0/24\"\nipv6_cidr = \"2600:1f18:aa:101::/64\"\n",
    );
    assert_eq!(error_of(&src), "15:13: subnet-b: vpc-a has no IPv6 CIDR, so its subnets cannot have one");
}

#[test]
fn duplicate_id_names_the_first_definition() {
    let src = with_base("\n[[security_group]]\nid = \"subnet-a\"\nvpc = \"vpc-a\"\n");
    assert_eq!(error_of(&src), "12:6: duplicate id `subnet-a` (first defined at line 7)");
}

#[test]
fn onprem_host_names_a_known_network() {
    let src = with_base("\n[[host]]\nid = \"laptop\"\nonprem = \"dc1\"\nip = \"192.168.1.5\"\n");
    assert_eq!(error_of(&src), "13:10: unknown onprem `dc1`");
}

#[test]
fn unknown_id() {
    let src = with_base("\n[[subnet]]\nid = \"subnet-b\"\nvpc = \"vpc-z\"\ncidr = \"10.0.2.0/24\"\n");
    assert_eq!(error_of(&src), "13:7: unknown vpc `vpc-z`");
}

#[test]
fn reference_of_the_wrong_kind() {
    let src = with_base(
        "\n[[security_group]]\nid = \"sg-web\"\nvpc = \"vpc-a\"\n\n[[route_table]]\nid = \"rtb-a\"\nvpc = \"vpc-a\"\nroutes = [{ dest = \"0.0.0.0/0\", target = \"sg-web\" }]\n",
    );
    assert_eq!(
        error_of(&src),
        "18:42: `sg-web` is a security_group, not a route target (an internet_gateway, a nat_gateway, an egress_only_internet_gateway, a vpc_peering, a transit_gateway, a vpn_gateway or a host)"
    );
    let src = with_base("\n[[internet_gateway]]\nid = \"igw-a\"\nvpc = \"subnet-a\"\n");
    assert_eq!(error_of(&src), "13:7: `subnet-a` is a subnet, not a vpc");
}

#[test]
fn route_to_an_internet_gateway_of_another_vpc() {
    let src = with_base(
        r#"
[[vpc]]
id = "vpc-b"
cidr = "10.1.0.0/16"

[[internet_gateway]]
id = "igw-b"
vpc = "vpc-b"

[[route_table]]
id = "rtb-a"
vpc = "vpc-a"
routes = [{ dest = "0.0.0.0/0", target = "igw-b" }]
"#,
    );
    assert_eq!(
        error_of(&src),
        "22:42: route to a target in another VPC: `igw-b` is in vpc-b, but `rtb-a` belongs to vpc-a"
    );
}

#[test]
fn subnet_with_a_route_table_of_another_vpc() {
    let src = with_base(
        r#"
[[vpc]]
id = "vpc-b"
cidr = "10.1.0.0/16"

[[route_table]]
id = "rtb-b"
vpc = "vpc-b"

[[subnet]]
id = "subnet-c"
vpc = "vpc-a"
cidr = "10.0.3.0/24"
route_table = "rtb-b"
"#,
    );
    assert_eq!(error_of(&src), "23:15: `rtb-b` is a route_table of vpc-b, but subnet-c is in vpc-a");
}

#[test]
fn two_main_route_tables() {
    let src = with_base(
        "\n[[route_table]]\nid = \"rtb-1\"\nvpc = \"vpc-a\"\nmain = true\n\n[[route_table]]\nid = \"rtb-2\"\nvpc = \"vpc-a\"\nmain = true\n",
    );
    assert_eq!(error_of(&src), "19:8: vpc-a already has a main route table, `rtb-1` (line 14); a VPC has exactly one");
}

#[test]
fn two_internet_gateways() {
    let src = with_base(
        "\n[[internet_gateway]]\nid = \"igw-1\"\nvpc = \"vpc-a\"\n\n[[internet_gateway]]\nid = \"igw-2\"\nvpc = \"vpc-a\"\n",
    );
    assert_eq!(error_of(&src), "17:7: vpc-a already has an internet gateway, `igw-1` (line 12); a VPC has at most one");
}

#[test]
fn route_rules() {
    let src = with_base(
        r#"
[[host]]
id = "fw"
subnet = "subnet-a"

[[route_table]]
id = "rtb-a"
vpc = "vpc-a"
routes = [
  { dest = "10.0.0.0/16", target = "blackhole" },
  { dest = "192.0.2.0/24", target = "blackhole" },
  { dest = "192.0.2.0/24", target = "blackhole" },
  { dest = "10.0.5.0/24", target = "fw" },
  { dest = "10.0.1.0/24", target = "fw" },
  { dest = "169.254.168.0/24", target = "blackhole" },
  { dest = "0.0.0.0/0", target = "local" },
]
"#,
    );
    assert_eq!(
        error_of(&src),
        [
            "19:12: 10.0.0.0/16 is already routed by the local route of vpc-a",
            "21:12: 192.0.2.0/24 is already routed in `rtb-a` (line 20)",
            "22:12: 10.0.5.0/24 is more specific than the local route 10.0.0.0/16; AWS allows that only for a whole subnet's CIDR routed to a host (network interface), a NAT gateway or a Gateway Load Balancer endpoint",
            "24:12: AWS does not allow routes to 169.254.168.0/24: it is inside 169.254.168.0/22, reserved for AWS services",
            "25:34: the local routes are implicit: do not write them (a route targets `blackhole`, an internet_gateway or a host)",
        ]
        .join("\n")
    );
}

#[test]
fn nacl_rules() {
    let src = with_base(
        r#"
[[nacl]]
id = "acl-a"
vpc = "vpc-a"
ingress = [
  { rule = 100, action = "allow", proto = "tcp", ports = "443", cidr = "0.0.0.0/0" },
  { rule = 100, action = "deny", proto = "all", cidr = "0.0.0.0/0" },
  { rule = 0, action = "allow", proto = "udp", cidr = "0.0.0.0/0" },
  { rule = 200, action = "permit", proto = "udp", cidr = "0.0.0.0/0" },
  { rule = 300, action = "allow", proto = "tcp", prefix_list = "pl-s3" },
]
egress = [
  { rule = 100, action = "allow", proto = "all", ports = "80", cidr = "0.0.0.0/0" },
]
"#,
    );
    assert_eq!(
        error_of(&src),
        [
            "16:12: duplicate rule number 100 (first used at line 15)",
            "17:12: rule number 0 is out of range (1-32766)",
            "18:26: unknown action `permit`, expected `allow` or `deny`",
            "19:64: network ACL rules take CIDRs only (no security groups, no prefix lists)",
            "22:58: protocol `all` covers every port; remove `ports`",
        ]
        .join("\n")
    );
}

#[test]
fn security_group_rules() {
    let src = with_base(
        r#"
[[security_group]]
id = "sg-a"
vpc = "vpc-a"
ingress = [
  { proto = "tcp", ports = "443" },
  { proto = "tcp", ports = "443", cidr = "10.0.0.0/16", sg = "sg-a" },
  { proto = "gre", cidr = "10.0.0.0/16" },
  { proto = 47, ports = "1-2", cidr = "10.0.0.0/16" },
  { proto = "udp", ports = "70000", cidr = "10.0.0.0/16" },
  { proto = "udp", ports = "200-100", cidr = "10.0.0.0/16" },
  { proto = "tcp", prefix_list = "pl-nope" },
]
"#,
    );
    assert_eq!(
        error_of(&src),
        [
            "15:3: a security group rule needs exactly one of `cidr`, `sg`, `prefix_list` (none given)",
            "16:3: a security group rule needs exactly one of `cidr`, `sg`, `prefix_list` (several given)",
            "17:13: unknown protocol `gre`, expected one of `tcp`, `udp`, `icmp`, `icmpv6`, `all` or an IP protocol number",
            "18:25: protocol 47 has no ports; remove `ports`",
            "19:28: `70000` is not a port (0-65535)",
            "20:28: port range `200-100` is backwards (the first port must not exceed the last)",
            "21:34: unknown prefix_list `pl-nope`",
        ]
        .join("\n")
    );
}

#[test]
fn sg_rule_referencing_a_group_of_another_vpc() {
    let src = with_base(
        r#"
[[vpc]]
id = "vpc-b"
cidr = "10.1.0.0/16"

[[security_group]]
id = "sg-b"
vpc = "vpc-b"

[[security_group]]
id = "sg-a"
vpc = "vpc-a"
ingress = [{ proto = "all", sg = "sg-b" }]
"#,
    );
    assert_eq!(
        error_of(&src),
        "22:34: security group `sg-b` belongs to vpc-b, but `sg-a` is in vpc-a (a rule may reference a group of its own VPC, or of a VPC peered with it in the same region)"
    );
}

#[test]
fn managed_prefix_list_not_available_in_the_region() {
    let src = r#"name = "t"
[[vpc]]
id = "vpc-a"
cidr = "10.0.0.0/16"
region = "il-central-1"

[[route_table]]
id = "rtb-a"
vpc = "vpc-a"
routes = [{ dest = "pl-s3", target = "blackhole" }]

[[security_group]]
id = "sg-a"
vpc = "vpc-a"
egress = [{ proto = "tcp", ports = "443", prefix_list = "pl-dynamodb" }]
"#;
    assert_eq!(
        error_of(src),
        [
            "10:20: managed prefix list pl-s3 is not available in il-central-1 yet",
            "15:57: managed prefix list pl-dynamodb is not available in il-central-1 yet",
        ]
        .join("\n")
    );
}

#[test]
fn prefix_list_of_mixed_families() {
    let src = with_base("\n[[prefix_list]]\nid = \"pl-x\"\nentries = [\"10.9.0.0/16\", \"2001:db8::/32\"]\n");
    assert_eq!(
        error_of(&src),
        "13:27: 2001:db8::/32 is not of the same address family as 10.9.0.0/16: a prefix list holds IPv4 or IPv6 entries, not both"
    );
}

#[test]
fn ip_already_taken() {
    let src = with_base(
        "\n[[host]]\nid = \"h1\"\nsubnet = \"subnet-a\"\nip = \"10.0.1.10\"\n\n[[host]]\nid = \"h2\"\nsubnet = \"subnet-a\"\nip = \"10.0.1.10\"\n",
    );
    assert_eq!(error_of(&src), "19:6: 10.0.1.10 is already taken by `h1` (line 12)");
}

#[test]
fn ip_reserved_by_aws() {
    let src = with_base("\n[[host]]\nid = \"h1\"\nsubnet = \"subnet-a\"\nip = \"10.0.1.1\"\n");
    assert_eq!(error_of(&src), "14:6: 10.0.1.1 is reserved by AWS in subnet-a (the VPC router)");
    let src = with_base("\n[[host]]\nid = \"h1\"\nsubnet = \"subnet-a\"\nip = \"10.0.1.255\"\n");
    assert_eq!(error_of(&src), "14:6: 10.0.1.255 is reserved by AWS in subnet-a (the broadcast address)");
}

#[test]
fn ip_outside_its_subnet() {
    let src = with_base("\n[[host]]\nid = \"h1\"\nsubnet = \"subnet-a\"\nip = \"10.0.2.10\"\n");
    assert_eq!(error_of(&src), "14:6: 10.0.2.10 is not inside subnet-a 10.0.1.0/24");
}

#[test]
fn subnet_runs_out_of_addresses() {
    // A /28 has 16 addresses, 5 reserved: 11 hosts fit, the 12th does not.
    let mut src = String::from(
        "name = \"t\"\n[[vpc]]\nid = \"vpc-a\"\ncidr = \"10.0.0.0/16\"\n[[subnet]]\nid = \"s\"\nvpc = \"vpc-a\"\ncidr = \"10.0.0.0/28\"\n",
    );
    for i in 1..=12 {
        src.push_str(&format!("[[host]]\nid = \"h{i}\"\nsubnet = \"s\"\n"));
    }
    assert_eq!(
        error_of(&src),
        "43:6: s 10.0.0.0/28 has no free address left for `h12`; give it a bigger subnet or fewer hosts"
    );
}

#[test]
fn public_ips() {
    let src = with_base(
        r#"
[[host]]
id = "h1"
subnet = "subnet-a"
public_ip = "10.9.9.9"

[[host]]
id = "h2"
subnet = "subnet-a"
public_ip = "198.51.100.7"

[[host]]
id = "client"
internet = true
ip = "198.51.100.7"

[[host]]
id = "intruder"
internet = true
ip = "172.16.0.1"
"#,
    );
    assert_eq!(
        error_of(&src),
        [
            "14:13: 10.9.9.9 is private (10.0.0.0/8, RFC 1918): a public IP is a public internet address",
            "24:6: 198.51.100.7 is already taken on the internet by `h2` (line 17)",
            "29:6: 172.16.0.1 is private (172.16.0.0/12, RFC 1918): an internet host's IPv4 address is a public internet address",
        ]
        .join("\n")
    );
}

#[test]
fn internet_host_inside_a_vpc_ipv6_cidr() {
    let src = r#"name = "t"
[[vpc]]
id = "vpc-a"
cidr = "10.0.0.0/16"
ipv6_cidr = "2600:1f18:aa:100::/56"

[[host]]
id = "client"
internet = true
ip = "2600:1f18:aa:100::7"
"#;
    assert_eq!(
        error_of(src),
        "10:6: 2600:1f18:aa:100::7 is inside vpc-a's IPv6 CIDR; an internet host lives outside every VPC"
    );
}

#[test]
fn host_security_group_of_another_vpc() {
    let src = with_base(
        r#"
[[vpc]]
id = "vpc-b"
cidr = "10.1.0.0/16"

[[security_group]]
id = "sg-b"
vpc = "vpc-b"

[[host]]
id = "h1"
subnet = "subnet-a"
security_groups = ["sg-b"]
"#,
    );
    assert_eq!(error_of(&src), "22:20: security group `sg-b` belongs to vpc-b, but host `h1` is in vpc-a");
}

/// An expectation with one key replaced, after a host `h1` at line 13.
fn expect(extra: &str) -> String {
    with_base(&format!("\n[[host]]\nid = \"h1\"\nsubnet = \"subnet-a\"\n\n[[expect]]\nfrom = \"h1\"\n{extra}\n"))
}

#[test]
fn expectation_to_malformed() {
    let src = expect("to = \"not a name!\"\nproto = \"tcp\"\nport = 443\nresult = \"connected\"");
    assert_eq!(error_of(&src), "17:6: `not a name!` is neither a host id, an IP address nor a well-formed DNS name");
}

#[test]
fn expectation_port_out_of_range() {
    let src = expect("to = \"h1\"\nproto = \"tcp\"\nport = 70000\nresult = \"connected\"");
    assert_eq!(error_of(&src), "19:8: port 70000 is out of range (1-65535)");
}

#[test]
fn expectation_unknown_proto() {
    let src = expect("to = \"h1\"\nproto = \"sctp\"\nresult = \"replied\"");
    assert_eq!(error_of(&src), "18:9: unknown proto `sctp`, expected one of `tcp`, `udp`, `icmp`, `icmpv6`");
}

#[test]
fn expectation_rules() {
    let src = expect(
        "to = \"example.com\"\nproto = \"icmp\"\nport = 1\nresult = \"connected\"\nat = \"3 seconds\"\ndrop_reason = \"sg-ingress\"\non = \"sideways\"\nvia = [\"igw-nope\"]",
    );
    assert_eq!(
        error_of(&src),
        [
            "19:8: icmp has no ports; remove `port`",
            "20:10: result `connected` does not apply to icmp: expected `replied` or `dropped`",
            "21:6: `3 seconds` is not a duration (e.g. \"100us\", \"500ms\", \"3s\", \"1.5s\", \"2m\", \"1h\")",
            "23:6: unknown leg `sideways`, expected `forward` or `return`",
            "24:8: unknown id `igw-nope` in `via`",
        ]
        .join("\n")
    );
    let src = expect(
        "to = \"h1\"\nproto = \"udp\"\nresult = \"replied\"\nrequest = { action = \"s3:GetObject\", resource = \"x\" }",
    );
    assert_eq!(
        error_of(&src),
        ["18:9: udp needs a `port`", "20:11: `request` is sent over a TCP connection: it needs proto = \"tcp\""]
            .join("\n")
    );
    let src = expect("to = \"h1\"\nproto = \"tcp\"\nport = 80\nresult = \"connected\"\ndrop_reason = \"no-route\"");
    assert_eq!(
        error_of(&src),
        "21:15: `drop_reason` describes a drop: it goes with result = \"dropped\" (or \"denied\")"
    );
}

#[test]
fn diagnostics_render_like_rustc() {
    let src = with_base("\n[[subnet]]\nid = \"subnet-b\"\nvpc = \"vpc-a\"\ncidr = \"10.1.0.0/24\"\n");
    let err = load_str(&src, "scenarios/x.toml").unwrap_err();
    assert_eq!(
        err.to_string(),
        "scenarios/x.toml:14:8: error: subnet-b: 10.1.0.0/24 is not inside vpc-a 10.0.0.0/16\n   |\n14 | cidr = \"10.1.0.0/24\"\n   |        ^^^^^^^^^^^^^\n"
    );
}

#[test]
fn columns_count_characters_not_bytes() {
    let src = "name = \"t\"\n[[vpc]]\nid = \"vpc-é\"\ncidr = \"10.0.0.0/8\" # é\n[[subnet]]\nid = \"s\"\nvpc = \"vpc-é\"\ncidr = \"10.0.0.0/24\"\n\"clé\" = 1\n";
    // A syntax error comes alone: the unknown key, located by characters.
    assert_eq!(
        error_of(src),
        "9:1: unknown field `clé`, expected one of `id`, `vpc`, `cidr`, `ipv6_cidr`, `az`, `route_table`, `nacl`"
    );
}

#[test]
fn garbage_never_panics() {
    for src in [
        "",
        "\u{0}",
        "[[vpc]]\n",
        "name = 1",
        "[[host]]\nid=\"\"",
        "name=\"t\"\n[[expect]]\nfrom=\"\"\nto=\"\"\nproto=\"\"\nresult=\"\"",
    ] {
        let _ = load_str(src, "x.toml");
    }
}

// --- Gateway endpoints ----------------------------------------------------------

const RTB: &str = "\n[[route_table]]\nid = \"rtb-a\"\nvpc = \"vpc-a\"\n";

fn endpoint(extra: &str) -> String {
    with_base(&format!("{RTB}\n[[gateway_endpoint]]\nid = \"vpce-s3\"\nvpc = \"vpc-a\"\n{extra}"))
}

#[test]
fn a_gateway_endpoint_only_for_s3_and_dynamodb() {
    let src = endpoint("service = \"kms\"\nroute_tables = [\"rtb-a\"]\n");
    assert_eq!(
        error_of(&src),
        "18:11: kms has no gateway endpoint (only s3 and dynamodb do); use an interface endpoint"
    );
}

#[test]
fn a_gateway_endpoint_reaches_its_own_region_only() {
    let src = endpoint("service = \"com.amazonaws.eu-west-1.s3\"\nroute_tables = [\"rtb-a\"]\n");
    assert_eq!(
        error_of(&src),
        "18:11: `com.amazonaws.eu-west-1.s3` is a service of eu-west-1, but this is us-east-1: an endpoint reaches the services of its own VPC's region"
    );
}

#[test]
fn a_route_cannot_target_a_gateway_endpoint_nor_duplicate_its_route() {
    let src = with_base(
        "\n[[route_table]]\nid = \"rtb-a\"\nvpc = \"vpc-a\"\nroutes = [{ dest = \"pl-s3\", target = \"blackhole\" }, { dest = \"0.0.0.0/0\", target = \"vpce-s3\" }]\n\n[[gateway_endpoint]]\nid = \"vpce-s3\"\nvpc = \"vpc-a\"\nservice = \"s3\"\nroute_tables = [\"rtb-a\"]\n",
    );
    let errors = error_of(&src);
    assert!(errors.contains("`vpce-s3` is a gateway endpoint: it adds its own prefix-list route"), "{errors}");
    assert!(
        errors.contains(
            "route table `rtb-a` already routes pl-s3 (a route of the table); a table holds one route per prefix list"
        ),
        "{errors}"
    );
}

#[test]
fn an_invalid_inline_policy_is_located() {
    let src = endpoint(
        "service = \"s3\"\nroute_tables = [\"rtb-a\"]\npolicy = '{\"Statement\": [{\"Efect\": \"Allow\"}]}'\n",
    );
    let errors = error_of(&src);
    assert!(errors.starts_with("20:10: invalid endpoint policy: line 1, column "), "{errors}");
    assert!(errors.contains("Efect"), "{errors}");
}

#[test]
fn a_missing_policy_file_is_an_error() {
    let src = endpoint("service = \"s3\"\nroute_tables = [\"rtb-a\"]\npolicy = \"no-such-policy.json\"\n");
    assert!(error_of(&src).starts_with("20:10: cannot read the policy file no-such-policy.json"), "{}", error_of(&src));
}

#[test]
fn a_gateway_endpoint_route_table_of_another_vpc() {
    let src = format!(
        "{BASE}\n[[vpc]]\nid = \"vpc-b\"\ncidr = \"10.1.0.0/16\"\n\n[[route_table]]\nid = \"rtb-b\"\nvpc = \"vpc-b\"\n\n[[gateway_endpoint]]\nid = \"vpce-s3\"\nvpc = \"vpc-a\"\nservice = \"s3\"\nroute_tables = [\"rtb-b\"]\n"
    );
    assert_eq!(error_of(&src), "23:17: route table `rtb-b` belongs to another VPC than vpc-a");
}

// --- Interface endpoints -----------------------------------------------------------

#[test]
fn an_interface_endpoint_takes_one_subnet_per_az() {
    let src = with_base(
        "\n[[subnet]]\nid = \"subnet-a2\"\nvpc = \"vpc-a\"\ncidr = \"10.0.2.0/24\"\n\n[[interface_endpoint]]\nid = \"vpce-kms\"\nvpc = \"vpc-a\"\nservice = \"kms\"\nsubnets = [\"subnet-a\", \"subnet-a2\"]\n",
    );
    assert_eq!(
        error_of(&src),
        "20:24: an interface endpoint takes at most one subnet per AZ: `subnet-a` and `subnet-a2` are both in us-east-1a"
    );
}

#[test]
fn an_interface_endpoint_needs_subnets_and_a_known_service() {
    let src = with_base("\n[[interface_endpoint]]\nid = \"vpce-x\"\nvpc = \"vpc-a\"\nservice = \"kms\"\n");
    assert_eq!(error_of(&src), "12:6: interface endpoint `vpce-x` needs `subnets` (one per AZ)");
    let src = with_base(
        "\n[[interface_endpoint]]\nid = \"vpce-x\"\nvpc = \"vpc-a\"\nservice = \"vpce-svc-orders\"\nsubnets = [\"subnet-a\"]\n",
    );
    assert!(error_of(&src).contains("vpce-svc-orders"), "{}", error_of(&src));
}

#[test]
fn load_balancer_and_endpoint_service_errors() {
    let src = with_base("\n[[load_balancer]]\nid = \"nlb-a\"\ntype = \"network\"\n");
    assert_eq!(error_of(&src), "12:6: load balancer `nlb-a` needs `subnets` (one per AZ)");
    let src = with_base("\n[[load_balancer]]\nid = \"lb-a\"\ntype = \"classic\"\nsubnets = [\"subnet-a\"]\n");
    assert_eq!(error_of(&src), "13:8: unknown load balancer type `classic`, expected `network` or `gateway`");
    let src = with_base(
        "\n[[load_balancer]]\nid = \"nlb-a\"\nsubnets = [\"subnet-a\"]\nlisteners = [{ port = 443, targets = [\"ghost\"] }]\n",
    );
    assert_eq!(error_of(&src), "14:39: unknown host `ghost`");
    let src = with_base("\n[[event]]\nat = \"2s\"\naction = \"explode\"\nendpoint = \"x\"\n");
    assert!(error_of(&src).starts_with("13:10: unknown event action `explode`"), "{}", error_of(&src));
}

#[test]
fn a_route_targets_only_gateway_load_balancer_endpoints() {
    let src = with_base(
        "\n[[route_table]]\nid = \"rtb-a\"\nvpc = \"vpc-a\"\nroutes = [{ dest = \"0.0.0.0/0\", target = \"vpce-kms\" }]\n\n[[interface_endpoint]]\nid = \"vpce-kms\"\nvpc = \"vpc-a\"\nservice = \"kms\"\nsubnets = [\"subnet-a\"]\n",
    );
    assert_eq!(
        error_of(&src),
        "14:42: `vpce-kms` is an interface endpoint; only a Gateway Load Balancer endpoint can be a route target"
    );
}

/// An internet gateway, a middlebox, a gateway route table for the gateway
/// whose routes are `ROUTES`, and a second VPC with its own gateway.
const EDGE: &str = r#"
[[internet_gateway]]
id = "igw-a"
vpc = "vpc-a"

[[host]]
id = "box"
subnet = "subnet-a"
source_dest_check = false

[[route_table]]
id = "rtb-edge"
vpc = "vpc-a"
edge_associations = ["igw-a"]
routes = [ ROUTES ]

[[vpc]]
id = "vpc-b"
cidr = "10.1.0.0/16"

[[internet_gateway]]
id = "igw-b"
vpc = "vpc-b"
"#;

fn edge_with(routes: &str, more: &str) -> String {
    with_base(&format!("{}{more}", EDGE.replace("ROUTES", routes)))
}

#[test]
fn a_gateway_route_table_loads_and_names_its_gateway() {
    let src = edge_with(r#"{ dest = "10.0.1.0/24", target = "box" }"#, "");
    let t = load_str(&src, "test.toml").unwrap_or_else(|e| panic!("{e}"));
    let edge = t.route_tables.iter().position(|r| r.id == "rtb-edge");
    assert_eq!(t.internet_gateways[0].route_table.map(|r| r.index()), edge);
    assert_eq!(t.internet_gateways[1].route_table, None);
    // The VPC's CIDR replaces the local route's target rather than clashing with it.
    let src = edge_with(r#"{ dest = "10.0.0.0/16", target = "box" }"#, "");
    let t = load_str(&src, "test.toml").unwrap_or_else(|e| panic!("{e}"));
    let table = t.route_tables.iter().find(|r| r.id == "rtb-edge").unwrap();
    assert_eq!(table.routes.len(), 1, "{:?}", table.routes);
    assert!(matches!(table.routes[0].target, vpcsim_model::RouteTarget::Eni(_)));
}

#[test]
fn a_gateway_route_table_routes_only_to_a_middlebox_or_a_gwlb_endpoint() {
    let err = error_of(&edge_with(r#"{ dest = "10.0.1.0/24", target = "igw-a" }"#, ""));
    assert!(
        err.contains("a gateway route table (one with edge_associations) routes only to a host (its network interface, a middlebox) or a Gateway Load Balancer endpoint, not to `igw-a`"),
        "{err}"
    );
}

#[test]
fn a_gateway_route_table_routes_only_the_vpc_or_whole_subnets() {
    let err = error_of(&edge_with(r#"{ dest = "10.0.1.0/25", target = "box" }"#, ""));
    assert!(
        err.contains(
            "a gateway route table routes only the VPC's CIDR or a whole subnet's CIDR of vpc-a; 10.0.1.0/25 is neither"
        ),
        "{err}"
    );
    let err = error_of(&edge_with(r#"{ dest = "0.0.0.0/0", target = "box" }"#, ""));
    assert!(err.contains("0.0.0.0/0 is neither"), "{err}");
}

#[test]
fn a_gateway_route_table_cannot_route_a_prefix_list() {
    let pl = "\n[[prefix_list]]\nid = \"pl-x\"\nentries = [\"10.0.1.0/24\"]\n";
    let err = error_of(&edge_with(r#"{ dest = "pl-x", target = "box" }"#, pl));
    assert!(err.contains("a gateway route table (one with edge_associations) cannot route a prefix list"), "{err}");
}

#[test]
fn edge_associations_name_a_gateway_of_the_tables_vpc_once() {
    let twice = "\n[[route_table]]\nid = \"rtb-edge2\"\nvpc = \"vpc-a\"\nedge_associations = [\"igw-a\"]\n";
    let err = error_of(&edge_with("", twice));
    assert!(err.contains("`igw-a` is already edge-associated with `rtb-edge` (line"), "{err}");
    assert!(err.contains("a gateway has one gateway route table"), "{err}");

    let other = "\n[[route_table]]\nid = \"rtb-edge2\"\nvpc = \"vpc-a\"\nedge_associations = [\"igw-b\"]\n";
    let err = error_of(&edge_with("", other));
    assert!(err.contains("`igw-b` is attached to vpc-b, but `rtb-edge2` belongs to vpc-a"), "{err}");

    let subnet = "\n[[route_table]]\nid = \"rtb-edge2\"\nvpc = \"vpc-a\"\nedge_associations = [\"subnet-a\"]\n";
    let err = error_of(&edge_with("", subnet));
    assert!(
        err.contains(
            "`subnet-a` is a subnet; a route table is edge-associated only with an internet_gateway or a vpn_gateway"
        ),
        "{err}"
    );

    let unknown = "\n[[route_table]]\nid = \"rtb-edge2\"\nvpc = \"vpc-a\"\nedge_associations = [\"igw-zz\"]\n";
    let err = error_of(&edge_with("", unknown));
    assert!(err.contains("unknown gateway `igw-zz` (expected an internet_gateway or a vpn_gateway id)"), "{err}");
}

#[test]
fn a_gateway_endpoint_cannot_put_its_route_in_a_gateway_route_table() {
    let ep =
        "\n[[gateway_endpoint]]\nid = \"vpce-s3\"\nvpc = \"vpc-a\"\nservice = \"s3\"\nroute_tables = [\"rtb-edge\"]\n";
    let err = error_of(&edge_with(r#"{ dest = "10.0.1.0/24", target = "box" }"#, ep));
    assert!(
        err.contains("route table `rtb-edge` is the gateway route table of `igw-a`: it holds no prefix-list routes"),
        "{err}"
    );
}
