//! The HTTP face of the service: `/graphql` (POST and GET), `/health`, `/ready`.

use std::sync::Arc;

use axum::Router;
use common::document_scan::GraphqlLimits;
use common::server::{ReadyCheck, health_routes, with_request_tracing};
use db::Pool;
use subgraph_kit::graphql_http::graphql_routes;
use tokens::JwtKeys;

use crate::schema::UsersSchema;

/// Its name in logs, `/health` and the store, from the one table of services.
pub const SERVICE_NAME: &str = common::server::ServiceName::Users.as_str();

/// All routes, with request ids and tracing; each operation runs as the viewer its bearer token names.
pub fn router(schema: UsersSchema, keys: JwtKeys, pool: Pool, limits: GraphqlLimits) -> Router {
    let ready: ReadyCheck = Arc::new(move || {
        let pool = pool.clone();
        Box::pin(async move { pool.ping().await })
    });
    let graphql = graphql_routes(
        schema,
        move |headers, request| request.data(keys.viewer(headers)),
        limits,
    );
    with_request_tracing(graphql.merge(health_routes(SERVICE_NAME, Some(ready))))
}
