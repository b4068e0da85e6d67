//! `Conntrack::memory_bytes` against the allocator: the figure is what the
//! connection table really holds, from its first flow, IPv4 and IPv6 apart
//! and together (docs/performance.md quotes it).
//!
//! A counting global allocator (this test file is its own crate) keeps the
//! bytes held per thread. The figure counts hashbrown's SSE2 layout (16
//! trailing control bytes), so the test is for x86 with SSE2.
#![cfg(all(any(target_arch = "x86", target_arch = "x86_64"), target_feature = "sse2"))]

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::Duration;

use vpcsim_dataplane::Direction;
use vpcsim_dataplane::conntrack::{Conntrack, FlowKey};
use vpcsim_dataplane::packet::Meta;
use vpcsim_model::EniIdx;

struct Counting;

thread_local! {
    /// Bytes allocated and not yet freed by this thread.
    static HELD: Cell<isize> = const { Cell::new(0) };
}

fn count(bytes: isize) {
    let _ = HELD.try_with(|h| h.set(h.get() + bytes));
}

// SAFETY: every call is passed on to `System` unchanged; only counted.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller's contract, passed on.
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            count(layout.size() as isize);
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: the caller's contract, passed on.
        unsafe { System.dealloc(ptr, layout) };
        count(-(layout.size() as isize));
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

fn held() -> isize {
    HELD.with(Cell::get)
}

/// Flow `i` of a family at ENI 0: a TCP SYN going out.
fn flow(i: u32, v6: bool) -> (FlowKey, Meta) {
    let (local, remote) = if v6 {
        (IpAddr::V6(Ipv6Addr::new(0x2600, 0, 0, 0, 0, 0, 0, 1)), IpAddr::V6(Ipv6Addr::new(0x2600, 0, 0, 0, 0, 0, 0, 2)))
    } else {
        (IpAddr::V4(Ipv4Addr::new(10, 0, 1, 10)), IpAddr::V4(Ipv4Addr::new(10, 0, 2, 20)))
    };
    let meta = Meta {
        l3: 14,
        l4: Some(34),
        proto: 6,
        src: local,
        dst: remote,
        src_port: 1024 + i as u16,
        dst_port: 443,
        icmp: None,
        tcp_flags: 0x02,
        ttl: 64,
        fragment: false,
        ip_len: 40,
        dont_fragment: false,
    };
    (FlowKey::new(EniIdx(0), Direction::Egress, &meta), meta)
}

/// Opens `n` more flows of a family, checking the figure after each.
fn open_and_check(ct: &mut Conntrack, base: isize, from: u32, n: u32, v6: bool, what: &str) {
    for i in from..from + n {
        let (key, meta) = flow(i, v6);
        assert!(ct.open(key, Direction::Egress, &meta, Duration::ZERO));
        let real = held() - base;
        assert_eq!(ct.memory_bytes() as isize, real, "{what}: after {} flows ({} tracked)", i - from + 1, ct.len());
    }
}

#[test]
fn memory_bytes_is_what_the_table_holds_from_its_first_flow() {
    // IPv4 only: every size the table passes through up to 224 slots.
    let base = held();
    let mut ct = Conntrack::with_capacity(1 << 20);
    assert_eq!(held() - base, 0);
    assert_eq!(ct.memory_bytes(), 0, "an empty table holds nothing");
    open_and_check(&mut ct, base, 0, 200, false, "IPv4");
    // One IPv4 flow: four buckets of 40 bytes and a control byte each, and
    // the 16 trailing control bytes.
    drop(ct);
    let base = held();
    let mut ct = Conntrack::with_capacity(1 << 20);
    open_and_check(&mut ct, base, 0, 1, false, "one IPv4 flow");
    assert_eq!(ct.memory_bytes(), 4 * 41 + 16);
    drop(ct);

    // IPv6 only, then IPv4 flows besides: the two tables add up.
    let base = held();
    let mut ct = Conntrack::with_capacity(1 << 20);
    open_and_check(&mut ct, base, 0, 60, true, "IPv6");
    open_and_check(&mut ct, base, 0, 20, false, "IPv4 beside 60 IPv6");
    drop(ct);

    // IPv4 first, then IPv6 besides.
    let base = held();
    let mut ct = Conntrack::with_capacity(1 << 20);
    open_and_check(&mut ct, base, 0, 30, false, "IPv4");
    open_and_check(&mut ct, base, 0, 10, true, "IPv6 beside 30 IPv4");
    // A sweep frees entries, not buckets.
    assert!(!ct.is_empty());
    ct.sweep(Duration::from_secs(1_000_000));
    assert!(ct.is_empty());
    assert_eq!(ct.memory_bytes() as isize, held() - base, "after the sweep");
}

/// A sweep frees entries, not buckets; a table filled to the brim and then
/// swept leaves tombstones, which lower `HashMap::capacity()` (the figure
/// once read the buckets off it, and reported half of them).
#[test]
fn memory_bytes_after_a_sweep_still_counts_every_bucket() {
    // 229,376 entries: all the room of 2^18 buckets. Nine in ten expire.
    let n = 229_376u32;
    let base = held();
    let mut ct = Conntrack::with_capacity(1 << 20);
    for i in 0..n {
        let (mut key, meta) = flow(i % 60_000, false);
        key.remote_port = (i / 60_000) as u16;
        let at = Duration::from_secs(if i % 10 == 0 { 1000 } else { 0 });
        assert!(ct.open(key, Direction::Egress, &meta, at));
    }
    let full = ct.memory_bytes();
    assert_eq!(full, (1 << 18) * 41 + 16);
    assert_eq!(full as isize, held() - base);
    ct.sweep(Duration::from_secs(432_500));
    assert_eq!(ct.len(), n as usize / 10 + 1);
    assert_eq!(ct.memory_bytes(), full, "after the sweep, {} tracked", ct.len());
    assert_eq!(full as isize, held() - base);
    // New flows go into the freed slots: still the same buckets.
    for i in 0..1000 {
        let (mut key, meta) = flow(i, false);
        key.remote_port = 9;
        assert!(ct.open(key, Direction::Egress, &meta, Duration::from_secs(432_500)));
        assert_eq!(ct.memory_bytes() as isize, held() - base, "{} tracked", ct.len());
    }
}
