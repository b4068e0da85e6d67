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

/// A transit gateway: a regional router between the VPCs and VPN
/// connections attached to it, each attachment routed by its associated TGW
/// route table.
#[derive(Clone, Debug)]
pub struct TransitGateway {
    /// The id the scenario gives, unique in the file; AWS's form is tgw-…
    /// but any text is accepted.
    pub id: String,
    /// Associated with, and propagated to by, attachments that name no table.
    pub default_route_table: Option<TgwRouteTableIdx>,
}

/// What a transit gateway attachment connects.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TgwAttachmentKind {
    /// A VPC, through one subnet per AZ (in the order given).
    Vpc {
        /// The attached VPC; attached at most once per transit gateway.
        vpc: VpcIdx,
        /// The attachment subnets, one per AZ, all of `vpc`: the transit
        /// gateway's ENIs sit in them.
        subnets: Vec<SubnetIdx>,
    },
    /// A VPN (or Direct Connect) connection to an on-premises network.
    Vpn(VpnConnectionIdx),
}

/// A transit gateway attachment: how a VPC or a VPN connection is plugged
/// into a transit gateway.
#[derive(Clone, Debug)]
pub struct TgwAttachment {
    /// The id the scenario gives, unique in the file; AWS's form is
    /// tgw-attach-… but any text is accepted.
    pub id: String,
    /// The transit gateway it attaches to.
    pub transit_gateway: TransitGatewayIdx,
    /// What it attaches: a VPC (through its subnets) or a VPN connection.
    pub kind: TgwAttachmentKind,
    /// Appliance mode: the transit gateway picks one AZ of this VPC per flow
    /// (by a hash that is the same both ways), for both directions.
    pub appliance_mode: bool,
    /// The TGW route table associated with it (the one whose `associations`
    /// list it, else the transit gateway's default): it routes what enters
    /// here. `None`: what enters is dropped, `no-route`.
    pub route_table: Option<TgwRouteTableIdx>,
}

/// Where a transit gateway route sends traffic.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TgwRouteTarget {
    /// Out through this attachment (of the same transit gateway): into its
    /// VPC, or over its VPN connection.
    Attachment(TgwAttachmentIdx),
    /// `target = "blackhole"`: dropped on purpose, `blackhole` at the table.
    Blackhole,
}

/// How a transit gateway route came to be: static beats propagated for the
/// same prefix.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum TgwRouteOrigin {
    /// Written in the table's `routes`; a prefix appears once per table.
    Static,
    /// Propagated by an attachment: a VPC's CIDRs, a VPN's on-premises CIDR.
    Propagated,
}

/// A route of a transit gateway route table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TgwRoute {
    /// The destination CIDR (IPv4 or IPv6), matched by longest prefix.
    pub dest: IpNet,
    /// Where matching traffic goes.
    pub target: TgwRouteTarget,
    /// Static or propagated: static wins for the same prefix.
    pub origin: TgwRouteOrigin,
}

/// A transit gateway route table: routes what enters through the attachments
/// associated with it.
#[derive(Clone, Debug)]
pub struct TgwRouteTable {
    /// The id the scenario gives, unique in the file; AWS's form is
    /// tgw-rtb-… but any text is accepted.
    pub id: String,
    /// The transit gateway it belongs to; its attachments are that gateway's.
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
    /// The id the scenario gives, unique in the file; any text is accepted
    /// (`drop_at` names it for what its router drops).
    pub id: String,
    /// Its one IPv4 network (/8 to /28), an address space of its own: it
    /// must not overlap a VPC it connects to.
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
    /// The id the scenario gives, unique in the file; AWS's form is vgw-…
    /// but any text is accepted.
    pub id: String,
    /// The VPC it is attached to; a VPC has at most one.
    pub vpc: VpcIdx,
    /// The gateway route table (edge association) that routes what enters
    /// the VPC through this gateway; `None`: the local route delivers it.
    pub route_table: Option<crate::RouteTableIdx>,
}

/// What a VPN connection ends on, on the AWS side.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VpnTerminal {
    /// A virtual private gateway, into its one VPC.
    VpnGateway(VpnGatewayIdx),
    /// Through the transit gateway attachment that names the connection.
    TransitGateway(TransitGatewayIdx),
}

/// What carries a connection to on-premises: for the same prefix AWS
/// prefers Direct Connect to a VPN.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VpnKind {
    /// `type = "vpn"` (the default): a Site-to-Site VPN connection.
    Vpn,
    /// `type = "direct-connect"`: a Direct Connect connection (MTU 1500,
    /// vpcsim's default for a virtual interface; BGP is not simulated).
    DirectConnect,
}

/// A VPN (or Direct Connect) connection between an on-premises network and
/// a VPN gateway or a transit gateway.
#[derive(Clone, Debug)]
pub struct VpnConnection {
    /// The id the scenario gives, unique in the file; AWS's form is vpn-…
    /// but any text is accepted.
    pub id: String,
    /// The on-premises network on the far side.
    pub onprem: OnPremIdx,
    /// What it ends on, on the AWS side (the file's `gateway`).
    pub gateway: VpnTerminal,
    /// A VPN or Direct Connect.
    pub kind: VpnKind,
}

/// What a record of a private hosted zone answers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DnsRecordData {
    /// `a = [...]`: the IPv4 addresses it answers.
    A(Vec<Ipv4Addr>),
    /// `aaaa = [...]`: the IPv6 addresses it answers.
    Aaaa(Vec<Ipv6Addr>),
    /// An alias to an interface endpoint: its ENIs' addresses.
    Alias(InterfaceEndpointIdx),
}

/// A record of a private hosted zone: one name and what it answers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DnsRecord {
    /// Lowercase, no trailing dot, inside the zone.
    pub name: String,
    /// The addresses (or endpoint alias) it answers with.
    pub data: DnsRecordData,
}

/// A private hosted zone, associated with VPCs: their resolver answers names
/// of the zone from its records (and NXDOMAIN for the zone's other names).
#[derive(Clone, Debug)]
pub struct DnsZone {
    /// The id the scenario gives, unique in the file; any text is accepted.
    pub id: String,
    /// The zone's domain name. Lowercase, no trailing dot.
    pub name: String,
    /// The VPCs it is associated with: only their resolvers answer from it
    /// (a VPC takes one zone per name).
    pub vpcs: Vec<VpcIdx>,
    /// Its records, each a name at or below the zone's name.
    pub records: Vec<DnsRecord>,
}

impl DnsZone {
    /// Whether `name` is the zone's apex or below it.
    pub fn covers(&self, name: &str) -> bool {
        name == self.name || name.strip_suffix(self.name.as_str()).is_some_and(|p| p.ends_with('.'))
    }
}

impl Topology {
    /// The transit gateway at index `i` (panics if out of range; a valid
    /// topology's indices never are).
    pub fn transit_gateway(&self, i: TransitGatewayIdx) -> &TransitGateway {
        &self.transit_gateways[i.index()]
    }
    /// The transit gateway attachment at index `i`.
    pub fn tgw_attachment(&self, i: TgwAttachmentIdx) -> &TgwAttachment {
        &self.tgw_attachments[i.index()]
    }
    /// The transit gateway route table at index `i`.
    pub fn tgw_route_table(&self, i: TgwRouteTableIdx) -> &TgwRouteTable {
        &self.tgw_route_tables[i.index()]
    }
    /// The on-premises network at index `i`.
    pub fn onprem(&self, i: OnPremIdx) -> &OnPrem {
        &self.onprems[i.index()]
    }
    /// The virtual private gateway at index `i`.
    pub fn vpn_gateway(&self, i: VpnGatewayIdx) -> &VpnGateway {
        &self.vpn_gateways[i.index()]
    }
    /// The VPN (or Direct Connect) connection at index `i`.
    pub fn vpn_connection(&self, i: VpnConnectionIdx) -> &VpnConnection {
        &self.vpn_connections[i.index()]
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
