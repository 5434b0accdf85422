//! The one error type of the users service and how each case reaches a client
//! as a GraphQL error.
//!
//! `Error` deliberately has no `Display`: async-graphql turns anything that
//! displays into a client-visible message, which would leak database details.
//! Without it the only way into a GraphQL error is the `From` impl below, which
//! reports internal failures without details (and logs them in full).

use subgraph_kit::errors::CodedError;
use subgraph_kit::errors::{ErrorCode, internal, store_unavailable};

#[derive(Debug)]
pub enum Error {
    /// The unique constraint on username or e-mail refused a new account.
    Conflict,
    Database(sqlx::Error),
    Hashing(String),
    Token(String),
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

impl From<Error> for async_graphql::Error {
    fn from(err: Error) -> Self {
        match err {
            Error::Conflict => ErrorCode::Conflict.error("Username or email already registered"),
            Error::Database(err) if db::is_unavailable(&err) => {
                store_unavailable(crate::http::SERVICE_NAME, format_args!("database: {err}"))
            }
            other => internal(format_args!("{other:?}")),
        }
    }
}

/// The client-facing error of a failure shared by a batch loader's callers
/// (`what` says what was being loaded, for the log).
pub fn from_shared(err: &Error, what: impl std::fmt::Display) -> async_graphql::Error {
    match err {
        Error::Database(db) if db::is_unavailable(db) => {
            store_unavailable(crate::http::SERVICE_NAME, format_args!("{what}: {db}"))
        }
        other => internal(format_args!("{what}: {other:?}")),
    }
}
