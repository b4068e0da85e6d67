//! Connection tracking: what makes security groups stateful.
//!
//! Flows are tracked per ENI, keyed from the ENI's point of view (local and
//! remote address and port), so a packet out and its reply in find the same
//! entry. An entry is made when a security-group rule allows a new flow; while it
//! lives, packets of the flow pass both ways whatever the rules say.
//!
//! Timeouts follow AWS: TCP established 432,000 s, UDP 30 s (180 s once
//! traffic has gone both ways), other protocols 600 s. A TCP RST or a FIN each
//! way ends the connection: its entry lingers briefly so the last packets pass.
//!
//! The table is bounded: when full, expired entries are swept; if it is still
//! full, the new flow is refused and counted.

use std::net::IpAddr;
use std::time::Duration;

use rustc_hash::FxHashMap;
use vpcsim_model::{EniIdx, Protocol};

use crate::packet::{Meta, TCP_FIN, TCP_RST};
use crate::trace::Direction;

pub const TCP_ESTABLISHED_TIMEOUT: Duration = Duration::from_secs(432_000);
pub const TCP_CLOSING_TIMEOUT: Duration = Duration::from_secs(120);
pub const TCP_RESET_TIMEOUT: Duration = Duration::from_secs(5);
pub const UDP_TIMEOUT: Duration = Duration::from_secs(30);
pub const UDP_STREAM_TIMEOUT: Duration = Duration::from_secs(180);
pub const OTHER_TIMEOUT: Duration = Duration::from_secs(600);

/// The default bound on tracked flows of one fabric.
pub const DEFAULT_CAPACITY: usize = 1 << 20;

/// A flow as one ENI sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct FlowKey {
    pub eni: EniIdx,
    pub proto: u8,
    pub local: IpAddr,
    pub remote: IpAddr,
    pub local_port: u16,
    pub remote_port: u16,
}

impl FlowKey {
    /// The key of `meta` at `eni`, going `direction`.
    pub fn new(eni: EniIdx, direction: Direction, meta: &Meta) -> FlowKey {
        Self::from_parts(eni, direction, meta.proto, meta.src, meta.dst, meta.src_port, meta.dst_port)
    }

    pub fn from_parts(
        eni: EniIdx,
        direction: Direction,
        proto: u8,
        src: IpAddr,
        dst: IpAddr,
        src_port: u16,
        dst_port: u16,
    ) -> FlowKey {
        match direction {
            Direction::Egress => {
                FlowKey { eni, proto, local: src, remote: dst, local_port: src_port, remote_port: dst_port }
            }
            Direction::Ingress => {
                FlowKey { eni, proto, local: dst, remote: src, local_port: dst_port, remote_port: src_port }
            }
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Entry {
    /// Egress: the ENI opened the flow; ingress: the remote side did.
    pub opened: Direction,
    pub expires: Duration,
    /// Traffic seen in the direction opposite to the opening one.
    pub answered: bool,
    pub fin_out: bool,
    pub fin_in: bool,
    pub reset: bool,
}

/// Counters of the table's bound.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ConntrackStats {
    pub inserted: u64,
    pub expired: u64,
    /// New flows refused because the table was full.
    pub refused: u64,
}

#[derive(Clone, Debug)]
pub struct Conntrack {
    entries: FxHashMap<FlowKey, Entry>,
    capacity: usize,
    /// No entry expires before this (a lower bound): while `now` is earlier, a
    /// sweep would free nothing and is skipped. Without it, every new flow
    /// against a full table swept the whole table (a flood ran at a few
    /// thousand flows per second).
    earliest: Duration,
    pub stats: ConntrackStats,
}

impl Default for Conntrack {
    fn default() -> Self {
        Conntrack::with_capacity(DEFAULT_CAPACITY)
    }
}

impl Conntrack {
    pub fn with_capacity(capacity: usize) -> Conntrack {
        Conntrack { entries: FxHashMap::default(), capacity, earliest: Duration::MAX, stats: ConntrackStats::default() }
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub fn capacity(&self) -> usize {
        self.capacity
    }

    pub fn clear(&mut self) {
        self.entries.clear();
        self.earliest = Duration::MAX;
    }

    pub fn get(&self, key: &FlowKey) -> Option<&Entry> {
        self.entries.get(key)
    }

    /// Whether `meta`, going `direction` at the key's ENI, belongs to a live
    /// tracked flow; if so the entry's timers are refreshed.
    pub fn track(&mut self, key: &FlowKey, direction: Direction, meta: &Meta, now: Duration) -> bool {
        let Some(entry) = self.entries.get_mut(key) else {
            return false;
        };
        if entry.expires <= now {
            self.entries.remove(key);
            self.stats.expired += 1;
            return false;
        }
        // An echo flow carries requests one way and replies the other: a request
        // coming the other way is a new flow of its own.
        if (meta.is_echo_request() && direction != entry.opened) || (meta.is_echo_reply() && direction == entry.opened)
        {
            return false;
        }
        if direction != entry.opened {
            entry.answered = true;
        }
        entry.expires = now + refreshed_timeout(entry, direction, meta);
        self.earliest = self.earliest.min(entry.expires);
        true
    }

    /// Starts tracking a flow that a rule allowed. False when the table is full.
    pub fn open(&mut self, key: FlowKey, direction: Direction, meta: &Meta, now: Duration) -> bool {
        if self.entries.len() >= self.capacity && !self.entries.contains_key(&key) {
            if now >= self.earliest {
                self.sweep(now);
            }
            if self.entries.len() >= self.capacity {
                self.stats.refused += 1;
                return false;
            }
        }
        let mut entry =
            Entry { opened: direction, expires: now, answered: false, fin_out: false, fin_in: false, reset: false };
        entry.expires = now + refreshed_timeout(&mut entry, direction, meta);
        self.earliest = self.earliest.min(entry.expires);
        self.entries.insert(key, entry);
        self.stats.inserted += 1;
        true
    }

    /// Drops every expired entry.
    pub fn sweep(&mut self, now: Duration) {
        let before = self.entries.len();
        let mut earliest = Duration::MAX;
        self.entries.retain(|_, e| {
            let keep = e.expires > now;
            if keep {
                earliest = earliest.min(e.expires);
            }
            keep
        });
        self.earliest = earliest;
        self.stats.expired += (before - self.entries.len()) as u64;
    }
}

/// Updates TCP close state and returns how long the entry lives from now.
fn refreshed_timeout(entry: &mut Entry, direction: Direction, meta: &Meta) -> Duration {
    match meta.proto {
        Protocol::TCP => {
            if meta.tcp_flags & TCP_RST != 0 {
                entry.reset = true;
            }
            if meta.tcp_flags & TCP_FIN != 0 {
                if direction == Direction::Egress {
                    entry.fin_out = true;
                } else {
                    entry.fin_in = true;
                }
            }
            if entry.reset {
                TCP_RESET_TIMEOUT
            } else if entry.fin_out && entry.fin_in {
                TCP_CLOSING_TIMEOUT
            } else {
                TCP_ESTABLISHED_TIMEOUT
            }
        }
        Protocol::UDP if entry.answered => UDP_STREAM_TIMEOUT,
        Protocol::UDP => UDP_TIMEOUT,
        _ => OTHER_TIMEOUT,
    }
}
