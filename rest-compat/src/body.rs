//! Request bodies as FastAPI reads them: JSON when the content type says JSON
//! (or says nothing), the raw text otherwise, `json_invalid` for broken JSON,
//! and a size limit answered with 413.

use axum::extract::{FromRequest, Request};
use axum::http::{HeaderMap, header};
use bytes::{Bytes, BytesMut};
use http_body_util::BodyExt;
use serde_json::{Value, json};

use crate::error::{Error, Issue};
use crate::routes::AppState;

/// What a request's body held.
#[derive(Debug, Clone, PartialEq)]
pub enum Body {
    /// No bytes at all.
    Empty,
    /// Parsed JSON (a JSON content type, or none).
    Json(Value),
    /// An `application/x-www-form-urlencoded` body, as sent.
    Form(String),
    /// Some other content type: FastAPI hands the raw text to validation, which refuses it.
    Other(String),
}

impl Body {
    /// The body as a JSON model's validation sees it: JSON stays JSON, raw
    /// text (forms included) becomes a string, nothing becomes null.
    pub fn as_json(&self) -> Value {
        match self {
            Body::Empty => Value::Null,
            Body::Json(value) => value.clone(),
            Body::Form(text) | Body::Other(text) => Value::String(text.clone()),
        }
    }

    /// A form body's fields as an object (a repeated name keeps its last value),
    /// for the endpoints that take forms.
    pub fn form_fields(text: &str) -> Result<Value, Error> {
        let fields: Vec<(String, String)> = serde_urlencoded::from_str(text).map_err(|_| {
            Error::Validation(vec![Issue::custom(
                "value_error",
                vec![json!("body")],
                "Value error, the form body could not be decoded",
                json!(text),
            )])
        })?;
        Ok(Value::Object(
            fields
                .into_iter()
                .map(|(name, value)| (name, Value::String(value)))
                .collect(),
        ))
    }

    fn read(headers: &HeaderMap, bytes: &[u8]) -> Result<Self, Error> {
        if bytes.is_empty() {
            return Ok(Body::Empty);
        }
        let content_type = headers
            .get(header::CONTENT_TYPE)
            .map(|value| String::from_utf8_lossy(value.as_bytes()).to_ascii_lowercase());
        match content_type.as_deref().map(media_type) {
            None => parse_json(bytes).map(Body::Json),
            Some(("application", subtype)) if subtype == "json" || subtype.ends_with("+json") => {
                parse_json(bytes).map(Body::Json)
            }
            Some(("application", "x-www-form-urlencoded")) => {
                Ok(Body::Form(String::from_utf8_lossy(bytes).into_owned()))
            }
            Some(_) => Ok(Body::Other(String::from_utf8_lossy(bytes).into_owned())),
        }
    }
}

impl FromRequest<AppState> for Body {
    type Rejection = Error;

    async fn from_request(request: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let (parts, body) = request.into_parts();
        let bytes = read_limited(body, state.max_body_bytes).await?;
        Body::read(&parts.headers, &bytes)
    }
}

/// How much of an oversized body is still read (and dropped) before answering 413.
const DRAIN_FACTOR: usize = 16;

/// Reads a body of at most `limit` bytes. A larger one is read on to its end
/// (up to `DRAIN_FACTOR` times the limit) and dropped, so that the client,
/// still sending, gets its 413 on an intact connection rather than a reset.
async fn read_limited(mut body: axum::body::Body, limit: usize) -> Result<Bytes, Error> {
    let drain_cap = limit.saturating_mul(DRAIN_FACTOR);
    let mut collected = BytesMut::new();
    let mut seen: usize = 0;
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|err| {
            tracing::debug!(%err, "the request body could not be read");
            Error::UnreadableBody
        })?;
        let Ok(data) = frame.into_data() else {
            continue;
        };
        seen = seen.saturating_add(data.len());
        if seen > drain_cap {
            return Err(Error::PayloadTooLarge);
        }
        if seen <= limit {
            collected.extend_from_slice(&data);
        }
    }
    if seen > limit {
        Err(Error::PayloadTooLarge)
    } else {
        Ok(collected.freeze())
    }
}

/// `("application", "json")` from `Application/JSON; charset=utf-8`.
fn media_type(content_type: &str) -> (&str, &str) {
    let essence = content_type.split(';').next().unwrap_or_default().trim();
    essence.split_once('/').unwrap_or((essence, ""))
}

/// Parses JSON as FastAPI did (`json.loads` of the bytes): a UTF-8 byte-order
/// mark is skipped, bytes that are not UTF-8 are a 400 ("There was an error
/// parsing the body"), broken JSON is `json_invalid` with Python's wording where it can.
fn parse_json(bytes: &[u8]) -> Result<Value, Error> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    if std::str::from_utf8(bytes).is_err() {
        return Err(Error::UnreadableBody);
    }
    serde_json::from_slice(bytes).map_err(|err| {
        let text = String::from_utf8_lossy(bytes);
        // Python reports the end of the document for a premature end.
        let position = if err.is_eof() {
            text.chars().count()
        } else {
            char_position(&text, err.line(), err.column())
        };
        Error::Validation(vec![
            Issue::custom(
                "json_invalid",
                vec![json!("body"), json!(position)],
                "JSON decode error",
                json!({}),
            )
            .with_ctx(json!({"error": python_json_message(&err)})),
        ])
    })
}

/// The character offset of serde_json's 1-based line and column (Python reports offsets).
fn char_position(text: &str, line: usize, column: usize) -> usize {
    let before: usize = text
        .split('\n')
        .take(line.saturating_sub(1))
        .map(|l| l.chars().count() + 1)
        .sum();
    let line_text = text
        .split('\n')
        .nth(line.saturating_sub(1))
        .unwrap_or_default();
    let within = line_text
        .char_indices()
        .take_while(|(index, _)| *index < column.saturating_sub(1))
        .count();
    before + within
}

/// What Python's `json` module says for the same mistake.
fn python_json_message(err: &serde_json::Error) -> &'static str {
    let message = err.to_string();
    if message.starts_with("trailing characters") {
        "Extra data"
    } else if message.starts_with("key must be a string")
        || message.starts_with("EOF while parsing an object") && message.contains("column 1")
    {
        "Expecting property name enclosed in double quotes"
    } else if message.starts_with("expected `:`") {
        "Expecting ':' delimiter"
    } else if message.starts_with("expected `,` or `}`")
        || message.starts_with("expected `,` or `]`")
        || message.starts_with("EOF while parsing an object")
        || message.starts_with("EOF while parsing a list")
    {
        "Expecting ',' delimiter"
    } else if message.starts_with("control character") {
        "Invalid control character at"
    } else if message.starts_with("invalid escape") || message.starts_with("invalid unicode") {
        "Invalid \\escape"
    } else if message.starts_with("EOF while parsing a string") {
        "Unterminated string starting at"
    } else {
        "Expecting value"
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[tokio::test]
    async fn bodies_over_the_limit_are_drained_then_refused() {
        let body = |size: usize| axum::body::Body::from(vec![b'x'; size]);
        assert_eq!(
            read_limited(body(10), 10)
                .await
                .expect("at the limit")
                .len(),
            10
        );
        assert!(matches!(
            read_limited(body(11), 10).await,
            Err(Error::PayloadTooLarge)
        ));
        assert!(matches!(
            read_limited(body(1000), 10).await,
            Err(Error::PayloadTooLarge)
        ));
    }

    fn headers(content_type: Option<&'static str>) -> HeaderMap {
        let mut headers = HeaderMap::new();
        if let Some(content_type) = content_type {
            headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
        }
        headers
    }

    #[test]
    fn json_with_or_without_content_type() {
        let expected = Body::Json(json!({"a": 1}));
        assert_eq!(
            Body::read(&headers(None), br#"{"a":1}"#).expect("no type"),
            expected
        );
        assert_eq!(
            Body::read(
                &headers(Some("application/json; charset=utf-8")),
                br#"{"a":1}"#
            )
            .expect("json"),
            expected
        );
        assert_eq!(
            Body::read(&headers(Some("application/vnd.api+json")), br#"{"a":1}"#).expect("+json"),
            expected
        );
        assert_eq!(
            Body::read(&headers(Some("text/plain")), b"hi").expect("text"),
            Body::Other("hi".to_owned())
        );
        assert_eq!(
            Body::read(&headers(Some("application/json")), b"").expect("empty"),
            Body::Empty
        );
    }

    #[test]
    fn broken_json_is_json_invalid_with_the_offset() {
        let Err(Error::Validation(issues)) = Body::read(&headers(None), b"{\"title\": }") else {
            panic!("broken JSON must be refused");
        };
        assert_eq!(
            json!(issues),
            json!([{"type": "json_invalid", "loc": ["body", 10], "msg": "JSON decode error", "input": {}, "ctx": {"error": "Expecting value"}}])
        );
    }

    #[test]
    fn byte_order_marks_are_skipped_and_bad_utf8_is_a_400() {
        assert_eq!(
            Body::read(&headers(None), b"\xEF\xBB\xBF{\"a\":1}").expect("bom"),
            Body::Json(json!({"a": 1}))
        );
        assert!(matches!(
            Body::read(&headers(None), b"{\"a\":\"\xFF\"}"),
            Err(Error::UnreadableBody)
        ));
    }

    #[test]
    fn premature_end_points_past_the_last_character() {
        let Err(Error::Validation(issues)) = Body::read(&headers(None), b"{\"title\": ") else {
            panic!("truncated JSON must be refused");
        };
        assert_eq!(issues[0].loc, vec![json!("body"), json!(10)]);
    }

    #[test]
    fn forms_decode() {
        let body = Body::read(
            &headers(Some("application/x-www-form-urlencoded")),
            b"username=ann&password=p%26ss",
        )
        .expect("form");
        assert_eq!(body, Body::Form("username=ann&password=p%26ss".to_owned()));
        assert_eq!(
            Body::form_fields("username=ann&password=p%26ss&username=bob").expect("decodes"),
            json!({"username": "bob", "password": "p&ss"})
        );
    }
}
