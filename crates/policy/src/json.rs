//! A small, strict JSON reader (RFC 8259) that remembers where each value
//! starts.
//!
//! The policy layer needs the byte offset of every key and value to locate its
//! errors, which a plain `serde_json::Value` does not keep; so the document is
//! read here once, into a tree of [`Node`]s. The reader never panics and never
//! recurses deeper than [`MAX_DEPTH`], whatever the input. A duplicate key in
//! an object is an error (IAM's reading of one would be ambiguous).

use std::collections::BTreeSet;

/// How deep arrays and objects may nest. A policy needs four levels
/// (document, statement list, statement, principal); this bounds recursion.
pub(crate) const MAX_DEPTH: usize = 64;

/// A value and the byte offset of its first character.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Node {
    pub offset: usize,
    pub value: Value,
}

/// A JSON value. Numbers keep no value: no policy element is a number.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Value {
    Null,
    Bool(bool),
    Number,
    String(String),
    Array(Vec<Node>),
    Object(Vec<Member>),
}

impl Value {
    /// What the value is, for messages ("found a number").
    pub(crate) fn kind(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Bool(_) => "a boolean",
            Value::Number => "a number",
            Value::String(_) => "a string",
            Value::Array(_) => "a list",
            Value::Object(_) => "an object",
        }
    }
}

/// One `"key": value` of an object, in the order written.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Member {
    pub key: String,
    /// Byte offset of the key's opening quote.
    pub key_offset: usize,
    pub value: Node,
}

/// A syntax error at a byte offset of the text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct SyntaxError {
    pub offset: usize,
    pub message: String,
}

/// Reads one JSON document: a value with only white space around it.
pub(crate) fn parse(text: &str) -> Result<Node, SyntaxError> {
    let mut reader = Reader { text, bytes: text.as_bytes(), pos: 0 };
    reader.skip_ws();
    let node = reader.value(0)?;
    reader.skip_ws();
    if reader.pos < reader.bytes.len() {
        return Err(reader.error(format!("unexpected {} after the end of the document", reader.found())));
    }
    Ok(node)
}

struct Reader<'a> {
    text: &'a str,
    bytes: &'a [u8],
    /// Always on a character boundary of `text` between tokens.
    pos: usize,
}

impl Reader<'_> {
    fn error(&self, message: String) -> SyntaxError {
        SyntaxError { offset: self.pos, message }
    }

    fn error_at(offset: usize, message: impl Into<String>) -> SyntaxError {
        SyntaxError { offset, message: message.into() }
    }

    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    /// The character at `pos`, described for a message: "`x`" or "end of input".
    fn found(&self) -> String {
        match self.text.get(self.pos..).and_then(|rest| rest.chars().next()) {
            None => "end of input".to_owned(),
            Some(c) if c.is_control() => format!("character U+{:04X}", u32::from(c)),
            Some(c) => format!("`{c}`"),
        }
    }

    fn skip_ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.peek() {
            self.pos += 1;
        }
    }

    fn value(&mut self, depth: usize) -> Result<Node, SyntaxError> {
        let offset = self.pos;
        let value = match self.peek() {
            Some(b'{') => self.object(depth + 1)?,
            Some(b'[') => self.array(depth + 1)?,
            Some(b'"') => Value::String(self.string()?),
            Some(b'-' | b'0'..=b'9') => self.number()?,
            Some(b't') => self.literal("true", Value::Bool(true))?,
            Some(b'f') => self.literal("false", Value::Bool(false))?,
            Some(b'n') => self.literal("null", Value::Null)?,
            Some(b'\'') => return Err(self.error("strings are written in double quotes in JSON, found `'`".to_owned())),
            _ => return Err(self.error(format!("expected a value, found {}", self.found()))),
        };
        Ok(Node { offset, value })
    }

    fn literal(&mut self, word: &str, value: Value) -> Result<Value, SyntaxError> {
        if self.bytes[self.pos..].starts_with(word.as_bytes()) {
            self.pos += word.len();
            Ok(value)
        } else {
            Err(self.error(format!("expected a value, found {}", self.found())))
        }
    }

    fn enter(&self, depth: usize) -> Result<(), SyntaxError> {
        if depth > MAX_DEPTH {
            Err(self.error(format!("lists and objects nest deeper than {MAX_DEPTH} levels")))
        } else {
            Ok(())
        }
    }

    fn object(&mut self, depth: usize) -> Result<Value, SyntaxError> {
        self.enter(depth)?;
        self.pos += 1; // `{`
        let mut members = Vec::new();
        let mut keys = BTreeSet::new();
        self.skip_ws();
        if self.peek() == Some(b'}') {
            self.pos += 1;
            return Ok(Value::Object(members));
        }
        loop {
            self.skip_ws();
            if self.peek() != Some(b'"') {
                return Err(self.error(format!("expected a key in double quotes, found {}", self.found())));
            }
            let key_offset = self.pos;
            let key = self.string()?;
            if !keys.insert(key.clone()) {
                return Err(Self::error_at(key_offset, format!("duplicate key `{key}` in this object")));
            }
            self.skip_ws();
            if self.peek() != Some(b':') {
                return Err(self.error(format!("expected `:` after the key, found {}", self.found())));
            }
            self.pos += 1;
            self.skip_ws();
            let value = self.value(depth)?;
            members.push(Member { key, key_offset, value });
            self.skip_ws();
            match self.peek() {
                Some(b',') => {
                    let comma = self.pos;
                    self.pos += 1;
                    self.skip_ws();
                    if self.peek() == Some(b'}') {
                        return Err(Self::error_at(comma, "trailing comma before `}` (JSON does not allow one)"));
                    }
                }
                Some(b'}') => {
                    self.pos += 1;
                    return Ok(Value::Object(members));
                }
                _ => return Err(self.error(format!("expected `,` or `}}` after a member, found {}", self.found()))),
            }
        }
    }

    fn array(&mut self, depth: usize) -> Result<Value, SyntaxError> {
        self.enter(depth)?;
        self.pos += 1; // `[`
        let mut items = Vec::new();
        self.skip_ws();
        if self.peek() == Some(b']') {
            self.pos += 1;
            return Ok(Value::Array(items));
        }
        loop {
            self.skip_ws();
            items.push(self.value(depth)?);
            self.skip_ws();
            match self.peek() {
                Some(b',') => {
                    let comma = self.pos;
                    self.pos += 1;
                    self.skip_ws();
                    if self.peek() == Some(b']') {
                        return Err(Self::error_at(comma, "trailing comma before `]` (JSON does not allow one)"));
                    }
                }
                Some(b']') => {
                    self.pos += 1;
                    return Ok(Value::Array(items));
                }
                _ => return Err(self.error(format!("expected `,` or `]` after a list item, found {}", self.found()))),
            }
        }
    }

    /// A string at `pos` (which holds `"`), unescaped.
    fn string(&mut self) -> Result<String, SyntaxError> {
        let start = self.pos;
        self.pos += 1;
        let mut out = String::new();
        loop {
            // Copy the run of plain characters up to the next `"`, `\` or control.
            let run = self.pos;
            while let Some(b) = self.peek() {
                if b == b'"' || b == b'\\' || b < 0x20 {
                    break;
                }
                self.pos += 1;
            }
            // `pos` stopped on an ASCII byte or at the end: a character boundary.
            out.push_str(self.text.get(run..self.pos).unwrap_or_default());
            match self.peek() {
                None => return Err(Self::error_at(start, "this string is never closed")),
                Some(b'"') => {
                    self.pos += 1;
                    return Ok(out);
                }
                Some(b'\\') => out.push(self.escape()?),
                Some(_) => {
                    return Err(
                        self.error(format!("{} inside a string (write it as an escape such as `\\n`)", self.found()))
                    );
                }
            }
        }
    }

    /// An escape at `pos` (which holds `\`).
    fn escape(&mut self) -> Result<char, SyntaxError> {
        let start = self.pos;
        self.pos += 1;
        let c = match self.peek() {
            Some(b'"') => '"',
            Some(b'\\') => '\\',
            Some(b'/') => '/',
            Some(b'b') => '\u{8}',
            Some(b'f') => '\u{c}',
            Some(b'n') => '\n',
            Some(b'r') => '\r',
            Some(b't') => '\t',
            Some(b'u') => {
                self.pos += 1;
                return self.unicode_escape(start);
            }
            _ => {
                let found = self.found();
                return Err(Self::error_at(start, format!("invalid escape: `\\` followed by {found}")));
            }
        };
        self.pos += 1;
        Ok(c)
    }

    /// The rest of a `\u` escape (after `\u`), with a surrogate pair if needed.
    fn unicode_escape(&mut self, start: usize) -> Result<char, SyntaxError> {
        let high = self.hex4(start)?;
        let code = if (0xD800..0xDC00).contains(&high) {
            if !self.bytes[self.pos..].starts_with(b"\\u") {
                return Err(Self::error_at(start, "a `\\u` escape of a high surrogate must be followed by a low one"));
            }
            self.pos += 2;
            let low = self.hex4(start)?;
            if !(0xDC00..0xE000).contains(&low) {
                return Err(Self::error_at(start, "a `\\u` escape of a high surrogate must be followed by a low one"));
            }
            0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00)
        } else {
            high
        };
        char::from_u32(code).ok_or_else(|| Self::error_at(start, "a `\\u` escape of a lone low surrogate"))
    }

    fn hex4(&mut self, start: usize) -> Result<u32, SyntaxError> {
        let mut code = 0;
        for _ in 0..4 {
            let digit = self.peek().and_then(|b| char::from(b).to_digit(16));
            match digit {
                Some(d) => code = code * 16 + d,
                None => return Err(Self::error_at(start, "a `\\u` escape needs four hexadecimal digits")),
            }
            self.pos += 1;
        }
        Ok(code)
    }

    /// `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`
    fn number(&mut self) -> Result<Value, SyntaxError> {
        let start = self.pos;
        let invalid = |r: &Self| Self::error_at(start, format!("invalid number (at {})", r.found()));
        if self.peek() == Some(b'-') {
            self.pos += 1;
        }
        match self.peek() {
            Some(b'0') => self.pos += 1,
            Some(b'1'..=b'9') => self.digits(),
            _ => return Err(invalid(self)),
        }
        if self.peek() == Some(b'.') {
            self.pos += 1;
            if !matches!(self.peek(), Some(b'0'..=b'9')) {
                return Err(invalid(self));
            }
            self.digits();
        }
        if let Some(b'e' | b'E') = self.peek() {
            self.pos += 1;
            if let Some(b'+' | b'-') = self.peek() {
                self.pos += 1;
            }
            if !matches!(self.peek(), Some(b'0'..=b'9')) {
                return Err(invalid(self));
            }
            self.digits();
        }
        Ok(Value::Number)
    }

    fn digits(&mut self) {
        while let Some(b'0'..=b'9') = self.peek() {
            self.pos += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(text: &str) -> Value {
        match parse(text) {
            Ok(node) => node.value,
            Err(e) => panic!("{text:?}: {e:?}"),
        }
    }

    fn err(text: &str) -> (usize, String) {
        match parse(text) {
            Ok(node) => panic!("{text:?} parsed: {node:?}"),
            Err(e) => (e.offset, e.message),
        }
    }

    #[test]
    fn values_and_offsets() {
        let v = ok(r#" {"a": [1, -2.5e+3, true, null], "b\u00e9": "x\"\\\/\b\f\n\r\t\ud83d\ude00"} "#);
        let Value::Object(members) = v else { panic!("not an object") };
        assert_eq!(members[0].key, "a");
        assert_eq!(members[0].key_offset, 2);
        assert_eq!(members[0].value.offset, 7);
        assert_eq!(members[1].key, "bé");
        assert_eq!(members[1].value.value, Value::String("x\"\\/\u{8}\u{c}\n\r\t😀".to_owned()));
        assert_eq!(ok("[]"), Value::Array(vec![]));
        assert_eq!(ok("{}"), Value::Object(vec![]));
        assert_eq!(ok("\"héllo\""), Value::String("héllo".to_owned()));
    }

    #[test]
    fn syntax_errors() {
        assert_eq!(err(""), (0, "expected a value, found end of input".to_owned()));
        assert_eq!(err("{\"a\":1,}"), (6, "trailing comma before `}` (JSON does not allow one)".to_owned()));
        assert_eq!(err("[1,]"), (2, "trailing comma before `]` (JSON does not allow one)".to_owned()));
        assert_eq!(err("{\"a\" 1}"), (5, "expected `:` after the key, found `1`".to_owned()));
        assert_eq!(err("{\"a\":1,\"a\":2}"), (7, "duplicate key `a` in this object".to_owned()));
        assert_eq!(err("\"abc"), (0, "this string is never closed".to_owned()));
        assert_eq!(
            err("\"a\nb\""),
            (2, "character U+000A inside a string (write it as an escape such as `\\n`)".to_owned())
        );
        assert_eq!(err("\"\\x\""), (1, "invalid escape: `\\` followed by `x`".to_owned()));
        assert_eq!(
            err("\"\\ud800\""),
            (1, "a `\\u` escape of a high surrogate must be followed by a low one".to_owned())
        );
        assert_eq!(err("\"\\udc00\""), (1, "a `\\u` escape of a lone low surrogate".to_owned()));
        assert_eq!(err("01"), (1, "unexpected `1` after the end of the document".to_owned()));
        assert_eq!(err("1."), (0, "invalid number (at end of input)".to_owned()));
        assert_eq!(err("{'a': 1}"), (1, "expected a key in double quotes, found `'`".to_owned()));
        assert_eq!(err("tru"), (0, "expected a value, found `t`".to_owned()));
        assert_eq!(err("{} x"), (3, "unexpected `x` after the end of the document".to_owned()));
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_stack_overflow() {
        let deep = "[".repeat(100_000);
        let (offset, message) = err(&deep);
        assert_eq!(offset, MAX_DEPTH);
        assert_eq!(message, format!("lists and objects nest deeper than {MAX_DEPTH} levels"));
        let fine = format!("{}{}", "[".repeat(MAX_DEPTH), "]".repeat(MAX_DEPTH));
        assert!(parse(&fine).is_ok());
    }

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
            (self.next() % n as u64) as usize
        }
    }

    /// The reader accepts exactly what serde_json accepts (apart from the
    /// duplicate keys it rejects and serde_json's own depth limit of 128).
    #[test]
    fn agrees_with_serde_json_on_random_documents() {
        const PIECES: &[&str] = &[
            "{", "}", "[", "]", ",", ":", " ", "\n", "\"", "\"a\"", "\"b\"", "1", "-", "0", ".", "e", "+", "true",
            "false", "null", "\\", "\\u", "d83d", "\\ude00", "\\n", "x", "é", "\t", "\u{1}", "'", "12.5", "-0e-1",
        ];
        let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
        let mut agreed_ok = 0;
        for _ in 0..50_000 {
            let mut text = String::new();
            for _ in 0..rng.below(12) + 1 {
                text.push_str(PIECES[rng.below(PIECES.len())]);
            }
            let ours = parse(&text);
            let theirs = serde_json::from_str::<serde_json::Value>(&text);
            match (&ours, &theirs) {
                (Ok(_), Ok(_)) => agreed_ok += 1,
                (Err(_), Err(_)) => {}
                (Err(e), Ok(_)) if e.message.starts_with("duplicate key") => {}
                _ => panic!("{text:?}: ours {ours:?}, serde_json {theirs:?}"),
            }
            if let Err(e) = ours {
                assert!(e.offset <= text.len() && text.is_char_boundary(e.offset), "{text:?}: {e:?}");
            }
        }
        assert!(agreed_ok > 1000, "the generator should produce valid documents too ({agreed_ok})");
    }
}
