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

mod build;
mod diagnostic;
mod managed;
mod raw;
mod traffic;
mod values;

use std::path::Path;

pub use diagnostic::{Diagnostic, Diagnostics};
use vpcsim_model::Topology;

use crate::diagnostic::SourceMap;

/// Reads and loads a scenario file. An unreadable file is a diagnostic too.
pub fn load_file(path: &Path) -> Result<Topology, Diagnostics> {
    let name = path.display().to_string();
    match std::fs::read_to_string(path) {
        Ok(source) => load_str(&source, &name),
        Err(e) => {
            Err(Diagnostics { errors: vec![Diagnostic::whole_file(&name, format!("cannot read the file: {e}"))] })
        }
    }
}

/// Loads a scenario from its text; `file_name` is used in diagnostics.
pub fn load_str(source: &str, file_name: &str) -> Result<Topology, Diagnostics> {
    let map = SourceMap::new(file_name, source);
    let raw: raw::RawScenario = match toml::from_str(source) {
        Ok(raw) => raw,
        Err(e) => {
            let span = e.span().unwrap_or(0..0);
            let mut message = e.message().trim_end().to_owned();
            // `[vpc]` instead of `[[vpc]]`: serde's words do not say what to write.
            if message == "invalid type: map, expected a sequence" {
                message.push_str(" (resources are arrays of tables: write `[[...]]`, not `[...]`)");
            }
            return Err(Diagnostics { errors: vec![map.diagnostic(span, message)] });
        }
    };
    build::build(&raw, &map).map_err(|errors| Diagnostics { errors })
}
