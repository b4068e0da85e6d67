//! The flows the gateways remember so that replies find their way back:
//! a gateway endpoint's (to its service and back) and an egress-only
//! internet gateway's (out to the internet, and only replies in).

use std::net::IpAddr;
use std::time::Duration;

use rustc_hash::FxHashMap;
use vpcsim_model::{EgressOnlyIgwIdx, GatewayEndpointIdx, VpcIdx};

/// A flow that a gateway endpoint carried to its service: the service's replies
/// (to a private address) find their way back through it. Keyed by (protocol,
/// service address, service port, client address, client port).
pub(crate) type GatewayFlowKey = (u8, IpAddr, u16, IpAddr, u16);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct GatewayFlow {
    pub(crate) endpoint: GatewayEndpointIdx,
    pub(crate) vpc: VpcIdx,
    pub(crate) expires: Duration,
}

/// How long a gateway endpoint remembers an idle flow.
pub(crate) const GATEWAY_FLOW_IDLE: Duration = Duration::from_secs(350);

/// How long an egress-only internet gateway remembers an idle flow.
pub const EGRESS_ONLY_IDLE: Duration = Duration::from_secs(350);
/// The bound on flows remembered by the egress-only internet gateways of a fabric.
pub const EGRESS_ONLY_CAPACITY: usize = 1 << 20;

/// A flow an egress-only internet gateway carried out, keyed from inside:
/// (protocol, inside address, inside port, remote address, remote port).
type EgressKey = (u8, IpAddr, u16, IpAddr, u16);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EgressFlow {
    pub gateway: EgressOnlyIgwIdx,
    pub expires: Duration,
}

/// The flows of every egress-only internet gateway.
#[derive(Clone, Debug, Default)]
pub struct EgressFlows {
    flows: FxHashMap<EgressKey, EgressFlow>,
}

impl EgressFlows {
    pub fn clear(&mut self) {
        self.flows.clear();
    }

    pub fn len(&self) -> usize {
        self.flows.len()
    }

    pub fn is_empty(&self) -> bool {
        self.flows.is_empty()
    }

    /// Remembers a flow going out; `false` when the table is full of live flows.
    pub(crate) fn open(&mut self, key: EgressKey, gateway: EgressOnlyIgwIdx, now: Duration) -> bool {
        if self.flows.len() >= EGRESS_ONLY_CAPACITY && !self.flows.contains_key(&key) {
            self.flows.retain(|_, f| f.expires > now);
            if self.flows.len() >= EGRESS_ONLY_CAPACITY {
                return false;
            }
        }
        self.flows.insert(key, EgressFlow { gateway, expires: now + EGRESS_ONLY_IDLE });
        true
    }

    /// The live flow a packet coming in answers, kept alive.
    pub(crate) fn answer(&mut self, key: EgressKey, now: Duration) -> Option<EgressFlow> {
        let flow = self.flows.get_mut(&key)?;
        if flow.expires <= now {
            self.flows.remove(&key);
            return None;
        }
        flow.expires = now + EGRESS_ONLY_IDLE;
        Some(*flow)
    }
}
