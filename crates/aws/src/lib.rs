//! The AWS services built into vpcsim, per region: their names, DNS names,
//! public address ranges, the endpoint kinds they support, and the
//! AWS-managed prefix lists of the gateway-endpoint services (`pl-s3`,
//! `pl-dynamodb`).
//!
//! Pure data and lookups: no I/O, no clock, nothing random. The data is one
//! table (`table.rs`, one row per service and region), parsed once on first
//! use. Rows are never repeated for a (service, region), and no two rows'
//! ranges overlap, in one region or across regions: an address belongs to at
//! most one service of one region ([`owner_of`]).
//!
//! # Where the data comes from
//!
//! - S3 in us-east-1 is fixed by the scenario contract
//!   (`/work/shared/spec/scenario-format.md`, "Endpoints and PrivateLink"):
//!   AWS's prefix list pl-63a5400a, 54.231.0.0/17, 52.216.0.0/15, 3.5.16.0/21
//!   and 3.5.0.0/20.
//! - The other `s3` and `dynamodb` ranges are AWS's published ranges for that
//!   service and region: the `"service": "S3"` and `"service": "DYNAMODB"`
//!   prefixes of <https://ip-ranges.amazonaws.com/ip-ranges.json>, from the
//!   copy kept in the GitHub repository `seligman/aws-ip-ranges`
//!   (`ip-ranges.json`, commit `000baefa`, prefixes of about 2022). IPv4 only:
//!   vpcsim has no IPv6 ranges for services yet.
//! - The `pl-` ids of S3 and DynamoDB are AWS's real ids where known, from the
//!   output of `aws ec2 describe-prefix-lists` in 15 regions published in the
//!   GitHub repository `sharadchhetri/aws` (README.md, about 2018). Ids of the
//!   form `pl-000000000000000NN` are placeholders.
//! - Interface-endpoint services (kms, sqs, sts, ec2, ssm, secretsmanager,
//!   logs, ecr.api, ecr.dkr) have no ranges of their own in `ip-ranges.json`;
//!   AWS lists their front doors under `AMAZON`. Each gets its own `AMAZON`
//!   prefix of its region from the same file (or a part of one): real AWS
//!   space, but which service gets which prefix is vpcsim's choice.
//!
//! A region vpcsim knows the name of ([`is_region`]) may have no data yet:
//! [`service`] then answers `None`, and the caller says "service X is not
//! available in region Y in vpcsim yet". Add rows to `table.rs` to fix that.

mod table;

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::OnceLock;

use ipnet::IpNet;

/// How a VPC reaches a service privately.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum EndpointKind {
    /// A gateway endpoint: a route to the service's managed prefix list.
    Gateway,
    /// An interface endpoint (PrivateLink): ENIs in the VPC's subnets.
    Interface,
}

/// One AWS service in one region.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Service {
    /// The short name: `s3`, `kms`, `ecr.api`.
    pub name: &'static str,
    /// The AWS Region the service is in, such as `us-east-1`.
    pub region: String,
    /// The endpoint kinds the service supports, gateway first when it has one.
    pub endpoint_kinds: &'static [EndpointKind],
    /// The service's public DNS name in the region: `s3.us-east-1.amazonaws.com`.
    pub dns_name: String,
    /// The service's public ranges (IPv4).
    pub ranges: Vec<IpNet>,
    /// Two or three public addresses inside `ranges`: the service's front
    /// doors, what its public DNS name answers.
    pub addresses: Vec<IpAddr>,
    /// The managed prefix list of a gateway-endpoint service (s3, dynamodb).
    pub prefix_list: Option<ManagedPrefixList>,
}

/// An AWS-managed prefix list of one region.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ManagedPrefixList {
    /// The name scenarios use, the same in every region: `pl-s3`, `pl-dynamodb`.
    pub name: &'static str,
    /// The service whose ranges the list holds: `s3`, `dynamodb`.
    pub service: &'static str,
    /// AWS's id of the list in the region (`pl-63a5400a` for S3 in us-east-1);
    /// `pl-000000000000000NN` when the real id is not known.
    pub aws_id: &'static str,
    /// The service's public ranges in the region.
    pub entries: Vec<IpNet>,
}

const GATEWAY_AND_INTERFACE: &[EndpointKind] = &[EndpointKind::Gateway, EndpointKind::Interface];
const INTERFACE: &[EndpointKind] = &[EndpointKind::Interface];

/// The services vpcsim knows: short name, endpoint kinds, public DNS name
/// (`{region}` is replaced by the region).
const SERVICES: &[(&str, &[EndpointKind], &str)] = &[
    // S3 supports interface endpoints too; DynamoDB since 2024.
    ("s3", GATEWAY_AND_INTERFACE, "s3.{region}.amazonaws.com"),
    ("dynamodb", GATEWAY_AND_INTERFACE, "dynamodb.{region}.amazonaws.com"),
    ("kms", INTERFACE, "kms.{region}.amazonaws.com"),
    ("sqs", INTERFACE, "sqs.{region}.amazonaws.com"),
    ("sts", INTERFACE, "sts.{region}.amazonaws.com"),
    ("ec2", INTERFACE, "ec2.{region}.amazonaws.com"),
    ("ssm", INTERFACE, "ssm.{region}.amazonaws.com"),
    ("secretsmanager", INTERFACE, "secretsmanager.{region}.amazonaws.com"),
    ("logs", INTERFACE, "logs.{region}.amazonaws.com"),
    // ECR's names are the other way round: the API is api.ecr.<region>, the
    // registries are <account>.dkr.ecr.<region> (private DNS: *.dkr.ecr.<region>).
    ("ecr.api", INTERFACE, "api.ecr.{region}.amazonaws.com"),
    ("ecr.dkr", INTERFACE, "dkr.ecr.{region}.amazonaws.com"),
];

/// The managed prefix lists a scenario may name, and their services.
const MANAGED_LISTS: &[(&str, &str)] = &[("pl-s3", "s3"), ("pl-dynamodb", "dynamodb")];

/// The managed prefix list names a scenario may use, whatever the region.
pub const MANAGED_PREFIX_LIST_NAMES: &[&str] = &["pl-s3", "pl-dynamodb"];

/// Every commercial AWS region name vpcsim accepts. Some have no services in
/// vpcsim yet ([`services_in`] is then empty).
const REGIONS: &[&str] = &[
    "us-east-1",
    "us-east-2",
    "us-west-1",
    "us-west-2",
    "ca-central-1",
    "ca-west-1",
    "mx-central-1",
    "sa-east-1",
    "eu-west-1",
    "eu-west-2",
    "eu-west-3",
    "eu-central-1",
    "eu-central-2",
    "eu-north-1",
    "eu-south-1",
    "eu-south-2",
    "il-central-1",
    "me-south-1",
    "me-central-1",
    "af-south-1",
    "ap-east-1",
    "ap-east-2",
    "ap-south-1",
    "ap-south-2",
    "ap-northeast-1",
    "ap-northeast-2",
    "ap-northeast-3",
    "ap-southeast-1",
    "ap-southeast-2",
    "ap-southeast-3",
    "ap-southeast-4",
    "ap-southeast-5",
    "ap-southeast-7",
];

/// Every commercial AWS region name vpcsim accepts, whether or not it has
/// service data yet.
pub fn known_regions() -> &'static [&'static str] {
    REGIONS
}

/// Whether `name` is a commercial AWS region name vpcsim accepts.
pub fn is_region(name: &str) -> bool {
    REGIONS.contains(&name)
}

/// The short names of the services vpcsim knows, in catalog order.
pub fn service_names() -> impl Iterator<Item = &'static str> {
    SERVICES.iter().map(|s| s.0)
}

/// Parses a service name: the short form (`s3`, `ecr.api`), in
/// `default_region`, or the full form (`com.amazonaws.us-east-1.kms`), whose
/// region must be `default_region`. Returns (short name, region).
///
/// Whether the service has data in that region is [`service`]'s question.
pub fn parse_service_name(name: &str, default_region: &str) -> Result<(String, String), String> {
    let (short, region) = match name.strip_prefix("com.amazonaws.") {
        None => (name, default_region),
        Some(rest) => {
            let Some((region, short)) = rest.split_once('.') else {
                return Err(format!("`{name}` is not a service name: expected `com.amazonaws.<region>.<service>`"));
            };
            if region == "vpce" {
                return Err(format!(
                    "`{name}` names an endpoint service (PrivateLink), not an AWS service; use its id (vpce-svc-...)"
                ));
            }
            if !is_region(region) {
                return Err(format!("`{name}`: `{region}` is not an AWS region vpcsim knows"));
            }
            if region != default_region {
                return Err(format!(
                    "`{name}` is a service of {region}, but this is {default_region}: an endpoint reaches the services of its own VPC's region"
                ));
            }
            (short, region)
        }
    };
    if !SERVICES.iter().any(|s| s.0 == short) {
        let known: Vec<&str> = service_names().collect();
        return Err(format!("unknown AWS service `{short}` (vpcsim knows {})", known.join(", ")));
    }
    Ok((short.to_owned(), region.to_owned()))
}

/// The service `name` (short form) in `region`, or `None` when vpcsim has no
/// data for it there.
pub fn service(name: &str, region: &str) -> Option<Service> {
    catalog().iter().find(|e| e.service == name && e.region == region).map(Entry::to_service)
}

/// Every service vpcsim has in `region`, in catalog order (s3, dynamodb, then
/// the interface services).
pub fn services_in(region: &str) -> Vec<Service> {
    let mut found: Vec<&Entry> = catalog().iter().filter(|e| e.region == region).collect();
    found.sort_by_key(|e| e.order);
    found.into_iter().map(Entry::to_service).collect()
}

/// The service and region whose ranges contain `ip`, if any: how the internet
/// routes to services. It allocates; resolve once, not per packet.
pub fn owner_of(ip: IpAddr) -> Option<(String, String)> {
    catalog()
        .iter()
        .find(|e| e.ranges.iter().any(|r| r.contains(&ip)))
        .map(|e| (e.service.to_owned(), e.region.to_owned()))
}

/// The managed prefix list `name` (`pl-s3`, `pl-dynamodb`) of `region`, or
/// `None` when the name is not a managed list or vpcsim has no data for it
/// there.
pub fn managed_prefix_list(name: &str, region: &str) -> Option<ManagedPrefixList> {
    let &(_, svc) = MANAGED_LISTS.iter().find(|l| l.0 == name)?;
    catalog().iter().find(|e| e.service == svc && e.region == region)?.prefix_list()
}

// ---- the parsed table -------------------------------------------------------------

/// One row of the table, parsed.
struct Entry {
    service: &'static str,
    region: &'static str,
    /// The service's index in `SERVICES`, for a stable order.
    order: usize,
    ranges: Vec<IpNet>,
    prefix_list_id: Option<&'static str>,
}

impl Entry {
    fn to_service(&self) -> Service {
        let (name, kinds, dns) = SERVICES[self.order];
        Service {
            name,
            region: self.region.to_owned(),
            endpoint_kinds: kinds,
            dns_name: dns.replace("{region}", self.region),
            ranges: self.ranges.clone(),
            addresses: front_doors(&self.ranges),
            prefix_list: self.prefix_list(),
        }
    }

    fn prefix_list(&self) -> Option<ManagedPrefixList> {
        let aws_id = self.prefix_list_id?;
        let &(name, service) = MANAGED_LISTS.iter().find(|l| l.1 == self.service)?;
        Some(ManagedPrefixList { name, service, aws_id, entries: self.ranges.clone() })
    }
}

/// The table, parsed once. A row that does not parse is a bug in `table.rs`
/// (its tests parse every row), hence the panics.
fn catalog() -> &'static [Entry] {
    static CATALOG: OnceLock<Vec<Entry>> = OnceLock::new();
    CATALOG.get_or_init(|| {
        table::ROWS
            .iter()
            .map(|&(service, region, ranges, prefix_list_id)| {
                let order = SERVICES
                    .iter()
                    .position(|s| s.0 == service)
                    .unwrap_or_else(|| panic!("table.rs: unknown service `{service}`"));
                let ranges = ranges
                    .iter()
                    .map(|r| r.parse::<IpNet>().unwrap_or_else(|e| panic!("table.rs: {service} {region}: `{r}`: {e}")))
                    .collect();
                Entry { service, region, order, ranges, prefix_list_id }
            })
            .collect()
    })
}

/// Two or three addresses a service answers on: the 10th, 42nd and 74th
/// address after the network address, taken from its first three ranges in
/// turn (every range vpcsim holds is at least a /25).
fn front_doors(ranges: &[IpNet]) -> Vec<IpAddr> {
    let mut out: Vec<IpAddr> = Vec::new();
    if ranges.is_empty() {
        return out;
    }
    for i in 0..3u32 {
        let net = ranges[i as usize % ranges.len()];
        if let Some(ip) = nth_address(net, 10 + 32 * i)
            && !out.contains(&ip)
        {
            out.push(ip);
        }
    }
    out
}

/// The `n`th address of `net`, if `net` holds it.
fn nth_address(net: IpNet, n: u32) -> Option<IpAddr> {
    let host_bits = u32::from(net.max_prefix_len() - net.prefix_len());
    if host_bits < 32 && u128::from(n) >= 1u128 << host_bits {
        return None;
    }
    Some(match net {
        IpNet::V4(v4) => IpAddr::V4(Ipv4Addr::from(u32::from(v4.network()) + n)),
        IpNet::V6(v6) => IpAddr::V6(Ipv6Addr::from(u128::from(v6.network()) + u128::from(n))),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_row_parses_and_is_a_network() {
        for e in catalog() {
            assert!(is_region(e.region), "{} {}: unknown region", e.service, e.region);
            assert!(!e.ranges.is_empty(), "{} {}: no ranges", e.service, e.region);
            for r in &e.ranges {
                assert_eq!(*r, r.trunc(), "{} {}: {r} has host bits", e.service, e.region);
                assert!(r.prefix_len() <= 25, "{} {}: {r} is too small for the front doors", e.service, e.region);
            }
        }
    }

    #[test]
    fn one_row_per_service_and_region() {
        let rows = catalog();
        for (i, a) in rows.iter().enumerate() {
            for b in &rows[i + 1..] {
                assert!(!(a.service == b.service && a.region == b.region), "{} {} twice", a.service, a.region);
            }
        }
    }

    #[test]
    fn prefix_list_ids_only_for_gateway_services() {
        for e in catalog() {
            let gateway = MANAGED_LISTS.iter().any(|l| l.1 == e.service);
            assert_eq!(e.prefix_list_id.is_some(), gateway, "{} {}", e.service, e.region);
        }
        for (name, _) in MANAGED_LISTS {
            assert!(MANAGED_PREFIX_LIST_NAMES.contains(name));
        }
    }

    #[test]
    fn nth_address_stays_inside() {
        let net: IpNet = "10.0.0.0/30".parse().unwrap();
        assert_eq!(nth_address(net, 3), Some("10.0.0.3".parse().unwrap()));
        assert_eq!(nth_address(net, 4), None);
        let all: IpNet = "0.0.0.0/0".parse().unwrap();
        assert_eq!(nth_address(all, 7), Some("0.0.0.7".parse().unwrap()));
    }
}
