//! Transit gateways, VPN gateways and on-premises networks, with real frames:
//! TGW route selection (longest prefix, static over propagated, blackholes),
//! associations and propagations, the AZ rule of attachment subnets,
//! appliance mode, on-premises both ways, what a VPN gateway refuses, and a
//! gateway endpoint tried from on premises.

use std::net::IpAddr;

use etherparse::PacketBuilder;
use vpcsim_dataplane::{DropReason, Step, Verdict};
use vpcsim_model::TgwRouteOrigin;

mod common;
use common::{Net, Sent};

const NET: &str = r#"
name = "transit fixture"

[[security_group]]
id = "sg-a"
vpc = "vpc-a"
ingress = [ { proto = "all", cidr = "0.0.0.0/0" } ]
[[security_group]]
id = "sg-b"
vpc = "vpc-b"
ingress = [ { proto = "all", cidr = "0.0.0.0/0" } ]
[[security_group]]
id = "sg-c"
vpc = "vpc-c"
ingress = [ { proto = "all", cidr = "0.0.0.0/0" } ]
[[security_group]]
id = "sg-insp"
vpc = "vpc-insp"
ingress = [ { proto = "all", cidr = "0.0.0.0/0" } ]
[[security_group]]
id = "sg-v"
vpc = "vpc-v"
ingress = [ { proto = "all", cidr = "0.0.0.0/0" } ]

# vpc-a: attached in us-east-1a only; a2 sits in us-east-1b.
[[vpc]]
id = "vpc-a"
cidr = "10.0.0.0/16"
[[subnet]]
id = "subnet-a-1a"
vpc = "vpc-a"
cidr = "10.0.1.0/24"
az = "us-east-1a"
[[subnet]]
id = "subnet-a-1b"
vpc = "vpc-a"
cidr = "10.0.2.0/24"
az = "us-east-1b"
[[route_table]]
id = "rtb-a"
vpc = "vpc-a"
main = true
routes = [ { dest = "10.0.0.0/8", target = "tgw-1" }, { dest = "192.168.0.0/16", target = "tgw-1" } ]
[[host]]
id = "a1"
subnet = "subnet-a-1a"
ip = "10.0.1.10"
security_groups = ["sg-a"]
[[host]]
id = "a2"
subnet = "subnet-a-1b"
ip = "10.0.2.10"
security_groups = ["sg-a"]

# vpc-b: us-east-1a.
[[vpc]]
id = "vpc-b"
cidr = "10.1.0.0/16"
[[subnet]]
id = "subnet-b"
vpc = "vpc-b"
cidr = "10.1.1.0/24"
az = "us-east-1a"
[[subnet]]
id = "subnet-b9"
vpc = "vpc-b"
cidr = "10.1.9.0/24"
az = "us-east-1a"
[[route_table]]
id = "rtb-b"
vpc = "vpc-b"
main = true
routes = [ { dest = "10.0.0.0/8", target = "tgw-1" } ]
[[host]]
id = "b1"
subnet = "subnet-b"
ip = "10.1.1.10"
security_groups = ["sg-b"]
[[host]]
id = "b9"
subnet = "subnet-b9"
ip = "10.1.9.10"
security_groups = ["sg-b"]

# vpc-c: us-east-1b.
[[vpc]]
id = "vpc-c"
cidr = "10.2.0.0/16"
[[subnet]]
id = "subnet-c"
vpc = "vpc-c"
cidr = "10.2.1.0/24"
az = "us-east-1b"
[[route_table]]
id = "rtb-c"
vpc = "vpc-c"
main = true
routes = [ { dest = "10.0.0.0/8", target = "tgw-1" } ]
[[host]]
id = "c1"
subnet = "subnet-c"
ip = "10.2.1.10"
security_groups = ["sg-c"]

# The inspection VPC: one appliance per AZ, each AZ's attachment subnet
# routes everything to its appliance.
[[vpc]]
id = "vpc-insp"
cidr = "10.9.0.0/16"
[[subnet]]
id = "subnet-insp-1a"
vpc = "vpc-insp"
cidr = "10.9.1.0/24"
az = "us-east-1a"
route_table = "rtb-insp-1a"
[[subnet]]
id = "subnet-insp-1b"
vpc = "vpc-insp"
cidr = "10.9.2.0/24"
az = "us-east-1b"
route_table = "rtb-insp-1b"
[[route_table]]
id = "rtb-insp-1a"
vpc = "vpc-insp"
routes = [ { dest = "0.0.0.0/0", target = "fw-a" } ]
[[route_table]]
id = "rtb-insp-1b"
vpc = "vpc-insp"
routes = [ { dest = "0.0.0.0/0", target = "fw-b" } ]
[[host]]
id = "fw-a"
subnet = "subnet-insp-1a"
ip = "10.9.1.10"
security_groups = ["sg-insp"]
source_dest_check = false
[[host]]
id = "fw-b"
subnet = "subnet-insp-1b"
ip = "10.9.2.10"
security_groups = ["sg-insp"]
source_dest_check = false

# The transit gateway.
[[transit_gateway]]
id = "tgw-1"
default_route_table = "tgw-rtb-default"
[[tgw_attachment]]
id = "att-a"
transit_gateway = "tgw-1"
vpc = "vpc-a"
subnets = ["subnet-a-1a"]
[[tgw_attachment]]
id = "att-b"
transit_gateway = "tgw-1"
vpc = "vpc-b"
subnets = ["subnet-b"]
[[tgw_attachment]]
id = "att-c"
transit_gateway = "tgw-1"
vpc = "vpc-c"
subnets = ["subnet-c"]
[[tgw_attachment]]
id = "att-insp"
transit_gateway = "tgw-1"
vpc = "vpc-insp"
subnets = ["subnet-insp-1a", "subnet-insp-1b"]
appliance_mode = true
[[tgw_attachment]]
id = "att-vpn"
transit_gateway = "tgw-1"
vpn = "vpn-dc1"

# vpc-a's table: b and the VPN propagate; a /24 blackhole inside b; a static
# blackhole for c's very prefix.
[[tgw_route_table]]
id = "tgw-rtb-a"
transit_gateway = "tgw-1"
associations = ["att-a"]
propagations = ["att-b", "att-c", "att-vpn"]
routes = [ { dest = "10.1.9.0/24", target = "blackhole" }, { dest = "10.2.0.0/16", target = "blackhole" } ]
# vpc-b's: a propagates; c through the inspection VPC.
[[tgw_route_table]]
id = "tgw-rtb-b"
transit_gateway = "tgw-1"
associations = ["att-b"]
propagations = ["att-a"]
routes = [ { dest = "10.2.0.0/16", attachment = "att-insp" } ]
# The VPN's: only vpc-a.
[[tgw_route_table]]
id = "tgw-rtb-vpn"
transit_gateway = "tgw-1"
associations = ["att-vpn"]
propagations = ["att-a"]
# The rest (att-c, att-insp) is associated here; att-insp propagates here.
[[tgw_route_table]]
id = "tgw-rtb-default"
transit_gateway = "tgw-1"
routes = [ { dest = "10.1.0.0/16", attachment = "att-insp" } ]

# dc1 behind the transit gateway.
[[onprem]]
id = "dc1"
cidr = "192.168.0.0/16"
[[vpn_connection]]
id = "vpn-dc1"
onprem = "dc1"
gateway = "tgw-1"
[[host]]
id = "laptop"
onprem = "dc1"
ip = "192.168.1.5"

# dc2 behind a VPN gateway of vpc-v, which has an S3 gateway endpoint.
[[vpc]]
id = "vpc-v"
cidr = "10.5.0.0/16"
[[subnet]]
id = "subnet-v"
vpc = "vpc-v"
cidr = "10.5.1.0/24"
[[route_table]]
id = "rtb-v"
vpc = "vpc-v"
main = true
routes = [ { dest = "172.20.0.0/16", target = "vgw-v" }, { dest = "172.16.0.0/12", target = "vgw-v" } ]
[[host]]
id = "v1"
subnet = "subnet-v"
ip = "10.5.1.10"
security_groups = ["sg-v"]
[[vpn_gateway]]
id = "vgw-v"
vpc = "vpc-v"
[[onprem]]
id = "dc2"
cidr = "172.20.0.0/16"
[[vpn_connection]]
id = "vpn-dc2"
onprem = "dc2"
gateway = "vgw-v"
type = "direct-connect"
[[host]]
id = "srv"
onprem = "dc2"
ip = "172.20.1.5"
[[gateway_endpoint]]
id = "vpce-s3"
vpc = "vpc-v"
service = "s3"
route_tables = ["rtb-v"]
"#;

impl Net {
    fn new() -> Net {
        Net::from(NET)
    }

    fn from(src: &str) -> Net {
        Net::load(src, "transit.toml")
    }

    fn ip(&self, host: &str) -> String {
        self.ipv4(host).to_string()
    }

    /// A TCP segment from `from` to address `to` (SYN, or SYN-ACK when `reply`).
    fn tcp(&self, from: &str, to: &str, sport: u16, dport: u16, reply: bool, payload: usize) -> Vec<u8> {
        let (s, IpAddr::V4(d)) = (self.ipv4(from), common::ip(to)) else { panic!("IPv4 only") };
        let b = PacketBuilder::ethernet2(self.mac(from), [0x02, 0x01, 0, 0, 0, 0]).ipv4(s.octets(), d.octets(), 64);
        let tcp = b.tcp(sport, dport, 1000, 64240).syn();
        let tcp = if reply { tcp.ack(1001) } else { tcp };
        let mut f = Vec::new();
        tcp.write(&mut f, &vec![0; payload]).unwrap();
        f
    }

    fn syn(&self, from: &str, to_host: &str) -> Vec<u8> {
        self.tcp(from, &self.ip(to_host), 40000, 443, false, 0)
    }
}

/// The TGW route-table lookups of a trace: (table id, winner's origin, beaten count).
fn tgw_lookups(net: &Net, sent: &Sent) -> Vec<(String, Option<TgwRouteOrigin>, usize)> {
    sent.trace
        .steps
        .iter()
        .filter_map(|s| match s {
            Step::TgwRouteLookup { table, winner, beaten, .. } => {
                let rt = net.t.tgw_route_table(*table);
                Some((rt.id.clone(), winner.map(|w| rt.routes[w].origin), beaten.len()))
            }
            _ => None,
        })
        .collect()
}

#[test]
fn a_propagated_route_carries_a_spoke_to_another_and_back() {
    let mut net = Net::new();
    let s = net.send("a1", &net.syn("a1", "b1"));
    s.delivered_to(&net, "b1");
    assert_eq!(s.crossed(&net), ["tgw-1", "att-b"]);
    assert_eq!(tgw_lookups(&net, &s), [("tgw-rtb-a".to_string(), Some(TgwRouteOrigin::Propagated), 0)]);
    let back = net.tcp("b1", "10.0.1.10", 443, 40000, true, 0);
    net.send("b1", &back).delivered_to(&net, "a1");
}

#[test]
fn the_longest_prefix_wins_and_a_blackhole_drops() {
    let mut net = Net::new();
    let s = net.send("a1", &net.syn("a1", "b9"));
    s.dropped(DropReason::Blackhole, "tgw-rtb-a", &net);
    // The /24 blackhole beat the propagated /16.
    assert_eq!(tgw_lookups(&net, &s), [("tgw-rtb-a".to_string(), Some(TgwRouteOrigin::Static), 1)]);
    assert!(s.text.contains("10.1.9.0/24 → blackhole (static)"), "{}", s.text);
}

#[test]
fn a_static_route_beats_a_propagated_one_for_the_same_prefix() {
    let mut net = Net::new();
    // tgw-rtb-a: 10.2.0.0/16 static blackhole, and vpc-c's propagated 10.2.0.0/16.
    let table = net.t.tgw_route_tables.iter().find(|r| r.id == "tgw-rtb-a").unwrap();
    let same: Vec<_> = table.routes.iter().filter(|r| r.dest.to_string() == "10.2.0.0/16").collect();
    assert_eq!(same.len(), 2);
    let s = net.send("a1", &net.syn("a1", "c1"));
    s.dropped(DropReason::Blackhole, "tgw-rtb-a", &net);
    assert_eq!(tgw_lookups(&net, &s), [("tgw-rtb-a".to_string(), Some(TgwRouteOrigin::Static), 1)]);
    assert!(s.text.contains("over 10.2.0.0/16 → att-c (propagated)"), "{}", s.text);
}

#[test]
fn associations_and_propagations_decide_who_reaches_whom() {
    let mut net = Net::new();
    // att-c has no association of its own: the default table, where only
    // att-insp propagates, and a static route sends vpc-b through inspection.
    let c = net.t.tgw_attachments.iter().find(|a| a.id == "att-c").unwrap();
    assert_eq!(net.t.tgw_route_table(c.route_table.unwrap()).id, "tgw-rtb-default");
    let s = net.send("c1", &net.syn("c1", "a1"));
    s.dropped(DropReason::NoRoute, "tgw-rtb-default", &net);
    // tgw-rtb-vpn knows vpc-a only.
    let s = net.send("laptop", &net.syn("laptop", "b1"));
    s.dropped(DropReason::NoRoute, "dc1", &net);
    // Through the default table, a TGW id answers for its tables.
    let s = net.send("c1", &net.syn("c1", "a1"));
    s.dropped(DropReason::NoRoute, "tgw-1", &net);
}

#[test]
fn a_subnet_in_an_az_without_an_attachment_subnet_cannot_send_to_the_tgw() {
    let mut net = Net::new();
    let s = net.send("a2", &net.syn("a2", "b1"));
    s.dropped(DropReason::NotReachableVia, "att-a", &net);
    assert!(s.text.contains("us-east-1b"), "{}", s.text);
    // But the transit gateway reaches every subnet of vpc-a.
    let s = net.send("b1", &net.syn("b1", "a2"));
    s.delivered_to(&net, "a2");
    assert!(s.text.contains("network ACL vpc-a/default-nacl of subnet-a-1b, ingress"), "{}", s.text);
}

#[test]
fn the_mtu_through_a_transit_gateway_is_8500() {
    let mut net = Net::new();
    let big = net.tcp("a1", "10.1.1.10", 40000, 443, false, 8600);
    let s = net.send("a1", &big);
    s.dropped(DropReason::MtuExceeded, "tgw-1", &net);
    assert!(matches!(s.verdict, Verdict::Bounce(..)));
    let fits = net.tcp("a1", "10.1.1.10", 40000, 443, false, 8400);
    // Reaches the TGW; the 1500-byte ENI of b1 refuses it next, not the TGW.
    let s = net.send("a1", &fits);
    assert!(s.crossed(&net).contains(&"att-b".to_string()), "{}", s.text);
}

fn appliance_of(net: &mut Net, from: &str, to: &str, sport: u16, dport: u16, reply: bool) -> String {
    let frame = net.tcp(from, to, sport, dport, reply, 0);
    let s = net.send(from, &frame);
    match s.verdict {
        Verdict::Deliver(e) => net.t.eni_owner_id(e).to_string(),
        v => panic!("not delivered: {v:?}\n{}", s.text),
    }
}

#[test]
fn appliance_mode_keeps_both_directions_of_a_flow_on_one_appliance() {
    let mut net = Net::new();
    let mut seen = std::collections::BTreeSet::new();
    for port in 40000..40032 {
        // b1 (us-east-1a) -> c1 (us-east-1b) and back, both through att-insp.
        let there = appliance_of(&mut net, "b1", "10.2.1.10", port, 443, false);
        let back = appliance_of(&mut net, "c1", "10.1.1.10", 443, port, true);
        assert_eq!(there, back, "flow from port {port}");
        seen.insert(there);
    }
    // The hash spreads flows over both AZs.
    assert_eq!(seen.len(), 2, "{seen:?}");
}

#[test]
fn without_appliance_mode_each_direction_stays_in_its_own_az() {
    let mut net = Net::from(&NET.replace("appliance_mode = true", "appliance_mode = false"));
    for port in 40000..40008 {
        assert_eq!(appliance_of(&mut net, "b1", "10.2.1.10", port, 443, false), "fw-a");
        assert_eq!(appliance_of(&mut net, "c1", "10.1.1.10", 443, port, true), "fw-b");
    }
}

#[test]
fn on_premises_both_ways_through_a_transit_gateway() {
    let mut net = Net::new();
    let s = net.send("laptop", &net.syn("laptop", "a1"));
    s.delivered_to(&net, "a1");
    assert_eq!(s.crossed(&net), ["vpn-dc1", "tgw-1", "att-a"]);
    assert_eq!(tgw_lookups(&net, &s)[0].0, "tgw-rtb-vpn");
    let back = net.tcp("a1", "192.168.1.5", 443, 40000, true, 0);
    let s = net.send("a1", &back);
    s.delivered_to(&net, "laptop");
    assert_eq!(s.crossed(&net), ["tgw-1", "vpn-dc1"]);
}

#[test]
fn on_premises_both_ways_through_a_vpn_gateway() {
    let mut net = Net::new();
    let s = net.send("srv", &net.syn("srv", "v1"));
    s.delivered_to(&net, "v1");
    assert_eq!(s.crossed(&net), ["vpn-dc2", "vgw-v"]);
    let back = net.tcp("v1", "172.20.1.5", 443, 40000, true, 0);
    let s = net.send("v1", &back);
    s.delivered_to(&net, "srv");
    assert_eq!(s.crossed(&net), ["vgw-v", "vpn-dc2"]);
    // Over the connection, 1500 bytes at most.
    let big = net.tcp("v1", "172.20.1.5", 443, 40000, true, 2000);
    net.send("v1", &big).dropped(DropReason::MtuExceeded, "vpn-dc2", &net);
}

#[test]
fn a_vpn_gateway_drops_what_is_not_on_premises() {
    let mut net = Net::new();
    let s = net.send("v1", &net.tcp("v1", "172.16.0.5", 40000, 22, false, 0));
    s.dropped(DropReason::NoRoute, "vgw-v", &net);
}

#[test]
fn an_on_premises_network_routes_only_what_its_connections_advertise() {
    let mut net = Net::new();
    let s = net.send("srv", &net.tcp("srv", "198.51.100.7", 40000, 443, false, 0));
    s.dropped(DropReason::NoRoute, "dc2", &net);
    // Inside its own CIDR the router delivers.
    let s = net.send("srv", &net.tcp("srv", "172.20.9.9", 40000, 443, false, 0));
    s.dropped(DropReason::NoDestination, "dc2", &net);
}

#[test]
fn a_gateway_endpoint_is_not_usable_from_on_premises() {
    let mut net = Net::new();
    let s3 = net.t.services.iter().find(|s| s.name == "s3" && s.region == "us-east-1").unwrap();
    let ip = s3.addresses[0].to_string();
    let s = net.send("srv", &net.tcp("srv", &ip, 40000, 443, false, 0));
    s.dropped(DropReason::NotReachableVia, "vpce-s3", &net);
    // From inside the VPC it works.
    let s = net.send("v1", &net.tcp("v1", &ip, 40000, 443, false, 0));
    assert!(matches!(s.verdict, Verdict::Deliver(_)), "{}", s.text);
}

#[test]
fn arbitrary_bytes_from_an_on_premises_host_never_panic() {
    let mut net = Net::new();
    let frame = net.syn("laptop", "a1");
    for cut in 0..frame.len() {
        let _ = net.send("laptop", &frame[..cut]);
    }
}
