//! Writes an organisation-shaped scenario (see `vpcsim_bench::Org`), to
//! measure vpcsim at scale:
//!
//! ```sh
//! cargo run --release -p vpcsim-bench --example org -- \
//!     --vpcs 1000 --subnets 4 --hosts 25 --expects 10000 \
//!     [--transit-gateway] [--peering] [--gateway-endpoint] [--seed N] [-o org.toml]
//! ```
//!
//! The scenario goes to stdout, or to the file `-o` names.

use std::io::Write as _;
use std::process::ExitCode;

use vpcsim_bench::Org;

const USAGE: &str = "usage: org [--vpcs N] [--subnets N] [--hosts N] [--expects N] [--seed N]
           [--transit-gateway] [--peering] [--gateway-endpoint] [-o FILE]

Writes an organisation-shaped vpcsim scenario: N VPCs of --subnets subnets of
--hosts instances each (defaults: 10 VPCs, 4 subnets, 25 hosts, 100 expectations,
seed 1), to stdout or to FILE.";

fn parse() -> Result<(Org, Option<String>), String> {
    let mut org = Org::default();
    let mut out = None;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut number = |name: &str| -> Result<u64, String> {
            let v = args.next().ok_or(format!("{name} needs a value"))?;
            v.replace('_', "").parse().map_err(|e| format!("{name} {v}: {e}"))
        };
        match arg.as_str() {
            "--vpcs" => org.vpcs = number("--vpcs")? as usize,
            "--subnets" => org.subnets_per_vpc = number("--subnets")? as usize,
            "--hosts" => org.hosts_per_subnet = number("--hosts")? as usize,
            "--expects" => org.expects = number("--expects")? as usize,
            "--seed" => org.seed = number("--seed")?,
            "--transit-gateway" => org.transit_gateway = true,
            "--peering" => org.peering = true,
            "--gateway-endpoint" => org.gateway_endpoint = true,
            "-o" | "--output" => out = Some(args.next().ok_or("-o needs a file name")?),
            "-h" | "--help" => return Err(String::new()),
            other => return Err(format!("unknown argument `{other}`")),
        }
    }
    Ok((org, out))
}

fn main() -> ExitCode {
    let (org, out) = match parse() {
        Ok(p) => p,
        Err(e) if e.is_empty() => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("org: {e}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let text = match org.to_toml() {
        Ok(t) => t,
        Err(e) => {
            eprintln!("org: {e}");
            return ExitCode::from(2);
        }
    };
    let written = match &out {
        Some(path) => std::fs::write(path, text.as_bytes()),
        None => std::io::stdout().lock().write_all(text.as_bytes()),
    };
    if let Err(e) = written {
        eprintln!("org: cannot write {}: {e}", out.as_deref().unwrap_or("to stdout"));
        return ExitCode::FAILURE;
    }
    eprintln!("org: {} VPCs, {} hosts, {} expectations, {} bytes", org.vpcs, org.hosts(), org.expects, text.len());
    ExitCode::SUCCESS
}
