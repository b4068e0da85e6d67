//! The fabric: the topology compiled for forwarding, its state, and the
//! entry point of the one pipeline.
//!
//! [`Fabric::process`] takes a frame that an ENI sent and returns what happens to
//! it: delivered at an ENI (rewritten in `out`), answered (ARP, DNS), or
//! dropped with a reason and the component that dropped it, and, when asked,
//! the trace of every decision. The stages it runs, in AWS's order, are the
//! arms of the loop in `pipeline` (`Cx::run`).
//!
//! It reads no clock (`now` is passed in) and does no I/O.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use vpcsim_model::{EndpointState, EniIdx, GatewayEndpointIdx, InterfaceEndpointIdx, Topology};

use crate::pipeline::{Cx, Verdict};
use crate::state::addresses::Addresses;
use crate::state::conntrack::Conntrack;
use crate::state::counters::Counters;
use crate::state::endpoints::Endpoints;
use crate::state::fib::Fib;
use crate::state::filter::Filters;
use crate::state::flows::{EgressFlows, GATEWAY_FLOW_IDLE, GatewayFlows};
use crate::state::nat::NatTable;
use crate::state::transit::Transit;
use crate::trace::{Component, Trace};

/// An endpoint a connection came through, whose policy applies.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EndpointRef {
    /// A gateway endpoint (S3, DynamoDB): a route-table target in the VPC.
    Gateway(GatewayEndpointIdx),
    /// An interface endpoint (PrivateLink): ENIs in the consumer's subnets.
    Interface(InterfaceEndpointIdx),
}

impl EndpointRef {
    /// The endpoint as the part of the fabric that traces and drops name.
    pub fn component(self) -> Component {
        match self {
            EndpointRef::Gateway(g) => Component::GatewayEndpoint(g),
            EndpointRef::Interface(i) => Component::InterfaceEndpoint(i),
        }
    }
}

/// A topology compiled for forwarding: route tables, NACLs and security
/// groups, address owners. Read-only, so one is built per topology and shared
/// (`Arc`) by every [`Fabric`] of it: one per probe, one per worker thread.
#[derive(Debug)]
pub struct Compiled {
    topology: Arc<Topology>,
    /// One per route table, same index.
    fibs: Vec<Fib>,
    /// Every NACL and security group, compiled for matching.
    filters: Filters,
    addresses: Addresses,
    /// Transit gateway route tables, indexed, and VPC attachments.
    transit: Transit,
}

impl Compiled {
    /// Compiles `topology`. The IPv4 route tables lay their lookup structure
    /// out at their first lookup, so a route table no packet meets costs
    /// little.
    pub fn new(topology: Arc<Topology>) -> Arc<Compiled> {
        let fibs = topology.route_tables.iter().map(|rt| Fib::compile(&topology, rt)).collect();
        let addresses = Addresses::new(&topology);
        let filters = Filters::compile(&topology);
        let transit = Transit::compile(&topology);
        Arc::new(Compiled { topology, fibs, filters, addresses, transit })
    }

    /// The topology compiled.
    pub fn topology(&self) -> &Arc<Topology> {
        &self.topology
    }
}

/// The fabric: a compiled topology (shared) and the state of one simulation
/// of it: flow tables, endpoint states, counters.
#[derive(Clone, Debug)]
pub struct Fabric {
    compiled: Arc<Compiled>,
    conntrack: Conntrack,
    gateway_flows: GatewayFlows,
    endpoints: Endpoints,
    counters: Counters,
    nat: NatTable,
    egress_flows: EgressFlows,
}

impl Fabric {
    /// Compiles a topology (route tables, NACLs and security groups, address
    /// owners) with empty flow tables and counters.
    pub fn new(topology: Arc<Topology>) -> Fabric {
        Fabric::on(&Compiled::new(topology))
    }

    /// A fabric of a topology compiled already: empty flow tables and
    /// counters, every endpoint in the state its scenario gives. Costs time in
    /// proportion to the endpoints and internet gateways, not to the network.
    pub fn on(compiled: &Arc<Compiled>) -> Fabric {
        let topology = &compiled.topology;
        Fabric {
            endpoints: Endpoints::new(topology),
            compiled: Arc::clone(compiled),
            conntrack: Conntrack::default(),
            gateway_flows: GatewayFlows::new(GATEWAY_FLOW_IDLE),
            counters: Counters::default(),
            nat: NatTable::default(),
            egress_flows: EgressFlows::default(),
        }
    }

    /// The compiled topology this fabric runs.
    pub fn compiled(&self) -> &Arc<Compiled> {
        &self.compiled
    }

    /// Limits NAT gateways to `per_destination` simultaneous connections per
    /// destination (AWS: 55,000), e.g. to meet the limit in a test.
    #[doc(hidden)]
    pub fn with_nat_limit(mut self, per_destination: u32) -> Fabric {
        self.nat = NatTable::new(per_destination, crate::state::nat::DEFAULT_CAPACITY);
        self
    }

    #[doc(hidden)]
    pub fn nat_table(&self) -> &NatTable {
        &self.nat
    }

    /// Bounds connection tracking at `capacity` flows.
    #[doc(hidden)]
    pub fn with_conntrack_capacity(mut self, capacity: usize) -> Fabric {
        self.conntrack = Conntrack::with_capacity(capacity);
        self
    }

    /// The VPC topology this fabric was compiled from.
    pub fn topology(&self) -> &Arc<Topology> {
        &self.compiled.topology
    }

    /// The frame counts since the fabric was made.
    pub fn counters(&self) -> &Counters {
        &self.counters
    }

    #[doc(hidden)]
    pub fn conntrack(&self) -> &Conntrack {
        &self.conntrack
    }

    /// The policy attached to an endpoint, if any.
    pub fn endpoint_policy(&self, endpoint: EndpointRef) -> Option<&vpcsim_policy::Policy> {
        match endpoint {
            EndpointRef::Gateway(g) => self.compiled.topology.gateway_endpoint(g).policy.as_ref(),
            EndpointRef::Interface(i) => self.compiled.topology.interface_endpoint(i).policy.as_ref(),
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
        if let Some(f) = self.endpoints.by_service.peek(&(proto, service.0, service.1, client.1))
            && self.compiled.topology.eni(f.eni).owns(client.0)
        {
            return Some(EndpointRef::Interface(f.endpoint));
        }
        self.gateway_endpoint_of(proto, service, client).map(EndpointRef::Gateway)
    }

    /// The gateway endpoint that carried a connection to a service, as the
    /// service sees it: (protocol, its own address and port, the client's).
    #[doc(hidden)]
    pub fn gateway_endpoint_of(
        &self,
        proto: u8,
        service: (IpAddr, u16),
        client: (IpAddr, u16),
    ) -> Option<GatewayEndpointIdx> {
        self.gateway_flows.peek(&(proto, service.0, service.1, client.0, client.1)).map(|f| f.endpoint)
    }

    /// Whether the endpoint policy of `endpoint` lets `request` through (AWS's
    /// default full-access policy when none is attached). On a gateway
    /// endpoint an account principal grants the account's root user only.
    pub fn authorize(&self, endpoint: EndpointRef, request: &vpcsim_policy::Request) -> vpcsim_policy::Decision {
        let accounts = match endpoint {
            EndpointRef::Gateway(_) => vpcsim_policy::Accounts::RootUserOnly,
            EndpointRef::Interface(_) => vpcsim_policy::Accounts::EveryPrincipal,
        };
        match self.endpoint_policy(endpoint) {
            Some(policy) => policy.evaluate_as(request, accounts),
            None => vpcsim_policy::Policy::allow_all().evaluate(request),
        }
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
        let Fabric { compiled, conntrack, gateway_flows, endpoints, counters, nat, egress_flows } = self;
        counters.received += 1;
        let Compiled { topology, fibs, filters, addresses, transit } = &**compiled;
        let mut cx = Cx {
            t: topology,
            fibs,
            filters,
            addresses,
            transit,
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
            endpoint_flow: None,
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
            }
        }
        verdict
    }
}
