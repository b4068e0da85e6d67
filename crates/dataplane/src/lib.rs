//! The one data plane of vpcsim, sans-IO.
//!
//! A frame (real bytes) and the fabric state go in; what comes out is the frame
//! to deliver (rewritten: MACs, TTL, translated addresses, checksums), or a drop
//! with its reason and place, and a trace of every decision. The event engine,
//! `check`, `trace`, the benchmarks and the tests all drive this same pipeline:
//! no AWS rule is decided anywhere else.
//!
//! Modules, lowest layer first (a module uses only those above it in this list):
//! - `wire`: byte formats. `packet` parses a frame once and rewrites it in
//!   place with checksums kept right; `geneve` is the Gateway Load Balancer's
//!   encapsulation; `answers` the bytes of the link-local services' answers.
//! - `trace`: drop reasons, components, and the decision trace.
//! - `state`: what the pipeline reads and keeps: compiled route tables
//!   (`fib`), security-group and network-ACL matching (`filter`), address
//!   owners, the resolver's names, connection tracking (`conntrack`), NAT
//!   gateway sessions (`nat`), gateway flows, interface endpoints' states and
//!   flows (every flow table but conntrack an `expiring` table), counters.
//! - `pipeline`: the stages, one file per family, and the one loop that runs
//!   them (`Cx::run`); in the order a packet meets them: `neighbours` (ARP,
//!   NDP), `link_local` (the Amazon DNS server, instance metadata, time
//!   service), `vpc` (an ENI sends: source/destination check, security-group
//!   egress; the route table; an ENI receives: NACL ingress, security-group
//!   ingress), `gateways` (the internet and internet gateways, gateway route
//!   tables, gateway endpoints, NAT gateways, egress-only internet gateways,
//!   peering), `endpoints` (interface endpoints), `load_balancers` (network
//!   and Gateway Load Balancers), `transit` (transit gateways, VPN gateways,
//!   on-premises networks).
//! - `fabric`: [`Compiled`], a topology compiled once and shared, and
//!   [`Fabric`], one simulation's state over it, with [`Fabric::process`],
//!   the entry point.

mod fabric;
mod pipeline;
mod state;
mod trace;
mod wire;

pub use fabric::{Compiled, EndpointRef, Fabric};
pub use pipeline::Verdict;
pub use state::counters::Counters;
pub use trace::{Component, Direction, Drop, DropReason, NaclDecision, SgDecision, Step, Trace};
pub use wire::packet;

// What only the tests, the benchmarks and the fuzz targets reach into.
#[doc(hidden)]
pub use state::{conntrack, fib, filter, nat::NatTable};
#[doc(hidden)]
pub use wire::geneve;
