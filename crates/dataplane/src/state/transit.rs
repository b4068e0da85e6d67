//! Transit gateways compiled for forwarding: each route table as a
//! longest-prefix index, and which attachment joins a VPC to a transit
//! gateway. Built once from the topology, so a lookup costs the same with
//! 10 attachments as with 5,000 (a linear scan of a 1,000-VPC organisation's
//! propagated routes made every probe across it 2.6× slower).

use std::net::IpAddr;

use rustc_hash::FxHashMap;
use vpcsim_model::{TgwAttachmentIdx, TgwAttachmentKind, TgwRouteTable, Topology, TransitGatewayIdx, VpcIdx};

/// One transit gateway route table, indexed: for each prefix length in use
/// (longest first), the routes of every prefix of that length, the winner
/// first.
#[derive(Clone, Debug, Default)]
pub(crate) struct TgwIndex {
    v4: Vec<(u8, FxHashMap<u32, Vec<usize>>)>,
    v6: Vec<(u8, FxHashMap<u128, Vec<usize>>)>,
}

fn mask_v4(a: u32, len: u8) -> u32 {
    a & u32::MAX.checked_shl(32 - u32::from(len.min(32))).unwrap_or(0)
}

fn mask_v6(a: u128, len: u8) -> u128 {
    a & u128::MAX.checked_shl(128 - u32::from(len.min(128))).unwrap_or(0)
}

impl TgwIndex {
    /// AWS's choice among routes of one prefix, decided here once: static
    /// over propagated, then the route listed first.
    pub(crate) fn compile(table: &TgwRouteTable) -> TgwIndex {
        let mut v4: FxHashMap<u8, FxHashMap<u32, Vec<usize>>> = FxHashMap::default();
        let mut v6: FxHashMap<u8, FxHashMap<u128, Vec<usize>>> = FxHashMap::default();
        for (i, r) in table.routes.iter().enumerate() {
            let len = r.dest.prefix_len();
            match r.dest.addr() {
                IpAddr::V4(a) => v4.entry(len).or_default().entry(mask_v4(u32::from(a), len)).or_default().push(i),
                IpAddr::V6(a) => v6.entry(len).or_default().entry(mask_v6(u128::from(a), len)).or_default().push(i),
            }
        }
        // Stable: among routes of one origin, the one listed first stays first.
        let order = |routes: &mut Vec<usize>| routes.sort_by_key(|&i| table.routes[i].origin);
        let mut v4: Vec<_> = v4.into_iter().collect();
        let mut v6: Vec<_> = v6.into_iter().collect();
        v4.iter_mut().for_each(|(_, m)| m.values_mut().for_each(order));
        v6.iter_mut().for_each(|(_, m)| m.values_mut().for_each(order));
        v4.sort_by_key(|&(len, _)| std::cmp::Reverse(len));
        v6.sort_by_key(|&(len, _)| std::cmp::Reverse(len));
        TgwIndex { v4, v6 }
    }

    /// Every route that matches `dest`, by prefix, longest first; in each,
    /// the winner first.
    fn matching(&self, dest: IpAddr) -> impl Iterator<Item = &[usize]> {
        let (v4, v6) = match dest {
            IpAddr::V4(a) => (Some(u32::from(a)), None),
            IpAddr::V6(a) => (None, Some(u128::from(a))),
        };
        let v4 = v4.into_iter().flat_map(|a| self.v4.iter().filter_map(move |(len, m)| m.get(&mask_v4(a, *len))));
        let v6 = v6.into_iter().flat_map(|a| self.v6.iter().filter_map(move |(len, m)| m.get(&mask_v6(a, *len))));
        v4.chain(v6).map(Vec::as_slice)
    }

    /// The route that wins for `dest`: the longest prefix, then static over
    /// propagated, then the route listed first.
    pub(crate) fn lookup(&self, dest: IpAddr) -> Option<usize> {
        self.matching(dest).next().and_then(|routes| routes.first().copied())
    }

    /// For the trace: the other routes that match `dest`, most specific
    /// first, then in the table's order. Explains a decision; never makes one.
    pub(crate) fn beaten(&self, dest: IpAddr, winner: usize) -> Vec<usize> {
        let mut others = Vec::new();
        for routes in self.matching(dest) {
            let start = others.len();
            others.extend(routes.iter().copied().filter(|&i| i != winner));
            others[start..].sort_unstable();
        }
        others
    }
}

/// Every transit gateway route table indexed, and the VPC attachments.
#[derive(Clone, Debug, Default)]
pub(crate) struct Transit {
    /// One per transit gateway route table, same index.
    pub(crate) tables: Vec<TgwIndex>,
    /// The attachment joining a VPC to a transit gateway (the first listed).
    vpc_attachments: FxHashMap<(TransitGatewayIdx, VpcIdx), TgwAttachmentIdx>,
}

impl Transit {
    pub(crate) fn compile(t: &Topology) -> Transit {
        let mut vpc_attachments = FxHashMap::default();
        for (i, a) in t.tgw_attachments.iter().enumerate() {
            if let TgwAttachmentKind::Vpc { vpc, .. } = &a.kind {
                vpc_attachments.entry((a.transit_gateway, *vpc)).or_insert(TgwAttachmentIdx::from_index(i));
            }
        }
        Transit { tables: t.tgw_route_tables.iter().map(TgwIndex::compile).collect(), vpc_attachments }
    }

    /// The attachment of `vpc` to transit gateway `tgw`, if any.
    pub(crate) fn vpc_attachment(&self, tgw: TransitGatewayIdx, vpc: VpcIdx) -> Option<TgwAttachmentIdx> {
        self.vpc_attachments.get(&(tgw, vpc)).copied()
    }
}

#[cfg(test)]
mod tests {
    use std::net::IpAddr;

    use ipnet::IpNet;
    use vpcsim_model::{TgwAttachmentIdx, TgwRoute, TgwRouteOrigin, TgwRouteTable, TgwRouteTarget, TransitGatewayIdx};

    use super::TgwIndex;

    /// AWS's rule read literally, over every route: the oracle the index
    /// must agree with.
    fn scan(table: &TgwRouteTable, dest: IpAddr) -> Option<usize> {
        let mut best: Option<(u8, TgwRouteOrigin, usize)> = None;
        for (i, r) in table.routes.iter().enumerate() {
            if !r.dest.contains(&dest) {
                continue;
            }
            let len = r.dest.prefix_len();
            if best.is_none_or(|(l, o, _)| len > l || (len == l && r.origin < o)) {
                best = Some((len, r.origin, i));
            }
        }
        best.map(|b| b.2)
    }

    fn scan_beaten(table: &TgwRouteTable, dest: IpAddr, winner: usize) -> Vec<usize> {
        let mut others: Vec<(u8, usize)> = (table.routes.iter().enumerate())
            .filter(|&(i, r)| i != winner && r.dest.contains(&dest))
            .map(|(i, r)| (r.dest.prefix_len(), i))
            .collect();
        others.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
        others.into_iter().map(|(_, i)| i).collect()
    }

    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }
    }

    #[test]
    fn the_index_agrees_with_a_scan_of_every_route() {
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        for round in 0..200 {
            let mut routes = Vec::new();
            for _ in 0..(1 + rng.next() % 40) {
                // Few distinct prefixes, so that prefixes repeat (static and
                // propagated of one prefix) and nest; host bits left in on purpose.
                let v6 = rng.next().is_multiple_of(4);
                let bits = rng.next() % 8;
                let dest: IpNet = if v6 {
                    let len = [0u8, 16, 32, 48, 56, 64, 127, 128][bits as usize];
                    let a = (0x2001_0db8u128 << 96) | (u128::from(rng.next() % 4) << 80) | u128::from(rng.next() % 3);
                    IpNet::new(IpAddr::from(a.to_be_bytes()), len).expect("a prefix length within 128")
                } else {
                    let len = [0u8, 8, 16, 17, 22, 24, 31, 32][bits as usize];
                    let a = 0x0a00_0000u32 | ((rng.next() % 4) as u32 * 0x0001_1000) | (rng.next() % 3) as u32;
                    IpNet::new(IpAddr::from(a.to_be_bytes()), len).expect("a prefix length within 32")
                };
                let origin =
                    if rng.next().is_multiple_of(2) { TgwRouteOrigin::Static } else { TgwRouteOrigin::Propagated };
                let target = TgwRouteTarget::Attachment(TgwAttachmentIdx::from_index(routes.len()));
                routes.push(TgwRoute { dest, target, origin });
            }
            let table = TgwRouteTable {
                id: format!("tgw-rtb-{round}"),
                transit_gateway: TransitGatewayIdx::from_index(0),
                routes,
            };
            let index = TgwIndex::compile(&table);
            for _ in 0..200 {
                let dest = if rng.next().is_multiple_of(4) {
                    let a = (0x2001_0db8u128 << 96) | (u128::from(rng.next() % 4) << 80) | u128::from(rng.next() % 3);
                    IpAddr::from(a.to_be_bytes())
                } else {
                    let a = 0x0a00_0000u32 | ((rng.next() % 4) as u32 * 0x0001_1000) | (rng.next() % 3) as u32;
                    IpAddr::from(a.to_be_bytes())
                };
                let winner = scan(&table, dest);
                assert_eq!(index.lookup(dest), winner, "round {round}, {dest}");
                if let Some(w) = winner {
                    assert_eq!(index.beaten(dest, w), scan_beaten(&table, dest, w), "round {round}, {dest}");
                }
            }
        }
    }
}
