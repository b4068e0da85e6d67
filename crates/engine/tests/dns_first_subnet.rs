//! The Amazon DNS server (the VPC's base + 2) answers hosts of every subnet,
//! the first one too, where its address is on the hosts' own link: they ask
//! for it by ARP, and the VPC router answers.

use std::sync::Arc;

use vpcsim_engine::{SimConfig, check};

const SCENARIO: &str = r#"
name = "DNS from the subnet that holds the VPC's base + 2"
[[vpc]]
id = "vpc-a"
cidr = "10.0.0.0/16"
[[subnet]]
id = "subnet-first"
vpc = "vpc-a"
cidr = "10.0.0.0/24"
[[subnet]]
id = "subnet-second"
vpc = "vpc-a"
cidr = "10.0.1.0/24"
[[route_table]]
id = "rtb-a"
vpc = "vpc-a"
main = true
[[gateway_endpoint]]
id = "vpce-s3"
vpc = "vpc-a"
service = "s3"
route_tables = ["rtb-a"]
[[host]]
id = "first"
subnet = "subnet-first"
[[host]]
id = "second"
subnet = "subnet-second"
[[expect]]
from = "second"
to = "s3.us-east-1.amazonaws.com"
proto = "tcp"
port = 443
result = "connected"
via = ["vpce-s3"]
[[expect]]
from = "first"
to = "s3.us-east-1.amazonaws.com"
proto = "tcp"
port = 443
result = "connected"
via = ["vpce-s3"]
"#;

#[test]
fn hosts_of_the_first_subnet_resolve_names() {
    let t = Arc::new(vpcsim_scenario::load_str(SCENARIO, "dns.toml").unwrap_or_else(|e| panic!("{e}")));
    for r in check(&t, SimConfig::default()) {
        assert!(r.passed(), "{}: {}\n{}", r.name, r.mismatches.join("; "), r.outcome.render());
    }
}
