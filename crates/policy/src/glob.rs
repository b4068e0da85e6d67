//! IAM wildcards: `*` matches any run of characters (including none, and
//! including `:` and `/`), `?` matches exactly one character; everything else
//! matches itself. There is no escape.
//!
//! The classic two-pointer algorithm: on a mismatch, go back to just after the
//! last `*` and let it swallow one more character. Only the last `*` is ever
//! revisited, so a match costs at most `O(pattern × text)` steps, never the
//! exponential backtracking of a naive recursive matcher (`a*a*a*a*b`).

/// Whether `text` matches `pattern`; with `fold_case`, ASCII letters match
/// regardless of case (IAM actions are case-insensitive, ARNs are not).
pub(crate) fn matches(pattern: &str, text: &str, fold_case: bool) -> bool {
    let (p, t) = (pattern.as_bytes(), text.as_bytes());
    let same = |a: u8, b: u8| if fold_case { a.eq_ignore_ascii_case(&b) } else { a == b };
    let (mut pi, mut ti) = (0, 0);
    // After the last `*` seen: where the pattern resumes, and where in the
    // text the `*`'s swallowed run ends.
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        match p.get(pi) {
            Some(b'*') => {
                pi += 1;
                star = Some((pi, ti));
                continue;
            }
            // `?` is met with `ti` on a character boundary: the pattern so far
            // matched whole characters, byte for byte.
            Some(b'?') => {
                pi += 1;
                ti += char_len(t, ti);
                continue;
            }
            Some(&c) if same(c, t[ti]) => {
                pi += 1;
                ti += 1;
                continue;
            }
            _ => {}
        }
        match star {
            Some((resume, swallowed)) => {
                let next = swallowed + char_len(t, swallowed);
                star = Some((resume, next));
                pi = resume;
                ti = next;
            }
            None => return false,
        }
    }
    p[pi.min(p.len())..].iter().all(|&c| c == b'*')
}

/// The length in bytes of the UTF-8 character starting at `t[i]` (1 for a
/// stray continuation byte, never past the end).
fn char_len(t: &[u8], i: usize) -> usize {
    let len = match t.get(i) {
        Some(b) if *b >= 0xF0 => 4,
        Some(b) if *b >= 0xE0 => 3,
        Some(b) if *b >= 0xC0 => 2,
        _ => 1,
    };
    len.min(t.len().saturating_sub(i)).max(1)
}

#[cfg(test)]
mod tests {
    use super::matches;

    #[test]
    fn literals_and_wildcards() {
        assert!(matches("s3:GetObject", "s3:GetObject", false));
        assert!(!matches("s3:GetObject", "s3:GetObjects", false));
        assert!(!matches("s3:GetObjects", "s3:GetObject", false));
        assert!(matches("*", "", false));
        assert!(matches("*", "anything:at/all", false));
        assert!(matches("s3:Get*", "s3:GetObject", false));
        assert!(matches("s3:Get*", "s3:Get", false));
        assert!(!matches("s3:Get*", "s3:PutObject", false));
        assert!(matches("arn:aws:s3:::reports/*", "arn:aws:s3:::reports/q1/a.csv", false));
        assert!(!matches("arn:aws:s3:::reports/*", "arn:aws:s3:::reports", false));
        assert!(matches("*Object", "s3:GetObject", false));
        assert!(matches("s3:*Object*", "s3:GetObjectAcl", false));
        assert!(matches("s3:???Object", "s3:GetObject", false));
        assert!(!matches("s3:??Object", "s3:GetObject", false));
        assert!(matches("q?.csv", "qé.csv", false), "`?` is one character, not one byte");
        assert!(matches("*é", "aéé", false));
        assert!(!matches("a?", "a", false));
        assert!(matches("a**b", "ab", false));
        assert!(matches("a*b*c", "aXbYbZc", false));
        assert!(!matches("a*b*c", "aXbYbZ", false));
    }

    #[test]
    fn case() {
        assert!(matches("s3:getobject", "S3:GetObject", true));
        assert!(!matches("s3:getobject", "S3:GetObject", false));
        assert!(matches("S3:GET*", "s3:getobject", true));
    }

    #[test]
    fn no_exponential_backtracking() {
        let pattern = "a*".repeat(200) + "b";
        let text = "a".repeat(20_000);
        assert!(!matches(&pattern, &text, false));
        assert!(matches(&pattern, &(text + "b"), false));
    }
}
