//! The engine: everything below HTTP. It owns the supergraph, the API schema,
//! the planner with its plan cache and the executor, and turns one GraphQL
//! request into one GraphQL response. The HTTP layer only parses transport
//! details, enforces request limits and serialises what comes back.
//!
//! (Interface agreed between the HTTP layer and the engine; bodies are being written.)

use std::collections::HashMap;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// Settings of the engine (the HTTP layer fills them from configuration).
#[derive(Debug, Clone)]
pub struct EngineOptions {
    /// Per-subgraph request timeout.
    pub subgraph_timeout: Duration,
    /// Share one fetch between identical subgraph requests in flight at the same time.
    pub deduplicate_fetches: bool,
    /// Maximum number of cached query plans.
    pub plan_cache_size: usize,
    /// Subgraph name → URL, replacing the supergraph's `join__graph(url:)`.
    pub subgraph_url_overrides: HashMap<String, String>,
}

impl Default for EngineOptions {
    fn default() -> Self {
        Self {
            subgraph_timeout: Duration::from_secs(30),
            deduplicate_fetches: true,
            plan_cache_size: 1024,
            subgraph_url_overrides: HashMap::new(),
        }
    }
}

/// A GraphQL request as received (POST body or GET query string).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GraphQLRequest {
    pub query: String,
    #[serde(default)]
    pub operation_name: Option<String>,
    #[serde(default)]
    pub variables: Option<Map<String, Value>>,
    #[serde(default)]
    pub extensions: Option<Map<String, Value>>,
}

/// What the HTTP layer knows about the request that the engine needs.
#[derive(Debug, Clone, Default)]
pub struct RequestContext {
    /// Headers to send to every subgraph (Authorization and the allow-list, already filtered).
    pub forwarded_headers: http::HeaderMap,
    /// The request id, passed to subgraphs as `x-request-id`.
    pub request_id: String,
    /// False for GET requests: a mutation is then refused with `RequestErrorKind::MutationNotAllowed`.
    pub allow_mutations: bool,
}

/// One GraphQL error as sent to clients.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GraphQLError {
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub locations: Option<Vec<Location>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<Vec<Value>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extensions: Option<Map<String, Value>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Location {
    pub line: usize,
    pub column: usize,
}

/// Why a request was refused before execution: decides the HTTP status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestErrorKind {
    /// The document does not parse (400).
    Parse,
    /// The document does not validate against the API schema, or the operation name / variables are wrong (400).
    Validation,
    /// A mutation sent with GET (405).
    MutationNotAllowed,
}

/// The outcome of a request.
#[derive(Debug, Clone)]
pub enum Outcome {
    /// Execution happened (possibly with errors and partial data): `data` is present (maybe null).
    Executed,
    /// The request was refused before execution: no `data` key at all.
    Refused(RequestErrorKind),
}

#[derive(Debug, Clone)]
pub struct Response {
    pub outcome: Outcome,
    pub data: Option<Value>,
    pub errors: Vec<GraphQLError>,
}

/// A supergraph loaded and ready to serve.
pub struct Engine {
    _private: (),
}

#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct EngineError(pub String);

impl Engine {
    /// Loads a composed supergraph SDL (join v0.3/v0.4, link v1.0; fed 1 and fed 2 subgraphs).
    pub fn new(_supergraph_sdl: &str, _options: EngineOptions) -> Result<Engine, EngineError> {
        Err(EngineError("the engine is not written yet".to_owned()))
    }

    /// Plans (or takes the cached plan) and executes one request.
    pub async fn execute(&self, _request: GraphQLRequest, _context: RequestContext) -> Response {
        Response { outcome: Outcome::Refused(RequestErrorKind::Validation), data: None, errors: vec![] }
    }

    /// The API schema (without federation internals and `@inaccessible` elements), as SDL.
    pub fn api_schema_sdl(&self) -> &str {
        ""
    }

    /// Subgraph name → URL in use.
    pub fn subgraphs(&self) -> Vec<(String, String)> {
        Vec::new()
    }
}
