//! Golden outputs: what vpcsim prints and writes for every bundled scenario,
//! kept in `tests/golden/` and compared byte for byte, so that a refactor
//! that must not change behaviour proves it did not.
//!
//! - `check/NAME.txt`: `vpcsim check -v scenarios/NAME.toml`;
//! - `trace/NAME.jsonl`: `vpcsim trace --json` of each expectation of the
//!   scenario, one line each, in file order;
//! - `run/NAME.txt` and `run/NAME/*.pcap`: `vpcsim run --pcap` of the
//!   scenarios with `[[flow]]`s.
//!
//! A change that means to change outputs regenerates them with
//! `VPCSIM_BLESS=1 cargo test --test golden` and says why in its commit.

use std::path::{Path, PathBuf};
use std::process::Command;

use vpcsim_model::{Destination, Expectation, Topology};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn vpcsim(args: &[&str]) -> Vec<u8> {
    let out = Command::new(env!("CARGO_BIN_EXE_vpcsim")).args(args).current_dir(root()).output().expect("vpcsim runs");
    assert!(
        matches!(out.status.code(), Some(0 | 1)),
        "`vpcsim {}` exited {:?}: {}",
        args.join(" "),
        out.status.code(),
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// `vpcsim trace` arguments that ask for exactly the probe of `e`.
fn trace_args(t: &Topology, file: &str, e: &Expectation) -> Vec<String> {
    let to = match &e.to {
        Destination::Host(h) => t.host(*h).id.clone(),
        Destination::Ip(ip) => ip.to_string(),
        Destination::Name(n) => n.clone(),
    };
    let mut args = vec![
        "trace".to_string(),
        file.to_string(),
        "--json".to_string(),
        "--from".to_string(),
        t.host(e.from).id.clone(),
        "--to".to_string(),
        to,
        "--proto".to_string(),
        e.proto.to_string(),
        "--at".to_string(),
        format!("{}us", e.at.as_micros()),
        "--timeout".to_string(),
        format!("{}us", e.timeout.as_micros()),
    ];
    if let Some(port) = e.port {
        args.extend(["--port".to_string(), port.to_string()]);
    }
    if let Some(size) = e.size {
        args.extend(["--size".to_string(), size.to_string()]);
    }
    if let Some(r) = &e.request {
        args.extend(["--action".to_string(), r.action.clone(), "--resource".to_string(), r.resource.clone()]);
        if let Some(p) = &r.principal {
            args.extend(["--principal".to_string(), p.clone()]);
        }
    }
    args
}

/// Every golden output, by path under `tests/golden/`, made now.
fn outputs() -> Vec<(PathBuf, Vec<u8>)> {
    let mut scenarios: Vec<PathBuf> = std::fs::read_dir(root().join("scenarios"))
        .expect("scenarios/")
        .map(|e| e.expect("an entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    scenarios.sort();
    let pcaps = std::env::temp_dir().join(format!("vpcsim-golden-{}", std::process::id()));
    let mut out = Vec::new();
    for path in &scenarios {
        let name = path.file_stem().and_then(|s| s.to_str()).expect("a UTF-8 name").to_string();
        let file = format!("scenarios/{name}.toml");
        out.push((PathBuf::from(format!("check/{name}.txt")), vpcsim(&["check", "-v", &file])));
        let t = vpcsim_scenario::load_file(path).unwrap_or_else(|e| panic!("{e}"));
        let mut traces = Vec::new();
        for e in &t.expectations {
            let args = trace_args(&t, &file, e);
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            traces.extend(vpcsim(&args));
        }
        out.push((PathBuf::from(format!("trace/{name}.jsonl")), traces));
        if t.flows.is_empty() {
            continue;
        }
        let dir = pcaps.join(&name);
        let _ = std::fs::remove_dir_all(&dir);
        let dir_arg = dir.to_str().expect("a UTF-8 temp path");
        let stdout = vpcsim(&["run", &file, "--pcap", dir_arg]);
        // The run's own text, less the lines that name the temporary directory.
        let text: String = String::from_utf8_lossy(&stdout)
            .lines()
            .filter(|l| !l.starts_with("wrote "))
            .map(|l| format!("{l}\n"))
            .collect();
        out.push((PathBuf::from(format!("run/{name}.txt")), text.into_bytes()));
        let mut files: Vec<PathBuf> =
            std::fs::read_dir(&dir).expect("the pcaps").map(|e| e.expect("an entry").path()).collect();
        files.sort();
        for f in files {
            let pcap = f.file_name().and_then(|n| n.to_str()).expect("a UTF-8 name").to_string();
            out.push((PathBuf::from(format!("run/{name}/{pcap}")), std::fs::read(&f).expect("a pcap")));
        }
    }
    let _ = std::fs::remove_dir_all(&pcaps);
    out
}

#[test]
fn outputs_match_the_goldens() {
    let golden = root().join("tests/golden");
    let outputs = outputs();
    if std::env::var_os("VPCSIM_BLESS").is_some() {
        let _ = std::fs::remove_dir_all(&golden);
        for (path, bytes) in &outputs {
            let path = golden.join(path);
            std::fs::create_dir_all(path.parent().expect("a parent")).expect("a golden directory");
            std::fs::write(&path, bytes).expect("a golden file");
        }
        return;
    }
    let mut differ = Vec::new();
    for (path, bytes) in &outputs {
        match std::fs::read(golden.join(path)) {
            Ok(kept) if &kept == bytes => {}
            Ok(_) => differ.push(format!("{} differs", path.display())),
            Err(_) => differ.push(format!("{} is new", path.display())),
        }
    }
    // A golden that nothing makes any more is a change too.
    let mut stack = vec![golden.clone()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            let p = entry.path();
            if p.is_dir() {
                stack.push(p);
            } else if let Ok(rel) = p.strip_prefix(&golden)
                && !outputs.iter().any(|(o, _)| o == rel)
            {
                differ.push(format!("{} is no longer made", rel.display()));
            }
        }
    }
    assert!(
        differ.is_empty(),
        "{} golden outputs changed (regenerate with `VPCSIM_BLESS=1 cargo test --test golden` if meant):\n{}",
        differ.len(),
        differ.join("\n")
    );
    assert!(outputs.len() > 60, "only {} outputs", outputs.len());
}
