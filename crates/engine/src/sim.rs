//! The discrete-event simulation: virtual hosts and the fabric in simulated
//! time.
//!
//! Events are ordered totally: by time, then class (deliveries before polls at
//! the same instant), then host index, then insertion sequence. Hosts are polled
//! when a frame reaches them and when their stack asks (`poll_at`). Every frame a
//! host sends goes through `Fabric::process` at the instant it is sent and
//! reaches its destination one hop latency later.

use std::cmp::{Ordering, Reverse};
use std::collections::BinaryHeap;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use rustc_hash::FxHashMap;
use vpcsim_dataplane::packet::{self, Meta, Parsed};
use vpcsim_dataplane::{Compiled, Component, Fabric, Step, Trace, Verdict};
use vpcsim_hosts::{HostConfig, ProbeStatus, VirtualHost};
use vpcsim_model::limits::{MAX_SIM_TIME, sim_add};
use vpcsim_model::{Attachment, EniIdx, EniOwner, EventAction, HostIdx, Protocol, Topology};

use crate::pcap::Capture;
use crate::services;

/// The default latency of one pass through the fabric.
pub(crate) const DEFAULT_HOP_LATENCY: Duration = Duration::from_micros(100);

/// Frames one simulation keeps a record of (with its trace). Past it frames
/// are still simulated and counted in [`Sim::truncated`], not kept: a stack
/// retransmitting for an hour must not fill memory. A record with its trace
/// is a few hundred bytes, so this is tens of megabytes at most.
pub(crate) const MAX_RECORDS: usize = 100_000;

/// How a simulation runs: hop latency, what is recorded and captured.
#[derive(Clone, Copy, Debug)]
pub struct SimConfig {
    /// Time from a host sending a frame to its arrival.
    pub hop_latency: Duration,
    /// Keep a record (with its trace) of every frame that enters the fabric.
    pub record: bool,
    /// Capture frames per segment (each subnet, the internet).
    pub capture: bool,
    /// Records kept at most (default [`MAX_RECORDS`]).
    pub max_records: usize,
    /// Probes: boot every host at time zero, as `run` does, instead of
    /// starting each at its first frame. The outcome is the same (a test
    /// holds it to that); only the cost differs.
    pub boot_every_host: bool,
}

impl Default for SimConfig {
    fn default() -> Self {
        SimConfig {
            hop_latency: DEFAULT_HOP_LATENCY,
            record: true,
            capture: false,
            max_records: MAX_RECORDS,
            boot_every_host: false,
        }
    }
}

/// One frame's pass through the fabric.
#[derive(Clone, Debug)]
pub struct Record {
    /// Simulated time at which the frame entered the fabric.
    pub time: Duration,
    /// The ENI that sent it.
    pub from: EniIdx,
    /// What the data plane did with it: delivered, answered or dropped.
    pub verdict: Verdict,
    /// What the frame was, if it was IP.
    pub packet: Option<Meta>,
    /// The frame as delivered (after translation), if it was delivered.
    pub delivered: Option<Meta>,
    /// The data plane's trace of the frame: routes, rules, gateways crossed.
    pub steps: Vec<Step>,
}

impl Record {
    /// Components the frame crossed (gateways, the internet), in order.
    pub fn crossed(&self) -> impl Iterator<Item = Component> + '_ {
        self.steps.iter().filter_map(|s| match s {
            Step::Crossed { component } => Some(*component),
            _ => None,
        })
    }
}

/// A pcap segment: each subnet, the internet, each on-premises network.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Segment {
    /// A subnet of a VPC.
    Subnet(vpcsim_model::SubnetIdx),
    /// The internet beyond the internet gateways.
    Internet,
    /// An on-premises network behind a VPN connection.
    OnPrem(vpcsim_model::OnPremIdx),
}

#[derive(Debug)]
enum Kind {
    /// A scenario `[[event]]`, by index.
    Event(usize),
    Deliver(Vec<u8>),
    Poll,
}

#[derive(Debug)]
struct Scheduled {
    time: Duration,
    host: HostIdx,
    seq: u64,
    kind: Kind,
}

impl Scheduled {
    fn class(&self) -> u8 {
        // At one instant: events first, then deliveries, then polls.
        match self.kind {
            Kind::Event(_) => 0,
            Kind::Deliver(_) => 1,
            Kind::Poll => 2,
        }
    }
    fn key(&self) -> (Duration, u8, HostIdx, u64) {
        (self.time, self.class(), self.host, self.seq)
    }
}

impl PartialEq for Scheduled {
    fn eq(&self, other: &Self) -> bool {
        self.key() == other.key()
    }
}
impl Eq for Scheduled {}
impl PartialOrd for Scheduled {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Scheduled {
    fn cmp(&self, other: &Self) -> Ordering {
        self.key().cmp(&other.key())
    }
}

/// A running simulation of one topology.
///
/// Hosts start in one of two ways. [`Sim::new`] boots every host at time zero
/// (what `run` and its pcaps show). [`Sim::on`] starts a host only when
/// something reaches it (its first frame, or the caller acting on it), and
/// first replays its life alone since time zero: its boot (resolving its
/// gateways through the fabric) and whatever its own timers asked for. An
/// idle host does nothing else, so a host started late is in the state it
/// would have had, and a probe costs time and memory for the hosts it
/// touches, not for the network.
pub struct Sim {
    topology: Arc<Topology>,
    /// The data plane every frame goes through.
    pub fabric: Fabric,
    /// The hosts started so far.
    hosts: FxHashMap<HostIdx, VirtualHost>,
    queue: BinaryHeap<Reverse<Scheduled>>,
    /// The earliest poll scheduled for each host (later ones are dropped).
    next_poll: FxHashMap<HostIdx, Duration>,
    seq: u64,
    now: Duration,
    config: SimConfig,
    /// Every frame that entered the fabric, up to `SimConfig::max_records`.
    pub records: Vec<Record>,
    /// Frames not recorded because `records` was full (`max_records`).
    pub truncated: u64,
    /// Scheduled events run so far: the work done, whatever the simulated
    /// time it spanned.
    events_run: u64,
    /// What changed when: endpoint states, target health (with where each
    /// started, in a simulation that booted every host: [`Sim::new`]).
    pub timeline: Vec<(Duration, String)>,
    captures: std::collections::BTreeMap<Segment, Capture>,
    out: Vec<u8>,
}

impl Sim {
    /// A simulation at time zero: a fabric, every scenario host booting, the
    /// scenario's events queued.
    pub fn new(topology: Arc<Topology>, config: SimConfig) -> Sim {
        Sim::booted(&Compiled::new(topology), config)
    }

    /// [`Sim::new`] over a topology compiled already.
    pub fn booted(compiled: &Arc<Compiled>, config: SimConfig) -> Sim {
        let mut sim = Sim::on(compiled, config);
        // Where the timeline starts: what `run` reports (a probe, which
        // reports no timeline, does not pay for it in a large network).
        for s in &sim.topology.endpoint_services {
            sim.timeline.push((Duration::ZERO, format!("{}: Available", s.id)));
        }
        for ep in &sim.topology.interface_endpoints {
            sim.timeline.push((Duration::ZERO, format!("{}: {}", ep.id, ep.state.as_str())));
        }
        for i in 0..sim.topology.hosts.len() {
            let h = HostIdx::from_index(i);
            sim.hosts.insert(h, VirtualHost::new(sim.host_config(h), Duration::ZERO));
            sim.schedule_poll(h, Duration::ZERO);
        }
        sim
    }

    /// A simulation at time zero of a topology compiled already (shared with
    /// other simulations of it): the scenario's events queued, each host
    /// started when something first reaches it.
    pub fn on(compiled: &Arc<Compiled>, mut config: SimConfig) -> Sim {
        let topology = Arc::clone(compiled.topology());
        if let Some(latency) = topology.hop_latency {
            config.hop_latency = latency;
        }
        let fabric = Fabric::on(compiled);
        let mut sim = Sim {
            topology,
            fabric,
            hosts: FxHashMap::default(),
            queue: BinaryHeap::new(),
            next_poll: FxHashMap::default(),
            seq: 0,
            now: Duration::ZERO,
            config,
            records: Vec::new(),
            truncated: 0,
            events_run: 0,
            timeline: Vec::new(),
            captures: Default::default(),
            out: Vec::with_capacity(2048),
        };
        let t = Arc::clone(&sim.topology);
        for (i, e) in t.events.iter().enumerate() {
            sim.push(e.at, HostIdx(0), Kind::Event(i));
        }
        sim
    }

    /// The topology being simulated.
    pub fn topology(&self) -> &Arc<Topology> {
        &self.topology
    }

    /// The current simulated time.
    pub fn now(&self) -> Duration {
        self.now
    }

    /// The time a frame takes through the fabric in this simulation.
    pub fn hop_latency(&self) -> Duration {
        self.config.hop_latency
    }

    /// The virtual host of a scenario host.
    ///
    /// # Panics
    /// If the host has not started: in a simulation made with [`Sim::on`], a
    /// host starts at its first frame or at [`Sim::with_host`].
    pub fn host(&self, h: HostIdx) -> &VirtualHost {
        match self.hosts.get(&h) {
            Some(host) => host,
            None => panic!("host {} has not started", self.topology.host(h).id),
        }
    }

    /// Hosts started so far.
    pub fn hosts_started(&self) -> usize {
        self.hosts.len()
    }

    /// Lets the caller act on a host (open a probe), starting it if it has not
    /// started; the host is polled at once.
    pub fn with_host<R>(&mut self, h: HostIdx, f: impl FnOnce(&mut VirtualHost, Duration) -> R) -> R {
        let now = self.now;
        // The caller acts after every event up to now, its polls included.
        let r = f(self.started(h, true), now);
        self.poll_host(h);
        r
    }

    fn host_config(&self, h: HostIdx) -> HostConfig {
        let t = &self.topology;
        HostConfig::for_host(t, h, usize::from(t.eni(t.host(h).eni).mtu))
    }

    /// Host `h`, started now if it has not started. `polls_now`: whether its
    /// own polls due at this very instant come first (they do for the
    /// caller, who acts after every event up to now; they do not for a frame
    /// arriving now, as deliveries go before polls at one instant).
    fn started(&mut self, h: HostIdx, polls_now: bool) -> &mut VirtualHost {
        if !self.hosts.contains_key(&h) {
            self.start(h, polls_now);
        }
        match self.hosts.get_mut(&h) {
            Some(host) => host,
            None => unreachable!("started just now"),
        }
    }

    /// Starts host `h` late: boots it at time zero and replays its life alone
    /// up to now, exactly as a simulation that booted every host would have
    /// run it (the same instants, its frames through the same fabric).
    /// Nothing reached it before now (else it would have started then), so
    /// its life alone is its boot: its gateways' answers and its own timers.
    fn start(&mut self, h: HostIdx, polls_now: bool) {
        let mut host = VirtualHost::new(self.host_config(h), Duration::ZERO);
        let eni = self.topology.host(h).eni;
        let hop = self.config.hop_latency;
        // Frames the fabric sent back to it, in arrival order (one latency
        // for all, so sending order is arrival order).
        let mut arrivals: std::collections::VecDeque<(Duration, Vec<u8>)> = Default::default();
        let mut poll = Some(Duration::ZERO);
        loop {
            // At one instant, deliveries before polls.
            let (time, delivery) = match (arrivals.front().map(|a| a.0), poll) {
                (Some(a), Some(p)) if a <= p => (a, true),
                (Some(a), None) => (a, true),
                (_, Some(p)) => (p, false),
                (None, None) => break,
            };
            if time > self.now || (time == self.now && !delivery && !polls_now) {
                break;
            }
            if delivery {
                if let Some((_, frame)) = arrivals.pop_front() {
                    host.receive(frame);
                }
            } else {
                poll = None;
            }
            host.poll(time);
            for frame in host.take_transmitted() {
                let verdict = self.fabric.process(time, eni, &frame, &mut self.out, &mut Trace::off());
                if let Verdict::Deliver(to) | Verdict::Reply(to) | Verdict::Bounce(_, to) | Verdict::Answered(to) =
                    verdict
                    && to == eni
                {
                    arrivals.push_back((sim_add(time, hop), self.out.clone()));
                }
            }
            if let Some(at) = host.poll_at(time) {
                let at = at.max(sim_add(time, Duration::from_micros(1)));
                poll = Some(poll.map_or(at, |p| p.min(at)));
            }
        }
        self.hosts.insert(h, host);
        for (time, frame) in arrivals {
            self.push(time, h, Kind::Deliver(frame));
        }
        if let Some(at) = poll {
            self.schedule_poll(h, at);
        }
    }

    /// Captured segments, each a pcap file's bytes.
    pub fn captures(&self) -> &std::collections::BTreeMap<Segment, Capture> {
        &self.captures
    }

    /// Runs every event up to and including `until`; time then stands at
    /// `until` (held at `MAX_SIM_TIME`, where simulated time ends).
    pub fn run_until(&mut self, until: Duration) {
        self.run_until_or(until, |_| false);
    }

    /// Like `run_until`, but stops after the first event after which `done`
    /// holds. Returns whether it stopped early.
    pub fn run_until_or(&mut self, until: Duration, mut done: impl FnMut(&Sim) -> bool) -> bool {
        let until = until.min(MAX_SIM_TIME);
        while let Some(Reverse(next)) = self.queue.peek() {
            if next.time > until {
                break;
            }
            let Some(Reverse(ev)) = self.queue.pop() else { break };
            self.events_run += 1;
            self.now = ev.time;
            match ev.kind {
                Kind::Event(i) => self.apply_event(i),
                Kind::Deliver(frame) => {
                    self.capture(self.topology.host(ev.host).eni, &frame);
                    match self.forward(ev.host, frame) {
                        Ok(forwarded) => self.transmit(ev.host, forwarded),
                        Err(frame) => {
                            self.started(ev.host, false).receive(frame);
                            self.poll_host(ev.host);
                        }
                    }
                }
                Kind::Poll => {
                    if self.next_poll.get(&ev.host) == Some(&ev.time) {
                        self.next_poll.remove(&ev.host);
                        self.poll_host(ev.host);
                    }
                }
            }
            if done(self) {
                return true;
            }
        }
        self.now = self.now.max(until);
        false
    }

    /// Scheduled events (deliveries, polls, scenario events) run so far.
    pub fn events_run(&self) -> u64 {
        self.events_run
    }

    /// Resolves `name` from host `from` with real DNS queries, running the
    /// simulation until the answer or `deadline`.
    pub fn resolve(&mut self, from: HostIdx, name: &str, ipv6: bool, deadline: Duration) -> Option<IpAddr> {
        let query = self.with_host(from, |h, _| h.resolve(name, ipv6));
        self.run_until_or(deadline, |s| s.host(from).probe_status(query) != ProbeStatus::Pending);
        match self.host(from).probe_status(query) {
            ProbeStatus::Resolved(ip) => Some(ip),
            _ => None,
        }
    }

    /// A service answers the requests its host received. The endpoint policy
    /// of the gateway endpoint a connection came through decides (the fabric
    /// evaluates it); the decision joins the trace of the frame that carried
    /// the request.
    fn serve(&mut self, h: HostIdx) {
        let Some(service) = self.topology.host(h).service else { return };
        let Some(host) = self.hosts.get_mut(&h) else { return };
        let requests = host.take_requests();
        if requests.is_empty() {
            return;
        }
        let t = Arc::clone(&self.topology);
        let label = format!("{}.{}", t.service(service).name, t.service(service).region);
        for r in requests {
            let endpoint = self.fabric.endpoint_of(Protocol::TCP, r.local, r.remote);
            let answer = match (services::parse_request(&r.bytes), endpoint) {
                (None, _) => services::response(400, &label, None, Some("missing x-vpcsim headers")),
                (Some(_), None) => services::response(200, &label, None, None),
                (Some(q), Some(ep)) => {
                    let request =
                        vpcsim_policy::Request { principal: &q.principal, action: &q.action, resource: &q.resource };
                    let decision = self.fabric.authorize(ep, &request);
                    let decided_by = match (decision, self.fabric.endpoint_policy(ep)) {
                        (_, None) => "no policy attached: AWS's default allows everything".to_string(),
                        (vpcsim_policy::Decision::ImplicitDeny, _) => "no statement allows it".to_string(),
                        (d, Some(p)) => {
                            let kind = if d.allowed() { "allowed by" } else { "explicit deny in" };
                            format!("{kind} {}", d.statement().map_or(String::new(), |i| p.statement_label(i)))
                        }
                    };
                    let step = Step::EndpointPolicy {
                        endpoint: ep.component(),
                        principal: q.principal.clone(),
                        action: q.action.clone(),
                        resource: q.resource.clone(),
                        decided_by,
                        allowed: decision.allowed(),
                    };
                    self.annotate_delivery(t.host(h).eni, r.remote, step);
                    let via = ep.component().id(&t);
                    if decision.allowed() {
                        services::response(200, &label, Some(via), None)
                    } else {
                        services::response(403, &label, Some(via), Some("denied by the VPC endpoint policy"))
                    }
                }
            };
            if let Some(host) = self.hosts.get_mut(&h) {
                host.respond(r.conn, &answer);
            }
        }
        self.poll_host(h);
    }

    /// Adds `step` to the latest record of a frame from `client` delivered at `eni`.
    fn annotate_delivery(&mut self, eni: EniIdx, client: (IpAddr, u16), step: Step) {
        let found = self.records.iter_mut().rev().find(|r| {
            r.verdict == Verdict::Deliver(eni)
                && r.delivered.is_some_and(|m| m.src == client.0 && m.src_port == client.1)
        });
        if let Some(r) = found {
            r.steps.push(step);
        }
    }

    /// A scenario event: the provider accepts or rejects an endpoint, the
    /// consumer deletes one, a target fails or passes its health checks.
    fn apply_event(&mut self, i: usize) {
        let t = Arc::clone(&self.topology);
        let event = &t.events[i];
        match event.action {
            EventAction::Accept(_) | EventAction::Reject(_) | EventAction::Delete(_) => {
                let Some((ep, action)) = event.action.on_endpoint() else { return };
                let before = self.fabric.endpoint_state(ep);
                let after = before.after(action);
                self.fabric.set_endpoint_state(ep, after);
                let verb = action.as_str();
                let change = if before == after {
                    format!("{}: {verb} changes nothing ({})", t.interface_endpoint(ep).id, before.as_str())
                } else {
                    format!("{}: {} → {} ({verb})", t.interface_endpoint(ep).id, before.as_str(), after.as_str())
                };
                self.timeline.push((self.now, change));
            }
            EventAction::DeleteService(s) => {
                // Deleting, then Deleted: the simulator does not make you wait.
                let before = self.fabric.service_state(s);
                self.fabric.set_service_state(s, vpcsim_model::ServiceState::Deleted);
                let id = &t.endpoint_service(s).id;
                self.timeline
                    .push((self.now, format!("{id}: {} → Deleting → Deleted (delete-service)", before.as_str())));
            }
            EventAction::TargetDown(h) | EventAction::TargetUp(h) => {
                let up = matches!(event.action, EventAction::TargetUp(_));
                self.fabric.set_target_health(h, up);
                let what = if up { "healthy again" } else { "fails its health checks: out of the pool" };
                self.timeline.push((self.now, format!("target {}: {what}", t.host(h).id)));
            }
        }
    }

    fn poll_host(&mut self, h: HostIdx) {
        let now = self.now;
        let Some(host) = self.hosts.get_mut(&h) else { return };
        host.poll(now);
        let frames = host.take_transmitted();
        let next = host.poll_at(now);
        for frame in frames {
            self.transmit(h, frame);
        }
        if let Some(at) = next {
            // A stack that asks to be polled now has just been: next instant.
            self.schedule_poll(h, at.max(sim_add(now, Duration::from_micros(1))));
        }
        self.serve(h);
    }

    fn schedule_poll(&mut self, h: HostIdx, at: Duration) {
        if self.next_poll.get(&h).is_some_and(|&t| t <= at) {
            return;
        }
        self.next_poll.insert(h, at);
        self.push(at, h, Kind::Poll);
    }

    fn push(&mut self, time: Duration, host: HostIdx, kind: Kind) {
        // Nothing happens after simulated time ends; every instant at which
        // something does stays strictly before it, so a run always ends.
        if time >= MAX_SIM_TIME {
            return;
        }
        self.seq += 1;
        self.queue.push(Reverse(Scheduled { time, host, seq: self.seq, kind }));
    }

    /// A frame host `h` sent: through the fabric now, to its destination later.
    fn transmit(&mut self, h: HostIdx, frame: Vec<u8>) {
        let from = self.topology.host(h).eni;
        self.capture(from, &frame);
        let record = self.config.record && self.records.len() < self.config.max_records;
        let mut trace = if record { Trace::on() } else { Trace::off() };
        let verdict = self.fabric.process(self.now, from, &frame, &mut self.out, &mut trace);
        let arrive = sim_add(self.now, self.config.hop_latency);
        let delivered = match verdict {
            Verdict::Deliver(to) => {
                let meta = ip_meta(&self.out);
                // Only hosts receive frames; the fabric delivers to nothing else.
                if let EniOwner::Host(host) = self.topology.eni(to).owner {
                    self.push(arrive, host, Kind::Deliver(self.out.clone()));
                }
                meta
            }
            Verdict::Reply(to) | Verdict::Bounce(_, to) | Verdict::Answered(to) => {
                if let EniOwner::Host(host) = self.topology.eni(to).owner {
                    self.push(arrive, host, Kind::Deliver(self.out.clone()));
                }
                None
            }
            Verdict::Drop(_) | Verdict::Absorbed => None,
        };
        let kept = !matches!(verdict, Verdict::Reply(_) | Verdict::Absorbed);
        if self.config.record && kept && !record {
            self.truncated += 1;
        } else if record && kept {
            self.records.push(Record {
                time: self.now,
                from,
                verdict,
                packet: ip_meta(&frame),
                delivered,
                steps: trace.steps,
            });
        }
    }

    /// A middlebox forwards: a host whose ENI has its source/destination check
    /// off sends a unicast IP packet addressed to someone else back out to its
    /// subnet's router, as Linux with `ip_forward` does. The data plane counts
    /// the hop (the TTL, `ttl-exceeded` at the ENI) and routes it on. `Err`
    /// hands the frame back for the host's own stack.
    fn forward(&self, h: HostIdx, mut frame: Vec<u8>) -> Result<Vec<u8>, Vec<u8>> {
        let t = &self.topology;
        let eni = t.eni(t.host(h).eni);
        let Some(subnet) = eni.subnet().filter(|_| !eni.source_dest_check) else {
            return Err(frame);
        };
        let Some(meta) = ip_meta(&frame) else { return Err(frame) };
        let not_unicast = match meta.dst {
            IpAddr::V4(a) => a.is_broadcast() || a.is_multicast() || a.is_link_local(),
            IpAddr::V6(a) => a.is_multicast() || a.is_unicast_link_local(),
        };
        if eni.owns(meta.dst) || not_unicast {
            return Err(frame);
        }
        packet::set_macs(&mut frame, eni.mac, t.subnet(subnet).router_mac);
        Ok(frame)
    }

    fn capture(&mut self, eni: EniIdx, frame: &[u8]) {
        if !self.config.capture {
            return;
        }
        let segment = match self.topology.eni(eni).attachment {
            Attachment::Subnet(s) => Segment::Subnet(s),
            Attachment::Internet => Segment::Internet,
            Attachment::OnPrem(o) => Segment::OnPrem(o),
        };
        self.captures.entry(segment).or_default().push(self.now, frame);
    }
}

fn ip_meta(frame: &[u8]) -> Option<Meta> {
    match packet::parse(frame) {
        Ok(Parsed::Ip(m)) => Some(m),
        _ => None,
    }
}
