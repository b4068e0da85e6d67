//! `vpcsim import aws` end to end: what it writes, that the scenario holds,
//! and how it fails.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const FIXTURE: &str = "tests/import/aws-basic";
const WEB: &str = "i-0a1b2c3d4e5f66001";
const APP: &str = "i-0a1b2c3d4e5f66002";

fn vpcsim(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_vpcsim"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("the vpcsim binary runs")
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// A directory of this test's own, removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> TempDir {
        let path = std::env::temp_dir().join(format!("vpcsim-import-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).expect("create a temp dir");
        TempDir(path)
    }
    fn file(&self, name: &str, text: &str) {
        std::fs::write(self.0.join(name), text).expect("write a temp file");
    }
    fn join(&self, name: &str) -> String {
        self.0.join(name).to_str().expect("a UTF-8 temp path").to_owned()
    }
    fn path(&self) -> &str {
        self.0.to_str().expect("a UTF-8 temp path")
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn import_fixture() -> String {
    let out = vpcsim(&["import", "aws", FIXTURE]);
    assert_eq!(out.status.code(), Some(0), "stderr: {}", stderr(&out));
    assert_eq!(stderr(&out), "", "the fixture imports without a warning");
    String::from_utf8(out.stdout).expect("UTF-8")
}

#[test]
fn the_fixture_imports_validates_and_is_the_same_every_time() {
    let first = import_fixture();
    assert_eq!(first, import_fixture(), "byte-identical across runs");
    for id in ["vpc-0a1b2c3d4e5f60001", "igw-0a1b2c3d4e5f62001", "acl-0a1b2c3d4e5f65002", WEB, APP] {
        assert!(first.contains(&format!("id = \"{id}\"")), "{id} keeps its AWS id:\n{first}");
    }
    assert!(
        first.contains("{ rule = 90, action = \"deny\", proto = \"tcp\", ports = \"8081\", cidr = \"10.20.1.0/24\" }")
    );
    assert!(!first.contains("32767"), "the default deny is implied:\n{first}");
    assert!(first.contains("{ proto = \"tcp\", ports = \"8080-8081\", sg = \"sg-0a1b2c3d4e5f64001\" }"));

    let dir = TempDir::new("valid");
    let file = dir.join("shop.toml");
    let out = vpcsim(&["import", "aws", FIXTURE, "-o", &file]);
    assert_eq!(out.status.code(), Some(0), "stderr: {}", stderr(&out));
    assert_eq!(std::fs::read_to_string(&file).expect("written"), first, "-o writes what stdout shows");
    let leftovers: Vec<_> = std::fs::read_dir(dir.path()).expect("list").collect();
    assert_eq!(leftovers.len(), 1, "no temporary file is left behind");
    let out = vpcsim(&["validate", &file]);
    assert_eq!(out.status.code(), Some(0), "stderr: {}", stderr(&out));
}

#[test]
fn the_imported_network_carries_packets_as_aws_would() {
    let app_ip = "ip = \"10.20.2.20\"\n";
    let mut text = import_fixture();
    assert!(text.contains(app_ip), "{text}");
    // No API says what listens: the test says it.
    text = text.replace(app_ip, &format!("{app_ip}listen = [\"tcp/8080\", \"tcp/8081\", \"tcp/9090\"]\n"));
    text.push_str(&format!(
        r#"
[[host]]
id = "partner"
internet = true
ip = "198.51.100.7"
listen = ["tcp/443"]

[[expect]]
name = "web reaches app on a port app's group admits from web's group"
from = "{WEB}"
to = "{APP}"
proto = "tcp"
port = 8080
result = "connected"

[[expect]]
name = "a port app's group does not admit is dropped there"
from = "{WEB}"
to = "{APP}"
proto = "tcp"
port = 9090
result = "dropped"
drop_reason = "sg-ingress"
drop_at = "sg-0a1b2c3d4e5f64002"

[[expect]]
name = "the custom NACL's deny rule comes before its allow rule"
from = "{WEB}"
to = "{APP}"
proto = "tcp"
port = 8081
result = "dropped"
drop_reason = "nacl-ingress"
drop_at = "acl-0a1b2c3d4e5f65002"

[[expect]]
name = "the public instance reaches the internet through the internet gateway"
from = "{WEB}"
to = "partner"
proto = "tcp"
port = 443
result = "connected"
via = ["igw-0a1b2c3d4e5f62001"]
"#
    ));
    let dir = TempDir::new("check");
    dir.file("shop.toml", &text);
    let out = vpcsim(&["check", &dir.join("shop.toml")]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "stdout: {stdout}\nstderr: {}", stderr(&out));
    assert!(stdout.contains("4 passed"), "{stdout}");
}

#[test]
fn malformed_json_names_the_file_line_and_column_and_writes_nothing() {
    let dir = TempDir::new("malformed");
    dir.file("vpcs.json", "{\n    \"Vpcs\": [\n        {\"VpcId\": \"vpc-1\",}\n    ]\n}\n");
    let output = dir.join("out.toml");
    let out = vpcsim(&["import", "aws", dir.path(), "-o", &output]);
    assert_eq!(out.status.code(), Some(2), "stderr: {}", stderr(&out));
    let expected = format!("error: {}:3:27: trailing comma", dir.join("vpcs.json"));
    assert!(stderr(&out).starts_with(&expected), "{}", stderr(&out));
    assert!(!Path::new(&output).exists(), "nothing written");
}

#[test]
fn an_unsupported_route_target_is_a_warning_and_a_blackhole_and_strict_refuses_it() {
    let dir = TempDir::new("nat");
    dir.file(
        "a.json",
        r#"{ "Vpcs": [ { "VpcId": "vpc-1", "CidrBlock": "10.0.0.0/16" } ],
             "Subnets": [ { "SubnetId": "subnet-1", "VpcId": "vpc-1", "CidrBlock": "10.0.1.0/24", "AvailabilityZone": "us-west-2a" } ] }"#,
    );
    dir.file(
        "b.json",
        r#"{ "RouteTables": [ { "RouteTableId": "rtb-1", "VpcId": "vpc-1",
             "Associations": [ { "Main": true, "RouteTableId": "rtb-1" } ],
             "Routes": [
               { "DestinationCidrBlock": "10.0.0.0/16", "GatewayId": "local", "State": "active" },
               { "DestinationCidrBlock": "0.0.0.0/0", "NatGatewayId": "nat-0123456789abcdef0", "State": "active" } ] } ] }"#,
    );
    let output = dir.join("out.toml");
    let out = vpcsim(&["import", "aws", dir.path(), "-o", &output]);
    assert_eq!(out.status.code(), Some(0), "stderr: {}", stderr(&out));
    let expected = format!(
        "warning: {}: route rtb-1: 0.0.0.0/0: target NAT gateway nat-0123456789abcdef0 is not imported yet; written as a blackhole route\n",
        dir.join("b.json")
    );
    assert!(stderr(&out).starts_with(&expected), "{}", stderr(&out));
    let text = std::fs::read_to_string(&output).expect("written");
    assert!(text.contains("{ dest = \"0.0.0.0/0\", target = \"blackhole\" }"), "{text}");
    let out = vpcsim(&["validate", &output]);
    assert_eq!(out.status.code(), Some(0), "stderr: {}", stderr(&out));

    std::fs::remove_file(&output).expect("remove");
    let out = vpcsim(&["import", "aws", dir.path(), "-o", &output, "--strict"]);
    assert_eq!(out.status.code(), Some(2), "stderr: {}", stderr(&out));
    assert!(stderr(&out).contains("error: 1 warning with --strict; nothing written"), "{}", stderr(&out));
    assert!(!Path::new(&output).exists(), "nothing written");
}

#[test]
fn region_folders_one_level_down_are_read() {
    let dir = TempDir::new("regions");
    std::fs::create_dir_all(dir.0.join("us-east-1")).expect("mkdir");
    for entry in std::fs::read_dir(FIXTURE).expect("the fixture") {
        let entry = entry.expect("an entry");
        std::fs::copy(entry.path(), dir.0.join("us-east-1").join(entry.file_name())).expect("copy");
    }
    let out = vpcsim(&["import", "aws", dir.path()]);
    assert_eq!(out.status.code(), Some(0), "stderr: {}", stderr(&out));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("#   \"us-east-1/vpcs.json\"\n"), "{text}");
    let body = |t: &str| t.split_once("\nname = ").map(|(_, b)| b.to_owned());
    assert_eq!(body(&text), body(&import_fixture()), "the same network");
}

#[test]
fn a_subnet_routed_through_an_instance_keeps_its_middlebox() {
    let dir = TempDir::new("middlebox");
    dir.file(
        "network.json",
        r#"{ "Vpcs": [ { "VpcId": "vpc-1", "CidrBlock": "10.0.0.0/16" } ],
             "Subnets": [
               { "SubnetId": "subnet-a", "VpcId": "vpc-1", "CidrBlock": "10.0.1.0/24", "AvailabilityZone": "eu-west-1a" },
               { "SubnetId": "subnet-b", "VpcId": "vpc-1", "CidrBlock": "10.0.2.0/24", "AvailabilityZone": "eu-west-1b" } ],
             "SecurityGroups": [ { "GroupId": "sg-1", "VpcId": "vpc-1", "IpPermissions": [], "IpPermissionsEgress": [] } ],
             "RouteTables": [ { "RouteTableId": "rtb-1", "VpcId": "vpc-1",
               "Associations": [ { "Main": false, "RouteTableId": "rtb-1", "SubnetId": "subnet-a",
                                   "AssociationState": { "State": "associated" } } ],
               "Routes": [
                 { "DestinationCidrBlock": "10.0.0.0/16", "GatewayId": "local", "Origin": "CreateRouteTable", "State": "active" },
                 { "DestinationCidrBlock": "10.0.2.0/24", "InstanceId": "i-1", "InstanceOwnerId": "123456789012",
                   "NetworkInterfaceId": "eni-1", "Origin": "CreateRoute", "State": "active" } ] } ] }"#,
    );
    dir.file(
        "instances.json",
        r#"{ "Reservations": [ { "Instances": [ { "InstanceId": "i-1", "SubnetId": "subnet-a",
             "PrivateIpAddress": "10.0.1.10", "SecurityGroups": [ { "GroupName": "fw", "GroupId": "sg-1" } ],
             "SourceDestCheck": false, "State": { "Code": 16, "Name": "running" },
             "NetworkInterfaces": [ { "NetworkInterfaceId": "eni-1", "Attachment": { "DeviceIndex": 0 },
                                      "PrivateIpAddresses": [ { "Primary": true, "PrivateIpAddress": "10.0.1.10" } ] } ] } ] } ] }"#,
    );
    let output = dir.join("out.toml");
    let out = vpcsim(&["import", "aws", dir.path(), "-o", &output, "--strict"]);
    assert_eq!(out.status.code(), Some(0), "stderr: {}", stderr(&out));
    let text = std::fs::read_to_string(&output).expect("written");
    assert!(text.contains("{ dest = \"10.0.2.0/24\", target = \"i-1\" }"), "{text}");
    assert!(text.contains("source_dest_check = false"), "{text}");
    assert!(text.contains("egress = []"), "{text}");
    let out = vpcsim(&["validate", &output]);
    assert_eq!(out.status.code(), Some(0), "stderr: {}", stderr(&out));
}
