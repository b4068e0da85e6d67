//! The validation phase: resolve names, check what AWS would refuse, and build
//! the [`Topology`]. Every error is collected, located, and nothing partial
//! leaves this module.
//!
//! Resources keep the order of the file; the implicit ones vpcsim creates per
//! VPC (main route table, default NACL, default security group) come after the
//! user's of the same kind, so a user resource's index is its position in the
//! file.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::ops::Range;
use std::time::Duration;

use ipnet::{IpNet, Ipv4Net, Ipv6Net};
use toml::Spanned;
use vpcsim_model::{
    Action, Attachment, DEFAULT_ACCOUNT, DEFAULT_REGION, Eni, EniIdx, EniOwner, Host, HostIdx, IgwIdx, InternetGateway,
    Listener, ManagedBy, Nacl, NaclIdx, NaclRule, PortRange, PrefixList, PrefixListIdx, Protocol, Route, RouteDest,
    RouteOrigin, RouteTable, RouteTableIdx, RouteTarget, SecurityGroup, SgIdx, SgPeer, SgRule, Subnet, SubnetIdx,
    Topology, Vpc, VpcIdx,
};

use crate::addresses::{self, Place};
use crate::diagnostic::{Diagnostic, SourceMap};
use crate::managed;
use crate::raw::{RawHost, RawNaclRule, RawScenario, RawSgRule};
use crate::values;

/// The kind of a resource: the table it sits in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    Vpc,
    Subnet,
    RouteTable,
    PrefixList,
    InternetGateway,
    SecurityGroup,
    Nacl,
    Host,
    GatewayEndpoint,
    InterfaceEndpoint,
    LoadBalancer,
    EndpointService,
    NatGateway,
    EgressOnlyInternetGateway,
    VpcPeering,
    /// A table of the contract this version does not simulate yet.
    Unsupported(&'static str),
    TransitGateway,
    TgwAttachment,
    TgwRouteTable,
    OnPrem,
    VpnGateway,
    VpnConnection,
    DnsZone,
}

impl Kind {
    pub(crate) fn table(self) -> &'static str {
        match self {
            Kind::Vpc => "vpc",
            Kind::Subnet => "subnet",
            Kind::RouteTable => "route_table",
            Kind::PrefixList => "prefix_list",
            Kind::InternetGateway => "internet_gateway",
            Kind::SecurityGroup => "security_group",
            Kind::Nacl => "nacl",
            Kind::Host => "host",
            Kind::GatewayEndpoint => "gateway_endpoint",
            Kind::InterfaceEndpoint => "interface_endpoint",
            Kind::LoadBalancer => "load_balancer",
            Kind::EndpointService => "endpoint_service",
            Kind::NatGateway => "nat_gateway",
            Kind::EgressOnlyInternetGateway => "egress_only_internet_gateway",
            Kind::VpcPeering => "vpc_peering",
            Kind::Unsupported(t) => t,
            Kind::TransitGateway => "transit_gateway",
            Kind::TgwAttachment => "tgw_attachment",
            Kind::TgwRouteTable => "tgw_route_table",
            Kind::OnPrem => "onprem",
            Kind::VpnGateway => "vpn_gateway",
            Kind::VpnConnection => "vpn_connection",
            Kind::DnsZone => "dns_zone",
        }
    }
}

/// "a vpc", "an internet_gateway".
pub(crate) fn a(word: &str) -> String {
    let article = if word.starts_with(['a', 'e', 'i', 'o', 'u']) { "an" } else { "a" };
    format!("{article} {word}")
}

#[derive(Clone, Debug)]
pub(crate) struct IdEntry {
    pub kind: Kind,
    /// The index in the topology's vector of that kind.
    pub index: usize,
    /// Where the id was defined; `None` for vpcsim's implicit resources.
    pub span: Option<Range<usize>>,
}

/// What a host will become once every address is known.
pub(crate) struct HostPlan {
    pub(crate) id: String,
    pub(crate) attachment: Option<Attachment>,
    /// The VPC of its subnet.
    vpc: Option<VpcIdx>,
    pub(crate) ipv4: Option<Ipv4Addr>,
    ipv6: Option<Ipv6Addr>,
    public_ip: Option<Ipv4Addr>,
    security_groups: Vec<SgIdx>,
    listen: Vec<Listener>,
    source_dest_check: bool,
    mtu: u16,
}

/// Who holds an address in an address space.
pub(crate) struct Holder {
    pub(crate) host: String,
    pub(crate) line: usize,
}

pub(crate) struct Builder<'a> {
    map: &'a SourceMap<'a>,
    pub(crate) errors: Vec<Diagnostic>,
    pub(crate) ids: HashMap<String, IdEntry>,
    pub(crate) t: Topology,
    // Side facts, by index of the kind: `None`/false where the file was wrong,
    // so that one mistake does not cascade into unrelated errors.
    vpc_cidr_ok: Vec<bool>,
    pub(crate) rt_vpc: Vec<Option<VpcIdx>>,
    nacl_vpc: Vec<Option<VpcIdx>>,
    pub(crate) sg_vpc: Vec<Option<VpcIdx>>,
    igw_vpc: Vec<Option<VpcIdx>>,
    pub(crate) subnet_ok: Vec<bool>,
    hosts: Vec<HostPlan>,
    /// AWS-managed prefix lists created so far, by (id, region).
    managed_lists: HashMap<(String, String), PrefixListIdx>,
    /// ENIs of interface endpoints and load balancers, created after the hosts':
    /// (owner, subnet, address).
    pub(crate) endpoint_enis: Vec<(EniOwner, SubnetIdx, Ipv4Addr)>,
    /// The AZs of each load balancer's nodes.
    pub(crate) lb_zones: Vec<Vec<String>>,
    /// Routes to interface endpoints, checked once endpoints exist: (span, endpoint, route table's VPC).
    pub(crate) gwlb_route_checks: Vec<(Range<usize>, usize, VpcIdx)>,
    /// NAT gateways, until their ENIs are made (`finish`).
    pub(crate) nat_plans: Vec<crate::gateways::NatPlan>,
    /// The VPC of each egress-only internet gateway (`None` where the file was wrong).
    pub(crate) eigw_vpc: Vec<Option<VpcIdx>>,
    /// Transit gateways, VPN gateways, on-premises networks (`transit.rs`).
    pub(crate) transit: crate::transit::TransitState,
}

pub(crate) fn build(raw: &RawScenario, map: &SourceMap) -> Result<Topology, Vec<Diagnostic>> {
    let mut b = Builder {
        map,
        errors: Vec::new(),
        ids: HashMap::new(),
        t: Topology::default(),
        vpc_cidr_ok: Vec::new(),
        rt_vpc: Vec::new(),
        nacl_vpc: Vec::new(),
        sg_vpc: Vec::new(),
        igw_vpc: Vec::new(),
        subnet_ok: Vec::new(),
        hosts: Vec::new(),
        managed_lists: HashMap::new(),
        endpoint_enis: Vec::new(),
        lb_zones: Vec::new(),
        gwlb_route_checks: Vec::new(),
        nat_plans: Vec::new(),
        eigw_vpc: Vec::new(),
        transit: Default::default(),
    };
    b.top_level(raw);
    b.register_ids(raw);
    b.vpcs(raw);
    b.route_table_shells(raw);
    b.nacls(raw);
    b.security_group_shells(raw);
    b.internet_gateways(raw);
    b.prefix_lists(raw);
    b.subnets(raw);
    b.egress_only_gateways(raw);
    b.peerings(raw);
    b.onprems(raw);
    b.transit(raw);
    b.hosts(raw);
    b.routes(raw);
    b.services(raw);
    b.gateway_endpoints(raw);
    b.load_balancers(raw);
    b.endpoint_services(raw);
    b.interface_endpoints(raw);
    b.check_gwlb_routes();
    b.dns_zones(raw);
    b.events(raw);
    b.security_group_rules(raw);
    b.traffic(raw);
    if b.errors.is_empty() {
        Ok(b.finish())
    } else {
        let mut errors = b.errors;
        errors.sort_by_key(|d| (d.line, d.column));
        Err(errors)
    }
}

impl<'a> Builder<'a> {
    pub(crate) fn err(&mut self, span: Range<usize>, message: impl Into<String>) {
        let d = self.map.diagnostic(span, message);
        self.errors.push(d);
    }

    /// The VPC of the `i`th host, if it is in a subnet.
    pub(crate) fn host_vpc(&self, i: usize) -> Option<VpcIdx> {
        self.hosts.get(i).and_then(|h| h.vpc)
    }

    /// IPv4 addresses already held in `vpc`: hosts' and endpoint ENIs'.
    pub(crate) fn taken_in_vpc(&self, vpc: VpcIdx) -> std::collections::HashSet<Ipv4Addr> {
        let hosts = self.hosts.iter().filter(|h| h.vpc == Some(vpc)).filter_map(|h| h.ipv4);
        let enis = self.endpoint_enis.iter().filter(|(_, s, _)| self.t.subnet(*s).vpc == vpc).map(|(_, _, ip)| *ip);
        hosts.chain(enis).collect()
    }

    pub(crate) fn file(&self) -> &str {
        self.map.file()
    }

    pub(crate) fn line_of(&self, span: &Range<usize>) -> usize {
        self.map.line_of(span.start)
    }

    fn top_level(&mut self, raw: &RawScenario) {
        match &raw.name {
            None => self.err(0..0, "missing `name`: every scenario starts with name = \"...\""),
            Some(n) if n.get_ref().trim().is_empty() => self.err(n.span(), "`name` must not be empty"),
            Some(n) => self.t.name = n.get_ref().clone(),
        }
        self.t.description = raw.description.clone();
        self.t.seed = raw.seed.unwrap_or(0);
        if let Some(l) = &raw.hop_latency {
            match values::duration_at_most(l.get_ref(), vpcsim_model::limits::MAX_HOP_LATENCY, "hop_latency") {
                Ok(d) if d > Duration::ZERO => self.t.hop_latency = Some(d),
                Ok(_) => self.err(l.span(), "`hop_latency` must be above 0"),
                Err(m) => self.err(l.span(), m),
            }
        }
    }

    // ---- ids ----------------------------------------------------------------

    pub(crate) fn register(&mut self, id: &Spanned<String>, kind: Kind, index: usize) {
        if id.get_ref().is_empty() {
            self.err(id.span(), "an id must not be empty");
            return;
        }
        self.register_at(id.get_ref(), id.span(), kind, index);
    }

    fn register_at(&mut self, id: &str, span: Range<usize>, kind: Kind, index: usize) {
        if let Some(first) = self.ids.get(id) {
            let first = first.span.clone().map_or(0, |s| self.line_of(&s));
            self.err(span, format!("duplicate id `{id}` (first defined at line {first})"));
            return;
        }
        self.ids.insert(id.to_owned(), IdEntry { kind, index, span: Some(span) });
    }

    /// Registers the id of a resource vpcsim creates.
    fn register_implicit(&mut self, id: String, kind: Kind, index: usize, what: &str) {
        if let Some(user) = self.ids.get(&id) {
            if let Some(span) = user.span.clone() {
                self.err(span, format!("id `{id}` is reserved for {what}, which vpcsim creates"));
            }
            return;
        }
        self.ids.insert(id, IdEntry { kind, index, span: None });
    }

    fn register_ids(&mut self, raw: &RawScenario) {
        for (i, r) in raw.vpc.iter().enumerate() {
            self.register(&r.id, Kind::Vpc, i);
        }
        for (i, r) in raw.subnet.iter().enumerate() {
            self.register(&r.id, Kind::Subnet, i);
        }
        for (i, r) in raw.route_table.iter().enumerate() {
            self.register(&r.id, Kind::RouteTable, i);
        }
        for (i, r) in raw.prefix_list.iter().enumerate() {
            self.register(&r.id, Kind::PrefixList, i);
        }
        for (i, r) in raw.internet_gateway.iter().enumerate() {
            self.register(&r.id, Kind::InternetGateway, i);
        }
        for (i, r) in raw.security_group.iter().enumerate() {
            self.register(&r.id, Kind::SecurityGroup, i);
        }
        for (i, r) in raw.nacl.iter().enumerate() {
            self.register(&r.id, Kind::Nacl, i);
        }
        for (i, r) in raw.host.iter().enumerate() {
            self.register(&r.id, Kind::Host, i);
        }
        for (i, r) in raw.gateway_endpoint.iter().enumerate() {
            self.register(&r.id, Kind::GatewayEndpoint, i);
        }
        for (i, r) in raw.interface_endpoint.iter().enumerate() {
            self.register(&r.id, Kind::InterfaceEndpoint, i);
        }
        for (i, r) in raw.load_balancer.iter().enumerate() {
            self.register(&r.id, Kind::LoadBalancer, i);
        }
        for (i, r) in raw.endpoint_service.iter().enumerate() {
            self.register(&r.id, Kind::EndpointService, i);
        }
        for (i, r) in raw.nat_gateway.iter().enumerate() {
            self.register(&r.id, Kind::NatGateway, i);
        }
        for (i, r) in raw.egress_only_internet_gateway.iter().enumerate() {
            self.register(&r.id, Kind::EgressOnlyInternetGateway, i);
        }
        for (i, r) in raw.vpc_peering.iter().enumerate() {
            self.register(&r.id, Kind::VpcPeering, i);
        }
        self.register_transit_ids(raw);
        for (table, entries) in raw.unsupported() {
            for entry in entries {
                self.err(entry.span(), format!("`[[{table}]]` is not supported yet by this version of vpcsim"));
                // Keep its id known, so a reference to it says what it is
                // rather than "unknown".
                if let Some(toml::Value::String(id)) = entry.get_ref().get("id")
                    && !self.ids.contains_key(id)
                {
                    self.ids.insert(
                        id.clone(),
                        IdEntry { kind: Kind::Unsupported(table), index: 0, span: Some(entry.span()) },
                    );
                }
            }
        }
    }

    /// Resolves a reference that must name a resource of `want`.
    pub(crate) fn resolve(&mut self, r: &Spanned<String>, want: Kind) -> Option<usize> {
        match self.ids.get(r.get_ref()) {
            Some(e) if e.kind == want => Some(e.index),
            Some(e) => {
                let msg = format!("`{}` is {}, not {}", r.get_ref(), a(e.kind.table()), a(want.table()));
                self.err(r.span(), msg);
                None
            }
            None => {
                let msg = format!("unknown {} `{}`", want.table(), r.get_ref());
                self.err(r.span(), msg);
                None
            }
        }
    }

    pub(crate) fn resolve_vpc(&mut self, r: &Spanned<String>) -> Option<VpcIdx> {
        self.resolve(r, Kind::Vpc).map(VpcIdx::from_index)
    }

    pub(crate) fn resolve_sg_of(&mut self, r: &Spanned<String>, vpc: VpcIdx) -> Option<SgIdx> {
        self.resolve_sg(r, Some(vpc))
    }

    /// A security group reference; `"default"` is the VPC's default group
    /// unless a resource has that id.
    fn resolve_sg(&mut self, r: &Spanned<String>, vpc: Option<VpcIdx>) -> Option<SgIdx> {
        if r.get_ref() == "default" && !self.ids.contains_key("default") {
            return vpc.map(|v| self.t.vpc(v).default_security_group);
        }
        self.resolve(r, Kind::SecurityGroup).map(SgIdx::from_index)
    }

    pub(crate) fn vpc_id(&self, v: VpcIdx) -> &str {
        &self.t.vpc(v).id
    }

    // ---- VPCs ---------------------------------------------------------------

    fn vpcs(&mut self, raw: &RawScenario) {
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

    // ---- route tables, NACLs, security groups, gateways -------------------------

    fn route_table_shells(&mut self, raw: &RawScenario) {
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
    fn local_routes(&self, v: VpcIdx) -> Vec<Route> {
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

    fn nacls(&mut self, raw: &RawScenario) {
        for r in &raw.nacl {
            let vpc = self.resolve_vpc(&r.vpc);
            let ingress = self.nacl_rules(&r.ingress);
            let egress = self.nacl_rules(&r.egress);
            self.nacl_vpc.push(vpc);
            self.t.nacls.push(Nacl {
                id: r.id.get_ref().clone(),
                vpc: vpc.unwrap_or(VpcIdx(0)),
                ingress,
                egress,
                is_default: false,
            });
        }
        for v in 0..self.t.vpcs.len() {
            let vpc = VpcIdx::from_index(v);
            let idx = NaclIdx::from_index(self.t.nacls.len());
            let id = format!("{}/default-nacl", self.vpc_id(vpc));
            self.register_implicit(id.clone(), Kind::Nacl, idx.index(), "the VPC's default network ACL");
            // The default NACL allows everything both ways: rule 100 for IPv4,
            // 101 for IPv6 when the VPC has it (as AWS numbers them).
            let mut rules = vec![NaclRule {
                number: 100,
                action: Action::Allow,
                proto: Protocol::All,
                ports: PortRange::ALL,
                cidr: any_v4(),
            }];
            if self.t.vpc(vpc).ipv6_cidr.is_some() {
                rules.push(NaclRule { number: 101, cidr: any_v6(), ..rules[0] });
            }
            self.nacl_vpc.push(Some(vpc));
            self.t.nacls.push(Nacl { id, vpc, ingress: rules.clone(), egress: rules, is_default: true });
            self.t.vpcs[v].default_nacl = idx;
        }
    }

    fn nacl_rules(&mut self, raw: &[Spanned<RawNaclRule>]) -> Vec<NaclRule> {
        let mut rules: Vec<NaclRule> = Vec::new();
        // Rule number -> the line that first used it.
        let mut numbers: HashMap<i64, usize> = HashMap::new();
        for r in raw {
            let rule = r.get_ref();
            let number = *rule.rule.get_ref();
            let mut ok = true;
            if !(1..=32766).contains(&number) {
                self.err(rule.rule.span(), format!("rule number {number} is out of range (1-32766)"));
                ok = false;
            } else if let Some(line) = numbers.get(&number) {
                let msg = format!("duplicate rule number {number} (first used at line {line})");
                self.err(rule.rule.span(), msg);
                ok = false;
            } else {
                numbers.insert(number, self.line_of(&rule.rule.span()));
            }
            let action = match rule.action.get_ref().as_str() {
                "allow" => Some(Action::Allow),
                "deny" => Some(Action::Deny),
                other => {
                    self.err(rule.action.span(), format!("unknown action `{other}`, expected `allow` or `deny`"));
                    None
                }
            };
            let (proto, ports) = self.proto_ports(&rule.proto, rule.ports.as_ref()).unzip();
            for peer in [&rule.sg, &rule.prefix_list].into_iter().flatten() {
                self.err(peer.span(), "network ACL rules take CIDRs only (no security groups, no prefix lists)");
                ok = false;
            }
            let cidr = match &rule.cidr {
                Some(c) => self.any_cidr(c),
                None => {
                    if rule.sg.is_none() && rule.prefix_list.is_none() {
                        self.err(r.span(), "a network ACL rule needs `cidr`");
                    }
                    None
                }
            };
            if let (true, Some(action), Some(proto), Some(ports), Some(cidr)) = (ok, action, proto, ports, cidr) {
                rules.push(NaclRule { number: number as u16, action, proto, ports, cidr });
            }
        }
        rules.sort_by_key(|r| r.number);
        rules
    }

    fn any_cidr(&mut self, c: &Spanned<String>) -> Option<IpNet> {
        values::cidr(c.get_ref()).map_err(|e| self.err(c.span(), e)).ok()
    }

    /// A rule's protocol and port range.
    fn proto_ports(
        &mut self,
        proto: &Spanned<toml::Value>,
        ports: Option<&Spanned<toml::Value>>,
    ) -> Option<(Protocol, PortRange)> {
        let p = match values::protocol(proto.get_ref()) {
            Ok(p) => p,
            Err(e) => {
                self.err(proto.span(), e);
                return None;
            }
        };
        match values::rule_ports(p, ports.map(|v| v.get_ref())) {
            Ok(range) => Some((p, range)),
            Err(e) => {
                let span = ports.map_or(proto.span(), |v| v.span());
                self.err(span, e);
                None
            }
        }
    }

    fn security_group_shells(&mut self, raw: &RawScenario) {
        for r in &raw.security_group {
            let vpc = self.resolve_vpc(&r.vpc);
            self.sg_vpc.push(vpc);
            self.t.security_groups.push(SecurityGroup {
                id: r.id.get_ref().clone(),
                vpc: vpc.unwrap_or(VpcIdx(0)),
                ingress: Vec::new(),
                egress: Vec::new(),
                is_default: false,
            });
        }
        for v in 0..self.t.vpcs.len() {
            let vpc = VpcIdx::from_index(v);
            let idx = SgIdx::from_index(self.t.security_groups.len());
            let id = format!("{}/default-sg", self.vpc_id(vpc));
            self.register_implicit(id.clone(), Kind::SecurityGroup, idx.index(), "the VPC's default security group");
            // AWS's default group: inbound from its own members, all outbound.
            let ingress = vec![SgRule { proto: Protocol::All, ports: PortRange::ALL, peer: SgPeer::Sg(idx) }];
            let egress = self.all_outbound(vpc);
            self.sg_vpc.push(Some(vpc));
            self.t.security_groups.push(SecurityGroup { id, vpc, ingress, egress, is_default: true });
            self.t.vpcs[v].default_security_group = idx;
        }
    }

    /// "All traffic out": to 0.0.0.0/0, and to ::/0 when the VPC has IPv6.
    fn all_outbound(&self, vpc: VpcIdx) -> Vec<SgRule> {
        let mut rules = vec![SgRule { proto: Protocol::All, ports: PortRange::ALL, peer: SgPeer::Cidr(any_v4()) }];
        if self.t.vpc(vpc).ipv6_cidr.is_some() {
            rules.push(SgRule { peer: SgPeer::Cidr(any_v6()), ..rules[0] });
        }
        rules
    }

    fn security_group_rules(&mut self, raw: &RawScenario) {
        for (i, r) in raw.security_group.iter().enumerate() {
            let vpc = self.sg_vpc[i];
            let ingress = match &r.ingress {
                Some(rules) => self.sg_rules(rules, i, vpc),
                None => Vec::new(),
            };
            let egress = match (&r.egress, vpc) {
                (Some(rules), _) => self.sg_rules(rules, i, vpc),
                (None, Some(v)) => self.all_outbound(v),
                (None, None) => Vec::new(),
            };
            self.t.security_groups[i].ingress = ingress;
            self.t.security_groups[i].egress = egress;
        }
    }

    fn sg_rules(&mut self, raw: &[Spanned<RawSgRule>], sg: usize, vpc: Option<VpcIdx>) -> Vec<SgRule> {
        let mut rules = Vec::new();
        for r in raw {
            let rule = r.get_ref();
            let proto_ports = self.proto_ports(&rule.proto, rule.ports.as_ref());
            let given = [rule.cidr.is_some(), rule.sg.is_some(), rule.prefix_list.is_some()];
            let peer = match given.iter().filter(|g| **g).count() {
                1 => {
                    if let Some(c) = &rule.cidr {
                        self.any_cidr(c).map(SgPeer::Cidr)
                    } else if let Some(s) = &rule.sg {
                        self.sg_peer(s, sg, vpc)
                    } else if let (Some(pl), Some(v)) = (&rule.prefix_list, vpc) {
                        self.resolve_prefix_list(pl, v).map(SgPeer::PrefixList)
                    } else {
                        None
                    }
                }
                n => {
                    let what = if n == 0 { "none given" } else { "several given" };
                    self.err(
                        r.span(),
                        format!("a security group rule needs exactly one of `cidr`, `sg`, `prefix_list` ({what})"),
                    );
                    None
                }
            };
            if let (Some((proto, ports)), Some(peer)) = (proto_ports, peer) {
                rules.push(SgRule { proto, ports, peer });
            }
        }
        rules
    }

    fn sg_peer(&mut self, s: &Spanned<String>, sg: usize, vpc: Option<VpcIdx>) -> Option<SgPeer> {
        let peer = self.resolve_sg(s, vpc)?;
        let peer_vpc = self.sg_vpc[peer.index()];
        if let (Some(v), Some(pv)) = (vpc, peer_vpc)
            && v != pv
            && !(self.t.peered(v, pv) && self.t.vpc(v).region == self.t.vpc(pv).region)
        {
            let msg = format!(
                "security group `{}` belongs to {}, but `{}` is in {} (a rule may reference a group of its own VPC, or of a VPC peered with it in the same region)",
                s.get_ref(),
                self.vpc_id(pv),
                self.t.security_groups[sg].id,
                self.vpc_id(v)
            );
            self.err(s.span(), msg);
            return None;
        }
        Some(SgPeer::Sg(peer))
    }

    /// A prefix list by id: a customer list of the file, or an AWS-managed
    /// list of the VPC's region, created when first used.
    pub(crate) fn resolve_prefix_list(&mut self, r: &Spanned<String>, vpc: VpcIdx) -> Option<PrefixListIdx> {
        let name = r.get_ref();
        if self.ids.contains_key(name) || !managed::is_managed_name(name) {
            return self.resolve(r, Kind::PrefixList).map(PrefixListIdx::from_index);
        }
        let region = self.t.vpc(vpc).region.clone();
        if let Some(idx) = self.managed_lists.get(&(name.clone(), region.clone())) {
            return Some(*idx);
        }
        let Some(list) = managed::managed_list(name, &region) else {
            self.err(r.span(), format!("managed prefix list {name} is not available in {region} yet"));
            return None;
        };
        let idx = PrefixListIdx::from_index(self.t.prefix_lists.len());
        self.t.prefix_lists.push(PrefixList {
            id: list.id.to_owned(),
            entries: list.entries,
            managed: Some(ManagedBy { service: list.service.to_owned(), region: region.clone() }),
        });
        self.managed_lists.insert((name.clone(), region), idx);
        Some(idx)
    }

    fn internet_gateways(&mut self, raw: &RawScenario) {
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

    fn prefix_lists(&mut self, raw: &RawScenario) {
        for r in &raw.prefix_list {
            let mut entries: Vec<IpNet> = Vec::new();
            for e in &r.entries {
                let Some(net) = self.any_cidr(e) else {
                    continue;
                };
                if let Some(first) = entries.first()
                    && first.addr().is_ipv4() != net.addr().is_ipv4()
                {
                    let msg = format!(
                        "{net} is not of the same address family as {first}: a prefix list holds IPv4 or IPv6 entries, not both"
                    );
                    self.err(e.span(), msg);
                    continue;
                }
                entries.push(net);
            }
            if r.entries.is_empty() {
                self.err(r.id.span(), format!("prefix list `{}` has no entries", r.id.get_ref()));
            }
            self.t.prefix_lists.push(PrefixList { id: r.id.get_ref().clone(), entries, managed: None });
        }
    }

    // ---- subnets ----------------------------------------------------------------

    fn subnets(&mut self, raw: &RawScenario) {
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

    // ---- hosts ------------------------------------------------------------------

    fn hosts(&mut self, raw: &RawScenario) {
        let mut vpc_space: Vec<HashMap<IpAddr, Holder>> = (0..self.t.vpcs.len()).map(|_| HashMap::new()).collect();
        let mut internet: HashMap<IpAddr, Holder> = HashMap::new();
        for r in &raw.host {
            let plan = self.host(r, &mut vpc_space, &mut internet);
            self.hosts.push(plan);
        }
        // NAT gateways' written addresses are taken like hosts'.
        self.nat_gateway_addresses(raw, &mut vpc_space, &mut internet);
        // Automatic addresses come last, so that an address written further
        // down the file is never handed out first.
        let mut next: HashMap<SubnetIdx, u32> = HashMap::new();
        for (i, r) in raw.host.iter().enumerate() {
            let plan = &self.hosts[i];
            let (Some(Attachment::Subnet(s)), None, Some(v)) = (plan.attachment, plan.ipv4, plan.vpc) else {
                continue;
            };
            if r.ip.is_some() || !self.subnet_ok[s.index()] {
                continue;
            }
            if let Some(ip) = self.next_free(s, v, &r.id, &mut vpc_space, &mut next) {
                self.hosts[i].ipv4 = Some(ip);
            }
        }
        self.nat_gateway_auto_addresses(raw, &mut vpc_space, &mut next);
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

    fn host(
        &mut self,
        r: &RawHost,
        vpc_space: &mut [HashMap<IpAddr, Holder>],
        internet: &mut HashMap<IpAddr, Holder>,
    ) -> HostPlan {
        let id = r.id.get_ref().clone();
        let line = self.line_of(&r.id.span());
        let mut plan = HostPlan {
            id: id.clone(),
            attachment: None,
            vpc: None,
            ipv4: None,
            ipv6: None,
            public_ip: None,
            security_groups: Vec::new(),
            listen: Vec::new(),
            source_dest_check: r.source_dest_check.as_ref().is_none_or(|s| *s.get_ref()),
            mtu: vpcsim_model::DEFAULT_MTU,
        };
        plan.listen = self.listeners(&r.listen);
        if let Some(m) = &r.mtu {
            // 1280 is IPv6's minimum; 9001 is the most AWS allows (jumbo frames).
            match u16::try_from(*m.get_ref()) {
                Ok(mtu) if (1280..=9001).contains(&mtu) => plan.mtu = mtu,
                _ => self.err(
                    m.span(),
                    format!("mtu {} is out of range: 1280 to 9001 (AWS: 1500, or 9001 for jumbo frames)", m.get_ref()),
                ),
            }
        }
        if let Some(o) = &r.onprem {
            self.onprem_host(r, o, &mut plan, line);
            return plan;
        }
        let on_internet = r.internet.as_ref().is_some_and(|i| *i.get_ref());
        match (&r.subnet, on_internet) {
            (Some(s), true) => {
                self.err(
                    s.span(),
                    format!("host `{id}` is either in a subnet or on the internet (`internet = true`), not both"),
                );
            }
            (None, false) => {
                self.err(r.id.span(), format!("host `{id}` needs `subnet = \"...\"` or `internet = true`"));
            }
            (None, true) => {
                plan.attachment = Some(Attachment::Internet);
                self.internet_host(r, &mut plan, internet, line);
            }
            (Some(s), false) => {
                let Some(si) = self.resolve(s, Kind::Subnet).map(SubnetIdx::from_index) else {
                    return plan;
                };
                plan.attachment = Some(Attachment::Subnet(si));
                if !self.subnet_ok[si.index()] {
                    return plan;
                }
                let v = self.t.subnet(si).vpc;
                plan.vpc = Some(v);
                self.subnet_host(r, &mut plan, si, &mut vpc_space[v.index()], internet, line);
            }
        }
        plan
    }

    fn listeners(&mut self, raw: &[Spanned<String>]) -> Vec<Listener> {
        let mut out: Vec<Listener> = Vec::new();
        // A host may listen on every port: an idle listener costs no socket.
        let mut seen = std::collections::BTreeSet::new();
        for l in raw {
            match values::listener(l.get_ref()) {
                Err(e) => self.err(l.span(), e),
                Ok(listener) if !seen.insert((listener.proto == vpcsim_model::Protocol::Tcp, listener.port)) => {
                    self.err(l.span(), format!("`{}` is listed twice", l.get_ref()))
                }
                Ok(listener) => out.push(listener),
            }
        }
        out
    }

    fn subnet_host(
        &mut self,
        r: &RawHost,
        plan: &mut HostPlan,
        si: SubnetIdx,
        space: &mut HashMap<IpAddr, Holder>,
        internet: &mut HashMap<IpAddr, Holder>,
        line: usize,
    ) {
        let id = plan.id.clone();
        let subnet = self.t.subnet(si).clone();
        if let Some(ip) = &r.ip {
            match values::ip(ip.get_ref()) {
                Err(e) => self.err(ip.span(), e),
                Ok(IpAddr::V6(_)) => {
                    self.err(ip.span(), "`ip` is the host's private IPv4 address; put an IPv6 address in `ipv6`")
                }
                Ok(IpAddr::V4(a)) => {
                    if !subnet.cidr.contains(&a) {
                        self.err(ip.span(), format!("{a} is not inside {} {}", subnet.id, subnet.cidr));
                    } else if subnet.is_reserved(a) {
                        self.err(
                            ip.span(),
                            format!(
                                "{a} is reserved by AWS in {} ({})",
                                subnet.id,
                                reserved_role(subnet.cidr.network().into(), subnet.cidr.broadcast().into(), a.into())
                            ),
                        );
                    } else if self.take(space, IpAddr::V4(a), &id, line, ip.span(), "") {
                        plan.ipv4 = Some(a);
                    }
                }
            }
        }
        if let Some(ip) = &r.ipv6 {
            match values::ip(ip.get_ref()) {
                Err(e) => self.err(ip.span(), e),
                Ok(IpAddr::V4(_)) => {
                    self.err(ip.span(), "`ipv6` is the host's IPv6 address; put an IPv4 address in `ip`")
                }
                Ok(IpAddr::V6(a)) => match subnet.ipv6_cidr {
                    None => self.err(
                        ip.span(),
                        format!("{} has no IPv6 CIDR, so its hosts cannot have an IPv6 address", subnet.id),
                    ),
                    Some(net) if !net.contains(&a) => {
                        self.err(ip.span(), format!("{a} is not inside {} {net}", subnet.id))
                    }
                    Some(net) => {
                        let base = u128::from(net.network());
                        let last = u128::from(net.broadcast());
                        let n = u128::from(a);
                        // AWS reserves the first four and the last address of
                        // an IPv6 subnet too; base + 1 is the router.
                        if n <= base + 3 || n == last {
                            self.err(
                                ip.span(),
                                format!(
                                    "{a} is reserved by AWS in {} ({})",
                                    subnet.id,
                                    reserved_role(net.network().into(), net.broadcast().into(), a.into())
                                ),
                            );
                        } else if self.take(space, IpAddr::V6(a), &id, line, ip.span(), "") {
                            plan.ipv6 = Some(a);
                        }
                    }
                },
            }
        }
        if let Some(ip) = &r.public_ip {
            match values::ip(ip.get_ref()) {
                Err(e) => self.err(ip.span(), e),
                Ok(IpAddr::V6(_)) => {
                    self.err(ip.span(), "a public IP is an IPv4 address (IPv6 addresses are already public)")
                }
                Ok(IpAddr::V4(a)) => match addresses::check_addr(IpAddr::V4(a), Place::Public) {
                    Err(e) => self.err(ip.span(), e),
                    Ok(()) => {
                        if self.take(internet, IpAddr::V4(a), &id, line, ip.span(), " on the internet") {
                            plan.public_ip = Some(a);
                        }
                    }
                },
            }
        }
        let vpc = subnet.vpc;
        match &r.security_groups {
            None => plan.security_groups = vec![self.t.vpc(vpc).default_security_group],
            Some(list) if list.get_ref().is_empty() => {
                self.err(
                    list.span(),
                    "a network interface needs at least one security group (omit the key for the VPC's default)",
                );
            }
            Some(list) => {
                for s in list.get_ref() {
                    let Some(sg) = self.resolve_sg(s, Some(vpc)) else {
                        continue;
                    };
                    if let Some(other) = self.sg_vpc[sg.index()]
                        && other != vpc
                    {
                        let msg = format!(
                            "security group `{}` belongs to {}, but host `{id}` is in {}",
                            s.get_ref(),
                            self.vpc_id(other),
                            self.vpc_id(vpc)
                        );
                        self.err(s.span(), msg);
                    } else if plan.security_groups.contains(&sg) {
                        self.err(s.span(), format!("security group `{}` is listed twice", s.get_ref()));
                    } else {
                        plan.security_groups.push(sg);
                    }
                }
            }
        }
    }

    fn internet_host(&mut self, r: &RawHost, plan: &mut HostPlan, internet: &mut HashMap<IpAddr, Holder>, line: usize) {
        let id = plan.id.clone();
        if let Some(sg) = &r.security_groups {
            self.err(sg.span(), "an internet host has no security groups (nothing filters the internet)");
        }
        if let Some(p) = &r.public_ip {
            self.err(p.span(), "an internet host's `ip` is already public; remove `public_ip`");
        }
        if let Some(s) = &r.source_dest_check {
            self.err(s.span(), "`source_dest_check` applies to network interfaces in a subnet, not to internet hosts");
        }
        let Some(ip) = &r.ip else {
            self.err(r.id.span(), format!("internet host `{id}` needs `ip`"));
            return;
        };
        let mut check = |b: &mut Self, s: &Spanned<String>| -> Option<IpAddr> {
            let a = match values::ip(s.get_ref()) {
                Err(e) => {
                    b.err(s.span(), e);
                    return None;
                }
                Ok(a) => a,
            };
            let problem =
                addresses::check_addr(a, Place::Internet).err().or_else(|| match a {
                    IpAddr::V6(v6) => b.t.vpcs.iter().find(|v| v.ipv6_cidr.is_some_and(|n| n.contains(&v6))).map(|v| {
                        format!("{a} is inside {}'s IPv6 CIDR; an internet host lives outside every VPC", v.id)
                    }),
                    IpAddr::V4(_) => None,
                });
            if let Some(p) = problem {
                b.err(s.span(), p);
                return None;
            }
            b.take(internet, a, &id, line, s.span(), " on the internet").then_some(a)
        };
        match check(self, ip) {
            Some(IpAddr::V4(a)) => plan.ipv4 = Some(a),
            Some(IpAddr::V6(a)) => plan.ipv6 = Some(a),
            None => {}
        }
        if let Some(v6) = &r.ipv6 {
            match check(self, v6) {
                Some(IpAddr::V6(a)) if plan.ipv6.is_none() => plan.ipv6 = Some(a),
                Some(IpAddr::V6(_)) => self.err(v6.span(), "`ip` already gives this host its IPv6 address"),
                Some(IpAddr::V4(_)) => self.err(v6.span(), "`ipv6` must be an IPv6 address"),
                None => {}
            }
        }
    }

    /// Claims `ip` in an address space for `host`; reports whoever had it.
    pub(crate) fn take(
        &mut self,
        space: &mut HashMap<IpAddr, Holder>,
        ip: IpAddr,
        host: &str,
        line: usize,
        span: Range<usize>,
        where_: &str,
    ) -> bool {
        if let Some(h) = space.get(&ip) {
            let msg = format!("{ip} is already taken{where_} by `{}` (line {})", h.host, h.line);
            self.err(span, msg);
            return false;
        }
        space.insert(ip, Holder { host: host.to_owned(), line });
        true
    }

    // ---- routes -----------------------------------------------------------------

    fn routes(&mut self, raw: &RawScenario) {
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
    fn gateway_route_ok(
        &mut self,
        route: &crate::raw::RawRoute,
        dest: RouteDest,
        target: RouteTarget,
        vpc: VpcIdx,
    ) -> bool {
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

    // ---- the result -------------------------------------------------------------

    fn finish(mut self) -> Topology {
        for (i, plan) in std::mem::take(&mut self.hosts).into_iter().enumerate() {
            let eni = EniIdx::from_index(i);
            let host = HostIdx::from_index(i);
            let Some(attachment) = plan.attachment else {
                continue;
            };
            self.t.enis.push(Eni {
                id: format!("eni-{}", plan.id),
                owner: EniOwner::Host(host),
                attachment,
                mac: vpcsim_model::eni_mac(eni),
                // Only an IPv6-only internet host has no IPv4 address: it gets the
                // unspecified address, which nothing routes to.
                ipv4: plan.ipv4.unwrap_or(Ipv4Addr::UNSPECIFIED),
                ipv6: plan.ipv6,
                public_ip: plan.public_ip,
                security_groups: plan.security_groups,
                source_dest_check: plan.source_dest_check,
                mtu: plan.mtu,
            });
            self.t.hosts.push(Host { id: plan.id, eni, listen: plan.listen, service: None });
        }
        // Interface endpoints' and load balancers' ENIs, after the scenario's hosts'.
        for (owner, subnet, ip) in std::mem::take(&mut self.endpoint_enis) {
            let eni = EniIdx::from_index(self.t.enis.len());
            let subnet_id = self.t.subnets[subnet.index()].id.clone();
            let (id, security_groups, mtu, source_dest_check) = match owner {
                EniOwner::InterfaceEndpoint(ep) => {
                    // A Gateway Load Balancer endpoint forwards others' traffic.
                    let gwlb = self.t.interface_endpoints[ep.index()].is_gwlb(&self.t);
                    let endpoint = &mut self.t.interface_endpoints[ep.index()];
                    endpoint.enis.push(eni);
                    // PrivateLink's MTU.
                    (format!("eni-{}-{subnet_id}", endpoint.id), endpoint.security_groups.clone(), 8500, !gwlb)
                }
                EniOwner::LoadBalancer(lb) => {
                    let lb = &mut self.t.load_balancers[lb.index()];
                    lb.nodes.push(eni);
                    (format!("eni-{}-{subnet_id}", lb.id), Vec::new(), 9001, true)
                }
                // Hosts' and NAT gateways' ENIs are made elsewhere.
                EniOwner::Host(_) | EniOwner::NatGateway(_) => continue,
            };
            self.t.enis.push(Eni {
                id,
                owner,
                attachment: Attachment::Subnet(subnet),
                mac: vpcsim_model::eni_mac(eni),
                ipv4: ip,
                ipv6: None,
                public_ip: None,
                security_groups,
                source_dest_check,
                mtu,
            });
        }
        // The services' front doors, at the indices `services` gave them.
        for (i, service) in self.t.services.clone().into_iter().enumerate() {
            let host = HostIdx::from_index(self.t.hosts.len());
            debug_assert_eq!(host, service.host);
            let eni = EniIdx::from_index(self.t.enis.len());
            let v4 = service.addresses.iter().find_map(|a| match a {
                IpAddr::V4(v) => Some(*v),
                IpAddr::V6(_) => None,
            });
            let v6 = service.addresses.iter().find_map(|a| match a {
                IpAddr::V6(v) => Some(*v),
                IpAddr::V4(_) => None,
            });
            self.t.enis.push(Eni {
                id: format!("eni-{}.{}", service.name, service.region),
                owner: EniOwner::Host(host),
                attachment: Attachment::Internet,
                mac: vpcsim_model::eni_mac(eni),
                ipv4: v4.unwrap_or(Ipv4Addr::UNSPECIFIED),
                ipv6: v6,
                public_ip: None,
                security_groups: Vec::new(),
                source_dest_check: true,
                mtu: vpcsim_model::DEFAULT_MTU,
            });
            self.t.hosts.push(Host {
                id: format!("{}.{}", service.name, service.region),
                eni,
                listen: vec![Listener { proto: Protocol::Tcp, port: 443 }],
                service: Some(vpcsim_model::ServiceIdx::from_index(i)),
            });
        }
        self.finish_nat_gateways();
        self.t
    }

    /// The `i`th host, for traffic: its index, and whether it has an IPv4
    /// address (which a host id in `to` stands for). A host whose address
    /// failed is counted as having one: its error is already reported.
    pub(crate) fn host_of(&self, i: usize) -> (HostIdx, bool) {
        let p = &self.hosts[i];
        let ipv6_only = p.attachment == Some(Attachment::Internet) && p.ipv4.is_none() && p.ipv6.is_some();
        (HostIdx::from_index(i), !ipv6_only)
    }
}

fn any_v4() -> IpNet {
    IpNet::V4(Ipv4Net::default())
}

fn any_v6() -> IpNet {
    IpNet::V6(Ipv6Net::default())
}

fn overlaps(a: IpNet, b: IpNet) -> bool {
    a.contains(&b.network()) || b.contains(&a.network())
}

/// Why AWS reserves an address of a subnet.
fn reserved_role(network: IpAddr, broadcast: IpAddr, a: IpAddr) -> &'static str {
    let offset = |x: IpAddr| match x {
        IpAddr::V4(v) => u128::from(u32::from(v)),
        IpAddr::V6(v) => u128::from(v),
    };
    match offset(a).wrapping_sub(offset(network)) {
        _ if a == broadcast && a.is_ipv4() => "the broadcast address",
        _ if a == broadcast => "the subnet's last address",
        0 => "the network address",
        1 => "the VPC router",
        2 => "the Amazon DNS server",
        _ => "reserved for future use",
    }
}
