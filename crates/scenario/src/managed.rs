//! AWS-managed prefix lists (`pl-s3`, `pl-dynamodb`), per region. The data
//! lives in the AWS service catalog, [`vpcsim_aws`]; this module only adapts it
//! to what the build needs.

use ipnet::IpNet;

/// One AWS-managed prefix list in one region.
pub(crate) struct ManagedList {
    /// The id scenarios use (`pl-s3`), the same in every region.
    pub id: &'static str,
    /// The service whose public ranges the list holds.
    pub service: &'static str,
    pub entries: Vec<IpNet>,
}

/// Whether `id` names an AWS-managed list, whatever the region.
pub(crate) fn is_managed_name(id: &str) -> bool {
    vpcsim_aws::MANAGED_PREFIX_LIST_NAMES.contains(&id)
}

/// The managed list `id` of `region`, or `None` when vpcsim has no data for it
/// there yet.
pub(crate) fn managed_list(id: &str, region: &str) -> Option<ManagedList> {
    let list = vpcsim_aws::managed_prefix_list(id, region)?;
    Some(ManagedList { id: list.name, service: list.service, entries: list.entries })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn s3_in_us_east_1_is_known_and_dynamodb_of_an_unknown_region_is_not() {
        assert!(is_managed_name("pl-s3") && is_managed_name("pl-dynamodb") && !is_managed_name("pl-123"));
        let s3 = managed_list("pl-s3", "us-east-1").unwrap();
        assert_eq!((s3.id, s3.service, s3.entries.len()), ("pl-s3", "s3", 4));
        assert!(managed_list("pl-dynamodb", "il-central-1").is_none());
    }
}
