//! The validation phase: resolve names, check what AWS would refuse, and build
//! the [`Topology`]. Every error is collected, located, and nothing partial
//! leaves this module.
//!
//! Resources keep the order of the file; the implicit ones vpcsim creates per
//! VPC (main route table, default NACL, default security group) come after the
//! user's of the same kind, so a user resource's index is its position in the
//! file.

use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use vpcsim_model::{Attachment, Eni, EniIdx, EniOwner, Host, HostIdx, Listener, Protocol, Topology};

use crate::builder::Builder;
use crate::context::{IdEntry, Kind};
use crate::diagnostic::{Diagnostic, SourceMap};
use crate::raw::RawScenario;
use crate::values;

pub(crate) fn build(raw: &RawScenario, map: &SourceMap) -> Result<Topology, Vec<Diagnostic>> {
    let mut b = Builder::new(map);
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
        let mut errors = std::mem::take(&mut b.errors);
        errors.sort_by_key(|d| (d.line, d.column));
        Err(errors)
    }
}

impl Builder<'_> {
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
        std::mem::take(&mut self.t)
    }
}
