//! NAT gateways' sessions: which inside address and port each translated
//! connection came from, and which port of the NAT gateway it uses.
//!
//! AWS: a NAT gateway translates the source to its own address and picks a
//! port from 1024–65535 per unique destination (IP, port, protocol); it holds
//! up to 55,000 simultaneous connections to one destination, and forgets a
//! connection idle for 350 s. ICMP echo is translated by its identifier (the
//! destination of an echo has no port: it counts as port 0).
//!
//! vpcsim picks ports deterministically: per destination, the next free port
//! after the last one handed out, from 1024 upward, wrapping. The table is
//! bounded: when full it sweeps idle sessions, then refuses new connections
//! (`nat-port-exhausted`), as it does when one destination has no port left.

use std::net::IpAddr;
use std::time::Duration;

use rustc_hash::FxHashMap;
use vpcsim_model::NatGatewayIdx;

use super::expiring::ExpiringTable;

/// A NAT gateway forgets a connection idle this long.
pub(crate) const NAT_IDLE_TIMEOUT: Duration = Duration::from_secs(350);
/// AWS's limit of simultaneous connections to one destination, per address.
pub(crate) const PORTS_PER_DESTINATION: u32 = 55_000;
/// The lowest port a NAT gateway hands out.
pub(crate) const FIRST_PORT: u16 = 1024;
/// The default bound on sessions of one fabric (all NAT gateways).
pub(crate) const DEFAULT_CAPACITY: usize = 1 << 20;

/// Where translated connections go: per NAT gateway, protocol, remote address
/// and port (0 for ICMP).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) struct Destination {
    pub nat: NatGatewayIdx,
    pub proto: u8,
    pub ip: IpAddr,
    pub port: u16,
}

#[derive(Clone, Copy, Debug, Default)]
struct PerDestination {
    /// Sessions held (some may have expired but not yet been swept).
    held: u32,
    /// The port to try first next time.
    next: u16,
}

/// The sessions of every NAT gateway of a fabric.
#[doc(hidden)]
#[derive(Clone, Debug)]
pub struct NatTable {
    /// (destination, inside address, inside port) → the NAT gateway's port.
    out: FxHashMap<(Destination, IpAddr, u16), u16>,
    /// (destination, the NAT gateway's port) → the session: the inside
    /// address and port (or echo identifier) the connection came from,
    /// forgotten after [`NAT_IDLE_TIMEOUT`] idle.
    back: ExpiringTable<(Destination, u16), (IpAddr, u16)>,
    per_destination: FxHashMap<Destination, PerDestination>,
    limit: u32,
    capacity: usize,
}

impl Default for NatTable {
    fn default() -> Self {
        NatTable::new(PORTS_PER_DESTINATION, DEFAULT_CAPACITY)
    }
}

impl NatTable {
    /// A table allowing `limit` connections per destination (at most the
    /// 64,512 ports of 1024–65535) and `capacity` sessions in all.
    pub(crate) fn new(limit: u32, capacity: usize) -> NatTable {
        let ports = u32::from(u16::MAX - FIRST_PORT) + 1;
        NatTable {
            out: FxHashMap::default(),
            back: ExpiringTable::new(NAT_IDLE_TIMEOUT),
            per_destination: FxHashMap::default(),
            limit: limit.clamp(1, ports),
            capacity: capacity.max(1),
        }
    }

    /// Sessions held (including idle ones not swept yet).
    pub fn len(&self) -> usize {
        self.back.len()
    }

    pub fn is_empty(&self) -> bool {
        self.back.is_empty()
    }

    /// The NAT gateway's port for a connection from `inside` to `dest`: the
    /// session's if it has one (kept alive), else a new one. `None` when no
    /// port is left for that destination (or the table is full).
    pub(crate) fn outbound(&mut self, dest: Destination, inside: (IpAddr, u16), now: Duration) -> Option<u16> {
        if let Some(&port) = self.out.get(&(dest, inside.0, inside.1)) {
            match self.back.touch(&(dest, port), now) {
                Some(s) if *s == inside => return Some(port),
                _ => self.remove(dest, port),
            }
        }
        let held = self.per_destination.get(&dest).map_or(0, |d| d.held);
        if held >= self.limit || self.back.len() >= self.capacity {
            self.sweep(now);
            let held = self.per_destination.get(&dest).map_or(0, |d| d.held);
            if held >= self.limit || self.back.len() >= self.capacity {
                return None;
            }
        }
        let start = self.per_destination.get(&dest).map_or(FIRST_PORT, |d| d.next.max(FIRST_PORT));
        let mut port = start;
        loop {
            if !self.back.contains_key(&(dest, port)) {
                break;
            }
            if self.back.get_live(&(dest, port), now).is_none() {
                self.remove(dest, port);
                break;
            }
            port = if port == u16::MAX { FIRST_PORT } else { port + 1 };
            if port == start {
                return None;
            }
        }
        self.back.insert((dest, port), inside, now);
        self.out.insert((dest, inside.0, inside.1), port);
        let d = self.per_destination.entry(dest).or_default();
        d.held += 1;
        d.next = if port == u16::MAX { FIRST_PORT } else { port + 1 };
        Some(port)
    }

    /// The inside address and port of the session that uses `port` towards
    /// `dest`, if it lives (kept alive).
    pub(crate) fn inbound(&mut self, dest: Destination, port: u16, now: Duration) -> Option<(IpAddr, u16)> {
        let inside = self.back.touch(&(dest, port), now).copied();
        if inside.is_none() {
            self.remove(dest, port);
        }
        inside
    }

    fn remove(&mut self, dest: Destination, port: u16) {
        if let Some(inside) = self.back.remove(&(dest, port)) {
            forget(&mut self.out, &mut self.per_destination, dest, inside);
        }
    }

    /// Forgets every idle session (at once when none can have expired).
    fn sweep(&mut self, now: Duration) {
        let (out, per_destination) = (&mut self.out, &mut self.per_destination);
        // The order of the removals does not change the result.
        self.back.sweep(now, |&(dest, _), &inside| forget(out, per_destination, dest, inside));
    }
}

/// What a session leaves on top of the table once it is gone: its inside
/// end's entry, its count against the destination's limit.
fn forget(
    out: &mut FxHashMap<(Destination, IpAddr, u16), u16>,
    per_destination: &mut FxHashMap<Destination, PerDestination>,
    dest: Destination,
    inside: (IpAddr, u16),
) {
    out.remove(&(dest, inside.0, inside.1));
    if let Some(d) = per_destination.get_mut(&dest) {
        d.held = d.held.saturating_sub(1);
    }
}

#[cfg(test)]
mod tests {
    use std::net::Ipv4Addr;

    use super::*;

    fn dest(port: u16) -> Destination {
        Destination { nat: NatGatewayIdx(0), proto: 6, ip: IpAddr::V4(Ipv4Addr::new(198, 51, 100, 7)), port }
    }

    fn inside(port: u16) -> (IpAddr, u16) {
        (IpAddr::V4(Ipv4Addr::new(10, 0, 2, 10)), port)
    }

    #[test]
    fn ports_per_destination_from_1024() {
        let mut nat = NatTable::default();
        let t = Duration::ZERO;
        assert!(nat.is_empty());
        assert_eq!(nat.outbound(dest(443), inside(40000), t), Some(1024));
        assert!(!nat.is_empty());
        assert_eq!(nat.outbound(dest(443), inside(40001), t), Some(1025));
        // The same connection keeps its port; another destination starts over.
        assert_eq!(nat.outbound(dest(443), inside(40000), t), Some(1024));
        assert_eq!(nat.outbound(dest(80), inside(40000), t), Some(1024));
        assert_eq!(nat.inbound(dest(443), 1025, t), Some(inside(40001)));
        assert_eq!(nat.inbound(dest(443), 1026, t), None);
    }

    #[test]
    fn exhaustion_then_idle_sessions_free_ports() {
        let mut nat = NatTable::new(3, DEFAULT_CAPACITY);
        let t = Duration::ZERO;
        for p in 0..3 {
            assert!(nat.outbound(dest(443), inside(40000 + p), t).is_some());
        }
        assert_eq!(nat.outbound(dest(443), inside(41000), t), None);
        // Another destination is not affected.
        assert!(nat.outbound(dest(8443), inside(41000), t).is_some());
        let later = NAT_IDLE_TIMEOUT + Duration::from_secs(1);
        assert_eq!(nat.inbound(dest(443), 1024, later), None, "idle for 350 s: forgotten");
        assert_eq!(nat.outbound(dest(443), inside(41000), later), Some(1027));
    }

    #[test]
    fn the_whole_port_range_wraps() {
        let mut nat = NatTable::new(u32::MAX, DEFAULT_CAPACITY);
        let t = Duration::ZERO;
        for i in 0..64_512u32 {
            let p = nat.outbound(dest(443), (IpAddr::V4(Ipv4Addr::from(0x0a00_0000 + i)), 1), t);
            assert!(p.is_some(), "connection {i}");
        }
        assert_eq!(nat.outbound(dest(443), inside(2), t), None);
    }

    /// AWS: "If a connection that's using a NAT gateway is idle for 350
    /// seconds or more, the connection times out." Exactly 350 s idle is
    /// expired, for a reply (`inbound`) and for the inside host sending
    /// again (`outbound`); a moment before, the session lives and keeps its port.
    #[test]
    fn idle_for_exactly_350_s_is_expired_both_ways() {
        let before = NAT_IDLE_TIMEOUT - Duration::from_millis(1);
        assert_eq!(NAT_IDLE_TIMEOUT, Duration::from_secs(350));

        let mut nat = NatTable::default();
        assert_eq!(nat.outbound(dest(443), inside(40000), Duration::ZERO), Some(1024));
        assert_eq!(nat.inbound(dest(443), 1024, before), Some(inside(40000)), "349.999 s idle: alive");
        // The reply kept it alive: 350 s after the reply it is gone.
        assert_eq!(nat.inbound(dest(443), 1024, before + NAT_IDLE_TIMEOUT), None, "350 s idle: expired");
        assert!(nat.is_empty(), "the expired session is forgotten");

        let mut nat = NatTable::default();
        assert_eq!(nat.outbound(dest(443), inside(40000), Duration::ZERO), Some(1024));
        assert_eq!(nat.outbound(dest(443), inside(40000), before), Some(1024), "349.999 s idle: the same port");
        assert_ne!(
            nat.outbound(dest(443), inside(40000), before + NAT_IDLE_TIMEOUT),
            Some(1024),
            "350 s idle: a new session"
        );
    }

    /// A connection that comes back after more than 350 s idle is a new
    /// connection: it gets the next free port, not its old one, and the old
    /// port no longer leads to it.
    #[test]
    fn a_connection_back_after_350_s_idle_gets_a_new_port() {
        let mut nat = NatTable::default();
        assert_eq!(nat.outbound(dest(443), inside(40000), Duration::ZERO), Some(1024));
        assert_eq!(nat.outbound(dest(443), inside(40001), Duration::ZERO), Some(1025));
        let later = NAT_IDLE_TIMEOUT + Duration::from_secs(1);
        assert_eq!(nat.outbound(dest(443), inside(40000), later), Some(1026));
        assert_eq!(nat.inbound(dest(443), 1026, later), Some(inside(40000)));
        assert_eq!(nat.inbound(dest(443), 1024, later), None);
        assert_eq!(nat.inbound(dest(443), 1025, later), None);
        assert_eq!(nat.len(), 1, "the expired sessions are gone, the new one is held");
    }

    /// The port search, once it wraps around to ports handed out before,
    /// skips a port whose session lives and reclaims one whose session has
    /// expired (exactly 350 s idle counts as expired).
    #[test]
    fn the_port_search_skips_live_sessions_and_reclaims_expired_ones() {
        let mut nat = NatTable::new(u32::MAX, DEFAULT_CAPACITY);
        let host = |i: u32| (IpAddr::V4(Ipv4Addr::from(0x0a00_0000 + i)), 1);
        // Every port, 1024 to 65535, at time 0; the search wraps to 1024 next.
        for i in 0..64_512u32 {
            assert_eq!(nat.outbound(dest(443), host(i), Duration::ZERO), Some(FIRST_PORT + i as u16));
        }
        // Ports 1024 and 1025 stay in use.
        let t = Duration::from_secs(100);
        assert_eq!(nat.outbound(dest(443), host(0), t), Some(1024));
        assert_eq!(nat.inbound(dest(443), 1025, t), Some(host(1)));
        // At 350 s the others have been idle 350 s. A late reply forgets the
        // last port's session, so the destination is below its limit and no
        // sweep runs: the search itself must tell live from expired.
        let at = NAT_IDLE_TIMEOUT;
        assert_eq!(nat.inbound(dest(443), u16::MAX, at), None);
        assert_eq!(nat.len(), 64_511);
        assert_eq!(nat.outbound(dest(443), inside(50000), at), Some(1026));
        assert_eq!(nat.inbound(dest(443), 1026, at), Some(inside(50000)));
        assert_eq!(nat.inbound(dest(443), 1024, at), Some(host(0)), "the live session keeps its port");
        assert_eq!(nat.inbound(dest(443), 1025, at), Some(host(1)), "the live session keeps its port");
        assert_eq!(nat.outbound(dest(443), inside(50001), at), Some(1027));
        assert_eq!(nat.len(), 64_511, "reclaimed, not added");
    }
}
