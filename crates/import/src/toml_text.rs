//! Writing TOML by hand: the scenario reads like the bundled ones, and every
//! string from the export is quoted so that no id can break out of its value.

use std::fmt::Write as _;

/// `s` as a TOML basic string, quotes included.
pub(crate) fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if c.is_control() => {
                let _ = write!(out, "\\u{:04X}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// An inline table of `key = value` pairs, values already written.
pub(crate) fn inline(pairs: &[(&str, String)]) -> String {
    let body: Vec<String> = pairs.iter().map(|(k, v)| format!("{k} = {v}")).collect();
    format!("{{ {} }}", body.join(", "))
}

/// `key = [ ... ]` with one inline table a line, or `key = []`.
pub(crate) fn array(out: &mut String, key: &str, items: &[String]) {
    if items.is_empty() {
        let _ = writeln!(out, "{key} = []");
        return;
    }
    let _ = writeln!(out, "{key} = [");
    for item in items {
        let _ = writeln!(out, "  {item},");
    }
    let _ = writeln!(out, "]");
}

#[cfg(test)]
mod tests {
    use super::quote;

    #[test]
    fn quotes_and_controls_are_escaped() {
        assert_eq!(quote("a\"b\\c\n"), "\"a\\\"b\\\\c\\u000A\"");
        assert_eq!(quote("vpc-1"), "\"vpc-1\"");
    }
}
