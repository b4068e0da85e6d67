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
//! full, the new flow is refused and counted (`stats.refused`, dropped as
//! `conntrack-full`). A sweep runs only when an entry may have expired since
//! the last one (the table keeps a lower bound of the earliest expiry), so a
//! full table does not scan itself on every new flow.
//!
//! Memory: IPv4 flows are kept under a 20-byte key and IPv6 flows under the
//! full key, each with a 16-byte entry (expiry in nanoseconds and a flag
//! byte); [`Conntrack::memory_bytes`] reports the tables' size.

use std::hash::Hash;
use std::net::IpAddr;
use std::time::Duration;

use rustc_hash::FxHashMap;
use vpcsim_model::{EniIdx, Protocol};

use crate::trace::Direction;
use crate::wire::packet::{Meta, TCP_FIN, TCP_RST};

pub(crate) const TCP_ESTABLISHED_TIMEOUT: Duration = Duration::from_secs(432_000);
pub(crate) const TCP_CLOSING_TIMEOUT: Duration = Duration::from_secs(120);
pub(crate) const TCP_RESET_TIMEOUT: Duration = Duration::from_secs(5);
pub(crate) const UDP_TIMEOUT: Duration = Duration::from_secs(30);
pub(crate) const UDP_STREAM_TIMEOUT: Duration = Duration::from_secs(180);
pub(crate) const OTHER_TIMEOUT: Duration = Duration::from_secs(600);

/// The default bound on tracked flows of one fabric.
pub(crate) const DEFAULT_CAPACITY: usize = 1 << 20;

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

    pub(crate) fn from_parts(
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

/// An IPv4 flow's key, packed (20 bytes instead of 44).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
struct Key4 {
    eni: EniIdx,
    local: u32,
    remote: u32,
    local_port: u16,
    remote_port: u16,
    proto: u8,
}

impl Key4 {
    fn of(key: &FlowKey) -> Option<Key4> {
        match (key.local, key.remote) {
            (IpAddr::V4(l), IpAddr::V4(r)) => Some(Key4 {
                eni: key.eni,
                local: u32::from(l),
                remote: u32::from(r),
                local_port: key.local_port,
                remote_port: key.remote_port,
                proto: key.proto,
            }),
            _ => None,
        }
    }
}

const OPENED_INGRESS: u8 = 1;
const ANSWERED: u8 = 2;
const FIN_OUT: u8 = 4;
const FIN_IN: u8 = 8;
const RESET: u8 = 16;

/// An [`Entry`], packed (16 bytes instead of 24).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Slot {
    expires_ns: u64,
    flags: u8,
}

fn nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

impl Slot {
    fn pack(e: &Entry) -> Slot {
        let mut flags = 0;
        for (on, bit) in [
            (e.opened == Direction::Ingress, OPENED_INGRESS),
            (e.answered, ANSWERED),
            (e.fin_out, FIN_OUT),
            (e.fin_in, FIN_IN),
            (e.reset, RESET),
        ] {
            if on {
                flags |= bit;
            }
        }
        Slot { expires_ns: nanos(e.expires), flags }
    }

    fn unpack(self) -> Entry {
        Entry {
            opened: if self.flags & OPENED_INGRESS != 0 { Direction::Ingress } else { Direction::Egress },
            expires: Duration::from_nanos(self.expires_ns),
            answered: self.flags & ANSWERED != 0,
            fin_out: self.flags & FIN_OUT != 0,
            fin_in: self.flags & FIN_IN != 0,
            reset: self.flags & RESET != 0,
        }
    }
}

/// Bytes a hashbrown table of `capacity` holds for entries of type `T`
/// (buckets and one control byte each).
fn table_bytes<T>(capacity: usize) -> usize {
    if capacity == 0 {
        return 0;
    }
    let buckets = if capacity < 8 { capacity + 1 } else { (capacity * 8).div_ceil(7) }.next_power_of_two();
    buckets * (std::mem::size_of::<T>() + 1) + 16
}

#[derive(Clone, Debug)]
pub struct Conntrack {
    v4: FxHashMap<Key4, Slot>,
    v6: FxHashMap<FlowKey, Slot>,
    capacity: usize,
    /// The most entries each table (v4, v6) has had room for, noted before
    /// every removal: a removal may leave a tombstone that lowers
    /// `capacity()` while the buckets stay; the tables never shrink, and
    /// only removals lower it, so inserts need not note it.
    room: [usize; 2],
    /// No entry expires before this (nanoseconds): a lower bound.
    earliest_expiry: u64,
    pub stats: ConntrackStats,
}

impl Default for Conntrack {
    fn default() -> Self {
        Conntrack::with_capacity(DEFAULT_CAPACITY)
    }
}

/// Looks a flow up in whichever table holds its family.
macro_rules! with_table {
    ($self:expr, $key:expr, |$map:ident, $k:ident| $body:expr) => {
        match Key4::of($key) {
            Some($k) => {
                let $map = &mut $self.v4;
                $body
            }
            None => {
                let $k = *$key;
                let $map = &mut $self.v6;
                $body
            }
        }
    };
}

impl Conntrack {
    pub fn with_capacity(capacity: usize) -> Conntrack {
        Conntrack {
            v4: FxHashMap::default(),
            v6: FxHashMap::default(),
            capacity,
            room: [0, 0],
            earliest_expiry: u64::MAX,
            stats: ConntrackStats::default(),
        }
    }

    pub fn len(&self) -> usize {
        self.v4.len() + self.v6.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Bytes held by the tables now (allocated buckets, not only live ones).
    pub fn memory_bytes(&self) -> usize {
        table_bytes::<(Key4, Slot)>(self.room[0].max(self.v4.capacity()))
            + table_bytes::<(FlowKey, Slot)>(self.room[1].max(self.v6.capacity()))
    }

    /// The flow's entry, if tracked (expired or not).
    pub fn get(&self, key: &FlowKey) -> Option<Entry> {
        match Key4::of(key) {
            Some(k) => self.v4.get(&k),
            None => self.v6.get(key),
        }
        .map(|s| s.unpack())
    }

    /// Whether `meta`, going `direction` at the key's ENI, belongs to a live
    /// tracked flow; if so the entry's timers are refreshed.
    pub fn track(&mut self, key: &FlowKey, direction: Direction, meta: &Meta, now: Duration) -> bool {
        let refreshed = match Key4::of(key) {
            Some(k) => track_in(&mut self.v4, &mut self.room[0], &k, direction, meta, now),
            None => track_in(&mut self.v6, &mut self.room[1], key, direction, meta, now),
        };
        match refreshed {
            Tracked::No => false,
            Tracked::Expired => {
                self.stats.expired += 1;
                false
            }
            Tracked::Yes(expires) => {
                self.earliest_expiry = self.earliest_expiry.min(expires);
                true
            }
        }
    }

    /// Starts tracking a flow that a rule allowed. False when the table is full.
    pub fn open(&mut self, key: FlowKey, direction: Direction, meta: &Meta, now: Duration) -> bool {
        if self.len() >= self.capacity && self.get(&key).is_none() {
            if nanos(now) >= self.earliest_expiry {
                self.sweep(now);
            }
            if self.len() >= self.capacity {
                self.stats.refused += 1;
                return false;
            }
        }
        let mut entry =
            Entry { opened: direction, expires: now, answered: false, fin_out: false, fin_in: false, reset: false };
        entry.expires = now + refreshed_timeout(&mut entry, direction, meta);
        let slot = Slot::pack(&entry);
        self.earliest_expiry = self.earliest_expiry.min(slot.expires_ns);
        with_table!(self, &key, |map, k| map.insert(k, slot));
        self.stats.inserted += 1;
        true
    }

    /// Notes each table's room before entries are removed.
    fn note_room(&mut self) {
        self.room = [self.room[0].max(self.v4.capacity()), self.room[1].max(self.v6.capacity())];
    }

    /// Drops every expired entry.
    pub fn sweep(&mut self, now: Duration) {
        let before = self.len();
        let now = nanos(now);
        let mut earliest = u64::MAX;
        let mut keep = |s: &Slot| {
            let live = s.expires_ns > now;
            if live {
                earliest = earliest.min(s.expires_ns);
            }
            live
        };
        self.note_room();
        self.v4.retain(|_, s| keep(s));
        self.v6.retain(|_, s| keep(s));
        self.earliest_expiry = earliest;
        self.stats.expired += (before - self.len()) as u64;
    }
}

enum Tracked {
    No,
    Expired,
    /// Refreshed: the new expiry (nanoseconds).
    Yes(u64),
}

fn track_in<K: Hash + Eq>(
    map: &mut FxHashMap<K, Slot>,
    room: &mut usize,
    key: &K,
    direction: Direction,
    meta: &Meta,
    now: Duration,
) -> Tracked {
    let Some(slot) = map.get_mut(key) else {
        return Tracked::No;
    };
    if slot.expires_ns <= nanos(now) {
        *room = (*room).max(map.capacity());
        map.remove(key);
        return Tracked::Expired;
    }
    let mut entry = slot.unpack();
    // An echo flow carries requests one way and replies the other: a request
    // coming the other way is a new flow of its own.
    if (meta.is_echo_request() && direction != entry.opened) || (meta.is_echo_reply() && direction == entry.opened) {
        return Tracked::No;
    }
    if direction != entry.opened {
        entry.answered = true;
    }
    entry.expires = now + refreshed_timeout(&mut entry, direction, meta);
    *slot = Slot::pack(&entry);
    Tracked::Yes(slot.expires_ns)
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

#[cfg(test)]
mod tests {
    use std::net::Ipv4Addr;

    use super::*;

    /// `entries` distinct IPv4 TCP flows opened at one ENI.
    fn filled(entries: u32) -> Conntrack {
        let mut ct = Conntrack::with_capacity(4 << 20);
        let (a, b) = (IpAddr::V4(Ipv4Addr::new(10, 0, 1, 10)), IpAddr::V4(Ipv4Addr::new(10, 0, 2, 20)));
        for i in 0..entries {
            let (sport, dport) = ((i % 60_000) as u16 + 1024, (i / 60_000) as u16 + 1);
            let meta = Meta {
                l3: 14,
                l4: Some(34),
                proto: 6,
                src: a,
                dst: b,
                src_port: sport,
                dst_port: dport,
                icmp: None,
                tcp_flags: 0x02,
                ttl: 64,
                fragment: false,
                ip_len: 40,
                dont_fragment: false,
            };
            let key = FlowKey::new(EniIdx::from_index(0), Direction::Egress, &meta);
            assert!(ct.open(key, Direction::Egress, &meta, Duration::ZERO));
        }
        assert_eq!(ct.len(), entries as usize);
        ct
    }

    /// docs/performance.md: IPv4 entries are 40 bytes; 100k flows (200k
    /// entries) hold 10.7 MB and 1M flows (2M entries) 172 MB, 86 bytes per
    /// tracked entry, 172 per flow.
    #[test]
    fn memory_bytes_is_the_documented_figure() {
        assert_eq!(std::mem::size_of::<(Key4, Slot)>(), 40);
        assert_eq!(Conntrack::with_capacity(16).memory_bytes(), 0, "nothing allocated before the first flow");
        let ct = filled(200_000);
        assert_eq!((ct.memory_bytes() as f64 / 1e5).round() / 10.0, 10.7, "{} bytes", ct.memory_bytes());
        let ct = filled(2_000_000);
        assert_eq!((ct.memory_bytes() as f64 / 1e6).round(), 172.0, "{} bytes", ct.memory_bytes());
        assert_eq!((ct.memory_bytes() as f64 / ct.len() as f64).round(), 86.0, "bytes per entry");
    }
}
