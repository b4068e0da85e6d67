//! Located errors about a scenario file, rendered like rustc's.
//!
//! A [`Diagnostic`] carries the file, the 1-based line and column of the
//! offending value, the message, and an excerpt of the source line with the
//! length of the underline, so it renders without the source at hand.
//!
//! A hostile file must not turn its errors into a flood: a long line is shown
//! as an excerpt around the column ([`MAX_EXCERPT_CHARS`]), a long message is
//! elided in its middle ([`MAX_MESSAGE_CHARS`]), control characters never
//! reach the terminal, and [`Diagnostics`] shows at most [`MAX_SHOWN`] errors
//! and says how many more there are.

use std::fmt;
use std::ops::Range;

/// One located error in a scenario file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    /// The scenario or policy file, as named in the scenario.
    pub file: String,
    /// 1-based; 0 when the error is about the whole file (it could not be read).
    pub line: usize,
    /// 1-based, counted in characters; 0 with `line` 0.
    pub column: usize,
    /// What is wrong, in one sentence.
    pub message: String,
    /// The text of line `line` without its line break, or an excerpt of it
    /// around the column (`…` marks what is left out), control characters
    /// replaced.
    pub source_line: String,
    /// The 1-based column in `source_line` where the underline starts (the
    /// same as `column` unless the line was cut).
    pub excerpt_column: usize,
    /// How many characters of `source_line` to underline, from
    /// `excerpt_column` (at least 1).
    pub underline: usize,
}

/// The longest source line shown whole; longer ones are cut around the column.
pub const MAX_EXCERPT_CHARS: usize = 120;
/// The longest message kept whole; longer ones lose their middle.
pub const MAX_MESSAGE_CHARS: usize = 1_000;
/// The most errors a [`Diagnostics`] prints; the rest are counted.
pub const MAX_SHOWN: usize = 50;

impl Diagnostic {
    /// An error about the file as a whole (for example: it cannot be read).
    pub fn whole_file(file: &str, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            file: file.to_owned(),
            line: 0,
            column: 0,
            message: bounded_message(message.into()),
            source_line: String::new(),
            excerpt_column: 0,
            underline: 0,
        }
    }
}

/// A message cut to [`MAX_MESSAGE_CHARS`] (its middle left out).
fn bounded_message(message: String) -> String {
    let n = message.chars().count();
    if n <= MAX_MESSAGE_CHARS {
        return message;
    }
    let keep = MAX_MESSAGE_CHARS / 2;
    let head: String = message.chars().take(keep).collect();
    let tail: String = message.chars().skip(n - keep).collect();
    format!("{head} … ({} characters left out) … {tail}", n - 2 * keep)
}

/// Text from a scenario file, fit for a terminal: control characters other
/// than line breaks (escape sequences among them) are written as `\u{..}`
/// escapes. Diagnostics use it, and so does the binary for what it prints.
pub fn printable(s: &str) -> std::borrow::Cow<'_, str> {
    let control = |c: char| c.is_control() && c != '\n';
    if !s.chars().any(control) {
        return s.into();
    }
    s.chars().map(|c| if control(c) { c.escape_unicode().to_string() } else { c.to_string() }).collect()
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (file, message) = (printable(&self.file), printable(&self.message));
        if self.line == 0 {
            return writeln!(f, "{file}: error: {message}");
        }
        writeln!(f, "{file}:{}:{}: error: {message}", self.line, self.column)?;
        let number = self.line.to_string();
        let gutter = " ".repeat(number.len());
        writeln!(f, "{gutter} |")?;
        writeln!(f, "{number} | {}", self.source_line)?;
        let pad = " ".repeat(self.excerpt_column.saturating_sub(1));
        writeln!(f, "{gutter} | {pad}{}", "^".repeat(self.underline.max(1)))
    }
}

/// Every error found in a scenario file (never empty when returned as an error).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostics {
    /// The errors, in the order they were found.
    pub errors: Vec<Diagnostic>,
}

impl fmt::Display for Diagnostics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, d) in self.errors.iter().take(MAX_SHOWN).enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{d}")?;
        }
        if let Some(more) = self.errors.len().checked_sub(MAX_SHOWN).filter(|&n| n > 0) {
            let file = self.errors.first().map(|d| printable(&d.file).into_owned()).unwrap_or_default();
            writeln!(f, "\n{file}: and {more} more error{}", if more == 1 { "" } else { "s" })?;
        }
        Ok(())
    }
}

impl std::error::Error for Diagnostics {}

/// Turns byte spans of one source text into located diagnostics.
pub(crate) struct SourceMap<'a> {
    file: &'a str,
    text: &'a str,
    /// Byte offset where each line starts.
    line_starts: Vec<usize>,
    /// Whether every character is one byte: columns are then byte
    /// differences, not counts (a file with thousands of errors on one long
    /// line would otherwise count that line once per error).
    ascii: bool,
}

impl<'a> SourceMap<'a> {
    pub(crate) fn new(file: &'a str, text: &'a str) -> SourceMap<'a> {
        let mut line_starts = vec![0];
        line_starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        SourceMap { file, text, line_starts, ascii: text.is_ascii() }
    }

    /// The 1-based line of a byte offset.
    /// The file's name as given (a path, for files).
    pub(crate) fn file(&self) -> &str {
        self.file
    }

    pub(crate) fn line_of(&self, offset: usize) -> usize {
        match self.line_starts.binary_search(&offset) {
            Ok(i) => i + 1,
            Err(i) => i,
        }
    }

    pub(crate) fn diagnostic(&self, span: Range<usize>, message: impl Into<String>) -> Diagnostic {
        // Spans come from the parser and are in bounds, but clamp anyway: a bad
        // span must never turn an error report into a panic.
        let start = floor_char_boundary(self.text, span.start.min(self.text.len()));
        let end = floor_char_boundary(self.text, span.end.clamp(start, self.text.len()));
        let line = self.line_of(start);
        let line_start = self.line_starts.get(line - 1).copied().unwrap_or(0);
        let line_end = self.text[line_start..].find('\n').map_or(self.text.len(), |i| line_start + i);
        let whole = self.text[line_start..line_end].trim_end_matches('\r');
        let chars = |s: &str| if self.ascii { s.len() } else { s.chars().count() };
        let column = chars(&self.text[line_start..start]) + 1;
        // Underline the span, but only as far as the end of its first line.
        let underline = chars(self.text[start..end.min(line_end)].trim_end_matches('\r')).max(1);
        let (source_line, excerpt_column, underline) = excerpt(whole, self.ascii, column, underline);
        Diagnostic {
            file: self.file.to_owned(),
            line,
            column,
            message: bounded_message(message.into()),
            source_line,
            excerpt_column,
            underline,
        }
    }
}

/// The part of `line` worth showing: all of it when short, else a window of
/// [`MAX_EXCERPT_CHARS`] around `column`. Each character stays one column
/// wide, so the underline still lines up: control characters become `�`, a
/// tab a space. `ascii`: every character of `line` is one byte. Returns the excerpt, the column in it and the underline.
fn excerpt(line: &str, ascii: bool, column: usize, underline: usize) -> (String, usize, usize) {
    let shown = |c: char| match c {
        '\t' => ' ',
        c if c.is_control() => '\u{fffd}',
        c => c,
    };
    let n = if ascii { line.len() } else { line.chars().count() };
    if n <= MAX_EXCERPT_CHARS {
        return (line.chars().map(shown).collect(), column, underline);
    }
    // A third of the window before the column, the rest after it.
    let at = column.saturating_sub(1).min(n);
    let from = at.saturating_sub(MAX_EXCERPT_CHARS / 3);
    let to = (from + MAX_EXCERPT_CHARS).min(n);
    let mut text = String::new();
    if from > 0 {
        text.push('…');
    }
    if ascii {
        text.extend(line[from..to].chars().map(shown));
    } else {
        text.extend(line.chars().skip(from).take(to - from).map(shown));
    }
    if to < n {
        text.push('…');
    }
    let excerpt_column = at - from + 1 + usize::from(from > 0);
    let underline = underline.min(to.saturating_sub(at)).max(1);
    (text, excerpt_column, underline)
}

fn floor_char_boundary(s: &str, mut i: usize) -> usize {
    while i > 0 && !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}
