//! The routes of `[[route_table]]`s, once every target exists: destinations
//! (CIDRs, prefix lists), targets of every kind, edge associations (gateway
//! route tables) and what AWS refuses of each.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::ops::Range;

use ipnet::{IpNet, Ipv4Net, Ipv6Net};
use toml::Spanned;
use vpcsim_model::{Attachment, EniIdx, IgwIdx, Route, RouteDest, RouteOrigin, RouteTableIdx, RouteTarget, VpcIdx};

use crate::addresses::{self, Place};
use crate::context::{Kind, a, on_top_of};
use crate::diagnostic::SourceMap;
use crate::hosts::Hosts;
use crate::raw::{RawRoute, RawScenario};

/// The routes' facts, on the hosts.
pub(crate) struct Routes<'a> {
    below: Hosts<'a>,
    /// Routes to interface endpoints, checked once endpoints exist: (span, endpoint, route table's VPC).
    pub(crate) gwlb_route_checks: Vec<(Range<usize>, usize, VpcIdx)>,
}

impl<'a> Routes<'a> {
    pub(crate) fn new(map: &'a SourceMap<'a>) -> Self {
        Self { below: Hosts::new(map), gwlb_route_checks: Vec::new() }
    }
}

on_top_of!(Routes, Hosts);

impl Routes<'_> {
    pub(crate) fn routes(&mut self, raw: &RawScenario) {
        let edge = self.edge_associations(raw);
        for (i, r) in raw.route_table.iter().enumerate() {
            let Some(vpc) = self.rt_vpc[i] else { continue };
            let mut routes = self.local_routes(vpc);
            // Destination -> the line that routes it (0: the local route).
            // A map, not a list: a file with 100,000 routes must not take quadratic time.
            let mut seen: HashMap<RouteDest, usize> = routes.iter().map(|r| (r.dest, 0)).collect();
            for route in &r.routes {
                let dest = self.route_dest(&route.dest, vpc);
                let target = self.route_target(&route.target, vpc, r.id.get_ref());
                let Some(dest) = dest else { continue };
                if edge[i] {
                    let Some(target) = target else { continue };
                    if !self.gateway_route_ok(route, dest, target, vpc) {
                        continue;
                    }
                    if seen.get(&dest) == Some(&0) {
                        // The local route's target replaced (AWS: "replace the
                        // target of the default local route").
                        routes.retain(|l| l.dest != dest);
                        seen.remove(&dest);
                    }
                }
                if let Some(line) = seen.get(&dest) {
                    let msg = if *line == 0 {
                        format!("{} is already routed by the local route of {}", route.dest.get_ref(), self.vpc_id(vpc))
                    } else {
                        format!("{} is already routed in `{}` (line {line})", route.dest.get_ref(), r.id.get_ref())
                    };
                    self.err(route.dest.span(), msg);
                    continue;
                }
                seen.insert(dest, self.line_of(&route.dest.span()));
                if let (RouteDest::Cidr(net), Some(target)) = (dest, target) {
                    self.check_more_specific(&route.dest, net, target, vpc);
                }
                if let Some(target) = target
                    && !self.route_family_ok(&route.target, dest, target)
                {
                    continue;
                }
                if let Some(target) = target {
                    routes.push(Route { dest, target, origin: RouteOrigin::Static });
                }
            }
            self.t.route_tables[i].routes = routes;
        }
    }

    fn route_dest(&mut self, d: &Spanned<String>, vpc: VpcIdx) -> Option<RouteDest> {
        let s = d.get_ref();
        let looks_like_cidr = s.contains('/') || s.parse::<IpAddr>().is_ok();
        if !looks_like_cidr {
            return self.resolve_prefix_list(d, vpc).map(RouteDest::PrefixList);
        }
        let net = self.any_cidr(d)?;
        let link_local: [IpNet; 2] = [
            IpNet::V4(Ipv4Net::new(Ipv4Addr::new(169, 254, 168, 0), 22).unwrap_or_default()),
            IpNet::V6(Ipv6Net::new(Ipv6Addr::new(0xfd00, 0xec2, 0, 0, 0, 0, 0, 0), 32).unwrap_or_default()),
        ];
        if let Some(r) = link_local.iter().find(|r| r.contains(&net)) {
            self.err(
                d.span(),
                format!("AWS does not allow routes to {net}: it is inside {r}, reserved for AWS services"),
            );
            return None;
        }
        if let Err(e) = addresses::check_cidr(net, Place::RouteDest) {
            self.err(d.span(), e);
            return None;
        }
        Some(RouteDest::Cidr(net))
    }

    fn route_target(&mut self, t: &Spanned<String>, vpc: VpcIdx, table: &str) -> Option<RouteTarget> {
        let s = t.get_ref();
        match s.as_str() {
            "blackhole" if !self.ids.contains_key(s) => return Some(RouteTarget::Blackhole),
            "local" if !self.ids.contains_key(s) => {
                self.err(t.span(), "the local routes are implicit: do not write them (a route targets `blackhole`, an internet_gateway or a host)");
                return None;
            }
            _ => {}
        }
        let Some(entry) = self.ids.get(s).cloned() else {
            self.err(
                t.span(),
                format!("unknown route target `{s}` (expected `blackhole`, an internet_gateway id or a host id)"),
            );
            return None;
        };
        let (target, target_vpc) = match entry.kind {
            Kind::InternetGateway => {
                (RouteTarget::InternetGateway(IgwIdx::from_index(entry.index)), self.igw_vpc[entry.index])
            }
            Kind::Host => {
                let plan = &self.hosts[entry.index];
                if plan.attachment == Some(Attachment::Internet) {
                    self.err(
                        t.span(),
                        format!("`{s}` is an internet host; a route can only target a host in a subnet of this VPC"),
                    );
                    return None;
                }
                (RouteTarget::Eni(EniIdx::from_index(entry.index)), plan.vpc)
            }
            Kind::NatGateway => {
                let plan = &self.nat_plans[entry.index];
                (RouteTarget::NatGateway(vpcsim_model::NatGatewayIdx::from_index(entry.index)), plan.vpc)
            }
            Kind::EgressOnlyInternetGateway => (
                RouteTarget::EgressOnlyInternetGateway(vpcsim_model::EgressOnlyIgwIdx::from_index(entry.index)),
                self.eigw_vpc[entry.index],
            ),
            Kind::VpcPeering => return self.peering_target(t, vpc, table),
            Kind::InterfaceEndpoint => {
                // Only a Gateway Load Balancer endpoint is a route target; that
                // is known once endpoints are built (see `check_gwlb_routes`).
                self.gwlb_route_checks.push((t.span(), entry.index, vpc));
                return Some(RouteTarget::GwlbEndpoint(vpcsim_model::InterfaceEndpointIdx::from_index(entry.index)));
            }
            Kind::TransitGateway => return self.tgw_route_target(t, vpc, entry.index),
            Kind::VpnGateway => self.vgw_route_target(entry.index),
            Kind::GatewayEndpoint => {
                let msg = format!(
                    "`{s}` is a gateway endpoint: it adds its own prefix-list route to the route tables it names (`route_tables`); a route cannot target it"
                );
                self.err(t.span(), msg);
                return None;
            }
            kind => {
                let msg = format!(
                    "`{s}` is {}, not a route target (an internet_gateway, a nat_gateway, an egress_only_internet_gateway, a vpc_peering, a transit_gateway, a vpn_gateway or a host)",
                    a(kind.table())
                );
                self.err(t.span(), msg);
                return None;
            }
        };
        if let Some(other) = target_vpc
            && other != vpc
        {
            let msg = format!(
                "route to a target in another VPC: `{s}` is in {}, but `{table}` belongs to {}",
                self.vpc_id(other),
                self.vpc_id(vpc)
            );
            self.err(t.span(), msg);
            return None;
        }
        Some(target)
    }

    /// Edge associations: each named internet or VPN gateway gets the table as
    /// its gateway route table. Returns, per route table, whether it is one.
    fn edge_associations(&mut self, raw: &RawScenario) -> Vec<bool> {
        // Gateway -> the table it is already associated with, and the line.
        let mut taken: HashMap<(bool, usize), (String, usize)> = HashMap::new();
        let mut edge = vec![false; raw.route_table.len()];
        for (i, r) in raw.route_table.iter().enumerate() {
            let Some(vpc) = self.rt_vpc[i] else { continue };
            for g in &r.edge_associations {
                let (kind, j, gateway_vpc) = match self.ids.get(g.get_ref()).map(|e| (e.kind, e.index)) {
                    Some((Kind::InternetGateway, j)) => (Kind::InternetGateway, j, self.igw_vpc[j]),
                    Some((Kind::VpnGateway, j)) => (Kind::VpnGateway, j, self.vgw_route_target(j).1),
                    Some((kind, _)) => {
                        let msg = format!(
                            "`{}` is {}; a route table is edge-associated only with an internet_gateway or a vpn_gateway",
                            g.get_ref(),
                            a(kind.table())
                        );
                        self.err(g.span(), msg);
                        continue;
                    }
                    None => {
                        let msg = format!(
                            "unknown gateway `{}` (expected an internet_gateway or a vpn_gateway id)",
                            g.get_ref()
                        );
                        self.err(g.span(), msg);
                        continue;
                    }
                };
                if let Some(other) = gateway_vpc
                    && other != vpc
                {
                    let msg = format!(
                        "`{}` is attached to {}, but `{}` belongs to {}; a gateway and its route table share a VPC",
                        g.get_ref(),
                        self.vpc_id(other),
                        r.id.get_ref(),
                        self.vpc_id(vpc)
                    );
                    self.err(g.span(), msg);
                    continue;
                }
                let line = self.line_of(&g.span());
                if let Some((table, first)) = taken.get(&(kind == Kind::InternetGateway, j)) {
                    let msg = format!(
                        "`{}` is already edge-associated with `{table}` (line {first}); a gateway has one gateway route table",
                        g.get_ref()
                    );
                    self.err(g.span(), msg);
                    continue;
                }
                taken.insert((kind == Kind::InternetGateway, j), (r.id.get_ref().clone(), line));
                let table = Some(RouteTableIdx::from_index(i));
                match kind {
                    Kind::InternetGateway => self.t.internet_gateways[j].route_table = table,
                    _ => self.t.vpn_gateways[j].route_table = table,
                }
                edge[i] = true;
            }
        }
        edge
    }

    /// What AWS lets a gateway route table hold: routes to the VPC's CIDR
    /// (replacing the local route's target) or to a whole subnet's CIDR,
    /// targeting a network interface (a middlebox) or a Gateway Load Balancer
    /// endpoint; no prefix lists.
    fn gateway_route_ok(&mut self, route: &RawRoute, dest: RouteDest, target: RouteTarget, vpc: VpcIdx) -> bool {
        let RouteDest::Cidr(net) = dest else {
            self.err(
                route.dest.span(),
                "a gateway route table (one with edge_associations) cannot route a prefix list",
            );
            return false;
        };
        if !matches!(target, RouteTarget::Eni(_) | RouteTarget::GwlbEndpoint(_)) {
            let msg = format!(
                "a gateway route table (one with edge_associations) routes only to a host (its network interface, a middlebox) or a Gateway Load Balancer endpoint, not to `{}`",
                route.target.get_ref()
            );
            self.err(route.target.span(), msg);
            return false;
        }
        let v = self.t.vpc(vpc);
        let whole_vpc =
            (self.vpc_cidr_ok[vpc.index()] && IpNet::V4(v.cidr) == net) || v.ipv6_cidr.map(IpNet::V6) == Some(net);
        let whole_subnet = v.subnets.iter().any(|s| {
            let s = self.t.subnet(*s);
            IpNet::V4(s.cidr) == net || s.ipv6_cidr.map(IpNet::V6) == Some(net)
        });
        if !(whole_vpc || whole_subnet) {
            let msg = format!(
                "a gateway route table routes only the VPC's CIDR or a whole subnet's CIDR of {}; {net} is neither",
                self.vpc_id(vpc)
            );
            self.err(route.dest.span(), msg);
            return false;
        }
        true
    }

    /// AWS refuses a route more specific than a local route unless it covers a
    /// whole subnet and targets a network interface (a middlebox).
    fn check_more_specific(&mut self, d: &Spanned<String>, net: IpNet, target: RouteTarget, vpc: VpcIdx) {
        let v = self.t.vpc(vpc);
        let locals: Vec<IpNet> = self.vpc_cidr_ok[vpc.index()]
            .then_some(IpNet::V4(v.cidr))
            .into_iter()
            .chain(v.ipv6_cidr.map(IpNet::V6))
            .collect();
        let Some(local) = locals.into_iter().find(|l| l.contains(&net) && net.prefix_len() > l.prefix_len()) else {
            return;
        };
        let whole_subnet = v.subnets.iter().any(|s| {
            let s = self.t.subnet(*s);
            IpNet::V4(s.cidr) == net || s.ipv6_cidr.map(IpNet::V6) == Some(net)
        });
        if !(whole_subnet
            && matches!(target, RouteTarget::Eni(_) | RouteTarget::NatGateway(_) | RouteTarget::GwlbEndpoint(_)))
        {
            let msg = format!(
                "{net} is more specific than the local route {local}; AWS allows that only for a whole subnet's CIDR routed to a host (network interface), a NAT gateway or a Gateway Load Balancer endpoint"
            );
            self.err(d.span(), msg);
        }
    }
}
