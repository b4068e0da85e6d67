//! Beyond one VPC: `[[nat_gateway]]`, `[[egress_only_internet_gateway]]` and
//! `[[vpc_peering]]`, and the route targets they become; `[[internet_gateway]]`.
//!
//! A NAT gateway owns an ENI in its subnet: its address is taken in the VPC's
//! address space like a host's (a written `ip` before any automatic one; an
//! automatic one after the hosts'), and its Elastic IP on the internet. The
//! ENIs are made last (`finish_nat_gateways`), after the hosts' and the AWS
//! services' front doors, so host indices stay ENI indices.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr};

use ipnet::IpNet;
use toml::Spanned;
use vpcsim_model::{
    Attachment, EgressOnlyInternetGateway, Eni, EniIdx, EniOwner, IgwIdx, InternetGateway, NatGateway, NatGatewayIdx,
    PeeringIdx, RouteDest, RouteTarget, SubnetIdx, VpcIdx, VpcPeering,
};

use crate::addresses::{self, Place};
use crate::context::{Holder, Kind, on_top_of};
use crate::diagnostic::SourceMap;
use crate::network::Network;
use crate::raw::RawScenario;
use crate::values;

/// What a NAT gateway will become once every address is known.
pub(crate) struct NatPlan {
    pub id: String,
    pub subnet: Option<SubnetIdx>,
    /// The VPC of its subnet.
    pub vpc: Option<VpcIdx>,
    pub ipv4: Option<Ipv4Addr>,
    pub public_ip: Option<Ipv4Addr>,
    pub private: bool,
}

/// The gateways' facts, on the network.
pub(crate) struct Gateways<'a> {
    below: Network<'a>,
    /// The VPC of each internet and egress-only internet gateway (`None` where the file was wrong).
    pub(crate) igw_vpc: Vec<Option<VpcIdx>>,
    pub(crate) eigw_vpc: Vec<Option<VpcIdx>>,
    /// NAT gateways, until their ENIs are made (`finish_nat_gateways`).
    pub(crate) nat_plans: Vec<NatPlan>,
}

impl<'a> Gateways<'a> {
    pub(crate) fn new(map: &'a SourceMap<'a>) -> Self {
        Self { below: Network::new(map), igw_vpc: Vec::new(), eigw_vpc: Vec::new(), nat_plans: Vec::new() }
    }
}

on_top_of!(Gateways, Network);

impl Gateways<'_> {
    pub(crate) fn internet_gateways(&mut self, raw: &RawScenario) {
        // The IGW already attached to each VPC, with its line.
        let mut attached: Vec<Option<(usize, usize)>> = vec![None; self.t.vpcs.len()];
        for (i, r) in raw.internet_gateway.iter().enumerate() {
            let vpc = self.resolve_vpc(&r.vpc);
            if let Some(v) = vpc {
                match attached[v.index()] {
                    Some((first, line)) => {
                        let msg = format!(
                            "{} already has an internet gateway, `{}` (line {line}); a VPC has at most one",
                            self.vpc_id(v),
                            raw.internet_gateway[first].id.get_ref()
                        );
                        self.err(r.vpc.span(), msg);
                    }
                    None => {
                        attached[v.index()] = Some((i, self.line_of(&r.id.span())));
                        self.t.vpcs[v.index()].internet_gateway = Some(IgwIdx::from_index(i));
                    }
                }
            }
            self.igw_vpc.push(vpc);
            self.t.internet_gateways.push(InternetGateway {
                id: r.id.get_ref().clone(),
                vpc: vpc.unwrap_or(VpcIdx(0)),
                route_table: None,
            });
        }
    }

    /// Resolves NAT gateways and takes the addresses written in the file.
    pub(crate) fn nat_gateway_addresses(
        &mut self,
        raw: &RawScenario,
        vpc_space: &mut [HashMap<IpAddr, Holder>],
        internet: &mut HashMap<IpAddr, Holder>,
    ) {
        for r in &raw.nat_gateway {
            let id = r.id.get_ref().clone();
            let line = self.line_of(&r.id.span());
            let mut plan =
                NatPlan { id: id.clone(), subnet: None, vpc: None, ipv4: None, public_ip: None, private: false };
            match r.connectivity.as_ref().map(|c| (c, c.get_ref().as_str())) {
                None | Some((_, "public")) => {}
                Some((_, "private")) => plan.private = true,
                Some((c, other)) => {
                    self.err(c.span(), format!("unknown connectivity `{other}`, expected `public` or `private`"))
                }
            }
            match (&r.public_ip, plan.private) {
                (None, false) => self.err(
                    r.id.span(),
                    format!(
                        "NAT gateway `{id}` needs `public_ip` (its Elastic IP), or `connectivity = \"private\"` for a private NAT gateway"
                    ),
                ),
                (Some(p), true) => self.err(p.span(), "a private NAT gateway has no public IP; remove `public_ip`"),
                (Some(p), false) => match values::ip(p.get_ref()) {
                    Err(e) => self.err(p.span(), e),
                    Ok(IpAddr::V6(_)) => self.err(p.span(), "a public IP is an IPv4 address"),
                    Ok(IpAddr::V4(a)) => match addresses::check_addr(IpAddr::V4(a), Place::Public) {
                        Err(e) => self.err(p.span(), e),
                        Ok(()) => {
                            if self.take(internet, IpAddr::V4(a), &id, line, p.span(), " on the internet") {
                                plan.public_ip = Some(a);
                            }
                        }
                    },
                },
                (None, true) => {}
            }
            let subnet = self.resolve(&r.subnet, Kind::Subnet).map(SubnetIdx::from_index);
            if let Some(s) = subnet.filter(|s| self.subnet_ok[s.index()]) {
                let sub = self.t.subnet(s).clone();
                plan.subnet = Some(s);
                plan.vpc = Some(sub.vpc);
                if let Some(ip) = &r.ip {
                    match values::ip(ip.get_ref()) {
                        Err(e) => self.err(ip.span(), e),
                        Ok(IpAddr::V6(_)) => self.err(ip.span(), "a NAT gateway's `ip` is an IPv4 address"),
                        Ok(IpAddr::V4(a)) if !sub.cidr.contains(&a) => {
                            self.err(ip.span(), format!("{a} is not inside {} {}", sub.id, sub.cidr))
                        }
                        Ok(IpAddr::V4(a)) if sub.is_reserved(a) => {
                            self.err(ip.span(), format!("{a} is reserved by AWS in {}", sub.id))
                        }
                        Ok(IpAddr::V4(a)) => {
                            if self.take(&mut vpc_space[sub.vpc.index()], IpAddr::V4(a), &id, line, ip.span(), "") {
                                plan.ipv4 = Some(a);
                            }
                        }
                    }
                }
            }
            self.nat_plans.push(plan);
        }
    }

    /// NAT gateways without `ip` get the next free address of their subnet,
    /// after the hosts.
    pub(crate) fn nat_gateway_auto_addresses(
        &mut self,
        raw: &RawScenario,
        vpc_space: &mut [HashMap<IpAddr, Holder>],
        next: &mut HashMap<SubnetIdx, u32>,
    ) {
        for (i, r) in raw.nat_gateway.iter().enumerate() {
            let (Some(s), Some(v), None) = (self.nat_plans[i].subnet, self.nat_plans[i].vpc, &r.ip) else {
                continue;
            };
            if let Some(ip) = self.next_free(s, v, &r.id, vpc_space, next) {
                self.nat_plans[i].ipv4 = Some(ip);
            }
        }
    }

    /// The NAT gateways' ENIs, after every other ENI.
    pub(crate) fn finish_nat_gateways(&mut self) {
        for (i, plan) in std::mem::take(&mut self.nat_plans).into_iter().enumerate() {
            let (Some(subnet), Some(ipv4)) = (plan.subnet, plan.ipv4) else { continue };
            let eni = EniIdx::from_index(self.t.enis.len());
            let nat = NatGatewayIdx::from_index(i);
            self.t.enis.push(Eni {
                id: format!("eni-{}", plan.id),
                owner: EniOwner::NatGateway(nat),
                attachment: Attachment::Subnet(subnet),
                mac: vpcsim_model::eni_mac(eni),
                ipv4,
                ipv6: None,
                public_ip: plan.public_ip,
                // AWS: a NAT gateway has no security groups.
                security_groups: Vec::new(),
                source_dest_check: false,
                mtu: vpcsim_model::NAT_GATEWAY_MTU,
            });
            self.t.nat_gateways.push(NatGateway { id: plan.id, subnet, eni, private: plan.private });
        }
    }

    pub(crate) fn egress_only_gateways(&mut self, raw: &RawScenario) {
        let mut attached: Vec<Option<usize>> = vec![None; self.t.vpcs.len()];
        for (i, r) in raw.egress_only_internet_gateway.iter().enumerate() {
            let vpc = self.resolve_vpc(&r.vpc);
            if let Some(v) = vpc {
                match attached[v.index()] {
                    Some(first) => {
                        let msg = format!(
                            "{} already has an egress-only internet gateway, `{}`; a VPC has at most one",
                            self.vpc_id(v),
                            raw.egress_only_internet_gateway[first].id.get_ref()
                        );
                        self.err(r.vpc.span(), msg);
                    }
                    None => attached[v.index()] = Some(i),
                }
            }
            self.eigw_vpc.push(vpc);
            self.t
                .egress_only_internet_gateways
                .push(EgressOnlyInternetGateway { id: r.id.get_ref().clone(), vpc: vpc.unwrap_or(VpcIdx(0)) });
        }
    }

    pub(crate) fn peerings(&mut self, raw: &RawScenario) {
        for r in &raw.vpc_peering {
            let requester = self.resolve_vpc(&r.requester);
            let accepter = self.resolve_vpc(&r.accepter);
            let (Some(a), Some(b)) = (requester, accepter) else { continue };
            if a == b {
                let msg = format!("a VPC cannot peer with itself ({})", self.vpc_id(a));
                self.err(r.accepter.span(), msg);
                continue;
            }
            if let Some(p) = self.t.vpc_peerings.iter().find(|p| p.other_side(a) == Some(b)) {
                let msg = format!(
                    "{} and {} are already peered by `{}`; two VPCs have at most one peering connection",
                    self.vpc_id(a),
                    self.vpc_id(b),
                    p.id
                );
                self.err(r.accepter.span(), msg);
                continue;
            }
            let (va, vb) = (self.t.vpc(a), self.t.vpc(b));
            let mut clash: Option<(IpNet, IpNet)> = None;
            if overlaps(IpNet::V4(va.cidr), IpNet::V4(vb.cidr)) {
                clash = Some((IpNet::V4(va.cidr), IpNet::V4(vb.cidr)));
            } else if let (Some(x), Some(y)) = (va.ipv6_cidr, vb.ipv6_cidr)
                && overlaps(IpNet::V6(x), IpNet::V6(y))
            {
                clash = Some((IpNet::V6(x), IpNet::V6(y)));
            }
            if let Some((x, y)) = clash {
                let msg = format!(
                    "{} {x} overlaps {} {y}: VPCs with overlapping CIDRs cannot be peered",
                    va.id.clone(),
                    vb.id.clone()
                );
                self.err(r.accepter.span(), msg);
                continue;
            }
            self.t.vpc_peerings.push(VpcPeering { id: r.id.get_ref().clone(), requester: a, accepter: b });
        }
    }

    /// A route to the peering connection named by `t`, in a table
    /// of `vpc`: only from one of its two sides.
    pub(crate) fn peering_target(&mut self, t: &Spanned<String>, vpc: VpcIdx, table: &str) -> Option<RouteTarget> {
        // Peerings that failed validation are not in the topology: their
        // error is already reported.
        let idx = self.t.vpc_peerings.iter().position(|p| &p.id == t.get_ref())?;
        let p = &self.t.vpc_peerings[idx];
        if p.other_side(vpc).is_none() {
            let msg = format!(
                "`{}` peers {} and {}; `{table}` belongs to {}, which is not one of its sides",
                t.get_ref(),
                self.vpc_id(p.requester),
                self.vpc_id(p.accepter),
                self.vpc_id(vpc)
            );
            self.err(t.span(), msg);
            return None;
        }
        Some(RouteTarget::Peering(PeeringIdx::from_index(idx)))
    }

    /// AWS's families: an egress-only internet gateway carries IPv6 only; a
    /// NAT gateway IPv4 only (NAT64 is not simulated).
    pub(crate) fn route_family_ok(&mut self, t: &Spanned<String>, dest: RouteDest, target: RouteTarget) -> bool {
        let v4 = match dest {
            RouteDest::Cidr(c) => c.addr().is_ipv4(),
            RouteDest::PrefixList(pl) => self.t.prefix_list(pl).entries.first().is_none_or(|e| e.addr().is_ipv4()),
        };
        let problem = match target {
            RouteTarget::EgressOnlyInternetGateway(_) if v4 => Some(format!(
                "`{}` is an egress-only internet gateway: it carries IPv6 only (use a NAT gateway for IPv4)",
                t.get_ref()
            )),
            RouteTarget::NatGateway(_) if !v4 => Some(format!(
                "`{}` is a NAT gateway: it translates IPv4 only (NAT64 is not simulated by vpcsim; use an egress-only internet gateway for IPv6)",
                t.get_ref()
            )),
            _ => None,
        };
        match problem {
            Some(m) => {
                self.err(t.span(), m);
                false
            }
            None => true,
        }
    }
}

fn overlaps(a: IpNet, b: IpNet) -> bool {
    a.contains(&b.network()) || b.contains(&a.network())
}
