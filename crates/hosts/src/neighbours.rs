//! Neighbour resolution that smoltcp lacks: what a Linux host gets from its
//! queue of packets awaiting ARP and from reachability confirmation.
//!
//! smoltcp drops a packet that the interface itself generates (a TCP RST, an
//! echo reply, a port-unreachable) when the next hop's MAC is not cached, and
//! forgets cache entries after 60 s; it never learns from IP traffic. Linux
//! queues such packets until the neighbour answers. Without help, the first
//! reply a host owes to a new peer would be lost. So the host:
//!
//! - resolves its gateways at boot: an ARP request for the IPv4 gateway and a
//!   neighbour solicitation for the IPv6 gateway, sent on the wire;
//! - confirms neighbours from the traffic it receives: before an IP frame from
//!   an on-link peer, or from the gateway's known MAC, is handed to the stack, a
//!   synthetic ARP reply / neighbour advertisement (never on the wire) fills
//!   smoltcp's cache with what the frame itself proves, at most once per
//!   [`REFRESH`] per neighbour;
//! - keeps its gateways once they have answered, as Linux keeps using a stale
//!   entry: when polled, a gateway confirmed more than [`REFRESH`] ago is
//!   confirmed again the same way, so a host that was idle for minutes sends
//!   at once instead of soliciting again.
//!
//! Frames are read and built by hand over byte ranges (`get`, no panics):
//! Ethernet II without VLAN tags, as smoltcp itself expects.

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::Duration;

/// A confirmation is renewed when older than this (smoltcp keeps entries 60 s).
pub(crate) const REFRESH: Duration = Duration::from_secs(20);

const ETHERTYPE_IPV4: u16 = 0x0800;
const ETHERTYPE_ARP: u16 = 0x0806;
const ETHERTYPE_IPV6: u16 = 0x86dd;
const ICMPV6: u8 = 58;
const NEIGHBOUR_SOLICITATION: u8 = 135;
const NEIGHBOUR_ADVERTISEMENT: u8 = 136;
const ETH: usize = 14;
const IPV6_HEADER: usize = 40;

/// What the host knows about its neighbours, beside smoltcp's cache.
#[derive(Clone, Debug)]
pub(crate) struct Neighbours {
    mac: [u8; 6],
    /// Address, prefix length, gateway.
    v4: Option<(Ipv4Addr, u8, Ipv4Addr)>,
    v6: Option<(Ipv6Addr, u8, Ipv6Addr)>,
    /// The gateways' MACs, from the answers to the host's own requests.
    gateway_v4: Option<[u8; 6]>,
    gateway_v6: Option<[u8; 6]>,
    /// When each neighbour was last confirmed, and at which MAC.
    confirmed: BTreeMap<IpAddr, ([u8; 6], Duration)>,
}

fn u16_at(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes(b.get(at..at + 2)?.try_into().ok()?))
}

fn mac_at(b: &[u8], at: usize) -> Option<[u8; 6]> {
    b.get(at..at + 6)?.try_into().ok()
}

fn v4_at(b: &[u8], at: usize) -> Option<Ipv4Addr> {
    Some(Ipv4Addr::from(<[u8; 4]>::try_from(b.get(at..at + 4)?).ok()?))
}

fn v6_at(b: &[u8], at: usize) -> Option<Ipv6Addr> {
    Some(Ipv6Addr::from(<[u8; 16]>::try_from(b.get(at..at + 16)?).ok()?))
}

fn same_v4_net(a: Ipv4Addr, b: Ipv4Addr, len: u8) -> bool {
    let mask = u32::MAX.checked_shl(32 - u32::from(len.min(32))).unwrap_or(0);
    u32::from(a) & mask == u32::from(b) & mask
}

fn same_v6_net(a: Ipv6Addr, b: Ipv6Addr, len: u8) -> bool {
    let mask = u128::MAX.checked_shl(128 - u32::from(len.min(128))).unwrap_or(0);
    u128::from(a) & mask == u128::from(b) & mask
}

fn is_unicast_mac(mac: [u8; 6]) -> bool {
    mac[0] & 1 == 0 && mac != [0; 6]
}

impl Neighbours {
    pub(crate) fn new(
        mac: [u8; 6],
        v4: Option<(Ipv4Addr, u8, Ipv4Addr)>,
        v6: Option<(Ipv6Addr, u8, Ipv6Addr)>,
    ) -> Neighbours {
        Neighbours { mac, v4, v6, gateway_v4: None, gateway_v6: None, confirmed: BTreeMap::new() }
    }

    /// The frames a booting host sends to find its gateways.
    pub(crate) fn boot_frames(&self) -> Vec<Vec<u8>> {
        let mut frames = Vec::new();
        if let Some((ip, _, gw)) = self.v4 {
            frames.push(arp(1, [0xff; 6], (self.mac, ip), ([0; 6], gw)));
        }
        if let Some((ip, _, gw)) = self.v6 {
            frames.push(self.solicitation(ip, gw));
        }
        frames
    }

    /// A request for an on-link destination's address (ARP or neighbour
    /// solicitation), sent by the host itself before it connects: smoltcp
    /// solicits one unknown neighbour per second for the whole interface, so a
    /// connection right after another lookup would wait a second. `None` when
    /// the destination is off-link (the gateway is already known) or known.
    pub(crate) fn solicit_on_link(&self, dst: IpAddr) -> Option<Vec<u8>> {
        if self.confirmed.contains_key(&dst) {
            return None;
        }
        match dst {
            IpAddr::V4(d) => {
                let (ip, len, _) = self.v4?;
                (same_v4_net(ip, d, len) && d != ip).then(|| arp(1, [0xff; 6], (self.mac, ip), ([0; 6], d)))
            }
            IpAddr::V6(d) => {
                let (ip, len, _) = self.v6?;
                (same_v6_net(ip, d, len) && d != ip).then(|| self.solicitation(ip, d))
            }
        }
    }

    /// Synthetic confirmations of the gateways that answered, when due.
    pub(crate) fn refresh_gateways(&mut self, now: Duration) -> Vec<Vec<u8>> {
        let mut frames = Vec::new();
        if let (Some((ip, _, gw)), Some(mac)) = (self.v4, self.gateway_v4)
            && self.due(IpAddr::V4(gw), mac, now).is_some()
        {
            frames.push(arp(2, self.mac, (mac, gw), (self.mac, ip)));
        }
        if let (Some((ip, _, gw)), Some(mac)) = (self.v6, self.gateway_v6)
            && self.due(IpAddr::V6(gw), mac, now).is_some()
        {
            frames.push(self.advertisement(gw, mac, ip, true));
        }
        frames
    }

    /// Looks at a frame about to be handed to the stack at `now`; returns the
    /// synthetic confirmation to hand it first, if one is due.
    pub(crate) fn observe(&mut self, frame: &[u8], now: Duration) -> Option<Vec<u8>> {
        let src_mac = mac_at(frame, 6)?;
        match u16_at(frame, 12)? {
            ETHERTYPE_ARP => {
                self.observe_arp(frame, src_mac, now);
                None
            }
            ETHERTYPE_IPV4 => self.observe_v4(frame, src_mac, now),
            ETHERTYPE_IPV6 => self.observe_v6(frame, src_mac, now),
            _ => None,
        }
    }

    /// An ARP reply from the IPv4 gateway to the host: its MAC is now known (and
    /// smoltcp fills its cache from the reply itself).
    fn observe_arp(&mut self, frame: &[u8], src_mac: [u8; 6], now: Duration) -> Option<()> {
        let (ip, _, gw) = self.v4?;
        let (op, sender_mac, sender_ip, target_ip) =
            (u16_at(frame, ETH + 6)?, mac_at(frame, ETH + 8)?, v4_at(frame, ETH + 14)?, v4_at(frame, ETH + 24)?);
        if op == 2 && sender_ip == gw && target_ip == ip && sender_mac == src_mac && is_unicast_mac(sender_mac) {
            self.gateway_v4 = Some(sender_mac);
            self.confirmed.insert(IpAddr::V4(gw), (sender_mac, now));
        }
        Some(())
    }

    fn observe_v4(&mut self, frame: &[u8], src_mac: [u8; 6], now: Duration) -> Option<Vec<u8>> {
        let (ip, len, gw) = self.v4?;
        if mac_at(frame, 0)? != self.mac || frame.get(ETH)? >> 4 != 4 || v4_at(frame, ETH + 16)? != ip {
            return None;
        }
        let src = v4_at(frame, ETH + 12)?;
        let neighbour = if src != ip && same_v4_net(src, ip, len) && !src.is_broadcast() && !src.is_unspecified() {
            src
        } else if self.gateway_v4 == Some(src_mac) {
            gw
        } else {
            return None;
        };
        self.due(IpAddr::V4(neighbour), src_mac, now)?;
        Some(arp(2, self.mac, (src_mac, neighbour), (self.mac, ip)))
    }

    fn observe_v6(&mut self, frame: &[u8], src_mac: [u8; 6], now: Duration) -> Option<Vec<u8>> {
        let (ip, len, gw) = self.v6?;
        let src = v6_at(frame, ETH + 8)?;
        let icmp_type = (*frame.get(ETH + 6)? == ICMPV6).then(|| frame.get(ETH + IPV6_HEADER).copied()).flatten();
        if icmp_type == Some(NEIGHBOUR_ADVERTISEMENT) {
            // The gateway answering the host's solicitation (source = target).
            if v6_at(frame, ETH + IPV6_HEADER + 8)? == gw && src == gw && is_unicast_mac(src_mac) {
                self.gateway_v6 = Some(src_mac);
                self.confirmed.insert(IpAddr::V6(gw), (src_mac, now));
            }
            return None;
        }
        if mac_at(frame, 0)? != self.mac || v6_at(frame, ETH + 24)? != ip {
            return None;
        }
        let neighbour = if src != ip && same_v6_net(src, ip, len) && !src.is_unspecified() && !src.is_multicast() {
            src
        } else if self.gateway_v6 == Some(src_mac) {
            gw
        } else {
            return None;
        };
        self.due(IpAddr::V6(neighbour), src_mac, now)?;
        Some(self.advertisement(neighbour, src_mac, ip, neighbour == gw))
    }

    /// Records a confirmation of `ip` at `mac` if one is due (unknown, older
    /// than [`REFRESH`], or another MAC).
    fn due(&mut self, ip: IpAddr, mac: [u8; 6], now: Duration) -> Option<()> {
        if !is_unicast_mac(mac) {
            return None;
        }
        if let Some(&(known, at)) = self.confirmed.get(&ip)
            && known == mac
            && now.saturating_sub(at) < REFRESH
        {
            return None;
        }
        self.confirmed.insert(ip, (mac, now));
        Some(())
    }

    /// A neighbour solicitation from `src` for `target`, to its solicited-node
    /// multicast group, with the host's link-layer address.
    fn solicitation(&self, src: Ipv6Addr, target: Ipv6Addr) -> Vec<u8> {
        let t = target.octets();
        let group =
            Ipv6Addr::from([0xff02, 0, 0, 0, 0, 1, 0xff00 | u16::from(t[13]), u16::from_be_bytes([t[14], t[15]])]);
        let mut icmp = vec![NEIGHBOUR_SOLICITATION, 0, 0, 0, 0, 0, 0, 0];
        icmp.extend_from_slice(&t);
        icmp.extend_from_slice(&[1, 1]); // source link-layer address, 8 bytes
        icmp.extend_from_slice(&self.mac);
        ipv6_icmp([0x33, 0x33, 0xff, t[13], t[14], t[15]], self.mac, src, group, icmp)
    }

    /// A neighbour advertisement, as if `neighbour` (at `mac`) answered the host.
    fn advertisement(&self, neighbour: Ipv6Addr, mac: [u8; 6], host: Ipv6Addr, router: bool) -> Vec<u8> {
        // Flags: router, solicited, override.
        let flags = if router { 0xe0 } else { 0x60 };
        let mut icmp = vec![NEIGHBOUR_ADVERTISEMENT, 0, 0, 0, flags, 0, 0, 0];
        icmp.extend_from_slice(&neighbour.octets());
        icmp.extend_from_slice(&[2, 1]); // target link-layer address, 8 bytes
        icmp.extend_from_slice(&mac);
        ipv6_icmp(self.mac, mac, neighbour, host, icmp)
    }
}

/// An ARP frame (`op` 1 request, 2 reply) from `sender` to `target` (MAC, IP).
fn arp(op: u16, dst_mac: [u8; 6], sender: ([u8; 6], Ipv4Addr), target: ([u8; 6], Ipv4Addr)) -> Vec<u8> {
    let mut f = Vec::with_capacity(42);
    f.extend_from_slice(&dst_mac);
    f.extend_from_slice(&sender.0);
    f.extend_from_slice(&ETHERTYPE_ARP.to_be_bytes());
    f.extend_from_slice(&[0, 1, 8, 0, 6, 4]);
    f.extend_from_slice(&op.to_be_bytes());
    f.extend_from_slice(&sender.0);
    f.extend_from_slice(&sender.1.octets());
    f.extend_from_slice(&target.0);
    f.extend_from_slice(&target.1.octets());
    f
}

/// An Ethernet frame with an IPv6 packet (hop limit 255) carrying the ICMPv6
/// message `icmp`, whose checksum is filled in.
fn ipv6_icmp(dst_mac: [u8; 6], src_mac: [u8; 6], src: Ipv6Addr, dst: Ipv6Addr, mut icmp: Vec<u8>) -> Vec<u8> {
    let len = icmp.len() as u16;
    let mut sum: u32 = 0;
    let mut add = |b: &[u8]| {
        for pair in b.chunks(2) {
            sum += u32::from(u16::from_be_bytes([pair[0], pair.get(1).copied().unwrap_or(0)]));
        }
    };
    add(&src.octets());
    add(&dst.octets());
    add(&u32::from(len).to_be_bytes());
    add(&[0, 0, 0, ICMPV6]);
    add(&icmp);
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    icmp[2..4].copy_from_slice(&(!(sum as u16)).to_be_bytes());

    let mut f = Vec::with_capacity(ETH + IPV6_HEADER + icmp.len());
    f.extend_from_slice(&dst_mac);
    f.extend_from_slice(&src_mac);
    f.extend_from_slice(&ETHERTYPE_IPV6.to_be_bytes());
    f.extend_from_slice(&[0x60, 0, 0, 0]);
    f.extend_from_slice(&len.to_be_bytes());
    f.extend_from_slice(&[ICMPV6, 255]);
    f.extend_from_slice(&src.octets());
    f.extend_from_slice(&dst.octets());
    f.extend_from_slice(&icmp);
    f
}

#[cfg(test)]
mod tests {
    use super::*;

    const MAC: [u8; 6] = [2, 0, 0, 0, 0, 1];
    const ROUTER: [u8; 6] = [2, 1, 0, 0, 0, 1];
    const PEER: [u8; 6] = [2, 0, 0, 0, 0, 2];

    fn v4() -> Neighbours {
        Neighbours::new(MAC, Some(("10.0.1.10".parse().expect("ip"), 24, "10.0.1.1".parse().expect("ip"))), None)
    }

    fn ipv4_frame(src_mac: [u8; 6], src: &str) -> Vec<u8> {
        let mut f = vec![0u8; ETH + 20];
        f[..6].copy_from_slice(&MAC);
        f[6..12].copy_from_slice(&src_mac);
        f[12..14].copy_from_slice(&ETHERTYPE_IPV4.to_be_bytes());
        f[ETH] = 0x45;
        f[ETH + 12..ETH + 16].copy_from_slice(&src.parse::<Ipv4Addr>().expect("ip").octets());
        f[ETH + 16..ETH + 20].copy_from_slice(&[10, 0, 1, 10]);
        f
    }

    #[test]
    fn on_link_peers_are_confirmed_once_per_refresh() {
        let mut n = v4();
        let frame = ipv4_frame(PEER, "10.0.1.20");
        let arp = n.observe(&frame, Duration::ZERO).expect("a confirmation");
        assert_eq!(&arp[..6], &MAC);
        assert_eq!(u16_at(&arp, ETH + 6), Some(2));
        assert_eq!(mac_at(&arp, ETH + 8), Some(PEER));
        assert_eq!(v4_at(&arp, ETH + 14), Some("10.0.1.20".parse().expect("ip")));
        assert_eq!(n.observe(&frame, Duration::from_secs(1)), None);
        assert!(n.observe(&frame, REFRESH + Duration::from_secs(1)).is_some());
    }

    #[test]
    fn the_gateway_is_confirmed_only_at_the_mac_that_answered() {
        let mut n = v4();
        let remote = ipv4_frame(ROUTER, "10.0.2.20");
        assert_eq!(n.observe(&remote, Duration::ZERO), None, "gateway MAC unknown yet");
        let reply = arp(2, MAC, (ROUTER, "10.0.1.1".parse().expect("ip")), (MAC, "10.0.1.10".parse().expect("ip")));
        assert_eq!(n.observe(&reply, Duration::ZERO), None);
        assert_eq!(n.observe(&remote, Duration::ZERO), None, "just confirmed by the reply");
        let later = n.observe(&remote, REFRESH * 2).expect("a refresh");
        assert_eq!(v4_at(&later, ETH + 14), Some("10.0.1.1".parse().expect("ip")));
        assert_eq!(n.observe(&ipv4_frame(PEER, "10.0.2.20"), REFRESH * 4), None, "not the gateway's MAC");
        assert_eq!(n.refresh_gateways(REFRESH * 2), Vec::<Vec<u8>>::new(), "confirmed just now");
        let again = n.refresh_gateways(REFRESH * 3 + Duration::from_secs(1));
        assert_eq!(again.len(), 1);
        assert_eq!(mac_at(&again[0], ETH + 8), Some(ROUTER));
    }

    #[test]
    fn icmpv6_checksum_verifies() {
        let n = Neighbours::new(MAC, None, None);
        let (a, b): (Ipv6Addr, Ipv6Addr) = ("2600::1".parse().expect("ip"), "2600::10".parse().expect("ip"));
        let f = n.advertisement(a, ROUTER, b, true);
        // Summing everything, the checksum included, gives 0xffff.
        let icmp = &f[ETH + IPV6_HEADER..];
        let mut sum: u32 = 0;
        for chunk in
            [&a.octets()[..], &b.octets()[..], &(icmp.len() as u32).to_be_bytes()[..], &[0, 0, 0, ICMPV6][..], icmp]
        {
            for pair in chunk.chunks(2) {
                sum += u32::from(u16::from_be_bytes([pair[0], pair.get(1).copied().unwrap_or(0)]));
            }
        }
        while sum > 0xffff {
            sum = (sum & 0xffff) + (sum >> 16);
        }
        assert_eq!(sum, 0xffff);
    }
}
