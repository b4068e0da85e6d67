//! From AWS describe-* JSON to scenario TOML.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::net::Ipv4Addr;

use crate::shapes::{self, AwsFile};
use crate::toml_text::{array, inline, quote};
use crate::{ImportError, Imported, Input, Warning};

/// Turns the files of one export into a scenario. Fails only when a file is
/// not JSON of the shape the AWS CLI prints (located by line and column);
/// everything else the scenario cannot hold is a warning.
pub fn import_aws(inputs: &[Input]) -> Result<Imported, ImportError> {
    let mut cx = Cx::default();
    for input in inputs {
        cx.add_file(input)?;
    }
    let toml = cx.emit(inputs);
    Ok(Imported { toml, warnings: cx.warnings })
}

/// One resource and the file it came from.
struct From<T> {
    file: String,
    item: T,
}

#[derive(Default)]
struct Cx {
    warnings: Vec<Warning>,
    vpcs: BTreeMap<String, From<shapes::Vpc>>,
    subnets: BTreeMap<String, From<shapes::Subnet>>,
    route_tables: BTreeMap<String, From<shapes::RouteTable>>,
    security_groups: BTreeMap<String, From<shapes::SecurityGroup>>,
    nacls: BTreeMap<String, From<shapes::NetworkAcl>>,
    igws: BTreeMap<String, From<shapes::InternetGateway>>,
    instances: BTreeMap<String, From<shapes::Instance>>,
}

/// What the scenario holds of a VPC, for the checks of the others.
struct VpcOut {
    cidr: Option<(u32, u8)>,
    region: Option<String>,
}

/// What the scenario holds of a host, for routes to it.
struct HostOut {
    vpc: String,
    primary_eni: Option<String>,
}

fn insert<T>(
    map: &mut BTreeMap<String, From<T>>,
    warnings: &mut Vec<Warning>,
    kind: &str,
    file: &str,
    id: Option<&str>,
    item: T,
) {
    let Some(id) = id.filter(|id| !id.is_empty()) else {
        warnings.push(warning(file, kind, "?", "has no id; skipped"));
        return;
    };
    if let Some(first) = map.get(id) {
        let message = format!("also in {}; the first is kept", first.file);
        warnings.push(warning(file, kind, id, message));
        return;
    }
    map.insert(id.to_string(), From { file: file.to_string(), item });
}

fn warning(file: &str, kind: &str, id: &str, message: impl Into<String>) -> Warning {
    Warning { file: file.to_string(), kind: kind.to_string(), id: id.to_string(), message: message.into() }
}

impl Cx {
    fn warn(&mut self, file: &str, kind: &str, id: &str, message: impl Into<String>) {
        self.warnings.push(warning(file, kind, id, message));
    }

    fn add_file(&mut self, input: &Input) -> Result<(), ImportError> {
        let json_error = |e: serde_json::Error| {
            let text = e.to_string();
            let message = match text.rsplit_once(" at line ") {
                Some((m, _)) => m.to_string(),
                None => text,
            };
            ImportError::Json { file: input.path.clone(), line: e.line(), column: e.column(), message }
        };
        let file: AwsFile = serde_json::from_slice(&input.bytes).map_err(json_error)?;
        let keys: BTreeMap<String, serde::de::IgnoredAny> = serde_json::from_slice(&input.bytes).map_err(json_error)?;
        let path = input.path.as_str();
        for key in keys.keys() {
            if !shapes::KNOWN_KEYS.contains(&key.as_str()) && !shapes::IGNORED_KEYS.contains(&key.as_str()) {
                self.warn(path, key, "*", "this kind of resource is not imported yet; skipped");
            }
        }
        if keys.is_empty() {
            self.warn(path, "file", "*", "no top-level key: nothing to import");
        }
        let w = &mut self.warnings;
        for v in file.vpcs.unwrap_or_default() {
            let id = v.vpc_id.clone();
            insert(&mut self.vpcs, w, "vpc", path, id.as_deref(), v);
        }
        for s in file.subnets.unwrap_or_default() {
            let id = s.subnet_id.clone();
            insert(&mut self.subnets, w, "subnet", path, id.as_deref(), s);
        }
        for r in file.route_tables.unwrap_or_default() {
            let id = r.route_table_id.clone();
            insert(&mut self.route_tables, w, "route-table", path, id.as_deref(), r);
        }
        for g in file.security_groups.unwrap_or_default() {
            let id = g.group_id.clone();
            insert(&mut self.security_groups, w, "security-group", path, id.as_deref(), g);
        }
        for n in file.network_acls.unwrap_or_default() {
            let id = n.network_acl_id.clone();
            insert(&mut self.nacls, w, "network-acl", path, id.as_deref(), n);
        }
        for g in file.internet_gateways.unwrap_or_default() {
            let id = g.internet_gateway_id.clone();
            insert(&mut self.igws, w, "internet-gateway", path, id.as_deref(), g);
        }
        for r in file.reservations.unwrap_or_default() {
            for i in r.instances {
                let id = i.instance_id.clone();
                insert(&mut self.instances, w, "instance", path, id.as_deref(), i);
            }
        }
        Ok(())
    }

    fn emit(&mut self, inputs: &[Input]) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "# Imported by `vpcsim import aws` from AWS describe-* JSON:");
        let mut names: Vec<&str> = inputs.iter().map(|i| i.relative.as_str()).collect();
        names.sort_unstable();
        for name in names {
            let _ = writeln!(out, "#   {}", quote(name));
        }
        let _ = writeln!(out, "# The ids are AWS's. See docs/import.md for what maps to what.\n");
        let _ = writeln!(out, "name = \"Imported AWS network\"\n");

        let vpcs = self.emit_vpcs(&mut out);
        let subnet_vpc: BTreeMap<String, String> = self
            .subnets
            .iter()
            .filter_map(|(id, s)| {
                let vpc = s.item.vpc_id.as_deref()?;
                let ok = vpcs.contains_key(vpc) && s.item.cidr_block.is_some();
                ok.then(|| (id.clone(), vpc.to_string()))
            })
            .collect();
        let igw_by_vpc = self.emit_igws(&mut out, &vpcs);
        let sg_vpc: BTreeMap<String, String> = self
            .security_groups
            .iter()
            .filter_map(|(id, g)| {
                let vpc = g.item.vpc_id.as_deref()?;
                vpcs.contains_key(vpc).then(|| (id.clone(), vpc.to_string()))
            })
            .collect();
        let (hosts_text, hosts) = self.hosts(&subnet_vpc, &sg_vpc);
        let subnet_rt = self.emit_route_tables(&mut out, &vpcs, &subnet_vpc, &igw_by_vpc, &hosts);
        let mut nacl_text = String::new();
        let subnet_nacl = self.emit_nacls(&mut nacl_text, &vpcs, &subnet_vpc);
        self.emit_subnets(&mut out, &vpcs, &subnet_vpc, &subnet_rt, &subnet_nacl);
        self.emit_security_groups(&mut out, &sg_vpc);
        out.push_str(&nacl_text);
        out.push_str(&hosts_text);
        out
    }

    fn emit_vpcs(&mut self, out: &mut String) -> BTreeMap<String, VpcOut> {
        let mut regions: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for s in self.subnets.values() {
            if let (Some(vpc), Some(region)) =
                (s.item.vpc_id.as_deref(), s.item.availability_zone.as_deref().and_then(region_of))
            {
                regions.entry(vpc.to_string()).or_default().insert(region);
            }
        }
        let mut done = BTreeMap::new();
        let mut warnings = Vec::new();
        for (id, v) in &self.vpcs {
            let file = v.file.as_str();
            let Some(cidr) = v.item.cidr_block.as_deref() else {
                warnings.push(warning(file, "vpc", id, "has no CidrBlock; skipped with everything in it"));
                continue;
            };
            for a in &v.item.cidr_block_association_set {
                let Some(other) = a.cidr_block.as_deref() else { continue };
                if other != cidr && associated(a.cidr_block_state.as_ref()) {
                    let m = format!("secondary CIDR {other} is not imported yet (one CIDR per VPC in this version)");
                    warnings.push(warning(file, "vpc", id, m));
                }
            }
            for a in &v.item.ipv6_cidr_block_association_set {
                let Some(block) = a.ipv6_cidr_block.as_deref() else { continue };
                if associated(a.ipv6_cidr_block_state.as_ref()) {
                    warnings.push(warning(file, "vpc", id, format!("IPv6 CIDR {block} is not imported yet")));
                }
            }
            let region = match regions.get(id) {
                Some(set) if set.len() > 1 => {
                    let all: Vec<&str> = set.iter().map(String::as_str).collect();
                    let m = format!("subnets in several regions ({}); no region written", all.join(", "));
                    warnings.push(warning(file, "vpc", id, m));
                    None
                }
                Some(set) => set.iter().next().cloned(),
                None => {
                    let m = "no subnet in the export says its region; vpcsim's default (us-east-1) applies";
                    warnings.push(warning(file, "vpc", id, m));
                    None
                }
            };
            let _ = writeln!(out, "[[vpc]]\nid = {}\ncidr = {}", quote(id), quote(cidr));
            if let Some(r) = &region {
                let _ = writeln!(out, "region = {}", quote(r));
            }
            if let Some(owner) =
                v.item.owner_id.as_deref().filter(|o| o.len() == 12 && o.bytes().all(|b| b.is_ascii_digit()))
            {
                let _ = writeln!(out, "account = {}", quote(owner));
            }
            out.push('\n');
            done.insert(id.clone(), VpcOut { cidr: parse_v4(cidr), region });
        }
        self.warnings.extend(warnings);
        done
    }

    fn emit_igws(&mut self, out: &mut String, vpcs: &BTreeMap<String, VpcOut>) -> BTreeMap<String, String> {
        let mut by_vpc: BTreeMap<String, String> = BTreeMap::new();
        let mut warnings = Vec::new();
        for (id, g) in &self.igws {
            let file = g.file.as_str();
            let attached =
                g.item.attachments.iter().find(|a| {
                    matches!(a.state.as_deref(), None | Some("available" | "attached")) && a.vpc_id.is_some()
                });
            let Some(vpc) = attached.and_then(|a| a.vpc_id.as_deref()) else {
                warnings.push(warning(file, "internet-gateway", id, "attached to no VPC; skipped"));
                continue;
            };
            if !vpcs.contains_key(vpc) {
                let m = format!("attached to {vpc}, which is not in the export; skipped");
                warnings.push(warning(file, "internet-gateway", id, m));
                continue;
            }
            if let Some(first) = by_vpc.get(vpc) {
                let m = format!("{vpc} already has internet gateway {first}; skipped");
                warnings.push(warning(file, "internet-gateway", id, m));
                continue;
            }
            by_vpc.insert(vpc.to_string(), id.clone());
            let _ = writeln!(out, "[[internet_gateway]]\nid = {}\nvpc = {}\n", quote(id), quote(vpc));
        }
        self.warnings.extend(warnings);
        by_vpc
    }

    /// The hosts' TOML (written last) and what routes need to know of them.
    fn hosts(
        &mut self,
        subnet_vpc: &BTreeMap<String, String>,
        sg_vpc: &BTreeMap<String, String>,
    ) -> (String, BTreeMap<String, HostOut>) {
        let mut out = String::new();
        let mut hosts = BTreeMap::new();
        let mut warnings = Vec::new();
        for (id, i) in &self.instances {
            let file = i.file.as_str();
            let i = &i.item;
            let mut warn = |m: String| warnings.push(warning(file, "instance", id, m));
            let state = i.state.as_ref().and_then(|s| s.name.as_deref());
            if !matches!(state, None | Some("running" | "pending")) {
                warn(format!("is {}; skipped", state.unwrap_or("?")));
                continue;
            }
            let Some(subnet) = i.subnet_id.as_deref() else {
                warn("has no SubnetId; skipped".into());
                continue;
            };
            let Some(vpc) = subnet_vpc.get(subnet) else {
                warn(format!("its subnet {subnet} is not in the export; skipped"));
                continue;
            };
            let Some(ip) = i.private_ip_address.as_deref() else {
                warn("has no PrivateIpAddress; skipped".into());
                continue;
            };
            let mut groups = Vec::new();
            for g in &i.security_groups {
                let Some(g) = g.group_id.as_deref() else { continue };
                if sg_vpc.get(g) == Some(vpc) {
                    groups.push(g.to_string());
                } else {
                    warn(format!("security group {g} is not in the export (or not of {vpc}); left out"));
                }
            }
            groups.sort();
            groups.dedup();
            if groups.is_empty() {
                warn("none of its security groups is in the export; skipped".into());
                continue;
            }
            if i.network_interfaces.len() > 1 {
                warn(format!(
                    "has {} network interfaces; only the primary is imported (one per host in this version)",
                    i.network_interfaces.len()
                ));
            }
            let primary =
                i.network_interfaces.iter().find(|n| n.attachment.as_ref().and_then(|a| a.device_index) == Some(0));
            if let Some(n) = primary.filter(|n| n.private_ip_addresses.len() > 1) {
                warn(format!(
                    "its primary interface has {} private addresses; only {ip} is imported",
                    n.private_ip_addresses.len()
                ));
            }
            if let Some(v6) = i.ipv6_address.as_deref() {
                warn(format!("IPv6 address {v6} is not imported yet"));
            }
            let _ = writeln!(out, "[[host]]\nid = {}\nsubnet = {}\nip = {}", quote(id), quote(subnet), quote(ip));
            if let Some(p) = i.public_ip_address.as_deref() {
                let _ = writeln!(out, "public_ip = {}", quote(p));
            }
            let groups: Vec<String> = groups.iter().map(|g| quote(g)).collect();
            let _ = writeln!(out, "security_groups = [{}]", groups.join(", "));
            if i.source_dest_check == Some(false) {
                let _ = writeln!(out, "source_dest_check = false");
            }
            out.push('\n');
            let primary_eni = primary.and_then(|n| n.network_interface_id.clone());
            hosts.insert(id.clone(), HostOut { vpc: vpc.clone(), primary_eni });
        }
        self.warnings.extend(warnings);
        (out, hosts)
    }

    /// Writes the route tables; returns each subnet's explicit association.
    fn emit_route_tables(
        &mut self,
        out: &mut String,
        vpcs: &BTreeMap<String, VpcOut>,
        subnet_vpc: &BTreeMap<String, String>,
        igw_by_vpc: &BTreeMap<String, String>,
        hosts: &BTreeMap<String, HostOut>,
    ) -> BTreeMap<String, String> {
        let mut subnet_cidrs: BTreeMap<&str, BTreeSet<String>> = BTreeMap::new();
        for (id, vpc) in subnet_vpc {
            if let Some(cidr) = self.subnets.get(id).and_then(|s| s.item.cidr_block.clone()) {
                subnet_cidrs.entry(vpc.as_str()).or_default().insert(cidr);
            }
        }
        let no_cidrs = BTreeSet::new();
        let mut subnet_rt = BTreeMap::new();
        let mut main_of: BTreeMap<String, String> = BTreeMap::new();
        let mut warnings = Vec::new();
        for (id, t) in &self.route_tables {
            let file = t.file.as_str();
            let mut warn = |kind: &str, m: String| warnings.push(warning(file, kind, id, m));
            let Some((vpc, vpc_out)) = t.item.vpc_id.as_deref().and_then(|v| vpcs.get_key_value(v)) else {
                warn("route-table", "its VPC is not in the export; skipped".into());
                continue;
            };
            let mut main = false;
            for a in &t.item.associations {
                if !associated(a.association_state.as_ref()) {
                    continue;
                }
                if a.main == Some(true) {
                    match main_of.get(vpc) {
                        Some(first) => warn("route-table", format!("{vpc} already has main route table {first}")),
                        None => {
                            main_of.insert(vpc.clone(), id.clone());
                            main = true;
                        }
                    }
                } else if let Some(subnet) = a.subnet_id.as_deref() {
                    if subnet_vpc.get(subnet) != Some(vpc) {
                        warn("route-table", format!("association with {subnet}, not in the export; left out"));
                    } else if subnet_rt.contains_key(subnet) {
                        warn("route-table", format!("{subnet} is associated with two route tables; left out"));
                    } else {
                        subnet_rt.insert(subnet.to_string(), id.clone());
                    }
                } else if let Some(gateway) = a.gateway_id.as_deref() {
                    warn("route-table", format!("edge association with {gateway} is not imported yet; left out"));
                }
            }
            let mut routes: BTreeMap<String, String> = BTreeMap::new();
            for r in &t.item.routes {
                let cidrs = subnet_cidrs.get(vpc.as_str()).unwrap_or(&no_cidrs);
                let Some((dest, target)) = route(r, vpc, vpc_out, igw_by_vpc, hosts, cidrs, &mut |m| warn("route", m))
                else {
                    continue;
                };
                if routes.contains_key(&dest) {
                    warn("route", format!("{dest} appears twice; the first is kept"));
                    continue;
                }
                routes.insert(dest, target);
            }
            let _ = writeln!(out, "[[route_table]]\nid = {}\nvpc = {}", quote(id), quote(vpc));
            if main {
                let _ = writeln!(out, "main = true");
            }
            if !routes.is_empty() {
                let items: Vec<String> =
                    routes.iter().map(|(d, t)| inline(&[("dest", quote(d)), ("target", quote(t))])).collect();
                array(out, "routes", &items);
            }
            out.push('\n');
        }
        self.warnings.extend(warnings);
        subnet_rt
    }

    fn emit_subnets(
        &mut self,
        out: &mut String,
        vpcs: &BTreeMap<String, VpcOut>,
        subnet_vpc: &BTreeMap<String, String>,
        subnet_rt: &BTreeMap<String, String>,
        subnet_nacl: &BTreeMap<String, String>,
    ) {
        let mut warnings = Vec::new();
        for (id, s) in &self.subnets {
            let file = s.file.as_str();
            let (Some(vpc), Some(cidr)) = (subnet_vpc.get(id), s.item.cidr_block.as_deref()) else {
                warnings.push(warning(file, "subnet", id, "its VPC (or its CidrBlock) is not in the export; skipped"));
                continue;
            };
            for a in &s.item.ipv6_cidr_block_association_set {
                if let Some(b) = a.ipv6_cidr_block.as_deref().filter(|_| associated(a.ipv6_cidr_block_state.as_ref())) {
                    warnings.push(warning(file, "subnet", id, format!("IPv6 CIDR {b} is not imported yet")));
                }
            }
            let _ = writeln!(out, "[[subnet]]\nid = {}\nvpc = {}\ncidr = {}", quote(id), quote(vpc), quote(cidr));
            let region = vpcs.get(vpc).and_then(|v| v.region.as_deref());
            if let (Some(az), Some(region)) = (s.item.availability_zone.as_deref(), region)
                && az.starts_with(region)
            {
                let _ = writeln!(out, "az = {}", quote(az));
            }
            if let Some(rt) = subnet_rt.get(id) {
                let _ = writeln!(out, "route_table = {}", quote(rt));
            }
            if let Some(nacl) = subnet_nacl.get(id) {
                let _ = writeln!(out, "nacl = {}", quote(nacl));
            }
            out.push('\n');
        }
        self.warnings.extend(warnings);
    }

    fn emit_security_groups(&mut self, out: &mut String, sg_vpc: &BTreeMap<String, String>) {
        let mut warnings = Vec::new();
        for (id, g) in &self.security_groups {
            let file = g.file.as_str();
            let Some(vpc) = sg_vpc.get(id) else {
                warnings.push(warning(file, "security-group", id, "its VPC is not in the export; skipped"));
                continue;
            };
            let _ = writeln!(out, "[[security_group]]\nid = {}\nvpc = {}", quote(id), quote(vpc));
            for (key, perms) in [("ingress", &g.item.ip_permissions), ("egress", &g.item.ip_permissions_egress)] {
                let mut rules = BTreeSet::new();
                for p in perms {
                    let mut warn = |m: String| warnings.push(warning(file, "security-group-rule", id, m));
                    let (proto, ports) = match sg_proto(p) {
                        Ok(x) => x,
                        Err(m) => {
                            warn(format!("{key}: {m}; rule left out"));
                            continue;
                        }
                    };
                    let head = |peer: (&'static str, String)| {
                        let mut pairs = vec![("proto", quote(&proto))];
                        if let Some(ports) = &ports {
                            pairs.push(("ports", quote(ports)));
                        }
                        pairs.push(peer);
                        inline(&pairs)
                    };
                    for r in &p.ip_ranges {
                        if let Some(c) = r.cidr_ip.as_deref() {
                            rules.insert(head(("cidr", quote(c))));
                        }
                    }
                    for r in &p.ipv6_ranges {
                        if let Some(c) = r.cidr_ipv6.as_deref() {
                            rules.insert(head(("cidr", quote(c))));
                        }
                    }
                    for pair in &p.user_id_group_pairs {
                        let Some(other) = pair.group_id.as_deref() else { continue };
                        if sg_vpc.get(other) == Some(vpc) && pair.vpc_peering_connection_id.is_none() {
                            rules.insert(head(("sg", quote(other))));
                        } else {
                            warn(format!(
                                "{key}: group {other} is not in the export (or in another VPC); that peer is left out"
                            ));
                        }
                    }
                    for pl in &p.prefix_list_ids {
                        let pl = pl.prefix_list_id.as_deref().unwrap_or("?");
                        warn(format!("{key}: prefix list {pl} is not imported yet; that peer is left out"));
                    }
                }
                let rules: Vec<String> = rules.into_iter().collect();
                array(out, key, &rules);
            }
            out.push('\n');
        }
        self.warnings.extend(warnings);
    }

    /// Writes the network ACLs into `out`; returns each subnet's association.
    fn emit_nacls(
        &mut self,
        out: &mut String,
        vpcs: &BTreeMap<String, VpcOut>,
        subnet_vpc: &BTreeMap<String, String>,
    ) -> BTreeMap<String, String> {
        let mut subnet_nacl = BTreeMap::new();
        let mut warnings = Vec::new();
        for (id, n) in &self.nacls {
            let file = n.file.as_str();
            let mut warn = |kind: &str, m: String| warnings.push(warning(file, kind, id, m));
            let Some(vpc) = n.item.vpc_id.as_deref().filter(|v| vpcs.contains_key(*v)) else {
                warn("network-acl", "its VPC is not in the export; skipped".into());
                continue;
            };
            let mut ingress: BTreeMap<i64, String> = BTreeMap::new();
            let mut egress: BTreeMap<i64, String> = BTreeMap::new();
            for e in &n.item.entries {
                let number = e.rule_number.unwrap_or(0);
                let rule = match nacl_rule(e) {
                    Ok(Some(rule)) => rule,
                    Ok(None) => continue,
                    Err(m) => {
                        warn("network-acl-entry", format!("rule {number}: {m}; left out"));
                        continue;
                    }
                };
                let side = if e.egress == Some(true) { &mut egress } else { &mut ingress };
                if side.contains_key(&number) {
                    warn("network-acl-entry", format!("rule {number} appears twice; the first is kept"));
                    continue;
                }
                side.insert(number, rule);
            }
            let _ = writeln!(out, "[[nacl]]\nid = {}\nvpc = {}", quote(id), quote(vpc));
            array(out, "ingress", &ingress.into_values().collect::<Vec<_>>());
            array(out, "egress", &egress.into_values().collect::<Vec<_>>());
            out.push('\n');
            for a in &n.item.associations {
                let Some(subnet) = a.subnet_id.as_deref() else { continue };
                if subnet_vpc.get(subnet).map(String::as_str) != Some(vpc) {
                    warn("network-acl", format!("association with {subnet}, not in the export; left out"));
                } else if subnet_nacl.contains_key(subnet) {
                    warn("network-acl", format!("{subnet} is associated with two network ACLs; left out"));
                } else {
                    subnet_nacl.insert(subnet.to_string(), id.clone());
                }
            }
        }
        self.warnings.extend(warnings);
        subnet_nacl
    }
}

/// An association or CIDR block with no state, or in a state that counts.
fn associated(state: Option<&shapes::State>) -> bool {
    matches!(state.and_then(|s| s.state.as_deref()), None | Some("associated"))
}

/// A route as `(dest, target)`, or `None` when it is left out (the local
/// route, which the scenario implies, or one it cannot hold; warned).
fn route(
    r: &shapes::Route,
    vpc: &str,
    vpc_out: &VpcOut,
    igw_by_vpc: &BTreeMap<String, String>,
    hosts: &BTreeMap<String, HostOut>,
    subnet_cidrs: &BTreeSet<String>,
    warn: &mut dyn FnMut(String),
) -> Option<(String, String)> {
    if r.gateway_id.as_deref() == Some("local") {
        return None;
    }
    let Some(dest) = r.destination_cidr_block.as_deref() else {
        if let Some(d) = r.destination_ipv6_cidr_block.as_deref() {
            warn(format!("IPv6 route {d} is not imported yet; left out"));
        } else if let Some(pl) = r.destination_prefix_list_id.as_deref() {
            warn(format!("route to prefix list {pl} is not imported yet; left out"));
        } else {
            warn("a route with no destination; left out".into());
        }
        return None;
    };
    if let (Some(d), Some(v)) = (parse_v4(dest), vpc_out.cidr)
        && d.1 >= v.1
        && mask(d.0, v.1) == v.0
    {
        // AWS's more specific routing: a whole subnet to a middlebox.
        if let Some(host) = host_target(r, vpc, hosts).filter(|_| subnet_cidrs.contains(dest))
            && r.state.as_deref() != Some("blackhole")
        {
            return Some((dest.to_string(), host.to_string()));
        }
        warn(format!(
            "{dest} lies inside {vpc}'s CIDR: of the routes that override the local route only a whole subnet to an imported instance is imported; left out"
        ));
        return None;
    }
    if r.state.as_deref() == Some("blackhole") {
        return Some((dest.to_string(), "blackhole".into()));
    }
    let blackhole = |warn: &mut dyn FnMut(String), m: String| {
        warn(format!("{dest}: {m}; written as a blackhole route"));
        Some((dest.to_string(), "blackhole".to_string()))
    };
    if let Some(igw) = r.gateway_id.as_deref().filter(|g| g.starts_with("igw-")) {
        if igw_by_vpc.get(vpc).map(String::as_str) == Some(igw) {
            return Some((dest.to_string(), igw.to_string()));
        }
        return blackhole(warn, format!("internet gateway {igw} is not in the export (or not attached to {vpc})"));
    }
    if let Some(instance) = r.instance_id.as_deref() {
        if host_target(r, vpc, hosts).is_some() {
            return Some((dest.to_string(), instance.to_string()));
        }
        return blackhole(warn, format!("instance {instance} (its primary interface) is not in the export"));
    }
    let other = [
        ("gateway", &r.gateway_id),
        ("NAT gateway", &r.nat_gateway_id),
        ("transit gateway", &r.transit_gateway_id),
        ("VPC peering connection", &r.vpc_peering_connection_id),
        ("egress-only internet gateway", &r.egress_only_internet_gateway_id),
        ("carrier gateway", &r.carrier_gateway_id),
        ("local gateway", &r.local_gateway_id),
        ("core network", &r.core_network_arn),
        ("network interface", &r.network_interface_id),
    ];
    match other.iter().find_map(|(kind, id)| id.as_deref().map(|id| (kind, id))) {
        Some((kind, id)) => blackhole(warn, format!("target {kind} {id} is not imported yet")),
        None => blackhole(warn, "no target".into()),
    }
}

/// The route's instance, when it is an imported host of `vpc` and the route
/// names its primary interface (or no interface).
fn host_target<'a>(r: &'a shapes::Route, vpc: &str, hosts: &BTreeMap<String, HostOut>) -> Option<&'a str> {
    let instance = r.instance_id.as_deref()?;
    let host = hosts.get(instance)?;
    let eni_ok =
        r.network_interface_id.is_none() || host.primary_eni.is_none() || r.network_interface_id == host.primary_eni;
    (host.vpc == vpc && eni_ok).then_some(instance)
}

/// A security-group rule's protocol and ports as the scenario writes them.
fn sg_proto(p: &shapes::IpPermission) -> Result<(String, Option<String>), String> {
    let proto = p.ip_protocol.as_deref().unwrap_or("");
    let name = match proto {
        "-1" | "all" => return Ok(("all".into(), None)),
        "tcp" | "6" => "tcp",
        "udp" | "17" => "udp",
        "icmp" | "1" => "icmp",
        "icmpv6" | "58" => "icmpv6",
        n => match n.parse::<u8>() {
            Ok(n) => return Ok((n.to_string(), None)),
            Err(_) => return Err(format!("protocol {proto:?} is not one vpcsim knows")),
        },
    };
    let ports = match name {
        "tcp" | "udp" => port_range(p.from_port, p.to_port)?,
        _ => icmp_type(p.from_port, p.to_port)?,
    };
    Ok((name.into(), ports))
}

/// `from`–`to` as `ports`: `None` is every port.
fn port_range(from: Option<i64>, to: Option<i64>) -> Result<Option<String>, String> {
    match (from, to) {
        (None, None) | (Some(-1), Some(-1)) | (Some(0), Some(65535)) => Ok(None),
        (Some(a), Some(b)) if (0..=b).contains(&a) && b <= 65535 => {
            Ok(Some(if a == b { a.to_string() } else { format!("{a}-{b}") }))
        }
        _ => Err(format!("port range {from:?}-{to:?} is not valid")),
    }
}

/// An ICMP type and code as `ports`: vpcsim matches types only.
fn icmp_type(kind: Option<i64>, code: Option<i64>) -> Result<Option<String>, String> {
    match (kind, code) {
        (None | Some(-1), _) => Ok(None),
        (Some(t), None | Some(-1)) if (0..=255).contains(&t) => Ok(Some(t.to_string())),
        (Some(t), Some(c)) if (0..=255).contains(&t) => {
            Err(format!("ICMP type {t} code {c}: vpcsim matches ICMP types, not codes"))
        }
        (Some(t), _) => Err(format!("ICMP type {t} is not valid")),
    }
}

/// A network ACL entry as an inline table; `Ok(None)` for the default rules
/// (32767 and 32768, deny all), which the scenario implies.
fn nacl_rule(e: &shapes::NaclEntry) -> Result<Option<String>, String> {
    let number = e.rule_number.ok_or("no RuleNumber")?;
    let action = e.rule_action.as_deref().unwrap_or("");
    if number >= 32767 {
        return if action == "deny" { Ok(None) } else { Err("a rule above 32766 that is not the default deny".into()) };
    }
    if number < 1 {
        return Err("rule numbers start at 1".into());
    }
    if !matches!(action, "allow" | "deny") {
        return Err(format!("action {action:?} is neither allow nor deny"));
    }
    if e.egress.is_none() {
        return Err("no Egress: direction unknown".into());
    }
    let cidr = e.cidr_block.as_deref().or(e.ipv6_cidr_block.as_deref()).ok_or("no CidrBlock")?;
    let protocol = e.protocol.as_deref().unwrap_or("");
    let (proto, ports) = match protocol {
        "-1" | "all" => ("all".to_string(), None),
        "6" | "tcp" | "17" | "udp" => {
            let name = if matches!(protocol, "6" | "tcp") { "tcp" } else { "udp" };
            let range = e.port_range.as_ref();
            (name.to_string(), port_range(range.and_then(|r| r.from), range.and_then(|r| r.to))?)
        }
        "1" | "icmp" | "58" | "icmpv6" => {
            let name = if matches!(protocol, "1" | "icmp") { "icmp" } else { "icmpv6" };
            let tc = e.icmp_type_code.as_ref();
            (name.to_string(), icmp_type(tc.and_then(|t| t.kind), tc.and_then(|t| t.code))?)
        }
        n => match n.parse::<u8>() {
            Ok(n) => (n.to_string(), None),
            Err(_) => return Err(format!("protocol {protocol:?} is not one vpcsim knows")),
        },
    };
    let mut pairs = vec![("rule", number.to_string()), ("action", quote(action)), ("proto", quote(&proto))];
    if let Some(ports) = ports {
        pairs.push(("ports", quote(&ports)));
    }
    pairs.push(("cidr", quote(cidr)));
    Ok(Some(inline(&pairs)))
}

/// The region of an availability zone: `us-east-1a` → `us-east-1`,
/// `us-gov-west-1b` → `us-gov-west-1`, `us-west-2-lax-1a` → `us-west-2`.
fn region_of(az: &str) -> Option<String> {
    let mut parts = Vec::new();
    for part in az.split('-') {
        if part.starts_with(|c: char| c.is_ascii_digit()) {
            let number = part.trim_end_matches(|c: char| c.is_ascii_lowercase());
            if number.is_empty() || !number.bytes().all(|b| b.is_ascii_digit()) || parts.len() < 2 {
                return None;
            }
            parts.push(number);
            return Some(parts.join("-"));
        }
        parts.push(part);
    }
    None
}

/// An IPv4 CIDR as (network, prefix length).
fn parse_v4(cidr: &str) -> Option<(u32, u8)> {
    let (addr, len) = cidr.split_once('/')?;
    let addr: Ipv4Addr = addr.parse().ok()?;
    let len: u8 = len.parse().ok().filter(|l| *l <= 32)?;
    Some((mask(u32::from(addr), len), len))
}

fn mask(addr: u32, len: u8) -> u32 {
    if len == 0 { 0 } else { addr & (u32::MAX << (32 - u32::from(len))) }
}

#[cfg(test)]
mod tests {
    use super::{import_aws, region_of};
    use crate::{ImportError, Input};

    fn input(text: &str) -> Input {
        Input { path: "x.json".into(), relative: "x.json".into(), bytes: text.as_bytes().to_vec() }
    }

    #[test]
    fn regions_come_from_zones() {
        assert_eq!(region_of("us-east-1a").as_deref(), Some("us-east-1"));
        assert_eq!(region_of("us-gov-west-1b").as_deref(), Some("us-gov-west-1"));
        assert_eq!(region_of("us-west-2-lax-1a").as_deref(), Some("us-west-2"));
        assert_eq!(region_of("nonsense"), None);
        assert_eq!(region_of("1a"), None);
    }

    #[test]
    fn malformed_json_is_located() {
        let Err(ImportError::Json { line, column, .. }) = import_aws(&[input("{\n  \"Vpcs\": [\n  }")]) else {
            panic!("an error")
        };
        assert_eq!((line, column), (3, 3));
    }

    #[test]
    fn kinds_not_imported_yet_are_warnings() {
        let Ok(out) = import_aws(&[input("{\"NatGateways\": [], \"NextToken\": \"x\"}")]) else { panic!("imports") };
        let kinds: Vec<&str> = out.warnings.iter().map(|w| w.kind.as_str()).collect();
        assert_eq!(kinds, ["NatGateways"]);
    }

    #[test]
    fn icmp_codes_and_prefix_lists_are_left_out_with_a_warning() {
        let text = r#"{"Vpcs": [{"VpcId": "vpc-1", "CidrBlock": "10.0.0.0/16"}],
            "Subnets": [{"SubnetId": "subnet-1", "VpcId": "vpc-1", "CidrBlock": "10.0.1.0/24", "AvailabilityZone": "eu-west-1b"}],
            "SecurityGroups": [{"GroupId": "sg-1", "VpcId": "vpc-1", "IpPermissions": [
                {"IpProtocol": "icmp", "FromPort": 3, "ToPort": 4, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]},
                {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "PrefixListIds": [{"PrefixListId": "pl-63a5400a"}]},
                {"IpProtocol": "icmp", "FromPort": 8, "ToPort": -1, "IpRanges": [{"CidrIp": "10.0.0.0/8"}]}]}]}"#;
        let Ok(out) = import_aws(&[input(text)]) else { panic!("imports") };
        assert!(out.toml.contains("region = \"eu-west-1\""), "{}", out.toml);
        assert!(out.toml.contains("az = \"eu-west-1b\""), "{}", out.toml);
        assert!(
            out.toml.contains("ingress = [\n  { proto = \"icmp\", ports = \"8\", cidr = \"10.0.0.0/8\" },\n]"),
            "{}",
            out.toml
        );
        assert!(out.toml.contains("egress = []"), "an empty egress stays empty: {}", out.toml);
        let messages: Vec<String> = out.warnings.iter().map(ToString::to_string).collect();
        assert_eq!(messages.len(), 2, "{messages:?}");
        assert!(messages[0].contains("ICMP type 3 code 4"), "{messages:?}");
        assert!(messages[1].contains("prefix list pl-63a5400a"), "{messages:?}");
    }

    #[test]
    fn hostile_input_does_not_panic() {
        for text in [
            "[]",
            "1",
            "{}",
            "{\"Vpcs\":[{}]}",
            "{\"Vpcs\":[{\"VpcId\":\"a\\\"b\",\"CidrBlock\":\"x\"}]}",
            "{\"RouteTables\":[{\"Routes\":[{}]}]}",
        ] {
            let _ = import_aws(&[input(text)]);
        }
        let Ok(out) = import_aws(&[input("{\"Vpcs\":[{\"VpcId\":\"a\\\"\\nb\",\"CidrBlock\":\"10.0.0.0/16\"}]}")])
        else {
            panic!("imports")
        };
        assert!(out.toml.contains("id = \"a\\\"\\u000Ab\""), "{}", out.toml);
    }
}
