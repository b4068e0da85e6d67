//! docs/architecture.md against the code, in the manner of rust-analyzer's
//! tidy tests: the map a newcomer reads first must name what is there and
//! nothing that is not.
//!
//! - every crate under `crates/` has its row in the code map;
//! - every source file of the data plane and of the scenario loader is named
//!   (by its path under `src/`, e.g. `pipeline/vpc.rs`), and every such path
//!   the map names exists;
//! - the pipeline's stages: every variant of `Next` (the loop's arms) is
//!   named in "A packet's way through the pipeline", and every arm named
//!   there is a variant.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn architecture() -> String {
    std::fs::read_to_string(root().join("docs/architecture.md")).expect("docs/architecture.md")
}

/// Source files under `dir`, as paths relative to it.
fn sources(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![PathBuf::new()];
    while let Some(rel) = stack.pop() {
        for entry in std::fs::read_dir(dir.join(&rel)).expect("a source folder").flatten() {
            let path = rel.join(entry.file_name());
            if entry.path().is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path.to_string_lossy().replace('\\', "/"));
            }
        }
    }
    out.sort();
    out
}

#[test]
fn every_crate_has_its_row_in_the_code_map() {
    let doc = architecture();
    let mut missing = Vec::new();
    for entry in std::fs::read_dir(root().join("crates")).expect("crates/").flatten() {
        let name = entry.file_name().to_string_lossy().to_string();
        if !doc.contains(&format!("| `crates/{name}` |")) {
            missing.push(name);
        }
    }
    assert!(missing.is_empty(), "docs/architecture.md's code map has no row for crates {missing:?}");
}

#[test]
fn every_source_file_of_the_data_plane_and_the_loader_is_on_the_map() {
    let doc = architecture();
    let mut missing = Vec::new();
    for krate in ["dataplane", "scenario"] {
        for file in sources(&root().join("crates").join(krate).join("src")) {
            // A folder's `mod.rs` is named with its folder, or not at all.
            if file == "lib.rs" || (file.ends_with("/mod.rs") && file != "pipeline/mod.rs") {
                continue;
            }
            if !doc.contains(&format!("`{file}`")) {
                missing.push(format!("crates/{krate}/src/{file}"));
            }
        }
    }
    assert!(missing.is_empty(), "docs/architecture.md does not name {missing:?}");
}

#[test]
fn every_source_path_the_map_names_exists() {
    let doc = architecture();
    let known: BTreeSet<String> =
        ["dataplane", "scenario"].iter().flat_map(|k| sources(&root().join("crates").join(k).join("src"))).collect();
    // `wire/packet.rs`-shaped names: a folder of the data plane, a file.
    let mut stale = Vec::new();
    for word in doc.split('`').skip(1).step_by(2) {
        let layered = ["wire/", "state/", "pipeline/"].iter().any(|f| word.starts_with(f));
        if layered && word.ends_with(".rs") && !known.contains(word) {
            stale.push(word.to_string());
        }
    }
    assert!(stale.is_empty(), "docs/architecture.md names files that do not exist: {stale:?}");
}

/// The variants of `enum Next` in `pipeline/cx.rs`.
fn next_variants() -> Vec<String> {
    let code = std::fs::read_to_string(root().join("crates/dataplane/src/pipeline/cx.rs")).expect("cx.rs");
    let start = code.find("enum Next {").expect("enum Next in pipeline/cx.rs");
    let body = &code[start..];
    let body = &body[..body.find("\n}").expect("the end of enum Next")];
    body.lines()
        .skip(1)
        .map(str::trim_start)
        .filter(|l| !l.starts_with("///") && !l.starts_with("//"))
        .filter_map(|l| {
            let name: String = l.chars().take_while(|c| c.is_ascii_alphanumeric()).collect();
            name.chars().next().is_some_and(|c| c.is_ascii_uppercase()).then_some(name)
        })
        .collect()
}

#[test]
fn the_pipeline_section_names_every_arm_of_the_loop_and_no_other() {
    let doc = architecture();
    let start = doc.find("## A packet's way through the pipeline").expect("the pipeline section");
    let section = &doc[start..];
    let section = &section[..section[3..].find("\n## ").map_or(section.len(), |i| i + 3)];
    let variants = next_variants();
    assert!(variants.len() >= 10, "read {variants:?} from enum Next");
    let missing: Vec<&String> = variants
        .iter()
        .filter(|v| {
            !section.contains(&format!("`{v}`"))
                && !section.contains(&format!("`{v} "))
                && !section.contains(&format!("`{v}("))
        })
        .collect();
    assert!(missing.is_empty(), "the pipeline section does not name the arms {missing:?}");
    // The arms it lists: the backticked names that open a bullet, and those
    // listed beside them before the first parenthesis.
    let mut named = BTreeSet::new();
    for bullet in section.lines().filter(|l| l.starts_with("- `")) {
        let head = bullet.split(" (").next().unwrap_or(bullet);
        for word in head.split('`').skip(1).step_by(2) {
            let name: String = word.chars().take_while(|c| c.is_ascii_alphanumeric()).collect();
            named.insert(name);
        }
    }
    let unknown: Vec<&String> = named.iter().filter(|n| !variants.contains(n)).collect();
    assert!(unknown.is_empty(), "the pipeline section lists arms that enum Next does not have: {unknown:?}");
}

/// The data plane's layers go one way: `wire/` ← `trace.rs` ← `state/` ←
/// `pipeline/` ← `fabric.rs`. A file never names a layer above its own.
#[test]
fn the_data_plane_layers_never_look_up() {
    let src = root().join("crates/dataplane/src");
    let above = |file: &str| -> &'static [&'static str] {
        if file.starts_with("wire/") {
            &["trace", "state", "pipeline", "fabric"]
        } else if file == "trace.rs" {
            &["state", "pipeline", "fabric"]
        } else if file.starts_with("state/") {
            &["pipeline", "fabric"]
        } else if file.starts_with("pipeline/") {
            &["fabric"]
        } else {
            &[]
        }
    };
    let mut wrong = Vec::new();
    for file in sources(&src) {
        let text = std::fs::read_to_string(src.join(&file)).expect("a source file");
        for (n, line) in text.lines().enumerate() {
            for layer in above(&file) {
                if line.contains(&format!("crate::{layer}")) {
                    wrong.push(format!("{file}:{}: {}", n + 1, line.trim()));
                }
            }
        }
    }
    assert!(wrong.is_empty(), "a layer of the data plane names one above it:\n{}", wrong.join("\n"));
}
