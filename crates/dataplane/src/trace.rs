//! What the data plane decided and why: drops, their reasons, and the
//! step-by-step decision trace of one frame.
//!
//! Steps hold indices, not names; [`Step::render`] turns them into sentences a
//! learner can read, with the ids the scenario used.

use std::fmt::{self, Write as _};
use std::net::IpAddr;

use vpcsim_model::{
    Action, EgressOnlyIgwIdx, EniIdx, GatewayEndpointIdx, IgwIdx, NaclIdx, NatGatewayIdx, PeeringIdx, PortRange,
    Protocol, RouteDest, RouteTableIdx, RouteTarget, SgIdx, SubnetIdx, Topology, VpcIdx,
};

use crate::wire::packet::{Meta, Side};

pub use vpcsim_model::DropReason;

/// A part of the fabric that acts on packets.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Component {
    /// An elastic network interface (ENI).
    Eni(EniIdx),
    /// The security groups of an ENI, together (their rules are a union).
    SecurityGroups(EniIdx),
    /// A network ACL, applied at a subnet's edge.
    Nacl(NaclIdx),
    /// A route table, of a subnet or of a gateway (edge association).
    RouteTable(RouteTableIdx),
    /// The VPC router (delivery inside the VPC).
    Vpc(VpcIdx),
    /// An internet gateway attached to a VPC.
    InternetGateway(IgwIdx),
    /// The public internet's router.
    Internet,
    /// A gateway endpoint (S3, DynamoDB).
    GatewayEndpoint(GatewayEndpointIdx),
    /// An interface endpoint (PrivateLink).
    InterfaceEndpoint(vpcsim_model::InterfaceEndpointIdx),
    /// A load balancer: a Network Load Balancer or a Gateway Load Balancer.
    LoadBalancer(vpcsim_model::LoadBalancerIdx),
    /// The Amazon DNS server of a VPC (or the internet's resolver: `None`).
    Resolver(Option<VpcIdx>),
    /// A NAT gateway.
    NatGateway(NatGatewayIdx),
    /// An egress-only internet gateway (IPv6 out, nothing unsolicited in).
    EgressOnlyInternetGateway(EgressOnlyIgwIdx),
    /// A VPC peering connection.
    Peering(PeeringIdx),
    /// A transit gateway.
    TransitGateway(vpcsim_model::TransitGatewayIdx),
    /// A transit gateway attachment (its ENIs in a VPC, or its VPN side).
    TgwAttachment(vpcsim_model::TgwAttachmentIdx),
    /// A transit gateway route table.
    TgwRouteTable(vpcsim_model::TgwRouteTableIdx),
    /// A virtual private gateway (the VPC's side of Site-to-Site VPN).
    VpnGateway(vpcsim_model::VpnGatewayIdx),
    /// A Site-to-Site VPN connection.
    VpnConnection(vpcsim_model::VpnConnectionIdx),
    /// The router of an on-premises network.
    OnPrem(vpcsim_model::OnPremIdx),
}

impl Component {
    /// The scenario id that names this component (`drop_at`, `via`). For an
    /// ENI's security groups: the first group.
    pub fn id<'t>(&self, t: &'t Topology) -> &'t str {
        match *self {
            Component::Eni(e) => &t.eni(e).id,
            Component::SecurityGroups(e) => {
                t.eni(e).security_groups.first().map_or(t.eni(e).id.as_str(), |&sg| &t.security_group(sg).id)
            }
            Component::Nacl(n) => &t.nacl(n).id,
            Component::RouteTable(r) => &t.route_table(r).id,
            Component::Vpc(v) => &t.vpc(v).id,
            Component::InternetGateway(i) => &t.internet_gateway(i).id,
            Component::Internet => "internet",
            Component::GatewayEndpoint(ep) => &t.gateway_endpoint(ep).id,
            Component::InterfaceEndpoint(ep) => &t.interface_endpoint(ep).id,
            Component::LoadBalancer(lb) => &t.load_balancer(lb).id,
            Component::Resolver(_) => "resolver",
            Component::NatGateway(n) => &t.nat_gateway(n).id,
            Component::EgressOnlyInternetGateway(g) => &t.egress_only_internet_gateway(g).id,
            Component::Peering(p) => &t.vpc_peering(p).id,
            Component::TransitGateway(g) => &t.transit_gateway(g).id,
            Component::TgwAttachment(a) => &t.tgw_attachment(a).id,
            Component::TgwRouteTable(r) => &t.tgw_route_table(r).id,
            Component::VpnGateway(g) => &t.vpn_gateway(g).id,
            Component::VpnConnection(c) => &t.vpn_connection(c).id,
            Component::OnPrem(o) => &t.onprem(o).id,
        }
    }

    /// Whether `id` names this component. An ENI's security groups answer to the
    /// id of any of the groups, of the ENI, and of its host.
    pub fn answers_to(&self, t: &Topology, id: &str) -> bool {
        match *self {
            Component::SecurityGroups(e) | Component::Eni(e) => {
                let eni = t.eni(e);
                eni.id == id
                    || t.eni_owner_id(e) == id
                    || (matches!(self, Component::SecurityGroups(_))
                        && eni.security_groups.iter().any(|&sg| t.security_group(sg).id == id))
            }
            // A transit gateway's parts answer to the transit gateway's id too.
            Component::TgwAttachment(a) => {
                self.id(t) == id || t.transit_gateway(t.tgw_attachment(a).transit_gateway).id == id
            }
            Component::TgwRouteTable(r) => {
                self.id(t) == id || t.transit_gateway(t.tgw_route_table(r).transit_gateway).id == id
            }
            _ => self.id(t) == id,
        }
    }
}

/// A drop: why, and where.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Drop {
    /// Why the packet was dropped.
    pub reason: DropReason,
    /// The part of the fabric that dropped it.
    pub at: Component,
}

/// Direction of a filter relative to the ENI or subnet applying it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    /// Traffic coming in (inbound rules).
    Ingress,
    /// Traffic going out (outbound rules).
    Egress,
}

impl fmt::Display for Direction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Direction::Ingress => "ingress",
            Direction::Egress => "egress",
        })
    }
}

/// How a security group decided.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SgDecision {
    /// The packet belongs to a flow connection tracking already allowed.
    Tracked,
    /// An ICMP error about a tracked flow.
    Related,
    /// This rule of this group allowed it (a new flow, now tracked).
    Rule {
        /// The security group.
        sg: SgIdx,
        /// The rule's index among the group's rules in that direction.
        index: usize,
    },
    /// No rule of any of the ENI's groups allows it.
    Denied,
}

/// How a network ACL decided.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NaclDecision {
    /// The first rule that matched, by number.
    Rule {
        /// The rule number.
        number: u16,
        /// Allow or deny.
        action: Action,
    },
    /// No rule matched: the final `*` denies.
    ImplicitDeny,
}

impl NaclDecision {
    pub(crate) fn allows(self) -> bool {
        matches!(self, NaclDecision::Rule { action: Action::Allow, .. })
    }
}

/// One step of a frame's way through the fabric.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Step {
    /// The frame entered the fabric at this ENI.
    Sent {
        /// The ENI that sent the frame.
        eni: EniIdx,
        /// The packet as it was sent.
        packet: Meta,
    },
    /// ARP or neighbour discovery answered by the router.
    Resolved {
        /// The ENI that asked.
        eni: EniIdx,
        /// The address it asked the MAC address of.
        ip: IpAddr,
    },
    /// The security groups of an ENI decided a packet.
    SecurityGroup {
        /// The ENI whose security groups decided.
        eni: EniIdx,
        /// Inbound or outbound rules.
        direction: Direction,
        /// How they decided.
        decision: SgDecision,
    },
    /// A route-table lookup: the winning route (index into the table's routes)
    /// and the other routes that matched but lost. `gateway`: the internet or
    /// VPN gateway whose gateway route table (edge association) this is, when
    /// the packet is entering the VPC through it.
    RouteLookup {
        /// The route table looked up.
        table: RouteTableIdx,
        /// The destination address looked up.
        dest: IpAddr,
        /// The route that won (longest prefix match), if any.
        winner: Option<usize>,
        /// The routes that matched but lost.
        beaten: Vec<usize>,
        /// The gateway whose edge association this table is, if any.
        gateway: Option<Component>,
    },
    /// A network ACL decided a packet at a subnet's edge.
    Nacl {
        /// The network ACL.
        nacl: NaclIdx,
        /// The subnet whose edge it guards.
        subnet: SubnetIdx,
        /// Inbound or outbound rules.
        direction: Direction,
        /// How it decided.
        decision: NaclDecision,
    },
    /// The packet crossed a gateway or the internet.
    Crossed {
        /// The gateway or network crossed.
        component: Component,
    },
    /// A gateway translated one address (an internet gateway's public IP, for example).
    Translated {
        /// The gateway that translated.
        at: Component,
        /// Which address it rewrote.
        side: Side,
        /// The address before.
        from: IpAddr,
        /// The address after.
        to: IpAddr,
    },
    /// Both ends rewritten (addresses and ports), before → after.
    Rewritten {
        /// The component that rewrote.
        at: Component,
        /// Source address and port, destination address and port, before.
        before: (IpAddr, u16, IpAddr, u16),
        /// Source address and port, destination address and port, after.
        after: (IpAddr, u16, IpAddr, u16),
    },
    /// The frame reached an ENI.
    Delivered {
        /// The ENI it was delivered to.
        eni: EniIdx,
    },
    /// The frame was dropped.
    Dropped {
        /// Why and where.
        drop: Drop,
        /// What the drop was about, in words, when tracing.
        detail: Option<String>,
    },
    /// An endpoint policy decided a request that passed the endpoint.
    EndpointPolicy {
        /// The endpoint (gateway or interface).
        endpoint: Component,
        /// The IAM principal (ARN) that made the request.
        principal: String,
        /// The request's action (for example `s3:GetObject`).
        action: String,
        /// The ARN of the resource the request is about.
        resource: String,
        /// Which statement decided, in words.
        decided_by: String,
        /// Whether the policy allowed the request.
        allowed: bool,
    },
    /// A DNS query answered by the resolver.
    Dns {
        /// The ENI that asked.
        eni: EniIdx,
        /// The DNS server asked (the Amazon DNS server of the VPC).
        server: IpAddr,
        /// The name asked for.
        name: String,
        /// The answer, in words.
        answer: String,
    },
    /// A link-local service of the VPC (instance metadata, time sync)
    /// answered, before any filter.
    LinkLocal {
        /// The ENI that asked.
        eni: EniIdx,
        /// The link-local address of the service.
        server: IpAddr,
        /// The service's name.
        service: &'static str,
        /// The answer, in words.
        answer: String,
    },
    /// A Gateway Load Balancer wrapped the packet in GENEVE for an appliance.
    Encapsulated {
        /// The Gateway Load Balancer.
        at: Component,
        /// The appliance's ENI the packet goes to.
        appliance: EniIdx,
        /// The packet inside the GENEVE tunnel.
        inner: Meta,
    },
    /// A Gateway Load Balancer took the packet back from GENEVE.
    Decapsulated {
        /// The Gateway Load Balancer.
        at: Component,
        /// The packet inside the GENEVE tunnel.
        inner: Meta,
    },
    /// The router sent an ICMP error back to the source.
    Bounced {
        /// The ENI the error goes back to.
        eni: EniIdx,
        /// Which ICMP error.
        error: crate::wire::packet::IcmpError,
    },
    /// A NAT gateway translated an address and port (for ICMP echo: the
    /// identifier): the source on the way out, the destination on the way back.
    NatTranslated {
        /// The NAT gateway.
        nat: NatGatewayIdx,
        /// Which end it rewrote: the source on the way out, the destination on the way back.
        side: Side,
        /// The IP protocol number.
        proto: u8,
        /// Address and port (or echo identifier) before.
        from: (IpAddr, u16),
        /// Address and port (or echo identifier) after.
        to: (IpAddr, u16),
        /// The remote end: the destination on the way out, the source on the way back.
        remote: (IpAddr, u16),
    },
    /// A gateway matched a packet coming in to a session or flow it had
    /// opened on the way out.
    Session {
        /// The gateway (NAT, egress-only internet gateway, gateway endpoint) that matched.
        at: Component,
    },
    /// A transit gateway route-table lookup: the winning route (index into
    /// the table's routes) and the other routes that matched but lost.
    TgwRouteLookup {
        /// The transit gateway route table looked up.
        table: vpcsim_model::TgwRouteTableIdx,
        /// The destination address looked up.
        dest: IpAddr,
        /// The route that won (longest prefix match), if any.
        winner: Option<usize>,
        /// The routes that matched but lost.
        beaten: Vec<usize>,
    },
}

/// The trace of one frame. Recording is off unless asked for: the hot path
/// pays one branch per step.
#[derive(Clone, Debug, Default)]
pub struct Trace {
    pub(crate) enabled: bool,
    /// The steps recorded, in order.
    pub steps: Vec<Step>,
}

impl Trace {
    /// A trace that records every step.
    pub fn on() -> Trace {
        Trace { enabled: true, steps: Vec::new() }
    }

    /// A trace that records nothing (the hot path).
    pub fn off() -> Trace {
        Trace::default()
    }

    #[inline]
    pub(crate) fn record(&mut self, step: impl FnOnce() -> Step) {
        if self.enabled {
            self.steps.push(step());
        }
    }

    /// Every step, one sentence per line.
    pub fn render(&self, t: &Topology) -> String {
        let mut s = String::new();
        for step in &self.steps {
            let _ = writeln!(s, "{}", step.render(t));
        }
        s
    }
}

fn eni_label(t: &Topology, e: EniIdx) -> String {
    format!("{} ({})", t.eni_owner_id(e), t.eni(e).id)
}

/// How long the prefix of `route` that contains `dest` is (for a prefix list:
/// its longest entry that does).
fn matched_len(t: &Topology, route: &vpcsim_model::Route, dest: IpAddr) -> u8 {
    match route.dest {
        RouteDest::Cidr(c) => c.prefix_len(),
        RouteDest::PrefixList(pl) => {
            t.prefix_list(pl).entries.iter().filter(|e| e.contains(&dest)).map(|e| e.prefix_len()).max().unwrap_or(0)
        }
    }
}

fn route_label(t: &Topology, table: RouteTableIdx, i: usize) -> String {
    let route = &t.route_table(table).routes[i];
    let dest = match route.dest {
        RouteDest::Cidr(c) => c.to_string(),
        RouteDest::PrefixList(pl) => format!("{} (prefix list)", t.prefix_list(pl).id),
    };
    let target = match route.target {
        RouteTarget::Local => "local".to_string(),
        RouteTarget::Blackhole => "blackhole".to_string(),
        RouteTarget::InternetGateway(i) => t.internet_gateway(i).id.clone(),
        RouteTarget::Eni(e) => eni_label(t, e),
        RouteTarget::GatewayEndpoint(ep) => t.gateway_endpoint(ep).id.clone(),
        RouteTarget::NatGateway(n) => t.nat_gateway(n).id.clone(),
        RouteTarget::EgressOnlyInternetGateway(g) => t.egress_only_internet_gateway(g).id.clone(),
        RouteTarget::Peering(p) => t.vpc_peering(p).id.clone(),
        RouteTarget::GwlbEndpoint(ep) => t.interface_endpoint(ep).id.clone(),
        RouteTarget::TransitGateway(g) => t.transit_gateway(g).id.clone(),
        RouteTarget::VpnGateway(g) => t.vpn_gateway(g).id.clone(),
    };
    format!("{dest} → {target}")
}

/// "all traffic", "tcp port 443", "tcp ports 1024-65535", "icmp type 8", "all udp".
fn describe_match(proto: Protocol, ports: PortRange) -> String {
    let kind = if matches!(proto, Protocol::Icmp | Protocol::Icmpv6) { "type" } else { "port" };
    match (proto, ports) {
        (Protocol::All, _) => "all traffic".to_string(),
        (p, r) if r.is_all() || !p.has_ports() => format!("all {p}"),
        (p, r) if r.first == r.last => format!("{p} {kind} {}", r.first),
        (p, r) => format!("{p} {kind}s {r}"),
    }
}

impl Step {
    /// A short name for the kind of step (for machine-readable traces).
    pub fn kind(&self) -> &'static str {
        match self {
            Step::Sent { .. } => "sent",
            Step::Resolved { .. } => "resolved",
            Step::SecurityGroup { .. } => "security-group",
            Step::RouteLookup { .. } => "route-lookup",
            Step::Nacl { .. } => "network-acl",
            Step::Crossed { .. } => "crossed",
            Step::Translated { .. } | Step::Rewritten { .. } => "translated",
            Step::Delivered { .. } => "delivered",
            Step::Dropped { .. } => "dropped",
            Step::Bounced { .. } => "icmp-error",
            Step::Dns { .. } => "dns",
            Step::LinkLocal { .. } => "link-local-service",
            Step::Encapsulated { .. } => "geneve-encapsulated",
            Step::Decapsulated { .. } => "geneve-decapsulated",
            Step::EndpointPolicy { .. } => "endpoint-policy",
            Step::NatTranslated { .. } => "nat",
            Step::Session { .. } => "session",
            Step::TgwRouteLookup { .. } => "tgw-route-lookup",
        }
    }

    /// The step as a sentence.
    pub fn render(&self, t: &Topology) -> String {
        match self {
            Step::Sent { eni, packet } => {
                let verb = if t.eni(*eni).forwards(packet.src) { "forwards" } else { "sends" };
                format!("{} {verb} {packet}", eni_label(t, *eni))
            }
            Step::Resolved { eni, ip } => {
                format!("router answers {}'s address resolution for {ip}", eni_label(t, *eni))
            }
            Step::SecurityGroup { eni, direction, decision } => {
                let who = eni_label(t, *eni);
                match decision {
                    SgDecision::Tracked => {
                        format!("security groups of {who}, {direction}: allowed, part of a tracked connection")
                    }
                    SgDecision::Related => {
                        format!(
                            "security groups of {who}, {direction}: allowed, an ICMP error about a tracked connection"
                        )
                    }
                    SgDecision::Rule { sg, index } => {
                        let g = t.security_group(*sg);
                        let rules = if *direction == Direction::Ingress { &g.ingress } else { &g.egress };
                        let rule = rules[*index];
                        let peer = match rule.peer {
                            vpcsim_model::SgPeer::Cidr(c) => c.to_string(),
                            vpcsim_model::SgPeer::Sg(s) => {
                                format!("members of {}", t.security_group(s).id)
                            }
                            vpcsim_model::SgPeer::PrefixList(p) => {
                                format!("prefix list {}", t.prefix_list(p).id)
                            }
                        };
                        let dir = if *direction == Direction::Ingress { "from" } else { "to" };
                        format!(
                            "security group {} {direction} rule #{} allows {} {dir} {peer}; the connection is now tracked",
                            g.id,
                            index + 1,
                            describe_match(rule.proto, rule.ports),
                        )
                    }
                    SgDecision::Denied => {
                        let ids: Vec<&str> =
                            t.eni(*eni).security_groups.iter().map(|&s| t.security_group(s).id.as_str()).collect();
                        format!("security groups of {who} [{}], {direction}: no rule allows it", ids.join(", "))
                    }
                }
            }
            Step::RouteLookup { table, dest, winner, beaten, gateway } => {
                let tb = match gateway {
                    Some(g) => format!("{} (the gateway route table of {})", t.route_table(*table).id, g.id(t)),
                    None => t.route_table(*table).id.clone(),
                };
                match winner {
                    None => format!("route table {tb}: no route matches {dest}"),
                    Some(w) => {
                        let mut s = format!("route table {tb}: {dest} matches {}", route_label(t, *table, *w));
                        if !beaten.is_empty() {
                            let others: Vec<String> = beaten.iter().map(|&b| route_label(t, *table, b)).collect();
                            let rt = t.route_table(*table);
                            let won = matched_len(t, &rt.routes[*w], *dest);
                            let tie = beaten.iter().any(|&b| matched_len(t, &rt.routes[b], *dest) == won);
                            let why = if tie {
                                "the same prefix length: a CIDR route beats a prefix list"
                            } else {
                                "the longest matching prefix wins"
                            };
                            let _ = write!(s, " ({why}) over {}", others.join(", "));
                        }
                        s
                    }
                }
            }
            Step::Nacl { nacl, subnet, direction, decision } => {
                let n = &t.nacl(*nacl).id;
                let sn = &t.subnet(*subnet).id;
                match decision {
                    NaclDecision::Rule { number, action } => {
                        let verb = if *action == Action::Allow { "allows" } else { "denies" };
                        let acl = t.nacl(*nacl);
                        let rules = if *direction == Direction::Ingress { &acl.ingress } else { &acl.egress };
                        let what = rules.iter().find(|r| r.number == *number).map_or(String::new(), |r| {
                            let dir = if *direction == Direction::Ingress { "from" } else { "to" };
                            format!(" ({} {dir} {})", describe_match(r.proto, r.ports), r.cidr)
                        });
                        format!("network ACL {n} of {sn}, {direction}: rule {number}{what} {verb} it")
                    }
                    NaclDecision::ImplicitDeny => {
                        format!("network ACL {n} of {sn}, {direction}: no rule matches, rule * denies")
                    }
                }
            }
            Step::Crossed { component } => match component {
                Component::Peering(p) => {
                    let p = t.vpc_peering(*p);
                    format!("crosses {} (peering {} ⇄ {})", p.id, t.vpc(p.requester).id, t.vpc(p.accepter).id)
                }
                c => format!("crosses {}", c.id(t)),
            },
            Step::NatTranslated { nat, side, proto, from, to, remote } => {
                let name = Protocol::from_number(*proto);
                let icmp = matches!(*proto, Protocol::ICMP | Protocol::ICMPV6);
                let (fa, ta, ra) = if icmp {
                    (format!("{} id {}", from.0, from.1), format!("{} id {}", to.0, to.1), format!("{}", remote.0))
                } else {
                    (sock(*from), sock(*to), sock(*remote))
                };
                let id = &t.nat_gateway(*nat).id;
                match side {
                    Side::Source => format!(
                        "{id} translates the source {fa} → {ta} ({name} to {ra}; one port per connection to that destination)"
                    ),
                    Side::Destination => {
                        format!("{id} translates the destination {fa} → {ta} (the reply of its session with {ra})")
                    }
                }
            }
            Step::TgwRouteLookup { table, dest, winner, beaten } => {
                let tb = &t.tgw_route_table(*table).id;
                match winner {
                    None => format!("TGW route table {tb}: no route matches {dest}"),
                    Some(w) => {
                        let mut s = format!("TGW route table {tb}: {dest} matches {}", tgw_route_label(t, *table, *w));
                        if !beaten.is_empty() {
                            let others: Vec<String> = beaten.iter().map(|&b| tgw_route_label(t, *table, b)).collect();
                            let _ = write!(
                                s,
                                " (longest prefix wins; for the same prefix static beats propagated, and a VPC's propagated route beats Direct Connect's, which beats a VPN's) over {}",
                                others.join(", ")
                            );
                        }
                        s
                    }
                }
            }
            Step::Session { at } => {
                format!("{} matches a connection it opened on the way out, so the reply comes back in", at.id(t))
            }
            Step::Rewritten { at, before, after } => {
                let end = |ip: &IpAddr, port: u16| match ip {
                    IpAddr::V4(a) => format!("{a}:{port}"),
                    IpAddr::V6(a) => format!("[{a}]:{port}"),
                };
                format!(
                    "{} translates {} → {} into {} → {}",
                    at.id(t),
                    end(&before.0, before.1),
                    end(&before.2, before.3),
                    end(&after.0, after.1),
                    end(&after.2, after.3)
                )
            }
            Step::Translated { at, side, from, to } => {
                let what = if *side == Side::Source { "source" } else { "destination" };
                format!("{} translates the {what} {from} → {to}", at.id(t))
            }
            Step::Delivered { eni } => format!("delivered to {}", eni_label(t, *eni)),
            Step::EndpointPolicy { endpoint, principal, action, resource, decided_by, allowed } => {
                let verb = if *allowed { "allows" } else { "denies" };
                format!(
                    "the endpoint policy of {} {verb} {action} on {resource} for {principal} ({decided_by})",
                    endpoint.id(t)
                )
            }
            Step::Encapsulated { at, appliance, inner } => format!(
                "{} wraps {inner} in GENEVE (UDP 6081) for the appliance {}",
                at.id(t),
                eni_label(t, *appliance)
            ),
            Step::Decapsulated { at, inner } => {
                format!("{} unwraps the GENEVE message from the appliance: {inner} goes on", at.id(t))
            }
            Step::Dns { eni, server, name, answer } => {
                format!("the DNS server {server} answers {} about {name}: {answer}", eni_label(t, *eni))
            }
            Step::LinkLocal { eni, server, service, answer } => {
                format!("{service} at {server} answers {} (no filter applies): {answer}", eni_label(t, *eni))
            }
            Step::Bounced { eni, error } => {
                let what = match error {
                    crate::wire::packet::IcmpError::TimeExceeded => "time exceeded".to_string(),
                    crate::wire::packet::IcmpError::TooBig { mtu } => {
                        format!("fragmentation needed / packet too big (next-hop MTU {mtu})")
                    }
                };
                format!("the router sends ICMP {what} back to {}", eni_label(t, *eni))
            }
            Step::Dropped { drop, detail } => {
                let mut s = format!("DROPPED at {}: {}", drop.at.id(t), drop.reason);
                if let Some(d) = detail {
                    let _ = write!(s, " ({d})");
                }
                s
            }
        }
    }
}

fn tgw_route_label(t: &Topology, table: vpcsim_model::TgwRouteTableIdx, i: usize) -> String {
    let route = &t.tgw_route_table(table).routes[i];
    let origin = match route.origin {
        vpcsim_model::TgwRouteOrigin::Static => "static",
        vpcsim_model::TgwRouteOrigin::Propagated => "propagated",
    };
    match route.target {
        vpcsim_model::TgwRouteTarget::Blackhole => format!("{} → blackhole ({origin})", route.dest),
        vpcsim_model::TgwRouteTarget::Attachment(a) => {
            format!("{} → {} ({origin})", route.dest, t.tgw_attachment(a).id)
        }
    }
}

fn sock((ip, port): (IpAddr, u16)) -> String {
    match ip {
        IpAddr::V4(a) => format!("{a}:{port}"),
        IpAddr::V6(a) => format!("[{a}]:{port}"),
    }
}
