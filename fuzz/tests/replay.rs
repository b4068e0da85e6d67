//! Every file of each target's corpus (`fuzz/corpus/<target>/`, seeds and what
//! the fuzzer kept) and every regression input (`fuzz/regressions/<target>/`)
//! replayed through the target, on stable Rust, plus a seeded random driver
//! for the machines where cargo-fuzz cannot run.

use std::path::Path;

type Target = fn(&[u8]);

fn geneve(data: &[u8]) {
    vpcsim_fuzz::geneve(data);
}

fn simulate(data: &[u8]) {
    vpcsim_fuzz::simulate(data);
}

const TARGETS: [(&str, Target); 6] = [
    ("frame", vpcsim_fuzz::frame),
    ("scenario", vpcsim_fuzz::scenario),
    ("simulate", simulate),
    ("dns", vpcsim_fuzz::dns),
    ("policy", vpcsim_fuzz::policy),
    ("geneve", geneve),
];

fn replay(dir: &str, name: &str, target: Target) -> usize {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join(dir).join(name);
    let Ok(entries) = std::fs::read_dir(&dir) else { return 0 };
    let mut n = 0;
    for entry in entries.flatten() {
        let bytes = std::fs::read(entry.path()).unwrap();
        target(&bytes);
        n += 1;
    }
    n
}

#[test]
fn corpora_replay_without_panics() {
    for (name, target) in TARGETS {
        let n = replay("corpus", name, target) + replay("regressions", name, target);
        eprintln!("{name}: {n} inputs replayed");
    }
}

#[test]
fn the_fuzz_fabric_loads() {
    vpcsim_fuzz::frame(&[]);
}

/// A seeded random driver: short random inputs and mutated corpus files.
#[test]
fn random_inputs_never_panic() {
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    for (name, target) in TARGETS {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus").join(name);
        let seeds: Vec<Vec<u8>> = std::fs::read_dir(dir)
            .map(|d| d.flatten().filter_map(|e| std::fs::read(e.path()).ok()).collect())
            .unwrap_or_default();
        // A simulation costs milliseconds (debug: tens), a load microseconds.
        let inputs = if name == "simulate" { 60 } else { 2_000 };
        for i in 0..inputs {
            let mut input: Vec<u8> = if i % 2 == 0 || seeds.is_empty() {
                (0..next() % 300).map(|_| next() as u8).collect()
            } else {
                seeds[next() as usize % seeds.len()].clone()
            };
            for _ in 0..next() % 8 {
                if !input.is_empty() {
                    let at = next() as usize % input.len();
                    input[at] = next() as u8;
                }
            }
            target(&input);
        }
    }
}

/// The GENEVE target reaches past the load balancer: a seed's inner SYN is
/// decapsulated and judged by the destination's security group, so the
/// fuzzer explores the whole way back from an appliance, not just the parser.
#[test]
fn geneve_seeds_reach_the_pipeline_behind_the_load_balancer() {
    use vpcsim_dataplane::{DropReason, Verdict};
    let seed =
        |name: &str| std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus/geneve").join(name)).unwrap();
    let db = vpcsim_fuzz::geneve_fixture_eni("db").unwrap();
    let verdicts = vpcsim_fuzz::geneve(&seed("syn-web-to-db"));
    assert!(matches!(verdicts[0], Verdict::Deliver(e) if e == db), "{verdicts:?}");
    let verdicts = vpcsim_fuzz::geneve(&seed("syn-web-to-db-port-22"));
    assert_eq!(verdicts[0].dropped().map(|d| d.reason), Some(DropReason::SgIngress), "{verdicts:?}");
    let verdicts = vpcsim_fuzz::geneve(&seed("unknown-endpoint"));
    assert_eq!(verdicts[0].dropped().map(|d| d.reason), Some(DropReason::Malformed), "{verdicts:?}");
}

/// The simulating target gets past the loader: a bundled scenario's every
/// expectation is probed, its flows run and its pcaps read back.
#[test]
fn simulate_seeds_reach_the_engine() {
    let seed = std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus/simulate/two-subnets.toml")).unwrap();
    assert_eq!(vpcsim_fuzz::simulate(&seed), 3);
    assert_eq!(vpcsim_fuzz::simulate(b"not a scenario"), 0);
}

/// The committed simulate corpus is not only loader errors: a good share of
/// it gets through to probes and runs.
#[test]
fn the_simulate_corpus_reaches_the_engine() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus/simulate");
    let (mut inputs, mut simulated, mut probes) = (0, 0, 0);
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let n = vpcsim_fuzz::simulate(&std::fs::read(entry.path()).unwrap());
        inputs += 1;
        simulated += usize::from(n > 0);
        probes += n;
    }
    eprintln!("simulate corpus: {inputs} inputs, {simulated} simulated, {probes} probes");
    assert!(simulated >= 100, "only {simulated} of {inputs} inputs reach the engine");
}
