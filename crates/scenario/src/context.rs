//! The bottom of the validation phase: the id table, the errors, and the
//! topology being built. Every resource family's layer stands on this one
//! (`filters` → `network` → `gateways` → `transit` → `hosts` → `routes` →
//! `endpoints` → `builder`), each owning its own facts and seeing the layers
//! below it through `Deref`, never the ones above.

use std::collections::HashMap;
use std::net::IpAddr;
use std::ops::Range;

use ipnet::IpNet;
use toml::Spanned;
use vpcsim_model::{Topology, VpcIdx};

use crate::diagnostic::{Diagnostic, SourceMap};
use crate::values;

/// The kind of a resource: the table it sits in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    Vpc,
    Subnet,
    RouteTable,
    PrefixList,
    InternetGateway,
    SecurityGroup,
    Nacl,
    Host,
    GatewayEndpoint,
    InterfaceEndpoint,
    LoadBalancer,
    EndpointService,
    NatGateway,
    EgressOnlyInternetGateway,
    VpcPeering,
    /// A table of the contract this version does not simulate yet.
    Unsupported(&'static str),
    TransitGateway,
    TgwAttachment,
    TgwRouteTable,
    OnPrem,
    VpnGateway,
    VpnConnection,
    DnsZone,
}

impl Kind {
    pub(crate) fn table(self) -> &'static str {
        match self {
            Kind::Vpc => "vpc",
            Kind::Subnet => "subnet",
            Kind::RouteTable => "route_table",
            Kind::PrefixList => "prefix_list",
            Kind::InternetGateway => "internet_gateway",
            Kind::SecurityGroup => "security_group",
            Kind::Nacl => "nacl",
            Kind::Host => "host",
            Kind::GatewayEndpoint => "gateway_endpoint",
            Kind::InterfaceEndpoint => "interface_endpoint",
            Kind::LoadBalancer => "load_balancer",
            Kind::EndpointService => "endpoint_service",
            Kind::NatGateway => "nat_gateway",
            Kind::EgressOnlyInternetGateway => "egress_only_internet_gateway",
            Kind::VpcPeering => "vpc_peering",
            Kind::Unsupported(t) => t,
            Kind::TransitGateway => "transit_gateway",
            Kind::TgwAttachment => "tgw_attachment",
            Kind::TgwRouteTable => "tgw_route_table",
            Kind::OnPrem => "onprem",
            Kind::VpnGateway => "vpn_gateway",
            Kind::VpnConnection => "vpn_connection",
            Kind::DnsZone => "dns_zone",
        }
    }
}

/// "a vpc", "an internet_gateway".
pub(crate) fn a(word: &str) -> String {
    let article = if word.starts_with(['a', 'e', 'i', 'o', 'u']) { "an" } else { "a" };
    format!("{article} {word}")
}

#[derive(Clone, Debug)]
pub(crate) struct IdEntry {
    pub kind: Kind,
    /// The index in the topology's vector of that kind.
    pub index: usize,
    /// Where the id was defined; `None` for vpcsim's implicit resources.
    pub span: Option<Range<usize>>,
}

/// Who holds an address in an address space.
pub(crate) struct Holder {
    pub(crate) host: String,
    pub(crate) line: usize,
}

/// Makes `$upper` a layer on `$lower`: it reads and writes everything below
/// it as its own, so a family's checks read as they did on one builder.
macro_rules! on_top_of {
    ($upper:ident, $lower:ident) => {
        impl<'a> std::ops::Deref for $upper<'a> {
            type Target = $lower<'a>;
            fn deref(&self) -> &$lower<'a> {
                &self.below
            }
        }
        impl<'a> std::ops::DerefMut for $upper<'a> {
            fn deref_mut(&mut self) -> &mut $lower<'a> {
                &mut self.below
            }
        }
    };
}
pub(crate) use on_top_of;

/// What every family shares: where errors go, which id names what, and the
/// topology itself.
pub(crate) struct Context<'a> {
    map: &'a SourceMap<'a>,
    pub(crate) errors: Vec<Diagnostic>,
    pub(crate) ids: HashMap<String, IdEntry>,
    pub(crate) t: Topology,
}

impl<'a> Context<'a> {
    pub(crate) fn new(map: &'a SourceMap<'a>) -> Self {
        Context { map, errors: Vec::new(), ids: HashMap::new(), t: Topology::default() }
    }

    pub(crate) fn err(&mut self, span: Range<usize>, message: impl Into<String>) {
        let d = self.map.diagnostic(span, message);
        self.errors.push(d);
    }

    pub(crate) fn file(&self) -> &str {
        self.map.file()
    }

    pub(crate) fn line_of(&self, span: &Range<usize>) -> usize {
        self.map.line_of(span.start)
    }

    pub(crate) fn register(&mut self, id: &Spanned<String>, kind: Kind, index: usize) {
        if id.get_ref().is_empty() {
            self.err(id.span(), "an id must not be empty");
            return;
        }
        self.register_at(id.get_ref(), id.span(), kind, index);
    }

    fn register_at(&mut self, id: &str, span: Range<usize>, kind: Kind, index: usize) {
        if let Some(first) = self.ids.get(id) {
            let first = first.span.clone().map_or(0, |s| self.line_of(&s));
            self.err(span, format!("duplicate id `{id}` (first defined at line {first})"));
            return;
        }
        self.ids.insert(id.to_owned(), IdEntry { kind, index, span: Some(span) });
    }

    /// Registers the id of a resource vpcsim creates.
    pub(crate) fn register_implicit(&mut self, id: String, kind: Kind, index: usize, what: &str) {
        if let Some(user) = self.ids.get(&id) {
            if let Some(span) = user.span.clone() {
                self.err(span, format!("id `{id}` is reserved for {what}, which vpcsim creates"));
            }
            return;
        }
        self.ids.insert(id, IdEntry { kind, index, span: None });
    }

    /// Resolves a reference that must name a resource of `want`.
    pub(crate) fn resolve(&mut self, r: &Spanned<String>, want: Kind) -> Option<usize> {
        match self.ids.get(r.get_ref()) {
            Some(e) if e.kind == want => Some(e.index),
            Some(e) => {
                let msg = format!("`{}` is {}, not {}", r.get_ref(), a(e.kind.table()), a(want.table()));
                self.err(r.span(), msg);
                None
            }
            None => {
                let msg = format!("unknown {} `{}`", want.table(), r.get_ref());
                self.err(r.span(), msg);
                None
            }
        }
    }

    pub(crate) fn resolve_vpc(&mut self, r: &Spanned<String>) -> Option<VpcIdx> {
        self.resolve(r, Kind::Vpc).map(VpcIdx::from_index)
    }

    pub(crate) fn vpc_id(&self, v: VpcIdx) -> &str {
        &self.t.vpc(v).id
    }

    /// Claims `ip` in an address space for `host`; reports whoever had it.
    pub(crate) fn take(
        &mut self,
        space: &mut HashMap<IpAddr, Holder>,
        ip: IpAddr,
        host: &str,
        line: usize,
        span: Range<usize>,
        where_: &str,
    ) -> bool {
        if let Some(h) = space.get(&ip) {
            let msg = format!("{ip} is already taken{where_} by `{}` (line {})", h.host, h.line);
            self.err(span, msg);
            return false;
        }
        space.insert(ip, Holder { host: host.to_owned(), line });
        true
    }

    pub(crate) fn any_cidr(&mut self, c: &Spanned<String>) -> Option<IpNet> {
        values::cidr(c.get_ref()).map_err(|e| self.err(c.span(), e)).ok()
    }
}
