//! Classic pcap files, written by hand: a 24-byte global header, then a 16-byte
//! header per frame. Timestamps are simulated time, in microseconds.
//!
//! Also the one place that names capture files ([`file_names`]) and writes
//! them ([`prepare_dir`], [`write_file`]): scenario ids are untrusted text, so
//! a name is never a path, two segments never share a file, and a write never
//! follows a link planted in the directory.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::fs::OpenOptions;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use vpcsim_model::Topology;

use crate::sim::Segment;

/// LINKTYPE_ETHERNET.
const LINKTYPE_ETHERNET: u32 = 1;
const SNAPLEN: u32 = 65535;

/// One capture: a pcap file's bytes, kept in memory until written.
#[derive(Clone, Debug)]
pub struct Capture {
    bytes: Vec<u8>,
    frames: u64,
}

impl Default for Capture {
    fn default() -> Self {
        Capture::new()
    }
}

impl Capture {
    /// An empty capture: the pcap file header (Ethernet, microseconds), no frames.
    pub fn new() -> Capture {
        let mut bytes = Vec::with_capacity(4096);
        bytes.extend_from_slice(&0xa1b2_c3d4u32.to_le_bytes()); // magic: microsecond timestamps
        bytes.extend_from_slice(&2u16.to_le_bytes());
        bytes.extend_from_slice(&4u16.to_le_bytes());
        bytes.extend_from_slice(&0i32.to_le_bytes()); // thiszone
        bytes.extend_from_slice(&0u32.to_le_bytes()); // sigfigs
        bytes.extend_from_slice(&SNAPLEN.to_le_bytes());
        bytes.extend_from_slice(&LINKTYPE_ETHERNET.to_le_bytes());
        Capture { bytes, frames: 0 }
    }

    /// Appends a frame seen at simulated time `at`.
    pub fn push(&mut self, at: Duration, frame: &[u8]) {
        let len = u32::try_from(frame.len()).unwrap_or(u32::MAX);
        let kept = len.min(SNAPLEN);
        let secs = u32::try_from(at.as_secs()).unwrap_or(u32::MAX);
        self.bytes.extend_from_slice(&secs.to_le_bytes());
        self.bytes.extend_from_slice(&at.subsec_micros().to_le_bytes());
        self.bytes.extend_from_slice(&kept.to_le_bytes());
        self.bytes.extend_from_slice(&len.to_le_bytes());
        self.bytes.extend_from_slice(&frame[..kept as usize]);
        self.frames += 1;
    }

    /// Frames appended so far.
    pub fn frames(&self) -> u64 {
        self.frames
    }

    /// The whole pcap file: header and records.
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// Writes the pcap file to `w`.
    pub fn write_to(&self, mut w: impl Write) -> io::Result<()> {
        w.write_all(&self.bytes)
    }
}

/// Reads back the frames of a pcap file: (timestamp, bytes). `None` when the
/// bytes are not a classic little-endian Ethernet pcap.
pub fn read(bytes: &[u8]) -> Option<Vec<(Duration, Vec<u8>)>> {
    let u32_at = |at: usize| bytes.get(at..at + 4).map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]));
    if u32_at(0)? != 0xa1b2_c3d4 || u32_at(20)? != LINKTYPE_ETHERNET {
        return None;
    }
    let mut frames = Vec::new();
    let mut at = 24;
    while at < bytes.len() {
        let (secs, micros, kept) = (u32_at(at)?, u32_at(at + 4)?, u32_at(at + 8)? as usize);
        let data = bytes.get(at + 16..at + 16 + kept)?;
        frames.push((Duration::from_secs(u64::from(secs)) + Duration::from_micros(u64::from(micros)), data.to_vec()));
        at += 16 + kept;
    }
    Some(frames)
}

/// The longest file-name stem made from an id; a longer one is cut and ends
/// in a hash of the whole id.
pub const MAX_STEM: usize = 100;

/// The pcap file name (no directory) of each segment: `<subnet id>.pcap`,
/// `internet.pcap`, `<on-premises id>.pcap` for ids made of letters, digits,
/// `-`, `_` and inner dots; any other byte is written `%XX`, so a name is
/// never a path and two ids never meet in one name. Names that would still
/// meet (a subnet called `internet`, ids equal but for case on a file system
/// that ignores it) get `~subnet`, `~onprem` and then a number; names stay
/// under [`MAX_STEM`] characters before `.pcap`, on every file system.
pub fn file_names(t: &Topology, segments: impl IntoIterator<Item = Segment>) -> BTreeMap<Segment, String> {
    let mut segments: Vec<Segment> = segments.into_iter().collect();
    // The internet keeps its own name whatever the ids say.
    segments.sort_by_key(|s| (*s != Segment::Internet, *s));
    segments.dedup();
    let mut taken = BTreeSet::new();
    let mut names = BTreeMap::new();
    for segment in segments {
        let (stem, kind) = match segment {
            Segment::Subnet(s) => (stem(&t.subnet(s).id), "subnet"),
            Segment::Internet => ("internet".to_string(), "internet"),
            Segment::OnPrem(o) => (stem(&t.onprem(o).id), "onprem"),
        };
        let candidates = std::iter::once(stem.clone())
            .chain(std::iter::once(format!("{stem}~{kind}")))
            .chain((2u64..).map(|k| format!("{stem}~{kind}-{k}")));
        for candidate in candidates {
            if taken.insert(candidate.to_ascii_lowercase()) {
                names.insert(segment, format!("{candidate}.pcap"));
                break;
            }
        }
    }
    names
}

/// An id as a portable file-name stem (see [`file_names`]).
fn stem(id: &str) -> String {
    let bytes = id.as_bytes();
    let mut out = String::with_capacity(bytes.len());
    for (i, &b) in bytes.iter().enumerate() {
        // A dot only inside: a leading dot hides a file, `..` climbs, and a
        // trailing one is dropped by some file systems.
        let keep = b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || (b == b'.' && i > 0 && i + 1 < bytes.len());
        if keep {
            out.push(char::from(b));
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    if out.is_empty() {
        return "%".to_string();
    }
    // Names Windows keeps for devices, whatever the extension.
    let device = out.split('.').next().unwrap_or("").to_ascii_lowercase();
    let reserved = matches!(device.as_str(), "con" | "prn" | "aux" | "nul")
        || ((device.starts_with("com") || device.starts_with("lpt"))
            && device.len() == 4
            && device.as_bytes()[3].is_ascii_digit());
    if reserved {
        out = format!("%{:02X}{}", out.as_bytes()[0], &out[1..]);
    }
    if out.len() > MAX_STEM {
        let mut cut = MAX_STEM - 17;
        // Never end inside a `%XX`.
        if let Some(p) = out[..cut].rfind('%').filter(|&p| p + 3 > cut) {
            cut = p;
        }
        out = format!("{}~{:016x}", &out[..cut], fnv1a(bytes));
    }
    out
}

/// FNV-1a, 64 bits: a stable hash (the same on every run and machine).
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3))
}

/// Makes sure captures can be written into `dir` before anything is
/// simulated: creates it, and writes and removes a probe file in it.
pub fn prepare_dir(dir: &Path) -> io::Result<()> {
    std::fs::create_dir_all(dir)?;
    if !std::fs::metadata(dir)?.is_dir() {
        return Err(io::Error::new(io::ErrorKind::NotADirectory, "not a directory"));
    }
    let (file, probe) = create_temporary(dir, "write-check")?;
    drop(file);
    std::fs::remove_file(probe)
}

/// Writes `bytes` as `dir/name`: into a new temporary file first (created
/// exclusively, so no link is followed), then renamed over `name`, so a
/// re-run replaces the file and a link planted at `name` is replaced, not
/// written through. `name` must be one of [`file_names`]'s.
pub fn write_file(dir: &Path, name: &str, bytes: &[u8]) -> io::Result<PathBuf> {
    let (mut file, temporary) = create_temporary(dir, name)?;
    let written = file.write_all(bytes).and_then(|()| file.flush());
    drop(file);
    let path = dir.join(name);
    match written.and_then(|()| std::fs::rename(&temporary, &path)) {
        Ok(()) => Ok(path),
        Err(e) => {
            let _ = std::fs::remove_file(&temporary);
            Err(e)
        }
    }
}

fn create_temporary(dir: &Path, name: &str) -> io::Result<(std::fs::File, PathBuf)> {
    let pid = std::process::id();
    let mut last = io::Error::new(io::ErrorKind::AlreadyExists, "no free temporary name");
    for n in 0..100u32 {
        let path = dir.join(format!(".{name}.{pid}.{n}.tmp"));
        match OpenOptions::new().write(true).create_new(true).open(&path) {
            Ok(f) => return Ok((f, path)),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => last = e,
            Err(e) => return Err(e),
        }
    }
    Err(last)
}

#[cfg(test)]
mod tests {
    use super::stem;

    #[test]
    fn clean_ids_keep_their_names() {
        assert_eq!(stem("subnet-public"), "subnet-public");
        assert_eq!(stem("dc1.east_2"), "dc1.east_2");
    }

    #[test]
    fn an_id_is_never_a_path() {
        assert_eq!(stem("../../x"), "%2E.%2F..%2Fx");
        assert_eq!(stem("/abs/x"), "%2Fabs%2Fx");
        assert_eq!(stem("a/b"), "a%2Fb");
        assert_eq!(stem("a%2Fb"), "a%252Fb");
        assert_eq!(stem("nul\0"), "nul%00");
        assert_eq!(stem("a\0b"), "a%00b");
        assert_eq!(stem(""), "%");
        assert_eq!(stem("."), "%2E");
        assert_eq!(stem("CON"), "%43ON");
        assert_eq!(stem("com1.x"), "%63om1.x");
    }

    #[test]
    fn a_long_id_is_cut_and_hashed() {
        let a = stem(&"a".repeat(10_000));
        let b = stem(&format!("{}b", "a".repeat(9_999)));
        assert!(a.len() <= super::MAX_STEM && b.len() <= super::MAX_STEM, "{a}");
        assert_ne!(a, b);
        let slashes = stem(&"/".repeat(1000));
        assert!(slashes.len() <= super::MAX_STEM, "{slashes}");
        assert!(!slashes.contains("%2~") && !slashes.contains("%~"), "{slashes}");
    }
}
