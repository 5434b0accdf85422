//! The router's routes: GraphQL at `/graphql` and `/`, GraphiQL for browsers,
//! `/health`, `/ready`, `/metrics`; request ids, tracing and request metrics on all of them.

use std::sync::Arc;
use std::time::Instant;

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, Uri, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use crate::config::RequestLimits;
use crate::limits::CheckedDocuments;
use crate::metrics::{self, Metrics};
use crate::negotiation::wants_html;
use crate::reload::SharedEngine;
use crate::{graphiql, graphql_http};

/// What every request handler shares.
#[derive(Clone)]
pub struct AppState {
    pub engine: SharedEngine,
    pub limits: RequestLimits,
    /// Documents already checked against `limits`.
    pub checked_documents: Arc<CheckedDocuments>,
    /// Headers passed on to subgraphs besides `Authorization`.
    pub forward_headers: Arc<[HeaderName]>,
    /// Set when tokens are checked at the edge (`--require-valid-token`).
    pub edge_auth: Option<Arc<dyn crate::auth::TokenVerifier>>,
    pub metrics: Metrics,
    /// Caps on responses (size, errors, message length).
    pub responses: crate::config::ResponseLimits,
    /// Cost estimates and their limit.
    pub demand_control: Arc<crate::demand_control::DemandControl>,
    /// Deadline of one whole request.
    pub request_timeout: std::time::Duration,
    /// Refuses requests a browser could send cross-site without a preflight.
    pub csrf: crate::csrf::Csrf,
    /// Automatic persisted queries and trusted documents.
    pub persisted: Arc<crate::apq::PersistedQueries>,
    pub batching: crate::batching::BatchingArgs,
    /// GraphiQL's settings; `dev` also allows query plans in responses.
    pub graphiql: Arc<graphiql::Settings>,
    /// Identical queries in flight (`--inbound-dedup on`).
    pub(crate) inbound_dedup: Option<Arc<graphql_http::SharedOperations>>,
}

impl AppState {
    /// `Authorization` and the allow-listed headers of the client's request.
    pub fn forwarded_headers(&self, headers: &HeaderMap) -> HeaderMap {
        let mut forwarded = HeaderMap::new();
        for name in std::iter::once(&header::AUTHORIZATION).chain(self.forward_headers.iter()) {
            for value in headers.get_all(name) {
                forwarded.append(name.clone(), value.clone());
            }
        }
        forwarded
    }
}

pub fn router(state: AppState) -> Router {
    let metrics = state.metrics.clone();
    let engine = state.engine.clone();
    let app = Router::new()
        .route("/", get(root_get).post(graphql_post))
        .route("/graphql", get(graphql_get).post(graphql_post))
        .route("/graphiql/{asset}", get(graphiql::asset))
        .route(
            "/graphiql/settings.json",
            get(graphiql::settings).with_state(state.graphiql.clone()),
        )
        .route("/metrics", get(metrics_text))
        .with_state(state)
        .merge(crate::readiness::routes(engine))
        .layer(middleware::from_fn_with_state(metrics, record_request));
    common::server::with_request_tracing(app)
}

async fn graphql_post(
    State(state): State<AppState>,
    uri: Uri,
    headers: HeaderMap,
    body: Body,
) -> Response {
    graphql_http::serve(&state, Method::POST, uri, headers, body).await
}

/// `/graphql` answers GET requests with GraphQL, except a browser asking for a page without a query.
async fn graphql_get(State(state): State<AppState>, uri: Uri, headers: HeaderMap) -> Response {
    let accept = headers
        .get(header::ACCEPT)
        .and_then(|value| value.to_str().ok());
    if !has_query_parameter(&uri) && wants_html(accept) {
        return graphiql::page();
    }
    graphql_http::serve(&state, Method::GET, uri, headers, Body::empty()).await
}

/// `/` is GraphiQL for browsers (a `query` parameter then opens in its editor);
/// other clients may send GraphQL GET requests there.
async fn root_get(State(state): State<AppState>, uri: Uri, headers: HeaderMap) -> Response {
    let accept = headers
        .get(header::ACCEPT)
        .and_then(|value| value.to_str().ok());
    if wants_html(accept) || !has_query_parameter(&uri) {
        return graphiql::page();
    }
    graphql_http::serve(&state, Method::GET, uri, headers, Body::empty()).await
}

fn has_query_parameter(uri: &Uri) -> bool {
    uri.query().is_some_and(|query| {
        query
            .split('&')
            .any(|pair| pair == "query" || pair.starts_with("query="))
    })
}

async fn metrics_text(State(state): State<AppState>) -> Response {
    let mut response = state.metrics.encode().into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(metrics::CONTENT_TYPE),
    );
    response
}

async fn record_request(State(metrics): State<Metrics>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let response = next.run(request).await;
    metrics.record_http_request(response.status().as_u16(), started.elapsed());
    response
}
