//! Real Ethernet frames for benchmarks, built with etherparse.

use std::net::IpAddr;

use etherparse::PacketBuilder;

/// TCP flags for [`tcp`].
pub const ACK: u8 = 0x10;
pub const SYN: u8 = 0x02;

/// A TCP segment in an Ethernet frame, `payload` bytes of zeros, checksums right.
pub fn tcp(
    macs: ([u8; 6], [u8; 6]),
    src: IpAddr,
    dst: IpAddr,
    ports: (u16, u16),
    flags: u8,
    payload: usize,
) -> Vec<u8> {
    let eth = PacketBuilder::ethernet2(macs.0, macs.1);
    let ip = match (src, dst) {
        (IpAddr::V4(s), IpAddr::V4(d)) => eth.ipv4(s.octets(), d.octets(), 64),
        (IpAddr::V6(s), IpAddr::V6(d)) => eth.ipv6(s.octets(), d.octets(), 64),
        _ => panic!("a frame needs two addresses of one family"),
    };
    let mut tcp = ip.tcp(ports.0, ports.1, 1, 64240);
    if flags & SYN != 0 {
        tcp = tcp.syn();
    }
    if flags & ACK != 0 {
        tcp = tcp.ack(1);
    }
    let mut f = Vec::with_capacity(64 + payload);
    tcp.write(&mut f, &vec![0u8; payload]).expect("a frame");
    f
}

/// Where the TCP ports of a frame built by [`tcp`] start (no VLAN, no IP options).
pub(crate) fn tcp_ports_offset(frame: &[u8]) -> usize {
    match u16::from_be_bytes([frame[12], frame[13]]) {
        0x86dd => 14 + 40,
        _ => 14 + usize::from(frame[14] & 0x0f) * 4,
    }
}

/// Rewrites the ports of a frame built by [`tcp`] in place, keeping the TCP
/// checksum right (RFC 1624: the ports are two 16-bit words of the sum).
pub fn set_ports(frame: &mut [u8], src: u16, dst: u16) {
    let at = tcp_ports_offset(frame);
    let old_src = u16::from_be_bytes([frame[at], frame[at + 1]]);
    let old_dst = u16::from_be_bytes([frame[at + 2], frame[at + 3]]);
    let ck = at + 16;
    let mut sum = u32::from(!u16::from_be_bytes([frame[ck], frame[ck + 1]]));
    for (old, new) in [(old_src, src), (old_dst, dst)] {
        sum += u32::from(!old) + u32::from(new);
    }
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    frame[ck..ck + 2].copy_from_slice(&(!(sum as u16)).to_be_bytes());
    frame[at..at + 2].copy_from_slice(&src.to_be_bytes());
    frame[at + 2..at + 4].copy_from_slice(&dst.to_be_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_ports_keeps_the_checksum_right() {
        let src: IpAddr = "10.0.1.10".parse().unwrap();
        let dst: IpAddr = "10.0.2.10".parse().unwrap();
        let mut f = tcp(([2; 6], [4; 6]), src, dst, (40000, 443), ACK, 10);
        set_ports(&mut f, 1234, 5678);
        let want = tcp(([2; 6], [4; 6]), src, dst, (1234, 5678), ACK, 10);
        assert_eq!(f, want);
        let src6: IpAddr = "2600:1f18:aa:101::10".parse().unwrap();
        let dst6: IpAddr = "2600:1f18:aa:102::10".parse().unwrap();
        let mut f = tcp(([2; 6], [4; 6]), src6, dst6, (40000, 443), SYN, 0);
        set_ports(&mut f, 9, 65535);
        assert_eq!(f, tcp(([2; 6], [4; 6]), src6, dst6, (9, 65535), SYN, 0));
    }
}
