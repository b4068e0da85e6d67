//! The `vpcsim` binary end to end: exit codes and what it prints.

use std::path::PathBuf;
use std::process::{Command, Output};

fn vpcsim(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_vpcsim"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("the vpcsim binary runs")
}

/// A scenario file of this test's own, removed when dropped.
struct TempScenario(PathBuf);

impl TempScenario {
    fn new(name: &str, text: &str) -> TempScenario {
        let path = std::env::temp_dir().join(format!("vpcsim-cli-{}-{name}.toml", std::process::id()));
        std::fs::write(&path, text).expect("write a temp file");
        TempScenario(path)
    }
    fn path(&self) -> &str {
        self.0.to_str().expect("a UTF-8 temp path")
    }
}

impl Drop for TempScenario {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

#[test]
fn validate_counts_gateway_route_tables() {
    let out = vpcsim(&["validate", "scenarios/igw-ingress-inspection.toml"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "stderr: {}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("6 route tables (2 implicit main, 1 gateway route table)"), "{stdout}");
}

#[test]
fn validate_a_bundled_scenario() {
    let out = vpcsim(&["validate", "scenarios/two-subnets.toml"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "stderr: {}", String::from_utf8_lossy(&out.stderr));
    assert!(
        stdout.starts_with("scenarios/two-subnets.toml: valid — \"Two subnets and the local route\"\n"),
        "{stdout}"
    );
    assert!(stdout.contains("1 VPC, 2 subnets, 1 route table (1 implicit main)"), "{stdout}");
    assert!(
        stdout.contains("2 hosts, 0 gateway endpoints, 3 expectations, 11 AWS services in us-east-1; topology graph"),
        "{stdout}"
    );
}

#[test]
fn validate_every_bundled_scenario() {
    let mut args = vec!["validate".to_owned()];
    for entry in std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "toml") {
            args.push(path.display().to_string());
        }
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = vpcsim(&args);
    assert_eq!(out.status.code(), Some(0), "stderr: {}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn an_invalid_file_exits_2_with_file_line_column() {
    let bad = TempScenario::new(
        "bad",
        "name = \"bad\"\n[[vpc]]\nid = \"vpc-a\"\ncidr = \"10.0.0.0/16\"\n[[subnet]]\nid = \"s\"\nvpc = \"vpc-a\"\ncidr = \"10.1.0.0/24\"\n",
    );
    let out = vpcsim(&["validate", "scenarios/two-subnets.toml", bad.path()]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains(&format!("{}:8:8: error: s: 10.1.0.0/24 is not inside vpc-a 10.0.0.0/16", bad.path())),
        "{stderr}"
    );
    assert!(stderr.contains("8 | cidr = \"10.1.0.0/24\""), "{stderr}");
    // The valid file is still summarised.
    assert!(String::from_utf8_lossy(&out.stdout).contains("two-subnets.toml: valid"));
}

/// Issue 12, item 4: four files that `validate` accepted and whose hosts then
/// panicked smoltcp at start-up. Each is now refused, located at the address.
#[test]
fn issue_12_non_unicast_addresses_are_refused_by_validate_with_exit_2() {
    let vpc = "name = \"t\"\n[[vpc]]\nid = \"vpc-a\"\ncidr = \"10.0.0.0/16\"\n";
    let subnet = "[[subnet]]\nid = \"subnet-a\"\nvpc = \"vpc-a\"\ncidr = \"10.0.1.0/24\"\n";
    let host = "[[host]]\nid = \"web\"\nsubnet = \"subnet-a\"\nlisten = [\"tcp/80\"]\n";
    let cases = [
        (
            "internet-multicast",
            format!("{vpc}{subnet}{host}[[host]]\nid = \"far\"\ninternet = true\nip = \"ff02::1\"\n"),
            "16:6: error: ff02::1 is multicast (ff00::/8)",
        ),
        (
            "vpc-ipv6-multicast",
            "name = \"t\"\n[[vpc]]\nid = \"vpc-a\"\ncidr = \"10.0.0.0/16\"\nipv6_cidr = \"ff00::/56\"\n\
             [[subnet]]\nid = \"subnet-a\"\nvpc = \"vpc-a\"\ncidr = \"10.0.1.0/24\"\nipv6_cidr = \"ff00:0:0:1::/64\"\n"
                .to_owned(),
            "5:13: error: ff00::/56 is multicast (ff00::/8)",
        ),
        (
            "onprem-multicast",
            format!(
                "{vpc}{subnet}{host}[[onprem]]\nid = \"dc1\"\ncidr = \"224.0.0.0/8\"\n\
                 [[host]]\nid = \"laptop\"\nonprem = \"dc1\"\nip = \"224.0.0.10\"\n"
            ),
            "15:8: error: 224.0.0.0/8 is multicast (224.0.0.0/4)",
        ),
        (
            "vpc-multicast",
            format!("{}{host}", format!("{vpc}{subnet}").replace("10.0.", "224.0.")),
            "4:8: error: 224.0.0.0/16 is multicast (224.0.0.0/4)",
        ),
    ];
    for (name, text, expected) in cases {
        let file = TempScenario::new(name, &text);
        let out = vpcsim(&["validate", file.path()]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{name}: {stderr}");
        assert!(stderr.contains(&format!("{}:{expected}", file.path())), "{name}: {stderr}");
        assert!(!stderr.contains("panicked"), "{name}: {stderr}");
    }
}

#[test]
fn a_missing_file_exits_2() {
    let out = vpcsim(&["validate", "does/not/exist.toml"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("does/not/exist.toml: error: cannot read the file:"), "{stderr}");
}

const WRONG_ON_PURPOSE: &str = r#"
name = "wrong on purpose"
[[vpc]]
id = "vpc-a"
cidr = "10.0.0.0/16"
[[subnet]]
id = "subnet-1"
vpc = "vpc-a"
cidr = "10.0.1.0/24"
[[security_group]]
id = "sg-web"
vpc = "vpc-a"
ingress = [ { proto = "tcp", ports = "443", cidr = "10.0.0.0/16" } ]
[[host]]
id = "client"
subnet = "subnet-1"
[[host]]
id = "web"
subnet = "subnet-1"
security_groups = ["sg-web"]
listen = ["tcp/443"]
[[expect]]
name = "web answers on 443"
from = "client"
to = "web"
proto = "tcp"
port = 443
result = "connected"
[[expect]]
name = "claims 22 is open"
from = "client"
to = "web"
proto = "tcp"
port = 22
result = "connected"
[[expect]]
name = "claims the wrong drop reason"
from = "client"
to = "web"
proto = "tcp"
port = 22
result = "dropped"
drop_reason = "nacl-ingress"
"#;

#[test]
fn check_passes_the_bundled_scenarios() {
    let out = vpcsim(&["check", "scenarios/two-subnets.toml", "scenarios/nacl-ephemeral.toml"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(stdout.trim_end().ends_with(" passed, 0 failed"), "{stdout}");
}

#[test]
fn check_exits_1_and_names_the_failing_expectations() {
    let file = TempScenario::new("wrong", WRONG_ON_PURPOSE);
    let out = vpcsim(&["check", file.path()]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("  ok    web answers on 443"), "{stdout}");
    assert!(stdout.contains("  FAIL  claims 22 is open\n        result: expected connected, got dropped (sg-ingress at sg-web, forward leg)"), "{stdout}");
    assert!(
        stdout.contains(
            "  FAIL  claims the wrong drop reason\n        drop_reason: expected nacl-ingress, got sg-ingress"
        ),
        "{stdout}"
    );
    // The failing ones come with their trace.
    assert!(stdout.contains("|       client (eni-client) sends tcp 10.0.1.4:"), "{stdout}");
    assert!(stdout.trim_end().ends_with("1 passed, 2 failed"), "{stdout}");
}

#[test]
fn check_exits_2_on_an_invalid_file_and_simulates_nothing() {
    let bad = TempScenario::new(
        "check-invalid",
        &WRONG_ON_PURPOSE.replace(
            "to = \"web\"\nproto = \"tcp\"\nport = 22\nresult = \"connected\"",
            "to = \"web!\"\nproto = \"tcp\"\nport = 22\nresult = \"connected\"",
        ),
    );
    let out = vpcsim(&["check", "scenarios/two-subnets.toml", bad.path()]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains(&format!("{}:", bad.path())), "{stderr}");
    assert!(String::from_utf8_lossy(&out.stdout).is_empty(), "nothing simulated");
}

#[test]
fn trace_tells_both_legs_and_json_says_the_same() {
    let args = [
        "trace",
        "scenarios/nacl-ephemeral.toml",
        "--from",
        "client",
        "--to",
        "54.0.0.20",
        "--proto",
        "tcp",
        "--port",
        "443",
    ];
    let out = vpcsim(&args);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(text.contains("result: dropped (nacl-egress at acl-broken, return leg)"), "{text}");
    assert!(text.contains("→ forward") && text.contains("← return"), "{text}");
    assert!(text.contains("route table rtb-public: 198.51.100.7 matches 0.0.0.0/0 → igw-main"), "{text}");

    let mut json_args = args.to_vec();
    json_args.push("--json");
    let out = vpcsim(&json_args);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("valid JSON");
    assert_eq!(v["result"], "dropped");
    assert_eq!(v["drop"]["reason"], "nacl-egress");
    assert_eq!(v["drop"]["at"], "acl-broken");
    assert_eq!(v["drop"]["on"], "return");
    assert_eq!(v["frames"][0]["leg"], "forward");
    assert!(v["frames"][0]["steps"].as_array().is_some_and(|s| s.iter().any(|s| s["kind"] == "network-acl")));
}

#[test]
fn trace_rejects_a_malformed_destination_before_running() {
    let out = vpcsim(&[
        "trace",
        "scenarios/two-subnets.toml",
        "--from",
        "app",
        "--to",
        "not a name",
        "--proto",
        "tcp",
        "--port",
        "5432",
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("command line: error:"), "{stderr}");
    let out = vpcsim(&[
        "trace",
        "scenarios/two-subnets.toml",
        "--from",
        "app",
        "--to",
        "db",
        "--proto",
        "tcp",
        "--port",
        "70000",
    ]);
    assert_eq!(out.status.code(), Some(2));
    let out = vpcsim(&[
        "trace",
        "scenarios/two-subnets.toml",
        "--from",
        "app",
        "--to",
        "db",
        "--proto",
        "sctp",
        "--port",
        "1",
    ]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn run_writes_pcaps_that_read_back() {
    let dir = std::env::temp_dir().join(format!("vpcsim-cli-pcap-{}", std::process::id()));
    let flows = format!(
        "{WRONG_ON_PURPOSE}\n[[flow]]\nfrom = \"client\"\nto = \"web\"\nproto = \"tcp\"\nport = 443\nrequests = 2\n"
    );
    let file = TempScenario::new("run", &flows);
    let out = vpcsim(&["run", file.path(), "--pcap", dir.to_str().unwrap()]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("client → web tcp/443: 2 requests, 2 succeeded"), "{stdout}");
    let pcap = std::fs::read(dir.join("subnet-1.pcap")).expect("a pcap for subnet-1");
    assert_eq!(&pcap[0..4], &0xa1b2_c3d4u32.to_le_bytes());
    assert!(pcap.len() > 24 + 16 * 6);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn issue_12_bench_refuses_a_billion_workers_and_zero_packets_with_clear_errors() {
    for (flag, value, words) in
        [("--workers", "1000000000", "limit of 256 workers"), ("--packets", "0", "times nothing")]
    {
        let out = vpcsim(&["bench", "scenarios/public-private.toml", flag, value]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{stderr}");
        assert!(stderr.contains(words), "{stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
        assert!(!String::from_utf8_lossy(&out.stdout).contains("ns/packet"));
    }
}

#[test]
fn issue_12_trace_refuses_times_past_the_limits_instead_of_overflowing() {
    for (flag, value, words) in [("--at", "5124095576030431h", "at most 8760h"), ("--timeout", "87600h", "at most 1h")]
    {
        let out = vpcsim(&[
            "trace",
            "scenarios/public-private.toml",
            "--from",
            "web",
            "--to",
            "198.51.100.7",
            "--proto",
            "tcp",
            "--port",
            "80",
            flag,
            value,
        ]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{stderr}");
        assert!(stderr.contains(words), "{stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
}

#[test]
fn issue_12_run_jumps_to_a_flow_a_day_later_and_reports_it() {
    let text = std::fs::read_to_string("scenarios/public-private.toml").expect("the bundled scenario");
    let later = TempScenario::new(
        "a-day-later",
        &format!(
            "{text}\n[[flow]]\nfrom = \"web\"\nto = \"198.51.100.7\"\nproto = \"tcp\"\nport = 80\nstart = \"24h\"\n"
        ),
    );
    let out = vpcsim(&["run", later.path()]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("simulated 86400."), "{stdout}");
    assert!(stdout.contains("1 requests, 1 succeeded"), "{stdout}");
}

#[test]
fn issue_13_an_unknown_drop_reason_fails_validate_with_a_suggestion() {
    let text =
        std::fs::read_to_string(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/blackhole.toml"))
            .expect("a bundled scenario");
    let (line, _) = text.lines().enumerate().find(|(_, l)| l.starts_with("drop_reason = \"blackhole\"")).expect("one");
    let file =
        TempScenario::new("blackhol", &text.replacen("drop_reason = \"blackhole\"", "drop_reason = \"blackhol\"", 1));
    let out = vpcsim(&["validate", file.path()]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    let located =
        format!("{}:{}:15: error: `blackhol` is not a drop reason: did you mean `blackhole`?", file.path(), line + 1);
    assert!(stderr.contains(&located), "{stderr}");
}
