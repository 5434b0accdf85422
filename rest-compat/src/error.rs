//! Every error this layer answers with, in the FastAPI shapes the original API
//! used: `{"detail": "..."}`, or a pydantic-style list for 422.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::{Value, json};

/// Where pydantic's core errors point (`url` of each 422 item): the documentation
/// of the pydantic version the original ran, 2.5 (the only 2.x line whose datetime
/// rules refuse a bare date such as `"2030-01-01"`, as the original did).
pub const PYDANTIC_ERRORS_URL: &str = "https://errors.pydantic.dev/2.5/v/";

/// One entry of a 422 `detail` list, shaped like pydantic v2's errors as FastAPI
/// prints them, fields in pydantic's order. The JSON parts are boxed to keep
/// `Result<_, Issue>` small.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Issue {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub loc: Vec<Value>,
    pub msg: String,
    pub input: Box<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ctx: Option<Box<Value>>,
    /// Present on pydantic-core's own error types; absent on custom ones
    /// (`PydanticCustomError`: the e-mail rule, 2.5's enum check) and on FastAPI's `json_invalid`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

impl Issue {
    /// An error of pydantic-core's own type `kind` (so it carries its `url`).
    pub fn new(kind: &'static str, loc: Vec<Value>, msg: impl Into<String>, input: Value) -> Self {
        Self {
            kind,
            loc,
            msg: msg.into(),
            input: Box::new(input),
            ctx: None,
            url: Some(format!("{PYDANTIC_ERRORS_URL}{kind}")),
        }
    }

    /// An error raised outside pydantic-core's catalogue: no `url`.
    pub fn custom(
        kind: &'static str,
        loc: Vec<Value>,
        msg: impl Into<String>,
        input: Value,
    ) -> Self {
        Self {
            url: None,
            ..Self::new(kind, loc, msg, input)
        }
    }

    pub fn with_ctx(mut self, ctx: Value) -> Self {
        self.ctx = Some(Box::new(ctx));
        self
    }
}

/// A location in a request: `["body", "title"]`, `["query", "limit"]`, `["path", "task_id"]`.
pub fn loc(place: &str, name: &str) -> Vec<Value> {
    vec![Value::from(place), Value::from(name)]
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("request validation failed")]
    Validation(Vec<Issue>),
    #[error("no bearer token")]
    NotAuthenticated,
    #[error("the token was refused")]
    InvalidCredentials,
    #[error("wrong username or password")]
    IncorrectLogin,
    #[error("the account is inactive")]
    InactiveUser,
    #[error("username or e-mail taken")]
    AlreadyRegistered,
    #[error("no such task for this user")]
    TaskNotFound,
    #[error("no such route")]
    RouteNotFound,
    #[error("method not allowed on this route")]
    MethodNotAllowed,
    #[error("request body too large")]
    PayloadTooLarge,
    /// The body was cut short, badly chunked or too slow: the client's fault, a 400.
    #[error("the request body could not be read")]
    UnreadableBody,
    #[error("upstream part unavailable: {0}")]
    Unavailable(String),
    #[error("internal error: {0}")]
    Internal(String),
}

impl Error {
    pub fn internal(reason: impl std::fmt::Display) -> Self {
        Error::Internal(reason.to_string())
    }

    pub fn status(&self) -> StatusCode {
        match self {
            Error::Validation(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Error::NotAuthenticated | Error::InvalidCredentials | Error::IncorrectLogin => {
                StatusCode::UNAUTHORIZED
            }
            Error::InactiveUser => StatusCode::FORBIDDEN,
            Error::AlreadyRegistered => StatusCode::BAD_REQUEST,
            Error::TaskNotFound | Error::RouteNotFound => StatusCode::NOT_FOUND,
            Error::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Error::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Error::UnreadableBody => StatusCode::BAD_REQUEST,
            Error::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Error::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The `detail` of the response body.
    fn detail(&self) -> Value {
        match self {
            Error::Validation(issues) => json!(issues),
            Error::NotAuthenticated => json!("Not authenticated"),
            Error::InvalidCredentials => json!("Could not validate credentials"),
            Error::IncorrectLogin => json!("Incorrect username or password"),
            Error::InactiveUser => json!("Inactive user"),
            Error::AlreadyRegistered => json!("Username or email already registered"),
            Error::TaskNotFound => json!("Task not found"),
            Error::RouteNotFound => json!("Not Found"),
            Error::MethodNotAllowed => json!("Method Not Allowed"),
            Error::PayloadTooLarge => json!("Request body too large"),
            Error::UnreadableBody => json!("There was an error parsing the body"),
            Error::Unavailable(part) => json!(format!("Service unavailable: {part}")),
            Error::Internal(_) => json!("Internal Server Error"),
        }
    }
}

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        match &self {
            Error::Internal(reason) => tracing::error!(%reason, "internal error"),
            Error::Unavailable(part) => tracing::warn!(%part, "upstream unavailable"),
            _ => tracing::debug!(error = %self, "request refused"),
        }
        let mut response = (self.status(), Json(json!({"detail": self.detail()}))).into_response();
        if self.status() == StatusCode::UNAUTHORIZED {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response
    }
}

/// Unknown routes: FastAPI's 404.
pub async fn route_not_found() -> Error {
    Error::RouteNotFound
}

/// Known route, wrong method: FastAPI's 405.
pub async fn method_not_allowed() -> Error {
    Error::MethodNotAllowed
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unauthorized_carries_the_bearer_challenge() {
        for error in [
            Error::NotAuthenticated,
            Error::InvalidCredentials,
            Error::IncorrectLogin,
        ] {
            let response = error.into_response();
            assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
            assert_eq!(response.headers()[header::WWW_AUTHENTICATE], "Bearer");
        }
        let response = Error::InactiveUser.into_response();
        assert!(response.headers().get(header::WWW_AUTHENTICATE).is_none());
    }

    #[test]
    fn issues_serialise_like_pydantic() {
        let issue = Issue::new(
            "string_too_short",
            loc("body", "title"),
            "String should have at least 1 character",
            json!(""),
        )
        .with_ctx(json!({"min_length": 1}));
        assert_eq!(
            json!(issue),
            json!({"type": "string_too_short", "loc": ["body", "title"], "msg": "String should have at least 1 character", "input": "", "ctx": {"min_length": 1}, "url": "https://errors.pydantic.dev/2.5/v/string_too_short"})
        );
    }
}
