//! `[[vpc]]`, `[[route_table]]` (its shell: the routes come in `routes.rs`,
//! once their targets exist) and `[[subnet]]`; the implicit main route table
//! of every VPC; the automatic addresses of a subnet.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr};

use ipnet::{IpNet, Ipv4Net, Ipv6Net};
use toml::Spanned;
use vpcsim_model::{
    DEFAULT_ACCOUNT, DEFAULT_REGION, NaclIdx, Route, RouteDest, RouteOrigin, RouteTable, RouteTableIdx, RouteTarget,
    SgIdx, Subnet, SubnetIdx, Vpc, VpcIdx,
};

use crate::addresses::{self, Place};
use crate::context::{Holder, Kind, on_top_of};
use crate::diagnostic::SourceMap;
use crate::filters::Filters;
use crate::raw::RawScenario;
use crate::values;

/// The network's facts, on the filters.
pub(crate) struct Network<'a> {
    below: Filters<'a>,
    // By index of the kind: false/`None` where the file was wrong, so that one
    // mistake does not cascade into unrelated errors.
    pub(crate) vpc_cidr_ok: Vec<bool>,
    pub(crate) rt_vpc: Vec<Option<VpcIdx>>,
    pub(crate) subnet_ok: Vec<bool>,
}

impl<'a> Network<'a> {
    pub(crate) fn new(map: &'a SourceMap<'a>) -> Self {
        Self { below: Filters::new(map), vpc_cidr_ok: Vec::new(), rt_vpc: Vec::new(), subnet_ok: Vec::new() }
    }
}

on_top_of!(Network, Filters);

impl Network<'_> {
    pub(crate) fn vpcs(&mut self, raw: &RawScenario) {
        for r in &raw.vpc {
            let id = r.id.get_ref().clone();
            let cidr = self.v4_cidr(&r.cidr, "a VPC", 16..=28);
            let ipv6_cidr = r.ipv6_cidr.as_ref().and_then(|c| self.v6_cidr(c, "a VPC", 44..=64));
            let region = r.region.as_ref().map_or(DEFAULT_REGION.to_owned(), |s| s.get_ref().clone());
            if let Some(reg) = &r.region
                && let Err(e) = values::region(reg.get_ref())
            {
                self.err(reg.span(), e);
            }
            if let Some(acc) = &r.account
                && let Err(e) = values::account(acc.get_ref())
            {
                self.err(acc.span(), e);
            }
            self.vpc_cidr_ok.push(cidr.is_some());
            self.t.vpcs.push(Vpc {
                id,
                cidr: cidr.unwrap_or_default(),
                ipv6_cidr,
                region,
                account: r.account.as_ref().map_or_else(|| DEFAULT_ACCOUNT.to_owned(), |a| a.get_ref().clone()),
                private_dns: r.private_dns.unwrap_or(true),
                subnets: Vec::new(),
                // Placeholders: set below, once the implicit resources exist.
                main_route_table: RouteTableIdx(0),
                default_nacl: NaclIdx(0),
                default_security_group: SgIdx(0),
                internet_gateway: None,
            });
        }
    }

    /// An IPv4 CIDR of `what` with a prefix length in `lens`.
    fn v4_cidr(&mut self, r: &Spanned<String>, what: &str, lens: std::ops::RangeInclusive<u8>) -> Option<Ipv4Net> {
        match values::cidr(r.get_ref()) {
            Err(e) => {
                self.err(r.span(), e);
                None
            }
            Ok(IpNet::V6(_)) => {
                self.err(r.span(), format!("`cidr` is {what}'s IPv4 CIDR; put an IPv6 CIDR in `ipv6_cidr`"));
                None
            }
            Ok(IpNet::V4(n)) if !lens.contains(&n.prefix_len()) => {
                self.err(
                    r.span(),
                    format!(
                        "{n}: {what}'s IPv4 CIDR must be between /{} and /{} (AWS's limits)",
                        lens.start(),
                        lens.end()
                    ),
                );
                None
            }
            Ok(IpNet::V4(n)) => match addresses::check_cidr(IpNet::V4(n), Place::Vpc) {
                Ok(()) => Some(n),
                Err(e) => {
                    self.err(r.span(), e);
                    None
                }
            },
        }
    }

    fn v6_cidr(&mut self, r: &Spanned<String>, what: &str, lens: std::ops::RangeInclusive<u8>) -> Option<Ipv6Net> {
        match values::cidr(r.get_ref()) {
            Err(e) => {
                self.err(r.span(), e);
                None
            }
            Ok(IpNet::V4(_)) => {
                self.err(r.span(), format!("`ipv6_cidr` is {what}'s IPv6 CIDR; put the IPv4 CIDR in `cidr`"));
                None
            }
            Ok(IpNet::V6(n)) if !lens.contains(&n.prefix_len()) => {
                self.err(
                    r.span(),
                    format!("{n}: {what}'s IPv6 CIDR must be between /{} and /{}", lens.start(), lens.end()),
                );
                None
            }
            Ok(IpNet::V6(n)) => match addresses::check_cidr(IpNet::V6(n), Place::Vpc) {
                Ok(()) => Some(n),
                Err(e) => {
                    self.err(r.span(), e);
                    None
                }
            },
        }
    }

    pub(crate) fn route_table_shells(&mut self, raw: &RawScenario) {
        // The user's main route table per VPC, with the line it was declared on.
        let mut main: Vec<Option<(usize, usize)>> = vec![None; self.t.vpcs.len()];
        for (i, r) in raw.route_table.iter().enumerate() {
            let vpc = self.resolve_vpc(&r.vpc);
            let is_main = r.main.as_ref().is_some_and(|m| *m.get_ref());
            if let (Some(v), true, Some(m)) = (vpc, is_main, &r.main) {
                match main[v.index()] {
                    Some((first, line)) => {
                        let msg = format!(
                            "{} already has a main route table, `{}` (line {line}); a VPC has exactly one",
                            self.vpc_id(v),
                            raw.route_table[first].id.get_ref()
                        );
                        self.err(m.span(), msg);
                    }
                    None => main[v.index()] = Some((i, self.line_of(&m.span()))),
                }
            }
            self.rt_vpc.push(vpc);
            self.t.route_tables.push(RouteTable {
                id: r.id.get_ref().clone(),
                vpc: vpc.unwrap_or(VpcIdx(0)),
                main: is_main,
                implicit: false,
                routes: Vec::new(),
            });
        }
        for (v, user_main) in main.iter().enumerate() {
            let vpc = VpcIdx::from_index(v);
            let idx = match user_main {
                Some((i, _)) => RouteTableIdx::from_index(*i),
                None => {
                    let idx = RouteTableIdx::from_index(self.t.route_tables.len());
                    let id = format!("{}/main-route-table", self.vpc_id(vpc));
                    self.register_implicit(
                        id.clone(),
                        Kind::RouteTable,
                        idx.index(),
                        "the VPC's implicit main route table",
                    );
                    let routes = self.local_routes(vpc);
                    self.rt_vpc.push(Some(vpc));
                    self.t.route_tables.push(RouteTable { id, vpc, main: true, implicit: true, routes });
                    idx
                }
            };
            self.t.vpcs[v].main_route_table = idx;
        }
    }

    /// The implicit local routes of a VPC: one per CIDR.
    pub(crate) fn local_routes(&self, v: VpcIdx) -> Vec<Route> {
        let vpc = self.t.vpc(v);
        let mut cidrs = Vec::new();
        if self.vpc_cidr_ok[v.index()] {
            cidrs.push(IpNet::V4(vpc.cidr));
        }
        cidrs.extend(vpc.ipv6_cidr.map(IpNet::V6));
        cidrs
            .into_iter()
            .map(|c| Route { dest: RouteDest::Cidr(c), target: RouteTarget::Local, origin: RouteOrigin::Local })
            .collect()
    }

    pub(crate) fn subnets(&mut self, raw: &RawScenario) {
        for (i, r) in raw.subnet.iter().enumerate() {
            let id = r.id.get_ref().clone();
            let vpc = self.resolve_vpc(&r.vpc);
            let mut ok = true;
            let cidr = self.v4_cidr(&r.cidr, "a subnet", 16..=28);
            if let (Some(c), Some(v)) = (cidr, vpc) {
                let vpc_cidr = self.t.vpc(v).cidr;
                if self.vpc_cidr_ok[v.index()] && !vpc_cidr.contains(&c) {
                    let msg = format!("{id}: {c} is not inside {} {vpc_cidr}", self.vpc_id(v));
                    self.err(r.cidr.span(), msg);
                    ok = false;
                } else if let Some(other) = self.overlapping_subnet(v, |s| IpNet::V4(s.cidr), IpNet::V4(c)) {
                    let msg =
                        format!("{id}: {c} overlaps subnet {} {}", self.t.subnet(other).id, self.t.subnet(other).cidr);
                    self.err(r.cidr.span(), msg);
                }
            }
            ok &= cidr.is_some();
            let ipv6_cidr = r.ipv6_cidr.as_ref().and_then(|c| self.v6_cidr(c, "a subnet", 44..=64));
            if let (Some(c), Some(v), Some(span)) = (ipv6_cidr, vpc, r.ipv6_cidr.as_ref().map(|c| c.span())) {
                match self.t.vpc(v).ipv6_cidr {
                    None => {
                        let msg = format!("{id}: {} has no IPv6 CIDR, so its subnets cannot have one", self.vpc_id(v));
                        self.err(span, msg);
                    }
                    Some(vc) if !vc.contains(&c) => {
                        let msg = format!("{id}: {c} is not inside {} {vc}", self.vpc_id(v));
                        self.err(span, msg);
                    }
                    Some(_) => {
                        let other = self.overlapping_subnet(
                            v,
                            |s| s.ipv6_cidr.map_or(IpNet::default(), IpNet::V6),
                            IpNet::V6(c),
                        );
                        if let Some(other) = other.filter(|o| self.t.subnet(*o).ipv6_cidr.is_some()) {
                            let o = self.t.subnet(other);
                            let msg = format!("{id}: {c} overlaps subnet {} {}", o.id, o.ipv6_cidr.unwrap_or_default());
                            self.err(span, msg);
                        }
                    }
                }
            }
            let region = vpc.map_or(DEFAULT_REGION.to_owned(), |v| self.t.vpc(v).region.clone());
            let az = match &r.az {
                Some(az) => {
                    if !az.get_ref().starts_with(&region) || az.get_ref().len() <= region.len() {
                        let msg = format!("availability zone `{}` is not in region {region}", az.get_ref());
                        self.err(az.span(), msg);
                    }
                    az.get_ref().clone()
                }
                None => format!("{region}a"),
            };
            let route_table = match &r.route_table {
                Some(rt) => {
                    self.same_vpc_ref(rt, Kind::RouteTable, vpc, &id, |b, i| b.rt_vpc[i]).map(RouteTableIdx::from_index)
                }
                None => vpc.map(|v| self.t.vpc(v).main_route_table),
            };
            let nacl = match &r.nacl {
                Some(n) => self.same_vpc_ref(n, Kind::Nacl, vpc, &id, |b, i| b.nacl_vpc[i]).map(NaclIdx::from_index),
                None => vpc.map(|v| self.t.vpc(v).default_nacl),
            };
            let idx = SubnetIdx::from_index(i);
            if let Some(v) = vpc {
                self.t.vpcs[v.index()].subnets.push(idx);
            }
            self.subnet_ok.push(ok && vpc.is_some());
            self.t.subnets.push(Subnet {
                id,
                vpc: vpc.unwrap_or(VpcIdx(0)),
                cidr: cidr.unwrap_or_default(),
                ipv6_cidr,
                az,
                route_table: route_table.unwrap_or(RouteTableIdx(0)),
                nacl: nacl.unwrap_or(NaclIdx(0)),
                router_mac: vpcsim_model::router_mac(idx),
            });
        }
    }

    /// An earlier subnet of `vpc` whose CIDR (as `cidr_of` picks it) overlaps `net`.
    fn overlapping_subnet(&self, vpc: VpcIdx, cidr_of: impl Fn(&Subnet) -> IpNet, net: IpNet) -> Option<SubnetIdx> {
        self.t.vpc(vpc).subnets.iter().copied().find(|s| {
            let sub = self.t.subnet(*s);
            self.subnet_ok[s.index()] && overlaps(cidr_of(sub), net)
        })
    }

    /// A reference from something in `vpc` (named `from`) to a resource of
    /// `kind` that must be in the same VPC.
    fn same_vpc_ref(
        &mut self,
        r: &Spanned<String>,
        kind: Kind,
        vpc: Option<VpcIdx>,
        from: &str,
        vpc_of: impl Fn(&Self, usize) -> Option<VpcIdx>,
    ) -> Option<usize> {
        let i = self.resolve(r, kind)?;
        if let (Some(v), Some(other)) = (vpc, vpc_of(self, i))
            && v != other
        {
            let msg = format!(
                "`{}` is a {} of {}, but {from} is in {}",
                r.get_ref(),
                kind.table(),
                self.vpc_id(other),
                self.vpc_id(v)
            );
            self.err(r.span(), msg);
            return None;
        }
        Some(i)
    }

    /// The next free address of subnet `s` (from base + 4 upward) for the
    /// resource `id`, taken in `vpc`'s address space; an error when none is left.
    pub(crate) fn next_free(
        &mut self,
        s: SubnetIdx,
        v: VpcIdx,
        id: &Spanned<String>,
        vpc_space: &mut [HashMap<IpAddr, Holder>],
        next: &mut HashMap<SubnetIdx, u32>,
    ) -> Option<Ipv4Addr> {
        let subnet = self.t.subnet(s);
        let base = u32::from(subnet.cidr.network());
        let last_usable = u32::from(subnet.cidr.broadcast()) - 1;
        let cursor = next.entry(s).or_insert(base + 4);
        while *cursor <= last_usable && vpc_space[v.index()].contains_key(&IpAddr::V4(Ipv4Addr::from(*cursor))) {
            *cursor += 1;
        }
        if *cursor > last_usable {
            let msg = format!(
                "{} {} has no free address left for `{}`; give it a bigger subnet or fewer hosts",
                subnet.id,
                subnet.cidr,
                id.get_ref()
            );
            self.err(id.span(), msg);
            return None;
        }
        let ip = Ipv4Addr::from(*cursor);
        vpc_space[v.index()]
            .insert(IpAddr::V4(ip), Holder { host: id.get_ref().clone(), line: self.line_of(&id.span()) });
        Some(ip)
    }
}

fn overlaps(a: IpNet, b: IpNet) -> bool {
    a.contains(&b.network()) || b.contains(&a.network())
}
