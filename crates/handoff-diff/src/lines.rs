//! Splitting text into lines that remember their terminators, and telling text from binary.

use serde::{Deserialize, Serialize};

/// How a line ends: the diff keeps this so CRLF files and missing final newlines survive a round trip.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Terminator {
    /// `"\n"`.
    Lf,
    /// `"\r\n"`.
    Crlf,
    /// No terminator: the last line of a file without a final newline.
    None,
}

impl Terminator {
    /// The terminator's bytes as text (`""` for [`Terminator::None`]).
    pub fn as_str(self) -> &'static str {
        match self {
            Terminator::Lf => "\n",
            Terminator::Crlf => "\r\n",
            Terminator::None => "",
        }
    }
}

/// One line of a text: its content without the terminator, and the terminator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Line<'a> {
    /// The line's text without its terminator.
    pub text: &'a str,
    /// How the line ends.
    pub terminator: Terminator,
}

impl<'a> Line<'a> {
    /// Splits a raw line (as stored, terminator included) into text and terminator.
    pub fn from_raw(raw: &'a str) -> Self {
        if let Some(body) = raw.strip_suffix("\r\n") {
            Line { text: body, terminator: Terminator::Crlf }
        } else if let Some(body) = raw.strip_suffix('\n') {
            Line { text: body, terminator: Terminator::Lf }
        } else {
            Line { text: raw, terminator: Terminator::None }
        }
    }
}

/// A text with the byte offset of every line start, so any line is O(1) to reach.
#[derive(Debug, Clone)]
pub struct LineIndex<'a> {
    text: &'a str,
    /// Start offset of each line, plus `text.len()` as a final sentinel.
    starts: Vec<usize>,
}

impl<'a> LineIndex<'a> {
    /// Indexes `text`; a final line without `\n` counts as a line, an empty text has none.
    pub fn new(text: &'a str) -> Self {
        let bytes = text.as_bytes();
        // A guess that avoids most regrowth on prose and code (~40 bytes a line).
        let mut starts = Vec::with_capacity(bytes.len() / 32 + 2);
        starts.push(0);
        starts.extend(memchr::memchr_iter(b'\n', bytes).map(|i| i + 1));
        if starts.last().is_some_and(|&last| last < bytes.len()) {
            starts.push(bytes.len());
        }
        LineIndex { text, starts }
    }

    /// The whole text.
    pub fn text(&self) -> &'a str {
        self.text
    }

    /// Number of lines.
    pub fn len(&self) -> usize {
        self.starts.len() - 1
    }

    /// Whether the text has no lines at all.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Line `i` (0-based) with its terminator, as stored.
    pub fn raw(&self, i: usize) -> &'a str {
        match (self.starts.get(i), self.starts.get(i + 1)) {
            (Some(&s), Some(&e)) => self.text.get(s..e).unwrap_or(""),
            _ => "",
        }
    }

    /// Line `i` (0-based) split into text and terminator.
    pub fn line(&self, i: usize) -> Line<'a> {
        Line::from_raw(self.raw(i))
    }

    /// Raw text of lines `range` (0-based, end exclusive), terminators included.
    pub fn raw_range(&self, range: std::ops::Range<usize>) -> &'a str {
        let end = range.end.min(self.len());
        let start = range.start.min(end);
        match (self.starts.get(start), self.starts.get(end)) {
            (Some(&s), Some(&e)) => self.text.get(s..e).unwrap_or(""),
            _ => "",
        }
    }

    /// Whether the text ends without a line terminator (and is non-empty).
    pub fn missing_final_newline(&self) -> bool {
        !self.text.is_empty() && !self.text.ends_with('\n')
    }
}

/// What a file's bytes are, for diff purposes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Content<'a> {
    /// Valid UTF-8 without NUL bytes.
    Text(&'a str),
    /// Anything else: shown with size and hash, never as text.
    Binary,
}

/// Classifies bytes as text or binary: a NUL byte or invalid UTF-8 makes a file binary.
pub fn classify(bytes: &[u8]) -> Content<'_> {
    if memchr::memchr(0, bytes).is_some() {
        return Content::Binary;
    }
    match std::str::from_utf8(bytes) {
        Ok(text) => Content::Text(text),
        Err(_) => Content::Binary,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_lines_with_terminators() {
        let cases: &[(&str, &[(&str, Terminator)])] = &[
            ("", &[]),
            ("a", &[("a", Terminator::None)]),
            ("a\n", &[("a", Terminator::Lf)]),
            ("a\r\nb", &[("a", Terminator::Crlf), ("b", Terminator::None)]),
            ("\n\n", &[("", Terminator::Lf), ("", Terminator::Lf)]),
            ("a\rb\n", &[("a\rb", Terminator::Lf)]),
            ("x\r", &[("x\r", Terminator::None)]),
        ];
        for (text, expected) in cases {
            let index = LineIndex::new(text);
            let got: Vec<(&str, Terminator)> = (0..index.len()).map(|i| index.line(i)).map(|l| (l.text, l.terminator)).collect();
            assert_eq!(&got, expected, "{text:?}");
            let joined: String = (0..index.len()).map(|i| index.raw(i)).collect();
            assert_eq!(&joined, text);
        }
    }

    #[test]
    fn classifies_binary() {
        assert_eq!(classify(b"hello\n"), Content::Text("hello\n"));
        assert_eq!(classify(b""), Content::Text(""));
        assert_eq!(classify(b"a\0b"), Content::Binary);
        assert_eq!(classify(&[0xff, 0xfe, b'a']), Content::Binary);
    }
}
