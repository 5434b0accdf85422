//! The HTTP surface: `/graphql` (POST and GET) with the viewer taken from the
//! bearer token, plus `/health` and `/ready`, all with request tracing.

use std::sync::Arc;

use async_graphql_axum::{GraphQLRequest, GraphQLResponse};
use axum::Router;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::routing::get;
use common::auth::JwtKeys;

use crate::schema::StatsSchema;

struct AppState {
    schema: StatsSchema,
    keys: JwtKeys,
}

pub fn router(schema: StatsSchema, keys: JwtKeys) -> Router {
    let state = Arc::new(AppState { schema, keys });
    let graphql = Router::new()
        .route("/graphql", get(graphql).post(graphql))
        .with_state(state);
    // Stats has no store: it is ready whenever it serves.
    common::server::with_request_tracing(
        graphql.merge(common::server::health_routes(crate::SERVICE, None)),
    )
}

async fn graphql(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    request: GraphQLRequest,
) -> GraphQLResponse {
    let viewer = state.keys.viewer(&headers);
    state
        .schema
        .execute(request.into_inner().data(viewer))
        .await
        .into()
}
