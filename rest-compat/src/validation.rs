//! Field validation the way pydantic v2 (behind FastAPI) does it, so that the
//! 422 bodies clients see are the ones the original API produced: same error
//! types, messages, `input` and `ctx`.

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

/// A JSON string of `min..=max` characters (counted as pydantic counts them: code points).
pub fn string(value: &Value, name: &str, min: usize, max: Option<usize>) -> Result<String, Issue> {
    let Value::String(text) = value else {
        return Err(Issue::new(
            "string_type",
            loc("body", name),
            "Input should be a valid string",
            value.clone(),
        ));
    };
    let length = text.chars().count();
    if length < min {
        let plural = if min == 1 { "" } else { "s" };
        return Err(Issue::new(
            "string_too_short",
            loc("body", name),
            format!("String should have at least {min} character{plural}"),
            value.clone(),
        )
        .with_ctx(json!({"min_length": min})));
    }
    if let Some(max) = max.filter(|max| length > *max) {
        let plural = if max == 1 { "" } else { "s" };
        return Err(Issue::new(
            "string_too_long",
            loc("body", name),
            format!("String should have at most {max} character{plural}"),
            value.clone(),
        )
        .with_ctx(json!({"max_length": max})));
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

    /// Accepts any letter case; answers the lower-case value.
    pub fn parse(&self, value: &Value, place: &str, name: &str) -> Result<&'static str, Issue> {
        let found = value
            .as_str()
            .map(str::to_lowercase)
            .and_then(|lower| self.values.iter().find(|known| **known == lower).copied());
        found.ok_or_else(|| {
            let expected = self.expected();
            Issue::new(
                "enum",
                loc(place, name),
                format!("Input should be {expected}"),
                value.clone(),
            )
            .with_ctx(json!({"expected": expected}))
        })
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

/// A date-time (RFC 3339, naive taken as UTC, a bare date as midnight, or a
/// Unix timestamp), normalised to the `...Z` form the GraphQL scalar takes.
pub fn datetime(value: &Value, name: &str) -> Result<String, Issue> {
    match value {
        Value::String(text) => parse_datetime_text(text).ok_or_else(|| {
            let reason = datetime_reason(text);
            Issue::new(
                "datetime_from_date_parsing",
                loc("body", name),
                format!("Input should be a valid datetime or date, {reason}"),
                value.clone(),
            )
            .with_ctx(json!({"error": reason}))
        }),
        Value::Number(number) => number.as_f64().and_then(from_unix_timestamp).ok_or_else(|| {
            Issue::new("datetime_parsing", loc("body", name), "Input should be a valid datetime, dates after 9999 are not supported as unix timestamps", value.clone())
                .with_ctx(json!({"error": "dates after 9999 are not supported as unix timestamps"}))
        }),
        _ => Err(Issue::new("datetime_type", loc("body", name), "Input should be a valid datetime", value.clone())),
    }
}

fn parse_datetime_text(text: &str) -> Option<String> {
    if let Some(parsed) = common::scalars::DateTime::parse(text) {
        return Some(parsed.to_rfc3339());
    }
    let date = chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d").ok()?;
    let midnight = date.and_hms_opt(0, 0, 0)?.and_utc();
    Some(common::scalars::DateTime(midnight).to_rfc3339())
}

/// pydantic takes numbers as seconds, or as milliseconds when too large for seconds.
fn from_unix_timestamp(number: f64) -> Option<String> {
    if !number.is_finite() {
        return None;
    }
    let seconds = if number.abs() > 2e10 {
        number / 1000.0
    } else {
        number
    };
    let whole = seconds.floor();
    let micros = ((seconds - whole) * 1e6).round() as u32;
    let moment = chrono::DateTime::from_timestamp(whole as i64, micros * 1000)?;
    Some(common::scalars::DateTime(moment).to_rfc3339())
}

/// The reason speedate (pydantic's date parser) would give, approximately.
fn datetime_reason(text: &str) -> &'static str {
    let bytes = text.as_bytes();
    if bytes.len() < 10 {
        "input is too short"
    } else if !bytes[..4].iter().all(u8::is_ascii_digit) {
        "invalid character in year"
    } else if bytes[4] != b'-' || bytes[7] != b'-' {
        "invalid date separator, expected `-`"
    } else if !bytes[5..7].iter().all(u8::is_ascii_digit) {
        "invalid character in month"
    } else if !bytes[8..10].iter().all(u8::is_ascii_digit) {
        "invalid character in day"
    } else {
        "unexpected extra characters at the end of the input"
    }
}

/// An e-mail address as pydantic's `EmailStr` (email-validator) accepts it.
pub fn email(value: &Value, name: &str) -> Result<String, Issue> {
    let text = string(value, name, 0, None)?;
    match email_problem(&text) {
        None => Ok(text),
        Some(reason) => Err(Issue::new(
            "value_error",
            loc("body", name),
            format!("value is not a valid email address: {reason}"),
            value.clone(),
        )
        .with_ctx(json!({"reason": reason}))),
    }
}

/// Domains email-validator refuses as special-use or reserved.
const SPECIAL_USE_DOMAINS: [&str; 6] = ["arpa", "invalid", "local", "localhost", "onion", "test"];

fn email_problem(text: &str) -> Option<&'static str> {
    let Some((local, domain)) = text.rsplit_once('@') else {
        return Some("An email address must have an @-sign.");
    };
    if local.is_empty() {
        return Some("There must be something before the @-sign.");
    }
    if domain.is_empty() {
        return Some("There must be something after the @-sign.");
    }
    if local.contains('@') {
        return Some("The email address is not valid. It must have exactly one @-sign.");
    }
    if !domain.contains('.') {
        return Some("The part after the @-sign is not valid. It should have a period.");
    }
    let lower_domain = domain.to_lowercase();
    let top_level = lower_domain.rsplit('.').next().unwrap_or_default();
    if SPECIAL_USE_DOMAINS.contains(&top_level) {
        return Some(
            "The part after the @-sign is a special-use or reserved name that cannot be used with email.",
        );
    }
    if !email_address::EmailAddress::is_valid(text) || text.chars().any(char::is_whitespace) {
        return Some("The email address is not valid.");
    }
    None
}

/// An integer query parameter within bounds, as FastAPI's `Query(ge=.., le=..)`.
pub fn query_int(raw: &str, name: &str, min: i64, max: Option<i64>) -> Result<i64, Issue> {
    let input = json!(raw);
    let trimmed = raw.trim();
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
        return Err(Issue::new(
            "greater_than_equal",
            loc("query", name),
            format!("Input should be greater than or equal to {min}"),
            input,
        )
        .with_ctx(json!({"ge": min})));
    }
    if let Some(max) = max.filter(|max| value > *max) {
        return Err(Issue::new(
            "less_than_equal",
            loc("query", name),
            format!("Input should be less than or equal to {max}"),
            input,
        )
        .with_ctx(json!({"le": max})));
    }
    Ok(value)
}

/// A task id from the path: any integer (a missing one is simply not found).
pub fn task_id(raw: &str) -> Result<i64, Issue> {
    let trimmed = raw.trim();
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
            TASK_STATUS.parse(&json!("In_Progress"), "body", "status"),
            Ok("in_progress")
        );
        let issue = TASK_STATUS
            .parse(&json!("bogus"), "body", "status")
            .expect_err("unknown");
        assert_eq!(issue.msg, "Input should be 'todo', 'in_progress' or 'done'");
        assert_eq!(
            issue.ctx.as_deref(),
            Some(&json!({"expected": "'todo', 'in_progress' or 'done'"}))
        );
        assert_eq!(
            TASK_PRIORITY
                .parse(&Value::Null, "body", "priority")
                .expect_err("null")
                .kind,
            "enum"
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

    #[test]
    fn datetimes_normalise_or_explain() {
        assert_eq!(
            datetime(&json!("2025-11-15T20:20:31+02:00"), "due_date"),
            Ok("2025-11-15T18:20:31.000000Z".to_owned())
        );
        assert_eq!(
            datetime(&json!("2025-11-15"), "due_date"),
            Ok("2025-11-15T00:00:00.000000Z".to_owned())
        );
        assert_eq!(
            datetime(&json!(0), "due_date"),
            Ok("1970-01-01T00:00:00.000000Z".to_owned())
        );
        let issue = datetime(&json!("tomorrow"), "due_date").expect_err("words");
        assert_eq!(issue.kind, "datetime_from_date_parsing");
        assert_eq!(
            issue.msg,
            "Input should be a valid datetime or date, input is too short"
        );
        assert_eq!(
            datetime(&json!(true), "due_date").expect_err("bool").kind,
            "datetime_type"
        );
    }

    #[test]
    fn emails_need_an_at_sign_and_a_domain() {
        assert_eq!(
            email(&json!("ann@example.com"), "email"),
            Ok("ann@example.com".to_owned())
        );
        let issue = email(&json!("not-an-email"), "email").expect_err("no @");
        assert_eq!(
            issue.msg,
            "value is not a valid email address: An email address must have an @-sign."
        );
        assert!(email(&json!("ann@localhost"), "email").is_err());
        assert!(email(&json!("ann@"), "email").is_err());
    }

    #[test]
    fn query_ints_are_bounded() {
        assert_eq!(query_int("10", "limit", 1, Some(1000)), Ok(10));
        assert_eq!(
            query_int("abc", "limit", 1, Some(1000))
                .expect_err("text")
                .kind,
            "int_parsing"
        );
        assert_eq!(
            query_int("0", "limit", 1, Some(1000))
                .expect_err("zero")
                .kind,
            "greater_than_equal"
        );
        assert_eq!(
            query_int("1001", "limit", 1, Some(1000))
                .expect_err("big")
                .kind,
            "less_than_equal"
        );
        assert_eq!(
            query_int("99999999999999999999", "skip", 0, None),
            Ok(i64::MAX)
        );
        assert_eq!(task_id("12"), Ok(12));
        assert_eq!(
            task_id("abc").expect_err("text").loc,
            loc("path", "task_id")
        );
    }
}
