//! Generated organisations are valid scenarios of the size asked for, every
//! expectation in them holds, and the same parameters give the same bytes.

use std::sync::Arc;

use vpcsim_bench::{Org, OrgError};
use vpcsim_engine::{SimConfig, check};
use vpcsim_model::{ExpectedResult, Topology};

fn small(transit_gateway: bool, peering: bool, gateway_endpoint: bool) -> Org {
    Org {
        vpcs: 3,
        subnets_per_vpc: 2,
        hosts_per_subnet: 3,
        expects: 20,
        transit_gateway,
        peering,
        gateway_endpoint,
        seed: 7,
    }
}

fn load(org: &Org) -> Arc<Topology> {
    let text = org.to_toml().unwrap_or_else(|e| panic!("{org:?}: {e}"));
    Arc::new(vpcsim_scenario::load_str(&text, "org.toml").unwrap_or_else(|d| panic!("{org:?}:\n{d}")))
}

fn assert_all_pass(org: &Org) {
    let t = load(org);
    let failures: Vec<String> = check(&t, SimConfig::default())
        .into_iter()
        .filter(|r| !r.passed())
        .map(|r| format!("{}\n  {}\n{}", r.name, r.mismatches.join("\n  "), r.outcome.render()))
        .collect();
    assert!(failures.is_empty(), "{org:?}: {} failed:\n{}", failures.len(), failures.join("\n"));
}

#[test]
fn every_expectation_holds_without_options() {
    assert_all_pass(&small(false, false, false));
}

#[test]
fn every_expectation_holds_with_a_transit_gateway() {
    assert_all_pass(&small(true, false, false));
}

#[test]
fn every_expectation_holds_with_peering() {
    assert_all_pass(&small(false, true, false));
}

#[test]
fn every_expectation_holds_with_gateway_endpoints() {
    assert_all_pass(&small(false, false, true));
}

#[test]
fn every_expectation_holds_with_every_option() {
    assert_all_pass(&small(true, true, true));
    // Five VPCs: the transit gateway's crossings go to VPCs that are not peered.
    assert_all_pass(&Org { vpcs: 5, seed: 3, ..small(true, true, true) });
}

#[test]
fn every_expectation_holds_in_the_baseline_shape() {
    // The shape (4 subnets of 25), three VPCs of it.
    assert_all_pass(&Org { vpcs: 3, expects: 12, transit_gateway: true, ..Org::default() });
}

#[test]
fn counts_are_what_was_asked() {
    for (org, crossing) in [
        (small(false, false, false), None),
        (small(true, false, false), Some("tgw-org")),
        (small(false, true, false), Some("pcx-")),
        (small(false, false, true), None),
        (small(true, true, true), Some("")),
        (Org { vpcs: 7, subnets_per_vpc: 5, hosts_per_subnet: 11, expects: 101, ..Org::default() }, None),
        (
            Org {
                vpcs: 1,
                subnets_per_vpc: 1,
                hosts_per_subnet: 2,
                expects: 3,
                transit_gateway: true,
                ..Org::default()
            },
            None,
        ),
    ] {
        let t = load(&org);
        assert_eq!(t.vpcs.len(), org.vpcs, "{org:?}");
        assert_eq!(t.subnets.len(), org.vpcs * org.subnets_per_vpc, "{org:?}");
        let hosts = t.hosts.iter().filter(|h| h.service.is_none()).count();
        assert_eq!(hosts, org.hosts(), "{org:?}");
        assert_eq!(hosts, org.vpcs * org.subnets_per_vpc * org.hosts_per_subnet);
        assert_eq!(t.expectations.len(), org.expects, "{org:?}");
        assert_eq!(t.tgw_attachments.len(), if org.transit_gateway { org.vpcs } else { 0 }, "{org:?}");
        assert_eq!(t.vpc_peerings.len(), if org.peering { org.vpcs - 1 } else { 0 }, "{org:?}");
        assert_eq!(t.gateway_endpoints.len(), if org.gateway_endpoint { org.vpcs } else { 0 }, "{org:?}");
        // The VPCs do not overlap.
        for (i, a) in t.vpcs.iter().enumerate() {
            for b in &t.vpcs[i + 1..] {
                assert!(!a.cidr.contains(&b.cidr.network()) && !b.cidr.contains(&a.cidr.network()), "{a:?} {b:?}");
            }
        }
        // Connected and dropped take turns; with a transit gateway or
        // peering, half the expectations cross VPCs.
        let connected = t.expectations.iter().filter(|e| e.result == ExpectedResult::Connected).count();
        let dropped = t.expectations.iter().filter(|e| e.result == ExpectedResult::Dropped).count();
        assert_eq!(connected + dropped, org.expects);
        assert!(dropped >= org.expects / 6, "{org:?}: {dropped} dropped");
        let crossings = t.expectations.iter().filter(|e| !e.via.is_empty() && !e.via[0].starts_with("vpce-")).count();
        match crossings {
            0 => assert!(crossing.is_none(), "{org:?}: no crossing"),
            n => {
                assert_eq!(n, org.expects / 2, "{org:?}");
                let prefix = crossing.expect("crossings only when asked");
                assert!(
                    t.expectations
                        .iter()
                        .filter(|e| !e.via.is_empty())
                        .all(|e| e.via[0].starts_with(prefix) || e.via[0].starts_with("vpce-") || prefix.is_empty())
                );
            }
        }
        if org.gateway_endpoint {
            assert!(t.expectations.iter().any(|e| e.via.first().is_some_and(|v| v.starts_with("vpce-s3-"))));
        }
    }
}

#[test]
fn both_crossings_are_used_when_both_are_asked() {
    let t = load(&Org { vpcs: 6, expects: 40, ..small(true, true, false) });
    let via = |p: &str| t.expectations.iter().filter(|e| e.via.first().is_some_and(|v| v.starts_with(p))).count();
    assert_eq!(via("tgw-org") + via("pcx-"), 20);
    assert!(via("tgw-org") >= 8 && via("pcx-") >= 8, "tgw {} pcx {}", via("tgw-org"), via("pcx-"));
}

#[test]
fn expectations_are_spread_over_all_vpcs() {
    let org = Org { vpcs: 10, subnets_per_vpc: 2, hosts_per_subnet: 2, expects: 10, ..Org::default() };
    let t = load(&org);
    let mut vpcs: Vec<String> = t.expectations.iter().map(|e| e.name.rsplit(' ').next().unwrap().to_string()).collect();
    vpcs.sort();
    vpcs.dedup();
    assert_eq!(vpcs.len(), 10, "{vpcs:?}");
}

#[test]
fn output_is_deterministic() {
    for org in [small(false, false, false), small(true, true, true), Org::default()] {
        let a = org.to_toml().unwrap();
        let b = org.to_toml().unwrap();
        assert_eq!(a, b);
        let mut c = String::new();
        org.write(&mut c).unwrap();
        assert_eq!(a, c);
    }
    let other = Org { seed: 8, ..small(true, true, true) };
    assert_ne!(small(true, true, true).to_toml().unwrap(), other.to_toml().unwrap(), "the seed chooses the pairs");
}

#[test]
fn the_baseline_layout_is_roomy_and_scales_past_4000_vpcs() {
    // 1,000 VPCs × 4 subnets × 25 hosts: /22 VPCs of /24 subnets in 10.0.0.0/8.
    let text = Org { vpcs: 1000, expects: 0, ..Org::default() }.to_toml().unwrap();
    assert!(text.contains("cidr = \"10.0.0.0/22\""));
    assert!(text.contains("id = \"vpc-999\"\ncidr = \"10.15.156.0/22\""));
    assert!(text.contains("id = \"subnet-999-3\"\nvpc = \"vpc-999\"\ncidr = \"10.15.159.0/24\""));
    for vpcs in [4_000, 16_384, 100_000] {
        Org { vpcs, ..Org::default() }.validate().unwrap_or_else(|e| panic!("{vpcs}: {e}"));
    }
    // Past 10.0.0.0/8 (/16 VPCs): 172.16.0.0/12, 100.64.0.0/10, 192.168.0.0/16 too.
    let wide = Org { vpcs: 300, subnets_per_vpc: 256, hosts_per_subnet: 200, expects: 0, ..Org::default() };
    wide.validate().unwrap();
    assert_eq!(
        Org { vpcs: 256 + 16 + 64 + 2, ..wide }.validate(),
        Err(OrgError::TooManyVpcs { asked: 338, room: 337 })
    );
}

#[test]
fn impossible_shapes_are_refused_with_a_reason() {
    let e = Org { subnets_per_vpc: 1000, hosts_per_subnet: 100, ..Org::default() }.validate().unwrap_err();
    assert!(matches!(e, OrgError::VpcTooLarge { .. }), "{e}");
    assert!(e.to_string().contains("/16"), "{e}");
    assert_eq!(Org { vpcs: 0, ..Org::default() }.validate(), Err(OrgError::Empty("vpcs")));
    assert_eq!(
        Org { subnets_per_vpc: 1, hosts_per_subnet: 1, ..Org::default() }.validate(),
        Err(OrgError::TooFewHosts)
    );
    let mut out = String::new();
    assert!(Org { vpcs: 200_000, ..Org::default() }.write(&mut out).is_err());
    assert!(out.is_empty(), "nothing written");
}
