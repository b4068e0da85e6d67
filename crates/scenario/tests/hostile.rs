//! Hostile scenario files: huge, absurd, or malformed in every field. Each is
//! answered with located errors or loaded, within bounded time, and never
//! with a panic. Random mutations of valid files never panic the loader.
//!
//! The 100,000-rule files are `#[ignore]`d (a debug build takes longer than
//! the test run should); `scripts/hostile-release.sh` runs them in release
//! mode. Their 10,000-rule versions run every time.

use std::fmt::Write as _;
use std::time::{Duration, Instant};

use vpcsim_model::Topology;
use vpcsim_scenario::{Diagnostics, load_str};

/// Loads `src`, checks that every error is located (line and column inside
/// the text) and renders, and returns the outcome.
fn load(src: &str) -> Result<Topology, Diagnostics> {
    let result = load_str(src, "hostile.toml");
    if let Err(d) = &result {
        assert!(!d.errors.is_empty(), "an error without a diagnostic");
        let lines = src.lines().count().max(1);
        for e in &d.errors {
            assert!(e.line >= 1 && e.line <= lines + 1, "line {} of {lines}: {}", e.line, e.message);
            assert!(e.column >= 1, "no column: {}", e.message);
            assert!(!e.message.is_empty());
        }
        // Rendering never panics, whatever the text.
        let _ = d.to_string();
    }
    result
}

/// The errors of an invalid scenario, as `line:column: message` lines.
fn error_of(src: &str) -> String {
    match load(src) {
        Ok(_) => panic!("the scenario is valid, expected an error:\n{}", &src[..src.len().min(2000)]),
        Err(d) => {
            d.errors.iter().map(|e| format!("{}:{}: {}", e.line, e.column, e.message)).collect::<Vec<_>>().join("\n")
        }
    }
}

/// Asserts the scenario is refused with an error containing `needle`.
#[track_caller]
fn refused(src: &str, needle: &str) {
    let err = error_of(src);
    assert!(err.contains(needle), "expected `{needle}` in:\n{err}");
}

const BASE: &str = r#"name = "t"
[[vpc]]
id = "vpc-a"
cidr = "10.0.0.0/16"
ipv6_cidr = "2600:1f18:aa:100::/56"

[[subnet]]
id = "subnet-a"
vpc = "vpc-a"
cidr = "10.0.1.0/24"
ipv6_cidr = "2600:1f18:aa:101::/64"
"#;

fn with_base(rest: &str) -> String {
    format!("{BASE}{rest}")
}

/// A deterministic xorshift64* generator: the same bytes on every machine.
struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

// ---------------------------------------------------------------------------
// Huge files.

/// A NACL with `n` rules (split over ingress and egress, at most 32,766 per
/// direction, so over several NACLs) and a security group with `n` rules.
fn many_rules(n: usize) -> String {
    let mut s = with_base("");
    let per_nacl = 2 * 32_000;
    let nacls = n.div_ceil(per_nacl);
    for a in 0..nacls {
        let here = (n - a * per_nacl).min(per_nacl);
        let _ = write!(s, "\n[[nacl]]\nid = \"acl-{a}\"\nvpc = \"vpc-a\"\n");
        for (dir, count) in [("ingress", here / 2), ("egress", here - here / 2)] {
            let _ = writeln!(s, "{dir} = [");
            for i in 0..count {
                let action = if i % 3 == 0 { "deny" } else { "allow" };
                let _ = writeln!(
                    s,
                    "  {{ rule = {}, action = \"{action}\", proto = \"tcp\", ports = \"{}\", cidr = \"10.{}.{}.0/24\" }},",
                    i + 1,
                    i % 65536,
                    (i / 256) % 256,
                    i % 256
                );
            }
            let _ = writeln!(s, "]");
        }
    }
    let _ = write!(s, "\n[[security_group]]\nid = \"sg-big\"\nvpc = \"vpc-a\"\ningress = [\n");
    for i in 0..n {
        let _ = writeln!(
            s,
            "  {{ proto = \"udp\", ports = \"{}-{}\", cidr = \"{}.{}.{}.0/24\" }},",
            i % 1000,
            1000 + i % 1000,
            1 + (i / 65536) % 200,
            (i / 256) % 256,
            i % 256
        );
    }
    let _ = writeln!(s, "]");
    s.push_str("\n[[host]]\nid = \"h\"\nsubnet = \"subnet-a\"\nsecurity_groups = [\"sg-big\"]\n");
    s
}

fn loads_in_bounded_time(n: usize, bound: Duration) {
    let src = many_rules(n);
    let start = Instant::now();
    let t = load(&src).unwrap_or_else(|e| panic!("{e}"));
    let took = start.elapsed();
    let nacl_rules: usize = t.nacls.iter().filter(|a| !a.is_default).map(|a| a.ingress.len() + a.egress.len()).sum();
    assert_eq!(nacl_rules, n);
    let sg = t.security_groups.iter().find(|g| g.id == "sg-big").unwrap();
    assert_eq!(sg.ingress.len(), n);
    eprintln!("{n} NACL rules + {n} SG rules ({} bytes) loaded in {took:?}", src.len());
    assert!(took < bound, "{n} rules took {took:?} (bound {bound:?})");
}

#[test]
fn ten_thousand_nacl_and_sg_rules_load_in_bounded_time() {
    loads_in_bounded_time(10_000, Duration::from_secs(20));
}

/// Release mode: `scripts/hostile-release.sh` (about a second there).
#[test]
#[ignore = "100,000 rules: slow in a debug build; run by scripts/hostile-release.sh in release mode"]
fn a_hundred_thousand_nacl_and_sg_rules_load_in_bounded_time() {
    loads_in_bounded_time(100_000, Duration::from_secs(30));
}

fn routes_load_in_bounded_time(n: u32, bound: Duration) {
    let mut s = with_base("\n[[internet_gateway]]\nid = \"igw\"\nvpc = \"vpc-a\"\n");
    s.push_str("\n[[route_table]]\nid = \"rtb-big\"\nvpc = \"vpc-a\"\nroutes = [\n");
    for i in 0..n {
        let _ = writeln!(
            s,
            "  {{ dest = \"{}.{}.{}.0/24\", target = \"igw\" }},",
            100 + i / 65536,
            (i / 256) % 256,
            i % 256
        );
    }
    s.push_str("]\n");
    let start = Instant::now();
    let t = load(&s).unwrap_or_else(|e| panic!("{e}"));
    let took = start.elapsed();
    eprintln!("{n} routes loaded in {took:?}");
    assert!(t.route_tables.iter().any(|r| r.routes.len() > n as usize));
    assert!(took < bound, "{n} routes took {took:?} (bound {bound:?})");
}

#[test]
fn ten_thousand_routes_load_in_bounded_time() {
    routes_load_in_bounded_time(10_000, Duration::from_secs(20));
}

#[test]
#[ignore = "100,000 routes: slow in a debug build; run by scripts/hostile-release.sh in release mode"]
fn a_hundred_thousand_routes_load_in_bounded_time() {
    routes_load_in_bounded_time(100_000, Duration::from_secs(30));
}

#[test]
fn ten_thousand_hosts_in_a_small_subnet_are_refused_in_bounded_time() {
    // A /24 has 251 usable addresses: the rest of the hosts get one error each.
    let mut s = with_base("");
    for i in 0..10_000 {
        let _ = write!(s, "\n[[host]]\nid = \"h{i}\"\nsubnet = \"subnet-a\"\n");
    }
    let start = Instant::now();
    let err = error_of(&s);
    let took = start.elapsed();
    assert_eq!(err.lines().count(), 10_000 - 251, "{}", &err[..500]);
    assert!(err.lines().all(|l| l.contains("has no free address left")));
    assert!(took < Duration::from_secs(20), "{took:?}");
}

// ---------------------------------------------------------------------------
// Absurd networks.

#[test]
fn a_slash_zero_vpc_is_an_error() {
    refused("name = \"t\"\n[[vpc]]\nid = \"vpc-a\"\ncidr = \"0.0.0.0/0\"\n", "must be between /16 and /28");
    refused(
        "name = \"t\"\n[[vpc]]\nid = \"vpc-a\"\ncidr = \"10.0.0.0/16\"\nipv6_cidr = \"::/0\"\n",
        "IPv6 CIDR must be between",
    );
}

#[test]
fn a_slash_zero_subnet_is_an_error() {
    refused(&with_base("\n[[subnet]]\nid = \"s0\"\nvpc = \"vpc-a\"\ncidr = \"0.0.0.0/0\"\n"), "0.0.0.0/0");
    refused(
        &with_base("\n[[subnet]]\nid = \"s0\"\nvpc = \"vpc-a\"\ncidr = \"10.0.2.0/24\"\nipv6_cidr = \"::/0\"\n"),
        "::/0",
    );
}

#[test]
fn an_ipv6_slash_64_with_hosts_to_allocate_is_bounded() {
    // 2^64 IPv6 addresses: addresses are never enumerated. Hosts without an
    // address get IPv4 ones from the /28 (11 usable); the rest are refused.
    let mut s = String::from(
        "name = \"t\"\n[[vpc]]\nid = \"vpc-a\"\ncidr = \"10.0.0.0/16\"\nipv6_cidr = \"2600:1f18:aa:100::/56\"\n\
         [[subnet]]\nid = \"s6\"\nvpc = \"vpc-a\"\ncidr = \"10.0.1.0/28\"\nipv6_cidr = \"2600:1f18:aa:101::/64\"\n",
    );
    for i in 0..11 {
        let _ = write!(s, "\n[[host]]\nid = \"h{i}\"\nsubnet = \"s6\"\n");
    }
    let start = Instant::now();
    let t = load(&s).unwrap_or_else(|e| panic!("{e}"));
    let mine: Vec<_> = t.hosts.iter().filter(|h| h.service.is_none()).collect();
    assert_eq!(mine.len(), 11);
    assert!(mine.iter().all(|h| t.eni(h.eni).ipv6.is_none()), "IPv6 addresses are only given explicitly");
    // The highest address of the /64 works as an explicit address...
    let explicit =
        with_base("\n[[host]]\nid = \"top\"\nsubnet = \"subnet-a\"\nipv6 = \"2600:1f18:aa:101:ffff:ffff:ffff:fffe\"\n");
    load(&explicit).unwrap_or_else(|e| panic!("{e}"));
    // ... and the last one is AWS's.
    refused(
        &with_base(
            "\n[[host]]\nid = \"top\"\nsubnet = \"subnet-a\"\nipv6 = \"2600:1f18:aa:101:ffff:ffff:ffff:ffff\"\n",
        ),
        "reserved by AWS",
    );
    s.push_str("\n[[host]]\nid = \"one-too-many\"\nsubnet = \"s6\"\n");
    refused(&s, "has no free address left for `one-too-many`");
    assert!(start.elapsed() < Duration::from_secs(5));
}

#[test]
fn a_route_to_the_vpc_itself_is_refused() {
    let src = with_base(
        "\n[[route_table]]\nid = \"rtb\"\nvpc = \"vpc-a\"\nroutes = [ { dest = \"10.0.0.0/16\", target = \"blackhole\" } ]\n",
    );
    refused(&src, "already routed by the local route of vpc-a");
}

#[test]
fn a_route_through_the_sender_itself_loads() {
    // The middlebox's own subnet routes everything to the middlebox: AWS
    // accepts it, and the data plane hands such packets back to it (a
    // dataplane test sends one).
    let src = with_base(
        "\n[[route_table]]\nid = \"rtb\"\nvpc = \"vpc-a\"\nroutes = [ { dest = \"0.0.0.0/0\", target = \"fw\" } ]\n\
         \n[[subnet]]\nid = \"subnet-fw\"\nvpc = \"vpc-a\"\ncidr = \"10.0.9.0/24\"\nroute_table = \"rtb\"\n\
         \n[[host]]\nid = \"fw\"\nsubnet = \"subnet-fw\"\nsource_dest_check = false\n",
    );
    load(&src).unwrap_or_else(|e| panic!("{e}"));
}

#[test]
fn a_route_to_a_target_in_another_vpc_is_refused() {
    let src = with_base(
        "\n[[vpc]]\nid = \"vpc-b\"\ncidr = \"10.1.0.0/16\"\n\
         [[internet_gateway]]\nid = \"igw-b\"\nvpc = \"vpc-b\"\n\
         [[subnet]]\nid = \"subnet-b\"\nvpc = \"vpc-b\"\ncidr = \"10.1.1.0/24\"\n\
         [[host]]\nid = \"hb\"\nsubnet = \"subnet-b\"\n\
         [[route_table]]\nid = \"rtb\"\nvpc = \"vpc-a\"\nroutes = [ { dest = \"0.0.0.0/0\", target = \"igw-b\" }, { dest = \"10.9.0.0/16\", target = \"hb\" } ]\n",
    );
    let err = error_of(&src);
    assert!(err.contains("`igw-b` is in vpc-b, but `rtb` belongs to vpc-a"), "{err}");
    assert!(err.contains("`hb` is in vpc-b, but `rtb` belongs to vpc-a"), "{err}");
}

#[test]
fn security_groups_referencing_themselves_and_each_other_load() {
    let src = with_base(
        r#"
[[security_group]]
id = "sg-a"
vpc = "vpc-a"
ingress = [ { proto = "tcp", ports = "1-100", sg = "sg-b" }, { proto = "all", sg = "sg-a" } ]
egress = [ { proto = "all", sg = "sg-b" } ]

[[security_group]]
id = "sg-b"
vpc = "vpc-a"
ingress = [ { proto = "tcp", ports = "1-100", sg = "sg-a" } ]
egress = [ { proto = "all", sg = "sg-a" }, { proto = "all", sg = "sg-b" } ]
"#,
    );
    let t = load(&src).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(t.security_groups.iter().filter(|g| !g.is_default).count(), 2);
}

// ---------------------------------------------------------------------------
// Malformed values, field by field.

/// Every kind of field, with values that are wrong in every way: each is
/// refused with a located error.
#[test]
fn malformed_values_in_every_field_kind_are_located_errors() {
    let huge = "99999999999999999999999999";
    let long = "x".repeat(1 << 20);
    let cidrs = [
        "\"10.0.0.0/33\"",
        "\"banana\"",
        "\"\"",
        "\"10.0.0.0/-1\"",
        "\"::/129\"",
        "\"10.0.0.0/ 16\"",
        "\"10.0.0.0/16/16\"",
        "\"１０.0.0.0/16\"",
        "5",
        "-1",
        huge,
        "true",
        "[]",
        "{}",
        "1979-05-27T07:32:00Z",
        "\"10.0.0.0/99999999999999999999\"",
    ];
    let ports = [
        "\"70000\"",
        "\"-1\"",
        "\"a-b\"",
        "\"5-1\"",
        "65536",
        "-1",
        "9223372036854775807",
        huge,
        "1.5",
        "\"\"",
        "\"-\"",
        "\"1-2-3\"",
        "[80]",
        "\"٣\"",
    ];
    let protos = ["\"tcpp\"", "256", "-2", "\"\"", "true", "\"TCP \"", "\"999999999999999999999\"", huge, "1.0", "[6]"];
    let numbers = ["-5", "0", "32767", "40000", "9223372036854775807", "-9223372036854775808", huge, "\"100\"", "1.5"];
    let ids = ["\"\"", "\"vpc-ü\"", "\"🔥\"", "5", "[\"x\"]", "\"a\\u0000b\""];
    let mut cases: Vec<String> = Vec::new();
    for c in cidrs {
        cases.push(format!("name = \"t\"\n[[vpc]]\nid = \"vpc-a\"\ncidr = {c}\n"));
        cases.push(with_base(&format!("\n[[subnet]]\nid = \"s\"\nvpc = \"vpc-a\"\ncidr = {c}\n")));
        cases.push(with_base(&format!(
            "\n[[nacl]]\nid = \"n\"\nvpc = \"vpc-a\"\ningress = [ {{ rule = 1, action = \"allow\", proto = \"all\", cidr = {c} }} ]\n"
        )));
        cases.push(with_base(&format!(
            "\n[[route_table]]\nid = \"r\"\nvpc = \"vpc-a\"\nroutes = [ {{ dest = {c}, target = \"blackhole\" }} ]\n"
        )));
        cases.push(with_base(&format!("\n[[host]]\nid = \"h\"\nsubnet = \"subnet-a\"\nip = {c}\n")));
    }
    for p in ports {
        cases.push(with_base(&format!(
            "\n[[security_group]]\nid = \"g\"\nvpc = \"vpc-a\"\ningress = [ {{ proto = \"tcp\", ports = {p}, cidr = \"0.0.0.0/0\" }} ]\n"
        )));
        cases.push(with_base(&format!("\n[[host]]\nid = \"h\"\nsubnet = \"subnet-a\"\nlisten = [{p}]\n")));
    }
    for p in protos {
        cases.push(with_base(&format!(
            "\n[[security_group]]\nid = \"g\"\nvpc = \"vpc-a\"\negress = [ {{ proto = {p}, cidr = \"0.0.0.0/0\" }} ]\n"
        )));
    }
    for n in numbers {
        cases.push(with_base(&format!(
            "\n[[nacl]]\nid = \"n\"\nvpc = \"vpc-a\"\negress = [ {{ rule = {n}, action = \"allow\", proto = \"all\", cidr = \"0.0.0.0/0\" }} ]\n"
        )));
        cases.push(with_base(&format!("\n[[host]]\nid = \"h\"\nsubnet = \"subnet-a\"\nmtu = {n}\n")));
    }
    for n in ["-5", "-9223372036854775808", huge, "\"100\"", "1.5"] {
        cases.push(format!("name = \"t\"\nseed = {n}\n"));
    }
    for id in ids {
        // An id that is not a string, or names nothing.
        cases.push(with_base(&format!("\n[[host]]\nid = \"h\"\nsubnet = {id}\n")));
        cases.push(with_base(&format!("\n[[subnet]]\nid = \"s\"\nvpc = {id}\ncidr = \"10.0.2.0/24\"\n")));
    }
    // Wrong types where tables, arrays and strings belong.
    for (key, value) in [
        ("name", "[1]"),
        ("name", "\"\""),
        ("vpc", "\"x\""),
        ("subnet", "5"),
        ("host", "[1, 2]"),
        ("hop_latency", "\"-1s\""),
        ("hop_latency", "5"),
    ] {
        cases.push(format!("name = \"t\"\n{key} = {value}\n").replacen("name = \"t\"\nname", "name", 1));
    }
    cases.push(with_base("\n[[security_group]]\nid = \"g\"\nvpc = \"vpc-a\"\ningress = \"all\"\n"));
    cases.push(with_base("\n[[security_group]]\nid = \"g\"\nvpc = \"vpc-a\"\ningress = [ 5 ]\n"));
    cases.push(with_base("\n[[nacl]]\nid = \"n\"\nvpc = \"vpc-a\"\ningress = [ { rule = 1 } ]\n"));
    // Very long strings: as an id, a CIDR, a name that resolves nothing.
    cases.push(with_base(&format!("\n[[host]]\nid = \"h\"\nsubnet = \"{long}\"\n")));
    cases.push(format!("name = \"t\"\n[[vpc]]\nid = \"vpc-a\"\ncidr = \"{long}\"\n"));
    // Duplicate ids.
    cases.push(with_base("\n[[subnet]]\nid = \"subnet-a\"\nvpc = \"vpc-a\"\ncidr = \"10.0.2.0/24\"\n"));

    let start = Instant::now();
    for (i, src) in cases.iter().enumerate() {
        if load(src).is_ok() {
            panic!("case {i} loaded, expected an error:\n{}", &src[..src.len().min(600)]);
        }
    }
    eprintln!("{} malformed files refused in {:?}", cases.len(), start.elapsed());
}

#[test]
fn unicode_and_very_long_ids_are_fine_where_ids_are_free() {
    let long = "h".repeat(100_000);
    let src = with_base(&format!(
        "\n[[security_group]]\nid = \"sg-ünïcødé-🔥\"\nvpc = \"vpc-a\"\n\n[[host]]\nid = \"{long}\"\nsubnet = \"subnet-a\"\nsecurity_groups = [\"sg-ünïcødé-🔥\"]\n"
    ));
    let t = load(&src).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(t.hosts[0].id.len(), 100_000);
}

#[test]
fn deeply_nested_inline_tables_and_arrays_are_errors_not_stack_overflows() {
    for depth in [100, 1_000, 100_000] {
        let tables = format!("name = \"t\"\nx = {}1{}\n", "{ a = ".repeat(depth), " }".repeat(depth));
        let arrays = format!("name = \"t\"\nx = {}1{}\n", "[".repeat(depth), "]".repeat(depth));
        let keys = format!("name = \"t\"\n[{}]\n", vec!["a"; depth].join("."));
        for src in [tables, arrays, keys] {
            assert!(load(&src).is_err(), "depth {depth}");
        }
    }
}

#[test]
fn ten_megabytes_of_garbage_is_a_located_error() {
    let mut rng = XorShift(0x5eed);
    let bytes: Vec<u8> = (0..10 << 20).map(|_| rng.next() as u8).collect();
    let text = String::from_utf8_lossy(&bytes);
    let start = Instant::now();
    let err = error_of(&text);
    assert!(start.elapsed() < Duration::from_secs(10), "{:?}", start.elapsed());
    assert_eq!(err.lines().count(), 1, "{err}");
    // Printable garbage, and garbage that is almost TOML.
    let printable: String = (0..10 << 20).map(|_| (b' ' + (rng.next() % 95) as u8) as char).collect();
    assert!(load(&printable).is_err());
    let almost: String = (0..200_000).map(|i| format!("k{i} = \"{}\"\n", rng.next())).collect();
    assert!(load(&almost).is_err());
}

// ---------------------------------------------------------------------------
// Random mutations of valid files.

const VALID: [&str; 4] = [
    include_str!("../../../scenarios/two-subnets.toml"),
    include_str!("../../../scenarios/nacl-ephemeral.toml"),
    include_str!("../../../scenarios/privatelink-orders.toml"),
    include_str!("../../../scenarios/kms-interface-endpoint.toml"),
];

/// Pieces that make a mutation likelier to reach validation than to be a
/// syntax error.
const TOKENS: [&str; 24] = [
    "0",
    "-1",
    "/0",
    "/32",
    "/128",
    "65535",
    "65536",
    "\"\"",
    "::",
    "10.0.0.0",
    "[",
    "]",
    "{",
    "}",
    "=",
    ",",
    "\n",
    "\"all\"",
    "\"tcp\"",
    "blackhole",
    "9223372036854775807",
    "ü",
    "#",
    "'",
];

fn mutate(src: &str, rng: &mut XorShift) -> String {
    let mut s: Vec<u8> = src.as_bytes().to_vec();
    for _ in 0..1 + rng.below(4) {
        let at = rng.below(s.len() + 1);
        match rng.below(6) {
            0 if at < s.len() => {
                s.remove(at);
            }
            1 => s.insert(at, rng.next() as u8),
            2 if at < s.len() => s[at] = TOKENS[rng.below(TOKENS.len())].as_bytes()[0],
            3 => {
                let t = TOKENS[rng.below(TOKENS.len())].as_bytes();
                s.splice(at..at, t.iter().copied());
            }
            4 => {
                // Duplicate a line somewhere else.
                let text = String::from_utf8_lossy(&s).into_owned();
                let lines: Vec<&str> = text.lines().collect();
                let line = lines[rng.below(lines.len())].to_owned();
                let mut out: Vec<&str> = lines.clone();
                out.insert(rng.below(lines.len()), &line);
                s = out.join("\n").into_bytes();
            }
            _ => {
                // Replace a digit run with another number.
                if let Some(p) = s[at.min(s.len())..].iter().position(|b| b.is_ascii_digit()) {
                    let p = at + p;
                    let n = [0u64, 1, 255, 256, 32766, 65535, 65536, u64::MAX][rng.below(8)].to_string();
                    s.splice(p..p + 1, n.bytes());
                }
            }
        }
    }
    String::from_utf8_lossy(&s).into_owned()
}

#[test]
fn random_mutations_of_valid_files_never_panic_the_loader() {
    for src in VALID {
        load(src).unwrap_or_else(|e| panic!("{e}"));
    }
    let mut rng = XorShift(0x00c0_ffee);
    let (mut ok, mut refused) = (0, 0);
    let start = Instant::now();
    for i in 0..3_000 {
        let src = mutate(VALID[i % VALID.len()], &mut rng);
        let result = std::panic::catch_unwind(|| load(&src));
        match result {
            Ok(Ok(_)) => ok += 1,
            Ok(Err(_)) => refused += 1,
            Err(_) => panic!("mutation {i} panicked the loader:\n{src}"),
        }
    }
    eprintln!("3000 mutations: {ok} loaded, {refused} refused, in {:?}", start.elapsed());
    assert!(refused > 0 && ok > 0);
}

// ---------------------------------------------------------------------------
// Regressions found by fuzzing (fuzz/run.sh); the inputs are kept in
// fuzz/regressions/<target>/ too.

/// `fuzz scenario`, crash-e8c0aa6a: an endpoint service whose load balancer is
/// unknown got a placeholder index, and an interface endpoint to that service
/// indexed the load balancers' zones with it: "index out of bounds: the len is
/// 0 but the index is 0" (crates/scenario/src/endpoints.rs).
#[test]
fn fuzz_endpoint_service_with_an_unknown_load_balancer_is_an_error_not_a_panic() {
    let src = with_base(
        "\n[[endpoint_service]]\nid = \"vpce-svc\"\nload_balancer = \"nlb-missing\"\n\
         \n[[interface_endpoint]]\nid = \"vpce-x\"\nvpc = \"vpc-a\"\nservice = \"vpce-svc\"\nsubnets = [\"subnet-a\"]\n",
    );
    let err = error_of(&src);
    assert!(err.contains("nlb-missing"), "{err}");
}

/// `fuzz scenario`, crash-2cd0bf04: a load balancer that failed to build (here:
/// its subnets are unknown, and there is no VPC at all) keeps a placeholder VPC
/// index; an endpoint service on it read that VPC's region: "index out of
/// bounds: the len is 0 but the index is 0" (crates/model/src/lib.rs).
#[test]
fn fuzz_endpoint_service_on_a_load_balancer_without_a_vpc_is_an_error_not_a_panic() {
    let src = "name = \"t\"\n\
               [[load_balancer]]\nid = \"nlb\"\ntype = \"network\"\nsubnets = [\"subnet-missing\"]\n\
               [[endpoint_service]]\nid = \"svc\"\nload_balancer = \"nlb\"\n";
    let err = error_of(src);
    assert!(err.contains("missing"), "{err}");
}

/// `fuzz simulate`, crash-8dcf011d (the simulating target's first minute): a
/// transit gateway attachment whose VPC is unknown (here: the file has no VPC
/// at all) keeps a placeholder VPC index; propagating its routes read that
/// VPC's CIDR: "index out of bounds: the len is 0 but the index is 0".
#[test]
fn fuzz_a_propagating_attachment_to_an_unknown_vpc_is_an_error_not_a_panic() {
    let src = "name = \"t\"\n\
               [[transit_gateway]]\nid = \"tgw\"\n\
               [[tgw_attachment]]\nid = \"att\"\ntransit_gateway = \"tgw\"\nvpc = \"vpc-missing\"\nsubnets = [\"subnet-missing\"]\n";
    let err = error_of(src);
    assert!(err.contains("vpc-missing"), "{err}");
}
