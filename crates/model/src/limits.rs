//! Documented maxima of a scenario (docs/reliability.md, "Limits"). The
//! scenario crate refuses a file past them, located; the engine also
//! saturates its clock at [`MAX_SIM_TIME`], so a model built by hand cannot
//! overflow simulated time either.

use std::time::Duration;

/// The latest instant a scenario may name: an expectation's `at`, a flow's
/// `start`, an event's `at`. One year of simulated time.
pub const MAX_TIME: Duration = Duration::from_secs(365 * 24 * 3600);

/// The longest an expectation (or `vpcsim trace`) may wait for its answer:
/// one hour. A stack retransmits all along, and every frame is recorded.
pub const MAX_TIMEOUT: Duration = Duration::from_secs(3600);

/// The longest one pass through the fabric may take (`hop_latency`). A TCP
/// handshake takes about six passes (neighbour discovery both ways, SYN,
/// SYN-ACK), which must fit the default one-second timeout with room to spare.
pub const MAX_HOP_LATENCY: Duration = Duration::from_millis(100);

/// Requests of all of a scenario's flows together.
pub const MAX_REQUESTS: u32 = 100_000;

/// Where simulated time stops: the latest scenario instant plus the longest
/// wait, with a day to spare. Far below what `Duration` (584 billion years)
/// and smoltcp's clock (292,000 years of microseconds) can hold.
pub const MAX_SIM_TIME: Duration = Duration::from_secs(MAX_TIME.as_secs() + MAX_TIMEOUT.as_secs() + 24 * 3600);

/// `a + b`, held at [`MAX_SIM_TIME`]: simulated time never overflows.
pub fn sim_add(a: Duration, b: Duration) -> Duration {
    a.saturating_add(b).min(MAX_SIM_TIME)
}
