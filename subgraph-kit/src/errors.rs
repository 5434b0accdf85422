//! The contract's error codes as async-graphql errors: every subgraph builds its
//! GraphQL errors here, so a code is spelled once (`common::errors::ErrorCode`).

use async_graphql::ErrorExtensions;
pub use common::errors::*;

/// A GraphQL error carrying a code of the contract.
pub trait CodedError {
    /// A GraphQL error with this code in `extensions.code`.
    fn error(self, message: impl Into<String>) -> async_graphql::Error;
}

impl CodedError for ErrorCode {
    fn error(self, message: impl Into<String>) -> async_graphql::Error {
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
