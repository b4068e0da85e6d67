//! The topology as a graph of the components a packet can cross (petgraph).
//!
//! The data plane does not walk this graph to decide anything: it forwards real
//! frames. The graph is the map for people and tools (summaries, pcap segments,
//! what is attached to what).

use petgraph::graph::{Graph, NodeIndex};

use crate::{Attachment, IgwIdx, RouteTarget, SubnetIdx, Topology, VpcIdx};
use crate::{EgressOnlyIgwIdx, EniIdx, GatewayEndpointIdx, NatGatewayIdx, PeeringIdx};

/// A component of the topology a packet can cross: one node of the graph.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Node {
    /// A VPC: its subnets hang off it, its gateways and peerings attach to it.
    Vpc(VpcIdx),
    /// A subnet, contained in its VPC, with links to what its route table
    /// targets.
    Subnet(SubnetIdx),
    /// An elastic network interface, attached to a subnet, the internet or an
    /// on-premises network.
    Eni(EniIdx),
    /// An internet gateway, between its VPC and the internet.
    InternetGateway(IgwIdx),
    /// A gateway endpoint, attached to its VPC.
    GatewayEndpoint(GatewayEndpointIdx),
    /// The public internet.
    Internet,
    /// A NAT gateway, attached to its ENI.
    NatGateway(NatGatewayIdx),
    /// An egress-only internet gateway, between its VPC and the internet.
    EgressOnlyInternetGateway(EgressOnlyIgwIdx),
    /// A VPC peering connection, attached to both its VPCs.
    Peering(PeeringIdx),
    /// A transit gateway, attached to the VPCs of its VPC attachments and to
    /// the on-premises networks of its VPN connections.
    TransitGateway(crate::TransitGatewayIdx),
    /// A virtual private gateway, attached to its VPC and to the on-premises
    /// networks of its VPN connections.
    VpnGateway(crate::VpnGatewayIdx),
    /// An on-premises network.
    OnPrem(crate::OnPremIdx),
}

/// How two components are connected: one edge of the graph.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Link {
    /// A VPC contains a subnet.
    Contains,
    /// An ENI is plugged into a subnet or the internet; a gateway into a VPC.
    Attached,
    /// A subnet's route table sends some destinations to this gateway or ENI.
    Routes,
}

/// Components and links of a topology.
#[derive(Clone, Debug)]
pub struct TopologyGraph {
    /// The petgraph graph: one node per component (the internet first), one
    /// edge per link, at most one `Routes` edge from a subnet to a target.
    pub graph: Graph<Node, Link>,
}

impl TopologyGraph {
    /// The graph of a topology: every VPC, subnet, ENI, gateway, endpoint,
    /// peering and on-premises network, linked by containment, attachment
    /// and the subnets' routes (local and blackhole routes add no link).
    pub fn build(t: &Topology) -> TopologyGraph {
        let mut g = Graph::new();
        let internet = g.add_node(Node::Internet);
        let vpcs: Vec<NodeIndex> = (0..t.vpcs.len()).map(|i| g.add_node(Node::Vpc(VpcIdx::from_index(i)))).collect();
        let subnets: Vec<NodeIndex> = t
            .subnets
            .iter()
            .enumerate()
            .map(|(i, s)| {
                let n = g.add_node(Node::Subnet(SubnetIdx::from_index(i)));
                g.add_edge(vpcs[s.vpc.index()], n, Link::Contains);
                n
            })
            .collect();
        let igws: Vec<NodeIndex> = t
            .internet_gateways
            .iter()
            .enumerate()
            .map(|(i, igw)| {
                let n = g.add_node(Node::InternetGateway(IgwIdx::from_index(i)));
                g.add_edge(n, vpcs[igw.vpc.index()], Link::Attached);
                g.add_edge(n, internet, Link::Attached);
                n
            })
            .collect();
        let endpoints: Vec<NodeIndex> = t
            .gateway_endpoints
            .iter()
            .enumerate()
            .map(|(i, ep)| {
                let n = g.add_node(Node::GatewayEndpoint(GatewayEndpointIdx::from_index(i)));
                g.add_edge(n, vpcs[ep.vpc.index()], Link::Attached);
                n
            })
            .collect();
        let nats: Vec<NodeIndex> =
            (0..t.nat_gateways.len()).map(|i| g.add_node(Node::NatGateway(NatGatewayIdx::from_index(i)))).collect();
        let eigws: Vec<NodeIndex> = t
            .egress_only_internet_gateways
            .iter()
            .enumerate()
            .map(|(i, gw)| {
                let n = g.add_node(Node::EgressOnlyInternetGateway(EgressOnlyIgwIdx::from_index(i)));
                g.add_edge(n, vpcs[gw.vpc.index()], Link::Attached);
                g.add_edge(n, internet, Link::Attached);
                n
            })
            .collect();
        let peerings: Vec<NodeIndex> = t
            .vpc_peerings
            .iter()
            .enumerate()
            .map(|(i, p)| {
                let n = g.add_node(Node::Peering(PeeringIdx::from_index(i)));
                g.add_edge(n, vpcs[p.requester.index()], Link::Attached);
                g.add_edge(n, vpcs[p.accepter.index()], Link::Attached);
                n
            })
            .collect();
        let tgws: Vec<NodeIndex> = (0..t.transit_gateways.len())
            .map(|i| g.add_node(Node::TransitGateway(crate::TransitGatewayIdx::from_index(i))))
            .collect();
        for a in &t.tgw_attachments {
            if let crate::TgwAttachmentKind::Vpc { vpc, .. } = a.kind {
                g.add_edge(tgws[a.transit_gateway.index()], vpcs[vpc.index()], Link::Attached);
            }
        }
        let vgws: Vec<NodeIndex> = t
            .vpn_gateways
            .iter()
            .enumerate()
            .map(|(i, v)| {
                let n = g.add_node(Node::VpnGateway(crate::VpnGatewayIdx::from_index(i)));
                g.add_edge(n, vpcs[v.vpc.index()], Link::Attached);
                n
            })
            .collect();
        let onprems: Vec<NodeIndex> =
            (0..t.onprems.len()).map(|i| g.add_node(Node::OnPrem(crate::OnPremIdx::from_index(i)))).collect();
        for c in &t.vpn_connections {
            let to = match c.gateway {
                crate::VpnTerminal::VpnGateway(v) => vgws[v.index()],
                crate::VpnTerminal::TransitGateway(tg) => tgws[tg.index()],
            };
            g.add_edge(onprems[c.onprem.index()], to, Link::Attached);
        }
        let enis: Vec<NodeIndex> = t
            .enis
            .iter()
            .enumerate()
            .map(|(i, eni)| {
                let n = g.add_node(Node::Eni(EniIdx::from_index(i)));
                let to = match eni.attachment {
                    Attachment::Subnet(s) => subnets[s.index()],
                    Attachment::Internet => internet,
                    Attachment::OnPrem(o) => onprems[o.index()],
                };
                g.add_edge(n, to, Link::Attached);
                n
            })
            .collect();
        for (i, nat) in t.nat_gateways.iter().enumerate() {
            g.add_edge(nats[i], enis[nat.eni.index()], Link::Attached);
        }
        for (i, s) in t.subnets.iter().enumerate() {
            for route in &t.route_table(s.route_table).routes {
                let to = match route.target {
                    RouteTarget::InternetGateway(igw) => igws[igw.index()],
                    RouteTarget::Eni(eni) => enis[eni.index()],
                    RouteTarget::GatewayEndpoint(ep) => endpoints[ep.index()],
                    RouteTarget::NatGateway(n) => nats[n.index()],
                    RouteTarget::EgressOnlyInternetGateway(e) => eigws[e.index()],
                    RouteTarget::Peering(p) => peerings[p.index()],
                    // Its ENI stands for it.
                    RouteTarget::GwlbEndpoint(ep) => match t.interface_endpoint(ep).enis.first() {
                        Some(e) => enis[e.index()],
                        None => continue,
                    },
                    RouteTarget::TransitGateway(tg) => tgws[tg.index()],
                    RouteTarget::VpnGateway(v) => vgws[v.index()],
                    RouteTarget::Local | RouteTarget::Blackhole => continue,
                };
                if g.find_edge(subnets[i], to).is_none() {
                    g.add_edge(subnets[i], to, Link::Routes);
                }
            }
        }
        TopologyGraph { graph: g }
    }

    /// How many components the graph holds (the internet included).
    pub fn node_count(&self) -> usize {
        self.graph.node_count()
    }

    /// How many links the graph holds.
    pub fn link_count(&self) -> usize {
        self.graph.edge_count()
    }
}
