//! Field validation the way pydantic v2 (behind FastAPI) does it, so that the
//! 422 bodies clients see are the ones the original API produced: same error
//! types, messages, `input` and `ctx`.

use common::rules::{CharRange, IntRange};
use serde_json::{Map, Value, json};

use crate::error::{Issue, loc};

/// A JSON object field: absent, explicitly `null`, or given.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Field<'a> {
    Absent,
    Null,
    Given(&'a Value),
}

/// Reads the fields of one request body object, collecting every problem
/// before answering (pydantic reports all fields at once, in declaration order).
pub struct ObjectReader<'a> {
    object: &'a Map<String, Value>,
    whole: &'a Value,
    pub issues: Vec<Issue>,
}

impl<'a> ObjectReader<'a> {
    /// `None` when `body` is not an object: the issue is then the whole answer.
    pub fn new(body: &'a Value) -> Result<Self, Issue> {
        match body {
            Value::Object(object) => Ok(Self {
                object,
                whole: body,
                issues: Vec::new(),
            }),
            Value::Null => Err(Issue::new(
                "missing",
                vec![json!("body")],
                "Field required",
                Value::Null,
            )),
            other => Err(model_attributes_type(other.clone())),
        }
    }

    pub fn field(&self, name: &str) -> Field<'a> {
        match self.object.get(name) {
            None => Field::Absent,
            Some(Value::Null) => Field::Null,
            Some(value) => Field::Given(value),
        }
    }

    /// A field that must be present (pydantic's `missing` carries the whole object as input).
    pub fn required<T>(
        &mut self,
        name: &str,
        check: impl FnOnce(&Value, &str) -> Result<T, Issue>,
    ) -> Option<T> {
        match self.object.get(name) {
            None => {
                self.issues.push(Issue::new(
                    "missing",
                    loc("body", name),
                    "Field required",
                    self.whole.clone(),
                ));
                None
            }
            Some(value) => self.record(check(value, name)),
        }
    }

    /// An optional field whose explicit `null` is refused by `check` like any other bad value.
    pub fn optional<T>(
        &mut self,
        name: &str,
        check: impl FnOnce(&Value, &str) -> Result<T, Issue>,
    ) -> Option<T> {
        let value = self.object.get(name)?;
        self.record(check(value, name))
    }

    /// An optional, nullable field: absent → `None`, `null` → `Some(None)`.
    pub fn nullable<T>(
        &mut self,
        name: &str,
        check: impl FnOnce(&Value, &str) -> Result<T, Issue>,
    ) -> Option<Option<T>> {
        match self.field(name) {
            Field::Absent => None,
            Field::Null => Some(None),
            Field::Given(value) => self.record(check(value, name)).map(Some),
        }
    }

    fn record<T>(&mut self, result: Result<T, Issue>) -> Option<T> {
        result.map_err(|issue| self.issues.push(issue)).ok()
    }

    /// The collected issues as an error, if there are any.
    pub fn finish(self) -> Result<(), Vec<Issue>> {
        if self.issues.is_empty() {
            Ok(())
        } else {
            Err(self.issues)
        }
    }
}

/// The body was not an object (FastAPI validates with `from_attributes`).
pub fn model_attributes_type(input: Value) -> Issue {
    Issue::new(
        "model_attributes_type",
        vec![json!("body")],
        "Input should be a valid dictionary or object to extract fields from",
        input,
    )
}

/// A bound pydantic checks on a string's length or a number.
#[derive(Debug, Clone, Copy)]
enum Bound {
    MinLength,
    MaxLength,
    Min,
    Max,
}

impl Bound {
    /// pydantic's error type.
    fn kind(self) -> &'static str {
        match self {
            Self::MinLength => "string_too_short",
            Self::MaxLength => "string_too_long",
            Self::Min => "greater_than_equal",
            Self::Max => "less_than_equal",
        }
    }

    /// The `ctx` key the bound is reported under.
    fn ctx_key(self) -> &'static str {
        match self {
            Self::MinLength => "min_length",
            Self::MaxLength => "max_length",
            Self::Min => "ge",
            Self::Max => "le",
        }
    }

    /// The message up to the bound.
    fn says(self) -> &'static str {
        match self {
            Self::MinLength => "String should have at least",
            Self::MaxLength => "String should have at most",
            Self::Min => "Input should be greater than or equal to",
            Self::Max => "Input should be less than or equal to",
        }
    }

    /// pydantic's issue for `input` at `loc`, past `bound`.
    fn refused(self, loc: Vec<Value>, bound: i64, input: Value) -> Issue {
        let says = self.says();
        let message = match self {
            Self::MinLength | Self::MaxLength if bound == 1 => format!("{says} 1 character"),
            Self::MinLength | Self::MaxLength => format!("{says} {bound} characters"),
            Self::Min | Self::Max => format!("{says} {bound}"),
        };
        let ctx = serde_json::Map::from_iter([(self.ctx_key().to_owned(), Value::from(bound))]);
        Issue::new(self.kind(), loc, message, input).with_ctx(Value::Object(ctx))
    }
}

/// pydantic's `string_type`: a body field that should have been a string.
fn string_type(name: &str, value: &Value) -> Issue {
    Issue::new(
        "string_type",
        loc("body", name),
        "Input should be a valid string",
        value.clone(),
    )
}

/// A length as a bound (a string's length always fits).
fn length_bound(length: usize) -> i64 {
    i64::try_from(length).unwrap_or(i64::MAX)
}

/// A JSON string of `min..=max` characters (counted as pydantic counts them: code points).
pub fn string(value: &Value, name: &str, min: usize, max: Option<usize>) -> Result<String, Issue> {
    let Value::String(text) = value else {
        return Err(string_type(name, value));
    };
    let length = text.chars().count();
    if length < min {
        return Err(Bound::MinLength.refused(loc("body", name), length_bound(min), value.clone()));
    }
    if let Some(max) = max.filter(|max| length > *max) {
        return Err(Bound::MaxLength.refused(loc("body", name), length_bound(max), value.clone()));
    }
    if text.contains('\0') {
        // PostgreSQL text cannot hold NUL; refuse it here rather than fail deeper.
        let reason = "text must not contain NUL (\\u0000) characters";
        return Err(Issue::new(
            "value_error",
            loc("body", name),
            format!("Value error, {reason}"),
            value.clone(),
        )
        .with_ctx(json!({"error": reason})));
    }
    Ok(text.clone())
}

/// A JSON string within one of the contract's length rules (`common::rules`).
pub fn bounded(value: &Value, name: &str, range: CharRange) -> Result<String, Issue> {
    string(value, name, range.min, Some(range.max))
}

/// The values of one of the API's enums, lower-case as the REST API writes them.
pub struct EnumSpec {
    pub values: &'static [&'static str],
}

pub const TASK_STATUS: EnumSpec = EnumSpec {
    values: &["todo", "in_progress", "done"],
};
pub const TASK_PRIORITY: EnumSpec = EnumSpec {
    values: &["low", "medium", "high"],
};

impl EnumSpec {
    /// pydantic's wording of the allowed values: `'a', 'b' or 'c'`.
    fn expected(&self) -> String {
        let quoted: Vec<String> = self
            .values
            .iter()
            .map(|value| format!("'{value}'"))
            .collect();
        match quoted.split_last() {
            Some((last, rest)) if !rest.is_empty() => format!("{} or {last}", rest.join(", ")),
            _ => quoted.join(""),
        }
    }

    /// A body field: anything but a string is pydantic 2.5's `string_type` (a
    /// `str` enum checks the type first); a string matches in any letter case
    /// (the contract) and answers the lower-case value; else `enum`.
    pub fn parse_body(&self, value: &Value, name: &str) -> Result<&'static str, Issue> {
        let Value::String(text) = value else {
            return Err(string_type(name, value));
        };
        let lower = text.to_lowercase();
        self.find(&lower)
            .ok_or_else(|| self.refusal("body", name, value))
    }

    /// A query parameter: exact values only, as the original's `Optional[TaskStatus]`
    /// query parameters took them (`?status=DONE` is a 422 there too).
    pub fn parse_query(&self, raw: &str, name: &str) -> Result<&'static str, Issue> {
        self.find(raw)
            .ok_or_else(|| self.refusal("query", name, &json!(raw)))
    }

    fn find(&self, text: &str) -> Option<&'static str> {
        self.values.iter().find(|known| **known == text).copied()
    }

    /// pydantic 2.5 checked enums in Python and raised a custom error: no `url`.
    fn refusal(&self, place: &str, name: &str, value: &Value) -> Issue {
        let expected = self.expected();
        Issue::custom(
            "enum",
            loc(place, name),
            format!("Input should be {expected}"),
            value.clone(),
        )
        .with_ctx(json!({"expected": expected}))
    }
}

/// The GraphQL spelling of a REST enum value: `in_progress` → `IN_PROGRESS`.
pub fn graphql_enum(value: &str) -> String {
    value.to_uppercase()
}

/// pydantic's lax boolean: true/false, 0/1, and the usual words.
pub fn boolean(value: &Value, name: &str) -> Result<bool, Issue> {
    let parsing_error = || {
        Issue::new(
            "bool_parsing",
            loc("body", name),
            "Input should be a valid boolean, unable to interpret input",
            value.clone(),
        )
    };
    match value {
        Value::Bool(flag) => Ok(*flag),
        Value::Number(number) => match number.as_f64() {
            Some(0.0) => Ok(false),
            Some(1.0) => Ok(true),
            _ => Err(parsing_error()),
        },
        Value::String(text) => match text.to_lowercase().as_str() {
            "true" | "t" | "yes" | "y" | "on" | "1" => Ok(true),
            "false" | "f" | "no" | "n" | "off" | "0" => Ok(false),
            _ => Err(parsing_error()),
        },
        _ => Err(Issue::new(
            "bool_type",
            loc("body", name),
            "Input should be a valid boolean",
            value.clone(),
        )),
    }
}

/// A date-time by pydantic 2.5's rules (speedate): RFC 3339 with `T`, `t`, `_`
/// or a space between date and time, seconds and offset optional (naive is
/// taken as UTC), or a Unix timestamp as a number or a numeric string (seconds,
/// or milliseconds beyond 2×10¹⁰). A bare date is refused, as the original did.
/// Answers the `...Z` form the GraphQL scalar takes.
pub fn datetime(value: &Value, name: &str) -> Result<String, Issue> {
    let parsing_error = |reason: &str| {
        Issue::new(
            "datetime_parsing",
            loc("body", name),
            format!("Input should be a valid datetime, {reason}"),
            value.clone(),
        )
        .with_ctx(json!({"error": reason}))
    };
    match value {
        Value::String(text) => match speedate::parse_rfc3339(text.as_bytes()) {
            Ok(moment) => Ok(common::timestamps::rfc3339(&moment)),
            Err(reason) => match speedate::parse_number(text) {
                Some(number) => speedate::from_numeric_text(number)
                    .map(|moment| common::timestamps::rfc3339(&moment))
                    .map_err(parsing_error),
                None => Err(parsing_error(reason)),
            },
        },
        Value::Number(number) => speedate::from_json_number(number)
            .map(|moment| common::timestamps::rfc3339(&moment))
            .map_err(parsing_error),
        _ => Err(Issue::new(
            "datetime_type",
            loc("body", name),
            "Input should be a valid datetime",
            value.clone(),
        )),
    }
}

/// The parts of speedate 0.13 (pydantic-core 2.14, behind pydantic 2.5) that
/// read a date-time, with its error wording.
mod speedate {
    use chrono::{DateTime, NaiveDate, TimeZone, Utc};

    type Reason = &'static str;

    /// Timestamps whose magnitude is above this are milliseconds.
    const MS_WATERSHED: i64 = 20_000_000_000;
    const MIN_SECONDS: i64 = -11_676_096_000;
    const MAX_SECONDS: i64 = 253_402_300_799;
    const MICROS_PER_SECOND: u32 = 1_000_000;
    const AFTER_9999: Reason = "dates after 9999 are not supported as unix timestamps";
    const BEFORE_1600: Reason = "dates before 1600 are not supported as unix timestamps";

    fn digits(bytes: &[u8], at: usize, count: usize, bad: Reason) -> Result<u32, Reason> {
        let mut value = 0;
        for index in at..at + count {
            match bytes.get(index) {
                Some(b) if b.is_ascii_digit() => value = value * 10 + u32::from(b - b'0'),
                Some(_) => return Err(bad),
                None => return Err("input is too short"),
            }
        }
        Ok(value)
    }

    /// `YYYY-MM-DD[Tt_ ]HH:MM[:SS[.ffffff]][Z|±HH[:]MM]`.
    pub fn parse_rfc3339(bytes: &[u8]) -> Result<DateTime<Utc>, Reason> {
        if bytes.len() < 10 {
            return Err("input is too short");
        }
        let year = digits(bytes, 0, 4, "invalid character in year")?;
        if bytes[4] != b'-' {
            return Err("invalid date separator, expected `-`");
        }
        let month = digits(bytes, 5, 2, "invalid character in month")?;
        if bytes[7] != b'-' {
            return Err("invalid date separator, expected `-`");
        }
        let day = digits(bytes, 8, 2, "invalid character in day")?;
        if !(1..=12).contains(&month) {
            return Err("month value is outside expected range of 1-12");
        }
        let date = NaiveDate::from_ymd_opt(year as i32, month, day)
            .ok_or("day value is outside expected range")?;
        if !matches!(bytes.get(10), Some(b'T' | b't' | b'_' | b' ')) {
            return Err("invalid datetime separator, expected `T`, `t`, `_` or space");
        }
        if bytes.len() < 16 {
            return Err("input is too short");
        }
        let hour = digits(bytes, 11, 2, "invalid character in hour")?;
        if hour > 23 {
            return Err("hour value is outside expected range of 0-23");
        }
        if bytes[13] != b':' {
            return Err("invalid time separator, expected `:`");
        }
        let minute = digits(bytes, 14, 2, "invalid character in minute")?;
        if minute > 59 {
            return Err("minute value is outside expected range of 0-59");
        }
        let mut at = 16;
        let mut second = 0;
        let mut micros = 0;
        if bytes.get(at) == Some(&b':') {
            second = digits(bytes, at + 1, 2, "invalid character in second")?;
            if second > 59 {
                return Err("second value is outside expected range of 0-59");
            }
            at += 3;
            if matches!(bytes.get(at), Some(b'.' | b',')) {
                at += 1;
                let start = at;
                while bytes.get(at).is_some_and(u8::is_ascii_digit) {
                    if at - start < 6 {
                        micros = micros * 10 + u32::from(bytes[at] - b'0');
                    }
                    at += 1;
                }
                if at == start {
                    return Err("second fraction value is missing");
                }
                for _ in (at - start)..6 {
                    micros *= 10;
                }
            }
        }
        let mut offset_seconds: i32 = 0;
        match bytes.get(at) {
            None => {}
            Some(b'Z' | b'z') => at += 1,
            Some(sign @ (b'+' | b'-')) => {
                let hours = digits(bytes, at + 1, 2, "invalid timezone hour")?;
                at += 3;
                if bytes.get(at) == Some(&b':') {
                    at += 1;
                }
                let minutes = digits(bytes, at, 2, "invalid timezone minute")?;
                at += 2;
                if hours >= 24 || minutes >= 60 {
                    return Err("timezone offset must be less than 24 hours");
                }
                let total = (hours * 3600 + minutes * 60) as i32;
                offset_seconds = if *sign == b'-' { -total } else { total };
            }
            Some(_) => return Err("invalid timezone sign"),
        }
        if at != bytes.len() {
            return Err("unexpected extra characters at the end of the input");
        }
        let naive = date
            .and_hms_micro_opt(hour, minute, second, micros)
            .ok_or("second value is outside expected range of 0-59")?;
        let offset = chrono::FixedOffset::east_opt(offset_seconds)
            .ok_or("timezone offset must be less than 24 hours")?;
        offset
            .from_local_datetime(&naive)
            .single()
            .map(|moment| moment.with_timezone(&Utc))
            .ok_or("input is too short")
    }

    /// A numeric string speedate reads as a timestamp: `-?digits(.digits)?`.
    pub fn parse_number(text: &str) -> Option<f64> {
        let unsigned = text.strip_prefix('-').unwrap_or(text);
        let (whole, fraction) = unsigned.split_once('.').unwrap_or((unsigned, ""));
        let numeric = !whole.is_empty()
            && whole.bytes().all(|b| b.is_ascii_digit())
            && fraction.bytes().all(|b| b.is_ascii_digit());
        if numeric { text.parse().ok() } else { None }
    }

    /// A JSON number, as pydantic-core 2.14 reads one: an integer as is; a
    /// float as its floor plus its fraction's magnitude rounded to microseconds
    /// (`float_as_datetime`: so `-1.25` is `-2 + 0.25`, the original's answer).
    pub fn from_json_number(number: &serde_json::Number) -> Result<DateTime<Utc>, Reason> {
        if let Some(whole) = number.as_i64() {
            return from_timestamp(whole, 0);
        }
        let number = number.as_f64().ok_or(AFTER_9999)?;
        // `as` saturates: a float beyond i64 stays beyond the bounds checked below.
        let micros = (number.fract().abs() * 1e6).round() as u32;
        from_timestamp(number.floor() as i64, micros)
    }

    /// A numeric string, as speedate reads one: its floor plus its fraction
    /// rounded to microseconds, a negative fraction counting as none (speedate
    /// casts it to an unsigned number, which `as` does here too: `-1.25` is `-2`).
    pub fn from_numeric_text(number: f64) -> Result<DateTime<Utc>, Reason> {
        let micros = (number.fract() * 1e6).round() as u32;
        from_timestamp(number.floor() as i64, micros)
    }

    /// speedate's `DateTime::from_timestamp`: whole seconds, or milliseconds
    /// when too large for seconds, plus `micros`, which may round up to a whole
    /// second and then carry into the seconds (never a 60th second); the result
    /// must fall within the years 1600–9999.
    fn from_timestamp(whole: i64, micros: u32) -> Result<DateTime<Utc>, Reason> {
        let (seconds, milli_micros) = if whole.checked_abs().ok_or(BEFORE_1600)? <= MS_WATERSHED {
            (whole, 0)
        } else {
            (
                whole.div_euclid(1000),
                (whole.rem_euclid(1000) * 1000) as u32,
            )
        };
        // Both parts are below 1_000_001 each: no overflow.
        let micros = micros + milli_micros;
        let seconds = seconds
            .checked_add(i64::from(micros / MICROS_PER_SECOND))
            .ok_or(AFTER_9999)?;
        let micros = micros % MICROS_PER_SECOND;
        if seconds > MAX_SECONDS {
            return Err(AFTER_9999);
        }
        if seconds < MIN_SECONDS {
            return Err(BEFORE_1600);
        }
        DateTime::from_timestamp(seconds, micros * 1000).ok_or(AFTER_9999)
    }
}

/// An e-mail address as pydantic's `EmailStr` takes it (`common::email`, the
/// rule the users subgraph applies too): the normalised address, or pydantic's
/// custom `value_error` quoting email-validator's reason.
pub fn email(value: &Value, name: &str) -> Result<String, Issue> {
    let text = string(value, name, 0, None)?;
    common::email::normalize(&text).map_err(|reason| {
        Issue::custom(
            "value_error",
            loc("body", name),
            common::email::refusal(&reason),
            value.clone(),
        )
        .with_ctx(json!({"reason": reason}))
    })
}

/// An integer query parameter within one of the contract's rules (`common::rules`),
/// as FastAPI's `Query(ge=.., le=..)` refused it.
pub fn query_int(raw: &str, name: &str, range: IntRange) -> Result<i64, Issue> {
    let IntRange { min, max, .. } = range;
    let input = json!(raw);
    // No trimming: pydantic 2.5 refuses `" 5"` (`?limit=%205`).
    let trimmed = raw;
    let digits = trimmed.strip_prefix(['+', '-']).unwrap_or(trimmed);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(Issue::new(
            "int_parsing",
            loc("query", name),
            "Input should be a valid integer, unable to parse string as an integer",
            input,
        ));
    }
    let negative = trimmed.starts_with('-');
    // Beyond i64 is still an integer to pydantic: only the bound it breaks differs.
    let value = trimmed
        .parse::<i64>()
        .unwrap_or(if negative { i64::MIN } else { i64::MAX });
    if value < min {
        return Err(Bound::Min.refused(loc("query", name), min, input));
    }
    if let Some(max) = max.filter(|max| value > *max) {
        return Err(Bound::Max.refused(loc("query", name), max, input));
    }
    Ok(value)
}

/// A task id from the path: any integer (a missing one is simply not found).
pub fn task_id(raw: &str) -> Result<i64, Issue> {
    // No trimming: `/tasks/%201` is a 422 in the original.
    let trimmed = raw;
    let digits = trimmed.strip_prefix(['+', '-']).unwrap_or(trimmed);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(Issue::new(
            "int_parsing",
            loc("path", "task_id"),
            "Input should be a valid integer, unable to parse string as an integer",
            json!(raw),
        ));
    }
    // Too large for any id: certainly no such task, which the caller reports as 404.
    Ok(trimmed.parse::<i64>().unwrap_or(i64::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;
    use common::rules::{PAGE_LIMIT, PAGE_SKIP};

    #[test]
    fn string_lengths_count_characters() {
        assert_eq!(
            string(&json!("żółw"), "title", 1, Some(4)),
            Ok("żółw".to_owned())
        );
        let issue = string(&json!(""), "title", 1, Some(255)).expect_err("too short");
        assert_eq!(issue.kind, "string_too_short");
        assert_eq!(issue.msg, "String should have at least 1 character");
        let issue = string(&json!("ab"), "username", 3, Some(100)).expect_err("too short");
        assert_eq!(issue.msg, "String should have at least 3 characters");
        let issue = string(&json!("x".repeat(256)), "title", 1, Some(255)).expect_err("too long");
        assert_eq!(issue.kind, "string_too_long");
        assert_eq!(issue.ctx.as_deref(), Some(&json!({"max_length": 255})));
        assert_eq!(
            string(&json!(5), "title", 1, None)
                .expect_err("number")
                .kind,
            "string_type"
        );
        assert_eq!(
            string(&json!("a\u{0}b"), "title", 1, None)
                .expect_err("nul")
                .kind,
            "value_error"
        );
    }

    #[test]
    fn enums_take_any_case_and_name_the_choices() {
        assert_eq!(
            TASK_STATUS.parse_body(&json!("In_Progress"), "status"),
            Ok("in_progress")
        );
        let issue = TASK_STATUS
            .parse_body(&json!("bogus"), "status")
            .expect_err("unknown");
        assert_eq!(issue.msg, "Input should be 'todo', 'in_progress' or 'done'");
        assert_eq!(
            issue.ctx.as_deref(),
            Some(&json!({"expected": "'todo', 'in_progress' or 'done'"}))
        );
        assert_eq!(
            TASK_PRIORITY
                .parse_body(&Value::Null, "priority")
                .expect_err("null")
                .kind,
            "string_type"
        );
    }

    #[test]
    fn booleans_are_lax_like_pydantic() {
        assert_eq!(boolean(&json!("yes"), "is_completed"), Ok(true));
        assert_eq!(boolean(&json!(0), "is_completed"), Ok(false));
        assert_eq!(
            boolean(&json!("maybe"), "is_completed")
                .expect_err("word")
                .kind,
            "bool_parsing"
        );
        assert_eq!(
            boolean(&json!(2), "is_completed").expect_err("two").kind,
            "bool_parsing"
        );
        assert_eq!(
            boolean(&Value::Null, "is_completed")
                .expect_err("null")
                .kind,
            "bool_type"
        );
    }

    /// Expected answers from pydantic 2.5.3 (`Optional[datetime]`).
    #[test]
    fn datetimes_follow_pydantic_2_5() {
        let ok = [
            (
                json!("2025-11-15T20:20:31+02:00"),
                "2025-11-15T18:20:31.000000Z",
            ),
            (json!("2030-01-01T10:00Z"), "2030-01-01T10:00:00.000000Z"),
            (json!("2030-01-01 10:00:00"), "2030-01-01T10:00:00.000000Z"),
            (
                json!("2030-01-01T10:00:00+0200"),
                "2030-01-01T08:00:00.000000Z",
            ),
            (
                json!("2030-01-01T10:00:00.1234567Z"),
                "2030-01-01T10:00:00.123456Z",
            ),
            (json!("1900000000"), "2030-03-17T17:46:40.000000Z"),
            (json!("-5"), "1969-12-31T23:59:55.000000Z"),
            (json!(0), "1970-01-01T00:00:00.000000Z"),
            (json!(1.5), "1970-01-01T00:00:01.500000Z"),
        ];
        for (input, expected) in ok {
            assert_eq!(
                datetime(&input, "due_date").as_deref(),
                Ok(expected),
                "{input}"
            );
        }
        let refused = [
            (
                json!("2030-01-01"),
                "invalid datetime separator, expected `T`, `t`, `_` or space",
            ),
            (json!("2030-01-01T10"), "input is too short"),
            (json!("1e3"), "input is too short"),
            (json!("someday"), "input is too short"),
            (
                json!("2030-13-01T00:00:00"),
                "month value is outside expected range of 1-12",
            ),
            (
                json!("2030-02-30T00:00:00"),
                "day value is outside expected range",
            ),
            (
                json!("2030-01-01T25:00:00"),
                "hour value is outside expected range of 0-23",
            ),
            (json!("2030/01/01"), "invalid date separator, expected `-`"),
            (json!("x030-01-01T00:00"), "invalid character in year"),
            (
                json!("2030-01-01T10:00:00Zjunk"),
                "unexpected extra characters at the end of the input",
            ),
            (json!("2030-01-01T10:00:00 "), "invalid timezone sign"),
            (
                json!(1e20),
                "dates after 9999 are not supported as unix timestamps",
            ),
            (
                json!(-1e20),
                "dates before 1600 are not supported as unix timestamps",
            ),
        ];
        for (input, reason) in refused {
            let issue = datetime(&input, "due_date").expect_err("refused");
            assert_eq!(issue.kind, "datetime_parsing", "{input}");
            assert_eq!(
                issue.ctx.as_deref(),
                Some(&json!({"error": reason})),
                "{input}"
            );
            assert_eq!(
                issue.msg,
                format!("Input should be a valid datetime, {reason}")
            );
        }
        assert_eq!(
            datetime(&json!(true), "due_date").expect_err("bool").kind,
            "datetime_type"
        );
    }

    /// Unix timestamps whose fraction rounds up to a whole second carry into
    /// the seconds; negative and millisecond timestamps keep pydantic 2.5's
    /// own arithmetic. Every expected answer was taken from pydantic 2.5.3
    /// (pydantic-core 2.14.6), `TypeAdapter(Optional[datetime]).validate_json`.
    #[test]
    fn timestamps_round_to_microseconds_and_carry_like_pydantic_2_5() {
        let ok = [
            (json!(1.9999999), "1970-01-01T00:00:02.000000Z"),
            (json!("1.9999999"), "1970-01-01T00:00:02.000000Z"),
            (json!(59.9999999), "1970-01-01T00:01:00.000000Z"),
            (json!("59.9999999"), "1970-01-01T00:01:00.000000Z"),
            (json!(86399.9999996), "1970-01-02T00:00:00.000000Z"),
            (json!(1.0000005), "1970-01-01T00:00:01.000001Z"),
            (json!("1.0000005"), "1970-01-01T00:00:01.000001Z"),
            (json!(1.0000004), "1970-01-01T00:00:01.000000Z"),
            // A JSON number: the floor, plus the fraction's magnitude.
            (json!(-0.0000001), "1969-12-31T23:59:59.000000Z"),
            (json!(-0.5), "1969-12-31T23:59:59.500000Z"),
            (json!(-1.25), "1969-12-31T23:59:58.250000Z"),
            // A numeric string: the floor; a negative fraction counts as none.
            (json!("-0.0000001"), "1969-12-31T23:59:59.000000Z"),
            (json!("-0.5"), "1969-12-31T23:59:59.000000Z"),
            (json!("-1.25"), "1969-12-31T23:59:58.000000Z"),
            (json!("12."), "1970-01-01T00:00:12.000000Z"),
            (json!("-0"), "1970-01-01T00:00:00.000000Z"),
            // Milliseconds beyond 2×10¹⁰; a fraction is still added as microseconds.
            (json!(253402300799_i64), "1978-01-11T21:31:40.799000Z"),
            (json!(100000000000.5), "1973-03-03T09:46:40.500000Z"),
            (json!("100000000000.5"), "1973-03-03T09:46:40.500000Z"),
            (json!(-20000000001_i64), "1969-05-14T12:26:39.999000Z"),
            (json!(253402300799999_i64), "9999-12-31T23:59:59.999000Z"),
            (json!(-11676096000_i64), "1600-01-01T00:00:00.000000Z"),
        ];
        for (input, expected) in ok {
            assert_eq!(
                datetime(&input, "due_date").as_deref(),
                Ok(expected),
                "{input}"
            );
        }
        let refused = [
            (
                json!(253402300800000_i64),
                "dates after 9999 are not supported as unix timestamps",
            ),
            (
                json!("253402300799999.9999"),
                "dates after 9999 are not supported as unix timestamps",
            ),
            (
                json!(-11676096000.5),
                "dates before 1600 are not supported as unix timestamps",
            ),
            (
                json!("-11676096000.5"),
                "dates before 1600 are not supported as unix timestamps",
            ),
            (json!(".5"), "input is too short"),
        ];
        for (input, reason) in refused {
            let issue = datetime(&input, "due_date").expect_err("refused");
            assert_eq!(
                issue.ctx.as_deref(),
                Some(&json!({"error": reason})),
                "{input}"
            );
        }
    }

    #[test]
    fn emails_need_an_at_sign_and_a_domain() {
        assert_eq!(
            email(&json!("ann@example.com"), "email"),
            Ok("ann@example.com".to_owned())
        );
        assert_eq!(
            email(&json!("Eve <e@EXAMPLE.com>"), "email"),
            Ok("e@example.com".to_owned())
        );
        let issue = email(&json!("not-an-email"), "email").expect_err("no @");
        assert_eq!(
            issue.msg,
            "value is not a valid email address: The email address is not valid. It must have exactly one @-sign."
        );
        assert_eq!(issue.url, None);
        assert!(email(&json!("ann@localhost"), "email").is_err());
        assert!(email(&json!("ann@"), "email").is_err());
    }

    #[test]
    fn query_ints_are_bounded() {
        assert_eq!(query_int("10", "limit", PAGE_LIMIT), Ok(10));
        assert_eq!(
            query_int("abc", "limit", PAGE_LIMIT)
                .expect_err("text")
                .kind,
            "int_parsing"
        );
        assert_eq!(
            query_int("0", "limit", PAGE_LIMIT).expect_err("zero").kind,
            "greater_than_equal"
        );
        assert_eq!(
            query_int("1001", "limit", PAGE_LIMIT)
                .expect_err("big")
                .kind,
            "less_than_equal"
        );
        assert_eq!(
            query_int("99999999999999999999", "skip", PAGE_SKIP),
            Ok(i64::MAX)
        );
        assert_eq!(task_id("12"), Ok(12));
        assert_eq!(
            task_id("abc").expect_err("text").loc,
            loc("path", "task_id")
        );
    }
}
