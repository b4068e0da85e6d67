//! Issue 12, items 5, 8, 9 and 11: vpcsim's documented limits
//! (`vpcsim_model::limits`, docs/reliability.md) are refused at load, each a
//! located error that names the limit.

use vpcsim_scenario::load_str;

const BASE: &str = r#"name = "t"
[[vpc]]
id = "vpc-a"
cidr = "10.0.0.0/16"

[[subnet]]
id = "subnet-a"
vpc = "vpc-a"
cidr = "10.0.1.0/24"

[[host]]
id = "a"
subnet = "subnet-a"
ip = "10.0.1.10"

[[host]]
id = "b"
subnet = "subnet-a"
ip = "10.0.1.11"
listen = ["tcp/80"]
"#;

/// The errors of `BASE` followed by `rest`, as `line:column: message`.
fn errors(rest: &str) -> String {
    let src = format!("{BASE}{rest}");
    match load_str(&src, "limits.toml") {
        Ok(_) => panic!("valid, expected an error:\n{rest}"),
        Err(d) => {
            d.errors.iter().map(|e| format!("{}:{}: {}", e.line, e.column, e.message)).collect::<Vec<_>>().join("\n")
        }
    }
}

/// Refused with `needle`, located on the last line of `rest` (where the value is).
#[track_caller]
fn refused_on_last_line(rest: &str, needle: &str) {
    let err = errors(rest);
    let line = BASE.lines().count() + rest.trim_end().lines().count();
    assert!(err.contains(needle), "expected `{needle}` in:\n{err}");
    assert!(err.starts_with(&format!("{line}:")), "expected the error on line {line}:\n{err}");
}

#[track_caller]
fn loads(rest: &str) {
    if let Err(d) = load_str(&format!("{BASE}{rest}"), "limits.toml") {
        panic!("refused:\n{d}");
    }
}

const FLOW: &str = "\n[[flow]]\nfrom = \"a\"\nto = \"b\"\nproto = \"tcp\"\nport = 80\n";
const EXPECT: &str = "\n[[expect]]\nfrom = \"a\"\nto = \"b\"\nproto = \"tcp\"\nport = 80\nresult = \"connected\"\n";

#[test]
fn issue_12_a_flow_starting_past_a_year_is_refused_not_overflowed() {
    refused_on_last_line(&format!("{FLOW}start = \"5124095576030431h\"\n"), "at most 8760h");
    refused_on_last_line(&format!("{FLOW}start = \"8761h\"\n"), "`start`");
    loads(&format!("{FLOW}start = \"8760h\"\n"));
}

#[test]
fn issue_12_an_expectation_at_or_waiting_past_the_limits_is_refused() {
    refused_on_last_line(&format!("{EXPECT}at = \"99999999h\"\n"), "`at`");
    refused_on_last_line(&format!("{EXPECT}timeout = \"87600h\"\n"), "at most 1h");
    loads(&format!("{EXPECT}at = \"8760h\"\ntimeout = \"1h\"\n"));
}

#[test]
fn issue_12_an_event_past_a_year_is_refused() {
    let src = "\n[[event]]\nat = \"9000h\"\naction = \"target-down\"\ntarget = \"b\"\n";
    let err = errors(src);
    assert!(err.contains("at most 8760h"), "{err}");
}

#[test]
fn issue_12_requests_past_the_limit_are_refused_not_wrapped() {
    refused_on_last_line(&format!("{FLOW}requests = 4294967295\n"), "between 1 and 100000");
    refused_on_last_line(&format!("{FLOW}requests = 0\n"), "between 1 and 100000");
    loads(&format!("{FLOW}requests = 100000\n"));
    // Two flows share one simulation: the limit is for the file.
    let two = format!("{FLOW}requests = 60000\n{FLOW}requests = 60000\n");
    refused_on_last_line(&two, "120000 requests in all");
}

#[test]
fn issue_12_hop_latency_past_the_limit_is_refused() {
    let src = BASE.replacen("name = \"t\"\n", "name = \"t\"\nhop_latency = \"1s\"\n", 1);
    let err = match load_str(&src, "limits.toml") {
        Ok(_) => panic!("hop_latency = 1s loaded"),
        Err(d) => d.to_string(),
    };
    assert!(err.contains("at most 100ms"), "{err}");
    let ok = BASE.replacen("name = \"t\"\n", "name = \"t\"\nhop_latency = \"100ms\"\n", 1);
    assert!(load_str(&ok, "limits.toml").is_ok());
}

#[test]
fn issue_12_a_host_may_listen_on_every_port() {
    let ports: Vec<String> = (1..=65535).flat_map(|p| [format!("\"tcp/{p}\""), format!("\"udp/{p}\"")]).collect();
    loads(&format!(
        "\n[[host]]\nid = \"c\"\nsubnet = \"subnet-a\"\nip = \"10.0.1.12\"\nlisten = [{}]\n",
        ports.join(", ")
    ));
    refused_on_last_line(
        "\n[[host]]\nid = \"c\"\nsubnet = \"subnet-a\"\nip = \"10.0.1.12\"\nlisten = [\"tcp/80\", \"udp/80\", \"tcp/80\"]\n",
        "`tcp/80` is listed twice",
    );
}

#[test]
fn issue_12_loopback_multicast_and_ipv4_mapped_destinations_are_refused() {
    for (to, what) in [
        ("::1", "loopback"),
        ("127.0.0.1", "loopback"),
        ("::ffff:10.0.1.11", "IPv4-mapped"),
        ("0.0.0.0", "unspecified"),
        ("224.0.0.1", "multicast"),
        ("ff02::1", "multicast"),
        ("255.255.255.255", "broadcast"),
    ] {
        let rest =
            format!("\n[[expect]]\nfrom = \"a\"\nproto = \"tcp\"\nport = 80\nresult = \"dropped\"\nto = \"{to}\"\n");
        refused_on_last_line(&rest, what);
    }
    // The link-local services stay reachable by address.
    loads("\n[[expect]]\nfrom = \"a\"\nto = \"169.254.169.254\"\nproto = \"tcp\"\nport = 80\nresult = \"connected\"\n");
}
