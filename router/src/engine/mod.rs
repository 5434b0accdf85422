//! The engine: everything below HTTP. It owns the supergraph, the API schema,
//! the planner with its plan cache and the executor, and turns one GraphQL
//! request into one GraphQL response. The HTTP layer only parses transport
//! details, enforces request limits and serialises what comes back.
//!
//! Modules: `planning` (parse, validate, plan, caches), `operation` (the client's
//! selection tree), `variables`, `executor` (runs plans), `entities` (representations, merging), `transport` (subgraph
//! calls, deduplication), `shaping` (projection, null propagation),
//! `introspection` and `schema` (the indexed API schema).

mod data;
mod entities;
mod executor;
mod failure;
mod in_process;
mod introspection;
mod operation;
mod planning;
mod resilience;
mod schema;
mod shaping;
mod transport;
mod variables;

pub use data::{Data, Object, OverCap};
pub use failure::FetchFailure;
pub use in_process::InProcessSubgraphs;
pub use resilience::{ResilienceOptions, ResilienceSettings};
pub use transport::{
    HttpTransport, SubgraphRequest, SubgraphResponse, SubgraphTransport, TransportError,
};

use std::collections::HashMap;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::time::Duration;

use hive_router_query_planner::planner::{Planner, QueryPlannerOptions};
use hive_router_query_planner::state::supergraph_state::SupergraphDefinition;
use parking_lot::Mutex;

use executor::{ExecutionState, Executor, Subgraph};
use introspection::Introspection;
use operation::OperationKind;
use planning::{PrepareError, PreparedOperation, Preparer, planning_failed};
use schema::ApiSchema;
use transport::Deduplicator;

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
    /// Where each subgraph fetch's latency and failures are recorded.
    pub metrics: crate::metrics::Metrics,
    /// Circuit breaking and retries of HTTP subgraph fetches (see `resilience`).
    pub resilience: ResilienceOptions,
    /// Subgraphs answered by their app in this process instead of over HTTP (see `in_process`).
    pub in_process: InProcessSubgraphs,
}

impl Default for EngineOptions {
    fn default() -> Self {
        Self {
            subgraph_timeout: Duration::from_secs(30),
            deduplicate_fetches: true,
            plan_cache_size: 1024,
            subgraph_url_overrides: HashMap::new(),
            metrics: crate::metrics::Metrics::default(),
            resilience: ResilienceOptions::default(),
            in_process: InProcessSubgraphs::default(),
        }
    }
}

/// Where [`Engine::subgraphs`] says an in-process subgraph is.
pub const IN_PROCESS: &str = "in-process";

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
    pub data: Option<Data>,
    pub errors: Vec<GraphQLError>,
}

/// A supergraph loaded and ready to serve.
pub struct Engine {
    schema: Arc<ApiSchema>,
    preparer: Arc<Preparer>,
    introspection: Introspection,
    subgraphs: HashMap<String, Subgraph>,
    transport: Arc<dyn SubgraphTransport>,
    deduplicator: Deduplicator<executor::SharedAnswer>,
    options: EngineOptions,
}

/// Why a supergraph cannot be served.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// The subgraph HTTP client could not be built.
    #[error(transparent)]
    HttpClient(TransportError),
    #[error("the supergraph does not parse: {0}")]
    Syntax(String),
    #[error("the supergraph is not a valid federation supergraph")]
    NotASupergraph,
    #[error("the supergraph cannot be planned over: {0}")]
    Unplannable(String),
    #[error("the subgraph \"{0}\" has no URL")]
    NoUrl(String),
    #[error("a URL override names \"{0}\", which is not a subgraph of the supergraph")]
    UnknownOverride(String),
    #[error("\"{0}\" is given in process but is not a subgraph of the supergraph")]
    UnknownInProcess(String),
}

impl Engine {
    /// Loads a composed supergraph SDL (join v0.3/v0.4, link v1.0; fed 1 and fed 2 subgraphs).
    pub fn new(supergraph_sdl: &str, options: EngineOptions) -> Result<Engine, EngineError> {
        let mut transport: Arc<dyn SubgraphTransport> =
            Arc::new(HttpTransport::new().map_err(EngineError::HttpClient)?);
        if !options.in_process.is_empty() {
            transport = Arc::new(in_process::InProcessTransport::new(
                options.in_process.clone(),
                transport,
            ));
        }
        let transport = resilience::ResilientTransport::new(
            transport,
            options.resilience.clone(),
            options.subgraph_timeout,
        );
        Engine::with_transport(supergraph_sdl, options, Arc::new(transport))
    }

    /// Like `new`, with subgraph calls going through `transport` instead of HTTP.
    pub fn with_transport(
        supergraph_sdl: &str,
        options: EngineOptions,
        transport: Arc<dyn SubgraphTransport>,
    ) -> Result<Engine, EngineError> {
        let document = graphql_tools::parser::parse_schema::<String>(supergraph_sdl)
            .map_err(|error| EngineError::Syntax(error.to_string()))?
            .into_static();
        // The planner panics on some malformed supergraphs instead of returning errors.
        let planner = catch_unwind(AssertUnwindSafe(|| {
            Planner::new_from_supergraph(&document, QueryPlannerOptions::default())
        }))
        .map_err(|_| EngineError::NotASupergraph)?
        .map_err(|error| EngineError::Unplannable(error.to_string()))?;
        let supergraph = &planner.supergraph;
        let mut schema = ApiSchema::new(
            (*planner.consumer_schema.document).clone(),
            supergraph.query_type.clone(),
            supergraph.mutation_type.clone(),
            supergraph.subscription_type.clone(),
        );
        for (name, definition) in &supergraph.definitions {
            let join_types = match definition {
                SupergraphDefinition::Object(object) => &object.join_type,
                SupergraphDefinition::Interface(interface) => &interface.join_type,
                _ => continue,
            };
            schema.add_keys(
                name,
                join_types
                    .iter()
                    .filter_map(|join_type| join_type.key.as_deref()),
            );
        }
        let mut subgraphs = HashMap::new();
        for name in supergraph.known_subgraphs.values() {
            let url = options
                .subgraph_url_overrides
                .get(name)
                .or_else(|| supergraph.subgraph_endpoint_map.get(name))
                .ok_or_else(|| EngineError::NoUrl(name.clone()))?;
            subgraphs.insert(
                name.clone(),
                Subgraph {
                    name: name.as_str().into(),
                    url: url.as_str().into(),
                },
            );
        }
        if let Some(unknown) = options
            .subgraph_url_overrides
            .keys()
            .find(|name| !subgraphs.contains_key(*name))
        {
            return Err(EngineError::UnknownOverride(unknown.clone()));
        }
        if let Some(unknown) = options
            .in_process
            .names()
            .find(|name| !subgraphs.contains_key(*name))
        {
            return Err(EngineError::UnknownInProcess(unknown.to_owned()));
        }
        let introspection = Introspection::new(&schema);
        let preparer = Preparer::new(planner, options.plan_cache_size);
        Ok(Engine {
            schema: Arc::new(schema),
            preparer: Arc::new(preparer),
            introspection,
            subgraphs,
            transport,
            deduplicator: Deduplicator::new(),
            options,
        })
    }

    /// Plans (or takes the cached plan) and executes one request.
    pub async fn execute(&self, request: GraphQLRequest, context: RequestContext) -> Response {
        let prepared = match self.prepare(&request).await {
            Ok(prepared) => prepared,
            Err(PrepareError::Refused(kind, errors)) => return Response::refused(kind, errors),
            Err(PrepareError::PlanningFailed(error)) => {
                return Response {
                    outcome: Outcome::Executed,
                    data: Some(Data::Null),
                    errors: vec![*error],
                };
            }
        };
        let operation = &prepared.operation;
        // Mutations over GET are refused at the edge (`graphql_http`), before any of this.
        if operation.kind == OperationKind::Subscription {
            return Response::refused(
                RequestErrorKind::Validation,
                vec![
                    GraphQLError::new("Subscriptions are not supported by this router.")
                        .with_code("GRAPHQL_VALIDATION_FAILED"),
                ],
            );
        }
        let variables = match variables::coerce_variables(
            &self.schema,
            &operation.variables,
            request.variables,
        ) {
            Ok(variables) => variables,
            Err(errors) => return Response::refused(RequestErrorKind::Validation, errors),
        };
        let mut headers = context.forwarded_headers;
        if let Ok(request_id) = http::HeaderValue::from_str(&context.request_id)
            && !context.request_id.is_empty()
        {
            headers.insert(
                http::header::HeaderName::from_static("x-request-id"),
                request_id,
            );
        }
        let executor = Executor {
            subgraphs: &self.subgraphs,
            transport: &self.transport,
            deduplicator: self
                .options
                .deduplicate_fetches
                .then_some(&self.deduplicator),
            timeout: self.options.subgraph_timeout,
            metrics: &self.options.metrics,
            schema: &self.schema,
            variables: &variables,
            headers: &headers,
            state: Mutex::new(ExecutionState {
                data: Data::Object(Object::new()),
                errors: Vec::new(),
                failures: Vec::new(),
            }),
        };
        let node = prepared.plan.as_ref().and_then(|plan| plan.node.as_ref());
        if let Some(node) = node {
            executor.run(node).await;
        }
        let ExecutionState {
            data, mut errors, ..
        } = executor.into_state();
        if let Some(node) = node {
            executor::unalias_error_paths(node, &mut errors);
        }
        let mut data = match data {
            Data::Object(data) => data,
            _ => Object::new(),
        };
        self.introspection
            .resolve_root_fields(operation, &variables, &mut data);
        let data = shaping::shape(&self.schema, &variables, operation, data, &mut errors);
        Response {
            outcome: Outcome::Executed,
            data: Some(data),
            errors,
        }
    }

    /// The cached prepared operation, or one prepared on the blocking pool: parsing,
    /// validation and planning are CPU-bound and must not hold an async worker.
    /// Traced as the span `plan` (tracing on).
    async fn prepare(
        &self,
        request: &GraphQLRequest,
    ) -> Result<Arc<PreparedOperation>, PrepareError> {
        let _span = common::trace_context::DirectSpan::internal("plan");
        let operation_name = request.operation_name.as_deref();
        if let Some(prepared) = self.preparer.cached(&request.query, operation_name) {
            return Ok(prepared);
        }
        let (preparer, schema) = (self.preparer.clone(), self.schema.clone());
        let (query, operation_name) = (request.query.clone(), request.operation_name.clone());
        tokio::task::spawn_blocking(move || {
            preparer.prepare(&schema, &query, operation_name.as_deref())
        })
        .await
        .unwrap_or_else(|_| Err(planning_failed("the planner stopped unexpectedly")))
    }

    /// The query plan of an operation, pretty-printed (for debugging and explain tooling).
    pub fn query_plan(
        &self,
        query: &str,
        operation_name: Option<&str>,
    ) -> Result<String, Vec<GraphQLError>> {
        match self.preparer.prepare(&self.schema, query, operation_name) {
            Ok(prepared) => Ok(prepared
                .plan
                .as_ref()
                .map_or_else(|| "QueryPlan {}".to_owned(), ToString::to_string)),
            Err(PrepareError::Refused(_, errors)) => Err(errors),
            Err(PrepareError::PlanningFailed(error)) => Err(vec![*error]),
        }
    }

    /// The API schema (without federation internals and `@inaccessible` elements), as SDL.
    pub fn api_schema_sdl(&self) -> &str {
        &self.schema.sdl
    }

    /// Subgraph name → URL in use ([`IN_PROCESS`] for those answered in this process).
    pub fn subgraphs(&self) -> Vec<(String, String)> {
        let mut subgraphs: Vec<(String, String)> = self
            .subgraphs
            .values()
            .map(|subgraph| {
                let url = if self.options.in_process.contains(&subgraph.name) {
                    IN_PROCESS
                } else {
                    &subgraph.url
                };
                (subgraph.name.to_string(), url.to_owned())
            })
            .collect();
        subgraphs.sort();
        subgraphs
    }
}

impl Response {
    /// `data` as a `serde_json::Value` (for tests and code off the hot path).
    pub fn data_json(&self) -> Option<Value> {
        self.data.clone().map(Data::into_json)
    }

    fn refused(kind: RequestErrorKind, errors: Vec<GraphQLError>) -> Response {
        Response {
            outcome: Outcome::Refused(kind),
            data: None,
            errors,
        }
    }
}
