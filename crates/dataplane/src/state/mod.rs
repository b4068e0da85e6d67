//! What the pipeline reads and keeps: tables compiled once from the topology
//! (route tables `fib`, security groups and network ACLs `filter`, who owns
//! which address `addresses`, the resolver's names `resolver`) and the state
//! that changes with traffic (connection tracking `conntrack`, NAT gateway
//! sessions `nat`, gateway flows `flows`, interface endpoints' states and
//! flows `endpoints`, `counters`; every flow table but conntrack is an
//! `expiring` table). No stage of the pipeline here: state uses
//! only `wire` and `trace`.

pub(crate) mod addresses;
pub mod conntrack;
pub(crate) mod counters;
pub mod endpoints;
pub mod expiring;
pub mod fib;
pub mod filter;
pub mod flows;
pub mod nat;
pub mod resolver;
