//! The engine end to end: real stacks, the real data plane, simulated time.

use std::path::Path;
use std::sync::Arc;

use etherparse::{SlicedPacket, TransportSlice};
use vpcsim_engine::{Segment, SimConfig, check, pcap, run};
use vpcsim_model::{ExpectedResult, Leg, Topology};

fn load(path: &str) -> Arc<Topology> {
    let full = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").join(path);
    Arc::new(vpcsim_scenario::load_file(&full).unwrap_or_else(|e| panic!("{e}")))
}

fn load_str(src: &str) -> Arc<Topology> {
    Arc::new(vpcsim_scenario::load_str(src, "test.toml").unwrap_or_else(|e| panic!("{e}")))
}

#[test]
fn every_bundled_scenario_passes_its_expectations() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scenarios");
    let mut files: Vec<_> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()).collect();
    files.sort();
    let mut checked = 0;
    let mut failures = Vec::new();
    for f in files.iter().filter(|f| f.extension().is_some_and(|e| e == "toml")) {
        let t = Arc::new(vpcsim_scenario::load_file(f).unwrap_or_else(|e| panic!("{e}")));
        for r in check(&t, SimConfig::default()) {
            checked += 1;
            if !r.passed() {
                failures.push(format!(
                    "{}: {}\n  {}\n{}",
                    f.display(),
                    r.name,
                    r.mismatches.join("\n  "),
                    r.outcome.render()
                ));
            }
        }
    }
    assert!(checked >= 10, "only {checked} expectations found");
    assert!(failures.is_empty(), "{} failed:\n{}", failures.len(), failures.join("\n"));
}

const TWO_SUBNETS: &str = r#"
name = "two subnets"
seed = 7
[[vpc]]
id = "vpc-a"
cidr = "10.0.0.0/16"
[[subnet]]
id = "subnet-1"
vpc = "vpc-a"
cidr = "10.0.1.0/24"
[[subnet]]
id = "subnet-2"
vpc = "vpc-a"
cidr = "10.0.2.0/24"
nacl = "acl-2"
[[nacl]]
id = "acl-2"
vpc = "vpc-a"
ingress = [ { rule = 100, action = "allow", proto = "all", cidr = "0.0.0.0/0" } ]
egress = [ { rule = 100, action = "allow", proto = "tcp", ports = "443", cidr = "0.0.0.0/0" } ]
[[security_group]]
id = "sg-web"
vpc = "vpc-a"
ingress = [ { proto = "tcp", ports = "443", cidr = "10.0.0.0/16" }, { proto = "tcp", ports = "80", cidr = "10.0.0.0/16" } ]
[[host]]
id = "client"
subnet = "subnet-1"
ip = "10.0.1.10"
[[host]]
id = "web"
subnet = "subnet-2"
ip = "10.0.2.20"
security_groups = ["sg-web"]
listen = ["tcp/443"]
[[flow]]
from = "client"
to = "web"
proto = "tcp"
port = 443
requests = 3
[[expect]]
name = "wrong on purpose: the NACL kills the SYN-ACK"
from = "client"
to = "web"
proto = "tcp"
port = 443
result = "connected"
[[expect]]
name = "right: dropped on the return leg at acl-2"
from = "client"
to = "web"
proto = "tcp"
port = 443
result = "dropped"
drop_reason = "nacl-egress"
drop_at = "acl-2"
on = "return"
[[expect]]
name = "wrong on purpose: port 80 has no listener, but the reset dies too"
from = "client"
to = "web"
proto = "tcp"
port = 80
result = "refused"
"#;

#[test]
fn check_reports_what_differs_and_where_it_died() {
    let t = load_str(TWO_SUBNETS);
    let reports = check(&t, SimConfig::default());
    assert_eq!(reports.len(), 3);
    assert!(!reports[0].passed());
    assert!(
        reports[0].mismatches[0]
            .starts_with("result: expected connected, got dropped (nacl-egress at acl-2, return leg)"),
        "{:?}",
        reports[0].mismatches
    );
    assert!(reports[1].passed(), "{:?}\n{}", reports[1].mismatches, reports[1].outcome.render());
    let drop = reports[1].outcome.drop.as_ref().unwrap();
    assert_eq!(drop.leg, Leg::Return);
    assert!(!reports[2].passed());
    assert_eq!(reports[2].outcome.result, ExpectedResult::Dropped);
}

fn run_pcaps(t: &Arc<Topology>) -> Vec<(Segment, Vec<u8>)> {
    let report = run(t, SimConfig { capture: true, ..SimConfig::default() }, |_, _| {});
    report.sim.captures().iter().map(|(s, c)| (*s, c.bytes().to_vec())).collect()
}

const OPEN: &str = r#"
name = "open"
seed = 11
[[vpc]]
id = "vpc-a"
cidr = "10.0.0.0/16"
[[subnet]]
id = "subnet-1"
vpc = "vpc-a"
cidr = "10.0.1.0/24"
[[subnet]]
id = "subnet-2"
vpc = "vpc-a"
cidr = "10.0.2.0/24"
[[security_group]]
id = "sg-web"
vpc = "vpc-a"
ingress = [ { proto = "tcp", ports = "443", cidr = "10.0.0.0/16" } ]
[[host]]
id = "client"
subnet = "subnet-1"
[[host]]
id = "web"
subnet = "subnet-2"
security_groups = ["sg-web"]
listen = ["tcp/443"]
[[flow]]
from = "client"
to = "web"
proto = "tcp"
port = 443
requests = 3
"#;

#[test]
fn the_same_seed_gives_byte_identical_pcaps() {
    let t = load_str(OPEN);
    let first = run_pcaps(&t);
    let second = run_pcaps(&t);
    assert!(!first.is_empty());
    assert_eq!(first, second);
}

#[test]
fn a_written_pcap_holds_the_tcp_handshake() {
    let t = load_str(OPEN);
    let report = run(&t, SimConfig { capture: true, ..SimConfig::default() }, |_, _| {});
    assert_eq!(report.flows[0].succeeded, 3, "{:?}", report.flows[0]);
    let subnet2 = report
        .sim
        .captures()
        .iter()
        .find(|(s, _)| matches!(s, Segment::Subnet(i) if t.subnet(*i).id == "subnet-2"))
        .unwrap()
        .1;
    let frames = pcap::read(subnet2.bytes()).expect("a pcap");
    let flags: Vec<(bool, bool)> = frames
        .iter()
        .filter_map(|(_, f)| match SlicedPacket::from_ethernet(f).ok()?.transport? {
            TransportSlice::Tcp(tcp) => Some((tcp.syn(), tcp.ack())),
            _ => None,
        })
        .collect();
    let syn = flags.iter().position(|&f| f == (true, false)).expect("a SYN");
    let syn_ack = flags.iter().position(|&f| f == (true, true)).expect("a SYN-ACK");
    let ack = flags.iter().skip(syn_ack).position(|&f| f == (false, true)).expect("an ACK after it");
    assert!(syn < syn_ack && ack > 0);
    // Timestamps are simulated time and never go backwards.
    assert!(frames.windows(2).all(|w| w[0].0 <= w[1].0));
}

#[test]
fn run_counts_drops_by_reason_per_flow() {
    let t = load_str(TWO_SUBNETS);
    let report = run(&t, SimConfig::default(), |_, _| {});
    let f = &report.flows[0];
    assert_eq!(f.succeeded, 0);
    assert_eq!(f.failed, 3);
    assert!(f.drops.get("nacl-egress").copied().unwrap_or(0) >= 3, "{:?}", f.drops);
    assert!(report.components["acl-2"].dropped >= 3);
}

#[test]
fn the_bundled_public_private_scenario_loads() {
    // Sanity of the path helper used by the CLI tests.
    let t = load("scenarios/public-private.toml");
    assert!(!t.expectations.is_empty());
}

#[test]
fn hop_latency_is_configurable_and_time_is_simulated() {
    let t = load_str(&OPEN.replace("seed = 11", "seed = 11\nhop_latency = \"1ms\""));
    let spec = vpcsim_engine::ProbeSpec {
        from: t.host_by_id("client").unwrap(),
        to: vpcsim_model::Destination::Host(t.host_by_id("web").unwrap()),
        proto: vpcsim_model::Protocol::Tcp,
        port: Some(443),
        at: std::time::Duration::from_secs(2),
        timeout: std::time::Duration::from_secs(1),
        size: None,
        request: None,
    };
    let o = vpcsim_engine::run_probe(std::sync::Arc::clone(&t), &spec, SimConfig::default());
    assert_eq!(o.result, ExpectedResult::Connected);
    // SYN at `at` (plus address resolution), SYN-ACK one hop later, ACK one more.
    let times: Vec<_> = o.records.iter().map(|r| r.time).collect();
    assert!(times[0] >= spec.at, "{times:?}");
    assert_eq!(times[1] - times[0], std::time::Duration::from_millis(1), "{times:?}");
    assert_eq!(times[2] - times[1], std::time::Duration::from_millis(1), "{times:?}");
}

#[test]
fn the_same_scenario_gives_the_same_story_twice() {
    let t = load("scenarios/nacl-ephemeral.toml");
    let render = || check(&t, SimConfig::default()).iter().map(|r| r.outcome.render()).collect::<Vec<_>>().join("\n");
    let first = render();
    assert_eq!(first, render());
    assert!(first.contains("nacl-egress"));
}

/// A host whose source/destination check is off forwards what is not its
/// own: the route to its ENI carries both directions through it, its
/// security group judges them, and the trace says it forwards. With the
/// check on, AWS drops at its ENI.
#[test]
fn a_middlebox_forwards_both_directions() {
    let path = "scenarios/middlebox.toml";
    let t = load(path);
    let results = check(&t, SimConfig::default());
    assert_eq!(results.len(), 2);
    for r in &results {
        assert!(r.passed(), "{}: {:?}\n{}", r.name, r.mismatches, r.outcome.render());
    }
    let o = &results[0].outcome;
    let firewall = t.host(t.host_by_id("firewall").unwrap()).eni;
    let db = t.host(t.host_by_id("db").unwrap()).eni;
    // db gets the SYN from the firewall, which forwards on both legs.
    assert!(o.records.iter().any(|r| r.from == firewall && r.verdict == vpcsim_dataplane::Verdict::Deliver(db)));
    let rendered = o.render();
    assert!(rendered.contains("firewall (eni-firewall) forwards tcp 10.0.2.20:5432 → 10.0.1.10"), "{rendered}");
    assert!(rendered.contains("→ forward\n      firewall (eni-firewall) forwards tcp 10.0.1.10"), "{rendered}");

    let text = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").join(path)).unwrap();
    let t = load_str(&text.replace("source_dest_check = false", "source_dest_check = true"));
    let r = &check(&t, SimConfig::default())[0];
    assert_eq!(r.outcome.result, ExpectedResult::Dropped);
    let d = r.outcome.drop.as_ref().expect("a drop");
    assert_eq!(d.reason.as_str(), "source-dest-check", "{}", r.outcome.render());
    assert_eq!(d.leg, Leg::Forward);
}

/// A routing loop through a transit gateway ends as AWS ends it: every lap
/// decrements the TTL, and the packet dies `ttl-exceeded`, not `no-route`.
#[test]
fn a_routing_loop_through_a_transit_gateway_ends_in_ttl_exceeded() {
    let t = load_str(
        r#"name = "loop"
[[vpc]]
id = "vpc-a"
cidr = "10.0.0.0/16"
[[subnet]]
id = "subnet-a"
vpc = "vpc-a"
cidr = "10.0.1.0/24"
az = "us-east-1a"
[[route_table]]
id = "rtb-a"
vpc = "vpc-a"
main = true
routes = [ { dest = "10.0.0.0/8", target = "tgw" } ]
[[transit_gateway]]
id = "tgw"
[[tgw_attachment]]
id = "tgw-attach-a"
transit_gateway = "tgw"
vpc = "vpc-a"
subnets = ["subnet-a"]
[[tgw_route_table]]
id = "tgw-rtb"
transit_gateway = "tgw"
associations = ["tgw-attach-a"]
routes = [ { dest = "10.9.0.0/16", attachment = "tgw-attach-a" } ]
[[host]]
id = "a1"
subnet = "subnet-a"
ip = "10.0.1.10"
[[expect]]
from = "a1"
to = "10.9.0.5"
proto = "tcp"
port = 80
result = "dropped"
drop_reason = "ttl-exceeded"
drop_at = "tgw"
"#,
    );
    let r = &check(&t, SimConfig::default())[0];
    assert!(r.passed(), "{:?}\n{}", r.mismatches, r.outcome.render());
    // The SYN went round until its TTL ran out, far beyond the old bound of
    // eight route lookups per packet.
    let laps = r.outcome.records[0]
        .steps
        .iter()
        .filter(|s| matches!(s, vpcsim_dataplane::Step::TgwRouteLookup { .. }))
        .count();
    assert!(laps > 8, "{laps} laps\n{}", r.outcome.render());
}

/// An address of the sender's own subnet that nobody owns: no ENI answers
/// its address resolution, so nothing is sent, and the probe says so
/// (`no-destination`) rather than ending without a reason.
#[test]
fn an_unowned_address_in_ones_own_subnet_is_no_destination() {
    let t = load_str(
        r#"name = "arp"
[[vpc]]
id = "vpc-a"
cidr = "10.0.0.0/16"
[[subnet]]
id = "subnet-a"
vpc = "vpc-a"
cidr = "10.0.1.0/24"
[[host]]
id = "a1"
subnet = "subnet-a"
ip = "10.0.1.10"
[[expect]]
from = "a1"
to = "10.0.1.99"
proto = "tcp"
port = 80
result = "dropped"
drop_reason = "no-destination"
drop_at = "vpc-a"
"#,
    );
    let r = &check(&t, SimConfig::default())[0];
    assert!(r.passed(), "{:?}\n{}", r.mismatches, r.outcome.render());
    assert!(r.outcome.render().contains("nobody answers its address resolution (ARP)"), "{}", r.outcome.render());
}

/// Two middleboxes whose route tables point at each other: each forward is a
/// router hop, so the packet dies `ttl-exceeded` at one of their ENIs.
#[test]
fn a_loop_between_middleboxes_ends_in_ttl_exceeded() {
    let mut src = String::from("name = \"loop\"\n[[vpc]]\nid = \"vpc-a\"\ncidr = \"10.0.0.0/16\"\n");
    for (x, rt) in [(1, "10.0.3.0/24 = fw1"), (4, "10.0.3.0/24 = fw2"), (5, "10.0.3.0/24 = fw1"), (3, "")] {
        src +=
            &format!("[[subnet]]\nid = \"s{x}\"\nvpc = \"vpc-a\"\ncidr = \"10.0.{x}.0/24\"\nroute_table = \"rt{x}\"\n");
        let routes = match rt.split_once(" = ") {
            Some((dest, target)) => format!("{{ dest = \"{dest}\", target = \"{target}\" }}"),
            None => String::new(),
        };
        src += &format!("[[route_table]]\nid = \"rt{x}\"\nvpc = \"vpc-a\"\nroutes = [ {routes} ]\n");
    }
    src += "[[security_group]]\nid = \"sg-open\"\nvpc = \"vpc-a\"\ningress = [ { proto = \"all\", cidr = \"0.0.0.0/0\" } ]\n";
    for (id, x, fw) in [("a1", 1, false), ("fw1", 4, true), ("fw2", 5, true), ("c1", 3, false)] {
        src += &format!(
            "[[host]]\nid = \"{id}\"\nsubnet = \"s{x}\"\nip = \"10.0.{x}.10\"\nsecurity_groups = [\"sg-open\"]\nsource_dest_check = {}\n",
            !fw
        );
    }
    src += "[[expect]]\nfrom = \"a1\"\nto = \"c1\"\nproto = \"tcp\"\nport = 80\nresult = \"dropped\"\ndrop_reason = \"ttl-exceeded\"\non = \"forward\"\n";
    let t = load_str(&src);
    let r = &check(&t, SimConfig::default())[0];
    assert!(r.passed(), "{:?}\n{}", r.mismatches, r.outcome.render());
    let at = r.outcome.drop.as_ref().and_then(|d| d.at).map(|c| c.id(&t).to_string());
    assert!(matches!(at.as_deref(), Some("eni-fw1" | "eni-fw2")), "{at:?}");
}

/// A firewall instance between the app subnet and the internet gateway,
/// both ways: the client sees the app's public IP, the app the client's
/// address, and every frame the firewall forwards is on its packet's leg.
#[test]
fn a_firewall_instance_at_the_edge_changes_nothing_the_ends_see() {
    let t = load("scenarios/firewall-instance-at-the-edge.toml");
    let results = check(&t, SimConfig::default());
    for r in &results {
        assert!(r.passed(), "{}: {:?}\n{}", r.name, r.mismatches, r.outcome.render());
    }
    let o = &results[0].outcome;
    assert_eq!(o.seen_source, Some("54.0.1.10".parse().unwrap()), "{}", o.render());
    // AWS: through an internet gateway, the gateway route table's target
    // network interface must have a public IP.
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scenarios/firewall-instance-at-the-edge.toml");
    let text = std::fs::read_to_string(path).unwrap().replace("public_ip = \"54.0.9.10\"\n", "");
    let t2 = load_str(&text);
    let inbound = check(&t2, SimConfig::default()).into_iter().find(|r| r.name.starts_with("inbound through")).unwrap();
    let d = inbound.outcome.drop.as_ref().expect("a drop");
    assert_eq!((d.reason.as_str(), d.at.map(|c| c.id(&t2).to_string())), ("no-public-ip", Some("eni-fw".into())));

    let fw = t.host(t.host_by_id("fw").unwrap()).eni;
    let source = t.host(o.spec.from).eni;
    let legs = vpcsim_engine::legs(&t, &o.records, source);
    for (r, leg) in o.records.iter().zip(legs) {
        if r.from == fw {
            let outbound = r.packet.is_some_and(|m| m.src == "10.0.1.10".parse::<std::net::IpAddr>().unwrap());
            assert_eq!(leg == Leg::Forward, outbound, "{}", o.render());
        }
    }
}

/// A VPN gateway picks the connection by the longest prefix first: a VPN to a
/// /24 beats Direct Connect to a /16 around it; Direct Connect wins only for
/// the same prefix.
#[test]
fn a_vpn_gateway_takes_the_longest_prefix_before_direct_connect() {
    let t = load_str(
        r#"name = "a VPN gateway: the longest prefix first, then Direct Connect"
[[vpc]]
id = "vpc-a"
cidr = "10.0.0.0/16"
[[subnet]]
id = "subnet-a"
vpc = "vpc-a"
cidr = "10.0.1.0/24"
[[route_table]]
id = "rtb-a"
vpc = "vpc-a"
main = true
routes = [ { dest = "192.168.0.0/16", target = "vgw-a" } ]
[[vpn_gateway]]
id = "vgw-a"
vpc = "vpc-a"
[[onprem]]
id = "dc-small"
cidr = "192.168.1.0/24"
[[onprem]]
id = "dc-big"
cidr = "192.168.0.0/16"
[[vpn_connection]]
id = "vpn-small"
onprem = "dc-small"
gateway = "vgw-a"
type = "vpn"
[[vpn_connection]]
id = "dx-big"
onprem = "dc-big"
gateway = "vgw-a"
type = "direct-connect"
[[security_group]]
id = "sg-a"
vpc = "vpc-a"
ingress = [ { proto = "tcp", ports = "22", cidr = "192.168.0.0/16" } ]
[[host]]
id = "app-a"
subnet = "subnet-a"
ip = "10.0.1.10"
security_groups = ["sg-a"]
listen = ["tcp/22"]
[[host]]
id = "small1"
onprem = "dc-small"
ip = "192.168.1.5"
listen = ["tcp/22"]
[[host]]
id = "big1"
onprem = "dc-big"
ip = "192.168.1.5"
listen = ["tcp/23"]
[[host]]
id = "big2"
onprem = "dc-big"
ip = "192.168.2.5"
listen = ["tcp/22"]
[[expect]]
name = "192.168.1.5: the VPN's /24 beats DX's /16 (longest prefix first)"
from = "app-a"
to = "192.168.1.5"
proto = "tcp"
port = 22
result = "connected"
via = ["vgw-a", "vpn-small"]
[[expect]]
name = "192.168.2.5: only DX"
from = "app-a"
to = "192.168.2.5"
proto = "tcp"
port = 22
result = "connected"
via = ["vgw-a", "dx-big"]
"#,
    );
    for r in check(&t, SimConfig::default()) {
        assert!(r.passed(), "{}: {:?}\n{}", r.name, r.mismatches, r.outcome.render());
    }
}

/// The IPv6 twin of an unowned address in one's own subnet: nobody answers
/// the neighbour solicitation, and the probe says `no-destination`.
#[test]
fn an_unowned_ipv6_address_in_ones_own_subnet_is_no_destination() {
    let t = load_str(
        r#"name = "ndp"
[[vpc]]
id = "vpc-a"
cidr = "10.0.0.0/16"
ipv6_cidr = "2600:1f18:aa:100::/56"
[[subnet]]
id = "subnet-a"
vpc = "vpc-a"
cidr = "10.0.1.0/24"
ipv6_cidr = "2600:1f18:aa:101::/64"
[[host]]
id = "a1"
subnet = "subnet-a"
ip = "10.0.1.10"
ipv6 = "2600:1f18:aa:101::10"
[[expect]]
from = "a1"
to = "2600:1f18:aa:101::99"
proto = "tcp"
port = 80
result = "dropped"
drop_reason = "no-destination"
drop_at = "vpc-a"
"#,
    );
    let r = &check(&t, SimConfig::default())[0];
    assert!(r.passed(), "{:?}\n{}", r.mismatches, r.outcome.render());
}
