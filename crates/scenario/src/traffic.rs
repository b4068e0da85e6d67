//! Validation of `[[expect]]` and `[[flow]]`.

use std::net::IpAddr;
use std::time::Duration;

use toml::Spanned;
use vpcsim_model::{
    Destination, DropReason, Expectation, ExpectedResult, Flow, HostIdx, Leg, Protocol, Request, limits,
};

use crate::builder::Builder;
use crate::context::{Kind, a};
use crate::raw::{RawExpect, RawFlow, RawScenario};
use crate::values;

/// The default probe timeout.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(1);

impl Builder<'_> {
    pub(crate) fn traffic(&mut self, raw: &RawScenario) {
        for e in &raw.expect {
            if let Some(x) = self.expectation(e) {
                self.t.expectations.push(x);
            }
        }
        for f in &raw.flow {
            if let Some(x) = self.flow(f.get_ref()) {
                self.t.flows.push(x);
            }
        }
    }

    fn expectation(&mut self, s: &Spanned<RawExpect>) -> Option<Expectation> {
        let e = s.get_ref();
        let from = self.source_host(&e.from);
        let proto = self.traffic_proto(&e.proto);
        let to = self.destination(&e.to, proto);
        let port = self.traffic_port(e.port.as_ref(), proto, &e.proto);
        let at = self.duration(e.at.as_ref(), Duration::ZERO, limits::MAX_TIME, "at");
        let timeout = self.duration(e.timeout.as_ref(), DEFAULT_TIMEOUT, limits::MAX_TIMEOUT, "timeout");
        if let (Some(t), Some(Duration::ZERO)) = (&e.timeout, timeout) {
            self.err(t.span(), "`timeout` must be longer than 0");
        }
        let result = proto.and_then(|p| self.result(&e.result, p));
        let request = match &e.request {
            Some(r) if proto.is_some_and(|p| p != Protocol::Tcp) => {
                self.err(r.span(), "`request` is sent over a TCP connection: it needs proto = \"tcp\"");
                None
            }
            Some(r) => {
                let r = r.get_ref();
                Some(Request { action: r.action.clone(), resource: r.resource.clone(), principal: r.principal.clone() })
            }
            None => None,
        };
        for v in &e.via {
            self.known_id(v, "via");
        }
        // A denied request names what denied it the same way (`endpoint-policy`).
        let dropped = matches!(result, Some(ExpectedResult::Dropped | ExpectedResult::Denied));
        let only_when_dropped = |b: &mut Self, key: &str, span: Option<std::ops::Range<usize>>| {
            if let Some(span) = span
                && result.is_some()
                && !dropped
            {
                b.err(span, format!("`{key}` describes a drop: it goes with result = \"dropped\" (or \"denied\")"));
            }
        };
        only_when_dropped(self, "drop_reason", e.drop_reason.as_ref().map(|d| d.span()));
        only_when_dropped(self, "drop_at", e.drop_at.as_ref().map(|d| d.span()));
        only_when_dropped(self, "on", e.on.as_ref().map(|d| d.span()));
        let drop_reason = e.drop_reason.as_ref().and_then(|r| {
            let word = r.get_ref();
            let reason = DropReason::from_name(word);
            if reason.is_none() {
                let hint = match DropReason::did_you_mean(word) {
                    Some(close) => format!("did you mean `{close}`?"),
                    None => {
                        let all: Vec<&str> = DropReason::ALL.iter().map(|r| r.as_str()).collect();
                        format!("one of {}", all.join(", "))
                    }
                };
                self.err(r.span(), format!("`{word}` is not a drop reason: {hint}"));
            }
            reason
        });
        if let Some(d) = &e.drop_at {
            self.known_id(d, "drop_at");
        }
        let on = e.on.as_ref().and_then(|o| match o.get_ref().as_str() {
            "forward" => Some(Leg::Forward),
            "return" => Some(Leg::Return),
            other => {
                self.err(o.span(), format!("unknown leg `{other}`, expected `forward` or `return`"));
                None
            }
        });
        // The UDP payload of the probe's datagram (vpcsim's extension).
        let size = match (&e.size, proto) {
            (None, _) => None,
            (Some(s), Some(Protocol::Udp)) => match usize::try_from(*s.get_ref()) {
                Ok(n) if (1..=65_507).contains(&n) => Some(n),
                _ => {
                    self.err(
                        s.span(),
                        format!("size {} is out of range: 1 to 65507 bytes of UDP payload", s.get_ref()),
                    );
                    None
                }
            },
            (Some(s), _) => {
                self.err(s.span(), "`size` sets the payload of a UDP probe: it needs proto = \"udp\"");
                None
            }
        };
        let seen_source =
            e.seen_source.as_ref().and_then(|ip| values::ip(ip.get_ref()).map_err(|m| self.err(ip.span(), m)).ok());
        let name = e.name.clone().unwrap_or_else(|| {
            let port = e.port.as_ref().map_or(String::new(), |p| format!("/{}", p.get_ref()));
            format!("{} -> {} {}{port}", e.from.get_ref(), e.to.get_ref(), e.proto.get_ref())
        });
        Some(Expectation {
            name,
            from: from?,
            to: to?,
            proto: proto?,
            port: port?,
            at: at?,
            timeout: timeout?,
            request,
            result: result?,
            via: e.via.iter().map(|v| v.get_ref().clone()).collect(),
            drop_reason,
            drop_at: e.drop_at.as_ref().map(|d| d.get_ref().clone()),
            on: if e.on.is_some() { Some(on?) } else { None },
            seen_source: if e.seen_source.is_some() { Some(seen_source?) } else { None },
            size,
        })
    }

    fn flow(&mut self, f: &RawFlow) -> Option<Flow> {
        let from = self.source_host(&f.from);
        let proto = self.traffic_proto(&f.proto);
        let to = self.destination(&f.to, proto);
        let port = self.traffic_port(f.port.as_ref(), proto, &f.proto);
        let start = self.duration(f.start.as_ref(), Duration::ZERO, limits::MAX_TIME, "start");
        let requests = match &f.requests {
            None => Some(1),
            Some(r) => match u32::try_from(*r.get_ref()) {
                Ok(n) if (1..=limits::MAX_REQUESTS).contains(&n) => Some(n),
                _ => {
                    self.err(
                        r.span(),
                        format!("`requests` must be between 1 and {} (vpcsim's limit)", limits::MAX_REQUESTS),
                    );
                    None
                }
            },
        };
        // The limit holds for the file as a whole: the flows share one simulation.
        if let (Some(n), Some(r)) = (requests, &f.requests) {
            let total = self.t.flows.iter().map(|f| u64::from(f.requests)).sum::<u64>() + u64::from(n);
            if total > u64::from(limits::MAX_REQUESTS) {
                self.err(
                    r.span(),
                    format!("the flows make {total} requests in all; vpcsim's limit is {}", limits::MAX_REQUESTS),
                );
                return None;
            }
        }
        Some(Flow { from: from?, to: to?, proto: proto?, port: port?, start: start?, requests: requests? })
    }

    fn source_host(&mut self, r: &Spanned<String>) -> Option<HostIdx> {
        self.resolve(r, Kind::Host).map(HostIdx::from_index)
    }

    fn traffic_proto(&mut self, p: &Spanned<String>) -> Option<Protocol> {
        match p.get_ref().as_str() {
            "tcp" => Some(Protocol::Tcp),
            "udp" => Some(Protocol::Udp),
            "icmp" => Some(Protocol::Icmp),
            "icmpv6" => Some(Protocol::Icmpv6),
            other => {
                self.err(p.span(), format!("unknown proto `{other}`, expected one of `tcp`, `udp`, `icmp`, `icmpv6`"));
                None
            }
        }
    }

    /// `to`: a host id, an IP address or a DNS name, in that order.
    fn destination(&mut self, r: &Spanned<String>, proto: Option<Protocol>) -> Option<Destination> {
        let s = r.get_ref();
        let dest = if let Some(entry) = self.ids.get(s).cloned() {
            if entry.kind == Kind::InterfaceEndpoint {
                // An interface endpoint id stands for its regional DNS name.
                return self.t.interface_endpoints.get(entry.index).map(|e| Destination::Name(e.dns_name.clone()));
            }
            if entry.kind != Kind::Host {
                let msg =
                    format!("`{s}` is {}; `to` takes a host id, an IP address or a DNS name", a(entry.kind.table()));
                self.err(r.span(), msg);
                return None;
            }
            let (host, has_ipv4) = self.host_of(entry.index);
            // A host id stands for its IPv4 address, which ICMPv6 cannot reach.
            if proto == Some(Protocol::Icmpv6) {
                self.err(
                    r.span(),
                    format!("a host id in `to` means its IPv4 address; for icmpv6 give `{s}`'s IPv6 address"),
                );
                return None;
            }
            if !has_ipv4 {
                self.err(r.span(), format!("`{s}` has no IPv4 address; give its IPv6 address instead of its id"));
                return None;
            }
            Destination::Host(host)
        } else if let Ok(ip) = s.parse::<IpAddr>() {
            if let Some(what) = vpcsim_model::unusable_destination(ip) {
                self.err(r.span(), format!("{ip} is {what}: `to` takes a unicast address of another host"));
                return None;
            }
            let family_ok = match proto {
                Some(Protocol::Icmp) => ip.is_ipv4(),
                Some(Protocol::Icmpv6) => ip.is_ipv6(),
                _ => true,
            };
            if !family_ok {
                let want = if ip.is_ipv4() { "icmp" } else { "icmpv6" };
                self.err(
                    r.span(),
                    format!(
                        "{ip} is an IPv{} address: ping it with proto = \"{want}\"",
                        if ip.is_ipv4() { 4 } else { 6 }
                    ),
                );
                return None;
            }
            Destination::Ip(ip)
        } else if values::is_dns_name(s) {
            Destination::Name(s.clone())
        } else {
            self.err(r.span(), format!("`{s}` is neither a host id, an IP address nor a well-formed DNS name"));
            return None;
        };
        Some(dest)
    }

    /// The port: required for TCP and UDP, refused for ICMP. `Some(None)` is a
    /// valid absent port; `None` an error.
    fn traffic_port(
        &mut self,
        port: Option<&Spanned<i64>>,
        proto: Option<Protocol>,
        proto_span: &Spanned<String>,
    ) -> Option<Option<u16>> {
        let proto = proto?;
        let needs_port = matches!(proto, Protocol::Tcp | Protocol::Udp);
        match port {
            None if needs_port => {
                self.err(proto_span.span(), format!("{proto} needs a `port`"));
                None
            }
            None => Some(None),
            Some(p) if !needs_port => {
                self.err(p.span(), format!("{proto} has no ports; remove `port`"));
                None
            }
            Some(p) => match u16::try_from(*p.get_ref()) {
                Ok(n) if n >= 1 => Some(Some(n)),
                _ => {
                    self.err(p.span(), format!("port {} is out of range (1-65535)", p.get_ref()));
                    None
                }
            },
        }
    }

    /// A duration given as `key`, at most `max` (`vpcsim_model::limits`).
    fn duration(
        &mut self,
        d: Option<&Spanned<String>>,
        default: Duration,
        max: Duration,
        key: &str,
    ) -> Option<Duration> {
        match d {
            None => Some(default),
            Some(d) => values::duration_at_most(d.get_ref(), max, key).map_err(|m| self.err(d.span(), m)).ok(),
        }
    }

    fn result(&mut self, r: &Spanned<String>, proto: Protocol) -> Option<ExpectedResult> {
        let tcp = proto == Protocol::Tcp;
        let result = match r.get_ref().as_str() {
            "connected" if tcp => ExpectedResult::Connected,
            "refused" if tcp => ExpectedResult::Refused,
            "denied" if tcp => ExpectedResult::Denied,
            "replied" if !tcp => ExpectedResult::Replied,
            "dropped" => ExpectedResult::Dropped,
            other => {
                let expected =
                    if tcp { "`connected`, `refused`, `denied` or `dropped`" } else { "`replied` or `dropped`" };
                self.err(r.span(), format!("result `{other}` does not apply to {proto}: expected {expected}"));
                return None;
            }
        };
        Some(result)
    }

    /// An id an expectation names (`via`, `drop_at`): a resource of the file,
    /// an implicit one, or a host's network interface (`eni-<host>`).
    fn known_id(&mut self, r: &Spanned<String>, key: &str) {
        let s = r.get_ref();
        let eni = s.strip_prefix("eni-").is_some_and(|h| self.ids.get(h).is_some_and(|e| e.kind == Kind::Host));
        if !self.ids.contains_key(s) && !eni {
            self.err(r.span(), format!("unknown id `{s}` in `{key}`"));
        }
    }
}
