//! [`ScenarioError`]: one error, located in its file, printed on one line.
//!
//! Every failure of loading a scenario (the file cannot be read, the TOML is
//! malformed, a key is unknown or has the wrong type, a rule of the schema is
//! broken) becomes the same type with the same one-line rendering:
//!
//! ```text
//! scenarios/bad.toml:7:11: network.latency.min: "fast" is not a duration; use a number and a unit: ms, s, m, h or d (e.g. "250ms", "30s", "5m")
//! ```
//!
//! that is `<origin>:<line>:<column>: <key path>: <message>`, the form editors and
//! terminals recognise as a jump target. Lines and columns are 1-based and count
//! characters, not bytes. The location points at the offending value; at the key
//! itself for an unknown key; at the table header (or the start of the file) for a
//! missing key. Parts that do not apply are left out: an I/O error is just
//! `<origin>: <message>`, a TOML syntax error has no key path.
//!
//! [`Source`] is the small helper that turns byte spans into these positions.

use std::ops::Range;

/// Why a scenario could not be loaded, and where in the file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", self.render())]
pub struct ScenarioError {
    /// Where the text came from: the path as given to [`Scenario::load`](super::Scenario::load),
    /// or the `origin` given to [`Scenario::parse`](super::Scenario::parse).
    pub origin: String,
    /// 1-based line of the offending value, key or table header; `None` for an I/O
    /// error.
    pub line: Option<usize>,
    /// 1-based column (in characters) on `line`; `None` for an I/O error.
    pub column: Option<usize>,
    /// Path of the offending key, e.g. `name`, `network.latency.min`,
    /// `join[1].count` (0-based index among the `[[join]]` entries); `None` for I/O
    /// and TOML syntax errors.
    pub key: Option<String>,
    /// What is wrong and what is allowed instead; a single line.
    pub message: String,
}

impl ScenarioError {
    /// An error that has no position in the file: it could not be read.
    pub(crate) fn io(origin: &str, err: &std::io::Error) -> Self {
        ScenarioError {
            origin: origin.to_owned(),
            line: None,
            column: None,
            key: None,
            message: format!("cannot read the scenario file: {err}"),
        }
    }

    /// The one-line rendering used by `Display`.
    fn render(&self) -> String {
        let mut out = self.origin.clone();
        if let Some(line) = self.line {
            out.push_str(&format!(":{line}"));
            if let Some(column) = self.column {
                out.push_str(&format!(":{column}"));
            }
        }
        out.push_str(": ");
        if let Some(key) = &self.key {
            out.push_str(key);
            out.push_str(": ");
        }
        out.push_str(&self.message);
        out
    }
}

/// The text being parsed and its origin: turns byte spans into located errors.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Source<'a> {
    text: &'a str,
    origin: &'a str,
}

impl<'a> Source<'a> {
    pub(crate) fn new(text: &'a str, origin: &'a str) -> Self {
        Source { text, origin }
    }

    /// The scenario text.
    pub(crate) fn text(&self) -> &'a str {
        self.text
    }

    /// An error at the start of `span`, or at the start of the file when there is
    /// no span (a missing top-level key).
    pub(crate) fn error(
        &self,
        span: Option<Range<usize>>,
        key: Option<String>,
        message: impl Into<String>,
    ) -> ScenarioError {
        let (line, column) = self.line_column(span.map_or(0, |span| span.start));
        let message: String = message.into();
        ScenarioError {
            origin: self.origin.to_owned(),
            line: Some(line),
            column: Some(column),
            key,
            // Keep the promise of a one-line rendering whatever a library said.
            message: message.trim_end().replace('\n', "; "),
        }
    }

    /// 1-based line and column (in characters) of byte `offset`. An offset past
    /// the end, or inside a multi-byte character, is clamped to a valid position.
    pub(crate) fn line_column(&self, offset: usize) -> (usize, usize) {
        let mut offset = offset.min(self.text.len());
        while !self.text.is_char_boundary(offset) {
            offset -= 1;
        }
        let before = &self.text[..offset];
        let line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map_or(0, |newline| newline + 1);
        let column = before[line_start..].chars().count() + 1;
        (line, column)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_and_column_are_one_based_and_count_characters() {
        let source = Source::new("a = 1\nbé = \"x\"\n", "f.toml");
        assert_eq!(source.line_column(0), (1, 1));
        assert_eq!(source.line_column(4), (1, 5));
        assert_eq!(source.line_column(6), (2, 1));
        // `=` after the two-byte `é` is the fourth character of line 2.
        assert_eq!(source.line_column(10), (2, 4));
        assert_eq!(source.line_column(1000), (3, 1));
    }

    #[test]
    fn display_is_origin_position_key_message() {
        let err = Source::new("\n\nname = 1\n", "s.toml").error(
            Some(9..10),
            Some("name".to_owned()),
            "expected a string",
        );
        assert_eq!(err.to_string(), "s.toml:3:8: name: expected a string");
    }

    #[test]
    fn display_leaves_out_what_does_not_apply() {
        let no_key = Source::new("x", "s.toml").error(Some(0..1), None, "bad\nthing\n");
        assert_eq!(no_key.to_string(), "s.toml:1:1: bad; thing");
        let io = ScenarioError::io("missing.toml", &std::io::Error::other("gone"));
        assert_eq!(
            io.to_string(),
            "missing.toml: cannot read the scenario file: gone"
        );
        assert_eq!((io.line, io.column, io.key), (None, None, None));
    }
}
