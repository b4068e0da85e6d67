//! Valid scenarios build the topology they describe, implicit resources included.

use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use ipnet::IpNet;
use vpcsim_model::{
    Action, Attachment, Destination, ExpectedResult, Leg, ManagedBy, PortRange, Protocol, RouteDest, RouteOrigin,
    RouteTarget, SgPeer, Topology,
};
use vpcsim_scenario::load_str;

const FULL: &str = r#"
name = "Everything this version simulates"
description = "a test"
seed = 42

[[vpc]]
id = "vpc-a"
cidr = "10.0.0.0/16"
ipv6_cidr = "2600:1f18:aa:100::/56"

[[internet_gateway]]
id = "igw-a"
vpc = "vpc-a"

[[prefix_list]]
id = "pl-office"
entries = ["203.0.113.0/24", "198.51.100.0/24"]

[[route_table]]
id = "rtb-public"
vpc = "vpc-a"
routes = [
  { dest = "0.0.0.0/0", target = "igw-a" },
  { dest = "pl-s3", target = "igw-a" },
  { dest = "pl-office", target = "blackhole" },
  { dest = "10.0.2.0/24", target = "fw" },
]

[[subnet]]
id = "subnet-a"
vpc = "vpc-a"
cidr = "10.0.1.0/24"
ipv6_cidr = "2600:1f18:aa:101::/64"
route_table = "rtb-public"
nacl = "acl-a"

[[subnet]]
id = "subnet-b"
vpc = "vpc-a"
cidr = "10.0.2.0/24"
az = "us-east-1b"

[[nacl]]
id = "acl-a"
vpc = "vpc-a"
ingress = [
  { rule = 200, action = "allow", proto = "tcp", ports = "1024-65535", cidr = "0.0.0.0/0" },
  { rule = 100, action = "deny", proto = 6, ports = 22, cidr = "0.0.0.0/0" },
]

[[security_group]]
id = "sg-web"
vpc = "vpc-a"
ingress = [
  { proto = "tcp", ports = "443", cidr = "0.0.0.0/0" },
  { proto = "-1", sg = "default" },
]

[[security_group]]
id = "sg-s3"
vpc = "vpc-a"
egress = [{ proto = "tcp", ports = "443", prefix_list = "pl-s3" }]

# Two hosts without an address, before one that takes 10.0.1.5 explicitly.
[[host]]
id = "auto1"
subnet = "subnet-a"

[[host]]
id = "auto2"
subnet = "subnet-a"
security_groups = ["sg-web", "default"]

[[host]]
id = "fw"
subnet = "subnet-a"
ip = "10.0.1.5"
ipv6 = "2600:1f18:aa:101::5"
public_ip = "54.0.0.5"
source_dest_check = false
listen = ["tcp/443", "udp/53"]
security_groups = ["sg-s3"]

[[host]]
id = "client"
internet = true
ip = "198.51.100.7"
ipv6 = "2001:db8::7"

[[expect]]
name = "named"
from = "auto1"
to = "fw"
proto = "tcp"
port = 443
at = "1.5s"
timeout = "500ms"
result = "dropped"
drop_reason = "nacl-ingress"
drop_at = "acl-a"
on = "return"
via = ["igw-a"]

[[expect]]
from = "client"
to = "s3.us-east-1.amazonaws.com"
proto = "tcp"
port = 443
request = { action = "s3:GetObject", resource = "arn:aws:s3:::b/k" }
result = "denied"
seen_source = "54.0.0.5"

[[expect]]
from = "fw"
to = "2001:db8::7"
proto = "icmpv6"
result = "replied"

[[flow]]
from = "auto1"
to = "fw"
proto = "udp"
port = 53
start = "2m"
requests = 10
"#;

fn full() -> Topology {
    match load_str(FULL, "full.toml") {
        Ok(t) => t,
        Err(e) => panic!("{e}"),
    }
}

fn net(s: &str) -> IpNet {
    s.parse().unwrap()
}

#[test]
fn top_level() {
    let t = full();
    assert_eq!(t.name, "Everything this version simulates");
    assert_eq!(t.description.as_deref(), Some("a test"));
    assert_eq!(t.seed, 42);
}

#[test]
fn implicit_resources_per_vpc() {
    let t = full();
    let vpc = &t.vpcs[0];
    let main = t.route_table(vpc.main_route_table);
    assert_eq!(main.id, "vpc-a/main-route-table");
    assert!(main.main && main.implicit);
    let local: Vec<RouteDest> = main.routes.iter().map(|r| r.dest).collect();
    assert_eq!(local, [RouteDest::Cidr(net("10.0.0.0/16")), RouteDest::Cidr(net("2600:1f18:aa:100::/56"))]);
    assert!(main.routes.iter().all(|r| r.target == RouteTarget::Local && r.origin == RouteOrigin::Local));

    let acl = t.nacl(vpc.default_nacl);
    assert_eq!(acl.id, "vpc-a/default-nacl");
    assert!(acl.is_default);
    for rules in [&acl.ingress, &acl.egress] {
        let summary: Vec<(u16, Action, Protocol, IpNet)> =
            rules.iter().map(|r| (r.number, r.action, r.proto, r.cidr)).collect();
        assert_eq!(
            summary,
            [(100, Action::Allow, Protocol::All, net("0.0.0.0/0")), (101, Action::Allow, Protocol::All, net("::/0"))]
        );
    }

    let sg_idx = vpc.default_security_group;
    let sg = t.security_group(sg_idx);
    assert_eq!(sg.id, "vpc-a/default-sg");
    assert!(sg.is_default);
    assert_eq!(sg.ingress.len(), 1);
    assert_eq!(sg.ingress[0].peer, SgPeer::Sg(sg_idx));
    assert_eq!(sg.ingress[0].proto, Protocol::All);
    let egress: Vec<SgPeer> = sg.egress.iter().map(|r| r.peer).collect();
    assert_eq!(egress, [SgPeer::Cidr(net("0.0.0.0/0")), SgPeer::Cidr(net("::/0"))]);
    assert_eq!(vpc.internet_gateway.map(|i| t.internet_gateway(i).id.as_str()), Some("igw-a"));
}

#[test]
fn route_table_routes() {
    let t = full();
    let rtb = t.route_tables.iter().find(|r| r.id == "rtb-public").unwrap();
    assert!(!rtb.main && !rtb.implicit);
    assert_eq!(rtb.routes.len(), 6);
    assert_eq!(rtb.routes[0].dest, RouteDest::Cidr(net("10.0.0.0/16")));
    assert_eq!(rtb.routes[1].dest, RouteDest::Cidr(net("2600:1f18:aa:100::/56")));
    assert_eq!(rtb.routes[0].origin, RouteOrigin::Local);
    assert_eq!(rtb.routes[2].target, RouteTarget::InternetGateway(t.vpcs[0].internet_gateway.unwrap()));
    assert_eq!(rtb.routes[2].origin, RouteOrigin::Static);
    let RouteDest::PrefixList(s3) = rtb.routes[3].dest else { panic!("pl-s3 route") };
    assert_eq!(t.prefix_list(s3).id, "pl-s3");
    let RouteDest::PrefixList(office) = rtb.routes[4].dest else { panic!("pl-office route") };
    assert_eq!(t.prefix_list(office).id, "pl-office");
    assert_eq!(rtb.routes[4].target, RouteTarget::Blackhole);
    let fw = t.host_by_id("fw").unwrap();
    assert_eq!(rtb.routes[5].target, RouteTarget::Eni(t.host(fw).eni));
}

#[test]
fn managed_prefix_list_resolved_once_with_its_ranges() {
    let t = full();
    let s3: Vec<_> = t.prefix_lists.iter().filter(|p| p.id == "pl-s3").collect();
    assert_eq!(s3.len(), 1, "one entry per (list, region), however often it is used");
    assert_eq!(s3[0].managed, Some(ManagedBy { service: "s3".into(), region: "us-east-1".into() }));
    assert_eq!(s3[0].entries, [net("54.231.0.0/17"), net("52.216.0.0/15"), net("3.5.16.0/21"), net("3.5.0.0/20")]);
    let office = t.prefix_lists.iter().find(|p| p.id == "pl-office").unwrap();
    assert_eq!(office.managed, None);
    let sg = t.security_groups.iter().find(|s| s.id == "sg-s3").unwrap();
    assert_eq!(sg.egress.len(), 1);
    assert!(matches!(sg.egress[0].peer, SgPeer::PrefixList(p) if t.prefix_list(p).id == "pl-s3"));
    assert_eq!(sg.egress[0].ports, PortRange::single(443));
    assert!(sg.ingress.is_empty());
}

#[test]
fn subnets() {
    let t = full();
    let a = &t.subnets[0];
    assert_eq!(a.az, "us-east-1a");
    assert_eq!(t.route_table(a.route_table).id, "rtb-public");
    assert_eq!(t.nacl(a.nacl).id, "acl-a");
    assert_eq!(a.router_mac, vpcsim_model::router_mac(vpcsim_model::SubnetIdx(0)));
    let b = &t.subnets[1];
    assert_eq!(b.az, "us-east-1b");
    assert_eq!(b.route_table, t.vpcs[0].main_route_table);
    assert_eq!(b.nacl, t.vpcs[0].default_nacl);
    assert_eq!(t.vpcs[0].subnets.len(), 2);
}

#[test]
fn nacl_rules_sorted_by_number() {
    let t = full();
    let acl = t.nacls.iter().find(|n| n.id == "acl-a").unwrap();
    let numbers: Vec<u16> = acl.ingress.iter().map(|r| r.number).collect();
    assert_eq!(numbers, [100, 200]);
    assert_eq!(acl.ingress[0].proto, Protocol::Tcp);
    assert_eq!(acl.ingress[0].ports, PortRange::single(22));
    assert_eq!(acl.ingress[0].action, Action::Deny);
    assert!(acl.egress.is_empty(), "a custom NACL denies what no rule allows");
}

#[test]
fn user_security_groups() {
    let t = full();
    let web = t.security_groups.iter().find(|s| s.id == "sg-web").unwrap();
    assert_eq!(web.ingress[1].peer, SgPeer::Sg(t.vpcs[0].default_security_group));
    assert_eq!(web.ingress[1].proto, Protocol::All);
    // Egress omitted: all out, both families.
    let egress: Vec<SgPeer> = web.egress.iter().map(|r| r.peer).collect();
    assert_eq!(egress, [SgPeer::Cidr(net("0.0.0.0/0")), SgPeer::Cidr(net("::/0"))]);
}

#[test]
fn auto_assigned_addresses_skip_reserved_and_explicit_ones() {
    let t = full();
    let ip = |id: &str| t.eni(t.host(t.host_by_id(id).unwrap()).eni).ipv4;
    assert_eq!(ip("auto1"), Ipv4Addr::new(10, 0, 1, 4));
    assert_eq!(ip("auto2"), Ipv4Addr::new(10, 0, 1, 6), "10.0.1.5 is fw's, written later in the file");
    assert_eq!(ip("fw"), Ipv4Addr::new(10, 0, 1, 5));
}

#[test]
fn hosts_and_their_enis() {
    let t = full();
    // The scenario's four hosts, then one front door per AWS service of
    // us-east-1, each with its ENI.
    assert_eq!(t.hosts.iter().filter(|h| h.service.is_none()).count(), 4);
    assert_eq!(t.hosts.len(), 4 + t.services.len());
    assert_eq!(t.enis.len(), t.hosts.len());
    assert!(t.services.iter().any(|s| s.name == "s3" && s.region == "us-east-1"));
    for (i, s) in t.services.iter().enumerate() {
        assert_eq!(t.host(s.host).service, Some(vpcsim_model::ServiceIdx::from_index(i)));
        assert_eq!(std::net::IpAddr::V4(t.eni(t.host(s.host).eni).ipv4), s.addresses[0]);
    }
    for (i, h) in t.hosts.iter().enumerate() {
        let eni = t.eni(h.eni);
        assert_eq!(eni.id, format!("eni-{}", h.id));
        assert_eq!(eni.mac, vpcsim_model::eni_mac(vpcsim_model::EniIdx::from_index(i)));
    }
    let fw = t.host(t.host_by_id("fw").unwrap());
    let eni = t.eni(fw.eni);
    assert_eq!(eni.ipv6, Some("2600:1f18:aa:101::5".parse().unwrap()));
    assert_eq!(eni.public_ip, Some(Ipv4Addr::new(54, 0, 0, 5)));
    assert!(!eni.source_dest_check);
    assert_eq!(eni.attachment, Attachment::Subnet(vpcsim_model::SubnetIdx(0)));
    assert_eq!(fw.listen.len(), 2);
    assert_eq!((fw.listen[1].proto, fw.listen[1].port), (Protocol::Udp, 53));

    let auto1 = t.eni(t.host(t.host_by_id("auto1").unwrap()).eni);
    assert_eq!(auto1.security_groups, [t.vpcs[0].default_security_group]);
    assert!(auto1.source_dest_check);
    let auto2 = t.eni(t.host(t.host_by_id("auto2").unwrap()).eni);
    assert_eq!(auto2.security_groups.len(), 2);

    let client = t.eni(t.host(t.host_by_id("client").unwrap()).eni);
    assert_eq!(client.attachment, Attachment::Internet);
    assert!(client.security_groups.is_empty());
    assert_eq!(client.ipv4, Ipv4Addr::new(198, 51, 100, 7));
    assert_eq!(client.ipv6, Some("2001:db8::7".parse().unwrap()));
}

#[test]
fn expectations_and_flows() {
    let t = full();
    let e = &t.expectations[0];
    assert_eq!(e.name, "named");
    assert_eq!(e.to, Destination::Host(t.host_by_id("fw").unwrap()));
    assert_eq!((e.proto, e.port), (Protocol::Tcp, Some(443)));
    assert_eq!((e.at, e.timeout), (Duration::from_millis(1500), Duration::from_millis(500)));
    assert_eq!(e.result, ExpectedResult::Dropped);
    assert_eq!(e.on, Some(Leg::Return));
    assert_eq!(e.via, ["igw-a"]);
    assert_eq!(e.drop_at.as_deref(), Some("acl-a"));

    let e = &t.expectations[1];
    assert_eq!(e.to, Destination::Name("s3.us-east-1.amazonaws.com".into()));
    assert_eq!(e.timeout, Duration::from_secs(1));
    assert_eq!(e.at, Duration::ZERO);
    assert_eq!(e.request.as_ref().map(|r| r.action.as_str()), Some("s3:GetObject"));
    assert_eq!(e.request.as_ref().and_then(|r| r.principal.clone()), None);
    assert_eq!(e.seen_source, Some(IpAddr::V4(Ipv4Addr::new(54, 0, 0, 5))));

    let e = &t.expectations[2];
    assert_eq!(e.to, Destination::Ip("2001:db8::7".parse().unwrap()));
    assert_eq!((e.proto, e.port), (Protocol::Icmpv6, None));

    let f = &t.flows[0];
    assert_eq!((f.proto, f.port, f.start, f.requests), (Protocol::Udp, Some(53), Duration::from_secs(120), 10));
}

#[test]
fn a_main_route_table_of_the_users_replaces_the_implicit_one() {
    let src = r#"name = "t"
[[vpc]]
id = "vpc-a"
cidr = "10.0.0.0/16"
[[route_table]]
id = "rtb-main"
vpc = "vpc-a"
main = true
[[subnet]]
id = "s"
vpc = "vpc-a"
cidr = "10.0.0.0/24"
"#;
    let t = load_str(src, "t.toml").unwrap();
    assert_eq!(t.route_tables.len(), 1);
    assert_eq!(t.route_table(t.vpcs[0].main_route_table).id, "rtb-main");
    assert_eq!(t.subnets[0].route_table, t.vpcs[0].main_route_table);
    assert_eq!(t.route_tables[0].routes.len(), 1, "the IPv4 local route only");
}

#[test]
fn bundled_scenarios_are_valid() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scenarios");
    let mut n = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "toml") {
            if let Err(e) = vpcsim_scenario::load_file(&path) {
                panic!("{e}");
            }
            n += 1;
        }
    }
    assert!(n >= 6, "found {n} scenarios in {}", dir.display());
}

#[test]
fn missing_file_is_a_diagnostic() {
    let err = vpcsim_scenario::load_file(std::path::Path::new("/nonexistent/x.toml")).unwrap_err();
    assert_eq!(err.errors.len(), 1);
    assert!(err.to_string().starts_with("/nonexistent/x.toml: error: cannot read the file:"), "{err}");
}
