//! The topology model: what a scenario describes, resolved and validated.
//!
//! Every resource sits in a `Vec` of the [`Topology`] and is named by a typed
//! index ([`VpcIdx`], [`SubnetIdx`], ...). Names (`id`s) are what the user wrote;
//! indices are what the data plane uses. Nothing here knows TOML or serde: the
//! scenario crate builds a `Topology`, and only a valid one.
//!
//! Architecture invariant: a `Topology` that exists is valid. Every index in it
//! points into its own vectors, every address it holds is unique in its address
//! space, and every route table holds its implicit local routes.

mod graph;
pub mod limits;
mod reasons;
mod rules;
mod traffic;

pub use graph::{Link, Node, TopologyGraph};
pub use reasons::DropReason;
pub use rules::{Action, NaclRule, PortRange, Protocol, SgPeer, SgRule};
pub use traffic::{Destination, Expectation, ExpectedResult, Flow, Leg, Request, unusable_destination};

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use ipnet::{IpNet, Ipv4Net, Ipv6Net};

macro_rules! index_type {
    ($($(#[$doc:meta])* $name:ident;)*) => {$(
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name(pub u32);

        impl $name {
            /// The position in the topology's vector of this kind.
            pub fn index(self) -> usize {
                self.0 as usize
            }
            /// The index of position `i`.
            pub fn from_index(i: usize) -> Self {
                Self(u32::try_from(i).expect("fewer than 2^32 resources of one kind"))
            }
        }
    )*};
}

index_type! {
    /// A VPC.
    VpcIdx;
    /// A subnet.
    SubnetIdx;
    /// A VPC route table.
    RouteTableIdx;
    /// A prefix list (customer-managed or AWS-managed).
    PrefixListIdx;
    /// A security group.
    SgIdx;
    /// A network ACL.
    NaclIdx;
    /// An internet gateway.
    IgwIdx;
    /// An elastic network interface: where frames enter and leave the fabric.
    EniIdx;
    /// A host: a virtual machine in a subnet or on the internet.
    HostIdx;
    /// A built-in AWS service in one region.
    ServiceIdx;
    /// A gateway endpoint.
    GatewayEndpointIdx;
    /// An interface endpoint.
    InterfaceEndpointIdx;
    /// A load balancer (network or gateway).
    LoadBalancerIdx;
    /// An endpoint service (a PrivateLink provider).
    EndpointServiceIdx;
    /// A NAT gateway.
    NatGatewayIdx;
    /// An egress-only internet gateway (IPv6).
    EgressOnlyIgwIdx;
    /// A VPC peering connection.
    PeeringIdx;
}

/// The AWS region used when a VPC names none.
pub const DEFAULT_REGION: &str = "us-east-1";
/// The account used when a VPC names none.
pub const DEFAULT_ACCOUNT: &str = "111111111111";

/// A whole scenario's network, resolved.
#[derive(Clone, Debug, Default)]
pub struct Topology {
    /// The scenario's `name` (required): what reports and summaries call it.
    pub name: String,
    /// The scenario's optional `description`, free text for people.
    pub description: Option<String>,
    /// The seed of every random choice the hosts' stacks make (initial
    /// sequence numbers, ephemeral ports), mixed with each host's index: the
    /// same seed gives the same frames. Default 0.
    pub seed: u64,
    /// Time a frame takes through the fabric (vpcsim's extension); the
    /// engine's default when `None`.
    pub hop_latency: Option<std::time::Duration>,
    /// Every `[[vpc]]`, in file order; [`VpcIdx`] indexes it.
    pub vpcs: Vec<Vpc>,
    /// Every `[[subnet]]`, in file order; [`SubnetIdx`] indexes it.
    pub subnets: Vec<Subnet>,
    /// Every VPC route table: the file's `[[route_table]]`s and the implicit
    /// main route tables vpcsim creates; [`RouteTableIdx`] indexes it.
    pub route_tables: Vec<RouteTable>,
    /// Every prefix list: the file's customer-managed `[[prefix_list]]`s and
    /// the AWS-managed lists (`pl-s3`, `pl-dynamodb`) created per region when
    /// first used; [`PrefixListIdx`] indexes it.
    pub prefix_lists: Vec<PrefixList>,
    /// Every security group: the file's and each VPC's default group;
    /// [`SgIdx`] indexes it.
    pub security_groups: Vec<SecurityGroup>,
    /// Every network ACL: the file's and each VPC's default NACL; [`NaclIdx`]
    /// indexes it.
    pub nacls: Vec<Nacl>,
    /// Every `[[internet_gateway]]`; [`IgwIdx`] indexes it.
    pub internet_gateways: Vec<InternetGateway>,
    /// Every elastic network interface: hosts', interface endpoints',
    /// load balancer nodes' and NAT gateways'; [`EniIdx`] indexes it.
    pub enis: Vec<Eni>,
    /// Every host: the file's `[[host]]`s (in a subnet, on the internet, on
    /// premises) and the AWS services' front doors; [`HostIdx`] indexes it.
    pub hosts: Vec<Host>,
    /// The built-in AWS services of every region the scenario touches;
    /// [`ServiceIdx`] indexes it.
    pub services: Vec<AwsService>,
    /// Every `[[gateway_endpoint]]`; [`GatewayEndpointIdx`] indexes it.
    pub gateway_endpoints: Vec<GatewayEndpoint>,
    /// Every `[[interface_endpoint]]` (Gateway Load Balancer endpoints
    /// included); [`InterfaceEndpointIdx`] indexes it.
    pub interface_endpoints: Vec<InterfaceEndpoint>,
    /// Every `[[load_balancer]]`, network or gateway; [`LoadBalancerIdx`]
    /// indexes it.
    pub load_balancers: Vec<LoadBalancer>,
    /// Every `[[endpoint_service]]`; [`EndpointServiceIdx`] indexes it.
    pub endpoint_services: Vec<EndpointService>,
    /// Changes over time, in time order (stable for equal times).
    pub events: Vec<Event>,
    /// Every `[[nat_gateway]]`; [`NatGatewayIdx`] indexes it.
    pub nat_gateways: Vec<NatGateway>,
    /// Every `[[egress_only_internet_gateway]]`; [`EgressOnlyIgwIdx`]
    /// indexes it.
    pub egress_only_internet_gateways: Vec<EgressOnlyInternetGateway>,
    /// Every `[[vpc_peering]]`; [`PeeringIdx`] indexes it.
    pub vpc_peerings: Vec<VpcPeering>,
    /// Every `[[flow]]`, in file order: the traffic `vpcsim run` generates.
    pub flows: Vec<Flow>,
    /// Every `[[expect]]`, in file order: what `vpcsim check` verifies.
    pub expectations: Vec<Expectation>,
    /// Every `[[transit_gateway]]`; [`TransitGatewayIdx`] indexes it.
    pub transit_gateways: Vec<TransitGateway>,
    /// Every `[[tgw_attachment]]`; [`TgwAttachmentIdx`] indexes it.
    pub tgw_attachments: Vec<TgwAttachment>,
    /// Every `[[tgw_route_table]]`; [`TgwRouteTableIdx`] indexes it.
    pub tgw_route_tables: Vec<TgwRouteTable>,
    /// Every `[[onprem]]` network; [`OnPremIdx`] indexes it.
    pub onprems: Vec<OnPrem>,
    /// Every `[[vpn_gateway]]` (virtual private gateway); [`VpnGatewayIdx`]
    /// indexes it.
    pub vpn_gateways: Vec<VpnGateway>,
    /// Every `[[vpn_connection]]`, VPN or Direct Connect;
    /// [`VpnConnectionIdx`] indexes it.
    pub vpn_connections: Vec<VpnConnection>,
    /// Every `[[dns_zone]]` (private hosted zone); [`DnsZoneIdx`] indexes it.
    pub dns_zones: Vec<DnsZone>,
}

impl Topology {
    /// The VPC at index `i`. Like every accessor here it panics on an index
    /// out of range, which a valid topology's indices never are.
    pub fn vpc(&self, i: VpcIdx) -> &Vpc {
        &self.vpcs[i.index()]
    }
    /// The subnet at index `i`.
    pub fn subnet(&self, i: SubnetIdx) -> &Subnet {
        &self.subnets[i.index()]
    }
    /// The VPC route table at index `i`.
    pub fn route_table(&self, i: RouteTableIdx) -> &RouteTable {
        &self.route_tables[i.index()]
    }
    /// The prefix list at index `i`.
    pub fn prefix_list(&self, i: PrefixListIdx) -> &PrefixList {
        &self.prefix_lists[i.index()]
    }
    /// The security group at index `i`.
    pub fn security_group(&self, i: SgIdx) -> &SecurityGroup {
        &self.security_groups[i.index()]
    }
    /// The network ACL at index `i`.
    pub fn nacl(&self, i: NaclIdx) -> &Nacl {
        &self.nacls[i.index()]
    }
    /// The internet gateway at index `i`.
    pub fn internet_gateway(&self, i: IgwIdx) -> &InternetGateway {
        &self.internet_gateways[i.index()]
    }
    /// The elastic network interface at index `i`.
    pub fn eni(&self, i: EniIdx) -> &Eni {
        &self.enis[i.index()]
    }
    /// The host at index `i`.
    pub fn host(&self, i: HostIdx) -> &Host {
        &self.hosts[i.index()]
    }
    /// The AWS service (in one region) at index `i`.
    pub fn service(&self, i: ServiceIdx) -> &AwsService {
        &self.services[i.index()]
    }
    /// The gateway endpoint at index `i`.
    pub fn gateway_endpoint(&self, i: GatewayEndpointIdx) -> &GatewayEndpoint {
        &self.gateway_endpoints[i.index()]
    }
    /// The interface endpoint at index `i`.
    pub fn interface_endpoint(&self, i: InterfaceEndpointIdx) -> &InterfaceEndpoint {
        &self.interface_endpoints[i.index()]
    }

    /// The id of what owns an ENI: its host, interface endpoint, load
    /// balancer or NAT gateway.
    pub fn eni_owner_id(&self, e: EniIdx) -> &str {
        match self.eni(e).owner {
            EniOwner::Host(h) => &self.host(h).id,
            EniOwner::InterfaceEndpoint(ep) => &self.interface_endpoint(ep).id,
            EniOwner::LoadBalancer(lb) => &self.load_balancer(lb).id,
            EniOwner::NatGateway(n) => &self.nat_gateway(n).id,
        }
    }
    /// The load balancer at index `i`.
    pub fn load_balancer(&self, i: LoadBalancerIdx) -> &LoadBalancer {
        &self.load_balancers[i.index()]
    }
    /// The endpoint service at index `i`.
    pub fn endpoint_service(&self, i: EndpointServiceIdx) -> &EndpointService {
        &self.endpoint_services[i.index()]
    }

    /// The NAT gateway at index `i`.
    pub fn nat_gateway(&self, i: NatGatewayIdx) -> &NatGateway {
        &self.nat_gateways[i.index()]
    }
    /// The egress-only internet gateway at index `i`.
    pub fn egress_only_internet_gateway(&self, i: EgressOnlyIgwIdx) -> &EgressOnlyInternetGateway {
        &self.egress_only_internet_gateways[i.index()]
    }
    /// The VPC peering connection at index `i`.
    pub fn vpc_peering(&self, i: PeeringIdx) -> &VpcPeering {
        &self.vpc_peerings[i.index()]
    }

    /// The egress-only internet gateway of a VPC, if it has one.
    pub fn egress_only_igw_of(&self, vpc: VpcIdx) -> Option<EgressOnlyIgwIdx> {
        self.egress_only_internet_gateways.iter().position(|g| g.vpc == vpc).map(EgressOnlyIgwIdx::from_index)
    }

    /// Whether a peering connection joins the two VPCs.
    pub fn peered(&self, a: VpcIdx, b: VpcIdx) -> bool {
        self.vpc_peerings.iter().any(|p| p.other_side(a) == Some(b))
    }

    /// The host with this id.
    pub fn host_by_id(&self, id: &str) -> Option<HostIdx> {
        self.hosts.iter().position(|h| h.id == id).map(HostIdx::from_index)
    }

    /// The graph of components and how they connect (see [`TopologyGraph`]).
    pub fn graph(&self) -> TopologyGraph {
        TopologyGraph::build(self)
    }
}

/// A VPC: one IPv4 CIDR, optionally one IPv6 CIDR, and its own address space.
#[derive(Clone, Debug)]
pub struct Vpc {
    /// The id the scenario gives, unique in the file; AWS's form is vpc-…
    /// but any text is accepted.
    pub id: String,
    /// The VPC's primary IPv4 CIDR block (/16 to /28). Each VPC is an
    /// address space of its own; peered VPCs may not overlap.
    pub cidr: Ipv4Net,
    /// The VPC's IPv6 CIDR block (/44 to /64), if it has one.
    pub ipv6_cidr: Option<Ipv6Net>,
    /// The AWS region it is in (default `us-east-1`), checked by shape, not
    /// against a list.
    pub region: String,
    /// The AWS account (twelve digits) that owns it (default
    /// `111111111111`); its root is the default principal of its requests.
    pub account: String,
    /// enableDnsSupport + enableDnsHostnames.
    pub private_dns: bool,
    /// Its subnets, in file order.
    pub subnets: Vec<SubnetIdx>,
    /// The main route table: the one a subnet uses when it names none.
    pub main_route_table: RouteTableIdx,
    /// The default network ACL (allows everything both ways).
    pub default_nacl: NaclIdx,
    /// The default security group (inbound from itself, all outbound).
    pub default_security_group: SgIdx,
    /// At most one internet gateway is attached to a VPC.
    pub internet_gateway: Option<IgwIdx>,
}

impl Vpc {
    /// The Amazon DNS server's address: the VPC's primary CIDR base + 2.
    pub fn dns_server(&self) -> Ipv4Addr {
        nth_v4(self.cidr, 2)
    }
}

/// A subnet: a slice of its VPC's CIDR(s) in one availability zone.
#[derive(Clone, Debug)]
pub struct Subnet {
    /// The id the scenario gives, unique in the file; AWS's form is
    /// subnet-… but any text is accepted.
    pub id: String,
    /// The VPC it belongs to.
    pub vpc: VpcIdx,
    /// Its IPv4 CIDR block (/16 to /28), inside the VPC's, overlapping no
    /// other subnet of the VPC.
    pub cidr: Ipv4Net,
    /// Its IPv6 CIDR block (/44 to /64), inside the VPC's; only when the VPC
    /// has one.
    pub ipv6_cidr: Option<Ipv6Net>,
    /// Its availability zone: starts with the VPC's region (default: the
    /// region + `a`).
    pub az: String,
    /// The route table associated with it, of its VPC (default: the VPC's
    /// main route table).
    pub route_table: RouteTableIdx,
    /// The network ACL associated with it, of its VPC (default: the VPC's
    /// default NACL).
    pub nacl: NaclIdx,
    /// The MAC address of the VPC router's interface in this subnet.
    pub router_mac: [u8; 6],
}

impl Subnet {
    /// The VPC router's address in this subnet: base + 1.
    pub fn router_ip(&self) -> Ipv4Addr {
        nth_v4(self.cidr, 1)
    }

    /// The router's IPv6 address in this subnet: base + 1, like IPv4.
    pub fn router_ipv6(&self) -> Option<Ipv6Addr> {
        self.ipv6_cidr.map(|n| Ipv6Addr::from(u128::from(n.network()) + 1))
    }

    /// Whether AWS reserves `ip` in this subnet: the network address, +1 (router),
    /// +2 (DNS), +3 (reserved for future use) and the broadcast address.
    pub fn is_reserved(&self, ip: Ipv4Addr) -> bool {
        let base = u32::from(self.cidr.network());
        let ip = u32::from(ip);
        (base..=base + 3).contains(&ip) || ip == u32::from(self.cidr.broadcast())
    }

    /// Whether `ip` is in one of this subnet's CIDRs.
    pub fn contains(&self, ip: IpAddr) -> bool {
        match ip {
            IpAddr::V4(v4) => self.cidr.contains(&v4),
            IpAddr::V6(v6) => self.ipv6_cidr.is_some_and(|n| n.contains(&v6)),
        }
    }
}

/// The `n`th address of a network (base + n).
pub fn nth_v4(net: Ipv4Net, n: u32) -> Ipv4Addr {
    Ipv4Addr::from(u32::from(net.network()).wrapping_add(n))
}

/// Where a route sends traffic.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RouteTarget {
    /// Inside the VPC: delivered to the ENI that owns the destination address.
    Local,
    /// Dropped on purpose (or because the target is gone).
    Blackhole,
    /// The VPC's internet gateway: to the internet, a public IPv4 source
    /// translated 1:1.
    InternetGateway(IgwIdx),
    /// An ENI (an instance target names its primary ENI): a middlebox.
    Eni(EniIdx),
    /// A gateway endpoint's prefix-list route.
    GatewayEndpoint(GatewayEndpointIdx),
    /// A NAT gateway (its ENI): source NAT to its address, one port per connection.
    NatGateway(NatGatewayIdx),
    /// An egress-only internet gateway: IPv6 out, and only replies back in.
    EgressOnlyInternetGateway(EgressOnlyIgwIdx),
    /// A VPC peering connection: into the peer VPC, delivered by its local route.
    Peering(PeeringIdx),
    /// A Gateway Load Balancer endpoint: the traffic goes, in GENEVE, to an
    /// appliance behind the load balancer, and comes back to continue its way.
    GwlbEndpoint(InterfaceEndpointIdx),
    /// A transit gateway, through the VPC's attachment subnet in the source's AZ.
    TransitGateway(TransitGatewayIdx),
    /// A virtual private gateway: over its VPN connection to on-premises.
    VpnGateway(VpnGatewayIdx),
}

/// What a route matches.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RouteDest {
    /// An IPv4 or IPv6 CIDR, matched by longest prefix.
    Cidr(IpNet),
    /// Every entry of the prefix list, each as long as it is.
    PrefixList(PrefixListIdx),
}

/// How a route came to be: with its destination's kind it breaks ties between
/// routes to the same prefix (the local route, then a static CIDR route, then
/// a prefix-list route; `state/fib.rs`'s rank).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum RouteOrigin {
    /// The implicit route for a VPC CIDR.
    Local,
    /// Written by the user, or added by a gateway endpoint.
    Static,
}

/// A route of a VPC route table: traffic to `dest` goes to `target`.
#[derive(Clone, Debug)]
pub struct Route {
    /// What it matches: a CIDR or a prefix list's entries.
    pub dest: RouteDest,
    /// Where matching traffic goes.
    pub target: RouteTarget,
    /// How it came to be (local or static).
    pub origin: RouteOrigin,
}

/// A VPC route table. `routes` starts with the local routes (one per VPC CIDR).
#[derive(Clone, Debug)]
pub struct RouteTable {
    /// The id the scenario gives, unique in the file (AWS's form is rtb-…
    /// but any text is accepted), or `<vpc>/main-route-table` for an
    /// implicit one.
    pub id: String,
    /// The VPC it belongs to; its routes' targets are of that VPC.
    pub vpc: VpcIdx,
    /// Whether it is its VPC's main route table (exactly one per VPC).
    pub main: bool,
    /// Created by vpcsim because the VPC named no main route table.
    pub implicit: bool,
    /// The local routes first (a gateway route table may have replaced one
    /// with a route of its own), then the file's routes in order, then the
    /// prefix-list routes its gateway endpoints add.
    pub routes: Vec<Route>,
}

/// A prefix list: a named set of CIDRs of one address family.
#[derive(Clone, Debug)]
pub struct PrefixList {
    /// The id the scenario gives, unique in the file (AWS's form is pl-…
    /// but any text is accepted); an AWS-managed list keeps its name
    /// (`pl-s3`) in every region.
    pub id: String,
    /// Its CIDRs, all of one address family; match patterns of any length.
    pub entries: Vec<IpNet>,
    /// For an AWS-managed list: the service and the region its ranges belong to.
    pub managed: Option<ManagedBy>,
}

/// Whose ranges an AWS-managed prefix list holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ManagedBy {
    /// The AWS service's short name (`s3`, `dynamodb`).
    pub service: String,
    /// The region whose ranges of that service it holds.
    pub region: String,
}

impl PrefixList {
    /// Whether `ip` lies in one of the list's entries.
    pub fn contains(&self, ip: IpAddr) -> bool {
        self.entries.iter().any(|e| e.contains(&ip))
    }
}

/// A security group: allow rules only, stateful.
#[derive(Clone, Debug)]
pub struct SecurityGroup {
    /// The id the scenario gives, unique in the file (AWS's form is sg-…
    /// but any text is accepted), or `<vpc>/default-sg` for a VPC's default
    /// group.
    pub id: String,
    /// The VPC it belongs to; only ENIs of that VPC are its members.
    pub vpc: VpcIdx,
    /// Inbound allow rules, any of which admits a packet; none by default
    /// (the default group: all protocols from its own members).
    pub ingress: Vec<SgRule>,
    /// Outbound allow rules, any of which lets a packet out; by default all
    /// to `0.0.0.0/0` (and `::/0` when the VPC has IPv6).
    pub egress: Vec<SgRule>,
    /// The VPC's default group, created by vpcsim.
    pub is_default: bool,
}

/// A network ACL: numbered rules, lowest first, first match decides, then `*` denies.
#[derive(Clone, Debug)]
pub struct Nacl {
    /// The id the scenario gives, unique in the file (AWS's form is acl-…
    /// but any text is accepted), or `<vpc>/default-nacl` for a VPC's default
    /// NACL.
    pub id: String,
    /// The VPC it belongs to; only subnets of that VPC use it.
    pub vpc: VpcIdx,
    /// Sorted by rule number.
    pub ingress: Vec<NaclRule>,
    /// Sorted by rule number.
    pub egress: Vec<NaclRule>,
    /// The VPC's default NACL, created by vpcsim.
    pub is_default: bool,
}

/// An internet gateway: connects its VPC to the internet, translating an
/// ENI's public IPv4 address to its private one 1:1 both ways (IPv6 passes
/// untranslated).
#[derive(Clone, Debug)]
pub struct InternetGateway {
    /// The id the scenario gives, unique in the file; AWS's form is igw-…
    /// but any text is accepted.
    pub id: String,
    /// The VPC it is attached to; a VPC has at most one.
    pub vpc: VpcIdx,
    /// The gateway route table (edge association) that routes what enters
    /// the VPC through this gateway; `None`: the local route delivers it.
    pub route_table: Option<RouteTableIdx>,
}

/// Where an ENI is plugged in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Attachment {
    /// A subnet of a VPC: the ENI's private addresses lie in its CIDRs.
    Subnet(SubnetIdx),
    /// The public internet, outside every VPC.
    Internet,
    /// An on-premises network (an address space of its own).
    OnPrem(OnPremIdx),
}

/// What an ENI belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EniOwner {
    /// A host's one network interface (for an AWS service's front door too).
    Host(HostIdx),
    /// A requester-managed ENI of an interface endpoint.
    InterfaceEndpoint(InterfaceEndpointIdx),
    /// A load balancer's node in one subnet (no security groups).
    LoadBalancer(LoadBalancerIdx),
    /// A NAT gateway's ENI: a component of the fabric, not a host.
    NatGateway(NatGatewayIdx),
}

/// An elastic network interface.
#[derive(Clone, Debug)]
pub struct Eni {
    /// `eni-<owner id>`; an interface endpoint's or a load balancer's:
    /// `eni-<owner id>-<subnet id>`.
    pub id: String,
    /// What it belongs to.
    pub owner: EniOwner,
    /// Where it is plugged in: a subnet, the internet, or on premises.
    pub attachment: Attachment,
    /// Its MAC address, [`eni_mac`] of its index.
    pub mac: [u8; 6],
    /// Its private IPv4 address (an internet host's public one); 0.0.0.0
    /// for an internet host with only an IPv6 address, meaning none.
    pub ipv4: Ipv4Addr,
    /// Its IPv6 address, if any; never auto-assigned.
    pub ipv6: Option<Ipv6Addr>,
    /// A public IPv4 address, translated 1:1 by the VPC's internet gateway.
    pub public_ip: Option<Ipv4Addr>,
    /// Empty for internet hosts: nothing filters them.
    pub security_groups: Vec<SgIdx>,
    /// When true (AWS's default) the ENI only sends from and receives for its own
    /// addresses.
    pub source_dest_check: bool,
    /// The largest IP packet the ENI takes (bytes): 1500 by default, up to 9001.
    pub mtu: u16,
}

impl Eni {
    /// The subnet it is plugged into; `None` on the internet or on premises.
    pub fn subnet(&self) -> Option<SubnetIdx> {
        match self.attachment {
            Attachment::Subnet(s) => Some(s),
            Attachment::Internet | Attachment::OnPrem(_) => None,
        }
    }

    /// Whether a packet from `src` that this ENI sends is another's packet
    /// passed on: a middlebox (source/destination check off) forwarding.
    pub fn forwards(&self, src: IpAddr) -> bool {
        !self.source_dest_check && !self.owns(src)
    }

    /// Whether `ip` is one of this ENI's own addresses (`ipv4` or `ipv6`;
    /// its public IP is the internet gateway's to translate, not its own).
    pub fn owns(&self, ip: IpAddr) -> bool {
        match ip {
            IpAddr::V4(v4) => v4 == self.ipv4,
            IpAddr::V6(v6) => self.ipv6 == Some(v6),
        }
    }
}

/// A server a host runs: `tcp/443` answers, `udp/53` echoes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Listener {
    /// Tcp or Udp.
    pub proto: Protocol,
    /// The port it listens on, 1–65535.
    pub port: u16,
}

/// A virtual machine.
#[derive(Clone, Debug)]
pub struct Host {
    /// The id the scenario gives, unique in the file (any text; `i-…` is
    /// AWS's form for an instance), or `<service>.<region>` for an AWS
    /// service's front door.
    pub id: String,
    /// Its one network interface, `eni-<host id>`.
    pub eni: EniIdx,
    /// The servers it runs (`listen = ["tcp/443"]`); a listener's socket is
    /// made when its first SYN or datagram arrives.
    pub listen: Vec<Listener>,
    /// Set when the host is an AWS service's front door.
    pub service: Option<ServiceIdx>,
}

/// A built-in AWS service in one region: its public name and ranges, and the
/// host (on the internet, at the service's first address) that answers it.
#[derive(Clone, Debug)]
pub struct AwsService {
    /// "s3", "kms", "ecr.api".
    pub name: String,
    /// The AWS region this instance of the service is in.
    pub region: String,
    /// "s3.us-east-1.amazonaws.com".
    pub dns_name: String,
    /// Its public IP ranges in the region, from vpcsim's catalog (disjoint
    /// across services and regions); an address in them that is not its
    /// front door's is owned by nobody.
    pub ranges: Vec<IpNet>,
    /// The addresses DNS answers with; the first is the host's.
    pub addresses: Vec<IpAddr>,
    /// Its front door: a host on the internet, id `<service>.<region>`,
    /// listening on tcp/443.
    pub host: HostIdx,
    /// Whether a gateway endpoint can reach it (S3, DynamoDB).
    pub gateway_capable: bool,
}

/// The state of an interface endpoint (AWS's names).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum EndpointState {
    /// Waiting for the endpoint service's provider to accept it (the
    /// service has `acceptance_required`); carries nothing yet.
    PendingAcceptance,
    /// AWS's state while an endpoint is being set up; vpcsim never enters
    /// it (an accepted endpoint is Available at once), but an accept or
    /// reject moves it like PendingAcceptance.
    Pending,
    /// Ready: the only state in which the endpoint carries traffic.
    Available,
    /// The provider rejected it; carries nothing.
    Rejected,
    /// AWS's state for a request not accepted in time; vpcsim never
    /// enters it.
    Expired,
    /// vpcsim's choice for a principal not in the service's
    /// `allowed_principals`: the endpoint exists but carries nothing.
    Failed,
    /// AWS's state while an endpoint is being deleted; vpcsim goes straight
    /// to Deleted.
    Deleting,
    /// Deleted by its owner: its ENIs and DNS names are gone.
    Deleted,
}

impl EndpointState {
    /// AWS's name of the state (`PendingAcceptance`), as reports show it.
    pub fn as_str(self) -> &'static str {
        match self {
            EndpointState::PendingAcceptance => "PendingAcceptance",
            EndpointState::Pending => "Pending",
            EndpointState::Available => "Available",
            EndpointState::Rejected => "Rejected",
            EndpointState::Expired => "Expired",
            EndpointState::Failed => "Failed",
            EndpointState::Deleting => "Deleting",
            EndpointState::Deleted => "Deleted",
        }
    }

    /// The state `action` leaves an endpoint in, AWS's lifecycle: the
    /// provider accepts a pending endpoint (Available at once; AWS takes a
    /// minute or so) and rejects a pending or available one; the consumer
    /// deletes any endpoint not yet deleted. Anything else changes nothing.
    pub fn after(self, action: EndpointAction) -> EndpointState {
        use EndpointState::*;
        match (action, self) {
            (EndpointAction::Accept, PendingAcceptance | Pending) => Available,
            (EndpointAction::Reject, PendingAcceptance | Pending | Available) => Rejected,
            (EndpointAction::Delete, s) if s != Deleted => Deleted,
            (_, s) => s,
        }
    }
}

/// What can be done to an interface endpoint: by its service's provider
/// (accept, reject), by its owner (delete).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EndpointAction {
    /// The provider accepts a pending endpoint (event `accept`).
    Accept,
    /// The provider rejects an endpoint, even an Available one (event
    /// `reject`).
    Reject,
    /// The consumer deletes its endpoint (event `delete`).
    Delete,
}

impl EndpointAction {
    /// The scenario's word for it.
    pub fn as_str(self) -> &'static str {
        match self {
            EndpointAction::Accept => "accept",
            EndpointAction::Reject => "reject",
            EndpointAction::Delete => "delete",
        }
    }
}

/// The state of an endpoint service (AWS's names). A service is Available
/// from the start (its load balancer is ready in simulated time); events move it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ServiceState {
    /// AWS's state while a service is being created; vpcsim never enters it.
    Pending,
    /// Ready: endpoints to it may carry traffic. Every service starts here.
    Available,
    /// AWS's state for a service that could not be created; vpcsim never
    /// enters it.
    Failed,
    /// AWS's state while a service is being deleted; vpcsim passes through
    /// it at once (the timeline shows it) to Deleted.
    Deleting,
    /// Deleted by its provider (event `delete-service`): endpoints to it
    /// carry nothing (`endpoint-not-available`).
    Deleted,
}

impl ServiceState {
    /// AWS's name of the state (`Available`), as reports show it.
    pub fn as_str(self) -> &'static str {
        match self {
            ServiceState::Pending => "Pending",
            ServiceState::Available => "Available",
            ServiceState::Failed => "Failed",
            ServiceState::Deleting => "Deleting",
            ServiceState::Deleted => "Deleted",
        }
    }
}

/// What an interface endpoint connects to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EndpointTarget {
    /// A built-in AWS service of the endpoint's region (`kms`, `ecr.api`).
    AwsService(ServiceIdx),
    /// A provider's endpoint service (PrivateLink), of the same region.
    EndpointService(EndpointServiceIdx),
}

/// A load balancer listener: traffic to `port` goes to one of `targets` at
/// `target_port`.
#[derive(Clone, Debug)]
pub struct LbListener {
    /// The protocol it listens for: TCP for a network load balancer
    /// (ignored by a gateway load balancer, which takes every packet).
    pub proto: Protocol,
    /// The port it listens on (ignored by a gateway load balancer).
    pub port: u16,
    /// The target hosts, of the load balancer's VPC; a node picks a healthy
    /// one by a hash of the flow.
    pub targets: Vec<HostIdx>,
    /// The port traffic is sent to on the target (default: `port`).
    pub target_port: u16,
}

/// The type of a load balancer (the file's `type`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LoadBalancerKind {
    /// `network` (the default): a Network Load Balancer, TCP listeners.
    Network,
    /// `gateway`: a Gateway Load Balancer, every packet to its appliances in
    /// GENEVE (UDP 6081).
    Gateway,
}

/// A load balancer: one node (an ENI) per subnet, listeners and targets.
#[derive(Clone, Debug)]
pub struct LoadBalancer {
    /// The id the scenario gives, unique in the file; any text is accepted.
    pub id: String,
    /// Network or gateway.
    pub kind: LoadBalancerKind,
    /// The VPC of its subnets.
    pub vpc: VpcIdx,
    /// One node per subnet, in the order given.
    pub nodes: Vec<EniIdx>,
    /// Cross-zone load balancing (default off): a node may pick targets
    /// in every AZ, not only its own.
    pub cross_zone: bool,
    /// Its listeners: which traffic goes to which targets.
    pub listeners: Vec<LbListener>,
}

/// An endpoint service: a load balancer offered over PrivateLink.
#[derive(Clone, Debug)]
pub struct EndpointService {
    /// The id the scenario gives, unique in the file; AWS's form is
    /// vpce-svc-… but any text is accepted.
    pub id: String,
    /// The network or gateway load balancer it offers.
    pub load_balancer: LoadBalancerIdx,
    /// Whether a new endpoint waits for the provider's accept
    /// (PendingAcceptance) rather than being Available at once; default true.
    pub acceptance_required: bool,
    /// ARNs (or `*`) allowed to create endpoints to it.
    pub allowed_principals: Vec<String>,
    /// A DNS name of the provider's (`orders.example.com`) that endpoints
    /// with private DNS on answer with their ENIs.
    pub private_dns_name: Option<String>,
    /// `com.amazonaws.vpce.<region>.<id>`.
    pub service_name: String,
    /// The region of its load balancer's VPC; endpoints to it must be in it.
    pub region: String,
}

impl InterfaceEndpoint {
    /// Whether this is a Gateway Load Balancer endpoint (a route target), by
    /// its service's load balancer.
    pub fn is_gwlb(&self, t: &Topology) -> bool {
        match self.target {
            // `get`: the loader asks while a file with errors is half built.
            EndpointTarget::EndpointService(es) => t
                .endpoint_services
                .get(es.index())
                .and_then(|s| t.load_balancers.get(s.load_balancer.index()))
                .is_some_and(|lb| lb.kind == LoadBalancerKind::Gateway),
            EndpointTarget::AwsService(_) => false,
        }
    }
}

impl EndpointService {
    /// Whether `principal` may connect an endpoint (`*` allows everyone; an
    /// account root ARN allows that account's principals).
    pub fn allows(&self, principal: &str) -> bool {
        let account = |arn: &str| arn.split(':').nth(4).map(str::to_string);
        self.allowed_principals.iter().any(|p| {
            p == "*"
                || p == principal
                || (p.ends_with(":root") && account(p).is_some() && account(p) == account(principal))
        })
    }
}

/// What an event does.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EventAction {
    /// The provider accepts a pending endpoint.
    Accept(InterfaceEndpointIdx),
    /// The provider rejects an endpoint (also an Available one).
    Reject(InterfaceEndpointIdx),
    /// The consumer deletes its endpoint.
    Delete(InterfaceEndpointIdx),
    /// A load balancer target stops answering health checks: it leaves the pool.
    TargetDown(HostIdx),
    /// It comes back.
    TargetUp(HostIdx),
    /// The provider deletes its endpoint service (Deleting, then Deleted):
    /// endpoints to it carry nothing more.
    DeleteService(EndpointServiceIdx),
}

impl EventAction {
    /// For an event that acts on an interface endpoint: which, and how.
    pub fn on_endpoint(&self) -> Option<(InterfaceEndpointIdx, EndpointAction)> {
        match *self {
            EventAction::Accept(ep) => Some((ep, EndpointAction::Accept)),
            EventAction::Reject(ep) => Some((ep, EndpointAction::Reject)),
            EventAction::Delete(ep) => Some((ep, EndpointAction::Delete)),
            _ => None,
        }
    }
}

/// A change at a moment of simulated time.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Event {
    /// When it applies, in simulated time (at most one year): before
    /// anything else at that instant.
    pub at: std::time::Duration,
    /// What it does.
    pub action: EventAction,
}

/// An interface endpoint (PrivateLink consumer): one requester-managed ENI per
/// chosen subnet, with the endpoint's security groups; traffic to those ENIs
/// goes privately to the service.
#[derive(Clone, Debug)]
pub struct InterfaceEndpoint {
    /// The id the scenario gives, unique in the file; AWS's form is vpce-…
    /// but any text is accepted.
    pub id: String,
    /// The VPC its ENIs are in.
    pub vpc: VpcIdx,
    /// What it connects to (the file's `service`).
    pub target: EndpointTarget,
    /// The service's name as a DNS label ("kms", "ecr.api").
    pub service_name: String,
    /// Its VPC's region, which is its service's.
    pub region: String,
    /// One per subnet, in the order the subnets were given.
    pub enis: Vec<EniIdx>,
    /// The endpoint's security groups, applied to each of its ENIs (default:
    /// the VPC's default group; none for a Gateway Load Balancer endpoint).
    pub security_groups: Vec<SgIdx>,
    /// With private DNS on, the service's own name resolves to the ENIs in this VPC.
    pub private_dns: bool,
    /// Who asked for the connection.
    pub principal: String,
    /// The endpoint policy; `None` is AWS's default full access.
    pub policy: Option<vpcsim_policy::Policy>,
    /// `vpce-<id>-<suffix>.<service>.<region>.vpce.amazonaws.com`.
    pub dns_name: String,
    /// One per ENI's AZ: (AZ, `vpce-<id>-<suffix>-<az>.<service>...`).
    pub zonal_dns_names: Vec<(String, String)>,
    /// The state at time 0.
    pub state: EndpointState,
}

/// A gateway endpoint (S3, DynamoDB): a route-table target that carries a VPC's
/// traffic to a service of its region privately.
#[derive(Clone, Debug)]
pub struct GatewayEndpoint {
    /// The id the scenario gives, unique in the file; AWS's form is vpce-…
    /// but any text is accepted.
    pub id: String,
    /// The VPC it serves: only its route tables reach it.
    pub vpc: VpcIdx,
    /// The gateway-capable service (S3 or DynamoDB) of the VPC's region.
    pub service: ServiceIdx,
    /// The route tables (of its VPC, each once) it adds a route to: its
    /// service's managed prefix list, targeting it.
    pub route_tables: Vec<RouteTableIdx>,
    /// The endpoint policy; `None` is AWS's default full access.
    pub policy: Option<vpcsim_policy::Policy>,
}

/// A NAT gateway: an ENI in a subnet that translates the sources of the
/// traffic routed to it. The address is its ENI's `ipv4`; a public NAT
/// gateway's Elastic IP is its ENI's `public_ip`, which the internet gateway
/// translates 1:1 like an instance's.
#[derive(Clone, Debug)]
pub struct NatGateway {
    /// The id the scenario gives, unique in the file; AWS's form is nat-…
    /// but any text is accepted.
    pub id: String,
    /// The subnet it sits in (normally a public one, routed to an internet
    /// gateway).
    pub subnet: SubnetIdx,
    /// Its network interface, `eni-<id>`, at its address in `subnet`.
    pub eni: EniIdx,
    /// `connectivity = "private"`: no Elastic IP; it translates to its
    /// private address only.
    pub private: bool,
}

/// An egress-only internet gateway: IPv6 connections out, replies back in,
/// nothing unsolicited in.
#[derive(Clone, Debug)]
pub struct EgressOnlyInternetGateway {
    /// The id the scenario gives, unique in the file; AWS's form is eigw-…
    /// but any text is accepted.
    pub id: String,
    /// The VPC it is attached to; a VPC has at most one.
    pub vpc: VpcIdx,
}

/// A VPC peering connection between two VPCs whose CIDRs do not overlap.
#[derive(Clone, Debug)]
pub struct VpcPeering {
    /// The id the scenario gives, unique in the file; AWS's form is pcx-…
    /// but any text is accepted.
    pub id: String,
    /// The VPC that asked for the connection; either side may route to it.
    pub requester: VpcIdx,
    /// The VPC that accepted it; not the requester, at most one peering
    /// per pair.
    pub accepter: VpcIdx,
}

impl VpcPeering {
    /// The VPC on the other side from `vpc`, if `vpc` is one of its sides.
    pub fn other_side(&self, vpc: VpcIdx) -> Option<VpcIdx> {
        if vpc == self.requester {
            Some(self.accepter)
        } else if vpc == self.accepter {
            Some(self.requester)
        } else {
            None
        }
    }
}

/// The MAC address vpcsim gives the `i`th ENI: locally administered, unicast.
pub fn eni_mac(i: EniIdx) -> [u8; 6] {
    let b = i.0.to_be_bytes();
    [0x02, 0x00, b[0], b[1], b[2], b[3]]
}

/// The MAC address of the VPC router's interface in the `i`th subnet.
pub fn router_mac(i: SubnetIdx) -> [u8; 6] {
    let b = i.0.to_be_bytes();
    [0x02, 0x01, b[0], b[1], b[2], b[3]]
}

/// The IP MTU of an ENI unless the scenario says otherwise.
pub const DEFAULT_MTU: u16 = 1500;
/// The MTU of a NAT gateway's ENI (AWS: up to 8500 bytes through it).
pub const NAT_GATEWAY_MTU: u16 = 8500;
/// The path MTU through an internet gateway (and so to anything on the internet).
pub const INTERNET_GATEWAY_MTU: u16 = 1500;
/// The MTU of an inter-Region VPC peering connection (EC2 User Guide, network
/// MTU); within a Region a peering carries jumbo frames.
pub const INTER_REGION_PEERING_MTU: u16 = 8500;

/// The MAC address of the internet's router, as internet hosts see it.
pub const INTERNET_ROUTER_MAC: [u8; 6] = [0x02, 0x02, 0, 0, 0, 1];

mod transit;
pub use transit::{
    DnsRecord, DnsRecordData, DnsZone, DnsZoneIdx, OnPrem, OnPremIdx, TRANSIT_GATEWAY_MTU, TgwAttachment,
    TgwAttachmentIdx, TgwAttachmentKind, TgwRoute, TgwRouteOrigin, TgwRouteTable, TgwRouteTableIdx, TgwRouteTarget,
    TransitGateway, TransitGatewayIdx, VPN_MTU, VpnConnection, VpnConnectionIdx, VpnGateway, VpnGatewayIdx, VpnKind,
    VpnTerminal, onprem_router_mac,
};
