//! The HTTP face of the subgraph: `/graphql` (POST, and GET for queries or the
//! GraphiQL page), `/health` and `/ready`.

use std::sync::Arc;

use async_graphql::http::GraphiQLSource;
use async_graphql_axum::rejection::GraphQLRejection;
use async_graphql_axum::{GraphQLRequest, GraphQLResponse};
use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use common::auth::{JwtKeys, bearer_token};
use common::server::{REQUEST_ID_HEADER, ReadyCheck, health_routes, with_request_tracing};
use tower_http::limit::RequestBodyLimitLayer;

use crate::account::AccountChecker;
use crate::loaders::Loaders;
use crate::schema::TasksSchema;
use crate::session::Session;
use crate::store::TaskStore;

pub const SERVICE: &str = "tasks";

/// The largest request body accepted. Generous for any real operation (a hundred
/// entity representations take a few kilobytes) while bounding what one request can make us buffer.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

#[derive(Clone)]
pub struct AppState {
    pub schema: TasksSchema,
    pub store: TaskStore,
    pub keys: JwtKeys,
    pub accounts: Option<Arc<AccountChecker>>,
}

pub fn router(state: AppState) -> Router {
    let store = state.store.clone();
    let ready: ReadyCheck = Arc::new(move || {
        let store = store.clone();
        Box::pin(async move { store.pool().ping().await })
    });
    let graphql = Router::new()
        .route("/graphql", get(graphql_get).post(graphql_post))
        .layer(RequestBodyLimitLayer::new(MAX_BODY_BYTES))
        .with_state(state);
    with_request_tracing(graphql.merge(health_routes(SERVICE, Some(ready))))
}

async fn graphql_post(
    State(state): State<AppState>,
    headers: HeaderMap,
    request: GraphQLRequest,
) -> GraphQLResponse {
    execute(&state, &headers, request.into_inner()).await
}

/// GET runs queries given in the query string (never mutations: a link must not
/// change data) and otherwise serves GraphiQL.
async fn graphql_get(
    State(state): State<AppState>,
    headers: HeaderMap,
    uri: Uri,
    request: Result<GraphQLRequest, GraphQLRejection>,
) -> Response {
    if uri.query().is_none_or(str::is_empty) {
        return Html(GraphiQLSource::build().endpoint("/graphql").finish()).into_response();
    }
    let request = match request {
        Ok(request) => request.into_inner(),
        Err(rejection) => return rejection.into_response(),
    };
    if is_mutation(&request) {
        let body = async_graphql::Response::from_errors(vec![async_graphql::ServerError::new(
            "Mutations are only accepted over POST",
            None,
        )]);
        return (StatusCode::METHOD_NOT_ALLOWED, GraphQLResponse::from(body)).into_response();
    }
    execute(&state, &headers, request).await.into_response()
}

fn is_mutation(request: &async_graphql::Request) -> bool {
    use async_graphql::parser::types::OperationType;
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

async fn execute(
    state: &AppState,
    headers: &HeaderMap,
    request: async_graphql::Request,
) -> GraphQLResponse {
    let viewer = state.keys.viewer(headers);
    let token = bearer_token(headers).map(str::to_owned);
    let request_id = headers
        .get(REQUEST_ID_HEADER)
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned);
    let session = Session::new(viewer, token, request_id, state.accounts.clone());
    let request = request
        .data(viewer)
        .data(session)
        .data(Loaders::new(&state.store))
        .data(state.store.clone());
    let mut response = state.schema.execute(request).await;
    label_uncoded_errors(&mut response);
    response.into()
}

/// async-graphql's own errors carry no `extensions.code`. Ours always do, so an
/// error without one is either a document the schema refuses (no path) or an
/// argument value that cannot be coerced (with the path of its field).
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
