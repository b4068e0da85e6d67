//! `vpcsim run`: the scenario's `[[flow]]`s in one shared simulation, and a
//! summary of what happened to them and in each component.

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use vpcsim_dataplane::{Component, Verdict};
use vpcsim_hosts::{ProbeId, ProbeStatus};
use vpcsim_model::{Destination, DropReason, Flow, Protocol, Topology};

use vpcsim_model::limits::{MAX_SIM_TIME, sim_add};

use crate::probe::{resolve, unsendable};
use crate::sim::{Sim, SimConfig};

/// How long one request of a flow may take before it counts as failed.
pub(crate) const REQUEST_TIMEOUT: Duration = Duration::from_secs(1);
/// What a TCP flow sends once connected.
const REQUEST: &[u8] = b"GET / HTTP/1.1\r\nHost: vpcsim\r\n\r\n";

/// What happened to one flow.
#[derive(Clone, Debug, Default)]
pub struct FlowReport {
    /// The flow's label in the scenario.
    pub label: String,
    /// Requests started (TCP connections, UDP datagrams, pings).
    pub requests: u32,
    /// TCP: connections made; UDP and ICMP: replies.
    pub succeeded: u32,
    /// TCP: answered by a RST.
    pub refused: u32,
    /// TCP: connections not made in time; UDP and ICMP: no reply in time.
    pub failed: u32,
    /// Payload bytes the client sent.
    pub bytes_sent: u64,
    /// Payload bytes the client received.
    pub bytes_received: u64,
    /// Frames of this flow dropped, by reason.
    pub drops: BTreeMap<String, u64>,
}

/// Frames that crossed or were dropped at one component.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ComponentReport {
    /// Frames the component passed on.
    pub forwarded: u64,
    /// Frames the component dropped.
    pub dropped: u64,
}

/// What `vpcsim run` found: every flow, every component, and the simulation it ran.
pub struct RunReport {
    /// The topology the flows ran in.
    pub topology: Arc<Topology>,
    /// One report per flow, in file order.
    pub flows: Vec<FlowReport>,
    /// By component id.
    pub components: BTreeMap<String, ComponentReport>,
    /// Frames through the fabric, recorded or not.
    pub frames: u64,
    /// Frames past `SimConfig::max_records`, not recorded: the per-flow drops and
    /// the component counts leave them out.
    pub truncated: u64,
    /// Simulated time at which the run stopped.
    pub ended_at: Duration,
    /// The simulation as it ended (records, captures, timeline).
    pub sim: Sim,
}

struct FlowState<'f> {
    flow: &'f Flow,
    dest: Option<IpAddr>,
    done: u32,
    active: Option<(ProbeId, Duration, bool)>,
    ports: BTreeSet<u16>,
    report: FlowReport,
}

/// Runs every flow to completion (or its requests' timeouts). `progress` is
/// called with (simulated now, simulated end) as the run goes.
pub fn run(topology: &Arc<Topology>, config: SimConfig, mut progress: impl FnMut(Duration, Duration)) -> RunReport {
    let t = topology;
    let mut sim = Sim::new(Arc::clone(t), config);
    let mut flows: Vec<FlowState> = t
        .flows
        .iter()
        .map(|f| FlowState {
            flow: f,
            dest: resolve(t, &f.to, f.proto),
            done: 0,
            active: None,
            ports: BTreeSet::new(),
            report: FlowReport { label: label(t, f), requests: f.requests, ..FlowReport::default() },
        })
        .collect();
    let flows_end = t
        .flows
        .iter()
        .map(|f| sim_add(f.start, REQUEST_TIMEOUT.saturating_mul(f.requests.saturating_add(1))))
        .max()
        .unwrap_or(Duration::ZERO);
    // Events after the last flow still happen, so the timeline is whole.
    let events_end = t.events.iter().map(|e| e.at).max().unwrap_or(Duration::ZERO).min(MAX_SIM_TIME);
    let end = flows_end.max(events_end);
    // Next-event: the flows are looked at when something they wait for has
    // happened (their probe's status changed) or one of their instants came
    // (a start, a request's timeout); the simulation jumps straight there
    // through idle time.
    loop {
        let now = sim.now();
        for f in &mut flows {
            step(&mut sim, f, now);
        }
        progress(sim.now(), end);
        let Some(wake) = flows.iter().filter_map(|f| f.wake()).min() else { break };
        if sim.now() >= end {
            break;
        }
        sim.run_until_or(wake.min(end), |s| flows.iter().any(|f| f.ready(s)));
    }
    sim.run_until(events_end);
    progress(sim.now(), end);
    // Everything still open has failed.
    for f in &mut flows {
        if f.active.take().is_some() {
            f.report.failed += 1;
        }
    }
    let mut report = RunReport {
        topology: Arc::clone(t),
        flows: Vec::new(),
        components: BTreeMap::new(),
        frames: sim.records.len() as u64 + sim.truncated,
        truncated: sim.truncated,
        ended_at: sim.now(),
        sim,
    };
    attribute(&mut report, &mut flows);
    report.flows = flows.into_iter().map(|f| f.report).collect();
    report
}

impl FlowState<'_> {
    /// The next instant this flow acts on its own: its request's timeout, or
    /// its start. `None` once every request is done.
    fn wake(&self) -> Option<Duration> {
        match self.active {
            Some((_, started, _)) => Some(sim_add(started, REQUEST_TIMEOUT)),
            None if self.done < self.flow.requests => Some(self.flow.start),
            None => None,
        }
    }

    /// Whether `step` has something to do now: the request it waits on
    /// changed (connected, answered, refused, unreachable).
    fn ready(&self, sim: &Sim) -> bool {
        let Some((probe, _, sent)) = self.active else { return false };
        let host = sim.host(self.flow.from);
        match (self.flow.proto, host.probe_status(probe)) {
            (Protocol::Tcp, ProbeStatus::Connected) => !sent || !host.tcp_received(probe).is_empty(),
            (_, ProbeStatus::Replied | ProbeStatus::Refused | ProbeStatus::Unreachable) => true,
            _ => false,
        }
    }
}

/// One flow at one instant: see how the current request went, then start the
/// next one if it is due.
fn step(sim: &mut Sim, f: &mut FlowState, now: Duration) {
    let from = f.flow.from;
    if let Some((probe, started, sent)) = f.active {
        step_active(sim, f, now, probe, started, sent);
        if f.active.is_some() {
            return;
        }
        if f.flow.proto == Protocol::Tcp {
            // The request is over: reset its connection, so a flow of many
            // requests holds one connection's sockets at a time, not all.
            sim.with_host(from, |h, _| h.abort_probe(probe));
        }
    }
    start_next(sim, f, now);
}

/// See how the current request went; finish it if it is over.
fn step_active(sim: &mut Sim, f: &mut FlowState, now: Duration, probe: ProbeId, started: Duration, sent: bool) {
    let from = f.flow.from;
    {
        let status = sim.host(from).probe_status(probe);
        match (f.flow.proto, status) {
            (Protocol::Tcp, ProbeStatus::Connected) if !sent => {
                let n = sim.with_host(from, |h, _| h.tcp_send(probe, REQUEST));
                f.report.bytes_sent += n as u64;
                f.active = Some((probe, started, true));
            }
            (Protocol::Tcp, ProbeStatus::Connected) if !sim.host(from).tcp_received(probe).is_empty() => {
                f.report.bytes_received += sim.host(from).tcp_received(probe).len() as u64;
                f.report.succeeded += 1;
                finish(f);
            }
            (_, ProbeStatus::Replied) => {
                f.report.succeeded += 1;
                finish(f);
            }
            (_, ProbeStatus::Refused) => {
                f.report.refused += 1;
                finish(f);
            }
            (_, ProbeStatus::Unreachable) => {
                f.report.failed += 1;
                finish(f);
            }
            _ if now >= started + REQUEST_TIMEOUT => {
                // A TCP connection that was made but never answered still counts.
                if status == ProbeStatus::Connected {
                    f.report.succeeded += 1;
                } else {
                    f.report.failed += 1;
                }
                finish(f);
            }
            _ => {}
        }
    }
}

/// Start the flow's next request if it is due.
fn start_next(sim: &mut Sim, f: &mut FlowState, now: Duration) {
    let from = f.flow.from;
    if f.done >= f.flow.requests || now < f.flow.start {
        return;
    }
    if f.dest.is_none()
        && let vpcsim_model::Destination::Name(name) = &f.flow.to
    {
        // Resolved by the source host's stack when the flow starts.
        let v6 = f.flow.proto == Protocol::Icmpv6;
        f.dest = sim.resolve(from, name, v6, sim_add(now, REQUEST_TIMEOUT * 10));
    }
    let Some(dest) = f.dest else {
        // The name does not resolve: every request fails at once.
        f.report.failed += f.flow.requests - f.done;
        *f.report.drops.entry(DropReason::Nxdomain.as_str().into()).or_default() += u64::from(f.flow.requests - f.done);
        f.done = f.flow.requests;
        return;
    };
    if let Some(reason) = unsendable(sim.topology(), from, dest) {
        // The source's stack cannot send there: every request fails at once.
        f.report.failed += f.flow.requests - f.done;
        *f.report.drops.entry(reason.as_str().into()).or_default() += u64::from(f.flow.requests - f.done);
        f.done = f.flow.requests;
        return;
    }
    let port = f.flow.port.unwrap_or(0);
    let proto = f.flow.proto;
    let probe = sim.with_host(from, |h, now| match proto {
        Protocol::Tcp => h.tcp_connect(dest, port),
        Protocol::Udp => h.udp_probe(dest, port, REQUEST),
        _ => h.ping(now, dest),
    });
    if proto == Protocol::Udp {
        f.report.bytes_sent += REQUEST.len() as u64;
    }
    f.ports.insert(sim.host(from).probe_local_port(probe));
    f.active = Some((probe, now, false));
}

fn finish(f: &mut FlowState) {
    f.active = None;
    f.done += 1;
}

/// Per component and per flow, from the frame records.
fn attribute(report: &mut RunReport, flows: &mut [FlowState]) {
    let t = &report.topology;
    for r in &report.sim.records {
        for c in r.crossed() {
            report.components.entry(c.id(t).to_string()).or_default().forwarded += 1;
        }
        match r.verdict {
            Verdict::Deliver(eni) => {
                report.components.entry(Component::Eni(eni).id(t).to_string()).or_default().forwarded += 1;
            }
            Verdict::Drop(d) | Verdict::Bounce(d, _) => {
                report.components.entry(d.at.id(t).to_string()).or_default().dropped += 1;
                let Some(p) = r.packet else { continue };
                let flow = flows.iter_mut().find(|f| {
                    let from = t.host(f.flow.from).eni;
                    (r.from == from && f.ports.contains(&p.src_port))
                        || (r.from != from && f.ports.contains(&p.dst_port))
                });
                if let Some(f) = flow {
                    *f.report.drops.entry(d.reason.as_str().to_string()).or_default() += 1;
                }
            }
            Verdict::Reply(_) | Verdict::Absorbed | Verdict::Answered(_) => {}
        }
    }
}

fn label(t: &Topology, f: &Flow) -> String {
    let to = match &f.to {
        Destination::Host(h) => t.host(*h).id.clone(),
        Destination::Ip(ip) => ip.to_string(),
        Destination::Name(n) => n.clone(),
    };
    let port = f.port.map(|p| format!("/{p}")).unwrap_or_default();
    format!("{} → {to} {}{port}", t.host(f.from).id, f.proto)
}
