//! What the pipeline reads and keeps: tables compiled once from the topology
//! (route tables `fib`, security groups and network ACLs `filter`, who owns
//! which address `addresses`, the resolver's names `resolver`, transit
//! gateway route tables and attachments `transit`) and the state
//! that changes with traffic (connection tracking `conntrack`, NAT gateway
//! sessions `nat`, gateway flows `flows`, interface endpoints' states and
//! flows `endpoints`, `counters`; every flow table but conntrack is an
//! `expiring` table). No stage of the pipeline here: state uses
//! only `wire` and `trace`.

pub(crate) mod addresses;
#[doc(hidden)]
pub mod conntrack;
pub(crate) mod counters;
pub(crate) mod endpoints;
pub(crate) mod expiring;
#[doc(hidden)]
pub mod fib;
#[doc(hidden)]
pub mod filter;
pub(crate) mod flows;
pub(crate) mod nat;
pub(crate) mod resolver;
pub(crate) mod transit;
