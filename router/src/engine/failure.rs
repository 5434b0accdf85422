//! Why a subgraph fetch failed, as one enum: every error the router writes about a
//! failed fetch (and about the fetches that could not be sent because of it)
//! carries the code of its kind, so clients can tell a slow subgraph from a
//! stopped one or a broken one. Codes are defined here and nowhere else in the
//! router; all of them start with `SUBGRAPH_`, which is what rest-compat maps to
//! 503 `Service unavailable: <extensions.serviceName>`.

use serde_json::Value;

use super::GraphQLError;

/// The kinds of subgraph fetch failure, each with its `extensions.code`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FetchFailure {
    /// No answer within the subgraph timeout.
    Timeout,
    /// The connection could not be made (refused, reset, DNS): the subgraph is down.
    Unavailable,
    /// Not attempted: the subgraph's circuit is open after failures in a row (see `resilience`).
    CircuitOpen,
    /// An HTTP error status without a GraphQL body (a 5xx from the subgraph or a proxy).
    HttpError,
    /// A 2xx answer that is not a GraphQL response.
    InvalidResponse,
    /// The subgraph answered with GraphQL errors that left the data others needed missing.
    SubgraphError,
}

impl FetchFailure {
    pub fn code(self) -> &'static str {
        match self {
            FetchFailure::Timeout => "SUBGRAPH_TIMEOUT",
            // The historical code of the router, also used by subgraphs for their own dependencies.
            FetchFailure::Unavailable => common::errors::ErrorCode::SubgraphUnavailable.as_str(),
            FetchFailure::CircuitOpen => "SUBGRAPH_CIRCUIT_OPEN",
            FetchFailure::HttpError => "SUBGRAPH_HTTP_ERROR",
            FetchFailure::InvalidResponse => "SUBGRAPH_INVALID_RESPONSE",
            FetchFailure::SubgraphError => common::errors::ErrorCode::SubgraphError.as_str(),
        }
    }

    /// The error for a fetch that failed this way.
    pub(crate) fn error(
        self,
        service_name: &str,
        reason: &str,
        path: Option<Vec<Value>>,
    ) -> GraphQLError {
        let mut error =
            GraphQLError::new(format!("HTTP fetch failed from '{service_name}': {reason}"))
                .with_code(self.code())
                .with_extension("serviceName", Value::String(service_name.to_owned()));
        error.path = path;
        error
    }
}

/// A failed fetch: its kind and a reason for humans.
#[derive(Debug, Clone)]
pub(crate) struct FailedFetch {
    pub kind: FetchFailure,
    pub reason: String,
}

impl FailedFetch {
    pub(crate) fn record(&self, service_name: &str, path: Vec<Value>) -> FailureRecord {
        FailureRecord {
            path,
            service_name: service_name.to_owned(),
            kind: self.kind,
            reason: self.reason.clone(),
        }
    }

    pub(crate) fn new(kind: FetchFailure, reason: impl Into<String>) -> FailedFetch {
        FailedFetch {
            kind,
            reason: reason.into(),
        }
    }
}

/// Where an earlier fetch failed, so that the fetches depending on data it should
/// have brought are not sent and their fields carry an error naming it.
#[derive(Debug, Clone)]
pub(crate) struct FailureRecord {
    /// The client path of the failure (an entity, or a field of one).
    pub path: Vec<Value>,
    pub service_name: String,
    pub kind: FetchFailure,
    pub reason: String,
}

impl FailureRecord {
    /// Whether this failure explains missing data at `path`: one of the two paths
    /// contains the other (a failed parent, or a failed field of the entity).
    pub(crate) fn covers(&self, path: &[Value]) -> bool {
        path.starts_with(&self.path) || self.path.starts_with(path)
    }

    /// The error of a field of `skipped_service` that was not fetched because of this failure.
    pub(crate) fn dependent_error(
        &self,
        skipped_service: &str,
        path: Option<Vec<Value>>,
    ) -> GraphQLError {
        let mut error = GraphQLError::new(format!(
            "Not fetched from '{skipped_service}': the data it needs from '{}' is missing because that fetch failed ({}: {})",
            self.service_name,
            self.kind.code(),
            self.reason
        ))
        .with_code(self.kind.code())
        .with_extension("serviceName", Value::String(self.service_name.clone()))
        .with_extension(
            "skippedServiceName",
            Value::String(skipped_service.to_owned()),
        );
        error.path = path;
        error
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn every_code_differs_and_all_but_subgraph_error_read_as_unavailability() {
        use common::errors::{ErrorCode, SUBGRAPH_FAILURE_PREFIX};
        let all = [
            FetchFailure::Timeout,
            FetchFailure::Unavailable,
            FetchFailure::CircuitOpen,
            FetchFailure::HttpError,
            FetchFailure::InvalidResponse,
            FetchFailure::SubgraphError,
        ];
        let codes: std::collections::HashSet<&str> = all.iter().map(|kind| kind.code()).collect();
        assert_eq!(codes.len(), all.len());
        assert!(
            codes
                .iter()
                .all(|code| code.starts_with(SUBGRAPH_FAILURE_PREFIX))
        );
        // What REST answers 503 `Service unavailable: <serviceName>` for.
        for kind in all {
            assert_eq!(
                ErrorCode::is_unavailability(kind.code()),
                kind != FetchFailure::SubgraphError,
                "{kind:?}"
            );
        }
    }

    #[test]
    fn a_failure_covers_its_entity_its_fields_and_its_parents_descendants() {
        let record = FailureRecord {
            path: vec![json!("me"), json!("taskCounts")],
            service_name: "tasks".to_owned(),
            kind: FetchFailure::SubgraphError,
            reason: "boom".to_owned(),
        };
        assert!(record.covers(&[json!("me")]));
        assert!(record.covers(&[json!("me"), json!("taskCounts"), json!("high")]));
        assert!(!record.covers(&[json!("user")]));
        assert!(!record.covers(&[json!("me"), json!("stats")]));
    }
}
