//! Every example of the scenario contract (`shared/spec/scenario-format.md`),
//! assembled into one file: it must load, and its expectation must hold.

use std::sync::Arc;

use vpcsim_engine::{SimConfig, check};

const TOUR: &str = r#"
name = "Gateway endpoint to S3"
description = "..."
seed = 42

[[vpc]]
id = "vpc-app"
cidr = "10.0.0.0/16"
ipv6_cidr = "2600:1f18:aa:100::/56"
region = "us-east-1"
account = "111111111111"
private_dns = true

[[subnet]]
id = "subnet-app-a"
vpc = "vpc-app"
cidr = "10.0.1.0/24"
ipv6_cidr = "2600:1f18:aa:101::/64"
az = "us-east-1a"
route_table = "rtb-app"
nacl = "acl-app"

[[subnet]]
id = "subnet-app-b"
vpc = "vpc-app"
cidr = "10.0.2.0/24"
az = "us-east-1b"

[[route_table]]
id = "rtb-app"
vpc = "vpc-app"
main = false
routes = [
  { dest = "0.0.0.0/0", target = "igw-main" },
  { dest = "192.0.2.0/24", target = "blackhole" },
]

[[prefix_list]]
id = "pl-office"
entries = ["203.0.113.0/24", "198.51.100.0/24"]

[[internet_gateway]]
id = "igw-main"
vpc = "vpc-app"

[[security_group]]
id = "sg-bastion"
vpc = "vpc-app"

[[security_group]]
id = "sg-web"
vpc = "vpc-app"
ingress = [
  { proto = "tcp", ports = "443", cidr = "10.0.0.0/16" },
  { proto = "tcp", ports = "22", sg = "sg-bastion" },
]
egress = [
  { proto = "tcp", ports = "443", prefix_list = "pl-s3" },
  { proto = "all", cidr = "0.0.0.0/0" },
]

[[security_group]]
id = "sg-endpoint"
vpc = "vpc-app"
ingress = [ { proto = "tcp", ports = "443", cidr = "10.0.0.0/16" } ]

[[nacl]]
id = "acl-app"
vpc = "vpc-app"
ingress = [
  { rule = 100, action = "allow", proto = "tcp", ports = "443", cidr = "0.0.0.0/0" },
  { rule = 200, action = "allow", proto = "tcp", ports = "1024-65535", cidr = "0.0.0.0/0" },
]
egress = [
  { rule = 100, action = "allow", proto = "all", cidr = "0.0.0.0/0" },
]

[[host]]
id = "app1"
subnet = "subnet-app-a"
ip = "10.0.1.10"
ipv6 = "2600:1f18:aa:101::10"
public_ip = "54.0.0.10"
security_groups = ["sg-web"]
listen = ["tcp/443", "udp/53"]

[[host]]
id = "client"
internet = true
ip = "198.51.100.7"
listen = ["tcp/80"]

[[gateway_endpoint]]
id = "vpce-s3"
vpc = "vpc-app"
service = "s3"
route_tables = ["rtb-app"]
policy = '{ "Statement": [ { "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "*" } ] }'

[[interface_endpoint]]
id = "vpce-kms"
vpc = "vpc-app"
service = "kms"
subnets = ["subnet-app-a", "subnet-app-b"]
security_groups = ["sg-endpoint"]
private_dns = true
principal = "arn:aws:iam::111111111111:root"

# provider
[[vpc]]
id = "vpc-prov"
cidr = "10.8.0.0/16"
account = "222222222222"

[[subnet]]
id = "subnet-prov-a"
vpc = "vpc-prov"
cidr = "10.8.1.0/24"
az = "us-east-1a"

[[host]]
id = "orders1"
subnet = "subnet-prov-a"
listen = ["tcp/8443"]

[[host]]
id = "orders2"
subnet = "subnet-prov-a"
listen = ["tcp/8443"]

[[load_balancer]]
id = "nlb-orders"
type = "network"
subnets = ["subnet-prov-a"]
cross_zone = false
listeners = [ { proto = "tcp", port = 443, targets = ["orders1", "orders2"], target_port = 8443 } ]

[[endpoint_service]]
id = "vpce-svc-orders"
load_balancer = "nlb-orders"
acceptance_required = true
allowed_principals = ["arn:aws:iam::111111111111:root"]
private_dns_name = "orders.example.com"

[[interface_endpoint]]
id = "vpce-orders"
vpc = "vpc-app"
service = "vpce-svc-orders"
subnets = ["subnet-app-a"]
security_groups = ["sg-endpoint"]

[[event]]
at = "2s"
action = "accept"
endpoint = "vpce-orders"

[[nat_gateway]]
id = "nat-a"
subnet = "subnet-app-b"
ip = "10.0.2.50"
public_ip = "54.0.0.50"

[[egress_only_internet_gateway]]
id = "eigw-main"
vpc = "vpc-app"

[[vpc]]
id = "vpc-a"
cidr = "10.1.0.0/16"

[[vpc]]
id = "vpc-b"
cidr = "10.2.0.0/16"

[[subnet]]
id = "subnet-a-tgw"
vpc = "vpc-a"
cidr = "10.1.9.0/24"
az = "us-east-1a"

[[subnet]]
id = "subnet-b-tgw"
vpc = "vpc-b"
cidr = "10.2.9.0/24"
az = "us-east-1a"

[[vpc_peering]]
id = "pcx-ab"
requester = "vpc-a"
accepter = "vpc-b"

[[transit_gateway]]
id = "tgw-hub"
default_route_table = "tgw-rtb-main"

[[tgw_attachment]]
id = "tgw-attach-a"
transit_gateway = "tgw-hub"
vpc = "vpc-a"
subnets = ["subnet-a-tgw"]
appliance_mode = false

[[tgw_attachment]]
id = "tgw-attach-b"
transit_gateway = "tgw-hub"
vpc = "vpc-b"
subnets = ["subnet-b-tgw"]

[[tgw_route_table]]
id = "tgw-rtb-main"
transit_gateway = "tgw-hub"
associations = ["tgw-attach-a", "tgw-attach-b"]
propagations = ["tgw-attach-a", "tgw-attach-b"]
routes = [ { dest = "10.99.0.0/16", attachment = "tgw-attach-a" },
           { dest = "10.66.0.0/16", target = "blackhole" } ]

[[onprem]]
id = "dc1"
cidr = "192.168.0.0/16"

[[vpn_gateway]]
id = "vgw-a"
vpc = "vpc-a"

[[vpn_connection]]
id = "vpn-dc1"
onprem = "dc1"
gateway = "vgw-a"
type = "vpn"

[[host]]
id = "laptop"
onprem = "dc1"
ip = "192.168.1.5"

[[dns_zone]]
id = "zone-shared"
name = "kms.us-east-1.amazonaws.com"
vpcs = ["vpc-a", "vpc-b"]
records = [ { name = "kms.us-east-1.amazonaws.com", alias = "vpce-kms" } ]

[[flow]]
from = "app1"
to = "orders.example.com"
proto = "tcp"
port = 443
start = "1s"
requests = 10

[[expect]]
name = "app reaches S3 over the gateway endpoint"
from = "app1"
to = "s3.us-east-1.amazonaws.com"
proto = "tcp"
port = 443
at = "3s"
timeout = "1s"
request = { action = "s3:GetObject", resource = "arn:aws:s3:::reports/q1.csv" }
result = "connected"
via = ["vpce-s3"]
"#;

#[test]
fn the_contract_examples_load_and_hold() {
    let t = Arc::new(vpcsim_scenario::load_str(TOUR, "tour.toml").unwrap_or_else(|e| panic!("{e}")));
    assert_eq!(t.vpcs.len(), 4);
    assert_eq!(t.interface_endpoints.len(), 2);
    assert_eq!(t.events.len(), 1);
    for r in check(&t, SimConfig::default()) {
        assert!(r.passed(), "{}: {:?}\n{}", r.name, r.mismatches, r.outcome.render());
    }
}
