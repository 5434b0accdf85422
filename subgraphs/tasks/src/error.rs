//! The failures of the tasks subgraph and how each reaches a client.
//!
//! `Error` deliberately has no `Display`: async-graphql converts anything
//! displayable into a client-visible message with `?`, and database messages
//! must never reach clients. Resolvers convert with [`Error::into_graphql`].

use std::sync::Arc;
use subgraph_kit::errors::CodedError;

use subgraph_kit::errors::{ErrorCode, internal, store_unavailable};

#[derive(Debug, Clone)]
pub enum Error {
    /// The store failed (shared, because a batch loader hands one failure to many callers).
    Database(Arc<sqlx::Error>),
}

impl From<sqlx::Error> for Error {
    fn from(err: sqlx::Error) -> Self {
        Error::Database(Arc::new(err))
    }
}

impl Error {
    /// The client-facing error: details are logged here, never sent.
    pub fn into_graphql(self) -> async_graphql::Error {
        match self {
            Error::Database(err) if db::is_unavailable(&err) => {
                store_unavailable(crate::http::SERVICE, format_args!("database: {err}"))
            }
            Error::Database(err) => internal(format_args!("database: {err}")),
        }
    }
}

/// A task that is missing or not the viewer's: the two must look the same.
pub fn task_not_found() -> async_graphql::Error {
    ErrorCode::NotFound.error("Task not found")
}
