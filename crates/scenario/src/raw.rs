//! The syntax phase: the scenario file as TOML shapes, before any name is
//! resolved. Unknown fields are rejected here; values whose errors must be
//! located later are kept `Spanned`.

use serde::Deserialize;
use toml::{Spanned, Table, Value};

type S<T> = Spanned<T>;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawScenario {
    pub name: Option<S<String>>,
    pub description: Option<String>,
    pub seed: Option<u64>,
    pub hop_latency: Option<S<String>>,
    #[serde(default)]
    pub vpc: Vec<RawVpc>,
    #[serde(default)]
    pub subnet: Vec<RawSubnet>,
    #[serde(default)]
    pub route_table: Vec<RawRouteTable>,
    #[serde(default)]
    pub prefix_list: Vec<RawPrefixList>,
    #[serde(default)]
    pub internet_gateway: Vec<RawInternetGateway>,
    #[serde(default)]
    pub security_group: Vec<RawSecurityGroup>,
    #[serde(default)]
    pub nacl: Vec<RawNacl>,
    #[serde(default)]
    pub host: Vec<RawHost>,
    #[serde(default)]
    pub flow: Vec<S<RawFlow>>,
    #[serde(default)]
    pub expect: Vec<S<RawExpect>>,

    // Tables of the contract this version does not simulate yet: accepted as
    // plain tables so that each gets a located "not supported yet" error.
    #[serde(default)]
    pub gateway_endpoint: Vec<RawGatewayEndpoint>,
    #[serde(default)]
    pub interface_endpoint: Vec<RawInterfaceEndpoint>,
    #[serde(default)]
    pub load_balancer: Vec<RawLoadBalancer>,
    #[serde(default)]
    pub endpoint_service: Vec<RawEndpointService>,
    #[serde(default)]
    pub event: Vec<RawEvent>,
    #[serde(default)]
    pub nat_gateway: Vec<RawNatGateway>,
    #[serde(default)]
    pub egress_only_internet_gateway: Vec<RawEgressOnlyIgw>,
    #[serde(default)]
    pub vpc_peering: Vec<RawVpcPeering>,
    #[serde(default)]
    pub transit_gateway: Vec<RawTransitGateway>,
    #[serde(default)]
    pub tgw_attachment: Vec<RawTgwAttachment>,
    #[serde(default)]
    pub tgw_route_table: Vec<RawTgwRouteTable>,
    #[serde(default)]
    pub onprem: Vec<RawOnPrem>,
    #[serde(default)]
    pub vpn_gateway: Vec<RawVpnGateway>,
    #[serde(default)]
    pub vpn_connection: Vec<RawVpnConnection>,
    #[serde(default)]
    pub dns_zone: Vec<RawDnsZone>,
}

impl RawScenario {
    /// The tables not simulated yet, with their table names (none today).
    pub(crate) fn unsupported(&self) -> [(&'static str, &[S<Table>]); 0] {
        []
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawGatewayEndpoint {
    pub id: S<String>,
    pub vpc: S<String>,
    pub service: S<String>,
    #[serde(default)]
    pub route_tables: Vec<S<String>>,
    /// An IAM policy document: inline JSON, or the path of a file holding one.
    pub policy: Option<S<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawLoadBalancer {
    pub id: S<String>,
    #[serde(rename = "type")]
    pub kind: Option<S<String>>,
    #[serde(default)]
    pub subnets: Vec<S<String>>,
    pub cross_zone: Option<bool>,
    #[serde(default)]
    pub listeners: Vec<S<RawListener>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawNatGateway {
    pub id: S<String>,
    pub subnet: S<String>,
    pub ip: Option<S<String>>,
    pub public_ip: Option<S<String>>,
    /// "public" (the default) or "private" (vpcsim documents it as an extension).
    pub connectivity: Option<S<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawListener {
    pub proto: Option<S<String>>,
    pub port: Option<S<i64>>,
    #[serde(default)]
    pub targets: Vec<S<String>>,
    pub target_port: Option<S<i64>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawEndpointService {
    pub id: S<String>,
    pub load_balancer: S<String>,
    pub acceptance_required: Option<bool>,
    #[serde(default)]
    pub allowed_principals: Vec<S<String>>,
    pub private_dns_name: Option<S<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawEvent {
    pub at: S<String>,
    pub action: S<String>,
    pub endpoint: Option<S<String>>,
    pub target: Option<S<String>>,
    pub service: Option<S<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawInterfaceEndpoint {
    pub id: S<String>,
    pub vpc: S<String>,
    pub service: S<String>,
    #[serde(default)]
    pub subnets: Vec<S<String>>,
    pub security_groups: Option<Vec<S<String>>>,
    pub private_dns: Option<S<bool>>,
    pub principal: Option<S<String>>,
    pub policy: Option<S<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawEgressOnlyIgw {
    pub id: S<String>,
    pub vpc: S<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawVpcPeering {
    pub id: S<String>,
    pub requester: S<String>,
    pub accepter: S<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawVpc {
    pub id: S<String>,
    pub cidr: S<String>,
    pub ipv6_cidr: Option<S<String>>,
    pub region: Option<S<String>>,
    pub account: Option<S<String>>,
    pub private_dns: Option<bool>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawSubnet {
    pub id: S<String>,
    pub vpc: S<String>,
    pub cidr: S<String>,
    pub ipv6_cidr: Option<S<String>>,
    pub az: Option<S<String>>,
    pub route_table: Option<S<String>>,
    pub nacl: Option<S<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawRouteTable {
    pub id: S<String>,
    pub vpc: S<String>,
    pub main: Option<S<bool>>,
    #[serde(default)]
    pub routes: Vec<RawRoute>,
    /// Internet or VPN gateways whose inbound traffic this table routes
    /// (AWS's edge associations: a gateway route table).
    #[serde(default)]
    pub edge_associations: Vec<S<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawRoute {
    pub dest: S<String>,
    pub target: S<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawPrefixList {
    pub id: S<String>,
    pub entries: Vec<S<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawInternetGateway {
    pub id: S<String>,
    pub vpc: S<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawSecurityGroup {
    pub id: S<String>,
    pub vpc: S<String>,
    pub ingress: Option<Vec<S<RawSgRule>>>,
    pub egress: Option<Vec<S<RawSgRule>>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawSgRule {
    pub proto: S<Value>,
    pub ports: Option<S<Value>>,
    pub cidr: Option<S<String>>,
    pub sg: Option<S<String>>,
    pub prefix_list: Option<S<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawNacl {
    pub id: S<String>,
    pub vpc: S<String>,
    #[serde(default)]
    pub ingress: Vec<S<RawNaclRule>>,
    #[serde(default)]
    pub egress: Vec<S<RawNaclRule>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawNaclRule {
    pub rule: S<i64>,
    pub action: S<String>,
    pub proto: S<Value>,
    pub ports: Option<S<Value>>,
    pub cidr: Option<S<String>>,
    // Accepted only to say clearly that NACL rules take CIDRs only.
    pub sg: Option<S<Value>>,
    pub prefix_list: Option<S<Value>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawHost {
    pub id: S<String>,
    pub subnet: Option<S<String>>,
    pub internet: Option<S<bool>>,
    pub onprem: Option<S<String>>,
    pub ip: Option<S<String>>,
    pub ipv6: Option<S<String>>,
    pub public_ip: Option<S<String>>,
    pub security_groups: Option<S<Vec<S<String>>>>,
    #[serde(default)]
    pub listen: Vec<S<String>>,
    pub source_dest_check: Option<S<bool>>,
    pub mtu: Option<S<i64>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawExpect {
    pub name: Option<String>,
    pub from: S<String>,
    pub to: S<String>,
    pub proto: S<String>,
    pub port: Option<S<i64>>,
    pub at: Option<S<String>>,
    pub timeout: Option<S<String>>,
    pub request: Option<S<RawRequest>>,
    pub result: S<String>,
    #[serde(default)]
    pub via: Vec<S<String>>,
    pub drop_reason: Option<S<String>>,
    pub drop_at: Option<S<String>>,
    pub on: Option<S<String>>,
    pub seen_source: Option<S<String>>,
    pub size: Option<S<i64>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawRequest {
    pub action: String,
    pub resource: String,
    pub principal: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawFlow {
    pub from: S<String>,
    pub to: S<String>,
    pub proto: S<String>,
    pub port: Option<S<i64>>,
    pub start: Option<S<String>>,
    pub requests: Option<S<i64>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawTransitGateway {
    pub id: S<String>,
    pub default_route_table: Option<S<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawTgwAttachment {
    pub id: S<String>,
    pub transit_gateway: S<String>,
    pub vpc: Option<S<String>>,
    pub vpn: Option<S<String>>,
    pub subnets: Option<S<Vec<S<String>>>>,
    pub appliance_mode: Option<S<bool>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawTgwRouteTable {
    pub id: S<String>,
    pub transit_gateway: S<String>,
    #[serde(default)]
    pub associations: Vec<S<String>>,
    #[serde(default)]
    pub propagations: Vec<S<String>>,
    #[serde(default)]
    pub routes: Vec<S<RawTgwRoute>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawTgwRoute {
    pub dest: S<String>,
    pub attachment: Option<S<String>>,
    pub target: Option<S<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawOnPrem {
    pub id: S<String>,
    pub cidr: S<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawVpnGateway {
    pub id: S<String>,
    pub vpc: S<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawVpnConnection {
    pub id: S<String>,
    pub onprem: S<String>,
    pub gateway: S<String>,
    #[serde(rename = "type")]
    pub kind: Option<S<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawDnsZone {
    pub id: S<String>,
    pub name: S<String>,
    #[serde(default)]
    pub vpcs: Vec<S<String>>,
    #[serde(default)]
    pub records: Vec<S<RawDnsRecord>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawDnsRecord {
    pub name: S<String>,
    pub a: Option<Vec<S<String>>>,
    pub aaaa: Option<Vec<S<String>>>,
    pub alias: Option<S<String>>,
}
