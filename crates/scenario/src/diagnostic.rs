//! Located errors about a scenario file, rendered like rustc's.
//!
//! A [`Diagnostic`] carries the file, the 1-based line and column of the
//! offending value, the message, and the source line with the length of the
//! underline, so it renders without the source at hand.

use std::fmt;
use std::ops::Range;

/// One located error in a scenario file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    pub file: String,
    /// 1-based; 0 when the error is about the whole file (it could not be read).
    pub line: usize,
    /// 1-based, counted in characters; 0 with `line` 0.
    pub column: usize,
    pub message: String,
    /// The text of line `line`, without its line break.
    pub source_line: String,
    /// How many characters of `source_line` to underline, from `column` (at least 1).
    pub underline: usize,
}

impl Diagnostic {
    /// An error about the file as a whole (for example: it cannot be read).
    pub fn whole_file(file: &str, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            file: file.to_owned(),
            line: 0,
            column: 0,
            message: message.into(),
            source_line: String::new(),
            underline: 0,
        }
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            return writeln!(f, "{}: error: {}", self.file, self.message);
        }
        writeln!(f, "{}:{}:{}: error: {}", self.file, self.line, self.column, self.message)?;
        let number = self.line.to_string();
        let gutter = " ".repeat(number.len());
        writeln!(f, "{gutter} |")?;
        writeln!(f, "{number} | {}", self.source_line)?;
        let pad = " ".repeat(self.column.saturating_sub(1));
        writeln!(f, "{gutter} | {pad}{}", "^".repeat(self.underline.max(1)))
    }
}

/// Every error found in a scenario file (never empty when returned as an error).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostics {
    pub errors: Vec<Diagnostic>,
}

impl fmt::Display for Diagnostics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, d) in self.errors.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{d}")?;
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
}

impl<'a> SourceMap<'a> {
    pub(crate) fn new(file: &'a str, text: &'a str) -> SourceMap<'a> {
        let mut line_starts = vec![0];
        line_starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        SourceMap { file, text, line_starts }
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
        let source_line = self.text[line_start..line_end].trim_end_matches('\r').to_owned();
        let column = self.text[line_start..start].chars().count() + 1;
        // Underline the span, but only as far as the end of its first line.
        let underline = self.text[start..end.min(line_end)].trim_end_matches('\r').chars().count();
        Diagnostic {
            file: self.file.to_owned(),
            line,
            column,
            message: message.into(),
            source_line,
            underline: underline.max(1),
        }
    }
}

fn floor_char_boundary(s: &str, mut i: usize) -> usize {
    while i > 0 && !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}
