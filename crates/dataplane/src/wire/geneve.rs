//! GENEVE as a Gateway Load Balancer speaks it (UDP 6081, outer IPv4): the
//! header carries AWS's option class 0x0108 with the endpoint (type 1) and a
//! flow cookie (type 3); the way back reads the endpoint from it. `encapsulate`
//! and `decapsulate` are a pair; `decapsulate` reads any bytes without
//! panicking.

/// GENEVE's UDP port.
pub const GENEVE_PORT: u16 = 6081;
/// AWS's GENEVE option class for Gateway Load Balancer metadata.
pub(crate) const AWS_OPTION_CLASS: u16 = 0x0108;
const OPTION_ENDPOINT: u8 = 1;
const OPTION_COOKIE: u8 = 3;

/// Builds a GENEVE message: header, AWS options, the inner IP packet.
pub fn encapsulate(endpoint: u64, cookie: u32, inner: &[u8], inner_is_v4: bool, out: &mut Vec<u8>) {
    out.clear();
    // Options: endpoint id (4 + 8 bytes), flow cookie (4 + 4 bytes) = 20 bytes = 5 words.
    out.push(5);
    out.push(0);
    out.extend_from_slice(&(if inner_is_v4 { 0x0800u16 } else { 0x86ddu16 }).to_be_bytes());
    out.extend_from_slice(&[0, 0, 0, 0]); // VNI 0, reserved
    out.extend_from_slice(&AWS_OPTION_CLASS.to_be_bytes());
    out.push(OPTION_ENDPOINT);
    out.push(2); // length in 4-byte words
    out.extend_from_slice(&endpoint.to_be_bytes());
    out.extend_from_slice(&AWS_OPTION_CLASS.to_be_bytes());
    out.push(OPTION_COOKIE);
    out.push(1);
    out.extend_from_slice(&cookie.to_be_bytes());
    out.extend_from_slice(inner);
}

/// A GENEVE message read: the endpoint option and the inner packet. `None` for
/// anything malformed, whatever the bytes.
pub fn decapsulate(bytes: &[u8]) -> Option<(u64, &[u8])> {
    let opt_len = usize::from(*bytes.first()? & 0x3f) * 4;
    if bytes.first()? >> 6 != 0 {
        return None;
    }
    let options = bytes.get(8..8 + opt_len)?;
    let inner = bytes.get(8 + opt_len..)?;
    let mut at = 0;
    let mut endpoint = None;
    while at + 4 <= options.len() {
        let class = u16::from_be_bytes([options[at], options[at + 1]]);
        let kind = options[at + 2];
        let len = usize::from(options[at + 3] & 0x1f) * 4;
        let data = options.get(at + 4..at + 4 + len)?;
        if class == AWS_OPTION_CLASS && kind == OPTION_ENDPOINT && len == 8 {
            endpoint = Some(u64::from_be_bytes(data.try_into().ok()?));
        }
        at += 4 + len;
    }
    Some((endpoint?, inner))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_geneve_message_reads_back() {
        let inner = [0x45u8, 0, 0, 20, 1, 2, 3, 4, 64, 6, 0, 0, 10, 0, 1, 10, 10, 0, 2, 20];
        let mut out = Vec::new();
        encapsulate(7, 0xdead_beef, &inner, true, &mut out);
        // Version 0, 5 words of options, protocol IPv4, VNI 0.
        assert_eq!(&out[..8], &[5, 0, 0x08, 0x00, 0, 0, 0, 0]);
        // AWS's option class 0x0108, type 1 (endpoint), 2 words.
        assert_eq!(&out[8..12], &[0x01, 0x08, 1, 2]);
        assert_eq!(decapsulate(&out), Some((7, &inner[..])));
    }

    #[test]
    fn garbage_is_never_a_geneve_message_and_never_a_panic() {
        let mut state = 0x1234_5678_9abc_def0u64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let mut valid = Vec::new();
        encapsulate(3, 1, &[0x45; 40], true, &mut valid);
        for i in 0..20_000 {
            let bytes: Vec<u8> = if i % 2 == 0 {
                (0..(next() % 64) as usize).map(|_| next() as u8).collect()
            } else {
                let mut v = valid.clone();
                let at = (next() as usize) % v.len();
                v[at] = next() as u8;
                v.truncate((next() as usize) % (v.len() + 1));
                v
            };
            let _ = decapsulate(&bytes);
        }
        assert_eq!(decapsulate(&[]), None);
        assert_eq!(decapsulate(&[0x40, 0, 0, 0, 0, 0, 0, 0]), None, "version 1 is not ours");
    }
}
