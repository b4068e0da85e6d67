//! The JSON the AWS CLI prints for `aws ec2 describe-… --output json`, as far
//! as the importer reads it. Every field is optional: a real export is
//! partial, and what is missing becomes a warning, never a panic. Unknown
//! fields are ignored (the CLI adds fields over time).

use serde::Deserialize;

/// One file: the top-level keys the importer knows. Which of them is present
/// says what kind of file it is, whatever its name.
#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct AwsFile {
    pub(crate) vpcs: Option<Vec<Vpc>>,
    pub(crate) subnets: Option<Vec<Subnet>>,
    pub(crate) route_tables: Option<Vec<RouteTable>>,
    pub(crate) security_groups: Option<Vec<SecurityGroup>>,
    pub(crate) network_acls: Option<Vec<NetworkAcl>>,
    pub(crate) internet_gateways: Option<Vec<InternetGateway>>,
    pub(crate) reservations: Option<Vec<Reservation>>,
}

/// The top-level keys [`AwsFile`] reads.
pub(crate) const KNOWN_KEYS: [&str; 7] =
    ["Vpcs", "Subnets", "RouteTables", "SecurityGroups", "NetworkAcls", "InternetGateways", "Reservations"];

/// Keys the AWS CLI prints that paginate or describe the call, not resources.
pub(crate) const IGNORED_KEYS: [&str; 1] = ["NextToken"];

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase", default)]
pub(crate) struct State {
    pub(crate) state: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase", default)]
pub(crate) struct Vpc {
    pub(crate) vpc_id: Option<String>,
    pub(crate) cidr_block: Option<String>,
    pub(crate) owner_id: Option<String>,
    pub(crate) cidr_block_association_set: Vec<CidrAssociation>,
    pub(crate) ipv6_cidr_block_association_set: Vec<Ipv6CidrAssociation>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase", default)]
pub(crate) struct CidrAssociation {
    pub(crate) cidr_block: Option<String>,
    pub(crate) cidr_block_state: Option<State>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase", default)]
pub(crate) struct Ipv6CidrAssociation {
    pub(crate) ipv6_cidr_block: Option<String>,
    pub(crate) ipv6_cidr_block_state: Option<State>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase", default)]
pub(crate) struct Subnet {
    pub(crate) subnet_id: Option<String>,
    pub(crate) vpc_id: Option<String>,
    pub(crate) cidr_block: Option<String>,
    pub(crate) availability_zone: Option<String>,
    pub(crate) ipv6_cidr_block_association_set: Vec<Ipv6CidrAssociation>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase", default)]
pub(crate) struct RouteTable {
    pub(crate) route_table_id: Option<String>,
    pub(crate) vpc_id: Option<String>,
    pub(crate) routes: Vec<Route>,
    pub(crate) associations: Vec<RouteTableAssociation>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase", default)]
pub(crate) struct Route {
    pub(crate) destination_cidr_block: Option<String>,
    pub(crate) destination_ipv6_cidr_block: Option<String>,
    pub(crate) destination_prefix_list_id: Option<String>,
    pub(crate) gateway_id: Option<String>,
    pub(crate) nat_gateway_id: Option<String>,
    pub(crate) transit_gateway_id: Option<String>,
    pub(crate) vpc_peering_connection_id: Option<String>,
    pub(crate) network_interface_id: Option<String>,
    pub(crate) instance_id: Option<String>,
    pub(crate) egress_only_internet_gateway_id: Option<String>,
    pub(crate) carrier_gateway_id: Option<String>,
    pub(crate) local_gateway_id: Option<String>,
    pub(crate) core_network_arn: Option<String>,
    pub(crate) state: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase", default)]
pub(crate) struct RouteTableAssociation {
    pub(crate) main: Option<bool>,
    pub(crate) subnet_id: Option<String>,
    pub(crate) gateway_id: Option<String>,
    pub(crate) association_state: Option<State>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase", default)]
pub(crate) struct SecurityGroup {
    pub(crate) group_id: Option<String>,
    pub(crate) vpc_id: Option<String>,
    pub(crate) ip_permissions: Vec<IpPermission>,
    pub(crate) ip_permissions_egress: Vec<IpPermission>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase", default)]
pub(crate) struct IpPermission {
    pub(crate) ip_protocol: Option<String>,
    pub(crate) from_port: Option<i64>,
    pub(crate) to_port: Option<i64>,
    pub(crate) ip_ranges: Vec<IpRange>,
    pub(crate) ipv6_ranges: Vec<Ipv6Range>,
    pub(crate) prefix_list_ids: Vec<PrefixListId>,
    pub(crate) user_id_group_pairs: Vec<UserIdGroupPair>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase", default)]
pub(crate) struct IpRange {
    pub(crate) cidr_ip: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase", default)]
pub(crate) struct Ipv6Range {
    pub(crate) cidr_ipv6: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase", default)]
pub(crate) struct PrefixListId {
    pub(crate) prefix_list_id: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase", default)]
pub(crate) struct UserIdGroupPair {
    pub(crate) group_id: Option<String>,
    pub(crate) vpc_peering_connection_id: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase", default)]
pub(crate) struct NetworkAcl {
    pub(crate) network_acl_id: Option<String>,
    pub(crate) vpc_id: Option<String>,
    pub(crate) entries: Vec<NaclEntry>,
    pub(crate) associations: Vec<NaclAssociation>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase", default)]
pub(crate) struct NaclEntry {
    pub(crate) rule_number: Option<i64>,
    pub(crate) protocol: Option<String>,
    pub(crate) rule_action: Option<String>,
    pub(crate) egress: Option<bool>,
    pub(crate) cidr_block: Option<String>,
    pub(crate) ipv6_cidr_block: Option<String>,
    pub(crate) port_range: Option<PortRange>,
    pub(crate) icmp_type_code: Option<IcmpTypeCode>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase", default)]
pub(crate) struct PortRange {
    pub(crate) from: Option<i64>,
    pub(crate) to: Option<i64>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase", default)]
pub(crate) struct IcmpTypeCode {
    pub(crate) code: Option<i64>,
    #[serde(rename = "Type")]
    pub(crate) kind: Option<i64>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase", default)]
pub(crate) struct NaclAssociation {
    pub(crate) subnet_id: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase", default)]
pub(crate) struct InternetGateway {
    pub(crate) internet_gateway_id: Option<String>,
    pub(crate) attachments: Vec<IgwAttachment>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase", default)]
pub(crate) struct IgwAttachment {
    pub(crate) state: Option<String>,
    pub(crate) vpc_id: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase", default)]
pub(crate) struct Reservation {
    pub(crate) instances: Vec<Instance>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase", default)]
pub(crate) struct Instance {
    pub(crate) instance_id: Option<String>,
    pub(crate) subnet_id: Option<String>,
    pub(crate) private_ip_address: Option<String>,
    pub(crate) public_ip_address: Option<String>,
    pub(crate) ipv6_address: Option<String>,
    pub(crate) security_groups: Vec<GroupRef>,
    pub(crate) source_dest_check: Option<bool>,
    pub(crate) state: Option<InstanceState>,
    pub(crate) network_interfaces: Vec<NetworkInterface>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase", default)]
pub(crate) struct GroupRef {
    pub(crate) group_id: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase", default)]
pub(crate) struct InstanceState {
    pub(crate) name: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase", default)]
pub(crate) struct NetworkInterface {
    pub(crate) network_interface_id: Option<String>,
    pub(crate) private_ip_addresses: Vec<serde::de::IgnoredAny>,
    pub(crate) attachment: Option<EniAttachment>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase", default)]
pub(crate) struct EniAttachment {
    pub(crate) device_index: Option<i64>,
}
