//! Frame counts of a fabric.

use crate::trace::DropReason;

/// Frame counts.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Counters {
    /// Frames ENIs sent into the fabric.
    pub received: u64,
    /// Frames delivered to an ENI.
    pub delivered: u64,
    /// Frames the VPC answered itself: ARP and neighbour discovery, the Amazon
    /// DNS server, the instance metadata and time services.
    pub replies: u64,
    /// Frames taken with nothing to do: an ARP reply, a request nobody answers.
    pub absorbed: u64,
    /// Drops by reason (index: `DropReason as usize`).
    pub dropped: [u64; DropReason::ALL.len()],
}

impl Counters {
    /// Frames dropped for `reason`.
    pub fn dropped(&self, reason: DropReason) -> u64 {
        self.dropped[reason.slot()]
    }

    /// Frames dropped, for any reason.
    pub fn total_dropped(&self) -> u64 {
        self.dropped.iter().sum()
    }
}
