//! Who owns which address, per address space: built once from the topology.

use std::net::IpAddr;

use ipnet::Ipv6Net;
use rustc_hash::FxHashMap;
use vpcsim_model::{Attachment, EniIdx, Topology, VpcIdx};

/// Who owns an address on the public internet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum InternetOwner {
    /// An internet host.
    Host(EniIdx),
    /// A VPC ENI's public IPv4 address, behind its VPC's internet gateway.
    PublicIp(EniIdx, VpcIdx),
}

/// Who owns which address, per address space. Built once from the topology.
#[derive(Clone, Debug, Default)]
pub(crate) struct Addresses {
    /// Private IPv4 and IPv6 addresses of ENIs, per VPC.
    pub(crate) vpc: FxHashMap<(VpcIdx, IpAddr), EniIdx>,
    /// Internet hosts and public IPv4 addresses.
    pub(crate) internet: FxHashMap<IpAddr, InternetOwner>,
    /// VPC IPv6 CIDRs: globally routable, reached through the VPC's internet gateway.
    pub(crate) vpc_ipv6: Vec<(Ipv6Net, VpcIdx)>,
    /// On-premises hosts' addresses, per on-premises network.
    pub(crate) onprem: FxHashMap<(vpcsim_model::OnPremIdx, IpAddr), EniIdx>,
}

impl Addresses {
    pub(crate) fn new(topology: &Topology) -> Addresses {
        let mut addresses = Addresses::default();
        for (i, eni) in topology.enis.iter().enumerate() {
            let e = EniIdx::from_index(i);
            match eni.attachment {
                Attachment::Subnet(s) => {
                    let vpc = topology.subnet(s).vpc;
                    addresses.vpc.insert((vpc, IpAddr::V4(eni.ipv4)), e);
                    if let Some(v6) = eni.ipv6 {
                        addresses.vpc.insert((vpc, IpAddr::V6(v6)), e);
                    }
                    if let Some(public) = eni.public_ip {
                        addresses.internet.insert(IpAddr::V4(public), InternetOwner::PublicIp(e, vpc));
                    }
                }
                Attachment::Internet => {
                    addresses.internet.insert(IpAddr::V4(eni.ipv4), InternetOwner::Host(e));
                    if let Some(v6) = eni.ipv6 {
                        addresses.internet.insert(IpAddr::V6(v6), InternetOwner::Host(e));
                    }
                }
                Attachment::OnPrem(o) => {
                    addresses.onprem.insert((o, IpAddr::V4(eni.ipv4)), e);
                }
            }
        }
        for (i, vpc) in topology.vpcs.iter().enumerate() {
            if let Some(net) = vpc.ipv6_cidr {
                addresses.vpc_ipv6.push((net, VpcIdx::from_index(i)));
            }
        }
        addresses
    }
}
