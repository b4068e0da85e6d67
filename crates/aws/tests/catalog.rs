//! The catalog's promises: the contract's fixed S3 ranges, every service in
//! the six contract regions, disjoint ranges, no reserved ranges, name parsing.

use std::net::IpAddr;

use ipnet::IpNet;
use vpcsim_aws::{
    EndpointKind, known_regions, managed_prefix_list, owner_of, parse_service_name, service, service_names, services_in,
};

/// The regions the scenario contract requires.
const CONTRACT_REGIONS: &[&str] =
    &["us-east-1", "us-east-2", "us-west-2", "eu-west-1", "eu-central-1", "ap-southeast-2"];

/// The services every contract region has.
const CONTRACT_SERVICES: &[&str] =
    &["s3", "dynamodb", "kms", "sqs", "sts", "ec2", "ssm", "secretsmanager", "logs", "ecr.api", "ecr.dkr"];

fn nets(cidrs: &[&str]) -> Vec<IpNet> {
    cidrs.iter().map(|c| c.parse().unwrap()).collect()
}

fn overlap(a: &IpNet, b: &IpNet) -> bool {
    a.contains(&b.network()) || b.contains(&a.network())
}

/// Every (service, region) vpcsim has.
fn everything() -> Vec<vpcsim_aws::Service> {
    known_regions().iter().flat_map(|r| services_in(r)).collect()
}

#[test]
fn s3_in_us_east_1_is_the_contracts_pl_63a5400a() {
    let s3 = service("s3", "us-east-1").unwrap();
    let fixed = nets(&["54.231.0.0/17", "52.216.0.0/15", "3.5.16.0/21", "3.5.0.0/20"]);
    let mut got = s3.ranges.clone();
    got.sort();
    let mut want = fixed.clone();
    want.sort();
    assert_eq!(got, want);
    let pl = s3.prefix_list.unwrap();
    assert_eq!((pl.name, pl.aws_id, pl.service), ("pl-s3", "pl-63a5400a", "s3"));
    assert_eq!(pl.entries, s3.ranges);
    assert_eq!(managed_prefix_list("pl-s3", "us-east-1").unwrap().entries, s3.ranges);
    assert_eq!(s3.endpoint_kinds, &[EndpointKind::Gateway, EndpointKind::Interface]);
}

#[test]
fn every_contract_service_is_in_every_contract_region() {
    for region in CONTRACT_REGIONS {
        for name in CONTRACT_SERVICES {
            let s = service(name, region).unwrap_or_else(|| panic!("{name} missing in {region}"));
            assert_eq!(s.name, *name);
            assert_eq!(s.region, *region);
            let dns = match *name {
                "ecr.api" => format!("api.ecr.{region}.amazonaws.com"),
                "ecr.dkr" => format!("dkr.ecr.{region}.amazonaws.com"),
                _ => format!("{name}.{region}.amazonaws.com"),
            };
            assert_eq!(s.dns_name, dns);
            assert!(!s.ranges.is_empty());
            assert!((2..=3).contains(&s.addresses.len()), "{name} {region}: {:?}", s.addresses);
            for a in &s.addresses {
                assert!(s.ranges.iter().any(|r| r.contains(a)), "{name} {region}: {a} outside its ranges");
                assert_eq!(owner_of(*a), Some((name.to_string(), region.to_string())));
            }
            let gateway = matches!(*name, "s3" | "dynamodb");
            assert_eq!(s.prefix_list.is_some(), gateway, "{name} {region}");
            assert_eq!(s.endpoint_kinds.contains(&EndpointKind::Gateway), gateway);
            assert!(s.endpoint_kinds.contains(&EndpointKind::Interface));
        }
        let pl = managed_prefix_list("pl-dynamodb", region).unwrap();
        assert_eq!(pl.name, "pl-dynamodb");
        assert_eq!(pl.entries, service("dynamodb", region).unwrap().ranges);
    }
}

#[test]
fn every_service_has_addresses_inside_its_ranges() {
    for s in everything() {
        assert!((2..=3).contains(&s.addresses.len()), "{} {}", s.name, s.region);
        for a in &s.addresses {
            assert!(s.ranges.iter().any(|r| r.contains(a)), "{} {}: {a}", s.name, s.region);
        }
    }
}

#[test]
fn no_two_services_overlap_in_any_region() {
    let all = everything();
    assert!(all.len() > 100, "only {} services", all.len());
    for (i, a) in all.iter().enumerate() {
        // Nor within one service's own ranges.
        for (j, ra) in a.ranges.iter().enumerate() {
            for rb in &a.ranges[j + 1..] {
                assert!(!overlap(ra, rb), "{} {}: {ra} overlaps {rb}", a.name, a.region);
            }
        }
        for b in &all[i + 1..] {
            for ra in &a.ranges {
                for rb in &b.ranges {
                    assert!(!overlap(ra, rb), "{} {} {ra} overlaps {} {} {rb}", a.name, a.region, b.name, b.region);
                }
            }
        }
    }
}

#[test]
fn no_range_touches_documentation_benchmarking_or_private_space() {
    let reserved = nets(&[
        "192.0.2.0/24",
        "198.51.100.0/24",
        "203.0.113.0/24",
        "2001:db8::/32",
        "198.18.0.0/15",
        "10.0.0.0/8",
        "172.16.0.0/12",
        "192.168.0.0/16",
        "100.64.0.0/10",
        "127.0.0.0/8",
        "169.254.0.0/16",
        "0.0.0.0/8",
        "224.0.0.0/4",
        "240.0.0.0/4",
    ]);
    for s in everything() {
        for r in &s.ranges {
            for x in &reserved {
                assert!(!overlap(r, x), "{} {}: {r} touches {x}", s.name, s.region);
            }
        }
    }
}

#[test]
fn parse_service_name_takes_both_forms() {
    let ok = |n: &str, r: &str| parse_service_name(n, r).unwrap();
    assert_eq!(ok("s3", "us-east-1"), ("s3".to_string(), "us-east-1".to_string()));
    assert_eq!(ok("com.amazonaws.us-east-1.kms", "us-east-1"), ("kms".to_string(), "us-east-1".to_string()));
    assert_eq!(ok("com.amazonaws.eu-west-1.ecr.dkr", "eu-west-1"), ("ecr.dkr".to_string(), "eu-west-1".to_string()));
    assert_eq!(ok("ecr.api", "ap-southeast-2"), ("ecr.api".to_string(), "ap-southeast-2".to_string()));
    for name in service_names() {
        assert_eq!(ok(name, "us-east-2").0, name);
    }
}

#[test]
fn parse_service_name_rejects_another_region_and_unknown_names() {
    let err = parse_service_name("com.amazonaws.eu-west-1.kms", "us-east-1").unwrap_err();
    assert!(err.contains("eu-west-1") && err.contains("us-east-1"), "{err}");
    let err = parse_service_name("lambda", "us-east-1").unwrap_err();
    assert!(err.contains("unknown AWS service `lambda`"), "{err}");
    assert!(parse_service_name("com.amazonaws.us-east-1.lambda", "us-east-1").is_err());
    assert!(parse_service_name("com.amazonaws.mars-north-1.kms", "mars-north-1").is_err());
    assert!(parse_service_name("com.amazonaws.us-east-1", "us-east-1").is_err());
    let err = parse_service_name("com.amazonaws.vpce.us-east-1.vpce-svc-0123", "us-east-1").unwrap_err();
    assert!(err.contains("endpoint service"), "{err}");
    assert!(parse_service_name("", "us-east-1").is_err());
}

#[test]
fn owner_of_finds_the_service_of_an_address() {
    let ip: IpAddr = "52.216.1.1".parse().unwrap();
    assert_eq!(owner_of(ip), Some(("s3".to_string(), "us-east-1".to_string())));
    assert_eq!(owner_of("198.51.100.7".parse().unwrap()), None);
    assert_eq!(owner_of("52.94.4.9".parse().unwrap()), Some(("dynamodb".to_string(), "us-east-2".to_string())));
    assert_eq!(owner_of("2001:db8::1".parse().unwrap()), None);
}

#[test]
fn regions_without_data_answer_none() {
    assert!(vpcsim_aws::is_region("il-central-1"));
    assert!(!vpcsim_aws::is_region("mars-north-1"));
    assert!(service("kms", "il-central-1").is_none());
    assert!(services_in("il-central-1").is_empty());
    assert!(managed_prefix_list("pl-s3", "il-central-1").is_none());
    assert!(managed_prefix_list("pl-nope", "us-east-1").is_none());
    assert!(service("lambda", "us-east-1").is_none());
    for r in known_regions() {
        assert!(vpcsim_aws::is_region(r));
    }
}

#[test]
fn services_in_is_in_catalog_order() {
    let names: Vec<&str> = services_in("us-east-1").iter().map(|s| s.name).collect();
    assert_eq!(names, CONTRACT_SERVICES);
}
