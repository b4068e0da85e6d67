//! Virtual hosts: real TCP/IP stacks (smoltcp) that send and receive Ethernet
//! frames, driven entirely by the caller in simulated time.
//!
//! A [`VirtualHost`] is one virtual machine with one network interface (one
//! ENI). The caller pushes frames in ([`VirtualHost::receive`]), runs the stack
//! at simulated instants ([`VirtualHost::poll`]), takes the frames it sent
//! ([`VirtualHost::take_transmitted`]) and asks when to poll next
//! ([`VirtualHost::poll_at`]). It reads no clock, starts no thread and does no
//! I/O: the same configuration, seed and calls give byte-identical frames.
//!
//! Every host answers ping (IPv4 and IPv6) and runs the servers of its
//! configuration: `tcp/N` accepts any number of connections and echoes what it
//! receives, `udp/N` echoes each datagram to its sender. Probes (`tcp_connect`,
//! `udp_probe`, `ping`) are the client side; their outcome is a
//! [`ProbeStatus`].
//!
//! Modules:
//! - `config`: [`HostConfig`], and how a host of a [`Topology`](vpcsim_model::Topology) is configured;
//! - `device`: the in-memory Ethernet device smoltcp reads and writes;
//! - `host`: the stack, its servers and its probes;
//! - `neighbours`: boot-time gateway resolution and neighbour confirmation,
//!   which smoltcp lacks (so the first reply to a new peer is not lost);
//! - `rng`: the seeded generator (ephemeral ports, ICMP identifiers, seeds).
//!
//! Architecture invariant: deterministic. Time is only what the caller passes;
//! randomness only comes from the configured seed; no `HashMap` with a random
//! hasher.

mod config;
mod device;
mod host;
mod neighbours;
mod rng;

pub use config::{DEFAULT_MTU, HostConfig};
pub use host::{AppRequest, HostStats, ProbeId, ProbeStatus, VirtualHost};
pub use rng::splitmix64;
