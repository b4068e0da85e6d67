//! Beyond one VPC, with real frames: NAT gateways (translation both ways with
//! the checksums right, ports per destination, exhaustion, unsolicited
//! traffic), egress-only internet gateways, and VPC peering (both ways, never
//! transitive, never edge to edge).

use std::sync::Arc;
use std::time::Duration;

use vpcsim_dataplane::{Component, DropReason, Fabric, Trace, Verdict};

mod common;
use common::{Net, builder, ip};

const NET: &str = r#"
name = "beyond fixture"

# VPC A: a public subnet with the NAT gateway, a private one behind it, and a
# subnet that tries to use VPC B's gateways through the peering.
[[vpc]]
id = "vpc-a"
cidr = "10.0.0.0/16"

[[subnet]]
id = "subnet-a-pub"
vpc = "vpc-a"
cidr = "10.0.1.0/24"
route_table = "rtb-a-pub"

[[subnet]]
id = "subnet-a-priv"
vpc = "vpc-a"
cidr = "10.0.2.0/24"
route_table = "rtb-a-priv"

[[subnet]]
id = "subnet-a-edge"
vpc = "vpc-a"
cidr = "10.0.3.0/24"
route_table = "rtb-a-edge"

[[internet_gateway]]
id = "igw-a"
vpc = "vpc-a"

[[nat_gateway]]
id = "nat-a"
subnet = "subnet-a-pub"
ip = "10.0.1.50"
public_ip = "54.0.0.50"

[[route_table]]
id = "rtb-a-pub"
vpc = "vpc-a"
routes = [ { dest = "0.0.0.0/0", target = "igw-a" } ]

[[route_table]]
id = "rtb-a-priv"
vpc = "vpc-a"
routes = [
  { dest = "0.0.0.0/0", target = "nat-a" },
  { dest = "10.1.0.0/16", target = "pcx-ab" },
  { dest = "10.2.0.0/16", target = "pcx-ab" },
]

[[route_table]]
id = "rtb-a-edge"
vpc = "vpc-a"
routes = [ { dest = "0.0.0.0/0", target = "pcx-ab" } ]

[[security_group]]
id = "sg-app"
vpc = "vpc-a"
ingress = [ { proto = "tcp", ports = "22", cidr = "10.1.0.0/16" } ]

[[host]]
id = "app"
subnet = "subnet-a-priv"
ip = "10.0.2.10"
security_groups = ["sg-app"]

[[host]]
id = "edge"
subnet = "subnet-a-edge"
ip = "10.0.3.10"

# VPC B: peered with A and with C; its private subnet uses its own NAT gateway.
[[vpc]]
id = "vpc-b"
cidr = "10.1.0.0/16"

[[subnet]]
id = "subnet-b"
vpc = "vpc-b"
cidr = "10.1.1.0/24"
route_table = "rtb-b"

[[subnet]]
id = "subnet-b-pub"
vpc = "vpc-b"
cidr = "10.1.9.0/24"
route_table = "rtb-b-pub"

[[internet_gateway]]
id = "igw-b"
vpc = "vpc-b"

[[nat_gateway]]
id = "nat-b"
subnet = "subnet-b-pub"
public_ip = "54.0.1.50"

[[route_table]]
id = "rtb-b"
vpc = "vpc-b"
routes = [
  { dest = "10.0.0.0/16", target = "pcx-ab" },
  { dest = "10.2.0.0/16", target = "pcx-bc" },
  { dest = "0.0.0.0/0", target = "nat-b" },
]

[[route_table]]
id = "rtb-b-pub"
vpc = "vpc-b"
routes = [ { dest = "0.0.0.0/0", target = "igw-b" } ]

[[security_group]]
id = "sg-b"
vpc = "vpc-b"
ingress = [
  { proto = "tcp", ports = "22", sg = "sg-app" },
  { proto = "all", cidr = "10.2.0.0/16" },
]

[[host]]
id = "b1"
subnet = "subnet-b"
ip = "10.1.1.10"
security_groups = ["sg-b"]

# VPC C: peered with B only; IPv6 out through its egress-only internet gateway.
[[vpc]]
id = "vpc-c"
cidr = "10.2.0.0/16"
ipv6_cidr = "2600:1f18:cc:100::/56"

[[subnet]]
id = "subnet-c"
vpc = "vpc-c"
cidr = "10.2.1.0/24"
ipv6_cidr = "2600:1f18:cc:101::/64"
route_table = "rtb-c"

[[egress_only_internet_gateway]]
id = "eigw-c"
vpc = "vpc-c"

[[route_table]]
id = "rtb-c"
vpc = "vpc-c"
routes = [
  { dest = "10.1.0.0/16", target = "pcx-bc" },
  { dest = "::/0", target = "eigw-c" },
]

[[security_group]]
id = "sg-c"
vpc = "vpc-c"
ingress = [ { proto = "all", cidr = "0.0.0.0/0" }, { proto = "all", cidr = "::/0" } ]

[[host]]
id = "c1"
subnet = "subnet-c"
ip = "10.2.1.10"
ipv6 = "2600:1f18:cc:101::10"
security_groups = ["sg-c"]

[[vpc_peering]]
id = "pcx-ab"
requester = "vpc-a"
accepter = "vpc-b"

[[vpc_peering]]
id = "pcx-bc"
requester = "vpc-b"
accepter = "vpc-c"

[[host]]
id = "client"
internet = true
ip = "198.51.100.7"
ipv6 = "2001:db8::7"
"#;

impl Net {
    fn new() -> Net {
        Net::load(NET, "beyond.toml")
    }

    fn syn(&self, host: &str, src: &str, dst: &str, sport: u16, dport: u16) -> Vec<u8> {
        let mut f = Vec::new();
        builder(self.mac(host), src, dst, 64).tcp(sport, dport, 1000, 64240).syn().write(&mut f, b"").unwrap();
        f
    }

    fn syn_ack(&self, host: &str, src: &str, dst: &str, sport: u16, dport: u16) -> Vec<u8> {
        let mut f = Vec::new();
        builder(self.mac(host), src, dst, 64)
            .tcp(sport, dport, 5000, 64240)
            .syn()
            .ack(1001)
            .write(&mut f, b"")
            .unwrap();
        f
    }

    fn udp(&self, host: &str, src: &str, dst: &str, sport: u16, dport: u16) -> Vec<u8> {
        let mut f = Vec::new();
        builder(self.mac(host), src, dst, 64).udp(sport, dport).write(&mut f, b"hello").unwrap();
        f
    }

    fn ping(&self, host: &str, src: &str, dst: &str, id: u16, reply: bool) -> Vec<u8> {
        let mut f = Vec::new();
        let b = builder(self.mac(host), src, dst, 64);
        if reply {
            b.icmpv4_echo_reply(id, 1).write(&mut f, b"ping").unwrap();
        } else {
            b.icmpv4_echo_request(id, 1).write(&mut f, b"ping").unwrap();
        }
        f
    }
}

// --- NAT gateway ----------------------------------------------------------------

#[test]
fn nat_gateway_translates_out_and_back_with_checksums_right() {
    let mut net = Net::new();
    let out = net.send("app", &net.syn("app", "10.0.2.10", "198.51.100.7", 40000, 80));
    let m = out.delivered_intact_to(&net, "client");
    assert_eq!((m.src, m.src_port), (ip("54.0.0.50"), 1024), "trace:\n{}", out.text);
    assert_eq!((m.dst, m.dst_port), (ip("198.51.100.7"), 80));
    assert_eq!(out.crossed(&net), ["nat-a", "igw-a", "internet"]);
    assert!(out.text.contains("nat-a translates the source 10.0.2.10:40000 → 10.0.1.50:1024"), "{}", out.text);
    assert!(out.text.contains("igw-a translates the source 10.0.1.50 → 54.0.0.50"), "{}", out.text);
    // Into the NAT gateway's subnet and out of it: its NACL both ways.
    assert!(out.text.contains("network ACL vpc-a/default-nacl of subnet-a-pub, ingress"), "{}", out.text);
    assert!(out.text.contains("network ACL vpc-a/default-nacl of subnet-a-pub, egress"), "{}", out.text);

    let back = net.send("client", &net.syn_ack("client", "198.51.100.7", "54.0.0.50", 80, 1024));
    let m = back.delivered_intact_to(&net, "app");
    assert_eq!((m.dst, m.dst_port), (ip("10.0.2.10"), 40000), "trace:\n{}", back.text);
    assert_eq!((m.src, m.src_port), (ip("198.51.100.7"), 80));
    assert_eq!(back.crossed(&net), ["internet", "igw-a", "nat-a"]);
    assert!(back.text.contains("nat-a translates the destination 10.0.1.50:1024 → 10.0.2.10:40000"), "{}", back.text);
    assert!(back.text.contains("security groups of app (eni-app), ingress: allowed, part of a tracked connection"));
}

#[test]
fn nat_gateway_udp_and_icmp_echo_by_identifier() {
    let mut net = Net::new();
    let out = net.send("app", &net.udp("app", "10.0.2.10", "198.51.100.7", 5353, 53));
    let m = out.delivered_intact_to(&net, "client");
    assert_eq!((m.src, m.src_port), (ip("54.0.0.50"), 1024));
    let back = net.send("client", &net.udp("client", "198.51.100.7", "54.0.0.50", 53, 1024));
    assert_eq!(back.delivered_intact_to(&net, "app").dst_port, 5353);

    let ping = net.send("app", &net.ping("app", "10.0.2.10", "198.51.100.7", 7, false));
    let m = ping.delivered_intact_to(&net, "client");
    assert_eq!((m.src, m.src_port), (ip("54.0.0.50"), 1024), "the identifier is translated");
    assert!(ping.text.contains("nat-a translates the source 10.0.2.10 id 7 → 10.0.1.50 id 1024"), "{}", ping.text);
    let pong = net.send("client", &net.ping("client", "198.51.100.7", "54.0.0.50", 1024, true));
    let m = pong.delivered_intact_to(&net, "app");
    assert_eq!((m.dst, m.dst_port), (ip("10.0.2.10"), 7));
}

#[test]
fn nat_gateway_ports_per_destination() {
    let mut net = Net::new();
    let port = |net: &mut Net, sport: u16, dport: u16| {
        let s = net.send("app", &net.syn("app", "10.0.2.10", "198.51.100.7", sport, dport));
        s.delivered_intact_to(net, "client").src_port
    };
    assert_eq!(port(&mut net, 40000, 80), 1024);
    assert_eq!(port(&mut net, 40001, 80), 1025);
    assert_eq!(port(&mut net, 40000, 80), 1024, "the same connection keeps its port");
    assert_eq!(port(&mut net, 40000, 443), 1024, "another destination port is another destination");
    assert_eq!(net.fabric.nat_table().len(), 3);
}

#[test]
fn nat_gateway_exhaustion_is_a_clear_drop() {
    let mut net = Net::new();
    net.fabric = Fabric::new(Arc::clone(&net.t)).with_nat_limit(3);
    for sport in 40000..40003 {
        net.send("app", &net.syn("app", "10.0.2.10", "198.51.100.7", sport, 80)).delivered_intact_to(&net, "client");
    }
    let fourth = net.send("app", &net.syn("app", "10.0.2.10", "198.51.100.7", 40003, 80));
    fourth.dropped(DropReason::NatPortExhausted, "nat-a", &net);
    assert!(fourth.text.contains("DROPPED at nat-a: nat-port-exhausted (no port left"), "{}", fourth.text);
    // Another destination still gets ports; idle sessions free theirs after 350 s.
    net.send("app", &net.syn("app", "10.0.2.10", "198.51.100.7", 40003, 443)).delivered_intact_to(&net, "client");
    net.now = Duration::from_secs(351);
    net.send("app", &net.syn("app", "10.0.2.10", "198.51.100.7", 40003, 80)).delivered_intact_to(&net, "client");
}

#[test]
fn nat_gateway_holds_55000_connections_per_destination() {
    let mut net = Net::new();
    let mut out = Vec::new();
    let mut trace = Trace::off();
    let app = net.eni("app");
    for i in 0..55_000u32 {
        let sport = 1024 + (i % 60_000) as u16;
        let src = format!("10.0.2.{}", 10 + i / 60_000);
        let f = net.syn("app", &src, "198.51.100.7", sport, 443);
        let v = net.fabric.process(net.now, app, &f, &mut out, &mut trace);
        assert_eq!(v, Verdict::Deliver(net.eni("client")), "connection {i}");
    }
    let one_more = net.send("app", &net.syn("app", "10.0.2.10", "198.51.100.7", 64000, 443));
    one_more.dropped(DropReason::NatPortExhausted, "nat-a", &net);
    assert_eq!(net.fabric.counters().dropped(DropReason::NatPortExhausted), 1);
}

#[test]
fn unsolicited_inbound_and_traffic_to_the_nat_gateway_die_there() {
    let mut net = Net::new();
    let unsolicited = net.send("client", &net.syn("client", "198.51.100.7", "54.0.0.50", 50000, 22));
    unsolicited.dropped(DropReason::NoSession, "nat-a", &net);
    assert!(unsolicited.text.contains("igw-a translates the destination 54.0.0.50 → 10.0.1.50"));
    // A reply to a port that has no session.
    net.send("app", &net.syn("app", "10.0.2.10", "198.51.100.7", 40000, 80)).delivered_intact_to(&net, "client");
    net.send("client", &net.syn_ack("client", "198.51.100.7", "54.0.0.50", 80, 1025)).dropped(
        DropReason::NoSession,
        "nat-a",
        &net,
    );
    // From inside, to the NAT gateway's own address.
    let direct = net.send("app", &net.syn("app", "10.0.2.10", "10.0.1.50", 40000, 80));
    direct.dropped(DropReason::NoSession, "nat-a", &net);
    // After 350 s idle the session is gone.
    net.now = Duration::from_secs(351);
    net.send("client", &net.syn_ack("client", "198.51.100.7", "54.0.0.50", 80, 1024)).dropped(
        DropReason::NoSession,
        "nat-a",
        &net,
    );
}

#[test]
fn a_peer_vpc_cannot_use_the_nat_gateway() {
    // VPC B's private subnet uses its own NAT gateway; VPC A's edge subnet
    // routes everything to the peering: edge to edge, not allowed.
    let mut net = Net::new();
    let own = net.send("b1", &net.syn("b1", "10.1.1.10", "198.51.100.7", 40000, 80));
    assert_eq!(own.delivered_intact_to(&net, "client").src, ip("54.0.1.50"), "nat-b's automatic address: {}", own.text);
    let edge = net.send("edge", &net.syn("edge", "10.0.3.10", "198.51.100.7", 40000, 80));
    edge.dropped(DropReason::NotReachableVia, "pcx-ab", &net);
    assert!(edge.text.contains("no edge-to-edge"), "{}", edge.text);
}

// --- Egress-only internet gateway ------------------------------------------------------

#[test]
fn egress_only_gateway_out_and_back() {
    let mut net = Net::new();
    let out = net.send("c1", &net.syn("c1", "2600:1f18:cc:101::10", "2001:db8::7", 40000, 80));
    let m = out.delivered_intact_to(&net, "client");
    assert_eq!(m.src, ip("2600:1f18:cc:101::10"), "IPv6 is not translated");
    assert_eq!(out.crossed(&net), ["eigw-c", "internet"]);
    let back = net.send("client", &net.syn_ack("client", "2001:db8::7", "2600:1f18:cc:101::10", 80, 40000));
    back.delivered_intact_to(&net, "c1");
    assert!(back.text.contains("eigw-c matches a connection it opened on the way out"), "{}", back.text);
}

#[test]
fn egress_only_gateway_drops_unsolicited_inbound() {
    let mut net = Net::new();
    let syn = net.send("client", &net.syn("client", "2001:db8::7", "2600:1f18:cc:101::10", 40000, 22));
    syn.dropped(DropReason::NoSession, "eigw-c", &net);
    // A reply to a flow that went out, but from another port, is unsolicited too.
    net.send("c1", &net.syn("c1", "2600:1f18:cc:101::10", "2001:db8::7", 40000, 80))
        .delivered_intact_to(&net, "client");
    net.send("client", &net.syn_ack("client", "2001:db8::7", "2600:1f18:cc:101::10", 81, 40000)).dropped(
        DropReason::NoSession,
        "eigw-c",
        &net,
    );
}

// --- VPC peering ---------------------------------------------------------------------

#[test]
fn peering_both_ways_with_a_peer_security_group_reference() {
    let mut net = Net::new();
    let out = net.send("app", &net.syn("app", "10.0.2.10", "10.1.1.10", 40000, 22));
    let m = out.delivered_intact_to(&net, "b1");
    assert_eq!(m.src, ip("10.0.2.10"), "no translation across a peering");
    assert_eq!(out.crossed(&net), ["pcx-ab"]);
    assert!(out.text.contains("crosses pcx-ab (peering vpc-a ⇄ vpc-b)"), "{}", out.text);
    assert!(out.text.contains("allows tcp port 22 from members of sg-app"), "{}", out.text);
    let back = net.send("b1", &net.syn_ack("b1", "10.1.1.10", "10.0.2.10", 22, 40000));
    back.delivered_intact_to(&net, "app");
    assert_eq!(back.crossed(&net), ["pcx-ab"]);
    // B to A, new connection: sg-app admits 10.1.0.0/16 on port 22.
    net.send("b1", &net.syn("b1", "10.1.1.10", "10.0.2.10", 40001, 22)).delivered_intact_to(&net, "app");
    // But not on port 80.
    net.send("b1", &net.syn("b1", "10.1.1.10", "10.0.2.10", 40001, 80)).dropped(DropReason::SgIngress, "sg-app", &net);
}

#[test]
fn peering_is_not_transitive() {
    let mut net = Net::new();
    // B reaches C over pcx-bc...
    net.send("b1", &net.syn("b1", "10.1.1.10", "10.2.1.10", 40000, 22)).delivered_intact_to(&net, "c1");
    // ...but A cannot reach C through B.
    let hop = net.send("app", &net.syn("app", "10.0.2.10", "10.2.1.10", 40000, 22));
    hop.dropped(DropReason::NotReachableVia, "pcx-ab", &net);
    assert!(hop.text.contains("10.2.1.10 is not an address of vpc-b"), "{}", hop.text);
}

#[test]
fn edge_to_edge_through_the_peer_internet_gateway_is_dropped() {
    let mut net = Net::new();
    let edge = net.send("edge", &net.ping("edge", "10.0.3.10", "198.51.100.7", 9, false));
    edge.dropped(DropReason::NotReachableVia, "pcx-ab", &net);
    assert_eq!(edge.crossed(&net), ["pcx-ab"]);
}

#[test]
fn garbage_at_a_nat_gateway_does_not_panic() {
    let mut net = Net::new();
    let good = net.syn("app", "10.0.2.10", "198.51.100.7", 40000, 80);
    for cut in 0..good.len() {
        let _ = net.send("app", &good[..cut]);
    }
    let reply = net.syn_ack("client", "198.51.100.7", "54.0.0.50", 80, 1024);
    for cut in 0..reply.len() {
        let _ = net.send("client", &reply[..cut]);
    }
    // The NAT gateway's ENI never sends; a frame claiming to come from it is judged like any other.
    let nat_eni = net.t.nat_gateways[0].eni;
    let mut out = Vec::new();
    let v = net.fabric.process(net.now, nat_eni, &good, &mut out, &mut Trace::off());
    assert!(v.dropped().is_some());
    assert!(matches!(Component::NatGateway(vpcsim_model::NatGatewayIdx(0)).id(&net.t), "nat-a"));
}

#[test]
fn a_private_nat_gateway_has_nothing_for_the_internet_gateway_to_translate() {
    let src =
        NET.replace("ip = \"10.0.1.50\"\npublic_ip = \"54.0.0.50\"", "ip = \"10.0.1.50\"\nconnectivity = \"private\"");
    let mut net = Net::load(&src, "private.toml");
    let out = net.send("app", &net.syn("app", "10.0.2.10", "198.51.100.7", 40000, 80));
    out.dropped(DropReason::NoPublicIp, "igw-a", &net);
    assert_eq!(out.crossed(&net), ["nat-a", "igw-a"]);
}

#[test]
fn the_nat_subnet_nacl_judges_the_replies() {
    // The public subnet's NACL lets in what comes from the VPC, not the replies
    // from the internet on the NAT gateway's ports.
    let src = NET.replace(
        "route_table = \"rtb-a-pub\"\n",
        "route_table = \"rtb-a-pub\"\nnacl = \"acl-pub\"\n\n[[nacl]]\nid = \"acl-pub\"\nvpc = \"vpc-a\"\ningress = [ { rule = 100, action = \"allow\", proto = \"all\", cidr = \"10.0.0.0/16\" } ]\negress = [ { rule = 100, action = \"allow\", proto = \"all\", cidr = \"0.0.0.0/0\" } ]\n",
    );
    let mut net = Net::load(&src, "nacl.toml");
    net.send("app", &net.syn("app", "10.0.2.10", "198.51.100.7", 40000, 80)).delivered_intact_to(&net, "client");
    let back = net.send("client", &net.syn_ack("client", "198.51.100.7", "54.0.0.50", 80, 1024));
    back.dropped(DropReason::NaclIngress, "acl-pub", &net);
    assert!(back.text.contains("network ACL acl-pub of subnet-a-pub, ingress: no rule matches, rule * denies"));
}

#[test]
fn a_nat_gateway_routed_to_itself_does_not_loop() {
    let src = NET.replace(
        "id = \"rtb-a-pub\"\nvpc = \"vpc-a\"\nroutes = [ { dest = \"0.0.0.0/0\", target = \"igw-a\" } ]",
        "id = \"rtb-a-pub\"\nvpc = \"vpc-a\"\nroutes = [ { dest = \"0.0.0.0/0\", target = \"nat-a\" } ]",
    );
    assert_ne!(src, NET);
    let mut net = Net::load(&src, "loop.toml");
    let out = net.send("app", &net.syn("app", "10.0.2.10", "198.51.100.7", 40000, 80));
    out.dropped(DropReason::NotReachableVia, "nat-a", &net);
    assert!(out.text.contains("translated by a NAT gateway already"), "{}", out.text);
}
