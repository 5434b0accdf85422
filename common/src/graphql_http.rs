//! The `/graphql` endpoint every subgraph serves, written once: POST, GET for
//! queries (a mutation over GET is a 405: a link must never change data), a
//! bounded body, GraphQL-shaped answers to requests that are not GraphQL, and
//! an `extensions.code` on every error.

use async_graphql::parser::types::OperationType;
use async_graphql::{Executor, ParseRequestError};
use async_graphql_axum::{GraphQLRequest, GraphQLResponse};
use axum::Json;
use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::json;
use tower_http::limit::RequestBodyLimitLayer;

/// Real operations, even a router's `_entities` batch, are a few kilobytes;
/// async-graphql buffers a body whole, so bound what one request can make us hold.
pub const MAX_REQUEST_BYTES: usize = 2 * 1024 * 1024;

/// Turns the transport-level request into the operation to run: typically adds
/// the viewer and per-request loaders from the headers.
pub trait PrepareRequest:
    Fn(&HeaderMap, async_graphql::Request) -> async_graphql::Request + Clone + Send + Sync + 'static
{
}
impl<F> PrepareRequest for F where
    F: Fn(&HeaderMap, async_graphql::Request) -> async_graphql::Request
        + Clone
        + Send
        + Sync
        + 'static
{
}

#[derive(Clone)]
struct Endpoint<E, P> {
    executor: E,
    prepare: P,
}

/// `/graphql` (GET and POST) running operations on `executor`.
pub fn graphql_routes<E, P>(executor: E, prepare: P) -> Router
where
    E: Executor + Clone,
    P: PrepareRequest,
{
    Router::new()
        .route("/graphql", get(graphql::<E, P>).post(graphql::<E, P>))
        .layer(RequestBodyLimitLayer::new(MAX_REQUEST_BYTES))
        .with_state(Endpoint { executor, prepare })
}

async fn graphql<E, P>(
    State(endpoint): State<Endpoint<E, P>>,
    method: Method,
    headers: HeaderMap,
    request: Result<GraphQLRequest<BadRequest>, BadRequest>,
) -> Response
where
    E: Executor + Clone,
    P: PrepareRequest,
{
    let request = match request {
        Ok(request) => request.into_inner(),
        Err(rejection) => return rejection.into_response(),
    };
    if request.query.trim().is_empty() {
        return BadRequest::MissingQuery.into_response();
    }
    if method == Method::GET && selects_mutation(&request) {
        return BadRequest::MutationOverGet.into_response();
    }
    let request = (endpoint.prepare)(&headers, request);
    let mut response = endpoint.executor.execute(request).await;
    label_uncoded_errors(&mut response);
    GraphQLResponse::from(response).into_response()
}

/// Whether the operation the request would run is a mutation. Documents that do
/// not parse are left to the executor, which reports them properly.
fn selects_mutation(request: &async_graphql::Request) -> bool {
    let Ok(document) = async_graphql::parser::parse_query(&request.query) else {
        return false;
    };
    let wanted = request.operation_name.as_deref();
    document
        .operations
        .iter()
        .filter(|(name, _)| wanted.is_none() || name.map(|name| name.as_str()) == wanted)
        .any(|(_, operation)| operation.node.ty == OperationType::Mutation)
}

/// async-graphql's own errors carry no `extensions.code`; ours always do. An
/// uncoded error without a path is a document the schema refuses, one with a
/// path an argument value that could not be coerced.
fn label_uncoded_errors(response: &mut async_graphql::Response) {
    for error in &mut response.errors {
        let extensions = error.extensions.get_or_insert_with(Default::default);
        if extensions.get("code").is_none() {
            let code = if error.path.is_empty() {
                "GRAPHQL_VALIDATION_FAILED"
            } else {
                "BAD_USER_INPUT"
            };
            extensions.set("code", code);
        }
    }
}

/// An HTTP request that never became a GraphQL operation.
#[derive(Debug)]
pub enum BadRequest {
    /// Broken JSON, a missing query, a bad query string, an oversized body, …
    Unreadable(ParseRequestError),
    /// No `query` at all (GraphiQL is served by the router, not by subgraphs).
    MissingQuery,
    /// A mutation sent with GET.
    MutationOverGet,
}

impl From<ParseRequestError> for BadRequest {
    fn from(err: ParseRequestError) -> Self {
        BadRequest::Unreadable(err)
    }
}

/// A GraphQL-shaped error body, so clients parse every answer the same way.
fn error_body(status: StatusCode, message: &str) -> Response {
    let body = json!({"errors": [{"message": message, "extensions": {"code": "BAD_REQUEST"}}]});
    (status, Json(body)).into_response()
}

impl IntoResponse for BadRequest {
    fn into_response(self) -> Response {
        match self {
            BadRequest::Unreadable(ParseRequestError::PayloadTooLarge) => {
                error_body(StatusCode::PAYLOAD_TOO_LARGE, "Request body too large")
            }
            BadRequest::Unreadable(err) => error_body(StatusCode::BAD_REQUEST, &err.to_string()),
            BadRequest::MissingQuery => {
                error_body(StatusCode::BAD_REQUEST, "The request has no GraphQL query")
            }
            BadRequest::MutationOverGet => {
                let mut response = error_body(
                    StatusCode::METHOD_NOT_ALLOWED,
                    "Mutations must be sent with POST",
                );
                response
                    .headers_mut()
                    .insert(header::ALLOW, HeaderValue::from_static("POST"));
                response
            }
        }
    }
}
