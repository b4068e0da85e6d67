//! `check --jobs`, `check --shard`, `check --json` and `merge`, end to end as
//! separate processes: the shards of a run, merged, print byte for byte what
//! one run prints (text and JSON, exit code included), whatever the number of
//! threads; bad arguments and results that do not fit together exit 2.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn vpcsim<S: AsRef<std::ffi::OsStr>>(args: &[S]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_vpcsim")).args(args).current_dir(root()).output().expect("the vpcsim binary runs")
}

fn text(out: &Output) -> String {
    String::from_utf8(out.stdout.clone()).expect("UTF-8 output")
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// A folder of this test's own, removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> TempDir {
        let path = std::env::temp_dir().join(format!("vpcsim-shards-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).expect("create a temp folder");
        TempDir(path)
    }

    fn write(&self, name: &str, bytes: &[u8]) -> String {
        let path = self.0.join(name);
        std::fs::write(&path, bytes).expect("write a temp file");
        path.to_str().expect("a UTF-8 temp path").to_string()
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Every bundled scenario, in name order, with a copy of two-subnets.toml
/// whose first expectation is wrong (so that something fails) in the middle.
fn scenario_files(dir: &TempDir) -> Vec<String> {
    let mut files: Vec<String> = std::fs::read_dir(root().join("scenarios"))
        .expect("scenarios/")
        .map(|e| e.expect("a directory entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .map(|p| format!("scenarios/{}", p.file_name().unwrap().to_str().unwrap()))
        .collect();
    files.sort();
    assert!(files.len() > 10, "{files:?}");
    let original = std::fs::read_to_string(root().join("scenarios/two-subnets.toml")).expect("two-subnets.toml");
    let wrong = original.replacen("result = \"connected\"", "result = \"refused\"", 1);
    assert_ne!(wrong, original);
    files.insert(files.len() / 2, dir.write("two-subnets-wrong.toml", wrong.as_bytes()));
    files
}

fn with<'a>(flags: &[&'a str], files: &'a [String]) -> Vec<&'a str> {
    flags.iter().copied().chain(files.iter().map(String::as_str)).collect()
}

fn json(bytes: &[u8]) -> serde_json::Value {
    serde_json::from_slice(bytes).expect("a JSON document")
}

#[test]
fn three_shards_merged_print_what_one_run_prints() {
    let dir = TempDir::new("three");
    let files = scenario_files(&dir);
    for verbose in [false, true] {
        let v: &[&str] = if verbose { &["-v"] } else { &[] };
        let one = vpcsim(&with(&[&["check"], v].concat(), &files));
        assert_eq!(one.status.code(), Some(1), "{}", stderr(&one));
        let one_text = text(&one);
        assert!(one_text.contains("  FAIL  app connects to PostgreSQL on db over the local route\n"), "{one_text}");
        assert!(one_text.contains("        result: expected refused, got connected\n"), "{one_text}");
        assert!(one_text.ends_with(" passed, 1 failed\n"), "{one_text}");
        let one_json = vpcsim(&with(&[&["check", "--json"], v].concat(), &files));
        assert_eq!(one_json.status.code(), Some(1), "{}", stderr(&one_json));

        let mut shards = Vec::new();
        let mut positions = Vec::new();
        for i in 1..=3 {
            let shard = format!("{i}/3");
            let out = vpcsim(&with(&[&["check", "--json", "--shard", &shard], v].concat(), &files));
            assert!(matches!(out.status.code(), Some(0 | 1)), "{}", stderr(&out));
            let doc = json(&out.stdout);
            assert_eq!(doc["shard"], serde_json::json!({ "index": i, "count": 3 }));
            for record in doc["expectations"].as_array().expect("expectations") {
                let k = record["position"].as_u64().expect("a position");
                assert_eq!(k % 3 + 1, i, "round robin: position {k} is in shard {i}");
                positions.push(k);
            }
            shards.push(dir.write(&format!("shard-{i}-{verbose}.json"), &out.stdout));
        }
        // Together the shards hold every expectation, once.
        positions.sort_unstable();
        let total = json(&one_json.stdout)["expectations"].as_array().expect("expectations").len();
        assert_eq!(positions, (0..total as u64).collect::<Vec<_>>());

        // In any order, the merge is the single run, byte for byte.
        let reversed: Vec<String> = shards.iter().rev().cloned().collect();
        for order in [&shards, &reversed] {
            let merged = vpcsim(&with(&["merge"], order));
            assert_eq!(merged.status.code(), Some(1), "{}", stderr(&merged));
            assert_eq!(text(&merged), one_text, "merge (verbose {verbose})");
            assert_eq!(stderr(&merged), stderr(&one));
            let merged_json = vpcsim(&with(&["merge", "--json"], order));
            assert_eq!(merged_json.status.code(), Some(1), "{}", stderr(&merged_json));
            assert_eq!(text(&merged_json), text(&one_json), "merge --json (verbose {verbose})");
        }
    }
}

#[test]
fn the_json_records_carry_what_the_text_prints() {
    let dir = TempDir::new("records");
    let files = scenario_files(&dir);
    let out = vpcsim(&with(&["check", "--json"], &files));
    let doc = json(&out.stdout);
    assert_eq!(doc["schema_version"], 1);
    assert_eq!(doc["verbose"], false);
    assert!(doc.get("shard").is_none(), "no shard field in a whole run");
    let listed = doc["files"].as_array().expect("files");
    assert_eq!(listed.len(), files.len());
    assert_eq!(listed[0]["path"], files[0].as_str());
    let records = doc["expectations"].as_array().expect("expectations");
    let failed: Vec<&serde_json::Value> = records.iter().filter(|r| r["passed"] == false).collect();
    assert_eq!(failed.len(), 1);
    let f = failed[0];
    assert_eq!(f["result"], serde_json::json!({ "expected": "refused", "observed": "connected" }));
    assert_eq!(f["position_in_file"], 0);
    assert_eq!(f["mismatches"], serde_json::json!(["result: expected refused, got connected"]));
    assert!(f["trace"].as_str().is_some_and(|t| t.starts_with("probe: ")), "a failure carries its trace: {f}");
    assert!(records.iter().filter(|r| r["passed"] == true).all(|r| r["trace"].is_null()), "no trace without -v");
    let dropped = records.iter().find(|r| r["result"]["observed"] == "dropped").expect("a dropped probe");
    assert!(dropped["drop"]["reason"].is_string() && dropped["drop"]["leg"].is_string(), "{dropped}");
    assert_eq!(doc["totals"], serde_json::json!({ "passed": records.len() - 1, "failed": 1 }));
}

#[test]
fn jobs_do_not_change_the_output() {
    let dir = TempDir::new("jobs");
    let files = scenario_files(&dir);
    let one = vpcsim(&with(&["check", "-v", "--jobs", "1"], &files));
    let two = vpcsim(&with(&["check", "-v", "--jobs", "2"], &files));
    let default = vpcsim(&with(&["check", "-v"], &files));
    assert_eq!(one.status.code(), Some(1));
    assert_eq!(text(&one), text(&two));
    assert_eq!(text(&one), text(&default));
    assert_eq!(two.status.code(), Some(1));
    let one = vpcsim(&with(&["check", "--json", "--jobs", "1", "--shard", "2/3"], &files));
    let two = vpcsim(&with(&["check", "--json", "--jobs", "2", "--shard", "2/3"], &files));
    assert_eq!(text(&one), text(&two));
}

#[test]
fn more_shards_than_expectations_still_merge() {
    let dir = TempDir::new("many");
    let file = ["scenarios/two-subnets.toml".to_string()];
    let one = vpcsim(&with(&["check"], &file));
    assert_eq!(one.status.code(), Some(0));
    let shards: Vec<String> = (1..=5)
        .map(|i| {
            let out = vpcsim(&with(&["check", "--json", "--shard", &format!("{i}/5")], &file));
            assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
            dir.write(&format!("{i}.json"), &out.stdout)
        })
        .collect();
    let merged = vpcsim(&with(&["merge"], &shards));
    assert_eq!(merged.status.code(), Some(0), "{}", stderr(&merged));
    assert_eq!(text(&merged), text(&one));
    // A text shard lists every file and only its own expectations.
    let fourth = vpcsim(&with(&["check", "--shard", "4/5"], &file));
    assert_eq!(text(&fourth), "scenarios/two-subnets.toml: Two subnets and the local route\n0 passed, 0 failed\n");
}

#[test]
fn bad_jobs_and_shards_exit_2() {
    for bad in ["0/3", "4/3", "1/0", "0/0", "a/3", "1/b", "3", "1/3/4", "-1/3", "", "/"] {
        let out = vpcsim(&["check", &format!("--shard={bad}"), "scenarios/two-subnets.toml"]);
        assert_eq!(out.status.code(), Some(2), "--shard={bad:?}: {}", stderr(&out));
        assert!(stderr(&out).contains("--shard"), "{}", stderr(&out));
        assert!(out.stdout.is_empty());
    }
    for bad in ["0", "-1", "two", ""] {
        let out = vpcsim(&["check", &format!("--jobs={bad}"), "scenarios/two-subnets.toml"]);
        assert_eq!(out.status.code(), Some(2), "--jobs={bad:?}: {}", stderr(&out));
        assert!(stderr(&out).contains("--jobs"), "{}", stderr(&out));
    }
    let out = vpcsim(&["merge"]);
    assert_eq!(out.status.code(), Some(2), "merge without results: {}", stderr(&out));
}

#[test]
fn results_that_do_not_fit_together_are_refused() {
    let dir = TempDir::new("refused");
    let files = ["scenarios/two-subnets.toml".to_string(), "scenarios/blackhole.toml".to_string()];
    let shard = |flags: &[&str], name: &str| -> String {
        let out = vpcsim(&with(&[&["check", "--json"], flags].concat(), &files));
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        dir.write(name, &out.stdout)
    };
    let s1 = shard(&["--shard", "1/3"], "s1.json");
    let s2 = shard(&["--shard", "2/3"], "s2.json");
    let s3 = shard(&["--shard", "3/3"], "s3.json");
    let half = shard(&["--shard", "1/2"], "half.json");
    let whole = shard(&[], "whole.json");
    let verbose = shard(&["-v", "--shard", "2/3"], "verbose.json");
    let other = {
        let out = vpcsim(&["check", "--json", "--shard", "2/3", "scenarios/two-subnets.toml"]);
        dir.write("other.json", &out.stdout)
    };
    let edit = |name: &str, f: &dyn Fn(&mut serde_json::Value)| -> String {
        let mut doc = json(&std::fs::read(&s2).expect("s2.json"));
        f(&mut doc);
        dir.write(name, serde_json::to_string_pretty(&doc).expect("JSON").as_bytes())
    };
    let version = edit("version.json", &|d| d["schema_version"] = 2.into());
    let no_version = edit("no-version.json", &|d| {
        d.as_object_mut().expect("an object").remove("schema_version");
    });
    let lost = edit("lost.json", &|d| {
        d["expectations"].as_array_mut().expect("expectations").pop();
    });
    let moved = edit("moved.json", &|d| d["expectations"][0]["position"] = 0.into());
    let totals = edit("totals.json", &|d| d["totals"]["failed"] = 1.into());
    let renamed = edit("renamed.json", &|d| d["files"][1]["path"] = "scenarios/elsewhere.toml".into());
    let huge_n = edit("huge-n.json", &|d| d["shard"]["count"] = u64::MAX.into());
    let zero_n = edit("zero-n.json", &|d| d["shard"] = serde_json::json!({ "index": 0, "count": 0 }));
    let huge_file = edit("huge-file.json", &|d| d["files"][0]["expectations"] = u64::MAX.into());
    let huge_both = edit("huge-both.json", &|d| {
        d["shard"]["count"] = u64::MAX.into();
        d["files"][1]["expectations"] = u64::MAX.into();
    });
    let garbage = dir.write("garbage.json", b"not JSON at all");
    let truncated = {
        let bytes = std::fs::read(&s2).expect("s2.json");
        dir.write("truncated.json", &bytes[..bytes.len() / 2])
    };
    let missing = dir.0.join("no-such-file.json").to_str().expect("UTF-8").to_string();

    // (results, a word the error must contain)
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (vec![&s1, &s2], "shard 3/3 is missing"),
        (vec![&s1], "shards 2/3, 3/3 are missing"),
        (vec![&s1, &s2, &s3, &s2], "both shard 2/3"),
        (vec![&s1, &half, &s3], "share their N"),
        (vec![&whole, &s1], "share their N"),
        (vec![&s1, &other, &s3], "different files"),
        (vec![&s1, &renamed, &s3], "elsewhere.toml"),
        (vec![&s1, &verbose, &s3], "-v"),
        (vec![&s1, &version, &s3], "schema_version 2"),
        (vec![&s1, &no_version, &s3], "no schema_version"),
        (vec![&s1, &lost, &s3], "lacks the expectation"),
        (vec![&s1, &moved, &s3], "position 0"),
        (vec![&s1, &totals, &s3], "totals"),
        (vec![&huge_n], "shard 2/18446744073709551615 holds"),
        (vec![&zero_n], "shard 0/0 is not a shard"),
        (vec![&s1, &huge_file, &s3], "different files"),
        (vec![&huge_file], "position 4 is not expectation 1 of file 1"),
        (vec![&huge_both], "position 4 is not the next"),
        (vec![&s1, &garbage, &s3], "line 1 column"),
        (vec![&s1, &truncated, &s3], "EOF"),
        (vec![&s1, &missing, &s3], "cannot read"),
    ];
    for (results, word) in cases {
        let out = vpcsim(&with(&["merge"], &results.iter().map(|s| s.to_string()).collect::<Vec<_>>()));
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "merge {results:?}: {err}");
        assert!(err.starts_with("error: ") && err.contains(word), "merge {results:?}: wanted {word:?} in {err}");
        assert!(out.stdout.is_empty(), "nothing printed for refused results");
    }
    // The same shards, fitting, merge.
    let out = vpcsim(&["merge", &s3, &s1, &s2]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
}
