//! The scenario crate's files form layers: each may use only the files listed
//! before it (docs/architecture.md, code map). A `crate::x` path to a later
//! file is an import cycle in the making.

use std::path::Path;

/// Bottom first, as docs/architecture.md lists them.
const ORDER: &[&str] = &[
    "raw",
    "values",
    "addresses",
    "managed",
    "files",
    "diagnostic",
    "context",
    "filters",
    "network",
    "gateways",
    "transit",
    "hosts",
    "routes",
    "endpoints",
    "builder",
    "traffic",
    "build",
    "lib",
];

#[test]
fn every_file_uses_only_the_files_below_it() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files: Vec<String> = std::fs::read_dir(&src)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "rs"))
        .map(|p| p.file_stem().unwrap().to_string_lossy().into_owned())
        .collect();
    files.sort();
    let mut listed: Vec<String> = ORDER.iter().map(|s| s.to_string()).collect();
    listed.sort();
    assert_eq!(files, listed, "a file of src/ is missing from ORDER, or ORDER names a file that is gone");
    let mut wrong = Vec::new();
    for (i, file) in ORDER.iter().enumerate() {
        let text = std::fs::read_to_string(src.join(format!("{file}.rs"))).unwrap();
        for (at, _) in text.match_indices("crate::") {
            let used: String =
                text[at + "crate::".len()..].chars().take_while(|c| c.is_ascii_lowercase() || *c == '_').collect();
            match ORDER.iter().position(|f| *f == used) {
                Some(j) if j < i => {}
                _ => wrong.push(format!("{file}.rs uses crate::{used}")),
            }
        }
    }
    assert!(wrong.is_empty(), "uses of files not below: {wrong:?}");
}
