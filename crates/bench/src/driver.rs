//! The driver of `vpcsim bench`: synthetic established flows between pairs of
//! a scenario's hosts, as real frames, through `Fabric::process` on W worker
//! threads.
//!
//! Flows are split among the workers by a symmetric hash of the untranslated
//! flow key, so both directions of a flow meet the same worker, as a NIC's
//! receive-side scaling hands each queue to one core. Each worker owns a
//! fabric (its own connection-tracking shard) over one shared compiled
//! topology, and sends its own flows' frames itself: nothing is shared on the
//! hot path, no lock, no channel, no generator thread competing for a core
//! (with one, two workers on two cores ran at 1.01× one).
//!
//! Flows are opened (one packet each way) before the clock starts; the timed
//! packets alternate direction, flow after flow, each worker over its own.

use std::fmt;
use std::hash::{Hash, Hasher};
use std::net::IpAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, Sender, bounded};
use vpcsim_dataplane::{Compiled, Counters, DropReason, Fabric, Trace};
use vpcsim_model::{Attachment, EniIdx, Protocol, Topology};

use crate::frames;

/// What to run.
#[derive(Clone, Copy, Debug)]
pub struct Config {
    /// Timed packets, both directions together.
    pub packets: u64,
    /// Worker threads, each with a fabric of its own (a connection-tracking shard).
    pub workers: usize,
    /// Flows per pair of hosts (IPv4, and IPv6 for every other flow when both
    /// hosts have IPv6 addresses).
    pub flows_per_pair: usize,
    /// TCP payload bytes per packet.
    pub payload: usize,
}

impl Default for Config {
    fn default() -> Self {
        Config { packets: 1_000_000, workers: 1, flows_per_pair: 64, payload: 64 }
    }
}

/// Worker threads at most: more than the machine's cores only measures the
/// scheduler, and a thread each costs its stack.
pub const MAX_WORKERS: usize = 256;

/// Established flows at most, all pairs together (each holds its frames and a
/// connection-tracking entry per worker, about 700 bytes): past it, fewer
/// flows per pair are opened, and a topology with more pairs than this is
/// refused.
pub const MAX_FLOWS: usize = 100_000;

/// The simulated time of every packet.
const NOW: Duration = Duration::from_secs(1);

/// What a run measured.
#[derive(Clone, Debug)]
pub struct Report {
    /// Hosts in the topology.
    pub hosts: usize,
    /// Pairs of hosts in one subnet that traffic was sent between.
    pub pairs: usize,
    /// Established flows driven, all pairs together.
    pub flows: usize,
    /// Worker threads that ran.
    pub workers: usize,
    /// Timed packets, both directions together.
    pub packets: u64,
    /// From the first timed packet sent to the last one processed.
    pub elapsed: Duration,
    /// Per worker: time spent inside `Fabric::process`.
    pub busy: Vec<Duration>,
    /// Packets the fabric delivered to an ENI.
    pub delivered: u64,
    /// Drops by reason (only reasons seen), in `DropReason::ALL` order.
    pub dropped: Vec<(DropReason, u64)>,
    /// Packets answered or absorbed rather than delivered or dropped.
    pub other: u64,
}

impl Report {
    /// Packets per wall-clock second, all workers together.
    pub fn packets_per_second(&self) -> f64 {
        self.packets as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }

    /// Wall-clock nanoseconds per packet (all workers together).
    pub fn ns_per_packet(&self) -> f64 {
        self.elapsed.as_nanos() as f64 / self.packets.max(1) as f64
    }

    /// Nanoseconds inside the pipeline per packet, per worker (CPU cost).
    pub fn pipeline_ns_per_packet(&self) -> f64 {
        self.busy.iter().map(|b| b.as_nanos() as f64).sum::<f64>() / self.packets.max(1) as f64
    }

    /// Packets dropped, all reasons together.
    pub fn total_dropped(&self) -> u64 {
        self.dropped.iter().map(|(_, n)| n).sum()
    }
}

/// Why a run cannot start.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BenchError {
    /// Fewer than two hosts in subnets: no pair to carry traffic.
    NoPairs,
    /// Zero workers or zero flows asked for.
    Nothing,
    /// Zero packets asked for: nothing to time.
    NoPackets,
    /// More workers than [`MAX_WORKERS`].
    TooManyWorkers(usize),
    /// More host pairs than [`MAX_FLOWS`]: not even one flow each fits.
    TooManyPairs(usize),
    /// The system refused a worker thread.
    Spawn(String),
}

impl fmt::Display for BenchError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BenchError::NoPairs => {
                f.write_str("the scenario has fewer than two hosts in subnets: no pair to carry traffic")
            }
            BenchError::Nothing => f.write_str("need at least one worker and one flow per pair"),
            BenchError::NoPackets => f.write_str("--packets 0 times nothing: give at least one packet"),
            BenchError::TooManyWorkers(n) => write!(f, "--workers {n} is past vpcsim's limit of {MAX_WORKERS} workers"),
            BenchError::TooManyPairs(n) => {
                write!(f, "{n} pairs of hosts is past vpcsim's limit of {MAX_FLOWS} flows in all (one per pair)")
            }
            BenchError::Spawn(e) => write!(f, "cannot start a worker thread: {e}"),
        }
    }
}

impl std::error::Error for BenchError {}

/// One flow: its frames each way and its shard.
struct Flow {
    a: EniIdx,
    b: EniIdx,
    forward: Vec<u8>,
    reverse: Vec<u8>,
    /// Symmetric: the same whichever way the packet goes.
    key: (u8, (IpAddr, u16), (IpAddr, u16)),
}

fn shard_of(key: &(u8, (IpAddr, u16), (IpAddr, u16)), workers: usize) -> usize {
    let mut h = rustc_hash::FxHasher::default();
    key.hash(&mut h);
    // FxHash mixes its low bits poorly: fold the high half in.
    let x = h.finish();
    ((x ^ (x >> 32)) % workers as u64) as usize
}

/// The flows of `t`: every pair of hosts in subnets (not AWS services' front
/// doors), to the first TCP port the second listens on (443 if none).
fn flows(t: &Topology, cfg: &Config) -> (usize, usize, Vec<Flow>) {
    let hosts: Vec<_> = t
        .hosts
        .iter()
        .filter(|h| h.service.is_none() && matches!(t.eni(h.eni).attachment, Attachment::Subnet(_)))
        .collect();
    // Within MAX_FLOWS in all; `run` refuses more pairs than that.
    let all_pairs = hosts.len() * hosts.len().saturating_sub(1) / 2;
    let per_pair = cfg.flows_per_pair.min(MAX_FLOWS / all_pairs.max(1));
    let mut out = Vec::new();
    let mut pairs = 0;
    for (i, x) in hosts.iter().enumerate() {
        for y in &hosts[i + 1..] {
            pairs += 1;
            let (ea, eb) = (t.eni(x.eni), t.eni(y.eni));
            let port = y.listen.iter().find(|l| l.proto == Protocol::Tcp).map_or(443, |l| l.port);
            let router =
                |e: &vpcsim_model::Eni| e.subnet().map(|s| t.subnet(s).router_mac).unwrap_or([2, 0, 0, 0, 0, 1]);
            for k in 0..per_pair {
                let (sa, sb) = match (ea.ipv6, eb.ipv6) {
                    (Some(a6), Some(b6)) if k % 2 == 1 => (IpAddr::V6(a6), IpAddr::V6(b6)),
                    _ => (IpAddr::V4(ea.ipv4), IpAddr::V4(eb.ipv4)),
                };
                let sport = 32768 + (k % 28000) as u16;
                let forward = frames::tcp((ea.mac, router(ea)), sa, sb, (sport, port), frames::ACK, cfg.payload);
                let reverse = frames::tcp((eb.mac, router(eb)), sb, sa, (port, sport), frames::ACK, cfg.payload);
                let (lo, hi) =
                    if (sa, sport) <= (sb, port) { ((sa, sport), (sb, port)) } else { ((sb, port), (sa, sport)) };
                out.push(Flow { a: x.eni, b: y.eni, forward, reverse, key: (Protocol::TCP, lo, hi) });
            }
        }
    }
    (hosts.len(), pairs, out)
}

struct WorkerResult {
    before: Counters,
    after: Counters,
    busy: Duration,
    packets: u64,
}

/// One worker's share: its flows and how many timed packets each carries.
struct Share {
    flows: Vec<(EniIdx, Vec<u8>, EniIdx, Vec<u8>)>,
    /// Timed packets per flow, same index.
    packets: Vec<u64>,
}

fn worker(compiled: Arc<Compiled>, share: Share, ready: Sender<()>, go: Receiver<()>) -> WorkerResult {
    let mut fabric = Fabric::on(&compiled);
    let mut out = Vec::with_capacity(2048);
    let mut trace = Trace::off();
    for (a, forward, b, reverse) in &share.flows {
        fabric.process(NOW, *a, forward, &mut out, &mut trace);
        fabric.process(NOW, *b, reverse, &mut out, &mut trace);
    }
    let before = fabric.counters().clone();
    // Set up, then wait until every worker is (the timing starts together):
    // `go` closes when the driver starts the clock, or gives up.
    let _ = ready.send(());
    let _ = go.recv();
    let t0 = Instant::now();
    let mut sent = vec![0u64; share.flows.len()];
    let mut left: u64 = share.packets.iter().sum();
    let total = left;
    // Round after round over the flows, one packet each way, until each flow
    // has carried its share.
    while left > 0 {
        for (i, (a, forward, b, reverse)) in share.flows.iter().enumerate() {
            for (eni, frame) in [(a, forward), (b, reverse)] {
                if sent[i] < share.packets[i] {
                    let v = fabric.process(NOW, *eni, frame, &mut out, &mut trace);
                    std::hint::black_box((&v, &out));
                    sent[i] += 1;
                    left -= 1;
                }
            }
        }
    }
    WorkerResult { before, after: fabric.counters().clone(), busy: t0.elapsed(), packets: total }
}

/// Timed packets flow `j` of `n` carries when `packets` alternate direction
/// flow after flow: full rounds of two, and what is left over in order.
fn packets_of_flow(j: u64, n: u64, packets: u64) -> u64 {
    let (rounds, rest) = (packets / (2 * n), packets % (2 * n));
    2 * rounds + rest.saturating_sub(2 * j).min(2)
}

/// Runs the benchmark on `t`.
pub fn run(t: Arc<Topology>, cfg: &Config) -> Result<Report, BenchError> {
    if cfg.workers == 0 || cfg.flows_per_pair == 0 {
        return Err(BenchError::Nothing);
    }
    if cfg.packets == 0 {
        return Err(BenchError::NoPackets);
    }
    if cfg.workers > MAX_WORKERS {
        return Err(BenchError::TooManyWorkers(cfg.workers));
    }
    let in_subnets = t
        .hosts
        .iter()
        .filter(|h| h.service.is_none() && matches!(t.eni(h.eni).attachment, Attachment::Subnet(_)))
        .count();
    let all_pairs = in_subnets * in_subnets.saturating_sub(1) / 2;
    if all_pairs > MAX_FLOWS {
        return Err(BenchError::TooManyPairs(all_pairs));
    }
    let (hosts, pairs, flows) = flows(&t, cfg);
    if flows.is_empty() {
        return Err(BenchError::NoPairs);
    }
    let w = cfg.workers;
    let n = flows.len() as u64;
    let mut shares: Vec<Share> = (0..w).map(|_| Share { flows: Vec::new(), packets: Vec::new() }).collect();
    for (j, f) in flows.iter().enumerate() {
        let share = &mut shares[shard_of(&f.key, w)];
        share.flows.push((f.a, f.forward.clone(), f.b, f.reverse.clone()));
        share.packets.push(packets_of_flow(j as u64, n, cfg.packets));
    }
    let compiled = Compiled::new(Arc::clone(&t));
    let (ready_tx, ready_rx) = bounded::<()>(w);
    let (go_tx, go_rx) = bounded::<()>(0);
    let mut handles = Vec::new();
    for (i, share) in shares.into_iter().enumerate() {
        let (compiled, ready, go) = (Arc::clone(&compiled), ready_tx.clone(), go_rx.clone());
        let spawned = std::thread::Builder::new()
            .name(format!("bench-worker-{i}"))
            .spawn(move || worker(compiled, share, ready, go));
        match spawned {
            Ok(h) => handles.push(h),
            Err(e) => {
                // Release the workers already started: no go.
                drop(go_tx);
                for h in handles {
                    let _ = h.join();
                }
                return Err(BenchError::Spawn(e.to_string()));
            }
        }
    }
    // Only the workers hold `ready` now: a worker that died does not hang this.
    drop(ready_tx);
    for _ in 0..w {
        let _ = ready_rx.recv();
    }
    let t0 = Instant::now();
    drop(go_tx);
    let results: Vec<WorkerResult> = handles.into_iter().map(|h| h.join().expect("a worker")).collect();
    let elapsed = t0.elapsed();
    debug_assert_eq!(results.iter().map(|r| r.packets).sum::<u64>(), cfg.packets);

    let mut delivered = 0;
    let mut other = 0;
    let mut dropped = Vec::new();
    for reason in DropReason::ALL {
        let n: u64 = results.iter().map(|r| r.after.dropped(reason) - r.before.dropped(reason)).sum();
        if n > 0 {
            dropped.push((reason, n));
        }
    }
    for r in &results {
        delivered += r.after.delivered - r.before.delivered;
        other += (r.after.replies - r.before.replies) + (r.after.absorbed - r.before.absorbed);
    }
    Ok(Report {
        hosts,
        pairs,
        flows: flows.len(),
        workers: w,
        packets: cfg.packets,
        elapsed,
        busy: results.iter().map(|r| r.busy).collect(),
        delivered,
        dropped,
        other,
    })
}

#[cfg(test)]
mod tests {
    use super::packets_of_flow;

    #[test]
    fn flows_carry_every_timed_packet_once() {
        for n in [1u64, 2, 3, 7, 64] {
            for packets in [1u64, 2, 3, 5, 13, 127, 128, 129, 1000] {
                let each: Vec<u64> = (0..n).map(|j| packets_of_flow(j, n, packets)).collect();
                assert_eq!(each.iter().sum::<u64>(), packets, "n {n}, packets {packets}");
                // Packet i goes to flow (i / 2) % n: count them one by one.
                let mut counted = vec![0u64; n as usize];
                for i in 0..packets {
                    counted[((i / 2) % n) as usize] += 1;
                }
                assert_eq!(each, counted, "n {n}, packets {packets}");
            }
        }
    }
}
