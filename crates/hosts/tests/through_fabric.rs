//! Virtual hosts talking through the real data plane: every frame a host sends
//! goes through `Fabric::process`, and what the fabric delivers (or answers:
//! ARP, neighbour discovery) arrives at the right host 100 µs later. A tiny
//! event loop, for the tests only, advances simulated time to the next
//! delivery or the next timer of a host.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use vpcsim_dataplane::{DropReason, Fabric, Trace, Verdict};
use vpcsim_hosts::{HostConfig, ProbeId, ProbeStatus, VirtualHost};
use vpcsim_model::{EniIdx, EniOwner, HostIdx, Topology};

const NET: &str = r#"
name = "hosts fixture"
seed = 42

[[vpc]]
id = "vpc-app"
cidr = "10.0.0.0/16"
ipv6_cidr = "2600:1f18:aa:100::/56"

[[internet_gateway]]
id = "igw-main"
vpc = "vpc-app"

[[route_table]]
id = "rtb-public"
vpc = "vpc-app"
routes = [
  { dest = "0.0.0.0/0", target = "igw-main" },
  { dest = "::/0", target = "igw-main" },
]

[[subnet]]
id = "subnet-web"
vpc = "vpc-app"
cidr = "10.0.1.0/24"
ipv6_cidr = "2600:1f18:aa:101::/64"
route_table = "rtb-public"

[[subnet]]
id = "subnet-db"
vpc = "vpc-app"
cidr = "10.0.2.0/24"
ipv6_cidr = "2600:1f18:aa:102::/64"

[[security_group]]
id = "sg-open"
vpc = "vpc-app"
ingress = [ { proto = "all", cidr = "0.0.0.0/0" }, { proto = "all", cidr = "::/0" } ]

# No ingress rule: nothing gets in.
[[security_group]]
id = "sg-closed"
vpc = "vpc-app"

[[host]]
id = "web"
subnet = "subnet-web"
ip = "10.0.1.10"
ipv6 = "2600:1f18:aa:101::10"
public_ip = "54.0.0.10"
security_groups = ["sg-open"]
listen = ["tcp/80", "udp/53"]

[[host]]
id = "db"
subnet = "subnet-db"
ip = "10.0.2.20"
ipv6 = "2600:1f18:aa:102::20"
security_groups = ["sg-open"]
listen = ["tcp/5432"]

[[host]]
id = "locked"
subnet = "subnet-db"
ip = "10.0.2.30"
security_groups = ["sg-closed"]
listen = ["tcp/22"]

[[host]]
id = "db2"
subnet = "subnet-db"
ip = "10.0.2.21"
ipv6 = "2600:1f18:aa:102::21"
security_groups = ["sg-open"]

[[host]]
id = "client"
internet = true
ip = "198.51.100.7"
ipv6 = "2001:db8::7"

[[host]]
id = "v6only"
internet = true
ip = "2001:db8:1::1"
"#;

/// How long the fabric takes to carry a frame.
const HOP: Duration = Duration::from_micros(100);

/// One frame a host sent: when, who, the bytes.
type Sent = (Duration, usize, Vec<u8>);

/// The test's event loop: hosts, the fabric between them, and frames in flight.
struct Sim {
    t: Arc<Topology>,
    fabric: Fabric,
    hosts: Vec<VirtualHost>,
    /// The host of each ENI.
    eni_host: Vec<usize>,
    now: Duration,
    /// Frames in flight: (arrival, sequence) → (host, frame).
    in_flight: BTreeMap<(Duration, u64), (usize, Vec<u8>)>,
    seq: u64,
    /// Every frame every host sent, in order.
    log: Vec<Sent>,
}

impl Sim {
    fn new() -> Sim {
        Sim::from(NET)
    }

    fn from(src: &str) -> Sim {
        let t = Arc::new(vpcsim_scenario::load_str(src, "hosts.toml").unwrap_or_else(|e| panic!("{e}")));
        let hosts = (0..t.hosts.len())
            .map(|i| VirtualHost::new(HostConfig::for_host(&t, HostIdx::from_index(i), 1500), Duration::ZERO))
            .collect();
        let eni_host = t
            .enis
            .iter()
            .map(|e| match e.owner {
                EniOwner::Host(h) => h.index(),
                // Endpoint ENIs forward; nothing is delivered to them.
                EniOwner::InterfaceEndpoint(_) | EniOwner::LoadBalancer(_) | EniOwner::NatGateway(_) => usize::MAX,
            })
            .collect();
        Sim {
            fabric: Fabric::new(Arc::clone(&t)),
            t,
            hosts,
            eni_host,
            now: Duration::ZERO,
            in_flight: BTreeMap::new(),
            seq: 0,
            log: Vec::new(),
        }
    }

    fn idx(&self, host: &str) -> usize {
        self.t.host_by_id(host).unwrap_or_else(|| panic!("no host {host}")).index()
    }

    fn host(&mut self, host: &str) -> &mut VirtualHost {
        let i = self.idx(host);
        &mut self.hosts[i]
    }

    fn ip(&self, host: &str) -> IpAddr {
        let h = self.t.host(HostIdx::from_index(self.idx(host)));
        IpAddr::V4(self.t.eni(h.eni).ipv4)
    }

    fn ipv6(&self, host: &str) -> IpAddr {
        let h = self.t.host(HostIdx::from_index(self.idx(host)));
        IpAddr::V6(self.t.eni(h.eni).ipv6.expect("an IPv6 address"))
    }

    fn send(&mut self, from: usize, frame: Vec<u8>) {
        let eni: EniIdx = self.t.host(HostIdx::from_index(from)).eni;
        let mut out = Vec::new();
        let to = match self.fabric.process(self.now, eni, &frame, &mut out, &mut Trace::off()) {
            Verdict::Deliver(e) => Some(self.eni_host[e.index()]),
            Verdict::Reply(e) | Verdict::Bounce(_, e) | Verdict::Answered(e) => Some(self.eni_host[e.index()]),
            Verdict::Drop(_) | Verdict::Absorbed => None,
        };
        self.log.push((self.now, from, frame));
        if let Some(to) = to {
            self.seq += 1;
            self.in_flight.insert((self.now + HOP, self.seq), (to, out));
        }
    }

    /// Runs until `done` holds or `limit` (absolute simulated time) passes;
    /// returns whether `done` held.
    fn run_until(&mut self, limit: Duration, done: impl Fn(&Sim) -> bool) -> bool {
        let mut same_instant = 0;
        loop {
            while let Some(entry) = self.in_flight.first_entry() {
                if entry.key().0 > self.now {
                    break;
                }
                let (to, frame) = entry.remove();
                self.hosts[to].receive(frame);
            }
            for i in 0..self.hosts.len() {
                self.hosts[i].poll(self.now);
                for frame in self.hosts[i].take_transmitted() {
                    self.send(i, frame);
                }
            }
            if done(self) {
                return true;
            }
            let now = self.now;
            let next = self
                .hosts
                .iter_mut()
                .filter_map(|h| h.poll_at(now))
                .chain(self.in_flight.keys().next().map(|k| k.0))
                .min();
            match next {
                Some(next) if next <= limit => {
                    if next <= self.now {
                        same_instant += 1;
                        assert!(same_instant < 100, "hosts keep asking for a poll at {:?}", self.now);
                    } else {
                        same_instant = 0;
                        self.now = next;
                    }
                }
                _ => {
                    self.now = self.now.max(limit);
                    return done(self);
                }
            }
        }
    }

    /// Runs for `d` of simulated time from now, or until every probe is settled.
    fn settle(&mut self, host: &str, probes: &[ProbeId], d: Duration) {
        let h = self.idx(host);
        let probes = probes.to_vec();
        let limit = self.now + d;
        self.run_until(limit, |s| probes.iter().all(|&p| s.hosts[h].probe_status(p) != ProbeStatus::Pending));
    }
}

const SECOND: Duration = Duration::from_secs(1);

#[test]
fn tcp_connects_across_subnets_and_the_server_counts_it() {
    let mut sim = Sim::new();
    let db = sim.ip("db");
    let p = sim.host("web").tcp_connect(db, 5432);
    sim.settle("web", &[p], SECOND);
    assert_eq!(sim.host("web").probe_status(p), ProbeStatus::Connected);
    // The server side completes its handshake with the final ACK.
    sim.run_until(sim.now + SECOND, |_| false);
    assert_eq!(sim.host("db").stats().connections_accepted, 1);

    // The server echoes what it receives.
    assert_eq!(sim.host("web").tcp_send(p, b"hello db"), 8);
    sim.run_until(sim.now + SECOND, |s| s.hosts[s.idx("web")].tcp_received(p) == b"hello db");
    assert_eq!(sim.host("web").tcp_received(p), b"hello db");
    let db_stats = sim.host("db").stats();
    assert_eq!((db_stats.server_bytes_received, db_stats.server_bytes_sent), (8, 8));
}

#[test]
fn tcp_to_a_port_nobody_listens_on_is_refused() {
    let mut sim = Sim::new();
    let db = sim.ip("db");
    let p = sim.host("web").tcp_connect(db, 9999);
    sim.settle("web", &[p], SECOND);
    assert_eq!(sim.host("web").probe_status(p), ProbeStatus::Refused);
    assert_eq!(sim.host("db").stats().connections_accepted, 0);
}

#[test]
fn udp_is_echoed_and_a_closed_port_answers_unreachable() {
    let mut sim = Sim::new();
    let web = sim.ip("web");
    let echo = sim.host("db").udp_probe(web, 53, b"query");
    let closed = sim.host("db").udp_probe(web, 54, b"nobody");
    sim.settle("db", &[echo, closed], SECOND);
    assert_eq!(sim.host("db").probe_status(echo), ProbeStatus::Replied);
    assert_eq!(sim.host("db").probe_status(closed), ProbeStatus::Unreachable);
    let stats = sim.host("web").stats();
    assert_eq!((stats.datagrams_echoed, stats.server_bytes_sent), (1, 5));
}

#[test]
fn ping_is_answered_over_ipv4_and_ipv6() {
    let mut sim = Sim::new();
    let (db4, db6) = (sim.ip("db"), sim.ipv6("db"));
    let now = sim.now;
    let v4 = sim.host("web").ping(now, db4);
    let v6 = sim.host("web").ping(now, db6);
    assert_ne!(sim.host("web").probe_local_port(v4), sim.host("web").probe_local_port(v6), "one identifier per ping");
    sim.settle("web", &[v4, v6], SECOND);
    assert_eq!(sim.host("web").probe_status(v4), ProbeStatus::Replied);
    assert_eq!(sim.host("web").probe_status(v6), ProbeStatus::Replied);
}

#[test]
fn a_listener_accepts_five_concurrent_connections() {
    let mut sim = Sim::new();
    let db = sim.ip("db");
    let probes: Vec<ProbeId> = (0..5).map(|_| sim.host("web").tcp_connect(db, 5432)).collect();
    sim.settle("web", &probes, SECOND);
    for &p in &probes {
        assert_eq!(sim.host("web").probe_status(p), ProbeStatus::Connected, "probe {p}");
    }
    sim.run_until(sim.now + SECOND, |_| false);
    assert_eq!(sim.host("db").stats().connections_accepted, 5);
    // Each connection is its own: each gets its own bytes back.
    for &p in &probes {
        let msg = format!("connection {p}");
        sim.host("web").tcp_send(p, msg.as_bytes());
    }
    sim.run_until(sim.now + SECOND, |_| false);
    for &p in &probes {
        assert_eq!(sim.host("web").tcp_received(p), format!("connection {p}").as_bytes());
    }
}

#[test]
fn tcp_connects_over_ipv6() {
    let mut sim = Sim::new();
    let db6 = sim.ipv6("db");
    let p = sim.host("web").tcp_connect(db6, 5432);
    sim.settle("web", &[p], SECOND);
    assert_eq!(sim.host("web").probe_status(p), ProbeStatus::Connected);
}

#[test]
fn a_security_group_that_blocks_leaves_the_probe_pending() {
    let mut sim = Sim::new();
    let locked = sim.ip("locked");
    let now = sim.now;
    let p = sim.host("web").tcp_connect(locked, 22);
    sim.run_until(now + 3 * SECOND, |_| false);
    assert_eq!(sim.host("web").probe_status(p), ProbeStatus::Pending);
    assert!(sim.now >= now + 3 * SECOND);
    assert_eq!(sim.host("locked").stats().connections_accepted, 0);
    assert!(sim.fabric.counters().dropped(DropReason::SgIngress) >= 2, "the SYN and its retransmission died");
    // The client retransmitted its SYN meanwhile.
    let web = sim.idx("web");
    let syns = sim.log.iter().filter(|(_, h, f)| *h == web && f.get(12..14) == Some(&[8, 0]) && f.get(23) == Some(&6));
    assert!(syns.count() >= 2);
}

#[test]
fn the_internet_reaches_a_public_ip_and_pings_ipv6() {
    let mut sim = Sim::new();
    let now = sim.now;
    let public: IpAddr = "54.0.0.10".parse().expect("an address");
    let web6 = sim.ipv6("web");
    let tcp = sim.host("client").tcp_connect(public, 80);
    let ping = sim.host("client").ping(now, web6);
    sim.settle("client", &[tcp, ping], SECOND);
    assert_eq!(sim.host("client").probe_status(tcp), ProbeStatus::Connected);
    assert_eq!(sim.host("client").probe_status(ping), ProbeStatus::Replied);
}

/// One exchange of every kind; returns every frame sent, in order.
fn exchange() -> Vec<Sent> {
    let mut sim = Sim::new();
    let (db, db6, web) = (sim.ip("db"), sim.ipv6("db"), sim.ip("web"));
    let now = sim.now;
    let tcp = sim.host("web").tcp_connect(db, 5432);
    let tcp6 = sim.host("web").tcp_connect(db6, 5432);
    let udp = sim.host("db").udp_probe(web, 53, b"determinism");
    let ping = sim.host("web").ping(now, db6);
    sim.settle("web", &[tcp, tcp6, ping], SECOND);
    sim.host("web").tcp_send(tcp, b"same bytes every time");
    sim.run_until(sim.now + 2 * SECOND, |_| false);
    assert_eq!(sim.host("db").probe_status(udp), ProbeStatus::Replied);
    assert_eq!(sim.host("web").tcp_received(tcp), b"same bytes every time");
    sim.log
}

#[test]
fn the_same_exchange_sends_byte_identical_frames() {
    let first = exchange();
    let second = exchange();
    assert!(first.len() > 20, "a real exchange: {} frames", first.len());
    assert_eq!(first.len(), second.len());
    for (i, (a, b)) in first.iter().zip(&second).enumerate() {
        assert_eq!(a, b, "frame {i} differs");
    }
}

#[test]
fn ephemeral_ports_are_linux_ones_and_differ() {
    let mut sim = Sim::new();
    let db = sim.ip("db");
    let a = sim.host("web").tcp_connect(db, 5432);
    let b = sim.host("web").tcp_connect(db, 5432);
    let u = sim.host("web").udp_probe(db, 5432, b"x");
    let ports: Vec<u16> = [a, b, u].iter().map(|&p| sim.host("web").probe_local_port(p)).collect();
    for &port in &ports {
        assert!((32768..=60999).contains(&port), "port {port}");
    }
    assert_ne!(ports[0], ports[1]);
    // The handshakes really use them: the server sees two connections.
    sim.settle("web", &[a, b], SECOND);
    assert_eq!(sim.host("web").probe_status(a), ProbeStatus::Connected);
    assert_eq!(sim.host("web").probe_status(b), ProbeStatus::Connected);
}

#[test]
fn hosts_of_different_seeds_pick_different_ports() {
    let mut sim = Sim::new();
    let db = sim.ip("db");
    let a = sim.host("web").tcp_connect(db, 5432);
    let b = sim.host("client").tcp_connect(db, 5432);
    assert_ne!(sim.host("web").probe_local_port(a), sim.host("client").probe_local_port(b));
}

#[test]
fn on_link_peers_get_their_first_reply() {
    // smoltcp drops a reply it generates itself (echo reply, RST) when the
    // peer's MAC is unknown; the host learns it from the request.
    let mut sim = Sim::new();
    let (db4, db6) = (sim.ip("db"), sim.ipv6("db"));
    let now = sim.now;
    let v4 = sim.host("db2").ping(now, db4);
    let v6 = sim.host("db2").ping(now, db6);
    let rst = sim.host("db2").tcp_connect(db4, 1);
    // smoltcp solicits one unknown neighbour per second: the IPv6 one waits.
    sim.settle("db2", &[v4, v6, rst], 2 * SECOND);
    assert_eq!(sim.host("db2").probe_status(v4), ProbeStatus::Replied);
    assert_eq!(sim.host("db2").probe_status(v6), ProbeStatus::Replied);
    assert_eq!(sim.host("db2").probe_status(rst), ProbeStatus::Refused);
}

#[test]
fn replies_still_come_after_the_neighbour_cache_would_have_expired() {
    let mut sim = Sim::new();
    let (db, db6) = (sim.ip("db"), sim.ipv6("db"));
    let now = sim.now;
    let first = sim.host("web").ping(now, db);
    sim.settle("web", &[first], SECOND);
    assert_eq!(sim.host("web").probe_status(first), ProbeStatus::Replied);
    // Idle for two minutes: smoltcp forgets neighbours after one.
    sim.run_until(sim.now + 120 * SECOND, |_| false);
    let now = sim.now;
    let ping = sim.host("web").ping(now, db);
    let ping6 = sim.host("web").ping(now, db6);
    let refused = sim.host("web").tcp_connect(db, 1);
    sim.settle("web", &[ping, ping6, refused], SECOND);
    assert_eq!(sim.host("web").probe_status(ping), ProbeStatus::Replied);
    assert_eq!(sim.host("web").probe_status(ping6), ProbeStatus::Replied);
    assert_eq!(sim.host("web").probe_status(refused), ProbeStatus::Refused);
}

#[test]
fn an_ipv6_only_internet_host_reaches_a_vpc_host() {
    let mut sim = Sim::new();
    let web6 = sim.ipv6("web");
    let cfg = sim.host("v6only").config().clone();
    assert!(cfg.ipv4.0.is_unspecified());
    assert_eq!(cfg.ipv6.map(|v| v.2), Some("2001:db8:1::2".parse().expect("an address")), "base + 1 is the host");
    let now = sim.now;
    let tcp = sim.host("v6only").tcp_connect(web6, 80);
    let ping = sim.host("v6only").ping(now, web6);
    sim.settle("v6only", &[tcp, ping], SECOND);
    assert_eq!(sim.host("v6only").probe_status(tcp), ProbeStatus::Connected);
    assert_eq!(sim.host("v6only").probe_status(ping), ProbeStatus::Replied);
}
