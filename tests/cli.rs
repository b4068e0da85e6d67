//! The `vpcsim` binary end to end: exit codes and what it prints.

use std::path::PathBuf;
use std::process::{Command, Output};

fn vpcsim(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_vpcsim"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("the vpcsim binary runs")
}

/// A scenario file of this test's own, removed when dropped.
struct TempScenario(PathBuf);

impl TempScenario {
    fn new(name: &str, text: &str) -> TempScenario {
        let path = std::env::temp_dir().join(format!("vpcsim-cli-{}-{name}.toml", std::process::id()));
        std::fs::write(&path, text).expect("write a temp file");
        TempScenario(path)
    }
    fn path(&self) -> &str {
        self.0.to_str().expect("a UTF-8 temp path")
    }
}

impl Drop for TempScenario {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

#[test]
fn validate_a_bundled_scenario() {
    let out = vpcsim(&["validate", "scenarios/two-subnets.toml"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "stderr: {}", String::from_utf8_lossy(&out.stderr));
    assert!(
        stdout.starts_with("scenarios/two-subnets.toml: valid — \"Two subnets and the local route\"\n"),
        "{stdout}"
    );
    assert!(stdout.contains("1 VPC, 2 subnets, 1 route table (1 implicit main)"), "{stdout}");
    assert!(stdout.contains("2 hosts, 3 expectations; topology graph"), "{stdout}");
}

#[test]
fn validate_every_bundled_scenario() {
    let mut args = vec!["validate".to_owned()];
    for entry in std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios")).unwrap() {
        args.push(entry.unwrap().path().display().to_string());
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = vpcsim(&args);
    assert_eq!(out.status.code(), Some(0), "stderr: {}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn an_invalid_file_exits_2_with_file_line_column() {
    let bad = TempScenario::new(
        "bad",
        "name = \"bad\"\n[[vpc]]\nid = \"vpc-a\"\ncidr = \"10.0.0.0/16\"\n[[subnet]]\nid = \"s\"\nvpc = \"vpc-a\"\ncidr = \"10.1.0.0/24\"\n",
    );
    let out = vpcsim(&["validate", "scenarios/two-subnets.toml", bad.path()]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains(&format!("{}:8:8: error: s: 10.1.0.0/24 is not inside vpc-a 10.0.0.0/16", bad.path())),
        "{stderr}"
    );
    assert!(stderr.contains("8 | cidr = \"10.1.0.0/24\""), "{stderr}");
    // The valid file is still summarised.
    assert!(String::from_utf8_lossy(&out.stdout).contains("two-subnets.toml: valid"));
}

#[test]
fn a_missing_file_exits_2() {
    let out = vpcsim(&["validate", "does/not/exist.toml"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("does/not/exist.toml: error: cannot read the file:"), "{stderr}");
}
