//! The HTTP face of the subgraph: `/graphql` (POST, and GET for queries), `/health` and `/ready`.

use std::sync::Arc;

use axum::Router;
use axum::http::HeaderMap;
use common::server::{
    REQUEST_ID_HEADER, ReadyCheck, bearer_token, health_routes, with_request_tracing,
};
use subgraph_kit::graphql_http::{graphql_routes, is_mutation};
use tokens::JwtKeys;

use crate::account::AccountChecker;
use crate::loaders::Loaders;
use crate::schema::TasksSchema;
use crate::session::Session;
use crate::store::TaskStore;

/// Its name in logs, `/health` and the store, from the one table of services.
pub const SERVICE: &str = common::server::ServiceName::Tasks.as_str();

#[derive(Clone)]
pub struct AppState {
    pub schema: TasksSchema,
    pub store: TaskStore,
    pub keys: JwtKeys,
    pub accounts: Option<Arc<AccountChecker>>,
    pub limits: common::document_scan::GraphqlLimits,
}

pub fn router(state: AppState) -> Router {
    let store = state.store.clone();
    let ready: ReadyCheck = Arc::new(move || {
        let store = store.clone();
        Box::pin(async move { store.pool().ping().await })
    });
    let schema = state.schema.clone();
    let limits = state.limits.clone();
    let graphql = graphql_routes(
        schema,
        move |headers, request| prepare(&state, headers, request),
        limits,
    );
    with_request_tracing(graphql.merge(health_routes(SERVICE, Some(ready))))
}

/// Everything one operation needs: the viewer, its session (account checks) and fresh loaders.
fn prepare(
    state: &AppState,
    headers: &HeaderMap,
    mut request: async_graphql::Request,
) -> async_graphql::Request {
    let writes = is_mutation(&mut request);
    let viewer = state.keys.viewer(headers);
    let token = bearer_token(headers).map(str::to_owned);
    let request_id = headers
        .get(REQUEST_ID_HEADER)
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned);
    let session =
        Session::new(viewer, token, request_id, state.accounts.clone()).for_writes(writes);
    request
        .data(viewer)
        .data(session)
        .data(Loaders::new(&state.store))
        .data(state.store.clone())
}
