//! Golden bytes, round trips, and hostile input for the DNS wire format.

use std::net::{Ipv4Addr, Ipv6Addr};

use vpcsim_dns::{Answer, Query, QueryType, Response, build_query, build_response, parse_query, parse_response};

/// An A query for `s3.us-east-1.amazonaws.com`, id 0x1234, RD set, as dig or
/// smoltcp would send it (no EDNS).
const S3_QUERY: &[u8] = &[
    0x12, 0x34, // id
    0x01, 0x00, // flags: RD
    0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // QD=1, AN=NS=AR=0
    0x02, b's', b'3', //
    0x09, b'u', b's', b'-', b'e', b'a', b's', b't', b'-', b'1', //
    0x09, b'a', b'm', b'a', b'z', b'o', b'n', b'a', b'w', b's', //
    0x03, b'c', b'o', b'm', 0x00, //
    0x00, 0x01, 0x00, 0x01, // type A, class IN
];

const S3_NAME: &str = "s3.us-east-1.amazonaws.com";

fn v4_answer(addrs: &[Ipv4Addr]) -> Answer {
    Answer::Addresses { v4: addrs.to_vec(), v6: Vec::new() }
}

fn response_to(query: &Query, answer: &Answer, ttl: u32) -> Vec<u8> {
    let mut out = Vec::new();
    build_response(query, answer, ttl, &mut out);
    out
}

fn query_bytes(id: u16, name: &str, qtype: QueryType) -> Vec<u8> {
    let mut out = Vec::new();
    build_query(id, name, qtype, &mut out).expect("a valid name");
    out
}

/// The question section of `S3_QUERY`: the name, type A, class IN.
fn s3_question() -> &'static [u8] {
    &S3_QUERY[12..]
}

#[test]
fn golden_a_query_parses() {
    let query = parse_query(S3_QUERY).expect("a valid query");
    assert_eq!(query.id, 0x1234);
    assert_eq!(query.name, S3_NAME);
    assert_eq!(query.qtype, QueryType::A);
    assert!(query.recursion_desired);
    assert_eq!(query.wire_name, &S3_QUERY[12..S3_QUERY.len() - 4]);
    assert_eq!(query_bytes(0x1234, S3_NAME, QueryType::A), S3_QUERY);
    assert_eq!(query_bytes(0x1234, "s3.us-east-1.amazonaws.com.", QueryType::A), S3_QUERY);
}

#[test]
fn golden_a_response() {
    let query = parse_query(S3_QUERY).expect("a valid query");
    let out = response_to(&query, &v4_answer(&[Ipv4Addr::new(52, 217, 0, 1), Ipv4Addr::new(16, 15, 0, 2)]), 60);
    let mut expected = vec![
        0x12, 0x34, // id
        0x81, 0x80, // QR, RD, RA, NOERROR
        0x00, 0x01, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, // QD=1, AN=2
    ];
    expected.extend_from_slice(s3_question());
    expected.extend_from_slice(&[
        0xc0, 0x0c, // pointer to the question's name
        0x00, 0x01, 0x00, 0x01, // A, IN
        0x00, 0x00, 0x00, 0x3c, // TTL 60
        0x00, 0x04, 52, 217, 0, 1, // the address
        0xc0, 0x0c, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x00, 0x3c, 0x00, 0x04, 16, 15, 0, 2,
    ]);
    assert_eq!(out, expected);
}

#[test]
fn golden_aaaa_response() {
    let mut query = parse_query(S3_QUERY).expect("a valid query");
    query.qtype = QueryType::Aaaa;
    let v6: Ipv6Addr = "2600:1f18::1".parse().expect("an address");
    let answer = Answer::Addresses { v4: vec![Ipv4Addr::new(52, 217, 0, 1)], v6: vec![v6] };
    let out = response_to(&query, &answer, 300);
    let mut expected = vec![0x12, 0x34, 0x81, 0x80, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00];
    expected.extend_from_slice(&S3_QUERY[12..S3_QUERY.len() - 4]);
    expected.extend_from_slice(&[0x00, 0x1c, 0x00, 0x01]); // AAAA, IN
    expected.extend_from_slice(&[0xc0, 0x0c, 0x00, 0x1c, 0x00, 0x01, 0x00, 0x00, 0x01, 0x2c, 0x00, 0x10]);
    expected.extend_from_slice(&v6.octets());
    assert_eq!(out, expected);
    assert_eq!(parse_response(&out), Ok(Response { id: 0x1234, rcode: 0, v4: vec![], v6: vec![v6] }));
}

#[test]
fn nodata_is_noerror_without_answers() {
    let query = parse_query(S3_QUERY).expect("a valid query");
    // A name with only an IPv6 address, asked for A.
    let only_v6 = Answer::Addresses { v4: vec![], v6: vec!["2600:1f18::1".parse().expect("an address")] };
    let mut expected = vec![0x12, 0x34, 0x81, 0x80, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00];
    expected.extend_from_slice(s3_question());
    assert_eq!(response_to(&query, &only_v6, 60), expected);
    // A type the resolver has no data of.
    let mut mx = query.clone();
    mx.qtype = QueryType::Other(15);
    let out = response_to(&mx, &v4_answer(&[Ipv4Addr::new(10, 0, 0, 5)]), 60);
    assert_eq!(&out[..12], &[0x12, 0x34, 0x81, 0x80, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00]);
    assert_eq!(&out[out.len() - 4..], &[0x00, 0x0f, 0x00, 0x01]);
    assert_eq!(parse_response(&out), Ok(Response { id: 0x1234, rcode: 0, v4: vec![], v6: vec![] }));
}

#[test]
fn nxdomain_is_rcode_3_without_answers() {
    let query = parse_query(S3_QUERY).expect("a valid query");
    let out = response_to(&query, &Answer::NxDomain, 60);
    let mut expected = vec![0x12, 0x34, 0x81, 0x83, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00];
    expected.extend_from_slice(s3_question());
    assert_eq!(out, expected);
    assert_eq!(parse_response(&out), Ok(Response { id: 0x1234, rcode: 3, v4: vec![], v6: vec![] }));
}

#[test]
fn recursion_desired_is_copied() {
    let mut bytes = S3_QUERY.to_vec();
    bytes[2] = 0x00;
    let query = parse_query(&bytes).expect("a valid query");
    assert!(!query.recursion_desired);
    let out = response_to(&query, &v4_answer(&[Ipv4Addr::new(10, 0, 0, 5)]), 60);
    assert_eq!(&out[2..4], &[0x80, 0x80]);
}

#[test]
fn question_is_echoed_with_its_case() {
    let bytes = query_bytes(7, "S3.US-East-1.AmazonAWS.com", QueryType::A);
    let query = parse_query(&bytes).expect("a valid query");
    assert_eq!(query.name, S3_NAME);
    let out = response_to(&query, &v4_answer(&[Ipv4Addr::new(10, 0, 0, 5)]), 60);
    // Everything up to the end of the question is the query's, but the header.
    assert_eq!(&out[12..bytes.len()], &bytes[12..]);
}

#[test]
fn hand_built_query_encodes_its_name() {
    let query = Query {
        id: 0x1234,
        name: S3_NAME.to_owned(),
        qtype: QueryType::A,
        recursion_desired: true,
        wire_name: Vec::new(),
    };
    let parsed = parse_query(S3_QUERY).expect("a valid query");
    let answer = v4_answer(&[Ipv4Addr::new(52, 217, 0, 1)]);
    assert_eq!(response_to(&query, &answer, 60), response_to(&parsed, &answer, 60));
    assert_eq!(Query::new(0x1234, "S3.us-east-1.amazonaws.com.", QueryType::A).map(|q| q.name).ok(), Some(query.name));
    // A name that cannot be encoded: SERVFAIL, no question.
    let bad = Query { name: "a..b".to_owned(), ..query };
    let out = response_to(&bad, &answer, 60);
    assert_eq!(out, [0x12, 0x34, 0x81, 0x82, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00]);
}

#[test]
fn round_trips() {
    for (i, name) in ["s3.us-east-1.amazonaws.com", "ip-10-0-1-5.ec2.internal", "x", ""].iter().enumerate() {
        for qtype in [QueryType::A, QueryType::Aaaa, QueryType::Other(16)] {
            let id = 1000 + i as u16;
            let bytes = query_bytes(id, name, qtype);
            let query = parse_query(&bytes).expect("a valid query");
            assert_eq!((query.id, query.name.as_str(), query.qtype, query.recursion_desired), (id, *name, qtype, true));

            let v4 = vec![Ipv4Addr::new(10, 0, 1, 5), Ipv4Addr::new(10, 0, 2, 6)];
            let v6: Vec<Ipv6Addr> = vec!["2600:1f18:1::5".parse().expect("an address")];
            let out = response_to(&query, &Answer::Addresses { v4: v4.clone(), v6: v6.clone() }, 60);
            let response = parse_response(&out).expect("a valid response");
            let (want_v4, want_v6) = match qtype {
                QueryType::A => (v4, vec![]),
                QueryType::Aaaa => (vec![], v6),
                QueryType::Other(_) => (vec![], vec![]),
            };
            assert_eq!(response, Response { id, rcode: 0, v4: want_v4, v6: want_v6 });
            // A response is not a query, and a query not a response.
            assert!(parse_query(&out).is_err());
            assert!(parse_response(&bytes).is_err());
        }
    }
}

#[test]
fn large_answers_are_truncated_with_tc() {
    let query = parse_query(S3_QUERY).expect("a valid query");
    let many: Vec<Ipv4Addr> = (0..100).map(|i| Ipv4Addr::new(10, 0, 0, i)).collect();
    let out = response_to(&query, &v4_answer(&many), 60);
    assert!(out.len() <= vpcsim_dns::MAX_UDP_MESSAGE);
    assert_eq!(&out[2..4], &[0x83, 0x80], "TC set");
    let fit = (vpcsim_dns::MAX_UDP_MESSAGE - S3_QUERY.len()) / 16;
    let response = parse_response(&out).expect("a valid response");
    assert_eq!(response.v4, many[..fit]);
    assert_eq!(usize::from(u16::from_be_bytes([out[6], out[7]])), fit);
}

#[test]
fn edns_opt_record_is_ignored() {
    let mut bytes = S3_QUERY.to_vec();
    bytes[11] = 1; // ARCOUNT
    // OPT: root name, type 41, UDP size 1232, no extended rcode, no options.
    bytes.extend_from_slice(&[0x00, 0x00, 0x29, 0x04, 0xd0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00]);
    assert_eq!(parse_query(&bytes), parse_query(S3_QUERY));
}

#[test]
fn compressed_response_names_are_followed() {
    // What a recursive resolver might send: a CNAME, then an A for its target
    // whose name points into the CNAME's data.
    let mut bytes = vec![0x00, 0x07, 0x81, 0x80, 0x00, 0x01, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00];
    bytes.extend_from_slice(s3_question());
    // CNAME s3.us-east-1.amazonaws.com -> s3-1.amazonaws.com (at offset 56).
    bytes.extend_from_slice(&[0xc0, 0x0c, 0x00, 0x05, 0x00, 0x01, 0x00, 0x00, 0x00, 0x3c, 0x00, 0x07]);
    let cname_at = bytes.len();
    bytes.extend_from_slice(&[0x04, b's', b'3', b'-', b'1', 0xc0, 0x19]);
    bytes.extend_from_slice(&[0xc0, cname_at as u8, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x00, 0x3c, 0x00, 0x04]);
    bytes.extend_from_slice(&[52, 217, 0, 9]);
    let response = parse_response(&bytes).expect("a valid response");
    assert_eq!(response.v4, [Ipv4Addr::new(52, 217, 0, 9)]);
}

#[test]
fn rejects_what_is_not_a_standard_query() {
    let with = |at: usize, value: u8| {
        let mut b = S3_QUERY.to_vec();
        b[at] = value;
        b
    };
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("response", with(2, 0x81)),
        ("opcode IQUERY", with(2, 0x09)),
        ("opcode STATUS", with(2, 0x11)),
        ("no question", with(5, 0)),
        ("two questions", with(5, 2)),
        ("class CH", with(S3_QUERY.len() - 1, 3)),
        ("label of 64", with(12, 64)),
        ("extended label type", with(12, 0x42)),
        ("pointer forward", [&S3_QUERY[..12], &[0xc0, 0x0e], &S3_QUERY[12..]].concat()),
        ("pointer to itself", [&S3_QUERY[..12], &[0xc0, 0x0c, 0x00, 0x01, 0x00, 0x01]].concat()),
        ("name longer than 255", {
            let mut b = S3_QUERY[..12].to_vec();
            for _ in 0..5 {
                b.push(63);
                b.extend_from_slice(&[b'a'; 63]);
            }
            b.extend_from_slice(&[0x00, 0x00, 0x01, 0x00, 0x01]);
            b
        }),
    ];
    for (what, bytes) in cases {
        assert!(parse_query(&bytes).is_err(), "{what}");
    }
    // Every truncation of a valid query.
    for len in 0..S3_QUERY.len() {
        assert!(parse_query(&S3_QUERY[..len]).is_err(), "truncated to {len}");
    }
}

#[test]
fn rejects_bad_names_to_send() {
    let mut out = vec![1, 2, 3];
    for bad in ["a..b", &"x".repeat(64), &vec!["abc"; 64].join(".")] {
        assert!(build_query(1, bad, QueryType::A, &mut out).is_err(), "{bad:?}");
        assert!(out.is_empty());
    }
}

#[test]
fn rejects_bad_response_records() {
    let query = parse_query(S3_QUERY).expect("a valid query");
    let good = response_to(&query, &v4_answer(&[Ipv4Addr::new(10, 0, 0, 5)]), 60);
    // rdlength 5 for an A record, with a fifth octet to read.
    let mut bad = good.clone();
    let rdlength_at = good.len() - 6;
    bad[rdlength_at + 1] = 5;
    bad.push(0);
    assert!(parse_response(&bad).is_err());
    for len in 0..good.len() {
        assert!(parse_response(&good[..len]).is_err(), "truncated to {len}");
    }
}

/// xorshift64*: deterministic, so a failure names its case.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// Whatever parses as a query gets a response that parses back.
fn check_no_panic(bytes: &[u8]) {
    let _ = parse_response(bytes);
    if let Ok(query) = parse_query(bytes) {
        for answer in [Answer::NxDomain, v4_answer(&[Ipv4Addr::new(10, 0, 0, 5)])] {
            let out = response_to(&query, &answer, 60);
            let response = parse_response(&out).expect("the response to a parsed query parses");
            assert_eq!(response.id, query.id);
            assert!(out.len() <= vpcsim_dns::MAX_UDP_MESSAGE);
        }
    }
}

#[test]
fn random_bytes_never_panic() {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut bytes = Vec::new();
    for case in 0..50_000 {
        bytes.clear();
        let len = rng.below(80);
        bytes.extend((0..len).map(|_| rng.next() as u8));
        // Half of them with a plausible header, so the name reader is reached.
        if case % 2 == 0 && bytes.len() >= 12 {
            bytes[2] &= 0x07;
            bytes[4] = 0;
            bytes[5] = 1;
        }
        check_no_panic(&bytes);
    }
}

#[test]
fn mutated_queries_never_panic() {
    let mut rng = Rng(0x0123_4567_89ab_cdef);
    let mut compressed_response = Vec::new();
    let query = parse_query(S3_QUERY).expect("a valid query");
    build_response(
        &query,
        &v4_answer(&[Ipv4Addr::new(10, 0, 0, 5), Ipv4Addr::new(10, 0, 0, 6)]),
        60,
        &mut compressed_response,
    );
    let mut parsed = 0;
    for case in 0..50_000 {
        let seed: &[u8] = if case % 2 == 0 { S3_QUERY } else { &compressed_response };
        let mut bytes = seed.to_vec();
        for _ in 0..1 + rng.below(4) {
            match rng.below(4) {
                0 => {
                    let at = rng.below(bytes.len());
                    bytes[at] = rng.next() as u8;
                }
                1 => {
                    let at = rng.below(bytes.len());
                    bytes[at] ^= 1 << rng.below(8);
                }
                2 => bytes.truncate(rng.below(bytes.len() + 1)),
                _ => {
                    // A pointer anywhere, to anywhere.
                    let at = rng.below(bytes.len());
                    bytes[at] = 0xc0 | (rng.next() as u8 & 0x3f);
                }
            }
            if bytes.is_empty() {
                break;
            }
        }
        check_no_panic(&bytes);
        parsed += usize::from(parse_query(&bytes).is_ok());
    }
    // The mutations left some queries valid, so the round trip was exercised.
    assert!(parsed > 1000, "{parsed}");
}
