//! One probe of `vpcsim check` in organisations of 1k, 10k and 100k hosts:
//! the time of an isolated probe (a fresh simulation over the compiled
//! topology, the hosts it touches started, a TCP handshake or a drop at a
//! security group), which must not grow with the network. The generated
//! expectations alternate a connected tcp/443 and an sg-ingress drop of
//! tcp/22 inside one VPC; the bench cycles through them. A second group does
//! the same with every VPC on one transit gateway (half the probes across
//! VPCs).

use std::hint::black_box;
use std::sync::Arc;
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use vpcsim_bench::Org;
use vpcsim_dataplane::Compiled;
use vpcsim_engine::{ProbeSpec, SimConfig, run_probe_on};

fn probes(c: &mut Criterion, transit_gateway: bool) {
    let name = if transit_gateway { "check probe, one transit gateway" } else { "check probe" };
    let mut group = c.benchmark_group(name);
    group.throughput(Throughput::Elements(1));
    group.sample_size(20);
    group.warm_up_time(Duration::from_millis(500));
    group.measurement_time(Duration::from_secs(3));
    for vpcs in [10usize, 100, 1000] {
        let org = Org { vpcs, expects: 1000, transit_gateway, ..Org::default() };
        let text = org.to_toml().expect("an organisation that fits");
        let t = Arc::new(vpcsim_scenario::load_str(&text, "org.toml").expect("a valid scenario"));
        let compiled = Compiled::new(Arc::clone(&t));
        let specs: Vec<ProbeSpec> = t.expectations.iter().map(ProbeSpec::from).collect();
        let mut next = 0;
        group.bench_function(format!("{} hosts", org.hosts()), |b| {
            b.iter(|| {
                let outcome = run_probe_on(&compiled, &specs[next % specs.len()], SimConfig::default());
                next += 1;
                black_box(outcome.result)
            })
        });
    }
    group.finish();
}

fn check_probe(c: &mut Criterion) {
    probes(c, false);
    probes(c, true);
}

criterion_group!(benches, check_probe);
criterion_main!(benches);
