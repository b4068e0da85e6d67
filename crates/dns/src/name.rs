//! Domain names: the wire form (length-prefixed labels, maybe compressed) and
//! the text form (dotted, with `\.`, `\\` and `\DDD` escapes for the bytes a
//! label may hold but a hostname does not).
//!
//! Every reader here is bounds-checked and terminates on any input: a label
//! longer than 63, a name longer than 255 octets, a pointer that does not go
//! strictly backwards (which is what rules out loops) are all errors.

use crate::DnsError;

/// The longest name on the wire, the final zero octet included (RFC 1035 §2.3.4).
pub(crate) const MAX_NAME_LEN: usize = 255;
/// The longest label (RFC 1035 §2.3.4); the two high bits of a length octet
/// are reserved for pointers and extended label types.
pub(crate) const MAX_LABEL_LEN: usize = 63;

fn err(what: &str) -> DnsError {
    DnsError(what.to_owned())
}

/// Reads the name at `start` in the message `msg`, following compression
/// pointers, and appends its uncompressed wire form (the case kept) to `wire`.
/// Returns the position just after the name where it was written, which is
/// after the first pointer when there is one.
pub(crate) fn read_name(msg: &[u8], start: usize, wire: &mut Vec<u8>) -> Result<usize, DnsError> {
    let first = wire.len();
    let mut pos = start;
    // Where the name ends in the message, known once the first pointer is met.
    let mut end = None;
    // A pointer must point before the labels it was read from (RFC 1035: "a
    // prior occurrence"); as each jump lowers this bound, a chain of pointers
    // cannot loop, whatever the bytes.
    let mut bound = start;
    loop {
        let len = *msg.get(pos).ok_or_else(|| err("truncated name"))?;
        match len & 0xc0 {
            0x00 if len == 0 => {
                wire.push(0);
                if wire.len() - first > MAX_NAME_LEN {
                    return Err(err("name longer than 255 octets"));
                }
                return Ok(end.unwrap_or(pos + 1));
            }
            0x00 => {
                let len = usize::from(len);
                let label = msg.get(pos + 1..pos + 1 + len).ok_or_else(|| err("truncated label"))?;
                // Counting the root octet still to come.
                if wire.len() - first + 1 + len + 1 > MAX_NAME_LEN {
                    return Err(err("name longer than 255 octets"));
                }
                wire.push(len as u8);
                wire.extend_from_slice(label);
                pos += 1 + len;
            }
            0xc0 => {
                let low = *msg.get(pos + 1).ok_or_else(|| err("truncated pointer"))?;
                let target = (usize::from(len & 0x3f) << 8) | usize::from(low);
                if target >= bound {
                    return Err(err("name pointer does not point backwards"));
                }
                end.get_or_insert(pos + 2);
                bound = target;
                pos = target;
            }
            // 0x40 and 0x80: extended label types (RFC 6891 retired them), or
            // a label longer than 63 octets.
            _ => return Err(err("label longer than 63 octets or unknown label type")),
        }
    }
}

/// Whether `wire` is exactly one uncompressed name: labels of 1 to 63 octets,
/// the root octet last, 255 octets at most.
pub(crate) fn is_wire_name(wire: &[u8]) -> bool {
    if wire.len() > MAX_NAME_LEN {
        return false;
    }
    let mut pos = 0;
    while let Some(&len) = wire.get(pos) {
        if len == 0 {
            return pos + 1 == wire.len();
        }
        if usize::from(len) > MAX_LABEL_LEN {
            return false;
        }
        pos += 1 + usize::from(len);
    }
    false
}

/// Appends the wire form of the text name `name` to `wire`. A final dot is
/// optional; `""` and `"."` are the root. The case is kept as written: DNS
/// compares names without case, but a client (smoltcp's among them) compares
/// the echoed question byte for byte.
pub(crate) fn encode(name: &str, wire: &mut Vec<u8>) -> Result<(), DnsError> {
    let first = wire.len();
    if name == "." {
        wire.push(0);
        return Ok(());
    }
    let bytes = name.as_bytes();
    // Position of the current label's length octet in `wire`.
    let mut label_at = wire.len();
    wire.push(0);
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        i += 1;
        let byte = match b {
            b'.' => {
                let len = wire.len() - label_at - 1;
                if len == 0 {
                    wire.truncate(first);
                    return Err(err("empty label"));
                }
                close_label(wire, label_at, len, first)?;
                label_at = wire.len();
                wire.push(0);
                continue;
            }
            b'\\' => match unescape(bytes, &mut i) {
                Some(byte) => byte,
                None => {
                    wire.truncate(first);
                    return Err(err("bad escape in name"));
                }
            },
            b => b,
        };
        wire.push(byte);
    }
    let len = wire.len() - label_at - 1;
    if len > 0 {
        close_label(wire, label_at, len, first)?;
        wire.push(0);
    }
    // Otherwise the placeholder length octet just pushed is the root octet.
    if wire.len() - first > MAX_NAME_LEN {
        wire.truncate(first);
        return Err(err("name longer than 255 octets"));
    }
    Ok(())
}

/// Writes the length octet of a finished label, or undoes the whole name.
fn close_label(wire: &mut Vec<u8>, label_at: usize, len: usize, first: usize) -> Result<(), DnsError> {
    if len > MAX_LABEL_LEN {
        wire.truncate(first);
        return Err(err("label longer than 63 octets"));
    }
    if let Some(slot) = wire.get_mut(label_at) {
        *slot = len as u8;
    }
    Ok(())
}

/// The byte an escape stands for; `*i` is just past the backslash and is
/// moved past the escape.
fn unescape(bytes: &[u8], i: &mut usize) -> Option<u8> {
    let &first = bytes.get(*i)?;
    if !first.is_ascii_digit() {
        *i += 1;
        return Some(first);
    }
    let digits = bytes.get(*i..*i + 3)?;
    let mut value: u32 = 0;
    for &d in digits {
        if !d.is_ascii_digit() {
            return None;
        }
        value = value * 10 + u32::from(d - b'0');
    }
    *i += 3;
    u8::try_from(value).ok()
}

/// The lowercase text form of an uncompressed wire name, without the final
/// dot; the root is `""`. Bytes that are not printable ASCII, and the dot and
/// backslash inside a label, are escaped as in zone files, so that two
/// different wire names never give the same text.
pub(crate) fn to_text(wire: &[u8]) -> String {
    let mut text = String::with_capacity(wire.len());
    let mut pos = 0;
    while let Some(&len) = wire.get(pos) {
        if len == 0 {
            break;
        }
        let label = wire.get(pos + 1..pos + 1 + usize::from(len)).unwrap_or_default();
        if !text.is_empty() {
            text.push('.');
        }
        for &b in label {
            match b {
                b'.' | b'\\' => {
                    text.push('\\');
                    text.push(char::from(b));
                }
                0x21..=0x7e => text.push(char::from(b.to_ascii_lowercase())),
                _ => {
                    text.push('\\');
                    text.push_str(&format!("{b:03}"));
                }
            }
        }
        pos += 1 + usize::from(len);
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wire(name: &str) -> Result<Vec<u8>, DnsError> {
        let mut w = Vec::new();
        encode(name, &mut w).map(|()| w)
    }

    #[test]
    fn encodes_with_and_without_final_dot() {
        let expected = b"\x02s3\x03com\x00".to_vec();
        assert_eq!(wire("s3.com").ok(), Some(expected.clone()));
        assert_eq!(wire("s3.com.").ok(), Some(expected));
        assert_eq!(wire("").ok(), Some(vec![0]));
        assert_eq!(wire(".").ok(), Some(vec![0]));
        assert_eq!(wire("MiXed").ok(), Some(b"\x05MiXed\x00".to_vec()));
    }

    #[test]
    fn rejects_bad_text_names() {
        for bad in ["a..b", ".a", "a..", &"x".repeat(64), "a\\", "a\\25", "a\\256"] {
            assert!(wire(bad).is_err(), "{bad:?}");
        }
        // 127 one-octet labels are 254 octets with the root: the longest
        // name; one more label is too long.
        let longest = vec!["a"; 127].join(".");
        assert_eq!(wire(&longest).map(|w| w.len()).ok(), Some(255));
        assert!(wire(&format!("{longest}.b")).is_err());
    }

    #[test]
    fn escapes_round_trip() {
        let w = wire("a\\.b.c\\\\d.\\000\\255 x").unwrap_or_default();
        assert_eq!(w, b"\x03a.b\x03c\\d\x04\x00\xff x\x00".to_vec());
        assert!(is_wire_name(&w));
        let text = to_text(&w);
        assert_eq!(text, "a\\.b.c\\\\d.\\000\\255\\032x");
        assert_eq!(wire(&text).ok(), Some(w));
    }

    #[test]
    fn text_is_lowercase() {
        assert_eq!(to_text(b"\x02S3\x09Us-East-1\x00"), "s3.us-east-1");
        assert_eq!(to_text(&[0]), "");
    }

    #[test]
    fn reads_compressed_names() {
        // Header (12 octets), then "www.example.com" at 12, then "foo" and a
        // pointer to "example.com" at 16, then a pointer to that at 35.
        let mut msg = vec![0; 12];
        msg.extend_from_slice(b"\x03www\x07example\x03com\x00");
        msg.extend_from_slice(b"\x03foo\xc0\x10");
        msg.extend_from_slice(b"\xc0\x1d");
        let mut w = Vec::new();
        assert_eq!(read_name(&msg, 12, &mut w).ok(), Some(29));
        assert_eq!(to_text(&w), "www.example.com");
        w.clear();
        assert_eq!(read_name(&msg, 29, &mut w).ok(), Some(35));
        assert_eq!(to_text(&w), "foo.example.com");
        w.clear();
        assert_eq!(read_name(&msg, 35, &mut w).ok(), Some(37));
        assert_eq!(to_text(&w), "foo.example.com");
    }

    #[test]
    fn rejects_pointer_loops_and_forward_pointers() {
        let mut w = Vec::new();
        // Points at itself.
        let msg = [0, 0, 0xc0, 0x02];
        assert!(read_name(&msg, 2, &mut w).is_err());
        // Two pointers pointing at each other.
        let msg = [0xc0, 0x02, 0xc0, 0x00];
        assert!(read_name(&msg, 2, &mut w).is_err());
        // A label, then a pointer back to the label: a loop through a label.
        let msg = [0x01, b'a', 0xc0, 0x00];
        assert!(read_name(&msg, 0, &mut w).is_err());
        // Forward.
        let msg = [0xc0, 0x02, 0x00];
        assert!(read_name(&msg, 0, &mut w).is_err());
    }

    #[test]
    fn rejects_long_labels_and_names() {
        let mut w = Vec::new();
        let mut msg = vec![64];
        msg.extend_from_slice(&[b'a'; 64]);
        msg.push(0);
        assert!(read_name(&msg, 0, &mut w).is_err());
        // 128 one-octet labels: 257 octets with the root.
        let msg: Vec<u8> = [1, b'a'].repeat(128).into_iter().chain([0]).collect();
        assert!(read_name(&msg, 0, &mut w).is_err());
        // 127 of them: 255, the longest allowed.
        let msg: Vec<u8> = [1, b'a'].repeat(127).into_iter().chain([0]).collect();
        w.clear();
        assert_eq!(read_name(&msg, 0, &mut w).ok(), Some(255));
        assert!(is_wire_name(&w));
    }

    #[test]
    fn wire_name_check() {
        assert!(is_wire_name(&[0]));
        assert!(is_wire_name(b"\x01a\x00"));
        assert!(!is_wire_name(b""));
        assert!(!is_wire_name(b"\x01a"));
        assert!(!is_wire_name(b"\x01a\x00\x00"));
        assert!(!is_wire_name(b"\xc0\x0c"));
    }
}
