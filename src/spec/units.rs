//! Typed scalar units of the manifest contract: durations (`30s`, `5m`,
//! `30d`), percentages (`99.9`, `3%`) and rates (`20/s`).
//!
//! They parse from the strings users write, print back in the canonical form
//! the target tools expect (Prometheus durations, k6 rates), and describe
//! themselves to the JSON Schema so that the schema and the parser agree.

use std::borrow::Cow;
use std::fmt;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer};

/// A Prometheus-style duration such as `30s`, `5m`, `1h30m` or `30d`.
///
/// Stored in milliseconds; printed in the largest exact units, so `90m`
/// prints as `1h30m` exactly like Prometheus itself prints durations.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Duration {
    millis: u64,
}

/// Units from largest to smallest, as Prometheus' `model.Duration` knows them.
const DURATION_UNITS: [(&str, u64); 7] = [
    ("y", 365 * 24 * 3_600_000),
    ("w", 7 * 24 * 3_600_000),
    ("d", 24 * 3_600_000),
    ("h", 3_600_000),
    ("m", 60_000),
    ("s", 1_000),
    ("ms", 1),
];

/// The pattern every duration string matches, shared with the JSON Schema.
pub const DURATION_PATTERN: &str = "^([0-9]+(ms|s|m|h|d|w|y))+$";
/// The schema `format` of durations; validation checks it with [`Duration::parse`].
pub const DURATION_FORMAT: &str = "duration";
/// The schema `format` of rates; validation checks it with [`Rate::parse`].
pub const RATE_FORMAT: &str = "rate";

impl Duration {
    pub const fn from_millis(millis: u64) -> Self {
        Self { millis }
    }
    pub const fn from_secs(secs: u64) -> Self {
        Self {
            millis: secs * 1_000,
        }
    }
    pub const fn from_mins(mins: u64) -> Self {
        Self::from_secs(mins * 60)
    }
    pub const fn from_hours(hours: u64) -> Self {
        Self::from_mins(hours * 60)
    }
    pub const fn from_days(days: u64) -> Self {
        Self::from_hours(days * 24)
    }
    pub const fn as_millis(self) -> u64 {
        self.millis
    }
    pub fn as_secs_f64(self) -> f64 {
        self.millis as f64 / 1000.0
    }

    /// Parses `1h30m`-style durations; units must appear largest first, as
    /// Prometheus requires.
    pub fn parse(text: &str) -> Result<Self, String> {
        let text = text.trim();
        if text.is_empty() {
            return Err("an empty duration".into());
        }
        if text.contains(char::is_whitespace) {
            return Err(format!(
                "`{text}` has a space in it; write `{}`",
                text.split_whitespace().collect::<String>()
            ));
        }
        if text == "0" {
            return Ok(Self { millis: 0 });
        }
        let bytes = text.as_bytes();
        let mut total: u64 = 0;
        if let Some(problem) = fraction_problem(text) {
            return Err(problem);
        }
        let mut pos = 0;
        let mut last_unit = usize::MAX;
        while pos < bytes.len() {
            let start = pos;
            while bytes.get(pos).is_some_and(u8::is_ascii_digit) {
                pos += 1;
            }
            if start == pos {
                return Err(format!("`{text}` is not a duration"));
            }
            let number: u64 = text[start..pos]
                .parse()
                .map_err(|_| format!("`{text}` is too large a duration"))?;
            let unit_start = pos;
            while bytes.get(pos).is_some_and(u8::is_ascii_alphabetic) {
                pos += 1;
            }
            let unit = &text[unit_start..pos];
            let Some((index, (_, unit_millis))) = DURATION_UNITS
                .iter()
                .enumerate()
                .find(|(_, (name, _))| *name == unit)
            else {
                return Err(if unit.is_empty() {
                    format!("`{text}` lacks a unit (ms, s, m, h, d, w or y)")
                } else {
                    format!("`{unit}` in `{text}` is not a duration unit (ms, s, m, h, d, w or y)")
                });
            };
            if last_unit != usize::MAX && index <= last_unit {
                return Err(format!(
                    "units in `{text}` must go from largest to smallest"
                ));
            }
            last_unit = index;
            total = number
                .checked_mul(*unit_millis)
                .and_then(|part| total.checked_add(part))
                .ok_or_else(|| format!("`{text}` is too large a duration"))?;
        }
        Ok(Self { millis: total })
    }
}

/// `0.3s`, `1.5h`: durations are whole numbers of a unit. Says so, with the
/// same duration written the way obsgen reads it (`300ms`, `1h30m`).
fn fraction_problem(text: &str) -> Option<String> {
    let (number, unit) = text.split_at(text.find(|c: char| c.is_ascii_alphabetic())?);
    if !number.contains('.') {
        return None;
    }
    let value: f64 = number.parse().ok()?;
    let (_, unit_millis) = DURATION_UNITS.iter().find(|(name, _)| *name == unit)?;
    let millis = value * *unit_millis as f64;
    let written = if millis.fract() == 0.0 && millis >= 0.0 {
        format!(": write `{}`", Duration::from_millis(millis as u64))
    } else {
        String::new()
    };
    Some(format!(
        "`{text}` has a fraction; a duration is whole numbers of a unit, largest first, such as `300ms` or `1h30m`{written}"
    ))
}

/// Bytes of the longest displayed duration: `u64::MAX` milliseconds is
/// 213503982334d 14h 25m 51s 615ms before the units' letters.
const DISPLAY_CAPACITY: usize = 40;

/// Appends `value` in decimal at `at` in `text`; returns the new length.
fn push_decimal(text: &mut [u8; DISPLAY_CAPACITY], at: usize, value: u64) -> usize {
    let mut digits = [0u8; 20];
    let mut count = 0;
    let mut value = value;
    loop {
        if let Some(slot) = digits.get_mut(count) {
            *slot = b'0' + (value % 10) as u8;
            count += 1;
        }
        value /= 10;
        if value == 0 {
            break;
        }
    }
    let mut length = at;
    for digit in digits.iter().take(count).rev() {
        if let Some(slot) = text.get_mut(length) {
            *slot = *digit;
            length += 1;
        }
    }
    length
}

impl fmt::Display for Duration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.millis == 0 {
            return f.write_str("0s");
        }
        // Written into one buffer and handed over at once: durations are
        // printed into every window of every rule, and the formatting
        // machinery per part cost more than the digits.
        let mut text = [0u8; DISPLAY_CAPACITY];
        let mut length = 0;
        let mut rest = self.millis;
        // Weeks and years are not used on output: `30d` reads better than `4w2d`.
        for (unit, size) in DURATION_UNITS
            .iter()
            .filter(|(u, _)| *u != "w" && *u != "y")
        {
            if rest >= *size {
                length = push_decimal(&mut text, length, rest / size);
                for byte in unit.bytes() {
                    if let Some(slot) = text.get_mut(length) {
                        *slot = byte;
                        length += 1;
                    }
                }
                rest %= size;
            }
        }
        f.write_str(std::str::from_utf8(text.get(..length).unwrap_or_default()).unwrap_or_default())
    }
}

impl Serialize for Duration {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Duration {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Duration::parse(&text).map_err(de::Error::custom)
    }
}

impl JsonSchema for Duration {
    fn schema_name() -> Cow<'static, str> {
        "Duration".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "A duration such as `30s`, `5m`, `1h30m` or `30d` (units ms, s, m, h, d, w, y; largest first).",
            "type": "string",
            "pattern": DURATION_PATTERN,
            "format": DURATION_FORMAT,
        })
    }
}

/// A percentage, written `99.9`, `"99.9%"` or `"3%"`.
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd)]
pub struct Percent(f64);

/// The pattern of a percentage written as a string, shared with the schema.
pub const PERCENT_PATTERN: &str = r"^[0-9]+(\.[0-9]+)?\s*%$";

impl Percent {
    pub const fn new(value: f64) -> Self {
        Self(value)
    }
    /// The value in percent, e.g. `99.9`.
    pub fn percent(self) -> f64 {
        self.0
    }
    /// The value as a ratio, e.g. `0.999`.
    pub fn ratio(self) -> f64 {
        self.0 / 100.0
    }
    pub fn parse(text: &str) -> Result<Self, String> {
        let number = text.trim().trim_end_matches('%').trim();
        number
            .parse::<f64>()
            .ok()
            .filter(|value| value.is_finite())
            .map(Self)
            .ok_or_else(|| format!("`{text}` is not a percentage such as `99.9` or `3%`"))
    }
}

impl fmt::Display for Percent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}%", crate::spec::units::format_number(self.0))
    }
}

impl Serialize for Percent {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_f64(self.0)
    }
}

impl<'de> Deserialize<'de> for Percent {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct PercentVisitor;
        impl Visitor<'_> for PercentVisitor {
            type Value = Percent;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a percentage such as `99.9` or `3%`")
            }
            fn visit_f64<E: de::Error>(self, value: f64) -> Result<Percent, E> {
                Ok(Percent(value))
            }
            fn visit_u64<E: de::Error>(self, value: u64) -> Result<Percent, E> {
                Ok(Percent(value as f64))
            }
            fn visit_i64<E: de::Error>(self, value: i64) -> Result<Percent, E> {
                Ok(Percent(value as f64))
            }
            fn visit_str<E: de::Error>(self, value: &str) -> Result<Percent, E> {
                Percent::parse(value).map_err(E::custom)
            }
        }
        deserializer.deserialize_any(PercentVisitor)
    }
}

impl JsonSchema for Percent {
    fn schema_name() -> Cow<'static, str> {
        "Percent".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "A percentage: a number such as `99.9`, or a string such as `\"3%\"`.",
            "anyOf": [
                {"type": "number"},
                {"type": "string", "pattern": PERCENT_PATTERN}
            ]
        })
    }
}

/// A request rate such as `20/s` or `600/m`, for load tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rate {
    pub count: u64,
    pub per: Duration,
}

pub const RATE_PATTERN: &str = "^[0-9]+/([0-9]*)(ms|s|m|h)$";

impl Rate {
    pub fn parse(text: &str) -> Result<Self, String> {
        let invalid = || format!("`{text}` is not a rate such as `20/s` or `600/m`");
        let (count, per) = text.trim().split_once('/').ok_or_else(invalid)?;
        let count: u64 = count.trim().parse().map_err(|_| invalid())?;
        let per = per.trim();
        // `20/s` means "per one second": a bare unit gets an implicit 1.
        let per = if per.starts_with(|c: char| c.is_ascii_digit()) {
            Duration::parse(per)
        } else {
            Duration::parse(&format!("1{per}"))
        }
        .map_err(|_| invalid())?;
        if per.as_millis() == 0 {
            return Err(invalid());
        }
        Ok(Self { count, per })
    }
    pub fn per_second(self) -> f64 {
        self.count as f64 * 1000.0 / self.per.as_millis() as f64
    }
}

impl fmt::Display for Rate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.count, self.per)
    }
}

impl Serialize for Rate {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Rate {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Rate::parse(&text).map_err(de::Error::custom)
    }
}

impl JsonSchema for Rate {
    fn schema_name() -> Cow<'static, str> {
        "Rate".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "A rate such as `20/s`, `600/m` or `5/10s`.",
            "type": "string",
            "pattern": RATE_PATTERN,
            "format": RATE_FORMAT,
        })
    }
}

/// Formats a number the shortest exact way: `99.9`, `3`, `0.001`.
///
/// Rust's `Display` for `f64` already prints the shortest representation
/// that round-trips, without exponent, which is what PromQL, YAML and
/// humans all read well.
pub fn format_number(value: f64) -> String {
    if value == value.trunc() && value.abs() < 1e15 {
        (value as i64).to_string()
    } else {
        value.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fractions_say_the_whole_form() {
        let problem = Duration::parse("0.3s").unwrap_err();
        assert!(
            problem.contains("has a fraction") && problem.contains("write `300ms`"),
            "{problem}"
        );
        let problem = Duration::parse("1.5h").unwrap_err();
        assert!(problem.contains("write `1h30m`"), "{problem}");
        assert_eq!(
            Duration::parse("300ms").map(|d| d.to_string()),
            Ok("300ms".to_string())
        );
    }

    #[test]
    fn durations_parse_and_print_canonically() {
        assert_eq!(Duration::parse("30s").unwrap(), Duration::from_secs(30));
        assert_eq!(Duration::parse("1h30m").unwrap(), Duration::from_mins(90));
        assert_eq!(Duration::parse("30d").unwrap().to_string(), "30d");
        assert_eq!(Duration::parse("90m").unwrap().to_string(), "1h30m");
        assert_eq!(Duration::parse("1w").unwrap().to_string(), "7d");
        assert_eq!(Duration::parse("250ms").unwrap().to_string(), "250ms");
        assert_eq!(Duration::parse("0").unwrap().to_string(), "0s");
    }

    #[test]
    fn every_size_of_duration_prints_whole() {
        // The reference: each unit's count, formatted on its own.
        let reference = |millis: u64| {
            let mut rest = millis;
            let mut text = String::new();
            for (unit, size) in [
                ("d", 86_400_000),
                ("h", 3_600_000),
                ("m", 60_000),
                ("s", 1_000),
                ("ms", 1),
            ] {
                if rest >= size {
                    text.push_str(&format!("{}{unit}", rest / size));
                    rest %= size;
                }
            }
            text
        };
        for millis in [
            1,
            9,
            10,
            999,
            1_000,
            61_001,
            86_400_000,
            90_061_001,
            1 << 40,
            u64::MAX - 1,
            u64::MAX,
        ] {
            assert_eq!(
                Duration::from_millis(millis).to_string(),
                reference(millis),
                "{millis}"
            );
        }
        assert_eq!(
            Duration::from_millis(u64::MAX).to_string(),
            "213503982334d14h25m51s615ms"
        );
    }

    #[test]
    fn durations_reject_nonsense() {
        for bad in [
            "",
            "5",
            "m5",
            "5x",
            "30m1h",
            "1.5h",
            "99999999999999999999s",
            "5 m",
        ] {
            assert!(Duration::parse(bad).is_err(), "{bad} should be rejected");
        }
    }

    #[test]
    fn percentages_accept_numbers_and_percent_strings() {
        assert_eq!(Percent::parse("3%").unwrap().ratio(), 0.03);
        assert_eq!(Percent::parse("99.9").unwrap().percent(), 99.9);
        assert!(Percent::parse("lots").is_err());
        let from_json: Percent = serde_json::from_value(serde_json::json!(99.5)).unwrap();
        assert_eq!(from_json.percent(), 99.5);
        assert_eq!(Percent::new(3.0).to_string(), "3%");
    }

    #[test]
    fn rates_know_their_unit() {
        assert_eq!(Rate::parse("20/s").unwrap().per_second(), 20.0);
        assert_eq!(Rate::parse("600/m").unwrap().per_second(), 10.0);
        assert_eq!(Rate::parse("5/10s").unwrap().to_string(), "5/10s");
        assert!(Rate::parse("20").is_err());
        assert!(Rate::parse("20/0s").is_err());
    }

    #[test]
    fn numbers_print_shortest() {
        assert_eq!(format_number(99.9), "99.9");
        assert_eq!(format_number(3.0), "3");
        assert_eq!(format_number(0.001), "0.001");
    }
}
