//! The event engine: virtual hosts (real smoltcp stacks) and the one data
//! plane, in simulated time.
//!
//! - `sim`: the discrete-event scheduler, hosts and fabric together.
//! - `probe`: one probe (TCP handshake, UDP echo, ping) in a fresh simulation,
//!   and what the data plane recorded on its way.
//! - `check`: expectations compared with probes.
//! - `run`: the scenario's flows, and a summary.
//! - `pcap`: capture files in simulated time.
//!
//! Architecture invariant: nothing here decides whether a packet passes; the
//! fabric does. The engine only moves frames and time.

mod check;
pub mod pcap;
mod probe;
mod run;
mod services;
mod sim;

pub use check::{ExpectationReport, check, check_many, check_one};
pub use probe::{ObservedDrop, ProbeOutcome, ProbeSpec, legs, run_probe, run_probe_on};
pub use run::{ComponentReport, FlowReport, RunReport, run};
pub use sim::{Record, Segment, Sim, SimConfig};
