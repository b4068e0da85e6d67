//! The bytes of the link-local services' answers: the instance metadata
//! service's HTTP answer and TCP flags, the time service's NTP answer. The
//! DNS answers are `vpcsim_dns`'s.

pub(crate) const TCP_FIN: u8 = 0x01;
pub(crate) const TCP_SYN: u8 = 0x02;
pub(crate) const TCP_RST: u8 = 0x04;
pub(crate) const TCP_ACK: u8 = 0x10;

/// The answer to any request: what `curl http://169.254.169.254/` shows.
pub(crate) const METADATA_ANSWER: &[u8] =
    b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 22\r\nConnection: close\r\n\r\n1.0\nlatest\n2024-04-11\n";

/// A TCP segment builder with the flags of `flags` set.
pub(crate) fn tcp_flags(
    mut b: etherparse::PacketBuilderStep<etherparse::TcpHeader>,
    flags: u8,
    ack: u32,
) -> etherparse::PacketBuilderStep<etherparse::TcpHeader> {
    if flags & TCP_SYN != 0 {
        b = b.syn();
    }
    if flags & TCP_FIN != 0 {
        b = b.fin();
    }
    if flags & TCP_RST != 0 {
        b = b.rst();
    }
    if flags & TCP_ACK != 0 {
        b = b.ack(ack);
    }
    b
}

/// An NTP server's answer (version 4, mode 4, stratum 1, reference "AMZN"),
/// with the request's transmit timestamp as its originate timestamp. The
/// clock reads zero: simulated time has no calendar.
pub(crate) fn ntp_answer(request: &[u8]) -> Vec<u8> {
    let mut a = vec![0u8; 48];
    a[0] = 0x24; // LI 0, version 4, mode 4 (server)
    a[1] = 1; // stratum 1
    a[2] = request.get(2).copied().unwrap_or(6);
    a[3] = 0xec; // precision 2^-20
    a[12..16].copy_from_slice(b"AMZN");
    if let Some(transmit) = request.get(40..48) {
        a[24..32].copy_from_slice(transmit);
    }
    a
}
