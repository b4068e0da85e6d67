//! The fabric: the one pipeline every frame goes through.
//!
//! [`Fabric::process`] takes a frame that an ENI sent and returns what happens to
//! it: delivered at an ENI (rewritten in `out`), answered (ARP), or dropped with a
//! reason and the component that dropped it, and, when asked, the trace of every
//! decision. The order is AWS's:
//!
//! 1. the source ENI's source/destination check and security-group egress
//!    (connection tracking first, then the rules);
//! 2. the route-table lookup of the source subnet (longest prefix match);
//! 3. the source subnet's NACL egress, when the next hop is outside the subnet;
//! 4. gateways on the way (the internet gateway's 1:1 NAT, the internet, NAT
//!    gateways, egress-only internet gateways, peering connections: see
//!    `beyond.rs`);
//! 5. the destination subnet's NACL ingress, when the packet enters it from
//!    outside;
//! 6. the destination ENI's security-group ingress and source/destination check.
//!
//! It reads no clock (`now` is passed in) and does no I/O.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use ipnet::Ipv6Net;
use rustc_hash::FxHashMap;
use vpcsim_model::{
    Attachment, EndpointState, EndpointTarget, EniIdx, EniOwner, GatewayEndpointIdx, INTERNET_GATEWAY_MTU,
    INTERNET_ROUTER_MAC, IgwIdx, InterfaceEndpointIdx, LoadBalancerIdx, Protocol, RouteTableIdx, RouteTarget, SgIdx,
    SubnetIdx, Topology, VpcIdx,
};

use crate::beyond::EgressFlows;
use crate::conntrack::{Conntrack, FlowKey};
use crate::endpoints::{self, EndpointFlow, Endpoints};
use crate::fib::{Fib, FibEntry, beaten_routes};
use crate::filter::Filters;
use crate::nat::NatTable;
use crate::packet::{self, ARP_REQUEST, Arp, IcmpError, Meta, Parsed, Side};
use crate::resolver;
use crate::trace::{Component, Direction, Drop, DropReason, SgDecision, Step, Trace};

/// What happened to a frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// `out` holds the frame as it arrives at this ENI.
    Deliver(EniIdx),
    /// `out` holds an answer (ARP, neighbour discovery) for the ENI that sent the frame.
    Reply(EniIdx),
    /// A service of the fabric (the Amazon DNS server) answered: `out` holds
    /// the answer for the ENI that asked.
    Answered(EniIdx),
    /// The frame died.
    Drop(Drop),
    /// The frame died, and the router answered its source with an ICMP error
    /// (time exceeded, fragmentation needed / packet too big), which `out`
    /// holds, for this ENI.
    Bounce(Drop, EniIdx),
    /// Nothing to do (an ARP reply, or a request nobody answers).
    Absorbed,
}

impl Verdict {
    /// The drop, if the frame died.
    pub fn dropped(&self) -> Option<Drop> {
        match *self {
            Verdict::Drop(d) | Verdict::Bounce(d, _) => Some(d),
            _ => None,
        }
    }
}

/// An endpoint a connection came through, whose policy applies.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EndpointRef {
    Gateway(GatewayEndpointIdx),
    Interface(InterfaceEndpointIdx),
}

impl EndpointRef {
    pub fn component(self) -> Component {
        match self {
            EndpointRef::Gateway(g) => Component::GatewayEndpoint(g),
            EndpointRef::Interface(i) => Component::InterfaceEndpoint(i),
        }
    }
}

/// Who owns an address on the public internet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum InternetOwner {
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
    internet: FxHashMap<IpAddr, InternetOwner>,
    /// VPC IPv6 CIDRs: globally routable, reached through the VPC's internet gateway.
    vpc_ipv6: Vec<(Ipv6Net, VpcIdx)>,
    /// On-premises hosts' addresses, per on-premises network.
    pub(crate) onprem: FxHashMap<(vpcsim_model::OnPremIdx, IpAddr), EniIdx>,
}

/// A flow that a gateway endpoint carried to its service: the service's replies
/// (to a private address) find their way back through it. Keyed by (protocol,
/// service address, service port, client address, client port).
type GatewayFlowKey = (u8, IpAddr, u16, IpAddr, u16);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct GatewayFlow {
    endpoint: GatewayEndpointIdx,
    vpc: VpcIdx,
    expires: Duration,
}

/// How long a gateway endpoint remembers an idle flow.
const GATEWAY_FLOW_IDLE: Duration = Duration::from_secs(350);

/// Frame counts.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Counters {
    pub received: u64,
    pub delivered: u64,
    pub replies: u64,
    pub absorbed: u64,
    /// Drops by reason (index: `DropReason as usize`).
    pub dropped: [u64; DropReason::ALL.len()],
    /// Drops by the component that dropped.
    pub dropped_at: BTreeMap<Component, u64>,
    /// Frames that crossed each internet gateway.
    pub igw_crossed: Vec<u64>,
}

impl Counters {
    pub fn dropped(&self, reason: DropReason) -> u64 {
        self.dropped[reason.slot()]
    }

    pub fn total_dropped(&self) -> u64 {
        self.dropped.iter().sum()
    }
}

/// The fabric: the topology, compiled for forwarding, and its mutable state.
#[derive(Clone, Debug)]
pub struct Fabric {
    topology: Arc<Topology>,
    /// One per route table, same index.
    fibs: Vec<Fib>,
    /// Every NACL and security group, compiled for matching.
    filters: Arc<Filters>,
    addresses: Addresses,
    conntrack: Conntrack,
    gateway_flows: FxHashMap<GatewayFlowKey, GatewayFlow>,
    endpoints: Endpoints,
    counters: Counters,
    nat: NatTable,
    egress_flows: EgressFlows,
}

impl Fabric {
    pub fn new(topology: Arc<Topology>) -> Fabric {
        let fibs = topology.route_tables.iter().map(|rt| Fib::compile(&topology, rt)).collect();
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
        let counters = Counters { igw_crossed: vec![0; topology.internet_gateways.len()], ..Counters::default() };
        let endpoints = Endpoints::new(&topology);
        Fabric {
            endpoints,
            filters: Arc::new(Filters::compile(&topology)),
            topology,
            fibs,
            addresses,
            conntrack: Conntrack::default(),
            gateway_flows: FxHashMap::default(),
            counters,
            nat: NatTable::default(),
            egress_flows: EgressFlows::default(),
        }
    }

    /// Limits NAT gateways to `per_destination` simultaneous connections per
    /// destination (AWS: 55,000), e.g. to meet the limit in a test.
    pub fn with_nat_limit(mut self, per_destination: u32) -> Fabric {
        self.nat = NatTable::new(per_destination, crate::nat::DEFAULT_CAPACITY);
        self
    }

    pub fn nat_table(&self) -> &NatTable {
        &self.nat
    }

    /// Bounds connection tracking at `capacity` flows.
    pub fn with_conntrack_capacity(mut self, capacity: usize) -> Fabric {
        self.conntrack = Conntrack::with_capacity(capacity);
        self
    }

    pub fn topology(&self) -> &Arc<Topology> {
        &self.topology
    }

    pub fn counters(&self) -> &Counters {
        &self.counters
    }

    pub fn conntrack(&self) -> &Conntrack {
        &self.conntrack
    }

    /// Forgets every tracked connection (an isolated probe starts from none).
    pub fn clear_state(&mut self) {
        self.conntrack.clear();
        self.gateway_flows.clear();
        self.nat.clear();
        self.egress_flows.clear();
        self.endpoints.clear_flows();
    }

    /// The policy attached to an endpoint, if any.
    pub fn endpoint_policy(&self, endpoint: EndpointRef) -> Option<&vpcsim_policy::Policy> {
        match endpoint {
            EndpointRef::Gateway(g) => self.topology.gateway_endpoint(g).policy.as_ref(),
            EndpointRef::Interface(i) => self.topology.interface_endpoint(i).policy.as_ref(),
        }
    }

    /// An interface endpoint's state now.
    pub fn endpoint_state(&self, ep: InterfaceEndpointIdx) -> EndpointState {
        self.endpoints.states[ep.index()]
    }

    /// An endpoint service's state now.
    pub fn service_state(&self, s: vpcsim_model::EndpointServiceIdx) -> vpcsim_model::ServiceState {
        self.endpoints.services[s.index()]
    }

    /// Moves an endpoint service to `state` (lifecycle events).
    pub fn set_service_state(&mut self, s: vpcsim_model::EndpointServiceIdx, state: vpcsim_model::ServiceState) {
        self.endpoints.services[s.index()] = state;
    }

    /// A load balancer target passes or fails its health checks (events).
    pub fn set_target_health(&mut self, target: vpcsim_model::HostIdx, healthy: bool) {
        if healthy {
            self.endpoints.targets_down.remove(&target);
        } else {
            self.endpoints.targets_down.insert(target);
        }
    }

    /// Moves an interface endpoint to `state` (lifecycle events).
    pub fn set_endpoint_state(&mut self, ep: InterfaceEndpointIdx, state: EndpointState) {
        self.endpoints.states[ep.index()] = state;
    }

    /// The endpoint a connection to a service came through, as the service sees
    /// the connection: (protocol, its own address and port, the client's).
    pub fn endpoint_of(&self, proto: u8, service: (IpAddr, u16), client: (IpAddr, u16)) -> Option<EndpointRef> {
        if let Some(f) = self.endpoints.by_service.get(&(proto, service.0, service.1, client.1))
            && self.topology.eni(f.eni).owns(client.0)
        {
            return Some(EndpointRef::Interface(f.endpoint));
        }
        self.gateway_endpoint_of(proto, service, client).map(EndpointRef::Gateway)
    }

    /// The gateway endpoint that carried a connection to a service, as the
    /// service sees it: (protocol, its own address and port, the client's).
    pub fn gateway_endpoint_of(
        &self,
        proto: u8,
        service: (IpAddr, u16),
        client: (IpAddr, u16),
    ) -> Option<GatewayEndpointIdx> {
        self.gateway_flows.get(&(proto, service.0, service.1, client.0, client.1)).map(|f| f.endpoint)
    }

    /// Whether the endpoint policy of `endpoint` lets `request` through (AWS's
    /// default full-access policy when none is attached).
    pub fn authorize(&self, endpoint: EndpointRef, request: &vpcsim_policy::Request) -> vpcsim_policy::Decision {
        match self.endpoint_policy(endpoint) {
            Some(policy) => policy.evaluate(request),
            None => vpcsim_policy::Policy::allow_all().evaluate(request),
        }
    }

    /// The ENI that owns `ip` in `vpc`'s address space.
    pub fn eni_at(&self, vpc: VpcIdx, ip: IpAddr) -> Option<EniIdx> {
        self.addresses.vpc.get(&(vpc, ip)).copied()
    }

    /// Runs one frame that ENI `at` sent through the fabric at simulated time
    /// `now`. `out` receives the frame to deliver (or the answer to send back);
    /// its allocation is reused. `trace` records the decisions when enabled.
    pub fn process(
        &mut self,
        now: Duration,
        at: EniIdx,
        frame: &[u8],
        out: &mut Vec<u8>,
        trace: &mut Trace,
    ) -> Verdict {
        let Fabric {
            topology,
            fibs,
            filters,
            addresses,
            conntrack,
            gateway_flows,
            endpoints,
            counters,
            nat,
            egress_flows,
        } = self;
        counters.received += 1;
        let mut cx = Cx {
            t: topology,
            fibs,
            filters,
            addresses,
            conntrack,
            gateway_flows,
            endpoints,
            counters,
            trace,
            now,
            out,
            bounce: None,
            nat,
            egress_flows,
            routed: 0,
            after_gwlb: None,
            natted: false,
            detail: None,
        };
        let verdict = cx.run(at, frame);
        match verdict {
            Verdict::Deliver(_) => cx.counters.delivered += 1,
            Verdict::Reply(_) | Verdict::Answered(_) => cx.counters.replies += 1,
            Verdict::Absorbed => cx.counters.absorbed += 1,
            Verdict::Drop(d) | Verdict::Bounce(d, _) => {
                cx.counters.dropped[d.reason.slot()] += 1;
                *cx.counters.dropped_at.entry(d.at).or_default() += 1;
            }
        }
        verdict
    }
}

/// One frame's pass: the fabric's parts, borrowed.
pub(crate) struct Cx<'a> {
    pub(crate) t: &'a Topology,
    fibs: &'a [Fib],
    filters: &'a Filters,
    pub(crate) addresses: &'a Addresses,
    conntrack: &'a mut Conntrack,
    gateway_flows: &'a mut FxHashMap<GatewayFlowKey, GatewayFlow>,
    endpoints: &'a mut Endpoints,
    counters: &'a mut Counters,
    pub(crate) trace: &'a mut Trace,
    pub(crate) now: Duration,
    pub(crate) out: &'a mut Vec<u8>,
    /// Set with a drop that a router answers with an ICMP error.
    bounce: Option<IcmpError>,
    pub(crate) nat: &'a mut NatTable,
    pub(crate) egress_flows: &'a mut EgressFlows,
    /// Route lookups so far for this frame: a bound against routing loops.
    pub(crate) routed: u16,
    /// A NAT gateway has translated this frame already.
    pub(crate) natted: bool,
    /// Why the frame dropped, in words, for the trace (set only when tracing).
    pub(crate) detail: Option<String>,
    /// The Gateway Load Balancer endpoint this frame just came back out of.
    pub(crate) after_gwlb: Option<InterfaceEndpointIdx>,
}

pub(crate) type Hop<T = Next> = Result<T, Drop>;

/// What a stage of the pipeline hands the packet to: the next stage, or
/// delivery. A drop is `Err(Drop)` of the stage's [`Hop`]. [`Cx::run`] holds
/// the one loop that dispatches them, in the order a packet meets them.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Next {
    /// ENI `eni` of subnet `subnet` sends the packet: its source/destination
    /// check and security-group egress (`sent_in_subnet`).
    Sent { eni: EniIdx, subnet: SubnetIdx },
    /// A host on the internet sends the packet (`sent_on_internet`).
    SentOnInternet(EniIdx),
    /// A host on premises sends the packet (`sent_on_premises`).
    SentOnPremises { eni: EniIdx, onprem: vpcsim_model::OnPremIdx },
    /// The route table of the subnet decides (`route_from`): one route lookup.
    RouteFrom(SubnetIdx),
    /// Into an ENI: NACL ingress, security-group ingress, then what owns it
    /// (`enter_eni`). `from`: the subnet the packet comes from, if any.
    EnterEni { to: EniIdx, from: Option<SubnetIdx> },
    /// Out through a gateway endpoint to its service (`gateway_endpoint_out`).
    GatewayEndpointOut { ep: GatewayEndpointIdx, vpc: VpcIdx },
    /// Out of a VPC through its internet gateway (`igw_out`).
    IgwOut(IgwIdx),
    /// Out through an egress-only internet gateway (`eigw_out`).
    EigwOut(vpcsim_model::EgressOnlyIgwIdx),
    /// The internet's router (`internet`).
    Internet,
    /// Into a VPC through its internet gateway (`igw_in`).
    IgwIn { igw: IgwIdx, vpc: VpcIdx },
    /// Into a VPC through a gateway: its gateway route table, or the local
    /// route (`enter_vpc`).
    EnterVpc { gateway: Component, vpc: VpcIdx, edge: Option<RouteTableIdx> },
    /// Across a peering connection (`peering_out`).
    PeeringOut { peering: vpcsim_model::PeeringIdx, from: VpcIdx },
    /// A route to a NAT gateway (`nat_out`).
    NatOut { nat: vpcsim_model::NatGatewayIdx, from: SubnetIdx },
    /// A packet at a NAT gateway's own address (`nat_in`).
    NatIn { nat: vpcsim_model::NatGatewayIdx, from: Option<SubnetIdx> },
    /// Through an interface endpoint's ENI to its service
    /// (`interface_endpoint_in`).
    InterfaceEndpointIn { ep: InterfaceEndpointIdx, eni: EniIdx },
    /// A reply back through an interface endpoint (`interface_endpoint_back`).
    InterfaceEndpointBack(EndpointFlow),
    /// A packet at a load balancer's node (`load_balancer_back`).
    LoadBalancerBack(LoadBalancerIdx),
    /// Into a Gateway Load Balancer, encapsulated (`gwlb_in`).
    GwlbIn { ep: InterfaceEndpointIdx, eni: EniIdx },
    /// A GENEVE message back from an appliance (`gwlb_back`).
    GwlbBack(LoadBalancerIdx),
    /// A route to a transit gateway (`tgw_from_vpc`).
    TgwFromVpc { tg: vpcsim_model::TransitGatewayIdx, from: SubnetIdx },
    /// Inside a transit gateway: one route lookup (`tgw_forward`).
    TgwForward {
        tg: vpcsim_model::TransitGatewayIdx,
        ingress: vpcsim_model::TgwAttachmentIdx,
        came_from: Option<SubnetIdx>,
    },
    /// Out through a VPN gateway (`vgw_out`).
    VgwOut(vpcsim_model::VpnGatewayIdx),
    /// Over a VPN connection to its on-premises network (`vpn_to_onprem`).
    VpnToOnPrem(vpcsim_model::VpnConnectionIdx),
    /// The frame arrives at ENI `to`, from `src_mac`.
    Deliver { to: EniIdx, src_mac: [u8; 6] },
}

pub(crate) fn drop(reason: DropReason, at: Component) -> Drop {
    Drop { reason, at }
}

impl Cx<'_> {
    fn run(&mut self, at: EniIdx, frame: &[u8]) -> Verdict {
        let Some(eni) = self.t.enis.get(at.index()) else {
            // A caller bug, not user input: still no panic.
            return self.dropped(drop(DropReason::Malformed, Component::Internet), Some("unknown ENI".into()));
        };
        let mut meta = match packet::parse(frame) {
            Ok(Parsed::Ip(meta)) => meta,
            Ok(Parsed::Arp(arp)) => return self.answer_arp(at, &arp),
            Err(m) => {
                return self.dropped(drop(DropReason::Malformed, Component::Eni(at)), Some(m.to_string()));
            }
        };
        if meta.proto == Protocol::ICMPV6 && meta.icmp.is_some_and(|(t, _)| packet::NDP_TYPES.contains(&t)) {
            return self.answer_ndp(at, &meta, frame);
        }
        self.out.clear();
        self.out.extend_from_slice(frame);
        self.trace.record(|| Step::Sent { eni: at, packet: meta });
        if let Some(from) = self.dns_query(at, &meta) {
            return self.answer_dns(at, &meta, frame, from);
        }
        if let Some(answered) = self.link_local(at, &meta, frame) {
            return answered;
        }
        let mut next = match eni.attachment {
            Attachment::Subnet(subnet) => Next::Sent { eni: at, subnet },
            Attachment::Internet => Next::SentOnInternet(at),
            Attachment::OnPrem(onprem) => Next::SentOnPremises { eni: at, onprem },
        };
        // The one loop: each stage says what comes next. Every cycle of
        // stages passes a route lookup (`RouteFrom`, `TgwForward`), so the
        // routing-loop guard bounds it.
        let meta = &mut meta;
        let result = loop {
            let step = match next {
                Next::Sent { eni, subnet } => self.sent_in_subnet(meta, eni, subnet),
                Next::SentOnInternet(eni) => self.sent_on_internet(meta, eni),
                Next::SentOnPremises { eni, onprem } => self.sent_on_premises(meta, eni, onprem),
                Next::RouteFrom(s) => {
                    let table = Component::RouteTable(self.t.subnet(s).route_table);
                    self.count_route_lookup(table).and_then(|()| self.route_from(meta, s))
                }
                Next::EnterEni { to, from } => self.enter_eni(meta, to, from),
                Next::GatewayEndpointOut { ep, vpc } => self.gateway_endpoint_out(meta, ep, vpc),
                Next::IgwOut(igw) => self.igw_out(meta, igw),
                Next::EigwOut(g) => self.eigw_out(meta, g),
                Next::Internet => self.internet(meta),
                Next::IgwIn { igw, vpc } => self.igw_in(meta, igw, vpc),
                Next::EnterVpc { gateway, vpc, edge } => self.enter_vpc(meta, gateway, vpc, edge),
                Next::PeeringOut { peering, from } => self.peering_out(meta, peering, from),
                Next::NatOut { nat, from } => self.nat_out(meta, nat, from),
                Next::NatIn { nat, from } => self.nat_in(meta, nat, from),
                Next::InterfaceEndpointIn { ep, eni } => self.interface_endpoint_in(meta, ep, eni),
                Next::InterfaceEndpointBack(flow) => self.interface_endpoint_back(meta, flow),
                Next::LoadBalancerBack(lb) => self.load_balancer_back(meta, lb),
                Next::GwlbIn { ep, eni } => self.gwlb_in(meta, ep, eni),
                Next::GwlbBack(lb) => self.gwlb_back(meta, lb),
                Next::TgwFromVpc { tg, from } => self.tgw_from_vpc(meta, tg, from),
                Next::TgwForward { tg, ingress, came_from } => {
                    // The transit gateway is crossed before its lookup is counted.
                    self.cross(Component::TransitGateway(tg));
                    self.count_route_lookup(Component::TransitGateway(tg))
                        .and_then(|()| self.tgw_forward(meta, tg, ingress, came_from))
                }
                Next::VgwOut(g) => self.vgw_out(meta, g),
                Next::VpnToOnPrem(c) => self.vpn_to_onprem(meta, c),
                Next::Deliver { to, src_mac } => {
                    packet::set_macs(self.out, src_mac, self.t.eni(to).mac);
                    self.trace.record(|| Step::Delivered { eni: to });
                    break Ok(to);
                }
            };
            match step {
                Ok(n) => next = n,
                Err(d) => break Err(d),
            }
        };
        match result {
            Ok(to) => Verdict::Deliver(to),
            Err(d) => match self.bounce.take() {
                Some(error) if !meta.is_icmp_error() => self.bounced(d, error, at, frame),
                _ => {
                    let detail = self.detail.take();
                    self.dropped(d, detail)
                }
            },
        }
    }

    /// Drops the frame and answers its source with an ICMP error from the
    /// router of the source's subnet, quoting the packet as it was sent.
    fn bounced(&mut self, d: Drop, error: IcmpError, at: EniIdx, frame: &[u8]) -> Verdict {
        let t = self.t;
        let eni = t.eni(at);
        let Some(subnet) = eni.subnet().map(|s| t.subnet(s)) else {
            return self.dropped(d, None);
        };
        let Ok(Parsed::Ip(meta)) = packet::parse(frame) else {
            return self.dropped(d, None);
        };
        let (router, to) = match meta.src {
            IpAddr::V4(_) => (IpAddr::V4(subnet.router_ip()), IpAddr::V4(eni.ipv4)),
            IpAddr::V6(_) => match (subnet.router_ipv6(), eni.ipv6) {
                (Some(r), Some(e)) => (IpAddr::V6(r), IpAddr::V6(e)),
                _ => return self.dropped(d, None),
            },
        };
        let ip_packet = &frame[meta.l3..(meta.l3 + meta.ip_len).min(frame.len())];
        packet::icmp_error(self.out, error, (subnet.router_mac, router), (eni.mac, to), ip_packet);
        self.trace.record(|| Step::Dropped { drop: d, detail: None });
        self.trace.record(|| Step::Bounced { eni: at, error });
        Verdict::Bounce(d, at)
    }

    fn dropped(&mut self, d: Drop, detail: Option<String>) -> Verdict {
        self.trace.record(|| Step::Dropped { drop: d, detail });
        Verdict::Drop(d)
    }

    /// A frame sent by an ENI in a subnet.
    pub(crate) fn sent_in_subnet(&mut self, meta: &mut Meta, at: EniIdx, s: SubnetIdx) -> Hop {
        let t = self.t;
        let eni = t.eni(at);
        if !eni.owns(meta.src) {
            if eni.source_dest_check {
                return Err(drop(DropReason::SourceDestCheck, Component::Eni(at)));
            }
            if matches!(eni.owner, EniOwner::Host(_)) {
                // A middlebox forwarding: its own router hop. At TTL 1 it
                // drops the packet (no ICMP error: its source is elsewhere).
                if meta.ttl <= 1 {
                    return Err(drop(DropReason::TtlExceeded, Component::Eni(at)));
                }
                packet::decrement_ttl(self.out, meta);
            }
        }
        self.security_groups(meta, at, Direction::Egress)?;
        Ok(Next::RouteFrom(s))
    }

    /// Out of subnet `s` through the VPC router: the subnet's NACL egress
    /// rules, then a hop.
    fn leave_subnet(&mut self, meta: &mut Meta, s: SubnetIdx) -> Hop<()> {
        let vpc = self.t.subnet(s).vpc;
        self.nacl(meta, s, Direction::Egress)?;
        self.hop(meta, Component::Vpc(vpc))
    }

    /// The routing-loop guard: one more route lookup (VPC or TGW) for this
    /// frame, or a `no-route` drop at `at` once there have been too many.
    pub(crate) fn count_route_lookup(&mut self, at: Component) -> Hop<()> {
        self.routed += 1;
        if self.routed > MAX_ROUTE_LOOKUPS {
            self.say(|| "routing loop: too many route lookups for one packet".into());
            return Err(drop(DropReason::NoRoute, at));
        }
        Ok(())
    }

    /// The route table of subnet `s` decides where a packet leaving an ENI of
    /// the subnet (an instance's, or a NAT gateway's) goes. The loop has
    /// counted the lookup (`count_route_lookup`).
    pub(crate) fn route_from(&mut self, meta: &mut Meta, s: SubnetIdx) -> Hop {
        let t = self.t;
        let subnet = t.subnet(s);
        let route = self.route_lookup(meta, subnet.route_table, None)?;
        match route.target {
            RouteTarget::Blackhole => Err(drop(DropReason::Blackhole, Component::RouteTable(subnet.route_table))),
            RouteTarget::Local => {
                let leaves = !subnet.contains(meta.dst);
                if leaves {
                    self.nacl(meta, s, Direction::Egress)?;
                }
                let Some(&to) = self.addresses.vpc.get(&(subnet.vpc, meta.dst)) else {
                    return Err(drop(DropReason::NoDestination, Component::Vpc(subnet.vpc)));
                };
                if leaves {
                    self.hop(meta, Component::Vpc(subnet.vpc))?;
                }
                Ok(Next::EnterEni { to, from: Some(s) })
            }
            RouteTarget::Eni(to) => {
                let leaves = t.eni(to).subnet() != Some(s);
                if leaves {
                    self.leave_subnet(meta, s)?;
                }
                Ok(Next::EnterEni { to, from: Some(s) })
            }
            RouteTarget::InternetGateway(igw) => {
                self.leave_subnet(meta, s)?;
                Ok(Next::IgwOut(igw))
            }
            RouteTarget::GatewayEndpoint(ep) => {
                self.leave_subnet(meta, s)?;
                Ok(Next::GatewayEndpointOut { ep, vpc: subnet.vpc })
            }
            RouteTarget::NatGateway(n) => {
                if t.nat_gateway(n).subnet != s {
                    self.leave_subnet(meta, s)?;
                }
                Ok(Next::NatOut { nat: n, from: s })
            }
            RouteTarget::GwlbEndpoint(ep) => {
                if self.after_gwlb == Some(ep) {
                    // Straight back into the endpoint it came out of: a loop.
                    return Err(drop(DropReason::NoRoute, Component::RouteTable(subnet.route_table)));
                }
                let eni = self.gwlb_endpoint_eni(ep, subnet.route_table)?;
                if t.eni(eni).subnet() != Some(s) {
                    self.leave_subnet(meta, s)?;
                }
                Ok(Next::EnterEni { to: eni, from: Some(s) })
            }
            RouteTarget::EgressOnlyInternetGateway(g) => {
                self.leave_subnet(meta, s)?;
                Ok(Next::EigwOut(g))
            }
            RouteTarget::Peering(peering) => {
                self.leave_subnet(meta, s)?;
                Ok(Next::PeeringOut { peering, from: subnet.vpc })
            }
            RouteTarget::TransitGateway(tg) => {
                self.leave_subnet(meta, s)?;
                Ok(Next::TgwFromVpc { tg, from: s })
            }
            RouteTarget::VpnGateway(g) => {
                self.leave_subnet(meta, s)?;
                Ok(Next::VgwOut(g))
            }
        }
    }

    /// Out through a gateway endpoint, privately, to its service: the source
    /// stays the instance's private address, and the endpoint remembers the
    /// flow so the service's replies come back the same way.
    fn gateway_endpoint_out(&mut self, meta: &mut Meta, ep: GatewayEndpointIdx, vpc: VpcIdx) -> Hop {
        let t = self.t;
        let at = Component::GatewayEndpoint(ep);
        self.cross(at);
        if !self.addresses.vpc.contains_key(&(vpc, meta.src)) {
            // Not from inside the VPC: a transit gateway, a VPN (AWS).
            return Err(drop(DropReason::NotReachableVia, at));
        }
        let service = t.gateway_endpoint(ep).service;
        let to = match self.addresses.internet.get(&meta.dst) {
            Some(&InternetOwner::Host(to)) if service_of(t, to) == Some(service) => to,
            // In the service's ranges, but no front door of it answers there.
            _ => return Err(drop(DropReason::NoDestination, at)),
        };
        self.fits(meta, t.eni(to).mtu, at)?;
        let key = (meta.proto, meta.dst, meta.dst_port, meta.src, meta.src_port);
        self.gateway_flows.insert(key, GatewayFlow { endpoint: ep, vpc, expires: self.now + GATEWAY_FLOW_IDLE });
        Ok(Next::Deliver { to, src_mac: INTERNET_ROUTER_MAC })
    }

    /// Through an interface endpoint to its service: Available and TCP only;
    /// both ends rewritten (see `endpoints`). An AWS service is reached at its
    /// front door; an endpoint service through its load balancer's node in the
    /// ENI's AZ, to a healthy target chosen per flow.
    fn interface_endpoint_in(&mut self, meta: &mut Meta, ep: InterfaceEndpointIdx, eni: EniIdx) -> Hop {
        let t = self.t;
        let at = Component::InterfaceEndpoint(ep);
        self.cross(at);
        let state = self.endpoints.states[ep.index()];
        if state == EndpointState::Deleted {
            // Its network interfaces are gone with it.
            return Err(drop(DropReason::NoDestination, Component::Vpc(t.interface_endpoint(ep).vpc)));
        }
        if state != EndpointState::Available {
            return Err(drop(DropReason::EndpointNotAvailable, at));
        }
        // An endpoint to a service that is no longer Available carries nothing.
        if let EndpointTarget::EndpointService(es) = t.interface_endpoint(ep).target
            && self.endpoints.services[es.index()] != vpcsim_model::ServiceState::Available
        {
            return Err(drop(DropReason::EndpointNotAvailable, at));
        }
        if t.interface_endpoint(ep).is_gwlb(t) {
            return Ok(Next::GwlbIn { ep, eni });
        }
        if meta.proto != Protocol::TCP {
            // PrivateLink carries TCP only.
            return Err(drop(DropReason::NotReachableVia, at));
        }
        let client_key = (eni, meta.proto, meta.src, meta.src_port, meta.dst_port);
        let existing = self.endpoints.existing(client_key, self.now);
        match t.interface_endpoint(ep).target {
            EndpointTarget::AwsService(service) => {
                let front = t.host(t.service(service).host).eni;
                let service_ip = IpAddr::V4(t.eni(front).ipv4);
                if meta.dst.is_ipv4() != service_ip.is_ipv4() {
                    return Err(drop(DropReason::NotReachableVia, at));
                }
                let far = (service_ip, meta.dst_port);
                let via = meta.dst;
                let port = match existing {
                    Some((p, _)) => p,
                    None => self
                        .new_endpoint_flow(meta, ep, eni, far, via, None)
                        .ok_or(drop(DropReason::NotReachableVia, at))?,
                };
                self.fits(meta, t.eni(front).mtu, at)?;
                let before = (meta.src, meta.src_port, meta.dst, meta.dst_port);
                self.rewrite(meta, (via, port), far);
                let after = (meta.src, meta.src_port, meta.dst, meta.dst_port);
                self.trace.record(|| Step::Rewritten { at, before, after });
                Ok(Next::Deliver { to: front, src_mac: INTERNET_ROUTER_MAC })
            }
            EndpointTarget::EndpointService(es) => {
                let lb_idx = t.endpoint_service(es).load_balancer;
                let lb = t.load_balancer(lb_idx);
                let lb_at = Component::LoadBalancer(lb_idx);
                self.cross(lb_at);
                // Each endpoint ENI is bound to the load balancer's node in its AZ.
                let az = |e: EniIdx| t.eni(e).subnet().map(|s| t.subnet(s).az.as_str());
                let Some(&node) = lb.nodes.iter().find(|&&n| az(n) == az(eni)) else {
                    return Err(drop(DropReason::NoTarget, lb_at));
                };
                let Some(listener) = lb.listeners.iter().find(|l| l.port == meta.dst_port) else {
                    return Err(drop(DropReason::NoTarget, lb_at));
                };
                let node_ip = IpAddr::V4(t.eni(node).ipv4);
                let (port, far) = match existing {
                    Some(found) => found,
                    None => {
                        // Healthy targets (of the node's AZ unless cross-zone), one per flow by hash.
                        let down = &self.endpoints.targets_down;
                        let pool: Vec<EniIdx> = listener
                            .targets
                            .iter()
                            .filter(|h| !down.contains(h))
                            .map(|&h| t.host(h).eni)
                            .filter(|&e| lb.cross_zone || az(e) == az(node))
                            .collect();
                        if pool.is_empty() {
                            return Err(drop(DropReason::NoTarget, lb_at));
                        }
                        let target = pool[meta.flow_hash() as usize % pool.len()];
                        let far = (IpAddr::V4(t.eni(target).ipv4), listener.target_port);
                        let port = self
                            .new_endpoint_flow(meta, ep, eni, far, node_ip, Some((lb_idx, node)))
                            .ok_or(drop(DropReason::NoTarget, lb_at))?;
                        (port, far)
                    }
                };
                // The provider's target sees the node's private address.
                let before = (meta.src, meta.src_port, meta.dst, meta.dst_port);
                self.rewrite(meta, (node_ip, port), far);
                let after = (meta.src, meta.src_port, meta.dst, meta.dst_port);
                self.trace.record(|| Step::Rewritten { at: lb_at, before, after });
                let Some(subnet) = t.eni(node).subnet() else {
                    return Err(drop(DropReason::NoTarget, lb_at));
                };
                Ok(Next::Sent { eni: node, subnet })
            }
        }
    }

    fn new_endpoint_flow(
        &mut self,
        meta: &Meta,
        ep: InterfaceEndpointIdx,
        eni: EniIdx,
        far: (IpAddr, u16),
        via: IpAddr,
        node: Option<(LoadBalancerIdx, EniIdx)>,
    ) -> Option<u16> {
        let flow = EndpointFlow {
            endpoint: ep,
            eni,
            client: (meta.src, meta.src_port),
            local: (meta.dst, meta.dst_port),
            via,
            node,
            expires: self.now + endpoints::FLOW_IDLE,
        };
        self.endpoints.allocate((eni, meta.proto, meta.src, meta.src_port, meta.dst_port), far, flow)
    }

    /// A target's reply reaching its load balancer's node: back through the
    /// endpoint to the consumer. Anything else addressed to the node is not for
    /// it: the load balancer serves its endpoint service's endpoints only.
    fn load_balancer_back(&mut self, meta: &mut Meta, lb: LoadBalancerIdx) -> Hop {
        if self.t.load_balancer(lb).kind == vpcsim_model::LoadBalancerKind::Gateway {
            return Ok(Next::GwlbBack(lb));
        }
        let at = Component::LoadBalancer(lb);
        self.cross(at);
        match self.endpoints.flow_back(meta.proto, (meta.src, meta.src_port), meta.dst_port, self.now) {
            Some(flow) if flow.via == meta.dst && flow.node.is_some_and(|(l, _)| l == lb) => {
                Ok(Next::InterfaceEndpointBack(flow))
            }
            _ => Err(drop(DropReason::NotReachableVia, at)),
        }
    }

    /// A service's reply through an interface endpoint: rewritten back, then
    /// sent into the VPC by the endpoint's ENI.
    fn interface_endpoint_back(&mut self, meta: &mut Meta, flow: EndpointFlow) -> Hop {
        let t = self.t;
        let at = Component::InterfaceEndpoint(flow.endpoint);
        self.cross(at);
        if self.endpoints.states[flow.endpoint.index()] != EndpointState::Available {
            return Err(drop(DropReason::EndpointNotAvailable, at));
        }
        let before = (meta.src, meta.src_port, meta.dst, meta.dst_port);
        self.rewrite(meta, flow.local, flow.client);
        let after = (meta.src, meta.src_port, meta.dst, meta.dst_port);
        self.trace.record(|| Step::Rewritten { at, before, after });
        let Some(subnet) = t.eni(flow.eni).subnet() else {
            return Err(drop(DropReason::NoDestination, at));
        };
        Ok(Next::Sent { eni: flow.eni, subnet })
    }

    /// Rewrites source and destination (addresses, then ports) in place.
    fn rewrite(&mut self, meta: &mut Meta, src: (IpAddr, u16), dst: (IpAddr, u16)) {
        if let (IpAddr::V4(s), IpAddr::V4(d)) = (src.0, dst.0) {
            packet::rewrite_ipv4(self.out, meta, Side::Source, s);
            packet::rewrite_ipv4(self.out, meta, Side::Destination, d);
        }
        packet::rewrite_port(self.out, meta, Side::Source, src.1);
        packet::rewrite_port(self.out, meta, Side::Destination, dst.1);
    }

    /// A service's reply to a flow a gateway endpoint carried, if it is one.
    fn gateway_flow_back(&mut self, meta: &Meta) -> Option<GatewayFlow> {
        let key = (meta.proto, meta.src, meta.src_port, meta.dst, meta.dst_port);
        let flow = self.gateway_flows.get_mut(&key)?;
        if flow.expires <= self.now {
            self.gateway_flows.remove(&key);
            return None;
        }
        flow.expires = self.now + GATEWAY_FLOW_IDLE;
        Some(*flow)
    }

    /// A frame sent by a host on the internet.
    fn sent_on_internet(&mut self, meta: &mut Meta, at: EniIdx) -> Hop {
        if !self.t.eni(at).owns(meta.src) {
            return Err(drop(DropReason::SourceDestCheck, Component::Eni(at)));
        }
        if let Some(flow) = self.endpoints.flow_back(meta.proto, (meta.src, meta.src_port), meta.dst_port, self.now)
            && flow.via == meta.dst
            && flow.node.is_none()
        {
            return Ok(Next::InterfaceEndpointBack(flow));
        }
        if let Some(flow) = self.gateway_flow_back(meta) {
            // Back through the gateway endpoint into the VPC, never the internet.
            let c = Component::GatewayEndpoint(flow.endpoint);
            self.cross(c);
            let Some(&to) = self.addresses.vpc.get(&(flow.vpc, meta.dst)) else {
                return Err(drop(DropReason::NoDestination, Component::Vpc(flow.vpc)));
            };
            self.hop(meta, c)?;
            return Ok(Next::EnterEni { to, from: None });
        }
        Ok(Next::Internet)
    }

    /// Into a VPC ENI: the destination subnet's NACL ingress (when coming from
    /// outside it), the ENI's security groups, its source/destination check.
    /// A NAT gateway's ENI hands the packet to the NAT gateway.
    pub(crate) fn enter_eni(&mut self, meta: &mut Meta, to: EniIdx, from: Option<SubnetIdx>) -> Hop {
        let t = self.t;
        let eni = t.eni(to);
        if let EniOwner::NatGateway(n) = eni.owner {
            return Ok(Next::NatIn { nat: n, from });
        }
        let Some(dest_subnet) = eni.subnet() else {
            // Internet ENIs are reached through `internet`, never by a VPC route.
            return Err(drop(DropReason::NoDestination, Component::Eni(to)));
        };
        self.fits(meta, eni.mtu, Component::Vpc(t.subnet(dest_subnet).vpc))?;
        let routed = from != Some(dest_subnet);
        if routed {
            self.nacl(meta, dest_subnet, Direction::Ingress)?;
        }
        self.security_groups(meta, to, Direction::Ingress)?;
        match eni.owner {
            // The endpoint's ENI passes the packet on to the service.
            EniOwner::InterfaceEndpoint(ep) => return Ok(Next::InterfaceEndpointIn { ep, eni: to }),
            EniOwner::LoadBalancer(lb) => return Ok(Next::LoadBalancerBack(lb)),
            // Handled above, before any filter.
            EniOwner::Host(_) | EniOwner::NatGateway(_) => {}
        }
        if eni.source_dest_check && !eni.owns(meta.dst) {
            return Err(drop(DropReason::SourceDestCheck, Component::Eni(to)));
        }
        // Inside one subnet the frame keeps its sender's MAC; across a router it
        // comes from the router's interface in the destination subnet.
        let src_mac = if routed {
            t.subnet(dest_subnet).router_mac
        } else {
            let mut mac = [0; 6];
            mac.copy_from_slice(&self.out[6..12]);
            mac
        };
        Ok(Next::Deliver { to, src_mac })
    }

    /// Out of a VPC through its internet gateway: private IPv4 source to its
    /// public IP (1:1); IPv6 passes untranslated.
    fn igw_out(&mut self, meta: &mut Meta, igw: IgwIdx) -> Hop {
        let t = self.t;
        self.cross(Component::InternetGateway(igw));
        self.fits(meta, INTERNET_GATEWAY_MTU, Component::InternetGateway(igw))?;
        let vpc = t.internet_gateway(igw).vpc;
        if let IpAddr::V4(private) = meta.src {
            let public = self
                .addresses
                .vpc
                .get(&(vpc, meta.src))
                .and_then(|&e| t.eni(e).public_ip)
                .ok_or(drop(DropReason::NoPublicIp, Component::InternetGateway(igw)))?;
            packet::rewrite_ipv4(self.out, meta, Side::Source, public);
            self.trace.record(|| Step::Translated {
                at: Component::InternetGateway(igw),
                side: Side::Source,
                from: private.into(),
                to: public.into(),
            });
        }
        Ok(Next::Internet)
    }

    /// The internet's router: to an internet host, or to the internet gateway
    /// of the VPC that owns the public address.
    pub(crate) fn internet(&mut self, meta: &mut Meta) -> Hop {
        let t = self.t;
        self.cross(Component::Internet);
        self.hop(meta, Component::Internet)?;
        match self.addresses.internet.get(&meta.dst).copied() {
            Some(InternetOwner::Host(to)) => {
                self.fits(meta, t.eni(to).mtu, Component::Internet)?;
                Ok(Next::Deliver { to, src_mac: INTERNET_ROUTER_MAC })
            }
            Some(InternetOwner::PublicIp(_, vpc)) => match t.vpc(vpc).internet_gateway {
                Some(igw) => Ok(Next::IgwIn { igw, vpc }),
                None => Err(drop(DropReason::NoRoute, Component::Internet)),
            },
            None => {
                let vpc6 = packet::v6(meta.dst)
                    .and_then(|a| self.addresses.vpc_ipv6.iter().find(|(net, _)| net.contains(&a)))
                    .map(|&(_, vpc)| vpc);
                if let Some(vpc) = vpc6
                    && let Some(back) = self.egress_only_in(meta, vpc)
                {
                    return back;
                }
                match vpc6.and_then(|vpc| t.vpc(vpc).internet_gateway.map(|igw| (igw, vpc))) {
                    Some((igw, vpc)) => Ok(Next::IgwIn { igw, vpc }),
                    None => Err(drop(DropReason::NoRoute, Component::Internet)),
                }
            }
        }
    }

    /// Into a VPC through its internet gateway: public IPv4 destination to the
    /// private address (1:1), then the local route to the ENI.
    fn igw_in(&mut self, meta: &mut Meta, igw: IgwIdx, vpc: VpcIdx) -> Hop {
        let t = self.t;
        let at = Component::InternetGateway(igw);
        self.cross(at);
        self.fits(meta, INTERNET_GATEWAY_MTU, at)?;
        if let IpAddr::V4(public) = meta.dst
            && let Some(InternetOwner::PublicIp(owner, _)) = self.addresses.internet.get(&meta.dst).copied()
        {
            let private = t.eni(owner).ipv4;
            packet::rewrite_ipv4(self.out, meta, Side::Destination, private);
            self.trace.record(|| Step::Translated {
                at,
                side: Side::Destination,
                from: public.into(),
                to: private.into(),
            });
        }
        self.hop(meta, at)?;
        Ok(Next::EnterVpc { gateway: at, vpc, edge: t.internet_gateway(igw).route_table })
    }

    /// The ENI a route in `table` to Gateway Load Balancer endpoint `ep` sends
    /// to. Once the endpoint is deleted the route's target is gone, and AWS
    /// shows the route as a blackhole.
    fn gwlb_endpoint_eni(&self, ep: InterfaceEndpointIdx, table: RouteTableIdx) -> Hop<EniIdx> {
        if self.endpoints.states[ep.index()] == EndpointState::Deleted {
            return Err(drop(DropReason::Blackhole, Component::RouteTable(table)));
        }
        self.t
            .interface_endpoint(ep)
            .enis
            .first()
            .copied()
            .ok_or(drop(DropReason::NoDestination, Component::InterfaceEndpoint(ep)))
    }

    /// Into VPC `vpc` through a gateway (internet or VPN). The gateway's
    /// route table, when it has one (an edge association), decides: the local
    /// route, a middlebox's network interface, or a Gateway Load Balancer
    /// endpoint; without one, the local route delivers.
    pub(crate) fn enter_vpc(
        &mut self,
        meta: &mut Meta,
        gateway: Component,
        vpc: VpcIdx,
        edge: Option<RouteTableIdx>,
    ) -> Hop {
        let t = self.t;
        if let Some(table) = edge {
            let route = self.route_lookup(meta, table, Some(gateway))?;
            match route.target {
                RouteTarget::Local => {}
                RouteTarget::Eni(to) => {
                    // AWS: "for traffic through an internet gateway, the
                    // target network interface must also have a public IP".
                    if matches!(gateway, Component::InternetGateway(_)) && t.eni(to).public_ip.is_none() {
                        self.say(|| {
                            format!(
                                "{} has no public IP: a gateway route table sends traffic from an internet gateway only to a network interface that has one",
                                t.eni(to).id
                            )
                        });
                        return Err(drop(DropReason::NoPublicIp, Component::Eni(to)));
                    }
                    return Ok(Next::EnterEni { to, from: None });
                }
                RouteTarget::GwlbEndpoint(ep) => {
                    let eni = self.gwlb_endpoint_eni(ep, table)?;
                    return Ok(Next::EnterEni { to: eni, from: None });
                }
                RouteTarget::Blackhole => return Err(drop(DropReason::Blackhole, Component::RouteTable(table))),
                // The loader admits nothing else in a gateway route table.
                _ => return Err(drop(DropReason::NotReachableVia, Component::RouteTable(table))),
            }
        }
        let Some(&to) = self.addresses.vpc.get(&(vpc, meta.dst)) else {
            return Err(drop(DropReason::NoDestination, Component::Vpc(vpc)));
        };
        Ok(Next::EnterEni { to, from: None })
    }

    pub(crate) fn cross(&mut self, c: Component) {
        if let Component::InternetGateway(igw) = c {
            self.counters.igw_crossed[igw.index()] += 1;
        }
        self.trace.record(|| Step::Crossed { component: c });
    }

    /// A router hop: the TTL / hop limit goes down by one, or the packet dies
    /// and its source hears of it.
    pub(crate) fn hop(&mut self, meta: &mut Meta, at: Component) -> Hop<()> {
        if meta.ttl <= 1 {
            self.bounce = Some(IcmpError::TimeExceeded);
            return Err(drop(DropReason::TtlExceeded, at));
        }
        packet::decrement_ttl(self.out, meta);
        Ok(())
    }

    /// Whether the packet fits the next hop's MTU. A router does not fragment:
    /// it drops, and tells the source the MTU when the packet may not be
    /// fragmented (IPv6 always, IPv4 with DF set), so the source's stack can adapt.
    pub(crate) fn fits(&mut self, meta: &Meta, mtu: u16, at: Component) -> Hop<()> {
        if meta.ip_len <= usize::from(mtu) {
            return Ok(());
        }
        if meta.dont_fragment {
            self.bounce = Some(IcmpError::TooBig { mtu });
        }
        Err(drop(DropReason::MtuExceeded, at))
    }

    /// `gateway`: the gateway the packet enters the VPC through, when `table`
    /// is that gateway's route table.
    fn route_lookup(&mut self, meta: &Meta, table: RouteTableIdx, gateway: Option<Component>) -> Hop<FibEntry> {
        let t = self.t;
        let found = self.fibs[table.index()].lookup(meta.dst).copied();
        self.trace.record(|| Step::RouteLookup {
            table,
            gateway,
            dest: meta.dst,
            winner: found.map(|e| e.route),
            beaten: found.map(|e| beaten_routes(t, t.route_table(table), meta.dst, e.route)).unwrap_or_default(),
        });
        found.ok_or(drop(DropReason::NoRoute, Component::RouteTable(table)))
    }

    pub(crate) fn nacl(&mut self, meta: &Meta, s: SubnetIdx, direction: Direction) -> Hop<()> {
        let nacl = self.t.subnet(s).nacl;
        let decision = self.filters.nacl(self.t, nacl, direction, meta);
        self.trace.record(|| Step::Nacl { nacl, subnet: s, direction, decision });
        if decision.allows() {
            Ok(())
        } else {
            let reason = match direction {
                Direction::Ingress => DropReason::NaclIngress,
                Direction::Egress => DropReason::NaclEgress,
            };
            Err(drop(reason, Component::Nacl(nacl)))
        }
    }

    /// An ENI's security groups: a tracked flow passes; an ICMP error about a
    /// tracked flow passes; otherwise a rule must allow it, and the flow is
    /// tracked from then on.
    fn security_groups(&mut self, meta: &Meta, eni: EniIdx, direction: Direction) -> Hop<()> {
        let t = self.t;
        let now = self.now;
        // Load balancer nodes and Gateway Load Balancer endpoints have no
        // security groups: nothing to filter.
        if !matches!(t.eni(eni).owner, EniOwner::Host(_)) && t.eni(eni).security_groups.is_empty() {
            return Ok(());
        }
        let key = FlowKey::new(eni, direction, meta);
        let at = Component::SecurityGroups(eni);
        if self.conntrack.track(&key, direction, meta, now) {
            self.trace.record(|| Step::SecurityGroup { eni, direction, decision: SgDecision::Tracked });
            return Ok(());
        }
        if meta.is_icmp_error()
            && let Some((proto, src, dst, sp, dp)) = packet::quoted_flow(self.out, meta)
        {
            // The quoted packet went the other way through this ENI.
            let quoted = FlowKey::from_parts(eni, opposite(direction), proto, src, dst, sp, dp);
            if self.conntrack.get(&quoted).is_some_and(|e| e.expires > now) {
                self.trace.record(|| Step::SecurityGroup { eni, direction, decision: SgDecision::Related });
                return Ok(());
            }
        }
        let addresses = self.addresses;
        let member_of = |sg: SgIdx, ip: IpAddr| {
            let vpc = t.security_group(sg).vpc;
            addresses.vpc.get(&(vpc, ip)).is_some_and(|&e| t.eni(e).security_groups.contains(&sg))
        };
        match self.filters.security_groups(t, &t.eni(eni).security_groups, direction, meta, member_of) {
            Some((sg, index)) => {
                self.trace.record(|| Step::SecurityGroup { eni, direction, decision: SgDecision::Rule { sg, index } });
                if self.conntrack.open(key, direction, meta, now) {
                    Ok(())
                } else {
                    Err(drop(DropReason::ConntrackFull, at))
                }
            }
            None => {
                self.trace.record(|| Step::SecurityGroup { eni, direction, decision: SgDecision::Denied });
                let reason = match direction {
                    Direction::Ingress => DropReason::SgIngress,
                    Direction::Egress => DropReason::SgEgress,
                };
                Err(drop(reason, at))
            }
        }
    }

    /// The router answers ARP for its own address in the subnet and for the
    /// addresses of ENIs in the subnet; the internet's router for everything but
    /// the asking host.
    fn answer_arp(&mut self, at: EniIdx, arp: &Arp) -> Verdict {
        if arp.operation != ARP_REQUEST {
            return Verdict::Absorbed;
        }
        let t = self.t;
        let eni = t.eni(at);
        let mac = match eni.attachment {
            Attachment::Subnet(s) => {
                let subnet = t.subnet(s);
                if arp.target_ip == subnet.router_ip() {
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

impl Cx<'_> {
    /// Whether the frame is a DNS query to a resolver: the Amazon DNS server of
    /// the sender's VPC, or (from an internet host, to an address nobody on the
    /// internet owns) the internet's resolver. `Some(vpc)` says whose.
    fn dns_query(&self, at: EniIdx, meta: &Meta) -> Option<Option<VpcIdx>> {
        if meta.proto != Protocol::UDP || meta.dst_port != 53 || meta.fragment {
            return None;
        }
        let t = self.t;
        let eni = t.eni(at);
        if !eni.owns(meta.src) {
            return None;
        }
        match eni.attachment {
            Attachment::Subnet(s) => {
                let vpc = t.subnet(s).vpc;
                resolver::is_vpc_resolver(t, vpc, meta.dst).then_some(Some(vpc))
            }
            Attachment::Internet => {
                let owned = self.addresses.internet.contains_key(&meta.dst)
                    || packet::v6(meta.dst)
                        .is_some_and(|a| self.addresses.vpc_ipv6.iter().any(|(n, _)| n.contains(&a)));
                (!owned).then_some(None)
            }
            // The on-premises router resolves like the internet's resolver.
            Attachment::OnPrem(o) => (meta.dst == IpAddr::V4(t.onprem(o).router_ip())).then_some(None),
        }
    }

    /// The resolver answers. Neither security groups nor network ACLs filter
    /// traffic to and from the Amazon DNS server (AWS).
    fn answer_dns(&mut self, at: EniIdx, meta: &Meta, frame: &[u8], from: Option<VpcIdx>) -> Verdict {
        let t = self.t;
        let resolver = Component::Resolver(from);
        let start = meta.l4.map_or(frame.len(), |l4| l4 + 8);
        let end = (meta.l3 + meta.ip_len).min(frame.len());
        if let Some(vpc) = from
            && !t.vpc(vpc).private_dns
        {
            // private_dns = false is enableDnsSupport off: the Amazon DNS
            // server of the VPC resolves nothing (AWS), so no answer comes.
            let detail = format!(
                "{} has private_dns = false (enableDnsSupport off): its Amazon DNS server does not answer",
                t.vpc(vpc).id
            );
            return self.dropped(drop(DropReason::NoDestination, resolver), Some(detail));
        }
        let Ok(query) = vpcsim_dns::parse_query(frame.get(start..end).unwrap_or(&[])) else {
            return self.dropped(drop(DropReason::Malformed, resolver), Some("not a DNS query".into()));
        };
        let az = t.eni(at).subnet().map(|s| t.subnet(s).az.as_str());
        let answer = resolver::lookup(t, &self.endpoints.states, from, az, &query.name);
        let mut dns = Vec::new();
        vpcsim_dns::build_response(&query, &answer, resolver::TTL, &mut dns);
        let eni = t.eni(at);
        let router_mac = match eni.attachment {
            Attachment::Subnet(s) => t.subnet(s).router_mac,
            Attachment::Internet => INTERNET_ROUTER_MAC,
            Attachment::OnPrem(o) => t.onprem(o).router_mac,
        };
        let mut asker = [0; 6];
        asker.copy_from_slice(&frame[6..12]);
        self.out.clear();
        let eth = etherparse::PacketBuilder::ethernet2(router_mac, asker);
        let written = match (meta.dst, meta.src) {
            (IpAddr::V4(s), IpAddr::V4(d)) => {
                eth.ipv4(s.octets(), d.octets(), 64).udp(53, meta.src_port).write(self.out, &dns)
            }
            (IpAddr::V6(s), IpAddr::V6(d)) => {
                eth.ipv6(s.octets(), d.octets(), 64).udp(53, meta.src_port).write(self.out, &dns)
            }
            _ => return Verdict::Absorbed,
        };
        if written.is_err() {
            return self.dropped(drop(DropReason::Malformed, resolver), Some("answer too large".into()));
        }
        self.trace.record(|| Step::Dns {
            eni: at,
            server: meta.dst,
            name: query.name.clone(),
            answer: describe(&answer, query.qtype),
        });
        Verdict::Answered(at)
    }

    /// Whether a load balancer target fails its health checks.
    pub(crate) fn target_down(&self, h: vpcsim_model::HostIdx) -> bool {
        self.endpoints.targets_down.contains(&h)
    }

    /// Neighbour discovery, IPv6's ARP: the router answers solicitations for its
    /// address in the subnet (base + 1) and for the ENIs of the subnet; the
    /// internet's router for everything but the asking host. Other
    /// neighbour-discovery messages stay on the link.
    fn answer_ndp(&mut self, at: EniIdx, meta: &Meta, frame: &[u8]) -> Verdict {
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
}

fn describe(answer: &vpcsim_dns::Answer, qtype: vpcsim_dns::QueryType) -> String {
    match answer {
        vpcsim_dns::Answer::NxDomain => "NXDOMAIN (no such name)".to_string(),
        vpcsim_dns::Answer::Addresses { v4, v6 } => {
            let (kind, ips): (&str, Vec<String>) = match qtype {
                vpcsim_dns::QueryType::Aaaa => ("AAAA", v6.iter().map(|a| a.to_string()).collect()),
                _ => ("A", v4.iter().map(|a| a.to_string()).collect()),
            };
            if ips.is_empty() { format!("no {kind} record") } else { format!("{kind} {}", ips.join(", ")) }
        }
    }
}

/// The AWS service whose front door this ENI is.
fn service_of(t: &Topology, eni: EniIdx) -> Option<vpcsim_model::ServiceIdx> {
    match t.eni(eni).owner {
        EniOwner::Host(h) => t.host(h).service,
        EniOwner::InterfaceEndpoint(_) | EniOwner::LoadBalancer(_) | EniOwner::NatGateway(_) => None,
    }
}

/// Route lookups one frame may make: a bound on the work of a routing loop.
/// Every lap of a loop through routers decrements the TTL, so a loop ends
/// as AWS ends it, `ttl-exceeded`, long before this (a TTL is at most 255);
/// the bound catches only a loop that no router counts, as `no-route`.
pub(crate) const MAX_ROUTE_LOOKUPS: u16 = 1024;

fn opposite(d: Direction) -> Direction {
    match d {
        Direction::Ingress => Direction::Egress,
        Direction::Egress => Direction::Ingress,
    }
}
