//! The `vpcsim` command line: arguments and glue only. Loading and validating
//! scenarios is the scenario crate's job; this file owns the terminal and the
//! exit codes.

use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use vpcsim_model::Topology;

#[derive(Parser)]
#[command(name = "vpcsim", version, about = "A packet-level simulator of AWS VPC networking")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Check that scenario files are valid and summarise what they describe.
    Validate {
        /// Scenario files (TOML).
        #[arg(required = true, value_name = "FILE")]
        files: Vec<PathBuf>,
    },
    // Room for `check`, `trace` and `run` once the engine exists.
}

/// Why a command did not succeed. Each maps to one exit code in [`Failure::exit_code`].
enum Failure {
    /// At least one file is not a valid scenario (or could not be read); the
    /// diagnostics are already printed.
    InvalidScenario { invalid: usize, total: usize },
}

impl Failure {
    /// The exit codes of the contract: 2 when a file is not a valid scenario.
    /// (`check` will use 1 for failed expectations.)
    fn exit_code(&self) -> u8 {
        match self {
            Failure::InvalidScenario { .. } => 2,
        }
    }

    fn message(&self) -> String {
        match self {
            Failure::InvalidScenario { invalid, total } => {
                format!("{invalid} of {total} file{} not valid", if *total == 1 { " is" } else { "s are" })
            }
        }
    }
}

fn main() -> ExitCode {
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
    }
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
    let managed_pls = t.prefix_lists.iter().filter(|p| p.managed.is_some()).count();
    let default_sgs = t.security_groups.iter().filter(|s| s.is_default).count();
    let default_nacls = t.nacls.iter().filter(|n| n.is_default).count();
    let graph = t.graph();
    let mut out = format!("{file}: valid — {:?}\n  ", t.name);
    let parts = [
        count(t.vpcs.len(), "VPC", "VPCs", (0, "")),
        count(t.subnets.len(), "subnet", "subnets", (0, "")),
        count(t.route_tables.len(), "route table", "route tables", (implicit_rts, "implicit main")),
        count(t.prefix_lists.len(), "prefix list", "prefix lists", (managed_pls, "AWS-managed")),
        count(t.security_groups.len(), "security group", "security groups", (default_sgs, "default")),
        count(t.nacls.len(), "network ACL", "network ACLs", (default_nacls, "default")),
        count(t.internet_gateways.len(), "internet gateway", "internet gateways", (0, "")),
        count(t.hosts.len(), "host", "hosts", (0, "")),
        count(t.expectations.len(), "expectation", "expectations", (0, "")),
    ];
    out.push_str(&parts.join(", "));
    if !t.flows.is_empty() {
        out.push_str(&format!(", {}", count(t.flows.len(), "flow", "flows", (0, ""))));
    }
    let _ = writeln!(out, "; topology graph {} nodes, {} links", graph.node_count(), graph.link_count());
    out
}
