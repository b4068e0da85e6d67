//! A conntrack flood: ten million new flows through one fabric whose
//! connection tracking is bounded. Release mode only (`#[ignore]`d in the
//! debug run): `scripts/conntrack-flood.sh`.
//!
//! It checks that the table never holds more than its bound, that every flow
//! it could not take is counted as refused (and dropped as `conntrack-full`),
//! and that a connection established before the flood keeps working, both
//! ways, throughout. It prints the numbers.

use std::sync::Arc;
use std::time::{Duration, Instant};

use etherparse::PacketBuilder;
use vpcsim_dataplane::{DropReason, Fabric, Trace, Verdict};

const NET: &str = r#"
name = "conntrack flood"

[[vpc]]
id = "vpc-a"
cidr = "10.0.0.0/16"

[[subnet]]
id = "subnet-a"
vpc = "vpc-a"
cidr = "10.0.1.0/24"

[[subnet]]
id = "subnet-b"
vpc = "vpc-a"
cidr = "10.0.2.0/24"

[[security_group]]
id = "sg-open"
vpc = "vpc-a"
ingress = [ { proto = "all", cidr = "0.0.0.0/0" } ]

[[host]]
id = "flooder"
subnet = "subnet-a"
ip = "10.0.1.10"
security_groups = ["sg-open"]
# Spoofs sources, as a flood does.
source_dest_check = false

[[host]]
id = "good"
subnet = "subnet-a"
ip = "10.0.1.20"
security_groups = ["sg-open"]

[[host]]
id = "server"
subnet = "subnet-b"
ip = "10.0.2.20"
security_groups = ["sg-open"]
"#;

fn env(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// Peak resident memory of this process, in kB (Linux), if known.
fn peak_rss_kb() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

#[test]
#[ignore = "ten million flows: release mode, run by scripts/conntrack-flood.sh"]
fn ten_million_new_tcp_flows_keep_conntrack_bounded_and_established_flows_working() {
    // 1 µs apart: ten million flows in ten simulated seconds, none expires.
    flood(false, Duration::from_micros(1));
}

#[test]
#[ignore = "ten million flows: release mode, run by scripts/conntrack-flood.sh"]
fn ten_million_new_udp_flows_expire_and_make_room_within_the_bound() {
    // 10 µs apart: a hundred simulated seconds, so UDP flows (30 s) expire and
    // sweeps make room for new ones.
    flood(true, Duration::from_micros(10));
}

fn flood(udp: bool, step: Duration) {
    let flows = env("FLOOD_FLOWS", 10_000_000);
    let capacity = env("FLOOD_CAPACITY", 100_000) as usize;
    let t = Arc::new(vpcsim_scenario::load_str(NET, "flood.toml").unwrap_or_else(|e| panic!("{e}")));
    let eni = |h: &str| t.host(t.host_by_id(h).unwrap()).eni;
    let (flooder, good, server) = (eni("flooder"), eni("good"), eni("server"));
    let mut fabric = Fabric::new(Arc::clone(&t)).with_conntrack_capacity(capacity);
    let rss_before = peak_rss_kb();

    let tcp = |src: [u8; 4], dst: [u8; 4], sp: u16, dp: u16, syn: bool, out: &mut Vec<u8>| {
        out.clear();
        let b = PacketBuilder::ethernet2([2; 6], [2, 1, 0, 0, 0, 0]).ipv4(src, dst, 64).tcp(sp, dp, 1, 1000);
        let b = if syn { b.syn() } else { b.ack(1) };
        b.write(out, &[]).unwrap();
    };
    let mut frame = Vec::new();
    let mut out = Vec::new();
    let mut trace = Trace::off();
    let mut now = Duration::ZERO;

    // The established connection, before the flood.
    tcp([10, 0, 1, 20], [10, 0, 2, 20], 50000, 443, true, &mut frame);
    assert_eq!(fabric.process(now, good, &frame, &mut out, &mut trace), Verdict::Deliver(server));
    tcp([10, 0, 2, 20], [10, 0, 1, 20], 443, 50000, true, &mut frame);
    assert_eq!(fabric.process(now, server, &frame, &mut out, &mut trace), Verdict::Deliver(good));

    let start = Instant::now();
    let (mut delivered, mut full, mut established_ok, mut max_len) = (0u64, 0u64, 0u64, 0usize);
    for i in 0..flows {
        now += step;
        let src = [100 + (i >> 24) as u8, (i >> 16) as u8, (i >> 8) as u8, i as u8];
        if udp {
            frame.clear();
            PacketBuilder::ethernet2([2; 6], [2, 1, 0, 0, 0, 0])
                .ipv4(src, [10, 0, 2, 20], 64)
                .udp(1024 + (i % 60_000) as u16, 53)
                .write(&mut frame, b"q")
                .unwrap();
        } else {
            tcp(src, [10, 0, 2, 20], 1024 + (i % 60_000) as u16, 80, true, &mut frame);
        }
        match fabric.process(now, flooder, &frame, &mut out, &mut trace) {
            Verdict::Deliver(_) => delivered += 1,
            v if v.dropped().map(|d| d.reason) == Some(DropReason::ConntrackFull) => full += 1,
            v => panic!("flow {i}: {v:?}"),
        }
        if i % 10_000 == 0 {
            max_len = max_len.max(fabric.conntrack().len());
            assert!(fabric.conntrack().len() <= capacity);
            tcp([10, 0, 1, 20], [10, 0, 2, 20], 50000, 443, false, &mut frame);
            assert_eq!(
                fabric.process(now, good, &frame, &mut out, &mut trace),
                Verdict::Deliver(server),
                "at flow {i}"
            );
            tcp([10, 0, 2, 20], [10, 0, 1, 20], 443, 50000, false, &mut frame);
            assert_eq!(
                fabric.process(now, server, &frame, &mut out, &mut trace),
                Verdict::Deliver(good),
                "at flow {i}"
            );
            established_ok += 1;
        }
    }
    let took = start.elapsed();
    let stats = fabric.conntrack().stats;
    let rss_after = peak_rss_kb();
    println!(
        "flood ({}): {flows} new flows, {step:?} apart, capacity {capacity}: {delivered} delivered, {full} dropped conntrack-full; \
         conntrack len {} (max seen {max_len}), stats {stats:?}; established flow checked {established_ok} times, \
         always delivered; {took:?} ({:.0} flows/s); peak RSS {:?} kB before, {:?} kB after",
        if udp { "udp" } else { "tcp" },
        fabric.conntrack().len(),
        flows as f64 / took.as_secs_f64(),
        rss_before,
        rss_after,
    );
    assert!(fabric.conntrack().len() <= capacity);
    // Every refusal is counted, and is exactly one conntrack-full drop.
    assert_eq!(stats.refused, full);
    assert!(full > 0, "the flood did fill the table");
    assert_eq!(fabric.counters().dropped(DropReason::ConntrackFull), full);
}
