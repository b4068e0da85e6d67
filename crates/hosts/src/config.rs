//! What a host is: its interface, addresses, servers and seed
//! ([`HostConfig`]), and how a host of a topology gets one
//! ([`HostConfig::for_host`]).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use vpcsim_model::{Attachment, HostIdx, Listener, Topology};

use crate::rng::splitmix64;

/// The IP MTU of an ordinary Ethernet interface.
pub const DEFAULT_MTU: usize = 1500;

/// One virtual machine's network configuration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HostConfig {
    /// For diagnostics only.
    pub name: String,
    /// The MAC address of the host's ENI.
    pub mac: [u8; 6],
    /// Address, prefix length, default gateway. The address `0.0.0.0` means
    /// "no IPv4" (an IPv6-only internet host): no IPv4 address or route is set.
    pub ipv4: (Ipv4Addr, u8, Ipv4Addr),
    /// Address, prefix length, default gateway.
    pub ipv6: Option<(Ipv6Addr, u8, Ipv6Addr)>,
    /// IP MTU (bytes of the IP packet), default 1500.
    pub mtu: usize,
    /// Servers: `tcp/N` accepts any number of connections at once (a pool of
    /// listening sockets per port, replenished) and echoes what it receives;
    /// `udp/N` echoes each datagram back to its sender. Other protocols are
    /// ignored. Every host answers ping (v4 and v6).
    pub listen: Vec<Listener>,
    /// Seeds smoltcp's `random_seed` (initial sequence numbers, IPv4
    /// identification) and the choice of ephemeral ports and ICMP identifiers.
    pub seed: u64,
    /// The DNS server `resolve` asks.
    pub dns_server: Option<IpAddr>,
    /// When true, TCP servers hand each request (the bytes up to a blank line)
    /// to the caller (`take_requests`) and send what it answers (`respond`),
    /// instead of echoing: how AWS services are built.
    pub application: bool,
}

impl HostConfig {
    /// The configuration of `host` of `topology`, with an IP MTU of `mtu`.
    ///
    /// A host in a subnet gets its ENI's addresses with the subnet's prefix
    /// lengths, and the VPC router (subnet base + 1) as its gateway for both
    /// families. An internet host gets a /24 (IPv4) and a /64 (IPv6) around its
    /// address, with base + 1 as gateway (base + 2 when base + 1 is the host
    /// itself): the internet's router answers ARP and neighbour solicitations
    /// for any address but the host's own. The seed is
    /// `splitmix64(topology.seed ^ host index)`.
    pub fn for_host(topology: &Topology, host: HostIdx, mtu: usize) -> HostConfig {
        let h = topology.host(host);
        let eni = topology.eni(h.eni);
        let (ipv4, ipv6, dns_server) = match eni.attachment {
            Attachment::Subnet(s) => {
                let subnet = topology.subnet(s);
                // The Amazon DNS server: the VPC's base + 2.
                let dns = Some(IpAddr::V4(topology.vpc(subnet.vpc).dns_server()));
                let ipv4 = (eni.ipv4, subnet.cidr.prefix_len(), subnet.router_ip());
                let ipv6 = match (eni.ipv6, subnet.ipv6_cidr, subnet.router_ipv6()) {
                    (Some(ip), Some(net), Some(gw)) => Some((ip, net.prefix_len(), gw)),
                    _ => None,
                };
                (ipv4, ipv6, dns)
            }
            Attachment::Internet => {
                let ipv4 = if eni.ipv4.is_unspecified() {
                    (Ipv4Addr::UNSPECIFIED, 0, Ipv4Addr::UNSPECIFIED)
                } else {
                    let ip = u32::from(eni.ipv4);
                    (eni.ipv4, 24, Ipv4Addr::from(internet_gateway(u128::from(ip), 24, 32) as u32))
                };
                let ipv6 = eni.ipv6.map(|ip| (ip, 64, Ipv6Addr::from(internet_gateway(u128::from(ip), 64, 128))));
                // The internet's router resolves names too.
                let dns =
                    if ipv4.0.is_unspecified() { ipv6.map(|v| IpAddr::V6(v.2)) } else { Some(IpAddr::V4(ipv4.2)) };
                (ipv4, ipv6, dns)
            }
            // An on-premises host: the network's CIDR, its router (base + 1)
            // as gateway and DNS server.
            Attachment::OnPrem(o) => {
                let net = topology.onprem(o);
                let router = net.router_ip();
                ((eni.ipv4, net.cidr.prefix_len(), router), None, Some(IpAddr::V4(router)))
            }
        };
        HostConfig {
            name: h.id.clone(),
            mac: eni.mac,
            ipv4,
            ipv6,
            mtu,
            listen: h.listen.clone(),
            seed: splitmix64(topology.seed ^ host.0 as u64),
            dns_server,
            application: h.service.is_some(),
        }
    }
}

/// Base + 1 of the `/prefix` around `ip` (of a `bits`-bit family), or base + 2
/// when base + 1 is `ip` itself.
fn internet_gateway(ip: u128, prefix: u32, bits: u32) -> u128 {
    let host_bits = bits - prefix;
    let base = ip & !((1u128 << host_bits) - 1);
    if ip == base + 1 { base + 2 } else { base + 1 }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internet_gateway_avoids_the_host() {
        let v4 = |s: &str| u128::from(u32::from(s.parse::<Ipv4Addr>().expect("address")));
        assert_eq!(internet_gateway(v4("198.51.100.7"), 24, 32), v4("198.51.100.1"));
        assert_eq!(internet_gateway(v4("198.51.100.1"), 24, 32), v4("198.51.100.2"));
        let v6 = |s: &str| u128::from(s.parse::<Ipv6Addr>().expect("address"));
        assert_eq!(internet_gateway(v6("2001:db8::7"), 64, 128), v6("2001:db8::1"));
        assert_eq!(internet_gateway(v6("2001:db8::1"), 64, 128), v6("2001:db8::2"));
    }
}
