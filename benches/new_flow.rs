//! The first packet of a new flow: SG egress (rules, then a conntrack insert at
//! the sender's ENI), LPM, NACLs, SG ingress (rules, another insert at the
//! receiver's), with 1k, 100k and 1M flows already live (each flow is two
//! tracked entries, one per ENI).
//!
//! The table grows as the bench runs, so each timed run starts from a copy of
//! the pre-filled fabric and adds at most a tenth of the live flows (at least
//! 1,000) before the next copy; copies are not timed.

use std::hint::black_box;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use vpcsim_bench::frames;
use vpcsim_bench::shapes::{A_V4, B_V4, Shape, two_subnets};
use vpcsim_dataplane::{Fabric, Trace, Verdict};

/// Flow `i`'s ports: distinct for every i below 2^32 / 64,000.
fn ports(i: u64) -> (u16, u16) {
    (1024 + (i % 64_000) as u16, 1 + (i / 64_000) as u16)
}

fn new_flow(c: &mut Criterion) {
    let mut group = c.benchmark_group("new flow");
    group.throughput(Throughput::Elements(1));
    group.sample_size(10);
    group.warm_up_time(Duration::from_millis(500));
    group.measurement_time(Duration::from_secs(3));
    let text = two_subnets(Shape { routes: 10, rules: 10 });
    let t = Arc::new(vpcsim_scenario::load_str(&text, "bench.toml").expect("a valid scenario"));
    let a = t.host(t.host_by_id("a").expect("host a")).eni;
    let mut frame = frames::tcp((t.eni(a).mac, [4; 6]), IpAddr::from(A_V4), IpAddr::from(B_V4), (1, 1), frames::SYN, 0);
    let mut out = Vec::with_capacity(2048);
    let mut trace = Trace::off();
    for live in [1_000u64, 100_000, 1_000_000] {
        let mut base = Fabric::new(Arc::clone(&t)).with_conntrack_capacity(4 << 20);
        for i in 0..live {
            let (s, d) = ports(i);
            frames::set_ports(&mut frame, s, d);
            let v = base.process(Duration::ZERO, a, &frame, &mut out, &mut trace);
            assert!(matches!(v, Verdict::Deliver(_)), "{v:?}");
        }
        let ct = base.conntrack();
        assert_eq!(ct.len() as u64, 2 * live);
        println!(
            "conntrack with {live} live flows: {} entries, {:.1} MB, {:.1} bytes per entry, {:.1} bytes per flow (two entries)",
            ct.len(),
            ct.memory_bytes() as f64 / 1e6,
            ct.memory_bytes() as f64 / ct.len() as f64,
            ct.memory_bytes() as f64 / live as f64,
        );
        let chunk = (live / 10).max(1000);
        let mut next = live;
        group.bench_function(format!("{live} live flows"), |bench| {
            bench.iter_custom(|iters| {
                let mut spent = Duration::ZERO;
                let mut left = iters;
                while left > 0 {
                    let n = left.min(chunk);
                    let mut fabric = base.clone();
                    let start = Instant::now();
                    for _ in 0..n {
                        let (s, d) = ports(next);
                        next += 1;
                        if next >= 2_000_000_000 {
                            next = live;
                        }
                        frames::set_ports(&mut frame, s, d);
                        black_box(fabric.process(Duration::from_secs(1), a, black_box(&frame), &mut out, &mut trace));
                    }
                    spent += start.elapsed();
                    left -= n;
                }
                spent
            })
        });
    }
    group.finish();
}

criterion_group!(benches, new_flow);
criterion_main!(benches);
