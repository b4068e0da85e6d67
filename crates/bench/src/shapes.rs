//! Scenario text for benchmarks, generated: two subnets of one dual-stack VPC,
//! a route table of a chosen size (CIDR and prefix-list routes), and a network
//! ACL and security group of a chosen number of rules, in which the benchmark
//! flow matches only the last rules (the worst case for a rule-by-rule scan).
//!
//! Everything is deterministic: the same sizes give the same text.

use std::collections::BTreeSet;
use std::fmt::Write as _;

/// The shape of a generated scenario.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shape {
    /// User routes in the bench route table (besides the implicit local
    /// routes): two default routes, every tenth a prefix-list route of four
    /// entries, the rest CIDR routes of lengths 8 to 32.
    pub routes: usize,
    /// Rules per direction of the NACL and of the security group.
    pub rules: usize,
}

/// Host `a` (subnet-1) and host `b` (subnet-2): the benchmark pair.
pub const A_V4: [u8; 4] = [10, 0, 1, 10];
pub const B_V4: [u8; 4] = [10, 0, 2, 10];
pub const A_V6: [u8; 16] = [0x26, 0x00, 0x1f, 0x18, 0, 0xaa, 0x01, 0x01, 0, 0, 0, 0, 0, 0, 0, 0x10];
pub const B_V6: [u8; 16] = [0x26, 0x00, 0x1f, 0x18, 0, 0xaa, 0x01, 0x02, 0, 0, 0, 0, 0, 0, 0, 0x10];

/// A small deterministic generator (xorshift64*).
#[derive(Clone, Debug)]
pub(crate) struct Rng(u64);

impl Rng {
    pub(crate) fn new(seed: u64) -> Rng {
        Rng(seed.max(1))
    }

    pub(crate) fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    pub(crate) fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }
}

/// An IPv4 prefix that no local route, reserved range or benchmark address
/// overlaps.
fn public_v4(rng: &mut Rng, len: u8) -> (u32, u8) {
    loop {
        let a = rng.next_u64() as u32;
        let first = a >> 24;
        // Skip 0/8, 10/8, 127/8, 169.254/16, 198.18/15 and 224/3; lengths
        // shorter than 8 would cover one of them.
        if matches!(first, 0 | 10 | 127 | 169 | 198) || first >= 224 {
            continue;
        }
        let mask = if len == 0 { 0 } else { u32::MAX << (32 - u32::from(len)) };
        return (a & mask, len);
    }
}

fn v4(a: u32, len: u8) -> String {
    format!("{}.{}.{}.{}/{len}", a >> 24, (a >> 16) & 0xff, (a >> 8) & 0xff, a & 0xff)
}

/// The scenario text for `shape`.
pub fn two_subnets(shape: Shape) -> String {
    let mut rng = Rng::new(0x5eed_0000 + shape.routes as u64 * 7 + shape.rules as u64);
    let mut s = String::new();
    s.push_str(&format!("name = \"bench: two subnets, {} routes, {} rules\"\nseed = 1\n\n", shape.routes, shape.rules));
    s.push_str(
        r#"[[vpc]]
id = "vpc-bench"
cidr = "10.0.0.0/16"
ipv6_cidr = "2600:1f18:aa:100::/56"

[[internet_gateway]]
id = "igw-bench"
vpc = "vpc-bench"

"#,
    );
    // Routes: unique destinations.
    let mut seen: BTreeSet<(u32, u8)> = BTreeSet::new();
    let mut routes = Vec::new();
    let mut lists = Vec::new();
    for i in 0..shape.routes {
        match i {
            0 => routes.push("{ dest = \"0.0.0.0/0\", target = \"igw-bench\" }".to_string()),
            1 => routes.push("{ dest = \"::/0\", target = \"igw-bench\" }".to_string()),
            _ if i % 10 == 5 => {
                let id = format!("pl-bench-{i}");
                let mut entries = Vec::new();
                while entries.len() < 4 {
                    let len = 16 + rng.below(13) as u8;
                    let p = public_v4(&mut rng, len);
                    if seen.insert(p) {
                        entries.push(format!("\"{}\"", v4(p.0, p.1)));
                    }
                }
                lists.push(format!("[[prefix_list]]\nid = \"{id}\"\nentries = [{}]\n", entries.join(", ")));
                routes.push(format!("{{ dest = \"{id}\", target = \"blackhole\" }}"));
            }
            _ => loop {
                let len = 8 + rng.below(25) as u8;
                let p = public_v4(&mut rng, len);
                if seen.insert(p) {
                    let target = if i % 3 == 0 { "blackhole" } else { "igw-bench" };
                    routes.push(format!("{{ dest = \"{}\", target = \"{target}\" }}", v4(p.0, p.1)));
                    break;
                }
            },
        }
    }
    for l in &lists {
        s.push_str(l);
        s.push('\n');
    }
    let _ = writeln!(s, "[[route_table]]\nid = \"rtb-bench\"\nvpc = \"vpc-bench\"\nroutes = [");
    for r in &routes {
        let _ = writeln!(s, "  {r},");
    }
    s.push_str("]\n\n");

    // NACL: rules that never match the benchmark flows, then allow-all.
    let nacl_rules = |s: &mut String| {
        let filler = shape.rules.saturating_sub(2);
        for k in 0..filler {
            let number = (k + 1) * 10;
            let line = match k % 3 {
                0 => format!(
                    "{{ rule = {number}, action = \"deny\", proto = \"tcp\", ports = \"{}\", cidr = \"0.0.0.0/0\" }}",
                    2000 + k
                ),
                1 => format!(
                    "{{ rule = {number}, action = \"deny\", proto = \"all\", cidr = \"172.{}.{}.0/24\" }}",
                    16 + (k >> 8) % 16,
                    k & 0xff
                ),
                _ => format!(
                    "{{ rule = {number}, action = \"deny\", proto = \"udp\", ports = \"{}-{}\", cidr = \"2001:db8:{:x}::/48\" }}",
                    1000 + k,
                    1001 + k,
                    k
                ),
            };
            let _ = writeln!(s, "  {line},");
        }
        let base = (filler + 1) * 10;
        let _ = writeln!(s, "  {{ rule = {base}, action = \"allow\", proto = \"all\", cidr = \"0.0.0.0/0\" }},");
        let _ = writeln!(s, "  {{ rule = {}, action = \"allow\", proto = \"all\", cidr = \"::/0\" }},", base + 10);
    };
    s.push_str("[[nacl]]\nid = \"acl-bench\"\nvpc = \"vpc-bench\"\ningress = [\n");
    nacl_rules(&mut s);
    s.push_str("]\negress = [\n");
    nacl_rules(&mut s);
    s.push_str("]\n\n");

    // Security group: rules that never match, then the VPC's own ranges.
    let sg_rules = |s: &mut String| {
        for k in 0..shape.rules.saturating_sub(2) {
            let line = match k % 3 {
                0 => format!("{{ proto = \"tcp\", ports = \"{}\", cidr = \"0.0.0.0/0\" }}", 3000 + k),
                1 => format!(
                    "{{ proto = \"tcp\", ports = \"443\", cidr = \"172.{}.{}.0/24\" }}",
                    16 + (k >> 8) % 16,
                    k & 0xff
                ),
                _ => format!(
                    "{{ proto = \"udp\", ports = \"{}-{}\", cidr = \"2001:db8:{:x}::/48\" }}",
                    1000 + k,
                    1001 + k,
                    k
                ),
            };
            let _ = writeln!(s, "  {line},");
        }
        s.push_str("  { proto = \"all\", cidr = \"10.0.0.0/16\" },\n");
        s.push_str("  { proto = \"all\", cidr = \"2600:1f18:aa:100::/56\" },\n");
    };
    s.push_str("[[security_group]]\nid = \"sg-bench\"\nvpc = \"vpc-bench\"\ningress = [\n");
    sg_rules(&mut s);
    s.push_str("]\negress = [\n");
    sg_rules(&mut s);
    s.push_str("]\n\n");

    s.push_str(
        r#"[[subnet]]
id = "subnet-1"
vpc = "vpc-bench"
cidr = "10.0.1.0/24"
ipv6_cidr = "2600:1f18:aa:101::/64"
route_table = "rtb-bench"
nacl = "acl-bench"

[[subnet]]
id = "subnet-2"
vpc = "vpc-bench"
cidr = "10.0.2.0/24"
ipv6_cidr = "2600:1f18:aa:102::/64"
route_table = "rtb-bench"
nacl = "acl-bench"

[[host]]
id = "a"
subnet = "subnet-1"
ip = "10.0.1.10"
ipv6 = "2600:1f18:aa:101::10"
security_groups = ["sg-bench"]
listen = ["tcp/443"]

[[host]]
id = "b"
subnet = "subnet-2"
ip = "10.0.2.10"
ipv6 = "2600:1f18:aa:102::10"
security_groups = ["sg-bench"]
listen = ["tcp/443"]

[[host]]
id = "c"
subnet = "subnet-1"
ip = "10.0.1.11"
ipv6 = "2600:1f18:aa:101::11"
security_groups = ["sg-bench"]
listen = ["tcp/443"]

[[host]]
id = "d"
subnet = "subnet-2"
ip = "10.0.2.11"
ipv6 = "2600:1f18:aa:102::11"
security_groups = ["sg-bench"]
listen = ["tcp/443"]
"#,
    );
    s
}

/// Destination addresses for route-lookup benchmarks: a mix of addresses
/// inside the table's prefixes, local addresses and addresses that fall to the
/// default route, drawn from `t`'s IPv4 prefixes.
pub fn lookup_addresses(prefixes: &[(u32, u8)], n: usize, seed: u64) -> Vec<u32> {
    let mut rng = Rng::new(seed);
    (0..n)
        .map(|i| match i % 4 {
            0 | 1 if !prefixes.is_empty() => {
                let (a, len) = prefixes[rng.below(prefixes.len() as u64) as usize];
                let host = if len >= 32 { 0 } else { (rng.next_u64() as u32) & (u32::MAX >> len) };
                a | host
            }
            2 => 0x0a00_0000 | (rng.next_u64() as u32 & 0xffff),
            _ => rng.next_u64() as u32,
        })
        .collect()
}
