//! Probes: one connection attempt (TCP handshake, UDP echo, ICMP echo) from a
//! host's real stack, in a simulation of its own, and what the data plane
//! recorded on the way: the first drop, the leg it died on, the components
//! the forward leg crossed, the source address the destination saw.

use std::fmt::Write as _;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use vpcsim_dataplane::{Component, Verdict};
use vpcsim_hosts::ProbeStatus;
use vpcsim_model::{Destination, EniIdx, Expectation, ExpectedResult, HostIdx, Leg, Protocol, Request, Topology};

use crate::services;
use crate::sim::{Record, Sim, SimConfig};

/// What to try.
#[derive(Clone, Debug)]
pub struct ProbeSpec {
    pub from: HostIdx,
    pub to: Destination,
    /// Tcp, Udp, Icmp or Icmpv6.
    pub proto: Protocol,
    pub port: Option<u16>,
    pub at: Duration,
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

/// The first drop a probe met.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ObservedDrop {
    /// A data-plane drop reason, or `nxdomain`.
    pub reason: String,
    pub at: Option<Component>,
    pub leg: Leg,
}

/// What a probe found.
pub struct ProbeOutcome {
    pub topology: Arc<Topology>,
    pub spec: ProbeSpec,
    /// The address the probe went to; `None` when the name did not resolve.
    pub dest: Option<IpAddr>,
    pub result: ExpectedResult,
    pub drop: Option<ObservedDrop>,
    /// Components the forward leg crossed, in order (the one that dropped it
    /// included).
    pub crossed: Vec<Component>,
    /// The source address the destination saw.
    pub seen_source: Option<IpAddr>,
    /// Every frame of the probe, in order.
    pub records: Vec<Record>,
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
    let mut outcome = ProbeOutcome {
        topology: Arc::clone(&topology),
        spec: spec.clone(),
        dest: resolve(&topology, &spec.to, spec.proto),
        result: ExpectedResult::Dropped,
        drop: None,
        crossed: Vec::new(),
        seen_source: None,
        records: Vec::new(),
    };
    let mut sim = Sim::new(Arc::clone(&topology), config);
    sim.run_until(spec.at);
    // Only the probe's own frames count.
    sim.records.clear();
    let from = spec.from;
    let source_eni = topology.host(from).eni;
    let deadline = spec.at + spec.timeout;
    if outcome.dest.is_none()
        && let Destination::Name(name) = &spec.to
    {
        // Resolved from the source host, by its own stack, through its resolver.
        let v6 = spec.proto == Protocol::Icmpv6 || topology.eni(source_eni).ipv4.is_unspecified();
        outcome.dest = sim.resolve(from, name, v6, deadline);
    }
    let Some(dest) = outcome.dest else {
        outcome.drop = Some(ObservedDrop { reason: "nxdomain".into(), at: None, leg: Leg::Forward });
        outcome.records = std::mem::take(&mut sim.records);
        return outcome;
    };
    let port = spec.port.unwrap_or(0);
    let probe = sim.with_host(from, |host, now| match spec.proto {
        Protocol::Tcp => host.tcp_connect(now, dest, port),
        Protocol::Udp => match spec.size {
            Some(n) => host.udp_probe(now, dest, port, &vec![0x5a; n]),
            None => host.udp_probe(now, dest, port, b"vpcsim probe"),
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
                let settle = sim.now() + sim.hop_latency() * 4;
                sim.run_until(settle);
            }
        }
    }
    outcome.records = std::mem::take(&mut sim.records);
    analyse(&mut outcome, source_eni);
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

/// The leg a frame belongs to: sent by the source host, forward; by anyone
/// else, return. A frame an appliance hands back to a Gateway Load Balancer
/// belongs to the leg of the packet inside it, one a middlebox forwards to
/// the leg of the packet it forwards.
fn leg(t: &Topology, record: &Record, source: EniIdx) -> Leg {
    let decapsulated = record.steps.iter().find_map(|s| match s {
        vpcsim_dataplane::Step::Decapsulated { inner, .. } => Some(inner.src),
        _ => None,
    });
    let forward = match decapsulated {
        Some(src) => t.eni(source).owns(src),
        None => {
            let forwarded =
                !t.eni(record.from).source_dest_check && !record.packet.is_some_and(|m| t.eni(record.from).owns(m.src));
            record.from == source || (forwarded && record.packet.is_some_and(|m| t.eni(source).owns(m.src)))
        }
    };
    if forward { Leg::Forward } else { Leg::Return }
}

fn analyse(outcome: &mut ProbeOutcome, source: EniIdx) {
    let t = Arc::clone(&outcome.topology);
    for r in &outcome.records {
        let leg = leg(&t, r, source);
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
            if outcome.seen_source.is_none()
                && !wrapped
                && let (Verdict::Deliver(_), Some(m)) = (r.verdict, r.delivered)
            {
                outcome.seen_source = Some(m.src);
            }
        }
        if outcome.drop.is_none()
            && let Some(d) = r.verdict.dropped()
        {
            outcome.drop = Some(ObservedDrop { reason: d.reason.as_str().into(), at: Some(d.at), leg });
        }
        // A request the endpoint policy denied: delivered, then refused.
        for step in &r.steps {
            if let (None, vpcsim_dataplane::Step::EndpointPolicy { endpoint, allowed: false, .. }) =
                (&outcome.drop, step)
            {
                outcome.drop = Some(ObservedDrop {
                    reason: vpcsim_dataplane::DropReason::EndpointPolicy.as_str().into(),
                    at: Some(*endpoint),
                    leg: Leg::Forward,
                });
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
        for r in &self.records {
            let arrow = if leg(t, r, source) == Leg::Forward { "→ forward" } else { "← return" };
            let _ = writeln!(s, "  {:>10.6}s {arrow}", r.time.as_secs_f64());
            for step in &r.steps {
                let _ = writeln!(s, "      {}", step.render(t));
            }
        }
        s
    }
}

/// "0s", "1.5s", "0.0001s": simulated time for people.
pub fn seconds(d: Duration) -> String {
    let s = format!("{:.6}", d.as_secs_f64());
    let s = s.trim_end_matches('0').trim_end_matches('.');
    format!("{s}s")
}
