//! A repeatable count of the new-flow path, for callgrind (instructions, not
//! seconds, so the figure holds on a busy machine): 100,000 first packets of
//! distinct TCP flows from host a to host b of the bench's two-subnet shape
//! (10 routes, 10 rules), each through SG egress, the route lookup, NACLs
//! and SG ingress with a conntrack insert at both ENIs.
//!
//! `valgrind --tool=callgrind target/release/examples/new_flows`, then the
//! inclusive count of `Fabric::process`.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use vpcsim_bench::frames;
use vpcsim_bench::shapes::{A_V4, B_V4, Shape, two_subnets};
use vpcsim_dataplane::{Fabric, Trace, Verdict};

const FLOWS: u32 = 100_000;

fn main() {
    let text = two_subnets(Shape { routes: 10, rules: 10 });
    let t = Arc::new(vpcsim_scenario::load_str(&text, "bench.toml").expect("a valid scenario"));
    let a = t.host(t.host_by_id("a").expect("host a")).eni;
    let mut fabric = Fabric::new(Arc::clone(&t)).with_conntrack_capacity(1 << 20);
    let (mut out, mut trace, mut delivered) = (Vec::with_capacity(2048), Trace::off(), 0u32);
    for i in 0..FLOWS {
        let (src, dst) = (1024 + (i % 60_000) as u16, 1 + (i / 60_000) as u16);
        let frame =
            frames::tcp((t.eni(a).mac, [4; 6]), IpAddr::from(A_V4), IpAddr::from(B_V4), (src, dst), frames::SYN, 0);
        if let Verdict::Deliver(_) = fabric.process(Duration::from_millis(1), a, &frame, &mut out, &mut trace) {
            delivered += 1;
        }
    }
    println!("{delivered} of {FLOWS} new flows delivered");
}
