//! `vpcsim check`: the expectations of every file (or of one shard of them),
//! checked on worker threads, printed in file order whatever the number of
//! threads.

use std::path::PathBuf;

use vpcsim_engine::SimConfig;

use crate::Failure;
use crate::results::{FileInfo, Printer, Record, Shard};

/// How `check` runs and prints.
pub(crate) struct Options {
    pub(crate) verbose: bool,
    /// Worker threads; at least 1.
    pub(crate) jobs: usize,
    pub(crate) shard: Option<Shard>,
    pub(crate) json: bool,
    /// Loading and probing times on stderr.
    pub(crate) timings: bool,
}

/// The default of `--jobs`: one worker per core.
pub(crate) fn default_jobs() -> usize {
    std::thread::available_parallelism().map_or(1, usize::from)
}

/// `--jobs` as clap parses it: a whole number, at least 1.
pub(crate) fn parse_jobs(s: &str) -> Result<usize, String> {
    match s.trim().parse::<usize>() {
        Ok(0) => Err("at least 1 job is needed".to_string()),
        Ok(n) => Ok(n),
        Err(_) => Err(format!("a whole number of jobs, not {s:?}")),
    }
}

pub(crate) fn check(files: &[PathBuf], options: &Options) -> Result<(), Failure> {
    let started = std::time::Instant::now();
    let loaded = crate::load_all(files)?;
    // Compiled once per file (route tables, filters, address owners), before
    // any probe: part of loading, which is serial.
    let compiled: Vec<_> =
        loaded.iter().map(|(_, t)| vpcsim_dataplane::Compiled::new(std::sync::Arc::clone(t))).collect();
    let load_time = started.elapsed();
    let mut printer = Printer::new(options.json, options.verbose, options.shard);
    // Every file's expectations in one list (the shard's share of it), so
    // that the workers go from one file to the next without waiting.
    let mut items = Vec::new();
    let mut offsets = Vec::new();
    let mut offset = 0;
    for (index, (_, t)) in loaded.iter().enumerate() {
        offsets.push(offset);
        let n = t.expectations.len();
        items.extend((0..n).filter(|&i| options.shard.is_none_or(|s| s.owns(offset + i))).map(|i| (index, i)));
        offset += n;
    }
    let info = |index: usize| {
        let (path, t) = &loaded[index];
        FileInfo { path: path.clone(), scenario: t.name.clone(), expectations: t.expectations.len() }
    };
    // A file's header goes out before its first record, and after the
    // records of the files before it.
    let mut headed = 0;
    vpcsim_engine::check_many(
        &compiled,
        SimConfig::default(),
        &items,
        options.jobs,
        |index, i, report| Record::new(&loaded[index].1, index, offsets[index] + i, i, report, options.verbose),
        |index, _, record| {
            while headed <= index {
                printer.file(info(headed));
                headed += 1;
            }
            printer.record(record);
        },
    );
    while headed < loaded.len() {
        printer.file(info(headed));
        headed += 1;
    }
    if options.timings {
        // Wall clock, for the user: never part of what is checked.
        let probe_time = started.elapsed().saturating_sub(load_time);
        let n = items.len();
        eprintln!(
            "timings: loaded and compiled {} file{} in {:.3} s; {n} probe{} in {:.3} s on {} thread{} ({:.1} µs of wall time per probe)",
            loaded.len(),
            if loaded.len() == 1 { "" } else { "s" },
            load_time.as_secs_f64(),
            if n == 1 { "" } else { "s" },
            probe_time.as_secs_f64(),
            options.jobs,
            if options.jobs == 1 { "" } else { "s" },
            probe_time.as_secs_f64() * 1e6 / n.max(1) as f64
        );
    }
    printer.finish()
}
