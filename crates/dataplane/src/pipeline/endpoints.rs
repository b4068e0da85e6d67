//! Interface endpoints (PrivateLink consumers), both ways: a packet that
//! passed an endpoint ENI's security groups goes to the service (an AWS
//! service's front door, or an endpoint service's load balancer node), both
//! ends rewritten; the service's reply is rewritten back and leaves the
//! endpoint ENI into the consumer's VPC. The endpoints' states and flows are
//! `state::endpoints`.

use std::net::IpAddr;

use vpcsim_model::{
    EndpointState, EndpointTarget, EniIdx, INTERNET_ROUTER_MAC, InterfaceEndpointIdx, LoadBalancerIdx, Protocol,
};

use super::cx::{Cx, Hop, Next, Rewrite, drop};
use crate::state::endpoints::EndpointFlow;
use crate::trace::{Component, DropReason};
use crate::wire::packet::Meta;

impl Cx<'_> {
    /// Through an interface endpoint to its service: Available and TCP only;
    /// both ends rewritten (see `endpoints`). An AWS service is reached at its
    /// front door; an endpoint service through its load balancer's node in the
    /// ENI's AZ, to a healthy target chosen per flow.
    pub(crate) fn interface_endpoint_in(&mut self, meta: &mut Meta, ep: InterfaceEndpointIdx, eni: EniIdx) -> Hop {
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
                self.rewrite_traced(meta, Rewrite::Ends { at, src: (via, port), dst: far });
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
                        let enabled = |e: EniIdx| lb.nodes.iter().any(|&n| az(n) == az(e));
                        // AWS: when every target fails its health checks in all
                        // enabled AZs, the load balancer fails open, to all
                        // targets in all enabled AZs whatever their health.
                        let fail_open = listener.targets.iter().all(|h| down.contains(h));
                        let pool: Vec<EniIdx> = listener
                            .targets
                            .iter()
                            .filter(|h| fail_open || !down.contains(h))
                            .map(|&h| t.host(h).eni)
                            .filter(|&e| if fail_open { enabled(e) } else { lb.cross_zone || az(e) == az(node) })
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
                self.rewrite_traced(meta, Rewrite::Ends { at: lb_at, src: (node_ip, port), dst: far });
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
        };
        self.endpoints.allocate((eni, meta.proto, meta.src, meta.src_port, meta.dst_port), far, flow, self.now)
    }

    /// A service's reply through an interface endpoint: rewritten back, then
    /// sent into the VPC by the endpoint's ENI.
    pub(crate) fn interface_endpoint_back(&mut self, meta: &mut Meta, flow: EndpointFlow) -> Hop {
        let t = self.t;
        let at = Component::InterfaceEndpoint(flow.endpoint);
        self.cross(at);
        if self.endpoints.states[flow.endpoint.index()] != EndpointState::Available {
            return Err(drop(DropReason::EndpointNotAvailable, at));
        }
        self.rewrite_traced(meta, Rewrite::Ends { at, src: flow.local, dst: flow.client });
        let Some(subnet) = t.eni(flow.eni).subnet() else {
            return Err(drop(DropReason::NoDestination, at));
        };
        Ok(Next::Sent { eni: flow.eni, subnet })
    }
}
