//! The one data plane of vpcsim, sans-IO.
//!
//! A frame (real bytes) and the fabric state go in; what comes out is the frame
//! to deliver (rewritten: MACs, TTL, translated addresses, checksums), or a drop
//! with its reason and place, and a trace of every decision. The event engine,
//! `check`, `trace`, the benchmarks and the tests all drive this same pipeline:
//! no AWS rule is decided anywhere else.
//!
//! Modules, in the order a packet meets them:
//! - `packet`: parse a frame once; rewrite it in place with checksums kept right.
//! - `conntrack`: tracked flows, what makes security groups stateful.
//! - `filter`: security-group and network-ACL rule matching.
//! - `fib`: route tables compiled for longest prefix match.
//! - `fabric`: the pipeline itself, in AWS's order.
//! - `beyond`: NAT gateways, egress-only internet gateways, peering
//!   connections, as steps of that pipeline; `nat`: NAT gateways' sessions.
//! - `tgw`: transit gateways, VPN gateways and on-premises networks.
//! - `trace`: drop reasons, components, and the decision trace.

pub mod beyond;
pub mod conntrack;
pub mod endpoints;
pub mod fabric;
pub mod fib;
pub mod filter;
pub mod gwlb;
pub mod linklocal;
pub mod nat;
pub mod packet;
pub mod resolver;
pub mod tgw;
pub mod trace;

pub use fabric::{Counters, EndpointRef, Fabric, Verdict};
pub use trace::{Component, Direction, Drop, DropReason, NaclDecision, SgDecision, Step, Trace};
