//! Benchmark support: the traffic that measures the one data plane.
//!
//! - `shapes`: scenario text of a chosen size (routes, rules), generated.
//! - [`Org`]: organisation-shaped scenario text (many VPCs of subnets of
//!   hosts, optionally joined by a transit gateway or peerings), generated,
//!   to measure `vpcsim validate` and `vpcsim check` at scale.
//! - `frames`: real Ethernet frames (etherparse), and in-place port rewrites.
//! - `driver`: `vpcsim bench`, established flows on W worker threads, one
//!   fabric (connection-tracking shard) per worker, sharded by flow hash.
//!
//! Architecture invariant: nothing here decides whether a packet passes; every
//! frame goes through `Fabric::process`.

mod driver;
mod org;
// The criterion benches and the crate's tests build their inputs from these.
#[doc(hidden)]
pub mod frames;
#[doc(hidden)]
pub mod shapes;

pub use driver::{BenchError, Config, MAX_FLOWS, MAX_WORKERS, Report, run};
pub use org::{Org, OrgError};
