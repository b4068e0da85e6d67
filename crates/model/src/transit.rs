//! Beyond one VPC, part two: transit gateways, on-premises networks behind
//! VPN gateways or transit gateways, and private hosted zones.
//!
//! A transit gateway is a regional router: each attachment (a VPC through
//! one subnet per AZ, or a VPN connection) is associated with one TGW route
//! table, which decides where traffic entering through that attachment goes,
//! and may propagate its CIDRs into any number of tables. The routes of a
//! [`TgwRouteTable`] hold both the static routes of the file and the
//! propagated ones, resolved by the scenario loader.

use std::net::{Ipv4Addr, Ipv6Addr};

use ipnet::{IpNet, Ipv4Net};

use crate::{InterfaceEndpointIdx, SubnetIdx, Topology, VpcIdx};

index_type! {
    /// A transit gateway.
    TransitGatewayIdx;
    /// A transit gateway attachment (a VPC or a VPN connection).
    TgwAttachmentIdx;
    /// A transit gateway route table.
    TgwRouteTableIdx;
    /// An on-premises network.
    OnPremIdx;
    /// A virtual private gateway (VPN gateway) attached to a VPC.
    VpnGatewayIdx;
    /// A VPN or Direct Connect connection between an on-premises network and
    /// a VPN gateway or a transit gateway.
    VpnConnectionIdx;
    /// A private hosted zone.
    DnsZoneIdx;
}

/// The IP MTU through a transit gateway (AWS: 8500 bytes).
pub const TRANSIT_GATEWAY_MTU: u16 = 8500;
/// The IP MTU over a VPN connection (and vpcsim's Direct Connect default).
pub const VPN_MTU: u16 = 1500;

#[derive(Clone, Debug)]
pub struct TransitGateway {
    pub id: String,
    /// Associated with, and propagated to by, attachments that name no table.
    pub default_route_table: Option<TgwRouteTableIdx>,
}

/// What a transit gateway attachment connects.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TgwAttachmentKind {
    /// A VPC, through one subnet per AZ (in the order given).
    Vpc { vpc: VpcIdx, subnets: Vec<SubnetIdx> },
    /// A VPN (or Direct Connect) connection to an on-premises network.
    Vpn(VpnConnectionIdx),
}

#[derive(Clone, Debug)]
pub struct TgwAttachment {
    pub id: String,
    pub transit_gateway: TransitGatewayIdx,
    pub kind: TgwAttachmentKind,
    /// Appliance mode: the transit gateway picks one AZ of this VPC per flow
    /// (by a hash that is the same both ways), for both directions.
    pub appliance_mode: bool,
    /// The route table associated with it: it routes what enters here.
    pub route_table: Option<TgwRouteTableIdx>,
}

/// Where a transit gateway route sends traffic.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TgwRouteTarget {
    Attachment(TgwAttachmentIdx),
    Blackhole,
}

/// How a transit gateway route came to be: static beats propagated for the
/// same prefix.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum TgwRouteOrigin {
    Static,
    /// Propagated by an attachment: a VPC's CIDRs, a VPN's on-premises CIDR.
    Propagated,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TgwRoute {
    pub dest: IpNet,
    pub target: TgwRouteTarget,
    pub origin: TgwRouteOrigin,
}

#[derive(Clone, Debug)]
pub struct TgwRouteTable {
    pub id: String,
    pub transit_gateway: TransitGatewayIdx,
    /// Static routes in file order, then propagated routes: VPC attachments',
    /// Direct Connect's, VPN's (AWS's preference for the same prefix), each
    /// kind in attachment order.
    pub routes: Vec<TgwRoute>,
}

/// An on-premises network: an address space of its own, with hosts and a
/// router (at the CIDR's base + 1) that sends over its connections the
/// traffic for what they advertise.
#[derive(Clone, Debug)]
pub struct OnPrem {
    pub id: String,
    pub cidr: Ipv4Net,
    /// The MAC of its router, as its hosts see it.
    pub router_mac: [u8; 6],
}

impl OnPrem {
    /// The on-premises router's address (and DNS server): base + 1.
    pub fn router_ip(&self) -> Ipv4Addr {
        crate::nth_v4(self.cidr, 1)
    }
}

/// A virtual private gateway, attached to one VPC.
#[derive(Clone, Debug)]
pub struct VpnGateway {
    pub id: String,
    pub vpc: VpcIdx,
    /// The gateway route table (edge association) that routes what enters
    /// the VPC through this gateway; `None`: the local route delivers it.
    pub route_table: Option<crate::RouteTableIdx>,
}

/// What a VPN connection ends on, on the AWS side.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VpnTerminal {
    VpnGateway(VpnGatewayIdx),
    /// Through the transit gateway attachment that names the connection.
    TransitGateway(TransitGatewayIdx),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VpnKind {
    Vpn,
    DirectConnect,
}

#[derive(Clone, Debug)]
pub struct VpnConnection {
    pub id: String,
    pub onprem: OnPremIdx,
    pub gateway: VpnTerminal,
    pub kind: VpnKind,
}

/// What a record of a private hosted zone answers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DnsRecordData {
    A(Vec<Ipv4Addr>),
    Aaaa(Vec<Ipv6Addr>),
    /// An alias to an interface endpoint: its ENIs' addresses.
    Alias(InterfaceEndpointIdx),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DnsRecord {
    /// Lowercase, no trailing dot, inside the zone.
    pub name: String,
    pub data: DnsRecordData,
}

/// A private hosted zone, associated with VPCs: their resolver answers names
/// of the zone from its records (and NXDOMAIN for the zone's other names).
#[derive(Clone, Debug)]
pub struct DnsZone {
    pub id: String,
    /// Lowercase, no trailing dot.
    pub name: String,
    pub vpcs: Vec<VpcIdx>,
    pub records: Vec<DnsRecord>,
}

impl DnsZone {
    /// Whether `name` is the zone's apex or below it.
    pub fn covers(&self, name: &str) -> bool {
        name == self.name || name.strip_suffix(self.name.as_str()).is_some_and(|p| p.ends_with('.'))
    }
}

impl Topology {
    pub fn transit_gateway(&self, i: TransitGatewayIdx) -> &TransitGateway {
        &self.transit_gateways[i.index()]
    }
    pub fn tgw_attachment(&self, i: TgwAttachmentIdx) -> &TgwAttachment {
        &self.tgw_attachments[i.index()]
    }
    pub fn tgw_route_table(&self, i: TgwRouteTableIdx) -> &TgwRouteTable {
        &self.tgw_route_tables[i.index()]
    }
    pub fn onprem(&self, i: OnPremIdx) -> &OnPrem {
        &self.onprems[i.index()]
    }
    pub fn vpn_gateway(&self, i: VpnGatewayIdx) -> &VpnGateway {
        &self.vpn_gateways[i.index()]
    }
    pub fn vpn_connection(&self, i: VpnConnectionIdx) -> &VpnConnection {
        &self.vpn_connections[i.index()]
    }

    /// The VPC attachment of `vpc` to transit gateway `tgw`, if any.
    pub fn tgw_vpc_attachment(&self, tgw: TransitGatewayIdx, vpc: VpcIdx) -> Option<TgwAttachmentIdx> {
        self.tgw_attachments
            .iter()
            .position(|a| {
                a.transit_gateway == tgw && matches!(&a.kind, TgwAttachmentKind::Vpc { vpc: v, .. } if *v == vpc)
            })
            .map(TgwAttachmentIdx::from_index)
    }

    /// The transit gateway attachment of a VPN connection, if any.
    pub fn tgw_vpn_attachment(&self, vpn: VpnConnectionIdx) -> Option<TgwAttachmentIdx> {
        self.tgw_attachments
            .iter()
            .position(|a| a.kind == TgwAttachmentKind::Vpn(vpn))
            .map(TgwAttachmentIdx::from_index)
    }
}

/// The MAC address of the `i`th on-premises network's router.
pub fn onprem_router_mac(i: OnPremIdx) -> [u8; 6] {
    let b = i.0.to_be_bytes();
    [0x02, 0x03, b[0], b[1], b[2], b[3]]
}
