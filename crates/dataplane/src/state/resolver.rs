//! The Amazon DNS server of each VPC (the primary CIDR's base + 2,
//! 169.254.169.253 and fd00:ec2::253) and the internet's resolver: what a name
//! resolves to, seen from where the query comes.
//!
//! Names it knows: AWS services' public names (`s3.us-east-1.amazonaws.com`),
//! from anywhere; inside a VPC with private DNS on, instances' private
//! hostnames (`ip-10-0-1-10.ec2.internal` in us-east-1,
//! `ip-10-0-1-10.<region>.compute.internal` elsewhere); instances' public
//! hostnames (`ec2-54-0-0-10.compute-1.amazonaws.com`,
//! `ec2-...<region>.compute.amazonaws.com`), which answer the private address
//! inside the instance's own VPC (private DNS on) and the public one elsewhere.
//! Before all of these, the private hosted zones (`[[dns_zone]]`) associated
//! with the asker's VPC answer the names they cover.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use vpcsim_dns::Answer;

use super::addresses::{Addresses, InternetOwner};
use vpcsim_model::{Attachment, DnsRecordData, EndpointState, EndpointTarget, Topology, VpcIdx};

/// The resolver's link-local address, in every VPC.
pub(crate) const LINK_LOCAL_V4: Ipv4Addr = Ipv4Addr::new(169, 254, 169, 253);
/// The resolver's IPv6 address (Nitro instances), in every VPC.
pub(crate) const LINK_LOCAL_V6: Ipv6Addr = Ipv6Addr::new(0xfd00, 0x0ec2, 0, 0, 0, 0, 0, 0x253);
/// How long answers may be cached (seconds).
pub(crate) const TTL: u32 = 60;

/// Whether `ip` is the Amazon DNS server as seen from inside `vpc`.
pub(crate) fn is_vpc_resolver(t: &Topology, vpc: VpcIdx, ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(a) => a == t.vpc(vpc).dns_server() || a == LINK_LOCAL_V4,
        IpAddr::V6(a) => a == LINK_LOCAL_V6,
    }
}

/// What `name` (lowercase, no trailing dot) resolves to for a querier in
/// `from` (`None`: on the internet).
pub(crate) fn lookup(
    t: &Topology,
    owners: &Addresses,
    states: &[EndpointState],
    from: Option<VpcIdx>,
    from_az: Option<&str>,
    name: &str,
) -> Answer {
    if let Some(vpc) = from
        && let Some(answer) = zone_answer(t, states, vpc, from_az, name)
    {
        return answer;
    }
    // A VPC with private_dns off never asks: its DNS server does not answer
    // (`Cx::answer_dns`). So inside a VPC, its DNS attributes are on.
    for (i, ep) in t.interface_endpoints.iter().enumerate() {
        // An endpoint's names live until it is Deleted, whatever its state.
        if states.get(i) == Some(&EndpointState::Deleted) {
            continue;
        }
        // With private DNS on, the service's own name (an endpoint service's
        // private DNS name) answers the endpoint's ENIs inside its VPC.
        let own_name = match ep.target {
            EndpointTarget::AwsService(svc) => Some(t.service(svc).dns_name.as_str()),
            EndpointTarget::EndpointService(es) => t.endpoint_service(es).private_dns_name.as_deref(),
        };
        let private = ep.private_dns && from == Some(ep.vpc) && own_name == Some(name);
        if private || ep.dns_name == name {
            // Every ENI, the asker's AZ first (a client takes the first).
            let mut enis: Vec<_> = ep.enis.iter().map(|&e| t.eni(e)).collect();
            enis.sort_by_key(|e| e.subnet().map(|s| Some(t.subnet(s).az.as_str()) != from_az));
            return addresses(enis.iter().map(|e| IpAddr::V4(e.ipv4)));
        }
        if let Some(i) = ep.zonal_dns_names.iter().position(|(_, n)| n == name) {
            return addresses(ep.enis.get(i).map(|&e| IpAddr::V4(t.eni(e).ipv4)));
        }
    }
    if let Some(s) = t.services.iter().find(|s| s.dns_name == name) {
        // The front door's addresses: the ones a host answers at.
        let front = t.eni(t.host(s.host).eni);
        let v4 = (!front.ipv4.is_unspecified()).then_some(IpAddr::V4(front.ipv4));
        return addresses(v4.into_iter().chain(front.ipv6.map(IpAddr::V6)));
    }
    if let Some(vpc) = from
        && let Some(ip) = private_hostname(name, &t.vpc(vpc).region)
    {
        // An address of an ENI of the asker's VPC (IPv4: the key is).
        let owned = owners.vpc.contains_key(&(vpc, IpAddr::V4(ip)));
        return if owned { addresses([IpAddr::V4(ip)]) } else { Answer::NxDomain };
    }
    // Public addresses are unique on the internet (the loader sees to it).
    if let Some((public, region)) = public_hostname(name)
        && let Some(&InternetOwner::PublicIp(e, _)) = owners.internet.get(&IpAddr::V4(public))
        && let eni = t.eni(e)
        && eni_vpc(t, eni).is_some_and(|v| t.vpc(v).region == region)
    {
        let inside = from.is_some() && eni_vpc(t, eni) == from;
        return addresses([IpAddr::V4(if inside { eni.ipv4 } else { public })]);
    }
    Answer::NxDomain
}

/// The answer of the private hosted zones associated with `vpc` (the most
/// specific zone that covers `name`): its records of that name, NXDOMAIN when
/// it has none (a private zone hides the public names below it, as in
/// Route 53). `None` when no associated zone covers the name.
fn zone_answer(
    t: &Topology,
    states: &[EndpointState],
    vpc: VpcIdx,
    from_az: Option<&str>,
    name: &str,
) -> Option<Answer> {
    let zone = t.dns_zones.iter().filter(|z| z.vpcs.contains(&vpc) && z.covers(name)).max_by_key(|z| z.name.len())?;
    let mut ips: Vec<IpAddr> = Vec::new();
    let mut found = false;
    for r in zone.records.iter().filter(|r| r.name == name) {
        found = true;
        match &r.data {
            DnsRecordData::A(v4) => ips.extend(v4.iter().map(|&a| IpAddr::V4(a))),
            DnsRecordData::Aaaa(v6) => ips.extend(v6.iter().map(|&a| IpAddr::V6(a))),
            DnsRecordData::Alias(ep) => {
                if states.get(ep.index()) == Some(&EndpointState::Deleted) {
                    continue;
                }
                let mut enis: Vec<_> = t.interface_endpoint(*ep).enis.iter().map(|&e| t.eni(e)).collect();
                enis.sort_by_key(|e| e.subnet().map(|s| Some(t.subnet(s).az.as_str()) != from_az));
                ips.extend(enis.iter().map(|e| IpAddr::V4(e.ipv4)));
            }
        }
    }
    Some(if found && !ips.is_empty() { addresses(ips) } else { Answer::NxDomain })
}

fn addresses(ips: impl IntoIterator<Item = IpAddr>) -> Answer {
    let (mut v4, mut v6) = (Vec::new(), Vec::new());
    for ip in ips {
        match ip {
            IpAddr::V4(a) => v4.push(a),
            IpAddr::V6(a) => v6.push(a),
        }
    }
    Answer::Addresses { v4, v6 }
}

fn eni_vpc(t: &Topology, eni: &vpcsim_model::Eni) -> Option<VpcIdx> {
    match eni.attachment {
        Attachment::Subnet(s) => Some(t.subnet(s).vpc),
        Attachment::Internet | Attachment::OnPrem(_) => None,
    }
}

/// "a-b-c-d" → the address.
fn dashed(s: &str) -> Option<Ipv4Addr> {
    let parts: Vec<u8> = s.split('-').map(|p| p.parse().ok()).collect::<Option<_>>()?;
    let [a, b, c, d] = parts[..] else { return None };
    Some(Ipv4Addr::new(a, b, c, d))
}

/// `ip-10-0-1-10.ec2.internal` (us-east-1) or `ip-10-0-1-10.<region>.compute.internal`.
fn private_hostname(name: &str, region: &str) -> Option<Ipv4Addr> {
    let rest = name.strip_prefix("ip-")?;
    let (label, domain) = rest.split_once('.')?;
    let expected =
        if region == "us-east-1" { "ec2.internal".to_string() } else { format!("{region}.compute.internal") };
    (domain == expected).then(|| dashed(label)).flatten()
}

/// `ec2-54-0-0-10.compute-1.amazonaws.com` (us-east-1) or
/// `ec2-54-0-0-10.<region>.compute.amazonaws.com`: the address and region.
fn public_hostname(name: &str) -> Option<(Ipv4Addr, String)> {
    let rest = name.strip_prefix("ec2-")?;
    let (label, domain) = rest.split_once('.')?;
    let region = if domain == "compute-1.amazonaws.com" {
        "us-east-1".to_string()
    } else {
        domain.strip_suffix(".compute.amazonaws.com")?.to_string()
    };
    Some((dashed(label)?, region))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostnames_follow_aws_patterns() {
        assert_eq!(private_hostname("ip-10-0-1-10.ec2.internal", "us-east-1"), Some(Ipv4Addr::new(10, 0, 1, 10)));
        assert_eq!(
            private_hostname("ip-10-0-1-10.eu-west-1.compute.internal", "eu-west-1"),
            Some(Ipv4Addr::new(10, 0, 1, 10))
        );
        assert_eq!(private_hostname("ip-10-0-1-10.ec2.internal", "eu-west-1"), None);
        assert_eq!(private_hostname("ip-10-0-1.ec2.internal", "us-east-1"), None);
        assert_eq!(
            public_hostname("ec2-54-0-0-10.compute-1.amazonaws.com"),
            Some((Ipv4Addr::new(54, 0, 0, 10), "us-east-1".into()))
        );
        assert_eq!(
            public_hostname("ec2-54-0-0-10.us-west-2.compute.amazonaws.com"),
            Some((Ipv4Addr::new(54, 0, 0, 10), "us-west-2".into()))
        );
        assert_eq!(public_hostname("ec2-54-0-0-300.compute-1.amazonaws.com"), None);
    }
}
