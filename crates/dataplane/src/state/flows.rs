//! The flows the gateways remember so that replies find their way back:
//! a gateway endpoint's (to its service and back) and an egress-only
//! internet gateway's (out to the internet, and only replies in).

use std::net::IpAddr;
use std::time::Duration;

use vpcsim_model::{EgressOnlyIgwIdx, GatewayEndpointIdx, VpcIdx};

use super::expiring::ExpiringTable;

/// The key of both tables: (protocol, address, port, address, port), whose
/// ends each table names.
pub(crate) type FlowTuple = (u8, IpAddr, u16, IpAddr, u16);

/// A flow that a gateway endpoint carried to its service: the service's replies
/// (to a private address) find their way back through it. Keyed by (protocol,
/// service address, service port, client address, client port).
pub(crate) type GatewayFlowKey = FlowTuple;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct GatewayFlow {
    pub(crate) endpoint: GatewayEndpointIdx,
    pub(crate) vpc: VpcIdx,
}

/// How long a gateway endpoint remembers an idle flow.
pub(crate) const GATEWAY_FLOW_IDLE: Duration = Duration::from_secs(350);

/// The flows of every gateway endpoint of a fabric. Unbounded and never
/// swept: an expired flow stays until its key is used again.
pub(crate) type GatewayFlows = ExpiringTable<GatewayFlowKey, GatewayFlow>;

/// How long an egress-only internet gateway remembers an idle flow.
pub(crate) const EGRESS_ONLY_IDLE: Duration = Duration::from_secs(350);
/// The bound on flows remembered by the egress-only internet gateways of a fabric.
pub(crate) const EGRESS_ONLY_CAPACITY: usize = 1 << 20;

/// A flow an egress-only internet gateway carried out, keyed from inside:
/// (protocol, inside address, inside port, remote address, remote port).
type EgressKey = FlowTuple;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct EgressFlow {
    pub gateway: EgressOnlyIgwIdx,
}

/// The flows of every egress-only internet gateway.
#[derive(Clone, Debug)]
pub(crate) struct EgressFlows {
    flows: ExpiringTable<EgressKey, EgressFlow>,
}

impl Default for EgressFlows {
    fn default() -> Self {
        EgressFlows { flows: ExpiringTable::new(EGRESS_ONLY_IDLE) }
    }
}

impl EgressFlows {
    /// Remembers a flow going out; `false` when the table is full of live flows.
    pub(crate) fn open(&mut self, key: EgressKey, gateway: EgressOnlyIgwIdx, now: Duration) -> bool {
        if self.flows.len() >= EGRESS_ONLY_CAPACITY && !self.flows.contains_key(&key) {
            self.flows.sweep(now, |_, _| {});
            if self.flows.len() >= EGRESS_ONLY_CAPACITY {
                return false;
            }
        }
        self.flows.insert(key, EgressFlow { gateway }, now);
        true
    }

    /// The live flow a packet coming in answers, kept alive.
    pub(crate) fn answer(&mut self, key: EgressKey, now: Duration) -> Option<EgressFlow> {
        self.flows.touch_or_forget(key, now).copied()
    }
}
