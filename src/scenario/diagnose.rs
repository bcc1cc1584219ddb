//! Turning the errors of the TOML parser and of serde into [`ScenarioError`]s.
//!
//! The `toml` crate reports a byte span and a message in serde's wording
//! ("invalid type: string \"ten\", expected i64", "unknown field `x`, expected one
//! of ..."). That is precise but written for programmers, and it does not say
//! *which key* failed. This module adds the two missing pieces:
//!
//! * **the key path**: the document is parsed once into `toml`'s spanned tree
//!   ([`DeTable`]) before deserialisation; [`locate`] walks that tree for the key or
//!   value whose span is the error's span (or, failing that, the smallest one that
//!   contains it) and spells its path (`join[1].count`);
//! * **the wording**: [`reword`] recognises serde's standard messages and rewrites
//!   them for people who write scenario files: "unknown key `x`; allowed keys:
//!   ...", "expected an integer, found the string \"ten\"", "missing required key
//!   `count`". A message it does not recognise (this module's own duration errors,
//!   for instance) is passed through unchanged.

use std::ops::Range;

use toml::Spanned;
use toml::de::{DeTable, DeValue};

use super::duration::{DATETIME_MESSAGE, TOML_DATETIME_FIELD};
use super::error::{ScenarioError, Source};

/// A TOML syntax error: the document could not be parsed at all, so there is no
/// key path; the position is the parser's.
pub(crate) fn syntax_error(source: &Source<'_>, err: &toml::de::Error) -> ScenarioError {
    source.error(err.span(), None, syntax_message(source, err))
}

/// The parser's message, with the offending key named for a duplicate key.
fn syntax_message(source: &Source<'_>, err: &toml::de::Error) -> String {
    let key = err
        .span()
        .and_then(|span| source.text().get(span))
        .filter(|key| !key.is_empty());
    match (err.message(), key) {
        ("duplicate key", Some(key)) => {
            format!("invalid TOML: duplicate key `{key}`; a key may appear only once in a table")
        }
        (message, _) => format!("invalid TOML: {message}"),
    }
}

/// A deserialisation error (wrong type, unknown key, missing key, bad duration),
/// located in `doc`, the parsed form of `source`.
pub(crate) fn schema_error(
    source: &Source<'_>,
    doc: &DeTable<'_>,
    err: &toml::de::Error,
) -> ScenarioError {
    let span = err.span();
    let located = span.as_ref().and_then(|span| locate(doc, span));
    let message = err.message();

    if let Some(field) = message
        .strip_prefix("missing field `")
        .and_then(|rest| rest.strip_suffix('`'))
    {
        // The span is the table that lacks the key: its header, its inline braces,
        // or the (empty) root span for a top-level key.
        let (key, span) = match &located {
            Some(table) => (format!("{}.{field}", table.path), span),
            None => (field.to_owned(), Some(0..0)),
        };
        let table = located.as_ref().map_or("", |table| table.path.as_str());
        return source.error(span, Some(key), missing_key_message(table, field));
    }

    let found = located.as_ref().and_then(|hit| {
        let value = hit.value?;
        let text = source.text().get(hit.span.clone())?;
        Some(describe_value(value, text))
    });
    let path = located.as_ref().map(|hit| hit.path.as_str());
    let message = reword(message, found.as_deref(), path);
    source.error(span, located.map(|hit| hit.path), message)
}

/// The message for a required key that is absent from the table at path
/// `table` (empty for the root), with an example of the key.
fn missing_key_message(table: &str, field: &str) -> String {
    let list = table.split('[').next().unwrap_or_default();
    let example = match (list, field) {
        ("", "name") => r#" (e.g. name = "bootstrap")"#,
        ("", "duration") => r#" (e.g. duration = "10m")"#,
        ("join", "count") => " (the number of nodes that join, e.g. count = 10)",
        (_, "min" | "max") => {
            r#" (a latency range needs both, e.g. { min = "20ms", max = "80ms" })"#
        }
        ("network.regions", "name") => r#" (the region's name, e.g. name = "eu")"#,
        ("network.regions", "share") => {
            " (the fraction of the nodes placed in this region, e.g. share = 0.5)"
        }
        ("churn", "session") => {
            r#" (how long a node stays online, e.g. session = { distribution = "exponential", mean = "30m" })"#
        }
        ("leave", "at") => r#" (when the nodes leave, e.g. at = "5m")"#,
        ("partition", "for") => r#" (how long the partition lasts, e.g. for = "5m")"#,
        ("lookups", "rate") => " (lookups per second over the whole network, e.g. rate = 1.0)",
        ("assert", "that") => r#" (the condition, e.g. that = "recall_mean >= 0.9")"#,
        _ => "",
    };
    format!("missing required key `{field}`{example}")
}

/// Rewrites one of serde's standard messages for scenario authors.
///
/// `found` describes the offending value as written, when it is known; `path` is
/// its key path.
fn reword(message: &str, found: Option<&str>, path: Option<&str>) -> String {
    if message.contains(TOML_DATETIME_FIELD) {
        return DATETIME_MESSAGE.to_owned();
    }
    if let Some(rest) = message.strip_prefix("unknown field `")
        && let Some((unknown, expected)) = rest.split_once('`')
    {
        let allowed = expected
            .trim_start_matches(", expected one of ")
            .trim_start_matches(", expected ")
            .replace(" or ", ", ")
            .replace('`', "");
        return if allowed.starts_with(", there are no fields") {
            format!("unknown key `{unknown}`; this table takes no keys")
        } else {
            format!("unknown key `{unknown}`; allowed keys: {allowed}")
        };
    }
    if let Some(rest) = message.strip_prefix("unknown variant `")
        && let Some((unknown, expected)) = rest.split_once('`')
    {
        let allowed = expected
            .trim_start_matches(", expected one of ")
            .trim_start_matches(", expected ")
            .replace('`', "\"");
        return format!("{unknown:?} is not allowed here; use {allowed}");
    }
    let integer = message
        .strip_prefix("invalid value: integer ")
        .or_else(|| message.strip_prefix("invalid type: integer "));
    if let Some(rest) = integer
        && let Some((serde_found, expected)) = rest.rsplit_once(", expected ")
        && let Some(range) = integer_range(expected)
    {
        // An integer out of the type's range (serde reports one beyond i64 as a
        // type error): say the range.
        let found = found.map_or_else(|| format!("the integer {serde_found}"), str::to_owned);
        return format!("expected an integer from {range}, found {found}");
    }
    let mismatch = message
        .strip_prefix("invalid type: ")
        .or_else(|| message.strip_prefix("invalid value: "));
    if let Some(rest) = mismatch
        && let Some((serde_found, expected)) = rest.rsplit_once(", expected ")
    {
        let found = found.map_or_else(|| serde_found.to_owned(), str::to_owned);
        // A single `[x]` where `[[x]]` was meant (a list of tables outside any
        // list; an array inside a list entry is an array of values).
        if expected == "a sequence"
            && found == "a table"
            && let Some(name) = path.filter(|path| !path.contains('['))
        {
            return format!(
                "expected an array of tables, found a single table; \
                 write [[{name}]] with double brackets"
            );
        }
        return format!("expected {}, found {found}", expected_phrase(expected));
    }
    message.to_owned()
}

/// The range of one of serde's integer types, e.g. `0 to 255` for `u8`.
fn integer_range(expected: &str) -> Option<String> {
    let range = match expected {
        "u8" => (0, i128::from(u8::MAX)),
        "u16" => (0, i128::from(u16::MAX)),
        "u32" => (0, i128::from(u32::MAX)),
        "u64" => (0, i128::from(u64::MAX)),
        "i8" => (i128::from(i8::MIN), i128::from(i8::MAX)),
        "i16" => (i128::from(i16::MIN), i128::from(i16::MAX)),
        "i32" => (i128::from(i32::MIN), i128::from(i32::MAX)),
        "i64" => (i128::from(i64::MIN), i128::from(i64::MAX)),
        _ => return None,
    };
    Some(format!("{} to {}", range.0, range.1))
}

/// serde's name for an expected type, in the words of a scenario file.
fn expected_phrase(expected: &str) -> String {
    match expected {
        "u8" | "u16" | "u32" | "u64" | "u128" | "usize" => "a non-negative integer".to_owned(),
        "f32" | "f64" => "a number".to_owned(),
        "i8" | "i16" | "i32" | "i64" | "i128" | "isize" => "an integer".to_owned(),
        "a string" | "a borrowed string" => "a string (in quotes)".to_owned(),
        "a sequence" => "an array".to_owned(),
        "a map" => "a table".to_owned(),
        other if other.starts_with("struct ") => "a table".to_owned(),
        other => other.to_owned(),
    }
}

/// A short description of a value as written, e.g. `the string "ten"`.
fn describe_value(value: &DeValue<'_>, text: &str) -> String {
    const LIMIT: usize = 40;
    let text = if text.chars().count() > LIMIT {
        format!("{}...", text.chars().take(LIMIT).collect::<String>())
    } else {
        text.to_owned()
    };
    match value {
        DeValue::String(_) => format!("the string {text}"),
        DeValue::Integer(_) => format!("the integer {text}"),
        DeValue::Float(_) => format!("the number {text}"),
        DeValue::Boolean(_) => format!("the boolean {text}"),
        DeValue::Datetime(_) => format!("the date/time {text}"),
        DeValue::Array(_) => "an array".to_owned(),
        DeValue::Table(_) => "a table".to_owned(),
    }
}

/// A key or value of the document, found by its span.
#[derive(Debug)]
pub(crate) struct Hit<'a, 'i> {
    /// Key path, e.g. `join[1].count`.
    pub path: String,
    /// Byte span of the key or value.
    pub span: Range<usize>,
    /// The value, when the hit is a value rather than a key.
    pub value: Option<&'a DeValue<'i>>,
}

/// Finds the key or value of `doc` whose span is exactly `target`, preferring the
/// deepest path (an `[[join]]` header is the span of both `join` and `join[0]`)
/// and a value over its key; failing that, the smallest span containing a
/// non-empty `target`.
pub(crate) fn locate<'a, 'i>(doc: &'a DeTable<'i>, target: &Range<usize>) -> Option<Hit<'a, 'i>> {
    let mut best: Option<((u8, usize, bool), Hit<'a, 'i>)> = None;
    walk_table(doc, "", target, &mut best);
    best.map(|(_, hit)| hit)
}

type Best<'a, 'i> = Option<((u8, usize, bool), Hit<'a, 'i>)>;

fn walk_table<'a, 'i>(
    table: &'a DeTable<'i>,
    prefix: &str,
    target: &Range<usize>,
    best: &mut Best<'a, 'i>,
) {
    for (key, value) in table.iter() {
        let segment = quote_key(key.get_ref());
        let path = if prefix.is_empty() {
            segment
        } else {
            format!("{prefix}.{segment}")
        };
        consider(key.span(), &path, None, target, best);
        walk_value(value, &path, target, best);
    }
}

fn walk_value<'a, 'i>(
    value: &'a Spanned<DeValue<'i>>,
    path: &str,
    target: &Range<usize>,
    best: &mut Best<'a, 'i>,
) {
    consider(value.span(), path, Some(value.get_ref()), target, best);
    match value.get_ref() {
        DeValue::Table(table) => walk_table(table, path, target, best),
        DeValue::Array(array) => {
            for (index, item) in array.iter().enumerate() {
                walk_value(item, &format!("{path}[{index}]"), target, best);
            }
        }
        _ => {}
    }
}

fn consider<'a, 'i>(
    span: Range<usize>,
    path: &str,
    value: Option<&'a DeValue<'i>>,
    target: &Range<usize>,
    best: &mut Best<'a, 'i>,
) {
    // Lower ranks win: exact matches (deepest path, then values) before the
    // smallest containing span.
    let rank = if span == *target {
        (0, usize::MAX - path.len(), value.is_none())
    } else if target.start < target.end && span.start <= target.start && target.end <= span.end {
        (1, span.end - span.start, value.is_none())
    } else {
        return;
    };
    if best.as_ref().is_none_or(|(current, _)| rank < *current) {
        let hit = Hit {
            path: path.to_owned(),
            span,
            value,
        };
        *best = Some((rank, hit));
    }
}

/// A key as it would be written in a dotted path: bare when it can be, quoted
/// otherwise.
pub(crate) fn quote_key(key: &str) -> String {
    let bare = !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if bare {
        key.to_owned()
    } else {
        format!("{key:?}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn path_at(src: &str, needle: &str) -> Option<String> {
        let doc = DeTable::parse(src).expect("valid TOML");
        let start = src.find(needle).expect("needle in src");
        locate(doc.get_ref(), &(start..start + needle.len())).map(|hit| hit.path)
    }

    #[test]
    fn locates_keys_values_and_array_entries() {
        let src = "name = \"x\"\n[network]\nlatency = { min = \"1ms\", max = \"2ms\" }\n\
                   [[join]]\ncount = 1\n[[join]]\ncount = 22\n\"odd key\" = 3\n";
        assert_eq!(path_at(src, "\"x\""), Some("name".to_owned()));
        assert_eq!(
            path_at(src, "\"2ms\""),
            Some("network.latency.max".to_owned())
        );
        assert_eq!(path_at(src, "min"), Some("network.latency.min".to_owned()));
        assert_eq!(path_at(src, "22"), Some("join[1].count".to_owned()));
        assert_eq!(path_at(src, "[[join]]"), Some("join[0]".to_owned()));
        assert_eq!(
            path_at(src, "\"odd key\""),
            Some("join[1].\"odd key\"".to_owned())
        );
    }

    #[test]
    fn rewords_serde_messages() {
        assert_eq!(
            reword("unknown field `x`, expected one of `a`, `b`", None, None),
            "unknown key `x`; allowed keys: a, b"
        );
        assert_eq!(
            reword("unknown field `x`, expected `a`", None, None),
            "unknown key `x`; allowed keys: a"
        );
        assert_eq!(
            reword("invalid type: string \"ten\", expected i64", None, None),
            "expected an integer, found string \"ten\""
        );
        assert_eq!(
            reword(
                "invalid type: map, expected a sequence",
                Some("a table"),
                Some("join")
            ),
            "expected an array of tables, found a single table; write [[join]] with double brackets"
        );
        assert_eq!(
            reword(
                "invalid type: map, expected a sequence",
                Some("a table"),
                Some("partition[0].groups")
            ),
            "expected an array, found a table"
        );
        assert_eq!(
            reword("invalid value: integer `-1`, expected u64", None, None),
            "expected an integer from 0 to 18446744073709551615, found the integer `-1`"
        );
        assert_eq!(reword("something else", None, None), "something else");
    }
}
