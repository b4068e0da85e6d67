//! Organisation-shaped scenarios, generated: many VPCs of the same shape, to
//! measure vpcsim at scale (1k, 10k, 100k hosts).
//!
//! Every VPC `vpc-V` has `subnets_per_vpc` subnets (`subnet-V-S`) of
//! `hosts_per_subnet` instances (`hV-S-H`, each listening on tcp/443), an
//! internet gateway `igw-V`, one main route table `rtb-V` (0.0.0.0/0 to the
//! internet gateway) and one security group `sg-V` that admits tcp/443 from
//! the VPC's CIDR (from the whole organisation's address space when VPCs are
//! joined). The options join the VPCs:
//!
//! - `transit_gateway`: one transit gateway `tgw-org`, one attachment per VPC
//!   (`tgw-attach-V`, in the VPC's first subnet), all associated with and
//!   propagating into one route table `tgw-rtb-org`; every VPC routes the
//!   organisation's supernets (10.0.0.0/8, and the others when more VPCs are
//!   asked for than it holds) to `tgw-org`.
//! - `peering`: VPC V and V+1 are peered (`pcx-V-W`), each routing the other's
//!   CIDR to the peering.
//! - `gateway_endpoint`: an S3 gateway endpoint `vpce-s3-V` per VPC, on its
//!   route table.
//!
//! Expectations take turns: tcp/443 `connected` between two instances of one
//! VPC, tcp/22 `dropped` at the receiver's security group (`sg-ingress`);
//! with a transit gateway or peering, every other one crosses VPCs (tcp/443
//! `connected`, `via` the transit gateway or the peering connection); with
//! the gateway endpoint, some go to S3 (`via` the VPC's endpoint). The VPCs of
//! successive expectations are spread evenly over all VPCs; the hosts and
//! the peer VPCs are drawn from a generator seeded by `seed`.
//!
//! Everything is deterministic: the same `Org` gives the same bytes.

use std::fmt::{self, Write};

use crate::shapes::Rng;

/// The shape of a generated organisation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Org {
    /// Number of VPCs (at least 1).
    pub vpcs: usize,
    /// Subnets in each VPC (at least 1).
    pub subnets_per_vpc: usize,
    /// Instances in each subnet (at least 1).
    pub hosts_per_subnet: usize,
    /// Number of `[[expect]]`s.
    pub expects: usize,
    /// Join every VPC to one transit gateway, and make half the expectations
    /// cross it.
    pub transit_gateway: bool,
    /// Peer consecutive VPCs, and make half the expectations cross a peering.
    pub peering: bool,
    /// An S3 gateway endpoint in every VPC, and some expectations to S3.
    pub gateway_endpoint: bool,
    /// The scenario's `seed`, and the seed of the choice of hosts and peers.
    pub seed: u64,
}

impl Default for Org {
    /// 10 VPCs × 4 subnets × 25 hosts, 100 expectations, no option, seed 1.
    fn default() -> Self {
        Org {
            vpcs: 10,
            subnets_per_vpc: 4,
            hosts_per_subnet: 25,
            expects: 100,
            transit_gateway: false,
            peering: false,
            gateway_endpoint: false,
            seed: 1,
        }
    }
}

/// Why an organisation cannot be generated.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum OrgError {
    /// A count that must be at least 1 is 0 (`vpcs`, `subnets_per_vpc` or
    /// `hosts_per_subnet`).
    Empty(&'static str),
    /// Expectations were asked for, but a VPC holds fewer than two hosts.
    TooFewHosts,
    /// The subnets of one VPC do not fit in a /16, AWS's largest VPC.
    VpcTooLarge {
        /// Subnets per VPC.
        subnets: usize,
        /// Hosts per subnet.
        hosts: usize,
    },
    /// The VPCs do not fit in the private address space (10.0.0.0/8,
    /// 172.16.0.0/12, 100.64.0.0/10, 192.168.0.0/16).
    TooManyVpcs {
        /// VPCs asked for.
        asked: usize,
        /// VPCs of that size the address space holds.
        room: usize,
    },
    /// The output refused the text.
    Write,
}

impl fmt::Display for OrgError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OrgError::Empty(what) => write!(f, "{what} must be at least 1"),
            OrgError::TooFewHosts => {
                f.write_str("expectations need at least two hosts per VPC (subnets per VPC × hosts per subnet)")
            }
            OrgError::VpcTooLarge { subnets, hosts } => write!(
                f,
                "{subnets} subnets of {hosts} hosts do not fit in a /16, AWS's largest VPC; ask for fewer subnets or hosts"
            ),
            OrgError::TooManyVpcs { asked, room } => write!(
                f,
                "{asked} VPCs do not fit in 10.0.0.0/8, 172.16.0.0/12, 100.64.0.0/10 and 192.168.0.0/16: \
                 there is room for {room} VPCs of this size; ask for fewer VPCs, subnets or hosts"
            ),
            OrgError::Write => f.write_str("the output refused the scenario text"),
        }
    }
}

impl std::error::Error for OrgError {}

impl From<fmt::Error> for OrgError {
    fn from(_: fmt::Error) -> Self {
        OrgError::Write
    }
}

/// Where VPCs are placed, in this order: the first pool first.
const POOLS: [(u32, u8); 4] = [
    (0x0a00_0000, 8),  // 10.0.0.0/8
    (0xac10_0000, 12), // 172.16.0.0/12
    (0x6440_0000, 10), // 100.64.0.0/10
    (0xc0a8_0000, 16), // 192.168.0.0/16
];

/// The S3 name the probes resolve (the VPCs are in us-east-1, the default).
const S3_NAME: &str = "s3.us-east-1.amazonaws.com";

/// Prefix lengths of subnets and VPCs, and how many pools are in use.
#[derive(Clone, Copy, Debug)]
struct Layout {
    subnet_len: u8,
    vpc_len: u8,
    pools: usize,
}

impl Layout {
    /// The roomiest layout that holds `org`: subnets of at least a /24 in
    /// 10.0.0.0/8, else the smallest subnets that hold the hosts in
    /// 10.0.0.0/8, else in every pool.
    fn of(org: &Org) -> Result<Layout, OrgError> {
        // AWS reserves five addresses of every subnet; /28 is the smallest.
        let fit = (16..=28u8).rev().find(|&len| (1usize << (32 - len)) - 5 >= org.hosts_per_subnet);
        let too_large = OrgError::VpcTooLarge { subnets: org.subnets_per_vpc, hosts: org.hosts_per_subnet };
        let fit = fit.ok_or(too_large.clone())?;
        let bits = usize::BITS - (org.subnets_per_vpc - 1).leading_zeros();
        let vpc_len =
            |subnet_len: u8| u8::try_from(bits).ok().and_then(|b| subnet_len.checked_sub(b)).filter(|&l| l >= 16);
        let room = |vpc_len: u8, pools: usize| -> usize {
            POOLS[..pools].iter().map(|&(_, len)| 1usize << (vpc_len - len)).sum()
        };
        let candidates = [(fit.min(24), 1), (fit, 1), (fit, POOLS.len())];
        let mut best_room = 0;
        for (subnet_len, pools) in candidates {
            let Some(vpc_len) = vpc_len(subnet_len) else { continue };
            let r = room(vpc_len, pools);
            if org.vpcs <= r {
                let used = (1..=pools).find(|&p| org.vpcs <= room(vpc_len, p)).unwrap_or(pools);
                return Ok(Layout { subnet_len, vpc_len, pools: used });
            }
            best_room = best_room.max(r);
        }
        if vpc_len(fit).is_none() {
            return Err(too_large);
        }
        Err(OrgError::TooManyVpcs { asked: org.vpcs, room: best_room })
    }

    /// The base address of VPC `v`.
    fn vpc_base(&self, mut v: usize) -> u32 {
        for &(base, len) in &POOLS[..self.pools] {
            let n = 1usize << (self.vpc_len - len);
            if v < n {
                return base + ((v as u32) << (32 - u32::from(self.vpc_len)));
            }
            v -= n;
        }
        unreachable!("Layout::of placed every VPC")
    }

    fn vpc_cidr(&self, v: usize) -> String {
        cidr(self.vpc_base(v), self.vpc_len)
    }

    fn subnet_base(&self, v: usize, s: usize) -> u32 {
        self.vpc_base(v) + ((s as u32) << (32 - u32::from(self.subnet_len)))
    }

    /// The supernets of the organisation: the pools in use.
    fn supernets(&self) -> impl Iterator<Item = String> + '_ {
        POOLS[..self.pools].iter().map(|&(base, len)| cidr(base, len))
    }
}

fn ip(a: u32) -> String {
    std::net::Ipv4Addr::from(a).to_string()
}

fn cidr(a: u32, len: u8) -> String {
    format!("{}/{len}", ip(a))
}

/// One kind of expectation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Probe {
    /// tcp/443 between two hosts of one VPC: connected.
    Local,
    /// tcp/22 between two hosts of one VPC: dropped at the receiver's group.
    Ssh,
    /// tcp/443 to a host of another VPC: connected.
    Cross,
    /// tcp/443 to S3 through the VPC's gateway endpoint: connected.
    S3,
}

impl Org {
    /// Instances in the whole organisation.
    pub fn hosts(&self) -> usize {
        self.vpcs * self.subnets_per_vpc * self.hosts_per_subnet
    }

    /// Whether `self` can be generated; the same checks as [`Org::write`].
    pub fn validate(&self) -> Result<(), OrgError> {
        self.layout().map(|_| ())
    }

    fn layout(&self) -> Result<Layout, OrgError> {
        for (n, what) in [
            (self.vpcs, "vpcs"),
            (self.subnets_per_vpc, "subnets_per_vpc"),
            (self.hosts_per_subnet, "hosts_per_subnet"),
        ] {
            if n == 0 {
                return Err(OrgError::Empty(what));
            }
        }
        if self.expects > 0 && self.subnets_per_vpc * self.hosts_per_subnet < 2 {
            return Err(OrgError::TooFewHosts);
        }
        Layout::of(self)
    }

    /// The scenario text, in a new string.
    pub fn to_toml(&self) -> Result<String, OrgError> {
        let mut s = String::with_capacity(self.hosts() * 128 + self.expects * 160 + self.vpcs * 640);
        self.write(&mut s)?;
        Ok(s)
    }

    /// Writes the scenario: one valid TOML file whose every expectation
    /// holds in vpcsim. Nothing is written when the shape is impossible.
    pub fn write(&self, out: &mut impl Write) -> Result<(), OrgError> {
        let layout = self.layout()?;
        let joined = self.transit_gateway || self.peering;
        self.header(out)?;
        for v in 0..self.vpcs {
            self.vpc(out, &layout, v, joined)?;
        }
        if self.transit_gateway {
            out.write_str(
                "[[transit_gateway]]\nid = \"tgw-org\"\ndefault_route_table = \"tgw-rtb-org\"\n\n\
                 [[tgw_route_table]]\nid = \"tgw-rtb-org\"\ntransit_gateway = \"tgw-org\"\n\n",
            )?;
        }
        if self.peering {
            for v in 1..self.vpcs {
                writeln!(
                    out,
                    "[[vpc_peering]]\nid = \"pcx-{}-{v}\"\nrequester = \"vpc-{}\"\naccepter = \"vpc-{v}\"\n",
                    v - 1,
                    v - 1
                )?;
            }
        }
        self.expectations(out)?;
        Ok(())
    }

    fn header(&self, out: &mut impl Write) -> fmt::Result {
        let mut options = Vec::new();
        if self.transit_gateway {
            options.push("a transit gateway");
        }
        if self.peering {
            options.push("peering");
        }
        if self.gateway_endpoint {
            options.push("S3 gateway endpoints");
        }
        let options = if options.is_empty() { String::new() } else { format!(", {}", options.join(", ")) };
        writeln!(
            out,
            "# Generated by vpcsim_bench::org (cargo run --release -p vpcsim-bench --example org).\n\
             name = \"org: {} VPCs x {} subnets x {} hosts{options}\"\n\
             description = \"{} hosts, {} expectations\"\nseed = {}\n",
            self.vpcs,
            self.subnets_per_vpc,
            self.hosts_per_subnet,
            self.hosts(),
            self.expects,
            self.seed
        )
    }

    fn vpc(&self, out: &mut impl Write, layout: &Layout, v: usize, joined: bool) -> fmt::Result {
        let vpc_cidr = layout.vpc_cidr(v);
        writeln!(out, "[[vpc]]\nid = \"vpc-{v}\"\ncidr = \"{vpc_cidr}\"\n")?;
        writeln!(out, "[[internet_gateway]]\nid = \"igw-{v}\"\nvpc = \"vpc-{v}\"\n")?;

        write!(out, "[[route_table]]\nid = \"rtb-{v}\"\nvpc = \"vpc-{v}\"\nmain = true\nroutes = [\n")?;
        writeln!(out, "  {{ dest = \"0.0.0.0/0\", target = \"igw-{v}\" }},")?;
        if self.transit_gateway {
            for net in layout.supernets() {
                writeln!(out, "  {{ dest = \"{net}\", target = \"tgw-org\" }},")?;
            }
        }
        if self.peering {
            if v > 0 {
                writeln!(out, "  {{ dest = \"{}\", target = \"pcx-{}-{v}\" }},", layout.vpc_cidr(v - 1), v - 1)?;
            }
            if v + 1 < self.vpcs {
                writeln!(out, "  {{ dest = \"{}\", target = \"pcx-{v}-{}\" }},", layout.vpc_cidr(v + 1), v + 1)?;
            }
        }
        out.write_str("]\n\n")?;

        write!(out, "[[security_group]]\nid = \"sg-{v}\"\nvpc = \"vpc-{v}\"\ningress = [")?;
        if joined {
            let rules: Vec<String> = layout
                .supernets()
                .map(|net| format!("{{ proto = \"tcp\", ports = \"443\", cidr = \"{net}\" }}"))
                .collect();
            write!(out, " {} ", rules.join(", "))?;
        } else {
            write!(out, " {{ proto = \"tcp\", ports = \"443\", cidr = \"{vpc_cidr}\" }} ")?;
        }
        out.write_str("]\n\n")?;

        if self.gateway_endpoint {
            writeln!(
                out,
                "[[gateway_endpoint]]\nid = \"vpce-s3-{v}\"\nvpc = \"vpc-{v}\"\nservice = \"s3\"\nroute_tables = [\"rtb-{v}\"]\n"
            )?;
        }
        if self.transit_gateway {
            writeln!(
                out,
                "[[tgw_attachment]]\nid = \"tgw-attach-{v}\"\ntransit_gateway = \"tgw-org\"\nvpc = \"vpc-{v}\"\nsubnets = [\"subnet-{v}-0\"]\n"
            )?;
        }
        for s in 0..self.subnets_per_vpc {
            let base = layout.subnet_base(v, s);
            writeln!(
                out,
                "[[subnet]]\nid = \"subnet-{v}-{s}\"\nvpc = \"vpc-{v}\"\ncidr = \"{}\"\n",
                cidr(base, layout.subnet_len)
            )?;
            for h in 0..self.hosts_per_subnet {
                // The first four addresses of a subnet are AWS's.
                writeln!(
                    out,
                    "[[host]]\nid = \"h{v}-{s}-{h}\"\nsubnet = \"subnet-{v}-{s}\"\nip = \"{}\"\n\
                     security_groups = [\"sg-{v}\"]\nlisten = [\"tcp/443\"]\n",
                    ip(base + 4 + h as u32)
                )?;
            }
        }
        Ok(())
    }

    /// The turns the expectations take.
    fn rotation(&self) -> Vec<Probe> {
        let cross = (self.transit_gateway || self.peering) && self.vpcs >= 2;
        let mut turns = vec![Probe::Local, Probe::Ssh];
        if self.gateway_endpoint {
            turns.push(Probe::S3);
        }
        if cross {
            turns = turns.into_iter().flat_map(|p| [p, Probe::Cross]).collect();
        }
        turns
    }

    /// Host id of the `i`-th host of VPC `v`.
    fn host(&self, v: usize, i: usize) -> String {
        format!("h{v}-{}-{}", i / self.hosts_per_subnet, i % self.hosts_per_subnet)
    }

    fn expectations(&self, out: &mut impl Write) -> fmt::Result {
        let mut rng = Rng::new(self.seed ^ 0x0126_0000_0000);
        let turns = self.rotation();
        let per_vpc = self.subnets_per_vpc * self.hosts_per_subnet;
        let mut crossings = 0usize;
        for k in 0..self.expects {
            // Spread evenly: successive expectations walk through the VPCs.
            let v = (k as u128 * self.vpcs as u128 / self.expects as u128) as usize;
            let a = rng.below(per_vpc as u64) as usize;
            let from = self.host(v, a);
            let other = (a + 1 + rng.below(per_vpc as u64 - 1) as usize) % per_vpc;
            match turns[k % turns.len()] {
                Probe::Local => {
                    let to = self.host(v, other);
                    writeln!(
                        out,
                        "[[expect]]\nname = \"{k}: {from} -> {to} tcp/443 in vpc-{v}\"\nfrom = \"{from}\"\nto = \"{to}\"\n\
                         proto = \"tcp\"\nport = 443\nresult = \"connected\"\n"
                    )?;
                }
                Probe::Ssh => {
                    let to = self.host(v, other);
                    writeln!(
                        out,
                        "[[expect]]\nname = \"{k}: {from} -> {to} tcp/22 dies at sg-{v}\"\nfrom = \"{from}\"\nto = \"{to}\"\n\
                         proto = \"tcp\"\nport = 22\nresult = \"dropped\"\ndrop_reason = \"sg-ingress\"\n\
                         drop_at = \"sg-{v}\"\non = \"forward\"\n"
                    )?;
                }
                Probe::S3 => {
                    writeln!(
                        out,
                        "[[expect]]\nname = \"{k}: {from} -> S3 tcp/443 via vpce-s3-{v}\"\nfrom = \"{from}\"\n\
                         to = \"{S3_NAME}\"\nproto = \"tcp\"\nport = 443\nresult = \"connected\"\nvia = [\"vpce-s3-{v}\"]\n"
                    )?;
                }
                Probe::Cross => {
                    // With both, crossings take turns: the transit gateway, then a peering.
                    let peer = self.peering && !(self.transit_gateway && crossings.is_multiple_of(2));
                    crossings += 1;
                    let w = self.peer_vpc(&mut rng, v, peer);
                    let via = if self.peering && v.abs_diff(w) == 1 {
                        format!("pcx-{}-{}", v.min(w), v.max(w))
                    } else {
                        "tgw-org".to_string()
                    };
                    let to = self.host(w, other);
                    writeln!(
                        out,
                        "[[expect]]\nname = \"{k}: {from} -> {to} tcp/443 via {via}\"\nfrom = \"{from}\"\nto = \"{to}\"\n\
                         proto = \"tcp\"\nport = 443\nresult = \"connected\"\nvia = [\"{via}\"]\n"
                    )?;
                }
            }
        }
        Ok(())
    }

    /// The VPC that a crossing from `v` goes to: a neighbour for a peering;
    /// for the transit gateway, one that is not a neighbour when VPCs are
    /// also peered (the peering's more specific route would win), where
    /// there is one.
    fn peer_vpc(&self, rng: &mut Rng, v: usize, peer: bool) -> usize {
        let n = self.vpcs;
        if peer {
            return match (v > 0, v + 1 < n) {
                (true, true) if rng.below(2) == 0 => v - 1,
                (true, true) => v + 1,
                (true, false) => v - 1,
                _ => v + 1,
            };
        }
        if self.peering && n >= 4 {
            // v + d for d in 2..=n-2 (mod n) is never v - 1, v or v + 1.
            return (v + 2 + rng.below(n as u64 - 3) as usize) % n;
        }
        if self.peering && n == 3 && v != 1 {
            return 2 - v;
        }
        (v + 1 + rng.below(n as u64 - 1) as usize) % n
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vpcs_spill_into_the_next_pool_when_10_8_is_full() {
        // 256 subnets of /24: /16 VPCs, 256 of them in 10.0.0.0/8.
        let org = Org { vpcs: 300, subnets_per_vpc: 256, hosts_per_subnet: 200, ..Org::default() };
        let l = Layout::of(&org).unwrap();
        assert_eq!((l.subnet_len, l.vpc_len, l.pools), (24, 16, 3));
        assert_eq!(l.vpc_cidr(0), "10.0.0.0/16");
        assert_eq!(l.vpc_cidr(255), "10.255.0.0/16");
        assert_eq!(l.vpc_cidr(256), "172.16.0.0/16");
        assert_eq!(l.vpc_cidr(271), "172.31.0.0/16");
        assert_eq!(l.vpc_cidr(272), "100.64.0.0/16");
        assert_eq!(l.vpc_cidr(299), "100.91.0.0/16");
        assert_eq!(l.supernets().collect::<Vec<_>>(), ["10.0.0.0/8", "172.16.0.0/12", "100.64.0.0/10"]);
        assert_eq!(cidr(l.subnet_base(299, 255), l.subnet_len), "100.91.255.0/24");
    }

    #[test]
    fn subnets_shrink_before_vpcs_leave_10_8() {
        // 20,000 VPCs of 4 × /24 do not fit in 10/8 (16,384); of 4 × /27 they do.
        let l = Layout::of(&Org { vpcs: 20_000, ..Org::default() }).unwrap();
        assert_eq!((l.subnet_len, l.vpc_len, l.pools), (27, 25, 1));
        assert_eq!(l.vpc_cidr(19_999), "10.39.15.128/25");
        let l = Layout::of(&Org { vpcs: 16_384, ..Org::default() }).unwrap();
        assert_eq!((l.subnet_len, l.vpc_len, l.pools), (24, 22, 1));
        assert_eq!(l.vpc_cidr(16_383), "10.255.252.0/22");
    }
}
