//! AWS services a scenario can reach, and `[[gateway_endpoint]]`s.
//!
//! Services are instantiated per region the scenario touches: us-east-1, every
//! VPC's region, every region a `to` names (`s3.eu-west-1.amazonaws.com`,
//! `com.amazonaws.eu-west-1.s3`) or points into by address, and every region an
//! endpoint names. Each service gets a front-door host on the internet (after
//! the scenario's own hosts) answering tcp/443.

use std::collections::BTreeSet;
use std::net::IpAddr;

use toml::Spanned;
use vpcsim_model::{
    AwsService, EndpointService, EndpointState, EndpointTarget, EniOwner, Event, EventAction, GatewayEndpoint,
    GatewayEndpointIdx, HostIdx, InterfaceEndpoint, InterfaceEndpointIdx, LbListener, LoadBalancer, LoadBalancerIdx,
    LoadBalancerKind, Protocol, Route, RouteDest, RouteOrigin, RouteTableIdx, RouteTarget, ServiceIdx, SgIdx,
    SubnetIdx, VpcIdx,
};

use crate::context::{Kind, on_top_of};
use crate::diagnostic::SourceMap;
use crate::raw::{RawGatewayEndpoint, RawInterfaceEndpoint, RawLoadBalancer, RawScenario};
use crate::routes::Routes;

/// The endpoints' facts, on the routes.
pub(crate) struct Endpoints<'a> {
    below: Routes<'a>,
    /// ENIs of interface endpoints and load balancers, created after the hosts':
    /// (owner, subnet, address).
    pub(crate) endpoint_enis: Vec<(EniOwner, SubnetIdx, std::net::Ipv4Addr)>,
    /// The AZs of each load balancer's nodes.
    lb_zones: Vec<Vec<String>>,
}

impl<'a> Endpoints<'a> {
    pub(crate) fn new(map: &'a SourceMap<'a>) -> Self {
        Self { below: Routes::new(map), endpoint_enis: Vec::new(), lb_zones: Vec::new() }
    }
}

on_top_of!(Endpoints, Routes);

impl Endpoints<'_> {
    /// IPv4 addresses already held in `vpc`: hosts' and endpoint ENIs'.
    pub(crate) fn taken_in_vpc(&self, vpc: VpcIdx) -> std::collections::HashSet<std::net::Ipv4Addr> {
        let hosts = self.hosts.iter().filter(|h| h.vpc == Some(vpc)).filter_map(|h| h.ipv4);
        let enis = self.endpoint_enis.iter().filter(|(_, s, _)| self.t.subnet(*s).vpc == vpc).map(|(_, _, ip)| *ip);
        hosts.chain(enis).collect()
    }

    /// The services of every region the scenario touches.
    pub(crate) fn services(&mut self, raw: &RawScenario) {
        let mut regions: BTreeSet<String> = BTreeSet::new();
        regions.insert(vpcsim_model::DEFAULT_REGION.to_string());
        regions.extend(self.t.vpcs.iter().map(|v| v.region.clone()));
        let mentioned = raw
            .expect
            .iter()
            .map(|e| e.get_ref().to.get_ref().as_str())
            .chain(raw.flow.iter().map(|f| f.get_ref().to.get_ref().as_str()))
            .chain(raw.gateway_endpoint.iter().map(|g| g.service.get_ref().as_str()));
        for to in mentioned {
            if let Ok(ip) = to.parse::<IpAddr>() {
                regions.extend(vpcsim_aws::owner_of(ip).map(|(_, region)| region));
            } else {
                regions.extend(region_in_name(to));
            }
        }
        let first_host = raw.host.len();
        for region in regions {
            for s in vpcsim_aws::services_in(&region) {
                let host = HostIdx::from_index(first_host + self.t.services.len());
                self.t.services.push(AwsService {
                    name: s.name.to_string(),
                    region: s.region.clone(),
                    dns_name: s.dns_name.clone(),
                    ranges: s.ranges.clone(),
                    addresses: s.addresses.clone(),
                    host,
                    gateway_capable: s.endpoint_kinds.contains(&vpcsim_aws::EndpointKind::Gateway),
                });
            }
        }
    }

    /// The service `name` (short or full form) in `region`, if the scenario has it.
    fn find_service(&self, name: &str, region: &str) -> Result<ServiceIdx, String> {
        let (short, region) = vpcsim_aws::parse_service_name(name, region)?;
        self.t
            .services
            .iter()
            .position(|s| s.name == short && s.region == region)
            .map(ServiceIdx::from_index)
            .ok_or_else(|| format!("service {short} is not available in {region} in vpcsim yet"))
    }

    pub(crate) fn gateway_endpoints(&mut self, raw: &RawScenario) {
        for (i, r) in raw.gateway_endpoint.iter().enumerate() {
            if let Some(ep) = self.gateway_endpoint(r, GatewayEndpointIdx::from_index(i)) {
                self.t.gateway_endpoints.push(ep);
            }
        }
    }

    fn gateway_endpoint(&mut self, r: &RawGatewayEndpoint, idx: GatewayEndpointIdx) -> Option<GatewayEndpoint> {
        let id = r.id.get_ref().clone();
        let vpc = self.resolve_vpc(&r.vpc)?;
        let region = self.t.vpc(vpc).region.clone();
        let service = match self.find_service(r.service.get_ref(), &region) {
            Ok(s) => s,
            Err(m) => {
                self.err(r.service.span(), m);
                return None;
            }
        };
        let svc = self.t.service(service).clone();
        if !svc.gateway_capable {
            self.err(
                r.service.span(),
                format!("{} has no gateway endpoint (only s3 and dynamodb do); use an interface endpoint", svc.name),
            );
            return None;
        }
        let policy = r.policy.as_ref().and_then(|p| self.policy(p));
        // The route each table gets: the service's managed prefix list.
        let pl_name: Spanned<String> = Spanned::new(r.service.span(), format!("pl-{}", svc.name));
        let pl = self.resolve_prefix_list(&pl_name, vpc)?;
        let mut tables: Vec<RouteTableIdx> = Vec::new();
        for t in &r.route_tables {
            let Some(rt) = self.resolve(t, Kind::RouteTable).map(RouteTableIdx::from_index) else { continue };
            if self.rt_vpc[rt.index()].is_some_and(|v| v != vpc) {
                let msg = format!("route table `{}` belongs to another VPC than {}", t.get_ref(), self.vpc_id(vpc));
                self.err(t.span(), msg);
                continue;
            }
            if tables.contains(&rt) {
                self.err(t.span(), format!("route table `{}` is listed twice", t.get_ref()));
                continue;
            }
            let gateway = self.t.internet_gateways.iter().find(|g| g.route_table == Some(rt)).map(|g| g.id.clone());
            let gateway = gateway
                .or_else(|| self.t.vpn_gateways.iter().find(|g| g.route_table == Some(rt)).map(|g| g.id.clone()));
            if let Some(gateway) = gateway {
                let msg = format!(
                    "route table `{}` is the gateway route table of `{gateway}`: it holds no prefix-list routes, so no gateway endpoint route either",
                    t.get_ref()
                );
                self.err(t.span(), msg);
                continue;
            }
            let routes = &self.t.route_tables[rt.index()].routes;
            if let Some(existing) = routes.iter().find(|route| route.dest == RouteDest::PrefixList(pl)) {
                let what = match existing.target {
                    RouteTarget::GatewayEndpoint(other) => {
                        format!("the gateway endpoint `{}`", self.t.gateway_endpoint(other).id)
                    }
                    _ => "a route of the table".to_string(),
                };
                let msg = format!(
                    "route table `{}` already routes {} ({what}); a table holds one route per prefix list, and a gateway endpoint adds its own",
                    t.get_ref(),
                    pl_name.get_ref()
                );
                self.err(t.span(), msg);
                continue;
            }
            tables.push(rt);
            self.t.route_tables[rt.index()].routes.push(Route {
                dest: RouteDest::PrefixList(pl),
                target: RouteTarget::GatewayEndpoint(idx),
                origin: RouteOrigin::Static,
            });
        }
        Some(GatewayEndpoint { id, vpc, service, route_tables: tables, policy })
    }

    /// An endpoint policy: inline JSON (it starts with `{`) or a file path,
    /// relative to the scenario file.
    fn policy(&mut self, p: &Spanned<String>) -> Option<vpcsim_policy::Policy> {
        let text = p.get_ref();
        if text.trim_start().starts_with('{') {
            if text.chars().count() > crate::files::MAX_POLICY_CHARS {
                let max = crate::files::MAX_POLICY_CHARS;
                self.err(p.span(), format!("the endpoint policy is longer than {max} characters, AWS's limit"));
                return None;
            }
            return match vpcsim_policy::Policy::parse(text) {
                Ok(policy) => Some(policy),
                Err(e) => {
                    self.err(
                        p.span(),
                        format!(
                            "invalid endpoint policy: line {}, column {} of the policy: {}",
                            e.line, e.column, e.message
                        ),
                    );
                    None
                }
            };
        }
        let (path, json) = match crate::files::read_policy(self.file(), text) {
            Ok(read) => read,
            Err(e) => {
                self.err(p.span(), e.0);
                return None;
            }
        };
        // A file that is no JSON object is not a policy at all: say so without
        // quoting it (it may be any file of the scenario's folder).
        if !json.trim_start().starts_with('{') {
            self.err(
                p.span(),
                format!(
                    "the policy file {} is not a JSON policy document (it does not start with `{{`)",
                    path.display()
                ),
            );
            return None;
        }
        match vpcsim_policy::Policy::parse(&json) {
            Ok(policy) => Some(policy),
            Err(e) => {
                self.err(
                    p.span(),
                    format!("invalid endpoint policy: {}:{}:{}: {}", path.display(), e.line, e.column, e.message),
                );
                None
            }
        }
    }
}

/// The region a service name or endpoint name mentions, if any:
/// `s3.eu-west-1.amazonaws.com`, `com.amazonaws.eu-west-1.s3`.
fn region_in_name(name: &str) -> Option<String> {
    let lower = name.to_ascii_lowercase();
    lower.split('.').find(|label| vpcsim_aws::is_region(label)).map(str::to_string)
}

impl Endpoints<'_> {
    pub(crate) fn interface_endpoints(&mut self, raw: &RawScenario) {
        for (i, r) in raw.interface_endpoint.iter().enumerate() {
            if let Some(ep) = self.interface_endpoint(r, i) {
                self.t.interface_endpoints.push(ep);
            } else {
                // Keep indices aligned with the file; the error is already reported.
                let owner = EniOwner::InterfaceEndpoint(InterfaceEndpointIdx::from_index(i));
                self.endpoint_enis.retain(|(o, _, _)| *o != owner);
                return;
            }
        }
    }

    fn interface_endpoint(&mut self, r: &RawInterfaceEndpoint, index: usize) -> Option<InterfaceEndpoint> {
        let id = r.id.get_ref().clone();
        let vpc = self.resolve_vpc(&r.vpc)?;
        let (region, account) = (self.t.vpc(vpc).region.clone(), self.t.vpc(vpc).account.clone());
        let name = r.service.get_ref();
        let principal = r.principal.as_ref().map_or(format!("arn:aws:iam::{account}:root"), |p| p.get_ref().clone());
        // An endpoint service, by id or by its service name; else an AWS service.
        let provider = self.t.endpoint_services.iter().position(|es| es.id == *name || es.service_name == *name);
        let (target, service_label, private_dns_default, state) = match provider {
            Some(i) => {
                let es = &self.t.endpoint_services[i];
                if es.region != region {
                    let msg = format!(
                        "`{name}` is an endpoint service of {}, but {} is in {region}: an endpoint reaches services of its own region",
                        es.region,
                        self.vpc_id(vpc)
                    );
                    self.err(r.service.span(), msg);
                    return None;
                }
                // Not allowed: the endpoint is created, and fails (AWS's state).
                let state = if !es.allows(&principal) {
                    EndpointState::Failed
                } else if es.acceptance_required {
                    EndpointState::PendingAcceptance
                } else {
                    EndpointState::Available
                };
                let target = EndpointTarget::EndpointService(vpcsim_model::EndpointServiceIdx::from_index(i));
                (target, dns_label(&es.id), es.private_dns_name.is_some(), state)
            }
            None => {
                if self.ids.get(name).is_some_and(|e| e.kind != Kind::InterfaceEndpoint) {
                    let msg =
                        format!("`{name}` is not a service: `service` takes an AWS service or an endpoint service");
                    self.err(r.service.span(), msg);
                    return None;
                }
                let service = match self.find_service(name, &region) {
                    Ok(s) => s,
                    Err(_) if name.starts_with("vpce-svc-") || name.starts_with("com.amazonaws.vpce.") => {
                        self.err(
                            r.service.span(),
                            format!("unknown endpoint service `{name}` (no [[endpoint_service]] has this id or name)"),
                        );
                        return None;
                    }
                    Err(m) => {
                        self.err(r.service.span(), m);
                        return None;
                    }
                };
                let svc_name = self.t.service(service).name.clone();
                (EndpointTarget::AwsService(service), svc_name, true, EndpointState::Available)
            }
        };
        if r.subnets.is_empty() {
            self.err(r.id.span(), format!("interface endpoint `{id}` needs `subnets` (one per AZ)"));
            return None;
        }
        let mut subnets: Vec<SubnetIdx> = Vec::new();
        for s in &r.subnets {
            let Some(subnet) = self.resolve(s, Kind::Subnet).map(SubnetIdx::from_index) else { continue };
            let sn = self.t.subnet(subnet);
            if sn.vpc != vpc {
                let msg = format!("subnet `{}` is not in {}", s.get_ref(), self.vpc_id(vpc));
                self.err(s.span(), msg);
                continue;
            }
            if let Some(other) = subnets.iter().find(|o| self.t.subnet(**o).az == sn.az) {
                let msg = format!(
                    "an interface endpoint takes at most one subnet per AZ: `{}` and `{}` are both in {}",
                    self.t.subnet(*other).id,
                    s.get_ref(),
                    sn.az
                );
                self.err(s.span(), msg);
                continue;
            }
            if let EndpointTarget::EndpointService(es) = target {
                let lb = self.t.endpoint_service(es).load_balancer;
                // An unknown load balancer is reported already; its
                // placeholder index may point nowhere.
                if let Some(zones) = self.lb_zones.get(lb.index())
                    && !zones.contains(&sn.az)
                {
                    let msg = format!(
                        "the endpoint service offers no node in {} (its load balancer is in {}): a consumer only gets the provider's AZs",
                        sn.az,
                        zones.join(", ")
                    );
                    self.err(s.span(), msg);
                    continue;
                }
            }
            subnets.push(subnet);
        }
        let gwlb = match target {
            EndpointTarget::EndpointService(es) => self
                .t
                .load_balancers
                .get(self.t.endpoint_service(es).load_balancer.index())
                .is_some_and(|lb| lb.kind == LoadBalancerKind::Gateway),
            EndpointTarget::AwsService(_) => false,
        };
        if gwlb {
            // A Gateway Load Balancer endpoint: a route target in one subnet, no security groups.
            if r.subnets.len() != 1 {
                self.err(r.id.span(), format!("Gateway Load Balancer endpoint `{id}` takes exactly one subnet"));
                return None;
            }
            if let Some(sg) = r.security_groups.as_ref().and_then(|l| l.first()) {
                self.err(sg.span(), "a Gateway Load Balancer endpoint has no security groups");
                return None;
            }
        }
        let security_groups: Vec<SgIdx> = match &r.security_groups {
            None if gwlb => Vec::new(),
            // The VPC's default group, as AWS does.
            None => vec![self.t.vpc(vpc).default_security_group],
            Some(list) => list
                .iter()
                .filter_map(|s| {
                    let sg = self.resolve_sg_of(s, vpc)?;
                    if self.t.security_group(sg).vpc != vpc {
                        let msg = format!("security group `{}` is not in {}", s.get_ref(), self.vpc_id(vpc));
                        self.err(s.span(), msg);
                        return None;
                    }
                    Some(sg)
                })
                .collect(),
        };
        let policy = r.policy.as_ref().and_then(|p| self.policy(p));
        let owner = EniOwner::InterfaceEndpoint(InterfaceEndpointIdx::from_index(index));
        for &subnet in &subnets {
            self.allocate_eni(owner, subnet, &r.id)?;
        }
        let label = dns_label(&id);
        let base = format!("{service_label}.{region}.vpce.amazonaws.com");
        let suffix = dns_suffix(&id);
        let zonal = subnets
            .iter()
            .map(|s| {
                let az = self.t.subnet(*s).az.clone();
                let name = format!("{label}-{suffix}-{az}.{base}");
                (az, name)
            })
            .collect();
        Some(InterfaceEndpoint {
            dns_name: format!("{label}-{suffix}.{base}"),
            zonal_dns_names: zonal,
            id,
            vpc,
            target,
            service_name: service_label,
            region,
            enis: Vec::new(),
            security_groups,
            private_dns: r.private_dns.as_ref().map_or(private_dns_default, |p| *p.get_ref()),
            principal,
            policy,
            state,
        })
    }
}

/// The endpoint id as a DNS label: lowercase letters, digits and hyphens.
fn dns_label(id: &str) -> String {
    let s: String = id.chars().map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '-' }).collect();
    s.trim_matches('-').to_string()
}

/// AWS appends eight random characters to an endpoint's DNS names; vpcsim
/// derives them from the id (FNV-1a), so names are stable run to run.
fn dns_suffix(id: &str) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in id.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    let alphabet = b"abcdefghijklmnopqrstuvwxyz0123456789";
    (0..8)
        .map(|i| {
            let i = ((h >> (i * 6)) % 36) as usize;
            char::from(alphabet[i])
        })
        .collect()
}

impl Endpoints<'_> {
    /// An address for an ENI vpcsim creates (an endpoint's, a load balancer
    /// node's), from the top of the subnet down: hosts take theirs from the
    /// bottom, so neither steals the other's.
    fn allocate_eni(&mut self, owner: EniOwner, subnet: SubnetIdx, id: &Spanned<String>) -> Option<()> {
        let vpc = self.t.subnet(subnet).vpc;
        let taken = self.taken_in_vpc(vpc);
        let cidr = self.t.subnet(subnet).cidr;
        let first = u32::from(cidr.network()) + 4;
        let mut ip = u32::from(cidr.broadcast()) - 1;
        while ip >= first && taken.contains(&std::net::Ipv4Addr::from(ip)) {
            ip -= 1;
        }
        if ip < first {
            let msg = format!(
                "{} has no free address left for `{}`'s network interface",
                self.t.subnet(subnet).id,
                id.get_ref()
            );
            self.err(id.span(), msg);
            return None;
        }
        self.endpoint_enis.push((owner, subnet, std::net::Ipv4Addr::from(ip)));
        Some(())
    }

    pub(crate) fn load_balancers(&mut self, raw: &RawScenario) {
        for (i, r) in raw.load_balancer.iter().enumerate() {
            let lb = self.load_balancer(r, i);
            self.lb_zones.push(lb.as_ref().map_or(Vec::new(), |(_, z)| z.clone()));
            match lb {
                Some((lb, _)) => self.t.load_balancers.push(lb),
                None => {
                    // A placeholder keeps indices aligned; the file is invalid anyway.
                    self.t.load_balancers.push(LoadBalancer {
                        id: r.id.get_ref().clone(),
                        kind: LoadBalancerKind::Network,
                        vpc: vpcsim_model::VpcIdx(0),
                        nodes: Vec::new(),
                        cross_zone: false,
                        listeners: Vec::new(),
                    });
                }
            }
        }
    }

    fn load_balancer(&mut self, r: &RawLoadBalancer, index: usize) -> Option<(LoadBalancer, Vec<String>)> {
        let id = r.id.get_ref().clone();
        let kind = match r.kind.as_ref().map(|k| k.get_ref().as_str()) {
            None | Some("network") => LoadBalancerKind::Network,
            Some("gateway") => LoadBalancerKind::Gateway,
            Some(other) => {
                let span = r.kind.as_ref().map_or(r.id.span(), |k| k.span());
                self.err(span, format!("unknown load balancer type `{other}`, expected `network` or `gateway`"));
                return None;
            }
        };
        if r.subnets.is_empty() {
            self.err(r.id.span(), format!("load balancer `{id}` needs `subnets` (one per AZ)"));
            return None;
        }
        let mut subnets: Vec<SubnetIdx> = Vec::new();
        let mut vpc = None;
        for s in &r.subnets {
            let Some(subnet) = self.resolve(s, Kind::Subnet).map(SubnetIdx::from_index) else { continue };
            let sn = self.t.subnet(subnet).clone();
            match vpc {
                None => vpc = Some(sn.vpc),
                Some(v) if v != sn.vpc => {
                    self.err(
                        s.span(),
                        format!("subnet `{}` is in another VPC than the load balancer's other subnets", s.get_ref()),
                    );
                    continue;
                }
                Some(_) => {}
            }
            if subnets.iter().any(|o| self.t.subnet(*o).az == sn.az) {
                self.err(s.span(), format!("a load balancer takes one subnet per AZ; {} is there twice", sn.az));
                continue;
            }
            subnets.push(subnet);
        }
        let vpc = vpc?;
        let mut listeners = Vec::new();
        for l in &r.listeners {
            let raw = l.get_ref();
            if kind == LoadBalancerKind::Gateway {
                // A Gateway Load Balancer takes every packet (IP, all ports) and
                // speaks GENEVE (UDP 6081) to its appliances.
                let mut targets = Vec::new();
                for t in &raw.targets {
                    let Some(h) = self.resolve(t, Kind::Host).map(HostIdx::from_index) else { continue };
                    if self.host_vpc(h.index()) != Some(vpc) {
                        self.err(t.span(), format!("target `{}` is not in the load balancer's VPC", t.get_ref()));
                        continue;
                    }
                    targets.push(h);
                }
                listeners.push(LbListener { proto: Protocol::All, port: 6081, targets, target_port: 6081 });
                continue;
            }
            let proto = raw.proto.as_ref().map_or("tcp", |p| p.get_ref().as_str());
            if proto != "tcp" {
                let span = raw.proto.as_ref().map_or(l.span(), |p| p.span());
                self.err(span, format!("listener protocol `{proto}`: vpcsim's network load balancers listen on tcp"));
                continue;
            }
            let port = |b: &mut Self, v: &Spanned<i64>| match u16::try_from(*v.get_ref()) {
                Ok(p) if p > 0 => Some(p),
                _ => {
                    b.err(v.span(), format!("port {} is out of range: 1 to 65535", v.get_ref()));
                    None
                }
            };
            let Some(listen_port) = (match &raw.port {
                Some(p) => port(self, p),
                None => {
                    self.err(l.span(), "a network load balancer listener needs `port`");
                    None
                }
            }) else {
                continue;
            };
            let target_port = match &raw.target_port {
                Some(t) => port(self, t),
                None => Some(listen_port),
            };
            let mut targets = Vec::new();
            for t in &raw.targets {
                let Some(h) = self.resolve(t, Kind::Host).map(HostIdx::from_index) else { continue };
                if self.host_vpc(h.index()) != Some(vpc) {
                    self.err(t.span(), format!("target `{}` is not in the load balancer's VPC", t.get_ref()));
                    continue;
                }
                targets.push(h);
            }
            if let Some(target_port) = target_port {
                listeners.push(LbListener { proto: Protocol::Tcp, port: listen_port, targets, target_port });
            }
        }
        let owner = EniOwner::LoadBalancer(LoadBalancerIdx::from_index(index));
        for &subnet in &subnets {
            self.allocate_eni(owner, subnet, &r.id)?;
        }
        let zones = subnets.iter().map(|s| self.t.subnet(*s).az.clone()).collect();
        Some((
            LoadBalancer { id, kind, vpc, nodes: Vec::new(), cross_zone: r.cross_zone.unwrap_or(false), listeners },
            zones,
        ))
    }

    pub(crate) fn endpoint_services(&mut self, raw: &RawScenario) {
        for r in &raw.endpoint_service {
            let lb = self.resolve(&r.load_balancer, Kind::LoadBalancer).map(LoadBalancerIdx::from_index);
            let region = lb
                // A load balancer that failed to build has a placeholder VPC,
                // which may not exist: its error is reported already.
                .and_then(|l| self.t.vpcs.get(self.t.load_balancer(l).vpc.index()))
                .map(|v| v.region.clone())
                .unwrap_or_else(|| vpcsim_model::DEFAULT_REGION.to_string());
            let id = r.id.get_ref().clone();
            for p in &r.allowed_principals {
                let ok = p.get_ref() == "*" || p.get_ref().starts_with("arn:aws:iam::");
                if !ok {
                    self.err(
                        p.span(),
                        format!(
                            "`{}` is not a principal: `*` or an ARN like arn:aws:iam::123456789012:root",
                            p.get_ref()
                        ),
                    );
                }
            }
            self.t.endpoint_services.push(EndpointService {
                service_name: format!("com.amazonaws.vpce.{region}.{id}"),
                id,
                load_balancer: lb.unwrap_or(LoadBalancerIdx(0)),
                // AWS's default: the provider accepts each endpoint.
                acceptance_required: r.acceptance_required.unwrap_or(true),
                allowed_principals: r.allowed_principals.iter().map(|p| p.get_ref().clone()).collect(),
                private_dns_name: r.private_dns_name.as_ref().map(|n| n.get_ref().to_ascii_lowercase()),
                region,
            });
        }
    }

    pub(crate) fn events(&mut self, raw: &RawScenario) {
        for r in &raw.event {
            let at = crate::values::duration_at_most(r.at.get_ref(), vpcsim_model::limits::MAX_TIME, "at");
            let Some(at) = at.map_err(|m| self.err(r.at.span(), m)).ok() else {
                continue;
            };
            let endpoint = |b: &mut Self| -> Option<InterfaceEndpointIdx> {
                match &r.endpoint {
                    Some(e) => b.resolve(e, Kind::InterfaceEndpoint).map(InterfaceEndpointIdx::from_index),
                    None => {
                        b.err(r.action.span(), format!("`{}` needs `endpoint`", r.action.get_ref()));
                        None
                    }
                }
            };
            let target = |b: &mut Self| -> Option<HostIdx> {
                match &r.target {
                    Some(t) => b.resolve(t, Kind::Host).map(HostIdx::from_index),
                    None => {
                        b.err(r.action.span(), format!("`{}` needs `target` (a host id)", r.action.get_ref()));
                        None
                    }
                }
            };
            let action = match r.action.get_ref().as_str() {
                "accept" => endpoint(self).map(EventAction::Accept),
                "reject" => endpoint(self).map(EventAction::Reject),
                "delete" => endpoint(self).map(EventAction::Delete),
                "target-down" => target(self).map(EventAction::TargetDown),
                "target-up" => target(self).map(EventAction::TargetUp),
                "delete-service" => match &r.service {
                    Some(s) => self
                        .resolve(s, Kind::EndpointService)
                        .map(|i| EventAction::DeleteService(vpcsim_model::EndpointServiceIdx::from_index(i))),
                    None => {
                        self.err(r.action.span(), "`delete-service` needs `service` (an endpoint service id)");
                        None
                    }
                },
                other => {
                    let msg = format!(
                        "unknown event action `{other}`, expected one of `accept`, `reject`, `delete`, `target-down`, `target-up`, `delete-service`"
                    );
                    self.err(r.action.span(), msg);
                    None
                }
            };
            if let Some(action) = action {
                self.t.events.push(Event { at, action });
            }
        }
        // In time order; equal times keep the file's order.
        self.t.events.sort_by_key(|e| e.at);
    }
}

impl Endpoints<'_> {
    /// A route may target an interface endpoint only when it is a Gateway Load
    /// Balancer endpoint of the route table's VPC.
    pub(crate) fn check_gwlb_routes(&mut self) {
        for (span, ep, vpc) in std::mem::take(&mut self.gwlb_route_checks) {
            let Some(endpoint) = self.t.interface_endpoints.get(ep) else { continue };
            if !endpoint.is_gwlb(&self.t) {
                let msg = format!(
                    "`{}` is an interface endpoint; only a Gateway Load Balancer endpoint can be a route target",
                    endpoint.id
                );
                self.err(span, msg);
            } else if endpoint.vpc != vpc {
                let msg =
                    format!("route to a target in another VPC: `{}` is in {}", endpoint.id, self.vpc_id(endpoint.vpc));
                self.err(span, msg);
            }
        }
    }
}
