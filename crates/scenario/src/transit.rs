//! Beyond one VPC, part two: `[[transit_gateway]]`, `[[tgw_attachment]]`,
//! `[[tgw_route_table]]`, `[[onprem]]`, `[[vpn_gateway]]`,
//! `[[vpn_connection]]`, hosts with `onprem = ...`, and `[[dns_zone]]`.
//!
//! Every resource of these tables is pushed to the topology at its position
//! in the file, even when it is wrong (with placeholders), so that ids keep
//! pointing at the right index; the errors keep the topology from leaving.
//!
//! Associations and propagations: an attachment that no table associates is
//! associated with its transit gateway's `default_route_table`; one that no
//! table lists in `propagations` propagates there. A table's routes are its
//! static routes (file order), then the propagated ones (attachment order):
//! a VPC attachment propagates its VPC's CIDRs, a VPN attachment its
//! on-premises CIDR.

use std::collections::HashMap;
use std::net::IpAddr;

use ipnet::IpNet;
use toml::Spanned;
use vpcsim_model::{
    DnsRecord, DnsRecordData, DnsZone, InterfaceEndpointIdx, OnPrem, OnPremIdx, RouteTarget, SubnetIdx, TgwAttachment,
    TgwAttachmentIdx, TgwAttachmentKind, TgwRoute, TgwRouteOrigin, TgwRouteTable, TgwRouteTableIdx, TgwRouteTarget,
    TransitGateway, TransitGatewayIdx, VpcIdx, VpnConnection, VpnConnectionIdx, VpnGateway, VpnGatewayIdx, VpnKind,
    VpnTerminal,
};

use crate::addresses::{self, Place};
use crate::context::{Holder, Kind, on_top_of};
use crate::diagnostic::SourceMap;
use crate::gateways::Gateways;
use crate::raw::{RawDnsRecord, RawScenario, RawTgwAttachment};
use crate::values;

/// What the loader knows of these resources between its phases, on the gateways.
pub(crate) struct Transit<'a> {
    below: Gateways<'a>,
    /// Per on-premises network: whether its CIDR is valid, and its address space.
    pub(crate) onprem_ok: Vec<bool>,
    pub(crate) onprem_space: Vec<HashMap<IpAddr, Holder>>,
    /// The VPC of each VPN gateway (`None` where the file was wrong).
    vgw_vpc: Vec<Option<VpcIdx>>,
    /// Per transit gateway: the VPCs attached to it.
    tgw_vpcs: Vec<Vec<VpcIdx>>,
}

impl<'a> Transit<'a> {
    pub(crate) fn new(map: &'a SourceMap<'a>) -> Self {
        Self {
            below: Gateways::new(map),
            onprem_ok: Vec::new(),
            onprem_space: Vec::new(),
            vgw_vpc: Vec::new(),
            tgw_vpcs: Vec::new(),
        }
    }
}

on_top_of!(Transit, Gateways);

impl Transit<'_> {
    pub(crate) fn register_transit_ids(&mut self, raw: &RawScenario) {
        for (i, r) in raw.transit_gateway.iter().enumerate() {
            self.register(&r.id, Kind::TransitGateway, i);
        }
        for (i, r) in raw.tgw_attachment.iter().enumerate() {
            self.register(&r.id, Kind::TgwAttachment, i);
        }
        for (i, r) in raw.tgw_route_table.iter().enumerate() {
            self.register(&r.id, Kind::TgwRouteTable, i);
        }
        for (i, r) in raw.onprem.iter().enumerate() {
            self.register(&r.id, Kind::OnPrem, i);
        }
        for (i, r) in raw.vpn_gateway.iter().enumerate() {
            self.register(&r.id, Kind::VpnGateway, i);
        }
        for (i, r) in raw.vpn_connection.iter().enumerate() {
            self.register(&r.id, Kind::VpnConnection, i);
        }
        for (i, r) in raw.dns_zone.iter().enumerate() {
            self.register(&r.id, Kind::DnsZone, i);
        }
    }

    /// On-premises networks: before the hosts, which live in them.
    pub(crate) fn onprems(&mut self, raw: &RawScenario) {
        for (i, r) in raw.onprem.iter().enumerate() {
            let cidr = match values::cidr(r.cidr.get_ref()) {
                Ok(IpNet::V4(n)) if !(8..=28).contains(&n.prefix_len()) => {
                    self.err(r.cidr.span(), format!("{n}: an on-premises CIDR must be between /8 and /28"));
                    None
                }
                Ok(IpNet::V4(n)) => match addresses::check_cidr(IpNet::V4(n), Place::OnPrem) {
                    Ok(()) => Some(n),
                    Err(e) => {
                        self.err(r.cidr.span(), e);
                        None
                    }
                },
                Ok(IpNet::V6(_)) => {
                    self.err(r.cidr.span(), "an on-premises network is IPv4 in vpcsim: `cidr` must be an IPv4 CIDR");
                    None
                }
                Err(e) => {
                    self.err(r.cidr.span(), e);
                    None
                }
            };
            self.onprem_ok.push(cidr.is_some());
            self.onprem_space.push(HashMap::new());
            self.t.onprems.push(OnPrem {
                id: r.id.get_ref().clone(),
                cidr: cidr.unwrap_or_default(),
                router_mac: vpcsim_model::onprem_router_mac(OnPremIdx::from_index(i)),
            });
        }
    }

    /// VPN gateways, transit gateways, VPN connections, attachments and TGW
    /// route tables (with their propagated routes): after the subnets, before
    /// the VPC routes that target them.
    pub(crate) fn transit(&mut self, raw: &RawScenario) {
        self.vpn_gateways(raw);
        for r in &raw.transit_gateway {
            self.t.transit_gateways.push(TransitGateway { id: r.id.get_ref().clone(), default_route_table: None });
            self.tgw_vpcs.push(Vec::new());
        }
        self.vpn_connections(raw);
        self.tgw_attachments(raw);
        self.tgw_route_tables(raw);
    }

    fn vpn_gateways(&mut self, raw: &RawScenario) {
        let mut attached: HashMap<VpcIdx, String> = HashMap::new();
        for r in &raw.vpn_gateway {
            let vpc = self.resolve_vpc(&r.vpc);
            if let Some(v) = vpc {
                if let Some(first) = attached.get(&v) {
                    let msg = format!("{} already has a VPN gateway, `{first}`; a VPC has at most one", self.vpc_id(v));
                    self.err(r.vpc.span(), msg);
                } else {
                    attached.insert(v, r.id.get_ref().clone());
                }
            }
            self.vgw_vpc.push(vpc);
            self.t.vpn_gateways.push(VpnGateway {
                id: r.id.get_ref().clone(),
                vpc: vpc.unwrap_or(VpcIdx(0)),
                route_table: None,
            });
        }
    }

    fn vpn_connections(&mut self, raw: &RawScenario) {
        for r in &raw.vpn_connection {
            let onprem = self.resolve(&r.onprem, Kind::OnPrem).map(OnPremIdx::from_index);
            let gateway = match self.ids.get(r.gateway.get_ref()).map(|e| (e.kind, e.index)) {
                Some((Kind::VpnGateway, i)) => Some(VpnTerminal::VpnGateway(VpnGatewayIdx::from_index(i))),
                Some((Kind::TransitGateway, i)) => Some(VpnTerminal::TransitGateway(TransitGatewayIdx::from_index(i))),
                Some((kind, _)) => {
                    let msg = format!(
                        "`{}` is {}; a VPN connection ends on a vpn_gateway or a transit_gateway",
                        r.gateway.get_ref(),
                        crate::context::a(kind.table())
                    );
                    self.err(r.gateway.span(), msg);
                    None
                }
                None => {
                    let msg = format!("unknown vpn_gateway or transit_gateway `{}`", r.gateway.get_ref());
                    self.err(r.gateway.span(), msg);
                    None
                }
            };
            let kind = match r.kind.as_ref().map(|k| (k.span(), k.get_ref().as_str())) {
                None | Some((_, "vpn")) => VpnKind::Vpn,
                Some((_, "direct-connect")) => VpnKind::DirectConnect,
                Some((span, other)) => {
                    self.err(span, format!("unknown connection type `{other}`, expected `vpn` or `direct-connect`"));
                    VpnKind::Vpn
                }
            };
            // An on-premises network and the VPC behind a VPN gateway must not overlap.
            if let (Some(o), Some(VpnTerminal::VpnGateway(g))) = (onprem, gateway)
                && let Some(v) = self.vgw_vpc[g.index()]
            {
                self.onprem_overlap(o, v, &r.onprem);
            }
            self.t.vpn_connections.push(VpnConnection {
                id: r.id.get_ref().clone(),
                onprem: onprem.unwrap_or(OnPremIdx(0)),
                gateway: gateway.unwrap_or(VpnTerminal::TransitGateway(TransitGatewayIdx(0))),
                kind,
            });
        }
    }

    /// An error when on-premises network `o` overlaps `vpc`, which it reaches.
    fn onprem_overlap(&mut self, o: OnPremIdx, vpc: VpcIdx, at: &Spanned<String>) {
        if !self.onprem_ok[o.index()] {
            return;
        }
        let (net, v) = (self.t.onprem(o), self.t.vpc(vpc));
        if net.cidr.contains(&v.cidr.network()) || v.cidr.contains(&net.cidr.network()) {
            let msg = format!(
                "{} {} overlaps {} {}: an on-premises network must not overlap the VPCs it connects to",
                net.id, net.cidr, v.id, v.cidr
            );
            self.err(at.span(), msg);
        }
    }

    fn tgw_attachments(&mut self, raw: &RawScenario) {
        for r in &raw.tgw_attachment {
            let id = r.id.get_ref().clone();
            let tgw = self.resolve(&r.transit_gateway, Kind::TransitGateway).map(TransitGatewayIdx::from_index);
            let appliance_mode = r.appliance_mode.as_ref().is_some_and(|a| *a.get_ref());
            let kind = match (&r.vpc, &r.vpn) {
                (Some(v), None) => self.vpc_attachment(r, v, tgw),
                (None, Some(c)) => {
                    if let Some(s) = &r.subnets {
                        self.err(s.span(), "a VPN attachment has no subnets (only a VPC attachment does)");
                    }
                    if let Some(a) = r.appliance_mode.as_ref().filter(|a| *a.get_ref()) {
                        self.err(a.span(), "appliance mode applies to VPC attachments only");
                    }
                    self.vpn_attachment(c, tgw)
                }
                (Some(_), Some(c)) => {
                    self.err(c.span(), format!("attachment `{id}` attaches a VPC (`vpc`) or a VPN (`vpn`), not both"));
                    None
                }
                (None, None) => {
                    self.err(r.id.span(), format!("attachment `{id}` needs `vpc = \"...\"` or `vpn = \"...\"`"));
                    None
                }
            };
            self.t.tgw_attachments.push(TgwAttachment {
                id,
                transit_gateway: tgw.unwrap_or(TransitGatewayIdx(0)),
                kind: kind.unwrap_or(TgwAttachmentKind::Vpc { vpc: VpcIdx(0), subnets: Vec::new() }),
                appliance_mode,
                route_table: None,
            });
        }
    }

    fn vpc_attachment(
        &mut self,
        r: &RawTgwAttachment,
        v: &Spanned<String>,
        tgw: Option<TransitGatewayIdx>,
    ) -> Option<TgwAttachmentKind> {
        let vpc = self.resolve_vpc(v)?;
        if let Some(tg) = tgw {
            if self.tgw_vpcs[tg.index()].contains(&vpc) {
                let msg = format!(
                    "{} is already attached to `{}`; a VPC has at most one attachment per transit gateway",
                    self.vpc_id(vpc),
                    self.t.transit_gateway(tg).id
                );
                self.err(v.span(), msg);
                return None;
            }
            self.tgw_vpcs[tg.index()].push(vpc);
        }
        let Some(list) = &r.subnets else {
            self.err(r.id.span(), "a VPC attachment needs `subnets`: one subnet per AZ it serves");
            return None;
        };
        if list.get_ref().is_empty() {
            self.err(list.span(), "a VPC attachment needs at least one subnet");
            return None;
        }
        let mut subnets: Vec<SubnetIdx> = Vec::new();
        for s in list.get_ref() {
            let Some(si) = self.resolve(s, Kind::Subnet).map(SubnetIdx::from_index) else { continue };
            let sub = self.t.subnet(si);
            if sub.vpc != vpc {
                let msg = format!("`{}` is a subnet of {}, not of {}", sub.id, self.vpc_id(sub.vpc), self.vpc_id(vpc));
                self.err(s.span(), msg);
                continue;
            }
            if let Some(&other) = subnets.iter().find(|&&o| self.t.subnet(o).az == sub.az) {
                let msg = format!(
                    "`{}` and `{}` are both in {}: a transit gateway attachment takes one subnet per AZ",
                    self.t.subnet(other).id,
                    sub.id,
                    sub.az
                );
                self.err(s.span(), msg);
                continue;
            }
            subnets.push(si);
        }
        Some(TgwAttachmentKind::Vpc { vpc, subnets })
    }

    fn vpn_attachment(&mut self, c: &Spanned<String>, tgw: Option<TransitGatewayIdx>) -> Option<TgwAttachmentKind> {
        let conn = self.resolve(c, Kind::VpnConnection).map(VpnConnectionIdx::from_index)?;
        let gateway = self.t.vpn_connection(conn).gateway;
        if let Some(tg) = tgw
            && gateway != VpnTerminal::TransitGateway(tg)
        {
            let msg = format!(
                "VPN connection `{}` does not end on `{}` (its `gateway`); attach it to the transit gateway it names",
                c.get_ref(),
                self.t.transit_gateway(tg).id
            );
            self.err(c.span(), msg);
            return None;
        }
        if self.t.tgw_attachments.iter().any(|a| a.kind == TgwAttachmentKind::Vpn(conn)) {
            self.err(c.span(), format!("VPN connection `{}` is already attached", c.get_ref()));
            return None;
        }
        Some(TgwAttachmentKind::Vpn(conn))
    }

    /// An attachment named in a table of `tgw`: it must belong to the same transit gateway.
    fn own_attachment(&mut self, a: &Spanned<String>, tgw: Option<TransitGatewayIdx>) -> Option<TgwAttachmentIdx> {
        let att = self.resolve(a, Kind::TgwAttachment).map(TgwAttachmentIdx::from_index)?;
        let owner = self.t.tgw_attachment(att).transit_gateway;
        if let Some(tg) = tgw
            && owner != tg
        {
            let msg = format!(
                "`{}` is an attachment of `{}`, not of `{}`",
                a.get_ref(),
                self.t.transit_gateway(owner).id,
                self.t.transit_gateway(tg).id
            );
            self.err(a.span(), msg);
            return None;
        }
        Some(att)
    }

    fn tgw_route_tables(&mut self, raw: &RawScenario) {
        let n = self.t.tgw_attachments.len();
        let mut associated: Vec<Option<String>> = vec![None; n];
        let mut propagates: Vec<Vec<TgwRouteTableIdx>> = vec![Vec::new(); n];
        for (i, r) in raw.tgw_route_table.iter().enumerate() {
            let table = TgwRouteTableIdx::from_index(i);
            let tgw = self.resolve(&r.transit_gateway, Kind::TransitGateway).map(TransitGatewayIdx::from_index);
            for a in &r.associations {
                let Some(att) = self.own_attachment(a, tgw) else { continue };
                if let Some(first) = &associated[att.index()] {
                    let msg = format!(
                        "`{}` is already associated with `{first}`; an attachment is associated with one route table",
                        a.get_ref()
                    );
                    self.err(a.span(), msg);
                    continue;
                }
                associated[att.index()] = Some(r.id.get_ref().clone());
                self.t.tgw_attachments[att.index()].route_table = Some(table);
            }
            for a in &r.propagations {
                let Some(att) = self.own_attachment(a, tgw) else { continue };
                if propagates[att.index()].contains(&table) {
                    self.err(a.span(), format!("`{}` is listed twice", a.get_ref()));
                    continue;
                }
                propagates[att.index()].push(table);
            }
            let mut routes: Vec<TgwRoute> = Vec::new();
            for route in &r.routes {
                let rt = route.get_ref();
                let dest = values::cidr(rt.dest.get_ref())
                    .and_then(|net| addresses::check_cidr(net, Place::RouteDest).map(|()| net));
                let Some(dest) = dest.map_err(|e| self.err(rt.dest.span(), e)).ok() else {
                    continue;
                };
                let target = match (&rt.attachment, &rt.target) {
                    (Some(a), None) => self.own_attachment(a, tgw).map(TgwRouteTarget::Attachment),
                    (None, Some(t)) if t.get_ref() == "blackhole" => Some(TgwRouteTarget::Blackhole),
                    (None, Some(t)) => {
                        let msg = format!(
                            "a TGW route's `target` can only be \"blackhole\"; write `attachment = \"{}\"` to route to an attachment",
                            t.get_ref()
                        );
                        self.err(t.span(), msg);
                        None
                    }
                    _ => {
                        self.err(
                            route.span(),
                            "a TGW route needs exactly one of `attachment = \"...\"` and `target = \"blackhole\"`",
                        );
                        None
                    }
                };
                if routes.iter().any(|x| x.dest == dest) {
                    self.err(rt.dest.span(), format!("{dest} is already routed in `{}`", r.id.get_ref()));
                    continue;
                }
                if let Some(target) = target {
                    routes.push(TgwRoute { dest, target, origin: TgwRouteOrigin::Static });
                }
            }
            self.t.tgw_route_tables.push(TgwRouteTable {
                id: r.id.get_ref().clone(),
                transit_gateway: tgw.unwrap_or(TransitGatewayIdx(0)),
                routes,
            });
        }
        // Default route tables: association and propagation for the rest.
        for (i, r) in raw.transit_gateway.iter().enumerate() {
            let tg = TransitGatewayIdx::from_index(i);
            let Some(d) = &r.default_route_table else { continue };
            let Some(table) = self.resolve(d, Kind::TgwRouteTable).map(TgwRouteTableIdx::from_index) else {
                continue;
            };
            let owner = self.t.tgw_route_table(table).transit_gateway;
            if owner != tg {
                let msg = format!(
                    "`{}` is a route table of `{}`, not of `{}`",
                    d.get_ref(),
                    self.t.transit_gateway(owner).id,
                    self.t.transit_gateway(tg).id
                );
                self.err(d.span(), msg);
                continue;
            }
            self.t.transit_gateways[i].default_route_table = Some(table);
            for (a, att) in self.t.tgw_attachments.iter_mut().enumerate() {
                if att.transit_gateway != tg {
                    continue;
                }
                if att.route_table.is_none() {
                    att.route_table = Some(table);
                }
                if propagates[a].is_empty() {
                    propagates[a].push(table);
                }
            }
        }
        // Propagated routes: for the same prefix AWS prefers a VPC's, then
        // Direct Connect's, then a VPN's; within a kind, attachment order.
        // The lookup breaks ties by position, so the routes go in that order.
        let rank = |kind: &TgwAttachmentKind| match kind {
            TgwAttachmentKind::Vpc { .. } => 0,
            TgwAttachmentKind::Vpn(c) if self.t.vpn_connection(*c).kind == VpnKind::DirectConnect => 1,
            TgwAttachmentKind::Vpn(_) => 2,
        };
        let mut order: Vec<usize> = (0..propagates.len()).collect();
        order.sort_by_key(|&a| rank(&self.t.tgw_attachments[a].kind));
        for a in order {
            let tables = &propagates[a];
            let att = TgwAttachmentIdx::from_index(a);
            let prefixes: Vec<IpNet> = match &self.t.tgw_attachment(att).kind {
                // An attachment whose VPC did not resolve holds a placeholder
                // index (its error is already reported): it propagates nothing.
                TgwAttachmentKind::Vpc { vpc, .. } => match self.t.vpcs.get(vpc.index()) {
                    Some(v) => std::iter::once(IpNet::V4(v.cidr)).chain(v.ipv6_cidr.map(IpNet::V6)).collect(),
                    None => Vec::new(),
                },
                TgwAttachmentKind::Vpn(c) => {
                    let o = self.t.vpn_connection(*c).onprem;
                    self.t.onprems.get(o.index()).map(|o| IpNet::V4(o.cidr)).into_iter().collect()
                }
            };
            for &table in tables {
                for &dest in &prefixes {
                    self.t.tgw_route_tables[table.index()].routes.push(TgwRoute {
                        dest,
                        target: TgwRouteTarget::Attachment(att),
                        origin: TgwRouteOrigin::Propagated,
                    });
                }
            }
        }
        // An on-premises network behind a transit gateway must not overlap
        // the VPCs attached to it.
        for (i, r) in raw.tgw_attachment.iter().enumerate() {
            let (Some(c), TgwAttachmentKind::Vpn(conn)) = (&r.vpn, self.t.tgw_attachments[i].kind.clone()) else {
                continue;
            };
            let o = self.t.vpn_connection(conn).onprem;
            let tg = self.t.tgw_attachments[i].transit_gateway;
            for v in self.tgw_vpcs.get(tg.index()).cloned().unwrap_or_default() {
                self.onprem_overlap(o, v, c);
            }
        }
    }

    /// A VPC route to transit gateway `i`: the VPC must be attached to it.
    pub(crate) fn tgw_route_target(&mut self, t: &Spanned<String>, vpc: VpcIdx, i: usize) -> Option<RouteTarget> {
        if !self.tgw_vpcs.get(i).is_some_and(|v| v.contains(&vpc)) {
            let msg = format!(
                "{} has no attachment to `{}`: attach it (`[[tgw_attachment]]`) before routing to it",
                self.vpc_id(vpc),
                t.get_ref()
            );
            self.err(t.span(), msg);
            return None;
        }
        Some(RouteTarget::TransitGateway(TransitGatewayIdx::from_index(i)))
    }

    /// A VPN gateway as a route target, and its VPC.
    pub(crate) fn vgw_route_target(&self, i: usize) -> (RouteTarget, Option<VpcIdx>) {
        (RouteTarget::VpnGateway(VpnGatewayIdx::from_index(i)), self.vgw_vpc.get(i).copied().flatten())
    }

    /// Private hosted zones: after the interface endpoints their aliases name.
    pub(crate) fn dns_zones(&mut self, raw: &RawScenario) {
        for r in &raw.dns_zone {
            let name = r.name.get_ref().trim_end_matches('.').to_ascii_lowercase();
            if !values::is_dns_name(&name) {
                self.err(r.name.span(), format!("`{}` is not a well-formed DNS name", r.name.get_ref()));
            }
            let mut vpcs: Vec<VpcIdx> = Vec::new();
            for v in &r.vpcs {
                let Some(vpc) = self.resolve_vpc(v) else { continue };
                if vpcs.contains(&vpc) {
                    self.err(v.span(), format!("`{}` is listed twice", v.get_ref()));
                    continue;
                }
                if let Some(other) = self.t.dns_zones.iter().find(|z| z.name == name && z.vpcs.contains(&vpc)) {
                    let msg = format!(
                        "{} is already associated with `{}`, a zone of the same name; a VPC takes one private zone per name",
                        self.vpc_id(vpc),
                        other.id
                    );
                    self.err(v.span(), msg);
                    continue;
                }
                vpcs.push(vpc);
            }
            let zone = DnsZone { id: r.id.get_ref().clone(), name, vpcs, records: Vec::new() };
            let mut records = Vec::new();
            for rec in &r.records {
                if let Some(record) = self.dns_record(rec, &zone) {
                    records.push(record);
                }
            }
            self.t.dns_zones.push(DnsZone { records, ..zone });
        }
    }

    fn dns_record(&mut self, rec: &Spanned<RawDnsRecord>, zone: &DnsZone) -> Option<DnsRecord> {
        let r = rec.get_ref();
        let name = r.name.get_ref().trim_end_matches('.').to_ascii_lowercase();
        if !values::is_dns_name(&name) {
            self.err(r.name.span(), format!("`{}` is not a well-formed DNS name", r.name.get_ref()));
            return None;
        }
        if !zone.covers(&name) {
            self.err(r.name.span(), format!("`{name}` is not inside the zone `{}`", zone.name));
            return None;
        }
        let data = match (&r.a, &r.aaaa, &r.alias) {
            (Some(list), None, None) => {
                let mut v4 = Vec::new();
                for a in list {
                    match values::ip(a.get_ref()) {
                        Ok(IpAddr::V4(ip)) => v4.push(ip),
                        Ok(IpAddr::V6(_)) => self.err(a.span(), "an `a` record holds IPv4 addresses (use `aaaa`)"),
                        Err(e) => self.err(a.span(), e),
                    }
                }
                if list.is_empty() {
                    self.err(rec.span(), "an `a` record needs at least one address");
                }
                DnsRecordData::A(v4)
            }
            (None, Some(list), None) => {
                let mut v6 = Vec::new();
                for a in list {
                    match values::ip(a.get_ref()) {
                        Ok(IpAddr::V6(ip)) => v6.push(ip),
                        Ok(IpAddr::V4(_)) => self.err(a.span(), "an `aaaa` record holds IPv6 addresses (use `a`)"),
                        Err(e) => self.err(a.span(), e),
                    }
                }
                if list.is_empty() {
                    self.err(rec.span(), "an `aaaa` record needs at least one address");
                }
                DnsRecordData::Aaaa(v6)
            }
            (None, None, Some(alias)) => {
                let ep = self.resolve(alias, Kind::InterfaceEndpoint)?;
                DnsRecordData::Alias(InterfaceEndpointIdx::from_index(ep))
            }
            _ => {
                self.err(rec.span(), "a record has exactly one of `a = [...]`, `aaaa = [...]` and `alias = \"...\"`");
                return None;
            }
        };
        Some(DnsRecord { name, data })
    }
}
