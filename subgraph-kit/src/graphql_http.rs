//! The `/graphql` endpoint every subgraph serves, written once: POST, GET for
//! queries (a mutation over GET is a 405: a link must never change data), a
//! bounded body, GraphQL-shaped answers to requests that are not GraphQL, an
//! `extensions.code` on every error, and variables declared but not sent taken
//! as no value at all (see `unsent_variables`). Hostile input is refused before
//! async-graphql's recursive parser and quadratic validation see it (see
//! [`common::document_scan`]); errors quoting the client's input are cut short
//! and their number bounded.

use async_graphql::parser::types::OperationType;
use async_graphql::{Executor, ParseRequestError};
use async_graphql_axum::{GraphQLRequest, GraphQLResponse};
use axum::Json;
use axum::Router;
use axum::body::Body;
use axum::extract::{FromRequest, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::json;
use tower_http::limit::RequestBodyLimitLayer;

use common::document_scan::{self, GraphqlLimits, Refusal};
use common::graphql_http::truncate_message;

use crate::operation::selected_operation;
use crate::unsent_variables;

pub use common::graphql_http::{
    MAX_REQUEST_BYTES, MUTATION_OVER_GET_CODE, MUTATION_OVER_GET_MESSAGE,
};

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
    limits: GraphqlLimits,
}

/// `/graphql` (GET and POST) running operations on `executor`, refusing
/// documents and JSON beyond `limits`.
pub fn graphql_routes<E, P>(executor: E, prepare: P, limits: GraphqlLimits) -> Router
where
    E: Executor + Clone,
    P: PrepareRequest,
{
    Router::new()
        .route(
            "/graphql",
            get(graphql::<E, P>)
                .post(graphql::<E, P>)
                .fallback(method_not_allowed),
        )
        .fallback(not_found)
        .layer(RequestBodyLimitLayer::new(MAX_REQUEST_BYTES))
        .with_state(Endpoint {
            executor,
            prepare,
            limits,
        })
}

async fn graphql<E, P>(
    State(endpoint): State<Endpoint<E, P>>,
    request: axum::extract::Request,
) -> Response
where
    E: Executor + Clone,
    P: PrepareRequest,
{
    let limits = &endpoint.limits;
    let (parts, body) = request.into_parts();
    // The body is read here, whole and bounded, so that its JSON nesting is
    // checked before serde and async-graphql build values from it.
    let bytes = match axum::body::to_bytes(body, MAX_REQUEST_BYTES).await {
        Ok(bytes) => bytes,
        Err(err) => return BadRequest::from_body_error(&err).into_response(),
    };
    if let Err(refusal) = scan_json_input(&parts, &bytes, limits.max_nesting) {
        return BadRequest::Refused(refusal).into_response();
    }
    let method = parts.method.clone();
    let headers = parts.headers.clone();
    let request = axum::extract::Request::from_parts(parts, Body::from(bytes));
    let mut request = match GraphQLRequest::<BadRequest>::from_request(request, &()).await {
        Ok(request) => request.into_inner(),
        Err(rejection) => return rejection.into_response(),
    };
    if request.query.trim().is_empty() {
        return BadRequest::MissingQuery.into_response();
    }
    if let Err(refusal) = document_scan::scan_document(&request.query, limits) {
        return BadRequest::Refused(refusal).into_response();
    }
    // Parsed once here (the executor reuses it), with the variables the request
    // declared but did not send made absent (`unsent_variables`); one that does
    // not parse is left to the executor, which reports it properly.
    if let Ok(mut document) = async_graphql::parser::parse_query(&request.query) {
        if let Err(refusal) = document_scan::count_fields(&document, limits.max_fields) {
            return BadRequest::Refused(refusal).into_response();
        }
        unsent_variables::leave_out_unsent(
            &mut document,
            request.operation_name.as_deref(),
            &request.variables,
        );
        request.set_parsed_query(document);
    }
    if method == Method::GET && is_mutation(&mut request) {
        return BadRequest::MutationOverGet.into_response();
    }
    let request = (endpoint.prepare)(&headers, request);
    let mut response = endpoint.executor.execute(request).await;
    label_uncoded_errors(&mut response);
    bound_errors(&mut response, limits);
    GraphQLResponse::from(response).into_response()
}

/// Any other path: a coded 404 like every other refusal.
async fn not_found() -> Response {
    coded_error_body(
        StatusCode::NOT_FOUND,
        "NOT_FOUND",
        "No such path: GraphQL is served at /graphql",
    )
}

/// Any method but GET and POST: a coded 405 like every other refusal.
async fn method_not_allowed() -> Response {
    let mut response = coded_error_body(
        StatusCode::METHOD_NOT_ALLOWED,
        "METHOD_NOT_ALLOWED",
        "/graphql accepts GET and POST",
    );
    response
        .headers_mut()
        .insert(header::ALLOW, HeaderValue::from_static("GET, POST"));
    response
}

/// The JSON a request carries: a POST body (multipart bodies are left to the
/// multipart parser), or a GET link's `variables` and `extensions`.
fn scan_json_input(
    parts: &axum::http::request::Parts,
    body: &[u8],
    max_nesting: usize,
) -> Result<(), Refusal> {
    if parts.method == Method::GET {
        let query = parts.uri.query().unwrap_or_default();
        let pairs: Vec<(String, String)> = serde_urlencoded::from_str(query).unwrap_or_default();
        for (name, value) in pairs {
            if name == "variables" || name == "extensions" {
                document_scan::scan_json(value.as_bytes(), max_nesting)?;
            }
        }
        return Ok(());
    }
    let multipart = parts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| {
            value
                .trim_start()
                .to_ascii_lowercase()
                .starts_with("multipart/")
        });
    if multipart {
        return Ok(());
    }
    document_scan::scan_json(body, max_nesting).map_err(Refusal::Limit)
}

/// Whether the operation the request runs (chosen as `operation` says) is a
/// mutation. The document is parsed once and kept in the request, so execution
/// does not parse it again; one that does not parse is left for execution to
/// refuse.
pub fn is_mutation(request: &mut async_graphql::Request) -> bool {
    let operation_name = request.operation_name.clone();
    let Ok(document) = request.parsed_query() else {
        return false;
    };
    selected_operation(&document.operations, operation_name.as_deref())
        .is_some_and(|operation| operation.node.ty == OperationType::Mutation)
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

/// Cuts messages that may quote the client's input (a 1 MB argument must not
/// come back as a 1 MB error) and keeps at most `max_errors` errors, the last
/// one saying how many were left out.
fn bound_errors(response: &mut async_graphql::Response, limits: &GraphqlLimits) {
    for error in &mut response.errors {
        truncate_message(&mut error.message, limits.max_error_message_bytes);
    }
    let max_errors = limits.max_errors.max(1);
    if response.errors.len() > max_errors {
        let left_out = response.errors.len() - (max_errors - 1);
        response.errors.truncate(max_errors - 1);
        let mut summary =
            async_graphql::ServerError::new(format!("{left_out} more errors were left out"), None);
        let mut extensions = async_graphql::ErrorExtensionValues::default();
        extensions.set("code", "TOO_MANY_ERRORS");
        summary.extensions = Some(extensions);
        response.errors.push(summary);
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
    /// The body could not be read: cut short, badly chunked, too slow.
    UnreadableBody,
    /// The body is over [`MAX_REQUEST_BYTES`].
    TooLarge,
    /// Over a limit of [`GraphqlLimits`].
    Refused(Refusal),
}

impl BadRequest {
    fn from_body_error(err: &axum::Error) -> Self {
        let mut source: Option<&(dyn std::error::Error + 'static)> = Some(err);
        while let Some(error) = source {
            if error.is::<http_body_util::LengthLimitError>() {
                return BadRequest::TooLarge;
            }
            source = error.source();
        }
        BadRequest::UnreadableBody
    }
}

impl From<ParseRequestError> for BadRequest {
    fn from(err: ParseRequestError) -> Self {
        BadRequest::Unreadable(err)
    }
}

/// A GraphQL-shaped error body, so clients parse every answer the same way.
fn error_body(status: StatusCode, message: &str) -> Response {
    coded_error_body(status, "BAD_REQUEST", message)
}

fn coded_error_body(status: StatusCode, code: &str, message: &str) -> Response {
    let body = json!({"errors": [{"message": message, "extensions": {"code": code}}]});
    (status, Json(body)).into_response()
}

impl IntoResponse for BadRequest {
    fn into_response(self) -> Response {
        match self {
            BadRequest::Unreadable(ParseRequestError::PayloadTooLarge) => {
                error_body(StatusCode::PAYLOAD_TOO_LARGE, "Request body too large")
            }
            BadRequest::Unreadable(err) => {
                let mut message = err.to_string();
                truncate_message(
                    &mut message,
                    document_scan::GraphqlLimits::DEFAULT.max_error_message_bytes,
                );
                error_body(StatusCode::BAD_REQUEST, &message)
            }
            BadRequest::UnreadableBody => error_body(
                StatusCode::BAD_REQUEST,
                "The request body could not be read",
            ),
            BadRequest::TooLarge => {
                error_body(StatusCode::PAYLOAD_TOO_LARGE, "Request body too large")
            }
            BadRequest::Refused(refusal) => coded_error_body(
                StatusCode::BAD_REQUEST,
                refusal.code(),
                &refusal.to_string(),
            ),
            BadRequest::MissingQuery => {
                error_body(StatusCode::BAD_REQUEST, "The request has no GraphQL query")
            }
            BadRequest::MutationOverGet => {
                let mut response = coded_error_body(
                    StatusCode::METHOD_NOT_ALLOWED,
                    MUTATION_OVER_GET_CODE,
                    MUTATION_OVER_GET_MESSAGE,
                );
                response
                    .headers_mut()
                    .insert(header::ALLOW, HeaderValue::from_static("POST"));
                response
            }
        }
    }
}
