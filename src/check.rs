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
    let loaded = crate::load_all(files)?;
    let mut printer = Printer::new(options.json, options.verbose, options.shard);
    let mut offset = 0;
    for (index, (path, t)) in loaded.iter().enumerate() {
        let n = t.expectations.len();
        printer.file(FileInfo { path: path.clone(), scenario: t.name.clone(), expectations: n });
        let positions: Vec<usize> = (0..n).filter(|&i| options.shard.is_none_or(|s| s.owns(offset + i))).collect();
        vpcsim_engine::check_each(
            t,
            SimConfig::default(),
            &positions,
            options.jobs,
            |i, report| Record::new(t, index, offset + i, i, report, options.verbose),
            |_, record| printer.record(record),
        );
        offset += n;
    }
    printer.finish()
}
