//! Frame counts of a fabric.

use std::collections::BTreeMap;

use crate::trace::{Component, DropReason};

/// Frame counts.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Counters {
    pub received: u64,
    pub delivered: u64,
    pub replies: u64,
    pub absorbed: u64,
    /// Drops by reason (index: `DropReason as usize`).
    pub dropped: [u64; DropReason::ALL.len()],
    /// Drops by the component that dropped.
    pub(crate) dropped_at: BTreeMap<Component, u64>,
    /// Frames that crossed each internet gateway.
    pub(crate) igw_crossed: Vec<u64>,
}

impl Counters {
    pub fn dropped(&self, reason: DropReason) -> u64 {
        self.dropped[reason.slot()]
    }

    pub fn total_dropped(&self) -> u64 {
        self.dropped.iter().sum()
    }
}
