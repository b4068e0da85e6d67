//! The IAM grammar of an endpoint policy, checked over a located JSON tree.
//!
//! Walks the [`Node`]s from `json.rs` in the order they were written and stops
//! at the first error, located at the offending key or value: unknown keys,
//! wrong types, bad values, missing or conflicting elements, and the elements
//! vpcsim does not evaluate yet (`Condition`, principal types other than
//! `AWS`, policy variables) are all errors, never silently ignored.

use crate::json::{Member, Node, Value};
use crate::{Clause, Effect, Policy, Principal, Statement, Version};

/// An error at a byte offset of the policy text.
pub(crate) struct Fault {
    pub offset: usize,
    pub message: String,
}

fn fault(offset: usize, message: impl Into<String>) -> Fault {
    Fault { offset, message: message.into() }
}

type Result<T> = std::result::Result<T, Fault>;

const POLICY_KEYS: &[&str] = &["Version", "Id", "Statement"];
const STATEMENT_KEYS: &[&str] =
    &["Sid", "Effect", "Principal", "NotPrincipal", "Action", "NotAction", "Resource", "NotResource", "Condition"];
const PRINCIPAL_TYPES: &[&str] = &["AWS", "Service", "Federated", "CanonicalUser"];

/// Builds a [`Policy`] from the document's root value.
pub(crate) fn policy(root: &Node) -> Result<Policy> {
    let Value::Object(members) = &root.value else {
        return Err(fault(root.offset, format!("a policy is a JSON object, found {}", root.value.kind())));
    };
    let mut version = Version::V2008_10_17;
    let mut id = None;
    let mut statements = None;
    for m in members {
        match m.key.as_str() {
            "Version" => {
                version = match string(&m.value, "Version")? {
                    "2012-10-17" => Version::V2012_10_17,
                    "2008-10-17" => Version::V2008_10_17,
                    other => {
                        return Err(fault(
                            m.value.offset,
                            format!("unsupported Version \"{other}\", expected \"2012-10-17\" or \"2008-10-17\""),
                        ));
                    }
                }
            }
            "Id" => id = Some(string(&m.value, "Id")?.to_owned()),
            "Statement" => statements = Some(statement_list(&m.value)?),
            _ => return Err(unknown_key(m, "the policy", POLICY_KEYS)),
        }
    }
    let statements = statements.ok_or_else(|| fault(root.offset, "the policy has no `Statement`"))?;
    Ok(Policy { version, id, statements })
}

fn statement_list(node: &Node) -> Result<Vec<Statement>> {
    match &node.value {
        Value::Object(_) => Ok(vec![statement(node)?]),
        Value::Array(items) if items.is_empty() => Err(fault(node.offset, "Statement is an empty list")),
        Value::Array(items) => items.iter().map(statement).collect(),
        other => {
            Err(fault(node.offset, format!("Statement must be an object or a list of objects, found {}", other.kind())))
        }
    }
}

fn statement(node: &Node) -> Result<Statement> {
    let Value::Object(members) = &node.value else {
        return Err(fault(node.offset, format!("a statement is a JSON object, found {}", node.value.kind())));
    };
    let mut sid = None;
    let mut effect = None;
    let mut principals = None;
    let mut actions = None;
    let mut resources = None;
    for m in members {
        match m.key.as_str() {
            "Sid" => sid = Some(string(&m.value, "Sid")?.to_owned()),
            "Effect" => effect = Some(effect_of(&m.value)?),
            "Principal" | "NotPrincipal" => {
                exclusive(&principals, m, "Principal")?;
                principals = Some(Clause { not: m.key.starts_with("Not"), items: principal_list(&m.value, &m.key)? });
            }
            "Action" | "NotAction" => {
                exclusive(&actions, m, "Action")?;
                actions = Some(Clause { not: m.key.starts_with("Not"), items: action_list(&m.value, &m.key)? });
            }
            "Resource" | "NotResource" => {
                exclusive(&resources, m, "Resource")?;
                resources = Some(Clause { not: m.key.starts_with("Not"), items: resource_list(&m.value, &m.key)? });
            }
            "Condition" => return Err(fault(m.key_offset, "Condition is not supported by vpcsim yet")),
            _ => return Err(unknown_key(m, "statement", STATEMENT_KEYS)),
        }
    }
    let at = node.offset;
    Ok(Statement {
        sid,
        effect: effect.ok_or_else(|| fault(at, "the statement has no `Effect` (\"Allow\" or \"Deny\")"))?,
        principals: principals.ok_or_else(|| {
            fault(
                at,
                "the statement has neither `Principal` nor `NotPrincipal`; an endpoint policy must name \
                 its principals (\"Principal\": \"*\" for anyone)",
            )
        })?,
        actions: actions.ok_or_else(|| fault(at, "the statement has neither `Action` nor `NotAction`"))?,
        resources: resources.ok_or_else(|| fault(at, "the statement has neither `Resource` nor `NotResource`"))?,
    })
}

/// `Element` and `NotElement` exclude each other (the JSON layer already
/// rejected a key written twice).
fn exclusive<T>(seen: &Option<T>, m: &Member, element: &str) -> Result<()> {
    if seen.is_some() {
        return Err(fault(m.key_offset, format!("a statement has either `{element}` or `Not{element}`, not both")));
    }
    Ok(())
}

fn effect_of(node: &Node) -> Result<Effect> {
    match string(node, "Effect")? {
        "Allow" => Ok(Effect::Allow),
        "Deny" => Ok(Effect::Deny),
        other => {
            let hint = if other.eq_ignore_ascii_case("allow") || other.eq_ignore_ascii_case("deny") {
                " (it is case-sensitive)"
            } else {
                ""
            };
            Err(fault(node.offset, format!("Effect must be \"Allow\" or \"Deny\", found \"{other}\"{hint}")))
        }
    }
}

fn principal_list(node: &Node, element: &str) -> Result<Vec<Principal>> {
    let members = match &node.value {
        Value::String(s) if s == "*" => return Ok(vec![Principal::Any]),
        Value::String(s) => {
            return Err(fault(
                node.offset,
                format!("{element} must be \"*\" or an object such as {{\"AWS\": \"123456789012\"}}, found \"{s}\""),
            ));
        }
        Value::Object(members) => members,
        other => {
            return Err(fault(
                node.offset,
                format!("{element} must be \"*\" or an object such as {{\"AWS\": ...}}, found {}", other.kind()),
            ));
        }
    };
    let mut out = Vec::new();
    for m in members {
        match m.key.as_str() {
            "AWS" => {
                for (offset, s) in strings(&m.value, element)? {
                    out.push(principal(offset, s)?);
                }
            }
            "Service" | "Federated" | "CanonicalUser" => {
                return Err(fault(
                    m.key_offset,
                    format!("principal type `{}` is not supported by vpcsim yet (only `AWS` is)", m.key),
                ));
            }
            _ => return Err(unknown_key(m, "a principal", PRINCIPAL_TYPES)),
        }
    }
    if out.is_empty() {
        return Err(fault(node.offset, format!("{element} names no principal")));
    }
    Ok(out)
}

/// `"*"`, a 12-digit account id, or a principal ARN.
fn principal(offset: usize, s: &str) -> Result<Principal> {
    if s == "*" {
        return Ok(Principal::Any);
    }
    if s.contains(['*', '?']) {
        return Err(fault(
            offset,
            format!("invalid principal \"{s}\": a principal takes no wildcard, except \"*\" alone for anyone"),
        ));
    }
    if is_account_id(s) {
        return Ok(Principal::Account { partition: None, id: s.to_owned() });
    }
    let fields: Vec<&str> = s.splitn(6, ':').collect();
    match fields.as_slice() {
        ["arn", partition, service, _, account, resource]
            if !partition.is_empty() && !service.is_empty() && is_account_id(account) && !resource.is_empty() =>
        {
            if *service == "iam" && *resource == "root" {
                Ok(Principal::Account { partition: Some((*partition).to_owned()), id: (*account).to_owned() })
            } else {
                Ok(Principal::Arn(s.to_owned()))
            }
        }
        _ => Err(fault(
            offset,
            format!(
                "invalid principal \"{s}\": expected \"*\", a 12-digit account id, or an ARN such as \
                 arn:aws:iam::123456789012:role/name"
            ),
        )),
    }
}

fn is_account_id(s: &str) -> bool {
    s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit())
}

fn action_list(node: &Node, element: &str) -> Result<Vec<String>> {
    strings(node, element)?
        .into_iter()
        .map(|(offset, a)| {
            let valid = a == "*"
                || matches!(a.split_once(':'), Some((service, name))
                    if !service.is_empty() && !name.is_empty() && !name.contains(':'));
            if valid {
                Ok(a.to_owned())
            } else {
                Err(fault(
                    offset,
                    format!("invalid action \"{a}\": expected \"*\" or service:Action, such as s3:GetObject"),
                ))
            }
        })
        .collect()
}

fn resource_list(node: &Node, element: &str) -> Result<Vec<String>> {
    strings(node, element)?
        .into_iter()
        .map(|(offset, r)| {
            if r.contains("${") {
                return Err(fault(
                    offset,
                    format!("policy variables (`${{...}}` in \"{r}\") are not supported by vpcsim yet"),
                ));
            }
            if r == "*" || (r.starts_with("arn:") && r.split(':').count() >= 6) {
                Ok(r.to_owned())
            } else {
                Err(fault(
                    offset,
                    format!("invalid resource \"{r}\": expected \"*\" or an ARN such as arn:aws:s3:::bucket/*"),
                ))
            }
        })
        .collect()
}

/// A string, or a non-empty list of strings, with the offset of each.
fn strings<'a>(node: &'a Node, element: &str) -> Result<Vec<(usize, &'a str)>> {
    match &node.value {
        Value::String(s) => Ok(vec![(node.offset, s.as_str())]),
        Value::Array(items) if items.is_empty() => Err(fault(node.offset, format!("{element} is an empty list"))),
        Value::Array(items) => items
            .iter()
            .map(|item| match &item.value {
                Value::String(s) => Ok((item.offset, s.as_str())),
                other => {
                    Err(fault(item.offset, format!("each item of {element} must be a string, found {}", other.kind())))
                }
            })
            .collect(),
        other => {
            Err(fault(node.offset, format!("{element} must be a string or a list of strings, found {}", other.kind())))
        }
    }
}

fn string<'a>(node: &'a Node, element: &str) -> Result<&'a str> {
    match &node.value {
        Value::String(s) => Ok(s),
        other => Err(fault(node.offset, format!("{element} must be a string, found {}", other.kind()))),
    }
}

/// "unknown key `Efect` in statement, expected one of `Sid`, ... (did you mean `Effect`?)"
fn unknown_key(m: &Member, place: &str, expected: &[&str]) -> Fault {
    let list = expected.iter().map(|k| format!("`{k}`")).collect::<Vec<_>>().join(", ");
    let hint = expected
        .iter()
        .map(|k| (distance(&m.key.to_ascii_lowercase(), &k.to_ascii_lowercase()), k))
        .filter(|(d, _)| *d <= 2)
        .min_by_key(|(d, _)| *d)
        .map(|(_, k)| format!(" (did you mean `{k}`?)"))
        .unwrap_or_default();
    fault(m.key_offset, format!("unknown key `{}` in {place}, expected one of {list}{hint}", m.key))
}

/// Levenshtein distance, for "did you mean" hints (keys are short).
fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let substitution = diagonal + usize::from(ca != *cb);
            diagonal = row[j + 1];
            row[j + 1] = substitution.min(row[j] + 1).min(row[j + 1] + 1);
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::distance;

    #[test]
    fn edit_distance() {
        assert_eq!(distance("efect", "effect"), 1);
        assert_eq!(distance("", "abc"), 3);
        assert_eq!(distance("action", "action"), 0);
        assert_eq!(distance("resources", "resource"), 1);
        assert_eq!(distance("kitten", "sitting"), 3);
    }
}
