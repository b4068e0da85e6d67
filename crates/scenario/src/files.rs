//! Reading the files a scenario names, and the scenario files themselves, as
//! untrusted input: scenarios get shared, so a file must not make vpcsim read
//! what lies outside its folder, block on a FIFO, or read a device until
//! memory runs out.

use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};

/// The largest scenario file vpcsim reads: organisation-sized scenarios (a
/// 100,000-interface organisation is about 14 MB of TOML) fit with room.
pub const MAX_SCENARIO_BYTES: u64 = 64 * 1024 * 1024;

/// The largest endpoint policy, in characters: AWS's own limit for a VPC
/// endpoint policy document.
pub const MAX_POLICY_CHARS: usize = 20_480;

/// Why a file could not be read. The message never quotes the file's
/// contents.
#[derive(Debug)]
pub(crate) struct ReadError(pub(crate) String);

/// Reads a scenario file named on the command line: any kind of file the
/// user gives (a pipe too), but never more than [`MAX_SCENARIO_BYTES`],
/// checked while reading.
pub(crate) fn read_scenario(path: &Path) -> Result<String, ReadError> {
    let file = File::open(path).map_err(|e| ReadError(format!("cannot read the file: {e}")))?;
    if file.metadata().is_ok_and(|m| m.is_dir()) {
        return Err(ReadError("cannot read the file: it is a directory".into()));
    }
    let bytes = read_capped(file, MAX_SCENARIO_BYTES).map_err(|e| ReadError(format!("cannot read the file: {e}")))?;
    let Some(bytes) = bytes else {
        return Err(ReadError(format!(
            "the file is larger than {} MiB, the most vpcsim reads",
            MAX_SCENARIO_BYTES / (1024 * 1024)
        )));
    };
    String::from_utf8(bytes).map_err(|e| {
        ReadError(format!(
            "the file is not UTF-8 text (the first bad byte is at offset {})",
            e.utf8_error().valid_up_to()
        ))
    })
}

/// Reads an endpoint policy named by a path in scenario `scenario_file`:
/// only a regular file inside the scenario file's directory tree (symbolic
/// links resolved first), at most [`MAX_POLICY_CHARS`] characters, checked
/// while reading. Returns the path shown in messages and the text.
pub(crate) fn read_policy(scenario_file: &str, given: &str) -> Result<(PathBuf, String), ReadError> {
    let parent = Path::new(scenario_file).parent().unwrap_or(Path::new(""));
    let shown = parent.join(given);
    let base = if parent.as_os_str().is_empty() { PathBuf::from(".") } else { parent.to_path_buf() };
    let outside = || {
        ReadError(format!(
            "the policy file {} is outside the scenario's directory ({}): a scenario may only name files in its own folder or below",
            shown.display(),
            base.display()
        ))
    };
    let root =
        base.canonicalize().map_err(|e| ReadError(format!("cannot read the policy file {}: {e}", shown.display())))?;
    // A path that does not exist says whether it exists only when it stays
    // inside by its words.
    let real = shown.canonicalize().map_err(|e| {
        if lexically_inside(given) {
            ReadError(format!("cannot read the policy file {}: {e}", shown.display()))
        } else {
            outside()
        }
    })?;
    if !real.starts_with(&root) {
        return Err(outside());
    }
    // The type is checked before opening: opening a FIFO would block.
    let meta = std::fs::metadata(&real)
        .map_err(|e| ReadError(format!("cannot read the policy file {}: {e}", shown.display())))?;
    if !meta.is_file() {
        return Err(ReadError(format!("the policy file {} is not a regular file", shown.display())));
    }
    let file =
        open_no_block(&real).map_err(|e| ReadError(format!("cannot read the policy file {}: {e}", shown.display())))?;
    // Between the check and the open the path could have been replaced.
    if !file.metadata().is_ok_and(|m| m.is_file()) {
        return Err(ReadError(format!("the policy file {} is not a regular file", shown.display())));
    }
    // Four bytes per character at most in UTF-8.
    let too_long = || {
        ReadError(format!(
            "the policy file {} is longer than {MAX_POLICY_CHARS} characters, AWS's limit for an endpoint policy",
            shown.display()
        ))
    };
    let bytes = read_capped(file, 4 * MAX_POLICY_CHARS as u64)
        .map_err(|e| ReadError(format!("cannot read the policy file {}: {e}", shown.display())))?
        .ok_or_else(too_long)?;
    let text = String::from_utf8(bytes)
        .map_err(|_| ReadError(format!("the policy file {} is not UTF-8 text", shown.display())))?;
    if text.chars().count() > MAX_POLICY_CHARS {
        return Err(too_long());
    }
    Ok((shown, text))
}

/// Whether a relative path stays below its base by its words alone (no `..`
/// that climbs above the start, not absolute).
fn lexically_inside(given: &str) -> bool {
    let mut depth: i64 = 0;
    for c in Path::new(given).components() {
        match c {
            std::path::Component::Normal(_) => depth += 1,
            std::path::Component::ParentDir => depth -= 1,
            std::path::Component::CurDir => {}
            std::path::Component::RootDir | std::path::Component::Prefix(_) => return false,
        }
        if depth < 0 {
            return false;
        }
    }
    true
}

#[cfg(unix)]
fn open_no_block(path: &Path) -> std::io::Result<File> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new().read(true).custom_flags(libc::O_NONBLOCK).open(path)
}

#[cfg(not(unix))]
fn open_no_block(path: &Path) -> std::io::Result<File> {
    File::open(path)
}

/// Reads at most `limit` bytes; `None` when there was more.
fn read_capped(file: File, limit: u64) -> std::io::Result<Option<Vec<u8>>> {
    let mut bytes = Vec::new();
    file.take(limit + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > limit { Ok(None) } else { Ok(Some(bytes)) }
}

#[cfg(test)]
mod tests {
    use super::lexically_inside;

    #[test]
    fn a_path_that_climbs_out_is_not_inside() {
        assert!(lexically_inside("policies/a.json"));
        assert!(lexically_inside("./a/../b.json"));
        assert!(!lexically_inside("../a.json"));
        assert!(!lexically_inside("a/../../b.json"));
        assert!(!lexically_inside("/etc/shadow"));
    }
}
