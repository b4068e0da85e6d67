//! Endpoint policies end to end: parse the JSON text, evaluate requests, and
//! locate every kind of error.

use vpcsim_policy::{Decision, MAX_POLICY_CHARS, Policy, PolicyError, Request};

fn policy(text: &str) -> Policy {
    Policy::parse(text).unwrap_or_else(|e| panic!("{e}\n{text}"))
}

fn request<'a>(principal: &'a str, action: &'a str, resource: &'a str) -> Request<'a> {
    Request { principal, action, resource }
}

const APP: &str = "arn:aws:iam::123456789012:role/app";
const OTHER_ACCOUNT: &str = "arn:aws:iam::111111111111:role/app";

/// Asserts that `text` is rejected with `message` at `line:column`.
#[track_caller]
fn check_error(text: &str, line: usize, column: usize, message: &str) {
    match Policy::parse(text) {
        Ok(p) => panic!("accepted: {p:?}\n{text}"),
        Err(e) => assert_eq!((e.line, e.column, e.message.as_str()), (line, column, message), "\n{text}\n{e}"),
    }
}

/// A valid policy whose elements sit one per line, so errors are easy to place:
/// statement `{` at 4:5, keys at column 7 of lines 5 to 9.
const BASE: &str = r#"{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Sid": "ReadReports",
      "Effect": "Allow",
      "Principal": {"AWS": "123456789012"},
      "Action": "s3:GetObject",
      "Resource": "arn:aws:s3:::reports/*"
    }
  ]
}"#;

/// `BASE` with one edit, which must apply.
fn edited(from: &str, to: &str) -> String {
    assert!(BASE.contains(from), "{from:?} is not in BASE");
    BASE.replacen(from, to, 1)
}

// ---- evaluation ----------------------------------------------------------

#[test]
fn base_policy_is_valid() {
    let p = policy(BASE);
    assert_eq!(p.statement_count(), 1);
    assert_eq!(p.statement_label(0), "ReadReports");
    assert_eq!(
        p.evaluate(&request(APP, "s3:GetObject", "arn:aws:s3:::reports/q1.csv")),
        Decision::Allow { statement: 0 }
    );
}

#[test]
fn endpoint_policy_allowing_only_get_object_on_reports() {
    let p = policy(
        r#"{"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
            "Resource": "arn:aws:s3:::reports/*"}]}"#,
    );
    let get = p.evaluate(&request(APP, "s3:GetObject", "arn:aws:s3:::reports/q1.csv"));
    assert_eq!(get, Decision::Allow { statement: 0 });
    assert!(get.allowed());
    let put = p.evaluate(&request(APP, "s3:PutObject", "arn:aws:s3:::reports/q1.csv"));
    assert_eq!(put, Decision::ImplicitDeny);
    assert!(!put.allowed());
    assert_eq!(p.evaluate(&request(APP, "s3:GetObject", "arn:aws:s3:::payroll/q1.csv")), Decision::ImplicitDeny);
    assert_eq!(p.evaluate(&request(APP, "s3:GetObject", "arn:aws:s3:::reports")), Decision::ImplicitDeny);
}

#[test]
fn explicit_deny_beats_allow_in_either_order() {
    let deny = r#"{"Effect": "Deny", "Principal": "*", "Action": "s3:PutObject", "Resource": "*"}"#;
    let allow = r#"{"Effect": "Allow", "Principal": "*", "Action": "s3:*", "Resource": "*"}"#;
    let put = request(APP, "s3:PutObject", "arn:aws:s3:::reports/q1.csv");
    let get = request(APP, "s3:GetObject", "arn:aws:s3:::reports/q1.csv");

    let deny_first = policy(&format!(r#"{{"Statement": [{deny}, {allow}]}}"#));
    assert_eq!(deny_first.evaluate(&put), Decision::ExplicitDeny { statement: 0 });
    assert_eq!(deny_first.evaluate(&get), Decision::Allow { statement: 1 });

    let allow_first = policy(&format!(r#"{{"Statement": [{allow}, {deny}]}}"#));
    assert_eq!(allow_first.evaluate(&put), Decision::ExplicitDeny { statement: 1 });
    assert_eq!(allow_first.evaluate(&get), Decision::Allow { statement: 0 });
    assert_eq!(Decision::ExplicitDeny { statement: 1 }.statement(), Some(1));
    assert_eq!(Decision::ImplicitDeny.statement(), None);
}

#[test]
fn no_matching_statement_is_an_implicit_deny() {
    let p = policy(r#"{"Statement": {"Effect": "Deny", "Principal": "*", "Action": "ec2:*", "Resource": "*"}}"#);
    assert_eq!(p.evaluate(&request(APP, "s3:GetObject", "arn:aws:s3:::b/k")), Decision::ImplicitDeny);
}

#[test]
fn allow_all_allows_everything() {
    let p = Policy::allow_all();
    for (principal, action, resource) in [
        (APP, "s3:GetObject", "arn:aws:s3:::reports/q1.csv"),
        (OTHER_ACCOUNT, "dynamodb:DeleteTable", "arn:aws:dynamodb:us-east-1:111111111111:table/t"),
        ("", "", ""),
    ] {
        assert_eq!(p.evaluate(&request(principal, action, resource)), Decision::Allow { statement: 0 });
    }
    assert_eq!(p.statement_label(0), "statement #1");
    // The default policy as AWS documents it is the same policy.
    let documented =
        policy(r#"{"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"}]}"#);
    assert_eq!(documented, p);
}

#[test]
fn statement_labels() {
    let p = policy(
        r#"{"Statement": [
            {"Sid": "DenyDeletes", "Effect": "Deny", "Principal": "*", "Action": "s3:Delete*", "Resource": "*"},
            {"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"}
        ]}"#,
    );
    assert_eq!(p.statement_label(0), "DenyDeletes");
    assert_eq!(p.statement_label(1), "statement #2");
}

#[test]
fn not_action() {
    let p = policy(
        r#"{"Statement": [{"Effect": "Allow", "Principal": "*", "NotAction": ["s3:Delete*", "s3:Put*"], "Resource": "*"}]}"#,
    );
    assert!(p.evaluate(&request(APP, "s3:GetObject", "arn:aws:s3:::b/k")).allowed());
    assert!(p.evaluate(&request(APP, "sqs:SendMessage", "arn:aws:sqs:us-east-1:123456789012:q")).allowed());
    assert_eq!(p.evaluate(&request(APP, "s3:DeleteObject", "arn:aws:s3:::b/k")), Decision::ImplicitDeny);
    assert_eq!(p.evaluate(&request(APP, "s3:PutObject", "arn:aws:s3:::b/k")), Decision::ImplicitDeny);
}

#[test]
fn not_resource() {
    let p = policy(
        r#"{"Statement": [
            {"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"},
            {"Effect": "Deny", "Principal": "*", "Action": "s3:*", "NotResource": "arn:aws:s3:::reports/*"}
        ]}"#,
    );
    assert_eq!(
        p.evaluate(&request(APP, "s3:GetObject", "arn:aws:s3:::reports/q1.csv")),
        Decision::Allow { statement: 0 }
    );
    assert_eq!(
        p.evaluate(&request(APP, "s3:GetObject", "arn:aws:s3:::payroll/q1.csv")),
        Decision::ExplicitDeny { statement: 1 }
    );
}

#[test]
fn not_principal() {
    let admin = "arn:aws:iam::123456789012:role/admin";
    let p = policy(
        r#"{"Statement": [
            {"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"},
            {"Effect": "Deny", "NotPrincipal": {"AWS": ["arn:aws:iam::123456789012:role/admin"]},
             "Action": "s3:Delete*", "Resource": "*"}
        ]}"#,
    );
    assert_eq!(p.evaluate(&request(admin, "s3:DeleteObject", "arn:aws:s3:::b/k")), Decision::Allow { statement: 0 });
    assert_eq!(
        p.evaluate(&request(APP, "s3:DeleteObject", "arn:aws:s3:::b/k")),
        Decision::ExplicitDeny { statement: 1 }
    );
    assert_eq!(p.evaluate(&request(APP, "s3:GetObject", "arn:aws:s3:::b/k")), Decision::Allow { statement: 0 });
}

#[test]
fn actions_are_case_insensitive_resources_are_not() {
    let p = policy(
        r#"{"Statement": {"Effect": "Allow", "Principal": "*", "Action": "S3:getobject", "Resource": "arn:aws:s3:::Reports/*"}}"#,
    );
    assert!(p.evaluate(&request(APP, "s3:GetObject", "arn:aws:s3:::Reports/q1.csv")).allowed());
    assert!(p.evaluate(&request(APP, "S3:GETOBJECT", "arn:aws:s3:::Reports/q1.csv")).allowed());
    assert!(!p.evaluate(&request(APP, "s3:GetObject", "arn:aws:s3:::reports/q1.csv")).allowed());
}

#[test]
fn question_mark_matches_one_character() {
    let p = policy(
        r#"{"Statement": {"Effect": "Allow", "Principal": "*", "Action": "s3:Get?bject", "Resource": "arn:aws:s3:::reports/q?.csv"}}"#,
    );
    assert!(p.evaluate(&request(APP, "s3:GetObject", "arn:aws:s3:::reports/q1.csv")).allowed());
    assert!(!p.evaluate(&request(APP, "s3:GetObject", "arn:aws:s3:::reports/q10.csv")).allowed());
    assert!(!p.evaluate(&request(APP, "s3:GetObject", "arn:aws:s3:::reports/q.csv")).allowed());
}

#[test]
fn account_principal_covers_the_account_only() {
    for principal in [r#""123456789012""#, r#""arn:aws:iam::123456789012:root""#] {
        let p = policy(&format!(
            r#"{{"Statement": {{"Effect": "Allow", "Principal": {{"AWS": {principal}}}, "Action": "*", "Resource": "*"}}}}"#
        ));
        for caller in [APP, "arn:aws:iam::123456789012:root", "arn:aws:sts::123456789012:assumed-role/app/s1"] {
            assert!(p.evaluate(&request(caller, "s3:GetObject", "arn:aws:s3:::b/k")).allowed(), "{principal} {caller}");
        }
        for caller in [OTHER_ACCOUNT, "arn:aws:iam::111111111111:root", "anonymous"] {
            assert!(
                !p.evaluate(&request(caller, "s3:GetObject", "arn:aws:s3:::b/k")).allowed(),
                "{principal} {caller}"
            );
        }
    }
}

#[test]
fn role_principals_match_exactly() {
    let p = policy(
        r#"{"Statement": {"Effect": "Allow",
            "Principal": {"AWS": ["arn:aws:iam::123456789012:role/app", "arn:aws:iam::222222222222:user/ops"]},
            "Action": "*", "Resource": "*"}}"#,
    );
    let allowed = |who| p.evaluate(&request(who, "s3:GetObject", "arn:aws:s3:::b/k")).allowed();
    assert!(allowed(APP));
    assert!(allowed("arn:aws:iam::222222222222:user/ops"));
    assert!(!allowed("arn:aws:iam::123456789012:role/App"));
    assert!(!allowed("arn:aws:iam::123456789012:role/app2"));
    assert!(!allowed("arn:aws:iam::123456789012:root"));
}

#[test]
fn aws_star_principal_is_anyone() {
    let p = policy(r#"{"Statement": {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "*", "Resource": "*"}}"#);
    assert!(p.evaluate(&request(OTHER_ACCOUNT, "s3:GetObject", "arn:aws:s3:::b/k")).allowed());
}

// ---- errors --------------------------------------------------------------

#[test]
fn syntax_error_is_located() {
    check_error(
        &edited(r#""ReadReports","#, r#""ReadReports""#),
        6,
        7,
        "expected `,` or `}` after a member, found `\"`",
    );
    check_error(&edited("\n  ]\n}", "\n  ],\n}"), 11, 4, "trailing comma before `}` (JSON does not allow one)");
    check_error("", 1, 1, "expected a value, found end of input");
    check_error("{\n  \"Statement\": [\n", 3, 1, "expected a value, found end of input");
}

#[test]
fn unknown_keys() {
    check_error(
        &edited(r#""Effect""#, r#""Efect""#),
        6,
        7,
        "unknown key `Efect` in statement, expected one of `Sid`, `Effect`, `Principal`, `NotPrincipal`, \
         `Action`, `NotAction`, `Resource`, `NotResource`, `Condition` (did you mean `Effect`?)",
    );
    check_error(
        &edited(r#""Statement""#, r#""Statements""#),
        3,
        3,
        "unknown key `Statements` in the policy, expected one of `Version`, `Id`, `Statement` (did you mean `Statement`?)",
    );
    check_error(
        &edited(r#""Sid""#, r#""Comment""#),
        5,
        7,
        "unknown key `Comment` in statement, expected one of `Sid`, `Effect`, `Principal`, `NotPrincipal`, \
         `Action`, `NotAction`, `Resource`, `NotResource`, `Condition`",
    );
    check_error(
        &edited(r#"{"AWS""#, r#"{"Aws""#),
        7,
        21,
        "unknown key `Aws` in a principal, expected one of `AWS`, `Service`, `Federated`, `CanonicalUser` \
         (did you mean `AWS`?)",
    );
    check_error(&edited(r#""Action""#, r#""Sid""#), 8, 7, "duplicate key `Sid` in this object");
}

#[test]
fn bad_effect() {
    check_error(
        &edited(r#""Allow""#, r#""allow""#),
        6,
        17,
        r#"Effect must be "Allow" or "Deny", found "allow" (it is case-sensitive)"#,
    );
    check_error(&edited(r#""Allow""#, r#""Permit""#), 6, 17, r#"Effect must be "Allow" or "Deny", found "Permit""#);
    check_error(&edited(r#""Allow""#, "true"), 6, 17, "Effect must be a string, found a boolean");
    check_error(
        &edited("      \"Effect\": \"Allow\",\n", ""),
        4,
        5,
        r#"the statement has no `Effect` ("Allow" or "Deny")"#,
    );
}

#[test]
fn condition_is_not_supported_yet() {
    check_error(
        &edited(
            r#""arn:aws:s3:::reports/*""#,
            r#""arn:aws:s3:::reports/*",
      "Condition": {"Bool": {"aws:SecureTransport": "true"}}"#,
        ),
        10,
        7,
        "Condition is not supported by vpcsim yet",
    );
}

#[test]
fn principal_is_required() {
    check_error(
        &edited("      \"Principal\": {\"AWS\": \"123456789012\"},\n", ""),
        4,
        5,
        "the statement has neither `Principal` nor `NotPrincipal`; an endpoint policy must name its principals \
         (\"Principal\": \"*\" for anyone)",
    );
}

#[test]
fn element_and_not_element_together() {
    check_error(
        &edited(r#""s3:GetObject","#, "\"s3:GetObject\",\n      \"NotAction\": \"s3:PutObject\","),
        9,
        7,
        "a statement has either `Action` or `NotAction`, not both",
    );
    check_error(
        &edited(r#""Principal": {"AWS": "123456789012"},"#, r#""NotPrincipal": "*", "Principal": "*","#),
        7,
        28,
        "a statement has either `Principal` or `NotPrincipal`, not both",
    );
    check_error(
        &edited(r#""Resource": "arn:aws:s3:::reports/*""#, r#""NotResource": "*", "Resource": "*""#),
        9,
        27,
        "a statement has either `Resource` or `NotResource`, not both",
    );
}

#[test]
fn missing_action_or_resource() {
    check_error(
        &edited("      \"Action\": \"s3:GetObject\",\n", ""),
        4,
        5,
        "the statement has neither `Action` nor `NotAction`",
    );
    check_error(
        &edited(",\n      \"Resource\": \"arn:aws:s3:::reports/*\"", ""),
        4,
        5,
        "the statement has neither `Resource` nor `NotResource`",
    );
}

#[test]
fn bad_version() {
    check_error(
        &edited("2012-10-17", "2012-10-18"),
        2,
        14,
        r#"unsupported Version "2012-10-18", expected "2012-10-17" or "2008-10-17""#,
    );
    check_error(&edited(r#""2012-10-17""#, "2012"), 2, 14, "Version must be a string, found a number");
    assert!(Policy::parse(&edited("2012-10-17", "2008-10-17")).is_ok());
    assert!(Policy::parse(&edited("  \"Version\": \"2012-10-17\",\n", "")).is_ok(), "Version is optional");
}

#[test]
fn bad_values() {
    check_error(
        &edited(r#""s3:GetObject""#, r#""GetObject""#),
        8,
        17,
        r#"invalid action "GetObject": expected "*" or service:Action, such as s3:GetObject"#,
    );
    check_error(&edited(r#""s3:GetObject""#, "[]"), 8, 17, "Action is an empty list");
    check_error(
        &edited(r#""s3:GetObject""#, r#"["s3:GetObject", 7]"#),
        8,
        34,
        "each item of Action must be a string, found a number",
    );
    check_error(
        &edited(r#""arn:aws:s3:::reports/*""#, r#""reports/*""#),
        9,
        19,
        r#"invalid resource "reports/*": expected "*" or an ARN such as arn:aws:s3:::bucket/*"#,
    );
    check_error(
        &edited(r#""arn:aws:s3:::reports/*""#, r#""arn:aws:s3:::home/${aws:username}/*""#),
        9,
        19,
        r#"policy variables (`${...}` in "arn:aws:s3:::home/${aws:username}/*") are not supported by vpcsim yet"#,
    );
    check_error(
        &edited(r#"{"AWS": "123456789012"}"#, r#""123456789012""#),
        7,
        20,
        r#"Principal must be "*" or an object such as {"AWS": "123456789012"}, found "123456789012""#,
    );
    check_error(
        &edited(r#""123456789012""#, r#""arn:aws:iam::123456789012:role/*""#),
        7,
        28,
        r#"invalid principal "arn:aws:iam::123456789012:role/*": a principal takes no wildcard, except "*" alone for anyone"#,
    );
    check_error(
        &edited(r#""123456789012""#, r#""12345""#),
        7,
        28,
        r#"invalid principal "12345": expected "*", a 12-digit account id, or an ARN such as arn:aws:iam::123456789012:role/name"#,
    );
    check_error(
        &edited(r#"{"AWS": "123456789012"}"#, r#"{"Service": "ec2.amazonaws.com"}"#),
        7,
        21,
        "principal type `Service` is not supported by vpcsim yet (only `AWS` is)",
    );
    check_error(&edited(r#"{"AWS": "123456789012"}"#, "{}"), 7, 20, "Principal names no principal");
    check_error(&edited(r#""ReadReports""#, "1"), 5, 14, "Sid must be a string, found a number");
}

#[test]
fn bad_structure() {
    check_error("[]", 1, 1, "a policy is a JSON object, found a list");
    check_error(r#"{"Version": "2012-10-17"}"#, 1, 1, "the policy has no `Statement`");
    check_error(r#"{"Statement": []}"#, 1, 15, "Statement is an empty list");
    check_error(r#"{"Statement": "x"}"#, 1, 15, "Statement must be an object or a list of objects, found a string");
    check_error(r#"{"Statement": [1]}"#, 1, 16, "a statement is a JSON object, found a number");
}

#[test]
fn size_limit() {
    let statement = r#"{"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"}"#;
    let fits = format!(r#"{{"Statement": [{statement}]}}"#);
    let padded = format!("{fits}{}", " ".repeat(MAX_POLICY_CHARS - fits.chars().count()));
    assert!(Policy::parse(&padded).is_ok());
    let too_long = format!("{padded} ");
    check_error(
        &too_long,
        1,
        MAX_POLICY_CHARS + 1,
        "the policy is 20481 characters long; an endpoint policy may have at most 20480, white space included",
    );
}

#[test]
fn error_display() {
    let e = PolicyError { line: 3, column: 7, message: "Condition is not supported by vpcsim yet".to_owned() };
    assert_eq!(e.to_string(), "3:7: Condition is not supported by vpcsim yet");
}

// ---- robustness ----------------------------------------------------------

/// A deterministic xorshift64 generator.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// Checks what must hold for any input: no panic, an error inside the text.
fn parse_anything(text: &str) -> Option<Policy> {
    match Policy::parse(text) {
        Ok(p) => Some(p),
        Err(e) => {
            let lines: Vec<&str> = text.split('\n').collect();
            assert!(e.line >= 1 && e.line <= lines.len(), "{e} for {text:?}");
            let width = lines[e.line - 1].chars().count();
            assert!(e.column >= 1 && e.column <= width + 1, "{e} for {text:?}");
            assert!(!e.message.is_empty());
            None
        }
    }
}

#[test]
fn random_mutations_never_panic() {
    const ALPHABET: &[char] =
        &['{', '}', '[', ']', ',', ':', '"', '\\', ' ', '\n', '*', '?', 'a', 'A', '0', '1', '-', 'é', '\u{0}', 'u'];
    const WORDS: &[&str] = &[
        "\"Effect\"",
        "\"Deny\"",
        "\"Allow\"",
        "\"Principal\"",
        "\"NotPrincipal\"",
        "\"Action\"",
        "\"NotAction\"",
        "\"Resource\"",
        "\"NotResource\"",
        "\"Condition\"",
        "\"Sid\"",
        "\"*\"",
        "\"AWS\"",
        "[",
        "]",
        "{",
        "}",
        ",",
        "\"s3:*\"",
        "\"arn:aws:s3:::*\"",
        "\"111111111111\"",
        "\\ud800",
        "null",
        "true",
        "1e5",
    ];
    let base: Vec<char> = BASE.chars().collect();
    let mut rng = Rng(0x2545_F491_4F6C_DD1D);
    let mut parsed = 0;
    for _ in 0..40_000 {
        let mut text = base.clone();
        for _ in 0..rng.below(4) + 1 {
            let at = rng.below(text.len() + 1);
            match rng.below(5) {
                0 => {
                    let end = (at + rng.below(8) + 1).min(text.len());
                    text.drain(at..end);
                }
                1 => text.insert(at, ALPHABET[rng.below(ALPHABET.len())]),
                2 => {
                    let word = WORDS[rng.below(WORDS.len())];
                    text.splice(at..at, word.chars());
                }
                3 if at < text.len() => text[at] = ALPHABET[rng.below(ALPHABET.len())],
                _ => {
                    // Duplicate a slice of the text somewhere else.
                    let from = rng.below(text.len());
                    let to = (from + rng.below(40)).min(text.len());
                    let piece: Vec<char> = text[from..to].to_vec();
                    text.splice(at.min(text.len())..at.min(text.len()), piece);
                }
            }
        }
        let text: String = text.into_iter().collect();
        if let Some(p) = parse_anything(&text) {
            parsed += 1;
            for i in 0..p.statement_count() + 1 {
                let _ = p.statement_label(i);
            }
            let _ = p.evaluate(&request(APP, "s3:GetObject", "arn:aws:s3:::reports/q1.csv"));
            let _ = p.evaluate(&request("", "", ""));
        }
    }
    assert!(parsed > 100, "some mutations should stay valid ({parsed})");
}

#[test]
fn random_strings_never_panic() {
    let mut rng = Rng(0xDEAD_BEEF_CAFE_F00D);
    for _ in 0..20_000 {
        let len = rng.below(64);
        let text: String = (0..len)
            .map(|_| match rng.below(4) {
                0 => char::from(b"{}[],:\" \n\\"[rng.below(10)]),
                1 => char::from_u32(rng.below(0x80) as u32).unwrap_or('x'),
                2 => char::from_u32(rng.below(0x11_0000) as u32).unwrap_or('\u{FFFD}'),
                _ => char::from(b'a' + rng.below(26) as u8),
            })
            .collect();
        parse_anything(&text);
    }
}
