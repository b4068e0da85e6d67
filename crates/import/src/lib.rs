//! Importing a real network: the JSON the AWS CLI prints
//! (`aws ec2 describe-vpcs --output json > vpcs.json`, …) becomes a vpcsim
//! scenario (TOML text) that keeps AWS's ids.
//!
//! Files are recognised by their top-level key (`Vpcs`, `Subnets`,
//! `RouteTables`, `SecurityGroups`, `NetworkAcls`, `InternetGateways`,
//! `Reservations`), whatever their name. What the scenario format cannot
//! express yet becomes a [`Warning`] and is left out; a route to a target that
//! is missing or not supported becomes a blackhole route, as AWS shows a route
//! to a deleted target. The input is untrusted: nothing here panics on it.
//! `docs/import.md` says what maps to what.

mod aws;
mod shapes;
mod toml_text;

use std::fmt;
use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};

pub use aws::import_aws;

/// The largest JSON file the importer reads, as for scenario files.
pub const MAX_FILE_BYTES: u64 = 64 * 1024 * 1024;

/// One file of an export: where it came from and its bytes.
#[derive(Debug, Clone)]
pub struct Input {
    /// The path shown in messages (the directory as given, joined).
    pub path: String,
    /// The path relative to the export's directory, named in the scenario's
    /// header comment.
    pub relative: String,
    /// The file's contents.
    pub bytes: Vec<u8>,
}

/// Something the export holds that the scenario leaves out or changes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Warning {
    /// The file it comes from.
    pub file: String,
    /// The kind of resource (`route`, `security-group-rule`, `NatGateways` …).
    pub kind: String,
    /// The resource's id (AWS's), or what stands for it.
    pub id: String,
    /// What was done with it, and why.
    pub message: String,
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {} {}: {}", self.file, self.kind, self.id, self.message)
    }
}

/// Why an import failed: nothing is produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ImportError {
    /// A file is not JSON of the expected shape.
    Json {
        /// The file.
        file: String,
        /// 1-based line of the error.
        line: usize,
        /// 1-based column of the error.
        column: usize,
        /// What is wrong.
        message: String,
    },
    /// A file or directory could not be read.
    Read {
        /// The file or directory.
        path: String,
        /// What went wrong.
        message: String,
    },
}

impl fmt::Display for ImportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ImportError::Json { file, line, column, message } => write!(f, "{file}:{line}:{column}: {message}"),
            ImportError::Read { path, message } => write!(f, "{path}: {message}"),
        }
    }
}

/// What an import produced: the scenario and the warnings.
#[derive(Debug, Clone)]
pub struct Imported {
    /// The scenario, as TOML text.
    pub toml: String,
    /// What was left out or changed, in the order found.
    pub warnings: Vec<Warning>,
}

/// Reads an export directory: every regular file whose name ends in `.json`
/// directly inside `dir`, and inside its subdirectories one level down (one
/// folder per region), in name order. Hidden entries (`.…`) are skipped;
/// symbolic links and other special files are skipped with a warning. Each
/// file is read up to [`MAX_FILE_BYTES`].
pub fn read_dir(dir: &Path) -> Result<(Vec<Input>, Vec<Warning>), ImportError> {
    let mut inputs = Vec::new();
    let mut warnings = Vec::new();
    for (path, relative, is_dir) in list(dir)? {
        if is_dir {
            for (path, relative, is_dir) in list(&path)? {
                if !is_dir {
                    read_one(&path, format!("{}/{relative}", relative_name(&path)), &mut inputs, &mut warnings)?;
                }
            }
        } else {
            read_one(&path, relative, &mut inputs, &mut warnings)?;
        }
    }
    Ok((inputs, warnings))
}

/// The folder name above a file: its region folder.
fn relative_name(file: &Path) -> String {
    file.parent().and_then(Path::file_name).map(|n| n.to_string_lossy().into_owned()).unwrap_or_default()
}

/// The entries of a directory worth looking at, sorted: (path, name, is a
/// directory). Files that are not regular are returned as files and refused
/// by [`read_one`].
fn list(dir: &Path) -> Result<Vec<(PathBuf, String, bool)>, ImportError> {
    let read_error = |e: std::io::Error| ImportError::Read {
        path: dir.display().to_string(),
        message: format!("cannot read the directory: {e}"),
    };
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(read_error)? {
        let entry = entry.map_err(read_error)?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') {
            continue;
        }
        let path = entry.path();
        let is_dir = std::fs::symlink_metadata(&path).is_ok_and(|m| m.is_dir());
        if is_dir || name.to_ascii_lowercase().ends_with(".json") {
            out.push((path, name, is_dir));
        }
    }
    out.sort();
    Ok(out)
}

fn read_one(
    path: &Path,
    relative: String,
    inputs: &mut Vec<Input>,
    warnings: &mut Vec<Warning>,
) -> Result<(), ImportError> {
    let shown = path.display().to_string();
    let read_error =
        |e: std::io::Error| ImportError::Read { path: shown.clone(), message: format!("cannot read the file: {e}") };
    let meta = std::fs::symlink_metadata(path).map_err(read_error)?;
    if !meta.is_file() {
        warnings.push(Warning {
            file: shown.clone(),
            kind: "file".into(),
            id: relative,
            message: "not a regular file (a symbolic link, a FIFO …); skipped".into(),
        });
        return Ok(());
    }
    let file = File::open(path).map_err(read_error)?;
    let mut bytes = Vec::new();
    file.take(MAX_FILE_BYTES + 1).read_to_end(&mut bytes).map_err(read_error)?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(ImportError::Read {
            path: shown,
            message: format!("the file is larger than {} MiB, the most vpcsim reads", MAX_FILE_BYTES / (1024 * 1024)),
        });
    }
    inputs.push(Input { path: shown, relative, bytes });
    Ok(())
}
