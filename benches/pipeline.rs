//! Forwarding cost through the one pipeline, per packet: the floor (parse and
//! copy) and an established TCP flow across two subnets (SG egress with
//! tracking, LPM, NACL egress and ingress, SG ingress, rewrite, checksum),
//! IPv4 and IPv6, with 10 and 1,000 rules per NACL / security group direction.
//! The flow matches only the last rules. Scenarios come from
//! `vpcsim_bench::shapes`, loaded with `vpcsim_scenario::load_str`.

use std::hint::black_box;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use vpcsim_bench::frames;
use vpcsim_bench::shapes::{A_V4, A_V6, B_V4, B_V6, Shape, two_subnets};
use vpcsim_dataplane::{Fabric, Trace, Verdict, packet};

fn pipeline(c: &mut Criterion) {
    let mut group = c.benchmark_group("pipeline");
    group.throughput(Throughput::Elements(1));
    group.warm_up_time(Duration::from_millis(500));
    group.measurement_time(Duration::from_secs(2));

    let v4 = frames::tcp(([2; 6], [4; 6]), A_V4.into(), B_V4.into(), (40000, 443), frames::ACK, 64);
    let mut out = Vec::with_capacity(2048);
    group.bench_function("null (parse + copy)", |bench| {
        bench.iter(|| {
            let parsed = packet::parse(black_box(&v4));
            out.clear();
            out.extend_from_slice(&v4);
            black_box((&parsed, &out));
        })
    });

    for rules in [10, 1000] {
        let text = two_subnets(Shape { routes: 10, rules });
        let t = Arc::new(vpcsim_scenario::load_str(&text, "bench.toml").expect("a valid scenario"));
        let a = t.host(t.host_by_id("a").expect("host a")).eni;
        let mac = t.eni(a).mac;
        for (family, src, dst) in
            [("IPv4", IpAddr::from(A_V4), IpAddr::from(B_V4)), ("IPv6", IpAddr::from(A_V6), IpAddr::from(B_V6))]
        {
            let data = frames::tcp((mac, [4; 6]), src, dst, (40000, 443), frames::ACK, 64);
            let mut fabric = Fabric::new(Arc::clone(&t));
            let mut trace = Trace::off();
            let v = fabric.process(Duration::ZERO, a, &data, &mut out, &mut trace);
            assert!(matches!(v, Verdict::Deliver(_)), "{v:?}");
            group.bench_function(format!("established {family} flow, {rules} rules"), |bench| {
                bench.iter(|| {
                    black_box(fabric.process(Duration::from_secs(1), a, black_box(&data), &mut out, &mut trace))
                })
            });
        }
    }
    group.finish();
}

criterion_group!(benches, pipeline);
criterion_main!(benches);
