//! The HTTP face of the service: `/graphql` (POST and GET), `/health`, `/ready`.

use std::sync::Arc;

use async_graphql::parser::types::{DocumentOperations, OperationType};
use async_graphql_axum::{GraphQLRequest, GraphQLResponse};
use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, Method};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use common::auth::JwtKeys;
use common::db::Pool;
use common::server::{ReadyCheck, health_routes, with_request_tracing};
use tower_http::limit::RequestBodyLimitLayer;

use crate::error::Error;
use crate::schema::UsersSchema;

pub const SERVICE_NAME: &str = "users";

/// async-graphql reads a request body whole, so bound it: real operations
/// (even a router's `_entities` batch) are a few kilobytes.
const MAX_REQUEST_BYTES: usize = 2 * 1024 * 1024;

#[derive(Clone)]
struct AppState {
    schema: UsersSchema,
    keys: JwtKeys,
}

/// All routes, with request ids and tracing.
pub fn router(schema: UsersSchema, keys: JwtKeys, pool: Pool) -> Router {
    let ready: ReadyCheck = Arc::new(move || {
        let pool = pool.clone();
        Box::pin(async move { pool.ping().await })
    });
    let graphql = Router::new()
        .route("/graphql", get(graphql).post(graphql))
        .layer(RequestBodyLimitLayer::new(MAX_REQUEST_BYTES))
        .with_state(AppState { schema, keys });
    with_request_tracing(graphql.merge(health_routes(SERVICE_NAME, Some(ready))))
}

/// Runs one GraphQL request as the viewer its bearer token names.
async fn graphql(
    State(state): State<AppState>,
    method: Method,
    headers: HeaderMap,
    request: Result<GraphQLRequest<Error>, Error>,
) -> Response {
    let request = match request {
        Ok(request) => request.into_inner(),
        Err(rejection) => return rejection.into_response(),
    };
    if method == Method::GET && selects_mutation(&request) {
        return Error::MutationOverGet.into_response();
    }
    let viewer = state.keys.viewer(&headers);
    GraphQLResponse::from(state.schema.execute(request.data(viewer)).await).into_response()
}

/// Whether the operation the request would run is a mutation. Unparsable
/// documents are left to the schema, which reports them properly.
fn selects_mutation(request: &async_graphql::Request) -> bool {
    let Ok(document) = async_graphql::parser::parse_query(&request.query) else {
        return false;
    };
    let is_mutation = |ty: OperationType| ty == OperationType::Mutation;
    match &document.operations {
        DocumentOperations::Single(operation) => is_mutation(operation.node.ty),
        DocumentOperations::Multiple(operations) => match &request.operation_name {
            Some(name) => operations.iter().any(|(candidate, operation)| {
                candidate.as_str() == name && is_mutation(operation.node.ty)
            }),
            None => operations
                .values()
                .any(|operation| is_mutation(operation.node.ty)),
        },
    }
}
