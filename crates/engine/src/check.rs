//! `vpcsim check`: every expectation of a scenario, each an isolated probe,
//! compared with what the data plane recorded.

use std::sync::Arc;

use vpcsim_model::{DropReason, Expectation, Leg, Topology};

use vpcsim_dataplane::Compiled;

use crate::probe::{ProbeOutcome, ProbeSpec, run_probe_on};
use crate::sim::SimConfig;

/// One expectation, checked.
pub struct ExpectationReport {
    /// The expectation's `name` in the scenario.
    pub name: String,
    /// What did not match; empty when the expectation passed.
    pub mismatches: Vec<String>,
    /// The probe that was run for it, and what it found.
    pub outcome: ProbeOutcome,
}

impl ExpectationReport {
    /// Whether the probe found what the expectation says.
    pub fn passed(&self) -> bool {
        self.mismatches.is_empty()
    }
}

/// Checks every expectation of the topology, in file order.
pub fn check(topology: &Arc<Topology>, config: SimConfig) -> Vec<ExpectationReport> {
    let compiled = Compiled::new(Arc::clone(topology));
    topology.expectations.iter().map(|e| check_on(&compiled, e, config)).collect()
}

/// Checks expectations of several scenarios on `jobs` threads: `items` are
/// `(scenario, position)` pairs (an index into `compiled`, one into its
/// topology's expectations). Each report goes through `map` on the thread
/// that checked it (render it there: that work is parallel too); `sink` then
/// receives `(scenario, position, mapped)` on the calling thread, in the
/// order of `items`, as soon as every earlier one is done. The compiled
/// topologies are shared; every probe is isolated, so the results are the
/// same whatever `jobs` is.
///
/// # Panics
/// If an index is out of range, or `map` or a probe panics.
pub fn check_many<T: Send>(
    compiled: &[Arc<Compiled>],
    config: SimConfig,
    items: &[(usize, usize)],
    jobs: usize,
    map: impl Fn(usize, usize, ExpectationReport) -> T + Sync,
    mut sink: impl FnMut(usize, usize, T),
) {
    let one = |i: usize| {
        let (file, position) = items[i];
        let c = &compiled[file];
        map(file, position, check_on(c, &c.topology().expectations[position], config))
    };
    let jobs = jobs.clamp(1, items.len().max(1));
    if jobs == 1 {
        for (i, &(file, position)) in items.iter().enumerate() {
            sink(file, position, one(i));
        }
        return;
    }
    // Threads take the next few items from a shared counter, so a slow probe
    // holds up one thread, not a fixed share of the work; results go back in
    // batches. The calling thread is one of the `jobs`: between its own
    // batches it hands on what is due, so no thread only waits, and a
    // thread is not woken once per probe.
    let next = std::sync::atomic::AtomicUsize::new(0);
    let claim = || {
        let start = next.fetch_add(BATCH, std::sync::atomic::Ordering::Relaxed);
        (start < items.len()).then(|| start..(start + BATCH).min(items.len()))
    };
    let (tx, rx) = std::sync::mpsc::channel::<Vec<(usize, T)>>();
    std::thread::scope(|scope| {
        for _ in 1..jobs {
            let tx = tx.clone();
            let (claim, one) = (&claim, &one);
            scope.spawn(move || {
                while let Some(batch) = claim() {
                    if tx.send(batch.map(|i| (i, one(i))).collect()).is_err() {
                        break;
                    }
                }
            });
        }
        drop(tx);
        // Results arrive in any order; hand them on in the order of `items`.
        let mut waiting = std::collections::BTreeMap::new();
        let mut due = 0;
        let mut hand_on = |batch: Vec<(usize, T)>, waiting: &mut std::collections::BTreeMap<usize, T>| {
            waiting.extend(batch);
            while let Some(value) = waiting.remove(&due) {
                let (file, position) = items[due];
                sink(file, position, value);
                due += 1;
            }
        };
        while let Some(batch) = claim() {
            let mine = batch.map(|i| (i, one(i))).collect();
            hand_on(mine, &mut waiting);
            for theirs in rx.try_iter() {
                hand_on(theirs, &mut waiting);
            }
        }
        for theirs in rx {
            hand_on(theirs, &mut waiting);
        }
    });
}

/// Items a thread takes at once: few enough to share the work evenly, enough
/// that results cross threads in batches.
const BATCH: usize = 8;

/// Checks one expectation in a simulation of its own.
pub fn check_one(topology: &Arc<Topology>, e: &Expectation, config: SimConfig) -> ExpectationReport {
    check_on(&Compiled::new(Arc::clone(topology)), e, config)
}

/// Checks one expectation in a simulation of its own, over a topology
/// compiled already.
fn check_on(compiled: &Arc<Compiled>, e: &Expectation, config: SimConfig) -> ExpectationReport {
    let outcome = run_probe_on(compiled, &ProbeSpec::from(e), config);
    let mismatches = compare(e, &outcome);
    ExpectationReport { name: e.name.clone(), mismatches, outcome }
}

fn leg_name(l: Leg) -> &'static str {
    match l {
        Leg::Forward => "forward",
        Leg::Return => "return",
    }
}

/// Every way the outcome differs from the expectation.
pub(crate) fn compare(e: &Expectation, o: &ProbeOutcome) -> Vec<String> {
    let t = &o.topology;
    let mut m = Vec::new();
    if e.result != o.result {
        m.push(format!("result: expected {}, got {}", e.result.as_str(), o.summary()));
    }
    if let Some(want) = e.drop_reason {
        let got = o.drop.as_ref().map(|d| d.reason);
        if got != Some(want) {
            m.push(format!("drop_reason: expected {want}, got {}", got.map_or("no drop", DropReason::as_str)));
        }
    }
    if let Some(want) = &e.drop_at {
        let at = o.drop.as_ref().and_then(|d| d.at);
        if !at.is_some_and(|c| c.answers_to(t, want)) {
            m.push(format!("drop_at: expected {want}, got {}", at.map_or("nothing", |c| c.id(t))));
        }
    }
    if let Some(want) = e.on {
        let got = o.drop.as_ref().map(|d| d.leg);
        if got != Some(want) {
            m.push(format!("on: expected {}, got {}", leg_name(want), got.map_or("no drop", leg_name)));
        }
    }
    if !e.via.is_empty() && !o.crossed_in_order(&e.via) {
        let crossed: Vec<&str> = o.crossed.iter().map(|c| c.id(t)).collect();
        m.push(format!(
            "via: expected [{}] in order, the forward leg crossed [{}]",
            e.via.join(", "),
            crossed.join(", ")
        ));
    }
    if let Some(want) = e.seen_source
        && o.seen_source != Some(want)
    {
        let got = o.seen_source.map_or("nothing (never delivered)".to_string(), |s| s.to_string());
        m.push(format!("seen_source: expected {want}, got {got}"));
    }
    m
}
