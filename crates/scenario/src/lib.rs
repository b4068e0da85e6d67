//! Loads a scenario file (TOML) into a validated [`Topology`].
//!
//! Two phases: the syntax phase ([`raw`]) parses with serde into raw shapes and
//! rejects unknown fields, stopping at the first syntax error; the validation
//! phase ([`build`]) resolves ids, checks what AWS would refuse, builds the
//! topology and reports every error it finds, each located at the offending
//! value. A topology is returned only when the file is valid.
//!
//! Architecture invariant: only this crate knows TOML and serde; the rest of
//! vpcsim sees the model.

mod addresses;
mod build;
mod builder;
mod context;
mod diagnostic;
mod endpoints;
mod files;
mod filters;
mod gateways;
mod hosts;
mod managed;
mod network;
mod raw;
mod routes;
mod traffic;
mod transit;
mod values;

use std::path::Path;

pub use diagnostic::{Diagnostic, Diagnostics, MAX_EXCERPT_CHARS, MAX_MESSAGE_CHARS, MAX_SHOWN, printable};
pub use files::{MAX_POLICY_CHARS, MAX_SCENARIO_BYTES};
use vpcsim_model::Topology;

use crate::diagnostic::SourceMap;

/// Reads and loads a scenario file. An unreadable file is a diagnostic too;
/// so is one larger than [`MAX_SCENARIO_BYTES`] (found while reading).
pub fn load_file(path: &Path) -> Result<Topology, Diagnostics> {
    let name = path.display().to_string();
    let source = read_file(path)?;
    load_str(&source, &name)
}

fn read_file(path: &Path) -> Result<String, Diagnostics> {
    let name = path.display().to_string();
    files::read_scenario(path).map_err(|e| Diagnostics { errors: vec![Diagnostic::whole_file(&name, e.0)] })
}

/// Loads a scenario from its text; `file_name` is used in diagnostics.
pub fn load_str(source: &str, file_name: &str) -> Result<Topology, Diagnostics> {
    let map = SourceMap::new(file_name, source);
    let raw: raw::RawScenario = match toml::from_str(source) {
        Ok(raw) => raw,
        Err(e) => {
            let mut message = e.message().trim_end().to_owned();
            let span = match e.span() {
                Some(span) => span,
                // toml reports a dotted key of too many parts without a span.
                None if message == "recursion limit" => {
                    message = format!(
                        "this key nests too deeply: the TOML reader stops at {TOML_DEPTH} levels of dotted keys, tables and arrays (recursion limit)"
                    );
                    deepest_dotted_key(source)
                }
                None => 0..0,
            };
            // `[vpc]` instead of `[[vpc]]`: serde's words do not say what to write.
            if message == "invalid type: map, expected a sequence" {
                message.push_str(" (resources are arrays of tables: write `[[...]]`, not `[...]`)");
            }
            return Err(Diagnostics { errors: vec![map.diagnostic(span, message)] });
        }
    };
    build::build(&raw, &map).map_err(|errors| Diagnostics { errors })
}

/// How deep the TOML reader nests dotted keys, tables and arrays (toml's own
/// limit, which keeps a hostile file from overflowing the stack).
const TOML_DEPTH: usize = 80;

/// The span of the dotted key with the most parts (`a.b.c...`), outside
/// quoted strings and comments: where a "recursion limit" error without a span belongs.
fn deepest_dotted_key(source: &str) -> std::ops::Range<usize> {
    let is_key_char = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == '-';
    let (mut best, mut best_dots) = (0..0, 0);
    // The current run of bare keys joined by dots: where it starts, its dots.
    let (mut start, mut dots, mut in_run) = (0, 0, false);
    let mut quote: Option<char> = None;
    for (i, c) in source.char_indices() {
        if let Some(q) = quote {
            if c == q || c == '\n' {
                quote = None;
            }
            continue;
        }
        if is_key_char(c) {
            if !in_run {
                (start, dots, in_run) = (i, 0, true);
            }
        } else if c == '.' && in_run {
            dots += 1;
            if dots > best_dots {
                (best, best_dots) = (start..i + 1, dots);
            }
        } else if !(c == ' ' || c == '\t') {
            in_run = false;
            if c == '"' || c == '\'' {
                quote = Some(c);
            } else if c == '#' {
                // A comment runs to the end of its line, like a string.
                quote = Some('\n');
            }
        }
    }
    best
}

/// A probe asked for on the command line (`vpcsim trace`), in the words of an
/// `[[expect]]`.
#[derive(Clone, Debug, Default)]
pub struct ProbeArgs {
    /// The sending host, by name.
    pub from: String,
    /// The destination: a host, an address or a DNS name.
    pub to: String,
    /// `tcp`, `udp`, `icmp` or `icmpv6`.
    pub proto: String,
    /// The destination port (TCP and UDP).
    pub port: Option<i64>,
    /// When the probe starts, a duration such as `2s`.
    pub at: Option<String>,
    /// How long the probe waits for an answer, a duration such as `3s`.
    pub timeout: Option<String>,
    /// UDP: the payload size in bytes.
    pub size: Option<i64>,
    /// A request sent once connected (tcp to an AWS service): action, resource,
    /// and optionally the principal.
    pub request: Option<(String, String, Option<String>)>,
}

/// Loads a scenario file and a probe into it. The probe is validated by exactly
/// the rules of an `[[expect]]`: it is one, appended to the file's text. Errors
/// in the probe name the command line instead of a line of the file.
pub fn load_file_with_probe(
    path: &Path,
    probe: &ProbeArgs,
) -> Result<(Topology, vpcsim_model::Expectation), Diagnostics> {
    let name = path.display().to_string();
    let source = read_file(path)?;
    // The file must stand on its own first.
    load_str(&source, &name)?;
    let quote = |s: &str| toml::Value::String(s.to_owned()).to_string();
    let mut text = source.clone();
    text.push_str("\n[[expect]]\nname = \"trace\"\nresult = \"dropped\"\n");
    text.push_str(&format!(
        "from = {}\nto = {}\nproto = {}\n",
        quote(&probe.from),
        quote(&probe.to),
        quote(&probe.proto)
    ));
    if let Some(port) = probe.port {
        text.push_str(&format!("port = {port}\n"));
    }
    if let Some(at) = &probe.at {
        text.push_str(&format!("at = {}\n", quote(at)));
    }
    if let Some((action, resource, principal)) = &probe.request {
        text.push_str(&format!("request = {{ action = {}, resource = {}", quote(action), quote(resource)));
        if let Some(p) = principal {
            text.push_str(&format!(", principal = {}", quote(p)));
        }
        text.push_str(" }\n");
    }
    if let Some(size) = probe.size {
        text.push_str(&format!("size = {size}\n"));
    }
    if let Some(timeout) = &probe.timeout {
        text.push_str(&format!("timeout = {}\n", quote(timeout)));
    }
    let file_lines = source.lines().count();
    match load_str(&text, &name) {
        Ok(mut t) => {
            let probe = t.expectations.pop().ok_or_else(|| Diagnostics {
                errors: vec![Diagnostic::whole_file("command line", "the probe was not built")],
            })?;
            Ok((t, probe))
        }
        Err(d) => Err(Diagnostics {
            errors: d
                .errors
                .into_iter()
                .map(|e| if e.line > file_lines { Diagnostic::whole_file("command line", e.message) } else { e })
                .collect(),
        }),
    }
}
