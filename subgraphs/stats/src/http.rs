//! The HTTP surface: `/graphql` (POST and GET) with the viewer taken from the
//! bearer token, plus `/health` and `/ready`, all with request tracing.

use axum::Router;
use common::document_scan::GraphqlLimits;
use subgraph_kit::graphql_http::graphql_routes;
use tokens::JwtKeys;

use crate::schema::StatsSchema;

pub fn router(schema: StatsSchema, keys: JwtKeys, limits: GraphqlLimits) -> Router {
    let graphql = graphql_routes(
        schema,
        move |headers, request| request.data(keys.viewer(headers)),
        limits,
    );
    // Stats has no store: it is ready whenever it serves.
    common::server::with_request_tracing(
        graphql.merge(common::server::health_routes(crate::SERVICE, None)),
    )
}
