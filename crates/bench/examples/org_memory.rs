//! Memory per host of an organisation: the loaded topology (the model), the
//! compiled topology (route tables, filters, address owners) and one probe's
//! simulation, counted by a global allocator at 1k and 100k hosts. The
//! per-host figure is the difference between the two sizes, divided by the
//! hosts added, so what does not grow with the network cancels out.
//!
//! `cargo run --release -p vpcsim-bench --example org_memory`

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use vpcsim_bench::Org;
use vpcsim_dataplane::Compiled;
use vpcsim_engine::{ProbeSpec, SimConfig, run_probe_on};

struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

fn grew(by: usize) {
    let now = LIVE.fetch_add(by, Ordering::Relaxed) + by;
    PEAK.fetch_max(now, Ordering::Relaxed);
}

// SAFETY: every call is forwarded to the system allocator unchanged; the
// counters only observe sizes.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        grew(layout.size());
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
        grew(new_size);
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Hosts, then bytes live: the model, the model and its compiled form, and
/// the peak over one probe above that.
fn measure(vpcs: usize) -> (usize, usize, usize, usize) {
    let org = Org { vpcs, expects: 100, ..Org::default() };
    let text = org.to_toml().expect("an organisation that fits");
    let t = vpcsim_scenario::load_str(&text, "org.toml").expect("a valid scenario");
    drop(text);
    let t = Arc::new(t);
    let model = LIVE.load(Ordering::Relaxed);
    let compiled = Compiled::new(Arc::clone(&t));
    let both = LIVE.load(Ordering::Relaxed);
    PEAK.store(both, Ordering::Relaxed);
    let outcome = run_probe_on(&compiled, &ProbeSpec::from(&t.expectations[0]), SimConfig::default());
    let probe = PEAK.load(Ordering::Relaxed) - both;
    drop(outcome);
    (org.hosts(), model, both, probe)
}

fn main() {
    let small = measure(10);
    let large = measure(1000);
    let per_host = |a: usize, b: usize| (b as f64 - a as f64) / (large.0 - small.0) as f64;
    for (hosts, model, both, probe) in [small, large] {
        println!(
            "{hosts} hosts: model {:.1} MB, compiled {:.1} MB, one probe's peak {:.1} KB",
            model as f64 / 1e6,
            (both - model) as f64 / 1e6,
            probe as f64 / 1e3
        );
    }
    println!(
        "per host added: {:.0} bytes of model, {:.0} bytes compiled; one probe's peak grew {:.2}× from {} to {} hosts",
        per_host(small.1, large.1),
        per_host(small.2 - small.1, large.2 - large.1),
        large.3 as f64 / small.3.max(1) as f64,
        small.0,
        large.0
    );
}
