//! The one error type of the users service and how each case reaches a client.

use common::errors::{ErrorCode, internal};

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The unique constraint on username or e-mail refused a new account.
    #[error("username or email already registered")]
    Conflict,
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("password hashing failed: {0}")]
    Hashing(String),
    #[error("issuing an access token failed: {0}")]
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

impl From<Error> for async_graphql::Error {
    fn from(err: Error) -> Self {
        match err {
            Error::Conflict => ErrorCode::Conflict.error("Username or email already registered"),
            other => internal(other),
        }
    }
}
