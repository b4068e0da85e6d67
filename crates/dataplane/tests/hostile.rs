//! Hostile networks through the data plane: security groups that reference
//! themselves and each other (valid in AWS) work; a subnet routed through its
//! own middlebox ends in one bounded step; random frames at every ENI never
//! panic the pipeline.

use std::time::Duration;

use etherparse::PacketBuilder;
use vpcsim_dataplane::{DropReason, Trace, Verdict};
use vpcsim_model::EniIdx;

mod common;
use common::Net;

const CYCLES: &str = r#"
name = "reference cycles"

[[vpc]]
id = "vpc-a"
cidr = "10.0.0.0/16"

[[subnet]]
id = "subnet-a"
vpc = "vpc-a"
cidr = "10.0.1.0/24"

[[subnet]]
id = "subnet-fw"
vpc = "vpc-a"
cidr = "10.0.9.0/24"
route_table = "rtb-fw"

[[route_table]]
id = "rtb-fw"
vpc = "vpc-a"
routes = [ { dest = "0.0.0.0/0", target = "fw" } ]

# sg-a admits sg-b on 1-100 and itself on everything; sg-b admits sg-a on 1-100.
[[security_group]]
id = "sg-a"
vpc = "vpc-a"
ingress = [ { proto = "tcp", ports = "1-100", sg = "sg-b" }, { proto = "all", sg = "sg-a" } ]
egress = [ { proto = "all", sg = "sg-b" }, { proto = "all", sg = "sg-a" } ]

[[security_group]]
id = "sg-b"
vpc = "vpc-a"
ingress = [ { proto = "tcp", ports = "1-100", sg = "sg-a" } ]
egress = [ { proto = "all", sg = "sg-a" } ]

[[security_group]]
id = "sg-open"
vpc = "vpc-a"
ingress = [ { proto = "all", cidr = "0.0.0.0/0" } ]

[[host]]
id = "a1"
subnet = "subnet-a"
ip = "10.0.1.10"
security_groups = ["sg-a"]

[[host]]
id = "a2"
subnet = "subnet-a"
ip = "10.0.1.11"
security_groups = ["sg-a"]

[[host]]
id = "b1"
subnet = "subnet-a"
ip = "10.0.1.20"
security_groups = ["sg-b"]

[[host]]
id = "fw"
subnet = "subnet-fw"
ip = "10.0.9.10"
security_groups = ["sg-open"]
source_dest_check = false
"#;

impl Net {
    fn new() -> Net {
        Net::load(CYCLES, "cycles.toml")
    }

    fn syn(&mut self, from: &str, src: [u8; 4], dst: [u8; 4], port: u16) -> Verdict {
        let mut frame = Vec::new();
        PacketBuilder::ethernet2(self.mac(from), [2, 1, 0, 0, 0, 0])
            .ipv4(src, dst, 64)
            .tcp(40000, port, 1, 1000)
            .syn()
            .write(&mut frame, &[])
            .unwrap();
        let at = self.eni(from);
        self.fabric.process(Duration::ZERO, at, &frame, &mut Vec::new(), &mut Trace::off())
    }
}

#[test]
fn security_groups_referencing_themselves_and_each_other_work() {
    let mut net = Net::new();
    // Itself: a1 to a2 on any port.
    assert_eq!(net.syn("a1", [10, 0, 1, 10], [10, 0, 1, 11], 5432), Verdict::Deliver(net.eni("a2")));
    // Each other, within 1-100.
    assert_eq!(net.syn("b1", [10, 0, 1, 20], [10, 0, 1, 10], 80), Verdict::Deliver(net.eni("a1")));
    assert_eq!(net.syn("a1", [10, 0, 1, 10], [10, 0, 1, 20], 22), Verdict::Deliver(net.eni("b1")));
    // Outside the range the reference does not help.
    let v = net.syn("b1", [10, 0, 1, 20], [10, 0, 1, 11], 443);
    assert_eq!(v.dropped().map(|d| d.reason), Some(DropReason::SgIngress));
}

#[test]
fn a_subnet_routed_through_its_own_middlebox_ends_in_one_step() {
    let mut net = Net::new();
    // fw's subnet sends everything to fw: fw's own packet comes back to it
    // (or dies), once, without a loop.
    let v = net.syn("fw", [10, 0, 9, 10], [8, 8, 8, 8], 443);
    assert!(matches!(v, Verdict::Deliver(e) if e == net.eni("fw")) || v.dropped().is_some(), "{v:?}");
    assert_eq!(net.fabric.counters().received, 1);
}

/// A deterministic xorshift64* generator.
struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
}

#[test]
fn random_and_truncated_frames_at_every_eni_never_panic() {
    let mut net = Net::new();
    let mut rng = XorShift(0xf4a3e);
    let mut valid = Vec::new();
    PacketBuilder::ethernet2([2; 6], [2, 1, 0, 0, 0, 0])
        .ipv4([10, 0, 1, 10], [10, 0, 1, 11], 64)
        .tcp(40000, 80, 1, 1000)
        .syn()
        .write(&mut valid, b"payload")
        .unwrap();
    let mut out = Vec::new();
    for i in 0..20_000u64 {
        let frame: Vec<u8> = if i % 2 == 0 {
            // A real frame, truncated and with a few bytes flipped.
            let mut f = valid[..(rng.next() as usize % (valid.len() + 1))].to_vec();
            for _ in 0..rng.next() % 4 {
                if !f.is_empty() {
                    let at = rng.next() as usize % f.len();
                    f[at] = rng.next() as u8;
                }
            }
            f
        } else {
            (0..rng.next() % 200).map(|_| rng.next() as u8).collect()
        };
        for e in 0..net.t.enis.len() + 1 {
            let _ =
                net.fabric.process(Duration::from_millis(i), EniIdx::from_index(e), &frame, &mut out, &mut Trace::on());
        }
    }
    assert!(net.fabric.counters().dropped(DropReason::Malformed) > 0);
}
