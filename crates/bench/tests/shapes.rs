//! The generated scenarios are valid, and `vpcsim bench`'s driver carries
//! every packet of them.

use std::sync::Arc;

use vpcsim_bench::shapes::{Shape, two_subnets};
use vpcsim_bench::{Config, run};

#[test]
fn generated_scenarios_load_at_every_size() {
    for routes in [10, 100, 1000] {
        for rules in [10, 1000] {
            let text = two_subnets(Shape { routes, rules });
            let t = vpcsim_scenario::load_str(&text, "gen.toml").unwrap_or_else(|d| panic!("{d}"));
            let rtb = t.route_tables.iter().find(|r| r.id == "rtb-bench").expect("the bench table");
            // Plus the two local routes.
            assert_eq!(rtb.routes.len(), routes + 2);
            let nacl = t.nacls.iter().find(|n| n.id == "acl-bench").expect("the bench NACL");
            assert_eq!(nacl.ingress.len(), rules);
        }
    }
}

#[test]
fn the_driver_delivers_every_packet_on_one_and_two_workers() {
    let text = two_subnets(Shape { routes: 100, rules: 100 });
    let t = Arc::new(vpcsim_scenario::load_str(&text, "gen.toml").expect("valid"));
    for workers in [1, 2] {
        let r = run(Arc::clone(&t), &Config { packets: 10_001, workers, ..Config::default() }).expect("a run");
        assert_eq!(r.hosts, 4);
        assert_eq!(r.pairs, 6);
        assert_eq!(r.delivered, 10_001, "{r:?}");
        assert_eq!(r.total_dropped(), 0);
        assert_eq!(r.busy.len(), workers);
    }
}

/// Regenerates the scenarios under `benches/scenarios/` that
/// `docs/performance.md` runs `vpcsim bench` on:
/// `cargo test -p vpcsim-bench -- --ignored write_bench_scenarios`.
#[test]
#[ignore]
fn write_bench_scenarios() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../benches/scenarios");
    std::fs::create_dir_all(&dir).expect("the directory");
    for (routes, rules) in [(10, 10), (1000, 1000)] {
        let path = dir.join(format!("two-subnets-{routes}-routes-{rules}-rules.toml"));
        std::fs::write(&path, two_subnets(Shape { routes, rules })).expect("written");
    }
}
