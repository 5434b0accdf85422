//! The error codes of the public GraphQL contract (`extensions.code`), shared so
//! that every subgraph spells them the same way.

use async_graphql::ErrorExtensions;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorCode {
    Unauthenticated,
    Forbidden,
    BadUserInput,
    NotFound,
    Conflict,
    InternalServerError,
    SubgraphUnavailable,
    /// A subgraph's own store (or another dependency) cannot be reached right now.
    ServiceUnavailable,
}

impl ErrorCode {
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::Unauthenticated => "UNAUTHENTICATED",
            ErrorCode::Forbidden => "FORBIDDEN",
            ErrorCode::BadUserInput => "BAD_USER_INPUT",
            ErrorCode::NotFound => "NOT_FOUND",
            ErrorCode::Conflict => "CONFLICT",
            ErrorCode::InternalServerError => "INTERNAL_SERVER_ERROR",
            ErrorCode::SubgraphUnavailable => "SUBGRAPH_UNAVAILABLE",
            ErrorCode::ServiceUnavailable => "SERVICE_UNAVAILABLE",
        }
    }

    /// A GraphQL error carrying this code.
    pub fn error(self, message: impl Into<String>) -> async_graphql::Error {
        async_graphql::Error::new(message).extend_with(|_, ext| ext.set("code", self.as_str()))
    }
}

/// BAD_USER_INPUT naming the offending input field (`extensions.field`).
pub fn bad_input(field: &str, message: impl Into<String>) -> async_graphql::Error {
    let field = field.to_owned();
    ErrorCode::BadUserInput
        .error(message)
        .extend_with(move |_, ext| ext.set("field", field.as_str()))
}

/// An internal failure: logged in full here, reported to the client without details.
pub fn internal(err: impl std::fmt::Display) -> async_graphql::Error {
    tracing::error!(error = %err, "internal error");
    ErrorCode::InternalServerError.error("Internal server error")
}

/// `SERVICE_UNAVAILABLE` for a service whose store cannot be reached, naming the
/// service (`extensions.serviceName`) so that REST can answer 503 `Service unavailable: <service>`.
pub fn store_unavailable(
    service: &'static str,
    err: impl std::fmt::Display,
) -> async_graphql::Error {
    tracing::warn!(error = %err, "the store cannot be reached");
    ErrorCode::ServiceUnavailable
        .error(format!("Service unavailable: {service}"))
        .extend_with(move |_, ext| ext.set("serviceName", service))
}
