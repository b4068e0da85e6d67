//! Interface endpoints (PrivateLink consumers) in the fabric: state, and the
//! translation that carries a connection from an endpoint ENI to the service.
//!
//! A packet to an endpoint ENI has passed the ENI's security groups; the
//! endpoint (if Available, and for TCP only) rewrites it: the source becomes the
//! ENI's address with a port the endpoint allocates, the destination the
//! service's front door. The service's replies find the flow by that port (the
//! allocator is one per fabric, so a port names one flow whatever VPC it came
//! from: two VPCs on 10.0.0.0/16 never collide) and are rewritten back, then
//! leave the endpoint ENI into the VPC like any packet an ENI sends.

use std::net::IpAddr;
use std::time::Duration;

use rustc_hash::FxHashMap;
use vpcsim_model::{EndpointState, EniIdx, HostIdx, InterfaceEndpointIdx, LoadBalancerIdx, Topology};

use super::expiring::ExpiringTable;

/// How long an idle translated flow is remembered (PrivateLink's idle timeout).
pub(crate) const FLOW_IDLE: Duration = Duration::from_secs(350);
/// Ports the endpoint allocates on the service side.
const FIRST_PORT: u16 = 1024;

/// The client side of a translated flow.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct EndpointFlow {
    pub endpoint: InterfaceEndpointIdx,
    /// The endpoint ENI the client connected to.
    pub eni: EniIdx,
    pub client: (IpAddr, u16),
    /// The ENI's address and port as the client used them.
    pub local: (IpAddr, u16),
    /// The source address the far side sees: the endpoint ENI's (AWS services),
    /// or the load balancer node's (endpoint services).
    pub via: IpAddr,
    /// For endpoint services: the load balancer and its node.
    pub node: Option<(LoadBalancerIdx, EniIdx)>,
}

/// (protocol, service address, service port, allocated port).
pub(crate) type ServiceSideKey = (u8, IpAddr, u16, u16);
/// (endpoint ENI, protocol, client address, client port, ENI port).
pub(crate) type ClientSideKey = (EniIdx, u8, IpAddr, u16, u16);

/// The endpoints' states and translated flows.
#[derive(Clone, Debug)]
pub(crate) struct Endpoints {
    pub states: Vec<EndpointState>,
    /// The translated flows, forgotten after [`FLOW_IDLE`] idle. An expired
    /// flow stays (with its client-side entry) until its port is reused.
    pub by_service: ExpiringTable<ServiceSideKey, EndpointFlow>,
    /// The allocated port and the far side (service or target) of each client
    /// flow: an index into `by_service`, which holds the deadlines.
    pub by_client: FxHashMap<ClientSideKey, (u16, (IpAddr, u16))>,
    next_port: u16,
    /// Load balancer targets that fail their health checks.
    pub targets_down: rustc_hash::FxHashSet<HostIdx>,
    /// Each endpoint service's state.
    pub services: Vec<vpcsim_model::ServiceState>,
}

impl Endpoints {
    pub(crate) fn new(t: &Topology) -> Endpoints {
        Endpoints {
            states: t.interface_endpoints.iter().map(|e| e.state).collect(),
            by_service: ExpiringTable::new(FLOW_IDLE),
            by_client: FxHashMap::default(),
            next_port: FIRST_PORT,
            targets_down: Default::default(),
            services: vec![vpcsim_model::ServiceState::Available; t.endpoint_services.len()],
        }
    }

    /// The port and far side of a client flow already translated, refreshed.
    pub(crate) fn existing(&mut self, client: ClientSideKey, now: Duration) -> Option<(u16, (IpAddr, u16))> {
        let &(port, far) = self.by_client.get(&client)?;
        self.by_service.touch(&(client.1, far.0, far.1, port), now)?;
        Some((port, far))
    }

    /// A new service-side port for a client flow toward `far`. `None` when
    /// every port toward that address and port is taken.
    pub(crate) fn allocate(
        &mut self,
        client: ClientSideKey,
        far: (IpAddr, u16),
        flow: EndpointFlow,
        now: Duration,
    ) -> Option<u16> {
        let span = u32::from(u16::MAX - FIRST_PORT) + 1;
        for _ in 0..span {
            let p = self.next_port;
            self.next_port = if p == u16::MAX { FIRST_PORT } else { p + 1 };
            let key = (client.1, far.0, far.1, p);
            if self.by_service.get_live(&key, now).is_none() {
                if let Some(old) = self.by_service.insert(key, flow, now) {
                    self.by_client.remove(&(old.eni, client.1, old.client.0, old.client.1, old.local.1));
                }
                self.by_client.insert(client, (p, far));
                return Some(p);
            }
        }
        None
    }

    /// The flow a service's packet (from `service`, to `port`) belongs to.
    pub(crate) fn flow_back(
        &mut self,
        proto: u8,
        service: (IpAddr, u16),
        port: u16,
        now: Duration,
    ) -> Option<EndpointFlow> {
        self.by_service.touch(&(proto, service.0, service.1, port), now).copied()
    }
}
