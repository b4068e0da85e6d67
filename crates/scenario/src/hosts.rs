//! `[[host]]`: in a subnet, on the internet or on premises; its addresses
//! (written ones first, automatic ones after every written one), security
//! groups and listeners. The ENIs are made at the end (`build.rs`), so a
//! host's index is its ENI's.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use toml::Spanned;
use vpcsim_model::{Attachment, HostIdx, Listener, OnPremIdx, SgIdx, SubnetIdx, VpcIdx};

use crate::addresses::{self, Place};
use crate::context::{Holder, Kind, on_top_of};
use crate::diagnostic::SourceMap;
use crate::raw::{RawHost, RawScenario};
use crate::transit::Transit;
use crate::values;

/// What a host will become once every address is known.
pub(crate) struct HostPlan {
    pub(crate) id: String,
    pub(crate) attachment: Option<Attachment>,
    /// The VPC of its subnet.
    pub(crate) vpc: Option<VpcIdx>,
    pub(crate) ipv4: Option<Ipv4Addr>,
    pub(crate) ipv6: Option<Ipv6Addr>,
    pub(crate) public_ip: Option<Ipv4Addr>,
    pub(crate) security_groups: Vec<SgIdx>,
    pub(crate) listen: Vec<Listener>,
    pub(crate) source_dest_check: bool,
    pub(crate) mtu: u16,
}

/// The hosts' facts, on transit.
pub(crate) struct Hosts<'a> {
    below: Transit<'a>,
    /// Every host of the file, in its order.
    pub(crate) hosts: Vec<HostPlan>,
}

impl<'a> Hosts<'a> {
    pub(crate) fn new(map: &'a SourceMap<'a>) -> Self {
        Self { below: Transit::new(map), hosts: Vec::new() }
    }
}

on_top_of!(Hosts, Transit);

impl Hosts<'_> {
    pub(crate) fn hosts(&mut self, raw: &RawScenario) {
        let mut vpc_space: Vec<HashMap<IpAddr, Holder>> = (0..self.t.vpcs.len()).map(|_| HashMap::new()).collect();
        let mut internet: HashMap<IpAddr, Holder> = HashMap::new();
        for r in &raw.host {
            let plan = self.host(r, &mut vpc_space, &mut internet);
            self.hosts.push(plan);
        }
        // NAT gateways' written addresses are taken like hosts'.
        self.nat_gateway_addresses(raw, &mut vpc_space, &mut internet);
        // Automatic addresses come last, so that an address written further
        // down the file is never handed out first.
        let mut next: HashMap<SubnetIdx, u32> = HashMap::new();
        for (i, r) in raw.host.iter().enumerate() {
            let plan = &self.hosts[i];
            let (Some(Attachment::Subnet(s)), None, Some(v)) = (plan.attachment, plan.ipv4, plan.vpc) else {
                continue;
            };
            if r.ip.is_some() || !self.subnet_ok[s.index()] {
                continue;
            }
            if let Some(ip) = self.next_free(s, v, &r.id, &mut vpc_space, &mut next) {
                self.hosts[i].ipv4 = Some(ip);
            }
        }
        self.nat_gateway_auto_addresses(raw, &mut vpc_space, &mut next);
    }

    fn host(
        &mut self,
        r: &RawHost,
        vpc_space: &mut [HashMap<IpAddr, Holder>],
        internet: &mut HashMap<IpAddr, Holder>,
    ) -> HostPlan {
        let id = r.id.get_ref().clone();
        let line = self.line_of(&r.id.span());
        let mut plan = HostPlan {
            id: id.clone(),
            attachment: None,
            vpc: None,
            ipv4: None,
            ipv6: None,
            public_ip: None,
            security_groups: Vec::new(),
            listen: Vec::new(),
            source_dest_check: r.source_dest_check.as_ref().is_none_or(|s| *s.get_ref()),
            mtu: vpcsim_model::DEFAULT_MTU,
        };
        plan.listen = self.listeners(&r.listen);
        if let Some(m) = &r.mtu {
            // 1280 is IPv6's minimum; 9001 is the most AWS allows (jumbo frames).
            match u16::try_from(*m.get_ref()) {
                Ok(mtu) if (1280..=9001).contains(&mtu) => plan.mtu = mtu,
                _ => self.err(
                    m.span(),
                    format!("mtu {} is out of range: 1280 to 9001 (AWS: 1500, or 9001 for jumbo frames)", m.get_ref()),
                ),
            }
        }
        if let Some(o) = &r.onprem {
            self.onprem_host(r, o, &mut plan, line);
            return plan;
        }
        let on_internet = r.internet.as_ref().is_some_and(|i| *i.get_ref());
        match (&r.subnet, on_internet) {
            (Some(s), true) => {
                self.err(
                    s.span(),
                    format!("host `{id}` is either in a subnet or on the internet (`internet = true`), not both"),
                );
            }
            (None, false) => {
                self.err(r.id.span(), format!("host `{id}` needs `subnet = \"...\"` or `internet = true`"));
            }
            (None, true) => {
                plan.attachment = Some(Attachment::Internet);
                self.internet_host(r, &mut plan, internet, line);
            }
            (Some(s), false) => {
                let Some(si) = self.resolve(s, Kind::Subnet).map(SubnetIdx::from_index) else {
                    return plan;
                };
                plan.attachment = Some(Attachment::Subnet(si));
                if !self.subnet_ok[si.index()] {
                    return plan;
                }
                let v = self.t.subnet(si).vpc;
                plan.vpc = Some(v);
                self.subnet_host(r, &mut plan, si, &mut vpc_space[v.index()], internet, line);
            }
        }
        plan
    }

    fn listeners(&mut self, raw: &[Spanned<String>]) -> Vec<Listener> {
        let mut out: Vec<Listener> = Vec::new();
        // A host may listen on every port: an idle listener costs no socket.
        let mut seen = std::collections::BTreeSet::new();
        for l in raw {
            match values::listener(l.get_ref()) {
                Err(e) => self.err(l.span(), e),
                Ok(listener) if !seen.insert((listener.proto == vpcsim_model::Protocol::Tcp, listener.port)) => {
                    self.err(l.span(), format!("`{}` is listed twice", l.get_ref()))
                }
                Ok(listener) => out.push(listener),
            }
        }
        out
    }

    fn subnet_host(
        &mut self,
        r: &RawHost,
        plan: &mut HostPlan,
        si: SubnetIdx,
        space: &mut HashMap<IpAddr, Holder>,
        internet: &mut HashMap<IpAddr, Holder>,
        line: usize,
    ) {
        let id = plan.id.clone();
        let subnet = self.t.subnet(si).clone();
        if let Some(ip) = &r.ip {
            match values::ip(ip.get_ref()) {
                Err(e) => self.err(ip.span(), e),
                Ok(IpAddr::V6(_)) => {
                    self.err(ip.span(), "`ip` is the host's private IPv4 address; put an IPv6 address in `ipv6`")
                }
                Ok(IpAddr::V4(a)) => {
                    if !subnet.cidr.contains(&a) {
                        self.err(ip.span(), format!("{a} is not inside {} {}", subnet.id, subnet.cidr));
                    } else if subnet.is_reserved(a) {
                        self.err(
                            ip.span(),
                            format!(
                                "{a} is reserved by AWS in {} ({})",
                                subnet.id,
                                reserved_role(subnet.cidr.network().into(), subnet.cidr.broadcast().into(), a.into())
                            ),
                        );
                    } else if self.take(space, IpAddr::V4(a), &id, line, ip.span(), "") {
                        plan.ipv4 = Some(a);
                    }
                }
            }
        }
        if let Some(ip) = &r.ipv6 {
            match values::ip(ip.get_ref()) {
                Err(e) => self.err(ip.span(), e),
                Ok(IpAddr::V4(_)) => {
                    self.err(ip.span(), "`ipv6` is the host's IPv6 address; put an IPv4 address in `ip`")
                }
                Ok(IpAddr::V6(a)) => match subnet.ipv6_cidr {
                    None => self.err(
                        ip.span(),
                        format!("{} has no IPv6 CIDR, so its hosts cannot have an IPv6 address", subnet.id),
                    ),
                    Some(net) if !net.contains(&a) => {
                        self.err(ip.span(), format!("{a} is not inside {} {net}", subnet.id))
                    }
                    Some(net) => {
                        let base = u128::from(net.network());
                        let last = u128::from(net.broadcast());
                        let n = u128::from(a);
                        // AWS reserves the first four and the last address of
                        // an IPv6 subnet too; base + 1 is the router.
                        if n <= base + 3 || n == last {
                            self.err(
                                ip.span(),
                                format!(
                                    "{a} is reserved by AWS in {} ({})",
                                    subnet.id,
                                    reserved_role(net.network().into(), net.broadcast().into(), a.into())
                                ),
                            );
                        } else if self.take(space, IpAddr::V6(a), &id, line, ip.span(), "") {
                            plan.ipv6 = Some(a);
                        }
                    }
                },
            }
        }
        if let Some(ip) = &r.public_ip {
            match values::ip(ip.get_ref()) {
                Err(e) => self.err(ip.span(), e),
                Ok(IpAddr::V6(_)) => {
                    self.err(ip.span(), "a public IP is an IPv4 address (IPv6 addresses are already public)")
                }
                Ok(IpAddr::V4(a)) => match addresses::check_addr(IpAddr::V4(a), Place::Public) {
                    Err(e) => self.err(ip.span(), e),
                    Ok(()) => {
                        if self.take(internet, IpAddr::V4(a), &id, line, ip.span(), " on the internet") {
                            plan.public_ip = Some(a);
                        }
                    }
                },
            }
        }
        let vpc = subnet.vpc;
        match &r.security_groups {
            None => plan.security_groups = vec![self.t.vpc(vpc).default_security_group],
            Some(list) if list.get_ref().is_empty() => {
                self.err(
                    list.span(),
                    "a network interface needs at least one security group (omit the key for the VPC's default)",
                );
            }
            Some(list) => {
                for s in list.get_ref() {
                    let Some(sg) = self.resolve_sg(s, Some(vpc)) else {
                        continue;
                    };
                    if let Some(other) = self.sg_vpc[sg.index()]
                        && other != vpc
                    {
                        let msg = format!(
                            "security group `{}` belongs to {}, but host `{id}` is in {}",
                            s.get_ref(),
                            self.vpc_id(other),
                            self.vpc_id(vpc)
                        );
                        self.err(s.span(), msg);
                    } else if plan.security_groups.contains(&sg) {
                        self.err(s.span(), format!("security group `{}` is listed twice", s.get_ref()));
                    } else {
                        plan.security_groups.push(sg);
                    }
                }
            }
        }
    }

    fn internet_host(&mut self, r: &RawHost, plan: &mut HostPlan, internet: &mut HashMap<IpAddr, Holder>, line: usize) {
        let id = plan.id.clone();
        if let Some(sg) = &r.security_groups {
            self.err(sg.span(), "an internet host has no security groups (nothing filters the internet)");
        }
        if let Some(p) = &r.public_ip {
            self.err(p.span(), "an internet host's `ip` is already public; remove `public_ip`");
        }
        if let Some(s) = &r.source_dest_check {
            self.err(s.span(), "`source_dest_check` applies to network interfaces in a subnet, not to internet hosts");
        }
        let Some(ip) = &r.ip else {
            self.err(r.id.span(), format!("internet host `{id}` needs `ip`"));
            return;
        };
        let mut check = |b: &mut Self, s: &Spanned<String>| -> Option<IpAddr> {
            let a = match values::ip(s.get_ref()) {
                Err(e) => {
                    b.err(s.span(), e);
                    return None;
                }
                Ok(a) => a,
            };
            let problem =
                addresses::check_addr(a, Place::Internet).err().or_else(|| match a {
                    IpAddr::V6(v6) => b.t.vpcs.iter().find(|v| v.ipv6_cidr.is_some_and(|n| n.contains(&v6))).map(|v| {
                        format!("{a} is inside {}'s IPv6 CIDR; an internet host lives outside every VPC", v.id)
                    }),
                    IpAddr::V4(_) => None,
                });
            if let Some(p) = problem {
                b.err(s.span(), p);
                return None;
            }
            b.take(internet, a, &id, line, s.span(), " on the internet").then_some(a)
        };
        match check(self, ip) {
            Some(IpAddr::V4(a)) => plan.ipv4 = Some(a),
            Some(IpAddr::V6(a)) => plan.ipv6 = Some(a),
            None => {}
        }
        if let Some(v6) = &r.ipv6 {
            match check(self, v6) {
                Some(IpAddr::V6(a)) if plan.ipv6.is_none() => plan.ipv6 = Some(a),
                Some(IpAddr::V6(_)) => self.err(v6.span(), "`ip` already gives this host its IPv6 address"),
                Some(IpAddr::V4(_)) => self.err(v6.span(), "`ipv6` must be an IPv6 address"),
                None => {}
            }
        }
    }

    /// The VPC of the `i`th host, if it is in a subnet.
    pub(crate) fn host_vpc(&self, i: usize) -> Option<VpcIdx> {
        self.hosts.get(i).and_then(|h| h.vpc)
    }

    /// The `i`th host, for traffic: its index, and whether it has an IPv4
    /// address (which a host id in `to` stands for). A host whose address
    /// failed is counted as having one: its error is already reported.
    pub(crate) fn host_of(&self, i: usize) -> (HostIdx, bool) {
        let p = &self.hosts[i];
        let ipv6_only = p.attachment == Some(Attachment::Internet) && p.ipv4.is_none() && p.ipv6.is_some();
        (HostIdx::from_index(i), !ipv6_only)
    }

    /// A host with `onprem = "..."`: an address inside the network's CIDR
    /// (not its network address, router (base + 1) or broadcast address);
    /// nothing filters it.
    pub(crate) fn onprem_host(&mut self, r: &RawHost, o: &Spanned<String>, plan: &mut HostPlan, line: usize) {
        let id = plan.id.clone();
        let clashes = [
            (r.subnet.as_ref().map(|s| s.span()), "`subnet`"),
            (r.internet.as_ref().filter(|i| *i.get_ref()).map(|i| i.span()), "`internet = true`"),
        ];
        for (span, what) in clashes {
            if let Some(span) = span {
                self.err(span, format!("host `{id}` is on premises (`onprem`); it cannot also have {what}"));
            }
        }
        let extras = [
            (r.security_groups.as_ref().map(|s| s.span()), "security groups"),
            (r.public_ip.as_ref().map(|s| s.span()), "a public IP"),
            (r.ipv6.as_ref().map(|s| s.span()), "an IPv6 address (on-premises networks are IPv4 in vpcsim)"),
            (r.source_dest_check.as_ref().map(|s| s.span()), "`source_dest_check`"),
        ];
        for (span, what) in extras {
            if let Some(span) = span {
                self.err(span, format!("an on-premises host has no {what}"));
            }
        }
        let Some(oi) = self.resolve(o, Kind::OnPrem).map(OnPremIdx::from_index) else {
            return;
        };
        plan.attachment = Some(Attachment::OnPrem(oi));
        let Some(ip) = &r.ip else {
            self.err(r.id.span(), format!("on-premises host `{id}` needs `ip`"));
            return;
        };
        if !self.onprem_ok[oi.index()] {
            return;
        }
        let net = self.t.onprem(oi).clone();
        match values::ip(ip.get_ref()) {
            Err(e) => self.err(ip.span(), e),
            Ok(IpAddr::V6(_)) => self.err(ip.span(), "an on-premises host's `ip` is an IPv4 address"),
            Ok(IpAddr::V4(a)) if !net.cidr.contains(&a) => {
                self.err(ip.span(), format!("{a} is not inside {} {}", net.id, net.cidr))
            }
            Ok(IpAddr::V4(a)) if a == net.cidr.network() || a == net.cidr.broadcast() || a == net.router_ip() => {
                self.err(
                    ip.span(),
                    format!(
                        "{a} is taken in {}: its network address, its broadcast address and its router ({}) are not for hosts",
                        net.id,
                        net.router_ip()
                    ),
                )
            }
            Ok(IpAddr::V4(a)) => {
                let mut space = std::mem::take(&mut self.onprem_space[oi.index()]);
                if self.take(&mut space, IpAddr::V4(a), &id, line, ip.span(), &format!(" in {}", net.id)) {
                    plan.ipv4 = Some(a);
                }
                self.onprem_space[oi.index()] = space;
            }
        }
    }
}

/// Why AWS reserves an address of a subnet.
fn reserved_role(network: IpAddr, broadcast: IpAddr, a: IpAddr) -> &'static str {
    let offset = |x: IpAddr| match x {
        IpAddr::V4(v) => u128::from(u32::from(v)),
        IpAddr::V6(v) => u128::from(v),
    };
    match offset(a).wrapping_sub(offset(network)) {
        _ if a == broadcast && a.is_ipv4() => "the broadcast address",
        _ if a == broadcast => "the subnet's last address",
        0 => "the network address",
        1 => "the VPC router",
        2 => "the Amazon DNS server",
        _ => "reserved for future use",
    }
}
