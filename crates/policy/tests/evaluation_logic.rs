//! IAM's evaluation logic for endpoint policies, each rule pinned against the
//! AWS page that states it (issue 13: mutation testing left these unpinned).
//!
//! - "The difference between explicit and implicit denies" (IAM User Guide):
//!   an applicable `Deny` trumps any `Allow`; without an applicable statement
//!   the request is implicitly denied. "Evaluation logic" (Amazon SNS guide,
//!   the same access policy language): the order of evaluation does not matter.
//! - "IAM JSON policy elements: Principal": `"*"` and `{"AWS": "*"}` are
//!   everyone, anonymous callers included; an account id and its root ARN
//!   stand for every principal of the account.
//! - "IAM JSON policy elements: Action": prefix and action name are case
//!   insensitive; `*` and `?` may be used in the name (`iam:*AccessKey*`).
//! - "IAM JSON policy elements: Resource": `*` and `?` in ARNs; a `*` last in
//!   a segment extends past colons; names in ARNs are case sensitive
//!   (`user/Bob`).
//! - "IAM JSON policy elements: NotAction / NotResource / NotPrincipal":
//!   the statement applies to everything except what is listed.
//!
//! Which statement a [`Decision`] names is vpcsim's own contract (the docs of
//! `Decision`): the first matching `Deny`, else the first matching `Allow`.

use vpcsim_policy::{Decision, Effect, Policy, Request, Version};

fn policy(text: &str) -> Policy {
    Policy::parse(text).unwrap_or_else(|e| panic!("{e}\n{text}"))
}

/// A policy of these statements (JSON objects), in this order.
fn statements(list: &[&str]) -> Policy {
    policy(&format!(r#"{{"Version": "2012-10-17", "Statement": [{}]}}"#, list.join(", ")))
}

/// One `Allow` statement for anyone on everything, but for `element`.
fn allow_with(element: &str) -> Policy {
    let mut parts = vec![r#""Effect": "Allow""#];
    for (key, default) in [("Principal", r#""Principal": "*""#), ("Action", r#""Action": "*""#)] {
        if !element.contains(&format!("\"{key}\"")) {
            parts.push(default);
        }
    }
    if !element.contains("Resource\"") {
        parts.push(r#""Resource": "*""#);
    }
    parts.push(element);
    statements(&[&format!("{{{}}}", parts.join(", "))])
}

fn request<'a>(principal: &'a str, action: &'a str, resource: &'a str) -> Request<'a> {
    Request { principal, action, resource }
}

const APP: &str = "arn:aws:iam::123456789012:role/app";
const OBJECT: &str = "arn:aws:s3:::reports/q1.csv";

fn get(p: &Policy, action: &str) -> Decision {
    p.evaluate(&request(APP, action, OBJECT))
}

/// Every ordering of `0..n` (n ≤ 5 here), in lexicographic order.
fn permutations(n: usize) -> Vec<Vec<usize>> {
    if n == 0 {
        return vec![vec![]];
    }
    let mut out = Vec::new();
    for first in 0..n {
        for rest in permutations(n - 1) {
            let mut p = vec![first];
            p.extend(rest.into_iter().map(|x| if x >= first { x + 1 } else { x }));
            out.push(p);
        }
    }
    out
}

// ---- explicit deny, implicit deny, the deciding statement ----------------

#[test]
fn explicit_deny_wins_in_every_statement_order() {
    const DENY_PUT: &str = r#"{"Effect": "Deny", "Principal": "*", "Action": "s3:PutObject", "Resource": "*"}"#;
    const ALLOW_S3: &str = r#"{"Effect": "Allow", "Principal": "*", "Action": "s3:*", "Resource": "*"}"#;
    const ALLOW_ALL: &str = r#"{"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"}"#;
    const ALLOW_EC2: &str = r#"{"Effect": "Allow", "Principal": "*", "Action": "ec2:*", "Resource": "*"}"#;
    const DENY_SQS: &str = r#"{"Effect": "Deny", "Principal": "*", "Action": "sqs:*", "Resource": "*"}"#;
    let named = [DENY_PUT, ALLOW_S3, ALLOW_ALL, ALLOW_EC2, DENY_SQS];
    let orders = permutations(named.len());
    assert_eq!(orders.len(), 120);
    for order in orders {
        let p = statements(&order.iter().map(|&i| named[i]).collect::<Vec<_>>());
        let at = |name: usize| order.iter().position(|&i| i == name).unwrap();
        let first = |a: usize, b: usize| at(a).min(at(b));
        let case = format!("order {order:?}");
        // A deny that applies wins over the two allows that also apply.
        let put = get(&p, "s3:PutObject");
        assert_eq!(put, Decision::ExplicitDeny { statement: at(0) }, "{case}");
        assert_eq!((put.allowed(), put.statement()), (false, Some(at(0))), "{case}");
        assert_eq!(get(&p, "sqs:SendMessage"), Decision::ExplicitDeny { statement: at(4) }, "{case}");
        // No deny applies: the first of the applicable allows decides.
        let read = get(&p, "s3:GetObject");
        assert_eq!(read, Decision::Allow { statement: first(1, 2) }, "{case}");
        assert_eq!((read.allowed(), read.statement()), (true, Some(first(1, 2))), "{case}");
        assert_eq!(get(&p, "ec2:RunInstances"), Decision::Allow { statement: first(2, 3) }, "{case}");
        assert_eq!(get(&p, "kms:Decrypt"), Decision::Allow { statement: at(2) }, "{case}");
    }
}

#[test]
fn the_first_applicable_deny_is_named_even_after_allows() {
    let p = statements(&[
        r#"{"Sid": "A", "Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"}"#,
        r#"{"Sid": "D1", "Effect": "Deny", "Principal": "*", "Action": "ec2:*", "Resource": "*"}"#,
        r#"{"Sid": "D2", "Effect": "Deny", "Principal": "*", "Action": "s3:Delete*", "Resource": "*"}"#,
        r#"{"Sid": "D3", "Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": "*"}"#,
    ]);
    let delete = get(&p, "s3:DeleteObject");
    assert_eq!(delete, Decision::ExplicitDeny { statement: 2 }, "D2 and D3 apply; D2 comes first");
    assert_eq!(p.statement_label(delete.statement().unwrap()), "D2");
    assert_eq!(get(&p, "s3:GetObject"), Decision::ExplicitDeny { statement: 3 });
    assert_eq!(get(&p, "sqs:SendMessage"), Decision::Allow { statement: 0 });
}

#[test]
fn implicit_deny_when_no_statement_applies() {
    let deny_all_ec2 = r#"{"Effect": "Deny", "Principal": "*", "Action": "ec2:*", "Resource": "*"}"#;
    // Each allow misses the request on exactly one element: principal,
    // action, resource. All three must apply for a statement to apply.
    let wrong_principal =
        r#"{"Effect": "Allow", "Principal": {"AWS": "111111111111"}, "Action": "s3:GetObject", "Resource": "*"}"#;
    let wrong_action = r#"{"Effect": "Allow", "Principal": "*", "Action": "s3:PutObject", "Resource": "*"}"#;
    let wrong_resource =
        r#"{"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::payroll/*"}"#;
    let p = statements(&[deny_all_ec2, wrong_principal, wrong_action, wrong_resource]);
    let d = get(&p, "s3:GetObject");
    assert_eq!(d, Decision::ImplicitDeny);
    assert_eq!((d.allowed(), d.statement()), (false, None));
    // Each allow on its own does allow what it names.
    assert!(
        statements(&[wrong_principal])
            .evaluate(&request("arn:aws:iam::111111111111:role/x", "s3:GetObject", OBJECT))
            .allowed()
    );
    assert!(get(&statements(&[wrong_action]), "s3:PutObject").allowed());
    assert!(statements(&[wrong_resource]).evaluate(&request(APP, "s3:GetObject", "arn:aws:s3:::payroll/a")).allowed());
    // A policy of denies only allows nothing, not even what no deny names.
    let denies = statements(&[deny_all_ec2]);
    assert_eq!(get(&denies, "s3:GetObject"), Decision::ImplicitDeny);
    assert_eq!(get(&denies, "ec2:RunInstances"), Decision::ExplicitDeny { statement: 0 });
}

// ---- principals -----------------------------------------------------------

#[test]
fn star_principal_in_every_form_is_everyone_including_anonymous() {
    let forms = [r#""Principal": "*""#, r#""Principal": {"AWS": "*"}"#, r#""Principal": {"AWS": ["*"]}"#];
    let policies: Vec<Policy> = forms.iter().map(|f| allow_with(f)).collect();
    assert_eq!(policies[0], policies[1], "\"*\" and {{\"AWS\": \"*\"}} are the same principal");
    assert_eq!(policies[1], policies[2], "a list of one is the single string");
    for p in &policies {
        for caller in [APP, "arn:aws:sts::999999999999:assumed-role/x/s", "anonymous", ""] {
            assert_eq!(p.evaluate(&request(caller, "s3:GetObject", OBJECT)), Decision::Allow { statement: 0 });
        }
    }
    // "*" among other principals still covers everyone.
    let mixed = allow_with(r#""Principal": {"AWS": ["111111111111", "*"]}"#);
    assert!(mixed.evaluate(&request("anonymous", "s3:GetObject", OBJECT)).allowed());
}

#[test]
fn account_principals_cover_their_account_in_their_partition() {
    let by_id = allow_with(r#""Principal": {"AWS": "123456789012"}"#);
    let by_root = allow_with(r#""Principal": {"AWS": "arn:aws:iam::123456789012:root"}"#);
    let china_root = allow_with(r#""Principal": {"AWS": "arn:aws-cn:iam::123456789012:root"}"#);
    let allowed = |p: &Policy, who: &str| p.evaluate(&request(who, "s3:GetObject", OBJECT)).allowed();
    for caller in [
        "123456789012",
        "arn:aws:iam::123456789012:root",
        "arn:aws:iam::123456789012:user/Bob",
        "arn:aws:sts::123456789012:assumed-role/app/session",
    ] {
        assert!(allowed(&by_id, caller) && allowed(&by_root, caller), "{caller}");
        assert!(!allowed(&china_root, caller) || caller == "123456789012", "{caller} is not in aws-cn");
    }
    // The root ARN names its partition; the bare id does not.
    let in_china = "arn:aws-cn:iam::123456789012:role/app";
    assert!(allowed(&china_root, in_china));
    assert!(!allowed(&by_root, in_china));
    assert!(allowed(&by_id, in_china));
    for caller in [
        "arn:aws:iam::111111111111:role/app",
        "arn:aws:iam::12345678901:role/app",
        "arn:aws:iam::123456789012",
        "arn:aws:iam:123456789012:role/app",
        "aws:iam::123456789012:role/app",
        "urn:aws:iam::123456789012:role/app",
        "anonymous",
    ] {
        assert!(!allowed(&by_id, caller) && !allowed(&by_root, caller), "{caller}");
    }
}

#[test]
fn principal_lists_need_one_match_and_not_principal_excludes_the_list() {
    let list = r#"{"AWS": ["111111111111", "arn:aws:iam::222222222222:role/ops"]}"#;
    let allow = allow_with(&format!(r#""Principal": {list}"#));
    let allowed = |p: &Policy, who: &str| p.evaluate(&request(who, "s3:GetObject", OBJECT)).allowed();
    assert!(allowed(&allow, "arn:aws:iam::111111111111:user/a"));
    assert!(allowed(&allow, "arn:aws:iam::222222222222:role/ops"));
    assert!(!allowed(&allow, "arn:aws:iam::222222222222:role/dev"));
    assert!(!allowed(&allow, APP));

    let p = statements(&[
        r#"{"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"}"#,
        &format!(r#"{{"Effect": "Deny", "NotPrincipal": {list}, "Action": "*", "Resource": "*"}}"#),
    ]);
    assert_eq!(
        p.evaluate(&request("arn:aws:iam::111111111111:user/a", "s3:GetObject", OBJECT)),
        Decision::Allow { statement: 0 }
    );
    assert_eq!(
        p.evaluate(&request("arn:aws:iam::222222222222:role/ops", "s3:GetObject", OBJECT)),
        Decision::Allow { statement: 0 }
    );
    assert_eq!(
        p.evaluate(&request("arn:aws:iam::222222222222:role/dev", "s3:GetObject", OBJECT)),
        Decision::ExplicitDeny { statement: 1 }
    );
    assert_eq!(p.evaluate(&request("anonymous", "s3:GetObject", OBJECT)), Decision::ExplicitDeny { statement: 1 });
}

// ---- actions and resources ------------------------------------------------

#[test]
fn action_wildcards_and_case() {
    let access_keys = allow_with(r#""Action": "iam:*AccessKey*""#);
    for action in ["iam:CreateAccessKey", "iam:DeleteAccessKey", "iam:ListAccessKeys", "IAM:updateaccesskey"] {
        assert!(get(&access_keys, action).allowed(), "{action}");
    }
    for action in ["iam:ListUsers", "iam:CreateAccessKe", "s3:CreateAccessKey"] {
        assert!(!get(&access_keys, action).allowed(), "{action}");
    }

    let one = allow_with(r#""Action": "S3:?ETOBJECT""#);
    assert!(get(&one, "s3:GetObject").allowed());
    assert!(get(&one, "s3:getobject").allowed());
    assert!(!get(&one, "s3:GetObjectAcl").allowed());
    assert!(!get(&one, "s3:EtObject").allowed(), "? is exactly one character");
    assert!(!get(&one, "s3:GetObjekt").allowed());
    let last = allow_with(r#""Action": "s3:GetObjec?""#);
    assert!(get(&last, "s3:GetObject").allowed());
    assert!(!get(&last, "s3:GetObjec").allowed(), "? at the end still needs its character");

    let service = allow_with(r#""Action": "s3:*""#);
    assert!(get(&service, "s3:ListBucket").allowed());
    assert!(get(&service, "S3:ListBucket").allowed());
    assert!(!get(&service, "s3express:CreateSession").allowed());
    assert!(!get(&service, "sqs:SendMessage").allowed());

    let any = allow_with(r#""Action": "*""#);
    assert!(get(&any, "dynamodb:DeleteTable").allowed());
}

#[test]
fn resource_wildcards_cross_slashes_and_names_are_case_sensitive() {
    let allowed = |p: &Policy, arn: &str| p.evaluate(&request(APP, "s3:GetObject", arn)).allowed();

    let path = allow_with(r#""Resource": "arn:aws:iam::123456789012:user/accounting/*""#);
    assert!(allowed(&path, "arn:aws:iam::123456789012:user/accounting/Bob"));
    assert!(allowed(&path, "arn:aws:iam::123456789012:user/accounting/team/alice"));
    assert!(!allowed(&path, "arn:aws:iam::123456789012:user/Accounting/Bob"));
    assert!(!allowed(&path, "arn:aws:iam::123456789012:user/accountingBob"));
    assert!(!allowed(&path, "arn:aws:iam::111111111111:user/accounting/Bob"));

    let bob = allow_with(r#""Resource": "arn:aws:iam::123456789012:user/Bob""#);
    assert!(allowed(&bob, "arn:aws:iam::123456789012:user/Bob"));
    assert!(!allowed(&bob, "arn:aws:iam::123456789012:user/bob"));
    assert!(!allowed(&bob, "arn:aws:iam::123456789012:user/Bobby"));

    // A `*` last in a segment extends past the colons after it.
    let functions = allow_with(r#""Resource": "arn:aws:lambda:us-east-2:123456789012:*""#);
    assert!(allowed(&functions, "arn:aws:lambda:us-east-2:123456789012:function:my-function:1"));
    assert!(!allowed(&functions, "arn:aws:lambda:us-west-2:123456789012:function:my-function:1"));

    let month = allow_with(r#""Resource": "arn:aws:s3:::logs/2024-0?.gz""#);
    assert!(allowed(&month, "arn:aws:s3:::logs/2024-01.gz"));
    assert!(!allowed(&month, "arn:aws:s3:::logs/2024-0.gz"));
    assert!(!allowed(&month, "arn:aws:s3:::logs/2024-012.gz"));
    assert!(!allowed(&month, "arn:aws:s3:::LOGS/2024-01.gz"));
    assert!(allowed(&month, "arn:aws:s3:::logs/2024-0é.gz"), "? is one character, not one byte");
}

#[test]
fn a_list_applies_when_any_item_does_and_a_single_string_is_a_list_of_one() {
    assert_eq!(allow_with(r#""Action": "s3:GetObject""#), allow_with(r#""Action": ["s3:GetObject"]"#));
    assert_eq!(allow_with(r#""Resource": "arn:aws:s3:::b/*""#), allow_with(r#""Resource": ["arn:aws:s3:::b/*"]"#));

    let p = allow_with(
        r#""Action": ["sqs:SendMessage", "s3:GetObject", "ec2:StartInstances"],
           "Resource": ["arn:aws:s3:::reports/*", "arn:aws:sqs:us-east-2:123456789012:queue1", "arn:aws:ec2:*:*:instance/*"]"#,
    );
    let allowed = |action: &str, arn: &str| p.evaluate(&request(APP, action, arn)).allowed();
    assert!(allowed("sqs:SendMessage", OBJECT), "first action, first resource");
    assert!(allowed("s3:GetObject", "arn:aws:sqs:us-east-2:123456789012:queue1"), "middle, middle");
    assert!(allowed("ec2:StartInstances", "arn:aws:ec2:us-east-2:123456789012:instance/i-1"), "last, last");
    assert!(!allowed("s3:PutObject", OBJECT), "an action in no item");
    assert!(!allowed("s3:GetObject", "arn:aws:s3:::payroll/a"), "a resource in no item");
}

#[test]
fn not_action_and_not_resource_apply_to_everything_but_their_list() {
    // Deny everything but reads of reports: a NotAction deny and a
    // NotResource deny, under an allow of everything.
    let p = statements(&[
        r#"{"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"}"#,
        r#"{"Effect": "Deny", "Principal": "*", "NotAction": ["s3:GetObject", "s3:List*"], "Resource": "*"}"#,
        r#"{"Effect": "Deny", "Principal": "*", "Action": "*",
            "NotResource": ["arn:aws:s3:::reports", "arn:aws:s3:::reports/*"]}"#,
    ]);
    let decide = |action: &str, arn: &str| p.evaluate(&request(APP, action, arn));
    assert_eq!(decide("s3:GetObject", OBJECT), Decision::Allow { statement: 0 });
    assert_eq!(decide("S3:LISTBUCKET", "arn:aws:s3:::reports"), Decision::Allow { statement: 0 });
    assert_eq!(decide("s3:PutObject", OBJECT), Decision::ExplicitDeny { statement: 1 });
    assert_eq!(decide("s3:GetObject", "arn:aws:s3:::payroll/a"), Decision::ExplicitDeny { statement: 2 });
    assert_eq!(decide("s3:GetObject", "arn:aws:s3:::Reports/a"), Decision::ExplicitDeny { statement: 2 });

    // An Allow with NotResource still needs its principal and action.
    let q = statements(&[r#"{"Effect": "Allow", "Principal": {"AWS": "123456789012"}, "Action": "s3:Get*",
        "NotResource": "arn:aws:s3:::payroll/*"}"#]);
    assert!(q.evaluate(&request(APP, "s3:GetObject", OBJECT)).allowed());
    assert!(!q.evaluate(&request(APP, "s3:GetObject", "arn:aws:s3:::payroll/a")).allowed());
    assert!(!q.evaluate(&request(APP, "s3:PutObject", OBJECT)).allowed());
    assert!(!q.evaluate(&request("arn:aws:iam::111111111111:role/app", "s3:GetObject", OBJECT)).allowed());
}

#[test]
fn a_condition_is_rejected_rather_than_ignored() {
    // Ignoring it would turn a conditional deny into an unconditional one
    // (or a conditional allow into an unconditional one).
    let text = r#"{"Statement": [
        {"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"},
        {"Effect": "Deny", "Principal": "*", "Action": "*", "Resource": "*",
         "Condition": {"StringNotEquals": {"aws:SourceVpce": "vpce-1a2b3c4d"}}}
    ]}"#;
    let e = Policy::parse(text).unwrap_err();
    assert_eq!((e.line, e.column, e.message.as_str()), (4, 10, "Condition is not supported by vpcsim yet"));
}

// ---- what a parsed policy reports -----------------------------------------

#[test]
fn statement_count_effect_label_version_and_id() {
    let p = policy(
        r#"{"Version": "2012-10-17", "Id": "EndpointPolicy-1", "Statement": [
            {"Sid": "", "Effect": "Deny", "Principal": "*", "Action": "ec2:*", "Resource": "*"},
            {"Sid": "ReadAll", "Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"},
            {"Effect": "Allow", "Principal": "*", "Action": "s3:*", "Resource": "*"}
        ]}"#,
    );
    assert_eq!(p.statement_count(), 3);
    assert_eq!(p.statement_effect(0), Some(Effect::Deny));
    assert_eq!(p.statement_effect(1), Some(Effect::Allow));
    assert_eq!(p.statement_effect(2), Some(Effect::Allow));
    assert_eq!(p.statement_effect(3), None);
    assert_eq!(p.statement_label(0), "statement #1", "an empty Sid is no name");
    assert_eq!(p.statement_label(1), "ReadAll");
    assert_eq!(p.statement_label(2), "statement #3");
    assert_eq!(p.statement_label(3), "statement #4");
    assert_eq!(p.version(), Version::V2012_10_17);
    assert_eq!(p.id(), Some("EndpointPolicy-1"));

    let q = policy(r#"{"Statement": {"Effect": "Deny", "Principal": "*", "Action": "*", "Resource": "*"}}"#);
    assert_eq!(q.statement_count(), 1);
    assert_eq!(q.statement_effect(0), Some(Effect::Deny));
    assert_eq!(q.version(), Version::V2008_10_17, "Version defaults to 2008-10-17");
    assert_eq!(q.id(), None);
    assert_eq!(Policy::allow_all().statement_effect(0), Some(Effect::Allow));
    assert_eq!(Policy::allow_all().id(), None);
}
