//! DNS messages for the Amazon VPC resolver (the "Amazon DNS server" at the
//! VPC base + 2 and 169.254.169.253, UDP port 53): the wire format and the
//! answer, with no I/O and no clock.
//!
//! The resolver reads a query with [`parse_query`], decides what the name is
//! (that is the caller's business: this crate knows no zone), and writes the
//! response with [`build_response`]. [`build_query`] and [`parse_response`]
//! are the client's half, for tests, traces and hosts that do not use
//! smoltcp's DNS socket.
//!
//! Only the subset the resolver needs is here, written by hand: the header,
//! one question, A and AAAA answers, name compression on output (every answer
//! points at the question, `0xc00c`), and strict, bounds-checked parsing that
//! never panics (see `name` for names).
//!
//! What smoltcp 0.14's DNS socket needs from a response (`socket/dns.rs`),
//! which [`build_response`] gives:
//! - QR set, opcode QUERY, exactly one question, the same transaction id, from
//!   port 53 of an address in the socket's server list;
//! - the question echoed with the same type and class IN, and its name equal
//!   **byte for byte** to the one sent (smoltcp compares labels with `==`), so
//!   the name is echoed with its case as sent, never lowercased;
//! - answers of class IN whose owner name equals the question's; an A answer
//!   with exactly 4 octets of data, AAAA with 16 (any other length makes it
//!   drop the whole response);
//! - NXDOMAIN (rcode 3) or no address at all ends the query as failed; RA,
//!   AA and TC are not looked at.

mod name;

use std::net::{Ipv4Addr, Ipv6Addr};

/// Rcode 0: no error (with or without answers).
pub const RCODE_NOERROR: u8 = 0;
/// Rcode 2: the server failed; sent only for a query this crate cannot echo.
pub const RCODE_SERVFAIL: u8 = 2;
/// Rcode 3: the name does not exist.
pub const RCODE_NXDOMAIN: u8 = 3;

/// The largest DNS message over UDP without EDNS (RFC 1035 §4.2.1). The
/// resolver does not echo EDNS, so a client may assume no more than this.
pub const MAX_UDP_MESSAGE: usize = 512;

const HEADER_LEN: usize = 12;
const FLAG_QR: u16 = 0x8000;
const OPCODE_MASK: u16 = 0x7800;
const FLAG_TC: u16 = 0x0200;
const FLAG_RD: u16 = 0x0100;
const FLAG_RA: u16 = 0x0080;
const RCODE_MASK: u16 = 0x000f;
const CLASS_IN: u16 = 1;
const TYPE_A: u16 = 1;
const TYPE_AAAA: u16 = 28;
/// A compression pointer to offset 12, where the question's name starts.
const POINTER_TO_QUESTION: [u8; 2] = [0xc0, 0x0c];

/// The type a query asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum QueryType {
    /// An IPv4 address (type 1).
    A,
    /// An IPv6 address (type 28).
    Aaaa,
    /// Any other type, by its number; the resolver answers it with no data.
    Other(u16),
}

impl QueryType {
    /// The type's number on the wire.
    pub fn code(self) -> u16 {
        match self {
            QueryType::A => TYPE_A,
            QueryType::Aaaa => TYPE_AAAA,
            QueryType::Other(code) => code,
        }
    }
}

impl From<u16> for QueryType {
    fn from(code: u16) -> QueryType {
        match code {
            TYPE_A => QueryType::A,
            TYPE_AAAA => QueryType::Aaaa,
            code => QueryType::Other(code),
        }
    }
}

/// A standard query with one question, as read by [`parse_query`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Query {
    /// The transaction id, echoed in the response.
    pub id: u16,
    /// The name asked for: lowercase, no final dot, the root is `""`. Octets
    /// that are not printable ASCII (and `.` or `\` inside a label) are
    /// escaped as in zone files (`\DDD`, `\.`, `\\`).
    pub name: String,
    /// The type asked for.
    pub qtype: QueryType,
    /// The RD bit, copied into the response.
    pub recursion_desired: bool,
    /// The question's name in wire form (uncompressed labels and the root
    /// octet), with its case as sent. The response echoes these octets
    /// because clients compare them byte for byte (smoltcp does, and so do
    /// resolvers that randomise case as a defence against spoofing). When it
    /// is not a valid wire name (empty, for a query built by hand), the
    /// response encodes `name` instead.
    pub wire_name: Vec<u8>,
}

impl Query {
    /// A query for `name` (text form, case kept on the wire) with RD set,
    /// as built by hand rather than parsed.
    pub fn new(id: u16, name: &str, qtype: QueryType) -> Result<Query, DnsError> {
        let mut wire_name = Vec::new();
        name::encode(name, &mut wire_name)?;
        Ok(Query { id, name: name::to_text(&wire_name), qtype, recursion_desired: true, wire_name })
    }
}

/// What the resolver found for a name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Answer {
    /// Addresses of the name. Only those of the asked type are sent (A from
    /// `v4`, AAAA from `v6`); none of that type means NOERROR with no answer
    /// ("NODATA"): the name exists but has no record of that type.
    Addresses {
        /// The name's IPv4 addresses (A records).
        v4: Vec<Ipv4Addr>,
        /// The name's IPv6 addresses (AAAA records).
        v6: Vec<Ipv6Addr>,
    },
    /// The name does not exist: NXDOMAIN.
    NxDomain,
}

/// A response, as read by [`parse_response`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Response {
    /// The transaction id.
    pub id: u16,
    /// The response code (0 NOERROR, 3 NXDOMAIN, ...).
    pub rcode: u8,
    /// The A records of the answer section, in order, whatever their owner.
    pub v4: Vec<Ipv4Addr>,
    /// The AAAA records of the answer section, in order, whatever their owner.
    pub v6: Vec<Ipv6Addr>,
}

/// A message that is not what was expected, and why.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("DNS: {0}")]
pub struct DnsError(pub String);

fn err(what: &str) -> DnsError {
    DnsError(what.to_owned())
}

/// The header's fields, read from the first 12 octets.
struct Header {
    id: u16,
    flags: u16,
    qdcount: u16,
    ancount: u16,
}

fn read_u16(bytes: &[u8], at: usize) -> Result<u16, DnsError> {
    match bytes.get(at..at + 2) {
        Some(&[hi, lo]) => Ok(u16::from_be_bytes([hi, lo])),
        _ => Err(err("truncated message")),
    }
}

fn read_header(bytes: &[u8]) -> Result<Header, DnsError> {
    if bytes.len() < HEADER_LEN {
        return Err(err("shorter than a header"));
    }
    Ok(Header {
        id: read_u16(bytes, 0)?,
        flags: read_u16(bytes, 2)?,
        qdcount: read_u16(bytes, 4)?,
        ancount: read_u16(bytes, 6)?,
    })
}

/// Parses a query. Never panics; `Err` for anything that is not a standard
/// query (QR clear, opcode QUERY) with exactly one question of class IN.
///
/// The answer, authority and additional sections are not read: a query has
/// none, except the EDNS OPT record many clients add, which the resolver
/// ignores (it answers in plain DNS, as RFC 6891 allows).
pub fn parse_query(bytes: &[u8]) -> Result<Query, DnsError> {
    let header = read_header(bytes)?;
    if header.flags & FLAG_QR != 0 {
        return Err(err("a response, not a query"));
    }
    if header.flags & OPCODE_MASK != 0 {
        return Err(err("opcode is not QUERY"));
    }
    if header.qdcount != 1 {
        return Err(DnsError(format!("{} questions, not one", header.qdcount)));
    }
    let mut wire_name = Vec::new();
    let after = name::read_name(bytes, HEADER_LEN, &mut wire_name)?;
    let qtype = read_u16(bytes, after)?;
    let qclass = read_u16(bytes, after + 2)?;
    if qclass != CLASS_IN {
        return Err(DnsError(format!("question class {qclass}, not IN")));
    }
    Ok(Query {
        id: header.id,
        name: name::to_text(&wire_name),
        qtype: QueryType::from(qtype),
        recursion_desired: header.flags & FLAG_RD != 0,
        wire_name,
    })
}

/// Builds the response to `query` into `out` (cleared first): the same id,
/// QR=1, opcode QUERY, RA=1, RD copied, the question echoed (its name as
/// sent), and one answer per address of the asked type (A from `v4` for
/// [`QueryType::A`], AAAA from `v6` for [`QueryType::Aaaa`], none for another
/// type), each named by a pointer to the question and living `ttl` seconds.
/// NXDOMAIN sets rcode 3 with no answer.
///
/// The response never exceeds [`MAX_UDP_MESSAGE`]: answers that do not fit
/// are left out and TC is set (RFC 2181 §9), as a server without EDNS does.
///
/// A query built by hand with a name that cannot be encoded gets SERVFAIL
/// with no question, since there is nothing valid to echo.
pub fn build_response(query: &Query, answer: &Answer, ttl: u32, out: &mut Vec<u8>) {
    out.clear();
    let mut flags = FLAG_QR | FLAG_RA;
    if query.recursion_desired {
        flags |= FLAG_RD;
    }
    push_header(out, query.id, flags, 0);

    if name::is_wire_name(&query.wire_name) {
        out.extend_from_slice(&query.wire_name);
    } else if name::encode(&query.name, out).is_err() {
        out.truncate(HEADER_LEN);
        set_u16(out, 2, flags | u16::from(RCODE_SERVFAIL));
        set_u16(out, 4, 0);
        return;
    }
    out.extend_from_slice(&query.qtype.code().to_be_bytes());
    out.extend_from_slice(&CLASS_IN.to_be_bytes());

    let (v4, v6) = match answer {
        Answer::NxDomain => {
            set_u16(out, 2, flags | u16::from(RCODE_NXDOMAIN));
            return;
        }
        Answer::Addresses { v4, v6 } => (v4, v6),
    };
    // Only addresses of the asked type are answers; another type gets none,
    // which is NODATA.
    let mut answers = Answers { count: 0, truncated: false, ttl };
    match QueryType::from(query.qtype.code()) {
        QueryType::A => v4.iter().for_each(|a| answers.push(out, TYPE_A, &a.octets())),
        QueryType::Aaaa => v6.iter().for_each(|a| answers.push(out, TYPE_AAAA, &a.octets())),
        QueryType::Other(_) => {}
    }
    set_u16(out, 6, answers.count);
    if answers.truncated {
        set_u16(out, 2, flags | FLAG_TC);
    }
}

/// The answer records written so far.
struct Answers {
    count: u16,
    truncated: bool,
    ttl: u32,
}

impl Answers {
    /// Appends one record named by a pointer to the question, unless it would
    /// make the message longer than [`MAX_UDP_MESSAGE`].
    fn push(&mut self, out: &mut Vec<u8>, rtype: u16, rdata: &[u8]) {
        // Pointer, type, class, TTL, data length: 12 octets before the data.
        if self.truncated || out.len() + 12 + rdata.len() > MAX_UDP_MESSAGE {
            self.truncated = true;
            return;
        }
        out.extend_from_slice(&POINTER_TO_QUESTION);
        out.extend_from_slice(&rtype.to_be_bytes());
        out.extend_from_slice(&CLASS_IN.to_be_bytes());
        out.extend_from_slice(&self.ttl.to_be_bytes());
        // An address is 4 or 16 octets.
        out.extend_from_slice(&(rdata.len() as u16).to_be_bytes());
        out.extend_from_slice(rdata);
        self.count += 1;
    }
}

fn push_header(out: &mut Vec<u8>, id: u16, flags: u16, ancount: u16) {
    out.extend_from_slice(&id.to_be_bytes());
    out.extend_from_slice(&flags.to_be_bytes());
    out.extend_from_slice(&1u16.to_be_bytes()); // QDCOUNT
    out.extend_from_slice(&ancount.to_be_bytes());
    out.extend_from_slice(&0u16.to_be_bytes()); // NSCOUNT
    out.extend_from_slice(&0u16.to_be_bytes()); // ARCOUNT
}

/// Overwrites a header field already written.
fn set_u16(out: &mut [u8], at: usize, value: u16) {
    if let Some(field) = out.get_mut(at..at + 2) {
        field.copy_from_slice(&value.to_be_bytes());
    }
}

/// Parses a response (for tests and traces): the id, the rcode, and the A
/// and AAAA addresses of the answer section. `Err` when QR is clear, the
/// opcode is not QUERY, or any question or answer is malformed (an A record
/// whose data is not 4 octets, AAAA not 16). Records of another type or class
/// (CNAME among them) are skipped; the authority and additional sections are
/// not read.
pub fn parse_response(bytes: &[u8]) -> Result<Response, DnsError> {
    let header = read_header(bytes)?;
    if header.flags & FLAG_QR == 0 {
        return Err(err("a query, not a response"));
    }
    if header.flags & OPCODE_MASK != 0 {
        return Err(err("opcode is not QUERY"));
    }
    let mut scratch = Vec::new();
    let mut pos = HEADER_LEN;
    for _ in 0..header.qdcount {
        scratch.clear();
        pos = name::read_name(bytes, pos, &mut scratch)?;
        // Type and class.
        read_u16(bytes, pos + 2)?;
        pos += 4;
    }
    let mut response =
        Response { id: header.id, rcode: (header.flags & RCODE_MASK) as u8, v4: Vec::new(), v6: Vec::new() };
    for _ in 0..header.ancount {
        scratch.clear();
        pos = name::read_name(bytes, pos, &mut scratch)?;
        let rtype = read_u16(bytes, pos)?;
        let class = read_u16(bytes, pos + 2)?;
        // TTL at pos + 4, not needed.
        let rdlength = usize::from(read_u16(bytes, pos + 8)?);
        let start = pos + 10;
        let rdata = bytes.get(start..start + rdlength).ok_or_else(|| err("truncated record data"))?;
        pos = start + rdlength;
        if class != CLASS_IN {
            continue;
        }
        match rtype {
            TYPE_A => {
                let octets: [u8; 4] = rdata.try_into().map_err(|_| err("A record data is not 4 octets"))?;
                response.v4.push(Ipv4Addr::from(octets));
            }
            TYPE_AAAA => {
                let octets: [u8; 16] = rdata.try_into().map_err(|_| err("AAAA record data is not 16 octets"))?;
                response.v6.push(Ipv6Addr::from(octets));
            }
            _ => {}
        }
    }
    Ok(response)
}

/// Builds a standard query into `out` (cleared first): RD set, one question
/// of class IN. `name` may end with a dot; its case is kept on the wire.
/// `Err` (and `out` left empty) for a name that cannot be sent: an empty
/// label, a label longer than 63 octets, or more than 255 octets in all.
pub fn build_query(id: u16, name: &str, qtype: QueryType, out: &mut Vec<u8>) -> Result<(), DnsError> {
    out.clear();
    push_header(out, id, FLAG_RD, 0);
    if let Err(e) = name::encode(name, out) {
        out.clear();
        return Err(e);
    }
    out.extend_from_slice(&qtype.code().to_be_bytes());
    out.extend_from_slice(&CLASS_IN.to_be_bytes());
    Ok(())
}
