//! The steady state of the data plane allocates nothing per packet: an
//! established flow, IPv4 and IPv6, through NACLs, route lookup and security
//! groups, counted by a global allocator.

use std::alloc::{GlobalAlloc, Layout, System};
use std::net::IpAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use vpcsim_bench::frames;
use vpcsim_bench::shapes::{A_V4, A_V6, B_V4, B_V6, Shape, two_subnets};
use vpcsim_dataplane::{Fabric, Trace, Verdict};

struct Counting;

static ALLOCATIONS: AtomicU64 = AtomicU64::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

#[test]
fn established_flows_allocate_nothing_per_packet() {
    let text = two_subnets(Shape { routes: 1000, rules: 1000 });
    let t = Arc::new(vpcsim_scenario::load_str(&text, "gen.toml").expect("valid"));
    let a = t.host(t.host_by_id("a").expect("a")).eni;
    let b = t.host(t.host_by_id("b").expect("b")).eni;
    let mac = |e| t.eni(e).mac;
    let pairs = [(IpAddr::from(A_V4), IpAddr::from(B_V4)), (IpAddr::from(A_V6), IpAddr::from(B_V6))];
    let mut fabric = Fabric::new(Arc::clone(&t));
    let mut out = Vec::with_capacity(2048);
    let mut trace = Trace::off();
    let mut packets = Vec::new();
    for (i, (sa, sb)) in pairs.into_iter().enumerate() {
        let sport = 40000 + i as u16;
        packets.push((a, frames::tcp((mac(a), [2; 6]), sa, sb, (sport, 443), frames::ACK, 100)));
        packets.push((b, frames::tcp((mac(b), [2; 6]), sb, sa, (443, sport), frames::ACK, 100)));
    }
    // Opening the flows may allocate (connection tracking grows).
    for (eni, f) in &packets {
        assert!(matches!(fabric.process(Duration::ZERO, *eni, f, &mut out, &mut trace), Verdict::Deliver(_)));
    }
    let before = ALLOCATIONS.load(Ordering::Relaxed);
    for i in 0..10_000u64 {
        let (eni, f) = &packets[(i % 4) as usize];
        let v = fabric.process(Duration::from_millis(i), *eni, f, &mut out, &mut trace);
        assert!(matches!(v, Verdict::Deliver(_)));
    }
    let after = ALLOCATIONS.load(Ordering::Relaxed);
    assert_eq!(after - before, 0, "allocations in 10,000 established packets");
}
