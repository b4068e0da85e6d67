//! Forwarding cost through the one pipeline: the floor (parse and copy) and an
//! established IPv4 TCP flow across two subnets (SG egress with tracking, LPM,
//! NACL egress and ingress, SG ingress, rewrite, checksum).

use std::hint::black_box;
use std::sync::Arc;
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use etherparse::PacketBuilder;
use vpcsim_dataplane::{Fabric, Trace, Verdict, packet};

const TWO_SUBNETS: &str = r#"
name = "bench: two subnets"
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
id = "sg-any"
vpc = "vpc-a"
ingress = [ { proto = "all", cidr = "0.0.0.0/0" } ]
[[host]]
id = "a"
subnet = "subnet-1"
security_groups = ["sg-any"]
[[host]]
id = "b"
subnet = "subnet-2"
security_groups = ["sg-any"]
"#;

fn frame(src: [u8; 4], dst: [u8; 4]) -> Vec<u8> {
    let mut f = Vec::new();
    PacketBuilder::ethernet2([2, 0, 0, 0, 0, 0], [2, 1, 0, 0, 0, 0])
        .ipv4(src, dst, 64)
        .tcp(40000, 443, 1, 64240)
        .ack(1)
        .write(&mut f, &[0u8; 64])
        .expect("a frame");
    f
}

fn pipeline(c: &mut Criterion) {
    let t = Arc::new(vpcsim_scenario::load_str(TWO_SUBNETS, "bench.toml").expect("a valid scenario"));
    let a = t.host(t.host_by_id("a").expect("host a")).eni;
    let (a_ip, b_ip) = (t.eni(a).ipv4.octets(), t.eni(t.host(t.host_by_id("b").expect("host b")).eni).ipv4.octets());
    let data = frame(a_ip, b_ip);
    let mut out = Vec::with_capacity(2048);

    let mut group = c.benchmark_group("pipeline");
    group.throughput(Throughput::Elements(1));
    group.bench_function("null (parse + copy)", |bench| {
        bench.iter(|| {
            let parsed = packet::parse(black_box(&data));
            out.clear();
            out.extend_from_slice(&data);
            black_box((&parsed, &out));
        })
    });

    let mut fabric = Fabric::new(Arc::clone(&t));
    let mut trace = Trace::off();
    assert!(matches!(fabric.process(Duration::ZERO, a, &data, &mut out, &mut trace), Verdict::Deliver(_)));
    group.bench_function("established IPv4 flow, two subnets", |bench| {
        bench.iter(|| black_box(fabric.process(Duration::from_secs(1), a, black_box(&data), &mut out, &mut trace)))
    });
    group.finish();
}

criterion_group!(benches, pipeline);
criterion_main!(benches);
