//! The Amazon DNS server and gateway endpoints, through the one pipeline with
//! real frames: DNS answers as bytes, and S3 reached privately.

use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use etherparse::{NetSlice, PacketBuilder, SlicedPacket, TransportSlice};
use vpcsim_dataplane::{Component, DropReason, Step, Trace, Verdict};
use vpcsim_dns::QueryType;

mod common;
use common::{Net, Sent};

const NET: &str = r#"
name = "services fixture"

[[vpc]]
id = "vpc-app"
cidr = "10.0.0.0/16"

[[vpc]]
id = "vpc-quiet"
cidr = "10.0.0.0/16"
private_dns = false

[[route_table]]
id = "rtb-app"
vpc = "vpc-app"

[[subnet]]
id = "subnet-app"
vpc = "vpc-app"
cidr = "10.0.1.0/24"
route_table = "rtb-app"

[[subnet]]
id = "subnet-other"
vpc = "vpc-app"
cidr = "10.0.2.0/24"

[[subnet]]
id = "subnet-quiet"
vpc = "vpc-quiet"
cidr = "10.0.1.0/24"

[[gateway_endpoint]]
id = "vpce-s3"
vpc = "vpc-app"
service = "s3"
route_tables = ["rtb-app"]
policy = '''
{ "Statement": [ { "Sid": "OnlyReports", "Effect": "Allow", "Principal": "*",
                   "Action": "s3:GetObject", "Resource": "arn:aws:s3:::reports/*" } ] }
'''

[[security_group]]
id = "sg-nothing-out"
vpc = "vpc-app"
egress = []

[[host]]
id = "app"
subnet = "subnet-app"
ip = "10.0.1.10"

[[host]]
id = "mute"
subnet = "subnet-app"
ip = "10.0.1.11"
security_groups = ["sg-nothing-out"]

[[host]]
id = "other"
subnet = "subnet-other"
ip = "10.0.2.10"

[[host]]
id = "quiet"
subnet = "subnet-quiet"
ip = "10.0.1.20"

[[host]]
id = "client"
internet = true
ip = "198.51.100.7"
"#;

impl Net {
    fn new() -> Net {
        Net::load(NET, "services.toml")
    }
    fn s3(&self) -> Ipv4Addr {
        let s3 = self.t.services.iter().find(|s| s.name == "s3" && s.region == "us-east-1").unwrap();
        self.t.eni(self.t.host(s3.host).eni).ipv4
    }
    fn dns_query(&self, host: &str, server: Ipv4Addr, name: &str) -> Vec<u8> {
        let mut q = Vec::new();
        vpcsim_dns::build_query(0x1234, name, QueryType::A, &mut q).unwrap();
        let mut f = Vec::new();
        PacketBuilder::ethernet2(self.mac(host), [2, 1, 0, 0, 0, 0])
            .ipv4(self.ipv4(host).octets(), server.octets(), 64)
            .udp(45000, 53)
            .write(&mut f, &q)
            .unwrap();
        f
    }
    fn syn(&self, host: &str, src: Ipv4Addr, dst: Ipv4Addr, sport: u16) -> Vec<u8> {
        let mut f = Vec::new();
        PacketBuilder::ethernet2(self.mac(host), [2, 1, 0, 0, 0, 0])
            .ipv4(src.octets(), dst.octets(), 64)
            .tcp(sport, 443, 1, 64240)
            .syn()
            .write(&mut f, &[])
            .unwrap();
        f
    }
}

/// The DNS message of a UDP frame from port 53, and its IP source.
fn dns_reply(frame: &[u8]) -> (IpAddr, u16, vpcsim_dns::Response) {
    let p = SlicedPacket::from_ethernet(frame).unwrap();
    let Some(NetSlice::Ipv4(ip)) = &p.net else { panic!("not IPv4") };
    let Some(TransportSlice::Udp(udp)) = &p.transport else { panic!("not UDP") };
    assert_eq!(udp.source_port(), 53);
    let h = ip.header().to_header();
    assert_eq!(udp.checksum(), udp.to_header().calc_checksum_ipv4(&h, udp.payload()).unwrap(), "UDP checksum");
    (IpAddr::V4(h.source.into()), udp.destination_port(), vpcsim_dns::parse_response(udp.payload()).unwrap())
}

#[test]
fn the_amazon_dns_server_answers_real_queries_unfiltered() {
    let mut net = Net::new();
    let s3 = net.s3();
    for (host, server) in [("app", Ipv4Addr::new(10, 0, 0, 2)), ("mute", Ipv4Addr::new(169, 254, 169, 253))] {
        // mute's security group allows nothing out: the resolver is not filtered.
        let Sent { verdict: v, out, trace, .. } =
            net.send(host, &net.dns_query(host, server, "S3.us-east-1.amazonaws.com"));
        assert_eq!(v, Verdict::Answered(net.eni(host)));
        let (src, port, reply) = dns_reply(&out);
        assert_eq!((src, port), (IpAddr::V4(server), 45000));
        assert_eq!(reply.id, 0x1234);
        assert_eq!(reply.rcode, 0);
        assert_eq!(reply.v4[0], s3);
        assert!(trace.steps.iter().any(|s| matches!(s, Step::Dns { .. })));
        assert!(!trace.steps.iter().any(|s| matches!(s, Step::SecurityGroup { .. } | Step::Nacl { .. })));
    }
}

#[test]
fn private_hostnames_resolve_only_with_private_dns_on() {
    let mut net = Net::new();
    let Sent { out, .. } =
        net.send("app", &net.dns_query("app", Ipv4Addr::new(10, 0, 0, 2), "ip-10-0-2-10.ec2.internal"));
    assert_eq!(dns_reply(&out).2.v4, vec![Ipv4Addr::new(10, 0, 2, 10)]);
    // Nobody has 10.0.9.9.
    let Sent { out, .. } =
        net.send("app", &net.dns_query("app", Ipv4Addr::new(10, 0, 0, 2), "ip-10-0-9-9.ec2.internal"));
    assert_eq!(dns_reply(&out).2.rcode, 3);
    // vpc-quiet has private_dns = false, which is enableDnsSupport off: its
    // Amazon DNS server answers nothing, at either of its addresses.
    for server in [Ipv4Addr::new(10, 0, 0, 2), Ipv4Addr::new(169, 254, 169, 253)] {
        for name in ["ip-10-0-1-20.ec2.internal", "s3.us-east-1.amazonaws.com"] {
            let Sent { verdict: v, .. } = net.send("quiet", &net.dns_query("quiet", server, name));
            assert_eq!(v.dropped().map(|d| d.reason), Some(vpcsim_dataplane::DropReason::NoDestination), "{name}");
        }
    }
}

#[test]
fn a_gateway_endpoint_carries_s3_traffic_privately_and_back() {
    let mut net = Net::new();
    let (app, s3) = (net.ipv4("app"), net.s3());
    let Sent { verdict: v, out, trace, .. } = net.send("app", &net.syn("app", app, s3, 40000));
    let s3_host = net.t.services.iter().find(|s| s.name == "s3" && s.region == "us-east-1").unwrap().host;
    assert_eq!(v, Verdict::Deliver(net.t.host(s3_host).eni));
    let ep = vpcsim_model::GatewayEndpointIdx(0);
    assert!(trace.steps.contains(&Step::Crossed { component: Component::GatewayEndpoint(ep) }));
    // S3 sees the private address: no translation on this path.
    let p = SlicedPacket::from_ethernet(&out).unwrap();
    let Some(NetSlice::Ipv4(ip)) = &p.net else { panic!() };
    assert_eq!(ip.header().source_addr(), app);
    assert_eq!(net.fabric.gateway_endpoint_of(6, (IpAddr::V4(s3), 443), (IpAddr::V4(app), 40000)), Some(ep));

    // The reply finds its way back through the endpoint.
    let mut reply = Vec::new();
    PacketBuilder::ethernet2(net.t.eni(net.t.host(s3_host).eni).mac, [2, 2, 0, 0, 0, 1])
        .ipv4(s3.octets(), app.octets(), 64)
        .tcp(443, 40000, 1, 64240)
        .syn()
        .ack(2)
        .write(&mut reply, &[])
        .unwrap();
    let mut out = Vec::new();
    let mut trace = Trace::on();
    let v = net.fabric.process(Duration::ZERO, net.t.host(s3_host).eni, &reply, &mut out, &mut trace);
    assert_eq!(v, Verdict::Deliver(net.eni("app")), "{}", trace.render(&net.t));
    assert!(trace.steps.contains(&Step::Crossed { component: Component::GatewayEndpoint(ep) }));
    assert!(!trace.steps.contains(&Step::Crossed { component: Component::Internet }));

    // The endpoint's policy, evaluated by the fabric.
    let ask = |action: &str, resource: &str| {
        net.fabric
            .authorize(
                vpcsim_dataplane::EndpointRef::Gateway(ep),
                &vpcsim_policy::Request { principal: "arn:aws:iam::111111111111:root", action, resource },
            )
            .allowed()
    };
    assert!(ask("s3:GetObject", "arn:aws:s3:::reports/q1.csv"));
    assert!(!ask("s3:PutObject", "arn:aws:s3:::reports/q1.csv"));
}

/// AWS ("Control access to VPC endpoints using endpoint policies"): on a
/// gateway endpoint, an account principal (`"111111111111"` or its `:root`
/// ARN) grants the account's root user only, not its users and roles.
#[test]
fn an_account_principal_on_a_gateway_endpoint_is_its_root_user_only() {
    let policy = r#"{ "Statement": [ { "Effect": "Allow", "Principal": { "AWS": "111111111111" },
                   "Action": "s3:*", "Resource": "*" } ] }"#;
    let text = NET.replacen(
        r#"{ "Statement": [ { "Sid": "OnlyReports", "Effect": "Allow", "Principal": "*",
                   "Action": "s3:GetObject", "Resource": "arn:aws:s3:::reports/*" } ] }"#,
        policy,
        1,
    );
    assert_ne!(text, NET, "the fixture's policy was replaced");
    let net = Net::load(&text, "services.toml");
    let ep = vpcsim_dataplane::EndpointRef::Gateway(vpcsim_model::GatewayEndpointIdx(0));
    let ask = |principal: &str| {
        let request =
            vpcsim_policy::Request { principal, action: "s3:GetObject", resource: "arn:aws:s3:::reports/q1.csv" };
        net.fabric.authorize(ep, &request).allowed()
    };
    assert!(ask("arn:aws:iam::111111111111:root"));
    assert!(!ask("arn:aws:iam::111111111111:role/app"));
    assert!(!ask("arn:aws:sts::111111111111:assumed-role/app/i-0abc"));
    assert!(!ask("arn:aws:iam::222222222222:root"));
    // The same statement in an interface endpoint's policy (IAM's rule for
    // resource policies) grants every principal of the account.
    let parsed = vpcsim_policy::Policy::parse(policy).expect("a valid policy");
    let request = vpcsim_policy::Request {
        principal: "arn:aws:iam::111111111111:role/app",
        action: "s3:GetObject",
        resource: "arn:aws:s3:::reports/q1.csv",
    };
    assert!(parsed.evaluate_as(&request, vpcsim_policy::Accounts::EveryPrincipal).allowed());
}

#[test]
fn only_the_route_tables_the_endpoint_names_reach_it() {
    let mut net = Net::new();
    let (other, s3) = (net.ipv4("other"), net.s3());
    let Sent { verdict: v, .. } = net.send("other", &net.syn("other", other, s3, 40000));
    assert_eq!(v.dropped().map(|d| d.reason), Some(DropReason::NoRoute));
}

#[test]
fn the_internet_reaches_s3_directly_never_through_a_vpcs_endpoint() {
    let mut net = Net::new();
    let (client, s3) = (net.ipv4("client"), net.s3());
    let Sent { verdict: v, trace, .. } = net.send("client", &net.syn("client", client, s3, 40000));
    assert!(matches!(v, Verdict::Deliver(_)));
    assert!(!trace.steps.iter().any(|s| matches!(s, Step::Crossed { component: Component::GatewayEndpoint(_) })));
    assert_eq!(net.fabric.gateway_endpoint_of(6, (IpAddr::V4(s3), 443), (IpAddr::V4(client), 40000)), None);
}

/// The instance metadata service and the time service answer an instance
/// whose security group allows nothing out: a SYN to port 80 gets a SYN-ACK
/// acknowledging it, any other port a reset, an NTP request a server's
/// answer.
#[test]
fn metadata_and_time_answer_whatever_the_security_group_says() {
    let mut net = Net::new();
    let mute = net.ipv4("mute");
    let tcp = |net: &Net, port: u16| {
        let mut f = Vec::new();
        PacketBuilder::ethernet2(net.t.eni(net.eni("mute")).mac, [2, 1, 0, 0, 0, 0])
            .ipv4(mute.octets(), [169, 254, 169, 254], 64)
            .tcp(40000, port, 1000, 64240)
            .syn()
            .write(&mut f, &[])
            .unwrap();
        f
    };
    let Sent { verdict: v, out, .. } = net.send("mute", &tcp(&net, 80));
    assert_eq!(v, Verdict::Answered(net.eni("mute")));
    let p = SlicedPacket::from_ethernet(&out).unwrap();
    let Some(TransportSlice::Tcp(seg)) = p.transport else { panic!("not TCP") };
    assert!(seg.syn() && seg.ack() && !seg.rst(), "a SYN-ACK");
    assert_eq!((seg.source_port(), seg.destination_port(), seg.acknowledgment_number()), (80, 40000, 1001));

    let Sent { verdict: v, out, .. } = net.send("mute", &tcp(&net, 8080));
    assert_eq!(v, Verdict::Answered(net.eni("mute")));
    let p = SlicedPacket::from_ethernet(&out).unwrap();
    let Some(TransportSlice::Tcp(seg)) = p.transport else { panic!("not TCP") };
    assert!(seg.rst(), "a reset from a closed port");

    let mut ntp = Vec::new();
    let mut request = [0u8; 48];
    request[0] = 0x23; // version 4, mode 3 (client)
    request[40..48].copy_from_slice(&[1, 2, 3, 4, 5, 6, 7, 8]);
    PacketBuilder::ethernet2(net.t.eni(net.eni("mute")).mac, [2, 1, 0, 0, 0, 0])
        .ipv4(mute.octets(), [169, 254, 169, 123], 64)
        .udp(40001, 123)
        .write(&mut ntp, &request)
        .unwrap();
    let Sent { verdict: v, out, .. } = net.send("mute", &ntp);
    assert_eq!(v, Verdict::Answered(net.eni("mute")));
    let p = SlicedPacket::from_ethernet(&out).unwrap();
    let answer = p.transport.as_ref().and_then(|_| p.ip_payload()).map(|ip| ip.payload[8..].to_vec()).unwrap();
    assert_eq!(answer[0] & 0x07, 4, "mode 4, a server");
    assert_eq!(&answer[24..32], &[1, 2, 3, 4, 5, 6, 7, 8], "the request's transmit time as originate time");
}
