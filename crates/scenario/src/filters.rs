//! `[[nacl]]`, `[[security_group]]` and `[[prefix_list]]`: the filters, and
//! the implicit default NACL and security group of every VPC. A security
//! group's rules are read last (`security_group_rules`), once every group and
//! peering they may name exists.

use std::collections::HashMap;

use ipnet::{IpNet, Ipv4Net, Ipv6Net};
use toml::Spanned;
use vpcsim_model::{
    Action, ManagedBy, Nacl, NaclIdx, NaclRule, PortRange, PrefixList, PrefixListIdx, Protocol, SecurityGroup, SgIdx,
    SgPeer, SgRule, VpcIdx,
};

use crate::context::{Context, Kind, on_top_of};
use crate::diagnostic::SourceMap;
use crate::managed;
use crate::raw::{RawNaclRule, RawScenario, RawSgRule};
use crate::values;

/// The filters' facts, on the context.
pub(crate) struct Filters<'a> {
    below: Context<'a>,
    /// The VPC of each NACL and security group, by index (`None` where the file was wrong).
    pub(crate) nacl_vpc: Vec<Option<VpcIdx>>,
    pub(crate) sg_vpc: Vec<Option<VpcIdx>>,
    /// AWS-managed prefix lists created so far, by (id, region).
    managed_lists: HashMap<(String, String), PrefixListIdx>,
}

impl<'a> Filters<'a> {
    pub(crate) fn new(map: &'a SourceMap<'a>) -> Self {
        Self { below: Context::new(map), nacl_vpc: Vec::new(), sg_vpc: Vec::new(), managed_lists: HashMap::new() }
    }
}

on_top_of!(Filters, Context);

impl Filters<'_> {
    pub(crate) fn nacls(&mut self, raw: &RawScenario) {
        for r in &raw.nacl {
            let vpc = self.resolve_vpc(&r.vpc);
            let ingress = self.nacl_rules(&r.ingress);
            let egress = self.nacl_rules(&r.egress);
            self.nacl_vpc.push(vpc);
            self.t.nacls.push(Nacl {
                id: r.id.get_ref().clone(),
                vpc: vpc.unwrap_or(VpcIdx(0)),
                ingress,
                egress,
                is_default: false,
            });
        }
        for v in 0..self.t.vpcs.len() {
            let vpc = VpcIdx::from_index(v);
            let idx = NaclIdx::from_index(self.t.nacls.len());
            let id = format!("{}/default-nacl", self.vpc_id(vpc));
            self.register_implicit(id.clone(), Kind::Nacl, idx.index(), "the VPC's default network ACL");
            // The default NACL allows everything both ways: rule 100 for IPv4,
            // 101 for IPv6 when the VPC has it (as AWS numbers them).
            let mut rules = vec![NaclRule {
                number: 100,
                action: Action::Allow,
                proto: Protocol::All,
                ports: PortRange::ALL,
                cidr: any_v4(),
            }];
            if self.t.vpc(vpc).ipv6_cidr.is_some() {
                rules.push(NaclRule { number: 101, cidr: any_v6(), ..rules[0] });
            }
            self.nacl_vpc.push(Some(vpc));
            self.t.nacls.push(Nacl { id, vpc, ingress: rules.clone(), egress: rules, is_default: true });
            self.t.vpcs[v].default_nacl = idx;
        }
    }

    fn nacl_rules(&mut self, raw: &[Spanned<RawNaclRule>]) -> Vec<NaclRule> {
        let mut rules: Vec<NaclRule> = Vec::new();
        // Rule number -> the line that first used it.
        let mut numbers: HashMap<i64, usize> = HashMap::new();
        for r in raw {
            let rule = r.get_ref();
            let number = *rule.rule.get_ref();
            let mut ok = true;
            if !(1..=32766).contains(&number) {
                self.err(rule.rule.span(), format!("rule number {number} is out of range (1-32766)"));
                ok = false;
            } else if let Some(line) = numbers.get(&number) {
                let msg = format!("duplicate rule number {number} (first used at line {line})");
                self.err(rule.rule.span(), msg);
                ok = false;
            } else {
                numbers.insert(number, self.line_of(&rule.rule.span()));
            }
            let action = match rule.action.get_ref().as_str() {
                "allow" => Some(Action::Allow),
                "deny" => Some(Action::Deny),
                other => {
                    self.err(rule.action.span(), format!("unknown action `{other}`, expected `allow` or `deny`"));
                    None
                }
            };
            let (proto, ports) = self.proto_ports(&rule.proto, rule.ports.as_ref()).unzip();
            for peer in [&rule.sg, &rule.prefix_list].into_iter().flatten() {
                self.err(peer.span(), "network ACL rules take CIDRs only (no security groups, no prefix lists)");
                ok = false;
            }
            let cidr = match &rule.cidr {
                Some(c) => self.any_cidr(c),
                None => {
                    if rule.sg.is_none() && rule.prefix_list.is_none() {
                        self.err(r.span(), "a network ACL rule needs `cidr`");
                    }
                    None
                }
            };
            if let (true, Some(action), Some(proto), Some(ports), Some(cidr)) = (ok, action, proto, ports, cidr) {
                rules.push(NaclRule { number: number as u16, action, proto, ports, cidr });
            }
        }
        rules.sort_by_key(|r| r.number);
        rules
    }

    /// A rule's protocol and port range.
    fn proto_ports(
        &mut self,
        proto: &Spanned<toml::Value>,
        ports: Option<&Spanned<toml::Value>>,
    ) -> Option<(Protocol, PortRange)> {
        let p = match values::protocol(proto.get_ref()) {
            Ok(p) => p,
            Err(e) => {
                self.err(proto.span(), e);
                return None;
            }
        };
        match values::rule_ports(p, ports.map(|v| v.get_ref())) {
            Ok(range) => Some((p, range)),
            Err(e) => {
                let span = ports.map_or(proto.span(), |v| v.span());
                self.err(span, e);
                None
            }
        }
    }

    pub(crate) fn security_group_shells(&mut self, raw: &RawScenario) {
        for r in &raw.security_group {
            let vpc = self.resolve_vpc(&r.vpc);
            self.sg_vpc.push(vpc);
            self.t.security_groups.push(SecurityGroup {
                id: r.id.get_ref().clone(),
                vpc: vpc.unwrap_or(VpcIdx(0)),
                ingress: Vec::new(),
                egress: Vec::new(),
                is_default: false,
            });
        }
        for v in 0..self.t.vpcs.len() {
            let vpc = VpcIdx::from_index(v);
            let idx = SgIdx::from_index(self.t.security_groups.len());
            let id = format!("{}/default-sg", self.vpc_id(vpc));
            self.register_implicit(id.clone(), Kind::SecurityGroup, idx.index(), "the VPC's default security group");
            // AWS's default group: inbound from its own members, all outbound.
            let ingress = vec![SgRule { proto: Protocol::All, ports: PortRange::ALL, peer: SgPeer::Sg(idx) }];
            let egress = self.all_outbound(vpc);
            self.sg_vpc.push(Some(vpc));
            self.t.security_groups.push(SecurityGroup { id, vpc, ingress, egress, is_default: true });
            self.t.vpcs[v].default_security_group = idx;
        }
    }

    /// "All traffic out": to 0.0.0.0/0, and to ::/0 when the VPC has IPv6.
    fn all_outbound(&self, vpc: VpcIdx) -> Vec<SgRule> {
        let mut rules = vec![SgRule { proto: Protocol::All, ports: PortRange::ALL, peer: SgPeer::Cidr(any_v4()) }];
        if self.t.vpc(vpc).ipv6_cidr.is_some() {
            rules.push(SgRule { peer: SgPeer::Cidr(any_v6()), ..rules[0] });
        }
        rules
    }

    pub(crate) fn security_group_rules(&mut self, raw: &RawScenario) {
        for (i, r) in raw.security_group.iter().enumerate() {
            let vpc = self.sg_vpc[i];
            let ingress = match &r.ingress {
                Some(rules) => self.sg_rules(rules, i, vpc),
                None => Vec::new(),
            };
            let egress = match (&r.egress, vpc) {
                (Some(rules), _) => self.sg_rules(rules, i, vpc),
                (None, Some(v)) => self.all_outbound(v),
                (None, None) => Vec::new(),
            };
            self.t.security_groups[i].ingress = ingress;
            self.t.security_groups[i].egress = egress;
        }
    }

    fn sg_rules(&mut self, raw: &[Spanned<RawSgRule>], sg: usize, vpc: Option<VpcIdx>) -> Vec<SgRule> {
        let mut rules = Vec::new();
        for r in raw {
            let rule = r.get_ref();
            let proto_ports = self.proto_ports(&rule.proto, rule.ports.as_ref());
            let given = [rule.cidr.is_some(), rule.sg.is_some(), rule.prefix_list.is_some()];
            let peer = match given.iter().filter(|g| **g).count() {
                1 => {
                    if let Some(c) = &rule.cidr {
                        self.any_cidr(c).map(SgPeer::Cidr)
                    } else if let Some(s) = &rule.sg {
                        self.sg_peer(s, sg, vpc)
                    } else if let (Some(pl), Some(v)) = (&rule.prefix_list, vpc) {
                        self.resolve_prefix_list(pl, v).map(SgPeer::PrefixList)
                    } else {
                        None
                    }
                }
                n => {
                    let what = if n == 0 { "none given" } else { "several given" };
                    self.err(
                        r.span(),
                        format!("a security group rule needs exactly one of `cidr`, `sg`, `prefix_list` ({what})"),
                    );
                    None
                }
            };
            if let (Some((proto, ports)), Some(peer)) = (proto_ports, peer) {
                rules.push(SgRule { proto, ports, peer });
            }
        }
        rules
    }

    fn sg_peer(&mut self, s: &Spanned<String>, sg: usize, vpc: Option<VpcIdx>) -> Option<SgPeer> {
        let peer = self.resolve_sg(s, vpc)?;
        let peer_vpc = self.sg_vpc[peer.index()];
        if let (Some(v), Some(pv)) = (vpc, peer_vpc)
            && v != pv
            && !(self.t.peered(v, pv) && self.t.vpc(v).region == self.t.vpc(pv).region)
        {
            let msg = format!(
                "security group `{}` belongs to {}, but `{}` is in {} (a rule may reference a group of its own VPC, or of a VPC peered with it in the same region)",
                s.get_ref(),
                self.vpc_id(pv),
                self.t.security_groups[sg].id,
                self.vpc_id(v)
            );
            self.err(s.span(), msg);
            return None;
        }
        Some(SgPeer::Sg(peer))
    }

    pub(crate) fn resolve_sg_of(&mut self, r: &Spanned<String>, vpc: VpcIdx) -> Option<SgIdx> {
        self.resolve_sg(r, Some(vpc))
    }

    /// A security group reference; `"default"` is the VPC's default group
    /// unless a resource has that id.
    pub(crate) fn resolve_sg(&mut self, r: &Spanned<String>, vpc: Option<VpcIdx>) -> Option<SgIdx> {
        if r.get_ref() == "default" && !self.ids.contains_key("default") {
            return vpc.map(|v| self.t.vpc(v).default_security_group);
        }
        self.resolve(r, Kind::SecurityGroup).map(SgIdx::from_index)
    }

    /// A prefix list by id: a customer list of the file, or an AWS-managed
    /// list of the VPC's region, created when first used.
    pub(crate) fn resolve_prefix_list(&mut self, r: &Spanned<String>, vpc: VpcIdx) -> Option<PrefixListIdx> {
        let name = r.get_ref();
        if self.ids.contains_key(name) || !managed::is_managed_name(name) {
            return self.resolve(r, Kind::PrefixList).map(PrefixListIdx::from_index);
        }
        let region = self.t.vpc(vpc).region.clone();
        if let Some(idx) = self.managed_lists.get(&(name.clone(), region.clone())) {
            return Some(*idx);
        }
        let Some(list) = managed::managed_list(name, &region) else {
            self.err(r.span(), format!("managed prefix list {name} is not available in {region} yet"));
            return None;
        };
        let idx = PrefixListIdx::from_index(self.t.prefix_lists.len());
        self.t.prefix_lists.push(PrefixList {
            id: list.id.to_owned(),
            entries: list.entries,
            managed: Some(ManagedBy { service: list.service.to_owned(), region: region.clone() }),
        });
        self.managed_lists.insert((name.clone(), region), idx);
        Some(idx)
    }

    pub(crate) fn prefix_lists(&mut self, raw: &RawScenario) {
        for r in &raw.prefix_list {
            let mut entries: Vec<IpNet> = Vec::new();
            for e in &r.entries {
                let Some(net) = self.any_cidr(e) else {
                    continue;
                };
                if let Some(first) = entries.first()
                    && first.addr().is_ipv4() != net.addr().is_ipv4()
                {
                    let msg = format!(
                        "{net} is not of the same address family as {first}: a prefix list holds IPv4 or IPv6 entries, not both"
                    );
                    self.err(e.span(), msg);
                    continue;
                }
                entries.push(net);
            }
            if r.entries.is_empty() {
                self.err(r.id.span(), format!("prefix list `{}` has no entries", r.id.get_ref()));
            }
            self.t.prefix_lists.push(PrefixList { id: r.id.get_ref().clone(), entries, managed: None });
        }
    }
}

fn any_v4() -> IpNet {
    IpNet::V4(Ipv4Net::default())
}

fn any_v6() -> IpNet {
    IpNet::V6(Ipv6Net::default())
}
