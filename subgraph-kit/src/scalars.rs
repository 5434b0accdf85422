//! The `DateTime` scalar of the public contract: RFC 3339 in UTC, written with
//! a `Z` and microseconds (`2025-11-15T18:20:31.123456Z`), as the original API did.

use async_graphql::{InputValueError, InputValueResult, Scalar, ScalarType, Value};
use chrono::{NaiveDateTime, Utc};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct DateTime(pub chrono::DateTime<Utc>);

impl DateTime {
    pub fn now() -> Self {
        // Stored with microsecond precision on both stores, so keep no more than that.
        let now = Utc::now();
        Self(now - chrono::Duration::nanoseconds(i64::from(now.timestamp_subsec_nanos() % 1000)))
    }

    pub fn to_rfc3339(&self) -> String {
        common::timestamps::rfc3339(&self.0)
    }

    /// Accepts RFC 3339 with any offset (converted to UTC) and, as the original
    /// did, a date-time without offset, taken as UTC.
    pub fn parse(text: &str) -> Option<Self> {
        if let Ok(dt) = chrono::DateTime::parse_from_rfc3339(text) {
            return Some(Self(dt.with_timezone(&Utc)));
        }
        [
            "%Y-%m-%dT%H:%M:%S%.f",
            "%Y-%m-%dT%H:%M:%S",
            "%Y-%m-%d %H:%M:%S%.f",
            "%Y-%m-%dT%H:%M",
        ]
        .iter()
        .find_map(|format| NaiveDateTime::parse_from_str(text, format).ok())
        .map(|naive| Self(naive.and_utc()))
    }
}

impl From<chrono::DateTime<Utc>> for DateTime {
    fn from(value: chrono::DateTime<Utc>) -> Self {
        Self(value)
    }
}

#[Scalar(name = "DateTime")]
impl ScalarType for DateTime {
    fn parse(value: Value) -> InputValueResult<Self> {
        match &value {
            Value::String(text) => DateTime::parse(text).ok_or_else(|| {
                InputValueError::custom(format!("{text:?} is not an RFC 3339 date-time"))
            }),
            _ => Err(InputValueError::expected_type(value)),
        }
    }

    fn to_value(&self) -> Value {
        Value::String(self.to_rfc3339())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_z_and_microseconds() {
        let dt = DateTime::parse("2025-11-15T20:20:31.123456789+02:00").expect("parses");
        assert_eq!(dt.to_rfc3339(), "2025-11-15T18:20:31.123456Z");
    }

    #[test]
    fn naive_is_utc_and_garbage_is_refused() {
        let dt = DateTime::parse("2025-11-15T18:20:31").expect("parses");
        assert_eq!(dt.to_rfc3339(), "2025-11-15T18:20:31.000000Z");
        assert!(DateTime::parse("tomorrow").is_none());
    }
}
