//! One virtual machine: a smoltcp interface over the in-memory device, the
//! host's servers (TCP echo with a replenished pool of listening sockets, UDP
//! echo; ping is answered by the stack itself) and its probes (TCP connect, UDP
//! datagram, ICMP echo), each with its outcome.
//!
//! [`VirtualHost::poll`] runs the stack one received frame at a time and tops
//! up every TCP listener's pool after each frame, so a burst of SYNs never
//! meets a port without a listening socket. Then it runs the applications
//! (echo, probe bookkeeping) and sends what is due.

use std::collections::{BTreeSet, VecDeque};
use std::net::IpAddr;
use std::time::Duration;

use smoltcp::iface::{Config, Interface, PollIngressSingleResult, PollResult, SocketHandle, SocketSet};
use smoltcp::socket::{dns, icmp, tcp, udp};
use smoltcp::time::Instant;
use smoltcp::wire::{
    EthernetAddress, HardwareAddress, Icmpv4Message, Icmpv4Packet, Icmpv6Message, Icmpv6Packet, IpAddress, IpCidr,
    IpEndpoint, IpListenEndpoint,
};
use vpcsim_model::Protocol;

use crate::config::HostConfig;
use crate::device::FrameQueue;
use crate::neighbours::Neighbours;
use crate::rng::{EPHEMERAL_FIRST, EPHEMERAL_LAST, HostRng, splitmix64};

/// A probe, numbered from 0 in the order the host started them.
pub type ProbeId = usize;

/// A probe's outcome so far.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProbeStatus {
    /// Still waiting.
    Pending,
    /// TCP: handshake completed both ways.
    Connected,
    /// TCP: a RST answered the SYN (nothing listening).
    Refused,
    /// UDP: the echoed datagram came back; ICMP: the echo reply came back.
    Replied,
    /// An ICMP destination-unreachable / error came back for it (UDP to a
    /// closed port, etc.), or the probe could not be started (no free
    /// ephemeral port, an unusable destination).
    Unreachable,
    /// DNS: the name resolved; the first address.
    Resolved(IpAddr),
    /// DNS: the name does not resolve (NXDOMAIN, no record, or no answer).
    NxDomain,
}

/// A request a TCP server of an application host received: the bytes up to and
/// including the blank line that ends its header.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AppRequest {
    /// Pass to `respond`.
    pub conn: u64,
    /// The local address and port the request arrived at.
    pub local: (IpAddr, u16),
    /// The client's address and port.
    pub remote: (IpAddr, u16),
    /// The request's bytes as received.
    pub bytes: Vec<u8>,
}

/// Counters for summaries.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct HostStats {
    /// TCP connections the host's servers accepted (handshake completed).
    pub connections_accepted: u64,
    /// Bytes the TCP and UDP servers received (payload).
    pub server_bytes_received: u64,
    /// Bytes the TCP and UDP servers sent back (payload).
    pub server_bytes_sent: u64,
    /// Datagrams the UDP servers echoed.
    pub datagrams_echoed: u64,
    /// Payload bytes the probes queued (TCP, UDP, ICMP echo data).
    pub probe_bytes_sent: u64,
    /// Payload bytes the probes received (TCP, UDP, ICMP echo data).
    pub probe_bytes_received: u64,
    /// Frames handed to [`VirtualHost::receive`].
    pub frames_received: u64,
    /// Frames taken with [`VirtualHost::take_transmitted`].
    pub frames_sent: u64,
}

/// How many released TCP ports wait before one is picked again (a quarter
/// of the ephemeral range).
const TCP_PORT_QUARANTINE: usize = 7_000;
/// TCP receive and send buffers (each), servers and probes.
const TCP_BUFFER: usize = 32 * 1024;
/// UDP server buffers: datagrams and bytes (each direction).
const UDP_SERVER_PACKETS: usize = 16;
const UDP_SERVER_BYTES: usize = 64 * 1024;
/// Receive queue of a probe's ICMP socket (echo replies or errors).
const ICMP_RX_PACKETS: usize = 4;
/// The ICMP echo data, as Linux `ping` sends it: 56 bytes.
const PING_DATA_LEN: usize = 56;
/// A received error quotes at most the minimum MTU's worth of the original.
const ICMP_ERROR_BYTES: usize = 1280;

/// A server connection (or a listening socket waiting for one).
#[derive(Debug)]
struct ServerConn {
    port: u16,
    handle: SocketHandle,
    /// The handshake completed (counted once).
    accepted: bool,
    /// Application hosts: a number the caller answers by.
    id: u64,
    /// Application hosts: bytes of a request not complete yet.
    request: Vec<u8>,
    /// Application hosts: the answer not sent yet; the connection closes once
    /// it is.
    answer: Vec<u8>,
    answered: bool,
}

#[derive(Debug)]
enum ProbeKind {
    Tcp {
        /// `None` once the socket closed and was released.
        socket: Option<SocketHandle>,
        /// ICMP errors quoting this connection's segments.
        errors: Option<SocketHandle>,
        established: bool,
        icmp_error: bool,
        /// Bytes queued by `tcp_send`, not yet taken by the socket.
        outbox: Vec<u8>,
        received: Vec<u8>,
    },
    Udp {
        socket: Option<SocketHandle>,
        errors: Option<SocketHandle>,
        remote: IpEndpoint,
    },
    Ping {
        socket: Option<SocketHandle>,
        remote: IpAddr,
        seq: u16,
    },
    Dns {
        socket: Option<SocketHandle>,
        query: DnsQuery,
    },
    /// Could not be started.
    Failed,
}

/// smoltcp's query handle, which has no `Debug`.
struct DnsQuery(dns::QueryHandle);

impl std::fmt::Debug for DnsQuery {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DnsQuery")
    }
}

#[derive(Debug)]
struct Probe {
    kind: ProbeKind,
    status: ProbeStatus,
    local_port: u16,
}

/// One virtual machine with one interface, driven in simulated time.
pub struct VirtualHost {
    config: HostConfig,
    iface: Interface,
    device: FrameQueue,
    /// Received frames, not yet handed to the stack.
    inbox: VecDeque<Vec<u8>>,
    neighbours: Neighbours,
    sockets: SocketSet<'static>,
    rng: HostRng,
    servers: Vec<ServerConn>,
    /// Ports the host listens on (from its configuration), for lookup.
    listening_tcp: BTreeSet<u16>,
    listening_udp: BTreeSet<u16>,
    /// UDP echo servers by port, made at their first datagram.
    udp_servers: Vec<(u16, SocketHandle)>,
    probes: Vec<Probe>,
    /// The probes that still hold a socket, in the order they were opened:
    /// bookkeeping visits these, not every probe a long run ever made.
    open_probes: Vec<ProbeId>,
    /// Local TCP ports in use: listeners and open probe connections.
    tcp_ports: BTreeSet<u16>,
    /// TCP ports released lately, oldest first, not picked again until
    /// [`TCP_PORT_QUARANTINE`] others have been released: the peer may still
    /// hold the old connection (TIME-WAIT, a RST in flight), and a new SYN
    /// on the same four-tuple would meet it, as on Linux.
    tcp_released: std::collections::VecDeque<u16>,
    /// The same ports, for lookup.
    tcp_quarantined: BTreeSet<u16>,
    /// Local UDP ports in use: listeners and waiting probes.
    udp_ports: BTreeSet<u16>,
    /// ICMP echo identifiers of waiting pings.
    icmp_idents: BTreeSet<u16>,
    stats: HostStats,
    /// Reused copy buffer for the echo servers.
    scratch: Vec<u8>,
    /// Application hosts: requests waiting for the caller.
    requests: Vec<AppRequest>,
    next_conn: u64,
}

impl std::fmt::Debug for VirtualHost {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VirtualHost")
            .field("name", &self.config.name)
            .field("probes", &self.probes.len())
            .field("server_sockets", &self.servers.len())
            .field("stats", &self.stats)
            .finish_non_exhaustive()
    }
}

/// The echo servers' and probes' copy buffer: every byte is written before
/// it is read, so a buffer a host left behind serves the next one as it is.
const SCRATCH: usize = if UDP_SERVER_BYTES > TCP_BUFFER { UDP_SERVER_BYTES } else { TCP_BUFFER };
/// Copy buffers kept for reuse per thread, at most.
const SCRATCH_KEPT: usize = 16;

thread_local! {
    /// Copy buffers of hosts that are gone: `check` makes a few hosts per
    /// probe, thousands of probes per thread, and zeroing 64 KiB for each
    /// would be a good part of a probe's cost.
    static SCRATCH_POOL: std::cell::RefCell<Vec<Vec<u8>>> = const { std::cell::RefCell::new(Vec::new()) };
}

fn scratch_buffer() -> Vec<u8> {
    SCRATCH_POOL.with_borrow_mut(Vec::pop).filter(|b| b.len() == SCRATCH).unwrap_or_else(|| vec![0; SCRATCH])
}

impl Drop for VirtualHost {
    fn drop(&mut self) {
        let scratch = std::mem::take(&mut self.scratch);
        if scratch.len() == SCRATCH {
            // `try_with`: a host dropped while the thread itself ends keeps
            // nothing.
            let _ = SCRATCH_POOL.try_with(|pool| {
                let mut pool = pool.borrow_mut();
                if pool.len() < SCRATCH_KEPT {
                    pool.push(scratch);
                }
            });
        }
    }
}

fn instant(t: Duration) -> Instant {
    Instant::from_micros(i64::try_from(t.as_micros()).unwrap_or(i64::MAX))
}

fn duration(t: Instant) -> Duration {
    Duration::from_micros(u64::try_from(t.total_micros()).unwrap_or(0))
}

/// Whether a TCP state comes after a completed handshake.
fn is_established(state: tcp::State) -> bool {
    use tcp::State::*;
    matches!(state, Established | FinWait1 | FinWait2 | CloseWait | Closing | LastAck | TimeWait)
}

fn tcp_socket() -> tcp::Socket<'static> {
    tcp::Socket::new(tcp::SocketBuffer::new(vec![0; TCP_BUFFER]), tcp::SocketBuffer::new(vec![0; TCP_BUFFER]))
}

fn icmp_socket(rx_packets: usize, rx_bytes: usize, tx_bytes: usize) -> icmp::Socket<'static> {
    icmp::Socket::new(
        icmp::PacketBuffer::new(vec![icmp::PacketMetadata::EMPTY; rx_packets], vec![0; rx_bytes]),
        icmp::PacketBuffer::new(vec![icmp::PacketMetadata::EMPTY; 1], vec![0; tx_bytes]),
    )
}

impl VirtualHost {
    /// A host that has just booted at `now`: addresses and default routes set,
    /// servers listening, nothing sent yet.
    ///
    /// # Panics
    /// If `config.mac` is not a unicast address (smoltcp refuses it); the MACs
    /// of a topology always are.
    pub fn new(config: HostConfig, now: Duration) -> VirtualHost {
        let mut device = FrameQueue::new(config.mtu);
        let mut iface_config = Config::new(HardwareAddress::Ethernet(EthernetAddress(config.mac)));
        // Its own stream, distinct from the ports' and identifiers' generator.
        iface_config.random_seed = splitmix64(config.seed ^ 0x736d_6f6c_7463_7000);
        let mut iface = Interface::new(iface_config, &mut device, instant(now));
        let (v4, v4_len, v4_gateway) = config.ipv4;
        let has_v4 = !v4.is_unspecified();
        iface.update_ip_addrs(|addrs| {
            if has_v4 {
                addrs.push(IpCidr::new(IpAddress::Ipv4(v4), v4_len.min(32))).expect("room for the IPv4 address");
            }
            if let Some((v6, v6_len, _)) = config.ipv6 {
                addrs.push(IpCidr::new(IpAddress::Ipv6(v6), v6_len.min(128))).expect("room for the IPv6 address");
            }
        });
        if has_v4 {
            iface.routes_mut().add_default_ipv4_route(v4_gateway).expect("room for the IPv4 default route");
        }
        if let Some((_, _, v6_gateway)) = config.ipv6 {
            iface.routes_mut().add_default_ipv6_route(v6_gateway).expect("room for the IPv6 default route");
        }

        let neighbours = Neighbours::new(config.mac, has_v4.then_some(config.ipv4), config.ipv6);
        // Like a booting machine, find the gateways first (see `neighbours`).
        device.tx.extend(neighbours.boot_frames());
        let mut host = VirtualHost {
            inbox: VecDeque::new(),
            neighbours,
            rng: HostRng::new(config.seed),
            iface,
            device,
            sockets: SocketSet::new(Vec::new()),
            servers: Vec::new(),
            udp_servers: Vec::new(),
            listening_tcp: BTreeSet::new(),
            listening_udp: BTreeSet::new(),
            probes: Vec::new(),
            open_probes: Vec::new(),
            tcp_ports: BTreeSet::new(),
            tcp_released: std::collections::VecDeque::new(),
            tcp_quarantined: BTreeSet::new(),
            udp_ports: BTreeSet::new(),
            icmp_idents: BTreeSet::new(),
            stats: HostStats::default(),
            // Sized at the first socket: most hosts of a large network stay idle.
            scratch: Vec::new(),
            requests: Vec::new(),
            next_conn: 0,
            config,
        };
        // Ports are reserved now; their sockets (and buffers) are made when
        // the first segment or datagram for them arrives, so an idle listener
        // costs nothing but its number.
        for l in &host.config.listen {
            match l.proto {
                Protocol::Tcp => {
                    host.tcp_ports.insert(l.port);
                    host.listening_tcp.insert(l.port);
                }
                Protocol::Udp => {
                    host.udp_ports.insert(l.port);
                    host.listening_udp.insert(l.port);
                }
                _ => {}
            }
        }
        host
    }

    /// The configuration the host was built from.
    pub fn config(&self) -> &HostConfig {
        &self.config
    }

    /// A frame arrives from the network (queued; processed at the next poll).
    pub fn receive(&mut self, frame: Vec<u8>) {
        self.stats.frames_received += 1;
        self.inbox.push_back(frame);
    }

    /// Runs the stack and the host's servers at `now`: processes received
    /// frames, accepts/answers/echoes, sends what is due. Call repeatedly; cheap
    /// when idle.
    pub fn poll(&mut self, now: Duration) {
        let ts = instant(now);
        self.iface.poll_maintenance(ts);
        self.device.rx.extend(self.neighbours.refresh_gateways(now));
        while let Some(frame) = self.inbox.pop_front() {
            if let Some(confirmation) = self.neighbours.observe(&frame, now) {
                self.device.rx.push_back(confirmation);
            }
            self.device.rx.push_back(frame);
        }
        loop {
            if let Some(to) = self.device.rx.front().and_then(|f| arriving(f)) {
                self.open_server(to);
            }
            if self.iface.poll_ingress_single(ts, &mut self.device, &mut self.sockets) == PollIngressSingleResult::None
            {
                break;
            }
        }
        if self.scratch.is_empty() && self.sockets.iter().next().is_some() {
            self.scratch = scratch_buffer();
        }
        self.run_servers();
        self.run_probes();
        while self.iface.poll_egress(ts, &mut self.device, &mut self.sockets) != PollResult::None {}
    }

    /// Frames the host sent since the last call, in order.
    pub fn take_transmitted(&mut self) -> Vec<Vec<u8>> {
        let frames = std::mem::take(&mut self.device.tx);
        self.stats.frames_sent += frames.len() as u64;
        frames
    }

    /// When the stack next needs a poll (retransmission timers, etc.), if ever.
    /// Absolute simulated time, never before `now`; `now` when received frames
    /// wait.
    pub fn poll_at(&mut self, now: Duration) -> Option<Duration> {
        if !self.inbox.is_empty() || !self.device.rx.is_empty() {
            return Some(now);
        }
        self.iface.poll_at(instant(now), &self.sockets).map(|t| duration(t).max(now))
    }

    /// Opens a TCP connection (client) from an ephemeral port picked as Linux
    /// does: 32768–60999, from the seeded RNG, never one in use. The SYN goes
    /// out at the next poll. A destination smoltcp cannot connect to (port 0,
    /// an unspecified address) makes the probe `Unreachable` at once.
    pub fn tcp_connect(&mut self, dst: IpAddr, port: u16) -> ProbeId {
        let (ports, released) = (&self.tcp_ports, &self.tcp_quarantined);
        let taken = |p| ports.contains(&p) || released.contains(&p);
        let Some(local) = self.rng.pick_free(EPHEMERAL_FIRST, EPHEMERAL_LAST, taken) else {
            return self.push_failed();
        };
        self.solicit(dst);
        let mut socket = tcp_socket();
        if socket.connect(self.iface.context(), (IpAddress::from(dst), port), local).is_err() {
            return self.push_failed();
        }
        let mut errors = icmp_socket(ICMP_RX_PACKETS, ICMP_RX_PACKETS * ICMP_ERROR_BYTES, 0);
        let errors = errors.bind(icmp::Endpoint::Tcp(IpListenEndpoint::from(local))).ok().map(|()| errors);
        self.tcp_ports.insert(local);
        let socket = Some(self.sockets.add(socket));
        let errors = errors.map(|e| self.sockets.add(e));
        self.push_probe(
            ProbeKind::Tcp {
                socket,
                errors,
                established: false,
                icmp_error: false,
                outbox: Vec::new(),
                received: Vec::new(),
            },
            local,
        )
    }

    /// Queues bytes to send on a TCP probe's connection; they go out once it
    /// is established. Returns how many bytes were accepted: all of them, or 0
    /// when the probe is not a TCP connection that may still send.
    pub fn tcp_send(&mut self, probe: ProbeId, data: &[u8]) -> usize {
        let Some(Probe { kind: ProbeKind::Tcp { socket: Some(handle), outbox, .. }, .. }) = self.probes.get_mut(probe)
        else {
            return 0;
        };
        let socket = self.sockets.get::<tcp::Socket>(*handle);
        let open = matches!(socket.state(), tcp::State::SynSent | tcp::State::SynReceived) || socket.may_send();
        if !open {
            return 0;
        }
        outbox.extend_from_slice(data);
        data.len()
    }

    /// Bytes received on a probe's connection so far (appended; the caller
    /// reads them). Empty for other probes.
    pub fn tcp_received(&self, probe: ProbeId) -> &[u8] {
        match self.probes.get(probe) {
            Some(Probe { kind: ProbeKind::Tcp { received, .. }, .. }) => received,
            _ => &[],
        }
    }

    /// Sends one UDP datagram from an ephemeral port; `Replied` when a datagram
    /// comes back to that port from `dst:port`, `Unreachable` when an ICMP
    /// error quoting it comes back.
    pub fn udp_probe(&mut self, dst: IpAddr, port: u16, payload: &[u8]) -> ProbeId {
        let ports = &self.udp_ports;
        let Some(local) = self.rng.pick_free(EPHEMERAL_FIRST, EPHEMERAL_LAST, |p| ports.contains(&p)) else {
            return self.push_failed();
        };
        self.solicit(dst);
        let rx_bytes = (self.config.mtu * 2).max(payload.len());
        let mut socket = udp::Socket::new(
            udp::PacketBuffer::new(vec![udp::PacketMetadata::EMPTY; 4], vec![0; rx_bytes]),
            udp::PacketBuffer::new(vec![udp::PacketMetadata::EMPTY; 1], vec![0; payload.len()]),
        );
        let remote = IpEndpoint::new(IpAddress::from(dst), port);
        if socket.bind(local).is_err() || socket.send_slice(payload, remote).is_err() {
            return self.push_failed();
        }
        let mut errors = icmp_socket(ICMP_RX_PACKETS, ICMP_RX_PACKETS * ICMP_ERROR_BYTES, 0);
        let errors = errors.bind(icmp::Endpoint::Udp(IpListenEndpoint::from(local))).ok().map(|()| errors);
        self.udp_ports.insert(local);
        self.stats.probe_bytes_sent += payload.len() as u64;
        let socket = Some(self.sockets.add(socket));
        let errors = errors.map(|e| self.sockets.add(e));
        self.push_probe(ProbeKind::Udp { socket, errors, remote }, local)
    }

    /// Sends one ICMP (v4 or v6, by `dst`'s family) echo request with its own
    /// identifier and 56 bytes of data, as Linux `ping` does; `Replied` on the
    /// matching echo reply.
    pub fn ping(&mut self, now: Duration, dst: IpAddr) -> ProbeId {
        let idents = &self.icmp_idents;
        let Some(ident) = self.rng.pick_free(1, u16::MAX, |i| idents.contains(&i)) else {
            return self.push_failed();
        };
        self.solicit(dst);
        let seq: u16 = 1;
        let mut packet = [0u8; 8 + PING_DATA_LEN];
        // Type, code 0, checksum (computed when sent), identifier, sequence.
        packet[0] = match dst {
            IpAddr::V4(_) => 8,
            IpAddr::V6(_) => 128,
        };
        packet[4..6].copy_from_slice(&ident.to_be_bytes());
        packet[6..8].copy_from_slice(&seq.to_be_bytes());
        // Data: the send time as a timeval (seconds, microseconds), then
        // 0x10, 0x11, ... like Linux `ping`.
        packet[8..16].copy_from_slice(&now.as_secs().to_le_bytes());
        packet[16..24].copy_from_slice(&u64::from(now.subsec_micros()).to_le_bytes());
        for (i, b) in packet[24..].iter_mut().enumerate() {
            *b = 0x10 + i as u8;
        }
        let mut socket = icmp_socket(ICMP_RX_PACKETS, ICMP_RX_PACKETS * (self.config.mtu + 8), packet.len());
        if socket.bind(icmp::Endpoint::Ident(ident)).is_err() || socket.send_slice(&packet, dst.into()).is_err() {
            return self.push_failed();
        }
        self.icmp_idents.insert(ident);
        self.stats.probe_bytes_sent += PING_DATA_LEN as u64;
        let socket = Some(self.sockets.add(socket));
        self.push_probe(ProbeKind::Ping { socket, remote: dst, seq }, ident)
    }

    /// Resolves `name` (A, or AAAA when `ipv6`) by asking the host's DNS
    /// server with real queries; `Resolved` with the first address, or
    /// `NxDomain`.
    pub fn resolve(&mut self, name: &str, ipv6: bool) -> ProbeId {
        let Some(server) = self.config.dns_server else {
            return self.push_failed();
        };
        let mut socket = dns::Socket::new(&[IpAddress::from(server)], vec![None]);
        let qtype = if ipv6 { smoltcp::wire::DnsQueryType::Aaaa } else { smoltcp::wire::DnsQueryType::A };
        let Ok(query) = socket.start_query(self.iface.context(), name, qtype) else {
            return self.push_failed();
        };
        let socket = Some(self.sockets.add(socket));
        self.push_probe(ProbeKind::Dns { socket, query: DnsQuery(query) }, 0)
    }

    /// Application hosts: the requests received since the last call.
    pub fn take_requests(&mut self) -> Vec<AppRequest> {
        std::mem::take(&mut self.requests)
    }

    /// Application hosts: answers request connection `conn` with `data`, then
    /// closes it. False when the connection is gone.
    pub fn respond(&mut self, conn: u64, data: &[u8]) -> bool {
        match self.servers.iter_mut().find(|c| c.id == conn) {
            Some(c) => {
                c.answer.extend_from_slice(data);
                c.answered = true;
                true
            }
            None => false,
        }
    }

    /// Ends a TCP probe's connection at once with a RST, so that both ends'
    /// sockets (and their buffers) are freed at the next poll instead of
    /// staying open, or in TIME-WAIT, for the rest of the run. Its status
    /// stays what it was. Nothing for other probes or an unknown id.
    pub fn abort_probe(&mut self, probe: ProbeId) {
        if let Some(Probe { kind: ProbeKind::Tcp { socket: Some(handle), .. }, .. }) = self.probes.get(probe) {
            self.sockets.get_mut::<tcp::Socket>(*handle).abort();
        }
    }

    /// A probe's outcome so far (`Pending` for an unknown id).
    pub fn probe_status(&self, probe: ProbeId) -> ProbeStatus {
        self.probes.get(probe).map_or(ProbeStatus::Pending, |p| p.status)
    }

    /// The local (source) port the probe used (ICMP: the echo identifier; 0
    /// for an unknown id or a probe that could not start).
    pub fn probe_local_port(&self, probe: ProbeId) -> u16 {
        self.probes.get(probe).map_or(0, |p| p.local_port)
    }

    /// Counters for summaries.
    pub fn stats(&self) -> HostStats {
        self.stats
    }

    /// Before a probe to an on-link address, ask for its MAC (see
    /// `Neighbours::solicit_on_link`).
    fn solicit(&mut self, dst: IpAddr) {
        if let Some(frame) = self.neighbours.solicit_on_link(dst) {
            self.device.tx.push(frame);
        }
    }

    fn push_probe(&mut self, kind: ProbeKind, local_port: u16) -> ProbeId {
        self.probes.push(Probe { kind, status: ProbeStatus::Pending, local_port });
        self.open_probes.push(self.probes.len() - 1);
        self.probes.len() - 1
    }

    fn push_failed(&mut self) -> ProbeId {
        self.probes.push(Probe { kind: ProbeKind::Failed, status: ProbeStatus::Unreachable, local_port: 0 });
        self.probes.len() - 1
    }

    /// Makes the server socket a segment or datagram needs before the stack
    /// reads it: a listening socket for a SYN to a TCP port the host listens
    /// on (when none is listening there now), the bound socket of a UDP port
    /// it serves. A port it does not listen on gets nothing, so the stack
    /// answers as it must (a RST, port unreachable).
    fn open_server(&mut self, to: Arriving) {
        let listening = match to {
            Arriving::TcpSyn(port) => self.listening_tcp.contains(&port),
            Arriving::Udp(port) => self.listening_udp.contains(&port),
        };
        if !listening {
            return;
        }
        match to {
            Arriving::TcpSyn(port) => {
                let listening = self
                    .servers
                    .iter()
                    .any(|c| c.port == port && self.sockets.get::<tcp::Socket>(c.handle).state() == tcp::State::Listen);
                if listening {
                    return;
                }
                let mut socket = tcp_socket();
                if socket.listen(port).is_err() {
                    // Port 0: no valid topology has one.
                    return;
                }
                let handle = self.sockets.add(socket);
                self.next_conn += 1;
                self.servers.push(ServerConn {
                    port,
                    handle,
                    accepted: false,
                    id: self.next_conn,
                    request: Vec::new(),
                    answer: Vec::new(),
                    answered: false,
                });
            }
            Arriving::Udp(port) => {
                if self.udp_servers.iter().any(|&(p, _)| p == port) {
                    return;
                }
                let mut socket = udp::Socket::new(
                    udp::PacketBuffer::new(
                        vec![udp::PacketMetadata::EMPTY; UDP_SERVER_PACKETS],
                        vec![0; UDP_SERVER_BYTES],
                    ),
                    udp::PacketBuffer::new(
                        vec![udp::PacketMetadata::EMPTY; UDP_SERVER_PACKETS],
                        vec![0; UDP_SERVER_BYTES],
                    ),
                );
                // Port 0 (refused by smoltcp) cannot come from a valid topology.
                if socket.bind(port).is_ok() {
                    self.udp_servers.push((port, self.sockets.add(socket)));
                }
            }
        }
    }

    /// The servers: TCP connections echo what they receive and close when the
    /// peer has; closed ones are released; UDP servers echo each datagram.
    fn run_servers(&mut self) {
        let VirtualHost { sockets, servers, udp_servers, stats, scratch, config, requests, .. } = self;
        let application = config.application;
        servers.retain_mut(|conn| {
            let socket = sockets.get_mut::<tcp::Socket>(conn.handle);
            let state = socket.state();
            if !conn.accepted && is_established(state) {
                conn.accepted = true;
                stats.connections_accepted += 1;
            }
            if application {
                while socket.can_recv() {
                    let n = socket.recv_slice(scratch).unwrap_or(0);
                    if n == 0 {
                        break;
                    }
                    stats.server_bytes_received += n as u64;
                    conn.request.extend_from_slice(&scratch[..n]);
                }
                if let Some(end) = conn.request.windows(4).position(|w| w == b"\r\n\r\n") {
                    let bytes: Vec<u8> = conn.request.drain(..end + 4).collect();
                    let (local, remote) = (socket.local_endpoint(), socket.remote_endpoint());
                    if let (Some(l), Some(r)) = (local, remote) {
                        requests.push(AppRequest {
                            conn: conn.id,
                            local: (IpAddr::from(l.addr), l.port),
                            remote: (IpAddr::from(r.addr), r.port),
                            bytes,
                        });
                    }
                }
                if !conn.answer.is_empty() && socket.may_send() {
                    let n = socket.send_slice(&conn.answer).unwrap_or(0);
                    stats.server_bytes_sent += n as u64;
                    conn.answer.drain(..n);
                    if conn.answer.is_empty() && conn.answered {
                        socket.close();
                    }
                }
                if state == tcp::State::CloseWait && conn.answer.is_empty() {
                    socket.close();
                }
                if state == tcp::State::Closed {
                    sockets.remove(conn.handle);
                    return false;
                }
                return true;
            }
            while socket.can_recv() {
                let room = if socket.may_send() { socket.send_capacity() - socket.send_queue() } else { scratch.len() };
                if room == 0 {
                    break;
                }
                let len = room.min(scratch.len());
                let n = socket.recv_slice(&mut scratch[..len]).unwrap_or(0);
                if n == 0 {
                    break;
                }
                stats.server_bytes_received += n as u64;
                if socket.may_send() {
                    stats.server_bytes_sent += socket.send_slice(&scratch[..n]).unwrap_or(0) as u64;
                }
            }
            if state == tcp::State::CloseWait && socket.recv_queue() == 0 {
                socket.close();
            }
            if state == tcp::State::Closed {
                sockets.remove(conn.handle);
                return false;
            }
            true
        });
        for &(_, handle) in udp_servers.iter() {
            let socket = sockets.get_mut::<udp::Socket>(handle);
            while socket.can_recv() && socket.can_send() {
                let Ok((n, meta)) = socket.recv_slice(scratch) else { break };
                stats.server_bytes_received += n as u64;
                let mut reply = udp::UdpMetadata::from(meta.endpoint);
                reply.local_address = meta.local_address;
                if socket.send_slice(&scratch[..n], reply).is_ok() {
                    stats.server_bytes_sent += n as u64;
                    stats.datagrams_echoed += 1;
                }
            }
        }
    }

    /// Probe bookkeeping: outcomes, received bytes, queued bytes; sockets of
    /// finished probes are released with their ports.
    fn run_probes(&mut self) {
        let VirtualHost {
            sockets,
            probes,
            stats,
            tcp_ports,
            tcp_released,
            tcp_quarantined,
            udp_ports,
            icmp_idents,
            scratch,
            open_probes,
            ..
        } = self;
        for &i in open_probes.iter() {
            let Some(probe) = probes.get_mut(i) else { continue };
            let local = probe.local_port;
            match &mut probe.kind {
                ProbeKind::Tcp { socket: socket_slot @ Some(_), errors, established, icmp_error, outbox, received } => {
                    let handle = socket_slot.expect("matched Some");
                    if let Some(e) = *errors {
                        let watch = sockets.get_mut::<icmp::Socket>(e);
                        while watch.recv().is_ok() {
                            *icmp_error = true;
                        }
                    }
                    let socket = sockets.get_mut::<tcp::Socket>(handle);
                    let state = socket.state();
                    *established |= is_established(state);
                    while socket.can_recv() {
                        let n = socket.recv_slice(scratch).unwrap_or(0);
                        if n == 0 {
                            break;
                        }
                        received.extend_from_slice(&scratch[..n]);
                        stats.probe_bytes_received += n as u64;
                    }
                    if !outbox.is_empty() && socket.may_send() {
                        let n = socket.send_slice(outbox).unwrap_or(0);
                        outbox.drain(..n);
                        stats.probe_bytes_sent += n as u64;
                    }
                    if state == tcp::State::CloseWait && outbox.is_empty() {
                        socket.close();
                    }
                    probe.status = if *established {
                        ProbeStatus::Connected
                    } else if state == tcp::State::Closed {
                        ProbeStatus::Refused
                    } else if *icmp_error {
                        ProbeStatus::Unreachable
                    } else {
                        ProbeStatus::Pending
                    };
                    // A closed socket that still knows its peer has a RST to
                    // send (an aborted probe): it is released once sent.
                    if state == tcp::State::Closed && socket.remote_endpoint().is_none() {
                        sockets.remove(handle);
                        if let Some(e) = errors.take() {
                            sockets.remove(e);
                        }
                        *socket_slot = None;
                        outbox.clear();
                        tcp_ports.remove(&local);
                        if tcp_released.len() == TCP_PORT_QUARANTINE
                            && let Some(oldest) = tcp_released.pop_front()
                        {
                            tcp_quarantined.remove(&oldest);
                        }
                        if tcp_quarantined.insert(local) {
                            tcp_released.push_back(local);
                        }
                    }
                }
                ProbeKind::Udp { socket: socket_slot @ Some(_), errors, remote } => {
                    let handle = socket_slot.expect("matched Some");
                    let socket = sockets.get_mut::<udp::Socket>(handle);
                    while let Ok((n, meta)) = socket.recv_slice(scratch) {
                        if meta.endpoint == *remote {
                            stats.probe_bytes_received += n as u64;
                            probe.status = ProbeStatus::Replied;
                        }
                    }
                    if let Some(e) = *errors {
                        let watch = sockets.get_mut::<icmp::Socket>(e);
                        while watch.recv().is_ok() {
                            if probe.status == ProbeStatus::Pending {
                                probe.status = ProbeStatus::Unreachable;
                            }
                        }
                    }
                    if probe.status != ProbeStatus::Pending {
                        sockets.remove(handle);
                        if let Some(e) = errors.take() {
                            sockets.remove(e);
                        }
                        *socket_slot = None;
                        udp_ports.remove(&local);
                    }
                }
                ProbeKind::Dns { socket: socket_slot @ Some(_), query } => {
                    let handle = socket_slot.expect("matched Some");
                    let socket = sockets.get_mut::<dns::Socket>(handle);
                    match socket.get_query_result(query.0) {
                        Ok(addrs) => {
                            probe.status = addrs
                                .first()
                                .map_or(ProbeStatus::NxDomain, |a| ProbeStatus::Resolved(IpAddr::from(*a)));
                        }
                        Err(dns::GetQueryResultError::Pending) => {}
                        Err(dns::GetQueryResultError::Failed) => probe.status = ProbeStatus::NxDomain,
                    }
                    if probe.status != ProbeStatus::Pending {
                        sockets.remove(handle);
                        *socket_slot = None;
                    }
                }
                ProbeKind::Ping { socket: socket_slot @ Some(_), remote, seq } => {
                    let handle = socket_slot.expect("matched Some");
                    let socket = sockets.get_mut::<icmp::Socket>(handle);
                    while let Ok((data, from)) = socket.recv() {
                        if IpAddr::from(from) == *remote && is_echo_reply(data, *remote, local, *seq) {
                            stats.probe_bytes_received += data.len().saturating_sub(8) as u64;
                            probe.status = ProbeStatus::Replied;
                        }
                    }
                    if probe.status != ProbeStatus::Pending {
                        sockets.remove(handle);
                        *socket_slot = None;
                        icmp_idents.remove(&local);
                    }
                }
                _ => {}
            }
        }
        open_probes.retain(|&i| probes.get(i).is_some_and(Probe::holds_socket));
    }
}

impl Probe {
    /// Whether the probe still has a socket to look after.
    fn holds_socket(&self) -> bool {
        match &self.kind {
            ProbeKind::Tcp { socket, .. }
            | ProbeKind::Udp { socket, .. }
            | ProbeKind::Ping { socket, .. }
            | ProbeKind::Dns { socket, .. } => socket.is_some(),
            ProbeKind::Failed => false,
        }
    }
}

/// What an arriving frame asks of the host's servers.
#[derive(Clone, Copy, Debug)]
enum Arriving {
    /// A TCP SYN (without ACK) to this port.
    TcpSyn(u16),
    /// A UDP datagram to this port.
    Udp(u16),
}

/// Reads just enough of a received frame to know whether a server socket must
/// exist before the stack sees it. Anything unreadable asks for nothing: the
/// stack then drops it as it would.
fn arriving(frame: &[u8]) -> Option<Arriving> {
    use smoltcp::wire::{EthernetFrame, EthernetProtocol, IpProtocol, Ipv4Packet, Ipv6Packet, TcpPacket, UdpPacket};
    let eth = EthernetFrame::new_checked(frame).ok()?;
    let (proto, payload) = match eth.ethertype() {
        EthernetProtocol::Ipv4 => {
            let ip = Ipv4Packet::new_checked(eth.payload()).ok()?;
            (ip.next_header(), ip.payload())
        }
        EthernetProtocol::Ipv6 => {
            let ip = Ipv6Packet::new_checked(eth.payload()).ok()?;
            (ip.next_header(), ip.payload())
        }
        _ => return None,
    };
    match proto {
        IpProtocol::Tcp => {
            let tcp = TcpPacket::new_checked(payload).ok()?;
            (tcp.syn() && !tcp.ack()).then(|| Arriving::TcpSyn(tcp.dst_port()))
        }
        IpProtocol::Udp => Some(Arriving::Udp(UdpPacket::new_checked(payload).ok()?.dst_port())),
        _ => None,
    }
}

/// Whether `data` (an ICMP message of `remote`'s family) is the echo reply
/// with this identifier and sequence number.
fn is_echo_reply(data: &[u8], remote: IpAddr, ident: u16, seq: u16) -> bool {
    match remote {
        IpAddr::V4(_) => Icmpv4Packet::new_checked(data).is_ok_and(|p| {
            p.msg_type() == Icmpv4Message::EchoReply && p.echo_ident() == ident && p.echo_seq_no() == seq
        }),
        IpAddr::V6(_) => Icmpv6Packet::new_checked(data).is_ok_and(|p| {
            p.msg_type() == Icmpv6Message::EchoReply && p.echo_ident() == ident && p.echo_seq_no() == seq
        }),
    }
}
