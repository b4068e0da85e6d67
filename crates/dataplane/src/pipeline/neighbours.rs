//! Neighbours: the router answers ARP and neighbour discovery for its own
//! address in the subnet (and ARP for the Amazon DNS server in the subnet
//! that holds it) and for the ENIs of the subnet; the internet's and
//! on-premises routers for everything but the asking host.

use std::net::IpAddr;

use vpcsim_model::{Attachment, EniIdx, INTERNET_ROUTER_MAC};

use super::cx::{Cx, Verdict, drop};
use crate::trace::{Component, DropReason, Step};
use crate::wire::packet::{self, ARP_REQUEST, Arp, Meta};

impl Cx<'_> {
    /// The router answers ARP for its own address in the subnet, for the
    /// Amazon DNS server (in the subnet that holds the VPC's base + 2) and for
    /// the addresses of ENIs in the subnet; the internet's router for
    /// everything but the asking host.
    pub(crate) fn answer_arp(&mut self, at: EniIdx, arp: &Arp) -> Verdict {
        if arp.operation != ARP_REQUEST {
            return Verdict::Absorbed;
        }
        let t = self.t;
        let eni = t.eni(at);
        let mac = match eni.attachment {
            Attachment::Subnet(s) => {
                let subnet = t.subnet(s);
                // The Amazon DNS server (the VPC's base + 2) sits in the
                // VPC's first subnet: the router answers for it there, as for
                // itself (elsewhere hosts reach it through the router).
                if arp.target_ip == subnet.router_ip() || arp.target_ip == t.vpc(subnet.vpc).dns_server() {
                    Some(subnet.router_mac)
                } else {
                    self.addresses
                        .vpc
                        .get(&(subnet.vpc, IpAddr::V4(arp.target_ip)))
                        .filter(|&&e| e != at && t.eni(e).subnet() == Some(s))
                        .map(|&e| t.eni(e).mac)
                }
            }
            Attachment::Internet => (arp.target_ip != eni.ipv4).then_some(INTERNET_ROUTER_MAC),
            Attachment::OnPrem(o) => (arp.target_ip != eni.ipv4).then_some(t.onprem(o).router_mac),
        };
        match mac {
            Some(mac) => {
                packet::arp_reply(self.out, arp, mac, arp.target_ip);
                self.trace.record(|| Step::Resolved { eni: at, ip: IpAddr::V4(arp.target_ip) });
                Verdict::Reply(at)
            }
            None => self.unanswered(at, IpAddr::V4(arp.target_ip), "address resolution (ARP)"),
        }
    }

    /// Neighbour discovery, IPv6's ARP: the router answers solicitations for its
    /// address in the subnet (base + 1) and for the ENIs of the subnet; the
    /// internet's router for everything but the asking host. Other
    /// neighbour-discovery messages stay on the link.
    pub(crate) fn answer_ndp(&mut self, at: EniIdx, meta: &Meta, frame: &[u8]) -> Verdict {
        let target = match meta.icmp {
            Some((packet::NEIGHBOUR_SOLICITATION, _)) => packet::ns_target(frame, meta),
            _ => None,
        };
        let (Some(target), IpAddr::V6(asker_ip)) = (target, meta.src) else {
            return Verdict::Absorbed;
        };
        let t = self.t;
        let eni = t.eni(at);
        let answer = match eni.attachment {
            Attachment::Subnet(s) => {
                let subnet = t.subnet(s);
                if subnet.router_ipv6() == Some(target) {
                    Some((subnet.router_mac, true))
                } else {
                    self.addresses
                        .vpc
                        .get(&(subnet.vpc, IpAddr::V6(target)))
                        .filter(|&&e| e != at && t.eni(e).subnet() == Some(s))
                        .map(|&e| (t.eni(e).mac, false))
                }
            }
            Attachment::Internet => (eni.ipv6 != Some(target)).then_some((INTERNET_ROUTER_MAC, true)),
            // On-premises networks are IPv4 only.
            Attachment::OnPrem(_) => None,
        };
        let Some((mac, router)) = answer else {
            return self.unanswered(at, IpAddr::V6(target), "neighbour solicitation");
        };
        let mut asker_mac = [0; 6];
        asker_mac.copy_from_slice(&frame[6..12]);
        packet::neighbour_advertisement(self.out, (asker_mac, asker_ip), target, mac, router);
        self.trace.record(|| Step::Resolved { eni: at, ip: IpAddr::V6(target) });
        Verdict::Reply(at)
    }

    /// Address resolution (ARP, neighbour discovery) that nobody answers. For
    /// an address of the asker's own subnet that no ENI owns, the sender will
    /// never send: a `no-destination` drop says why (AWS answers only for
    /// ENIs). Anything else (its own address, off-subnet) is absorbed.
    fn unanswered(&mut self, at: EniIdx, target: IpAddr, how: &str) -> Verdict {
        let t = self.t;
        let eni = t.eni(at);
        let Some(s) = eni.subnet().filter(|&s| !eni.owns(target) && t.subnet(s).contains(target)) else {
            return Verdict::Absorbed;
        };
        let subnet = t.subnet(s);
        let detail =
            self.trace.enabled.then(|| format!("no ENI of {} has {target}: nobody answers its {how}", subnet.id));
        self.dropped(drop(DropReason::NoDestination, Component::Vpc(subnet.vpc)), detail)
    }
}
