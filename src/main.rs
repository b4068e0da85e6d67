//! The `vpcsim` command line: arguments and glue only. Loading and validating
//! scenarios is the scenario crate's job; this file owns the terminal and the
//! exit codes.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use clap::{Parser, Subcommand};

mod check;
mod results;
use vpcsim_dataplane::Verdict;
use vpcsim_engine::{ProbeSpec, SimConfig};
use vpcsim_model::{Leg, Topology};

#[derive(Parser)]
#[command(name = "vpcsim", version, about = "A packet-level simulator of AWS VPC networking")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

// Parsed once per run: the size of the largest variant does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Subcommand)]
enum Command {
    /// Check that scenario files are valid and summarise what they describe.
    Validate {
        /// Scenario files (TOML).
        #[arg(required = true, value_name = "FILE")]
        files: Vec<PathBuf>,
    },
    /// Run every `[[expect]]` as a probe of real frames and report which hold.
    Check {
        /// Scenario files (TOML).
        #[arg(required = true, value_name = "FILE")]
        files: Vec<PathBuf>,
        /// Tell every probe's story, not only the failing ones'.
        #[arg(short, long)]
        verbose: bool,
        /// Check on N threads (default: one per core); the output is the same.
        #[arg(long, value_name = "N", value_parser = check::parse_jobs)]
        jobs: Option<usize>,
        /// Check only shard I of N (I from 1): the expectations at global
        /// positions k (over all files, in order, from 0) with k mod N = I - 1.
        #[arg(long, value_name = "I/N", value_parser = results::parse_shard)]
        shard: Option<results::Shard>,
        /// Print one JSON document (schema in docs/scale.md) instead of text.
        #[arg(long)]
        json: bool,
        /// Say on stderr how long loading and the probes took (wall clock).
        #[arg(long)]
        timings: bool,
    },
    /// Put together the `check --json` results of the shards of one run and
    /// print what that run would have printed, exit code included.
    Merge {
        /// Results files (`vpcsim check --json --shard I/N` output), one per shard.
        #[arg(required = true, value_name = "RESULTS")]
        results: Vec<PathBuf>,
        /// Print the JSON document of one `check --json` run instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Send one probe and tell its story hop by hop, forward and return.
    Trace {
        /// Scenario file (TOML).
        #[arg(value_name = "FILE")]
        file: PathBuf,
        /// The host that sends the probe (its id).
        #[arg(long)]
        from: String,
        /// A host id, an IP address, a DNS name.
        #[arg(long)]
        to: String,
        /// tcp, udp, icmp or icmpv6.
        #[arg(long)]
        proto: String,
        /// The destination port (tcp, udp).
        #[arg(long)]
        port: Option<i64>,
        /// When to send, in simulated time (e.g. "2s").
        #[arg(long)]
        at: Option<String>,
        /// How long to wait (default 1s).
        #[arg(long)]
        timeout: Option<String>,
        /// UDP: the payload size in bytes.
        #[arg(long)]
        size: Option<i64>,
        /// TCP to an AWS service: the request's action (e.g. s3:GetObject).
        #[arg(long, requires = "resource")]
        action: Option<String>,
        /// The request's resource ARN.
        #[arg(long, requires = "action")]
        resource: Option<String>,
        /// The request's principal (default: the source VPC's account root).
        #[arg(long, requires = "action")]
        principal: Option<String>,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Simulate the scenario's flows and report what happened.
    Run {
        /// Scenario file (TOML).
        #[arg(value_name = "FILE")]
        file: PathBuf,
        /// Write one pcap file per subnet (and the internet) into this directory.
        #[arg(long, value_name = "DIR")]
        pcap: Option<PathBuf>,
    },
    /// Measure forwarding: established flows between the scenario's hosts,
    /// as real frames, through the data plane on W worker threads.
    Bench {
        /// Scenario file (TOML).
        #[arg(value_name = "FILE")]
        file: PathBuf,
        /// Timed packets, both directions together.
        #[arg(long, default_value_t = 1_000_000)]
        packets: u64,
        /// Worker threads, each with its own fabric (connection-tracking shard).
        #[arg(long, default_value_t = 1)]
        workers: usize,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Write a scenario from a real network's configuration.
    Import {
        #[command(subcommand)]
        source: ImportSource,
    },
}

#[derive(Subcommand)]
enum ImportSource {
    /// Read the JSON of `aws ec2 describe-… --output json > FILE` (docs/import.md).
    Aws {
        /// The directory of JSON files (and region folders one level down).
        #[arg(value_name = "DIR")]
        dir: PathBuf,
        /// Write the scenario here (replaced whole, only on success) instead of stdout.
        #[arg(short, long, value_name = "FILE")]
        output: Option<PathBuf>,
        /// Treat every warning as an error: nothing is written.
        #[arg(long)]
        strict: bool,
    },
}

/// Why a command did not succeed. Each maps to one exit code in [`Failure::exit_code`].
enum Failure {
    /// At least one file is not a valid scenario (or could not be read); the
    /// diagnostics are already printed.
    InvalidScenario { invalid: usize, total: usize },
    /// `check`: some expectations did not hold (already printed).
    ExpectationsFailed { failed: usize },
    /// Writing output failed.
    Io(String),
    /// `merge`: results that cannot be read or do not fit together.
    BadResults(String),
    /// `import`: input that cannot be imported (or, with `--strict`, warnings).
    BadImport(String),
}

impl Failure {
    /// The exit codes of the contract: 1 when expectations failed, 2 when a
    /// file is not a valid scenario (or not results `merge` can use), as for
    /// the usage errors clap reports.
    fn exit_code(&self) -> u8 {
        match self {
            Failure::ExpectationsFailed { .. } | Failure::Io(_) => 1,
            Failure::InvalidScenario { .. } | Failure::BadResults(_) | Failure::BadImport(_) => 2,
        }
    }

    fn message(&self) -> String {
        match self {
            Failure::InvalidScenario { invalid, total } => {
                format!("{invalid} of {total} file{} not valid", if *total == 1 { " is" } else { "s are" })
            }
            Failure::ExpectationsFailed { failed } => {
                format!("{failed} expectation{} failed", if *failed == 1 { "" } else { "s" })
            }
            Failure::Io(e) => e.clone(),
            // Names out of a results file: untrusted, escaped.
            Failure::BadResults(e) | Failure::BadImport(e) => vpcsim_scenario::printable(e).into_owned(),
        }
    }
}

// Probes on several threads allocate and free at a high rate, and `check`
// hands each result to the printing thread, which frees it. With mimalloc,
// `check --jobs 2` ran 1.7× `--jobs 1` (glibc's malloc: 1.4×), and one
// thread's probes ran about 10% faster (docs/performance.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    // `vpcsim trace ... | head` should end quietly, as Unix tools do, not
    // panic on a closed pipe.
    #[cfg(unix)]
    // SAFETY: restoring the default disposition of SIGPIPE before any thread
    // starts; nothing else in the process handles it.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    let cli = Cli::parse();
    match run(cli.command) {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            eprintln!("error: {}", failure.message());
            ExitCode::from(failure.exit_code())
        }
    }
}

fn run(command: Command) -> Result<(), Failure> {
    match command {
        Command::Validate { files } => validate(&files),
        Command::Check { files, verbose, jobs, shard, json, timings } => {
            let jobs = jobs.unwrap_or_else(check::default_jobs);
            check::check(&files, &check::Options { verbose, jobs, shard, json, timings })
        }
        Command::Merge { results, json } => results::merge(&results, json),
        Command::Trace { file, from, to, proto, port, at, timeout, size, action, resource, principal, json } => {
            let request = action.zip(resource).map(|(a, r)| (a, r, principal));
            trace(&file, &vpcsim_scenario::ProbeArgs { from, to, proto, port, at, timeout, size, request }, json)
        }
        Command::Run { file, pcap } => run_flows(&file, pcap.as_deref()),
        Command::Bench { file, packets, workers, json } => bench(&file, packets, workers, json),
        Command::Import { source: ImportSource::Aws { dir, output, strict } } => {
            import_aws(&dir, output.as_deref(), strict)
        }
    }
}

/// `import aws`: warnings on stderr; the scenario on stdout or into `output`,
/// only when the import succeeded (with `--strict`, without a warning).
fn import_aws(dir: &Path, output: Option<&Path>, strict: bool) -> Result<(), Failure> {
    let (inputs, mut warnings) = vpcsim_import::read_dir(dir).map_err(|e| Failure::BadImport(e.to_string()))?;
    if inputs.is_empty() {
        return Err(Failure::BadImport(format!("{}: no .json file to import", dir.display())));
    }
    let imported = vpcsim_import::import_aws(&inputs).map_err(|e| Failure::BadImport(e.to_string()))?;
    warnings.extend(imported.warnings);
    for w in &warnings {
        eprintln!("{}: {}", if strict { "error" } else { "warning" }, vpcsim_scenario::printable(&w.to_string()));
    }
    if strict && !warnings.is_empty() {
        let n = warnings.len();
        return Err(Failure::BadImport(format!(
            "{n} warning{} with --strict; nothing written",
            if n == 1 { "" } else { "s" }
        )));
    }
    match output {
        None => print!("{}", imported.toml),
        Some(path) => {
            write_replacing(path, imported.toml.as_bytes())
                .map_err(|e| Failure::Io(format!("cannot write {}: {e}", path.display())))?;
            eprintln!(
                "wrote {} ({} warning{})",
                path.display(),
                warnings.len(),
                if warnings.len() == 1 { "" } else { "s" }
            );
        }
    }
    Ok(())
}

/// Writes `path` whole or not at all: into a new temporary file beside it,
/// then renamed over it, as `run --pcap` writes its captures.
fn write_replacing(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write as _;
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let name = path.file_name().ok_or_else(|| std::io::Error::other("not a file name"))?.to_string_lossy();
    let pid = std::process::id();
    let mut created = None;
    for n in 0..100u32 {
        let temporary = dir.join(format!(".{name}.{pid}.{n}.tmp"));
        match std::fs::OpenOptions::new().write(true).create_new(true).open(&temporary) {
            Ok(f) => {
                created = Some((f, temporary));
                break;
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(e),
        }
    }
    let (mut file, temporary) = created.ok_or_else(|| std::io::Error::other("no free temporary name"))?;
    let written = file.write_all(bytes).and_then(|()| file.sync_all());
    drop(file);
    match written.and_then(|()| std::fs::rename(&temporary, path)) {
        Ok(()) => Ok(()),
        Err(e) => {
            let _ = std::fs::remove_file(&temporary);
            Err(e)
        }
    }
}

fn bench(file: &Path, packets: u64, workers: usize, json: bool) -> Result<(), Failure> {
    let loaded = load_all(&[file.to_path_buf()])?;
    let Some((name, t)) = loaded.into_iter().next() else { return Ok(()) };
    let config = vpcsim_bench::Config { packets, workers, ..vpcsim_bench::Config::default() };
    let r = vpcsim_bench::run(t, &config).map_err(|e| Failure::Io(format!("{name}: {e}")))?;
    let drops: Vec<(&str, u64)> = r.dropped.iter().map(|&(reason, n)| (reason.as_str(), n)).collect();
    if json {
        let value = serde_json::json!({
            "file": name,
            "hosts": r.hosts,
            "pairs": r.pairs,
            "flows": r.flows,
            "workers": r.workers,
            "packets": r.packets,
            "elapsed_s": r.elapsed.as_secs_f64(),
            "packets_per_second": r.packets_per_second(),
            "ns_per_packet": r.ns_per_packet(),
            "pipeline_ns_per_packet": r.pipeline_ns_per_packet(),
            "worker_busy_s": r.busy.iter().map(|b| b.as_secs_f64()).collect::<Vec<_>>(),
            "delivered": r.delivered,
            "dropped": drops.iter().map(|&(k, n)| (k.to_string(), serde_json::json!(n))).collect::<serde_json::Map<_, _>>(),
            "other": r.other,
        });
        println!("{value}");
        return Ok(());
    }
    println!("{name}: {} hosts, {} pairs, {} established flows, {} worker(s)", r.hosts, r.pairs, r.flows, r.workers);
    println!(
        "  {} packets in {:.3} s: {:.2} M packets/s, {:.1} ns/packet (wall), {:.1} ns/packet in the pipeline per worker",
        r.packets,
        r.elapsed.as_secs_f64(),
        r.packets_per_second() / 1e6,
        r.ns_per_packet(),
        r.pipeline_ns_per_packet()
    );
    println!("  delivered {}, dropped {}, other {}", r.delivered, r.total_dropped(), r.other);
    for (reason, n) in drops {
        println!("    {reason}: {n}");
    }
    Ok(())
}

fn validate(files: &[PathBuf]) -> Result<(), Failure> {
    let mut invalid = 0;
    for path in files {
        match vpcsim_scenario::load_file(path) {
            Ok(topology) => print!("{}", summary(&path.display().to_string(), &topology)),
            Err(diagnostics) => {
                invalid += 1;
                eprint!("{diagnostics}");
                let n = diagnostics.errors.len();
                eprintln!("{}: not a valid scenario ({n} error{})\n", path.display(), if n == 1 { "" } else { "s" });
            }
        }
    }
    if invalid > 0 { Err(Failure::InvalidScenario { invalid, total: files.len() }) } else { Ok(()) }
}

/// Loads every file first: nothing is simulated when one is invalid.
fn load_all(files: &[PathBuf]) -> Result<Vec<(String, Arc<Topology>)>, Failure> {
    let mut loaded = Vec::new();
    let mut invalid = 0;
    for path in files {
        match vpcsim_scenario::load_file(path) {
            Ok(t) => loaded.push((path.display().to_string(), Arc::new(t))),
            Err(diagnostics) => {
                invalid += 1;
                eprint!("{diagnostics}");
            }
        }
    }
    if invalid > 0 { Err(Failure::InvalidScenario { invalid, total: files.len() }) } else { Ok(loaded) }
}

fn trace(file: &Path, probe: &vpcsim_scenario::ProbeArgs, json: bool) -> Result<(), Failure> {
    let (t, expectation) = vpcsim_scenario::load_file_with_probe(file, probe).map_err(|d| {
        eprint!("{d}");
        Failure::InvalidScenario { invalid: 1, total: 1 }
    })?;
    let t = Arc::new(t);
    let outcome = vpcsim_engine::run_probe(Arc::clone(&t), &ProbeSpec::from(&expectation), SimConfig::default());
    if json {
        println!("{}", trace_json(&outcome));
    } else {
        print!("{}", vpcsim_scenario::printable(&outcome.render()));
    }
    Ok(())
}

fn trace_json(o: &vpcsim_engine::ProbeOutcome) -> serde_json::Value {
    use serde_json::json;
    let t = &o.topology;
    let leg = |l: Leg| if l == Leg::Forward { "forward" } else { "return" };
    let source = t.host(o.spec.from).eni;
    let legs = vpcsim_engine::legs(t, &o.records, source);
    let frames: Vec<serde_json::Value> = o
        .records
        .iter()
        .zip(legs)
        .map(|(r, l)| {
            let verdict = match r.verdict {
                Verdict::Deliver(e) => json!({ "delivered": t.eni(e).id }),
                Verdict::Reply(e) => json!({ "reply": t.eni(e).id }),
                Verdict::Answered(e) => json!({ "answered": t.eni(e).id }),
                Verdict::Drop(d) => json!({ "dropped": { "reason": d.reason.as_str(), "at": d.at.id(t) } }),
                Verdict::Bounce(d, e) => json!({
                    "dropped": { "reason": d.reason.as_str(), "at": d.at.id(t) },
                    "icmp_error_to": t.eni(e).id,
                }),
                Verdict::Absorbed => json!("absorbed"),
            };
            json!({
                "time_s": r.time.as_secs_f64(),
                "leg": leg(l),
                "from": t.eni(r.from).id,
                "packet": r.packet.map(|p| p.to_string()),
                "verdict": verdict,
                "steps": r.steps.iter().map(|s| json!({ "kind": s.kind(), "text": s.render(t) })).collect::<Vec<_>>(),
            })
        })
        .collect();
    json!({
        "probe": {
            "from": t.host(o.spec.from).id,
            "to": o.dest.map(|d| d.to_string()),
            "proto": o.spec.proto.to_string(),
            "port": o.spec.port,
            "at_s": o.spec.at.as_secs_f64(),
            "timeout_s": o.spec.timeout.as_secs_f64(),
        },
        "result": o.result.as_str(),
        "drop": o.drop.as_ref().map(|d| json!({
            "reason": d.reason.as_str(),
            "at": d.at.map(|c| c.id(t).to_string()),
            "on": leg(d.leg),
        })),
        "via": o.crossed.iter().map(|c| c.id(t)).collect::<Vec<_>>(),
        "seen_source": o.seen_source.map(|s| s.to_string()),
        "frames": frames,
        "frames_not_recorded": o.truncated,
    })
}

fn run_flows(file: &Path, pcap: Option<&Path>) -> Result<(), Failure> {
    let loaded = load_all(&[file.to_path_buf()])?;
    let Some((name, t)) = loaded.into_iter().next() else { return Ok(()) };
    // A directory that cannot be written is found before the simulation, not after.
    if let Some(dir) = pcap {
        vpcsim_engine::pcap::prepare_dir(dir)
            .map_err(|e| Failure::Io(format!("cannot write pcaps into {}: {e}", dir.display())))?;
    }
    let config = SimConfig { capture: pcap.is_some(), ..SimConfig::default() };
    let bar = indicatif::ProgressBar::new(1000);
    bar.set_style(
        indicatif::ProgressStyle::with_template("{bar:40} simulated {msg}")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    let report = vpcsim_engine::run(&t, config, |now, end| {
        if end > Duration::ZERO {
            bar.set_position((now.as_secs_f64() / end.as_secs_f64() * 1000.0) as u64);
            bar.set_message(format!("{:.3}s of {:.3}s", now.as_secs_f64(), end.as_secs_f64()));
        }
    });
    bar.finish_and_clear();
    let mut out = String::new();
    let _ = writeln!(out, "{name}: {}", t.name);
    if let Some(d) = &t.description {
        let _ = writeln!(out, "  {d}");
    }
    let _ =
        writeln!(out, "simulated {:.3}s, {} frames through the fabric", report.ended_at.as_secs_f64(), report.frames);
    if report.truncated > 0 {
        let _ = writeln!(
            out,
            "note: only the first {} frames were recorded; the drops and component counts below leave out the other {}",
            report.frames - report.truncated,
            report.truncated
        );
    }
    if report.flows.is_empty() {
        let _ = writeln!(out, "no flows in this scenario ([[flow]] tables drive `run`)");
    }
    let _ = writeln!(out, "flows:");
    for f in &report.flows {
        let drops: Vec<String> = f.drops.iter().map(|(r, n)| format!("{r} {n}")).collect();
        let _ = writeln!(
            out,
            "  {}: {} requests, {} succeeded, {} refused, {} failed; {} bytes sent, {} received{}",
            f.label,
            f.requests,
            f.succeeded,
            f.refused,
            f.failed,
            f.bytes_sent,
            f.bytes_received,
            if drops.is_empty() { String::new() } else { format!("; drops: {}", drops.join(", ")) }
        );
    }
    if !report.sim.timeline.is_empty() {
        let _ = writeln!(out, "timeline:");
        for (at, change) in &report.sim.timeline {
            let _ = writeln!(out, "  {:>10.6}s  {change}", at.as_secs_f64());
        }
    }
    let _ = writeln!(out, "components:");
    for (id, c) in &report.components {
        let _ = writeln!(out, "  {id}: {} forwarded, {} dropped", c.forwarded, c.dropped);
    }
    print!("{}", vpcsim_scenario::printable(&out));
    if let Some(dir) = pcap {
        let captures = report.sim.captures();
        let names = vpcsim_engine::pcap::file_names(&t, captures.keys().copied());
        // Every capture is tried; a failure is reported after the others are written.
        let mut failed = Vec::new();
        for (segment, capture) in captures {
            let Some(file) = names.get(segment) else { continue };
            match vpcsim_engine::pcap::write_file(dir, file, capture.bytes()) {
                Ok(path) => println!("wrote {} ({} frames)", path.display(), capture.frames()),
                Err(e) => failed.push(format!("cannot write {}: {e}", dir.join(file).display())),
            }
        }
        if !failed.is_empty() {
            return Err(Failure::Io(failed.join("; ")));
        }
    }
    Ok(())
}

/// "1 VPC, 2 subnets, 1 route table (1 implicit main), ...": resources vpcsim
/// created (implicit, default, AWS-managed) are counted and said so.
fn summary(file: &str, t: &Topology) -> String {
    fn count(n: usize, one: &str, many: &str, special: (usize, &str)) -> String {
        let noun = if n == 1 { one } else { many };
        match special {
            (0, _) => format!("{n} {noun}"),
            (k, what) => format!("{n} {noun} ({k} {what})"),
        }
    }
    let implicit_rts = t.route_tables.iter().filter(|r| r.implicit).count();
    let gateway_rts: std::collections::BTreeSet<usize> = t
        .internet_gateways
        .iter()
        .filter_map(|g| g.route_table)
        .chain(t.vpn_gateways.iter().filter_map(|g| g.route_table))
        .map(|r| r.index())
        .collect();
    let mut route_tables = count(t.route_tables.len(), "route table", "route tables", (implicit_rts, "implicit main"));
    if !gateway_rts.is_empty() {
        let what = if gateway_rts.len() == 1 { "gateway route table" } else { "gateway route tables" };
        let n = gateway_rts.len();
        route_tables = match route_tables.strip_suffix(')') {
            Some(open) => format!("{open}, {n} {what})"),
            None => format!("{route_tables} ({n} {what})"),
        };
    }
    let managed_pls = t.prefix_lists.iter().filter(|p| p.managed.is_some()).count();
    let default_sgs = t.security_groups.iter().filter(|s| s.is_default).count();
    let default_nacls = t.nacls.iter().filter(|n| n.is_default).count();
    let graph = t.graph();
    let mut out = format!("{file}: valid — {:?}\n  ", t.name);
    let parts = [
        count(t.vpcs.len(), "VPC", "VPCs", (0, "")),
        count(t.subnets.len(), "subnet", "subnets", (0, "")),
        route_tables,
        count(t.prefix_lists.len(), "prefix list", "prefix lists", (managed_pls, "AWS-managed")),
        count(t.security_groups.len(), "security group", "security groups", (default_sgs, "default")),
        count(t.nacls.len(), "network ACL", "network ACLs", (default_nacls, "default")),
        count(t.internet_gateways.len(), "internet gateway", "internet gateways", (0, "")),
        count(t.hosts.iter().filter(|h| h.service.is_none()).count(), "host", "hosts", (0, "")),
        count(t.gateway_endpoints.len(), "gateway endpoint", "gateway endpoints", (0, "")),
        count(t.expectations.len(), "expectation", "expectations", (0, "")),
    ];
    out.push_str(&parts.join(", "));
    let regions: std::collections::BTreeSet<&str> = t.services.iter().map(|s| s.region.as_str()).collect();
    out.push_str(&format!(
        ", {} AWS services in {}",
        t.services.len(),
        regions.into_iter().collect::<Vec<_>>().join(", ")
    ));
    if !t.flows.is_empty() {
        out.push_str(&format!(", {}", count(t.flows.len(), "flow", "flows", (0, ""))));
    }
    let _ = writeln!(out, "; topology graph {} nodes, {} links", graph.node_count(), graph.link_count());
    out
}
