//! The cost of one `check` probe in a generated organisation, for profiling:
//! loads `--vpcs V` VPCs of 100 hosts, then runs `--probes N` probes cycling
//! through 1,000 generated expectations and prints the time per probe.
//! Under callgrind, `--toggle-collect='probe_cost::timed*'` counts the timed
//! probes alone.
//!
//! `cargo run --release -p vpcsim-bench --example probe_cost -- --vpcs 1000 --probes 10000 [--transit-gateway]`

use std::sync::Arc;
use std::time::Instant;

use vpcsim_bench::Org;
use vpcsim_dataplane::Compiled;
use vpcsim_engine::{ProbeSpec, SimConfig, run_probe_on};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let value = |name: &str, default: usize| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .map_or(default, |v| v.parse().unwrap_or_else(|_| panic!("{name} takes a whole number, not {v}")))
    };
    let (vpcs, probes) = (value("--vpcs", 10), value("--probes", 10_000));
    let transit_gateway = args.iter().any(|a| a == "--transit-gateway");
    let org = Org { vpcs, expects: 1000, transit_gateway, ..Org::default() };
    let text = org.to_toml().unwrap_or_else(|e| panic!("{e}"));
    let t = Arc::new(vpcsim_scenario::load_str(&text, "org.toml").unwrap_or_else(|d| panic!("{d}")));
    let compiled = Compiled::new(Arc::clone(&t));
    let specs: Vec<ProbeSpec> = t.expectations.iter().map(ProbeSpec::from).collect();
    // Every expectation once, untimed: each route table lays out its lookup
    // structure at its first lookup, once per check, not per probe.
    for spec in &specs {
        run_probe_on(&compiled, spec, SimConfig::default());
    }
    let threads = value("--threads", 1).max(1);
    let start = Instant::now();
    let connected: usize = std::thread::scope(|scope| {
        let workers: Vec<_> =
            (0..threads).map(|_| scope.spawn(|| probe_all(&compiled, &specs, probes / threads))).collect();
        workers.into_iter().map(|w| w.join().unwrap_or(0)).sum()
    });
    let spent = start.elapsed();
    println!(
        "{} hosts, {threads} thread(s): {probes} probes ({connected} connected) in {:.3} s: {:.1} µs per probe",
        org.hosts(),
        spent.as_secs_f64(),
        spent.as_secs_f64() * 1e6 / probes.max(1) as f64
    );
}

/// `probes` probes cycling through `specs`; how many connected.
fn probe_all(compiled: &Arc<Compiled>, specs: &[ProbeSpec], probes: usize) -> usize {
    (0..probes).map(|i| timed(compiled, &specs[i % specs.len()])).sum()
}

#[inline(never)]
fn timed(compiled: &Arc<Compiled>, spec: &ProbeSpec) -> usize {
    let o = run_probe_on(compiled, spec, SimConfig::default());
    usize::from(o.result == vpcsim_model::ExpectedResult::Connected)
}
