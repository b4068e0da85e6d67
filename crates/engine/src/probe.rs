//! Probes: one connection attempt (TCP handshake, UDP echo, ICMP echo) from a
//! host's real stack, in a simulation of its own, and what the data plane
//! recorded on the way: the first drop, the leg it died on, the components
//! the forward leg crossed, the source address the destination saw.

use std::fmt::Write as _;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use vpcsim_dataplane::packet::Meta;
use vpcsim_dataplane::{Compiled, Component, Verdict};
use vpcsim_hosts::ProbeStatus;
use vpcsim_model::{
    Destination, DropReason, EniIdx, Expectation, ExpectedResult, HostIdx, Leg, Protocol, Request, Topology,
};

use crate::services;
use crate::sim::{Record, Sim, SimConfig};
use vpcsim_model::limits::sim_add;

/// What to try.
#[derive(Clone, Debug)]
pub struct ProbeSpec {
    /// The host that sends the probe.
    pub from: HostIdx,
    /// An address, a host or a DNS name the probe goes to.
    pub to: Destination,
    /// Tcp, Udp, Icmp or Icmpv6.
    pub proto: Protocol,
    /// TCP or UDP destination port; `None` for ICMP.
    pub port: Option<u16>,
    /// Simulated time at which the probe starts.
    pub at: Duration,
    /// How long the probe waits for an answer before it counts as timed out.
    pub timeout: Duration,
    /// UDP: the payload size (default: a short probe message).
    pub size: Option<usize>,
    /// TCP to an AWS service: the request sent once connected.
    pub request: Option<Request>,
}

impl From<&Expectation> for ProbeSpec {
    fn from(e: &Expectation) -> ProbeSpec {
        ProbeSpec {
            from: e.from,
            to: e.to.clone(),
            proto: e.proto,
            port: e.port,
            at: e.at,
            timeout: e.timeout,
            size: e.size,
            request: e.request.clone(),
        }
    }
}

/// Why `from` cannot send to `dest` at all, if it cannot.
pub(crate) fn unsendable(t: &Topology, from: HostIdx, dest: IpAddr) -> Option<DropReason> {
    if vpcsim_model::unusable_destination(dest).is_some() {
        return Some(DropReason::NotUnicast);
    }
    let eni = t.eni(t.host(from).eni);
    let has_family = match dest {
        IpAddr::V4(_) => !eni.ipv4.is_unspecified(),
        IpAddr::V6(_) => eni.ipv6.is_some(),
    };
    (!has_family).then_some(DropReason::NoAddressFamily)
}

/// The first drop a probe met.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ObservedDrop {
    /// A data-plane drop reason, or one of the probe's own.
    pub reason: DropReason,
    /// The component that dropped it, when the trace names one.
    pub at: Option<Component>,
    /// The way the dropped packet was going: out to the destination or back.
    pub leg: Leg,
}

/// What a probe found.
pub struct ProbeOutcome {
    /// The topology the probe ran in.
    pub topology: Arc<Topology>,
    /// What was tried.
    pub spec: ProbeSpec,
    /// The address the probe went to; `None` when the name did not resolve.
    pub dest: Option<IpAddr>,
    /// Reachable, refused, dropped or timed out.
    pub result: ExpectedResult,
    /// The first drop met, if any.
    pub drop: Option<ObservedDrop>,
    /// Components the forward leg crossed, in order (the one that dropped it
    /// included).
    pub crossed: Vec<Component>,
    /// The source address the destination saw.
    pub seen_source: Option<IpAddr>,
    /// Every frame of the probe, in order, up to `SimConfig::max_records`.
    pub records: Vec<Record>,
    /// Frames of the probe past `SimConfig::max_records`, simulated but not kept.
    pub truncated: u64,
}

/// Where a probe or flow goes, from the source host's point of view.
pub(crate) fn resolve(t: &Topology, to: &Destination, proto: Protocol) -> Option<IpAddr> {
    match to {
        Destination::Host(h) => {
            let eni = t.eni(t.host(*h).eni);
            match proto {
                Protocol::Icmpv6 => eni.ipv6.map(IpAddr::V6),
                _ => Some(IpAddr::V4(eni.ipv4)),
            }
        }
        Destination::Ip(ip) => Some(*ip),
        // The VPC resolver arrives with the AWS-services issue; until then no
        // name resolves.
        Destination::Name(_) => None,
    }
}

/// Runs one probe in a fresh simulation: no state shared with any other.
pub fn run_probe(topology: Arc<Topology>, spec: &ProbeSpec, config: SimConfig) -> ProbeOutcome {
    run_probe_on(&Compiled::new(topology), spec, config)
}

/// Runs one probe in a fresh simulation of a topology compiled already: the
/// compiled tables are shared, every state (flows, endpoints, hosts) is the
/// probe's own.
pub fn run_probe_on(compiled: &Arc<Compiled>, spec: &ProbeSpec, config: SimConfig) -> ProbeOutcome {
    let topology = Arc::clone(compiled.topology());
    let mut outcome = ProbeOutcome {
        topology: Arc::clone(&topology),
        spec: spec.clone(),
        dest: resolve(&topology, &spec.to, spec.proto),
        result: ExpectedResult::Dropped,
        drop: None,
        crossed: Vec::new(),
        seen_source: None,
        records: Vec::new(),
        truncated: 0,
    };
    let mut sim = if config.boot_every_host { Sim::booted(compiled, config) } else { Sim::on(compiled, config) };
    sim.run_until(spec.at);
    // Only the probe's own frames count.
    sim.records.clear();
    sim.truncated = 0;
    let from = spec.from;
    let source_eni = topology.host(from).eni;
    let deadline = sim_add(spec.at, spec.timeout);
    if outcome.dest.is_none()
        && let Destination::Name(name) = &spec.to
    {
        // Resolved from the source host, by its own stack, through its resolver.
        let v6 = spec.proto == Protocol::Icmpv6 || topology.eni(source_eni).ipv4.is_unspecified();
        outcome.dest = sim.resolve(from, name, v6, deadline);
    }
    let Some(dest) = outcome.dest else {
        outcome.drop = Some(ObservedDrop { reason: DropReason::Nxdomain, at: None, leg: Leg::Forward });
        outcome.records = std::mem::take(&mut sim.records);
        outcome.truncated = sim.truncated;
        return outcome;
    };
    if let Some(reason) = unsendable(&topology, from, dest) {
        // The stack would refuse to send: dropped at the source's own ENI.
        let at = Some(Component::Eni(source_eni));
        outcome.drop = Some(ObservedDrop { reason, at, leg: Leg::Forward });
        outcome.records = std::mem::take(&mut sim.records);
        outcome.truncated = sim.truncated;
        return outcome;
    }
    let port = spec.port.unwrap_or(0);
    let probe = sim.with_host(from, |host, now| match spec.proto {
        Protocol::Tcp => host.tcp_connect(dest, port),
        Protocol::Udp => match spec.size {
            Some(n) => host.udp_probe(dest, port, &vec![0x5a; n]),
            None => host.udp_probe(dest, port, b"vpcsim probe"),
        },
        _ => host.ping(now, dest),
    });
    sim.run_until_or(deadline, |s| s.host(from).probe_status(probe) != ProbeStatus::Pending);
    let status = sim.host(from).probe_status(probe);
    outcome.result = match status {
        ProbeStatus::Connected => ExpectedResult::Connected,
        ProbeStatus::Refused => ExpectedResult::Refused,
        ProbeStatus::Replied => ExpectedResult::Replied,
        _ => ExpectedResult::Dropped,
    };
    if status == ProbeStatus::Connected {
        match &spec.request {
            Some(request) => {
                // Sent once connected; the service's status line decides.
                let principal = request.principal.clone().unwrap_or_else(|| default_principal(&topology, from));
                let bytes = services::request_bytes(&host_label(&topology, &spec.to, dest), &principal, request);
                sim.with_host(from, |h, _| h.tcp_send(probe, &bytes));
                sim.run_until_or(deadline, |s| services::status_code(s.host(from).tcp_received(probe)).is_some());
                outcome.result = match services::status_code(sim.host(from).tcp_received(probe)) {
                    Some(403) => ExpectedResult::Denied,
                    Some(_) => ExpectedResult::Connected,
                    // Connected, but no answer in time.
                    None => ExpectedResult::Dropped,
                };
            }
            None => {
                // Let the handshake's last ACK reach the server.
                let settle = sim_add(sim.now(), sim.hop_latency().saturating_mul(4));
                sim.run_until(settle);
            }
        }
    }
    outcome.records = std::mem::take(&mut sim.records);
    outcome.truncated = sim.truncated;
    analyse(&mut outcome, source_eni);
    if outcome.result == ExpectedResult::Dropped && outcome.drop.is_none() {
        // Every `dropped` says why: here, that no answer came in time.
        outcome.drop = Some(ObservedDrop { reason: DropReason::Timeout, at: None, leg: Leg::Forward });
    }
    outcome
}

/// The source VPC's account root: who asks when a request names nobody.
fn default_principal(t: &Topology, from: HostIdx) -> String {
    let account = match t.eni(t.host(from).eni).attachment {
        vpcsim_model::Attachment::Subnet(s) => t.vpc(t.subnet(s).vpc).account.clone(),
        vpcsim_model::Attachment::Internet | vpcsim_model::Attachment::OnPrem(_) => {
            vpcsim_model::DEFAULT_ACCOUNT.to_string()
        }
    };
    format!("arn:aws:iam::{account}:root")
}

/// The `Host` header: the name asked for, or the address.
fn host_label(t: &Topology, to: &Destination, dest: IpAddr) -> String {
    match to {
        Destination::Name(n) => n.clone(),
        Destination::Host(h) => t.host(*h).id.clone(),
        Destination::Ip(_) => dest.to_string(),
    }
}

/// A packet's flow, to follow it from one hop to the next.
type FlowKey = (u8, IpAddr, u16, IpAddr, u16);

fn flow_key(m: &Meta) -> FlowKey {
    (m.proto, m.src, m.src_port, m.dst, m.dst_port)
}

/// The leg of each record: a frame the source host sends is the forward leg.
/// A frame that a middlebox forwards, or an appliance hands back to a Gateway
/// Load Balancer, carries on the leg of the packet that reached it (followed
/// by its flow, so whatever a NAT gateway did before does not matter). Any
/// other frame is the return leg.
pub fn legs(t: &Topology, records: &[Record], source: EniIdx) -> Vec<Leg> {
    let mut reached: std::collections::HashMap<(EniIdx, FlowKey), Leg> = std::collections::HashMap::new();
    let mut out = Vec::with_capacity(records.len());
    for r in records {
        let decapsulated = r.steps.iter().find_map(|s| match s {
            vpcsim_dataplane::Step::Decapsulated { inner, .. } => Some(*inner),
            _ => None,
        });
        let forwarded = r.packet.filter(|m| t.eni(r.from).forwards(m.src));
        let leg = if r.from == source {
            Leg::Forward
        } else if let Some(inner) = decapsulated {
            reached.get(&(r.from, flow_key(&inner))).copied().unwrap_or(if t.eni(source).owns(inner.src) {
                Leg::Forward
            } else {
                Leg::Return
            })
        } else if let Some(m) = forwarded {
            reached.get(&(r.from, flow_key(&m))).copied().unwrap_or(Leg::Return)
        } else {
            Leg::Return
        };
        if let (Verdict::Deliver(to), Some(m)) = (r.verdict, r.delivered) {
            reached.insert((to, flow_key(&m)), leg);
        }
        for s in &r.steps {
            if let vpcsim_dataplane::Step::Encapsulated { appliance, inner, .. } = s {
                reached.insert((*appliance, flow_key(inner)), leg);
            }
        }
        out.push(leg);
    }
    out
}

fn analyse(outcome: &mut ProbeOutcome, source: EniIdx) {
    let t = Arc::clone(&outcome.topology);
    let legs = legs(&t, &outcome.records, source);
    for (r, &leg) in outcome.records.iter().zip(&legs) {
        // A frame delivered to an appliance wrapped in GENEVE is not what the
        // destination saw.
        let wrapped = r.steps.iter().any(|s| matches!(s, vpcsim_dataplane::Step::Encapsulated { .. }));
        if leg == Leg::Forward {
            for c in r.crossed() {
                if !outcome.crossed.contains(&c) {
                    outcome.crossed.push(c);
                }
            }
            if let Some(d) = r.verdict.dropped()
                && !outcome.crossed.contains(&d.at)
            {
                outcome.crossed.push(d.at);
            }
            // What the destination saw: the first frame delivered to the
            // ENI it was for (not to a middlebox on the way).
            if outcome.seen_source.is_none()
                && !wrapped
                && let (Verdict::Deliver(to), Some(m)) = (r.verdict, r.delivered)
                && t.eni(to).owns(m.dst)
            {
                outcome.seen_source = Some(m.src);
            }
        }
        if outcome.drop.is_none()
            && let Some(d) = r.verdict.dropped()
        {
            outcome.drop = Some(ObservedDrop { reason: d.reason, at: Some(d.at), leg });
        }
        // A request the endpoint policy denied: delivered, then refused.
        for step in &r.steps {
            if let (None, vpcsim_dataplane::Step::EndpointPolicy { endpoint, allowed: false, .. }) =
                (&outcome.drop, step)
            {
                outcome.drop =
                    Some(ObservedDrop { reason: DropReason::EndpointPolicy, at: Some(*endpoint), leg: Leg::Forward });
            }
        }
    }
}

impl ProbeOutcome {
    /// Whether `ids` appear, in order, among the components the forward leg
    /// crossed.
    pub fn crossed_in_order(&self, ids: &[String]) -> bool {
        let mut crossed = self.crossed.iter();
        ids.iter().all(|id| crossed.any(|c| c.answers_to(&self.topology, id)))
    }

    /// One line: the result and, for a drop, where and why.
    pub fn summary(&self) -> String {
        let mut s = self.result.as_str().to_string();
        if matches!(self.result, ExpectedResult::Dropped | ExpectedResult::Denied)
            && let Some(d) = &self.drop
        {
            let _ = write!(s, " ({}", d.reason);
            if let Some(at) = d.at {
                let _ = write!(s, " at {}", at.id(&self.topology));
            }
            let leg = if d.leg == Leg::Forward { "forward" } else { "return" };
            let _ = write!(s, ", {leg} leg)");
        }
        if self.truncated > 0 {
            let _ = write!(
                s,
                "; {} more frames not recorded (only the first {} are kept)",
                self.truncated,
                self.records.len()
            );
        }
        s
    }

    /// The probe's story, frame by frame, for a learner.
    pub fn render(&self) -> String {
        let t = &self.topology;
        let mut s = String::new();
        let from = &t.host(self.spec.from).id;
        let to = match (&self.spec.to, self.dest) {
            (Destination::Host(h), Some(ip)) => format!("{} ({ip})", t.host(*h).id),
            (Destination::Name(n), Some(ip)) => format!("{n} ({ip})"),
            (Destination::Name(n), None) => format!("{n} (does not resolve)"),
            (_, Some(ip)) => ip.to_string(),
            (Destination::Host(h), None) => t.host(*h).id.clone(),
            (Destination::Ip(ip), None) => ip.to_string(),
        };
        let port = self.spec.port.map(|p| format!(" port {p}")).unwrap_or_default();
        let _ = writeln!(
            s,
            "probe: {} from {from} to {to}{port} at {} (timeout {})",
            self.spec.proto,
            seconds(self.spec.at),
            seconds(self.spec.timeout)
        );
        let _ = writeln!(s, "result: {}", self.summary());
        let source = t.host(self.spec.from).eni;
        for (r, leg) in self.records.iter().zip(legs(t, &self.records, source)) {
            let arrow = if leg == Leg::Forward { "→ forward" } else { "← return" };
            let _ = writeln!(s, "  {:>10.6}s {arrow}", r.time.as_secs_f64());
            for step in &r.steps {
                let _ = writeln!(s, "      {}", step.render(t));
            }
        }
        s
    }
}

/// "0s", "1.5s", "0.0001s": simulated time for people.
pub(crate) fn seconds(d: Duration) -> String {
    let s = format!("{:.6}", d.as_secs_f64());
    let s = s.trim_end_matches('0').trim_end_matches('.');
    format!("{s}s")
}
