//! A probe's simulation starts each host at its first frame, after replaying
//! its boot alone (`Sim::on`); a simulation that boots every host at time
//! zero (`Sim::new`) must tell the same story, frame for frame, at the same
//! instants. Held over every expectation of every bundled scenario and of the
//! hostile corpus that loads.

use std::path::Path;
use std::sync::Arc;

use vpcsim_engine::{ProbeSpec, SimConfig, run_probe};

fn scenario_files() -> Vec<std::path::PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut files = Vec::new();
    for dir in ["scenarios", "tests/hostile"] {
        for entry in std::fs::read_dir(root.join(dir)).expect("a folder of scenarios") {
            let path = entry.expect("an entry").path();
            if path.extension().is_some_and(|e| e == "toml") {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

#[test]
fn hosts_started_late_tell_the_story_of_hosts_booted_at_zero() {
    let (mut probes, mut files) = (0, 0);
    for path in scenario_files() {
        let Ok(t) = vpcsim_scenario::load_file(&path) else { continue };
        let t = Arc::new(t);
        files += 1;
        for e in &t.expectations {
            let spec = ProbeSpec::from(e);
            let lazy = run_probe(Arc::clone(&t), &spec, SimConfig::default());
            let booted = run_probe(Arc::clone(&t), &spec, SimConfig { boot_every_host: true, ..SimConfig::default() });
            assert_eq!(lazy.summary(), booted.summary(), "{}: {}", path.display(), e.name);
            assert_eq!(lazy.render(), booted.render(), "{}: {}", path.display(), e.name);
            assert_eq!(lazy.seen_source, booted.seen_source, "{}: {}", path.display(), e.name);
            probes += 1;
        }
    }
    // The corpus is there and was run, not skipped.
    assert!(files >= 29 && probes >= 140, "{files} files, {probes} probes");
}
