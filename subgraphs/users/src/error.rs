//! The one error type of the users service and how each case reaches a client:
//! as a GraphQL error from a resolver, or as an HTTP answer to a request that
//! never became a GraphQL operation.
//!
//! `Error` deliberately has no `Display`: async-graphql turns anything that
//! displays into a client-visible message, which would leak database details.
//! Without it the only way into a GraphQL error is the `From` impl below, which
//! reports internal failures without details (and logs them in full).

use async_graphql::ParseRequestError;
use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use common::errors::{ErrorCode, internal};
use serde_json::json;

#[derive(Debug)]
pub enum Error {
    /// The unique constraint on username or e-mail refused a new account.
    Conflict,
    Database(sqlx::Error),
    Hashing(String),
    Token(String),
    /// The HTTP request does not hold a GraphQL request (broken JSON, bad query string, …).
    BadRequest(ParseRequestError),
    /// A mutation sent with GET, which must not change anything.
    MutationOverGet,
}

impl Error {
    /// Maps a failed insert: a unique violation is the caller's conflict, anything else ours.
    pub fn from_insert(err: sqlx::Error) -> Self {
        match &err {
            sqlx::Error::Database(db) if db.is_unique_violation() => Error::Conflict,
            _ => Error::Database(err),
        }
    }
}

impl From<sqlx::Error> for Error {
    fn from(err: sqlx::Error) -> Self {
        Error::Database(err)
    }
}

/// Lets `GraphQLRequest<Error>` reject unreadable requests with our answer.
impl From<ParseRequestError> for Error {
    fn from(err: ParseRequestError) -> Self {
        Error::BadRequest(err)
    }
}

impl From<Error> for async_graphql::Error {
    fn from(err: Error) -> Self {
        match err {
            Error::Conflict => ErrorCode::Conflict.error("Username or email already registered"),
            other => internal(format_args!("{other:?}")),
        }
    }
}

/// A GraphQL-shaped error body, so clients parse every answer the same way.
fn error_body(status: StatusCode, message: &str, code: &str) -> Response {
    let body = json!({"errors": [{"message": message, "extensions": {"code": code}}]});
    (status, Json(body)).into_response()
}

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        match self {
            Error::BadRequest(ParseRequestError::PayloadTooLarge) => error_body(
                StatusCode::PAYLOAD_TOO_LARGE,
                "Request body too large",
                "BAD_REQUEST",
            ),
            Error::BadRequest(err) => {
                error_body(StatusCode::BAD_REQUEST, &err.to_string(), "BAD_REQUEST")
            }
            Error::MutationOverGet => {
                let mut response = error_body(
                    StatusCode::METHOD_NOT_ALLOWED,
                    "Mutations must be sent with POST",
                    "BAD_REQUEST",
                );
                response
                    .headers_mut()
                    .insert(header::ALLOW, HeaderValue::from_static("POST"));
                response
            }
            other => {
                tracing::error!(error = ?other, "internal error");
                error_body(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "Internal server error",
                    ErrorCode::InternalServerError.as_str(),
                )
            }
        }
    }
}
