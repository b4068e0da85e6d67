//! Route lookup alone: a compiled route table of 10, 100 and 1,000 routes
//! (every tenth a prefix-list route of four entries), probed with 1,024
//! IPv4 destinations per iteration: addresses inside the table's prefixes,
//! local addresses, and addresses that fall to the default route.

use std::hint::black_box;
use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use ipnet::IpNet;
use vpcsim_bench::shapes::{Shape, lookup_addresses, two_subnets};
use vpcsim_dataplane::fib::Fib;
use vpcsim_model::RouteDest;

fn lookup(c: &mut Criterion) {
    let mut group = c.benchmark_group("route lookup");
    group.warm_up_time(Duration::from_millis(500));
    group.measurement_time(Duration::from_secs(2));
    for routes in [10, 100, 1000] {
        let text = two_subnets(Shape { routes, rules: 10 });
        let t = vpcsim_scenario::load_str(&text, "bench.toml").expect("a valid scenario");
        let table = t.route_tables.iter().find(|r| r.id == "rtb-bench").expect("the bench table");
        let mut prefixes = Vec::new();
        for r in &table.routes {
            let nets: Vec<IpNet> = match r.dest {
                RouteDest::Cidr(c) => vec![c],
                RouteDest::PrefixList(pl) => t.prefix_list(pl).entries.clone(),
            };
            for n in nets {
                if let IpNet::V4(n) = n {
                    prefixes.push((u32::from(n.network()), n.prefix_len()));
                }
            }
        }
        let fib = Fib::compile(&t, table);
        let addrs: Vec<IpAddr> = lookup_addresses(&prefixes, 1024, routes as u64)
            .into_iter()
            .map(|a| IpAddr::V4(Ipv4Addr::from(a)))
            .collect();
        group.throughput(Throughput::Elements(addrs.len() as u64));
        group.bench_function(format!("{routes} routes"), |bench| {
            bench.iter(|| {
                let mut sum = 0usize;
                for &a in &addrs {
                    sum = sum.wrapping_add(fib.lookup(black_box(a)).map_or(0, |e| e.route));
                }
                black_box(sum)
            })
        });
    }
    group.finish();
}

criterion_group!(benches, lookup);
criterion_main!(benches);
