//! The data plane, proven with real frames: each test builds frames with
//! etherparse, hands them to the one pipeline, and asserts the verdict, the
//! rewritten bytes and the decision trace.

use std::net::IpAddr;
use std::time::Duration;

use etherparse::{NetSlice, PacketBuilder, SlicedPacket, TransportSlice};
use vpcsim_dataplane::packet::{Parsed, parse};
use vpcsim_dataplane::{Component, Direction, DropReason, NaclDecision, SgDecision, Step, Verdict};
use vpcsim_model::Action;

mod common;
use common::{Net, assert_checksums, builder};

const NET: &str = r#"
name = "pipeline fixture"

[[vpc]]
id = "vpc-app"
cidr = "10.0.0.0/16"
ipv6_cidr = "2600:1f18:aa:100::/56"

[[subnet]]
id = "subnet-web"
vpc = "vpc-app"
cidr = "10.0.1.0/24"
ipv6_cidr = "2600:1f18:aa:101::/64"
route_table = "rtb-web"

[[subnet]]
id = "subnet-db"
vpc = "vpc-app"
cidr = "10.0.2.0/24"
ipv6_cidr = "2600:1f18:aa:102::/64"
route_table = "rtb-db"
nacl = "acl-db"

[[subnet]]
id = "subnet-ops"
vpc = "vpc-app"
cidr = "10.0.3.0/24"
route_table = "rtb-ops"

[[internet_gateway]]
id = "igw-main"
vpc = "vpc-app"

[[prefix_list]]
id = "pl-office"
entries = ["203.0.113.0/24"]

[[route_table]]
id = "rtb-web"
vpc = "vpc-app"
routes = [
  { dest = "0.0.0.0/0", target = "igw-main" },
  { dest = "::/0", target = "igw-main" },
  { dest = "198.51.0.0/16", target = "fw" },
  { dest = "198.51.100.0/24", target = "igw-main" },
  { dest = "192.0.2.0/24", target = "blackhole" },
  { dest = "pl-office", target = "fw" },
  { dest = "203.0.113.128/25", target = "blackhole" },
]

[[route_table]]
id = "rtb-db"
vpc = "vpc-app"

[[route_table]]
id = "rtb-ops"
vpc = "vpc-app"
routes = [
  { dest = "pl-office", target = "blackhole" },
  { dest = "203.0.113.0/24", target = "igw-main" },
]

[[security_group]]
id = "sg-web"
vpc = "vpc-app"
ingress = [
  { proto = "tcp", ports = "80", cidr = "0.0.0.0/0" },
  { proto = "tcp", ports = "443", cidr = "::/0" },
  { proto = "icmp", cidr = "10.0.0.0/16" },
]

[[security_group]]
id = "sg-db"
vpc = "vpc-app"
ingress = [
  { proto = "tcp", ports = "5432", sg = "sg-web" },
  { proto = "tcp", ports = "22", cidr = "10.0.0.0/16" },
  { proto = "icmp", cidr = "10.0.0.0/16" },
]
egress = []

[[security_group]]
id = "sg-open"
vpc = "vpc-app"
ingress = [ { proto = "all", cidr = "0.0.0.0/0" } ]

[[nacl]]
id = "acl-db"
vpc = "vpc-app"
ingress = [
  { rule = 110, action = "allow", proto = "all", cidr = "10.0.0.0/16" },
  { rule = 100, action = "deny", proto = "tcp", ports = "22", cidr = "10.0.1.0/24" },
  { rule = 120, action = "allow", proto = "tcp", ports = "5432", cidr = "2600:1f18:aa:100::/56" },
]
egress = [
  { rule = 100, action = "allow", proto = "tcp", ports = "5432", cidr = "10.0.0.0/16" },
  { rule = 200, action = "allow", proto = "tcp", ports = "1024-65535", cidr = "::/0" },
]

[[host]]
id = "web1"
subnet = "subnet-web"
ip = "10.0.1.10"
ipv6 = "2600:1f18:aa:101::10"
public_ip = "54.0.0.10"
security_groups = ["sg-web"]

[[host]]
id = "web2"
subnet = "subnet-web"
ip = "10.0.1.11"
security_groups = ["sg-web"]

[[host]]
id = "db1"
subnet = "subnet-db"
ip = "10.0.2.20"
ipv6 = "2600:1f18:aa:102::20"
security_groups = ["sg-db"]

[[host]]
id = "db2"
subnet = "subnet-db"
ip = "10.0.2.21"
security_groups = ["sg-open"]

[[host]]
id = "fw"
subnet = "subnet-ops"
ip = "10.0.3.30"
security_groups = ["sg-open"]
source_dest_check = false

[[host]]
id = "client"
internet = true
ip = "198.51.100.7"
ipv6 = "2001:db8::7"
"#;

#[derive(Clone, Copy, Debug)]
enum Tcp {
    Syn,
    SynAck,
    Ack,
}

impl Net {
    fn new() -> Net {
        Net::from(NET)
    }

    fn from(src: &str) -> Net {
        Net::load(src, "fixture.toml")
    }

    /// The index in `table` of the route to `dest`.
    fn route(&self, table: &str, dest: &str) -> usize {
        let rt = self.t.route_tables.iter().find(|r| r.id == table).unwrap();
        rt.routes
            .iter()
            .position(|r| match r.dest {
                vpcsim_model::RouteDest::Cidr(c) => c.to_string() == dest,
                vpcsim_model::RouteDest::PrefixList(pl) => self.t.prefix_list(pl).id == dest,
            })
            .unwrap_or_else(|| panic!("no route to {dest} in {table}"))
    }

    fn tcp(&self, host: &str, src: &str, dst: &str, sport: u16, dport: u16, flags: Tcp) -> Vec<u8> {
        self.tcp_ttl(host, src, dst, sport, dport, flags, 64)
    }

    #[allow(clippy::too_many_arguments)]
    fn tcp_ttl(&self, host: &str, src: &str, dst: &str, sport: u16, dport: u16, flags: Tcp, ttl: u8) -> Vec<u8> {
        let b = builder(self.mac(host), src, dst, ttl).tcp(sport, dport, 1000, 64240);
        let b = match flags {
            Tcp::Syn => b.syn(),
            Tcp::SynAck => b.syn().ack(1001),
            Tcp::Ack => b.ack(2001),
        };
        let mut f = Vec::new();
        b.write(&mut f, &[]).unwrap();
        f
    }

    fn ping(&self, host: &str, src: &str, dst: &str, reply: bool) -> Vec<u8> {
        let b = builder(self.mac(host), src, dst, 64);
        let mut f = Vec::new();
        let v4 = src.parse::<IpAddr>().unwrap().is_ipv4();
        match (v4, reply) {
            (true, false) => b.icmpv4_echo_request(7, 1).write(&mut f, b"ping").unwrap(),
            (true, true) => b.icmpv4_echo_reply(7, 1).write(&mut f, b"ping").unwrap(),
            (false, false) => b.icmpv6_echo_request(7, 1).write(&mut f, b"ping").unwrap(),
            (false, true) => b.icmpv6_echo_reply(7, 1).write(&mut f, b"ping").unwrap(),
        }
        f
    }
}

// --- Route tables -----------------------------------------------------------

#[test]
fn a_24_beats_a_16_beats_the_default_route() {
    let mut net = Net::new();
    let to_24 = net.send("web1", &net.tcp("web1", "10.0.1.10", "198.51.100.7", 40000, 80, Tcp::Syn));
    to_24.delivered_to(&net, "client");
    let (winner, beaten) = to_24.route_winner();
    assert_eq!(winner, Some(net.route("rtb-web", "198.51.100.0/24")));
    assert_eq!(beaten, vec![net.route("rtb-web", "198.51.0.0/16"), net.route("rtb-web", "0.0.0.0/0")]);

    let to_16 = net.send("web1", &net.tcp("web1", "10.0.1.10", "198.51.5.5", 40001, 80, Tcp::Syn));
    to_16.delivered_to(&net, "fw");
    assert_eq!(to_16.route_winner().0, Some(net.route("rtb-web", "198.51.0.0/16")));

    let to_default = net.send("web1", &net.tcp("web1", "10.0.1.10", "8.8.8.8", 40002, 80, Tcp::Syn));
    assert_eq!(to_default.route_winner().0, Some(net.route("rtb-web", "0.0.0.0/0")));
    // Out through the internet gateway, and nobody on the internet owns 8.8.8.8.
    to_default.dropped(DropReason::NoRoute, "internet", &net);
    assert!(
        to_default
            .trace
            .steps
            .contains(&Step::Crossed { component: Component::InternetGateway(vpcsim_model::IgwIdx(0)) })
    );
}

#[test]
fn a_prefix_list_route_beats_the_default_route_and_loses_to_a_more_specific_cidr() {
    let mut net = Net::new();
    let in_list = net.send("web1", &net.tcp("web1", "10.0.1.10", "203.0.113.9", 40000, 443, Tcp::Syn));
    in_list.delivered_to(&net, "fw");
    assert_eq!(in_list.route_winner().0, Some(net.route("rtb-web", "pl-office")));
    assert!(in_list.route_winner().1.contains(&net.route("rtb-web", "0.0.0.0/0")));

    let more_specific = net.send("web1", &net.tcp("web1", "10.0.1.10", "203.0.113.200", 40001, 443, Tcp::Syn));
    more_specific.dropped(DropReason::Blackhole, "rtb-web", &net);
    assert_eq!(more_specific.route_winner().0, Some(net.route("rtb-web", "203.0.113.128/25")));
}

#[test]
fn a_cidr_route_beats_a_prefix_list_route_of_the_same_length() {
    let mut net = Net::new();
    // rtb-ops: pl-office (203.0.113.0/24) -> blackhole, 203.0.113.0/24 -> igw.
    let sent = net.send("fw", &net.tcp("fw", "10.0.3.30", "203.0.113.9", 40000, 443, Tcp::Syn));
    assert_eq!(sent.route_winner().0, Some(net.route("rtb-ops", "203.0.113.0/24")));
    assert!(
        sent.text.contains("(the same prefix length: a CIDR route beats a prefix list) over pl-office"),
        "{}",
        sent.text
    );
    // The internet gateway cannot translate an instance without a public IP.
    sent.dropped(DropReason::NoPublicIp, "igw-main", &net);
}

#[test]
fn a_blackhole_route_drops() {
    let mut net = Net::new();
    let sent = net.send("web1", &net.tcp("web1", "10.0.1.10", "192.0.2.5", 40000, 443, Tcp::Syn));
    sent.dropped(DropReason::Blackhole, "rtb-web", &net);
    assert_eq!(net.fabric.counters().dropped(DropReason::Blackhole), 1);
}

#[test]
fn no_matching_route_drops_with_no_route() {
    let mut net = Net::new();
    // rtb-db has only the local routes.
    let sent = net.send("db2", &net.tcp("db2", "10.0.2.21", "198.51.100.7", 40000, 80, Tcp::Syn));
    sent.dropped(DropReason::NoRoute, "rtb-db", &net);
    assert_eq!(sent.route_winner(), (None, vec![]));
}

#[test]
fn an_address_nobody_owns_inside_the_vpc_is_dropped_where_the_network_drops_it() {
    let mut net = Net::new();
    let sent = net.send("web1", &net.tcp("web1", "10.0.1.10", "10.0.9.9", 40000, 80, Tcp::Syn));
    sent.dropped(DropReason::NoDestination, "vpc-app", &net);
}

// --- Network ACLs -----------------------------------------------------------

#[test]
fn nacl_rules_are_read_in_number_order_and_the_first_match_decides() {
    let mut net = Net::new();
    // Rule 110 (allow all from the VPC) is written first, but rule 100 (deny
    // tcp/22 from subnet-web) has the lower number.
    let ssh = net.send("web1", &net.tcp("web1", "10.0.1.10", "10.0.2.20", 40000, 22, Tcp::Syn));
    ssh.dropped(DropReason::NaclIngress, "acl-db", &net);
    assert!(ssh.trace.steps.iter().any(|s| matches!(
        s,
        Step::Nacl {
            direction: Direction::Ingress,
            decision: NaclDecision::Rule { number: 100, action: Action::Deny },
            ..
        }
    )));
    assert!(
        ssh.text.contains("acl-db of subnet-db, ingress: rule 100 (tcp port 22 from 10.0.1.0/24) denies it"),
        "{}",
        ssh.text
    );

    // From subnet-ops rule 100 does not match: rule 110 allows.
    let from_ops = net.send("fw", &net.tcp("fw", "10.0.3.30", "10.0.2.20", 40000, 22, Tcp::Syn));
    from_ops.delivered_to(&net, "db1");
    assert!(from_ops.trace.steps.iter().any(|s| matches!(
        s,
        Step::Nacl {
            direction: Direction::Ingress,
            decision: NaclDecision::Rule { number: 110, action: Action::Allow },
            ..
        }
    )));
}

#[test]
fn a_custom_nacl_ends_in_an_implicit_deny() {
    let mut net = Net::new();
    // The echo request goes in (rule 110); acl-db's egress has no ICMP rule, so
    // the echo reply meets the final `*`.
    net.send("web1", &net.ping("web1", "10.0.1.10", "10.0.2.20", false)).delivered_to(&net, "db1");
    let reply = net.send("db1", &net.ping("db1", "10.0.2.20", "10.0.1.10", true));
    reply.dropped(DropReason::NaclEgress, "acl-db", &net);
    assert!(reply.trace.steps.iter().any(|s| matches!(s, Step::Nacl { decision: NaclDecision::ImplicitDeny, .. })));
}

#[test]
fn a_nacl_without_ephemeral_ports_kills_the_syn_ack_that_the_security_group_let_through() {
    let mut net = Net::new();
    let syn = net.send("web1", &net.tcp("web1", "10.0.1.10", "10.0.2.20", 40000, 5432, Tcp::Syn));
    syn.delivered_to(&net, "db1");

    let syn_ack = net.send("db1", &net.tcp("db1", "10.0.2.20", "10.0.1.10", 5432, 40000, Tcp::SynAck));
    syn_ack.dropped(DropReason::NaclEgress, "acl-db", &net);
    // sg-db has no egress rule at all: connection tracking let the reply out,
    // then the stateless NACL judged it on its own (destination port 40000).
    let steps = &syn_ack.trace.steps;
    let sg = steps
        .iter()
        .position(|s| {
            matches!(s, Step::SecurityGroup { direction: Direction::Egress, decision: SgDecision::Tracked, .. })
        })
        .expect("the security group passed the reply as tracked");
    let nacl = steps
        .iter()
        .position(|s| {
            matches!(s, Step::Nacl { direction: Direction::Egress, decision: NaclDecision::ImplicitDeny, .. })
        })
        .expect("the NACL denied it");
    assert!(sg < nacl);
}

#[test]
fn ipv6_follows_the_same_rules_and_ipv4_nacl_rules_do_not_match_it() {
    let mut net = Net::new();
    let (web, db) = ("2600:1f18:aa:101::10", "2600:1f18:aa:102::20");
    let syn = net.send("web1", &net.tcp("web1", web, db, 40000, 5432, Tcp::Syn));
    syn.delivered_to(&net, "db1");
    assert_eq!(syn.ip().ttl, 63, "the router decrements the hop limit");
    assert_checksums(&syn.out);
    assert!(syn.trace.steps.iter().any(|s| matches!(
        s,
        Step::Nacl { direction: Direction::Ingress, decision: NaclDecision::Rule { number: 120, .. }, .. }
    )));
    // acl-db's IPv6 egress rule 200 allows the ephemeral ports: the handshake completes.
    net.send("db1", &net.tcp("db1", db, web, 5432, 40000, Tcp::SynAck)).delivered_to(&net, "web1");
    net.send("web1", &net.tcp("web1", web, db, 40000, 5432, Tcp::Ack)).delivered_to(&net, "db1");

    // An IPv6 ping finds no ICMPv6 rule in acl-db (rule 110 is IPv4 only).
    let ping = net.send("web1", &net.ping("web1", web, db, false));
    ping.dropped(DropReason::NaclIngress, "acl-db", &net);
}

#[test]
fn ipv6_reaches_the_internet_untranslated() {
    let mut net = Net::new();
    let sent = net.send("web1", &net.tcp("web1", "2600:1f18:aa:101::10", "2001:db8::7", 40000, 443, Tcp::Syn));
    sent.delivered_to(&net, "client");
    assert_eq!(sent.ip().src, "2600:1f18:aa:101::10".parse::<IpAddr>().unwrap());
    assert_checksums(&sent.out);
    // The reply comes back in through the gateway; sg-web tracks it.
    let back = net.send("client", &net.tcp("client", "2001:db8::7", "2600:1f18:aa:101::10", 443, 40000, Tcp::SynAck));
    back.delivered_to(&net, "web1");
}

// --- Security groups --------------------------------------------------------

#[test]
fn a_security_group_reference_admits_members_only() {
    let mut net = Net::new();
    // web2 is in sg-web.
    let member = net.send("web2", &net.tcp("web2", "10.0.1.11", "10.0.2.20", 40000, 5432, Tcp::Syn));
    member.delivered_to(&net, "db1");
    assert!(member.text.contains("members of sg-web"), "{}", member.text);
    // fw is not, though the NACL lets it in.
    let stranger = net.send("fw", &net.tcp("fw", "10.0.3.30", "10.0.2.20", 40000, 5432, Tcp::Syn));
    stranger.dropped(DropReason::SgIngress, "sg-db", &net);
}

#[test]
fn security_groups_are_stateful_but_allow_no_new_flows_without_a_rule() {
    let mut net = Net::new();
    net.send("web1", &net.tcp("web1", "10.0.1.10", "10.0.2.21", 40000, 80, Tcp::Syn)).delivered_to(&net, "db2");
    // db1's group has no egress rules: it cannot open a connection.
    let out = net.send("db1", &net.tcp("db1", "10.0.2.20", "10.0.1.10", 41000, 80, Tcp::Syn));
    out.dropped(DropReason::SgEgress, "sg-db", &net);
    assert!(out.trace.steps.iter().any(|s| matches!(s, Step::SecurityGroup { decision: SgDecision::Denied, .. })));
}

#[test]
fn a_tracked_flow_expires() {
    let mut net = Net::new();
    // UDP is tracked for 30 s.
    let udp = |net: &mut Net, from: &str, src: &str, dst: &str, sp: u16, dp: u16| {
        let mut f = Vec::new();
        builder(net.mac(from), src, dst, 64).udp(sp, dp).write(&mut f, b"x").unwrap();
        net.send(from, &f)
    };
    // fw (sg-open) can receive anything; web1 opens a UDP flow to it.
    udp(&mut net, "web1", "10.0.1.10", "10.0.3.30", 40000, 53).delivered_to(&net, "fw");
    net.now = Duration::from_secs(20);
    // sg-web has no UDP ingress rule: only tracking lets the answer in.
    udp(&mut net, "fw", "10.0.3.30", "10.0.1.10", 53, 40000).delivered_to(&net, "web1");
    net.now = Duration::from_secs(20 + 181);
    udp(&mut net, "fw", "10.0.3.30", "10.0.1.10", 53, 40000).dropped(DropReason::SgIngress, "sg-web", &net);
}

#[test]
fn a_full_connection_table_refuses_new_flows_and_counts_them() {
    let mut net = Net::with_fabric(NET, "fixture.toml", |f| f.with_conntrack_capacity(2));
    // One flow takes two entries: web1's egress and fw's ingress.
    net.send("web1", &net.tcp("web1", "10.0.1.10", "10.0.3.30", 40000, 80, Tcp::Syn)).delivered_to(&net, "fw");
    let second = net.send("web1", &net.tcp("web1", "10.0.1.10", "10.0.3.30", 40001, 80, Tcp::Syn));
    second.dropped(DropReason::ConntrackFull, "sg-web", &net);
    assert_eq!(net.fabric.conntrack().stats.refused, 1);
    assert_eq!(net.fabric.conntrack().len(), 2);
    // The established flow keeps working.
    net.send("fw", &net.tcp("fw", "10.0.3.30", "10.0.1.10", 80, 40000, Tcp::SynAck)).delivered_to(&net, "web1");
}

// --- Forwarding, rewriting, the internet gateway ------------------------------

#[test]
fn across_subnets_the_router_rewrites_macs_and_decrements_the_ttl() {
    let mut net = Net::new();
    let sent = net.send("web1", &net.tcp("web1", "10.0.1.10", "10.0.2.21", 40000, 80, Tcp::Syn));
    sent.delivered_to(&net, "db2");
    let db_subnet = net.t.subnets.iter().find(|s| s.id == "subnet-db").unwrap();
    assert_eq!(&sent.out[0..6], &net.mac("db2"));
    assert_eq!(&sent.out[6..12], &db_subnet.router_mac);
    assert_eq!(sent.ip().ttl, 63);
    assert_checksums(&sent.out);

    let ttl1 = net.send("web1", &net.tcp_ttl("web1", "10.0.1.10", "10.0.2.21", 40001, 80, Tcp::Syn, 1));
    ttl1.dropped(DropReason::TtlExceeded, "vpc-app", &net);
}

#[test]
fn inside_one_subnet_no_nacl_applies_and_the_ttl_is_untouched() {
    let mut net = Net::new();
    let sent = net.send("web2", &net.tcp("web2", "10.0.1.11", "10.0.1.10", 40000, 80, Tcp::Syn));
    sent.delivered_to(&net, "web1");
    assert!(!sent.trace.steps.iter().any(|s| matches!(s, Step::Nacl { .. })));
    assert_eq!(sent.ip().ttl, 64);
    assert_eq!(&sent.out[6..12], &net.mac("web2"));
}

#[test]
fn the_internet_gateway_translates_a_public_ip_both_ways() {
    let mut net = Net::new();
    let inbound = net.send("client", &net.tcp("client", "198.51.100.7", "54.0.0.10", 50000, 80, Tcp::Syn));
    inbound.delivered_to(&net, "web1");
    assert_eq!(inbound.ip().dst, "10.0.1.10".parse::<IpAddr>().unwrap());
    assert_checksums(&inbound.out);
    assert!(inbound.text.contains("igw-main translates the destination 54.0.0.10 → 10.0.1.10"), "{}", inbound.text);

    let reply = net.send("web1", &net.tcp("web1", "10.0.1.10", "198.51.100.7", 80, 50000, Tcp::SynAck));
    reply.delivered_to(&net, "client");
    assert_eq!(reply.ip().src, "54.0.0.10".parse::<IpAddr>().unwrap());
    assert_checksums(&reply.out);

    // sg-web does not allow port 22 in.
    let ssh = net.send("client", &net.tcp("client", "198.51.100.7", "54.0.0.10", 50001, 22, Tcp::Syn));
    ssh.dropped(DropReason::SgIngress, "sg-web", &net);
    // Private addresses are not reachable from the internet.
    let private = net.send("client", &net.tcp("client", "198.51.100.7", "10.0.1.10", 50002, 80, Tcp::Syn));
    private.dropped(DropReason::NoRoute, "internet", &net);
}

#[test]
fn an_instance_without_a_public_ip_cannot_use_the_internet_gateway() {
    let mut net = Net::new();
    let sent = net.send("web2", &net.tcp("web2", "10.0.1.11", "198.51.100.7", 40000, 80, Tcp::Syn));
    sent.dropped(DropReason::NoPublicIp, "igw-main", &net);
}

#[test]
fn source_dest_check_stops_spoofing_and_a_middlebox_without_it_forwards() {
    let mut net = Net::new();
    let spoofed = net.send("web1", &net.tcp("web1", "10.0.1.99", "10.0.2.21", 40000, 80, Tcp::Syn));
    spoofed.dropped(DropReason::SourceDestCheck, "web1", &net);
    // fw has the check off: it receives traffic for 198.51.5.5 (routed to it)...
    net.send("web1", &net.tcp("web1", "10.0.1.10", "198.51.5.5", 40000, 80, Tcp::Syn)).delivered_to(&net, "fw");
    // ...and may send with another source address.
    let forwarded = net.send("fw", &net.tcp("fw", "10.0.1.10", "10.0.2.21", 40000, 80, Tcp::Syn));
    forwarded.delivered_to(&net, "db2");
}

#[test]
fn the_router_answers_arp_for_itself_and_for_enis_of_the_subnet() {
    let mut net = Net::new();
    let arp = |net: &Net, target: [u8; 4]| {
        let mut f = Vec::new();
        PacketBuilder::ethernet2(net.mac("web1"), [0xff; 6])
            .arp(
                etherparse::ArpPacket::new(
                    etherparse::ArpHardwareId::ETHERNET,
                    etherparse::EtherType::IPV4,
                    etherparse::ArpOperation::REQUEST,
                    &net.mac("web1"),
                    &[10, 0, 1, 10],
                    &[0; 6],
                    &target,
                )
                .unwrap(),
            )
            .write(&mut f)
            .unwrap();
        f
    };
    let gw = net.send("web1", &arp(&net, [10, 0, 1, 1]));
    assert_eq!(gw.verdict, Verdict::Reply(net.eni("web1")));
    let Ok(Parsed::Arp(reply)) = parse(&gw.out) else { panic!("no ARP reply") };
    let subnet = net.t.subnets.iter().find(|s| s.id == "subnet-web").unwrap();
    assert_eq!(reply.sender_mac, subnet.router_mac);
    assert_eq!(reply.operation, 2);

    let peer = net.send("web1", &arp(&net, [10, 0, 1, 11]));
    let Ok(Parsed::Arp(reply)) = parse(&peer.out) else { panic!("no ARP reply") };
    assert_eq!(reply.sender_mac, net.mac("web2"));

    // Nobody owns 10.0.1.99: no answer, and the trace says why.
    let nobody = net.send("web1", &arp(&net, [10, 0, 1, 99]));
    assert_eq!(nobody.verdict.dropped().map(|d| d.reason), Some(DropReason::NoDestination));
}

// --- Hostile frames -----------------------------------------------------------

#[test]
fn malformed_frames_are_dropped_and_counted_never_a_panic() {
    let mut net = Net::new();
    let good = net.tcp("web1", "10.0.1.10", "10.0.2.21", 40000, 80, Tcp::Syn);
    let mut bad_ihl = good.clone();
    bad_ihl[14] = 0x43; // IHL 3: shorter than the minimum header
    let mut unknown_ethertype = good.clone();
    unknown_ethertype[12..14].copy_from_slice(&[0x88, 0xb5]);
    let mut bad_version = good.clone();
    bad_version[14] = 0x55;
    let cases: Vec<Vec<u8>> = vec![
        vec![],
        good[..10].to_vec(),
        good[..20].to_vec(),
        good[..40].to_vec(),
        bad_ihl,
        unknown_ethertype,
        bad_version,
    ];
    for (i, frame) in cases.iter().enumerate() {
        let sent = net.send("web1", frame);
        sent.dropped(DropReason::Malformed, "web1", &net);
        assert_eq!(net.fabric.counters().dropped(DropReason::Malformed), i as u64 + 1);
    }
}

#[test]
fn random_bytes_and_mutated_frames_never_panic() {
    let mut net = Net::new();
    let seeds = [
        net.tcp("web1", "10.0.1.10", "10.0.2.21", 40000, 80, Tcp::Syn),
        net.tcp("web1", "2600:1f18:aa:101::10", "2600:1f18:aa:102::20", 40000, 5432, Tcp::Syn),
        net.ping("web1", "10.0.1.10", "10.0.2.20", false),
    ];
    // xorshift64*: deterministic, no dependency.
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = move || {
        state ^= state >> 12;
        state ^= state << 25;
        state ^= state >> 27;
        state.wrapping_mul(0x2545_f491_4f6c_dd1d)
    };
    let hosts = ["web1", "db1", "fw", "client"];
    let mut frames = 0u64;
    for i in 0..20_000u64 {
        let frame: Vec<u8> = if i % 2 == 0 {
            let len = (next() % 120) as usize;
            (0..len).map(|_| next() as u8).collect()
        } else {
            let mut f = seeds[(next() % 3) as usize].clone();
            for _ in 0..1 + next() % 4 {
                let at = (next() as usize) % f.len();
                f[at] = next() as u8;
            }
            if next() % 4 == 0 {
                f.truncate((next() as usize) % f.len());
            }
            f
        };
        net.send(hosts[(next() % 4) as usize], &frame);
        frames += 1;
    }
    let c = net.fabric.counters();
    assert_eq!(c.received, frames);
    assert_eq!(c.delivered + c.replies + c.absorbed + c.total_dropped(), frames);
    assert!(c.dropped(DropReason::Malformed) > 5_000, "random bytes are mostly unreadable");
}

#[test]
fn the_trace_reads_as_a_story() {
    let mut net = Net::new();
    let sent = net.send("web1", &net.tcp("web1", "10.0.1.10", "198.51.100.7", 40000, 80, Tcp::Syn));
    let want = "\
web1 (eni-web1) sends tcp 10.0.1.10:40000 → 198.51.100.7:80 [SYN]
security group sg-web egress rule #1 allows all traffic to 0.0.0.0/0; the connection is now tracked
route table rtb-web: 198.51.100.7 matches 198.51.100.0/24 → igw-main (the longest matching prefix wins) over 198.51.0.0/16 → fw (eni-fw), 0.0.0.0/0 → igw-main
network ACL vpc-app/default-nacl of subnet-web, egress: rule 100 (all traffic to 0.0.0.0/0) allows it
crosses igw-main
igw-main translates the source 10.0.1.10 → 54.0.0.10
crosses internet
delivered to client (eni-client)
";
    assert_eq!(sent.text, want);
}

#[test]
fn the_router_answers_neighbour_solicitations_like_arp() {
    let mut net = Net::new();
    let solicit = |net: &Net, target: &str| {
        let target: std::net::Ipv6Addr = target.parse().unwrap();
        let t = target.octets();
        let group = [0xff, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0xff, t[13], t[14], t[15]];
        let mut payload = target.octets().to_vec();
        payload.extend_from_slice(&[1, 1]);
        payload.extend_from_slice(&net.mac("web1"));
        let mut f = Vec::new();
        PacketBuilder::ethernet2(net.mac("web1"), [0x33, 0x33, 0xff, t[13], t[14], t[15]])
            .ipv6("2600:1f18:aa:101::10".parse::<std::net::Ipv6Addr>().unwrap().octets(), group, 255)
            .icmpv6(etherparse::Icmpv6Type::NeighborSolicitation)
            .write(&mut f, &payload)
            .unwrap();
        f
    };
    let gw = net.send("web1", &solicit(&net, "2600:1f18:aa:101::1"));
    assert_eq!(gw.verdict, Verdict::Reply(net.eni("web1")));
    let p = SlicedPacket::from_ethernet(&gw.out).unwrap();
    let Some(NetSlice::Ipv6(ip)) = &p.net else { panic!("not IPv6") };
    assert_eq!(ip.header().hop_limit(), 255);
    assert_eq!(ip.header().source_addr(), "2600:1f18:aa:101::1".parse::<std::net::Ipv6Addr>().unwrap());
    let Some(TransportSlice::Icmpv6(icmp)) = &p.transport else { panic!("not ICMPv6") };
    assert!(matches!(icmp.icmp_type(), etherparse::Icmpv6Type::NeighborAdvertisement(h) if h.router && h.solicited));
    let subnet = net.t.subnets.iter().find(|s| s.id == "subnet-web").unwrap();
    assert_eq!(&icmp.payload()[18..24], &subnet.router_mac, "target link-layer address option");
    let Some(etherparse::NetSlice::Ipv6(ip6)) = &p.net else { unreachable!() };
    let want = icmp.header().icmp_type.calc_checksum(ip6.header().source(), ip6.header().destination(), icmp.payload());
    assert_eq!(icmp.checksum(), want.unwrap());

    // Nobody owns ::99 in the subnet: no answer, and the trace says why.
    let nobody = net.send("web1", &solicit(&net, "2600:1f18:aa:101::99"));
    assert_eq!(nobody.verdict.dropped().map(|d| d.reason), Some(DropReason::NoDestination));
}

const JUMBO: &str = r#"
name = "jumbo frames"
[[vpc]]
id = "vpc-a"
cidr = "10.0.0.0/16"
ipv6_cidr = "2600:1f18:aa:100::/56"
[[subnet]]
id = "subnet-1"
vpc = "vpc-a"
cidr = "10.0.1.0/24"
ipv6_cidr = "2600:1f18:aa:101::/64"
route_table = "rtb-1"
[[subnet]]
id = "subnet-2"
vpc = "vpc-a"
cidr = "10.0.2.0/24"
ipv6_cidr = "2600:1f18:aa:102::/64"
[[internet_gateway]]
id = "igw-a"
vpc = "vpc-a"
[[route_table]]
id = "rtb-1"
vpc = "vpc-a"
routes = [ { dest = "0.0.0.0/0", target = "igw-a" } ]
[[security_group]]
id = "sg-open"
vpc = "vpc-a"
ingress = [ { proto = "all", cidr = "0.0.0.0/0" }, { proto = "all", cidr = "::/0" } ]
[[host]]
id = "big"
subnet = "subnet-1"
ip = "10.0.1.10"
ipv6 = "2600:1f18:aa:101::10"
public_ip = "54.0.0.10"
mtu = 9001
security_groups = ["sg-open"]
[[host]]
id = "big2"
subnet = "subnet-2"
ip = "10.0.2.10"
mtu = 9001
security_groups = ["sg-open"]
[[host]]
id = "small"
subnet = "subnet-2"
ip = "10.0.2.20"
ipv6 = "2600:1f18:aa:102::20"
security_groups = ["sg-open"]
[[host]]
id = "client"
internet = true
ip = "198.51.100.7"
"#;

fn udp_sized(net: &Net, host: &str, src: &str, dst: &str, payload: usize) -> Vec<u8> {
    let mut f = Vec::new();
    builder(net.mac(host), src, dst, 64).udp(40000, 9000).write(&mut f, &vec![0xab; payload]).unwrap();
    f
}

#[test]
fn a_packet_larger_than_the_next_hops_mtu_dies_and_the_source_hears_the_mtu() {
    let mut net = Net::from(JUMBO);
    // 8000 bytes fit a 9001 ENI...
    net.send("big", &udp_sized(&net, "big", "10.0.1.10", "10.0.2.10", 8000)).delivered_to(&net, "big2");
    // ...not a 1500 one. etherparse sets DF on IPv4 by default.
    let sent = net.send("big", &udp_sized(&net, "big", "10.0.1.10", "10.0.2.20", 8000));
    let Verdict::Bounce(d, to) = sent.verdict else { panic!("{:?}\n{}", sent.verdict, sent.text) };
    assert_eq!((d.reason, to), (DropReason::MtuExceeded, net.eni("big")));
    let p = SlicedPacket::from_ethernet(&sent.out).unwrap();
    let Some(TransportSlice::Icmpv4(icmp)) = &p.transport else { panic!("not ICMP") };
    assert!(matches!(
        icmp.icmp_type(),
        etherparse::Icmpv4Type::DestinationUnreachable(
            etherparse::icmpv4::DestUnreachableHeader::FragmentationNeeded { next_hop_mtu: 1500 }
        )
    ));
    assert_eq!(sent.ip().src, "10.0.1.1".parse::<IpAddr>().unwrap(), "from the router of big's subnet");
    assert_eq!(sent.ip().dst, "10.0.1.10".parse::<IpAddr>().unwrap());
    // The quoted packet is the one big sent, so its stack can match it.
    let q = vpcsim_dataplane::packet::quoted_flow(&sent.out, &sent.ip()).unwrap();
    assert_eq!(q, (17, "10.0.1.10".parse().unwrap(), "10.0.2.20".parse().unwrap(), 40000, 9000));
    assert!(
        sent.text
            .contains("the router sends ICMP fragmentation needed / packet too big (next-hop MTU 1500) back to big")
    );

    // The internet gateway's path MTU is 1500 whatever the ENI's.
    let out = net.send("big", &udp_sized(&net, "big", "10.0.1.10", "198.51.100.7", 3000));
    out.dropped(DropReason::MtuExceeded, "igw-a", &net);

    // IPv6: packet too big.
    let v6 = net.send("big", &udp_sized(&net, "big", "2600:1f18:aa:101::10", "2600:1f18:aa:102::20", 4000));
    let Verdict::Bounce(_, _) = v6.verdict else { panic!("{}", v6.text) };
    let p = SlicedPacket::from_ethernet(&v6.out).unwrap();
    let Some(TransportSlice::Icmpv6(icmp)) = &p.transport else { panic!("not ICMPv6") };
    assert_eq!(icmp.icmp_type(), etherparse::Icmpv6Type::PacketTooBig { mtu: 1500 });
}

#[test]
fn ttl_exceeded_answers_with_icmp_time_exceeded() {
    let mut net = Net::from(JUMBO);
    let mut f = Vec::new();
    builder(net.mac("big"), "10.0.1.10", "10.0.2.20", 1).udp(40000, 33434).write(&mut f, b"traceroute").unwrap();
    let sent = net.send("big", &f);
    let Verdict::Bounce(d, _) = sent.verdict else { panic!("{}", sent.text) };
    assert_eq!(d.reason, DropReason::TtlExceeded);
    let p = SlicedPacket::from_ethernet(&sent.out).unwrap();
    let Some(TransportSlice::Icmpv4(icmp)) = &p.transport else { panic!("not ICMP") };
    assert!(matches!(icmp.icmp_type(), etherparse::Icmpv4Type::TimeExceeded(_)));
}
