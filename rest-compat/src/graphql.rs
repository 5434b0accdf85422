//! The one way this layer talks to the rest of the system: a GraphQL operation
//! sent to the router — over a pooled keep-alive connection, or, when the router
//! runs in this process (`tasktracker --mode one-process`), to its app directly,
//! where the router's limits, authentication, metrics and errors apply just the
//! same — its errors turned into the REST contract's statuses.

use std::time::Duration;

use axum::http::{HeaderMap, HeaderValue};
use common::errors::ErrorCode;
use common::in_process::{LocalService, Upstream};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use crate::error::{Error, Issue, loc};

/// What an operation's errors mean depends on where it is sent from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// `login`: any authentication failure is "Incorrect username or password".
    Login,
    /// Everything else: an authentication failure means the token was refused.
    Other,
}

/// A client of the router's GraphQL endpoint.
#[derive(Debug, Clone)]
pub struct RouterClient {
    router: Upstream,
    timeout: Duration,
}

/// One GraphQL response as the router sends it.
#[derive(Debug, Deserialize)]
struct Response<T> {
    data: Option<T>,
    #[serde(default)]
    errors: Vec<GraphqlError>,
}

/// One entry of a response's `errors`.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct GraphqlError {
    #[serde(default)]
    pub message: String,
    #[serde(default)]
    pub extensions: Extensions,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Extensions {
    /// As sent: codes this contract does not define are kept (see `is_unavailability`).
    pub code: Option<String>,
    pub field: Option<String>,
    pub service_name: Option<String>,
}

impl GraphqlError {
    /// Whether this error carries `code`.
    fn has_code(&self, code: ErrorCode) -> bool {
        self.extensions.code.as_deref() == Some(code.as_str())
    }
}

impl RouterClient {
    /// The router at `url` over HTTP.
    pub fn new(url: &str, timeout: Duration) -> anyhow::Result<Self> {
        let client = common::http_client::builder()
            .timeout(timeout)
            .connect_timeout(Duration::from_secs(5))
            .pool_max_idle_per_host(256)
            .tcp_nodelay(true)
            .build()?;
        Ok(Self {
            router: Upstream::Http {
                client,
                url: url.to_owned(),
            },
            timeout,
        })
    }

    /// The router's app in this process, at the path of `url`.
    pub fn in_process(router: LocalService, url: &str, timeout: Duration) -> Self {
        Self {
            router: Upstream::local(router, url),
            timeout,
        }
    }

    /// Whether the router answers a trivial operation (`{ __typename }`), for `/ready`.
    pub async fn is_reachable(&self, timeout: Duration) -> bool {
        let body = json!({"query": crate::operations::READY}).to_string();
        match self
            .router
            .post_json(HeaderMap::new(), body.into(), Some(timeout))
            .await
        {
            Ok((status, body)) if status.is_success() => serde_json::from_slice::<Value>(&body)
                .is_ok_and(|body| body["data"]["__typename"].is_string()),
            _ => false,
        }
    }

    /// Sends `query` and returns its `data`, or the REST error its errors stand for.
    /// `body` is the REST request body, quoted as `input` when a subgraph refuses a field.
    pub async fn execute<T: DeserializeOwned>(
        &self,
        query: &str,
        variables: Value,
        authorization: Option<&HeaderValue>,
        request_id: Option<&HeaderValue>,
        purpose: Purpose,
        body: &Value,
    ) -> Result<T, Error> {
        // The REST request's trace continues in the router (tracing on).
        let mut headers = common::trace_context::current_headers();
        if let Some(value) = authorization {
            headers.insert(axum::http::header::AUTHORIZATION, value.clone());
        }
        if let Some(value) = request_id {
            headers.insert(common::server::REQUEST_ID_HEADER, value.clone());
        }
        let request = serde_json::to_vec(&json!({"query": query, "variables": variables}))
            .map_err(|err| Error::internal(format!("unwritable operation: {err}")))?;
        let (status, bytes) = self
            .router
            .post_json(headers, request.into(), Some(self.timeout))
            .await
            .map_err(|err| {
                tracing::warn!(error = %err, "the router could not be reached or its answer was cut off");
                Error::Unavailable("router".to_owned())
            })?;
        let parsed: Response<T> = match serde_json::from_slice(&bytes) {
            Ok(parsed) => parsed,
            Err(_) if status.is_server_error() => {
                tracing::warn!(%status, "the router answered without a GraphQL body");
                return Err(Error::Unavailable("router".to_owned()));
            }
            Err(err) => {
                return Err(Error::internal(format!(
                    "unreadable router answer ({status}): {err}"
                )));
            }
        };
        if !parsed.errors.is_empty() {
            return Err(map_errors(&parsed.errors, purpose, body));
        }
        parsed
            .data
            .ok_or_else(|| Error::internal("the router answered with neither data nor errors"))
    }
}

/// The REST error standing for a response's GraphQL errors. When several
/// apply, the one FastAPI would have hit first wins: authentication, then
/// availability, then input, then the rest.
pub fn map_errors(errors: &[GraphqlError], purpose: Purpose, body: &Value) -> Error {
    let has = |code: ErrorCode| errors.iter().any(|error| error.has_code(code));
    if has(ErrorCode::Unauthenticated) {
        return match purpose {
            Purpose::Login => Error::IncorrectLogin,
            Purpose::Other => Error::InvalidCredentials,
        };
    }
    if has(ErrorCode::Forbidden) {
        return match purpose {
            Purpose::Login => Error::IncorrectLogin,
            Purpose::Other => Error::InactiveUser,
        };
    }
    if let Some(error) = errors.iter().find(|error| {
        error
            .extensions
            .code
            .as_deref()
            .is_some_and(ErrorCode::is_unavailability)
    }) {
        let part = error
            .extensions
            .service_name
            .clone()
            .unwrap_or_else(|| "router".to_owned());
        return Error::Unavailable(part);
    }
    let bad_input: Vec<&GraphqlError> = errors
        .iter()
        .filter(|error| error.has_code(ErrorCode::BadUserInput))
        .collect();
    if bad_input
        .iter()
        .any(|error| error.extensions.field.as_deref() == Some("id"))
    {
        // Ids are checked to be integers before sending, so a refused one is out of range: no such task.
        return Error::TaskNotFound;
    }
    if !bad_input.is_empty() && purpose == Purpose::Login {
        // The original looked any given username up: one it cannot hold simply does not log in.
        return Error::IncorrectLogin;
    }
    if !bad_input.is_empty() {
        return Error::Validation(
            bad_input
                .iter()
                .map(|error| input_issue(error, body))
                .collect(),
        );
    }
    if has(ErrorCode::NotFound) {
        return Error::TaskNotFound;
    }
    if has(ErrorCode::Conflict) {
        return Error::AlreadyRegistered;
    }
    let summary: Vec<String> = errors
        .iter()
        .map(|error| {
            format!(
                "{} ({})",
                error.message,
                error.extensions.code.as_deref().unwrap_or("no code")
            )
        })
        .collect();
    Error::internal(format!(
        "the router answered with errors: {}",
        summary.join("; ")
    ))
}

/// A subgraph's BAD_USER_INPUT as a pydantic-style issue at the REST field it concerns.
fn input_issue(error: &GraphqlError, body: &Value) -> Issue {
    let graphql_field = error.extensions.field.as_deref().unwrap_or_default();
    let rest_field = snake_case(graphql_field);
    // Only the list endpoint takes query parameters, and it sends no body.
    let place = if matches!(
        rest_field.as_str(),
        "skip" | "limit" | "status" | "priority"
    ) && !body.is_object()
    {
        "query"
    } else {
        "body"
    };
    let input = body.get(&rest_field).cloned().unwrap_or(Value::Null);
    Issue::new(
        "value_error",
        loc(place, &rest_field),
        format!("Value error, {}", error.message),
        input,
    )
    .with_ctx(json!({"error": error.message}))
}

/// `dueDate` → `due_date`.
pub fn snake_case(name: &str) -> String {
    let mut out = String::with_capacity(name.len() + 4);
    for c in name.chars() {
        if c.is_ascii_uppercase() {
            out.push('_');
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error(code: ErrorCode, field: Option<&str>, service: Option<&str>) -> GraphqlError {
        coded(code.as_str(), field, service)
    }

    /// An error with a code as the router may send it, known to this contract or not.
    fn coded(code: &str, field: Option<&str>, service: Option<&str>) -> GraphqlError {
        GraphqlError {
            message: "message".to_owned(),
            extensions: Extensions {
                code: Some(code.to_owned()),
                field: field.map(str::to_owned),
                service_name: service.map(str::to_owned),
            },
        }
    }

    #[test]
    fn codes_map_to_statuses() {
        let body = json!({"dueDate": 1, "due_date": "x"});
        let cases = [
            (
                error(ErrorCode::Unauthenticated, None, None),
                Purpose::Other,
                401,
            ),
            (
                error(ErrorCode::Unauthenticated, None, None),
                Purpose::Login,
                401,
            ),
            (error(ErrorCode::Forbidden, None, None), Purpose::Other, 403),
            (error(ErrorCode::NotFound, None, None), Purpose::Other, 404),
            (error(ErrorCode::Conflict, None, None), Purpose::Other, 400),
            (
                error(ErrorCode::BadUserInput, Some("title"), None),
                Purpose::Other,
                422,
            ),
            (
                error(ErrorCode::BadUserInput, Some("id"), None),
                Purpose::Other,
                404,
            ),
            (
                error(ErrorCode::SubgraphUnavailable, None, Some("stats")),
                Purpose::Other,
                503,
            ),
            (
                error(ErrorCode::InternalServerError, None, None),
                Purpose::Other,
                500,
            ),
        ];
        for (graphql_error, purpose, status) in cases {
            assert_eq!(
                map_errors(std::slice::from_ref(&graphql_error), purpose, &body)
                    .status()
                    .as_u16(),
                status,
                "{graphql_error:?}"
            );
        }
    }

    #[test]
    fn authentication_wins_over_other_errors() {
        let errors = [
            error(ErrorCode::SubgraphUnavailable, None, Some("stats")),
            error(ErrorCode::Forbidden, None, None),
        ];
        assert!(matches!(
            map_errors(&errors, Purpose::Other, &Value::Null),
            Error::InactiveUser
        ));
        let errors = [error(ErrorCode::SubgraphUnavailable, None, Some("stats"))];
        assert!(
            matches!(map_errors(&errors, Purpose::Other, &Value::Null), Error::Unavailable(part) if part == "stats")
        );
        // A store that cannot be reached, and any kind of subgraph failure, is a 503 of
        // that part, and wins over the input errors a dependent fetch may add.
        let errors = [
            error(ErrorCode::BadUserInput, Some("taskCounts"), None),
            error(ErrorCode::ServiceUnavailable, None, Some("tasks")),
        ];
        assert!(
            matches!(map_errors(&errors, Purpose::Other, &Value::Null), Error::Unavailable(part) if part == "tasks")
        );
        // SUBGRAPH_ERROR only follows the errors that decide.
        let errors = [
            error(ErrorCode::SubgraphError, None, Some("tasks")),
            error(ErrorCode::NotFound, None, None),
        ];
        assert!(matches!(
            map_errors(&errors, Purpose::Other, &Value::Null),
            Error::TaskNotFound
        ));
        // A kind of subgraph failure this contract does not name is still a 503.
        let errors = [coded("SUBGRAPH_TIMEOUT", None, Some("stats"))];
        assert!(
            matches!(map_errors(&errors, Purpose::Other, &Value::Null), Error::Unavailable(part) if part == "stats")
        );
    }

    #[test]
    fn refused_fields_point_at_the_rest_field() {
        let body = json!({"due_date": "2025-01-01"});
        let Error::Validation(issues) = map_errors(
            &[error(ErrorCode::BadUserInput, Some("dueDate"), None)],
            Purpose::Other,
            &body,
        ) else {
            panic!("BAD_USER_INPUT must be a 422");
        };
        assert_eq!(issues[0].loc, loc("body", "due_date"));
        assert_eq!(*issues[0].input, json!("2025-01-01"));
        assert_eq!(snake_case("isCompleted"), "is_completed");
    }
}
