//! Classic pcap files, written by hand: a 24-byte global header, then a 16-byte
//! header per frame. Timestamps are simulated time, in microseconds.

use std::io::{self, Write};
use std::time::Duration;

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

    pub fn frames(&self) -> u64 {
        self.frames
    }

    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

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
