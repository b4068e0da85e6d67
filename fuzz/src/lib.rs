//! The bodies of vpcsim's fuzz targets, shared by the cargo-fuzz binaries
//! (`fuzz_targets/`) and by the corpus replay tests (`tests/replay.rs`), which
//! run on stable: `cargo test --manifest-path fuzz/Cargo.toml`.
//!
//! Each function takes any bytes and must return without panicking.

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use vpcsim_dataplane::{Fabric, Trace};
use vpcsim_model::EniIdx;

/// A small fabric with every kind of ENI the pipeline treats differently: two
/// VPC subnets behind a NACL, an IPv6 subnet, an internet gateway with a public
/// IP, a middlebox with its source/destination check off, an internet host, a
/// gateway endpoint and an interface endpoint to AWS services.
pub const FABRIC: &str = include_str!("fabric.toml");

fn fabric() -> &'static Fabric {
    static FABRIC_ONCE: OnceLock<Fabric> = OnceLock::new();
    FABRIC_ONCE.get_or_init(|| {
        let t = vpcsim_scenario::load_str(FABRIC, "fabric.toml").unwrap_or_else(|e| panic!("{e}"));
        Fabric::new(Arc::new(t)).with_conntrack_capacity(64)
    })
}

/// Any bytes as frames through the one pipeline: the input is a sequence of
/// `[eni, len, bytes of that length]` records (the last one takes what is
/// left); each frame goes through a fresh copy of the fabric at its ENI
/// (the selector modulo the number of ENIs, plus one ENI that does not
/// exist), in order, so earlier frames open the flows later ones ride. The
/// trace is on and rendered. Then every record is also sent from every ENI.
pub fn frame(data: &[u8]) {
    let mut fab = fabric().clone();
    let n = fab.topology().enis.len();
    let mut out = Vec::new();
    let mut records = Vec::new();
    let mut rest = data;
    while let [eni, len, tail @ ..] = rest {
        let len = usize::from(*len).min(tail.len());
        let len = if records.len() >= 7 { tail.len() } else { len };
        records.push((usize::from(*eni) % (n + 1), &tail[..len]));
        rest = &tail[len..];
    }
    for (i, &(eni, frame)) in records.iter().enumerate() {
        let mut trace = Trace::on();
        let _ =
            fab.process(Duration::from_millis(i as u64 * 500), EniIdx::from_index(eni), frame, &mut out, &mut trace);
        let _ = trace.render(fab.topology());
        // Whatever came out parses and prints.
        if let Ok(vpcsim_dataplane::packet::Parsed::Ip(meta)) = vpcsim_dataplane::packet::parse(&out) {
            let _ = meta.to_string();
        }
    }
    for &(_, frame) in &records {
        for e in 0..n {
            let _ = fab.process(Duration::from_secs(1000), EniIdx::from_index(e), frame, &mut out, &mut Trace::off());
        }
    }
}

/// Any text to the scenario loader (invalid UTF-8 lossily converted, as a
/// file read with errors replaced would be); errors are rendered.
pub fn scenario(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    if let Err(d) = vpcsim_scenario::load_str(&text, "fuzz.toml") {
        let _ = d.to_string();
    }
}

/// The most a `simulate` input may ask for: beyond these it is only loaded,
/// so the fuzzer spends its time on many small simulations, not a few long
/// ones (the limits themselves are the `hostile` corpus's subject).
const SIMULATE_HOSTS: usize = 64;
const SIMULATE_EXPECTATIONS: usize = 16;
const SIMULATE_REQUESTS: u32 = 64;
const SIMULATE_RECORDS: usize = 2_000;

/// Any text to the scenario loader, as `scenario` does; a valid scenario of
/// modest size is then simulated: every expectation through `check` (its
/// report and story rendered) and its flows through `run` with capture on
/// (every pcap read back), with at most [`SIMULATE_RECORDS`] frames recorded.
/// Returns how many probes ran, so tests can see how deep an input went.
pub fn simulate(data: &[u8]) -> usize {
    let text = String::from_utf8_lossy(data);
    let t = match vpcsim_scenario::load_str(&text, "fuzz.toml") {
        Ok(t) => Arc::new(t),
        Err(d) => {
            let _ = d.to_string();
            return 0;
        }
    };
    let requests: u32 = t.flows.iter().map(|f| f.requests).sum();
    if t.hosts.len() > SIMULATE_HOSTS || t.expectations.len() > SIMULATE_EXPECTATIONS || requests > SIMULATE_REQUESTS {
        return 0;
    }
    let config = vpcsim_engine::SimConfig { max_records: SIMULATE_RECORDS, ..vpcsim_engine::SimConfig::default() };
    let reports = vpcsim_engine::check(&t, config);
    for report in &reports {
        let _ = report.outcome.render();
        let _ = report.outcome.summary();
    }
    let report = vpcsim_engine::run(&t, vpcsim_engine::SimConfig { capture: true, ..config }, |_, _| {});
    let names = vpcsim_engine::pcap::file_names(&t, report.sim.captures().keys().copied());
    assert_eq!(names.len(), report.sim.captures().len(), "two segments share a pcap name");
    for capture in report.sim.captures().values() {
        let frames = vpcsim_engine::pcap::read(capture.bytes()).expect("a capture reads back");
        assert_eq!(frames.len() as u64, capture.frames(), "a capture lost frames");
    }
    reports.len()
}

/// Any bytes as a DNS query and as a DNS response.
pub fn dns(data: &[u8]) {
    let _ = vpcsim_dns::parse_query(data).map_err(|e| e.to_string());
    let _ = vpcsim_dns::parse_response(data).map_err(|e| e.to_string());
}

/// Any text as an endpoint policy document; errors are rendered.
pub fn policy(data: &[u8]) {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = vpcsim_policy::Policy::parse(text).map_err(|e| e.to_string());
    }
}

/// A fabric with a Gateway Load Balancer: the bundled inspection scenario
/// (two appliances behind the load balancer, an endpoint in the application
/// VPC). Returns the fabric, an appliance's ENI and the load balancer's node.
fn geneve_fabric() -> &'static (Fabric, EniIdx, EniIdx) {
    static ONCE: OnceLock<(Fabric, EniIdx, EniIdx)> = OnceLock::new();
    ONCE.get_or_init(|| {
        let text = include_str!("../../scenarios/gwlb-inspection.toml");
        let t = vpcsim_scenario::load_str(text, "gwlb-inspection.toml").unwrap_or_else(|e| panic!("{e}"));
        let appliance = t.host(t.host_by_id("firewall1").expect("the scenario has firewall1")).eni;
        let node = *t.load_balancers.first().and_then(|lb| lb.nodes.first()).expect("the load balancer has a node");
        (Fabric::new(Arc::new(t)).with_conntrack_capacity(64), appliance, node)
    })
}

/// Any bytes as a GENEVE message: to the parser on its own (whatever it reads
/// must encapsulate and read back the same), then as the UDP payload an
/// appliance returns to the Gateway Load Balancer's node, both to port 6081
/// and as an echo from it, through the one pipeline with the trace on.
/// Returns the two verdicts, so tests can see how deep an input went.
pub fn geneve(data: &[u8]) -> Vec<vpcsim_dataplane::Verdict> {
    use vpcsim_dataplane::geneve as gwlb;
    if let Some((endpoint, inner)) = gwlb::decapsulate(data) {
        let mut again = Vec::new();
        gwlb::encapsulate(endpoint, 0, inner, inner.first().map(|b| b >> 4) == Some(4), &mut again);
        assert_eq!(gwlb::decapsulate(&again), Some((endpoint, inner)), "GENEVE does not read back what it wrote");
    }
    let (fabric, appliance, node) = geneve_fabric();
    let mut fab = fabric.clone();
    let (a, n) = (fab.topology().eni(*appliance), fab.topology().eni(*node));
    let (a_mac, a_ip, n_mac, n_ip) = (a.mac, a.ipv4.octets(), n.mac, n.ipv4.octets());
    let mut out = Vec::new();
    let mut verdicts = Vec::new();
    for (i, (src, dst)) in [(gwlb::GENEVE_PORT, gwlb::GENEVE_PORT), (gwlb::GENEVE_PORT, 0xc123)].into_iter().enumerate()
    {
        let mut frame = Vec::with_capacity(data.len() + 42);
        let built = etherparse::PacketBuilder::ethernet2(a_mac, n_mac)
            .ipv4(a_ip, n_ip, 64)
            .udp(src, dst)
            .write(&mut frame, data.get(..1400).unwrap_or(data));
        if built.is_err() {
            continue;
        }
        let mut trace = Trace::on();
        verdicts.push(fab.process(Duration::from_millis(i as u64), *appliance, &frame, &mut out, &mut trace));
        let _ = trace.render(fab.topology());
    }
    verdicts
}

/// The ENI of a host of the Gateway Load Balancer fixture, for tests.
pub fn geneve_fixture_eni(host: &str) -> Option<EniIdx> {
    let t = geneve_fabric().0.topology();
    Some(t.host(t.host_by_id(host)?).eni)
}
