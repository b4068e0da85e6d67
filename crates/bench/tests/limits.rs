//! Issue 12, items 6 and 9: `vpcsim bench` refuses what it cannot do with a
//! clear error instead of panicking, and holds its flows to `MAX_FLOWS`.

use std::fmt::Write as _;
use std::sync::Arc;

use vpcsim_bench::{BenchError, Config, MAX_FLOWS, MAX_WORKERS, run};
use vpcsim_model::Topology;

/// One subnet with `n` hosts.
fn hosts(n: usize) -> Arc<Topology> {
    let mut text = String::from(
        "name = \"many\"\n[[vpc]]\nid = \"vpc-a\"\ncidr = \"10.0.0.0/16\"\n\
         [[subnet]]\nid = \"subnet-a\"\nvpc = \"vpc-a\"\ncidr = \"10.0.0.0/20\"\n",
    );
    for i in 0..n {
        let _ = write!(
            text,
            "[[host]]\nid = \"h{i}\"\nsubnet = \"subnet-a\"\nip = \"10.0.{}.{}\"\n",
            1 + i / 200,
            10 + i % 200
        );
    }
    Arc::new(vpcsim_scenario::load_str(&text, "many.toml").unwrap_or_else(|d| panic!("{d}")))
}

#[test]
fn issue_12_a_billion_workers_is_an_error_not_a_panic() {
    let e = run(hosts(2), &Config { workers: 1_000_000_000, ..Config::default() }).unwrap_err();
    assert_eq!(e, BenchError::TooManyWorkers(1_000_000_000));
    assert!(e.to_string().contains(&MAX_WORKERS.to_string()), "{e}");
}

#[test]
fn issue_12_zero_packets_is_an_error_not_a_per_packet_time() {
    let e = run(hosts(2), &Config { packets: 0, ..Config::default() }).unwrap_err();
    assert_eq!(e, BenchError::NoPackets);
}

#[test]
fn issue_12_bench_flows_are_held_to_the_limit() {
    // 60 hosts make 1,770 pairs: 64 flows each would be 113,280.
    let r = run(hosts(60), &Config { packets: 4, ..Config::default() }).expect("a run");
    assert_eq!(r.pairs, 1_770);
    assert!(r.flows <= MAX_FLOWS && r.flows >= MAX_FLOWS - r.pairs, "{} flows", r.flows);
    // More pairs than flows allowed: refused before anything is built.
    let e = run(hosts(500), &Config { packets: 4, ..Config::default() }).unwrap_err();
    assert_eq!(e, BenchError::TooManyPairs(500 * 499 / 2));
}
