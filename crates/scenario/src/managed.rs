//! AWS-managed prefix lists that vpcsim knows, per region. Add a row to
//! [`MANAGED_PREFIX_LISTS`] to make a list available in another region.

/// One AWS-managed prefix list in one region.
pub(crate) struct ManagedList {
    /// The id scenarios use (`pl-s3`), the same in every region.
    pub id: &'static str,
    /// The service whose public ranges the list holds.
    pub service: &'static str,
    pub region: &'static str,
    pub ranges: &'static [&'static str],
}

/// The managed list names a scenario may use, whatever the region.
const MANAGED_NAMES: &[&str] = &["pl-s3", "pl-dynamodb"];

/// The lists whose ranges are known. S3 in us-east-1 is AWS's pl-63a5400a,
/// whose ranges the scenario contract fixes.
pub(crate) const MANAGED_PREFIX_LISTS: &[ManagedList] = &[ManagedList {
    id: "pl-s3",
    service: "s3",
    region: "us-east-1",
    ranges: &["54.231.0.0/17", "52.216.0.0/15", "3.5.16.0/21", "3.5.0.0/20"],
}];

pub(crate) fn is_managed_name(id: &str) -> bool {
    MANAGED_NAMES.contains(&id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_range_parses_as_a_network() {
        for list in MANAGED_PREFIX_LISTS {
            assert!(is_managed_name(list.id));
            for r in list.ranges {
                let net: ipnet::IpNet = r.parse().unwrap();
                assert_eq!(net, net.trunc(), "{r}");
            }
        }
    }
}
