//! One expiring table for the flows the gateways and endpoints remember
//! (NAT gateway sessions, gateway-endpoint flows, egress-only flows,
//! interface-endpoint flows): each entry has an idle deadline, pushed back
//! when the flow is used, and is forgotten once it passes. Connection
//! tracking (`conntrack`) is not one of them: it keeps its own packed table
//! for the hot path.
//!
//! The rule at the deadline, for every table: an entry idle for exactly its
//! idle timeout has expired (AWS: "idle for 350 seconds or more, the
//! connection times out"). An expired entry is not alive but stays until it
//! is removed, overwritten or swept, so a table can still say who held a key
//! (`peek`), as the tables did before this type.
//!
//! A sweep visits every entry, so it does not run for nothing: the table
//! keeps a lower bound on its deadlines (as conntrack does) and skips the
//! sweep while nothing can have expired. Keys hash with FxHash: no random
//! hasher, runs are deterministic.

use std::collections::hash_map::Entry;
use std::hash::Hash;
use std::time::Duration;

use rustc_hash::FxHashMap;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Timed<V> {
    value: V,
    /// The entry is alive strictly before this instant.
    deadline: Duration,
}

/// Entries forgotten after `idle` without use.
#[derive(Clone, Debug)]
pub(crate) struct ExpiringTable<K, V> {
    entries: FxHashMap<K, Timed<V>>,
    idle: Duration,
    /// No entry's deadline is before this: a lower bound (`Duration::MAX` when empty).
    earliest: Duration,
}

impl<K: Copy + Eq + Hash, V> ExpiringTable<K, V> {
    /// An empty table whose entries live `idle` after their last use.
    pub(crate) fn new(idle: Duration) -> Self {
        ExpiringTable { entries: FxHashMap::default(), idle, earliest: Duration::MAX }
    }

    /// Entries held, expired ones not yet removed or swept included.
    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub(crate) fn contains_key(&self, key: &K) -> bool {
        self.entries.contains_key(key)
    }

    /// Opens (or reopens) `key` with `value`, alive until `now` + idle.
    /// Returns the value it replaces, alive or not.
    pub(crate) fn insert(&mut self, key: K, value: V, now: Duration) -> Option<V> {
        let deadline = now.saturating_add(self.idle);
        self.earliest = self.earliest.min(deadline);
        self.entries.insert(key, Timed { value, deadline }).map(|old| old.value)
    }

    /// The value under `key`, alive or expired: who held the key last.
    pub(crate) fn peek(&self, key: &K) -> Option<&V> {
        self.entries.get(key).map(|e| &e.value)
    }

    /// The value under `key` if it is alive at `now` (not refreshed).
    pub(crate) fn get_live(&self, key: &K, now: Duration) -> Option<&V> {
        self.entries.get(key).filter(|e| now < e.deadline).map(|e| &e.value)
    }

    /// The value under `key` if it is alive at `now`, its deadline pushed to
    /// `now` + idle. An expired entry is left in place.
    #[inline]
    pub(crate) fn touch(&mut self, key: &K, now: Duration) -> Option<&mut V> {
        let idle = self.idle;
        let e = self.entries.get_mut(key).filter(|e| now < e.deadline)?;
        e.deadline = now.saturating_add(idle);
        Some(&mut e.value)
    }

    /// As [`touch`](Self::touch), but an expired entry is removed.
    #[inline]
    pub(crate) fn touch_or_forget(&mut self, key: K, now: Duration) -> Option<&mut V> {
        let idle = self.idle;
        match self.entries.entry(key) {
            Entry::Occupied(o) if now < o.get().deadline => {
                let e = o.into_mut();
                e.deadline = now.saturating_add(idle);
                Some(&mut e.value)
            }
            Entry::Occupied(o) => {
                o.remove();
                None
            }
            Entry::Vacant(_) => None,
        }
    }

    pub(crate) fn remove(&mut self, key: &K) -> Option<V> {
        self.entries.remove(key).map(|e| e.value)
    }

    /// Removes every entry expired at `now`, handing each to `forget` (so
    /// that structure kept on top of the table can follow). Free while
    /// nothing can have expired.
    pub(crate) fn sweep(&mut self, now: Duration, mut forget: impl FnMut(&K, &V)) {
        if now < self.earliest {
            return;
        }
        let mut earliest = Duration::MAX;
        self.entries.retain(|k, e| {
            if now < e.deadline {
                earliest = earliest.min(e.deadline);
                true
            } else {
                forget(k, &e.value);
                false
            }
        });
        self.earliest = earliest;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const IDLE: Duration = Duration::from_secs(350);
    const S: fn(u64) -> Duration = Duration::from_secs;

    #[test]
    fn an_entry_idle_for_exactly_its_timeout_has_expired() {
        let mut t = ExpiringTable::new(IDLE);
        t.insert(1, 'a', S(0));
        assert_eq!(t.get_live(&1, IDLE - Duration::from_nanos(1)), Some(&'a'));
        assert_eq!(t.get_live(&1, IDLE), None);
        assert_eq!(t.touch(&1, IDLE), None, "expired: not refreshed");
        assert_eq!(t.peek(&1), Some(&'a'), "an expired entry stays until removed");
        assert_eq!(t.touch_or_forget(1, IDLE), None);
        assert!(t.is_empty(), "touch_or_forget removes it");
    }

    #[test]
    fn a_touch_pushes_the_deadline_back() {
        let mut t = ExpiringTable::new(IDLE);
        t.insert(1, 'a', S(0));
        assert_eq!(t.touch(&1, S(300)).copied(), Some('a'));
        assert_eq!(t.get_live(&1, S(649)), Some(&'a'));
        assert_eq!(t.touch_or_forget(1, S(600)).copied(), Some('a'));
        assert_eq!(t.get_live(&1, S(949)), Some(&'a'));
        assert_eq!(t.get_live(&1, S(950)), None);
    }

    #[test]
    fn insert_reopens_and_returns_what_it_replaces() {
        let mut t = ExpiringTable::new(IDLE);
        assert_eq!(t.insert(1, 'a', S(0)), None);
        assert_eq!(t.insert(1, 'b', S(400)), Some('a'), "even expired");
        assert_eq!(t.get_live(&1, S(700)), Some(&'b'));
        assert_eq!(t.remove(&1), Some('b'));
        assert_eq!(t.remove(&1), None);
    }

    #[test]
    fn a_sweep_forgets_expired_entries_only_and_skips_while_none_can_have() {
        let mut t = ExpiringTable::new(IDLE);
        t.insert(1, 'a', S(0));
        t.insert(2, 'b', S(10));
        t.insert(3, 'c', S(20));
        let mut forgotten = Vec::new();
        t.sweep(S(349), |&k, &v| forgotten.push((k, v)));
        assert!(forgotten.is_empty());
        assert_eq!(t.earliest, S(350), "nothing visited: the bound stays");
        t.touch(&2, S(100));
        t.sweep(S(360), |&k, &v| forgotten.push((k, v)));
        assert_eq!(forgotten, vec![(1, 'a')], "at 360 s: 1 (350 s) expired, 2 touched, 3 (370 s) alive");
        assert_eq!(t.earliest, S(370), "the bound is the survivors' earliest deadline");
        assert_eq!(t.len(), 2);
        t.sweep(S(1000), |&k, &v| forgotten.push((k, v)));
        forgotten.sort();
        assert_eq!(forgotten, vec![(1, 'a'), (2, 'b'), (3, 'c')]);
        assert!(t.is_empty());
        assert_eq!(t.earliest, Duration::MAX);
        t.insert(4, 'd', S(1000));
        assert_eq!(t.earliest, S(1350));
    }
}
