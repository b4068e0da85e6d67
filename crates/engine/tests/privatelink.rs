//! PrivateLink end to end: endpoint ENIs and names, the load balancer's choice
//! of target, endpoint states over time, through real stacks and frames.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use vpcsim_engine::{ProbeSpec, SimConfig, check, run_probe};
use vpcsim_model::{Destination, EndpointState, ExpectedResult, Protocol, Topology};

fn orders_text() -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scenarios/privatelink-orders.toml");
    std::fs::read_to_string(path).unwrap()
}

fn load(text: &str) -> Arc<Topology> {
    Arc::new(vpcsim_scenario::load_str(text, "privatelink.toml").unwrap_or_else(|e| panic!("{e}")))
}

fn probe(t: &Arc<Topology>, from: &str, to: &str, port: u16, at: u64) -> vpcsim_engine::ProbeOutcome {
    let to = match (t.host_by_id(to), to.parse()) {
        (Some(h), _) => Destination::Host(h),
        (None, Ok(ip)) => Destination::Ip(ip),
        (None, Err(_)) => Destination::Name(to.to_string()),
    };
    let spec = ProbeSpec {
        from: t.host_by_id(from).unwrap(),
        to,
        proto: Protocol::Tcp,
        port: Some(port),
        at: Duration::from_secs(at),
        timeout: Duration::from_millis(900),
        size: None,
        request: None,
    };
    run_probe(Arc::clone(t), &spec, SimConfig::default())
}

#[test]
fn the_bundled_scenario_passes() {
    let t = load(&orders_text());
    for r in check(&t, SimConfig::default()) {
        assert!(r.passed(), "{}: {:?}\n{}", r.name, r.mismatches, r.outcome.render());
    }
}

#[test]
fn endpoint_enis_have_fixed_addresses_and_names() {
    let t = load(&orders_text());
    let ep = t.interface_endpoints.iter().find(|e| e.id == "vpce-orders").unwrap();
    assert_eq!(ep.enis.len(), 1);
    let eni = t.eni(ep.enis[0]);
    assert_eq!(eni.ipv4, std::net::Ipv4Addr::new(10, 0, 1, 254), "from the top of the subnet");
    assert_eq!(eni.security_groups.len(), 1);
    assert!(ep.dns_name.starts_with("vpce-orders-"), "{}", ep.dns_name);
    assert!(ep.dns_name.ends_with(".vpce-svc-orders.us-east-1.vpce.amazonaws.com"), "{}", ep.dns_name);
    assert_eq!(ep.zonal_dns_names.len(), 1);
    assert_eq!(ep.zonal_dns_names[0].0, "us-east-1a");
    assert!(ep.zonal_dns_names[0].1.contains("-us-east-1a.vpce-svc-orders."));
    // The same id always gives the same name.
    assert_eq!(load(&orders_text()).interface_endpoints[0].dns_name, t.interface_endpoints[0].dns_name);
    // Initial states: acceptance required; a principal not allowed fails.
    let state = |id: &str| t.interface_endpoints.iter().find(|e| e.id == id).unwrap().state;
    assert_eq!(state("vpce-orders"), EndpointState::PendingAcceptance);
    assert_eq!(state("vpce-stranger"), EndpointState::Failed);
    // The load balancer's node has its own address in the provider's VPC.
    let nlb = &t.load_balancers[0];
    assert_eq!(t.eni(nlb.nodes[0]).ipv4, std::net::Ipv4Addr::new(10, 0, 1, 254));
}

#[test]
fn traffic_in_each_state() {
    let text = orders_text().replace(
        "[[event]]\nat = \"2s\"\naction = \"reject\"\nendpoint = \"vpce-other\"",
        "[[event]]\nat = \"2s\"\naction = \"reject\"\nendpoint = \"vpce-other\"\n\n[[event]]\nat = \"5s\"\naction = \"reject\"\nendpoint = \"vpce-orders\"\n\n[[event]]\nat = \"7s\"\naction = \"delete\"\nendpoint = \"vpce-orders\"",
    );
    let t = load(&text);
    let name = t.interface_endpoints[0].dns_name.clone();
    let outcome = |at: u64| probe(&t, "app", &name, 443, at);
    // PendingAcceptance.
    let o = outcome(1);
    assert_eq!(o.drop.as_ref().map(|d| d.reason.as_str()), Some("endpoint-not-available"));
    // Accepted at 2s: the probe at 2s sees it.
    assert_eq!(outcome(2).result, ExpectedResult::Connected);
    assert_eq!(outcome(4).result, ExpectedResult::Connected);
    // Rejected while Available.
    let o = outcome(6);
    assert_eq!(o.result, ExpectedResult::Dropped);
    assert_eq!(o.drop.as_ref().map(|d| d.reason.as_str()), Some("endpoint-not-available"));
    // Deleted: its DNS names are gone with it.
    let o = outcome(8);
    assert_eq!(o.drop.as_ref().map(|d| d.reason.as_str()), Some("nxdomain"));
}

#[test]
fn the_load_balancer_keeps_a_flow_on_one_target_and_spreads_flows() {
    let t = load(&orders_text());
    let o = probe(&t, "app", "orders.xyz.example.com", 443, 3);
    assert_eq!(o.result, ExpectedResult::Connected);
    // Every frame of one connection reaches the same target.
    let targets: std::collections::BTreeSet<_> = o
        .records
        .iter()
        .filter_map(|r| match r.verdict {
            vpcsim_dataplane::Verdict::Deliver(e) if t.eni_owner_id(e).starts_with("orders") => Some(e),
            _ => None,
        })
        .collect();
    assert_eq!(targets.len(), 1, "{}", o.render());
    // Deterministic: the same probe twice picks the same target.
    assert_eq!(o.render(), probe(&t, "app", "orders.xyz.example.com", 443, 3).render());
    // Many flows (new source ports) spread over both targets.
    let many = load(&orders_text().replace("start = \"3s\"\nrequests = 4", "start = \"3s\"\nrequests = 12"));
    let report = vpcsim_engine::run(&many, SimConfig::default(), |_, _| {});
    let accepted = |id: &str| report.sim.host(many.host_by_id(id).unwrap()).stats().connections_accepted;
    // 12, and the early flow's SYN retransmitted after the acceptance.
    assert!(accepted("orders1") + accepted("orders2") >= 12);
    assert!(accepted("orders1") > 0 && accepted("orders2") > 0, "{} / {}", accepted("orders1"), accepted("orders2"));
}

#[test]
fn targets_that_fail_leave_the_pool_and_when_all_fail_the_load_balancer_fails_open() {
    let text = orders_text().replace(
        "[[event]]\nat = \"2s\"\naction = \"reject\"",
        "[[event]]\nat = \"4s\"\naction = \"target-down\"\ntarget = \"orders1\"\n\n[[event]]\nat = \"6s\"\naction = \"target-down\"\ntarget = \"orders2\"\n\n[[event]]\nat = \"2s\"\naction = \"reject\"",
    );
    let t = load(&text);
    for at in [4, 5] {
        let o = probe(&t, "app", "orders.xyz.example.com", 443, at);
        assert_eq!(o.result, ExpectedResult::Connected);
        assert_eq!(o.seen_source, Some("10.0.1.254".parse().unwrap()));
        let to_orders1 = o
            .records
            .iter()
            .any(|r| matches!(r.verdict, vpcsim_dataplane::Verdict::Deliver(e) if t.eni_owner_id(e) == "orders1"));
        assert!(!to_orders1, "orders1 is down");
    }
    // AWS ("Health checks for Network Load Balancer target groups"): when
    // every target fails its health checks in all enabled AZs, the load
    // balancer fails open and sends to all of them, whatever their health.
    let o = probe(&t, "app", "orders.xyz.example.com", 443, 7);
    assert_eq!(o.result, ExpectedResult::Connected, "{}", o.render());
    assert!(o.drop.is_none(), "{}", o.render());
    let delivered_to_a_target = o
        .records
        .iter()
        .any(|r| matches!(r.verdict, vpcsim_dataplane::Verdict::Deliver(e) if t.eni_owner_id(e).starts_with("orders")));
    assert!(delivered_to_a_target, "{}", o.render());
}

#[test]
fn without_cross_zone_a_node_only_uses_targets_of_its_az() {
    // A second provider subnet in us-east-1b holds the targets; the customer is in 1a.
    let text = orders_text()
        .replace(
            "[[security_group]]\nid = \"sg-orders\"",
            "[[subnet]]\nid = \"subnet-prov-b\"\nvpc = \"vpc-provider\"\ncidr = \"10.0.2.0/24\"\naz = \"us-east-1b\"\n\n[[security_group]]\nid = \"sg-orders\"",
        )
        .replace("cidr = \"10.0.1.0/24\" } ]\n\n[[host]]\nid = \"orders1\"\nsubnet = \"subnet-prov-a\"\nip = \"10.0.1.11\"", "cidr = \"10.0.0.0/16\" } ]\n\n[[host]]\nid = \"orders1\"\nsubnet = \"subnet-prov-b\"\nip = \"10.0.2.11\"")
        .replace("id = \"orders2\"\nsubnet = \"subnet-prov-a\"\nip = \"10.0.1.12\"", "id = \"orders2\"\nsubnet = \"subnet-prov-b\"\nip = \"10.0.2.12\"")
        .replace("subnets = [\"subnet-prov-a\"]", "subnets = [\"subnet-prov-a\", \"subnet-prov-b\"]");
    let off = load(&text);
    let o = probe(&off, "app", "orders.xyz.example.com", 443, 3);
    assert_eq!(o.drop.as_ref().map(|d| d.reason.as_str()), Some("no-target"), "{}", o.render());
    let on = load(&text.replace("cross_zone = false", "cross_zone = true"));
    assert_eq!(probe(&on, "app", "orders.xyz.example.com", 443, 3).result, ExpectedResult::Connected);
}

#[test]
fn a_gateway_load_balancer_sends_both_directions_through_one_appliance() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scenarios/gwlb-inspection.toml");
    let t = load(&std::fs::read_to_string(path).unwrap());
    for r in check(&t, SimConfig::default()) {
        assert!(r.passed(), "{}: {:?}\n{}", r.name, r.mismatches, r.outcome.render());
    }
    let o = probe(&t, "web", "db", 5432, 0);
    assert_eq!(o.result, ExpectedResult::Connected);
    let appliances: std::collections::BTreeSet<_> = o
        .records
        .iter()
        .flat_map(|r| r.steps.iter())
        .filter_map(|s| match s {
            vpcsim_dataplane::Step::Encapsulated { appliance, .. } => Some(*appliance),
            _ => None,
        })
        .collect();
    assert_eq!(appliances.len(), 1, "{}", o.render());
    // The forward leg crossed the endpoint and the load balancer; the db saw web's own address.
    assert_eq!(o.seen_source, Some("10.0.1.10".parse().unwrap()));
    let ids: Vec<&str> = o.crossed.iter().map(|c| c.id(&t)).collect();
    assert!(ids.contains(&"vpce-gwlb") && ids.contains(&"gwlb-firewalls"), "{ids:?}");
}

fn ingress_text() -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scenarios/igw-ingress-inspection.toml");
    std::fs::read_to_string(path).unwrap()
}

/// The appliances a probe's packets were wrapped in GENEVE for.
fn appliances(o: &vpcsim_engine::ProbeOutcome) -> std::collections::BTreeSet<vpcsim_model::EniIdx> {
    o.records
        .iter()
        .flat_map(|r| r.steps.iter())
        .filter_map(|s| match s {
            vpcsim_dataplane::Step::Encapsulated { appliance, .. } => Some(*appliance),
            _ => None,
        })
        .collect()
}

#[test]
fn a_gateway_route_table_sends_what_enters_from_the_internet_through_the_appliances() {
    let t = load(&ingress_text());
    for r in check(&t, SimConfig::default()) {
        assert!(r.passed(), "{}: {:?}\n{}", r.name, r.mismatches, r.outcome.render());
    }
    let edge = t.route_tables.iter().position(|r| r.id == "rtb-igw-edge").unwrap();
    let igw = &t.internet_gateways[0];
    assert_eq!(igw.route_table.map(|r| r.index()), Some(edge));

    // To web: the gateway route table picks the endpoint; both directions of
    // the connection meet one appliance; web sees the client's own address.
    let o = probe(&t, "client", "54.0.1.10", 443, 0);
    assert_eq!(o.result, ExpectedResult::Connected, "{}", o.render());
    assert_eq!(appliances(&o).len(), 1, "{}", o.render());
    assert_eq!(o.seen_source, Some("203.0.113.10".parse().unwrap()));
    let edge_lookups = o
        .records
        .iter()
        .flat_map(|r| r.steps.iter())
        .filter(|s| matches!(s, vpcsim_dataplane::Step::RouteLookup { table, .. } if table.index() == edge))
        .count();
    assert!(edge_lookups >= 2, "every packet in from the internet meets the gateway route table\n{}", o.render());
    assert!(
        o.render().contains(
            "route table rtb-igw-edge (the gateway route table of igw-app): 10.0.1.10 matches 10.0.1.0/24 → vpce-gwlb"
        ),
        "{}",
        o.render()
    );

    // To api: no route for its subnet in the gateway route table, so the
    // local route delivers it without any appliance.
    let o = probe(&t, "client", "54.0.2.10", 443, 0);
    assert_eq!(o.result, ExpectedResult::Connected, "{}", o.render());
    assert!(appliances(&o).is_empty(), "{}", o.render());

    // Without the edge association the same table routes nothing inbound:
    // the SYN goes straight to web, and web's reply, sent to the endpoint,
    // is the only direction inspected.
    let t = load(&ingress_text().replace("edge_associations = [\"igw-app\"]\n", ""));
    assert!(t.internet_gateways[0].route_table.is_none());
    let o = probe(&t, "client", "54.0.1.10", 443, 0);
    let syn_inspected = o
        .records
        .first()
        .is_some_and(|r| r.steps.iter().any(|s| matches!(s, vpcsim_dataplane::Step::Encapsulated { .. })));
    assert!(!syn_inspected, "{}", o.render());
}

#[test]
fn a_gateway_route_table_can_replace_the_local_route_for_the_whole_vpc() {
    // dest = the VPC's CIDR: the local route's target replaced, so api's
    // traffic from the internet is inspected too.
    let text = ingress_text().replace(
        "routes = [ { dest = \"10.0.1.0/24\", target = \"vpce-gwlb\" } ]",
        "routes = [ { dest = \"10.0.0.0/16\", target = \"vpce-gwlb\" } ]",
    );
    let t = load(&text);
    let o = probe(&t, "client", "54.0.2.10", 443, 0);
    assert_eq!(o.result, ExpectedResult::Connected, "{}", o.render());
    assert!(!appliances(&o).is_empty(), "{}", o.render());
}

#[test]
fn a_vpn_gateways_route_table_sends_what_comes_from_on_premises_to_a_middlebox() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scenarios/onprem-vpn.toml");
    let text = std::fs::read_to_string(path).unwrap();
    let baseline = load(&text);
    assert_eq!(probe(&baseline, "laptop", "app", 443, 0).result, ExpectedResult::Connected);
    let text = format!(
        "{text}\n[[host]]\nid = \"inspect\"\nsubnet = \"subnet-a\"\nsource_dest_check = false\nsecurity_groups = [\"sg-app\"]\n\n\
         [[route_table]]\nid = \"rtb-vgw-edge\"\nvpc = \"vpc-a\"\nedge_associations = [\"vgw-a\"]\n\
         routes = [ {{ dest = \"10.0.1.0/24\", target = \"inspect\" }} ]\n"
    );
    let t = load(&text);
    let inspect = t.host(t.host_by_id("inspect").unwrap()).eni;
    let o = probe(&t, "laptop", "app", 443, 0);
    // The SYN goes to the middlebox's network interface first, which forwards
    // it to app (its source/destination check is off).
    let delivered: Vec<_> = o
        .records
        .iter()
        .flat_map(|r| r.steps.iter())
        .filter_map(|s| match s {
            vpcsim_dataplane::Step::Delivered { eni } => Some(*eni),
            _ => None,
        })
        .collect();
    assert!(delivered.contains(&inspect), "{}", o.render());
    assert_eq!(o.result, ExpectedResult::Connected, "{}", o.render());
    assert!(
        o.render().contains("vgw-a (the gateway route table of")
            || o.render().contains("(the gateway route table of vgw-a)"),
        "{}",
        o.render()
    );
}

#[test]
fn a_deleted_endpoint_service_carries_nothing() {
    let text = orders_text().replace(
        "[[event]]\nat = \"2s\"\naction = \"reject\"",
        "[[event]]\nat = \"5s\"\naction = \"delete-service\"\nservice = \"vpce-svc-orders\"\n\n[[event]]\nat = \"2s\"\naction = \"reject\"",
    );
    let t = load(&text);
    assert_eq!(probe(&t, "app", "orders.xyz.example.com", 443, 4).result, ExpectedResult::Connected);
    let o = probe(&t, "app", "orders.xyz.example.com", 443, 6);
    assert_eq!(o.drop.as_ref().map(|d| d.reason.as_str()), Some("endpoint-not-available"), "{}", o.render());
    let report = vpcsim_engine::run(&t, SimConfig::default(), |_, _| {});
    assert!(
        report
            .sim
            .timeline
            .iter()
            .any(|(at, c)| *at == Duration::from_secs(5)
                && c.contains("vpce-svc-orders: Available → Deleting → Deleted")),
        "{:?}",
        report.sim.timeline
    );
}
