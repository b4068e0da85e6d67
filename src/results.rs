//! What `check` found, as records: one per checked expectation, built on the
//! worker that checked it. One printer turns records into the text summary or
//! the JSON document, for `check` and for `merge` alike, so that merged shards
//! print exactly what one run prints. The JSON schema is documented in
//! docs/scale.md; version 1 only ever gains fields.

use serde::{Deserialize, Serialize};
use vpcsim_engine::ExpectationReport;
use vpcsim_model::{Leg, Topology};

use crate::Failure;

/// The `schema_version` this vpcsim writes and reads.
pub(crate) const SCHEMA_VERSION: u64 = 1;

/// The JSON document of `check --json` (and `merge --json`).
#[derive(Serialize, Deserialize)]
pub(crate) struct Results {
    pub(crate) schema_version: u64,
    /// Whether the run was `-v`: every record then carries its trace.
    pub(crate) verbose: bool,
    pub(crate) files: Vec<FileInfo>,
    /// Which part of the expectations this is; absent for a whole run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) shard: Option<Shard>,
    /// The checked expectations, in order of `position`.
    pub(crate) expectations: Vec<Record>,
    pub(crate) totals: Totals,
}

/// A scenario file of the run, in command-line order.
#[derive(Serialize, Deserialize, Clone, PartialEq, Eq, Debug)]
pub(crate) struct FileInfo {
    /// The path as given on the command line.
    pub(crate) path: String,
    /// The scenario's `name`.
    pub(crate) scenario: String,
    /// How many `[[expect]]` the file has (all of them, not only this shard's).
    pub(crate) expectations: usize,
}

/// `--shard I/N`: I counts from 1.
#[derive(Serialize, Deserialize, Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) struct Shard {
    pub(crate) index: usize,
    pub(crate) count: usize,
}

impl Shard {
    /// Whether the expectation at global position `k` (over all files, from 0)
    /// is this shard's: round robin, k mod N + 1 = I.
    pub(crate) fn owns(self, k: usize) -> bool {
        k % self.count + 1 == self.index
    }
}

impl std::fmt::Display for Shard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

/// `--shard` as clap parses it: `I/N` with 1 ≤ I ≤ N.
pub(crate) fn parse_shard(s: &str) -> Result<Shard, String> {
    let (i, n) = s.split_once('/').ok_or_else(|| format!("expected I/N (e.g. 1/3), not {s:?}"))?;
    let number = |what: &str, v: &str| {
        v.trim().parse::<usize>().map_err(|_| format!("{what} in I/N must be a whole number, not {v:?}"))
    };
    let (index, count) = (number("I", i)?, number("N", n)?);
    if count == 0 {
        return Err("N in I/N must be at least 1".to_string());
    }
    if index == 0 || index > count {
        return Err(format!("I in I/N counts from 1 to N: {index} is not in 1..={count}"));
    }
    Ok(Shard { index, count })
}

/// One checked expectation: everything the text output prints about it.
#[derive(Serialize, Deserialize, Clone, PartialEq, Debug)]
pub(crate) struct Record {
    /// Index into `files`.
    pub(crate) file: usize,
    /// Position over all files, in order, from 0 (what `--shard` splits).
    pub(crate) position: usize,
    /// Position in its file, from 0.
    pub(crate) position_in_file: usize,
    pub(crate) name: String,
    pub(crate) passed: bool,
    pub(crate) result: Outcome,
    /// The text output's one-line summary of what the probe found.
    pub(crate) summary: String,
    /// What did not match; empty when passed.
    pub(crate) mismatches: Vec<String>,
    /// The hop-by-hop trace, when the text output prints it (a failed
    /// expectation, or any with `-v`); null otherwise.
    pub(crate) trace: Option<String>,
    /// The first drop the probe met, if any.
    pub(crate) drop: Option<DropInfo>,
}

/// The expectation's `result` and the one the probe found.
#[derive(Serialize, Deserialize, Clone, PartialEq, Eq, Debug)]
pub(crate) struct Outcome {
    pub(crate) expected: String,
    pub(crate) observed: String,
}

/// Where the probe was dropped.
#[derive(Serialize, Deserialize, Clone, PartialEq, Eq, Debug)]
pub(crate) struct DropInfo {
    pub(crate) reason: String,
    /// The component's id, when the trace names one.
    pub(crate) at: Option<String>,
    /// "forward" or "return".
    pub(crate) leg: String,
}

#[derive(Serialize, Deserialize, Clone, Copy, Default, PartialEq, Eq, Debug)]
pub(crate) struct Totals {
    pub(crate) passed: usize,
    pub(crate) failed: usize,
}

impl Record {
    /// The record of expectation `position_in_file` of `t`, the `file`-th file,
    /// at global `position`. Runs on the worker thread.
    pub(crate) fn new(
        t: &Topology,
        file: usize,
        position: usize,
        position_in_file: usize,
        report: ExpectationReport,
        verbose: bool,
    ) -> Record {
        let o = &report.outcome;
        let passed = report.passed();
        Record {
            file,
            position,
            position_in_file,
            name: report.name,
            passed,
            result: Outcome {
                expected: t.expectations[position_in_file].result.as_str().to_string(),
                observed: o.result.as_str().to_string(),
            },
            summary: o.summary(),
            mismatches: report.mismatches,
            trace: (!passed || verbose).then(|| o.render()),
            drop: o.drop.as_ref().map(|d| DropInfo {
                reason: d.reason.as_str().to_string(),
                at: d.at.map(|c| c.id(t).to_string()),
                leg: if d.leg == Leg::Forward { "forward" } else { "return" }.to_string(),
            }),
        }
    }

    /// The record's lines in the text output, control characters escaped.
    pub(crate) fn text(&self) -> String {
        use std::fmt::Write as _;
        let mut out = String::new();
        if self.passed {
            let _ = writeln!(out, "  ok    {} ({})", self.name, self.summary);
        } else {
            let _ = writeln!(out, "  FAIL  {}", self.name);
            for m in &self.mismatches {
                let _ = writeln!(out, "        {m}");
            }
        }
        for line in self.trace.iter().flat_map(|t| t.lines()) {
            let _ = writeln!(out, "        | {line}");
        }
        vpcsim_scenario::printable(&out).into_owned()
    }
}

/// Prints records as they come, as text or (at the end) as one JSON document.
/// `check` and `merge` drive it with the same calls: `file` for each file in
/// order, then `record` for each of its records in order, then `finish`.
pub(crate) struct Printer {
    json: bool,
    doc: Results,
}

impl Printer {
    pub(crate) fn new(json: bool, verbose: bool, shard: Option<Shard>) -> Printer {
        let doc = Results {
            schema_version: SCHEMA_VERSION,
            verbose,
            files: Vec::new(),
            shard,
            expectations: Vec::new(),
            totals: Totals::default(),
        };
        Printer { json, doc }
    }

    pub(crate) fn file(&mut self, info: FileInfo) {
        if !self.json {
            print!("{}", vpcsim_scenario::printable(&format!("{}: {}\n", info.path, info.scenario)));
        }
        self.doc.files.push(info);
    }

    pub(crate) fn record(&mut self, record: Record) {
        if record.passed {
            self.doc.totals.passed += 1;
        } else {
            self.doc.totals.failed += 1;
        }
        if self.json {
            self.doc.expectations.push(record);
        } else {
            print!("{}", record.text());
        }
    }

    /// Prints the totals (or the document); an error when any expectation failed.
    pub(crate) fn finish(self) -> Result<(), Failure> {
        let Totals { passed, failed } = self.doc.totals;
        if self.json {
            let text = serde_json::to_string_pretty(&self.doc).map_err(|e| Failure::Io(e.to_string()))?;
            println!("{text}");
        } else {
            println!("{passed} passed, {failed} failed");
        }
        if failed > 0 { Err(Failure::ExpectationsFailed { failed }) } else { Ok(()) }
    }
}

/// `vpcsim merge`: the shards' results, checked for agreement, printed as one
/// run over the same files would print them.
pub(crate) fn merge(paths: &[std::path::PathBuf], json: bool) -> Result<(), Failure> {
    let mut shards = Vec::new();
    for path in paths {
        shards.push((path.display().to_string(), read(path)?));
    }
    let merged = combine(shards).map_err(Failure::BadResults)?;
    let mut printer = Printer::new(json, merged.verbose, None);
    let mut records = merged.expectations.into_iter().peekable();
    for (i, info) in merged.files.into_iter().enumerate() {
        printer.file(info);
        while let Some(r) = records.next_if(|r| r.file == i) {
            printer.record(r);
        }
    }
    printer.finish()
}

/// One results file, its schema version checked before its shape.
fn read(path: &std::path::Path) -> Result<Results, Failure> {
    let name = path.display();
    let text = std::fs::read_to_string(path).map_err(|e| Failure::BadResults(format!("cannot read {name}: {e}")))?;
    let not_results =
        |e: serde_json::Error| Failure::BadResults(format!("{name}: not the results of `vpcsim check --json`: {e}"));
    // The version first: a later schema may not have this one's shape.
    let object: serde_json::Map<String, serde_json::Value> = serde_json::from_str(&text).map_err(not_results)?;
    match object.get("schema_version") {
        Some(v) if v.as_u64() == Some(SCHEMA_VERSION) => {}
        Some(v) => {
            return Err(Failure::BadResults(format!(
                "{name}: schema_version {v}; this vpcsim reads schema_version {SCHEMA_VERSION}"
            )));
        }
        None => return Err(Failure::BadResults(format!("{name}: no schema_version; is it `vpcsim check --json`?"))),
    }
    serde_json::from_str(&text).map_err(not_results)
}

/// The shards put together, or why they do not fit: every shard of one split
/// exactly once, over the same files, each holding exactly its expectations.
fn combine(shards: Vec<(String, Results)>) -> Result<Results, String> {
    let Some((first_name, first)) = shards.first() else { return Err("no results to merge".to_string()) };
    let (files, verbose) = (first.files.clone(), first.verbose);
    let count = first.shard.map_or(1, |s| s.count);
    let which = |s: Option<Shard>| s.map_or("a whole run (no --shard)".to_string(), |s| format!("shard {s}"));
    // Counts out of files are untrusted: nothing is sized or summed by them
    // unchecked.
    let offsets: Vec<usize> = files
        .iter()
        .scan(0usize, |next, f| {
            let at = *next;
            *next = next.saturating_add(f.expectations);
            Some(at)
        })
        .collect();
    let total = files.iter().fold(0usize, |sum, f| sum.saturating_add(f.expectations));
    let mut seen = std::collections::BTreeMap::new();
    for (name, r) in &shards {
        let shard = r.shard.unwrap_or(Shard { index: 1, count: 1 });
        if shard.count != count {
            return Err(format!(
                "{name} is {}, {first_name} is {}: the shards of one run share their N",
                which(r.shard),
                which(first.shard)
            ));
        }
        if r.files != files {
            return Err(format!(
                "{name} and {first_name} are about different files: {}",
                describe_difference(&files, &r.files)
            ));
        }
        if r.verbose != verbose {
            return Err(format!("{name} and {first_name} disagree on -v: shards are run with the same flags"));
        }
        if !(1..=count).contains(&shard.index) {
            return Err(format!("{name}: shard {shard} is not a shard"));
        }
        if let Some(other) = seen.insert(shard.index, name) {
            return Err(format!("{other} and {name} are both {}", which(r.shard)));
        }
        // Each record where it says it is, and the shard's records all there.
        let mut mine =
            std::iter::successors(Some(shard.index - 1), |k| k.checked_add(count)).take_while(|&k| k < total);
        let (mut passed, mut failed) = (0, 0);
        for (i, rec) in r.expectations.iter().enumerate() {
            let at = || format!("{name}: expectations[{i}] ({:?})", rec.name);
            let Some(&offset) = offsets.get(rec.file) else {
                return Err(format!("{}: file {} is not in its files", at(), rec.file));
            };
            if rec.position_in_file >= files[rec.file].expectations
                || offset.checked_add(rec.position_in_file) != Some(rec.position)
            {
                return Err(format!(
                    "{}: position {} is not expectation {} of file {}",
                    at(),
                    rec.position,
                    rec.position_in_file,
                    rec.file
                ));
            }
            if mine.next() != Some(rec.position) {
                return Err(format!(
                    "{}: shard {shard} holds the expectations at positions k with k mod {count} = {}, in order; \
                     position {} is not the next of them",
                    at(),
                    shard.index - 1,
                    rec.position
                ));
            }
            if rec.passed {
                passed += 1;
            } else {
                failed += 1;
            }
        }
        if let Some(k) = mine.next() {
            return Err(format!("{name}: shard {shard} lacks the expectation at position {k}"));
        }
        if r.totals != (Totals { passed, failed }) {
            return Err(format!(
                "{name}: its totals ({} passed, {} failed) are not those of its expectations ({passed} passed, {failed} failed)",
                r.totals.passed, r.totals.failed
            ));
        }
    }
    if seen.len() < count {
        let missing: Vec<String> =
            (1..=count).filter(|i| !seen.contains_key(i)).take(5).map(|i| format!("{i}/{count}")).collect();
        let more = count - seen.len() - missing.len();
        let more = if more > 0 { format!(" and {more} more") } else { String::new() };
        let (noun, verb) = if count - seen.len() == 1 { ("shard", "is") } else { ("shards", "are") };
        return Err(format!("{noun} {}{more} {verb} missing", missing.join(", ")));
    }
    let mut expectations: Vec<Record> = shards.into_iter().flat_map(|(_, r)| r.expectations).collect();
    expectations.sort_by_key(|r| r.position);
    let failed = expectations.iter().filter(|r| !r.passed).count();
    let totals = Totals { passed: expectations.len() - failed, failed };
    Ok(Results { schema_version: SCHEMA_VERSION, verbose, files, shard: None, expectations, totals })
}

/// The first way two file lists differ, said briefly.
fn describe_difference(a: &[FileInfo], b: &[FileInfo]) -> String {
    if a.len() != b.len() {
        return format!("{} files against {}", a.len(), b.len());
    }
    let Some((i, (x, y))) = a.iter().zip(b).enumerate().find(|(_, (x, y))| x != y) else {
        return "they are the same".to_string();
    };
    if x.path != y.path {
        format!("file {i} is {:?} in one and {:?} in the other", x.path, y.path)
    } else if x.scenario != y.scenario {
        format!("{:?} is the scenario {:?} in one and {:?} in the other", x.path, x.scenario, y.scenario)
    } else {
        format!("{:?} has {} expectations in one and {} in the other", x.path, x.expectations, y.expectations)
    }
}
