//! VPC endpoint policies: IAM resource-policy documents, parsed with located
//! errors and evaluated against requests.
//!
//! An endpoint policy decides which principal may call which action on which
//! resource through a VPC endpoint. [`Policy::parse`] reads the JSON text: a
//! strict JSON reader (`json.rs`) keeps the offset of every value, then the
//! document layer (`document.rs`) checks the IAM grammar and builds the model,
//! so every error, syntax or semantic, is reported at its line and column.
//! [`Policy::evaluate`] applies IAM's logic: an explicit `Deny` that matches
//! wins, otherwise a matching `Allow` allows, otherwise the request is
//! implicitly denied. An endpoint without a policy has AWS's default policy,
//! [`Policy::allow_all`].
//!
//! ```
//! use vpcsim_policy::{Decision, Policy, Request};
//!
//! let policy = Policy::parse(r#"{
//!   "Version": "2012-10-17",
//!   "Statement": [{
//!     "Sid": "ReadReports",
//!     "Effect": "Allow",
//!     "Principal": "*",
//!     "Action": "s3:GetObject",
//!     "Resource": "arn:aws:s3:::reports/*"
//!   }]
//! }"#)?;
//! let get = Request {
//!     principal: "arn:aws:iam::111111111111:role/app",
//!     action: "s3:GetObject",
//!     resource: "arn:aws:s3:::reports/q1.csv",
//! };
//! assert_eq!(policy.evaluate(&get), Decision::Allow { statement: 0 });
//! assert_eq!(policy.statement_label(0), "ReadReports");
//! let put = Request { action: "s3:PutObject", ..get };
//! assert_eq!(policy.evaluate(&put), Decision::ImplicitDeny);
//!
//! let err = Policy::parse(r#"{"Statement": {"Efect": "Allow"}}"#).unwrap_err();
//! assert_eq!((err.line, err.column), (1, 16));
//! # Ok::<(), vpcsim_policy::PolicyError>(())
//! ```
//!
//! Architecture invariant: no input panics, and nothing here reads a clock,
//! does I/O or keeps a hash map; evaluation is a pure function of the policy
//! and the request. Wildcard matching is linear-ish (`glob.rs`).

mod document;
mod glob;
mod json;

use std::fmt;

/// The longest endpoint policy AWS accepts, in characters, white space included.
pub const MAX_POLICY_CHARS: usize = 20_480;

/// A parsed, valid endpoint policy.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Policy {
    version: Version,
    id: Option<String>,
    statements: Vec<Statement>,
}

/// The policy language version (`Version`); `2008-10-17` when omitted, as in IAM.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Version {
    /// The original policy language version, `2008-10-17`.
    V2008_10_17,
    /// The current policy language version, `2012-10-17`.
    V2012_10_17,
}

/// Whether a statement allows or denies what it matches.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Effect {
    /// The statement allows what it matches.
    Allow,
    /// The statement denies what it matches; an explicit deny wins over any allow.
    Deny,
}

#[derive(Clone, Debug, PartialEq, Eq)]
struct Statement {
    sid: Option<String>,
    effect: Effect,
    principals: Clause<Principal>,
    actions: Clause<String>,
    resources: Clause<String>,
}

/// `Element` (`not` false) or `NotElement` (`not` true) with its values.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Clause<T> {
    not: bool,
    items: Vec<T>,
}

impl<T> Clause<T> {
    /// Whether the statement applies: some item matches, or, for a `Not`
    /// element, none does.
    fn applies(&self, matches: impl Fn(&T) -> bool) -> bool {
        self.items.iter().any(matches) != self.not
    }
}

/// One principal named in `Principal` / `NotPrincipal` (type `AWS`).
#[derive(Clone, Debug, PartialEq, Eq)]
enum Principal {
    /// `"*"`: anyone, including anonymous callers.
    Any,
    /// An account id or its root ARN: the account's root and every principal
    /// in the account (IAM delegates to the account).
    Account { partition: Option<String>, id: String },
    /// Any other principal ARN (user, role, assumed-role session): exact,
    /// case-sensitive.
    Arn(String),
}

/// What an account principal (`"123456789012"` or
/// `"arn:aws:iam::123456789012:root"`) grants.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Accounts {
    /// IAM's rule for resource policies (interface endpoints' too): every
    /// user, role and session of the account.
    EveryPrincipal,
    /// A gateway endpoint's policy: the account's root user only, not its
    /// users and roles (AWS, "Control access to VPC endpoints using endpoint
    /// policies": they are granted through `aws:PrincipalArn` instead).
    RootUserOnly,
}

impl Principal {
    fn matches(&self, principal: &str, accounts: Accounts) -> bool {
        match self {
            Principal::Any => true,
            Principal::Arn(arn) => arn == principal,
            Principal::Account { partition, id } => {
                if principal == id {
                    return true;
                }
                if accounts == Accounts::RootUserOnly {
                    // arn:partition:iam::account:root, and nothing else.
                    let mut fields = principal.split(':');
                    let (arn, p, service, region, account, resource, rest) = (
                        fields.next(),
                        fields.next(),
                        fields.next(),
                        fields.next(),
                        fields.next(),
                        fields.next(),
                        fields.next(),
                    );
                    return arn == Some("arn")
                        && service == Some("iam")
                        && region == Some("")
                        && account == Some(id.as_str())
                        && resource == Some("root")
                        && rest.is_none()
                        && partition.as_deref().is_none_or(|want| p == Some(want));
                }
                // arn:partition:service:region:account:resource, without allocating.
                let mut fields = principal.splitn(6, ':');
                let (arn, p, account) = (fields.next(), fields.next(), fields.nth(2));
                arn == Some("arn")
                    && account == Some(id.as_str())
                    && fields.next().is_some()
                    && partition.as_deref().is_none_or(|want| p == Some(want))
            }
        }
    }
}

/// What is asked of the endpoint: who calls which action on which resource.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Request<'a> {
    /// The caller's ARN, e.g. `arn:aws:iam::111111111111:role/app`.
    pub principal: &'a str,
    /// `service:Action`, e.g. `s3:GetObject` (matched case-insensitively).
    pub action: &'a str,
    /// The resource ARN, e.g. `arn:aws:s3:::reports/q1.csv`.
    pub resource: &'a str,
}

/// The outcome of evaluating a request, with the statement (0-based) that
/// decided it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decision {
    /// No `Deny` matched and this `Allow` statement (the first that matched) did.
    Allow {
        /// The index of the deciding statement.
        statement: usize,
    },
    /// This `Deny` statement (the first that matched) denies the request.
    ExplicitDeny {
        /// The index of the deciding statement.
        statement: usize,
    },
    /// No statement matched.
    ImplicitDeny,
}

impl Decision {
    /// Whether the request may go through.
    pub fn allowed(self) -> bool {
        matches!(self, Decision::Allow { .. })
    }

    /// The statement that decided, if one did.
    pub fn statement(self) -> Option<usize> {
        match self {
            Decision::Allow { statement } | Decision::ExplicitDeny { statement } => Some(statement),
            Decision::ImplicitDeny => None,
        }
    }
}

/// Why a policy text was rejected, and where.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PolicyError {
    /// 1-based line of the offending place in the JSON text.
    pub line: usize,
    /// 1-based column, counted in characters.
    pub column: usize,
    /// What is wrong there.
    pub message: String,
}

impl fmt::Display for PolicyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: {}", self.line, self.column, self.message)
    }
}

impl std::error::Error for PolicyError {}

impl PolicyError {
    /// An error at byte `offset` of `text` (clamped into the text).
    fn at(text: &str, offset: usize, message: String) -> PolicyError {
        let mut offset = offset.min(text.len());
        while !text.is_char_boundary(offset) {
            offset -= 1;
        }
        let before = &text[..offset];
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        PolicyError {
            line: before.bytes().filter(|&b| b == b'\n').count() + 1,
            column: before[line_start..].chars().count() + 1,
            message,
        }
    }
}

impl Policy {
    /// Reads a policy document, checking its JSON syntax and the IAM grammar
    /// that vpcsim supports; the first error is returned, located.
    pub fn parse(json: &str) -> Result<Policy, PolicyError> {
        if let Some((offset, _)) = json.char_indices().nth(MAX_POLICY_CHARS) {
            let len = json.chars().count();
            return Err(PolicyError::at(
                json,
                offset,
                format!(
                    "the policy is {len} characters long; an endpoint policy may have at most \
                     {MAX_POLICY_CHARS}, white space included"
                ),
            ));
        }
        let root = json::parse(json).map_err(|e| PolicyError::at(json, e.offset, e.message))?;
        document::policy(&root).map_err(|e| PolicyError::at(json, e.offset, e.message))
    }

    /// AWS's default endpoint policy, used when none is attached: anyone may
    /// do anything (`{"Statement": [{"Effect": "Allow", "Principal": "*",
    /// "Action": "*", "Resource": "*"}]}`).
    pub fn allow_all() -> Policy {
        Policy {
            version: Version::V2008_10_17,
            id: None,
            statements: vec![Statement {
                sid: None,
                effect: Effect::Allow,
                principals: Clause { not: false, items: vec![Principal::Any] },
                actions: Clause { not: false, items: vec!["*".to_owned()] },
                resources: Clause { not: false, items: vec!["*".to_owned()] },
            }],
        }
    }

    /// IAM's evaluation: an explicit deny beats any allow, whatever the order
    /// of the statements; without a matching statement the request is denied.
    pub fn evaluate(&self, request: &Request) -> Decision {
        self.evaluate_as(request, Accounts::EveryPrincipal)
    }

    /// Like [`Policy::evaluate`], with `accounts` saying what an account
    /// principal grants: a gateway endpoint's policy is evaluated with
    /// [`Accounts::RootUserOnly`].
    pub fn evaluate_as(&self, request: &Request, accounts: Accounts) -> Decision {
        let mut allow = None;
        for (i, s) in self.statements.iter().enumerate() {
            if !s.matches(request, accounts) {
                continue;
            }
            match s.effect {
                Effect::Deny => return Decision::ExplicitDeny { statement: i },
                Effect::Allow => {
                    allow.get_or_insert(i);
                }
            }
        }
        allow.map_or(Decision::ImplicitDeny, |statement| Decision::Allow { statement })
    }

    /// How statement `i` (0-based) is named in traces: its `Sid`, or
    /// `statement #<i + 1>`.
    pub fn statement_label(&self, i: usize) -> String {
        match self.statements.get(i).and_then(|s| s.sid.as_deref()) {
            Some(sid) if !sid.is_empty() => sid.to_owned(),
            _ => format!("statement #{}", i + 1),
        }
    }

    /// How many statements the policy has.
    pub fn statement_count(&self) -> usize {
        self.statements.len()
    }

    /// The effect of statement `i`, if there is one.
    pub fn statement_effect(&self, i: usize) -> Option<Effect> {
        self.statements.get(i).map(|s| s.effect)
    }

    /// The policy language version.
    pub fn version(&self) -> Version {
        self.version
    }

    /// The policy's `Id`, if it has one.
    pub fn id(&self) -> Option<&str> {
        self.id.as_deref()
    }
}

impl Statement {
    fn matches(&self, r: &Request, accounts: Accounts) -> bool {
        self.principals.applies(|p| p.matches(r.principal, accounts))
            && self.actions.applies(|a| glob::matches(a, r.action, true))
            && self.resources.applies(|res| glob::matches(res, r.resource, false))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_count_lines_and_characters() {
        let text = "ab\ncdé\nfg";
        let at = |offset| {
            let e = PolicyError::at(text, offset, String::new());
            (e.line, e.column)
        };
        assert_eq!(at(0), (1, 1));
        assert_eq!(at(2), (1, 3));
        assert_eq!(at(3), (2, 1));
        assert_eq!(at(7), (2, 4), "é is one column");
        assert_eq!(at(6), (2, 3), "inside é: clamped back to its start");
        assert_eq!(at(8), (3, 1));
        assert_eq!(at(9), (3, 2));
        assert_eq!(at(99), (3, 3));
    }

    #[test]
    fn account_principal_matching() {
        let account = Principal::Account { partition: None, id: "123456789012".to_owned() };
        let every = |p: &str| account.matches(p, Accounts::EveryPrincipal);
        assert!(every("arn:aws:iam::123456789012:root"));
        assert!(every("arn:aws:iam::123456789012:role/app"));
        assert!(every("arn:aws:sts::123456789012:assumed-role/app/session"));
        assert!(every("123456789012"));
        assert!(!every("arn:aws:iam::111111111111:role/app"));
        assert!(!every("arn:aws:iam::1234567890123:role/app"));
        assert!(!every("not an arn"));
        // On a gateway endpoint: the root user only.
        let root_only = |p: &str| account.matches(p, Accounts::RootUserOnly);
        assert!(root_only("arn:aws:iam::123456789012:root"));
        assert!(root_only("123456789012"));
        assert!(!root_only("arn:aws:iam::123456789012:role/app"));
        assert!(!root_only("arn:aws:sts::123456789012:assumed-role/app/session"));
        assert!(!root_only("arn:aws:iam::123456789012:root:extra"));
        assert!(!root_only("arn:aws:iam:us-east-1:123456789012:root"));
        assert!(!root_only("arn:aws:iam::111111111111:root"));
        let china = Principal::Account { partition: Some("aws-cn".to_owned()), id: "123456789012".to_owned() };
        assert!(china.matches("arn:aws-cn:iam::123456789012:role/app", Accounts::EveryPrincipal));
        assert!(!china.matches("arn:aws:iam::123456789012:role/app", Accounts::EveryPrincipal));
        assert!(china.matches("arn:aws-cn:iam::123456789012:root", Accounts::RootUserOnly));
        assert!(!china.matches("arn:aws:iam::123456789012:root", Accounts::RootUserOnly));
    }
}
