//! The forwarding table compiled from a route table: longest prefix match over
//! CIDR routes and the entries of prefix-list routes.
//!
//! Compiled once per route table (and again when the table changes), never per
//! packet. When two routes claim the same prefix, the rank of AWS decides: a
//! CIDR route (local or static) beats a prefix-list route; among equals, the
//! first defined. The winners of each prefix are then laid out for lookup:
//!
//! - IPv4: a multibit trie with strides 16, 8 and 8 (DIR-16-8-8, after DPDK's
//!   DIR-24-8 but with a 256 KiB root instead of 64 MiB, as a fabric holds
//!   one per route table). Prefixes are expanded into slots shortest first, so
//!   longer ones overwrite; a lookup reads one to three slots, no branches on
//!   the number of routes. The trie is laid out at a table's first lookup,
//!   not before: an organisation has thousands of route tables, and a probe
//!   crosses a few (the root alone is 256 KiB).
//! - IPv6: one hash map per prefix length present, probed longest first.

use std::net::IpAddr;
use std::sync::{Arc, OnceLock};

use ipnet::IpNet;
use rustc_hash::FxHashMap;
use vpcsim_model::{RouteDest, RouteOrigin, RouteTable, RouteTarget, Topology};

/// The route that won a lookup.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FibEntry {
    /// Index into the route table's `routes`.
    pub route: usize,
    pub(crate) target: RouteTarget,
    /// The prefix that matched (for a prefix-list route: the entry).
    pub(crate) prefix: IpNet,
    rank: u8,
}

/// One address family's table.
#[derive(Clone, Debug, Default)]
struct Lpm<A> {
    /// Prefix lengths present, longest first.
    lengths: Vec<u8>,
    /// One map per entry of `lengths`.
    maps: Vec<FxHashMap<A, FibEntry>>,
}

trait Addr: Copy + Eq + std::hash::Hash {
    fn masked(self, len: u8) -> Self;
}

impl Addr for u32 {
    #[inline]
    fn masked(self, len: u8) -> u32 {
        if len == 0 { 0 } else { self & (u32::MAX << (32 - u32::from(len))) }
    }
}

impl Addr for u128 {
    #[inline]
    fn masked(self, len: u8) -> u128 {
        if len == 0 { 0 } else { self & (u128::MAX << (128 - u32::from(len))) }
    }
}

impl<A: Addr> Lpm<A> {
    fn insert(&mut self, addr: A, len: u8, entry: FibEntry) {
        let slot = match self.lengths.iter().position(|&l| l == len) {
            Some(i) => i,
            None => {
                let at = self.lengths.iter().position(|&l| l < len).unwrap_or(self.lengths.len());
                self.lengths.insert(at, len);
                self.maps.insert(at, FxHashMap::default());
                at
            }
        };
        let key = addr.masked(len);
        let map = &mut self.maps[slot];
        match map.get(&key) {
            // Lower rank wins; among equals the route defined first.
            Some(old) if (old.rank, old.route) <= (entry.rank, entry.route) => {}
            _ => {
                map.insert(key, entry);
            }
        }
    }

    #[inline]
    fn lookup(&self, addr: A) -> Option<&FibEntry> {
        for (i, &len) in self.lengths.iter().enumerate() {
            if let Some(e) = self.maps[i].get(&addr.masked(len)) {
                return Some(e);
            }
        }
        None
    }
}

/// A slot of the IPv4 trie: 0 is no route; with `CHILD` set, the index of a
/// block of 256 slots for the next 8 bits; otherwise 1 + an index into `entries`.
const CHILD: u32 = 1 << 31;
const ROOT_SLOTS: usize = 1 << 16;

/// IPv4, DIR-16-8-8.
#[derive(Debug)]
struct Dir4 {
    /// The slot value of the route to 0.0.0.0/0, 0 when there is none: what
    /// a slot left at 0 means. Written into every slot instead, the default
    /// route would make each route table touch all 256 KiB of its root at its
    /// first lookup; left out, a table of a few routes touches a few pages.
    default: u32,
    /// The top 16 bits of the address.
    root: Box<[u32; ROOT_SLOTS]>,
    /// Blocks of 256 slots, back to back: bits 8-15, then bits 0-7.
    blocks: Vec<u32>,
    entries: Vec<FibEntry>,
}

impl Dir4 {
    fn build(lpm: &Lpm<u32>) -> Dir4 {
        let root: Box<[u32; ROOT_SLOTS]> =
            vec![0u32; ROOT_SLOTS].into_boxed_slice().try_into().expect("the root has 2^16 slots");
        let mut d = Dir4 { default: 0, root, blocks: Vec::new(), entries: Vec::new() };
        // Shortest first: a longer prefix overwrites the slots it shares with a
        // shorter one. Within one length the prefixes are disjoint.
        for (i, &len) in lpm.lengths.iter().enumerate().rev() {
            let mut prefixes: Vec<(&u32, &FibEntry)> = lpm.maps[i].iter().collect();
            prefixes.sort_unstable_by_key(|(a, _)| **a);
            for (&addr, &entry) in prefixes {
                d.entries.push(entry);
                let v = d.entries.len() as u32;
                let hi = (addr >> 16) as usize;
                if len == 0 {
                    d.default = v;
                } else if len <= 16 {
                    let n = 1usize << (16 - len);
                    d.root[hi..hi + n].fill(v);
                } else if len <= 24 {
                    let b = d.child_of_root(hi);
                    let at = b * 256 + ((addr >> 8) & 0xff) as usize;
                    d.blocks[at..at + (1usize << (24 - len))].fill(v);
                } else {
                    let b1 = d.child_of_root(hi);
                    let b2 = d.child_of_block(b1 * 256 + ((addr >> 8) & 0xff) as usize);
                    let at = b2 * 256 + (addr & 0xff) as usize;
                    d.blocks[at..at + (1usize << (32 - len))].fill(v);
                }
            }
        }
        d
    }

    /// A new block whose 256 slots all inherit `value` (the shorter prefix
    /// that covered the slot it hangs from).
    fn new_block(&mut self, value: u32) -> u32 {
        let b = (self.blocks.len() / 256) as u32;
        assert!(b < CHILD, "IPv4 trie blocks overflow");
        self.blocks.resize(self.blocks.len() + 256, value);
        b
    }

    fn child_of_root(&mut self, slot: usize) -> usize {
        let v = self.root[slot];
        if v & CHILD != 0 {
            return (v & !CHILD) as usize;
        }
        let b = self.new_block(v);
        self.root[slot] = CHILD | b;
        b as usize
    }

    fn child_of_block(&mut self, slot: usize) -> usize {
        let v = self.blocks[slot];
        if v & CHILD != 0 {
            return (v & !CHILD) as usize;
        }
        let b = self.new_block(v);
        self.blocks[slot] = CHILD | b;
        b as usize
    }

    #[inline]
    fn lookup(&self, a: u32) -> Option<&FibEntry> {
        let mut v = self.root[(a >> 16) as usize];
        if v & CHILD != 0 {
            v = self.blocks[(((v & !CHILD) as usize) << 8) | ((a >> 8) & 0xff) as usize];
            if v & CHILD != 0 {
                v = self.blocks[(((v & !CHILD) as usize) << 8) | (a & 0xff) as usize];
            }
        }
        match if v == 0 { self.default } else { v } {
            0 => None,
            v => self.entries.get(v as usize - 1),
        }
    }
}

/// A route table, compiled. Cheap to clone: the tables are shared.
#[derive(Clone, Debug, Default)]
pub struct Fib {
    /// `None` when the table has no IPv4 route.
    v4: Option<Arc<LazyDir4>>,
    v6: Arc<Lpm<u128>>,
}

/// The IPv4 winners, and their trie once a lookup asked for it.
#[derive(Debug)]
struct LazyDir4 {
    routes: Lpm<u32>,
    dir: OnceLock<Dir4>,
}

impl LazyDir4 {
    #[inline]
    fn get(&self) -> &Dir4 {
        self.dir.get_or_init(|| Dir4::build(&self.routes))
    }
}

/// How strongly a route claims its prefix: lower wins.
fn rank(dest: RouteDest, origin: RouteOrigin) -> u8 {
    match (dest, origin) {
        (RouteDest::Cidr(_), RouteOrigin::Local) => 0,
        (RouteDest::Cidr(_), RouteOrigin::Static) => 1,
        (RouteDest::PrefixList(_), _) => 2,
    }
}

impl Fib {
    pub fn compile(t: &Topology, table: &RouteTable) -> Fib {
        let mut v4 = Lpm::<u32>::default();
        let mut v6 = Lpm::<u128>::default();
        for (i, route) in table.routes.iter().enumerate() {
            let rank = rank(route.dest, route.origin);
            let mut add = |prefix: IpNet| {
                let entry = FibEntry { route: i, target: route.target, prefix, rank };
                match prefix {
                    IpNet::V4(n) => v4.insert(u32::from(n.network()), n.prefix_len(), entry),
                    IpNet::V6(n) => v6.insert(u128::from(n.network()), n.prefix_len(), entry),
                }
            };
            match route.dest {
                RouteDest::Cidr(c) => add(c),
                RouteDest::PrefixList(pl) => t.prefix_list(pl).entries.iter().copied().for_each(add),
            }
        }
        let v4 = (!v4.lengths.is_empty()).then(|| Arc::new(LazyDir4 { routes: v4, dir: OnceLock::new() }));
        Fib { v4, v6: Arc::new(v6) }
    }

    /// The route for `dest`, by longest prefix match.
    #[inline]
    pub fn lookup(&self, dest: IpAddr) -> Option<&FibEntry> {
        match dest {
            IpAddr::V4(a) => self.v4.as_ref()?.get().lookup(u32::from(a)),
            IpAddr::V6(a) => self.v6.lookup(u128::from(a)),
        }
    }
}

/// For the trace: every route of `table` other than `winner` that also matches
/// `dest`, most specific first. Explains a decision; never makes one.
pub(crate) fn beaten_routes(t: &Topology, table: &RouteTable, dest: IpAddr, winner: usize) -> Vec<usize> {
    let mut others: Vec<(u8, usize)> = table
        .routes
        .iter()
        .enumerate()
        .filter(|&(i, _)| i != winner)
        .filter_map(|(i, r)| {
            let len = match r.dest {
                RouteDest::Cidr(c) => c.contains(&dest).then_some(c.prefix_len()),
                RouteDest::PrefixList(pl) => {
                    t.prefix_list(pl).entries.iter().filter(|e| e.contains(&dest)).map(|e| e.prefix_len()).max()
                }
            }?;
            Some((len, i))
        })
        .collect();
    others.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    others.into_iter().map(|(_, i)| i).collect()
}

#[cfg(test)]
mod tests {
    use std::net::Ipv4Addr;

    use ipnet::Ipv4Net;
    use proptest::prelude::*;
    use vpcsim_model::{PrefixList, PrefixListIdx, Route, VpcIdx};

    use super::*;

    /// The reference: every (route, prefix) that contains the address, the
    /// longest prefix first, then the stronger kind, then the route defined first.
    fn naive(t: &Topology, table: &RouteTable, dest: IpAddr) -> Option<usize> {
        let mut best: Option<(u8, u8, usize)> = None;
        for (i, r) in table.routes.iter().enumerate() {
            let prefixes: Vec<IpNet> = match r.dest {
                RouteDest::Cidr(c) => vec![c],
                RouteDest::PrefixList(pl) => t.prefix_list(pl).entries.clone(),
            };
            for p in prefixes.into_iter().filter(|p| p.contains(&dest)) {
                let cand = (p.prefix_len(), rank(r.dest, r.origin), i);
                let better = match best {
                    None => true,
                    Some((len, rk, idx)) => {
                        (cand.0, std::cmp::Reverse(cand.1), std::cmp::Reverse(cand.2))
                            > (len, std::cmp::Reverse(rk), std::cmp::Reverse(idx))
                    }
                };
                if better {
                    best = Some(cand);
                }
            }
        }
        best.map(|b| b.2)
    }

    fn net(addr: u32, len: u8) -> IpNet {
        IpNet::V4(Ipv4Net::new(Ipv4Addr::from(addr), len).unwrap().trunc())
    }

    /// An address of a small space, so that prefixes overlap often: `a` sets
    /// bits 18-23 and 3-8, `b` bits 9-15 (where prefixes /17 to /22 end and
    /// the trie's second level begins), `c` bits 0-2.
    fn addr(a: u32, b: u32, c: u32) -> u32 {
        0x0a00_0000 | (a << 18) | (b << 9) | (a << 3) | c
    }

    fn arb_b() -> impl Strategy<Value = u32> {
        prop_oneof![Just(0u32), Just(127), 0u32..128]
    }

    fn arb_prefix() -> impl Strategy<Value = IpNet> {
        (0u32..64, arb_b(), 0u8..=32).prop_map(|(a, b, len)| net(addr(a, b, 0), len))
    }

    proptest! {
        #[test]
        fn lookup_agrees_with_the_naive_reference(
            cidrs in proptest::collection::vec((arb_prefix(), any::<bool>()), 0..40),
            lists in proptest::collection::vec(proptest::collection::vec(arb_prefix(), 1..5), 0..4),
            addrs in proptest::collection::vec((0u32..64, arb_b(), 0u32..8), 1..40),
            noise in proptest::collection::vec(any::<u32>(), 1..10),
        ) {
            let mut t = Topology::default();
            for (i, entries) in lists.iter().enumerate() {
                t.prefix_lists.push(PrefixList { id: format!("pl-{i}"), entries: entries.clone(), managed: None });
            }
            let mut routes: Vec<Route> = cidrs
                .iter()
                .map(|&(c, blackhole)| Route {
                    dest: RouteDest::Cidr(c),
                    target: if blackhole { RouteTarget::Blackhole } else { RouteTarget::Local },
                    origin: if blackhole { RouteOrigin::Static } else { RouteOrigin::Local },
                })
                .collect();
            for i in 0..lists.len() {
                routes.insert(
                    i * 3 % (routes.len() + 1),
                    Route {
                        dest: RouteDest::PrefixList(PrefixListIdx::from_index(i)),
                        target: RouteTarget::Blackhole,
                        origin: RouteOrigin::Static,
                    },
                );
            }
            let table = RouteTable { id: "rtb".into(), vpc: VpcIdx(0), main: true, implicit: false, routes };
            let fib = Fib::compile(&t, &table);
            // Each CIDR's first and last address and their neighbours outside it.
            let edges = cidrs.iter().flat_map(|&(c, _)| {
                let IpNet::V4(c) = c else { unreachable!() };
                let (first, last) = (u32::from(c.network()), u32::from(c.broadcast()));
                [first.wrapping_sub(1), first, last, last.wrapping_add(1)]
            });
            let probes = addrs
                .iter()
                .map(|&(a, b, c)| addr(a, b, c))
                .chain(noise.iter().copied())
                .chain(edges);
            for a in probes {
                let dest = IpAddr::V4(Ipv4Addr::from(a));
                prop_assert_eq!(fib.lookup(dest).map(|e| e.route), naive(&t, &table, dest), "address {}", dest);
            }
        }
    }

    /// Routes of /17 to /22 end inside the trie's second level (bits 8-15): a
    /// /20 beside its /16 (10.0.0.0/20 → A, 10.0.0.0/16 → B: 10.0.15.200 is
    /// A's, 10.0.16.1 is B's), at the start, in the middle and at the end of
    /// the /16, and a longer route inside it.
    #[test]
    fn routes_of_17_to_22_bits_are_looked_up_exactly_to_their_edges() {
        let v4 = |s: &str| IpAddr::V4(s.parse().unwrap());
        let cidr = |s: &str| Route {
            dest: RouteDest::Cidr(s.parse().unwrap()),
            target: RouteTarget::Local,
            origin: RouteOrigin::Static,
        };
        let table =
            |routes: Vec<Route>| RouteTable { id: "rtb".into(), vpc: VpcIdx(0), main: true, implicit: false, routes };
        let t = Topology::default();

        let rt = table(vec![cidr("10.0.0.0/16"), cidr("10.0.0.0/20")]);
        let fib = Fib::compile(&t, &rt);
        let route = |a: &str| fib.lookup(v4(a)).map(|e| e.route);
        assert_eq!(route("10.0.15.200"), Some(1));
        assert_eq!(route("10.0.15.255"), Some(1));
        assert_eq!(route("10.0.0.0"), Some(1));
        assert_eq!(route("10.0.16.1"), Some(0));
        assert_eq!(route("10.0.16.0"), Some(0));
        assert_eq!(route("10.0.255.255"), Some(0));
        assert_eq!(route("10.1.0.0"), None);

        for len in 17u8..=22 {
            let size = 1u32 << (32 - len);
            for third in [0u32, 128 - (size >> 8), 256 - (size >> 8)] {
                let first = 0x0a00_0000 | (third << 8);
                let last = first + size - 1;
                let p = format!("{}/{len}", Ipv4Addr::from(first));
                // The /16, the /len, and a /26 inside the /len (a third level below it).
                let inner = first + size / 2;
                let rt = table(vec![cidr("10.0.0.0/16"), cidr(&p), cidr(&format!("{}/26", Ipv4Addr::from(inner)))]);
                let fib = Fib::compile(&t, &rt);
                for (a, want) in [
                    (first.wrapping_sub(1), if third == 0 { None } else { Some(0) }),
                    (first, Some(1)),
                    (first + 255, Some(1)),
                    (first + 256, Some(1)),
                    (inner - 1, Some(1)),
                    (inner, Some(2)),
                    (inner + 63, Some(2)),
                    (inner + 64, Some(1)),
                    (last, Some(1)),
                    (last + 1, if third + (size >> 8) == 256 { None } else { Some(0) }),
                ] {
                    let dest = IpAddr::V4(Ipv4Addr::from(a));
                    assert_eq!(fib.lookup(dest).map(|e| e.route), want, "{dest} with {p}");
                    assert_eq!(naive(&t, &rt, dest), want, "the reference, {dest} with {p}");
                }
            }
        }
    }
}
