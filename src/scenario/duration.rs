//! Durations as scenario files write them: `"250ms"`, `"1.5s"`, `"30s"`, `"5m"`,
//! `"2h"`, `"1d"`.
//!
//! A duration is a TOML *string*: a non-negative decimal number (digits, optionally
//! followed by a `.` and more digits) immediately followed by one unit:
//!
//! | unit | meaning      |
//! |------|--------------|
//! | `ms` | milliseconds |
//! | `s`  | seconds      |
//! | `m`  | minutes      |
//! | `h`  | hours        |
//! | `d`  | days         |
//!
//! Parsing is exact: `"1.5s"` is 1 500 000 000 ns, computed with integers, never
//! through a float, so a schedule read from a file is bit-for-bit the same on every
//! machine. A value finer than one nanosecond (`"0.0000001ms"`) is rejected rather
//! than rounded.
//!
//! [`format_duration`] is the inverse: it prints a short exact spelling, so
//! `parse_duration(&format_duration(d)) == Ok(d)` for every duration.
//!
//! [`DurationValue`] is the serde face of the same syntax, used by the raw schema
//! types; its error messages say what is allowed, and it names the common mistake of
//! writing a bare TOML number (`duration = 30`).

use std::fmt;
use std::time::Duration;

use serde::de::{self, Deserialize, Deserializer, MapAccess, Visitor};

/// The hint appended to every duration syntax error.
pub(crate) const DURATION_HINT: &str =
    r#"use a number and a unit: ms, s, m, h or d (e.g. "250ms", "30s", "5m")"#;

/// Units, with their length in nanoseconds, from the smallest to the largest.
const UNITS: [(&str, u128); 5] = [
    ("ms", 1_000_000),
    ("s", 1_000_000_000),
    ("m", 60_000_000_000),
    ("h", 3_600_000_000_000),
    ("d", 86_400_000_000_000),
];

const NANOS_PER_SEC: u128 = 1_000_000_000;

/// Parses a duration string such as `"250ms"`, `"1.5s"`, `"5m"`, `"2h"` or `"1d"`.
///
/// The error is a complete sentence naming the bad input and the allowed syntax,
/// e.g. `"fast" is not a duration; use a number and a unit: ms, s, m, h or d (e.g.
/// "250ms", "30s", "5m")`.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let fail = |reason: &str| {
        if reason.is_empty() {
            format!("{s:?} is not a duration; {DURATION_HINT}")
        } else {
            format!("{s:?} is not a duration: {reason}; {DURATION_HINT}")
        }
    };
    if s.is_empty() {
        return Err(fail("it is empty"));
    }
    if s.chars().any(char::is_whitespace) {
        return Err(fail("it contains whitespace"));
    }
    if s.starts_with('-') {
        return Err(fail("durations cannot be negative"));
    }
    let split = s
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(s.len());
    let (number, unit) = s.split_at(split);
    if number.is_empty() {
        return Err(fail(""));
    }
    if unit.is_empty() {
        return Err(fail("it has no unit"));
    }
    let Some(&(_, unit_nanos)) = UNITS.iter().find(|(name, _)| *name == unit) else {
        return Err(fail(&format!("{unit:?} is not a unit")));
    };
    // Digits, optionally followed by a point and more digits.
    let (whole, fraction) = match number.split_once('.') {
        Some((whole, fraction)) => (whole, Some(fraction)),
        None => (number, None),
    };
    let well_formed = !whole.is_empty()
        && fraction.is_none_or(|fraction| !fraction.is_empty() && !fraction.contains('.'));
    if !well_formed {
        return Err(fail(&format!("{number:?} is not a plain decimal number")));
    }
    let nanos = exact_nanos(whole, fraction.unwrap_or(""), unit_nanos).map_err(&fail)?;
    let secs = u64::try_from(nanos / NANOS_PER_SEC).map_err(|_| fail("it is too large"))?;
    let sub = u32::try_from(nanos % NANOS_PER_SEC).expect("a remainder of 1e9 fits in u32");
    Ok(Duration::new(secs, sub))
}

/// `whole.fraction` units in nanoseconds, computed exactly. `whole` is a non-empty
/// run of ASCII digits and `fraction` a possibly empty one (checked by the caller).
fn exact_nanos(whole: &str, fraction: &str, unit_nanos: u128) -> Result<u128, &'static str> {
    const TOO_LARGE: &str = "it is too large";
    const TOO_FINE: &str = "it is finer than one nanosecond";
    let mut whole_value: u128 = 0;
    for digit in whole.bytes() {
        whole_value = whole_value
            .checked_mul(10)
            .and_then(|v| v.checked_add(u128::from(digit - b'0')))
            .ok_or(TOO_LARGE)?;
    }
    let mut nanos = whole_value.checked_mul(unit_nanos).ok_or(TOO_LARGE)?;
    let fraction = fraction.trim_end_matches('0');
    if !fraction.is_empty() {
        // The largest unit is below 1e14 ns, so a fraction with more than 20
        // significant digits cannot be a whole number of nanoseconds; stopping
        // here also keeps 10^len within u128.
        if fraction.len() > 20 {
            return Err(TOO_FINE);
        }
        let mut numerator: u128 = 0;
        for digit in fraction.bytes() {
            numerator = numerator * 10 + u128::from(digit - b'0');
        }
        let denominator = 10u128.pow(u32::try_from(fraction.len()).expect("len <= 20"));
        let scaled = numerator * unit_nanos; // < 1e20 * 1e14, fits in u128
        if !scaled.is_multiple_of(denominator) {
            return Err(TOO_FINE);
        }
        nanos = nanos.checked_add(scaled / denominator).ok_or(TOO_LARGE)?;
    }
    Ok(nanos)
}

/// Formats a duration exactly, in the shortest spelling that [`parse_duration`]
/// reads back: `"0s"`, `"250ms"`, `"1.5s"`, `"90s"`, `"1m"`, `"36h"`, `"1d"`.
///
/// The candidates are a whole number of any unit, and a decimal number of
/// milliseconds or (from one second up) of seconds; decimal minutes, hours and
/// days (`"0.1681419601m"`) are never produced, as nobody reads them at a glance.
/// Among candidates of equal length a whole number wins (`"250ms"` rather than
/// `"0.25s"`), then the larger unit.
pub fn format_duration(d: Duration) -> String {
    let nanos = d.as_nanos();
    if nanos == 0 {
        return "0s".to_owned();
    }
    let mut best: Option<String> = None;
    // Larger units first, so that on a tie the larger unit is kept.
    for &(unit, unit_nanos) in UNITS.iter().rev() {
        let candidate = if nanos.is_multiple_of(unit_nanos) {
            format!("{}{unit}", nanos / unit_nanos)
        } else if unit == "ms" || (unit == "s" && nanos >= NANOS_PER_SEC) {
            decimal(nanos, unit_nanos, unit)
        } else {
            continue;
        };
        let rank = |s: &str| (s.len(), s.contains('.'));
        if best
            .as_ref()
            .is_none_or(|current| rank(&candidate) < rank(current))
        {
            best = Some(candidate);
        }
    }
    best.expect("milliseconds always give a candidate")
}

/// `nanos / unit_nanos` as a terminating decimal followed by `unit`; `unit_nanos`
/// must be a power of ten (milliseconds or seconds), so the decimal terminates.
fn decimal(nanos: u128, unit_nanos: u128, unit: &str) -> String {
    let digits = unit_nanos.ilog10() as usize;
    let fraction = format!("{:0digits$}", nanos % unit_nanos);
    format!(
        "{}.{}{unit}",
        nanos / unit_nanos,
        fraction.trim_end_matches('0')
    )
}

/// A duration read from a scenario file: a TOML string in the syntax of
/// [`parse_duration`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct DurationValue(pub Duration);

impl<'de> Deserialize<'de> for DurationValue {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer
            .deserialize_any(DurationVisitor)
            .map(DurationValue)
    }
}

/// The error for a duration written as a TOML number instead of a string.
pub(crate) fn bare_number_message(number: &dyn fmt::Display) -> String {
    format!(
        "expected a duration string, found the bare number {number}; \
         quote it and add a unit, e.g. \"{number}s\" or \"{number}ms\" (units: ms, s, m, h, d)"
    )
}

/// The error for a duration written as a TOML date or time (`at = 00:10:00`).
pub(crate) const DATETIME_MESSAGE: &str = "expected a duration string, found a TOML date/time; \
     write the offset from the start of the run with a unit, e.g. \"10m\" or \"1h\"";

/// The key under which toml hands a date/time to a visitor's `visit_map`.
pub(crate) const TOML_DATETIME_FIELD: &str = "$__toml_private_datetime";

struct DurationVisitor;

impl<'de> Visitor<'de> for DurationVisitor {
    type Value = Duration;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(r#"a duration string such as "250ms", "30s" or "5m""#)
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Duration, E> {
        parse_duration(v).map_err(E::custom)
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Duration, E> {
        Err(E::custom(bare_number_message(&v)))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Duration, E> {
        Err(E::custom(bare_number_message(&v)))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Duration, E> {
        Err(E::custom(bare_number_message(&v)))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Duration, A::Error> {
        match map.next_key::<String>()? {
            Some(key) if key == TOML_DATETIME_FIELD => Err(de::Error::custom(DATETIME_MESSAGE)),
            _ => Err(de::Error::invalid_type(de::Unexpected::Map, &self)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn parses_every_unit() {
        assert_eq!(parse_duration("250ms"), Ok(ms(250)));
        assert_eq!(parse_duration("1.5s"), Ok(ms(1500)));
        assert_eq!(parse_duration("30s"), Ok(Duration::from_secs(30)));
        assert_eq!(parse_duration("5m"), Ok(Duration::from_secs(300)));
        assert_eq!(parse_duration("2h"), Ok(Duration::from_secs(7200)));
        assert_eq!(parse_duration("1d"), Ok(Duration::from_secs(86_400)));
        assert_eq!(parse_duration("0s"), Ok(Duration::ZERO));
        assert_eq!(parse_duration("0.5m"), Ok(Duration::from_secs(30)));
        assert_eq!(parse_duration("1.000s"), Ok(Duration::from_secs(1)));
        assert_eq!(parse_duration("0.000001ms"), Ok(Duration::from_nanos(1)));
        assert_eq!(parse_duration("007s"), Ok(Duration::from_secs(7)));
    }

    #[test]
    fn rejects_malformed_strings_with_a_reason_and_the_syntax() {
        let cases = [
            ("", "it is empty"),
            ("30", "it has no unit"),
            ("1.5", "it has no unit"),
            ("-5s", "cannot be negative"),
            ("5 s", "whitespace"),
            (" 5s", "whitespace"),
            ("5min", "\"min\" is not a unit"),
            ("5S", "\"S\" is not a unit"),
            ("fast", "\"fast\" is not a duration; use"),
            ("ms", "\"ms\" is not a duration; use"),
            ("+5s", "\"+5s\" is not a duration; use"),
            (".5s", "\".5\" is not a plain decimal number"),
            ("5.s", "\"5.\" is not a plain decimal number"),
            ("1.2.3s", "\"1.2.3\" is not a plain decimal number"),
            ("1e3s", "\"e3s\" is not a unit"),
            ("0.0000001ms", "finer than one nanosecond"),
            ("1.00000000000000000000000001s", "finer than one nanosecond"),
            ("99999999999999999999999999999999999999999d", "too large"),
            ("999999999999999999999d", "too large"),
        ];
        for (input, reason) in cases {
            let err = parse_duration(input).expect_err(input);
            assert!(err.contains(reason), "{input:?}: {err}");
            assert!(err.ends_with(DURATION_HINT), "{input:?}: {err}");
            assert!(
                err.starts_with(&format!("{input:?} is not a duration")),
                "{err}"
            );
        }
    }

    #[test]
    fn formats_the_shortest_exact_spelling() {
        let cases = [
            (Duration::ZERO, "0s"),
            (ms(250), "250ms"),
            (ms(100), "100ms"),
            (ms(500), "500ms"),
            (Duration::from_millis(10_088), "10088ms"),
            (Duration::from_millis(10_500), "10.5s"),
            (Duration::new(10, 88_517_606), "10.088517606s"),
            (Duration::from_secs(630), "630s"),
            (ms(1500), "1.5s"),
            (Duration::from_secs(1), "1s"),
            (Duration::from_secs(30), "30s"),
            (Duration::from_secs(60), "1m"),
            (Duration::from_secs(90), "90s"),
            (Duration::from_secs(600), "10m"),
            (Duration::from_secs(5400), "90m"),
            (Duration::from_secs(3600), "1h"),
            (Duration::from_secs(36 * 3600), "36h"),
            (Duration::from_secs(86_400), "1d"),
            (Duration::from_secs(30 * 86_400), "30d"),
            (Duration::from_nanos(1), "0.000001ms"),
            (Duration::from_nanos(1_500_000), "1.5ms"),
            (Duration::new(1, 1), "1.000000001s"),
        ];
        for (d, text) in cases {
            assert_eq!(format_duration(d), text, "{d:?}");
            assert_eq!(parse_duration(text), Ok(d), "{text}");
        }
    }

    #[test]
    fn format_then_parse_round_trips() {
        // A small deterministic generator covering magnitudes from 1 ns to years.
        let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
        for i in 0..20_000u32 {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            let nanos = (state >> 11) >> (i % 53);
            let d = Duration::from_nanos(nanos);
            let text = format_duration(d);
            assert_eq!(parse_duration(&text), Ok(d), "{d:?} -> {text}");
        }
        for d in [Duration::MAX, Duration::new(u64::MAX, 0)] {
            assert_eq!(parse_duration(&format_duration(d)), Ok(d));
        }
    }

    #[test]
    fn parse_then_format_is_canonical() {
        for text in [
            "250ms", "30s", "5m", "2h", "1d", "1.5s", "90s", "0s", "12.5ms",
        ] {
            let d = parse_duration(text).expect("valid");
            assert_eq!(format_duration(d), text);
        }
        assert_eq!(format_duration(parse_duration("60s").expect("valid")), "1m");
        assert_eq!(
            format_duration(parse_duration("0.25s").expect("valid")),
            "250ms"
        );
    }
}
