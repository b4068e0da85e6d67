//! Issue 12, items 5, 7, 8 and 11: simulated time that never overflows, a
//! next-event engine through idle time, bounded recording, and a reason for
//! every `dropped`. Asserted on work done (events run, records kept), never on
//! wall-clock time.

use std::sync::Arc;
use std::time::Duration;

use vpcsim_engine::{ProbeSpec, SimConfig, check, run, run_probe};
use vpcsim_model::{Destination, ExpectedResult, Protocol, Topology};

const BASE: &str = r#"
name = "limits"
seed = 3
[[vpc]]
id = "vpc-a"
cidr = "10.0.0.0/16"
ipv6_cidr = "2600:1f18:aa:100::/56"
[[subnet]]
id = "subnet-a"
vpc = "vpc-a"
cidr = "10.0.1.0/24"
ipv6_cidr = "2600:1f18:aa:101::/64"
[[security_group]]
id = "sg-open"
vpc = "vpc-a"
ingress = [ { proto = "all", cidr = "0.0.0.0/0" }, { proto = "all", cidr = "::/0" } ]
[[security_group]]
id = "sg-shut"
vpc = "vpc-a"
[[host]]
id = "client"
subnet = "subnet-a"
ip = "10.0.1.10"
[[host]]
id = "web"
subnet = "subnet-a"
ip = "10.0.1.20"
ipv6 = "2600:1f18:aa:101::20"
security_groups = ["sg-open"]
listen = ["tcp/80", "udp/53"]
[[host]]
id = "shut"
subnet = "subnet-a"
ip = "10.0.1.30"
security_groups = ["sg-shut"]
listen = ["tcp/80"]
"#;

fn load(rest: &str) -> Arc<Topology> {
    let src = format!("{BASE}{rest}");
    Arc::new(vpcsim_scenario::load_str(&src, "limits.toml").unwrap_or_else(|e| panic!("{e}")))
}

#[test]
fn issue_12_a_flow_starting_at_24h_jumps_there_and_completes() {
    let t =
        load("[[flow]]\nfrom = \"client\"\nto = \"web\"\nproto = \"tcp\"\nport = 80\nstart = \"24h\"\nrequests = 3\n");
    let report = run(&t, SimConfig::default(), |_, _| {});
    let f = &report.flows[0];
    assert_eq!((f.succeeded, f.refused, f.failed), (3, 0, 0));
    assert!(report.ended_at >= Duration::from_secs(24 * 3600));
    // A 1 ms tick would have run 86.4 million steps; a next-event engine
    // runs only what the three requests need.
    assert!(report.sim.events_run() < 500, "{} events run", report.sim.events_run());
}

#[test]
fn issue_12_an_event_at_24h_happens_without_stepping_through_the_day() {
    let t = load("[[event]]\nat = \"24h\"\naction = \"target-down\"\ntarget = \"web\"\n");
    let report = run(&t, SimConfig::default(), |_, _| {});
    assert_eq!(report.ended_at, Duration::from_secs(24 * 3600));
    assert!(report.sim.events_run() < 100, "{} events run", report.sim.events_run());
}

#[test]
fn issue_12_many_requests_run_one_after_another_with_work_proportional_to_them() {
    let t = load("[[flow]]\nfrom = \"client\"\nto = \"web\"\nproto = \"udp\"\nport = 53\nrequests = 500\n");
    let report = run(&t, SimConfig::default(), |_, _| {});
    let f = &report.flows[0];
    assert_eq!((f.succeeded, f.failed), (500, 0));
    assert!(report.sim.events_run() < 500 * 10, "{} events run", report.sim.events_run());
}

#[test]
fn issue_12_records_are_capped_and_the_cap_is_said() {
    let t = load("[[flow]]\nfrom = \"client\"\nto = \"web\"\nproto = \"udp\"\nport = 53\nrequests = 50\n");
    let config = SimConfig { max_records: 20, ..SimConfig::default() };
    let report = run(&t, config, |_, _| {});
    assert_eq!(report.flows[0].succeeded, 50, "frames past the cap are still simulated");
    assert_eq!(report.sim.records.len(), 20);
    assert!(report.truncated >= 80, "{} not recorded", report.truncated);
    assert_eq!(report.frames, 20 + report.truncated);

    // A probe that retransmits for an hour keeps at most the cap.
    let t = load(
        "[[expect]]\nfrom = \"client\"\nto = \"shut\"\nproto = \"tcp\"\nport = 80\ntimeout = \"1h\"\nresult = \"dropped\"\n",
    );
    let config = SimConfig { max_records: 3, ..SimConfig::default() };
    let r = &check(&t, config)[0];
    assert_eq!(r.outcome.records.len(), 3);
    assert!(r.outcome.truncated > 0);
    assert!(r.outcome.summary().contains("more frames not recorded"), "{}", r.outcome.summary());
    assert_eq!(r.outcome.drop.as_ref().map(|d| d.reason.as_str()), Some("sg-ingress"));
}

/// A topology built by hand, past every limit the loader would enforce.
fn hostile_by_hand() -> Topology {
    let mut t = (*load(
        "[[flow]]\nfrom = \"client\"\nto = \"web\"\nproto = \"tcp\"\nport = 80\n\
         [[event]]\nat = \"1s\"\naction = \"target-down\"\ntarget = \"web\"\n",
    ))
    .clone();
    t.flows[0].start = Duration::MAX;
    t.flows[0].requests = u32::MAX;
    t.events[0].at = Duration::MAX;
    t.hop_latency = Some(Duration::MAX);
    t
}

#[test]
fn issue_12_time_past_any_limit_in_a_hand_built_model_saturates_instead_of_overflowing() {
    let t = Arc::new(hostile_by_hand());
    let report = run(&t, SimConfig::default(), |_, _| {});
    assert_eq!(report.flows[0].succeeded, 0);
    assert!(report.ended_at <= vpcsim_model::limits::MAX_SIM_TIME);

    let spec = ProbeSpec {
        from: t.flows[0].from,
        to: Destination::Ip("10.0.1.20".parse().unwrap()),
        proto: Protocol::Tcp,
        port: Some(80),
        at: Duration::MAX,
        timeout: Duration::MAX,
        size: None,
        request: None,
    };
    let o = run_probe(Arc::clone(&t), &spec, SimConfig::default());
    assert_eq!(o.result, ExpectedResult::Dropped);
    assert_eq!(o.drop.map(|d| d.reason), Some(vpcsim_model::DropReason::Timeout));
}

#[test]
fn issue_12_an_address_family_the_host_lacks_is_a_dropped_with_its_reason() {
    let t = load(
        "[[expect]]\nfrom = \"client\"\nto = \"2600:1f18:aa:101::20\"\nproto = \"tcp\"\nport = 80\nresult = \"dropped\"\n\
         drop_reason = \"no-address-family\"\ndrop_at = \"eni-client\"\n\
         [[flow]]\nfrom = \"client\"\nto = \"2600:1f18:aa:101::20\"\nproto = \"tcp\"\nport = 80\nrequests = 2\n",
    );
    let r = &check(&t, SimConfig::default())[0];
    assert!(r.passed(), "{:?}\n{}", r.mismatches, r.outcome.render());
    assert!(r.outcome.records.is_empty(), "no frame leaves");
    let report = run(&t, SimConfig::default(), |_, _| {});
    let f = &report.flows[0];
    assert_eq!((f.succeeded, f.refused, f.failed), (0, 0, 2));
    assert_eq!(f.drops.get("no-address-family"), Some(&2));
}

#[test]
fn issue_12_the_longest_hop_latency_still_connects_and_a_timeout_says_why() {
    let slow = |rest: &str| {
        let src = format!("{BASE}{rest}").replacen("seed = 3", "seed = 3\nhop_latency = \"100ms\"", 1);
        Arc::new(vpcsim_scenario::load_str(&src, "limits.toml").unwrap_or_else(|e| panic!("{e}")))
    };
    let t = slow(
        "[[expect]]\nfrom = \"client\"\nto = \"web\"\nproto = \"tcp\"\nport = 80\nresult = \"connected\"\n\
         [[expect]]\nfrom = \"client\"\nto = \"web\"\nproto = \"tcp\"\nport = 80\ntimeout = \"150ms\"\n\
         result = \"dropped\"\ndrop_reason = \"timeout\"\n",
    );
    for r in check(&t, SimConfig::default()) {
        assert!(r.passed(), "{}: {:?}\n{}", r.name, r.mismatches, r.outcome.render());
    }
}
